/* Verifies the VMCS store (models/vmx/vmcs_store.c): slots are allocated on demand, so a store
 * keeps every region and its fields as it grows past its first allocation, and refuses a region
 * beyond its capacity without losing the others; the hinted search agrees with the plain one. */
#include <criterion/criterion.h>

#include "../models/vmx/vmx_int.h"

#define REGIONS 40

Test(vmx_store, regions_survive_growth_up_to_capacity)
{
	struct vmcs_store *s = vmcs_store_create(REGIONS);

	cr_assert(s, "vmcs_store_create(%d)", REGIONS);
	for (uint64_t i = 0; i < REGIONS; i++) {
		struct vmcs *v = vmcs_store_get(s, 0x1000 * (i + 1));

		cr_assert(v, "region %llu of %d", (unsigned long long)i, REGIONS);
		v->f[0] = i;
	}
	cr_assert_null(vmcs_store_get(s, 0x1000 * (REGIONS + 1)), "a region past the capacity");
	for (uint64_t i = 0; i < REGIONS; i++) {
		const struct vmcs *v = vmcs_store_find_const(s, 0x1000 * (i + 1));

		cr_assert(v && v->f[0] == i, "region %llu: wanted field %llu, got %llu",
		          (unsigned long long)i, (unsigned long long)i,
		          v ? (unsigned long long)v->f[0] : 0ULL);
	}
	cr_assert_eq(vmcs_store_count(s), REGIONS, "count");
	vmcs_store_destroy(s);
}

/* The hinted search (the current VMCS, read many times an exit) finds the same region as the plain
 * one whatever its hint says: after other regions, after a copy reordered the store, and not at
 * all for an address with no region. */
Test(vmx_store, hinted_search_finds_what_the_plain_one_finds)
{
	struct vmcs_store *s = vmcs_store_create(8), *t = vmcs_store_create(8);

	cr_assert(s && t, "vmcs_store_create");
	for (uint64_t i = 0; i < 4; i++)
		cr_assert(vmcs_store_get(s, 0x1000 * (i + 1)), "region %llu",
		          (unsigned long long)i);
	for (uint64_t i = 4; i-- > 0;)
		cr_assert(vmcs_store_get(t, 0x1000 * (i + 1)), "region %llu",
		          (unsigned long long)i);
	for (uint64_t round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 4; i++)
			cr_expect_eq(vmcs_store_find_hinted(s, 0x1000 * (i + 1)),
			             vmcs_store_find(s, 0x1000 * (i + 1)),
			             "region %llu, round %llu", (unsigned long long)i,
			             (unsigned long long)round);
	cr_assert(vmcs_store_assign(s, t), "assign");
	for (uint64_t i = 0; i < 4; i++)
		cr_expect_eq(vmcs_store_find_hinted(s, 0x1000 * (i + 1)),
		             vmcs_store_find(s, 0x1000 * (i + 1)), "after the copy, region %llu",
		             (unsigned long long)i);
	cr_expect_null(vmcs_store_find_hinted(s, 0x9000), "an address with no region");
	vmcs_store_destroy(s);
	vmcs_store_destroy(t);
}
