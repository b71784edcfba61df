/* Private declarations of the "vmx-replay" algorithm (hv/vmx_replay*.c), shared with the
 * fuzz_vmcs_entry harness (fuzz/fz_vmx*.c) and the tests, so that the harness and a replayed run
 * execute one copy of everything: the machine, its known-good fixture, the instruction executor
 * and the named VMX invariants.
 *
 * The machine. One VMX logical processor (vmx_cpu) over a CPU profile's capability MSRs, its VMCS
 * store and a small simulated host memory from physical address 0 (VMX_REPLAY_MEM_BYTES), which
 * the model reads and never writes. It is private to its owner, not the engine's vCPU processor:
 * the engine's VMLAUNCH enters non-root operation and runs a guest (whose exit then rewrites the
 * VMCS), and its host memory is engine-allocated above HVSIM_HOST_MEM_BASE, while a fuzz finding
 * is about the instruction outcomes on this exact machine and layout.
 *
 * The fixture. vmx_replay_fixture puts a fresh machine in VMX root operation with the known-good
 * VMCS at VMX_REPLAY_PA_VMCS current (docs/fuzzing.md "fuzz_vmcs_entry"): the controls the profile
 * requires plus EPT, VPID, TPR shadow, I/O and MSR bitmaps; a 64-bit host; a 64-bit guest with
 * flat segments. It enters on every embedded profile. Owners keep it as a pristine machine and
 * reset a live one by copying (vmx_replay_copy: only the pages written since the last copy).
 *
 * Invariants. vmx_replay_inv_* are pure functions over const state, true when the rule holds,
 * otherwise false with what broke in why; vmx_replay_execute runs every one that applies after an
 * instruction and names the first broken one (the names fuzz findings and the run's
 * invariant_violation findings carry). */
#ifndef HVSIM_VMX_REPLAY_INT_H
#define HVSIM_VMX_REPLAY_INT_H

#include "replay.h"

#include <hvsim/trace.h>
#include <hvsim/vmx.h>

#define VMX_REPLAY_MEM_BYTES UINT64_C(0x40000) /* simulated host memory, from address 0 */
#define VMX_REPLAY_PAGES     64                /* 4-KiB pages of it (one dirty bit each) */
#define VMX_REPLAY_STORE_CAP 8                 /* VMCS regions tracked at once */
#define VMX_REPLAY_WHY_MAX   512               /* bytes of an invariant's failure reason */

/* The fixture's physical layout (all inside VMX_REPLAY_MEM_BYTES). */
#define VMX_REPLAY_PA_VMXON       UINT64_C(0x1000)
#define VMX_REPLAY_PA_VMCS        UINT64_C(0x2000) /* current after the fixture */
#define VMX_REPLAY_PA_VMCS2       UINT64_C(0x3000) /* a second region with the right revision */
#define VMX_REPLAY_PA_SHADOW_VMCS UINT64_C(0x4000) /* revision with the shadow-VMCS indicator */
#define VMX_REPLAY_PA_IO_A        UINT64_C(0x5000)
#define VMX_REPLAY_PA_IO_B        UINT64_C(0x6000)
#define VMX_REPLAY_PA_MSR_BITMAP  UINT64_C(0x7000)
#define VMX_REPLAY_PA_VAPIC       UINT64_C(0x8000)
#define VMX_REPLAY_PA_APIC_ACCESS UINT64_C(0x9000)
#define VMX_REPLAY_PA_PI_DESC     UINT64_C(0xa000)
#define VMX_REPLAY_PA_PML         UINT64_C(0xb000)
#define VMX_REPLAY_PA_MSR_AREA    UINT64_C(0xc000) /* VM-entry/exit MSR lists */
#define VMX_REPLAY_PA_EPTP_LIST   UINT64_C(0xd000)
#define VMX_REPLAY_PA_VMREAD_BM   UINT64_C(0xe000)
#define VMX_REPLAY_PA_VMWRITE_BM  UINT64_C(0xf000)
#define VMX_REPLAY_PA_VE_INFO     UINT64_C(0x10000)
#define VMX_REPLAY_PA_EPT_PML4    UINT64_C(0x11000)
#define VMX_REPLAY_PA_HOST_CR3    UINT64_C(0x20000)
#define VMX_REPLAY_PA_GUEST_CR3   UINT64_C(0x30000) /* also the PDPT of a 32-bit PAE guest */

