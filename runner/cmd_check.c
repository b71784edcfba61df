/* hvsim check: runs scenarios and compares each run's trace with its golden. Jobs run in forked
 * workers (-j N); results are printed in job order, so output does not depend on scheduling. */
#include "suite.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char check_usage[] =
    "usage: hvsim check [PATH...] [-j N] [--shard I/N] [--junit FILE] [--traces DIR]\n"
    "                   [--run NAME] [--table] [--hv PLUGIN.so]\n"
    "\n"
    "Runs every scenario under PATH (files or directories; default: scenarios) and compares\n"
    "each run's trace with its golden. On a mismatch it prints the first divergent line, the\n"
    "three lines before it, and the expected and actual lines.\n"
    "\n"
    "  -j N            run N scenario runs in parallel (default 1)\n"
    "  --shard I/N     run only the I-th of N deterministic slices of the runs (CI matrices)\n"
    "  --junit FILE    also write the results as JUnit XML\n"
    "  --traces DIR    keep the actual traces in DIR (NAME.RUN.jsonl)\n"
    "  --run NAME      only runs called NAME\n"
    "  --table         print a summary table (quirks, findings, exits, times, golden)\n"
    "  --hv PLUGIN.so  run the algorithm of this plug-in instead of each scenario's\n"
    "\n"
    "Exit status: 0 all pass, 1 a golden mismatch or an unexpected/missing finding, 2 usage\n"
    "or input error (no scenario runs then), 3 internal error.\n";

#define JOBS_MAX   256
#define REPORT_MAX 8192

struct outcome {
	int status;
	int golden; /* enum golden_result, -1 when not compared */
	unsigned long long exits, virtual_ns;
	double wall_ms;
	char findings[256];
	char report[REPORT_MAX];
};

struct check_args {
	int jobs;
	size_t shard_i, shard_n;
	const char *junit, *traces, *run, *hv_path;
	bool table, progress;
	struct exec_opts o;
	char tmpdir[256];
};

static void findings_text(const struct hvsim_summary *s, char *buf, size_t cap)
{
	size_t n = s->n_findings < HVSIM_MAX_FINDINGS ? s->n_findings : HVSIM_MAX_FINDINGS, len = 0;

	snprintf(buf, cap, "-");
	for (size_t i = 0; i < n && len < cap; i++) {
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup |= strcmp(s->findings[k].kind, s->findings[i].kind) == 0;
		if (!dup)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
			                        s->findings[i].kind);
	}
}

static void trace_path(const struct check_args *a, const struct suite *s, const struct job *j,
                       char *buf, size_t cap)
{
	const struct hvsim_scenario *sc = s->scs[j->sc];

	snprintf(buf, cap, "%s/%s.%s.jsonl", a->traces ? a->traces : a->tmpdir, sc->name,
	         sc->runs[j->run].name);
}

static void run_job(const struct check_args *a, const struct suite *s, const struct job *j,
                    struct outcome *out)
{
	char trace[4096], golden[4096];
	struct exec_opts o = a->o;
	struct exec_result r;
	struct hvsim_error err = {0};
	FILE *rep;

	memset(out, 0, sizeof(*out));
	out->golden = -1;
	trace_path(a, s, j, trace, sizeof(trace));
	o.trace_path = trace;
	cli_exec(s->scs[j->sc], j->run, &o, &r);
	out->status = r.status;
	out->exits = r.sum.exits;
	out->virtual_ns = r.sum.virtual_ns;
	out->wall_ms = r.wall_ms;
	findings_text(&r.sum, out->findings, sizeof(out->findings));
	rep = fmemopen(out->report, sizeof(out->report) - 1, "w");
	if (!rep)
		return;
	if (r.status != EXIT_PASS)
		fprintf(rep, "  %s\n", r.msg);
	if (r.status == EXIT_PASS || r.status == EXIT_MISMATCH) {
		suite_golden(s, j, golden, sizeof(golden));
		out->golden = cli_golden_compare(golden, trace, rep, &err);
		if (out->golden == GOLDEN_DIFFER) {
			fprintf(rep, "  golden %s\n  trace  %s\n", golden, trace);
			out->status = out->status > EXIT_MISMATCH ? out->status : EXIT_MISMATCH;
		} else if (out->golden == GOLDEN_ERROR) {
			fprintf(rep, "  %s\n", err.msg);
			out->status = EXIT_USAGE;
		}
	}
	fclose(rep);
}

