/* Verifies the scripted-guest actions for MONITOR, MWAIT, INVLPG, INVD, XSETBV, RDRAND and RDSEED
 * (docs/scenario-format.md "Scripts"): each becomes the guest operation a decoded instruction would
 * (same exit reason and operands on the generic hardware, where every operation exits), the VMX
 * model applies KVM's execution controls to them, and the loader names what a malformed one lacks.
 * Each test runs an inline scenario and reads its trace. */
#include "vm_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#define SCENARIO(cpu, algorithm, actions)                                                         \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"      \
	"\"machine\":{" cpu "\"memory_mib\":1},\"hypervisor\":{\"algorithm\":\"" algorithm "\"}," \
	"\"guest\":{\"script\":{\"main\":[" actions ",{\"op\":\"hlt\"}]}},"                       \
	"\"limits\":{\"virtual_ns\":100000,\"instructions\":1000,\"exits\":100},"                 \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"

#define ALL_ACTIONS                                                                          \
	"{\"op\":\"monitor\",\"addr\":\"0x8000\",\"extensions\":\"0x0\",\"hints\":\"0x0\"}," \
	"{\"op\":\"mwait\",\"hints\":\"0x20\",\"extensions\":\"0x1\"},"                      \
	"{\"op\":\"invlpg\",\"addr\":\"0x2000\"},{\"op\":\"invd\"},"                         \
	"{\"op\":\"xsetbv\",\"xcr\":\"0x0\",\"value\":\"0x7\"},"                             \
	"{\"op\":\"rdrand\"},{\"op\":\"rdseed\"}"

/* The generic hardware makes every operation exit (docs/vcpu-layer.md): the trace names each. */
Test(script_ops, each_action_exits_with_its_reason_and_operands_on_generic_hardware)
{
	static const char *const want[] = {
	    "\"reason\":\"MONITOR\",\"rip\":\"0x100000\",\"addr\":\"0x8000\",\"ecx\":\"0x0\"",
	    "\"reason\":\"MWAIT\",\"rip\":\"0x100010\",\"eax\":\"0x20\",\"ecx\":\"0x1\"",
	    "\"reason\":\"INVLPG\",\"rip\":\"0x100020\",\"addr\":\"0x2000\"",
	    "\"reason\":\"INVD\"",
	    "\"reason\":\"XSETBV\",\"rip\":\"0x100040\",\"xcr\":\"0x0\",\"value\":\"0x7\"",
	    "\"reason\":\"RDRAND\"",
	    "\"reason\":\"RDSEED\"",
	};
	struct vm_fixture f;

	fixture_build(&f, SCENARIO("\"vcpus\":1,", "minimal", ALL_ACTIONS), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(fixture_count(&f, want[i]), 1, "trace lines with %s: wanted 1, got %u",
		             want[i], fixture_count(&f, want[i]));
	fixture_free(&f);
}

/* SDM 26.1.3: INVLPG exits only with "INVLPG exiting", which KVM leaves clear with EPT; MONITOR,
 * MWAIT and INVD exit (the first two by KVM's "MONITOR/MWAIT exiting", INVD unconditionally). */
Test(script_ops, kvm_takes_monitor_mwait_invd_exits_and_lets_invlpg_run)
{
	struct vm_fixture f;

	fixture_build(&f,
	              SCENARIO("\"cpu\":\"intel-icelake-server\",", "kvm",
	                       "{\"op\":\"monitor\",\"addr\":\"0x8000\"},{\"op\":\"mwait\"},"
	                       "{\"op\":\"invlpg\",\"addr\":\"0x2000\"},{\"op\":\"invd\"}"),
	              NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"MONITOR\""), 1, "MONITOR exits");
	cr_expect_eq(fixture_count(&f, "\"reason\":\"MWAIT\""), 1, "MWAIT exits");
	cr_expect_eq(fixture_count(&f, "\"reason\":\"INVD\""), 1, "INVD exits");
	cr_expect_eq(fixture_count(&f, "\"reason\":\"INVLPG\""), 0,
	             "INVLPG exited though KVM clears INVLPG exiting with EPT");
	fixture_free(&f);
}

/* SDM Vol. 2D XSETBV: #UD if CR4.OSXSAVE = 0, an exception that has priority over the VM exit
 * (SDM 26.1.1); the script starts with CR4.OSXSAVE clear. */
Test(script_ops, xsetbv_with_osxsave_clear_raises_ud_before_any_exit)
{
	struct vm_fixture f;

	fixture_build(&f,
	              SCENARIO("\"cpu\":\"intel-icelake-server\",", "kvm",
	                       "{\"op\":\"xsetbv\",\"xcr\":\"0x0\",\"value\":\"0x3\"}"),
	              NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"XSETBV\""), 0, "XSETBV exited despite #UD");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1,
	             "no #UD (vector 6) delivered");
	fixture_free(&f);
}

