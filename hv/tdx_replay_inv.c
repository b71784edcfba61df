/* The named TDX invariants of the tdx-replay algorithm and fuzz_tdx_seamcall (tdx_replay_int.h):
 * pure functions over the model before and after one call, written independently of the model's
 * own tdx_check so that a bug in one is not hidden by the same bug in the other. Names follow the
 * TDX module ABI spec (leaves, statuses) and the base spec's PAMT page types. */
#include "tdx_replay_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Formats the reason into why (cap bytes, truncated) and returns false: `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static bool fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why && cap)
		vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

static bool free_type(uint8_t pt)
{
	return pt == PT_NDA || pt == PT_RSVD;
}

static bool owner_live(const struct tdx_module *m, uint32_t i, char *why, size_t cap)
{
	const struct tdx_pamt *e = &m->pamt[i];
	const struct tdx_td *t;

	if (e->td >= TDX_TD_MAX || !m->td[e->td].used)
		return fail(why, cap, "page %u (type %u): owner slot %u is no live TD", i, e->pt,
		            e->td);
	t = &m->td[e->td];
	if (t->tdr >= m->cfg.mem_pages || m->pamt[t->tdr].pt != PT_TDR ||
	    m->pamt[t->tdr].td != e->td)
		return fail(why, cap, "page %u: owner TD %u's TDR page %u is not its TDR", i, e->td,
		            t->tdr);
	return true;
}

static bool gpa_once(const struct tdx_module *m, uint32_t i, char *why, size_t cap)
{
	const struct tdx_pamt *e = &m->pamt[i];

	for (uint32_t j = 0; j < i; j++)
		if (m->pamt[j].pt == PT_REG && m->pamt[j].td == e->td && m->pamt[j].gpa == e->gpa)
			return fail(why, cap, "TD %u: GPA %#llx maps pages %u and %u", e->td,
			            (unsigned long long)e->gpa, j, i);
	return true;
}

/* Pages a TD holds, per TD: all but its TDR, and its TDCS pages. */
struct owned {
	unsigned count[TDX_TD_MAX], tdcx[TDX_TD_MAX];
};

static void own(struct owned *o, const struct tdx_pamt *e)
{
	if (e->td >= TDX_TD_MAX)
		return;
	o->count[e->td] += e->pt != PT_TDR;
	o->tdcx[e->td] += e->pt == PT_TDCX && e->vcpu == TDX_NONE;
}

bool tdx_replay_inv_page_owner(const struct tdx_module *m, char *why, size_t cap)
{
	unsigned count[TDX_TD_MAX] = {0}, tdcx[TDX_TD_MAX] = {0};

	for (uint32_t i = 0; i < m->cfg.mem_pages; i++) {
		const struct tdx_pamt *e = &m->pamt[i];

		if (free_type(e->pt))
			continue;
		if (!owner_live(m, i, why, cap) || (e->pt == PT_REG && !gpa_once(m, i, why, cap)))
			return false;
		count[e->td] += e->pt != PT_TDR;
		tdcx[e->td] += e->pt == PT_TDCX && e->vcpu == TDX_NONE;
	}
	for (unsigned t = 0; t < TDX_TD_MAX; t++) {
		if (!m->td[t].used)
			continue;
		if (count[t] != m->td[t].chldcnt)
			return fail(why, cap, "TD %u: CHLDCNT %u but %u pages name it", t,
			            m->td[t].chldcnt, count[t]);
		if (tdcx[t] != m->td[t].tdcx)
			return fail(why, cap, "TD %u: %u TDCS pages counted, %u owned", t,
			            m->td[t].tdcx, tdcx[t]);
	}
	return true;
}

/* The one transition each leaf may make to a page's type (TDX base spec "PAMT"). */
static bool transition_ok(unsigned leaf, uint8_t from, uint8_t to)
{
	switch (leaf) {
	case TDH_MNG_CREATE: return from == PT_NDA && to == PT_TDR;
	case TDH_MNG_ADDCX:
	case TDH_VP_ADDCX: return from == PT_NDA && to == PT_TDCX;
	case TDH_VP_CREATE: return from == PT_NDA && to == PT_TDVPR;
	case TDH_MEM_SEPT_ADD: return from == PT_NDA && to == PT_EPT;
	case TDH_MEM_PAGE_ADD:
	case TDH_MEM_PAGE_AUG: return from == PT_NDA && to == PT_REG;
	case TDH_MEM_PAGE_REMOVE: return from == PT_REG && to == PT_NDA;
	case TDH_PHYMEM_PAGE_RECLAIM: return !free_type(from) && to == PT_NDA;
	case TDH_SYS_CONFIG: return from == PT_NDA && to == PT_RSVD;
	default: return false;
	}
}

