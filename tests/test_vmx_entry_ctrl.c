/* Verifies the VM-entry checks on the VMX controls (SDM 27.2.1): each test takes the fixture's
 * known-good VMCS on the Ice Lake-SP profile, breaks one control field, and expects
 * VMfailValid(7) from the named check; pass-side tests set the boundary value that must enter.
 * Table-driven tests walk every allowed-0 and allowed-1 bit of each control MSR. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_fixture.h"

/* ---- allowed-0 / allowed-1 of every control, bit by bit ---- */

struct ctl_case {
	const char *name;
	uint32_t field;
	uint32_t (*must1)(const struct vmx_caps *);
	uint32_t (*may1)(const struct vmx_caps *);
	const char *check0, *check1;
};

static const struct ctl_case ctls[] = {
    {"pin", VMCS_PIN_BASED_VM_EXEC_CONTROL, vmx_caps_pin_must1, vmx_caps_pin_may1,
     "vmx_check_ctrl_pin_allowed0", "vmx_check_ctrl_pin_allowed1"},
    {"proc", VMCS_CPU_BASED_VM_EXEC_CONTROL, vmx_caps_proc_must1, vmx_caps_proc_may1,
     "vmx_check_ctrl_proc_allowed0", "vmx_check_ctrl_proc_allowed1"},
    {"proc2", VMCS_SECONDARY_VM_EXEC_CONTROL, vmx_caps_proc2_must1, vmx_caps_proc2_may1,
     "vmx_check_ctrl_proc2_allowed0", "vmx_check_ctrl_proc2_allowed1"},
    {"exit", VMCS_VM_EXIT_CONTROLS, vmx_caps_exit_must1, vmx_caps_exit_may1,
     "vmx_check_ctrl_exit_allowed0", "vmx_check_ctrl_exit_allowed1"},
    {"entry", VMCS_VM_ENTRY_CONTROLS, vmx_caps_entry_must1, vmx_caps_entry_may1,
     "vmx_check_ctrl_entry_allowed0", "vmx_check_ctrl_entry_allowed1"},
};

static void check_bit(const char *profile, const struct ctl_case *k, int bit, bool set)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, profile);
	if (set)
		vfx_or(&x, k->field, BIT32(bit));
	else
		vfx_clear(&x, k->field, BIT32(bit));
	vfx_entry(&x, &r);
	cr_assert(r.outcome == VMX_FAIL_VALID && r.error == 7 && r.check &&
	              strcmp(r.check, set ? k->check1 : k->check0) == 0,
	          "%s: %s control bit %d %s: wanted VMfailValid(7) from %s, got %s (%u) from %s",
	          profile, k->name, bit, set ? "set (allowed-1 is 0)" : "cleared (allowed-0 is 1)",
	          set ? k->check1 : k->check0, vmx_outcome_name(r.outcome), r.error,
	          r.check ? r.check : "-");
	vfx_fini(&x);
}

static void walk_control(const char *profile, bool set)
{
	struct vfx probe;

	vfx_init(&probe, profile);
	for (size_t i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		uint32_t must1 = ctls[i].must1(&probe.caps), may1 = ctls[i].may1(&probe.caps);

		for (int bit = 0; bit < 32; bit++) {
			if (set && !(may1 & BIT32(bit)))
				check_bit(profile, &ctls[i], bit, true);
			if (!set && (must1 & BIT32(bit)))
				check_bit(profile, &ctls[i], bit, false);
		}
	}
	vfx_fini(&probe);
}

Test(vmx_entry_ctrl, every_allowed0_bit_cleared_fails_with_error_7)
{
	for (const char *const *n = vmx_profile_names(); *n; n++)
		walk_control(*n, false);
}

Test(vmx_entry_ctrl, every_disallowed_bit_set_fails_with_error_7)
{
	for (const char *const *n = vmx_profile_names(); *n; n++)
		walk_control(*n, true);
}

/* SDM A.2: with IA32_VMX_BASIC[55] the TRUE_ MSRs decide: CR3-load exiting may be 0. */
PASS_TEST(vmx_entry_ctrl, true_ctls_allow_cr3_load_exiting_0,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL,
                    PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING))

