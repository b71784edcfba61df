/* Verifies the ns -> TSC conversion (sim/clock.c): floor(ns * tsc_khz / 10^6) modulo 2^64, the
 * TSC a constant-rate clock shows after ns nanoseconds (SDM Vol. 3B 18.17 "Time-Stamp Counter"),
 * computed without a 128-bit division; compared with the 128-bit formula at the edges. */
#include <criterion/criterion.h>

#include <hvsim/clock.h>

typedef unsigned __int128 u128;

static uint64_t reference(uint64_t ns, uint64_t khz)
{
	return (uint64_t)((u128)ns * khz / 1000000);
}

Test(clock, ns_to_tsc_equals_the_128_bit_formula)
{
	static const uint64_t ns[] = {0,
	                              1,
	                              999999,
	                              1000000,
	                              1000001,
	                              3505,
	                              123456789012,
	                              UINT64_MAX / 3,
	                              UINT64_MAX,
	                              UINT64_MAX - 999999,
	                              18446744073709};
	static const uint64_t khz[] = {
	    1000,      2000000, 2995200, 10000000, UINT64_MAX / 1000000, UINT64_MAX / 1000000 + 1,
	    UINT64_MAX};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (size_t k = 0; k < sizeof(khz) / sizeof(khz[0]); k++)
			cr_expect_eq(sim_ns_to_tsc(ns[i], khz[k]), reference(ns[i], khz[k]),
			             "ns %llu at %llu kHz: %llu, wanted %llu",
			             (unsigned long long)ns[i], (unsigned long long)khz[k],
			             (unsigned long long)sim_ns_to_tsc(ns[i], khz[k]),
			             (unsigned long long)reference(ns[i], khz[k]));
}
