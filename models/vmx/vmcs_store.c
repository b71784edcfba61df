/* The VMCS store: the implementation-specific part of every VMCS region a VM's processors used
 * (field values, launch state), keyed by the region's physical address. SDM 25.2 "Format of the
 * VMCS Region" leaves this format to the processor; the architectural bytes (revision identifier,
 * abort indicator) stay in simulated memory. An array searched linearly, grown on demand up to a
 * capacity: small, deterministic, and copied by memcpy for snapshots. */
#include "vmx_int.h"

#include <stdlib.h>
#include <string.h>

#define STORE_CAPACITY_MAX 65536
/* slots allocated at first: a VM uses one or a few regions per vCPU */
#define STORE_SLOTS_FIRST 4

struct vmcs_store *vmcs_store_create(size_t capacity)
{
	struct vmcs_store *s;

	if (capacity == 0 || capacity > STORE_CAPACITY_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->capacity = capacity;
	if (!vmcs_store_reserve(s, capacity < STORE_SLOTS_FIRST ? capacity : STORE_SLOTS_FIRST)) {
		free(s);
		return NULL;
	}
	return s;
}

/* Slots are not zeroed: vmcs_store_get clears each slot it hands out, and slots past count are
 * never read. They grow on demand: a store of `capacity` regions allocated at once is megabytes,
 * which dominated VM creation and destruction. */
bool vmcs_store_reserve(struct vmcs_store *s, size_t n)
{
	size_t slots = s->slots ? s->slots : 1;
	struct vmcs *grown;

	if (n <= s->slots && s->vmcs)
		return true;
	if (n > s->capacity)
		return false;
	while (slots < n)
		slots *= 2;
	if (slots > s->capacity)
		slots = s->capacity;
	grown = realloc(s->vmcs, slots * sizeof(*s->vmcs));
	if (!grown)
		return false;
	s->vmcs = grown;
	s->slots = slots;
	return true;
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

struct vmcs *vmcs_store_find_hinted(struct vmcs_store *s, uint64_t pa)
{
	if (s->hint < s->count && s->vmcs[s->hint].pa == pa)
		return &s->vmcs[s->hint];
	for (size_t i = 0; i < s->count; i++)
		if (s->vmcs[i].pa == pa) {
			s->hint = i;
			return &s->vmcs[i];
		}
	return NULL;
}

struct vmcs *vmcs_store_get(struct vmcs_store *s, uint64_t pa)
{
	struct vmcs *v = vmcs_store_find(s, pa);

	if (v)
		return v;
	if (s->count == s->slots && !vmcs_store_reserve(s, s->count + 1))
		return NULL;
	v = &s->vmcs[s->count++];
	memset(v, 0, sizeof(*v));
	v->pa = pa;
	return v;
}

/* Region order is kept: finds after a restore see the regions where they were. */
bool vmcs_store_assign(struct vmcs_store *dst, const struct vmcs_store *src)
{
	if (src->count > dst->capacity || !vmcs_store_reserve(dst, src->count))
		return false;
	if (src->count)
		memcpy(dst->vmcs, src->vmcs, src->count * sizeof(*dst->vmcs));
	dst->count = src->count;
	return true;
}

struct vmcs_store *vmcs_store_clone(const struct vmcs_store *src)
{
	struct vmcs_store *s = vmcs_store_create(src->capacity);

	if (s && !vmcs_store_assign(s, src)) {
		vmcs_store_destroy(s);
		return NULL;
	}
	return s;
}