Test(vmx_entry_ctrl, without_true_ctls_cr3_load_exiting_0_fails_with_error_7)
{
	struct vfx x;

	vfx_init(&x, VFX_PROFILE);
	x.cpu->caps.msr[0] &= ~VMX_BASIC_TRUE_CTLS;
	vfx_clear(&x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_LOAD_EXITING);
	vfx_expect_vmfail(&x, "vmx_check_ctrl_proc_allowed0", 7);
	vfx_fini(&x);
}

/* SDM 25.6.2: secondary controls are not checked while "activate secondary controls" is 0. */
PASS_TEST(vmx_entry_ctrl, secondary_controls_ignored_when_not_activated,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_SECONDARY);
          vfx_set(x, VMCS_SECONDARY_VM_EXEC_CONTROL, UINT32_MAX))

CTRL_FAIL(tertiary_controls_without_support_fail_with_error_7, vmx_check_ctrl_proc_allowed1,
          vfx_or(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_TERTIARY))

Test(vmx_entry_ctrl, tertiary_reserved_bit_fails_with_error_7)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_TERTIARY);
	vfx_set(&x, VMCS_TERTIARY_VM_EXEC_CONTROL, BIT64(40));
	vfx_expect_vmfail(&x, "vmx_check_ctrl_proc3_allowed1", 7);
	vfx_fini(&x);
}

Test(vmx_entry_ctrl, tertiary_supported_bit_enters)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_TERTIARY);
	vfx_set(&x, VMCS_TERTIARY_VM_EXEC_CONTROL, PROC3_IPI_VIRT);
	vfx_expect_entered(&x, "tertiary IPI virtualization");
	vfx_fini(&x);
}

/* ---- CR3 targets, bitmaps ---- */

PASS_TEST(vmx_entry_ctrl, cr3_target_count_at_misc_limit_enters,
          vfx_set(x, VMCS_CR3_TARGET_COUNT, 4))
CTRL_FAIL(cr3_target_count_above_misc_limit_fails_with_error_7, vmx_check_ctrl_cr3_target_count,
          vfx_set(x, VMCS_CR3_TARGET_COUNT, 5))
CTRL_FAIL(io_bitmap_a_unaligned_fails_with_error_7, vmx_check_ctrl_io_bitmap_a,
          vfx_set(x, VMCS_IO_BITMAP_A, VFX_IO_A | 0x800))
CTRL_FAIL(io_bitmap_a_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_io_bitmap_a,
          vfx_set(x, VMCS_IO_BITMAP_A, BIT64(46) | VFX_IO_A))
CTRL_FAIL(io_bitmap_b_unaligned_fails_with_error_7, vmx_check_ctrl_io_bitmap_b,
          vfx_set(x, VMCS_IO_BITMAP_B, VFX_IO_B | 1))
CTRL_FAIL(io_bitmap_b_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_io_bitmap_b,
          vfx_set(x, VMCS_IO_BITMAP_B, BIT64(63)))
PASS_TEST(vmx_entry_ctrl, io_bitmaps_unchecked_when_unused,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS);
          vfx_set(x, VMCS_IO_BITMAP_A, 1); vfx_set(x, VMCS_IO_BITMAP_B, 1))
PASS_TEST(vmx_entry_ctrl, io_bitmap_at_top_of_maxphyaddr_enters,
          vfx_set(x, VMCS_IO_BITMAP_A, BIT64(46) - 0x1000))
CTRL_FAIL(msr_bitmap_unaligned_fails_with_error_7, vmx_check_ctrl_msr_bitmap,
          vfx_set(x, VMCS_MSR_BITMAP, VFX_MSR_BITMAP + 8))
CTRL_FAIL(msr_bitmap_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_msr_bitmap,
          vfx_set(x, VMCS_MSR_BITMAP, BIT64(50)))
PASS_TEST(vmx_entry_ctrl, msr_bitmap_unchecked_when_unused,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
          vfx_set(x, VMCS_MSR_BITMAP, 3))

/* ---- TPR shadow and APIC virtualization ---- */

CTRL_FAIL(virtual_apic_page_unaligned_fails_with_error_7, vmx_check_ctrl_virtual_apic_page,
          vfx_set(x, VMCS_VIRTUAL_APIC_PAGE_ADDR, VFX_VAPIC + 0x10))
CTRL_FAIL(virtual_apic_page_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_virtual_apic_page,
          vfx_set(x, VMCS_VIRTUAL_APIC_PAGE_ADDR, BIT64(47)))
CTRL_FAIL(tpr_threshold_bits_31_4_fail_with_error_7, vmx_check_ctrl_tpr_threshold_high,
          vfx_set(x, VMCS_TPR_THRESHOLD, 0x10))
