/* Verifies the VM-entry checks on the guest-state area (SDM 27.3.1.1-27.3.1.6): each test breaks
 * one guest field of the known-good Ice Lake-SP VMCS and expects a VM-entry failure exit 33 (bit
 * 31 set) with the SDM's exit qualification (0; 2 for PDPTEs; 3 for NMI under STI blocking; 4 for
 * the VMCS link pointer) from the named check. Pass-side tests cover the mode relaxations
 * (unrestricted guest, virtual-8086, HLT only with IA32_VMX_MISC bit 6). */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"

#define GUEST_FAIL_Q(name, check, qual, ...) \
	EXIT_TEST(vmx_entry_guest, name, check, EXIT_REASON_INVALID_GUEST_STATE, qual, __VA_ARGS__)

/* ---- 27.3.1.1 control registers, debug registers, MSRs ---- */

GUEST_FAIL(cr0_fixed0_pg_clear_fails_with_exit_33, vmx_check_guest_cr0_fixed0,
           vfx_clear(x, VMCS_GUEST_CR0, CR0_PG))
GUEST_FAIL(cr0_fixed1_bit_32_fails_with_exit_33, vmx_check_guest_cr0_fixed1,
           vfx_or(x, VMCS_GUEST_CR0, BIT64(40)))

/* Unrestricted guest, real mode: PE and PG clear, flat 16-bit segments. */
static void real_mode(struct vfx *x)
{
	vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
	vfx_clear(x, VMCS_GUEST_CR0, CR0_PE | CR0_PG);
	vfx_clear(x, VMCS_GUEST_CR4, CR4_PCIDE);
	vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vfx_clear(x, VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
	vfx_set(x, VMCS_GUEST_CS_SELECTOR, 0);
	vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0x93);
	vfx_set(x, VMCS_GUEST_CS_LIMIT, 0xffff);
	vfx_set(x, VMCS_GUEST_SS_SELECTOR, 0);
	vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0x93);
	vfx_set(x, VMCS_GUEST_SS_LIMIT, 0xffff);
	vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vfx_set(x, VMCS_GUEST_RIP, 0x7c00);
}

PASS_TEST(vmx_entry_guest, unrestricted_guest_real_mode_enters, real_mode(x))
GUEST_FAIL(real_mode_without_unrestricted_guest_fails_cr0_fixed0, vmx_check_guest_cr0_fixed0,
           real_mode(x);
           vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST))
GUEST_FAIL(unrestricted_pg_without_pe_fails_with_exit_33, vmx_check_guest_cr0_pg_needs_pe,
           real_mode(x);
           vfx_or(x, VMCS_GUEST_CR0, CR0_PG))
GUEST_FAIL(cr4_fixed0_vmxe_clear_fails_with_exit_33, vmx_check_guest_cr4_fixed0,
           vfx_clear(x, VMCS_GUEST_CR4, CR4_VMXE))
GUEST_FAIL(cr4_fixed1_violation_fails_with_exit_33, vmx_check_guest_cr4_fixed1,
           vfx_or(x, VMCS_GUEST_CR4, BIT64(24)))

Test(vmx_entry_guest, cr4_cet_without_cr0_wp_fails_with_exit_33)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_GUEST_CR4, CR4_CET);
	vfx_clear(&x, VMCS_GUEST_CR0, CR0_WP);
	vfx_expect_exit(&x, "vmx_check_guest_cet_needs_wp", EXIT_REASON_INVALID_GUEST_STATE, 0);
	vfx_fini(&x);
}

GUEST_FAIL(debugctl_reserved_bit_fails_with_exit_33, vmx_check_guest_debugctl,
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS);
           vfx_set(x, VMCS_GUEST_IA32_DEBUGCTL, BIT64(3)))
PASS_TEST(vmx_entry_guest, debugctl_reserved_bits_unchecked_without_load_debug_controls,
          vfx_set(x, VMCS_GUEST_IA32_DEBUGCTL, BIT64(3)))
GUEST_FAIL(ia32e_guest_without_pg_fails_with_exit_33, vmx_check_guest_ia32e_needs_pg,
           vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
           vfx_clear(x, VMCS_GUEST_CR0, CR0_PG))
