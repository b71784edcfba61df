/* VM-entry checks on the VMX controls, SDM 27.2.1 "Checks on VMX Controls": VM-execution
 * (27.2.1.1), VM-exit (27.2.1.2) and VM-entry (27.2.1.3) control fields, in the SDM's order.
 * Each failure makes VMLAUNCH/VMRESUME VMfailValid(7). Not covered: HLAT, IPI virtualization,
 * PASID translation and the secondary VM-exit controls (no profile allows them), SMM
 * dual-monitor rules beyond "entry to SMM" outside SMM. */
#include "vmx_int.h"

/* ---- 27.2.1.1 VM-execution control fields ---- */

static bool vmx_check_ctrl_pin_allowed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t must1 = vmx_caps_pin_must1(c->caps);

	return CC((c->pin & must1) != must1, SDM_EXEC);
}

static bool vmx_check_ctrl_pin_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->pin & ~vmx_caps_pin_may1(c->caps), SDM_EXEC);
}

static bool vmx_check_ctrl_proc_allowed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t must1 = vmx_caps_proc_must1(c->caps);

	return CC((c->proc & must1) != must1, SDM_EXEC);
}

static bool vmx_check_ctrl_proc_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->proc & ~vmx_caps_proc_may1(c->caps), SDM_EXEC);
}

/* Only when "activate secondary controls" is 1: c->proc2 is 0 otherwise. */
static bool vmx_check_ctrl_proc2_allowed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t must1 = vmx_caps_proc2_must1(c->caps);

	return CC((c->proc & PROC_ACTIVATE_SECONDARY) && (c->proc2 & must1) != must1, SDM_EXEC);
}

static bool vmx_check_ctrl_proc2_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->proc2 & ~vmx_caps_proc2_may1(c->caps), SDM_EXEC);
}

static bool vmx_check_ctrl_proc3_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->proc3 & ~vmx_caps_proc3_may1(c->caps), SDM_EXEC);
}

static bool vmx_check_ctrl_cr3_target_count(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t misc = vmx_caps_msr(c->caps, MSR_IA32_VMX_MISC);

	return CC(F(CR3_TARGET_COUNT) > VMX_MISC_CR3_TARGETS(misc), SDM_EXEC);
}