CTRL_FAIL(tpr_threshold_above_vtpr_fails_with_error_7, vmx_check_ctrl_tpr_threshold_vtpr,
          vfx_set(x, VMCS_TPR_THRESHOLD, 3);
          uint8_t vtpr = 0x20; vfx_write(x, VFX_VAPIC + 0x80, &vtpr, 1))
PASS_TEST(vmx_entry_ctrl, tpr_threshold_equal_to_vtpr_class_enters,
          vfx_set(x, VMCS_TPR_THRESHOLD, 2);
          uint8_t vtpr = 0x2f; vfx_write(x, VFX_VAPIC + 0x80, &vtpr, 1))
PASS_TEST(vmx_entry_ctrl, tpr_threshold_vs_vtpr_unchecked_with_apic_access_virtualization,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_APIC_ACCESSES);
          vfx_set(x, VMCS_TPR_THRESHOLD, 3))
PASS_TEST(vmx_entry_ctrl, tpr_threshold_unchecked_with_virtual_interrupt_delivery,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_INTR_DELIVERY);
          vfx_set(x, VMCS_TPR_THRESHOLD, 0xff))
CTRL_FAIL(virtualize_x2apic_without_tpr_shadow_fails_with_error_7,
          vmx_check_ctrl_apicv_needs_tpr_shadow,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_X2APIC_MODE))
CTRL_FAIL(apic_register_virtualization_without_tpr_shadow_fails_with_error_7,
          vmx_check_ctrl_apicv_needs_tpr_shadow,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_APIC_REGISTER_VIRT))
CTRL_FAIL(virtual_interrupt_delivery_without_tpr_shadow_fails_with_error_7,
          vmx_check_ctrl_apicv_needs_tpr_shadow,
          vfx_clear(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_INTR_DELIVERY))
CTRL_FAIL(virtual_nmis_without_nmi_exiting_fail_with_error_7,
          vmx_check_ctrl_virtual_nmis_need_nmi_exiting,
          vfx_clear(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING))
CTRL_FAIL(nmi_window_without_virtual_nmis_fails_with_error_7,
          vmx_check_ctrl_nmi_window_needs_virtual_nmis,
          vfx_clear(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS);
          vfx_or(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING))
PASS_TEST(vmx_entry_ctrl, nmi_window_with_virtual_nmis_enters,
          vfx_or(x, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING))
CTRL_FAIL(apic_access_page_unaligned_fails_with_error_7, vmx_check_ctrl_apic_access_page,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_APIC_ACCESSES);
          vfx_set(x, VMCS_APIC_ACCESS_ADDR, VFX_APIC_ACCESS | 0x4))
CTRL_FAIL(apic_access_page_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_apic_access_page,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_APIC_ACCESSES);
          vfx_set(x, VMCS_APIC_ACCESS_ADDR, BIT64(46)))
CTRL_FAIL(virtualize_x2apic_with_apic_accesses_fails_with_error_7,
          vmx_check_ctrl_x2apic_vs_apic_accesses,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL,
                 PROC2_VIRT_APIC_ACCESSES | PROC2_VIRT_X2APIC_MODE))
PASS_TEST(vmx_entry_ctrl, virtualize_x2apic_alone_enters,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_X2APIC_MODE))
CTRL_FAIL(virtual_interrupt_delivery_without_external_interrupt_exiting_fails_with_error_7,
          vmx_check_ctrl_vid_needs_ext_intr_exiting,
          vfx_clear(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_INTR_DELIVERY))

/* ---- posted interrupts ---- */

#define POSTED_ON                                                         \
	vfx_or(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTERRUPTS); \
	vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_INTR_DELIVERY)

PASS_TEST(vmx_entry_ctrl, posted_interrupts_fully_configured_enter, POSTED_ON)
CTRL_FAIL(posted_interrupts_without_vid_fail_with_error_7, vmx_check_ctrl_posted_intr_needs_vid,
          vfx_or(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTERRUPTS))
CTRL_FAIL(posted_interrupts_without_ack_on_exit_fail_with_error_7,
          vmx_check_ctrl_posted_intr_needs_ack_on_exit, POSTED_ON;
          vfx_clear(x, VMCS_VM_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT))
