/* Verifies TD entry, the guest side and teardown in the TDX module model (TDX ABI TDH.VP.ENTER,
 * TDG.* leaves, TDH.MEM.RANGE.BLOCK/TRACK/PAGE.REMOVE, TDH.VP.FLUSH, TDH.MNG.VPFLUSHDONE,
 * TDH.PHYMEM.CACHE.WB, TDH.MNG.KEY.FREEID, TDH.PHYMEM.PAGE.RECLAIM; TDX base spec "VCPU-to-LP
 * Association", "TLB Tracking"): a runnable TD built as KVM builds it, entered from an LP, a guest
 * issuing TDCALLs, and KVM's teardown order, one rule per test. Each test builds its own module
 * (tests/test_tdx_fixture.h). */
#include <criterion/criterion.h>

#include "test_tdx_fixture.h"

#define WANT(st, want, what)                                                                      \
	cr_assert_eq((st), (want), "%s: wanted %#llx (%s), got %#llx (%s)", (what),               \
	             (unsigned long long)(want), tdx_status_name(want), (unsigned long long)(st), \
	             tdx_status_name(st))

static uint64_t tdcall(struct txf *f, unsigned lp, uint64_t leaf, uint64_t rcx, uint64_t r11,
                       struct tdx_regs *host, bool *exited)
{
	struct tdx_regs g = {.rax = leaf, .rcx = rcx, .r11 = r11};
	bool e = tdx_tdcall(f->m, lp, &g, host);

	if (exited)
		*exited = e;
	return g.rax;
}

/* TDX ABI TDH.VP.ENTER, TDG.VP.VMCALL: the guest's TDVMCALL (HLT) ends TDH.VP.ENTER with exit
 * reason TDCALL and the sub-function in R11 (the TDX idle path) */
Test(tdx_run, vmcall_hlt_exits_to_host_with_tdcall_reason)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;
	bool exited;

	txf_ready(&f, 2, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 1, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL), TDX_SUCCESS, "TDH.VP.ENTER");
	cr_assert(tdx_lp_in_td(f.m, 1), "LP 1 not in the TD after entry");
	WANT(tdcall(&f, 1, TDG_VP_VMCALL, 0xfc00, 12, &host, &exited), TDX_SUCCESS, "TDVMCALL");
	cr_assert(exited, "TDG.VP.VMCALL did not exit");
	cr_assert_eq(host.rax, TDX_SUCCESS | TDX_EXIT_TDCALL, "exit: wanted %#x, got %#llx",
	             TDX_EXIT_TDCALL, (unsigned long long)host.rax);
	cr_assert_eq(host.r11, 12, "R11 (HLT): got %llu", (unsigned long long)host.r11);
	cr_assert(!tdx_lp_in_td(f.m, 1), "LP 1 still in the TD");
	txf_check(&f, "the TD exit");
	txf_free(&f);
}

/* TDX base spec "VCPU-to-LP Association": until TDH.VP.FLUSH, a vCPU enters only on its LP */
Test(tdx_run, enter_on_a_second_lp_is_vcpu_associated)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;

	txf_ready(&f, 2, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	tdx_td_exit(f.m, 0, &host);
	WANT(txf_call(&f, 1, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL), TDX_VCPU_ASSOCIATED,
	     "TDH.VP.ENTER on LP 1");
	WANT(txf_call(&f, 1, TDH_VP_FLUSH, td.tdvpr, 0, 0, 0, NULL), TDX_VCPU_NOT_ASSOCIATED,
	     "TDH.VP.FLUSH on LP 1");
	WANT(txf_call(&f, 0, TDH_VP_FLUSH, td.tdvpr, 0, 0, 0, NULL), TDX_SUCCESS,
	     "TDH.VP.FLUSH on LP 0");
	WANT(txf_call(&f, 1, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL), TDX_SUCCESS,
	     "TDH.VP.ENTER on LP 1 after the flush");
	txf_free(&f);
}

