/* Verifies the written-page record of a code guest (sim/uc_track.c, sim/mem_track.h): restores of
 * a Unicorn guest's snapshots rewrite only the pages the record names, and RAM still equals the
 * snapshot byte for byte, whichever snapshots are restored in whichever order. The guest writes
 * RAM every way the record must see: plain and page-crossing stores, REP STOSB, PUSH/CALL, stores
 * below RSP, an interrupt frame hvsim pushes, self-modifying code, stores through its own page
 * tables (a MOV to CR3 to them and back), a store into hvsim's page tables, and the page walker's
 * accessed/dirty bits in both sets of tables (the test clears them before each snapshot). Each test
 * keeps a copy of RAM at every snapshot and compares the whole RAM with it after each restore. */
#include <criterion/criterion.h>

#include "../sim/snapshot_int.h"
#include "test_vcpu_util.h"

#include <stdlib.h>
#include <string.h>

/* Long mode at 0x8000 (tests/test_uc_track.c's guest, as assembled by GNU as):
 *   write an interrupt gate for vector 0x40 (handler: mov [0x55000], r15; iretq) at 0x2400;
 *   build tables at 0x60000 (PML4) -> 0x61000 -> 0x62000 -> PT 0x63000 mapping the 2 MiB
 *   identically but linear page 0x70 -> physical 0x54000, no A/D bits; mov rbx, cr3; sti;
 *   loop: inc r15; mov [0x50000], r15; mov dword [0x50ffe], r15d; rep stosb 5000 bytes at
 *   0x52800; push r15; call (mov [rsp-64], r15; ret); pop rax; patch the next instruction's
 *   immediate (mov al, imm8) and store al at 0x53000; on odd r15: mov cr3, 0x60000; mov
 *   [0x70008], r15; mov cr3, rbx; when r15 % 8 == 7: mov [0x1ff000], r15 (hvsim's page-table
 *   pool); RSP = 0x57000 - (r15 % 16) * 16 around out 0x80, al (the exit where an interrupt is
 *   delivered: its frame is the only write to page 0x56); 200 dec/jnz; jmp loop. */
#define GUEST                                                                                      \
	"488d0529010000668904250024000066c7042502240000080066c7042504240000008e48c1e8106689042506" \
	"24000048c1e81089042508240000c704250c2400000000000048c70425000006000310060048c70425001006" \
	"000320060048c70425002006000330060031c94889c848c1e00c4883c803488904cd00300600ffc181f90002" \
	"000075e348c7042580330600034005000f20dbfb4d31ff49ffc74c89f84889042500000500890425fe0f0500" \
	"bf00280500b988130000f3aa4157e8670000005844883d01000000b0008804250030050049f7c70100000074" \
	"13b8000006000f22d84c893c25080007000f22db4489f883e00783f8077508ba00f01f004c893a4889e54489" \
	"f883e00fc1e004bc007005004829c4e6804889ecb9c8000000ffc975fce971ffffff4c897c24c0c34c893c25" \
	"0050050048cf"
#define MACHINE    "\"machine\": {\"memory_mib\": 2}"
#define SNAPS      6
#define HANDLER_AT 0x55000u
#define ALIAS_AT   0x70008u /* where Unicorn 2.0.1 stores whatever the tables map (uc_track.c) */
#define CODE_PTE   (0x63000u + 8 * 8) /* the guest's entry for the code page 0x8000 */
#define PTE_A      0x20u
#define PTE_AD     0x60u
#define PT_AREA    0x1e0000u /* hvsim's page tables: PML4, PDPT, PAE PDPT, PD0 (guest_setup.h) */
#define FRAME_PAGE 0x56000u  /* frames only, below RSP 0x57000 */

struct run {
	struct tv t;
	hvsim_snapshot *s[SNAPS];
	uint8_t *want[SNAPS];
	unsigned steps; /* slices run so far, for the interrupt pattern */
};

static void open_guest(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->t.intercepts = GOP_BIT(GOP_HLT); /* MOV to CR3 runs in the guest */
	cr_assert(tv_open_code(&r->t, "long", GUEST, MACHINE), "open: %s", r->t.err.msg);
}

/* Runs n slices; every third one starts with an interrupt for vector 0x40 pending. */
static void run_slices(struct run *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++, r->steps++) {
		if (r->steps % 3 == 2)
			cr_assert_eq(hvsim_vcpu_inject(hvsim_vm_vcpu(r->t.vm, 0), 0x40), HVSIM_OK,
			             "inject at slice %u", r->steps);
		cr_assert_eq(hvsim_vm_step(r->t.vm, 1), HVSIM_VM_RUNNING,
		             "the guest stopped at slice %u: %s", r->steps,
		             hvsim_vm_error(r->t.vm)->msg);
	}
}

