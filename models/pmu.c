/* PMU model: the configuration (profiles, validation), CPUID leaf 0xA (Intel) and 0x80000022
 * (AMD) derived from it, the life cycle and the invariant check. Follows SDM Vol. 3B chapter 21
 * "Performance Monitoring" (21.2, architectural performance monitoring versions 1-5), SDM Vol. 2A
 * CPUID leaf 0AH, and APM Vol. 2 13.2 "Performance Monitoring Counters". Left out: PEBS, LBRs,
 * debug store, PERF_METRICS, uncore and northbridge counters, freeze-on-PMI (IA32_DEBUGCTL
 * Freeze_PerfMon_On_PMI, AMD's LbrAndPmcFreeze), AnyThread counting of a sibling thread (the model
 * has one logical processor), and non-architectural events. */
#include "pmu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* Intel CPUID.0AH:EAX[31:24]: architectural events v1-v4 enumerate 7, v5 with top-down slots 8 */
#define INTEL_EVENTS_V4 7
#define INTEL_EVENTS_V5 8
#define AMD_LEGACY_CTRS 4 /* PERF_CTL0-3 / PERF_CTR0-3 (APM 13.2) */
#define AMD_EXT_CTRS    6 /* PerfCtrExtCore */

/* IA32_PERF_CAPABILITIES of the profiles: LBR format 5, PEBS trap, PEBS save arch regs, PEBS
 * record format 4, FW_WRITE (bit 13); PERF_METRICS (bit 15), which the model leaves out, clear. */
#define CAP_ICX UINT64_C(0x24C5)
/* Skylake-like: LBR format 4, PEBS format 3, SMM freeze, FW_WRITE. */
#define CAP_SKL UINT64_C(0x33C4)

struct profile {
	const char *name;
	struct pmu_config cfg;
};

static const struct profile profiles[] = {
    {"intel-icelake-server",
     {PMU_VENDOR_INTEL, 5, 8, 48, 4, 48, INTEL_EVENTS_V5, 0, CAP_ICX, false, false}},
    {"intel-sapphirerapids",
     {PMU_VENDOR_INTEL, 5, 8, 48, 4, 48, INTEL_EVENTS_V5, 0, CAP_ICX, false, false}},
    {"intel-v4", {PMU_VENDOR_INTEL, 4, 4, 48, 3, 48, INTEL_EVENTS_V4, 0, CAP_SKL, false, false}},
    {"intel-v2", {PMU_VENDOR_INTEL, 2, 2, 40, 3, 40, INTEL_EVENTS_V4, 0, 0, false, false}},
    {"intel-v1", {PMU_VENDOR_INTEL, 1, 2, 40, 0, 0, INTEL_EVENTS_V4, 0, 0, false, false}},
    {"amd-zen4", {PMU_VENDOR_AMD, 0, AMD_EXT_CTRS, 48, 0, 0, 0, 0, 0, true, true}},
    {"amd-legacy", {PMU_VENDOR_AMD, 0, AMD_LEGACY_CTRS, 48, 0, 0, 0, 0, 0, false, false}},
};

static const char *const profile_names[] = {
    "intel-icelake-server",
    "intel-sapphirerapids",
    "intel-v4",
    "intel-v2",
    "intel-v1",
    "amd-zen4",
    "amd-legacy",
    NULL,
};

enum hvsim_status pmu_profile(const char *name, struct pmu_config *cfg)
{
	for (size_t i = 0; name && i < N(profiles); i++) {
		if (strcmp(profiles[i].name, name) == 0) {
			*cfg = profiles[i].cfg;
			return HVSIM_OK;
		}
	}
	return HVSIM_E_INPUT;
}

const char *const *pmu_profile_names(void)
{
	return profile_names;
}

/* ---- Validation ---- */

static bool width_ok(unsigned w)
{
	return w >= 32 && w <= 64;
}

