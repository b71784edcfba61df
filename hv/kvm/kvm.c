/* The "kvm" algorithm table: VM and vCPU life cycle, the vcpu_run loop (KVM's vcpu_enter_guest:
 * handle the exit, inject pending events, VMLAUNCH/VMRESUME), external lines, timers and host
 * actions. See kvm_int.h for the structure and docs/kvm-algorithm.md for the quirks. */
#include "kvm_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const split_eoi_values[] = {"quirked", "suppress", "disable"};
static const char *const lvtt_values[] = {"hardware", "restart"};
static const char *const timing_values[] = {"absent", "present"};
static const char *const svi_values[] = {"update", "stale"};
static const char *const misc_hlt_values[] = {"always", "userspace"};
static const char *const tdx_insn_values[] = {"ud", "internal_error"};

static const struct hvsim_quirk_desc kvm_quirks[] = {
    {
        .name = "split_irqchip_eoi_broadcast",
        .values = split_eoi_values,
        .n_values = 3,
        .def = "suppress",
        .doc = "quirked: LVR[24] advertised, yet every LAPIC EOI of an I/O APIC level vector "
               "exits to the userspace I/O APIC even with SPIV[12] set; suppress: no exit "
               "while SPIV[12] is set, the guest's I/O APIC EOI register write clears remote "
               "IRR; disable: LVR[24] not advertised",
        .provenance = "KVM: x86: skip userspace IOAPIC EOI exit when Directed EOI is enabled "
                      "(https://lore.kernel.org/kvm/"
                      "7D497EF1-607D-4D37-98E7-DAF95F099342@nutanix.com/)",
        .reload = true,
    },
    {
        .name = "lvtt_periodic_restart",
        .values = lvtt_values,
        .n_values = 2,
        .def = "hardware",
        .doc = "hardware: an expired one-shot switched to periodic stays at 0 (bare metal, "
               "upstream); restart: the switch re-arms the count from TMICT",
        .provenance = "KVM: lapic: restart counter on change to periodic mode (2019, not "
                      "merged; https://patchwork.kernel.org/patch/11102341/)",
        .reload = true,
    },
    {
        .name = "cpuid_timing_leaf",
        .values = timing_values,
        .n_values = 2,
        .def = "absent",
        .doc = "present: CPUID 0x40000010 gives EAX = TSC kHz, EBX = APIC bus kHz",
        .provenance = "Support \"generic\" CPUID timing leaf as KVM guest and host (v2, "
                      "David Woodhouse)",
        .reload = true,
    },
    {
        .name = "apicv_activation_svi",
        .values = svi_values,
        .n_values = 2,
        .def = "update",
        .doc = "update: runtime APICv activation sets GUEST_INTR_STATUS.SVI from the highest "
               "in-service vector; stale: it does not, so the guest's EOI cannot clear it",
        .provenance = "KVM: VMX: Update SVI during runtime APICv activation "
                      "(https://patch.msgid.link/20251110063212.34902-1-dongli.zhang@oracle.com)",
        .reload = true,
    },
    {
        .name = "nvmx_vmx_misc_hlt",
        .values = misc_hlt_values,
        .n_values = 2,
        .def = "always",
        .doc = "always: the IA32_VMX_MISC that L1 reads reports HLT activity (bit 6) whatever "
               "userspace set; userspace: a bit 6 cleared by userspace reaches L1, yet KVM "
               "still accepts GUEST_ACTIVITY_HLT in vmcs12",
        .provenance = "KVM: nVMX: Always indicate HLT activity support in VMX_MISC MSR "
                      "(Nikita Leshenko, 2019; https://patchwork.kernel.org/patch/11102023/)",
        .reload = true,
    },
    {
        .name = "tdx_insn_exit",
        .values = tdx_insn_values,
        .n_values = 2,
        .def = "ud",
        .doc = "ud: the VM exit a non-TD guest's TDCALL or SEAMCALL causes on a TDX-capable "
               "processor (reasons 77, 76) injects #UD; internal_error: KVM has no handler for "
               "it and ends the VM with KVM_EXIT_INTERNAL_ERROR (before the fix)",
        .provenance = "KVM: VMX: Inject #UD if guest tries to execute SEAMCALL or TDCALL "
                      "(Sean Christopherson, 2025, commit 9d7dfb95da2c; "
                      "https://lore.kernel.org/r/20251016182148.69085-2-seanjc@google.com)",
        .reload = true,
    },
};

struct kvm_vcpu *kvm_vcpu_of(struct kvm_vm *kvm, hvsim_vcpu *v)
{
	return &kvm->vcpus[hvsim_vcpu_index(v)];
}

static unsigned quirk_index(hvsim_vm *vm, const char *name, const char *const *values, unsigned n)
{
	const char *v = hvsim_vm_quirk(vm, name);

	for (unsigned i = 0; v && i < n; i++)
		if (strcmp(v, values[i]) == 0)
			return i;
	return 0;
}

