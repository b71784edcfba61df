/* hvsim fuzz: runs a libFuzzer harness built by `make fuzz` (build-fuzz/fuzz/TARGET) on a corpus
 * with one progress line, lists what it found, and exports a finding as a scenario file. The
 * harness binaries do the fuzzing; this file starts processes, reads their logs and copies files.
 * Layout of a campaign: fuzz/out/TARGET/{corpus,seeds,artifacts,logs}/ (docs/fuzzing.md). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>

#define TARGETS_FILE     "fuzz/targets.txt"
#define OUT_ROOT         "fuzz/out"
#define PATH_CAP         4096
#define LINE_CAP         1024
#define ARGS_MAX         48
#define POLL_MS          500
#define TTY_REFRESH_MS   1000
#define PIPE_REFRESH_MS  30000 /* progress lines when stderr is not a terminal */
#define GRACE_MS         5000  /* between SIGTERM and SIGKILL at the deadline */
#define TAIL_BYTES       8192
#define TAIL_BYTES_FINAL (4L << 20) /* a finished log's tail: status line, dictionary, stats */
#define FINDINGS_MAX     64
#define MINIMIZE_S       60

static const char fuzz_usage[] =
    "usage: hvsim fuzz TARGET [--time S] [--jobs N] [--corpus DIR] [--build DIR] [--record DIR]\n"
    "                  [-- LIBFUZZER-ARG...]\n"
    "       hvsim fuzz TARGET --export CRASH [--out FILE] [--no-minimize] [--build DIR]\n"
    "       hvsim fuzz --list\n"
    "\n"
    "Runs the libFuzzer harness TARGET (build it with `make fuzz`) with a progress line\n"
    "(executions per second, edge coverage, findings), then lists the findings. Work files go to\n"
    "fuzz/out/TARGET/: corpus/ (the default corpus), seeds/, artifacts/ (crash files), logs/.\n"
    "\n"
    "  --time S       stop after S seconds (default 60)\n"
    "  --jobs N       N parallel libFuzzer jobs (-jobs/-workers, default 1)\n"
    "  --corpus DIR   the corpus directory to grow (default fuzz/out/TARGET/corpus)\n"
    "  --build DIR    where the harnesses are built (default build-fuzz)\n"
    "  --record DIR   record every input each job runs, in order, to DIR/TARGET-PID.seq, for a\n"
    "                 finding that needs the inputs before it: TARGET-replay --sequence LOG\n"
    "                 [--reduce OUT] replays the log and reduces it (docs/fuzzing.md)\n"
    "  --export CRASH minimize CRASH (libFuzzer -minimize_crash), save it under\n"
    "                 fuzz/crashes/TARGET/, write the scenario that reproduces it and run it\n"
    "  --out FILE     the scenario file --export writes (default fuzz/findings/NAME.json)\n"
    "  --no-minimize  export CRASH as it is\n"
    "  --list         list the fuzz targets, built or planned\n"
    "\n"
    "Exit status: 0 no findings (export: written), 1 findings, 2 usage error or missing\n"
    "harness, 3 internal error.\n";

struct fuzz_args {
	const char *target, *corpus, *build, *crash, *out, *record;
	unsigned time_s, jobs;
	bool list, no_minimize;
	char **extra; /* arguments after "--", passed to libFuzzer */
	int n_extra;
};

struct fuzz_stats {
	uint64_t execs; /* executions, all jobs */
	uint64_t rate;  /* executions per second, all jobs (each job's own average) */
	uint64_t cov;   /* edge coverage ("cov:"), best job */
	uint64_t ft;    /* features ("ft:"), best job */
	uint64_t corp;  /* corpus units, best job */
	unsigned findings;
};

struct finding {
	char file[PATH_CAP];
	char kind[160];
};

static volatile sig_atomic_t interrupted;

/* snprintf for paths and messages: a cut is harmless here (the file then is not found). */
static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, cap, f, ap);
	va_end(ap);
}

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- files ---- */

static bool mkdirs(const char *path)
{
	char buf[PATH_CAP];

	fmt(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return mkdir(buf, 0777) == 0 || errno == EEXIST;
}

static bool is_file(const char *path, bool exec)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (!exec || access(path, X_OK) == 0);
}

