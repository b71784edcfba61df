/* Executing the PMU operations of the pmu-replay algorithm and fuzz_pmu_msr (pmu_replay_int.h) on
 * the machine's PMU model, and the checks after each one: the model's own check (pmu_check),
 * counter_width and global_status, then the invariants of its kind (rdpmc_matches_msr,
 * count_advances_by_n, wrmsr_gp_no_effect, rdmsr_wrmsr_roundtrip, snapshot_equal). Leaves out
 * decoding (the harness's fz_pmu_ops.c, the algorithm's pmu_replay_events.c) and delivering PMIs
 * (a count only reports one). Spec: SDM Vol. 3B 21.2, APM 13.2. */
#include "pmu_replay_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[PMU_REPLAY_OP_COUNT] = {
    "rdmsr", "wrmsr", "rdpmc", "count", "snapshot", "restore", "reset",
};

const char *pmu_replay_op_name(unsigned kind)
{
	return kind < PMU_REPLAY_OP_COUNT ? op_names[kind] : "?";
}

enum hvsim_status pmu_replay_machine_create(struct pmu_replay_machine *m)
{
	struct pmu_config c;

	memset(m, 0, sizeof(*m));
	pmu_profile("intel-icelake-server", &c);
	if (pmu_create(&c, &m->pmu, NULL) != HVSIM_OK ||
	    pmu_create(&c, &m->before, NULL) != HVSIM_OK ||
	    pmu_create(&c, &m->snap, NULL) != HVSIM_OK) {
		pmu_replay_machine_destroy(m);
		return HVSIM_E_NOMEM;
	}
	return HVSIM_OK;
}

void pmu_replay_machine_destroy(struct pmu_replay_machine *m)
{
	pmu_destroy(m->pmu);
	pmu_destroy(m->before);
	pmu_destroy(m->snap);
	memset(m, 0, sizeof(*m));
}

void pmu_replay_load(struct pmu_replay_machine *m, const struct pmu *pristine)
{
	pmu_copy(m->pmu, pristine);
	m->snap_taken = false;
	memset(&m->stats, 0, sizeof(m->stats));
	m->hash = 0;
}

enum hvsim_status pmu_replay_load_config(struct pmu_replay_machine *m, const struct pmu_config *cfg)
{
	struct pmu *p;
	enum hvsim_status st = pmu_create(cfg, &p, NULL);

	if (st != HVSIM_OK)
		return st;
	pmu_replay_load(m, p);
	pmu_destroy(p);
	return HVSIM_OK;
}

/* FNV-1a steps over the 8 bytes of v (the harness's fz_mix). */
static void mix(uint64_t *h, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		*h = (*h ^ (uint8_t)(v >> (8 * i))) * UINT64_C(0x100000001b3);
}

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

static void run_msr(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                    struct pmu_replay_step *st)
{
	if (op->kind == PMU_REPLAY_RDMSR) {
		st->access = pmu_msr_read(m->pmu, op->msr, &st->value);
		if (st->access == PMU_ACCESS_OK)
			st->width = pmu_replay_msr_counter_width(pmu_get_config(m->pmu), op->msr);
		if (!pmu_replay_inv_no_effect(m->before, m->pmu, st->why, sizeof(st->why)))
			st->bad = "wrmsr_gp_no_effect";
		return;
	}
	st->access = pmu_msr_write(m->pmu, op->msr, op->value);
	if (st->access != PMU_ACCESS_OK) {
		if (!pmu_replay_inv_no_effect(m->before, m->pmu, st->why, sizeof(st->why)))
			st->bad = "wrmsr_gp_no_effect";
		return;
	}
	m->stats.writes++;
	if (is_status_set(m->pmu, op->msr))
		st->set = op->value;
	if (is_status_reset(m->pmu, op->msr))
		st->cleared = op->value;
	if (!pmu_replay_inv_roundtrip(m->pmu, op->msr, op->value, st->why, sizeof(st->why)))
		st->bad = "rdmsr_wrmsr_roundtrip";
}

