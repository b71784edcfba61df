/* Verifies the Unicorn backend's precise path (sim/uc_cpu.c): a budget that ends inside a
 * translation block stops exactly before the deadline instruction (uc_emu_start's until, where the
 * deadline lies too deep in its block for one-instruction steps: test_uc_step.c). The
 * deadline comes before an operation trapped at the same instruction, and the translation that
 * starts at the deadline survives. Each test builds a VM around inline code with the recording
 * algorithm (test_vcpu_util.h) and drives its backend directly or counts the blocks Unicorn
 * generates with a hook of its own. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#define CODE_GPA 0x8000u

static void count_generated(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *ud)
{
	(void)uc, (void)tb, (void)prev;
	(*(unsigned *)ud)++;
}

/* A budget of 5 ends on the OUT at index 5 of the block: the run retires the five NOPs and ends
 * for the budget with RIP on the OUT; the OUT exits in the next run, having retired nothing.
 * The order matters to the engine: events due at the budget's end come before the operation. */
Test(uc_deadline, deadline_on_a_trapped_instruction_ends_the_budget_first)
{
	/* nop x 5; out 0x80, al; hlt */
	struct tv t = {0};
	struct guest_op op = {0};
	uint64_t retired = 0;
	const char *why = NULL;
	void *be;
	enum be_stop st;

	cr_assert(tv_open_code(&t, "long", "90 90 90 90 90 e6 80 f4", ""), "%s", t.err.msg);
	be = tv_vcpu(&t, 0)->be_ctx;
	st = uc_backend_ops.run(be, 5, &op, &retired, &why);
	cr_expect_eq(st, BE_BUDGET, "budget 5: stop %d wanted BE_BUDGET (%s)", st, why ? why : "");
	cr_expect_eq(retired, 5, "budget 5: retired %llu, wanted 5", (unsigned long long)retired);
	cr_expect_eq(uc_backend_ops.get_rip(be), CODE_GPA + 5, "budget 5: rip %#llx, wanted 0x8005",
	             (unsigned long long)uc_backend_ops.get_rip(be));
	st = uc_backend_ops.run(be, 100, &op, &retired, &why);
	cr_expect_eq(st, BE_OP, "next run: stop %d wanted BE_OP (%s)", st, why ? why : "");
	cr_expect_eq(op.kind, GOP_IO, "next run: operation kind %u, wanted GOP_IO", op.kind);
	cr_expect_eq(op.rip, CODE_GPA + 5, "next run: OUT at %#llx, wanted 0x8005",
	             (unsigned long long)op.rip);
	cr_expect_eq(retired, 0, "next run: retired %llu before the OUT, wanted 0",
	             (unsigned long long)retired);
	tv_close(&t);
}

/* A quantum of 12 cuts the 12-instruction loop body at the same instruction in each of its 1000
 * iterations. Without steps, Unicorn cuts a translation at an until address only as it makes it, so
 * each deadline translates the loop's block again, shortened, and again whole afterwards; the
 * translation that starts at the deadline instruction survives (dropping it too cost a third
 * translation per deadline). The count stays exact. */
Test(uc_deadline, deadline_keeps_the_translation_after_it)
{
	struct tv t = {.handler = tv_stop_at_exit};
	const struct tv_exit *e;
	unsigned generated = 0;
	uc_hook h;
	struct uc_cpu *c;

	cr_assert(tv_open_deadline_loop(&t), "%s", t.err.msg);
	c = tv_vcpu(&t, 0)->be_ctx;
	c->hflags_off = 0; /* no steps: every deadline is cut with until */
	cr_assert_eq(uc_hook_add(c->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)count_generated,
	                         &generated, 1, 0),
	             UC_ERR_OK, "cannot add the counting hook");
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->now, 1 + 1000 * 12, "HLT reached at %llu ns, wanted 12001",
	             (unsigned long long)e->now);
	cr_expect_leq(generated, 2 * 1000 + 10,
	              "Unicorn generated %u blocks for 1000 deadlines, wanted at most two each",
	              generated);
	tv_close(&t);
}

/* Unicorn 2.0.1 keeps the code of dropped translations until its code buffer is full and then
 * crashes flushing inside uc_emu_start: past tb_flush_at generated blocks the run loop flushes
 * every translation itself, between runs, and the guest runs on as before (exact count, same
 * result). vm_translations counts what the engines generated. */
Test(uc_deadline, translations_past_the_budget_are_flushed_between_runs)
{
	struct tv t = {.handler = tv_stop_at_exit};
	const struct tv_exit *e;
	struct uc_cpu *c;

	cr_assert(tv_open_deadline_loop(&t), "%s", t.err.msg);
	c = tv_vcpu(&t, 0)->be_ctx;
	c->hflags_off = 0; /* no steps: every deadline is cut with until */
	c->tb_flush_at = 1500;
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->now, 1 + 1000 * 12, "HLT reached at %llu ns, wanted 12001",
	             (unsigned long long)e->now);
	cr_expect_eq(e->gpr[GPR_RAX], 10000, "rax wanted 10000, got %llu",
	             (unsigned long long)e->gpr[GPR_RAX]);
	cr_expect_eq(c->tb_flushes, 1, "wanted one flush of ~2000 blocks at 1500, got %llu",
	             (unsigned long long)c->tb_flushes);
	cr_expect_geq(vm_translations(t.vm), 2000, "vm_translations %llu, wanted 2000 or more",
	              (unsigned long long)vm_translations(t.vm));
	tv_close(&t);
}
