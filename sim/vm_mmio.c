/* The machine's MMIO map: the regions whose accesses exit (xAPIC page, I/O APIC window, and any an
 * algorithm adds), kept as holes in hvsim's identity page tables so that every access faults
 * precisely (guest_setup.h), and the notifications backends need when the map or guest memory
 * changes under them. One map per VM: all vCPUs see each region at the same address (a guest that
 * moves one vCPU's APIC alone is not modelled). */
#include "vm_int.h"

#include "guest_setup.h"

#include <limits.h>
#include <stdlib.h>

_Static_assert(HVSIM_MMIO_MAX == SIM_MMIO_MAX, "public and engine MMIO region counts differ");

static size_t holes(const hvsim_vm *vm, struct gs_hole *h)
{
	size_t n = 0;

	for (unsigned i = 0; i < SIM_MMIO_MAX; i++)
		if (vm->mach.mmio[i].size)
			h[n++] = (struct gs_hole){vm->mach.mmio[i].gpa, vm->mach.mmio[i].size};
	return n;
}

/* Real-mode guests run without paging: their page tables are not rebuilt (the memory is theirs). */
static enum hvsim_status rebuild_paging(hvsim_vm *vm)
{
	struct gs_hole h[SIM_MMIO_MAX];
	uint32_t changed;
	enum hvsim_status st;

	if (!vm->code_guest || vm->sc->guest.mode == GUEST_MODE_REAL)
		return HVSIM_OK;
	st = gs_build_paging(vm->mem, vm->mem_size, h, holes(vm, h), &changed);
	for (unsigned p = 0; p < GS_PT_PAGES; p++)
		if (changed & (UINT32_C(1) << p))
			mem_track_mark(&vm->track, gs_pt_base(vm->mem_size) + (uint64_t)p * GS_PAGE,
			               GS_PAGE);
	return st;
}

enum hvsim_status vm_mmio_init(hvsim_vm *vm, struct hvsim_error *err)
{
	uint32_t changed;

	vm->mach.mmio[HVSIM_MMIO_XAPIC] = (struct sim_mmio_region){HVSIM_XAPIC_DEFAULT_GPA, 0x1000};
	vm->mach.mmio[HVSIM_MMIO_IOAPIC] =
	    (struct sim_mmio_region){HVSIM_IOAPIC_DEFAULT_GPA, 0x1000};
	/* the set-up trampolines run on the long-mode tables, so real mode gets them too, once */
	if (gs_build_paging(vm->mem, vm->mem_size, NULL, 0, &changed) != HVSIM_OK ||
	    rebuild_paging(vm) != HVSIM_OK)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: the default MMIO regions do not fit hvsim's page tables", vm->sc->file);
	return HVSIM_OK;
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return size && !(gpa & 0xfff) && !(size & 0xfff) && gpa + size > gpa &&
	       gpa + size <= (UINT64_C(1) << 48);
}

static bool overlaps_other(const hvsim_vm *vm, unsigned id, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < SIM_MMIO_MAX; i++) {
		const struct sim_mmio_region *r = &vm->mach.mmio[i];

		if (i != id && r->size && gpa < r->gpa + r->size && r->gpa < gpa + size)
			return true;
	}
	return false;
}

/* Applies the map to the page tables and every backend; restores old on failure. */
static enum hvsim_status apply(hvsim_vm *vm, unsigned id, struct sim_mmio_region old)
{
	enum hvsim_status st = rebuild_paging(vm);

	if (st != HVSIM_OK) {
		vm->mach.mmio[id] = old;
		return st;
	}
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		hvsim_vcpu *v = &vm->vcpus[i];

		if (v->be && v->be->mmio_changed && v->be->mmio_changed(v->be_ctx) != HVSIM_OK)
			st = HVSIM_E_INPUT;
		if (v->be && v->be->flush_tlb)
			v->be->flush_tlb(v->be_ctx);
	}
	return st;
}

enum hvsim_status hvsim_mmio_map(hvsim_vm *vm, unsigned id, uint64_t gpa, uint64_t size)
{
	struct sim_mmio_region old;

	if (id >= SIM_MMIO_MAX || !range_ok(gpa, size) || overlaps_other(vm, id, gpa, size))
		return HVSIM_E_INPUT;
	old = vm->mach.mmio[id];
	vm->mach.mmio[id] = (struct sim_mmio_region){gpa, size};
	return apply(vm, id, old);
}

enum hvsim_status hvsim_mmio_unmap(hvsim_vm *vm, unsigned id)
{
	struct sim_mmio_region old;

	if (id >= SIM_MMIO_MAX)
		return HVSIM_E_INPUT;
	old = vm->mach.mmio[id];
	vm->mach.mmio[id] = (struct sim_mmio_region){0};
	return apply(vm, id, old);
}

static void tell_backends(hvsim_vm *vm, unsigned except, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; vm->vcpus && i < vm->n_vcpus; i++) {
		hvsim_vcpu *v = &vm->vcpus[i];

		if (i != except && v->be && v->be_ctx && v->be->mem_written)
			v->be->mem_written(v->be_ctx, gpa, len);
	}
}

void vm_mem_written(hvsim_vm *vm, uint64_t gpa, uint64_t len)
{
	mem_track_mark(&vm->track, gpa, len);
	tell_backends(vm, UINT_MAX, gpa, len);
}

/* vCPU `vcpu`'s guest stored to a page some backend translated code from: the other vCPUs'
 * backends drop what changed before their next run (SDM 9.1.3 leaves the moment a cross-modified
 * instruction is seen to the implementation; hvsim's is the other vCPU's next run). */
static void code_stored(void *ctx, unsigned vcpu, uint64_t gpa, uint64_t len)
{
	tell_backends(ctx, vcpu, gpa, len);
}

enum hvsim_status vm_xmod_init(hvsim_vm *vm)
{
	vm->xmod.n_pages = vm->mem_size >> 12;
	vm->xmod.pages = calloc((vm->xmod.n_pages + 63) / 64, sizeof(uint64_t));
	vm->xmod.stored = code_stored;
	vm->xmod.ctx = vm;
	vm->mach.xmod = &vm->xmod;
	return vm->xmod.pages ? HVSIM_OK : HVSIM_E_NOMEM;
}
