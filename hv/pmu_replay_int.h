/* Private declarations of the "pmu-replay" algorithm (hv/pmu_replay*.c), shared with the
 * fuzz_pmu_msr harness (fuzz/fz_pmu*.c) and the tests, so that the harness and a replayed run
 * execute one copy of everything: the machine, the operation executor and the named PMU
 * invariants.
 *
 * The machine. One PMU model (include/hvsim/pmu.h) of a configuration the owner loads, its state
 * before the current operation and one snapshot slot. It is private to its owner, not the
 * engine's vCPU PMU: a fuzz finding is about the operation outcomes on this exact model, with
 * operations (counts at any CPL, RDPMC with any CR4.PCE, snapshots) no guest script can perform.
 *
 * Invariants. pmu_replay_inv_* are pure functions over const state, true when the rule holds,
 * otherwise false with what broke in why; pmu_replay_execute runs every one that applies after an
 * operation and names the first broken one (the names fuzz findings and the run's
 * invariant_violation findings carry). */
#ifndef HVSIM_PMU_REPLAY_INT_H
#define HVSIM_PMU_REPLAY_INT_H

#include "replay.h"

#include <hvsim/pmu.h>
#include <hvsim/trace.h>

#define PMU_REPLAY_WHY_MAX 384 /* bytes of a violation's description */

/* The operations, in the fuzz byte order (fuzz/fz_pmu_ops.c). */
enum pmu_replay_op_kind {
	PMU_REPLAY_RDMSR,    /* msr */
	PMU_REPLAY_WRMSR,    /* msr, value */
	PMU_REPLAY_RDPMC,    /* ecx (in msr), cpl, CR4.PCE */
	PMU_REPLAY_COUNT,    /* event, cpl, n (in value) */
	PMU_REPLAY_SNAPSHOT, /* copy the PMU */
	PMU_REPLAY_RESTORE,  /* go back to the copy (nothing without one) */
	PMU_REPLAY_RESET,    /* RESET (pmu_reset) */
	PMU_REPLAY_OP_COUNT
};

/* One operation. sub and ctr are the fuzz decoder's: a count "to the wrap of counter ctr" (sub 4)
 * is resolved to a concrete n before it runs (fz_pmu_resolve); the executor ignores both. */
struct pmu_replay_op {
	uint8_t kind;   /* enum pmu_replay_op_kind */
	uint8_t cpl;    /* RDPMC, COUNT: privilege level 0-3 */
	bool pce;       /* RDPMC: CR4.PCE */
	uint8_t event;  /* COUNT: enum pmu_event */
	uint8_t sub;    /* COUNT (decoder): 4 = to a wrap (unresolved) */
	uint8_t ctr;    /* COUNT sub 4 (decoder): counter (bit 3: fixed) */
	uint32_t msr;   /* RDMSR, WRMSR: MSR; RDPMC: ECX */
	uint64_t value; /* WRMSR value; COUNT: n */
};

/* What happened over a run, for the seed tests and the determinism hash. */
struct pmu_replay_stats {
	unsigned gp;        /* accesses that raised #GP */
	unsigned writes;    /* WRMSRs that took effect */
	unsigned rdpmc;     /* RDPMCs that returned a counter */
	unsigned overflows; /* counter wraps (status bits set by counting) */
	unsigned pmis;      /* counts that requested a PMI */
	unsigned restores;  /* snapshots restored */
};

/* What one operation did, and the first invariant it broke. */
struct pmu_replay_step {
	enum pmu_access access;
	bool none;        /* RESTORE without a snapshot: nothing happened */
	uint64_t value;   /* a read's result */
	unsigned width;   /* bits of the counter a read returned, 0 for other reads */
	uint64_t counted; /* status bits the operation's counting reported */
	uint64_t set;     /* status bits it may have set otherwise (STATUS_SET, restore) */
	uint64_t cleared; /* status bits a reset write must have cleared */
	struct pmu_count_result res;
	const char *bad; /* the broken invariant's name, NULL when all hold */
	char why[PMU_REPLAY_WHY_MAX];
};

