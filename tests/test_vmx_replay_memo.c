/* Verifies the shortcuts the vmx-replay executor takes for VM entries (hv/vmx_replay_int.h
 * vmx_replay_checked) and the models' pieces they use. The checks' second compilation
 * (vmx_plain_check_entry) gives the checks' result, compared field by field and name by name, on
 * the fixture and on the fixture with each VMCS field set to 0 and to all ones; vmx_vmentry_known
 * with the result VMLAUNCH gave leaves the same result and VMCS; and the executor gives every
 * instruction of entry-heavy sequences (repeated VMLAUNCH/VMRESUME, failures in between, memory
 * and mode changes) the result, VMCS and findings of a machine whose records are cleared before
 * each instruction, so that it always runs the instrumented checks and reruns them; a machine
 * running the second compilation of every instruction (plain, fuzz_vmcs_entry's determinism
 * rerun) gives every instruction of those sequences and one of each kind, succeeding and failing,
 * the result, VMCS and findings of a machine that does not. */
#include <criterion/criterion.h>

#include "../hv/vmx_replay_int.h"
#include "../models/vmx/vmx_int.h"

#include <string.h>

/* A machine with the known-good fixture of the first profile. */
static void make_machine(struct vmx_replay_machine *m)
{
	struct vmx_caps caps;
	struct hvsim_error err;

	cr_assert_eq(vmx_profile_load(vmx_profile_names()[0], &caps, &err), HVSIM_OK, "%s",
	             err.msg);
	cr_assert_eq(vmx_replay_machine_create(m, &caps), HVSIM_OK);
	cr_assert_eq(vmx_replay_fixture(m, &err), HVSIM_OK, "%s", err.msg);
}

static const char *str(const char *s)
{
	return s ? s : "-";
}

static struct vmcs *current(struct vmx_replay_machine *m)
{
	return vmcs_store_find(m->store, VMX_REPLAY_PA_VMCS);
}

Test(vmx_replay_memo, plain_checks_give_the_checks_result_for_every_field_extreme)
{
	struct vmx_replay_machine m;
	struct vmx_result a, b;
	static const uint64_t values[] = {0, UINT64_MAX};

	make_machine(&m);
	for (size_t i = 0; i < VMCS_IDX_COUNT; i++) {
		for (size_t k = 0; k < 2; k++) {
			uint64_t keep = current(&m)->f[i];

			current(&m)->f[i] = values[k];
			vmx_check_entry(m.cpu, &a);
			vmx_plain_check_entry(m.cpu, &b);
			current(&m)->f[i] = keep;
			cr_assert(vmx_replay_same_result(&a, &b),
			          "%s = %#llx: checks %s from %s [%s], plain %s from %s [%s]",
			          vmcs_field_at(i)->name, (unsigned long long)values[k],
			          vmx_outcome_name(a.outcome), str(a.check), str(a.cond),
			          vmx_outcome_name(b.outcome), str(b.check), str(b.cond));
			cr_assert(a.group == b.group && strcmp(str(a.cite), str(b.cite)) == 0,
			          "%s = %#llx: group %u/%u, cite %s/%s", vmcs_field_at(i)->name,
			          (unsigned long long)values[k], a.group, b.group, str(a.cite),
			          str(b.cite));
		}
	}
	vmx_replay_machine_destroy(&m);
}

Test(vmx_replay_memo, known_entry_changes_what_the_entry_changes)
{
	struct vmx_replay_machine a, b;
	struct vmx_result ra, rb, checks;

	make_machine(&a);
	make_machine(&b);
	/* a guest-state failure (SDM 27.3.1.4: RFLAGS bit 1 must be 1): exit fields written */
	vmx_vmcs_set(a.cpu, VMCS_GUEST_RFLAGS, 0);
	vmx_vmcs_set(b.cpu, VMCS_GUEST_RFLAGS, 0);
	vmx_check_entry(a.cpu, &checks);
	vmx_vmlaunch(a.cpu, &ra);
	vmx_vmentry_known(b.cpu, true, &checks, &rb);
	cr_assert(vmx_replay_same_result(&ra, &rb), "VMLAUNCH %s from %s, known %s from %s",
	          vmx_outcome_name(ra.outcome), str(ra.check), vmx_outcome_name(rb.outcome),
	          str(rb.check));
	cr_assert_eq(ra.outcome, VMX_ENTRY_FAIL_EXIT, "wanted a VM-entry failure, got %s",
	             vmx_outcome_name(ra.outcome));
	cr_assert(memcmp(current(&a)->f, current(&b)->f, sizeof(current(&a)->f)) == 0,
	          "the VMCS differs after the known entry");
	/* and an entry that passes: the VMCS becomes launched */
	vmx_vmcs_set(a.cpu, VMCS_GUEST_RFLAGS, 2);
	vmx_vmcs_set(b.cpu, VMCS_GUEST_RFLAGS, 2);
	vmx_check_entry(a.cpu, &checks);
	vmx_vmlaunch(a.cpu, &ra);
	vmx_vmentry_known(b.cpu, true, &checks, &rb);
	cr_assert(ra.outcome == VMX_ENTERED && rb.outcome == VMX_ENTERED, "outcomes %s and %s",
	          vmx_outcome_name(ra.outcome), vmx_outcome_name(rb.outcome));
	cr_assert(current(&a)->launched && current(&b)->launched, "launch states %d and %d",
	          current(&a)->launched, current(&b)->launched);
	vmx_replay_machine_destroy(&a);
	vmx_replay_machine_destroy(&b);
}

