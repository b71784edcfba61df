/* TDX module model: life of the model object, the SEAMCALL dispatcher (leaf and version decoding,
 * the "module not ready" gate) and operand resolution shared by every leaf. Leaves live in
 * tdx_sys.c (module initialization), tdx_td.c (TD build), tdx_mem.c (Secure EPT),
 * tdx_teardown.c and tdx_enter.c; the status and leaf name tables in tdx_names.c. Leaves the
 * model does not implement answer as an unknown leaf does (TDX_OPERAND_INVALID, operand RAX). TDX
 * ABI as pinned in docs/spec-versions.md; docs/tdx-model.md lists what is left out. */
#include "tdx_int.h"

#include <stdlib.h>
#include <string.h>

#define RAX_LEAF_MASK     UINT64_C(0xFFFF)
#define RAX_VERSION_SHIFT 16
#define RAX_RESERVED_MASK UINT64_C(0xFFFFFFFFFF000000) /* TDX ABI "SEAMCALL": RAX[63:24] */
#define HKID_MASK         (UINT64_C(0xFFF) << TDX_HKID_SHIFT)

static bool tdx_config_ok(const struct tdx_config *c, struct hvsim_error *err)
{
	if (c->lps < 1 || c->lps > TDX_LP_MAX)
		return hvsim_error_set(err, HVSIM_E_INPUT, "tdx: lps %u not in 1..%u", c->lps,
		                       TDX_LP_MAX) == HVSIM_OK;
	if (c->packages < 1 || c->packages > TDX_PKG_MAX || c->packages > c->lps)
		return hvsim_error_set(err, HVSIM_E_INPUT, "tdx: packages %u not in 1..%u",
		                       c->packages,
		                       c->lps < TDX_PKG_MAX ? c->lps : TDX_PKG_MAX) == HVSIM_OK;
	if (c->mem_pages < 16 || c->mem_pages > TDX_MEM_PAGES_MAX)
		return hvsim_error_set(err, HVSIM_E_INPUT, "tdx: mem_pages %u not in 16..%u",
		                       c->mem_pages, TDX_MEM_PAGES_MAX) == HVSIM_OK;
	if (c->hkid_first < 1 || c->hkid_count < 1 || c->hkid_count > TDX_HKID_MAX ||
	    c->hkid_first + c->hkid_count > 4096)
		return hvsim_error_set(err, HVSIM_E_INPUT, "tdx: HKIDs %u+%u out of range",
		                       c->hkid_first, c->hkid_count) == HVSIM_OK;
	if (c->tdcs_pages < 1 || c->tdcs_pages > TDX_TDCX_MAX || c->tdvps_pages < 1 ||
	    c->tdvps_pages > TDX_TDCX_MAX)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "tdx: tdcs_pages %u, tdvps_pages %u not "
		                       "in 1..%u",
		                       c->tdcs_pages, c->tdvps_pages, TDX_TDCX_MAX) == HVSIM_OK;
	return true;
}

/* Copies element 0 of the n-element array at base (elements of size bytes) over the others,
 * doubling the copied run each time. */
static void tdx_fill(void *base, size_t n, size_t size)
{
	uint8_t *b = base;

	for (size_t done = 1; done < n; done *= 2)
		memcpy(b + done * size, b, (done < n - done ? done : n - done) * size);
}

/* Only the used bytes (tdx_used_bytes): PAMT entries past the configured memory are never read. */
static void tdx_reset_state(struct tdx_module *m, const struct tdx_config *cfg)
{
	memset(m, 0, offsetof(struct tdx_module, pamt) + cfg->mem_pages * sizeof(struct tdx_pamt));
	m->cfg = *cfg;
	for (unsigned i = 0; i < TDX_LP_MAX; i++) {
		m->lp[i].pkg = (uint8_t)(i * cfg->packages / cfg->lps);
		m->lp[i].in_td = m->lp[i].in_vcpu = TDX_NONE;
	}
	m->kot[0].td = TDX_NONE;
	tdx_fill(m->kot, TDX_HKID_MAX, sizeof(m->kot[0]));
	m->pamt[0].td = m->pamt[0].vcpu = TDX_NONE;
	tdx_fill(m->pamt, cfg->mem_pages, sizeof(m->pamt[0]));
	memset(&m->wrote, 0xff, sizeof(m->wrote));
}

