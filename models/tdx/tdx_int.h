/* Private state of the TDX module model (include/hvsim/tdx.h). One flat struct without pointers,
 * so tdx_copy is a memcpy.
 *
 * Invariants (tdx_check, tdx_check.c):
 * - PAMT: every page outside the TDMR, or not yet initialized by TDH.SYS.TDMR.INIT, is PT_NDA;
 *   PT_RSVD pages are exactly the TDMR's reserved area. A page of any other type names a live TD
 *   slot (its owner) and the TD's child count equals its non-TDR pages ("a page is owned once").
 * - PT_REG pages carry the GPA they map and a Secure-EPT leaf state; no two pages of one TD map
 *   the same GPA. PT_EPT pages carry their level (1..3) and the GPA range base they cover; no two
 *   pages of one TD cover the same (level, base). The root (level 4) lives in the TDCS.
 * - KOT: an HKID is ASSIGNED or FLUSHED to exactly one TD in HKID_ASSIGNED..TD_BLOCKED, FREE
 *   otherwise; the global private HKID is RESERVED.
 * - A vCPU is associated with at most one LP; an LP runs at most one vCPU, which is associated
 *   with it. */
#ifndef HVSIM_MODELS_TDX_INT_H
#define HVSIM_MODELS_TDX_INT_H

#include <hvsim/tdx.h>

#include <stddef.h>

#define TDX_NONE 0xffu /* no TD slot / vCPU / LP */

/* The model's owner encoding in a PAMT entry: the TD slot, not the TDR address (tdx_page_info
 * converts). */
struct tdx_pamt {
	uint8_t pt;      /* enum tdx_page_type */
	uint8_t td;      /* owning TD slot (PT_TDR: its own), TDX_NONE for PT_NDA/PT_RSVD */
	uint8_t vcpu;    /* PT_TDVPR, and PT_TDCX of a TDVPS: the vCPU slot; else TDX_NONE */
	uint8_t state;   /* PT_REG: enum tdx_sept_state; PT_EPT: the Secure-EPT level 1..3 */
	uint64_t gpa;    /* PT_REG: the GPA mapped; PT_EPT: base of the GPA range covered */
	uint64_t bepoch; /* PT_REG blocked: the TD epoch when TDH.MEM.RANGE.BLOCK ran */
};

enum tdx_kot_state { KOT_HKID_FREE = 0, KOT_HKID_ASSIGNED, KOT_HKID_FLUSHED, KOT_HKID_RESERVED };

struct tdx_vcpu {
	bool used;
	uint8_t state;          /* TDX_VCPU_UNINITIALIZED, TDX_VCPU_READY */
	uint8_t tdvpx;          /* TDVPX pages added (TDH.VP.ADDCX) */
	uint8_t assoc_lp;       /* LP the vCPU is associated with, TDX_NONE */
	uint32_t tdvpr;         /* page number of its TDVPR */
	uint32_t index;         /* VCPU_INDEX, assigned by TDH.VP.INIT */
	uint64_t entered_epoch; /* TD epoch when it last entered (TLB tracking) */
};

struct tdx_td {
	bool used;
	uint8_t lifecycle; /* enum tdx_td_lifecycle */
	uint8_t op_state;  /* enum tdx_op_state */
	uint8_t tdcx;      /* TDCX pages added */
	uint8_t pkg_keyed; /* packages whose TDH.MNG.KEY.CONFIG ran (bitmap) */
	uint16_t hkid;
	uint32_t tdr;       /* page number of the TDR */
	uint32_t chldcnt;   /* pages owned besides the TDR */
	uint32_t num_vcpus; /* vCPUs initialized (TDH.VP.INIT) */
	uint64_t epoch;     /* TD_EPOCH, incremented by TDH.MEM.TRACK */
	uint64_t mrtd;      /* a 64-bit fold of what TDH.MEM.PAGE.ADD and TDH.MR.EXTEND measured */
	struct tdx_vcpu vcpu[TDX_VCPU_MAX];
};

struct tdx_lp {
	bool init;   /* TDH.SYS.LP.INIT done */
	uint8_t pkg; /* package */
	uint8_t
	    in_td; /* TD slot whose vCPU runs here (between TDH.VP.ENTER and the exit), TDX_NONE */
	uint8_t in_vcpu; /* that vCPU's slot */
};

