/* The TDX model's own invariants (tdx_check), as listed in tdx_int.h: PAMT types against the TDMR,
 * page owners against the TD table and the per-TD child counts, Secure-EPT uniqueness, KOT
 * ownership, vCPU-to-LP association. Pure functions over const state; each reports the first
 * broken rule with the page, TD or LP it concerns. */
#include "tdx_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static bool fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why && cap)
		vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

static bool in_tdmr(const struct tdx_module *m, uint32_t i)
{
	return i >= m->tdmr_base && i < m->tdmr_base + m->tdmr_pages;
}

static bool page_type_ok(const struct tdx_module *m, uint32_t i, char *why, size_t cap)
{
	const struct tdx_pamt *e = &m->pamt[i];
	bool rsvd = in_tdmr(m, i) && i < m->tdmr_base + m->rsvd_pages;
	bool usable = in_tdmr(m, i) && !rsvd && i < m->tdmr_base + m->tdmr_done;

	if (rsvd != (e->pt == PT_RSVD))
		return fail(why, cap, "page %u: type %u, reserved area %d", i, e->pt, rsvd);
	if (!usable && e->pt != PT_NDA && e->pt != PT_RSVD)
		return fail(why, cap, "page %u: type %u outside the initialized TDMR", i, e->pt);
	if (e->pt == PT_NDA || e->pt == PT_RSVD)
		return e->td == TDX_NONE ? true
		                         : fail(why, cap, "page %u: free with owner %u", i, e->td);
	if (e->pt != PT_REG && e->pt != PT_TDR && e->pt != PT_TDCX && e->pt != PT_TDVPR &&
	    e->pt != PT_EPT)
		return fail(why, cap, "page %u: unknown type %u", i, e->pt);
	if (e->td >= TDX_TD_MAX || !m->td[e->td].used)
		return fail(why, cap, "page %u: type %u owned by TD slot %u, not a live TD", i,
		            e->pt, e->td);
	return true;
}

static bool page_role_ok(const struct tdx_module *m, uint32_t i, char *why, size_t cap)
{
	const struct tdx_pamt *e = &m->pamt[i];
	const struct tdx_td *t = &m->td[e->td];

	if (e->pt == PT_TDR && t->tdr != i)
		return fail(why, cap, "page %u: a TDR, but TD %u's TDR is page %u", i, e->td,
		            t->tdr);
	if (e->pt == PT_TDVPR &&
	    (e->vcpu >= TDX_VCPU_MAX || !t->vcpu[e->vcpu].used || t->vcpu[e->vcpu].tdvpr != i))
		return fail(why, cap, "page %u: a TDVPR not matching a vCPU of TD %u", i, e->td);
	if (e->pt == PT_REG && (e->state < SEPT_MAPPED || e->state > SEPT_PENDING_BLOCKED ||
	                        e->gpa % TDX_PAGE_SIZE || e->gpa >> (TDX_GPAW - 1)))
		return fail(why, cap, "page %u: private page state %u GPA %#llx", i, e->state,
		            (unsigned long long)e->gpa);
	if (e->pt == PT_EPT &&
	    (e->state < 1 || e->state > 3 || e->gpa & ((UINT64_C(1) << (12 + 9 * e->state)) - 1)))
		return fail(why, cap, "page %u: Secure-EPT page level %u base %#llx", i, e->state,
		            (unsigned long long)e->gpa);
	return true;
}

/* Pages per TD, gathered in one pass over the PAMT. */
struct tally {
	unsigned children[TDX_TD_MAX], tdcx[TDX_TD_MAX], tdvpx[TDX_TD_MAX][TDX_VCPU_MAX];
	uint32_t sept[TDX_MEM_PAGES_MAX]; /* PT_REG and PT_EPT pages */
	unsigned n_sept;
};

static void tally_page(struct tally *t, const struct tdx_pamt *e, uint32_t i)
{
	if (e->pt != PT_TDR)
		t->children[e->td]++;
	if (e->pt == PT_TDCX && e->vcpu == TDX_NONE)
		t->tdcx[e->td]++;
	else if (e->pt == PT_TDCX && e->vcpu < TDX_VCPU_MAX)
		t->tdvpx[e->td][e->vcpu]++;
	if (e->pt == PT_REG || e->pt == PT_EPT)
		t->sept[t->n_sept++] = i;
}

/* Pages x and y of m both Secure-EPT entries for one GPA of one TD: one leaf, or one table. */
static bool sept_clash(const struct tdx_module *m, uint32_t x, uint32_t y)
{
	const struct tdx_pamt *a = &m->pamt[x], *b = &m->pamt[y];

	return a->pt == b->pt && a->td == b->td && a->gpa == b->gpa &&
	       (a->pt == PT_REG || a->state == b->state);
}