static bool intel_valid(const struct pmu_config *c, char *why, size_t cap)
{
	if (c->version < 1 || c->version > 5)
		snprintf(why, cap, "Intel PMU version %u not in 1..5", c->version);
	else if (c->n_gp < 1 || c->n_gp > PMU_GP_MAX || !width_ok(c->gp_width))
		snprintf(why, cap, "%u GP counters of %u bits (1..%d, 32..64 bits)", c->n_gp,
		         c->gp_width, PMU_GP_MAX);
	else if (c->n_fixed > PMU_FIXED_MAX || (c->version == 1 && c->n_fixed))
		snprintf(why, cap, "%u fixed counters with version %u", c->n_fixed, c->version);
	else if (c->n_fixed && !width_ok(c->fixed_width))
		snprintf(why, cap, "fixed counters of %u bits (32..64)", c->fixed_width);
	else if (c->n_events > 8)
		snprintf(why, cap, "%u architectural events (at most 8)", c->n_events);
	else if (c->version == 1 && c->perf_capabilities)
		snprintf(why, cap, "IA32_PERF_CAPABILITIES needs version 2 (PDCM)");
	else if (c->amd_ext_core || c->amd_perfmon_v2)
		snprintf(why, cap, "AMD features on an Intel PMU");
	else
		return true;
	return false;
}

static bool amd_valid(const struct pmu_config *c, char *why, size_t cap)
{
	unsigned want = c->amd_ext_core ? AMD_EXT_CTRS : AMD_LEGACY_CTRS;

	if (c->version || c->n_fixed || c->n_events || c->events_unavailable ||
	    c->perf_capabilities)
		snprintf(why, cap, "Intel architectural PMU fields on an AMD PMU");
	else if (c->n_gp != want || !width_ok(c->gp_width))
		snprintf(why, cap, "%u counters of %u bits (AMD: %u, 32..64 bits)", c->n_gp,
		         c->gp_width, want);
	else if (c->amd_perfmon_v2 && !c->amd_ext_core)
		snprintf(why, cap, "PerfMonV2 without PerfCtrExtCore");
	else
		return true;
	return false;
}

bool pmu_config_valid(const struct pmu_config *cfg, char *why, size_t cap)
{
	if (cfg->vendor == PMU_VENDOR_INTEL)
		return intel_valid(cfg, why, cap);
	if (cfg->vendor == PMU_VENDOR_AMD)
		return amd_valid(cfg, why, cap);
	snprintf(why, cap, "unknown vendor %d", (int)cfg->vendor);
	return false;
}

/* ---- CPUID ---- */

/* SDM Vol. 2A CPUID leaf 0AH "Architectural Performance Monitoring Leaf" */
static void cpuid_0a(const struct pmu_config *c, uint32_t r[4])
{
	r[0] = c->version | (uint32_t)c->n_gp << 8 | (uint32_t)c->gp_width << 16 |
	       (uint32_t)c->n_events << 24;
	r[1] = c->events_unavailable & (uint32_t)pmu_width_mask(c->n_events ? c->n_events : 1);
	r[1] = c->n_events ? r[1] : 0;
	r[2] = c->version >= 5 ? (uint32_t)pmu_width_mask(c->n_fixed ? c->n_fixed : 1) : 0;
	r[2] = c->n_fixed ? r[2] : 0;
	r[3] = c->version >= 2 ? (c->n_fixed | (uint32_t)c->fixed_width << 5) : 0;
	if (c->version >= 5)
		r[3] |= 1u << 15; /* AnyThread deprecation (SDM 21.2.5) */
}

bool pmu_cpuid(const struct pmu_config *cfg, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	(void)subleaf;
	memset(regs, 0, 4 * sizeof(regs[0]));
	if (cfg->vendor == PMU_VENDOR_INTEL && leaf == 0xA) {
		cpuid_0a(cfg, regs);
		return true;
	}
	if (cfg->vendor == PMU_VENDOR_AMD && leaf == 0x80000022) {
		/* APM Vol. 3 CPUID Fn8000_0022: EAX[0] PerfMonV2, EBX[3:0] NumPerfCtrCore */
		regs[0] = cfg->amd_perfmon_v2;
		regs[1] = cfg->amd_perfmon_v2 ? cfg->n_gp & 0xFu : 0;
		return true;
	}
	return false;
}

