/* VM-entry checks on the host-state area: SDM 27.2.2 "Checks on Host Control Registers, MSRs,
 * and SSP", 27.2.3 "Checks on Host Segment and Descriptor-Table Registers" and 27.2.4 "Checks
 * Related to Address-Space Size", in the SDM's order. Each failure makes VMLAUNCH/VMRESUME
 * VMfailValid(8). Not covered: host IA32_S_CET reserved bits (only canonicality is checked). */
#include "vmx_int.h"

static bool host64(const struct vmx_entry_ctx *c)
{
	return (c->exit & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
}

/* ---- 27.2.2 ---- */

static bool vmx_check_host_cr0_fixed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t fixed0 = vmx_caps_msr(c->caps, MSR_IA32_VMX_CR0_FIXED0);

	return CC((F(HOST_CR0) & fixed0) != fixed0, SDM_HOST_CR);
}

static bool vmx_check_host_cr0_fixed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(HOST_CR0) & ~vmx_caps_msr(c->caps, MSR_IA32_VMX_CR0_FIXED1), SDM_HOST_CR);
}

static bool vmx_check_host_cr4_fixed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t fixed0 = vmx_caps_msr(c->caps, MSR_IA32_VMX_CR4_FIXED0);

	return CC((F(HOST_CR4) & fixed0) != fixed0, SDM_HOST_CR);
}

static bool vmx_check_host_cr4_fixed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(HOST_CR4) & ~vmx_caps_msr(c->caps, MSR_IA32_VMX_CR4_FIXED1), SDM_HOST_CR);
}

static bool vmx_check_host_cr3_width(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->caps->maxphyaddr < 64 && (F(HOST_CR3) >> c->caps->maxphyaddr), SDM_HOST_CR);
}

static bool vmx_check_host_sysenter_esp(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_IA32_SYSENTER_ESP)), SDM_HOST_CR);
}

static bool vmx_check_host_sysenter_eip(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_IA32_SYSENTER_EIP)), SDM_HOST_CR);
}

static bool vmx_check_host_cet_state(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_CET_STATE) &&
	              (!vmx_caps_canonical(c->caps, F(HOST_S_CET)) ||
	               !vmx_caps_canonical(c->caps, F(HOST_SSP)) ||
	               !vmx_caps_canonical(c->caps, F(HOST_INTR_SSP_TABLE))),
	          SDM_HOST_CR);
}

static bool vmx_check_host_perf_global_ctrl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_PERF_GLOBAL_CTRL) &&
	              (F(HOST_IA32_PERF_GLOBAL_CTRL) & ~c->caps->perf_global_ctrl_valid),
	          SDM_HOST_CR);
}

static bool vmx_check_host_pat(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_IA32_PAT) && !vmx_pat_valid(F(HOST_IA32_PAT)), SDM_HOST_CR);
}

static bool vmx_check_host_efer_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_IA32_EFER) && (F(HOST_IA32_EFER) & ~c->caps->efer_valid),
	          SDM_HOST_CR);
}

static bool vmx_check_host_efer_lma(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_IA32_EFER) &&
	              ((F(HOST_IA32_EFER) & EFER_LMA) != 0) != host64(c),
	          SDM_HOST_CR);
}

static bool vmx_check_host_efer_lme(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_IA32_EFER) &&
	              ((F(HOST_IA32_EFER) & EFER_LME) != 0) != host64(c),
	          SDM_HOST_CR);
}

static bool vmx_check_host_pkrs(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->exit & EXIT_LOAD_PKRS) && (F(HOST_IA32_PKRS) >> 32), SDM_HOST_CR);
}

/* ---- 27.2.3 ---- */

/* RPL (bits 1:0) and TI (bit 2) of each host selector must be 0. */
static bool sel_bad(uint64_t sel)
{
	return (sel & (SEL_TI | 3u)) != 0;
}

static bool vmx_check_host_es_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_ES_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_cs_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_CS_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_ss_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_SS_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_ds_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_DS_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_fs_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_FS_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_gs_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_GS_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_tr_selector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel_bad(F(HOST_TR_SELECTOR)), SDM_HOST_SEG);
}

static bool vmx_check_host_cs_nonzero(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(HOST_CS_SELECTOR) == 0, SDM_HOST_SEG);
}

static bool vmx_check_host_tr_nonzero(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(HOST_TR_SELECTOR) == 0, SDM_HOST_SEG);
}

static bool vmx_check_host_ss_nonzero(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!host64(c) && F(HOST_SS_SELECTOR) == 0, SDM_HOST_SEG);
}

static bool vmx_check_host_fs_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_FS_BASE)), SDM_HOST_SEG);
}

