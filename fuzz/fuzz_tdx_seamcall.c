/* fuzz_tdx_seamcall: SEAMCALL sequences with arbitrary registers across logical processors, on the
 * TDX module model (include/hvsim/tdx.h) with 1-8 LPs in 1-4 packages over 32-256 pages. Two
 * configuration bytes, then operations (fz_tdx.h): SEAMCALLs from any LP with a leaf from the table
 * or raw RAX and operands shaped from the model's state (pages, free pages, the TDR/TDVPR pages it
 * created, GPAs and levels, HKIDs, field ids) or raw; TDCALLs from the vCPU an LP runs; TD exits;
 * KVM's next build or teardown step. After every operation the named invariants run
 * (fz_tdx_inv.c); an input also runs twice and must give the same result hash. */
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
	fz_tdx_run(&sys, data, size, &a);
	if (a.kind) {
		fz_finding(a.kind, "%s", a.why);
		return 0;
	}
	if (fz_get_mode() != FZ_COUNT && fz_hash(data, size) % DETERMINISM_EVERY != 0)
		return 0;
	fz_tdx_run(&sys, data, size, &b);
	fz_check_rerun(a.ops == b.ops, a.hash, b.hash, b.kind, b.why);
	return 0;
}

/* The TDX model is not wired into the engine (no algorithm issues SEAMCALLs), so an input has no
 * scenario form: its regression is the byte reproducer in fuzz/crashes/fuzz_tdx_seamcall/ with an
 * .expect line (docs/fuzzing.md "fuzz_tdx_seamcall"). */
static int tdx_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_tdx_outcome o;

	(void)out;
	if (!setup())
		return 2;
	fz_tdx_run(&sys, data, size, &o);
	snprintf(info->kind, sizeof(info->kind), "none");
	snprintf(
	    info->expect, sizeof(info->expect),
	    "%s%s; no scenario form: the TDX model is not wired into the engine. Replay the byte "
	    "reproducer in fuzz/crashes/fuzz_tdx_seamcall/ with an .expect line holding the "
	    "finding or \"no finding\" (tests/test_fuzz_repro.c)",
	    o.kind ? "finding " : "no finding", o.kind ? o.kind : "");
	return 1;
}

FZ_TARGET("fuzz_tdx_seamcall", tdx_export);
