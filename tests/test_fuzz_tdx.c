/* Verifies the fuzz_tdx_seamcall machinery (fuzz/fz_tdx*.c): the decoder and encoder are inverse,
 * every hand-made seed runs without a finding and reaches the counters its name promises, and
 * each named invariant holds on a correct model and fails on a state or result built to break it
 * (the failure message names what broke). Each test builds its own machine. */
#include <criterion/criterion.h>

#include "../fuzz/fz_tdx.h"
#include "test_tdx_fixture.h"

#include <string.h>

#define WHY 512

static void sys_make(struct fz_tdx_sys *s)
{
	cr_assert_eq(fz_tdx_create(s), HVSIM_OK, "fz_tdx_create");
}

Test(fuzz_tdx, decode_reads_back_what_encode_wrote)
{
	struct fz_tdx_op op = {.kind = FZ_TDX_SEAMCALL,
	                       .lp = 3,
	                       .leaf = TDH_MEM_PAGE_ADD,
	                       .opnd = {{FZ_TDX_GPA, 5},
	                                {FZ_TDX_TDR, 1},
	                                {FZ_TDX_FREE, 2},
	                                {FZ_TDX_RAW, UINT64_C(0x123456789)}}},
	                 got;
	uint8_t b[64];
	struct fz_out o;
	struct fz_in in;

	fz_out_init(&o, b, sizeof(b));
	fz_tdx_encode(&o, &op);
	fz_init(&in, b, o.len);
	fz_tdx_decode(&in, &got);
	cr_assert(memcmp(&op, &got, sizeof(op)) == 0 && fz_left(&in) == 0,
	          "round trip of a SEAMCALL: %zu bytes, %zu left", o.len, fz_left(&in));
}

Test(fuzz_tdx, every_seed_runs_clean_and_reaches_its_counters)
{
	struct fz_tdx_sys s;

	sys_make(&s);
	for (size_t i = 0; i < fz_tdx_seed_count(); i++) {
		const struct fz_tdx_seed *sd = fz_tdx_seed_at(i);
		const struct fz_tdx_stats *w = &sd->wants, *g = &s.stats;
		struct fz_tdx_outcome o;
		uint8_t b[4096];
		size_t n = fz_tdx_seed_bytes(sd, b, sizeof(b));

		cr_assert(n, "%s: does not encode", sd->name);
		fz_tdx_run(&s, b, n, &o);
		cr_assert(!o.kind, "%s: finding %s: %s", sd->name, o.kind, o.why);
		cr_assert(g->ok >= w->ok && g->failed >= w->failed && g->ready >= w->ready &&
		              g->created >= w->created && g->finalized >= w->finalized &&
		              g->entered >= w->entered && g->exits >= w->exits &&
		              g->accepted >= w->accepted && g->removed >= w->removed &&
		              g->freed >= w->freed && g->reclaimed >= w->reclaimed,
		          "%s: got failed %u ready %u created %u finalized %u entered %u exits %u "
		          "accepted %u removed %u freed %u reclaimed %u",
		          sd->name, g->failed, g->ready, g->created, g->finalized, g->entered,
		          g->exits, g->accepted, g->removed, g->freed, g->reclaimed);
	}
	fz_tdx_destroy(&s);
}

Test(fuzz_tdx, a_seed_runs_twice_to_the_same_hash)
{
	struct fz_tdx_sys s;
	struct fz_tdx_outcome a, b;
	uint8_t buf[4096];
	size_t n;

	sys_make(&s);
	n = fz_tdx_seed_bytes(fz_tdx_seed_at(1), buf, sizeof(buf));
	fz_tdx_run(&s, buf, n, &a);
	fz_tdx_run(&s, buf, n, &b);
	cr_assert(a.hash == b.hash && a.ops == b.ops, "hashes %#llx and %#llx",
	          (unsigned long long)a.hash, (unsigned long long)b.hash);
	fz_tdx_destroy(&s);
}

/* The next step brings a fresh module to a runnable, entered TD */
Test(fuzz_tdx, next_steps_reach_an_entered_td)
{
	struct fz_tdx_sys s;
	struct fz_tdx_op op = {.kind = FZ_TDX_NEXT};
	struct fz_tdx_outcome o;
	uint8_t cfg[2] = {1, 1};

	sys_make(&s);
	fz_tdx_run(&s, cfg, 2, &o);
	for (int i = 0; i < 40 && !s.stats.entered; i++)
		fz_tdx_execute(&s, &op);
	cr_assert(s.stats.entered == 1 && !s.bad, "entered %u after 40 next steps (%s)",
	          s.stats.entered, s.bad ? s.why : "no finding");
	fz_tdx_destroy(&s);
}

