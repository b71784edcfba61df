/* VMX non-root operation in the vCPU loop, following the VMX model's calling contract
 * (docs/vmx-model.md "Runtime"): after VMLAUNCH/VMRESUME pass their checks the guest state is
 * loaded from the VMCS into the backend and the injected event is delivered; at every stop of the
 * guest (an operation, a budget boundary, an event) the model decides what the processor does; a VM
 * exit saves the state back into the VMCS and returns the vCPU to its algorithm.
 *
 * What the engine keeps beside the backend: a cpu_state mirror (vmx_guest) for the state the
 * backend does not hold (segments, EFER, PAT, activity, interruptibility); segment registers are
 * not reloaded into the backend at entry (the algorithms hvsim has keep the boot segments). Not
 * modelled: the MSR-load lists' effect on guest MSRs (there is no guest MSR file), STI and MOV-SS
 * shadows (interruptibility is taken as 0), exceptions raised during event delivery other than
 * an access to a page without memory (an EPT violation with IDT-vectoring information), VMREAD
 * and VMWRITE of a shadow VMCS (VMCS shadowing). */
#include "vmx_hw.h"
#include "vmx_shadow_int.h"

#include <hvsim/clock.h>
#include <hvsim/hv_vmx.h>
#include <hvsim/vmx_ctrl.h>
#include <hvsim/vmx_runtime.h>

#include <stdio.h>
#include <string.h>

#define RFLAGS_IF_BIT    (UINT64_C(1) << 9)
#define HOST_KICK_VECTOR 0xf2 /* the host IPI that kicks a vCPU out (KVM's POSTED_INTR_VECTOR) */
#define X2APIC_EOI_MSR   0x80bu
#define XAPIC_EOI_OFFSET 0xb0u
#define FRAME_BYTES      40 /* SS, RSP, RFLAGS, CS, RIP (SDM 6.14.2) */
#define ERROR_CODE_BYTES 8

static uint64_t tsc_now(const hvsim_vcpu *v)
{
	return sim_ns_to_tsc(v->now, v->vm->sc->machine.tsc_khz);
}

/* The mirror with the backend's registers the VMX model reads copied in. Control registers are the
 * mirror's own: every guest write to them stops the backend (GOP_CR), and Unicorn's CPU model drops
 * bits it does not implement (CR4.VMXE), so the mirror, not the backend, holds the architectural
 * values. */
static void sync_from_backend(hvsim_vcpu *v)
{
	struct cpu_state *g = &v->vmx_guest;

	/* the VMX model reads RSP (saving guest state, SDM 28.3.3) and RSI/RDI (the guest-linear
	 * address of INS/OUTS, SDM 28.2.1); the backend holds the other GPRs, and reading all 16
	 * at every event check was 3% of a scripted run */
	g->gpr[GPR_RSP] = v->be->get_gpr(v->be_ctx, GPR_RSP);
	g->gpr[GPR_RSI] = v->be->get_gpr(v->be_ctx, GPR_RSI);
	g->gpr[GPR_RDI] = v->be->get_gpr(v->be_ctx, GPR_RDI);
	g->rip = v->be->get_rip(v->be_ctx);
	g->rflags = v->be->get_rflags(v->be_ctx);
}

/* Writes a control register into the backend when it differs from what was last written there (the
 * backend may not read back what it was given: Unicorn drops CR4.VMXE), sparing TLB flushes. */
static void set_cr_if_changed(hvsim_vcpu *v, unsigned slot, unsigned cr, uint64_t value)
{
	if (!v->be->set_cr || (v->vmx_be_cr_valid & (1u << slot) && v->vmx_be_cr[slot] == value))
		return;
	v->be->set_cr(v->be_ctx, cr, value);
	v->vmx_be_cr[slot] = value;
	v->vmx_be_cr_valid |= 1u << slot;
}

/* The loaded guest state goes into the backend: what the processor would now execute with. */
static void sync_to_backend(hvsim_vcpu *v)
{
	const struct cpu_state *g = &v->vmx_guest;

	v->be->set_gpr(v->be_ctx, GPR_RSP, g->gpr[GPR_RSP]);
	v->be->set_rip(v->be_ctx, g->rip);
	v->be->set_rflags(v->be_ctx, g->rflags);
	set_cr_if_changed(v, 0, 0, g->cr0);
	set_cr_if_changed(v, 1, 3, g->cr3);
	set_cr_if_changed(v, 2, 4, g->cr4);
}

