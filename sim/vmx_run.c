/* VMX operation at run time: VMLAUNCH/VMRESUME put a vCPU into VMX non-root operation and VM exits
 * bring it back to its algorithm. The instruction and its checks are the VMX model's; this file
 * moves state between the VMCS and the guest backend around them. */
#include "vmx_hw.h"
#include "vmx_shadow_int.h"

#include <hvsim/clock.h>
#include <hvsim/hv_vmx.h>
#include <hvsim/vmx_ctrl.h>
#include <hvsim/vmx_runtime.h>

#include <string.h>

/* The boot state of a guest, as hvsim's set-up left the processor (sim/guest_setup.h): control
 * registers and RFLAGS from the backend, segments from the set-up GDT for the guest's mode. A
 * scripted guest gets the long-mode state. TR is a busy TSS of the set-up's making (the guest has
 * none of its own), LDTR is unusable. */
#define AR_CODE64    0xa09bu /* G, L, P, DPL 0, code execute/read accessed */
#define AR_CODE32    0xc09bu /* G, D/B, P, DPL 0, code execute/read accessed */
#define AR_DATA      0xc093u /* G, D/B, P, DPL 0, data read/write accessed */
#define AR_REAL_CODE 0x009bu
#define AR_REAL_DATA 0x0093u
#define AR_TSS_BUSY  0x008bu
#define EFER_LME_LMA UINT64_C(0x500)
#define BOOT_PAT     UINT64_C(0x0007040600070406)
#define SCRIPT_CR0   UINT64_C(0x80050033) /* PG WP NE ET MP PE */
#define SCRIPT_CR4   UINT64_C(0x00000620) /* OSXMMEXCPT OSFXSR PAE */

static void boot_segments(struct cpu_state *s, uint8_t mode)
{
	uint32_t code = mode == GUEST_MODE_LONG ? AR_CODE64 : AR_CODE32;
	uint16_t cs = mode == GUEST_MODE_LONG ? 0x08 : 0x18;
	uint32_t limit = 0xffffffff, data = AR_DATA;
	uint16_t ds = 0x10;

	if (mode == GUEST_MODE_REAL) {
		code = AR_REAL_CODE;
		data = AR_REAL_DATA;
		cs = ds = 0;
		limit = 0xffff;
	}
	for (unsigned i = 0; i < SEG_COUNT; i++)
		s->seg[i] = (struct cpu_segment){.selector = ds, .limit = limit, .ar = data};
	s->seg[SEG_CS] = (struct cpu_segment){.selector = cs, .limit = limit, .ar = code};
	s->seg[SEG_TR] = (struct cpu_segment){.limit = 0x67, .ar = AR_TSS_BUSY};
	s->seg[SEG_LDTR] = (struct cpu_segment){.ar = SEG_AR_UNUSABLE};
}

void hvsim_vcpu_boot_state(hvsim_vcpu *v, struct cpu_state *out)
{
	uint8_t mode = v->vm->code_guest ? v->vm->sc->guest.mode : GUEST_MODE_LONG;

	memset(out, 0, sizeof(*out));
	for (unsigned r = 0; r < GPR_COUNT; r++)
		out->gpr[r] = hvsim_vcpu_gpr(v, r);
	out->rip = hvsim_vcpu_rip(v);
	out->rflags = hvsim_vcpu_rflags(v);
	out->cr0 = v->be->get_cr ? v->be->get_cr(v->be_ctx, 0) : SCRIPT_CR0;
	out->cr3 = v->be->get_cr ? v->be->get_cr(v->be_ctx, 3) : 0;
	out->cr4 = v->be->get_cr ? v->be->get_cr(v->be_ctx, 4) : SCRIPT_CR4;
	out->dr7 = 0x400;
	out->efer = mode == GUEST_MODE_LONG ? EFER_LME_LMA : 0;
	out->pat = BOOT_PAT;
	boot_segments(out, mode);
	out->gdtr = (struct cpu_dtable){.base = 0x1000, .limit = 47};
	out->idtr = mode == GUEST_MODE_REAL   ? (struct cpu_dtable){.base = 0, .limit = 0x3ff}
	            : mode == GUEST_MODE_LONG ? (struct cpu_dtable){.base = 0x2000, .limit = 0xfff}
	                                      : (struct cpu_dtable){.base = 0x2000, .limit = 0x7ff};
}

void hvsim_vcpu_charge(hvsim_vcpu *v, uint64_t ns)
{
	v->now += ns;
}

uint64_t hvsim_vcpu_guest_tsc(hvsim_vcpu *v)
{
	uint64_t tsc = sim_ns_to_tsc(v->now, v->vm->sc->machine.tsc_khz);

	return v->vmx ? vmx_guest_tsc(v->vmx, tsc) : tsc;
}

bool hvsim_vcpu_vmexited(const hvsim_vcpu *v)
{
	return v->vmx_exited;
}

const struct guest_op *hvsim_vcpu_exit_op(const hvsim_vcpu *v)
{
	return v->vmx_exited && v->vmx_has_op ? &v->vmx_op : NULL;
}

/* The VM entries an algorithm makes run the checks' second compilation (vmx_plain_vmlaunch), the
 * same source, which fuzzing builds leave uninstrumented. fuzz_vmcs_entry fuzzes the checks
 * themselves, with their edges and comparisons as its signal. In a whole-VM run every entry of a
 * correct algorithm passes them all, and what an input steers reaches the VMCS only through the
 * algorithm, whose code stays instrumented; there the checks' instrumentation cost 18% of a
 * scripted input's CPU under libFuzzer. A failing check is still a failed entry, and a finding of
 * fuzz_hv_transitions. */
static void enter(hvsim_vcpu *v, bool launch, struct vmx_result *res)
{
	if (v->shadow) /* the algorithm is done with L1's last VMX instruction */
		vmx_shadow_entry(v);
	if (!v->vmx) {
		memset(res, 0, sizeof(*res));
		res->outcome = VMX_FAULT_UD;
	} else if (launch) {
		vmx_plain_vmlaunch(v->vmx, res);
	} else {
		vmx_plain_vmresume(v->vmx, res);
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
