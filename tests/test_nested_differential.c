/* Verifies the engine's nested-entry differential (sim/vmx_nested.c,
 * hvsim_vmx_nested_differential): an algorithm hands over its decision on an L1 hypervisor's
 * VMLAUNCH and the vmcs12 it holds; the SDM-faithful model runs the same entry with the
 * capabilities L1 was told; a disagreement is traced ("nested_check") and reported as a
 * nested_check_mismatch finding naming both outcomes and the failing check. The vmcs12 is the
 * known-good VMX fixture (kvm-nested profile) with GUEST_ACTIVITY_STATE = HLT, valid only when
 * IA32_VMX_MISC[6] is set (SDM 27.3.1.5); the VM runs the minimal algorithm and provides guest RAM
 * for the vmcs12's pointers. */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"
#include "vm_fixture.h"

#include <hvsim/hv_vmx.h>

#include <string.h>

#define SCENARIO                                                                             \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1},"                   \
	"\"hypervisor\":{\"algorithm\":\"minimal\"},"                                        \
	"\"guest\":{\"script\":{\"main\":[{\"op\":\"hlt\"}]}},"                              \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"
#define MISC     (MSR_IA32_VMX_MISC - VMX_CAP_MSR_FIRST)
#define LINK_GPA UINT64_C(0x5000)

struct diff {
	struct vm_fixture f;
	struct vfx x;              /* holds the vmcs12 */
	struct vmx_vmcs_view view; /* over x's current VMCS */
	struct vmx_caps l1_caps;   /* what L1 was told */
	struct hvsim_nested_entry e;
};

static bool fixture_read(void *ctx, uint32_t encoding, uint64_t *value)
{
	return vmx_vmcs_get(ctx, encoding, value);
}

/* A VM, and a vmcs12 with HLT activity that L1 was told about with hlt_reported. */
static void diff_init(struct diff *d, bool hlt_reported)
{
	memset(d, 0, sizeof(*d));
	fixture_build(&d->f, SCENARIO, NULL);
	cr_assert_not_null(d->f.vm, "%s", d->f.err.msg);
	vfx_init(&d->x, "kvm-nested");
	vfx_set(&d->x, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	d->view = (struct vmx_vmcs_view){.read = fixture_read, .ctx = d->x.cpu, .pa = VFX_VMCS};
	d->l1_caps = d->x.caps;
	if (!hlt_reported)
		d->l1_caps.msr[MISC] &= ~VMX_MISC_ACTIVITY_HLT;
	d->e = (struct hvsim_nested_entry){.vmcs12 = &d->view,
	                                   .launch = true,
	                                   .l1_mode = *vmx_cpu_mode(d->x.cpu),
	                                   .l1_caps = &d->l1_caps};
}

/* Ends the run, which flushes the trace into d->f.trace. */
static void diff_finish(struct diff *d)
{
	fixture_run(&d->f);
}

static void diff_free(struct diff *d)
{
	vfx_fini(&d->x);
	fixture_free(&d->f);
}

/* The bug: the algorithm entered although L1 was told HLT is unsupported; hardware fails the
 * entry with exit 33 (SDM 27.3.1.5 activity state): a mismatch naming both and the check. */
Test(nested_differential, mismatch_when_hardware_rejects_what_the_algorithm_entered)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_ENTERED}, hw;
	bool agree;

	diff_init(&d, false);
	agree = hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, &hw);
	diff_finish(&d);
	cr_expect_not(agree, "the outcomes agreed");
	cr_expect(hw.outcome == VMX_ENTRY_FAIL_EXIT && hw.exit_reason == 0x80000021,
	          "hardware wanted exit 33, got %s %#x", vmx_outcome_name(hw.outcome),
	          hw.exit_reason);
	cr_expect(strstr(d.f.trace, "\"kind\":\"nested_check_mismatch\",\"detail\":\"minimal: "
	                            "entered; hardware: exit 33 qual 0x0 "
	                            "vmx_check_guest_activity_supported\""),
	          "no finding with both outcomes in:\n%s", d.f.trace);
	diff_free(&d);
}