static uint8_t *ram_copy(const hvsim_vm *vm)
{
	uint8_t *c = malloc(vm->mem_size);

	cr_assert_not_null(c);
	memcpy(c, vm->mem, vm->mem_size);
	return c;
}

static hvsim_snapshot *take(hvsim_vm *vm)
{
	struct hvsim_error err = {0};
	hvsim_snapshot *s = hvsim_vm_snapshot(vm, &err);

	cr_assert_not_null(s, "snapshot: %s", err.msg);
	return s;
}

static void restore(const struct run *r, const hvsim_snapshot *s)
{
	cr_assert_eq(hvsim_vm_restore(r->t.vm, s), HVSIM_OK, "restore failed");
}

static void assert_ram_is(const hvsim_vm *vm, const uint8_t *want, const char *what, unsigned a,
                          unsigned b)
{
	for (uint64_t i = 0; i < vm->mem_size; i++)
		if (vm->mem[i] != want[i])
			cr_assert_fail("%s (%u then %u): byte 0x%llx is 0x%02x, wanted 0x%02x",
			               what, a, b, (unsigned long long)i, vm->mem[i], want[i]);
}

static uint64_t ram_u64(const hvsim_vm *vm, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, vm->mem + gpa, sizeof(v));
	return v;
}

/* Clears the accessed and dirty flags of every present entry in the guest's page table and in
 * hvsim's top-level tables, as an OS aging pages would, so that walks after the next snapshot set
 * them again: writes of the page walker, which no store hook sees. */
static void age_pages(hvsim_vm *vm)
{
	static const uint64_t tables[] = {0x60000, 0x61000,          0x62000,         0x63000,
	                                  PT_AREA, PT_AREA + 0x1000, PT_AREA + 0x3000};

	for (unsigned t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (uint64_t a = tables[t]; a < tables[t] + 0x1000; a += 8) {
			uint64_t e = ram_u64(vm, a);

			if ((e & 1) && (e & PTE_AD)) {
				e &= ~(uint64_t)PTE_AD;
				cr_assert_eq(hvsim_guest_write(vm, a, &e, sizeof(e)), HVSIM_OK);
			}
		}
}

static hvsim_snapshot *take_aged(hvsim_vm *vm)
{
	age_pages(vm);
	return take(vm);
}

/* Snapshots every few slices, each with a copy of RAM. */
static void take_all(struct run *r)
{
	for (unsigned k = 0; k < SNAPS; k++) {
		run_slices(r, 2 + k % 3);
		r->s[k] = take_aged(r->t.vm);
		r->want[k] = ram_copy(r->t.vm);
	}
}

static void close_all(struct run *r)
{
	for (unsigned k = 0; k < SNAPS; k++) {
		hvsim_snapshot_free(r->s[k]);
		free(r->want[k]);
	}
	tv_close(&r->t);
}

static bool page_zero(const hvsim_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < 4096; i++)
		if (vm->mem[gpa + i])
			return false;
	return true;
}

/* The guest did what the other tests rely on: took interrupts, stored through its own tables. */
Test(uc_track, the_guest_writes_through_every_path_it_claims)
{
	struct run r;

	open_guest(&r);
	run_slices(&r, 12);
	cr_expect_neq(ram_u64(r.t.vm, HANDLER_AT), 0, "the interrupt handler never ran");
	cr_expect_neq(ram_u64(r.t.vm, ALIAS_AT), 0, "no store went through the guest's tables");
	cr_expect(ram_u64(r.t.vm, CODE_PTE) & PTE_A,
	          "no walk set an accessed bit in the guest's "
	          "tables: entry 0x%llx",
	          (unsigned long long)ram_u64(r.t.vm, CODE_PTE));
	cr_expect_neq(ram_u64(r.t.vm, 0x1ff000), 0, "no store reached hvsim's page tables");
	cr_expect_neq(r.t.vm->mem[0x53000], 0, "the patched instruction never stored");
	cr_expect(!page_zero(r.t.vm, FRAME_PAGE), "no interrupt frame in page 0x%x", FRAME_PAGE);
	tv_close(&r.t);
}

