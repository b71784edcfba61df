/* Verifies the TLB contract of hvsim_vcpu_set_cr on the Unicorn backend (hv.h): a MOV to CR3
 * invalidates the TLB even when it writes the value CR3 already holds (SDM 4.10.4.1
 * "Operations that Invalidate TLBs and Paging-Structure Caches"). Unicorn caches translations
 * and never snoops the paging structures, so the test makes a cached translation stale: with
 * CR0.WP set and CR3 on a PML4 of the guest's own (a copy of hvsim's outside hvsim's paging area,
 * so nothing watches it), the guest writes a page (its writable translation is now cached), exits,
 * and the exit handler clears, behind the engine's back, the R/W bit of the entry that maps it (a
 * 2 MiB page, so the code page turns read-only too, which fetches and hvsim's decoding do not
 * mind). The guest then writes the page again. After a same-value CR3 write that write must fault
 * (SDM 4.6.1: supervisor writes to read-only pages fault with CR0.WP = 1); without any
 * invalidation it runs on from the stale entry (the control test), which is what makes the first
 * test able to fail. hvsim's own tables cannot go stale that way: every write to them is seen
 * (the third test clears the bit with hvsim_guest_write and no CR3 write). */
#include <criterion/criterion.h>

#include "../sim/vm_int.h"
#include "test_vcpu_util.h"

#include <string.h>

/* Long mode: out 0x82, al; mov byte [0x50000], 1; out 0x80, al; mov byte [0x50000], 2;
 * out 0x81, al; hlt */
#define GUEST                \
	"e682c6042500000500" \
	"01e680c604250000050002e681f4"
#define MACHINE  "\"machine\": {\"memory_mib\": 2}"
#define PAGE     0x50000u
#define OWN_PML4 0x70000u /* the guest's own PML4: a copy of hvsim's */
#define PTE_P    UINT64_C(1)
#define PTE_RW   (UINT64_C(1) << 1)
#define CR0_WP   (UINT64_C(1) << 16)
#define PTE_PS   (UINT64_C(1) << 7)
#define ADDR     UINT64_C(0x000ffffffffff000)

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

enum protect {
	OWN_TABLES_CR3_WRITE, /* the guest's own PML4, a same-value CR3 write after the change */
	OWN_TABLES_NO_WRITE,  /* the same without the CR3 write (the control) */
	HVSIM_TABLES_SEEN,    /* hvsim's tables, changed with hvsim_guest_write, no CR3 write */
};

/* The address of the entry of the tables at cr3 that maps la. */
static uint64_t leaf_gpa(hvsim_vm *vm, uint64_t cr3, uint64_t la)
{
	return (uint64_t)((uint8_t *)leaf_of(vm, cr3, la) - vm->mem);
}

/* At the OUT to port 0x82: set CR0.WP, and move CR3 to the guest's own copy of the PML4 unless
 * hvsim's tables stay. At the OUT to port 0x80: make PAGE read-only in the tables, then write CR3
 * with its own value (or not). Then complete as usual. */
static void protect_then(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	const enum protect *how = t->arg;
	uint64_t cr3 = hvsim_vcpu_cr(v, 3), e;

	if (x->op.kind == GOP_IO && x->op.u.io.port == 0x82) {
		hvsim_vcpu_set_cr(v, 0, hvsim_vcpu_cr(v, 0) | CR0_WP);
		if (*how != HVSIM_TABLES_SEEN) {
			memcpy(t->vm->mem + OWN_PML4, t->vm->mem + (cr3 & ADDR), 0x1000);
			hvsim_vcpu_set_cr(v, 3, OWN_PML4);
		}
	}
	if (x->op.kind == GOP_IO && x->op.u.io.port == 0x80) {
		if (*how == HVSIM_TABLES_SEEN) {
			e = *leaf_of(t->vm, cr3, PAGE) & ~PTE_RW;
			cr_assert_eq(hvsim_guest_write(t->vm, leaf_gpa(t->vm, cr3, PAGE), &e, 8),
			             HVSIM_OK);
		} else {
			*leaf_of(t->vm, cr3, PAGE) &= ~PTE_RW;
		}
		if (*how == OWN_TABLES_CR3_WRITE)
			hvsim_vcpu_set_cr(v, 3, cr3);
	}
	tv_default(t, v, x);
}

