/* TD build leaves, in the order KVM calls them: TDH.MNG.CREATE (TDR page, HKID), TDH.MNG.KEY.CONFIG
 * (per package), TDH.MNG.ADDCX, TDH.MNG.INIT, TDH.VP.CREATE, TDH.VP.ADDCX, TDH.VP.INIT,
 * TDH.MR.EXTEND, TDH.MR.FINALIZE, and the metadata reads TDH.MNG.RD / TDH.VP.RD (a few fields).
 * Each leaf is a pure check that resolves its operands, then an apply step that runs only after
 * every check passed. Left out: TD_PARAMS contents (memory is not modelled: every TD gets
 * ATTRIBUTES 0, MAX_VCPUS TDX_VCPU_MAX, GPAW 48), CPUID configuration, the real SHA-384 MRTD (a
 * 64-bit fold stands in), TDH.MNG.WR/TDH.VP.WR. TDX ABI as pinned in docs/spec-versions.md. */
#include "tdx_int.h"

#include <string.h>

#define HKID_RESERVED   UINT64_C(0xFFFFFFFFFFFF0000)
#define TD_PARAMS_ALIGN 1024u /* TDX ABI TDH.MNG.INIT: TD_PARAMS is 1024-byte aligned */
#define MR_EXTEND_CHUNK 256u  /* TDX ABI TDH.MR.EXTEND: 256 bytes per call */
#define FNV_PRIME       UINT64_C(0x100000001b3)

static uint64_t fold(uint64_t h, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		h = (h ^ ((v >> (8 * i)) & 0xff)) * FNV_PRIME;
	return h;
}

static unsigned free_td_slot(const struct tdx_module *m)
{
	for (unsigned i = 0; i < TDX_TD_MAX; i++)
		if (!m->td[i].used)
			return i;
	return TDX_NONE;
}

/* ---- TDH.MNG.CREATE: RCX = TDR page, RDX = HKID ---- */

static uint64_t mng_create_check(const struct tdx_module *m, const struct tdx_regs *r,
                                 struct tdx_ops *o)
{
	const struct tdx_kot *k;
	uint64_t st = tdx_free_page_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->page);

	if (st != TDX_SUCCESS)
		return st;
	k = tdx_kot_peek(m, r->rdx);
	if ((r->rdx & HKID_RESERVED) || !k) /* TDX ABI TDH.MNG.CREATE: a private HKID */
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	if (k->state != KOT_HKID_FREE)
		return TDX_HKID_NOT_FREE;
	o->td = free_td_slot(m);
	if (o->td == TDX_NONE) /* the model's TD table is full (docs/tdx-model.md) */
		return tdx_err(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KOT);
	return TDX_SUCCESS;
}

static uint64_t mng_create(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = mng_create_check(m, r, &o);
	struct tdx_td *t;
	struct tdx_kot *k;

	if (st != TDX_SUCCESS)
		return st;
	t = tdx_td_w(m, o.td);
	memset(t, 0, sizeof(*t));
	t->used = true;
	t->tdr = o.page;
	t->hkid = (uint16_t)r->rdx;
	t->lifecycle = TD_HKID_ASSIGNED;
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
		t->vcpu[v].assoc_lp = TDX_NONE;
	tdx_page_assign(m, o.page, PT_TDR, o.td, TDX_NONE);
	k = tdx_kot_of(m, r->rdx);
	k->state = KOT_HKID_ASSIGNED;
	k->td = (uint8_t)o.td;
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.KEY.CONFIG: RCX = TDR; once on each package ---- */

static uint64_t mng_key_config(struct tdx_module *m, unsigned lp, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint8_t bit = (uint8_t)(1u << m->lp[lp].pkg);
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);

	if (st != TDX_SUCCESS)
		return st;
	if (t->lifecycle != TD_HKID_ASSIGNED) /* TDX ABI TDH.MNG.KEY.CONFIG */
		return TDX_LIFECYCLE_STATE_INCORRECT;
	if (t->pkg_keyed & bit)
		return TDX_KEY_CONFIGURED;
	t->pkg_keyed |= bit;
	if (t->pkg_keyed == tdx_all_pkgs(m))
		t->lifecycle = TD_KEYS_CONFIGURED;
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.ADDCX: RCX = TDCX page, RDX = TDR ---- */

static uint64_t mng_addcx_check(const struct tdx_module *m, const struct tdx_regs *r,
                                struct tdx_ops *o)
{
	uint64_t st = tdx_tdr_operand(m, r->rdx, TDX_OPERAND_ID_RDX, &o->td);
	const struct tdx_td *t = &m->td[o->td];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state != TDX_OP_UNINITIALIZED)
		return TDX_OP_STATE_INCORRECT;
	if (t->tdcx >= m->cfg.tdcs_pages) /* TDX ABI TDH.MNG.ADDCX: TDCS_BASE_SIZE pages */
		return TDX_TDCX_NUM_INCORRECT;
	return tdx_free_page_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->page);
}

