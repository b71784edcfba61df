/* The machine of the tdx-replay algorithm and fuzz_tdx_seamcall (tdx_replay_int.h): a TDX module
 * model with the state before each call, and the executor that runs one SEAMCALL, TDCALL or
 * asynchronous TD exit with concrete registers and then every named invariant that applies
 * (tdx_replay_inv.c and the model's own tdx_check), finding what the call changed either in the
 * whole module or, in fast mode, where the model recorded writing (tdx_replay_int.h, "full"). How
 * the registers were chosen (the harness's operand shapes, KVM's next step) is the caller's
 * business. TDX module ABI spec names. */
#include "tdx_replay_int.h"

#include <stdio.h>
#include <string.h>

/* Any valid configuration: the model is one fixed-size allocation that every reset fits. */
static const struct tdx_config initial = {
    .lps = 8,
    .packages = 4,
    .mem_pages = 256,
    .hkid_first = 32,
    .hkid_count = 8,
    .tdcs_pages = 4,
    .tdvps_pages = 4,
};

enum hvsim_status tdx_replay_machine_create(struct tdx_replay_machine *mc)
{
	memset(mc, 0, sizeof(*mc));
	memset(mc->assoc, TDX_NONE, sizeof(mc->assoc));
	mc->full = true;
	if (tdx_create(&initial, &mc->m, NULL) != HVSIM_OK ||
	    tdx_create(&initial, &mc->before, NULL) != HVSIM_OK)
		return HVSIM_E_NOMEM;
	return HVSIM_OK;
}

void tdx_replay_machine_destroy(struct tdx_replay_machine *mc)
{
	tdx_destroy(mc->m);
	tdx_destroy(mc->before);
	mc->m = mc->before = NULL;
}

static bool same_config(const struct tdx_config *a, const struct tdx_config *b)
{
	return a->lps == b->lps && a->packages == b->packages && a->mem_pages == b->mem_pages &&
	       a->hkid_first == b->hkid_first && a->hkid_count == b->hkid_count &&
	       a->tdcs_pages == b->tdcs_pages && a->tdvps_pages == b->tdvps_pages;
}

/* Slots of reset_ok a configuration may take: its home slot and the next ones (no slot is ever
 * emptied, so a look-up stops at the first empty one). */
#define RESET_PROBES 8u

static unsigned reset_home(const struct tdx_config *cfg)
{
	uint64_t h = cfg->lps;

	h = h * 31 + cfg->packages;
	h = h * 31 + cfg->mem_pages;
	h = h * 31 + cfg->hkid_first;
	h = h * 31 + cfg->hkid_count;
	h = h * 31 + cfg->tdcs_pages;
	h = h * 31 + cfg->tdvps_pages;
	return (unsigned)((h * UINT64_C(0x9E3779B97F4A7C15)) >> 56) % TDX_REPLAY_RESETS;
}

/* The slot of reset_ok holding cfg: true; else false and *slot the one to record it in (the first
 * empty slot of its probes, or its home slot when they are all taken). */
static bool reset_slot(const struct tdx_replay_machine *mc, const struct tdx_config *cfg,
                       unsigned *slot)
{
	unsigned home = reset_home(cfg);

	for (unsigned p = 0; p < RESET_PROBES; p++) {
		unsigned k = (home + p) % TDX_REPLAY_RESETS;

		*slot = k;
		if (!(mc->reset_known[k / 64] >> k % 64 & 1))
			return false;
		if (same_config(&mc->reset_ok[k], cfg))
			return true;
	}
	*slot = home;
	return false;
}

/* m just reset to cfg (fast mode, or full with keep_resets): true when before is now the same reset
 * state, on which the state invariants hold (checked once per configuration, then known:
 * reset_ok). */
static bool reset_checked(struct tdx_replay_machine *mc, const struct tdx_config *cfg)
{
	unsigned k;

	if (!reset_slot(mc, cfg, &k)) {
		if (!tdx_check(mc->m, NULL, 0) || !tdx_replay_inv_page_owner(mc->m, NULL, 0))
			return false;
		mc->reset_ok[k] = *cfg;
		mc->reset_known[k / 64] |= UINT64_C(1) << k % 64;
	}
	return tdx_reset(mc->before, cfg, NULL) == HVSIM_OK;
}

enum hvsim_status tdx_replay_reset(struct tdx_replay_machine *mc, const struct tdx_config *cfg,
                                   struct hvsim_error *err)
{
	enum hvsim_status st = tdx_reset(mc->m, cfg, err);

