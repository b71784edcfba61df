/* PMU model: the guest-visible accesses, RDMSR and WRMSR of the PMU MSRs and RDPMC. Intel: SDM
 * Vol. 3B 21.2 (counters, event selects, fixed-function counters, the global control, status,
 * reset, set and in-use MSRs, full-width writes) and SDM Vol. 2B RDPMC; AMD: APM Vol. 2 13.2
 * (legacy and PerfCtrExtCore counters, PerfMonV2 global MSRs) and APM Vol. 3 RDPMC. Every refused
 * access is PMU_ACCESS_GP with the state unchanged: writes validate first, then store. */
#include "pmu_int.h"

/* Which register an MSR number names. */
enum reg_kind {
	REG_NONE,       /* not a PMU MSR of this vendor */
	REG_ABSENT,     /* a PMU MSR number the configuration lacks: #GP */
	REG_GP_CTR,     /* IA32_PMCx, PERF_CTRn (legacy write semantics on Intel) */
	REG_GP_CTR_FW,  /* IA32_A_PMCx: full-width writes */
	REG_GP_SEL,     /* IA32_PERFEVTSELx, PERF_CTLn */
	REG_FIXED_CTR,  /* IA32_FIXED_CTRx */
	REG_FIXED_CTRL, /* IA32_FIXED_CTR_CTRL */
	REG_CAPS,       /* IA32_PERF_CAPABILITIES (read-only) */
	REG_STATUS,     /* global status (read-only) */
	REG_CTRL,       /* global control */
	REG_STATUS_CLR, /* IA32_PERF_GLOBAL_STATUS_RESET, PerfCntrGlobalStatusClr */
	REG_STATUS_SET, /* IA32_PERF_GLOBAL_STATUS_SET, PerfCntrGlobalStatusSet */
	REG_INUSE,      /* IA32_PERF_GLOBAL_INUSE (read-only) */
};

struct reg {
	enum reg_kind kind;
	unsigned idx; /* counter index */
};

static bool in(uint32_t msr, uint32_t base, unsigned n, unsigned *idx)
{
	if (msr < base || msr - base >= n)
		return false;
	*idx = msr - base;
	return true;
}

/* An indexed counter register: present when idx < count (and the feature exists). */
static struct reg indexed(enum reg_kind kind, unsigned idx, unsigned count, bool feature)
{
	struct reg r = {feature && idx < count ? kind : REG_ABSENT, idx};

	return r;
}

static struct reg global_reg(const struct pmu *p, enum reg_kind kind, unsigned min_version)
{
	struct reg r = {REG_ABSENT, 0};

	if (pmu_has_global(p) && (!pmu_is_intel(p) || p->cfg.version >= min_version))
		r.kind = kind;
	return r;
}

/* SDM Vol. 4 Table 2-2: the architectural PMU MSRs. */
static struct reg intel_decode(const struct pmu *p, uint32_t msr)
{
	const struct pmu_config *c = &p->cfg;
	unsigned i;

	if (in(msr, MSR_IA32_PMC0, PMU_GP_MAX, &i))
		return indexed(REG_GP_CTR, i, c->n_gp, true);
	if (in(msr, MSR_IA32_A_PMC0, PMU_GP_MAX, &i)) /* SDM 21.2.6 */
		return indexed(REG_GP_CTR_FW, i, c->n_gp, pmu_has_fw_write(p));
	if (in(msr, MSR_IA32_PERFEVTSEL0, PMU_GP_MAX, &i))
		return indexed(REG_GP_SEL, i, c->n_gp, true);
	if (in(msr, MSR_IA32_FIXED_CTR0, PMU_FIXED_MAX, &i))
		return indexed(REG_FIXED_CTR, i, c->n_fixed, true);
	switch (msr) {
	case MSR_IA32_PERF_CAPABILITIES: return indexed(REG_CAPS, 0, 1, c->version >= 2);
	case MSR_IA32_FIXED_CTR_CTRL: return global_reg(p, REG_FIXED_CTRL, 2);
	case MSR_IA32_PERF_GLOBAL_STATUS: return global_reg(p, REG_STATUS, 2);
	case MSR_IA32_PERF_GLOBAL_CTRL: return global_reg(p, REG_CTRL, 2);
	case MSR_IA32_PERF_GLOBAL_STATUS_RESET: return global_reg(p, REG_STATUS_CLR, 2);
	case MSR_IA32_PERF_GLOBAL_STATUS_SET: return global_reg(p, REG_STATUS_SET, 4);
	case MSR_IA32_PERF_GLOBAL_INUSE: return global_reg(p, REG_INUSE, 4);
	default: return (struct reg){REG_NONE, 0};
	}
}

