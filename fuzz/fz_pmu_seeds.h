/* The hand-made seeds of fuzz_pmu_msr (fz_pmu_seeds.c): operation lists with the configuration
 * byte they run on and what running them must reach. */
#ifndef HVSIM_FUZZ_PMU_SEEDS_H
#define HVSIM_FUZZ_PMU_SEEDS_H

#include "fz_pmu.h"

struct fz_pmu_seed {
	const char *name; /* the corpus file name */
	uint8_t config;   /* the configuration byte (fz_pmu_config_from) */
	const struct pmu_replay_op *ops;
	size_t n_ops;
	struct pmu_replay_stats wants; /* each counter must reach at least this */
};

/* Number of seeds, and the i-th (NULL past the end). Can't fail. */
size_t fz_pmu_seed_count(void);
const struct fz_pmu_seed *fz_pmu_seed_at(size_t i);
/* The seed's input bytes; 0 when they do not fit in cap. */
size_t fz_pmu_seed_bytes(const struct fz_pmu_seed *seed, uint8_t *buf, size_t cap);

#endif
