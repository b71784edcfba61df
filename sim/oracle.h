/* Oracles: observers that turn the stream of trace events into findings (docs/oracles.md). They see
 * every event vm_emit() writes, keep small per-vCPU state, and report each finding once per
 * subject. They read only the events and the per-vCPU instruction counts the engine hands them.
 *
 * Event contract (what algorithms emit for the oracles to work):
 *   inject     {vector}                         an interrupt delivered into the guest
 *   eoi        {vector?, isr}                   an EOI; isr = highest vector still in (v)ISR, 0 if
 * none lapic_timer {mode, masked, armed}           the guest's LAPIC timer configuration changed
 *   timer      {vector?}                        a LAPIC timer expiry was delivered to the guest */
#ifndef HVSIM_ORACLE_H
#define HVSIM_ORACLE_H

#include <hvsim/scenario.h>
#include <hvsim/trace.h>

struct oracles;

typedef void (*oracle_report_fn)(void *ctx, int32_t vcpu, uint64_t t, const char *kind,
                                 const char *detail);

/* NULL when out of memory. */
struct oracles *oracles_create(const struct hvsim_oracle_params *p, unsigned n_vcpus);
void oracles_destroy(struct oracles *o);
/* Snapshots: clone returns a copy of o (NULL when out of memory); copy makes dst's state that of
 * src, a copy for the same number of vCPUs (otherwise it changes nothing). copy can't fail. */
struct oracles *oracles_clone(const struct oracles *o);
void oracles_copy(struct oracles *dst, const struct oracles *src);
/* The events of the contract above, by kind. */
enum oracle_ev {
	ORACLE_EV_OTHER,
	ORACLE_EV_INJECT,
	ORACLE_EV_EOI,
	ORACLE_EV_LAPIC_TIMER,
	ORACLE_EV_TIMER
};

/* The kind of an event named ev: one string comparison at most (every emitted line is classified).
 * Can't fail. */
enum oracle_ev oracle_ev_kind(const char *ev);
/* insns: instructions the event's vCPU has retired so far (0 for machine events). */
void oracles_observe(struct oracles *o, const struct trace_ev *e, uint64_t insns,
                     oracle_report_fn report, void *ctx);
/* The same for an event already classified (kind == oracle_ev_kind(e->ev)). */
void oracles_observe_kind(struct oracles *o, const struct trace_ev *e, enum oracle_ev kind,
                          uint64_t insns, oracle_report_fn report, void *ctx);
/* End of run at virtual time now: conditions that were still building up are judged. */
void oracles_finish(struct oracles *o, uint64_t now, oracle_report_fn report, void *ctx);

#endif
