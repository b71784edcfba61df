/* Verifies the sparse guest-RAM image of snapshots (sim/snapshot_mem.c): it keeps exactly the
 * pages that hold a non-zero byte, and a restore makes RAM byte-identical to the RAM it was taken
 * from whatever happened to it since (pages written, zeroed, newly touched). */
#include "../sim/snapshot_mem.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define PAGES 16
#define BYTES (PAGES * SNAP_PAGE_BYTES)

Test(snapshot_mem, keeps_only_pages_with_a_nonzero_byte)
{
	uint8_t *ram = calloc(1, BYTES);
	struct snap_mem s;

	ram[3 * SNAP_PAGE_BYTES + 4095] = 1;
	ram[9 * SNAP_PAGE_BYTES] = 0x80;
	cr_assert(snap_mem_take(&s, ram, BYTES, NULL, false));
	cr_expect_eq(s.n, 2, "pages kept: wanted 2 (pages 3 and 9), got %u", s.n);
	cr_expect(s.n == 2 && s.index[0] == 3 && s.index[1] == 9, "kept pages are not 3 and 9");
	snap_mem_free(&s);
	free(ram);
}

Test(snapshot_mem, an_all_zero_ram_keeps_nothing_and_restores_zeroes)
{
	uint8_t *ram = calloc(1, BYTES), *zero = calloc(1, BYTES);
	struct snap_mem s;

	cr_assert(snap_mem_take(&s, ram, BYTES, NULL, false));
	cr_expect_eq(s.n, 0, "pages kept of zero RAM: %u", s.n);
	memset(ram + 5 * SNAP_PAGE_BYTES + 100, 0xaa, 3000);
	snap_mem_restore(&s, ram, BYTES);
	cr_expect(memcmp(ram, zero, BYTES) == 0,
	          "a page written after the snapshot was not zeroed");
	snap_mem_free(&s);
	free(zero);
	free(ram);
}

Test(snapshot_mem, restore_is_byte_exact_after_writes_zeroing_and_new_pages)
{
	uint8_t *ram = calloc(1, BYTES), *want = malloc(BYTES);
	struct snap_mem s;

	for (unsigned i = 0; i < BYTES; i += 97)
		ram[i] = (uint8_t)(i * 7 + 1);                 /* every page non-zero */
	memset(ram + 2 * SNAP_PAGE_BYTES, 0, SNAP_PAGE_BYTES); /* one zero page */
	memcpy(want, ram, BYTES);
	cr_assert(snap_mem_take(&s, ram, BYTES, NULL, false));
	cr_expect_eq(s.n, PAGES - 1, "pages kept: wanted %u, got %u", PAGES - 1, s.n);
	memset(ram + 4 * SNAP_PAGE_BYTES, 0, SNAP_PAGE_BYTES); /* a kept page zeroed */
	ram[2 * SNAP_PAGE_BYTES + 17] = 5;                     /* the zero page touched */
	ram[11 * SNAP_PAGE_BYTES + 1] ^= 0xff;                 /* a kept page changed */
	snap_mem_restore(&s, ram, BYTES);
	for (unsigned p = 0; p < PAGES; p++)
		cr_expect(memcmp(ram + p * SNAP_PAGE_BYTES, want + p * SNAP_PAGE_BYTES,
		                 SNAP_PAGE_BYTES) == 0,
		          "page %u differs after restore", p);
	snap_mem_free(&s);
	free(want);
	free(ram);
}

/* The written-page record (sim/mem_track.h) tells a snapshot where non-zero bytes may be. */
Test(snapshot_mem, looks_only_at_touched_pages_when_told_which)
{
	uint8_t *ram = calloc(1, BYTES);
	uint64_t touched = UINT64_C(1) << 9;
	struct snap_mem s;

	ram[3 * SNAP_PAGE_BYTES] = 1; /* not in touched: the record says it cannot be */
	ram[9 * SNAP_PAGE_BYTES + 7] = 2;
	cr_assert(snap_mem_take(&s, ram, BYTES, &touched, false));
	cr_expect(s.n == 1 && s.index[0] == 9, "pages kept: wanted only page 9, got %u pages", s.n);
	snap_mem_free(&s);
	free(ram);
}

Test(snapshot_mem, restoring_marked_pages_rewrites_exactly_those)
{
	uint8_t *ram = calloc(1, BYTES);
	uint64_t marked = UINT64_C(1) << 5 | UINT64_C(1) << 12;
	struct snap_mem s;

	ram[5 * SNAP_PAGE_BYTES] = 0x11;
	cr_assert(snap_mem_take(&s, ram, BYTES, NULL, false));
	ram[5 * SNAP_PAGE_BYTES] = 0x22;  /* marked, kept page: back to 0x11 */
	ram[12 * SNAP_PAGE_BYTES] = 0x33; /* marked, zero page: back to 0 */
	ram[7 * SNAP_PAGE_BYTES] = 0x44;  /* not marked: left as it is */
	snap_mem_restore_marked(&s, ram, BYTES, &marked);
	cr_expect_eq(ram[5 * SNAP_PAGE_BYTES], 0x11, "page 5: 0x%02x, wanted 0x11",
	             ram[5 * SNAP_PAGE_BYTES]);
	cr_expect_eq(ram[12 * SNAP_PAGE_BYTES], 0, "page 12: 0x%02x, wanted 0",
	             ram[12 * SNAP_PAGE_BYTES]);
	cr_expect_eq(ram[7 * SNAP_PAGE_BYTES], 0x44, "page 7: 0x%02x, wanted 0x44 (unmarked)",
	             ram[7 * SNAP_PAGE_BYTES]);
	snap_mem_free(&s);
	free(ram);
}