/* No GPA mapped twice in one TD, no Secure-EPT table present twice. */
static bool sept_unique(const struct tdx_module *m, const struct tally *t, char *why, size_t cap)
{
	for (unsigned x = 0; x < t->n_sept; x++)
		for (unsigned y = x + 1; y < t->n_sept; y++) {
			const struct tdx_pamt *a = &m->pamt[t->sept[x]], *b = &m->pamt[t->sept[y]];

			if (a->pt != b->pt || a->td != b->td || a->gpa != b->gpa)
				continue;
			if (a->pt == PT_REG)
				return fail(
				    why, cap, "pages %u and %u: both map GPA %#llx of TD %u",
				    t->sept[x], t->sept[y], (unsigned long long)a->gpa, a->td);
			if (a->state == b->state)
				return fail(why, cap,
				            "pages %u and %u: both level-%u Secure-EPT pages "
				            "at %#llx",
				            t->sept[x], t->sept[y], a->state,
				            (unsigned long long)a->gpa);
		}
	return true;
}

static bool tdmr_ok(const struct tdx_module *m, char *why, size_t cap)
{
	if (m->tdmr_base + m->tdmr_pages > m->cfg.mem_pages || m->tdmr_done > m->tdmr_pages ||
	    (m->tdmr_pages && m->rsvd_pages >= m->tdmr_pages))
		return fail(why, cap, "TDMR pages %u+%u (reserved %u, initialized %u) bad",
		            m->tdmr_base, m->tdmr_pages, m->rsvd_pages, m->tdmr_done);
	return true;
}

static bool pamt_ok(const struct tdx_module *m, struct tally *t, char *why, size_t cap)
{
	if (!tdmr_ok(m, why, cap))
		return false;
	for (uint32_t i = 0; i < m->cfg.mem_pages; i++) {
		if (!page_type_ok(m, i, why, cap))
			return false;
		if (m->pamt[i].pt == PT_NDA || m->pamt[i].pt == PT_RSVD)
			continue;
		if (!page_role_ok(m, i, why, cap))
			return false;
		tally_page(t, &m->pamt[i], i);
	}
	return sept_unique(m, t, why, cap);
}

/* Per TD: the child count and the TDCX counts match the pages that name it. */
static bool td_pages_ok(const struct tdx_module *m, const struct tally *c, unsigned td, char *why,
                        size_t cap)
{
	const struct tdx_td *t = &m->td[td];

	if (t->tdr >= m->cfg.mem_pages || m->pamt[t->tdr].pt != PT_TDR || m->pamt[t->tdr].td != td)
		return fail(why, cap, "TD %u: its TDR page %u is not a TDR it owns", td, t->tdr);
	if (c->children[td] != t->chldcnt)
		return fail(why, cap, "TD %u: CHLDCNT %u, pages owned %u", td, t->chldcnt,
		            c->children[td]);
	if (c->tdcx[td] != t->tdcx)
		return fail(why, cap, "TD %u: %u TDCX pages counted, %u owned", td, t->tdcx,
		            c->tdcx[td]);
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
		if (t->vcpu[v].used && c->tdvpx[td][v] != t->vcpu[v].tdvpx)
			return fail(why, cap, "TD %u vCPU %u: %u TDVPX pages counted, %u owned", td,
			            v, t->vcpu[v].tdvpx, c->tdvpx[td][v]);
	return true;
}

/* tdx_kot_peek's answer, here so that the checks (which fuzzing builds leave uninstrumented) run
 * no instrumented model code. */
static const struct tdx_kot *kot_at(const struct tdx_module *m, unsigned hkid)
{
	if (hkid < m->cfg.hkid_first || hkid >= m->cfg.hkid_first + m->cfg.hkid_count)
		return NULL;
	return &m->kot[hkid - m->cfg.hkid_first];
}

static bool td_key_ok(const struct tdx_module *m, unsigned td, char *why, size_t cap)
{
	const struct tdx_td *t = &m->td[td];
	const struct tdx_kot *k = kot_at(m, t->hkid);
	uint8_t want = t->lifecycle == TD_BLOCKED ? KOT_HKID_FLUSHED : KOT_HKID_ASSIGNED;

	if (t->lifecycle > TD_TEARDOWN || t->op_state > TDX_OP_RUNNABLE)
		return fail(why, cap, "TD %u: lifecycle %u, op_state %u", td, t->lifecycle,
		            t->op_state);
	if (t->lifecycle == TD_TEARDOWN)
		return true;
	if (!k || k->state != want || k->td != td)
		return fail(why, cap, "TD %u (lifecycle %u): HKID %u not held in KOT state %u", td,
		            t->lifecycle, t->hkid, want);
	return true;
}

