/* fuzz_hv_transitions' snapshot_rerun check (fz_hvt_int.h): the run is snapshotted after some
 * slice and runs on to its end; then it is restored and run to its end again, and both suffixes
 * must give the same trace bytes and summary (docs/vcpu-layer.md "Snapshots": VMX processors,
 * VMCS store, host pages, the kvm algorithm's models and the backend all rewind). A snapshot
 * flushes the trace, so the sink's position at the snapshot is where both suffixes start. */
#include "fz_hvt_int.h"
#include "fz_why.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Steps to the end of the run (bounded like the harness's own run); false when it failed. */
static bool run_to_end(hvsim_vm *vm)
{
	enum hvsim_vm_state st = HVSIM_VM_RUNNING;

	for (unsigned i = 0; i < FZ_HVT_SLICES_MAX && st == HVSIM_VM_RUNNING; i++)
		st = hvsim_vm_step(vm, 1);
	return st != HVSIM_VM_FAILED;
}

static bool same_summary(const struct hvsim_summary *a, const struct hvsim_summary *b)
{
	return a->virtual_ns == b->virtual_ns && a->instructions == b->instructions &&
	       a->exits == b->exits && a->injections == b->injections && a->eois == b->eois &&
	       a->timer_fires == b->timer_fires && a->trace_lines == b->trace_lines &&
	       a->n_findings == b->n_findings &&
	       memcmp(a->exits_by_reason, b->exits_by_reason, sizeof(a->exits_by_reason)) == 0;
}

bool fz_hvt_snap_take(hvsim_vm *vm, const struct fz_trace *t, unsigned at, struct fz_hvt_snap *sn,
                      char *why, size_t cap)
{
	struct hvsim_error err = {0};

	memset(sn, 0, sizeof(*sn));
	sn->at = at;
	sn->s = hvsim_vm_snapshot(vm, &err); /* flushes the trace: t is at the snapshot */
	sn->hash = t->hash;
	sn->pend = t->pend;
	sn->total = t->total;
	sn->len = t->len;
	if (!sn->s && err.status != HVSIM_E_NOMEM)
		return fz_fail(why, cap, "no snapshot after slice %u: %s", at, err.msg);
	return true;
}

void fz_hvt_snap_free(struct fz_hvt_snap *sn)
{
	hvsim_snapshot_free(sn->s);
	sn->s = NULL;
}

/* Rewinds t to the snapshot's position. */
static void rewind_trace(struct fz_trace *t, const struct fz_hvt_snap *sn)
{
	t->hash = sn->hash;
	t->pend = sn->pend;
	t->total = sn->total;
	if (t->len > sn->len)
		t->len = sn->len;
}

bool fz_hvt_snap_rerun(hvsim_vm *vm, const struct fz_hvt_snap *sn, struct fz_trace *t, char *why,
                       size_t cap)
{
	struct hvsim_summary sa = *hvsim_vm_summary(vm), sb;
	uint64_t hash = fz_trace_digest(t), total = t->total;

	if (!sn->s)
		return true;
	if (hvsim_vm_restore(vm, sn->s) != HVSIM_OK)
		return fz_fail(why, cap, "restoring the snapshot after slice %u failed: %s", sn->at,
		               hvsim_vm_error(vm)->msg);
	rewind_trace(t, sn);
	if (!run_to_end(vm))
		return fz_fail(why, cap, "the rerun from the snapshot after slice %u failed: %s",
		               sn->at, hvsim_vm_error(vm)->msg);
	sb = *hvsim_vm_summary(vm);
	if (hash != fz_trace_digest(t) || total != t->total)
		return fz_fail(
		    why, cap,
		    "from the snapshot after slice %u: trace suffix %llu bytes hash %016llx, "
		    "after restore %llu bytes hash %016llx",
		    sn->at, (unsigned long long)(total - sn->total), (unsigned long long)hash,
		    (unsigned long long)(t->total - sn->total),
		    (unsigned long long)fz_trace_digest(t));
	if (!same_summary(&sa, &sb))
		return fz_fail(
		    why, cap,
		    "from the snapshot after slice %u: summary %llu insns %llu exits %llu ns, "
		    "after restore %llu insns %llu exits %llu ns",
		    sn->at, (unsigned long long)sa.instructions, (unsigned long long)sa.exits,
		    (unsigned long long)sa.virtual_ns, (unsigned long long)sb.instructions,
		    (unsigned long long)sb.exits, (unsigned long long)sb.virtual_ns);
	return true;
}

bool fz_hvt_snapshot_rerun(const struct hvsim_scenario *sc, unsigned at, char *why, size_t cap)
{
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};
	struct hvsim_error err = {0};
	struct fz_hvt_snap sn = {0};
	struct fz_trace t;
	bool ok = true;
	hvsim_vm *vm;

	fz_trace_init(&t);
	opts.trace = fz_trace_sink(&t);
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	for (unsigned i = 0; vm && i < at && hvsim_vm_step(vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	if (vm && hvsim_vm_step(vm, 0) == HVSIM_VM_RUNNING) {
		ok = fz_hvt_snap_take(vm, &t, at, &sn, why, cap);
		if (ok && sn.s && !run_to_end(vm))
			ok =
			    fz_fail(why, cap, "the run from the snapshot after slice %u failed: %s",
			            at, hvsim_vm_error(vm)->msg);
		if (ok)
			ok = fz_hvt_snap_rerun(vm, &sn, &t, why, cap);
	}
	fz_hvt_snap_free(&sn);
	hvsim_vm_destroy(vm);
	fz_trace_free(&t);
	return ok;
}