GUEST_FAIL(ia32e_guest_without_pae_fails_with_exit_33, vmx_check_guest_ia32e_needs_pae,
           vfx_clear(x, VMCS_GUEST_CR4, CR4_PAE))
GUEST_FAIL(pcide_without_ia32e_guest_fails_with_exit_33, vmx_check_guest_pcide_needs_ia32e,
           real_mode(x);
           vfx_or(x, VMCS_GUEST_CR4, CR4_PCIDE))
GUEST_FAIL(cr3_beyond_maxphyaddr_fails_with_exit_33, vmx_check_guest_cr3_width,
           vfx_or(x, VMCS_GUEST_CR3, BIT64(46)))
GUEST_FAIL(dr7_high_bits_fail_with_exit_33, vmx_check_guest_dr7_high,
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS);
           vfx_set(x, VMCS_GUEST_DR7, BIT64(32) | 0x400))
PASS_TEST(vmx_entry_guest, dr7_high_bits_unchecked_without_load_debug_controls,
          vfx_set(x, VMCS_GUEST_DR7, BIT64(32) | 0x400))
GUEST_FAIL(sysenter_esp_noncanonical_fails_with_exit_33, vmx_check_guest_sysenter_esp,
           vfx_set(x, VMCS_GUEST_SYSENTER_ESP, BIT64(62)))
GUEST_FAIL(sysenter_eip_noncanonical_fails_with_exit_33, vmx_check_guest_sysenter_eip,
           vfx_set(x, VMCS_GUEST_SYSENTER_EIP, BIT64(61)))

Test(vmx_entry_guest, cet_state_noncanonical_s_cet_fails_with_exit_33)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE);
	vfx_set(&x, VMCS_GUEST_S_CET, BIT64(60));
	vfx_expect_exit(&x, "vmx_check_guest_cet_state", EXIT_REASON_INVALID_GUEST_STATE, 0);
	vfx_fini(&x);
}

GUEST_FAIL(perf_global_ctrl_reserved_bit_fails_with_exit_33, vmx_check_guest_perf_global_ctrl,
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL_CTRL);
           vfx_set(x, VMCS_GUEST_IA32_PERF_GLOBAL_CTRL, BIT64(31)))
GUEST_FAIL(pat_type_3_fails_with_exit_33, vmx_check_guest_pat,
           vfx_set(x, VMCS_GUEST_IA32_PAT, UINT64_C(0x0007040600070403)))
GUEST_FAIL(efer_reserved_bit_fails_with_exit_33, vmx_check_guest_efer_reserved,
           vfx_or(x, VMCS_GUEST_IA32_EFER, BIT64(9)))
GUEST_FAIL(efer_lma_without_ia32e_guest_fails_with_exit_33, vmx_check_guest_efer_lma,
           vfx_clear(x, VMCS_GUEST_IA32_EFER, EFER_LMA))
GUEST_FAIL(efer_lme_differs_from_lma_with_paging_fails_with_exit_33, vmx_check_guest_efer_lme,
           vfx_clear(x, VMCS_GUEST_IA32_EFER, EFER_LME))
PASS_TEST(vmx_entry_guest, efer_unchecked_without_load_efer,
          vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER);
          vfx_set(x, VMCS_GUEST_IA32_EFER, 0))
GUEST_FAIL(bndcfgs_reserved_bits_fail_with_exit_33, vmx_check_guest_bndcfgs_reserved,
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS);
           vfx_set(x, VMCS_GUEST_BNDCFGS, 0x4))
GUEST_FAIL(bndcfgs_noncanonical_fails_with_exit_33, vmx_check_guest_bndcfgs_canonical,
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS);
           vfx_set(x, VMCS_GUEST_BNDCFGS, BIT64(60) | 1))

Test(vmx_entry_guest, pkrs_high_bits_fail_with_exit_33)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_PKRS);
	vfx_set(&x, VMCS_GUEST_IA32_PKRS, BIT64(40));
	vfx_expect_exit(&x, "vmx_check_guest_pkrs", EXIT_REASON_INVALID_GUEST_STATE, 0);
	vfx_fini(&x);
}