CTRL_FAIL(posted_interrupt_vector_above_255_fails_with_error_7, vmx_check_ctrl_posted_intr_vector,
          POSTED_ON;
          vfx_set(x, VMCS_POSTED_INTR_NV, 0x1f2))
CTRL_FAIL(posted_interrupt_descriptor_unaligned_fails_with_error_7, vmx_check_ctrl_posted_intr_desc,
          POSTED_ON;
          vfx_set(x, VMCS_POSTED_INTR_DESC_ADDR, VFX_PI_DESC + 0x20))
PASS_TEST(vmx_entry_ctrl, posted_interrupt_descriptor_64_byte_aligned_enters, POSTED_ON;
          vfx_set(x, VMCS_POSTED_INTR_DESC_ADDR, VFX_PI_DESC + 0x40))
CTRL_FAIL(posted_interrupt_descriptor_beyond_maxphyaddr_fails_with_error_7,
          vmx_check_ctrl_posted_intr_desc, POSTED_ON;
          vfx_set(x, VMCS_POSTED_INTR_DESC_ADDR, BIT64(46)))

/* ---- VPID, EPT ---- */

CTRL_FAIL(vpid_zero_fails_with_error_7, vmx_check_ctrl_vpid_nonzero,
          vfx_set(x, VMCS_VIRTUAL_PROCESSOR_ID, 0))
PASS_TEST(vmx_entry_ctrl, vpid_zero_without_enable_vpid_enters,
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VPID);
          vfx_set(x, VMCS_VIRTUAL_PROCESSOR_ID, 0))
PASS_TEST(vmx_entry_ctrl, eptp_uc_memory_type_enters,
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_UC))
CTRL_FAIL(eptp_memory_type_wt_fails_with_error_7, vmx_check_ctrl_eptp_memory_type,
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_4 | 4))
CTRL_FAIL(eptp_memory_type_7_fails_with_error_7, vmx_check_ctrl_eptp_memory_type,
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_4 | 7))
CTRL_FAIL(eptp_uc_without_cap_bit_8_fails_with_error_7, vmx_check_ctrl_eptp_memory_type,
          x->cpu->caps.msr[MSR_IA32_VMX_EPT_VPID_CAP - 0x480] &= ~EPT_CAP_UC;
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_UC))
CTRL_FAIL(eptp_walk_length_3_fails_with_error_7, vmx_check_ctrl_eptp_walk_length,
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | 0x10 | EPTP_MT_WB))
PASS_TEST(vmx_entry_ctrl, eptp_five_level_walk_enters_with_cap_bit_7,
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_5 | EPTP_MT_WB))
CTRL_FAIL(eptp_five_level_walk_without_cap_bit_7_fails_with_error_7,
          vmx_check_ctrl_eptp_walk_length,
          x->cpu->caps.msr[MSR_IA32_VMX_EPT_VPID_CAP - 0x480] &= ~EPT_CAP_WALK_5;
          vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_5 | EPTP_MT_WB))
PASS_TEST(vmx_entry_ctrl, eptp_ad_flags_enter_with_cap_bit_21,
          vfx_or(x, VMCS_EPT_POINTER, EPTP_AD_ENABLE))
CTRL_FAIL(eptp_ad_flags_without_cap_bit_21_fail_with_error_7, vmx_check_ctrl_eptp_ad_flags,
          x->cpu->caps.msr[MSR_IA32_VMX_EPT_VPID_CAP - 0x480] &= ~EPT_CAP_AD;
          vfx_or(x, VMCS_EPT_POINTER, EPTP_AD_ENABLE))
CTRL_FAIL(eptp_reserved_bit_7_fails_with_error_7, vmx_check_ctrl_eptp_reserved,
          vfx_or(x, VMCS_EPT_POINTER, BIT64(7)))
CTRL_FAIL(eptp_reserved_bit_11_fails_with_error_7, vmx_check_ctrl_eptp_reserved,
          vfx_or(x, VMCS_EPT_POINTER, BIT64(11)))
CTRL_FAIL(eptp_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_eptp_reserved,
          vfx_or(x, VMCS_EPT_POINTER, BIT64(46)))
PASS_TEST(vmx_entry_ctrl, eptp_unchecked_without_enable_ept,
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
          vfx_set(x, VMCS_EPT_POINTER, 0xfff))

/* ---- PML, unrestricted guest, SPP ---- */

