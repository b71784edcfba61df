/* The named invariants of the VMX model (vmx_replay_int.h), run after every instruction by the
 * vmx-replay algorithm and the fuzz_vmcs_entry harness. Pure functions over const state: what an
 * instruction returned is compared with the processor and VMCS store before and after it. They
 * read the model's private layout (models/vmx/vmx_int.h) for the launch states and field values.
 * Rules from SDM Vol. 3C ch. 25, 27 and 31; each function cites its own. */
#include "vmx_replay_int.h"

#include "../models/vmx/vmx_int.h"

#include <hvsim/exit_reason.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Formats the reason into why (cap bytes, truncated) and returns false: `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static bool fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

static const char *str(const char *s)
{
	return s ? s : "-";
}

static const struct vmcs *current_of(const struct vmx_cpu *cpu)
{
	if (cpu->current_vmcs == VMX_INVALID_VMCS_PTR)
		return NULL;
	return vmcs_store_find_const(cpu->store, cpu->current_vmcs);
}

static uint64_t width_mask(uint64_t encoding)
{
	const struct vmcs_field_info *fi = vmcs_field_lookup(encoding);

	if (!fi)
		return 0;
	if (encoding & VMCS_ENC_HIGH)
		return UINT32_MAX;
	switch (fi->width) {
	case VMCS_WIDTH_16: return UINT16_MAX;
	case VMCS_WIDTH_32: return UINT32_MAX;
	default: return UINT64_MAX;
	}
}

bool vmx_replay_inv_field_width(uint64_t encoding, const struct vmx_result *res, char *why,
                                size_t cap)
{
	uint64_t mask = width_mask(encoding);

	if (res->outcome != VMX_SUCCEED)
		return true;
	if (!mask)
		return fail(why, cap, "VMREAD of encoding %#llx (no such field) succeeded",
		            (unsigned long long)encoding);
	if (res->value & ~mask)
		return fail(why, cap, "VMREAD %s returned %#llx: bits beyond the field width",
		            vmcs_field_name(encoding), (unsigned long long)res->value);
	return true;
}

bool vmx_replay_inv_roundtrip(const struct vmx_cpu *cpu, uint64_t encoding, uint64_t value,
                              const struct vmx_replay_before *b, char *why, size_t cap)
{
	const struct vmcs *v = current_of(cpu);
	int i = vmcs_field_index(encoding);
	uint64_t want, got;

	if (!v || i < 0 || !b->has_current)
		return fail(why, cap, "VMWRITE %#llx succeeded without a current VMCS or field",
		            (unsigned long long)encoding);
	got = v->f[i];
	if (encoding & VMCS_ENC_HIGH)
		want = (b->fields[i] & UINT32_MAX) | (value & UINT32_MAX) << 32;
	else
		want = value & width_mask(encoding);
	if (got != want)
		return fail(why, cap, "VMWRITE %s = %#llx stored %#llx, wanted %#llx",
		            vmcs_field_name(encoding), (unsigned long long)value,
		            (unsigned long long)got, (unsigned long long)want);
	return true;
}

/* SDM 31.4 "VM Instruction Error Numbers" (14 and 27 are not assigned in this revision) */
static bool known_error(uint32_t e)
{
	return (e >= 1 && e <= 13) || (e >= 15 && e <= 26) || e == 28;
}

bool vmx_replay_inv_error(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                          const struct vmx_result *res, char *why, size_t cap)
{
	const struct vmcs *v = current_of(cpu);

	if (res->outcome != VMX_FAIL_VALID)
		return res->error == 0 || fail(why, cap, "%s carries error number %u",
		                               vmx_outcome_name(res->outcome), res->error);
	if (!known_error(res->error))
		return fail(why, cap, "VMfailValid(%u): not an SDM 31.4 error number", res->error);
	if (!b->has_current || !v)
		return fail(why, cap,
		            "VMfailValid(%u) without a current VMCS (SDM 31.2: "
		            "VMfailInvalid)",
		            res->error);
	if (v->f[VMCS_IDX_VM_INSTRUCTION_ERROR] != res->error)
		return fail(why, cap, "VMfailValid(%u) but VM_INSTRUCTION_ERROR holds %llu",
		            res->error, (unsigned long long)v->f[VMCS_IDX_VM_INSTRUCTION_ERROR]);
	return true;
}

