/* Encoders of the VM-exit information a VM exit records (SDM 28.2.1 "Basic VM-Exit Information"
 * and 28.2.4 "Information for VM Exits Due to Instruction Execution"): the exit-qualification
 * layouts for control-register accesses, MOV DR, I/O instructions and APIC accesses, and the
 * VM-exit instruction-information formats. Bits the SDM leaves undefined are written 0. */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

/* SDM 28.2.1, exit qualification for control-register accesses (Table 28-3) */
uint64_t vmx_qual_cr(unsigned cr, unsigned access, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src)
{
	uint64_t q = (cr & 0xfu) | ((access & 3u) << 4);

	if (access == CR_ACCESS_LMSW)
		return (q & ~UINT64_C(0xf)) | ((uint64_t)lmsw_mem << 6) |
		       ((uint64_t)lmsw_src << 16);
	if (access == CR_ACCESS_CLTS)
		return q & ~UINT64_C(0xf);
	return q | ((uint64_t)(gpr & 0xfu) << 8);
}

/* SDM 28.2.1, exit qualification for MOV DR */
uint64_t vmx_qual_mov_dr(unsigned dr, bool from_dr, unsigned gpr)
{
	return (dr & 7u) | ((uint64_t)from_dr << 4) | ((uint64_t)(gpr & 0xfu) << 8);
}

/* SDM 28.2.1, exit qualification for I/O instructions: size 0 = 1 byte, 1 = 2, 3 = 4 */
uint64_t vmx_qual_io(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port)
{
	return (uint64_t)((size - 1) & 7u) | ((uint64_t)in << 3) | ((uint64_t)string << 4) |
	       ((uint64_t)rep << 5) | ((uint64_t)imm << 6) | ((uint64_t)port << 16);
}

/* SDM 28.2.1, exit qualification for APIC-access VM exits */
uint64_t vmx_qual_apic_access(unsigned offset, unsigned type)
{
	return (offset & 0xfffu) | ((uint64_t)(type & 0xfu) << 12);
}

/* The fields every memory-operand format shares (scaling 1:0, address size 9:7, segment 17:15,
 * index 21:18 + invalid 22, base 26:23 + invalid 27). */
static uint32_t mem_fields(const struct vmx_insn_operand *o)
{
	uint32_t info = ((uint32_t)(o->addr_size & 7u) << 7) | ((uint32_t)(o->seg & 7u) << 15);

	if (o->index < GPR_COUNT)
		info |= (o->scale & 3u) | ((uint32_t)o->index << 18);
	else
		info |= BIT32(22);
	if (o->base < GPR_COUNT)
		info |= (uint32_t)o->base << 23;
	else
		info |= BIT32(27);
	return info;
}

static uint32_t reg2(const struct vmx_insn_operand *o)
{
	return (uint32_t)(o->reg2 & 0xfu) << 28;
}

/* Register-or-memory formats (LLDT/LTR/SLDT/STR, VMREAD/VMWRITE): bit 10 = register form. */
static uint32_t rm_fields(const struct vmx_insn_operand *o)
{
	if (!o->mem)
		return ((uint32_t)(o->reg1 & 0xfu) << 3) | BIT32(10);
	return mem_fields(o);
}

/* Instruction identity, bits 29:28 of the descriptor-table formats. */
static uint32_t identity(unsigned id, unsigned first)
{
	return (uint32_t)((id - first) & 3u) << 28;
}

uint32_t vmx_insn_info(const struct vmx_insn *insn)
{
	const struct vmx_insn_operand *o = &insn->op;

	switch (insn->id) {
	case VMX_INSN_INVEPT:
	case VMX_INSN_INVPCID:
	case VMX_INSN_INVVPID: return mem_fields(o) | reg2(o);
	case VMX_INSN_SGDT:
	case VMX_INSN_SIDT:
	case VMX_INSN_LGDT:
	case VMX_INSN_LIDT:
		return mem_fields(o) | ((uint32_t)(o->opsize & 1u) << 11) |
		       identity(insn->id, VMX_INSN_SGDT);
	case VMX_INSN_SLDT:
	case VMX_INSN_STR:
	case VMX_INSN_LLDT:
	case VMX_INSN_LTR: return rm_fields(o) | identity(insn->id, VMX_INSN_SLDT);
	case VMX_INSN_VMCLEAR:
	case VMX_INSN_VMPTRLD:
	case VMX_INSN_VMPTRST:
	case VMX_INSN_VMXON: return mem_fields(o);
	case VMX_INSN_VMREAD:
	case VMX_INSN_VMWRITE: return rm_fields(o) | reg2(o);
	default: return 0;
	}
}

/* SDM 28.2.4, instruction information for INS and OUTS */
uint32_t vmx_insn_info_io(unsigned addr_size, unsigned seg)
{
	return ((uint32_t)(addr_size & 7u) << 7) | ((uint32_t)(seg & 7u) << 15);
}

/* SDM 28.2.4, instruction information for RDRAND and RDSEED */
uint32_t vmx_insn_info_rand(unsigned gpr, unsigned opsize)
{
	return ((uint32_t)(gpr & 0xfu) << 3) | ((uint32_t)(opsize & 3u) << 11);
}

void vmx_triple_fault_exit(struct vmx_exit_info *out)
{
	memset(out, 0, sizeof(*out));
	out->reason = EXIT_REASON_TRIPLE_FAULT;
}

/* SDM 28.2.1, exit qualification for task switches: selector 15:0, source 31:30; the length
 * is defined for CALL/IRET/JMP and for task gates reached by software interrupts (insn_len 0:
 * none). */
void vmx_task_switch_exit(uint16_t selector, unsigned source, uint32_t insn_len,
                          struct vmx_exit_info *out)
{
	memset(out, 0, sizeof(*out));
	out->reason = EXIT_REASON_TASK_SWITCH;
	out->qual = selector | ((uint64_t)(source & 3u) << 30);
	if (insn_len) {
		out->has_insn_len = true;
		out->insn_len = insn_len;
	}
}
