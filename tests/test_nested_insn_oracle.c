/* Verifies the nested-VMX instruction oracle (sim/vmx_shadow.c, hvsim_vmx_nested_caps): when an
 * algorithm declared the capabilities it reports to L1, every VMX instruction L1 executes runs
 * again on a shadow SDM-faithful VMX processor, and what L1 observes of the algorithm's emulation
 * (SDM 31.2 "Conventions": RFLAGS, an exception, RIP, VMREAD's and VMPTRST's stored values) is
 * compared with the shadow when the algorithm enters L1 again. L1 is a recorded script (vmx and
 * store actions) on an Ice Lake machine with machine.nested. The algorithms are kvm and "sloppy",
 * a plug-in through the C interface that passes everything to kvm except three instructions it
 * emulates wrongly: VMPTRLD without the 4-KByte alignment check, VMREAD returning a constant and
 * VMXOFF succeeding outside VMX operation. A wrong emulation must give exactly one
 * nested_insn_mismatch naming the instruction and both outcomes; kvm must give none. */
#include <criterion/criterion.h>

#include "test_files.h"
#include "vm_fixture.h"

#include "../sim/vm_int.h"
#include "../sim/vmx_shadow_int.h"

#include <hvsim/hv_registry.h>
#include <hvsim/hv_vmx.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOPPY_VALUE UINT64_C(0x5100ee)
#define VMX_FLAGS    UINT64_C(0x8d5) /* CF PF AF ZF SF OF */
#define SCENARIO_MAX 4096
#define STEPS_MAX    10000

/* L1 enters VMX operation and makes the VMCS at 0x11000 current (revision identifiers first). */
#define PREAMBLE                                                                              \
	"{\"op\":\"store\",\"gpa\":\"0x10000\",\"size\":4,\"value\":\"0x11e57ed0\"},"         \
	"{\"op\":\"store\",\"gpa\":\"0x11000\",\"size\":4,\"value\":\"0x11e57ed0\"},"         \
	"{\"op\":\"mov_cr\",\"cr\":4,\"value\":\"0x2620\"},"                                  \
	"{\"op\":\"vmx\",\"insn\":\"vmxon\",\"addr\":\"0x14000\",\"pointer\":\"0x10000\"},"   \
	"{\"op\":\"vmx\",\"insn\":\"vmclear\",\"addr\":\"0x14008\",\"pointer\":\"0x11000\"}," \
	"{\"op\":\"vmx\",\"insn\":\"vmptrld\",\"addr\":\"0x14008\"},"
#define VMPTRLD_MISALIGNED \
	"{\"op\":\"vmx\",\"insn\":\"vmptrld\",\"addr\":\"0x14010\",\"pointer\":\"0x11800\"}"
#define VMWRITE_RIP \
	"{\"op\":\"vmx\",\"insn\":\"vmwrite\",\"field\":\"0x681e\",\"value\":\"0x9000\"},"
#define VMREAD_RIP "{\"op\":\"vmx\",\"insn\":\"vmread\",\"field\":\"0x681e\"}"

/* The wrong emulations; false: kvm handles the exit. */
static bool sloppy_exit(hvsim_vcpu *v)
{
	const struct guest_op *op = hvsim_vcpu_exit_op(v);
	struct vmx_result res;
	uint64_t ptr = 0;

	if (!op || op->kind != GOP_VMX)
		return false;
	switch (op->u.vmx.insn) {
	case GVMX_VMPTRLD:
		hvsim_guest_read(hvsim_vcpu_vm(v), op->u.vmx.addr, &ptr, sizeof(ptr));
		if (!(ptr & 0xfff))
			return false;
		break; /* the bug: no 4-KByte alignment check, VMsucceed */
	case GVMX_VMREAD: hvsim_vcpu_set_gpr(v, GPR_RAX, SLOPPY_VALUE); break;
	case GVMX_VMXOFF: break; /* the bug: no #UD outside VMX operation */
	default: return false;
	}
	hvsim_vmwrite(v, VMCS_GUEST_RFLAGS, hvsim_vmread64(v, VMCS_GUEST_RFLAGS) & ~VMX_FLAGS,
	              &res);
	hvsim_vcpu_complete(v, 0);
	hvsim_vmresume(v, &res);
	return true;
}

