/* Private to fuzz_hv_transitions' modules (fz_hvt_*.c): the walker that turns decoded operations
 * into guest actions and timed events, shared by the script builder (fz_hvt_build.c) and the code
 * assembler (fz_hvt_code.c). Invariant: both see the same actions in the same order, so the two
 * guest forms of an input differ only in how an action executes. */
#ifndef HVSIM_FUZZ_HVT_INT_H
#define HVSIM_FUZZ_HVT_INT_H

#include "fz_hvt.h"

#define FZ_HVT_ACTIONS_MAX 4 /* script actions one operation becomes (an RTE: four writes) */

/* Where the walker sends what it finds. handler: the vector whose handler the action belongs to,
 * -1 for the main list. A repeated action arrives as one SOP_REPEAT whose body lives only during
 * the call. action may be NULL (events only). */
struct fz_hvt_sink {
	void (*action)(void *ctx, int handler, const struct script_action *a);
	void (*event)(void *ctx, const struct fz_hvt_op *op, uint64_t at_ns);
	void *ctx;
};

/* The script actions of one guest operation (at most FZ_HVT_ACTIONS_MAX); 0 for other kinds. */
size_t fz_hvt_op_actions(const struct fz_hvt_op *op, struct script_action *a);
/* Walks in's operations in order: handler/main switches, repeats, the event clock (each event at
 * the sum of the gaps so far), host vCPUs clamped to the machine, ept_zap pages inside RAM and at
 * most FZ_HVT_ZAP_PAGES distinct ones. Can't fail. */
void fz_hvt_walk(const struct fz_hvt_input *in, const struct fz_hvt_sink *sink);
/* Guest RAM of the configuration's machine, MiB. */
unsigned fz_hvt_memory_mib(const struct fz_hvt_config *cfg);

/* ---- fz_hvt_direct.c: a kept machine's scenario, built without JSON ---- */

struct fz_hvt_direct;
/* in's guest program (its code image when its configuration has a code guest and the image fits,
 * as fz_hvt_build decides, else its script) and its events, holding what fz_hvt_build's JSON
 * gives the loader. NULL when out of memory. */
struct fz_hvt_direct *fz_hvt_direct_build(const struct fz_hvt_input *in, uint64_t input_hash);
/* Whether d's guest is a script. */
bool fz_hvt_direct_script(const struct fz_hvt_direct *d);
/* The scenario: base's (the same configuration's, with no operations; it must outlive d's use)
 * but for d's guest program and events. Valid until the next call with d or its free. */
const struct hvsim_scenario *fz_hvt_direct_scenario(struct fz_hvt_direct *d,
                                                    const struct hvsim_scenario *base);
void fz_hvt_direct_free(struct fz_hvt_direct *d);

/* ---- fz_hvt_snap.c, the invariant snapshot_rerun ---- */

/* A snapshot of a run in progress and where its trace stood. */
struct fz_hvt_snap {
	hvsim_snapshot *s;          /* NULL: none (out of memory) */
	unsigned at;                /* slices run before it */
	uint64_t hash, pend, total; /* the trace's state at the snapshot */
	size_t len;
};
/* Snapshots vm (writing to t) after slice at; false with why when the engine refuses (out of
 * memory only leaves sn->s NULL). */
bool fz_hvt_snap_take(hvsim_vm *vm, const struct fz_trace *t, unsigned at, struct fz_hvt_snap *sn,
                      char *why, size_t cap);
/* vm ran from sn to its end: restores sn, rewinds t to sn's position and runs to the end again;
 * false with why when the two suffixes differ in trace bytes or summary or a step fails. vm is
 * then at the rerun's end. true without a snapshot. */
bool fz_hvt_snap_rerun(hvsim_vm *vm, const struct fz_hvt_snap *sn, struct fz_trace *t, char *why,
                       size_t cap);
void fz_hvt_snap_free(struct fz_hvt_snap *sn);
/* The same on a fresh VM of sc, snapshotted after at slices (when it is still running then). */
bool fz_hvt_snapshot_rerun(const struct hvsim_scenario *sc, unsigned at, char *why, size_t cap);

#endif
