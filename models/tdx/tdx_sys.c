/* TDX module initialization leaves: TDH.SYS.INIT, TDH.SYS.LP.INIT (per LP), TDH.SYS.RD/RDALL (a
 * few global metadata fields), TDH.SYS.CONFIG (the TDMR and the global private HKID),
 * TDH.SYS.KEY.CONFIG (per package) and TDH.SYS.TDMR.INIT (PAMT initialization, several calls).
 * Left out: CPUID/MSR/SMRR platform checks (a simulated platform always passes them), the CMR list
 * (all memory is one CMR), TDMR_INFO in memory: TDH.SYS.CONFIG takes the one TDMR in registers
 * (docs/tdx-model.md "Deviations"), RDALL's output list (memory contents are not modelled).
 * TDX ABI as pinned in docs/spec-versions.md. */
#include "tdx_int.h"

#define PAGE_MASK     ((uint64_t)TDX_PAGE_SIZE - 1)
#define HKID_RESERVED UINT64_C(0xFFFFFFFFFFFF0000)

static uint64_t sys_init(struct tdx_module *m)
{
	if (m->sys_state != TDX_SYSINIT_PENDING) /* TDX ABI TDH.SYS.INIT */
		return TDX_SYS_INIT_NOT_PENDING;
	m->sys_state = TDX_SYSINIT_DONE;
	return TDX_SUCCESS;
}

static uint64_t lp_init(struct tdx_module *m, unsigned lp)
{
	if (m->sys_state != TDX_SYSINIT_DONE) /* TDX ABI TDH.SYS.LP.INIT */
		return TDX_SYS_LP_INIT_NOT_PENDING;
	if (m->lp[lp].init)
		return TDX_SYS_LP_INIT_DONE;
	m->lp[lp].init = true;
	return TDX_SUCCESS;
}

/* Global metadata the model reports (TDX ABI "Global Metadata Fields"); bit 63 is ignored. */
static bool sys_field(const struct tdx_module *m, uint64_t id, uint64_t *v)
{
	switch (TDX_MD_ID(id)) {
	case TDX_MD_ID(TDX_MD_SYS_NUM_PKGS): *v = m->cfg.packages; return true;
	case TDX_MD_ID(TDX_MD_SYS_MINOR_VERSION): *v = 5; return true;
	case TDX_MD_ID(TDX_MD_SYS_MAJOR_VERSION): *v = 1; return true;
	case TDX_MD_ID(TDX_MD_SYS_MAX_TDMRS): *v = 1; return true;
	case TDX_MD_ID(TDX_MD_SYS_TDR_BASE_SIZE): *v = TDX_PAGE_SIZE; return true;
	case TDX_MD_ID(TDX_MD_SYS_TDCS_BASE_SIZE):
		*v = (uint64_t)m->cfg.tdcs_pages * TDX_PAGE_SIZE;
		return true;
	case TDX_MD_ID(TDX_MD_SYS_TDVPS_BASE_SIZE):
		*v = (uint64_t)m->cfg.tdvps_pages * TDX_PAGE_SIZE;
		return true;
	default: return false;
	}
}

static uint64_t sys_rd(const struct tdx_module *m, unsigned lp, struct tdx_regs *r)
{
	uint64_t v;

	if (!m->lp[lp].init) /* TDX ABI TDH.SYS.RD */
		return TDX_SYS_LP_INIT_NOT_DONE;
	if (!sys_field(m, r->rdx, &v))
		return tdx_err(TDX_METADATA_FIELD_ID_INCORRECT, TDX_OPERAND_ID_RDX);
	r->r8 = v;
	return TDX_SUCCESS;
}

/* The list page must be host memory: aligned and not a page the module owns. */
static uint64_t sys_rdall(const struct tdx_module *m, unsigned lp, struct tdx_regs *r)
{
	uint64_t n = r->rdx / TDX_PAGE_SIZE;

	if (!m->lp[lp].init) /* TDX ABI TDH.SYS.RDALL */
		return TDX_SYS_LP_INIT_NOT_DONE;
	if ((r->rdx & PAGE_MASK) || n >= m->cfg.mem_pages || m->pamt[n].pt != PT_NDA)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	r->r8 = ~UINT64_C(0); /* no next field: the list ended */
	return TDX_SUCCESS;
}

static unsigned lps_initialized(const struct tdx_module *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->cfg.lps; i++)
		n += m->lp[i].init;
	return n;
}

/* RCX = TDMR base, RDX = TDMR size in bytes, R8 = global private HKID, R9 = reserved area size
 * (the model's register form of the TDMR_INFO list, docs/tdx-model.md). Pure. */
