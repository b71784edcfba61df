/* fuzz_hv_transitions: the kvm reference algorithm on the VMX model under a byte-coded stream of
 * guest actions and timed host/platform events (docs/fuzzing.md "fuzz_hv_transitions").
 *
 * An input decodes (fz_hvt_decode) into a machine configuration and a list of operations; the
 * builder (fz_hvt_build) turns them into a scenario through the reproducer builder of
 * fz_export.h: guest actions become actions of a scripted guest (or, for a code guest, x86
 * fragments assembled into guest.bytes by fz_hvt_code.c), timed events become irq_line, msi and
 * host events. The harness runs the scenario's JSON text through the real loader and the engine
 * (fz_hvt_run), so the exported reproducer is exactly what the harness ran. Checks: the engine's
 * invariant oracle over the algorithm's named invariants (oracles.invariants, hv/kvm/kvm_check.c),
 * the harness's own named invariants (fz_inv_hvt_*, fz_hvt_inv.c), the findings a correct KVM
 * never gets (hv_error, vmentry_failure), trace and summary consistency, and determinism.
 *
 * Input layout: FZ_HVT_CONFIG_BYTES configuration bytes (fz_hvt_config_decode), then operations:
 * one byte choosing the kind (fz_choose over FZ_HVT_OP_COUNT, or FZ_HVT_VMX without vmx_ops), then
 * its operands in the order fz_hvt_ops.c decodes them. Byte 0 bits 7:6 (machine.nested and the
 * vmx operations of an L1 hypervisor, fz_hvt_vmx.c) are clear in every input committed before
 * they existed, so those decode as they always did. */
#ifndef HVSIM_FUZZ_HVT_H
#define HVSIM_FUZZ_HVT_H

#include "fz_export.h"
#include "fz_scenario.h"
#include "harness.h"

#include <hvsim/vm.h>

#define FZ_HVT_OPS_MAX      96 /* operations one input may run */
#define FZ_HVT_QUIRK_SLOTS  8  /* one configuration byte per kvm quirk, in its table order */
#define FZ_HVT_CONFIG_BYTES (2 + FZ_HVT_QUIRK_SLOTS)
#define FZ_HVT_CODE_ONE_IN  8  /* one configuration in this many runs a code guest (Unicorn) */
#define FZ_HVT_GSIS         24 /* I/O APIC pins (machine.ioapic_pins default) */
#define FZ_HVT_WHY_MAX      512
/* What one run may cost: small enough for thousands of executions per second. */
#define FZ_HVT_VIRTUAL_NS   1000000 /* 1 ms of virtual time */
#define FZ_HVT_INSTRUCTIONS 200000
#define FZ_HVT_EXITS        128
#define FZ_HVT_QUANTUM      1000   /* instructions per vCPU turn (1 us) */
#define FZ_HVT_SLICES_MAX   4096   /* harness guard; the virtual-time limit ends runs first */
#define FZ_HVT_SNAP_WITHIN  16     /* snapshot_rerun snapshots after one of the first slices */
#define FZ_HVT_COMPUTE_MAX  100000 /* instructions of one compute action */
#define FZ_HVT_REPEAT_MAX   1000
#define FZ_HVT_DT_MAX_NS    1000000 /* largest gap between two events */
#define FZ_HVT_ZAP_PAGES    6       /* distinct pages ept_zap may take (hv/kvm KVM_ZAP_SLOTS) */

/* The machine: decoded from the configuration bytes. */
struct fz_hvt_config {
	unsigned vcpus; /* 1..2 */
	bool split;     /* machine.irqchip = split */
	bool apicv;     /* machine.apicv: APICv active from the start */
	bool ioapic_11; /* I/O APIC version 0x11 (no EOI register) instead of 0x20 */
	bool code;      /* a code guest (x86 fragments on Unicorn) instead of a script */
	bool nested;    /* machine.nested: KVM offers VMX to the guest (byte 0 bit 6) */
	bool vmx_ops;   /* inputs may hold vmx operations (byte 0 bit 6 or 7); without it the kinds
	                 * decode as before the vmx kind existed */
	uint8_t cpu;    /* index into fz_hvt_cpu_name's profiles */
	uint8_t quirk[FZ_HVT_QUIRK_SLOTS]; /* value index of each kvm quirk, in table order (the
	                                    * configuration byte counts from its default) */
};

