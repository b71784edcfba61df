/* Verifies the TLB contract of hvsim_vcpu_set_cr on the Unicorn backend (hv.h): a MOV to CR3
 * invalidates the TLB even when it writes the value CR3 already holds (SDM 4.10.4.1
 * "Operations that Invalidate TLBs and Paging-Structure Caches"). Unicorn caches translations
 * and never snoops the paging structures, so the test makes a cached translation stale: with
 * CR0.WP set, the guest writes a page (its writable translation is now cached), exits, and the
 * exit handler clears the R/W bit of the entry that maps it in hvsim's tables (a 2 MiB page, so
 * the code page turns read-only too, which fetches and hvsim's decoding do not mind). The guest
 * then writes the page again. After a same-value CR3 write that write must fault (SDM 4.6.1:
 * supervisor writes to read-only pages fault with CR0.WP = 1); without any invalidation it runs
 * on from the stale entry (the control test), which is what makes the first test able to fail. */
#include <criterion/criterion.h>

#include "../sim/vm_int.h"
#include "test_vcpu_util.h"

#include <string.h>

/* Long mode: out 0x82, al; mov byte [0x50000], 1; out 0x80, al; mov byte [0x50000], 2;
 * out 0x81, al; hlt */
#define GUEST                \
	"e682c6042500000500" \
	"01e680c604250000050002e681f4"
#define MACHINE "\"machine\": {\"memory_mib\": 2}"
#define PAGE    0x50000u
#define PTE_P   UINT64_C(1)
#define PTE_RW  (UINT64_C(1) << 1)
#define CR0_WP  (UINT64_C(1) << 16)
#define PTE_PS  (UINT64_C(1) << 7)
#define ADDR    UINT64_C(0x000ffffffffff000)

/* The entry of hvsim's 4-level tables that maps la (a 2 MiB PDE or a 4 KiB PTE). */
static uint64_t *leaf_of(hvsim_vm *vm, uint64_t cr3, uint64_t la)
{
	uint64_t table = cr3 & ADDR;

	for (int level = 3; level >= 0; level--) {
		uint64_t *e = (uint64_t *)(vm->mem + table) + ((la >> (12 + 9 * level)) & 511);

		cr_assert(*e & PTE_P, "level %d entry for %#llx is not present", level,
		          (unsigned long long)la);
		if (level == 0 || (level == 1 && (*e & PTE_PS)))
			return e;
		table = *e & ADDR;
	}
	return NULL;
}

/* At the OUT to port 0x82: set CR0.WP. At the OUT to port 0x80: make PAGE read-only in the
 * tables, then write CR3 with its own value (or not). Then complete as usual. */
static void protect_then(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	const bool *write_cr3 = t->arg;
	uint64_t cr3 = hvsim_vcpu_cr(v, 3);

	if (x->op.kind == GOP_IO && x->op.u.io.port == 0x82)
		hvsim_vcpu_set_cr(v, 0, hvsim_vcpu_cr(v, 0) | CR0_WP);
	if (x->op.kind == GOP_IO && x->op.u.io.port == 0x80) {
		*leaf_of(t->vm, cr3, PAGE) &= ~PTE_RW;
		if (*write_cr3)
			hvsim_vcpu_set_cr(v, 3, cr3);
	}
	tv_default(t, v, x);
}

static void run_guest(struct tv *t, bool *write_cr3)
{
	memset(t, 0, sizeof(*t));
	t->handler = protect_then;
	t->arg = write_cr3;
	cr_assert(tv_open_code(t, "long", GUEST, MACHINE), "open: %s", t->err.msg);
	tv_run(t);
}

static bool reached_port_0x81(const struct tv *t)
{
	for (unsigned i = 0; i < t->n_exits && i < TV_EXITS_MAX; i++)
		if (t->exits[i].x.op.kind == GOP_IO && t->exits[i].x.op.u.io.port == 0x81)
			return true;
	return false;
}

Test(uc_tlb, same_value_cr3_write_invalidates_cached_translations)
{
	struct tv t;
	bool write_cr3 = true;

	run_guest(&t, &write_cr3);
	cr_expect(tv_exit_of(&t, GOP_IO, 1) != NULL, "the guest never reached its OUT 0x80");
	cr_expect(!reached_port_0x81(&t),
	          "SDM 4.10.4.1: after MOV to CR3 with the same value, the write to the read-only "
	          "page %#x ran from a stale translation and reached OUT 0x81",
	          PAGE);
	cr_expect(tv_trace_has(&t, "write to 0x50000"),
	          "the second write should stop the guest with a fault on 0x50000; trace:\n%s",
	          t.trace);
	tv_close(&t);
}

Test(uc_tlb, without_an_invalidation_the_stale_translation_is_used)
{
	struct tv t;
	bool write_cr3 = false;

	run_guest(&t, &write_cr3);
	cr_expect(reached_port_0x81(&t),
	          "control: with no CR3 write the second write should still use Unicorn's cached "
	          "translation and reach OUT 0x81 (else the other test cannot tell a flush)");
	tv_close(&t);
}