CTRL_FAIL(pml_without_ept_fails_with_error_7, vmx_check_ctrl_pml_needs_ept,
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML))
CTRL_FAIL(pml_address_unaligned_fails_with_error_7, vmx_check_ctrl_pml_address,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML);
          vfx_set(x, VMCS_PML_ADDRESS, VFX_PML + 0x200))
PASS_TEST(vmx_entry_ctrl, pml_with_ept_enters,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML))
CTRL_FAIL(unrestricted_guest_without_ept_fails_with_error_7, vmx_check_ctrl_unrestricted_needs_ept,
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST))
CTRL_FAIL(spp_without_ept_fails_with_error_7, vmx_check_ctrl_spp_needs_ept,
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_SUBPAGE_WRITE_PERM))
CTRL_FAIL(spp_table_unaligned_fails_with_error_7, vmx_check_ctrl_spp_table,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_SUBPAGE_WRITE_PERM);
          vfx_set(x, VMCS_SPP_TABLE_POINTER, 0x13008))

/* ---- VM functions, VMCS shadowing, #VE ---- */

#define VMFUNC_ON vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC)

CTRL_FAIL(vmfunc_reserved_bit_fails_with_error_7, vmx_check_ctrl_vmfunc_reserved, VMFUNC_ON;
          vfx_set(x, VMCS_VM_FUNCTION_CONTROL, 2))
PASS_TEST(vmx_entry_ctrl, eptp_switching_with_ept_and_aligned_list_enters, VMFUNC_ON;
          vfx_set(x, VMCS_VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING))
CTRL_FAIL(eptp_switching_without_ept_fails_with_error_7, vmx_check_ctrl_eptp_switching_needs_ept,
          VMFUNC_ON;
          vfx_set(x, VMCS_VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING);
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
CTRL_FAIL(eptp_list_unaligned_fails_with_error_7, vmx_check_ctrl_eptp_list_address, VMFUNC_ON;
          vfx_set(x, VMCS_VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING);
          vfx_set(x, VMCS_EPTP_LIST_ADDRESS, VFX_EPTP_LIST + 8))
CTRL_FAIL(vmread_bitmap_unaligned_fails_with_error_7, vmx_check_ctrl_vmread_bitmap,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
          vfx_set(x, VMCS_VMREAD_BITMAP, VFX_VMREAD_BM + 1))
CTRL_FAIL(vmwrite_bitmap_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_vmwrite_bitmap,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
          vfx_set(x, VMCS_VMWRITE_BITMAP, BIT64(48)))
CTRL_FAIL(ve_info_address_unaligned_fails_with_error_7, vmx_check_ctrl_ve_info_address,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_VIOLATION_VE);
          vfx_set(x, VMCS_VE_INFO_ADDRESS, VFX_VE_INFO + 0x100))

/* ---- 27.2.1.2 VM-exit controls ---- */

CTRL_FAIL(save_preemption_timer_without_activate_fails_with_error_7,
          vmx_check_ctrl_save_timer_needs_timer,
          vfx_or(x, VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER))
PASS_TEST(vmx_entry_ctrl, save_preemption_timer_with_activate_enters,
          vfx_or(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
          vfx_or(x, VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER))
CTRL_FAIL(exit_msr_store_unaligned_fails_with_error_7, vmx_check_ctrl_exit_msr_store,
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_ADDR, VFX_MSR_AREA + 8))
CTRL_FAIL(exit_msr_store_last_byte_beyond_maxphyaddr_fails_with_error_7,
          vmx_check_ctrl_exit_msr_store, vfx_set(x, VMCS_VM_EXIT_MSR_STORE_COUNT, 2);
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_ADDR, BIT64(46) - 16))
PASS_TEST(vmx_entry_ctrl, exit_msr_store_area_ending_at_maxphyaddr_enters,
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_ADDR, BIT64(46) - 16))
PASS_TEST(vmx_entry_ctrl, exit_msr_store_address_unchecked_with_count_0,
          vfx_set(x, VMCS_VM_EXIT_MSR_STORE_ADDR, 7))
