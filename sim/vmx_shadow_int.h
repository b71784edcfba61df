/* Private: the nested-VMX instruction oracle (vmx_shadow.c, docs/nested-differential.md "The
 * instruction oracle"). A vCPU whose algorithm declared the capabilities it reports to its guest
 * hypervisor (hvsim_vmx_nested_caps) has a shadow: an SDM-faithful VMX logical processor of the
 * VMX model, with its own VMCS store, whose memory is guest RAM. The engine executes each VMX
 * instruction the guest hypervisor (L1) executes on the shadow when it exits, and compares what
 * L1 can observe of the algorithm's emulation with the shadow's outcome when the algorithm enters
 * L1 again.
 *
 * Invariants: the shadow's state is the state of L1's VMX processor before the instruction being
 * handled (pending = SHADOW_PEND_INSN: after it), as long as every earlier comparison agreed;
 * after a disagreement (or any event that leaves its state unknown) stopped is set and the vCPU is
 * never checked again. A vCPU without declared capabilities has no shadow (NULL): nothing is
 * allocated, nothing is checked. */
#ifndef HVSIM_VMX_SHADOW_INT_H
#define HVSIM_VMX_SHADOW_INT_H

#include "vm_int.h"

struct vmx_shadow;

/* Frees a shadow; NULL is fine. */
void vmx_shadow_destroy(struct vmx_shadow *s);
/* v exited for a VMX instruction of L1 (op): the shadow executes it (VMLAUNCH/VMRESUME: waits for
 * the nested-entry differential). Call after the exit saved L1's state into the VMCS. Can't fail (a
 * shadow that cannot model the case stops). */
void vmx_shadow_exit(hvsim_vcpu *v, const struct guest_op *op);
/* The algorithm enters v again (VMLAUNCH/VMRESUME of its own VMCS): compares what L1 observes of
 * the pending instruction's emulation with the shadow's outcome; a disagreement is a
 * nested_insn_mismatch finding. Call before the entry changes anything. Can't fail. */
void vmx_shadow_entry(hvsim_vcpu *v);
/* The nested-entry differential ran for L1's VMLAUNCH (launch) or VMRESUME: agreed (hw, the
 * hardware outcome, is then the algorithm's too) the shadow takes that outcome; else it stops.
 * Can't fail. */
void vmx_shadow_nested_entry(hvsim_vcpu *v, bool launch, bool agree, const struct vmx_result *hw);
/* True when v has a shadow that still checks; the number of comparisons it made (tests). Can't
 * fail. */
bool vmx_shadow_checking(const hvsim_vcpu *v);
uint64_t vmx_shadow_checks(const hvsim_vcpu *v);
/* Snapshots: a copy of s (NULL when out of memory; s must not be NULL); restore makes v's shadow
 * equal to snap (NULL: v has none), allocating one if v has none: HVSIM_E_NOMEM when out of
 * memory. */
struct vmx_shadow *vmx_shadow_clone(const struct vmx_shadow *s);
enum hvsim_status vmx_shadow_restore(hvsim_vcpu *v, const struct vmx_shadow *snap);

#endif
