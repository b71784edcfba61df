/* Whole-VM snapshots in memory, for fuzzing resets and bisection: guest memory, the MMIO map,
 * every vCPU (engine state and the backend's registers), the clock, the event queue, the PRNG,
 * the summary, the oracles' state, the VMX hardware (vmx_snapshot.c) and the algorithm's state
 * through its snapshot callbacks. Not kept: the trace (a stream: lines after a restore follow the
 * earlier ones) and the run's static inputs (scenario, quirks). */
#include "guest_setup.h"
#include "oracle.h"
#include "snapshot_int.h"
#include "vmx_hw.h"

#include <stdlib.h>
#include <string.h>

void hvsim_snapshot_free(hvsim_snapshot *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->be && i < s->vm->n_vcpus; i++)
		if (s->be[i])
			s->vm->vcpus[i].be->snapshot_free(s->be[i]);
	if (s->hv && s->vm->hv->snapshot_free)
		s->vm->hv->snapshot_free(s->hv);
	vmx_snapshot_free(s->vm, s->vmx);
	oracles_destroy(s->oracles);
	sim_evq_destroy(s->evq);
	free(s->be);
	free(s->vcpus);
	snap_mem_free(&s->mem);
	free(s);
}

static bool supported(const hvsim_vm *vm, struct hvsim_error *err)
{
	if (vm->finished || vm->state == HVSIM_VM_FAILED) {
		hvsim_error_set(err, HVSIM_E_UNSUPPORTED, "the VM is finished or failed");
		return false;
	}
	if (!vm->hv->snapshot || !vm->hv->restore || !vm->hv->snapshot_free) {
		hvsim_error_set(err, HVSIM_E_UNSUPPORTED, "algorithm %s has no snapshot callbacks",
		                vm->hv->name);
		return false;
	}
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		if (!vm->vcpus[i].be->snapshot) {
			hvsim_error_set(err, HVSIM_E_UNSUPPORTED,
			                "the %s guest backend keeps no snapshots",
			                vm->vcpus[i].be->name);
			return false;
		}
	}
	return true;
}

static bool take_vcpus(hvsim_vm *vm, hvsim_snapshot *s)
{
	s->vcpus = malloc(vm->n_vcpus * sizeof(*s->vcpus));
	s->be = calloc(vm->n_vcpus, sizeof(*s->be));
	if (!s->vcpus || !s->be)
		return false;
	memcpy(s->vcpus, vm->vcpus, vm->n_vcpus * sizeof(*s->vcpus));
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (!(s->be[i] = vm->vcpus[i].be->snapshot(vm->vcpus[i].be_ctx)))
			return false;
	return true;
}

hvsim_snapshot *hvsim_vm_snapshot(hvsim_vm *vm, struct hvsim_error *err)
{
	hvsim_snapshot *s;

	if (!supported(vm, err))
		return NULL;
	if (vm->trace)
		trace_writer_flush(vm->trace); /* the sink holds every line before the snapshot */
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->vm = vm;
	s->evq = sim_evq_create();
	/* a code guest's CPU walks page tables in RAM (mem_track.h) */
	if (!snap_mem_take(&s->mem, vm->mem, vm->mem_size, mem_track_touched(&vm->track),
	                   vm->code_guest) ||
	    !s->evq || sim_evq_copy(s->evq, vm->evq) != HVSIM_OK || !take_vcpus(vm, s) ||
	    (vm->oracles && !(s->oracles = oracles_clone(vm->oracles))) ||
	    (vm->has_vmx && !(s->vmx = vmx_snapshot_take(vm))) ||
	    !(s->hv = vm->hv->snapshot(vm->hv_priv)))
		goto nomem;
	memcpy(s->mmio, vm->mach.mmio, sizeof(s->mmio));
	s->prng = vm->prng;
	s->now = vm->now;
	s->slice_end = vm->slice_end;
	s->state = vm->state;
	s->sum = vm->sum;
	s->invariant_reported = vm->invariant_reported;
	s->stepped = vm->stepped;
	s->sc = vm->sc;
	s->image_len = vm->image_len;
	s->trace_lines = vm->trace ? trace_writer_lines(vm->trace) : 0;
	s->serial = ++vm->snap_serial;
	mem_track_took(&vm->track, s->serial, s->mem.kept, s->mem.walked);
	return s;
nomem:
	hvsim_snapshot_free(s);
	hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory taking a snapshot");
	return NULL;
}