	if (st == HVSIM_OK) {
		memset(mc->assoc, TDX_NONE, sizeof(mc->assoc));
		mc->checked = (!mc->full || mc->keep_resets) && reset_checked(mc, cfg);
	}
	return st;
}

/* Records the step's first broken invariant. Returns false: `ok = flag(...)`. */
static bool flag(struct tdx_replay_step *s, const char *name, const char *why)
{
	if (s->bad)
		return false;
	s->bad = name;
	snprintf(s->why, sizeof(s->why), "%s", why);
	return false;
}

static void begin(struct tdx_replay_machine *mc, uint8_t call, unsigned lp,
                  struct tdx_replay_step *s)
{
	static const struct tdx_regs zero;

	/* every field but the reason's text, which is read only after bad is set */
	s->in = s->out = s->host = zero;
	s->exited = false;
	s->bad = NULL;
	s->why[0] = '\0';
	s->call = call;
	s->lp = lp % TDX_LP_MAX;
	if (!mc->checked)
		tdx_copy(mc->before, mc->m);
	tdx_wrote_clear(mc->m);
}

/* The bytes [lo, hi) of the module: where m differs from before there widens [*first, *end)
 * (empty when !*any). */
static void widen(const struct tdx_replay_machine *mc, size_t lo, size_t hi, bool *any,
                  size_t *first, size_t *end)
{
	size_t f, e;

	if (!tdx_replay_diff_range(mc->m, mc->before, lo, hi, &f, &e))
		return;
	*first = *any && *first < f ? *first : f;
	*end = *any && *end > e ? *end : e;
	*any = true;
}

/* The bytes of PAMT entry i of m. */
static size_t pamt_at(uint32_t i)
{
	return offsetof(struct tdx_module, pamt) + i * sizeof(struct tdx_pamt);
}

/* Where m differs from before in the header and what the call recorded writing (the TD slots and
 * the span of PAMT entries): as tdx_replay_diff when the record is complete. */
static bool recorded_diff(const struct tdx_replay_machine *mc, size_t *first, size_t *end)
{
	const struct tdx_wrote *w = &mc->m->wrote;
	const size_t td0 = offsetof(struct tdx_module, td), tdsz = sizeof(struct tdx_td);
	int lo = -1, hi = -1;
	bool any = false;

	widen(mc, 0, td0, &any, first, end);
	for (unsigned t = 0; t < TDX_TD_MAX; t++)
		if (w->tds >> t & 1)
			widen(mc, td0 + t * tdsz, td0 + (t + 1) * tdsz, &any, first, end);
	for (int k = 0; k < (int)(TDX_MEM_PAGES_MAX / 64); k++)
		if (w->pamt[k]) {
			lo = lo < 0 ? k * 64 + __builtin_ctzll(w->pamt[k]) : lo;
			hi = k * 64 + 64 - __builtin_clzll(w->pamt[k]);
		}
	if (lo >= 0)
		widen(mc, pamt_at((uint32_t)lo), pamt_at((uint32_t)hi), &any, first, end);
	return any;
}

/* write_recorded: the first byte where m differs from before outside what recorded_diff reads,
 * or SIZE_MAX when none; [first, end) spans every difference. */
static size_t unrecorded(const struct tdx_replay_machine *mc, size_t first, size_t end)
{
	const struct tdx_wrote *w = &mc->m->wrote;
	const size_t td0 = offsetof(struct tdx_module, td), tdsz = sizeof(struct tdx_td);
	const uint32_t n =
	    mc->m->cfg.mem_pages < TDX_MEM_PAGES_MAX ? mc->m->cfg.mem_pages : TDX_MEM_PAGES_MAX;
	size_t f, e;

	for (unsigned t = 0; t < TDX_TD_MAX; t++)
		if (!(w->tds >> t & 1) && td0 + (t + 1) * tdsz > first && td0 + t * tdsz < end &&
		    tdx_replay_diff_range(mc->m, mc->before, td0 + t * tdsz, td0 + (t + 1) * tdsz,
		                          &f, &e))
			return f;
	for (uint32_t i = 0, j; i < n && pamt_at(i) < end; i = j + 1) { /* runs [i, j) unrecorded */
		j = i;
		while (j < n && !(w->pamt[j / 64] >> j % 64 & 1))
			j++;
		if (j > i && pamt_at(j) > first &&
		    tdx_replay_diff_range(mc->m, mc->before, pamt_at(i), pamt_at(j), &f, &e))
			return f;
	}
	return SIZE_MAX;
}

