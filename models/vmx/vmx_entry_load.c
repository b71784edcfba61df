/* VM entry after the checks passed: loading guest state (SDM 27.3.2), the event to inject
 * (27.6), and the special features of VM entry (27.7: interruptibility, activity state, pending
 * debug exceptions, the VMX-preemption timer, interrupt/NMI-window and TPR-threshold exits,
 * pending MTF exits), plus the virtual-interrupt evaluation of 27.3.2.5. The VM-entry MSR-load
 * list, the delivery of the injected event through the guest IDT and TLB effects are the
 * owner's. Where the SDM calls a value "undefined" (unusable segments) the field value is loaded,
 * with the exceptions the SDM lists applied. BNDCFGS, RTIT_CTL, CET, PKRS, LBR_CTL and SMBASE
 * have no place in struct cpu_state and are not loaded. */
#include "vmx_int.h"

#include <string.h>

#define SDM_LOAD_CR "SDM 27.3.2.1 \"Loading Guest Control Registers, Debug Registers, and MSRs\""
#define SDM_LOAD_SEG \
	"SDM 27.3.2.2 \"Loading Guest Segment Registers and Descriptor-Table Registers\""
#define SDM_LOAD_PDPTE "SDM 27.3.2.4 \"Loading Page-Directory-Pointer-Table Entries\""
#define SDM_E_INTR     "SDM 27.7.1 \"Interruptibility State\""
#define SDM_E_ACT      "SDM 27.7.2 \"Activity State\""
#define SDM_E_DBG      "SDM 27.7.3 \"Delivery of Pending Debug Exceptions after VM Entry\""
#define SDM_E_TIMER    "SDM 27.7.4 \"VMX-Preemption Timer\""
#define SDM_E_TPR      "SDM 27.7.7 \"VM Exits Induced by the TPR Threshold\""

/* CR0 bits VM entry never modifies: ET, reserved 15:6, 17, 28:19, NW, CD (SDM 27.3.2.1). */
#define CR0_ENTRY_KEEP          UINT64_C(0x7ffaffd0)
#define DR7_ENTRY_CLEAR         (BIT64(12) | BIT64(14) | BIT64(15))
#define DR7_FIXED1              BIT64(10)
#define PENDING_DBG_BP          BIT64(12) /* enabled breakpoint */
#define VMX_MISC_TIMER_SHIFT(m) ((uint8_t)((m)&0x1fu))

static void load_efer(const struct vmcs *v, const struct vmx_ctls *c, struct cpu_state *g)
{
	bool ia32e = (c->entry & ENTRY_IA32E_MODE_GUEST) != 0;

	if (c->entry & ENTRY_LOAD_IA32_EFER) {
		g->efer = VF(v, GUEST_IA32_EFER);
		return;
	}
	/* SDM 27.3.2.1: LMA from "IA-32e mode guest"; LME too when CR0.PG is being loaded as 1 */
	g->efer = ia32e ? g->efer | EFER_LMA : g->efer & ~EFER_LMA;
	if (g->cr0 & CR0_PG)
		g->efer = ia32e ? g->efer | EFER_LME : g->efer & ~EFER_LME;
}

/* SDM 27.3.2.1 "Loading Guest Control Registers, Debug Registers, and MSRs" */
static void load_control_regs(const struct vmcs *v, const struct vmx_ctls *c, struct cpu_state *g)
{
	g->cr0 = (g->cr0 & CR0_ENTRY_KEEP) | (VF(v, GUEST_CR0) & ~CR0_ENTRY_KEEP);
	g->cr3 = VF(v, GUEST_CR3);
	g->cr4 = VF(v, GUEST_CR4);
	if (c->entry & ENTRY_LOAD_DEBUG_CONTROLS) {
		g->dr7 = (VF(v, GUEST_DR7) & ~DR7_ENTRY_CLEAR) | DR7_FIXED1;
		g->debugctl = VF(v, GUEST_IA32_DEBUGCTL);
	}
	g->sysenter_cs = VF(v, GUEST_SYSENTER_CS) & UINT32_MAX;
	g->sysenter_esp = VF(v, GUEST_SYSENTER_ESP);
	g->sysenter_eip = VF(v, GUEST_SYSENTER_EIP);
	load_efer(v, c, g);
	if (c->entry & ENTRY_LOAD_PERF_GLOBAL_CTRL)
		g->perf_global_ctrl = VF(v, GUEST_IA32_PERF_GLOBAL_CTRL);
	if (c->entry & ENTRY_LOAD_IA32_PAT)
		g->pat = VF(v, GUEST_IA32_PAT);
}