enum fz_hvt_op_kind {
	/* guest actions */
	FZ_HVT_MSR_READ,     /* reg */
	FZ_HVT_MSR_WRITE,    /* reg value */
	FZ_HVT_APIC_BASE,    /* value: IA32_APIC_BASE transition */
	FZ_HVT_XAPIC_READ,   /* reg (offset) size */
	FZ_HVT_XAPIC_WRITE,  /* reg size value */
	FZ_HVT_IOAPIC_READ,  /* reg (offset) */
	FZ_HVT_IOAPIC_WRITE, /* reg value */
	FZ_HVT_IOAPIC_RTE,   /* reg (pin) value (low dword) value2 (high dword) */
	FZ_HVT_EOI,          /* sub: x2APIC MSR, xAPIC MMIO, I/O APIC EOI register (vector) */
	FZ_HVT_OUT,          /* reg (port) size value */
	FZ_HVT_IN,           /* reg (port) size */
	FZ_HVT_CPUID,        /* reg (leaf) value2 (subleaf) */
	FZ_HVT_INSN,         /* sub: enum fz_hvt_insn */
	FZ_HVT_RDPMC,        /* reg (counter) */
	FZ_HVT_COMPUTE,      /* value: instructions */
	FZ_HVT_MOV_CR,       /* cr value */
	FZ_HVT_VMCALL,       /* value: RAX */
	/* script structure */
	FZ_HVT_HANDLER, /* vector: later guest actions go to this vector's handler */
	FZ_HVT_MAIN,    /* later guest actions go to the main list */
	FZ_HVT_REPEAT,  /* value: the next guest action runs this many times */
	/* timed events: dt_ns after the previous event */
	FZ_HVT_LINE, /* reg (gsi) value (level) */
	FZ_HVT_MSI,  /* value (address) value2 (data) */
	FZ_HVT_HOST, /* sub: apicv_activate, apicv_inhibit, ept_zap; vcpu; value (zap page) */
	/* a guest action decoded only in configurations with vmx_ops (fz_hvt_vmx.c) */
	FZ_HVT_VMX, /* sub: enum guest_vmx_insn or FZ_VMX_REVISION; operands below */
	FZ_HVT_OP_COUNT
};

enum fz_hvt_insn {
	FZ_INSN_RDTSC,
	FZ_INSN_RDTSCP,
	FZ_INSN_HLT,
	FZ_INSN_STI,
	FZ_INSN_CLI,
	FZ_INSN_PAUSE,
	FZ_INSN_WBINVD,
	/* with operands (fz_hvt_ops.c): a byte below FZ_INSN_WBINVD + 1 decodes as before */
	FZ_INSN_MONITOR, /* value: address; reg: ECX extensions; value2: EDX hints */
	FZ_INSN_MWAIT,   /* value2: EAX hints; reg: ECX extensions */
	FZ_INSN_INVLPG,  /* value: address */
	FZ_INSN_INVD,
	FZ_INSN_XSETBV, /* reg: XCR; value: EDX:EAX */
	FZ_INSN_RDRAND,
	FZ_INSN_RDSEED,
	FZ_INSN_TDCALL,   /* value: RAX (a TDCALL leaf) */
	FZ_INSN_SEAMCALL, /* value: RAX (a SEAMCALL leaf) */
	FZ_INSN_COUNT
};
enum fz_hvt_eoi { FZ_EOI_X2APIC, FZ_EOI_XAPIC, FZ_EOI_IOAPIC, FZ_EOI_COUNT };
enum fz_hvt_host { FZ_HOST_ACTIVATE, FZ_HOST_INHIBIT, FZ_HOST_ZAP, FZ_HOST_COUNT };