static void emit_inject(hvsim_vcpu *v, const struct vmx_event *ev, bool virtual)
{
	struct trace_ev e;

	trace_ev_init(&e, v->now, (int32_t)v->index, "inject");
	trace_ev_hex(&e, "vector", ev->vector);
	if (ev->type != VMX_INTR_EXT)
		trace_ev_num(&e, "type", ev->type);
	if (virtual)
		trace_ev_bool(&e, "virtual", true);
	vm_emit(v->vm, &e);
}

/* First guest-physical address in [lo, hi) inside an MMIO region (no memory behind it), or 0. */
static uint64_t unbacked(const hvsim_vm *vm, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < SIM_MMIO_MAX; i++) {
		const struct sim_mmio_region *r = &vm->mach.mmio[i];

		if (r->size && lo < r->gpa + r->size && r->gpa < hi)
			return lo > r->gpa ? lo : r->gpa;
	}
	return 0;
}

/* An unbacked page where delivering ev reads its IDT gate (first, SDM 6.12.1) or pushes its frame
 * (64-bit interrupt gate, no IST: SDM 6.14.2) makes the delivery itself cause an EPT violation
 * (SDM 28.2.3): the guest-physical address, with the access in *qual; 0 when there is none. */
static uint64_t delivery_fault(hvsim_vcpu *v, const struct vmx_event *ev, uint64_t *qual)
{
	uint64_t top = v->be->get_gpr(v->be_ctx, GPR_RSP) & ~UINT64_C(15);
	uint64_t bytes = FRAME_BYTES + (ev->has_error ? ERROR_CODE_BYTES : 0), la, gpa;
	unsigned len;

	*qual = VMX_EPT_READ;
	if (v->be->idt_gate && v->be->idt_gate(v->be_ctx, ev->vector, &la, &len) &&
	    (gpa = unbacked(v->vm, la, la + len)) != 0)
		return gpa;
	*qual = VMX_EPT_WRITE;
	return unbacked(v->vm, top - bytes, top);
}

static void vmx_do_exit(hvsim_vcpu *v, struct vmx_exit_info *x, const struct guest_op *op);

static void deliver(hvsim_vcpu *v, const struct vmx_event *ev, bool virtual)
{
	struct vmx_exit_info x;
	uint64_t qual, gpa = delivery_fault(v, ev, &qual);

	if (gpa) {
		memset(&x, 0, sizeof(x));
		x.reason = EXIT_REASON_EPT_VIOLATION;
		x.qual = qual;
		x.has_phys = true;
		x.guest_phys = gpa;
		x.idt_vectoring_info = vmx_event_intr_info(ev);
		x.idt_vectoring_error = ev->error_code;
		vmx_do_exit(v, &x, NULL);
		return;
	}
	if (ev->type == VMX_INTR_SW_INT || ev->type == VMX_INTR_SW_EXC ||
	    ev->type == VMX_INTR_PRIV_SW_EXC)
		v->be->set_rip(v->be_ctx, v->be->get_rip(v->be_ctx) + ev->insn_len);
	emit_inject(v, ev, virtual);
	if (v->be->deliver(v->be_ctx, ev->vector, ev->type, ev->has_error, ev->error_code) !=
	    HVSIM_OK) {
		vm_finding(v->vm, (int32_t)v->index, v->now, "guest_fault",
		           "the guest's IDT could not take an event");
		v->state = VS_DONE;
	}
}

static void arm_preemption_timer(hvsim_vcpu *v)
{
	uint64_t deadline;

	if (v->vmx_timer)
		sim_evq_cancel(v->vm->evq, v->vmx_timer);
	v->vmx_timer = 0;
	if (vmx_preemption_timer_deadline(v->vmx, &deadline))
		v->vmx_timer =
		    vm_schedule(v->vm, sim_tsc_to_ns(deadline, v->vm->sc->machine.tsc_khz),
		                VMEV_VMX_TIMER, (int32_t)v->index, 0);
}

