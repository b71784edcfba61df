/* Verifies the TDX model's record of what a call wrote (models/tdx/tdx_int.h, m->wrote) and the
 * executor's fast mode that compares only the header and the recorded parts (hv/tdx_replay_int.h,
 * "full"): over every hand-made seed, and inputs made from them by seeded random byte changes and
 * repeated slices (tens of thousands of calls), an input's outcome (operations, result hash, first
 * finding and its reason) is the same in both modes, and the whole-module compare never finds a
 * change the model did not record (write_recorded); a change made outside the calls is
 * write_recorded in full mode. The model's second compilation (tdx_plain.c, the fuzzer's
 * determinism rerun) gives every such input the outcome of the first, in both modes. Each
 * failure message names the input and both outcomes. */
#include <criterion/criterion.h>

#include "../fuzz/fz_tdx.h"

#include <hvsim/prng.h>

#include <string.h>

#define MUTANTS 200 /* inputs made from each seed */
#define BYTES   2048

/* Input k of seed i: the seed itself (k 0), else with 1-8 bytes replaced at random and, for odd k,
 * a random slice of it repeated at its end (an operation done twice, a step of KVM's done again).
 */
static size_t input(size_t i, unsigned k, uint8_t *b)
{
	size_t n = fz_tdx_seed_bytes(fz_tdx_seed_at(i), b, BYTES / 2), at, len;
	struct sim_prng p;

	sim_prng_seed(&p, i * 1000 + k);
	for (unsigned c = k ? 1 + (unsigned)sim_prng_below(&p, 8) : 0; c && n > 2; c--)
		b[2 + sim_prng_below(&p, n - 2)] = (uint8_t)sim_prng_next(&p);
	if (k % 2 && n > 2) {
		at = 2 + sim_prng_below(&p, n - 2);
		len = 1 + sim_prng_below(&p, n - at);
		memcpy(b + n, b + at, len);
		n += len;
	}
	return n;
}

static void run(struct fz_tdx_sys *s, bool full, const uint8_t *b, size_t n,
                struct fz_tdx_outcome *o)
{
	s->mc.full = full;
	fz_tdx_run(s, b, n, o);
}

Test(tdx_wrote, the_fast_compare_gives_every_input_the_full_compares_outcome)
{
	struct fz_tdx_sys s;
	unsigned inputs = 0;

	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	for (size_t i = 0; i < fz_tdx_seed_count(); i++)
		for (unsigned k = 0; k <= MUTANTS; k++, inputs++) {
			struct fz_tdx_outcome a, b;
			uint8_t buf[BYTES];
			size_t n = input(i, k, buf);

			run(&s, false, buf, n, &a);
			run(&s, true, buf, n, &b);
			cr_assert(a.ops == b.ops && a.hash == b.hash && a.kind == b.kind &&
			              strcmp(a.why, b.why) == 0,
			          "seed %s input %u: fast %u ops hash %016llx %s (%s), full %u ops "
			          "hash %016llx %s (%s)",
			          fz_tdx_seed_at(i)->name, k, a.ops, (unsigned long long)a.hash,
			          a.kind ? a.kind : "no finding", a.why, b.ops,
			          (unsigned long long)b.hash, b.kind ? b.kind : "no finding",
			          b.why);
		}
	cr_assert_gt(inputs, 200, "only %u inputs", inputs);
	fz_tdx_destroy(&s);
}

Test(tdx_wrote, every_write_the_inputs_make_is_recorded)
{
	struct fz_tdx_sys s;

	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	for (size_t i = 0; i < fz_tdx_seed_count(); i++)
		for (unsigned k = 0; k <= MUTANTS; k++) {
			struct fz_tdx_outcome o;
			uint8_t buf[BYTES];
			size_t n = input(i, k, buf);

			run(&s, true, buf, n, &o);
			cr_assert(!o.kind || strcmp(o.kind, "write_recorded") != 0,
			          "seed %s input %u: %s", fz_tdx_seed_at(i)->name, k, o.why);
		}
	fz_tdx_destroy(&s);
}

Test(tdx_wrote, a_change_outside_the_record_is_write_recorded_in_full_mode)
{
	struct tdx_replay_machine mc;
	struct tdx_replay_step st;
	struct tdx_config cfg;
	struct tdx_regs r = {.rax = TDH_SYS_INIT};

	fz_tdx_config(0, 0, &cfg);
	cr_assert_eq(tdx_replay_machine_create(&mc), HVSIM_OK, "create");
	cr_assert_eq(tdx_replay_reset(&mc, &cfg, NULL), HVSIM_OK, "reset");
	cr_assert(mc.full, "a machine starts in full mode");
	tdx_replay_seamcall(&mc, 0, &r, &st); /* TDH.SYS.INIT succeeds and records nothing */
	cr_assert(!st.bad, "TDH.SYS.INIT: %s %s", st.bad, st.why);
	mc.m->td[3].epoch = 7; /* not through tdx_td_w: counts as the next call's */
	r = (struct tdx_regs){.rax = TDH_SYS_LP_INIT};
	tdx_replay_seamcall(&mc, 0, &r, &st);
	cr_assert(st.out.rax == TDX_SUCCESS && st.bad && strcmp(st.bad, "write_recorded") == 0,
	          "TDH.SYS.LP.INIT after an unrecorded write: status %#llx, finding %s (%s)",
	          (unsigned long long)st.out.rax, st.bad ? st.bad : "none", st.why);
	tdx_replay_machine_destroy(&mc);
}

Test(tdx_wrote, the_plain_compilation_gives_every_input_the_same_outcome)
{
	struct fz_tdx_sys s;
	unsigned inputs = 0;

	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	for (size_t i = 0; i < fz_tdx_seed_count(); i++)
		for (unsigned k = 0; k <= MUTANTS; k++, inputs++) {
			struct fz_tdx_outcome a, b;
			uint8_t buf[BYTES];
			size_t n = input(i, k, buf);
			bool full = k % 2;

			s.mc.plain = false;
			run(&s, full, buf, n, &a);
			s.mc.plain = true;
			run(&s, full, buf, n, &b);
			cr_assert(
			    a.ops == b.ops && a.hash == b.hash && a.kind == b.kind &&
			        strcmp(a.why, b.why) == 0,
			    "seed %s input %u (%s mode): %u ops hash %016llx %s (%s), plain %u ops "
			    "hash %016llx %s (%s)",
			    fz_tdx_seed_at(i)->name, k, full ? "full" : "fast", a.ops,
			    (unsigned long long)a.hash, a.kind ? a.kind : "no finding", a.why,
			    b.ops, (unsigned long long)b.hash, b.kind ? b.kind : "no finding",
			    b.why);
		}
	cr_assert_gt(inputs, 200, "only %u inputs", inputs);
	fz_tdx_destroy(&s);
}
