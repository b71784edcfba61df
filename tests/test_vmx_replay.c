/* Verifies the vmx-replay algorithm (hv/vmx_replay*.c). Differentially: every fuzz_vmcs_entry seed
 * (fuzz/corpus/fuzz_vmcs_entry/) and committed reproducer (fuzz/crashes/fuzz_vmcs_entry/) is
 * exported as the harness exports it, run on the engine, and the run's "vmx_insn" lines must be
 * the harness's instruction results line for line, its last VMLAUNCH/VMRESUME the harness's
 * fz_vmx_describe_entry line, and its findings the harness's. Then the trace line of each outcome
 * kind (SDM 31.2 conventions: VMsucceed, VMfailInvalid, VMfailValid with its number, #UD, #GP(0),
 * VM-entry failure with exit reason, qualification and check) on small hand-written scenarios, and
 * the input errors: a scenario the replay cannot execute fails VM creation with a message naming
 * the event, and a machine without VMX or with several vCPUs is refused. */
#include <criterion/criterion.h>

#include "test_files.h"

#include "../fuzz/fz_vmx_ops.h"
#include "../models/vmx/vmx_int.h"
#include "../sim/vm_int.h"
#include "vm_fixture.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX   (1u << 20)
#define LINE_MAX_ 1024
#define TEXT_MAX  8192

/* ---- The differential ---- */

/* The harness's instruction results as the trace lines the replay must write. */
struct insn_log {
	char *text;
	size_t len;
};

static void log_insn(void *ctx, const struct vmx_replay_insn_op *op, const struct vmx_result *res)
{
	struct insn_log *l = ctx;
	struct trace_ev e;
	char line[LINE_MAX_];
	size_t n;

	vmx_replay_trace_insn(&e, 0, 0, op, res);
	n = trace_encode(&e, line, sizeof(line));
	if (n && l->len + n < LOG_MAX) {
		memcpy(l->text + l->len, line, n);
		l->len += n;
		l->text[l->len] = '\0';
	}
}

static enum vmx_outcome outcome_named(const char *name)
{
	for (int o = VMX_SUCCEED; o <= VMX_INTERNAL_ERROR; o++)
		if (strcmp(vmx_outcome_name((enum vmx_outcome)o), name) == 0)
			return (enum vmx_outcome)o;
	return VMX_INTERNAL_ERROR;
}

static uint64_t field_u(const struct trace_rec *r, const char *key)
{
	int i = trace_rec_index(r, key);

	return i < 0 ? 0 : r->f[i].u;
}

/* fz_vmx_describe_entry's line, rebuilt from the run's last VMLAUNCH/VMRESUME line. */
static void run_last_entry(const char *lines, char *buf, size_t cap)
{
	const char *last = NULL;
	struct hvsim_error err = {0};
	struct vmx_result res = {0};
	struct trace_rec rec;
	int i;

	for (const char *p = lines; (p = strstr(p, "\"insn\":\"VM")) != NULL; p++)
		if (strncmp(p + 8, "VMLAUNCH\"", 9) == 0 || strncmp(p + 8, "VMRESUME\"", 9) == 0)
			last = p;
	if (!last) {
		snprintf(buf, cap, "no VM entry");
		return;
	}
	while (last > lines && last[-1] != '\n')
		last--;
	cr_assert_eq(trace_parse_line(last, strcspn(last, "\n"), &rec, &err), HVSIM_OK, "%s",
	             err.msg);
	i = trace_rec_index(&rec, "outcome");
	res.outcome = outcome_named(i < 0 ? "" : rec.f[i].s);
	res.error = (uint32_t)field_u(&rec, "error");
	res.exit_reason = (uint32_t)field_u(&rec, "exit_reason");
	res.exit_qual = field_u(&rec, "qualification");
	i = trace_rec_index(&rec, "check");
	res.check = i < 0 ? NULL : rec.f[i].s;
	vmx_replay_describe_entry(&res, buf, cap);
}

