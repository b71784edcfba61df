/* The interrupt system fuzz_lapic_ioapic drives: up to FZ_APIC_CPUS_MAX local APICs and one I/O
 * APIC wired as a platform wires them (IPIs and I/O APIC messages routed with lapic_route, LAPIC
 * EOI broadcasts sent to the I/O APIC), a virtual clock that fires timers, and snapshots. It also
 * holds the cross-model invariants (fz_inv_apic_*): each is a named pure function usable from unit
 * tests (tests/test_fuzz_apic.c) that returns true when it holds, otherwise writes what broke into
 * why and returns false. The invariants of one model alone are the model's own check functions
 * (lapic_check_invariants, ioapic_check_invariants); these are the ones that need the system, the
 * operation just done, or what the harness remembers between operations. */
#ifndef HVSIM_FUZZ_APIC_H
#define HVSIM_FUZZ_APIC_H

#include <hvsim/ioapic.h>
#include <hvsim/lapic.h>

#include <stdio.h>

#define FZ_APIC_CPUS_MAX   4
#define FZ_APIC_EXPIRE_MAX 64  /* timer expiries one time advance processes one by one */
#define FZ_APIC_WHY_MAX    512 /* bytes of a violation's description */
/* Largest virtual time: the engine's limit (clock.h SIM_NS_MAX), so exported scenarios can reach
 * it. */
#define FZ_APIC_NS_MAX ((UINT64_C(1) << 53) - 1)

/* The machine an input builds: chosen by its first byte (fz_apic_config_from). */
struct fz_apic_config {
	unsigned n_cpus;    /* 1..FZ_APIC_CPUS_MAX */
	bool x2apic;        /* CPUID x2APIC */
	bool directed_eoi;  /* LVR[24]: SVR[12] may suppress EOI broadcasts */
	bool cmci;          /* 7 LVT entries (max LVT 6) or 6 */
	bool tsc_deadline;  /* CPUID TSC-deadline */
	bool sparse_ids;    /* APIC IDs 0, 0x11, 0x20, 0x101 instead of 0..3 (needs x2apic) */
	bool lowest_ipi;    /* xAPIC may send lowest-priority IPIs */
	uint8_t io_version; /* 0x11 or 0x20 */
	uint32_t io_pins;   /* 24, 8, 1 or 120 */
};

/* What the harness remembers about one LAPIC between operations. */
struct fz_apic_track {
	/* Vectors whose IRR bit was set by an acceptance after the vector's last INTA: the only way
	 * a vector may sit in IRR and ISR at once (SDM 11.8.4). */
	uint32_t reaccepted[8];
	uint32_t irr[8], isr[8], tmr[8]; /* as they were after the previous operation */
};

/* What happened over a run, for seed tests and the determinism hash. */
struct fz_apic_stats {
	unsigned inta;        /* INTAs that dispensed a vector */
	unsigned eoi_bcast;   /* EOI broadcasts sent to the I/O APIC */
	unsigned io_msgs;     /* I/O APIC messages */
	unsigned ipis;        /* IPIs routed */
	unsigned timer_fires; /* timer expiries */
	unsigned accepted;    /* messages a LAPIC accepted */
	unsigned restores;    /* snapshots restored */
};

struct fz_apic_sys {
	struct fz_apic_config cfg;
	struct fz_apic_stats stats;
	struct lapic *cpu[FZ_APIC_CPUS_MAX];
	struct ioapic *io;
	uint64_t now_ns;                              /* virtual time, ns */
	struct fz_apic_track track[FZ_APIC_CPUS_MAX]; /* after the last operation (fz_apic_end) */
	struct fz_apic_track prev[FZ_APIC_CPUS_MAX];  /* before the current one (fz_apic_begin) */
	/* Per operation: */
	bool accepted[FZ_APIC_CPUS_MAX]; /* the LAPIC took a vector into IRR */
	bool touched[FZ_APIC_CPUS_MAX];  /* the LAPIC's state may have changed */
	bool io_touched;                 /* the I/O APIC's state may have changed */
	unsigned messages;               /* interrupt messages routed (budget) */
	/* The first violation an operation's glue found (checked while routing): kind, or NULL. */
	const char *bad;
	char why[FZ_APIC_WHY_MAX];
	uint64_t
	    hash; /* of every observable result (fz_apic_mix): the determinism check compares it */
	/* Each model as it was when its state invariants last passed (fz_apic_checked), valid until
	 * the next load or restore. The state invariants are pure functions of a model's bytes, the
	 * time and the tracking, and the tracking follows IRR, so an operation that left a model's
	 * bytes and the time as they were leaves those invariants as they were: fz_apic_end clears
	 * its touched flag and the checks skip it. */
	struct lapic *checked[FZ_APIC_CPUS_MAX];
	uint64_t checked_ns[FZ_APIC_CPUS_MAX]; /* the time of that check, ns */
	bool checked_valid[FZ_APIC_CPUS_MAX];
	struct ioapic *io_checked;
	bool io_checked_valid;
};

