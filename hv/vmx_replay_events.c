/* The host events the vmx-replay algorithm takes (docs/fuzzing.md "fuzz_vmcs_entry", export
 * mapping rule 6) and the trace line of each VMX instruction it executes. Events are read in order
 * by one small parser: a one-part event is an action at once; a two- or three-part operation
 * (vmwrite_field + vmwrite_value, mem_write_addr + mem_write_value, invept_type + inv_desc_lo +
 * inv_desc_hi, ...) is held until its last part. vm_create runs the same parser over every event
 * first, so a scenario the replay cannot execute is an input error naming the event, never a
 * failure in the middle of a run. */
#include "vmx_replay_int.h"

#include <string.h>

/* The part of a multi-part operation the next event must be (WANT_ANY: any action). */
enum want {
	WANT_ANY,
	WANT_VMWRITE_VALUE,
	WANT_MEM_VALUE,
	WANT_PDPTE_VALUE,
	WANT_DESC_LO,
	WANT_DESC_HI
};

static const struct {
	const char *action;
	uint8_t insn;
	bool no_operand; /* arg must be 0 */
} insn_actions[] = {
    {"vmread", VMX_REPLAY_VMREAD, false},    {"vmlaunch", VMX_REPLAY_VMLAUNCH, true},
    {"vmresume", VMX_REPLAY_VMRESUME, true}, {"vmclear", VMX_REPLAY_VMCLEAR, false},
    {"vmptrld", VMX_REPLAY_VMPTRLD, false},  {"vmxoff", VMX_REPLAY_VMXOFF, true},
    {"vmxon", VMX_REPLAY_VMXON, false},      {"vmptrst", VMX_REPLAY_VMPTRST, true},
};

#define N_INSN_ACTIONS (sizeof(insn_actions) / sizeof(insn_actions[0]))

static const char *const want_names[] = {
    [WANT_VMWRITE_VALUE] = "vmwrite_value", [WANT_MEM_VALUE] = "mem_write_value",
    [WANT_PDPTE_VALUE] = "mem_write_value", [WANT_DESC_LO] = "inv_desc_lo",
    [WANT_DESC_HI] = "inv_desc_hi",
};

/* An instruction or a mode change: one event each. */
static const char *one_part(const char *action, uint64_t arg, struct vmx_replay_action *out)
{
	for (size_t i = 0; i < N_INSN_ACTIONS; i++) {
		if (strcmp(action, insn_actions[i].action) != 0)
			continue;
		if (insn_actions[i].no_operand && arg != 0)
			return "takes no operand: arg must be \"0x0\"";
		out->kind = VMX_REPLAY_ACT_INSN;
		out->insn.insn = insn_actions[i].insn;
		if (out->insn.insn == VMX_REPLAY_VMREAD)
			out->insn.field = arg;
		else
			out->insn.value = arg;
		return NULL;
	}
	for (unsigned c = 0; c < VMX_REPLAY_MODE_COUNT; c++) {
		if (strcmp(action, vmx_replay_mode_action(c)) == 0) {
			out->kind = VMX_REPLAY_ACT_MODE;
			out->mode = c;
			out->arg = arg;
			return NULL;
		}
	}
	return "is not an action vmx-replay executes (docs/fuzzing.md \"fuzz_vmcs_entry\")";
}

/* The first part of a multi-part operation: remembered until its last part arrives. */
static const char *first_part(struct vmx_replay_parser *p, const char *action, uint64_t arg,
                              bool *taken)
{
	*taken = true;
	if (strcmp(action, "vmwrite_field") == 0) {
		p->want = WANT_VMWRITE_VALUE;
	} else if (strcmp(action, "mem_write_addr") == 0) {
		p->want = WANT_MEM_VALUE; /* any address: a write outside memory is dropped */
	} else if (strcmp(action, "mem_write_pdpte") == 0) {
		if (arg > 3)
			return "names a PDPTE other than 0-3";
		p->want = WANT_PDPTE_VALUE;
	} else if (strcmp(action, "invept_type") == 0 || strcmp(action, "invvpid_type") == 0) {
		p->insn =
		    strcmp(action, "invept_type") == 0 ? VMX_REPLAY_INVEPT : VMX_REPLAY_INVVPID;
		p->want = WANT_DESC_LO;
	} else {
		*taken = false;
		return NULL;
	}
	p->a = arg;
	return NULL;
}

