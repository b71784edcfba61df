/* Verifies the VM-entry checks on the host-state area (SDM 27.2.2-27.2.4): each test breaks one
 * host field (or the address-space-size controls) of the known-good Ice Lake-SP VMCS and expects
 * VMfailValid(8) from the named check; pass-side tests enter with the boundary value. */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"

HOST_FAIL(cr0_fixed0_pe_clear_fails_with_error_8, vmx_check_host_cr0_fixed0,
          vfx_clear(x, VMCS_HOST_CR0, CR0_PE))
HOST_FAIL(cr0_fixed0_ne_clear_fails_with_error_8, vmx_check_host_cr0_fixed0,
          vfx_clear(x, VMCS_HOST_CR0, CR0_NE))
HOST_FAIL(cr0_fixed1_bit_32_fails_with_error_8, vmx_check_host_cr0_fixed1,
          vfx_or(x, VMCS_HOST_CR0, BIT64(32)))
HOST_FAIL(cr4_fixed0_vmxe_clear_fails_with_error_8, vmx_check_host_cr4_fixed0,
          vfx_clear(x, VMCS_HOST_CR4, CR4_VMXE))
HOST_FAIL(cr4_fixed1_violation_fails_with_error_8, vmx_check_host_cr4_fixed1,
          vfx_or(x, VMCS_HOST_CR4, CR4_CET))
HOST_FAIL(cr3_beyond_maxphyaddr_fails_with_error_8, vmx_check_host_cr3_width,
          vfx_or(x, VMCS_HOST_CR3, BIT64(46)))
PASS_TEST(vmx_entry_host, cr3_at_top_of_maxphyaddr_enters,
          vfx_set(x, VMCS_HOST_CR3, BIT64(46) - 0x1000))
HOST_FAIL(sysenter_esp_noncanonical_fails_with_error_8, vmx_check_host_sysenter_esp,
          vfx_set(x, VMCS_HOST_IA32_SYSENTER_ESP, BIT64(60)))
HOST_FAIL(sysenter_eip_noncanonical_fails_with_error_8, vmx_check_host_sysenter_eip,
          vfx_set(x, VMCS_HOST_IA32_SYSENTER_EIP, UINT64_C(0x0100000000000000)))
PASS_TEST(vmx_entry_host, sysenter_eip_canonical_57_bit_enters_on_la57_profile,
          vfx_set(x, VMCS_HOST_IA32_SYSENTER_EIP, UINT64_C(0x00ff000000000000)))

Test(vmx_entry_host, sysenter_eip_57_bit_address_fails_on_48_bit_profile_with_error_8)
{
	struct vfx x;

	vfx_init(&x, "kvm-nested");
	vfx_set(&x, VMCS_HOST_IA32_SYSENTER_EIP, UINT64_C(0x00ff000000000000));
	vfx_expect_vmfail(&x, "vmx_check_host_sysenter_eip", 8);
	vfx_fini(&x);
}

Test(vmx_entry_host, cet_state_noncanonical_ssp_fails_with_error_8)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE);
	vfx_set(&x, VMCS_HOST_SSP, BIT64(62));
	vfx_expect_vmfail(&x, "vmx_check_host_cet_state", 8);
	vfx_fini(&x);
}

HOST_FAIL(perf_global_ctrl_reserved_bit_fails_with_error_8, vmx_check_host_perf_global_ctrl,
          vfx_or(x, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL_CTRL);
          vfx_set(x, VMCS_HOST_IA32_PERF_GLOBAL_CTRL, BIT64(8)))
PASS_TEST(vmx_entry_host, perf_global_ctrl_counters_enable_enters,
          vfx_or(x, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL_CTRL);
          vfx_set(x, VMCS_HOST_IA32_PERF_GLOBAL_CTRL, UINT64_C(0x7000000ff)))
