/* Executing VMX instructions and mode changes on the vmx-replay machine (vmx_replay_int.h), and
 * checking every named invariant that applies after each instruction, in the order both the
 * fuzz_vmcs_entry harness and the vmx-replay algorithm report them: the processor, the error
 * number, no effect of a failure, launch states; for VMLAUNCH/VMRESUME the check group, the
 * checks' purity and the entered state; the accessed field's width or round trip. The first
 * broken one is the finding. VM entries on a state the checks already ran on in this machine
 * since its last copy take the shortcuts of vmx_replay_machine's seen and verified records (the
 * checks' uninstrumented compilation, a result run and rerun in agreement); results and effects
 * are those of the checks. SDM Vol. 3C ch. 31 for the instructions. */
#include "vmx_replay_int.h"

#include "../models/vmx/vmx_int.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const insn_names[VMX_REPLAY_INSN_COUNT] = {
    "vmwrite", "vmread", "vmlaunch", "vmresume", "vmclear", "vmptrld",
    "vmxoff",  "vmxon",  "vmptrst",  "invept",   "invvpid",
};

static const char *const insn_mnemonics[VMX_REPLAY_INSN_COUNT] = {
    "VMWRITE", "VMREAD", "VMLAUNCH", "VMRESUME", "VMCLEAR", "VMPTRLD",
    "VMXOFF",  "VMXON",  "VMPTRST",  "INVEPT",   "INVVPID",
};

static const char *const mode_actions[VMX_REPLAY_MODE_COUNT] = {
    "vmx_mode_cpl",     "vmx_mode_vmxe",   "vmx_mode_pe",      "vmx_mode_vm86",
    "vmx_mode_compat",  "vmx_mode_mov_ss", "vmx_mode_smm",     "vmx_mode_x2apic",
    "vmx_mode_featctl", "vmx_mode_cr0_ne", "vmx_mode_fixture",
};

const char *vmx_replay_insn_name(unsigned insn)
{
	return insn < VMX_REPLAY_INSN_COUNT ? insn_names[insn] : "?";
}

const char *vmx_replay_insn_mnemonic(unsigned insn)
{
	return insn < VMX_REPLAY_INSN_COUNT ? insn_mnemonics[insn] : "?";
}

const char *vmx_replay_mode_action(unsigned change)
{
	return change < VMX_REPLAY_MODE_COUNT ? mode_actions[change] : NULL;
}

/* The fields a VM entry writes (SDM 27.8, 31.4), and the ranges between them. */
#define IDX_ERR  VMCS_IDX_VM_INSTRUCTION_ERROR
#define IDX_QUAL VMCS_IDX_EXIT_QUALIFICATION
_Static_assert(VMCS_IDX_VM_EXIT_REASON == IDX_ERR + 1 && IDX_ERR + 1 < IDX_QUAL,
               "same_inputs: the error and exit-reason fields are adjacent, before the "
               "qualification");

/* Fields a and b equal, but for the three an entry writes unless outputs. */
static bool same_fields(const uint64_t *a, const uint64_t *b, bool outputs)
{
	uint64_t d = vmx_replay_fields_diff(a, b, 0, IDX_ERR) |
	             vmx_replay_fields_diff(a, b, IDX_ERR + 2, IDX_QUAL) |
	             vmx_replay_fields_diff(a, b, IDX_QUAL + 1, VMCS_IDX_COUNT);

	if (outputs)
		d |= vmx_replay_fields_diff(a, b, IDX_ERR, IDX_ERR + 2) |
		     (a[IDX_QUAL] ^ b[IDX_QUAL]);
	return d == 0;
}

static bool same_mode(const struct vmx_cpu_mode *a, const struct vmx_cpu_mode *b)
{
	return a->cpl == b->cpl && a->cr0 == b->cr0 && a->cr4 == b->cr4 && a->efer == b->efer &&
	       a->rflags == b->rflags && a->cs_l == b->cs_l && a->in_smm == b->in_smm &&
	       a->blocked_by_mov_ss == b->blocked_by_mov_ss && a->x2apic_mode == b->x2apic_mode &&
	       a->feature_control == b->feature_control;
}

