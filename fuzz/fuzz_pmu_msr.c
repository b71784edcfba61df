/* fuzz_pmu_msr: byte-coded sequences of RDMSR/WRMSR of the PMU MSRs, RDPMC, event counts, resets
 * and snapshots on one PMU model (include/hvsim/pmu.h) of the profile the configuration byte
 * chooses, Intel (architectural PMU v1-v5) or AMD (legacy, PerfCtrExtCore, PerfMonV2). After every
 * operation the model's own check and the named invariants run (hv/pmu_replay_inv.c; "counters
 * never exceed their width" is counter_width); a violation is a finding named after the
 * invariant. An input also runs twice and must give the same result hash ("deterministic"). */
#include "fz_pmu.h"

/* Every input runs twice under replay (CI); under a fuzzer one input in DETERMINISM_EVERY does,
 * chosen by content. */
#define DETERMINISM_EVERY 8

/* The PMUs, allocated once and reset for every input by copying a pristine one. */
static struct fz_pmu_sys sys;
static bool ready;

static bool setup(void)
{
	if (!ready && fz_pmu_create(&sys) == HVSIM_OK)
		ready = true;
	return ready;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_pmu_outcome a, b;

	if (!setup())
		return 0;
	fz_pmu_run(&sys, data, size, &a, NULL);
	if (a.kind) {
		fz_finding(a.kind, "%s", a.why);
		return 0;
	}
	if (fz_get_mode() != FZ_COUNT && fz_hash(data, size) % DETERMINISM_EVERY != 0)
		return 0;
	fz_pmu_run(&sys, data, size, &b, NULL);
	fz_check_rerun(a.ops == b.ops, a.hash, b.hash, b.kind, b.why);
	return 0;
}

/* The scenario form (docs/fuzzing.md "fuzz_pmu_msr"): the operations as host events on the
 * pmu-replay algorithm, which runs them on the same PMU model with the same invariants. */
static int pmu_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_pmu_outcome o;
	fz_scn *scn;
	int rc;

	if (!setup() || !(scn = fz_pmu_export_scenario(&sys, data, size, fz_hash(data, size), &o)))
		return 2;
	rc = fz_scn_write(scn, out);
	fz_scn_destroy(scn);
	snprintf(info->kind, sizeof(info->kind), "scenario");
	snprintf(info->expect, sizeof(info->expect),
	         "%s%s; `hvsim run` replays its %u operations on the pmu-replay algorithm's PMU "
	         "(the input's configuration) with the same invariants after each",
	         o.kind ? "finding invariant_violation: " : "no finding", o.kind ? o.kind : "",
	         o.ops);
	return rc;
}

FZ_TARGET("fuzz_pmu_msr", pmu_export);
