/* Local APIC model: xAPIC (MMIO) and x2APIC (MSR) register interfaces, interrupt acceptance and
 * priority, EOI, IPIs and IPI routing, and the APIC timer (one-shot, periodic, TSC-deadline), per
 * SDM Vol. 3A chapter 11 "Advanced Programmable Interrupt Controller (APIC)". A model is plain
 * state without pointers: no globals, no host time. Time is passed in as virtual nanoseconds; the
 * model never schedules anything, it reports when its timer deadline changed. Architectural
 * outcomes
 * (#GP, ESR errors, IPIs, EOI broadcasts) are results, never aborts. docs/interrupt-models.md
 * describes the registers, the rules and how an owner wires the model. */
#ifndef HVSIM_LAPIC_H
#define HVSIM_LAPIC_H

#include <hvsim/base.h>

struct lapic;

/* ---- Addresses and register offsets (SDM Table 11-1, Table 11-6) ---- */
#define LAPIC_DEFAULT_BASE    UINT64_C(0xFEE00000)
#define LAPIC_MMIO_SIZE       0x1000u
#define MSR_IA32_APIC_BASE    0x1Bu
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#define LAPIC_X2APIC_MSR_BASE 0x800u /* x2APIC MSR = 0x800 + offset / 16 */
#define LAPIC_X2APIC_MSR_LAST 0x8FFu

enum lapic_reg {
	LAPIC_REG_ID = 0x020,
	LAPIC_REG_LVR = 0x030,
	LAPIC_REG_TPR = 0x080,
	LAPIC_REG_APR = 0x090,
	LAPIC_REG_PPR = 0x0A0,
	LAPIC_REG_EOI = 0x0B0,
	LAPIC_REG_RRD = 0x0C0,
	LAPIC_REG_LDR = 0x0D0,
	LAPIC_REG_DFR = 0x0E0,
	LAPIC_REG_SVR = 0x0F0,
	LAPIC_REG_ISR = 0x100, /* 8 registers, 0x100-0x170 */
	LAPIC_REG_TMR = 0x180, /* 8 registers, 0x180-0x1F0 */
	LAPIC_REG_IRR = 0x200, /* 8 registers, 0x200-0x270 */
	LAPIC_REG_ESR = 0x280,
	LAPIC_REG_LVT_CMCI = 0x2F0,
	LAPIC_REG_ICR_LO = 0x300,
	LAPIC_REG_ICR_HI = 0x310,
	LAPIC_REG_LVT_TIMER = 0x320,
	LAPIC_REG_LVT_THERMAL = 0x330,
	LAPIC_REG_LVT_PMC = 0x340,
	LAPIC_REG_LVT_LINT0 = 0x350,
	LAPIC_REG_LVT_LINT1 = 0x360,
	LAPIC_REG_LVT_ERROR = 0x370,
	LAPIC_REG_TMICT = 0x380,
	LAPIC_REG_TMCCT = 0x390,
	LAPIC_REG_TDCR = 0x3E0,
	LAPIC_REG_SELF_IPI = 0x3F0, /* x2APIC only (MSR 0x83F) */
};

/* ---- Register bits ---- */
#define LAPIC_BASE_BSP       (UINT64_C(1) << 8)
#define LAPIC_BASE_EXTD      (UINT64_C(1) << 10)
#define LAPIC_BASE_EN        (UINT64_C(1) << 11)
#define LAPIC_BASE_ADDR_MASK UINT64_C(0xFFFFFFFFFF000) /* bits 51:12, cut at MAXPHYADDR */

#define LAPIC_LVR_DIRECTED_EOI (1u << 24) /* suppress EOI-broadcast supported */

#define LAPIC_SVR_VECTOR       0xFFu
#define LAPIC_SVR_ENABLE       (1u << 8)  /* APIC software enable */
#define LAPIC_SVR_FOCUS        (1u << 9)  /* focus processor checking (no effect) */
#define LAPIC_SVR_SUPPRESS_EOI (1u << 12) /* EOI-broadcast suppression */

