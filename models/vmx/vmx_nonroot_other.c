/* Instructions in VMX non-root operation that have no guest_op kind and that the engine decodes
 * into struct vmx_insn: GETSEC and the VMX instructions (SDM 26.1.2, unconditional exits after
 * their #UD checks), MOV DR, INVPCID and the descriptor-table instructions (SDM 26.1.3), with the
 * exit qualification (the displacement of a memory operand, or the MOV-DR layout) and the
 * instruction information of SDM 28.2.4. VMREAD/VMWRITE with VMCS shadowing execute against the
 * shadow VMCS when the bitmaps allow: that execution is the owner's (VMX_OP_EXECUTE). */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define VEC_UD 6
#define VEC_GP 13

static const uint16_t insn_reason[VMX_INSN_COUNT] = {
    [VMX_INSN_GETSEC] = EXIT_REASON_GETSEC,         [VMX_INSN_MOV_TO_DR] = EXIT_REASON_DR_ACCESS,
    [VMX_INSN_MOV_FROM_DR] = EXIT_REASON_DR_ACCESS, [VMX_INSN_INVPCID] = EXIT_REASON_INVPCID,
    [VMX_INSN_INVEPT] = EXIT_REASON_INVEPT,         [VMX_INSN_INVVPID] = EXIT_REASON_INVVPID,
    [VMX_INSN_SGDT] = EXIT_REASON_GDTR_IDTR,        [VMX_INSN_SIDT] = EXIT_REASON_GDTR_IDTR,
    [VMX_INSN_LGDT] = EXIT_REASON_GDTR_IDTR,        [VMX_INSN_LIDT] = EXIT_REASON_GDTR_IDTR,
    [VMX_INSN_SLDT] = EXIT_REASON_LDTR_TR,          [VMX_INSN_STR] = EXIT_REASON_LDTR_TR,
    [VMX_INSN_LLDT] = EXIT_REASON_LDTR_TR,          [VMX_INSN_LTR] = EXIT_REASON_LDTR_TR,
    [VMX_INSN_VMCLEAR] = EXIT_REASON_VMCLEAR,       [VMX_INSN_VMLAUNCH] = EXIT_REASON_VMLAUNCH,
    [VMX_INSN_VMPTRLD] = EXIT_REASON_VMPTRLD,       [VMX_INSN_VMPTRST] = EXIT_REASON_VMPTRST,
    [VMX_INSN_VMREAD] = EXIT_REASON_VMREAD,         [VMX_INSN_VMRESUME] = EXIT_REASON_VMRESUME,
    [VMX_INSN_VMWRITE] = EXIT_REASON_VMWRITE,       [VMX_INSN_VMXOFF] = EXIT_REASON_VMXOFF,
    [VMX_INSN_VMXON] = EXIT_REASON_VMXON,
};

/* The exit with its SDM 28.2.1 qualification (memory operand: its displacement) and 28.2.4
 * instruction information. */
static void insn_exit(const struct vmx_insn *in, struct vmx_op_result *out)
{
	uint64_t qual = in->op.mem ? (uint64_t)in->op.disp : 0;
	uint32_t info = vmx_insn_info(in);

	if (in->id == VMX_INSN_MOV_TO_DR || in->id == VMX_INSN_MOV_FROM_DR)
		qual = vmx_qual_mov_dr(in->dr, in->id == VMX_INSN_MOV_FROM_DR, in->op.reg1);
	if (in->id == VMX_INSN_GETSEC || in->id == VMX_INSN_VMLAUNCH ||
	    in->id == VMX_INSN_VMRESUME || in->id == VMX_INSN_VMXOFF)
		qual = 0;
	vmx_op_exit(out, insn_reason[in->id], in->len, qual);
	if (info) {
		out->exit.has_insn_info = true;
		out->exit.insn_info = info;
	}
}

static bool is_vmx_insn(unsigned id)
{
	return id == VMX_INSN_INVEPT || id == VMX_INSN_INVVPID || id >= VMX_INSN_VMCLEAR;
}

/* VMX instruction reference (SDM 31.3): #UD with CR0.PE = 0, RFLAGS.VM = 1, in compatibility
 * mode, or when INVEPT/INVVPID are not supported; only then the VM exit of SDM 26.1.2. */
