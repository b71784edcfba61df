/* fuzz_tdx_seamcall's machine and operations: a TDX module model (include/hvsim/tdx.h) with 1-8
 * LPs in 1-4 packages over 32-256 pages, driven by SEAMCALLs from any LP (a leaf from the table or
 * raw RAX, operands shaped from the model's state: pages, free pages, the TDR/TDVPR pages it
 * created, GPAs and levels, HKIDs, metadata field ids, or raw), TDCALLs from the vCPU an LP runs,
 * asynchronous TD exits, and "the usual next step" of KVM's TD build or teardown so that inputs
 * reach deep states. One decoder (fz_tdx_decode) with its inverse (fz_tdx_encode) for the seeds;
 * the named invariants (tdx_replay_inv_*) are pure functions over the state before and after an
 * operation (hv/tdx_replay_inv.c, shared with the tdx-replay algorithm that replays exported
 * findings), usable from unit tests (tests/test_fuzz_tdx.c). docs/fuzzing.md "fuzz_tdx_seamcall".
 *
 * Input layout: two configuration bytes (fz_tdx_config), then operations: one byte choosing the
 * kind, then its fields in the order fz_tdx_decode reads them. */
#ifndef HVSIM_FUZZ_TDX_H
#define HVSIM_FUZZ_TDX_H

#include "fz_export.h"
#include "harness.h"

#include "../hv/tdx_replay_int.h"

#define FZ_TDX_OPS_MAX  96 /* operations one input may run */
#define FZ_TDX_WHY_MAX  384
#define FZ_TDX_GPA_BASE UINT64_C(0x100000) /* GPAs the shaped operands and the build use */
#define FZ_TDX_HKID0    32u                /* first private HKID; the global one */

enum fz_tdx_op_kind {
	FZ_TDX_SEAMCALL, /* lp leaf opnd[0..3] = RCX RDX R8 R9 */
	FZ_TDX_TDCALL,   /* lp leaf opnd[0..2] = RCX RDX R11 */
	FZ_TDX_EXIT,     /* lp: an external interrupt ends the TD running there */
	FZ_TDX_NEXT,     /* mode (0 build, 1 teardown) sel: KVM's next step for the sel-th TD */
	FZ_TDX_OP_COUNT
};

/* How an operand value is made concrete against the model when the operation runs. */
enum fz_tdx_shape {
	FZ_TDX_RAW,   /* v itself (8 bytes) */
	FZ_TDX_PAGE,  /* the HPA of page v % memory */
	FZ_TDX_FREE,  /* the v-th free (PT_NDA) page of the initialized TDMR */
	FZ_TDX_TDR,   /* the TDR of the v-th live TD */
	FZ_TDX_TDVPR, /* the TDVPR of the v-th vCPU */
	FZ_TDX_OWNED, /* the v-th page some TD owns */
	FZ_TDX_GPA,   /* FZ_TDX_GPA_BASE + (v & 15) pages, level (v >> 4) & 3, aligned to it */
	FZ_TDX_HKID,  /* private HKID v % (count + 1): one past the range included */
	FZ_TDX_FIELD, /* a metadata field id from the table */
	FZ_TDX_SMALL, /* v pages, in bytes */
	FZ_TDX_SHAPE_COUNT
};

struct fz_tdx_opnd {
	uint8_t shape; /* enum fz_tdx_shape */
	uint64_t v;    /* 8 bytes for RAW, else 2 */
};

struct fz_tdx_op {
	uint8_t kind;  /* enum fz_tdx_op_kind */
	uint8_t lp;    /* taken modulo TDX_LP_MAX: an LP past the configured ones is #UD */
	uint8_t mode;  /* FZ_TDX_NEXT: 0 build, 1 teardown */
	uint8_t sel;   /* FZ_TDX_NEXT: which TD */
	uint64_t leaf; /* RAX: a table leaf or raw */
	struct fz_tdx_opnd opnd[4];
};

/* What happened over a run: seed tests check these; the determinism hash covers them. */
struct fz_tdx_stats {
	unsigned ok;        /* SEAMCALLs and TDCALLs with TDX_SUCCESS */
	unsigned failed;    /* with an error status */
	unsigned ready;     /* operations after which the module was SYS_READY */
	unsigned created;   /* TDH.MNG.CREATE that succeeded */
	unsigned finalized; /* TDH.MR.FINALIZE that succeeded */
	unsigned entered;   /* TDH.VP.ENTER that succeeded */
	unsigned exits;     /* TD exits (TDCALL, EPT violation, interrupt) */
	unsigned accepted;  /* TDG.MEM.PAGE.ACCEPT that mapped a page */
	unsigned removed;   /* TDH.MEM.PAGE.REMOVE that succeeded */
	unsigned freed;     /* TDH.MNG.KEY.FREEID that succeeded */
	unsigned reclaimed; /* TDR pages reclaimed (whole TDs gone) */
};

/* Told of every call an input executes, with its concrete registers and outcome (the export
 * writes each as host events, the tests compare them with a replayed run's trace). */
typedef void (*fz_tdx_log_fn)(void *ctx, const struct tdx_replay_step *step);

