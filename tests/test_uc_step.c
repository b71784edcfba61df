/* Verifies one-instruction steps (sim/uc_step.c): a budget that ends inside a translation block,
 * no deeper than UC_STEP_MAX instructions, runs the block's instructions one at a time in QEMU's
 * interrupt shadow instead of cutting the block with until. The count stays exact, the trace is the
 * one the until path gives, the translations are kept, and no shadow outlives a step. Each test
 * builds a VM around inline code with the recording algorithm (test_vcpu_util.h). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#include <string.h>

#define CODE_GPA 0x8000u

struct generated {
	unsigned n;
	uint32_t first_icount; /* of the first block generated */
};

static void count_generated(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *ud)
{
	struct generated *g = ud;

	(void)uc, (void)prev;
	if (g->n++ == 0)
		g->first_icount = tb->icount;
}

static struct uc_cpu *cpu0(struct tv *t)
{
	return tv_vcpu(t, 0)->be_ctx;
}

static void add_counter(struct uc_cpu *c, struct generated *g)
{
	uc_hook h;

	cr_assert_eq(
	    uc_hook_add(c->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)count_generated, g, 1, 0),
	    UC_ERR_OK, "cannot add the counting hook");
}

static bool shadow_set(struct uc_cpu *c)
{
	uint32_t hf;

	uc_context_save(c->uc, c->ctx);
	memcpy(&hf, (uint8_t *)c->ctx + c->hflags_off, sizeof(hf));
	return hf & (1u << 3);
}

/* The Unicorn fact steps rest on (QEMU's i386 translator): a translation that starts in the
 * interrupt shadow holds one instruction. The engine's calibration found hflags, and setting the
 * flag there by hand makes the next block Unicorn generates a single NOP. */
Test(uc_step, a_translation_started_in_the_shadow_holds_one_instruction)
{
	/* nop x 3; hlt */
	struct tv t = {0};
	struct guest_op op = {0};
	struct generated g = {0};
	uint64_t retired = 0;
	const char *why = NULL;
	struct uc_cpu *c;

	cr_assert(tv_open_code(&t, "long", "90 90 90 f4", ""), "%s", t.err.msg);
	c = cpu0(&t);
	cr_assert_neq(c->hflags_off, 0, "the calibration did not find hflags in Unicorn's context");
	add_counter(c, &g);
	uc_step_shadow(c, true);
	cr_expect(shadow_set(c), "the shadow bit did not stick");
	uc_backend_ops.run(c, 100, &op, &retired, &why);
	cr_expect_eq(g.first_icount, 1, "first block generated in the shadow: %u instructions",
	             g.first_icount);
	cr_expect_eq(retired, 3, "retired %llu before the HLT, wanted 3",
	             (unsigned long long)retired);
	cr_expect_not(shadow_set(c), "the shadow outlived the instruction it covered");
	tv_close(&t);
}

/* 1000 deadlines 11 instructions into the same block: each is stepped, and after the first the
 * steps and the blocks after them are all translated; the until path translated two blocks per
 * deadline (test_uc_deadline.c). The count stays exact. */
Test(uc_step, a_deadline_inside_a_block_is_stepped_without_translating_again)
{
	struct tv t = {.handler = tv_stop_at_exit};
	struct generated g = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_deadline_loop(&t), "%s", t.err.msg);
	add_counter(cpu0(&t), &g);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->now, 1 + 1000 * 12, "HLT reached at %llu ns, wanted 12001",
	             (unsigned long long)e->now);
	cr_expect_eq(e->gpr[GPR_RAX], 10000, "rax wanted 10000, got %llu",
	             (unsigned long long)e->gpr[GPR_RAX]);
	cr_expect_leq(g.n, 40, "Unicorn generated %u blocks for 1000 deadlines, wanted at most 40",
	              g.n);
	tv_close(&t);
}

/* A 20-instruction quantum puts each deadline 19 instructions into the block, beyond UC_STEP_MAX:
 * those are cut with until as before (two translations each), and the count stays exact. */
Test(uc_step, a_deadline_deeper_than_the_step_limit_is_cut_with_until)
{
	struct tv t = {.handler = tv_stop_at_exit};
	struct generated g = {0};
	const struct tv_exit *e;

	/* mov ecx, 100; L: 18 x inc rax; dec ecx; jnz L; hlt */
	char hex[256] = "b9 64 00 00 00 ";

	for (unsigned i = 0; i < 18; i++)
		strcat(hex, "48 ff c0 ");
	strcat(hex, "ff c9 75 c6 f4");
	cr_assert(tv_open_code(&t, "long", hex, "\"machine\": {\"quantum_insns\": 20}"), "%s",
	          t.err.msg);
	add_counter(cpu0(&t), &g);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->now, 1 + 100 * 20, "HLT reached at %llu ns, wanted 2001",
	             (unsigned long long)e->now);
	cr_expect_eq(e->gpr[GPR_RAX], 1800, "rax wanted 1800, got %llu",
	             (unsigned long long)e->gpr[GPR_RAX]);
	cr_expect_geq(g.n, 150,
	              "Unicorn generated %u blocks for 100 deep deadlines, wanted the until "
	              "path's two each",
	              g.n);
	tv_close(&t);
}

