/* Regression tests for bugs in the scripted-guest backend (sim/script.c) found while building the
 * fuzzing harnesses (docs/fuzzing.md "Findings"). Each runs a small scenario under a test algorithm
 * and checks what the script implies: every action retires exactly its own instructions. */
#include <criterion/criterion.h>

#include <hvsim/hv.h>
#include <hvsim/scenario.h>
#include <hvsim/vm.h>

#include <stdlib.h>
#include <string.h>

#define LATE_VECTOR 0x30

/* Test algorithm: completes every exit and stops the vCPU at HLT; at the first exit it injects
 * LATE_VECTOR whatever RFLAGS.IF says, so the interrupt waits in the engine until the guest sets IF
 * and is then delivered at the next slice boundary, in the middle of whatever the guest is doing.
 */
static enum hvsim_status late_vm_create(hvsim_vm *vm, void **priv)
{
	(void)vm;
	*priv = calloc(1, sizeof(bool));
	return *priv ? HVSIM_OK : HVSIM_E_NOMEM;
}

static void late_vm_destroy(void *priv)
{
	free(priv);
}

static enum hvsim_status late_vcpu_run(void *priv, hvsim_vcpu *v)
{
	bool *injected = priv;
	const struct hvsim_exit *x = hvsim_vcpu_exit(v);

	if (x) {
		hvsim_vcpu_complete(v, 0);
		if (x->op.kind == GOP_HLT) {
			hvsim_vcpu_stop(v, "hlt");
			return HVSIM_OK;
		}
		if (!*injected)
			*injected = hvsim_vcpu_inject(v, LATE_VECTOR) == HVSIM_OK;
	}
	hvsim_vcpu_enter(v);
	return HVSIM_OK;
}

static const struct hvsim_hv_ops late_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "late-inject",
    .vm_create = late_vm_create,
    .vm_destroy = late_vm_destroy,
    .vcpu_run = late_vcpu_run,
};

static uint64_t run_instructions(const char *text)
{
	struct hvsim_vm_opts opts = {.hv = &late_ops};
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	uint64_t n;
	hvsim_vm *vm;

	cr_assert_eq(hvsim_scenario_parse("t.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "scenario: %s", err.msg);
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	cr_assert_not_null(vm, "vm: %s", err.msg);
	while (hvsim_vm_step(vm, 64) == HVSIM_VM_RUNNING)
		;
	hvsim_vm_finish(vm);
	n = hvsim_vm_summary(vm)->instructions;
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(sc);
	return n;
}

/* An interrupt delivered while a compute action is half done ran its handler's compute with the
 * interrupted action's remaining count, then restarted the interrupted compute from its full count.
 * cli, rdtsc, sti, compute 1000 (cut by 100-instruction slices), hlt, and handler compute 10:
 * 1 + 1 + 1 + 1000 + 10 + 1 instructions. */
Test(script_bugs, interrupted_compute_resumes_and_handler_compute_is_its_own)
{
	const char *text =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"quantum_insns\":100,\"exit_ns\":0},"
	    "\"hypervisor\":{\"algorithm\":\"minimal\"},"
	    "\"guest\":{\"script\":{\"main\":[{\"op\":\"cli\"},{\"op\":\"rdtsc\"},{\"op\":\"sti\"},"
	    "{\"op\":\"compute\",\"insns\":1000},{\"op\":\"hlt\"}],"
	    "\"handlers\":{\"0x30\":[{\"op\":\"compute\",\"insns\":10}]}}},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"a\",\"golden\":\"g\"}]}";
	uint64_t got = run_instructions(text), want = 1 + 1 + 1 + 1000 + 10 + 1;

	cr_assert_eq(got, want, "instructions retired: wanted %llu, got %llu",
	             (unsigned long long)want, (unsigned long long)got);
}