static void findings_agree(const char *path, const struct fz_vmx_outcome *o, hvsim_vm *vm)
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
static void differential_bytes(struct fz_vmx_sys *s, const char *path, const uint8_t *data,
                               size_t len)
{
	struct insn_log log = {.text = calloc(1, LOG_MAX)};
	char want_entry[160], got_entry[160], *text, *lines;
	struct fz_vmx_outcome o;
	struct vm_fixture f;
	fz_scn *scn;

	cr_assert(log.text, "out of memory");
	s->log = log_insn;
	s->log_ctx = &log;
	scn = fz_vmx_export_scenario(s, data, len, 1, &o);
	s->log = NULL;
	text = scn ? fz_scn_text(scn) : NULL;
	cr_assert(text, "%s: export out of memory", path);
	fixture_build(&f, text, NULL);
	cr_assert(f.vm, "%s: the exported scenario does not build: %s", path, f.err.msg);
	fixture_run(&f);
	lines = test_lines_with(f.trace, "\"ev\":\"vmx_insn\"");
	cr_assert_str_eq(lines, log.text,
	                 "%s: the run's instructions differ from the harness's:\n"
	                 "run:\n%s\nharness:\n%s",
	                 path, lines, log.text);
	fz_vmx_describe_entry(s, want_entry, sizeof(want_entry));
	run_last_entry(lines, got_entry, sizeof(got_entry));
	cr_assert_str_eq(got_entry, want_entry, "%s: last entry: run %s, harness %s", path,
	                 got_entry, want_entry);
	findings_agree(path, &o, f.vm);
	fixture_free(&f);
	free(lines);
	free(text);
	fz_scn_destroy(scn);
	free(log.text);
}

static void differential_one(struct fz_vmx_sys *s, const char *path)
{
	size_t len;
	uint8_t *data = test_slurp(path, &len);

	cr_assert(data, "%s: cannot read it", path);
	differential_bytes(s, path, data, len);
	free(data);
}

static size_t differential_dir(struct fz_vmx_sys *s, const char *dir)
{
	char pattern[256];
	size_t n = 0;
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/*", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];

		if (strlen(p) > 7 && strcmp(p + strlen(p) - 7, ".expect") == 0)
			continue;
		differential_one(s, p);
		n++;
	}
	globfree(&g);
	return n;
}

Test(vmx_replay, runs_of_exported_seeds_and_reproducers_match_the_harness)
{
	struct fz_vmx_sys s;
	size_t seeds, repros;

	cr_assert_eq(fz_vmx_create(&s), HVSIM_OK, "fz_vmx_create");
	seeds = differential_dir(&s, "fuzz/corpus/fuzz_vmcs_entry");
	repros = differential_dir(&s, "fuzz/crashes/fuzz_vmcs_entry");
	cr_assert(seeds >= 16 && repros >= 1, "wanted every seed and reproducer, got %zu and %zu",
	          seeds, repros);
	fz_vmx_destroy(&s);
}

/* Operations the seeds may not hold: memory writes the harness drops (a revision word beyond the
 * simulated memory, 8 raw bytes across its end), then the state those writes must not have
 * changed; every mode change; a PDPTE and MSR-load entries; INVEPT/INVVPID. */
Test(vmx_replay, runs_of_crafted_inputs_match_the_harness)
{
	static const struct fz_vmx_op ops[] = {
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_REVISION, .addr = UINT64_C(1) << 52, .enc = 2},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_REVISION, .addr = VMX_REPLAY_MEM_BYTES},
	    {.kind = FZ_VMX_MEM,
	     .src = FZ_VMX_MEM_RAW,
	     .addr = VMX_REPLAY_MEM_BYTES - 4,
	     .value = 1},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_RAW, .addr = 0x2ffc, .value = 0},
	    {.kind = FZ_VMX_VMPTRLD, .value = VMX_REPLAY_PA_VMCS2},
	    {.kind = FZ_VMX_VMPTRLD, .value = VMX_REPLAY_PA_VMCS},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_MSR_LOAD, .addr = 1, .enc = 0x174, .value = 1},
	    {.kind = FZ_VMX_VMWRITE, .enc = VMCS_VM_ENTRY_MSR_LOAD_COUNT, .value = 2},
	    {.kind = FZ_VMX_VMLAUNCH},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_PDPTE, .addr = 2, .value = 0x181},
	    {.kind = FZ_VMX_INVEPT, .enc = 1, .value = VMX_REPLAY_PA_EPT_PML4 | 0x1e},
	    {.kind = FZ_VMX_INVVPID, .enc = 2, .value = 1, .addr = 0x401000},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_CPL, .value = 3},
	    {.kind = FZ_VMX_VMREAD, .enc = VMCS_GUEST_RIP},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_FIXTURE},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_VMXE},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_PE},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_VM86},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_COMPAT},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_MOV_SS},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_SMM},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_X2APIC},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_FEATCTL, .value = 1},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_CR0_NE},
	    {.kind = FZ_VMX_VMRESUME},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_FIXTURE},
	    {.kind = FZ_VMX_VMXOFF},
	    {.kind = FZ_VMX_VMXON, .value = VMX_REPLAY_PA_VMXON},
	    {.kind = FZ_VMX_VMPTRST},
	};
	uint8_t b[1024];
	struct fz_vmx_sys s;
	struct fz_out o;

	fz_out_init(&o, b, sizeof(b));
	fz_put(&o, 1, 1); /* the second profile */
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		fz_vmx_encode(&o, &ops[i]);
	cr_assert(!o.overflow, "the operations do not fit %zu bytes", sizeof(b));
	cr_assert_eq(fz_vmx_create(&s), HVSIM_OK, "fz_vmx_create");
	differential_bytes(&s, "crafted", b, o.len);
	fz_vmx_destroy(&s);
}

