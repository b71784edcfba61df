/* Intel TDX module model: the SEAMCALL interface a host VMM programs (module initialization, TD
 * build, Secure-EPT page management, TD entry, teardown) and the TDCALL interface a TD vCPU uses,
 * over a simulated physical memory of 4-KiB pages with one PAMT entry per page, 1-8 logical
 * processors in 1-4 packages. Names, leaf numbers, status codes and metadata field identifiers
 * follow the TDX Module ABI specification (docs/spec-versions.md); docs/tdx-model.md says what is
 * modelled and what is left out. A model is plain state without pointers: no globals, no host
 * time; every call runs to completion (calls are atomic), and every outcome is a TDX status in RAX,
 * never an abort. */
#ifndef HVSIM_TDX_H
#define HVSIM_TDX_H

#include <hvsim/base.h>

struct tdx_module;

/* ---- Limits of the model ---- */
#define TDX_PAGE_SIZE       4096u
#define TDX_LP_MAX          8u   /* logical processors */
#define TDX_PKG_MAX         4u   /* packages */
#define TDX_MEM_PAGES_MAX   512u /* simulated physical memory, 4-KiB pages from HPA 0 */
#define TDX_TD_MAX          8u   /* TDs whose TDR page is live at once */
#define TDX_VCPU_MAX        8u   /* vCPUs per TD (TD_PARAMS.MAX_VCPUS the model uses) */
#define TDX_TDCX_MAX        8u   /* TDCX pages of a TDCS, TDVPX pages of a TDVPS */
#define TDX_HKID_MAX        64u  /* private HKIDs */
#define TDX_HKID_SHIFT      40u  /* HPA bits 51:40 carry the KeyID (the model's MAXPA is 52) */
#define TDX_GPAW            48u  /* guest physical address width; bit 47 is the shared bit */
#define TDX_TDMR_INIT_PAGES 64u  /* pages TDH.SYS.TDMR.INIT initializes per call */

/* ---- SEAMCALL leaves (TDX ABI "SEAMCALL Instruction Leaf Functions"); RAX[15:0] = leaf,
 * RAX[23:16] = version ---- */
enum tdx_seamcall_leaf {
	TDH_VP_ENTER = 0,
	TDH_MNG_ADDCX = 1,
	TDH_MEM_PAGE_ADD = 2,
	TDH_MEM_SEPT_ADD = 3,
	TDH_VP_ADDCX = 4,
	TDH_MEM_PAGE_AUG = 6,
	TDH_MEM_RANGE_BLOCK = 7,
	TDH_MNG_KEY_CONFIG = 8,
	TDH_MNG_CREATE = 9,
	TDH_VP_CREATE = 10,
	TDH_MNG_RD = 11,
	TDH_MR_EXTEND = 16,
	TDH_MR_FINALIZE = 17,
	TDH_VP_FLUSH = 18,
	TDH_MNG_VPFLUSHDONE = 19,
	TDH_MNG_KEY_FREEID = 20,
	TDH_MNG_INIT = 21,
	TDH_VP_INIT = 22,
	TDH_VP_RD = 26,
	TDH_PHYMEM_PAGE_RECLAIM = 28,
	TDH_MEM_PAGE_REMOVE = 29,
	TDH_SYS_KEY_CONFIG = 31,
	TDH_SYS_INIT = 33,
	TDH_SYS_RD = 34,
	TDH_SYS_LP_INIT = 35,
	TDH_SYS_TDMR_INIT = 36,
	TDH_SYS_RDALL = 37,
	TDH_MEM_TRACK = 38,
	TDH_MEM_RANGE_UNBLOCK = 39,
	TDH_PHYMEM_CACHE_WB = 40,
	TDH_PHYMEM_PAGE_WBINVD = 41,
	TDH_SYS_CONFIG = 45,
};

/* ---- TDCALL leaves (TDX ABI "TDCALL Instruction Leaf Functions") ---- */
enum tdx_tdcall_leaf {
	TDG_VP_VMCALL = 0,
	TDG_VP_INFO = 1,
	TDG_VP_VEINFO_GET = 3,
	TDG_MEM_PAGE_ACCEPT = 6,
	TDG_VM_RD = 7,
};

/* ---- Completion status (TDX ABI "Completion Status Codes"): bit 63 error, bit 62
 * non-recoverable, bits 47:32 class and code, bits 31:0 details (the operand id) ---- */
