/* Private declarations of the VMX model (models/vmx/).
 *
 * Layout. A VMCS's field values live in a struct vmcs in the VM's struct vmcs_store, keyed by the
 * region's physical address; the region itself (simulated host memory) holds only what the SDM
 * makes architectural: the revision identifier with the shadow-VMCS indicator (bytes 3:0) and the
 * VMX-abort indicator (bytes 7:4). Field values are indexed densely in vmcs_fields.h order
 * (enum vmcs_idx), so checks read c->f[VMCS_IDX_GUEST_RIP] without a lookup.
 *
 * Checks. Each VM-entry check is one function `bool vmx_check_X(const struct vmx_entry_ctx *,
 * struct vmx_fail *)` returning true when its rule is VIOLATED (like KVM's CC()). The CC() macro
 * records the violated condition's text and its SDM citation in the fail record, so a message can
 * never drift from the code. Checks read const state only; vmx_entry.c runs them from the table in
 * SDM order and maps the group to the outcome. Nothing is loaded by a check.
 *
 * Invariant: a struct vmx_cpu's current_vmcs, when not VMX_INVALID_VMCS_PTR, names a region
 * present in its store. */
#ifndef HVSIM_VMX_INT_H
#define HVSIM_VMX_INT_H

#include <hvsim/vmx.h>
#include <hvsim/vmx_ctrl.h>
#include <hvsim/vmx_runtime.h>

/* ---- Dense field indices ---- */
enum vmcs_idx {
#define VMCS_X_IDX(name, enc, r1, r2) VMCS_IDX_##name,
	VMCS_FIELDS(VMCS_X_IDX)
#undef VMCS_X_IDX
	    VMCS_IDX_COUNT
};

/* Control bits: include/hvsim/vmx_ctrl.h (public: algorithms program them too). */

/* IA32_VMX_BASIC, SDM A.1 */
#define VMX_BASIC_REVISION_MASK 0x7fffffffu
#define VMX_BASIC_32BIT_ADDR    BIT64(48)
#define VMX_BASIC_TRUE_CTLS     BIT64(55)
#define VMX_BASIC_NO_ERRCODE_CC BIT64(56)
/* IA32_VMX_MISC, SDM A.6 */
#define VMX_MISC_ACTIVITY_HLT      BIT64(6)
#define VMX_MISC_ACTIVITY_SHUTDOWN BIT64(7)
#define VMX_MISC_ACTIVITY_SIPI     BIT64(8)
#define VMX_MISC_CR3_TARGETS(m)    ((unsigned)(((m) >> 16) & 0x1ff))
#define VMX_MISC_MAX_MSR_LIST(m)   (512u * ((unsigned)(((m) >> 25) & 7) + 1))
#define VMX_MISC_VMWRITE_ALL       BIT64(29)
#define VMX_MISC_ZERO_LEN_INJECT   BIT64(30)
/* IA32_VMX_EPT_VPID_CAP, SDM A.10 */
#define EPT_CAP_WALK_4          BIT64(6)
#define EPT_CAP_WALK_5          BIT64(7)
#define EPT_CAP_UC              BIT64(8)
#define EPT_CAP_WB              BIT64(14)
#define EPT_CAP_INVEPT          BIT64(20)
#define EPT_CAP_AD              BIT64(21)
#define EPT_CAP_INVEPT_SINGLE   BIT64(25)
#define EPT_CAP_INVEPT_ALL      BIT64(26)
#define VPID_CAP_INVVPID        BIT64(32)
#define VPID_CAP_INVVPID_ADDR   BIT64(40)
#define VPID_CAP_INVVPID_SINGLE BIT64(41)
#define VPID_CAP_INVVPID_ALL    BIT64(42)
#define VPID_CAP_INVVPID_SNG_NG BIT64(43)
/* EPT pointer, SDM 25.6.11 */
#define EPTP_MT_MASK      UINT64_C(0x7)
#define EPTP_MT_UC        0
#define EPTP_MT_WB        6
#define EPTP_WALK_MASK    UINT64_C(0x38)
#define EPTP_WALK_4       UINT64_C(0x18)
#define EPTP_WALK_5       UINT64_C(0x20)
#define EPTP_AD_ENABLE    BIT64(6)
#define EPTP_RESERVED_LOW UINT64_C(0xf80) /* bits 11:7 */

