/* PMU model: counting the events the owner reports. A GP counter counts an event when its event
 * select names it by the vendor's encoding (SDM 21.2.1.2 Table "UMask and Event Select Encodings
 * for Pre-Defined Architectural Performance Events"; APM 13.2 with the PPR event numbers KVM also
 * uses), EN is set, OS/USR allow the CPL and the global control enables it; fixed counter j counts
 * its fixed event under its IA32_FIXED_CTR_CTRL nibble. A counter with CMASK, INV or EDGE set
 * counts nothing here: those count cycles with a condition the model cannot see. Left out:
 * freeze-on-PMI, AnyThread (one logical processor), Host/Guest-only filtering on AMD. */
#include "pmu_int.h"

#include <string.h>

#define NO_EVENT 0xFFFFu

struct encoding {
	uint16_t event; /* event select (AMD: 12 bits); NO_EVENT when the vendor has none */
	uint8_t umask;
};

/* SDM 21.2.1.2, in the order of enum pmu_event (CPUID.0AH:EBX bit order) */
static const struct encoding intel_events[PMU_EV_COUNT] = {
    {0x3C, 0x00}, {0xC0, 0x00}, {0x3C, 0x01}, {0x2E, 0x4F},
    {0x2E, 0x41}, {0xC4, 0x00}, {0xC5, 0x00}, {0xA4, 0x01},
};

/* AMD core events: cycles not in halt, retired instructions, retired branches, retired
 * mispredicted branches; no reference-cycle, LLC or slot equivalents among the core events */
static const struct encoding amd_events[PMU_EV_COUNT] = {
    {0x76, 0x00},  {0xC0, 0x00}, {NO_EVENT, 0}, {NO_EVENT, 0},
    {NO_EVENT, 0}, {0xC2, 0x00}, {0xC3, 0x00},  {NO_EVENT, 0},
};

/* The fixed-function counter that counts ev (SDM 21.2.2: fixed 0 INST_RETIRED.ANY, 1
 * CPU_CLK_UNHALTED.THREAD, 2 CPU_CLK_UNHALTED.REF_TSC; SDM 21.2.5: fixed 3 TOPDOWN.SLOTS). */
static int fixed_for(enum pmu_event ev)
{
	switch (ev) {
	case PMU_EV_INSTRUCTIONS: return 0;
	case PMU_EV_CORE_CYCLES: return 1;
	case PMU_EV_REF_CYCLES: return 2;
	case PMU_EV_TOPDOWN_SLOTS: return 3;
	default: return -1;
	}
}

static bool cpl_allows(bool os, bool usr, unsigned cpl)
{
	return cpl == 0 ? os : usr;
}

static bool sel_counts(const struct pmu *p, uint64_t sel, enum pmu_event ev, unsigned cpl)
{
	const struct encoding *e = pmu_is_intel(p) ? &intel_events[ev] : &amd_events[ev];
	uint64_t event = sel & PMU_EVTSEL_EVENT;

	if (!pmu_is_intel(p))
		event |= (sel & PMU_AMD_EVTSEL_EVENT_HI) >> 24; /* EventSelect[11:8] at 35:32 */
	if (e->event == NO_EVENT || !(sel & PMU_EVTSEL_EN))
		return false;
	/* CPUID.0AH:EBX: an event the processor says is unavailable counts nothing */
	if (pmu_is_intel(p) && (ev >= p->cfg.n_events || (p->cfg.events_unavailable >> ev & 1)))
		return false;
	if (sel & (PMU_EVTSEL_CMASK | PMU_EVTSEL_INV | PMU_EVTSEL_EDGE))
		return false;
	return event == e->event && ((sel & PMU_EVTSEL_UMASK) >> 8) == e->umask &&
	       cpl_allows(sel & PMU_EVTSEL_OS, sel & PMU_EVTSEL_USR, cpl);
}

/* Adds n to *ctr modulo 2^width; true when it wrapped (passed the all-ones value). */
static bool advance(uint64_t *ctr, uint64_t n, unsigned width)
{
	uint64_t mask = pmu_width_mask(width);
	bool wrapped = (n & ~mask) != 0 || (n & mask) > mask - *ctr;

	*ctr = (*ctr + n) & mask;
	return wrapped;
}

/* An overflow sets the counter's global status bit where the status MSR exists (SDM 21.2.2;
 * APM 13.2 PerfMonV2) and requests a PMI when the counter's interrupt is enabled. */