static bool vmx_check_ctrl_io_bitmap_a(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc & PROC_USE_IO_BITMAPS) && vmx_pa_bad_page(c->caps, F(IO_BITMAP_A)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_io_bitmap_b(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc & PROC_USE_IO_BITMAPS) && vmx_pa_bad_page(c->caps, F(IO_BITMAP_B)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_msr_bitmap(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc & PROC_USE_MSR_BITMAPS) && vmx_pa_bad_page(c->caps, F(MSR_BITMAP)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_virtual_apic_page(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc & PROC_USE_TPR_SHADOW) &&
	              vmx_pa_bad_page(c->caps, F(VIRTUAL_APIC_PAGE_ADDR)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_tpr_threshold_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc & PROC_USE_TPR_SHADOW) && !(c->proc2 & PROC2_VIRT_INTR_DELIVERY) &&
	              (F(TPR_THRESHOLD) & 0xfffffff0u),
	          SDM_EXEC);
}

/* VTPR: byte 80H of the virtual-APIC page (SDM 30.1.1 "Virtualized APIC Registers"). */
static unsigned vtpr(const struct vmx_entry_ctx *c)
{
	uint8_t b;

	if (!vmx_ctx_read(c, F(VIRTUAL_APIC_PAGE_ADDR) + 0x80, &b, 1))
		return 0xff;
	return b;
}

static bool vmx_check_ctrl_tpr_threshold_vtpr(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	bool applies = (c->proc & PROC_USE_TPR_SHADOW) &&
	               !(c->proc2 & (PROC2_VIRT_APIC_ACCESSES | PROC2_VIRT_INTR_DELIVERY));

	return CC(applies && (F(TPR_THRESHOLD) & 0xf) > (vtpr(c) >> 4), SDM_EXEC);
}

static bool vmx_check_ctrl_apicv_needs_tpr_shadow(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	const uint32_t needs =
	    PROC2_VIRT_X2APIC_MODE | PROC2_APIC_REGISTER_VIRT | PROC2_VIRT_INTR_DELIVERY;

	return CC(!(c->proc & PROC_USE_TPR_SHADOW) && (c->proc2 & needs), SDM_EXEC);
}

static bool vmx_check_ctrl_virtual_nmis_need_nmi_exiting(const struct vmx_entry_ctx *c,
                                                         struct vmx_fail *f)
{
	return CC(!(c->pin & PIN_NMI_EXITING) && (c->pin & PIN_VIRTUAL_NMIS), SDM_EXEC);
}

static bool vmx_check_ctrl_nmi_window_needs_virtual_nmis(const struct vmx_entry_ctx *c,
                                                         struct vmx_fail *f)
{
	return CC(!(c->pin & PIN_VIRTUAL_NMIS) && (c->proc & PROC_NMI_WINDOW_EXITING), SDM_EXEC);
}

static bool vmx_check_ctrl_apic_access_page(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_VIRT_APIC_ACCESSES) &&
	              vmx_pa_bad_page(c->caps, F(APIC_ACCESS_ADDR)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_x2apic_vs_apic_accesses(const struct vmx_entry_ctx *c,
                                                   struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_VIRT_X2APIC_MODE) && (c->proc2 & PROC2_VIRT_APIC_ACCESSES),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_vid_needs_ext_intr_exiting(const struct vmx_entry_ctx *c,
                                                      struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_VIRT_INTR_DELIVERY) && !(c->pin & PIN_EXT_INTR_EXITING),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_posted_intr_needs_vid(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->pin & PIN_POSTED_INTERRUPTS) && !(c->proc2 & PROC2_VIRT_INTR_DELIVERY),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_posted_intr_needs_ack_on_exit(const struct vmx_entry_ctx *c,
                                                         struct vmx_fail *f)
{
	return CC((c->pin & PIN_POSTED_INTERRUPTS) && !(c->exit & EXIT_ACK_INTR_ON_EXIT), SDM_EXEC);
}

static bool vmx_check_ctrl_posted_intr_vector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->pin & PIN_POSTED_INTERRUPTS) && (F(POSTED_INTR_NV) & 0xff00), SDM_EXEC);
}

