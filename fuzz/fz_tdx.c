/* fuzz_tdx_seamcall's machine (fz_tdx.h): configuration, the operation decoder and encoder, operand
 * shaping against the model's state, and "the usual next step" of KVM's TD build and teardown,
 * which lets inputs reach deep states in a few bytes. */
#include "fz_tdx.h"
#include "fz_small.h"

#include <stdlib.h>
#include <string.h>

#define RSVD_PAGES 2u /* the TDMR's reserved area the next step configures */
#define HOST_PA(m) ((uint64_t)(m)->cfg.mem_pages * TDX_PAGE_SIZE) /* host memory past the TDMR */
#define EXIT_STEP  UINT64_MAX                                     /* fz_tdx_next: a TD exit */

static const uint64_t seam_leaves[] = {
    TDH_VP_ENTER,
    TDH_MNG_ADDCX,
    TDH_MEM_PAGE_ADD,
    TDH_MEM_SEPT_ADD,
    TDH_VP_ADDCX,
    TDH_MEM_PAGE_AUG,
    TDH_MEM_RANGE_BLOCK,
    TDH_MNG_KEY_CONFIG,
    TDH_MNG_CREATE,
    TDH_VP_CREATE,
    TDH_MNG_RD,
    TDH_MR_EXTEND,
    TDH_MR_FINALIZE,
    TDH_VP_FLUSH,
    TDH_MNG_VPFLUSHDONE,
    TDH_MNG_KEY_FREEID,
    TDH_MNG_INIT,
    TDH_VP_INIT,
    TDH_VP_RD,
    TDH_PHYMEM_PAGE_RECLAIM,
    TDH_MEM_PAGE_REMOVE,
    TDH_SYS_KEY_CONFIG,
    TDH_SYS_INIT,
    TDH_SYS_RD,
    TDH_SYS_LP_INIT,
    TDH_SYS_TDMR_INIT,
    TDH_SYS_RDALL,
    TDH_MEM_TRACK,
    TDH_MEM_RANGE_UNBLOCK,
    TDH_PHYMEM_CACHE_WB,
    TDH_PHYMEM_PAGE_WBINVD,
    TDH_SYS_CONFIG,
    TDH_VP_INIT | 1u << 16,
    5 /* TDH.MEM.PAGE.RELOCATE: not modelled */,
};
#define N_SEAM (sizeof(seam_leaves) / sizeof(seam_leaves[0]))

static const uint64_t td_leaves[] = {TDG_VP_VMCALL,       TDG_VP_INFO, TDG_VP_VEINFO_GET,
                                     TDG_MEM_PAGE_ACCEPT, TDG_VM_RD,   2 /* TDG.MR.RTMR.EXTEND */};
#define N_TDG (sizeof(td_leaves) / sizeof(td_leaves[0]))
_Static_assert(N_SEAM < 256 && N_TDG < 256, "fz_small_pick: one choice byte");

