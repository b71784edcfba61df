/* Verifies that the change-only forms of the TDX state invariants give the full checks' verdict:
 * tdx_check_since against tdx_check, tdx_replay_page_owner_since against
 * tdx_replay_inv_page_owner and tdx_replay_pamt_types_since against tdx_replay_inv_pamt_types.
 * From a correct module with a runnable TD (the "before" state, on which the full checks hold),
 * every PAMT entry is changed one field at a time (type, owner, vCPU, state, GPA, or the whole
 * entry of another page), alone and with the TD's counts moved by one; both forms judge the
 * result and must agree. Each failure message names the page, the change and both verdicts. */
#include <criterion/criterion.h>

#include "../hv/tdx_replay_int.h"
#include "test_tdx_fixture.h"

#include <stddef.h>
#include <string.h>

/* One change to the entry of page i of a (and maybe to its TD's counts). */
struct change {
	const char *name;
	void (*apply)(struct tdx_module *a, uint32_t i, unsigned k);
	unsigned n; /* variants k */
};

static const uint8_t types[] = {PT_NDA, PT_RSVD, PT_REG, PT_TDR, PT_TDCX, PT_TDVPR, PT_EPT, 2};
static const uint8_t slots[] = {0, 1, TDX_NONE};

static void set_type(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i].pt = types[k];
}

static void set_td(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i].td = slots[k];
}

static void set_vcpu(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i].vcpu = slots[k];
}

static void set_state(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i].state = (uint8_t)k;
}

static void set_gpa(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i].gpa =
	    TXF_GPA + (uint64_t)(k % 2) * TDX_PAGE_SIZE - (k / 2) * (UINT64_C(1) << 21);
}

/* The whole entry of page k (a duplicate: a GPA or a Secure-EPT table twice, a second TDR). */
static void copy_entry(struct tdx_module *a, uint32_t i, unsigned k)
{
	a->pamt[i] = a->pamt[k % a->cfg.mem_pages];
}

/* Freed as RECLAIM frees it: the counts of its TD moved with it, k chooses whether. */
static void free_page(struct tdx_module *a, uint32_t i, unsigned k)
{
	struct tdx_pamt *e = &a->pamt[i];

	if (k && e->td < TDX_TD_MAX && e->pt != PT_TDR && e->pt != PT_NDA && e->pt != PT_RSVD) {
		a->td[e->td].chldcnt--;
		if (e->pt == PT_TDCX && e->vcpu == TDX_NONE)
			a->td[e->td].tdcx--;
		else if (e->pt == PT_TDCX && e->vcpu < TDX_VCPU_MAX)
			a->td[e->td].vcpu[e->vcpu].tdvpx--;
	}
	memset(e, 0, sizeof(*e));
	e->td = e->vcpu = TDX_NONE;
}

/* Taken by TD 0 as type types[k % 7] (vCPU 0 for a TDVPX), its counts moved when k >= 7. */
static void take_page(struct tdx_module *a, uint32_t i, unsigned k)
{
	struct tdx_pamt *e = &a->pamt[i];

	e->pt = types[k % 7];
	e->td = 0;
	e->vcpu = k % 14 == 11 ? 0 : TDX_NONE;
	if (k < 7)
		return;
	a->td[0].chldcnt += e->pt != PT_TDR;
	a->td[0].tdcx += e->pt == PT_TDCX && e->vcpu == TDX_NONE;
	a->td[0].vcpu[0].tdvpx += e->pt == PT_TDCX && e->vcpu == 0;
}

/* Header changes with page i: a second TD created with page i as its TDR (k 0), TD 0's vCPU 0
 * gone with page i freed (k 1) or kept (k 2), TD 0 gone with page i freed (k 3), the TDMR's
 * initialized part one page shorter (k 4) or longer (k 5). */
static void life(struct tdx_module *a, uint32_t i, unsigned k)
{
	switch (k) {
	case 0:
		a->td[1] = a->td[0];
		a->td[1].tdr = i;
		a->td[1].chldcnt = a->td[1].tdcx = 0;
		memset(a->td[1].vcpu, 0, sizeof(a->td[1].vcpu));
		a->pamt[i].pt = PT_TDR;
		a->pamt[i].td = 1;
		break;
	case 1:
	case 2:
		a->td[0].vcpu[0].used = false;
		if (k == 1)
			free_page(a, i, 1);
		break;
	case 3:
		a->td[0].used = false;
		free_page(a, i, 0);
		break;
	default: a->tdmr_done += k == 4 ? -1u : 1u; break;
	}
}

static const struct change changes[] = {
    {"life", life, 6},
    {"type", set_type, sizeof(types)},
    {"owner", set_td, sizeof(slots)},
    {"vcpu", set_vcpu, sizeof(slots)},
    {"state", set_state, 6},
    {"gpa", set_gpa, 4},
    {"copy of page", copy_entry, TXF_PAGES},
    {"free (counts moved)", free_page, 2},
    {"take (counts moved)", take_page, 14},
};

