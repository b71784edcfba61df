/* Verifies the VMX instructions (SDM ch. 31) and the VM-entry checks around them: the #UD/#GP(0)
 * pre-checks, VMfailInvalid and every VM-instruction error number of SDM 31.4 the model produces
 * (2-5, 7, 8, 9-13, 15, 26, 28), VMREAD/VMWRITE widths and high-half access, and the VM-entry
 * MSR-load list (SDM 27.4: exit 34 with the 1-based entry index). Each test builds its fixture. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_fixture.h"

#define EXPECT(r, out, err)                                                                  \
	cr_assert((r).outcome == (out) && (r).error == (err),                                \
	          "wanted %s error %u, got %s error %u from %s [%s]", vmx_outcome_name(out), \
	          (unsigned)(err), vmx_outcome_name((r).outcome), (r).error,                 \
	          (r).check ? (r).check : "-", (r).cond ? (r).cond : "-")

/* ---- VMXON / VMXOFF ---- */

Test(vmx_insn, vmxon_in_vmx_root_fails_with_error_15)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMXON_IN_VMX_ROOT);
	cr_assert_eq(vfx_get(&x, VMCS_VM_INSTRUCTION_ERROR), 15, "error field");
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_in_vmx_root_without_current_vmcs_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

/* A fresh processor outside VMX operation, for VMXON's own checks. */
static void fresh(struct vfx *x)
{
	struct vmx_result r;

	vmx_vmxoff(x->cpu, &r);
	EXPECT(r, VMX_SUCCEED, 0);
}

Test(vmx_insn, vmxon_without_cr4_vmxe_raises_ud)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.cr4 &= ~CR4_VMXE;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_at_cpl_3_raises_gp)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.cpl = 3;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_with_cr0_fixed_bit_clear_raises_gp)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.cr0 &= ~CR0_NE;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_with_feature_control_unlocked_raises_gp)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.feature_control = FEAT_CTL_VMXON;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_in_compatibility_mode_raises_ud)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.cs_l = false;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_unaligned_region_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vmx_vmxon(x.cpu, VFX_VMXON + 0x10, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	cr_assert(!vmx_cpu_in_vmx_operation(x.cpu), "must stay outside VMX operation");
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_region_beyond_maxphyaddr_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vmx_vmxon(x.cpu, BIT64(46), &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_region_wrong_revision_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vfx_write32(&x, VFX_VMXON, 5);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_region_with_bit_31_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vfx_write32(&x, VFX_VMXON, vmx_caps_revision(&x.caps) | 0x80000000u);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmxon_succeeds_with_no_current_vmcs)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	cr_assert_eq(vmx_cpu_current_vmcs(x.cpu), VMX_INVALID_VMCS_PTR, "current VMCS");
	cr_assert_eq(vmx_cpu_vmxon_ptr(x.cpu), VFX_VMXON, "VMXON pointer");
	vfx_fini(&x);
}

Test(vmx_insn, vmx_instructions_outside_vmx_operation_raise_ud)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	fresh(&x);
	vmx_vmxoff(x.cpu, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vmx_vmptrld(x.cpu, VFX_VMCS, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vmx_vmread(x.cpu, VMCS_GUEST_RIP, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAULT_UD, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmx_instructions_at_cpl_3_raise_gp)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	m = *vmx_cpu_mode(x.cpu);
	m.cpl = 3;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmwrite(x.cpu, VMCS_GUEST_RIP, 0, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vmx_vmresume(x.cpu, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vmx_vmxon(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAULT_GP, 0);
	vfx_fini(&x);
}

/* ---- VMPTRLD, VMPTRST, VMCLEAR ---- */

Test(vmx_insn, vmptrld_unaligned_fails_with_error_9)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmptrld(x.cpu, VFX_VMCS2 + 8, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMPTRLD_INVALID_ADDRESS);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_beyond_maxphyaddr_fails_with_error_9)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmptrld(x.cpu, BIT64(47), &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMPTRLD_INVALID_ADDRESS);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_vmxon_pointer_fails_with_error_10)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmptrld(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMPTRLD_VMXON_POINTER);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_wrong_revision_fails_with_error_11)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vfx_write32(&x, VFX_VMCS2, 0x77);
	vmx_vmptrld(x.cpu, VFX_VMCS2, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	cr_assert_eq(vmx_cpu_current_vmcs(x.cpu), VFX_VMCS, "current VMCS must not change");
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_shadow_vmcs_without_shadowing_support_fails_with_error_11)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	x.cpu->caps.msr[MSR_IA32_VMX_PROCBASED_CTLS2 - 0x480] &=
	    ~((uint64_t)PROC2_VMCS_SHADOWING << 32);
	vmx_vmptrld(x.cpu, VFX_SHADOW_VMCS, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_shadow_vmcs_with_shadowing_support_succeeds)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmptrld(x.cpu, VFX_SHADOW_VMCS, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrld_without_current_vmcs_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	vmx_vmptrld(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmptrst_stores_current_vmcs_pointer)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmptrst(x.cpu, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	cr_assert_eq(r.value, VFX_VMCS, "wanted %#llx, got %#llx", (unsigned long long)VFX_VMCS,
	             (unsigned long long)r.value);
	vfx_fini(&x);
}

Test(vmx_insn, vmclear_unaligned_fails_with_error_2)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMCS2 + 0x100, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMCLEAR_INVALID_ADDRESS);
	vfx_fini(&x);
}