static bool write_all(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

static bool copy_file(const char *from, const char *to)
{
	struct hvsim_error err = {0};
	size_t len = 0;
	char *buf = cli_read_file(from, &len, &err);
	bool ok = buf && write_all(to, buf, len);

	free(buf);
	return ok;
}

static unsigned count_files(const char *dir, const char *pattern)
{
	char pat[PATH_CAP];
	glob_t g;
	unsigned n;

	fmt(pat, sizeof(pat), "%s/%s", dir, pattern);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = (unsigned)g.gl_pathc;
	globfree(&g);
	return n;
}

/* FNV-1a 64, the same as the harnesses' fz_hash: names a reproducer after its content. */
static uint64_t content_hash(const char *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* ---- targets ---- */

/* Finds TARGET's line in fuzz/targets.txt: rest receives what follows the name. */
static bool target_line(const char *name, char *rest, size_t cap)
{
	FILE *f = fopen(TARGETS_FILE, "r");
	char line[LINE_CAP], first[128];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		int off = 0;

		if (line[0] == '#' || sscanf(line, "%127s %n", first, &off) != 1)
			continue;
		if (strcmp(first, name) == 0) {
			fmt(rest, cap, "%s", line + off);
			rest[strcspn(rest, "\n")] = '\0';
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void harness_path(const struct fuzz_args *a, const char *suffix, char *buf, size_t cap)
{
	fmt(buf, cap, "%s/fuzz/%s%s", a->build, a->target, suffix);
}

static int list_targets(const char *build)
{
	FILE *f = fopen(TARGETS_FILE, "r");
	char line[LINE_CAP], name[128], bin[PATH_CAP];

	if (!f) {
		fprintf(stderr, "hvsim fuzz: %s: %s (run from the repository root)\n", TARGETS_FILE,
		        strerror(errno));
		return EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), f)) {
		int off = 0;

		if (line[0] == '#' || sscanf(line, "%127s %n", name, &off) != 1)
			continue;
		line[strcspn(line, "\n")] = '\0';
		fmt(bin, sizeof(bin), "%s/fuzz/%s", build, name);
		if (strncmp(line + off, "planned", 7) == 0)
			printf("%-22s %s\n", name, line + off + 8);
		else
			printf("%-22s %s  seeds: fuzz/corpus/%s %s\n", name,
			       is_file(bin, true) ? "built" : "not built (make fuzz)", name,
			       line + off);
	}
	fclose(f);
	return EXIT_PASS;
}

/* ---- the campaign's directories and seeds ---- */

struct campaign {
	char out[PATH_CAP], corpus[PATH_CAP], seeds[PATH_CAP], artifacts[PATH_CAP], logs[PATH_CAP];
	char bin[PATH_CAP], dict[PATH_CAP], options[PATH_CAP];
	unsigned artifacts_before; /* reports an earlier campaign left in artifacts/ */
};

static bool absolute(char *path)
{
	char buf[PATH_CAP];

	if (!realpath(path, buf))
		return false;
	fmt(path, PATH_CAP, "%s", buf);
	return true;
}

static bool setup_dirs(const struct fuzz_args *a, struct campaign *c)
{
	fmt(c->out, sizeof(c->out), "%s/%s", OUT_ROOT, a->target);
	fmt(c->corpus, sizeof(c->corpus), "%s", a->corpus ? a->corpus : "");
	if (!a->corpus)
		fmt(c->corpus, sizeof(c->corpus), "%s/corpus", c->out);
	fmt(c->seeds, sizeof(c->seeds), "%s/seeds", c->out);
	fmt(c->artifacts, sizeof(c->artifacts), "%s/artifacts", c->out);
	fmt(c->logs, sizeof(c->logs), "%s/logs", c->out);
	if (!mkdirs(c->corpus) || !mkdirs(c->seeds) || !mkdirs(c->artifacts) || !mkdirs(c->logs))
		return false;
	return absolute(c->corpus) && absolute(c->seeds) && absolute(c->artifacts) &&
	       absolute(c->logs) && absolute(c->bin);
}

/* Copies every file matching pattern into the seeds directory, named after its path. */
static unsigned copy_seeds(const char *pattern, const char *seeds)
{
	char to[PATH_CAP * 2];
	unsigned n = 0;
	glob_t g;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char flat[PATH_CAP];

		if (!is_file(g.gl_pathv[i], false))
			continue;
		fmt(flat, sizeof(flat), "%s", g.gl_pathv[i]);
		for (char *p = flat; *p; p++)
			*p = *p == '/' ? '_' : *p;
		fmt(to, sizeof(to), "%s/%s", seeds, flat);
		n += copy_file(g.gl_pathv[i], to);
	}
	globfree(&g);
	return n;
}

static unsigned gather_seeds(const struct fuzz_args *a, const struct campaign *c)
{
	char rest[LINE_CAP], pattern[PATH_CAP];
	unsigned n;

	fmt(pattern, sizeof(pattern), "fuzz/corpus/%s/*", a->target);
	n = copy_seeds(pattern, c->seeds);
	if (target_line(a->target, rest, sizeof(rest)) && strncmp(rest, "planned", 7) != 0)
		for (char *save = NULL, *g = strtok_r(rest, " \t", &save); g;
		     g = strtok_r(NULL, " \t", &save))
			n += copy_seeds(g, c->seeds);
	return n;
}

/* ---- libFuzzer's command line ---- */

struct argv_buf {
	char *v[ARGS_MAX + 1];
	char store[ARGS_MAX][PATH_CAP];
	int n;
};

/* Appends the argument prefix + s. */
static void arg_add(struct argv_buf *b, const char *prefix, const char *s)
{
	if (b->n >= ARGS_MAX)
		return;
	fmt(b->store[b->n], PATH_CAP, "%s%s", prefix, s);
	b->v[b->n] = b->store[b->n];
	b->v[++b->n] = NULL;
}

/* fuzz/TARGET.options, OSS-Fuzz style: "key = value" lines under [libfuzzer]; dict is resolved
 * here. */
static void add_options(struct argv_buf *b, const struct campaign *c)
{
	FILE *f = fopen(c->options, "r");
	char line[LINE_CAP], key[64], val[512];
	bool section = false;

	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '[') {
			section = strncmp(line, "[libfuzzer]", 11) == 0;
			continue;
		}
		if (!section || line[0] == '#' ||
		    sscanf(line, " %63[^= ] = %511s", key, val) != 2 || strcmp(key, "dict") == 0)
			continue;
		fmt(line, sizeof(line), "-%s=%s", key, val);
		arg_add(b, "", line);
	}
	if (f)
		fclose(f);
}