/* Worker results travel through a file per job, written by the child, read by the parent. */
static void result_path(const struct check_args *a, size_t k, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/.job-%zu.bin", a->tmpdir, k);
}

static bool save_outcome(const char *path, const struct outcome *o)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(o, sizeof(*o), 1, f) == 1;

	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

static bool load_outcome(const char *path, struct outcome *o)
{
	FILE *f = fopen(path, "rb");
	bool ok = f && fread(o, sizeof(*o), 1, f) == 1;

	if (f)
		fclose(f);
	unlink(path);
	return ok;
}

static void progress(const struct check_args *a, size_t done, size_t total)
{
	if (a->progress)
		fprintf(stderr, "\r[%zu/%zu] scenario runs done", done, total);
}

static void run_serial(const struct check_args *a, const struct suite *s, struct outcome *res)
{
	for (size_t k = 0; k < s->n_jobs; k++) {
		run_job(a, s, &s->jobs[k], &res[k]);
		progress(a, k + 1, s->n_jobs);
	}
}

static pid_t spawn(const struct check_args *a, const struct suite *s, size_t k)
{
	pid_t pid = fork();
	struct outcome *o;
	char path[512];

	if (pid != 0)
		return pid;
	o = malloc(sizeof(*o));
	if (!o)
		_exit(EXIT_INTERNAL);
	run_job(a, s, &s->jobs[k], o);
	result_path(a, k, path, sizeof(path));
	_exit(save_outcome(path, o) ? EXIT_PASS : EXIT_INTERNAL);
}

static void collect(const struct check_args *a, size_t k, int st, struct outcome *res)
{
	char path[512];

	result_path(a, k, path, sizeof(path));
	if (!load_outcome(path, &res[k])) {
		res[k].status = EXIT_INTERNAL;
		res[k].golden = -1;
		snprintf(res[k].report, REPORT_MAX, "  worker ended without a result (status %d)\n",
		         st);
	}
}

static void run_parallel(const struct check_args *a, const struct suite *s, struct outcome *res)
{
	pid_t pids[JOBS_MAX] = {0};
	size_t slot_job[JOBS_MAX], next = 0, done = 0;
	int running = 0, st, i;
	pid_t pid;

	while (done < s->n_jobs) {
		while (running < a->jobs && next < s->n_jobs) {
			for (i = 0; pids[i] > 0; i++)
				;
			pids[i] = spawn(a, s, next);
			if (pids[i] < 0) { /* no process to spare: run it here */
				pids[i] = 0;
				run_job(a, s, &s->jobs[next], &res[next]);
				next++;
				progress(a, ++done, s->n_jobs);
				continue;
			}
			slot_job[i] = next++;
			running++;
		}
		if (!running)
			continue;
		pid = wait(&st);
		for (i = 0; pid > 0 && i < a->jobs && pids[i] != pid; i++)
			;
		if (pid <= 0 || i == a->jobs)
			break; /* cannot happen: every child is ours */
		pids[i] = 0;
		running--;
		collect(a, slot_job[i], st, res);
		progress(a, ++done, s->n_jobs);
	}
}

static void print_line(const struct suite *s, const struct job *j, const struct outcome *o)
{
	const struct hvsim_scenario *sc = s->scs[j->sc];

	printf("%s %s/%s  (%llu exits, findings %s, %.3f ms virtual, %.1f ms wall)\n",
	       o->status == EXIT_PASS ? "PASS" : "FAIL", sc->name, sc->runs[j->run].name, o->exits,
	       o->findings, (double)o->virtual_ns / 1e6, o->wall_ms);
	if (o->status != EXIT_PASS)
		fputs(o->report, stdout);
}