#define TDX_SUCCESS                     UINT64_C(0x0000000000000000)
#define TDX_OPERAND_INVALID             UINT64_C(0xC000010000000000)
#define TDX_OPERAND_ADDR_RANGE_ERROR    UINT64_C(0xC000010100000000)
#define TDX_OPERAND_BUSY                UINT64_C(0x8000020000000000)
#define TDX_PREVIOUS_TLB_EPOCH_BUSY     UINT64_C(0x8000020100000000)
#define TDX_PAGE_METADATA_INCORRECT     UINT64_C(0xC000030000000000)
#define TDX_TD_ASSOCIATED_PAGES_EXIST   UINT64_C(0xC000040000000000)
#define TDX_SYS_INIT_NOT_PENDING        UINT64_C(0xC000050000000000)
#define TDX_SYS_LP_INIT_NOT_DONE        UINT64_C(0xC000050200000000)
#define TDX_SYS_LP_INIT_DONE            UINT64_C(0xC000050300000000)
#define TDX_SYS_NOT_READY               UINT64_C(0xC000050500000000)
#define TDX_SYS_KEY_CONFIG_NOT_PENDING  UINT64_C(0xC000050700000000)
#define TDX_SYS_LP_INIT_NOT_PENDING     UINT64_C(0xC000050B00000000)
#define TDX_SYS_CONFIG_NOT_PENDING      UINT64_C(0xC000050C00000000)
#define TDX_TDCS_NOT_ALLOCATED          UINT64_C(0xC000060600000000)
#define TDX_LIFECYCLE_STATE_INCORRECT   UINT64_C(0xC000060700000000)
#define TDX_OP_STATE_INCORRECT          UINT64_C(0xC000060800000000)
#define TDX_NO_VCPUS                    UINT64_C(0xC000060900000000)
#define TDX_TDCX_NUM_INCORRECT          UINT64_C(0xC000061000000000)
#define TDX_VCPU_STATE_INCORRECT        UINT64_C(0xC000070000000000)
#define TDX_VCPU_ASSOCIATED             UINT64_C(0x8000070100000000)
#define TDX_VCPU_NOT_ASSOCIATED         UINT64_C(0x8000070200000000)
#define TDX_NO_VALID_VE_INFO            UINT64_C(0xC000070400000000)
#define TDX_MAX_VCPUS_EXCEEDED          UINT64_C(0xC000070500000000)
#define TDX_TD_KEYS_NOT_CONFIGURED      UINT64_C(0x8000081000000000)
#define TDX_KEY_CONFIGURED              UINT64_C(0x0000081500000000)
#define TDX_WBCACHE_NOT_COMPLETE        UINT64_C(0x8000081700000000)
#define TDX_HKID_NOT_FREE               UINT64_C(0xC000082000000000)
#define TDX_NO_HKID_READY_TO_WBCACHE    UINT64_C(0x0000082100000000)
#define TDX_FLUSHVP_NOT_DONE            UINT64_C(0x8000082400000000)
#define TDX_TDMR_ALREADY_INITIALIZED    UINT64_C(0x00000A0300000000)
#define TDX_INVALID_TDMR                UINT64_C(0xC0000A0000000000)
#define TDX_TDMR_OUTSIDE_CMRS           UINT64_C(0xC0000A0200000000)
#define TDX_INVALID_RESERVED_IN_TDMR    UINT64_C(0xC0000A2000000000)
#define TDX_EPT_WALK_FAILED             UINT64_C(0xC0000B0000000000)
#define TDX_EPT_ENTRY_NOT_PRESENT       UINT64_C(0xC0000B0300000000)
#define TDX_GPA_RANGE_NOT_BLOCKED       UINT64_C(0xC0000B0600000000)
#define TDX_GPA_RANGE_ALREADY_BLOCKED   UINT64_C(0x00000B0700000000)
#define TDX_TLB_TRACKING_NOT_DONE       UINT64_C(0xC0000B0800000000)
#define TDX_PAGE_ALREADY_ACCEPTED       UINT64_C(0x00000B0A00000000)
#define TDX_EPT_ENTRY_STATE_INCORRECT   UINT64_C(0xC0000B0D00000000)
#define TDX_METADATA_FIELD_ID_INCORRECT UINT64_C(0xC0000C0000000000)
#define TDX_METADATA_FIELD_NOT_READABLE UINT64_C(0xC0000C0200000000)
/* Linux's software-defined codes (class 0xFF, never produced by a TDX module): the instruction
 * faulted. SEAMCALL from an LP that is inside a TD, and TDCALL from an LP that is not, raise #UD.
 */
#define TDX_SW_UD UINT64_C(0x8000FF0000000006)

#define TDX_STATUS_MASK    UINT64_C(0xFFFFFFFF00000000) /* class and code, without details */
#define TDX_STATUS_ERROR   (UINT64_C(1) << 63)
#define TDX_STATUS_NON_REC (UINT64_C(1) << 62)