static void build_args(struct argv_buf *b, const struct fuzz_args *a, const struct campaign *c)
{
	char num[32], art[PATH_CAP];

	b->n = 0;
	arg_add(b, "", c->bin);
	arg_add(b, "", c->corpus);
	arg_add(b, "", c->seeds);
	fmt(num, sizeof(num), "%u", a->time_s);
	arg_add(b, "-max_total_time=", num);
	/* One job per worker, each for the whole time; a job that finds a crash ends early. */
	fmt(num, sizeof(num), "%u", a->jobs);
	arg_add(b, "-jobs=", num);
	arg_add(b, "-workers=", num);
	fmt(art, sizeof(art), "%s/", c->artifacts);
	arg_add(b, "-artifact_prefix=", art);
	arg_add(b, "-print_final_stats=", "1");
	if (is_file(c->dict, false))
		arg_add(b, "-dict=", c->dict);
	/* libFuzzer rereads the corpus directory every second for files other jobs added: one job
	 * has none, and the stat of every file was 1.5% of a fuzz_hv_transitions campaign with a
	 * 15,000-file corpus */
	if (a->jobs == 1)
		arg_add(b, "-reload=", "0");
	add_options(b, c);
	for (int i = 0; i < a->n_extra; i++)
		arg_add(b, "", a->extra[i]);
}

/* ---- processes ---- */

/* Starts argv in its own process group with cwd dir (NULL: here) and stdout+stderr to log. */
static pid_t spawn(char *const *argv, const char *dir, const char *log)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
	}
	if (dir && chdir(dir) != 0)
		_exit(127);
	execv(argv[0], argv);
	_exit(127);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits for pid; after deadline_ms (0: none) or an interrupt, SIGTERM then SIGKILL to its group. */
