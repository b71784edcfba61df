/* Verifies hvsim's identity page tables (sim/guest_setup.c gs_build_paging): with 4-level paging
 * (SDM 4.5) every RAM address maps to itself and a hole (an MMIO region) is not present, so that
 * an access there faults; a rebuild writes only the pages whose content changes and says which,
 * and a map that needs more page tables than the pool holds leaves memory untouched. */
#include <criterion/criterion.h>

#include "../sim/guest_setup.h"

#include <stdlib.h>
#include <string.h>

#define MIB      (UINT64_C(1) << 20)
#define MEM_SIZE (64 * MIB)
#define NONE     UINT64_MAX
#define ADDR     UINT64_C(0x000ffffffffff000)

static uint64_t entry(const uint8_t *mem, uint64_t table, uint64_t index)
{
	uint64_t e;

	memcpy(&e, mem + (table & ADDR) + index * 8, sizeof(e));
	return e;
}

/* The physical address la maps to through the tables at CR3, NONE when not present (SDM 4.5.4). */
static uint64_t walk(const uint8_t *mem, uint64_t la)
{
	uint64_t e = gs_cr3(GUEST_MODE_LONG, MEM_SIZE);
	int shift;

	for (shift = 39; shift >= 12; shift -= 9) {
		e = entry(mem, e, (la >> shift) & 511);
		if (!(e & 1))
			return NONE;
		if (shift == 21 && (e & 0x80)) /* PS: a 2 MiB page */
			return (e & ADDR & ~((UINT64_C(1) << 21) - 1)) |
			       (la & ((UINT64_C(1) << 21) - 1));
	}
	return (e & ADDR) | (la & 0xfff);
}

static uint8_t *fresh(void)
{
	uint8_t *mem = calloc(1, MEM_SIZE);
	uint32_t changed;

	cr_assert(mem);
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, NULL, 0, &changed), HVSIM_OK);
	cr_assert_neq(changed, 0, "a first build writes the tables");
	return mem;
}

/* SDM 4.5.4: identity translation of RAM; the hole's pages are not present, their neighbours are.
 */
Test(guest_paging, ram_maps_to_itself_and_holes_do_not)
{
	uint8_t *mem = fresh();
	struct gs_hole h = {62 * MIB, 0x1000}; /* one page below the paging area */
	uint32_t changed;

	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, &h, 1, &changed), HVSIM_OK);
	cr_assert_eq(walk(mem, 0x1234), 0x1234);
	cr_assert_eq(walk(mem, 40 * MIB + 0x567), 40 * MIB + 0x567);
	cr_assert_eq(walk(mem, h.gpa), NONE);
	cr_assert_eq(walk(mem, h.gpa + 0xfff), NONE);
	cr_assert_eq(walk(mem, h.gpa - 1), h.gpa - 1);
	cr_assert_eq(walk(mem, h.gpa + 0x1000), h.gpa + 0x1000);
	free(mem);
}

/* A rebuild for the same holes writes nothing; one new hole writes its chunk's directory entry
 * and one pool page table, and taking it away again writes the directory back. */
Test(guest_paging, rebuild_writes_only_what_changes)
{
	uint8_t *mem = fresh();
	struct gs_hole h = {5 * MIB, 0x1000};
	uint32_t changed;

	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, NULL, 0, &changed), HVSIM_OK);
	cr_assert_eq(changed, 0);
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, &h, 1, &changed), HVSIM_OK);
	cr_assert_eq(changed, (UINT32_C(1) << 3) | (UINT32_C(1) << GS_PT_POOL_FIRST),
	             "pages written: %#x", changed);
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, &h, 1, &changed), HVSIM_OK);
	cr_assert_eq(changed, 0);
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, NULL, 0, &changed), HVSIM_OK);
	cr_assert_eq(changed, (UINT32_C(1) << 3) | (UINT32_C(1) << GS_PT_POOL_FIRST),
	             "pages written: %#x", changed);
	cr_assert_eq(walk(mem, h.gpa), h.gpa);
	free(mem);
}

/* More holed 2 MiB chunks than the pool has page tables: refused, nothing written. */
Test(guest_paging, pool_overflow_leaves_memory_untouched)
{
	uint8_t *mem = fresh(), *before = malloc(MEM_SIZE);
	struct gs_hole h[GS_PT_PAGES];
	uint32_t changed = 1;

	cr_assert(before);
	for (unsigned i = 0; i < GS_PT_PAGES; i++)
		h[i] = (struct gs_hole){i * 2 * MIB, 0x1000};
	memcpy(before, mem, MEM_SIZE);
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, h, GS_PT_PAGES, &changed), HVSIM_E_INPUT);
	cr_assert_eq(changed, 0);
	cr_assert_eq(memcmp(before, mem, MEM_SIZE), 0);
	free(before);
	free(mem);
}

/* SDM 4.5.4 with many holes: in one chunk, ten single pages (more than fill_pt sets aside) and
 * holes in other chunks; each hole's page is not present and every page beside one maps. */
Test(guest_paging, many_holes_in_one_chunk_each_unmap_their_page)
{
	uint8_t *mem = fresh();
	struct gs_hole h[14];
	uint32_t changed;
	size_t n = 0;

	h[n++] = (struct gs_hole){20 * MIB + 0x3000, 0x1000}; /* another chunk */
	for (uint64_t i = 0; i < 10; i++)
		h[n++] = (struct gs_hole){8 * MIB + (2 * i + 1) * 0x1000, 0x1000};
	h[n++] = (struct gs_hole){9 * MIB + 0x800, 0x10}; /* a page partly covered */
	h[n++] = (struct gs_hole){30 * MIB, 0x1000};
	cr_assert_eq(gs_build_paging(mem, MEM_SIZE, h, n, &changed), HVSIM_OK);
	for (size_t i = 0; i < n; i++) {
		uint64_t page = h[i].gpa & ~UINT64_C(0xfff);

		cr_assert_eq(walk(mem, page), NONE, "hole %zu at %#llx mapped", i,
		             (unsigned long long)h[i].gpa);
		cr_assert_eq(walk(mem, page + 0x1000 + 0x10), page + 0x1000 + 0x10);
		cr_assert_eq(walk(mem, page - 0x1000 + 0x10), page - 0x1000 + 0x10);
	}
	free(mem);
}
