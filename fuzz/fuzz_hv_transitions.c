/* fuzz_hv_transitions: the kvm reference algorithm on the VMX model, with the LAPIC and I/O APIC
 * models, under a byte-coded stream of guest actions (x2APIC/xAPIC/I/O APIC accesses, port I/O,
 * CPUID, HLT, STI/CLI, MOV to CR, VMCALL, handlers that EOI) and timed host/platform events (line
 * changes, MSIs, APICv activation and inhibition, EPT zaps), run by the engine as a scenario
 * (fz_hvt.h). A scripted guest normally; with one configuration in FZ_HVT_CODE_ONE_IN, the same
 * actions as x86 fragments on the Unicorn vCPU. Findings: a broken named invariant, hv_error or
 * vmentry_failure (a correct KVM never gets them), trace or summary inconsistency, a run that
 * differs from its rerun ("deterministic"). The reproducer of a finding is the scenario itself. */
#include "fz_hvt.h"

#include <stdlib.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Every input runs twice under replay (CI); under a fuzzer one input in DETERMINISM_EVERY does,
 * chosen by content, and only those get the trace_wellformed and snapshot_rerun checks. The first
 * run reloads a kept machine (fz_hvt_cache.c). The rerun builds a fresh VM under replay and for
 * one in FRESH_EVERY of those inputs under a fuzzer (building is most of a short run's cost), and
 * reloads the kept machine again otherwise: kept and fresh must agree. */
#define DETERMINISM_EVERY 8
#define FRESH_EVERY       8

/* The kept machines: process state of the harness, like libFuzzer's own. */
static struct fz_hvt_cache *cache;

/* Each Unicorn engine (one per code-guest VM the harness builds) gets a code buffer that the kernel
 * backs with a 2 MiB transparent huge page and clears whole at its first write: 40% of opening an
 * engine (313 -> 192 us measured). The harness process opts out of huge pages; nothing a run
 * computes depends on it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
#ifdef __linux__
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_hvt_input *in = malloc(sizeof(*in));
	struct fz_hvt_outcome *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	uint64_t hash = fz_hash(data, size);
	bool full;

	if (!cache)
		cache = fz_hvt_cache_create();
	if (!in || !a || !b || !cache)
		goto out;
	fz_hvt_decode(data, size, in);
	full = fz_get_mode() == FZ_COUNT || hash % DETERMINISM_EVERY == 0;
	fz_hvt_run_cached(cache, in, hash, full, a);
	if (a->kind) {
		fz_finding(a->kind, "%s", a->why);
		goto out;
	}
	if (!full)
		goto out;
	/* a had the trace and snapshot checks */
	if (fz_get_mode() == FZ_COUNT || hash / DETERMINISM_EVERY % FRESH_EVERY == 0)
		fz_hvt_run_opt(in, hash, false, b);
	else
		fz_hvt_run_cached(cache, in, hash, false, b);
	fz_check_rerun(true, a->hash, b->hash, b->kind, b->why);
out:
	free(in);
	free(a);
	free(b);
	return 0;
}

FZ_TARGET("fuzz_hv_transitions", fz_hvt_export);
