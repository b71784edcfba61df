/* Verifies the model side of the nested-entry differential (models/vmx/vmx_view.c, vmx_entry.c):
 * VMLAUNCH/VMRESUME of a VMCS held elsewhere (a view) on a scratch processor with the given
 * capability MSRs, the same instruction checked against other capabilities than the processor
 * reports (vmx_vmentry_with_caps), and the comparison and description of outcomes. The VMCS is the
 * known-good fixture (test_vmx_fixture.h) with GUEST_ACTIVITY_STATE = HLT, whose validity depends
 * on IA32_VMX_MISC[6] (SDM 27.3.1.5). */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_fixture.h"

#define MISC (MSR_IA32_VMX_MISC - VMX_CAP_MSR_FIRST)

static bool fixture_read(void *ctx, uint32_t encoding, uint64_t *value)
{
	return vmx_vmcs_get(ctx, encoding, value);
}

/* The fixture's current VMCS as a view, with HLT activity. */
static struct vmx_vmcs_view hlt_view(struct vfx *x)
{
	vfx_set(x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	return (struct vmx_vmcs_view){
	    .read = fixture_read, .ctx = x->cpu, .pa = VFX_VMCS, .launched = false};
}

static struct vmx_caps without_hlt(const struct vfx *x)
{
	struct vmx_caps c = x->caps;