static bool group_ok(const struct vmx_cpu *cpu, const struct vmx_result *r)
{
	const struct vmcs *v = current_of(cpu);
	uint32_t basic = r->exit_reason & 0xffff;
	uint64_t count = v ? v->f[VMCS_IDX_VM_ENTRY_MSR_LOAD_COUNT] : 0;

	switch (r->outcome) {
	case VMX_FAIL_VALID:
		if (r->error == VMXERR_ENTRY_INVALID_CONTROL_FIELD)
			return r->group == VMX_GROUP_CTRL;
		if (r->error == VMXERR_ENTRY_INVALID_HOST_STATE_FIELD)
			return r->group == VMX_GROUP_HOST;
		return r->group == VMX_GROUP_PRE &&
		       (r->error == VMXERR_VMLAUNCH_NONCLEAR_VMCS ||
		        r->error == VMXERR_VMRESUME_NONLAUNCHED_VMCS ||
		        r->error == VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	case VMX_ENTRY_FAIL_EXIT:
		if (!(r->exit_reason & VMX_EXIT_REASON_ENTRY_FAIL))
			return false;
		if (basic == EXIT_REASON_INVALID_GUEST_STATE)
			return r->group == VMX_GROUP_GUEST &&
			       (r->exit_qual == 0 || (r->exit_qual >= 2 && r->exit_qual <= 4));
		return basic == EXIT_REASON_MSR_LOAD_FAIL && r->group == VMX_GROUP_MSR &&
		       r->exit_qual >= 1 && r->exit_qual <= count;
	default: return r->group == VMX_GROUP_PRE;
	}
}

bool vmx_replay_inv_entry_group(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                                size_t cap)
{
	if (res->outcome == VMX_ENTERED || res->outcome == VMX_SUCCEED)
		return res->outcome == VMX_ENTERED ||
		       fail(why, cap,
		            "VMLAUNCH/VMRESUME returned VMsucceed, wanted entered or a "
		            "failure");
	if (!res->check || !res->cite)
		return fail(why, cap, "%s without the failing check's name and citation",
		            vmx_outcome_name(res->outcome));
	if (!group_ok(cpu, res))
		return fail(
		    why, cap,
		    "%s (error %u, exit reason %#x, qualification %llu) from %s of group %u",
		    vmx_outcome_name(res->outcome), res->error, res->exit_reason,
		    (unsigned long long)res->exit_qual, res->check, res->group);
	return true;
}

/* Equal strings (or both NULL): the rerun's compilation has its own copies of the names. */
static bool same_str(const char *a, const char *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

bool vmx_replay_same_result(const struct vmx_result *a, const struct vmx_result *b)
{
	return a->outcome == b->outcome && a->error == b->error &&
	       a->exit_reason == b->exit_reason && a->exit_qual == b->exit_qual &&
	       same_str(a->check, b->check) && same_str(a->cond, b->cond) &&
	       same_str(a->item, b->item);
}

bool vmx_replay_inv_checks_pure(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                                size_t cap)
{
	struct vmx_result again;

	if (res->outcome != VMX_ENTERED && (res->group == VMX_GROUP_PRE || !res->check))
		return true;                /* stopped before the VM-entry checks */
	vmx_plain_check_entry(cpu, &again); /* the same checks, not coverage-instrumented */
	if (!vmx_replay_same_result(&again, res))
		return fail(why, cap,
		            "the entry gave %s from %s [%s], the checks rerun give %s from "
		            "%s [%s]",
		            vmx_outcome_name(res->outcome), str(res->check), str(res->cond),
		            vmx_outcome_name(again.outcome), str(again.check), str(again.cond));
	return true;
}

static int region_index(const struct vmx_replay_before *b, uint64_t pa)
{
	for (size_t i = 0; i < b->n_regions && i < VMX_REPLAY_STORE_CAP; i++)
		if (b->region_pa[i] == pa)
			return (int)i;
	return -1;
}

/* The launch state a region must have after insn; -1 when insn must leave it as it was. */
static int wanted_launch(const struct vmx_replay_before *b, unsigned insn, uint64_t pa,
                         uint64_t region, const struct vmx_result *res)
{
	if (insn == VMX_REPLAY_VMCLEAR && res->outcome == VMX_SUCCEED && region == pa)
		return 0;
	if (insn == VMX_REPLAY_VMLAUNCH && res->outcome == VMX_ENTERED && region == b->current)
		return 1;
	return -1;
}

static bool launch_entry_ok(const struct vmx_replay_before *b, unsigned insn,
                            const struct vmx_result *res, char *why, size_t cap)
{
	int i = region_index(b, b->current);
	bool was = i >= 0 && b->launched[i];

	if (res->outcome != VMX_ENTERED)
		return true;
	if (insn == VMX_REPLAY_VMLAUNCH && was)
		return fail(why, cap, "VMLAUNCH entered a launched VMCS (SDM 31.3: error 4)");
	if (insn == VMX_REPLAY_VMRESUME && !was)
		return fail(why, cap, "VMRESUME entered a clear VMCS (SDM 31.3: error 5)");
	return true;
}

/* True when the store holds b's regions in b's order, each at its own address and with b's
 * launch state: then every region finds itself in b, and the loop below passes for an
 * instruction that may change no launch state. */
static bool regions_as_before(const struct vmcs_store *st, const struct vmx_replay_before *b)
{
	if (st->count != b->n_regions || st->count > VMX_REPLAY_STORE_CAP)
		return false;
	for (size_t k = 0; k < st->count; k++) {
		if (st->vmcs[k].pa != b->region_pa[k] || st->vmcs[k].launched != b->launched[k])
			return false;
		for (size_t j = 0; j < k; j++)
			if (b->region_pa[j] == b->region_pa[k])
				return false;
	}
	return true;
}

bool vmx_replay_inv_launch(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                           unsigned insn, uint64_t pa, const struct vmx_result *res, char *why,
                           size_t cap)
{
	const char *name = vmx_replay_insn_name(insn);
	const struct vmcs_store *st = cpu->store;
	bool changes = (insn == VMX_REPLAY_VMCLEAR && res->outcome == VMX_SUCCEED) ||
	               (insn == VMX_REPLAY_VMLAUNCH && res->outcome == VMX_ENTERED);

	if (!launch_entry_ok(b, insn, res, why, cap))
		return false;
	if (!changes && regions_as_before(st, b))
		return true;
	for (size_t k = 0; k < st->count; k++) {
		const struct vmcs *v = &st->vmcs[k];
		int i = region_index(b, v->pa), want = wanted_launch(b, insn, pa, v->pa, res);
		bool was = i >= 0 && b->launched[i];

		if (want < 0 && v->launched != was)
			return fail(why, cap, "%s changed the launch state of %#llx to %d", name,
			            (unsigned long long)v->pa, v->launched);
		if (want >= 0 && v->launched != (want == 1))
			return fail(why, cap, "%s (%s) left %#llx %s", name,
			            vmx_outcome_name(res->outcome), (unsigned long long)v->pa,
			            v->launched ? "launched" : "clear");
	}
	if (insn == VMX_REPLAY_VMCLEAR && res->outcome == VMX_SUCCEED && b->current == pa &&
	    cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		return fail(why, cap, "VMCLEAR of the current VMCS left it current");
	return true;
}

/* Fields a failing instruction may write: the error number, and an entry failure's exit fields. */
static bool may_change(size_t i, const struct vmx_result *res)
{
	if (i == VMCS_IDX_VM_INSTRUCTION_ERROR)
		return res->outcome == VMX_FAIL_VALID;
	return res->outcome == VMX_ENTRY_FAIL_EXIT &&
	       (i == VMCS_IDX_VM_EXIT_REASON || i == VMCS_IDX_EXIT_QUALIFICATION);
}

/* The fields a failure may write, and the ranges between them. */
#define IDX_ERR  VMCS_IDX_VM_INSTRUCTION_ERROR
#define IDX_QUAL VMCS_IDX_EXIT_QUALIFICATION
_Static_assert(VMCS_IDX_VM_EXIT_REASON == IDX_ERR + 1 && IDX_ERR + 1 < IDX_QUAL,
               "fields_as_allowed: the error and exit-reason fields are adjacent, before the "
               "qualification");

/* True when every field is unchanged or one may_change allows: the common case, decided without
 * a branch per field; when false, the field-by-field walk names what changed. */
static bool fields_as_allowed(const struct vmcs *v, const struct vmx_replay_before *b,
                              const struct vmx_result *res)
{
	static const size_t special[] = {IDX_ERR, IDX_ERR + 1, IDX_QUAL};

	if (vmx_replay_fields_diff(v->f, b->fields, 0, IDX_ERR) |
	    vmx_replay_fields_diff(v->f, b->fields, IDX_ERR + 2, IDX_QUAL) |
	    vmx_replay_fields_diff(v->f, b->fields, IDX_QUAL + 1, VMCS_IDX_COUNT))
		return false;
	for (size_t k = 0; k < 3; k++)
		if (v->f[special[k]] != b->fields[special[k]] && !may_change(special[k], res))
			return false;
	return true;
}

bool vmx_replay_inv_no_effect(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                              const struct vmx_result *res, char *why, size_t cap)
{
	const struct vmcs *v = current_of(cpu);

	if (res->outcome == VMX_SUCCEED || res->outcome == VMX_ENTERED ||
	    res->outcome == VMX_INTERNAL_ERROR)
		return true;
	if (cpu->in_vmx != b->in_vmx || cpu->vmxon_ptr != b->vmxon_ptr ||
	    cpu->current_vmcs != b->current || cpu->store->count != b->n_regions)
		return fail(why, cap,
		            "%s changed the processor (in VMX %d->%d, current %#llx->%#llx)",
		            vmx_outcome_name(res->outcome), b->in_vmx, cpu->in_vmx,
		            (unsigned long long)b->current, (unsigned long long)cpu->current_vmcs);
	if (!b->has_current || !v || fields_as_allowed(v, b, res))
		return true;
	for (size_t i = 0; i < VMCS_IDX_COUNT; i++)
		if (v->f[i] != b->fields[i] && !may_change(i, res))
			return fail(why, cap, "%s (from %s) changed %s from %#llx to %#llx",
			            vmx_outcome_name(res->outcome), str(res->check),
			            vmcs_field_at(i)->name, (unsigned long long)b->fields[i],
			            (unsigned long long)v->f[i]);
	return true;
}

/* ---- A second opinion on entries that passed: key SDM rules written again, independently ---- */

#define RFLAGS_RESERVED UINT64_C(0xffffffffffc08028) /* 63:22, 15, 5, 3 (SDM 27.3.1.4) */

static bool ctl_ok(uint64_t v, uint64_t must1, uint64_t may1)
{
	return (v & must1) == must1 && (v & ~may1) == 0;
}

/* SDM 27.2.1.1-27.2.1.3: every control within its capability MSR's allowed settings. */
static const char *controls_broken(const struct vmcs *v, const struct vmx_caps *c)
{
	uint64_t proc = v->f[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL];
	uint64_t info = v->f[VMCS_IDX_VM_ENTRY_INTR_INFO_FIELD];

	if (!ctl_ok(v->f[VMCS_IDX_PIN_BASED_VM_EXEC_CONTROL], vmx_caps_pin_must1(c),
	            vmx_caps_pin_may1(c)))
		return "pin-based controls outside IA32_VMX_(TRUE_)PINBASED_CTLS (27.2.1.1)";
	if (!ctl_ok(proc, vmx_caps_proc_must1(c), vmx_caps_proc_may1(c)))
		return "primary controls outside IA32_VMX_(TRUE_)PROCBASED_CTLS (27.2.1.1)";
	if ((proc & PROC_ACTIVATE_SECONDARY) &&
	    !ctl_ok(v->f[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL], vmx_caps_proc2_must1(c),
	            vmx_caps_proc2_may1(c)))
		return "secondary controls outside IA32_VMX_PROCBASED_CTLS2 (27.2.1.1)";
	if (!ctl_ok(v->f[VMCS_IDX_VM_EXIT_CONTROLS], vmx_caps_exit_must1(c), vmx_caps_exit_may1(c)))
		return "VM-exit controls outside IA32_VMX_(TRUE_)EXIT_CTLS (27.2.1.2)";
	if (!ctl_ok(v->f[VMCS_IDX_VM_ENTRY_CONTROLS], vmx_caps_entry_must1(c),
	            vmx_caps_entry_may1(c)))
		return "VM-entry controls outside IA32_VMX_(TRUE_)ENTRY_CTLS (27.2.1.3)";
	if (v->f[VMCS_IDX_CR3_TARGET_COUNT] >
	    VMX_MISC_CR3_TARGETS(vmx_caps_msr(c, MSR_IA32_VMX_MISC)))
		return "CR3-target count above IA32_VMX_MISC[24:16] (27.2.1.1)";
	if ((info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_RESERVED)
		return "event injection of the reserved type 1 (27.2.1.3)";
	return NULL;
}

static bool fixed_ok(uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
	return (v & fixed0) == fixed0 && (v & ~fixed1) == 0;
}

/* SDM 27.2.2, 27.2.4: host control registers and RIP. */
static const char *host_broken(const struct vmcs *v, const struct vmx_caps *c)
{
	if (!fixed_ok(v->f[VMCS_IDX_HOST_CR0], vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0),
	              vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED1)))
		return "host CR0 outside IA32_VMX_CR0_FIXED0/1 (27.2.2)";
	if (!fixed_ok(v->f[VMCS_IDX_HOST_CR4], vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0),
	              vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED1)))
		return "host CR4 outside IA32_VMX_CR4_FIXED0/1 (27.2.2)";
	if ((v->f[VMCS_IDX_VM_EXIT_CONTROLS] & EXIT_HOST_ADDR_SPACE_SIZE) &&
	    !vmx_caps_canonical(c, v->f[VMCS_IDX_HOST_RIP]))
		return "non-canonical host RIP with host address-space size 1 (27.2.4)";
	return NULL;
}