/* The SDM 27.3.2.2 rules for an unusable register (other values are undefined: the fields). */
static void unusable_fixups(const struct vmx_caps *caps, unsigned i, struct cpu_segment *s)
{
	switch (i) {
	case SEG_SS:
		s->base &= ~UINT64_C(0xf) & UINT32_MAX;
		s->ar |= AR_DB;
		break;
	case SEG_DS:
	case SEG_ES: s->base &= UINT32_MAX; break;
	case SEG_LDTR: s->base = vmx_canonicalize(caps, s->base); break;
	default: break;
	}
}

/* SDM 27.3.2.2 "Loading Guest Segment Registers and Descriptor-Table Registers" */
static void load_segments(const struct vmx_cpu *cpu, const struct vmcs *v, struct cpu_state *g)
{
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		struct cpu_segment *s = &g->seg[i];

		s->selector = (uint16_t)v->f[VMCS_IDX_GUEST_ES_SELECTOR + i];
		s->base = v->f[VMCS_IDX_GUEST_ES_BASE + i];
		s->limit = (uint32_t)v->f[VMCS_IDX_GUEST_ES_LIMIT + i];
		s->ar = (uint32_t)v->f[VMCS_IDX_GUEST_ES_AR_BYTES + i];
		if ((s->ar & AR_UNUSABLE) && i != SEG_CS && i != SEG_TR)
			unusable_fixups(&cpu->caps, i, s);
	}
	g->gdtr.base = VF(v, GUEST_GDTR_BASE);
	g->gdtr.limit = (uint32_t)VF(v, GUEST_GDTR_LIMIT);
	g->idtr.base = VF(v, GUEST_IDTR_BASE);
	g->idtr.limit = (uint32_t)VF(v, GUEST_IDTR_LIMIT);
}

/* SDM 27.3.2.4: with PAE paging, the PDPTEs come from the VMCS with EPT, from the table CR3
 * bits 31:5 locate without. */
static void load_pdptes(const struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                        struct cpu_state *g)
{
	bool pae = (g->cr0 & CR0_PG) && (g->cr4 & CR4_PAE) && !(c->entry & ENTRY_IA32E_MODE_GUEST);

	if (!pae)
		return;
	for (unsigned i = 0; i < 4; i++) {
		if (c->proc2 & PROC2_ENABLE_EPT)
			g->pdpte[i] = v->f[VMCS_IDX_GUEST_PDPTR0 + i];
		else
			vmx_mem_read(cpu, (g->cr3 & 0xffffffe0u) + 8 * i, &g->pdpte[i], 8);
	}
	vmx_step_emit(cpu, "VM entry: PDPTEs loaded", SDM_LOAD_PDPTE, 0, g->pdpte[0]);
}

static bool inactive(uint32_t activity)
{
	return activity == CPU_ACTIVITY_SHUTDOWN || activity == CPU_ACTIVITY_WAIT_SIPI;
}

/* SDM 27.7.1 "Interruptibility State" */
static uint32_t entry_interruptibility(const struct vmcs *v, const struct vmx_event *inj,
                                       uint32_t before)
{
	uint32_t field = (uint32_t)VF(v, GUEST_INTERRUPTIBILITY_INFO);
	uint32_t state =
	    (before & CPU_INTR_BLOCK_SMI) |
	    (field & (CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS | CPU_INTR_BLOCK_NMI));

	if (inj->valid)
		state &= ~(CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS);
	/* SDM 27.6.1.1: an injected NMI leaves (virtual-)NMI blocking, as any NMI delivery does */
	if (inj->valid && inj->type == VMX_INTR_NMI)
		state |= CPU_INTR_BLOCK_NMI;
	return state;
}

