/* Running one fuzz_hv_transitions input (fz_hvt.h): build its scenario, load the JSON text with the
 * real loader (a rejection is a builder bug), run it on a fresh VM or a kept one reloaded for it
 * (fz_hvt_cache.c) one slice at a time with the harness invariants after every slice, then judge
 * what the run reported: the engine's and the oracles' findings (fz_hvt_finding_expected), the
 * summary and the trace (fz_scenario.h). */
#include "fz_hvt_int.h"

#include <hvsim/hv_registry.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_NAME "fuzz_hv_transitions.json"

static const struct scenario_io no_io = {.exists = NULL, .check_goldens = false};

/* Invariants a selected quirk value breaks by design: the bug the quirk reproduces. */
static const struct {
	const char *invariant, *quirk, *value;
} by_design[] = {
    /* activation without SVI: SVI stays 0 under an in-service vector, and PPR virtualization
     * (from SVI, SDM 30.1.3) lets a second vector of the same class in */
    {"apicv_svi", "apicv_activation_svi", "stale"},
    {"isr_one_per_class", "apicv_activation_svi", "stale"},
};

/* hv_error findings a selected quirk value reproduces by design (their detail's start) */
static const struct {
	const char *detail, *quirk, *value;
} hv_error_by_design[] = {
    /* before KVM commit 9d7dfb95da2c: no handler for a non-TD guest's TDCALL/SEAMCALL exit */
    {"unhandled VM exit TDCALL", "tdx_insn_exit", "internal_error"},
    {"unhandled VM exit SEAMCALL", "tdx_insn_exit", "internal_error"},
};

static const char *const benign[] = {"budget_exhausted", "idle_hang",   "interrupt_storm",
                                     "isr_stall",        "timer_stall", "guest_fault",
                                     "guest_bad_access"};

static const char *quirk_value(const struct fz_hvt_config *cfg, const char *name)
{
	const struct hvsim_hv_ops *kvm = hvsim_hv_builtin("kvm");

	for (size_t q = 0; kvm && q < kvm->n_quirks && q < FZ_HVT_QUIRK_SLOTS; q++)
		if (strcmp(kvm->quirks[q].name, name) == 0)
			return kvm->quirks[q].values[cfg->quirk[q] % kvm->quirks[q].n_values];
	return "";
}

static bool invariant_by_design(const struct fz_hvt_config *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(by_design) / sizeof(by_design[0]); i++)
		if (strlen(by_design[i].invariant) == len &&
		    strncmp(by_design[i].invariant, name, len) == 0 &&
		    strcmp(quirk_value(cfg, by_design[i].quirk), by_design[i].value) == 0)
			return true;
	return false;
}

static bool hv_error_by_design_for(const struct fz_hvt_config *cfg, const char *detail)
{
	for (size_t i = 0; i < sizeof(hv_error_by_design) / sizeof(hv_error_by_design[0]); i++)
		if (strncmp(detail, hv_error_by_design[i].detail,
		            strlen(hv_error_by_design[i].detail)) == 0 &&
		    strcmp(quirk_value(cfg, hv_error_by_design[i].quirk),
		           hv_error_by_design[i].value) == 0)
			return true;
	return false;
}

bool fz_hvt_finding_expected(const struct fz_hvt_config *cfg, const struct hvsim_finding_rec *f)
{
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		if (strcmp(f->kind, benign[i]) == 0)
			return true;
	if (strcmp(f->kind, "invariant_violation") == 0)
		return invariant_by_design(cfg, f->detail, strcspn(f->detail, ":"));
	if (strcmp(f->kind, "hv_error") == 0)
		return hv_error_by_design_for(cfg, f->detail);
	return false;
}

