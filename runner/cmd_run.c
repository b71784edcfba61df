/* hvsim run: one scenario, one or all of its runs, a trace file per run and a one-screen summary.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
    "usage: hvsim run SCENARIO [--run NAME] [--trace FILE | --no-trace] [--seed N]\n"
    "                 [--verbose] [--hv PLUGIN.so] [--quiet]\n"
    "\n"
    "Runs a scenario and prints a summary: exits by reason, interrupts, findings, virtual and\n"
    "wall time. Without --run every run of the scenario runs in turn.\n"
    "\n"
    "  --run NAME      only the run called NAME\n"
    "  --trace FILE    write the trace here (default trace.jsonl; with several runs,\n"
    "                  FILE's name gets .RUN before its extension)\n"
    "  --no-trace      write no trace file\n"
    "  --seed N        override the run's seed (decimal or 0x hex)\n"
    "  --verbose       add verbose events (entries, blocks, timers) to the trace\n"
    "  --hv PLUGIN.so  run the algorithm of this plug-in instead of the scenario's\n"
    "  --quiet         print nothing but errors\n"
    "\n"
    "Exit status: 0 pass, 1 unexpected or missing finding, 2 usage or input error,\n"
    "3 internal error.\n";

bool cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !*end && errno == 0;
}

/* trace.jsonl + run "x" -> trace.x.jsonl */
static void run_trace_path(const char *base, const char *run, bool several, char *buf, size_t cap)
{
	const char *dot = strrchr(base, '.');
	const char *slash = strrchr(base, '/');

	if (!several)
		snprintf(buf, cap, "%s", base);
	else if (dot && (!slash || dot > slash))
		snprintf(buf, cap, "%.*s.%s%s", (int)(dot - base), base, run, dot);
	else
		snprintf(buf, cap, "%s.%s", base, run);
}

struct run_args {
	const char *file, *run, *trace, *hv_path;
	bool no_trace, quiet;
	struct exec_opts o;
};

static int parse(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
	    {"run", required_argument, 0, 'r'},
	    {"trace", required_argument, 0, 't'},
	    {"no-trace", no_argument, 0, 'n'},
	    {"seed", required_argument, 0, 's'},
	    {"verbose", no_argument, 0, 'v'},
	    {"hv", required_argument, 0, 'H'},
	    {"quiet", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int c;

	a->trace = "trace.jsonl";
	while ((c = getopt_long(argc, argv, "hqv", opts, NULL)) != -1) {
		switch (c) {
		case 'r': a->run = optarg; break;
		case 't': a->trace = optarg; break;
		case 'n': a->no_trace = true; break;
		case 's':
			if (!cli_parse_u64(optarg, &a->o.seed)) {
				fprintf(stderr,
				        "hvsim run: --seed: expected a number, found \"%s\"\n",
				        optarg);
				return EXIT_USAGE;
			}
			a->o.has_seed = true;
			break;
		case 'v': a->o.level = TRACE_VERBOSE; break;
		case 'H': a->hv_path = optarg; break;
		case 'q': a->quiet = true; break;
		case 'h': fputs(run_usage, stdout); return -1;
		default: fputs(run_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hvsim run: expected one SCENARIO file\n%s", run_usage);
		return EXIT_USAGE;
	}
	a->file = argv[optind];
	return EXIT_PASS;
}

static int run_all(const struct hvsim_scenario *sc, struct run_args *a)
{
	int worst = EXIT_PASS, want = a->run ? hvsim_scenario_find_run(sc, a->run) : -1;
	bool several = !a->run && sc->n_runs > 1;
	char path[4096];

	if (a->run && want < 0) {
		fprintf(stderr, "hvsim run: %s has no run \"%s\"\n", sc->file, a->run);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sc->n_runs; i++) {
		struct exec_result r;

		if (want >= 0 && (size_t)want != i)
			continue;
		run_trace_path(a->trace, sc->runs[i].name, several, path, sizeof(path));
		a->o.trace_path = a->no_trace ? NULL : path;
		cli_exec(sc, i, &a->o, &r);
		if (r.status == EXIT_USAGE) /* the message names the file and JSON path */
			fprintf(stderr, "%s\n", r.msg);
		else if (r.status == EXIT_INTERNAL)
			fprintf(stderr, "hvsim run: internal error: %s\n", r.msg);
		else if (!a->quiet)
			cli_print_summary(stdout, sc, i, &a->o, &r);
		if (!a->quiet && several)
			printf("\n");
		if ((int)r.status > worst)
			worst = (int)r.status;
	}
	return worst;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {0};
	struct hvsim_error err = {0};
	struct hvsim_scenario *sc;
	int rc = parse(argc, argv, &a);

	if (rc != EXIT_PASS)
		return rc < 0 ? EXIT_PASS : rc;
	a.o.progress = !a.quiet && cli_isatty(stderr);
	if (a.hv_path && !(a.o.hv = cli_load_plugin(a.hv_path, &err))) {
		fprintf(stderr, "hvsim run: %s\n", err.msg);
		return EXIT_USAGE;
	}
	sc = cli_load_scenario(a.file, false, &err);
	if (!sc) {
		fprintf(stderr, "%s\n", err.msg);
		return err.status == HVSIM_E_INPUT || err.status == HVSIM_E_IO ? EXIT_USAGE
		                                                               : EXIT_INTERNAL;
	}
	rc = run_all(sc, &a);
	hvsim_scenario_free(sc);
	return rc;
}
