/* Secure-EPT leaves: TDH.MEM.SEPT.ADD, TDH.MEM.PAGE.ADD (before TDH.MR.FINALIZE), TDH.MEM.PAGE.AUG
 * (after it), TDH.MEM.RANGE.BLOCK, TDH.MEM.TRACK, TDH.MEM.RANGE.UNBLOCK, TDH.MEM.PAGE.REMOVE, and
 * the walk the other leaves share. The Secure EPT is 4-level (GPAW 48); its root lives in the TDCS.
 * A Secure-EPT page is kept in its PAMT entry (level, GPA base) and a 4-KiB leaf in its page's
 * entry (GPA, state), so a walk is a scan of the PAMT (tdx_sept.c). Left out: 2-MiB and 1-GiB
 * leaves (promote/demote), TDH.MEM.SEPT.REMOVE and TDH.MEM.SEPT.RD, page contents, blocking of
 * non-leaf entries. TLB tracking follows the TDX base spec "TLB Tracking": a blocked page may go
 * once the TD epoch advanced past its block epoch and no vCPU that entered before still runs. TDX
 * ABI as pinned in docs/spec-versions.md. */
#include "tdx_int.h"

#define GPA_MASK    UINT64_C(0x000FFFFFFFFFF000) /* bits 51:12 */
#define LEVEL_MASK  UINT64_C(0x7)
#define SEPT_LEVELS 3u /* levels a Secure-EPT page may have; level 4 is the root */
#define SHARED_BIT  (UINT64_C(1) << (TDX_GPAW - 1))

static uint64_t span(unsigned level)
{
	return UINT64_C(1) << (12 + 9 * level);
}

uint64_t tdx_gpa_operand(uint64_t rcx, unsigned max_level, uint64_t *gpa, unsigned *level)
{
	uint64_t g = rcx & GPA_MASK;
	unsigned l = (unsigned)(rcx & LEVEL_MASK);

	/* TDX ABI "Page Info": level in bits 2:0, reserved bits 11:3 and 63:52 are 0; the GPA is
	 * private and aligned to the level's page size */
	if ((rcx & ~(GPA_MASK | LEVEL_MASK)) || l > max_level || (g & SHARED_BIT) ||
	    (g & (span(l) - 1)))
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	*gpa = g;
	*level = l;
	return TDX_SUCCESS;
}

/* TDR in RDX, the TD's keys configured and its TDCS initialized (op_state at least min). */
static uint64_t td_operand(const struct tdx_module *m, const struct tdx_regs *r, unsigned min,
                           unsigned *td)
{
	uint64_t st = tdx_tdr_operand(m, r->rdx, TDX_OPERAND_ID_RDX, td);

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(&m->td[*td])) != TDX_SUCCESS)
		return st;
	if (m->td[*td].op_state < min)
		return TDX_OP_STATE_INCORRECT;
	return TDX_SUCCESS;
}

/* ---- TDH.MEM.SEPT.ADD: RCX = GPA | level (1..3), RDX = TDR, R8 = the new Secure-EPT page ---- */

static uint64_t sept_add_check(const struct tdx_module *m, const struct tdx_regs *r,
                               struct tdx_ops *o)
{
	uint64_t st = td_operand(m, r, TDX_OP_INITIALIZED, &o->td);

