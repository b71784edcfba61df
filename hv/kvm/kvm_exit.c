/* VM-exit handlers, as KVM's vmx.c kvm_vmx_exit_handlers[] table dispatches them: each reads what
 * it needs from the VMCS (exit qualification, instruction length, guest-physical address) and the
 * guest's registers, emulates, and skips the instruction by advancing GUEST_RIP. An exit KVM would
 * not handle stops the vCPU with an hv_error finding, as KVM returns KVM_EXIT_INTERNAL_ERROR. */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>
#include <hvsim/vmx_runtime.h>

#include <stdarg.h>
#include <stdio.h>

#define MSR_IA32_TSC               0x10u
#define MSR_IA32_EFER              0xc0000080u
#define MSR_IA32_PAT               0x277u
#define MSR_IA32_MISC_ENABLE       0x1a0u
#define MSR_IA32_FEATURE_CONTROL   0x3au
#define MSR_IA32_ARCH_CAPABILITIES 0x10au
#define MSR_IA32_SPEC_CTRL         0x48u
#define MISC_ENABLE_DEFAULT        UINT64_C(0x1) /* fast strings */
#define KVM_ENOSYS                 1000u
#define VEC_UD                     6u
#define VEC_GP                     13u
/* I/O exit qualification (SDM Table 28-5) */
#define IO_SIZE(q) ((unsigned)((q)&7) + 1)
#define IO_IN      (1u << 3)
#define IO_STRING  (1u << 4)
#define IO_PORT(q) ((uint16_t)((q) >> 16))
/* CR-access exit qualification (SDM Table 28-3) */
#define CR_NUM(q)  ((unsigned)((q)&15))
#define CR_TYPE(q) ((unsigned)(((q) >> 4) & 3))
#define CR_GPR(q)  ((unsigned)(((q) >> 8) & 15))

void kvm_skip_instruction(struct kvm_vcpu *kv)
{
	uint64_t rip = kvm_vmcs_read(kv, VMCS_GUEST_RIP);
	uint64_t len = kvm_vmcs_read(kv, VMCS_VM_EXIT_INSTRUCTION_LEN);
	uint64_t intr = kvm_vmcs_read(kv, VMCS_GUEST_INTERRUPTIBILITY_INFO);

	kvm_vmcs_write(kv, VMCS_GUEST_RIP, rip + len);
	/* an emulated instruction ends an STI or MOV-SS shadow (vmx_set_interrupt_shadow) */
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		kvm_vmcs_write(kv, VMCS_GUEST_INTERRUPTIBILITY_INFO,
		               intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void kvm_inject_gp(struct kvm_vcpu *kv)
{
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD,
	               VEC_GP | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
	                   INTR_INFO_DELIVER_CODE | INTR_INFO_VALID);
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
}

void kvm_inject_ud(struct kvm_vcpu *kv)
{
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD,
	               VEC_UD | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID);
}

static void unhandled(struct kvm_vcpu *kv, unsigned reason)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "unhandled VM exit %s (%u)",
	         hvsim_exit_reason_name(reason), reason);
	hvsim_report_finding(kv->kvm->vm, kv->v, "hv_error", detail);
	hvsim_vcpu_stop(kv->v, "KVM_EXIT_INTERNAL_ERROR");
}

static void handle_cpuid(struct kvm_vcpu *kv)
{
	uint32_t out[4];

	kvm_cpuid(kv, (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RAX),
	          (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RCX), out);
	hvsim_vcpu_set_gpr(kv->v, GPR_RAX, out[0]);
	hvsim_vcpu_set_gpr(kv->v, GPR_RBX, out[1]);
	hvsim_vcpu_set_gpr(kv->v, GPR_RCX, out[2]);
	hvsim_vcpu_set_gpr(kv->v, GPR_RDX, out[3]);
	kvm_skip_instruction(kv);
}

static uint64_t *misc_slot(struct kvm_vcpu *kv, uint32_t msr, bool create)
{
	for (unsigned i = 0; i < kv->n_misc; i++)
		if (kv->misc_idx[i] == msr)
			return &kv->misc_msr[i];
	if (!create || kv->n_misc == sizeof(kv->misc_idx) / sizeof(kv->misc_idx[0]))
		return NULL;
	kv->misc_idx[kv->n_misc] = msr;
	kv->misc_msr[kv->n_misc] = 0;
	return &kv->misc_msr[kv->n_misc++];
}

