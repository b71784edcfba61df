/* Events in VMX non-root operation (SDM 26.2 "Other Causes of VM Exits", 26.5 features, 27.7
 * special features of VM entry): at an instruction boundary, the highest-priority of INIT, SIPI,
 * the post-entry TPR-threshold exit, a pending MTF exit, the VMX-preemption timer, the NMI window,
 * an NMI, the interrupt window or virtual-interrupt delivery, and an external interrupt (with
 * acknowledge-on-exit and posted-interrupt processing, SDM 30.6); exceptions against the
 * exception bitmap. Choices where the SDM leaves it to the implementation (SDM 26.4.1): with NMI
 * exiting, MOV-SS blocking blocks NMIs and STI blocking does not; with external-interrupt
 * exiting, neither blocks external interrupts; STI blocking prevents NMI-window exits. SMIs,
 * pending debug exceptions (the owner delivers #DB) and machine checks are not modelled. */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define VEC_DB       1
#define VEC_NMI      2
#define VEC_PF       14
#define DB_QUAL_MASK UINT64_C(0x600f) /* B3-B0, BD, BS (SDM 28.2.1) */

static bool inactive(uint32_t activity)
{
	return activity == CPU_ACTIVITY_SHUTDOWN || activity == CPU_ACTIVITY_WAIT_SIPI;
}

static void ev_exit(struct vmx_event_result *out, uint32_t reason, uint64_t qual)
{
	memset(&out->exit, 0, sizeof(out->exit));
	out->action = VMX_EV_EXIT;
	out->exit.reason = reason;
	out->exit.qual = qual;
}

static void ev_deliver(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct cpu_state *g,
                       struct vmx_event_result *out, uint8_t type, uint8_t vector)
{
	out->action = VMX_EV_DELIVER;
	out->event.valid = true;
	out->event.type = type;
	out->event.vector = vector;
	out->wake = g->activity != CPU_ACTIVITY_ACTIVE;
	/* SDM 26.5.2: an MTF VM exit is pending after the delivery of an event */
	if (c->proc & PROC_MONITOR_TRAP_FLAG)
		cpu->nr.mtf_pending = true;
}

/* INIT, SIPI, TPR threshold after entry, MTF, preemption timer: the events above NMIs. */
static bool high_events(struct vmx_cpu *cpu, const struct cpu_state *g, uint64_t tsc,
                        const struct vmx_pending *pend, struct vmx_event_result *out)
{
	struct vmx_nonroot *nr = &cpu->nr;
	uint32_t act = g->activity;
	uint64_t deadline;

	if (nr->tpr_exit_pending && !inactive(act)) { /* SDM 27.7.7 */
		nr->tpr_exit_pending = false;
		ev_exit(out, EXIT_REASON_TPR_BELOW_THRESHOLD, 0);
	} else if (pend->init && act != CPU_ACTIVITY_WAIT_SIPI) { /* SDM 26.2 INIT signals */
		ev_exit(out, EXIT_REASON_INIT_SIGNAL, 0);
	} else if (pend->sipi && act == CPU_ACTIVITY_WAIT_SIPI) { /* SDM 26.2 start-up IPIs */
		ev_exit(out, EXIT_REASON_SIPI, pend->sipi_vector);
	} else if (pend->sipi) { /* SDM 27.7.2: the other activity states discard SIPIs */
		out->action = VMX_EV_DISCARD_SIPI;
	} else if (nr->mtf_pending && !inactive(act)) { /* SDM 26.5.2, 27.7.8 */
		nr->mtf_pending = false;
		ev_exit(out, EXIT_REASON_MONITOR_TRAP_FLAG, 0);
	} else if (vmx_preemption_timer_deadline(cpu, &deadline) && tsc >= deadline &&
	           act != CPU_ACTIVITY_WAIT_SIPI) { /* SDM 26.5.1 */
		nr->timer_active = false;
		ev_exit(out, EXIT_REASON_PREEMPTION_TIMER, 0);
	} else {
		return false;
	}
	return true;
}

