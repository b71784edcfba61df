/* Verifies hvsim_vm_reload: a machine built once and reloaded from its first snapshot for another
 * scenario of the same machine runs that scenario exactly as a VM created from it does (same
 * trace bytes, same summary), for scripted and code guests under the kvm algorithm, in either
 * order and again after a reload; and it refuses another machine, a snapshot taken after the VM
 * ran, and a snapshot of another VM, leaving the VM usable. Scenarios are inline. */
#include <criterion/criterion.h>

#include "trace_buf.h"

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