void tdx_wrote_clear(struct tdx_module *m)
{
	memset(&m->wrote, 0, sizeof(m->wrote));
}

enum hvsim_status tdx_create(const struct tdx_config *cfg, struct tdx_module **out,
                             struct hvsim_error *err)
{
	struct tdx_module *m;

	*out = NULL;
	if (!tdx_config_ok(cfg, err))
		return HVSIM_E_INPUT;
	m = calloc(1, sizeof(*m)); /* the bytes past the used ones too: copies may compare them */
	if (!m)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "tdx: out of memory");
	tdx_reset_state(m, cfg);
	*out = m;
	return HVSIM_OK;
}

enum hvsim_status tdx_reset(struct tdx_module *m, const struct tdx_config *cfg,
                            struct hvsim_error *err)
{
	if (!tdx_config_ok(cfg, err))
		return HVSIM_E_INPUT;
	tdx_reset_state(m, cfg);
	return HVSIM_OK;
}

void tdx_destroy(struct tdx_module *m)
{
	free(m);
}

void tdx_copy(struct tdx_module *dst, const struct tdx_module *src)
{
	memcpy(dst, src, tdx_used_bytes(src));
}

/* ---- Operands ---- */

uint8_t tdx_all_pkgs(const struct tdx_module *m)
{
	return (uint8_t)((1u << m->cfg.packages) - 1);
}

uint64_t tdx_page_operand(const struct tdx_module *m, uint64_t pa, unsigned operand, uint32_t *page)
{
	uint64_t n = pa / TDX_PAGE_SIZE;

	if (pa % TDX_PAGE_SIZE || (pa & HKID_MASK) || pa >> 52)
		return tdx_err(TDX_OPERAND_INVALID, operand);
	/* TDX base spec "TDMR": only memory of an initialized TDMR is convertible */
	if (n < m->tdmr_base || n >= (uint64_t)m->tdmr_base + m->tdmr_done)
		return tdx_err(TDX_OPERAND_ADDR_RANGE_ERROR, operand);
	*page = (uint32_t)n;
	return TDX_SUCCESS;
}

uint64_t tdx_free_page_operand(const struct tdx_module *m, uint64_t pa, unsigned operand,
                               uint32_t *page)
{
	uint64_t st = tdx_page_operand(m, pa, operand, page);

	if (st == TDX_SUCCESS && m->pamt[*page].pt != PT_NDA)
		return tdx_err(TDX_PAGE_METADATA_INCORRECT, operand);
	return st;
}

uint64_t tdx_tdr_operand(const struct tdx_module *m, uint64_t pa, unsigned operand, unsigned *td)
{
	uint32_t page;
	uint64_t st = tdx_page_operand(m, pa, operand, &page);

	if (st != TDX_SUCCESS)
		return st;
	if (m->pamt[page].pt != PT_TDR)
		return tdx_err(TDX_PAGE_METADATA_INCORRECT, operand);
	*td = m->pamt[page].td;
	return TDX_SUCCESS;
}

uint64_t tdx_tdvpr_operand(const struct tdx_module *m, uint64_t pa, unsigned operand, unsigned *td,
                           unsigned *vcpu)
{
	uint32_t page;
	uint64_t st = tdx_page_operand(m, pa, operand, &page);

	if (st != TDX_SUCCESS)
		return st;
	if (m->pamt[page].pt != PT_TDVPR)
		return tdx_err(TDX_PAGE_METADATA_INCORRECT, operand);
	*td = m->pamt[page].td;
	*vcpu = m->pamt[page].vcpu;
	return TDX_SUCCESS;
}

