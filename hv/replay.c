/* The shared pieces of the replay algorithms (replay.h): event shape checks, refusals that name
 * the event, the waiting vCPU and the first broken invariant. */
#include "replay.h"

#include <stdarg.h>
#include <stdio.h>

#define ACTION_SHOWN 40 /* characters of an action quoted in a refusal */

const char *replay_event_shape(const char *name, const struct scenario_event *se, char *buf,
                               size_t cap)
{
	if (se->kind != SEV_HOST)
		snprintf(buf, cap, "%s takes host events only", name);
	else if (se->vcpu != 0)
		snprintf(buf, cap, "%s executes on vCPU 0 only", name);
	else
		return NULL;
	return buf;
}

/* The action as printable ASCII (others as '?'), cut to ACTION_SHOWN characters: refusals are
 * one line whatever the scenario holds. */
static void shown(const char *action, char *buf, size_t cap)
{
	size_t n = 0;

	for (; action[n] && n < ACTION_SHOWN && n + 1 < cap; n++)
		buf[n] = action[n] >= 0x20 && action[n] < 0x7f ? action[n] : '?';
	buf[n] = '\0';
}

void replay_run_init(struct replay_run *rr, hvsim_vm *vm)
{
	rr->vm = vm;
	rr->n_events = hvsim_vm_scenario(vm)->n_events;
	rr->done = 0;
	rr->bad = NULL;
}

enum hvsim_status replay_refuse_event(struct replay_run *rr, size_t i, const char *why)
{
	const struct scenario_event *se = &hvsim_vm_scenario(rr->vm)->events[i];
	char *buf = rr->refusal;
	size_t cap = sizeof(rr->refusal);
	char act[ACTION_SHOWN + 1];

	shown(se->kind == SEV_HOST ? se->action : "", act, sizeof(act));
	if (se->kind == SEV_HOST)
		snprintf(buf, cap, "$.events[%zu] (host \"%s\" at %llu ns): %s", i, act,
		         (unsigned long long)se->at_ns, why);
	else
		snprintf(buf, cap, "$.events[%zu] (%s at %llu ns): %s", i,
		         se->kind == SEV_IRQ_LINE ? "irq_line" : "msi",
		         (unsigned long long)se->at_ns, why);
	hvsim_vm_refuse(rr->vm, buf);
	return HVSIM_E_UNSUPPORTED;
}

void replay_vcpu_wait(hvsim_vcpu *v, const struct replay_run *rr)
{
	if (rr->done >= rr->n_events)
		hvsim_vcpu_stop(v, "replay finished");
	else
		hvsim_vcpu_block(v);
}

void replay_event_done(struct replay_run *rr, hvsim_vcpu *v)
{
	if (++rr->done >= rr->n_events && v)
		hvsim_vcpu_kick(v);
}

void replay_note_bad(struct replay_run *rr, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (rr->bad)
		return;
	rr->bad = name;
	va_start(ap, fmt);
	vsnprintf(rr->why, sizeof(rr->why), fmt, ap);
	va_end(ap);
}

const char *replay_check_invariants(const struct replay_run *rr, char *why, size_t cap)
{
	if (rr->bad)
		snprintf(why, cap, "%s", rr->why);
	return rr->bad;
}
