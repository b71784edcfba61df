/* Guest accesses that APIC virtualization intercepts: loads and stores to the APIC-access page
 * (SDM 30.4.2 reads, 30.4.3 writes with APIC-write emulation and APIC-write VM exits, otherwise
 * APIC-access VM exits with the qualification of SDM 28.2.1) and RDMSR/WRMSR of the x2APIC range
 * with "virtualize x2APIC mode" (SDM 30.5). Accesses are single operations of at most 8 bytes,
 * made by data accesses during instruction execution (never fetches, never event delivery, never
 * two APIC-page accesses in one operation). */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define VEC_GP          13
#define X2APIC_MSR_BASE 0x800u
#define X2APIC_TPR      0x808u
#define X2APIC_EOI      0x80bu
#define X2APIC_SELF_IPI 0x83fu
#define VICR_SELF_IPI_RSVD                                               \
	0xfff3b700u /* reserved 31:20, 17:16, 13; status 12; trigger 15; \
	               delivery mode 10:8 */
#define VICR_SHORTHAND(v) (((v) >> 18) & 3u)
#define VICR_SELF         1u

/* SDM 30.4.2: the registers whose low 4 bytes a virtualized read may touch with "APIC-register
 * virtualization" (ID, version, TPR, EOI, LDR, DFR, SVR, ISR, TMR, IRR, ESR, ICR, LVT, initial
 * count, divide configuration), by 16-byte register index. */
static bool read_reg_ok(unsigned reg)
{
	return reg == 0x02 || reg == 0x03 || reg == 0x08 || reg == 0x0b || reg == 0x0d ||
	       reg == 0x0e || reg == 0x0f || (reg >= 0x10 && reg <= 0x28) ||
	       (reg >= 0x30 && reg <= 0x38) || reg == 0x3e;
}

/* SDM 30.4.3.1: the same for writes (no version, ISR, TMR, IRR). */
static bool write_reg_ok(unsigned reg)
{
	return reg == 0x02 || reg == 0x08 || reg == 0x0b || reg == 0x0d || reg == 0x0e ||
	       reg == 0x0f || reg == 0x28 || (reg >= 0x30 && reg <= 0x38) || reg == 0x3e;
}

/* The access-shape conditions shared by reads and writes: "use TPR shadow", at most 32 bits,
 * inside the low 4 bytes of a 16-byte region. */
static bool shape_ok(const struct vmx_ctls *c, unsigned off, unsigned size)
{
	return (c->proc & PROC_USE_TPR_SHADOW) && size <= 4 && (off & 0xfu) + size <= 4;
}

static bool read_virtualized(const struct vmx_ctls *c, unsigned off, unsigned size)
{
	if (!shape_ok(c, off, size))
		return false;
	if (!(c->proc2 & PROC2_APIC_REGISTER_VIRT))
		return off == VAPIC_VTPR;
	return read_reg_ok(off >> 4);
}

static bool write_virtualized(const struct vmx_ctls *c, unsigned off, unsigned size)
{
	bool arv = (c->proc2 & PROC2_APIC_REGISTER_VIRT) != 0;
	bool vid = (c->proc2 & PROC2_VIRT_INTR_DELIVERY) != 0;

	if (!shape_ok(c, off, size))
		return false;
	if (arv)
		return write_reg_ok(off >> 4);
	return off == VAPIC_VTPR || (vid && (off == VAPIC_VEOI || off == VAPIC_VICR_LO));
}

static uint64_t vapic_load(const struct vmx_cpu *cpu, const struct vmcs *v, unsigned off,
                           unsigned size)
{
	uint64_t value = 0;

	vmx_mem_read(cpu, VF(v, VIRTUAL_APIC_PAGE_ADDR) + off, &value, size);
	return value;
}

static void vapic_store(const struct vmx_cpu *cpu, const struct vmcs *v, unsigned off,
                        unsigned size, uint64_t value)
{
	vmx_mem_write(cpu, VF(v, VIRTUAL_APIC_PAGE_ADDR) + off, &value, size);
}

static void apic_write_exit(struct vmx_cpu *cpu, unsigned off, struct vmx_op_result *out)
{
	memset(&out->exit, 0, sizeof(out->exit));
	out->outcome = VMX_OP_DONE_EXIT;
	out->exit.reason = EXIT_REASON_APIC_WRITE;
	out->exit.qual = off & 0xfffu;
	out->exit.trap_like = true;
	vmx_step_emit(cpu, "APIC-write VM exit", SDM_APIC_WRITE, 0, off);
}

static bool self_ipi_vicr(uint32_t vicr)
{
	return !(vicr & VICR_SELF_IPI_RSVD) && VICR_SHORTHAND(vicr) == VICR_SELF && (vicr & 0xf0u);
}

/* SDM 30.4.3.2 "APIC-Write Emulation", by the page offset of the virtualized write. */
static void apic_write_emulation(struct vmx_cpu *cpu, const struct vmx_ctls *c, unsigned off,
                                 struct vmx_op_result *out)
{
	bool vid = (c->proc2 & PROC2_VIRT_INTR_DELIVERY) != 0;
	uint32_t vicr = vmx_vapic_read(cpu, VAPIC_VICR_LO);