/* One step of a sequence: an instruction, a memory write (mem) or a mode change (mode >= 0). */
struct step {
	struct vmx_replay_insn_op op;
	bool mem;
	int mode;
	uint64_t pa, value;
};

#define INSN(i, f, v)                                                       \
	{                                                                   \
		.op = {.insn = (i), .field = (f), .value = (v)}, .mode = -1 \
	}
#define LAUNCH      INSN(VMX_REPLAY_VMLAUNCH, 0, 0)
#define RESUME      INSN(VMX_REPLAY_VMRESUME, 0, 0)
#define WRITE(f, v) INSN(VMX_REPLAY_VMWRITE, (f), (v))

static const struct step sequence[] = {
    LAUNCH,
    LAUNCH,
    RESUME,
    RESUME,
    RESUME,
    WRITE(VMCS_GUEST_RFLAGS, 0), /* guest-state failure from here */
    RESUME,
    RESUME,
    LAUNCH,
    RESUME,
    WRITE(0x7fff, 1), /* VMfailValid(12): the error field changes */
    RESUME,
    RESUME,
    WRITE(VMCS_GUEST_RFLAGS, 2),
    RESUME,
    RESUME,
    WRITE(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1), /* the MSR-load list's first entry */
    WRITE(VMCS_VM_ENTRY_MSR_LOAD_ADDR, VMX_REPLAY_PA_MSR_AREA),
    RESUME,
    RESUME,
    {.mem = true, .mode = -1, .pa = VMX_REPLAY_PA_MSR_AREA, .value = 0x8b}, /* BIOS_SIGN_ID */
    RESUME,
    RESUME,
    {.mem = true, .mode = -1, .pa = VMX_REPLAY_PA_MSR_AREA, .value = 0x10}, /* TSC */
    RESUME,
    RESUME,
    {.mode = VMX_REPLAY_MODE_MOV_SS},
    RESUME,
    RESUME,
    {.mode = VMX_REPLAY_MODE_MOV_SS},
    RESUME,
    RESUME,
    INSN(VMX_REPLAY_VMCLEAR, 0, VMX_REPLAY_PA_VMCS),
    RESUME,
    INSN(VMX_REPLAY_VMPTRLD, 0, VMX_REPLAY_PA_VMCS),
    RESUME,
    LAUNCH,
    LAUNCH,
    RESUME,
    WRITE(VMCS_HOST_CR4, 0), /* host-state failure */
    RESUME,
    RESUME,
    LAUNCH,
};

static void apply(struct vmx_replay_machine *m, const struct step *s,
                  const struct vmx_cpu_mode *fixture, struct vmx_replay_step *out)
{
	memset(out, 0, sizeof(*out));
	if (s->mem)
		vmx_replay_mem_write(m, s->pa, &s->value, sizeof(s->value));
	else if (s->mode >= 0)
		vmx_replay_mode(m, (unsigned)s->mode, 0, fixture);
	else
		vmx_replay_execute(m, &s->op, out);
}

Test(vmx_replay_memo, entries_give_what_fresh_checks_give)
{
	struct vmx_replay_machine a, b;
	struct vmx_replay_step sa, sb;
	struct vmx_cpu_mode fixture;
	unsigned known = 0;

	make_machine(&a);
	make_machine(&b);
	fixture = *vmx_cpu_mode(a.cpu);
	for (size_t i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++) {
		b.seen.valid = b.verified.valid = false;
		known += a.verified.valid;
		apply(&a, &sequence[i], &fixture, &sa);
		apply(&b, &sequence[i], &fixture, &sb);
		cr_assert(vmx_replay_same_result(&sa.res, &sb.res) && sa.res.value == sb.res.value,
		          "step %zu (%s): %s from %s, fresh %s from %s", i,
		          vmx_replay_insn_name(sequence[i].op.insn),
		          vmx_outcome_name(sa.res.outcome), str(sa.res.check),
		          vmx_outcome_name(sb.res.outcome), str(sb.res.check));
		cr_assert(!sa.bad && !sb.bad, "step %zu: findings %s (%s) and %s (%s)", i,
		          str(sa.bad), sa.why, str(sb.bad), sb.why);
		cr_assert(memcmp(current(&a)->f, current(&b)->f, sizeof(current(&a)->f)) == 0 &&
		              current(&a)->launched == current(&b)->launched,
		          "step %zu: the VMCS differs from the fresh machine's", i);
	}
	cr_assert_gt(known, 10, "only %u steps had a verified state: the sequence tests nothing",
	             known);
	vmx_replay_machine_destroy(&a);
	vmx_replay_machine_destroy(&b);
}