/* True when the machine, in state b before insn, is in the state k records. */
static bool seen_before(const struct vmx_replay_checked *k, const struct vmx_cpu *cpu,
                        unsigned insn, const struct vmx_replay_before *b)
{
	const struct vmx_replay_before *s = &k->b;

	if (!k->valid || k->insn != insn || s->in_vmx != b->in_vmx ||
	    s->vmxon_ptr != b->vmxon_ptr || s->current != b->current ||
	    s->n_regions != b->n_regions || s->has_current != b->has_current ||
	    !same_mode(&k->mode, vmx_cpu_mode(cpu)))
		return false;
	for (size_t i = 0; i < b->n_regions && i < VMX_REPLAY_STORE_CAP; i++)
		if (s->region_pa[i] != b->region_pa[i] || s->launched[i] != b->launched[i])
			return false;
	return !b->has_current || same_fields(s->fields, b->fields, false);
}

static void remember(struct vmx_replay_checked *k, const struct vmx_cpu *cpu, unsigned insn,
                     const struct vmx_replay_before *b, const struct vmx_result *res)
{
	k->valid = true;
	k->insn = (uint8_t)insn;
	k->mode = *vmx_cpu_mode(cpu);
	k->b = *b;
	k->res = *res;
}

/* True when b, every input of the checks (all fields, the pointers, the mode; memory unwritten),
 * is byte for byte the state m->verified's checks ran on twice and agreed. */
static bool verified_state(const struct vmx_replay_machine *m, const struct vmx_replay_before *b)
{
	const struct vmx_replay_checked *k = &m->verified;

	return k->valid && b->has_current && k->b.current == b->current &&
	       k->b.vmxon_ptr == b->vmxon_ptr && same_mode(&k->mode, vmx_cpu_mode(m->cpu)) &&
	       same_fields(k->b.fields, b->fields, true);
}

/* VMLAUNCH/VMRESUME: the instrumented model on a state not seen yet, its second compilation on
 * the state it last ran on (m->seen), and the known result on the state the checks were run
 * and rerun on in agreement (m->verified), its pre-checks and state changes in the second
 * compilation too when m->seen is that state. */
static void vm_entry(struct vmx_replay_machine *m, unsigned insn, const struct vmx_replay_before *b,
                     struct vmx_result *r)
{
	bool launch = insn == VMX_REPLAY_VMLAUNCH;

	if (verified_state(m, b)) {
		bool plain = m->plain || seen_before(&m->seen, m->cpu, insn, b);

		(plain ? vmx_plain_vmentry_known : vmx_vmentry_known)(m->cpu, launch,
		                                                      &m->verified.res, r);
		return;
	}
	if (m->plain || seen_before(&m->seen, m->cpu, insn, b)) {
		(launch ? vmx_plain_vmlaunch : vmx_plain_vmresume)(m->cpu, r);
		return;
	}
	(launch ? vmx_vmlaunch : vmx_vmresume)(m->cpu, r);
	remember(&m->seen, m->cpu, insn, b, r);
}

/* run_insn's instructions in the model's second compilation (m->plain). */
static void run_plain(struct vmx_cpu *cpu, const struct vmx_replay_insn_op *op,
                      struct vmx_result *r)
{
	switch (op->insn) {
	case VMX_REPLAY_VMWRITE: vmx_plain_vmwrite(cpu, op->field, op->value, r); break;
	case VMX_REPLAY_VMREAD: vmx_plain_vmread(cpu, op->field, r); break;
	case VMX_REPLAY_VMCLEAR: vmx_plain_vmclear(cpu, op->value, r); break;
	case VMX_REPLAY_VMPTRLD: vmx_plain_vmptrld(cpu, op->value, r); break;
	case VMX_REPLAY_VMXOFF: vmx_plain_vmxoff(cpu, r); break;
	case VMX_REPLAY_VMXON: vmx_plain_vmxon(cpu, op->value, r); break;
	case VMX_REPLAY_VMPTRST: vmx_plain_vmptrst(cpu, r); break;
	case VMX_REPLAY_INVEPT: vmx_plain_invept(cpu, op->field, op->value, op->desc_hi, r); break;
	default: vmx_plain_invvpid(cpu, op->field, op->value, op->desc_hi, r); break;
	}
}