/* Operand ids in the details field (TDX ABI "Operand IDs") */
enum tdx_operand_id {
	TDX_OPERAND_ID_RAX = 0,
	TDX_OPERAND_ID_RCX = 1,
	TDX_OPERAND_ID_RDX = 2,
	TDX_OPERAND_ID_R8 = 8,
	TDX_OPERAND_ID_R9 = 9,
	TDX_OPERAND_ID_TDR = 128,
	TDX_OPERAND_ID_TDCS = 144,
	TDX_OPERAND_ID_TDVPS = 145,
	TDX_OPERAND_ID_SEPT_TREE = 146,
	TDX_OPERAND_ID_TD_EPOCH = 169,
	TDX_OPERAND_ID_KOT = 186,
};

/* ---- PAMT page types (TDX base spec "Physical Address Metadata Table") ---- */
enum tdx_page_type {
	PT_NDA = 0,  /* not assigned to any TD: host memory, free for the module to take */
	PT_RSVD = 1, /* reserved in a TDMR (holds the PAMT) */
	PT_REG = 3,  /* a TD private page */
	PT_TDR = 4,
	PT_TDCX = 5, /* a TDCS page, or a TDVPS page other than the TDVPR (TDVPX) */
	PT_TDVPR = 6,
	PT_EPT = 8, /* a Secure-EPT page */
};

/* ---- State encodings ---- */
enum tdx_sys_state { TDX_SYSINIT_PENDING = 0, TDX_SYSINIT_DONE, TDX_SYSCONFIG_DONE, TDX_SYS_READY };
enum tdx_td_lifecycle { TD_HKID_ASSIGNED = 0, TD_KEYS_CONFIGURED, TD_BLOCKED, TD_TEARDOWN };
enum tdx_op_state { TDX_OP_UNINITIALIZED = 0, TDX_OP_INITIALIZED, TDX_OP_RUNNABLE };
#define TDX_VCPU_UNINITIALIZED 0x0u
#define TDX_VCPU_READY         0x2u

/* Secure-EPT leaf states the model keeps for a 4-KiB private page (TDX base spec "Secure EPT
 * Entry States") */
enum tdx_sept_state {
	SEPT_FREE = 0,
	SEPT_MAPPED,
	SEPT_PENDING,
	SEPT_BLOCKED,
	SEPT_PENDING_BLOCKED
};

/* ---- Metadata field identifiers (TDX ABI "Metadata Fields"; bit 63 is ignored) ---- */
#define TDX_MD_ID(id)              ((id) & ~(UINT64_C(1) << 63)) /* the identifier without the ignored bit */
#define TDX_MD_SYS_NUM_PKGS        UINT64_C(0x0000000200000000)
#define TDX_MD_SYS_MINOR_VERSION   UINT64_C(0x0800000100000003)
#define TDX_MD_SYS_MAJOR_VERSION   UINT64_C(0x0800000100000004)
#define TDX_MD_SYS_MAX_TDMRS       UINT64_C(0x9100000100000008)
#define TDX_MD_SYS_TDR_BASE_SIZE   UINT64_C(0x9800000100000000)
#define TDX_MD_SYS_TDCS_BASE_SIZE  UINT64_C(0x9800000100000100)
#define TDX_MD_SYS_TDVPS_BASE_SIZE UINT64_C(0x9800000100000200)
#define TDX_MD_TD_CHLDCNT          UINT64_C(0x8010000300000004)
#define TDX_MD_TD_LIFECYCLE_STATE  UINT64_C(0x8010000200000005)
#define TDX_MD_TD_HKID             UINT64_C(0x8110000100000001)
#define TDX_MD_TD_NUM_VCPUS        UINT64_C(0x9010000200000001)
#define TDX_MD_TD_OP_STATE         UINT64_C(0x9010000200000004)
#define TDX_MD_TD_ATTRIBUTES       UINT64_C(0x1110000300000000)
#define TDX_MD_TD_MAX_VCPUS        UINT64_C(0x1110000200000002)
#define TDX_MD_TD_GPAW             UINT64_C(0x1110000000000003)
#define TDX_MD_TD_EPOCH            UINT64_C(0x9210000300000000)
#define TDX_MD_TD_MRTD             UINT64_C(0x1310000300000000)
#define TDX_MD_VP_STATE            UINT64_C(0xA020000000000000)
#define TDX_MD_VP_INDEX            UINT64_C(0xA020000200000002)
#define TDX_MD_VP_ASSOC_LPID       UINT64_C(0xA020000200000004)

/* VM-exit reasons a TD exit reports in RAX[15:0] (SDM Appendix C) */
#define TDX_EXIT_EXTERNAL_INTERRUPT 1u
#define TDX_EXIT_EPT_VIOLATION      48u
#define TDX_EXIT_TDCALL             77u

/* The registers SEAMCALL and TDCALL read and write. */
struct tdx_regs {
	uint64_t rax, rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15;
};