static bool vmx_check_ctrl_posted_intr_desc(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t pa = F(POSTED_INTR_DESC_ADDR);

	return CC((c->pin & PIN_POSTED_INTERRUPTS) &&
	              ((pa & 0x3f) || vmx_caps_pa_too_wide(c->caps, pa)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_vpid_nonzero(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_VPID) && F(VIRTUAL_PROCESSOR_ID) == 0, SDM_EXEC);
}

static uint64_t ept_cap(const struct vmx_entry_ctx *c)
{
	return vmx_caps_msr(c->caps, MSR_IA32_VMX_EPT_VPID_CAP);
}

/* SDM 25.6.11 "Extended-Page-Table Pointer (EPTP)": UC needs cap bit 8, WB cap bit 14. */
static bool eptp_mt_ok(uint64_t cap, uint64_t eptp)
{
	uint64_t mt = eptp & EPTP_MT_MASK;

	return (mt == EPTP_MT_UC && (cap & EPT_CAP_UC)) || (mt == EPTP_MT_WB && (cap & EPT_CAP_WB));
}

static bool eptp_walk_ok(uint64_t cap, uint64_t eptp)
{
	uint64_t w = eptp & EPTP_WALK_MASK;

	return (w == EPTP_WALK_4 && (cap & EPT_CAP_WALK_4)) ||
	       (w == EPTP_WALK_5 && (cap & EPT_CAP_WALK_5));
}

static bool vmx_check_ctrl_eptp_memory_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_EPT) && !eptp_mt_ok(ept_cap(c), F(EPT_POINTER)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_eptp_walk_length(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_EPT) && !eptp_walk_ok(ept_cap(c), F(EPT_POINTER)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_eptp_ad_flags(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_EPT) && (F(EPT_POINTER) & EPTP_AD_ENABLE) &&
	              !(ept_cap(c) & EPT_CAP_AD),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_eptp_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t eptp = F(EPT_POINTER);

	return CC((c->proc2 & PROC2_ENABLE_EPT) &&
	              ((eptp & EPTP_RESERVED_LOW) || vmx_caps_pa_too_wide(c->caps, eptp)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_pml_needs_ept(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_PML) && !(c->proc2 & PROC2_ENABLE_EPT), SDM_EXEC);
}

static bool vmx_check_ctrl_pml_address(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_ENABLE_PML) && vmx_pa_bad_page(c->caps, F(PML_ADDRESS)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_unrestricted_needs_ept(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_UNRESTRICTED_GUEST) && !(c->proc2 & PROC2_ENABLE_EPT),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_spp_needs_ept(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_SUBPAGE_WRITE_PERM) && !(c->proc2 & PROC2_ENABLE_EPT),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_spp_table(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_SUBPAGE_WRITE_PERM) &&
	              vmx_pa_bad_page(c->caps, F(SPP_TABLE_POINTER)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_vmfunc_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t allowed = vmx_caps_msr(c->caps, MSR_IA32_VMX_VMFUNC);

	return CC((c->proc2 & PROC2_ENABLE_VMFUNC) && (F(VM_FUNCTION_CONTROL) & ~allowed),
	          SDM_EXEC);
}

static bool eptp_switching(const struct vmx_entry_ctx *c)
{
	return (c->proc2 & PROC2_ENABLE_VMFUNC) && (F(VM_FUNCTION_CONTROL) & VMFUNC_EPTP_SWITCHING);
}

static bool vmx_check_ctrl_eptp_switching_needs_ept(const struct vmx_entry_ctx *c,
                                                    struct vmx_fail *f)
{
	return CC(eptp_switching(c) && !(c->proc2 & PROC2_ENABLE_EPT), SDM_EXEC);
}

static bool vmx_check_ctrl_eptp_list_address(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(eptp_switching(c) && vmx_pa_bad_page(c->caps, F(EPTP_LIST_ADDRESS)), SDM_EXEC);
}

static bool vmx_check_ctrl_vmread_bitmap(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_VMCS_SHADOWING) && vmx_pa_bad_page(c->caps, F(VMREAD_BITMAP)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_vmwrite_bitmap(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_VMCS_SHADOWING) && vmx_pa_bad_page(c->caps, F(VMWRITE_BITMAP)),
	          SDM_EXEC);
}

static bool vmx_check_ctrl_ve_info_address(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC((c->proc2 & PROC2_EPT_VIOLATION_VE) &&
	              vmx_pa_bad_page(c->caps, F(VE_INFO_ADDRESS)),
	          SDM_EXEC);
}

/* ---- 27.2.1.2 VM-exit control fields ---- */

static bool vmx_check_ctrl_exit_allowed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t must1 = vmx_caps_exit_must1(c->caps);

	return CC((c->exit & must1) != must1, SDM_EXIT);
}

static bool vmx_check_ctrl_exit_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->exit & ~vmx_caps_exit_may1(c->caps), SDM_EXIT);
}

static bool vmx_check_ctrl_save_timer_needs_timer(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!(c->pin & PIN_PREEMPTION_TIMER) && (c->exit & EXIT_SAVE_PREEMPTION_TIMER),
	          SDM_EXIT);
}

