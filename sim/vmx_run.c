/* VMX operation at run time: VMLAUNCH/VMRESUME put a vCPU into VMX non-root operation and VM exits
 * bring it back to its algorithm. The instruction and its checks are the VMX model's; this file
 * moves state between the VMCS and the guest backend around them. */
#include "vmx_hw.h"

#include <hvsim/clock.h>
#include <hvsim/hv_vmx.h>
#include <hvsim/vmx_ctrl.h>

#include <string.h>

/* The boot state of a guest: 64-bit mode with flat segments, as the guest set-up (or, for scripted
 * guests, the script's notional OS) left the processor. */
#define BOOT_CR0 UINT64_C(0x80050033) /* PG WP NE ET MP PE */
#define BOOT_CR4 UINT64_C(0x00000620) /* OSXMMEXCPT OSFXSR PAE */
#define BOOT_EFER UINT64_C(0xd01)     /* NXE LMA LME SCE */
#define BOOT_PAT UINT64_C(0x0007040600070406)
#define AR_CODE64 0xa09bu /* G, L, P, DPL 0, code execute/read accessed */
#define AR_DATA 0xc093u   /* G, D/B, P, DPL 0, data read/write accessed */
#define AR_TSS64 0x008bu  /* P, busy 64-bit TSS */

static void flat_segments(struct cpu_state *s)
{
	for (unsigned i = 0; i < SEG_COUNT; i++)
		s->seg[i] = (struct cpu_segment){.selector = 0x10, .limit = 0xffffffff, .ar = AR_DATA};
	s->seg[SEG_CS] = (struct cpu_segment){.selector = 0x08, .limit = 0xffffffff, .ar = AR_CODE64};
	s->seg[SEG_TR] = (struct cpu_segment){.selector = 0x18, .limit = 0x67, .ar = AR_TSS64};
	s->seg[SEG_LDTR] = (struct cpu_segment){.ar = SEG_AR_UNUSABLE};
}

void hvsim_vcpu_boot_state(hvsim_vcpu *v, struct cpu_state *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned r = 0; r < GPR_COUNT; r++)
		out->gpr[r] = hvsim_vcpu_gpr(v, r);
	out->rip = hvsim_vcpu_rip(v);
	out->rflags = hvsim_vcpu_rflags(v);
	out->cr0 = BOOT_CR0;
	out->cr3 = 0x1000;
	out->cr4 = BOOT_CR4;
	out->dr7 = 0x400;
	out->efer = BOOT_EFER;
	out->pat = BOOT_PAT;
	flat_segments(out);
	out->gdtr = (struct cpu_dtable){.base = 0x500, .limit = 0x1f};
	out->idtr = (struct cpu_dtable){.base = 0, .limit = 0xfff};
}

void hvsim_vcpu_charge(hvsim_vcpu *v, uint64_t ns)
{
	v->now += ns;
}

uint64_t hvsim_vcpu_guest_tsc(hvsim_vcpu *v)
{
	uint64_t tsc = sim_ns_to_tsc(v->now, v->vm->sc->machine.tsc_khz), ctl = 0, ctl2 = 0, x = 0;

	if (!v->vmx || !vmx_vmcs_get(v->vmx, VMCS_CPU_BASED_VM_EXEC_CONTROL, &ctl))
		return tsc;
	vmx_vmcs_get(v->vmx, VMCS_SECONDARY_VM_EXEC_CONTROL, &ctl2);
	if ((ctl & PROC_ACTIVATE_SECONDARY) && (ctl2 & PROC2_USE_TSC_SCALING) &&
	    vmx_vmcs_get(v->vmx, VMCS_TSC_MULTIPLIER, &x))
		tsc = sim_tsc_scale(tsc, x, 48);
	if ((ctl & PROC_USE_TSC_OFFSETTING) && vmx_vmcs_get(v->vmx, VMCS_TSC_OFFSET, &x))
		tsc += x;
	return tsc;
}

bool hvsim_vcpu_vmexited(const hvsim_vcpu *v)
{
	return v->vmx_exited;
}

const struct guest_op *hvsim_vcpu_exit_op(const hvsim_vcpu *v)
{
	return v->vmx_exited && v->vmx_has_op ? &v->vmx_op : NULL;
}

static void enter(hvsim_vcpu *v, bool launch, struct vmx_result *res)
{
	if (!v->vmx) {
		memset(res, 0, sizeof(*res));
		res->outcome = VMX_FAULT_UD;
	} else if (launch) {
		vmx_vmlaunch(v->vmx, res);
	} else {
		vmx_vmresume(v->vmx, res);
	}
	vmx_hw_trace_result(v, launch ? "VMLAUNCH" : "VMRESUME", 0, res);
	/* The non-root runtime (loading guest state, running, exits) is wired in vmx_nonroot.c. */
	vmx_run_after_entry(v, res);
}

void hvsim_vmlaunch(hvsim_vcpu *v, struct vmx_result *res)
{
	enter(v, true, res);
}

void hvsim_vmresume(hvsim_vcpu *v, struct vmx_result *res)
{
	enter(v, false, res);
}
