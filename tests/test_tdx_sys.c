/* Verifies the TDX module model's initialization rules (TDX ABI TDH.SYS.* leaves, the dispatcher's
 * "module not ready" gate, leaf and version decoding): each test drives SEAMCALLs the way Linux's
 * TDX host code does, breaks one step and checks the completion status in RAX and the module
 * state. Each test builds its own module (tests/test_tdx_fixture.h). */
#include <criterion/criterion.h>

#include "test_tdx_fixture.h"

#define WANT(st, want, what)                                                                      \
	cr_assert_eq((st), (want), "%s: wanted %#llx (%s), got %#llx (%s)", (what),               \
	             (unsigned long long)(want), tdx_status_name(want), (unsigned long long)(st), \
	             tdx_status_name(st))

/* TDX ABI TDH.SYS.INIT: once */
Test(tdx_sys, sys_init_twice_is_not_pending)
{
	struct txf f;

	txf_create(&f, 2, 1);
	WANT(txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL), TDX_SUCCESS, "first TDH.SYS.INIT");
	WANT(txf_call(&f, 1, TDH_SYS_INIT, 0, 0, 0, 0, NULL), TDX_SYS_INIT_NOT_PENDING,
	     "second TDH.SYS.INIT");
	txf_free(&f);
}

/* TDX ABI "TDX Module Lifecycle": TD leaves need SYS_READY */
Test(tdx_sys, td_leaf_before_ready_is_sys_not_ready)
{
	struct txf f;

	txf_create(&f, 1, 1);
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, 0x10000, TXF_HKID_FIRST + 1, 0, 0, NULL),
	     TDX_SYS_NOT_READY, "TDH.MNG.CREATE before init");
	WANT(txf_call(&f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY,
	     "TDH.SYS.TDMR.INIT before TDH.SYS.KEY.CONFIG");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.LP.INIT: after TDH.SYS.INIT, once per LP */
Test(tdx_sys, lp_init_before_sys_init_is_not_pending)
{
	struct txf f;

	txf_create(&f, 1, 1);
	WANT(txf_call(&f, 0, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL), TDX_SYS_LP_INIT_NOT_PENDING,
	     "TDH.SYS.LP.INIT before TDH.SYS.INIT");
	txf_free(&f);
}

Test(tdx_sys, lp_init_twice_is_lp_init_done)
{
	struct txf f;

	txf_create(&f, 2, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 1, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL), TDX_SUCCESS, "LP 1 first");
	WANT(txf_call(&f, 1, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL), TDX_SYS_LP_INIT_DONE,
	     "LP 1 second");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.CONFIG: every LP initialized first */
Test(tdx_sys, sys_config_needs_every_lp_initialized)
{
	struct txf f;

	txf_create(&f, 2, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_GLOBAL_HKID, 0, NULL),
	     TDX_SYS_CONFIG_NOT_PENDING, "TDH.SYS.CONFIG with LP 1 uninitialized");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.CONFIG: R8 is a private HKID */
Test(tdx_sys, sys_config_rejects_shared_hkid)
{
	struct txf f;

	txf_create(&f, 1, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_HKID_FIRST - 1, 0, NULL),
	     TDX_OPERAND_INVALID | TDX_OPERAND_ID_R8, "TDH.SYS.CONFIG with a shared HKID");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.KEY.CONFIG: once per package; the module is ready after the last */
Test(tdx_sys, key_config_once_per_package_then_ready)
{
	struct txf f;

	txf_create(&f, 4, 2);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	for (unsigned lp = 0; lp < 4; lp++)
		txf_call(&f, lp, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_GLOBAL_HKID, 0, NULL);
	WANT(txf_call(&f, 0, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL), TDX_SUCCESS, "package 0");
	WANT(txf_call(&f, 1, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL), TDX_KEY_CONFIGURED,
	     "package 0 again, from LP 1");
	cr_assert_eq(tdx_sys_state(f.m), TDX_SYSCONFIG_DONE, "ready with package 1 unkeyed");
	WANT(txf_call(&f, 2, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL), TDX_SUCCESS, "package 1");
	cr_assert_eq(tdx_sys_state(f.m), TDX_SYS_READY, "not ready after every package");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.TDMR.INIT: several calls, RDX the next address, then a warning */
Test(tdx_sys, tdmr_init_takes_several_calls)
{
	struct txf f;
	struct tdx_regs r;

	txf_create(&f, 1, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_GLOBAL_HKID, 0, NULL);
	txf_call(&f, 0, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, &r), TDX_SUCCESS, "first chunk");
	cr_assert_eq(r.rdx, (uint64_t)TDX_TDMR_INIT_PAGES * TDX_PAGE_SIZE,
	             "next address: wanted %#x, got %#llx", TDX_TDMR_INIT_PAGES * TDX_PAGE_SIZE,
	             (unsigned long long)r.rdx);
	WANT(txf_call(&f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, &r), TDX_SUCCESS, "second chunk");
	WANT(txf_call(&f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, &r), TDX_TDMR_ALREADY_INITIALIZED,
	     "third call");
	txf_free(&f);
}

/* TDX base spec "TDMR": a page the PAMT does not cover yet cannot be converted */
Test(tdx_sys, page_in_uninitialized_tdmr_part_is_addr_range_error)
{
	struct txf f;
	uint64_t late = (uint64_t)(TDX_TDMR_INIT_PAGES + 1) * TDX_PAGE_SIZE;

	txf_create(&f, 1, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_GLOBAL_HKID, 0, NULL);
	txf_call(&f, 0, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL);
	txf_call(&f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 0, TDH_MNG_CREATE, late, TXF_HKID_FIRST + 1, 0, 0, NULL),
	     TDX_OPERAND_ADDR_RANGE_ERROR | TDX_OPERAND_ID_RCX, "TDR beyond the initialized part");
	txf_free(&f);
}