static void read_quirks(struct kvm_vm *kvm)
{
	kvm->split_eoi =
	    (uint8_t)quirk_index(kvm->vm, "split_irqchip_eoi_broadcast", split_eoi_values, 3);
	kvm->lvtt_restart = quirk_index(kvm->vm, "lvtt_periodic_restart", lvtt_values, 2) == 1;
	kvm->timing_leaf = quirk_index(kvm->vm, "cpuid_timing_leaf", timing_values, 2) == 1;
	kvm->svi_update = quirk_index(kvm->vm, "apicv_activation_svi", svi_values, 2) == 0;
	kvm->misc_hlt_always = quirk_index(kvm->vm, "nvmx_vmx_misc_hlt", misc_hlt_values, 2) == 0;
	kvm->tdx_insn_ud = quirk_index(kvm->vm, "tdx_insn_exit", tdx_insn_values, 2) == 0;
}

/* hvsim_vm_reload restored the state of a VM that had not run and selected new quirk values: every
 * quirk is taken again. Most are read only while the VM runs; what vcpu_create derived from the
 * others is derived again: the LAPIC's directed-EOI capability (split_irqchip_eoi_broadcast; the
 * LAPIC is still in its RESET state) and L1's capabilities (nvmx_vmx_misc_hlt). */
static enum hvsim_status vm_reload(void *priv)
{
	struct kvm_vm *kvm = priv;

	read_quirks(kvm);
	for (unsigned i = 0; i < kvm->n; i++) {
		kvm_lapic_set_directed_eoi(&kvm->vcpus[i]);
		kvm_nested_vcpu_init(&kvm->vcpus[i]);
	}
	return HVSIM_OK;
}

static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(vm);
	struct kvm_vm *kvm;
	enum hvsim_status st;

	if (!hvsim_vmx_supported(vm)) {
		hvsim_vm_refuse(vm, "KVM on Intel needs VMX: set machine.cpu to a VMX CPU profile "
		                    "(intel-icelake-server, intel-sapphirerapids, kvm-nested)");
		return HVSIM_E_UNSUPPORTED;
	}
	if (hvsim_vm_vcpu_count(vm) > KVM_MAX_VCPUS) {
		hvsim_vm_refuse(vm, "more vCPUs than the kvm algorithm's KVM_MAX_VCPUS");
		return HVSIM_E_UNSUPPORTED;
	}
	kvm = calloc(1, sizeof(*kvm) + hvsim_vm_vcpu_count(vm) * sizeof(kvm->vcpus[0]));
	if (!kvm)
		return HVSIM_E_NOMEM;
	kvm->vm = vm;
	kvm->n = hvsim_vm_vcpu_count(vm);
	kvm->split = sc->machine.irqchip == IRQCHIP_SPLIT;
	kvm->apicv_allowed = sc->machine.apicv;
	kvm->nested = sc->machine.nested;
	read_quirks(kvm);
	*priv = kvm;
	st = kvm_nested_init(kvm);
	return st != HVSIM_OK ? st : kvm_ioapic_create(kvm);
}

static void vm_destroy(void *priv)
{
	struct kvm_vm *kvm = priv;

	for (unsigned i = 0; i < kvm->n; i++) {
		lapic_destroy(kvm->vcpus[i].lapic);
		pmu_destroy(kvm->vcpus[i].pmu);
	}
	kvm_nested_fini(kvm);
	kvm_ioapic_destroy(kvm);
	free(kvm);
}

static enum hvsim_status vcpu_create(void *priv, hvsim_vcpu *v)
{
	struct kvm_vm *kvm = priv;
	struct kvm_vcpu *kv = kvm_vcpu_of(kvm, v);
	enum hvsim_status st;

	kv->kvm = kvm;
	kv->v = v;
	kv->index = hvsim_vcpu_index(v);
	kv->apicv_request = -1;
	kvm_nested_vcpu_init(kv);
	if ((st = kvm_lapic_create(kv)) != HVSIM_OK || (st = kvm_pmu_create(kv)) != HVSIM_OK ||
	    (st = kvm_vmcs_setup(kv)) != HVSIM_OK)
		return st;
	if (kvm->apicv_allowed)
		kvm_apicv_set(kv, true);
	return HVSIM_OK;
}

static void enter(struct kvm_vcpu *kv)
{
	struct vmx_result res;

	if (kv->launched)
		hvsim_vmresume(kv->v, &res);
	else
		hvsim_vmlaunch(kv->v, &res);
	if (res.outcome == VMX_ENTERED || res.outcome == VMX_ENTRY_FAIL_EXIT) {
		kv->launched = true; /* a failed entry's exit is handled like any other */
		return;
	}
	hvsim_report_finding(kv->kvm->vm, kv->v, "vmentry_failure", res.check ? res.check : "");
	kv->vmx_broken = true;
	hvsim_vcpu_stop(kv->v, vmx_outcome_name(res.outcome));
}