/* No GPA of page i's TD mapped by another page of m. */
static bool gpa_alone(const struct tdx_module *m, uint32_t i)
{
	const struct tdx_pamt *e = &m->pamt[i];

	for (uint32_t j = 0; j < m->cfg.mem_pages; j++)
		if (j != i && m->pamt[j].pt == PT_REG && m->pamt[j].td == e->td &&
		    m->pamt[j].gpa == e->gpa)
			return false;
	return true;
}

/* Whether no page outside the range may be judged otherwise in a than in b: true when every TD
 * live in b stays live with its TDR page still its TDR (a TD that came to life was named by no
 * page in b). */
static bool owners_bounded(const struct tdx_module *b, const struct tdx_module *a)
{
	for (unsigned t = 0; t < TDX_TD_MAX; t++) {
		const struct tdx_td *x = &b->td[t], *y = &a->td[t];

		if (x->used && (!y->used || x->tdr != y->tdr || a->pamt[y->tdr].pt != PT_TDR ||
		                a->pamt[y->tdr].td != t))
			return false;
	}
	return true;
}

bool tdx_replay_page_owner_since(const struct tdx_module *b, const struct tdx_module *a,
                                 uint32_t lo, uint32_t hi)
{
	struct owned lost, got;

	memset(&lost, 0, sizeof(lost));
	memset(&got, 0, sizeof(got));
	for (uint32_t i = lo; i < hi; i++)
		if (!free_type(b->pamt[i].pt))
			own(&lost, &b->pamt[i]);
	if (!owners_bounded(b, a))
		return tdx_replay_inv_page_owner(a, NULL, 0);
	for (uint32_t i = lo; i < hi; i++) {
		if (free_type(a->pamt[i].pt))
			continue;
		if (!owner_live(a, i, NULL, 0) || (a->pamt[i].pt == PT_REG && !gpa_alone(a, i)))
			return false;
		own(&got, &a->pamt[i]);
	}
	for (unsigned t = 0; t < TDX_TD_MAX; t++) {
		const struct tdx_td *x = &b->td[t], *y = &a->td[t];

		if (y->used &&
		    ((x->used ? x->chldcnt : 0) - lost.count[t] + got.count[t] != y->chldcnt ||
		     (x->used ? x->tdcx : 0) - lost.tdcx[t] + got.tdcx[t] != y->tdcx))
			return false; /* a TD not live in b: no page named it */
	}
	return true;
}

/* pamt_type_consistent over the pages [lo, hi); the others must be the same in b and a. */
static bool pamt_types_in(const struct tdx_module *b, const struct tdx_module *a, unsigned leaf,
                          uint64_t status, uint32_t lo, uint32_t hi, char *why, size_t cap)
{
	unsigned changed = 0;
	bool ok = (status & TDX_STATUS_MASK) == TDX_SUCCESS;

	for (uint32_t i = lo; i < hi; i++) {
		const struct tdx_pamt *x = &b->pamt[i], *y = &a->pamt[i];

		if (x->pt == y->pt && (free_type(x->pt) || x->td == y->td))
			continue;
		if (!ok || !transition_ok(leaf, x->pt, y->pt))
			return fail(why, cap,
			            "%s (status %#llx): page %u went from type %u (TD %u) "
			            "to %u (TD %u)",
			            tdx_seamcall_name(leaf), (unsigned long long)status, i, x->pt,
			            x->td, y->pt, y->td);
		changed++;
	}
	if (changed > 1 && leaf != TDH_SYS_CONFIG)
		return fail(why, cap, "%s changed %u pages' types", tdx_seamcall_name(leaf),
		            changed);
	return true;
}

bool tdx_replay_inv_pamt_types(const struct tdx_module *b, const struct tdx_module *a,
                               unsigned leaf, uint64_t status, char *why, size_t cap)
{
	return pamt_types_in(b, a, leaf, status, 0, a->cfg.mem_pages, why, cap);
}

bool tdx_replay_pamt_types_since(const struct tdx_module *b, const struct tdx_module *a,
                                 unsigned leaf, uint64_t status, uint32_t lo, uint32_t hi)
{
	return pamt_types_in(b, a, leaf, status, lo, hi, NULL, 0);
}

