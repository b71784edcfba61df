/* Verifies the tdx-replay algorithm (hv/tdx_replay*.c). Differentially: every fuzz_tdx_seamcall
 * seed (fuzz/corpus/fuzz_tdx_seamcall/) and committed reproducer (fuzz/crashes/fuzz_tdx_seamcall/)
 * is exported as the harness exports it and run on the engine; the run's "tdx_call" lines must be
 * the harness's calls (the executor's steps, rendered by the same trace function) line for line,
 * and its findings the harness's. Then the trace line of each call kind (TDX module ABI: a
 * SEAMCALL's status and outputs, TDX_SW_UD from an LP past the configured ones or a TDCALL from
 * the host, a TD exit with nothing to end), a broken invariant as the run's invariant_violation,
 * and the input errors: a scenario the replay cannot execute fails VM creation with a message
 * naming the event, and a machine with several vCPUs is refused. */
#include <criterion/criterion.h>

#include "test_files.h"

#include "../fuzz/fz_tdx.h"
#include "../sim/vm_int.h"
#include "vm_fixture.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX   (1u << 20)
#define LINE_MAX_ 1024
#define TEXT_MAX  8192

/* ---- The differential ---- */

/* The harness's calls as the trace lines the replay must write. */
struct call_log {
	char *text;
	size_t len;
	unsigned calls[3]; /* by enum tdx_replay_call */
};

static void log_call(void *ctx, const struct tdx_replay_step *st)
{
	struct call_log *l = ctx;
	struct trace_ev e;
	char line[LINE_MAX_];
	size_t n;

	tdx_replay_trace_call(&e, 0, 0, st);
	n = trace_encode(&e, line, sizeof(line));
	l->calls[st->call % 3]++;
	if (n && l->len + n < LOG_MAX) {
		memcpy(l->text + l->len, line, n);
		l->len += n;
		l->text[l->len] = '\0';
	}
}

static void findings_agree(const char *path, const struct fz_tdx_outcome *o, hvsim_vm *vm)
{
	const struct hvsim_summary *s = hvsim_vm_summary(vm);

	if (!o->kind) {
		cr_assert_eq(s->n_findings, 0, "%s: harness found nothing, the run found %s", path,
		             s->n_findings ? s->findings[0].kind : "-");
		return;
	}
	cr_assert(s->n_findings >= 1 && strcmp(s->findings[0].kind, "invariant_violation") == 0 &&
	              strncmp(s->findings[0].detail, o->kind, strlen(o->kind)) == 0,
	          "%s: harness found %s, the run %s (%s)", path, o->kind,
	          s->n_findings ? s->findings[0].kind : "nothing",
	          s->n_findings ? s->findings[0].detail : "-");
}

/* Exports one input (path names it) as the harness does, runs it, compares. */
static void differential_bytes(struct fz_tdx_sys *s, struct call_log *log, const char *path,
                               const uint8_t *data, size_t len)
{
	struct fz_tdx_outcome o, o2;
	struct vm_fixture f;
	char *text, *lines;
	fz_scn *scn;

	scn = fz_tdx_export_scenario(s, data, len, 1, &o);
	text = scn ? fz_scn_text(scn) : NULL;
	cr_assert(text, "%s: export out of memory", path);
	log->len = 0;
	log->text[0] = '\0';
	s->log = log_call;
	s->log_ctx = log;
	fz_tdx_run(s, data, len, &o2);
	s->log = NULL;
	fixture_build(&f, text, NULL);
	cr_assert(f.vm, "%s: the exported scenario does not build: %s", path, f.err.msg);
	fixture_run(&f);
	lines = test_lines_with(f.trace, "\"ev\":\"tdx_call\"");
	cr_assert_str_eq(lines, log->text,
	                 "%s: the run's calls differ from the harness's:\nrun:\n%s\nharness:\n%s",
	                 path, lines, log->text);
	findings_agree(path, &o, f.vm);
	fixture_free(&f);
	free(lines);
	free(text);
	fz_scn_destroy(scn);
}