Test(script_ops, loader_names_the_missing_xcr_of_xsetbv)
{
	struct vm_fixture f;

	fixture_build(
	    &f, SCENARIO("\"vcpus\":1,", "minimal", "{\"op\":\"xsetbv\",\"value\":\"0x3\"}"), NULL);
	cr_assert_null(f.vm, "a xsetbv without xcr loaded");
	cr_expect(strstr(f.err.msg, "$.guest.script.main[0].xcr") &&
	              strstr(f.err.msg, "expected an XCR number"),
	          "error: %s", f.err.msg);
	fixture_free(&f);
}

#define TDCALL_RUN(cpu, quirks)                                                                 \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"    \
	"\"machine\":{\"cpu\":\"" cpu                                                           \
	"\",\"memory_mib\":1},\"hypervisor\":{\"algorithm\":\"kvm\","                           \
	"\"quirks\":{" quirks "}},\"guest\":{\"script\":{\"main\":[{\"op\":\"tdcall\",\"rax\":" \
	"\"0x1\"},{\"op\":\"hlt\"}]}},"                                                         \
	"\"limits\":{\"virtual_ns\":100000,\"instructions\":1000,\"exits\":100},"               \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"

/* Intel TDX ISA TDCALL, KVM commit 9d7dfb95da2c: on a TDX-capable processor a non-TD guest's
 * TDCALL at CPL 0 is an unconditional VM exit (reason 77); KVM injects #UD. */
Test(script_ops, tdcall_on_a_tdx_capable_processor_exits_and_kvm_injects_ud)
{
	struct vm_fixture f;

	fixture_build(&f, TDCALL_RUN("intel-sapphirerapids", ""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"TDCALL\""), 1, "no TDCALL exit");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1,
	             "no #UD injected");
	cr_expect_eq(fixture_count(&f, "\"kind\":\"hv_error\""), 0, "KVM failed on the exit");
	fixture_free(&f);
}

/* Without SEAM (Ice Lake) TDCALL is an undefined opcode: #UD in the guest, no VM exit. */
Test(script_ops, tdcall_without_seam_is_ud_without_an_exit)
{
	struct vm_fixture f;

	fixture_build(&f, TDCALL_RUN("intel-icelake-server", ""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"TDCALL\""), 0, "TDCALL exited on Ice Lake");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1, "no #UD");
	fixture_free(&f);
}

/* Before 9d7dfb95da2c KVM had no handler for exit 77: KVM_EXIT_INTERNAL_ERROR ends the VM. */
Test(script_ops, tdcall_exit_without_a_handler_is_an_internal_error_before_the_fix)
{
	struct vm_fixture f;

	fixture_build(
	    &f, TDCALL_RUN("intel-sapphirerapids", "\"tdx_insn_exit\":\"internal_error\""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"kind\":\"hv_error\""), 1, "no hv_error finding");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\""), 0, "an event was injected");
	fixture_free(&f);
}

#define SEAMCALL_RUN(cpu, quirks)                                                            \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"machine\":{\"cpu\":\"" cpu                                                        \
	"\",\"memory_mib\":1},\"hypervisor\":{\"algorithm\":\"kvm\","                        \
	"\"quirks\":{" quirks "}},\"guest\":{\"script\":{\"main\":[{\"op\":\"seamcall\","    \
	"\"rax\":\"0x9\"},{\"op\":\"hlt\"}]}},"                                              \
	"\"limits\":{\"virtual_ns\":100000,\"instructions\":1000,\"exits\":100},"            \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"

/* Intel TDX ISA SEAMCALL, KVM commit 9d7dfb95da2c: on a TDX-capable processor a non-TD guest's
 * SEAMCALL at CPL 0 is an unconditional VM exit (reason 76); KVM injects #UD. */
Test(script_ops, seamcall_on_a_tdx_capable_processor_exits_and_kvm_injects_ud)
{
	struct vm_fixture f;

	fixture_build(&f, SEAMCALL_RUN("intel-sapphirerapids", ""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"SEAMCALL\""), 1, "no SEAMCALL exit");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1,
	             "no #UD injected");
	cr_expect_eq(fixture_count(&f, "\"kind\":\"hv_error\""), 0, "KVM failed on the exit");
	fixture_free(&f);
}

/* Without SEAM (Ice Lake) SEAMCALL is an undefined opcode: #UD in the guest, no VM exit. */
Test(script_ops, seamcall_without_seam_is_ud_without_an_exit)
{
	struct vm_fixture f;

	fixture_build(&f, SEAMCALL_RUN("intel-icelake-server", ""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"SEAMCALL\""), 0, "SEAMCALL exited");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1, "no #UD");
	fixture_free(&f);
}

/* Before 9d7dfb95da2c KVM had no handler for exit 76 either: KVM_EXIT_INTERNAL_ERROR. */
Test(script_ops, seamcall_exit_without_a_handler_is_an_internal_error_before_the_fix)
{
	struct vm_fixture f;

	fixture_build(
	    &f, SEAMCALL_RUN("intel-sapphirerapids", "\"tdx_insn_exit\":\"internal_error\""), NULL);
	cr_assert_not_null(f.vm, "build: %s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"kind\":\"hv_error\""), 1, "no hv_error finding");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\""), 0, "an event was injected");
	fixture_free(&f);
}