/* ---- Trace lines ---- */

static const char scenario_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"%s\",\"vcpus\":%u},"
    "\"hypervisor\":{\"algorithm\":\"vmx-replay\"},\"guest\":{\"script\":{\"main\":[]}},"
    "\"events\":[%s],\"oracles\":{\"invariants\":{\"enabled\":true}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":10},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

#define EV(action, arg) \
	"{\"at_ns\":0,\"host\":{\"action\":\"" action "\",\"vcpu\":0,\"arg\":\"" arg "\"}}"
#define FIXTURE EV("vmx_fixture", "0x0")

static void build(struct vm_fixture *f, const char *cpu, unsigned vcpus, const char *events)
{
	char text[TEXT_MAX];

	snprintf(text, sizeof(text), scenario_fmt, cpu, vcpus, events);
	fixture_build(f, text, NULL);
}

static void run_events(struct vm_fixture *f, const char *events)
{
	build(f, "intel-icelake-server", 1, events);
	cr_assert(f->vm, "%s: %s", events, f->err.msg);
	fixture_run(f);
}

static void assert_line(const char *events, const char *want)
{
	struct vm_fixture f;

	run_events(&f, events);
	cr_assert(strstr(f.trace, want), "events %s: wanted the line\n%s\ngot the trace\n%s",
	          events, want, f.trace);
	cr_assert_eq(hvsim_vm_summary(f.vm)->n_findings, 0, "events %s: wanted no finding", events);
	fixture_free(&f);
}

/* SDM 31.3 VMREAD: VMsucceed with the field's value (GUEST_RIP 0x681e holds the fixture's). */
Test(vmx_replay, vmread_line_carries_the_value_read)
{
	assert_line(
	    FIXTURE "," EV("vmread", "0x681e"),
	    "{\"t\":0,\"vcpu\":0,\"ev\":\"vmx_insn\",\"insn\":\"VMREAD\",\"field\":\"0x681e\","
	    "\"outcome\":\"VMsucceed\",\"result\":\"0x401000\"}\n");
}

/* SDM 31.3 VMWRITE: the line names field and value. */
Test(vmx_replay, vmwrite_line_carries_field_and_value)
{
	assert_line(FIXTURE "," EV("vmwrite_field", "0x681e") "," EV("vmwrite_value", "0x402000"),
	            "\"insn\":\"VMWRITE\",\"field\":\"0x681e\",\"value\":\"0x402000\","
	            "\"outcome\":\"VMsucceed\"}\n");
}