/* Architectural register bits */
#define CR0_PE         BIT64(0)
#define CR0_TS         BIT64(3)
#define CR0_NE         BIT64(5)
#define CR0_WP         BIT64(16)
#define CR0_NW         BIT64(29)
#define CR0_CD         BIT64(30)
#define CR0_PG         BIT64(31)
#define CR4_TSD        BIT64(2)
#define CR4_PAE        BIT64(5)
#define CR4_PCE        BIT64(8)
#define CR4_LA57       BIT64(12)
#define CR4_VMXE       BIT64(13)
#define CR4_SMXE       BIT64(14)
#define CR4_PCIDE      BIT64(17)
#define CR4_OSXSAVE    BIT64(18)
#define CR4_CET        BIT64(23)
#define EFER_LME       BIT64(8)
#define EFER_LMA       BIT64(10)
#define RFLAGS_CF      BIT64(0)
#define RFLAGS_FIXED1  BIT64(1)
#define RFLAGS_PF      BIT64(2)
#define RFLAGS_AF      BIT64(4)
#define RFLAGS_ZF      BIT64(6)
#define RFLAGS_SF      BIT64(7)
#define RFLAGS_TF      BIT64(8)
#define RFLAGS_IF      BIT64(9)
#define RFLAGS_OF      BIT64(11)
#define RFLAGS_RF      BIT64(16)
#define RFLAGS_VM      BIT64(17)
#define DEBUGCTL_BTF   BIT64(1)
#define FEAT_CTL_LOCK  BIT64(0)
#define FEAT_CTL_VMXON BIT64(2)

/* Segment access rights in the VMCS format, SDM 25.4.1 Table 25-2 */
#define AR_TYPE(ar)   ((ar)&0xfu)
#define AR_S          BIT32(4)
#define AR_DPL(ar)    (((ar) >> 5) & 3u)
#define AR_P          BIT32(7)
#define AR_RSVD_11_8  0xf00u
#define AR_L          BIT32(13)
#define AR_DB         BIT32(14)
#define AR_G          BIT32(15)
#define AR_UNUSABLE   BIT32(16)
#define AR_RSVD_31_17 0xfffe0000u
#define SEL_RPL(sel)  ((sel)&3u)
#define SEL_TI        BIT32(2)

/* Interruption information and guest non-register state: include/hvsim/vmx_ctrl.h. */
#define PENDING_DBG_BS   BIT64(14)
#define PENDING_DBG_RSVD UINT64_C(0xfffffffffffeaff0) /* 63:17, 15, 13, 11:4 */

/* ---- Citations ---- */
#define SDM_EXEC        "SDM 27.2.1.1 \"VM-Execution Control Fields\""
#define SDM_EXIT        "SDM 27.2.1.2 \"VM-Exit Control Fields\""
#define SDM_ENTRY       "SDM 27.2.1.3 \"VM-Entry Control Fields\""
#define SDM_HOST_CR     "SDM 27.2.2 \"Checks on Host Control Registers, MSRs, and SSP\""
#define SDM_HOST_SEG    "SDM 27.2.3 \"Checks on Host Segment and Descriptor-Table Registers\""
#define SDM_HOST_ASZ    "SDM 27.2.4 \"Checks Related to Address-Space Size\""
#define SDM_GUEST_CR    "SDM 27.3.1.1 \"Checks on Guest Control Registers, Debug Registers, and MSRs\""
#define SDM_GUEST_SEG   "SDM 27.3.1.2 \"Checks on Guest Segment Registers\""
#define SDM_GUEST_DT    "SDM 27.3.1.3 \"Checks on Guest Descriptor-Table Registers\""
#define SDM_GUEST_RIP   "SDM 27.3.1.4 \"Checks on Guest RIP, RFLAGS, and SSP\""
#define SDM_GUEST_NR    "SDM 27.3.1.5 \"Checks on Guest Non-Register State\""
#define SDM_GUEST_PDPT  "SDM 27.3.1.6 \"Checks on Guest Page-Directory-Pointer-Table Entries\""
#define SDM_MSR_LOAD    "SDM 27.4 \"Loading MSRs\""
#define SDM_BASIC_ENTRY "SDM 27.1 \"Basic VM-Entry Checks\""

