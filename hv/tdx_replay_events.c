/* The host events the tdx-replay algorithm takes (docs/fuzzing.md "fuzz_tdx_seamcall") and the
 * trace line of each call it executes. The machine's configuration is seven events (tdx_lps,
 * tdx_packages, tdx_mem_pages, tdx_hkid_first, tdx_hkid_count, tdx_tdcs_pages, tdx_tdvps_pages)
 * closed by tdx_module, which resets the module under it. A call is a run of events, as a host
 * event carries one 64-bit arg: the registers it takes staged one each (tdx_rax, tdx_rcx, tdx_rdx,
 * tdx_r8, tdx_r9, tdx_r11; those not staged are 0), then seamcall, tdcall or td_exit with arg =
 * the LP. RAX is staged rather than packed with the LP because a raw leaf is a full 64-bit value.
 * vm_create runs this parser over every event first, so a scenario the replay cannot execute is
 * an input error naming the event. TDX module ABI names. */
#include "tdx_replay_int.h"

#include <string.h>

enum reg { R_RAX, R_RCX, R_RDX, R_R8, R_R9, R_R11, R_COUNT };

static const char *const reg_actions[R_COUNT] = {"tdx_rax", "tdx_rcx", "tdx_rdx",
                                                 "tdx_r8",  "tdx_r9",  "tdx_r11"};

/* The registers each call takes (bit per enum reg). */
static const uint8_t call_regs[] = {
    [TDX_REPLAY_SEAMCALL] = 1u << R_RAX | 1u << R_RCX | 1u << R_RDX | 1u << R_R8 | 1u << R_R9,
    [TDX_REPLAY_TDCALL] = 1u << R_RAX | 1u << R_RCX | 1u << R_RDX | 1u << R_R11,
    [TDX_REPLAY_TD_EXIT] = 0,
};

static const char *const call_actions[] = {"seamcall", "tdcall", "td_exit"};

enum cfg_field { C_LPS, C_PKGS, C_MEM, C_HKID_FIRST, C_HKID_COUNT, C_TDCS, C_TDVPS, C_COUNT };

static const char *const cfg_actions[C_COUNT] = {
    "tdx_lps",        "tdx_packages",   "tdx_mem_pages",  "tdx_hkid_first",
    "tdx_hkid_count", "tdx_tdcs_pages", "tdx_tdvps_pages"};

static int find(const char *const *names, size_t n, const char *action)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(action, names[i]) == 0)
			return (int)i;
	return -1;
}

static uint64_t *reg_slot(struct tdx_regs *r, int reg)
{
	uint64_t *slots[R_COUNT] = {&r->rax, &r->rcx, &r->rdx, &r->r8, &r->r9, &r->r11};

	return slots[reg];
}

static unsigned *cfg_slot(struct tdx_config *c, int field)
{
	unsigned *slots[C_COUNT] = {&c->lps,        &c->packages,   &c->mem_pages,  &c->hkid_first,
	                            &c->hkid_count, &c->tdcs_pages, &c->tdvps_pages};

	return slots[field];
}

/* A configuration field (before tdx_module) or tdx_module itself. */
static const char *config(struct tdx_replay_parser *p, int field, uint64_t arg,
                          struct tdx_replay_action *out)
{
	if (field < 0) { /* tdx_module */
		if (arg != 0)
			return "takes no operand: arg must be \"0x0\"";
		if (p->cfg_set != (1u << C_COUNT) - 1)
			return "comes before every configuration field (tdx_lps, tdx_packages, "
			       "tdx_mem_pages, tdx_hkid_first, tdx_hkid_count, tdx_tdcs_pages, "
			       "tdx_tdvps_pages) was set";
		if (p->staged)
			return "comes between staged registers and their call";
		out->kind = TDX_REPLAY_ACT_RESET;
		out->cfg = p->cfg;
		p->loaded = true;
		p->cfg_set = 0;
		return NULL;
	}
	if (p->cfg_set & (1u << field))
		return "sets a configuration field twice before tdx_module";
	if (arg > UINT32_MAX)
		return "is not a configuration value (at most 32 bits)";
	*cfg_slot(&p->cfg, field) = (unsigned)arg;
	p->cfg_set |= (uint8_t)(1u << field);
	return NULL;
}

static const char *call(struct tdx_replay_parser *p, int c, uint64_t arg,
                        struct tdx_replay_action *out)
{
	if (arg >= TDX_LP_MAX)
		return "names an LP past TDX_LP_MAX (arg is the LP, 0-7)";
	if (p->staged & ~call_regs[c])
		return "has a staged register the call does not take (seamcall: RAX RCX RDX R8 "
		       "R9; tdcall: RAX RCX RDX R11; td_exit: none)";
	if (c != TDX_REPLAY_TD_EXIT && !(p->staged & (1u << R_RAX)))
		return "has no leaf: stage it with tdx_rax first";
	out->kind = TDX_REPLAY_ACT_CALL;
	out->call = (uint8_t)c;
	out->lp = (unsigned)arg;
	out->regs = p->r;
	memset(&p->r, 0, sizeof(p->r));
	p->staged = 0;
	return NULL;
}

