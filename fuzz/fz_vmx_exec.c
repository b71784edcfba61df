/* Executing the operations of fuzz_vmcs_entry (fz_vmx_ops.h) on the VMX machine through the
 * vmx-replay library (hv/vmx_replay_exec.c: the instruction, then every named invariant), with
 * the harness's statistics and determinism hash, and the run loop shared by the harness, its
 * export and the tests. */
#include "fz_vmx_ops.h"

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

/* The library instruction of an instruction operation (the kinds before FZ_VMX_MODE, then INVEPT
 * and INVVPID). */
static struct vmx_replay_insn_op insn_of(const struct fz_vmx_op *op)
{
	struct vmx_replay_insn_op in = {.field = op->enc, .value = op->value, .desc_hi = op->addr};

	if (op->kind == FZ_VMX_INVEPT)
		in.insn = VMX_REPLAY_INVEPT;
	else if (op->kind == FZ_VMX_INVVPID)
		in.insn = VMX_REPLAY_INVVPID;
	else
		in.insn = op->kind;
	return in;
}

/* The memory forms the export maps to host events (fz_vmx_export.c mem_form): a revision word,
 * a 16-byte MSR-load entry as two 8-byte writes, a PDPTE at the guest CR3, 8 raw bytes. */
static void run_mem(struct fz_vmx_sys *s, const struct fz_vmx_op *op)
{
	uint64_t msr_entry = VMX_REPLAY_PA_MSR_AREA + 16 * (op->addr % 32);
	uint32_t v32 = (uint32_t)op->value;

	switch (op->src) {
	case FZ_VMX_MEM_REVISION: vmx_replay_mem_write(&s->m, op->addr, &v32, sizeof(v32)); break;
	case FZ_VMX_MEM_MSR_LOAD:
		vmx_replay_mem_write(&s->m, msr_entry, &op->enc, 8);
		vmx_replay_mem_write(&s->m, msr_entry + 8, &op->value, 8);
		break;
	case FZ_VMX_MEM_PDPTE:
		vmx_replay_mem_write(&s->m, vmx_replay_pdpte_pa(&s->m, op->addr & 3), &op->value,
		                     8);
		break;
	default: vmx_replay_mem_write(&s->m, op->addr % VMX_REPLAY_MEM_BYTES, &op->value, 8); break;
	}
}

void fz_vmx_execute(struct fz_vmx_sys *s, const struct fz_vmx_op *op, struct vmx_replay_step *step)
{
	struct vmx_replay_insn_op in;

	if (op->kind == FZ_VMX_MODE) {
		vmx_replay_mode(&s->m, op->src, op->value, fz_vmx_fixture_mode(s));
		fz_vmx_mix(s, op->src);
		return;
	}
	if (op->kind == FZ_VMX_MEM) {
		run_mem(s, op);
		return;
	}
	in = insn_of(op);
	vmx_replay_execute(&s->m, &in, step);
	if (s->log)
		s->log(s->log_ctx, &in, &step->res);
	count(s, &step->res);
	mix_result(s, &step->res);
	if (step->bad)
		fz_vmx_flag(s, step->bad, "%s", step->why);
	if (op->kind == FZ_VMX_VMLAUNCH || op->kind == FZ_VMX_VMRESUME) {
		s->last_entry = step->res;
		s->entry_seen = true;
	}
	s->stats.vmwrites += op->kind == FZ_VMX_VMWRITE && step->res.outcome == VMX_SUCCEED;
}

void fz_vmx_run_quiet(struct fz_vmx_sys *s, const uint8_t *data, size_t size,
                      struct fz_vmx_outcome *out, struct fz_vmx_export *x)
{
	struct hvsim_error err = {0};
	struct vmx_replay_step step;
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
		fz_vmx_execute(s, &op, &step);
		out->ops = i;
		if (s->bad) {
			out->kind = s->bad;
			snprintf(out->why, sizeof(out->why), "op %u (%s): %s", i - 1,
			         fz_vmx_op_name(op.kind), s->why);
		}
	}
	fz_vmx_mix(s, s->stats.entered);
	out->hash = s->hash;
}

void fz_vmx_run(struct fz_vmx_sys *s, const uint8_t *data, size_t size, struct fz_vmx_outcome *out,
                struct fz_vmx_export *x)
{
	fz_vmx_run_quiet(s, data, size, out, x);
	fz_vmx_describe_entry(s, out->last_entry, sizeof(out->last_entry));
}

void fz_vmx_describe_entry(const struct fz_vmx_sys *s, char *buf, size_t cap)
{
	if (!s->entry_seen)
		snprintf(buf, cap, "no VM entry");
	else
		vmx_replay_describe_entry(&s->last_entry, buf, cap);
}
