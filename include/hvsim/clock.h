/* Virtual time. Nanoseconds are the unit of the whole engine; TSC values are derived from them. */
#ifndef HVSIM_CLOCK_H
#define HVSIM_CLOCK_H

#include <hvsim/base.h>

/* Largest virtual time a scenario may reach: traces write times as JSON numbers, exact up to 2^53.
 */
#define SIM_NS_MAX     ((UINT64_C(1) << 53) - 1)
#define SIM_NS_PER_SEC UINT64_C(1000000000)

/* TSC ticks elapsed after ns nanoseconds at tsc_khz kHz; exact (128-bit intermediate), rounds down.
 */
uint64_t sim_ns_to_tsc(uint64_t ns, uint64_t tsc_khz);
/* Smallest ns at which sim_ns_to_tsc(ns, tsc_khz) >= tsc; saturates at UINT64_MAX. tsc_khz 0: 0. */
uint64_t sim_tsc_to_ns(uint64_t tsc, uint64_t tsc_khz);
/* (tsc * multiplier) >> frac_bits, as VMX TSC scaling computes it (SDM 26.6.5 "Time-Stamp Counter
 * Offset and Multiplier": 48 fraction bits); the product keeps its low 64 bits of integer part. */
uint64_t sim_tsc_scale(uint64_t tsc, uint64_t multiplier, unsigned frac_bits);

#endif