	if (st != TDX_SUCCESS ||
	    (st = tdx_gpa_operand(r->rcx, SEPT_LEVELS, &o->gpa, &o->level)) != TDX_SUCCESS)
		return st;
	if (o->level == 0)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (!tdx_sept_walk(m, o->td, o->gpa, o->level + 1)) /* TDX ABI TDH.MEM.SEPT.ADD */
		return tdx_err(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
	if (tdx_sept_present(m, o->td, o->gpa, o->level)) /* the parent entry is not FREE */
		return tdx_err(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
	return tdx_free_page_operand(m, r->r8, TDX_OPERAND_ID_R8, &o->page);
}

static uint64_t sept_add(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = sept_add_check(m, r, &o);

	if (st != TDX_SUCCESS)
		return st;
	tdx_page_assign(m, o.page, PT_EPT, o.td, TDX_NONE);
	tdx_pamt_w(m, o.page)->state = (uint8_t)o.level;
	tdx_pamt_w(m, o.page)->gpa = o.gpa;
	return TDX_SUCCESS;
}

/* ---- TDH.MEM.PAGE.ADD / AUG: RCX = GPA | 0, RDX = TDR, R8 = page (ADD: R9 = source) ---- */

static uint64_t map_check(const struct tdx_module *m, const struct tdx_regs *r, bool aug,
                          struct tdx_ops *o)
{
	uint64_t st = td_operand(m, r, TDX_OP_INITIALIZED, &o->td);

	if (st != TDX_SUCCESS ||
	    (st = tdx_gpa_operand(r->rcx, 0, &o->gpa, &o->level)) != TDX_SUCCESS)
		return st;
	/* TDX ABI TDH.MEM.PAGE.ADD: only before TDH.MR.FINALIZE; TDH.MEM.PAGE.AUG only after */
	if (m->td[o->td].op_state != (aug ? TDX_OP_RUNNABLE : TDX_OP_INITIALIZED))
		return TDX_OP_STATE_INCORRECT;
	if (!tdx_sept_walk(m, o->td, o->gpa, 1))
		return tdx_err(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
	if (tdx_sept_leaf(m, o->td, o->gpa) != UINT32_MAX)
		return tdx_err(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
	if ((st = tdx_free_page_operand(m, r->r8, TDX_OPERAND_ID_R8, &o->page)) != TDX_SUCCESS)
		return st;
	if (!aug && ((r->r9 & (TDX_PAGE_SIZE - 1)) || r->r9 >> TDX_HKID_SHIFT ||
	             (r->r9 / TDX_PAGE_SIZE < m->cfg.mem_pages &&
	              m->pamt[r->r9 / TDX_PAGE_SIZE].pt != PT_NDA))) /* the source is host memory */
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R9);
	return TDX_SUCCESS;
}

static uint64_t page_map(struct tdx_module *m, const struct tdx_regs *r, bool aug)
{
	struct tdx_ops o = {0};
	uint64_t st = map_check(m, r, aug, &o);
	struct tdx_td *t;

	if (st != TDX_SUCCESS)
		return st;
	tdx_page_assign(m, o.page, PT_REG, o.td, TDX_NONE);
	tdx_pamt_w(m, o.page)->gpa = o.gpa;
	tdx_pamt_w(m, o.page)->state = aug ? SEPT_PENDING : SEPT_MAPPED;
	t = tdx_td_w(m, o.td);
	if (!aug)
		t->mrtd = (t->mrtd ^ o.gpa) * UINT64_C(0x100000001b3);
	return TDX_SUCCESS;
}

/* ---- Leaf state changes: RCX = GPA | 0, RDX = TDR ---- */

static bool blocked(uint8_t state)
{
	return state == SEPT_BLOCKED || state == SEPT_PENDING_BLOCKED;
}

/* TDX base spec "TLB Tracking": the TD epoch moved past bepoch and every vCPU still in the TD
 * entered after it. */
static bool tlb_tracked(const struct tdx_module *m, unsigned td, uint64_t bepoch)
{
	const struct tdx_td *t = &m->td[td];

	if (t->epoch <= bepoch)
		return false;
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
		if (t->vcpu[v].used && tdx_vcpu_running(m, td, v) &&
		    t->vcpu[v].entered_epoch <= bepoch)
			return false;
	return true;
}

/* The leaf at RCX's GPA of the TD in RDX (walk and presence checked). */
static uint64_t leaf_check(const struct tdx_module *m, const struct tdx_regs *r, struct tdx_ops *o)
{
	uint64_t st = td_operand(m, r, TDX_OP_INITIALIZED, &o->td);

	if (st != TDX_SUCCESS ||
	    (st = tdx_gpa_operand(r->rcx, 0, &o->gpa, &o->level)) != TDX_SUCCESS)
		return st;
	if (!tdx_sept_walk(m, o->td, o->gpa, 1))
		return tdx_err(TDX_EPT_WALK_FAILED, TDX_OPERAND_ID_RCX);
	o->page = tdx_sept_leaf(m, o->td, o->gpa);
	if (o->page == UINT32_MAX) /* a FREE entry */
		return tdx_err(TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX);
	return TDX_SUCCESS;
}

static uint64_t range_block(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = leaf_check(m, r, &o);
	struct tdx_pamt *e;

	if (st != TDX_SUCCESS)
		return st;
	e = tdx_pamt_w(m, o.page);
	if (blocked(e->state)) /* TDX ABI TDH.MEM.RANGE.BLOCK: a warning, nothing changes */
		return TDX_GPA_RANGE_ALREADY_BLOCKED;
	e->state = e->state == SEPT_PENDING ? SEPT_PENDING_BLOCKED : SEPT_BLOCKED;
	e->bepoch = m->td[o.td].epoch;
	return TDX_SUCCESS;
}

static uint64_t range_unblock(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = leaf_check(m, r, &o);
	struct tdx_pamt *e;

	if (st != TDX_SUCCESS)
		return st;
	e = tdx_pamt_w(m, o.page);
	if (!blocked(e->state)) /* TDX ABI TDH.MEM.RANGE.UNBLOCK */
		return tdx_err(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
	if (!tlb_tracked(m, o.td, e->bepoch))
		return tdx_err(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_SEPT_TREE);
	e->state = e->state == SEPT_PENDING_BLOCKED ? SEPT_PENDING : SEPT_MAPPED;
	return TDX_SUCCESS;
}

static uint64_t page_remove(struct tdx_module *m, const struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	uint64_t st = leaf_check(m, r, &o);

	if (st != TDX_SUCCESS)
		return st;
	if (!blocked(m->pamt[o.page].state)) /* TDX ABI TDH.MEM.PAGE.REMOVE */
		return tdx_err(TDX_GPA_RANGE_NOT_BLOCKED, TDX_OPERAND_ID_RCX);
	if (!tlb_tracked(m, o.td, m->pamt[o.page].bepoch))
		return tdx_err(TDX_TLB_TRACKING_NOT_DONE, TDX_OPERAND_ID_RCX);
	tdx_page_free(m, o.page);
	return TDX_SUCCESS;
}

/* ---- TDH.MEM.TRACK: RCX = TDR ---- */

static uint64_t mem_track(struct tdx_module *m, const struct tdx_regs *r)
{
	unsigned td = 0;
	uint64_t st = tdx_tdr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &td);
	struct tdx_td *t = tdx_td_w(m, td);

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(t)) != TDX_SUCCESS)
		return st;
	if (t->op_state == TDX_OP_UNINITIALIZED)
		return TDX_OP_STATE_INCORRECT;
	/* TDX ABI TDH.MEM.TRACK: vCPUs that entered before the current epoch must have left */
	for (unsigned v = 0; v < TDX_VCPU_MAX; v++)
		if (t->vcpu[v].used && tdx_vcpu_running(m, td, v) &&
		    t->vcpu[v].entered_epoch < t->epoch)
			return TDX_PREVIOUS_TLB_EPOCH_BUSY;
	t->epoch++;
	return TDX_SUCCESS;
}

void tdx_mem_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r)
{
	(void)lp;
	switch (leaf) {
	case TDH_MEM_SEPT_ADD: r->rax = sept_add(m, r); break;
	case TDH_MEM_PAGE_ADD: r->rax = page_map(m, r, false); break;
	case TDH_MEM_PAGE_AUG: r->rax = page_map(m, r, true); break;
	case TDH_MEM_RANGE_BLOCK: r->rax = range_block(m, r); break;
	case TDH_MEM_RANGE_UNBLOCK: r->rax = range_unblock(m, r); break;
	case TDH_MEM_PAGE_REMOVE: r->rax = page_remove(m, r); break;
	default: r->rax = mem_track(m, r); break;
	}
}
