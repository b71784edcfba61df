/* The written-page record of guest RAM (mem_track.h): bitmaps, one bit per page, against the
 * snapshot whose image RAM last equalled and the one taken or restored before it. */
#include "mem_track.h"

#include "snapshot_mem.h"

#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

static size_t words(const struct mem_track *t)
{
	size_t n = (t->pages + WORD_BITS - 1) / WORD_BITS;

	return n ? n : 1;
}

bool mem_track_init(struct mem_track *t, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	t->pages = (uint32_t)(size / SNAP_PAGE_BYTES);
	t->bits = calloc(words(t), sizeof(*t->bits));
	t->prev_bits = calloc(words(t), sizeof(*t->prev_bits));
	t->touched = calloc(words(t), sizeof(*t->touched));
	if (!t->bits || !t->prev_bits || !t->touched) {
		mem_track_free(t);
		return false;
	}
	return true;
}

void mem_track_free(struct mem_track *t)
{
	free(t->bits);
	free(t->prev_bits);
	free(t->touched);
	memset(t, 0, sizeof(*t));
}

void mem_track_mark(struct mem_track *t, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa / SNAP_PAGE_BYTES, last;

	if (!len || !t->bits || first >= t->pages)
		return;
	last = (gpa + len - 1) / SNAP_PAGE_BYTES;
	if (last >= t->pages || gpa + len < gpa)
		last = t->pages - 1;
	for (uint64_t p = first; p <= last; p++) {
		t->bits[p / WORD_BITS] |= UINT64_C(1) << (p % WORD_BITS);
		t->touched[p / WORD_BITS] |= UINT64_C(1) << (p % WORD_BITS);
	}
}

const uint64_t *mem_track_touched(const struct mem_track *t)
{
	return t->touched;
}

const uint64_t *mem_track_diff(struct mem_track *t, uint64_t serial)
{
	if (!t->bits || !serial || !t->base)
		return NULL;
	if (serial == t->base)
		return t->bits;
	if (serial != t->prev)
		return NULL;
	/* RAM is base's image but for bits, and base's image is prev's but for prev_bits */
	for (size_t w = 0; w < words(t); w++)
		t->bits[w] |= t->prev_bits[w];
	return t->bits;
}

/* RAM equals an image now: the pages that may be non-zero are its non-zero pages, and the ones
 * that count as written from now on are those its page walker may write. */
static void equal_to(struct mem_track *t, const uint64_t *nonzero, const uint64_t *walked)
{
	size_t n = words(t) * sizeof(*t->bits);

	if (nonzero)
		memcpy(t->touched, nonzero, n);
	if (walked)
		memcpy(t->bits, walked, n);
	else
		memset(t->bits, 0, n);
}

void mem_track_took(struct mem_track *t, uint64_t serial, const uint64_t *nonzero,
                    const uint64_t *walked)
{
	if (!t->bits)
		return;
	t->prev = t->base; /* RAM was base's image but for bits: so is the new snapshot */
	memcpy(t->prev_bits, t->bits, words(t) * sizeof(*t->bits));
	equal_to(t, nonzero, walked);
	t->base = serial;
}

void mem_track_restored(struct mem_track *t, uint64_t serial, const uint64_t *nonzero,
                        const uint64_t *walked)
{
	if (!t->bits)
		return;
	if (t->base && serial == t->prev && serial != t->base) {
		t->prev = t->base; /* prev_bits relates the two either way round */
	} else if (serial != t->base) {
		t->prev = 0;
	}
	equal_to(t, nonzero, walked);
	t->base = serial;
}
