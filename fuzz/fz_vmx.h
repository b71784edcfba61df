/* The VMX machine fuzz_vmcs_entry drives: one logical processor (vmx_cpu) in VMX root operation
 * over a CPU profile, its VMCS store and a small simulated memory, started from a known-good VMCS
 * (a 64-bit guest and host that pass every VM-entry check on every embedded profile). A pristine
 * machine is made once per profile; every input starts from a copy (the processor and store
 * structs, and only the memory pages the previous input wrote), never from re-creation. Also the
 * named invariants of the VMX model (fz_inv_vmx_*): pure functions usable from unit tests
 * (tests/test_fuzz_vmx.c), true when the rule holds, otherwise false with what broke in why. */
#ifndef HVSIM_FUZZ_VMX_H
#define HVSIM_FUZZ_VMX_H

#include <hvsim/vmx.h>

#include <stdio.h>

#define FZ_VMX_PROFILES_MAX 8
#define FZ_VMX_MEM_BYTES    UINT64_C(0x40000) /* simulated host memory, from address 0 */
#define FZ_VMX_PAGES        64                /* 4-KiB pages of it (one dirty bit each) */
#define FZ_VMX_STORE_CAP    8                 /* VMCS regions tracked at once */
#define FZ_VMX_WHY_MAX      512

/* The fixture's physical layout (all inside FZ_VMX_MEM_BYTES). */
#define FZ_VMX_PA_VMXON       UINT64_C(0x1000)
#define FZ_VMX_PA_VMCS        UINT64_C(0x2000) /* current after load */
#define FZ_VMX_PA_VMCS2       UINT64_C(0x3000) /* a second region with the right revision */
#define FZ_VMX_PA_SHADOW_VMCS UINT64_C(0x4000) /* revision with the shadow-VMCS indicator */
#define FZ_VMX_PA_IO_A        UINT64_C(0x5000)
#define FZ_VMX_PA_IO_B        UINT64_C(0x6000)
#define FZ_VMX_PA_MSR_BITMAP  UINT64_C(0x7000)
#define FZ_VMX_PA_VAPIC       UINT64_C(0x8000)
#define FZ_VMX_PA_APIC_ACCESS UINT64_C(0x9000)
#define FZ_VMX_PA_PI_DESC     UINT64_C(0xa000)
#define FZ_VMX_PA_PML         UINT64_C(0xb000)
#define FZ_VMX_PA_MSR_AREA    UINT64_C(0xc000) /* VM-entry/exit MSR lists */
#define FZ_VMX_PA_EPTP_LIST   UINT64_C(0xd000)
#define FZ_VMX_PA_VMREAD_BM   UINT64_C(0xe000)
#define FZ_VMX_PA_VMWRITE_BM  UINT64_C(0xf000)
#define FZ_VMX_PA_VE_INFO     UINT64_C(0x10000)
#define FZ_VMX_PA_EPT_PML4    UINT64_C(0x11000)
#define FZ_VMX_PA_HOST_CR3    UINT64_C(0x20000)
#define FZ_VMX_PA_GUEST_CR3   UINT64_C(0x30000) /* also the PAE PDPT of a 32-bit PAE guest */

/* What happened over a run: seed tests check these, the determinism hash covers them. */
struct fz_vmx_stats {
	unsigned entered;    /* VMLAUNCH/VMRESUME that passed every check */
	unsigned fail_ctrl;  /* VMfailValid(7) */
	unsigned fail_host;  /* VMfailValid(8) */
	unsigned exit_guest; /* VM-entry failure, exit reason 33 */
	unsigned exit_msr;   /* VM-entry failure, exit reason 34 */
	unsigned vmfail;     /* other VMfailValid / VMfailInvalid */
	unsigned faults;     /* #UD, #GP(0) */
	unsigned vmwrites;   /* successful VMWRITEs */
};

struct fz_vmx_sys {
	unsigned profile; /* index into vmx_profile_names() */
	uint8_t *mem;     /* FZ_VMX_MEM_BYTES */
	uint64_t dirty;   /* bit p: page p written since the last load */
	struct vmx_mem memops;
	struct vmcs_store *store;
	struct vmx_cpu *cpu;
	struct fz_vmx_stats stats;
	uint64_t hash; /* FNV-1a of every result: the determinism check compares it */
	struct vmx_result last_entry; /* the last VMLAUNCH/VMRESUME's result (outcome 0: none) */
	bool entry_seen;
	/* The first violation found while running an operation: kind or NULL, and why. */
	const char *bad;
	char why[FZ_VMX_WHY_MAX];
};

/* Number of embedded profiles usable here (at most FZ_VMX_PROFILES_MAX). Can't fail. */
unsigned fz_vmx_profile_count(void);
/* Allocates the live machine. HVSIM_E_NOMEM when out of memory (nothing to free then). */
enum hvsim_status fz_vmx_create(struct fz_vmx_sys *s);
/* Frees what fz_vmx_create made; safe on a failed or zeroed machine. */
void fz_vmx_destroy(struct fz_vmx_sys *s);
/* Puts the known-good fixture of profile (taken modulo the count) in place by copying the
 * pristine machine. HVSIM_E_INPUT when the profile does not load or the fixture does not reach
 * VMX root operation with a current VMCS (err says why); HVSIM_E_NOMEM. */
