/* The oracles (see oracle.h for the event contract, docs/oracles.md for the rules and parameters).
 * interrupt_storm counts deliveries per (vCPU, vector) in tumbling windows of storm_window_ns and
 * compares them with the instructions the vCPU retired meanwhile; isr_stall follows the top of each
 * vCPU's (v)ISR as inject and eoi events report it; timer_stall follows each vCPU's LAPIC timer
 * configuration and its expiries. Each (kind, vCPU[, vector]) is reported once. */
#include "oracle.h"
#include "str_eq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTORS 256

struct storm_win {
	uint64_t start_ns;    /* window start */
	uint64_t count;       /* deliveries in the window */
	uint64_t start_insns; /* vCPU instructions at the window start */
	bool reported;
};

struct isr_track {
	uint8_t top;       /* highest vector in (v)ISR, 0: empty */
	uint64_t since_ns; /* when top took its value */
	uint64_t eois;     /* EOIs since then */
	bool reported;
};

struct timer_track {
	bool periodic_unmasked; /* the guest relies on periodic expiries */
	uint64_t last_ns;       /* last expiry, or when it started relying */
	bool reported;
};

struct vcpu_oracles {
	struct storm_win storm[VECTORS];
	struct isr_track isr;
	struct timer_track timer;
};

struct oracles {
	struct hvsim_oracle_params p;
	unsigned n;
	struct vcpu_oracles v[];
};

struct oracles *oracles_create(const struct hvsim_oracle_params *p, unsigned n_vcpus)
{
	struct oracles *o = calloc(1, sizeof(*o) + (size_t)n_vcpus * sizeof(o->v[0]));

	if (!o)
		return NULL;
	o->p = *p;
	o->n = n_vcpus;
	return o;
}

void oracles_destroy(struct oracles *o)
{
	free(o);
}

static size_t oracles_bytes(unsigned n_vcpus)
{
	return sizeof(struct oracles) + (size_t)n_vcpus * sizeof(struct vcpu_oracles);
}

struct oracles *oracles_clone(const struct oracles *o)
{
	struct oracles *c = malloc(oracles_bytes(o->n));

	if (c)
		memcpy(c, o, oracles_bytes(o->n));
	return c;
}

void oracles_copy(struct oracles *dst, const struct oracles *src)
{
	if (dst->n == src->n)
		memcpy(dst, src, oracles_bytes(src->n));
}

static bool field_u(const struct trace_ev *e, const char *key, uint64_t *u)
{
	const struct trace_field *f = trace_ev_get(e, key);

	if (!f || (f->type != TRACE_NUM && f->type != TRACE_HEX))
		return false;
	*u = f->v.u;
	return true;
}

static bool field_b(const struct trace_ev *e, const char *key)
{
	const struct trace_field *f = trace_ev_get(e, key);

	return f && f->type == TRACE_BOOL && f->v.b;
}

static bool field_is(const struct trace_ev *e, const char *key, const char *s)
{
	const struct trace_field *f = trace_ev_get(e, key);

	return f && f->type == TRACE_STR && sim_str_eq(f->v.s, s);
}

static void storm_observe(struct oracles *o, struct vcpu_oracles *v, const struct trace_ev *e,
                          uint64_t insns, oracle_report_fn report, void *ctx)
{
	struct storm_win *w;
	uint64_t vec, per_irq;
	char detail[96];

	if (!field_u(e, "vector", &vec) || vec >= VECTORS)
		return;
	w = &v->storm[vec];
	if (w->count == 0 || e->t - w->start_ns >= o->p.storm_window_ns) {
		w->start_ns = e->t;
		w->count = 0;
		w->start_insns = insns;
	}
	if (++w->count <= o->p.storm_count || w->reported)
		return;
	per_irq = (insns - w->start_insns) / w->count;
	if (per_irq >= o->p.storm_insns_per_irq)
		return;
	w->reported = true;
	snprintf(detail, sizeof(detail),
	         "vector 0x%llx delivered %llu times in %llu ns, %llu insns each",
	         (unsigned long long)vec, (unsigned long long)w->count,
	         (unsigned long long)(e->t - w->start_ns), (unsigned long long)per_irq);
	report(ctx, e->vcpu, e->t, "interrupt_storm", detail);
}