/* APM 13.2: legacy PERF_CTL0-3/PERF_CTR0-3 alias counters 0-3 of PerfCtrExtCore's interleaved
 * PERF_CTLn/PERF_CTRn at 0xC0010200 + 2n; PerfMonV2's global MSRs at 0xC0000300. */
static struct reg amd_decode(const struct pmu *p, uint32_t msr)
{
	const struct pmu_config *c = &p->cfg;
	unsigned i;

	if (in(msr, MSR_AMD_PERF_CTL0, 4, &i))
		return indexed(REG_GP_SEL, i, c->n_gp, true);
	if (in(msr, MSR_AMD_PERF_CTR0, 4, &i))
		return indexed(REG_GP_CTR, i, c->n_gp, true);
	if (in(msr, MSR_AMD_PERF_CTL_EXT0, 12, &i))
		return indexed(i & 1 ? REG_GP_CTR : REG_GP_SEL, i / 2, c->n_gp, c->amd_ext_core);
	switch (msr) {
	case MSR_AMD_PERF_CNTR_GLOBAL_STATUS: return global_reg(p, REG_STATUS, 0);
	case MSR_AMD_PERF_CNTR_GLOBAL_CTL: return global_reg(p, REG_CTRL, 0);
	case MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR: return global_reg(p, REG_STATUS_CLR, 0);
	case MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET: return global_reg(p, REG_STATUS_SET, 0);
	default: return (struct reg){REG_NONE, 0};
	}
}

static struct reg decode(const struct pmu *p, uint32_t msr)
{
	return pmu_is_intel(p) ? intel_decode(p, msr) : amd_decode(p, msr);
}

bool pmu_msr_owned(const struct pmu *p, uint32_t msr)
{
	return decode(p, msr).kind != REG_NONE;
}

enum pmu_access pmu_msr_read(const struct pmu *p, uint32_t msr, uint64_t *value)
{
	struct reg r = decode(p, msr);

	*value = 0;
	switch (r.kind) {
	case REG_NONE: return PMU_ACCESS_UNHANDLED;
	case REG_ABSENT: return PMU_ACCESS_GP; /* SDM Vol. 2B RDMSR: a reserved MSR */
	case REG_GP_CTR:
	case REG_GP_CTR_FW: *value = p->gp_ctr[r.idx]; break;
	case REG_GP_SEL: *value = p->gp_sel[r.idx]; break;
	case REG_FIXED_CTR: *value = p->fixed_ctr[r.idx]; break;
	case REG_FIXED_CTRL: *value = p->fixed_ctrl; break;
	case REG_CAPS: *value = p->cfg.perf_capabilities; break;
	case REG_STATUS: *value = p->global_status; break;
	case REG_CTRL: *value = p->global_ctrl; break;
	case REG_INUSE: *value = pmu_global_inuse(p); break;
	case REG_STATUS_CLR: /* write-only: reads return 0 */
	case REG_STATUS_SET: break;
	}
	return PMU_ACCESS_OK;
}

/* The value a counter write stores, or false for #GP. */
static bool counter_value(const struct pmu *p, enum reg_kind kind, uint64_t v, uint64_t *out)
{
	uint64_t gm = pmu_width_mask(p->cfg.gp_width);

	switch (kind) {
	case REG_GP_CTR:
		if (!pmu_is_intel(p)) {
			*out = v &
			       gm; /* APM 13.2.1: the counter holds 48 bits; the rest are dropped */
			return true;
		}
		/* SDM 21.2.6 "Full-Width Writes to Performance Counter Registers": a write to
		 * IA32_PMCx takes EAX sign-extended to the counter's width */
		*out = (uint64_t)(int64_t)(int32_t)(uint32_t)v & gm;
		return true;
	case REG_GP_CTR_FW:
		*out = v; /* SDM 21.2.6: bits beyond the counter width are reserved */
		return !(v & ~gm);
	default:
		*out = v; /* SDM 21.2.2: IA32_FIXED_CTRx bits beyond the fixed width are reserved */
		return !(v & ~pmu_width_mask(p->cfg.fixed_width));
	}
}

