/* fuzz_tdx_seamcall's pure scans of the model's state (fz_tdx.h): the n-th free or owned page, the
 * n-th TDR or TDVPR, a TD's first child page, and the next step's Secure-EPT and LP reads. Operand
 * shaping and the next step call them for every operation; the fuzzing builds leave this file
 * uninstrumented (fuzz/coverage-ignore.txt): a loop over the PAMT says nothing about the model that
 * the leaf's own branches do not. */
#include "fz_tdx.h"

static bool usable(const struct tdx_module *m, uint32_t i)
{
	return i >= m->tdmr_base + m->rsvd_pages && i < m->tdmr_base + m->tdmr_done;
}

static bool page_matches(const struct tdx_module *m, uint32_t i, bool owned)
{
	if (owned)
		return m->pamt[i].pt != PT_NDA && m->pamt[i].pt != PT_RSVD;
	return m->pamt[i].pt == PT_NDA && usable(m, i);
}

/* The n-th page (cyclically) that is free, or that some TD owns; page n when there is none. One
 * pass: the matching pages are listed, then the n-th taken. */
uint64_t fz_tdx_nth_page(const struct tdx_module *m, uint64_t n, bool owned)
{
	uint16_t match[TDX_MEM_PAGES_MAX];
	uint32_t count = 0, pages = m->cfg.mem_pages < TDX_MEM_PAGES_MAX ? m->cfg.mem_pages
	                                                                 : TDX_MEM_PAGES_MAX;

	for (uint32_t i = 0; i < pages; i++) {
		match[count] = (uint16_t)i;
		count += page_matches(m, i, owned);
		if (n == 0 && count) /* the first: no need to count them all */
			return (uint64_t)i * TDX_PAGE_SIZE;
	}
	if (count == 0)
		return (n % m->cfg.mem_pages) * TDX_PAGE_SIZE;
	return (uint64_t)match[n % count] * TDX_PAGE_SIZE;
}

/* The TDR (or a vCPU's TDVPR) of the n-th live TD (vCPU), cyclically; page n when none. */
uint64_t fz_tdx_nth_td_page(const struct tdx_module *m, uint64_t n, bool tdvpr)
{
	uint32_t pages[TDX_TD_MAX * TDX_VCPU_MAX];
	unsigned k = 0;

	for (unsigned t = 0; t < TDX_TD_MAX; t++)
		for (unsigned v = 0; m->td[t].used && v < (tdvpr ? TDX_VCPU_MAX : 1); v++)
			if (!tdvpr)
				pages[k++] = m->td[t].tdr;
			else if (m->td[t].vcpu[v].used)
				pages[k++] = m->td[t].vcpu[v].tdvpr;
	if (k == 0)
		return (n % m->cfg.mem_pages) * TDX_PAGE_SIZE;
	return (uint64_t)pages[n % k] * TDX_PAGE_SIZE;
}

uint32_t fz_tdx_first_child(const struct tdx_module *m, unsigned td)
{
	for (uint32_t i = 0; i < m->cfg.mem_pages; i++)
		if (m->pamt[i].td == td && m->pamt[i].pt != PT_TDR)
			return i;
	return UINT32_MAX;
}

/* A Secure-EPT page of TD td at level covering gpa (tdx_mem.c's walk: the initialized TDMR). */
static bool sept_page(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level)
{
	uint64_t base = gpa & ~((UINT64_C(1) << (12 + 9 * level)) - 1);

	for (uint32_t i = m->tdmr_base; i < m->tdmr_base + m->tdmr_done; i++)
		if (m->pamt[i].pt == PT_EPT && m->pamt[i].td == td && m->pamt[i].state == level &&
		    m->pamt[i].gpa == base)
			return true;
	return false;
}

bool fz_tdx_sept_walk(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level)
{
	for (unsigned l = level; l <= 3; l++)
		if (!sept_page(m, td, gpa, l))
			return false;
	return true;
}

bool fz_tdx_sept_mapped(const struct tdx_module *m, unsigned td, uint64_t gpa)
{
	for (uint32_t i = m->tdmr_base; i < m->tdmr_base + m->tdmr_done; i++)
		if (m->pamt[i].pt == PT_REG && m->pamt[i].td == td && m->pamt[i].gpa == gpa)
			return true;
	return false;
}

bool fz_tdx_vcpu_running(const struct tdx_module *m, unsigned td, unsigned v)
{
	for (unsigned i = 0; i < m->cfg.lps; i++)
		if (m->lp[i].in_td == td && m->lp[i].in_vcpu == v)
			return true;
	return false;
}