static uint64_t mng_addcx(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = mng_addcx_check(m, r, &o);

	if (st != TDX_SUCCESS)
		return st;
	tdx_page_assign(m, o.page, PT_TDCX, o.td, TDX_NONE);
	tdx_td_w(m, o.td)->tdcx++;
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.INIT: RCX = TDR, RDX = TD_PARAMS (host memory) ---- */

static bool host_page(const struct tdx_module *m, uint64_t pa)
{
	uint64_t n = pa / TDX_PAGE_SIZE;

	return n >= m->cfg.mem_pages || m->pamt[n].pt == PT_NDA;
}

static uint64_t mng_init(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->tdcx < m->cfg.tdcs_pages) /* TDX ABI TDH.MNG.INIT: the TDCS is complete */
		return TDX_TDCS_NOT_ALLOCATED;
	if (t->op_state != TDX_OP_UNINITIALIZED)
		return TDX_OP_STATE_INCORRECT;
	if (r->rdx % TD_PARAMS_ALIGN || r->rdx >> 52 || !host_page(m, r->rdx))
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	t->op_state = TDX_OP_INITIALIZED;
	return TDX_SUCCESS;
}

/* ---- TDH.VP.CREATE: RCX = TDVPR page, RDX = TDR ---- */

static uint64_t vp_create_check(const struct tdx_module *m, const struct tdx_regs *r,
                                struct tdx_ops *o)
{
	uint64_t st = tdx_tdr_operand(m, r->rdx, TDX_OPERAND_ID_RDX, &o->td);
	const struct tdx_td *t = &m->td[o->td];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state != TDX_OP_INITIALIZED) /* TDX ABI TDH.VP.CREATE: before TDH.MR.FINALIZE */
		return t->tdcx < m->cfg.tdcs_pages ? TDX_TDCS_NOT_ALLOCATED
		                                   : TDX_OP_STATE_INCORRECT;
	o->vcpu = TDX_NONE;
	for (unsigned v = 0; v < TDX_VCPU_MAX && o->vcpu == TDX_NONE; v++)
		if (!t->vcpu[v].used)
			o->vcpu = v;
	if (o->vcpu == TDX_NONE)
		return TDX_MAX_VCPUS_EXCEEDED;
	return tdx_free_page_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->page);
}

static uint64_t vp_create(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = vp_create_check(m, r, &o);
	struct tdx_vcpu *v;

	if (st != TDX_SUCCESS)
		return st;
	v = &tdx_td_w(m, o.td)->vcpu[o.vcpu];
	memset(v, 0, sizeof(*v));
	v->used = true;
	v->tdvpr = o.page;
	v->assoc_lp = TDX_NONE;
	v->state = TDX_VCPU_UNINITIALIZED;
	tdx_page_assign(m, o.page, PT_TDVPR, o.td, o.vcpu);
	return TDX_SUCCESS;
}

/* ---- TDH.VP.ADDCX: RCX = TDVPX page, RDX = TDVPR ---- */