struct fz_hvt_op {
	uint8_t kind;   /* enum fz_hvt_op_kind */
	uint8_t flags;  /* FZ_HVT_VMX: SCRIPT_VMX_MEM (addr is the r/m operand), SCRIPT_VMX_STORE */
	uint64_t addr;  /* FZ_HVT_VMX: the memory operand's linear address; FZ_VMX_REVISION: the
	                 * region */
	uint64_t field; /* FZ_HVT_VMX: VMREAD/VMWRITE field encoding, INVEPT/INVVPID type */
	uint8_t sub;    /* variant */
	uint8_t size;   /* access size, bytes */
	uint8_t cr;     /* FZ_HVT_MOV_CR: 0, 3, 4, 8 */
	uint8_t vector; /* FZ_HVT_HANDLER, FZ_HVT_EOI (I/O APIC) */
	int8_t vcpu;    /* FZ_HVT_HOST: -1 for the VM */
	uint32_t reg;   /* MSR, MMIO offset, pin, port, CPUID leaf, counter, gsi */
	uint64_t value; /* written value, instructions, count, level, MSI address, zap page; vmx:
	                 * the VMXON/VMCLEAR/VMPTRLD pointer, VMWRITE's value, the INVEPT/INVVPID
	                 * descriptor's low quadword, the revision identifier */
	uint64_t value2; /* RTE high dword, CPUID subleaf, MSI data; vmx: the descriptor's high
	                  * quadword */
	uint64_t dt_ns;  /* timed events: after the previous event */
};

/* A decoded input. */
struct fz_hvt_input {
	struct fz_hvt_config cfg;
	struct fz_hvt_op ops[FZ_HVT_OPS_MAX];
	unsigned n_ops;
};

/* One vCPU, kernel irqchip, no APICv, a script, the first profile, every quirk at its default.
 * Can't fail. */
void fz_hvt_config_default(struct fz_hvt_config *cfg);
/* Selects value of quirk name; false when the kvm algorithm has no such quirk or value. */
bool fz_hvt_config_quirk(struct fz_hvt_config *cfg, const char *name, const char *value);
/* The profile of configuration index cpu. Can't fail. */
const char *fz_hvt_cpu_name(uint8_t cpu);
/* The kind's name ("msr_write"), or "?". Can't fail. */
const char *fz_hvt_op_name(uint8_t kind);
/* ---- L1 VMX operations (fz_hvt_vmx.c): what an L1 hypervisor does under KVM's nested VMX ---- */

#define FZ_VMX_REVISION    11 /* sub: L1 writes a revision identifier into a region */
#define FZ_VMX_SUBS        12
#define FZ_VMX_VMXON_GPA   0x10000u /* the VMXON region */
#define FZ_VMX_VMCS_GPA    0x11000u /* the first of FZ_VMX_VMCS_N VMCS regions, 4 KiB apart */
#define FZ_VMX_VMCS_N      3
#define FZ_VMX_OPERAND_GPA 0x14000u /* each instruction's memory operand slot, 16 bytes apart */
/* vmcs12's revision identifier, IA32_VMX_BASIC[30:0] of the kvm-nested profile L1 is told */
#define FZ_VMX_REVISION_ID 0x11e57ed0u

/* Decodes one vmx operation's operands (after its kind); cfg gives the machine the valid vmcs12
 * values depend on. Can't fail. */
void fz_hvt_vmx_decode(struct fz_in *in, const struct fz_hvt_config *cfg, struct fz_hvt_op *op);
/* The bytes fz_hvt_vmx_decode reads back as op (values raw). */
void fz_hvt_vmx_encode(struct fz_out *o, const struct fz_hvt_op *op);
/* The name of a vmx sub-kind ("vmptrld", "revision"). Can't fail. */
const char *fz_hvt_vmx_name(uint8_t sub);
/* The valid vmcs12 value of field on cfg's machine, for a launch that reaches the nested entry
 * (copies of L1's own state, as scenarios/guest/nvmx_hlt.S programs it); false for a field the
 * table lacks. Pure. */
