/* Verifies that the generated fuzzing inputs committed under fuzz/ are what their tables produce
 * today (fuzz/fzgen, `make fuzz-gen`): each hand-made seed file byte for byte, and each generated
 * dictionary. A decoder or table change without regenerating them fails here, naming the file. */
#include <criterion/criterion.h>

#include "test_files.h"

#include "../fuzz/fz_dict.h"
#include "../fuzz/fz_seed_sets.h"

#include <stdlib.h>
#include <string.h>

static void same_as_file(const char *path, const uint8_t *want, size_t n)
{
	size_t len = 0;
	uint8_t *got = test_slurp(path, &len);

	if (!got)
		cr_skip_test("%s missing (run from the repository root; `make fuzz-gen`)", path);
	cr_assert(len == n && memcmp(got, want, n) == 0,
	          "%s: %zu bytes differ from the %zu generated ones: run `make fuzz-gen`", path,
	          len, n);
	free(got);
}

/* Every harness's seed set (fz_seed_sets.c), seed by seed. */
Test(fuzz_gen, committed_seeds_match_the_seed_tables)
{
	const struct fz_seed_set *set;

	for (size_t k = 0; (set = fz_seed_set_at(k)); k++) {
		for (size_t i = 0; i < set->count(); i++) {
			uint8_t b[4096];
			size_t n = set->bytes(i, b, sizeof(b));
			char path[256];

			cr_assert(n, "%s seed %s: does not encode", set->target, set->name(i));
			snprintf(path, sizeof(path), "fuzz/corpus/%s/%s", set->target,
			         set->name(i));
			same_as_file(path, b, n);
		}
	}
}

Test(fuzz_gen, committed_dictionaries_match_the_generator)
{
	static const char *const targets[] = {"fuzz_lapic_ioapic", "fuzz_vmcs_entry",
	                                      "fuzz_hv_transitions", "fuzz_pmu_msr",
	                                      "fuzz_tdx_seamcall"};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char *text = NULL, path[256];
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		cr_assert(f && fz_dict_write(targets[i], f), "%s: no dictionary", targets[i]);
		fclose(f);
		snprintf(path, sizeof(path), "fuzz/%s.dict", targets[i]);
		same_as_file(path, (const uint8_t *)text, len);
		free(text);
	}
}
