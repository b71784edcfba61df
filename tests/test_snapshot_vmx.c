/* Verifies whole-VM snapshots of machines with VMX hardware under the kvm algorithm: the VMX
 * processors, the VMCS store, the host pages (virtual-APIC pages, bitmaps) and the kvm algorithm's
 * state (LAPICs, I/O APIC, userspace I/O APIC, APICv, nested VMX) are rewound. Each test runs a
 * scenario part way, snapshots, runs to the end capturing the trace lines after the snapshot,
 * restores, runs to the end again and compares the two continuations byte for byte and their
 * summaries; the continuations must contain the events the test is about (so a snapshot taken
 * too late fails). Scenarios are inline: scripted guests, and code guests from
 * scenarios/guest/ (built by make build). */
#include <criterion/criterion.h>

#include "trace_buf.h"

#include <hvsim/hv.h>
#include <hvsim/vm.h>

#include "../sim/vm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_MAX  8192
#define STEPS_MAX  100000
#define LINE_MAX_T 32

#define HEAD                                                                         \
	"{\"hvsim\": 1, \"name\": \"snapvmx\", \"description\": \"snapshot test\", " \
	"\"provenance\": {\"note\": \"test\"}, "
#define KVM "\"hypervisor\": {\"algorithm\": \"kvm\"}, "

/* Scripted kvm guest: xAPIC enabled, I/O APIC pin 10 level-triggered to vector 0x60, a periodic
 * LAPIC timer on vector 0x40; the main loop computes, reads the TSC and halts; the handlers EOI
 * (0x60 also reads the I/O APIC window). A level line pulses twice, APICv activates at 60 us. */
#define SCRIPTED(irqchip)                                                                          \
	HEAD                                                                                       \
	    "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 1, \"apicv\": "      \
	    "false, "                                                                              \
	    "\"irqchip\": \"" irqchip "\", \"quantum_insns\": 200}, " KVM                          \
	    "\"guest\": {\"script\": {\"main\": ["                                                 \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfee000f0\", \"size\": 4, \"value\": "           \
	    "\"0x1ff\"}, "                                                                         \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfec00000\", \"size\": 4, \"value\": "           \
	    "\"0x24\"}, "                                                                          \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfec00010\", \"size\": 4, \"value\": "           \
	    "\"0x8060\"}, "                                                                        \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfee003e0\", \"size\": 4, \"value\": \"0xb\"}, " \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfee00320\", \"size\": 4, \"value\": "           \
	    "\"0x20040\"}, "                                                                       \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfee00380\", \"size\": 4, \"value\": "           \
	    "\"0x4000\"}, "                                                                        \
	    "{\"op\": \"repeat\", \"count\": 12, \"body\": [{\"op\": \"compute\", \"insns\": "     \
	    "300}, "                                                                               \
	    "{\"op\": \"rdtsc\"}, {\"op\": \"hlt\"}]}], "                                          \
	    "\"handlers\": {\"0x40\": [{\"op\": \"compute\", \"insns\": 20}, {\"op\": "            \
	    "\"mmio_write\", \"gpa\": \"0xfee000b0\", \"size\": 4, \"value\": \"0x0\"}], "         \
	    "\"0x60\": [{\"op\": \"mmio_read\", \"gpa\": \"0xfec00010\", \"size\": 4}, "           \
	    "{\"op\": \"mmio_write\", \"gpa\": \"0xfee000b0\", \"size\": 4, \"value\": "           \
	    "\"0x0\"}]}}}, "                                                                       \
	    "\"events\": [{\"at_ns\": 40000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "         \
	    "{\"at_ns\": 41000, \"irq_line\": {\"gsi\": 10, \"level\": 0}}, "                      \
	    "{\"at_ns\": 60000, \"host\": {\"action\": \"apicv_activate\"}}, "                     \
	    "{\"at_ns\": 90000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "                      \
	    "{\"at_ns\": 91000, \"irq_line\": {\"gsi\": 10, \"level\": 0}}], "                     \
	    "\"limits\": {\"virtual_ns\": 2000000, \"instructions\": 1000000, \"exits\": 10000}, " \
	    "\"runs\": [{\"name\": \"r\", \"seed\": 3, \"golden\": \"g.jsonl\"}]}"

struct fixture {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
	struct trace_buf trace;
	uint8_t image[IMAGE_MAX];
};