CTRL_FAIL(exit_msr_load_unaligned_fails_with_error_7, vmx_check_ctrl_exit_msr_load,
          vfx_set(x, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
          vfx_set(x, VMCS_VM_EXIT_MSR_LOAD_ADDR, VFX_MSR_AREA + 4))
CTRL_FAIL(exit_msr_load_beyond_maxphyaddr_fails_with_error_7, vmx_check_ctrl_exit_msr_load,
          vfx_set(x, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
          vfx_set(x, VMCS_VM_EXIT_MSR_LOAD_ADDR, BIT64(47)))

/* ---- 27.2.1.3 VM-entry controls: event injection ---- */

#define INJECT(type, vec, extra)                                              \
	vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD,                             \
	        INTR_INFO_VALID | ((uint32_t)(type) << 8) | (vec) | (extra)); \
	vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);                              \
	vfx_set(x, VMCS_VM_ENTRY_INSTRUCTION_LEN, 2)

PASS_TEST(vmx_entry_ctrl, inject_external_interrupt_enters, INJECT(INTR_TYPE_EXT_INTR, 0x30, 0))
CTRL_FAIL(inject_type_1_reserved_fails_with_error_7, vmx_check_ctrl_intr_type,
          INJECT(INTR_TYPE_RESERVED, 0x30, 0))
PASS_TEST(vmx_entry_ctrl, inject_pending_mtf_enters_with_mtf_support,
          INJECT(INTR_TYPE_OTHER_EVENT, 0, 0))
CTRL_FAIL(inject_other_event_without_mtf_support_fails_with_error_7, vmx_check_ctrl_intr_type,
          x->cpu->caps.msr[MSR_IA32_VMX_TRUE_PROCBASED_CTLS - 0x480] &=
          ~((uint64_t)PROC_MONITOR_TRAP_FLAG << 32);
          INJECT(INTR_TYPE_OTHER_EVENT, 0, 0))
CTRL_FAIL(inject_nmi_vector_not_2_fails_with_error_7, vmx_check_ctrl_intr_nmi_vector,
          INJECT(INTR_TYPE_NMI, 3, 0))
PASS_TEST(vmx_entry_ctrl, inject_nmi_vector_2_enters, INJECT(INTR_TYPE_NMI, 2, 0))
CTRL_FAIL(inject_hardware_exception_vector_32_fails_with_error_7,
          vmx_check_ctrl_intr_exception_vector, INJECT(INTR_TYPE_HW_EXCEPTION, 32, 0))
PASS_TEST(vmx_entry_ctrl, inject_hardware_exception_vector_31_enters,
          INJECT(INTR_TYPE_HW_EXCEPTION, 31, 0))
CTRL_FAIL(inject_other_event_vector_not_0_fails_with_error_7, vmx_check_ctrl_intr_other_vector,
          INJECT(INTR_TYPE_OTHER_EVENT, 1, 0))
PASS_TEST(vmx_entry_ctrl, inject_gp_with_error_code_enters,
          INJECT(INTR_TYPE_HW_EXCEPTION, 13, INTR_INFO_DELIVER_CODE))
CTRL_FAIL(inject_external_interrupt_with_error_code_fails_with_error_7,
          vmx_check_ctrl_intr_deliver_error_code,
          INJECT(INTR_TYPE_EXT_INTR, 0x30, INTR_INFO_DELIVER_CODE))
CTRL_FAIL(inject_soft_interrupt_with_error_code_fails_with_error_7,
          vmx_check_ctrl_intr_deliver_error_code,
          INJECT(INTR_TYPE_SOFT_INTR, 0x80, INTR_INFO_DELIVER_CODE))
CTRL_FAIL(inject_real_mode_gp_with_error_code_fails_with_error_7,
          vmx_check_ctrl_intr_deliver_error_code,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
          vfx_clear(x, VMCS_GUEST_CR0, CR0_PE | CR0_PG);
          INJECT(INTR_TYPE_HW_EXCEPTION, 13, INTR_INFO_DELIVER_CODE))
PASS_TEST(vmx_entry_ctrl, basic_bit_56_allows_ud_with_error_code,
          x->cpu->caps.msr[0] |= VMX_BASIC_NO_ERRCODE_CC;
          INJECT(INTR_TYPE_HW_EXCEPTION, 6, INTR_INFO_DELIVER_CODE))
CTRL_FAIL(inject_reserved_bits_30_12_fail_with_error_7, vmx_check_ctrl_intr_info_reserved,
          INJECT(INTR_TYPE_EXT_INTR, 0x30, BIT32(12)))
CTRL_FAIL(inject_error_code_bits_31_16_fail_with_error_7, vmx_check_ctrl_intr_error_code_reserved,
          INJECT(INTR_TYPE_HW_EXCEPTION, 14, INTR_INFO_DELIVER_CODE);
          vfx_set(x, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000))
