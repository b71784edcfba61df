/* Verifies hvsim_vm_reload: a machine built once and reloaded from its first snapshot for another
 * scenario of the same machine runs that scenario exactly as a VM created from it does (same
 * trace bytes, same summary), for scripted and code guests under the kvm algorithm, in either
 * order and again after a reload; and it refuses another machine, a snapshot taken after the VM
 * ran, and a snapshot of another VM, leaving the VM usable. Quirks: a change of one the kvm
 * algorithm takes again at reload (struct hvsim_quirk_desc reload; from the hypervisor or the
 * run) gives the fresh VM's run with the new value, which the guest makes visible in the trace
 * (CPUID, RDMSR and LVR values written to port 0xe9, a TDCALL's fate); a change of a quirk the
 * algorithm reads only at creation (no reload callback, or no reload flag), or a setting VM
 * creation refuses, is refused with its name. Scenarios are inline. */
#include <criterion/criterion.h>

#include "trace_buf.h"

#include <hvsim/hv_registry.h>
#include <hvsim/scenario.h>
#include <hvsim/vm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS_MAX 100000

#define HEAD                                                                                      \
	"{\"hvsim\":1,\"name\":\"reload\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"hypervisor\":{\"algorithm\":\"kvm\"},"
#define TAIL                                                                         \
	"\"limits\":{\"virtual_ns\":2000000,\"instructions\":20000,\"exits\":1000}," \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}"
#define MACHINE(vcpus)                                                                        \
	"\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"vcpus\":" vcpus "," \
	"\"quantum_insns\":200},"

/* A: LAPIC enabled, a periodic timer on 0x40 whose handler EOIs, computes and halts; a level
 * pulse on pin 10 without a route. */
#define SCRIPT_A                                                                                   \
	HEAD MACHINE(                                                                              \
	    "1") "\"guest\":{\"script\":{\"main\":["                                               \
	         "{\"op\":\"mmio_write\",\"gpa\":\"0xfee000f0\",\"size\":4,\"value\":\"0x1ff\"},"  \
	         "{\"op\":\"mmio_write\",\"gpa\":\"0xfee003e0\",\"size\":4,\"value\":\"0xb\"},"    \
	         "{\"op\":\"mmio_write\",\"gpa\":\"0xfee00320\",\"size\":4,\"value\":\"0x20040\"}" \
	         ","                                                                               \
	         "{\"op\":\"mmio_write\",\"gpa\":\"0xfee00380\",\"size\":4,\"value\":\"0x3000\"}," \
	         "{\"op\":\"repeat\",\"count\":6,\"body\":[{\"op\":\"compute\",\"insns\":300},"    \
	         "{\"op\":\"hlt\"}]}],"                                                            \
	         "\"handlers\":{\"0x40\":[{\"op\":\"mmio_write\",\"gpa\":\"0xfee000b0\",\"size\":" \
	         "4,"                                                                              \
	         "\"value\":\"0x0\"}]}}},"                                                         \
	         "\"events\":[{\"at_ns\":40000,\"irq_line\":{\"gsi\":10,\"level\":1}}]," TAIL

/* B: other actions (CPUID, RDTSC, an I/O APIC route, port I/O) and other events (an MSI). */
#define SCRIPT_B                                                                                  \
	HEAD MACHINE(                                                                             \
	    "1") "\"guest\":{\"script\":{\"main\":["                                              \
	         "{\"op\":\"mmio_write\",\"gpa\":\"0xfee000f0\",\"size\":4,\"value\":\"0x1ff\"}," \
	         "{\"op\":\"cpuid\",\"leaf\":\"0x1\"},{\"op\":\"rdtsc\"},"                        \
	         "{\"op\":\"out\",\"port\":\"0x80\",\"size\":1,\"value\":\"0x5\"},"               \
	         "{\"op\":\"compute\",\"insns\":2000},{\"op\":\"hlt\"},{\"op\":\"cpuid\","        \
	         "\"leaf\":\"0x0\"}"                                                              \
	         "],\"handlers\":{\"0x51\":[{\"op\":\"compute\",\"insns\":7}]}}},"                \
	         "\"events\":[{\"at_ns\":3000,\"msi\":{\"address\":\"0xfee00000\",\"data\":"      \
	         "\"0x51\"}},"                                                                    \
	         "{\"at_ns\":5000,\"msi\":{\"address\":\"0xfee00000\",\"data\":\"0x51\"}}]," TAIL