bool tdx_replay_inv_status_known(uint64_t status, char *why, size_t cap)
{
	if (!tdx_status_known(status))
		return fail(why, cap, "status %#llx is not a TDX ABI status",
		            (unsigned long long)status);
	return true;
}

/* The used bytes of m, at most the whole model (a broken configuration must not read past it). */
static size_t used(const struct tdx_module *m)
{
	size_t n = tdx_used_bytes(m);

	return n < sizeof(*m) ? n : sizeof(*m);
}

#define BLOCK  64u  /* the granularity of a diff's range */
#define STRIDE 256u /* the first and last differing STRIDE are looked for first */

/* The diff reads every used byte of two models after each call: ASan's per-load checks would
 * make it a fifth of a sanitized fuzzing run, and it reads only inside two whole models (used()
 * keeps it there), as sim/snapshot_mem.c's scan does. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define DIFF_ATTR __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef DIFF_ATTR
#define DIFF_ATTR
#endif

/* True when the len bytes at offset i of x and y differ (a loop, not memcmp: libFuzzer's hook
 * would record every differing compare, at a cost above the compare's). */
DIFF_ATTR static bool differs(const uint8_t *x, const uint8_t *y, size_t i, size_t len)
{
	uint64_t d = 0, u, v;
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		memcpy(&u, x + i + k, sizeof(u));
		memcpy(&v, y + i + k, sizeof(v));
		d |= u ^ v;
	}
	for (; k < len; k++)
		d |= (uint64_t)(x[i + k] ^ y[i + k]);
	return d != 0;
}

/* True when the STRIDE bytes at offset i of x and y differ. */
DIFF_ATTR static bool stride_differs(const uint8_t *x, const uint8_t *y, size_t i)
{
	uint64_t d = 0, u, v;

	for (unsigned k = 0; k < STRIDE; k += 8) {
		memcpy(&u, x + i + k, sizeof(u));
		memcpy(&v, y + i + k, sizeof(v));
		d |= u ^ v;
	}
	return d != 0;
}

/* The first (last, when back) differing BLOCK of [lo, hi), of the n bytes; one must differ. */
static size_t refine(const uint8_t *x, const uint8_t *y, size_t lo, size_t hi, size_t n, bool back)
{
	size_t i = back ? (hi - lo - 1) / BLOCK * BLOCK + lo : lo;

	while (!differs(x, y, i, (i + BLOCK < n ? i + BLOCK : n) - i))
		i = back ? i - BLOCK : i + BLOCK;
	return i;
}

/* The offset of the STRIDE (clipped to n) that differs first (n when none), or last when back
 * (from, the first, when none above it). */
static size_t stride_of(const uint8_t *x, const uint8_t *y, size_t n, size_t from, bool back)
{
	size_t i = back ? (n - 1) / STRIDE * STRIDE : 0;

	while (back ? i > from : i < n) {
		if (i + STRIDE <= n ? stride_differs(x, y, i) : differs(x, y, i, n - i))
			return i;
		i = back ? i - STRIDE : i + STRIDE;
	}
	return i;
}

/* Where the n bytes at x and y differ: false when nowhere; else true with [*first, *end). */
static bool diff_bytes(const uint8_t *x, const uint8_t *y, size_t n, size_t *first, size_t *end)
{
	size_t i, j, last;

	if (n == 0 || (i = stride_of(x, y, n, 0, false)) >= n)
		return false;
	*first = refine(x, y, i, i + STRIDE < n ? i + STRIDE : n, n, false);
	j = stride_of(x, y, n, i, true);
	last = refine(x, y, j > *first ? j : *first, j + STRIDE < n ? j + STRIDE : n, n, true);
	*end = last + BLOCK < n ? last + BLOCK : n;
	while (x[*first] == y[*first]) /* to the bytes: the blocks differ somewhere */
		(*first)++;
	while (x[*end - 1] == y[*end - 1])
		(*end)--;
	return true;
}

bool tdx_replay_diff(const struct tdx_module *a, const struct tdx_module *b, size_t *first,
                     size_t *end)
{
	return diff_bytes((const uint8_t *)a, (const uint8_t *)b, used(a), first, end);
}

/* The first and last differing byte within the 8 bytes at x and y, which differ. */
static size_t byte_in_word(const uint8_t *x, const uint8_t *y, bool last)
{
	size_t k = last ? 7 : 0;

	while (x[k] == y[k])
		k = last ? k - 1 : k + 1;
	return k;
}

