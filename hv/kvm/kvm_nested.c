/* Nested VMX for an L1 hypervisor, as KVM's vmx/nested.c emulates it. With machine.nested (KVM's
 * nested=1) the guest sees CPUID.1:ECX.VMX and reads virtual capability MSRs: the kvm-nested
 * profile as userspace configured it (host action nested_vmx_misc_clear, like KVM_SET_MSRS). Each
 * VMX instruction L1 executes exits to KVM, which finds the memory operand from the VM-exit
 * instruction information (get_vmx_mem_address) and executes the instruction on an L1-level
 * logical processor of the VMX model whose VMCSs (vmcs12) live at guest-physical addresses. At
 * L1's VMLAUNCH/VMRESUME KVM's own checks decide what L1 gets (the model's checks with the
 * capabilities KVM validates against), and the engine's nested-entry differential runs the
 * SDM-faithful checks with what L1 was told (docs/nested-differential.md); the other instructions
 * are checked by the engine's instruction oracle, to which l1_caps() declares what L1 was told.
 * Not modelled: running L2 (an entry KVM accepts stops the vCPU), VMCS shadowing, the guest's own
 * paging for memory operands (linear = guest-physical, as hvsim's identity paging makes it),
 * #PF for operands outside guest RAM (#GP(0) instead), SMM, enlightened VMCS, nested EPT. */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>
#include <hvsim/vmx_runtime.h>

#include <stdio.h>
#include <string.h>

/* IA32_VMX_MISC fields, SDM A.6 */
#define MISC_TIMER_RATE    UINT64_C(0x1f)
#define MISC_ACTIVITY_HLT  BIT64(6)
#define MISC_ACTIVITY_SIPI BIT64(8)
#define MISC_MSEG_REVISION UINT64_C(0xffffffff00000000)
#define MISC_INDEX         (MSR_IA32_VMX_MISC - VMX_CAP_MSR_FIRST)
/* VM-exit instruction information, SDM 28.2.4 Tables 28-11 to 28-14 */
#define II_SCALE(i)       ((i)&3u)
#define II_REG1(i)        (((i) >> 3) & 15u)
#define II_ASIZE(i)       (((i) >> 7) & 7u)
#define II_REG_FORM       BIT32(10)
#define II_SEG(i)         (((i) >> 15) & 7u)
#define II_INDEX(i)       (((i) >> 18) & 15u)
#define II_NO_INDEX       BIT32(22)
#define II_BASE(i)        (((i) >> 23) & 15u)
#define II_NO_BASE        BIT32(27)
#define II_REG2(i)        (((i) >> 28) & 15u)
#define SEG_FS_CODE       4u
#define SEG_GS_CODE       5u
#define AR_L              BIT32(13)
#define EFER_LMA          BIT64(10)
#define CR4_VMXE          BIT64(13)
#define VMX_OPERAND_BYTES 8
#define INV_DESC_BYTES    16

enum hvsim_status kvm_nested_init(struct kvm_vm *kvm)
{
	struct hvsim_error err = {0};

	if (!kvm->nested)
		return HVSIM_OK;
	if (vmx_profile_load("kvm-nested", &kvm->nested_supported, &err) != HVSIM_OK)
		return HVSIM_E_INTERNAL;
	kvm->vmcs12s = vmcs_store_create(KVM_VMCS12_MAX);
	return kvm->vmcs12s ? HVSIM_OK : HVSIM_E_NOMEM;
}

void kvm_nested_fini(struct kvm_vm *kvm)
{
	for (unsigned i = 0; i < kvm->n; i++)
		vmx_cpu_destroy(kvm->vcpus[i].nested.cpu);
	vmcs_store_destroy(kvm->vmcs12s);
}

/* vmx->nested.msrs: the supported set with userspace's VMX_MISC. Since "KVM: nVMX: Always
 * indicate HLT activity support in VMX_MISC MSR", KVM reports HLT whatever userspace set. */
