/* One vCPU: the execution loop inside a slice (root mode calls the algorithm, guest mode runs the
 * backend), the generic virtualization hardware (every guest_op exits), and the per-vCPU services an
 * algorithm calls. VMX, when present, replaces the generic hardware's decisions, not this loop. */
#include "vm_int.h"

#include <stdio.h>
#include <string.h>

#define CODE_BASE_RIP 0x100000
#define GUEST_STEPS_MAX 1000000 /* loop iterations per slice: bounds zero-time exit loops */

enum hvsim_status vcpu_init(hvsim_vm *vm, hvsim_vcpu *v, unsigned index, struct hvsim_error *err)
{
	const struct hvsim_scenario *sc = vm->sc;

	v->vm = vm;
	v->index = index;
	v->state = VS_ROOT;
	v->pending_vector = -1;
	if (!sc->guest.has_script)
		return hvsim_error_set(err, HVSIM_E_UNSUPPORTED,
				       "%s: $.guest: expected a script (instruction-level guests need "
				       "the Unicorn backend), found code",
				       sc->file);
	v->be = &script_backend_ops;
	v->be_ctx = script_backend_create(&sc->guest.script, CODE_BASE_RIP);
	if (!v->be_ctx)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
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

static void emit_simple(hvsim_vcpu *v, const char *ev, uint8_t level, const char *key,
			const char *val)
{
	struct trace_ev e;

	trace_ev_init(&e, v->now, (int32_t)v->index, ev);
	e.level = level;
	if (key)
		trace_ev_str(&e, key, val);
	vm_emit(v->vm, &e);
}

/* Operands a hypervisor developer reads, per exit kind (docs/trace-format.md "exit"). */
static void exit_fields(struct trace_ev *e, const struct guest_op *op)
{
	switch (op->kind) {
	case GOP_CPUID:
		trace_ev_hex(e, "leaf", op->u.cpuid.leaf);
		trace_ev_hex(e, "subleaf", op->u.cpuid.subleaf);
		break;
	case GOP_RDMSR: trace_ev_hex(e, "msr", op->u.msr.index); break;
	case GOP_WRMSR:
		trace_ev_hex(e, "msr", op->u.msr.index);
		trace_ev_hex(e, "value", op->u.msr.value);
		break;
	case GOP_IO:
		trace_ev_hex(e, "port", op->u.io.port);
		trace_ev_num(e, "size", op->u.io.size);
		trace_ev_str(e, "dir", op->u.io.in ? "in" : "out");
		if (!op->u.io.in && !op->u.io.string)
			trace_ev_hex(e, "value", op->u.io.value);
		if (op->u.io.string)
			trace_ev_bool(e, "rep", op->u.io.rep);
		break;
	case GOP_MMIO:
		trace_ev_hex(e, "gpa", op->u.mmio.gpa);
		trace_ev_num(e, "size", op->u.mmio.size);
		trace_ev_str(e, "dir", op->u.mmio.write ? "write" : "read");
		if (op->u.mmio.write)
			trace_ev_hex(e, "value", op->u.mmio.value);
		break;
	case GOP_CR:
		trace_ev_num(e, "cr", op->u.cr.cr);
		trace_ev_num(e, "access", op->u.cr.access);
		if (op->u.cr.access == CR_ACCESS_MOV_TO_CR)
			trace_ev_hex(e, "value", op->u.cr.value);
		break;
	case GOP_RDPMC: trace_ev_hex(e, "ecx", op->u.rdpmc.ecx); break;
	case GOP_VMCALL:
	case GOP_TDCALL: break;
	default: break;
	}
}

static uint16_t generic_reason(uint8_t kind)
{
	static const uint16_t reasons[GOP_KIND_MAX] = {
		[GOP_CPUID] = EXIT_REASON_CPUID,     [GOP_RDMSR] = EXIT_REASON_RDMSR,
		[GOP_WRMSR] = EXIT_REASON_WRMSR,     [GOP_RDTSC] = EXIT_REASON_RDTSC,
		[GOP_RDTSCP] = EXIT_REASON_RDTSCP,   [GOP_RDPMC] = EXIT_REASON_RDPMC,
		[GOP_HLT] = EXIT_REASON_HLT,         [GOP_PAUSE] = EXIT_REASON_PAUSE,
		[GOP_MONITOR] = EXIT_REASON_MONITOR, [GOP_MWAIT] = EXIT_REASON_MWAIT,
		[GOP_IO] = EXIT_REASON_IO_INSTRUCTION, [GOP_VMCALL] = EXIT_REASON_VMCALL,
		[GOP_VMMCALL] = EXIT_REASON_EXCEPTION_NMI, /* #UD on Intel */
		[GOP_TDCALL] = EXIT_REASON_TDCALL,   [GOP_INVLPG] = EXIT_REASON_INVLPG,
		[GOP_INVD] = EXIT_REASON_INVD,       [GOP_WBINVD] = EXIT_REASON_WBINVD,
		[GOP_XSETBV] = EXIT_REASON_XSETBV,   [GOP_CR] = EXIT_REASON_CR_ACCESS,
		[GOP_RDRAND] = EXIT_REASON_RDRAND,   [GOP_RDSEED] = EXIT_REASON_RDSEED,
		[GOP_MMIO] = EXIT_REASON_EPT_VIOLATION,
	};

	return kind < GOP_KIND_MAX ? reasons[kind] : EXIT_REASON_EXCEPTION_NMI;
}

/* Generic hardware: the operation exits with its reason and decoded operands. */
static void generic_exit(hvsim_vcpu *v, const struct guest_op *op)
{
	hvsim_vm *vm = v->vm;
	struct trace_ev e;

	v->exit.reason = generic_reason(op->kind);
	v->exit.op = *op;
	v->has_exit = true;
	v->exit_cost_due = true;
	v->state = VS_ROOT;
	vm->sum.exits++;
	vm->sum.exits_by_reason[v->exit.reason]++;
	trace_ev_init(&e, v->now, (int32_t)v->index, "exit");
	trace_ev_str(&e, "reason", hvsim_exit_reason_name(v->exit.reason));
	trace_ev_hex(&e, "rip", op->rip);
	exit_fields(&e, op);
	vm_emit(vm, &e);
	if (vm->sum.exits >= vm->sc->limits.exits) {
		vm_finding(vm, (int32_t)v->index, v->now, "budget_exhausted", "limit exits");
		vm_end(vm, "limit exits");
	}
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
	emit_simple(v, "guest_done", TRACE_GOLDEN, why ? "detail" : NULL, why);
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

	deliver_pending(v);
	if (budget > left)
		budget = left;
	if (budget == 0) {
		vm_finding(vm, (int32_t)v->index, v->now, "budget_exhausted", "limit instructions");
		vm_end(vm, "limit instructions");
		return;
	}
	st = v->be->run(v->be_ctx, budget, &op, &retired, &why);
	v->now += retired * insn_ns;
	v->insns += retired;
	vm->sum.instructions += retired;
	if (st == BE_OP)
		generic_exit(v, &op);
	else if (st == BE_DONE)
		guest_done(v, NULL);
	else if (st == BE_FAULT) {
		vm_finding(vm, (int32_t)v->index, v->now, "guest_fault", why);
		guest_done(v, why);
	}
}

static void run_root(hvsim_vcpu *v)
{
	hvsim_vm *vm = v->vm;
	enum hvsim_status st = vm->hv->vcpu_run(vm->hv_priv, v);

	v->has_exit = false; /* an exit is handled once, by the call that follows it */
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
	while (v->now < vm->slice_end && vm->state == HVSIM_VM_RUNNING && steps++ < GUEST_STEPS_MAX) {
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

/* Merges an n-byte result into a GPR the way x86 does: 8- and 16-bit writes keep the upper bits,
 * 32-bit writes zero bits 63:32 (SDM 3.4.1.1). */
static void write_sized(hvsim_vcpu *v, unsigned gpr, uint64_t value, unsigned size)
{
	uint64_t old = hvsim_vcpu_gpr(v, gpr);

	if (size == 1)
		value = (old & ~UINT64_C(0xff)) | (value & 0xff);
	else if (size == 2)
		value = (old & ~UINT64_C(0xffff)) | (value & 0xffff);
	else if (size == 4)
		value = (uint32_t)value;
	hvsim_vcpu_set_gpr(v, gpr, value);
}

void hvsim_vcpu_complete(hvsim_vcpu *v, uint64_t result)
{
	const struct guest_op *op = &v->exit.op;

	if (!v->has_exit)
		return;
	switch (op->kind) {
	case GOP_RDMSR:
	case GOP_RDTSC:
		write_sized(v, GPR_RAX, result, 4);
		write_sized(v, GPR_RDX, result >> 32, 4);
		v->exit.op.u.msr.value = result;
		break;
	case GOP_IO:
		if (op->u.io.in && !op->u.io.string)
			write_sized(v, GPR_RAX, result, op->u.io.size);
		break;
	case GOP_MMIO:
		if (!op->u.mmio.write && op->u.mmio.gpr < GPR_COUNT)
			write_sized(v, op->u.mmio.gpr, result, op->u.mmio.size);
		break;
	default: break;
	}
	hvsim_vcpu_set_rip(v, op->rip + op->len);
	v->insns++;
	v->now += v->vm->sc->machine.insn_ns;
	v->vm->sum.instructions++;
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

enum hvsim_status hvsim_vcpu_inject(hvsim_vcpu *v, uint8_t vector)
{
	if (vector < 16)
		return HVSIM_E_INPUT;
	v->pending_vector = vector;
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
	emit_simple(v, "block", TRACE_VERBOSE, NULL, NULL);
}

void hvsim_vcpu_kick(hvsim_vcpu *v)
{
	hvsim_vm *vm = v->vm;

	if (v->state != VS_BLOCKED)
		return;
	v->state = VS_ROOT;
	v->now = vm_ctx_now(vm) > v->now ? vm_ctx_now(vm) : v->now;
	emit_simple(v, "wake", TRACE_VERBOSE, NULL, NULL);
}

void hvsim_vcpu_stop(hvsim_vcpu *v, const char *reason)
{
	if (v->state == VS_DONE)
		return;
	v->state = VS_DONE;
	emit_simple(v, "vcpu_stop", TRACE_GOLDEN, "reason", reason ? reason : "");
}