static const uint64_t fields[] = {
    TDX_MD_SYS_NUM_PKGS,
    TDX_MD_SYS_MINOR_VERSION,
    TDX_MD_SYS_MAJOR_VERSION,
    TDX_MD_SYS_MAX_TDMRS,
    TDX_MD_SYS_TDR_BASE_SIZE,
    TDX_MD_SYS_TDCS_BASE_SIZE,
    TDX_MD_SYS_TDVPS_BASE_SIZE,
    TDX_MD_TD_CHLDCNT,
    TDX_MD_TD_LIFECYCLE_STATE,
    TDX_MD_TD_HKID,
    TDX_MD_TD_NUM_VCPUS,
    TDX_MD_TD_OP_STATE,
    TDX_MD_TD_ATTRIBUTES,
    TDX_MD_TD_MAX_VCPUS,
    TDX_MD_TD_GPAW,
    TDX_MD_TD_EPOCH,
    TDX_MD_TD_MRTD,
    TDX_MD_VP_STATE,
    TDX_MD_VP_INDEX,
    TDX_MD_VP_ASSOC_LPID,
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

void fz_tdx_config(uint8_t b0, uint8_t b1, struct tdx_config *c)
{
	c->lps = 1u + (b0 & 7u);
	c->packages = 1u + ((b0 >> 3) & 3u);
	if (c->packages > c->lps)
		c->packages = c->lps;
	c->mem_pages = 32u << (b1 & 3u);
	c->tdcs_pages = 1u + ((b1 >> 2) & 3u);
	c->tdvps_pages = 1u + ((b1 >> 4) & 3u);
	c->hkid_first = FZ_TDX_HKID0;
	c->hkid_count = (b1 & 0x40) ? 2u : 8u;
}

enum hvsim_status fz_tdx_create(struct fz_tdx_sys *s)
{
	memset(s, 0, sizeof(*s));
	return tdx_replay_machine_create(&s->mc);
}

void fz_tdx_destroy(struct fz_tdx_sys *s)
{
	tdx_replay_machine_destroy(&s->mc);
}

const char *fz_tdx_op_name(uint8_t kind)
{
	static const char *const names[FZ_TDX_OP_COUNT] = {"seamcall", "tdcall", "exit", "next"};

	return kind < FZ_TDX_OP_COUNT ? names[kind] : "?";
}

/* ---- Decoder and encoder ---- */

static void decode_opnd(struct fz_in *in, struct fz_tdx_opnd *x)
{
	x->shape = (uint8_t)fz_small_choose(in, FZ_TDX_SHAPE_COUNT);
	x->v = x->shape == FZ_TDX_RAW ? fz_u64(in) : fz_u16(in);
}

static void encode_opnd(struct fz_out *o, const struct fz_tdx_opnd *x)
{
	fz_put_choose(o, FZ_TDX_SHAPE_COUNT, x->shape % FZ_TDX_SHAPE_COUNT);
	fz_put(o, x->v, x->shape % FZ_TDX_SHAPE_COUNT == FZ_TDX_RAW ? 8 : 2);
}

void fz_tdx_decode(struct fz_in *in, struct fz_tdx_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)fz_small_choose(in, FZ_TDX_OP_COUNT);
	switch (op->kind) {
	case FZ_TDX_SEAMCALL:
	case FZ_TDX_TDCALL:
		op->lp = fz_u8(in);
		op->leaf = op->kind == FZ_TDX_SEAMCALL ? fz_small_pick(in, seam_leaves, N_SEAM)
		                                       : fz_small_pick(in, td_leaves, N_TDG);
		for (unsigned i = 0; i < (op->kind == FZ_TDX_SEAMCALL ? 4u : 3u); i++)
			decode_opnd(in, &op->opnd[i]);
		break;
	case FZ_TDX_EXIT: op->lp = fz_u8(in); break;
	default:
		op->mode = fz_u8(in);
		op->sel = fz_u8(in);
		break;
	}
}

void fz_tdx_encode(struct fz_out *o, const struct fz_tdx_op *op)
{
	fz_put_choose(o, FZ_TDX_OP_COUNT, op->kind);
	switch (op->kind) {
	case FZ_TDX_SEAMCALL:
	case FZ_TDX_TDCALL:
		fz_put(o, op->lp, 1);
		if (op->kind == FZ_TDX_SEAMCALL)
			fz_put_pick(o, seam_leaves, N_SEAM, op->leaf);
		else
			fz_put_pick(o, td_leaves, N_TDG, op->leaf);
		for (unsigned i = 0; i < (op->kind == FZ_TDX_SEAMCALL ? 4u : 3u); i++)
			encode_opnd(o, &op->opnd[i]);
		break;
	case FZ_TDX_EXIT: fz_put(o, op->lp, 1); break;
	default:
		fz_put(o, op->mode, 1);
		fz_put(o, op->sel, 1);
		break;
	}
}

/* ---- Operand shaping ---- */

uint64_t fz_tdx_resolve(const struct tdx_module *m, const struct fz_tdx_opnd *x)
{
	unsigned level = (unsigned)(x->v >> 4) & 3;
	uint64_t gpa;

	switch (x->shape % FZ_TDX_SHAPE_COUNT) {
	case FZ_TDX_RAW: return x->v;
	case FZ_TDX_PAGE: return (x->v % m->cfg.mem_pages) * TDX_PAGE_SIZE;
	case FZ_TDX_FREE: return fz_tdx_nth_page(m, x->v, false);
	case FZ_TDX_TDR: return fz_tdx_nth_td_page(m, x->v, false);
	case FZ_TDX_TDVPR: return fz_tdx_nth_td_page(m, x->v, true);
	case FZ_TDX_OWNED: return fz_tdx_nth_page(m, x->v, true);
	case FZ_TDX_GPA:
		gpa = FZ_TDX_GPA_BASE + (x->v & 15) * TDX_PAGE_SIZE;
		return (gpa & ~((UINT64_C(1) << (12 + 9 * level)) - 1)) | level;
	case FZ_TDX_HKID: return m->cfg.hkid_first + x->v % (m->cfg.hkid_count + 1u);
	case FZ_TDX_FIELD: return fields[x->v % N_FIELDS];
	default: return x->v * TDX_PAGE_SIZE;
	}
}

/* ---- The usual next step ---- */

static void set(struct tdx_regs *r, uint64_t leaf, uint64_t rcx, uint64_t rdx, uint64_t r8,
                uint64_t r9)
{
	memset(r, 0, sizeof(*r));
	r->rax = leaf;
	r->rcx = rcx;
	r->rdx = rdx;
	r->r8 = r8;
	r->r9 = r9;
}

