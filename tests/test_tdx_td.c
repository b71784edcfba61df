/* Verifies the TD build rules of the TDX module model (TDX ABI TDH.MNG.*, TDH.VP.CREATE/ADDCX/INIT,
 * TDH.MEM.SEPT.ADD, TDH.MEM.PAGE.ADD/AUG, TDH.MR.EXTEND/FINALIZE): the happy path KVM's tdx.c
 * takes, then one broken step per test with the status it must give, and the PAMT ownership it
 * leaves (tdx_page_info, tdx_check). Each test builds its own module (tests/test_tdx_fixture.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "test_tdx_fixture.h"

#define WANT(st, want, what)                                                                      \
	cr_assert_eq((st), (want), "%s: wanted %#llx (%s), got %#llx (%s)", (what),               \
	             (unsigned long long)(want), tdx_status_name(want), (unsigned long long)(st), \
	             tdx_status_name(st))

static void want_page(const struct txf *f, uint64_t hpa, enum tdx_page_type pt, uint64_t owner)
{
	enum tdx_page_type got;
	uint64_t tdr;

	cr_assert(tdx_page_info(f->m, hpa, &got, &tdr), "page %#llx outside memory",
	          (unsigned long long)hpa);
	cr_assert(got == pt && tdr == owner, "page %#llx: wanted type %u owner %#llx, got %u %#llx",
	          (unsigned long long)hpa, pt, (unsigned long long)owner, got,
	          (unsigned long long)tdr);
}

/* TDX ABI "TD Build": create, keys, TDCS, init, vCPU, Secure EPT, add, measure, finalize */
Test(tdx_td, kvm_build_assigns_every_page_to_the_td)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs r;

	txf_ready(&f, 2, 2);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_check(&f, "the TD build");
	want_page(&f, td.tdr, PT_TDR, td.tdr);
	want_page(&f, td.tdcx[0], PT_TDCX, td.tdr);
	want_page(&f, td.tdvpr, PT_TDVPR, td.tdr);
	want_page(&f, td.tdvpx[0], PT_TDCX, td.tdr);
	want_page(&f, td.sept[2], PT_EPT, td.tdr);
	want_page(&f, td.page, PT_REG, td.tdr);
	WANT(txf_call(&f, 0, TDH_MNG_RD, td.tdr, TDX_MD_TD_CHLDCNT, 0, 0, &r), TDX_SUCCESS,
	     "TDH.MNG.RD CHLDCNT");
	cr_assert_eq(r.r8, TXF_TDCS_PAGES + TXF_TDVPS_PAGES + 3 + 1, "CHLDCNT: wanted %u, got %llu",
	             TXF_TDCS_PAGES + TXF_TDVPS_PAGES + 4, (unsigned long long)r.r8);
	txf_free(&f);
}

/* TDX ABI TDH.MNG.CREATE: the HKID is free in the KOT */
Test(tdx_td, create_with_hkid_in_use_is_hkid_not_free)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, txf_page(&f), TXF_HKID_FIRST + 1, 0, 0, NULL),
	     TDX_HKID_NOT_FREE, "a second TD with the same HKID");
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, txf_page(&f), TXF_GLOBAL_HKID, 0, 0, NULL),
	     TDX_HKID_NOT_FREE, "a TD with the global private HKID");
	txf_free(&f);
}

/* TDX ABI TDH.MNG.CREATE: the TDR page is PT_NDA */
Test(tdx_td, create_on_owned_page_is_metadata_incorrect)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, td.page, TXF_HKID_FIRST + 2, 0, 0, NULL),
	     TDX_PAGE_METADATA_INCORRECT | TDX_OPERAND_ID_RCX, "TDR on the TD's private page");
	txf_free(&f);
}

/* TDX ABI TDH.MNG.ADDCX: after TDH.MNG.KEY.CONFIG on every package */
Test(tdx_td, addcx_before_every_package_keyed_is_keys_not_configured)
{
	struct txf f;
	uint64_t tdr;

	txf_ready(&f, 2, 2);
	tdr = txf_page(&f);
	txf_call(&f, 0, TDH_MNG_CREATE, tdr, TXF_HKID_FIRST + 1, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_MNG_ADDCX, txf_page(&f), tdr, 0, 0, NULL),
	     TDX_TD_KEYS_NOT_CONFIGURED, "TDH.MNG.ADDCX with package 1 unkeyed");
	WANT(txf_call(&f, 0, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0, NULL), TDX_KEY_CONFIGURED,
	     "package 0 keyed twice");
	txf_free(&f);
}

/* TDX ABI TDH.MNG.INIT: the TDCS has all TDCS_BASE_SIZE pages */
Test(tdx_td, init_before_tdcs_complete_is_tdcs_not_allocated)
{
	struct txf f;
	uint64_t tdr;

	txf_ready(&f, 1, 1);
	tdr = txf_page(&f);
	txf_call(&f, 0, TDH_MNG_CREATE, tdr, TXF_HKID_FIRST + 1, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_ADDCX, txf_page(&f), tdr, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_MNG_INIT, tdr, TXF_HOST_PAGE, 0, 0, NULL), TDX_TDCS_NOT_ALLOCATED,
	     "TDH.MNG.INIT with 1 TDCX page");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.PAGE.ADD: only before TDH.MR.FINALIZE */
Test(tdx_td, page_add_after_finalize_is_op_state_incorrect)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_ADD, TXF_GPA + TDX_PAGE_SIZE, td.tdr, txf_page(&f),
	              TXF_HOST_PAGE, NULL),
	     TDX_OP_STATE_INCORRECT, "TDH.MEM.PAGE.ADD on a finalized TD");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.PAGE.AUG: only after TDH.MR.FINALIZE */