/* ---- Life cycle ---- */

enum hvsim_status pmu_create(const struct pmu_config *cfg, struct pmu **out,
                             struct hvsim_error *err)
{
	char why[160];

	*out = NULL;
	if (!pmu_config_valid(cfg, why, sizeof(why)))
		return hvsim_error_set(err, HVSIM_E_INPUT, "PMU configuration: %s", why);
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "PMU: out of memory");
	(*out)->cfg = *cfg;
	pmu_reset(*out);
	return HVSIM_OK;
}

void pmu_destroy(struct pmu *p)
{
	free(p);
}

size_t pmu_state_size(void)
{
	return sizeof(struct pmu);
}

void pmu_copy(struct pmu *dst, const struct pmu *src)
{
	memcpy(dst, src, sizeof(*dst)); /* padding too: a copy compares equal byte for byte */
}

const struct pmu_config *pmu_get_config(const struct pmu *p)
{
	return &p->cfg;
}

void pmu_reset(struct pmu *p)
{
	struct pmu_config cfg = p->cfg;

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	/* SDM 21.2.2 "Architectural Performance Monitoring Version 2": the GP enable bits of
	 * IA32_PERF_GLOBAL_CTRL are set at reset, fixed ones clear; AMD PerfCntrGlobalCtl resets
	 * to every core counter enabled. Without the MSR every counter is globally enabled. */
	p->global_ctrl = pmu_width_mask(cfg.n_gp);
}

/* ---- Masks shared by the accessors and the check ---- */

uint64_t pmu_counters_mask(const struct pmu *p)
{
	uint64_t fixed = p->cfg.n_fixed ? pmu_width_mask(p->cfg.n_fixed) : 0;

	return pmu_width_mask(p->cfg.n_gp) | fixed << PMU_GLOBAL_FIXED_SHIFT;
}

uint64_t pmu_evtsel_reserved(const struct pmu *p)
{
	uint64_t valid = PMU_EVTSEL_EVENT | PMU_EVTSEL_UMASK | PMU_EVTSEL_USR | PMU_EVTSEL_OS |
	                 PMU_EVTSEL_EDGE | PMU_EVTSEL_INT | PMU_EVTSEL_EN | PMU_EVTSEL_INV |
	                 PMU_EVTSEL_CMASK;

	if (!pmu_is_intel(p)) /* APM 13.2.1: bits 19, 21, 39:36 and 63:42 reserved */
		return ~(valid | PMU_AMD_EVTSEL_EVENT_HI | PMU_AMD_EVTSEL_HG);
	valid |= PMU_EVTSEL_PC; /* SDM 21.2.1.1: bits 63:32 reserved */
	if (pmu_has_anythread(p))
		valid |= PMU_EVTSEL_ANY; /* SDM 21.2.3 */
	return ~valid;
}

uint64_t pmu_fixed_ctrl_reserved(const struct pmu *p)
{
	uint64_t valid = 0;
	unsigned nib = PMU_FIXED_OS | PMU_FIXED_USR | PMU_FIXED_PMI;

	if (pmu_has_anythread(p))
		nib |= PMU_FIXED_ANY;
	for (unsigned j = 0; j < p->cfg.n_fixed; j++)
		valid |= (uint64_t)nib << (4 * j); /* SDM 21.2.2, Figure "IA32_FIXED_CTR_CTRL" */
	return ~valid;
}

uint64_t pmu_status_clear_valid(const struct pmu *p)
{
	uint64_t v = pmu_counters_mask(p);

	if (!pmu_is_intel(p))
		return v;
	/* SDM 21.2.2: OvfBuf (62), CondChgd (63); SDM 21.2.4 adds Trace_ToPA (55), LBR_Frz (58),
	 * CTR_Frz (59), Ovf_Uncore (61). The model never sets them, so clearing them is a no-op. */
	v |= UINT64_C(3) << 62;
	if (p->cfg.version >= 4)
		v |= UINT64_C(1) << 55 | UINT64_C(3) << 58 | UINT64_C(1) << 61;
	return v;
}

