/* The hand-made seeds of fuzz_hv_transitions (fz_hvt_seeds.c): operation lists with the machine
 * and quirks they run on and what running them must reach. */
#ifndef HVSIM_FUZZ_HVT_SEEDS_H
#define HVSIM_FUZZ_HVT_SEEDS_H

#include "fz_hvt.h"

/* What a seed's run must reach (each counter at least this). */
struct fz_hvt_want {
	unsigned injections, eois, timer_fires;
	uint16_t exit_reason; /* with exits_of_reason: at least that many exits of it */
	unsigned exits_of_reason;
	const char *finding; /* a finding kind the run must report, NULL: none needed */
};

struct fz_hvt_seed {
	const char *name; /* the corpus file name */
	unsigned vcpus;   /* 1 or 2 */
	bool split, apicv, code;
	uint8_t cpu;
	const char *quirks; /* "name=value name=value", the others at their default */
	const struct fz_hvt_op *ops;
	size_t n_ops;
	struct fz_hvt_want want;
	bool nested, vmx_ops; /* machine.nested; vmx operations (fz_hvt_config) */
};

/* Number of seeds, and the i-th (NULL past the end). Can't fail. */
size_t fz_hvt_seed_count(void);
const struct fz_hvt_seed *fz_hvt_seed_at(size_t i);
/* The seed whose corpus file name is name; NULL when none. */
const struct fz_hvt_seed *fz_hvt_seed_named(const char *name);
/* The seed's configuration. False when its quirks name something the kvm algorithm lacks. */
bool fz_hvt_seed_config(const struct fz_hvt_seed *seed, struct fz_hvt_config *cfg);
/* The seed's input bytes; 0 when they do not fit in cap or its configuration is bad. */
size_t fz_hvt_seed_bytes(const struct fz_hvt_seed *seed, uint8_t *buf, size_t cap);

#endif
