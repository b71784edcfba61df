/* The structure-aware byte reader of the fuzzing harnesses (harness.h). Every take consumes bytes
 * from the front, so a mutation of one byte changes one decision; input that runs out reads as
 * zero, so every input decodes to some operation sequence and decoding never fails. The writer at
 * the end is its inverse, for seed generators; fz_read_file reads a whole input file. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

void fz_init(struct fz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->len = data ? size : 0;
	in->pos = 0;
}

size_t fz_left(const struct fz_in *in)
{
	return in->len - in->pos;
}

static uint64_t take(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->pos < in->len; i++)
		v |= (uint64_t)in->p[in->pos++] << (8 * i);
	return v;
}

uint8_t fz_u8(struct fz_in *in)
{
	return (uint8_t)take(in, 1);
}

uint16_t fz_u16(struct fz_in *in)
{
	return (uint16_t)take(in, 2);
}

uint32_t fz_u32(struct fz_in *in)
{
	return (uint32_t)take(in, 4);
}

uint64_t fz_u64(struct fz_in *in)
{
	return take(in, 8);
}

bool fz_bool(struct fz_in *in)
{
	return take(in, 1) & 1;
}

size_t fz_choose(struct fz_in *in, size_t n)
{
	if (n <= 1) {
		if (n == 1)
			take(in,
			     1); /* still one decision: keeps the layout of later operands stable */
		return 0;
	}
	return (size_t)(take(in, n <= 256 ? 1 : 4) % n);
}

uint64_t fz_range(struct fz_in *in, uint64_t lo, uint64_t hi)
{
	uint64_t span;

	if (hi <= lo)
		return lo;
	span = hi - lo;
	if (span <= 0xff)
		return lo + take(in, 1) % (span + 1);
	if (span <= 0xffff)
		return lo + take(in, 2) % (span + 1);
	if (span <= 0xffffffff)
		return lo + take(in, 4) % (span + 1);
	return span == UINT64_MAX ? take(in, 8) : lo + take(in, 8) % (span + 1);
}

uint64_t fz_pick(struct fz_in *in, const uint64_t *table, size_t n)
{
	size_t i = fz_choose(in, n + 1);

	return i < n ? table[i] : take(in, 8);
}

size_t fz_bytes(struct fz_in *in, void *dst, size_t max)
{
	size_t n = (size_t)take(in, 1);

	if (n > max)
		n = max;
	if (n > fz_left(in))
		n = fz_left(in);
	if (n) {
		memcpy(dst, in->p + in->pos, n);
		in->pos += n;
	}
	return n;
}

bool fz_more(struct fz_in *in, unsigned *iter, unsigned max)
{
	if (*iter >= max || fz_left(in) == 0)
		return false;
	(*iter)++;
	return true;
}

uint8_t *fz_read_file(FILE *f, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap), *grown;

	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || ferror(f))
			break;
		if (cap >= max || !(grown = realloc(buf, cap * 2))) {
			free(buf);
			return NULL;
		}
		buf = grown;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

uint64_t fz_hash(const void *data, size_t size)
{
	const uint8_t *p = data;
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 */

	for (size_t i = 0; i < size; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* One multiply by an odd constant per value: for given values each step is a bijection of the
 * hash, so two runs that differ in one value alone end with different hashes (the determinism
 * checks compare them; byte-wise FNV took eight multiplies). */
void fz_mix(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * UINT64_C(0x100000001b3);
}

/* ---- The writer ---- */

void fz_out_init(struct fz_out *o, uint8_t *buf, size_t cap)
{
	o->p = buf;
	o->len = 0;
	o->cap = buf ? cap : 0;
	o->overflow = false;
}

void fz_put(struct fz_out *o, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && i < 8; i++) {
		if (o->len == o->cap) {
			o->overflow = true;
			return;
		}
		o->p[o->len++] = (uint8_t)(v >> (8 * i));
	}
}

void fz_put_choose(struct fz_out *o, size_t n, size_t index)
{
	fz_put(o, index, n <= 256 ? 1 : 4);
}

void fz_put_pick(struct fz_out *o, const uint64_t *table, size_t n, uint64_t value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i] == value) {
			fz_put_choose(o, n + 1, i);
			return;
		}
	fz_put_choose(o, n + 1, n);
	fz_put(o, value, 8);
}