/* ---- 27.3.1.2 segment registers ---- */

GUEST_FAIL(tr_selector_ti_fails_with_exit_33, vmx_check_guest_tr_ti,
           vfx_set(x, VMCS_GUEST_TR_SELECTOR, 0x1c))
GUEST_FAIL(ldtr_selector_ti_fails_with_exit_33, vmx_check_guest_ldtr_ti,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x82);
           vfx_set(x, VMCS_GUEST_LDTR_SELECTOR, 0x24))
PASS_TEST(vmx_entry_guest, usable_ldtr_enters, vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x82);
          vfx_set(x, VMCS_GUEST_LDTR_SELECTOR, 0x20); vfx_set(x, VMCS_GUEST_LDTR_LIMIT, 0xfff))
GUEST_FAIL(ss_rpl_differs_from_cs_rpl_fails_with_exit_33, vmx_check_guest_ss_rpl,
           vfx_set(x, VMCS_GUEST_SS_SELECTOR, 0x13))
GUEST_FAIL(tr_base_noncanonical_fails_with_exit_33, vmx_check_guest_base_canonical,
           vfx_set(x, VMCS_GUEST_TR_BASE, BIT64(63)))
GUEST_FAIL(fs_base_noncanonical_fails_with_exit_33, vmx_check_guest_base_canonical,
           vfx_set(x, VMCS_GUEST_FS_BASE, BIT64(58)))
GUEST_FAIL(cs_base_high_bits_fail_with_exit_33, vmx_check_guest_cs_base_high,
           vfx_set(x, VMCS_GUEST_CS_BASE, BIT64(32)))
GUEST_FAIL(ds_base_high_bits_fail_with_exit_33, vmx_check_guest_data_base_high,
           vfx_set(x, VMCS_GUEST_DS_BASE, BIT64(33)))
PASS_TEST(vmx_entry_guest, unusable_ds_base_high_bits_enter,
          vfx_set(x, VMCS_GUEST_DS_AR_BYTES, AR_UNUSABLE);
          vfx_set(x, VMCS_GUEST_DS_BASE, BIT64(33)))

/* Virtual-8086 guest: 32-bit protected mode with RFLAGS.VM and the fixed v86 segments. */
static void v86_mode(struct vfx *x)
{
	static const uint32_t sel[] = {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR,
	                               VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_DS_SELECTOR,
	                               VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR};

	vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vfx_clear(x, VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
	vfx_clear(x, VMCS_GUEST_CR0, CR0_PG);
	vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
	vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_VM);
	for (int i = 0; i < 6; i++) {
		vfx_set(x, sel[i], 0x1000);
		vfx_set(x, sel[i] + 0x6006, 0x10000); /* base: selector << 4 */
		vfx_set(x, sel[i] + 0x4000, 0xffff);  /* limit */
		vfx_set(x, sel[i] + 0x4014, 0xf3);    /* access rights */
	}
	vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x8b);
}

PASS_TEST(vmx_entry_guest, virtual_8086_guest_enters, v86_mode(x))
GUEST_FAIL(v86_base_not_selector_times_16_fails_with_exit_33, vmx_check_guest_v86_base, v86_mode(x);
           vfx_set(x, VMCS_GUEST_SS_BASE, 0x10010))
GUEST_FAIL(v86_limit_not_ffff_fails_with_exit_33, vmx_check_guest_v86_limit, v86_mode(x);
           vfx_set(x, VMCS_GUEST_GS_LIMIT, 0xfffff))
GUEST_FAIL(v86_access_rights_not_f3_fails_with_exit_33, vmx_check_guest_v86_ar, v86_mode(x);
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xfb))
GUEST_FAIL(rflags_vm_with_ia32e_guest_fails_with_exit_33, vmx_check_guest_rflags_vm, v86_mode(x);
           vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
           vfx_or(x, VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME); vfx_or(x, VMCS_GUEST_CR0, CR0_PG))