/* SDM 27.3.1.1, 27.3.1.4: guest control registers and RFLAGS. */
static const char *guest_regs_broken(const struct vmcs *v, const struct vmx_caps *c)
{
	uint64_t cr0 = v->f[VMCS_IDX_GUEST_CR0], f0 = vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0);
	bool proc2 = v->f[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL] & PROC_ACTIVATE_SECONDARY;
	bool ug = proc2 && (v->f[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL] & PROC2_UNRESTRICTED_GUEST);
	bool ia32e = v->f[VMCS_IDX_VM_ENTRY_CONTROLS] & ENTRY_IA32E_MODE_GUEST;
	uint64_t rflags = v->f[VMCS_IDX_GUEST_RFLAGS];

	if (ug)
		f0 &= ~(CR0_PE | CR0_PG); /* unrestricted guest: PE and PG are free */
	if (!fixed_ok(cr0, f0, vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED1)))
		return "guest CR0 outside IA32_VMX_CR0_FIXED0/1 (27.3.1.1)";
	if (!fixed_ok(v->f[VMCS_IDX_GUEST_CR4], vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0),
	              vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED1)))
		return "guest CR4 outside IA32_VMX_CR4_FIXED0/1 (27.3.1.1)";
	if (ia32e && (!(cr0 & CR0_PG) || !(v->f[VMCS_IDX_GUEST_CR4] & CR4_PAE)))
		return "IA-32e mode guest without CR0.PG and CR4.PAE (27.3.1.1)";
	if ((rflags & RFLAGS_RESERVED) || !(rflags & RFLAGS_FIXED1))
		return "guest RFLAGS reserved bits set or bit 1 clear (27.3.1.4)";
	return NULL;
}