static bool kot_ok(const struct tdx_module *m, char *why, size_t cap)
{
	for (unsigned i = 0; i < m->cfg.hkid_count; i++) {
		const struct tdx_kot *k = &m->kot[i];
		unsigned hkid = m->cfg.hkid_first + i;

		if ((k->state == KOT_HKID_RESERVED) !=
		    (m->sys_state >= TDX_SYSCONFIG_DONE && hkid == m->global_hkid))
			return fail(why, cap, "HKID %u: KOT state %u, global HKID %u", hkid,
			            k->state, m->global_hkid);
		if (k->state == KOT_HKID_ASSIGNED || k->state == KOT_HKID_FLUSHED) {
			if (k->td >= TDX_TD_MAX || !m->td[k->td].used || m->td[k->td].hkid != hkid)
				return fail(why, cap,
				            "HKID %u: assigned to TD slot %u, which has not it",
				            hkid, k->td);
		} else if (k->td != TDX_NONE)
			return fail(why, cap, "HKID %u: state %u with TD slot %u", hkid, k->state,
			            k->td);
	}
	return true;
}

/* An LP runs at most the vCPU associated with it; a vCPU is associated with one LP. */
static bool lp_ok(const struct tdx_module *m, char *why, size_t cap)
{
	for (unsigned lp = 0; lp < m->cfg.lps; lp++) {
		const struct tdx_lp *l = &m->lp[lp];
		const struct tdx_vcpu *v;

		if (l->in_td == TDX_NONE)
			continue;
		if (l->in_td >= TDX_TD_MAX || !m->td[l->in_td].used || l->in_vcpu >= TDX_VCPU_MAX)
			return fail(why, cap, "LP %u: runs TD slot %u vCPU %u, not live", lp,
			            l->in_td, l->in_vcpu);
		v = &m->td[l->in_td].vcpu[l->in_vcpu];
		if (!v->used || v->assoc_lp != lp || !l->init)
			return fail(why, cap, "LP %u: runs TD %u vCPU %u associated with LP %u", lp,
			            l->in_td, l->in_vcpu, v->assoc_lp);
	}
	for (unsigned td = 0; td < TDX_TD_MAX; td++)
		for (unsigned v = 0; m->td[td].used && v < TDX_VCPU_MAX; v++)
			if (m->td[td].vcpu[v].used && m->td[td].vcpu[v].assoc_lp != TDX_NONE &&
			    m->td[td].vcpu[v].assoc_lp >= m->cfg.lps)
				return fail(why, cap, "TD %u vCPU %u: associated with LP %u of %u",
				            td, v, m->td[td].vcpu[v].assoc_lp, m->cfg.lps);
	return true;
}

bool tdx_check(const struct tdx_module *m, char *why, size_t cap)
{
	struct tally t;

	if (m->sys_state > TDX_SYS_READY)
		return fail(why, cap, "system state %u", m->sys_state);
	memset(&t, 0, offsetof(struct tally, sept));
	t.n_sept = 0;
	if (!pamt_ok(m, &t, why, cap) || !kot_ok(m, why, cap) || !lp_ok(m, why, cap))
		return false;
	for (unsigned td = 0; td < TDX_TD_MAX; td++)
		if (m->td[td].used &&
		    (!td_pages_ok(m, &t, td, why, cap) || !td_key_ok(m, td, why, cap)))
			return false;
	return true;
}

/* ---- After a change (tdx_check_since) ---- */

/* A page of [lo, hi). */
static bool in_range(uint32_t page, uint32_t lo, uint32_t hi)
{
	return page >= lo && page < hi;
}

/* What the per-page rules read besides the page's own entry (the TDMR, which TD slots and vCPUs
 * are live, their TDR and TDVPR pages), changed from b to a so that only pages of [lo, hi) (tb:
 * b's counted) and [*xlo, *xhi) (the pages TDH.SYS.TDMR.INIT added) may judge otherwise: a TD or
 * vCPU that came to life (nothing outside the range named it in b), or one that went with every
 * page that named it. False for any other change: then all pages must be judged again. */
