/* The sparse guest-RAM image of a snapshot (snapshot_mem.h). A page is kept when any of its bytes
 * is non-zero; the image is exact, so a restore gives the same bytes a full copy would. Restore
 * compares before it writes: pages equal to the image are not written, which keeps untouched
 * pages unpopulated on the host (a full copy made the kernel allocate and clear every page of the
 * RAM on each restore). */
#include "snapshot_mem.h"

#include <stdlib.h>
#include <string.h>

/* The scan reads megabytes per snapshot: ASan's per-load checks would make it the largest cost of
 * a sanitized fuzzing run, and the bytes are guest RAM the engine owns whole (never a partial
 * heap object). */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define SCAN_ATTR __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef SCAN_ATTR
#define SCAN_ATTR
#endif

SCAN_ATTR static bool page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;

	for (unsigned i = 0; i < SNAP_PAGE_BYTES / sizeof(*w); i++)
		acc |= w[i];
	return acc == 0;
}

/* Whether page i may hold a non-zero byte: touched is NULL (any may) or has its bit set. */
static bool kept(const uint8_t *mem, const uint64_t *touched, uint64_t i)
{
	if (touched && !(touched[i / 64] >> (i % 64) & 1))
		return false;
	return !page_zero(mem + i * SNAP_PAGE_BYTES);
}

static uint32_t count_nonzero(const uint8_t *mem, const uint64_t *touched, uint64_t pages)
{
	uint32_t n = 0;

	for (uint64_t i = 0; i < pages; i++)
		n += kept(mem, touched, i);
	return n;
}

/* Whether the page holds a present paging-structure entry whose accessed or dirty flag a page
 * walk could set (snapshot_mem.h walked). */
SCAN_ATTR static bool page_walkable(const uint8_t *p)
{
	const uint32_t *d = (const uint32_t *)(const void *)p;

	for (unsigned i = 0; i < SNAP_PAGE_BYTES / sizeof(*d); i++)
		if ((d[i] & 0x61u) != 0x61u && (d[i] & 1u))
			return true;
	return false;
}

static bool bitmaps_alloc(struct snap_mem *s, uint64_t pages, bool walk)
{
	size_t words = (size_t)((pages + 63) / 64);

	if (!words)
		words = 1;
	s->kept = calloc(words, sizeof(*s->kept));
	if (walk)
		s->walked = calloc(words, sizeof(*s->walked));
	return s->kept && (!walk || s->walked);
}

static void keep_page(struct snap_mem *s, uint32_t k, uint64_t i, const uint8_t *page)
{
	s->index[k] = (uint32_t)i;
	memcpy(s->pages + (size_t)k * SNAP_PAGE_BYTES, page, SNAP_PAGE_BYTES);
	s->kept[i / 64] |= UINT64_C(1) << (i % 64);
	if (s->walked && page_walkable(page))
		s->walked[i / 64] |= UINT64_C(1) << (i % 64);
}

bool snap_mem_take(struct snap_mem *s, const uint8_t *mem, uint64_t size, const uint64_t *touched,
                   bool walk)
{
	uint64_t pages = size / SNAP_PAGE_BYTES;
	uint32_t k = 0;

	memset(s, 0, sizeof(*s));
	s->size = size;
	s->n = count_nonzero(mem, touched, pages);
	if (!bitmaps_alloc(s, pages, walk))
		goto nomem;
	if (s->n == 0)
		return true;
	s->index = malloc(s->n * sizeof(*s->index));
	s->pages = malloc((size_t)s->n * SNAP_PAGE_BYTES);
	if (!s->index || !s->pages)
		goto nomem;
	for (uint64_t i = 0; i < pages && k < s->n; i++)
		if (kept(mem, touched, i))
			keep_page(s, k++, i, mem + i * SNAP_PAGE_BYTES);
	return true;
nomem:
	snap_mem_free(s);
	return false;
}

/* True when the page changed. */
static bool restore_page(uint8_t *dst, const uint8_t *src)
{
	if (src) {
		if (memcmp(dst, src, SNAP_PAGE_BYTES) == 0)
			return false;
		memcpy(dst, src, SNAP_PAGE_BYTES);
		return true;
	}
	if (page_zero(dst))
		return false;
	memset(dst, 0, SNAP_PAGE_BYTES);
	return true;
}

uint64_t snap_mem_restore(const struct snap_mem *s, uint8_t *mem, uint64_t size)
{
	uint64_t pages = (size < s->size ? size : s->size) / SNAP_PAGE_BYTES, end = 0;
	uint32_t k = 0;

	for (uint64_t i = 0; i < pages; i++) {
		const uint8_t *src = NULL;

		if (k < s->n && s->index[k] == i)
			src = s->pages + (size_t)k++ * SNAP_PAGE_BYTES;
		if (restore_page(mem + i * SNAP_PAGE_BYTES, src))
			end = (i + 1) * SNAP_PAGE_BYTES;
	}
	return end;
}

/* The kept image of page i, NULL when the page is all zero. */
static const uint8_t *kept_page(const struct snap_mem *s, uint64_t i)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->index[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->index[lo] == i ? s->pages + (size_t)lo * SNAP_PAGE_BYTES : NULL;
}

uint64_t snap_mem_restore_marked(const struct snap_mem *s, uint8_t *mem, uint64_t size,
                                 const uint64_t *marked)
{
	uint64_t pages = (size < s->size ? size : s->size) / SNAP_PAGE_BYTES, end = 0;

	for (uint64_t w = 0; w * 64 < pages; w++)
		for (uint64_t bits = marked[w]; bits; bits &= bits - 1) {
			uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(bits);

			if (i < pages && restore_page(mem + i * SNAP_PAGE_BYTES, kept_page(s, i)))
				end = (i + 1) * SNAP_PAGE_BYTES;
		}
	return end;
}

void snap_mem_free(struct snap_mem *s)
{
	free(s->index);
	free(s->pages);
	free(s->kept);
	free(s->walked);
	memset(s, 0, sizeof(*s));
}