uint64_t pmu_global_inuse(const struct pmu *p)
{
	uint64_t v = 0;
	bool pmi = false;

	/* SDM 21.2.4 "Architectural Performance Monitoring Version 4": PERFEVTSELn[7:0] != 0
	 * marks GP counter n in use, FIXED_CTR_CTRL's enable bits fixed counter j, and bit 63 any
	 * PMI enable. */
	for (unsigned i = 0; i < p->cfg.n_gp; i++) {
		v |= (uint64_t)((p->gp_sel[i] & PMU_EVTSEL_EVENT) != 0) << i;
		pmi |= (p->gp_sel[i] & PMU_EVTSEL_INT) != 0;
	}
	for (unsigned j = 0; j < p->cfg.n_fixed; j++) {
		unsigned nib = (p->fixed_ctrl >> (4 * j)) & 0xF;

		v |= (uint64_t)((nib & (PMU_FIXED_OS | PMU_FIXED_USR)) != 0)
		     << (PMU_GLOBAL_FIXED_SHIFT + j);
		pmi |= (nib & PMU_FIXED_PMI) != 0;
	}
	return v | (pmi ? PMU_INUSE_PMI : 0);
}

/* ---- Check ---- */

static bool check_counters(const struct pmu *p, char *why, size_t cap)
{
	uint64_t gm = pmu_width_mask(p->cfg.gp_width);
	uint64_t fm = p->cfg.n_fixed ? pmu_width_mask(p->cfg.fixed_width) : 0;

	for (unsigned i = 0; i < PMU_GP_MAX; i++) {
		uint64_t m = i < p->cfg.n_gp ? gm : 0;

		if (p->gp_ctr[i] & ~m) {
			snprintf(why, cap, "GP counter %u = %#llx exceeds its width (mask %#llx)",
			         i, (unsigned long long)p->gp_ctr[i], (unsigned long long)m);
			return false;
		}
		if (p->gp_sel[i] & (i < p->cfg.n_gp ? pmu_evtsel_reserved(p) : ~UINT64_C(0))) {
			snprintf(why, cap, "event select %u = %#llx has reserved bits", i,
			         (unsigned long long)p->gp_sel[i]);
			return false;
		}
	}
	for (unsigned j = 0; j < PMU_FIXED_MAX; j++) {
		uint64_t m = j < p->cfg.n_fixed ? fm : 0;

		if (p->fixed_ctr[j] & ~m) {
			snprintf(why, cap,
			         "fixed counter %u = %#llx exceeds its width (mask %#llx)", j,
			         (unsigned long long)p->fixed_ctr[j], (unsigned long long)m);
			return false;
		}
	}
	return true;
}

static bool check_global(const struct pmu *p, char *why, size_t cap)
{
	uint64_t ctrs = pmu_counters_mask(p);
	uint64_t status_ok = pmu_has_global(p) ? ctrs : 0;

	if (p->fixed_ctrl & pmu_fixed_ctrl_reserved(p))
		snprintf(why, cap, "IA32_FIXED_CTR_CTRL = %#llx has reserved bits",
		         (unsigned long long)p->fixed_ctrl);
	else if (p->global_ctrl & ~ctrs)
		snprintf(why, cap, "global control %#llx names counters that do not exist (%#llx)",
		         (unsigned long long)p->global_ctrl, (unsigned long long)ctrs);
	else if (!pmu_has_global(p) && p->global_ctrl != pmu_width_mask(p->cfg.n_gp))
		snprintf(why, cap, "global control %#llx without the global MSRs",
		         (unsigned long long)p->global_ctrl);
	else if (p->global_status & ~status_ok)
		snprintf(why, cap, "global status %#llx names counters that do not exist (%#llx)",
		         (unsigned long long)p->global_status, (unsigned long long)status_ok);
	else
		return true;
	return false;
}

bool pmu_check(const struct pmu *p, char *why, size_t cap)
{
	char tmp[8];

	if (!why) {
		why = tmp;
		cap = sizeof(tmp);
	}
	if (!pmu_config_valid(&p->cfg, why, cap))
		return false;
	return check_counters(p, why, cap) && check_global(p, why, cap);
}
