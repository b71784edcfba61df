/* The hand-made seeds of fuzz_lapic_ioapic (fz_apic_seeds.c): operation lists with the machine
 * they run on and what running them must reach. */
#ifndef HVSIM_FUZZ_APIC_SEEDS_H
#define HVSIM_FUZZ_APIC_SEEDS_H

#include "fz_apic_ops.h"

struct fz_apic_seed {
	const char *name; /* the corpus file name */
	uint16_t config;  /* the two configuration bytes (fz_apic_config_from) */
	const struct fz_apic_op *ops;
	size_t n_ops;
	struct fz_apic_stats wants; /* each counter must reach at least this */
};

/* Number of seeds, and the i-th (NULL past the end). Can't fail. */
size_t fz_apic_seed_count(void);
const struct fz_apic_seed *fz_apic_seed_at(size_t i);
/* The seed's input bytes; 0 when they do not fit in cap. */
size_t fz_apic_seed_bytes(const struct fz_apic_seed *seed, uint8_t *buf, size_t cap);

#endif
