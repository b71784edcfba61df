/* "tdx-replay": executes a scenario's host events as the calls they name (the module's
 * configuration, then SEAMCALLs from an LP, TDCALLs from the TD vCPU an LP runs, asynchronous TD
 * exits), in order, on the private TDX module of tdx_replay_int.h, so that `hvsim run` of an
 * exported fuzz_tdx_seamcall finding computes exactly what the harness computed (same model,
 * executor and invariants: one copy, in hv/tdx_replay*.c). Every call is a "tdx_call" trace line;
 * the named TDX invariants run after each one and the first broken one is the algorithm's
 * invariant (oracles.invariants). No guest runs: the vCPU waits for the events and stops after the
 * last. The CPU profile is irrelevant to the TDX model: any machine with one vCPU is accepted. */
#include "tdx_replay_int.h"
#include "replay.h"

#include <hvsim/hv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every event must be a host event for vCPU 0 that the parser takes, in order, and every
 * configuration one the model takes (each is applied to the machine here, as the run will). */
static enum hvsim_status check_events(struct tdx_replay *r)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(r->run.vm);
	struct tdx_replay_parser p = {0};
	struct tdx_replay_action a;
	struct hvsim_error err = {0};
	const char *bad;
	char shape[64];

	for (size_t i = 0; i < sc->n_events; i++) {
		const struct scenario_event *se = &sc->events[i];

		if ((bad = replay_event_shape("tdx-replay", se, shape, sizeof(shape))) != NULL)
			return replay_refuse_event(&r->run, i, bad);
		if ((bad = tdx_replay_parse(&p, se->action, se->arg, &a)) != NULL)
			return replay_refuse_event(&r->run, i, bad);
		if (a.kind == TDX_REPLAY_ACT_RESET &&
		    tdx_replay_reset(&r->mc, &a.cfg, &err) != HVSIM_OK)
			return replay_refuse_event(&r->run, i, err.msg);
	}
	if (sc->n_events == 0) {
		hvsim_vm_refuse(r->run.vm,
		                "tdx-replay needs events: the configuration, tdx_module, then "
		                "the calls (docs/fuzzing.md \"fuzz_tdx_seamcall\")");
		return HVSIM_E_UNSUPPORTED;
	}
	if ((bad = tdx_replay_parse_end(&p)) != NULL)
		return replay_refuse_event(&r->run, sc->n_events - 1, bad);
	return HVSIM_OK;
}

/* A refusal's text lives in the algorithm's state: the engine formats its error from it before
 * destroying the VM, which frees the state. */
static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct tdx_replay *r;

	if (hvsim_vm_vcpu_count(vm) != 1) {
		hvsim_vm_refuse(vm, "tdx-replay drives the TDX module from one host vCPU: set "
		                    "machine.vcpus to 1 (the module's LPs come from tdx_lps)");
		return HVSIM_E_UNSUPPORTED;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return HVSIM_E_NOMEM;
	*priv = r;
	replay_run_init(&r->run, vm);
	if (tdx_replay_machine_create(&r->mc) != HVSIM_OK)
		return HVSIM_E_NOMEM;
	return check_events(r);
}

static void vm_destroy(void *priv)
{
	struct tdx_replay *r = priv;

	tdx_replay_machine_destroy(&r->mc);
	free(r);
}

/* No guest: wait for the host events, stop once every one ran. */
static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct tdx_replay *r = priv;

	replay_vcpu_wait(v, &r->run);
	return HVSIM_OK;
}

static void run_call(struct tdx_replay *r, const struct tdx_replay_action *a)
{
	struct tdx_replay_step step;
	struct trace_ev e;

	if (a->call == TDX_REPLAY_SEAMCALL)
		tdx_replay_seamcall(&r->mc, a->lp, &a->regs, &step);
	else if (a->call == TDX_REPLAY_TDCALL)
		tdx_replay_tdcall(&r->mc, a->lp, &a->regs, &step);
	else
		tdx_replay_td_exit(&r->mc, a->lp, &step);
	tdx_replay_trace_call(&e, hvsim_vm_now(r->run.vm), 0, &step);
	hvsim_emit(r->run.vm, &e);
	if (step.bad)
		replay_note_bad(&r->run, step.bad, "%s", step.why);
}

/* vm_create checked every event, so the parser and the model take each one;
 * HVSIM_E_UNSUPPORTED otherwise. */
static enum hvsim_status host_action(void *priv, hvsim_vcpu *v, const char *action, uint64_t arg)
{
	struct tdx_replay *r = priv;
	struct tdx_replay_action a;

	if (tdx_replay_parse(&r->parser, action, arg, &a) != NULL)
		return HVSIM_E_UNSUPPORTED;
	if (a.kind == TDX_REPLAY_ACT_RESET && tdx_replay_reset(&r->mc, &a.cfg, NULL) != HVSIM_OK)
		return HVSIM_E_UNSUPPORTED;
	if (a.kind == TDX_REPLAY_ACT_CALL)
		run_call(r, &a);
	replay_event_done(&r->run, v);
	return HVSIM_OK;
}

/* The first named TDX invariant a call broke (tdx_replay_step). Pure. */
static const char *check_invariants(void *priv, char *why, size_t cap)
{
	const struct tdx_replay *r = priv;

	return replay_check_invariants(&r->run, why, cap);
}

const struct hvsim_hv_ops hv_tdx_replay_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "tdx-replay",
    .description = "executes host events as SEAMCALLs, TDCALLs and TD exits on a TDX module "
                   "model (replays fuzz_tdx_seamcall's findings)",
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_run = vcpu_run,
    .host_action = host_action,
    .check_invariants = check_invariants,
};
