/* Verifies that a block Zydis and Unicorn decode into different instruction counts ends the vCPU
 * the same way however often it is reached (sim/uc_cpu.c admit): the check needs Unicorn's count,
 * which only a fresh translation reports, so the translation goes with the failed admission.
 * Kept, it let a rerun from a snapshot, or a kept fuzzing machine, run the block on Zydis's count
 * (fuzz_hv_transitions finding 21: 375 instructions, then 378 after the restore). The bytes start
 * with a VEX prefix Zydis rejects (3 instructions) where Unicorn translates on through the zeroed
 * memory after them (250). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <string.h>

#define GARBAGE "c5 1b 7c 1d 49 23 0f d1 ee 8f 9c cb"
#define STEPS   64

struct outcome {
	uint64_t instructions, virtual_ns;
	bool disagreed;
};

static struct outcome run_to_end(struct tv *t)
{
	const struct hvsim_summary *sum = hvsim_vm_summary(t->vm);
	struct outcome o;

	for (unsigned i = 0; i < STEPS && hvsim_vm_step(t->vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	o.instructions = sum->instructions;
	o.virtual_ns = sum->virtual_ns;
	o.disagreed = sum->n_findings &&
	              strstr(sum->findings[0].detail, "Zydis and Unicorn disagree") != NULL;
	return o;
}

Test(uc_disagree, a_rerun_from_a_snapshot_faults_where_the_first_run_did)
{
	struct tv t = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;
	struct outcome a, b;

	cr_assert(tv_open_code(&t, "long", GARBAGE, ""), "%s", t.err.msg);
	s = hvsim_vm_snapshot(t.vm, &err);
	cr_assert_not_null(s, "snapshot: %s", err.msg);
	a = run_to_end(&t);
	cr_assert(a.disagreed, "the first run did not stop on the disagreement");
	cr_assert_eq(hvsim_vm_restore(t.vm, s), HVSIM_OK, "restore failed");
	b = run_to_end(&t);
	cr_expect(b.disagreed, "the rerun did not stop on the disagreement");
	cr_expect_eq(b.instructions, a.instructions,
	             "rerun retired %llu instructions, first run %llu",
	             (unsigned long long)b.instructions, (unsigned long long)a.instructions);
	cr_expect_eq(b.virtual_ns, a.virtual_ns, "rerun ended at %llu ns, first run at %llu",
	             (unsigned long long)b.virtual_ns, (unsigned long long)a.virtual_ns);
	hvsim_snapshot_free(s);
	tv_close(&t);
}
