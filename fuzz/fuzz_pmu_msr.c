/* fuzz_pmu_msr: byte-coded sequences of RDMSR/WRMSR of the PMU MSRs, RDPMC, event counts, resets
 * and snapshots on one PMU model (include/hvsim/pmu.h) of the profile the configuration byte
 * chooses, Intel (architectural PMU v1-v5) or AMD (legacy, PerfCtrExtCore, PerfMonV2). After every
 * operation the model's own check and the named invariants run (fz_pmu_inv.c; "counters never
 * exceed their width" is counter_width); a violation is a finding named after the invariant. An
 * input also runs twice and must give the same result hash ("deterministic"). */
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

/* The scenario form (docs/fuzzing.md "fuzz_pmu_msr"): script actions on the kvm algorithm's
 * vPMU, or why the input has none. */
static int pmu_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_pmu_export x = {0};
	struct fz_pmu_outcome o;
	int rc = 1;

	if (!setup() || !(x.scn = fz_scn_create(fz_target.name, fz_hash(data, size))))
		return 2;
	fz_pmu_run(&sys, data, size, &o, &x);
	if (x.no_form) {
		snprintf(info->kind, sizeof(info->kind), "none");
		snprintf(
		    info->expect, sizeof(info->expect),
		    "%s%s; no scenario form: operation %u (%s); the byte reproducer in "
		    "fuzz/crashes/%s/ and a Criterion test are the regression (docs/fuzzing.md)",
		    o.kind ? "finding " : "no finding", o.kind ? o.kind : "", x.no_form_at,
		    x.no_form, fz_target.name);
	} else {
		fz_pmu_export_machine(&x);
		rc = fz_scn_write(x.scn, out);
		snprintf(info->kind, sizeof(info->kind), "scenario");
		snprintf(
		    info->expect, sizeof(info->expect),
		    "%s%s in the harness; `hvsim run` replays the accesses on the kvm algorithm's "
		    "vPMU (KVM's guest PMU: version 2, 8 GP and 3 fixed counters, not the input's "
		    "configuration) with pmu_invariants after every slice; a #GP ends the scripted "
		    "guest there (guest_fault, docs/fuzzing.md)",
		    o.kind ? "finding " : "no finding", o.kind ? o.kind : "");
	}
	fz_scn_destroy(x.scn);
	return rc;
}

FZ_TARGET("fuzz_pmu_msr", pmu_export);