	c.msr[MISC] &= ~VMX_MISC_ACTIVITY_HLT;
	return c;
}

/* SDM 27.3.1.5: HLT is a valid activity state when IA32_VMX_MISC[6] reports it. */
Test(vmx_view, hlt_activity_enters_when_vmx_misc_reports_hlt)
{
	struct vfx x;
	struct vmx_vmcs_view v;
	struct vmx_result res;

	vfx_init(&x, VFX_PROFILE);
	v = hlt_view(&x);
	cr_assert(x.caps.msr[MISC] & VMX_MISC_ACTIVITY_HLT, "the profile reports HLT");
	vmx_view_entry(&x.caps, vmx_cpu_mode(x.cpu), &x.memops, &v, true, &res);
	cr_expect_eq(res.outcome, VMX_ENTERED, "wanted entered, got %s (%s)",
	             vmx_outcome_name(res.outcome), res.check ? res.check : "-");
	vfx_fini(&x);
}

/* SDM 27.3.1.5: "The activity-state field must not indicate a state the processor does not
 * support (IA32_VMX_MISC)": exit 33, qualification 0. */
Test(vmx_view, hlt_activity_fails_with_exit_33_when_vmx_misc_lacks_hlt)
{
	struct vfx x;
	struct vmx_vmcs_view v;
	struct vmx_caps c;
	struct vmx_result res;

	vfx_init(&x, VFX_PROFILE);
	v = hlt_view(&x);
	c = without_hlt(&x);
	vmx_view_entry(&c, vmx_cpu_mode(x.cpu), &x.memops, &v, true, &res);
	cr_expect(res.outcome == VMX_ENTRY_FAIL_EXIT &&
	              res.exit_reason == (VMX_EXIT_REASON_ENTRY_FAIL | 33) && res.exit_qual == 0,
	          "wanted exit 33 qual 0, got %s reason %#x qual %#llx",
	          vmx_outcome_name(res.outcome), res.exit_reason,
	          (unsigned long long)res.exit_qual);
	cr_expect_str_eq(res.check ? res.check : "", "vmx_check_guest_activity_supported",
	                 "failing check wanted vmx_check_guest_activity_supported, got %s",
	                 res.check ? res.check : "none");
	vfx_fini(&x);
}

/* The view runs on a scratch copy: the fixture's VMCS keeps its launch state and exit fields. */
Test(vmx_view, view_entry_changes_nothing_in_the_view)
{
	struct vfx x;
	struct vmx_vmcs_view v;
	struct vmx_caps c;
	struct vmx_result res;

	vfx_init(&x, VFX_PROFILE);
	v = hlt_view(&x);
	c = without_hlt(&x);
	vmx_view_entry(&c, vmx_cpu_mode(x.cpu), &x.memops, &v, true, &res);
	vmx_view_entry(&x.caps, vmx_cpu_mode(x.cpu), &x.memops, &v, true, &res);
	cr_expect_eq(vfx_get(&x, VMCS_VM_EXIT_REASON), 0, "exit reason written: %#llx",
	             (unsigned long long)vfx_get(&x, VMCS_VM_EXIT_REASON));
	cr_expect_not(vmx_cpu_vmcs_launched(x.cpu, VFX_VMCS), "the view's VMCS became launched");
	vfx_fini(&x);
}

/* SDM 31.3 VMLAUNCH/VMRESUME: the view's launch state decides errors 4 and 5. */
Test(vmx_view, view_launch_state_decides_errors_4_and_5)
{
	struct vfx x;
	struct vmx_vmcs_view v;
	struct vmx_result launch, resume;

	vfx_init(&x, VFX_PROFILE);
	v = hlt_view(&x);
	v.launched = true;
	vmx_view_entry(&x.caps, vmx_cpu_mode(x.cpu), &x.memops, &v, true, &launch);
	v.launched = false;
	vmx_view_entry(&x.caps, vmx_cpu_mode(x.cpu), &x.memops, &v, false, &resume);
	cr_expect(launch.outcome == VMX_FAIL_VALID && launch.error == 4,
	          "VMLAUNCH of a launched VMCS: wanted VMfailValid 4, got %s %u",
	          vmx_outcome_name(launch.outcome), launch.error);
	cr_expect(resume.outcome == VMX_FAIL_VALID && resume.error == 5,
	          "VMRESUME of a clear VMCS: wanted VMfailValid 5, got %s %u",
	          vmx_outcome_name(resume.outcome), resume.error);
	vfx_fini(&x);
}

/* SDM 31.3 VMLAUNCH: #GP(0) at CPL > 0, from the mode given. */
Test(vmx_view, view_entry_uses_the_mode_given)
{
	struct vfx x;
	struct vmx_vmcs_view v;
	struct vmx_cpu_mode m;
	struct vmx_result res;

	vfx_init(&x, VFX_PROFILE);
	v = hlt_view(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.cpl = 3;
	vmx_view_entry(&x.caps, &m, &x.memops, &v, true, &res);
	cr_expect_eq(res.outcome, VMX_FAULT_GP, "CPL 3: wanted #GP(0), got %s",
	             vmx_outcome_name(res.outcome));
	vfx_fini(&x);
}

/* A processor that reports IA32_VMX_MISC without HLT; the fixture's VMCS made current on it. */
static struct vmx_cpu *cpu_without_hlt(struct vfx *x, struct vmx_caps *c)
{
	struct vmx_cpu *cpu;
	struct vmx_result res;

	*c = without_hlt(x);
	cpu = vmx_cpu_create(c, &x->memops, x->store);
	cr_assert_not_null(cpu, "second processor");
	vmx_vmxon(cpu, VFX_VMXON, &res);
	vmx_vmptrld(cpu, VFX_VMCS, &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "VMPTRLD on the second processor: %s",
	             vmx_outcome_name(res.outcome));
	return cpu;
}

/* An implementation that reports IA32_VMX_MISC without HLT but validates against HLT support
 * (KVM before "Always indicate HLT activity support in VMX_MISC MSR"): its own VMLAUNCH fails
 * (SDM 27.3.1.5), the one checked against the caps given enters and launches the VMCS. */
Test(vmx_view, vmentry_with_caps_checks_against_the_caps_given)
{
	struct vfx x;
	struct vmx_caps c;
	struct vmx_cpu *cpu;
	struct vmx_result own, as;

	vfx_init(&x, "kvm-nested");
	vfx_set(&x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	cpu = cpu_without_hlt(&x, &c);
	vmx_vmlaunch(cpu, &own);
	vmx_vmentry_with_caps(cpu, &x.caps, true, &as);
	cr_expect_eq(own.outcome, VMX_ENTRY_FAIL_EXIT,
	             "own caps: wanted a VM-entry failure, got %s", vmx_outcome_name(own.outcome));
	cr_expect_eq(as.outcome, VMX_ENTERED, "caps with HLT: wanted entered, got %s (%s)",
	             vmx_outcome_name(as.outcome), as.check ? as.check : "-");
	cr_expect(vmx_cpu_vmcs_launched(cpu, VFX_VMCS), "the VMCS is not launched");
	vmx_cpu_destroy(cpu);
	vfx_fini(&x);
}

/* The same instruction with capabilities lacking HLT fails as the processor would, writing the
 * exit reason into the VMCS (SDM 27.8). */
Test(vmx_view, vmentry_with_caps_failure_writes_the_exit_reason)
{
	struct vfx x;
	struct vmx_caps c;
	struct vmx_result res;

	vfx_init(&x, "kvm-nested");
	vfx_set(&x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	c = without_hlt(&x);
	vmx_vmentry_with_caps(x.cpu, &c, true, &res);
	cr_expect_eq(res.outcome, VMX_ENTRY_FAIL_EXIT, "wanted a VM-entry failure, got %s",
	             vmx_outcome_name(res.outcome));
	cr_expect_eq(vfx_get(&x, VMCS_VM_EXIT_REASON), VMX_EXIT_REASON_ENTRY_FAIL | 33,
	             "exit reason wanted 0x80000021, got %#llx",
	             (unsigned long long)vfx_get(&x, VMCS_VM_EXIT_REASON));
	vfx_fini(&x);
}

/* Outcomes agree only with the same error number or exit reason and qualification. */
Test(vmx_view, results_are_the_same_only_with_the_same_error_or_exit)
{
	struct vmx_result a = {.outcome = VMX_FAIL_VALID, .error = 7};
	struct vmx_result b = a;
	struct vmx_result e1 = {.outcome = VMX_ENTRY_FAIL_EXIT, .exit_reason = 0x80000021};
	struct vmx_result e2 = e1;

	cr_expect(vmx_result_same(&a, &b), "VMfailValid 7 = VMfailValid 7");
	b.error = 8;
	cr_expect_not(vmx_result_same(&a, &b), "VMfailValid 7 = VMfailValid 8");
	e2.exit_qual = 4;
	cr_expect_not(vmx_result_same(&e1, &e2), "exit 33 qualification 0 = qualification 4");
	e2 = (struct vmx_result){.outcome = VMX_ENTERED};
	cr_expect_not(vmx_result_same(&e1, &e2), "exit 33 = entered");
}

Test(vmx_view, describe_names_the_outcome_and_the_failing_check)
{
	struct vmx_result e = {.outcome = VMX_ENTRY_FAIL_EXIT,
	                       .exit_reason = 0x80000021,
	                       .check = "vmx_check_guest_activity_supported"};
	struct vmx_result f = {.outcome = VMX_FAIL_VALID, .error = 7};
	struct vmx_result ok = {.outcome = VMX_ENTERED};
	char buf[96], tiny[8];

	vmx_result_describe(&e, buf, sizeof(buf));
	cr_expect_str_eq(buf, "exit 33 qual 0x0 vmx_check_guest_activity_supported");
	vmx_result_describe(&f, buf, sizeof(buf));
	cr_expect_str_eq(buf, "VMfailValid 7");
	vmx_result_describe(&ok, buf, sizeof(buf));
	cr_expect_str_eq(buf, "entered");
	vmx_result_describe(&e, tiny, sizeof(tiny));
	cr_expect_str_eq(tiny, "exit 33", "truncated text: %s", tiny);
}