/* Code guests: C is long (CPUIDs, an OUT, then HLT); D is short and takes its CPUID leaf from the
 * dword just past its end (mov eax, [rip+3]; cpuid; hlt): after C it must find zeros there, not
 * C's leftover bytes. */
#define CODE(bytes) HEAD MACHINE("1") "\"guest\":{\"mode\":\"long\",\"bytes\":\"" bytes "\"}," TAIL
#define CODE_C      CODE("0f a2 0f a2 31 c0 0f a2 b0 07 e6 80 0f a2 f4")
#define CODE_D      CODE("8b 05 03 00 00 00 0f a2 f4")

/* Code guests under the kvm algorithm with quirk settings (JSON members, may be empty) at the
 * hypervisor and in the run, and events (JSON array members). */
#define QHEAD(quirks)                                                                             \
	"{\"hvsim\":1,\"name\":\"reload\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"hypervisor\":{\"algorithm\":\"kvm\",\"quirks\":{" quirks "}},"
#define QTAIL(run_quirks)                                                            \
	"\"limits\":{\"virtual_ns\":2000000,\"instructions\":20000,\"exits\":1000}," \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\",\"quirks\":{" run_quirks "}}]}"
#define QCODE(quirks, run_quirks, cpu, nested, events, bytes)                              \
	QHEAD(quirks)                                                                      \
	"\"machine\":{\"cpu\":\"" cpu "\",\"memory_mib\":1,\"vcpus\":1,\"nested\":" nested \
	",\"quantum_insns\":200},\"guest\":{\"mode\":\"long\",\"bytes\":\"" bytes          \
	"\"},\"events\":[" events "]," QTAIL(run_quirks)
/* mov eax, 0x40000010; cpuid; out 0xe9, eax; hlt: the timing leaf's EAX (TSC kHz) or nothing */
#define TIMING(quirks, run_quirks)                                     \
	QCODE(quirks, run_quirks, "intel-icelake-server", "false", "", \
	      "b8 10 00 00 40 0f a2 e7 e9 f4")
/* mov ecx, 0x485; rdmsr; out 0xe9, eax; hlt, after userspace cleared IA32_VMX_MISC bit 6 (HLT
 * activity): L1 sees the bit again only under nvmx_vmx_misc_hlt "always". */
#define MISC(quirks)                                                                            \
	QCODE(quirks, "", "intel-icelake-server", "true",                                       \
	      "{\"at_ns\":0,\"host\":{\"action\":\"nested_vmx_misc_clear\",\"arg\":\"0x40\"}}", \
	      "b9 85 04 00 00 0f 32 e7 e9 f4")
/* mov ebx, 0xfee00030; mov eax, [rbx]; out 0xe9, eax; hlt: the xAPIC's LVR, whose bit 24
 * (EOI-broadcast suppression) split_irqchip_eoi_broadcast "disable" withdraws. */
#define LVR(quirks) \
	QCODE(quirks, "", "intel-icelake-server", "false", "", "bb 30 00 e0 fe 8b 03 e7 e9 f4")
/* A scripted guest under the minimal algorithm (quirks without a reload callback). */
#define MINIMAL(quirks)                                                                           \
	"{\"hvsim\":1,\"name\":\"reload\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"hypervisor\":{\"algorithm\":\"minimal\",\"quirks\":{" quirks                           \
	"}}," MACHINE("1") "\"guest\":{\"script\":{\"main\":[{\"op\":\"rdtsc\"},{\"op\":"         \
	                   "\"cpuid\",\"leaf\":\"0x1\"}]}}," TAIL