/* ---- The store ---- */
struct vmcs {
	uint64_t pa;                /* region's physical address; the key */
	bool launched;              /* launch state: false = clear */
	uint64_t f[VMCS_IDX_COUNT]; /* field values, full width, by enum vmcs_idx */
};

struct vmcs_store {
	size_t count;    /* regions in use, vmcs[0..count) */
	size_t capacity; /* most regions the store may track */
	size_t slots;    /* allocated slots, count <= slots <= capacity */
	size_t hint;     /* where vmcs_store_find_hinted last found a region (checked, a guess) */
	struct vmcs *vmcs;
};

/* The region at pa, or NULL. */
struct vmcs *vmcs_store_find(struct vmcs_store *s, uint64_t pa);
const struct vmcs *vmcs_store_find_const(const struct vmcs_store *s, uint64_t pa);
/* The same, trying the region found last first: the current VMCS, read many times an exit. */
struct vmcs *vmcs_store_find_hinted(struct vmcs_store *s, uint64_t pa);
/* The region at pa, created zeroed (launch state clear) when new; NULL when the store is full or
 * out of memory. Creating a region may move the array: pointers from earlier finds are stale. */
struct vmcs *vmcs_store_get(struct vmcs_store *s, uint64_t pa);
/* Makes room for n regions (n <= capacity); false when out of memory or past capacity. */
bool vmcs_store_reserve(struct vmcs_store *s, size_t n);

/* ---- The logical processor ---- */
/* VMX non-root state the processor keeps between VM entry and VM exit beyond the VMCS and the
 * guest's registers (SDM 26.5, 27.7, 30.2.1). Everything else (RVI/SVI, PML index, ...) lives in
 * the current VMCS, which plays the part of the processor's cached copy while it is active. */
struct vmx_nonroot {
	bool active;           /* between vmx_entry_load and vmx_exit */
	bool mtf_pending;      /* an MTF VM exit is pending on the next instruction boundary */
	bool tpr_exit_pending; /* SDM 27.7.7: TPR-below-threshold exit right after VM entry */
	bool vintr_recognized; /* SDM 30.2.1: a pending virtual interrupt is recognized */
	bool timer_active;     /* VMX-preemption timer counting (SDM 26.5.1) */
	uint8_t timer_shift;   /* timer ticks when TSC bit timer_shift changes (VMX_MISC[4:0]) */
	uint32_t timer_value;  /* value loaded at VM entry, ticks */
	uint64_t timer_start;  /* TSC at VM entry, ticks */
	bool ple_loop;         /* PAUSE-loop exiting: a loop has started */
	uint64_t ple_first;    /* TSC of the first PAUSE of the current loop */
	uint64_t ple_last;     /* TSC of the latest PAUSE at CPL 0 */
};

/* ---- VM-entry memo (vmx_entry_memo.c) ----
 * What the last VM entry's checks on a VMCS read and found, so that the next entry on it runs
 * only the checks whose inputs changed. The checks are taken in units of VMX_MEMO_UNIT
 * consecutive checks of a table. A unit's inputs are the VMCS fields its checks read (its
 * bitmap), the controls every check may consult (the entry context's pin ... entry), the
 * capabilities and mode the entry ran with, and the VMXON pointer. A unit whose checks all passed
 * is not run again while none of its inputs changes, except its checks that read memory, which
 * run at every entry, as do the MSR-load checks. A check is a function of what it reads, so the
 * entry's outcome is the one running every check gives. The memo is emptied when the processor's
 * state is replaced (vmx_cpu_assign, vmx_cpu_clone): a restored machine runs its first entry
 * whole. */
