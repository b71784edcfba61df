/* Private layout of the local APIC model, shared by lapic.c (state, priority, acceptance, EOI,
 * IA32_APIC_BASE), lapic_regs.c (MMIO and MSR access), lapic_timer.c and lapic_ipi.c.
 *
 * Invariants (lapic_check_invariants verifies them):
 * - regs[] is the architectural register image, regs[offset >> 4]; only bits an access can write
 *   are ever set (read-only delivery-status bits stay 0: messages leave instantly).
 * - PPR in regs[] is always the value SDM 11.8.3.1 derives from TPR and the highest ISR vector.
 * - While SVR[8] is clear every LVT entry has its mask bit set (SDM 11.4.7.2).
 * - IRR/ISR bits 0-15 are never set (illegal vectors are refused, SDM 11.5.2).
 * - Timer: counting implies one-shot/periodic mode and TMICT != 0, and the current count never
 *   exceeds TMICT; tsc_deadline != 0 only in TSC-deadline mode; armed is exactly "counting" in
 *   one-shot/periodic mode and "tsc_deadline != 0" in TSC-deadline mode.
 * - x2APIC mode: ID is the configured x2APIC ID and LDR is derived from it (SDM 11.12.10.2).
 * - APIC globally disabled: the register image is in its reset state and the timer disarmed. */
#ifndef HVSIM_LAPIC_INT_H
#define HVSIM_LAPIC_INT_H

#include <hvsim/lapic.h>

#define LAPIC_NSLOTS 64 /* 16-byte register slots at offsets 0x000-0x3F0 */
#define SLOT(off)    ((off) >> 4)
#define NS_PER_MS    UINT64_C(1000000) /* kHz * ns / NS_PER_MS = cycles */

/* The timer's counting state. The current count is a function of virtual time: it was base_count at
 * base_ns and has since dropped by one every divisor bus cycles. */
struct lapic_timer {
	uint64_t base_ns;      /* virtual ns at which the count was base_count */
	uint64_t next_tick;    /* timer ticks after base_ns at which the next expiry happens */
	uint64_t deadline_ns;  /* virtual ns of the next expiry, meaningful when armed */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE, guest TSC ticks; 0 = disarmed */
	uint32_t base_count;   /* count at base_ns, ticks */
	uint32_t divisor;      /* bus cycles per tick: 1, 2, 4, ... 128 (TDCR) */
	bool counting;         /* one-shot/periodic count in progress */
	bool armed;            /* an expiry is pending at deadline_ns */
};

struct lapic {
	struct lapic_config cfg;
	uint32_t regs[LAPIC_NSLOTS]; /* architectural image; TMCCT and APR are computed on read */
	uint64_t apic_base;          /* IA32_APIC_BASE */
	uint64_t tsc_offset;         /* guest TSC = sim_ns_to_tsc(now) + tsc_offset, mod 2^64 */
	uint32_t esr_pending;        /* errors detected since the last ESR write (SDM 11.5.3) */
	uint32_t events;             /* LAPIC_EV_* not yet consumed by the owner */
	uint8_t xapic_id;            /* xAPIC ID; survives x2APIC round trips, reset by RESET */
	uint8_t sipi_vector;
	struct lapic_timer timer;
};

/* lapic.c */
bool lapic_hw_enabled(const struct lapic *l);
bool lapic_x2apic_mode(const struct lapic *l);
void lapic_result_clear(struct lapic_result *res);
void lapic_update_ppr(struct lapic *l);
uint32_t lapic_compute_ppr(const struct lapic *l);
uint32_t lapic_compute_apr(const struct lapic *l);
/* Latches ESR bits and signals the error through LVT Error. */
void lapic_error(struct lapic *l, uint32_t bits, struct lapic_result *res);
/* Delivers a local interrupt through LVT entry `which`; true when delivered. */
bool lapic_lvt_deliver(struct lapic *l, enum lapic_lvt which, struct lapic_result *res);
void lapic_write_svr(struct lapic *l, uint32_t value);
void lapic_eoi_apply(struct lapic *l, struct lapic_result *res);
void lapic_write_tpr(struct lapic *l, uint32_t value);
/* The register slot of an LVT entry and the entry of a slot (-1 if not an LVT). */
unsigned lapic_lvt_slot(enum lapic_lvt which);
int lapic_slot_lvt(unsigned slot);
bool lapic_lvt_present(const struct lapic *l, enum lapic_lvt which);
void lapic_reset_regs(struct lapic *l);
uint32_t lapic_x2apic_ldr(uint32_t x2apic_id);

/* lapic_regs.c: bits of a slot a write can set, and read-only bits a WRMSR may carry */
uint32_t lapic_slot_wmask(const struct lapic *l, unsigned slot);
uint32_t lapic_slot_ro(unsigned slot);

/* lapic_timer.c */
enum lapic_timer_mode lapic_timer_mode_of(const struct lapic *l);
/* Processes an expiry due at or before now (called first by every timed operation). */
void lapic_timer_sync(struct lapic *l, uint64_t now_ns, struct lapic_result *res);
uint32_t lapic_timer_count(const struct lapic *l, uint64_t now_ns);
void lapic_timer_write_tmict(struct lapic *l, uint32_t value, uint64_t now_ns,
                             struct lapic_result *res);
void lapic_timer_write_tdcr(struct lapic *l, uint32_t value, uint64_t now_ns,
                            struct lapic_result *res);
/* LVT Timer was rewritten; old is its previous value. */
void lapic_timer_lvtt_written(struct lapic *l, uint32_t old, uint64_t now_ns,
                              struct lapic_result *res);
void lapic_timer_write_deadline(struct lapic *l, uint64_t value, uint64_t now_ns,
                                struct lapic_result *res);
uint64_t lapic_timer_read_deadline(const struct lapic *l);
void lapic_timer_stop(struct lapic *l);
uint32_t lapic_timer_divisor(uint32_t tdcr);

/* lapic_ipi.c */
/* An ICR write sends a message; icr is the full register (xAPIC: ICR_HI << 32 | ICR_LO). */
void lapic_send_icr(struct lapic *l, uint64_t icr, struct lapic_result *res);
void lapic_send_self_ipi(struct lapic *l, uint8_t vector, struct lapic_result *res);

#endif