#define LAPIC_LVT_VECTOR      0xFFu
#define LAPIC_LVT_DM_SHIFT    8
#define LAPIC_LVT_DM_MASK     (7u << 8)
#define LAPIC_LVT_PENDING     (1u << 12) /* delivery status, read-only */
#define LAPIC_LVT_POLARITY    (1u << 13) /* LINT0/1: active low */
#define LAPIC_LVT_REMOTE_IRR  (1u << 14) /* LINT0/1, read-only */
#define LAPIC_LVT_LEVEL       (1u << 15) /* LINT0/1: level triggered */
#define LAPIC_LVT_MASKED      (1u << 16)
#define LAPIC_LVT_TIMER_SHIFT 17
#define LAPIC_LVT_TIMER_MASK  (3u << 17)

#define LAPIC_ICR_DEST_LOGICAL (1u << 11)
#define LAPIC_ICR_BUSY         (1u << 12) /* delivery status; always idle in the model */
#define LAPIC_ICR_LEVEL        (1u << 14)
#define LAPIC_ICR_TRIGGER      (1u << 15)
#define LAPIC_ICR_SH_SHIFT     18

/* ESR bits (SDM 11.5.3 "Error Handling") */
#define LAPIC_ESR_SEND_CS      (1u << 0)
#define LAPIC_ESR_RECV_CS      (1u << 1)
#define LAPIC_ESR_SEND_ACCEPT  (1u << 2)
#define LAPIC_ESR_RECV_ACCEPT  (1u << 3)
#define LAPIC_ESR_REDIRECTABLE (1u << 4) /* lowest-priority IPI not supported */
#define LAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL (1u << 6)
#define LAPIC_ESR_ILLEGAL_REG  (1u << 7)

/* Delivery modes (ICR, LVT, I/O APIC redirection entries, MSI) */
enum lapic_dm {
	LAPIC_DM_FIXED = 0,
	LAPIC_DM_LOWEST = 1,
	LAPIC_DM_SMI = 2,
	LAPIC_DM_NMI = 4,
	LAPIC_DM_INIT = 5,
	LAPIC_DM_STARTUP = 6,
	LAPIC_DM_EXTINT = 7,
};

enum lapic_shorthand {
	LAPIC_SH_NONE = 0,
	LAPIC_SH_SELF = 1,
	LAPIC_SH_ALL = 2,     /* all including self */
	LAPIC_SH_ALL_BUT = 3, /* all excluding self */
};

enum lapic_timer_mode {
	LAPIC_TIMER_ONESHOT = 0,
	LAPIC_TIMER_PERIODIC = 1,
	LAPIC_TIMER_TSC_DEADLINE = 2,
};

/* Local interrupt sources, in LVT order of the x2APIC MSR map except CMCI. */
enum lapic_lvt {
	LAPIC_LVT_TIMER = 0,
	LAPIC_LVT_THERMAL = 1,
	LAPIC_LVT_PMC = 2, /* performance-monitoring counter overflow (PMI) */
	LAPIC_LVT_LINT0 = 3,
	LAPIC_LVT_LINT1 = 4,
	LAPIC_LVT_ERROR = 5,
	LAPIC_LVT_CMCI = 6,
	LAPIC_LVT_COUNT = 7,
};

enum lapic_mode {
	LAPIC_MODE_DISABLED = 0, /* IA32_APIC_BASE.EN = 0 */
	LAPIC_MODE_XAPIC = 1,
	LAPIC_MODE_X2APIC = 2,
};

/* Pending non-vectored events the owner must act on (lapic_events). */
#define LAPIC_EV_NMI    (1u << 0)
#define LAPIC_EV_SMI    (1u << 1)
#define LAPIC_EV_INIT   (1u << 2)
#define LAPIC_EV_SIPI   (1u << 3) /* vector in lapic_sipi_vector() */
#define LAPIC_EV_EXTINT (1u << 4) /* the vector comes from the 8259 (INTA cycle) */

/* One interrupt message as it travels between APICs: an IPI from an ICR, an I/O APIC redirection,
 * an MSI. */