bool fz_hvt_vmx_valid_value(const struct fz_hvt_config *cfg, uint64_t field, uint64_t *value);
/* The number of fields of that table, and the i-th in the order an L1 writes them (0 past the
 * end). Can't fail. */
size_t fz_hvt_vmx_launch_count(void);
uint64_t fz_hvt_vmx_launch_field(size_t i);

/* Decodes a whole input. Can't fail (input that runs out reads as zeros). */
void fz_hvt_decode(const uint8_t *data, size_t size, struct fz_hvt_input *in);
/* The bytes fz_hvt_decode reads back as cfg / op (o->overflow when they do not fit). Values the
 * decoder builds from fields are written raw; the decoded operation is then the same. */
void fz_hvt_encode_config(struct fz_out *o, const struct fz_hvt_config *cfg);
void fz_hvt_encode(struct fz_out *o, const struct fz_hvt_op *op);

/* ---- Building the scenario (fz_hvt_build.c, fz_hvt_code.c) ---- */

/* The scenario of in, named after input_hash; NULL when out of memory. Every run of it enables
 * oracles.invariants. */
fz_scn *fz_hvt_build(const struct fz_hvt_input *in, uint64_t input_hash);

/* The x86 image of a code guest (fz_hvt_code.c) at FZ_HVT_CODE_GPA: threaded code, a runtime of
 * one routine per instruction form (the same bytes for every input) and the operations' guest
 * actions as records of a routine and its operands: a prologue that installs a gate in the IDT
 * for each handler vector and sets RFLAGS.IF, the main list, an isa-debug-exit OUT that ends the
 * run, then one handler per vector (registers saved, actions, IRETQ). */
#define FZ_HVT_CODE_GPA     0x8000u
#define FZ_HVT_CODE_MAX     0x8000u /* bytes of the image: up to FZ_VMX_VMXON_GPA */
#define FZ_HVT_CODE_RUNTIME 0x1000u /* bytes of the runtime at its start, the same for all */
#define FZ_HVT_IDT_GPA      0x2000u /* where hvsim's guest set-up puts the IDT (docs/vcpu-layer.md) */
/* Assembles in's guest actions into buf (cap bytes); returns the length, 0 when they do not fit. */
size_t fz_hvt_code(const struct fz_hvt_input *in, uint8_t *buf, size_t cap);

/* ---- Running it (fz_hvt_exec.c) ---- */

/* What one run gives. */
struct fz_hvt_outcome {
	uint64_t hash; /* of the trace bytes and the summary: the determinism check compares it */
	struct hvsim_summary sum;
	const char *kind; /* the first finding's name (an invariant or oracle), NULL when none */
	char why[FZ_HVT_WHY_MAX + 64];
	bool ran; /* the scenario loaded and the VM was created */
};

/* Builds in's scenario, parses its JSON text, runs it on the engine one slice at a time with the
 * harness invariants after every slice, then checks what the run reported. Can't fail: out of
 * memory is the finding "out_of_memory". */
void fz_hvt_run(const struct fz_hvt_input *in, uint64_t input_hash, struct fz_hvt_outcome *out);
/* fz_hvt_run, with trace_wellformed (it parses every trace line back) only when check_trace. */
void fz_hvt_run_opt(const struct fz_hvt_input *in, uint64_t input_hash, bool check_trace,
                    struct fz_hvt_outcome *out);
/* ---- Built machines kept between inputs (fz_hvt_cache.c) ---- */