/* For the word loops that compare two whole VMCS field arrays (the executor's state records,
 * failure_without_effect): ASan's and UBSan's checks per load (address, alignment, pointer
 * overflow) made them a fifth of a sanitized fuzzing run, and they read only inside the two
 * arrays, whose bounds the callers fix. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define VMX_REPLAY_FIELDS_LOOP __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef VMX_REPLAY_FIELDS_LOOP
#define VMX_REPLAY_FIELDS_LOOP
#endif

/* The bits that differ between fields [from, to) of a and b, ORed together (0: all equal). */
VMX_REPLAY_FIELDS_LOOP static inline uint64_t
vmx_replay_fields_diff(const uint64_t *a, const uint64_t *b, size_t from, size_t to)
{
	uint64_t d = 0;

	for (size_t i = from; i < to; i++)
		d |= a[i] ^ b[i];
	return d;
}

/* What an instruction may change: taken before it, compared after. */
struct vmx_replay_before {
	bool in_vmx;
	uint64_t vmxon_ptr, current;
	size_t n_regions;
	uint64_t region_pa[VMX_REPLAY_STORE_CAP];
	bool launched[VMX_REPLAY_STORE_CAP];
	bool has_current;
	uint64_t fields[256]; /* the current VMCS's fields by dense index, when has_current */
};

/* A state the VM-entry checks ran on (vmx_replay_exec.c): the processor's pointers, mode,
 * regions and launch states, and the current VMCS's fields. Memory is not copied: a write to it
 * makes every record invalid. */
struct vmx_replay_checked {
	bool valid;   /* false after a copy into the machine or a memory write */
	uint8_t insn; /* the VMLAUNCH or VMRESUME that ran them */
	struct vmx_cpu_mode mode;
	struct vmx_replay_before b;
	struct vmx_result res; /* what they gave */
};

struct vmx_replay_machine {
	uint8_t *mem;   /* VMX_REPLAY_MEM_BYTES */
	uint64_t dirty; /* bit p: page p written since the last vmx_replay_copy into it */
	struct vmx_mem memops;
	struct vmcs_store *store;
	struct vmx_cpu *cpu;
	/* The state a VMLAUNCH/VMRESUME last ran the coverage-instrumented checks on. An entry that
	 * finds the machine in it again (same instruction, processor, mode, launch states and
	 * fields but the three an entry writes) runs the checks' second compilation
	 * (vmx_plain_vmlaunch, models/vmx/vmx_int.h), whose results and effects are the same: a
	 * fuzzer does not count the same check edges and comparisons twice in one input. */
	struct vmx_replay_checked seen;
	/* The state entry_checks_pure last reran the checks on, and their result. An entry that
	 * gave that result and left every input of the checks (fields, pointers, mode; memory
	 * unwritten) byte for byte as it was there is not rerun: that second evaluation of the same
	 * bytes has been made and agreed. */
	struct vmx_replay_checked verified;
	/* Every instruction and VM entry runs the model's second, uninstrumented compilation
	 * (vmx_plain_*, models/vmx/vmx_int.h): same results and effects. fuzz_vmcs_entry's
	 * determinism rerun sets it, so that the rerun adds no edge counts or comparisons to the
	 * input's coverage; vmx_replay_copy keeps it. */
	bool plain;
};

/* ---- The machine and its fixture (vmx_replay_fixture.c) ---- */

/* A machine outside VMX operation over caps, all memory zero and marked dirty. HVSIM_E_NOMEM
 * when out of memory (m is then zeroed; destroy is still safe). */
enum hvsim_status vmx_replay_machine_create(struct vmx_replay_machine *m,
                                            const struct vmx_caps *caps);
/* Frees what create made; safe on a zeroed or failed machine. */
void vmx_replay_machine_destroy(struct vmx_replay_machine *m);
/* Programs the known-good fixture into a machine fresh from create. HVSIM_E_INPUT when VMXON,
 * VMCLEAR or VMPTRLD of the fixture's regions fails (err says which check). */