/* kvm_get_msr_common for the MSRs a guest of this model reads; false: #GP (ignore_msrs=0). */
static bool msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value)
{
	uint64_t *slot;
	bool ok;

	if (kvm_lapic_msr_read(kv, msr, value) || kvm_nested_msr_read(kv, msr, value))
		return true;
	if (kvm_pmu_msr_read(kv, msr, value, &ok))
		return ok;
	switch (msr) {
	case MSR_IA32_EFER: *value = kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER); return true;
	case MSR_IA32_PAT: *value = kvm_vmcs_read(kv, VMCS_GUEST_IA32_PAT); return true;
	case MSR_IA32_TSC: *value = hvsim_vcpu_guest_tsc(kv->v); return true;
	case MSR_IA32_MISC_ENABLE:
		slot = misc_slot(kv, msr, false);
		*value = slot ? *slot : MISC_ENABLE_DEFAULT;
		return true;
	case MSR_IA32_FEATURE_CONTROL:
		*value = kv->kvm->nested ? KVM_FEATURE_CONTROL_NESTED : KVM_FEATURE_CONTROL;
		return true;
	case MSR_IA32_ARCH_CAPABILITIES:
	case MSR_IA32_SPEC_CTRL:
		slot = misc_slot(kv, msr, false);
		*value = slot ? *slot : 0;
		return true;
	default: return false;
	}
}

static bool msr_write(struct kvm_vcpu *kv, uint32_t msr, uint64_t value)
{
	uint64_t *slot;
	bool ok;

	if (kvm_lapic_msr_write(kv, msr, value))
		return true;
	if (kvm_pmu_msr_write(kv, msr, value, &ok))
		return ok;
	switch (msr) {
	case MSR_IA32_EFER:
		if (!kvm_efer_check(kv, &value))
			return false;
		kvm_vmcs_write(kv, VMCS_GUEST_IA32_EFER, value);
		return true;
	case MSR_IA32_PAT:
		if (!kvm_pat_valid(value))
			return false;
		kvm_vmcs_write(kv, VMCS_GUEST_IA32_PAT, value);
		return true;
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_SPEC_CTRL:
		slot = misc_slot(kv, msr, true);
		if (slot)
			*slot = value;
		return slot != NULL;
	default: return false;
	}
}

