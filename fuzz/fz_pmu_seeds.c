/* The hand-made seeds of fuzz_pmu_msr: operation lists that reach what random bytes rarely do (a
 * counter programmed, preset just below its wrap, counted past it with its PMI enabled, its
 * status read and cleared; the fixed counters under IA32_FIXED_CTR_CTRL; legacy and full-width
 * counter writes; STATUS_SET and INUSE; RDPMC's privilege rule; each AMD flavour; snapshots), one
 * or more per profile. fuzz/fzgen encodes them into fuzz/corpus/fuzz_pmu_msr/, and
 * tests/test_fuzz_pmu.c runs each one and checks that it got where its name says ("wants"). */
#include "fz_pmu_seeds.h"

/* Operation builders, named after what they do (one line each: kept out of clang-format). */
/* clang-format off */
#define RD(m)           {.kind = PMU_REPLAY_RDMSR, .msr = (m)}
#define WR(m, v)        {.kind = PMU_REPLAY_WRMSR, .msr = (m), .value = (v)}
#define RDPMC(e, c, p)  {.kind = PMU_REPLAY_RDPMC, .msr = (e), .cpl = (c), .pce = (p)}
#define COUNT(ev, c, n) {.kind = PMU_REPLAY_COUNT, .event = (ev), .cpl = (c), .sub = 3, .value = (n)}
#define WRAP(ev, c, k, x) {.kind = PMU_REPLAY_COUNT, .event = (ev), .cpl = (c), .sub = 4, .ctr = (k), \
                           .value = (x)}
#define SNAPSHOT        {.kind = PMU_REPLAY_SNAPSHOT}
#define RESTORE         {.kind = PMU_REPLAY_RESTORE}
#define RESET           {.kind = PMU_REPLAY_RESET}
/* clang-format on */

/* Configuration bytes: profile index in pmu_profile_names() + 7 * variation */
#define ICX    0
#define SPR    1
#define V4     2
#define V2     3
#define V1     4
#define ZEN4   5
#define AMD    6
#define NO_FW  7  /* variation 1: FW_WRITE cleared */
#define FEWER  14 /* variation 2: one counter less of each kind */
#define WIDE64 21 /* variation 3: 64-bit GP counters */

#define SEL_INST    (PMU_EVTSEL_EN | PMU_EVTSEL_OS | PMU_EVTSEL_USR | 0xC0)
#define SEL_CYCLES  (PMU_EVTSEL_EN | PMU_EVTSEL_OS | PMU_EVTSEL_USR | 0x3C)
#define SEL_BRANCH  (PMU_EVTSEL_EN | PMU_EVTSEL_OS | 0xC4)
#define AMD_CYCLES  (PMU_EVTSEL_EN | PMU_EVTSEL_OS | PMU_EVTSEL_USR | 0x76)
#define AMD_BRANCH  (PMU_EVTSEL_EN | PMU_EVTSEL_USR | 0xC2)
#define FIXED_ALL   0xBBBBu /* every fixed counter at every CPL with PMI */
#define FIXED_EN(n) (((UINT64_C(1) << (n)) - 1) << 32)
#define INT         PMU_EVTSEL_INT

static const struct pmu_replay_op icx_overflow_pmi[] = {
    WR(MSR_IA32_PERFEVTSEL0, SEL_INST | INT), WR(MSR_IA32_A_PMC0, UINT64_C(0xFFFFFFFFFF00)),
    COUNT(PMU_EV_INSTRUCTIONS, 0, 0x80),      WRAP(PMU_EV_INSTRUCTIONS, 0, 0, 1),
    RD(MSR_IA32_PERF_GLOBAL_STATUS),          RDPMC(0, 0, false),
    WR(MSR_IA32_PERF_GLOBAL_STATUS_RESET, 1), RD(MSR_IA32_PERF_GLOBAL_STATUS),
};

static const struct pmu_replay_op icx_fixed[] = {
    WR(MSR_IA32_FIXED_CTR_CTRL, FIXED_ALL), WR(MSR_IA32_PERF_GLOBAL_CTRL, FIXED_EN(4) | 0xFF),
    COUNT(PMU_EV_INSTRUCTIONS, 0, 1000),    COUNT(PMU_EV_CORE_CYCLES, 3, 2000),
    COUNT(PMU_EV_REF_CYCLES, 0, 3000),      COUNT(PMU_EV_TOPDOWN_SLOTS, 0, 8000),
    RDPMC(PMU_RDPMC_FIXED | 0, 0, false),   RDPMC(PMU_RDPMC_FIXED | 3, 3, true),
    WRAP(PMU_EV_CORE_CYCLES, 0, 8 | 1, 5),  RD(MSR_IA32_PERF_GLOBAL_INUSE),
    RD(MSR_IA32_PERF_GLOBAL_STATUS),
};

