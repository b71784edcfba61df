/* Control-register accesses in VMX non-root operation: when MOV to/from CR0, CR3, CR4, CR8, CLTS
 * and LMSW exit (SDM 26.1.3: guest/host masks and read shadows, CR3-load/store exiting with the
 * CR3-target values, CR8-load/store exiting) and what they do when they do not (SDM 26.3: owned
 * bits keep their value, reads return the shadow for owned bits; SDM 30.3: MOV CR8 with "use TPR
 * shadow" uses VTPR and may end in a trap-like TPR-below-threshold exit). The architectural side
 * effects of a CR write (paging, TLBs) are the owner's. LMSW is taken to have a register operand
 * (the guest_op has no operand type). */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#define VEC_GP            13
#define CR3_TARGET_FIELDS 4

static void cr_exit(const struct guest_op *op, struct vmx_op_result *out)
{
	vmx_op_exit(out, EXIT_REASON_CR_ACCESS, op->len,
	            vmx_qual_cr(op->u.cr.cr, op->u.cr.access, op->u.cr.gpr, false, op->u.cr.lmsw));
}

static void done_cr(struct vmx_op_result *out, unsigned cr, uint64_t value)
{
	vmx_op_done(out);
	out->done.set_cr = true;
	out->done.cr = (uint8_t)cr;
	out->done.cr_value = value;
}

/* SDM 26.3 MOV from CR0/CR4: shadow bits where the mask is set, the register elsewhere */
static uint64_t shadowed(uint64_t cr, uint64_t mask, uint64_t shadow)
{
	return (cr & ~mask) | (shadow & mask);
}

static bool in_64bit_mode(const struct cpu_state *g)
{
	return (g->efer & EFER_LMA) && (g->seg[SEG_CS].ar & AR_L);
}

/* SDM Vol. 2B MOV to CR0, #GP(0): invalid combinations (PG without PE, NW without CD), bits
 * 63:32 set, PG cleared in 64-bit mode or while CR4.PCIDE = 1, PG set with EFER.LME and no
 * CR4.PAE (SDM 10.8.5). Checked on the value the processor would load. */
static bool cr0_arch_faults(uint64_t cr0, const struct cpu_state *g)
{
	bool pg_cleared = (g->cr0 & CR0_PG) && !(cr0 & CR0_PG);

	return (cr0 >> 32) || ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) ||
	       ((cr0 & CR0_NW) && !(cr0 & CR0_CD)) ||
	       (pg_cleared && (in_64bit_mode(g) || (g->cr4 & CR4_PCIDE))) ||
	       ((cr0 & CR0_PG) && !(g->cr4 & CR4_PAE) && (g->efer & EFER_LME));
}

/* SDM 26.3 MOV to CR0: #GP when a bit the guest owns would take a value VMX operation does not
 * support (PE and PG are free with "unrestricted guest"), and the architectural #GP cases. */
static bool cr0_faults(const struct vmx_cpu *cpu, const struct vmx_ctls *c, uint64_t mask,
                       uint64_t cr0, const struct cpu_state *g)
{
	uint64_t f0 = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_CR0_FIXED0) & ~mask;
	uint64_t f1 = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_CR0_FIXED1) | mask;

	if (c->proc2 & PROC2_UNRESTRICTED_GUEST)
		f0 &= ~(CR0_PE | CR0_PG);
	return (cr0 & f0) != f0 || (cr0 & ~f1) || cr0_arch_faults(cr0, g);
}

/* SDM Vol. 2B MOV to CR4, #GP(0): leaving IA-32e mode by clearing PAE, changing LA57 in IA-32e
 * mode, setting PCIDE outside IA-32e mode or with CR3[11:0] != 0, setting CET with CR0.WP = 0. */
static bool cr4_arch_faults(uint64_t cr4, const struct cpu_state *g)
{
	bool lma = (g->efer & EFER_LMA) != 0;
	bool pcide_set = !(g->cr4 & CR4_PCIDE) && (cr4 & CR4_PCIDE);

	return (lma && !(cr4 & CR4_PAE)) || (lma && ((cr4 ^ g->cr4) & CR4_LA57)) ||
	       (pcide_set && (!lma || (g->cr3 & 0xfffu))) ||
	       ((cr4 & CR4_CET) && !(g->cr0 & CR0_WP));
}

/* SDM 26.3 MOV to CR4: the VMX-fixed bits of the bits the guest owns, and the architectural
 * #GP cases. */
static bool cr4_faults(const struct vmx_cpu *cpu, uint64_t mask, uint64_t cr4,
                       const struct cpu_state *g)
{
	uint64_t f0 = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_CR4_FIXED0) & ~mask;
	uint64_t f1 = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_CR4_FIXED1) | mask;

	return (cr4 & f0) != f0 || (cr4 & ~f1) || cr4_arch_faults(cr4, g);
}

/* SDM 26.1.3 LMSW: exits when it would set PE where the mask and the source have it and the
 * shadow does not, or change any owned bit 3:1 away from the shadow. */
static bool lmsw_exits(uint64_t mask, uint64_t shadow, uint16_t src)
{
	return ((mask & src & CR0_PE) && !(shadow & CR0_PE)) || (mask & (src ^ shadow) & 0xeu);
}

/* MOV to CR0 (to = true) or LMSW that did not exit: owned bits unchanged, #GP on unsupported
 * values of the others. */