/* The trace line shows both outcomes whatever they are. */
Test(nested_differential, trace_shows_both_outcomes)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_ENTERED};

	diff_init(&d, false);
	hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, NULL);
	diff_finish(&d);
	cr_expect(strstr(d.f.trace,
	                 "\"ev\":\"nested_check\",\"insn\":\"VMLAUNCH\","
	                 "\"vmcs12\":\"0x2000\",\"agree\":false,\"hv\":\"entered\","
	                 "\"hw\":\"exit 33 qual 0x0 vmx_check_guest_activity_supported\""),
	          "no nested_check line in:\n%s", d.f.trace);
	diff_free(&d);
}

/* The fix: L1 is told HLT is supported, so hardware enters too; no finding. */
Test(nested_differential, agreement_when_l1_was_told_hlt_is_supported)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_ENTERED};
	bool agree;

	diff_init(&d, true);
	agree = hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, NULL);
	diff_finish(&d);
	cr_expect(agree, "the outcomes disagreed");
	cr_expect(strstr(d.f.trace, "\"agree\":true") != NULL, "no agreeing nested_check line");
	cr_expect_null(strstr(d.f.trace, "nested_check_mismatch"), "a finding was reported");
	diff_free(&d);
}

/* Failures must match in their error number too (SDM 31.4): VMfailValid 7 is not an entry. */
Test(nested_differential, mismatch_when_only_the_algorithm_fails)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_FAIL_VALID, .error = 7};

	diff_init(&d, true);
	cr_expect_not(hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, NULL),
	              "VMfailValid 7 agreed with an entry");
	diff_finish(&d);
	cr_expect(strstr(d.f.trace, "minimal: VMfailValid 7; hardware: entered") != NULL,
	          "detail missing in:\n%s", d.f.trace);
	diff_free(&d);
}

/* SDM 27.3.1.5 VMCS link pointer: the 32 bits at the pointer must be the revision identifier.
 * The vmcs12's pointers are guest-physical: the model reads guest RAM. */
Test(nested_differential, vmcs12_pointers_read_guest_ram)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_ENTERED}, zero, revision;
	uint32_t rev;

	diff_init(&d, true);
	vfx_set(&d.x, VMCS_VMCS_LINK_POINTER, LINK_GPA);
	hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, &zero);
	rev = (uint32_t)(d.l1_caps.msr[0] & 0x7fffffff);
	cr_assert_eq(hvsim_guest_write(d.f.vm, LINK_GPA, &rev, sizeof(rev)), HVSIM_OK);
	hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, &mine, &revision);
	cr_expect(zero.outcome == VMX_ENTRY_FAIL_EXIT && zero.exit_qual == VMX_ENTRY_FAIL_LINK_PTR,
	          "zeroed guest RAM: wanted exit 33 qual 4, got %s qual %llu",
	          vmx_outcome_name(zero.outcome), (unsigned long long)zero.exit_qual);
	cr_expect_eq(revision.outcome, VMX_ENTERED, "revision in guest RAM: wanted entered, got %s",
	             vmx_outcome_name(revision.outcome));
	diff_finish(&d);
	diff_free(&d);
}

/* Plug-ins are untrusted: NULL arguments do nothing and report nothing. */
Test(nested_differential, null_arguments_do_nothing)
{
	struct diff d;
	struct vmx_result mine = {.outcome = VMX_ENTERED};
	struct hvsim_nested_entry e;

	diff_init(&d, true);
	e = d.e;
	e.vmcs12 = NULL;
	cr_expect_not(hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &e, &mine, NULL));
	cr_expect_not(hvsim_vmx_nested_differential(hvsim_vm_vcpu(d.f.vm, 0), &d.e, NULL, NULL));
	cr_expect_not(hvsim_vmx_nested_differential(NULL, &d.e, &mine, NULL));
	diff_finish(&d);
	cr_expect_null(strstr(d.f.trace, "nested_check"), "traced: %s", d.f.trace);
	diff_free(&d);
}