static void l1_caps(struct kvm_vcpu *kv)
{
	struct kvm_nested *n = &kv->nested;
	uint64_t *misc = &n->caps.msr[MISC_INDEX];

	n->caps = kv->kvm->nested_supported;
	*misc &= ~n->misc_cleared;
	if (kv->kvm->misc_hlt_always)
		*misc |= MISC_ACTIVITY_HLT;
	/* the engine's instruction oracle checks L1's VMX instructions against these; a machine
	 * without VMX has no oracle (HVSIM_E_UNSUPPORTED), which changes nothing here */
	(void)hvsim_vmx_nested_caps(kv->v, &n->caps);
}

void kvm_nested_vcpu_init(struct kvm_vcpu *kv)
{
	if (kv->kvm->nested)
		l1_caps(kv);
}

/* What KVM's nested checks validate a vmcs12 against: the capabilities L1 was told, except that
 * nested_check_guest_non_reg_state accepts the activity states KVM emulates (HLT, wait-for-SIPI)
 * without looking at VMX_MISC. */
static void check_caps(const struct kvm_vcpu *kv, struct vmx_caps *out)
{
	uint64_t emulated = kv->kvm->nested_supported.msr[MISC_INDEX];

	*out = kv->nested.caps;
	out->msr[MISC_INDEX] |= emulated & (MISC_ACTIVITY_HLT | MISC_ACTIVITY_SIPI);
}

static bool in_vmx_operation(const struct kvm_vcpu *kv)
{
	return kv->nested.cpu && vmx_cpu_in_vmx_operation(kv->nested.cpu);
}

enum hvsim_status kvm_nested_misc_clear(struct kvm_vcpu *kv, uint64_t bits)
{
	uint64_t misc = kv->kvm->nested_supported.msr[MISC_INDEX];

	if (!kv->kvm->nested)
		return HVSIM_E_UNSUPPORTED;
	if (in_vmx_operation(kv) || (misc & bits & (MISC_TIMER_RATE | MISC_MSEG_REVISION)))
		return HVSIM_E_INPUT;
	kv->nested.misc_cleared = bits;
	l1_caps(kv);
	vmx_cpu_destroy(kv->nested.cpu); /* recreated with the new capabilities */
	kv->nested.cpu = NULL;
	return HVSIM_OK;
}

bool kvm_nested_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value)
{
	return kv->kvm->nested && vmx_caps_msr_read(&kv->nested.caps, msr, value);
}

bool kvm_nested_cr4_valid(struct kvm_vcpu *kv, uint64_t cr4)
{
	if (!(cr4 & CR4_VMXE))
		return !in_vmx_operation(
		    kv); /* SDM 24.8: CR4.VMXE cannot be cleared in VMX operation */
	return kv->kvm->nested;
}

/* ---- operands ---- */

uint64_t kvm_nested_operand_addr(uint32_t info, uint64_t qual, const uint64_t gpr[GPR_COUNT],
                                 uint64_t seg_base, bool long_mode)
{
	unsigned asize = II_ASIZE(info), seg = II_SEG(info);
	uint64_t off = qual; /* the displacement, sign-extended (SDM 28.2.1) */

	if (!(info & II_NO_BASE))
		off += gpr[II_BASE(info)];
	if (!(info & II_NO_INDEX))
		off += gpr[II_INDEX(info)] << II_SCALE(info);
	if (asize == 0)
		off &= 0xffff;
	else if (asize == 1)
		off &= 0xffffffff;
	/* SDM 3.7.5: in 64-bit mode only FS and GS bases take part */
	if (long_mode)
		return seg == SEG_FS_CODE || seg == SEG_GS_CODE ? seg_base + off : off;
	return (seg_base + off) & 0xffffffff;
}

struct nested_insn {
	const char *name; /* "VMXON" */
	uint32_t info;    /* VM-exit instruction information */
	uint64_t qual;    /* exit qualification */
	bool long_mode;   /* L1 in 64-bit mode: 64-bit register operands */
};

