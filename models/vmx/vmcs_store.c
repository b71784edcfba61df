/* The VMCS store: the implementation-specific part of every VMCS region a VM's processors used
 * (field values, launch state), keyed by the region's physical address. SDM 25.2 "Format of the
 * VMCS Region" leaves this format to the processor; the architectural bytes (revision identifier,
 * abort indicator) stay in simulated memory. A fixed-capacity array searched linearly: small,
 * deterministic, and copied by memcpy for snapshots. */
#include "vmx_int.h"

#include <stdlib.h>
#include <string.h>

#define STORE_CAPACITY_MAX 65536

struct vmcs_store *vmcs_store_create(size_t capacity)
{
	struct vmcs_store *s;

	if (capacity == 0 || capacity > STORE_CAPACITY_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* not zeroed: vmcs_store_get clears each slot it hands out, and slots past count are never
	 * read (a store of 4096 regions is megabytes; zeroing it dominated VM creation) */
	s->vmcs = malloc(capacity * sizeof(*s->vmcs));
	if (!s->vmcs) {
		free(s);
		return NULL;
	}
	s->capacity = capacity;
	return s;
}

void vmcs_store_destroy(struct vmcs_store *store)
{
	if (!store)
		return;
	free(store->vmcs);
	free(store);
}

size_t vmcs_store_count(const struct vmcs_store *store)
{
	return store->count;
}

const struct vmcs *vmcs_store_find_const(const struct vmcs_store *s, uint64_t pa)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->vmcs[i].pa == pa)
			return &s->vmcs[i];
	return NULL;
}

struct vmcs *vmcs_store_find(struct vmcs_store *s, uint64_t pa)
{
	return (struct vmcs *)vmcs_store_find_const(s, pa);
}

struct vmcs *vmcs_store_get(struct vmcs_store *s, uint64_t pa)
{
	struct vmcs *v = vmcs_store_find(s, pa);

	if (v)
		return v;
	if (s->count == s->capacity)
		return NULL;
	v = &s->vmcs[s->count++];
	memset(v, 0, sizeof(*v));
	v->pa = pa;
	return v;
}
