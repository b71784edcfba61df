/* VM exits, first half: recording the VM-exit information (SDM 28.2) and saving guest state
 * (SDM 28.3), then the driver vmx_exit that goes on with the MSR-store list, host state and the
 * MSR-load list (vmx_exit_host.c). Where the SDM calls a saved value undefined (unusable
 * segments) the register's value is saved with the SDM's exceptions applied. BNDCFGS, CET, PKRS,
 * SMBASE and the PML index are not in struct cpu_state and are left as they are. */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define SDM_SAVE_NR "SDM 28.3.4 \"Saving Non-Register State\""

#define AR_SAVE_CLEAR      (AR_RSVD_31_17 | AR_RSVD_11_8)
#define PENDING_DBG_SAVE   UINT64_C(0x1500f) /* B3-B0, enabled breakpoint, BS, RTM */
#define INTR_SAVE_MASK     (CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS | CPU_INTR_BLOCK_NMI)
#define VMX_MISC_STORE_LMA BIT64(5)
#define IDT_VECTORING_KEEP 0x80000fffu /* valid, deliver-error, type, vector; bit 12 undefined */

/* Exit reasons of attempts to execute an instruction: RFLAGS.RF is saved as 0 (SDM 28.3.3). */
static bool insn_reason(uint32_t r)
{
	static const uint8_t list[] = {
	    EXIT_REASON_CPUID,     EXIT_REASON_GETSEC,    EXIT_REASON_HLT,
	    EXIT_REASON_INVD,      EXIT_REASON_INVLPG,    EXIT_REASON_RDPMC,
	    EXIT_REASON_RDTSC,     EXIT_REASON_RSM,       EXIT_REASON_VMCALL,
	    EXIT_REASON_VMCLEAR,   EXIT_REASON_VMLAUNCH,  EXIT_REASON_VMPTRLD,
	    EXIT_REASON_VMPTRST,   EXIT_REASON_VMREAD,    EXIT_REASON_VMRESUME,
	    EXIT_REASON_VMWRITE,   EXIT_REASON_VMXOFF,    EXIT_REASON_VMXON,
	    EXIT_REASON_CR_ACCESS, EXIT_REASON_DR_ACCESS, EXIT_REASON_IO_INSTRUCTION,
	    EXIT_REASON_RDMSR,     EXIT_REASON_WRMSR,     EXIT_REASON_MWAIT,
	    EXIT_REASON_MONITOR,   EXIT_REASON_PAUSE,     EXIT_REASON_GDTR_IDTR,
	    EXIT_REASON_LDTR_TR,   EXIT_REASON_INVEPT,    EXIT_REASON_RDTSCP,
	    EXIT_REASON_INVVPID,   EXIT_REASON_WBINVD,    EXIT_REASON_XSETBV,
	    EXIT_REASON_RDRAND,    EXIT_REASON_INVPCID,   EXIT_REASON_VMFUNC,
	    EXIT_REASON_ENCLS,     EXIT_REASON_RDSEED,    EXIT_REASON_XSAVES,
	    EXIT_REASON_XRSTORS,   EXIT_REASON_PCONFIG,   EXIT_REASON_UMWAIT,
	    EXIT_REASON_TPAUSE,    EXIT_REASON_LOADIWKEY, EXIT_REASON_ENCLV,
	    EXIT_REASON_SEAMCALL,  EXIT_REASON_TDCALL,    EXIT_REASON_RDMSRLIST,
	    EXIT_REASON_WRMSRLIST,
	};

	for (size_t i = 0; i < sizeof(list); i++)
		if (list[i] == r)
			return true;
	return false;
}

/* Fault-class exceptions, whose delivery pushes RF = 1 (SDM 6.15 exception classes). */
static bool fault_vector(unsigned vector)
{
	return vector == 0 || (vector >= 5 && vector <= 7) || (vector >= 10 && vector <= 14) ||
	       vector == 16 || vector == 17 || (vector >= 19 && vector <= 21);
}

/* SDM 28.3.3 "Saving RIP, RSP, and RFLAGS": the RF rules */
static uint64_t saved_rflags(const struct vmx_exit_info *x, uint64_t rflags)
{
	uint32_t r = x->reason & 0xffffu;

	if (!x->trap_like && insn_reason(r))
		return rflags & ~RFLAGS_RF;
	if (r == EXIT_REASON_APIC_ACCESS || r == EXIT_REASON_EPT_VIOLATION ||
	    r == EXIT_REASON_EPT_MISCONFIG || r == EXIT_REASON_PML_FULL)
		return (x->idt_vectoring_info & INTR_INFO_VALID) ? rflags : rflags | RFLAGS_RF;
	if (r == EXIT_REASON_EXCEPTION_NMI && (x->intr_info & INTR_INFO_VALID) &&
	    INTR_INFO_TYPE(x->intr_info) == INTR_TYPE_HW_EXCEPTION &&
	    fault_vector(INTR_INFO_VECTOR(x->intr_info)))
		return rflags | RFLAGS_RF;
	return rflags;
}