static bool l1_long_mode(struct kvm_vcpu *kv)
{
	return (kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER) & EFER_LMA) &&
	       (kvm_vmcs_read(kv, VMCS_GUEST_CS_AR_BYTES) & AR_L);
}

static uint64_t operand_addr(struct kvm_vcpu *kv, const struct nested_insn *in)
{
	uint64_t gpr[GPR_COUNT];
	unsigned seg = II_SEG(in->info) < SEG_LDTR ? II_SEG(in->info) : SEG_DS;

	for (unsigned r = 0; r < GPR_COUNT; r++)
		gpr[r] = hvsim_vcpu_gpr(kv->v, r);
	gpr[GPR_RSP] = kvm_vmcs_read(kv, VMCS_GUEST_RSP);
	return kvm_nested_operand_addr(in->info, in->qual, gpr,
	                               kvm_vmcs_read(kv, VMCS_GUEST_ES_BASE + 2 * seg),
	                               in->long_mode);
}

/* kvm_read_guest_virt / kvm_write_guest_virt; an operand outside guest RAM: #GP(0). */
static bool operand_io(struct kvm_vcpu *kv, const struct nested_insn *in, void *buf, size_t len,
                       bool write)
{
	uint64_t la = operand_addr(kv, in);
	enum hvsim_status st = write ? hvsim_guest_write(kv->kvm->vm, la, buf, len)
	                             : hvsim_guest_read(kv->kvm->vm, la, buf, len);

	if (st == HVSIM_OK)
		return true;
	kvm_inject_gp(kv);
	return false;
}

static uint64_t reg_operand(struct kvm_vcpu *kv, const struct nested_insn *in, unsigned reg)
{
	uint64_t v = hvsim_vcpu_gpr(kv->v, reg);

	if (reg == GPR_RSP)
		v = kvm_vmcs_read(kv, VMCS_GUEST_RSP);
	return in->long_mode ? v : (uint32_t)v;
}

/* ---- outcomes ---- */

static void trace_failure(struct kvm_vcpu *kv, const char *insn, const struct vmx_result *res)
{
	struct trace_ev e;

	if (res->outcome == VMX_SUCCEED || res->outcome == VMX_ENTERED)
		return;
	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "nested_vmfail");
	trace_ev_str(&e, "insn", insn);
	trace_ev_str(&e, "outcome", vmx_outcome_name(res->outcome));
	if (res->outcome == VMX_FAIL_VALID)
		trace_ev_num(&e, "error", res->error);
	if (res->check)
		trace_ev_str(&e, "check", res->check);
	hvsim_emit(kv->kvm->vm, &e);
}

/* nested_vmx_succeed / nested_vmx_fail: the flags into L1's RFLAGS (SDM 31.2) and the
 * instruction skipped; faults are injected into L1 with RIP on the instruction. */
static void complete(struct kvm_vcpu *kv, const char *insn, const struct vmx_result *res)
{
	char why[96];

	trace_failure(kv, insn, res);
	switch (res->outcome) {
	case VMX_FAULT_UD: kvm_inject_ud(kv); return;
	case VMX_FAULT_GP: kvm_inject_gp(kv); return;
	case VMX_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "nested %s: %s", insn, res->cite ? res->cite : "");
		hvsim_report_finding(kv->kvm->vm, kv->v, "hv_error", why);
		hvsim_vcpu_stop(kv->v, "KVM_EXIT_INTERNAL_ERROR");
		return;
	default: break;
	}
	kvm_vmcs_write(kv, VMCS_GUEST_RFLAGS,
	               vmx_result_rflags(res, kvm_vmcs_read(kv, VMCS_GUEST_RFLAGS)));
	kvm_skip_instruction(kv);
}

/* ---- the instructions (handle_vmon, handle_vmptrld, handle_vmread, ...) ---- */

/* VMXON, VMCLEAR, VMPTRLD: the m64 operand is the region's physical address, read after
 * nested_vmx_check_permission's #UD/#GP and handle_vmxon's VMfail in VMX operation (SDM 31.3
 * "VMX Instructions": no operand, no fault from it, when they decide). */