struct tdx_kot {
	uint8_t state;   /* enum tdx_kot_state */
	uint8_t td;      /* TD slot holding it, TDX_NONE */
	uint8_t wb_pkgs; /* packages whose TDH.PHYMEM.CACHE.WB ran since the HKID was flushed */
};

struct tdx_module {
	struct tdx_config cfg;
	uint8_t sys_state;    /* enum tdx_sys_state */
	uint8_t pkg_keyed;    /* packages whose TDH.SYS.KEY.CONFIG ran (bitmap) */
	uint16_t global_hkid; /* TDX global private HKID (TDH.SYS.CONFIG) */
	uint32_t tdmr_base;   /* the TDMR: first page */
	uint32_t tdmr_pages;  /* its size in pages (0: not configured) */
	uint32_t rsvd_pages;  /* its reserved area (PAMT), the first pages */
	uint32_t tdmr_done;   /* pages TDH.SYS.TDMR.INIT initialized, from tdmr_base */
	struct tdx_lp lp[TDX_LP_MAX];
	struct tdx_kot kot[TDX_HKID_MAX]; /* index: HKID - cfg.hkid_first */
	struct tdx_td td[TDX_TD_MAX];
	struct tdx_pamt pamt[TDX_MEM_PAGES_MAX]; /* entries past cfg.mem_pages are unused */
	/* Not state (copies and comparisons stop before it): what the calls since tdx_wrote_clear
	 * wrote outside the header. Every write to a TD slot (its vCPUs included) or a PAMT entry
	 * takes its pointer from tdx_td_w or tdx_pamt_w, which record it; the header (everything
	 * before td[]) is not recorded. tdx_reset records everything. */
	struct tdx_wrote {
		uint8_t tds;                           /* bit per TD slot */
		uint64_t pamt[TDX_MEM_PAGES_MAX / 64]; /* bit per PAMT entry */
	} wrote;
};

/* The bytes of m that hold state: everything up to the PAMT entries of configured memory. Copies
 * and comparisons stop there (entries past it are never read). */
static inline size_t tdx_used_bytes(const struct tdx_module *m)
{
	return offsetof(struct tdx_module, pamt) + m->cfg.mem_pages * sizeof(struct tdx_pamt);
}

/* The TD slot td (< TDX_TD_MAX) for writing: recorded in m->wrote. */
static inline struct tdx_td *tdx_td_w(struct tdx_module *m, unsigned td)
{
	m->wrote.tds |= (uint8_t)(1u << td % TDX_TD_MAX);
	return &m->td[td];
}

/* The PAMT entry of page (< TDX_MEM_PAGES_MAX) for writing: recorded in m->wrote. */
static inline struct tdx_pamt *tdx_pamt_w(struct tdx_module *m, uint32_t page)
{
	m->wrote.pamt[page / 64 % (TDX_MEM_PAGES_MAX / 64)] |= UINT64_C(1) << page % 64;
	return &m->pamt[page];
}

/* Starts a new record of writes (m->wrote empty). Can't fail. */
void tdx_wrote_clear(struct tdx_module *m);

/* tdx_check(a) (true when every invariant holds), given that tdx_check(b) held and that a holds
 * b's bytes except in its header (everything before the PAMT; header false: none there either) and
 * in the PAMT entries [lo, hi). Reads only those entries and the Secure-EPT entries they could
 * clash with, unless the TDMR or a TD's or vCPU's liveness or control page changed (then all).
 * Pure (tdx_check.c). */
bool tdx_check_since(const struct tdx_module *b, const struct tdx_module *a, uint32_t lo,
                     uint32_t hi, bool header);

/* ---- Shared helpers (tdx_module.c) ---- */
/* status | operand id */
static inline uint64_t tdx_err(uint64_t status, unsigned operand)
{
	return status | operand;
}
/* The package bitmap of every package. */
uint8_t tdx_all_pkgs(const struct tdx_module *m);
/* Resolves a 4-KiB page operand: aligned, no HKID bits, inside the initialized TDMR. Returns
 * TDX_SUCCESS with *page set, or TDX_OPERAND_INVALID / TDX_OPERAND_ADDR_RANGE_ERROR | operand. */
