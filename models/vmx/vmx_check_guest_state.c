/* VM-entry checks on guest RIP, RFLAGS and SSP (SDM 27.3.1.4), guest non-register state
 * (27.3.1.5: activity state, interruptibility state, pending debug exceptions, VMCS link pointer)
 * and the PAE PDPTEs (27.3.1.6), in the SDM's order. Exit 33 with qualification 0, except: NMI
 * injection under blocking by STI (3, which this model enforces as SDM 27.8 allows), VMCS link
 * pointer (4), PDPTEs (2). Not covered: the RTM bit (16) of pending debug exceptions, the SGX
 * requirement of enclave interruption, SMM-only rules beyond "entry to SMM". */
#include "vmx_int.h"

static bool cs_long(const struct vmx_entry_ctx *c)
{
	return (F(GUEST_CS_AR_BYTES) & AR_L) != 0;
}

/* ---- 27.3.1.4 RIP, RFLAGS, SSP ---- */

static bool vmx_check_guest_rip_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((!vmx_ia32e_guest(c) || !cs_long(c)) && (F(GUEST_RIP) >> 32), SDM_GUEST_RIP);
}

static bool vmx_check_guest_rip_canonical(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_ia32e_guest(c) && cs_long(c) && !vmx_caps_canonical(c->caps, F(GUEST_RIP)),
	          SDM_GUEST_RIP);
}

#define RFLAGS_RESERVED (~UINT64_C(0x3fffff) | BIT64(15) | BIT64(5) | BIT64(3))

static bool vmx_check_guest_rflags_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_RFLAGS) & RFLAGS_RESERVED, SDM_GUEST_RIP);
}

static bool vmx_check_guest_rflags_bit1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!(F(GUEST_RFLAGS) & RFLAGS_FIXED1), SDM_GUEST_RIP);
}

static bool vmx_check_guest_rflags_vm(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((F(GUEST_RFLAGS) & RFLAGS_VM) && (vmx_ia32e_guest(c) || !(F(GUEST_CR0) & CR0_PE)),
	          SDM_GUEST_RIP);
}

static bool vmx_check_guest_rflags_if(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_injecting(c, INTR_TYPE_EXT_INTR) && !(F(GUEST_RFLAGS) & RFLAGS_IF),
	          SDM_GUEST_RIP);
}

static bool vmx_check_guest_ssp_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_CET_STATE) && (!vmx_ia32e_guest(c) || !cs_long(c)) &&
	              (F(GUEST_SSP) >> 32),
	          SDM_GUEST_RIP);
}

static bool vmx_check_guest_ssp_canonical(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_CET_STATE) && vmx_ia32e_guest(c) && cs_long(c) &&
	              !vmx_caps_canonical(c->caps, F(GUEST_SSP)),
	          SDM_GUEST_RIP);
}

/* ---- 27.3.1.5 activity state ---- */

static bool activity_supported(const struct vmx_entry_ctx *c, uint64_t state)
{
	uint64_t misc = vmx_caps_msr(c->caps, MSR_IA32_VMX_MISC);

	switch (state) {
	case ACTIVITY_ACTIVE: return true;
	case ACTIVITY_HLT: return misc & VMX_MISC_ACTIVITY_HLT;
	case ACTIVITY_SHUTDOWN: return misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	case ACTIVITY_WAIT_SIPI: return misc & VMX_MISC_ACTIVITY_SIPI;
	default: return false;
	}
}

static bool vmx_check_guest_activity_supported(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!activity_supported(c, F(GUEST_ACTIVITY_STATE)), SDM_GUEST_NR);
}

static bool vmx_check_guest_activity_hlt_dpl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT && AR_DPL(F(GUEST_SS_AR_BYTES)) != 0,
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_activity_blocking(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t blocking =
	    F(GUEST_INTERRUPTIBILITY_INFO) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);

	return CC(blocking && F(GUEST_ACTIVITY_STATE) != ACTIVITY_ACTIVE, SDM_GUEST_NR);
}

/* Events that may be injected into each activity state (SDM 27.3.1.5 "Activity state"). */
static bool event_allowed(uint64_t state, uint32_t info)
{
	unsigned type = INTR_INFO_TYPE(info), vec = INTR_INFO_VECTOR(info);

	switch (state) {
	case ACTIVITY_ACTIVE: return true;
	case ACTIVITY_HLT:
		return type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI ||
		       (type == INTR_TYPE_HW_EXCEPTION && (vec == 1 || vec == 18)) ||
		       (type == INTR_TYPE_OTHER_EVENT && vec == 0);
	case ACTIVITY_SHUTDOWN:
		return type == INTR_TYPE_NMI || (type == INTR_TYPE_HW_EXCEPTION && vec == 18);
	default: return false;
	}
}

