/* String equality for the engine's hot paths (trace event kinds, quirk names, reloads): a plain
 * loop rather than strcmp, which a libFuzzer build intercepts and records at every call (those
 * records were 1-2% of fuzz_hv_transitions, and the strings compared are the engine's own, never
 * values a fuzzer could use). The result is strcmp(a, b) == 0's. */
#ifndef HVSIM_STR_EQ_H
#define HVSIM_STR_EQ_H

#include <stdbool.h>

static inline bool sim_str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Equal strings, or both NULL. Names an algorithm or a fuzz harness passes are often the very
 * strings compared with, so equal pointers spare the comparison. */
static inline bool sim_same_str(const char *a, const char *b)
{
	return a == b || (a && b && sim_str_eq(a, b));
}

#endif