static bool vmx_check_host_gs_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_GS_BASE)), SDM_HOST_SEG);
}

static bool vmx_check_host_gdtr_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_GDTR_BASE)), SDM_HOST_SEG);
}

static bool vmx_check_host_idtr_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_IDTR_BASE)), SDM_HOST_SEG);
}

static bool vmx_check_host_tr_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(HOST_TR_BASE)), SDM_HOST_SEG);
}

/* ---- 27.2.4 ---- */

static bool in_ia32e(const struct vmx_entry_ctx *c)
{
	return (c->mode->efer & EFER_LMA) != 0;
}

static bool vmx_check_host_outside_ia32e_guest(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!in_ia32e(c) && vmx_ia32e_guest(c), SDM_HOST_ASZ);
}

static bool vmx_check_host_outside_ia32e_host(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!in_ia32e(c) && host64(c), SDM_HOST_ASZ);
}

static bool vmx_check_host_ia32e_needs_host64(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(in_ia32e(c) && !host64(c), SDM_HOST_ASZ);
}

static bool vmx_check_host32_guest_not_ia32e(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!host64(c) && vmx_ia32e_guest(c), SDM_HOST_ASZ);
}

static bool vmx_check_host32_pcide(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!host64(c) && (F(HOST_CR4) & CR4_PCIDE), SDM_HOST_ASZ);
}

static bool vmx_check_host32_rip(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!host64(c) && (F(HOST_RIP) >> 32), SDM_HOST_ASZ);
}

static bool vmx_check_host64_pae(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(host64(c) && !(F(HOST_CR4) & CR4_PAE), SDM_HOST_ASZ);
}

static bool vmx_check_host64_rip(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(host64(c) && !vmx_caps_canonical(c->caps, F(HOST_RIP)), SDM_HOST_ASZ);
}

#define HOST(fn, cite) VMX_CHECK(fn, VMX_GROUP_HOST, cite)

const struct vmx_check vmx_checks_host[] = {
    HOST(vmx_check_host_cr0_fixed0, SDM_HOST_CR),
    HOST(vmx_check_host_cr0_fixed1, SDM_HOST_CR),
    HOST(vmx_check_host_cr4_fixed0, SDM_HOST_CR),
    HOST(vmx_check_host_cr4_fixed1, SDM_HOST_CR),
    HOST(vmx_check_host_cr3_width, SDM_HOST_CR),
    HOST(vmx_check_host_sysenter_esp, SDM_HOST_CR),
    HOST(vmx_check_host_sysenter_eip, SDM_HOST_CR),
    HOST(vmx_check_host_cet_state, SDM_HOST_CR),
    HOST(vmx_check_host_perf_global_ctrl, SDM_HOST_CR),
    HOST(vmx_check_host_pat, SDM_HOST_CR),
    HOST(vmx_check_host_efer_reserved, SDM_HOST_CR),
    HOST(vmx_check_host_efer_lma, SDM_HOST_CR),
    HOST(vmx_check_host_efer_lme, SDM_HOST_CR),
    HOST(vmx_check_host_pkrs, SDM_HOST_CR),
    HOST(vmx_check_host_es_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_cs_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_ss_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_ds_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_fs_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_gs_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_tr_selector, SDM_HOST_SEG),
    HOST(vmx_check_host_cs_nonzero, SDM_HOST_SEG),
    HOST(vmx_check_host_tr_nonzero, SDM_HOST_SEG),
    HOST(vmx_check_host_ss_nonzero, SDM_HOST_SEG),
    HOST(vmx_check_host_fs_base, SDM_HOST_SEG),
    HOST(vmx_check_host_gs_base, SDM_HOST_SEG),
    HOST(vmx_check_host_gdtr_base, SDM_HOST_SEG),
    HOST(vmx_check_host_idtr_base, SDM_HOST_SEG),
    HOST(vmx_check_host_tr_base, SDM_HOST_SEG),
    HOST(vmx_check_host_outside_ia32e_guest, SDM_HOST_ASZ),
    HOST(vmx_check_host_outside_ia32e_host, SDM_HOST_ASZ),
    HOST(vmx_check_host_ia32e_needs_host64, SDM_HOST_ASZ),
    HOST(vmx_check_host32_guest_not_ia32e, SDM_HOST_ASZ),
    HOST(vmx_check_host32_pcide, SDM_HOST_ASZ),
    HOST(vmx_check_host32_rip, SDM_HOST_ASZ),
    HOST(vmx_check_host64_pae, SDM_HOST_ASZ),
    HOST(vmx_check_host64_rip, SDM_HOST_ASZ),
};

const size_t vmx_checks_host_count = sizeof(vmx_checks_host) / sizeof(vmx_checks_host[0]);
