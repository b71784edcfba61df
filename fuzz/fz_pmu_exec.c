/* Executing fuzz_pmu_msr's operations (fz_pmu.h) on the PMU model, the checks after each one, and
 * the run loop shared by the harness, its export and the tests. Every operation is followed by
 * the model's own check (pmu_check), counter_width and global_status, then the invariants of its
 * kind (rdpmc_matches_msr, count_advances_by_n, wrmsr_gp_no_effect, rdmsr_wrmsr_roundtrip,
 * snapshot_equal); the first violation ends the run. */
#include "fz_pmu.h"

#include <string.h>

enum hvsim_status fz_pmu_create(struct fz_pmu_sys *s)
{
	struct pmu_config c;

	memset(s, 0, sizeof(*s));
	pmu_profile("intel-icelake-server", &c);
	if (pmu_create(&c, &s->pmu, NULL) != HVSIM_OK ||
	    pmu_create(&c, &s->before, NULL) != HVSIM_OK ||
	    pmu_create(&c, &s->snap, NULL) != HVSIM_OK) {
		fz_pmu_destroy(s);
		return HVSIM_E_NOMEM;
	}
	return HVSIM_OK;
}

void fz_pmu_destroy(struct fz_pmu_sys *s)
{
	pmu_destroy(s->pmu);
	pmu_destroy(s->before);
	pmu_destroy(s->snap);
	for (size_t i = 0; i < sizeof(s->pristine) / sizeof(s->pristine[0]); i++)
		pmu_destroy(s->pristine[i]);
	memset(s, 0, sizeof(*s));
}

/* Puts the PMU in the RESET state of configuration byte b, copied from a pristine one. */
static enum hvsim_status load(struct fz_pmu_sys *s, uint8_t b)
{
	unsigned idx = fz_pmu_config_index(b);
	struct pmu_config c;

	if (!s->pristine[idx]) {
		fz_pmu_config_from(b, &c);
		if (pmu_create(&c, &s->pristine[idx], NULL) != HVSIM_OK)
			return HVSIM_E_NOMEM;
	}
	pmu_copy(s->pmu, s->pristine[idx]);
	s->snap_taken = false;
	memset(&s->stats, 0, sizeof(s->stats));
	s->hash = 0;
	return HVSIM_OK;
}

/* What one operation did, for its checks. */
struct step {
	enum pmu_access access;
	uint64_t value;   /* a read's result */
	unsigned width;   /* bits of the counter a read returned, 0 for other reads */
	uint64_t counted; /* status bits the operation's counting reported */
	uint64_t set;     /* status bits it may have set otherwise (STATUS_SET, restore) */
	uint64_t cleared; /* status bits a reset write must have cleared */
	struct pmu_count_result res;
	const char *kind; /* a violation found, NULL when none */
	char why[FZ_PMU_WHY_MAX];
};

static bool is_intel(const struct pmu *p)
{
	return pmu_get_config(p)->vendor == PMU_VENDOR_INTEL;
}

static bool is_status_set(const struct pmu *p, uint32_t msr)
{
	return msr == (is_intel(p) ? MSR_IA32_PERF_GLOBAL_STATUS_SET
	                           : MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET);
}

static bool is_status_reset(const struct pmu *p, uint32_t msr)
{
	return msr == (is_intel(p) ? MSR_IA32_PERF_GLOBAL_STATUS_RESET
	                           : MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR);
}

static void run_msr(struct fz_pmu_sys *s, const struct fz_pmu_op *op, struct step *st)
{
	if (op->kind == FZ_PMU_RDMSR) {
		st->access = pmu_msr_read(s->pmu, op->msr, &st->value);
		if (st->access == PMU_ACCESS_OK)
			st->width = fz_pmu_msr_counter_width(pmu_get_config(s->pmu), op->msr);
		if (!fz_inv_pmu_no_effect(s->before, s->pmu, st->why, sizeof(st->why)))
			st->kind = "wrmsr_gp_no_effect";
		return;
	}
	st->access = pmu_msr_write(s->pmu, op->msr, op->value);
	if (st->access != PMU_ACCESS_OK) {
		if (!fz_inv_pmu_no_effect(s->before, s->pmu, st->why, sizeof(st->why)))
			st->kind = "wrmsr_gp_no_effect";
		return;
	}
	s->stats.writes++;
	if (is_status_set(s->pmu, op->msr))
		st->set = op->value;
	if (is_status_reset(s->pmu, op->msr))
		st->cleared = op->value;
	if (!fz_inv_pmu_roundtrip(s->pmu, op->msr, op->value, st->why, sizeof(st->why)))
		st->kind = "rdmsr_wrmsr_roundtrip";
}