HOST_FAIL(pat_type_2_fails_with_error_8, vmx_check_host_pat,
          vfx_set(x, VMCS_HOST_IA32_PAT, UINT64_C(0x0007040600070402)))
HOST_FAIL(pat_type_8_in_top_byte_fails_with_error_8, vmx_check_host_pat,
          vfx_set(x, VMCS_HOST_IA32_PAT, UINT64_C(0x0807040600070406)))
PASS_TEST(vmx_entry_host, pat_unchecked_without_load_pat,
          vfx_clear(x, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_IA32_PAT);
          vfx_set(x, VMCS_HOST_IA32_PAT, UINT64_MAX))
HOST_FAIL(efer_reserved_bit_fails_with_error_8, vmx_check_host_efer_reserved,
          vfx_or(x, VMCS_HOST_IA32_EFER, BIT64(1)))
HOST_FAIL(efer_lma_clear_with_64_bit_host_fails_with_error_8, vmx_check_host_efer_lma,
          vfx_clear(x, VMCS_HOST_IA32_EFER, EFER_LMA))
HOST_FAIL(efer_lme_clear_with_64_bit_host_fails_with_error_8, vmx_check_host_efer_lme,
          vfx_clear(x, VMCS_HOST_IA32_EFER, EFER_LME))

Test(vmx_entry_host, pkrs_high_bits_fail_with_error_8)
{
	struct vfx x;

	vfx_init(&x, "intel-sapphirerapids");
	vfx_or(&x, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_PKRS);
	vfx_set(&x, VMCS_HOST_IA32_PKRS, BIT64(32));
	vfx_expect_vmfail(&x, "vmx_check_host_pkrs", 8);
	vfx_fini(&x);
}

/* ---- 27.2.3 selectors and bases ---- */

HOST_FAIL(es_selector_rpl_fails_with_error_8, vmx_check_host_es_selector,
          vfx_set(x, VMCS_HOST_ES_SELECTOR, 0x13))
HOST_FAIL(cs_selector_ti_fails_with_error_8, vmx_check_host_cs_selector,
          vfx_set(x, VMCS_HOST_CS_SELECTOR, 0x14))
HOST_FAIL(ss_selector_rpl_fails_with_error_8, vmx_check_host_ss_selector,
          vfx_set(x, VMCS_HOST_SS_SELECTOR, 0x1b))
HOST_FAIL(ds_selector_ti_fails_with_error_8, vmx_check_host_ds_selector,
          vfx_set(x, VMCS_HOST_DS_SELECTOR, 0x4))
HOST_FAIL(fs_selector_rpl_fails_with_error_8, vmx_check_host_fs_selector,
          vfx_set(x, VMCS_HOST_FS_SELECTOR, 0x1))
HOST_FAIL(gs_selector_rpl_fails_with_error_8, vmx_check_host_gs_selector,
          vfx_set(x, VMCS_HOST_GS_SELECTOR, 0x2))
HOST_FAIL(tr_selector_ti_fails_with_error_8, vmx_check_host_tr_selector,
          vfx_set(x, VMCS_HOST_TR_SELECTOR, 0x44))
HOST_FAIL(cs_selector_null_fails_with_error_8, vmx_check_host_cs_nonzero,
          vfx_set(x, VMCS_HOST_CS_SELECTOR, 0))
HOST_FAIL(tr_selector_null_fails_with_error_8, vmx_check_host_tr_nonzero,
          vfx_set(x, VMCS_HOST_TR_SELECTOR, 0))
PASS_TEST(vmx_entry_host, ss_selector_null_enters_with_64_bit_host,
          vfx_set(x, VMCS_HOST_SS_SELECTOR, 0))
HOST_FAIL(fs_base_noncanonical_fails_with_error_8, vmx_check_host_fs_base,
          vfx_set(x, VMCS_HOST_FS_BASE, BIT64(63)))
HOST_FAIL(gs_base_noncanonical_fails_with_error_8, vmx_check_host_gs_base,
          vfx_set(x, VMCS_HOST_GS_BASE, BIT64(57)))
