/* VM entry up to the checks: VMLAUNCH/VMRESUME pre-checks (SDM 27.1 "Basic VM-Entry Checks"),
 * then every check of SDM 27.2 (controls, host state), 27.3.1 (guest state) and 27.4 (MSR
 * loading) from the check tables, in SDM order, mapped to their outcomes. Loading guest state and
 * event injection are vmx_entry_load.c; the host-state load after a failed entry is vmx_exit with
 * the entry-failure bit (vmx_exit.c); here only the VM-exit information fields of a VM-entry
 * failure are written. */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

struct table_ref {
	const struct vmx_check *checks;
	const size_t *count;
	bool memo; /* its checks may be skipped (vmx_entry_memo.c); the MSR-load checks read MSRs */
};

static const struct table_ref tables[] = {
    {vmx_checks_ctrl, &vmx_checks_ctrl_count, true},
    {vmx_checks_host, &vmx_checks_host_count, true},
    {vmx_checks_guest, &vmx_checks_guest_count, true},
    {vmx_checks_guest_seg, &vmx_checks_guest_seg_count, true},
    {vmx_checks_guest_state, &vmx_checks_guest_state_count, true},
    {vmx_checks_msr, &vmx_checks_msr_count, false},
};

#define TABLE_COUNT (sizeof(tables) / sizeof(tables[0]))

size_t vmx_check_count(void)
{
	size_t n = 0;

	for (size_t t = 0; t < TABLE_COUNT; t++)
		n += *tables[t].count;
	return n;
}

static const struct vmx_check *check_at(size_t i)
{
	for (size_t t = 0; t < TABLE_COUNT; t++) {
		if (i < *tables[t].count)
			return &tables[t].checks[i];
		i -= *tables[t].count;
	}
	return NULL;
}

const struct vmx_check_desc *vmx_check_at(size_t i)
{
	const struct vmx_check *chk = check_at(i);

	return chk ? &chk->desc : NULL;
}

bool vmx_fail_at(struct vmx_fail *f, const char *cond, const char *cite, uint64_t qual)
{
	f->cond = cond;
	f->cite = cite;
	f->qual = qual;
	return true;
}

/* SDM 25.6.2: with "activate secondary/tertiary controls" 0 the processor acts as if every
 * secondary/tertiary control were 0. */
void vmx_entry_ctx_init(struct vmx_entry_ctx *c, const struct vmx_cpu *cpu, const struct vmcs *v)
{
	memset(c, 0, sizeof(*c));
	c->vmcs_f = v->f;
	c->seen = c->seen_scratch;
	c->read_memory = &c->read_memory_scratch;
	c->caps = &cpu->caps;
	c->mem = &cpu->mem;
	c->msr = &cpu->msr;
	c->mode = &cpu->mode;
	c->current_vmcs = cpu->current_vmcs;
	c->vmxon_ptr = cpu->vmxon_ptr;
	c->pin = (uint32_t)v->f[VMCS_IDX_PIN_BASED_VM_EXEC_CONTROL];
	c->proc = (uint32_t)v->f[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL];
	if (c->proc & PROC_ACTIVATE_SECONDARY)
		c->proc2 = (uint32_t)v->f[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL];
	if (c->proc & PROC_ACTIVATE_TERTIARY)
		c->proc3 = v->f[VMCS_IDX_TERTIARY_VM_EXEC_CONTROL];
	c->exit = (uint32_t)v->f[VMCS_IDX_VM_EXIT_CONTROLS];
	c->entry = (uint32_t)v->f[VMCS_IDX_VM_ENTRY_CONTROLS];
}

static void fill_failure(struct vmx_result *res, const struct vmx_check *chk,
                         const struct vmx_fail *f)
{
	res->group = chk->desc.group;
	res->check = chk->desc.name;
	res->cond = f->cond;
	res->cite = f->cite;
	res->item = f->item;
	switch (chk->desc.group) {
	case VMX_GROUP_CTRL:
		res->outcome = VMX_FAIL_VALID;
		res->error = VMXERR_ENTRY_INVALID_CONTROL_FIELD;
		break;
	case VMX_GROUP_HOST:
		res->outcome = VMX_FAIL_VALID;
		res->error = VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
		break;
	case VMX_GROUP_GUEST:
		res->outcome = VMX_ENTRY_FAIL_EXIT;
		res->exit_reason = VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE;
		res->exit_qual = f->qual;
		break;
	default:
		res->outcome = VMX_ENTRY_FAIL_EXIT;
		res->exit_reason = VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_MSR_LOAD_FAIL;
		res->exit_qual = f->qual;
		break;
	}
}

