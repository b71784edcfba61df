/* Performance-monitoring unit model: the Intel architectural PMU (versions 1-5, SDM Vol. 3B
 * chapter 21 "Performance Monitoring", 21.2) and the AMD core PMU (legacy PERF_CTL/PERF_CTR,
 * PerfCtrExtCore and PerfMonV2, APM 13.2). Plain state without pointers: no globals, no host time,
 * copy to snapshot. The model counts only what its owner reports (pmu_count: instructions retired,
 * cycles, ...); an overflow sets the global status bit and, with the counter's interrupt enable,
 * reports a PMI the owner delivers through the LAPIC's LVT Performance Counter entry. MSR accesses
 * and RDPMC return #GP as a result, never abort. docs/pmu-model.md describes what is modelled. */
#ifndef HVSIM_PMU_H
#define HVSIM_PMU_H

#include <hvsim/base.h>

struct pmu;

/* ---- Intel MSRs (SDM Vol. 4 Table 2-2) ---- */
#define MSR_IA32_PMC0                     0xC1u  /* IA32_PMCx = 0xC1 + x */
#define MSR_IA32_PERFEVTSEL0              0x186u /* IA32_PERFEVTSELx = 0x186 + x */
#define MSR_IA32_FIXED_CTR0               0x309u /* IA32_FIXED_CTRx = 0x309 + x */
#define MSR_IA32_PERF_CAPABILITIES        0x345u
#define MSR_IA32_FIXED_CTR_CTRL           0x38Du
#define MSR_IA32_PERF_GLOBAL_STATUS       0x38Eu /* read-only */
#define MSR_IA32_PERF_GLOBAL_CTRL         0x38Fu
#define MSR_IA32_PERF_GLOBAL_STATUS_RESET 0x390u /* IA32_PERF_GLOBAL_OVF_CTRL before v4 */
#define MSR_IA32_PERF_GLOBAL_STATUS_SET   0x391u /* v4+ */
#define MSR_IA32_PERF_GLOBAL_INUSE        0x392u /* v4+, read-only */
#define MSR_IA32_A_PMC0                   0x4C1u /* full-width aliases, with FW_WRITE */

/* ---- AMD MSRs (APM 13.2.1, 13.2.2) ---- */
#define MSR_AMD_PERF_CTL0                   0xC0010000u /* legacy PERF_CTL0-3 */
#define MSR_AMD_PERF_CTR0                   0xC0010004u /* legacy PERF_CTR0-3 */
#define MSR_AMD_PERF_CTL_EXT0               0xC0010200u /* PERF_CTLn = base + 2n (PerfCtrExtCore) */
#define MSR_AMD_PERF_CTR_EXT0               0xC0010201u /* PERF_CTRn = base + 2n */
#define MSR_AMD_PERF_CNTR_GLOBAL_STATUS     0xC0000300u /* PerfMonV2, read-only */
#define MSR_AMD_PERF_CNTR_GLOBAL_CTL        0xC0000301u
#define MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR 0xC0000302u
#define MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET 0xC0000303u

/* ---- IA32_PERFEVTSELx / AMD PERF_CTLn bits (SDM 21.2.1.1, APM 13.2.1) ---- */
#define PMU_EVTSEL_EVENT        UINT64_C(0xFF)
#define PMU_EVTSEL_UMASK        UINT64_C(0xFF00)
#define PMU_EVTSEL_USR          (UINT64_C(1) << 16)
#define PMU_EVTSEL_OS           (UINT64_C(1) << 17)
#define PMU_EVTSEL_EDGE         (UINT64_C(1) << 18)
#define PMU_EVTSEL_PC           (UINT64_C(1) << 19) /* Intel only */
#define PMU_EVTSEL_INT          (UINT64_C(1) << 20)
#define PMU_EVTSEL_ANY          (UINT64_C(1) << 21) /* Intel v3-v4 AnyThread */
#define PMU_EVTSEL_EN           (UINT64_C(1) << 22)
#define PMU_EVTSEL_INV          (UINT64_C(1) << 23)
#define PMU_EVTSEL_CMASK        UINT64_C(0xFF000000)
#define PMU_AMD_EVTSEL_EVENT_HI UINT64_C(0xF00000000)   /* EventSelect[11:8] */
#define PMU_AMD_EVTSEL_HG       UINT64_C(0x30000000000) /* GuestOnly, HostOnly */