HOST_FAIL(gdtr_base_noncanonical_fails_with_error_8, vmx_check_host_gdtr_base,
          vfx_set(x, VMCS_HOST_GDTR_BASE, UINT64_C(0x8000000000000000)))
HOST_FAIL(idtr_base_noncanonical_fails_with_error_8, vmx_check_host_idtr_base,
          vfx_set(x, VMCS_HOST_IDTR_BASE, UINT64_C(0x0200000000000000)))
HOST_FAIL(tr_base_noncanonical_fails_with_error_8, vmx_check_host_tr_base,
          vfx_set(x, VMCS_HOST_TR_BASE, UINT64_C(0x7fff000000000000)))

/* ---- 27.2.4 address-space size ---- */

static void leave_ia32e(struct vfx *x)
{
	struct vmx_cpu_mode m = *vmx_cpu_mode(x->cpu);

	m.efer &= ~(EFER_LMA | EFER_LME);
	m.cs_l = false;
	vmx_cpu_set_mode(x->cpu, &m);
}

HOST_FAIL(ia32e_guest_outside_ia32e_fails_with_error_8, vmx_check_host_outside_ia32e_guest,
          leave_ia32e(x))
HOST_FAIL(host_64_outside_ia32e_fails_with_error_8, vmx_check_host_outside_ia32e_host,
          leave_ia32e(x);
          vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST))
HOST_FAIL(host_32_in_ia32e_fails_with_error_8, vmx_check_host_ia32e_needs_host64,
          vfx_clear(x, VMCS_VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER))

/* A 32-bit host (processor outside IA-32e mode) for the host-size-0 rules. */
static void host32(struct vfx *x)
{
	leave_ia32e(x);
	vfx_clear(x, VMCS_VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER);
	vfx_clear(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER);
	vfx_clear(x, VMCS_GUEST_CR4, CR4_PCIDE);
	vfx_set(x, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vfx_set(x, VMCS_HOST_RIP, 0x81000000);
	vfx_set(x, VMCS_HOST_TR_BASE, 0x3000);
	vfx_set(x, VMCS_HOST_GDTR_BASE, 0x1000);
	vfx_set(x, VMCS_HOST_IDTR_BASE, 0x2000);
}

PASS_TEST(vmx_entry_host, host_32_bit_config_enters_outside_ia32e, host32(x))
HOST_FAIL(host_32_ia32e_guest_fails_with_error_8, vmx_check_host_outside_ia32e_guest, host32(x);
          vfx_or(x, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST))
HOST_FAIL(host_32_pcide_fails_with_error_8, vmx_check_host32_pcide, host32(x);
          vfx_or(x, VMCS_HOST_CR4, CR4_PCIDE))
HOST_FAIL(host_32_rip_above_4g_fails_with_error_8, vmx_check_host32_rip, host32(x);
          vfx_set(x, VMCS_HOST_RIP, BIT64(32)))
HOST_FAIL(host_32_ss_null_fails_with_error_8, vmx_check_host_ss_nonzero, host32(x);
          vfx_set(x, VMCS_HOST_SS_SELECTOR, 0))
HOST_FAIL(host_64_without_pae_fails_with_error_8, vmx_check_host64_pae,
          vfx_clear(x, VMCS_HOST_CR4, CR4_PAE))
HOST_FAIL(host_64_rip_noncanonical_fails_with_error_8, vmx_check_host64_rip,
          vfx_set(x, VMCS_HOST_RIP, UINT64_C(0x8000000000000000)))

/* SDM 27.2: a host-state failure is reported only when the controls are valid. */
HOST_FAIL(host_failure_reported_before_guest_failure, vmx_check_host_tr_nonzero,
          vfx_set(x, VMCS_HOST_TR_SELECTOR, 0);
          vfx_set(x, VMCS_GUEST_RFLAGS, 0))