static void handle_m64(struct kvm_vcpu *kv, const struct nested_insn *in, unsigned reason)
{
	struct vmx_cpu *cpu = kv->nested.cpu;
	unsigned id = reason == EXIT_REASON_VMXON     ? VMX_INSN_VMXON
	              : reason == EXIT_REASON_VMCLEAR ? VMX_INSN_VMCLEAR
	                                              : VMX_INSN_VMPTRLD;
	struct vmx_result res;
	uint64_t pa = 0;

	if (!vmx_insn_fails_before_operand(cpu, id, 0) &&
	    !operand_io(kv, in, &pa, VMX_OPERAND_BYTES, false))
		return;
	if (reason == EXIT_REASON_VMXON)
		vmx_vmxon(cpu, pa, &res);
	else if (reason == EXIT_REASON_VMCLEAR)
		vmx_vmclear(cpu, pa, &res);
	else
		vmx_vmptrld(cpu, pa, &res);
	complete(kv, in->name, &res);
}

static void handle_vmptrst(struct kvm_vcpu *kv, const struct nested_insn *in)
{
	struct vmx_result res;

	vmx_vmptrst(kv->nested.cpu, &res);
	if (res.outcome == VMX_SUCCEED && !operand_io(kv, in, &res.value, VMX_OPERAND_BYTES, true))
		return;
	complete(kv, in->name, &res);
}

static void handle_vmread(struct kvm_vcpu *kv, const struct nested_insn *in)
{
	struct vmx_result res;
	size_t len = in->long_mode ? 8 : 4;

	vmx_vmread(kv->nested.cpu, reg_operand(kv, in, II_REG2(in->info)), &res);
	if (res.outcome == VMX_SUCCEED && (in->info & II_REG_FORM))
		hvsim_vcpu_set_gpr(kv->v, II_REG1(in->info),
		                   in->long_mode ? res.value : (uint32_t)res.value);
	else if (res.outcome == VMX_SUCCEED && !operand_io(kv, in, &res.value, len, true))
		return;
	complete(kv, in->name, &res);
}

/* handle_vmwrite reads a memory source after the permission checks and after VMfailInvalid for
 * a missing current VMCS. */
static bool vmwrite_reads_source(const struct kvm_vcpu *kv)
{
	return !vmx_insn_fails_before_operand(kv->nested.cpu, VMX_INSN_VMWRITE, 0) &&
	       vmx_cpu_current_vmcs(kv->nested.cpu) != VMX_INVALID_VMCS_PTR;
}

static void handle_vmwrite(struct kvm_vcpu *kv, const struct nested_insn *in)
{
	struct vmx_result res;
	uint64_t value = 0;

	if (in->info & II_REG_FORM)
		value = reg_operand(kv, in, II_REG1(in->info));
	else if (vmwrite_reads_source(kv) &&
	         !operand_io(kv, in, &value, in->long_mode ? 8 : 4, false))
		return;
	vmx_vmwrite(kv->nested.cpu, reg_operand(kv, in, II_REG2(in->info)), value, &res);
	complete(kv, in->name, &res);
}

static void handle_inv(struct kvm_vcpu *kv, const struct nested_insn *in, bool ept)
{
	struct vmx_result res;
	uint64_t desc[2] = {0, 0}, type = reg_operand(kv, in, II_REG2(in->info));
	unsigned id = ept ? VMX_INSN_INVEPT : VMX_INSN_INVVPID;

	/* handle_invept/handle_invvpid: the permission checks and the type first (VMfail 28) */
	if (!vmx_insn_fails_before_operand(kv->nested.cpu, id, type) &&
	    !operand_io(kv, in, desc, INV_DESC_BYTES, false))
		return;
	if (ept)
		vmx_invept(kv->nested.cpu, type, desc[0], desc[1], &res);
	else
		vmx_invvpid(kv->nested.cpu, type, desc[0], desc[1], &res);
	complete(kv, in->name, &res);
}

