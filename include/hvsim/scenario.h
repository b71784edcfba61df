/* Scenario files, format version 1 (docs/scenario-format.md): what to simulate, which hypervisor
 * algorithm with which quirks, which guest, which external events, the limits, and one or more runs
 * with their goldens and expected findings. A parsed scenario is plain read-only data. */
#ifndef HVSIM_SCENARIO_H
#define HVSIM_SCENARIO_H

#include <hvsim/base.h>

#define SCENARIO_FORMAT_VERSION 1
#define SCENARIO_MAX_VCPUS      256
#define SCENARIO_MAX_MEMORY_MIB 4096

enum hvsim_irqchip {
	IRQCHIP_KERNEL = 0, /* LAPIC and I/O APIC in the hypervisor ("in-kernel") */
	IRQCHIP_SPLIT = 1,  /* LAPIC in the hypervisor, I/O APIC in the VMM's userspace */
};

enum guest_mode {
	GUEST_MODE_REAL = 0,
	GUEST_MODE_PROTECTED = 1,
	GUEST_MODE_LONG = 2,
};

/* Scripted guest actions (docs/scenario-format.md "Scripts"). */
enum script_op {
	SOP_CPUID,
	SOP_RDMSR,
	SOP_WRMSR,
	SOP_IN,
	SOP_OUT,
	SOP_MMIO_READ,
	SOP_MMIO_WRITE,
	SOP_RDTSC,
	SOP_RDTSCP,
	SOP_RDPMC,
	SOP_HLT,
	SOP_PAUSE,
	SOP_VMCALL,
	SOP_TDCALL,
	SOP_WBINVD,
	SOP_MOV_CR,
	SOP_COMPUTE, /* retire n non-exiting instructions */
	SOP_STI,
	SOP_CLI,
	SOP_REPEAT, /* run body count times */
	SOP_MONITOR,
	SOP_MWAIT,
	SOP_INVLPG,
	SOP_INVD,
	SOP_XSETBV,
	SOP_RDRAND,
	SOP_RDSEED,
	SOP_SEAMCALL,
	SOP_STORE, /* a MOV to guest RAM, which never exits */
	SOP_VMX,   /* a VMX instruction (enum guest_vmx_insn in sub), 64-bit forms */
	SOP_OP_MAX,
};

/* SOP_VMX flags */
#define SCRIPT_VMX_MEM 0x1 /* the r/m operand is in memory at addr (else a register) */
#define SCRIPT_VMX_STORE \
	0x2 /* the action first stores its memory operand (value, value2) at addr */

struct script_action {
	uint8_t op;      /* enum script_op */
	uint8_t size;    /* I/O and MMIO width in bytes */
	uint8_t cr;      /* SOP_MOV_CR */
	uint8_t flags;   /* SOP_VMX: SCRIPT_VMX_* */
	uint32_t index;  /* MSR index, port, CPUID leaf, RDPMC counter, XCR; MONITOR/MWAIT: ECX */
	uint32_t sub;    /* CPUID subleaf; MONITOR: EDX hints; MWAIT: EAX hints; SOP_VMX: insn */
	uint64_t addr;   /* MMIO and SOP_STORE guest-physical address; MONITOR, INVLPG, SOP_VMX:
	                  * linear   address */
	uint64_t value;  /* data written; SOP_COMPUTE: instructions; SOP_VMCALL: RAX; SOP_VMX: the
	                  * VMXON/VMCLEAR/VMPTRLD pointer, VMWRITE's value, the INVEPT/INVVPID
	                  * descriptor's bits 63:0 */
	uint64_t value2; /* SOP_VMX: the INVEPT/INVVPID descriptor's bits 127:64 */
	uint64_t field;  /* SOP_VMX: ModRM.reg's value (RCX): the VMCS field encoding of VMREAD and
	                  * VMWRITE, the INVEPT/INVVPID type */
	uint64_t count;  /* SOP_REPEAT */
	struct script_action *body; /* SOP_REPEAT */
	size_t n_body;
};

struct script_handler {
	uint8_t vector;
	struct script_action *actions;
	size_t n;
};

struct guest_script {
	struct script_action *main;
	size_t n_main;
	struct script_handler *handlers; /* sorted by vector, at most one per vector */
	size_t n_handlers;
};

struct hvsim_quirk_setting {
	char *name;
	char *value;
	char *json_path; /* where it was written, for errors found later ("$.runs[1].quirks.x") */
};

enum scenario_event_kind {
	SEV_IRQ_LINE, /* an I/O APIC input changes level */
	SEV_MSI,      /* a message-signalled interrupt arrives */
	SEV_HOST,     /* the hypervisor is asked to do something ("apicv_activate") */
};

struct scenario_event {
	uint64_t at_ns;
	uint8_t kind; /* enum scenario_event_kind */
	uint32_t gsi; /* SEV_IRQ_LINE */
	uint8_t level;
	uint64_t msi_addr, msi_data; /* SEV_MSI */
	char *action;                /* SEV_HOST */
	int32_t vcpu;                /* SEV_HOST: -1 for the VM */
	uint64_t arg;                /* SEV_HOST */
};

