/* Running one scenario run: builds the VM, steps it to the end with a progress line on a terminal,
 * writes the trace file, and compares findings with the run's expectations. */
#include "cli.h"

#include <hvsim/hv_registry.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STEP_SLICES 4096
#define PROGRESS_MS 250.0

static bool file_write(void *ctx, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len;
}

const struct hvsim_hv_ops *cli_algorithm(const struct hvsim_scenario *sc,
                                         const struct hvsim_hv_ops *plugin)
{
	return plugin ? plugin : hvsim_hv_builtin(sc->hv.algorithm);
}

static void progress(const struct hvsim_summary *s, const struct hvsim_scenario *sc)
{
	fprintf(stderr, "\r%s: %.3f ms virtual of %.3f, %llu exits ", sc->name,
	        (double)s->virtual_ns / 1e6, (double)sc->limits.virtual_ns / 1e6,
	        (unsigned long long)s->exits);
}

static void step_all(hvsim_vm *vm, const struct hvsim_scenario *sc, const struct exec_opts *o)
{
	double last = cli_wall_ms();
	bool shown = false;

	while (hvsim_vm_step(vm, STEP_SLICES) == HVSIM_VM_RUNNING) {
		if (o->progress && cli_wall_ms() - last > PROGRESS_MS) {
			progress(hvsim_vm_summary(vm), sc);
			last = cli_wall_ms();
			shown = true;
		}
	}
	if (shown)
		fprintf(stderr, "\r%*s\r", 72, "");
}

static void finish(hvsim_vm *vm, FILE *trace, struct exec_result *r)
{
	enum hvsim_status st = hvsim_vm_finish(vm);

	if (hvsim_vm_step(vm, 0) == HVSIM_VM_FAILED) {
		r->status = EXIT_INTERNAL;
		snprintf(r->msg, sizeof(r->msg), "%s", hvsim_vm_error(vm)->msg);
	} else if (st != HVSIM_OK) {
		r->status = EXIT_INTERNAL;
		snprintf(r->msg, sizeof(r->msg), "trace could not be written");
	}
	if (trace && fclose(trace) != 0 && r->status == EXIT_PASS) {
		r->status = EXIT_INTERNAL;
		snprintf(r->msg, sizeof(r->msg), "trace: %s", strerror(errno));
	}
}

/* Reads guest.program (resolved against the scenario's directory) into vo->image; the caller
 * frees it. False with r filled when the file cannot be read. */
static bool read_program(const struct hvsim_scenario *sc, struct hvsim_vm_opts *vo, char **buf,
                         struct exec_result *r)
{
	char path[4096];
	struct hvsim_error err = {0};
	size_t len = 0;

	*buf = NULL;
	if (!sc->guest.program)
		return true;
	if (!hvsim_scenario_path(sc, sc->guest.program, path, sizeof(path)) ||
	    !(*buf = cli_read_file(path, &len, &err))) {
		r->status = EXIT_USAGE;
		snprintf(r->msg, sizeof(r->msg), "%.200s: $.guest.program: %.280s", sc->file,
		         err.msg[0] ? err.msg : "path too long");
		return false;
	}
	vo->image = (const uint8_t *)*buf;
	vo->image_len = len;
	return true;
}

void cli_exec(const struct hvsim_scenario *sc, size_t run, const struct exec_opts *o,
              struct exec_result *r)
{
	struct hvsim_vm_opts vo = {
	    .hv = o->hv, .has_seed = o->has_seed, .seed = o->seed, .level = o->level};
	struct hvsim_error err = {0};
	FILE *trace = NULL;
	char *image = NULL;
	hvsim_vm *vm;
	double t0 = cli_wall_ms();

	memset(r, 0, sizeof(*r));
	if (!read_program(sc, &vo, &image, r))
		return;
	if (o->trace_path && !(trace = fopen(o->trace_path, "w"))) {
		free(image);
		r->status = EXIT_USAGE;
		snprintf(r->msg, sizeof(r->msg), "%s: cannot write: %s", o->trace_path,
		         strerror(errno));
		return;
	}
	vo.trace = (struct trace_sink){.write = trace ? file_write : NULL, .ctx = trace};
	vm = hvsim_vm_create(sc, run, &vo, &err);
	if (!vm) {
		r->status = err.status == HVSIM_E_INPUT ? EXIT_USAGE : EXIT_INTERNAL;
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
		if (trace)
			fclose(trace);
		free(image);
		return;
	}
	step_all(vm, sc, o);
	finish(vm, trace, r);
	r->sum = *hvsim_vm_summary(vm);
	r->wall_ms = cli_wall_ms() - t0;
	hvsim_vm_destroy(vm);
	free(image);
	if (r->status == EXIT_PASS &&
	    !cli_findings_match(&sc->runs[run], &r->sum, r->msg, sizeof(r->msg)))
		r->status = EXIT_MISMATCH;
}

