/* Verifies the Unicorn backend's stop before instructions that may set RFLAGS.IF (arm_if_stop,
 * sim/uc_cpu.c): a vCPU waiting for an interrupt window stops at each boundary where the window
 * can open (SDM 26.5.2 and 30.2.1: the window exit comes right after the STI, POPF or IRET that
 * sets IF), as a budget of one would, while the instructions between run as whole blocks. Each
 * test builds a VM around inline code (test_vcpu_util.h) and drives its backend directly. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#define CODE_GPA 0x8000u

struct step {
	enum be_stop st;
	uint64_t retired, rip;
};

static struct step run(struct tv *t, bool arm)
{
	void *be = tv_vcpu(t, 0)->be_ctx;
	struct guest_op op = {0};
	const char *why = NULL;
	struct step s = {0};

	if (arm)
		uc_backend_ops.arm_if_stop(be);
	s.st = uc_backend_ops.run(be, 100, &op, &s.retired, &why);
	s.rip = s.st == BE_OP ? op.rip : uc_backend_ops.get_rip(be);
	return s;
}

static void expect_step(struct step s, enum be_stop st, uint64_t retired, uint64_t rip,
                        const char *what)
{
	cr_expect_eq(s.st, st, "%s: stop %d, wanted %d", what, s.st, st);
	cr_expect_eq(s.retired, retired, "%s: retired %llu, wanted %llu", what,
	             (unsigned long long)s.retired, (unsigned long long)retired);
	cr_expect_eq(s.rip, rip, "%s: rip %#llx, wanted %#llx", what, (unsigned long long)s.rip,
	             (unsigned long long)rip);
}

/* nop; nop; sti; nop; hlt: armed, the run ends before the STI; armed again, the STI runs alone;
 * unarmed, the rest runs to the HLT. */
Test(uc_ifstop, armed_run_ends_before_sti_then_runs_it_alone)
{
	struct tv t = {0};

	cr_assert(tv_open_code(&t, "long", "90 90 fb 90 f4", ""), "%s", t.err.msg);
	expect_step(run(&t, true), BE_BUDGET, 2, CODE_GPA + 2, "armed, before the STI");
	expect_step(run(&t, true), BE_BUDGET, 1, CODE_GPA + 3, "armed, at the STI");
	expect_step(run(&t, false), BE_OP, 1, CODE_GPA + 4, "unarmed, to the HLT");
	tv_close(&t);
}

/* Unarmed, IF writers are plain instructions: pushfq; popfq; sti; hlt runs in one go. */
Test(uc_ifstop, unarmed_run_passes_if_writers)
{
	struct tv t = {0};

	/* pushfq; popfq; sti; hlt */
	cr_assert(tv_open_code(&t, "long", "9c 9d fb f4", ""), "%s", t.err.msg);
	expect_step(run(&t, false), BE_OP, 3, CODE_GPA + 3, "unarmed");
	tv_close(&t);
}

/* An IF writer as the first instruction of a block never seen before: the run learns what it is
 * only as Unicorn is about to run it, and still runs it alone. */
Test(uc_ifstop, armed_run_at_an_unseen_if_writer_runs_it_alone)
{
	struct tv t = {0};

	/* sti; nop; hlt */
	cr_assert(tv_open_code(&t, "long", "fb 90 f4", ""), "%s", t.err.msg);
	expect_step(run(&t, true), BE_BUDGET, 1, CODE_GPA + 1, "armed, at the STI");
	expect_step(run(&t, true), BE_OP, 1, CODE_GPA + 2, "armed, no writer left");
	tv_close(&t);
}