static void found(struct fz_hvt_outcome *o, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the run's first finding. */
static void found(struct fz_hvt_outcome *o, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (o->kind)
		return;
	o->kind = kind;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

/* The invariant names the engine's invariant_violation carries, as static strings. */
static const char *invariant_name(const char *detail)
{
	static const char *const names[] = {"lapic_invariants", "ioapic_invariants", "vmcs_current",
	                                    "controls_mirror",  "apicv_controls",    "apicv_rvi",
	                                    "apicv_svi"};
	size_t len = strcspn(detail, ":");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncmp(names[i], detail, len) == 0)
			return names[i];
	return "invariant_violation";
}

/* The label of an engine finding other than invariant_violation and hv_error, a static string. */
static const char *nested_label(const char *kind)
{
	if (strcmp(kind, "nested_check_mismatch") == 0)
		return "nested_check_mismatch";
	if (strcmp(kind, "nested_insn_mismatch") == 0)
		return "nested_insn_mismatch";
	return "vmentry_failure";
}

static void judge_findings(const struct fz_hvt_config *cfg, struct fz_hvt_outcome *o)
{
	size_t n = o->sum.n_findings < HVSIM_MAX_FINDINGS ? o->sum.n_findings : HVSIM_MAX_FINDINGS;

	for (size_t i = 0; i < n; i++) {
		const struct hvsim_finding_rec *f = &o->sum.findings[i];

		if (fz_hvt_finding_expected(cfg, f))
			continue;
		if (strcmp(f->kind, "invariant_violation") == 0)
			found(o, invariant_name(f->detail), "at %llu ns: %s",
			      (unsigned long long)f->t, f->detail);
		else if (strcmp(f->kind, "hv_error") == 0)
			found(o, "hv_error", "vCPU %d at %llu ns: %s", f->vcpu,
			      (unsigned long long)f->t, f->detail);
		else /* vmentry_failure, nested_check_mismatch (KVM and the SDM disagree on an L1
		      * entry), nested_insn_mismatch (on another L1 VMX instruction,
		      * docs/nested-differential.md), and any other */
			found(o, nested_label(f->kind), "%s on vCPU %d at %llu ns: %s", f->kind,
			      f->vcpu, (unsigned long long)f->t, f->detail);
	}
}

/* Steps the VM one slice at a time with the harness invariants after each, snapshotting it after
 * slice snap->at when that is not 0 and the run goes on; false when the harness guard cut the run
 * (runaway event rates, docs/fuzzing.md). */
static bool step_all(hvsim_vm *vm, const struct fz_hvt_config *cfg, struct fz_trace *trace,
                     struct fz_hvt_snap *snap, struct fz_hvt_outcome *o)
{
	char why[FZ_HVT_WHY_MAX];
	const char *kind;

	for (unsigned i = 0; i < FZ_HVT_SLICES_MAX; i++) {
		enum hvsim_vm_state st = hvsim_vm_step(vm, 1);

		if (!fz_hvt_check_slice(vm, &kind, why, sizeof(why)) &&
		    !invariant_by_design(cfg, kind, strlen(kind)))
			found(o, kind, "after slice %u: %s", i, why);
		if (st != HVSIM_VM_RUNNING || o->kind)
			return true;
		if (i + 1 == snap->at &&
		    !fz_hvt_snap_take(vm, trace, snap->at, snap, why, sizeof(why)))
			found(o, "snapshot_rerun", "%s", why);
	}
	return false;
}

/* Runs vm (fresh or reloaded for sc, writing to trace) to its end with every check. With
 * check_trace, snapshot_rerun: a snapshot after one of the first FZ_HVT_SNAP_WITHIN slices (the
 * input's hash chooses), and the run from it is rerun to the end and must repeat itself. */
static void run_on(hvsim_vm *vm, const struct hvsim_scenario *sc, const struct fz_hvt_config *cfg,
                   bool check_trace, uint64_t input_hash, struct fz_trace *trace,
                   struct fz_hvt_outcome *o)
{
	struct fz_hvt_snap snap = {.at = check_trace ? 1 + input_hash % FZ_HVT_SNAP_WITHIN : 0};
	char why[FZ_HVT_WHY_MAX];
	bool whole;

	o->ran = true;
	whole = step_all(vm, cfg, trace, &snap, o);
	if (whole && !o->kind && !fz_hvt_snap_rerun(vm, &snap, trace, why, sizeof(why)))
		found(o, "snapshot_rerun", "%s", why);
	fz_hvt_snap_free(&snap);
	if (!o->kind && !fz_inv_hvt_entry_state(vm, why, sizeof(why)))
		found(o, "entry_state_valid", "at the end: %s", why);
	if (hvsim_vm_finish(vm) != HVSIM_OK || hvsim_vm_step(vm, 0) == HVSIM_VM_FAILED)
		found(o, "engine_failed", "%s", hvsim_vm_error(vm)->msg);
	o->sum = *hvsim_vm_summary(vm);
	if (whole && !fz_inv_summary_consistent(&o->sum, sc, why, sizeof(why)))
		found(o, "summary_consistent", "%s", why);
	if (check_trace && !fz_inv_trace_wellformed(trace, sc, &o->sum, why, sizeof(why)))
		found(o, "trace_wellformed", "%s", why);
	judge_findings(cfg, o);
	o->hash = fz_trace_digest(trace);
	fz_mix(&o->hash, trace->total);
	fz_mix(&o->hash, o->sum.instructions);
	fz_mix(&o->hash, o->sum.exits);
	fz_mix(&o->hash, o->sum.virtual_ns);
}

static void run_fresh(const struct hvsim_scenario *sc, const struct fz_hvt_config *cfg,
                      bool check_trace, uint64_t input_hash, struct fz_hvt_outcome *o)
{
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};
	struct hvsim_error err = {0};
	struct fz_trace trace;
	hvsim_vm *vm;

	fz_trace_init(&trace);
	opts.trace = fz_trace_sink(&trace);
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	if (vm)
		run_on(vm, sc, cfg, check_trace, input_hash, &trace, o);
	else
		found(o, "vm_create", "status %d: %s", (int)err.status, err.msg);
	hvsim_vm_destroy(vm);
	fz_trace_free(&trace);
}

