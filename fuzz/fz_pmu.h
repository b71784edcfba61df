/* fuzz_pmu_msr's machine and operations: one PMU model (include/hvsim/pmu.h) of a profile the
 * configuration byte chooses, driven by RDMSR/WRMSR of its MSRs, RDPMC, event counts the owner
 * reports, resets and snapshots. The decoder (fz_pmu_decode) is the only one: the harness, its
 * export and the tests all go through fz_pmu_run; its inverse (fz_pmu_encode) writes the seeds.
 * The named invariants (fz_inv_pmu_*, fz_pmu_inv.c) are pure functions usable from unit tests
 * (tests/test_fuzz_pmu.c): true when they hold, otherwise why (cap bytes) says what broke.
 *
 * Input layout: one configuration byte (fz_pmu_config_from), then operations; each starts with one
 * byte choosing the kind (fz_choose over FZ_PMU_OP_COUNT), then its operands in the order
 * fz_pmu_ops.c decodes them. */
#ifndef HVSIM_FUZZ_PMU_H
#define HVSIM_FUZZ_PMU_H

#include "fz_export.h"
#include "harness.h"

#include <hvsim/pmu.h>

#define FZ_PMU_OPS_MAX  256 /* operations one input may run */
#define FZ_PMU_WHY_MAX  384 /* bytes of a violation's description */
#define FZ_PMU_VARIANTS 4   /* variations of a profile (fz_pmu_config_from) */
#define FZ_PMU_PROFILES 8   /* profiles the configuration byte can name, at most */

enum fz_pmu_op_kind {
	FZ_PMU_RDMSR,    /* msr */
	FZ_PMU_WRMSR,    /* msr, value (raw or shaped, see fz_pmu_ops.c) */
	FZ_PMU_RDPMC,    /* ecx, cpl, CR4.PCE */
	FZ_PMU_COUNT,    /* event, cpl, n (sub 4: up to counter `ctr`'s wrap + extra) */
	FZ_PMU_SNAPSHOT, /* copy the PMU */
	FZ_PMU_RESTORE,  /* go back to the copy (nothing without one) */
	FZ_PMU_RESET,    /* RESET (pmu_reset) */
	FZ_PMU_OP_COUNT
};

/* One decoded operation. A count "to the wrap of counter ctr" is resolved just before it runs
 * (fz_pmu_resolve), so that what runs, and what the encoder writes, is a concrete count. */
struct fz_pmu_op {
	uint8_t kind;   /* enum fz_pmu_op_kind */
	uint8_t cpl;    /* RDPMC, COUNT: privilege level 0-3 */
	bool pce;       /* RDPMC: CR4.PCE */
	uint8_t event;  /* COUNT: enum pmu_event */
	uint8_t sub;    /* COUNT: 4 = to a wrap (unresolved) */
	uint8_t ctr;    /* COUNT sub 4: counter (bit 3: fixed) */
	uint32_t msr;   /* RDMSR, WRMSR: MSR; RDPMC: ECX */
	uint64_t value; /* WRMSR value; COUNT: n (sub 4: extra beyond the all-ones value) */
};

/* What happened over a run, for the seed tests and the determinism hash. */
struct fz_pmu_stats {
	unsigned gp;        /* accesses that raised #GP */
	unsigned writes;    /* WRMSRs that took effect */
	unsigned rdpmc;     /* RDPMCs that returned a counter */
	unsigned overflows; /* counter wraps (status bits set by counting) */
	unsigned pmis;      /* counts that requested a PMI */
	unsigned restores;  /* snapshots restored */
};

struct fz_pmu_sys {
	struct pmu *pmu;    /* the model under test */
	struct pmu *before; /* its state before the current operation */
	struct pmu *snap;   /* the snapshot */
	bool snap_taken;    /* snap holds a snapshot of this input */
	struct pmu *pristine[FZ_PMU_PROFILES * FZ_PMU_VARIANTS]; /* RESET state, made once */
	struct fz_pmu_stats stats;
	uint64_t hash; /* FNV-1a of every observable result */
};