Test(vmx_insn, vmclear_vmxon_pointer_fails_with_error_3)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMXON, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMCLEAR_VMXON_POINTER);
	vfx_fini(&x);
}

Test(vmx_insn, vmclear_of_current_vmcs_invalidates_pointer_and_clears_launch_state)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_ENTERED, 0);
	cr_assert(vmx_cpu_vmcs_launched(x.cpu, VFX_VMCS), "VMLAUNCH must launch");
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	cr_assert(!vmx_cpu_vmcs_launched(x.cpu, VFX_VMCS), "VMCLEAR must clear launch state");
	cr_assert_eq(vmx_cpu_current_vmcs(x.cpu), VMX_INVALID_VMCS_PTR, "current pointer");
	vfx_fini(&x);
}

/* ---- VMLAUNCH / VMRESUME pre-checks (SDM 27.1) ---- */

Test(vmx_insn, vmlaunch_of_launched_vmcs_fails_with_error_4)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmlaunch(x.cpu, &r);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	vfx_fini(&x);
}

Test(vmx_insn, vmresume_of_clear_vmcs_fails_with_error_5)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmresume(x.cpu, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	vfx_fini(&x);
}

Test(vmx_insn, vmresume_of_launched_vmcs_enters)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmlaunch(x.cpu, &r);
	vmx_vmresume(x.cpu, &r);
	EXPECT(r, VMX_ENTERED, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmlaunch_blocked_by_mov_ss_fails_with_error_26)
{
	struct vfx x;
	struct vmx_result r;
	struct vmx_cpu_mode m;

	vfx_init(&x, VFX_PROFILE);
	m = *vmx_cpu_mode(x.cpu);
	m.blocked_by_mov_ss = true;
	vmx_cpu_set_mode(x.cpu, &m);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	vfx_fini(&x);
}

Test(vmx_insn, vmlaunch_without_current_vmcs_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmlaunch_control_failure_writes_error_7_to_vmcs)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_VIRTUAL_PROCESSOR_ID, 0);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	cr_assert_eq(vfx_get(&x, VMCS_VM_INSTRUCTION_ERROR), 7, "error field");
	vfx_fini(&x);
}

Test(vmx_insn, vmlaunch_host_failure_writes_error_8_to_vmcs)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_HOST_CS_SELECTOR, 0);
	vmx_vmlaunch(x.cpu, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
	cr_assert_eq(vfx_get(&x, VMCS_VM_INSTRUCTION_ERROR), 8, "error field");
	vfx_fini(&x);
}

/* ---- VMREAD / VMWRITE ---- */

Test(vmx_insn, vmwrite_then_vmread_round_trips_64_bit_field)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmwrite(x.cpu, VMCS_TSC_OFFSET, UINT64_C(0x1122334455667788), &r);
	EXPECT(r, VMX_SUCCEED, 0);
	vmx_vmread(x.cpu, VMCS_TSC_OFFSET, &r);
	cr_assert_eq(r.value, UINT64_C(0x1122334455667788), "got %#llx",
	             (unsigned long long)r.value);
	vmx_vmread(x.cpu, VMCS_TSC_OFFSET | 1, &r);
	cr_assert_eq(r.value, 0x11223344u, "high half: got %#llx", (unsigned long long)r.value);
	vfx_fini(&x);
}