static const char *golden_word(int g)
{
	return g == GOLDEN_MATCH ? "match" : g == GOLDEN_DIFFER ? "DIFFER" : g < 0 ? "-" : "ERROR";
}

static void print_table(const struct check_args *a, const struct suite *s,
                        const struct outcome *res)
{
	printf("%-30s %-9s %-38s %-33s %6s %12s %10s  %s\n", "SCENARIO", "RUN",
	       "QUIRKS (set by the run)", "FINDINGS", "EXITS", "VIRTUAL", "WALL", "GOLDEN");
	for (size_t k = 0; k < s->n_jobs; k++) {
		const struct job *j = &s->jobs[k];
		const struct hvsim_scenario *sc = s->scs[j->sc];
		char quirks[256];

		cli_quirk_list(sc, j->run, cli_algorithm(sc, a->o.hv), true, quirks,
		               sizeof(quirks));
		printf("%-30s %-9s %-38s %-33s %6llu %9.3f ms %7.1f ms  %s\n", sc->name,
		       sc->runs[j->run].name, quirks, res[k].findings, res[k].exits,
		       (double)res[k].virtual_ns / 1e6, res[k].wall_ms, golden_word(res[k].golden));
	}
	for (size_t k = 0; k < s->n_jobs; k++) {
		if (res[k].status != EXIT_PASS) {
			printf("\nFAIL %s/%s\n%s", s->scs[s->jobs[k].sc]->name,
			       s->scs[s->jobs[k].sc]->runs[s->jobs[k].run].name, res[k].report);
		}
	}
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
			fputc(*s, f);
	}
}

static bool write_junit(const char *path, const struct suite *s, const struct outcome *res)
{
	FILE *f = fopen(path, "w");
	size_t failures = 0;

	if (!f)
		return false;
	for (size_t k = 0; k < s->n_jobs; k++)
		failures += res[k].status != EXIT_PASS;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuite name=\"hvsim\" tests=\"%zu\" failures=\"%zu\">\n", s->n_jobs,
	        failures);
	for (size_t k = 0; k < s->n_jobs; k++) {
		const struct hvsim_scenario *sc = s->scs[s->jobs[k].sc];

		fprintf(f, "  <testcase classname=\"");
		xml_text(f, sc->name);
		fprintf(f, "\" name=\"");
		xml_text(f, sc->runs[s->jobs[k].run].name);
		fprintf(f, "\" time=\"%.3f\">", res[k].wall_ms / 1e3);
		if (res[k].status != EXIT_PASS) {
			fprintf(f, "\n    <failure message=\"%s\">",
			        res[k].golden == GOLDEN_DIFFER ? "trace differs from golden"
			                                       : "run failed");
			xml_text(f, res[k].report);
			fprintf(f, "</failure>\n  ");
		}
		fprintf(f, "</testcase>\n");
	}
	fprintf(f, "</testsuite>\n");
	return fclose(f) == 0;
}

static bool parse_shard(const char *s, size_t *i, size_t *n)
{
	unsigned long a, b;
	char tail;

	if (sscanf(s, "%lu/%lu%c", &a, &b, &tail) != 2 || b == 0 || a == 0 || a > b)
		return false;
	*i = a - 1;
	*n = b;
	return true;
}