static int wait_child(pid_t pid, double deadline_ms, void (*tick)(void *), void *ctx)
{
	double term_at = 0;
	int status = 0;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		double now = cli_wall_ms();

		if (!term_at && (interrupted || (deadline_ms > 0 && now >= deadline_ms))) {
			kill(-pid, SIGTERM);
			term_at = now;
		} else if (term_at && now - term_at > GRACE_MS) {
			kill(-pid, SIGKILL);
		}
		if (tick)
			tick(ctx);
		sleep_ms(POLL_MS);
	}
	kill(-pid, SIGKILL); /* jobs the libFuzzer parent left behind */
	return status;
}

/* ---- progress ---- */

static uint64_t field_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	unsigned long long v = 0;

	if (p)
		sscanf(p + strlen(key), "%llu", &v);
	return v;
}

/* The last tail bytes of the file at path, NUL-terminated, malloc'd; NULL when unreadable. */
static char *read_tail(const char *path, long tail)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? malloc((size_t)tail + 1) : NULL;
	size_t len = 0;

	if (buf) {
		if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > tail)
			fseek(f, -tail, SEEK_END);
		else
			fseek(f, 0, SEEK_SET);
		len = fread(buf, 1, (size_t)tail, f);
		buf[len] = '\0';
	}
	if (f)
		fclose(f);
	return buf;
}

/* The last status line ("#N ... cov: C ...") in buf, or NULL. */
static const char *last_status(const char *buf)
{
	const char *line = NULL, *p;
	unsigned long long n;

	for (p = buf; (p = strstr(p, "\n#")); p++)
		if (strstr(p + 1, " cov: ") && sscanf(p + 2, "%llu", &n) == 1)
			line = p + 1;
	return line;
}

/* Reads one job's log: its last status line ("#N ... cov: C ft: F corp: U/... exec/s: R"), or its
 * final statistics ("stat::number_of_executed_units: N") once the job ended. At the end libFuzzer
 * may print a long recommended dictionary after the last status line: then a longer tail is read.
 */
static void log_status(const char *path, struct fuzz_stats *s)
{
	char *buf = read_tail(path, TAIL_BYTES);
	const char *line = buf ? last_status(buf) : NULL;
	unsigned long long n = 0;

	if (buf && !line && strstr(buf, "stat::")) {
		free(buf);
		buf = read_tail(path, TAIL_BYTES_FINAL);
		line = buf ? last_status(buf) : NULL;
	}
	if (!line) {
		free(buf);
		return;
	}
	sscanf(line + 1, "%llu", &n);
	s->execs += strstr(buf, "stat::number_of_executed_units: ")
	                ? field_after(buf, "stat::number_of_executed_units: ")
	                : n;
	s->rate += strstr(buf, "stat::average_exec_per_sec: ")
	               ? field_after(buf, "stat::average_exec_per_sec: ")
	               : field_after(line, " exec/s: ");
	s->cov = field_after(line, " cov: ") > s->cov ? field_after(line, " cov: ") : s->cov;
	s->ft = field_after(line, " ft: ") > s->ft ? field_after(line, " ft: ") : s->ft;
	s->corp = field_after(line, " corp: ") > s->corp ? field_after(line, " corp: ") : s->corp;
	free(buf);
}

/* The crash, leak, timeout and out-of-memory inputs libFuzzer wrote into dir. */
static unsigned count_reports(const char *dir)
{
	return count_files(dir, "crash-*") + count_files(dir, "leak-*") +
	       count_files(dir, "timeout-*") + count_files(dir, "oom-*");
}

static void gather_stats(const struct campaign *c, struct fuzz_stats *s)
{
	char pat[PATH_CAP];
	glob_t g;

	memset(s, 0, sizeof(*s));
	fmt(pat, sizeof(pat), "%s/fuzz-*.log", c->logs);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			log_status(g.gl_pathv[i], s);
		globfree(&g);
	}
	s->findings = count_reports(c->artifacts) - c->artifacts_before;
}

struct progress {
	const struct fuzz_args *a;
	const struct campaign *c;
	double start_ms, last_ms;
	bool tty, shown;
};

