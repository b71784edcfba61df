/* The hand-made seeds of fuzz_vmcs_entry: operation lists that reach each outcome of VM entry (an
 * entry on every profile, then VMRESUME; each check group failing: controls, host state, guest
 * state, MSR loading), the instruction pre-checks and VM-instruction errors, VMREAD/VMWRITE of
 * every width, INVEPT/INVVPID, and a PAE guest whose PDPTEs fail. fuzz/fzgen encodes them into
 * fuzz/corpus/fuzz_vmcs_entry/; tests/test_fuzz_vmx.c checks each reaches its outcomes. */
#include "fz_vmx_seeds.h"

#include "../models/vmx/vmx_int.h"

/* Operation builders (one line each: kept out of clang-format). */
/* clang-format off */
#define OP(k)                {.kind = (k)}
#define LAUNCH               OP(FZ_VMX_VMLAUNCH)
#define RESUME               OP(FZ_VMX_VMRESUME)
#define W(field, v)          {.kind = FZ_VMX_VMWRITE, .enc = VMCS_##field, .src = FZ_VMX_SRC_RAW, \
                              .value = (v)}
#define W_SRC(field, s, b)   {.kind = FZ_VMX_VMWRITE, .enc = VMCS_##field, .src = (s), .value = (b)}
#define FIX(field)           W_SRC(field, FZ_VMX_SRC_FIXTURE, 0)
#define R(enc_)              {.kind = FZ_VMX_VMREAD, .enc = (enc_)}
#define AT(k, pa)            {.kind = (k), .value = (pa)}
#define MODE(change, v)      {.kind = FZ_VMX_MODE, .src = (change), .value = (v)}
#define FIXMODE              MODE(VMX_REPLAY_MODE_FIXTURE, 0)
#define MSR_ENTRY(k, msr, v) {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_MSR_LOAD, .addr = (k), \
                              .enc = (msr), .value = (v)}
#define PDPTE(i, v)          {.kind = FZ_VMX_MEM, .src = FZ_VMX_MEM_PDPTE, .addr = (i), \
                              .value = (v)}
/* clang-format on */

#define ICX 0 /* profile indexes: vmx_profile_names() is sorted */
#define SPR 1
#define KVM 2

static const struct fz_vmx_op launch_resume[] = {
    LAUNCH,
    RESUME,
    RESUME,
    LAUNCH,
    AT(FZ_VMX_VMCLEAR, VMX_REPLAY_PA_VMCS),
    RESUME,
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS),
    RESUME,
    LAUNCH,
    RESUME,
    OP(FZ_VMX_VMPTRST),
};

/* SDM 27.2.1: a control outside its capability MSR's allowed settings, an injected event of
 * reserved type, a CR3-target count above the supported number */
static const struct fz_vmx_op ctrl_fail[] = {
    W(PIN_BASED_VM_EXEC_CONTROL, 0),
    LAUNCH,
    FIX(PIN_BASED_VM_EXEC_CONTROL),
    W_SRC(CPU_BASED_VM_EXEC_CONTROL, FZ_VMX_SRC_CONTROL, 2),
    LAUNCH,
    FIX(CPU_BASED_VM_EXEC_CONTROL),
    W(VM_ENTRY_INTR_INFO_FIELD, 0x80000130),
    LAUNCH,
    FIX(VM_ENTRY_INTR_INFO_FIELD),
    W(CR3_TARGET_COUNT, 300),
    LAUNCH,
    FIX(CR3_TARGET_COUNT),
    W(EPT_POINTER, VMX_REPLAY_PA_EPT_PML4 | 0x1f),
    LAUNCH,
    FIX(EPT_POINTER),
    LAUNCH,
};

/* SDM 27.2.2-27.2.4: host CR4 without VMXE, a non-canonical host RIP, host CS selector RPL */
static const struct fz_vmx_op host_fail[] = {
    W_SRC(HOST_CR4, FZ_VMX_SRC_CONTROL, 3),
    LAUNCH,
    FIX(HOST_CR4),
    W(HOST_RIP, 0x0100000000000000),
    LAUNCH,
    FIX(HOST_RIP),
    W(HOST_CS_SELECTOR, 0x13),
    LAUNCH,
    FIX(HOST_CS_SELECTOR),
    W(HOST_IA32_EFER, 0x101),
    LAUNCH,
    FIX(HOST_IA32_EFER),
    LAUNCH,
};