static void isr_judge(struct oracles *o, struct isr_track *s, int32_t vcpu, uint64_t now,
                      oracle_report_fn report, void *ctx)
{
	char detail[96];

	if (s->reported || !s->top || now - s->since_ns < o->p.isr_stall_ns ||
	    s->eois < o->p.isr_stall_eois)
		return;
	s->reported = true;
	snprintf(detail, sizeof(detail), "vector 0x%x in ISR for %llu ns across %llu EOIs", s->top,
	         (unsigned long long)(now - s->since_ns), (unsigned long long)s->eois);
	report(ctx, vcpu, now, "isr_stall", detail);
}

static void isr_set_top(struct isr_track *s, uint64_t top, uint64_t now)
{
	if (top == s->top)
		return;
	s->top = (uint8_t)top;
	s->since_ns = now;
	s->eois = 0;
}

static void isr_observe(struct oracles *o, struct vcpu_oracles *v, const struct trace_ev *e,
                        enum oracle_ev kind, oracle_report_fn report, void *ctx)
{
	struct isr_track *s = &v->isr;
	uint64_t vec;

	if (kind == ORACLE_EV_INJECT && field_u(e, "vector", &vec) && vec > s->top &&
	    vec < VECTORS) {
		isr_set_top(s, vec, e->t);
	} else if (kind == ORACLE_EV_EOI && field_u(e, "isr", &vec) && vec < VECTORS) {
		isr_set_top(s, vec, e->t);
		s->eois++;
	}
	isr_judge(o, s, e->vcpu, e->t, report, ctx);
}

static void timer_judge(struct oracles *o, struct timer_track *s, int32_t vcpu, uint64_t now,
                        oracle_report_fn report, void *ctx)
{
	char detail[96];

	if (s->reported || !s->periodic_unmasked || now - s->last_ns < o->p.timer_stall_ns)
		return;
	s->reported = true;
	snprintf(detail, sizeof(detail), "periodic LAPIC timer silent for %llu ns",
	         (unsigned long long)(now - s->last_ns));
	report(ctx, vcpu, now, "timer_stall", detail);
}

static void timer_observe(struct oracles *o, struct vcpu_oracles *v, const struct trace_ev *e,
                          enum oracle_ev kind, oracle_report_fn report, void *ctx)
{
	struct timer_track *s = &v->timer;

	if (kind == ORACLE_EV_LAPIC_TIMER) {
		bool relies = field_is(e, "mode", "periodic") && !field_b(e, "masked");

		if (relies && !s->periodic_unmasked)
			s->last_ns = e->t;
		s->periodic_unmasked = relies;
	} else if (kind == ORACLE_EV_TIMER) {
		s->last_ns = e->t;
	}
	timer_judge(o, s, e->vcpu, e->t, report, ctx);
}

enum oracle_ev oracle_ev_kind(const char *ev)
{
	switch (ev[0]) {
	case 'i': return sim_str_eq(ev, "inject") ? ORACLE_EV_INJECT : ORACLE_EV_OTHER;
	case 'e': return sim_str_eq(ev, "eoi") ? ORACLE_EV_EOI : ORACLE_EV_OTHER;
	case 'l': return sim_str_eq(ev, "lapic_timer") ? ORACLE_EV_LAPIC_TIMER : ORACLE_EV_OTHER;
	case 't': return sim_str_eq(ev, "timer") ? ORACLE_EV_TIMER : ORACLE_EV_OTHER;
	default: return ORACLE_EV_OTHER;
	}
}

void oracles_observe_kind(struct oracles *o, const struct trace_ev *e, enum oracle_ev kind,
                          uint64_t insns, oracle_report_fn report, void *ctx)
{
	struct vcpu_oracles *v;

	if (e->vcpu < 0 || (unsigned)e->vcpu >= o->n)
		return;
	v = &o->v[e->vcpu];
	if (kind == ORACLE_EV_INJECT)
		storm_observe(o, v, e, insns, report, ctx);
	isr_observe(o, v, e, kind, report, ctx);
	timer_observe(o, v, e, kind, report, ctx);
}

void oracles_observe(struct oracles *o, const struct trace_ev *e, uint64_t insns,
                     oracle_report_fn report, void *ctx)
{
	oracles_observe_kind(o, e, oracle_ev_kind(e->ev), insns, report, ctx);
}

void oracles_finish(struct oracles *o, uint64_t now, oracle_report_fn report, void *ctx)
{
	for (unsigned i = 0; i < o->n; i++) {
		isr_judge(o, &o->v[i].isr, (int32_t)i, now, report, ctx);
		timer_judge(o, &o->v[i].timer, (int32_t)i, now, report, ctx);
	}
}
