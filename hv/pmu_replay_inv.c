/* The named PMU invariants of the pmu-replay algorithm and fuzz_pmu_msr (pmu_replay_int.h). Each
 * restates its rule from the specification independently of the model (its own MSR map, widths
 * and masks from the configuration), so a model bug in a shared helper cannot hide itself; state
 * is read through the model's private layout (models/pmu_int.h) and compared field by field.
 * Leaves out: anything about the engine's vCPU PMU. Spec: SDM Vol. 3B chapter 21, APM 13.2. */
#include "pmu_replay_int.h"

#include "../models/pmu_int.h"

#include <stdio.h>
#include <string.h>

static uint64_t mask_of(unsigned width)
{
	return width >= 64 ? ~UINT64_C(0) : width ? (UINT64_C(1) << width) - 1 : 0;
}

static bool global_msrs(const struct pmu_config *c)
{
	return c->vendor == PMU_VENDOR_INTEL ? c->version >= 2 : c->amd_perfmon_v2;
}

static uint64_t existing(const struct pmu_config *c)
{
	return mask_of(c->n_gp) | mask_of(c->n_fixed) << 32;
}

/* The counter an MSR number names: 0 GP, 1 fixed, -1 none; *idx its index. */
static int msr_counter(const struct pmu_config *c, uint32_t msr, unsigned *idx)
{
	if (c->vendor == PMU_VENDOR_INTEL) {
		if (msr >= 0xC1 && msr < 0xC1u + c->n_gp)
			return *idx = msr - 0xC1, 0;
		if (msr >= 0x4C1 && msr < 0x4C1u + c->n_gp && c->version >= 2 &&
		    (c->perf_capabilities & PMU_CAP_FW_WRITE))
			return *idx = msr - 0x4C1, 0;
		if (msr >= 0x309 && msr < 0x309u + c->n_fixed)
			return *idx = msr - 0x309, 1;
		return -1;
	}
	if (msr >= 0xC0010004 && msr <= 0xC0010007)
		return *idx = msr - 0xC0010004, 0;
	if (c->amd_ext_core && msr >= 0xC0010201 && msr <= 0xC001020B && (msr & 1))
		return *idx = (msr - 0xC0010201) / 2, 0;
	return -1;
}

unsigned pmu_replay_msr_counter_width(const struct pmu_config *cfg, uint32_t msr)
{
	unsigned idx;
	int k = msr_counter(cfg, msr, &idx);

	return k < 0 ? 0 : k == 0 ? cfg->gp_width : cfg->fixed_width;
}

bool pmu_replay_inv_counter_width(const struct pmu *p, uint64_t value, unsigned value_width,
                                  char *why, size_t cap)
{
	const struct pmu_config *c = &p->cfg;

	for (unsigned i = 0; i < c->n_gp; i++)
		if (p->gp_ctr[i] & ~mask_of(c->gp_width)) {
			snprintf(why, cap, "GP counter %u = %#llx, width %u", i,
			         (unsigned long long)p->gp_ctr[i], c->gp_width);
			return false;
		}
	for (unsigned j = 0; j < c->n_fixed; j++)
		if (p->fixed_ctr[j] & ~mask_of(c->fixed_width)) {
			snprintf(why, cap, "fixed counter %u = %#llx, width %u", j,
			         (unsigned long long)p->fixed_ctr[j], c->fixed_width);
			return false;
		}
	if (value_width && (value & ~mask_of(value_width))) {
		snprintf(why, cap, "a counter read returned %#llx, width %u",
		         (unsigned long long)value, value_width);
		return false;
	}
	return true;
}

/* SDM Vol. 2B RDPMC; APM Vol. 3 RDPMC: the MSR of the counter ECX names, 0 when none */
static uint32_t rdpmc_msr(const struct pmu_config *c, uint32_t ecx)
{
	if (c->vendor == PMU_VENDOR_INTEL) {
		if (ecx & (1u << 30))
			return (ecx & ~(1u << 30)) < c->n_fixed ? 0x309 + (ecx & ~(1u << 30)) : 0;
		return ecx < c->n_gp ? 0xC1 + ecx : 0;
	}
	if (ecx >= c->n_gp)
		return 0;
	return ecx < 4 ? 0xC0010004 + ecx : 0xC0010201 + 2 * ecx;
}

bool pmu_replay_inv_rdpmc(const struct pmu *p, uint32_t ecx, unsigned cpl, bool pce,
                          enum pmu_access got, uint64_t value, char *why, size_t cap)
{
	uint32_t msr = rdpmc_msr(&p->cfg, ecx);
	bool want_gp = (cpl > 0 && !pce) || msr == 0;
	uint64_t v = 0;