static unsigned lp_of_pkg(const struct tdx_module *m, unsigned pkg)
{
	for (unsigned lp = 0; lp < m->cfg.lps; lp++)
		if (m->lp[lp].pkg == pkg)
			return lp;
	return 0;
}

/* The first package not in bitmap, or TDX_NONE. */
static unsigned pkg_missing(const struct tdx_module *m, uint8_t bitmap)
{
	for (unsigned p = 0; p < m->cfg.packages; p++)
		if (!(bitmap & (1u << p)))
			return p;
	return TDX_NONE;
}

static bool next_init(const struct tdx_module *m, unsigned *lp, struct tdx_regs *r)
{
	unsigned p;

	*lp = 0;
	switch (m->sys_state) {
	case TDX_SYSINIT_PENDING: set(r, TDH_SYS_INIT, 0, 0, 0, 0); return true;
	case TDX_SYSINIT_DONE:
		for (unsigned i = 0; i < m->cfg.lps; i++)
			if (!m->lp[i].init) {
				*lp = i;
				set(r, TDH_SYS_LP_INIT, 0, 0, 0, 0);
				return true;
			}
		set(r, TDH_SYS_CONFIG, 0, HOST_PA(m), FZ_TDX_HKID0, RSVD_PAGES * TDX_PAGE_SIZE);
		return true;
	case TDX_SYSCONFIG_DONE:
		p = pkg_missing(m, m->pkg_keyed);
		*lp = lp_of_pkg(m, p == TDX_NONE ? 0 : p);
		set(r, TDH_SYS_KEY_CONFIG, 0, 0, 0, 0);
		return true;
	default:
		set(r, TDH_SYS_TDMR_INIT, (uint64_t)m->tdmr_base * TDX_PAGE_SIZE, 0, 0, 0);
		return m->tdmr_done < m->tdmr_pages;
	}
}

/* The sel-th live TD (slot), counting only TDs not in teardown when build is set. */
static unsigned pick_td(const struct tdx_module *m, uint8_t sel, bool build)
{
	unsigned slots[TDX_TD_MAX], n = 0;

	for (unsigned t = 0; t < TDX_TD_MAX; t++)
		if (m->td[t].used && (!build || m->td[t].lifecycle <= TD_KEYS_CONFIGURED))
			slots[n++] = t;
	if (n == 0 || (build && sel % (n + 1) == n))
		return TDX_NONE; /* build: one more choice, a new TD */
	return slots[sel % n];
}

static bool next_create(const struct tdx_module *m, struct tdx_regs *r)
{
	for (unsigned i = 0; i < m->cfg.hkid_count; i++)
		if (m->kot[i].state == KOT_HKID_FREE) {
			set(r, TDH_MNG_CREATE, fz_tdx_nth_page(m, 0, false), m->cfg.hkid_first + i,
			    0, 0);
			return true;
		}
	return false;
}

static bool next_vcpu(const struct tdx_module *m, unsigned t, struct tdx_regs *r)
{
	const struct tdx_td *td = &m->td[t];
	uint64_t tdr = (uint64_t)td->tdr * TDX_PAGE_SIZE;
	bool any = false;

	for (unsigned v = 0; v < TDX_VCPU_MAX; v++) {
		const struct tdx_vcpu *vc = &td->vcpu[v];
		uint64_t tdvpr = (uint64_t)vc->tdvpr * TDX_PAGE_SIZE;

		any |= vc->used;
		if (!vc->used || vc->state != TDX_VCPU_UNINITIALIZED)
			continue;
		if (vc->tdvpx + 1u < m->cfg.tdvps_pages)
			set(r, TDH_VP_ADDCX, fz_tdx_nth_page(m, 0, false), tdvpr, 0, 0);
		else
			set(r, TDH_VP_INIT, tdvpr, 0, 0, 0);
		return true;
	}
	if (!any)
		set(r, TDH_VP_CREATE, fz_tdx_nth_page(m, 0, false), tdr, 0, 0);
	return !any;
}

static bool next_memory(const struct tdx_module *m, unsigned t, struct tdx_regs *r)
{
	uint64_t tdr = (uint64_t)m->td[t].tdr * TDX_PAGE_SIZE;

	for (unsigned l = 3; l >= 1; l--)
		if (!fz_tdx_sept_walk(m, t, FZ_TDX_GPA_BASE, l)) {
			set(r, TDH_MEM_SEPT_ADD,
			    (FZ_TDX_GPA_BASE & ~((UINT64_C(1) << (12 + 9 * l)) - 1)) | l, tdr,
			    fz_tdx_nth_page(m, 0, false), 0);
			return true;
		}
	if (!fz_tdx_sept_mapped(m, t, FZ_TDX_GPA_BASE)) {
		set(r, TDH_MEM_PAGE_ADD, FZ_TDX_GPA_BASE, tdr, fz_tdx_nth_page(m, 0, false),
		    HOST_PA(m));
		return true;
	}
	set(r, TDH_MR_FINALIZE, tdr, 0, 0, 0);
	return true;
}