struct pmu_replay_machine {
	struct pmu *pmu;    /* the model under test */
	struct pmu *before; /* its state before the current operation */
	struct pmu *snap;   /* the snapshot */
	bool snap_taken;    /* snap holds a snapshot taken since the last load */
	struct pmu_replay_stats stats;
	uint64_t hash; /* FNV-1a of every observable result since the last load */
	/* Optional (tests): called after every operation with what ran and its step. */
	void (*log)(void *ctx, const struct pmu_replay_op *op, const struct pmu_replay_step *st);
	void *log_ctx;
};

/* ---- The machine and its executor (pmu_replay_exec.c) ---- */

/* Allocates the machine's PMUs. HVSIM_E_NOMEM when out of memory (m is then zeroed; destroy is
 * still safe). */
enum hvsim_status pmu_replay_machine_create(struct pmu_replay_machine *m);
/* Frees what create made; safe on a zeroed or failed machine. */
void pmu_replay_machine_destroy(struct pmu_replay_machine *m);
/* Puts the machine's PMU in pristine's state (its RESET state of a configuration), forgets the
 * snapshot, statistics and hash. Can't fail. */
void pmu_replay_load(struct pmu_replay_machine *m, const struct pmu *pristine);
/* The same from a configuration. HVSIM_E_INPUT for an invalid cfg, HVSIM_E_NOMEM when out of
 * memory; the machine is unchanged then. */
enum hvsim_status pmu_replay_load_config(struct pmu_replay_machine *m,
                                         const struct pmu_config *cfg);
/* The operation's name ("wrmsr"), or "?". Can't fail. */
const char *pmu_replay_op_name(unsigned kind);
/* Executes op on m, then the model's check, counter_width, global_status and the invariants of
 * op's kind (*st; st->bad names the first broken one); mixes the results into m->hash and calls
 * m->log. Can't fail: an unknown kind runs as RESET. */
void pmu_replay_execute(struct pmu_replay_machine *m, const struct pmu_replay_op *op,
                        struct pmu_replay_step *st);

/* ---- Host events and trace lines (pmu_replay_events.c) ---- */

/* What one host event amounts to once parsed. */
enum pmu_replay_act_kind {
	PMU_REPLAY_ACT_PART, /* a part of an operation or configuration: nothing to do yet */
	PMU_REPLAY_ACT_LOAD, /* load cfg */
	PMU_REPLAY_ACT_OP,   /* execute op */
};

struct pmu_replay_action {
	uint8_t kind; /* enum pmu_replay_act_kind */
	struct pmu_config cfg;
	struct pmu_replay_op op;
};

/* The parser's state between events: zero-initialize it before the first. */
struct pmu_replay_parser {
	uint8_t want;          /* the part the next event must be (0: any action) */
	bool loaded;           /* pmu_load seen */
	struct pmu_config cfg; /* the configuration being assembled */
	struct pmu_replay_op op;
};

/* Takes the next host event. NULL and *out when it is valid (ACT_PART while an operation is
 * incomplete); otherwise a static string saying what is wrong with it (p is then unspecified). */
const char *pmu_replay_parse(struct pmu_replay_parser *p, const char *action, uint64_t arg,
                             struct pmu_replay_action *out);
/* After the last event: NULL, or why the events cannot end here. */
const char *pmu_replay_parse_end(const struct pmu_replay_parser *p);
/* The trace line of one executed operation (ev "pmu_op", docs/trace-format.md). Strings are
 * borrowed from static tables. Can't fail. */
void pmu_replay_trace_op(struct trace_ev *e, uint64_t t, int32_t vcpu,
                         const struct pmu_replay_op *op, const struct pmu_replay_step *st);
