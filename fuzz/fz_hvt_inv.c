/* The harness-side named invariants of fuzz_hv_transitions (fz_hvt.h): rules over the state the
 * kvm algorithm drives that its own check_invariants (hv/kvm/kvm_check.c) does not name, read
 * through the engine's and the algorithm's private headers (as tests do): the interrupt models'
 * cross-register rules of fuzz_lapic_ioapic (fz_apic.h) on every vCPU's LAPIC and the I/O APIC,
 * and the VMX state of each vCPU (launch state, entry checks). Pure. */
#include "fz_apic.h"
#include "fz_hvt.h"

#include "../hv/kvm/kvm_int.h"
#include "../sim/vm_int.h"

#include <stdio.h>
#include <string.h>

#define MSG_MAX 256

/* The kvm algorithm's state, or NULL when the VM runs another algorithm. */
static struct kvm_vm *kvm_of(hvsim_vm *vm)
{
	return strcmp(vm->hv->name, "kvm") == 0 ? vm->hv_priv : NULL;
}

/* The LAPIC rules on vCPU i's model; sets *kind and why on the first one broken. */
static bool lapic_rules(const struct lapic *l, unsigned i, uint64_t now, const char **kind,
                        char *why, size_t cap)
{
	char msg[MSG_MAX];

	*kind = "isr_one_per_class";
	if (fz_inv_apic_isr_one_per_class(l, msg, sizeof(msg))) {
		*kind = "ppr_consistent";
		if (fz_inv_apic_ppr(l, now, msg, sizeof(msg)))
			return true;
	}
	snprintf(why, cap, "vCPU %u: %s", i, msg);
	return false;
}

bool fz_inv_hvt_apic(hvsim_vm *vm, const char **kind, char *why, size_t cap)
{
	struct kvm_vm *kvm = kvm_of(vm);
	char msg[MSG_MAX];

	for (unsigned i = 0; kvm && i < kvm->n; i++)
		if (kvm->vcpus[i].lapic &&
		    !lapic_rules(kvm->vcpus[i].lapic, i, vm->vcpus[i].now, kind, why, cap))
			return false;
	*kind = "remote_irr_level";
	if (kvm && kvm->ioapic && !fz_inv_apic_remote_irr(kvm->ioapic, msg, sizeof(msg))) {
		snprintf(why, cap, "I/O APIC: %s", msg);
		return false;
	}
	*kind = NULL;
	return true;
}

bool fz_inv_hvt_vmcs_launched(hvsim_vm *vm, char *why, size_t cap)
{
	struct kvm_vm *kvm = kvm_of(vm);

	for (unsigned i = 0; kvm && i < kvm->n; i++) {
		const struct kvm_vcpu *kv = &kvm->vcpus[i];
		const struct vmx_cpu *cpu = vm->vcpus[i].vmx;

		if (!kv->launched || kv->vmx_broken || !cpu)
			continue;
		if (vmx_cpu_current_vmcs(cpu) != kv->vmcs_pa ||
		    !vmx_cpu_vmcs_launched(cpu, kv->vmcs_pa)) {
			snprintf(why, cap, "vCPU %u: current VMCS %#llx, KVM's %#llx %s", i,
			         (unsigned long long)vmx_cpu_current_vmcs(cpu),
			         (unsigned long long)kv->vmcs_pa,
			         vmx_cpu_vmcs_launched(cpu, kv->vmcs_pa) ? "launched" : "clear");
			return false;
		}
	}
	return true;
}

bool fz_inv_hvt_entry_state(hvsim_vm *vm, char *why, size_t cap)
{
	struct kvm_vm *kvm = kvm_of(vm);
	struct vmx_result res;

	for (unsigned i = 0; kvm && i < kvm->n; i++) {
		const struct kvm_vcpu *kv = &kvm->vcpus[i];

		if (!kv->launched || kv->vmx_broken || !kv->halted ||
		    vm->vcpus[i].state != VS_BLOCKED || !vm->vcpus[i].vmx)
			continue;
		vmx_check_entry(vm->vcpus[i].vmx, &res);
		if (res.outcome != VMX_ENTERED) {
			snprintf(why, cap, "vCPU %u: %s from %s (%s)", i,
			         vmx_outcome_name(res.outcome), res.check ? res.check : "?",
			         res.cite ? res.cite : "");
			return false;
		}
	}
	return true;
}

bool fz_hvt_check_slice(hvsim_vm *vm, const char **kind, char *why, size_t cap)
{
	if (!fz_inv_hvt_apic(vm, kind, why, cap))
		return false;
	*kind = "vmcs_launched";
	if (!fz_inv_hvt_vmcs_launched(vm, why, cap))
		return false;
	*kind = NULL;
	return true;
}