/* TDX ABI TDH.SYS.RD: TDCS_BASE_SIZE is what TDH.MNG.ADDCX must add */
Test(tdx_sys, sys_rd_reports_tdcs_base_size)
{
	struct txf f;
	struct tdx_regs r;

	txf_ready(&f, 1, 1);
	WANT(txf_call(&f, 0, TDH_SYS_RD, 0, TDX_MD_SYS_TDCS_BASE_SIZE, 0, 0, &r), TDX_SUCCESS,
	     "TDH.SYS.RD TDCS_BASE_SIZE");
	cr_assert_eq(r.r8, (uint64_t)TXF_TDCS_PAGES * TDX_PAGE_SIZE,
	             "TDCS_BASE_SIZE: wanted %u, got %llu", TXF_TDCS_PAGES * TDX_PAGE_SIZE,
	             (unsigned long long)r.r8);
	txf_free(&f);
}

Test(tdx_sys, sys_rd_on_uninitialized_lp_is_lp_init_not_done)
{
	struct txf f;

	txf_create(&f, 2, 1);
	txf_call(&f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL);
	WANT(txf_call(&f, 1, TDH_SYS_RD, 0, TDX_MD_SYS_NUM_PKGS, 0, 0, NULL),
	     TDX_SYS_LP_INIT_NOT_DONE, "TDH.SYS.RD on LP 1 before its TDH.SYS.LP.INIT");
	txf_free(&f);
}

/* TDX ABI "SEAMCALL": an unknown leaf, an unsupported version or RAX[63:24] set */
Test(tdx_sys, unknown_leaf_and_version_are_operand_invalid_rax)
{
	static const uint64_t bad[] = {200, TDH_MNG_CREATE | 1u << 16, TDH_SYS_INIT | 1ull << 30};
	struct txf f;

	txf_create(&f, 1, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		WANT(txf_call(&f, 0, bad[i], 0, 0, 0, 0, NULL),
		     TDX_OPERAND_INVALID | TDX_OPERAND_ID_RAX, tdx_seamcall_name(bad[i] & 0xffff));
	txf_free(&f);
}

/* Every status the model returns is one the ABI defines (tdx_status_known) */
Test(tdx_sys, status_known_accepts_defined_and_rejects_others)
{
	cr_assert(tdx_status_known(TDX_OPERAND_INVALID | TDX_OPERAND_ID_R8), "OPERAND_INVALID|R8");
	cr_assert(tdx_status_known(TDX_SUCCESS | TDX_EXIT_TDCALL), "TD exit");
	cr_assert(!tdx_status_known(UINT64_C(0xC000990000000000)), "class 0x99 is not defined");
	cr_assert(!tdx_status_known(UINT64_C(0x8000020200000000)),
	          "SYS_BUSY is never returned here");
}