struct scenario_run {
	char *name;
	char *description;
	uint64_t seed;
	struct hvsim_quirk_setting *quirks; /* overrides of scenario-level quirks */
	size_t n_quirks;
	char *golden;    /* path relative to the scenario file's directory */
	char **findings; /* expected finding kinds, sorted, unique */
	size_t n_findings;
};

/* Oracle parameters (docs/oracles.md); the scenario's "oracles" object overrides the defaults. */
struct hvsim_oracle_params {
	uint64_t storm_count;         /* interrupt_storm: deliveries of one vector ... */
	uint64_t storm_window_ns;     /* ... within this window ... */
	uint64_t storm_insns_per_irq; /* ... with fewer guest instructions than this per delivery */
	uint64_t isr_stall_ns;        /* isr_stall: a vector on top of (v)ISR this long ... */
	uint64_t isr_stall_eois;      /* ... while the guest issued at least this many EOIs */
	uint64_t timer_stall_ns;      /* timer_stall: an unmasked periodic timer silent this long */
	bool invariants;              /* invariants: the algorithm's checks run after every slice */
};

#define ORACLE_DEFAULT_STORM_COUNT         1000
#define ORACLE_DEFAULT_STORM_WINDOW_NS     1000000
#define ORACLE_DEFAULT_STORM_INSNS_PER_IRQ 200
#define ORACLE_DEFAULT_ISR_STALL_NS        1000000
#define ORACLE_DEFAULT_ISR_STALL_EOIS      8
#define ORACLE_DEFAULT_TIMER_STALL_NS      10000000

struct hvsim_scenario {
	char *file; /* path it was loaded from, as given */
	char *dir;  /* its directory: relative paths in the file resolve against it */
	char *name;
	char *description;
	struct {
		char *patch, *link, *commit, *note;
	} provenance;
	struct {
		char *cpu; /* CPU profile name */
		uint32_t vcpus;
		uint32_t memory_mib;
		uint8_t irqchip; /* enum hvsim_irqchip */
		bool apicv;
		bool nested; /* nested virtualization offered to the guest (KVM nested=1) */
		uint64_t tsc_khz;
		uint64_t apic_bus_khz;
		uint32_t insn_ns;       /* virtual ns per retired guest instruction */
		uint32_t quantum_insns; /* round-robin slice between vCPUs */
		uint32_t exit_ns;       /* virtual ns an exit and re-entry cost together */
		uint32_t ioapic_pins;
		uint32_t ioapic_version;
	} machine;
	struct {
		char *algorithm;
		struct hvsim_quirk_setting *quirks;
		size_t n_quirks;
	} hv;
	struct {
		char *program;  /* flat image path, resolved against dir; NULL when none */
		uint8_t *bytes; /* inline code bytes; NULL when none */
		size_t n_bytes;
		uint8_t mode;      /* enum guest_mode */
		uint64_t load_gpa; /* where the image or bytes go */
		uint64_t entry;    /* first RIP */
		bool has_script;
		struct guest_script script;
	} guest;
	struct scenario_event *events; /* in file order, which is non-decreasing at_ns */
	size_t n_events;
	struct {
		uint64_t virtual_ns;
		uint64_t instructions;
		uint64_t exits;
	} limits;
	struct hvsim_oracle_params oracles;
	struct scenario_run *runs;
	size_t n_runs;
};

/* How the loader reaches the host: it never opens files itself. exists(path) says whether a file
 * named in the scenario is there; NULL skips the check. */
struct scenario_io {
	bool (*exists)(void *ctx, const char *path);
	void *ctx;
	bool check_goldens; /* false for bless, which creates them */
};

/* Parses and validates text (len bytes) read from file. On success *out owns a new scenario. On
 * failure returns HVSIM_E_INPUT (or HVSIM_E_NOMEM) and err->msg reads
 * "FILE: $.json.path: expected WHAT, found WHAT"; *out is NULL. Never aborts on any input. */
enum hvsim_status hvsim_scenario_parse(const char *file, const char *text, size_t len,
                                       const struct scenario_io *io, struct hvsim_scenario **out,
                                       struct hvsim_error *err);
void hvsim_scenario_free(struct hvsim_scenario *sc);

/* Index of the run named name, or -1. */
int hvsim_scenario_find_run(const struct hvsim_scenario *sc, const char *name);
/* Value of quirk name for run r (run override, else scenario-level), or NULL when unset. */
const struct hvsim_quirk_setting *hvsim_scenario_quirk(const struct hvsim_scenario *sc, size_t r,
                                                       const char *name);
/* Resolves a scenario-relative path into buf; false when it does not fit. */
bool hvsim_scenario_path(const struct hvsim_scenario *sc, const char *rel, char *buf, size_t cap);

/* Finding kinds the oracles can report (docs/oracles.md); scenario files may expect only these. */
bool hvsim_finding_kind_known(const char *kind);

#endif
