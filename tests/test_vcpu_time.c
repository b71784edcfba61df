/* Verifies deterministic time on instruction-level guests (issue 3 points 5 and 6): virtual time
 * advances machine.insn_ns per retired instruction; a guest summing RDTSC over 1,000,000
 * iterations gets the value the scenario alone determines, on every run; a guest halted in the
 * guest (HLT not intercepted) sleeps until the next event; and the instruction, exit and
 * virtual-time limits end endless guests with budget_exhausted instead of a hang. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <string.h>

#define KHZ_PER_GHZ        UINT64_C(1000000)
#define SUM_ITERATIONS     UINT64_C(1000000)
#define SUM_INSNS_BEFORE   2 /* mov ecx; xor r8d (scenarios/guest/rdtsc_sum.S) */
#define SUM_INSNS_PER_PASS 6 /* rdtsc; shl; or; add; dec; jnz */

/* Iteration i executes RDTSC after 2 + 6 i instructions: TSC = (2 + 6 i) insn_ns tsc_khz / 1e6. */
static uint64_t expected_sum(uint64_t insn_ns, uint64_t tsc_khz)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < SUM_ITERATIONS; i++)
		sum +=
		    (SUM_INSNS_BEFORE + SUM_INSNS_PER_PASS * i) * insn_ns * tsc_khz / KHZ_PER_GHZ;
	return sum;
}

static uint64_t run_sum(const char *machine)
{
	struct tv t = {.intercepts = HVSIM_INTERCEPT_ALL & ~GOP_BIT(GOP_RDTSC)};
	uint32_t r[2] = {0};
	uint64_t sum;

	cr_assert(tv_load_program(&t, "rdtsc_sum"), "scenarios/guest/rdtsc_sum.bin missing");
	cr_assert(tv_open_program(&t, "long", machine), "%s", t.err.msg);
	tv_run(&t);
	cr_assert_eq(tv_reports(&t, r, 2), 2, "wanted the two halves of the sum; trace:\n%s",
	             t.trace);
	sum = ((uint64_t)r[1] << 32) | r[0];
	tv_close(&t);
	return sum;
}

Test(vcpu_time, rdtsc_sum_is_computable_from_the_scenario)
{
	uint64_t want = expected_sum(1, 2000000), got = run_sum("");

	cr_expect_eq(got, want, "sum at 1 ns/instruction, 2 GHz: wanted %llu, got %llu",
	             (unsigned long long)want, (unsigned long long)got);
}

Test(vcpu_time, rdtsc_sum_follows_insn_ns_and_tsc_khz)
{
	uint64_t want = expected_sum(3, 1500000);
	uint64_t got = run_sum("\"machine\": {\"insn_ns\": 3, \"tsc_khz\": 1500000}");

	cr_expect_eq(got, want, "sum at 3 ns/instruction, 1.5 GHz: wanted %llu, got %llu",
	             (unsigned long long)want, (unsigned long long)got);
}

Test(vcpu_time, rdtsc_sum_is_identical_on_every_run)
{
	uint64_t a = run_sum("\"machine\": {\"quantum_insns\": 997}"), b = run_sum("");

	cr_expect_eq(a, b, "a 997-instruction quantum changed the sum: %llu against %llu",
	             (unsigned long long)a, (unsigned long long)b);
}

Test(vcpu_time, each_instruction_costs_insn_ns)
{
	/* 5 x nop; cpuid; hlt */
	struct tv t = {.handler = tv_stop_at_exit};

	cr_assert(
	    tv_open_code(&t, "long", "90 90 90 90 90 0f a2 f4", "\"machine\": {\"insn_ns\": 7}"),
	    "%s", t.err.msg);
	tv_run(&t);
	cr_assert_eq(t.n_exits, 1, "wanted one exit");
	cr_expect_eq(t.exits[0].now, 5 * 7, "CPUID exit at %llu ns, wanted 35",
	             (unsigned long long)t.exits[0].now);
	tv_close(&t);
}

/* HLT not intercepted: the vCPU halts in the guest and the clock jumps to the next event (an I/O
 * APIC interrupt at 20 us), whose handler then runs; no HLT exit is taken. */
Test(vcpu_time, hlt_in_the_guest_sleeps_until_the_next_event)
{
	struct tv t = {.intercepts = HVSIM_INTERCEPT_ALL & ~GOP_BIT(GOP_HLT)};
	const struct tv_exit *e;

	cr_assert(tv_load_program(&t, "irq_hlt"), "scenarios/guest/irq_hlt.bin missing");
	cr_assert(tv_open_program(&t, "long",
	                          "\"events\": [{\"at_ns\": 20000, \"irq_line\": {\"gsi\": 10, "
	                          "\"level\": 1}}], \"limits\": {\"virtual_ns\": 100000}"),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_IO, 0);
	cr_assert_not_null(e, "the handler never reported; trace:\n%s", t.trace);
	cr_expect_eq(e->x.op.u.io.value, 0x2a, "first report wanted the handler's 0x2a, got %#x",
	             e->x.op.u.io.value);
	cr_expect(e->now >= 20000 && e->now < 20100,
	          "the handler ran at %llu ns, wanted just after the 20000 ns event",
	          (unsigned long long)e->now);
	cr_expect_null(tv_exit_of(&t, GOP_HLT, 0), "HLT exited although not intercepted");
	tv_close(&t);
}

struct budget_case {
	const char *name;
	const char *program;
	const char *limits;
	const char *detail;
};

static const struct budget_case budgets[] = {
    {"jmp $ against the instruction limit", "forever",
     "\"limits\": {\"instructions\": 100000, \"virtual_ns\": 1000000000}", "limit instructions"},
    {"jmp $ against the virtual-time limit", "forever",
     "\"limits\": {\"instructions\": 1000000000, \"virtual_ns\": 50000}", "limit virtual_ns"},
    {"CPUID storm against the exit limit", "exit_storm",
     "\"limits\": {\"exits\": 40, \"virtual_ns\": 1000000000}", "limit exits"},
};

Test(vcpu_time, endless_guests_end_with_budget_exhausted)
{
	for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		struct tv t = {0};

		cr_assert(tv_load_program(&t, budgets[i].program), "%s: program missing",
		          budgets[i].name);
		cr_assert(tv_open_program(&t, "long", budgets[i].limits), "%s: %s", budgets[i].name,
		          t.err.msg);
		cr_expect_eq(tv_run(&t), HVSIM_VM_DONE, "%s: the run did not end", budgets[i].name);
		cr_expect(tv_trace_has(&t, "\"kind\":\"budget_exhausted\"") &&
		              tv_trace_has(&t, budgets[i].detail),
		          "%s: wanted budget_exhausted (%s); trace tail:\n%s", budgets[i].name,
		          budgets[i].detail,
		          t.trace_len > 400 ? t.trace + t.trace_len - 400 : t.trace);
		tv_close(&t);
	}
}
