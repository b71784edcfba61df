/* fzgen: writes the generated fuzzing inputs of the model harnesses from the tables in fuzz/:
 *   fzgen seeds DIR        the hand-made seeds into DIR/T/NAME (DIR is fuzz/corpus)
 *   fzgen dict T           T's dictionary to standard output (fuzz/T.dict)
 * `make fuzz-gen` runs both; the outputs are committed and tests/test_fuzz_gen.c checks that they
 * match what the tables produce. */
#include "fz_apic_seeds.h"
#include "fz_hvt_seeds.h"
#include "fz_tdx.h"
#include "fz_vmx_seeds.h"
#include "fz_dict.h"

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

static int apic_seeds(const char *dir)
{
	char path[4096];
	uint8_t b[SEED_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fuzz_lapic_ioapic", dir);
	mkdir(path, 0777);
	for (size_t i = 0; i < fz_apic_seed_count(); i++) {
		const struct fz_apic_seed *s = fz_apic_seed_at(i);
		size_t n = fz_apic_seed_bytes(s, b, sizeof(b));

		snprintf(path, sizeof(path), "%s/fuzz_lapic_ioapic/%s", dir, s->name);
		rc |= n ? write_file(path, b, n) : 1;
	}
	return rc;
}

static int vmx_seeds(const char *dir)
{
	char path[4096];
	uint8_t b[SEED_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fuzz_vmcs_entry", dir);
	mkdir(path, 0777);
	for (size_t i = 0; i < fz_vmx_seed_count(); i++) {
		const struct fz_vmx_seed *s = fz_vmx_seed_at(i);
		size_t n = fz_vmx_seed_bytes(s, b, sizeof(b));

		snprintf(path, sizeof(path), "%s/fuzz_vmcs_entry/%s", dir, s->name);
		rc |= n ? write_file(path, b, n) : 1;
	}
	return rc;
}

static int hvt_seeds(const char *dir)
{
	char path[4096];
	uint8_t b[SEED_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fuzz_hv_transitions", dir);
	mkdir(path, 0777);
	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		size_t n = fz_hvt_seed_bytes(s, b, sizeof(b));

		snprintf(path, sizeof(path), "%s/fuzz_hv_transitions/%s", dir, s->name);
		rc |= n ? write_file(path, b, n) : 1;
	}
	return rc;
}

static int tdx_seeds(const char *dir)
{
	char path[4096];
	uint8_t b[SEED_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fuzz_tdx_seamcall", dir);
	mkdir(path, 0777);
	for (size_t i = 0; i < fz_tdx_seed_count(); i++) {
		const struct fz_tdx_seed *s = fz_tdx_seed_at(i);
		size_t n = fz_tdx_seed_bytes(s, b, sizeof(b));

		snprintf(path, sizeof(path), "%s/fuzz_tdx_seamcall/%s", dir, s->name);
		rc |= n ? write_file(path, b, n) : 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "seeds") == 0)
		return apic_seeds(argv[2]) | vmx_seeds(argv[2]) | hvt_seeds(argv[2]) |
		       tdx_seeds(argv[2]);
	if (argc == 3 && strcmp(argv[1], "dict") == 0)
		return fz_dict_write(argv[2], stdout) ? 0 : 1;
	fprintf(stderr, "usage: fzgen seeds DIR | fzgen dict TARGET\n");
	return 2;
}