static uint64_t vp_addcx_check(const struct tdx_module *m, const struct tdx_regs *r,
                               struct tdx_ops *o)
{
	uint64_t st = tdx_tdvpr_operand(m, r->rdx, TDX_OPERAND_ID_RDX, &o->td, &o->vcpu);
	const struct tdx_vcpu *v = &m->td[o->td].vcpu[o->vcpu];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(&m->td[o->td])) != TDX_SUCCESS)
		return st;
	if (v->state != TDX_VCPU_UNINITIALIZED) /* TDX ABI TDH.VP.ADDCX: before TDH.VP.INIT */
		return TDX_VCPU_STATE_INCORRECT;
	if (v->tdvpx + 1u >= m->cfg.tdvps_pages) /* TDVPS_BASE_SIZE pages with the TDVPR */
		return TDX_TDCX_NUM_INCORRECT;
	return tdx_free_page_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->page);
}

static uint64_t vp_addcx(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = vp_addcx_check(m, r, &o);

	if (st != TDX_SUCCESS)
		return st;
	tdx_page_assign(m, o.page, PT_TDCX, o.td, o.vcpu);
	tdx_td_w(m, o.td)->vcpu[o.vcpu].tdvpx++;
	return TDX_SUCCESS;
}

/* ---- TDH.VP.INIT: RCX = TDVPR, RDX = the vCPU's initial RCX (version 1: R8 = x2APIC ID) ---- */

static uint64_t vp_init(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0, vc = 0;
	uint64_t st = tdx_tdvpr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td, &vc);
	struct tdx_td *t = tdx_td_w(m, td);
	struct tdx_vcpu *v = &t->vcpu[vc];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state != TDX_OP_INITIALIZED) /* TDX ABI TDH.VP.INIT */
		return TDX_OP_STATE_INCORRECT;
	if (v->state != TDX_VCPU_UNINITIALIZED)
		return TDX_VCPU_STATE_INCORRECT;
	if (v->tdvpx + 1u != m->cfg.tdvps_pages)
		return TDX_TDCX_NUM_INCORRECT;
	if (t->num_vcpus >= TDX_VCPU_MAX)
		return TDX_MAX_VCPUS_EXCEEDED;
	v->state = TDX_VCPU_READY;
	v->index = t->num_vcpus++;
	return TDX_SUCCESS;
}

/* ---- TDH.MR.EXTEND: RCX = GPA of a 256-byte chunk of a page TDH.MEM.PAGE.ADD added ---- */

static uint64_t mr_extend(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rdx, TDX_OPERAND_ID_RDX, &td);
	struct tdx_td *t = tdx_td_w(m, td);
	uint32_t page;

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state != TDX_OP_INITIALIZED) /* TDX ABI TDH.MR.EXTEND: before finalization */
		return TDX_OP_STATE_INCORRECT;
	if (r->rcx % MR_EXTEND_CHUNK || r->rcx >> (TDX_GPAW - 1))
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (!tdx_sept_walk(m, td, r->rcx, 1))
		return tdx_err(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
	page = tdx_sept_leaf(m, td, r->rcx & ~(uint64_t)(TDX_PAGE_SIZE - 1));
	if (page == UINT32_MAX || m->pamt[page].state != SEPT_MAPPED)
		return tdx_err(TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_ID_RCX);
	t->mrtd = fold(t->mrtd, r->rcx);
	return TDX_SUCCESS;
}

/* ---- TDH.MR.FINALIZE: RCX = TDR ---- */

static uint64_t mr_finalize(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state != TDX_OP_INITIALIZED) /* TDX ABI TDH.MR.FINALIZE */
		return TDX_OP_STATE_INCORRECT;
	if (t->num_vcpus == 0) /* "The TD must have at least one VCPU" */
		return TDX_NO_VCPUS;
	t->op_state = TDX_OP_RUNNABLE;
	return TDX_SUCCESS;
}

/* ---- TDH.MNG.RD: RCX = TDR, RDX = field id; R8 = value ---- */

#define MD_CLASS(id)  (((id) >> 56) & 0x3f)
#define MD_CLASS_TDCS 0x10u /* classes below are TDR fields, readable without a TDCS */