/* The PAMT entries [*lo, *hi) that bytes [first, end) of a module touch; true when they touch the
 * header before the PAMT too. */
static bool touched(const struct tdx_module *m, size_t first, size_t end, uint32_t *lo,
                    uint32_t *hi)
{
	const size_t base = offsetof(struct tdx_module, pamt), sz = sizeof(struct tdx_pamt);

	*lo = first < base ? 0 : (uint32_t)((first - base) / sz);
	*hi = end <= base ? 0 : (uint32_t)((end - base + sz - 1) / sz);
	if (*hi > m->cfg.mem_pages || *hi > TDX_MEM_PAGES_MAX)
		*hi = m->cfg.mem_pages < TDX_MEM_PAGES_MAX ? m->cfg.mem_pages : TDX_MEM_PAGES_MAX;
	if (*lo > *hi)
		*lo = *hi;
	return first < base;
}

/* The state invariants after a call from the checked state (mc->before) that changed the bytes
 * [first, end): each verdict as the full check would give it, reading only what changed and what
 * it could clash with (tdx_check_since and the *_since forms). False when one may not hold: the
 * full checks then run and say which. */
static bool holds_since(const struct tdx_replay_machine *mc, unsigned leaf, uint64_t status,
                        size_t first, size_t end)
{
	uint32_t lo, hi;
	bool header = touched(mc->m, first, end, &lo, &hi);

	return (status & TDX_STATUS_MASK) == TDX_SUCCESS &&
	       tdx_check_since(mc->before, mc->m, lo, hi, header) &&
	       tdx_replay_page_owner_since(mc->before, mc->m, lo, hi) &&
	       tdx_replay_pamt_types_since(mc->before, mc->m, leaf, status, lo, hi);
}

/* The invariants after any call. On a module byte for byte as the checked state before it, each
 * holds as it held there: no page changed type, nothing changed, and the single-state checks are
 * pure functions of the same bytes. After a change from the checked state, holds_since; from any
 * other state, or when that is not sure, the full checks. True when they held: before must then
 * take the bytes [*first, *end) of the new state. */
static bool check_state(struct tdx_replay_machine *mc, unsigned leaf, uint64_t status,
                        struct tdx_replay_step *s, size_t *first, size_t *end)
{
	char why[TDX_REPLAY_WHY_MAX];
	bool same, ok = true;
	size_t at;

	/* fast: the header and what the call recorded writing; full: the whole module, where a
	 * failed call changes nothing (or breaks failure_without_effect): the library's memcmp,
	 * which libFuzzer's hook records only when it differs, sees that fastest */
	if (!mc->full)
		same = !recorded_diff(mc, first, end);
	else
		same = ((status & TDX_STATUS_MASK) != TDX_SUCCESS &&
		        tdx_replay_same(mc->m, mc->before)) ||
		       !tdx_replay_diff(mc->m, mc->before, first, end);
	if (same)
		*first = *end = 0;
	/* after an error or warning, any change is failure_without_effect's (below) */
	if (mc->full && !same && (status & TDX_STATUS_MASK) == TDX_SUCCESS &&
	    (at = unrecorded(mc, *first, *end)) != SIZE_MAX) {
		snprintf(why, sizeof(why),
		         "the module changed at byte %zu, which it did not record", at);
		flag(s, "write_recorded", why);
	}
	if (same && mc->checked)
		return false;
	if (!same && mc->checked && holds_since(mc, leaf, status, *first, *end))
		return true;
	if (!tdx_check(mc->m, why, sizeof(why)))
		ok = flag(s, "tdx_check", why);
	if (!tdx_replay_inv_page_owner(mc->m, why, sizeof(why)))
		ok = flag(s, "page_owner_function", why);
	if (!tdx_replay_inv_pamt_types(mc->before, mc->m, leaf, status, why, sizeof(why)))
		ok = flag(s, "pamt_type_consistent", why);
	if (!tdx_replay_inv_no_effect(mc->before, mc->m, status, why, sizeof(why)))
		ok = flag(s, "failure_without_effect", why);
	mc->checked = ok;
	return ok && !same;
}

/* After the call and its bookkeeping (which reads before): before takes the changed bytes
 * [first, end) of the state just checked. */
static void finish(struct tdx_replay_machine *mc, bool copy, size_t first, size_t end)
{
	if (copy)
		memcpy((uint8_t *)mc->before + first, (const uint8_t *)mc->m + first, end - first);
}