struct lapic_irq {
	uint32_t dest; /* destination: 8 bits in xAPIC format, 32 bits in x2APIC format */
	uint8_t vector;
	uint8_t delivery_mode; /* enum lapic_dm */
	uint8_t shorthand;     /* enum lapic_shorthand; LAPIC_SH_NONE outside IPIs */
	bool dest_logical;     /* logical (true) or physical destination mode */
	bool x2apic_format;    /* dest is a 32-bit x2APIC destination (broadcast 0xFFFFFFFF) */
	bool level;            /* Level: assert (true) or de-assert */
	bool trigger_level;    /* Trigger mode: level (true) or edge */
};

/* Per-instance hardware configuration: what CPUID and the platform would report. */
struct lapic_config {
	uint32_t apic_id;         /* initial x2APIC ID; the xAPIC ID is its low 8 bits */
	bool bsp;                 /* IA32_APIC_BASE.BSP after RESET */
	uint8_t version;          /* LVR[7:0]: 0x14 or 0x15 */
	uint8_t max_lvt;          /* LVR[23:16] = LVT entries - 1: 5 (no CMCI) or 6 (CMCI) */
	bool directed_eoi;        /* LVR[24]: EOI-broadcast suppression supported */
	bool x2apic;              /* CPUID.01H:ECX.x2APIC: EXTD may be set */
	bool tsc_deadline;        /* CPUID.01H:ECX.TSC_Deadline: timer mode 10b, MSR 0x6E0 */
	bool lowest_priority_ipi; /* xAPIC may send lowest-priority IPIs (model specific) */
	uint8_t maxphyaddr;       /* physical-address width, bits (36..52) */
	uint64_t apic_bus_khz;    /* timer input clock before the divider, kHz */
	uint64_t tsc_khz;         /* TSC frequency for TSC-deadline mode, kHz */
};

/* What an operation did, for the owner to act on and trace. Every function taking a result
 * overwrites it first; res may be NULL when the caller does not care. */
struct lapic_result {
	bool gp;             /* the access raises #GP(0) (x2APIC MSR, IA32_APIC_BASE) */
	bool timer_changed;  /* lapic_timer_deadline() may have changed: re-arm the engine event */
	bool timer_fired;    /* the timer expired during this operation */
	bool irr_set;        /* a vector entered the IRR: re-evaluate interrupt delivery */
	bool ipi;            /* ipi_msg holds an interrupt message to route (lapic_route) */
	bool base_changed;   /* IA32_APIC_BASE changed: mode or xAPIC page moved */
	bool mmio_enabled;   /* after the operation, the xAPIC page decodes at mmio_base */
	uint32_t events;     /* LAPIC_EV_* raised by this operation */
	uint32_t esr_errors; /* ESR bits detected by this operation */
	int16_t eoi_vector;  /* vector whose ISR bit an EOI cleared, -1 if none */
	int16_t eoi_broadcast; /* vector to broadcast to the I/O APICs (level EOI), -1 if none */
	uint64_t icr;          /* when ipi: the ICR value as written (bits 63:32 destination) */
	uint64_t mmio_base;    /* xAPIC page physical address */
	struct lapic_irq ipi_msg;
};

/* ---- Life cycle ---- */
/* Fills cfg with a Skylake-like xAPIC: ID 0, BSP, version 0x15, 7 LVTs, x2APIC and TSC-deadline
 * supported, no directed EOI, MAXPHYADDR 46, 1 GHz APIC bus (as KVM), 2 GHz TSC. Can't fail. */
void lapic_config_default(struct lapic_config *cfg);
/* Builds a LAPIC in its RESET state. HVSIM_E_INPUT for an invalid config (message in err),
 * HVSIM_E_NOMEM when out of memory; *out is NULL then. */
enum hvsim_status lapic_create(const struct lapic_config *cfg, struct lapic **out,
                               struct hvsim_error *err);
/* NULL is allowed. */
void lapic_destroy(struct lapic *l);
/* Bytes of state; the state holds no pointers, so copying these bytes snapshots it. */
size_t lapic_state_size(void);
/* Snapshot or restore: dst becomes an exact copy of src. Can't fail. */
void lapic_copy(struct lapic *dst, const struct lapic *src);
/* The configuration the LAPIC was built with. Pure, can't fail. */
const struct lapic_config *lapic_get_config(const struct lapic *l);
/* Sets the configuration's directed_eoi and LVR[24] with it, as a hypervisor changes the version
 * register when the VMM changes what the vCPU is told (KVM's kvm_apic_set_version); withdrawing it
 * clears SVR[12], reserved then (SDM 11.8.5). On a LAPIC in its RESET state the result is the
 * LAPIC lapic_create gives with that configuration. Can't fail. */