/* Enters the first ready vCPU that does not run, on its LP or the first LP in the host. */
static bool next_enter(const struct tdx_module *m, unsigned t, unsigned *lp, struct tdx_regs *r)
{
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++) {
		const struct tdx_vcpu *vc = &m->td[t].vcpu[v];

		if (!vc->used || vc->state != TDX_VCPU_READY || fz_tdx_vcpu_running(m, t, v))
			continue;
		*lp = vc->assoc_lp;
		for (unsigned i = 0; i < m->cfg.lps && *lp == TDX_NONE; i++)
			if (m->lp[i].in_td == TDX_NONE)
				*lp = i;
		if (*lp == TDX_NONE || m->lp[*lp].in_td != TDX_NONE)
			return false;
		set(r, TDH_VP_ENTER, (uint64_t)vc->tdvpr * TDX_PAGE_SIZE, 0, 0, 0);
		return true;
	}
	return false;
}

static bool next_build(const struct tdx_module *m, unsigned t, unsigned *lp, struct tdx_regs *r)
{
	const struct tdx_td *td = &m->td[t];
	uint64_t tdr = (uint64_t)td->tdr * TDX_PAGE_SIZE;

	*lp = 0;
	if (td->lifecycle == TD_HKID_ASSIGNED) {
		*lp = lp_of_pkg(m, pkg_missing(m, td->pkg_keyed));
		set(r, TDH_MNG_KEY_CONFIG, tdr, 0, 0, 0);
		return true;
	}
	if (td->tdcx < m->cfg.tdcs_pages) {
		set(r, TDH_MNG_ADDCX, fz_tdx_nth_page(m, 0, false), tdr, 0, 0);
		return true;
	}
	if (td->op_state == TDX_OP_UNINITIALIZED) {
		set(r, TDH_MNG_INIT, tdr, HOST_PA(m), 0, 0);
		return true;
	}
	if (td->op_state == TDX_OP_INITIALIZED)
		return next_vcpu(m, t, r) || next_memory(m, t, r);
	return next_enter(m, t, lp, r);
}

static bool next_teardown(const struct tdx_module *m, unsigned t, unsigned *lp, struct tdx_regs *r)
{
	const struct tdx_td *td = &m->td[t];
	uint64_t tdr = (uint64_t)td->tdr * TDX_PAGE_SIZE;
	const struct tdx_kot *k = tdx_kot_peek(m, td->hkid);
	uint32_t i;

	*lp = 0;
	for (i = 0; i < m->cfg.lps; i++)
		if (m->lp[i].in_td == t) {
			*lp = i;
			r->rax = EXIT_STEP;
			return true;
		}
	if (td->lifecycle <= TD_KEYS_CONFIGURED) {
		for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
			if (td->vcpu[v].used && td->vcpu[v].assoc_lp != TDX_NONE) {
				*lp = td->vcpu[v].assoc_lp;
				set(r, TDH_VP_FLUSH, (uint64_t)td->vcpu[v].tdvpr * TDX_PAGE_SIZE, 0,
				    0, 0);
				return true;
			}
		set(r, TDH_MNG_VPFLUSHDONE, tdr, 0, 0, 0);
		return true;
	}
	if (td->lifecycle == TD_BLOCKED) {
		unsigned p = k ? pkg_missing(m, k->wb_pkgs) : TDX_NONE;

		*lp = p == TDX_NONE ? 0 : lp_of_pkg(m, p);
		set(r, p == TDX_NONE ? TDH_MNG_KEY_FREEID : TDH_PHYMEM_CACHE_WB,
		    p == TDX_NONE ? tdr : 0, 0, 0, 0);
		return true;
	}
	set(r, TDH_PHYMEM_PAGE_RECLAIM, tdr, 0, 0, 0);
	if ((i = fz_tdx_first_child(m, t)) != UINT32_MAX)
		r->rcx = (uint64_t)i * TDX_PAGE_SIZE;
	return true;
}

bool fz_tdx_next(const struct tdx_module *m, uint8_t mode, uint8_t sel, unsigned *lp,
                 struct tdx_regs *r)
{
	unsigned t;

	if (m->sys_state != TDX_SYS_READY || m->tdmr_done < m->tdmr_pages)
		return next_init(m, lp, r);
	t = pick_td(m, sel, !(mode & 1));
	if (mode & 1)
		return t != TDX_NONE && next_teardown(m, t, lp, r);
	*lp = 0;
	if (t == TDX_NONE)
		return next_create(m, r);
	return next_build(m, t, lp, r);
}
