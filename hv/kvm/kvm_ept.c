/* EPT entries the host takes away under a running guest, as KVM's MMU notifiers do when the host
 * migrates or compacts a page (kvm_mmu_notifier_invalidate_range_start): the next guest access to
 * the page, including an event delivery pushing onto it, exits with an EPT violation and KVM faults
 * the page back in, which takes time. hvsim's engine maps guest RAM 1:1, so a zapped page is an
 * engine MMIO region until it is faulted in. */
#include "kvm_int.h"

#define PAGE_MASK (~UINT64_C(0xfff))

enum hvsim_status kvm_ept_zap(struct kvm_vm *kvm, uint64_t gpa)
{
	gpa &= PAGE_MASK;
	/* a page already zapped stays zapped, whichever slot holds it (slots free up out of order
	 * as pages fault back in) */
	for (unsigned i = 0; i < KVM_ZAP_SLOTS; i++)
		if (kvm->zapped[i] == gpa)
			return HVSIM_OK;
	for (unsigned i = 0; i < KVM_ZAP_SLOTS; i++) {
		if (kvm->zapped[i])
			continue;
		if (hvsim_mmio_map(kvm->vm, KVM_ZAP_FIRST_REGION + i, gpa, 0x1000) != HVSIM_OK)
			return HVSIM_E_INPUT;
		kvm->zapped[i] = gpa;
		return HVSIM_OK;
	}
	return HVSIM_E_UNSUPPORTED; /* more zapped pages than regions */
}

/* The engine's MMIO regions under kvm are the xAPIC and I/O APIC pages (regions 0 and 1, never
 * moved) and the zapped pages, which kvm_ept_fault_in has looked at first. KVM's page-fault
 * handler finds the mapping another vCPU installed meanwhile and resumes the guest, which retries
 * the access or the event delivery (RET_PF_SPURIOUS in arch/x86/kvm/mmu). */
bool kvm_ept_spurious(uint64_t gpa)
{
	gpa &= PAGE_MASK;
	return gpa != HVSIM_XAPIC_DEFAULT_GPA && gpa != HVSIM_IOAPIC_DEFAULT_GPA;
}

bool kvm_ept_fault_in(struct kvm_vcpu *kv, uint64_t gpa)
{
	struct kvm_vm *kvm = kv->kvm;
	struct trace_ev e;

	gpa &= PAGE_MASK;
	for (unsigned i = 0; i < KVM_ZAP_SLOTS; i++) {
		if (!kvm->zapped[i] || kvm->zapped[i] != gpa)
			continue;
		hvsim_mmio_unmap(kvm->vm, KVM_ZAP_FIRST_REGION + i);
		kvm->zapped[i] = 0;
		trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "ept_fault_in");
		trace_ev_hex(&e, "gpa", gpa);
		hvsim_emit(kvm->vm, &e);
		hvsim_vcpu_charge(kv->v, KVM_EPT_FAULT_IN_NS);
		return true;
	}
	return false;
}