static void ready_td(struct txf *f, struct txf_td *td)
{
	txf_ready(f, 2, 1);
	txf_build_runnable(f, td, TXF_HKID_FIRST + 1);
}

Test(fuzz_tdx, page_owner_function_detects_a_page_owned_twice)
{
	struct txf f;
	struct txf_td td;
	char why[WHY];

	ready_td(&f, &td);
	cr_assert(tdx_replay_inv_page_owner(f.m, why, sizeof(why)), "correct model: %s", why);
	f.m->pamt[td.page / TDX_PAGE_SIZE + 1] = f.m->pamt[td.page / TDX_PAGE_SIZE];
	cr_assert(!tdx_replay_inv_page_owner(f.m, why, sizeof(why)),
	          "a GPA mapped by two pages passed");
	cr_assert(strstr(why, "maps pages"), "message: %s", why);
	txf_free(&f);
}

Test(fuzz_tdx, page_owner_function_detects_a_wrong_child_count)
{
	struct txf f;
	struct txf_td td;
	char why[WHY];

	ready_td(&f, &td);
	f.m->td[0].chldcnt++;
	cr_assert(!tdx_replay_inv_page_owner(f.m, why, sizeof(why)), "CHLDCNT off by one passed");
	cr_assert(strstr(why, "CHLDCNT"), "message: %s", why);
	txf_free(&f);
}

Test(fuzz_tdx, pamt_type_consistent_rejects_a_retype_by_the_wrong_leaf)
{
	struct txf f;
	struct tdx_module *b;
	char why[WHY];
	uint32_t p = TXF_RSVD_PAGES;

	txf_ready(&f, 1, 1);
	cr_assert_eq(tdx_create(&f.m->cfg, &b, NULL), HVSIM_OK, "tdx_create");
	tdx_copy(b, f.m);
	f.m->pamt[p].pt = PT_REG;
	f.m->pamt[p].td = 0;
	cr_assert(
	    tdx_replay_inv_pamt_types(b, f.m, TDH_MEM_PAGE_AUG, TDX_SUCCESS, why, sizeof(why)),
	    "AUG making a PT_REG page: %s", why);
	cr_assert(!tdx_replay_inv_pamt_types(b, f.m, TDH_MNG_CREATE, TDX_SUCCESS, why, sizeof(why)),
	          "TDH.MNG.CREATE making a PT_REG page passed");
	cr_assert(!tdx_replay_inv_pamt_types(b, f.m, TDH_MEM_PAGE_AUG, TDX_OP_STATE_INCORRECT, why,
	                                     sizeof(why)),
	          "a failed AUG retyping a page passed");
	tdx_destroy(b);
	txf_free(&f);
}

Test(fuzz_tdx, status_known_rejects_undefined_codes)
{
	char why[WHY];

	cr_assert(
	    tdx_replay_inv_status_known(TDX_EPT_WALK_FAILED | TDX_OPERAND_ID_RCX, why, sizeof(why)),
	    "EPT_WALK_FAILED|RCX: %s", why);
	cr_assert(!tdx_replay_inv_status_known(UINT64_C(0xC000FE0000000000), why, sizeof(why)),
	          "class 0xFE passed");
}

Test(fuzz_tdx, failure_without_effect_names_the_changed_byte)
{
	struct txf f;
	struct tdx_module *b;
	char why[WHY];

	txf_ready(&f, 1, 1);
	cr_assert_eq(tdx_create(&f.m->cfg, &b, NULL), HVSIM_OK, "tdx_create");
	tdx_copy(b, f.m);
	cr_assert(tdx_replay_inv_no_effect(b, f.m, TDX_OPERAND_INVALID, why, sizeof(why)),
	          "same: %s", why);
	f.m->td[3].epoch = 1;
	cr_assert(!tdx_replay_inv_no_effect(b, f.m, TDX_OPERAND_INVALID, why, sizeof(why)),
	          "a change under an error passed");
	cr_assert(tdx_replay_inv_no_effect(b, f.m, TDX_SUCCESS, why, sizeof(why)),
	          "a change under success: %s", why);
	tdx_destroy(b);
	txf_free(&f);
}