void lapic_set_directed_eoi(struct lapic *l, bool supported);
/* RESET (power-up) state, SDM 11.4.7.1. Can't fail. */
void lapic_reset(struct lapic *l);
/* INIT: SDM 11.4.7.3 and 11.12.5.1 (ID and mode kept, other registers reset). Can't fail. */
void lapic_init_reset(struct lapic *l, struct lapic_result *res);

/* ---- IA32_APIC_BASE ---- */
/* Current IA32_APIC_BASE value. Pure, can't fail. */
uint64_t lapic_get_apic_base(const struct lapic *l);
/* WRMSR IA32_APIC_BASE: res->gp for reserved bits and illegal EN/EXTD transitions (state kept);
 * otherwise res->base_changed, res->mmio_base/mmio_enabled describe the xAPIC page. */
void lapic_set_apic_base(struct lapic *l, uint64_t value, uint64_t now_ns,
                         struct lapic_result *res);
/* Mode from IA32_APIC_BASE.EN/EXTD; SVR[8] software enable. Pure, can't fail. */
enum lapic_mode lapic_get_mode(const struct lapic *l);
bool lapic_sw_enabled(const struct lapic *l);

/* ---- Register access ---- */
/* xAPIC MMIO read of size 1, 2, 4 or 8 bytes at offset (< LAPIC_MMIO_SIZE) in the APIC page.
 * All-ones when the page does not decode (APIC disabled or x2APIC mode); never fails. */
void lapic_mmio_read(struct lapic *l, uint32_t offset, unsigned size, uint64_t *value,
                     uint64_t now_ns, struct lapic_result *res);
/* xAPIC MMIO write; dropped when the page does not decode or the access is not a 16-byte-aligned
 * 32-bit store. Never fails. */
void lapic_mmio_write(struct lapic *l, uint32_t offset, unsigned size, uint64_t value,
                      uint64_t now_ns, struct lapic_result *res);
/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF. Returns false (res untouched
 * beyond reset) for any other MSR; architectural failures are res->gp. */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value, uint64_t now_ns,
                    struct lapic_result *res);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value, uint64_t now_ns,
                     struct lapic_result *res);
/* The 32-bit register at offset (16-byte aligned, 0x000-0x3F0) as the hardware holds it, without
 * side effects or access checks (TMCCT and APR computed at now_ns). 0 for other offsets. */
uint32_t lapic_reg_peek(const struct lapic *l, uint32_t offset, uint64_t now_ns);
/* MOV to/from CR8: TPR[7:4] = CR8[3:0], TPR[3:0] = 0 (SDM 11.8.6); bits above 3 of cr8 are
 * ignored (the #GP for them is the CPU's). Can't fail. */
void lapic_write_cr8(struct lapic *l, uint64_t cr8);
uint64_t lapic_read_cr8(const struct lapic *l);

/* ---- Interrupts ---- */
/* A message reaches this APIC. Returns true when accepted (IRR set or event raised); false when
 * the APIC is disabled, software-disabled for fixed/lowest, the vector is illegal (ESR) or the
 * delivery mode is reserved. */
bool lapic_accept(struct lapic *l, const struct lapic_irq *msg, struct lapic_result *res);
/* Highest IRR vector whose priority class exceeds PPR[7:4], or -1. Pure. */
int lapic_pending_vector(const struct lapic *l);
/* Highest IRR / ISR vector, or -1. Pure. */
int lapic_highest_irr(const struct lapic *l);
int lapic_highest_isr(const struct lapic *l);
/* INTA: moves the pending vector from IRR to ISR and returns it; returns the spurious vector
 * (SVR[7:0]) without touching IRR/ISR when nothing is deliverable. Can't fail. */
int lapic_ack(struct lapic *l);
/* EOI as a write of 0 to the EOI register does it. Can't fail. */
void lapic_eoi(struct lapic *l, struct lapic_result *res);
/* A local source fires through its LVT entry. Returns true when something was delivered; false
 * when masked, unsupported, or the APIC is globally disabled (then LINT0/1 are plain INTR/NMI
 * pins, which the owner wires itself). */