static void run_rdpmc(struct fz_pmu_sys *s, const struct fz_pmu_op *op, struct step *st)
{
	const struct pmu_config *c = pmu_get_config(s->pmu);

	st->access = pmu_rdpmc(s->pmu, op->msr, op->cpl, op->pce, &st->value);
	if (st->access == PMU_ACCESS_OK) {
		s->stats.rdpmc++;
		st->width = c->vendor == PMU_VENDOR_INTEL && (op->msr & PMU_RDPMC_FIXED)
		                ? c->fixed_width
		                : c->gp_width;
	}
	if (!fz_inv_pmu_rdpmc(s->pmu, op->msr, op->cpl, op->pce, st->access, st->value, st->why,
	                      sizeof(st->why)))
		st->kind = "rdpmc_matches_msr";
	else if (!fz_inv_pmu_no_effect(s->before, s->pmu, st->why, sizeof(st->why)))
		st->kind = "wrmsr_gp_no_effect";
}

static void run_count(struct fz_pmu_sys *s, const struct fz_pmu_op *op, struct step *st)
{
	pmu_count(s->pmu, (enum pmu_event)op->event, op->value, op->cpl, &st->res);
	st->counted = st->res.overflow;
	s->stats.overflows += (unsigned)__builtin_popcountll(st->res.overflow);
	s->stats.pmis += st->res.pmi;
	if (!fz_inv_pmu_count(s->before, s->pmu, op->value, &st->res, st->why, sizeof(st->why)))
		st->kind = "count_advances_by_n";
}

static void run_snapshot(struct fz_pmu_sys *s, const struct fz_pmu_op *op, struct step *st)
{
	if (op->kind == FZ_PMU_SNAPSHOT) {
		pmu_copy(s->snap, s->pmu);
		s->snap_taken = true;
	} else if (s->snap_taken) {
		pmu_copy(s->pmu, s->snap);
		s->stats.restores++;
		st->set = ~UINT64_C(0);
	} else {
		return;
	}
	if (!fz_inv_pmu_same(s->pmu, s->snap, st->why, sizeof(st->why)))
		st->kind = "snapshot_equal";
}

static void execute(struct fz_pmu_sys *s, const struct fz_pmu_op *op, struct step *st)
{
	switch (op->kind) {
	case FZ_PMU_RDMSR:
	case FZ_PMU_WRMSR: run_msr(s, op, st); break;
	case FZ_PMU_RDPMC: run_rdpmc(s, op, st); break;
	case FZ_PMU_COUNT: run_count(s, op, st); break;
	case FZ_PMU_SNAPSHOT:
	case FZ_PMU_RESTORE: run_snapshot(s, op, st); break;
	default: pmu_reset(s->pmu); break;
	}
	s->stats.gp += st->access == PMU_ACCESS_GP;
	fz_mix(&s->hash, (uint64_t)st->access << 56 ^ op->kind);
	fz_mix(&s->hash, st->value);
	fz_mix(&s->hash, st->res.overflow ^ (uint64_t)st->res.pmi << 63);
}

/* The checks every operation gets, after its own. */
static void check_state(const struct fz_pmu_sys *s, struct step *st)
{
	if (st->kind)
		return;
	if (!pmu_check(s->pmu, st->why, sizeof(st->why)))
		st->kind = "pmu_check";
	else if (!fz_inv_pmu_counter_width(s->pmu, st->value, st->width, st->why, sizeof(st->why)))
		st->kind = "counter_width";
	else if (!fz_inv_pmu_status(s->before, s->pmu, st->counted, st->set, st->cleared, st->why,
	                            sizeof(st->why)))
		st->kind = "global_status";
}

void fz_pmu_run(struct fz_pmu_sys *s, const uint8_t *data, size_t size, struct fz_pmu_outcome *out,
                struct fz_pmu_export *x)
{
	struct fz_pmu_op op;
	struct fz_in in;

	memset(out, 0, sizeof(*out));
	fz_init(&in, data, size);
	if (load(s, fz_u8(&in)) != HVSIM_OK) {
		out->kind = "out_of_memory";
		return;
	}
	for (unsigned i = 0; fz_more(&in, &i, FZ_PMU_OPS_MAX) && !out->kind;) {
		struct step st;

		memset(&st, 0, sizeof(st));
		fz_pmu_decode(&in, pmu_get_config(s->pmu), &op);
		fz_pmu_resolve(s->pmu, &op);
		if (x)
			fz_pmu_export_op(x, s->pmu, &op, i - 1);
		pmu_copy(s->before, s->pmu);
		execute(s, &op, &st);
		check_state(s, &st);
		out->ops = i;
		if (st.kind) {
			out->kind = st.kind;
			snprintf(out->why, sizeof(out->why), "op %u (%s): %s", i - 1,
			         fz_pmu_op_name(op.kind), st.why);
		}
	}
	out->hash = s->hash;
}
