/* APIC virtualization, the virtual-APIC state and its update steps: the virtual-APIC page
 * registers (SDM 30.1.1), TPR, PPR, EOI and self-IPI virtualization (30.1.2-30.1.5), evaluation
 * and delivery of pending virtual interrupts (30.2) and the descriptor part of posted-interrupt
 * processing (30.6). Each step is one function following the SDM pseudocode, logging itself
 * through the step hook. RVI and SVI live in the current VMCS's guest interrupt status; VTPR,
 * VPPR, VISR and VIRR in the virtual-APIC page in simulated memory. IPI virtualization (tertiary
 * controls) is not modelled. */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define PID_ON_BYTE 32 /* outstanding-notification bit 256 of the posted-interrupt descriptor */

static uint64_t vapic_pa(const struct vmx_cpu *cpu, unsigned offset)
{
	const struct vmcs *v = vmx_current_const(cpu);

	return v ? VF(v, VIRTUAL_APIC_PAGE_ADDR) + (offset & 0xffcu) : UINT64_MAX;
}

uint32_t vmx_vapic_read(const struct vmx_cpu *cpu, unsigned offset)
{
	uint32_t value;

	vmx_mem_read(cpu, vapic_pa(cpu, offset), &value, sizeof(value));
	return value;
}

void vmx_vapic_write(struct vmx_cpu *cpu, unsigned offset, uint32_t value)
{
	vmx_mem_write(cpu, vapic_pa(cpu, offset), &value, sizeof(value));
}

/* Bit x of VISR/VIRR/VTMR is bit (x & 1FH) at offset base | ((x & E0H) >> 1) (SDM 30.1.1). */
static unsigned vec_offset(unsigned base, uint8_t vector)
{
	return base | ((vector & 0xe0u) >> 1);
}

bool vmx_vapic_test(const struct vmx_cpu *cpu, unsigned base, uint8_t vector)
{
	return (vmx_vapic_read(cpu, vec_offset(base, vector)) >> (vector & 31u)) & 1u;
}

void vmx_vapic_set(struct vmx_cpu *cpu, unsigned base, uint8_t vector, bool on)
{
	unsigned off = vec_offset(base, vector);
	uint32_t reg = vmx_vapic_read(cpu, off), bit = UINT32_C(1) << (vector & 31u);

	vmx_vapic_write(cpu, off, on ? reg | bit : reg & ~bit);
}

int vmx_vapic_highest(const struct vmx_cpu *cpu, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t reg = vmx_vapic_read(cpu, base + 0x10u * (unsigned)i);

		for (int b = 31; reg && b >= 0; b--)
			if (reg & (UINT32_C(1) << b))
				return i * 32 + b;
	}
	return -1;
}

uint8_t vmx_apicv_rvi(const struct vmx_cpu *cpu)
{
	const struct vmcs *v = vmx_current_const(cpu);

	return v ? (uint8_t)VF(v, GUEST_INTR_STATUS) : 0;
}

uint8_t vmx_apicv_svi(const struct vmx_cpu *cpu)
{
	const struct vmcs *v = vmx_current_const(cpu);

	return v ? (uint8_t)(VF(v, GUEST_INTR_STATUS) >> 8) : 0;
}

void vmx_apicv_set_rvi(struct vmx_cpu *cpu, uint8_t rvi)
{
	struct vmcs *v = vmx_current(cpu);

	if (v)
		VF(v, GUEST_INTR_STATUS) = (VF(v, GUEST_INTR_STATUS) & 0xff00u) | rvi;
}

void vmx_apicv_set_svi(struct vmx_cpu *cpu, uint8_t svi)
{
	struct vmcs *v = vmx_current(cpu);

	if (v)
		VF(v, GUEST_INTR_STATUS) =
		    (VF(v, GUEST_INTR_STATUS) & 0x00ffu) | ((uint64_t)svi << 8);
}

bool vmx_apicv_recognized(const struct vmx_cpu *cpu)
{
	return cpu->nr.vintr_recognized;
}

