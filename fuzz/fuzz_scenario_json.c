/* fuzz_scenario_json: the scenario loader and validator (hvsim_scenario_parse) on arbitrary bytes,
 * then the engine on every scenario that loads: its first FZ_RUNS_MAX runs execute under the
 * harness limits (fz_scenario.h) with the built-in algorithms and scripted guests, the first run
 * twice (stepped in large and in single slices). Invariants checked: the loader contract, printable
 * errors, parsed ranges, summary and trace consistency, determinism. The reproducer of a finding is
 * the input itself (scenario_export). */
#include "fz_scenario.h"
#include "harness.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define STEP_SLICES 256
/* per run; the virtual-time cap (fz_scenario.h) normally ends it first */
#define SLICES_MAX 204800
#define WHY_MAX    512

/* No file is looked up (program and golden paths are not checked), goldens are not required: what
 * `hvsim run` does apart from reading the program image. */
static const struct scenario_io fuzz_io = {.exists = NULL, .check_goldens = false};

struct run_out {
	struct fz_trace trace;
	struct hvsim_summary sum;
	enum hvsim_vm_state state;
	enum hvsim_status finish;
	struct hvsim_error err;
	bool created;
};

/* Runs one run, calling hvsim_vm_step(vm, step) until it ends. */
static void run_once(const struct hvsim_scenario *sc, size_t run, uint64_t step, struct run_out *o)
{
	struct hvsim_vm_opts opts = {.level = TRACE_VERBOSE};
	hvsim_vm *vm;

	memset(o, 0, sizeof(*o));
	fz_trace_init(&o->trace);
	opts.trace = fz_trace_sink(&o->trace);
	vm = hvsim_vm_create(sc, run, &opts, &o->err);
	if (!vm)
		return;
	o->created = true;
	for (uint64_t done = 0; done < SLICES_MAX; done += step)
		if (hvsim_vm_step(vm, step) != HVSIM_VM_RUNNING)
			break;
	o->finish = hvsim_vm_finish(vm);
	o->state = hvsim_vm_step(vm, 0);
	o->sum = *hvsim_vm_summary(vm);
	if (o->state == HVSIM_VM_FAILED)
		o->err = *hvsim_vm_error(vm);
	hvsim_vm_destroy(vm);
}

static void check_create(const struct run_out *o)
{
	char why[WHY_MAX];

	if (o->err.status != HVSIM_E_INPUT && o->err.status != HVSIM_E_UNSUPPORTED &&
	    o->err.status != HVSIM_E_NOMEM)
		fz_finding("vm_create_status", "status %d: %s", (int)o->err.status, o->err.msg);
	if (!fz_inv_error_printable(&o->err, why, sizeof(why)))
		fz_finding("error_printable", "vm_create: %s", why);
}

static void check_run(const struct hvsim_scenario *sc, const struct run_out *o)
{
	char why[WHY_MAX];

	if (!o->created) {
		check_create(o);
		return;
	}
	if (o->state == HVSIM_VM_FAILED || o->finish != HVSIM_OK)
		fz_finding("engine_failed", "state %d finish %d: %s", (int)o->state, (int)o->finish,
		           o->err.msg);
	if (!fz_inv_summary_consistent(&o->sum, sc, why, sizeof(why)))
		fz_finding("summary_consistent", "%s", why);
	if (!fz_inv_trace_wellformed(&o->trace, sc, &o->sum, why, sizeof(why)))
		fz_finding("trace_wellformed", "%s", why);
}

static void check_same(const struct run_out *a, const struct run_out *b)
{
	if (a->created != b->created || a->trace.total != b->trace.total ||
	    fz_trace_digest(&a->trace) != fz_trace_digest(&b->trace) ||
	    a->sum.instructions != b->sum.instructions || a->sum.exits != b->sum.exits ||
	    a->sum.virtual_ns != b->sum.virtual_ns)
		fz_finding(
		    "trace_deterministic",
		    "two runs of one scenario differ: %llu vs %llu trace bytes, hash %016llx vs "
		    "%016llx",
		    (unsigned long long)a->trace.total, (unsigned long long)b->trace.total,
		    (unsigned long long)fz_trace_digest(&a->trace),
		    (unsigned long long)fz_trace_digest(&b->trace));
}