static enum hvsim_status sloppy_run(void *priv, hvsim_vcpu *v)
{
	if (hvsim_vcpu_vmexited(v) && sloppy_exit(v))
		return HVSIM_OK;
	return hvsim_hv_builtin("kvm")->vcpu_run(priv, v);
}

struct oracle_vm {
	struct vm_fixture f;
	struct hvsim_hv_ops ops; /* kvm, or sloppy */
};

/* Builds the VM with L1's script actions (a JSON array body, run by every vCPU) under kvm or
 * sloppy, the vCPUs taking turns of quantum instructions. */
static void oracle_build_q(struct oracle_vm *o, const char *actions, bool sloppy, bool nested,
                           unsigned vcpus, unsigned quantum)
{
	char *json = malloc(SCENARIO_MAX);

	cr_assert_not_null(json);
	o->ops = *hvsim_hv_builtin("kvm");
	if (sloppy) {
		o->ops.name = "sloppy";
		o->ops.vcpu_run = sloppy_run;
	}
	snprintf(
	    json, SCENARIO_MAX,
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"nested\":%s,"
	    "\"quantum_insns\":%u,\"vcpus\":%u},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},"
	    "\"guest\":{\"mode\":\"long\",\"script\":{\"main\":[%s]}},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}",
	    nested ? "true" : "false", quantum, vcpus, actions);
	fixture_build(&o->f, json, &o->ops);
	free(json);
	cr_assert_not_null(o->f.vm, "%s", o->f.err.msg);
}

static void oracle_build_n(struct oracle_vm *o, const char *actions, bool sloppy, bool nested,
                           unsigned vcpus)
{
	oracle_build_q(o, actions, sloppy, nested, vcpus, 1);
}

static void oracle_build(struct oracle_vm *o, const char *actions, bool sloppy, bool nested)
{
	oracle_build_n(o, actions, sloppy, nested, 1);
}

static hvsim_vcpu *vcpu0(struct oracle_vm *o)
{
	return hvsim_vm_vcpu(o->f.vm, 0);
}

static unsigned mismatches(const struct oracle_vm *o)
{
	return fixture_count(&o->f, "\"kind\":\"nested_insn_mismatch\"");
}

/* kvm gave no mismatch and the shadow compared n instructions. */
static void expect_agreement(struct oracle_vm *o, uint64_t n)
{
	uint64_t checks = vmx_shadow_checks(vcpu0(o));

	cr_expect_eq(mismatches(o), 0, "kvm disagreed with the SDM:\n%s", o->f.trace);
	cr_expect_eq(checks, n, "wanted %llu instructions compared, got %llu",
	             (unsigned long long)n, (unsigned long long)checks);
}

/* SDM 31.3: VMXON, VMCLEAR, VMPTRLD, VMWRITE, VMREAD (register and memory), VMPTRST, INVEPT and
 * INVVPID as KVM emulates them agree with the SDM; each one was compared. */
Test(nested_insn_oracle, kvm_agrees_on_a_correct_sequence)
{
	struct oracle_vm o;

	oracle_build(
	    &o,
	    PREAMBLE VMWRITE_RIP VMREAD_RIP
	    ",{\"op\":\"vmx\",\"insn\":\"vmread\",\"field\":\"0x681e\",\"addr\":\"0x14020\"},"
	    "{\"op\":\"vmx\",\"insn\":\"vmptrst\",\"addr\":\"0x14028\"},"
	    "{\"op\":\"vmx\",\"insn\":\"invept\",\"type\":\"0x2\",\"addr\":\"0x14030\"},"
	    "{\"op\":\"vmx\",\"insn\":\"invvpid\",\"type\":\"0x1\",\"addr\":\"0x14030\","
	    "\"desc_lo\":\"0x1\"},"
	    "{\"op\":\"vmx\",\"insn\":\"vmxoff\"}",
	    false, true);
	fixture_run(&o.f);
	expect_agreement(&o, 10);
	cr_expect(vmx_shadow_checking(vcpu0(&o)), "the shadow stopped checking");
	fixture_free(&o.f);
}

