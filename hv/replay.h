/* What the replay algorithms (vmx-replay, pmu-replay, tdx-replay) share: each executes a
 * scenario's host events, in order on vCPU 0, as operations on a private model, checks every
 * event before the run, keeps the vCPU waiting until the last event ran, and reports the first
 * named invariant an operation broke. struct replay_run is that common part of their state. */
#ifndef HVSIM_HV_REPLAY_H
#define HVSIM_HV_REPLAY_H

#include <hvsim/hv.h>
#include <hvsim/scenario.h>

#define REPLAY_WHY_MAX     576 /* bytes of a broken invariant's description */
#define REPLAY_REFUSAL_MAX 320 /* bytes of a refusal */

struct replay_run {
	hvsim_vm *vm;
	size_t n_events, done; /* host events in the scenario; taken so far */
	const char *bad;       /* the first broken invariant's name, NULL while all hold */
	char why[REPLAY_WHY_MAX];
	char refusal[REPLAY_REFUSAL_MAX]; /* read by the engine right after vm_create refuses */
};

/* Starts rr for vm's scenario. Can't fail. */
void replay_run_init(struct replay_run *rr, hvsim_vm *vm);
/* Why algorithm `name` cannot take event se at all (not a host event, not for vCPU 0) as text
 * for replay_refuse_event, NULL when it can; the parser judges the action. Pure. */
const char *replay_event_shape(const char *name, const struct scenario_event *se, char *buf,
                               size_t cap);
/* Refuses the VM naming event i: "$.events[i] (host "ACTION" at T ns): why" (the action cut to
 * printable ASCII), kept in rr->refusal (the engine formats its error from it before destroying
 * the VM). Returns HVSIM_E_UNSUPPORTED, what vm_create returns. */
enum hvsim_status replay_refuse_event(struct replay_run *rr, size_t i, const char *why);
/* vcpu_run of a replay: the vCPU stops once every event ran, else waits for the next. Can't
 * fail. */
void replay_vcpu_wait(hvsim_vcpu *v, const struct replay_run *rr);
/* Counts a host event as taken, at the end of host_action; after the last one the waiting vCPU
 * (v, may be NULL) is kicked so that it stops. Can't fail. */
void replay_event_done(struct replay_run *rr, hvsim_vcpu *v);
/* Records the invariant `name` broken, with printf-style detail, unless one already was: the
 * first broken one is the run's. Can't fail. */
void replay_note_bad(struct replay_run *rr, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* check_invariants of a replay: the first broken invariant's name with its detail in why, NULL
 * while all hold. Pure. */
const char *replay_check_invariants(const struct replay_run *rr, char *why, size_t cap);

#endif
