/* Verifies the written-page record behind snapshot restores (sim/mem_track.h): a restore that
 * rewrites only the pages the engine wrote since RAM last equalled the snapshot still gives RAM
 * byte for byte equal to the snapshot's, whichever snapshot was taken or restored last (code
 * guests, whose CPU writes RAM too: test_uc_track.c). Each test builds a VM, keeps a copy of its
 * RAM at the snapshot, writes through the engine's services, restores and compares the whole RAM
 * with the copy. */
#include <criterion/criterion.h>

#include "../sim/snapshot_int.h"

#include <hvsim/hv_vmx.h>
#include <hvsim/scenario.h>
#include <hvsim/vm.h>

#include <stdlib.h>
#include <string.h>

#define HEAD                                                                                     \
	"{\"hvsim\":1,\"name\":\"track\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"hypervisor\":{\"algorithm\":\"kvm\"},"                                                \
	"\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"vcpus\":1},"
#define TAIL "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}"
#define SCRIPT                                                                                     \
	HEAD "\"guest\":{\"script\":{\"main\":[{\"op\":\"compute\",\"insns\":10},{\"op\":\"hlt\"}" \
	     "],"                                                                                  \
	     "\"handlers\":{}}}," TAIL

struct fixture {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
};

static void open_vm(struct fixture *f, const char *text)
{
	static const struct scenario_io io = {.exists = NULL, .check_goldens = false};
	struct hvsim_error err = {0};
	struct hvsim_vm_opts o = {0};

	cr_assert_eq(hvsim_scenario_parse("track.json", text, strlen(text), &io, &f->sc, &err),
	             HVSIM_OK, "scenario: %s", err.msg);
	f->vm = hvsim_vm_create(f->sc, 0, &o, &err);
	cr_assert_not_null(f->vm, "vm: %s", err.msg);
}

static void close_vm(struct fixture *f)
{
	hvsim_vm_destroy(f->vm);
	hvsim_scenario_free(f->sc);
}

static hvsim_snapshot *take(struct fixture *f)
{
	struct hvsim_error err = {0};
	hvsim_snapshot *s = hvsim_vm_snapshot(f->vm, &err);

	cr_assert_not_null(s, "snapshot: %s", err.msg);
	return s;
}

static uint8_t *ram_copy(const struct fixture *f)
{
	uint8_t *c = malloc(f->vm->mem_size);

	cr_assert_not_null(c);
	memcpy(c, f->vm->mem, f->vm->mem_size);
	return c;
}

static void guest_write(struct fixture *f, uint64_t gpa, uint32_t value)
{
	cr_assert_eq(hvsim_guest_write(f->vm, gpa, &value, sizeof(value)), HVSIM_OK,
	             "write at 0x%llx", (unsigned long long)gpa);
}

static void assert_ram_is(const struct fixture *f, const uint8_t *want, const char *what)
{
	for (uint64_t i = 0; i < f->vm->mem_size; i++)
		cr_assert_eq(f->vm->mem[i], want[i], "%s: byte 0x%llx is 0x%02x, wanted 0x%02x",
		             what, (unsigned long long)i, f->vm->mem[i], want[i]);
}

/* The basic case: guest and host writes to guest RAM, one of them across a page boundary. */
Test(mem_track, restore_undoes_engine_writes_to_scripted_guest_ram)
{
	struct fixture f;
	hvsim_snapshot *s;
	uint8_t *want;
	uint32_t v = 0xfeedf00d;

	open_vm(&f, SCRIPT);
	guest_write(&f, 0x3000, 0x11111111); /* before the snapshot: kept */
	s = take(&f);
	want = ram_copy(&f);
	guest_write(&f, 0x3000, 0x22222222);
	guest_write(&f, 0x7ffe, 0x33333333);
	cr_assert_eq(hvsim_host_write(f.vm, 0x9000, &v, sizeof(v)), HVSIM_OK);
	cr_assert_eq(hvsim_vm_restore(f.vm, s), HVSIM_OK);
	assert_ram_is(&f, want, "after the restore");
	free(want);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

/* The record is relative to the last snapshot taken or restored: restoring an older one must also
 * rewrite what changed between the two. */
Test(mem_track, restoring_an_older_snapshot_rewrites_what_a_newer_one_holds)
{
	struct fixture f;
	hvsim_snapshot *s1, *s2;
	uint8_t *want;

	open_vm(&f, SCRIPT);
	guest_write(&f, 0x4000, 0xaaaaaaaa);
	s1 = take(&f);
	want = ram_copy(&f);
	guest_write(&f, 0x4000, 0xbbbbbbbb);
	guest_write(&f, 0x5000, 0xcccccccc);
	s2 = take(&f);
	guest_write(&f, 0x6000, 0xdddddddd);
	cr_assert_eq(hvsim_vm_restore(f.vm, s1), HVSIM_OK);
	assert_ram_is(&f, want, "after restoring the older snapshot");
	free(want);
	hvsim_snapshot_free(s2);
	hvsim_snapshot_free(s1);
	close_vm(&f);
}

/* A restore starts a new record: pages written after it are undone by the next restore too. */
Test(mem_track, each_restore_undoes_what_was_written_since_the_last)
{
	struct fixture f;
	hvsim_snapshot *s;
	uint8_t *want;

	open_vm(&f, SCRIPT);
	s = take(&f);
	want = ram_copy(&f);
	guest_write(&f, 0x8000, 0x1);
	cr_assert_eq(hvsim_vm_restore(f.vm, s), HVSIM_OK);
	guest_write(&f, 0xa000, 0x2);
	cr_assert_eq(hvsim_vm_restore(f.vm, s), HVSIM_OK);
	assert_ram_is(&f, want, "after the second restore");
	free(want);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

/* A run that snapshots itself (s2) and goes back to its start (s1), then to s2 again: each restore
 * uses the record of how the two snapshots differ. */
Test(mem_track, going_back_and_forth_between_two_snapshots_is_exact)
{
	struct fixture f;
	hvsim_snapshot *s1, *s2;
	uint8_t *want1, *want2;

	open_vm(&f, SCRIPT);
	guest_write(&f, 0x2000, 0x1);
	s1 = take(&f);
	want1 = ram_copy(&f);
	guest_write(&f, 0x2000, 0x2);
	guest_write(&f, 0x3000, 0x3);
	s2 = take(&f);
	want2 = ram_copy(&f);
	guest_write(&f, 0x4000, 0x4);
	cr_assert_eq(hvsim_vm_restore(f.vm, s1), HVSIM_OK);
	assert_ram_is(&f, want1, "back at the first snapshot");
	guest_write(&f, 0x5000, 0x5);
	cr_assert_eq(hvsim_vm_restore(f.vm, s2), HVSIM_OK);
	assert_ram_is(&f, want2, "back at the second snapshot");
	cr_assert_eq(hvsim_vm_restore(f.vm, s1), HVSIM_OK);
	assert_ram_is(&f, want1, "at the first snapshot again");
	free(want2);
	free(want1);
	hvsim_snapshot_free(s2);
	hvsim_snapshot_free(s1);
	close_vm(&f);
}