void tdx_page_assign(struct tdx_module *m, uint32_t page, uint8_t pt, unsigned td, unsigned vcpu)
{
	struct tdx_pamt *e = tdx_pamt_w(m, page);

	memset(e, 0, sizeof(*e));
	e->pt = pt;
	e->td = (uint8_t)td;
	e->vcpu = (uint8_t)vcpu;
	if (pt != PT_TDR)
		tdx_td_w(m, td)->chldcnt++;
}

void tdx_page_free(struct tdx_module *m, uint32_t page)
{
	struct tdx_pamt *e = tdx_pamt_w(m, page);

	struct tdx_td *t = e->td < TDX_TD_MAX ? tdx_td_w(m, e->td) : NULL;

	if (t && e->pt != PT_TDR && t->chldcnt)
		t->chldcnt--;
	/* a reclaimed TDCS or TDVPS page leaves its TD's count of them too */
	if (t && e->pt == PT_TDCX && e->vcpu == TDX_NONE && t->tdcx)
		t->tdcx--;
	else if (t && e->pt == PT_TDCX && e->vcpu < TDX_VCPU_MAX && t->vcpu[e->vcpu].tdvpx)
		t->vcpu[e->vcpu].tdvpx--;
	memset(e, 0, sizeof(*e));
	e->td = e->vcpu = TDX_NONE;
}

const struct tdx_kot *tdx_kot_peek(const struct tdx_module *m, uint64_t hkid)
{
	if (hkid < m->cfg.hkid_first || hkid >= (uint64_t)m->cfg.hkid_first + m->cfg.hkid_count)
		return NULL;
	return &m->kot[hkid - m->cfg.hkid_first];
}

struct tdx_kot *tdx_kot_of(struct tdx_module *m, uint64_t hkid)
{
	return (struct tdx_kot *)tdx_kot_peek(m, hkid);
}

bool tdx_vcpu_running(const struct tdx_module *m, unsigned td, unsigned v)
{
	for (unsigned i = 0; i < m->cfg.lps; i++)
		if (m->lp[i].in_td == td && m->lp[i].in_vcpu == v)
			return true;
	return false;
}

uint64_t tdx_td_keyed(const struct tdx_td *t)
{
	if (t->lifecycle == TD_HKID_ASSIGNED)
		return TDX_TD_KEYS_NOT_CONFIGURED;
	if (t->lifecycle != TD_KEYS_CONFIGURED)
		return TDX_LIFECYCLE_STATE_INCORRECT;
	return TDX_SUCCESS;
}

/* ---- The dispatcher ---- */

/* The leaf groups of the dispatcher. GRP_EARLY: the leaves a module that is not ready accepts (TDX
 * ABI "TDX Module Lifecycle"); GRP_SYS: the rest of module initialization. */
enum leaf_group { GRP_NONE = 0, GRP_EARLY, GRP_SYS, GRP_TD, GRP_MEM, GRP_TEARDOWN, GRP_ENTER };

