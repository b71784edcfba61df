/* Verifies whole-VM snapshots (issue 3 point 8): a run continued from a snapshot and the same run
 * continued again after restoring it produce byte-identical trace suffixes (guest memory,
 * registers, time, the event queue, the PRNG and the minimal algorithm's state all rewound); the
 * summary is rewound too; snapshots are refused where they cannot be taken. Machines with VMX
 * hardware: tests/test_snapshot_vmx.c. The guest
 * (scenarios/guest/snapshot.S) mixes RDRAND exits, memory writes, RDTSC and timed interrupts. */
#include <criterion/criterion.h>

#include "trace_buf.h"

#include <hvsim/hv.h>
#include <hvsim/vm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE         "scenarios/guest/snapshot.bin"
#define IMAGE_MAX     4096
#define SLICES_BEFORE 20

static const char scenario[] =
    "{\"hvsim\": 1, \"name\": \"snap\", \"description\": \"snapshot test\", "
    "\"provenance\": {\"note\": \"test\"}, \"machine\": {\"memory_mib\": 2, "
    "\"quantum_insns\": 1000}, \"hypervisor\": {\"algorithm\": \"minimal\"}, "
    "\"guest\": {\"program\": \"guest/snapshot.bin\"}, "
    "\"events\": [{\"at_ns\": 80000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "
    "{\"at_ns\": 120000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}], "
    "\"runs\": [{\"name\": \"r\", \"seed\": 7, \"golden\": \"g.jsonl\"}]}";

struct fixture {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
	struct trace_buf trace;
	uint8_t image[IMAGE_MAX];
};

static void open_vm_of(struct fixture *f, const char *json, size_t len)
{
	struct hvsim_error err = {0};
	struct hvsim_vm_opts o = {.trace = {.write = trace_buf_write, .ctx = &f->trace}};
	FILE *img = fopen(IMAGE, "rb");

	cr_assert_not_null(img, "%s is missing (make build)", IMAGE);
	o.image_len = fread(f->image, 1, sizeof(f->image), img);
	o.image = f->image;
	fclose(img);
	cr_assert_eq(hvsim_scenario_parse("snap.json", json, len, NULL, &f->sc, &err), HVSIM_OK,
	             "%s", err.msg);
	f->vm = hvsim_vm_create(f->sc, 0, &o, &err);
	cr_assert_not_null(f->vm, "%s", err.msg);
}

static void open_vm(struct fixture *f)
{
	open_vm_of(f, scenario, sizeof(scenario) - 1);
}

static void close_vm(struct fixture *f)
{
	hvsim_vm_destroy(f->vm);
	hvsim_scenario_free(f->sc);
	free(f->trace.p);
}

static void run_out(hvsim_vm *vm)
{
	for (int i = 0; i < 100000 && hvsim_vm_step(vm, 64) == HVSIM_VM_RUNNING; i++)
		;
}

static char *suffix_from(const struct trace_buf *b, size_t mark)
{
	return strdup(b->len > mark ? b->p + mark : "");
}

Test(snapshot, rerun_after_restore_gives_an_identical_trace_suffix)
{
	struct fixture f = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;
	char *first, *second;
	size_t mark;

	open_vm(&f);
	cr_assert_eq(hvsim_vm_step(f.vm, SLICES_BEFORE), HVSIM_VM_RUNNING, "ended too early");
	s = hvsim_vm_snapshot(f.vm, &err);
	cr_assert_not_null(s, "snapshot failed: %s", err.msg);
	mark = f.trace.len;
	run_out(f.vm);
	first = suffix_from(&f.trace, mark);
	cr_assert_eq(hvsim_vm_restore(f.vm, s), HVSIM_OK, "restore failed");
	free(first);
	first = suffix_from(&f.trace, mark); /* restore flushed the first continuation */
	mark = f.trace.len;
	run_out(f.vm);
	hvsim_vm_finish(f.vm); /* flushes, and adds the "end" line */
	second = suffix_from(&f.trace, mark);
	cr_expect(strstr(first, "\"ev\":\"inject\"") && strstr(first, "RDRAND"),
	          "the suffix lacks interrupts or RDRAND exits:\n%s", first);
	cr_expect(strncmp(second, first, strlen(first)) == 0 &&
	              strncmp(second + strlen(first), "{\"t\":", 5) == 0 &&
	              strstr(second + strlen(first), "\"ev\":\"end\""),
	          "suffixes differ:\n--- first\n%s\n--- second (then \"end\")\n%s", first, second);
	free(first);
	free(second);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

Test(snapshot, restore_rewinds_the_summary)
{
	struct fixture f = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;
	uint64_t exits, insns;

	open_vm(&f);
	hvsim_vm_step(f.vm, SLICES_BEFORE);
	s = hvsim_vm_snapshot(f.vm, &err);
	cr_assert_not_null(s, "snapshot failed: %s", err.msg);
	exits = hvsim_vm_summary(f.vm)->exits;
	insns = hvsim_vm_summary(f.vm)->instructions;
	run_out(f.vm);
	cr_assert_gt(hvsim_vm_summary(f.vm)->exits, exits, "no exits after the snapshot");
	hvsim_vm_restore(f.vm, s);
	cr_expect_eq(hvsim_vm_summary(f.vm)->exits, exits, "exits wanted %llu, got %llu",
	             (unsigned long long)exits, (unsigned long long)hvsim_vm_summary(f.vm)->exits);
	cr_expect_eq(hvsim_vm_summary(f.vm)->instructions, insns,
	             "instructions wanted %llu, got %llu", (unsigned long long)insns,
	             (unsigned long long)hvsim_vm_summary(f.vm)->instructions);
	hvsim_snapshot_free(s);
	close_vm(&f);
}

Test(snapshot, a_snapshot_restores_only_into_its_own_vm)
{
	struct fixture a = {0}, b = {0};
	struct hvsim_error err = {0};
	hvsim_snapshot *s;

	open_vm(&a);
	open_vm(&b);
	s = hvsim_vm_snapshot(a.vm, &err);
	cr_assert_not_null(s, "snapshot failed: %s", err.msg);
	cr_expect_eq(hvsim_vm_restore(b.vm, s), HVSIM_E_INPUT,
	             "restoring another VM's snapshot was accepted");
	hvsim_snapshot_free(s);
	close_vm(&a);
	close_vm(&b);
}

Test(snapshot, finished_vm_refuses_a_snapshot)
{
	struct fixture f = {0};
	struct hvsim_error err = {0};

	open_vm(&f);
	run_out(f.vm);
	hvsim_vm_finish(f.vm);
	cr_expect_null(hvsim_vm_snapshot(f.vm, &err), "snapshot of a finished VM");
	cr_expect_eq(err.status, HVSIM_E_UNSUPPORTED, "status wanted UNSUPPORTED, got %d",
	             err.status);
	close_vm(&f);
}