/* SDM 27.3.1: RFLAGS bit 1 clear, CS access rights, an activity state, link pointer */
static const struct fz_vmx_op guest_fail[] = {
    W(GUEST_RFLAGS, 0),
    LAUNCH,
    FIX(GUEST_RFLAGS),
    W(GUEST_CS_AR_BYTES, 0xa093),
    LAUNCH,
    FIX(GUEST_CS_AR_BYTES),
    W(GUEST_ACTIVITY_STATE, 7),
    LAUNCH,
    FIX(GUEST_ACTIVITY_STATE),
    W(VMCS_LINK_POINTER, VMX_REPLAY_PA_VMCS),
    LAUNCH,
    W(VMCS_LINK_POINTER, 0x12345),
    LAUNCH,
    FIX(VMCS_LINK_POINTER),
    W(GUEST_INTERRUPTIBILITY_INFO, 3),
    LAUNCH,
};

/* SDM 27.4: an MSR-load list whose second entry names IA32_FS_BASE, then a reserved index */
static const struct fz_vmx_op msr_fail[] = {
    W(VM_ENTRY_MSR_LOAD_COUNT, 2),
    MSR_ENTRY(0, 0x174, 0x10),
    MSR_ENTRY(1, 0xC0000100, 0),
    LAUNCH,
    MSR_ENTRY(0, 0x174 | (UINT64_C(1) << 32), 0),
    LAUNCH,
    MSR_ENTRY(0, 0x174, 0x10),
    MSR_ENTRY(1, 0x175, 0),
    LAUNCH,
};

/* SDM 31.3 pre-checks: #GP at CPL 3, #UD in virtual-8086 and compatibility mode, error 26 under
 * MOV-SS blocking, error 15 for VMXON in VMX root, VMXOFF, #UD outside VMX operation */
static const struct fz_vmx_op insn_faults[] = {
    MODE(VMX_REPLAY_MODE_CPL, 3),
    LAUNCH,
    FIXMODE,
    MODE(VMX_REPLAY_MODE_VM86, 0),
    LAUNCH,
    FIXMODE,
    MODE(VMX_REPLAY_MODE_COMPAT, 0),
    R(VMCS_GUEST_RIP),
    FIXMODE,
    MODE(VMX_REPLAY_MODE_MOV_SS, 0),
    LAUNCH,
    FIXMODE,
    AT(FZ_VMX_VMXON, VMX_REPLAY_PA_VMXON),
    OP(FZ_VMX_VMXOFF),
    LAUNCH,
    R(VMCS_GUEST_RIP),
    MODE(VMX_REPLAY_MODE_VMXE, 0),
    AT(FZ_VMX_VMXON, VMX_REPLAY_PA_VMXON),
    FIXMODE,
    MODE(VMX_REPLAY_MODE_FEATCTL, 1),
    AT(FZ_VMX_VMXON, VMX_REPLAY_PA_VMXON),
    FIXMODE,
    AT(FZ_VMX_VMXON, VMX_REPLAY_PA_VMXON),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS),
    LAUNCH,
};

/* SDM 31.4 errors 2, 3, 9, 10, 11 and the store's second region */
static const struct fz_vmx_op pointer_errors[] = {
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS + 8),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMXON),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_IO_A),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_SHADOW_VMCS),
    AT(FZ_VMX_VMCLEAR, VMX_REPLAY_PA_VMXON),
    AT(FZ_VMX_VMCLEAR, UINT64_C(1) << 52),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS2),
    R(VMCS_GUEST_RIP),
    LAUNCH,
    RESUME,
    OP(FZ_VMX_VMPTRST),
    AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS),
    LAUNCH,
};

/* SDM 25.11.2: every width, high-half access, a read-only field, reserved encoding bits */
static const struct fz_vmx_op widths[] = {
    W(GUEST_ES_SELECTOR, 0x12345678),
    R(VMCS_GUEST_ES_SELECTOR),
    W(GUEST_ES_LIMIT, UINT64_MAX),
    R(VMCS_GUEST_ES_LIMIT),
    {.kind = FZ_VMX_VMWRITE, .enc = VMCS_TSC_OFFSET | 1, .value = 0xabcdef},
    R(VMCS_TSC_OFFSET),
    R(VMCS_TSC_OFFSET | 1),
    W(GUEST_RIP, UINT64_MAX),
    R(VMCS_GUEST_RIP),
    W(VM_EXIT_REASON, 5),
    R(VMCS_VM_INSTRUCTION_ERROR),
    R(VMCS_GUEST_RIP | 1),
    R(0x1000),
    R(UINT64_C(1) << 32),
    R(VMCS_GUEST_CS_LIMIT | 0x8000),
    FIX(GUEST_RIP),
    FIX(GUEST_ES_SELECTOR),
    FIX(GUEST_ES_LIMIT),
    LAUNCH,
};

