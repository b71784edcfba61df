/* The operations of fuzz_lapic_ioapic: the byte decoder (one operation per step), its inverse (the
 * encoder the seed generator and the round-trip tests use), the executor that runs an operation on
 * the interrupt system of fz_apic.h and checks every invariant after it, and the export mapping of
 * each operation to a scenario action or event (docs/fuzzing.md "Export mapping"). The decoder is
 * the only one: the harness, the export and the tests all go through fz_apic_run.
 *
 * Input layout: two configuration bytes (fz_apic_config_from), then operations; each starts with
 * one byte choosing the kind (fz_choose over FZ_APIC_OP_COUNT), then, for operations on one LAPIC,
 * a byte choosing it, then the operands in the order fz_apic_ops.c decodes them. */
#ifndef HVSIM_FUZZ_APIC_OPS_H
#define HVSIM_FUZZ_APIC_OPS_H

#include "fz_apic.h"
#include "fz_export.h"
#include "harness.h"

#define FZ_APIC_OPS_MAX 256 /* operations one input may run */

enum fz_apic_op_kind {
	FZ_APIC_MMIO_READ,  /* cpu reg size: xAPIC MMIO read */
	FZ_APIC_MMIO_WRITE, /* cpu reg size value */
	FZ_APIC_MSR_READ,   /* cpu reg: RDMSR */
	FZ_APIC_MSR_WRITE,  /* cpu reg sub value: WRMSR (sub 2: value is TSC - 0x100 + value) */
	FZ_APIC_BASE,       /* cpu sub [value]: IA32_APIC_BASE transition (base_for) */
	FZ_APIC_ACCEPT,     /* cpu irq: a message reaches the LAPIC (lapic_accept) */
	FZ_APIC_ACK,        /* cpu: INTA */
	FZ_APIC_EOI,        /* cpu sub: EOI by API (0), xAPIC register (1), x2APIC MSR (2) */
	FZ_APIC_IPI,        /* cpu irq shorthand dest: an ICR write */
	FZ_APIC_MSI,        /* irq dest: a message from the platform, routed */
	FZ_APIC_IO_READ,    /* reg size: I/O APIC MMIO read */
	FZ_APIC_IO_WRITE,   /* reg size value */
	FZ_APIC_IO_RTE,     /* pin value hi: program an entry (high dword, then low) */
	FZ_APIC_IO_LINE,    /* pin sub: set_irq low/high (0/1), assert_irq off/on (2/3) */
	FZ_APIC_IO_EOI,     /* vector: an EOI message reaches the I/O APIC */
	FZ_APIC_LVT_FIRE,   /* cpu which: a local source fires */
	FZ_APIC_ADVANCE,    /* sub value: time passes (sub 1: to the next deadline + value - 1) */
	FZ_APIC_TSC_OFFSET, /* cpu sub value: TSC offset (sub 1: 0; 2: guest TSC value; 3:
	                       value<<32) */
	FZ_APIC_SNAPSHOT,   /* copy the system */
	FZ_APIC_RESTORE,    /* go back to the copy (nothing without one) */
	FZ_APIC_CR8,        /* cpu value: MOV to CR8 */
	FZ_APIC_INIT,       /* cpu sub: INIT (0) or RESET (1) */
	FZ_APIC_VIRT,       /* cpu sub value: hypervisor sets TPR (0) or posts vector value (1) */
	FZ_APIC_EVENTS,     /* cpu value: the owner consumes LAPIC_EV_* bits */
	FZ_APIC_OP_COUNT
};

/* One decoded operation. Operands that depend on the state are resolved just before execution
 * (fz_apic_resolve), so the export sees concrete values. */
struct fz_apic_op {
	uint8_t kind;   /* enum fz_apic_op_kind */
	uint8_t cpu;    /* LAPIC index, < n_cpus */
	uint8_t size;   /* access size, bytes */
	uint8_t sub;    /* variant of the operation */
	uint32_t reg;   /* MMIO offset, MSR index, pin, LVT entry */
	uint64_t value; /* written value, time delta (ns), vector */
	uint64_t hi;    /* I/O APIC RTE high dword */
	struct lapic_irq irq;
};

/* The kind's name ("mmio_read"), or "?" Can't fail. */
const char *fz_apic_op_name(uint8_t kind);
/* Decodes the next operation. Can't fail (input that runs out reads as zeros). */
void fz_apic_decode(struct fz_in *in, unsigned n_cpus, struct fz_apic_op *op);
/* Writes the bytes fz_apic_decode reads back as op (o->overflow when they do not fit). Values
 * the decoder builds from fields are written raw; the decoded op then has the same effect. */
void fz_apic_encode(struct fz_out *o, const struct fz_apic_op *op);
/* Makes state-dependent operands concrete (APIC base values, deadlines). Can't fail. */
void fz_apic_resolve(const struct fz_apic_sys *s, struct fz_apic_op *op);
/* Runs op and checks what it did (op-level invariants flag s->bad). Can't fail. */
void fz_apic_execute(struct fz_apic_sys *s, struct fz_apic_snap *snap, const struct fz_apic_op *op);

/* Maps operations to a scenario (fz_export.h) while they run. */
struct fz_apic_export {
	fz_scn *scn;
	const char *no_form; /* why an operation has no scenario form; NULL while all have */
	unsigned no_form_at; /* its index */
};

/* Appends op's scenario form; records the first operation that has none. Can't fail. */
void fz_apic_export_op(struct fz_apic_export *x, const struct fz_apic_sys *s,
                       const struct fz_apic_op *op, unsigned index);
/* Writes the machine the scenario needs (algorithm, vCPUs, I/O APIC, timing, limits). Can't
 * fail (the builder remembers an allocation failure for fz_scn_write). */
void fz_apic_export_machine(struct fz_apic_export *x, const struct fz_apic_sys *s);

/* The outcome of one run. */
struct fz_apic_outcome {
	uint64_t hash;    /* determinism hash of every result */
	unsigned ops;     /* operations run */
	const char *kind; /* first finding's invariant name, NULL if none */
	char why[FZ_APIC_WHY_MAX + 64];
};

/* Decodes data and runs it on s (loaded here from data's configuration), checking every
 * invariant after each operation and stopping at the first finding; x, when not NULL, maps each
 * operation to a scenario. Can't fail: out of memory is the finding "out_of_memory". */
void fz_apic_run(struct fz_apic_sys *s, struct fz_apic_snap *snap, const uint8_t *data, size_t size,
                 struct fz_apic_outcome *out, struct fz_apic_export *x);

#endif