bool lapic_lvt_fire(struct lapic *l, enum lapic_lvt which, struct lapic_result *res);
/* Pending LAPIC_EV_* bits, and the vector of the last SIPI received. Pure, can't fail. */
uint32_t lapic_events(const struct lapic *l);
uint8_t lapic_sipi_vector(const struct lapic *l);
/* Clears the given LAPIC_EV_* bits once the owner delivered them. Can't fail. */
void lapic_clear_events(struct lapic *l, uint32_t mask);

/* ---- Timer ---- */
/* Next expiry in virtual ns; false (ns untouched) when the timer is disarmed. Pure. */
bool lapic_timer_deadline(const struct lapic *l, uint64_t *ns);
/* The owner's timer event fired: when now_ns >= the deadline, delivers through LVT Timer (unless
 * masked) and re-arms periodic mode. Early calls do nothing. Can't fail. */
void lapic_timer_expire(struct lapic *l, uint64_t now_ns, struct lapic_result *res);
/* The guest TSC is sim_ns_to_tsc(now, tsc_khz) + offset (mod 2^64); default 0. Re-evaluates an
 * armed TSC deadline (it may fire). Can't fail. */
void lapic_set_tsc_offset(struct lapic *l, uint64_t offset, uint64_t now_ns,
                          struct lapic_result *res);
/* Guest TSC at now_ns, in ticks. Pure, can't fail. */
uint64_t lapic_guest_tsc(const struct lapic *l, uint64_t now_ns);

/* ---- IPI routing ---- */
/* What destination matching needs to know about one APIC, snapshotted by lapic_dest_info. */
struct lapic_dest_info {
	uint32_t id;     /* x2APIC ID in x2APIC mode, else the 8-bit xAPIC ID */
	uint32_t ldr;    /* LDR as read */
	uint32_t dfr;    /* DFR as read (xAPIC) */
	uint8_t mode;    /* enum lapic_mode */
	uint8_t apr;     /* arbitration priority, for lowest-priority delivery */
	bool sw_enabled; /* SVR[8] */
};
/* Fills out from the LAPIC's current state. Pure, can't fail. */
void lapic_dest_info(const struct lapic *l, struct lapic_dest_info *out);
/* True when the APIC described by cpu recognises msg's destination field (no shorthand). Pure. */
bool lapic_match_dest(const struct lapic_dest_info *cpu, const struct lapic_irq *msg);
/* Destination set of msg among n APICs: dest[i] is set for each APIC that receives it. src is the
 * sender's index (shorthands), -1 for messages from an I/O APIC or MSI. Lowest-priority mode picks
 * one software-enabled APIC: lowest APR, then lowest ID, then lowest index. Returns the count;
 * can't fail (dest holds n entries). */
unsigned lapic_route(const struct lapic_dest_info *cpus, unsigned n, int src,
                     const struct lapic_irq *msg, bool *dest);

/* ---- APIC virtualization support (hypervisors; models/lapic_virt.c) ---- */
/* Copies IRR, ISR and TMR (8 words each, vector v at bit v % 32 of word v / 32); NULL skips one.
 * Can't fail. */
void lapic_get_vectors(const struct lapic *l, uint32_t irr[8], uint32_t isr[8], uint32_t tmr[8]);
/* Replaces IRR and ISR (TMR kept) with what a virtual-APIC page holds, dropping vectors 0-15, and
 * recomputes PPR. Bypasses access rules: the hypervisor's view. Can't fail. */
void lapic_set_vectors(struct lapic *l, const uint32_t irr[8], const uint32_t isr[8]);
/* Sets TPR as a virtualized TPR write left it; PPR follows. Can't fail. */
void lapic_set_tpr(struct lapic *l, uint8_t tpr);

/* ---- Checks for tests and fuzzers ---- */
/* True when every invariant of docs/interrupt-models.md holds at now_ns; otherwise false with the
 * broken invariant's text and citation in buf (cap bytes, may be 0). Pure. */
bool lapic_check_invariants(const struct lapic *l, uint64_t now_ns, char *buf, size_t cap);

#endif