static const struct fz_vmx_op invalidation[] = {
    {.kind = FZ_VMX_INVEPT, .enc = 1, .value = VMX_REPLAY_PA_EPT_PML4 | 0x1e},
    {.kind = FZ_VMX_INVEPT, .enc = 2},
    {.kind = FZ_VMX_INVEPT, .enc = 3},
    {.kind = FZ_VMX_INVEPT, .enc = 1, .value = 0},
    {.kind = FZ_VMX_INVVPID, .enc = 0, .value = 1, .addr = 0x401000},
    {.kind = FZ_VMX_INVVPID, .enc = 0, .value = 1, .addr = 0x0000800000000000},
    {.kind = FZ_VMX_INVVPID, .enc = 1, .value = 0},
    {.kind = FZ_VMX_INVVPID, .enc = 2, .value = 0x10000},
    {.kind = FZ_VMX_INVVPID, .enc = 3, .value = 1},
    LAUNCH,
};

/* A 32-bit PAE guest (no IA-32e mode): PDPTEs come from the VMCS with EPT (SDM 27.3.1.6) */
static const struct fz_vmx_op pae_guest[] = {
    W(VM_ENTRY_CONTROLS, 0),
    W_SRC(VM_ENTRY_CONTROLS, FZ_VMX_SRC_CONTROL, 0),
    W(GUEST_IA32_EFER, 0),
    W(GUEST_CS_AR_BYTES, 0xc09b),
    W(GUEST_TR_AR_BYTES, 0x8b),
    W(GUEST_PDPTR0, 0x7),
    LAUNCH,
    W_SRC(SECONDARY_VM_EXEC_CONTROL, FZ_VMX_SRC_FLIP, 1),
    PDPTE(0, 0x181),
    LAUNCH,
    PDPTE(0, 1),
    LAUNCH,
    RESUME,
};

/* VMCLEAR and VMPTRLD of the current VMCS make it clear again, so the next LAUNCH runs the
 * checks instead of failing with error 4 after an entry that passed */
#define CLEAR            AT(FZ_VMX_VMCLEAR, VMX_REPLAY_PA_VMCS), AT(FZ_VMX_VMPTRLD, VMX_REPLAY_PA_VMCS)
#define FLIP(field, bit) W_SRC(field, FZ_VMX_SRC_FLIP, bit)

/* SDM 27.2.1.1: posted interrupts, virtual-interrupt delivery and their dependencies, one
 * control bit at a time (FLIP: bit positions of SDM Tables 25-5, 25-6, 25-7, 25-13) */
static const struct fz_vmx_op apicv_posted[] = {
    FLIP(PIN_BASED_VM_EXEC_CONTROL, 7),
    LAUNCH,
    FLIP(SECONDARY_VM_EXEC_CONTROL, 9),
    LAUNCH,
    CLEAR,
    FLIP(CPU_BASED_VM_EXEC_CONTROL, 21),
    LAUNCH,
    FIX(CPU_BASED_VM_EXEC_CONTROL),
    W(POSTED_INTR_DESC_ADDR, VMX_REPLAY_PA_PI_DESC + 8),
    LAUNCH,
    FIX(POSTED_INTR_DESC_ADDR),
    FLIP(VM_EXIT_CONTROLS, 15),
    LAUNCH,
    FIX(VM_EXIT_CONTROLS),
    FLIP(PIN_BASED_VM_EXEC_CONTROL, 0),
    LAUNCH,
    FIX(PIN_BASED_VM_EXEC_CONTROL),
    LAUNCH,
};

/* SDM 27.3.1.2: a virtual-8086 guest (RFLAGS.VM outside IA-32e mode): bases, limits, rights */
static const struct fz_vmx_op v86_guest[] = {
    W(GUEST_RFLAGS, 0x20002),
    LAUNCH,
    FLIP(VM_ENTRY_CONTROLS, 9),
    W(GUEST_IA32_EFER, 0),
    W(GUEST_CS_AR_BYTES, 0xc09b),
    LAUNCH,
    W(GUEST_CS_BASE, 0x80),
    W(GUEST_ES_BASE, 0x100),
    W(GUEST_SS_BASE, 0x100),
    W(GUEST_DS_BASE, 0x100),
    W(GUEST_FS_BASE, 0x100),
    W(GUEST_GS_BASE, 0x100),
    LAUNCH,
    W(GUEST_CS_LIMIT, 0xffff),
    W(GUEST_ES_LIMIT, 0xffff),
    W(GUEST_SS_LIMIT, 0xffff),
    W(GUEST_DS_LIMIT, 0xffff),
    W(GUEST_FS_LIMIT, 0xffff),
    W(GUEST_GS_LIMIT, 0xffff),
    LAUNCH,
    W(GUEST_CS_AR_BYTES, 0xf3),
    W(GUEST_ES_AR_BYTES, 0xf3),
    W(GUEST_SS_AR_BYTES, 0xf3),
    W(GUEST_DS_AR_BYTES, 0xf3),
    W(GUEST_FS_AR_BYTES, 0xf3),
    W(GUEST_GS_AR_BYTES, 0xf3),
    LAUNCH,
};