static void run_insn(struct vmx_replay_machine *m, const struct vmx_replay_insn_op *op,
                     const struct vmx_replay_before *b, struct vmx_result *r)
{
	struct vmx_cpu *cpu = m->cpu;

	if (m->plain && op->insn != VMX_REPLAY_VMLAUNCH && op->insn != VMX_REPLAY_VMRESUME) {
		run_plain(cpu, op, r);
		return;
	}
	switch (op->insn) {
	case VMX_REPLAY_VMWRITE: vmx_vmwrite(cpu, op->field, op->value, r); break;
	case VMX_REPLAY_VMREAD: vmx_vmread(cpu, op->field, r); break;
	case VMX_REPLAY_VMLAUNCH:
	case VMX_REPLAY_VMRESUME: vm_entry(m, op->insn, b, r); break;
	case VMX_REPLAY_VMCLEAR: vmx_vmclear(cpu, op->value, r); break;
	case VMX_REPLAY_VMPTRLD: vmx_vmptrld(cpu, op->value, r); break;
	case VMX_REPLAY_VMXOFF: vmx_vmxoff(cpu, r); break;
	case VMX_REPLAY_VMXON: vmx_vmxon(cpu, op->value, r); break;
	case VMX_REPLAY_VMPTRST: vmx_vmptrst(cpu, r); break;
	case VMX_REPLAY_INVEPT: vmx_invept(cpu, op->field, op->value, op->desc_hi, r); break;
	default: vmx_invvpid(cpu, op->field, op->value, op->desc_hi, r); break;
	}
}

/* Records a broken invariant; the first one of an instruction wins. A long reason is cut at the
 * buffer's end. */