static void cr0_write(const struct vmx_cpu *cpu, const struct vmx_ctls *c, uint64_t mask,
                      uint64_t cr0, const struct cpu_state *g, struct vmx_op_result *out)
{
	if (cr0_faults(cpu, c, mask, cr0, g))
		vmx_op_fault(cpu, out, VEC_GP, true);
	else
		done_cr(out, 0, cr0);
}

static void cr0_op(const struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                   const struct guest_op *op, const struct cpu_state *g, struct vmx_op_result *out)
{
	uint64_t mask = VF(v, CR0_GUEST_HOST_MASK), shadow = VF(v, CR0_READ_SHADOW);
	uint16_t src = op->u.cr.lmsw;

	switch (op->u.cr.access) {
	case CR_ACCESS_MOV_TO_CR:
		if ((op->u.cr.value ^ shadow) & mask)
			cr_exit(op, out);
		else
			cr0_write(cpu, c, mask, (op->u.cr.value & ~mask) | (g->cr0 & mask), g, out);
		break;
	case CR_ACCESS_MOV_FROM_CR: vmx_op_done_value(out, shadowed(g->cr0, mask, shadow)); break;
	case CR_ACCESS_CLTS: /* SDM 26.1.3 and 26.3 CLTS */
		if (mask & shadow & CR0_TS)
			cr_exit(op, out);
		else if (mask & CR0_TS)
			done_cr(out, 0, g->cr0);
		else
			out->outcome = VMX_OP_EXECUTE;
		break;
	default: /* LMSW: owned bits 3:0 unchanged, PE never cleared (SDM 26.3) */
		if (lmsw_exits(mask, shadow, src))
			cr_exit(op, out);
		else
			cr0_write(cpu, c, mask,
			          (g->cr0 & ~(~mask & 0xfu)) | (src & ~mask & 0xfu) |
			              (g->cr0 & CR0_PE),
			          g, out);
		break;
	}
}

static void cr4_op(const struct vmx_cpu *cpu, const struct vmcs *v, const struct guest_op *op,
                   const struct cpu_state *g, struct vmx_op_result *out)
{
	uint64_t mask = VF(v, CR4_GUEST_HOST_MASK), shadow = VF(v, CR4_READ_SHADOW);
	uint64_t cr4 = (op->u.cr.value & ~mask) | (g->cr4 & mask);

	if (op->u.cr.access == CR_ACCESS_MOV_FROM_CR)
		vmx_op_done_value(out, shadowed(g->cr4, mask, shadow));
	else if ((op->u.cr.value ^ shadow) & mask)
		cr_exit(op, out);
	else if (cr4_faults(cpu, mask, cr4, g))
		vmx_op_fault(cpu, out, VEC_GP, true);
	else
		done_cr(out, 4, cr4);
}

/* SDM 26.1.3 MOV to CR3: exits with CR3-load exiting unless the value is one of the first
 * CR3-target-count target values. */
static bool cr3_target(const struct vmcs *v, uint64_t value)
{
	uint64_t n = VF(v, CR3_TARGET_COUNT);

	for (uint64_t i = 0; i < n && i < CR3_TARGET_FIELDS; i++)
		if (v->f[VMCS_IDX_CR3_TARGET_VALUE0 + i] == value)
			return true;
	return false;
}

static void cr3_op(const struct vmcs *v, const struct vmx_ctls *c, const struct guest_op *op,
                   struct vmx_op_result *out)
{
	bool exits = op->u.cr.access == CR_ACCESS_MOV_FROM_CR
	                 ? (c->proc & PROC_CR3_STORE_EXITING) != 0
	                 : (c->proc & PROC_CR3_LOAD_EXITING) && !cr3_target(v, op->u.cr.value);

	if (exits)
		cr_exit(op, out);
	else
		out->outcome = VMX_OP_EXECUTE;
}

/* SDM 30.3 "Virtualizing CR8-Based TPR Accesses" */
static void cr8_op(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct guest_op *op,
                   struct vmx_op_result *out)
{
	bool from = op->u.cr.access == CR_ACCESS_MOV_FROM_CR;
	uint32_t vtpr = (uint32_t)(op->u.cr.value & 0xfu) << 4;

	if (c->proc & (from ? PROC_CR8_STORE_EXITING : PROC_CR8_LOAD_EXITING)) {
		cr_exit(op, out);
	} else if (!(c->proc & PROC_USE_TPR_SHADOW)) {
		out->outcome = VMX_OP_EXECUTE;
	} else if (from) {
		vmx_op_done_value(out, (vmx_vapic_read(cpu, VAPIC_VTPR) >> 4) & 0xfu);
	} else {
		vmx_vapic_write(cpu, VAPIC_VTPR, vtpr);
		vmx_step_emit(cpu, "MOV to CR8: VTPR written", SDM_APIC_CR8, 0, vtpr);
		vmx_op_done(out);
		if (vmx_apicv_tpr_virtualize(cpu, &out->exit))
			out->outcome = VMX_OP_DONE_EXIT;
	}
}

bool vmx_cr_op(struct vmx_cpu *cpu, const struct guest_op *op, const struct cpu_state *g,
               struct vmx_op_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	if (!v)
		return false;
	vmx_ctls_of(v, &c);
	switch (op->u.cr.cr) {
	case 0: cr0_op(cpu, v, &c, op, g, out); break;
	case 3: cr3_op(v, &c, op, out); break;
	case 4: cr4_op(cpu, v, op, g, out); break;
	case 8: cr8_op(cpu, &c, op, out); break;
	default: out->outcome = VMX_OP_EXECUTE; break;
	}
	return true;
}