static void enter_nonroot(hvsim_vcpu *v)
{
	struct vmx_entry_effects fx;

	sync_from_backend(v);
	if (!vmx_entry_load(v->vmx, tsc_now(v), &v->vmx_guest, &fx))
		return;
	sync_to_backend(v);
	if (v->exit_cost_due)
		v->now += v->vm->sc->machine.exit_ns;
	v->exit_cost_due = false;
	v->nonroot = true;
	v->vmx_exited = false;
	v->vmx_has_op = false;
	v->state = VS_GUEST;
	if (v->be->set_stop_mask)
		v->be->set_stop_mask(v->be_ctx, HVSIM_INTERCEPT_ALL);
	vcpu_emit(v, "entry", TRACE_VERBOSE, NULL, NULL);
	arm_preemption_timer(v);
	if (fx.inject.valid)
		deliver(v, &fx.inject, false);
	else if (fx.activity == ACTIVITY_HLT)
		v->state = VS_HALTED;
}

void vmx_run_after_entry(hvsim_vcpu *v, const struct vmx_result *res)
{
	struct vmx_exit_info x;

	if (v->state != VS_ROOT) /* stopped or blocked by the algorithm: nothing to enter */
		return;
	if (res->outcome == VMX_ENTERED) {
		enter_nonroot(v);
	} else if (res->outcome == VMX_ENTRY_FAIL_EXIT) {
		memset(&x, 0, sizeof(x));
		x.reason = res->exit_reason;
		x.qual = res->exit_qual;
		sync_from_backend(v);
		vmx_do_exit(v, &x, NULL);
	}
}

/* ---- the exit ---- */

static void emit_exit(hvsim_vcpu *v, const struct vmx_exit_info *x, const struct guest_op *op)
{
	struct trace_ev e;
	unsigned reason = x->reason & 0xffff;

	trace_ev_init(&e, v->now, (int32_t)v->index, "exit");
	trace_ev_str(&e, "reason", hvsim_exit_reason_name(reason));
	trace_ev_hex(&e, "rip", op ? op->rip : v->vmx_guest.rip);
	if (x->reason & VMX_EXIT_REASON_ENTRY_FAIL)
		trace_ev_bool(&e, "entry_failure", true);
	if (op)
		vcpu_exit_fields(&e, op);
	else if (x->qual)
		trace_ev_hex(&e, "qual", x->qual);
	if (x->idt_vectoring_info & VMX_INTR_INFO_VALID)
		trace_ev_hex(&e, "idt_vectoring", x->idt_vectoring_info);
	vm_emit(v->vm, &e);
}

static void vmx_do_exit(hvsim_vcpu *v, struct vmx_exit_info *x, const struct guest_op *op)
{
	hvsim_vm *vm = v->vm;
	struct vmx_exit_effects fx;
	char why[64];

	sync_from_backend(v);
	if (op && !x->trap_like)
		v->vmx_guest.rip = op->rip;
	if (!vmx_exit(v->vmx, x, &v->vmx_guest, tsc_now(v), &fx))
		return;
	if (v->vmx_timer)
		sim_evq_cancel(vm->evq, v->vmx_timer);
	v->vmx_timer = 0;
	v->nonroot = false;
	v->vmx_kick = false;
	v->vmx_exited = true;
	v->vmx_exits++;
	v->vmx_has_op = op != NULL;
	if (op)
		v->vmx_op = *op;
	if (v->shadow && op && op->kind == GOP_VMX) /* L1's VMX instruction on its shadow */
		vmx_shadow_exit(v, op);
	v->exit_cost_due = true;
	v->state = VS_ROOT;
	vm->sum.exits++;
	vm->sum.exits_by_reason[(x->reason & 0xffff) < EXIT_REASON_MAX ? x->reason & 0xffff : 0]++;
	emit_exit(v, x, op);
	if (fx.abort) {
		snprintf(why, sizeof(why), "VMX abort %u (SDM 28.7)", fx.abort);
		vm_finding(vm, (int32_t)v->index, v->now, "guest_fault", why);
		hvsim_vcpu_stop(v, why);
	}
	if (vm->sum.exits >= vm->sc->limits.exits) {
		vm_finding(vm, (int32_t)v->index, v->now, "budget_exhausted", "limit exits");
		vm_end(vm, "limit exits");
	}
}