static void run_guest(struct tv *t, enum protect *how)
{
	memset(t, 0, sizeof(*t));
	t->handler = protect_then;
	t->arg = how;
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

/* The second write faults: no stale translation made it to OUT 0x81. */
static void expect_fault(struct tv *t, const char *why)
{
	cr_expect(tv_exit_of(t, GOP_IO, 1) != NULL, "the guest never reached its OUT 0x80");
	cr_expect(
	    !reached_port_0x81(t),
	    "%s: the write to the read-only page %#x ran from a stale translation and reached "
	    "OUT 0x81",
	    why, PAGE);
	cr_expect(tv_trace_has(t, "write to 0x50000"),
	          "the second write should stop the guest with a fault on 0x50000; trace:\n%s",
	          t->trace);
}

Test(uc_tlb, same_value_cr3_write_invalidates_cached_translations)
{
	struct tv t;
	enum protect how = OWN_TABLES_CR3_WRITE;

	run_guest(&t, &how);
	expect_fault(&t, "SDM 4.10.4.1: after MOV to CR3 with the same value");
	tv_close(&t);
}

Test(uc_tlb, a_change_to_hvsims_tables_needs_no_invalidation)
{
	struct tv t;
	enum protect how = HVSIM_TABLES_SEEN;

	run_guest(&t, &how);
	expect_fault(&t, "after hvsim_guest_write to hvsim's own tables");
	tv_close(&t);
}

Test(uc_tlb, without_an_invalidation_the_stale_translation_is_used)
{
	struct tv t;
	enum protect how = OWN_TABLES_NO_WRITE;

	run_guest(&t, &how);
	cr_expect(reached_port_0x81(&t),
	          "control: with no CR3 write the second write should still use Unicorn's cached "
	          "translation and reach OUT 0x81 (else the other test cannot tell a flush)");
	tv_close(&t);
}

/* mov byte [0x50000], 1; out 0x81, al; jmp $ */
#define WRITER "c604250000050001e681ebfe"

static unsigned exits_at_port(const struct tv *t, uint16_t port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n_exits && i < TV_EXITS_MAX; i++)
		n += t->exits[i].x.op.kind == GOP_IO && t->exits[i].x.op.u.io.port == port;
	return n;
}

static void step_until_port(struct tv *t, uint16_t port, unsigned n)
{
	for (unsigned i = 0; i < 64 && exits_at_port(t, port) < n; i++)
		cr_assert_eq(hvsim_vm_step(t->vm, 1), HVSIM_VM_RUNNING, "the guest stopped: %s",
		             hvsim_vm_error(t->vm)->msg);
	cr_assert_eq(exits_at_port(t, port), n, "the guest never reached OUT %#x", port);
}

static void set_page_rw(struct tv *t, bool rw)
{
	uint64_t cr3 = hvsim_vcpu_cr(hvsim_vm_vcpu(t->vm, 0), 3);
	uint64_t e = *leaf_of(t->vm, cr3, PAGE);

	e = rw ? e | PTE_RW : e & ~PTE_RW;
	cr_assert_eq(hvsim_guest_write(t->vm, leaf_gpa(t->vm, cr3, PAGE), &e, 8), HVSIM_OK);
}

/* A snapshot of read-only tables; the page made writable, written (a writable translation is
 * cached); the snapshot restored. The write runs again, and must fault: restoring the tables
 * dropped the cached translation (snapshot.c). */
Test(uc_tlb, a_restore_that_changes_hvsims_tables_drops_cached_translations)
{
	struct tv t = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;

	cr_assert(tv_open_code(&t, "long", WRITER, MACHINE), "open: %s", t.err.msg);
	hvsim_vcpu_set_cr(hvsim_vm_vcpu(t.vm, 0), 0,
	                  hvsim_vcpu_cr(hvsim_vm_vcpu(t.vm, 0), 0) | CR0_WP);
	set_page_rw(&t, false);
	s = hvsim_vm_snapshot(t.vm, &err);
	cr_assert_not_null(s, "snapshot: %s", err.msg);
	set_page_rw(&t, true);
	step_until_port(&t, 0x81, 1);
	cr_assert_eq(hvsim_vm_restore(t.vm, s), HVSIM_OK, "restore failed");
	for (unsigned i = 0; i < 8 && hvsim_vm_step(t.vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	hvsim_vm_finish(t.vm); /* writes the trace out */
	cr_expect_eq(exits_at_port(&t, 0x81), 1,
	             "SDM 4.10.4.1: after the restore the write to the read-only page %#x ran "
	             "from the translation cached before it",
	             PAGE);
	cr_expect(tv_trace_has(&t, "write to 0x50000"),
	          "the write after the restore should fault on 0x50000; trace:\n%s", t.trace);
	hvsim_snapshot_free(s);
	tv_close(&t);
}

/* At the OUT to port 0x80: set CR0.WP. */
static void wp_at_0x80(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	if (x->op.kind == GOP_IO && x->op.u.io.port == 0x80)
		hvsim_vcpu_set_cr(v, 0, hvsim_vcpu_cr(v, 0) | CR0_WP);
	tv_default(t, v, x);
}

/* PAGE read-only in hvsim's tables with CR0.WP clear: the first supervisor write goes through
 * and its translation is cached writable (SDM 4.6.1). CR0.WP is then set: a bit translations
 * depend on, so the TLB goes, and the second write faults. */
Test(uc_tlb, setting_cr0_wp_drops_translations_made_without_it)
{
	struct tv t = {0};

	t.handler = wp_at_0x80;
	cr_assert(tv_open_code(&t, "long", GUEST, MACHINE), "open: %s", t.err.msg);
	cr_assert_eq(hvsim_vcpu_cr(hvsim_vm_vcpu(t.vm, 0), 0) & CR0_WP, 0,
	             "WP is set at the start");
	set_page_rw(&t, false);
	tv_run(&t);
	expect_fault(&t, "SDM 4.10.4.1: after CR0.WP was set");
	tv_close(&t);
}
