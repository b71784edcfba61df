/* Conversions between virtual nanoseconds and TSC ticks. The TSC is never read from the host: it is
 * a function of virtual time, the configured TSC frequency, and what the hypervisor programmed. */
#include <hvsim/clock.h>

typedef unsigned __int128 u128;

#define KHZ_PER_GHZ UINT64_C(1000000)

/* floor(ns * tsc_khz / 10^6) mod 2^64, split at whole milliseconds so that the division is of a
 * 64-bit value by a constant (a multiply) rather than a 128-bit library call: with
 * ns = q * 10^6 + r, the result is q * tsc_khz + floor(r * tsc_khz / 10^6), exactly. */
uint64_t sim_ns_to_tsc(uint64_t ns, uint64_t tsc_khz)
{
	uint64_t q = ns / KHZ_PER_GHZ, r = ns % KHZ_PER_GHZ;

	if (tsc_khz > UINT64_MAX / KHZ_PER_GHZ) /* r * tsc_khz could overflow 64 bits */
		return (uint64_t)((u128)ns * tsc_khz / KHZ_PER_GHZ);
	return q * tsc_khz + r * tsc_khz / KHZ_PER_GHZ;
}

uint64_t sim_tsc_to_ns(uint64_t tsc, uint64_t tsc_khz)
{
	u128 ns;

	if (tsc_khz == 0)
		return 0;
	ns = ((u128)tsc * KHZ_PER_GHZ + tsc_khz - 1) / tsc_khz;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

uint64_t sim_tsc_scale(uint64_t tsc, uint64_t multiplier, unsigned frac_bits)
{
	if (frac_bits >= 128)
		return 0;
	return (uint64_t)(((u128)tsc * multiplier) >> frac_bits);
}