/* SDM 31.2 and 31.4: a VMfailValid error number reaches L1 only through VMREAD of the
 * VM-instruction error field (0x4400); VMPTRLD of the VMXON pointer is VMfailValid(10), which
 * KVM and the shadow both store and return. */
Test(nested_insn_oracle, kvm_agrees_on_the_vm_instruction_error_read_back)
{
	struct oracle_vm o;

	oracle_build(&o,
	             PREAMBLE "{\"op\":\"vmx\",\"insn\":\"vmptrld\",\"addr\":\"0x14010\","
	                      "\"pointer\":\"0x10000\"},"
	                      "{\"op\":\"vmx\",\"insn\":\"vmread\",\"field\":\"0x4400\"}",
	             false, true);
	fixture_run(&o.f);
	expect_agreement(&o, 5);
	fixture_free(&o.f);
}

/* SDM 31.3 VMPTRLD: a pointer not 4-KByte aligned is VMfailValid(9); KVM (handle_vmptrld's
 * page_address_valid) agrees, and its outcome was compared. */
Test(nested_insn_oracle, kvm_agrees_on_vmptrld_of_a_misaligned_pointer)
{
	struct oracle_vm o;

	oracle_build(&o, PREAMBLE VMPTRLD_MISALIGNED, false, true);
	fixture_run(&o.f);
	expect_agreement(&o, 4);
	fixture_free(&o.f);
}

/* SDM 31.3 VMPTRLD: a pointer not 4-KByte aligned is VMfailValid(9) "VMPTRLD with invalid
 * physical address"; the algorithm's VMsucceed is one mismatch naming VMPTRLD and both outcomes. */
Test(nested_insn_oracle, vmptrld_without_alignment_check_is_one_mismatch)
{
	struct oracle_vm o;

	oracle_build(&o, PREAMBLE VMPTRLD_MISALIGNED, true, true);
	fixture_run(&o.f);
	cr_expect_eq(mismatches(&o), 1, "wanted one mismatch, got %u:\n%s", mismatches(&o),
	             o.f.trace);
	cr_expect(strstr(o.f.trace, "\"detail\":\"VMPTRLD: sloppy: VMsucceed rflags 0x0; hardware: "
	                            "VMfailValid 9 vmx_insn_vmfail\""),
	          "no finding naming VMPTRLD, VMsucceed and VMfailValid 9 in:\n%s", o.f.trace);
	cr_expect(strstr(o.f.trace, "\"ev\":\"nested_insn\",\"insn\":\"VMPTRLD\""),
	          "no nested_insn trace line in:\n%s", o.f.trace);
	fixture_free(&o.f);
}

/* SDM 31.3 VMREAD: the destination receives the current VMCS's field (the value L1 wrote with
 * VMWRITE); a wrong value is one mismatch, and the vCPU is not checked again (a second wrong
 * VMREAD adds none). */
Test(nested_insn_oracle, vmread_wrong_value_is_one_mismatch)
{
	struct oracle_vm o;

	oracle_build(&o, PREAMBLE VMWRITE_RIP VMREAD_RIP "," VMREAD_RIP, true, true);
	fixture_run(&o.f);
	cr_expect_eq(mismatches(&o), 1, "wanted one mismatch, got %u:\n%s", mismatches(&o),
	             o.f.trace);
	cr_expect(strstr(o.f.trace, "\"detail\":\"VMREAD: sloppy: VMsucceed rflags 0x0 value "
	                            "0x5100ee; hardware: VMsucceed value 0x9000\""),
	          "no finding naming VMREAD and both values in:\n%s", o.f.trace);
	cr_expect_not(vmx_shadow_checking(vcpu0(&o)), "the shadow still checks after a mismatch");
	fixture_free(&o.f);
}

/* SDM 31.3 VMXOFF: outside VMX operation every VMX instruction but VMXON is #UD; the
 * algorithm's VMsucceed is one mismatch naming VMXOFF and #UD. */