/* mov ecx, 300; L: inc rax; out 0x80, al; inc rbx; add rax, rbx; dec ecx; jnz L; hlt: exits at
 * every iteration, and quanta of 2, 3, 5 and 7 put deadlines at every depth of the loop. */
static void run_io_loop(struct tv *t, unsigned quantum, bool steps)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "\"machine\": {\"quantum_insns\": %u}", quantum);
	cr_assert(tv_open_code(t, "long",
	                       "b9 2c 01 00 00 48 ff c0 e6 80 48 ff c3 48 01 d8 ff c9 75 f1 f4",
	                       extra),
	          "%s", t->err.msg);
	if (!steps)
		cpu0(t)->hflags_off = 0;
	tv_run(t);
}

/* The two ways to stop inside a block must not differ in anything the trace shows: every exit,
 * its time and registers, for deadlines at every depth. */
Test(uc_step, steps_and_until_give_the_same_trace)
{
	static const unsigned quanta[] = {2, 3, 5, 7};

	for (size_t i = 0; i < sizeof(quanta) / sizeof(quanta[0]); i++) {
		struct tv a = {0}, b = {0};

		run_io_loop(&a, quanta[i], true);
		run_io_loop(&b, quanta[i], false);
		cr_assert_gt(a.n_exits, 300, "quantum %u: %u exits, wanted the loop's 300 and more",
		             quanta[i], a.n_exits);
		cr_expect_eq(a.n_exits, b.n_exits, "quantum %u: %u exits stepped, %u with until",
		             quanta[i], a.n_exits, b.n_exits);
		cr_expect_str_eq(a.trace, b.trace, "quantum %u: the traces differ", quanta[i]);
		tv_close(&a);
		tv_close(&b);
	}
}

/* A step whose instruction traps (OUT at the block's start, budget 1) stops before the OUT, as
 * every trap does: nothing retired, and the shadow set for the step is gone, so the next run
 * translates and counts as if no step had been. */
Test(uc_step, a_step_stopped_before_its_instruction_leaves_no_shadow)
{
	/* out 0x80, al; nop; nop; hlt */
	struct tv t = {0};
	struct guest_op op = {0};
	uint64_t retired = 0;
	const char *why = NULL;
	enum be_stop st;
	struct uc_cpu *c;

	cr_assert(tv_open_code(&t, "long", "e6 80 90 90 f4", ""), "%s", t.err.msg);
	c = cpu0(&t);
	st = uc_backend_ops.run(c, 1, &op, &retired, &why);
	cr_expect_eq(st, BE_OP, "budget 1: stop %d wanted BE_OP (%s)", st, why ? why : "");
	cr_expect_eq(op.kind, GOP_IO, "budget 1: operation kind %u, wanted GOP_IO", op.kind);
	cr_expect_eq(retired, 0, "budget 1: retired %llu before the OUT, wanted 0",
	             (unsigned long long)retired);
	cr_expect_not(shadow_set(c), "the step's shadow outlived a stop before its instruction");
	tv_close(&t);
}

/* A one-instruction translation counts as its block's first instruction only while the bytes are
 * the ones decoded: here the guest rewrites the head of a decoded block (INC EAX) into CPUID, of
 * the same length, and reaches it right after STI, where QEMU translates one instruction. It must
 * be decoded again, or CPUID would run in Unicorn without the exit the hypervisor must see. */
Test(uc_step, a_rewritten_instruction_after_sti_is_decoded_again)
{
	/* mov ecx, 2; jmp H; L: sti; H: inc eax; inc ebx; mov word [0x8008], 0xa20f (cpuid);
	 * dec ecx; jnz L; hlt */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "b9 02 00 00 00 eb 01 fb ff c0 ff c3 66 c7 04 25 08 80 00 00 0f a2 "
	                       "ff c9 75 ed f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_CPUID, 0);
	cr_assert_not_null(e, "no CPUID exit after the rewrite; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->rip, CODE_GPA + 8, "CPUID exit at %#llx, wanted 0x8008",
	             (unsigned long long)e->rip);
	cr_expect_eq(e->gpr[GPR_RAX], 1,
	             "rax %llu at the CPUID, wanted 1 (one INC before the rewrite)",
	             (unsigned long long)e->gpr[GPR_RAX]);
	tv_close(&t);
}