static void handle_rdmsr(struct kvm_vcpu *kv)
{
	uint32_t msr = (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RCX);
	uint64_t value = 0;
	bool gp_before = kvm_vmcs_read(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID;

	if (!msr_read(kv, msr, &value)) {
		kvm_inject_gp(kv);
		return;
	}
	if (!gp_before && (kvm_vmcs_read(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID))
		return; /* the LAPIC raised #GP: the instruction does not complete */
	hvsim_vcpu_set_gpr(kv->v, GPR_RAX, (uint32_t)value);
	hvsim_vcpu_set_gpr(kv->v, GPR_RDX, value >> 32);
	kvm_skip_instruction(kv);
}

static void handle_wrmsr(struct kvm_vcpu *kv)
{
	uint32_t msr = (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RCX);
	uint64_t value =
	    (hvsim_vcpu_gpr(kv->v, GPR_RDX) << 32) | (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RAX);
	bool gp_before = kvm_vmcs_read(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID;

	if (!msr_write(kv, msr, value)) {
		kvm_inject_gp(kv);
		return;
	}
	if (!gp_before && (kvm_vmcs_read(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID))
		return;
	kvm_skip_instruction(kv);
}

/* The VMM's devices on ports, as QEMU provides them to kvm-unit-tests: debugcon on 0xe9 (the guest
 * runtime's channel to the trace), isa-debug-exit on 0xf4 (ends the VM) and pc-testdev's IRQ lines
 * at 0x2000 + n (a write sets line n's level). Every other port reads as all-ones. Each access is a
 * KVM_EXIT_IO round trip to userspace. String I/O completes as if every element went nowhere. */
static void out_port(struct kvm_vcpu *kv, uint16_t port, uint64_t value)
{
	struct kvm_vm *kvm = kv->kvm;
	struct trace_ev e;

	if (port == KVM_DEBUG_PORT) {
		trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "guest_out");
		trace_ev_hex(&e, "value", value);
		hvsim_emit(kvm->vm, &e);
	} else if (port == KVM_DEBUG_EXIT_PORT) {
		trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "guest_exit");
		trace_ev_num(&e, "code", value & 0xff);
		hvsim_emit(kvm->vm, &e);
		for (unsigned i = 0; i < kvm->n; i++)
			hvsim_vcpu_stop(kvm->vcpus[i].v, "isa-debug-exit");
	} else if (port >= KVM_TESTDEV_IRQ && port < KVM_TESTDEV_IRQ + KVM_TESTDEV_LINES) {
		kvm_ioapic_set_line(kvm, port - KVM_TESTDEV_IRQ, value & 1);
	}
}

static void handle_io(struct kvm_vcpu *kv)
{
	uint64_t q = kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION);
	unsigned size = IO_SIZE(q);
	uint64_t mask = size == 4 ? 0xffffffffu : ((1u << (8 * size)) - 1);
	uint64_t rax = hvsim_vcpu_gpr(kv->v, GPR_RAX);

	kvm_userspace_exit(kv, "IO", "port", IO_PORT(q));
	kvm_skip_instruction(kv);
	if (q & IO_STRING)
		return;
	if (q & IO_IN)
		hvsim_vcpu_set_gpr(kv->v, GPR_RAX,
		                   size == 4 ? mask : (rax & ~mask) | mask); /* all-ones */
	else
		out_port(kv, IO_PORT(q), rax & mask);
}

/* kvm_emulate_halt: the instruction completes; the vCPU blocks until an interrupt can wake it. */
static void handle_hlt(struct kvm_vcpu *kv)
{
	kvm_skip_instruction(kv);
	if (kvm_has_pending(kv))
		return;
	kv->halted = true;
	hvsim_vcpu_block(kv->v);
}

/* What KVM cannot get past on emulated MMIO, caused by the guest: a guest_fault naming it, and
 * the vCPU stops with KVM's exit. */
static void __attribute__((format(printf, 3, 4)))
mmio_guest_fault(struct kvm_vcpu *kv, const char *stop, const char *fmt, ...)
{
	char detail[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	hvsim_report_finding(kv->kvm->vm, kv->v, "guest_fault", detail);
	hvsim_vcpu_stop(kv->v, stop);
}

/* An access to a page with no memory behind it: a page the host zapped (fault it in; the access,
 * the instruction fetch or the event delivery is then retried), the LAPIC page, the I/O APIC
 * window, or nothing. */
static void handle_mmio(struct kvm_vcpu *kv)
{
	const struct guest_op *op = hvsim_vcpu_exit_op(kv->v);
	uint64_t gpa = kvm_vmcs_read(kv, VMCS_GUEST_PHYSICAL_ADDRESS), value, base;

	if (kvm_ept_fault_in(kv, gpa) || kvm_ept_spurious(gpa))
		return; /* the access, fetch or delivery runs again on the backed page */
	/* SDM Table 28-7 bit 2: KVM's emulator cannot fetch the instruction it would emulate */
	if (kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION) & VMX_EPT_FETCH) {
		mmio_guest_fault(kv, "KVM_EXIT_INTERNAL_ERROR",
		                 "instruction fetch from MMIO at 0x%llx: emulation failure "
		                 "(KVM_EXIT_INTERNAL_ERROR)",
		                 (unsigned long long)gpa);
		return;
	}
	if (!op || op->kind != GOP_MMIO) {
		/* an event delivery's IDT gate or frame: KVM cannot emulate a delivery */
		if (kvm_vmcs_read(kv, VMCS_IDT_VECTORING_INFO_FIELD) & VMX_INTR_INFO_VALID)
			mmio_guest_fault(kv, "KVM_EXIT_INTERNAL_ERROR",
			                 "an event delivery touched MMIO at 0x%llx "
			                 "(KVM_INTERNAL_ERROR_DELIVERY_EV)",
			                 (unsigned long long)gpa);
		else
			unhandled(kv, EXIT_REASON_EPT_VIOLATION);
		return;
	}
	if (op->u.mmio.not_mov) { /* KVM's emulator would carry it out; hvsim's emulates MOV only */
		mmio_guest_fault(kv, "not emulated",
		                 "an MMIO access at 0x%llx by an instruction other than MOV at rip "
		                 "0x%llx (hvsim's kvm does not emulate it)",
		                 (unsigned long long)op->u.mmio.gpa, (unsigned long long)op->rip);
		return;
	}
	gpa = op->u.mmio.gpa;
	value = op->u.mmio.write ? op->u.mmio.value : UINT64_MAX;
	base = lapic_get_apic_base(kv->lapic) & LAPIC_BASE_ADDR_MASK;
	if (lapic_get_mode(kv->lapic) == LAPIC_MODE_XAPIC && gpa >= base &&
	    gpa < base + LAPIC_MMIO_SIZE)
		kvm_lapic_mmio(kv, gpa - base, op->u.mmio.size, op->u.mmio.write, &value);
	else
		kvm_ioapic_mmio(kv, gpa, op->u.mmio.size, op->u.mmio.write, &value);
	hvsim_vcpu_complete(kv->v, value);
}

static void handle_cr(struct kvm_vcpu *kv)
{
	uint64_t q = kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION);
	uint64_t val = hvsim_vcpu_gpr(kv->v, CR_GPR(q));

	if (CR_TYPE(q) == 0 && ((CR_NUM(q) == 0 && !kvm_cr0_check(kv, &val)) ||
	                        (CR_NUM(q) == 4 && !kvm_cr4_check(kv, val)))) {
		kvm_inject_gp(kv); /* kvm_set_cr0/kvm_set_cr4 fail: #GP, RIP stays */
		return;
	}
	if (CR_TYPE(q) == 0 && CR_NUM(q) == 0) { /* MOV to CR0 changing an owned bit */
		kvm_vmcs_write(kv, VMCS_CR0_READ_SHADOW, val);
		kvm_vmcs_write(kv, VMCS_GUEST_CR0,
		               val | kvm_vmcs_read(kv, VMCS_CR0_GUEST_HOST_MASK));
	} else if (CR_TYPE(q) == 0 && CR_NUM(q) == 4) {
		if (!kvm_nested_cr4_valid(kv, val)) { /* kvm_set_cr4: #GP, nothing changes */
			kvm_inject_gp(kv);
			return;
		}
		kvm_vmcs_write(kv, VMCS_CR4_READ_SHADOW, val);
		kvm_vmcs_write(kv, VMCS_GUEST_CR4, val | (UINT64_C(1) << 13));
	}
	kvm_skip_instruction(kv);
}

