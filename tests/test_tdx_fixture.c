/* The TDX test fixture (test_tdx_fixture.h). */
#include <criterion/criterion.h>

#include "test_tdx_fixture.h"

void txf_create(struct txf *f, unsigned lps, unsigned pkgs)
{
	struct tdx_config c = {.lps = lps,
	                       .packages = pkgs,
	                       .mem_pages = TXF_PAGES,
	                       .hkid_first = TXF_HKID_FIRST,
	                       .hkid_count = TXF_HKID_COUNT,
	                       .tdcs_pages = TXF_TDCS_PAGES,
	                       .tdvps_pages = TXF_TDVPS_PAGES};
	struct hvsim_error err = {0};

	cr_assert_eq(tdx_create(&c, &f->m, &err), HVSIM_OK, "tdx_create: %s", err.msg);
	f->next_page = TXF_RSVD_PAGES;
}

void txf_free(struct txf *f)
{
	tdx_destroy(f->m);
}

uint64_t txf_call(struct txf *f, unsigned lp, uint64_t leaf, uint64_t rcx, uint64_t rdx,
                  uint64_t r8, uint64_t r9, struct tdx_regs *out)
{
	struct tdx_regs r = {.rax = leaf, .rcx = rcx, .rdx = rdx, .r8 = r8, .r9 = r9};

	tdx_seamcall(f->m, lp, &r);
	if (out)
		*out = r;
	return r.rax;
}

unsigned txf_lp_of_pkg(const struct txf *f, unsigned pkg)
{
	for (unsigned lp = 0; lp < f->m->cfg.lps; lp++)
		if (f->m->lp[lp].pkg == pkg)
			return lp;
	return 0;
}

static void ok(uint64_t st, const char *what)
{
	cr_assert_eq(st, TDX_SUCCESS, "%s: wanted TDX_SUCCESS, got %#llx (%s)", what,
	             (unsigned long long)st, tdx_status_name(st));
}

void txf_ready(struct txf *f, unsigned lps, unsigned pkgs)
{
	struct tdx_regs r;

	txf_create(f, lps, pkgs);
	ok(txf_call(f, 0, TDH_SYS_INIT, 0, 0, 0, 0, NULL), "TDH.SYS.INIT");
	for (unsigned lp = 0; lp < lps; lp++)
		ok(txf_call(f, lp, TDH_SYS_LP_INIT, 0, 0, 0, 0, NULL), "TDH.SYS.LP.INIT");
	ok(txf_call(f, 0, TDH_SYS_CONFIG, 0, TXF_HOST_PAGE, TXF_GLOBAL_HKID,
	            TXF_RSVD_PAGES * TDX_PAGE_SIZE, NULL),
	   "TDH.SYS.CONFIG");
	for (unsigned p = 0; p < pkgs; p++)
		ok(txf_call(f, txf_lp_of_pkg(f, p), TDH_SYS_KEY_CONFIG, 0, 0, 0, 0, NULL),
		   "TDH.SYS.KEY.CONFIG");
	do
		ok(txf_call(f, 0, TDH_SYS_TDMR_INIT, 0, 0, 0, 0, &r), "TDH.SYS.TDMR.INIT");
	while (r.rdx < TXF_HOST_PAGE);
	cr_assert_eq(tdx_sys_state(f->m), TDX_SYS_READY, "module not ready after init");
}

uint64_t txf_page(struct txf *f)
{
	cr_assert_lt(f->next_page, TXF_PAGES, "fixture out of pages");
	return (uint64_t)f->next_page++ * TDX_PAGE_SIZE;
}

void txf_check(const struct txf *f, const char *when)
{
	char why[256];

	cr_assert(tdx_check(f->m, why, sizeof(why)), "tdx_check after %s: %s", when, why);
}

void txf_build(struct txf *f, struct txf_td *td, unsigned hkid)
{
	td->hkid = hkid;
	td->tdr = txf_page(f);
	ok(txf_call(f, 0, TDH_MNG_CREATE, td->tdr, hkid, 0, 0, NULL), "TDH.MNG.CREATE");
	for (unsigned p = 0; p < f->m->cfg.packages; p++)
		ok(txf_call(f, txf_lp_of_pkg(f, p), TDH_MNG_KEY_CONFIG, td->tdr, 0, 0, 0, NULL),
		   "TDH.MNG.KEY.CONFIG");
	for (unsigned i = 0; i < TXF_TDCS_PAGES; i++) {
		td->tdcx[i] = txf_page(f);
		ok(txf_call(f, 0, TDH_MNG_ADDCX, td->tdcx[i], td->tdr, 0, 0, NULL),
		   "TDH.MNG.ADDCX");
	}
	ok(txf_call(f, 0, TDH_MNG_INIT, td->tdr, TXF_HOST_PAGE, 0, 0, NULL), "TDH.MNG.INIT");
	td->tdvpr = txf_page(f);
	ok(txf_call(f, 0, TDH_VP_CREATE, td->tdvpr, td->tdr, 0, 0, NULL), "TDH.VP.CREATE");
	for (unsigned i = 0; i < TXF_TDVPS_PAGES - 1; i++) {
		td->tdvpx[i] = txf_page(f);
		ok(txf_call(f, 0, TDH_VP_ADDCX, td->tdvpx[i], td->tdvpr, 0, 0, NULL),
		   "TDH.VP.ADDCX");
	}
	ok(txf_call(f, 0, TDH_VP_INIT, td->tdvpr, 0, 0, 0, NULL), "TDH.VP.INIT");
	for (unsigned l = 3; l >= 1; l--) {
		td->sept[3 - l] = txf_page(f);
		ok(txf_call(f, 0, TDH_MEM_SEPT_ADD,
		            (TXF_GPA & ~((UINT64_C(1) << (12 + 9 * l)) - 1)) | l, td->tdr,
		            td->sept[3 - l], 0, NULL),
		   "TDH.MEM.SEPT.ADD");
	}
	td->page = txf_page(f);
	ok(txf_call(f, 0, TDH_MEM_PAGE_ADD, TXF_GPA, td->tdr, td->page, TXF_HOST_PAGE, NULL),
	   "TDH.MEM.PAGE.ADD");
	for (unsigned i = 0; i < TDX_PAGE_SIZE; i += 256)
		ok(txf_call(f, 0, TDH_MR_EXTEND, TXF_GPA + i, td->tdr, 0, 0, NULL),
		   "TDH.MR.EXTEND");
}

void txf_build_runnable(struct txf *f, struct txf_td *td, unsigned hkid)
{
	txf_build(f, td, hkid);
	ok(txf_call(f, 0, TDH_MR_FINALIZE, td->tdr, 0, 0, 0, NULL), "TDH.MR.FINALIZE");
}