/* SDM 27.7.3: which pending debug exceptions survive the entry */
static uint64_t entry_pending_dbg(const struct vmcs *v, const struct vmx_event *inj,
                                  uint32_t activity_field)
{
	bool mov_ss = (VF(v, GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS) != 0;
	bool soft = inj->type == VMX_INTR_SW_INT || inj->type == VMX_INTR_SW_EXC;

	if (inj->valid && (!soft || !mov_ss))
		return 0;
	if (!inj->valid && inactive(activity_field))
		return 0;
	return VF(v, GUEST_PENDING_DBG_EXCEPTIONS);
}

static void load_nonreg(const struct vmx_cpu *cpu, const struct vmcs *v, struct cpu_state *g,
                        struct vmx_entry_effects *fx)
{
	uint32_t field = (uint32_t)VF(v, GUEST_ACTIVITY_STATE);
	bool mov_ss;

	/* SDM 27.7.2: a vectoring entry leaves the processor active, whatever the field says */
	g->activity = fx->inject.valid ? CPU_ACTIVITY_ACTIVE : field;
	fx->activity = g->activity;
	fx->woke = fx->inject.valid && field != CPU_ACTIVITY_ACTIVE;
	g->interruptibility = entry_interruptibility(v, &fx->inject, g->interruptibility);
	g->pending_dbg = entry_pending_dbg(v, &fx->inject, field);
	mov_ss = (g->interruptibility & CPU_INTR_BLOCK_MOV_SS) != 0;
	fx->debug_trap = !mov_ss && (g->pending_dbg & (PENDING_DBG_BS | PENDING_DBG_BP)) != 0;
	vmx_step_emit(cpu, "VM entry: activity state", SDM_E_ACT, 0, g->activity);
	vmx_step_emit(cpu, "VM entry: interruptibility state", SDM_E_INTR, 0, g->interruptibility);
	if (g->pending_dbg)
		vmx_step_emit(cpu, "VM entry: pending debug exceptions", SDM_E_DBG, 0,
		              g->pending_dbg);
}

/* SDM 27.7.4 "VMX-Preemption Timer" and the TSC offset and multiplier of SDM 26.3 */
static void start_timers(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                         uint64_t tsc, struct vmx_entry_effects *fx)
{
	struct vmx_nonroot *nr = &cpu->nr;

	if (c->pin & PIN_PREEMPTION_TIMER) {
		nr->timer_active = true;
		nr->timer_value = (uint32_t)VF(v, VMX_PREEMPTION_TIMER_VALUE);
		nr->timer_shift = VMX_MISC_TIMER_SHIFT(vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_MISC));
		nr->timer_start = tsc;
		fx->timer_active = true;
		fx->timer_value = nr->timer_value;
		fx->timer_shift = nr->timer_shift;
		fx->timer_deadline = vmx_timer_deadline(tsc, nr->timer_value, nr->timer_shift);
		fx->timer_exit = nr->timer_value == 0 && fx->activity != CPU_ACTIVITY_WAIT_SIPI;
		vmx_step_emit(cpu, "VM entry: VMX-preemption timer started", SDM_E_TIMER, 0,
		              nr->timer_value);
	}
	fx->tsc_offsetting = (c->proc & PROC_USE_TSC_OFFSETTING) != 0;
	fx->tsc_offset = fx->tsc_offsetting ? VF(v, TSC_OFFSET) : 0;
	fx->tsc_scaling = fx->tsc_offsetting && (c->proc2 & PROC2_USE_TSC_SCALING);
	fx->tsc_multiplier = fx->tsc_scaling ? VF(v, TSC_MULTIPLIER) : 0;
}

