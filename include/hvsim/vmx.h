/* The Intel VMX hardware model (root side): capability MSRs from CPU profiles, the VMCS store, the
 * VMX instructions and the VM-entry checks. A hypervisor algorithm programs it with VMX
 * instructions and gets what a processor gives: VMsucceed, VMfailInvalid, VMfailValid with the
 * VM-instruction error, #UD/#GP(0), a VM-entry failure exit, or "entered". Follows the Intel SDM
 * Vol. 3C (order number 325462-084US): ch. 25 (VMCS), ch. 27 (VM entries), ch. 31 (VMX instruction
 * reference), Appendix A (capability reporting). See docs/vmx-model.md. */
#ifndef HVSIM_VMX_H
#define HVSIM_VMX_H

#include <hvsim/base.h>
#include <hvsim/vmcs.h>

/* ---- Capability MSRs (SDM Appendix A "VMX Capability Reporting Facility") ---- */

enum vmx_cap_msr {
	MSR_IA32_VMX_BASIC = 0x480,
	MSR_IA32_VMX_PINBASED_CTLS = 0x481,
	MSR_IA32_VMX_PROCBASED_CTLS = 0x482,
	MSR_IA32_VMX_EXIT_CTLS = 0x483,
	MSR_IA32_VMX_ENTRY_CTLS = 0x484,
	MSR_IA32_VMX_MISC = 0x485,
	MSR_IA32_VMX_CR0_FIXED0 = 0x486,
	MSR_IA32_VMX_CR0_FIXED1 = 0x487,
	MSR_IA32_VMX_CR4_FIXED0 = 0x488,
	MSR_IA32_VMX_CR4_FIXED1 = 0x489,
	MSR_IA32_VMX_VMCS_ENUM = 0x48a,
	MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b,
	MSR_IA32_VMX_EPT_VPID_CAP = 0x48c,
	MSR_IA32_VMX_TRUE_PINBASED_CTLS = 0x48d,
	MSR_IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e,
	MSR_IA32_VMX_TRUE_EXIT_CTLS = 0x48f,
	MSR_IA32_VMX_TRUE_ENTRY_CTLS = 0x490,
	MSR_IA32_VMX_VMFUNC = 0x491,
	MSR_IA32_VMX_PROCBASED_CTLS3 = 0x492,
};

#define VMX_CAP_MSR_FIRST 0x480u
#define VMX_CAP_MSR_COUNT 19u /* 0x480..0x492 */
#define VMX_NAME_MAX      64

/* What one processor (or one hypervisor's virtual processor) reports. Plain data: copy freely. */
struct vmx_caps {
	char name[VMX_NAME_MAX];
	uint64_t msr[VMX_CAP_MSR_COUNT]; /* indexed by MSR - 0x480; 0 where absent */
	uint32_t present;                /* bit i: MSR 0x480 + i exists (RDMSR does not #GP) */
	uint8_t maxphyaddr;  /* physical-address width, bits (CPUID 80000008H EAX[7:0]) */
	uint8_t linear_bits; /* linear-address width, bits: 48, or 57 with 5-level paging */
	uint64_t perf_global_ctrl_valid; /* bits of IA32_PERF_GLOBAL_CTRL that are not reserved */
	uint64_t debugctl_valid;         /* bits of IA32_DEBUGCTL that are not reserved */
	uint64_t efer_valid;             /* bits of IA32_EFER that are not reserved */
	bool seam; /* TDX-capable: SEAMCALL and TDCALL exist (VM exits in non-root operation) */
};

/* RDMSR of a capability MSR: true and *value when the profile has it; false means #GP(0). */
bool vmx_caps_msr_read(const struct vmx_caps *caps, uint32_t msr, uint64_t *value);
/* The MSR's SDM name ("IA32_VMX_BASIC"), or NULL outside 0x480..0x492. Can't fail. */
const char *vmx_caps_msr_name(uint32_t msr);
/* True when the profile's processor supports the VMCS field (encoding, full or high). */
bool vmx_caps_field_supported(const struct vmx_caps *caps, uint64_t encoding);

/* ---- CPU profiles (profiles/<name>.json, embedded at build time) ---- */