/* IA32_FIXED_CTR_CTRL: one nibble per fixed counter (SDM 21.2.2) */
#define PMU_FIXED_OS  1u /* count at CPL 0 */
#define PMU_FIXED_USR 2u /* count at CPL > 0 */
#define PMU_FIXED_ANY 4u /* v3-v4 AnyThread */
#define PMU_FIXED_PMI 8u

#define PMU_GLOBAL_FIXED_SHIFT 32 /* fixed counter j is bit 32 + j of the global MSRs */
#define PMU_INUSE_PMI          (UINT64_C(1) << 63) /* IA32_PERF_GLOBAL_INUSE[63] */
#define PMU_CAP_FW_WRITE       (UINT64_C(1) << 13) /* IA32_PERF_CAPABILITIES: A_PMCx exist */
#define PMU_RDPMC_FIXED        (UINT32_C(1) << 30) /* RDPMC ECX[30]: fixed-function counter */

#define PMU_GP_MAX    8 /* general-purpose counters the model holds */
#define PMU_FIXED_MAX 4 /* fixed-function counters the model holds */

enum pmu_vendor {
	PMU_VENDOR_INTEL = 0,
	PMU_VENDOR_AMD = 1,
};

/* The description a PMU is built from (pmu_profile fills one for a CPU profile). */
struct pmu_config {
	enum pmu_vendor vendor;
	uint8_t version;            /* Intel architectural PMU version 1-5; AMD: 0 */
	uint8_t n_gp;               /* general-purpose counters, 1..PMU_GP_MAX (AMD 4, or 6 ext) */
	uint8_t gp_width;           /* bits of a GP counter, 32..64 */
	uint8_t n_fixed;            /* fixed-function counters (Intel v2+), 0..PMU_FIXED_MAX */
	uint8_t fixed_width;        /* bits of a fixed counter, 32..64 (0 without fixed ones) */
	uint8_t n_events;           /* CPUID.0AH:EAX[31:24]: architectural events enumerated, 0-8 */
	uint8_t events_unavailable; /* CPUID.0AH:EBX: bit i set = architectural event i absent */
	uint64_t perf_capabilities; /* IA32_PERF_CAPABILITIES (Intel, v2+; FW_WRITE is bit 13) */
	bool amd_ext_core;          /* AMD PerfCtrExtCore: 6 counters at 0xC0010200 */
	bool amd_perfmon_v2;        /* AMD PerfMonV2: global control/status MSRs */
};

/* The events an owner reports, in the order of the architectural events of CPUID.0AH:EBX (SDM
 * 21.2.1.2 "Pre-defined Architectural Performance Events"); each counter selects them by the
 * vendor's encoding. */
enum pmu_event {
	PMU_EV_CORE_CYCLES = 0, /* unhalted core cycles (Intel fixed 1) */
	PMU_EV_INSTRUCTIONS,    /* instructions retired (Intel fixed 0) */
	PMU_EV_REF_CYCLES,      /* unhalted reference cycles (Intel fixed 2; none on AMD) */
	PMU_EV_LLC_REFERENCES,  /* Intel only */
	PMU_EV_LLC_MISSES,      /* Intel only */
	PMU_EV_BRANCHES,        /* branch instructions retired */
	PMU_EV_BRANCH_MISSES,   /* mispredicted branches retired */
	PMU_EV_TOPDOWN_SLOTS,   /* Intel fixed 3 */
	PMU_EV_COUNT
};

/* What counting did. */
struct pmu_count_result {
	uint64_t overflow; /* global status bits this call set (bit i GP i, bit 32 + j fixed j) */
	bool pmi;          /* an overflowing counter has its interrupt enabled: raise LVTPC */
};

enum pmu_access {
	PMU_ACCESS_OK = 0,
	PMU_ACCESS_GP = 1,        /* the instruction raises #GP(0); nothing changed */
	PMU_ACCESS_UNHANDLED = 2, /* not a PMU MSR of this vendor: the owner decides */
};

/* ---- Configuration ---- */
/* Fills cfg for a named profile: "intel-icelake-server", "intel-sapphirerapids" (v5, 8 GP
 * 48-bit, 4 fixed 48-bit, FW_WRITE), "intel-v1", "intel-v2", "intel-v4" (older generations),
 * "amd-zen4" (6 counters 48-bit, PerfCtrExtCore, PerfMonV2), "amd-legacy" (4 counters).
 * HVSIM_E_INPUT for an unknown name (cfg untouched). */