static void print_progress(struct progress *p, bool final)
{
	struct fuzz_stats s;
	double secs = (cli_wall_ms() - p->start_ms) / 1000.0;

	gather_stats(p->c, &s);
	fprintf(stderr,
	        "%s[%4.0fs/%us] %s  jobs %u  execs %llu (%.0f/s)  cov %llu  ft %llu  corpus %llu  "
	        "findings %u%s",
	        p->tty ? "\r" : "", secs, p->a->time_s, p->a->target, p->a->jobs,
	        (unsigned long long)s.execs, secs > 0 ? (double)s.execs / secs : 0.0,
	        (unsigned long long)s.cov, (unsigned long long)s.ft, (unsigned long long)s.corp,
	        s.findings, p->tty && !final ? "  " : "\n");
	p->shown = true;
}

static void tick(void *ctx)
{
	struct progress *p = ctx;
	double now = cli_wall_ms();

	if (now - p->last_ms >= (p->tty ? TTY_REFRESH_MS : PIPE_REFRESH_MS)) {
		print_progress(p, false);
		p->last_ms = now;
	}
}

/* ---- findings ---- */

/* The kind of report a log line starts, or NULL. */
static const char *report_kind(const char *line, char *buf, size_t cap)
{
	const char *p;

	if ((p = strstr(line, "==hvsim-fuzz== FINDING "))) {
		fmt(buf, cap, "invariant %s", p + 23);
		buf[strcspn(buf, ":\n")] = '\0';
		return buf;
	}
	if ((p = strstr(line, "SUMMARY: "))) {
		fmt(buf, cap, "%s", p + 9);
		buf[strcspn(buf, "\n")] = '\0';
		return buf;
	}
	if ((p = strstr(line, "ERROR: libFuzzer: "))) {
		fmt(buf, cap, "libFuzzer: %s", p + 18);
		buf[strcspn(buf, "\n")] = '\0';
		return buf;
	}
	if (strstr(line, "ALARM: working on the last Unit")) { /* precedes a timeout's test unit */
		fmt(buf, cap, "libFuzzer: timeout");
		return buf;
	}
	return NULL;
}

/* Whether file is already among the n findings (the driver's log and a job's log may both
 * name it); a known kind replaces an "unknown" one there. */
static bool listed(struct finding *f, size_t n, const char *file, const char *kind)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].file, file) != 0)
			continue;
		if (strcmp(f[i].kind, "unknown") == 0)
			fmt(f[i].kind, sizeof(f[i].kind), "%s", kind);
		return true;
	}
	return false;
}

/* A unit libFuzzer saved for its time alone (-report_slow_units): not a finding. */
static bool slow_unit(const char *line)
{
	const char *p = strstr(line, "Test unit written to ");

	return p && strstr(p, "slow-unit-");
}

/* Pairs each "Test unit written to FILE" of a log with the report before it; slow units are
 * counted in *slow instead. */
static void scan_log(const char *path, struct finding *out, size_t *n, size_t *slow)
{
	FILE *f = fopen(path, "r");
	char line[LINE_CAP], kind[160] = "unknown", tmp[160];
	const char *p;

	while (f && fgets(line, sizeof(line), f)) {
		if (slow_unit(line)) {
			(*slow)++;
			continue;
		}
		if (report_kind(line, tmp, sizeof(tmp)) && strncmp(kind, "invariant", 9) != 0)
			fmt(kind, sizeof(kind), "%s", tmp);
		if (strncmp(line, "==hvsim-fuzz== FINDING", 22) == 0)
			report_kind(line, kind, sizeof(kind)); /* an invariant names it best */
		if ((p = strstr(line, "Test unit written to ")) && *n < FINDINGS_MAX) {
			fmt(out[*n].file, sizeof(out[*n].file), "%s", p + 21);
			out[*n].file[strcspn(out[*n].file, "\n")] = '\0';
			fmt(out[*n].kind, sizeof(out[*n].kind), "%s", kind);
			if (!listed(out, *n, out[*n].file, kind))
				(*n)++;
			fmt(kind, sizeof(kind), "unknown");
		}
	}
	if (f)
		fclose(f);
}

