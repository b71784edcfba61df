/* The kvm algorithm's named invariants (struct hvsim_hv_ops check_invariants): the models' own
 * checks on the LAPICs and the I/O APIC KVM drives, and what KVM keeps consistent between its
 * software state and the VMCS: the current VMCS, the cached execution controls (KVM's controls
 * shadow), and while APICv is active RVI and SVI against the virtual-APIC page (SDM 30.1.1,
 * 30.1.2, 30.2). The engine runs them after every slice when a scenario enables
 * oracles.invariants; fuzz_hv_transitions runs them too (docs/fuzzing.md). Pure: VMPTRST, VMREAD
 * of the current VMCS and host-memory reads only, none of which traces when it succeeds. */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>

#include <stdio.h>

#define VAPIC_ISR 0x100u
#define VAPIC_IRR 0x200u
#define RVI_MASK  0xffu
#define SVI_SHIFT 8
#define WHY_MAX   256

/* The highest vector set in the page's 256-bit register at base (VISR, VIRR), or 0 when none:
 * the value RVI and SVI hold for "none" (SDM 30.1.2). */
static unsigned vapic_highest(struct kvm_vcpu *kv, uint32_t base)
{
	uint32_t reg[32] = {0}; /* the eight 32-bit words at 16-byte strides: one read */

	hvsim_host_read(kv->kvm->vm, kv->vapic_pa + base, reg, sizeof(reg));
	for (int i = 7; i >= 0; i--)
		if (reg[4 * i])
			return (unsigned)i * 32 + 31 - (unsigned)__builtin_clz(reg[4 * i]);
	return 0;
}

static const char *check_models(struct kvm_vm *kvm, char *why, size_t cap)
{
	char msg[WHY_MAX];

	for (unsigned i = 0; i < kvm->n; i++) {
		struct kvm_vcpu *kv = &kvm->vcpus[i];

		if (kv->lapic &&
		    !lapic_check_invariants(kv->lapic, hvsim_vcpu_now(kv->v), msg, sizeof(msg))) {
			snprintf(why, cap, "vCPU %u: %s", i, msg);
			return "lapic_invariants";
		}
	}
	for (unsigned i = 0; i < kvm->n; i++) {
		if (kvm->vcpus[i].pmu && !pmu_check(kvm->vcpus[i].pmu, msg, sizeof(msg))) {
			snprintf(why, cap, "vCPU %u: %s", i, msg);
			return "pmu_invariants";
		}
	}
	if (kvm->ioapic && !ioapic_check_invariants(kvm->ioapic, msg, sizeof(msg))) {
		snprintf(why, cap, "%s", msg);
		return "ioapic_invariants";
	}
	return NULL;
}

/* The VMCS KVM set up stays current (KVM loads it once per vCPU; nothing else is VMPTRLDed). */
static bool vmcs_current(struct kvm_vcpu *kv, char *why, size_t cap)
{
	struct vmx_result res;

	hvsim_vmptrst(kv->v, &res);
	if (res.outcome == VMX_SUCCEED && res.value == kv->vmcs_pa)
		return true;
	snprintf(why, cap, "vCPU %u: VMPTRST gives %#llx (%s), KVM's VMCS is %#llx", kv->index,
	         (unsigned long long)res.value, vmx_outcome_name(res.outcome),
	         (unsigned long long)kv->vmcs_pa);
	return false;
}

/* KVM writes the execution controls only through kvm_set_exec_ctrl/2, which keep a copy (like
 * KVM's controls shadow): the copy and the VMCS agree. */
static bool controls_mirror(struct kvm_vcpu *kv, char *why, size_t cap)
{
	uint64_t ctl = kvm_vmcs_read(kv, VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t ctl2 = kvm_vmcs_read(kv, VMCS_SECONDARY_VM_EXEC_CONTROL);

	if (ctl == kv->exec_ctrl && ctl2 == kv->exec_ctrl2 &&
	    !!(ctl & PROC_INTR_WINDOW_EXITING) == kv->irq_window)
		return true;
	snprintf(why, cap, "vCPU %u: VMCS controls %#llx/%#llx, KVM's copy %#x/%#x, irq_window %d",
	         kv->index, (unsigned long long)ctl, (unsigned long long)ctl2, kv->exec_ctrl,
	         kv->exec_ctrl2, kv->irq_window);
	return false;
}

/* APICv on: virtual-interrupt delivery is on, and the guest interrupt status names the highest
 * requested and in-service vectors of the page, as the processor keeps them (SDM 30.2.1, 30.1.4)
 * and KVM does after changing the page (vmx_hwapic_irr_update, vmx_hwapic_isr_update). */
static const char *apicv_status(struct kvm_vcpu *kv, char *why, size_t cap)
{
	uint64_t status = kvm_vmcs_read(kv, VMCS_GUEST_INTR_STATUS);
	unsigned rvi = (unsigned)(status & RVI_MASK), svi = (unsigned)(status >> SVI_SHIFT) & 0xff;
	unsigned virr = vapic_highest(kv, VAPIC_IRR), visr = vapic_highest(kv, VAPIC_ISR);

	if (!(kv->exec_ctrl2 & PROC2_VIRT_INTR_DELIVERY)) {
		snprintf(why, cap, "vCPU %u: APICv active without virtual-interrupt delivery",
		         kv->index);
		return "apicv_controls";
	}
	if (rvi != virr) {
		snprintf(why, cap, "vCPU %u: RVI %#x, highest VIRR %#x", kv->index, rvi, virr);
		return "apicv_rvi";
	}
	if (svi != visr) {
		snprintf(why, cap, "vCPU %u: SVI %#x, highest VISR %#x", kv->index, svi, visr);
		return "apicv_svi";
	}
	return NULL;
}

static const char *check_vcpu(struct kvm_vcpu *kv, char *why, size_t cap)
{
	if (!kv->v || !kv->vmcs_pa || kv->vmx_broken)
		return NULL;
	if (!vmcs_current(kv, why, cap))
		return "vmcs_current";
	if (!controls_mirror(kv, why, cap))
		return "controls_mirror";
	return kv->apicv_active ? apicv_status(kv, why, cap) : NULL;
}

const char *kvm_check_invariants(void *priv, char *why, size_t cap)
{
	struct kvm_vm *kvm = priv;
	const char *name = check_models(kvm, why, cap);

	for (unsigned i = 0; !name && i < kvm->n; i++)
		name = check_vcpu(&kvm->vcpus[i], why, cap);
	return name;
}