static enum pmu_access write_counter(struct pmu *p, const struct reg *r, uint64_t v)
{
	uint64_t val;

	if (!counter_value(p, r->kind, v, &val))
		return PMU_ACCESS_GP;
	if (r->kind == REG_FIXED_CTR)
		p->fixed_ctr[r->idx] = val;
	else
		p->gp_ctr[r->idx] = val;
	return PMU_ACCESS_OK;
}

/* Stores v into reg when none of the reserved bits is set. */
static enum pmu_access store(uint64_t *reg, uint64_t v, uint64_t reserved)
{
	if (v & reserved)
		return PMU_ACCESS_GP;
	*reg = v;
	return PMU_ACCESS_OK;
}

static enum pmu_access write_status(struct pmu *p, enum reg_kind kind, uint64_t v)
{
	uint64_t ctrs = pmu_counters_mask(p);

	if (kind == REG_STATUS_CLR) {
		/* SDM 21.2.2, 21.2.4: writing 1 clears the status bit; APM 13.2 likewise */
		if (v & ~pmu_status_clear_valid(p))
			return PMU_ACCESS_GP;
		p->global_status &= ~v;
		return PMU_ACCESS_OK;
	}
	/* SDM 21.2.4: STATUS_SET sets status bits without a PMI; the model has no PEBS, LBR,
	 * uncore or trace status, so only counter bits are valid here */
	if (v & ~ctrs)
		return PMU_ACCESS_GP;
	p->global_status |= v;
	return PMU_ACCESS_OK;
}

enum pmu_access pmu_msr_write(struct pmu *p, uint32_t msr, uint64_t value)
{
	struct reg r = decode(p, msr);

	switch (r.kind) {
	case REG_NONE: return PMU_ACCESS_UNHANDLED;
	case REG_GP_CTR:
	case REG_GP_CTR_FW:
	case REG_FIXED_CTR: return write_counter(p, &r, value);
	case REG_GP_SEL: return store(&p->gp_sel[r.idx], value, pmu_evtsel_reserved(p));
	case REG_FIXED_CTRL: return store(&p->fixed_ctrl, value, pmu_fixed_ctrl_reserved(p));
	case REG_CTRL: return store(&p->global_ctrl, value, ~pmu_counters_mask(p));
	case REG_STATUS_CLR:
	case REG_STATUS_SET: return write_status(p, r.kind, value);
	default: return PMU_ACCESS_GP; /* absent, or read-only: STATUS, INUSE, CAPABILITIES */
	}
}

/* SDM Vol. 2B RDPMC: ECX[30] selects the fixed-function counters, ECX[29:0] the index; AMD
 * (APM Vol. 3 RDPMC) takes ECX as the counter number. Other bits and indexes beyond the counters
 * raise #GP(0). */
static bool rdpmc_counter(const struct pmu *p, uint32_t ecx, const uint64_t **ctr)
{
	uint32_t idx = ecx & ~PMU_RDPMC_FIXED;

	if (pmu_is_intel(p) && (ecx & PMU_RDPMC_FIXED)) {
		if (idx >= p->cfg.n_fixed)
			return false;
		*ctr = &p->fixed_ctr[idx];
		return true;
	}
	if (ecx >= p->cfg.n_gp)
		return false;
	*ctr = &p->gp_ctr[ecx];
	return true;
}

enum pmu_access pmu_rdpmc(const struct pmu *p, uint32_t ecx, unsigned cpl, bool cr4_pce,
                          uint64_t *value)
{
	const uint64_t *ctr;

	*value = 0;
	/* SDM Vol. 2B RDPMC: #GP(0) when CPL > 0 and CR4.PCE = 0 */
	if (cpl > 0 && !cr4_pce)
		return PMU_ACCESS_GP;
	if (!rdpmc_counter(p, ecx, &ctr))
		return PMU_ACCESS_GP;
	*value = *ctr;
	return PMU_ACCESS_OK;
}

uint64_t pmu_counter_value(const struct pmu *p, bool fixed, unsigned idx)
{
	if (fixed)
		return idx < p->cfg.n_fixed ? p->fixed_ctr[idx] : 0;
	return idx < p->cfg.n_gp ? p->gp_ctr[idx] : 0;
}