/* An MSR area of count 16-byte entries: 16-byte aligned, first and last byte within width. */
static bool msr_area_bad(const struct vmx_caps *caps, uint64_t addr, uint64_t count)
{
	if (count == 0)
		return false;
	return (addr & 0xf) || vmx_caps_pa_too_wide(caps, addr) || addr + count * 16 - 1 < addr ||
	       vmx_caps_pa_too_wide(caps, addr + count * 16 - 1);
}

static bool vmx_check_ctrl_exit_msr_store(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(msr_area_bad(c->caps, F(VM_EXIT_MSR_STORE_ADDR), F(VM_EXIT_MSR_STORE_COUNT)),
	          SDM_EXIT);
}

static bool vmx_check_ctrl_exit_msr_load(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(msr_area_bad(c->caps, F(VM_EXIT_MSR_LOAD_ADDR), F(VM_EXIT_MSR_LOAD_COUNT)),
	          SDM_EXIT);
}

/* ---- 27.2.1.3 VM-entry control fields ---- */

static bool vmx_check_ctrl_entry_allowed0(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint32_t must1 = vmx_caps_entry_must1(c->caps);

	return CC((c->entry & must1) != must1, SDM_ENTRY);
}

static bool vmx_check_ctrl_entry_allowed1(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(c->entry & ~vmx_caps_entry_may1(c->caps), SDM_ENTRY);
}

static bool intr_valid(const struct vmx_entry_ctx *c)
{
	return (vmx_intr_info(c) & INTR_INFO_VALID) != 0;
}

static unsigned intr_type(const struct vmx_entry_ctx *c)
{
	return INTR_INFO_TYPE(vmx_intr_info(c));
}

static unsigned intr_vector(const struct vmx_entry_ctx *c)
{
	return INTR_INFO_VECTOR(vmx_intr_info(c));
}

/* Type 1 is reserved; type 7 (other event) needs the 1-setting of "monitor trap flag". */
static bool vmx_check_ctrl_intr_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	bool mtf = vmx_caps_proc_may1(c->caps) & PROC_MONITOR_TRAP_FLAG;

	return CC(intr_valid(c) && (intr_type(c) == INTR_TYPE_RESERVED ||
	                            (intr_type(c) == INTR_TYPE_OTHER_EVENT && !mtf)),
	          SDM_ENTRY);
}

static bool vmx_check_ctrl_intr_nmi_vector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(intr_valid(c) && intr_type(c) == INTR_TYPE_NMI && intr_vector(c) != 2, SDM_ENTRY);
}

static bool vmx_check_ctrl_intr_exception_vector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(intr_valid(c) && intr_type(c) == INTR_TYPE_HW_EXCEPTION && intr_vector(c) > 31,
	          SDM_ENTRY);
}

static bool vmx_check_ctrl_intr_other_vector(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(intr_valid(c) && intr_type(c) == INTR_TYPE_OTHER_EVENT && intr_vector(c) != 0,
	          SDM_ENTRY);
}

/* Vectors that push an error code: #DF #TS #NP #SS #GP #PF #AC, and #CP with CET. */
static bool vector_has_error_code(const struct vmx_entry_ctx *c, unsigned vector)
{
	if (vector == 21)
		return (vmx_caps_entry_may1(c->caps) & ENTRY_LOAD_CET_STATE) != 0;
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/* The deliver-error-code rule, as KVM words it: with IA32_VMX_BASIC[56] a protected-mode hardware
 * exception may go either way; otherwise the bit must say exactly whether the vector has one. */
static bool error_code_wrong(const struct vmx_entry_ctx *c)
{
	bool prot = !vmx_unrestricted(c) || (F(GUEST_CR0) & CR0_PE);
	bool hw = intr_type(c) == INTR_TYPE_HW_EXCEPTION;
	bool has = vmx_intr_info(c) & INTR_INFO_DELIVER_CODE;
	bool relaxed = vmx_caps_msr(c->caps, MSR_IA32_VMX_BASIC) & VMX_BASIC_NO_ERRCODE_CC;

	if (prot && hw && relaxed)
		return false;
	return has != (prot && hw && vector_has_error_code(c, intr_vector(c)));
}

static bool vmx_check_ctrl_intr_deliver_error_code(const struct vmx_entry_ctx *c,
                                                   struct vmx_fail *f)
{
	return CC(intr_valid(c) && error_code_wrong(c), SDM_ENTRY);
}

static bool vmx_check_ctrl_intr_info_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(intr_valid(c) && (vmx_intr_info(c) & INTR_INFO_RSVD_30_12), SDM_ENTRY);
}

