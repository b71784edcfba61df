/* One vCPU: the execution loop inside a slice (root mode calls the algorithm, guest mode runs the
 * backend) and the per-vCPU services an algorithm calls. The generic virtualization hardware that
 * decides and records exits is vcpu_hw.c; VMX, when present, replaces its decisions, not this
 * loop. */
#include "vm_int.h"
#include "vmx_hw.h"

#include <stdio.h>
#include <string.h>

#define CODE_BASE_RIP   0x100000
#define GUEST_STEPS_MAX 1000000 /* loop iterations per slice: bounds zero-time exit loops */

static void *create_backend(hvsim_vm *vm, hvsim_vcpu *v, struct hvsim_error *err)
{
	const struct hvsim_scenario *sc = vm->sc;
	void *ctx;

	if (!vm->code_guest) {
		v->be = &script_backend_ops;
		ctx = script_backend_create(&sc->guest.script, CODE_BASE_RIP, &vm->mach);
		if (!ctx)
			hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
		return ctx;
	}
	v->be = &uc_backend_ops;
	return uc_backend_create(&vm->mach, sc->guest.mode, sc->guest.entry, v->index, err);
}

enum hvsim_status vcpu_init(hvsim_vm *vm, hvsim_vcpu *v, unsigned index, struct hvsim_error *err)
{
	v->vm = vm;
	v->index = index;
	v->state = VS_ROOT;
	v->pending_vector = -1;
	v->tsc_multiplier = UINT64_C(1) << 48;
	v->be_ctx = create_backend(vm, v, err);
	if (!v->be_ctx)
		return err->status ? err->status : HVSIM_E_NOMEM;
	hvsim_vcpu_set_intercepts(v, HVSIM_INTERCEPT_ALL);
	return HVSIM_OK;
}

void vcpu_fini(hvsim_vcpu *v)
{
	if (v->be && v->be_ctx)
		v->be->destroy(v->be_ctx);
	v->be_ctx = NULL;
}

bool vcpu_runnable(const hvsim_vcpu *v)
{
	return v->state == VS_ROOT || v->state == VS_GUEST;
}

void vcpu_emit(hvsim_vcpu *v, const char *ev, uint8_t level, const char *key, const char *val)
{
	struct trace_ev e;

	trace_ev_init(&e, v->now, (int32_t)v->index, ev);
	e.level = level;
	if (key)
		trace_ev_str(&e, key, val);
	vm_emit(v->vm, &e);
}

static void deliver_pending(hvsim_vcpu *v)
{
	struct trace_ev e;
	uint8_t vector = (uint8_t)v->pending_vector;

	if (v->pending_vector < 0 || !v->be->interruptible(v->be_ctx))
		return;
	v->pending_vector = -1;
	trace_ev_init(&e, v->now, (int32_t)v->index, "inject");
	trace_ev_hex(&e, "vector", vector);
	vm_emit(v->vm, &e);
	if (v->be->deliver(v->be_ctx, vector, BE_EV_EXTINT, false, 0) != HVSIM_OK)
		vm_finding(v->vm, (int32_t)v->index, v->now, "guest_fault",
		           "the guest could not take an interrupt");
}

static void guest_done(hvsim_vcpu *v, const char *why)
{
	v->state = VS_DONE;
	vcpu_emit(v, "guest_done", TRACE_GOLDEN, why ? "detail" : NULL, why);
}

void vcpu_guest_stop(hvsim_vcpu *v, enum be_stop st, const char *why)
{
	if (st == BE_DONE) {
		guest_done(v, NULL);
		return;
	}
	vm_finding(v->vm, (int32_t)v->index, v->now,
	           st == BE_FAULT ? "guest_fault" : "guest_bad_access", why);
	guest_done(v, why);
}

/* A fetch from an MMIO region, or an access there by an instruction other than MOV, that no VM
 * exit took (no EPT, or a vCPU outside VMX non-root operation): no device supplies instructions
 * and hvsim emulates no other instruction, so the vCPU ends. */
void vcpu_mmio_stop(hvsim_vcpu *v, const struct guest_op *op)
{
	char why[96];

	if (op->u.mmio.fetch) {
		snprintf(why, sizeof(why), "instruction fetch from MMIO at 0x%llx",
		         (unsigned long long)op->u.mmio.gpa);
		vcpu_guest_stop(v, BE_BAD_ACCESS, why);
		return;
	}
	snprintf(why, sizeof(why),
	         "an MMIO access by an instruction other than MOV (not emulated) at rip 0x%llx",
	         (unsigned long long)op->rip);
	vcpu_guest_stop(v, BE_FAULT, why);
}

static void run_guest(hvsim_vcpu *v)
{
	hvsim_vm *vm = v->vm;
	uint32_t insn_ns = vm->sc->machine.insn_ns;
	uint64_t budget = (vm->slice_end - v->now + insn_ns - 1) / insn_ns, retired = 0;
	uint64_t left = vm->sc->limits.instructions - vm->sum.instructions;
	const char *why = NULL;
	struct guest_op op;
	enum be_stop st;

	if (budget > left)
		budget = left;
	if (budget == 0) {
		vm_finding(vm, (int32_t)v->index, v->now, "budget_exhausted", "limit instructions");
		vm_end(vm, "limit instructions");
		return;
	}
	if (v->nonroot) {
		vmx_run_guest(v, budget);
		return;
	}
	deliver_pending(v);
	st = v->be->run(v->be_ctx, budget, &op, &retired, &why);
	v->now += retired * insn_ns;
	v->insns += retired;
	vm->sum.instructions += retired;
	if (st == BE_OP)
		vcpu_hw_op(v, &op);
	else if (st != BE_BUDGET)
		vcpu_guest_stop(v, st, why);
}

