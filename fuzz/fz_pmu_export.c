/* The export mapping of fuzz_pmu_msr (docs/fuzzing.md "Export mapping", "fuzz_pmu_msr"): RDMSR and
 * WRMSR become the script's rdmsr/wrmsr actions, RDPMC at CPL 0 (or with CR4.PCE, which makes the
 * CPL irrelevant) an rdpmc action, a count of instructions retired at CPL 0 a compute action of
 * that many instructions, on the kvm algorithm's vPMU (hv/kvm/kvm_pmu.c) with its invariants after
 * every slice. What a scripted guest cannot express has no form and the export names the first
 * such operation: an AMD configuration (kvm runs on VMX), RDPMC at CPL > 0 without CR4.PCE, counts
 * of other events or at CPL > 0, counts beyond the scenario's instruction limit, resets and
 * snapshots. */
#include "fz_pmu.h"

#include <string.h>

#define COMPUTE_MAX      UINT64_C(1000000000) /* insns of one scenario compute action */
#define EXPORT_INSNS_MAX UINT64_C(4000000000) /* instructions an exported scenario may retire */

static void act(struct fz_pmu_export *x, uint8_t sop, uint32_t index, uint64_t value)
{
	struct script_action a;

	memset(&a, 0, sizeof(a));
	a.op = sop;
	a.index = index;
	a.value = value;
	fz_scn_action(x->scn, &a);
}

static void act_compute(struct fz_pmu_export *x, uint64_t insns)
{
	struct script_action a, body;

	x->instructions += insns;
	if (insns > COMPUTE_MAX) {
		memset(&body, 0, sizeof(body));
		body.op = SOP_COMPUTE;
		body.value = COMPUTE_MAX;
		memset(&a, 0, sizeof(a));
		a.op = SOP_REPEAT;
		a.count = insns / COMPUTE_MAX;
		a.body = &body;
		a.n_body = 1;
		fz_scn_action(x->scn, &a);
		insns %= COMPUTE_MAX;
	}
	if (insns)
		act(x, SOP_COMPUTE, 0, insns);
}

static bool form(struct fz_pmu_export *x, const struct fz_pmu_op *op)
{
	switch (op->kind) {
	case FZ_PMU_RDMSR: act(x, SOP_RDMSR, op->msr, 0); return true;
	case FZ_PMU_WRMSR: act(x, SOP_WRMSR, op->msr, op->value); return true;
	case FZ_PMU_RDPMC:
		if (op->cpl != 0 && !op->pce)
			return false;
		act(x, SOP_RDPMC, op->msr, 0);
		return true;
	case FZ_PMU_COUNT:
		if (op->event != PMU_EV_INSTRUCTIONS || op->cpl != 0 ||
		    op->value > EXPORT_INSNS_MAX - x->instructions)
			return false;
		act_compute(x, op->value);
		return true;
	default: return false; /* snapshots and resets */
	}
}

void fz_pmu_export_op(struct fz_pmu_export *x, const struct pmu *p, const struct fz_pmu_op *op,
                      unsigned index)
{
	if (x->no_form)
		return;
	if (pmu_get_config(p)->vendor != PMU_VENDOR_INTEL) {
		x->no_form = "an AMD PMU (the kvm algorithm runs on VMX)";
		x->no_form_at = 0;
	} else if (!form(x, op)) {
		x->no_form = fz_pmu_op_name(op->kind);
		x->no_form_at = index;
	}
}

void fz_pmu_export_machine(struct fz_pmu_export *x)
{
	fz_scn_algorithm(x->scn, "kvm");
	fz_scn_machine_str(x->scn, "cpu", "intel-icelake-server"); /* kvm needs VMX */
	fz_scn_machine_int(x->scn, "vcpus", 1);                    /* counting needs one vCPU */
	fz_scn_machine_int(x->scn, "insn_ns", 1);
	fz_scn_machine_int(x->scn, "exit_ns", 0);
	fz_scn_machine_int(x->scn, "quantum_insns", 1000);
	fz_scn_limits(x->scn, x->instructions + 1000000, x->instructions + 1000000, 1000000);
	fz_scn_check_invariants(x->scn); /* pmu_invariants: the vPMU's pmu_check */
}