/* One pass over the words (a few hundred bytes: the header, a TD slot, recorded PAMT entries),
 * noting the first and last that differ, then the bytes within those two. */
DIFF_ATTR bool tdx_replay_diff_range(const struct tdx_module *a, const struct tdx_module *b,
                                     size_t lo, size_t hi, size_t *first, size_t *end)
{
	const uint8_t *x = (const uint8_t *)a + lo, *y = (const uint8_t *)b + lo;
	size_t n = used(a), w, f = SIZE_MAX, l = 0;
	uint64_t u, v;

	n = (hi < n ? hi : n) > lo ? (hi < n ? hi : n) - lo : 0;
	w = n / 8;
	for (size_t i = 0; i < w; i++) {
		memcpy(&u, x + 8 * i, sizeof(u));
		memcpy(&v, y + 8 * i, sizeof(v));
		if (u != v) {
			f = f == SIZE_MAX ? 8 * i + byte_in_word(x + 8 * i, y + 8 * i, false) : f;
			l = 8 * i;
		}
	}
	if (f != SIZE_MAX)
		l += byte_in_word(x + l, y + l, true) + 1;
	for (size_t i = 8 * w; i < n; i++)
		if (x[i] != y[i]) {
			f = f == SIZE_MAX ? i : f;
			l = i + 1;
		}
	if (f == SIZE_MAX)
		return false;
	*first = lo + f;
	*end = lo + l;
	return true;
}

bool tdx_replay_same(const struct tdx_module *a, const struct tdx_module *b)
{
	return memcmp(a, b, used(a)) == 0;
}

bool tdx_replay_inv_no_effect(const struct tdx_module *b, const struct tdx_module *a,
                              uint64_t status, char *why, size_t cap)
{
	const uint8_t *x = (const uint8_t *)b, *y = (const uint8_t *)a;

	size_t n = tdx_used_bytes(b);

	if ((status & TDX_STATUS_MASK) == TDX_SUCCESS || tdx_replay_same(b, a))
		return true; /* success (or a TD exit), or nothing changed */
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return fail(why, cap, "status %#llx (%s) changed the module at byte %zu",
			            (unsigned long long)status, tdx_status_name(status), i);
	return true;
}

/* The TD a leaf's TDR or TDVPR operand names, before the leaf ran; TDX_NONE when none. */
static unsigned td_of_operand(const struct tdx_module *b, unsigned leaf, const struct tdx_regs *in)
{
	uint64_t pa;

	switch (leaf) {
	case TDH_MNG_KEY_CONFIG:
	case TDH_MNG_INIT:
	case TDH_MR_FINALIZE:
	case TDH_MNG_RD:
	case TDH_MNG_VPFLUSHDONE:
	case TDH_MNG_KEY_FREEID:
	case TDH_MEM_TRACK:
	case TDH_VP_INIT:
	case TDH_VP_RD:
	case TDH_VP_FLUSH:
	case TDH_VP_ENTER: pa = in->rcx; break;
	case TDH_MNG_ADDCX:
	case TDH_VP_CREATE:
	case TDH_VP_ADDCX:
	case TDH_MEM_SEPT_ADD:
	case TDH_MEM_PAGE_ADD:
	case TDH_MEM_PAGE_AUG:
	case TDH_MEM_RANGE_BLOCK:
	case TDH_MEM_RANGE_UNBLOCK:
	case TDH_MEM_PAGE_REMOVE:
	case TDH_MR_EXTEND: pa = in->rdx; break;
	default: return TDX_NONE;
	}
	if (pa % TDX_PAGE_SIZE || pa / TDX_PAGE_SIZE >= b->cfg.mem_pages)
		return TDX_NONE;
	return b->pamt[pa / TDX_PAGE_SIZE].td;
}

static bool sys_leaf(unsigned leaf)
{
	return leaf == TDH_SYS_INIT || leaf == TDH_SYS_LP_INIT || leaf == TDH_SYS_RD ||
	       leaf == TDH_SYS_RDALL || leaf == TDH_SYS_CONFIG || leaf == TDH_SYS_KEY_CONFIG;
}

/* The rules of the leaves that free or re-key memory, restated from the spec against the state
 * before the call (a check missing in the model shows here). */
