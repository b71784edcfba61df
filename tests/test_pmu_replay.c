/* Verifies the pmu-replay algorithm (hv/pmu_replay*.c). Differentially: every fuzz_pmu_msr seed
 * (fuzz/corpus/fuzz_pmu_msr/) and committed reproducer (fuzz/crashes/fuzz_pmu_msr/, if any) is
 * exported as the harness exports it, run on the engine, and the run's "pmu_op" lines must be the
 * harness's operation results line for line, and its findings the harness's. Then the trace line
 * of each operation kind on small hand-written scenarios (SDM 21.2.6 legacy and full-width counter
 * writes, SDM 21.2.2 overflow status and PMI, SDM Vol. 2B RDPMC privilege), a broken invariant as
 * the run's invariant_violation, and the input errors: a scenario the replay cannot execute fails
 * VM creation with a message naming the event, and several vCPUs are refused. */
#include <criterion/criterion.h>

#include "test_files.h"

#include "../fuzz/fz_pmu.h"
#include "../fuzz/fz_pmu_seeds.h"
#include "../models/pmu_int.h"
#include "../sim/vm_int.h"
#include "vm_fixture.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX   (1u << 20)
#define LINE_MAX_ 1024
#define TEXT_MAX  16384

/* ---- The differential ---- */

/* The harness's operation results as the trace lines the replay must write. */
struct op_log {
	char *text;
	size_t len;
};

static void log_append(struct op_log *l, const struct trace_ev *e)
{
	char line[LINE_MAX_];
	size_t n = trace_encode(e, line, sizeof(line));

	if (n && l->len + n < LOG_MAX) {
		memcpy(l->text + l->len, line, n);
		l->len += n;
		l->text[l->len] = '\0';
	}
}

static void log_op(void *ctx, const struct pmu_replay_op *op, const struct pmu_replay_step *st)
{
	struct trace_ev e;

	pmu_replay_trace_op(&e, 0, 0, op, st);
	log_append(ctx, &e);
}

static void findings_agree(const char *path, const struct fz_pmu_outcome *o, hvsim_vm *vm)
{
	const struct hvsim_summary *s = hvsim_vm_summary(vm);
	char want[PMU_REPLAY_WHY_MAX + 128];

	if (!o->kind) {
		cr_assert_eq(s->n_findings, 0, "%s: harness found nothing, the run found %s", path,
		             s->n_findings ? s->findings[0].kind : "-");
		return;
	}
	snprintf(want, sizeof(want), "%s: %s", o->kind, o->why);
	cr_assert(s->n_findings >= 1 && strcmp(s->findings[0].kind, "invariant_violation") == 0 &&
	              strncmp(s->findings[0].detail, want, strlen(o->kind)) == 0,
	          "%s: harness found %s, the run %s (%s)", path, want,
	          s->n_findings ? s->findings[0].kind : "nothing",
	          s->n_findings ? s->findings[0].detail : "-");
}

static const char load_prefix[] = "{\"t\":0,\"vcpu\":0,\"ev\":\"pmu_op\",\"op\":\"load\"";

/* Exports one input (path names it) as the harness does, runs it, compares. */
static void differential_bytes(struct fz_pmu_sys *s, const char *path, const uint8_t *data,
                               size_t len)
{
	struct op_log log = {.text = calloc(1, LOG_MAX)};
	struct fz_pmu_outcome o;
	struct vm_fixture f;
	char *text, *lines;
	fz_scn *scn;

	cr_assert(log.text, "out of memory");
	s->m.log = log_op;
	s->m.log_ctx = &log;
	scn = fz_pmu_export_scenario(s, data, len, 1, &o);
	s->m.log = NULL;
	text = scn ? fz_scn_text(scn) : NULL;
	cr_assert(text, "%s: export out of memory", path);
	fixture_build(&f, text, NULL);
	cr_assert(f.vm, "%s: the exported scenario does not build: %s", path, f.err.msg);
	fixture_run(&f);
	lines = test_lines_with(f.trace, "\"ev\":\"pmu_op\"");
	/* the run's first line is the load; the harness loads before its log starts */
	cr_assert(strncmp(lines, load_prefix, strlen(load_prefix)) == 0,
	          "%s: the run does not start with the load:\n%s", path, lines);
	cr_assert_str_eq(strchr(lines, '\n') + 1, log.text,
	                 "%s: the run's operations differ from the harness's:\n"
	                 "run:\n%s\nharness:\n%s",
	                 path, lines, log.text);
	findings_agree(path, &o, f.vm);
	fixture_free(&f);
	free(lines);
	free(text);
	fz_scn_destroy(scn);
	free(log.text);
}

