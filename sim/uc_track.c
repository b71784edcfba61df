/* The Unicorn backend's share of the written-page record (mem_track.h). A UC_HOOK_MEM_WRITE over
 * every address marks the page of each store: Unicorn 2.0.1 calls it from store_helper, which
 * every store takes once a memory hook exists (the generated fast path jumps to it,
 * qemu/tcg/i386/tcg-target.inc.c), the guest's own and its helpers' alike (descriptor accessed
 * bits, CMPXCHG16B: CF_PARALLEL is never set). It reports the linear address, and that is where
 * the store lands: Unicorn 2.0.1's page walk decides faults and permissions but maps every linear
 * page to the physical page of the same number (qemu/target/i386/excp_helper.c, "identity map
 * guest virtual address"), and guest RAM is mapped at 0. Writes that bypass store_helper: the page
 * walker's accessed and dirty bits (snapshots count those pages, snap_mem walked), and SVM and SMM
 * state saves, which cannot happen (EFER.SVME is never set, no SMI is raised). A store to a page
 * some vCPU translated code from also goes to the VM (struct be_xmod), which tells the other
 * vCPUs' backends: their engines never see it (cross-modifying code, SDM 9.1.3). */
#include "uc_int.h"

#include "guest_setup.h"
#include "mem_track.h"

static void on_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                     void *ud)
{
	struct uc_cpu *c = ud;
	const struct be_xmod *x = c->m->xmod;

	(void)uc, (void)type, (void)value;
	mem_track_mark(c->m->track, addr, (uint64_t)size); /* outside RAM: no mark */
	if (uc_pt_stored(c, addr, (uint64_t)size) || !x)   /* the others told; or one vCPU */
		return;
	for (uint64_t p = addr >> 12; p <= (addr + (uint64_t)size - 1) >> 12 && p < x->n_pages; p++)
		if (x->pages[p / 64] & (UINT64_C(1) << (p % 64))) {
			x->stored(x->ctx, c->index, addr, (uint64_t)size);
			return;
		}
}

/* Before the engine existed, hvsim's set-up wrote the system pages and the paging area
 * (guest_setup.h); the engine's set-up run is hooked already. */
enum hvsim_status uc_track_init(struct uc_cpu *c)
{
	uc_hook h;
	uint64_t pt = gs_pt_base(c->m->mem_size);

	mem_track_mark(c->m->track, 0, GS_LOW_END);
	mem_track_mark(c->m->track, pt, c->m->mem_size - pt);
	return uc_hook_add(c->uc, &h, UC_HOOK_MEM_WRITE, (void *)on_write, c, 1, 0) == UC_ERR_OK
	           ? HVSIM_OK
	           : HVSIM_E_INTERNAL;
}