static void handle_apic_write(struct kvm_vcpu *kv)
{
	uint32_t offset = (uint32_t)kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION) & 0xff0u;
	uint32_t value = 0;

	hvsim_host_read(kv->kvm->vm, kv->vapic_pa + offset, &value, sizeof(value));
	if (lapic_get_mode(kv->lapic) == LAPIC_MODE_X2APIC)
		kvm_lapic_msr_write(kv, LAPIC_X2APIC_MSR_BASE + (offset >> 4), value);
	else {
		uint64_t v64 = value;

		kvm_lapic_mmio(kv, offset, 4, true, &v64);
	}
}

static void handle_vmcall(struct kvm_vcpu *kv)
{
	hvsim_vcpu_set_gpr(kv->v, GPR_RAX, (uint64_t)0 - KVM_ENOSYS);
	kvm_skip_instruction(kv);
}

/* A non-TD guest's TDCALL or SEAMCALL: not virtualized for any guest, so #UD (quirk
 * tdx_insn_exit: before the fix KVM had no handler and the exit ended the VM). */
static void handle_tdx_insn(struct kvm_vcpu *kv, unsigned reason)
{
	if (kv->kvm->tdx_insn_ud)
		kvm_inject_ud(kv);
	else
		unhandled(kv, reason);
}

static void handle_entry_failure(struct kvm_vcpu *kv, uint64_t reason)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "VM entry failed: exit reason %#llx qualification %#llx",
	         (unsigned long long)reason,
	         (unsigned long long)kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION));
	hvsim_report_finding(kv->kvm->vm, kv->v, "vmentry_failure", detail);
	kv->vmx_broken = true;
	hvsim_vcpu_stop(kv->v, "KVM_EXIT_FAIL_ENTRY");
}

void kvm_handle_exit(struct kvm_vcpu *kv)
{
	uint64_t full = kvm_vmcs_read(kv, VMCS_VM_EXIT_REASON);
	unsigned reason = (unsigned)(full & 0xffff);

	if (full & VMX_EXIT_REASON_ENTRY_FAIL) {
		handle_entry_failure(kv, full);
		return;
	}
	kvm_pmu_account(kv);
	switch (reason) {
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_TPR_BELOW_THRESHOLD:
	case EXIT_REASON_PREEMPTION_TIMER: break;
	case EXIT_REASON_CPUID: handle_cpuid(kv); break;
	case EXIT_REASON_HLT: handle_hlt(kv); break;
	case EXIT_REASON_RDMSR: handle_rdmsr(kv); break;
	case EXIT_REASON_WRMSR: handle_wrmsr(kv); break;
	case EXIT_REASON_IO_INSTRUCTION: handle_io(kv); break;
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG: handle_mmio(kv); break;
	case EXIT_REASON_CR_ACCESS: handle_cr(kv); break;
	case EXIT_REASON_VIRTUALIZED_EOI:
		kvm_lapic_eoi_virtualized(kv, (uint8_t)kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION));
		break;
	case EXIT_REASON_APIC_WRITE: handle_apic_write(kv); break;
	case EXIT_REASON_VMCALL: handle_vmcall(kv); break;
	case EXIT_REASON_MWAIT:
	case EXIT_REASON_MONITOR:
	case EXIT_REASON_WBINVD:
	case EXIT_REASON_INVD:
	case EXIT_REASON_XSETBV:
	case EXIT_REASON_PAUSE: kvm_skip_instruction(kv); break; /* emulated as NOPs */
	case EXIT_REASON_RDPMC: kvm_pmu_rdpmc(kv); break;
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID: kvm_nested_vmx_exit(kv, reason); break;
	case EXIT_REASON_SEAMCALL:
	case EXIT_REASON_TDCALL: handle_tdx_insn(kv, reason); break;
	case EXIT_REASON_TRIPLE_FAULT: hvsim_vcpu_stop(kv->v, "triple fault"); break;
	default: unhandled(kv, reason); break;
	}
}
