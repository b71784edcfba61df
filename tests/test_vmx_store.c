/* Verifies the VMCS store's growth (models/vmx/vmcs_store.c): slots are allocated on demand, so a
 * store keeps every region and its fields as it grows past its first allocation, and refuses a
 * region beyond its capacity without losing the others. */
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