static bool reported(const struct hvsim_summary *s, const char *kind)
{
	size_t n = s->n_findings < HVSIM_MAX_FINDINGS ? s->n_findings : HVSIM_MAX_FINDINGS;

	for (size_t i = 0; i < n; i++)
		if (strcmp(s->findings[i].kind, kind) == 0)
			return true;
	return false;
}

static bool expected(const struct scenario_run *run, const char *kind)
{
	for (size_t i = 0; i < run->n_findings; i++)
		if (strcmp(run->findings[i], kind) == 0)
			return true;
	return false;
}

bool cli_findings_match(const struct scenario_run *run, const struct hvsim_summary *s, char *msg,
                        size_t cap)
{
	size_t n = s->n_findings < HVSIM_MAX_FINDINGS ? s->n_findings : HVSIM_MAX_FINDINGS;

	for (size_t i = 0; i < n; i++) {
		if (!expected(run, s->findings[i].kind)) {
			snprintf(msg, cap, "unexpected finding %s at t=%llu: %s",
			         s->findings[i].kind, (unsigned long long)s->findings[i].t,
			         s->findings[i].detail);
			return false;
		}
	}
	for (size_t i = 0; i < run->n_findings; i++) {
		if (!reported(s, run->findings[i])) {
			snprintf(msg, cap, "expected finding %s was not reported",
			         run->findings[i]);
			return false;
		}
	}
	return true;
}

void cli_quirk_list(const struct hvsim_scenario *sc, size_t run, const struct hvsim_hv_ops *hv,
                    bool selected_only, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; hv && i < hv->n_quirks && len < cap; i++) {
		const struct hvsim_quirk_setting *q =
		    hvsim_scenario_quirk(sc, run, hv->quirks[i].name);
		int n;

		if (selected_only && !q)
			continue;
		n = snprintf(buf + len, cap - len, "%s%s=%s", len ? " " : "", hv->quirks[i].name,
		             q ? q->value : hv->quirks[i].def);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, cap, "-");
}

static void print_exits(FILE *f, const struct hvsim_summary *s)
{
	bool any = false;

	fprintf(f, "exits     ");
	for (unsigned i = 0; i < EXIT_REASON_MAX; i++) {
		if (!s->exits_by_reason[i])
			continue;
		fprintf(f, "%s%s %llu", any ? ", " : "", hvsim_exit_reason_name(i),
		        (unsigned long long)s->exits_by_reason[i]);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : "none");
}

static void print_findings(FILE *f, const struct scenario_run *run, const struct hvsim_summary *s)
{
	size_t n = s->n_findings < HVSIM_MAX_FINDINGS ? s->n_findings : HVSIM_MAX_FINDINGS;

	fprintf(f, "findings  %s", n ? "" : "none");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s at %llu ns%s%s%s", i ? "\n          " : "", s->findings[i].kind,
		        (unsigned long long)s->findings[i].t, s->findings[i].detail[0] ? " (" : "",
		        s->findings[i].detail, s->findings[i].detail[0] ? ")" : "");
	if (s->n_findings > n)
		fprintf(f, "\n          ... %zu more", s->n_findings - n);
	fprintf(f, "\n          expected: ");
	for (size_t i = 0; i < run->n_findings; i++)
		fprintf(f, "%s%s", i ? ", " : "", run->findings[i]);
	fprintf(f, "%s\n", run->n_findings ? "" : "none");
}

void cli_print_summary(FILE *f, const struct hvsim_scenario *sc, size_t run,
                       const struct exec_opts *o, const struct exec_result *r)
{
	const struct hvsim_summary *s = &r->sum;
	const struct hvsim_hv_ops *hv = cli_algorithm(sc, o->hv);
	char quirks[512];

	cli_quirk_list(sc, run, hv, false, quirks, sizeof(quirks));
	fprintf(f, "scenario  %s (%s)\n", sc->name, sc->file);
	fprintf(f, "run       %s  algorithm %s  seed 0x%llx\n", sc->runs[run].name,
	        hv ? hv->name : "?",
	        (unsigned long long)(o->has_seed ? o->seed : sc->runs[run].seed));
	fprintf(f, "quirks    %s\n", quirks);
	fprintf(f, "ended     %s at %.3f us virtual (wall %.2f ms)\n", s->end_reason,
	        (double)s->virtual_ns / 1e3, r->wall_ms);
	fprintf(f,
	        "guest     %llu instructions, %llu exits, %llu injections, %llu EOIs, %llu timer "
	        "expiries\n",
	        (unsigned long long)s->instructions, (unsigned long long)s->exits,
	        (unsigned long long)s->injections, (unsigned long long)s->eois,
	        (unsigned long long)s->timer_fires);
	print_exits(f, s);
	print_findings(f, &sc->runs[run], s);
	if (o->trace_path)
		fprintf(f, "trace     %s (%llu lines)\n", o->trace_path,
		        (unsigned long long)s->trace_lines);
	if (r->status != EXIT_PASS)
		fprintf(f, "result    FAIL: %s\n", r->msg);
	else
		fprintf(f, "result    pass\n");
}