static bool vmx_check_guest_activity_event(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t info = vmx_intr_info(c);

	return CC((info & INTR_INFO_VALID) && !event_allowed(F(GUEST_ACTIVITY_STATE), info),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_activity_smm_sipi(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_TO_SMM) && F(GUEST_ACTIVITY_STATE) == ACTIVITY_WAIT_SIPI,
	          SDM_GUEST_NR);
}

/* ---- 27.3.1.5 interruptibility state ---- */

static uint64_t intr_state(const struct vmx_entry_ctx *c)
{
	return F(GUEST_INTERRUPTIBILITY_INFO);
}

static bool vmx_check_guest_intr_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(intr_state(c) & INTERRUPTIBILITY_RSVD, SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_sti_and_mov_ss(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((intr_state(c) & INTERRUPTIBILITY_STI) &&
	              (intr_state(c) & INTERRUPTIBILITY_MOV_SS),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_sti_needs_if(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((intr_state(c) & INTERRUPTIBILITY_STI) && !(F(GUEST_RFLAGS) & RFLAGS_IF),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_ext_intr_blocked(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_injecting(c, INTR_TYPE_EXT_INTR) &&
	              (intr_state(c) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_nmi_mov_ss(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_injecting(c, INTR_TYPE_NMI) && (intr_state(c) & INTERRUPTIBILITY_MOV_SS),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_smi_outside_smm(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!c->mode->in_smm && (intr_state(c) & INTERRUPTIBILITY_SMI), SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_smi_entry_to_smm(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_TO_SMM) && !(intr_state(c) & INTERRUPTIBILITY_SMI),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_nmi_sti(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CCQ(vmx_injecting(c, INTR_TYPE_NMI) && (intr_state(c) & INTERRUPTIBILITY_STI),
	           SDM_GUEST_NR, VMX_ENTRY_FAIL_NMI_STI);
}

static bool vmx_check_guest_intr_virtual_nmi_blocking(const struct vmx_entry_ctx *c,
                                                      struct vmx_fail *f)
{
	return CC((c->pin & PIN_VIRTUAL_NMIS) && vmx_injecting(c, INTR_TYPE_NMI) &&
	              (intr_state(c) & INTERRUPTIBILITY_NMI),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_intr_enclave_mov_ss(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((intr_state(c) & INTERRUPTIBILITY_ENCLAVE) &&
	              (intr_state(c) & INTERRUPTIBILITY_MOV_SS),
	          SDM_GUEST_NR);
}

/* ---- 27.3.1.5 pending debug exceptions ---- */

static bool vmx_check_guest_pending_dbg_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_RSVD, SDM_GUEST_NR);
}

/* The BS rules apply with blocking by STI or MOV SS, or in the HLT state. */
static bool bs_applies(const struct vmx_entry_ctx *c)
{
	return (intr_state(c) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) ||
	       F(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT;
}

static bool single_step(const struct vmx_entry_ctx *c)
{
	return (F(GUEST_RFLAGS) & RFLAGS_TF) && !(F(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
}

static bool vmx_check_guest_pending_dbg_bs_set(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(bs_applies(c) && single_step(c) &&
	              !(F(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS),
	          SDM_GUEST_NR);
}

static bool vmx_check_guest_pending_dbg_bs_clear(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(bs_applies(c) && !single_step(c) &&
	              (F(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS),
	          SDM_GUEST_NR);
}

/* ---- 27.3.1.5 VMCS link pointer (qualification 4) ---- */

static bool link_used(const struct vmx_entry_ctx *c)
{
	return F(VMCS_LINK_POINTER) != UINT64_MAX;
}

static uint32_t link_header(const struct vmx_entry_ctx *c)
{
	uint32_t h;

	if (!vmx_ctx_read(c, F(VMCS_LINK_POINTER), &h, sizeof(h)))
		return UINT32_MAX;
	return h;
}

static bool vmx_check_guest_link_ptr_align(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CCQ(link_used(c) && (F(VMCS_LINK_POINTER) & 0xfff), SDM_GUEST_NR,
	           VMX_ENTRY_FAIL_LINK_PTR);
}

static bool vmx_check_guest_link_ptr_width(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CCQ(link_used(c) && vmx_caps_pa_too_wide(c->caps, F(VMCS_LINK_POINTER)),
	           SDM_GUEST_NR, VMX_ENTRY_FAIL_LINK_PTR);
}

static bool vmx_check_guest_link_ptr_revision(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CCQ(link_used(c) &&
	               (link_header(c) & VMX_BASIC_REVISION_MASK) != vmx_caps_revision(c->caps),
	           SDM_GUEST_NR, VMX_ENTRY_FAIL_LINK_PTR);
}

static bool vmx_check_guest_link_ptr_shadow(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	bool shadow_bit = (link_header(c) & ~VMX_BASIC_REVISION_MASK) != 0;

	return CCQ(link_used(c) && shadow_bit != ((c->proc2 & PROC2_VMCS_SHADOWING) != 0),
	           SDM_GUEST_NR, VMX_ENTRY_FAIL_LINK_PTR);
}

/* Outside SMM (or entering SMM) the link pointer must not name the current VMCS; the in-SMM rule
 * (the executive-VMCS pointer) belongs to the dual-monitor treatment this model leaves out. */
static bool vmx_check_guest_link_ptr_current(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	bool applies = !c->mode->in_smm || (c->entry & ENTRY_TO_SMM);

	return CCQ(link_used(c) && applies && F(VMCS_LINK_POINTER) == c->current_vmcs, SDM_GUEST_NR,
	           VMX_ENTRY_FAIL_LINK_PTR);
}

/* ---- 27.3.1.6 PDPTEs (qualification 2) ---- */

static bool pae_paging(const struct vmx_entry_ctx *c)
{
	return (F(GUEST_CR0) & CR0_PG) && (F(GUEST_CR4) & CR4_PAE) && !vmx_ia32e_guest(c);
}

/* With EPT the PDPTEs come from the VMCS; without, from the PDPT that CR3 bits 31:5 locate. */
static uint64_t pdpte(const struct vmx_entry_ctx *c, int i)
{
	uint64_t e;

	if (c->proc2 & PROC2_ENABLE_EPT)
		return vmx_ctx_f(c, VMCS_IDX_GUEST_PDPTR0 + (unsigned)i);
	if (!vmx_ctx_read(c, (F(GUEST_CR3) & 0xffffffe0u) + 8 * (uint64_t)i, &e, 8))
		return UINT64_MAX;
	return e;
}

/* Reserved bits of a present PAE PDPTE: 2:1, 8:5 and 63:MAXPHYADDR (SDM 4.4.1). */
static bool pdpte_bad(const struct vmx_caps *caps, uint64_t e)
{
	return (e & 1) &&
	       ((e & UINT64_C(0x1e6)) || (caps->maxphyaddr < 64 && (e >> caps->maxphyaddr)));
}

static bool vmx_check_guest_pdptes(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	static const char *const names[] = {"PDPTE0", "PDPTE1", "PDPTE2", "PDPTE3"};

	for (int i = 0; i < 4; i++) {
		f->item = names[i];
		if (CCQ(pae_paging(c) && pdpte_bad(c->caps, pdpte(c, i)), SDM_GUEST_PDPT,
		        VMX_ENTRY_FAIL_PDPTE))
			return true;
	}
	return false;
}

#define RIPCHK(fn) VMX_CHECK(fn, VMX_GROUP_GUEST, SDM_GUEST_RIP)
#define NRCHK(fn)  VMX_CHECK(fn, VMX_GROUP_GUEST, SDM_GUEST_NR)

const struct vmx_check vmx_checks_guest_state[] = {
    RIPCHK(vmx_check_guest_rip_high),
    RIPCHK(vmx_check_guest_rip_canonical),
    RIPCHK(vmx_check_guest_rflags_reserved),
    RIPCHK(vmx_check_guest_rflags_bit1),
    RIPCHK(vmx_check_guest_rflags_vm),
    RIPCHK(vmx_check_guest_rflags_if),
    RIPCHK(vmx_check_guest_ssp_high),
    RIPCHK(vmx_check_guest_ssp_canonical),
    NRCHK(vmx_check_guest_activity_supported),
    NRCHK(vmx_check_guest_activity_hlt_dpl),
    NRCHK(vmx_check_guest_activity_blocking),
    NRCHK(vmx_check_guest_activity_event),
    NRCHK(vmx_check_guest_activity_smm_sipi),
    NRCHK(vmx_check_guest_intr_reserved),
    NRCHK(vmx_check_guest_intr_sti_and_mov_ss),
    NRCHK(vmx_check_guest_intr_sti_needs_if),
    NRCHK(vmx_check_guest_intr_ext_intr_blocked),
    NRCHK(vmx_check_guest_intr_nmi_mov_ss),
    NRCHK(vmx_check_guest_intr_smi_outside_smm),
    NRCHK(vmx_check_guest_intr_smi_entry_to_smm),
    NRCHK(vmx_check_guest_intr_nmi_sti),
    NRCHK(vmx_check_guest_intr_virtual_nmi_blocking),
    NRCHK(vmx_check_guest_intr_enclave_mov_ss),
    NRCHK(vmx_check_guest_pending_dbg_reserved),
    NRCHK(vmx_check_guest_pending_dbg_bs_set),
    NRCHK(vmx_check_guest_pending_dbg_bs_clear),
    NRCHK(vmx_check_guest_link_ptr_align),
    NRCHK(vmx_check_guest_link_ptr_width),
    NRCHK(vmx_check_guest_link_ptr_revision),
    NRCHK(vmx_check_guest_link_ptr_shadow),
    NRCHK(vmx_check_guest_link_ptr_current),
    VMX_CHECK(vmx_check_guest_pdptes, VMX_GROUP_GUEST, SDM_GUEST_PDPT),
};

const size_t vmx_checks_guest_state_count =
    sizeof(vmx_checks_guest_state) / sizeof(vmx_checks_guest_state[0]);