/* TDCALL in a non-TD guest on a TDX-capable processor: #UD or KVM's internal error. */
#define TDCALL(quirks) \
	QCODE(quirks, "", "intel-sapphirerapids", "false", "", "b8 01 00 00 00 66 0f 01 cc f4")

struct run {
	struct trace_buf trace;
	struct hvsim_summary sum;
};

static struct hvsim_scenario *parse(const char *text)
{
	static const struct scenario_io io = {.exists = NULL, .check_goldens = false};
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(hvsim_scenario_parse("reload.json", text, strlen(text), &io, &sc, &err),
	             HVSIM_OK, "scenario: %s", err.msg);
	return sc;
}

static hvsim_vm *create(const struct hvsim_scenario *sc, struct trace_buf *trace)
{
	struct hvsim_vm_opts o = {.trace = {.write = trace_buf_write, .ctx = trace}};
	struct hvsim_error err = {0};
	hvsim_vm *vm = hvsim_vm_create(sc, 0, &o, &err);

	cr_assert(vm, "create: %s", err.msg);
	return vm;
}

/* Runs vm to the end; the trace lines from mark on and the summary go to out. */
static void finish(hvsim_vm *vm, struct trace_buf *trace, size_t mark, struct run *out)
{
	hvsim_vm_step(vm, STEPS_MAX);
	cr_assert_eq(hvsim_vm_finish(vm), HVSIM_OK);
	out->sum = *hvsim_vm_summary(vm);
	out->trace.len = trace->len - mark;
	out->trace.p = malloc(out->trace.len + 1);
	memcpy(out->trace.p, trace->p + mark, out->trace.len);
	out->trace.p[out->trace.len] = '\0';
}

/* The run of a VM created from text. */
static void fresh(const char *text, struct run *out)
{
	struct hvsim_scenario *sc = parse(text);
	struct trace_buf trace = {0};
	hvsim_vm *vm = create(sc, &trace);

	finish(vm, &trace, 0, out);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(sc);
	free(trace.p);
}

static void same_run(const struct run *got, const struct run *want, const char *what)
{
	cr_assert_eq(got->trace.len, want->trace.len, "%s: trace of %zu bytes, wanted %zu:\n%s",
	             what, got->trace.len, want->trace.len, got->trace.p);
	cr_assert_str_eq(got->trace.p, want->trace.p, "%s: the trace differs", what);
	cr_assert_eq(got->sum.exits, want->sum.exits, "%s: exits", what);
	cr_assert_eq(got->sum.instructions, want->sum.instructions, "%s: instructions", what);
	cr_assert_eq(got->sum.virtual_ns, want->sum.virtual_ns, "%s: virtual_ns", what);
	cr_assert_eq(got->sum.trace_lines, want->sum.trace_lines, "%s: trace_lines", what);
	cr_assert_str_eq(got->sum.end_reason, want->sum.end_reason, "%s: end reason", what);
	cr_assert(want->sum.exits > 0, "%s: the scenario exits", what);
}

/* Builds a VM from first, snapshots it, runs it; then reloads it for each of texts in turn and
 * compares every run with a fresh VM's. */
static void reload_chain(const char *first, const char *const *texts, size_t n)
{
	struct hvsim_scenario *base = parse(first);
	struct trace_buf trace = {0};
	struct hvsim_error err = {0};
	hvsim_vm *vm = create(base, &trace);
	hvsim_snapshot *snap = hvsim_vm_snapshot(vm, &err);
	struct run got, want;

	cr_assert(snap, "snapshot: %s", err.msg);
	finish(vm, &trace, 0, &got);
	for (size_t i = 0; i < n; i++) {
		struct hvsim_scenario *sc = parse(texts[i]);
		size_t mark = trace.len;
		char what[32];

		snprintf(what, sizeof(what), "reload %zu", i);
		cr_assert_eq(hvsim_vm_reload(vm, snap, sc, &err), HVSIM_OK, "%s: %s", what,
		             err.msg);
		free(got.trace.p);
		finish(vm, &trace, mark, &got);
		fresh(texts[i], &want);
		same_run(&got, &want, what);
		free(want.trace.p);
		hvsim_scenario_free(sc); /* read no more: the next reload replaces it */
	}
	free(got.trace.p);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	free(trace.p);
}