	vmx_op_done(out);
	vmx_step_emit(cpu, "APIC-write emulation", SDM_APIC_WRITE, 0, off);
	if (off == VAPIC_VTPR) {
		vmx_vapic_write(cpu, VAPIC_VTPR, vmx_vapic_read(cpu, VAPIC_VTPR) & 0xffu);
		if (vmx_apicv_tpr_virtualize(cpu, &out->exit))
			out->outcome = VMX_OP_DONE_EXIT;
	} else if (off == VAPIC_VEOI && vid) {
		vmx_vapic_write(cpu, VAPIC_VEOI, 0);
		if (vmx_apicv_eoi_virtualize(cpu, &out->exit))
			out->outcome = VMX_OP_DONE_EXIT;
	} else if (off == VAPIC_VICR_LO && vid && self_ipi_vicr(vicr)) {
		vmx_apicv_self_ipi(cpu, (uint8_t)vicr);
	} else if (off >= VAPIC_VICR_HI && off <= VAPIC_VICR_HI + 3) {
		vmx_vapic_write(cpu, VAPIC_VICR_HI,
		                vmx_vapic_read(cpu, VAPIC_VICR_HI) & 0xff000000u);
	} else {
		apic_write_exit(cpu, off, out);
	}
}

bool vmx_apic_access_op(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	unsigned off = (unsigned)(op->u.mmio.gpa & 0xfffu), size = op->u.mmio.size;
	struct vmx_ctls c;

	if (!v)
		return false;
	vmx_ctls_of(v, &c);
	if (!(c.proc2 & PROC2_VIRT_APIC_ACCESSES) ||
	    (op->u.mmio.gpa & ~UINT64_C(0xfff)) != VF(v, APIC_ACCESS_ADDR))
		return false;
	if (op->u.mmio.fetch) { /* SDM 30.4: an instruction fetch there always exits */
		vmx_op_exit(out, EXIT_REASON_APIC_ACCESS, 0,
		            vmx_qual_apic_access(off, VMX_APIC_ACCESS_LINEAR_FETCH));
	} else if (op->u.mmio.not_mov) { /* no data to virtualize: exits (a simplification) */
		vmx_op_exit(out, EXIT_REASON_APIC_ACCESS, 0,
		            vmx_qual_apic_access(off, op->u.mmio.write
		                                          ? VMX_APIC_ACCESS_LINEAR_WRITE
		                                          : VMX_APIC_ACCESS_LINEAR_READ));
	} else if (op->u.mmio.write && write_virtualized(&c, off, size)) {
		vapic_store(cpu, v, off, size, op->u.mmio.value);
		apic_write_emulation(cpu, &c, off, out);
	} else if (!op->u.mmio.write && read_virtualized(&c, off, size)) {
		vmx_op_done_value(out, vapic_load(cpu, v, off, size));
		vmx_step_emit(cpu, "APIC-access read virtualized", SDM_APIC_READ, 0, off);
	} else {
		vmx_op_exit(out, EXIT_REASON_APIC_ACCESS, 0,
		            vmx_qual_apic_access(off, op->u.mmio.write
		                                          ? VMX_APIC_ACCESS_LINEAR_WRITE
		                                          : VMX_APIC_ACCESS_LINEAR_READ));
	}
	return true;
}

static bool x2apic_virt(const struct vmx_cpu *cpu, const struct vmcs **v, struct vmx_ctls *c,
                        uint32_t index)
{
	*v = vmx_current_const(cpu);
	if (!*v || (index & ~0xffu) != X2APIC_MSR_BASE)
		return false;
	vmx_ctls_of(*v, c);
	return (c->proc2 & PROC2_VIRT_X2APIC_MODE) != 0;
}

/* SDM 30.5 RDMSR: with "APIC-register virtualization" every x2APIC MSR reads 8 bytes of the
 * virtual-APIC page at (ECX & FFH) << 4; without it only the TPR MSR does. */
bool vmx_x2apic_rdmsr(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out)
{
	uint32_t index = op->u.msr.index;
	const struct vmcs *v;
	struct vmx_ctls c;

	if (!x2apic_virt(cpu, &v, &c, index))
		return false;
	if (!(c.proc2 & PROC2_APIC_REGISTER_VIRT) && index != X2APIC_TPR)
		return false;
	vmx_op_done_value(out, vapic_load(cpu, v, (index & 0xffu) << 4, 8));
	vmx_step_emit(cpu, "x2APIC RDMSR virtualized", SDM_APIC_MSR, 0, index);
	return true;
}

/* SDM 30.5 WRMSR: TPR always, EOI and self-IPI with virtual-interrupt delivery; reserved-bit
 * #GP, then the store to the virtual-APIC page and the virtualization it triggers. */
bool vmx_x2apic_wrmsr(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out)
{
	uint32_t index = op->u.msr.index;
	uint64_t value = op->u.msr.value;
	const struct vmcs *v;
	struct vmx_ctls c;
	bool vid;

	if (!x2apic_virt(cpu, &v, &c, index))
		return false;
	vid = (c.proc2 & PROC2_VIRT_INTR_DELIVERY) != 0;
	if (index != X2APIC_TPR && !(vid && (index == X2APIC_EOI || index == X2APIC_SELF_IPI)))
		return false;
	if (index == X2APIC_EOI ? value != 0 : (value >> 8) != 0) {
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	}
	vapic_store(cpu, v, (index & 0xffu) << 4, 8, value);
	vmx_step_emit(cpu, "x2APIC WRMSR virtualized", SDM_APIC_MSR, 0, index);
	vmx_op_done(out);
	if (index == X2APIC_TPR && vmx_apicv_tpr_virtualize(cpu, &out->exit))
		out->outcome = VMX_OP_DONE_EXIT;
	else if (index == X2APIC_EOI && vmx_apicv_eoi_virtualize(cpu, &out->exit))
		out->outcome = VMX_OP_DONE_EXIT;
	else if (index == X2APIC_SELF_IPI && (value & 0xf0u))
		vmx_apicv_self_ipi(cpu, (uint8_t)value);
	else if (index == X2APIC_SELF_IPI)
		apic_write_exit(cpu, VAPIC_SELF_IPI, out);
	return true;
}
