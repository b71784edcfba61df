/* Executing fuzz_tdx_seamcall's operations (fz_tdx.h) on the TDX model and checking every invariant
 * after each one (fz_tdx_inv.c and the model's tdx_check), and the run loop shared by the harness
 * and the tests. */
#include "fz_tdx.h"

#include <string.h>

#define NOT_A_LEAF \
	0xffffu /* the "leaf" of a TDCALL or an exit for the PAMT rule: none may retype */

static void flag(struct fz_tdx_sys *s, const char *kind, const char *why)
{
	if (s->bad)
		return;
	s->bad = kind;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static void mix(struct fz_tdx_sys *s, uint64_t v)
{
	fz_mix(&s->hash, v);
}

/* The invariants after any operation. */
static void check_state(struct fz_tdx_sys *s, unsigned leaf, uint64_t status)
{
	char why[FZ_TDX_WHY_MAX];

	if (!tdx_check(s->m, why, sizeof(why)))
		flag(s, "tdx_check", why);
	if (!fz_inv_tdx_page_owner(s->m, why, sizeof(why)))
		flag(s, "page_owner_function", why);
	if (!fz_inv_tdx_pamt_types(s->before, s->m, leaf, status, why, sizeof(why)))
		flag(s, "pamt_type_consistent", why);
	if (!fz_inv_tdx_no_effect(s->before, s->m, status, why, sizeof(why)))
		flag(s, "failure_without_effect", why);
}

static void count(struct fz_tdx_sys *s, unsigned leaf, uint64_t st)
{
	struct fz_tdx_stats *c = &s->stats;

	c->ok += st == TDX_SUCCESS;
	c->failed += (st & TDX_STATUS_ERROR) != 0;
	if (st != TDX_SUCCESS)
		return;
	c->created += leaf == TDH_MNG_CREATE;
	c->finalized += leaf == TDH_MR_FINALIZE;
	c->entered += leaf == TDH_VP_ENTER;
	c->removed += leaf == TDH_MEM_PAGE_REMOVE;
	c->freed += leaf == TDH_MNG_KEY_FREEID;
}

/* The harness's own vCPU-to-LP map follows what the leaf did. */
static void track(struct fz_tdx_sys *s, unsigned lp, unsigned leaf, const struct tdx_regs *in,
                  const struct tdx_regs *out)
{
	const struct tdx_pamt *e = &s->before->pamt[(in->rcx / TDX_PAGE_SIZE) % TDX_MEM_PAGES_MAX];

	if (out->rax != TDX_SUCCESS)
		return;
	if (leaf == TDH_VP_ENTER)
		s->assoc[e->td][e->vcpu] = (uint8_t)lp;
	else if (leaf == TDH_VP_FLUSH)
		s->assoc[e->td][e->vcpu] = TDX_NONE;
	else if (leaf == TDH_PHYMEM_PAGE_RECLAIM && out->rcx == PT_TDR)
		memset(s->assoc[e->td], TDX_NONE, sizeof(s->assoc[e->td]));
	else if (leaf == TDH_PHYMEM_PAGE_RECLAIM && out->rcx == PT_TDVPR)
		s->assoc[e->td][e->vcpu] = TDX_NONE;
	s->stats.reclaimed += leaf == TDH_PHYMEM_PAGE_RECLAIM && out->rcx == PT_TDR;
}

static void seamcall(struct fz_tdx_sys *s, unsigned lp, struct tdx_regs *r)
{
	struct tdx_regs in = *r;
	unsigned leaf = (unsigned)(in.rax & 0xffff);
	char why[FZ_TDX_WHY_MAX];

	if (in.rax >> 16) /* a version or reserved bit: no leaf ran */
		leaf = NOT_A_LEAF;
	tdx_seamcall(s->m, lp, r);
	count(s, leaf, r->rax);
	mix(s, r->rax);
	mix(s, r->rcx ^ r->rdx ^ r->r8);
	if (!fz_inv_tdx_status_known(r->rax, why, sizeof(why)))
		flag(s, "status_known", why);
	if (!fz_inv_tdx_lifecycle(s->before, leaf, &in, r->rax, why, sizeof(why)))
		flag(s, "lifecycle_order", why);
	if (!fz_inv_tdx_association(s, lp, leaf, &in, r->rax, why, sizeof(why)))
		flag(s, "vcpu_lp_association", why);
	check_state(s, leaf, r->rax);
	track(s, lp, leaf, &in, r);
}

static void tdcall(struct fz_tdx_sys *s, const struct fz_tdx_op *op)
{
	struct tdx_regs g = {0}, host = {0};
	unsigned lp = op->lp % TDX_LP_MAX;
	char why[FZ_TDX_WHY_MAX];
	bool exited;

	g.rax = op->leaf;
	g.rcx = fz_tdx_resolve(s->m, &op->opnd[0]);
	g.rdx = fz_tdx_resolve(s->m, &op->opnd[1]);
	g.r11 = fz_tdx_resolve(s->m, &op->opnd[2]);
	exited = tdx_tdcall(s->m, lp, &g, &host);
	s->stats.exits += exited;
	s->stats.accepted += !exited && op->leaf == TDG_MEM_PAGE_ACCEPT && g.rax == TDX_SUCCESS;
	mix(s, g.rax);
	mix(s, exited ? host.rax ^ host.r8 : g.r8);
	if (!fz_inv_tdx_status_known(exited ? host.rax : g.rax, why, sizeof(why)))
		flag(s, "status_known", why);
	if (!fz_inv_tdx_association(s, lp, NOT_A_LEAF, &g, g.rax, why, sizeof(why)))
		flag(s, "vcpu_lp_association", why);
	check_state(s, NOT_A_LEAF, exited ? TDX_SUCCESS : g.rax);
}

static void td_exit(struct fz_tdx_sys *s, unsigned lp)
{
	struct tdx_regs host;

	if (tdx_td_exit(s->m, lp, &host)) {
		s->stats.exits++;
		mix(s, host.rax);
	}
	check_state(s, NOT_A_LEAF, TDX_SUCCESS);
}

void fz_tdx_execute(struct fz_tdx_sys *s, const struct fz_tdx_op *op)
{
	struct tdx_regs r = {0};
	unsigned lp = op->lp % TDX_LP_MAX;

	tdx_copy(s->before, s->m);
	switch (op->kind) {
	case FZ_TDX_SEAMCALL:
		r.rax = op->leaf;
		r.rcx = fz_tdx_resolve(s->m, &op->opnd[0]);
		r.rdx = fz_tdx_resolve(s->m, &op->opnd[1]);
		r.r8 = fz_tdx_resolve(s->m, &op->opnd[2]);
		r.r9 = fz_tdx_resolve(s->m, &op->opnd[3]);
		seamcall(s, lp, &r);
		break;
	case FZ_TDX_TDCALL: tdcall(s, op); break;
	case FZ_TDX_EXIT: td_exit(s, lp); break;
	default:
		if (!fz_tdx_next(s->m, op->mode, op->sel, &lp, &r))
			mix(s, 0);
		else if (r.rax == UINT64_MAX)
			td_exit(s, lp);
		else
			seamcall(s, lp, &r);
		break;
	}
	s->stats.ready += tdx_sys_state(s->m) == TDX_SYS_READY;
}

void fz_tdx_run(struct fz_tdx_sys *s, const uint8_t *data, size_t size, struct fz_tdx_outcome *o)
{
	struct tdx_config c;
	struct fz_tdx_op op;
	struct fz_in in;
	uint8_t b0, b1;

	memset(o, 0, sizeof(*o));
	fz_init(&in, data, size);
	b0 = fz_u8(&in);
	b1 = fz_u8(&in);
	fz_tdx_config(b0, b1, &c);
	if (tdx_reset(s->m, &c, NULL) != HVSIM_OK) {
		o->kind = "setup";
		snprintf(o->why, sizeof(o->why), "tdx_reset refused configuration %#x %#x", b0, b1);
		return;
	}
	memset(s->assoc, TDX_NONE, sizeof(s->assoc));
	memset(&s->stats, 0, sizeof(s->stats));
	s->hash = 0xcbf29ce484222325u;
	s->bad = NULL;
	for (unsigned i = 0; fz_more(&in, &i, FZ_TDX_OPS_MAX) && !o->kind;) {
		fz_tdx_decode(&in, &op);
		fz_tdx_execute(s, &op);
		o->ops = i;
		if (s->bad) {
			o->kind = s->bad;
			snprintf(o->why, sizeof(o->why), "op %u (%s): %s", i - 1,
			         fz_tdx_op_name(op.kind), s->why);
		}
	}
	mix(s, s->stats.ok);
	o->hash = s->hash;
}