struct tdx_config {
	unsigned lps;       /* logical processors, 1..TDX_LP_MAX */
	unsigned packages;  /* 1..TDX_PKG_MAX, at most lps; LP i is in package i * packages / lps */
	unsigned mem_pages; /* simulated memory, 16..TDX_MEM_PAGES_MAX pages from HPA 0 */
	unsigned hkid_first;  /* first private HKID (1..4095) */
	unsigned hkid_count;  /* private HKIDs, 1..TDX_HKID_MAX */
	unsigned tdcs_pages;  /* TDCS_BASE_SIZE in pages (TDCX pages TDH.MNG.ADDCX adds), 1..8 */
	unsigned tdvps_pages; /* TDVPS_BASE_SIZE in pages (TDVPR + TDVPX pages), 1..8 */
};

/* A model with every LP uninitialized and the module in SYSINIT_PENDING. Returns HVSIM_E_INPUT
 * (err says which field) for a configuration out of range, HVSIM_E_NOMEM. */
enum hvsim_status tdx_create(const struct tdx_config *cfg, struct tdx_module **out,
                             struct hvsim_error *err);
/* Frees m (NULL is fine). Can't fail. */
void tdx_destroy(struct tdx_module *m);
/* Puts m back in its initial state under configuration cfg (no allocation: the fuzzers' reset).
 * HVSIM_E_INPUT for a configuration out of range (m is then unchanged). */
enum hvsim_status tdx_reset(struct tdx_module *m, const struct tdx_config *cfg,
                            struct hvsim_error *err);
/* Copies src's whole state into dst (created with any configuration). Can't fail. */
void tdx_copy(struct tdx_module *dst, const struct tdx_module *src);

/* Executes SEAMCALL on LP lp with the leaf and operands in r; r->rax becomes the completion status
 * and output registers are written as the leaf defines. A SEAMCALL from an LP inside a TD gives
 * TDX_SW_UD. TDH.VP.ENTER that succeeds leaves the LP in the TD (tdx_lp_in_td) with r->rax =
 * TDX_SUCCESS; the SEAMCALL's real return, the TD exit, comes from tdx_tdcall or tdx_td_exit. Can't
 * fail: lp >= the configured count gives TDX_SW_UD. */
void tdx_seamcall(struct tdx_module *m, unsigned lp, struct tdx_regs *r);
/* Executes TDCALL in the TD vCPU running on LP lp; guest->rax becomes the status. Returns true when
 * the TDCALL caused a TD exit (TDG.VP.VMCALL, an EPT violation on TDG.MEM.PAGE.ACCEPT): host then
 * holds what TDH.VP.ENTER returns (RAX = TDX_SUCCESS | exit reason, RCX, RDX, R8, R10-R15) and the
 * LP is back in the host. TDCALL from an LP that is not in a TD gives TDX_SW_UD. Can't fail. */
bool tdx_tdcall(struct tdx_module *m, unsigned lp, struct tdx_regs *guest, struct tdx_regs *host);
/* An asynchronous TD exit of the vCPU running on LP lp (an external interrupt arrived): host gets
 * TDX_SUCCESS | TDX_EXIT_EXTERNAL_INTERRUPT. False (host untouched) when lp is not in a TD. */
bool tdx_td_exit(struct tdx_module *m, unsigned lp, struct tdx_regs *host);

/* ---- Queries (pure) ---- */
/* True when lp is inside a TD (between TDH.VP.ENTER and the TD exit). Can't fail. */
bool tdx_lp_in_td(const struct tdx_module *m, unsigned lp);
/* The PAMT entry of the page at hpa: its type, and the HPA of its owner's TDR (0 for none). False
 * for an address outside memory. */
bool tdx_page_info(const struct tdx_module *m, uint64_t hpa, enum tdx_page_type *pt,
                   uint64_t *owner_tdr);
/* The module's initialization state. Can't fail. */
enum tdx_sys_state tdx_sys_state(const struct tdx_module *m);
/* True when status (RAX after a call) is one of the TDX ABI statuses this model returns, with
 * details of at most 16 bits (an operand id, an EPT level, a TD exit's exit reason); TDX_SW_UD
 * counts as known. */
bool tdx_status_known(uint64_t status);
/* The status name ("TDX_OPERAND_INVALID") of status's class and code, or "?". Can't fail. */
const char *tdx_status_name(uint64_t status);
/* The leaf name ("TDH.MNG.CREATE") of a SEAMCALL leaf number, or "?". Can't fail. */
const char *tdx_seamcall_name(uint64_t leaf);

/* The model's own invariants: PAMT types and owners consistent with the TD table, per-TD child
 * counts, Secure-EPT entries unique per GPA, HKID ownership (KOT), vCPU association. Returns true
 * when all hold; otherwise false with the first broken one in why (cap bytes). Pure. */
bool tdx_check(const struct tdx_module *m, char *why, size_t cap);

#endif
