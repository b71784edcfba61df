/* Verifies how far a vCPU in VMX non-root operation runs between two looks at its events
 * (sim/vmx_nonroot.c): one instruction with the monitor trap flag (SDM 26.5.2: an MTF VM exit
 * follows every instruction), and, for a scripted guest waiting for an interrupt window, up to the
 * boundary where the window opens (SDM 30.2.1: a virtual interrupt pending in RVI is delivered as
 * soon as IF is 1, here one instruction after the IRET that ends a handler). Scenarios are inline
 * scripted guests on the kvm algorithm; the MTF test sets the control behind kvm's back. */
#include <criterion/criterion.h>

#include "vm_fixture.h"

#include <hvsim/hv_vmx.h>
#include <hvsim/vmcs.h>
#include <hvsim/vmx_ctrl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD                                                                            \
	"{\"hvsim\": 1, \"name\": \"budget\", \"description\": \"d\", \"provenance\": " \
	"{\"note\": \"test\"}, \"hypervisor\": {\"algorithm\": \"kvm\"}, "

extern const struct hvsim_hv_ops hv_kvm_ops;

/* kvm's vcpu_run with "monitor trap flag" set in the current VMCS before each call. */
static enum hvsim_status mtf_vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct vmx_result res;
	uint64_t proc = hvsim_vmread64(v, VMCS_CPU_BASED_VM_EXEC_CONTROL);

	hvsim_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, proc | PROC_MONITOR_TRAP_FLAG, &res);
	return hv_kvm_ops.vcpu_run(priv, v);
}

/* The trace time of the first line containing needle; -1 without one. */
static long long first_time(const struct vm_fixture *f, const char *needle)
{
	const char *at = strstr(f->trace, needle), *line;

	if (!at)
		return -1;
	for (line = at; line > f->trace && line[-1] != '\n'; line--)
		;
	return strncmp(line, "{\"t\":", 5) == 0 ? strtoll(line + 5, NULL, 10) : -1;
}

/* SDM 26.5.2: with the monitor trap flag, the guest's first instruction after VM entry ends in an
 * MTF VM exit (kvm has no handler for it and stops the vCPU): one instruction retired, not the
 * quantum's worth of the 50-instruction compute. */
Test(vmx_guest_budget, mtf_exit_follows_the_first_instruction)
{
	const char *json = HEAD "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": "
	                        "1, \"quantum_insns\": 1000}, "
	                        "\"guest\": {\"script\": {\"main\": [{\"op\": \"compute\", "
	                        "\"insns\": 50}, {\"op\": \"hlt\"}]}}, "
	                        "\"runs\": [{\"name\": \"r\", \"golden\": \"g\", "
	                        "\"findings\": [\"hv_error\"]}]}";
	struct hvsim_hv_ops ops = hv_kvm_ops;
	struct vm_fixture f;

	ops.vcpu_run = mtf_vcpu_run;
	fixture_build(&f, json, &ops);
	cr_assert_not_null(f.vm, "%s", f.err.msg);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"reason\":\"MONITOR_TRAP_FLAG\""), 1, "%s", f.trace);
	cr_expect_eq(hvsim_vm_summary(f.vm)->instructions, 1,
	             "instructions before the MTF exit: %llu",
	             (unsigned long long)hvsim_vm_summary(f.vm)->instructions);
	fixture_free(&f);
}

/* SDM 30.2.1: the handler of 0x50 sends itself 0x51 (pending in RVI while IF is 0) and EOIs; the
 * 0x51 delivery comes one instruction after the handler returns, in the middle of main's long
 * compute, not at its end. */
Test(vmx_guest_budget, virtual_interrupt_waits_only_for_the_handler_to_return)
{
	const char *json =
	    HEAD "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 1, \"apicv\": "
	         "true, \"insn_ns\": 1, \"quantum_insns\": 100000}, "
	         "\"guest\": {\"script\": {\"main\": ["
	         "{\"op\": \"wrmsr\", \"msr\": \"0x1b\", \"value\": \"0xfee00c00\"}, "
	         "{\"op\": \"wrmsr\", \"msr\": \"0x80f\", \"value\": \"0x1ff\"}, "
	         "{\"op\": \"wrmsr\", \"msr\": \"0x83f\", \"value\": \"0x50\"}, "
	         "{\"op\": \"compute\", \"insns\": 20000}, {\"op\": \"hlt\"}], "
	         "\"handlers\": {"
	         "\"0x50\": [{\"op\": \"wrmsr\", \"msr\": \"0x83f\", \"value\": \"0x51\"}, "
	         "{\"op\": \"compute\", \"insns\": 10}, "
	         "{\"op\": \"wrmsr\", \"msr\": \"0x80b\", \"value\": \"0x0\"}], "
	         "\"0x51\": [{\"op\": \"wrmsr\", \"msr\": \"0x80b\", \"value\": \"0x0\"}]}}}, "
	         "\"limits\": {\"virtual_ns\": 100000}, "
	         "\"runs\": [{\"name\": \"r\", \"golden\": \"g\"}]}";
	struct vm_fixture f;
	long long eoi50, inject51;

	fixture_build(&f, json, NULL);
	cr_assert_not_null(f.vm, "%s", f.err.msg);
	fixture_run(&f);
	eoi50 = first_time(&f, "\"ev\":\"eoi\",\"vector\":\"0x50\"");
	inject51 = first_time(&f, "\"ev\":\"inject\",\"vector\":\"0x51\"");
	cr_assert(eoi50 >= 0 && inject51 >= 0, "%s", f.trace);
	cr_expect_eq(inject51, eoi50 + 1, "0x50 EOI at %lld ns, 0x51 delivered at %lld ns\n%s",
	             eoi50, inject51, f.trace);
	fixture_free(&f);
}
