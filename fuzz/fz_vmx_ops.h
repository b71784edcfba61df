/* The operations of fuzz_vmcs_entry: the byte decoder, its inverse (for the seed generator and the
 * round-trip tests), the executor that runs each operation on the VMX machine of fz_vmx.h and
 * checks every invariant after it, and the export mapping to scenario host events
 * (docs/fuzzing.md "fuzz_vmcs_entry"). One decoder: the harness, the export and the tests all go
 * through fz_vmx_run.
 *
 * Input layout: one byte choosing the CPU profile (modulo fz_vmx_profile_count), then operations:
 * one byte choosing the kind (fz_choose over FZ_VMX_OP_COUNT), then its operands in the order
 * fz_vmx_ops.c decodes them. */
#ifndef HVSIM_FUZZ_VMX_OPS_H
#define HVSIM_FUZZ_VMX_OPS_H

#include "fz_export.h"
#include "fz_vmx.h"
#include "harness.h"

#define FZ_VMX_OPS_MAX 128 /* operations one input may run */

enum fz_vmx_op_kind {
	FZ_VMX_VMWRITE,  /* enc src value: VMWRITE (src: how the value is chosen, fz_vmx_resolve) */
	FZ_VMX_VMREAD,   /* enc */
	FZ_VMX_VMLAUNCH, /* (none) */
	FZ_VMX_VMRESUME, /* (none) */
	FZ_VMX_VMCLEAR,  /* value: the physical address */
	FZ_VMX_VMPTRLD,  /* value: the physical address */
	FZ_VMX_VMXOFF,   /* (none) */
	FZ_VMX_VMXON,    /* value: the physical address */
	FZ_VMX_VMPTRST,  /* (none) */
	FZ_VMX_MODE,     /* src value: change one pre-condition (enum vmx_replay_mode_change) */
	FZ_VMX_MEM,      /* src addr enc value: write simulated memory (enum fz_vmx_mem_target) */
	FZ_VMX_INVEPT,   /* enc (type) value addr (descriptor low, high) */
	FZ_VMX_INVVPID,  /* enc (type) value addr */
	FZ_VMX_OP_COUNT
};

/* Sources of a VMWRITE value (resolved against the machine, then raw). */
enum fz_vmx_value_src {
	FZ_VMX_SRC_RAW,     /* value as given */
	FZ_VMX_SRC_TABLE,   /* interesting value value % N for the field's width */
	FZ_VMX_SRC_FLIP,    /* the current value with bit value % 64 flipped */
	FZ_VMX_SRC_CONTROL, /* an allowed-0/allowed-1 boundary of the matching control MSR */
	FZ_VMX_SRC_FIXTURE, /* the known-good value */
	FZ_VMX_SRC_ADDRESS, /* an address: page-aligned below/above MAXPHYADDR, (non-)canonical */
	FZ_VMX_SRC_COUNT
};

/* FZ_VMX_MODE operations: src is an enum vmx_replay_mode_change (hv/vmx_replay_int.h). */

enum fz_vmx_mem_target {
	FZ_VMX_MEM_REVISION, /* the 32-bit revision word of the region at addr */
	FZ_VMX_MEM_MSR_LOAD, /* VM-entry MSR-load entry: addr = index k, enc = MSR, value = data */
	FZ_VMX_MEM_PDPTE,    /* PDPTE addr & 3 at the guest CR3 */
	FZ_VMX_MEM_RAW,      /* 8 bytes at addr */
	FZ_VMX_MEM_COUNT
};

struct fz_vmx_op {
	uint8_t kind; /* enum fz_vmx_op_kind */
	uint8_t src;  /* VMWRITE value source, mode change, memory target */
	uint64_t enc; /* VMCS field encoding; MSR index; INVEPT/INVVPID type */
	uint64_t value;
	uint64_t addr; /* memory address or index; INVEPT/INVVPID descriptor high quadword */
};

/* The kind's name ("vmwrite"), or "?". Can't fail. */
const char *fz_vmx_op_name(uint8_t kind);
/* Decodes the next operation. Can't fail. */
void fz_vmx_decode(struct fz_in *in, struct fz_vmx_op *op);
/* Writes the bytes fz_vmx_decode reads back as op (o->overflow when they do not fit). */
void fz_vmx_encode(struct fz_out *o, const struct fz_vmx_op *op);
/* Makes a VMWRITE value or a memory operand concrete for the machine now (src becomes RAW). */
void fz_vmx_resolve(const struct fz_vmx_sys *s, struct fz_vmx_op *op);
/* Runs op and checks every invariant after it (violations flag s->bad); an instruction's result
 * goes to *step (untouched for mode and memory operations). Can't fail. */
void fz_vmx_execute(struct fz_vmx_sys *s, const struct fz_vmx_op *op, struct vmx_replay_step *step);

/* Maps operations to a scenario while they run. */
struct fz_vmx_export {
	fz_scn *scn;
};

/* Appends op's host events; the machine (algorithm, profile, limits) at the end. Never fail:
 * the builder remembers an allocation failure for fz_scn_write. */
void fz_vmx_export_op(struct fz_vmx_export *x, const struct fz_vmx_op *op);
void fz_vmx_export_machine(struct fz_vmx_export *x, const struct fz_vmx_sys *s);

struct fz_vmx_outcome {
	uint64_t hash;
	unsigned ops;
	const char *kind; /* first finding's invariant name, NULL if none */
	char why[FZ_VMX_WHY_MAX + 64];
	char last_entry[160]; /* fz_vmx_describe_entry of the run's last VMLAUNCH/VMRESUME */
};

/* The scenario reproducing data (docs/fuzzing.md "fuzz_vmcs_entry", "Export"): vmx_fixture, the
 * host events of every operation run, the machine, oracles.invariants, and the expected
 * invariant_violation when the run found one (*o: the run's outcome). NULL when out of memory. */
fz_scn *fz_vmx_export_scenario(struct fz_vmx_sys *s, const uint8_t *data, size_t size,
                               uint64_t hash, struct fz_vmx_outcome *o);

/* One line for the last VMLAUNCH/VMRESUME: "entered", "VM-entry failure: exit reason 0x80000021,
 * qualification 4, from vmx_check_...", "VMfailValid (error 7) from ...", or "no VM entry". */
void fz_vmx_describe_entry(const struct fz_vmx_sys *s, char *buf, size_t cap);

/* Decodes data and runs it on s (loaded here with the fixture of data's profile), stopping at the
 * first finding; x, when not NULL, maps each operation. Can't fail: a machine that cannot be set
 * up is the finding "setup". */
void fz_vmx_run(struct fz_vmx_sys *s, const uint8_t *data, size_t size, struct fz_vmx_outcome *out,
                struct fz_vmx_export *x);
/* The same without formatting out->last_entry (left empty): the fuzzing loop's form, which
 * never reads it (fz_vmx_describe_entry formats it on demand). Can't fail. */
void fz_vmx_run_quiet(struct fz_vmx_sys *s, const uint8_t *data, size_t size,
                      struct fz_vmx_outcome *out, struct fz_vmx_export *x);

#endif