/* Every instruction, succeeding and failing (bad operands, no current VMCS, outside VMX). */
static const struct step each_insn[] = {
    INSN(VMX_REPLAY_VMREAD, VMCS_GUEST_RIP, 0),
    INSN(VMX_REPLAY_VMREAD, 0x7fff, 0),
    INSN(VMX_REPLAY_VMPTRST, 0, 0),
    INSN(VMX_REPLAY_INVEPT, 1, VMX_REPLAY_PA_EPT_PML4 | 0x1e),
    INSN(VMX_REPLAY_INVEPT, 1, 0),
    INSN(VMX_REPLAY_INVVPID, 0, 1),
    INSN(VMX_REPLAY_INVVPID, 9, 1),
    INSN(VMX_REPLAY_VMXON, 0, VMX_REPLAY_PA_VMXON),
    INSN(VMX_REPLAY_VMPTRLD, 0, VMX_REPLAY_PA_VMCS2),
    INSN(VMX_REPLAY_VMPTRLD, 0, VMX_REPLAY_PA_VMCS + 8),
    INSN(VMX_REPLAY_VMCLEAR, 0, VMX_REPLAY_PA_VMCS2),
    WRITE(VMCS_GUEST_RIP, 0x1000),
    INSN(VMX_REPLAY_VMCLEAR, 0, VMX_REPLAY_PA_VMXON),
    INSN(VMX_REPLAY_VMPTRLD, 0, VMX_REPLAY_PA_VMCS),
    WRITE(VMCS_GUEST_RIP | VMCS_ENC_HIGH, 0x1),
    WRITE(VMCS_VM_EXIT_REASON, 1),
    LAUNCH,
    RESUME,
    {.mode = VMX_REPLAY_MODE_CPL},
    INSN(VMX_REPLAY_VMREAD, VMCS_GUEST_RIP, 0),
    {.mode = VMX_REPLAY_MODE_FIXTURE},
    INSN(VMX_REPLAY_VMXOFF, 0, 0),
    INSN(VMX_REPLAY_VMPTRST, 0, 0),
    LAUNCH,
    INSN(VMX_REPLAY_VMXON, 0, VMX_REPLAY_PA_VMXON),
    INSN(VMX_REPLAY_VMPTRST, 0, 0),
};

static void plain_agrees(const struct step *steps, size_t n, const char *name)
{
	struct vmx_replay_machine a, b;
	struct vmx_replay_step sa, sb;
	struct vmx_cpu_mode fixture;

	make_machine(&a);
	make_machine(&b);
	b.plain = true;
	fixture = *vmx_cpu_mode(a.cpu);
	for (size_t i = 0; i < n; i++) {
		const struct vmcs *va, *vb;

		apply(&a, &steps[i], &fixture, &sa);
		apply(&b, &steps[i], &fixture, &sb);
		va = vmx_current_const(a.cpu);
		vb = vmx_current_const(b.cpu);
		cr_assert(vmx_replay_same_result(&sa.res, &sb.res) && sa.res.value == sb.res.value,
		          "%s step %zu (%s): %s from %s, plain %s from %s", name, i,
		          vmx_replay_insn_name(steps[i].op.insn), vmx_outcome_name(sa.res.outcome),
		          str(sa.res.check), vmx_outcome_name(sb.res.outcome), str(sb.res.check));
		cr_assert(!sa.bad && !sb.bad, "%s step %zu: findings %s (%s) and %s (%s)", name, i,
		          str(sa.bad), sa.why, str(sb.bad), sb.why);
		cr_assert(a.cpu->in_vmx == b.cpu->in_vmx &&
		              a.cpu->current_vmcs == b.cpu->current_vmcs && !va == !vb &&
		              (!va || (memcmp(va->f, vb->f, sizeof(va->f)) == 0 &&
		                       va->launched == vb->launched)),
		          "%s step %zu: the processor or VMCS differs from the instrumented run's",
		          name, i);
	}
	vmx_replay_machine_destroy(&a);
	vmx_replay_machine_destroy(&b);
}

Test(vmx_replay_memo, plain_machine_gives_every_instructions_result)
{
	plain_agrees(sequence, sizeof(sequence) / sizeof(sequence[0]), "entries");
	plain_agrees(each_insn, sizeof(each_insn) / sizeof(each_insn[0]), "each instruction");
}
