/* What the replay algorithms (vmx-replay, pmu-replay, tdx-replay) share: each executes a
 * scenario's host events, in order on vCPU 0, as operations on a private model, checks every
 * event before the run, and keeps the vCPU waiting until the last event ran. */
#ifndef HVSIM_HV_REPLAY_H
#define HVSIM_HV_REPLAY_H

#include <hvsim/hv.h>
#include <hvsim/scenario.h>

/* Why algorithm `name` cannot take event se at all (not a host event, not for vCPU 0) as text
 * for replay_refuse_event, NULL when it can; the parser judges the action. Pure. */
const char *replay_event_shape(const char *name, const struct scenario_event *se, char *buf,
                               size_t cap);
/* Refuses the VM naming event i: "$.events[i] (host "ACTION" at T ns): why" (the action cut to
 * printable ASCII). The text is written to buf, which must outlive vm_create (the algorithm's
 * state: the engine formats its error from it before destroying the VM). Returns
 * HVSIM_E_UNSUPPORTED, what vm_create returns. */
enum hvsim_status replay_refuse_event(hvsim_vm *vm, size_t i, const char *why, char *buf,
                                      size_t cap);
/* vcpu_run of a replay: the vCPU stops once done reaches n_events, else waits for the next host
 * event. Can't fail. */
void replay_vcpu_wait(hvsim_vcpu *v, size_t done, size_t n_events);

#endif