/* SDM 26.2 NMI-window exiting and NMIs (NMI exiting, virtual NMIs, blocking by NMI). */
static bool nmi_events(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct cpu_state *g,
                       const struct vmx_pending *pend, struct vmx_event_result *out)
{
	uint32_t blk = g->interruptibility;
	bool nmi_blocked = (blk & CPU_INTR_BLOCK_NMI) != 0;

	if (g->activity == CPU_ACTIVITY_WAIT_SIPI)
		return false;
	if ((c->proc & PROC_NMI_WINDOW_EXITING) && !nmi_blocked &&
	    !(blk & (CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS))) {
		ev_exit(out, EXIT_REASON_NMI_WINDOW, 0);
		return true;
	}
	if (!pend->nmi || (blk & CPU_INTR_BLOCK_MOV_SS))
		return false;
	if (c->pin & PIN_NMI_EXITING) {
		/* SDM 27.7.1: with virtual NMIs, bit 3 is virtual-NMI blocking, not NMI blocking */
		if (nmi_blocked && !(c->pin & PIN_VIRTUAL_NMIS))
			return false;
		ev_exit(out, EXIT_REASON_EXCEPTION_NMI, 0);
		out->exit.intr_info = VEC_NMI | (VMX_INTR_NMI << 8) | VMX_INTR_INFO_VALID;
		return true;
	}
	if (nmi_blocked)
		return false;
	ev_deliver(cpu, c, g, out, VMX_INTR_NMI, VEC_NMI);
	return true;
}

/* SDM 26.2 interrupt-window exiting, SDM 30.2.2 virtual-interrupt delivery, external
 * interrupts. */
static bool intr_events(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct cpu_state *g,
                        const struct vmx_pending *pend, struct vmx_event_result *out)
{
	bool open = (g->rflags & RFLAGS_IF) &&
	            !(g->interruptibility & (CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_MOV_SS)) &&
	            !inactive(g->activity);
	bool intwin = (c->proc & PROC_INTR_WINDOW_EXITING) != 0;
	int vector;

	if (intwin && open) {
		ev_exit(out, EXIT_REASON_INTERRUPT_WINDOW, 0);
		return true;
	}
	if ((c->proc2 & PROC2_VIRT_INTR_DELIVERY) && !intwin && open &&
	    (vector = vmx_apicv_deliver(cpu)) >= 0) {
		ev_deliver(cpu, c, g, out, VMX_INTR_EXT, (uint8_t)vector);
		return true;
	}
	if (!pend->extint || inactive(g->activity))
		return false;
	if ((c->pin & PIN_EXT_INTR_EXITING) && !(c->exit & EXIT_ACK_INTR_ON_EXIT)) {
		ev_exit(out, EXIT_REASON_EXTERNAL_INTERRUPT, 0);
		out->extint_remains = true;
		return true;
	}
	if (!(c->pin & PIN_EXT_INTR_EXITING) && !open)
		return false;
	out->action = VMX_EV_ACK_EXTINT;
	return true;
}

void vmx_event_exits(struct vmx_cpu *cpu, const struct cpu_state *guest, uint64_t tsc,
                     const struct vmx_pending *pend, struct vmx_event_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	memset(out, 0, sizeof(*out));
	if (!v)
		return;
	vmx_ctls_of(v, &c);
	if (!high_events(cpu, guest, tsc, pend, out) && !nmi_events(cpu, &c, guest, pend, out))
		intr_events(cpu, &c, guest, pend, out);
}

/* After the interrupt controller was acknowledged: SDM 30.6 steps 2-7 when the vector is the
 * posted-interrupt notification vector, else the exit with the vector (SDM 28.2.2) or the
 * delivery through the guest IDT. */