__attribute__((format(printf, 3, 4))) static void flag(struct vmx_replay_step *out,
                                                       const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (out->bad)
		return;
	out->bad = kind;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* The invariants every VMX instruction is checked against. */
static void check_insn(const struct vmx_cpu *cpu, const struct vmx_replay_insn_op *op,
                       const struct vmx_replay_before *b, struct vmx_replay_step *out)
{
	const char *name = vmx_replay_insn_name(op->insn);
	const struct vmx_result *r = &out->res;
	char why[VMX_REPLAY_WHY_MAX];

	if (!vmx_replay_inv_cpu(cpu, why, sizeof(why)))
		flag(out, "vmx_cpu_consistent", "%s: %s", name, why);
	if (!vmx_replay_inv_error(cpu, b, r, why, sizeof(why)))
		flag(out, "vm_instruction_error_known", "%s: %s", name, why);
	if (!vmx_replay_inv_no_effect(cpu, b, r, why, sizeof(why)))
		flag(out, "failure_without_effect", "%s: %s", name, why);
	if (!vmx_replay_inv_launch(cpu, b, op->insn, op->value, r, why, sizeof(why)))
		flag(out, "launch_state_legal", "%s: %s", name, why);
}

/* True when the entry gave m->verified's result and left every input of the checks as it was
 * there: the current VMCS's fields (all of them), the VMXON and current pointers, the mode
 * (memory: a write clears valid; the capabilities are the machine's own). */
static bool rerun_made(const struct vmx_replay_machine *m, const struct vmx_result *r)
{
	const struct vmx_replay_checked *k = &m->verified;
	const struct vmx_cpu *cpu = m->cpu;
	const struct vmcs *v = vmx_current_const(cpu);

	return k->valid && v && k->b.has_current && k->b.current == cpu->current_vmcs &&
	       k->b.vmxon_ptr == cpu->vmxon_ptr && vmx_replay_same_result(r, &k->res) &&
	       same_mode(&k->mode, vmx_cpu_mode(cpu)) && same_fields(k->b.fields, v->f, true);
}

/* entry_checks_pure, unless the rerun it would make has been made (rerun_made); a rerun that
 * agreed becomes m->verified. */
static void check_pure(struct vmx_replay_machine *m, struct vmx_replay_step *out)
{
	struct vmx_replay_checked *k = &m->verified;
	const struct vmx_result *r = &out->res;
	char why[VMX_REPLAY_WHY_MAX];

	if (rerun_made(m, r))
		return;
	if (!vmx_replay_inv_checks_pure(m->cpu, r, why, sizeof(why))) {
		flag(out, "entry_checks_pure", "%s", why);
		k->valid = false;
		return;
	}
	if (r->outcome != VMX_ENTERED && (r->group == VMX_GROUP_PRE || !r->check))
		return; /* stopped before the checks: nothing was rerun */
	vmx_replay_before_take(m->cpu, &k->b);
	k->valid = true;
	k->mode = *vmx_cpu_mode(m->cpu);
	k->res = out->res;
}

static void check_entry(struct vmx_replay_machine *m, struct vmx_replay_step *out)
{
	const struct vmx_cpu *cpu = m->cpu;
	const struct vmx_result *r = &out->res;
	char why[VMX_REPLAY_WHY_MAX];

	if (r->outcome == VMX_FAULT_UD || r->outcome == VMX_FAULT_GP)
		return;
	if (!vmx_replay_inv_entry_group(cpu, r, why, sizeof(why)))
		flag(out, "entry_outcome_group", "%s", why);
	check_pure(m, out);
	if (!vmx_replay_inv_entered(cpu, r, why, sizeof(why)))
		flag(out, "entered_state_consistent", "%s", why);
}

static void check_access(const struct vmx_cpu *cpu, const struct vmx_replay_insn_op *op,
                         const struct vmx_replay_before *b, struct vmx_replay_step *out)
{
	const struct vmx_result *r = &out->res;
	char why[VMX_REPLAY_WHY_MAX];

	if (op->insn == VMX_REPLAY_VMREAD &&
	    !vmx_replay_inv_field_width(op->field, r, why, sizeof(why)))
		flag(out, "vmcs_field_width", "%s", why);
	if (op->insn == VMX_REPLAY_VMWRITE && r->outcome == VMX_SUCCEED &&
	    !vmx_replay_inv_roundtrip(cpu, op->field, op->value, b, why, sizeof(why)))
		flag(out, "vmwrite_vmread_roundtrip", "%s", why);
}

void vmx_replay_execute(struct vmx_replay_machine *m, const struct vmx_replay_insn_op *op,
                        struct vmx_replay_step *out)
{
	struct vmx_replay_before b;

	out->bad = NULL;
	out->why[0] = '\0';
	vmx_replay_before_take(m->cpu, &b);
	run_insn(m, op, &b, &out->res);
	check_insn(m->cpu, op, &b, out);
	if (op->insn == VMX_REPLAY_VMLAUNCH || op->insn == VMX_REPLAY_VMRESUME)
		check_entry(m, out);
	check_access(m->cpu, op, &b, out);
}

static void toggle(uint64_t *v, uint64_t bit)
{
	*v ^= bit;
}

void vmx_replay_mode(struct vmx_replay_machine *m, unsigned change, uint64_t arg,
                     const struct vmx_cpu_mode *fixture)
{
	struct vmx_cpu_mode md = *vmx_cpu_mode(m->cpu);

	switch (change % VMX_REPLAY_MODE_COUNT) {
	case VMX_REPLAY_MODE_CPL: md.cpl = arg & 3; break;
	case VMX_REPLAY_MODE_VMXE: toggle(&md.cr4, CR4_VMXE); break;
	case VMX_REPLAY_MODE_PE: toggle(&md.cr0, CR0_PE); break;
	case VMX_REPLAY_MODE_VM86: toggle(&md.rflags, RFLAGS_VM); break;
	case VMX_REPLAY_MODE_COMPAT: md.cs_l = !md.cs_l; break;
	case VMX_REPLAY_MODE_MOV_SS: md.blocked_by_mov_ss = !md.blocked_by_mov_ss; break;
	case VMX_REPLAY_MODE_SMM: md.in_smm = !md.in_smm; break;
	case VMX_REPLAY_MODE_X2APIC: md.x2apic_mode = !md.x2apic_mode; break;
	case VMX_REPLAY_MODE_FEATCTL: md.feature_control = arg; break;
	case VMX_REPLAY_MODE_CR0_NE: toggle(&md.cr0, CR0_NE); break;
	default: md = *fixture; break;
	}
	vmx_cpu_set_mode(m->cpu, &md);
	m->seen.valid = false;
}

void vmx_replay_describe_entry(const struct vmx_result *r, char *buf, size_t cap)
{
	if (r->outcome == VMX_ENTERED)
		snprintf(buf, cap, "entered");
	else if (r->outcome == VMX_ENTRY_FAIL_EXIT)
		snprintf(buf, cap, "VM-entry failure: exit reason %#x, qualification %llu, from %s",
		         r->exit_reason, (unsigned long long)r->exit_qual,
		         r->check ? r->check : "-");
	else
		snprintf(buf, cap, "%s (error %u) from %s", vmx_outcome_name(r->outcome), r->error,
		         r->check ? r->check : "-");
}
