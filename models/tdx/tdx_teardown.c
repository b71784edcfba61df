/* TD teardown leaves, in KVM's order: TDH.VP.FLUSH (on the LP each vCPU is associated with),
 * TDH.MNG.VPFLUSHDONE, TDH.PHYMEM.CACHE.WB (on every package), TDH.MNG.KEY.FREEID,
 * TDH.PHYMEM.PAGE.RECLAIM (every page, the TDR last), and TDH.PHYMEM.PAGE.WBINVD. The HKID moves
 * through the KOT states ASSIGNED -> FLUSHED -> FREE (TDX base spec "Key Management"). Left out:
 * TDH.MNG.KEY.RECLAIMID, interrupted and resumed cache write-back (one call writes a package
 * back), cache contents. TDX ABI as pinned in docs/spec-versions.md. */
#include "tdx_int.h"

#include <string.h>

#define PAGE_MASK     ((uint64_t)TDX_PAGE_SIZE - 1)
#define HKID_PA_MASK  (UINT64_C(0xFFF) << TDX_HKID_SHIFT)
#define WB_RESUME_MAX 1u /* TDX ABI TDH.PHYMEM.CACHE.WB: RCX 0 starts, 1 resumes */

/* ---- TDH.VP.FLUSH: RCX = TDVPR, on the LP the vCPU is associated with ---- */

static uint64_t vp_flush(struct tdx_module *m, unsigned lp, const struct tdx_regs *r)
{
	unsigned td = 0, vc = 0;
	uint64_t st = tdx_tdvpr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td, &vc);
	struct tdx_vcpu *v = &tdx_td_w(m, td)->vcpu[vc];

	if (st != TDX_SUCCESS)
		return st;
	if (m->td[td].lifecycle != TD_KEYS_CONFIGURED) /* TDX ABI TDH.VP.FLUSH */
		return TDX_TD_KEYS_NOT_CONFIGURED;
	if (v->tdvpx + 1u != m->cfg.tdvps_pages)
		return TDX_TDCX_NUM_INCORRECT;
	if (v->assoc_lp != lp) /* also when associated with no LP: KVM treats that as done */
		return TDX_VCPU_NOT_ASSOCIATED;
	v->assoc_lp = TDX_NONE;
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.VPFLUSHDONE: RCX = TDR ---- */

static uint64_t vpflushdone(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);
	struct tdx_kot *k;

	if (st != TDX_SUCCESS)
		return st;
	if (t->lifecycle != TD_HKID_ASSIGNED && t->lifecycle != TD_KEYS_CONFIGURED)
		return TDX_LIFECYCLE_STATE_INCORRECT;
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++) /* TDX ABI TDH.MNG.VPFLUSHDONE */
		if (t->vcpu[v].used && t->vcpu[v].assoc_lp != TDX_NONE)
			return TDX_FLUSHVP_NOT_DONE;
	t->lifecycle = TD_BLOCKED;
	k = tdx_kot_of(m, t->hkid);
	if (k) {
		k->state = KOT_HKID_FLUSHED;
		k->wb_pkgs = 0;
	}
	return TDX_SUCCESS;
}

/* ---- TDH.PHYMEM.CACHE.WB: RCX = 0 (start) or 1 (resume); writes this LP's package back ---- */