enum hvsim_status vmx_replay_fixture(struct vmx_replay_machine *m, struct hvsim_error *err);
/* Makes dst a copy of src (same capacity from create): the pages written in dst since its last
 * copy (every page when all), the store's regions, then the processor with its pointers turned to
 * dst's memory and store. Can't fail. */
void vmx_replay_copy(struct vmx_replay_machine *dst, const struct vmx_replay_machine *src,
                     bool all);
/* Writes len bytes at pa, marking pages dirty; false (nothing written) when [pa, pa+len) is
 * empty or not inside the simulated memory. */
bool vmx_replay_mem_write(struct vmx_replay_machine *m, uint64_t pa, const void *buf, size_t len);
/* The address of PDPTE index (0-3) of a PAE guest: guest CR3[31:5] of the current VMCS (0 when
 * none) plus 8 * index (SDM 27.3.1.6). Can't fail. */
uint64_t vmx_replay_pdpte_pa(const struct vmx_replay_machine *m, unsigned index);
/* The value of the field at dense index i in the machine's VMCS at VMX_REPLAY_PA_VMCS (the
 * known-good value when m is a pristine fixture); 0 when none or past the table. */
uint64_t vmx_replay_vmcs_value(const struct vmx_replay_machine *m, size_t i);

/* ---- Instructions and mode changes (vmx_replay_exec.c) ---- */

/* The VMX instructions a replay executes. */
enum vmx_replay_insn {
	VMX_REPLAY_VMWRITE, /* field value */
	VMX_REPLAY_VMREAD,  /* field */
	VMX_REPLAY_VMLAUNCH,
	VMX_REPLAY_VMRESUME,
	VMX_REPLAY_VMCLEAR, /* value: the physical address */
	VMX_REPLAY_VMPTRLD, /* value: the physical address */
	VMX_REPLAY_VMXOFF,
	VMX_REPLAY_VMXON, /* value: the physical address */
	VMX_REPLAY_VMPTRST,
	VMX_REPLAY_INVEPT,  /* field: type; value, desc_hi: the descriptor */
	VMX_REPLAY_INVVPID, /* field: type; value, desc_hi: the descriptor */
	VMX_REPLAY_INSN_COUNT
};

struct vmx_replay_insn_op {
	uint8_t insn;     /* enum vmx_replay_insn */
	uint64_t field;   /* VMREAD/VMWRITE encoding; INVEPT/INVVPID type */
	uint64_t value;   /* VMWRITE value; VMCLEAR/VMPTRLD/VMXON address; descriptor low */
	uint64_t desc_hi; /* INVEPT/INVVPID descriptor high quadword */
};

/* Changes of the processor's mode inputs (instruction pre-conditions), in the fuzz byte order. */
enum vmx_replay_mode_change {
	VMX_REPLAY_MODE_CPL,     /* CPL = arg & 3 */
	VMX_REPLAY_MODE_VMXE,    /* toggle CR4.VMXE */
	VMX_REPLAY_MODE_PE,      /* toggle CR0.PE */
	VMX_REPLAY_MODE_VM86,    /* toggle RFLAGS.VM */
	VMX_REPLAY_MODE_COMPAT,  /* toggle CS.L (compatibility mode under EFER.LMA) */
	VMX_REPLAY_MODE_MOV_SS,  /* toggle blocking by MOV SS */
	VMX_REPLAY_MODE_SMM,     /* toggle SMM */
	VMX_REPLAY_MODE_X2APIC,  /* toggle x2APIC mode */
	VMX_REPLAY_MODE_FEATCTL, /* IA32_FEATURE_CONTROL = arg */
	VMX_REPLAY_MODE_CR0_NE,  /* toggle CR0.NE (a VMX-fixed bit) */
	VMX_REPLAY_MODE_FIXTURE, /* back to the fixture's mode */
	VMX_REPLAY_MODE_COUNT
};

/* One instruction's outcome and the first invariant it broke. */
struct vmx_replay_step {
	struct vmx_result res;
	const char *bad; /* the broken invariant's name, NULL when all hold */
	char why[VMX_REPLAY_WHY_MAX];
};

/* The instruction's name as fuzz findings and host actions spell it ("vmwrite"), and its
 * mnemonic ("VMWRITE"); "?" past the enum. Can't fail. */