static bool vmx_insn_ud(const struct vmx_cpu *cpu, const struct vmx_insn *in,
                        const struct cpu_state *g)
{
	uint64_t ept = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_EPT_VPID_CAP);

	if (!(g->cr0 & CR0_PE) || (g->rflags & RFLAGS_VM) ||
	    ((g->efer & EFER_LMA) && !(g->seg[SEG_CS].ar & AR_L)))
		return true;
	if (in->id == VMX_INSN_INVEPT)
		return !(ept & EPT_CAP_INVEPT);
	if (in->id == VMX_INSN_INVVPID)
		return !(ept & VPID_CAP_INVVPID);
	return false;
}

/* SDM 26.1.3 VMREAD/VMWRITE: exit unless "VMCS shadowing" is 1, the encoding's bits 63:15 (31:15
 * outside 64-bit mode) are 0 and its bit in the VMREAD/VMWRITE bitmap is 0. */
static bool vmrw_exits(const struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                       const struct vmx_insn *in, const struct cpu_state *g)
{
	uint64_t field = vmx_guest_64bit(g) ? in->field : in->field & UINT32_MAX;
	uint64_t bitmap = in->id == VMX_INSN_VMREAD ? VF(v, VMREAD_BITMAP) : VF(v, VMWRITE_BITMAP);
	uint8_t byte;

	if (!(c->proc2 & PROC2_VMCS_SHADOWING) || (field >> 15))
		return true;
	vmx_mem_read(cpu, bitmap + (field >> 3), &byte, 1);
	return (byte >> (field & 7u)) & 1u;
}

static bool desc_table(unsigned id)
{
	return id >= VMX_INSN_SGDT && id <= VMX_INSN_LTR;
}

/* Faults and exits of the non-VMX instructions (GETSEC, MOV DR, INVPCID, descriptor tables). */
static void other_insn(const struct vmx_cpu *cpu, const struct vmx_ctls *c,
                       const struct vmx_insn *in, const struct cpu_state *g,
                       struct vmx_op_result *out)
{
	out->outcome = VMX_OP_EXECUTE;
	switch (in->id) {
	case VMX_INSN_GETSEC: /* SDM 26.1.2: exits with CR4.SMXE = 1, #UD otherwise */
		if (g->cr4 & CR4_SMXE)
			insn_exit(in, out);
		else
			vmx_op_fault(cpu, out, VEC_UD, false);
		return;
	case VMX_INSN_MOV_TO_DR: /* SDM 26.1.3: before the CPL and DR4/DR5 faults */
	case VMX_INSN_MOV_FROM_DR:
		if (c->proc & PROC_MOV_DR_EXITING)
			insn_exit(in, out);
		return;
	case VMX_INSN_INVPCID: /* SDM 26.3 INVPCID: #UD without "enable INVPCID" */
		if (!(c->proc2 & PROC2_ENABLE_INVPCID))
			vmx_op_fault(cpu, out, VEC_UD, false);
		else if (vmx_guest_cpl(g) != 0)
			vmx_op_fault(cpu, out, VEC_GP, true);
		else if (c->proc & PROC_INVLPG_EXITING)
			insn_exit(in, out);
		return;
	default: break;
	}
	if (desc_table(in->id) && in->id >= VMX_INSN_SLDT && !(g->cr0 & CR0_PE))
		vmx_op_fault(cpu, out, VEC_UD, false);
	else if (desc_table(in->id) && (c->proc2 & PROC2_DESC_TABLE_EXITING))
		insn_exit(in, out);
}

bool vmx_insn_exits(struct vmx_cpu *cpu, const struct vmx_insn *insn, const struct cpu_state *guest,
                    struct vmx_op_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	memset(out, 0, sizeof(*out));
	if (!v || insn->id >= VMX_INSN_COUNT)
		return false;
	vmx_ctls_of(v, &c);
	if (!is_vmx_insn(insn->id))
		other_insn(cpu, &c, insn, guest, out);
	else if (vmx_insn_ud(cpu, insn, guest))
		vmx_op_fault(cpu, out, VEC_UD, false);
	else if ((insn->id == VMX_INSN_VMREAD || insn->id == VMX_INSN_VMWRITE) &&
	         !vmrw_exits(cpu, v, &c, insn, guest))
		out->outcome = VMX_OP_EXECUTE;
	else
		insn_exit(insn, out);
	return out->outcome == VMX_OP_EXIT;
}