Test(nested_insn_oracle, vmxoff_outside_vmx_operation_must_be_ud)
{
	struct oracle_vm o;

	oracle_build(&o, "{\"op\":\"vmx\",\"insn\":\"vmxoff\"}", true, true);
	fixture_run(&o.f);
	cr_expect_eq(mismatches(&o), 1, "wanted one mismatch, got %u:\n%s", mismatches(&o),
	             o.f.trace);
	cr_expect(strstr(o.f.trace, "\"detail\":\"VMXOFF: sloppy: VMsucceed rflags 0x0; hardware: "
	                            "#UD vmx_insn_precheck\""),
	          "no finding naming VMXOFF and #UD in:\n%s", o.f.trace);
	fixture_free(&o.f);
}

/* Steps until the shadow made n comparisons (quantum of one instruction). */
static void step_to_checks(struct oracle_vm *o, uint64_t n)
{
	for (int i = 0; i < STEPS_MAX && vmx_shadow_checks(vcpu0(o)) < n; i++)
		cr_assert_eq(hvsim_vm_step(o->f.vm, 1), HVSIM_VM_RUNNING,
		             "ended before %llu checks", (unsigned long long)n);
	cr_assert_eq(vmx_shadow_checks(vcpu0(o)), n, "never reached %llu checks",
	             (unsigned long long)n);
}

static void step_to_end(struct oracle_vm *o)
{
	for (int i = 0; i < STEPS_MAX && hvsim_vm_step(o->f.vm, 1) == HVSIM_VM_RUNNING; i++)
		;
}

/* The shadow is VM state: a snapshot taken in VMX operation with a current VMCS restores it, so
 * the misaligned VMPTRLD after the restore is VMfailValid(9) again (a shadow reset to its start
 * would expect #UD), and the stop after the first mismatch is undone. */
Test(nested_insn_oracle, restored_snapshot_gives_the_same_check)
{
	struct oracle_vm o;
	struct hvsim_error err = {0};
	hvsim_snapshot *snap;
	static const char want[] = "\"detail\":\"VMPTRLD: sloppy: VMsucceed rflags 0x0; hardware: "
	                           "VMfailValid 9 vmx_insn_vmfail\"";

	oracle_build(&o, PREAMBLE "{\"op\":\"compute\",\"insns\":4}," VMPTRLD_MISALIGNED, true,
	             true);
	step_to_checks(&o, 3);
	snap = hvsim_vm_snapshot(o.f.vm, &err);
	cr_assert_not_null(snap, "snapshot: %s", err.msg);
	step_to_end(&o);
	cr_expect_not(vmx_shadow_checking(vcpu0(&o)), "no mismatch before the restore");
	cr_assert_eq(hvsim_vm_restore(o.f.vm, snap), HVSIM_OK, "restore failed");
	cr_expect(vmx_shadow_checking(vcpu0(&o)), "the restore did not restore the shadow");
	cr_expect_eq(vmx_shadow_checks(vcpu0(&o)), 3, "restored checks: wanted 3, got %llu",
	             (unsigned long long)vmx_shadow_checks(vcpu0(&o)));
	fixture_run(&o.f);
	cr_expect_eq(fixture_count(&o.f, want), 2, "wanted the same finding twice, got %u:\n%s",
	             fixture_count(&o.f, want), o.f.trace);
	hvsim_snapshot_free(snap);
	fixture_free(&o.f);
}

/* Without declared capabilities (kvm without machine.nested declares none) there is no shadow,
 * nothing is allocated and nothing is checked, even where the emulation is wrong. */
Test(nested_insn_oracle, no_shadow_without_declared_caps)
{
	struct oracle_vm o;

	oracle_build(&o, "{\"op\":\"vmx\",\"insn\":\"vmxoff\"}", true, false);
	fixture_run(&o.f);
	cr_expect_null(vcpu0(&o)->shadow, "a shadow exists without capabilities");
	cr_expect_eq(mismatches(&o), 0, "a mismatch without a shadow:\n%s", o.f.trace);
	fixture_free(&o.f);
}