/* Runs checks[0..n), the first violated one filling res. With s, records in its unit u what they
 * read and whether they all passed. True when one was violated. */
static bool run_unit(struct vmx_entry_ctx *c, struct vmx_memo_slot *s, unsigned u,
                     const struct vmx_check *checks, size_t n, struct vmx_result *res)
{
	struct vmx_memo_unit *unit = s ? &s->unit[u] : NULL;

	if (unit) {
		memset(unit->seen, 0, sizeof(unit->seen));
		unit->reads_memory = 0;
		unit->passed = false;
		c->seen = unit->seen;
	}
	for (size_t j = 0; j < n; j++) {
		struct vmx_fail f = {0};

		*c->read_memory = false;
		if (checks[j].fn(c, &f)) {
			fill_failure(res, &checks[j], &f);
			return true;
		}
		if (unit && *c->read_memory)
			unit->reads_memory |= (uint8_t)(1u << j);
	}
	if (unit)
		vmx_memo_passed(s, u);
	c->seen = c->seen_scratch;
	return false;
}

/* A known unit (vmx_memo_known): only its checks that read memory run. */
static bool rerun_unit(struct vmx_entry_ctx *c, const struct vmx_memo_unit *unit,
                       const struct vmx_check *checks, struct vmx_result *res)
{
	for (unsigned bits = unit->reads_memory; bits; bits &= bits - 1) {
		const struct vmx_check *chk = &checks[__builtin_ctz(bits)];
		struct vmx_fail f = {0};

		if (chk->fn(c, &f)) {
			fill_failure(res, chk, &f);
			return true;
		}
	}
	return false;
}

/* Every check in table order (the order of vmx_check_at); the first violated one decides. With
 * memo, the units of checks that passed on inputs that have not changed since are not run
 * again. */
static void run_checks(struct vmx_entry_ctx *c, struct vmx_entry_memo *memo, uint64_t pa,
                       struct vmx_result *res)
{
	struct vmx_memo_slot *s = memo ? vmx_memo_open(memo, c, pa) : NULL;
	unsigned u = 0;

	res->outcome = VMX_ENTERED;
	for (size_t t = 0; t < TABLE_COUNT; t++) {
		for (size_t i = 0; i < *tables[t].count; i += VMX_MEMO_UNIT, u++) {
			const struct vmx_check *checks = &tables[t].checks[i];
			size_t n = *tables[t].count - i < VMX_MEMO_UNIT ? *tables[t].count - i
			                                                : VMX_MEMO_UNIT;
			struct vmx_memo_unit *unit =
			    s && tables[t].memo && u < VMX_MEMO_UNITS ? &s->unit[u] : NULL;
			bool failed;

			if (unit && vmx_memo_known(s, u)) {
				failed = rerun_unit(c, unit, checks, res);
				memo->skipped += n - (size_t)__builtin_popcount(unit->reads_memory);
			} else {
				failed = run_unit(c, unit ? s : NULL, u, checks, n, res);
			}
			if (failed) {
				if (s)
					vmx_memo_forget_from(s, u);
				goto out;
			}
		}
	}
out:
	if (s)
		vmx_memo_close(s, c);
}