static uint32_t ctl_proc(const struct vmx_cpu *cpu)
{
	const struct vmcs *v = vmx_current_const(cpu);

	return v ? (uint32_t)VF(v, CPU_BASED_VM_EXEC_CONTROL) : 0;
}

static bool vid(const struct vmx_cpu *cpu)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	if (!v)
		return false;
	vmx_ctls_of(v, &c);
	return (c.proc2 & PROC2_VIRT_INTR_DELIVERY) != 0;
}

/* SDM 30.1.3 "PPR Virtualization" */
void vmx_apicv_ppr_virtualize(struct vmx_cpu *cpu)
{
	uint32_t vtpr = vmx_vapic_read(cpu, VAPIC_VTPR) & 0xffu;
	uint8_t svi = vmx_apicv_svi(cpu);
	uint32_t vppr = (vtpr >> 4) >= (svi >> 4u) ? vtpr : (svi & 0xf0u);

	vmx_vapic_write(cpu, VAPIC_VPPR, vppr);
	vmx_step_emit(cpu, "PPR virtualization", SDM_APIC_PPR, svi, vppr);
}

/* SDM 30.2.1 "Evaluation of Pending Virtual Interrupts" */
bool vmx_apicv_evaluate(struct vmx_cpu *cpu)
{
	uint8_t rvi = vmx_apicv_rvi(cpu);
	uint32_t vppr = vmx_vapic_read(cpu, VAPIC_VPPR) & 0xffu;
	bool intwin = (ctl_proc(cpu) & PROC_INTR_WINDOW_EXITING) != 0;

	cpu->nr.vintr_recognized = !intwin && (rvi >> 4) > (vppr >> 4);
	vmx_step_emit(cpu, "evaluate pending virtual interrupts", SDM_APIC_EVAL, rvi,
	              cpu->nr.vintr_recognized);
	return cpu->nr.vintr_recognized;
}

void vmx_tpr_exit_info(struct vmx_exit_info *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->reason = EXIT_REASON_TPR_BELOW_THRESHOLD;
	exit->trap_like = true;
}

/* SDM 30.1.2 "TPR Virtualization": without virtual-interrupt delivery, a VTPR[7:4] below the
 * TPR threshold causes a trap-like VM exit; with it, PPR virtualization and evaluation. */
bool vmx_apicv_tpr_virtualize(struct vmx_cpu *cpu, struct vmx_exit_info *exit)
{
	const struct vmcs *v = vmx_current_const(cpu);
	uint32_t vtpr = vmx_vapic_read(cpu, VAPIC_VTPR) & 0xffu;
	uint32_t threshold = v ? (uint32_t)VF(v, TPR_THRESHOLD) & 0xfu : 0;

	vmx_step_emit(cpu, "TPR virtualization", SDM_APIC_TPR, 0, vtpr);
	if (!vid(cpu)) {
		if ((vtpr >> 4) >= threshold)
			return false;
		vmx_tpr_exit_info(exit);
		vmx_step_emit(cpu, "TPR below threshold: VM exit", SDM_APIC_TPR, 0, threshold);
		return true;
	}
	vmx_apicv_ppr_virtualize(cpu);
	vmx_apicv_evaluate(cpu);
	return false;
}

static bool eoi_exit_bit(const struct vmx_cpu *cpu, uint8_t vector)
{
	const struct vmcs *v = vmx_current_const(cpu);

	return v && ((v->f[VMCS_IDX_EOI_EXIT_BITMAP0 + (vector >> 6)] >> (vector & 63u)) & 1u);
}

/* SDM 30.1.4 "EOI Virtualization": dismisses the vector SVI names, whatever VISR holds. */
bool vmx_apicv_eoi_virtualize(struct vmx_cpu *cpu, struct vmx_exit_info *exit)
{
	uint8_t vector = vmx_apicv_svi(cpu);
	int next;

	vmx_vapic_set(cpu, VAPIC_VISR, vector, false);
	next = vmx_vapic_highest(cpu, VAPIC_VISR);
	vmx_apicv_set_svi(cpu, next < 0 ? 0 : (uint8_t)next);
	vmx_step_emit(cpu, "EOI virtualization", SDM_APIC_EOI, vector, vmx_apicv_svi(cpu));
	vmx_apicv_ppr_virtualize(cpu);
	if (eoi_exit_bit(cpu, vector)) {
		memset(exit, 0, sizeof(*exit));
		exit->reason = EXIT_REASON_VIRTUALIZED_EOI;
		exit->qual = vector;
		exit->trap_like = true;
		vmx_step_emit(cpu, "EOI-induced VM exit", SDM_APIC_EOI, vector, vector);
		return true;
	}
	vmx_apicv_evaluate(cpu);
	return false;
}