/* SDM 31.3 VMXON: in VMX root operation, VMfailValid(15) "VMXON executed in VMX root operation". */
Test(vmx_replay, vmfail_valid_line_carries_the_error_number)
{
	assert_line(
	    FIXTURE "," EV("vmxon", "0x1000"),
	    "\"insn\":\"VMXON\",\"addr\":\"0x1000\",\"outcome\":\"VMfailValid\",\"error\":15");
}

/* SDM 31.3 VMREAD: without a current VMCS (VMCLEAR of the current one invalidates it),
 * VMfailInvalid. */
Test(vmx_replay, vmfail_invalid_after_clearing_the_current_vmcs)
{
	assert_line(FIXTURE "," EV("vmclear", "0x2000") "," EV("vmread", "0x681e"),
	            "\"insn\":\"VMREAD\",\"field\":\"0x681e\",\"outcome\":\"VMfailInvalid\"");
}

/* SDM 31.3 VMREAD: outside VMX operation, #UD. */
Test(vmx_replay, ud_outside_vmx_operation)
{
	assert_line(FIXTURE "," EV("vmxoff", "0x0") "," EV("vmread", "0x681e"),
	            "\"insn\":\"VMREAD\",\"field\":\"0x681e\",\"outcome\":\"#UD\"");
}

/* SDM 31.3 VMPTRST: at CPL > 0 in VMX root operation, #GP(0). */
Test(vmx_replay, gp_at_cpl_3)
{
	assert_line(FIXTURE "," EV("vmx_mode_cpl", "0x3") "," EV("vmptrst", "0x0"),
	            "\"insn\":\"VMPTRST\",\"outcome\":\"#GP(0)\"");
}

/* SDM 27.3.1.5: the VMCS link pointer equal to the current-VMCS pointer fails the entry with exit
 * reason 33 (bit 31 set) and qualification 4 (SDM 27.8). */
Test(vmx_replay, entry_failure_line_carries_reason_qualification_and_check)
{
	assert_line(FIXTURE "," EV("vmwrite_field", "0x2800") "," EV(
	                "vmwrite_value", "0x2000") "," EV("vmlaunch", "0x0"),
	            "\"insn\":\"VMLAUNCH\",\"outcome\":\"VM-entry failure\",\"exit_reason\":"
	            "\"0x80000021\",\"qualification\":\"0x4\",\"check\":"
	            "\"vmx_check_guest_link_ptr_current\"}\n");
}

/* The fixture enters (SDM 27: every check passes); a memory write of a revision word of 0 to the
 * second region makes its VMPTRLD fail with VMfailValid(11) (SDM 31.3 VMPTRLD). */
Test(vmx_replay, memory_writes_reach_the_model)
{
	assert_line(
	    FIXTURE "," EV("mem_write_addr", "0x3000") "," EV("mem_write32_value",
	                                                      "0x0") "," EV("vmptrld", "0x3000"),
	    "\"insn\":\"VMPTRLD\",\"addr\":\"0x3000\",\"outcome\":\"VMfailValid\",\"error\":11");
}

Test(vmx_replay, the_vcpu_stops_after_the_last_event)
{
	assert_line(FIXTURE "," EV("vmlaunch", "0x0"),
	            "{\"t\":0,\"vcpu\":0,\"ev\":\"vcpu_stop\",\"reason\":\"replay finished\"}\n");
}

/* The first named invariant an instruction broke is the run's invariant_violation, its name first
 * in the detail (docs/fuzzing.md, export mapping rule 8). The model keeps every invariant, so the
 * test breaks the live machine between two events: a current VMCS outside VMX operation is what
 * vmx_cpu_consistent forbids (SDM 24.11), and the VMREAD after it finds it. */
