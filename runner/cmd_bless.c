/* hvsim bless: reruns scenarios, shows how each trace differs from its golden, and rewrites the
 * golden once a person has seen the difference. Never in CI: a golden is blessed by a person. */
#include "suite.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char bless_usage[] =
    "usage: hvsim bless SCENARIO... [--run NAME] [--yes]\n"
    "\n"
    "Runs each scenario, shows where its trace differs from the golden file, and rewrites the\n"
    "golden. Asks before each write unless --yes; refuses to run when the CI environment\n"
    "variable is set (goldens are blessed by a person, never by CI). Read a new golden before\n"
    "committing it.\n"
    "\n"
    "  --run NAME   only runs called NAME\n"
    "  --yes        write without asking (needed when stdin is not a terminal)\n"
    "\n"
    "Exit status: 0 done, 1 a run's findings differ from what the scenario expects (the golden\n"
    "is still written), 2 usage or input error, 3 internal error.\n";

static bool confirm(const char *golden)
{
	char answer[16];

	printf("write %s? [y/N] ", golden);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static unsigned long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Shows the difference; returns 1 when the golden should be written, 0 when unchanged, -1 when
 * the person said no. */
static int review(const char *golden, const char *fresh, bool yes)
{
	struct hvsim_error err = {0};
	enum golden_result g = cli_file_exists(NULL, golden)
	                           ? cli_golden_compare(golden, fresh, stdout, &err)
	                           : GOLDEN_ERROR;

	if (g == GOLDEN_MATCH) {
		printf("  unchanged\n");
		return 0;
	}
	if (g == GOLDEN_ERROR)
		printf("  new golden (%lu lines)\n", count_lines(fresh));
	else
		printf("  golden %lu lines, new trace %lu lines\n", count_lines(golden),
		       count_lines(fresh));
	return yes || confirm(golden) ? 1 : -1;
}

static int bless_job(const struct suite *s, const struct job *j, bool yes)
{
	const struct hvsim_scenario *sc = s->scs[j->sc];
	struct exec_opts o = {0};
	struct exec_result r;
	char golden[4096], fresh[4200];
	int verdict;

	suite_golden(s, j, golden, sizeof(golden));
	snprintf(fresh, sizeof(fresh), "%s.new", golden);
	o.trace_path = fresh;
	printf("%s/%s -> %s\n", sc->name, sc->runs[j->run].name, golden);
	cli_exec(sc, j->run, &o, &r);
	if (r.status == EXIT_USAGE || r.status == EXIT_INTERNAL) {
		fprintf(stderr, "  %s\n", r.msg);
		unlink(fresh);
		return r.status;
	}
	if (r.status == EXIT_MISMATCH)
		printf("  warning: %s (expectations live in %s)\n", r.msg, sc->file);
	verdict = review(golden, fresh, yes);
	if (verdict <= 0) {
		unlink(fresh);
		if (verdict < 0)
			printf("  kept the old golden\n");
		return r.status;
	}
	if (rename(fresh, golden) != 0) {
		fprintf(stderr, "  cannot write %s: %s\n", golden, strerror(errno));
		unlink(fresh);
		return EXIT_USAGE;
	}
	printf("  written\n");
	return r.status;
}

int cmd_bless(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"run", required_argument, 0, 'r'},
	    {"yes", no_argument, 0, 'y'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *ci = getenv("CI"), *run = NULL;
	bool yes = false;
	struct suite s;
	int c, worst = EXIT_PASS;

	while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': run = optarg; break;
		case 'y': yes = true; break;
		case 'h': fputs(bless_usage, stdout); return EXIT_PASS;
		default: fputs(bless_usage, stderr); return EXIT_USAGE;
		}
	}
	if (ci && *ci) {
		fprintf(stderr,
		        "hvsim bless: refusing to rewrite goldens in CI (CI=%s): a person "
		        "blesses goldens\n",
		        ci);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "hvsim bless: expected SCENARIO files\n%s", bless_usage);
		return EXIT_USAGE;
	}
	if (!yes && !cli_isatty(stdin)) {
		fprintf(stderr, "hvsim bless: stdin is not a terminal: pass --yes to write without "
		                "asking\n");
		return EXIT_USAGE;
	}
	if (!suite_load(&s, argv + optind, argc - optind, false, run)) {
		suite_free(&s);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < s.n_jobs; k++) {
		int rc = bless_job(&s, &s.jobs[k], yes);

		worst = rc > worst ? rc : worst;
	}
	suite_free(&s);
	return worst;
}
