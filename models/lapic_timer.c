/* The local APIC timer: one-shot, periodic and TSC-deadline modes (SDM 11.5.4 "APIC Timer",
 * 11.5.4.1 "TSC-Deadline Mode"), driven by virtual time. The current count is never stored: it is
 * computed from the virtual time at which counting started, the divider and the bus frequency, so
 * reading TMCCT is exact at any ns and a snapshot needs no timer object. The model never schedules
 * anything: operations report res->timer_changed and the owner asks lapic_timer_deadline().
 * Left out: ARAT-less parts whose timer stops in deep C-states (the model counts through them). */
#include "lapic_int.h"

#include <hvsim/clock.h>

typedef unsigned __int128 u128;

/* SDM 11.5.4, Figure 11-10 "Divide Configuration Register": bits 3,1:0 = 111b divide by 1,
 * otherwise divide by 2^(value + 1). */
uint32_t lapic_timer_divisor(uint32_t tdcr)
{
	uint32_t v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

static enum lapic_timer_mode mode_from(uint32_t lvtt)
{
	uint32_t m = (lvtt & LAPIC_LVT_TIMER_MASK) >> LAPIC_LVT_TIMER_SHIFT;

	/* 11b is reserved: it counts like one-shot, as KVM's model ends up doing */
	if (m == LAPIC_TIMER_PERIODIC || m == LAPIC_TIMER_TSC_DEADLINE)
		return (enum lapic_timer_mode)m;
	return LAPIC_TIMER_ONESHOT;
}

enum lapic_timer_mode lapic_timer_mode_of(const struct lapic *l)
{
	return mode_from(l->regs[SLOT(LAPIC_REG_LVT_TIMER)]);
}

static uint64_t sat64(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Whole timer ticks between two virtual times: a tick is `divisor` bus cycles. */
static uint64_t ticks_between(const struct lapic *l, uint64_t from, uint64_t to)
{
	if (to <= from)
		return 0;
	return sat64((u128)(to - from) * l->cfg.apic_bus_khz /
	             ((u128)NS_PER_MS * l->timer.divisor));
}

/* Smallest ns span containing `ticks` whole ticks. */
static uint64_t ns_for_ticks(const struct lapic *l, uint64_t ticks)
{
	u128 num = (u128)ticks * l->timer.divisor * NS_PER_MS;

	return sat64((num + l->cfg.apic_bus_khz - 1) / l->cfg.apic_bus_khz);
}

static uint32_t count_in_mode(const struct lapic *l, enum lapic_timer_mode mode, uint64_t now)
{
	const struct lapic_timer *t = &l->timer;
	uint64_t e, tmict = l->regs[SLOT(LAPIC_REG_TMICT)];

	if (!t->counting)
		return 0;
	e = ticks_between(l, t->base_ns, now);
	if (e < t->base_count)
		return t->base_count - (uint32_t)e;
	if (mode != LAPIC_TIMER_PERIODIC || tmict == 0)
		return 0;
	/* SDM 11.5.4: periodic mode reloads TMICT when the count reaches 0 */
	return (uint32_t)(tmict - (e - t->base_count) % tmict);
}

uint32_t lapic_timer_count(const struct lapic *l, uint64_t now_ns)
{
	return count_in_mode(l, lapic_timer_mode_of(l), now_ns);
}

/* Counting restarts at now from count: it reaches 0 after `count` ticks. */
static void start_count(struct lapic *l, uint64_t now, uint32_t count)
{
	struct lapic_timer *t = &l->timer;

	t->base_ns = now;
	t->base_count = count;
	t->counting = count != 0;
	t->armed = t->counting;
	t->next_tick = count;
	if (t->armed)
		t->deadline_ns = add_sat(now, ns_for_ticks(l, count));
}

static void advance_period(struct lapic *l, uint64_t now)
{
	struct lapic_timer *t = &l->timer;
	uint64_t tmict = l->regs[SLOT(LAPIC_REG_TMICT)];
	uint64_t e = ticks_between(l, t->base_ns, now);
	u128 periods;

	if (e < t->next_tick)
		e = t->next_tick;
	periods = (e - t->base_count) / tmict + 1;
	/* Missed periods while the owner was late collapse into one IRR bit, as they would */
	t->next_tick = sat64(t->base_count + periods * tmict);
	t->deadline_ns = add_sat(t->base_ns, ns_for_ticks(l, t->next_tick));
}

static void expire(struct lapic *l, uint64_t now, struct lapic_result *res)
{
	struct lapic_timer *t = &l->timer;
	enum lapic_timer_mode mode = lapic_timer_mode_of(l);

	res->timer_fired = true;
	res->timer_changed = true;
	if (mode == LAPIC_TIMER_TSC_DEADLINE) {
		/* SDM 11.5.4.1: the timer disarms itself and clears IA32_TSC_DEADLINE */
		t->tsc_deadline = 0;
		t->armed = false;
	} else if (mode == LAPIC_TIMER_PERIODIC && l->regs[SLOT(LAPIC_REG_TMICT)] != 0) {
		advance_period(l, now);
	} else {
		t->counting = false;
		t->armed = false;
	}
	/* SDM 11.5.4: a masked timer still counts; only the interrupt is suppressed */
	lapic_lvt_deliver(l, LAPIC_LVT_TIMER, res);
}

void lapic_timer_sync(struct lapic *l, uint64_t now_ns, struct lapic_result *res)
{
	if (l->timer.armed && l->timer.deadline_ns <= now_ns)
		expire(l, now_ns, res);
}

void lapic_timer_stop(struct lapic *l)
{
	struct lapic_timer *t = &l->timer;

	t->base_ns = 0;
	t->next_tick = 0;
	t->deadline_ns = 0;
	t->tsc_deadline = 0;
	t->base_count = 0;
	t->counting = false;
	t->armed = false;
	t->divisor = lapic_timer_divisor(l->regs[SLOT(LAPIC_REG_TDCR)]);
}

void lapic_timer_write_tmict(struct lapic *l, uint32_t value, uint64_t now_ns,
                             struct lapic_result *res)
{
	/* SDM 11.5.4.1: in TSC-deadline mode writes to the initial-count register are ignored */
	if (lapic_timer_mode_of(l) == LAPIC_TIMER_TSC_DEADLINE)
		return;
	/* SDM 11.5.4: a write restarts counting; 0 stops the timer */
	l->regs[SLOT(LAPIC_REG_TMICT)] = value;
	start_count(l, now_ns, value);
	res->timer_changed = true;
}

/* The divider changes under a running count: the count keeps its value at now and continues at
 * the new rate (the fraction of the tick in progress is dropped). */
void lapic_timer_write_tdcr(struct lapic *l, uint32_t value, uint64_t now_ns,
                            struct lapic_result *res)
{
	uint32_t div = lapic_timer_divisor(value), count;

	l->regs[SLOT(LAPIC_REG_TDCR)] = value;
	if (div == l->timer.divisor)
		return;
	if (!l->timer.counting) {
		l->timer.divisor = div;
		return;
	}
	count = lapic_timer_count(l, now_ns);
	l->timer.divisor = div;
	start_count(l, now_ns, count);
	res->timer_changed = true;
}

static void disarm_all(struct lapic *l)
{
	l->timer.counting = false;
	l->timer.armed = false;
	l->timer.tsc_deadline = 0;
	l->regs[SLOT(LAPIC_REG_TMICT)] = 0;
}

/* One-shot <-> periodic: counting continues from the current count, phase kept at the last tick
 * boundary. An expired one-shot count stays at 0. */
static void switch_count_mode(struct lapic *l, enum lapic_timer_mode from, uint64_t now)
{
	struct lapic_timer *t = &l->timer;
	uint64_t e;
	uint32_t count;

	if (!t->counting)
		return;
	count = count_in_mode(l, from, now);
	e = ticks_between(l, t->base_ns, now);
	start_count(l, add_sat(t->base_ns, ns_for_ticks(l, e)), count);
}

void lapic_timer_lvtt_written(struct lapic *l, uint32_t old, uint64_t now_ns,
                              struct lapic_result *res)
{
	enum lapic_timer_mode to = lapic_timer_mode_of(l), from = mode_from(old);

	if (from == to)
		return;
	res->timer_changed = true;
	/* SDM 11.5.4.1: a write that changes the mode to or from TSC-deadline disarms the timer */
	if (from == LAPIC_TIMER_TSC_DEADLINE || to == LAPIC_TIMER_TSC_DEADLINE)
		disarm_all(l);
	else
		switch_count_mode(l, from, now_ns);
}

uint64_t lapic_guest_tsc(const struct lapic *l, uint64_t now_ns)
{
	return sim_ns_to_tsc(now_ns, l->cfg.tsc_khz) + l->tsc_offset;
}

/* SDM 11.5.4.1: the interrupt fires when the TSC equals or exceeds the deadline; a deadline
 * already passed fires at once. */
static void arm_deadline(struct lapic *l, uint64_t now, struct lapic_result *res)
{
	struct lapic_timer *t = &l->timer;
	uint64_t guest = lapic_guest_tsc(l, now), raw;

	t->armed = t->tsc_deadline != 0;
	if (!t->armed)
		return;
	if (t->tsc_deadline <= guest) {
		t->deadline_ns = now;
		expire(l, now, res);
		return;
	}
	raw = add_sat(sim_ns_to_tsc(now, l->cfg.tsc_khz), t->tsc_deadline - guest);
	t->deadline_ns = sim_tsc_to_ns(raw, l->cfg.tsc_khz);
}

void lapic_timer_write_deadline(struct lapic *l, uint64_t value, uint64_t now_ns,
                                struct lapic_result *res)
{
	/* SDM 11.5.4.1: in other timer modes writes are ignored */
	if (lapic_timer_mode_of(l) != LAPIC_TIMER_TSC_DEADLINE)
		return;
	l->timer.tsc_deadline = value;
	res->timer_changed = true;
	arm_deadline(l, now_ns, res);
}

uint64_t lapic_timer_read_deadline(const struct lapic *l)
{
	/* SDM 11.5.4.1: reads return 0 in other timer modes */
	if (lapic_timer_mode_of(l) != LAPIC_TIMER_TSC_DEADLINE)
		return 0;
	return l->timer.tsc_deadline;
}

bool lapic_timer_deadline(const struct lapic *l, uint64_t *ns)
{
	if (!l->timer.armed)
		return false;
	*ns = l->timer.deadline_ns;
	return true;
}

void lapic_timer_expire(struct lapic *l, uint64_t now_ns, struct lapic_result *res)
{
	struct lapic_result scratch;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	lapic_timer_sync(l, now_ns, res);
}

void lapic_set_tsc_offset(struct lapic *l, uint64_t offset, uint64_t now_ns,
                          struct lapic_result *res)
{
	struct lapic_result scratch;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	lapic_timer_sync(l, now_ns, res);
	l->tsc_offset = offset;
	if (lapic_timer_mode_of(l) == LAPIC_TIMER_TSC_DEADLINE && l->timer.tsc_deadline) {
		res->timer_changed = true;
		arm_deadline(l, now_ns, res);
	}
}