/* KVM_REQ_APICV_UPDATE, processed at the top of vcpu_enter_guest. */
static void process_requests(struct kvm_vcpu *kv)
{
	if (kv->apicv_request >= 0)
		kvm_apicv_set(kv, kv->apicv_request == 1);
	kv->apicv_request = -1;
}

/* One turn of KVM's vcpu_run loop. A VM exit ends a turn (vcpu_enter_guest's last step is the exit
 * handler); the next turn processes requests, injects pending events and enters. Between the two,
 * virtual time the handler took lets other events happen, as another thread's request can land
 * while KVM handles an exit. */
static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct kvm_vcpu *kv = kvm_vcpu_of(priv, v);

	if (kv->vmx_broken)
		return HVSIM_OK;
	if (hvsim_vcpu_vmexited(v)) {
		kvm_complete_interrupts(kv);
		kvm_handle_exit(kv);
		return HVSIM_OK;
	}
	kv->halted = false;
	process_requests(kv);
	kvm_inject_pending(kv);
	enter(kv);
	return HVSIM_OK;
}

static void irq_line(void *priv, uint32_t gsi, uint8_t level)
{
	kvm_ioapic_set_line(priv, gsi, level);
}

static void msi(void *priv, uint64_t addr, uint64_t data)
{
	kvm_deliver_msi(priv, addr, data);
}

static void timer(void *priv, hvsim_vcpu *v, uint64_t cookie)
{
	struct kvm_vm *kvm = priv;

	if (cookie == COOKIE_IOAPIC_DELAYED)
		kvm_ioapic_delayed(kvm);
	else if (v && cookie == COOKIE_PMU_OVERFLOW)
		kvm_pmu_overflow_timer(kvm_vcpu_of(kvm, v));
	else if (v)
		kvm_lapic_timer_fire(kvm_vcpu_of(kvm, v));
}

/* "nested_vmx_misc_clear" (arg: the bits): userspace's KVM_SET_MSRS of IA32_VMX_MISC with those
 * bits cleared, on one vCPU or on all. */
static enum hvsim_status misc_clear(struct kvm_vm *kvm, hvsim_vcpu *v, uint64_t bits)
{
	enum hvsim_status st = HVSIM_OK;

	for (unsigned i = 0; i < kvm->n && st == HVSIM_OK; i++)
		if (!v || hvsim_vcpu_index(v) == i)
			st = kvm_nested_misc_clear(&kvm->vcpus[i], bits);
	return st;
}

/* Host actions. "apicv_activate" / "apicv_inhibit" (on one vCPU, or without one on all, as
 * kvm_set_or_clear_apicv_inhibit does for the VM) make a KVM_REQ_APICV_UPDATE request and kick the
 * vCPU; "ept_zap" (arg: guest-physical address) takes a page's EPT entry away;
 * "nested_vmx_misc_clear" (arg: bits) is userspace clearing IA32_VMX_MISC bits for L1. */
static enum hvsim_status host_action(void *priv, hvsim_vcpu *v, const char *action, uint64_t arg)
{
	struct kvm_vm *kvm = priv;
	int8_t on;

	if (strcmp(action, "ept_zap") == 0)
		return kvm_ept_zap(kvm, arg);
	if (strcmp(action, "nested_vmx_misc_clear") == 0)
		return misc_clear(kvm, v, arg);
	if (strcmp(action, "apicv_activate") == 0)
		on = 1;
	else if (strcmp(action, "apicv_inhibit") == 0)
		on = 0;
	else
		return HVSIM_E_UNSUPPORTED;
	for (unsigned i = 0; i < kvm->n; i++) {
		if (v && hvsim_vcpu_index(v) != i)
			continue;
		kvm->vcpus[i].apicv_request = on;
		hvsim_vcpu_kick(kvm->vcpus[i].v);
	}
	return HVSIM_OK;
}

const struct hvsim_hv_ops hv_kvm_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "kvm",
    .description = "Linux KVM's x86/VMX logic on hvsim's models, with named quirks",
    .quirks = kvm_quirks,
    .n_quirks = sizeof(kvm_quirks) / sizeof(kvm_quirks[0]),
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_create = vcpu_create,
    .vcpu_run = vcpu_run,
    .irq_line = irq_line,
    .msi = msi,
    .timer = timer,
    .host_action = host_action,
    .snapshot = kvm_snapshot,
    .restore = kvm_restore,
    .snapshot_free = kvm_snapshot_free,
    .check_invariants = kvm_check_invariants,
    .reload = vm_reload,
};
