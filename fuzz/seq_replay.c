/* `TARGET-replay --sequence LOG [--reduce DIR]`: replays a recorded input sequence (fz_seq.h) in
 * one process, the harness choosing its checks as under the fuzzer (FZ_SEQUENCE), and stops at
 * the first record with a finding. With --reduce, it takes the finding at the last record (a
 * fuzzer stops on its finding, so the log ends there), looks for the fewest earlier records it
 * needs (fz_seq_reduce) and writes them, with the record, to DIR. Each trial runs in a child
 * process forked before any input ran, so every trial starts from a fresh harness. */
#include "fz_seq.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRIALS_MAX 1000

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* What a trial's child reports; shared with the parent. */
struct outcome {
	long cur;   /* position (in the trial's selection) of the record running, -1 before */
	long found; /* position of the record with the first finding, -1: none */
	char kind[64];
};

struct replayer {
	const struct fz_seq *seq;
	struct outcome *sh; /* MAP_SHARED */
	bool quiet;         /* the child's stderr goes to /dev/null */
	char want[64];      /* the finding being reduced */
	size_t trials;      /* reduction trials so far */
};

static void child_run(struct replayer *p, const size_t *sel, size_t n)
{
	int argc = 1;
	char *args[] = {(char *)fz_target.name, NULL}, **argv = args;

	if (p->quiet) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
	}
	fz_set_mode(FZ_SEQUENCE);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (size_t i = 0; i < n; i++) {
		p->sh->cur = (long)i;
		LLVMFuzzerTestOneInput(p->seq->buf + p->seq->off[sel[i]], p->seq->size[sel[i]]);
		if (fz_findings()) {
			p->sh->found = (long)i;
			snprintf(p->sh->kind, sizeof(p->sh->kind), "%s", fz_last_kind());
			fflush(NULL);
			_exit(1);
		}
	}
	fflush(NULL);
	_exit(0);
}

/* Runs sel[0..n) in a fresh child; fills p->sh. False when no child could be started. */
static bool run_trial(struct replayer *p, const size_t *sel, size_t n)
{
	int status = 0;
	pid_t pid;

	p->sh->cur = -1;
	p->sh->found = -1;
	p->sh->kind[0] = '\0';
	fflush(NULL);
	if ((pid = fork()) < 0)
		return false;
	if (pid == 0)
		child_run(p, sel, n);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && p->sh->found < 0) { /* a crash: the record that was running */
		p->sh->found = p->sh->cur;
		snprintf(p->sh->kind, sizeof(p->sh->kind), "crash (signal %d)", WTERMSIG(status));
	}
	return true;
}

/* The finding shows at the last record; the first trial that shows one fixes its kind. */
static bool shows(void *ctx, const size_t *sel, size_t n)
{
	struct replayer *p = ctx;

	fprintf(stderr, "%s-replay: reduce: trial %zu, %zu records\n", fz_target.name, ++p->trials,
	        n);
	if (!run_trial(p, sel, n) || p->sh->found != (long)n - 1)
		return false;
	if (!p->want[0])
		snprintf(p->want, sizeof(p->want), "%s", p->sh->kind);
	return strcmp(p->sh->kind, p->want) == 0;
}

static bool write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(data, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "%s-replay: cannot write %s: %s\n", fz_target.name, path,
		        strerror(errno));
	return ok;
}

/* DIR/NN-TARGET-HASH for each record in order, and DIR/sequence.seq with all of them. */
static bool write_reduced(const struct fz_seq *s, const size_t *sel, size_t n, const char *dir)
{
	char path[4096];
	FILE *f;
	bool ok = true;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s-replay: cannot create %s: %s\n", fz_target.name, dir,
		        strerror(errno));
		return false;
	}
	for (size_t i = 0; i < n && ok; i++) {
		const uint8_t *d = s->buf + s->off[sel[i]];

		snprintf(path, sizeof(path), "%s/%02zu-%s-%016llx", dir, i + 1, fz_target.name,
		         (unsigned long long)fz_hash(d, s->size[sel[i]]));
		ok = write_file(path, d, s->size[sel[i]]);
	}
	snprintf(path, sizeof(path), "%s/sequence.seq", dir);
	if (!ok || !(f = fopen(path, "wb")))
		return false;
	ok = fz_seq_put_magic(f);
	for (size_t i = 0; i < n && ok; i++)
		ok = fz_seq_put(f, s->buf + s->off[sel[i]], s->size[sel[i]]);
	return fclose(f) == 0 && ok;
}