/* SDM 27.3.2.5 (virtual-interrupt delivery: PPR virtualization, then evaluation) and SDM 27.7.7
 * (TPR threshold without virtual-interrupt delivery; the VM-entry checks already keep the
 * threshold at or below VTPR[7:4] when "virtualize APIC accesses" is 0). */
static void apic_entry(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                       struct vmx_entry_effects *fx)
{
	uint32_t vtpr;

	if (c->proc2 & PROC2_VIRT_INTR_DELIVERY) {
		vmx_apicv_ppr_virtualize(cpu);
		fx->vintr_recognized = vmx_apicv_evaluate(cpu);
		return;
	}
	if (!(c->proc & PROC_USE_TPR_SHADOW))
		return;
	vtpr = vmx_vapic_read(cpu, VAPIC_VTPR);
	cpu->nr.tpr_exit_pending = (VF(v, TPR_THRESHOLD) & 0xfu) > ((vtpr >> 4) & 0xfu);
	fx->tpr_threshold_exit = cpu->nr.tpr_exit_pending && !inactive(fx->activity);
	if (cpu->nr.tpr_exit_pending)
		vmx_step_emit(cpu, "VM entry: TPR below threshold", SDM_E_TPR, 0, vtpr);
}

/* The exits that may occur before the first guest instruction (SDM 27.7.5, 27.7.6, 27.7.8). */
static void entry_windows(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct cpu_state *g,
                          bool pending_mtf, struct vmx_entry_effects *fx)
{
	uint32_t blocking = g->interruptibility;
	bool sti_ss = (blocking & (CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS)) != 0;

	cpu->nr.mtf_pending =
	    pending_mtf || ((c->proc & PROC_MONITOR_TRAP_FLAG) && fx->inject.valid);
	fx->mtf_exit = cpu->nr.mtf_pending && !inactive(g->activity);
	fx->mtf_single_step = (c->proc & PROC_MONITOR_TRAP_FLAG) != 0;
	fx->intr_window_exit = (c->proc & PROC_INTR_WINDOW_EXITING) && (g->rflags & RFLAGS_IF) &&
	                       !sti_ss && !inactive(g->activity);
	fx->nmi_window_exit = (c->proc & PROC_NMI_WINDOW_EXITING) &&
	                      !(blocking & CPU_INTR_BLOCK_NMI) && !sti_ss &&
	                      g->activity != CPU_ACTIVITY_WAIT_SIPI;
}

bool vmx_entry_load(struct vmx_cpu *cpu, uint64_t tsc, struct cpu_state *guest,
                    struct vmx_entry_effects *fx)
{
	struct vmcs *v = vmx_current(cpu);
	struct vmx_ctls c;
	bool pending_mtf;

	if (!v)
		return false;
	memset(fx, 0, sizeof(*fx));
	memset(&cpu->nr, 0, sizeof(cpu->nr));
	cpu->nr.active = true;
	vmx_ctls_of(v, &c);
	load_control_regs(v, &c, guest);
	load_segments(cpu, v, guest);
	guest->rip = VF(v, GUEST_RIP);
	guest->gpr[GPR_RSP] = VF(v, GUEST_RSP);
	guest->rflags = VF(v, GUEST_RFLAGS);
	load_pdptes(cpu, v, &c, guest);
	vmx_step_emit(cpu, "VM entry: guest state loaded", SDM_LOAD_SEG, 0, guest->rip);
	vmx_entry_injection(v, &fx->inject, &pending_mtf);
	load_nonreg(cpu, v, guest, fx);
	fx->msr_load_addr = VF(v, VM_ENTRY_MSR_LOAD_ADDR);
	fx->msr_load_count = (uint32_t)VF(v, VM_ENTRY_MSR_LOAD_COUNT);
	start_timers(cpu, v, &c, tsc, fx);
	apic_entry(cpu, v, &c, fx);
	entry_windows(cpu, &c, guest, pending_mtf, fx);
	if (fx->inject.valid)
		vmx_step_emit(cpu, "VM entry: event injection", SDM_INJECT, fx->inject.vector,
		              vmx_event_intr_info(&fx->inject));
	return true;
}