/* ---- VMLAUNCH / VMRESUME (nested_vmx_run) ---- */

static bool vmcs12_read(void *ctx, uint32_t encoding, uint64_t *value)
{
	return vmx_vmcs_get(ctx, encoding, value);
}

/* KVM accepted the entry: L2 would run now. hvsim does not simulate L2. */
static void nested_entered(struct kvm_vcpu *kv, uint64_t vmcs12)
{
	struct vmx_cpu *cpu = kv->nested.cpu;
	uint64_t rip = 0, activity = 0;
	struct trace_ev e;

	vmx_vmcs_get(cpu, VMCS_GUEST_RIP, &rip);
	vmx_vmcs_get(cpu, VMCS_GUEST_ACTIVITY_STATE, &activity);
	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "nested_entry");
	trace_ev_hex(&e, "vmcs12", vmcs12);
	trace_ev_hex(&e, "rip", rip);
	trace_ev_num(&e, "activity", activity);
	hvsim_emit(kv->kvm->vm, &e);
	hvsim_vcpu_stop(kv->v, "nested VM entry: L2 execution is not simulated");
}

/* nested_vmx_entry_failure: the VM-entry failure exit is L1's; its host state from vmcs12 becomes
 * L1's state (SDM 27.8, 28.5), and L1 resumes at HOST_RIP. */
static void nested_entry_failure(struct kvm_vcpu *kv, const struct vmx_result *res)
{
	struct vmx_exit_info x = {.reason = res->exit_reason, .qual = res->exit_qual};
	struct vmx_exit_effects fx;
	struct cpu_state l1;
	struct trace_ev e;

	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "nested_exit");
	trace_ev_hex(&e, "reason", res->exit_reason);
	trace_ev_hex(&e, "qual", res->exit_qual);
	hvsim_emit(kv->kvm->vm, &e);
	kvm_vmcs_save_guest(kv, &l1);
	if (!vmx_exit(kv->nested.cpu, &x, &l1, hvsim_vcpu_guest_tsc(kv->v), &fx) || fx.abort) {
		hvsim_vcpu_stop(kv->v, "triple fault: VMX abort loading L1's host state");
		return;
	}
	kvm_vmcs_load_guest(kv, &fx.host);
}

static void nested_run(struct kvm_vcpu *kv, const struct nested_insn *in, bool launch)
{
	struct vmx_cpu *cpu = kv->nested.cpu;
	uint64_t vmcs12 = vmx_cpu_current_vmcs(cpu);
	struct vmx_vmcs_view view = {.read = vmcs12_read, .ctx = cpu, .pa = vmcs12};
	struct hvsim_nested_entry ne = {
	    .vmcs12 = &view, .launch = launch, .l1_caps = &kv->nested.caps};
	struct vmx_caps kvm_caps;
	struct vmx_result res;

	view.launched = vmx_cpu_vmcs_launched(cpu, vmcs12);
	ne.l1_mode = *vmx_cpu_mode(cpu);
	check_caps(kv, &kvm_caps);
	vmx_vmentry_with_caps(cpu, &kvm_caps, launch, &res);
	if (vmcs12 != VMX_INVALID_VMCS_PTR)
		hvsim_vmx_nested_differential(kv->v, &ne, &res, NULL);
	if (res.outcome == VMX_ENTERED)
		nested_entered(kv, vmcs12);
	else if (res.outcome == VMX_ENTRY_FAIL_EXIT)
		nested_entry_failure(kv, &res);
	else
		complete(kv, in->name, &res);
}

/* ---- dispatch ---- */