/* Engine state of one vCPU; the identity, the backend and the VMX processor stay. */
static void restore_vcpu(hvsim_vcpu *v, const hvsim_vcpu *from)
{
	hvsim_vcpu keep = *v;

	*v = *from;
	v->vm = keep.vm;
	v->index = keep.index;
	v->priv = keep.priv;
	v->be = keep.be;
	v->be_ctx = keep.be_ctx;
	v->vmx = keep.vmx;
	v->shadow = keep.shadow; /* restored by vmx_snapshot_restore */
}

/* Guest RAM: only the pages the written-page record says may differ, when it knows. True when a
 * page of hvsim's page tables (guest_setup.h, the top of RAM) changed. */
static bool restore_ram(hvsim_vm *vm, const hvsim_snapshot *s)
{
	const uint64_t *diff = mem_track_diff(&vm->track, s->serial);
	uint64_t end;

	if (diff)
		end = snap_mem_restore_marked(&s->mem, vm->mem, vm->mem_size, diff);
	else
		end = snap_mem_restore(&s->mem, vm->mem, vm->mem_size);
	mem_track_restored(&vm->track, s->serial, s->mem.kept, s->mem.walked);
	return end > gs_pt_base(vm->mem_size);
}

static enum hvsim_status restore_machine(hvsim_vm *vm, const hvsim_snapshot *s)
{
	enum hvsim_status st;

	/* remapping MMIO costs the backend (Unicorn rebuilds its memory map): only when it changed
	 */
	bool mmio_changed = memcmp(vm->mach.mmio, s->mmio, sizeof(s->mmio)) != 0, paging_changed;

	paging_changed = restore_ram(vm, s);
	memcpy(vm->mach.mmio, s->mmio, sizeof(s->mmio));
	if ((st = sim_evq_copy(vm->evq, s->evq)) != HVSIM_OK)
		return st;
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		hvsim_vcpu *v = &vm->vcpus[i];

		restore_vcpu(v, &s->vcpus[i]);
		if ((st = v->be->restore(v->be_ctx, s->be[i])) != HVSIM_OK ||
		    (mmio_changed && v->be->mmio_changed &&
		     (st = v->be->mmio_changed(v->be_ctx)) != HVSIM_OK))
			return st;
		/* the backend's cached translations hold while the tables do (SDM 4.10.2) */
		if (paging_changed && v->be->flush_tlb)
			v->be->flush_tlb(v->be_ctx);
	}
	if (s->vmx && (st = vmx_snapshot_restore(vm, s->vmx)) != HVSIM_OK)
		return st;
	return vm->hv->restore(vm->hv_priv, s->hv);
}

enum hvsim_status hvsim_vm_restore(hvsim_vm *vm, const hvsim_snapshot *s)
{
	enum hvsim_status st;

	if (!s || s->vm != vm || vm->finished)
		return HVSIM_E_INPUT;
	if (vm->trace)
		trace_writer_flush(vm->trace); /* lines before the restore reach the sink first */
	st = restore_machine(vm, s);
	if (st != HVSIM_OK) {
		vm_fail(vm, st, "snapshot restore failed");
		return st;
	}
	vm->prng = s->prng;
	vm->now = s->now;
	vm->slice_end = s->slice_end;
	vm->state = s->state;
	vm->sum = s->sum;
	vm->invariant_reported = s->invariant_reported;
	vm->stepped = s->stepped;
	vm->image_len = s->image_len;
	if (vm->oracles && s->oracles)
		oracles_copy(vm->oracles, s->oracles);
	vm->ctx_vcpu = NULL;
	vm->emit_depth = 0;
	return HVSIM_OK;
}
