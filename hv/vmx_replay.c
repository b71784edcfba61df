/* "vmx-replay": executes a scenario's host events as the hypervisor-side VMX instructions they
 * name (VMWRITE, VMREAD, VMLAUNCH, ..., mode changes and memory writes), in order, on the private
 * VMX machine of vmx_replay_int.h with the known-good fixture of fuzz_vmcs_entry, so that
 * `hvsim run` of an exported fuzz_vmcs_entry finding computes exactly what the harness computed
 * (same machine, fixture, memory, executor and invariants: one copy, in hv/vmx_replay*.c). Every
 * instruction's outcome is a "vmx_insn" trace line; the named VMX invariants run after each one
 * and the first broken one is the algorithm's invariant (oracles.invariants). No guest runs: the
 * vCPU waits for the events and stops after the last. Why a private machine and not the engine's
 * vCPU processor: see vmx_replay_int.h. */
#include "vmx_replay_int.h"
#include "replay.h"

#include <hvsim/hv_vmx.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every event must be a host event for vCPU 0 that the parser takes, in order. */
static enum hvsim_status check_events(struct vmx_replay *r)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(r->run.vm);
	struct vmx_replay_parser p = {0};
	struct vmx_replay_action a;
	const char *bad;
	char shape[64];

	for (size_t i = 0; i < sc->n_events; i++) {
		const struct scenario_event *se = &sc->events[i];

		if ((bad = replay_event_shape("vmx-replay", se, shape, sizeof(shape))) != NULL)
			return replay_refuse_event(&r->run, i, bad);
		if ((bad = vmx_replay_parse(&p, se->action, se->arg, &a)) != NULL)
			return replay_refuse_event(&r->run, i, bad);
	}
	if ((bad = vmx_replay_parse_end(&p)) != NULL)
		return replay_refuse_event(&r->run, sc->n_events - 1, bad);
	return HVSIM_OK;
}

static enum hvsim_status make_machines(struct vmx_replay *r)
{
	const struct vmx_caps *caps = hvsim_vmx_caps(r->run.vm);
	struct hvsim_error err = {0};

	if (vmx_replay_machine_create(&r->pristine, caps) != HVSIM_OK ||
	    vmx_replay_machine_create(&r->live, caps) != HVSIM_OK)
		return HVSIM_E_NOMEM;
	/* Every embedded profile takes the fixture (tests/test_fuzz_vmx.c); a failure here is an
	 * inconsistent profile, reported as vm_create failing. */
	return vmx_replay_fixture(&r->pristine, &err);
}

/* A refusal's text lives in the algorithm's state: the engine formats its error from it before
 * destroying the VM, which frees the state. */
static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct vmx_replay *r;
	enum hvsim_status st;

	if (!hvsim_vmx_supported(vm)) {
		hvsim_vm_refuse(vm, "vmx-replay needs VMX: set machine.cpu to a VMX CPU profile "
		                    "(intel-icelake-server, intel-sapphirerapids, kvm-nested)");
		return HVSIM_E_UNSUPPORTED;
	}
	if (hvsim_vm_vcpu_count(vm) != 1) {
		hvsim_vm_refuse(vm,
		                "vmx-replay drives one logical processor: set machine.vcpus to 1");
		return HVSIM_E_UNSUPPORTED;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return HVSIM_E_NOMEM;
	*priv = r;
	replay_run_init(&r->run, vm);
	st = check_events(r);
	return st != HVSIM_OK ? st : make_machines(r);
}

static void vm_destroy(void *priv)
{
	struct vmx_replay *r = priv;

	vmx_replay_machine_destroy(&r->pristine);
	vmx_replay_machine_destroy(&r->live);
	free(r);
}

/* No guest: wait for the host events, stop once every one ran. */
static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct vmx_replay *r = priv;

	replay_vcpu_wait(v, &r->run);
	return HVSIM_OK;
}

static void run_insn(struct vmx_replay *r, const struct vmx_replay_insn_op *op)
{
	struct vmx_replay_step step;
	struct trace_ev e;

	vmx_replay_execute(&r->live, op, &step);
	vmx_replay_trace_insn(&e, hvsim_vm_now(r->run.vm), 0, op, &step.res);
	hvsim_emit(r->run.vm, &e);
	if (step.bad)
		replay_note_bad(&r->run, step.bad, "%s", step.why);
}

static void run(struct vmx_replay *r, const struct vmx_replay_action *a)
{
	uint32_t v32 = (uint32_t)a->arg;

	switch (a->kind) {
	case VMX_REPLAY_ACT_FIXTURE: vmx_replay_copy(&r->live, &r->pristine, false); break;
	case VMX_REPLAY_ACT_INSN: run_insn(r, &a->insn); break;
	case VMX_REPLAY_ACT_MODE:
		vmx_replay_mode(&r->live, a->mode, a->arg, vmx_cpu_mode(r->pristine.cpu));
		break;
	case VMX_REPLAY_ACT_MEM: /* dropped unless inside memory, as in the harness */
		if (a->len == 4)
			vmx_replay_mem_write(&r->live, a->pa, &v32, sizeof(v32));
		else
			vmx_replay_mem_write(&r->live, a->pa, &a->arg, sizeof(a->arg));
		break;
	case VMX_REPLAY_ACT_PDPTE:
		vmx_replay_mem_write(&r->live, vmx_replay_pdpte_pa(&r->live, (unsigned)a->pa),
		                     &a->arg, sizeof(a->arg));
		break;
	default: break; /* a part of an operation: nothing yet */
	}
}

/* vm_create checked every event, so the parser takes each one; HVSIM_E_UNSUPPORTED otherwise. */
static enum hvsim_status host_action(void *priv, hvsim_vcpu *v, const char *action, uint64_t arg)
{
	struct vmx_replay *r = priv;
	struct vmx_replay_action a;

	if (vmx_replay_parse(&r->parser, action, arg, &a) != NULL)
		return HVSIM_E_UNSUPPORTED;
	run(r, &a);
	replay_event_done(&r->run, v);
	return HVSIM_OK;
}

/* The first named VMX invariant an instruction broke (vmx_replay_step). Pure. */
static const char *check_invariants(void *priv, char *why, size_t cap)
{
	const struct vmx_replay *r = priv;

	return replay_check_invariants(&r->run, why, cap);
}

const struct hvsim_hv_ops hv_vmx_replay_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "vmx-replay",
    .description = "executes host events as VMX instructions on fuzz_vmcs_entry's fixture "
                   "(replays its findings)",
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_run = vcpu_run,
    .host_action = host_action,
    .check_invariants = check_invariants,
};