enum hvsim_status pmu_profile(const char *name, struct pmu_config *cfg);
/* The profile names pmu_profile knows, NULL-terminated. Can't fail. */
const char *const *pmu_profile_names(void);
/* True when cfg describes a PMU the model can build; otherwise why (cap bytes) says what is
 * wrong. Pure. */
bool pmu_config_valid(const struct pmu_config *cfg, char *why, size_t cap);
/* CPUID leaf 0xA (Intel) or 0x80000022 (AMD) derived from cfg into regs (EAX, EBX, ECX, EDX);
 * false, regs zeroed, for any other leaf or the other vendor's. Pure. */
bool pmu_cpuid(const struct pmu_config *cfg, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/* ---- Life cycle ---- */
/* Builds a PMU in its RESET state. HVSIM_E_INPUT for an invalid config (message in err),
 * HVSIM_E_NOMEM when out of memory; *out is NULL then. */
enum hvsim_status pmu_create(const struct pmu_config *cfg, struct pmu **out,
                             struct hvsim_error *err);
/* NULL is allowed. */
void pmu_destroy(struct pmu *p);
/* Bytes of state; the state holds no pointers, so copying these bytes snapshots it. */
size_t pmu_state_size(void);
/* Snapshot or restore: dst becomes an exact copy of src. Can't fail. */
void pmu_copy(struct pmu *dst, const struct pmu *src);
/* The configuration the PMU was built with. Pure, can't fail. */
const struct pmu_config *pmu_get_config(const struct pmu *p);
/* RESET (power-up) state: counters and selectors 0, global control enabling every GP counter
 * (SDM 21.2.2; AMD PerfCntrGlobalCtl likewise). Can't fail. */
void pmu_reset(struct pmu *p);

/* ---- Guest-visible accesses ---- */
/* True when msr is one of this vendor's PMU MSR numbers (whether or not the configuration has
 * that counter). Pure. */
bool pmu_msr_owned(const struct pmu *p, uint32_t msr);
/* RDMSR. PMU_ACCESS_GP for a counter or MSR the configuration lacks; UNHANDLED (value 0) for MSRs
 * pmu_msr_owned rejects. Pure. */
enum pmu_access pmu_msr_read(const struct pmu *p, uint32_t msr, uint64_t *value);
/* WRMSR. PMU_ACCESS_GP for a missing counter or MSR, a read-only MSR, or a reserved bit set;
 * the state is then unchanged. UNHANDLED for MSRs pmu_msr_owned rejects. */
enum pmu_access pmu_msr_write(struct pmu *p, uint32_t msr, uint64_t value);
/* RDPMC with ECX = ecx at privilege level cpl: PMU_ACCESS_GP (value 0) when CPL > 0 with
 * CR4.PCE clear, or ecx names no counter; else the counter's value. Never UNHANDLED. Pure. */
enum pmu_access pmu_rdpmc(const struct pmu *p, uint32_t ecx, unsigned cpl, bool cr4_pce,
                          uint64_t *value);
/* The value a counter holds (fixed: fixed-function counter idx), 0 for one that does not exist.
 * Pure. */
uint64_t pmu_counter_value(const struct pmu *p, bool fixed, unsigned idx);

/* ---- Counting ---- */
/* The owner reports n occurrences of ev at privilege level cpl: every counter enabled for them
 * (EN/OS/USR or the fixed nibble, the global enable) advances by n modulo its width; a wrap sets
 * its global status bit and, with its INT/PMI bit, res->pmi. Can't fail. */
void pmu_count(struct pmu *p, enum pmu_event ev, uint64_t n, unsigned cpl,
               struct pmu_count_result *res);

/* The fewest occurrences of ev at cpl after which a counter that counts them with its interrupt
 * enabled (INT, or the fixed counter's PMI bit) wraps, in *n (saturated at UINT64_MAX); false,
 * *n untouched, when no such counter would. An owner arms its overflow timer with it. Pure. */
bool pmu_next_pmi(const struct pmu *p, enum pmu_event ev, unsigned cpl, uint64_t *n);

/* True when some counter is enabled: its global enable bit set and its own enable (EN, or the
 * fixed counter's OS/USR bits). Otherwise pmu_count changes nothing and pmu_next_pmi finds no
 * counter, for every event and level, and an owner may skip both. Pure. */
bool pmu_counting(const struct pmu *p);

/* ---- Checks ---- */
/* The model's invariants: counters within their width, selectors and controls without reserved
 * bits, global status and control naming only existing counters. True when all hold; otherwise
 * why (cap bytes) says which broke. Pure. */
bool pmu_check(const struct pmu *p, char *why, size_t cap);

#endif
