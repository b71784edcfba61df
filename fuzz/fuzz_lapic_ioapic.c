/* fuzz_lapic_ioapic: byte-coded operation sequences on 1..4 local APICs and one I/O APIC
 * (fz_apic.h): xAPIC MMIO and x2APIC MSR accesses, IA32_APIC_BASE transitions, messages of every
 * delivery mode, INTA, EOI with the EOI broadcast to the I/O APIC, IPIs routed by lapic_route,
 * I/O APIC MMIO and line changes, LVT sources, time advances that fire timers, TSC offsets,
 * snapshots and restores (the operations: fz_apic_ops.h). After every operation the models' own
 * checks and the cross-model invariants run (fz_apic_inv.c); a violation is a finding named after
 * the invariant. An input also runs twice and must give the same result hash ("deterministic"). */
#include "fz_apic_ops.h"

/* Every input runs twice under replay (CI); under a fuzzer one input in DETERMINISM_EVERY does,
 * chosen by content: the check stays, most of the second run's cost goes. */
#define DETERMINISM_EVERY 8

/* The models, allocated once and reset by copying pristine ones for every input: one input at a
 * time runs in a fuzzer process. */
static struct fz_apic_sys sys;
static struct fz_apic_snap snap;
static bool ready;

static bool setup(void)
{
	if (!ready && fz_apic_create(&sys, &snap) == HVSIM_OK)
		ready = true;
	return ready;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_apic_outcome a, b;

	if (!setup())
		return 0;
	fz_apic_run(&sys, &snap, data, size, &a, NULL);
	if (a.kind) {
		fz_finding(a.kind, "%s", a.why);
		return 0;
	}
	if (fz_get_mode() != FZ_COUNT && fz_hash(data, size) % DETERMINISM_EVERY != 0)
		return 0;
	fz_apic_run(&sys, &snap, data, size, &b, NULL);
	fz_check_rerun(a.ops == b.ops, a.hash, b.hash, b.kind, b.why);
	return 0;
}

/* The scenario form of an input (docs/fuzzing.md "fuzz_lapic_ioapic"), or why it has none. */
static int apic_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_apic_export x = {0};
	struct fz_apic_outcome o;
	int rc = 1;

	if (!setup() || !(x.scn = fz_scn_create(fz_target.name, fz_hash(data, size))))
		return 2;
	fz_apic_run(&sys, &snap, data, size, &o, &x);
	if (x.no_form) {
		snprintf(info->kind, sizeof(info->kind), "none");
		snprintf(
		    info->expect, sizeof(info->expect),
		    "no scenario form: operation %u (%s); the byte reproducer in fuzz/crashes/%s/ "
		    "and a Criterion test are the regression (docs/fuzzing.md)",
		    x.no_form_at, x.no_form, fz_target.name);
	} else {
		fz_apic_export_machine(&x, &sys);
		if (o.kind)
			fz_scn_expect(x.scn, "invariant_violation");
		rc = fz_scn_write(x.scn, out);
		snprintf(info->kind, sizeof(info->kind), "scenario");
		snprintf(
		    info->expect, sizeof(info->expect),
		    "%s%s; `hvsim run` replays it on the kvm algorithm's LAPIC and I/O APIC models "
		    "with their invariants after every slice; an operation the model answers with "
		    "#GP ends the scripted guest there (guest_fault, docs/fuzzing.md)",
		    o.kind ? "finding invariant_violation: " : "no finding", o.kind ? o.kind : "");
	}
	fz_scn_destroy(x.scn);
	return rc;
}

FZ_TARGET("fuzz_lapic_ioapic", apic_export);
