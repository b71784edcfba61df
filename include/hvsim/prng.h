/* The seeded PRNG: xoshiro256** seeded through splitmix64. The only randomness in a simulation. */
#ifndef HVSIM_PRNG_H
#define HVSIM_PRNG_H

#include <hvsim/base.h>

/* A plain value: embed it, copy it to snapshot it. */
struct sim_prng {
	uint64_t s[4];
};

/* Seeds the four state words from splitmix64(seed); any seed, 0 included, gives a valid state. */
void sim_prng_seed(struct sim_prng *p, uint64_t seed);
/* Next 64 uniformly distributed bits. Can't fail. */
uint64_t sim_prng_next(struct sim_prng *p);
/* Uniform value in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t sim_prng_below(struct sim_prng *p, uint64_t bound);

#endif
