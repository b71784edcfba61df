/* fzgen: writes the generated fuzzing inputs of the model harnesses from the tables in fuzz/:
 *   fzgen seeds DIR        the hand-made seeds into DIR/T/NAME (DIR is fuzz/corpus)
 *   fzgen dict T           T's dictionary to standard output (fuzz/T.dict)
 * `make fuzz-gen` runs both; the outputs are committed and tests/test_fuzz_gen.c checks that they
 * match what the tables produce. */
#include "fz_dict.h"
#include "fz_seed_sets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEED_MAX 4096

static int write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "fzgen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int write_seeds(const char *dir, const struct fz_seed_set *set)
{
	char path[4096];
	uint8_t b[SEED_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, set->target);
	mkdir(path, 0777);
	for (size_t i = 0; i < set->count(); i++) {
		size_t n = set->bytes(i, b, sizeof(b));

		snprintf(path, sizeof(path), "%s/%s/%s", dir, set->target, set->name(i));
		rc |= n ? write_file(path, b, n) : 1;
	}
	return rc;
}

static int all_seeds(const char *dir)
{
	const struct fz_seed_set *set;
	int rc = 0;

	for (size_t i = 0; (set = fz_seed_set_at(i)); i++)
		rc |= write_seeds(dir, set);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "seeds") == 0)
		return all_seeds(argv[2]);
	if (argc == 3 && strcmp(argv[1], "dict") == 0)
		return fz_dict_write(argv[2], stdout) ? 0 : 1;
	fprintf(stderr, "usage: fzgen seeds DIR | fzgen dict TARGET\n");
	return 2;
}
