/* Verifies the script backend's stop where RFLAGS.IF may open (arm_if_stop, sim/script.c): a
 * scripted vCPU waiting for an interrupt window (SDM 26.2 interrupt-window exiting, SDM 30.2.1
 * virtual-interrupt delivery) must see the window at the same boundary as with a budget of one
 * instruction per run: right after the STI that sets IF, and one instruction after the implicit
 * IRET that ends a handler, while the instructions in between run in one go. Each test drives
 * the backend directly on a script built here. */
#include <criterion/criterion.h>

#include "../sim/backend.h"

#include <hvsim/scenario.h>

#include <string.h>

#define VEC      0x40
#define BUDGET   1000
#define RANDOM_N 400

struct step {
	enum be_stop st;
	uint64_t retired;
};

static struct step run(void *be, uint64_t budget, bool arm)
{
	struct guest_op op = {0};
	const char *why = NULL;
	struct step s = {0};

	if (arm)
		script_backend_ops.arm_if_stop(be);
	s.st = script_backend_ops.run(be, budget, &op, &s.retired, &why);
	return s;
}

static bool if_set(void *be)
{
	return script_backend_ops.interruptible(be);
}

static struct script_action act(uint8_t op, uint64_t value)
{
	return (struct script_action){.op = op, .value = value};
}

static void expect(struct step s, enum be_stop st, uint64_t retired, const char *what)
{
	cr_expect_eq(s.st, st, "%s: stop %d, wanted %d", what, s.st, st);
	cr_expect_eq(s.retired, retired, "%s: retired %llu, wanted %llu", what,
	             (unsigned long long)s.retired, (unsigned long long)retired);
}

/* cli; compute 5; sti; compute 5; hlt. Armed with IF 0, the run ends right after the STI; the
 * next, unarmed, runs to the HLT. */
Test(script_ifstop, armed_run_ends_right_after_sti)
{
	struct script_action main[] = {act(SOP_CLI, 0), act(SOP_COMPUTE, 5), act(SOP_STI, 0),
	                               act(SOP_COMPUTE, 5), act(SOP_HLT, 0)};
	struct guest_script s = {.main = main, .n_main = 5};
	void *be = script_backend_create(&s, 0x1000, NULL);

	cr_assert_not_null(be);
	expect(run(be, 1, false), BE_BUDGET, 1, "the CLI");
	cr_assert_not(if_set(be));
	expect(run(be, BUDGET, true), BE_BUDGET, 6, "armed: compute 5 and the STI");
	cr_expect(if_set(be), "IF is set after the STI");
	expect(run(be, BUDGET, false), BE_OP, 5, "unarmed: compute 5 to the HLT");
	script_backend_ops.destroy(be);
}

/* Unarmed, STI and CLI are plain instructions: the run goes on to the HLT. */
Test(script_ifstop, unarmed_run_passes_sti)
{
	struct script_action main[] = {act(SOP_CLI, 0), act(SOP_COMPUTE, 5), act(SOP_STI, 0),
	                               act(SOP_COMPUTE, 5), act(SOP_HLT, 0)};
	struct guest_script s = {.main = main, .n_main = 5};
	void *be = script_backend_create(&s, 0x1000, NULL);

	cr_assert_not_null(be);
	expect(run(be, BUDGET, false), BE_OP, 12, "to the HLT");
	script_backend_ops.destroy(be);
}

/* A handler (IF 0 inside, SDM 6.12.1.3) computes 3 and returns to a main compute: armed, the
 * run retires the handler's 3, returns (the implicit IRET restores IF 1 and retires nothing)
 * and retires one instruction of main, as four runs of budget 1 would. */