GUEST_FAIL(cs_type_data_without_unrestricted_fails_with_exit_33, vmx_check_guest_cs_type,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa093))
GUEST_FAIL(cs_type_non_accessed_code_fails_with_exit_33, vmx_check_guest_cs_type,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa09a))
GUEST_FAIL(ss_type_code_fails_with_exit_33, vmx_check_guest_ss_type,
           vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0xc09b))
PASS_TEST(vmx_entry_guest, ss_unusable_enters_in_64_bit_mode,
          vfx_set(x, VMCS_GUEST_SS_AR_BYTES, AR_UNUSABLE))
GUEST_FAIL(ds_type_not_accessed_fails_with_exit_33, vmx_check_guest_data_type_accessed,
           vfx_set(x, VMCS_GUEST_DS_AR_BYTES, 0xc092))
GUEST_FAIL(es_execute_only_code_fails_with_exit_33, vmx_check_guest_data_type_readable,
           vfx_set(x, VMCS_GUEST_ES_AR_BYTES, 0xc099))
GUEST_FAIL(fs_system_segment_fails_with_exit_33, vmx_check_guest_seg_s,
           vfx_set(x, VMCS_GUEST_FS_AR_BYTES, 0xc083))
GUEST_FAIL(cs_type_3_dpl_nonzero_fails_with_exit_33, vmx_check_guest_cs_dpl_data, real_mode(x);
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xb3))
GUEST_FAIL(cs_nonconforming_dpl_differs_from_ss_fails_with_exit_33,
           vmx_check_guest_cs_dpl_nonconforming, vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa0bb))
GUEST_FAIL(cs_conforming_dpl_above_ss_fails_with_exit_33, vmx_check_guest_cs_dpl_conforming,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa0bf))
PASS_TEST(vmx_entry_guest, cs_conforming_dpl_below_ss_enters,
          vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa09f))
GUEST_FAIL(ss_dpl_differs_from_rpl_fails_with_exit_33, vmx_check_guest_ss_dpl_rpl,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa09f);
           vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0xc0b3))
GUEST_FAIL(ss_dpl_nonzero_in_real_mode_fails_with_exit_33, vmx_check_guest_ss_dpl_real,
           real_mode(x);
           vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0xf3))
GUEST_FAIL(ds_dpl_below_rpl_fails_with_exit_33, vmx_check_guest_data_dpl,
           vfx_set(x, VMCS_GUEST_DS_SELECTOR, 0x13))
PASS_TEST(vmx_entry_guest, ds_dpl_below_rpl_enters_with_unrestricted_guest,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
          vfx_set(x, VMCS_GUEST_DS_SELECTOR, 0x13))
GUEST_FAIL(gs_not_present_fails_with_exit_33, vmx_check_guest_seg_present,
           vfx_set(x, VMCS_GUEST_GS_AR_BYTES, 0xc013))
GUEST_FAIL(cs_reserved_bits_11_8_fail_with_exit_33, vmx_check_guest_seg_ar_reserved,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa19b))
GUEST_FAIL(ss_reserved_bits_31_17_fail_with_exit_33, vmx_check_guest_seg_ar_reserved,
           vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0x2c093))
GUEST_FAIL(cs_long_with_db_fails_with_exit_33, vmx_check_guest_cs_db_long,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xe09b))
GUEST_FAIL(ds_limit_fff_with_g_fails_with_exit_33, vmx_check_guest_seg_granularity,
           vfx_set(x, VMCS_GUEST_DS_LIMIT, 0xffffe))
GUEST_FAIL(es_limit_above_1m_without_g_fails_with_exit_33, vmx_check_guest_seg_granularity,
           vfx_set(x, VMCS_GUEST_ES_AR_BYTES, 0x4093))
GUEST_FAIL(tr_type_16_bit_in_ia32e_fails_with_exit_33, vmx_check_guest_tr_type,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x83))
PASS_TEST(vmx_entry_guest, tr_type_16_bit_busy_enters_outside_ia32e, real_mode(x);
          vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x83))