/* ---- events at an instruction boundary ---- */

static void handle_event(hvsim_vcpu *v, struct vmx_event_result *er)
{
	struct vmx_event_result ack;

	switch (er->action) {
	case VMX_EV_EXIT: vmx_do_exit(v, &er->exit, NULL); break;
	case VMX_EV_DELIVER:
		if (v->state == VS_HALTED)
			v->state = VS_GUEST;
		deliver(v, &er->event, true);
		break;
	case VMX_EV_ACK_EXTINT:
		v->vmx_kick = false;
		vmx_extint_ack(v->vmx, HOST_KICK_VECTOR, &v->vmx_guest, &ack);
		handle_event(v, &ack);
		break;
	default: break;
	}
}

/* Returns true when an event changed what runs next (an exit or a delivery). */
static bool check_events(hvsim_vcpu *v)
{
	struct vmx_pending pend = {.extint = v->vmx_kick};
	struct vmx_event_result er;

	sync_from_backend(v);
	v->vmx_guest.interruptibility = 0;
	vmx_event_exits(v->vmx, &v->vmx_guest, tsc_now(v), &pend, &er);
	handle_event(v, &er);
	return er.action != VMX_EV_NONE;
}

/* ---- guest operations ---- */

static void emit_virtual_eoi(hvsim_vcpu *v, int svi_before, bool cleared)
{
	struct trace_ev e;
	int top = vmx_vapic_highest(v->vmx, VAPIC_VISR);

	trace_ev_init(&e, v->now, (int32_t)v->index, "eoi");
	if (cleared)
		trace_ev_hex(&e, "vector", (uint64_t)svi_before);
	trace_ev_hex(&e, "isr", top < 0 ? 0 : (uint64_t)top);
	trace_ev_bool(&e, "virtual", true);
	vm_emit(v->vm, &e);
}

static bool is_eoi_write(const struct guest_op *op)
{
	return (op->kind == GOP_WRMSR && op->u.msr.index == X2APIC_EOI_MSR) ||
	       (op->kind == GOP_MMIO && op->u.mmio.write &&
	        (op->u.mmio.gpa & 0xfff) == XAPIC_EOI_OFFSET);
}

/* What the processor completed without an exit: the result, a CR write, RIP past the operation. */
static void set_mirror_cr(struct cpu_state *g, unsigned cr, uint64_t value)
{
	if (cr == 0)
		g->cr0 = value;
	else if (cr == 3)
		g->cr3 = value;
	else if (cr == 4)
		g->cr4 = value;
	else if (cr == 8)
		g->cr8 = value;
}

static void apply_done(hvsim_vcpu *v, const struct guest_op *op, const struct vmx_op_result *r)
{
	if (r->done.set_cr) {
		set_mirror_cr(&v->vmx_guest, r->done.cr, r->done.cr_value);
		if (v->be->set_cr)
			v->be->set_cr(v->be_ctx, r->done.cr, r->done.cr_value);
		v->vmx_be_cr_valid = 0; /* the backend holds a new value: compare afresh */
		/* SDM 26.3: bits the guest/host mask owns keep their value; the backend re-running
		 * the guest's own MOV would overwrite them with the source operand's */
		if (op->kind == GOP_CR && r->done.cr_value != op->u.cr.value) {
			vcpu_hw_skip(v, op);
			return;
		}
	}
	vcpu_hw_complete(v, op, r->done.has_value ? r->done.value : 0);
	if (op->kind == GOP_RDTSCP && r->done.has_aux)
		v->be->set_gpr(v->be_ctx, GPR_RCX, r->done.aux);
}

