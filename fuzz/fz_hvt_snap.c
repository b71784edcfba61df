/* fuzz_hv_transitions' snapshot_rerun check (fz_hvt_int.h): the run is snapshotted after some
 * slices, run to its end, restored, and run to its end again; both suffixes must give the same
 * trace bytes and summary (docs/vcpu-layer.md "Snapshots": VMX processors, VMCS store, host
 * pages, the kvm algorithm's models and the backend all rewind). Each restore flushes the trace
 * of the suffix before it, so the sink is compared right after a restore. */
#include "fz_hvt_int.h"
#include "fz_why.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct sink_mark {
	uint64_t hash, total;
	size_t len;
};

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

/* One suffix: from the snapshot to the end, then back to the snapshot; its trace hash and
 * length (from the mark) and its summary. */
static bool suffix(hvsim_vm *vm, const hvsim_snapshot *s, struct fz_trace *t,
                   const struct sink_mark *m, struct sink_mark *out, struct hvsim_summary *sum)
{
	t->hash = m->hash;
	t->total = m->total;
	if (t->len > m->len)
		t->len = m->len;
	if (!run_to_end(vm))
		return false;
	*sum = *hvsim_vm_summary(vm);
	if (hvsim_vm_restore(vm, s) != HVSIM_OK)
		return false;
	out->hash = t->hash;
	out->total = t->total;
	return true;
}

static bool compare(hvsim_vm *vm, const hvsim_snapshot *s, struct fz_trace *t, unsigned at,
                    char *why, size_t cap)
{
	struct sink_mark m = {t->hash, t->total, t->len}, a, b;
	struct hvsim_summary sa, sb;

	if (!suffix(vm, s, t, &m, &a, &sa))
		return fz_fail(why, cap, "the run from the snapshot after slice %u failed: %s", at,
		               hvsim_vm_error(vm)->msg);
	if (!suffix(vm, s, t, &m, &b, &sb))
		return fz_fail(why, cap, "the rerun from the snapshot after slice %u failed: %s",
		               at, hvsim_vm_error(vm)->msg);
	if (a.hash != b.hash || a.total != b.total)
		return fz_fail(
		    why, cap,
		    "from the snapshot after slice %u: trace suffix %llu bytes hash %016llx, "
		    "after restore %llu bytes hash %016llx",
		    at, (unsigned long long)(a.total - m.total), (unsigned long long)a.hash,
		    (unsigned long long)(b.total - m.total), (unsigned long long)b.hash);
	if (!same_summary(&sa, &sb))
		return fz_fail(
		    why, cap,
		    "from the snapshot after slice %u: summary %llu insns %llu exits %llu ns, "
		    "after restore %llu insns %llu exits %llu ns",
		    at, (unsigned long long)sa.instructions, (unsigned long long)sa.exits,
		    (unsigned long long)sa.virtual_ns, (unsigned long long)sb.instructions,
		    (unsigned long long)sb.exits, (unsigned long long)sb.virtual_ns);
	return true;
}

bool fz_hvt_snapshot_rerun(const struct hvsim_scenario *sc, unsigned at, char *why, size_t cap)
{
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};
	struct hvsim_error err = {0};
	struct fz_trace t;
	hvsim_snapshot *s = NULL;
	bool ok = true;
	hvsim_vm *vm;

	fz_trace_init(&t);
	opts.trace = fz_trace_sink(&t);
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	for (unsigned i = 0; vm && i < at && hvsim_vm_step(vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	if (vm && hvsim_vm_step(vm, 0) == HVSIM_VM_RUNNING) {
		s = hvsim_vm_snapshot(vm, &err);
		if (!s && err.status != HVSIM_E_NOMEM)
			ok = fz_fail(why, cap, "no snapshot after slice %u: %s", at, err.msg);
		else if (s)
			ok = compare(vm, s, &t, at, why, cap);
	}
	hvsim_snapshot_free(s);
	hvsim_vm_destroy(vm);
	fz_trace_free(&t);
	return ok;
}