/* SDM 28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields" */
static void record_info(const struct vmx_cpu *cpu, struct vmcs *v, const struct vmx_exit_info *x,
                        const struct cpu_state *g)
{
	VF(v, VM_EXIT_REASON) = x->reason & 0xffffu;
	VF(v, EXIT_QUALIFICATION) = x->qual;
	if (x->has_linear)
		VF(v, GUEST_LINEAR_ADDRESS) = x->guest_linear;
	if (x->has_phys)
		VF(v, GUEST_PHYSICAL_ADDRESS) = x->guest_phys;
	VF(v, VM_EXIT_INTR_INFO) = x->intr_info;
	if ((x->intr_info & INTR_INFO_VALID) && (x->intr_info & INTR_INFO_DELIVER_CODE))
		VF(v, VM_EXIT_INTR_ERROR_CODE) = x->intr_error;
	VF(v, IDT_VECTORING_INFO_FIELD) = (x->idt_vectoring_info & INTR_INFO_VALID)
	                                      ? x->idt_vectoring_info & IDT_VECTORING_KEEP
	                                      : 0;
	if ((x->idt_vectoring_info & INTR_INFO_VALID) &&
	    (x->idt_vectoring_info & INTR_INFO_DELIVER_CODE))
		VF(v, IDT_VECTORING_ERROR_CODE) = x->idt_vectoring_error;
	if (x->has_insn_len)
		VF(v, VM_EXIT_INSTRUCTION_LEN) = x->insn_len;
	if (x->has_insn_info)
		VF(v, VMX_INSTRUCTION_INFO) = x->insn_info;
	VF(v, VM_ENTRY_INTR_INFO_FIELD) &= ~(uint64_t)INTR_INFO_VALID;
	if (vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_MISC) & VMX_MISC_STORE_LMA)
		VF(v, VM_ENTRY_CONTROLS) =
		    (g->efer & EFER_LMA)
		        ? VF(v, VM_ENTRY_CONTROLS) | ENTRY_IA32E_MODE_GUEST
		        : VF(v, VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
	vmx_step_emit(cpu, "VM exit: exit information recorded", SDM_EXIT_INFO, 0, x->reason);
}

/* SDM 28.3.1 */
static void save_control_regs(struct vmcs *v, const struct vmx_ctls *c, const struct cpu_state *g)
{
	VF(v, GUEST_CR0) = g->cr0;
	VF(v, GUEST_CR3) = g->cr3;
	VF(v, GUEST_CR4) = g->cr4;
	VF(v, GUEST_SYSENTER_CS) = g->sysenter_cs & UINT32_MAX;
	VF(v, GUEST_SYSENTER_ESP) = g->sysenter_esp;
	VF(v, GUEST_SYSENTER_EIP) = g->sysenter_eip;
	if (c->exit & EXIT_SAVE_DEBUG_CONTROLS) {
		VF(v, GUEST_DR7) = g->dr7;
		VF(v, GUEST_IA32_DEBUGCTL) = g->debugctl;
	}
	if (c->exit & EXIT_SAVE_IA32_PAT)
		VF(v, GUEST_IA32_PAT) = g->pat;
	if (c->exit & EXIT_SAVE_IA32_EFER)
		VF(v, GUEST_IA32_EFER) = g->efer;
	if (c->exit & EXIT_SAVE_PERF_GLOBAL_CTRL)
		VF(v, GUEST_IA32_PERF_GLOBAL_CTRL) = g->perf_global_ctrl;
}

/* SDM 28.3.2: access rights bits 31:17 and 11:8 cleared, bit 16 = unusable; for unusable
 * registers the base of SS, DS and ES keeps bits 31:0 and LDTR's base is canonical. */
static void save_segments(const struct vmx_cpu *cpu, struct vmcs *v, const struct cpu_state *g)
{
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		const struct cpu_segment *s = &g->seg[i];
		uint64_t base = s->base;

		if (s->ar & AR_UNUSABLE) {
			if (i == SEG_SS || i == SEG_DS || i == SEG_ES)
				base &= UINT32_MAX;
			else if (i == SEG_LDTR)
				base = vmx_canonicalize(&cpu->caps, base);
		}
		v->f[VMCS_IDX_GUEST_ES_SELECTOR + i] = s->selector;
		v->f[VMCS_IDX_GUEST_ES_BASE + i] = base;
		v->f[VMCS_IDX_GUEST_ES_LIMIT + i] = s->limit;
		v->f[VMCS_IDX_GUEST_ES_AR_BYTES + i] = s->ar & ~AR_SAVE_CLEAR;
	}
	VF(v, GUEST_GDTR_BASE) = g->gdtr.base;
	VF(v, GUEST_GDTR_LIMIT) = g->gdtr.limit;
	VF(v, GUEST_IDTR_BASE) = g->idtr.base;
	VF(v, GUEST_IDTR_LIMIT) = g->idtr.limit;
}