/* Not intercepted: the operation runs as on bare metal, with nothing behind MSRs and ports. */
static void execute(hvsim_vcpu *v, const struct guest_op *op)
{
	switch (op->kind) {
	case GOP_HLT:
		vcpu_hw_complete(v, op, 0);
		v->vmx_guest.activity = ACTIVITY_HLT;
		v->state = VS_HALTED;
		break;
	case GOP_RDTSC:
	case GOP_RDTSCP: vcpu_hw_complete(v, op, vmx_guest_tsc(v->vmx, tsc_now(v))); break;
	case GOP_RDRAND:
	case GOP_RDSEED: vcpu_hw_complete(v, op, sim_prng_next(&v->vm->prng)); break;
	case GOP_IO: vcpu_hw_complete(v, op, UINT64_MAX); break;
	case GOP_MMIO:
		if (vcpu_mmio_no_data(op))
			vcpu_mmio_stop(v, op);
		else
			vcpu_hw_complete(v, op, UINT64_MAX);
		break;
	case GOP_CR: /* MOV from CR reads the CPU's register (CR3 without CR3-store exiting) */
		vcpu_hw_complete(
		    v, op,
		    op->u.cr.access == CR_ACCESS_MOV_FROM_CR ? hvsim_vcpu_cr(v, op->u.cr.cr) : 0);
		break;
	default: vcpu_hw_complete(v, op, 0); break;
	}
}

/* The decoded VMX instruction as the model's struct vmx_insn: the operand fields of the VM-exit
 * instruction information (SDM 28.2.4: scaling and address size as codes, registers numbered as
 * in SDM Table 28-3). */
static void vmx_insn_from_op(const struct guest_op *op, struct vmx_insn *in)
{
	static const uint8_t ids[GVMX_COUNT] = {
	    [GVMX_VMXON] = VMX_INSN_VMXON,       [GVMX_VMXOFF] = VMX_INSN_VMXOFF,
	    [GVMX_VMCLEAR] = VMX_INSN_VMCLEAR,   [GVMX_VMPTRLD] = VMX_INSN_VMPTRLD,
	    [GVMX_VMPTRST] = VMX_INSN_VMPTRST,   [GVMX_VMREAD] = VMX_INSN_VMREAD,
	    [GVMX_VMWRITE] = VMX_INSN_VMWRITE,   [GVMX_VMLAUNCH] = VMX_INSN_VMLAUNCH,
	    [GVMX_VMRESUME] = VMX_INSN_VMRESUME, [GVMX_INVEPT] = VMX_INSN_INVEPT,
	    [GVMX_INVVPID] = VMX_INSN_INVVPID,
	};
	uint8_t scale = op->u.vmx.scale, asz = op->u.vmx.addr_size;

	memset(in, 0, sizeof(*in));
	in->id = op->u.vmx.insn < GVMX_COUNT ? ids[op->u.vmx.insn] : VMX_INSN_COUNT;
	in->len = op->len;
	in->rip = op->rip;
	in->op.mem = op->u.vmx.mem;
	in->op.scale = scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
	in->op.addr_size = asz == 2 ? 0 : asz == 4 ? 1 : 2;
	in->op.seg = op->u.vmx.seg;
	in->op.index = op->u.vmx.index;
	in->op.base = op->u.vmx.base;
	in->op.disp = op->u.vmx.disp;
	in->op.reg1 = op->u.vmx.reg1 < GPR_COUNT ? op->u.vmx.reg1 : 0;
	in->op.reg2 = op->u.vmx.reg2 < GPR_COUNT ? op->u.vmx.reg2 : 0;
	in->field = op->u.vmx.field;
}

/* SDM 26.1.2: VMX instructions exit unconditionally after their #UD checks; VMREAD/VMWRITE with
 * VMCS shadowing may instead access the shadow VMCS, which the engine does not model: false
 * then, with the vCPU stopped. */
static bool vmx_insn_op(hvsim_vcpu *v, const struct guest_op *op, struct vmx_op_result *r)
{
	struct vmx_insn in;

	vmx_insn_from_op(op, &in);
	vmx_insn_exits(v->vmx, &in, &v->vmx_guest, r);
	if (r->outcome != VMX_OP_EXECUTE)
		return true;
	vcpu_guest_stop(v, BE_FAULT,
	                "VMREAD/VMWRITE of a shadow VMCS (VMCS shadowing is not modelled)");
	return false;
}