GUEST_FAIL(tr_s_set_fails_with_exit_33, vmx_check_guest_tr_s,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x9b))
GUEST_FAIL(tr_not_present_fails_with_exit_33, vmx_check_guest_tr_present,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x0b))
GUEST_FAIL(tr_reserved_bits_fail_with_exit_33, vmx_check_guest_tr_reserved,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x18b))
GUEST_FAIL(tr_granularity_fails_with_exit_33, vmx_check_guest_tr_granularity,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x808b))
GUEST_FAIL(tr_unusable_fails_with_exit_33, vmx_check_guest_tr_usable,
           vfx_set(x, VMCS_GUEST_TR_AR_BYTES, 0x1008b))
GUEST_FAIL(ldtr_type_not_ldt_fails_with_exit_33, vmx_check_guest_ldtr_type,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x83))
GUEST_FAIL(ldtr_s_set_fails_with_exit_33, vmx_check_guest_ldtr_s,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x92))
GUEST_FAIL(ldtr_not_present_fails_with_exit_33, vmx_check_guest_ldtr_present,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x02))
GUEST_FAIL(ldtr_reserved_bits_fail_with_exit_33, vmx_check_guest_ldtr_reserved,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x40082))
GUEST_FAIL(ldtr_granularity_fails_with_exit_33, vmx_check_guest_ldtr_granularity,
           vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, 0x82);
           vfx_set(x, VMCS_GUEST_LDTR_LIMIT, 0x100000))

/* ---- 27.3.1.3 descriptor tables ---- */

GUEST_FAIL(gdtr_base_noncanonical_fails_with_exit_33, vmx_check_guest_gdtr_base,
           vfx_set(x, VMCS_GUEST_GDTR_BASE, BIT64(57)))
GUEST_FAIL(idtr_base_noncanonical_fails_with_exit_33, vmx_check_guest_idtr_base,
           vfx_set(x, VMCS_GUEST_IDTR_BASE, BIT64(63)))
GUEST_FAIL(gdtr_limit_above_ffff_fails_with_exit_33, vmx_check_guest_gdtr_limit,
           vfx_set(x, VMCS_GUEST_GDTR_LIMIT, 0x10000))
GUEST_FAIL(idtr_limit_above_ffff_fails_with_exit_33, vmx_check_guest_idtr_limit,
           vfx_set(x, VMCS_GUEST_IDTR_LIMIT, 0x1ffff))

/* ---- 27.3.1.4 RIP, RFLAGS, SSP ---- */

GUEST_FAIL(rip_high_bits_outside_64_bit_code_fail_with_exit_33, vmx_check_guest_rip_high,
           vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
           vfx_set(x, VMCS_GUEST_RIP, BIT64(32)))
GUEST_FAIL(rip_noncanonical_fails_with_exit_33, vmx_check_guest_rip_canonical,
           vfx_set(x, VMCS_GUEST_RIP, BIT64(60)))
PASS_TEST(vmx_entry_guest, rip_kernel_half_canonical_enters,
          vfx_set(x, VMCS_GUEST_RIP, UINT64_C(0xffffffff81000000)))
GUEST_FAIL(rflags_reserved_bit_22_fails_with_exit_33, vmx_check_guest_rflags_reserved,
           vfx_or(x, VMCS_GUEST_RFLAGS, BIT64(22)))
GUEST_FAIL(rflags_reserved_bit_15_fails_with_exit_33, vmx_check_guest_rflags_reserved,
           vfx_or(x, VMCS_GUEST_RFLAGS, BIT64(15)))
GUEST_FAIL(rflags_reserved_bit_5_fails_with_exit_33, vmx_check_guest_rflags_reserved,
           vfx_or(x, VMCS_GUEST_RFLAGS, BIT64(5)))
GUEST_FAIL(rflags_reserved_bit_3_fails_with_exit_33, vmx_check_guest_rflags_reserved,
           vfx_or(x, VMCS_GUEST_RFLAGS, BIT64(3)))
GUEST_FAIL(rflags_bit_1_clear_fails_with_exit_33, vmx_check_guest_rflags_bit1,
           vfx_set(x, VMCS_GUEST_RFLAGS, 0))
GUEST_FAIL(rflags_vm_with_pe_clear_fails_with_exit_33, vmx_check_guest_rflags_vm, v86_mode(x);
           vfx_clear(x, VMCS_GUEST_CR0, CR0_PE))