Test(reload, scripted_guest_runs_as_a_fresh_vm_of_the_new_scenario)
{
	const char *const texts[] = {SCRIPT_B, SCRIPT_A, SCRIPT_B};

	reload_chain(SCRIPT_A, texts, 3);
}

Test(reload, code_guest_runs_as_a_fresh_vm_and_leaves_no_bytes_of_the_old_image)
{
	const char *const texts[] = {CODE_D, CODE_C, CODE_D};

	reload_chain(CODE_C, texts, 3);
}

/* The machine is part of what the VM was built from: another vCPU count cannot reuse it. */
Test(reload, another_machine_is_refused_and_the_vm_stays_reloadable)
{
	struct hvsim_scenario *base = parse(SCRIPT_A);
	struct hvsim_scenario *other = parse(HEAD MACHINE("2") "\"guest\":{\"script\":{\"main\":"
	                                                       "[{\"op\":\"hlt\"}]}}," TAIL);
	struct hvsim_scenario *b = parse(SCRIPT_B);
	struct trace_buf trace = {0};
	struct hvsim_error err = {0};
	hvsim_vm *vm = create(base, &trace);
	hvsim_snapshot *snap = hvsim_vm_snapshot(vm, &err);

	cr_assert_eq(hvsim_vm_reload(vm, snap, other, &err), HVSIM_E_INPUT);
	cr_assert(strstr(err.msg, "$.machine"), "the error names the part: %s", err.msg);
	cr_assert_eq(hvsim_vm_reload(vm, snap, b, &err), HVSIM_OK, "%s", err.msg);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	hvsim_scenario_free(other);
	hvsim_scenario_free(b);
	free(trace.p);
}

/* A snapshot taken after a slice ran holds a started program, which a reload cannot replace. */
Test(reload, snapshot_taken_after_the_vm_ran_is_refused)
{
	struct hvsim_scenario *base = parse(SCRIPT_A);
	struct trace_buf trace = {0};
	struct hvsim_error err = {0};
	hvsim_vm *vm = create(base, &trace);
	hvsim_snapshot *snap;

	hvsim_vm_step(vm, 1);
	snap = hvsim_vm_snapshot(vm, &err);
	cr_assert(snap, "%s", err.msg);
	cr_assert_eq(hvsim_vm_reload(vm, snap, base, &err), HVSIM_E_UNSUPPORTED);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	free(trace.p);
}

Test(reload, snapshot_of_another_vm_is_refused)
{
	struct hvsim_scenario *base = parse(SCRIPT_A);
	struct trace_buf t1 = {0}, t2 = {0};
	struct hvsim_error err = {0};
	hvsim_vm *vm1 = create(base, &t1), *vm2 = create(base, &t2);
	hvsim_snapshot *snap = hvsim_vm_snapshot(vm1, &err);

	cr_assert_eq(hvsim_vm_reload(vm2, snap, base, &err), HVSIM_E_INPUT);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm1);
	hvsim_vm_destroy(vm2);
	hvsim_scenario_free(base);
	free(t1.p);
	free(t2.p);
}

/* The fresh runs of a and b differ: the guest makes the quirk visible. */
static void quirk_visible(const char *a, const char *b, const char *what)
{
	struct run ra, rb;

	fresh(a, &ra);
	fresh(b, &rb);
	cr_assert(ra.trace.len != rb.trace.len || strcmp(ra.trace.p, rb.trace.p) != 0,
	          "%s: both values give the same trace:\n%s", what, ra.trace.p);
	free(ra.trace.p);
	free(rb.trace.p);
}