static size_t list_findings(const struct fuzz_args *a, const struct campaign *c)
{
	struct finding *f = calloc(FINDINGS_MAX, sizeof(*f));
	char pat[PATH_CAP];
	size_t n = 0, slow = 0;
	glob_t g;

	fmt(pat, sizeof(pat), "%s/*.log", c->logs);
	if (f && glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			scan_log(g.gl_pathv[i], f, &n, &slow);
		globfree(&g);
	}
	if (slow)
		printf("%zu slow input report%s (libFuzzer's -report_slow_units, not findings) in "
		       "%s\n",
		       slow, slow == 1 ? "" : "s", c->artifacts);
	printf("%zu finding%s\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		printf("  %s\n    %s\n    export: hvsim fuzz %s --export %s\n", f[i].file,
		       f[i].kind, a->target, f[i].file);
	free(f);
	return n;
}

/* The harness binaries record every input they run to dir (fuzz/seq_record.c), which the jobs
 * find by an absolute path whatever their working directory. */
static bool record_inputs(const char *dir)
{
	char abs[PATH_CAP];

	if (!mkdirs(dir) || !realpath(dir, abs)) {
		fprintf(stderr, "hvsim fuzz: --record: cannot create %s: %s\n", dir,
		        strerror(errno));
		return false;
	}
	setenv("HVSIM_FUZZ_SEQUENCE", abs, 1);
	fprintf(stderr, "hvsim fuzz: recording every input to %s/ (one .seq log per job)\n", abs);
	return true;
}

static int run_campaign(const struct fuzz_args *a)
{
	struct campaign c = {0};
	struct progress p = {.a = a, .c = &c, .tty = cli_isatty(stderr)};
	struct argv_buf *b = calloc(1, sizeof(*b));
	char log[PATH_CAP + 16];
	unsigned seeds;
	pid_t pid;
	size_t n;

	harness_path(a, "", c.bin, sizeof(c.bin));
	fmt(c.dict, sizeof(c.dict), "fuzz/%s.dict", a->target);
	fmt(c.options, sizeof(c.options), "fuzz/%s.options", a->target);
	if (!b || !is_file(c.bin, true) || !setup_dirs(a, &c)) {
		fprintf(stderr, "hvsim fuzz: %s: %s\n", c.bin,
		        b && !is_file(c.bin, true) ? "no such harness (run `make fuzz` first)"
		                                   : "cannot create fuzz/out/ directories");
		free(b);
		return EXIT_USAGE;
	}
	if (is_file(c.dict, false))
		absolute(c.dict);
	seeds = gather_seeds(a, &c);
	c.artifacts_before = count_reports(c.artifacts);
	build_args(b, a, &c);
	if (a->record && !record_inputs(a->record)) {
		free(b);
		return EXIT_USAGE;
	}
	fmt(log, sizeof(log), "%s/driver.log", c.logs);
	fprintf(stderr, "hvsim fuzz: %s for %us with %u job%s, %u seeds, corpus %s, logs %s\n",
	        a->target, a->time_s, a->jobs, a->jobs == 1 ? "" : "s", seeds, c.corpus, c.logs);
	signal(SIGINT, on_interrupt);
	p.start_ms = p.last_ms = cli_wall_ms();
	pid = spawn(b->v, c.logs, log);
	free(b);
	if (pid < 0)
		return EXIT_INTERNAL;
	wait_child(pid, p.start_ms + a->time_s * 1000.0 + GRACE_MS, tick, &p);
	signal(SIGINT, SIG_DFL);
	print_progress(&p, true);
	n = list_findings(a, &c);
	return n ? EXIT_MISMATCH : EXIT_PASS;
}

/* ---- export ---- */

/* Runs argv with stdout into buf (NUL-terminated); returns the wait status, -1 if it did not start.
 */