#define VMCS_IDX_WORDS ((VMCS_IDX_COUNT + 63) / 64)
#define VMX_MEMO_UNIT  8u  /* checks per unit */
#define VMX_MEMO_UNITS 32u /* units remembered; checks past them always run */
#define VMX_MEMO_SLOTS 2u  /* VMCSs remembered: a nested guest's vmcs01 and vmcs02 */

struct vmx_memo_unit {
	uint64_t seen[VMCS_IDX_WORDS]; /* the fields its checks read when they last ran */
	uint8_t reads_memory;          /* its checks that read memory then (bit per check) */
	bool passed;                   /* they all passed then */
};

struct vmx_memo_slot {
	uint64_t pa; /* the VMCS; VMX_INVALID_VMCS_PTR when the slot is empty */
	struct vmx_caps caps;
	struct vmx_cpu_mode mode;
	uint64_t vmxon_ptr;
	uint64_t val[VMCS_IDX_COUNT];     /* the fields at the slot's last entry */
	uint64_t watch[VMCS_IDX_WORDS];   /* fields any unit read when it passed, since the claim */
	uint64_t changed[VMCS_IDX_WORDS]; /* watched fields that differ from val at this entry */
	struct vmx_memo_unit unit[VMX_MEMO_UNITS];
};

struct vmx_entry_memo {
	struct vmx_memo_slot slot[VMX_MEMO_SLOTS];
	unsigned last;    /* the slot used last */
	uint64_t skipped; /* checks skipped since the memo was last emptied (tests read it) */
};

struct vmx_cpu {
	struct vmx_caps caps;
	struct vmx_mem mem;
	struct vmx_msr_ops msr;
	struct vmx_msr_read_ops msr_read;
	struct vmcs_store *store;
	struct vmx_cpu_mode mode;
	bool in_vmx;           /* in VMX operation (root or non-root) */
	uint64_t vmxon_ptr;    /* VMXON pointer while in_vmx */
	uint64_t current_vmcs; /* VMX_INVALID_VMCS_PTR or a region in store */
	struct vmx_nonroot nr;
	vmx_step_fn step; /* step log hook, NULL when off */
	void *step_ctx;
	struct vmx_entry_memo memo; /* last: vmx_cpu_clone copies what precedes it */
};

/* ---- Capability helpers (vmx_caps.c) ---- */
/* vmx_caps_field_supported for a field already looked up. */
bool vmx_caps_info_supported(const struct vmx_caps *caps, const struct vmcs_field_info *fi);
/* MSR value by address (0 when absent). */
uint64_t vmx_caps_msr(const struct vmx_caps *caps, uint32_t msr);
/* Allowed-0 (bits that must be 1) and allowed-1 (bits that may be 1) of each control, using the
 * TRUE_ MSRs when IA32_VMX_BASIC[55] (SDM A.2 "Reserved Controls and Default Settings"). */
uint32_t vmx_caps_pin_must1(const struct vmx_caps *caps);
uint32_t vmx_caps_pin_may1(const struct vmx_caps *caps);
uint32_t vmx_caps_proc_must1(const struct vmx_caps *caps);
uint32_t vmx_caps_proc_may1(const struct vmx_caps *caps);
uint32_t vmx_caps_proc2_must1(const struct vmx_caps *caps);
uint32_t vmx_caps_proc2_may1(const struct vmx_caps *caps);
uint64_t vmx_caps_proc3_may1(const struct vmx_caps *caps);
uint32_t vmx_caps_exit_must1(const struct vmx_caps *caps);
uint32_t vmx_caps_exit_may1(const struct vmx_caps *caps);
uint32_t vmx_caps_entry_must1(const struct vmx_caps *caps);
uint32_t vmx_caps_entry_may1(const struct vmx_caps *caps);
/* Which MSRs exist given the values of the others (SDM Appendix A), as a present mask. */
uint32_t vmx_caps_derive_present(const struct vmx_caps *caps);
uint32_t vmx_caps_revision(const struct vmx_caps *caps);
/* True when pa sets bits beyond the physical-address width the VMX structures may use. */
bool vmx_caps_pa_too_wide(const struct vmx_caps *caps, uint64_t pa);
/* Canonical for the profile's linear-address width. */
bool vmx_caps_canonical(const struct vmx_caps *caps, uint64_t la);