void vmx_check_entry(const struct vmx_cpu *cpu, struct vmx_result *res)
{
	const struct vmcs *v = NULL;
	struct vmx_entry_ctx c;

	memset(res, 0, sizeof(*res));
	if (cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		v = vmcs_store_find_const(cpu->store, cpu->current_vmcs);
	if (!v) {
		res->outcome = VMX_FAIL_INVALID;
		res->check = "vmx_check_current_vmcs";
		res->cond = "current-VMCS pointer is not valid";
		res->cite = SDM_BASIC_ENTRY;
		return;
	}
	vmx_entry_ctx_init(&c, cpu, v);
	run_checks(&c, NULL, 0, res);
}

static bool basic_fail(struct vmx_result *res, enum vmx_outcome out, uint32_t err, const char *text)
{
	res->outcome = out;
	res->error = err;
	res->cond = text;
	res->check = "vmx_check_basic_entry";
	res->cite = SDM_BASIC_ENTRY;
	return true;
}

#define PRE(res, expr, out, err) ((expr) ? basic_fail((res), (out), (err), #expr) : false)

/* SDM 27.1: the checks before any VMCS field is examined, after the instruction's #UD/#GP. */
static bool basic_checks(const struct vmx_cpu *cpu, const struct vmcs *v, bool launch,
                         struct vmx_result *res)
{
	return PRE(res, v == NULL, VMX_FAIL_INVALID, 0) ||
	       PRE(res, cpu->mode.blocked_by_mov_ss, VMX_FAIL_VALID,
	           VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS) ||
	       PRE(res, launch && v->launched, VMX_FAIL_VALID, VMXERR_VMLAUNCH_NONCLEAR_VMCS) ||
	       PRE(res, !launch && !v->launched, VMX_FAIL_VALID, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
}

static bool instr_prechecks(const struct vmx_cpu *cpu, struct vmx_result *res)
{
	const struct vmx_cpu_mode *m = &cpu->mode;
	const char *cite = "SDM 31.3 \"VMX Instructions\" VMLAUNCH/VMRESUME";
	bool ud = !cpu->in_vmx || !(m->cr0 & CR0_PE) || (m->rflags & RFLAGS_VM) ||
	          ((m->efer & EFER_LMA) && !m->cs_l);

	if (ud || m->cpl > 0) {
		res->outcome = ud ? VMX_FAULT_UD : VMX_FAULT_GP;
		res->check = "vmx_insn_precheck";
		res->cond = ud ? "not in VMX operation, CR0.PE=0, RFLAGS.VM=1 or compatibility mode"
		               : "CPL > 0";
		res->cite = cite;
		return true;
	}
	return false;
}

/* The state changes the checks make: error number, exit information, launch state. */
static void apply(struct vmcs *v, bool launch, const struct vmx_result *res)
{
	switch (res->outcome) {
	case VMX_FAIL_VALID: v->f[VMCS_IDX_VM_INSTRUCTION_ERROR] = res->error; break;
	case VMX_ENTRY_FAIL_EXIT:
		/* SDM 27.8: exit reason and qualification are the only exit fields written */
		v->f[VMCS_IDX_VM_EXIT_REASON] = res->exit_reason;
		v->f[VMCS_IDX_EXIT_QUALIFICATION] = res->exit_qual;
		break;
	case VMX_ENTERED:
		if (launch)
			v->launched = true;
		break;
	default: break;
	}
}

/* VMLAUNCH/VMRESUME whose VM-entry checks read check_caps (the processor's own for the real
 * instructions), or whose checks gave known (vmx_vmentry_known; NULL: run them). */
static void vm_entry(struct vmx_cpu *cpu, const struct vmx_caps *check_caps, bool launch,
                     const struct vmx_result *known, struct vmx_result *res)
{
	struct vmcs *v = NULL;
	struct vmx_entry_ctx c;

	memset(res, 0, sizeof(*res));
	if (instr_prechecks(cpu, res))
		return;
	if (cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		v = vmcs_store_find(cpu->store, cpu->current_vmcs);
	if (basic_checks(cpu, v, launch, res)) {
		if (v && res->outcome == VMX_FAIL_VALID)
			v->f[VMCS_IDX_VM_INSTRUCTION_ERROR] = res->error;
		return;
	}
	if (known) {
		*res = *known;
	} else {
		vmx_entry_ctx_init(&c, cpu, v);
		c.caps = check_caps;
		run_checks(&c, &cpu->memo, v->pa, res);
	}
	apply(v, launch, res);
}

void vmx_vmlaunch(struct vmx_cpu *cpu, struct vmx_result *res)
{
	vm_entry(cpu, &cpu->caps, true, NULL, res);
}

void vmx_vmresume(struct vmx_cpu *cpu, struct vmx_result *res)
{
	vm_entry(cpu, &cpu->caps, false, NULL, res);
}

void vmx_vmentry_with_caps(struct vmx_cpu *cpu, const struct vmx_caps *check_caps, bool launch,
                           struct vmx_result *res)
{
	vm_entry(cpu, check_caps ? check_caps : &cpu->caps, launch, NULL, res);
}

void vmx_vmentry_known(struct vmx_cpu *cpu, bool launch, const struct vmx_result *checks,
                       struct vmx_result *res)
{
	vm_entry(cpu, &cpu->caps, launch, checks, res);
}