static int run_capture(char *const *argv, char *buf, size_t cap)
{
	int fds[2], status = -1;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	buf[0] = '\0';
	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && (r = read(fds[0], buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return status;
}

/* libFuzzer -minimize_crash: the smallest input that still fails the same way, into min. */
static bool minimize(const struct fuzz_args *a, const char *crash, const char *min)
{
	char bin[PATH_CAP], log[PATH_CAP];
	char t[32], art[PATH_CAP + 32];
	char *argv[] = {bin, "-minimize_crash=1", t, art, (char *)crash, NULL};
	pid_t pid;

	harness_path(a, "", bin, sizeof(bin));
	if (a->no_minimize || !is_file(bin, true))
		return false;
	fmt(t, sizeof(t), "-max_total_time=%d", MINIMIZE_S);
	fmt(art, sizeof(art), "-exact_artifact_path=%s", min);
	fmt(log, sizeof(log), "%s.log", min);
	unlink(min);
	pid = spawn(argv, NULL, log);
	if (pid < 0)
		return false;
	wait_child(pid, cli_wall_ms() + (MINIMIZE_S + 30) * 1000.0, NULL, NULL);
	return is_file(min, false);
}

/* Saves the reproducer under fuzz/crashes/TARGET/ as NAME; fills name ("TARGET-HASH"). */
static bool save_repro(const struct fuzz_args *a, const char *input, char *name, size_t cap,
                       char *saved, size_t scap)
{
	struct hvsim_error err = {0};
	char dir[PATH_CAP];
	size_t len = 0;
	char *buf = cli_read_file(input, &len, &err);
	bool ok;

	if (!buf)
		return false;
	fmt(name, cap, "%s-%016llx", a->target, (unsigned long long)content_hash(buf, len));
	fmt(dir, sizeof(dir), "fuzz/crashes/%s", a->target);
	fmt(saved, scap, "%s/%s", dir, name);
	ok = mkdirs(dir) && write_all(saved, buf, len);
	free(buf);
	return ok;
}

/* Runs `hvsim run FILE --no-trace` in a child of this process with its output into out; describes
 * the outcome in what; returns the exit status (-1 when it did not exit). */
static int reproduce(const char *file, char *what, size_t cap, char *out, size_t out_cap)
{
	char *argv[] = {"run", (char *)file, "--no-trace", NULL};
	int status = 0, fds[2];
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	out[0] = '\0';
	fflush(NULL);
	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		fmt(what, cap, "could not be run");
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		optind = 0; /* getopt restarts for the subcommand */
		_exit(cmd_run(3, argv));
	}
	close(fds[1]);
	while ((r = read(fds[0], out + len, out_cap - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		fmt(what, cap, "killed by signal %d (the crash reproduces)", WTERMSIG(status));
	else
		fmt(what, cap, "exit %d", WEXITSTATUS(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A rejected input's regression check: REPRODUCER.expect holds the message `hvsim run REPRODUCER`
 * prints (tests/test_fuzz_crashes.c compares them). */
static void write_expect(const char *saved)
{
	char what[64], out[HVSIM_ERR_MSG_MAX * 2], path[PATH_CAP + 8];

	if (reproduce(saved, what, sizeof(what), out, sizeof(out)) != EXIT_USAGE)
		return;
	out[strcspn(out, "\n")] = '\0';
	fmt(path, sizeof(path), "%s.expect", saved);
	strcat(out, "\n");
	if (write_all(path, out, strlen(out)))
		printf("expect      %s\n", path);
}

static int export_crash(const struct fuzz_args *a)
{
	char replay[PATH_CAP], min[PATH_CAP], name[192], saved[PATH_CAP], out[PATH_CAP], info[2048];
	char outcome[128], output[8192];
	char *argv[] = {replay, "--export", out, saved, NULL};
	const char *input = a->crash;
	int st;

	harness_path(a, "-replay", replay, sizeof(replay));
	if (!is_file(replay, true))
		fmt(replay, sizeof(replay), "build-asan/fuzz/%s-replay", a->target);
	if (!is_file(replay, true) || !is_file(a->crash, false)) {
		fprintf(stderr, "hvsim fuzz: %s\n",
		        is_file(a->crash, false)
		            ? "no replay binary (run `make fuzz` or `make check`)"
		            : "--export: no such crash file");
		return EXIT_USAGE;
	}
	fmt(min, sizeof(min), "%s.min", a->crash);
	if (minimize(a, a->crash, min))
		input = min;
	if (!save_repro(a, input, name, sizeof(name), saved, sizeof(saved)) ||
	    !mkdirs("fuzz/findings")) {
		fprintf(stderr, "hvsim fuzz: cannot write fuzz/crashes/%s/\n", a->target);
		return EXIT_INTERNAL;
	}
	fmt(out, sizeof(out), a->out ? "%s" : "fuzz/findings/%s.json", a->out ? a->out : name);
	st = run_capture(argv, info, sizeof(info));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "hvsim fuzz: %s --export failed (status %d)\n%s", replay, st, info);
		return EXIT_INTERNAL;
	}
	reproduce(out, outcome, sizeof(outcome), output, sizeof(output));
	printf("input       %s%s\nreproducer  %s\nscenario    %s\n%shvsim run   %s\n%s", a->crash,
	       input == min ? " (minimized)" : "", saved, out, info, outcome, output);
	if (strstr(info, "kind: invalid"))
		write_expect(saved);
	return EXIT_PASS;
}

/* ---- command line ---- */

static int parse_fuzz(int argc, char **argv, struct fuzz_args *a)
{
	static const struct option opts[] = {
	    {"time", required_argument, 0, 't'},
	    {"jobs", required_argument, 0, 'j'},
	    {"corpus", required_argument, 0, 'c'},
	    {"build", required_argument, 0, 'b'},
	    {"export", required_argument, 0, 'e'},
	    {"out", required_argument, 0, 'o'},
	    {"no-minimize", no_argument, 0, 'n'},
	    {"list", no_argument, 0, 'l'},
	    {"record", required_argument, 0, 'r'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	uint64_t v;
	int c, end = argc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			end = i; /* what follows goes to libFuzzer untouched */
			a->extra = argv + i + 1;
			a->n_extra = argc - i - 1;
			break;
		}
	}
	while ((c = getopt_long(end, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
		case 'j':
			if (!cli_parse_u64(optarg, &v) || v == 0 || v > 1000000) {
				fprintf(stderr,
				        "hvsim fuzz: --%s: expected a positive number, found "
				        "\"%s\"\n",
				        c == 't' ? "time" : "jobs", optarg);
				return EXIT_USAGE;
			}
			*(c == 't' ? &a->time_s : &a->jobs) = (unsigned)v;
			break;
		case 'c': a->corpus = optarg; break;
		case 'b': a->build = optarg; break;
		case 'e': a->crash = optarg; break;
		case 'o': a->out = optarg; break;
		case 'r': a->record = optarg; break;
		case 'n': a->no_minimize = true; break;
		case 'l': a->list = true; break;
		case 'h': fputs(fuzz_usage, stdout); return -1;
		default: fputs(fuzz_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < end)
		a->target = argv[optind++];
	if (optind < end) {
		fprintf(stderr, "hvsim fuzz: unexpected \"%s\" (one TARGET)\n", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_PASS;
}

/* The harnesses and the replay binaries it starts inherit LSAN_OPTIONS naming fuzz/lsan.supp (leaks
 * inside third-party libraries), unless the user set LSAN_OPTIONS. */
static void lsan_suppressions(void)
{
	char path[PATH_CAP], opt[PATH_CAP + 40];

	if (getenv("LSAN_OPTIONS") || !realpath("fuzz/lsan.supp", path))
		return;
	fmt(opt, sizeof(opt), "suppressions=%s:print_suppressions=0", path);
	setenv("LSAN_OPTIONS", opt, 0);
}

int cmd_fuzz(int argc, char **argv)
{
	struct fuzz_args a = {.time_s = 60, .jobs = 1, .build = "build-fuzz"};
	char rest[LINE_CAP];
	int rc = parse_fuzz(argc, argv, &a);

	if (rc != EXIT_PASS)
		return rc < 0 ? EXIT_PASS : rc;
	if (a.list)
		return list_targets(a.build);
	if (!a.target) {
		fprintf(stderr, "hvsim fuzz: expected a TARGET (see hvsim fuzz --list)\n%s",
		        fuzz_usage);
		return EXIT_USAGE;
	}
	if (target_line(a.target, rest, sizeof(rest)) && strncmp(rest, "planned", 7) == 0) {
		fprintf(stderr, "hvsim fuzz: %s is %s\n", a.target, rest);
		return EXIT_USAGE;
	}
	lsan_suppressions();
	return a.crash ? export_crash(&a) : run_campaign(&a);
}