/* ---- Check machinery ---- */
struct vmx_fail {
	const char *cond;
	const char *cite;
	const char *item;
	uint64_t qual; /* exit qualification for groups GUEST and MSR */
};

/* A const view of everything a VM-entry check may read. Checks read VMCS fields only through
 * F() and vmx_ctx_f, and memory only through vmx_ctx_read: both record what the running check
 * read, for the VM-entry memo (vmx_entry_memo.c). */
struct vmx_entry_ctx {
	const uint64_t *vmcs_f; /* current VMCS fields by enum vmcs_idx: read with vmx_ctx_f */
	uint64_t *seen;         /* the running check's field bitmap (VMCS_IDX_WORDS words) */
	bool *read_memory;      /* set when the running check reads memory */
	const struct vmx_caps *caps;
	const struct vmx_mem *mem;
	const struct vmx_msr_ops *msr;
	const struct vmx_cpu_mode *mode;
	uint64_t current_vmcs;
	uint64_t vmxon_ptr;
	/* Controls as the processor sees them: secondary/tertiary read as 0 when not activated */
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3;
	uint64_t seen_scratch[VMCS_IDX_WORDS]; /* seen when no memo records the reads */
	bool read_memory_scratch;
};

bool vmx_fail_at(struct vmx_fail *f, const char *cond, const char *cite, uint64_t qual);

/* CC(cond, cite): true (violated) when cond holds, recording its text and citation. */
#define CC(cond, cite)        ((cond) ? vmx_fail_at(f, #cond, (cite), 0) : false)
#define CCQ(cond, cite, qual) ((cond) ? vmx_fail_at(f, #cond, (cite), (qual)) : false)

typedef bool (*vmx_check_fn)(const struct vmx_entry_ctx *c, struct vmx_fail *f);

struct vmx_check {
	struct vmx_check_desc desc;
	vmx_check_fn fn;
};

/* The per-group tables, in SDM order (vmx_check_ctrl.c, vmx_check_host.c, vmx_check_guest*.c,
 * vmx_check_msr.c). */
extern const struct vmx_check vmx_checks_ctrl[];
extern const size_t vmx_checks_ctrl_count;
extern const struct vmx_check vmx_checks_host[];
extern const size_t vmx_checks_host_count;
extern const struct vmx_check vmx_checks_guest[];
extern const size_t vmx_checks_guest_count;
extern const struct vmx_check vmx_checks_guest_seg[];
extern const size_t vmx_checks_guest_seg_count;
extern const struct vmx_check vmx_checks_guest_state[];
extern const size_t vmx_checks_guest_state_count;
extern const struct vmx_check vmx_checks_msr[];
extern const size_t vmx_checks_msr_count;