/* A snapshot of the whole system (models, clock, tracking). */
struct fz_apic_snap {
	bool taken;
	struct lapic *cpu[FZ_APIC_CPUS_MAX];
	struct ioapic *io;
	uint64_t now_ns;
	struct fz_apic_track track[FZ_APIC_CPUS_MAX];
};

/* Decodes a machine from two bytes. Can't fail. */
void fz_apic_config_from(uint16_t v, struct fz_apic_config *cfg);
/* Allocates the models of a system (FZ_APIC_CPUS_MAX LAPICs, one I/O APIC) and of its snapshot.
 * HVSIM_E_NOMEM when out of memory (the parts made are freed). */
enum hvsim_status fz_apic_create(struct fz_apic_sys *s, struct fz_apic_snap *snap);
/* Frees what fz_apic_create made; safe on a failed or zeroed system. */
void fz_apic_destroy(struct fz_apic_sys *s, struct fz_apic_snap *snap);
/* Puts the system in the RESET state of cfg at time 0: each model is copied from a pristine one
 * made once per configuration (lapic_copy, ioapic_copy), never re-created. HVSIM_E_NOMEM when a
 * pristine model cannot be made; the system is unusable then. */
enum hvsim_status fz_apic_load(struct fz_apic_sys *s, struct fz_apic_snap *snap,
                               const struct fz_apic_config *cfg);
/* a and b hold the same n bytes. Pure. Not memcmp: libFuzzer intercepts memcmp in the whole
 * process and records its operands for its dictionary, a cost paid on every operation and noise
 * for the mutator when the operands are model states. */
bool fz_apic_bytes_equal(const void *a, const void *b, size_t n);
/* Copies the system into snap, or snap back into the system. Can't fail. */
void fz_apic_snapshot(const struct fz_apic_sys *s, struct fz_apic_snap *snap);
void fz_apic_restore(struct fz_apic_sys *s, const struct fz_apic_snap *snap);

/* Starts an operation: clears the per-operation flags. Can't fail. */
void fz_apic_begin(struct fz_apic_sys *s);
/* Ends it: folds the operation's IRR/ISR changes into the tracking state (before the checks), and
 * clears the touched flag of every model whose bytes (and, for a LAPIC, the time) are those its
 * state invariants last passed on. Can't fail. */