const char *tdx_replay_parse(struct tdx_replay_parser *p, const char *action, uint64_t arg,
                             struct tdx_replay_action *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->kind = TDX_REPLAY_ACT_PART;
	if ((i = find(cfg_actions, C_COUNT, action)) >= 0 || strcmp(action, "tdx_module") == 0)
		return config(p, i, arg, out);
	if (!p->loaded)
		return "comes before tdx_module, which must follow the configuration first";
	if ((i = find(reg_actions, R_COUNT, action)) >= 0) {
		if (p->staged & (1u << i))
			return "stages a register twice for one call";
		*reg_slot(&p->r, i) = arg;
		p->staged |= (uint8_t)(1u << i);
		return NULL;
	}
	if ((i = find(call_actions, 3, action)) >= 0)
		return call(p, i, arg, out);
	return "is not an action tdx-replay executes (docs/fuzzing.md \"fuzz_tdx_seamcall\")";
}

const char *tdx_replay_parse_end(const struct tdx_replay_parser *p)
{
	if (!p->loaded)
		return "the events end before tdx_module";
	if (p->cfg_set)
		return "the events end with configuration fields no tdx_module applies";
	if (p->staged)
		return "the events end with staged registers no call takes";
	return NULL;
}

/* ---- Trace lines ---- */

const char *tdx_replay_tdcall_name(uint64_t leaf)
{
	static const char *const names[] = {
	    [TDG_VP_VMCALL] = "TDG.VP.VMCALL",
	    [TDG_VP_INFO] = "TDG.VP.INFO",
	    [2] = "TDG.MR.RTMR.EXTEND",
	    [TDG_VP_VEINFO_GET] = "TDG.VP.VEINFO.GET",
	    [TDG_MEM_PAGE_ACCEPT] = "TDG.MEM.PAGE.ACCEPT",
	    [TDG_VM_RD] = "TDG.VM.RD",
	};

	if (leaf < sizeof(names) / sizeof(names[0]) && names[leaf])
		return names[leaf];
	return "?";
}

static void status(struct trace_ev *e, const char *name, const char *value, uint64_t st)
{
	trace_ev_str(e, name, tdx_status_name(st));
	trace_ev_hex(e, value, st);
}

static void seamcall_line(struct trace_ev *e, const struct tdx_replay_step *s)
{
	trace_ev_str(e, "leaf", tdx_seamcall_name(s->in.rax));
	trace_ev_num(e, "lp", s->lp);
	trace_ev_hex(e, "rax", s->in.rax);
	trace_ev_hex(e, "rcx", s->in.rcx);
	trace_ev_hex(e, "rdx", s->in.rdx);
	trace_ev_hex(e, "r8", s->in.r8);
	trace_ev_hex(e, "r9", s->in.r9);
	status(e, "status", "status_value", s->out.rax);
	trace_ev_hex(e, "out_rcx", s->out.rcx);
	trace_ev_hex(e, "out_rdx", s->out.rdx);
	trace_ev_hex(e, "out_r8", s->out.r8);
}

/* What TDH.VP.ENTER returned to the host when the TD exited. */
static void exit_fields(struct trace_ev *e, const struct tdx_replay_step *s)
{
	trace_ev_bool(e, "exited", s->exited);
	if (!s->exited)
		return;
	status(e, "exit_status", "exit_value", s->host.rax);
	trace_ev_hex(e, "exit_rcx", s->host.rcx);
	trace_ev_hex(e, "exit_r8", s->host.r8);
}

static void tdcall_line(struct trace_ev *e, const struct tdx_replay_step *s)
{
	trace_ev_str(e, "leaf", tdx_replay_tdcall_name(s->in.rax));
	trace_ev_num(e, "lp", s->lp);
	trace_ev_hex(e, "rax", s->in.rax);
	trace_ev_hex(e, "rcx", s->in.rcx);
	trace_ev_hex(e, "rdx", s->in.rdx);
	trace_ev_hex(e, "r11", s->in.r11);
	status(e, "status", "status_value", s->out.rax);
	trace_ev_hex(e, "out_r8", s->out.r8);
	exit_fields(e, s);
}

void tdx_replay_trace_call(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct tdx_replay_step *s)
{
	trace_ev_init(e, t, vcpu, "tdx_call");
	trace_ev_str(e, "call", call_actions[s->call % 3]);
	if (s->call == TDX_REPLAY_SEAMCALL) {
		seamcall_line(e, s);
	} else if (s->call == TDX_REPLAY_TDCALL) {
		tdcall_line(e, s);
	} else {
		trace_ev_num(e, "lp", s->lp);
		exit_fields(e, s);
	}
}