/* SEAMCALL inside a TD and TDCALL outside one raise #UD */
Test(tdx_run, seamcall_in_td_and_tdcall_in_host_are_ud)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(tdcall(&f, 0, TDG_VP_INFO, 0, 0, &host, NULL), TDX_SW_UD, "TDCALL from the host");
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_SYS_RD, 0, TDX_MD_SYS_NUM_PKGS, 0, 0, NULL), TDX_SW_UD,
	     "SEAMCALL from inside the TD");
	txf_free(&f);
}

/* TDX ABI TDG.MEM.PAGE.ACCEPT: an unmapped GPA exits with an EPT violation; after
 * TDH.MEM.PAGE.AUG the page is PENDING and the accept maps it; a second accept warns */
Test(tdx_run, accept_after_ept_violation_and_aug_maps_the_page)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;
	uint64_t gpa = TXF_GPA + TDX_PAGE_SIZE;
	bool exited;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	tdcall(&f, 0, TDG_MEM_PAGE_ACCEPT, gpa, 0, &host, &exited);
	cr_assert(
	    exited && host.rax == (TDX_SUCCESS | TDX_EXIT_EPT_VIOLATION) && host.r8 == gpa,
	    "accept of an unmapped GPA: wanted an EPT violation at %#llx, got exit %d rax %#llx "
	    "r8 %#llx",
	    (unsigned long long)gpa, exited, (unsigned long long)host.rax,
	    (unsigned long long)host.r8);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_AUG, gpa, td.tdr, txf_page(&f), 0, NULL), TDX_SUCCESS,
	     "TDH.MEM.PAGE.AUG");
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	WANT(tdcall(&f, 0, TDG_MEM_PAGE_ACCEPT, gpa, 0, &host, &exited), TDX_SUCCESS, "accept");
	WANT(tdcall(&f, 0, TDG_MEM_PAGE_ACCEPT, gpa, 0, &host, &exited), TDX_PAGE_ALREADY_ACCEPTED,
	     "second accept");
	txf_check(&f, "the accepts");
	txf_free(&f);
}

/* TDX ABI TDH.MEM.PAGE.REMOVE: blocked first, then TLB tracking done (TDH.MEM.TRACK) */
Test(tdx_run, remove_needs_block_then_track)
{
	struct txf f;
	struct txf_td td;
	enum tdx_page_type pt;
	uint64_t owner;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_REMOVE, TXF_GPA, td.tdr, 0, 0, NULL),
	     TDX_GPA_RANGE_NOT_BLOCKED | TDX_OPERAND_ID_RCX, "remove before block");
	WANT(txf_call(&f, 0, TDH_MEM_RANGE_BLOCK, TXF_GPA, td.tdr, 0, 0, NULL), TDX_SUCCESS,
	     "block");
	WANT(txf_call(&f, 0, TDH_MEM_RANGE_BLOCK, TXF_GPA, td.tdr, 0, 0, NULL),
	     TDX_GPA_RANGE_ALREADY_BLOCKED, "block again");
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_REMOVE, TXF_GPA, td.tdr, 0, 0, NULL),
	     TDX_TLB_TRACKING_NOT_DONE | TDX_OPERAND_ID_RCX, "remove before track");
	WANT(txf_call(&f, 0, TDH_MEM_TRACK, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS, "track");
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_REMOVE, TXF_GPA, td.tdr, 0, 0, NULL), TDX_SUCCESS,
	     "remove");
	tdx_page_info(f.m, td.page, &pt, &owner);
	cr_assert(pt == PT_NDA && owner == 0, "removed page: type %u owner %#llx", pt,
	          (unsigned long long)owner);
	txf_check(&f, "the remove");
	txf_free(&f);
}

/* TDX base spec "TLB Tracking": a vCPU that entered before the block still runs, so the epoch
 * cannot advance twice and the page cannot go */