Test(vmx_insn, vmwrite_high_half_keeps_low_half)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmwrite(x.cpu, VMCS_TSC_OFFSET, 0xaabbccdd, &r);
	vmx_vmwrite(x.cpu, VMCS_TSC_OFFSET | 1, UINT64_C(0xffffffff00000001), &r);
	EXPECT(r, VMX_SUCCEED, 0);
	cr_assert_eq(vfx_get(&x, VMCS_TSC_OFFSET), UINT64_C(0x00000001aabbccdd), "got %#llx",
	             (unsigned long long)vfx_get(&x, VMCS_TSC_OFFSET));
	vfx_fini(&x);
}

Test(vmx_insn, vmwrite_truncates_to_field_width)
{
	static const struct {
		uint32_t enc;
		uint64_t want;
	} cases[] = {
	    {VMCS_GUEST_CS_SELECTOR, 0xbeef},
	    {VMCS_GUEST_CS_LIMIT, 0xdeadbeef},
	    {VMCS_GUEST_RIP, UINT64_C(0x12345678deadbeef)},
	};
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vmx_vmwrite(x.cpu, cases[i].enc, UINT64_C(0x12345678deadbeef), &r);
		vmx_vmread(x.cpu, cases[i].enc, &r);
		cr_assert_eq(r.value, cases[i].want, "%s: wanted %#llx, got %#llx",
		             vmcs_field_name(cases[i].enc), (unsigned long long)cases[i].want,
		             (unsigned long long)r.value);
	}
	vfx_fini(&x);
}

Test(vmx_insn, vmread_unknown_encoding_fails_with_error_12)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmread(x.cpu, 0x6830, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	vfx_fini(&x);
}

Test(vmx_insn, vmread_high_half_of_natural_field_fails_with_error_12)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmread(x.cpu, VMCS_GUEST_RIP | 1, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	vfx_fini(&x);
}

Test(vmx_insn, vmread_encoding_bits_63_32_fail_with_error_12)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmread(x.cpu, BIT64(32) | VMCS_GUEST_RIP, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	vfx_fini(&x);
}

Test(vmx_insn, vmwrite_field_absent_on_profile_fails_with_error_12)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmwrite(x.cpu, VMCS_TERTIARY_VM_EXEC_CONTROL, 0, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	vfx_fini(&x);
}

Test(vmx_insn, vmwrite_read_only_field_without_misc_bit_29_fails_with_error_13)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	x.cpu->caps.msr[MSR_IA32_VMX_MISC - 0x480] &= ~VMX_MISC_VMWRITE_ALL;
	vmx_vmwrite(x.cpu, VMCS_EXIT_QUALIFICATION, 1, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	vfx_fini(&x);
}

Test(vmx_insn, vmwrite_read_only_field_with_misc_bit_29_succeeds)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmwrite(x.cpu, VMCS_VM_EXIT_REASON, 12, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	cr_assert_eq(vfx_get(&x, VMCS_VM_EXIT_REASON), 12, "value");
	vfx_fini(&x);
}

Test(vmx_insn, vmread_without_current_vmcs_fails_invalid)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	vmx_vmread(x.cpu, VMCS_GUEST_RIP, &r);
	EXPECT(r, VMX_FAIL_INVALID, 0);
	vfx_fini(&x);
}

Test(vmx_insn, vmfail_sets_rflags_cf_or_zf)
{
	struct vmx_result r = {.outcome = VMX_FAIL_INVALID};

	cr_assert_eq(vmx_result_rflags(&r, 0x2 | RFLAGS_ZF), 0x2 | RFLAGS_CF, "VMfailInvalid");
	r.outcome = VMX_FAIL_VALID;
	cr_assert_eq(vmx_result_rflags(&r, 0x2 | RFLAGS_CF), 0x2 | RFLAGS_ZF, "VMfailValid");
	r.outcome = VMX_SUCCEED;
	cr_assert_eq(vmx_result_rflags(&r, 0x2 | RFLAGS_CF | RFLAGS_OF), 0x2, "VMsucceed");
}

/* ---- INVEPT / INVVPID ---- */

Test(vmx_insn, invept_unsupported_type_fails_with_error_28)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_invept(x.cpu, 3, 0, 0, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
	vfx_fini(&x);
}