static void handle_op(hvsim_vcpu *v, const struct guest_op *op)
{
	struct vmx_op_result r;
	int svi = vmx_apicv_svi(v->vmx);
	bool in_isr = vmx_vapic_test(v->vmx, VAPIC_VISR, (uint8_t)svi);

	sync_from_backend(v);
	if (op->kind != GOP_VMX)
		vmx_op_exits(v->vmx, op, &v->vmx_guest, tsc_now(v), &r);
	else if (!vmx_insn_op(v, op, &r))
		return;
	switch (r.outcome) {
	case VMX_OP_EXECUTE: execute(v, op); break;
	case VMX_OP_EXIT: vmx_do_exit(v, &r.exit, op); break;
	case VMX_OP_DONE:
	case VMX_OP_DONE_EXIT:
		apply_done(v, op, &r);
		if (is_eoi_write(op))
			emit_virtual_eoi(
			    v, svi, in_isr && !vmx_vapic_test(v->vmx, VAPIC_VISR, (uint8_t)svi));
		if (r.outcome == VMX_OP_DONE_EXIT)
			vmx_do_exit(v, &r.exit, op);
		break;
	default: deliver(v, &r.fault, false); break;
	}
}

/* Whether an event waits only for the guest to open a window (RFLAGS.IF, SDM 26.5.2 and 30.2.1):
 * interrupt- or NMI-window exiting, or a virtual interrupt pending in RVI. */
static bool window_armed(hvsim_vcpu *v, uint32_t proc, uint32_t proc2)
{
	if (v->be->get_rflags(v->be_ctx) & RFLAGS_IF_BIT)
		return false;
	if (proc & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING))
		return true;
	return (proc2 & PROC2_VIRT_INTR_DELIVERY) && vmx_apicv_rvi(v->vmx) != 0;
}

/* How many instructions the next run may retire. One with the monitor trap flag: an MTF VM exit
 * follows every instruction (SDM 26.5.2). While an event waits for a window, the guest stops
 * before every instruction that may set IF (arm_if_stop; one instruction at a time on a backend
 * without it), so the window exit or delivery happens at the exact boundary (after the IRET or
 * STI that opens it) rather than at the next operation. */
static uint64_t run_budget(hvsim_vcpu *v, uint64_t budget)
{
	uint32_t proc, proc2;

	vmx_proc_controls(v->vmx, &proc, &proc2);
	if (proc & PROC_MONITOR_TRAP_FLAG)
		return 1;
	if (!window_armed(v, proc, proc2))
		return budget;
	if (!v->be->arm_if_stop)
		return 1;
	v->be->arm_if_stop(v->be_ctx);
	return budget;
}

/* One step of a vCPU in VMX non-root operation: events first, then guest instructions up to the
 * next stop. */
void vmx_run_guest(hvsim_vcpu *v, uint64_t budget)
{
	hvsim_vm *vm = v->vm;
	uint32_t insn_ns = vm->sc->machine.insn_ns;
	uint64_t retired = 0;
	const char *why = NULL;
	struct guest_op op;
	enum be_stop st;

	if (check_events(v) && v->state != VS_GUEST)
		return;
	if (v->state != VS_GUEST)
		return;
	st = v->be->run(v->be_ctx, run_budget(v, budget), &op, &retired, &why);
	v->now += retired * insn_ns;
	v->insns += retired;
	vm->sum.instructions += retired;
	vmx_nonroot_retired(v->vmx, retired);
	if (st == BE_OP)
		handle_op(v, &op);
	else if (st != BE_BUDGET)
		vcpu_guest_stop(v, st, why);
}

/* A kick (host IPI) while in non-root operation: an external interrupt at the next boundary. */
void vmx_kick(hvsim_vcpu *v)
{
	v->vmx_kick = true;
	if (v->state == VS_HALTED)
		v->state = VS_GUEST;
}

/* The preemption timer's engine event: the vCPU looks at its events again. */
void vmx_timer_fired(hvsim_vcpu *v)
{
	v->vmx_timer = 0;
	if (v->nonroot && v->state == VS_HALTED)
		v->state = VS_GUEST;
}