Test(reload, cpuid_timing_leaf_change_runs_as_a_fresh_vm_with_the_new_value)
{
	const char *const texts[] = {
	    TIMING("\"cpuid_timing_leaf\":\"present\"", ""),
	    TIMING("", ""),
	    TIMING("\"cpuid_timing_leaf\":\"absent\"", "\"cpuid_timing_leaf\":\"present\""),
	    TIMING("\"cpuid_timing_leaf\":\"absent\"", ""),
	};

	quirk_visible(texts[0], texts[1], "cpuid_timing_leaf");
	reload_chain(TIMING("", ""), texts, 4);
}

/* L1's capabilities, computed when the vCPU is created, follow the quirk after a reload. */
Test(reload, nvmx_vmx_misc_hlt_change_runs_as_a_fresh_vm_with_the_new_value)
{
	const char *const texts[] = {MISC("\"nvmx_vmx_misc_hlt\":\"userspace\""),
	                             MISC("\"nvmx_vmx_misc_hlt\":\"always\""),
	                             MISC("\"nvmx_vmx_misc_hlt\":\"userspace\"")};

	quirk_visible(texts[0], texts[1], "nvmx_vmx_misc_hlt");
	reload_chain(MISC(""), texts, 3);
}

Test(reload, tdx_insn_exit_change_runs_as_a_fresh_vm_with_the_new_value)
{
	const char *const texts[] = {TDCALL("\"tdx_insn_exit\":\"internal_error\""), TDCALL(""),
	                             TDCALL("\"tdx_insn_exit\":\"internal_error\"")};

	quirk_visible(texts[0], texts[1], "tdx_insn_exit");
	reload_chain(TDCALL(""), texts, 3);
}

/* The LAPIC, built when the vCPU is created, advertises what the new value says after a reload. */
Test(reload, split_irqchip_eoi_broadcast_change_runs_as_a_fresh_vm_with_the_new_value)
{
	const char *const texts[] = {LVR("\"split_irqchip_eoi_broadcast\":\"disable\""),
	                             LVR("\"split_irqchip_eoi_broadcast\":\"quirked\""),
	                             LVR("\"split_irqchip_eoi_broadcast\":\"disable\"")};

	quirk_visible(texts[0], texts[1], "split_irqchip_eoi_broadcast");
	reload_chain(LVR(""), texts, 3);
}

/* Reloads vm (snapshot snap) for text: the status, with the error in err. */
static enum hvsim_status try_reload(hvsim_vm *vm, hvsim_snapshot *snap, const char *text,
                                    struct hvsim_error *err)
{
	struct hvsim_scenario *sc = parse(text);
	enum hvsim_status st = hvsim_vm_reload(vm, snap, sc, err);

	hvsim_scenario_free(sc);
	return st;
}

/* The minimal algorithm has no reload callback: its quirks shape the VM at creation, and a kept VM
 * refuses another value, naming the quirk and the rule. The VM stays reloadable. */
Test(reload, creation_time_quirk_change_is_refused_naming_the_quirk)
{
	struct hvsim_scenario *base = parse(MINIMAL(""));
	struct trace_buf trace = {0};
	struct hvsim_error err = {0};
	hvsim_vm *vm = create(base, &trace);
	hvsim_snapshot *snap = hvsim_vm_snapshot(vm, &err);

	cr_assert(snap, "snapshot: %s", err.msg);
	cr_assert_eq(try_reload(vm, snap, MINIMAL("\"rdtsc_exiting\":\"off\""), &err),
	             HVSIM_E_INPUT, "a new rdtsc_exiting was accepted");
	cr_assert(strstr(err.msg, "$.hypervisor.quirks.rdtsc_exiting") &&
	              strstr(err.msg, "only at VM creation") && strstr(err.msg, "\"off\""),
	          "the error names the quirk, the rule and the value: %s", err.msg);
	cr_assert_eq(try_reload(vm, snap, MINIMAL("\"rdtsc_exiting\":\"on\""), &err), HVSIM_OK,
	             "the default set explicitly: %s", err.msg);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	free(trace.p);
}