/* image: a file under scenarios/guest/, NULL for a scripted guest. */
static void open_vm(struct fixture *f, const char *json, const char *image, size_t run)
{
	struct hvsim_error err = {0};
	struct hvsim_vm_opts o = {.trace = {.write = trace_buf_write, .ctx = &f->trace}};

	if (image) {
		FILE *img = fopen(image, "rb");

		cr_assert_not_null(img, "%s is missing (make build)", image);
		o.image_len = fread(f->image, 1, sizeof(f->image), img);
		o.image = f->image;
		fclose(img);
	}
	cr_assert_eq(hvsim_scenario_parse("snap.json", json, strlen(json), NULL, &f->sc, &err),
	             HVSIM_OK, "%s", err.msg);
	f->vm = hvsim_vm_create(f->sc, run, &o, &err);
	cr_assert_not_null(f->vm, "%s", err.msg);
}

static void close_vm(struct fixture *f)
{
	hvsim_vm_destroy(f->vm);
	hvsim_scenario_free(f->sc);
	free(f->trace.p);
}

static void run_out(hvsim_vm *vm)
{
	for (int i = 0; i < STEPS_MAX && hvsim_vm_step(vm, 64) == HVSIM_VM_RUNNING; i++)
		;
}

/* Steps slice by slice until virtual time reaches at_ns; the VM must still be running. */
static void run_until(hvsim_vm *vm, uint64_t at_ns)
{
	for (int i = 0; i < STEPS_MAX && hvsim_vm_now(vm) < at_ns; i++)
		cr_assert_eq(hvsim_vm_step(vm, 1), HVSIM_VM_RUNNING, "ended before %llu ns",
		             (unsigned long long)at_ns);
}

static hvsim_snapshot *take(struct fixture *f)
{
	struct hvsim_error err = {0};
	hvsim_snapshot *s = hvsim_vm_snapshot(f->vm, &err);

	cr_assert_not_null(s, "snapshot failed: %s", err.msg);
	return s;
}

/* Runs to the end, keeps the summary, rewinds to s (which flushes the trace) and returns the
 * trace lines of that continuation. */
static char *run_and_rewind(struct fixture *f, const hvsim_snapshot *s, struct hvsim_summary *sum)
{
	size_t mark = f->trace.len;

	run_out(f->vm);
	*sum = *hvsim_vm_summary(f->vm);
	cr_assert_eq(hvsim_vm_restore(f->vm, s), HVSIM_OK, "restore failed");
	return strdup(f->trace.len > mark ? f->trace.p + mark : "");
}

static void expect_same_summary(const char *what, const struct hvsim_summary *a,
                                const struct hvsim_summary *b)
{
	cr_expect(a->virtual_ns == b->virtual_ns && a->instructions == b->instructions &&
	              a->exits == b->exits && a->injections == b->injections &&
	              a->eois == b->eois && a->timer_fires == b->timer_fires &&
	              a->trace_lines == b->trace_lines && a->n_findings == b->n_findings &&
	              memcmp(a->exits_by_reason, b->exits_by_reason, sizeof(a->exits_by_reason)) ==
	                  0 &&
	              strcmp(a->end_reason, b->end_reason) == 0,
	          "%s: summaries differ: first %llu ns, %llu insns, %llu exits, %llu injections, "
	          "%llu EOIs, %llu timers, %llu lines, %zu findings, \"%s\"; second %llu ns, %llu "
	          "insns, %llu exits, %llu injections, %llu EOIs, %llu timers, %llu lines, %zu "
	          "findings, \"%s\"",
	          what, (unsigned long long)a->virtual_ns, (unsigned long long)a->instructions,
	          (unsigned long long)a->exits, (unsigned long long)a->injections,
	          (unsigned long long)a->eois, (unsigned long long)a->timer_fires,
	          (unsigned long long)a->trace_lines, a->n_findings, a->end_reason,
	          (unsigned long long)b->virtual_ns, (unsigned long long)b->instructions,
	          (unsigned long long)b->exits, (unsigned long long)b->injections,
	          (unsigned long long)b->eois, (unsigned long long)b->timer_fires,
	          (unsigned long long)b->trace_lines, b->n_findings, b->end_reason);
}

/* Every "ev" name in want (NULL-terminated) occurs in the continuation. */
static void expect_events(const char *what, const char *suffix, const char *const *want)
{
	char key[64];

	for (; *want; want++) {
		snprintf(key, sizeof(key), "\"ev\":\"%s\"", *want);
		cr_expect(strstr(suffix, key), "%s: the continuation lacks %s events:\n%s", what,
		          *want, suffix);
	}
}

struct case_ {
	const char *what;
	const char *json;
	const char *image; /* NULL: scripted */
	size_t run;
	uint64_t snap_ns;        /* snapshot once virtual time reaches this */
	const char *const *want; /* events the continuation must contain */
};