Test(vmx_insn, invept_single_context_invalid_eptp_fails_with_error_28)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_invept(x.cpu, 1, VFX_EPT_PML4 | EPTP_WALK_4 | 5, 0, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
	vmx_invept(x.cpu, 1, VFX_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_WB, 0, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	vfx_fini(&x);
}

Test(vmx_insn, invvpid_descriptor_reserved_bits_fail_with_error_28)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_invvpid(x.cpu, 2, BIT64(16), 0, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
	vfx_fini(&x);
}

Test(vmx_insn, invvpid_single_context_vpid_0_fails_with_error_28)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_invvpid(x.cpu, 1, 0, 0, &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
	vfx_fini(&x);
}

Test(vmx_insn, invvpid_individual_address_noncanonical_fails_with_error_28)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	vmx_invvpid(x.cpu, 0, 1, BIT64(62), &r);
	EXPECT(r, VMX_FAIL_VALID, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
	vmx_invvpid(x.cpu, 0, 1, 0x1000, &r);
	EXPECT(r, VMX_SUCCEED, 0);
	vfx_fini(&x);
}

/* ---- VM-entry MSR-load list (SDM 27.4) ---- */

static void msr_entry(struct vfx *x, unsigned i, uint64_t index, uint64_t value)
{
	uint64_t e[2] = {index, value};

	vfx_write(x, VFX_MSR_AREA + 16 * i, e, sizeof(e));
}

#define MSR_FAIL(name, qual, ...)                                                                \
	EXIT_TEST(vmx_entry_msr, name, vmx_check_msr_load_list, EXIT_REASON_MSR_LOAD_FAIL, qual, \
	          __VA_ARGS__)

PASS_TEST(vmx_entry_msr, valid_msr_load_list_enters, msr_entry(x, 0, 0x174, 0x10);
          msr_entry(x, 1, 0x277, UINT64_C(0x0007040600070406));
          vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2))
MSR_FAIL(fs_base_in_list_fails_with_exit_34_index_2, 2, msr_entry(x, 0, 0x174, 0);
         msr_entry(x, 1, 0xc0000100, 0); vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2))
MSR_FAIL(gs_base_in_list_fails_with_exit_34_index_1, 1, msr_entry(x, 0, 0xc0000101, 0);
         vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1))
MSR_FAIL(x2apic_msr_in_x2apic_mode_fails_with_exit_34, 1, msr_entry(x, 0, 0x808, 0);
         struct vmx_cpu_mode m = *vmx_cpu_mode(x->cpu); m.x2apic_mode = true;
         vmx_cpu_set_mode(x->cpu, &m); vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1))
PASS_TEST(vmx_entry_msr, x2apic_msr_outside_x2apic_mode_enters, msr_entry(x, 0, 0x808, 0);
          vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1))
MSR_FAIL(smm_monitor_ctl_outside_smm_fails_with_exit_34, 1, msr_entry(x, 0, 0x9b, 0);
         vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1))
MSR_FAIL(microcode_update_trigger_fails_with_exit_34, 1, msr_entry(x, 0, 0x79, 0);
         vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1))
MSR_FAIL(entry_reserved_bits_63_32_fail_with_exit_34_index_3, 3, msr_entry(x, 0, 0x174, 0);
         msr_entry(x, 1, 0x175, 0); msr_entry(x, 2, BIT64(32) | 0x176, 0);
         vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 3))

static bool no_efer_writes(void *ctx, uint32_t index, uint64_t value)
{
	(void)ctx;
	(void)value;
	return index != 0xc0000080u;
}

MSR_FAIL(wrmsr_faulting_value_fails_with_exit_34, 2, msr_entry(x, 0, 0x174, 0);
         msr_entry(x, 1, 0xc0000080, 0); struct vmx_msr_ops ops = {no_efer_writes, NULL};
         vmx_cpu_set_msr_ops(x->cpu, &ops); vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2))
MSR_FAIL(list_longer_than_misc_limit_fails_at_entry_513, 513,
         for (unsigned i = 0; i < 520; i++) msr_entry(x, i, 0x174, 0);
         vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 520))

Test(vmx_entry_msr, msr_load_failure_reports_after_guest_checks)
{
	struct vfx x;
	struct vmx_result r;

	vfx_init(&x, VFX_PROFILE);
	msr_entry(&x, 0, 0xc0000100, 0);
	vfx_set(&x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
	vfx_set(&x, VMCS_GUEST_RFLAGS, 0);
	vfx_entry(&x, &r);
	cr_assert_eq(r.exit_reason, VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE,
	             "guest-state failure must win over MSR loading: got %#x", r.exit_reason);
	vfx_fini(&x);
}
