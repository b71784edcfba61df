/* The export mapping of fuzz_tdx_seamcall (docs/fuzzing.md "Export mapping", rule 6, and
 * "fuzz_tdx_seamcall"): every operation is a hypervisor-side call, so each becomes host events at
 * time 0 for vCPU 0, in order (the engine breaks equal times by sequence): the configuration's
 * seven fields then "tdx_module"; per call its registers as the harness made them concrete
 * ("tdx_rax" always, "tdx_rcx", "tdx_rdx", "tdx_r8", "tdx_r9", "tdx_r11" when not 0), then
 * "seamcall", "tdcall" or "td_exit" with arg = the LP. Operand shapes and KVM's next step are
 * resolved here, against the state the replay reproduces; a next step with nothing to do is no
 * call and writes nothing. The executing algorithm is "tdx-replay" (hv/tdx_replay.c), with
 * oracles.invariants on so that a broken invariant is the run's invariant_violation finding. */
#include "fz_tdx.h"

static void host(fz_scn *scn, const char *action, uint64_t arg)
{
	fz_scn_host(scn, 0, action, 0, arg);
}

static void config(fz_scn *scn, const struct tdx_config *c)
{
	host(scn, "tdx_lps", c->lps);
	host(scn, "tdx_packages", c->packages);
	host(scn, "tdx_mem_pages", c->mem_pages);
	host(scn, "tdx_hkid_first", c->hkid_first);
	host(scn, "tdx_hkid_count", c->hkid_count);
	host(scn, "tdx_tdcs_pages", c->tdcs_pages);
	host(scn, "tdx_tdvps_pages", c->tdvps_pages);
	host(scn, "tdx_module", 0);
}

static void reg(fz_scn *scn, const char *action, uint64_t v)
{
	if (v)
		host(scn, action, v);
}

/* The log hook: one call as its host events. */
static void export_step(void *ctx, const struct tdx_replay_step *st)
{
	static const char *const calls[] = {"seamcall", "tdcall", "td_exit"};
	fz_scn *scn = ctx;

	if (st->call != TDX_REPLAY_TD_EXIT) {
		host(scn, "tdx_rax", st->in.rax);
		reg(scn, "tdx_rcx", st->in.rcx);
		reg(scn, "tdx_rdx", st->in.rdx);
		reg(scn, "tdx_r8", st->in.r8);
		reg(scn, "tdx_r9", st->in.r9);
		reg(scn, "tdx_r11", st->in.r11);
	}
	host(scn, calls[st->call % 3], st->lp);
}

fz_scn *fz_tdx_export_scenario(struct fz_tdx_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_tdx_outcome *o)
{
	fz_scn *scn = fz_scn_create("fuzz_tdx_seamcall", hash);
	struct fz_in in;
	uint8_t b0;

	if (!scn)
		return NULL;
	fz_init(&in, data, size);
	b0 = fz_u8(&in);
	fz_tdx_config(b0, fz_u8(&in), &s->cfg);
	config(scn, &s->cfg);
	s->log = export_step;
	s->log_ctx = scn;
	fz_tdx_run(s, data, size, o);
	s->log = NULL;
	fz_scn_algorithm(scn, "tdx-replay");
	fz_scn_machine_int(scn, "vcpus", 1);
	fz_scn_limits(scn, 1000000, 1000000, 1000);
	fz_scn_check_invariants(scn);
	if (o->kind)
		fz_scn_expect(scn, "invariant_violation");
	return scn;
}