/* SDM 27.3.1.5: activity state, interruptibility, VMCS link pointer. */
static const char *guest_state_broken(const struct vmx_cpu *cpu, const struct vmcs *v)
{
	uint64_t intr = v->f[VMCS_IDX_GUEST_INTERRUPTIBILITY_INFO];
	uint64_t link = v->f[VMCS_IDX_VMCS_LINK_POINTER];
	bool smm_rule = cpu->mode.in_smm && !(v->f[VMCS_IDX_VM_ENTRY_CONTROLS] & ENTRY_TO_SMM);

	if (v->f[VMCS_IDX_GUEST_ACTIVITY_STATE] > ACTIVITY_WAIT_SIPI)
		return "activity state above 3 (27.3.1.5)";
	if ((intr & INTERRUPTIBILITY_RSVD) ||
	    ((intr & INTERRUPTIBILITY_STI) && (intr & INTERRUPTIBILITY_MOV_SS)))
		return "interruptibility reserved bits, or blocking by STI and MOV SS (27.3.1.5)";
	if (link != UINT64_MAX && ((link & 0xfff) || (!smm_rule && link == cpu->current_vmcs)))
		return "VMCS link pointer unaligned or the current VMCS (27.3.1.5)";
	return NULL;
}

bool vmx_replay_inv_entered(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                            size_t cap)
{
	const struct vmcs *v = current_of(cpu);
	const char *broken;

	if (res->outcome != VMX_ENTERED)
		return true;
	if (!v)
		return fail(why, cap, "entered without a current VMCS");
	broken = controls_broken(v, &cpu->caps);
	broken = broken ? broken : host_broken(v, &cpu->caps);
	broken = broken ? broken : guest_regs_broken(v, &cpu->caps);
	broken = broken ? broken : guest_state_broken(cpu, v);
	return !broken || fail(why, cap, "entered although: %s", broken);
}