/* The service's own contract: NULL caps remove the shadow; a vCPU without VMX gets none. */
Test(nested_insn_oracle, caps_service_null_removes_the_shadow)
{
	struct oracle_vm o;
	enum hvsim_status st;

	oracle_build(&o, "{\"op\":\"hlt\"}", false, true);
	cr_assert_not_null(vcpu0(&o)->shadow, "kvm with nested declared no capabilities");
	st = hvsim_vmx_nested_caps(vcpu0(&o), NULL);
	cr_expect_eq(st, HVSIM_OK, "NULL caps: wanted HVSIM_OK, got %d", st);
	cr_expect_null(vcpu0(&o)->shadow, "the shadow is still there");
	st = hvsim_vmx_nested_caps(NULL, hvsim_vmx_caps(o.f.vm));
	cr_expect_eq(st, HVSIM_E_INPUT, "NULL vCPU: wanted HVSIM_E_INPUT, got %d", st);
	fixture_free(&o.f);
}

/* SDM 31.3 VMPTRLD: outside VMX operation the instruction is #UD before its operand is read, so
 * an operand outside guest RAM does not turn it into #GP (KVM: nested_vmx_check_permission comes
 * before nested_vmx_get_vmptr). */
Test(nested_insn_oracle, kvm_agrees_on_ud_before_an_unreadable_operand)
{
	struct oracle_vm o;

	oracle_build(&o, "{\"op\":\"vmx\",\"insn\":\"vmptrld\",\"addr\":\"0x200000\"}", false,
	             true);
	fixture_run(&o.f);
	expect_agreement(&o, 1);
	fixture_free(&o.f);
}

/* SDM 31.3 VMXON: in VMX root operation VMXON is VMfailValid(15) without reading its operand
 * (KVM: handle_vmxon fails before nested_vmx_get_vmptr). */
Test(nested_insn_oracle, kvm_agrees_on_vmxon_in_vmx_root_with_an_unreadable_operand)
{
	struct oracle_vm o;

	oracle_build(&o, PREAMBLE "{\"op\":\"vmx\",\"insn\":\"vmxon\",\"addr\":\"0x200000\"}",
	             false, true);
	fixture_run(&o.f);
	expect_agreement(&o, 4);
	fixture_free(&o.f);
}

/* SDM 31.3 INVVPID: the type in the register operand is checked (VMfail 28) before the
 * descriptor is read (KVM: handle_invvpid checks the type first). */
Test(nested_insn_oracle, kvm_agrees_on_invvpid_type_before_an_unreadable_descriptor)
{
	struct oracle_vm o;

	oracle_build(&o,
	             PREAMBLE "{\"op\":\"vmx\",\"insn\":\"invvpid\",\"type\":\"0x7\","
	                      "\"addr\":\"0x200000\"}",
	             false, true);
	fixture_run(&o.f);
	expect_agreement(&o, 4);
	fixture_free(&o.f);
}

/* ---- the scripted scenario nvmx-hlt-activity-vmx-misc-script, whose trace the oracle leaves
 * unchanged (no line when every comparison agrees) ---- */

#define SCRIPT_SCENARIO  "scenarios/nvmx-hlt-activity-vmx-misc-script.json"
#define SCRIPT_VMX_INSNS 61 /* the VMX actions before its VMLAUNCH */

/* Builds the scenario's run named run into f, with the trace captured. */
static void script_scenario_build(struct vm_fixture *f, const char *run)
{
	size_t len = 0;
	char *text = (char *)test_slurp(SCRIPT_SCENARIO, &len);

	cr_assert_not_null(text, "%s unreadable", SCRIPT_SCENARIO);
	fixture_build_run(f, SCRIPT_SCENARIO, text, run, NULL);
	free(text);
	cr_assert_not_null(f->vm, "%s", f->err.msg);
}

/* The fix: every one of L1's VMX instructions before VMLAUNCH (VMXON, VMCLEAR, VMPTRLD, 53
 * VMWRITEs, VMREADs, VMPTRST, INVEPT, INVVPID) agrees with the SDM (SDM 31.3), and the accepted
 * entry leaves the shadow checking. */
Test(nested_insn_oracle, scripted_scenario_agrees_after_the_fix)
{
	struct vm_fixture f;
	uint64_t checks;

	script_scenario_build(&f, "always");
	fixture_run(&f);
	checks = vmx_shadow_checks(hvsim_vm_vcpu(f.vm, 0));
	cr_expect_eq(checks, SCRIPT_VMX_INSNS, "wanted %d instructions compared, got %llu",
	             SCRIPT_VMX_INSNS, (unsigned long long)checks);
	cr_expect_eq(fixture_count(&f, "nested_insn"), 0, "an oracle line in:\n%s", f.trace);
	cr_expect(vmx_shadow_checking(hvsim_vm_vcpu(f.vm, 0)), "the shadow stopped");
	fixture_free(&f);
}

