/* The Unicorn backend's translations kept across changes of guest memory it did not see: a
 * snapshot restore, an image reload, an engine write to code. Instead of dropping every
 * translation, the backend keeps a copy (the shadow) of each page code was translated from, as it
 * was when last translated or compared, and before the next run compares the pages with RAM: only
 * the bytes from the first to the last that differ lose their Unicorn translations, their decoded
 * blocks and their trap sites (uc_cache_drop), so a reloaded image that keeps its prologue and
 * first fragments, or a restore that left the code as it was, keeps what was translated. The
 * guest's own stores to code need none of this: Unicorn retranslates those blocks itself and each
 * retranslation is decoded again (uc_int.h). Pages are numbered by linear address, where Unicorn
 * 2.0.1 reads code whatever the guest's paging says (uc_track.c). */
#include "uc_int.h"

#include <stdlib.h>
#include <string.h>

#define PAGE UINT64_C(4096)

/* Grows the shadow to cover pages [lo, hi), new pages copied from RAM. False when out of memory
 * (the shadow is then dropped: every page counts as changed). */
static bool shadow_cover(struct uc_cpu *c, uint64_t lo, uint64_t hi)
{
	uint64_t nlo = c->shadow ? (lo < c->shadow_lo ? lo : c->shadow_lo) : lo;
	uint64_t nhi = c->shadow ? (hi > c->shadow_hi ? hi : c->shadow_hi) : hi;
	uint8_t *n;

	if (c->shadow && nlo == c->shadow_lo && nhi == c->shadow_hi)
		return true;
	if (nhi * PAGE > c->m->mem_size || !(n = malloc((nhi - nlo) * PAGE))) {
		uc_keep_forget(c);
		return false;
	}
	memcpy(n, c->m->mem + nlo * PAGE, (nhi - nlo) * PAGE);
	if (c->shadow)
		memcpy(n + (c->shadow_lo - nlo) * PAGE, c->shadow,
		       (c->shadow_hi - c->shadow_lo) * PAGE);
	free(c->shadow);
	c->shadow = n;
	c->shadow_lo = nlo;
	c->shadow_hi = nhi;
	return true;
}

void uc_keep_note(struct uc_cpu *c, uint64_t la, uint64_t len)
{
	if (!len || la >= c->m->mem_size || len > c->m->mem_size - la ||
	    !shadow_cover(c, la / PAGE, (la + len - 1) / PAGE + 1))
		return;
	memcpy(c->shadow + (la - c->shadow_lo * PAGE), c->m->mem + la, len);
}

void uc_keep_forget(struct uc_cpu *c)
{
	free(c->shadow);
	c->shadow = NULL;
	c->shadow_lo = c->shadow_hi = 0;
}

/* Widens [*lo, *hi) by the bytes of page p that differ from the shadow, and copies them over. */
static void page_diff(struct uc_cpu *c, uint64_t p, uint64_t *lo, uint64_t *hi)
{
	const uint8_t *ram = c->m->mem + p * PAGE;
	uint8_t *old = c->shadow + (p - c->shadow_lo) * PAGE;
	uint64_t first = 0, last = PAGE;

	if (memcmp(ram, old, PAGE) == 0)
		return;
	while (ram[first] == old[first])
		first++;
	while (ram[last - 1] == old[last - 1])
		last--;
	memcpy(old + first, ram + first, last - first);
	if (p * PAGE + first < *lo)
		*lo = p * PAGE + first;
	if (p * PAGE + last > *hi)
		*hi = p * PAGE + last;
}

static void page_changes(struct uc_cpu *c, uint64_t p, uint64_t *lo, uint64_t *hi)
{
	if (p >= c->shadow_lo && p < c->shadow_hi) {
		page_diff(c, p, lo, hi);
		return;
	}
	if (p * PAGE < *lo) /* never noted (cannot happen): the whole page */
		*lo = p * PAGE;
	if (p * PAGE + PAGE > *hi)
		*hi = p * PAGE + PAGE;
}

void uc_keep_sync(struct uc_cpu *c)
{
	uint64_t lo = UINT64_MAX, hi = 0, cr0;

	c->flush_pending = false;
	if (!c->code_hi)
		return;
	if (!c->shadow || !c->code_pages) { /* nothing to compare with: all of it changed */
		lo = c->code_lo * PAGE;
		hi = c->code_hi * PAGE;
	} else {
		for (uint64_t p = c->code_lo; p < c->code_hi; p++)
			if (c->code_pages[p / 8] & (1u << (p % 8)))
				page_changes(c, p, &lo, &hi);
	}
	if (lo >= hi)
		return;
	cr0 = uc_paging_lift(c); /* uc_hook_del drops translations too (uc_mem.c) */
	uc_ctl_remove_cache(c->uc, lo, hi);
	uc_cache_drop(c, lo, hi);
	uc_paging_restore(c, cr0);
}