bool vmx_replay_inv_cpu(const struct vmx_cpu *cpu, char *why, size_t cap)
{
	if (!cpu->in_vmx && cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		return fail(why, cap, "outside VMX operation with current VMCS %#llx",
		            (unsigned long long)cpu->current_vmcs);
	if (cpu->current_vmcs == VMX_INVALID_VMCS_PTR)
		return true;
	if (!current_of(cpu))
		return fail(why, cap, "current VMCS %#llx is not in the store",
		            (unsigned long long)cpu->current_vmcs);
	if (cpu->current_vmcs == cpu->vmxon_ptr)
		return fail(why, cap, "the VMXON region %#llx is the current VMCS",
		            (unsigned long long)cpu->vmxon_ptr);
	return true;
}

void vmx_replay_before_take(const struct vmx_cpu *cpu, struct vmx_replay_before *b)
{
	const struct vmcs *cur = current_of(cpu);

	b->in_vmx = cpu->in_vmx;
	b->vmxon_ptr = cpu->vmxon_ptr;
	b->current = cpu->current_vmcs;
	b->n_regions = cpu->store->count;
	for (size_t i = 0; i < b->n_regions && i < VMX_REPLAY_STORE_CAP; i++) {
		b->region_pa[i] = cpu->store->vmcs[i].pa;
		b->launched[i] = cpu->store->vmcs[i].launched;
	}
	b->has_current = cur != NULL;
	if (cur)
		memcpy(b->fields, cur->f, sizeof(cur->f));
}
