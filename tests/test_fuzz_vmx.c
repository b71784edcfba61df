/* Verifies the fuzz_vmcs_entry machinery (fuzz/fz_vmx*.c over hv/vmx_replay*.c): the known-good
 * fixture enters on every embedded profile and a reset restores it; every named VMX invariant holds
 * on real results and fails on a result or state built to break exactly its rule; the decoder reads
 * back what the encoder writes; each hand-made seed runs without a finding, reaches the outcomes
 * its name promises and is deterministic; the export writes host events the scenario loader
 * accepts. */
#include <criterion/criterion.h>

#include "../fuzz/fz_vmx_seeds.h"
#include "../models/vmx/vmx_int.h"

#include <hvsim/exit_reason.h>
#include <hvsim/scenario.h>

#include <stdlib.h>
#include <string.h>

#define WHY 512

struct fx {
	struct fz_vmx_sys s;
	char why[WHY];
};

static void fx_init(struct fx *x, unsigned profile)
{
	struct hvsim_error err = {0};

	cr_assert_eq(fz_vmx_create(&x->s), HVSIM_OK, "fz_vmx_create");
	cr_assert_eq(fz_vmx_load(&x->s, profile, &err), HVSIM_OK, "fz_vmx_load %u: %s", profile,
	             err.msg);
}

static void fx_fini(struct fx *x)
{
	fz_vmx_destroy(&x->s);
}

/* ---- The fixture ---- */

Test(fuzz_vmx, fixture_enters_on_every_profile)
{
	for (unsigned p = 0; p < fz_vmx_profile_count(); p++) {
		struct vmx_result r;
		struct fx x;

		fx_init(&x, p);
		vmx_vmlaunch(x.s.m.cpu, &r);
		cr_assert_eq(r.outcome, VMX_ENTERED, "%s: wanted entered, got %s from %s [%s]",
		             vmx_profile_names()[p], vmx_outcome_name(r.outcome),
		             r.check ? r.check : "-", r.cond ? r.cond : "-");
		fx_fini(&x);
	}
}

Test(fuzz_vmx, load_restores_the_fixture_after_changes)
{
	struct hvsim_error err = {0};
	struct vmx_result r;
	uint32_t junk = 0;
	struct fx x;

	fx_init(&x, 0);
	vmx_vmwrite(x.s.m.cpu, VMCS_GUEST_RFLAGS, 0, &r);
	vmx_vmlaunch(x.s.m.cpu, &r);
	vmx_replay_mem_write(&x.s.m, VMX_REPLAY_PA_VMCS, &junk, sizeof(junk));
	vmx_vmxoff(x.s.m.cpu, &r);
	cr_assert_eq(fz_vmx_load(&x.s, 0, &err), HVSIM_OK, "reload: %s", err.msg);
	vmx_vmlaunch(x.s.m.cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED, "after reload: wanted entered, got %s from %s",
	             vmx_outcome_name(r.outcome), r.check ? r.check : "-");
	fx_fini(&x);
}

/* ---- Invariants ---- */

Test(fuzz_vmx, vmcs_field_width_rejects_bits_beyond_16_and_32)
{
	struct vmx_result r = {.outcome = VMX_SUCCEED, .value = 0xffff};
	char why[WHY];

	cr_assert(vmx_replay_inv_field_width(VMCS_GUEST_ES_SELECTOR, &r, why, WHY), "16 bits: %s",
	          why);
	r.value = 0x10000;
	cr_assert(!vmx_replay_inv_field_width(VMCS_GUEST_ES_SELECTOR, &r, why, WHY),
	          "GUEST_ES_SELECTOR read 0x10000: wanted a violation");
	r.value = UINT64_C(1) << 32;
	cr_assert(!vmx_replay_inv_field_width(VMCS_TSC_OFFSET | 1, &r, why, WHY),
	          "TSC_OFFSET_HIGH read 1 << 32: wanted a violation");
	cr_assert(vmx_replay_inv_field_width(VMCS_GUEST_RIP, &r, why, WHY), "natural width: %s",
	          why);
}

