/* The host events the pmu-replay algorithm takes (docs/fuzzing.md "fuzz_pmu_msr", "Export") and
 * the trace line of each PMU operation it executes. Events are read in order by one small parser:
 * the configuration is a run of "pmu_cfg_<field>" events closed by "pmu_load"; an operation with
 * several operands is held until its last part (wrmsr_msr + wrmsr_value, rdpmc_cpl +
 * rdpmc_cr4_pce + rdpmc, count_event + count_cpl + count). vm_create runs the same parser over
 * every event first, so a scenario the replay cannot execute is an input error naming the event.
 * Leaves out: executing (pmu_replay_exec.c). Spec: SDM Vol. 3B 21.2, Vol. 2B RDPMC; APM 13.2. */
#include "pmu_replay_int.h"

#include <string.h>

/* The part of a multi-part operation the next event must be (WANT_ANY: any action). */
enum want { WANT_ANY, WANT_WRMSR_VALUE, WANT_RDPMC_PCE, WANT_RDPMC, WANT_COUNT_CPL, WANT_COUNT };

static const char *const want_names[] = {
    [WANT_WRMSR_VALUE] = "wrmsr_value",
    [WANT_RDPMC_PCE] = "rdpmc_cr4_pce",
    [WANT_RDPMC] = "rdpmc",
    [WANT_COUNT_CPL] = "count_cpl",
    [WANT_COUNT] = "count",
};

static const char *const event_names[PMU_EV_COUNT] = {
    "core_cycles", "instructions", "ref_cycles",    "llc_references",
    "llc_misses",  "branches",     "branch_misses", "topdown_slots",
};

/* The configuration fields, in the order the export writes them. */
enum cfg_field {
	CFG_VENDOR,
	CFG_VERSION,
	CFG_N_GP,
	CFG_GP_WIDTH,
	CFG_N_FIXED,
	CFG_FIXED_WIDTH,
	CFG_N_EVENTS,
	CFG_EVENTS_UNAVAILABLE,
	CFG_PERF_CAPABILITIES,
	CFG_AMD_EXT_CORE,
	CFG_AMD_PERFMON_V2,
	CFG_COUNT
};

static const struct {
	const char *action;
	uint64_t max; /* the largest arg the field takes */
} cfg_fields[CFG_COUNT] = {
    [CFG_VENDOR] = {"pmu_cfg_vendor", PMU_VENDOR_AMD},
    [CFG_VERSION] = {"pmu_cfg_version", UINT8_MAX},
    [CFG_N_GP] = {"pmu_cfg_n_gp", UINT8_MAX},
    [CFG_GP_WIDTH] = {"pmu_cfg_gp_width", UINT8_MAX},
    [CFG_N_FIXED] = {"pmu_cfg_n_fixed", UINT8_MAX},
    [CFG_FIXED_WIDTH] = {"pmu_cfg_fixed_width", UINT8_MAX},
    [CFG_N_EVENTS] = {"pmu_cfg_n_events", UINT8_MAX},
    [CFG_EVENTS_UNAVAILABLE] = {"pmu_cfg_events_unavailable", UINT8_MAX},
    [CFG_PERF_CAPABILITIES] = {"pmu_cfg_perf_capabilities", UINT64_MAX},
    [CFG_AMD_EXT_CORE] = {"pmu_cfg_amd_ext_core", 1},
    [CFG_AMD_PERFMON_V2] = {"pmu_cfg_amd_perfmon_v2", 1},
};

static void cfg_set(struct pmu_config *c, unsigned f, uint64_t v)
{
	switch (f) {
	case CFG_VENDOR: c->vendor = (enum pmu_vendor)v; break;
	case CFG_VERSION: c->version = (uint8_t)v; break;
	case CFG_N_GP: c->n_gp = (uint8_t)v; break;
	case CFG_GP_WIDTH: c->gp_width = (uint8_t)v; break;
	case CFG_N_FIXED: c->n_fixed = (uint8_t)v; break;
	case CFG_FIXED_WIDTH: c->fixed_width = (uint8_t)v; break;
	case CFG_N_EVENTS: c->n_events = (uint8_t)v; break;
	case CFG_EVENTS_UNAVAILABLE: c->events_unavailable = (uint8_t)v; break;
	case CFG_PERF_CAPABILITIES: c->perf_capabilities = v; break;
	case CFG_AMD_EXT_CORE: c->amd_ext_core = v; break;
	default: c->amd_perfmon_v2 = v; break;
	}
}

static uint64_t cfg_get(const struct pmu_config *c, unsigned f)
{
	switch (f) {
	case CFG_VENDOR: return c->vendor;
	case CFG_VERSION: return c->version;
	case CFG_N_GP: return c->n_gp;
	case CFG_GP_WIDTH: return c->gp_width;
	case CFG_N_FIXED: return c->n_fixed;
	case CFG_FIXED_WIDTH: return c->fixed_width;
	case CFG_N_EVENTS: return c->n_events;
	case CFG_EVENTS_UNAVAILABLE: return c->events_unavailable;
	case CFG_PERF_CAPABILITIES: return c->perf_capabilities;
	case CFG_AMD_EXT_CORE: return c->amd_ext_core;
	default: return c->amd_perfmon_v2;
	}
}