static uint64_t sys_config_check(const struct tdx_module *m, const struct tdx_regs *r)
{
	/* TDX ABI TDH.SYS.CONFIG: after TDH.SYS.INIT and TDH.SYS.LP.INIT on every LP */
	if (m->sys_state != TDX_SYSINIT_DONE || lps_initialized(m) < m->cfg.lps)
		return TDX_SYS_CONFIG_NOT_PENDING;
	if (r->rcx & PAGE_MASK)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (r->rdx == 0 || (r->rdx & PAGE_MASK))
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);
	if ((r->r8 & HKID_RESERVED) || !tdx_kot_peek(m, r->r8))
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
	/* TDX base spec "TDMR": a TDMR lies in convertible memory (here: all of it) */
	if (r->rcx / TDX_PAGE_SIZE >= m->cfg.mem_pages ||
	    r->rdx / TDX_PAGE_SIZE > m->cfg.mem_pages - r->rcx / TDX_PAGE_SIZE)
		return TDX_TDMR_OUTSIDE_CMRS;
	if ((r->r9 & PAGE_MASK) || r->r9 >= r->rdx)
		return TDX_INVALID_RESERVED_IN_TDMR;
	return TDX_SUCCESS;
}

static uint64_t sys_config(struct tdx_module *m, const struct tdx_regs *r)
{
	uint64_t st = sys_config_check(m, r);

	if (st != TDX_SUCCESS)
		return st;
	m->tdmr_base = (uint32_t)(r->rcx / TDX_PAGE_SIZE);
	m->tdmr_pages = (uint32_t)(r->rdx / TDX_PAGE_SIZE);
	m->rsvd_pages = (uint32_t)(r->r9 / TDX_PAGE_SIZE);
	m->global_hkid = (uint16_t)r->r8;
	tdx_kot_of(m, m->global_hkid)->state = KOT_HKID_RESERVED;
	for (uint32_t i = 0; i < m->rsvd_pages; i++)
		tdx_pamt_w(m, m->tdmr_base + i)->pt = PT_RSVD;
	m->sys_state = TDX_SYSCONFIG_DONE;
	return TDX_SUCCESS;
}

static uint64_t sys_key_config(struct tdx_module *m, unsigned lp)
{
	uint8_t bit = (uint8_t)(1u << m->lp[lp].pkg);

	if (m->sys_state != TDX_SYSCONFIG_DONE) /* TDX ABI TDH.SYS.KEY.CONFIG */
		return TDX_SYS_KEY_CONFIG_NOT_PENDING;
	if (m->pkg_keyed & bit) /* once per package */
		return TDX_KEY_CONFIGURED;
	m->pkg_keyed |= bit;
	if (m->pkg_keyed == tdx_all_pkgs(m))
		m->sys_state = TDX_SYS_READY;
	return TDX_SUCCESS;
}

/* RCX = the TDMR base; initializes TDX_TDMR_INIT_PAGES more of its PAMT, RDX = the next address
 * to initialize (TDX ABI TDH.SYS.TDMR.INIT: "may need several calls"). */
static uint64_t tdmr_init(struct tdx_module *m, struct tdx_regs *r)
{
	uint32_t n;

	if (r->rcx != (uint64_t)m->tdmr_base * TDX_PAGE_SIZE)
		return tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (m->tdmr_done == m->tdmr_pages)
		return TDX_TDMR_ALREADY_INITIALIZED;
	n = m->tdmr_pages - m->tdmr_done;
	m->tdmr_done += n < TDX_TDMR_INIT_PAGES ? n : TDX_TDMR_INIT_PAGES;
	r->rdx = ((uint64_t)m->tdmr_base + m->tdmr_done) * TDX_PAGE_SIZE;
	return TDX_SUCCESS;
}

void tdx_sys_leaf(struct tdx_module *m, unsigned lp, unsigned leaf, struct tdx_regs *r)
{
	switch (leaf) {
	case TDH_SYS_INIT: r->rax = sys_init(m); break;
	case TDH_SYS_LP_INIT: r->rax = lp_init(m, lp); break;
	case TDH_SYS_RD: r->rax = sys_rd(m, lp, r); break;
	case TDH_SYS_RDALL: r->rax = sys_rdall(m, lp, r); break;
	case TDH_SYS_CONFIG: r->rax = sys_config(m, r); break;
	case TDH_SYS_KEY_CONFIG: r->rax = sys_key_config(m, lp); break;
	default: r->rax = tdmr_init(m, r); break;
	}
}