Test(script_ifstop, armed_run_ends_one_instruction_after_the_implicit_iret)
{
	struct script_action main[] = {act(SOP_COMPUTE, 100)};
	struct script_action body[] = {act(SOP_COMPUTE, 3)};
	struct script_handler h = {.vector = VEC, .actions = body, .n = 1};
	struct guest_script s = {.main = main, .n_main = 1, .handlers = &h, .n_handlers = 1};
	void *be = script_backend_create(&s, 0x1000, NULL);

	cr_assert_not_null(be);
	cr_assert_eq(script_backend_ops.deliver(be, VEC, BE_EV_EXTINT, false, 0), HVSIM_OK);
	cr_assert_not(if_set(be), "IF is 0 in the handler");
	expect(run(be, BUDGET, true), BE_BUDGET, 4, "armed: the handler and one of main");
	cr_expect(if_set(be), "IF is back after the IRET");
	expect(run(be, BUDGET, false), BE_DONE, 99, "the rest of main's compute, to the end");
	script_backend_ops.destroy(be);
}

/* Tiny deterministic generator (xorshift64) for the random scripts. */
static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static struct script_action random_action(uint64_t *x)
{
	switch (next(x) % 4) {
	case 0: return act(SOP_CLI, 0);
	case 1: return act(SOP_STI, 0);
	default: return act(SOP_COMPUTE, 1 + next(x) % 4);
	}
}

/* Runs b-step (budget 1 per run) until IF is set after a run, or a stop that is not the budget;
 * the sum of what those runs retired and the last stop. */
static struct step step_until_open(void *be)
{
	struct step sum = {BE_BUDGET, 0}, s;

	do {
		s = run(be, 1, false);
		sum.retired += s.retired;
		sum.st = s.st;
	} while (s.st == BE_BUDGET && !if_set(be));
	return sum;
}

/* Random scripts of CLI, STI, computes and repeats, with a handler of the same that interrupts
 * whenever IF is set: an armed run with IF 0 ends exactly where runs of budget 1 first see IF
 * set (same instructions retired, same RIP), over RANDOM_N scripts. */
Test(script_ifstop, armed_run_matches_budget_one_runs_on_random_scripts)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (unsigned n = 0; n < RANDOM_N; n++) {
		struct script_action main[8], body[4], rep[3];
		struct script_handler h = {.vector = VEC, .actions = body, .n = 4};
		struct guest_script s = {main, 8, &h, 1};
		void *a, *b;

		for (unsigned i = 0; i < 8; i++)
			main[i] = random_action(&x);
		for (unsigned i = 0; i < 4; i++)
			body[i] = random_action(&x);
		for (unsigned i = 0; i < 3; i++)
			rep[i] = random_action(&x);
		main[next(&x) % 8] =
		    (struct script_action){.op = SOP_REPEAT, .count = 2, .body = rep, .n_body = 3};
		a = script_backend_create(&s, 0x1000, NULL);
		b = script_backend_create(&s, 0x1000, NULL);
		cr_assert(a && b);
		for (unsigned k = 0; k < 64; k++) {
			struct step sa, sb;

			if (if_set(b) && next(&x) % 2) /* refused alike when the frames run out */
				cr_assert_eq(
				    script_backend_ops.deliver(a, VEC, BE_EV_EXTINT, false, 0),
				    script_backend_ops.deliver(b, VEC, BE_EV_EXTINT, false, 0));
			if (if_set(b)) {
				sa = run(a, 1, false);
				sb = run(b, 1, false);
			} else {
				sa = step_until_open(a);
				sb = run(b, BUDGET, true);
			}
			cr_assert(sa.st == sb.st && sa.retired == sb.retired,
			          "script %u step %u: budget-1 runs %d/%llu, armed run %d/%llu", n,
			          k, sa.st, (unsigned long long)sa.retired, sb.st,
			          (unsigned long long)sb.retired);
			cr_assert_eq(script_backend_ops.get_rip(a), script_backend_ops.get_rip(b),
			             "script %u step %u: RIP", n, k);
			cr_assert_eq(if_set(a), if_set(b), "script %u step %u: IF", n, k);
			if (sb.st != BE_BUDGET)
				break;
		}
		script_backend_ops.destroy(a);
		script_backend_ops.destroy(b);
	}
}
