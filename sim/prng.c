/* xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64: small, fast, and good enough
 * for simulation choices. The algorithms are public domain; this is a fresh implementation from
 * their published definitions. */
#include <hvsim/prng.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_prng_seed(struct sim_prng *p, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&seed);
}

uint64_t sim_prng_next(struct sim_prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_prng_below(struct sim_prng *p, uint64_t bound)
{
	uint64_t limit, x;

	if (bound == 0)
		return 0;
	/* Reject the top partial bucket so every residue is equally likely; expected < 2 draws. */
	limit = UINT64_MAX - (UINT64_MAX % bound);
	do
		x = sim_prng_next(p);
	while (x >= limit);
	return x % bound;
}