#define FZ_HVT_CACHE_SLOTS 32 /* configurations kept, least recently used replaced */
/* A kept code-guest machine whose engines generated this many translation blocks is rebuilt:
 * Unicorn keeps the code of every dropped translation (deadlines inside blocks drop two each)
 * until its own flush, which costs ~160 ms and 1 GiB of memory (sim/uc_cpu.c UC_TB_FLUSH_AT). */
#define FZ_HVT_TB_RECYCLE 20000u
struct fz_hvt_cache;
/* NULL when out of memory. */
struct fz_hvt_cache *fz_hvt_cache_create(void);
void fz_hvt_cache_destroy(struct fz_hvt_cache *c);
struct fz_hvt_direct;
/* The kept VM of cfg's machine with d's guest kind (built on a miss), reloaded for d's scenario
 * over the slot's base (hvsim_vm_reload), with *sc that scenario and *trace the sink the VM writes
 * to, emptied. The cache owns d from the call on (freed at the slot's next reload, also on
 * failure). NULL with err filled when the VM cannot be built or reloaded. */
hvsim_vm *fz_hvt_cache_take(struct fz_hvt_cache *c, const struct fz_hvt_config *cfg,
                            struct fz_hvt_direct *d, const struct hvsim_scenario **sc,
                            struct fz_trace **trace, struct hvsim_error *err);
/* Forgets vm (a run failed it): its slot is rebuilt when next needed. */
void fz_hvt_cache_drop(struct fz_hvt_cache *c, hvsim_vm *vm);
/* fz_hvt_run_opt on the cache's VM for the input's machine instead of a fresh one; the same run
 * (cache NULL: a fresh VM). */
void fz_hvt_run_cached(struct fz_hvt_cache *cache, const struct fz_hvt_input *in,
                       uint64_t input_hash, bool check_trace, struct fz_hvt_outcome *out);
/* The harness's export (harness.h fz_export_fn): the scenario the harness ran for data, with the
 * findings its run reported expected, so that `hvsim run FILE` passes while the bug is there and
 * its output names it. 0 when written, 2 when out of memory or out failed. */
int fz_hvt_export(const uint8_t *data, size_t size, FILE *out, struct fz_export_info *info);
/* Whether a finding the run reported is one a correct KVM can give on this machine (budgets,
 * hangs, storms, stalls, guest faults; an invariant a selected quirk breaks by design): false
 * for hv_error, vmentry_failure and every other invariant_violation. Pure. */
bool fz_hvt_finding_expected(const struct fz_hvt_config *cfg, const struct hvsim_finding_rec *f);

/* ---- Named invariants of the harness (fz_hvt_inv.c): true when it holds, else why says what
 * broke. They read the kvm algorithm's and the engine's state through private headers; the ones
 * the algorithm itself names run through hvsim_vm_check_invariants. ---- */

/* "isr_one_per_class" and "ppr_consistent" (fz_apic.h) on every vCPU's LAPIC model, and
 * "remote_irr_level" on the I/O APIC: the interrupt models' cross-register rules on the state the
 * kvm algorithm drives. */
bool fz_inv_hvt_apic(hvsim_vm *vm, const char **kind, char *why, size_t cap);
/* "vmcs_launched": a vCPU whose VMCS KVM launched (and never VMCLEARs) has it current and in the
 * launched state (SDM 31.3 VMLAUNCH "launch state of current VMCS is launched"). */
bool fz_inv_hvt_vmcs_launched(hvsim_vm *vm, char *why, size_t cap);
/* "entry_state_valid": a vCPU waiting in KVM (blocked in HLT emulation) with a launched VMCS
 * would pass every VM-entry check if it resumed now (vmx_check_entry): what the last VM exit
 * saved and KVM's exit handling wrote is a consistent guest state (SDM 27.2-27.3). */
bool fz_inv_hvt_entry_state(hvsim_vm *vm, char *why, size_t cap);
/* All of the above; on the first violation sets *kind. */
bool fz_hvt_check_slice(hvsim_vm *vm, const char **kind, char *why, size_t cap);

#endif