/* SDM 28.3.4: pending debug exceptions survive INIT, TPR-below-threshold, virtualized-EOI,
 * APIC-write and MTF exits, and exits (not for #DB) under MOV-SS blocking; else cleared. */
static uint64_t saved_pending_dbg(const struct vmx_exit_info *x, const struct cpu_state *g)
{
	uint32_t r = x->reason & 0xffffu;
	bool db = r == EXIT_REASON_EXCEPTION_NMI && INTR_INFO_VECTOR(x->intr_info) == 1 &&
	          INTR_INFO_TYPE(x->intr_info) == INTR_TYPE_HW_EXCEPTION;
	bool keep = r == EXIT_REASON_INIT_SIGNAL || r == EXIT_REASON_TPR_BELOW_THRESHOLD ||
	            r == EXIT_REASON_VIRTUALIZED_EOI || r == EXIT_REASON_APIC_WRITE ||
	            r == EXIT_REASON_MONITOR_TRAP_FLAG ||
	            ((g->interruptibility & CPU_INTR_BLOCK_MOV_SS) && !db);

	return keep ? x->pending_dbg & PENDING_DBG_SAVE : 0;
}

/* SDM 28.3.4 "Saving Non-Register State" and the PDPTEs with EPT */
static void save_nonreg(struct vmx_cpu *cpu, struct vmcs *v, const struct vmx_ctls *c,
                        const struct vmx_exit_info *x, const struct cpu_state *g, uint64_t tsc)
{
	bool pae = (g->cr0 & CR0_PG) && (g->cr4 & CR4_PAE) && !(g->efer & EFER_LMA);
	struct vmx_nonroot *nr = &cpu->nr;

	VF(v, GUEST_ACTIVITY_STATE) = g->activity;
	/* exits end outside SMM: blocking by SMI saved as 0 */
	VF(v, GUEST_INTERRUPTIBILITY_INFO) = g->interruptibility & INTR_SAVE_MASK;
	VF(v, GUEST_PENDING_DBG_EXCEPTIONS) = saved_pending_dbg(x, g);
	if (c->exit & EXIT_SAVE_PREEMPTION_TIMER)
		VF(v, VMX_PREEMPTION_TIMER_VALUE) =
		    (x->reason & 0xffffu) == EXIT_REASON_PREEMPTION_TIMER
		        ? 0
		        : vmx_timer_remaining(nr->timer_start, nr->timer_value, nr->timer_shift,
		                              tsc);
	if ((c->proc2 & PROC2_ENABLE_EPT) && pae)
		for (unsigned i = 0; i < 4; i++)
			v->f[VMCS_IDX_GUEST_PDPTR0 + i] = g->pdpte[i];
	vmx_step_emit(cpu, "VM exit: guest state saved", SDM_SAVE_NR, 0, g->rip);
}

static void save_guest(struct vmx_cpu *cpu, struct vmcs *v, const struct vmx_ctls *c,
                       const struct vmx_exit_info *x, const struct cpu_state *g, uint64_t tsc)
{
	save_control_regs(v, c, g);
	save_segments(cpu, v, g);
	VF(v, GUEST_RIP) = g->rip;
	VF(v, GUEST_RSP) = g->gpr[GPR_RSP];
	VF(v, GUEST_RFLAGS) = saved_rflags(x, g->rflags);
	save_nonreg(cpu, v, c, x, g, tsc);
}

bool vmx_exit(struct vmx_cpu *cpu, const struct vmx_exit_info *x, const struct cpu_state *guest,
              uint64_t tsc, struct vmx_exit_effects *fx)
{
	struct vmcs *v = vmx_current(cpu);
	struct vmx_ctls c;

	if (!v)
		return false;
	memset(fx, 0, sizeof(*fx));
	vmx_ctls_of(v, &c);
	if (!(x->reason & VMX_EXIT_REASON_ENTRY_FAIL)) {
		record_info(cpu, v, x, guest);
		save_guest(cpu, v, &c, x, guest, tsc);
		if (!vmx_exit_store_msrs(cpu, v, fx)) {
			vmx_exit_abort(cpu, v, VMX_ABORT_SAVE_GUEST_MSR, fx);
			return true;
		}
	}
	memset(&cpu->nr, 0, sizeof(cpu->nr));
	vmx_exit_load_host(cpu, v, &c, x, guest, fx);
	return true;
}