CTRL_FAIL(inject_software_interrupt_length_16_fails_with_error_7,
          vmx_check_ctrl_intr_instruction_length, INJECT(INTR_TYPE_SOFT_INTR, 0x80, 0);
          vfx_set(x, VMCS_VM_ENTRY_INSTRUCTION_LEN, 16))
PASS_TEST(vmx_entry_ctrl, inject_software_interrupt_length_0_enters_with_misc_bit_30,
          INJECT(INTR_TYPE_SOFT_INTR, 0x80, 0);
          vfx_set(x, VMCS_VM_ENTRY_INSTRUCTION_LEN, 0))
CTRL_FAIL(inject_software_exception_length_0_without_misc_bit_30_fails_with_error_7,
          vmx_check_ctrl_intr_instruction_length,
          x->cpu->caps.msr[MSR_IA32_VMX_MISC - 0x480] &= ~VMX_MISC_ZERO_LEN_INJECT;
          INJECT(INTR_TYPE_SOFT_EXC, 3, 0); vfx_set(x, VMCS_VM_ENTRY_INSTRUCTION_LEN, 0))
CTRL_FAIL(inject_privileged_software_exception_length_16_fails_with_error_7,
          vmx_check_ctrl_intr_instruction_length, INJECT(INTR_TYPE_PRIV_SW_EXC, 1, 0);
          vfx_set(x, VMCS_VM_ENTRY_INSTRUCTION_LEN, 16))
PASS_TEST(vmx_entry_ctrl, invalid_injection_ignored_when_valid_bit_clear,
          vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x7ffff1ff))

/* Every vector: the deliver-error-code bit must match the exception's error code. */
Test(vmx_entry_ctrl, hardware_exception_error_code_rule_for_every_vector)
{
	for (unsigned vec = 0; vec < 32; vec++) {
		bool has = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;

		for (int with = 0; with < 2; with++) {
			struct vfx x_, *x = &x_;
			struct vmx_result r;

			vfx_init(x, VFX_PROFILE);
			INJECT(INTR_TYPE_HW_EXCEPTION, vec, with ? INTR_INFO_DELIVER_CODE : 0);
			vfx_entry(x, &r);
			if (with == (int)has)
				cr_assert_eq(
				    r.outcome, VMX_ENTERED,
				    "vector %u deliver-error-code %d: wanted entry, got %s "
				    "from %s",
				    vec, with, vmx_outcome_name(r.outcome),
				    r.check ? r.check : "-");
			else
				cr_assert(r.outcome == VMX_FAIL_VALID && r.error == 7,
				          "vector %u deliver-error-code %d: wanted VMfailValid(7), "
				          "got %s from %s",
				          vec, with, vmx_outcome_name(r.outcome),
				          r.check ? r.check : "-");
			vfx_fini(x);
		}
	}
}

/* ---- MSR-load address, SMM ---- */

CTRL_FAIL(entry_msr_load_unaligned_fails_with_error_7, vmx_check_ctrl_entry_msr_load,
          vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
          vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_ADDR, VFX_MSR_AREA + 1))
CTRL_FAIL(entry_msr_load_last_byte_beyond_maxphyaddr_fails_with_error_7,
          vmx_check_ctrl_entry_msr_load, vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 3);
          vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_ADDR, BIT64(46) - 32))
CTRL_FAIL(entry_to_smm_outside_smm_fails_with_error_7, vmx_check_ctrl_entry_to_smm,
          x->cpu->caps.msr[MSR_IA32_VMX_TRUE_ENTRY_CTLS - 0x480] |= (uint64_t)ENTRY_TO_SMM << 32;
          vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_TO_SMM))
CTRL_FAIL(deactivate_dual_monitor_outside_smm_fails_with_error_7,
          vmx_check_ctrl_deactivate_dual_monitor,
          x->cpu->caps.msr[MSR_IA32_VMX_TRUE_ENTRY_CTLS - 0x480] |=
          (uint64_t)ENTRY_DEACT_DUAL_MONITOR << 32;
          vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_DEACT_DUAL_MONITOR))

/* SDM 27.2: control checks come before host-state checks. */
CTRL_FAIL(control_failure_reported_before_host_failure, vmx_check_ctrl_vpid_nonzero,
          vfx_set(x, VMCS_VIRTUAL_PROCESSOR_ID, 0);
          vfx_set(x, VMCS_HOST_CS_SELECTOR, 0))
