/* fuzz_pmu_msr's machine and operations: the pmu-replay algorithm's machine (hv/pmu_replay_int.h:
 * one PMU model of a profile the configuration byte chooses, driven by RDMSR/WRMSR of its MSRs,
 * RDPMC, event counts the owner reports, resets and snapshots), its executor and its named
 * invariants (pmu_replay_inv_*, run by pmu_replay_execute), so that `hvsim run` of an export
 * executes the same code. The decoder (fz_pmu_decode) is the only one: the harness, its export
 * and the tests all go through fz_pmu_run; its inverse (fz_pmu_encode) writes the seeds.
 *
 * Input layout: one configuration byte (fz_pmu_config_from), then operations; each starts with one
 * byte choosing the kind (fz_choose over PMU_REPLAY_OP_COUNT), then its operands in the order
 * fz_pmu_ops.c decodes them. */
#ifndef HVSIM_FUZZ_PMU_H
#define HVSIM_FUZZ_PMU_H

#include "../hv/pmu_replay_int.h"
#include "fz_export.h"
#include "harness.h"

#define FZ_PMU_OPS_MAX  256 /* operations one input may run */
#define FZ_PMU_VARIANTS 4   /* variations of a profile (fz_pmu_config_from) */
#define FZ_PMU_PROFILES 8   /* profiles the configuration byte can name, at most */

struct fz_pmu_sys {
	struct pmu_replay_machine m; /* the live machine (hv/pmu_replay_int.h) */
	struct pmu *pristine[FZ_PMU_PROFILES * FZ_PMU_VARIANTS]; /* RESET state, made once */
};

struct fz_pmu_outcome {
	uint64_t hash;    /* determinism hash of every result */
	unsigned ops;     /* operations run */
	const char *kind; /* first finding's invariant name, NULL if none */
	char why[PMU_REPLAY_WHY_MAX + 64];
};

/* The configuration byte: a profile of pmu_profile_names() and a variation (0 as is; Intel
 * only: 1 FW_WRITE cleared, 2 fewer counters, 3 64-bit GP counters). Fills cfg; an invalid
 * variation falls back to the profile. Can't fail. */
void fz_pmu_config_from(uint8_t b, struct pmu_config *cfg);
/* The index of b's configuration in fz_pmu_sys.pristine. Can't fail. */
unsigned fz_pmu_config_index(uint8_t b);

/* Allocates the PMUs of a system (lazily, pristine ones per configuration). HVSIM_E_NOMEM when
 * out of memory; fz_pmu_destroy frees what was made. */
enum hvsim_status fz_pmu_create(struct fz_pmu_sys *s);
void fz_pmu_destroy(struct fz_pmu_sys *s);

/* Decodes the next operation for a PMU of cfg. Can't fail (input that runs out reads as zeros).
 */
void fz_pmu_decode(struct fz_in *in, const struct pmu_config *cfg, struct pmu_replay_op *op);
/* Writes the bytes fz_pmu_decode reads back as op (o->overflow when they do not fit); shaped
 * values are written raw, so the decoded op has the same effect. */
void fz_pmu_encode(struct fz_out *o, const struct pmu_replay_op *op);
/* Makes a count "to the wrap of counter ctr" concrete against the current state. Can't fail. */
void fz_pmu_resolve(const struct pmu *p, struct pmu_replay_op *op);

/* Writes a run as the pmu-replay algorithm's host events (fz_pmu_export.c) while it runs. */
struct fz_pmu_export {
	fz_scn *scn;
};

/* Appends the host events that load cfg. Can't fail. */
void fz_pmu_export_config(struct fz_pmu_export *x, const struct pmu_config *cfg);
/* Appends op's host events (op resolved). Can't fail. */
void fz_pmu_export_op(struct fz_pmu_export *x, const struct pmu_replay_op *op);
/* Writes the machine, limits and invariant oracle the scenario needs. Can't fail. */
void fz_pmu_export_machine(struct fz_pmu_export *x);
/* The scenario of an input (data, size): runs it (*o: the harness's outcome) writing every
 * operation; NULL when out of memory. The caller destroys it. */
fz_scn *fz_pmu_export_scenario(struct fz_pmu_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_pmu_outcome *o);

/* Decodes data and runs it, checking every invariant after each operation and stopping at the
 * first finding; x, when not NULL, writes each operation as host events. Can't fail: out of
 * memory is the finding "out_of_memory". */
void fz_pmu_run(struct fz_pmu_sys *s, const uint8_t *data, size_t size, struct fz_pmu_outcome *out,
                struct fz_pmu_export *x);

#endif