/* Each modelled leaf's group, indexed by leaf number (one lookup, not a chain of compares). */
static const uint8_t leaf_groups[TDH_SYS_CONFIG + 1] = {
    [TDH_SYS_INIT] = GRP_EARLY,
    [TDH_SYS_LP_INIT] = GRP_EARLY,
    [TDH_SYS_RD] = GRP_EARLY,
    [TDH_SYS_RDALL] = GRP_EARLY,
    [TDH_SYS_CONFIG] = GRP_EARLY,
    [TDH_SYS_KEY_CONFIG] = GRP_EARLY,
    [TDH_SYS_TDMR_INIT] = GRP_SYS,
    [TDH_MNG_CREATE] = GRP_TD,
    [TDH_MNG_KEY_CONFIG] = GRP_TD,
    [TDH_MNG_ADDCX] = GRP_TD,
    [TDH_MNG_INIT] = GRP_TD,
    [TDH_VP_CREATE] = GRP_TD,
    [TDH_VP_ADDCX] = GRP_TD,
    [TDH_VP_INIT] = GRP_TD,
    [TDH_MR_EXTEND] = GRP_TD,
    [TDH_MR_FINALIZE] = GRP_TD,
    [TDH_MNG_RD] = GRP_TD,
    [TDH_VP_RD] = GRP_TD,
    [TDH_MEM_SEPT_ADD] = GRP_MEM,
    [TDH_MEM_PAGE_ADD] = GRP_MEM,
    [TDH_MEM_PAGE_AUG] = GRP_MEM,
    [TDH_MEM_RANGE_BLOCK] = GRP_MEM,
    [TDH_MEM_RANGE_UNBLOCK] = GRP_MEM,
    [TDH_MEM_TRACK] = GRP_MEM,
    [TDH_MEM_PAGE_REMOVE] = GRP_MEM,
    [TDH_VP_FLUSH] = GRP_TEARDOWN,
    [TDH_MNG_VPFLUSHDONE] = GRP_TEARDOWN,
    [TDH_PHYMEM_CACHE_WB] = GRP_TEARDOWN,
    [TDH_MNG_KEY_FREEID] = GRP_TEARDOWN,
    [TDH_PHYMEM_PAGE_RECLAIM] = GRP_TEARDOWN,
    [TDH_PHYMEM_PAGE_WBINVD] = GRP_TEARDOWN,
    [TDH_VP_ENTER] = GRP_ENTER,
};

static unsigned group_of(unsigned leaf)
{
	return leaf < sizeof(leaf_groups) ? leaf_groups[leaf] : GRP_NONE;
}

/* The highest version each leaf accepts: TDH.VP.INIT version 1 takes the x2APIC ID in R8. */
static unsigned max_version(unsigned leaf)
{
	return leaf == TDH_VP_INIT ? 1 : 0;
}

void tdx_seamcall(struct tdx_module *m, unsigned lp, struct tdx_regs *r)
{
	unsigned leaf = (unsigned)(r->rax & RAX_LEAF_MASK);
	unsigned version = (unsigned)(r->rax >> RAX_VERSION_SHIFT) & 0xff;
	unsigned group = group_of(leaf);

	/* SEAMCALL in VMX non-root operation (inside a TD) is not a SEAMCALL */
	if (lp >= m->cfg.lps || m->lp[lp].in_td != TDX_NONE) {
		r->rax = TDX_SW_UD;
		return;
	}
	if ((r->rax & RAX_RESERVED_MASK) || group == GRP_NONE || version > max_version(leaf)) {
		r->rax = tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
		return;
	}
	if (m->sys_state != TDX_SYS_READY && group != GRP_EARLY) {
		r->rax = TDX_SYS_NOT_READY;
		return;
	}
	switch (group) {
	case GRP_EARLY:
	case GRP_SYS: tdx_sys_leaf(m, lp, leaf, r); break;
	case GRP_TD: tdx_td_leaf(m, lp, leaf, r); break;
	case GRP_MEM: tdx_mem_leaf(m, lp, leaf, r); break;
	case GRP_TEARDOWN: tdx_teardown_leaf(m, lp, leaf, r); break;
	default: tdx_vp_enter(m, lp, r); break;
	}
}

/* ---- Queries ---- */

bool tdx_lp_in_td(const struct tdx_module *m, unsigned lp)
{
	return lp < m->cfg.lps && m->lp[lp].in_td != TDX_NONE;
}

bool tdx_page_info(const struct tdx_module *m, uint64_t hpa, enum tdx_page_type *pt,
                   uint64_t *owner_tdr)
{
	const struct tdx_pamt *e;

	if (hpa / TDX_PAGE_SIZE >= m->cfg.mem_pages)
		return false;
	e = &m->pamt[hpa / TDX_PAGE_SIZE];
	*pt = (enum tdx_page_type)e->pt;
	*owner_tdr = e->td < TDX_TD_MAX ? (uint64_t)m->td[e->td].tdr * TDX_PAGE_SIZE : 0;
	return true;
}

enum tdx_sys_state tdx_sys_state(const struct tdx_module *m)
{
	return (enum tdx_sys_state)m->sys_state;
}