static size_t differential_dir(struct fz_pmu_sys *s, const char *dir)
{
	char pattern[256];
	size_t n = 0;
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/*", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		size_t len;
		uint8_t *data;

		if (strlen(p) > 7 && strcmp(p + strlen(p) - 7, ".expect") == 0)
			continue;
		data = test_slurp(p, &len);
		cr_assert(data, "%s: cannot read it", p);
		differential_bytes(s, p, data, len);
		free(data);
		n++;
	}
	globfree(&g);
	return n;
}

Test(pmu_replay, runs_of_exported_seeds_and_reproducers_match_the_harness)
{
	struct fz_pmu_sys s;
	size_t seeds;

	cr_assert_eq(fz_pmu_create(&s), HVSIM_OK, "fz_pmu_create");
	seeds = differential_dir(&s, "fuzz/corpus/fuzz_pmu_msr");
	differential_dir(&s, "fuzz/crashes/fuzz_pmu_msr"); /* none committed yet */
	cr_assert_geq(seeds, fz_pmu_seed_count(), "wanted every seed, got %zu of %zu", seeds,
	              fz_pmu_seed_count());
	fz_pmu_destroy(&s);
}

/* Every operation kind, every configuration variant, on inputs the seeds may not hold: counts at
 * CPL 3 and of other events, RDPMC at CPL 3 without CR4.PCE, a restore without a snapshot. */
Test(pmu_replay, runs_of_crafted_inputs_match_the_harness)
{
	static const struct pmu_replay_op ops[] = {
	    {.kind = PMU_REPLAY_RESTORE},
	    {.kind = PMU_REPLAY_WRMSR, .msr = 0xC1, .value = 0x80000000},
	    {.kind = PMU_REPLAY_WRMSR, .msr = 0x186, .value = 0x4300C4},
	    {.kind = PMU_REPLAY_COUNT, .event = PMU_EV_BRANCHES, .cpl = 3, .sub = 3, .value = 5},
	    {.kind = PMU_REPLAY_RDPMC, .msr = 0, .cpl = 3},
	    {.kind = PMU_REPLAY_RDPMC, .msr = 0, .cpl = 3, .pce = true},
	    {.kind = PMU_REPLAY_SNAPSHOT},
	    {.kind = PMU_REPLAY_RESET},
	    {.kind = PMU_REPLAY_RDMSR, .msr = 0xC1},
	    {.kind = PMU_REPLAY_RESTORE},
	    {.kind = PMU_REPLAY_RDMSR, .msr = 0xC0010004},
	};
	struct fz_pmu_sys s;

	cr_assert_eq(fz_pmu_create(&s), HVSIM_OK, "fz_pmu_create");
	for (unsigned b = 0; b < 28; b++) {
		uint8_t buf[512];
		char name[32];
		struct fz_out o;

		fz_out_init(&o, buf, sizeof(buf));
		fz_put(&o, b, 1);
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			fz_pmu_encode(&o, &ops[i]);
		cr_assert(!o.overflow, "the operations do not fit %zu bytes", sizeof(buf));
		snprintf(name, sizeof(name), "crafted, configuration byte %u", b);
		differential_bytes(&s, name, buf, o.len);
	}
	fz_pmu_destroy(&s);
}

/* ---- Trace lines ---- */

static const char scenario_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"generic\",\"vcpus\":%u},"
    "\"hypervisor\":{\"algorithm\":\"pmu-replay\"},\"guest\":{\"script\":{\"main\":[]}},"
    "\"events\":[%s],\"oracles\":{\"invariants\":{\"enabled\":true}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":10},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

#define EV(action, arg) \
	"{\"at_ns\":0,\"host\":{\"action\":\"" action "\",\"vcpu\":0,\"arg\":\"" arg "\"}}"
/* intel-icelake-server: v5, 8 GP and 4 fixed 48-bit counters, FW_WRITE */
/* clang-format off */
#define ICX                                                                          \
	EV("pmu_cfg_vendor", "0x0") "," EV("pmu_cfg_version", "0x5") ","             \
	EV("pmu_cfg_n_gp", "0x8") "," EV("pmu_cfg_gp_width", "0x30") ","             \
	EV("pmu_cfg_n_fixed", "0x4") "," EV("pmu_cfg_fixed_width", "0x30") ","       \
	EV("pmu_cfg_n_events", "0x8") "," EV("pmu_cfg_perf_capabilities", "0x24c5") \
	"," EV("pmu_load", "0x0")
/* clang-format on */

static void build(struct vm_fixture *f, unsigned vcpus, const char *events)
{
	char text[TEXT_MAX];

	snprintf(text, sizeof(text), scenario_fmt, vcpus, events);
	fixture_build(f, text, NULL);
}

static void assert_line(const char *events, const char *want)
{
	struct vm_fixture f;

	build(&f, 1, events);
	cr_assert(f.vm, "%s: %s", events, f.err.msg);
	fixture_run(&f);
	cr_assert(strstr(f.trace, want), "events %s: wanted the line\n%s\ngot the trace\n%s",
	          events, want, f.trace);
	cr_assert_eq(hvsim_vm_summary(f.vm)->n_findings, 0, "events %s: wanted no finding", events);
	fixture_free(&f);
}

