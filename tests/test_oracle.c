/* Verifies the oracles (docs/oracles.md) by feeding them synthetic event streams: each oracle fires
 * exactly when its rule says, once per subject, and stays quiet on the healthy version of the same
 * stream. */
#include <criterion/criterion.h>

#include "../sim/oracle.h"

#include <stdio.h>
#include <string.h>

struct seen {
	unsigned n;
	char kind[8][32];
	uint64_t t[8];
};

static void record(void *ctx, int32_t vcpu, uint64_t t, const char *kind, const char *detail)
{
	struct seen *s = ctx;

	(void)vcpu;
	(void)detail;
	if (s->n < 8) {
		snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", kind);
		s->t[s->n] = t;
	}
	s->n++;
}

static struct hvsim_oracle_params params(void)
{
	return (struct hvsim_oracle_params){
	    .storm_count = 100,
	    .storm_window_ns = 1000000,
	    .storm_insns_per_irq = 200,
	    .isr_stall_ns = 100000,
	    .isr_stall_eois = 4,
	    .timer_stall_ns = 1000000,
	};
}

static void inject(struct oracles *o, uint64_t t, uint64_t vector, uint64_t insns, struct seen *s)
{
	struct trace_ev e;

	trace_ev_init(&e, t, 0, "inject");
	trace_ev_hex(&e, "vector", vector);
	oracles_observe(o, &e, insns, record, s);
}

static void eoi(struct oracles *o, uint64_t t, uint64_t isr, struct seen *s)
{
	struct trace_ev e;

	trace_ev_init(&e, t, 0, "eoi");
	trace_ev_hex(&e, "isr", isr);
	oracles_observe(o, &e, 0, record, s);
}

static void lapic_timer(struct oracles *o, uint64_t t, const char *mode, bool masked,
                        struct seen *s)
{
	struct trace_ev e;

	trace_ev_init(&e, t, 0, "lapic_timer");
	trace_ev_str(&e, "mode", mode);
	trace_ev_bool(&e, "masked", masked);
	trace_ev_bool(&e, "armed", false);
	oracles_observe(o, &e, 0, record, s);
}

/* interrupt_storm: more than count deliveries in the window with < insns_per_irq each. */
Test(oracle, storm_fires_once_on_fast_redelivery)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	for (uint64_t i = 0; i < 300; i++)
		inject(o, i * 1000, 0x51, i * 50, &s);
	cr_assert_eq(s.n, 1, "wanted one finding, got %u", s.n);
	cr_assert_str_eq(s.kind[0], "interrupt_storm");
	cr_assert_eq(s.t[0], 100000, "fires on delivery 101: wanted t=100000, got %llu",
	             (unsigned long long)s.t[0]);
	oracles_destroy(o);
}

Test(oracle, storm_quiet_when_guest_progresses)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	for (uint64_t i = 0; i < 300; i++)
		inject(o, i * 1000, 0x51, i * 5000, &s); /* 5000 instructions per interrupt */
	cr_assert_eq(s.n, 0, "a busy but progressing guest is no storm (%u findings)", s.n);
	oracles_destroy(o);
}

Test(oracle, storm_quiet_when_spread_over_windows)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	for (uint64_t i = 0; i < 300; i++)
		inject(o, i * 20000, 0x51, i * 10, &s); /* 50 per 1 ms window */
	cr_assert_eq(s.n, 0, "50 deliveries per window is below count 100 (%u findings)", s.n);
	oracles_destroy(o);
}

/* isr_stall: the same vector on top of ISR for stall_ns across >= eois EOIs. */
Test(oracle, isr_stall_when_eois_clear_nothing)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	inject(o, 0, 0xec, 0, &s);
	for (uint64_t t = 1; t <= 10; t++)
		eoi(o, t * 20000, 0xec, &s); /* the EOI leaves 0xec in service */
	cr_assert_eq(s.n, 1, "wanted one isr_stall, got %u", s.n);
	cr_assert_str_eq(s.kind[0], "isr_stall");
	oracles_destroy(o);
}

Test(oracle, isr_quiet_when_eoi_clears)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	for (uint64_t t = 0; t < 10; t++) {
		inject(o, t * 20000, 0xec, 0, &s);
		eoi(o, t * 20000 + 100, 0, &s);
	}
	oracles_finish(o, 1000000, record, &s);
	cr_assert_eq(s.n, 0, "EOIs that clear the vector are healthy (%u findings)", s.n);
	oracles_destroy(o);
}

/* timer_stall: an unmasked periodic timer that stays silent for stall_ns, judged at the end too. */
Test(oracle, timer_stall_judged_at_end_of_run)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};

	lapic_timer(o, 1000, "periodic", false, &s);
	oracles_finish(o, 5000000, record, &s);
	cr_assert_eq(s.n, 1, "wanted one timer_stall, got %u", s.n);
	cr_assert_str_eq(s.kind[0], "timer_stall");
	oracles_destroy(o);
}

Test(oracle, timer_quiet_while_ticking_or_masked)
{
	struct hvsim_oracle_params p = params();
	struct oracles *o = oracles_create(&p, 1);
	struct seen s = {0};
	struct trace_ev e;

	lapic_timer(o, 0, "periodic", false, &s);
	for (uint64_t t = 1; t <= 20; t++) {
		trace_ev_init(&e, t * 500000, 0, "timer");
		oracles_observe(o, &e, 0, record, &s);
	}
	lapic_timer(o, 10000001, "periodic", true, &s);
	oracles_finish(o, 50000000, record, &s);
	cr_assert_eq(s.n, 0, "ticking then masked is healthy (%u findings)", s.n);
	oracles_destroy(o);
}

/* The oracles and the summary's counts key on whole event names: a prefix or a longer name is
 * another event. */
Test(oracle, events_are_classified_by_their_whole_name)
{
	static const struct {
		const char *ev;
		enum oracle_ev want;
	} rows[] = {
	    {"inject", ORACLE_EV_INJECT},  {"eoi", ORACLE_EV_EOI},
	    {"timer", ORACLE_EV_TIMER},    {"lapic_timer", ORACLE_EV_LAPIC_TIMER},
	    {"injected", ORACLE_EV_OTHER}, {"eo", ORACLE_EV_OTHER},
	    {"timers", ORACLE_EV_OTHER},   {"lapic", ORACLE_EV_OTHER},
	    {"exit", ORACLE_EV_OTHER},     {"", ORACLE_EV_OTHER},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(oracle_ev_kind(rows[i].ev), rows[i].want, "\"%s\": kind %d, wanted %d",
		             rows[i].ev, oracle_ev_kind(rows[i].ev), rows[i].want);
}