static size_t differential_dir(struct fz_tdx_sys *s, struct call_log *log, const char *dir)
{
	char pattern[256];
	size_t n = 0, len;
	uint8_t *data;
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/*", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

		if (strlen(p) > 7 && strcmp(p + strlen(p) - 7, ".expect") == 0)
			continue;
		data = test_slurp(p, &len);
		cr_assert(data, "%s: cannot read it", p);
		differential_bytes(s, log, p, data, len);
		free(data);
		n++;
	}
	globfree(&g);
	return n;
}

Test(tdx_replay, runs_of_exported_seeds_and_reproducers_match_the_harness)
{
	struct call_log log = {.text = calloc(1, LOG_MAX)};
	struct fz_tdx_sys s;
	size_t seeds, repros;

	cr_assert(log.text, "out of memory");
	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	seeds = differential_dir(&s, &log, "fuzz/corpus/fuzz_tdx_seamcall");
	repros = differential_dir(&s, &log, "fuzz/crashes/fuzz_tdx_seamcall");
	cr_assert(seeds >= 10 && repros >= 1, "wanted every seed and reproducer, got %zu and %zu",
	          seeds, repros);
	cr_assert(log.calls[TDX_REPLAY_SEAMCALL] && log.calls[TDX_REPLAY_TDCALL] &&
	              log.calls[TDX_REPLAY_TD_EXIT],
	          "wanted every call kind compared, got %u SEAMCALLs, %u TDCALLs, %u exits",
	          log.calls[0], log.calls[1], log.calls[2]);
	fz_tdx_destroy(&s);
	free(log.text);
}

/* docs/fuzzing.md "fuzz_tdx_seamcall", Export: the scenario names tdx-replay, one vCPU, the
 * invariants oracle on, no expected finding for an input without one, and the seed's
 * configuration as the first events, closed by tdx_module. */
Test(tdx_replay, an_export_runs_on_tdx_replay_with_the_invariants_oracle)
{
	static const char *const first[] = {"tdx_lps",         "tdx_packages",   "tdx_mem_pages",
	                                    "tdx_hkid_first",  "tdx_hkid_count", "tdx_tdcs_pages",
	                                    "tdx_tdvps_pages", "tdx_module"};
	const char *path = "fuzz/corpus/fuzz_tdx_seamcall/kvm-build-teardown";
	struct fz_tdx_outcome o;
	struct fz_tdx_sys s;
	struct vm_fixture f;
	uint8_t *data;
	char *text;
	fz_scn *scn;
	size_t len;

	data = test_slurp(path, &len);
	cr_assert(data, "%s: cannot read it", path);
	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	scn = fz_tdx_export_scenario(&s, data, len, 1, &o);
	text = scn ? fz_scn_text(scn) : NULL;
	cr_assert(text, "export out of memory");
	fixture_build(&f, text, NULL);
	cr_assert(f.vm, "%s: %s", path, f.err.msg);
	cr_assert_str_eq(f.sc->hv.algorithm, "tdx-replay", "algorithm");
	cr_assert(f.sc->machine.vcpus == 1 && f.sc->oracles.invariants,
	          "wanted 1 vCPU and invariants on, got %u and %d", f.sc->machine.vcpus,
	          f.sc->oracles.invariants);
	cr_assert(f.sc->n_runs == 1 && f.sc->runs[0].n_findings == 0,
	          "wanted one run expecting nothing, got %zu runs", f.sc->n_runs);
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		cr_assert(f.sc->events[i].kind == SEV_HOST &&
		              strcmp(f.sc->events[i].action, first[i]) == 0,
		          "event %zu: wanted %s, got %s", i, first[i],
		          f.sc->events[i].kind == SEV_HOST ? f.sc->events[i].action : "not host");
	fixture_free(&f);
	free(text);
	fz_scn_destroy(scn);
	fz_tdx_destroy(&s);
	free(data);
}

/* ---- Trace lines ---- */

static const char scenario_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"vcpus\":%u},"
    "\"hypervisor\":{\"algorithm\":\"tdx-replay\"},\"guest\":{\"script\":{\"main\":[]}},"
    "\"events\":[%s],\"oracles\":{\"invariants\":{\"enabled\":true}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":10},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

#define EVT(t, action, arg) \
	"{\"at_ns\":" t ",\"host\":{\"action\":\"" action "\",\"vcpu\":0,\"arg\":\"" arg "\"}}"
#define EV(action, arg) EVT("0", action, arg)
/* 2 LPs in 1 package, 64 pages, HKIDs 32-39, 1 TDCS and 1 TDVPS page. */
#define CONFIG_NO_MODULE                                                      \
	EV("tdx_lps", "0x2")                                                  \
	"," EV("tdx_packages", "0x1") "," EV("tdx_mem_pages", "0x40") "," EV( \
	    "tdx_hkid_first", "0x20") "," EV("tdx_hkid_count",                \
	                                     "0x8") "," EV("tdx_tdcs_pages",  \
	                                                   "0x1") "," EV("tdx_tdvps_pages", "0x1")
