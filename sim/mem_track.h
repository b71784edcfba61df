/* Which pages of guest RAM changed since it last equalled a snapshot's image (snapshot.c), so that
 * restoring that snapshot rewrites only those pages instead of comparing the whole RAM. Every write
 * to RAM after creation marks its pages: the engine's write services (hvsim_guest_write,
 * hvsim_host_write), its page-table rebuilds and image reloads, and a code guest's backend
 * (Unicorn), which marks every store the guest makes (uc_track.c). The one writer that cannot mark
 * is a CPU's page walker, which sets accessed and dirty bits in paging-structure entries: a
 * snapshot lists the pages of its image where it could (snap_mem walked) and the record counts
 * them as written from the moment RAM equals that image. Besides the snapshot RAM last equalled,
 * the record knows the one before it and the pages where the two differ, so that a run can
 * snapshot itself and still go back cheaply to where it started (fuzz_hv_transitions'
 * snapshot_rerun). It also keeps which pages may hold a non-zero byte, so that a snapshot looks
 * for non-zero bytes only there. */
#ifndef HVSIM_SIM_MEM_TRACK_H
#define HVSIM_SIM_MEM_TRACK_H

#include <hvsim/base.h>

struct mem_track {
	uint64_t *bits;      /* one bit per page written since RAM equalled snapshot `base` */
	uint64_t *prev_bits; /* the pages where snapshots `prev` and `base` may differ */
	uint64_t *touched;   /* one bit per page that may be non-zero: the others are all zero */
	uint32_t pages;
	uint64_t base; /* serial of that snapshot; 0 when RAM equals none */
	uint64_t prev; /* serial of the snapshot prev_bits relates to base; 0 when none */
};

/* Sets up t for size bytes of RAM (a multiple of the page size), equal to no snapshot. Returns
 * false when out of memory (t then needs no free). */
bool mem_track_init(struct mem_track *t, uint64_t size);
void mem_track_free(struct mem_track *t);
/* Marks the pages of [gpa, gpa+len) inside RAM as written. Can't fail. */
void mem_track_mark(struct mem_track *t, uint64_t gpa, uint64_t len);
/* The pages that may hold a non-zero byte (the others never left their initial zeros), one bit per
 * page (page i in bit i % 64 of word i / 64); NULL for a VM without RAM. */
const uint64_t *mem_track_touched(const struct mem_track *t);
/* The pages where RAM may differ from snapshot serial's image, as touched; NULL when unknown
 * (compare every page). Valid until the next call on t. */
const uint64_t *mem_track_diff(struct mem_track *t, uint64_t serial);
/* Snapshot serial was just taken of RAM (RAM now equals its image), or RAM was just made equal to
 * snapshot serial's image. nonzero: the image's non-zero pages, walked: the pages a page walker
 * may write without a mark (both as touched; either NULL: unknown, none). Can't fail. */
void mem_track_took(struct mem_track *t, uint64_t serial, const uint64_t *nonzero,
                    const uint64_t *walked);
void mem_track_restored(struct mem_track *t, uint64_t serial, const uint64_t *nonzero,
                        const uint64_t *walked);

#endif