/* The trace line of a configuration load (ev "pmu_op", op "load"). Can't fail. */
void pmu_replay_trace_load(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct pmu_config *cfg);
/* The host events that load cfg, in order: fn(ctx, action, arg) for each. Can't fail. */
void pmu_replay_config_events(const struct pmu_config *cfg,
                              void (*fn)(void *ctx, const char *action, uint64_t arg), void *ctx);
/* The host events of op, in order (a count's sub/ctr must be resolved). Can't fail. */
void pmu_replay_op_events(const struct pmu_replay_op *op,
                          void (*fn)(void *ctx, const char *action, uint64_t arg), void *ctx);

/* ---- The algorithm's state (pmu_replay.c) ---- */

struct pmu_replay {
	struct pmu_replay_machine m;
	struct pmu_replay_parser parser;
	unsigned ops;          /* operations executed since the last load */
	struct replay_run run; /* events taken, the first broken invariant, a refusal */
};

/* ---- Named invariants (pmu_replay_inv.c) ---- */

/* The width in bits of the counter msr names on a PMU of cfg (IA32_PMCx, IA32_A_PMCx,
 * IA32_FIXED_CTRx, AMD PERF_CTRn), 0 for any other MSR or a counter cfg lacks. Pure. */
unsigned pmu_replay_msr_counter_width(const struct pmu_config *cfg, uint32_t msr);
/* "counter_width": every counter holds no bit beyond its width (CPUID.0AH:EAX[23:16], EDX[12:5];
 * AMD 48 bits), and so does a value a counter read returned (value_width 0: no read). */
bool pmu_replay_inv_counter_width(const struct pmu *p, uint64_t value, unsigned value_width,
                                  char *why, size_t cap);
/* "rdpmc_matches_msr": an RDPMC faulted exactly when SDM Vol. 2B RDPMC says (CPL > 0 with
 * CR4.PCE clear, no such counter), and otherwise returned what RDMSR of that counter's MSR
 * returns. */
bool pmu_replay_inv_rdpmc(const struct pmu *p, uint32_t ecx, unsigned cpl, bool pce,
                          enum pmu_access got, uint64_t value, char *why, size_t cap);
/* "global_status": status bits that appeared in an operation are counter overflows it reported
 * (counted) or bits written to STATUS_SET (set); bits written to STATUS_RESET / GlobalStatusClr
 * (cleared) are clear; none names a counter that does not exist. */
bool pmu_replay_inv_status(const struct pmu *before, const struct pmu *after, uint64_t counted,
                           uint64_t set, uint64_t cleared, char *why, size_t cap);
/* "count_advances_by_n": after n events every counter is unchanged or advanced by n modulo its
 * width, only an enabled counter advanced (EN or a fixed OS/USR bit, and the global enable), a
 * counter that wrapped has its status bit set (where the status MSR exists), and the reported
 * overflow bits are counters that wrapped. */
bool pmu_replay_inv_count(const struct pmu *before, const struct pmu *after, uint64_t n,
                          const struct pmu_count_result *res, char *why, size_t cap);
/* "wrmsr_gp_no_effect" (and reads): an access that faulted, any RDMSR and any RDPMC left every
 * state byte as it was. */
bool pmu_replay_inv_no_effect(const struct pmu *before, const struct pmu *after, char *why,
                              size_t cap);
/* "rdmsr_wrmsr_roundtrip": after a WRMSR that took effect, RDMSR of a read-write MSR returns the
 * value written, as that MSR stores it (IA32_PMCx sign-extended from bit 31, AMD counters cut to
 * 48 bits); the write-only status reset/set MSRs read 0. */
bool pmu_replay_inv_roundtrip(const struct pmu *p, uint32_t msr, uint64_t written, char *why,
                              size_t cap);
/* "snapshot_equal": two PMUs are the same, every state byte. */
bool pmu_replay_inv_same(const struct pmu *a, const struct pmu *b, char *why, size_t cap);

#endif