Test(vmx_replay, a_broken_invariant_is_the_runs_invariant_violation)
{
	static const char want[] = "vmx_cpu_consistent: vmread: outside VMX operation";
	const struct hvsim_summary *s;
	struct vmx_replay *r;
	struct vm_fixture f;

	build(&f, "intel-icelake-server", 1,
	      FIXTURE ",{\"at_ns\":500,\"host\":{\"action\":\"vmread\",\"vcpu\":0,\"arg\":"
	              "\"0x681e\"}}");
	cr_assert(f.vm, "%s", f.err.msg);
	hvsim_vm_step(f.vm, 1); /* the fixture at 0 ns */
	r = f.vm->hv_priv;
	r->live.cpu->in_vmx = false;
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

static void assert_refused(const char *cpu, unsigned vcpus, const char *events, const char *want)
{
	struct vm_fixture f;

	build(&f, cpu, vcpus, events);
	cr_assert_null(f.vm, "events %s: wanted VM creation to fail", events);
	cr_assert_eq(f.err.status, HVSIM_E_INPUT, "events %s: wanted an input error, got %d: %s",
	             events, f.err.status, f.err.msg);
	cr_assert(strstr(f.err.msg, want), "events %s: wanted a message with\n%s\ngot\n%s", events,
	          want, f.err.msg);
	cr_assert_null(strchr(f.err.msg, '\n'), "message on one line: %s", f.err.msg);
	fixture_free(&f);
}

Test(vmx_replay, an_unknown_action_is_an_input_error_naming_the_event)
{
	assert_refused("intel-icelake-server", 1, FIXTURE "," EV("vmwrote", "0x0"),
	               "$.events[1] (host \"vmwrote\" at 0 ns): is not an action vmx-replay "
	               "executes");
}

Test(vmx_replay, an_action_before_the_fixture_is_an_input_error)
{
	assert_refused("intel-icelake-server", 1, EV("vmlaunch", "0x0"),
	               "$.events[0] (host \"vmlaunch\" at 0 ns): comes before vmx_fixture");
}

Test(vmx_replay, a_vmwrite_field_without_its_value_is_an_input_error)
{
	assert_refused(
	    "intel-icelake-server", 1,
	    FIXTURE "," EV("vmwrite_field", "0x681e") "," EV("vmread", "0x681e"),
	    "$.events[2] (host \"vmread\" at 0 ns): came where the operation's next part");
	assert_refused("intel-icelake-server", 1, FIXTURE "," EV("vmwrite_field", "0x681e"),
	               "$.events[1] (host \"vmwrite_field\" at 0 ns): the events end before");
}

Test(vmx_replay, operands_the_fixture_cannot_take_are_input_errors)
{
	assert_refused("intel-icelake-server", 1, FIXTURE "," EV("mem_write_pdpte", "0x4"),
	               "names a PDPTE other than 0-3");
	assert_refused("intel-icelake-server", 1, FIXTURE "," EV("vmlaunch", "0x1"),
	               "takes no operand");
	assert_refused(
	    "intel-icelake-server", 1,
	    FIXTURE "," EV("mem_write_addr", "0x3000") "," EV("mem_write32_value", "0x100000000"),
	    "writes more than 32 bits");
}

Test(vmx_replay, control_characters_in_an_action_do_not_reach_the_message)
{
	assert_refused("intel-icelake-server", 1, FIXTURE "," EV("vm\\nread\\u001b", "0x0"),
	               "(host \"vm?read?\" at 0 ns)");
}

Test(vmx_replay, refuses_a_machine_without_vmx)
{
	assert_refused("generic", 1, FIXTURE, "vmx-replay needs VMX: set machine.cpu");
}

Test(vmx_replay, refuses_several_vcpus)
{
	assert_refused("intel-icelake-server", 2, FIXTURE, "set machine.vcpus to 1");
}

Test(vmx_replay, refuses_events_other_than_host_events)
{
	assert_refused("intel-icelake-server", 1,
	               FIXTURE ",{\"at_ns\":0,\"irq_line\":{\"gsi\":1,\"level\":1}}",
	               "$.events[1] (irq_line at 0 ns): vmx-replay takes host events only");
}