static bool deps_bounded(const struct tdx_module *b, const struct tdx_module *a, uint32_t lo,
                         uint32_t hi, const struct tally *tb, uint32_t *xlo, uint32_t *xhi)
{
	if (a->cfg.mem_pages != b->cfg.mem_pages || a->tdmr_base != b->tdmr_base ||
	    a->tdmr_pages != b->tdmr_pages || a->rsvd_pages != b->rsvd_pages)
		return false;
	*xlo = a->tdmr_base + (a->tdmr_done < b->tdmr_done ? a->tdmr_done : b->tdmr_done);
	*xhi = a->tdmr_base + (a->tdmr_done < b->tdmr_done ? b->tdmr_done : a->tdmr_done);
	if (*xhi > a->cfg.mem_pages)
		return false;
	for (unsigned t = 0; t < TDX_TD_MAX; t++) {
		const struct tdx_td *x = &b->td[t], *y = &a->td[t];

		if (x->used && !y->used &&
		    (tb->children[t] != x->chldcnt || !in_range(x->tdr, lo, hi)))
			return false; /* gone, but a page outside the range still names it */
		if (!x->used || !y->used)
			continue;
		if (x->tdr != y->tdr)
			return false;
		for (unsigned v = 0; v < TDX_VCPU_MAX; v++) {
			const struct tdx_vcpu *p = &x->vcpu[v], *q = &y->vcpu[v];

			if ((!p->used && q->used) || (p->used && q->used && p->tdvpr != q->tdvpr) ||
			    (p->used && !q->used && !in_range(p->tdvpr, lo, hi)))
				return false;
		}
	}
	return true;
}

/* The rules that read no PAMT entry but a TD's TDR page. */
static bool header_ok(const struct tdx_module *m)
{
	if (m->sys_state > TDX_SYS_READY || !tdmr_ok(m, NULL, 0) || !kot_ok(m, NULL, 0) ||
	    !lp_ok(m, NULL, 0))
		return false;
	for (unsigned td = 0; td < TDX_TD_MAX; td++)
		if (m->td[td].used && !td_key_ok(m, td, NULL, 0))
			return false;
	return true;
}

/* The pages [lo, hi) of a: their own rules, and no Secure-EPT clash with any other page. */
static bool pages_ok(const struct tdx_module *a, uint32_t lo, uint32_t hi)
{
	for (uint32_t i = lo; i < hi; i++) {
		uint8_t pt = a->pamt[i].pt;

		if (!page_type_ok(a, i, NULL, 0) ||
		    (pt != PT_NDA && pt != PT_RSVD && !page_role_ok(a, i, NULL, 0)))
			return false;
		if (pt != PT_REG && pt != PT_EPT)
			continue;
		for (uint32_t j = 0; j < a->cfg.mem_pages; j++)
			if (j != i && sept_clash(a, i, j))
				return false;
	}
	return true;
}

/* The pages of [lo, hi) counted per TD. */
static void tally_range(const struct tdx_module *m, uint32_t lo, uint32_t hi, struct tally *t)
{
	memset(t, 0, offsetof(struct tally, sept));
	t->n_sept = 0;
	for (uint32_t i = lo; i < hi; i++)
		if (m->pamt[i].pt != PT_NDA && m->pamt[i].pt != PT_RSVD &&
		    m->pamt[i].td < TDX_TD_MAX)
			tally_page(t, &m->pamt[i], i);
}

/* Per live TD: its TDR page, and its counts as b's (which matched b's pages) moved by what
 * [lo, hi) lost (tb) and gained (ta). */
static bool counts_ok(const struct tdx_module *b, const struct tdx_module *a,
                      const struct tally *tb, const struct tally *ta)
{
	for (unsigned t = 0; t < TDX_TD_MAX; t++) {
		const struct tdx_td *x = &b->td[t], *y = &a->td[t];

		if (!y->used)
			continue;
		if (y->tdr >= a->cfg.mem_pages || a->pamt[y->tdr].pt != PT_TDR ||
		    a->pamt[y->tdr].td != t)
			return false;
		/* a TD not live in b: no page named it */
		if ((x->used ? x->chldcnt : 0) - tb->children[t] + ta->children[t] != y->chldcnt ||
		    (x->used ? x->tdcx : 0) - tb->tdcx[t] + ta->tdcx[t] != y->tdcx)
			return false;
		for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
			if (y->vcpu[v].used &&
			    (x->used ? x->vcpu[v].tdvpx : 0) - tb->tdvpx[t][v] + ta->tdvpx[t][v] !=
			        y->vcpu[v].tdvpx)
				return false;
	}
	return true;
}

bool tdx_check_since(const struct tdx_module *b, const struct tdx_module *a, uint32_t lo,
                     uint32_t hi, bool header)
{
	struct tally tb, ta;
	uint32_t xlo, xhi;

	tally_range(b, lo, hi, &tb);
	if (header && !deps_bounded(b, a, lo, hi, &tb, &xlo, &xhi))
		return tdx_check(a, NULL, 0);
	if (header && (!header_ok(a) || !pages_ok(a, xlo, xhi)))
		return false;
	if (!pages_ok(a, lo, hi))
		return false;
	tally_range(a, lo, hi, &ta);
	return counts_ok(b, a, &tb, &ta);
}
