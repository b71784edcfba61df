/* APICv, as KVM switches it at run time (x86.c kvm_vcpu_update_apicv, vmx.c
 * vmx_refresh_apicv_exec_ctrl): the virtual-APIC page takes over IRR, ISR and TPR, the processor
 * delivers interrupts from RVI and virtualizes EOIs from SVI (SDM 30.1.4, 30.2), x2APIC MSR reads
 * and EOI/TPR/SELF-IPI writes stop exiting while the guest's APIC is in x2APIC mode, and EOIs of
 * vectors the I/O APIC routes exit through the EOI-exit bitmap (exit 45). Quirk
 * apicv_activation_svi: "stale" activates without setting GUEST_INTR_STATUS.SVI from the highest
 * in-service vector (the bug fixed by "KVM: VMX: Update SVI during runtime APICv activation");
 * "update" sets it. */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>

/* Virtual-APIC page layout = the APIC register page (SDM 30.1.1) */
#define VAPIC_TPR 0x080u
#define VAPIC_PPR 0x0a0u
#define VAPIC_ISR 0x100u
#define VAPIC_TMR 0x180u
#define VAPIC_IRR 0x200u
#define RVI_MASK  0xffu
#define SVI_SHIFT 8

static uint32_t vapic_read(struct kvm_vcpu *kv, uint32_t off)
{
	uint32_t v = 0;

	hvsim_host_read(kv->kvm->vm, kv->vapic_pa + off, &v, sizeof(v));
	return v;
}

static void vapic_write(struct kvm_vcpu *kv, uint32_t off, uint32_t v)
{
	hvsim_host_write(kv->kvm->vm, kv->vapic_pa + off, &v, sizeof(v));
}

void kvm_apicv_pull(struct kvm_vcpu *kv)
{
	uint32_t irr[8], isr[8];

	if (!kv->apicv_active)
		return;
	for (unsigned i = 0; i < 8; i++) {
		irr[i] = vapic_read(kv, VAPIC_IRR + 16 * i);
		isr[i] = vapic_read(kv, VAPIC_ISR + 16 * i);
	}
	lapic_set_vectors(kv->lapic, irr, isr);
	lapic_set_tpr(kv->lapic, (uint8_t)vapic_read(kv, VAPIC_TPR));
}

static int highest(const uint32_t w[8])
{
	for (int i = 7; i >= 0; i--)
		if (w[i])
			return i * 32 + 31 - __builtin_clz(w[i]);
	return 0;
}

/* Writes the model's IRR/ISR/TMR/TPR/PPR into the page and RVI from the highest IRR
 * (vmx_hwapic_irr_update); SVI is left to the processor and to activation. */
void kvm_apicv_push(struct kvm_vcpu *kv)
{
	uint64_t now = hvsim_vcpu_now(kv->v), status;
	uint32_t irr[8], isr[8], tmr[8];

	if (!kv->apicv_active)
		return;
	lapic_get_vectors(kv->lapic, irr, isr, tmr);
	for (unsigned i = 0; i < 8; i++) {
		vapic_write(kv, VAPIC_IRR + 16 * i, irr[i]);
		vapic_write(kv, VAPIC_ISR + 16 * i, isr[i]);
		vapic_write(kv, VAPIC_TMR + 16 * i, tmr[i]);
	}
	vapic_write(kv, VAPIC_TPR, lapic_reg_peek(kv->lapic, LAPIC_REG_TPR, now));
	vapic_write(kv, VAPIC_PPR, lapic_reg_peek(kv->lapic, LAPIC_REG_PPR, now));
	status = kvm_vmcs_read(kv, VMCS_GUEST_INTR_STATUS);
	status = (status & ~(uint64_t)RVI_MASK) | (uint64_t)highest(irr);
	kvm_vmcs_write(kv, VMCS_GUEST_INTR_STATUS, status);
}

/* vmx_hwapic_isr_update: with APICv active, an ISR change KVM emulates (an EOI through the xAPIC
 * page, which this model does not virtualize) moves SVI to the highest in-service vector, as the
 * processor's EOI virtualization would (SDM 30.1.4). */