const char *vmx_replay_insn_name(unsigned insn);
const char *vmx_replay_insn_mnemonic(unsigned insn);
/* The host action of a mode change ("vmx_mode_cpl"); NULL past the enum. Can't fail. */
const char *vmx_replay_mode_action(unsigned change);
/* Executes op on m, then every named invariant that applies (*out). Can't fail: an unknown insn
 * runs as INVVPID, as the harness's decoder never produces one. */
void vmx_replay_execute(struct vmx_replay_machine *m, const struct vmx_replay_insn_op *op,
                        struct vmx_replay_step *out);
/* Applies a mode change (change taken modulo VMX_REPLAY_MODE_COUNT); fixture: the mode the
 * fixture change goes back to. Can't fail. */
void vmx_replay_mode(struct vmx_replay_machine *m, unsigned change, uint64_t arg,
                     const struct vmx_cpu_mode *fixture);
/* One line for a VMLAUNCH/VMRESUME result: "entered", "VM-entry failure: exit reason 0x80000021,
 * qualification 4, from vmx_check_...", "VMfailValid (error 7) from ...". Can't fail. */
void vmx_replay_describe_entry(const struct vmx_result *r, char *buf, size_t cap);

/* ---- Host events and trace lines (vmx_replay_events.c) ---- */

/* What one host event amounts to once parsed. */
enum vmx_replay_act_kind {
	VMX_REPLAY_ACT_PART,    /* a part of an operation still incomplete: nothing to do yet */
	VMX_REPLAY_ACT_FIXTURE, /* reset to the known-good fixture */
	VMX_REPLAY_ACT_INSN,    /* execute insn */
	VMX_REPLAY_ACT_MODE,    /* mode change `mode` with arg */
	VMX_REPLAY_ACT_MEM,     /* write the low len bytes of arg at pa (dropped outside memory) */
	VMX_REPLAY_ACT_PDPTE,   /* write arg at PDPTE pa (0-3) of the current guest CR3 */
};

struct vmx_replay_action {
	uint8_t kind; /* enum vmx_replay_act_kind */
	struct vmx_replay_insn_op insn;
	unsigned mode;
	uint64_t arg;
	uint64_t pa;
	size_t len; /* bytes, ACT_MEM: 4 or 8 */
};

/* The parser's state between events: zero-initialize it before the first. */
struct vmx_replay_parser {
	uint8_t want;  /* the part the next event must be (0: any action) */
	bool loaded;   /* vmx_fixture seen */
	uint8_t insn;  /* INVEPT or INVVPID being assembled */
	uint64_t a, b; /* the parts taken so far */
};

/* Takes the next host event. NULL and *out when it is valid (ACT_PART while an operation is
 * incomplete); otherwise a static string saying what is wrong with it (p is then unspecified). */
const char *vmx_replay_parse(struct vmx_replay_parser *p, const char *action, uint64_t arg,
                             struct vmx_replay_action *out);
/* After the last event: NULL, or why the events cannot end here (an incomplete operation). */
const char *vmx_replay_parse_end(const struct vmx_replay_parser *p);
/* The trace line of one executed instruction (ev "vmx_insn", docs/trace-format.md): insn,
 * operands, outcome and its details. Strings are borrowed from static tables. Can't fail. */
void vmx_replay_trace_insn(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct vmx_replay_insn_op *op, const struct vmx_result *res);

/* ---- The algorithm's state (vmx_replay.c) ---- */

struct vmx_replay {
	struct vmx_replay_machine pristine; /* the fixture, never executed on */
	struct vmx_replay_machine live;     /* what the events execute on */
	struct vmx_replay_parser parser;
	struct replay_run run; /* events taken, the first broken invariant, a refusal */
};

/* ---- Named invariants (vmx_replay_inv.c) ---- */

/* Copies what vmx_replay_inv_* compare. Can't fail. */
void vmx_replay_before_take(const struct vmx_cpu *cpu, struct vmx_replay_before *b);

/* "vmcs_field_width": a VMREAD of encoding that succeeded returned no bit beyond the field's width
 * (16, 32 bits; a high-half access 32 bits) (SDM 25.11.2). */
