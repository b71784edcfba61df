/* The fuzz invariants' failure reasons: every named invariant returns false with why filled. */
#ifndef HVSIM_FUZZ_FZ_WHY_H
#define HVSIM_FUZZ_FZ_WHY_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the reason into why (cap bytes, truncated) and returns false, for `return fz_fail(...)`.
 */
bool fz_fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