/* The part p expects next: completes the operation into out. */
static const char *next_part(struct vmx_replay_parser *p, const char *action, uint64_t arg,
                             struct vmx_replay_action *out)
{
	bool mem32 = p->want == WANT_MEM_VALUE && strcmp(action, "mem_write32_value") == 0;

	if (!mem32 && strcmp(action, want_names[p->want]) != 0)
		return p->want == WANT_MEM_VALUE
		           ? "came where mem_write_value or mem_write32_value "
		             "must follow mem_write_addr"
		           : "came where the operation's next part must follow";
	if (mem32 && arg > UINT32_MAX)
		return "writes more than 32 bits";
	switch (p->want) {
	case WANT_VMWRITE_VALUE:
		out->kind = VMX_REPLAY_ACT_INSN;
		out->insn = (struct vmx_replay_insn_op){VMX_REPLAY_VMWRITE, p->a, arg, 0};
		break;
	case WANT_DESC_LO: p->b = arg, p->want = WANT_DESC_HI; return NULL;
	case WANT_DESC_HI:
		out->kind = VMX_REPLAY_ACT_INSN;
		out->insn = (struct vmx_replay_insn_op){p->insn, p->a, p->b, arg};
		break;
	default:
		out->kind = p->want == WANT_PDPTE_VALUE ? VMX_REPLAY_ACT_PDPTE : VMX_REPLAY_ACT_MEM;
		out->pa = p->a;
		out->arg = arg;
		out->len = mem32 ? 4 : 8;
		break;
	}
	p->want = WANT_ANY;
	return NULL;
}

const char *vmx_replay_parse(struct vmx_replay_parser *p, const char *action, uint64_t arg,
                             struct vmx_replay_action *out)
{
	bool taken;
	const char *bad;

	memset(out, 0, sizeof(*out));
	out->kind = VMX_REPLAY_ACT_PART;
	if (p->want != WANT_ANY)
		return next_part(p, action, arg, out);
	if (strcmp(action, "vmx_fixture") == 0) {
		p->loaded = true;
		out->kind = VMX_REPLAY_ACT_FIXTURE;
		return arg ? "takes no operand: arg must be \"0x0\"" : NULL;
	}
	if (!p->loaded)
		return "comes before vmx_fixture, which must be the first host event";
	bad = first_part(p, action, arg, &taken);
	return taken ? bad : one_part(action, arg, out);
}

const char *vmx_replay_parse_end(const struct vmx_replay_parser *p)
{
	if (p->want == WANT_ANY)
		return NULL;
	return "the events end before the operation's last part";
}

/* ---- Trace lines ---- */

static void operands(struct trace_ev *e, const struct vmx_replay_insn_op *op)
{
	switch (op->insn) {
	case VMX_REPLAY_VMWRITE:
		trace_ev_hex(e, "field", op->field);
		trace_ev_hex(e, "value", op->value);
		break;
	case VMX_REPLAY_VMREAD: trace_ev_hex(e, "field", op->field); break;
	case VMX_REPLAY_VMCLEAR:
	case VMX_REPLAY_VMPTRLD:
	case VMX_REPLAY_VMXON: trace_ev_hex(e, "addr", op->value); break;
	case VMX_REPLAY_INVEPT:
	case VMX_REPLAY_INVVPID:
		trace_ev_hex(e, "type", op->field);
		trace_ev_hex(e, "desc_lo", op->value);
		trace_ev_hex(e, "desc_hi", op->desc_hi);
		break;
	default: break;
	}
}

void vmx_replay_trace_insn(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct vmx_replay_insn_op *op, const struct vmx_result *res)
{
	bool stores = op->insn == VMX_REPLAY_VMREAD || op->insn == VMX_REPLAY_VMPTRST;

	trace_ev_init(e, t, vcpu, "vmx_insn");
	trace_ev_str(e, "insn", vmx_replay_insn_mnemonic(op->insn));
	operands(e, op);
	trace_ev_str(e, "outcome", vmx_outcome_name(res->outcome));
	if (res->outcome == VMX_FAIL_VALID)
		trace_ev_num(e, "error", res->error);
	if (res->outcome == VMX_ENTRY_FAIL_EXIT) {
		trace_ev_hex(e, "exit_reason", res->exit_reason);
		trace_ev_hex(e, "qualification", res->exit_qual);
	}
	if (stores && res->outcome == VMX_SUCCEED)
		trace_ev_hex(e, "result", res->value);
	if (res->check)
		trace_ev_str(e, "check", res->check);
	if (res->item)
		trace_ev_str(e, "item", res->item);
}