void kvm_apicv_isr_update(struct kvm_vcpu *kv)
{
	int isr = lapic_highest_isr(kv->lapic);
	uint64_t status;

	if (!kv->apicv_active)
		return;
	status = kvm_vmcs_read(kv, VMCS_GUEST_INTR_STATUS) & RVI_MASK;
	kvm_vmcs_write(kv, VMCS_GUEST_INTR_STATUS,
	               status | (uint64_t)(isr < 0 ? 0 : isr) << SVI_SHIFT);
}

/* vcpu->arch.ioapic_handled_vectors as EOI-exit bitmap: EOIs the I/O APIC must hear about. */
static void eoi_exit_bitmap(struct kvm_vcpu *kv, bool active)
{
	uint64_t bits[4] = {0};

	for (uint32_t p = 0; active && p < IOAPIC_MAX_PINS; p++) {
		uint64_t rte = ioapic_redirection(kv->kvm->ioapic, p);

		if (rte & IOAPIC_RTE_LEVEL)
			bits[(rte & 0xff) / 64] |= UINT64_C(1) << ((rte & 0xff) % 64);
	}
	kvm_vmcs_write(kv, VMCS_EOI_EXIT_BITMAP0, bits[0]);
	kvm_vmcs_write(kv, VMCS_EOI_EXIT_BITMAP1, bits[1]);
	kvm_vmcs_write(kv, VMCS_EOI_EXIT_BITMAP2, bits[2]);
	kvm_vmcs_write(kv, VMCS_EOI_EXIT_BITMAP3, bits[3]);
}

static void emit_apicv(struct kvm_vcpu *kv, bool active)
{
	uint64_t status = kvm_vmcs_read(kv, VMCS_GUEST_INTR_STATUS);
	struct trace_ev e;

	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "apicv");
	trace_ev_bool(&e, "active", active);
	trace_ev_hex(&e, "rvi", status & RVI_MASK);
	trace_ev_hex(&e, "svi", (status >> SVI_SHIFT) & 0xff);
	hvsim_emit(kv->kvm->vm, &e);
}

/* vmx_set_virtual_apic_mode, vmx_update_msr_bitmap_x2apic: x2APIC virtualization and the x2APIC
 * MSR pass-through only while APICv is active and the guest's APIC is in x2APIC mode; in xAPIC
 * mode or disabled every x2APIC MSR access exits and the LAPIC model answers it (#GP, SDM
 * 11.12.1). */
void kvm_apicv_update_mode(struct kvm_vcpu *kv)
{
	bool x2apic = kv->apicv_active && lapic_get_mode(kv->lapic) == LAPIC_MODE_X2APIC;

	if (!!(kv->exec_ctrl2 & PROC2_VIRT_X2APIC_MODE) == x2apic)
		return;
	kvm_set_exec_ctrl2(kv, PROC2_VIRT_X2APIC_MODE, x2apic);
	kvm_msr_bitmap_x2apic(kv, x2apic);
}

void kvm_apicv_set(struct kvm_vcpu *kv, bool active)
{
	const uint32_t ctrl2 = PROC2_APIC_REGISTER_VIRT | PROC2_VIRT_INTR_DELIVERY;

	if (kv->apicv_active == active)
		return;
	if (!active)
		kvm_apicv_pull(kv); /* the page's state goes back to the model */
	kv->apicv_active = active;
	kvm_set_exec_ctrl2(kv, ctrl2, active);
	kvm_set_exec_ctrl(kv, PROC_USE_TPR_SHADOW, true);
	kvm_apicv_update_mode(kv);
	eoi_exit_bitmap(kv, active);
	if (active) {
		kvm_apicv_push(kv);
		/* kvm_apic_update_hwapic_isr: SVI 0 when none is in service */
		if (kv->kvm->svi_update)
			kvm_apicv_isr_update(kv);
	}
	emit_apicv(kv, active);
}