/* A configuration field or pmu_load; *taken false for any other action. */
static const char *config_part(struct pmu_replay_parser *p, const char *action, uint64_t arg,
                               struct pmu_replay_action *out, bool *taken)
{
	char why[128];

	*taken = true;
	for (unsigned f = 0; f < CFG_COUNT; f++) {
		if (strcmp(action, cfg_fields[f].action) != 0)
			continue;
		if (arg > cfg_fields[f].max)
			return "is out of the configuration field's range";
		cfg_set(&p->cfg, f, arg);
		return NULL;
	}
	if (strcmp(action, "pmu_load") != 0) {
		*taken = false;
		return NULL;
	}
	if (arg != 0)
		return "takes no operand: arg must be \"0x0\"";
	if (!pmu_config_valid(&p->cfg, why, sizeof(why)))
		return "loads a configuration the PMU model cannot build (pmu_config_valid)";
	p->loaded = true;
	out->kind = PMU_REPLAY_ACT_LOAD;
	out->cfg = p->cfg;
	return NULL;
}

static const char *op_done(struct pmu_replay_parser *p, struct pmu_replay_action *out)
{
	out->kind = PMU_REPLAY_ACT_OP;
	out->op = p->op;
	p->want = WANT_ANY;
	return NULL;
}

/* An operation's first (or only) event. */
static const char *first_part(struct pmu_replay_parser *p, const char *action, uint64_t arg,
                              struct pmu_replay_action *out)
{
	static const uint8_t plain[] = {PMU_REPLAY_SNAPSHOT, PMU_REPLAY_RESTORE, PMU_REPLAY_RESET};

	memset(&p->op, 0, sizeof(p->op));
	if (strcmp(action, "rdmsr") == 0 || strcmp(action, "wrmsr_msr") == 0) {
		if (arg > UINT32_MAX)
			return "names an MSR beyond 32 bits";
		p->op.msr = (uint32_t)arg;
		p->op.kind = action[0] == 'r' ? PMU_REPLAY_RDMSR : PMU_REPLAY_WRMSR;
		if (p->op.kind == PMU_REPLAY_WRMSR)
			return p->want = WANT_WRMSR_VALUE, NULL;
		return op_done(p, out);
	}
	if (strcmp(action, "rdpmc_cpl") == 0 || strcmp(action, "count_event") == 0) {
		bool rdpmc = action[0] == 'r';

		if (arg > (rdpmc ? 3 : PMU_EV_COUNT - 1))
			return rdpmc ? "names a CPL other than 0-3" : "names an unknown event";
		p->op.kind = rdpmc ? PMU_REPLAY_RDPMC : PMU_REPLAY_COUNT;
		if (rdpmc)
			p->op.cpl = (uint8_t)arg;
		else
			p->op.event = (uint8_t)arg;
		return p->want = rdpmc ? WANT_RDPMC_PCE : WANT_COUNT_CPL, NULL;
	}
	for (size_t i = 0; i < sizeof(plain); i++) {
		if (strcmp(action, pmu_replay_op_name(plain[i])) != 0)
			continue;
		if (arg != 0)
			return "takes no operand: arg must be \"0x0\"";
		p->op.kind = plain[i];
		return op_done(p, out);
	}
	return "is not an action pmu-replay executes (docs/fuzzing.md \"fuzz_pmu_msr\")";
}

/* The part p expects next. */
static const char *next_part(struct pmu_replay_parser *p, const char *action, uint64_t arg,
                             struct pmu_replay_action *out)
{
	if (strcmp(action, want_names[p->want]) != 0)
		return "came where the operation's next part must follow";
	switch (p->want) {
	case WANT_WRMSR_VALUE: p->op.value = arg; return op_done(p, out);
	case WANT_RDPMC_PCE:
		if (arg > 1)
			return "takes 0 or 1 (CR4.PCE)";
		p->op.pce = arg;
		return p->want = WANT_RDPMC, NULL;
	case WANT_RDPMC:
		if (arg > UINT32_MAX)
			return "names an ECX beyond 32 bits";
		p->op.msr = (uint32_t)arg;
		return op_done(p, out);
	case WANT_COUNT_CPL:
		if (arg > 3)
			return "names a CPL other than 0-3";
		p->op.cpl = (uint8_t)arg;
		return p->want = WANT_COUNT, NULL;
	default: p->op.value = arg; return op_done(p, out);
	}
}

const char *pmu_replay_parse(struct pmu_replay_parser *p, const char *action, uint64_t arg,
                             struct pmu_replay_action *out)
{
	bool taken;
	const char *bad;