struct fz_pmu_outcome {
	uint64_t hash;    /* determinism hash of every result */
	unsigned ops;     /* operations run */
	const char *kind; /* first finding's invariant name, NULL if none */
	char why[FZ_PMU_WHY_MAX + 64];
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

/* The kind's name ("wrmsr"), or "?". Can't fail. */
const char *fz_pmu_op_name(uint8_t kind);
/* Decodes the next operation for a PMU of cfg. Can't fail (input that runs out reads as zeros).
 */
void fz_pmu_decode(struct fz_in *in, const struct pmu_config *cfg, struct fz_pmu_op *op);
/* Writes the bytes fz_pmu_decode reads back as op (o->overflow when they do not fit); shaped
 * values are written raw, so the decoded op has the same effect. */
void fz_pmu_encode(struct fz_out *o, const struct fz_pmu_op *op);
/* Makes a count "to the wrap of counter ctr" concrete against the current state. Can't fail. */
void fz_pmu_resolve(const struct pmu *p, struct fz_pmu_op *op);

/* Maps operations to a scenario for the kvm algorithm's vPMU (fz_pmu_export.c) while they run. */
struct fz_pmu_export {
	fz_scn *scn;
	const char *no_form;   /* why an operation has no scenario form; NULL while all have */
	unsigned no_form_at;   /* its index */
	uint64_t instructions; /* instructions the script's compute actions retire */
};

/* Appends op's scenario form (p: the PMU it runs on); records the first operation that has none.
 * Can't fail. */
void fz_pmu_export_op(struct fz_pmu_export *x, const struct pmu *p, const struct fz_pmu_op *op,
                      unsigned index);
/* Writes the machine, limits and invariant oracle the scenario needs. Can't fail. */
void fz_pmu_export_machine(struct fz_pmu_export *x);

/* Decodes data and runs it, checking every invariant after each operation and stopping at the
 * first finding; x, when not NULL, maps each operation to a scenario. Can't fail: out of memory is
 * the finding "out_of_memory". */
void fz_pmu_run(struct fz_pmu_sys *s, const uint8_t *data, size_t size, struct fz_pmu_outcome *out,
                struct fz_pmu_export *x);

/* The width in bits of the counter msr names on a PMU of cfg (IA32_PMCx, IA32_A_PMCx,
 * IA32_FIXED_CTRx, AMD PERF_CTRn), 0 for any other MSR or a counter cfg lacks. Pure. */
unsigned fz_pmu_msr_counter_width(const struct pmu_config *cfg, uint32_t msr);

/* ---- Named invariants ---- */

/* "counter_width": every counter holds no bit beyond its width (CPUID.0AH:EAX[23:16], EDX[12:5];
 * AMD 48 bits), and so does a value a counter read returned (value_width 0: no read). */
bool fz_inv_pmu_counter_width(const struct pmu *p, uint64_t value, unsigned value_width, char *why,
                              size_t cap);
/* "rdpmc_matches_msr": an RDPMC faulted exactly when SDM Vol. 2B RDPMC says (CPL > 0 with
 * CR4.PCE clear, no such counter), and otherwise returned what RDMSR of that counter's MSR
 * returns. */
bool fz_inv_pmu_rdpmc(const struct pmu *p, uint32_t ecx, unsigned cpl, bool pce,
                      enum pmu_access got, uint64_t value, char *why, size_t cap);
/* "global_status": status bits that appeared in an operation are counter overflows it reported
 * (counted) or bits written to STATUS_SET (set); bits written to STATUS_RESET / GlobalStatusClr
 * (cleared) are clear; none names a counter that does not exist. */
bool fz_inv_pmu_status(const struct pmu *before, const struct pmu *after, uint64_t counted,
                       uint64_t set, uint64_t cleared, char *why, size_t cap);
/* "count_advances_by_n": after n events every counter is unchanged or advanced by n modulo its
 * width, only an enabled counter advanced (EN or a fixed OS/USR bit, and the global enable), a
 * counter that wrapped has its status bit set (where the status MSR exists), and the reported
 * overflow bits are counters that wrapped. */
bool fz_inv_pmu_count(const struct pmu *before, const struct pmu *after, uint64_t n,
                      const struct pmu_count_result *res, char *why, size_t cap);
/* "wrmsr_gp_no_effect" (and reads): an access that faulted, any RDMSR and any RDPMC left every
 * state byte as it was. */
bool fz_inv_pmu_no_effect(const struct pmu *before, const struct pmu *after, char *why, size_t cap);
/* "rdmsr_wrmsr_roundtrip": after a WRMSR that took effect, RDMSR of a read-write MSR returns the
 * value written, as that MSR stores it (IA32_PMCx sign-extended from bit 31, AMD counters cut to
 * 48 bits); the write-only status reset/set MSRs read 0. */
bool fz_inv_pmu_roundtrip(const struct pmu *p, uint32_t msr, uint64_t written, char *why,
                          size_t cap);
/* "snapshot_equal": two PMUs are the same, every state byte. */
bool fz_inv_pmu_same(const struct pmu *a, const struct pmu *b, char *why, size_t cap);

#endif