static bool vmx_check_ctrl_intr_error_code_reserved(const struct vmx_entry_ctx *c,
                                                    struct vmx_fail *f)
{
	return CC(intr_valid(c) && (vmx_intr_info(c) & INTR_INFO_DELIVER_CODE) &&
	              (F(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u),
	          SDM_ENTRY);
}

static bool software_event(unsigned type)
{
	return type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_PRIV_SW_EXC ||
	       type == INTR_TYPE_SOFT_EXC;
}

static bool vmx_check_ctrl_intr_instruction_length(const struct vmx_entry_ctx *c,
                                                   struct vmx_fail *f)
{
	uint64_t len = F(VM_ENTRY_INSTRUCTION_LEN);
	bool zero_ok = vmx_caps_msr(c->caps, MSR_IA32_VMX_MISC) & VMX_MISC_ZERO_LEN_INJECT;

	return CC(intr_valid(c) && software_event(intr_type(c)) &&
	              (len > 15 || (len == 0 && !zero_ok)),
	          SDM_ENTRY);
}

static bool vmx_check_ctrl_entry_msr_load(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(msr_area_bad(c->caps, F(VM_ENTRY_MSR_LOAD_ADDR), F(VM_ENTRY_MSR_LOAD_COUNT)),
	          SDM_ENTRY);
}

static bool vmx_check_ctrl_entry_to_smm(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!c->mode->in_smm && (c->entry & ENTRY_TO_SMM), SDM_ENTRY);
}

static bool vmx_check_ctrl_deactivate_dual_monitor(const struct vmx_entry_ctx *c,
                                                   struct vmx_fail *f)
{
	return CC(!c->mode->in_smm && (c->entry & ENTRY_DEACT_DUAL_MONITOR), SDM_ENTRY);
}

#define CTRL(fn, cite) VMX_CHECK(fn, VMX_GROUP_CTRL, cite)