	if ((got == PMU_ACCESS_GP) != want_gp || (got != PMU_ACCESS_GP && got != PMU_ACCESS_OK)) {
		snprintf(why, cap, "RDPMC ECX %#x CPL %u PCE %d: wanted %s, got access %d", ecx,
		         cpl, pce, want_gp ? "#GP" : "a value", got);
		return false;
	}
	if (want_gp)
		return true;
	if (pmu_msr_read(p, msr, &v) != PMU_ACCESS_OK || v != value) {
		snprintf(why, cap, "RDPMC ECX %#x = %#llx, RDMSR %#x = %#llx", ecx,
		         (unsigned long long)value, msr, (unsigned long long)v);
		return false;
	}
	return true;
}

bool pmu_replay_inv_status(const struct pmu *before, const struct pmu *after, uint64_t counted,
                           uint64_t set, uint64_t cleared, char *why, size_t cap)
{
	uint64_t appeared = after->global_status & ~before->global_status;
	uint64_t ok = global_msrs(&after->cfg) ? existing(&after->cfg) : 0;

	if (after->global_status & ~ok) {
		snprintf(why, cap, "status %#llx names missing counters (existing %#llx)",
		         (unsigned long long)after->global_status, (unsigned long long)ok);
		return false;
	}
	if (after->global_status & cleared) { /* SDM 21.2.2, APM 13.2 */
		snprintf(why, cap, "status %#llx after a reset of %#llx",
		         (unsigned long long)after->global_status, (unsigned long long)cleared);
		return false;
	}
	if (appeared & ~(counted | set)) {
		snprintf(why, cap, "status bits %#llx appeared; overflows %#llx, STATUS_SET %#llx",
		         (unsigned long long)appeared, (unsigned long long)counted,
		         (unsigned long long)set);
		return false;
	}
	return true;
}

/* One counter's rule for pmu_replay_inv_count: bit is its status/overflow bit. */
static bool count_one(const struct pmu *before, const struct pmu *after, uint64_t b, uint64_t a,
                      unsigned width, uint64_t n, unsigned bit, const struct pmu_count_result *res,
                      char *why, size_t cap)
{
	uint64_t m = mask_of(width), d = (a - b) & m, nn = n & m;
	bool counted = d != 0;
	bool wrapped = counted && ((n & ~m) || nn > m - b);
	uint64_t sb = UINT64_C(1) << bit;
	bool reported = res->overflow & sb;

	if (d != 0 && d != nn)
		snprintf(why, cap, "counter bit %u went %#llx -> %#llx for %#llx events", bit,
		         (unsigned long long)b, (unsigned long long)a, (unsigned long long)n);
	else if (wrapped && global_msrs(&after->cfg) && !(after->global_status & sb))
		snprintf(why, cap, "counter bit %u wrapped (%#llx + %#llx) without its status bit",
		         bit, (unsigned long long)b, (unsigned long long)n);
	else if (reported &&
	         ((counted && !wrapped) || (!counted && nn != 0) || (before->global_status & sb)))
		snprintf(why, cap, "overflow of bit %u reported: %#llx -> %#llx for %#llx events",
		         bit, (unsigned long long)b, (unsigned long long)a, (unsigned long long)n);
	else
		return true;
	return false;
}

/* A counter may advance only when enabled: GP counters with EN (SDM 21.2.1.1, APM 13.2.1),
 * fixed ones with an OS or USR bit in their nibble (SDM 21.2.2), both under their global enable
 * where the global control exists (SDM 21.2.2, APM 13.2 PerfMonV2). */
static bool may_count(const struct pmu *p, unsigned bit)
{
	bool global = !global_msrs(&p->cfg) || (p->global_ctrl >> bit & 1);

	if (bit < 32)
		return global && (p->gp_sel[bit] & PMU_EVTSEL_EN);
	return global && ((p->fixed_ctrl >> (4 * (bit - 32))) & 3);
}

static bool count_enabled(const struct pmu *before, unsigned bit, uint64_t b, uint64_t a, char *why,
                          size_t cap)
{
	if (a == b || may_count(before, bit))
		return true;
	snprintf(why, cap, "disabled counter bit %u advanced %#llx -> %#llx", bit,
	         (unsigned long long)b, (unsigned long long)a);
	return false;
}