static bool td_field(const struct tdx_td *t, uint64_t id, uint64_t *v)
{
	switch (TDX_MD_ID(id)) {
	case TDX_MD_ID(TDX_MD_TD_CHLDCNT): *v = t->chldcnt; return true;
	case TDX_MD_ID(TDX_MD_TD_LIFECYCLE_STATE): *v = t->lifecycle; return true;
	case TDX_MD_ID(TDX_MD_TD_HKID): *v = t->hkid; return true;
	case TDX_MD_ID(TDX_MD_TD_NUM_VCPUS): *v = t->num_vcpus; return true;
	case TDX_MD_ID(TDX_MD_TD_OP_STATE): *v = t->op_state; return true;
	case TDX_MD_ID(TDX_MD_TD_ATTRIBUTES): *v = 0; return true;
	case TDX_MD_ID(TDX_MD_TD_MAX_VCPUS): *v = TDX_VCPU_MAX; return true;
	case TDX_MD_ID(TDX_MD_TD_GPAW): *v = 0; return true; /* 0: GPAW 48 */
	case TDX_MD_ID(TDX_MD_TD_EPOCH): *v = t->epoch; return true;
	case TDX_MD_ID(TDX_MD_TD_MRTD): *v = t->mrtd; return true;
	default: return false;
	}
}

static uint64_t mng_rd(const struct tdx_module *m, struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t v, st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);

	if (st != TDX_SUCCESS)
		return st;
	if (!td_field(&m->td[td], r->rdx, &v))
		return tdx_err(TDX_METADATA_FIELD_ID_INCORRECT, TDX_OPERAND_ID_RDX);
	if (MD_CLASS(r->rdx) >= MD_CLASS_TDCS && m->td[td].tdcx < m->cfg.tdcs_pages)
		return TDX_TDCS_NOT_ALLOCATED;
	r->r8 = v;
	return TDX_SUCCESS;
}

/* ---- TDH.VP.RD: RCX = TDVPR, RDX = field id; R8 = value ---- */

static uint64_t vp_rd(const struct tdx_module *m, struct tdx_regs *r)
{
	unsigned td = 0, vc = 0;
	uint64_t st = tdx_tdvpr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td, &vc);
	const struct tdx_vcpu *v = &m->td[td].vcpu[vc];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(&m->td[td])) != TDX_SUCCESS)
		return st;
	if (tdx_vcpu_running(m, td, vc)) /* the TDVPS is locked while the vCPU runs */
		return tdx_err(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX);
	switch (TDX_MD_ID(r->rdx)) {
	case TDX_MD_ID(TDX_MD_VP_STATE): r->r8 = v->state; break;
	case TDX_MD_ID(TDX_MD_VP_INDEX): r->r8 = v->index; break;
	case TDX_MD_ID(TDX_MD_VP_ASSOC_LPID):
		r->r8 = v->assoc_lp == TDX_NONE ? UINT32_MAX : v->assoc_lp;
		break;
	default: return tdx_err(TDX_METADATA_FIELD_ID_INCORRECT, TDX_OPERAND_ID_RDX);
	}
	return TDX_SUCCESS;
}

void tdx_td_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r)
{
	switch (leaf) {
	case TDH_MNG_CREATE: r->rax = mng_create(m, r); break;
	case TDH_MNG_KEY_CONFIG: r->rax = mng_key_config(m, lp, r); break;
	case TDH_MNG_ADDCX: r->rax = mng_addcx(m, r); break;
	case TDH_MNG_INIT: r->rax = mng_init(m, r); break;
	case TDH_VP_CREATE: r->rax = vp_create(m, r); break;
	case TDH_VP_ADDCX: r->rax = vp_addcx(m, r); break;
	case TDH_VP_INIT: r->rax = vp_init(m, r); break;
	case TDH_MR_EXTEND: r->rax = mr_extend(m, r); break;
	case TDH_MR_FINALIZE: r->rax = mr_finalize(m, r); break;
	case TDH_MNG_RD: r->rax = mng_rd(m, r); break;
	default: r->rax = vp_rd(m, r); break;
	}
}
