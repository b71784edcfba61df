/* The export mapping of fuzz_pmu_msr (docs/fuzzing.md "Export mapping", rule 6, and
 * "fuzz_pmu_msr"): every operation is one the PMU's owner performs, so each becomes host events at
 * time 0 for vCPU 0, in order (the engine breaks equal times by sequence): the configuration the
 * byte chose as "pmu_cfg_<field>" events closed by "pmu_load", then "rdmsr", "wrmsr_msr" +
 * "wrmsr_value", "rdpmc_cpl" + "rdpmc_cr4_pce" + "rdpmc", "count_event" + "count_cpl" + "count"
 * (a count to a counter's wrap resolved to its n), "snapshot", "restore", "reset"
 * (hv/pmu_replay_events.c writes them). The executing algorithm is "pmu-replay"
 * (hv/pmu_replay.c), with oracles.invariants on so that a broken invariant is the run's
 * invariant_violation finding. Every input has this form. */
#include "fz_pmu.h"

static void host(void *ctx, const char *action, uint64_t arg)
{
	struct fz_pmu_export *x = ctx;

	fz_scn_host(x->scn, 0, action, 0, arg);
}

void fz_pmu_export_config(struct fz_pmu_export *x, const struct pmu_config *cfg)
{
	pmu_replay_config_events(cfg, host, x);
}

void fz_pmu_export_op(struct fz_pmu_export *x, const struct pmu_replay_op *op)
{
	pmu_replay_op_events(op, host, x);
}

void fz_pmu_export_machine(struct fz_pmu_export *x)
{
	fz_scn_algorithm(x->scn, "pmu-replay");
	fz_scn_machine_str(x->scn, "cpu", "generic"); /* the PMU is the algorithm's own */
	fz_scn_machine_int(x->scn, "vcpus", 1);
	fz_scn_limits(x->scn, 1000000, 1000000, 1000);
	fz_scn_check_invariants(x->scn);
}

fz_scn *fz_pmu_export_scenario(struct fz_pmu_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_pmu_outcome *o)
{
	struct fz_pmu_export x = {.scn = fz_scn_create("fuzz_pmu_msr", hash)};

	if (!x.scn)
		return NULL;
	fz_pmu_run(s, data, size, o, &x);
	fz_pmu_export_machine(&x);
	if (o->kind)
		fz_scn_expect(x.scn, "invariant_violation");
	return x.scn;
}
