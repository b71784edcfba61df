/* Verifies that a kept fuzz_hv_transitions machine (fuzz/fz_hvt_cache.c) runs an input the way a
 * fresh VM does whatever input it ran before: the committed pairs are inputs that, in this order
 * on one kept machine, once ran differently from a fresh VM. Each input alone was clean; the
 * finding needed the first input's history, which the replay of single files never gives. */
#include <criterion/criterion.h>

#include "../fuzz/fz_hvt_int.h"
#include "../fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>

#define CRASH_DIR "fuzz/crashes/fuzz_hv_transitions/"
#define INPUT_MAX 4096

struct pair {
	const char *before, *input, *why;
};

static const struct pair pairs[] = {
    /* finding 22: vCPU 0, sent into zeroed memory by a failed VMLAUNCH, rewrites with ADD [RAX],
     * AL the VMLAUNCH that vCPU 1's engine had translated for the first input (SDM 9.1.3) */
    {"fuzz_hv_transitions-97c73f20b1106063", "fuzz_hv_transitions-fd9241a67e63f128",
     "cross-modifying code"},
    /* the same after the snapshot of slice 1: the second finding left open by the seventh pass */
    {"fuzz_hv_transitions-97c73f20b1106063", "fuzz_hv_transitions-706def42eb3348d0",
     "cross-modifying code"},
};

static void decode_file(const char *name, struct fz_hvt_input *in, uint64_t *hash)
{
	char path[256];
	uint8_t *b = malloc(INPUT_MAX);
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), CRASH_DIR "%s", name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s: run the tests from the repository root", path);
	cr_assert_not_null(b);
	n = fread(b, 1, INPUT_MAX, f);
	fclose(f);
	fz_hvt_decode(b, n, in);
	*hash = fz_hash(b, n);
	free(b);
}

/* The harness's determinism rule (fuzz/fuzz_hv_transitions.c), over a history. */
Test(fuzz_hvt_history, a_kept_machine_runs_an_input_as_a_fresh_vm_after_another_input)
{
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct fz_hvt_cache *cache = fz_hvt_cache_create();
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct fz_hvt_outcome *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		uint64_t hash;

		cr_assert(cache && in && a && b);
		decode_file(pairs[i].before, in, &hash);
		fz_hvt_run_cached(cache, in, hash, true, a);
		cr_assert(!a->kind, "%s: finding %s: %s", pairs[i].before, a->kind, a->why);
		decode_file(pairs[i].input, in, &hash);
		fz_hvt_run_cached(cache, in, hash, true, a);
		fz_hvt_run(in, hash, b);
		cr_expect(!a->kind, "%s after %s (%s): finding %s: %s", pairs[i].input,
		          pairs[i].before, pairs[i].why, a->kind, a->why);
		cr_expect_eq(a->hash, b->hash, "%s after %s (%s): kept %016llx, fresh %016llx",
		             pairs[i].input, pairs[i].before, pairs[i].why,
		             (unsigned long long)a->hash, (unsigned long long)b->hash);
		fz_hvt_cache_destroy(cache);
		free(in);
		free(a);
		free(b);
	}
}
