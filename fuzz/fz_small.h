/* Inline forms of harness.h's fz_choose and fz_pick for a count the decoder knows at compile time
 * (at most 256 choices: one byte), for the decoders of the model harnesses, which take a few such
 * decisions per operation: inlined, the modulo by a constant is a multiply, where fz_choose's
 * modulo by its argument is a division. They read exactly the bytes fz_choose and fz_pick read and
 * give the same values, so inputs decode as before. */
#ifndef HVSIM_FUZZ_FZ_SMALL_H
#define HVSIM_FUZZ_FZ_SMALL_H

#include "harness.h"

/* fz_u8: the next byte, 0 past the end. Can't fail. */
static inline uint8_t fz_small_u8(struct fz_in *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

/* fz_choose(in, n) for 1 <= n <= 256. Can't fail. */
static inline size_t fz_small_choose(struct fz_in *in, size_t n)
{
	return fz_small_u8(in) % n;
}

/* fz_pick(in, table, n) for n <= 255. Can't fail. */
static inline uint64_t fz_small_pick(struct fz_in *in, const uint64_t *table, size_t n)
{
	size_t i = fz_small_choose(in, n + 1);

	return i < n ? table[i] : fz_u64(in);
}

#endif
