/* Executing fuzz_tdx_seamcall's operations (fz_tdx.h): each operand made concrete against the
 * model, then the call through the tdx-replay executor (hv/tdx_replay_exec.c), which runs every
 * named invariant after it; the harness keeps its counters and result hash around it. And the run
 * loop shared by the harness, the export and the tests. */
#include "fz_tdx.h"

#include <string.h>

static void mix(struct fz_tdx_sys *s, uint64_t v)
{
	fz_mix(&s->hash, v);
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

/* The step's finding (the first of the input) and its log entry. */
static void done(struct fz_tdx_sys *s, const struct tdx_replay_step *st)
{
	if (st->bad && !s->bad) {
		s->bad = st->bad;
		snprintf(s->why, sizeof(s->why), "%s", st->why);
	}
	if (s->log)
		s->log(s->log_ctx, st);
}

static void seamcall(struct fz_tdx_sys *s, unsigned lp, const struct tdx_regs *in)
{
	unsigned leaf = in->rax >> 16 ? TDX_REPLAY_NOT_LEAF : (unsigned)(in->rax & 0xffff);
	struct tdx_replay_step st;
	const struct tdx_regs *r = &st.out;

	tdx_replay_seamcall(&s->mc, lp, in, &st);
	count(s, leaf, r->rax);
	mix(s, r->rax);
	mix(s, r->rcx ^ r->rdx ^ r->r8);
	s->stats.reclaimed +=
	    leaf == TDH_PHYMEM_PAGE_RECLAIM && r->rax == TDX_SUCCESS && r->rcx == PT_TDR;
	done(s, &st);
}

static void tdcall(struct fz_tdx_sys *s, const struct fz_tdx_op *op)
{
	struct tdx_regs g = {0};
	struct tdx_replay_step st;

	g.rax = op->leaf;
	g.rcx = fz_tdx_resolve(s->mc.m, &op->opnd[0]);
	g.rdx = fz_tdx_resolve(s->mc.m, &op->opnd[1]);
	g.r11 = fz_tdx_resolve(s->mc.m, &op->opnd[2]);
	tdx_replay_tdcall(&s->mc, op->lp, &g, &st);
	s->stats.exits += st.exited;
	s->stats.accepted +=
	    !st.exited && op->leaf == TDG_MEM_PAGE_ACCEPT && st.out.rax == TDX_SUCCESS;
	mix(s, st.out.rax);
	mix(s, st.exited ? st.host.rax ^ st.host.r8 : st.out.r8);
	done(s, &st);
}

static void td_exit(struct fz_tdx_sys *s, unsigned lp)
{
	struct tdx_replay_step st;

	tdx_replay_td_exit(&s->mc, lp, &st);
	if (st.exited) {
		s->stats.exits++;
		mix(s, st.host.rax);
	}
	done(s, &st);
}

void fz_tdx_execute(struct fz_tdx_sys *s, const struct fz_tdx_op *op)
{
	struct tdx_regs r = {0};
	unsigned lp = op->lp % TDX_LP_MAX;

	switch (op->kind) {
	case FZ_TDX_SEAMCALL:
		r.rax = op->leaf;
		r.rcx = fz_tdx_resolve(s->mc.m, &op->opnd[0]);
		r.rdx = fz_tdx_resolve(s->mc.m, &op->opnd[1]);
		r.r8 = fz_tdx_resolve(s->mc.m, &op->opnd[2]);
		r.r9 = fz_tdx_resolve(s->mc.m, &op->opnd[3]);
		seamcall(s, lp, &r);
		break;
	case FZ_TDX_TDCALL: tdcall(s, op); break;
	case FZ_TDX_EXIT: td_exit(s, lp); break;
	default:
		if (!fz_tdx_next(s->mc.m, op->mode, op->sel, &lp, &r))
			mix(s, 0);
		else if (r.rax == UINT64_MAX)
			td_exit(s, lp);
		else
			seamcall(s, lp, &r);
		break;
	}
	s->stats.ready += tdx_sys_state(s->mc.m) == TDX_SYS_READY;
}

void fz_tdx_run(struct fz_tdx_sys *s, const uint8_t *data, size_t size, struct fz_tdx_outcome *o)
{
	struct fz_tdx_op op;
	struct fz_in in;
	uint8_t b0, b1;

	memset(o, 0, sizeof(*o));
	fz_init(&in, data, size);
	b0 = fz_u8(&in);
	b1 = fz_u8(&in);
	fz_tdx_config(b0, b1, &s->cfg);
	if (tdx_replay_reset(&s->mc, &s->cfg, NULL) != HVSIM_OK) {
		o->kind = "setup";
		snprintf(o->why, sizeof(o->why), "tdx_reset refused configuration %#x %#x", b0, b1);
		return;
	}
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
