/* The shared pieces of the replay algorithms (replay.h): event shape checks, refusals that name
 * the event, and the waiting vCPU. */
#include "replay.h"

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

enum hvsim_status replay_refuse_event(hvsim_vm *vm, size_t i, const char *why, char *buf,
                                      size_t cap)
{
	const struct scenario_event *se = &hvsim_vm_scenario(vm)->events[i];
	char act[ACTION_SHOWN + 1];

	shown(se->kind == SEV_HOST ? se->action : "", act, sizeof(act));
	if (se->kind == SEV_HOST)
		snprintf(buf, cap, "$.events[%zu] (host \"%s\" at %llu ns): %s", i, act,
		         (unsigned long long)se->at_ns, why);
	else
		snprintf(buf, cap, "$.events[%zu] (%s at %llu ns): %s", i,
		         se->kind == SEV_IRQ_LINE ? "irq_line" : "msi",
		         (unsigned long long)se->at_ns, why);
	hvsim_vm_refuse(vm, buf);
	return HVSIM_E_UNSUPPORTED;
}

void replay_vcpu_wait(hvsim_vcpu *v, size_t done, size_t n_events)
{
	if (done >= n_events)
		hvsim_vcpu_stop(v, "replay finished");
	else
		hvsim_vcpu_block(v);
}
