/* Interrupt routing and injection, as KVM does them: messages from IPIs, the I/O APIC and MSIs are
 * matched against every vCPU's APIC (irq_comm.c kvm_irq_delivery_to_apic), accepted into the LAPIC
 * model, and a halted target is woken; before each VM entry the highest deliverable interrupt is
 * injected through the VM-entry interruption-information field when the guest can take it, else
 * interrupt-window exiting is requested (x86.c inject_pending_event, vmx.c vmx_inject_irq). With
 * APICv active the hardware delivers from RVI instead (kvm_apicv.c). */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>

#define RFLAGS_IF (UINT64_C(1) << 9)
/* MSI address and data (SDM 11.11.1 and 11.11.2) */
#define MSI_ADDR_DEST_ID(a)    (((a) >> 12) & 0xffu)
#define MSI_ADDR_DEST_LOGICAL  (UINT64_C(1) << 2)
#define MSI_DATA_VECTOR(d)     ((d)&0xffu)
#define MSI_DATA_DM(d)         (((d) >> 8) & 7u)
#define MSI_DATA_LEVEL         (UINT64_C(1) << 14)
#define MSI_DATA_TRIGGER_LEVEL (UINT64_C(1) << 15)

static void accept(struct kvm_vcpu *kv, const struct lapic_irq *msg)
{
	struct lapic_result res;

	kvm_apicv_pull(kv);
	lapic_accept(kv->lapic, msg, &res);
	kvm_lapic_after(kv, &res); /* kicks the target (KVM's kvm_vcpu_kick) */
	kvm_apicv_push(kv);
}

void kvm_deliver_msg(struct kvm_vm *kvm, int src, const struct lapic_irq *msg)
{
	struct lapic_dest_info info[KVM_MAX_VCPUS];
	bool dest[KVM_MAX_VCPUS];

	for (unsigned i = 0; i < kvm->n; i++)
		lapic_dest_info(kvm->vcpus[i].lapic, &info[i]);
	lapic_route(info, kvm->n, src, msg, dest);
	for (unsigned i = 0; i < kvm->n; i++)
		if (dest[i])
			accept(&kvm->vcpus[i], msg);
}

void kvm_deliver_msi(struct kvm_vm *kvm, uint64_t addr, uint64_t data)
{
	struct lapic_irq msg = {
	    .dest = (uint32_t)MSI_ADDR_DEST_ID(addr),
	    .vector = (uint8_t)MSI_DATA_VECTOR(data),
	    .delivery_mode = (uint8_t)MSI_DATA_DM(data),
	    .dest_logical = addr & MSI_ADDR_DEST_LOGICAL,
	    .level = (data & MSI_DATA_LEVEL) || !(data & MSI_DATA_TRIGGER_LEVEL),
	    .trigger_level = data & MSI_DATA_TRIGGER_LEVEL,
	};

	kvm_deliver_msg(kvm, -1, &msg);
}

/* KVM's vmx_interrupt_allowed: RFLAGS.IF and no STI or MOV-SS blocking. */
static bool interrupt_allowed(struct kvm_vcpu *kv)
{
	uint64_t rflags = kvm_vmcs_read(kv, VMCS_GUEST_RFLAGS);
	uint64_t intr = kvm_vmcs_read(kv, VMCS_GUEST_INTERRUPTIBILITY_INFO);

	return (rflags & RFLAGS_IF) && !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

bool kvm_has_pending(struct kvm_vcpu *kv)
{
	kvm_apicv_pull(kv);
	return lapic_pending_vector(kv->lapic) >= 0 || (kv->reinject_info & INTR_INFO_VALID);
}

static void set_irq_window(struct kvm_vcpu *kv, bool on)
{
	if (kv->irq_window == on)
		return;
	kv->irq_window = on;
	kvm_set_exec_ctrl(kv, PROC_INTR_WINDOW_EXITING, on);
}

/* vmx_complete_interrupts: an event whose delivery a VM exit interrupted is re-injected. */
void kvm_complete_interrupts(struct kvm_vcpu *kv)
{
	uint32_t info = (uint32_t)kvm_vmcs_read(kv, VMCS_IDT_VECTORING_INFO_FIELD);

	kv->reinject_info = 0;
	if (!(info & INTR_INFO_VALID))
		return;
	kv->reinject_info = info & ~INTR_INFO_NMI_UNBLOCK;
	if (info & INTR_INFO_DELIVER_CODE)
		kv->reinject_err = (uint32_t)kvm_vmcs_read(kv, VMCS_IDT_VECTORING_ERROR_CODE);
	kv->reinject_len = (uint32_t)kvm_vmcs_read(kv, VMCS_VM_EXIT_INSTRUCTION_LEN);
}

static void reinject(struct kvm_vcpu *kv)
{
	uint32_t type = INTR_INFO_TYPE(kv->reinject_info);

	kvm_vmcs_write(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD, kv->reinject_info);
	if (kv->reinject_info & INTR_INFO_DELIVER_CODE)
		kvm_vmcs_write(kv, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, kv->reinject_err);
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXC ||
	    type == INTR_TYPE_PRIV_SW_EXC)
		kvm_vmcs_write(kv, VMCS_VM_ENTRY_INSTRUCTION_LEN, kv->reinject_len);
	kv->reinject_info = 0;
}

void kvm_inject_pending(struct kvm_vcpu *kv)
{
	int vector;

	if (kv->reinject_info & INTR_INFO_VALID) {
		reinject(kv);
		return;
	}
	if (kvm_vmcs_read(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID)
		return; /* an exception is already queued for this entry */
	if (kv->apicv_active) {
		set_irq_window(kv, false);
		return; /* the hardware delivers from RVI (kvm_apicv_push set it) */
	}
	vector = lapic_pending_vector(kv->lapic);
	if (vector < 0) {
		set_irq_window(kv, false);
		return;
	}
	if (!interrupt_allowed(kv)) {
		set_irq_window(kv, true);
		return;
	}
	vector = lapic_ack(kv->lapic);
	set_irq_window(kv, false);
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD,
	               (uint32_t)vector | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) |
	                   INTR_INFO_VALID);
}
