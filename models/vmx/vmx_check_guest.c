/* VM-entry checks on guest control registers, debug registers and MSRs, SDM 27.3.1.1 "Checks on
 * Guest Control Registers, Debug Registers, and MSRs", in the SDM's order. A failure is a VM-entry
 * failure exit 33 with exit qualification 0. Not covered: IA32_RTIT_CTL and IA32_LBR_CTL reserved
 * bits (no Intel PT or arch-LBR model), IA32_S_CET reserved bits (canonicality only). */
#include "vmx_int.h"

/* SDM 27.3.1.1: with "unrestricted guest" 1, CR0.PE and CR0.PG are not checked against FIXED0. */
static uint64_t cr0_fixed0(const struct vmx_entry_ctx *c)
{
	uint64_t fixed0 = vmx_caps_msr(c->caps, MSR_IA32_VMX_CR0_FIXED0);

	return vmx_unrestricted(c) ? fixed0 & ~(CR0_PE | CR0_PG) : fixed0;
}

static bool vmx_check_guest_cr0_fixed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((F(GUEST_CR0) & cr0_fixed0(c)) != cr0_fixed0(c), SDM_GUEST_CR);
}

static bool vmx_check_guest_cr0_fixed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_CR0) & ~vmx_caps_msr(c->caps, MSR_IA32_VMX_CR0_FIXED1), SDM_GUEST_CR);
}

static bool vmx_check_guest_cr0_pg_needs_pe(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((F(GUEST_CR0) & CR0_PG) && !(F(GUEST_CR0) & CR0_PE), SDM_GUEST_CR);
}

static bool vmx_check_guest_cr4_fixed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t fixed0 = vmx_caps_msr(c->caps, MSR_IA32_VMX_CR4_FIXED0);

	return CC((F(GUEST_CR4) & fixed0) != fixed0, SDM_GUEST_CR);
}

static bool vmx_check_guest_cr4_fixed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_CR4) & ~vmx_caps_msr(c->caps, MSR_IA32_VMX_CR4_FIXED1), SDM_GUEST_CR);
}

static bool vmx_check_guest_cet_needs_wp(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((F(GUEST_CR4) & CR4_CET) && !(F(GUEST_CR0) & CR0_WP), SDM_GUEST_CR);
}

static bool vmx_check_guest_debugctl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_DEBUG_CONTROLS) &&
	              (F(GUEST_IA32_DEBUGCTL) & ~c->caps->debugctl_valid),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_ia32e_needs_pg(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_ia32e_guest(c) && !(F(GUEST_CR0) & CR0_PG), SDM_GUEST_CR);
}

static bool vmx_check_guest_ia32e_needs_pae(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(vmx_ia32e_guest(c) && !(F(GUEST_CR4) & CR4_PAE), SDM_GUEST_CR);
}

static bool vmx_check_guest_pcide_needs_ia32e(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_ia32e_guest(c) && (F(GUEST_CR4) & CR4_PCIDE), SDM_GUEST_CR);
}

static bool vmx_check_guest_cr3_width(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->caps->maxphyaddr < 64 && (F(GUEST_CR3) >> c->caps->maxphyaddr), SDM_GUEST_CR);
}

static bool vmx_check_guest_dr7_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_DEBUG_CONTROLS) && (F(GUEST_DR7) >> 32), SDM_GUEST_CR);
}

static bool vmx_check_guest_sysenter_esp(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(GUEST_SYSENTER_ESP)), SDM_GUEST_CR);
}

static bool vmx_check_guest_sysenter_eip(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(GUEST_SYSENTER_EIP)), SDM_GUEST_CR);
}

static bool vmx_check_guest_cet_state(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_CET_STATE) &&
	              (!vmx_caps_canonical(c->caps, F(GUEST_S_CET)) ||
	               !vmx_caps_canonical(c->caps, F(GUEST_INTR_SSP_TABLE))),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_perf_global_ctrl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_PERF_GLOBAL_CTRL) &&
	              (F(GUEST_IA32_PERF_GLOBAL_CTRL) & ~c->caps->perf_global_ctrl_valid),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_pat(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_IA32_PAT) && !vmx_pat_valid(F(GUEST_IA32_PAT)),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_efer_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_IA32_EFER) && (F(GUEST_IA32_EFER) & ~c->caps->efer_valid),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_efer_lma(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_IA32_EFER) &&
	              ((F(GUEST_IA32_EFER) & EFER_LMA) != 0) != vmx_ia32e_guest(c),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_efer_lme(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t efer = F(GUEST_IA32_EFER);

	return CC((c->entry & ENTRY_LOAD_IA32_EFER) && (F(GUEST_CR0) & CR0_PG) &&
	              ((efer & EFER_LMA) != 0) != ((efer & EFER_LME) != 0),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_bndcfgs_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_BNDCFGS) && (F(GUEST_BNDCFGS) & 0x1c), SDM_GUEST_CR);
}

static bool vmx_check_guest_bndcfgs_canonical(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_BNDCFGS) &&
	              !vmx_caps_canonical(c->caps, F(GUEST_BNDCFGS) & ~UINT64_C(0xfff)),
	          SDM_GUEST_CR);
}

static bool vmx_check_guest_pkrs(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->entry & ENTRY_LOAD_PKRS) && (F(GUEST_IA32_PKRS) >> 32), SDM_GUEST_CR);
}

#define GUEST(fn) VMX_CHECK(fn, VMX_GROUP_GUEST, SDM_GUEST_CR)

const struct vmx_check vmx_checks_guest[] = {
    GUEST(vmx_check_guest_cr0_fixed0),
    GUEST(vmx_check_guest_cr0_fixed1),
    GUEST(vmx_check_guest_cr0_pg_needs_pe),
    GUEST(vmx_check_guest_cr4_fixed0),
    GUEST(vmx_check_guest_cr4_fixed1),
    GUEST(vmx_check_guest_cet_needs_wp),
    GUEST(vmx_check_guest_debugctl),
    GUEST(vmx_check_guest_ia32e_needs_pg),
    GUEST(vmx_check_guest_ia32e_needs_pae),
    GUEST(vmx_check_guest_pcide_needs_ia32e),
    GUEST(vmx_check_guest_cr3_width),
    GUEST(vmx_check_guest_dr7_high),
    GUEST(vmx_check_guest_sysenter_esp),
    GUEST(vmx_check_guest_sysenter_eip),
    GUEST(vmx_check_guest_cet_state),
    GUEST(vmx_check_guest_perf_global_ctrl),
    GUEST(vmx_check_guest_pat),
    GUEST(vmx_check_guest_efer_reserved),
    GUEST(vmx_check_guest_efer_lma),
    GUEST(vmx_check_guest_efer_lme),
    GUEST(vmx_check_guest_bndcfgs_reserved),
    GUEST(vmx_check_guest_bndcfgs_canonical),
    GUEST(vmx_check_guest_pkrs),
};

const size_t vmx_checks_guest_count = sizeof(vmx_checks_guest) / sizeof(vmx_checks_guest[0]);
