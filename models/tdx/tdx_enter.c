/* TD entry and the guest side: TDH.VP.ENTER (associates the vCPU with the LP and puts the LP in the
 * TD), the TDCALLs a TD vCPU makes (TDG.VP.VMCALL, TDG.VP.INFO, TDG.VP.VEINFO.GET,
 * TDG.MEM.PAGE.ACCEPT, TDG.VM.RD) and the TD exits that complete TDH.VP.ENTER. Left out: guest
 * register state across exits (the guest of the model is its caller), #VE injection (no #VE is
 * ever pending, so TDG.VP.VEINFO.GET always reports none), interrupts and posted interrupts,
 * TDG.MR.*, TDG.VP.CPUIDVE.SET, L2 VMs. TDX ABI as pinned in docs/spec-versions.md. */
#include "tdx_int.h"

#include <string.h>

#define GPAW_48 48u

/* ---- TDH.VP.ENTER: RCX = TDVPR ---- */

static uint64_t enter_check(const struct tdx_module *m, unsigned lp, const struct tdx_regs *r,
                            struct tdx_ops *o)
{
	uint64_t st = tdx_tdvpr_operand(m, r->rcx, TDX_OPERAND_ID_RCX, &o->td, &o->vcpu);
	const struct tdx_vcpu *v = &m->td[o->td].vcpu[o->vcpu];

	if (st != TDX_SUCCESS || (st = tdx_td_keyed(&m->td[o->td])) != TDX_SUCCESS)
		return st;
	if (m->td[o->td].op_state != TDX_OP_RUNNABLE) /* TDX ABI TDH.VP.ENTER: after finalization */
		return TDX_OP_STATE_INCORRECT;
	if (v->state != TDX_VCPU_READY)
		return TDX_VCPU_STATE_INCORRECT;
	/* TDX base spec "VCPU-to-LP Association": a vCPU runs on one LP until TDH.VP.FLUSH */
	if (v->assoc_lp != TDX_NONE && v->assoc_lp != lp)
		return TDX_VCPU_ASSOCIATED;
	return TDX_SUCCESS;
}

void tdx_vp_enter(struct tdx_module *m, unsigned lp, struct tdx_regs *r)
{
	struct tdx_ops o = {0};
	struct tdx_vcpu *v;

	r->rax = enter_check(m, lp, r, &o);
	if (r->rax != TDX_SUCCESS)
		return;
	v = &tdx_td_w(m, o.td)->vcpu[o.vcpu];
	v->assoc_lp = (uint8_t)lp;
	v->entered_epoch = m->td[o.td].epoch;
	m->lp[lp].in_td = (uint8_t)o.td;
	m->lp[lp].in_vcpu = (uint8_t)o.vcpu;
}

/* Ends the TD on lp: the host's TDH.VP.ENTER returns TDX_SUCCESS with the exit reason. */
static void td_exit(struct tdx_module *m, unsigned lp, unsigned reason, struct tdx_regs *host)
{
	memset(host, 0, sizeof(*host));
	host->rax = TDX_SUCCESS | reason;
	m->lp[lp].in_td = m->lp[lp].in_vcpu = TDX_NONE;
}

bool tdx_td_exit(struct tdx_module *m, unsigned lp, struct tdx_regs *host)
{
	if (!tdx_lp_in_td(m, lp))
		return false;
	td_exit(m, lp, TDX_EXIT_EXTERNAL_INTERRUPT, host);
	return true;
}

/* ---- TDCALL leaves ---- */

/* TDG.VP.VMCALL: RCX = the GPRs passed to the host, R10 = 0 (standard), R11 = sub-function (a VM
 * exit reason, e.g. 12 for HLT), R12-R15 arguments: a TD exit with exit reason TDCALL. */
static void vp_vmcall(struct tdx_module *m, unsigned lp, struct tdx_regs *g, struct tdx_regs *host)
{
	td_exit(m, lp, TDX_EXIT_TDCALL, host);
	host->rcx = g->rcx;
	host->r10 = g->r10;
	host->r11 = g->r11;
	host->r12 = g->r12;
	host->r13 = g->r13;
	host->r14 = g->r14;
	host->r15 = g->r15;
	g->rax = TDX_SUCCESS;
}