/* SDM 30.1.5 "Self-IPI Virtualization" */
void vmx_apicv_self_ipi(struct vmx_cpu *cpu, uint8_t vector)
{
	vmx_vapic_set(cpu, VAPIC_VIRR, vector, true);
	if (vector > vmx_apicv_rvi(cpu))
		vmx_apicv_set_rvi(cpu, vector);
	vmx_step_emit(cpu, "self-IPI virtualization", SDM_APIC_SIPI, vector, vmx_apicv_rvi(cpu));
	vmx_apicv_evaluate(cpu);
}

/* SDM 30.2.2 "Virtual-Interrupt Delivery" (the state updates; the IDT delivery is the owner's) */
int vmx_apicv_deliver(struct vmx_cpu *cpu)
{
	uint8_t vector = vmx_apicv_rvi(cpu);
	int next;

	if (!cpu->nr.vintr_recognized)
		return -1;
	vmx_vapic_set(cpu, VAPIC_VISR, vector, true);
	vmx_apicv_set_svi(cpu, vector);
	vmx_vapic_write(cpu, VAPIC_VPPR, vector & 0xf0u);
	vmx_vapic_set(cpu, VAPIC_VIRR, vector, false);
	next = vmx_vapic_highest(cpu, VAPIC_VIRR);
	vmx_apicv_set_rvi(cpu, next < 0 ? 0 : (uint8_t)next);
	cpu->nr.vintr_recognized = false;
	vmx_step_emit(cpu, "virtual-interrupt delivery", SDM_APIC_DLVR, vector, vmx_apicv_rvi(cpu));
	return vector;
}

/* SDM 30.6 "Posted-Interrupt Processing", steps 3 (clear ON), 5 (PIR into VIRR, PIR cleared),
 * 6 (RVI) and 7 (evaluation). Steps 1, 2 and 4 (acknowledge, compare with the notification
 * vector, physical EOI) belong to vmx_extint_ack and the owner. */
void vmx_apicv_posted_interrupt(struct vmx_cpu *cpu)
{
	const struct vmcs *v = vmx_current_const(cpu);
	uint32_t pir[8], zero[8] = {0};
	uint64_t pid;
	uint8_t on;
	int high = -1;

	if (!v)
		return;
	pid = VF(v, POSTED_INTR_DESC_ADDR);
	vmx_mem_read(cpu, pid + PID_ON_BYTE, &on, 1);
	on &= (uint8_t)~1u;
	vmx_mem_write(cpu, pid + PID_ON_BYTE, &on, 1);
	vmx_step_emit(cpu, "posted-interrupt processing: clear ON", SDM_APIC_PI, 0, 0);
	vmx_mem_read(cpu, pid, pir, sizeof(pir));
	vmx_mem_write(cpu, pid, zero, sizeof(zero));
	for (unsigned i = 0; i < 8; i++) {
		vmx_vapic_write(cpu, VAPIC_VIRR + 0x10u * i,
		                vmx_vapic_read(cpu, VAPIC_VIRR + 0x10u * i) | pir[i]);
		for (int b = 31; pir[i] && b >= 0; b--)
			if ((pir[i] >> b) & 1u) {
				high = (int)i * 32 + b;
				break;
			}
	}
	if (high > vmx_apicv_rvi(cpu))
		vmx_apicv_set_rvi(cpu, (uint8_t)high);
	vmx_step_emit(cpu, "posted-interrupt processing: PIR into VIRR", SDM_APIC_PI,
	              high < 0 ? 0 : (uint32_t)high, vmx_apicv_rvi(cpu));
	vmx_apicv_evaluate(cpu);
}