Test(tdx_run, running_vcpu_holds_tlb_tracking)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;

	txf_ready(&f, 2, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 1, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_MEM_RANGE_BLOCK, TXF_GPA, td.tdr, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_MEM_TRACK, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS, "first track");
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_REMOVE, TXF_GPA, td.tdr, 0, 0, NULL),
	     TDX_TLB_TRACKING_NOT_DONE | TDX_OPERAND_ID_RCX, "remove while LP 1 runs the TD");
	WANT(txf_call(&f, 0, TDH_MEM_TRACK, td.tdr, 0, 0, 0, NULL), TDX_PREVIOUS_TLB_EPOCH_BUSY,
	     "second track while LP 1 runs");
	tdx_td_exit(f.m, 1, &host);
	WANT(txf_call(&f, 0, TDH_MEM_PAGE_REMOVE, TXF_GPA, td.tdr, 0, 0, NULL), TDX_SUCCESS,
	     "remove after the exit");
	txf_free(&f);
}

/* TDX ABI TDH.MNG.VPFLUSHDONE: every vCPU flushed first */
Test(tdx_run, vpflushdone_before_flush_is_flushvp_not_done)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	tdx_td_exit(f.m, 0, &host);
	WANT(txf_call(&f, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0, 0, 0, NULL), TDX_FLUSHVP_NOT_DONE,
	     "VPFLUSHDONE with an associated vCPU");
	txf_free(&f);
}

/* TDX ABI TDH.MNG.KEY.FREEID: TDH.PHYMEM.CACHE.WB ran on every package */
Test(tdx_run, freeid_before_every_package_wrote_back_is_wbcache_not_complete)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 2, 2);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS,
	     "VPFLUSHDONE");
	WANT(txf_call(&f, 0, TDH_PHYMEM_CACHE_WB, 0, 0, 0, 0, NULL), TDX_SUCCESS, "WB package 0");
	WANT(txf_call(&f, 0, TDH_MNG_KEY_FREEID, td.tdr, 0, 0, 0, NULL), TDX_WBCACHE_NOT_COMPLETE,
	     "FREEID with package 1 not written back");
	WANT(txf_call(&f, 1, TDH_PHYMEM_CACHE_WB, 0, 0, 0, 0, NULL), TDX_SUCCESS, "WB package 1");
	WANT(txf_call(&f, 0, TDH_MNG_KEY_FREEID, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS, "FREEID");
	txf_free(&f);
}

/* TDX ABI TDH.PHYMEM.PAGE.RECLAIM: only pages of a TD in teardown; the TDR after its children */
Test(tdx_run, reclaim_needs_teardown_and_the_tdr_goes_last)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, td.page, 0, 0, 0, NULL),
	     TDX_LIFECYCLE_STATE_INCORRECT, "reclaim from a live TD");
	txf_call(&f, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_PHYMEM_CACHE_WB, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_FREEID, td.tdr, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, td.tdr, 0, 0, 0, NULL),
	     TDX_TD_ASSOCIATED_PAGES_EXIST, "reclaim the TDR first");
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, 0, 0, 0, 0, NULL),
	     TDX_PAGE_METADATA_INCORRECT | TDX_OPERAND_ID_RCX, "reclaim a reserved page");
	txf_free(&f);
}

/* KVM's teardown (tdx_mmu_release_hkid, tdx_vm_free): flush, VPFLUSHDONE, CACHE.WB on every
 * package, FREEID, reclaim every page and the TDR: memory is all PT_NDA again, the HKID free */