/* The correct module and a scratch copy. */
static void make(struct txf *f, struct tdx_module **a)
{
	struct txf_td td;

	txf_ready(f, 2, 1);
	txf_build_runnable(f, &td, TXF_HKID_FIRST + 1);
	cr_assert(tdx_check(f->m, NULL, 0) && tdx_replay_inv_page_owner(f->m, NULL, 0),
	          "the before state is correct");
	cr_assert_eq(tdx_create(&f->m->cfg, a, NULL), HVSIM_OK, "tdx_create");
}

/* Runs judge over every change of every page; judge compares both forms, asserts, and returns
 * the full check's verdict. Both verdicts must occur, or the changes test nothing. */
static void each_change(bool (*judge)(const struct tdx_module *b, const struct tdx_module *a,
                                      uint32_t i, const char *what, unsigned k))
{
	unsigned held = 0, broke = 0;
	struct tdx_module *a;
	struct txf f;

	make(&f, &a);
	for (uint32_t i = 0; i < TXF_PAGES; i++)
		for (size_t c = 0; c < sizeof(changes) / sizeof(changes[0]); c++)
			for (unsigned k = 0; k < changes[c].n; k++) {
				tdx_copy(a, f.m);
				changes[c].apply(a, i, k);
				if (judge(f.m, a, i, changes[c].name, k))
					held++;
				else
					broke++;
			}
	cr_assert(held > 100 && broke > 100, "changes that kept the invariant %u, broke it %u",
	          held, broke);
	tdx_destroy(a);
	txf_free(&f);
}

static bool judge_check(const struct tdx_module *b, const struct tdx_module *a, uint32_t i,
                        const char *what, unsigned k)
{
	bool header = memcmp(a, b, offsetof(struct tdx_module, pamt)) != 0;
	bool since = tdx_check_since(b, a, i, i + 1, header), full = tdx_check(a, NULL, 0);

	cr_assert_eq(since, full, "page %u, %s %u: tdx_check_since %d, tdx_check %d", i, what, k,
	             since, full);
	return full;
}

Test(tdx_since, tdx_check_since_gives_tdx_checks_verdict)
{
	each_change(judge_check);
}

static bool judge_owner(const struct tdx_module *b, const struct tdx_module *a, uint32_t i,
                        const char *what, unsigned k)
{
	bool since = tdx_replay_page_owner_since(b, a, i, i + 1);
	bool full = tdx_replay_inv_page_owner(a, NULL, 0);

	cr_assert_eq(since, full, "page %u, %s %u: page_owner_since %d, page_owner %d", i, what, k,
	             since, full);
	return full;
}

Test(tdx_since, page_owner_since_gives_page_owner_functions_verdict)
{
	each_change(judge_owner);
}

static bool judge_types(const struct tdx_module *b, const struct tdx_module *a, uint32_t i,
                        const char *what, unsigned k)
{
	static const unsigned leaves[] = {TDH_MNG_CREATE,      TDH_MEM_PAGE_AUG,
	                                  TDH_MEM_PAGE_REMOVE, TDH_PHYMEM_PAGE_RECLAIM,
	                                  TDH_SYS_CONFIG,      TDH_MNG_RD};
	bool all = true;

	for (size_t l = 0; l < sizeof(leaves) / sizeof(leaves[0]); l++)
		for (unsigned st = 0; st < 2; st++) {
			uint64_t status = st ? TDX_OPERAND_INVALID : TDX_SUCCESS;
			bool since = tdx_replay_pamt_types_since(b, a, leaves[l], status, i, i + 1);
			bool full = tdx_replay_inv_pamt_types(b, a, leaves[l], status, NULL, 0);

			cr_assert_eq(since, full,
			             "page %u, %s %u, leaf %u status %#llx: pamt_types_since %d, "
			             "pamt_types %d",
			             i, what, k, leaves[l], (unsigned long long)status, since,
			             full);
			all &= full;
		}
	return all;
}

Test(tdx_since, pamt_types_since_gives_pamt_type_consistents_verdict)
{
	each_change(judge_types);
}

/* The diff the executor takes the range from runs from the first changed byte to the last. */
Test(tdx_since, diff_covers_every_changed_byte)
{
	struct tdx_module *a;
	struct txf f;
	size_t first, end, n;

	make(&f, &a);
	n = tdx_used_bytes(f.m);
	tdx_copy(a, f.m);
	cr_assert(!tdx_replay_diff(a, f.m, &first, &end), "a copy differs");
	for (size_t at = 0; at < n; at++) {
		tdx_copy(a, f.m);
		((uint8_t *)a)[at] ^= 0x80;
		cr_assert(tdx_replay_diff(a, f.m, &first, &end) && first == at && end == at + 1,
		          "byte %zu changed: range %zu-%zu of %zu", at, first, end, n);
	}
	for (size_t at = 0; at < n; at += 7) {
		tdx_copy(a, f.m);
		((uint8_t *)a)[at] ^= 0x10;
		((uint8_t *)a)[n - 1 - at / 3] ^= 0x01;
		cr_assert(tdx_replay_diff(a, f.m, &first, &end) &&
		              first == (at < n - 1 - at / 3 ? at : n - 1 - at / 3) &&
		              end == (at > n - 1 - at / 3 ? at : n - 1 - at / 3) + 1,
		          "bytes %zu and %zu changed: range %zu-%zu of %zu", at, n - 1 - at / 3,
		          first, end, n);
	}
	tdx_destroy(a);
	txf_free(&f);
}
