/* The written-page record of guest RAM (mem_track.h): a bitmap, one bit per page, against the
 * snapshot whose image RAM last equalled. */
#include "mem_track.h"

#include "snapshot_mem.h"

#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

static size_t words(uint32_t pages)
{
	return (pages + WORD_BITS - 1) / WORD_BITS;
}

bool mem_track_init(struct mem_track *t, uint64_t size, bool on)
{
	memset(t, 0, sizeof(*t));
	t->pages = (uint32_t)(size / SNAP_PAGE_BYTES);
	t->on = on;
	t->bits = calloc(words(t->pages) ? words(t->pages) : 1, sizeof(*t->bits));
	t->touched = calloc(words(t->pages) ? words(t->pages) : 1, sizeof(*t->touched));
	if (!t->bits || !t->touched) {
		mem_track_free(t);
		return false;
	}
	return true;
}

void mem_track_free(struct mem_track *t)
{
	free(t->bits);
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
	return t->on ? t->touched : NULL;
}

bool mem_track_knows(const struct mem_track *t, uint64_t serial)
{
	return t->on && t->bits && serial && t->base == serial;
}

void mem_track_reset(struct mem_track *t, uint64_t serial)
{
	if (t->bits)
		memset(t->bits, 0, words(t->pages) * sizeof(*t->bits));
	t->base = serial;
}