Test(pmu_replay, load_line_names_the_configuration)
{
	assert_line(
	    ICX, "{\"t\":0,\"vcpu\":0,\"ev\":\"pmu_op\",\"op\":\"load\",\"vendor\":\"intel\","
	         "\"version\":5,\"n_gp\":8,\"gp_width\":48,\"n_fixed\":4,\"fixed_width\":48,"
	         "\"n_events\":8,\"events_unavailable\":\"0x0\",\"perf_capabilities\":\"0x24c5\","
	         "\"amd_ext_core\":false,\"amd_perfmon_v2\":false,\"outcome\":\"ok\"}\n");
}

/* SDM 21.2.6 "Full-Width Writes to Performance Counter Registers": a WRMSR to IA32_PMCx
 * sign-extends bit 31 to the counter width. */
Test(pmu_replay, legacy_counter_write_reads_back_sign_extended)
{
	assert_line(ICX "," EV("wrmsr_msr", "0xc1") "," EV("wrmsr_value",
	                                                   "0x80000000") "," EV("rdmsr", "0xc1"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"pmu_op\",\"op\":\"rdmsr\",\"msr\":\"0xc1\","
	            "\"outcome\":\"ok\",\"result\":\"0xffff80000000\"}\n");
}

/* SDM 21.2.6: IA32_A_PMCx takes the full width as written. */
Test(pmu_replay, full_width_counter_write_reads_back_as_written)
{
	assert_line(
	    ICX "," EV("wrmsr_msr", "0x4c1") "," EV("wrmsr_value", "0x80000000") "," EV("rdmsr",
	                                                                                "0xc1"),
	    "\"op\":\"rdmsr\",\"msr\":\"0xc1\",\"outcome\":\"ok\",\"result\":\"0x80000000\"}");
}

/* SDM 21.2.2: a counter that wraps sets its IA32_PERF_GLOBAL_STATUS bit; with INT set the count
 * requests a PMI. */
Test(pmu_replay, count_line_reports_overflow_and_pmi)
{
	assert_line(
	    ICX "," EV("wrmsr_msr", "0x186") "," EV("wrmsr_value", "0x5300c0") "," EV(
	        "wrmsr_msr",
	        "0x4c1") "," EV("wrmsr_value",
	                        "0xffffffffffff") "," EV("count_event",
	                                                 "0x1") "," EV("count_cpl",
	                                                               "0x0") "," EV("count",
	                                                                             "0x1"),
	    "\"op\":\"count\",\"event\":\"instructions\",\"cpl\":0,\"n\":\"0x1\","
	    "\"outcome\":\"ok\",\"overflow\":\"0x1\",\"pmi\":true}\n");
}

/* SDM Vol. 2B RDPMC: at CPL > 0 with CR4.PCE clear, #GP(0). */
Test(pmu_replay, rdpmc_at_cpl_3_without_pce_faults)
{
	assert_line(
	    ICX "," EV("rdpmc_cpl", "0x3") "," EV("rdpmc_cr4_pce", "0x0") "," EV("rdpmc", "0x0"),
	    "\"op\":\"rdpmc\",\"ecx\":\"0x0\",\"cpl\":3,\"pce\":false,"
	    "\"outcome\":\"#GP(0)\"}\n");
}

/* SDM 21.2.2: IA32_PERF_GLOBAL_STATUS is read-only: WRMSR to it faults. */
Test(pmu_replay, write_to_a_read_only_msr_faults)
{
	assert_line(
	    ICX "," EV("wrmsr_msr", "0x38e") "," EV("wrmsr_value", "0x1"),
	    "\"op\":\"wrmsr\",\"msr\":\"0x38e\",\"value\":\"0x1\",\"outcome\":\"#GP(0)\"}\n");
}

Test(pmu_replay, restore_without_a_snapshot_does_nothing)
{
	assert_line(ICX "," EV("restore", "0x0"), "\"op\":\"restore\",\"outcome\":\"none\"}\n");
}

Test(pmu_replay, the_vcpu_stops_after_the_last_event)
{
	assert_line(ICX "," EV("reset", "0x0"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"vcpu_stop\",\"reason\":\"replay finished\"}\n");
}

/* The first named invariant an operation broke is the run's invariant_violation, its name first
 * in the detail. The model keeps every invariant, so the test breaks the live PMU between two
 * events: a GP counter beyond its 48-bit width is what pmu_check (the model's own invariant, run
 * first) forbids. */
Test(pmu_replay, a_broken_invariant_is_the_runs_invariant_violation)
{
	static const char want[] = "pmu_check: op 0 (rdmsr): GP counter 2";
	const struct hvsim_summary *sum;
	struct pmu_replay *r;
	struct vm_fixture f;

	build(&f, 1,
	      ICX ",{\"at_ns\":500,\"host\":{\"action\":\"rdmsr\",\"vcpu\":0,\"arg\":\"0x38f\"}}");
	cr_assert(f.vm, "%s", f.err.msg);
	hvsim_vm_step(f.vm, 1); /* the load at 0 ns */
	r = f.vm->hv_priv;
	r->m.pmu->gp_ctr[2] = UINT64_C(1) << 48;
	fixture_run(&f);
	sum = hvsim_vm_summary(f.vm);
	cr_assert(sum->n_findings == 1 &&
	              strcmp(sum->findings[0].kind, "invariant_violation") == 0 &&
	              strncmp(sum->findings[0].detail, want, strlen(want)) == 0,
	          "wanted invariant_violation \"%s...\", got %zu findings: %s %s", want,
	          sum->n_findings, sum->n_findings ? sum->findings[0].kind : "-",
	          sum->n_findings ? sum->findings[0].detail : "-");
	fixture_free(&f);
}

/* ---- Input errors ---- */

static void assert_refused(unsigned vcpus, const char *events, const char *want)
{
	struct vm_fixture f;

	build(&f, vcpus, events);
	cr_assert_null(f.vm, "events %s: wanted VM creation to fail", events);
	cr_assert_eq(f.err.status, HVSIM_E_INPUT, "events %s: wanted an input error, got %d: %s",
	             events, f.err.status, f.err.msg);
	cr_assert(strstr(f.err.msg, want), "events %s: wanted a message with\n%s\ngot\n%s", events,
	          want, f.err.msg);
	cr_assert_null(strchr(f.err.msg, '\n'), "message on one line: %s", f.err.msg);
	fixture_free(&f);
}

Test(pmu_replay, an_unknown_action_is_an_input_error_naming_the_event)
{
	assert_refused(1, ICX "," EV("rdmsrr", "0xc1"),
	               "$.events[9] (host \"rdmsrr\" at 0 ns): is not an action pmu-replay "
	               "executes");
}

Test(pmu_replay, an_operation_before_the_load_is_an_input_error)
{
	assert_refused(1, EV("rdmsr", "0xc1"),
	               "$.events[0] (host \"rdmsr\" at 0 ns): comes before pmu_load");
}

Test(pmu_replay, an_invalid_configuration_is_an_input_error)
{
	assert_refused(1, EV("pmu_cfg_n_gp", "0x9") "," EV("pmu_load", "0x0"),
	               "$.events[1] (host \"pmu_load\" at 0 ns): loads a configuration the PMU "
	               "model cannot build");
	assert_refused(1, EV("pmu_cfg_vendor", "0x2"),
	               "$.events[0] (host \"pmu_cfg_vendor\" at 0 ns): is out of the "
	               "configuration field's range");
}

Test(pmu_replay, an_incomplete_operation_is_an_input_error)
{
	assert_refused(1, ICX "," EV("wrmsr_msr", "0xc1") "," EV("rdmsr", "0xc1"),
	               "$.events[10] (host \"rdmsr\" at 0 ns): came where the operation's next "
	               "part must follow");
	assert_refused(1, ICX "," EV("count_event", "0x1") "," EV("count_cpl", "0x0"),
	               "$.events[10] (host \"count_cpl\" at 0 ns): the events end before");
}

Test(pmu_replay, operands_out_of_range_are_input_errors)
{
	assert_refused(1, ICX "," EV("rdmsr", "0x100000000"), "names an MSR beyond 32 bits");
	assert_refused(1, ICX "," EV("rdpmc_cpl", "0x4"), "names a CPL other than 0-3");
	assert_refused(1, ICX "," EV("rdpmc_cpl", "0x0") "," EV("rdpmc_cr4_pce", "0x2"),
	               "takes 0 or 1 (CR4.PCE)");
	assert_refused(1, ICX "," EV("count_event", "0x8"), "names an unknown event");
	assert_refused(1, ICX "," EV("reset", "0x1"), "takes no operand");
}

Test(pmu_replay, control_characters_in_an_action_do_not_reach_the_message)
{
	assert_refused(1, ICX "," EV("rd\\nmsr\\u001b", "0x0"), "(host \"rd?msr?\" at 0 ns)");
}

Test(pmu_replay, refuses_several_vcpus)
{
	assert_refused(2, ICX, "set machine.vcpus to 1");
}

Test(pmu_replay, refuses_events_other_than_host_events)
{
	assert_refused(1, ICX ",{\"at_ns\":0,\"irq_line\":{\"gsi\":1,\"level\":1}}",
	               "$.events[9] (irq_line at 0 ns): pmu-replay takes host events only");
}