static void vp_info(const struct tdx_td *t, const struct tdx_vcpu *v, struct tdx_regs *g)
{
	g->rcx = GPAW_48;
	g->rdx = 0; /* ATTRIBUTES */
	g->r8 = t->num_vcpus | (uint64_t)TDX_VCPU_MAX << 32;
	g->r9 = v->index;
	g->r10 = g->r11 = 0;
	g->rax = TDX_SUCCESS;
}

/* TDG.MEM.PAGE.ACCEPT: RCX = GPA | level. A PENDING page becomes MAPPED; a GPA the host has not
 * mapped (or blocked) is an EPT violation TD exit, after which KVM maps it and re-enters. */
static bool mem_accept(struct tdx_module *m, unsigned lp, struct tdx_regs *g, struct tdx_regs *h)
{
	unsigned td = m->lp[lp].in_td, level;
	uint64_t gpa, st = tdx_gpa_operand(g->rcx, 0, &gpa, &level);
	uint32_t page;

	if (st != TDX_SUCCESS) {
		g->rax = st;
		return false;
	}
	page = tdx_sept_walk(m, td, gpa, 1) ? tdx_sept_leaf(m, td, gpa) : UINT32_MAX;
	if (page == UINT32_MAX || m->pamt[page].state == SEPT_BLOCKED ||
	    m->pamt[page].state == SEPT_PENDING_BLOCKED) {
		td_exit(m, lp, TDX_EXIT_EPT_VIOLATION, h);
		h->r8 = gpa;
		return true;
	}
	if (m->pamt[page].state == SEPT_MAPPED) /* TDX ABI TDG.MEM.PAGE.ACCEPT: a warning */
		g->rax = TDX_PAGE_ALREADY_ACCEPTED | level;
	else {
		tdx_pamt_w(m, page)->state = SEPT_MAPPED;
		g->rax = TDX_SUCCESS;
	}
	return false;
}

/* TDG.VM.RD: RDX = field id, R8 = value; the guest reads the TD-scope fields it may. */
static void vm_rd(const struct tdx_td *t, struct tdx_regs *g)
{
	switch (TDX_MD_ID(g->rdx)) {
	case TDX_MD_ID(TDX_MD_TD_ATTRIBUTES): g->r8 = 0; break;
	case TDX_MD_ID(TDX_MD_TD_GPAW): g->r8 = 0; break;
	case TDX_MD_ID(TDX_MD_TD_MAX_VCPUS): g->r8 = TDX_VCPU_MAX; break;
	case TDX_MD_ID(TDX_MD_TD_NUM_VCPUS): g->r8 = t->num_vcpus; break;
	case TDX_MD_ID(TDX_MD_TD_CHLDCNT):
	case TDX_MD_ID(TDX_MD_TD_HKID):
	case TDX_MD_ID(TDX_MD_TD_LIFECYCLE_STATE):
	case TDX_MD_ID(TDX_MD_TD_EPOCH):
		g->rax = tdx_err(TDX_METADATA_FIELD_NOT_READABLE, TDX_OPERAND_ID_RDX);
		return;
	default: g->rax = tdx_err(TDX_METADATA_FIELD_ID_INCORRECT, TDX_OPERAND_ID_RDX); return;
	}
	g->rax = TDX_SUCCESS;
}

bool tdx_tdcall(struct tdx_module *m, unsigned lp, struct tdx_regs *guest, struct tdx_regs *host)
{
	const struct tdx_td *t;
	unsigned leaf = (unsigned)(guest->rax & 0xffff);

	if (!tdx_lp_in_td(m, lp)) { /* TDCALL outside a TD raises #UD */
		guest->rax = TDX_SW_UD;
		return false;
	}
	t = &m->td[m->lp[lp].in_td];
	if (guest->rax >> 16) { /* TDX ABI "TDCALL": RAX[63:16] (version included) are 0 here */
		guest->rax = tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
		return false;
	}
	switch (leaf) {
	case TDG_VP_VMCALL: vp_vmcall(m, lp, guest, host); return true;
	case TDG_VP_INFO: vp_info(t, &t->vcpu[m->lp[lp].in_vcpu], guest); return false;
	case TDG_VP_VEINFO_GET: guest->rax = TDX_NO_VALID_VE_INFO; return false;
	case TDG_MEM_PAGE_ACCEPT: return mem_accept(m, lp, guest, host);
	case TDG_VM_RD: vm_rd(t, guest); return false;
	default: guest->rax = tdx_err(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX); return false;
	}
}