uint64_t tdx_page_operand(const struct tdx_module *m, uint64_t pa, unsigned operand,
                          uint32_t *page);
/* Resolves a TDR operand to its TD slot (status as above, or TDX_PAGE_METADATA_INCORRECT). */
uint64_t tdx_tdr_operand(const struct tdx_module *m, uint64_t pa, unsigned operand, unsigned *td);
/* Resolves a TDVPR operand to its TD and vCPU slots. */
uint64_t tdx_tdvpr_operand(const struct tdx_module *m, uint64_t pa, unsigned operand, unsigned *td,
                           unsigned *vcpu);
/* A free page for the module to take (PT_NDA inside the initialized TDMR). */
uint64_t tdx_free_page_operand(const struct tdx_module *m, uint64_t pa, unsigned operand,
                               uint32_t *page);
/* Hands page to TD td as type pt (vCPU slot vcpu or TDX_NONE); counts it as the TD's child. */
void tdx_page_assign(struct tdx_module *m, uint32_t page, uint8_t pt, unsigned td, unsigned vcpu);
/* Returns page to PT_NDA and uncounts it. */
void tdx_page_free(struct tdx_module *m, uint32_t page);
/* The KOT entry of a private HKID, NULL when hkid is not one. */
struct tdx_kot *tdx_kot_of(struct tdx_module *m, uint64_t hkid);
const struct tdx_kot *tdx_kot_peek(const struct tdx_module *m, uint64_t hkid);
/* True when vCPU v of TD td runs on some LP now. */
bool tdx_vcpu_running(const struct tdx_module *m, unsigned td, unsigned v);
/* The TD lifecycle gate of the leaves that need the TD's keys: TDX_TD_KEYS_NOT_CONFIGURED before
 * every package configured them, TDX_LIFECYCLE_STATE_INCORRECT once teardown began. */
uint64_t tdx_td_keyed(const struct tdx_td *t);

/* Operands a leaf's pure check resolved, for its apply step. */
struct tdx_ops {
	unsigned td, vcpu;
	uint32_t page; /* the page the leaf takes or acts on */
	uint64_t gpa;
	unsigned level;
};

/* ---- Leaf groups: each executes one leaf on LP lp (regs in r, status in r->rax) ---- */
void tdx_sys_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r);
void tdx_td_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r);
void tdx_mem_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r);
void tdx_teardown_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r);
void tdx_vp_enter(struct tdx_module *m, unsigned lp, struct tdx_regs *r);

/* ---- The calls compiled a second time (tdx_plain.c) ---- */
/* tdx_seamcall, tdx_tdcall and tdx_td_exit from the same source, which fuzzing builds do not
 * coverage-instrument (fuzz_tdx_seamcall's determinism rerun): same results, effects and failure
 * contracts. */
void tdx_plain_seamcall(struct tdx_module *m, unsigned lp, struct tdx_regs *r);
bool tdx_plain_tdcall(struct tdx_module *m, unsigned lp, struct tdx_regs *guest,
                      struct tdx_regs *host);
bool tdx_plain_td_exit(struct tdx_module *m, unsigned lp, struct tdx_regs *host);

/* ---- Secure EPT (tdx_sept.c: the searches; tdx_mem.c: the operand) ---- */
/* The PT_REG page of TD td mapping gpa (4 KiB aligned), or UINT32_MAX. */
uint32_t tdx_sept_leaf(const struct tdx_module *m, unsigned td, uint64_t gpa);
/* True when the Secure-EPT walk to gpa reaches level `level` (every table above it present). */
bool tdx_sept_walk(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level);
/* True when TD td has the Secure-EPT page of level `level` (1-3) covering gpa. */
bool tdx_sept_present(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level);
/* GPA/level operand (RCX of the memory leaves): bits 2:0 level, 51:12 GPA, others reserved; the
 * GPA must be private (below the shared bit) and aligned to the level. */
uint64_t tdx_gpa_operand(uint64_t rcx, unsigned max_level, uint64_t *gpa, unsigned *level);

#endif
