/* Regression tests for VMX model bugs found while building and running the fuzz_vmcs_entry
 * harness (docs/fuzzing.md "Findings"). Each test builds the known-good fixture
 * (test_vmx_fixture.h), breaks the one thing the bug was about, and checks the outcome the SDM
 * rule gives; the rule is named in the test and the comment above it. */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"

#include <string.h>

/* SDM 27.3.1.5 "Checks on Guest Non-Register State": if the processor is not in SMM (or the
 * "entry to SMM" VM-entry control is 1), the VMCS link pointer must not contain the current-VMCS
 * pointer. The model accepted it (finding 4). */
Test(vmx_fuzz_bugs, link_pointer_equal_to_current_vmcs_fails_with_exit_33_qualification_4)
{
	struct vfx x_, *x = &x_;

	vfx_init(x, VFX_PROFILE);
	vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS);
	vfx_expect_exit(x, "vmx_check_guest_link_ptr_current", EXIT_REASON_INVALID_GUEST_STATE,
	                VMX_ENTRY_FAIL_LINK_PTR);
	vfx_fini(x);
}

/* The same rule does not apply in SMM without "entry to SMM" (the executive-VMCS pointer rule
 * does, which the model leaves out with the dual-monitor treatment). */
Test(vmx_fuzz_bugs, link_pointer_equal_to_current_vmcs_is_not_checked_in_smm)
{
	struct vfx x_, *x = &x_;
	struct vmx_cpu_mode m;
	struct vmx_result r;

	vfx_init(x, VFX_PROFILE);
	m = *vmx_cpu_mode(x->cpu);
	m.in_smm = true;
	vmx_cpu_set_mode(x->cpu, &m);
	vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS);
	vfx_entry(x, &r);
	cr_assert(r.check == NULL || strcmp(r.check, "vmx_check_guest_link_ptr_current") != 0,
	          "in SMM: wanted no failure from vmx_check_guest_link_ptr_current, got %s",
	          vmx_outcome_name(r.outcome));
	vfx_fini(x);
}

/* A link pointer naming another region with the right revision still enters. */
Test(vmx_fuzz_bugs, link_pointer_to_another_vmcs_still_enters)
{
	struct vfx x_, *x = &x_;

	vfx_init(x, VFX_PROFILE);
	vfx_set(x, VMCS_VMCS_LINK_POINTER, VFX_VMCS2);
	vfx_expect_entered(x, "link pointer to VMCS2");
	vfx_fini(x);
}