static void run_rdpmc(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                      struct pmu_replay_step *st)
{
	const struct pmu_config *c = pmu_get_config(m->pmu);

	st->access = pmu_rdpmc(m->pmu, op->msr, op->cpl, op->pce, &st->value);
	if (st->access == PMU_ACCESS_OK) {
		m->stats.rdpmc++;
		st->width = c->vendor == PMU_VENDOR_INTEL && (op->msr & PMU_RDPMC_FIXED)
		                ? c->fixed_width
		                : c->gp_width;
	}
	if (!pmu_replay_inv_rdpmc(m->pmu, op->msr, op->cpl, op->pce, st->access, st->value, st->why,
	                          sizeof(st->why)))
		st->bad = "rdpmc_matches_msr";
	else if (!pmu_replay_inv_no_effect(m->before, m->pmu, st->why, sizeof(st->why)))
		st->bad = "wrmsr_gp_no_effect";
}

static void run_count(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                      struct pmu_replay_step *st)
{
	pmu_count(m->pmu, (enum pmu_event)op->event, op->value, op->cpl, &st->res);
	st->counted = st->res.overflow;
	m->stats.overflows += (unsigned)__builtin_popcountll(st->res.overflow);
	m->stats.pmis += st->res.pmi;
	if (!pmu_replay_inv_count(m->before, m->pmu, op->value, &st->res, st->why, sizeof(st->why)))
		st->bad = "count_advances_by_n";
}

static void run_snapshot(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                         struct pmu_replay_step *st)
{
	if (op->kind == PMU_REPLAY_SNAPSHOT) {
		pmu_copy(m->snap, m->pmu);
		m->snap_taken = true;
	} else if (m->snap_taken) {
		pmu_copy(m->pmu, m->snap);
		m->stats.restores++;
		st->set = ~UINT64_C(0);
	} else {
		st->none = true;
		return;
	}
	if (!pmu_replay_inv_same(m->pmu, m->snap, st->why, sizeof(st->why)))
		st->bad = "snapshot_equal";
}

/* The checks every operation gets, after its own. */
static void check_state(const struct pmu_replay_machine *m, struct pmu_replay_step *st)
{
	if (st->bad)
		return;
	if (!pmu_check(m->pmu, st->why, sizeof(st->why)))
		st->bad = "pmu_check";
	else if (!pmu_replay_inv_counter_width(m->pmu, st->value, st->width, st->why,
	                                       sizeof(st->why)))
		st->bad = "counter_width";
	else if (!pmu_replay_inv_status(m->before, m->pmu, st->counted, st->set, st->cleared,
	                                st->why, sizeof(st->why)))
		st->bad = "global_status";
}

/* Every field zero and why empty: the 384 bytes of why are only read once bad is set. */
static void step_clear(struct pmu_replay_step *st)
{
	char *why = st->why;

	memset(st, 0, offsetof(struct pmu_replay_step, why));
	why[0] = '\0';
}

void pmu_replay_execute(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                        struct pmu_replay_step *st)
{
	step_clear(st);
	pmu_copy(m->before, m->pmu);
	switch (op->kind) {
	case PMU_REPLAY_RDMSR:
	case PMU_REPLAY_WRMSR: run_msr(m, op, st); break;
	case PMU_REPLAY_RDPMC: run_rdpmc(m, op, st); break;
	case PMU_REPLAY_COUNT: run_count(m, op, st); break;
	case PMU_REPLAY_SNAPSHOT:
	case PMU_REPLAY_RESTORE: run_snapshot(m, op, st); break;
	default: pmu_reset(m->pmu); break;
	}
	m->stats.gp += st->access == PMU_ACCESS_GP;
	mix(&m->hash, (uint64_t)st->access << 56 ^ op->kind);
	mix(&m->hash, st->value);
	mix(&m->hash, st->res.overflow ^ (uint64_t)st->res.pmi << 63);
	check_state(m, st);
	if (m->log)
		m->log(m->log_ctx, op, st);
}