/* L1's processor state as the VMX instructions see it (vmx_get_cpl, kvm_read_cr0/cr4, ...). */
static void set_l1_mode(struct kvm_vcpu *kv)
{
	struct vmx_cpu_mode m;
	struct cpu_state s;

	kvm_vmcs_save_guest(kv, &s);
	memset(&m, 0, sizeof(m));
	m.cpl = (uint8_t)((s.seg[SEG_SS].ar >> 5) & 3); /* SS.DPL */
	m.cr0 = s.cr0;
	m.cr4 = s.cr4;
	m.efer = s.efer;
	m.rflags = s.rflags;
	m.cs_l = (s.seg[SEG_CS].ar & AR_L) != 0;
	m.blocked_by_mov_ss = (s.interruptibility & INTERRUPTIBILITY_MOV_SS) != 0;
	m.x2apic_mode = lapic_get_mode(kv->lapic) == LAPIC_MODE_X2APIC;
	m.feature_control = KVM_FEATURE_CONTROL_NESTED;
	vmx_cpu_set_mode(kv->nested.cpu, &m);
}

static bool guest_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	return hvsim_guest_read(ctx, pa, buf, len) == HVSIM_OK;
}

static bool guest_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	return hvsim_guest_write(ctx, pa, buf, len) == HVSIM_OK;
}

static bool ensure_cpu(struct kvm_vcpu *kv)
{
	struct vmx_mem mem = {.read = guest_read, .write = guest_write, .ctx = kv->kvm->vm};

	if (!kv->nested.cpu)
		kv->nested.cpu = vmx_cpu_create(&kv->nested.caps, &mem, kv->kvm->vmcs12s);
	return kv->nested.cpu != NULL;
}

static const char *insn_name(unsigned reason)
{
	switch (reason) {
	case EXIT_REASON_VMXON: return "VMXON";
	case EXIT_REASON_VMXOFF: return "VMXOFF";
	case EXIT_REASON_VMCLEAR: return "VMCLEAR";
	case EXIT_REASON_VMPTRLD: return "VMPTRLD";
	case EXIT_REASON_VMPTRST: return "VMPTRST";
	case EXIT_REASON_VMREAD: return "VMREAD";
	case EXIT_REASON_VMWRITE: return "VMWRITE";
	case EXIT_REASON_VMLAUNCH: return "VMLAUNCH";
	case EXIT_REASON_VMRESUME: return "VMRESUME";
	case EXIT_REASON_INVEPT: return "INVEPT";
	default: return "INVVPID";
	}
}

void kvm_nested_vmx_exit(struct kvm_vcpu *kv, unsigned reason)
{
	struct nested_insn in = {.name = insn_name(reason)};
	struct vmx_result res;

	if (!kv->kvm->nested) { /* handle_vmx_instruction without nested: #UD */
		kvm_inject_ud(kv);
		return;
	}
	if (!ensure_cpu(kv)) {
		hvsim_report_finding(kv->kvm->vm, kv->v, "hv_error",
		                     "out of memory for nested VMX");
		hvsim_vcpu_stop(kv->v, "KVM_EXIT_INTERNAL_ERROR");
		return;
	}
	in.info = (uint32_t)kvm_vmcs_read(kv, VMCS_VMX_INSTRUCTION_INFO);
	in.qual = kvm_vmcs_read(kv, VMCS_EXIT_QUALIFICATION);
	in.long_mode = l1_long_mode(kv);
	set_l1_mode(kv);
	switch (reason) {
	case EXIT_REASON_VMXON:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD: handle_m64(kv, &in, reason); break;
	case EXIT_REASON_VMXOFF:
		vmx_vmxoff(kv->nested.cpu, &res);
		complete(kv, in.name, &res);
		break;
	case EXIT_REASON_VMPTRST: handle_vmptrst(kv, &in); break;
	case EXIT_REASON_VMREAD: handle_vmread(kv, &in); break;
	case EXIT_REASON_VMWRITE: handle_vmwrite(kv, &in); break;
	case EXIT_REASON_VMLAUNCH: nested_run(kv, &in, true); break;
	case EXIT_REASON_VMRESUME: nested_run(kv, &in, false); break;
	case EXIT_REASON_INVEPT: handle_inv(kv, &in, true); break;
	default: handle_inv(kv, &in, false); break;
	}
}
