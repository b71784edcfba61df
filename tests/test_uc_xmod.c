/* Verifies cross-modifying code between vCPUs (SDM 9.1.3): each vCPU has its own Unicorn engine,
 * which sees its own stores to code but not another engine's. A store by one vCPU to code another
 * vCPU translated reaches that vCPU's next run, whatever the engines translated before: kept, the
 * old translation made a machine reloaded for a fuzzing input run code that a fresh machine does
 * not (fuzz_hv_transitions finding 22), and a rerun from a snapshot differ from the first run.
 *
 * The guest: vCPU 1 (the second to take a ticket at 0x6000) calls T, which reports 0x11 on port
 * 0xe9, and sets 0x6004; vCPU 0 waits for it, rewrites T's immediate to 0x22 and sets 0x6008;
 * vCPU 1 waits for that and calls T again. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#define XMOD_CODE                                                                                 \
	"b8 01 00 00 00 f0 0f c1 04 25 00 60 00 00 85 c0 75 1d 83 3c 25 04 60 00 00 00 74 f6 c6 " \
	"05 "                                                                                     \
	"2d 00 00 00 22 c7 04 25 08 60 00 00 01 00 00 00 f4 e8 1b 00 00 00 c7 04 25 04 60 00 00 " \
	"01 "                                                                                     \
	"00 00 00 83 3c 25 08 60 00 00 00 74 f6 e8 01 00 00 00 f4 b8 11 00 00 00 e7 e9 c3"
#define XMOD_MACHINE "\"machine\": {\"vcpus\": 2, \"quantum_insns\": 50}"

#define STEPS 4096

/* Steps to the end without hvsim_vm_finish, so that a snapshot can still be restored. */
static unsigned run_reports(struct tv *t, uint32_t *out, unsigned cap)
{
	for (unsigned i = 0; i < STEPS && hvsim_vm_step(t->vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	return tv_reports(t, out, cap);
}

Test(uc_xmod, a_store_by_one_vcpu_reaches_code_another_vcpu_translated)
{
	struct tv t = {0};
	uint32_t r[4];
	unsigned n;

	cr_assert(tv_open_code(&t, "long", XMOD_CODE, XMOD_MACHINE), "%s", t.err.msg);
	n = run_reports(&t, r, 4);
	cr_assert_eq(n, 2, "%u reports, expected 2", n);
	cr_expect_eq(r[0], 0x11, "first call reported %#x", r[0]);
	cr_expect_eq(r[1], 0x22, "second call reported %#x, the code before vCPU 0's store", r[1]);
	tv_close(&t);
}

/* The engines keep translations across a snapshot restore where the bytes did not change
 * (uc_keep.c): the rerun must not inherit vCPU 1's translation of T from the first run. */
Test(uc_xmod, a_rerun_from_the_start_repeats_the_first_run)
{
	struct tv t = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;
	uint32_t r[8];
	unsigned n;

	cr_assert(tv_open_code(&t, "long", XMOD_CODE, XMOD_MACHINE), "%s", t.err.msg);
	s = hvsim_vm_snapshot(t.vm, &err);
	cr_assert_not_null(s, "snapshot: %s", err.msg);
	run_reports(&t, r, 8);
	cr_assert_eq(hvsim_vm_restore(t.vm, s), HVSIM_OK, "restore failed");
	n = run_reports(&t, r, 8);
	cr_assert_eq(n, 4, "%u reports over both runs, expected 4", n);
	cr_expect_eq(r[2], 0x11, "rerun's first call reported %#x", r[2]);
	cr_expect_eq(r[3], 0x22, "rerun's second call reported %#x", r[3]);
	hvsim_snapshot_free(s);
	tv_close(&t);
}