GUEST_FAIL(external_interrupt_injection_with_if_clear_fails_with_exit_33, vmx_check_guest_rflags_if,
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x30))

Test(vmx_entry_guest, ssp_noncanonical_fails_with_exit_33)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE);
	vfx_set(&x, VMCS_GUEST_SSP, BIT64(59));
	vfx_expect_exit(&x, "vmx_check_guest_ssp_canonical", EXIT_REASON_INVALID_GUEST_STATE, 0);
	vfx_fini(&x);
}

Test(vmx_entry_guest, ssp_high_bits_outside_64_bit_code_fail_with_exit_33)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE);
	vfx_set(&x, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vfx_set(&x, VMCS_GUEST_SSP, BIT64(32));
	vfx_expect_exit(&x, "vmx_check_guest_ssp_high", EXIT_REASON_INVALID_GUEST_STATE, 0);
	vfx_fini(&x);
}

/* ---- 27.3.1.5 activity state ---- */

PASS_TEST(vmx_entry_guest, hlt_activity_enters_with_misc_bit_6,
          vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT))
GUEST_FAIL(hlt_activity_without_misc_bit_6_fails_with_exit_33, vmx_check_guest_activity_supported,
           x->cpu->caps.msr[MSR_IA32_VMX_MISC - 0x480] &= ~VMX_MISC_ACTIVITY_HLT;
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT))
GUEST_FAIL(shutdown_activity_without_misc_bit_7_fails_with_exit_33,
           vmx_check_guest_activity_supported,
           x->cpu->caps.msr[MSR_IA32_VMX_MISC - 0x480] &= ~VMX_MISC_ACTIVITY_SHUTDOWN;
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN))
GUEST_FAIL(wait_for_sipi_without_misc_bit_8_fails_with_exit_33, vmx_check_guest_activity_supported,
           x->cpu->caps.msr[MSR_IA32_VMX_MISC - 0x480] &= ~VMX_MISC_ACTIVITY_SIPI;
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI))
GUEST_FAIL(activity_state_4_fails_with_exit_33, vmx_check_guest_activity_supported,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, 4))
GUEST_FAIL(hlt_with_ss_dpl_3_fails_with_exit_33, vmx_check_guest_activity_hlt_dpl,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
           vfx_set(x, VMCS_GUEST_CS_SELECTOR, 0x0b); vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xa0fb);
           vfx_set(x, VMCS_GUEST_SS_SELECTOR, 0x13); vfx_set(x, VMCS_GUEST_SS_AR_BYTES, 0xc0f3))
GUEST_FAIL(hlt_with_sti_blocking_fails_with_exit_33, vmx_check_guest_activity_blocking,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
           vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI))
PASS_TEST(vmx_entry_guest, hlt_with_injected_external_interrupt_enters,
          vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
          vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
          vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x30))
GUEST_FAIL(hlt_with_injected_gp_fails_with_exit_33, vmx_check_guest_activity_event,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD,
                   INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_DELIVER_CODE | 13))
PASS_TEST(vmx_entry_guest, hlt_with_injected_db_enters,
          vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
          vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD,
                  INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 1))
GUEST_FAIL(shutdown_with_injected_external_interrupt_fails_with_exit_33,
           vmx_check_guest_activity_event, vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN);
           vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x30))
PASS_TEST(vmx_entry_guest, shutdown_with_injected_nmi_enters,
          vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN);
          vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))
GUEST_FAIL(wait_for_sipi_with_injected_nmi_fails_with_exit_33, vmx_check_guest_activity_event,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))

/* ---- 27.3.1.5 interruptibility state ---- */

GUEST_FAIL(interruptibility_reserved_bit_fails_with_exit_33, vmx_check_guest_intr_reserved,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, BIT32(5)))
GUEST_FAIL(sti_and_mov_ss_blocking_together_fail_with_exit_33, vmx_check_guest_intr_sti_and_mov_ss,
           vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO,
                   INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
GUEST_FAIL(sti_blocking_with_if_clear_fails_with_exit_33, vmx_check_guest_intr_sti_needs_if,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI))
PASS_TEST(vmx_entry_guest, sti_blocking_with_if_set_enters, vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
          vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI))
