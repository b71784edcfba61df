/* Verifies that a kept fuzz_hv_transitions machine (fuzz/fz_hvt_cache.c) runs an input the way a
 * fresh VM does whatever inputs it ran before: the committed histories are inputs that, in this
 * order on one kept machine, once made the last run differently from a fresh VM. Each input
 * alone was clean; the finding needed the history, which the replay of single files never gives
 * (recorded and reduced with `--sequence`, docs/fuzzing.md "Findings that need a history"). */
#include <criterion/criterion.h>

#include "../fuzz/fz_hvt_int.h"
#include "../fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>

#define CRASH_DIR "fuzz/crashes/fuzz_hv_transitions/"
#define INPUT_MAX 4096

/* Inputs run in order on one cache; the last is compared with a fresh VM. */
struct history {
	const char *names[4]; /* NULL-terminated */
	const char *why;
};

static const struct history histories[] = {
    /* finding 22: vCPU 0, sent into zeroed memory by a failed VMLAUNCH, rewrites with ADD [RAX],
     * AL the VMLAUNCH that vCPU 1's engine had translated for the first input (SDM 9.1.3) */
    {{"fuzz_hv_transitions-97c73f20b1106063", "fuzz_hv_transitions-fd9241a67e63f128"},
     "cross-modifying code"},
    /* the same after the snapshot of slice 1: the second finding left open by the seventh pass */
    {{"fuzz_hv_transitions-97c73f20b1106063", "fuzz_hv_transitions-706def42eb3348d0"},
     "cross-modifying code"},
    /* finding 23: the first two leave trap sites on the code page the third input's EPT zap
     * unmaps; dropping them faulted inside Unicorn, and the guest's fetch fault after the zap
     * became a triple-fault stop */
    {{"fuzz_hv_transitions-57fec22576911561", "fuzz_hv_transitions-1d2457e9c794f89c",
      "fuzz_hv_transitions-e8b40b407657f5d0"},
     "a drop on an unmapped page"},
    /* finding 25: the second input's guest stores into hvsim's PML4; when its cached
     * translations stopped working depended on the TLB flushes before, which differ between a
     * kept machine, a fresh VM and a restore from a snapshot */
    {{"fuzz_hv_transitions-66f04895a0d0164c", "fuzz_hv_transitions-b043b633cbbb8cb0"},
     "a store into hvsim's page tables"},
    /* finding 26: the same store by vCPU 0, after the input of finding 22 on the kept machine;
     * vCPU 1's engine, which shares the tables, kept its stale TLB */
    {{"fuzz_hv_transitions-fd9241a67e63f128", "fuzz_hv_transitions-caa63bbcfd74fdc0"},
     "a store into page tables another vCPU walks"},
    /* finding 27: the second input's store rewrites a MOV to CR8 the first input ran (its trap
     * site armed) into bytes that are no instruction; the kept engine's site emulated the old
     * MOV where a fresh engine raises #UD */
    {{"fuzz_hv_transitions-6ed60f9c038dc0ec", "fuzz_hv_transitions-36b852ee15c6cf88"},
     "code rewritten into no instruction"},
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
Test(fuzz_hvt_history, a_kept_machine_runs_an_input_as_a_fresh_vm_after_other_inputs)
{
	for (size_t i = 0; i < sizeof(histories) / sizeof(histories[0]); i++) {
		const struct history *h = &histories[i];
		struct fz_hvt_cache *cache = fz_hvt_cache_create();
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct fz_hvt_outcome *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		uint64_t hash = 0;
		size_t k;

		cr_assert(cache && in && a && b);
		for (k = 0; h->names[k + 1]; k++) {
			decode_file(h->names[k], in, &hash);
			fz_hvt_run_cached(cache, in, hash, true, a);
			cr_assert(!a->kind, "%s: finding %s: %s", h->names[k], a->kind, a->why);
		}
		decode_file(h->names[k], in, &hash);
		fz_hvt_run_cached(cache, in, hash, true, a);
		fz_hvt_run(in, hash, b);
		cr_expect(!a->kind, "%s after %zu others (%s): finding %s: %s", h->names[k], k,
		          h->why, a->kind, a->why);
		cr_expect_eq(a->hash, b->hash,
		             "%s after %zu others (%s): kept %016llx, fresh %016llx", h->names[k],
		             k, h->why, (unsigned long long)a->hash, (unsigned long long)b->hash);
		fz_hvt_cache_destroy(cache);
		free(in);
		free(a);
		free(b);
	}
}
