/* Private: the machine's VMX hardware as the engine's other files see it. */
#ifndef HVSIM_VMX_HW_H
#define HVSIM_VMX_HW_H

#include "vm_int.h"

#include <hvsim/vmx.h>

/* Loads the CPU profile and creates the logical processors; a "generic" machine has no VMX.
 * HVSIM_E_INPUT naming $.machine.cpu for an unknown profile. */
enum hvsim_status vmx_hw_init(hvsim_vm *vm, struct hvsim_error *err);
void vmx_hw_fini(hvsim_vm *vm);
/* Traces a VMX instruction that did not succeed (vmx_hw_trace_fail); nothing when it did, decided
 * inline: a hypervisor's VMREADs and VMWRITEs succeed at nearly every exit. */
void vmx_hw_trace_fail(hvsim_vcpu *v, const char *insn, uint64_t operand,
                       const struct vmx_result *res);
static inline void vmx_hw_trace_result(hvsim_vcpu *v, const char *insn, uint64_t operand,
                                       const struct vmx_result *res)
{
	if (res->outcome != VMX_SUCCEED && res->outcome != VMX_ENTERED)
		vmx_hw_trace_fail(v, insn, operand, res);
}

/* After VMLAUNCH/VMRESUME: on VMX_ENTERED the vCPU enters non-root operation; an entry-failure exit
 * returns to the algorithm as a VM exit. */
void vmx_run_after_entry(hvsim_vcpu *v, const struct vmx_result *res);

/* vmx_nonroot.c: one step of a vCPU in VMX non-root operation (at most budget instructions); a
 * kick (host interrupt) to it; its preemption timer's engine event. */
void vmx_run_guest(hvsim_vcpu *v, uint64_t budget);
void vmx_kick(hvsim_vcpu *v);
void vmx_timer_fired(hvsim_vcpu *v);

/* vmx_snapshot.c: the VMX processors, the VMCS store and the host pages of a VMX machine. take:
 * NULL when out of memory; restore: HVSIM_E_NOMEM when out of memory (the machine is then half
 * restored: the caller fails the VM); free accepts NULL. */
void *vmx_snapshot_take(const hvsim_vm *vm);
enum hvsim_status vmx_snapshot_restore(hvsim_vm *vm, const void *snap);
void vmx_snapshot_free(const hvsim_vm *vm, void *snap);

#endif