static int parse(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {
	    {"jobs", required_argument, 0, 'j'},
	    {"shard", required_argument, 0, 'S'},
	    {"junit", required_argument, 0, 'J'},
	    {"traces", required_argument, 0, 'T'},
	    {"run", required_argument, 0, 'r'},
	    {"table", no_argument, 0, 't'},
	    {"hv", required_argument, 0, 'H'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	uint64_t v;
	int c;

	a->jobs = 1;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!cli_parse_u64(optarg, &v) || v < 1 || v > JOBS_MAX) {
				fprintf(stderr, "hvsim check: -j: expected 1..%d, found \"%s\"\n",
				        JOBS_MAX, optarg);
				return EXIT_USAGE;
			}
			a->jobs = (int)v;
			break;
		case 'S':
			if (!parse_shard(optarg, &a->shard_i, &a->shard_n)) {
				fprintf(stderr,
				        "hvsim check: --shard: expected I/N with 1 <= I <= N, "
				        "found \"%s\"\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'J': a->junit = optarg; break;
		case 'T': a->traces = optarg; break;
		case 'r': a->run = optarg; break;
		case 't': a->table = true; break;
		case 'H': a->hv_path = optarg; break;
		case 'h': fputs(check_usage, stdout); return -1;
		default: fputs(check_usage, stderr); return EXIT_USAGE;
		}
	}
	return EXIT_PASS;
}

static bool make_dirs(struct check_args *a)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(a->tmpdir, sizeof(a->tmpdir), "%s/hvsim-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(a->tmpdir)) {
		fprintf(stderr, "hvsim check: cannot create %s: %s\n", a->tmpdir, strerror(errno));
		return false;
	}
	if (a->traces && mkdir(a->traces, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "hvsim check: cannot create %s: %s\n", a->traces, strerror(errno));
		return false;
	}
	return true;
}

/* Removes the temporary traces (kept traces live in --traces DIR). */
static void clean_tmp(const struct check_args *a, const struct suite *s)
{
	char path[4096];

	for (size_t k = 0; !a->traces && k < s->n_jobs; k++) {
		trace_path(a, s, &s->jobs[k], path, sizeof(path));
		unlink(path);
	}
	rmdir(a->tmpdir);
}

static int report_all(const struct check_args *a, const struct suite *s, struct outcome *res)
{
	size_t passed = 0;
	int worst = EXIT_PASS;

	if (a->progress)
		fprintf(stderr, "\r%*s\r", 40, "");
	if (a->table)
		print_table(a, s, res);
	for (size_t k = 0; k < s->n_jobs; k++) {
		if (!a->table)
			print_line(s, &s->jobs[k], &res[k]);
		passed += res[k].status == EXIT_PASS;
		worst = res[k].status > worst ? res[k].status : worst;
	}
	printf("%s%zu of %zu scenario runs passed\n", a->table ? "\n" : "", passed, s->n_jobs);
	if (a->junit && !write_junit(a->junit, s, res)) {
		fprintf(stderr, "hvsim check: cannot write %s\n", a->junit);
		worst = worst > EXIT_USAGE ? worst : EXIT_USAGE;
	}
	return worst;
}

int cmd_check(int argc, char **argv)
{
	struct check_args a = {0};
	struct suite s;
	struct outcome *res;
	struct hvsim_error err = {0};
	char *def[] = {"scenarios"};
	int rc = parse(argc, argv, &a);

	if (rc != EXIT_PASS)
		return rc < 0 ? EXIT_PASS : rc;
	a.progress = cli_isatty(stderr);
	if (a.hv_path && !(a.o.hv = cli_load_plugin(a.hv_path, &err))) {
		fprintf(stderr, "hvsim check: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (!suite_load(&s, optind < argc ? argv + optind : def, optind < argc ? argc - optind : 1,
	                true, a.run)) {
		suite_free(&s);
		return EXIT_USAGE;
	}
	if (a.shard_n)
		suite_shard(&s, a.shard_i, a.shard_n);
	res = calloc(s.n_jobs ? s.n_jobs : 1, sizeof(*res));
	if (!res || !make_dirs(&a)) {
		free(res);
		suite_free(&s);
		return EXIT_INTERNAL;
	}
	fflush(stdout);
	if (a.jobs > 1)
		run_parallel(&a, &s, res);
	else
		run_serial(&a, &s, res);
	rc = report_all(&a, &s, res);
	clean_tmp(&a, &s);
	free(res);
	suite_free(&s);
	return rc;
}
