/* "pmu-replay": executes a scenario's host events as the PMU operations they name (a
 * configuration load, RDMSR, WRMSR, RDPMC at a CPL with CR4.PCE, event counts, snapshot, restore,
 * RESET), in order, on the private PMU machine of pmu_replay_int.h, so that `hvsim run` of an
 * exported fuzz_pmu_msr input computes exactly what the harness computed (same model, executor
 * and invariants: one copy, in hv/pmu_replay*.c). Every operation is a "pmu_op" trace line; the
 * named PMU invariants run after each one and the first broken one is the algorithm's invariant
 * (oracles.invariants). Leaves out: any guest (the vCPU waits for the events and stops after the
 * last) and PMI delivery (a count's line reports the PMI request). Spec: SDM Vol. 3B 21.2. */
#include "pmu_replay_int.h"
#include "replay.h"

#include <hvsim/hv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every event must be a host event for vCPU 0 that the parser takes, in order. */
static enum hvsim_status check_events(struct pmu_replay *r)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(r->run.vm);
	struct pmu_replay_parser p = {0};
	struct pmu_replay_action a;
	const char *bad;
	char shape[64];

	for (size_t i = 0; i < sc->n_events; i++) {
		const struct scenario_event *se = &sc->events[i];

		if ((bad = replay_event_shape("pmu-replay", se, shape, sizeof(shape))) != NULL)
			return replay_refuse_event(&r->run, i, bad);
		if ((bad = pmu_replay_parse(&p, se->action, se->arg, &a)) != NULL)
			return replay_refuse_event(&r->run, i, bad);
	}
	if ((bad = pmu_replay_parse_end(&p)) != NULL)
		return replay_refuse_event(&r->run, sc->n_events - 1, bad);
	return HVSIM_OK;
}

/* A refusal's text lives in the algorithm's state: the engine formats its error from it before
 * destroying the VM, which frees the state. */
static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct pmu_replay *r;
	enum hvsim_status st;

	if (hvsim_vm_vcpu_count(vm) != 1) {
		hvsim_vm_refuse(vm, "pmu-replay drives one PMU: set machine.vcpus to 1");
		return HVSIM_E_UNSUPPORTED;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return HVSIM_E_NOMEM;
	*priv = r;
	replay_run_init(&r->run, vm);
	st = check_events(r);
	return st != HVSIM_OK ? st : pmu_replay_machine_create(&r->m);
}

static void vm_destroy(void *priv)
{
	struct pmu_replay *r = priv;

	pmu_replay_machine_destroy(&r->m);
	free(r);
}

/* No guest: wait for the host events, stop once every one ran. */
static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct pmu_replay *r = priv;

	replay_vcpu_wait(v, &r->run);
	return HVSIM_OK;
}

static void run_op(struct pmu_replay *r, const struct pmu_replay_op *op)
{
	struct pmu_replay_step st;
	struct trace_ev e;

	pmu_replay_execute(&r->m, op, &st);
	pmu_replay_trace_op(&e, hvsim_vm_now(r->run.vm), 0, op, &st);
	hvsim_emit(r->run.vm, &e);
	if (st.bad) /* the detail the harness's finding carries */
		replay_note_bad(&r->run, st.bad, "op %u (%s): %s", r->ops,
		                pmu_replay_op_name(op->kind), st.why);
	r->ops++;
}

/* vm_create checked every event, so the parser takes each one; HVSIM_E_UNSUPPORTED otherwise,
 * HVSIM_E_NOMEM when a configuration cannot be loaded for lack of memory. */
static enum hvsim_status host_action(void *priv, hvsim_vcpu *v, const char *action, uint64_t arg)
{
	struct pmu_replay *r = priv;
	struct pmu_replay_action a;
	struct trace_ev e;
	enum hvsim_status st = HVSIM_OK;

	if (pmu_replay_parse(&r->parser, action, arg, &a) != NULL)
		return HVSIM_E_UNSUPPORTED;
	if (a.kind == PMU_REPLAY_ACT_LOAD) {
		st = pmu_replay_load_config(&r->m, &a.cfg);
		r->ops = 0;
		pmu_replay_trace_load(&e, hvsim_vm_now(r->run.vm), 0, &a.cfg);
		hvsim_emit(r->run.vm, &e);
	} else if (a.kind == PMU_REPLAY_ACT_OP) {
		run_op(r, &a.op);
	}
	replay_event_done(&r->run, v);
	return st;
}

/* The first named PMU invariant an operation broke (pmu_replay_step). Pure. */
static const char *check_invariants(void *priv, char *why, size_t cap)
{
	const struct pmu_replay *r = priv;

	return replay_check_invariants(&r->run, why, cap);
}

const struct hvsim_hv_ops hv_pmu_replay_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "pmu-replay",
    .description = "executes host events as PMU operations on a private PMU model "
                   "(replays fuzz_pmu_msr's findings)",
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_run = vcpu_run,
    .host_action = host_action,
    .check_invariants = check_invariants,
};