Test(tdx_run, kvm_teardown_returns_every_page_and_the_hkid)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs host, r;
	enum tdx_page_type pt;
	uint64_t owner;

	txf_ready(&f, 2, 2);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 1, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	tdx_td_exit(f.m, 1, &host);
	WANT(txf_call(&f, 1, TDH_VP_FLUSH, td.tdvpr, 0, 0, 0, NULL), TDX_SUCCESS, "flush");
	WANT(txf_call(&f, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS, "flushdone");
	for (unsigned p = 0; p < 2; p++)
		WANT(txf_call(&f, txf_lp_of_pkg(&f, p), TDH_PHYMEM_CACHE_WB, 0, 0, 0, 0, NULL),
		     TDX_SUCCESS, "cache write-back");
	WANT(txf_call(&f, 0, TDH_MNG_KEY_FREEID, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS, "freeid");
	for (uint32_t i = TXF_RSVD_PAGES; i < f.next_page; i++) {
		uint64_t hpa = (uint64_t)i * TDX_PAGE_SIZE;

		if (hpa == td.tdr)
			continue;
		WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, hpa, 0, 0, 0, &r), TDX_SUCCESS,
		     "reclaim a child page");
		cr_assert_eq(r.rdx, td.tdr, "reclaim: owner %#llx, wanted the TDR",
		             (unsigned long long)r.rdx);
	}
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, td.tdr, 0, 0, 0, NULL), TDX_SUCCESS,
	     "reclaim the TDR");
	for (uint32_t i = TXF_RSVD_PAGES; i < TXF_PAGES; i++) {
		tdx_page_info(f.m, (uint64_t)i * TDX_PAGE_SIZE, &pt, &owner);
		cr_assert_eq(pt, PT_NDA, "page %u: type %u after teardown", i, pt);
	}
	txf_check(&f, "the teardown");
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, td.tdr, TXF_HKID_FIRST + 1, 0, 0, NULL), TDX_SUCCESS,
	     "a new TD with the freed HKID");
	txf_free(&f);
}

/* TDX ABI TDG.VP.INFO: the vCPU's index and the TD's vCPU counts */
Test(tdx_run, vp_info_reports_gpaw_and_vcpu_index)
{
	struct txf f;
	struct txf_td td;
	struct tdx_regs g = {.rax = TDG_VP_INFO}, host;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 0, TDH_VP_ENTER, td.tdvpr, 0, 0, 0, NULL);
	cr_assert(!tdx_tdcall(f.m, 0, &g, &host), "TDG.VP.INFO exited");
	cr_assert(g.rax == TDX_SUCCESS && g.rcx == TDX_GPAW && g.r9 == 0 && (uint32_t)g.r8 == 1,
	          "TDG.VP.INFO: rax %#llx gpaw %llu index %llu vcpus %llu",
	          (unsigned long long)g.rax, (unsigned long long)g.rcx, (unsigned long long)g.r9,
	          (unsigned long long)(uint32_t)g.r8);
	txf_free(&f);
}

/* Found by fuzz_tdx_seamcall's kvm-build-teardown seed: reclaiming a TDCS page left the TD's count
 * of TDCS pages at its old value (tdx_check: "1 TDCX pages counted, 0 owned") */
Test(tdx_run, reclaimed_tdcs_and_tdvpx_pages_leave_the_td_counts)
{
	struct txf f;
	struct txf_td td;

	txf_ready(&f, 1, 1);
	txf_build_runnable(&f, &td, TXF_HKID_FIRST + 1);
	txf_call(&f, 0, TDH_MNG_VPFLUSHDONE, td.tdr, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_PHYMEM_CACHE_WB, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_MNG_KEY_FREEID, td.tdr, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, td.tdcx[0], 0, 0, 0, NULL), TDX_SUCCESS,
	     "reclaim a TDCS page");
	txf_check(&f, "reclaiming a TDCS page");
	WANT(txf_call(&f, 0, TDH_PHYMEM_PAGE_RECLAIM, td.tdvpx[0], 0, 0, 0, NULL), TDX_SUCCESS,
	     "reclaim a TDVPX page");
	txf_check(&f, "reclaiming a TDVPX page");
	txf_free(&f);
}