/* SDM 27.3.1.1-27.3.1.2: unrestricted guest in real mode (CR0.PE = PG = 0) */
static const struct fz_vmx_op real_mode[] = {
    FLIP(SECONDARY_VM_EXEC_CONTROL, 7),
    FLIP(VM_ENTRY_CONTROLS, 9),
    W(GUEST_IA32_EFER, 0),
    W(GUEST_CR0, 0x30),
    LAUNCH,
    CLEAR,
    W(GUEST_CS_SELECTOR, 0),
    W(GUEST_CS_LIMIT, 0xffff),
    W(GUEST_CS_AR_BYTES, 0x9b),
    W(GUEST_RIP, 0x7c00),
    W(GUEST_SS_AR_BYTES, 0xf3),
    LAUNCH,
    W(GUEST_CR0, 0x80000030),
    LAUNCH,
};

/* SDM 27.2.1.3, 27.3.1.5: event injection against interruptibility and activity state */
static const struct fz_vmx_op injection[] = {
    W(GUEST_RFLAGS, 0x202),
    W(VM_ENTRY_INTR_INFO_FIELD, 0x80000202),
    W(GUEST_INTERRUPTIBILITY_INFO, 1),
    LAUNCH,
    W(GUEST_INTERRUPTIBILITY_INFO, 8),
    LAUNCH,
    FIX(GUEST_INTERRUPTIBILITY_INFO),
    W(VM_ENTRY_INTR_INFO_FIELD, 0x80000b0e),
    W(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000),
    LAUNCH,
    W(VM_ENTRY_EXCEPTION_ERROR_CODE, 2),
    W(GUEST_ACTIVITY_STATE, 1),
    LAUNCH,
    FIX(GUEST_ACTIVITY_STATE),
    LAUNCH,
};

#define SEED(name_, profile_, ops_, ...)                               \
	{                                                              \
		.name = (name_), .profile = (profile_), .ops = (ops_), \
		.n_ops = sizeof(ops_) / sizeof((ops_)[0]), .wants = {  \
			__VA_ARGS__                                    \
		}                                                      \
	}

static const struct fz_vmx_seed seeds[] = {
    SEED("launch-resume-icx", ICX, launch_resume, .entered = 4, .vmfail = 3),
    SEED("launch-resume-spr", SPR, launch_resume, .entered = 4, .vmfail = 3),
    SEED("launch-resume-kvm-nested", KVM, launch_resume, .entered = 4, .vmfail = 3),
    SEED("controls-fail", ICX, ctrl_fail, .fail_ctrl = 5, .entered = 1, .vmwrites = 10),
    SEED("host-state-fail", SPR, host_fail, .fail_host = 4, .entered = 1),
    SEED("guest-state-fail", ICX, guest_fail, .exit_guest = 6),
    SEED("msr-load-fail", KVM, msr_fail, .exit_msr = 2, .entered = 1),
    SEED("instruction-faults", ICX, insn_faults, .faults = 5, .vmfail = 2, .entered = 1),
    SEED("pointer-errors", KVM, pointer_errors, .vmfail = 4, .fail_ctrl = 1, .entered = 1),
    SEED("field-widths", SPR, widths, .vmwrites = 6, .entered = 1),
    SEED("invept-invvpid", ICX, invalidation, .entered = 1, .vmfail = 3),
    SEED("pae-guest-pdpte", KVM, pae_guest, .exit_guest = 2, .entered = 1),
    SEED("apicv-posted-interrupts", ICX, apicv_posted, .fail_ctrl = 5, .entered = 2),
    SEED("v86-guest", ICX, v86_guest, .exit_guest = 4, .entered = 1),
    SEED("unrestricted-real-mode", SPR, real_mode, .exit_guest = 2, .entered = 1),
    SEED("event-injection", SPR, injection, .fail_ctrl = 1, .exit_guest = 3, .entered = 1),
};

size_t fz_vmx_seed_count(void)
{
	return sizeof(seeds) / sizeof(seeds[0]);
}

const struct fz_vmx_seed *fz_vmx_seed_at(size_t i)
{
	return i < fz_vmx_seed_count() ? &seeds[i] : NULL;
}

size_t fz_vmx_seed_bytes(const struct fz_vmx_seed *seed, uint8_t *buf, size_t cap)
{
	struct fz_out o;

	fz_out_init(&o, buf, cap);
	fz_put(&o, seed->profile, 1);
	for (size_t i = 0; i < seed->n_ops; i++)
		fz_vmx_encode(&o, &seed->ops[i]);
	return o.overflow ? 0 : o.len;
}