static void run_scenario(struct hvsim_scenario *sc)
{
	struct fz_limits lim;
	struct run_out *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	fz_scenario_limits(sc, &lim);
	fz_scenario_apply_limits(sc, &lim);
	for (size_t r = 0; a && b && r < lim.n_runs; r++) {
		run_once(sc, r, STEP_SLICES, a);
		check_run(sc, a);
		if (r == 0) { /* the trace must not depend on how the runner slices the loop */
			run_once(sc, r, 1, b);
			check_same(a, b);
			fz_trace_free(&b->trace);
		}
		fz_trace_free(&a->trace);
	}
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	char why[WHY_MAX];
	enum hvsim_status st =
	    hvsim_scenario_parse(FZ_SCENARIO_FILE, (const char *)data, size, &fuzz_io, &sc, &err);

	if (!fz_inv_parse_contract(st, sc, &err, FZ_SCENARIO_FILE, why, sizeof(why)))
		fz_finding("parse_contract", "%s", why);
	if (st != HVSIM_OK && !fz_inv_error_printable(&err, why, sizeof(why)))
		fz_finding("error_printable", "%s", why);
	if (sc && !fz_inv_scenario_valid(sc, why, sizeof(why)))
		fz_finding("scenario_valid", "%s", why);
	if (sc)
		run_scenario(sc);
	hvsim_scenario_free(sc);
	return 0;
}

/* ---- export: the input as a scenario file `hvsim run` reproduces ---- */

static void set_member(cJSON *obj, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
	else
		cJSON_AddItemToObject(obj, key, value);
}

static cJSON *object_member(cJSON *obj, const char *key)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!m) {
		m = cJSON_CreateObject();
		cJSON_AddItemToObject(obj, key, m);
	}
	return m;
}

/* The parsed input with the harness's limits written in, its runs cut to the ones the harness ran,
 * a name and provenance of its own, and goldens beside the regression library's. */
static void rewrite(cJSON *root, const struct fz_limits *lim, const char *name)
{
	cJSON *limits = cJSON_CreateObject(), *prov = cJSON_CreateObject();
	cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs"), *run;
	char golden[256];

	set_member(root, "name", cJSON_CreateString(name));
	cJSON_AddStringToObject(prov, "note",
	                        "found by hvsim's fuzz_scenario_json harness; reproducer under "
	                        "fuzz/crashes/fuzz_scenario_json/");
	set_member(root, "provenance", prov);
	cJSON_AddNumberToObject(limits, "virtual_ns", (double)lim->virtual_ns);
	cJSON_AddNumberToObject(limits, "instructions", (double)lim->instructions);
	cJSON_AddNumberToObject(limits, "exits", (double)lim->exits);
	set_member(root, "limits", limits);
	set_member(object_member(root, "machine"), "memory_mib",
	           cJSON_CreateNumber((double)lim->memory_mib));
	while (lim->n_runs && cJSON_GetArraySize(runs) > (int)lim->n_runs)
		cJSON_DeleteItemFromArray(runs, cJSON_GetArraySize(runs) - 1);
	cJSON_ArrayForEach(run, runs)
	{
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(run, "name");

		snprintf(golden, sizeof(golden), "../golden/%s.%s.jsonl", name, rn->valuestring);
		set_member(run, "golden", cJSON_CreateString(golden));
	}
}

static int export_valid(const uint8_t *data, size_t size, struct hvsim_scenario *sc, FILE *out,
                        struct fz_export_info *info)
{
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	struct fz_limits lim;
	char name[64], *text;
	int rc = 2;

	fz_scenario_limits(sc, &lim);
	snprintf(name, sizeof(name), "fuzz-scenario-json-%016llx",
	         (unsigned long long)fz_hash(data, size));
	if (!root)
		return 2;
	rewrite(root, &lim, name);
	text = cJSON_Print(root);
	if (text && fputs(text, out) >= 0 && fputc('\n', out) != EOF)
		rc = 0;
	snprintf(info->kind, sizeof(info->kind), "scenario");
	snprintf(info->expect, sizeof(info->expect),
	         "a scenario with %zu run(s) under the harness limits; run `hvsim bless` for its "
	         "goldens once the bug is fixed",
	         lim.n_runs);
	free(text);
	cJSON_Delete(root);
	return rc;
}

static int scenario_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info)
{
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	int rc;

	if (hvsim_scenario_parse(info->file, (const char *)data, size, &fuzz_io, &sc, &err) ==
	    HVSIM_OK) {
		rc = export_valid(data, size, sc, out, info);
		hvsim_scenario_free(sc);
		return rc;
	}
	snprintf(info->kind, sizeof(info->kind), "invalid");
	snprintf(info->expect, sizeof(info->expect), "exit 2: %s", err.msg);
	return fwrite(data, 1, size, out) == size ? 0 : 2;
}

FZ_TARGET("fuzz_scenario_json", scenario_export);
