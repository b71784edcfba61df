/* The one place trace lines are written: every record the engine, the hypervisor or an oracle
 * produces passes through vm_emit, which counts it, writes it and shows it to the oracles. */
#include "oracle.h"
#include "vm_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EMIT_DEPTH_MAX 4

static void count(hvsim_vm *vm, enum oracle_ev kind)
{
	if (kind == ORACLE_EV_INJECT)
		vm->sum.injections++;
	else if (kind == ORACLE_EV_EOI)
		vm->sum.eois++;
	else if (kind == ORACLE_EV_TIMER)
		vm->sum.timer_fires++;
}

void vm_emit(hvsim_vm *vm, const struct trace_ev *e)
{
	enum oracle_ev kind = oracle_ev_kind(e->ev);
	enum hvsim_status st;

	if (vm->emit_depth >= EMIT_DEPTH_MAX)
		return;
	vm->emit_depth++;
	count(vm, kind);
	if (vm->trace) {
		st = trace_writer_emit(vm->trace, e);
		if (st != HVSIM_OK && vm->state == HVSIM_VM_RUNNING)
			vm_fail(vm, st, "trace: %s while writing a \"%s\" line",
			        st == HVSIM_E_IO ? "write failed" : "event too large", e->ev);
	}
	/* after the line: a finding an event triggers follows it in the trace */
	if (vm->oracles && e->vcpu >= 0 && (unsigned)e->vcpu < vm->n_vcpus)
		oracles_observe_kind(vm->oracles, e, kind, vm->vcpus[e->vcpu].insns,
		                     vm_oracle_report, vm);
	vm->emit_depth--;
}

void vm_finding(hvsim_vm *vm, int32_t vcpu, uint64_t t, const char *kind, const char *detail)
{
	struct hvsim_finding_rec *f;
	struct trace_ev e;

	trace_ev_init(&e, t, vcpu, "finding");
	trace_ev_str(&e, "kind", kind);
	if (detail)
		trace_ev_str(&e, "detail", detail);
	vm_emit(vm, &e);
	if (vm->sum.n_findings < HVSIM_MAX_FINDINGS) {
		f = &vm->sum.findings[vm->sum.n_findings];
		snprintf(f->kind, sizeof(f->kind), "%s", kind);
		snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
		f->t = t;
		f->vcpu = vcpu;
	}
	vm->sum.n_findings++;
}

void vm_end(hvsim_vm *vm, const char *reason)
{
	if (vm->state != HVSIM_VM_RUNNING)
		return;
	vm->state = HVSIM_VM_DONE;
	snprintf(vm->sum.end_reason, sizeof(vm->sum.end_reason), "%s", reason);
}

void vm_fail(hvsim_vm *vm, enum hvsim_status st, const char *fmt, ...)
{
	va_list ap;

	if (vm->state == HVSIM_VM_FAILED)
		return;
	vm->state = HVSIM_VM_FAILED;
	vm->err.status = st;
	va_start(ap, fmt);
	vsnprintf(vm->err.msg, sizeof(vm->err.msg), fmt, ap);
	va_end(ap);
	snprintf(vm->sum.end_reason, sizeof(vm->sum.end_reason), "failed");
}

void vm_oracle_report(void *ctx, int32_t vcpu, uint64_t t, const char *kind, const char *detail)
{
	vm_finding(ctx, vcpu, t, kind, detail);
}

uint64_t vm_ctx_now(const hvsim_vm *vm)
{
	return vm->ctx_vcpu ? vm->ctx_vcpu->now : vm->now;
}

void hvsim_emit(hvsim_vm *vm, const struct trace_ev *e)
{
	vm_emit(vm, e);
}

void hvsim_report_finding(hvsim_vm *vm, hvsim_vcpu *v, const char *kind, const char *detail)
{
	vm_finding(vm, v ? (int32_t)v->index : -1, v ? v->now : vm_ctx_now(vm), kind, detail);
}