static const struct pmu_replay_op spr_counter_writes[] = {
    WR(MSR_IA32_PMC0 + 1, 0x80000001),
    RD(MSR_IA32_PMC0 + 1),
    WR(MSR_IA32_PMC0 + 2, UINT64_C(0x123400000000) | 0x7FFFFFFF),
    WR(MSR_IA32_A_PMC0 + 3, UINT64_C(0x1000000000000)),
    WR(MSR_IA32_A_PMC0 + 3, UINT64_C(0xFFFFFFFFFFFF)),
    WR(MSR_IA32_FIXED_CTR0 + 2, UINT64_C(0x1000000000000)),
    WR(MSR_IA32_PERFEVTSEL0 + 7, PMU_EVTSEL_ANY),
    WR(MSR_IA32_PERFEVTSEL0 + 8, SEL_INST),
    RD(MSR_IA32_PERF_CAPABILITIES),
    WR(MSR_IA32_PERF_CAPABILITIES, 0),
};

static const struct pmu_replay_op v4_status_set_inuse[] = {
    WR(MSR_IA32_PERFEVTSEL0 + 1, SEL_BRANCH | PMU_EVTSEL_ANY),
    WR(MSR_IA32_FIXED_CTR_CTRL, 0x4A0),
    RD(MSR_IA32_PERF_GLOBAL_INUSE),
    WR(MSR_IA32_PERF_GLOBAL_STATUS_SET, UINT64_C(0x400000002)),
    RD(MSR_IA32_PERF_GLOBAL_STATUS),
    WR(MSR_IA32_PERF_GLOBAL_STATUS_SET, UINT64_C(1) << 62),
    WR(MSR_IA32_PERF_GLOBAL_STATUS_RESET, UINT64_C(0xC000000400000002)),
    COUNT(PMU_EV_BRANCHES, 0, 77),
    RDPMC(1, 0, false),
};

static const struct pmu_replay_op v2_ovf_ctrl[] = {
    WR(MSR_IA32_PERFEVTSEL0, SEL_CYCLES | INT),
    WR(MSR_IA32_PMC0, 0xFFFFFFF0),
    COUNT(PMU_EV_CORE_CYCLES, 3, 0x20),
    RD(MSR_IA32_PERF_GLOBAL_STATUS),
    WR(MSR_IA32_PERF_GLOBAL_STATUS_RESET, UINT64_C(1) << 63 | 1),
    RD(MSR_IA32_PERF_GLOBAL_STATUS_SET),
    RD(MSR_IA32_A_PMC0),
};

static const struct pmu_replay_op v1_no_global[] = {
    WR(MSR_IA32_PERFEVTSEL0 + 1, SEL_INST | INT),
    WR(MSR_IA32_PMC0 + 1, 0xFFFFFFFF),
    COUNT(PMU_EV_INSTRUCTIONS, 0, 2),
    RD(MSR_IA32_PERF_GLOBAL_CTRL),
    RD(MSR_IA32_FIXED_CTR0),
    RDPMC(PMU_RDPMC_FIXED, 0, false),
    RDPMC(1, 0, false),
};

static const struct pmu_replay_op rdpmc_privilege[] = {
    WR(MSR_IA32_PMC0 + 4, 0x4444),
    RDPMC(4, 3, false),
    RDPMC(4, 3, true),
    RDPMC(4, 1, false),
    RDPMC(4, 0, false),
    RDPMC(8, 0, false),
    RDPMC(0x80000000u, 0, false),
    RDPMC(PMU_RDPMC_FIXED | 4, 0, false),
};

static const struct pmu_replay_op zen4_perfmon_v2[] = {
    WR(MSR_AMD_PERF_CTL_EXT0 + 2 * 5, AMD_CYCLES | INT),
    WR(MSR_AMD_PERF_CTR_EXT0 + 2 * 5, UINT64_C(0xFFFFFFFFFFF0)),
    WRAP(PMU_EV_CORE_CYCLES, 0, 5, 3),
    RD(MSR_AMD_PERF_CNTR_GLOBAL_STATUS),
    WR(MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR, 0x20),
    WR(MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET, 0x3),
    WR(MSR_AMD_PERF_CNTR_GLOBAL_CTL, 0x1F),
    WR(MSR_AMD_PERF_CTL0, AMD_BRANCH),
    COUNT(PMU_EV_BRANCHES, 3, 9),
    RD(MSR_AMD_PERF_CTR_EXT0),
    RDPMC(5, 0, false),
    WR(MSR_AMD_PERF_CTL0 + 1, UINT64_C(1) << 21),
};

