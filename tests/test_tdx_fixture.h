/* Shared fixture of the TDX model tests: a module brought to SYS_READY the way Linux initializes
 * it (TDH.SYS.INIT, TDH.SYS.LP.INIT on every LP, TDH.SYS.CONFIG, TDH.SYS.KEY.CONFIG on every
 * package, TDH.SYS.TDMR.INIT until done), a page allocator over the TDMR, and the TD build KVM's
 * tdx.c performs (TDH.MNG.CREATE ... TDH.MR.FINALIZE). Tests break one step and check the status.
 * Each test owns its fixture. */
#ifndef TEST_TDX_FIXTURE_H
#define TEST_TDX_FIXTURE_H

#include <hvsim/tdx.h>

#include "../models/tdx/tdx_int.h"

#define TXF_PAGES       128u /* simulated memory */
#define TXF_RSVD_PAGES  4u   /* the TDMR's reserved area (pages 0-3) */
#define TXF_HKID_FIRST  32u
#define TXF_HKID_COUNT  8u
#define TXF_GLOBAL_HKID 32u
#define TXF_TDCS_PAGES  4u
#define TXF_TDVPS_PAGES 3u
#define TXF_HOST_PAGE   ((uint64_t)TXF_PAGES * TDX_PAGE_SIZE) /* host memory, outside the TDMR */
#define TXF_GPA         UINT64_C(0x100000)                    /* the private GPA the build adds */

struct txf {
	struct tdx_module *m;
	uint32_t next_page; /* the allocator: next page to hand out */
};

/* The pages of one TD as KVM allocates them. */
struct txf_td {
	uint64_t tdr, tdcx[TXF_TDCS_PAGES], tdvpr, tdvpx[TXF_TDVPS_PAGES - 1];
	uint64_t sept[3]; /* levels 3, 2, 1 covering TXF_GPA */
	uint64_t page;    /* the page added at TXF_GPA */
	unsigned hkid;
};

/* A module with lps LPs in pkgs packages, brought to SYS_READY (asserts every step). */
void txf_ready(struct txf *f, unsigned lps, unsigned pkgs);
/* A module created but not initialized. */
void txf_create(struct txf *f, unsigned lps, unsigned pkgs);
void txf_free(struct txf *f);
/* The next free page's HPA. */
uint64_t txf_page(struct txf *f);
/* SEAMCALL leaf on lp with RCX, RDX, R8, R9; returns RAX; *out (when not NULL) gets the regs. */
uint64_t txf_call(struct txf *f, unsigned lp, uint64_t leaf, uint64_t rcx, uint64_t rdx,
                  uint64_t r8, uint64_t r9, struct tdx_regs *out);
/* KVM's TD build up to (not including) TDH.MR.FINALIZE: create with hkid, key config on every
 * package, TDCS pages, init, one vCPU (create, TDVPX, init), Secure-EPT levels 3-1 and one page
 * added and measured at TXF_GPA (asserts every step). */
void txf_build(struct txf *f, struct txf_td *td, unsigned hkid);
/* txf_build, then TDH.MR.FINALIZE. */
void txf_build_runnable(struct txf *f, struct txf_td *td, unsigned hkid);
/* The first LP of package pkg. */
unsigned txf_lp_of_pkg(const struct txf *f, unsigned pkg);
/* Asserts tdx_check holds, naming when. */
void txf_check(const struct txf *f, const char *when);

#endif