/* The machine's own vCPU-to-LP map follows what the leaf did. */
static void track(struct tdx_replay_machine *mc, unsigned lp, unsigned leaf,
                  const struct tdx_regs *in, const struct tdx_regs *out)
{
	const struct tdx_pamt *e = &mc->before->pamt[(in->rcx / TDX_PAGE_SIZE) % TDX_MEM_PAGES_MAX];

	if (out->rax != TDX_SUCCESS)
		return;
	if (leaf == TDH_VP_ENTER)
		mc->assoc[e->td][e->vcpu] = (uint8_t)lp;
	else if (leaf == TDH_VP_FLUSH)
		mc->assoc[e->td][e->vcpu] = TDX_NONE;
	else if (leaf == TDH_PHYMEM_PAGE_RECLAIM && out->rcx == PT_TDR)
		memset(mc->assoc[e->td], TDX_NONE, sizeof(mc->assoc[e->td]));
	else if (leaf == TDH_PHYMEM_PAGE_RECLAIM && out->rcx == PT_TDVPR)
		mc->assoc[e->td][e->vcpu] = TDX_NONE;
}

void tdx_replay_seamcall(struct tdx_replay_machine *mc, unsigned lp, const struct tdx_regs *in,
                         struct tdx_replay_step *out)
{
	unsigned leaf = (unsigned)(in->rax & 0xffff);
	struct tdx_regs *r = &out->out;
	char why[TDX_REPLAY_WHY_MAX];
	size_t first, end;
	bool copy;

	begin(mc, TDX_REPLAY_SEAMCALL, lp, out);
	out->in = (struct tdx_regs){
	    .rax = in->rax, .rcx = in->rcx, .rdx = in->rdx, .r8 = in->r8, .r9 = in->r9};
	if (in->rax >> 16) /* a version or reserved bit: no leaf ran */
		leaf = TDX_REPLAY_NOT_LEAF;
	*r = out->in;
	(mc->plain ? tdx_plain_seamcall : tdx_seamcall)(mc->m, out->lp, r);
	if (!tdx_replay_inv_status_known(r->rax, why, sizeof(why)))
		flag(out, "status_known", why);
	if (!tdx_replay_inv_lifecycle(mc->before, leaf, &out->in, r->rax, why, sizeof(why)))
		flag(out, "lifecycle_order", why);
	if (!tdx_replay_inv_association(mc, out->lp, leaf, &out->in, r->rax, why, sizeof(why)))
		flag(out, "vcpu_lp_association", why);
	copy = check_state(mc, leaf, r->rax, out, &first, &end);
	track(mc, out->lp, leaf, &out->in, r);
	finish(mc, copy, first, end);
}

void tdx_replay_tdcall(struct tdx_replay_machine *mc, unsigned lp, const struct tdx_regs *in,
                       struct tdx_replay_step *out)
{
	struct tdx_regs *g = &out->out;
	char why[TDX_REPLAY_WHY_MAX];
	size_t first, end;
	bool copy;

	begin(mc, TDX_REPLAY_TDCALL, lp, out);
	out->in = (struct tdx_regs){.rax = in->rax, .rcx = in->rcx, .rdx = in->rdx, .r11 = in->r11};
	*g = out->in;
	out->exited = (mc->plain ? tdx_plain_tdcall : tdx_tdcall)(mc->m, out->lp, g, &out->host);
	if (!tdx_replay_inv_status_known(tdx_replay_status(out), why, sizeof(why)))
		flag(out, "status_known", why);
	if (!tdx_replay_inv_association(mc, out->lp, TDX_REPLAY_NOT_LEAF, g, g->rax, why,
	                                sizeof(why)))
		flag(out, "vcpu_lp_association", why);
	copy = check_state(mc, TDX_REPLAY_NOT_LEAF, out->exited ? TDX_SUCCESS : g->rax, out, &first,
	                   &end);
	finish(mc, copy, first, end);
}

void tdx_replay_td_exit(struct tdx_replay_machine *mc, unsigned lp, struct tdx_replay_step *out)
{
	size_t first, end;
	bool copy;

	begin(mc, TDX_REPLAY_TD_EXIT, lp, out);
	out->exited = (mc->plain ? tdx_plain_td_exit : tdx_td_exit)(mc->m, out->lp, &out->host);
	copy = check_state(mc, TDX_REPLAY_NOT_LEAF, TDX_SUCCESS, out, &first, &end);
	finish(mc, copy, first, end);
}

uint64_t tdx_replay_status(const struct tdx_replay_step *s)
{
	if (s->call == TDX_REPLAY_SEAMCALL)
		return s->out.rax;
	return s->exited ? s->host.rax : s->out.rax;
}