struct fz_tdx_sys {
	struct tdx_replay_machine mc; /* the model, its state before the call, the vCPU-LP map */
	struct tdx_config cfg;        /* the configuration of the running input */
	fz_tdx_log_fn log;            /* NULL: nobody is told */
	void *log_ctx;
	struct fz_tdx_stats stats;
	uint64_t hash;
	const char *bad; /* the first violation: invariant name, NULL */
	char why[FZ_TDX_WHY_MAX];
};

struct fz_tdx_outcome {
	uint64_t hash;
	unsigned ops;
	const char *kind; /* the first finding's invariant, NULL */
	char why[FZ_TDX_WHY_MAX + 64];
};

/* The configuration bytes: b0 bits 2:0 LPs - 1, bits 4:3 packages - 1 (at most the LPs); b1 bits
 * 1:0 memory 32 << n pages, bits 3:2 TDCS pages - 1, bits 5:4 TDVPS pages - 1, bit 6 two private
 * HKIDs instead of eight. Can't fail. */
void fz_tdx_config(uint8_t b0, uint8_t b1, struct tdx_config *c);
/* Allocates the machine (two module models). HVSIM_E_NOMEM; fz_tdx_destroy is safe after. */
enum hvsim_status fz_tdx_create(struct fz_tdx_sys *s);
/* Frees what fz_tdx_create made; safe on a failed one. */
void fz_tdx_destroy(struct fz_tdx_sys *s);

/* The kind's name ("seamcall"), or "?". Can't fail. */
const char *fz_tdx_op_name(uint8_t kind);
/* Decodes the next operation. Can't fail. */
void fz_tdx_decode(struct fz_in *in, struct fz_tdx_op *op);
/* Writes the bytes fz_tdx_decode reads back as op. */
void fz_tdx_encode(struct fz_out *o, const struct fz_tdx_op *op);
/* The concrete value of an operand against the model now. Pure. */
uint64_t fz_tdx_resolve(const struct tdx_module *m, const struct fz_tdx_opnd *x);
/* The page (HPA) that is the n-th, cyclically, free (PT_NDA in the usable TDMR) page, or when
 * owned the n-th page some TD owns; page n when there is none. Pure (fz_tdx_scan.c). */
uint64_t fz_tdx_nth_page(const struct tdx_module *m, uint64_t n, bool owned);
/* The TDR (or, when tdvpr, a vCPU's TDVPR) of the n-th live TD (vCPU), cyclically; page n when
 * there is none. Pure. */
uint64_t fz_tdx_nth_td_page(const struct tdx_module *m, uint64_t n, bool tdvpr);
/* The first page TD slot td owns besides its TDR, UINT32_MAX when none. Pure. */
uint32_t fz_tdx_first_child(const struct tdx_module *m, unsigned td);
/* The next step's own reads of the Secure EPT and the LPs, as the model's tdx_sept_walk,
 * tdx_sept_leaf and tdx_vcpu_running answer them, kept here so that the model's instrumented code
 * runs only for the calls (its edges and comparisons are the fuzzer's signal). Pure. */
bool fz_tdx_sept_walk(const struct tdx_module *m, unsigned td, uint64_t gpa, unsigned level);
bool fz_tdx_sept_mapped(const struct tdx_module *m, unsigned td, uint64_t gpa);
bool fz_tdx_vcpu_running(const struct tdx_module *m, unsigned td, unsigned v);
/* KVM's next step for the sel-th TD (build: init the module, create, keys, TDCS, init, vCPU,
 * Secure EPT, page, finalize, enter; teardown: exit, flush, flushdone, write-back, freeid,
 * reclaim) as a SEAMCALL on the right LP: regs and lp. False when there is nothing to do. Pure. */
bool fz_tdx_next(const struct tdx_module *m, uint8_t mode, uint8_t sel, unsigned *lp,
                 struct tdx_regs *r);
/* Runs op (a SEAMCALL, TDCALL or exit with its operands made concrete, through the tdx-replay
 * executor) and checks every invariant after it (a violation sets s->bad). Can't fail. */
void fz_tdx_execute(struct fz_tdx_sys *s, const struct fz_tdx_op *op);
/* Decodes data and runs it on a fresh model of its configuration, stopping at the first
 * finding. Can't fail: a model that cannot be created is the finding "setup". */
void fz_tdx_run(struct fz_tdx_sys *s, const uint8_t *data, size_t size, struct fz_tdx_outcome *o);

/* ---- Export (fz_tdx_export.c) ---- */
/* The scenario of an input (docs/fuzzing.md "fuzz_tdx_seamcall"): runs it on s, writing its
 * configuration and every call as tdx-replay host events; *o is the harness's outcome. NULL when
 * out of memory. */
fz_scn *fz_tdx_export_scenario(struct fz_tdx_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_tdx_outcome *o);

/* ---- Seeds (fz_tdx_seeds.c) ---- */
struct fz_tdx_seed {
	const char *name;
	uint8_t cfg[2];
	const struct fz_tdx_op *ops;
	size_t n_ops;
	struct fz_tdx_stats wants; /* each counter must reach at least this */
};
/* Number of seeds, and the i-th (NULL past the end). Can't fail. */
size_t fz_tdx_seed_count(void);
const struct fz_tdx_seed *fz_tdx_seed_at(size_t i);
/* The seed's input bytes; 0 when they do not fit in cap. */
size_t fz_tdx_seed_bytes(const struct fz_tdx_seed *seed, uint8_t *buf, size_t cap);

#endif
