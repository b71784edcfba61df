/* I/O APIC model: the 82093AA (version 0x11) and the later IOxAPIC (version 0x20, with the EOI
 * register at offset 0x40), per the 82093AA datasheet section 3 and the IOxAPIC register
 * descriptions of Intel chipset datasheets. Plain state without pointers, no globals. Input pins
 * change level through ioapic_set_irq; every interrupt message the model produces comes back in the
 * result for the owner to route (lapic_route) and trace. docs/interrupt-models.md has the rules. */
#ifndef HVSIM_IOAPIC_H
#define HVSIM_IOAPIC_H

#include <hvsim/base.h>
#include <hvsim/lapic.h>

struct ioapic;

#define IOAPIC_DEFAULT_BASE UINT64_C(0xFEC00000)
#define IOAPIC_MMIO_SIZE    0x100u /* the window decodes offset & 0xFF */
/* IOREGSEL is 8 bits and entry n lives at 0x10 + 2n, 0x11 + 2n: at most 120 entries are
 * addressable. */
#define IOAPIC_MAX_PINS 120u

/* MMIO offsets (82093AA 3.1, IOxAPIC EOI register) */
#define IOAPIC_IOREGSEL 0x00u
#define IOAPIC_IOWIN    0x10u
#define IOAPIC_EOI      0x40u /* version 0x20 only */

/* Indirect registers selected by IOREGSEL (82093AA 3.2) */
#define IOAPIC_IDX_ID     0x00u
#define IOAPIC_IDX_VER    0x01u
#define IOAPIC_IDX_ARB    0x02u
#define IOAPIC_IDX_REDTBL 0x10u /* entry n: low dword 0x10 + 2n, high dword 0x11 + 2n */

/* Redirection entry bits (82093AA 3.2.4) */
#define IOAPIC_RTE_VECTOR       UINT64_C(0xFF)
#define IOAPIC_RTE_DM_SHIFT     8
#define IOAPIC_RTE_DEST_LOGICAL (UINT64_C(1) << 11)
#define IOAPIC_RTE_DELIVS       (UINT64_C(1) << 12) /* delivery status, read-only */
#define IOAPIC_RTE_POLARITY     (UINT64_C(1) << 13) /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR   (UINT64_C(1) << 14) /* read-only */
#define IOAPIC_RTE_LEVEL        (UINT64_C(1) << 15) /* trigger mode: 1 = level */
#define IOAPIC_RTE_MASKED       (UINT64_C(1) << 16)
#define IOAPIC_RTE_DEST_SHIFT   56

struct ioapic_config {
	uint32_t pins;   /* redirection entries, 1..IOAPIC_MAX_PINS (24 on the 82093AA) */
	uint8_t version; /* 0x11 (82093AA) or 0x20 (IOxAPIC with EOI register) */
	uint8_t id;      /* IOAPICID after reset, 0..15 */
};

/* One interrupt message sent by the I/O APIC: xAPIC-format destination, shorthand none. */
struct ioapic_msg {
	uint32_t pin;
	struct lapic_irq irq;
};

/* What an operation did. Every function taking a result overwrites n_msgs and the flags first;
 * res may be NULL. */
struct ioapic_result {
	uint32_t value;              /* MMIO read data */
	uint32_t n_msgs;             /* messages in msgs[], in the order they were sent */
	uint32_t remote_irr_cleared; /* entries whose remote IRR an EOI cleared */
	struct ioapic_msg msgs[IOAPIC_MAX_PINS];
};

/* Fills cfg with the PC layout: 24 pins, version 0x20 (QEMU's default), ID 0. Can't fail. */
void ioapic_config_default(struct ioapic_config *cfg);
/* HVSIM_E_INPUT for an invalid config, HVSIM_E_NOMEM; *out is NULL then. */
enum hvsim_status ioapic_create(const struct ioapic_config *cfg, struct ioapic **out,
                                struct hvsim_error *err);
/* NULL is allowed. */
void ioapic_destroy(struct ioapic *io);
/* Bytes of state; it holds no pointers, so copying them snapshots it. */
size_t ioapic_state_size(void);
/* dst becomes an exact copy of src. Can't fail. */
void ioapic_copy(struct ioapic *dst, const struct ioapic *src);
/* The configuration the I/O APIC was built with. Pure, can't fail. */
const struct ioapic_config *ioapic_get_config(const struct ioapic *io);
/* Power-on state: every entry masked, IOREGSEL 0, ID from the config; pin levels kept (they are
 * the wires' state). Can't fail. */
void ioapic_reset(struct ioapic *io);

/* MMIO read of size 1, 2, 4 or 8 at offset (< 0x1000) from the base; data in res->value.
 * Never fails. */
void ioapic_mmio_read(struct ioapic *io, uint32_t offset, unsigned size, struct ioapic_result *res);
/* MMIO write; may send messages (unmasking an asserted level entry). Never fails. */
void ioapic_mmio_write(struct ioapic *io, uint32_t offset, unsigned size, uint64_t value,
                       struct ioapic_result *res);
/* Input pin `pin` now has electrical level `level` (0 low, non-zero high). Returns false, doing
 * nothing, when pin is out of range. */
bool ioapic_set_irq(struct ioapic *io, uint32_t pin, int level, struct ioapic_result *res);
/* The same with a logical level, as KVM_IRQ_LINE and QEMU pass it: drives the pin to whatever
 * electrical level means "asserted" (or not) under the entry's current polarity. */
bool ioapic_assert_irq(struct ioapic *io, uint32_t pin, bool asserted, struct ioapic_result *res);
/* An EOI message for vector arrived (a LAPIC's EOI broadcast, or the EOI register): clears the
 * remote IRR of level entries with that vector and re-sends those whose line is still asserted.
 * Can't fail. */
void ioapic_eoi(struct ioapic *io, uint8_t vector, struct ioapic_result *res);
/* Redirection entry of pin as stored (0 for pins out of range). Pure. */
uint64_t ioapic_redirection(const struct ioapic *io, uint32_t pin);
/* True when the pin's input is asserted (level after polarity). Pure. */
bool ioapic_pin_asserted(const struct ioapic *io, uint32_t pin);
/* True when every invariant holds; otherwise false with the broken one in buf. Pure. */
bool ioapic_check_invariants(const struct ioapic *io, char *buf, size_t cap);

#endif
