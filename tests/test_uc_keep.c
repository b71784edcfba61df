/* Verifies that the Unicorn backend keeps translations across memory changes it did not see
 * (sim/uc_keep.c): after a snapshot restore or an engine write, the decoded blocks of code whose
 * bytes did not change survive, the ones over changed bytes are dropped, and the guest always runs
 * the code RAM holds. The guest spans two pages: at 0x8000 "mov eax, 0x11; out 0xe9, eax; jmp
 * 0x9000", at 0x9000 "mov eax, 0x22; out 0xe9, eax; hlt". Each test builds its own VM with the
 * recording algorithm (test_vcpu_util.h), snapshots it before it runs, runs it to the HLT, and
 * looks at the decode cache after uc_keep_sync and at what the guest reported to port 0xe9. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#include <string.h>

#define PAGE0    0x8000u
#define PAGE1    0x9000u
#define IMM1_AT  (PAGE1 + 1) /* the second mov's immediate */
#define HEX_MAX  (2 * 4096 * 3 + 64)
#define STEPS    64
#define MACHINE  "\"machine\": {\"memory_mib\": 2}"
#define REPORTED 2

struct keep {
	struct tv t;
	hvsim_snapshot *s0;
	char hex[HEX_MAX];
};

static void open_guest(struct keep *k)
{
	static const uint8_t first[] = {0xb8, 0x11, 0x00, 0x00, 0x00, 0xe7, 0xe9,
	                                0xe9, 0xf4, 0x0f, 0x00, 0x00}; /* jmp rel32 to 0x9000 */
	static const uint8_t second[] = {0xb8, 0x22, 0x00, 0x00, 0x00, 0xe7, 0xe9, 0xf4};
	struct hvsim_error err = {0};

	memset(k, 0, sizeof(*k));
	tv_hex(k->hex, sizeof(k->hex), first, sizeof(first));
	tv_hex_fill(k->hex, sizeof(k->hex), 0xcc, PAGE1 - PAGE0 - sizeof(first));
	tv_hex(k->hex, sizeof(k->hex), second, sizeof(second));
	cr_assert(tv_open_code(&k->t, "long", k->hex, MACHINE), "open: %s", k->t.err.msg);
	k->s0 = hvsim_vm_snapshot(k->t.vm, &err);
	cr_assert_not_null(k->s0, "snapshot: %s", err.msg);
}

static void close_guest(struct keep *k)
{
	hvsim_snapshot_free(k->s0);
	tv_close(&k->t);
}

static struct uc_cpu *cpu(struct keep *k)
{
	return tv_vcpu(&k->t, 0)->be_ctx;
}

/* Runs to the HLT; returns the last value reported, after checking there were REPORTED more. */
static uint32_t run_to_hlt(struct keep *k)
{
	uint32_t got[64];
	unsigned before = tv_reports(&k->t, got, 64), after;

	for (unsigned i = 0; i < STEPS && hvsim_vm_step(k->t.vm, 1) == HVSIM_VM_RUNNING; i++)
		;
	after = tv_reports(&k->t, got, 64);
	cr_assert_eq(after, before + REPORTED, "the guest reported %u values, wanted %u",
	             after - before, REPORTED);
	return got[after - 1];
}

static void restore_s0(struct keep *k)
{
	cr_assert_eq(hvsim_vm_restore(k->t.vm, k->s0), HVSIM_OK, "restore failed");
	uc_keep_sync(cpu(k));
}

static void write_imm(struct keep *k, uint8_t v)
{
	cr_assert_eq(hvsim_guest_write(k->t.vm, IMM1_AT, &v, 1), HVSIM_OK, "write failed");
	uc_keep_sync(cpu(k));
}

Test(uc_keep, a_restore_that_leaves_the_code_keeps_every_decoded_block)
{
	struct keep k;

	open_guest(&k);
	run_to_hlt(&k);
	restore_s0(&k);
	cr_expect_not_null(uc_block_find(cpu(&k), PAGE0), "the block at 0x%x was dropped", PAGE0);
	cr_expect_not_null(uc_block_find(cpu(&k), PAGE1), "the block at 0x%x was dropped", PAGE1);
	close_guest(&k);
}

Test(uc_keep, an_engine_write_to_code_drops_only_the_blocks_over_the_changed_bytes)
{
	struct keep k;

	open_guest(&k);
	run_to_hlt(&k);
	restore_s0(&k);
	write_imm(&k, 0x33);
	cr_expect_not_null(uc_block_find(cpu(&k), PAGE0), "the unchanged block at 0x%x was dropped",
	                   PAGE0);
	cr_expect_null(uc_block_find(cpu(&k), PAGE1), "the block at 0x%x over the change survived",
	               PAGE1);
	close_guest(&k);
}

Test(uc_keep, the_guest_runs_the_code_ram_holds_after_writes_and_restores)
{
	struct keep k;
	uint32_t got;

	open_guest(&k);
	cr_expect_eq(got = run_to_hlt(&k), 0x22, "first run reported 0x%x, wanted 0x22", got);
	restore_s0(&k);
	write_imm(&k, 0x33);
	cr_expect_eq(got = run_to_hlt(&k), 0x33, "after the write: 0x%x, wanted 0x33", got);
	restore_s0(&k);
	cr_expect_eq(got = run_to_hlt(&k), 0x22, "after the restore: 0x%x, wanted 0x22", got);
	close_guest(&k);
}
