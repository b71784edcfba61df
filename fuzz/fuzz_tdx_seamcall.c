/* fuzz_tdx_seamcall: SEAMCALL sequences with arbitrary registers across logical processors, on the
 * TDX module model (include/hvsim/tdx.h) with 1-8 LPs in 1-4 packages over 32-256 pages. Two
 * configuration bytes, then operations (fz_tdx.h): SEAMCALLs from any LP with a leaf from the table
 * or raw RAX and operands shaped from the model's state (pages, free pages, the TDR/TDVPR pages it
 * created, GPAs and levels, HKIDs, field ids) or raw; TDCALLs from the vCPU an LP runs; TD exits;
 * KVM's next build or teardown step. After every operation the named invariants run
 * (hv/tdx_replay_inv.c); an input also runs twice and must give the same result hash. The first
 * run finds each call's changes where the model recorded writing (hv/tdx_replay_int.h, "full"),
 * the rerun (and every run under replay) in the whole module. */
#include "fz_tdx.h"

/* Every input runs twice under replay (CI); under a fuzzer one input in DETERMINISM_EVERY does. */
#define DETERMINISM_EVERY 8

/* The live machine, reset for every input (tdx_reset: no allocation). */
static struct fz_tdx_sys sys;
static bool ready;

static bool setup(void)
{
	if (!ready && fz_tdx_create(&sys) == HVSIM_OK)
		ready = true;
	return ready;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_tdx_outcome a, b;

	if (!setup())
		return 0;
	/* the first run compares what each call recorded writing, under replay everything; both
	 * runs take a reset state the machine checked before as checked */
	sys.mc.full = fz_get_mode() == FZ_COUNT;
	sys.mc.keep_resets = true;
	fz_tdx_run(&sys, data, size, &a);
	if (a.kind) {
		fz_finding(a.kind, "%s", a.why);
		return 0;
	}
	if (fz_get_mode() != FZ_COUNT && fz_hash(data, size) % DETERMINISM_EVERY != 0)
		return 0;
	/* under a fuzzer the rerun runs the model's uninstrumented compilation: same results, and
	 * the input's coverage is that of its first run alone */
	sys.mc.full = true;
	sys.mc.plain = fz_get_mode() != FZ_COUNT;
	fz_tdx_run(&sys, data, size, &b);
	sys.mc.plain = false;
	if (b.kind && fz_get_mode() != FZ_COUNT) { /* a change the first run did not compare */
		fz_finding(b.kind, "%s (the rerun, comparing the whole module)", b.why);
		return 0;
	}
	fz_check_rerun(a.ops == b.ops, a.hash, b.hash, b.kind, b.why);
	return 0;
}

/* The scenario form (fz_tdx_export.c): the configuration and every call as host events that the
 * tdx-replay algorithm executes on its own module model, with the harness's invariants after each
 * call, so `hvsim run` gives the harness's finding as the run's invariant_violation. */
static int tdx_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_tdx_outcome o;
	fz_scn *scn;
	int rc;

	sys.mc.full = true;
	sys.mc.keep_resets = false;
	if (!setup() || !(scn = fz_tdx_export_scenario(&sys, data, size, fz_hash(data, size), &o)))
		return 2;
	rc = fz_scn_write(scn, out);
	fz_scn_destroy(scn);
	snprintf(info->kind, sizeof(info->kind), "scenario");
	snprintf(info->expect, sizeof(info->expect),
	         "%s%s; `hvsim run` replays its %u operations' calls on the tdx-replay algorithm "
	         "(one tdx_call trace line each)",
	         o.kind ? "finding invariant_violation: " : "no finding", o.kind ? o.kind : "",
	         o.ops);
	return rc;
}

FZ_TARGET("fuzz_tdx_seamcall", tdx_export);
