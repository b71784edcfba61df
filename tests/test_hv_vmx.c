/* Verifies the engine's VMX services for algorithms (hvsim/hv_vmx.h): a vCPU is a logical processor
 * of the scenario's CPU profile, VMX instructions give the model's architectural outcomes, host
 * pages are allocated deterministically, and failures reach the trace. */
#include <criterion/criterion.h>

#include "vm_fixture.h"

#include <hvsim/hv_vmx.h>

#include <stdio.h>

#define SCENARIO(cpu)                                                                        \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"machine\":{\"cpu\":\"" cpu "\"},\"hypervisor\":{\"algorithm\":\"minimal\"},"      \
	"\"guest\":{\"script\":{\"main\":[{\"op\":\"hlt\"}]}},"                              \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"

/* The VMCS revision identifier a region must start with (SDM 25.2, IA32_VMX_BASIC[30:0]). */
static uint32_t revision(hvsim_vm *vm)
{
	return (uint32_t)(hvsim_vmx_caps(vm)->msr[0] & 0x7fffffff);
}

static uint64_t region(hvsim_vm *vm, bool with_revision)
{
	uint64_t hpa = 0;
	uint32_t rev = revision(vm);

	cr_assert_eq(hvsim_host_alloc(vm, 1, &hpa), HVSIM_OK, "host page allocation failed");
	if (with_revision)
		hvsim_host_write(vm, hpa, &rev, sizeof(rev));
	return hpa;
}

/* SDM 31.3 VMXON: #UD when CPUID.1:ECX.VMX = 0, which is what a "generic" machine has. */
Test(hv_vmx, generic_machine_has_no_vmx)
{
	struct vm_fixture f;
	struct vmx_result res;

	fixture_build(&f, SCENARIO("generic"), NULL);
	cr_assert_not_null(f.vm, "%s", f.err.msg);
	cr_assert_not(hvsim_vmx_supported(f.vm));
	hvsim_vmxon(hvsim_vm_vcpu(f.vm, 0), HVSIM_HOST_MEM_BASE, &res);
	cr_assert_eq(res.outcome, VMX_FAULT_UD, "wanted #UD, got %s",
	             vmx_outcome_name(res.outcome));
	fixture_free(&f);
}

Test(hv_vmx, unknown_profile_names_the_json_path)
{
	struct vm_fixture f;

	fixture_build(&f, SCENARIO("pentium-4"), NULL);
	cr_assert_null(f.vm);
	cr_assert(strstr(f.err.msg,
	                 "test.json: $.machine.cpu: expected a CPU profile (generic, ") != NULL &&
	              strstr(f.err.msg, "found \"pentium-4\"") != NULL,
	          "message: %s", f.err.msg);
	fixture_free(&f);
}

Test(hv_vmx, host_pages_are_deterministic_and_aligned)
{
	struct vm_fixture f;
	uint64_t a = 0, b = 0;

	fixture_build(&f, SCENARIO("intel-icelake-server"), NULL);
	cr_assert_not_null(f.vm, "%s", f.err.msg);
	hvsim_host_alloc(f.vm, 2, &a);
	hvsim_host_alloc(f.vm, 1, &b);
	cr_assert_eq(a, HVSIM_HOST_MEM_BASE, "first page: %#llx", (unsigned long long)a);
	cr_assert_eq(b, HVSIM_HOST_MEM_BASE + 2 * HVSIM_PAGE_SIZE, "third page: %#llx",
	             (unsigned long long)b);
	cr_assert_eq(hvsim_host_read(f.vm, HVSIM_HOST_MEM_BASE + 3 * HVSIM_PAGE_SIZE, &a, 1),
	             HVSIM_E_INPUT, "reads past the allocated pages are not backed");
	fixture_free(&f);
}

/* SDM 31.3 VMXON: VMfailInvalid when the VMXON region's revision identifier is wrong. */
Test(hv_vmx, vmxon_needs_the_revision_identifier)
{
	struct vm_fixture f;
	struct vmx_result res;

	fixture_build(&f, SCENARIO("intel-icelake-server"), NULL);
	hvsim_vmxon(hvsim_vm_vcpu(f.vm, 0), region(f.vm, false), &res);
	cr_assert_eq(res.outcome, VMX_FAIL_INVALID, "got %s", vmx_outcome_name(res.outcome));
	hvsim_vmxon(hvsim_vm_vcpu(f.vm, 0), region(f.vm, true), &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "got %s", vmx_outcome_name(res.outcome));
	hvsim_vm_finish(f.vm);
	cr_assert_eq(fixture_count(&f, "\"ev\":\"vmfail\",\"insn\":\"VMXON\""), 1,
	             "the failed VMXON is traced once:\n%s", f.trace);
	fixture_free(&f);
}

/* SDM 31.3 VMWRITE/VMREAD: a written guest-state field reads back; error 12 for no such field. */
Test(hv_vmx, vmwrite_then_vmread_round_trip)
{
	struct vm_fixture f;
	struct vmx_result res;
	hvsim_vcpu *v;
	uint64_t vmcs;

	fixture_build(&f, SCENARIO("intel-icelake-server"), NULL);
	v = hvsim_vm_vcpu(f.vm, 0);
	hvsim_vmxon(v, region(f.vm, true), &res);
	vmcs = region(f.vm, true);
	hvsim_vmclear(v, vmcs, &res);
	hvsim_vmptrld(v, vmcs, &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "VMPTRLD: %s", vmx_outcome_name(res.outcome));
	hvsim_vmwrite(v, VMCS_GUEST_RIP, 0xfffff80000001234ull, &res);
	cr_assert_eq(hvsim_vmread64(v, VMCS_GUEST_RIP), 0xfffff80000001234ull);
	hvsim_vmread(v, 0x7ffe, &res);
	cr_assert(res.outcome == VMX_FAIL_VALID && res.error == VMXERR_UNSUPPORTED_VMCS_COMPONENT,
	          "VMREAD of no field: %s error %u", vmx_outcome_name(res.outcome), res.error);
	fixture_free(&f);
}