#define VMX_CHECK(fn, group, cite)           \
	{                                    \
		{#fn, (group), (cite)}, (fn) \
	}

/* The EPTP rules of SDM 27.2.1.1, shared with INVEPT: true when VM entry would reject eptp. */
bool vmx_eptp_invalid(const struct vmx_caps *caps, uint64_t eptp);

/* vmx_inv.c: INVEPT (ept) or INVVPID fails its #UD/#GP(0) checks or its type check (VMfail 28)
 * for the register operand type, before the descriptor is read (SDM 31.3). Pure. */
bool vmx_inv_fails_before_desc(const struct vmx_cpu *cpu, bool ept, uint64_t type);
/* The second compilation of vmx_insn_fails_before_operand and vmx_inv_fails_before_desc
 * (vmx_insn_plain.c). */
bool vmx_plain_insn_fails_before_operand(const struct vmx_cpu *cpu, unsigned insn, uint64_t type);
bool vmx_plain_inv_fails_before_desc(const struct vmx_cpu *cpu, bool ept, uint64_t type);

/* vmx_check_entry compiled a second time from the same source (vmx_entry_plain.c), which fuzzing
 * builds do not coverage-instrument: for evaluating the checks again on a state they already ran
 * on. Same results; the check names and conditions it returns are equal as strings, not as
 * pointers. vmx_plain_vmlaunch, vmx_plain_vmresume and the other instructions' second
 * compilation (vmx_plain_vmxon ...): hvsim/vmx.h. */
void vmx_plain_check_entry(const struct vmx_cpu *cpu, struct vmx_result *res);
/* VMLAUNCH/VMRESUME with known checks (vmx_vmentry_known), from the same second compilation. */
void vmx_plain_vmentry_known(struct vmx_cpu *cpu, bool launch, const struct vmx_result *checks,
                             struct vmx_result *res);

/* VMLAUNCH (launch) or VMRESUME as vmx_vmlaunch/vmx_vmresume, the VM-entry checks' result taken
 * from *checks instead of running them: for a caller that ran them, and reran them in agreement,
 * on inputs byte for byte those of the current state (hv/vmx_replay_exec.c). The instruction's
 * own pre-checks and every state change run as in vmx_vmlaunch. Can't fail. */
void vmx_vmentry_known(struct vmx_cpu *cpu, bool launch, const struct vmx_result *checks,
                       struct vmx_result *res);

/* ---- The VM-entry memo's steps (vmx_entry_memo.c), in the order vmx_entry.c takes them ---- */
void vmx_memo_clear(struct vmx_entry_memo *m);
/* The slot for an entry on the VMCS at pa seen through c; nothing in it is known where the
 * controls, capabilities, mode or VMXON pointer differ from its last entry's. */
struct vmx_memo_slot *vmx_memo_open(struct vmx_entry_memo *m, const struct vmx_entry_ctx *c,
                                    uint64_t pa);
/* Unit u's checks all passed at their last run and none of the fields they read has changed. */
bool vmx_memo_known(const struct vmx_memo_slot *s, unsigned u);
/* Unit u ran and every check of it passed. */
void vmx_memo_passed(struct vmx_memo_slot *s, unsigned u);
/* Units u and later are not known any more (a check of unit u failed); u may be past the last. */
void vmx_memo_forget_from(struct vmx_memo_slot *s, unsigned u);
/* The entry's inputs become the slot's. */
void vmx_memo_close(struct vmx_memo_slot *s, const struct vmx_entry_ctx *c);

/* Builds the view of the VMCS v for cpu. */
void vmx_entry_ctx_init(struct vmx_entry_ctx *c, const struct vmx_cpu *cpu, const struct vmcs *v);
/* A VMCS field of the checked VMCS, recorded in the running check's bitmap: F(GUEST_RIP). */
static inline uint64_t vmx_ctx_f(const struct vmx_entry_ctx *c, unsigned idx)
{
	c->seen[idx / 64] |= UINT64_C(1) << (idx % 64);
	return c->vmcs_f[idx];
}
#define F(name) vmx_ctx_f(c, VMCS_IDX_##name)

/* Reads len bytes of memory at pa for a check; false when the memory cannot be read. */
static inline bool vmx_ctx_read(const struct vmx_entry_ctx *c, uint64_t pa, void *buf, size_t len)
{
	*c->read_memory = true;
	return c->mem->read && c->mem->read(c->mem->ctx, pa, buf, len);
}

/* Small shared helpers for checks */
static inline uint32_t vmx_intr_info(const struct vmx_entry_ctx *c)
{
	return (uint32_t)F(VM_ENTRY_INTR_INFO_FIELD);
}

/* True when VM entry injects an event of the given type (SDM 25.8.3). */
static inline bool vmx_injecting(const struct vmx_entry_ctx *c, unsigned type)
{
	uint32_t info = vmx_intr_info(c);

	return (info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == type;
}

static inline bool vmx_ia32e_guest(const struct vmx_entry_ctx *c)
{
	return (c->entry & ENTRY_IA32E_MODE_GUEST) != 0;
}

static inline bool vmx_unrestricted(const struct vmx_entry_ctx *c)
{
	return (c->proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
}

/* PAT value valid for WRMSR: every byte UC(0), WC(1), WT(4), WP(5), WB(6) or UC-(7). Byte-wise
 * without a loop: no byte above 7 (bits 7:3 clear), and none of 2 or 3 (bit 1 set, bit 2 clear). */
#define PAT_BYTES_ABOVE_7 UINT64_C(0xf8f8f8f8f8f8f8f8)
#define PAT_BYTES_BIT0    UINT64_C(0x0101010101010101)
static inline bool vmx_pat_valid(uint64_t pat)
{
	return !(pat & PAT_BYTES_ABOVE_7) && !((pat >> 1) & ~(pat >> 2) & PAT_BYTES_BIT0);
}

static inline bool vmx_pa_bad_page(const struct vmx_caps *caps, uint64_t pa)
{
	return (pa & 0xfff) != 0 || vmx_caps_pa_too_wide(caps, pa);
}

/* ---- Runtime: VMX non-root operation, VM entry loading, VM exits, APICv (part 2) ---- */

#define SDM_NR_PRIO    "SDM 26.1.1 \"Relative Priority of Faults and VM Exits\""
#define SDM_NR_UNCOND  "SDM 26.1.2 \"Instructions That Cause VM Exits Unconditionally\""
#define SDM_NR_COND    "SDM 26.1.3 \"Instructions That Cause VM Exits Conditionally\""
#define SDM_NR_OTHER   "SDM 26.2 \"Other Causes of VM Exits\""
#define SDM_NR_CHANGES "SDM 26.3 \"Changes to Instruction Behavior in VMX Non-Root Operation\""
#define SDM_NR_TIMER   "SDM 26.5.1 \"VMX-Preemption Timer\""
#define SDM_NR_MTF     "SDM 26.5.2 \"Monitor Trap Flag\""
#define SDM_LOAD_NR    "SDM 27.3.2.5 \"Updating Non-Register State\""
#define SDM_INJECT     "SDM 27.6.1 \"Vectored-Event Injection\""
#define SDM_EXIT_INFO  "SDM 28.2.1 \"Basic VM-Exit Information\""
#define SDM_APIC_TPR   "SDM 30.1.2 \"TPR Virtualization\""
#define SDM_APIC_PPR   "SDM 30.1.3 \"PPR Virtualization\""
#define SDM_APIC_EOI   "SDM 30.1.4 \"EOI Virtualization\""
#define SDM_APIC_SIPI  "SDM 30.1.5 \"Self-IPI Virtualization\""
#define SDM_APIC_EVAL  "SDM 30.2.1 \"Evaluation of Pending Virtual Interrupts\""
#define SDM_APIC_DLVR  "SDM 30.2.2 \"Virtual-Interrupt Delivery\""
#define SDM_APIC_CR8   "SDM 30.3 \"Virtualizing CR8-Based TPR Accesses\""
#define SDM_APIC_READ  "SDM 30.4.2 \"Virtualizing Reads from the APIC-Access Page\""
#define SDM_APIC_WRITE "SDM 30.4.3 \"Virtualizing Writes to the APIC-Access Page\""
#define SDM_APIC_MSR   "SDM 30.5 \"Virtualizing MSR-Based APIC Accesses\""
#define SDM_APIC_PI    "SDM 30.6 \"Posted-Interrupt Processing\""

/* The current VMCS, or NULL (vmx_cpu.c). */
struct vmcs *vmx_current(struct vmx_cpu *cpu);
const struct vmcs *vmx_current_const(const struct vmx_cpu *cpu);

/* The execution, exit and entry controls of a VMCS as the processor applies them: secondary and
 * tertiary controls read as 0 when not activated (SDM 25.6.2). */
struct vmx_ctls {
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3;
	uint64_t seen_scratch[VMCS_IDX_WORDS]; /* seen when no memo records the reads */
	bool read_memory_scratch;
};
void vmx_ctls_of(const struct vmcs *v, struct vmx_ctls *c);

/* Field of VMCS v by name: VF(v, GUEST_RIP). */
#define VF(v, name) ((v)->f[VMCS_IDX_##name])

/* Emits one step through the hook (no-op without one). */
void vmx_step_emit(const struct vmx_cpu *cpu, const char *name, const char *cite, uint32_t vector,
                   uint64_t value);
/* la with bits 63:N copied from bit N-1 for the profile's linear width N (SDM 28.5.1). */
uint64_t vmx_canonicalize(const struct vmx_caps *caps, uint64_t la);
/* CPL of a guest: SS.DPL (SDM 27.3.2.2). */
unsigned vmx_guest_cpl(const struct cpu_state *g);
/* 64-bit mode: IA32_EFER.LMA and CS.L. */
bool vmx_guest_64bit(const struct cpu_state *g);

/* Memory helpers over the processor's vmx_mem (false or all ones when unbacked). */
bool vmx_mem_read(const struct vmx_cpu *cpu, uint64_t pa, void *buf, size_t len);
bool vmx_mem_write(const struct vmx_cpu *cpu, uint64_t pa, const void *buf, size_t len);

/* An MSR-list entry rule shared by the VM-exit store and load lists (SDM 28.4, 28.6): true
 * when the entry's MSR may not be stored/loaded. */
bool vmx_msr_list_store_bad(const struct vmx_cpu *cpu, uint64_t lo);
bool vmx_msr_list_load_bad(const struct vmx_cpu *cpu, uint64_t lo, uint64_t value);

/* Reserved bits of a present PAE PDPTE: 2:1, 8:5 and 63:MAXPHYADDR (SDM 4.4.1). */
static inline bool vmx_pae_pdpte_bad(const struct vmx_caps *caps, uint64_t e)
{
	return (e & 1) &&
	       ((e & UINT64_C(0x1e6)) || (caps->maxphyaddr < 64 && (e >> caps->maxphyaddr)));
}

/* Result builders (vmx_nonroot_insn.c). */
void vmx_op_exit(struct vmx_op_result *out, uint32_t reason, uint32_t insn_len, uint64_t qual);
void vmx_op_fault(const struct vmx_cpu *cpu, struct vmx_op_result *out, uint8_t vector,
                  bool has_error);
void vmx_op_done(struct vmx_op_result *out);
void vmx_op_done_value(struct vmx_op_result *out, uint64_t value);

/* CR accesses (vmx_nonroot_cr.c). */
bool vmx_cr_op(struct vmx_cpu *cpu, const struct guest_op *op, const struct cpu_state *g,
               struct vmx_op_result *out);
/* APIC-access page and x2APIC MSR virtualization (vmx_apicv_access.c): true when they handled
 * the operation (out filled). */
bool vmx_apic_access_op(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out);
bool vmx_x2apic_rdmsr(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out);
bool vmx_x2apic_wrmsr(struct vmx_cpu *cpu, const struct guest_op *op, struct vmx_op_result *out);
/* The TPR-threshold exit as TPR virtualization raises it (trap-like, qualification 0). */
void vmx_tpr_exit_info(struct vmx_exit_info *exit);
/* VM exit, second half (vmx_exit_host.c): SDM 28.4 MSR-store list (false: abort 1), SDM 28.7
 * abort, SDM 28.5 host state and SDM 28.6 MSR-load list checks (aborts 2, 4, 6 in fx). */
bool vmx_exit_store_msrs(struct vmx_cpu *cpu, const struct vmcs *v, struct vmx_exit_effects *fx);
void vmx_exit_abort(struct vmx_cpu *cpu, const struct vmcs *v, uint32_t indicator,
                    struct vmx_exit_effects *fx);
void vmx_exit_load_host(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                        const struct vmx_exit_info *x, const struct cpu_state *g,
                        struct vmx_exit_effects *fx);
/* The event a VM entry injects (vmx_event_inject.c): true when the entry is vectoring; a pending
 * MTF VM exit (type 7, vector 0) sets *pending_mtf instead. */
bool vmx_entry_injection(const struct vmcs *v, struct vmx_event *ev, bool *pending_mtf);

#endif