#define CONFIG CONFIG_NO_MODULE "," EV("tdx_module", "0x0")

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

/* TDX ABI TDH.SYS.INIT: the first SEAMCALL of a fresh module succeeds. */
Test(tdx_replay, seamcall_line_carries_leaf_registers_status_and_outputs)
{
	assert_line(CONFIG
	            "," EV("tdx_rax", "0x21") "," EV("tdx_rcx", "0x5") "," EV("seamcall", "0x1"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"tdx_call\",\"call\":\"seamcall\",\"leaf\":"
	            "\"TDH.SYS.INIT\",\"lp\":1,\"rax\":\"0x21\",\"rcx\":\"0x5\",\"rdx\":\"0x0\","
	            "\"r8\":\"0x0\",\"r9\":\"0x0\",\"status\":\"TDX_SUCCESS\",\"status_value\":"
	            "\"0x0\",\"out_rcx\":\"0x5\",\"out_rdx\":\"0x0\",\"out_r8\":\"0x0\"}\n");
}

/* tdx_seamcall's contract: an LP past the configured count gives TDX_SW_UD. */
Test(tdx_replay, seamcall_from_an_lp_past_the_configured_ones_is_sw_ud)
{
	assert_line(CONFIG "," EV("tdx_rax", "0x21") "," EV("seamcall", "0x7"),
	            "\"leaf\":\"TDH.SYS.INIT\",\"lp\":7,\"rax\":\"0x21\",\"rcx\":\"0x0\","
	            "\"rdx\":\"0x0\",\"r8\":\"0x0\",\"r9\":\"0x0\",\"status\":\"TDX_SW_UD\"");
}

/* TDCALL outside a TD (no TDH.VP.ENTER ran): TDX_SW_UD, no TD exit. */
Test(tdx_replay, tdcall_from_the_host_is_sw_ud_without_an_exit)
{
	assert_line(CONFIG
	            "," EV("tdx_rax", "0x1") "," EV("tdx_r11", "0x3") "," EV("tdcall", "0x0"),
	            "\"call\":\"tdcall\",\"leaf\":\"TDG.VP.INFO\",\"lp\":0,\"rax\":\"0x1\","
	            "\"rcx\":\"0x0\",\"rdx\":\"0x0\",\"r11\":\"0x3\",\"status\":\"TDX_SW_UD\"");
	assert_line(CONFIG "," EV("tdx_rax", "0x1") "," EV("tdcall", "0x0"), "\"exited\":false}");
}

/* An interrupt on an LP running no TD ends nothing. */
Test(tdx_replay, td_exit_of_an_lp_in_the_host_exits_nothing)
{
	assert_line(CONFIG "," EV("td_exit", "0x1"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"tdx_call\",\"call\":\"td_exit\",\"lp\":1,"
	            "\"exited\":false}\n");
}

/* Staged registers belong to one call: the next starts from 0. */
Test(tdx_replay, registers_are_staged_for_one_call_only)
{
	assert_line(CONFIG "," EV("tdx_rax", "0x21") "," EV("tdx_rcx", "0x5") "," EV(
	                "seamcall", "0x0") "," EV("tdx_rax", "0x21") "," EV("seamcall", "0x0"),
	            "\"lp\":0,\"rax\":\"0x21\",\"rcx\":\"0x0\"");
}

Test(tdx_replay, the_vcpu_stops_after_the_last_event)
{
	assert_line(CONFIG "," EV("td_exit", "0x0"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"vcpu_stop\",\"reason\":\"replay finished\"}\n");
}

/* The first named invariant a call broke is the run's invariant_violation, its name first in the
 * detail. The model keeps every invariant, so the test breaks the live module between two events:
 * a page typed PT_REG naming no live TD is what tdx_check forbids, and the call after finds it. */
Test(tdx_replay, a_broken_invariant_is_the_runs_invariant_violation)
{
	static const char want[] = "tdx_check: ";
	const struct hvsim_summary *s;
	struct tdx_replay *r;
	struct vm_fixture f;

	build(&f, 1, CONFIG "," EVT("500", "td_exit", "0x0"));
	cr_assert(f.vm, "%s", f.err.msg);
	r = f.vm->hv_priv;
	for (unsigned i = 0; i < 100 && r->run.done < 8; i++)
		hvsim_vm_step(f.vm, 1); /* the configuration at 0 ns */
	cr_assert_eq(r->run.done, 8, "the configuration's events ran");
	r->mc.m->pamt[40].pt = PT_REG;
	r->mc.m->pamt[40].td = 0;
	fixture_run(&f);
	s = hvsim_vm_summary(f.vm);
	cr_assert(s->n_findings == 1 && strcmp(s->findings[0].kind, "invariant_violation") == 0 &&
	              strncmp(s->findings[0].detail, want, strlen(want)) == 0,
	          "wanted invariant_violation \"%s...\", got %zu findings: %s %s", want,
	          s->n_findings, s->n_findings ? s->findings[0].kind : "-",
	          s->n_findings ? s->findings[0].detail : "-");
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

Test(tdx_replay, an_unknown_action_is_an_input_error_naming_the_event)
{
	assert_refused(1, CONFIG "," EV("seamcal", "0x0"),
	               "$.events[8] (host \"seamcal\" at 0 ns): is not an action tdx-replay "
	               "executes");
}

Test(tdx_replay, a_call_before_tdx_module_is_an_input_error)
{
	assert_refused(1, EV("tdx_rax", "0x21") "," EV("seamcall", "0x0"),
	               "$.events[0] (host \"tdx_rax\" at 0 ns): comes before tdx_module");
	assert_refused(1, EV("tdx_lps", "0x1") "," EV("tdx_module", "0x0"),
	               "$.events[1] (host \"tdx_module\" at 0 ns): comes before every "
	               "configuration field");
}

Test(tdx_replay, a_configuration_the_model_refuses_is_an_input_error_naming_the_event)
{
	assert_refused(
	    1,
	    EV("tdx_lps", "0x9") "," EV("tdx_packages", "0x1") "," EV(
	        "tdx_mem_pages",
	        "0x40") "," EV("tdx_hkid_first",
	                       "0x20") "," EV("tdx_hkid_count",
	                                      "0x8") "," EV("tdx_tdcs_pages",
	                                                    "0x1") "," EV("tdx_tdvps_pages",
	                                                                  "0x1") "," EV("tdx_"
	                                                                                "module",
	                                                                                "0x0"),
	    "$.events[7] (host \"tdx_module\" at 0 ns): ");
}

Test(tdx_replay, operands_a_call_cannot_take_are_input_errors)
{
	assert_refused(1, CONFIG "," EV("tdx_rax", "0x21") "," EV("seamcall", "0x8"),
	               "names an LP past TDX_LP_MAX");
	assert_refused(
	    1, CONFIG "," EV("tdx_rax", "0x21") "," EV("tdx_r11", "0x1") "," EV("seamcall", "0x0"),
	    "$.events[10] (host \"seamcall\" at 0 ns): has a staged register the call "
	    "does not take");
	assert_refused(1, CONFIG "," EV("tdx_rcx", "0x1") "," EV("seamcall", "0x0"),
	               "has no leaf: stage it with tdx_rax");
	assert_refused(1, CONFIG "," EV("tdx_rax", "0x21") "," EV("tdx_rax", "0x21"),
	               "stages a register twice");
	assert_refused(1, CONFIG "," EV("tdx_module", "0x1"), "takes no operand");
}

Test(tdx_replay, events_ending_inside_a_call_are_an_input_error)
{
	assert_refused(1, CONFIG "," EV("tdx_rax", "0x21"),
	               "$.events[8] (host \"tdx_rax\" at 0 ns): the events end with staged "
	               "registers");
	assert_refused(1, CONFIG_NO_MODULE, "the events end before tdx_module");
}

Test(tdx_replay, control_characters_in_an_action_do_not_reach_the_message)
{
	assert_refused(1, CONFIG "," EV("sea\\nmcall\\u001b", "0x0"),
	               "(host \"sea?mcall?\" at 0 ns)");
}

Test(tdx_replay, refuses_several_vcpus)
{
	assert_refused(2, CONFIG, "set machine.vcpus to 1");
}

Test(tdx_replay, refuses_events_other_than_host_events)
{
	assert_refused(1, CONFIG ",{\"at_ns\":0,\"irq_line\":{\"gsi\":1,\"level\":1}}",
	               "$.events[8] (irq_line at 0 ns): tdx-replay takes host events only");
}
