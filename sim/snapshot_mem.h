/* Guest RAM in a snapshot, kept sparse: only the pages that are not all zero (a fuzzing machine
 * touches a few pages of its megabytes). Restoring writes only the pages that differ, so pages
 * the guest never touched stay unpopulated (reading them maps the host's shared zero page). */
#ifndef HVSIM_SIM_SNAPSHOT_MEM_H
#define HVSIM_SIM_SNAPSHOT_MEM_H

#include <hvsim/base.h>

#define SNAP_PAGE_BYTES 4096u

struct snap_mem {
	uint64_t size;   /* bytes of the RAM it was taken from (a multiple of SNAP_PAGE_BYTES) */
	uint32_t n;      /* pages kept */
	uint32_t *index; /* page numbers of the kept pages, ascending */
	uint8_t *pages;  /* n * SNAP_PAGE_BYTES bytes, in index order */
	uint64_t *kept;  /* the kept pages as a bitmap (page i in bit i % 64 of word i / 64) */
	/* NULL, or the pages where a page walker may set an accessed or dirty bit: those holding an
	 * aligned doubleword with bit 0 (P) set and bit 5 (A) or 6 (D) clear, the low half of every
	 * paging-structure entry a walk can update (SDM 4.8 "Accessed and Dirty Flags") */
	uint64_t *walked;
};

/* Copies the non-zero pages of mem[0..size) into s. size must be a multiple of SNAP_PAGE_BYTES.
 * touched, when not NULL, has a bit set for every page that may be non-zero (bit i % 64 of word
 * i / 64); only those are looked at. walk: also fill s->walked. Returns false when out of memory
 * (s is then empty and needs no free). */
bool snap_mem_take(struct snap_mem *s, const uint8_t *mem, uint64_t size, const uint64_t *touched,
                   bool walk);
/* Makes mem[0..size) equal to what s holds (size must be the size it was taken from). Returns
 * the end of the last page that changed, 0 when none did. Can't fail. */
uint64_t snap_mem_restore(const struct snap_mem *s, uint8_t *mem, uint64_t size);
/* The same for RAM known to equal s outside the pages marked in marked (one bit per page, page i
 * in bit i % 64 of word i / 64): only those are compared and written. Can't fail. */
uint64_t snap_mem_restore_marked(const struct snap_mem *s, uint8_t *mem, uint64_t size,
                                 const uint64_t *marked);
/* Frees what s holds; s may be empty. */
void snap_mem_free(struct snap_mem *s);

#endif