static bool key_rules(const struct tdx_module *b, unsigned td, unsigned leaf,
                      const struct tdx_regs *in, char *why, size_t cap)
{
	const struct tdx_td *t = &b->td[td];
	const struct tdx_kot *k = tdx_kot_peek(b, t->hkid);
	uint64_t gpa = in->rcx & ~UINT64_C(0xfff);
	uint32_t page;

	if (leaf == TDH_MEM_PAGE_REMOVE) { /* TDX ABI TDH.MEM.PAGE.REMOVE */
		page = tdx_sept_leaf(b, td, gpa);
		if (page == UINT32_MAX || (b->pamt[page].state != SEPT_BLOCKED &&
		                           b->pamt[page].state != SEPT_PENDING_BLOCKED))
			return fail(why, cap, "TDH.MEM.PAGE.REMOVE of GPA %#llx, not blocked",
			            (unsigned long long)gpa);
		if (t->epoch <= b->pamt[page].bepoch)
			return fail(why, cap,
			            "TDH.MEM.PAGE.REMOVE of GPA %#llx blocked in epoch %llu, "
			            "TD epoch %llu: no TDH.MEM.TRACK since",
			            (unsigned long long)gpa,
			            (unsigned long long)b->pamt[page].bepoch,
			            (unsigned long long)t->epoch);
	}
	if (leaf == TDH_MNG_KEY_FREEID &&
	    (t->lifecycle != TD_BLOCKED || !k || k->wb_pkgs != (1u << b->cfg.packages) - 1))
		return fail(why, cap,
		            "TDH.MNG.KEY.FREEID on TD %u (lifecycle %u) before every "
		            "package wrote HKID %u back",
		            td, t->lifecycle, t->hkid);
	if (leaf == TDH_MNG_VPFLUSHDONE)
		for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
			if (t->vcpu[v].used && t->vcpu[v].assoc_lp != TDX_NONE)
				return fail(why, cap,
				            "TDH.MNG.VPFLUSHDONE on TD %u with vCPU %u still "
				            "associated with LP %u",
				            td, v, t->vcpu[v].assoc_lp);
	return true;
}

bool tdx_replay_inv_lifecycle(const struct tdx_module *b, unsigned leaf, const struct tdx_regs *in,
                              uint64_t status, char *why, size_t cap)
{
	unsigned td = td_of_operand(b, leaf, in);
	const char *name = tdx_seamcall_name(leaf);
	uint8_t op;

	if (status != TDX_SUCCESS)
		return true;
	if (!sys_leaf(leaf) && b->sys_state != TDX_SYS_READY)
		return fail(why, cap, "%s succeeded with the module in state %u", name,
		            b->sys_state);
	if (td >= TDX_TD_MAX || !b->td[td].used)
		return true;
	op = b->td[td].op_state;
	if (b->td[td].lifecycle == TD_TEARDOWN && leaf != TDH_MNG_RD)
		return fail(why, cap, "%s succeeded on TD %u in teardown", name, td);
	if ((leaf == TDH_MEM_PAGE_ADD || leaf == TDH_MR_EXTEND) && op != TDX_OP_INITIALIZED)
		return fail(why, cap, "%s succeeded on TD %u in op_state %u", name, td, op);
	if ((leaf == TDH_MEM_PAGE_AUG || leaf == TDH_VP_ENTER) && op != TDX_OP_RUNNABLE)
		return fail(why, cap, "%s succeeded on TD %u before finalization", name, td);
	return key_rules(b, td, leaf, in, why, cap);
}

bool tdx_replay_inv_association(const struct tdx_replay_machine *mc, unsigned lp, unsigned leaf,
                                const struct tdx_regs *in, uint64_t status, char *why, size_t cap)
{
	const struct tdx_module *b = mc->before, *a = mc->m;

	if (leaf == TDH_VP_ENTER && status == TDX_SUCCESS) {
		const struct tdx_pamt *e = &b->pamt[in->rcx / TDX_PAGE_SIZE];
		uint8_t was = mc->assoc[e->td][e->vcpu];

		if (was != TDX_NONE && was != lp)
			return fail(why, cap,
			            "TD %u vCPU %u entered on LP %u, associated with LP %u "
			            "since its last entry",
			            e->td, e->vcpu, lp, was);
	}
	for (unsigned i = 0; i < a->cfg.lps; i++)
		for (unsigned j = i + 1; a->lp[i].in_td != TDX_NONE && j < a->cfg.lps; j++)
			if (a->lp[j].in_td == a->lp[i].in_td &&
			    a->lp[j].in_vcpu == a->lp[i].in_vcpu)
				return fail(why, cap, "LPs %u and %u both run TD %u vCPU %u", i, j,
				            a->lp[i].in_td, a->lp[i].in_vcpu);
	return true;
}