Test(tdx_td, page_aug_before_finalize_is_op_state_incorrect)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_AUG, TXF_GPA + TDX_PAGE_SIZE, td.tdr, txf_page(&f), 0,
	              NULL),
	     TDX_OP_STATE_INCORRECT, "TDH.MEM.PAGE.AUG before finalization");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.PAGE.ADD: the Secure-EPT walk reaches level 1 */
Test(tdx_td, page_add_without_sept_is_ept_walk_failed)
{
	struct txf f;
	struct txf_td td;
	uint64_t far = UINT64_C(1) << 32;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_ADD, far, td.tdr, txf_page(&f), TXF_HOST_PAGE, NULL),
	     TDX_EPT_WALK_FAILED | TDX_OPERAND_ID_RCX,
	     "TDH.MEM.PAGE.ADD at 4 GiB, no level-2 table");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.PAGE.ADD: the leaf entry is FREE */
Test(tdx_td, page_add_twice_at_one_gpa_is_entry_state_incorrect)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_ADD, TXF_GPA, td.tdr, txf_page(&f), TXF_HOST_PAGE, NULL),
	     TDX_EPT_ENTRY_STATE_INCORRECT | TDX_OPERAND_ID_RCX, "a second page at TXF_GPA");
	txf_check(&f, "the refused second add");
	txf_free(&f);
}

/* TDX ABI TDH.MR.FINALIZE: the TD has at least one vCPU */
Test(tdx_td, finalize_without_vcpu_is_no_vcpus)
{
	struct txf f;
	uint64_t tdr;

	txf_ready(&f, 1, 1);
	tdr = txf_page(&f);
	txf_call(&f, 0, TDH_MNG_CREATE, tdr, TXF_HKID_FIRST + 1, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0, NULL);
	for (unsigned i = 0; i < TXF_TDCS_PAGES; i++)
		txf_call(&f, 0, TDH_MNG_ADDCX, txf_page(&f), tdr, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_INIT, tdr, TXF_HOST_PAGE, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_MR_FINALIZE, tdr, 0, 0, 0, NULL), TDX_NO_VCPUS,
	     "TDH.MR.FINALIZE without vCPUs");
	txf_free(&f);
}

/* TDX ABI TDH.VP.INIT: the TDVPS has all TDVPS_BASE_SIZE pages */
Test(tdx_td, vp_init_without_every_tdvpx_is_tdcx_num_incorrect)
{
	struct txf f;
	uint64_t tdr, tdvpr;

	txf_ready(&f, 1, 1);
	tdr = txf_page(&f);
	txf_call(&f, 0, TDH_MNG_CREATE, tdr, TXF_HKID_FIRST + 1, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0, NULL);
	for (unsigned i = 0; i < TXF_TDCS_PAGES; i++)
		txf_call(&f, 0, TDH_MNG_ADDCX, txf_page(&f), tdr, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_INIT, tdr, TXF_HOST_PAGE, 0, 0, NULL);
	tdvpr = txf_page(&f);
	txf_call(&f, 0, TDH_VP_CREATE, tdvpr, tdr, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_VP_INIT, tdvpr, 0, 0, 0, NULL), TDX_TDCX_NUM_INCORRECT,
	     "TDH.VP.INIT without TDVPX pages");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.SEPT.ADD: a table already present is a non-FREE entry */
Test(tdx_td, sept_add_twice_is_entry_state_incorrect)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_SEPT_ADD, (TXF_GPA & ~UINT64_C(0x1fffff)) | 1, td.tdr,
	              txf_page(&f), 0, NULL),
	     TDX_EPT_ENTRY_STATE_INCORRECT | TDX_OPERAND_ID_RCX, "a second level-1 table");
	txf_free(&f);
}

/* TDX ABI "Page Info": the GPA is aligned to the level and private */
Test(tdx_td, misaligned_or_shared_gpa_is_operand_invalid)
{
	static const uint64_t bad[] = {TXF_GPA | 0x800, UINT64_C(1) << 47, TXF_GPA | 1};
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(txf_call(&f, 0, TDH_MEM_PAGE_ADD, bad[i], td.tdr, txf_page(&f),
		                      TXF_HOST_PAGE, NULL),
		             TDX_OPERAND_INVALID | TDX_OPERAND_ID_RCX, "RCX %#llx: not refused",
		             (unsigned long long)bad[i]);
	txf_free(&f);
}

/* tdx_check: a state where two pages of one TD map one GPA, or CHLDCNT is off, is reported */
Test(tdx_td, check_reports_a_gpa_mapped_twice_and_a_wrong_child_count)
{
	struct txf f;
	struct txf_td td;
	char why[256];
	uint32_t p;

	txf_ready(&f, 1, 1);
	txf_build(&f, &td, TXF_HKID_FIRST + 1);
	p = (uint32_t)(txf_page(&f) / TDX_PAGE_SIZE);
	f.m->pamt[p] = f.m->pamt[td.page / TDX_PAGE_SIZE];
	f.m->td[0].chldcnt++;
	cr_assert(!tdx_check(f.m, why, sizeof(why)) && strstr(why, "both map GPA"),
	          "a GPA mapped twice: got %s", why);
	f.m->pamt[p] = f.m->pamt[0];
	f.m->pamt[p].pt = PT_NDA;
	f.m->pamt[p].td = f.m->pamt[p].vcpu = TDX_NONE;
	cr_assert(!tdx_check(f.m, why, sizeof(why)) && strstr(why, "CHLDCNT"),
	          "CHLDCNT one too high: got %s", why);
	txf_free(&f);
}