GUEST_FAIL(external_interrupt_injection_under_mov_ss_fails_with_exit_33,
           vmx_check_guest_intr_ext_intr_blocked, vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x30))
GUEST_FAIL(nmi_injection_under_mov_ss_fails_with_exit_33, vmx_check_guest_intr_nmi_mov_ss,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))
GUEST_FAIL(smi_blocking_outside_smm_fails_with_exit_33, vmx_check_guest_intr_smi_outside_smm,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI))
GUEST_FAIL_Q(nmi_injection_under_sti_blocking_fails_with_exit_33_qualification_3,
             vmx_check_guest_intr_nmi_sti, VMX_ENTRY_FAIL_NMI_STI,
             vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_IF);
             vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
             vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))
GUEST_FAIL(nmi_injection_with_virtual_nmi_blocking_fails_with_exit_33,
           vmx_check_guest_intr_virtual_nmi_blocking,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
           vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))
PASS_TEST(vmx_entry_guest, nmi_injection_with_nmi_blocking_enters_without_virtual_nmis,
          vfx_clear(x, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS);
          vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
          vfx_set(x, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2))
GUEST_FAIL(enclave_interruption_with_mov_ss_fails_with_exit_33, vmx_check_guest_intr_enclave_mov_ss,
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO,
                   INTERRUPTIBILITY_ENCLAVE | INTERRUPTIBILITY_MOV_SS))

/* ---- 27.3.1.5 pending debug exceptions ---- */

GUEST_FAIL(pending_debug_reserved_bit_4_fails_with_exit_33, vmx_check_guest_pending_dbg_reserved,
           vfx_set(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, BIT64(4)))
GUEST_FAIL(pending_debug_reserved_bit_17_fails_with_exit_33, vmx_check_guest_pending_dbg_reserved,
           vfx_set(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, BIT64(17)))
GUEST_FAIL(bs_clear_with_tf_and_mov_ss_blocking_fails_with_exit_33,
           vmx_check_guest_pending_dbg_bs_set, vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_TF);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS))
PASS_TEST(vmx_entry_guest, bs_set_with_tf_and_mov_ss_blocking_enters,
          vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_TF);
          vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
          vfx_set(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS))
GUEST_FAIL(bs_set_without_tf_in_hlt_fails_with_exit_33, vmx_check_guest_pending_dbg_bs_clear,
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
           vfx_set(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS))
GUEST_FAIL(bs_set_with_btf_under_mov_ss_fails_with_exit_33, vmx_check_guest_pending_dbg_bs_clear,
           vfx_or(x, VMCS_GUEST_RFLAGS, RFLAGS_TF);
           vfx_set(x, VMCS_GUEST_IA32_DEBUGCTL, DEBUGCTL_BTF);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
           vfx_set(x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS))

/* ---- 27.3.1.5 VMCS link pointer (qualification 4) ---- */

#define LINK_FAIL(name, check, ...) GUEST_FAIL_Q(name, check, VMX_ENTRY_FAIL_LINK_PTR, __VA_ARGS__)

LINK_FAIL(link_pointer_unaligned_fails_with_exit_33_qualification_4, vmx_check_guest_link_ptr_align,
          vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS2 + 8))
LINK_FAIL(link_pointer_beyond_maxphyaddr_fails_with_exit_33_qualification_4,
          vmx_check_guest_link_ptr_width, vfx_set(x, VMCS_VMCS_LINK_POINTER, BIT64(50)))
LINK_FAIL(link_pointer_wrong_revision_fails_with_exit_33_qualification_4,
          vmx_check_guest_link_ptr_revision, vfx_write32(x, VFX_VMCS2, 0x1234);
          vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS2))
LINK_FAIL(link_pointer_to_shadow_vmcs_without_shadowing_fails_with_exit_33_qualification_4,
          vmx_check_guest_link_ptr_shadow, vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_SHADOW_VMCS))
LINK_FAIL(shadowing_with_ordinary_link_vmcs_fails_with_exit_33_qualification_4,
          vmx_check_guest_link_ptr_shadow,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
          vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS2))