bool vmx_replay_inv_field_width(uint64_t encoding, const struct vmx_result *res, char *why,
                                size_t cap);
/* "vmwrite_vmread_roundtrip": after a successful VMWRITE of value, the field reads back as value
 * cut to its width, and a high-half write kept the low half (SDM 25.11.2, 31.3 VMWRITE). */
bool vmx_replay_inv_roundtrip(const struct vmx_cpu *cpu, uint64_t encoding, uint64_t value,
                              const struct vmx_replay_before *b, char *why, size_t cap);
/* "vm_instruction_error_known": a VMfailValid carries one of the SDM 31.4 error numbers, is
 * stored in VM_INSTRUCTION_ERROR, and happens only with a current VMCS; other outcomes carry no
 * error number (SDM 31.2, 31.4). */
bool vmx_replay_inv_error(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                          const struct vmx_result *res, char *why, size_t cap);
/* "entry_outcome_group": a VMLAUNCH/VMRESUME failure names the check that failed, and its group
 * matches the outcome: VMfailValid(7) controls (SDM 27.2.1), VMfailValid(8) host state (27.2.2-4),
 * exit 33 guest state (27.3.1) with qualification 0, 2, 3 or 4 (27.8), exit 34 MSR loading (27.4)
 * with a 1-based entry index within VM_ENTRY_MSR_LOAD_COUNT; VMfailValid(4, 5, 26) and
 * VMfailInvalid are instruction pre-checks. */
bool vmx_replay_inv_entry_group(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                                size_t cap);
/* True when a and b are the same VM-entry result: outcome, error, exit reason and qualification,
 * failing check, condition and item (equal strings). Can't fail. */
bool vmx_replay_same_result(const struct vmx_result *a, const struct vmx_result *b);
/* "entry_checks_pure": after VMLAUNCH/VMRESUME reached the VM-entry checks, running them again
 * (vmx_plain_check_entry: the same source compiled a second time, not coverage-instrumented)
 * gives the same outcome, error, exit information and failing check: no check both passes and
 * fails for one VMCS, and an entry that passed passes again. */
bool vmx_replay_inv_checks_pure(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                                size_t cap);
/* "entered_state_consistent": a VM entry that passed every check left a VMCS that satisfies a
 * second, independent writing of key SDM rules: controls within their capability MSRs and the
 * CR3-target count (27.2.1), no reserved event type (27.2.1.3), host CR0/CR4 fixed bits and
 * canonical RIP (27.2.2, 27.2.4), guest CR0/CR4 fixed bits (PE/PG free under unrestricted guest),
 * IA-32e mode with paging, RFLAGS reserved bits (27.3.1.1, 27.3.1.4), activity state,
 * interruptibility and the VMCS link pointer (27.3.1.5). A disagreement means a check is missing
 * or wrong. */
bool vmx_replay_inv_entered(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                            size_t cap);
/* "launch_state_legal": launch states change only by a VMLAUNCH that entered (clear -> launched,
 * the current VMCS) and by a VMCLEAR that succeeded (-> clear, and the current pointer becomes
 * invalid if it named that region); VMRESUME enters only a launched VMCS (SDM 31.3 VMLAUNCH,
 * VMRESUME, VMCLEAR). insn: the instruction (enum vmx_replay_insn); pa: VMCLEAR's. */
bool vmx_replay_inv_launch(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                           unsigned insn, uint64_t pa, const struct vmx_result *res, char *why,
                           size_t cap);
/* "failure_without_effect": #UD, #GP(0) and VMfailInvalid change nothing; VMfailValid changes
 * only VM_INSTRUCTION_ERROR (and a VM-entry failure exit only the exit reason and qualification)
 * (SDM 31.2: the instruction's operation is not performed). */
bool vmx_replay_inv_no_effect(const struct vmx_cpu *cpu, const struct vmx_replay_before *b,
                              const struct vmx_result *res, char *why, size_t cap);
/* "vmx_cpu_consistent": outside VMX operation there is no current VMCS; a current VMCS is a
 * region of the store and never the VMXON region (SDM 24.11, 31.3 VMPTRLD). */
bool vmx_replay_inv_cpu(const struct vmx_cpu *cpu, char *why, size_t cap);

#endif