static uint64_t cache_wb(struct tdx_module *m, unsigned lp, const struct tdx_regs *r)
{
	bool any = false;

	if (r->rcx > WB_RESUME_MAX)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	for (unsigned i = 0; i < m->cfg.hkid_count; i++)
		any |= m->kot[i].state == KOT_HKID_FLUSHED;
	if (!any) /* TDX ABI TDH.PHYMEM.CACHE.WB: a warning */
		return TDX_NO_HKID_READY_TO_WBCACHE;
	for (unsigned i = 0; i < m->cfg.hkid_count; i++)
		if (m->kot[i].state == KOT_HKID_FLUSHED)
			m->kot[i].wb_pkgs |= (uint8_t)(1u << m->lp[lp].pkg);
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.KEY.FREEID: RCX = TDR ---- */

static uint64_t key_freeid(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);
	struct tdx_kot *k;

	if (st != TDX_SUCCESS)
		return st;
	if (t->lifecycle != TD_BLOCKED) /* TDX ABI TDH.MNG.KEY.FREEID: after TDH.MNG.VPFLUSHDONE */
		return TDX_LIFECYCLE_STATE_INCORRECT;
	k = tdx_kot_of(m, t->hkid);
	if (k && k->wb_pkgs != tdx_all_pkgs(m)) /* every package wrote the HKID's lines back */
		return TDX_WBCACHE_NOT_COMPLETE;
	if (k) {
		k->state = KOT_HKID_FREE;
		k->td = TDX_NONE;
		k->wb_pkgs = 0;
	}
	t->lifecycle = TD_TEARDOWN;
	return TDX_SUCCESS;
}

/* ---- TDH.PHYMEM.PAGE.RECLAIM: RCX = page; RCX = its type, RDX = owner TDR, R8 = size ---- */

static uint64_t reclaim_check(const struct tdx_module *m, const struct tdx_regs *r,
                              struct tdx_ops *o)
{
	uint64_t st = tdx_page_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->page);
	const struct tdx_pamt *e;

	if (st != TDX_SUCCESS)
		return st;
	e = &m->pamt[o->page];
	if (e->pt == PT_NDA || e->pt == PT_RSVD) /* TDX ABI TDH.PHYMEM.PAGE.RECLAIM */
		return tdx_err(TDX_PAGE_METADATA_INCORRECT, TDX_OPERAND_ID_RCX);
	o->td = e->td;
	if (m->td[o->td].lifecycle != TD_TEARDOWN)
		return TDX_LIFECYCLE_STATE_INCORRECT;
	if (e->pt == PT_TDR && m->td[o->td].chldcnt) /* the TDR goes last */
		return TDX_TD_ASSOCIATED_PAGES_EXIST;
	return TDX_SUCCESS;
}

static uint64_t reclaim(struct tdx_module *m, struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = reclaim_check(m, r, &o);
	struct tdx_pamt *e;

	if (st != TDX_SUCCESS)
		return st;
	e = tdx_pamt_w(m, o.page);
	r->rcx = e->pt;
	r->rdx = (uint64_t)m->td[o.td].tdr * TDX_PAGE_SIZE;
	r->r8 = 0; /* 4 KiB */
	if (e->pt == PT_TDR)
		memset(tdx_td_w(m, o.td), 0, sizeof(m->td[o.td]));
	else if (e->pt == PT_TDVPR)
		tdx_td_w(m, o.td)->vcpu[e->vcpu].used = false;
	tdx_page_free(m, o.page);
	return TDX_SUCCESS;
}

/* ---- TDH.PHYMEM.PAGE.WBINVD: RCX = page address with the HKID in bits 51:40 ---- */

static uint64_t page_wbinvd(const struct tdx_module *m, const struct tdx_regs *r)
{
	uint64_t pa = r->rcx & ~HKID_PA_MASK;

	if ((pa & PAGE_MASK) || pa / TDX_PAGE_SIZE >= m->cfg.mem_pages)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	return TDX_SUCCESS; /* caches are not modelled */
}

void tdx_teardown_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r)
{
	switch (leaf) {
	case TDH_VP_FLUSH: r->rax = vp_flush(m, lp, r); break;
	case TDH_MNG_VPFLUSHDONE: r->rax = vpflushdone(m, r); break;
	case TDH_PHYMEM_CACHE_WB: r->rax = cache_wb(m, lp, r); break;
	case TDH_MNG_KEY_FREEID: r->rax = key_freeid(m, r); break;
	case TDH_PHYMEM_PAGE_RECLAIM: r->rax = reclaim(m, r); break;
	default: r->rax = page_wbinvd(m, r); break;
	}
}