/* d goes to the cache, which frees it. */
static void run_kept(struct fz_hvt_cache *cache, struct fz_hvt_direct *d,
                     const struct fz_hvt_config *cfg, bool check_trace, uint64_t input_hash,
                     struct fz_hvt_outcome *o)
{
	struct hvsim_error err = {0};
	struct fz_trace *trace = NULL;
	const struct hvsim_scenario *sc = NULL;
	hvsim_vm *vm = fz_hvt_cache_take(cache, cfg, d, &sc, &trace, &err);

	if (!vm) {
		found(o, "vm_reload", "status %d: %s", (int)err.status, err.msg);
		return;
	}
	run_on(vm, sc, cfg, check_trace, input_hash, trace, o);
	/* A failed VM is not reloaded. One whose code guest ran long is: Unicorn's translation
	 * memory, which only closing the engine gives back, is bounded by the cache's recycling at
	 * FZ_HVT_TB_RECYCLE translations (a code guest that rewrites itself retranslates at every
	 * instruction), and rebuilding such machines cost a fifth of the time of a campaign's
	 * late inputs (docs/fuzzing.md, the eighth pass). */
	if (hvsim_vm_step(vm, 0) == HVSIM_VM_FAILED)
		fz_hvt_cache_drop(cache, vm);
}

void fz_hvt_run(const struct fz_hvt_input *in, uint64_t input_hash, struct fz_hvt_outcome *o)
{
	fz_hvt_run_opt(in, input_hash, true, o);
}

void fz_hvt_run_opt(const struct fz_hvt_input *in, uint64_t input_hash, bool check_trace,
                    struct fz_hvt_outcome *o)
{
	fz_hvt_run_cached(NULL, in, input_hash, check_trace, o);
}

/* A kept machine runs the scenario built without JSON (fz_hvt_direct.c); a fresh VM, which every
 * determinism rerun under replay uses, loads the printed text the exported reproducer holds, so
 * that the two are compared too. */
void fz_hvt_run_cached(struct fz_hvt_cache *cache, const struct fz_hvt_input *in,
                       uint64_t input_hash, bool check_trace, struct fz_hvt_outcome *o)
{
	struct fz_hvt_direct *d;
	fz_scn *s;
	char *text = NULL;
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};

	memset(o, 0, sizeof(*o));
	if (cache) {
		if ((d = fz_hvt_direct_build(in, input_hash)) != NULL)
			run_kept(cache, d, &in->cfg, check_trace, input_hash, o);
		else
			found(o, "out_of_memory", "building the scenario");
		return;
	}
	s = fz_hvt_build(in, input_hash);
	if (!s || !(text = fz_scn_text(s)))
		found(o, "out_of_memory", "building the scenario");
	else if (hvsim_scenario_parse(FILE_NAME, text, strlen(text), &no_io, &sc, &err) != HVSIM_OK)
		found(o, "scenario_rejected", "the loader rejects the built scenario: %s", err.msg);
	else
		run_fresh(sc, &in->cfg, check_trace, input_hash, o);
	hvsim_scenario_free(sc);
	free(text);
	fz_scn_destroy(s);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The finding kinds the run reported, sorted and unique, as the run expects them. */
static void expect_findings(fz_scn *s, const struct hvsim_summary *sum)
{
	const char *kinds[HVSIM_MAX_FINDINGS];
	size_t n = 0;

	for (size_t i = 0; i < sum->n_findings && i < HVSIM_MAX_FINDINGS; i++)
		kinds[n++] = sum->findings[i].kind;
	qsort(kinds, n, sizeof(kinds[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(kinds[i], kinds[i - 1]) != 0)
			fz_scn_expect(s, kinds[i]);
}

int fz_hvt_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct fz_hvt_input *in = malloc(sizeof(*in));
	struct fz_hvt_outcome *o = malloc(sizeof(*o));
	uint64_t hash = fz_hash(data, size);
	fz_scn *s = NULL;
	int rc = 2;

	if (in && o) {
		fz_hvt_decode(data, size, in);
		fz_hvt_run(in, hash, o);
		s = fz_hvt_build(in, hash);
	}
	if (s) {
		expect_findings(s, &o->sum);
		rc = fz_scn_write(s, out);
		snprintf(info->kind, sizeof(info->kind), "scenario");
		snprintf(info->expect, sizeof(info->expect),
		         "%s%s; `hvsim run` reproduces it, expecting the findings the run reported",
		         o->kind ? "finding " : "no finding", o->kind ? o->kind : "");
	}
	fz_scn_destroy(s);
	free(in);
	free(o);
	return rc;
}
