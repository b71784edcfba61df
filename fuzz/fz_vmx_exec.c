/* Executing the operations of fuzz_vmcs_entry (fz_vmx_ops.h) on the VMX machine and checking every
 * invariant after each one (fz_vmx_inv.c), and the run loop shared by the harness, its export and
 * the tests. */
#include "fz_vmx_ops.h"

#include "../models/vmx/vmx_int.h"

#include <string.h>

static void count(struct fz_vmx_sys *s, const struct vmx_result *r)
{
	struct fz_vmx_stats *st = &s->stats;

	switch (r->outcome) {
	case VMX_ENTERED: st->entered++; break;
	case VMX_FAIL_VALID:
		st->fail_ctrl += r->error == VMXERR_ENTRY_INVALID_CONTROL_FIELD;
		st->fail_host += r->error == VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
		st->vmfail += r->error != VMXERR_ENTRY_INVALID_CONTROL_FIELD &&
		              r->error != VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
		break;
	case VMX_ENTRY_FAIL_EXIT:
		st->exit_guest += (r->exit_reason & 0xffff) == 33;
		st->exit_msr += (r->exit_reason & 0xffff) == 34;
		break;
	case VMX_FAIL_INVALID: st->vmfail++; break;
	case VMX_FAULT_UD:
	case VMX_FAULT_GP: st->faults++; break;
	default: break;
	}
}

static void mix_result(struct fz_vmx_sys *s, const struct vmx_result *r)
{
	fz_vmx_mix(s, (uint64_t)r->outcome | (uint64_t)r->error << 8 | (uint64_t)r->group << 16 |
	                  (uint64_t)r->exit_reason << 32);
	fz_vmx_mix(s, r->exit_qual ^ r->value);
}

/* The invariants every VMX instruction is checked against. */
static void check_insn(struct fz_vmx_sys *s, const struct fz_vmx_op *op,
                       const struct fz_vmx_before *b, const struct vmx_result *r)
{
	const char *name = fz_vmx_op_name(op->kind);
	char why[FZ_VMX_WHY_MAX];

	if (!fz_inv_vmx_cpu(s->cpu, why, sizeof(why)))
		fz_vmx_flag(s, "vmx_cpu_consistent", "%s: %s", name, why);
	if (!fz_inv_vmx_error(s->cpu, b, r, why, sizeof(why)))
		fz_vmx_flag(s, "vm_instruction_error_known", "%s: %s", name, why);
	if (!fz_inv_vmx_no_effect(s->cpu, b, r, why, sizeof(why)))
		fz_vmx_flag(s, "failure_without_effect", "%s: %s", name, why);
	if (!fz_inv_vmx_launch(s->cpu, b, name, op->value, r, why, sizeof(why)))
		fz_vmx_flag(s, "launch_state_legal", "%s: %s", name, why);
}

static void check_entry(struct fz_vmx_sys *s, const struct vmx_result *r)
{
	char why[FZ_VMX_WHY_MAX];

	if (r->outcome == VMX_FAULT_UD || r->outcome == VMX_FAULT_GP)
		return;
	if (!fz_inv_vmx_entry_group(s->cpu, r, why, sizeof(why)))
		fz_vmx_flag(s, "entry_outcome_group", "%s", why);
	if (!fz_inv_vmx_checks_pure(s->cpu, r, why, sizeof(why)))
		fz_vmx_flag(s, "entry_checks_pure", "%s", why);
	if (!fz_inv_vmx_entered(s->cpu, r, why, sizeof(why)))
		fz_vmx_flag(s, "entered_state_consistent", "%s", why);
}

static void check_access(struct fz_vmx_sys *s, const struct fz_vmx_op *op,
                         const struct fz_vmx_before *b, const struct vmx_result *r)
{
	char why[FZ_VMX_WHY_MAX];

	if (op->kind == FZ_VMX_VMREAD && !fz_inv_vmx_field_width(op->enc, r, why, sizeof(why)))
		fz_vmx_flag(s, "vmcs_field_width", "%s", why);
	if (op->kind == FZ_VMX_VMWRITE && r->outcome == VMX_SUCCEED &&
	    !fz_inv_vmx_roundtrip(s->cpu, op->enc, op->value, b, why, sizeof(why)))
		fz_vmx_flag(s, "vmwrite_vmread_roundtrip", "%s", why);
	s->stats.vmwrites += op->kind == FZ_VMX_VMWRITE && r->outcome == VMX_SUCCEED;
}

static void run_insn(struct fz_vmx_sys *s, const struct fz_vmx_op *op, struct vmx_result *r)
{
	struct vmx_cpu *cpu = s->cpu;

	switch (op->kind) {
	case FZ_VMX_VMWRITE: vmx_vmwrite(cpu, op->enc, op->value, r); break;
	case FZ_VMX_VMREAD: vmx_vmread(cpu, op->enc, r); break;
	case FZ_VMX_VMLAUNCH: vmx_vmlaunch(cpu, r); break;
	case FZ_VMX_VMRESUME: vmx_vmresume(cpu, r); break;
	case FZ_VMX_VMCLEAR: vmx_vmclear(cpu, op->value, r); break;
	case FZ_VMX_VMPTRLD: vmx_vmptrld(cpu, op->value, r); break;
	case FZ_VMX_VMXOFF: vmx_vmxoff(cpu, r); break;
	case FZ_VMX_VMXON: vmx_vmxon(cpu, op->value, r); break;
	case FZ_VMX_VMPTRST: vmx_vmptrst(cpu, r); break;
	case FZ_VMX_INVEPT: vmx_invept(cpu, op->enc, op->value, op->addr, r); break;
	default: vmx_invvpid(cpu, op->enc, op->value, op->addr, r); break;
	}
}