/* Restore any snapshot after any other, with the guest running in between or not. */
Test(uc_track, restores_in_every_order_give_each_snapshots_ram)
{
	struct run r;

	open_guest(&r);
	take_all(&r);
	for (unsigned a = 0; a < SNAPS; a++)
		for (unsigned b = 0; b < SNAPS; b++) {
			restore(&r, r.s[a]);
			assert_ram_is(r.t.vm, r.want[a], "first restore", a, b);
			run_slices(&r, 1 + (a + b) % 3);
			restore(&r, r.s[b]);
			assert_ram_is(r.t.vm, r.want[b], "restore after running", a, b);
			restore(&r, r.s[a]);
			assert_ram_is(r.t.vm, r.want[a], "restore without running", a, b);
		}
	close_all(&r);
}

/* fuzz_hv_transitions' snapshot_rerun: from a restored snapshot, run, snapshot mid-run, run on,
 * go back to the start, then to the mid-run snapshot. */
Test(uc_track, a_run_that_snapshots_itself_goes_back_to_either_end)
{
	struct run r;

	open_guest(&r);
	take_all(&r);
	for (unsigned a = 0; a < SNAPS; a++) {
		hvsim_snapshot *mid;
		uint8_t *want_mid;

		restore(&r, r.s[a]);
		run_slices(&r, 1 + a % 2);
		mid = take_aged(r.t.vm);
		want_mid = ram_copy(r.t.vm);
		run_slices(&r, 2);
		restore(&r, r.s[a]);
		assert_ram_is(r.t.vm, r.want[a], "back at the start", a, a);
		run_slices(&r, 1);
		restore(&r, mid);
		assert_ram_is(r.t.vm, want_mid, "at the mid-run snapshot", a, a);
		restore(&r, r.s[a]);
		assert_ram_is(r.t.vm, r.want[a], "at the start again", a, a);
		hvsim_snapshot_free(mid);
		free(want_mid);
	}
	close_all(&r);
}

static unsigned count_bits(const uint64_t *bits, uint32_t pages)
{
	unsigned n = 0;

	for (uint32_t w = 0; w < (pages + 63) / 64; w++)
		n += (unsigned)__builtin_popcountll(bits[w]);
	return n;
}

/* The point of the record: a restore after a slice of identity-paged stores names a few pages,
 * not all of RAM, and a snapshot of the guest keeps only its non-zero pages. */
Test(uc_track, a_short_identity_paged_run_names_few_pages)
{
	struct run r;
	const uint64_t *diff;
	uint32_t pages;
	unsigned n;

	open_guest(&r);
	run_slices(&r, 1); /* r15 = 1 at most: no MOV to CR3 yet, no store to hvsim's tables */
	r.s[0] = take(r.t.vm);
	r.want[0] = ram_copy(r.t.vm);
	pages = r.t.vm->track.pages;
	cr_assert_lt(r.s[0]->mem.n, pages / 8, "the snapshot kept %u of %u pages", r.s[0]->mem.n,
	             pages);
	run_slices(&r, 1);
	diff = mem_track_diff(&r.t.vm->track, r.s[0]->serial);
	cr_assert_not_null(diff, "the record is off for a code guest");
	n = count_bits(diff, pages);
	cr_expect_lt(n, 32u, "the restore would compare %u of %u pages", n, pages);
	restore(&r, r.s[0]);
	assert_ram_is(r.t.vm, r.want[0], "after the restore", 0, 0);
	close_all(&r);
}

/* A snapshot looks for non-zero bytes only in pages the record calls touched: right after
 * creation that must cover everything hvsim's set-up and the vCPUs' set-up runs wrote, in each
 * mode (two vCPUs: two stacks, two set-up runs). */
Test(uc_track, after_creation_every_non_zero_page_counts_as_touched)
{
	static const char *const modes[] = {"long", "protected", "real"};

	for (unsigned m = 0; m < 3; m++) {
		struct tv t;
		const uint64_t *touched;

		memset(&t, 0, sizeof(t));
		cr_assert(tv_open_code(&t, modes[m], "f4",
		                       "\"machine\": {\"memory_mib\": 2, \"vcpus\": 2}"),
		          "%s: open: %s", modes[m], t.err.msg);
		touched = mem_track_touched(&t.vm->track);
		cr_assert_not_null(touched, "%s: the record is off", modes[m]);
		for (uint32_t p = 0; p < t.vm->track.pages; p++)
			cr_expect(page_zero(t.vm, (uint64_t)p * 4096) ||
			              (touched[p / 64] >> (p % 64) & 1),
			          "%s: page 0x%x is non-zero but not touched", modes[m], p);
		tv_close(&t);
	}
}