	memset(out, 0, sizeof(*out));
	out->kind = PMU_REPLAY_ACT_PART;
	if (p->want != WANT_ANY)
		return next_part(p, action, arg, out);
	bad = config_part(p, action, arg, out, &taken);
	if (taken)
		return bad;
	if (!p->loaded)
		return "comes before pmu_load, which must precede every operation";
	return first_part(p, action, arg, out);
}

const char *pmu_replay_parse_end(const struct pmu_replay_parser *p)
{
	if (p->want == WANT_ANY)
		return NULL;
	return "the events end before the operation's last part";
}

/* ---- Writing events (the export) ---- */

void pmu_replay_config_events(const struct pmu_config *cfg,
                              void (*fn)(void *ctx, const char *action, uint64_t arg), void *ctx)
{
	for (unsigned f = 0; f < CFG_COUNT; f++)
		fn(ctx, cfg_fields[f].action, cfg_get(cfg, f));
	fn(ctx, "pmu_load", 0);
}

void pmu_replay_op_events(const struct pmu_replay_op *op,
                          void (*fn)(void *ctx, const char *action, uint64_t arg), void *ctx)
{
	switch (op->kind) {
	case PMU_REPLAY_RDMSR: fn(ctx, "rdmsr", op->msr); break;
	case PMU_REPLAY_WRMSR:
		fn(ctx, "wrmsr_msr", op->msr);
		fn(ctx, "wrmsr_value", op->value);
		break;
	case PMU_REPLAY_RDPMC:
		fn(ctx, "rdpmc_cpl", op->cpl);
		fn(ctx, "rdpmc_cr4_pce", op->pce);
		fn(ctx, "rdpmc", op->msr);
		break;
	case PMU_REPLAY_COUNT:
		fn(ctx, "count_event", op->event);
		fn(ctx, "count_cpl", op->cpl);
		fn(ctx, "count", op->value);
		break;
	default: fn(ctx, pmu_replay_op_name(op->kind), 0); break;
	}
}

/* ---- Trace lines ---- */

static const char *outcome_name(const struct pmu_replay_step *st)
{
	if (st->none)
		return "none";
	switch (st->access) {
	case PMU_ACCESS_OK: return "ok";
	case PMU_ACCESS_GP: return "#GP(0)";
	default: return "unhandled";
	}
}

void pmu_replay_trace_op(struct trace_ev *e, uint64_t t, int32_t vcpu,
                         const struct pmu_replay_op *op, const struct pmu_replay_step *st)
{
	bool read = op->kind == PMU_REPLAY_RDMSR || op->kind == PMU_REPLAY_RDPMC;

	trace_ev_init(e, t, vcpu, "pmu_op");
	trace_ev_str(e, "op", pmu_replay_op_name(op->kind));
	switch (op->kind) {
	case PMU_REPLAY_RDMSR: trace_ev_hex(e, "msr", op->msr); break;
	case PMU_REPLAY_WRMSR:
		trace_ev_hex(e, "msr", op->msr);
		trace_ev_hex(e, "value", op->value);
		break;
	case PMU_REPLAY_RDPMC:
		trace_ev_hex(e, "ecx", op->msr);
		trace_ev_num(e, "cpl", op->cpl);
		trace_ev_bool(e, "pce", op->pce);
		break;
	case PMU_REPLAY_COUNT:
		trace_ev_str(e, "event", op->event < PMU_EV_COUNT ? event_names[op->event] : "?");
		trace_ev_num(e, "cpl", op->cpl);
		trace_ev_hex(e, "n", op->value);
		break;
	default: break;
	}
	trace_ev_str(e, "outcome", outcome_name(st));
	if (read && st->access == PMU_ACCESS_OK)
		trace_ev_hex(e, "result", st->value);
	if (st->res.overflow)
		trace_ev_hex(e, "overflow", st->res.overflow);
	if (st->res.pmi)
		trace_ev_bool(e, "pmi", true);
}

void pmu_replay_trace_load(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct pmu_config *cfg)
{
	trace_ev_init(e, t, vcpu, "pmu_op");
	trace_ev_str(e, "op", "load");
	trace_ev_str(e, "vendor", cfg->vendor == PMU_VENDOR_INTEL ? "intel" : "amd");
	trace_ev_num(e, "version", cfg->version);
	trace_ev_num(e, "n_gp", cfg->n_gp);
	trace_ev_num(e, "gp_width", cfg->gp_width);
	trace_ev_num(e, "n_fixed", cfg->n_fixed);
	trace_ev_num(e, "fixed_width", cfg->fixed_width);
	trace_ev_num(e, "n_events", cfg->n_events);
	trace_ev_hex(e, "events_unavailable", cfg->events_unavailable);
	trace_ev_hex(e, "perf_capabilities", cfg->perf_capabilities);
	trace_ev_bool(e, "amd_ext_core", cfg->amd_ext_core);
	trace_ev_bool(e, "amd_perfmon_v2", cfg->amd_perfmon_v2);
	trace_ev_str(e, "outcome", "ok");
}