Test(fuzz_vmx, roundtrip_detects_a_high_write_that_clobbers_the_low_half)
{
	struct vmx_replay_before b;
	struct vmx_result r;
	struct fx x;

	fx_init(&x, 0);
	vmx_vmwrite(x.s.m.cpu, VMCS_TSC_OFFSET, 0x1111, &r);
	vmx_replay_before_take(x.s.m.cpu, &b);
	vmx_vmwrite(x.s.m.cpu, VMCS_TSC_OFFSET | 1, 0x2222, &r);
	cr_assert(vmx_replay_inv_roundtrip(x.s.m.cpu, VMCS_TSC_OFFSET | 1, 0x2222, &b, x.why, WHY),
	          "high write: %s", x.why);
	vmx_vmcs_set(x.s.m.cpu, VMCS_TSC_OFFSET, UINT64_C(0x2222) << 32);
	cr_assert(!vmx_replay_inv_roundtrip(x.s.m.cpu, VMCS_TSC_OFFSET | 1, 0x2222, &b, x.why, WHY),
	          "low half lost: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, vm_instruction_error_known_rejects_unassigned_numbers)
{
	struct vmx_replay_before b;
	struct vmx_result r = {.outcome = VMX_FAIL_VALID, .error = 14};
	struct fx x;

	fx_init(&x, 0);
	vmx_vmcs_set(x.s.m.cpu, VMCS_VM_INSTRUCTION_ERROR, 14);
	vmx_replay_before_take(x.s.m.cpu, &b);
	cr_assert(!vmx_replay_inv_error(x.s.m.cpu, &b, &r, x.why, WHY),
	          "error 14 (unassigned in SDM 31.4): wanted a violation");
	r.error = 12;
	vmx_vmcs_set(x.s.m.cpu, VMCS_VM_INSTRUCTION_ERROR, 12);
	cr_assert(vmx_replay_inv_error(x.s.m.cpu, &b, &r, x.why, WHY), "error 12: %s", x.why);
	vmx_vmcs_set(x.s.m.cpu, VMCS_VM_INSTRUCTION_ERROR, 0);
	cr_assert(!vmx_replay_inv_error(x.s.m.cpu, &b, &r, x.why, WHY),
	          "error 12 not stored in VM_INSTRUCTION_ERROR: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, entry_outcome_group_matches_error_and_group)
{
	struct vmx_result r;
	struct fx x;

	fx_init(&x, 0);
	vmx_vmwrite(x.s.m.cpu, VMCS_HOST_RIP, UINT64_C(0x0100000000000000), &r);
	vmx_vmlaunch(x.s.m.cpu, &r);
	cr_assert(r.outcome == VMX_FAIL_VALID && r.error == 8, "non-canonical host RIP: error 8");
	cr_assert(vmx_replay_inv_entry_group(x.s.m.cpu, &r, x.why, WHY), "real result: %s", x.why);
	r.group = VMX_GROUP_CTRL;
	cr_assert(!vmx_replay_inv_entry_group(x.s.m.cpu, &r, x.why, WHY),
	          "error 8 from a control check: wanted a violation");
	r.outcome = VMX_ENTRY_FAIL_EXIT;
	r.exit_reason = VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE;
	r.group = VMX_GROUP_GUEST;
	r.exit_qual = 1;
	cr_assert(!vmx_replay_inv_entry_group(x.s.m.cpu, &r, x.why, WHY),
	          "exit 33 with qualification 1 (not in SDM 27.8): wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, entry_checks_pure_detects_a_result_the_checks_do_not_give)
{
	struct vmx_result r;
	struct fx x;

	fx_init(&x, 0);
	vmx_vmlaunch(x.s.m.cpu, &r);
	cr_assert(vmx_replay_inv_checks_pure(x.s.m.cpu, &r, x.why, WHY), "entered: %s", x.why);
	vmx_vmcs_set(x.s.m.cpu, VMCS_GUEST_RFLAGS, 0); /* as if the entry had loaded bad state */
	cr_assert(!vmx_replay_inv_checks_pure(x.s.m.cpu, &r, x.why, WHY),
	          "entered, but the checks now fail: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, entered_state_consistent_is_a_second_opinion_on_entries)
{
	struct vmx_result r;
	struct fx x;

	fx_init(&x, 0);
	vmx_vmlaunch(x.s.m.cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED, "fixture enters");
	cr_assert(vmx_replay_inv_entered(x.s.m.cpu, &r, x.why, WHY), "fixture: %s", x.why);
	vmx_vmcs_set(x.s.m.cpu, VMCS_VMCS_LINK_POINTER, VMX_REPLAY_PA_VMCS);
	cr_assert(!vmx_replay_inv_entered(x.s.m.cpu, &r, x.why, WHY),
	          "entered with the link pointer at the current VMCS (SDM 27.3.1.5): wanted a "
	          "violation");
	vmx_vmcs_set(x.s.m.cpu, VMCS_VMCS_LINK_POINTER, UINT64_MAX);
	vmx_vmcs_set(x.s.m.cpu, VMCS_GUEST_RFLAGS, 0x2 | (UINT64_C(1) << 15));
	cr_assert(!vmx_replay_inv_entered(x.s.m.cpu, &r, x.why, WHY),
	          "entered with RFLAGS bit 15 set (SDM 27.3.1.4): wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, launch_state_legal_detects_an_illegal_change)
{
	struct vmx_replay_before b;
	struct vmx_result r = {.outcome = VMX_SUCCEED};
	struct fx x;

	fx_init(&x, 0);
	vmx_replay_before_take(x.s.m.cpu, &b);
	cr_assert(vmx_replay_inv_launch(x.s.m.cpu, &b, VMX_REPLAY_VMREAD, 0, &r, x.why, WHY),
	          "none: %s", x.why);
	x.s.m.store->vmcs[0].launched = true;
	cr_assert(!vmx_replay_inv_launch(x.s.m.cpu, &b, VMX_REPLAY_VMREAD, 0, &r, x.why, WHY),
	          "VMREAD launched the VMCS: wanted a violation");
	r.outcome = VMX_ENTERED;
	cr_assert(!vmx_replay_inv_launch(x.s.m.cpu, &b, VMX_REPLAY_VMRESUME, 0, &r, x.why, WHY),
	          "VMRESUME entered a clear VMCS: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, failure_without_effect_detects_a_write_by_a_failing_instruction)
{
	struct vmx_replay_before b;
	struct vmx_result r = {.outcome = VMX_FAULT_GP, .check = "x"};
	struct fx x;

	fx_init(&x, 0);
	vmx_replay_before_take(x.s.m.cpu, &b);
	cr_assert(vmx_replay_inv_no_effect(x.s.m.cpu, &b, &r, x.why, WHY), "nothing changed: %s",
	          x.why);
	vmx_vmcs_set(x.s.m.cpu, VMCS_GUEST_RIP, 0x1234);
	cr_assert(!vmx_replay_inv_no_effect(x.s.m.cpu, &b, &r, x.why, WHY),
	          "#GP(0) changed GUEST_RIP: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_vmx, vmx_cpu_consistent_detects_a_current_vmcs_outside_vmx_operation)
{
	struct fx x;

	fx_init(&x, 0);
	cr_assert(vmx_replay_inv_cpu(x.s.m.cpu, x.why, WHY), "fixture: %s", x.why);
	x.s.m.cpu->in_vmx = false;
	cr_assert(!vmx_replay_inv_cpu(x.s.m.cpu, x.why, WHY),
	          "current VMCS outside VMX operation: wanted a violation");
	fx_fini(&x);
}

/* ---- Decoder and encoder ---- */

Test(fuzz_vmx, decoder_reads_back_what_the_encoder_wrote)
{
	static const struct fz_vmx_op ops[] = {
	    {.kind = FZ_VMX_VMWRITE, .enc = VMCS_GUEST_RIP, .value = 0x1234},
	    {.kind = FZ_VMX_VMWRITE,
	     .enc = VMCS_TSC_OFFSET | 1,
	     .src = FZ_VMX_SRC_FLIP,
	     .value = 7},
	    {.kind = FZ_VMX_VMREAD, .enc = 0x12345678},
	    {.kind = FZ_VMX_VMREAD, .enc = UINT64_C(1) << 40},
	    {.kind = FZ_VMX_VMPTRLD, .value = VMX_REPLAY_PA_VMCS2},
	    {.kind = FZ_VMX_VMCLEAR, .value = 0x777000},
	    {.kind = FZ_VMX_MODE, .src = VMX_REPLAY_MODE_CPL, .value = 3},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_MSR_LOAD, .addr = 3, .enc = 0x174, .value = 1},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_REVISION, .addr = 0x3000, .enc = 2, .value = 9},
	    {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_RAW, .addr = 0x123, .value = 9},
	    {.kind = FZ_VMX_INVEPT, .enc = 1, .value = 77, .addr = 5},
	    {.kind = FZ_VMX_INVVPID, .enc = 2, .value = 1, .addr = 0x401000},
	    {.kind = FZ_VMX_VMLAUNCH},
	};

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		struct fz_vmx_op got;
		uint8_t b[64];
		struct fz_out o;
		struct fz_in in;

		fz_out_init(&o, b, sizeof(b));
		fz_vmx_encode(&o, &ops[k]);
		fz_init(&in, b, o.len);
		fz_vmx_decode(&in, &got);
		cr_assert(
		    got.kind == ops[k].kind && got.src == ops[k].src && got.enc == ops[k].enc &&
		        got.value == ops[k].value && got.addr == ops[k].addr && fz_left(&in) == 0,
		    "op %zu (%s): decoded kind %u src %u enc %#llx value %#llx addr %#llx", k,
		    fz_vmx_op_name(ops[k].kind), got.kind, got.src, (unsigned long long)got.enc,
		    (unsigned long long)got.value, (unsigned long long)got.addr);
	}
}

/* ---- Seeds ---- */

static bool reaches(const struct fz_vmx_stats *g, const struct fz_vmx_stats *w)
{
	return g->entered >= w->entered && g->fail_ctrl >= w->fail_ctrl &&
	       g->fail_host >= w->fail_host && g->exit_guest >= w->exit_guest &&
	       g->exit_msr >= w->exit_msr && g->vmfail >= w->vmfail && g->faults >= w->faults &&
	       g->vmwrites >= w->vmwrites;
}

Test(fuzz_vmx, every_seed_reaches_its_outcomes_without_a_finding)
{
	struct fx x;
	uint8_t b[4096];

	fx_init(&x, 0);
	for (size_t i = 0; i < fz_vmx_seed_count(); i++) {
		const struct fz_vmx_seed *sd = fz_vmx_seed_at(i);
		size_t n = fz_vmx_seed_bytes(sd, b, sizeof(b));
		const struct fz_vmx_stats *g = &x.s.stats;
		struct fz_vmx_outcome o;

		cr_assert(n > 0, "%s: does not encode", sd->name);
		fz_vmx_run(&x.s, b, n, &o, NULL);
		cr_assert(!o.kind, "%s: finding %s: %s", sd->name, o.kind, o.why);
		cr_assert_eq(o.ops, sd->n_ops, "%s: ran %u of %zu", sd->name, o.ops, sd->n_ops);
		cr_assert(reaches(g, &sd->wants),
		          "%s: got entered %u ctrl %u host %u guest %u msr %u vmfail %u faults %u "
		          "vmwrites %u; wanted at least %u %u %u %u %u %u %u %u",
		          sd->name, g->entered, g->fail_ctrl, g->fail_host, g->exit_guest,
		          g->exit_msr, g->vmfail, g->faults, g->vmwrites, sd->wants.entered,
		          sd->wants.fail_ctrl, sd->wants.fail_host, sd->wants.exit_guest,
		          sd->wants.exit_msr, sd->wants.vmfail, sd->wants.faults,
		          sd->wants.vmwrites);
	}
	fx_fini(&x);
}

Test(fuzz_vmx, a_run_is_deterministic)
{
	struct fx x;
	uint8_t b[4096];

	fx_init(&x, 0);
	for (size_t i = 0; i < fz_vmx_seed_count(); i++) {
		const struct fz_vmx_seed *sd = fz_vmx_seed_at(i);
		size_t n = fz_vmx_seed_bytes(sd, b, sizeof(b));
		struct fz_vmx_outcome a, c;

		fz_vmx_run(&x.s, b, n, &a, NULL);
		fz_vmx_run(&x.s, b, n, &c, NULL);
		cr_assert_eq(a.hash, c.hash, "%s: hash %016llx then %016llx", sd->name,
		             (unsigned long long)a.hash, (unsigned long long)c.hash);
	}
	fx_fini(&x);
}

/* ---- Export ---- */

Test(fuzz_vmx, export_writes_host_events_the_loader_accepts)
{
	const struct fz_vmx_seed *sd = fz_vmx_seed_at(0);
	struct fz_vmx_export e = {.scn = fz_scn_create("fuzz_vmcs_entry", 2)};
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	struct fz_vmx_outcome o;
	char *text = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&text, &len);
	uint8_t b[4096];
	struct fx x;

	cr_assert(e.scn && f, "out of memory");
	fx_init(&x, 0);
	n = fz_vmx_seed_bytes(sd, b, sizeof(b));
	fz_vmx_run(&x.s, b, n, &o, &e);
	fz_vmx_export_machine(&e, &x.s);
	cr_assert_eq(fz_scn_write(e.scn, f), 0, "fz_scn_write");
	fclose(f);
	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "loader: %s", err.msg);
	cr_assert_eq(sc->n_events, sd->n_ops, "one host event per operand-free operation: %zu",
	             sc->n_events);
	hvsim_scenario_free(sc);
	free(text);
	fz_scn_destroy(e.scn);
	fx_fini(&x);
}