PASS_TEST(vmx_entry_guest, shadowing_with_shadow_link_vmcs_enters,
          vfx_or(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
          vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_SHADOW_VMCS))
PASS_TEST(vmx_entry_guest, link_pointer_to_ordinary_vmcs_enters_without_shadowing,
          vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS2))

/* ---- 27.3.1.6 PDPTEs (qualification 2) ---- */

/* 32-bit PAE paging guest. */
static void pae_mode(struct vfx *x)
{
	vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vfx_clear(x, VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME);
	vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vfx_set(x, VMCS_GUEST_CR3, VFX_PDPT);
	vfx_set(x, VMCS_GUEST_PDPTR0, 0x20001);
}

PASS_TEST(vmx_entry_guest, pae_guest_with_valid_pdptes_enters, pae_mode(x))
GUEST_FAIL_Q(pdpte_reserved_bit_from_vmcs_with_ept_fails_with_exit_33_qualification_2,
             vmx_check_guest_pdptes, VMX_ENTRY_FAIL_PDPTE, pae_mode(x);
             vfx_set(x, VMCS_GUEST_PDPTR2, 0x20001 | BIT64(5)))
PASS_TEST(vmx_entry_guest, not_present_pdpte_reserved_bits_ignored, pae_mode(x);
          vfx_set(x, VMCS_GUEST_PDPTR1, BIT64(5)))
GUEST_FAIL_Q(pdpte_in_memory_beyond_maxphyaddr_without_ept_fails_with_exit_33_qualification_2,
             vmx_check_guest_pdptes, VMX_ENTRY_FAIL_PDPTE, pae_mode(x);
             vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
             uint64_t e = BIT64(50) | 1; vfx_write(x, VFX_PDPT + 24, &e, 8))
PASS_TEST(vmx_entry_guest, pdptes_in_memory_valid_without_ept_enter, pae_mode(x);
          vfx_clear(x, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT); uint64_t e = 0x21001;
          vfx_write(x, VFX_PDPT, &e, 8))

/* The entry-failure exit writes the exit reason and qualification into the VMCS. */
Test(vmx_entry_guest, vmlaunch_failure_writes_exit_reason_and_qualification)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_VMCS_LINK_POINTER, 8);
	vmx_vmlaunch(x.cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTRY_FAIL_EXIT, "got %s", vmx_outcome_name(r.outcome));
	cr_assert_eq(vfx_get(&x, VMCS_VM_EXIT_REASON), 0x80000021u, "exit reason %#llx",
	             (unsigned long long)vfx_get(&x, VMCS_VM_EXIT_REASON));
	cr_assert_eq(vfx_get(&x, VMCS_EXIT_QUALIFICATION), 4, "qualification %llu",
	             (unsigned long long)vfx_get(&x, VMCS_EXIT_QUALIFICATION));
	cr_assert(!vmx_cpu_vmcs_launched(x.cpu, VFX_VMCS), "failed VMLAUNCH must not launch");
	vfx_fini(&x);
}

/* Entry to SMM (only possible from SMM, with the dual-monitor treatment). */
static void in_smm_entry_to_smm(struct vfx *x)
{
	struct vmx_cpu_mode m = *vmx_cpu_mode(x->cpu);

	m.in_smm = true;
	vmx_cpu_set_mode(x->cpu, &m);
	x->cpu->caps.msr[MSR_IA32_VMX_TRUE_ENTRY_CTLS - 0x480] |= (uint64_t)ENTRY_TO_SMM << 32;
	vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_TO_SMM);
}

PASS_TEST(vmx_entry_guest, entry_to_smm_with_smi_blocking_enters, in_smm_entry_to_smm(x);
          vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI))
GUEST_FAIL(entry_to_smm_into_wait_for_sipi_fails_with_exit_33, vmx_check_guest_activity_smm_sipi,
           in_smm_entry_to_smm(x);
           vfx_set(x, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI);
           vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI))
GUEST_FAIL(entry_to_smm_without_smi_blocking_fails_with_exit_33,
           vmx_check_guest_intr_smi_entry_to_smm, in_smm_entry_to_smm(x))