void fz_apic_end(struct fz_apic_sys *s);
/* The state invariants of every touched model passed: remembers each as checked. Can't fail. */
void fz_apic_checked(struct fz_apic_sys *s);
/* Records a violation found by glue (the first one of an operation wins). Can't fail. */
void fz_apic_flag(struct fz_apic_sys *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mixes a result into the determinism hash. Can't fail. */
void fz_apic_mix(struct fz_apic_sys *s, uint64_t v);

/* The owner's part of a LAPIC operation on cpu i that returned res: routes its IPI, sends its EOI
 * broadcast to the I/O APIC, notes acceptances. Can't fail. */
void fz_apic_after_lapic(struct fz_apic_sys *s, unsigned i, const struct lapic_result *res);
/* The owner's part of an I/O APIC operation: checks and routes every message sent. Can't fail.
 */
void fz_apic_after_ioapic(struct fz_apic_sys *s, const struct ioapic_result *res);
/* Routes msg from APIC src (-1: I/O APIC or MSI) and delivers it to each destination; messages
 * past a per-operation budget are dropped. Can't fail. */
void fz_apic_deliver(struct fz_apic_sys *s, int src, const struct lapic_irq *msg);
/* Advances virtual time to now + delta_ns (capped at FZ_APIC_NS_MAX), firing every timer that
 * expires on the way in deadline order. Can't fail. */
void fz_apic_advance(struct fz_apic_sys *s, uint64_t delta_ns);
/* The earliest armed timer deadline, or false. Pure. */
bool fz_apic_next_deadline(const struct fz_apic_sys *s, uint64_t *ns);

/* ---- Named invariants: true when it holds; otherwise why (cap bytes) says what broke ---- */

/* "ppr_consistent": PPR as read is what SDM 11.8.3.1 derives from TPR and the highest ISR
 * vector, and the vector INTA would dispense is the highest IRR vector exactly when its priority
 * class is above PPR[7:4] (SDM 11.8.4). */
bool fz_inv_apic_ppr(const struct lapic *l, uint64_t now_ns, char *why, size_t cap);
/* "isr_one_per_class": at most one ISR bit per priority class. A vector is dispensed only above
 * PPR, which covers every class in service (SDM 11.8.3.1, 11.8.4), so nested interrupts climb
 * strictly. Holds while ISR changes only through INTA and EOI, as in the harness. */
bool fz_inv_apic_isr_one_per_class(const struct lapic *l, char *why, size_t cap);
/* "irr_isr_same_vector": a vector may be in IRR and ISR at once only as SDM 11.8.4 allows: "one in
 * the IRR and one in the ISR", i.e. the IRR bit was set by a second acceptance after the INTA that
 * moved the vector into ISR (t->reaccepted). INTA itself must clear the IRR bit. */
bool fz_inv_apic_irr_isr(const struct lapic *l, const struct fz_apic_track *t, char *why,
                         size_t cap);
/* "irr_only_by_acceptance": an IRR bit that was clear before the operation is set after it only
 * if the operation accepted an interrupt into this LAPIC (SDM 11.8.4: IRR holds accepted
 * interrupts). */
bool fz_inv_apic_irr_growth(const struct lapic *l, const struct fz_apic_track *t, bool accepted,
                            char *why, size_t cap);
/* "inta_dispenses_highest": an INTA that returned v (prev: the track before it) took the highest
 * IRR vector with class above PPR, moving it from IRR to ISR; a spurious INTA (SVR vector) found
 * nothing deliverable and changed neither register (SDM 11.8.4, 11.9). */
bool fz_inv_apic_inta(const struct lapic *l, const struct fz_apic_track *prev, uint32_t svr_vector,
                      int v, char *why, size_t cap);
/* "eoi_clears_highest_isr": an EOI cleared the highest ISR bit of prev (or none when ISR was
 * empty), and asked for an EOI broadcast only for a level-triggered vector (TMR set) with SVR[12]
 * clear (SDM 11.8.5). */
bool fz_inv_apic_eoi(const struct lapic *l, const struct fz_apic_track *prev,
                     const struct lapic_result *res, char *why, size_t cap);
/* "tmcct_le_tmict": the current count never exceeds the initial count, and reads 0 in
 * TSC-deadline mode (SDM 11.5.4, 11.5.4.1). */
bool fz_inv_apic_tmcct(const struct lapic *l, uint64_t now_ns, char *why, size_t cap);
/* "timer_deadline_ahead": once a timed operation at now_ns returned, an armed timer's deadline is
 * after now_ns: an expiry due at now has been delivered (SDM 11.5.4), so the owner's next timer
 * event is in the future and time always makes progress. */
bool fz_inv_apic_deadline_ahead(const struct lapic *l, uint64_t now_ns, char *why, size_t cap);
/* "tsc_deadline_not_early": a TSC-deadline expiry happens only when the guest TSC has reached the
 * deadline (SDM 11.5.4.1). deadline: IA32_TSC_DEADLINE before the expiry. */
bool fz_inv_apic_tsc_deadline_fire(const struct lapic *l, uint64_t deadline, uint64_t now_ns,
                                   char *why, size_t cap);
/* "remote_irr_level": every redirection entry with remote IRR set is level-triggered with fixed
 * or lowest-priority delivery (82093AA 3.2.4). */
bool fz_inv_apic_remote_irr(const struct ioapic *io, char *why, size_t cap);
/* "ioapic_msg_from_unmasked": an I/O APIC message comes from an existing, unmasked entry with a
 * defined delivery mode and carries that entry's vector, mode, destination and trigger mode; a
 * level-triggered message leaves remote IRR set and its input asserted (82093AA 3.2.4). Checked
 * against the entry as it is after the operation. */
bool fz_inv_apic_ioapic_msg(const struct ioapic *io, const struct ioapic_msg *m, char *why,
                            size_t cap);
/* "route_sane": lapic_route's set is within the n APICs, contains no globally disabled APIC, no
 * APIC but the sender for the self shorthand, not the sender for all-excluding-self, and at most
 * one APIC for lowest priority (SDM 11.6.2). */
bool fz_inv_apic_route(const struct lapic_dest_info *cpus, unsigned n, int src,
                       const struct lapic_irq *msg, const bool *dest, unsigned count, char *why,
                       size_t cap);
/* "counter_width": a value read fits its register: an MMIO read of size bytes fits size bytes;
 * x2APIC MSRs other than the 64-bit ICR fit 32 bits; IA32_APIC_BASE has no bits at or above
 * MAXPHYADDR and no reserved bits (SDM 11.4.4, 11.12.1.2). msr 0 means an MMIO read. */
bool fz_inv_apic_read_width(const struct lapic *l, uint32_t msr, unsigned size, uint64_t value,
                            char *why, size_t cap);
/* "ioapic_read_width": an I/O APIC read fits its access size, IOREGSEL reads fit 8 bits, and the
 * version register reads version | (pins - 1) << 16 (82093AA 3.1.1, 3.2.2). */
bool fz_inv_apic_ioapic_read(const struct ioapic *io, uint32_t offset, unsigned size,
                             uint32_t value, char *why, size_t cap);
/* "snapshot_equal": two LAPICs (a snapshot and its original) are the same: the registers computed
 * on read (TMCCT, APR, PPR), the timer deadline and the guest TSC as observed, every register of
 * the image, and every byte of state (a model holds no pointers, so its bytes are its state). */
bool fz_inv_apic_lapic_same(const struct lapic *a, const struct lapic *b, uint64_t now_ns,
                            char *why, size_t cap);
/* "snapshot_equal" for I/O APICs: every redirection entry and pin level, then every state byte. */
bool fz_inv_apic_ioapic_same(const struct ioapic *a, const struct ioapic *b, char *why, size_t cap);

/* Runs the state invariants of every touched model (model checks plus the fz_inv_apic_* that need
 * only state and tracking); on the first violation sets *kind and why and returns false. */
bool fz_apic_check_state(const struct fz_apic_sys *s, const char **kind, char *why, size_t cap);

#endif