void vmx_extint_ack(struct vmx_cpu *cpu, uint8_t vector, const struct cpu_state *guest,
                    struct vmx_event_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	memset(out, 0, sizeof(*out));
	if (!v)
		return;
	vmx_ctls_of(v, &c);
	if (!(c.pin & PIN_EXT_INTR_EXITING)) {
		ev_deliver(cpu, &c, guest, out, VMX_INTR_EXT, vector);
		return;
	}
	if ((c.pin & PIN_POSTED_INTERRUPTS) && vector == (uint8_t)VF(v, POSTED_INTR_NV)) {
		vmx_step_emit(cpu, "posted-interrupt notification vector", SDM_APIC_PI, vector, 0);
		vmx_apicv_posted_interrupt(cpu);
		out->eoi_physical = true;
		return;
	}
	ev_exit(out, EXIT_REASON_EXTERNAL_INTERRUPT, 0);
	out->exit.intr_info = vector | (VMX_INTR_EXT << 8) | VMX_INTR_INFO_VALID;
}

void vmx_nonroot_retired(struct vmx_cpu *cpu, uint64_t count)
{
	const struct vmcs *v = vmx_current_const(cpu);

	if (v && count && cpu->nr.active &&
	    (VF(v, CPU_BASED_VM_EXEC_CONTROL) & PROC_MONITOR_TRAP_FLAG))
		cpu->nr.mtf_pending = true;
}

void vmx_proc_controls(const struct vmx_cpu *cpu, uint32_t *proc, uint32_t *proc2)
{
	const struct vmcs *v = vmx_current_const(cpu);

	*proc = v ? (uint32_t)VF(v, CPU_BASED_VM_EXEC_CONTROL) : 0;
	*proc2 =
	    v && (*proc & PROC_ACTIVATE_SECONDARY) ? (uint32_t)VF(v, SECONDARY_VM_EXEC_CONTROL) : 0;
}

/* SDM 26.2 "Exceptions": the exception bitmap, with the #PF error-code mask/match reversal */
static bool bitmap_exits(const struct vmcs *v, const struct vmx_exception *e)
{
	bool exits = (VF(v, EXCEPTION_BITMAP) >> (e->vector & 31u)) & 1u;
	uint32_t mask = (uint32_t)VF(v, PAGE_FAULT_ERROR_CODE_MASK);
	uint32_t match = (uint32_t)VF(v, PAGE_FAULT_ERROR_CODE_MATCH);

	if (e->vector == VEC_PF && (e->error_code & mask) != match)
		exits = !exits;
	return exits;
}

/* SDM 28.2.2 "Information for VM Exits Due to Vectored Events" and the qualifications of
 * SDM 28.2.1 (#PF: linear address; #DB: B3-B0, BD, BS). */
bool vmx_exception_exits(const struct vmx_cpu *cpu, const struct vmx_exception *e,
                         struct vmx_exit_info *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	uint32_t type = e->software ? VMX_INTR_SW_EXC : VMX_INTR_HW_EXC;

	memset(out, 0, sizeof(*out));
	if (!v || e->vector > 31 || !bitmap_exits(v, e))
		return false;
	out->reason = EXIT_REASON_EXCEPTION_NMI;
	out->intr_info = e->vector | (type << 8) | VMX_INTR_INFO_VALID;
	if (e->has_error) {
		out->intr_info |= VMX_INTR_INFO_DELIVER_CODE;
		out->intr_error = e->error_code;
	}
	if (e->nmi_unblock_iret)
		out->intr_info |= VMX_INTR_INFO_NMI_UNBLOCK;
	if (e->vector == VEC_PF)
		out->qual = e->pf_addr;
	else if (e->vector == VEC_DB)
		out->qual = e->dr6 & DB_QUAL_MASK;
	if (e->software && e->insn_len) {
		out->has_insn_len = true;
		out->insn_len = e->insn_len;
	}
	return true;
}
