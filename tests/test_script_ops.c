/* Verifies the scripted-guest actions for MONITOR, MWAIT, INVLPG, INVD, XSETBV, RDRAND, RDSEED,
 * TDCALL and SEAMCALL (docs/scenario-format.md "Scripts"): each becomes the guest operation a
 * decoded instruction would (same exit reason and operands on the generic hardware, where every
 * operation exits), the VMX model applies KVM's execution controls and the CPU profile's SEAM to
 * them, and the loader names what a malformed one lacks.
 * Each test runs an inline scenario and reads its trace. */
#include "vm_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
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

/* The TDX instructions a non-TD guest may execute: the script action and the exit reason. */
static const struct {
	const char *op, *reason;
} tdx_insns[] = {{"tdcall", "TDCALL"}, {"seamcall", "SEAMCALL"}};

static const char tdx_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"%s\",\"memory_mib\":1},\"hypervisor\":{\"algorithm\":\"kvm\","
    "\"quirks\":{%s}},\"guest\":{\"script\":{\"main\":[{\"op\":\"%s\",\"rax\":\"0x1\"},"
    "{\"op\":\"hlt\"}]}},\"limits\":{\"virtual_ns\":100000,\"instructions\":1000,"
    "\"exits\":100},\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}";

/* Runs tdx_insns[i] on cpu with quirks; the counts of exits of its reason, #UD injections, all
 * injections and hv_error findings. */
static void run_tdx_insn(size_t i, const char *cpu, const char *quirks, unsigned out[4])
{
	char text[1024], exit_of[64];
	struct vm_fixture f;

	snprintf(text, sizeof(text), tdx_fmt, cpu, quirks, tdx_insns[i].op);
	snprintf(exit_of, sizeof(exit_of), "\"reason\":\"%s\"", tdx_insns[i].reason);
	fixture_build(&f, text, NULL);
	cr_assert_not_null(f.vm, "%s: build: %s", tdx_insns[i].op, f.err.msg);
	fixture_run(&f);
	out[0] = fixture_count(&f, exit_of);
	out[1] = fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\"");
	out[2] = fixture_count(&f, "\"ev\":\"inject\"");
	out[3] = fixture_count(&f, "\"kind\":\"hv_error\"");
	fixture_free(&f);
}

/* Intel TDX ISA TDCALL and SEAMCALL, KVM commit 9d7dfb95da2c: on a TDX-capable processor a non-TD
 * guest's TDCALL or SEAMCALL at CPL 0 is an unconditional VM exit (reasons 77, 76); KVM injects
 * #UD. */
Test(script_ops, tdx_insns_on_a_tdx_capable_processor_exit_and_kvm_injects_ud)
{
	for (size_t i = 0; i < sizeof(tdx_insns) / sizeof(tdx_insns[0]); i++) {
		unsigned n[4];

		run_tdx_insn(i, "intel-sapphirerapids", "", n);
		cr_expect_eq(n[0], 1, "%s: wanted 1 exit, got %u", tdx_insns[i].op, n[0]);
		cr_expect_eq(n[1], 1, "%s: wanted 1 #UD injected, got %u", tdx_insns[i].op, n[1]);
		cr_expect_eq(n[3], 0, "%s: KVM failed on the exit", tdx_insns[i].op);
	}
}

/* Without SEAM (Ice Lake) TDCALL and SEAMCALL are undefined opcodes: #UD in the guest, no exit. */
Test(script_ops, tdx_insns_without_seam_are_ud_without_an_exit)
{
	for (size_t i = 0; i < sizeof(tdx_insns) / sizeof(tdx_insns[0]); i++) {
		unsigned n[4];

		run_tdx_insn(i, "intel-icelake-server", "", n);
		cr_expect_eq(n[0], 0, "%s: exited on Ice Lake", tdx_insns[i].op);
		cr_expect_eq(n[1], 1, "%s: wanted 1 #UD, got %u", tdx_insns[i].op, n[1]);
	}
}

/* Before 9d7dfb95da2c KVM had no handler for exits 77 and 76: KVM_EXIT_INTERNAL_ERROR ends the
 * VM. */
Test(script_ops, tdx_insn_exits_without_a_handler_are_an_internal_error_before_the_fix)
{
	for (size_t i = 0; i < sizeof(tdx_insns) / sizeof(tdx_insns[0]); i++) {
		unsigned n[4];

		run_tdx_insn(i, "intel-sapphirerapids", "\"tdx_insn_exit\":\"internal_error\"", n);
		cr_expect_eq(n[3], 1, "%s: wanted 1 hv_error finding, got %u", tdx_insns[i].op,
		             n[3]);
		cr_expect_eq(n[2], 0, "%s: an event was injected", tdx_insns[i].op);
	}
}
