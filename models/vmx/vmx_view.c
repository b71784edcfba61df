/* VMLAUNCH/VMRESUME of a VMCS that another VMX implementation holds (a hypervisor's vmcs12 for its
 * guest hypervisor), for the nested-entry differential: the VMCS is copied field by field into a
 * scratch processor with the capability MSRs and mode given, and the SDM-faithful instruction runs
 * there (SDM 31.3 VMLAUNCH/VMRESUME, SDM 27.1-27.4 checks). Outcomes are compared and described
 * the way a finding names them. Leaves out everything after the checks (loading guest state):
 * the differential is about whether an entry happens. docs/nested-differential.md. */
#include "vmx_int.h"

#include <stdio.h>
#include <stddef.h>
#include <string.h>

/* The view's fields in a scratch VMCS; a field the view has no value for reads as 0. */
static void copy_view(const struct vmx_vmcs_view *view, struct vmcs *v)
{
	memset(v, 0, sizeof(*v));
	v->pa = view->pa;
	v->launched = view->launched;
	for (size_t i = 0; i < vmcs_field_count() && i < VMCS_IDX_COUNT; i++) {
		uint64_t value = 0;

		if (view->read && view->read(view->ctx, vmcs_field_at(i)->encoding, &value))
			v->f[i] = value;
	}
}

void vmx_view_entry(const struct vmx_caps *caps, const struct vmx_cpu_mode *mode,
                    const struct vmx_mem *mem, const struct vmx_vmcs_view *view, bool launch,
                    struct vmx_result *res)
{
	struct vmcs scratch;
	struct vmcs_store store = {.count = 1, .capacity = 1, .vmcs = &scratch};
	struct vmx_cpu cpu;

	memset(&cpu, 0, offsetof(struct vmx_cpu, memo));
	vmx_memo_clear(&cpu.memo);
	copy_view(view, &scratch);
	cpu.caps = *caps;
	if (mem)
		cpu.mem = *mem;
	cpu.store = &store;
	cpu.mode = *mode;
	cpu.in_vmx = true; /* VMXON and VMPTRLD already happened: the view is the current VMCS */
	cpu.vmxon_ptr = VMX_INVALID_VMCS_PTR;
	cpu.current_vmcs = view->pa;
	if (launch)
		vmx_vmlaunch(&cpu, res);
	else
		vmx_vmresume(&cpu, res);
}

bool vmx_result_same(const struct vmx_result *a, const struct vmx_result *b)
{
	if (a->outcome != b->outcome)
		return false;
	switch (a->outcome) {
	case VMX_FAIL_VALID: return a->error == b->error;
	case VMX_ENTRY_FAIL_EXIT:
		return a->exit_reason == b->exit_reason && a->exit_qual == b->exit_qual;
	default: return true;
	}
}

void vmx_result_describe(const struct vmx_result *res, char *buf, size_t cap)
{
	int n;

	if (cap == 0)
		return;
	switch (res->outcome) {
	case VMX_ENTERED: n = snprintf(buf, cap, "entered"); break;
	case VMX_FAIL_VALID: n = snprintf(buf, cap, "VMfailValid %u", res->error); break;
	case VMX_ENTRY_FAIL_EXIT:
		n = snprintf(buf, cap, "exit %u qual 0x%llx", res->exit_reason & 0xffffu,
		             (unsigned long long)res->exit_qual);
		break;
	default: n = snprintf(buf, cap, "%s", vmx_outcome_name(res->outcome)); break;
	}
	if (res->check && n >= 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, " %s", res->check);
}
