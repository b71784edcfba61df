/* The run loop of fuzz_pmu_msr (fz_pmu.h), shared by the harness, its export and the tests: loads
 * the configuration byte's PMU (from a pristine copy made once per configuration), decodes each
 * operation, resolves it, and executes it with the pmu-replay algorithm's executor
 * (hv/pmu_replay_exec.c: the model's check and the named invariants after every operation); the
 * first violation ends the run. */
#include "fz_pmu.h"

#include <string.h>

enum hvsim_status fz_pmu_create(struct fz_pmu_sys *s)
{
	memset(s, 0, sizeof(*s));
	return pmu_replay_machine_create(&s->m);
}

void fz_pmu_destroy(struct fz_pmu_sys *s)
{
	pmu_replay_machine_destroy(&s->m);
	for (size_t i = 0; i < sizeof(s->pristine) / sizeof(s->pristine[0]); i++)
		pmu_destroy(s->pristine[i]);
	memset(s, 0, sizeof(*s));
}

/* Puts the PMU in the RESET state of configuration byte b, copied from a pristine one. */
static enum hvsim_status load(struct fz_pmu_sys *s, uint8_t b)
{
	unsigned idx = fz_pmu_config_index(b);
	struct pmu_config c;

	if (!s->pristine[idx]) {
		fz_pmu_config_from(b, &c);
		if (pmu_create(&c, &s->pristine[idx], NULL) != HVSIM_OK)
			return HVSIM_E_NOMEM;
	}
	pmu_replay_load(&s->m, s->pristine[idx]);
	return HVSIM_OK;
}

void fz_pmu_run(struct fz_pmu_sys *s, const uint8_t *data, size_t size, struct fz_pmu_outcome *out,
                struct fz_pmu_export *x)
{
	struct pmu_replay_op op;
	struct fz_in in;

	memset(out, 0, sizeof(*out));
	fz_init(&in, data, size);
	if (load(s, fz_u8(&in)) != HVSIM_OK) {
		out->kind = "out_of_memory";
		return;
	}
	if (x)
		fz_pmu_export_config(x, pmu_get_config(s->m.pmu));
	for (unsigned i = 0; fz_more(&in, &i, FZ_PMU_OPS_MAX) && !out->kind;) {
		struct pmu_replay_step st;

		fz_pmu_decode(&in, pmu_get_config(s->m.pmu), &op);
		fz_pmu_resolve(s->m.pmu, &op);
		if (x)
			fz_pmu_export_op(x, &op);
		pmu_replay_execute(&s->m, &op, &st);
		out->ops = i;
		if (st.bad) {
			out->kind = st.bad;
			snprintf(out->why, sizeof(out->why), "op %u (%s): %s", i - 1,
			         pmu_replay_op_name(op.kind), st.why);
		}
	}
	out->hash = s->m.hash;
}
