/* VMX non-root operation in the vCPU loop: placeholder until the VMX runtime model (entry loading,
 * exits, event injection, APIC virtualization) is wired in. An entry that passes the checks is
 * reported as an internal error for now, so no algorithm can believe it ran a guest. */
#include "vmx_hw.h"

void vmx_run_after_entry(hvsim_vcpu *v, const struct vmx_result *res)
{
	if (res->outcome == VMX_ENTERED)
		vm_fail(v->vm, HVSIM_E_UNSUPPORTED, "VMX non-root operation is not wired yet");
}
