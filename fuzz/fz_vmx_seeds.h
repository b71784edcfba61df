/* The hand-made seeds of fuzz_vmcs_entry (fz_vmx_seeds.c): operation lists with the profile they
 * run on and the outcomes running them must reach. */
#ifndef HVSIM_FUZZ_VMX_SEEDS_H
#define HVSIM_FUZZ_VMX_SEEDS_H

#include "fz_vmx_ops.h"

struct fz_vmx_seed {
	const char *name; /* the corpus file name */
	uint8_t profile;  /* the first input byte */
	const struct fz_vmx_op *ops;
	size_t n_ops;
	struct fz_vmx_stats wants; /* each counter must reach at least this */
};

/* Number of seeds, and the i-th (NULL past the end). Can't fail. */
size_t fz_vmx_seed_count(void);
const struct fz_vmx_seed *fz_vmx_seed_at(size_t i);
/* The seed's input bytes; 0 when they do not fit in cap. */
size_t fz_vmx_seed_bytes(const struct fz_vmx_seed *seed, uint8_t *buf, size_t cap);

#endif