const struct vmx_check vmx_checks_ctrl[] = {
    CTRL(vmx_check_ctrl_pin_allowed0, SDM_EXEC),
    CTRL(vmx_check_ctrl_pin_allowed1, SDM_EXEC),
    CTRL(vmx_check_ctrl_proc_allowed0, SDM_EXEC),
    CTRL(vmx_check_ctrl_proc_allowed1, SDM_EXEC),
    CTRL(vmx_check_ctrl_proc2_allowed0, SDM_EXEC),
    CTRL(vmx_check_ctrl_proc2_allowed1, SDM_EXEC),
    CTRL(vmx_check_ctrl_proc3_allowed1, SDM_EXEC),
    CTRL(vmx_check_ctrl_cr3_target_count, SDM_EXEC),
    CTRL(vmx_check_ctrl_io_bitmap_a, SDM_EXEC),
    CTRL(vmx_check_ctrl_io_bitmap_b, SDM_EXEC),
    CTRL(vmx_check_ctrl_msr_bitmap, SDM_EXEC),
    CTRL(vmx_check_ctrl_virtual_apic_page, SDM_EXEC),
    CTRL(vmx_check_ctrl_tpr_threshold_high, SDM_EXEC),
    CTRL(vmx_check_ctrl_tpr_threshold_vtpr, SDM_EXEC),
    CTRL(vmx_check_ctrl_apicv_needs_tpr_shadow, SDM_EXEC),
    CTRL(vmx_check_ctrl_virtual_nmis_need_nmi_exiting, SDM_EXEC),
    CTRL(vmx_check_ctrl_nmi_window_needs_virtual_nmis, SDM_EXEC),
    CTRL(vmx_check_ctrl_apic_access_page, SDM_EXEC),
    CTRL(vmx_check_ctrl_x2apic_vs_apic_accesses, SDM_EXEC),
    CTRL(vmx_check_ctrl_vid_needs_ext_intr_exiting, SDM_EXEC),
    CTRL(vmx_check_ctrl_posted_intr_needs_vid, SDM_EXEC),
    CTRL(vmx_check_ctrl_posted_intr_needs_ack_on_exit, SDM_EXEC),
    CTRL(vmx_check_ctrl_posted_intr_vector, SDM_EXEC),
    CTRL(vmx_check_ctrl_posted_intr_desc, SDM_EXEC),
    CTRL(vmx_check_ctrl_vpid_nonzero, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_memory_type, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_walk_length, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_ad_flags, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_reserved, SDM_EXEC),
    CTRL(vmx_check_ctrl_pml_needs_ept, SDM_EXEC),
    CTRL(vmx_check_ctrl_pml_address, SDM_EXEC),
    CTRL(vmx_check_ctrl_unrestricted_needs_ept, SDM_EXEC),
    CTRL(vmx_check_ctrl_spp_needs_ept, SDM_EXEC),
    CTRL(vmx_check_ctrl_spp_table, SDM_EXEC),
    CTRL(vmx_check_ctrl_vmfunc_reserved, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_switching_needs_ept, SDM_EXEC),
    CTRL(vmx_check_ctrl_eptp_list_address, SDM_EXEC),
    CTRL(vmx_check_ctrl_vmread_bitmap, SDM_EXEC),
    CTRL(vmx_check_ctrl_vmwrite_bitmap, SDM_EXEC),
    CTRL(vmx_check_ctrl_ve_info_address, SDM_EXEC),
    CTRL(vmx_check_ctrl_exit_allowed0, SDM_EXIT),
    CTRL(vmx_check_ctrl_exit_allowed1, SDM_EXIT),
    CTRL(vmx_check_ctrl_save_timer_needs_timer, SDM_EXIT),
    CTRL(vmx_check_ctrl_exit_msr_store, SDM_EXIT),
    CTRL(vmx_check_ctrl_exit_msr_load, SDM_EXIT),
    CTRL(vmx_check_ctrl_entry_allowed0, SDM_ENTRY),
    CTRL(vmx_check_ctrl_entry_allowed1, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_type, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_nmi_vector, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_exception_vector, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_other_vector, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_deliver_error_code, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_info_reserved, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_error_code_reserved, SDM_ENTRY),
    CTRL(vmx_check_ctrl_intr_instruction_length, SDM_ENTRY),
    CTRL(vmx_check_ctrl_entry_msr_load, SDM_ENTRY),
    CTRL(vmx_check_ctrl_entry_to_smm, SDM_ENTRY),
    CTRL(vmx_check_ctrl_deactivate_dual_monitor, SDM_ENTRY),
};

const size_t vmx_checks_ctrl_count = sizeof(vmx_checks_ctrl) / sizeof(vmx_checks_ctrl[0]);

/* INVEPT single-context takes an EPTP VM entry would accept (SDM 31.3 "INVEPT"). */
bool vmx_eptp_invalid(const struct vmx_caps *caps, uint64_t eptp)
{
	uint64_t cap = vmx_caps_msr(caps, MSR_IA32_VMX_EPT_VPID_CAP);

	return !eptp_mt_ok(cap, eptp) || !eptp_walk_ok(cap, eptp) ||
	       ((eptp & EPTP_AD_ENABLE) && !(cap & EPT_CAP_AD)) || (eptp & EPTP_RESERVED_LOW) ||
	       vmx_caps_pa_too_wide(caps, eptp);
}