Test(fuzz_tdx, lifecycle_order_rejects_success_before_ready_and_after_teardown)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs in = {0};
	char why[WHY];

	txf_create(&f, 1, 1);
	cr_assert(
	    !tdx_replay_inv_lifecycle(f.m, TDH_MNG_CREATE, &in, TDX_SUCCESS, why, sizeof(why)),
	    "TDH.MNG.CREATE succeeding before ready passed");
	txf_free(&f);
	ready_td(&f, &td);
	in.rcx = td.tdr;
	cr_assert(tdx_replay_inv_lifecycle(f.m, TDH_MEM_TRACK, &in, TDX_SUCCESS, why, sizeof(why)),
	          "TRACK on a runnable TD: %s", why);
	f.m->td[0].lifecycle = TD_TEARDOWN;
	cr_assert(!tdx_replay_inv_lifecycle(f.m, TDH_MEM_TRACK, &in, TDX_SUCCESS, why, sizeof(why)),
	          "TRACK succeeding in teardown passed");
	txf_free(&f);
}

Test(fuzz_tdx, vcpu_lp_association_rejects_an_entry_on_another_lp)
{
	struct fz_tdx_sys s;
	struct txf f;
	struct txf_td td;
	struct tdx_regs in = {0};
	char why[WHY];

	sys_make(&s);
	ready_td(&f, &td);
	tdx_copy(s.mc.m, f.m);
	tdx_copy(s.mc.before, f.m);
	memset(s.mc.assoc, TDX_NONE, sizeof(s.mc.assoc));
	in.rcx = td.tdvpr;
	cr_assert(
	    tdx_replay_inv_association(&s.mc, 1, TDH_VP_ENTER, &in, TDX_SUCCESS, why, sizeof(why)),
	    "first entry: %s", why);
	s.mc.assoc[0][0] = 0;
	cr_assert(
	    !tdx_replay_inv_association(&s.mc, 1, TDH_VP_ENTER, &in, TDX_SUCCESS, why, sizeof(why)),
	    "entry on LP 1 of a vCPU associated with LP 0 passed");
	s.mc.m->lp[0].in_td = s.mc.m->lp[1].in_td = 0;
	s.mc.m->lp[0].in_vcpu = s.mc.m->lp[1].in_vcpu = 0;
	cr_assert(
	    !tdx_replay_inv_association(&s.mc, 0, TDH_SYS_RD, &in, TDX_SUCCESS, why, sizeof(why)),
	    "two LPs running one vCPU passed");
	txf_free(&f);
	fz_tdx_destroy(&s);
}

Test(fuzz_tdx, lifecycle_order_restates_remove_freeid_and_flushdone_rules)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs in = {.rcx = TXF_GPA};
	char why[WHY];

	ready_td(&f, &td);
	in.rdx = td.tdr;
	cr_assert(
	    !tdx_replay_inv_lifecycle(f.m, TDH_MEM_PAGE_REMOVE, &in, TDX_SUCCESS, why, sizeof(why)),
	    "REMOVE of a mapped page passed");
	cr_assert(strstr(why, "not blocked"), "message: %s", why);
	txf_call(&f, 0, TDH_MEM_RANGE_BLOCK, TXF_GPA, td.tdr, 0, 0, NULL);
	cr_assert(
	    !tdx_replay_inv_lifecycle(f.m, TDH_MEM_PAGE_REMOVE, &in, TDX_SUCCESS, why, sizeof(why)),
	    "REMOVE without TDH.MEM.TRACK passed");
	txf_call(&f, 0, TDH_MEM_TRACK, td.tdr, 0, 0, 0, NULL);
	cr_assert(
	    tdx_replay_inv_lifecycle(f.m, TDH_MEM_PAGE_REMOVE, &in, TDX_SUCCESS, why, sizeof(why)),
	    "REMOVE after block and track: %s", why);
	in.rcx = td.tdr;
	cr_assert(
	    !tdx_replay_inv_lifecycle(f.m, TDH_MNG_KEY_FREEID, &in, TDX_SUCCESS, why, sizeof(why)),
	    "FREEID on a live TD passed");
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	tdx_td_exit(f.m, 0, &(struct tdx_regs){0});
	cr_assert(
	    !tdx_replay_inv_lifecycle(f.m, TDH_MNG_VPFLUSHDONE, &in, TDX_SUCCESS, why, sizeof(why)),
	    "VPFLUSHDONE with an associated vCPU passed");
	txf_free(&f);
}