/* Before the fix the entry differential disagrees (SDM 27.3.1.5): the shadow cannot know what L1
 * got and stops, so the one bug gives nested_check_mismatch and no nested_insn_mismatch. */
Test(nested_insn_oracle, entry_disagreement_stops_the_shadow_without_a_second_finding)
{
	struct vm_fixture f;

	script_scenario_build(&f, "userspace");
	fixture_run(&f);
	cr_expect_eq(vmx_shadow_checks(hvsim_vm_vcpu(f.vm, 0)), SCRIPT_VMX_INSNS,
	             "wanted %d instructions compared, got %llu", SCRIPT_VMX_INSNS,
	             (unsigned long long)vmx_shadow_checks(hvsim_vm_vcpu(f.vm, 0)));
	cr_expect_eq(fixture_count(&f, "\"kind\":\"nested_check_mismatch\""), 1,
	             "wanted the differential's finding in:\n%s", f.trace);
	cr_expect_eq(fixture_count(&f, "nested_insn_mismatch"), 0, "a cascade in:\n%s", f.trace);
	cr_expect_not(vmx_shadow_checking(hvsim_vm_vcpu(f.vm, 0)), "the shadow still checks");
	fixture_free(&f);
}

/* SDM 25.11.1: no VMCS should be active on more than one logical processor; one that is "may
 * become corrupted". Two vCPUs making the same VMCS current (one copy in kvm, one per shadow)
 * have no SDM outcome to compare: both shadows stop, without a finding; one vCPU with the same
 * script keeps checking. */
Test(nested_insn_oracle, a_vmcs_active_on_two_vcpus_stops_both_shadows)
{
	struct oracle_vm o;

	oracle_build_n(&o, PREAMBLE VMWRITE_RIP VMREAD_RIP, false, true, 2);
	fixture_run(&o.f);
	cr_expect_eq(mismatches(&o), 0, "a shared VMCS gave a finding:\n%s", o.f.trace);
	for (unsigned i = 0; i < 2; i++)
		cr_expect_not(vmx_shadow_checking(hvsim_vm_vcpu(o.f.vm, i)),
		              "vCPU %u's shadow still checks a VMCS active on both vCPUs", i);
	fixture_free(&o.f);
	oracle_build_n(&o, PREAMBLE VMWRITE_RIP VMREAD_RIP, false, true, 1);
	fixture_run(&o.f);
	cr_expect(vmx_shadow_checking(vcpu0(&o)), "one vCPU: the shadow stopped");
	fixture_free(&o.f);
}

/* The same, when vCPU 0 has made the VMCS current and failed a second VMXON (VMfailValid 15,
 * stored in its VMCS) before vCPU 1 starts: vCPU 1's VMCLEAR stops vCPU 0's shadow, and its
 * VMPTRLD makes the VMCS active on both. vCPU 1's VMREAD of the error number then has no SDM
 * value either (kvm: 15, vCPU 1's shadow: 0), and vCPU 0's stopped shadow still counts as holding
 * the VMCS (fuzz_hv_transitions finding 20). */
Test(nested_insn_oracle, a_vmcs_made_current_again_after_a_vmclear_elsewhere_stops_the_shadow)
{
	struct oracle_vm o;

	oracle_build_q(&o,
	               PREAMBLE "{\"op\":\"vmx\",\"insn\":\"vmxon\",\"addr\":\"0x14000\"},"
	                        "{\"op\":\"vmx\",\"insn\":\"vmread\",\"field\":\"0x4400\"}",
	               false, true, 2, 1000);
	fixture_run(&o.f);
	cr_expect_eq(mismatches(&o), 0, "a shared VMCS gave a finding:\n%s", o.f.trace);
	cr_expect_not(vmx_shadow_checking(hvsim_vm_vcpu(o.f.vm, 1)),
	              "vCPU 1's shadow still checks a VMCS active on both vCPUs");
	fixture_free(&o.f);
}