static void run_root(hvsim_vcpu *v)
{
	hvsim_vm *vm = v->vm;
	uint64_t exits = v->vmx_exits;
	enum hvsim_status st = vm->hv->vcpu_run(vm->hv_priv, v);

	/* An exit is handled once, by the call that follows it; a VM exit during the call (an event
	 * delivery that faulted at entry, a failed entry) is for the next call. */
	v->has_exit = false;
	if (v->vmx_exits == exits)
		v->vmx_exited = false;
	if (st != HVSIM_OK) {
		vm_finding(vm, (int32_t)v->index, v->now, "hv_error", "vcpu_run returned an error");
		v->state = VS_DONE;
		return;
	}
	if (v->state != VS_ROOT) {
		v->idle_calls = 0;
		return;
	}
	if (++v->idle_calls >= HV_IDLE_CALLS_MAX) {
		vm_finding(vm, (int32_t)v->index, v->now, "hv_error",
		           "vcpu_run keeps returning without entering, blocking or stopping");
		v->state = VS_DONE;
	}
}

void vcpu_run_slice(hvsim_vcpu *v)
{
	hvsim_vm *vm = v->vm;
	unsigned steps = 0;

	if (v->now < vm->now)
		v->now = vm->now;
	vm->ctx_vcpu = v;
	while (v->now < vm->slice_end && vm->state == HVSIM_VM_RUNNING &&
	       steps++ < GUEST_STEPS_MAX) {
		if (v->state == VS_ROOT)
			run_root(v);
		else if (v->state == VS_GUEST)
			run_guest(v);
		else
			break;
	}
	vm->ctx_vcpu = NULL;
}

/* ---- services for algorithms ---- */

unsigned hvsim_vcpu_index(const hvsim_vcpu *v)
{
	return v->index;
}

hvsim_vm *hvsim_vcpu_vm(hvsim_vcpu *v)
{
	return v->vm;
}

void *hvsim_vcpu_priv(const hvsim_vcpu *v)
{
	return v->priv;
}

void hvsim_vcpu_set_priv(hvsim_vcpu *v, void *priv)
{
	v->priv = priv;
}

uint64_t hvsim_vcpu_now(const hvsim_vcpu *v)
{
	return v->now;
}

uint64_t hvsim_vcpu_instructions(const hvsim_vcpu *v)
{
	return v->insns;
}

uint64_t hvsim_vcpu_gpr(hvsim_vcpu *v, unsigned gpr)
{
	return v->be->get_gpr(v->be_ctx, gpr);
}

void hvsim_vcpu_set_gpr(hvsim_vcpu *v, unsigned gpr, uint64_t value)
{
	v->be->set_gpr(v->be_ctx, gpr, value);
}

uint64_t hvsim_vcpu_rip(hvsim_vcpu *v)
{
	return v->be->get_rip(v->be_ctx);
}

void hvsim_vcpu_set_rip(hvsim_vcpu *v, uint64_t rip)
{
	v->be->set_rip(v->be_ctx, rip);
}

uint64_t hvsim_vcpu_rflags(hvsim_vcpu *v)
{
	return v->be->get_rflags(v->be_ctx);
}

const struct hvsim_exit *hvsim_vcpu_exit(const hvsim_vcpu *v)
{
	return v->has_exit ? &v->exit : NULL;
}

enum hvsim_status hvsim_vcpu_enter(hvsim_vcpu *v)
{
	struct trace_ev e;

	if (v->state != VS_ROOT)
		return HVSIM_E_INPUT;
	if (v->exit_cost_due)
		v->now += v->vm->sc->machine.exit_ns;
	v->exit_cost_due = false;
	v->state = VS_GUEST;
	trace_ev_init(&e, v->now, (int32_t)v->index, "entry");
	e.level = TRACE_VERBOSE;
	vm_emit(v->vm, &e);
	return HVSIM_OK;
}

static void wake(hvsim_vcpu *v, uint8_t state)
{
	hvsim_vm *vm = v->vm;

	v->state = state;
	v->now = vm_ctx_now(vm) > v->now ? vm_ctx_now(vm) : v->now;
	vcpu_emit(v, "wake", TRACE_VERBOSE, NULL, NULL);
}

enum hvsim_status hvsim_vcpu_inject(hvsim_vcpu *v, uint8_t vector)
{
	if (vector < 16)
		return HVSIM_E_INPUT;
	v->pending_vector = vector;
	if (v->state == VS_HALTED)
		wake(v, VS_GUEST); /* an interrupt ends HLT (SDM Vol. 2 "HLT") */
	return HVSIM_OK;
}

bool hvsim_vcpu_interruptible(hvsim_vcpu *v)
{
	return v->be->interruptible(v->be_ctx) && v->pending_vector < 0;
}

void hvsim_vcpu_block(hvsim_vcpu *v)
{
	if (v->state != VS_ROOT)
		return;
	v->state = VS_BLOCKED;
	vcpu_emit(v, "block", TRACE_VERBOSE, NULL, NULL);
}

void hvsim_vcpu_kick(hvsim_vcpu *v)
{
	if (v->nonroot)
		vmx_kick(v);
	else if (v->state == VS_BLOCKED || v->state == VS_HALTED)
		wake(v, VS_ROOT);
}

bool hvsim_vcpu_in_root(const hvsim_vcpu *v)
{
	return v->state == VS_ROOT;
}

void hvsim_vcpu_stop(hvsim_vcpu *v, const char *reason)
{
	if (v->state == VS_DONE)
		return;
	v->state = VS_DONE;
	vcpu_emit(v, "vcpu_stop", TRACE_GOLDEN, "reason", reason ? reason : "");
}
