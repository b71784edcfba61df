/* Private layout of the PMU model, shared by pmu.c (configuration, profiles, CPUID, life cycle,
 * checks), pmu_msr.c (RDMSR, WRMSR, RDPMC) and pmu_count.c (counting and overflow).
 *
 * Invariants (pmu_check verifies them):
 * - gp_ctr[i] < 2^gp_width and fixed_ctr[j] < 2^fixed_width; entries past n_gp / n_fixed are 0.
 * - gp_sel[i] has no bit of pmu_evtsel_reserved(); fixed_ctrl none of pmu_fixed_ctrl_reserved().
 * - global_ctrl and global_status name only existing counters (pmu_counters_mask); both are 0
 *   on a PMU without the global MSRs (Intel v1, AMD without PerfMonV2), except global_ctrl,
 *   which the model keeps at "all enabled" there so counting needs no vendor test.
 * The state holds no pointers: a struct copy is a snapshot. */
#ifndef HVSIM_PMU_INT_H
#define HVSIM_PMU_INT_H

#include <hvsim/pmu.h>

struct pmu {
	struct pmu_config cfg;
	uint64_t gp_ctr[PMU_GP_MAX];       /* IA32_PMCx / PERF_CTRn, events modulo 2^gp_width */
	uint64_t gp_sel[PMU_GP_MAX];       /* IA32_PERFEVTSELx / PERF_CTLn */
	uint64_t fixed_ctr[PMU_FIXED_MAX]; /* IA32_FIXED_CTRx, events modulo 2^fixed_width */
	uint64_t fixed_ctrl;               /* IA32_FIXED_CTR_CTRL */
	uint64_t global_ctrl;              /* IA32_PERF_GLOBAL_CTRL / PerfCntrGlobalCtl */
	uint64_t global_status;            /* IA32_PERF_GLOBAL_STATUS / PerfCntrGlobalStatus */
};

/* All ones in the low `bits` bits (bits 1..64). */
static inline uint64_t pmu_width_mask(unsigned bits)
{
	return bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
}

static inline bool pmu_is_intel(const struct pmu *p)
{
	return p->cfg.vendor == PMU_VENDOR_INTEL;
}

/* The global control/status MSRs exist: Intel v2+ (SDM 21.2.2), AMD PerfMonV2 (APM 13.2). */
static inline bool pmu_has_global(const struct pmu *p)
{
	return pmu_is_intel(p) ? p->cfg.version >= 2 : p->cfg.amd_perfmon_v2;
}

/* AnyThread bits are defined in Intel v3 and v4 only; v5 deprecates them (CPUID.0AH:EDX[15],
 * SDM 21.2.3, 21.2.5). */
static inline bool pmu_has_anythread(const struct pmu *p)
{
	return pmu_is_intel(p) && (p->cfg.version == 3 || p->cfg.version == 4);
}

/* Full-width counter writes through IA32_A_PMCx (SDM 21.2.6). */
static inline bool pmu_has_fw_write(const struct pmu *p)
{
	return pmu_is_intel(p) && p->cfg.version >= 2 &&
	       (p->cfg.perf_capabilities & PMU_CAP_FW_WRITE);
}

/* Bit i for GP counter i, bit 32 + j for fixed counter j: the counters that exist. */
uint64_t pmu_counters_mask(const struct pmu *p);
/* Reserved bits of a PERFEVTSEL / PERF_CTL value (WRMSR with one set: #GP). */
uint64_t pmu_evtsel_reserved(const struct pmu *p);
/* Reserved bits of IA32_FIXED_CTR_CTRL. */
uint64_t pmu_fixed_ctrl_reserved(const struct pmu *p);
/* Bits IA32_PERF_GLOBAL_STATUS_RESET / PerfCntrGlobalStatusClr accepts. */
uint64_t pmu_status_clear_valid(const struct pmu *p);
/* IA32_PERF_GLOBAL_INUSE as read (SDM 21.2.4). */
uint64_t pmu_global_inuse(const struct pmu *p);

#endif