enum hvsim_status fz_vmx_load(struct fz_vmx_sys *s, unsigned profile, struct hvsim_error *err);
/* The known-good value of the field at dense index i (vmcs_field_at order); 0 past the table. */
uint64_t fz_vmx_fixture_value(const struct fz_vmx_sys *s, size_t i);
/* The processor's mode inputs in the fixture (VMX root, CPL 0, 64-bit). Can't fail. */
const struct vmx_cpu_mode *fz_vmx_fixture_mode(const struct fz_vmx_sys *s);
/* Writes len bytes at pa into simulated memory, marking pages dirty; false outside it. */
bool fz_vmx_mem_write(struct fz_vmx_sys *s, uint64_t pa, const void *buf, size_t len);
/* Records a violation (the first one of an operation wins). Can't fail. */
void fz_vmx_flag(struct fz_vmx_sys *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mixes a result into the determinism hash. Can't fail. */
void fz_vmx_mix(struct fz_vmx_sys *s, uint64_t v);

/* ---- What an instruction may change: taken before it, compared after ---- */

struct fz_vmx_before {
	bool in_vmx;
	uint64_t vmxon_ptr, current;
	size_t n_regions;
	uint64_t region_pa[FZ_VMX_STORE_CAP];
	bool launched[FZ_VMX_STORE_CAP];
	bool has_current;
	uint64_t fields[256]; /* the current VMCS's fields by dense index, when has_current */
};

/* Copies what fz_inv_vmx_* compare. Can't fail. */
void fz_vmx_before_take(const struct fz_vmx_sys *s, struct fz_vmx_before *b);

/* ---- Named invariants ---- */

/* "vmcs_field_width": a VMREAD of encoding that succeeded returned no bit beyond the field's width
 * (16, 32 bits; a high-half access 32 bits) (SDM 25.11.2). */
bool fz_inv_vmx_field_width(uint64_t encoding, const struct vmx_result *res, char *why, size_t cap);
/* "vmwrite_vmread_roundtrip": after a successful VMWRITE of value, the field reads back as value
 * cut to its width, and a high-half write kept the low half (SDM 25.11.2, 31.3 VMWRITE). */
bool fz_inv_vmx_roundtrip(const struct vmx_cpu *cpu, uint64_t encoding, uint64_t value,
                          const struct fz_vmx_before *b, char *why, size_t cap);
/* "vm_instruction_error_known": a VMfailValid carries one of the SDM 31.4 error numbers, is
 * stored in VM_INSTRUCTION_ERROR, and happens only with a current VMCS; other outcomes carry no
 * error number (SDM 31.2, 31.4). */
bool fz_inv_vmx_error(const struct vmx_cpu *cpu, const struct fz_vmx_before *b,
                      const struct vmx_result *res, char *why, size_t cap);
/* "entry_outcome_group": a VMLAUNCH/VMRESUME failure names the check that failed, and its group
 * matches the outcome: VMfailValid(7) controls (SDM 27.2.1), VMfailValid(8) host state (27.2.2-4),
 * exit 33 guest state (27.3.1) with qualification 0, 2, 3 or 4 (27.8), exit 34 MSR loading (27.4)
 * with a 1-based entry index within VM_ENTRY_MSR_LOAD_COUNT; VMfailValid(4, 5, 26) and
 * VMfailInvalid are instruction pre-checks. */
bool fz_inv_vmx_entry_group(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                            size_t cap);
/* "entry_checks_pure": after VMLAUNCH/VMRESUME reached the VM-entry checks, running them again
 * (vmx_check_entry) gives the same outcome, error, exit information and failing check: no check
 * both passes and fails for one VMCS, and an entry that passed passes again (the checks read const
 * state; the entry loaded nothing that breaks them). */
bool fz_inv_vmx_checks_pure(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                            size_t cap);
/* "entered_state_consistent": a VM entry that passed every check left a VMCS that satisfies a
 * second, independent writing of key SDM rules: controls within their capability MSRs and the
 * CR3-target count (27.2.1), no reserved event type (27.2.1.3), host CR0/CR4 fixed bits and
 * canonical RIP (27.2.2, 27.2.4), guest CR0/CR4 fixed bits (PE/PG free under unrestricted guest),
 * IA-32e mode with paging, RFLAGS reserved bits (27.3.1.1, 27.3.1.4), activity state,
 * interruptibility and the VMCS link pointer (27.3.1.5). A disagreement means a check is missing
 * or wrong. */
bool fz_inv_vmx_entered(const struct vmx_cpu *cpu, const struct vmx_result *res, char *why,
                        size_t cap);
/* "launch_state_legal": launch states change only by a VMLAUNCH that entered (clear -> launched,
 * the current VMCS) and by a VMCLEAR that succeeded (-> clear, and the current pointer becomes
 * invalid if it named that region); VMRESUME enters only a launched VMCS (SDM 31.3 VMLAUNCH,
 * VMRESUME, VMCLEAR). insn: "vmlaunch", "vmresume", "vmclear" or another name; pa: VMCLEAR's. */
bool fz_inv_vmx_launch(const struct vmx_cpu *cpu, const struct fz_vmx_before *b, const char *insn,
                       uint64_t pa, const struct vmx_result *res, char *why, size_t cap);
/* "failure_without_effect": #UD, #GP(0) and VMfailInvalid change nothing; VMfailValid changes
 * only VM_INSTRUCTION_ERROR (and a VM-entry failure exit only the exit reason and qualification)
 * (SDM 31.2: the instruction's operation is not performed). */
bool fz_inv_vmx_no_effect(const struct vmx_cpu *cpu, const struct fz_vmx_before *b,
                          const struct vmx_result *res, char *why, size_t cap);
/* "vmx_cpu_consistent": outside VMX operation there is no current VMCS; a current VMCS is a
 * region of the store and never the VMXON region (SDM 24.11, 31.3 VMPTRLD). */
bool fz_inv_vmx_cpu(const struct vmx_cpu *cpu, char *why, size_t cap);

#endif
