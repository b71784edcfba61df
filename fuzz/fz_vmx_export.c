/* The export mapping of fuzz_vmcs_entry (docs/fuzzing.md "Export mapping", rule 6, and
 * "fuzz_vmcs_entry"): every operation is a hypervisor-side one, so each becomes a host event at
 * time 0 for vCPU 0, in order (the engine breaks equal times by sequence): "vmx_fixture" first
 * (the known-good VMCS of hv/vmx_replay_fixture.c), then "vmwrite_field" + "vmwrite_value",
 * "vmread", "vmlaunch", "vmresume", "vmclear", "vmptrld", "vmxoff", "vmxon", "vmptrst",
 * "vmx_mode_<change>" (arg: the operand), "mem_write_addr" + "mem_write_value" (8 bytes; a 16-byte
 * MSR-load entry is two writes, a revision word a 4-byte write "mem_write32_value"),
 * "invept_type"/"invvpid_type"
 * + "inv_desc_lo" + "inv_desc_hi". The executing algorithm is "vmx-replay" (hv/vmx_replay.c), with
 * oracles.invariants on so that a broken invariant is the run's invariant_violation finding. */
#include "fz_vmx_ops.h"

static void host(struct fz_vmx_export *x, const char *action, uint64_t arg)
{
	fz_scn_host(x->scn, 0, action, 0, arg);
}

static void mem_form(struct fz_vmx_export *x, const struct fz_vmx_op *op)
{
	switch (op->src) {
	case FZ_VMX_MEM_REVISION:
		host(x, "mem_write_addr", op->addr);
		host(x, "mem_write32_value", op->value & UINT32_MAX);
		break;
	case FZ_VMX_MEM_MSR_LOAD:
		host(x, "mem_write_addr", VMX_REPLAY_PA_MSR_AREA + 16 * (op->addr % 32));
		host(x, "mem_write_value", op->enc);
		host(x, "mem_write_addr", VMX_REPLAY_PA_MSR_AREA + 16 * (op->addr % 32) + 8);
		host(x, "mem_write_value", op->value);
		break;
	case FZ_VMX_MEM_PDPTE: /* at the guest CR3 the replay reads from the VMCS */
		host(x, "mem_write_pdpte", op->addr & 3);
		host(x, "mem_write_value", op->value);
		break;
	default:
		host(x, "mem_write_addr", op->addr % VMX_REPLAY_MEM_BYTES);
		host(x, "mem_write_value", op->value);
		break;
	}
}

void fz_vmx_export_op(struct fz_vmx_export *x, const struct fz_vmx_op *op)
{
	switch (op->kind) {
	case FZ_VMX_VMWRITE:
		host(x, "vmwrite_field", op->enc);
		host(x, "vmwrite_value", op->value);
		break;
	case FZ_VMX_VMREAD: host(x, "vmread", op->enc); break;
	case FZ_VMX_VMCLEAR:
	case FZ_VMX_VMPTRLD:
	case FZ_VMX_VMXON: host(x, fz_vmx_op_name(op->kind), op->value); break;
	case FZ_VMX_MODE:
		host(x, vmx_replay_mode_action(op->src % VMX_REPLAY_MODE_COUNT), op->value);
		break;
	case FZ_VMX_MEM: mem_form(x, op); break;
	case FZ_VMX_INVEPT:
	case FZ_VMX_INVVPID:
		host(x, op->kind == FZ_VMX_INVEPT ? "invept_type" : "invvpid_type", op->enc);
		host(x, "inv_desc_lo", op->value);
		host(x, "inv_desc_hi", op->addr);
		break;
	default: host(x, fz_vmx_op_name(op->kind), 0); break; /* no operand */
	}
}

void fz_vmx_export_machine(struct fz_vmx_export *x, const struct fz_vmx_sys *s)
{
	fz_scn_algorithm(x->scn, "vmx-replay");
	fz_scn_machine_str(x->scn, "cpu", vmx_profile_names()[s->profile]);
	fz_scn_machine_int(x->scn, "vcpus", 1);
	fz_scn_limits(x->scn, 1000000, 1000000, 1000);
	fz_scn_check_invariants(x->scn);
}

fz_scn *fz_vmx_export_scenario(struct fz_vmx_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_vmx_outcome *o)
{
	struct fz_vmx_export x = {.scn = fz_scn_create("fuzz_vmcs_entry", hash)};

	if (!x.scn)
		return NULL;
	fz_scn_host(x.scn, 0, "vmx_fixture", 0, 0);
	fz_vmx_run(s, data, size, o, &x);
	fz_vmx_export_machine(&x, s);
	if (o->kind)
		fz_scn_expect(x.scn, "invariant_violation");
	return x.scn;
}
