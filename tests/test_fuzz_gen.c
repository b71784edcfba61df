/* Verifies that the generated fuzzing inputs committed under fuzz/ are what their tables produce
 * today (fuzz/fzgen, `make fuzz-gen`): each hand-made seed file byte for byte, and each generated
 * dictionary. A decoder or table change without regenerating them fails here, naming the file. */
#include <criterion/criterion.h>

#include "../fuzz/fz_apic_seeds.h"
#include "../fuzz/fz_dict.h"
#include "../fuzz/fz_hvt_seeds.h"
#include "../fuzz/fz_tdx.h"
#include "../fuzz/fz_vmx_seeds.h"

#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1u << 20)

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(FILE_MAX) : NULL;

	*len = buf ? fread(buf, 1, FILE_MAX, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static void same_as_file(const char *path, const uint8_t *want, size_t n)
{
	size_t len = 0;
	uint8_t *got = slurp(path, &len);

	if (!got)
		cr_skip_test("%s missing (run from the repository root; `make fuzz-gen`)", path);
	cr_assert(len == n && memcmp(got, want, n) == 0,
	          "%s: %zu bytes differ from the %zu generated ones: run `make fuzz-gen`", path,
	          len, n);
	free(got);
}

Test(fuzz_gen, committed_apic_seeds_match_the_seed_table)
{
	for (size_t i = 0; i < fz_apic_seed_count(); i++) {
		const struct fz_apic_seed *s = fz_apic_seed_at(i);
		uint8_t b[4096];
		size_t n = fz_apic_seed_bytes(s, b, sizeof(b));
		char path[256];

		snprintf(path, sizeof(path), "fuzz/corpus/fuzz_lapic_ioapic/%s", s->name);
		same_as_file(path, b, n);
	}
}

Test(fuzz_gen, committed_vmx_seeds_match_the_seed_table)
{
	for (size_t i = 0; i < fz_vmx_seed_count(); i++) {
		const struct fz_vmx_seed *s = fz_vmx_seed_at(i);
		uint8_t b[4096];
		size_t n = fz_vmx_seed_bytes(s, b, sizeof(b));
		char path[256];

		snprintf(path, sizeof(path), "fuzz/corpus/fuzz_vmcs_entry/%s", s->name);
		same_as_file(path, b, n);
	}
}

Test(fuzz_gen, committed_hv_transitions_seeds_match_the_seed_table)
{
	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		uint8_t b[4096];
		size_t n = fz_hvt_seed_bytes(s, b, sizeof(b));
		char path[256];

		cr_assert(n, "%s: does not encode", s->name);
		snprintf(path, sizeof(path), "fuzz/corpus/fuzz_hv_transitions/%s", s->name);
		same_as_file(path, b, n);
	}
}

Test(fuzz_gen, committed_tdx_seeds_match_the_seed_table)
{
	for (size_t i = 0; i < fz_tdx_seed_count(); i++) {
		const struct fz_tdx_seed *s = fz_tdx_seed_at(i);
		uint8_t b[4096];
		size_t n = fz_tdx_seed_bytes(s, b, sizeof(b));
		char path[256];

		cr_assert(n, "%s: does not encode", s->name);
		snprintf(path, sizeof(path), "fuzz/corpus/fuzz_tdx_seamcall/%s", s->name);
		same_as_file(path, b, n);
	}
}

Test(fuzz_gen, committed_dictionaries_match_the_generator)
{
	static const char *const targets[] = {"fuzz_lapic_ioapic", "fuzz_vmcs_entry",
	                                      "fuzz_hv_transitions", "fuzz_tdx_seamcall"};

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