static void toggle(uint64_t *v, uint64_t bit)
{
	*v ^= bit;
}

static void run_mode(struct fz_vmx_sys *s, const struct fz_vmx_op *op)
{
	struct vmx_cpu_mode m = *vmx_cpu_mode(s->cpu);

	switch (op->src) {
	case FZ_VMX_MODE_CPL: m.cpl = op->value & 3; break;
	case FZ_VMX_MODE_VMXE: toggle(&m.cr4, CR4_VMXE); break;
	case FZ_VMX_MODE_PE: toggle(&m.cr0, CR0_PE); break;
	case FZ_VMX_MODE_VM86: toggle(&m.rflags, RFLAGS_VM); break;
	case FZ_VMX_MODE_COMPAT: m.cs_l = !m.cs_l; break;
	case FZ_VMX_MODE_MOV_SS: m.blocked_by_mov_ss = !m.blocked_by_mov_ss; break;
	case FZ_VMX_MODE_SMM: m.in_smm = !m.in_smm; break;
	case FZ_VMX_MODE_X2APIC: m.x2apic_mode = !m.x2apic_mode; break;
	case FZ_VMX_MODE_FEATCTL: m.feature_control = op->value; break;
	case FZ_VMX_MODE_CR0_NE: toggle(&m.cr0, CR0_NE); break;
	default: m = *fz_vmx_fixture_mode(s); break;
	}
	vmx_cpu_set_mode(s->cpu, &m);
	fz_vmx_mix(s, op->src);
}

static void run_mem(struct fz_vmx_sys *s, const struct fz_vmx_op *op)
{
	uint64_t guest_cr3 = 0, e[2];
	uint32_t v32 = (uint32_t)op->value;

	switch (op->src) {
	case FZ_VMX_MEM_REVISION: fz_vmx_mem_write(s, op->addr, &v32, sizeof(v32)); break;
	case FZ_VMX_MEM_MSR_LOAD:
		e[0] = op->enc;
		e[1] = op->value;
		fz_vmx_mem_write(s, FZ_VMX_PA_MSR_AREA + 16 * (op->addr % 32), e, sizeof(e));
		break;
	case FZ_VMX_MEM_PDPTE: /* SDM 27.3.1.6: the PDPT at guest CR3[31:5] */
		vmx_vmcs_get(s->cpu, VMCS_GUEST_CR3, &guest_cr3);
		fz_vmx_mem_write(s, (guest_cr3 & 0xffffffe0u) + 8 * (op->addr & 3), &op->value, 8);
		break;
	default: fz_vmx_mem_write(s, op->addr % FZ_VMX_MEM_BYTES, &op->value, 8); break;
	}
}

void fz_vmx_execute(struct fz_vmx_sys *s, const struct fz_vmx_op *op)
{
	struct fz_vmx_before b;
	struct vmx_result r;

	if (op->kind == FZ_VMX_MODE) {
		run_mode(s, op);
		return;
	}
	if (op->kind == FZ_VMX_MEM) {
		run_mem(s, op);
		return;
	}
	fz_vmx_before_take(s, &b);
	run_insn(s, op, &r);
	count(s, &r);
	mix_result(s, &r);
	check_insn(s, op, &b, &r);
	if (op->kind == FZ_VMX_VMLAUNCH || op->kind == FZ_VMX_VMRESUME) {
		check_entry(s, &r);
		s->last_entry = r;
		s->entry_seen = true;
	}
	check_access(s, op, &b, &r);
}

void fz_vmx_run(struct fz_vmx_sys *s, const uint8_t *data, size_t size, struct fz_vmx_outcome *out,
                struct fz_vmx_export *x)
{
	struct hvsim_error err = {0};
	struct fz_vmx_op op;
	struct fz_in in;

	memset(out, 0, sizeof(*out));
	fz_init(&in, data, size);
	if (fz_vmx_load(s, fz_u8(&in), &err) != HVSIM_OK) {
		out->kind = "setup";
		snprintf(out->why, sizeof(out->why), "%s", err.msg);
		return;
	}
	for (unsigned i = 0; fz_more(&in, &i, FZ_VMX_OPS_MAX) && !out->kind;) {
		fz_vmx_decode(&in, &op);
		fz_vmx_resolve(s, &op);
		if (x)
			fz_vmx_export_op(x, &op);
		fz_vmx_execute(s, &op);
		out->ops = i;
		if (s->bad) {
			out->kind = s->bad;
			snprintf(out->why, sizeof(out->why), "op %u (%s): %s", i - 1,
			         fz_vmx_op_name(op.kind), s->why);
		}
	}
	fz_vmx_mix(s, s->stats.entered);
	out->hash = s->hash;
	fz_vmx_describe_entry(s, out->last_entry, sizeof(out->last_entry));
}

void fz_vmx_describe_entry(const struct fz_vmx_sys *s, char *buf, size_t cap)
{
	const struct vmx_result *r = &s->last_entry;

	if (!s->entry_seen)
		snprintf(buf, cap, "no VM entry");
	else if (r->outcome == VMX_ENTERED)
		snprintf(buf, cap, "entered");
	else if (r->outcome == VMX_ENTRY_FAIL_EXIT)
		snprintf(buf, cap, "VM-entry failure: exit reason %#x, qualification %llu, from %s",
		         r->exit_reason, (unsigned long long)r->exit_qual,
		         r->check ? r->check : "-");
	else
		snprintf(buf, cap, "%s (error %u) from %s", vmx_outcome_name(r->outcome), r->error,
		         r->check ? r->check : "-");
}
