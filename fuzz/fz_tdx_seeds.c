/* The hand-made seeds of fuzz_tdx_seamcall (its dictionary: fz_dict.c): KVM's TD build to the first
 * TD exit, its teardown to the last reclaimed page, the page-acceptance flow (EPT violation, AUG,
 * ACCEPT), block/track/remove, block/track/unblock, TDH.MR.EXTEND around finalization, vCPU
 * association across two LPs, a two-package module, SEAMCALLs before the module is ready, and
 * HKID exhaustion. fuzz/fzgen encodes them into fuzz/corpus/fuzz_tdx_seamcall/;
 * tests/test_fuzz_tdx.c checks each reaches its counters. */
#include "fz_tdx.h"

#include <string.h>

/* Operation builders (one line each: kept out of clang-format). */
/* clang-format off */
#define NEXT(s_)          {.kind = FZ_TDX_NEXT, .mode = 0, .sel = (s_)}
#define DOWN(s_)          {.kind = FZ_TDX_NEXT, .mode = 1, .sel = (s_)}
#define EXIT(lp_)         {.kind = FZ_TDX_EXIT, .lp = (lp_)}
#define O(s, v_)          {.shape = FZ_TDX_##s, .v = (v_)}
#define SEAM(lp_, leaf_, a, b, c, d) {.kind = FZ_TDX_SEAMCALL, .lp = (lp_), .leaf = (leaf_), \
                           .opnd = {a, b, c, d}}
#define TDG(lp_, leaf_, a, b, c) {.kind = FZ_TDX_TDCALL, .lp = (lp_), .leaf = (leaf_), \
                           .opnd = {a, b, c, O(RAW, 0)}}
#define NONE              O(RAW, 0)
#define B5(s)             NEXT(s), NEXT(s), NEXT(s), NEXT(s), NEXT(s)
#define D5(s)             DOWN(s), DOWN(s), DOWN(s), DOWN(s), DOWN(s)
#define CFG(lps, pkgs, mem, tdcs, tdvps) {(uint8_t)(((lps) - 1) | ((pkgs) - 1) << 3), \
                           (uint8_t)((mem) | ((tdcs) - 1) << 2 | ((tdvps) - 1) << 4)}
/* clang-format on */

#define HLT_EXIT 12 /* TDG.VP.VMCALL sub-function: the VM exit reason HLT */

/* 6 init steps (2 LPs), 11 build steps with 1 TDCS and 1 TDVPS page, then the entry */
static const struct fz_tdx_op build_enter[] = {
    B5(0),
    B5(0),
    B5(0),
    B5(0),
    NEXT(0),
    TDG(0, TDG_VP_INFO, NONE, NONE, NONE),
    TDG(0, TDG_VP_VMCALL, O(RAW, 0xfc00), NONE, O(RAW, HLT_EXIT)),
    NEXT(0),
    TDG(0, TDG_VM_RD, NONE, O(FIELD, 13), NONE),
    EXIT(0),
};

static const struct fz_tdx_op build_teardown[] = {
    B5(0), B5(0), B5(0), B5(0), NEXT(0), D5(0), D5(0), D5(0), D5(0),
};

static const struct fz_tdx_op accept_flow[] = {
    B5(0),
    B5(0),
    B5(0),
    B5(0),
    NEXT(0),
    TDG(0, TDG_MEM_PAGE_ACCEPT, O(GPA, 1), NONE, NONE),
    SEAM(0, TDH_MEM_PAGE_AUG, O(GPA, 1), O(TDR, 0), O(FREE, 0), NONE),
    NEXT(0),
    TDG(0, TDG_MEM_PAGE_ACCEPT, O(GPA, 1), NONE, NONE),
    TDG(0, TDG_MEM_PAGE_ACCEPT, O(GPA, 1), NONE, NONE),
    TDG(0, TDG_VP_VEINFO_GET, NONE, NONE, NONE),
};

/* 16 steps (5 to ready, 11 to TDH.MR.FINALIZE): to the finalized TD, not entered (an LP inside a TD
 * cannot SEAMCALL) */