/* Snapshot at c->snap_ns, run out, restore, run out: identical continuations and summaries. */
static void check_rerun(const struct case_ *c)
{
	struct fixture f = {0};
	struct hvsim_summary s1, s2;
	hvsim_snapshot *s;
	char *first, *second;

	open_vm(&f, c->json, c->image, c->run);
	run_until(f.vm, c->snap_ns);
	s = take(&f);
	first = run_and_rewind(&f, s, &s1);
	second = run_and_rewind(&f, s, &s2);
	expect_events(c->what, first, c->want);
	cr_expect_str_eq(second, first, "%s: continuations differ:\n--- first\n%s\n--- second\n%s",
	                 c->what, first, second);
	expect_same_summary(c->what, &s1, &s2);
	free(first);
	free(second);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

Test(snapshot_vmx, scripted_kvm_rerun_after_restore_gives_an_identical_trace_suffix)
{
	static const char *const want[] = {"irq_line", "inject", "eoi", "timer", "apicv", NULL};
	const struct case_ cases[] = {
	    {"kernel irqchip", SCRIPTED("kernel"), NULL, 0, 30000, want},
	    {"split irqchip", SCRIPTED("split"), NULL, 0, 30000, want},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_rerun(&cases[i]);
}

/* Code guests (Unicorn) on kvm: the APICv SVI guest (TSC-deadline timer, runtime APICv activation,
 * virtualized EOIs) and the Directed EOI guest on a split irqchip (level line, userspace I/O APIC
 * EOI exits). */
#define APICV_SVI                                                                              \
	HEAD "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 4, \"apicv\": " \
	     "false, "                                                                         \
	     "\"tsc_khz\": 2000000}, " KVM                                                     \
	     "\"guest\": {\"mode\": \"long\", \"program\": \"guest/apicv_svi.bin\"}, "         \
	     "\"events\": [{\"at_ns\": 130000, \"host\": {\"action\": \"apicv_activate\"}}], " \
	     "\"limits\": {\"virtual_ns\": 10000000, \"instructions\": 20000000, \"exits\": "  \
	     "10000}, "                                                                        \
	     "\"runs\": [{\"name\": \"update\", \"quirks\": {\"apicv_activation_svi\": "       \
	     "\"update\"}, "                                                                   \
	     "\"golden\": \"g.jsonl\"}]}"
#define DIRECTED_EOI                                                                              \
	HEAD "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 4, \"irqchip\": "  \
	     "\"split\"}, " KVM "\"guest\": {\"mode\": \"long\", \"program\": "                   \
	     "\"guest/directed_eoi.bin\"}, "                                                      \
	     "\"events\": [{\"at_ns\": 100000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "      \
	     "{\"at_ns\": 400000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "                   \
	     "{\"at_ns\": 700000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}], "                  \
	     "\"limits\": {\"virtual_ns\": 1000000, \"instructions\": 10000000, \"exits\": "      \
	     "100000}, "                                                                          \
	     "\"runs\": [{\"name\": \"suppress\", \"quirks\": {\"split_irqchip_eoi_broadcast\": " \
	     "\"suppress\"}, \"golden\": \"g.jsonl\"}]}"

Test(snapshot_vmx, code_guest_kvm_rerun_after_restore_gives_an_identical_trace_suffix)
{
	static const char *const apicv[] = {"timer", "inject", "apicv", "eoi", "lapic_timer", NULL};
	static const char *const eoi[] = {"irq_line", "inject", "eoi", "userspace_exit", NULL};
	const struct case_ cases[] = {
	    {"APICv SVI guest", APICV_SVI, "scenarios/guest/apicv_svi.bin", 0, 60000, apicv},
	    {"Directed EOI guest", DIRECTED_EOI, "scenarios/guest/directed_eoi.bin", 0, 250000,
	     eoi},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_rerun(&cases[i]);
}

Test(snapshot_vmx, restoring_one_snapshot_twice_gives_the_same_suffix_both_times)
{
	struct fixture f = {0};
	struct hvsim_summary s1, s2, s3;
	hvsim_snapshot *s;
	char *first, *second, *third;

	open_vm(&f, SCRIPTED("split"), NULL, 0);
	run_until(f.vm, 30000);
	s = take(&f);
	first = run_and_rewind(&f, s, &s1);
	second = run_and_rewind(&f, s, &s2);
	third = run_and_rewind(&f, s, &s3);
	cr_expect_str_eq(second, first,
	                 "first restore: continuations differ:\n--- before\n%s\n"
	                 "--- after\n%s",
	                 first, second);
	cr_expect_str_eq(third, first,
	                 "second restore: continuations differ:\n--- before\n%s\n"
	                 "--- after\n%s",
	                 first, third);
	expect_same_summary("second restore", &s1, &s3);
	free(first);
	free(second);
	free(third);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

/* Virtual time of the first "timer" line in a trace, UINT64_MAX when none. */
static uint64_t first_timer_ns(const char *trace)
{
	const char *p = strstr(trace, "\"ev\":\"timer\"");
	const char *line;

	if (!p)
		return UINT64_MAX;
	for (line = p; line > trace && line[-1] != '\n'; line--)
		;
	return strtoull(line + strlen("{\"t\":"), NULL, 10);
}

/* The snapshot is taken between slices while vCPU 0 runs its guest in VMX non-root operation
 * with the LAPIC timer armed (an engine event of the algorithm): after the restore the vCPU is
 * in non-root operation again and the expiry comes at the same virtual time. */
Test(snapshot_vmx, lapic_timer_pending_in_non_root_fires_at_the_same_time_after_restore)
{
	struct fixture f = {0};
	struct hvsim_summary s1, s2;
	hvsim_snapshot *s;
	char *first, *second;
	hvsim_vcpu *v;
	int i;

	open_vm(&f, SCRIPTED("kernel"), NULL, 0);
	run_until(f.vm, 3000); /* past TMICT: the periodic timer is armed */
	v = hvsim_vm_vcpu(f.vm, 0);
	for (i = 0; i < STEPS_MAX && !v->nonroot; i++)
		cr_assert_eq(hvsim_vm_step(f.vm, 1), HVSIM_VM_RUNNING, "never in non-root");
	cr_assert(v->nonroot, "vCPU 0 never ran in VMX non-root operation");
	s = take(&f);
	first = run_and_rewind(&f, s, &s1);
	cr_expect(v->nonroot, "vCPU 0 is not in VMX non-root operation after the restore");
	second = run_and_rewind(&f, s, &s2);
	cr_assert_neq(first_timer_ns(first), UINT64_MAX, "no timer expiry after the snapshot:\n%s",
	              first);
	cr_expect_eq(first_timer_ns(second), first_timer_ns(first),
	             "timer expiry wanted at %llu ns, got %llu ns",
	             (unsigned long long)first_timer_ns(first),
	             (unsigned long long)first_timer_ns(second));
	free(first);
	free(second);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

/* machine.nested: L1 runs VMXON, VMCLEAR, VMPTRLD, VMWRITEs and VMLAUNCH under KVM's emulated
 * VMX. Snapshots before L1's VMXON (L1's processor does not exist yet) and after VMPTRLD (it
 * exists, with a vmcs12 in the store) rerun identically. */
#define NESTED                                                                                     \
	HEAD "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 4, \"nested\": "    \
	     "true}, " KVM                                                                         \
	     "\"guest\": {\"mode\": \"long\", \"program\": \"guest/nvmx_hlt.bin\"}, "              \
	     "\"events\": [{\"at_ns\": 0, \"host\": {\"action\": \"nested_vmx_misc_clear\", "      \
	     "\"arg\": \"0x40\"}}], "                                                              \
	     "\"limits\": {\"virtual_ns\": 5000000, \"instructions\": 1000000, \"exits\": 1000}, " \
	     "\"runs\": [{\"name\": \"userspace\", \"quirks\": {\"nvmx_vmx_misc_hlt\": "           \
	     "\"userspace\"}, \"golden\": \"g.jsonl\"}]}"

Test(snapshot_vmx, nested_rerun_after_restore_gives_an_identical_trace_suffix)
{
	static const char *const want[] = {"nested_check", "nested_entry", "finding", NULL};
	const struct case_ cases[] = {
	    {"before VMXON", NESTED, "scenarios/guest/nvmx_hlt.bin", 0, 5000, want},
	    {"after VMPTRLD", NESTED, "scenarios/guest/nvmx_hlt.bin", 0, 25000, want},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_rerun(&cases[i]);
}

/* An algorithm without snapshot callbacks: the VMX machine is refused, not half captured. */
Test(snapshot_vmx, algorithm_without_snapshot_callbacks_refuses_a_snapshot)
{
	extern const struct hvsim_hv_ops hv_kvm_ops;
	struct hvsim_hv_ops bare = hv_kvm_ops;
	struct hvsim_vm_opts o = {.hv = &bare};
	struct hvsim_scenario *sc;
	struct hvsim_error err = {0};
	const char *json = SCRIPTED("kernel");
	hvsim_vm *vm;

	bare.snapshot = NULL;
	bare.restore = NULL;
	bare.snapshot_free = NULL;
	cr_assert_eq(hvsim_scenario_parse("snap.json", json, strlen(json), NULL, &sc, &err),
	             HVSIM_OK, "%s", err.msg);
	vm = hvsim_vm_create(sc, 0, &o, &err);
	cr_assert_not_null(vm, "%s", err.msg);
	cr_expect_null(hvsim_vm_snapshot(vm, &err), "snapshot without algorithm callbacks");
	cr_expect_eq(err.status, HVSIM_E_UNSUPPORTED, "status wanted UNSUPPORTED, got %d",
	             err.status);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(sc);
}