/* A quirk the algorithm does not mark reload keeps its value even when the algorithm has a reload
 * callback (the kvm table with cpuid_timing_leaf's flag cleared); the others may change. */
Test(reload, quirk_not_marked_reload_is_refused_while_marked_ones_change)
{
	const struct hvsim_hv_ops *kvm = hvsim_hv_builtin("kvm");
	struct hvsim_quirk_desc q[16];
	struct hvsim_hv_ops ops = *kvm;
	struct hvsim_scenario *base = parse(TIMING("", ""));
	struct trace_buf trace = {0};
	struct hvsim_vm_opts o = {.trace = {.write = trace_buf_write, .ctx = &trace}, .hv = &ops};
	struct hvsim_error err = {0};
	hvsim_vm *vm;
	hvsim_snapshot *snap;
	size_t timing = kvm->n_quirks;

	cr_assert_leq(kvm->n_quirks, 16);
	memcpy(q, kvm->quirks, kvm->n_quirks * sizeof(q[0]));
	for (size_t i = 0; i < kvm->n_quirks; i++)
		if (strcmp(q[i].name, "cpuid_timing_leaf") == 0)
			timing = i;
	cr_assert_lt(timing, kvm->n_quirks, "kvm has cpuid_timing_leaf");
	q[timing].reload = false;
	ops.quirks = q;
	cr_assert(vm = hvsim_vm_create(base, 0, &o, &err), "create: %s", err.msg);
	cr_assert(snap = hvsim_vm_snapshot(vm, &err), "snapshot: %s", err.msg);
	cr_assert_eq(try_reload(vm, snap, TIMING("\"cpuid_timing_leaf\":\"present\"", ""), &err),
	             HVSIM_E_INPUT, "cpuid_timing_leaf changed without its reload flag");
	cr_assert(strstr(err.msg, "cpuid_timing_leaf"), "the error names the quirk: %s", err.msg);
	cr_assert_eq(
	    try_reload(vm, snap, TIMING("\"lvtt_periodic_restart\":\"restart\"", ""), &err),
	    HVSIM_OK, "lvtt_periodic_restart (marked reload): %s", err.msg);
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	free(trace.p);
}

/* What VM creation refuses (an unknown quirk or value), a reload refuses too, with the same
 * message. */
Test(reload, quirk_setting_vm_creation_refuses_is_refused)
{
	static const char *const bad[] = {
	    TIMING("\"cpuid_timing_leaf\":\"sometimes\"", ""),
	    TIMING("", "\"no_such_quirk\":\"absent\""),
	};
	static const char *const said[] = {"expected a value of quirk cpuid_timing_leaf",
	                                   "expected a quirk of algorithm"};
	struct hvsim_scenario *base = parse(TIMING("", ""));
	struct trace_buf trace = {0};
	struct hvsim_error err = {0}, cerr = {0};
	hvsim_vm *vm = create(base, &trace);
	hvsim_snapshot *snap = hvsim_vm_snapshot(vm, &err);

	for (size_t i = 0; i < 2; i++) {
		struct hvsim_scenario *sc = parse(bad[i]);
		struct hvsim_vm_opts o = {0};

		cr_assert_null(hvsim_vm_create(sc, 0, &o, &cerr), "creation accepted setting %zu",
		               i);
		cr_assert_eq(hvsim_vm_reload(vm, snap, sc, &err), HVSIM_E_INPUT,
		             "bad setting %zu accepted: %s", i, bad[i]);
		cr_assert(strstr(err.msg, said[i]), "setting %zu: %s", i, err.msg);
		cr_assert_str_eq(err.msg, cerr.msg, "setting %zu: reload and creation say it alike",
		                 i);
		hvsim_scenario_free(sc);
	}
	hvsim_snapshot_free(snap);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(base);
	free(trace.p);
}
