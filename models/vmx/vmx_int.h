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
#define CR0_NE         BIT64(5)
#define CR0_WP         BIT64(16)
#define CR0_PG         BIT64(31)
#define CR4_PAE        BIT64(5)
#define CR4_VMXE       BIT64(13)
#define CR4_PCIDE      BIT64(17)
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
#define PENDING_DBG_BS           BIT64(14)
#define PENDING_DBG_RSVD         UINT64_C(0xfffffffffffeaff0) /* 63:17, 15, 13, 11:4 */

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
	size_t capacity; /* allocated slots */
	struct vmcs *vmcs;
};

/* The region at pa, or NULL. */
struct vmcs *vmcs_store_find(struct vmcs_store *s, uint64_t pa);
const struct vmcs *vmcs_store_find_const(const struct vmcs_store *s, uint64_t pa);
/* The region at pa, created zeroed (launch state clear) when new; NULL when the store is full. */
struct vmcs *vmcs_store_get(struct vmcs_store *s, uint64_t pa);

/* ---- The logical processor ---- */
struct vmx_cpu {
	struct vmx_caps caps;
	struct vmx_mem mem;
	struct vmx_msr_ops msr;
	struct vmcs_store *store;
	struct vmx_cpu_mode mode;
	bool in_vmx;           /* in VMX operation (root: non-root is the engine's business) */
	uint64_t vmxon_ptr;    /* VMXON pointer while in_vmx */
	uint64_t current_vmcs; /* VMX_INVALID_VMCS_PTR or a region in store */
};

/* ---- Capability helpers (vmx_caps.c) ---- */
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

/* A const view of everything a VM-entry check may read. */
struct vmx_entry_ctx {
	const uint64_t *f; /* current VMCS fields by enum vmcs_idx */
	const struct vmx_caps *caps;
	const struct vmx_mem *mem;
	const struct vmx_msr_ops *msr;
	const struct vmx_cpu_mode *mode;
	uint64_t current_vmcs;
	uint64_t vmxon_ptr;
	/* Controls as the processor sees them: secondary/tertiary read as 0 when not activated */
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3;
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

/* Builds the view of the VMCS v for cpu. */
void vmx_entry_ctx_init(struct vmx_entry_ctx *c, const struct vmx_cpu *cpu, const struct vmcs *v);
/* A VMCS field of the checked VMCS: F(GUEST_RIP). */
#define F(name) (c->f[VMCS_IDX_##name])

/* Small shared helpers for checks */
static inline uint32_t vmx_intr_info(const struct vmx_entry_ctx *c)
{
	return (uint32_t)c->f[VMCS_IDX_VM_ENTRY_INTR_INFO_FIELD];
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

/* PAT value valid for WRMSR: every byte UC(0), WC(1), WT(4), WP(5), WB(6) or UC-(7). */
static inline bool vmx_pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (unsigned)(pat >> (8 * i)) & 0xff;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static inline bool vmx_pa_bad_page(const struct vmx_caps *caps, uint64_t pa)
{
	return (pa & 0xfff) != 0 || vmx_caps_pa_too_wide(caps, pa);
}

#endif
