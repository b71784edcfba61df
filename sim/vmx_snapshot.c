/* Snapshots of the machine's VMX hardware (called by snapshot.c): every vCPU's VMX logical
 * processor (capabilities, mode, VMX operation, VMXON and current-VMCS pointers, non-root state),
 * the VMCS store, the host pages algorithms allocated and the instruction oracle's shadows
 * (vmx_shadow_int.h). The vCPUs' engine-side VMX fields (vmx_exited, vmx_op, nonroot, vmx_kick,
 * vmx_timer, vmx_guest, ...) travel with struct hvsim_vcpu in snapshot.c; the preemption timer's
 * event travels with the event queue. Restore copies into the live objects: the processors, the
 * store and the host pages keep their addresses. */
#include "vmx_hw.h"
#include "vmx_shadow_int.h"

#include <hvsim/hv_vmx.h>

#include <stdlib.h>
#include <string.h>

struct vmx_snap {
	struct vmcs_store *store;
	struct vmx_cpu **cpu; /* n_vcpus clones */
	uint8_t *host_mem;    /* host_pages pages */
	size_t host_pages;
	struct vmx_shadow **shadow; /* n_vcpus copies (NULL: none); NULL when no vCPU has one */
};

void vmx_snapshot_free(const hvsim_vm *vm, void *snap)
{
	struct vmx_snap *s = snap;

	if (!s)
		return;
	for (unsigned i = 0; s->cpu && i < vm->n_vcpus; i++)
		vmx_cpu_destroy(s->cpu[i]);
	for (unsigned i = 0; s->shadow && i < vm->n_vcpus; i++)
		vmx_shadow_destroy(s->shadow[i]);
	free(s->cpu);
	free(s->shadow);
	vmcs_store_destroy(s->store);
	free(s->host_mem);
	free(s);
}

static bool take_host_pages(const hvsim_vm *vm, struct vmx_snap *s)
{
	size_t bytes = vm->host_pages * HVSIM_PAGE_SIZE;

	s->host_pages = vm->host_pages;
	if (!bytes)
		return true;
	s->host_mem = malloc(bytes);
	if (!s->host_mem)
		return false;
	memcpy(s->host_mem, vm->host_mem, bytes);
	return true;
}

/* The instruction oracle's shadows (vmx_shadow_int.h); nothing is allocated when no vCPU has one.
 */
static bool take_shadows(const hvsim_vm *vm, struct vmx_snap *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vm->n_vcpus; i++)
		n += vm->vcpus[i].shadow != NULL;
	if (n == 0)
		return true;
	s->shadow = calloc(vm->n_vcpus, sizeof(*s->shadow));
	if (!s->shadow)
		return false;
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].shadow && !(s->shadow[i] = vmx_shadow_clone(vm->vcpus[i].shadow)))
			return false;
	return true;
}

void *vmx_snapshot_take(const hvsim_vm *vm)
{
	struct vmx_snap *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cpu = calloc(vm->n_vcpus, sizeof(*s->cpu));
	s->store = vmcs_store_clone(vm->vmcs_store);
	if (!s->cpu || !s->store || !take_host_pages(vm, s) || !take_shadows(vm, s))
		goto nomem;
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (!(s->cpu[i] = vmx_cpu_clone(vm->vcpus[i].vmx)))
			goto nomem;
	return s;
nomem:
	vmx_snapshot_free(vm, s);
	return NULL;
}

/* The allocation holds at least vm->host_pages pages (hvsim_host_alloc may shrink it to that);
 * grown back when the snapshot had more. Pages allocated after the snapshot return to the free
 * range (hvsim_host_alloc zeroes what it hands out again). */
static bool restore_host_pages(hvsim_vm *vm, const struct vmx_snap *s)
{
	if (s->host_pages > vm->host_pages) {
		uint8_t *mem = realloc(vm->host_mem, s->host_pages * HVSIM_PAGE_SIZE);

		if (!mem)
			return false;
		vm->host_mem = mem;
	}
	if (s->host_pages)
		memcpy(vm->host_mem, s->host_mem, s->host_pages * HVSIM_PAGE_SIZE);
	vm->host_pages = s->host_pages;
	return true;
}

enum hvsim_status vmx_snapshot_restore(hvsim_vm *vm, const void *snap)
{
	const struct vmx_snap *s = snap;

	if (!vmcs_store_assign(vm->vmcs_store, s->store) || !restore_host_pages(vm, s))
		return HVSIM_E_NOMEM;
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		hvsim_vcpu *v = &vm->vcpus[i];

		vmx_cpu_assign(v->vmx, s->cpu[i]);
		v->vmx_be_cr_valid = 0; /* the backend's CRs were restored: write them afresh */
		if ((v->shadow || s->shadow) &&
		    vmx_shadow_restore(v, s->shadow ? s->shadow[i] : NULL) != HVSIM_OK)
			return HVSIM_E_NOMEM;
	}
	return HVSIM_OK;
}