/* NULL-terminated list of the embedded profile names, sorted. Can't fail. */
const char *const *vmx_profile_names(void);
/* Parses the named embedded profile into *caps. HVSIM_E_INPUT (err names the profile and the key)
 * for an unknown name or a malformed or inconsistent profile; caps untouched on failure. */
enum hvsim_status vmx_profile_load(const char *name, struct vmx_caps *caps,
                                   struct hvsim_error *err);
/* Same for a profile given as JSON text (tests, plugins); label names it in messages. */
enum hvsim_status vmx_profile_parse(const char *label, const char *json, struct vmx_caps *caps,
                                    struct hvsim_error *err);

/* ---- Simulated memory and MSRs, as the engine provides them ---- */

/* Host-physical memory. read/write return false when [pa, pa+len) is not backed. */
struct vmx_mem {
	bool (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
	bool (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
	void *ctx;
};

/* Would WRMSR(index, value) at CPL 0 succeed? Used for the VM-entry MSR-load list (SDM 27.4).
 * NULL write_ok: every MSR not excluded by SDM 27.4 itself is taken as writable. */
struct vmx_msr_ops {
	bool (*write_ok)(void *ctx, uint32_t index, uint64_t value);
	void *ctx;
};

/* ---- The logical processor ---- */

#define VMX_INVALID_VMCS_PTR UINT64_MAX /* current-VMCS pointer when none is loaded */

/* The state of the logical processor (VMX root) that executes a VMX instruction. */
struct vmx_cpu_mode {
	uint8_t cpl;            /* current privilege level 0..3 */
	uint64_t cr0, cr4;      /* current control registers */
	uint64_t efer;          /* IA32_EFER (LMA = bit 10) */
	uint64_t rflags;        /* VM = bit 17 */
	bool cs_l;              /* CS.L: with EFER.LMA, 64-bit mode; without, compatibility mode */
	bool in_smm;            /* in system-management mode */
	bool blocked_by_mov_ss; /* events blocked by MOV SS/POP SS right now */
	bool x2apic_mode;       /* local APIC in x2APIC mode (SDM 27.4 MSR-load rule) */
	uint64_t
	    feature_control; /* IA32_FEATURE_CONTROL (3AH): bit 0 lock, bit 2 VMXON outside SMX */
};

struct vmx_cpu;
struct vmcs_store;

/* A VM's VMCS store: field values of every VMCS region the VM's processors have used, keyed by
 * the region's physical address. capacity: most regions tracked at once (1..65536). NULL on
 * allocation failure or bad capacity. */
struct vmcs_store *vmcs_store_create(size_t capacity);
void vmcs_store_destroy(struct vmcs_store *store);
/* Number of regions tracked. Can't fail. */
size_t vmcs_store_count(const struct vmcs_store *store);
/* Snapshots: a copy of src's regions and launch states with src's capacity (NULL when out of
 * memory); assign makes dst's regions those of src (false when out of memory or past dst's
 * capacity; dst is then unchanged). */
struct vmcs_store *vmcs_store_clone(const struct vmcs_store *src);
bool vmcs_store_assign(struct vmcs_store *dst, const struct vmcs_store *src);

/* A logical processor over caps (copied), mem (copied) and store (borrowed; shared by the VM's
 * processors). Starts outside VMX operation, CPL 0, 64-bit mode with CR4.VMXE and the VMX-fixed
 * CR0/CR4 bits set, IA32_FEATURE_CONTROL locked with VMXON enabled. NULL on allocation failure or
 * NULL arguments. */
struct vmx_cpu *vmx_cpu_create(const struct vmx_caps *caps, const struct vmx_mem *mem,
                               struct vmcs_store *store);
void vmx_cpu_destroy(struct vmx_cpu *cpu);
/* Snapshots: clone copies the whole processor, borrowing src's memory ops and store (NULL when
 * out of memory; free it with vmx_cpu_destroy); assign copies the processor's state (capabilities,
 * mode, VMX operation, VMXON and current-VMCS pointers, non-root state) and keeps dst's memory
 * ops, MSR ops, store and step hook. assign can't fail. */
struct vmx_cpu *vmx_cpu_clone(const struct vmx_cpu *src);
void vmx_cpu_assign(struct vmx_cpu *dst, const struct vmx_cpu *src);
/* Replaces / returns the processor's mode inputs. Can't fail. */
void vmx_cpu_set_mode(struct vmx_cpu *cpu, const struct vmx_cpu_mode *mode);
const struct vmx_cpu_mode *vmx_cpu_mode(const struct vmx_cpu *cpu);
/* Installs the WRMSR oracle for MSR-load checks (NULL ops: none). Can't fail. */
void vmx_cpu_set_msr_ops(struct vmx_cpu *cpu, const struct vmx_msr_ops *ops);
const struct vmx_caps *vmx_cpu_caps(const struct vmx_cpu *cpu);
bool vmx_cpu_in_vmx_operation(const struct vmx_cpu *cpu);
/* Current-VMCS pointer, VMX_INVALID_VMCS_PTR when none. */
uint64_t vmx_cpu_current_vmcs(const struct vmx_cpu *cpu);
uint64_t vmx_cpu_vmxon_ptr(const struct vmx_cpu *cpu);
/* Launch state of the VMCS at pa: true = launched; false = clear or unknown region. */
bool vmx_cpu_vmcs_launched(const struct vmx_cpu *cpu, uint64_t pa);

/* ---- Results ---- */

enum vmx_outcome {
	VMX_SUCCEED = 0,     /* VMsucceed: CF=PF=AF=ZF=SF=OF=0 */
	VMX_FAIL_INVALID,    /* VMfailInvalid: CF=1 */
	VMX_FAIL_VALID,      /* VMfailValid(error): ZF=1, error in VM_INSTRUCTION_ERROR */
	VMX_FAULT_UD,        /* #UD */
	VMX_FAULT_GP,        /* #GP(0) */
	VMX_ENTERED,         /* VM entry passed every check (VMLAUNCH/VMRESUME) */
	VMX_ENTRY_FAIL_EXIT, /* VM-entry failure exit: exit_reason (bit 31 set), exit_qual */
	VMX_INTERNAL_ERROR,  /* hvsim could not model the case (store full): see check */
};

/* VM-instruction error numbers, SDM 31.4 "VM Instruction Error Numbers". */
enum vmx_insn_error {
	VMXERR_VMCALL_IN_VMX_ROOT = 1,
	VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
	VMXERR_VMCLEAR_VMXON_POINTER = 3,
	VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4,
	VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6,
	VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7,
	VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8,
	VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
	VMXERR_VMPTRLD_VMXON_POINTER = 10,
	VMXERR_VMPTRLD_INCORRECT_REVISION_ID = 11,
	VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12,
	VMXERR_VMWRITE_READ_ONLY_COMPONENT = 13,
	VMXERR_VMXON_IN_VMX_ROOT = 15,
	VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS = 26,
	VMXERR_INVALID_INVEPT_INVVPID_OPERAND = 28,
};

#define VMX_EXIT_REASON_ENTRY_FAIL 0x80000000u /* bit 31 of the exit reason */

/* Exit qualifications of exit reason 33, SDM 27.8 "VM-Entry Failures During or After Loading
 * Guest State". Exit reason 34 uses the 1-based index of the failing MSR-load entry. */
enum vmx_entry_fail_qual {
	VMX_ENTRY_FAIL_DEFAULT = 0,
	VMX_ENTRY_FAIL_PDPTE = 2,
	VMX_ENTRY_FAIL_NMI_STI = 3,
	VMX_ENTRY_FAIL_LINK_PTR = 4,
};

enum vmx_check_group {
	VMX_GROUP_PRE = 0, /* instruction pre-checks: #UD, #GP, VMfail */
	VMX_GROUP_CTRL,    /* SDM 27.2.1: VMfailValid(7) */
	VMX_GROUP_HOST,    /* SDM 27.2.2-27.2.4: VMfailValid(8) */
	VMX_GROUP_GUEST,   /* SDM 27.3.1: exit 33 */
	VMX_GROUP_MSR,     /* SDM 27.4: exit 34 */
};

struct vmx_result {
	enum vmx_outcome outcome;
	uint32_t error;       /* VM-instruction error, VMX_FAIL_VALID only */
	uint32_t exit_reason; /* full exit reason, VMX_ENTRY_FAIL_EXIT only */
	uint64_t exit_qual;   /* exit qualification, VMX_ENTRY_FAIL_EXIT only */
	uint64_t value;       /* VMREAD: the value; VMPTRST: the current-VMCS pointer */
	/* Why a check failed (any outcome but VMX_SUCCEED/VMX_ENTERED); static strings, NULL if
	 * none */
	uint8_t group;     /* enum vmx_check_group */
	const char *check; /* check name: "vmx_check_host_cr4_fixed1" */
	const char *cond;  /* the failing condition, as written in the check */
	const char *cite;  /* SDM citation: SDM 27.2.2 "Checks on Host Control Registers, ..." */
	const char
	    *item; /* what the check looked at when one rule covers several: "CS", "PDPTE2" */
};

/* Applies the result's VMsucceed/VMfail flag effects to rflags; other outcomes leave it. */
uint64_t vmx_result_rflags(const struct vmx_result *res, uint64_t rflags);
/* Short outcome name: "VMsucceed", "VMfailValid", "#GP(0)", ... Can't fail. */
const char *vmx_outcome_name(enum vmx_outcome outcome);

/* ---- VMX instructions (SDM ch. 31). Each fills *res and never fails otherwise. ---- */

/* Physical-address operands are the values the instruction's m64 operand holds. */
void vmx_vmxon(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
void vmx_vmxoff(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_vmptrld(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
/* VMPTRST: the pointer to store is res->value. */
void vmx_vmptrst(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_vmclear(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
/* encoding: the full register operand (in 64-bit mode bits 63:32 must be 0). value in res->value.
 */
void vmx_vmread(struct vmx_cpu *cpu, uint64_t encoding, struct vmx_result *res);
/* value: the source operand, zero-extended by the caller outside 64-bit mode. */
void vmx_vmwrite(struct vmx_cpu *cpu, uint64_t encoding, uint64_t value, struct vmx_result *res);
/* VMLAUNCH/VMRESUME: the instruction checks, then every VM-entry check. VMX_ENTERED means all
 * checks passed and, for VMLAUNCH, the VMCS is now launched; the guest state is then loaded with
 * vmx_entry_load (hvsim/vmx_runtime.h). */
void vmx_vmlaunch(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_vmresume(struct vmx_cpu *cpu, struct vmx_result *res);
/* vmx_vmlaunch and vmx_vmresume compiled a second time from the same source
 * (models/vmx/vmx_entry_plain.c), which fuzzing builds leave out of coverage instrumentation. Same
 * results, effects and failure contracts; the check names and conditions they return are equal
 * as strings, not as pointers. */
void vmx_plain_vmlaunch(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_plain_vmresume(struct vmx_cpu *cpu, struct vmx_result *res);
/* The other instructions compiled a second time the same way (models/vmx/vmx_insn_plain.c): same
 * results, effects and failure contracts as vmx_vmxon ... vmx_invvpid. The engine's VMX services
 * (hvsim/hv.h hvsim_vmread ...) run these: what an algorithm does with the VMCS shows in its own
 * code, while fuzz_vmcs_entry fuzzes the instrumented compilation. */
void vmx_plain_vmxon(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
void vmx_plain_vmxoff(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_plain_vmptrld(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
void vmx_plain_vmptrst(struct vmx_cpu *cpu, struct vmx_result *res);
void vmx_plain_vmclear(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res);
void vmx_plain_vmread(struct vmx_cpu *cpu, uint64_t encoding, struct vmx_result *res);
void vmx_plain_vmwrite(struct vmx_cpu *cpu, uint64_t encoding, uint64_t value,
                       struct vmx_result *res);
void vmx_plain_invept(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                      struct vmx_result *res);
void vmx_plain_invvpid(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                       struct vmx_result *res);
/* VMLAUNCH (launch) or VMRESUME whose VM-entry checks use check_caps instead of the processor's
 * own capability MSRs (NULL: its own); everything else, state changes included, as
 * vmx_vmlaunch/vmx_vmresume. Models an implementation that validates a VMCS against other
 * capabilities than it reports (a hypervisor emulating VMX for its guest). */
void vmx_vmentry_with_caps(struct vmx_cpu *cpu, const struct vmx_caps *check_caps, bool launch,
                           struct vmx_result *res);
/* Whether a VMX instruction's outcome is decided before it reads its memory operand (SDM 31.3
 * "VMX Instructions": the #UD and #GP(0) checks come first, VMXON in VMX operation fails without
 * reading it, INVEPT/INVVPID check the type in their register operand, VMfail 28, before the
 * descriptor). insn: VMX_INSN_VMXON, _VMCLEAR, _VMPTRLD, _VMPTRST, _VMREAD, _VMWRITE, _INVEPT or
 * _INVVPID (hvsim/vmx_runtime.h); type: INVEPT/INVVPID's register operand. When true, executing
 * the instruction with any operand value gives that outcome, so an operand that cannot be read
 * does not matter. Pure, can't fail; false for other ids. */
bool vmx_insn_fails_before_operand(const struct vmx_cpu *cpu, unsigned insn, uint64_t type);

/* INVEPT/INVVPID with type (register operand) and the 128-bit descriptor as two quadwords. */
void vmx_invept(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                struct vmx_result *res);
void vmx_invvpid(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                 struct vmx_result *res);

/* Direct field access to the current VMCS for the engine and tests, bypassing VMREAD/VMWRITE
 * rules (no width truncation, read-only fields writable). false when no current VMCS or the
 * encoding names no field. */
bool vmx_vmcs_get(const struct vmx_cpu *cpu, uint32_t encoding, uint64_t *value);
bool vmx_vmcs_set(struct vmx_cpu *cpu, uint32_t encoding, uint64_t value);

/* ---- VM-entry checks (SDM 27.2-27.4) ---- */

/* Runs every VM-entry check on the current VMCS in SDM order, as VMLAUNCH (launch = true) or
 * VMRESUME would after their pre-checks; changes nothing. res: VMX_ENTERED when all pass, else
 * the first failure's outcome. No current VMCS: VMX_FAIL_INVALID. */
void vmx_check_entry(const struct vmx_cpu *cpu, struct vmx_result *res);

/* ---- A VMCS held elsewhere: the nested-entry differential (docs/nested-differential.md) ---- */

/* A VMCS another VMX implementation holds (a hypervisor's vmcs12 for its guest hypervisor),
 * presented field by field. */
struct vmx_vmcs_view {
	/* The full-width value of the field with this encoding; false when the implementation has
	 * none (read as 0). */
	bool (*read)(void *ctx, uint32_t encoding, uint64_t *value);
	void *ctx;
	uint64_t pa;   /* the region's physical address (the current-VMCS pointer) */
	bool launched; /* its launch state before the instruction */
};

/* What a processor with caps, in mode, in VMX root operation with the view's VMCS current, does
 * for VMLAUNCH (launch) or VMRESUME: the instruction's checks, then every VM-entry check. Runs on a
 * scratch copy: nothing outside res changes. mem serves the checks' reads (VMCS link pointer,
 * MSR-load list); NULL reads all ones. Can't fail. */
void vmx_view_entry(const struct vmx_caps *caps, const struct vmx_cpu_mode *mode,
                    const struct vmx_mem *mem, const struct vmx_vmcs_view *view, bool launch,
                    struct vmx_result *res);
/* True when two VMLAUNCH/VMRESUME outcomes are architecturally the same: outcome, and the error
 * number (VMfailValid) or exit reason and qualification (VM-entry failure). Can't fail. */
bool vmx_result_same(const struct vmx_result *a, const struct vmx_result *b);
/* Describes an outcome for a finding into buf (cap bytes, NUL-terminated, truncated): "entered",
 * "VMfailValid 7", "exit 33 qual 0x0", "#GP(0)", ..., then the failing check's name. Can't
 * fail. */
void vmx_result_describe(const struct vmx_result *res, char *buf, size_t cap);

struct vmx_check_desc {
	const char *name; /* "vmx_check_host_cr4_fixed1" */
	uint8_t group;    /* enum vmx_check_group */
	const char *cite; /* SDM section of the rule */
};
/* The check table in SDM order (controls, host, guest, MSR loading). Can't fail; vmx_check_at
 * returns NULL when i >= vmx_check_count(). */
size_t vmx_check_count(void);
const struct vmx_check_desc *vmx_check_at(size_t i);

#endif
