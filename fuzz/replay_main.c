/* The plain replay driver: runs files (directories recursively, in sorted order) or standard input
 * through a harness's LLVMFuzzerTestOneInput without any fuzzer runtime. CI replays seed corpora
 * and committed crash reproducers with it under ASan+UBSan; AFL++ can drive it as a file target;
 * and
 * `--export` writes the scenario that reproduces an input (hvsim fuzz --export calls it). */
#include "fz_seq.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX_BYTES (16u << 20)
#define DEPTH_MAX       8

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

struct replay {
	unsigned inputs;
	unsigned errors; /* files that could not be read */
	bool verbose;
};

static const char *current_file = "(none)";

static void on_death(void)
{
	fprintf(stderr, "%s-replay: died on input %s\n", fz_target.name, current_file);
}

static uint8_t *read_path(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t *buf;

	if (!f)
		return NULL;
	buf = fz_read_file(f, INPUT_MAX_BYTES, len);
	if (f != stdin)
		fclose(f);
	return buf;
}

static void run_file(struct replay *r, const char *path)
{
	unsigned before = fz_findings();
	size_t len = 0;
	uint8_t *buf = read_path(path, &len);

	if (!buf) {
		fprintf(stderr, "%s-replay: %s: cannot read: %s\n", fz_target.name, path,
		        strerror(errno));
		r->errors++;
		return;
	}
	current_file = path;
	if (r->verbose)
		fprintf(stderr, "%s-replay: %s (%zu bytes)\n", fz_target.name, path, len);
	LLVMFuzzerTestOneInput(buf, len);
	current_file = "(none: between inputs or at exit)"; /* path is freed after the input */
	if (fz_findings() != before)
		fprintf(stderr, "%s-replay: finding in %s\n", fz_target.name, path);
	free(buf);
	r->inputs++;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(struct replay *r, const char *path, unsigned depth);

static void run_dir(struct replay *r, const char *path, unsigned depth)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "%s-replay: %s: cannot open: %s\n", fz_target.name, path,
		        strerror(errno));
		r->errors++;
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".expect"))
			continue; /* ., .., hidden files, expected-message files */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **grown = realloc(names, ncap * sizeof(char *));

			if (!grown)
				break;
			names = grown;
			cap = ncap;
		}
		if (!(names[n] = malloc(strlen(path) + strlen(e->d_name) + 2)))
			break;
		sprintf(names[n++], "%s/%s", path, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), cmp_name);
	for (size_t i = 0; i < n; i++) {
		run_path(r, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

static void run_path(struct replay *r, const char *path, unsigned depth)
{
	struct stat st;

	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (depth < DEPTH_MAX)
			run_dir(r, path, depth);
		return;
	}
	run_file(r, path);
}

static int export_one(const char *out_path, const char *in_path)
{
	struct fz_export_info info = {0};
	size_t len = 0;
	uint8_t *buf = read_path(in_path, &len);
	FILE *out;
	int rc;

	if (!fz_target.export_fn) {
		fprintf(stderr, "%s-replay: this harness has no export mapping yet\n",
		        fz_target.name);
		free(buf);
		return 2;
	}
	if (!buf) {
		fprintf(stderr, "%s-replay: %s: cannot read: %s\n", fz_target.name, in_path,
		        strerror(errno));
		return 2;
	}
	out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "w");
	if (!out) {
		fprintf(stderr, "%s-replay: %s: cannot write: %s\n", fz_target.name, out_path,
		        strerror(errno));
		free(buf);
		return 2;
	}
	info.file = out_path;
	rc = fz_target.export_fn(buf, len, out, &info);
	if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(out) != 0))
		rc = 2;
	free(buf);
	printf("kind: %s\nexpect: %s\n", info.kind, info.expect);
	return rc;
}

static const char usage[] =
    "usage: %s-replay [-v] [FILE|DIR|-]...   run inputs through the harness (no fuzzer)\n"
    "       %s-replay --export OUT INPUT      write the scenario reproducing INPUT to OUT\n"
    "       %s-replay --sequence LOG [--reduce DIR]\n"
    "                                         replay a sequence recorded under\n"
    "                                         HVSIM_FUZZ_SEQUENCE to its first finding; --reduce\n"
    "                                         writes the fewest records it needs to DIR\n"
    "Exit status: 0 no findings, 1 findings, 2 unreadable input or usage error.\n";

int main(int argc, char **argv)
{
	struct replay r = {0};
	int first = 1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf(usage, fz_target.name, fz_target.name, fz_target.name);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--sequence") == 0)
		return fz_seq_replay_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--export") == 0) {
		if (argc != 4) {
			fprintf(stderr, usage, fz_target.name, fz_target.name, fz_target.name);
			return 2;
		}
		return export_one(argv[2], argv[3]);
	}
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		r.verbose = true;
		first = 2;
	}
	fz_set_mode(FZ_COUNT);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(on_death);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (first >= argc)
		run_file(&r, "-");
	for (int i = first; i < argc; i++)
		run_path(&r, argv[i], 0);
	printf("%s-replay: %u inputs, %u findings, %u unreadable\n", fz_target.name, r.inputs,
	       fz_findings(), r.errors);
	return r.errors ? 2 : fz_findings() ? 1 : 0;
}
