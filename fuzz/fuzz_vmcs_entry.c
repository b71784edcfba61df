/* fuzz_vmcs_entry: VMWRITE sequences, then VMLAUNCH/VMRESUME, on a VMX logical processor that
 * starts from a known-good VMCS for a CPU profile chosen by the first byte (fz_vmx.h). Operations
 * (fz_vmx_ops.h): VMWRITEs of table fields or raw encodings with values raw, interesting for the
 * width, bit flips, control-MSR boundaries, known-good values or addresses; VMREAD, VMCLEAR,
 * VMPTRLD, VMPTRST, VMXON, VMXOFF, INVEPT, INVVPID; changes of the instruction pre-conditions (CPL,
 * CR0.PE, CR4.VMXE, mode, MOV-SS blocking, SMM); memory writes (revision words, MSR-load entries,
 * PDPTEs); VMLAUNCH and VMRESUME. After every instruction the named invariants run
 * (hv/vmx_replay_inv.c); an input also runs twice and must give the same result hash. */
#include "fz_vmx_ops.h"

/* Every input runs twice under replay (CI); under a fuzzer one input in DETERMINISM_EVERY does. */
#define DETERMINISM_EVERY 8

/* The live machine, reset for every input by copying a pristine one (fz_vmx_load). */
static struct fz_vmx_sys sys;
static bool ready;

static bool setup(void)
{
	if (!ready && fz_vmx_create(&sys) == HVSIM_OK)
		ready = true;
	return ready;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_vmx_outcome a, b;

	if (!setup())
		return 0;
	fz_vmx_run_quiet(&sys, data, size, &a, NULL);
	if (a.kind) {
		fz_finding(a.kind, "%s", a.why);
		return 0;
	}
	if (fz_get_mode() != FZ_COUNT && fz_hash(data, size) % DETERMINISM_EVERY != 0)
		return 0;
	/* under a fuzzer the rerun runs the model's uninstrumented compilation: same results, and
	 * the input's coverage is that of its first run alone */
	sys.m.plain = fz_get_mode() != FZ_COUNT;
	fz_vmx_run_quiet(&sys, data, size, &b, NULL);
	sys.m.plain = false;
	fz_check_rerun(a.ops == b.ops, a.hash, b.hash, b.kind, b.why);
	return 0;
}

/* The scenario form (docs/fuzzing.md "fuzz_vmcs_entry"): host events for the vmx-replay
 * algorithm, which `hvsim run` executes on the same machine and invariants. */
static int vmx_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_vmx_outcome o;
	fz_scn *scn;
	int rc;

	if (!setup() || !(scn = fz_vmx_export_scenario(&sys, data, size, fz_hash(data, size), &o)))
		return 2;
	rc = fz_scn_write(scn, out);
	fz_scn_destroy(scn);
	snprintf(info->kind, sizeof(info->kind), "scenario");
	snprintf(info->expect, sizeof(info->expect),
	         "%s%s; `hvsim run` replays it on the vmx-replay algorithm (last entry: %s)",
	         o.kind ? "finding invariant_violation: " : "no finding", o.kind ? o.kind : "",
	         o.last_entry);
	return rc;
}

FZ_TARGET("fuzz_vmcs_entry", vmx_export);