/* Reduces the finding at the log's last record, where a fuzzer that recorded it stopped. */
static int reduce(struct replayer *p, size_t *sel, size_t n, const char *dir)
{
	struct fz_seq_reduce r = {.max_trials = TRIALS_MAX};
	size_t last = n - 1;

	p->quiet = true;
	if (!fz_seq_reduce(sel, &n, shows, p, &r)) {
		printf("%s-replay: no finding at the last record (%zu)%s\n", fz_target.name, last,
		       r.spent ? " within the trial budget" : ", even after all the others");
		return 0;
	}
	printf("%s-replay: record %zu (%s) needs %zu earlier record%s:", fz_target.name, last,
	       p->want, n - 1, n == 2 ? "" : "s");
	for (size_t i = 0; i + 1 < n; i++)
		printf(" %zu", sel[i]);
	printf("%s (%zu trials)\n", r.spent ? "; trial budget spent, not minimal" : "", r.trials);
	if (!write_reduced(p->seq, sel, n, dir))
		return 2;
	printf("%s-replay: written to %s/ (replay: %s-replay --sequence %s/sequence.seq)\n",
	       fz_target.name, dir, fz_target.name, dir);
	return 1;
}

static const char seq_usage[] =
    "usage: %s-replay --sequence LOG [--reduce DIR]\n"
    "Replays a sequence recorded under HVSIM_FUZZ_SEQUENCE in one process, as the fuzzer ran it,\n"
    "to the first finding. --reduce takes the finding at the last record (where the fuzzer\n"
    "stopped) and writes the fewest records it needs to DIR.\n"
    "Exit status: 0 no finding, 1 a finding, 2 unreadable log or usage error.\n";

int fz_seq_replay_main(int argc, char **argv)
{
	struct fz_seq seq;
	struct replayer p = {.seq = &seq};
	char why[512];
	size_t *all;
	int rc;

	if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--reduce") == 0)) {
		fprintf(stderr, seq_usage, fz_target.name);
		return 2;
	}
	if (!fz_seq_load(argv[2], &seq, why, sizeof(why))) {
		fprintf(stderr, "%s-replay: %s\n", fz_target.name, why);
		return 2;
	}
	p.sh = mmap(NULL, sizeof(*p.sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	all = malloc((seq.n ? seq.n : 1) * sizeof(*all));
	if (p.sh == MAP_FAILED || !all) {
		fprintf(stderr, "%s-replay: out of memory\n", fz_target.name);
		if (p.sh != MAP_FAILED)
			munmap(p.sh, sizeof(*p.sh));
		fz_seq_free(&seq);
		free(all);
		return 2;
	}
	for (size_t i = 0; i < seq.n; i++)
		all[i] = i;
	fprintf(stderr, "%s-replay: %zu records in %s%s\n", fz_target.name, seq.n, argv[2],
	        seq.truncated ? " (cut inside the last one, which is left out)" : "");
	if (argc == 5)
		rc = seq.n ? reduce(&p, all, seq.n, argv[4]) : 0;
	else if (!run_trial(&p, all, seq.n)) {
		fprintf(stderr, "%s-replay: cannot fork: %s\n", fz_target.name, strerror(errno));
		rc = 2;
	} else if (p.sh->found < 0) {
		printf("%s-replay: no finding in %zu records\n", fz_target.name, seq.n);
		rc = 0;
	} else {
		printf("%s-replay: record %ld (%u bytes): %s\n", fz_target.name, p.sh->found,
		       seq.size[p.sh->found], p.sh->kind);
		rc = 1;
	}
	munmap(p.sh, sizeof(*p.sh));
	free(all);
	fz_seq_free(&seq);
	return rc;
}