bool pmu_replay_inv_count(const struct pmu *before, const struct pmu *after, uint64_t n,
                          const struct pmu_count_result *res, char *why, size_t cap)
{
	const struct pmu_config *c = &after->cfg;

	for (unsigned i = 0; i < c->n_gp; i++) {
		uint64_t b = before->gp_ctr[i], a = after->gp_ctr[i];

		if (!count_one(before, after, b, a, c->gp_width, n, i, res, why, cap) ||
		    !count_enabled(before, i, b, a, why, cap))
			return false;
	}
	for (unsigned j = 0; j < c->n_fixed; j++) {
		uint64_t b = before->fixed_ctr[j], a = after->fixed_ctr[j];

		if (!count_one(before, after, b, a, c->fixed_width, n, 32 + j, res, why, cap) ||
		    !count_enabled(before, 32 + j, b, a, why, cap))
			return false;
	}
	if (res->overflow & ~existing(c)) {
		snprintf(why, cap, "overflow bits %#llx name missing counters",
		         (unsigned long long)res->overflow);
		return false;
	}
	return true;
}

static bool same_cfg(const struct pmu_config *a, const struct pmu_config *b)
{
	return a->vendor == b->vendor && a->version == b->version && a->n_gp == b->n_gp &&
	       a->gp_width == b->gp_width && a->n_fixed == b->n_fixed &&
	       a->fixed_width == b->fixed_width && a->n_events == b->n_events &&
	       a->events_unavailable == b->events_unavailable &&
	       a->perf_capabilities == b->perf_capabilities && a->amd_ext_core == b->amd_ext_core &&
	       a->amd_perfmon_v2 == b->amd_perfmon_v2;
}

/* The first differing register of two PMUs, or NULL when they are the same. */
static const char *first_difference(const struct pmu *a, const struct pmu *b)
{
	if (!same_cfg(&a->cfg, &b->cfg))
		return "configuration";
	if (memcmp(a->gp_ctr, b->gp_ctr, sizeof(a->gp_ctr)))
		return "GP counters";
	if (memcmp(a->gp_sel, b->gp_sel, sizeof(a->gp_sel)))
		return "event selects";
	if (memcmp(a->fixed_ctr, b->fixed_ctr, sizeof(a->fixed_ctr)))
		return "fixed counters";
	if (a->fixed_ctrl != b->fixed_ctrl)
		return "IA32_FIXED_CTR_CTRL";
	if (a->global_ctrl != b->global_ctrl)
		return "global control";
	if (a->global_status != b->global_status)
		return "global status";
	return NULL;
}

bool pmu_replay_inv_no_effect(const struct pmu *before, const struct pmu *after, char *why,
                              size_t cap)
{
	const char *d = first_difference(before, after);

	if (d)
		snprintf(why, cap, "%s changed", d);
	return !d;
}

bool pmu_replay_inv_same(const struct pmu *a, const struct pmu *b, char *why, size_t cap)
{
	const char *d = first_difference(a, b);

	if (!d && memcmp(a, b, sizeof(*a)))
		d = "state bytes";
	if (d)
		snprintf(why, cap, "copy differs: %s", d);
	return !d;
}

/* What RDMSR of msr must return after WRMSR of v took effect; false when msr is not a read-write
 * MSR (*ro set when it is a read-only one, which must not have taken the write). */
static bool expected_read(const struct pmu_config *c, uint32_t msr, uint64_t v, uint64_t *want,
                          bool *ro)
{
	uint64_t gm = mask_of(c->gp_width);

	*ro = false;
	*want = v;
	if (c->vendor == PMU_VENDOR_INTEL) {
		if (msr >= 0xC1 && msr <= 0xC8) /* SDM 21.2.6: legacy write sign-extends bit 31 */
			*want = (uint64_t)(int64_t)(int32_t)(uint32_t)v & gm;
		else if (msr == 0x390 || msr == 0x391)
			*want = 0;
		*ro = msr == 0x38E || msr == 0x392 || msr == 0x345;
		return !*ro;
	}
	if ((msr >= 0xC0010004 && msr <= 0xC0010007) ||
	    (msr >= 0xC0010201 && msr <= 0xC001020B && (msr & 1)))
		*want = v & gm; /* APM 13.2.1: 48-bit counters */
	else if (msr == 0xC0000302 || msr == 0xC0000303)
		*want = 0;
	*ro = msr == 0xC0000300;
	return !*ro;
}

bool pmu_replay_inv_roundtrip(const struct pmu *p, uint32_t msr, uint64_t written, char *why,
                              size_t cap)
{
	uint64_t want, got = 0;
	bool ro;

	if (!expected_read(&p->cfg, msr, written, &want, &ro)) {
		if (ro)
			snprintf(why, cap, "read-only MSR %#x took the write of %#llx", msr,
			         (unsigned long long)written);
		return !ro;
	}
	if (pmu_msr_read(p, msr, &got) != PMU_ACCESS_OK || got != want) {
		snprintf(why, cap, "MSR %#x: wrote %#llx, wanted %#llx back, read %#llx", msr,
		         (unsigned long long)written, (unsigned long long)want,
		         (unsigned long long)got);
		return false;
	}
	return true;
}