static const struct fz_tdx_op remove_flow[] = {
    B5(0),
    B5(0),
    B5(0),
    NEXT(0),
    SEAM(0, TDH_MEM_PAGE_REMOVE, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_RANGE_BLOCK, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_PAGE_REMOVE, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_TRACK, O(TDR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_MEM_PAGE_REMOVE, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MNG_RD, O(TDR, 0), O(FIELD, 7), NONE, NONE),
};

/* 15 steps to TDH.MEM.PAGE.ADD, then KVM's TDH.MR.EXTEND of 256-byte chunks, a misaligned and an
 * unmapped chunk, the finalization, and an extension after it */
static const struct fz_tdx_op measure_flow[] = {
    B5(0),
    B5(0),
    B5(0),
    SEAM(0, TDH_MR_EXTEND, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MR_EXTEND, O(RAW, FZ_TDX_GPA_BASE + 0x100), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MR_EXTEND, O(RAW, FZ_TDX_GPA_BASE + 0x180), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MR_EXTEND, O(GPA, 2), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MNG_RD, O(TDR, 0), O(FIELD, 16), NONE, NONE),
    NEXT(0),
    SEAM(0, TDH_MR_EXTEND, O(GPA, 0), O(TDR, 0), NONE, NONE),
};

/* a blocked page unblocks only after TDH.MEM.TRACK; a pending page blocks and unblocks too */
static const struct fz_tdx_op unblock_flow[] = {
    B5(0),
    B5(0),
    B5(0),
    NEXT(0),
    SEAM(0, TDH_MEM_RANGE_BLOCK, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_RANGE_UNBLOCK, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_TRACK, O(TDR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_MEM_RANGE_UNBLOCK, O(GPA, 0), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_PAGE_AUG, O(GPA, 3), O(TDR, 0), O(FREE, 0), NONE),
    SEAM(0, TDH_MEM_RANGE_BLOCK, O(GPA, 3), O(TDR, 0), NONE, NONE),
    SEAM(0, TDH_MEM_TRACK, O(TDR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_MEM_RANGE_UNBLOCK, O(GPA, 3), O(TDR, 0), NONE, NONE),
};

static const struct fz_tdx_op association[] = {
    B5(0),
    B5(0),
    B5(0),
    B5(0),
    NEXT(0),
    NEXT(0),
    EXIT(0),
    SEAM(1, TDH_VP_ENTER, O(TDVPR, 0), NONE, NONE, NONE),
    SEAM(1, TDH_VP_FLUSH, O(TDVPR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_VP_FLUSH, O(TDVPR, 0), NONE, NONE, NONE),
    SEAM(1, TDH_VP_ENTER, O(TDVPR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_MEM_TRACK, O(TDR, 0), NONE, NONE, NONE),
    SEAM(0, TDH_VP_RD, O(TDVPR, 0), O(FIELD, 19), NONE, NONE),
};

/* 10 init steps (4 LPs, 2 packages, 2 TDMR.INIT calls), 14 to finalize the first TD (keys on
 * both packages, 2 TDCS pages, 2 TDVPS pages), then the second TD built and entered */
static const struct fz_tdx_op two_packages[] = {
    B5(0),   B5(0),   B5(0), B5(0), NEXT(0), NEXT(0),
    NEXT(0), NEXT(0), B5(1), B5(1), B5(1),   SEAM(1, TDH_SYS_RD, NONE, O(FIELD, 0), NONE, NONE),
};

static const struct fz_tdx_op before_ready[] = {
    SEAM(0, TDH_MNG_CREATE, O(PAGE, 4), O(HKID, 1), NONE, NONE),
    SEAM(0, TDH_SYS_LP_INIT, NONE, NONE, NONE, NONE),
    SEAM(0, TDH_SYS_INIT, NONE, NONE, NONE, NONE),
    SEAM(0, TDH_SYS_INIT, NONE, NONE, NONE, NONE),
    SEAM(0, TDH_SYS_RD, NONE, O(FIELD, 5), NONE, NONE),
    SEAM(0, TDH_SYS_CONFIG, O(PAGE, 0), O(SMALL, 32), O(HKID, 0), O(SMALL, 2)),
    SEAM(0, TDH_SYS_LP_INIT, NONE, NONE, NONE, NONE),
    SEAM(0, TDH_SYS_CONFIG, O(PAGE, 0), O(SMALL, 32), O(HKID, 8), O(SMALL, 2)),
    SEAM(0, TDH_SYS_CONFIG, O(PAGE, 0), O(SMALL, 32), O(HKID, 0), O(SMALL, 2)),
    SEAM(0, TDH_SYS_TDMR_INIT, O(PAGE, 0), NONE, NONE, NONE),
    SEAM(0, TDH_SYS_KEY_CONFIG, NONE, NONE, NONE, NONE),
    SEAM(0, TDH_SYS_TDMR_INIT, O(PAGE, 0), NONE, NONE, NONE),
    SEAM(0, TDH_SYS_TDMR_INIT, O(PAGE, 0), NONE, NONE, NONE),
    SEAM(0, UINT64_C(0xff00ff), NONE, NONE, NONE, NONE),
};

/* Two private HKIDs, one of them the global one: the second TD finds none free */
static const struct fz_tdx_op hkid_exhaustion[] = {
    B5(0),
    NEXT(0),
    NEXT(0),
    NEXT(1),
    SEAM(0, TDH_MNG_CREATE, O(FREE, 0), O(HKID, 1), NONE, NONE),
    SEAM(0, TDH_MNG_CREATE, O(FREE, 0), O(HKID, 0), NONE, NONE),
};

#define SEED(name_, cfg_, ops_, ...)                                  \
	{                                                             \
		.name = (name_), .cfg = cfg_, .ops = (ops_),          \
		.n_ops = sizeof(ops_) / sizeof((ops_)[0]), .wants = { \
			__VA_ARGS__                                   \
		}                                                     \
	}

static const struct fz_tdx_seed seeds[] = {
    SEED("kvm-build-enter-hlt", CFG(2, 1, 1, 1, 1), build_enter, .finalized = 1, .entered = 2,
         .exits = 2),
    SEED("kvm-build-teardown", CFG(2, 1, 1, 1, 1), build_teardown, .entered = 1, .freed = 1,
         .reclaimed = 1),
    SEED("accept-after-ept-violation", CFG(1, 1, 1, 1, 1), accept_flow, .entered = 2, .exits = 1,
         .accepted = 1),
    SEED("block-track-remove", CFG(1, 1, 1, 1, 1), remove_flow, .finalized = 1, .removed = 1),
    SEED("measure-before-finalize", CFG(1, 1, 1, 1, 1), measure_flow, .finalized = 1, .ok = 19),
    SEED("block-track-unblock", CFG(1, 1, 1, 1, 1), unblock_flow, .finalized = 1, .ok = 22),
    SEED("vcpu-association-two-lps", CFG(2, 1, 1, 1, 1), association, .entered = 2, .exits = 1),
    SEED("two-packages-two-tds", CFG(4, 2, 2, 2, 2), two_packages, .created = 2, .finalized = 2),
    SEED("seamcalls-before-ready", CFG(1, 1, 0, 1, 1), before_ready, .ready = 1, .failed = 6),
    SEED("hkid-exhaustion", CFG(1, 1, 0x40, 1, 1), hkid_exhaustion, .created = 1, .failed = 1),
};

size_t fz_tdx_seed_count(void)
{
	return sizeof(seeds) / sizeof(seeds[0]);
}

const struct fz_tdx_seed *fz_tdx_seed_at(size_t i)
{
	return i < fz_tdx_seed_count() ? &seeds[i] : NULL;
}

size_t fz_tdx_seed_bytes(const struct fz_tdx_seed *seed, uint8_t *buf, size_t cap)
{
	struct fz_out o;

	fz_out_init(&o, buf, cap);
	fz_put(&o, seed->cfg[0], 1);
	fz_put(&o, seed->cfg[1], 1);
	for (size_t i = 0; i < seed->n_ops; i++)
		fz_tdx_encode(&o, &seed->ops[i]);
	return o.overflow ? 0 : o.len;
}
