/* The Secure-EPT searches the memory leaves, TDH.MR.EXTEND and TDG.MEM.PAGE.ACCEPT share: a
 * Secure-EPT page is kept in its PAMT entry (level, GPA base) and a 4-KiB leaf in its page's entry
 * (GPA, state), so finding one is a scan of the initialized TDMR's PAMT entries (tdx_mem.c says
 * what the model leaves out). Pure lookups: each caller branches on the answer (the leaf's own
 * TDX_EPT_WALK_FAILED or TDX_EPT_ENTRY_STATE_INCORRECT), so fuzzing builds leave this file out of
 * coverage instrumentation (fuzz/coverage-ignore.txt). TDX base spec "Secure EPT". */
#include "tdx_int.h"

#define SEPT_LEVELS 3u /* levels a Secure-EPT page may have; level 4 is the root */

bool tdx_sept_present(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level)
{
	uint64_t base = gpa & ~((UINT64_C(1) << (12 + 9 * level)) - 1);

	for (uint32_t i = m->tdmr_base; i < m->tdmr_base + m->tdmr_done; i++) {
		const struct tdx_pamt *e = &m->pamt[i];

		if (e->pt == PT_EPT && e->td == td && e->state == level && e->gpa == base)
			return true;
	}
	return false;
}

bool tdx_sept_walk(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level)
{
	for (unsigned l = level; l <= SEPT_LEVELS; l++)
		if (!tdx_sept_present(m, td, gpa, l))
			return false;
	return true;
}

uint32_t tdx_sept_leaf(const struct tdx_module *m, unsigned td, uint64_t gpa)
{
	for (uint32_t i = m->tdmr_base; i < m->tdmr_base + m->tdmr_done; i++) {
		const struct tdx_pamt *e = &m->pamt[i];

		if (e->pt == PT_REG && e->td == td && e->gpa == gpa)
			return i;
	}
	return UINT32_MAX;
}