static const struct pmu_replay_op amd_legacy[] = {
    WR(MSR_AMD_PERF_CTL0 + 3, SEL_INST | INT),
    WR(MSR_AMD_PERF_CTR0 + 3, ~UINT64_C(0)),
    COUNT(PMU_EV_INSTRUCTIONS, 0, 1),
    RD(MSR_AMD_PERF_CTR0 + 3),
    RD(MSR_AMD_PERF_CTL_EXT0),
    RD(MSR_AMD_PERF_CNTR_GLOBAL_STATUS),
    RDPMC(3, 3, true),
};

static const struct pmu_replay_op snapshot_restore[] = {
    WR(MSR_IA32_PERFEVTSEL0, SEL_INST),
    SNAPSHOT,
    COUNT(PMU_EV_INSTRUCTIONS, 0, 100),
    WR(MSR_IA32_PERF_GLOBAL_CTRL, 0),
    RESTORE,
    COUNT(PMU_EV_INSTRUCTIONS, 0, 5),
    RDPMC(0, 0, false),
    RESET,
    RD(MSR_IA32_PERF_GLOBAL_CTRL),
};

static const struct pmu_replay_op wide_counters[] = {
    WR(MSR_IA32_PERFEVTSEL0, SEL_INST | INT), WR(MSR_IA32_PMC0, 0xFFFFFFFF),
    WRAP(PMU_EV_INSTRUCTIONS, 0, 0, 1),       RD(MSR_IA32_PMC0),
    WR(MSR_IA32_A_PMC0, ~UINT64_C(0)),
};

#define SEED(n, cfg, ops, ...)                                         \
	{                                                              \
		n, cfg, ops, sizeof(ops) / sizeof(ops[0]), __VA_ARGS__ \
	}

/* wants: gp, writes, rdpmc, overflows, pmis, restores */
static const struct fz_pmu_seed seeds[] = {
    SEED("icx-overflow-pmi", ICX, icx_overflow_pmi, {0, 3, 1, 1, 1, 0}), /* exports */
    SEED("icx-fixed-counters", ICX, icx_fixed, {0, 2, 2, 1, 1, 0}),
    SEED("spr-counter-writes", SPR, spr_counter_writes, {4, 3, 0, 0, 0, 0}),
    SEED("v4-status-set-inuse", V4, v4_status_set_inuse, {1, 4, 1, 0, 0, 0}),
    SEED("v2-ovf-ctrl", V2, v2_ovf_ctrl, {1, 3, 0, 1, 1, 0}),
    SEED("v1-no-global", V1, v1_no_global, {3, 2, 1, 0, 1, 0}),
    SEED("rdpmc-privilege", ICX, rdpmc_privilege, {5, 1, 2, 0, 0, 0}),
    SEED("zen4-perfmon-v2", ZEN4, zen4_perfmon_v2, {1, 6, 1, 1, 1, 0}),
    SEED("amd-legacy", AMD, amd_legacy, {2, 2, 1, 0, 1, 0}),
    SEED("snapshot-restore", ICX + NO_FW, snapshot_restore, {0, 2, 1, 0, 0, 1}),
    SEED("wide-counters", V4 + WIDE64, wide_counters, {0, 3, 0, 1, 1, 0}),
    SEED("fewer-counters", ICX + FEWER, rdpmc_privilege, {5, 1, 2, 0, 0, 0}),
};

size_t fz_pmu_seed_count(void)
{
	return sizeof(seeds) / sizeof(seeds[0]);
}

const struct fz_pmu_seed *fz_pmu_seed_at(size_t i)
{
	return i < fz_pmu_seed_count() ? &seeds[i] : NULL;
}

size_t fz_pmu_seed_bytes(const struct fz_pmu_seed *seed, uint8_t *buf, size_t cap)
{
	struct fz_out o;

	fz_out_init(&o, buf, cap);
	fz_put(&o, seed->config, 1);
	for (size_t i = 0; i < seed->n_ops; i++)
		fz_pmu_encode(&o, &seed->ops[i]);
	return o.overflow ? 0 : o.len;
}
