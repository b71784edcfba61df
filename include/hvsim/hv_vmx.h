/* VMX for hypervisor algorithms: each vCPU is a logical processor of the machine's CPU profile, and
 * an algorithm executes VMX instructions on it exactly as a hypervisor would (VMXON, VMCLEAR,
 * VMPTRLD, VMWRITE, VMLAUNCH, ...), getting the architectural outcome in a struct vmx_result. VMX
 * regions, bitmaps and virtual-APIC pages live in host memory the algorithm allocates here. The VMX
 * model's own API (hvsim/vmx.h) documents the outcomes. */
#ifndef HVSIM_HV_VMX_H
#define HVSIM_HV_VMX_H

#include <hvsim/cpu_state.h>
#include <hvsim/hv.h>
#include <hvsim/vmx.h>

/* Host-physical memory: guest RAM is identity-mapped at [0, memory_mib MiB); the hypervisor's own
 * pages start here. */
#define HVSIM_HOST_MEM_BASE      UINT64_C(0x100000000)
#define HVSIM_HOST_MEM_MAX_PAGES 16384u /* 64 MiB per VM */
#define HVSIM_PAGE_SIZE          4096u

/* True when the machine's CPU profile has VMX (machine.cpu is not "generic"). */
bool hvsim_vmx_supported(const hvsim_vm *vm);
/* The profile's capability MSRs; NULL without VMX. */
const struct vmx_caps *hvsim_vmx_caps(const hvsim_vm *vm);

/* Allocates n zeroed, page-aligned host pages; HVSIM_E_NOMEM past HVSIM_HOST_MEM_MAX_PAGES. The
 * addresses are deterministic: allocation order alone decides them. */
enum hvsim_status hvsim_host_alloc(hvsim_vm *vm, size_t pages, uint64_t *hpa);
/* Host-physical access (guest RAM or host pages); HVSIM_E_INPUT when not backed. */
enum hvsim_status hvsim_host_read(hvsim_vm *vm, uint64_t hpa, void *buf, size_t len);
enum hvsim_status hvsim_host_write(hvsim_vm *vm, uint64_t hpa, const void *buf, size_t len);

/* VMX instructions on the vCPU's logical processor (SDM ch. 31). Without VMX in the profile every
 * one of them is #UD. res always receives the outcome; failures are also traced ("vmfail"). */
void hvsim_vmxon(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res);
void hvsim_vmxoff(hvsim_vcpu *v, struct vmx_result *res);
void hvsim_vmclear(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res);
void hvsim_vmptrld(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res);
void hvsim_vmptrst(hvsim_vcpu *v, struct vmx_result *res);
void hvsim_vmread(hvsim_vcpu *v, uint64_t field, struct vmx_result *res);
void hvsim_vmwrite(hvsim_vcpu *v, uint64_t field, uint64_t value, struct vmx_result *res);
void hvsim_invept(hvsim_vcpu *v, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                  struct vmx_result *res);
void hvsim_invvpid(hvsim_vcpu *v, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                   struct vmx_result *res);

/* Convenience for algorithms: VMREAD that returns the value (0 on failure, which is traced). */
uint64_t hvsim_vmread64(hvsim_vcpu *v, uint64_t field);

/* VMLAUNCH / VMRESUME: the instruction and VM-entry checks; when they pass (VMX_ENTERED) the vCPU
 * enters VMX non-root operation: the engine loads the guest state from the VMCS, delivers the
 * injected event and runs the guest until a VM exit, after which vcpu_run is called again with
 * hvsim_vcpu_vmexited() true. A VM-entry failure exit (33/34) also returns to vcpu_run that way. */
void hvsim_vmlaunch(hvsim_vcpu *v, struct vmx_result *res);
void hvsim_vmresume(hvsim_vcpu *v, struct vmx_result *res);
/* True during the vcpu_run call that follows a VM exit (read the exit from the VMCS). */
bool hvsim_vcpu_vmexited(const hvsim_vcpu *v);
/* The decoded guest operation behind the current VM exit, as an instruction emulator would decode
 * it (MMIO accesses, I/O, MSR, ...); NULL when the exit was not caused by one. Complete it with
 * hvsim_vcpu_complete(), which in VMX operation also advances GUEST_RIP. */
const struct guest_op *hvsim_vcpu_exit_op(const hvsim_vcpu *v);
/* The architectural state the guest starts in (what KVM_SET_REGS/SREGS would hand KVM), for the
 * algorithm to write into the VMCS guest-state area. Can't fail. */
void hvsim_vcpu_boot_state(hvsim_vcpu *v, struct cpu_state *out);
/* The TSC the guest reads now: virtual time at machine.tsc_khz, scaled by the VMCS TSC multiplier
 * and offset by TSC_OFFSET when those controls are on (SDM 26.6.5). Can't fail. */
uint64_t hvsim_vcpu_guest_tsc(hvsim_vcpu *v);

/* ---- Nested VMX: the entry-check differential (docs/nested-differential.md) ---- */

/* An L1 hypervisor's VMLAUNCH/VMRESUME as the algorithm emulating VMX for it saw it. */
struct hvsim_nested_entry {
	const struct vmx_vmcs_view *vmcs12; /* L1's VMCS as the algorithm holds it; pa is
	                                       guest-physical, launched its state before */
	bool launch;                        /* VMLAUNCH (true) or VMRESUME */
	struct vmx_cpu_mode l1_mode;        /* L1's processor state at the instruction */
	const struct vmx_caps *l1_caps;     /* the capability MSRs the algorithm reported to L1 */
};

/* Runs the SDM-faithful VMX model's VMLAUNCH/VMRESUME on the same vmcs12 with l1_caps and
 * l1_mode (the vmcs12's pointers read guest RAM) and compares it with mine, the algorithm's own
 * outcome (VMX_ENTERED, VMX_FAIL_VALID + error, VMX_ENTRY_FAIL_EXIT + reason and qualification,
 * ...). Traces "nested_check" with both outcomes; a disagreement is a nested_check_mismatch
 * finding naming both and the failing check. *hw (may be NULL) receives the model's outcome.
 * Returns true when they agree; false when they differ or an argument is NULL (nothing done). */
bool hvsim_vmx_nested_differential(hvsim_vcpu *v, const struct hvsim_nested_entry *e,
                                   const struct vmx_result *mine, struct vmx_result *hw);

/* ---- Nested VMX: the instruction oracle (docs/nested-differential.md) ---- */

/* Declares the capability MSRs the algorithm reports to the guest hypervisor (L1) on v: call it
 * when they are set up and whenever they change. From then on the engine executes every VMX
 * instruction L1 executes (VMXON ... INVVPID; VMLAUNCH/VMRESUME through
 * hvsim_vmx_nested_differential) on a shadow SDM-faithful VMX processor with these capabilities
 * and guest RAM as its memory, and compares what L1 observes when the algorithm enters it again:
 * a disagreement is a nested_insn_mismatch finding. Changed capabilities keep the shadow's VMCS
 * regions and put it outside VMX operation. caps NULL removes the shadow (nothing is checked, as
 * before any call). HVSIM_E_INPUT for a NULL v, HVSIM_E_UNSUPPORTED when the vCPU has no VMX
 * (the CPU profile lacks it), HVSIM_E_NOMEM when out of memory (no shadow then). */
enum hvsim_status hvsim_vmx_nested_caps(hvsim_vcpu *v, const struct vmx_caps *caps);

#endif
