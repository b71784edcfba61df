/* Private layout of the I/O APIC model (ioapic.c), visible to tests that corrupt state on purpose.
 *
 * Invariants (ioapic_check_invariants): reserved RTE bits and delivery status are 0; remote IRR
 * is set only on level-triggered fixed/lowest-priority entries; an unmasked level entry whose
 * input is asserted always has remote IRR set (it was sent); nothing is stored beyond cfg.pins. */
#ifndef HVSIM_IOAPIC_INT_H
#define HVSIM_IOAPIC_INT_H

#include <hvsim/ioapic.h>

struct ioapic {
	struct ioapic_config cfg;
	uint64_t redtbl[IOAPIC_MAX_PINS]; /* redirection entries, datasheet layout */
	uint8_t level[IOAPIC_MAX_PINS];   /* electrical level of each input: 0 low, 1 high */
	uint32_t ioregsel;                /* IOREGSEL[7:0] */
	uint8_t id;                       /* IOAPICID[27:24] */
	uint8_t arb;                      /* IOAPICARB[27:24] */
};

#endif