static void overflow(struct pmu *p, unsigned bit, bool interrupt, struct pmu_count_result *res)
{
	uint64_t b = UINT64_C(1) << bit;

	if (pmu_has_global(p)) {
		res->overflow |= b & ~p->global_status;
		p->global_status |= b;
	}
	res->pmi |= interrupt;
}

static void count_gp(struct pmu *p, enum pmu_event ev, uint64_t n, unsigned cpl,
                     struct pmu_count_result *res)
{
	for (unsigned i = 0; i < p->cfg.n_gp; i++) {
		uint64_t sel = p->gp_sel[i];

		if (!(p->global_ctrl >> i & 1) || !sel_counts(p, sel, ev, cpl))
			continue;
		if (advance(&p->gp_ctr[i], n, p->cfg.gp_width))
			overflow(p, i, sel & PMU_EVTSEL_INT, res);
	}
}

static void count_fixed(struct pmu *p, enum pmu_event ev, uint64_t n, unsigned cpl,
                        struct pmu_count_result *res)
{
	int j = fixed_for(ev);
	unsigned nib;

	if (j < 0 || j >= p->cfg.n_fixed || !(p->global_ctrl >> (PMU_GLOBAL_FIXED_SHIFT + j) & 1))
		return;
	nib = (p->fixed_ctrl >> (4 * j)) & 0xF;
	if (!cpl_allows(nib & PMU_FIXED_OS, nib & PMU_FIXED_USR, cpl))
		return;
	if (advance(&p->fixed_ctr[j], n, p->cfg.fixed_width))
		overflow(p, PMU_GLOBAL_FIXED_SHIFT + (unsigned)j, nib & PMU_FIXED_PMI, res);
}

/* Events until a counter at value v of width bits wraps: 2^width - v, saturated. */
static uint64_t to_wrap(uint64_t v, unsigned width)
{
	uint64_t left = pmu_width_mask(width) - v;

	return left == UINT64_MAX ? UINT64_MAX : left + 1;
}

static void nearest(bool *found, uint64_t *n, uint64_t cand)
{
	if (!*found || cand < *n)
		*n = cand;
	*found = true;
}

bool pmu_counting(const struct pmu *p)
{
	for (unsigned i = 0; i < p->cfg.n_gp; i++)
		if ((p->global_ctrl >> i & 1) && (p->gp_sel[i] & PMU_EVTSEL_EN))
			return true;
	for (unsigned j = 0; j < p->cfg.n_fixed; j++)
		if ((p->global_ctrl >> (PMU_GLOBAL_FIXED_SHIFT + j) & 1) &&
		    ((p->fixed_ctrl >> (4 * j)) & (PMU_FIXED_OS | PMU_FIXED_USR)))
			return true;
	return false;
}

bool pmu_next_pmi(const struct pmu *p, enum pmu_event ev, unsigned cpl, uint64_t *n)
{
	bool found = false;
	int j = fixed_for(ev);
	uint64_t best = 0;

	if ((unsigned)ev >= PMU_EV_COUNT)
		return false;
	for (unsigned i = 0; i < p->cfg.n_gp; i++)
		if ((p->global_ctrl >> i & 1) && (p->gp_sel[i] & PMU_EVTSEL_INT) &&
		    sel_counts(p, p->gp_sel[i], ev, cpl))
			nearest(&found, &best, to_wrap(p->gp_ctr[i], p->cfg.gp_width));
	if (j >= 0 && j < p->cfg.n_fixed && (p->global_ctrl >> (PMU_GLOBAL_FIXED_SHIFT + j) & 1)) {
		unsigned nib = (p->fixed_ctrl >> (4 * j)) & 0xF;

		if ((nib & PMU_FIXED_PMI) &&
		    cpl_allows(nib & PMU_FIXED_OS, nib & PMU_FIXED_USR, cpl))
			nearest(&found, &best, to_wrap(p->fixed_ctr[j], p->cfg.fixed_width));
	}
	if (found)
		*n = best;
	return found;
}

void pmu_count(struct pmu *p, enum pmu_event ev, uint64_t n, unsigned cpl,
               struct pmu_count_result *res)
{
	memset(res, 0, sizeof(*res));
	if ((unsigned)ev >= PMU_EV_COUNT || n == 0)
		return;
	count_gp(p, ev, n, cpl, res);
	count_fixed(p, ev, n, cpl, res);
}
