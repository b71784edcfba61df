/* Verifies the reproducer-scenario builder (fuzz/fz_export.c) against the scenario loader: a
 * scenario built with every script action, a handler, every event kind, limits, a quirk and an
 * expected finding is written, parsed back with hvsim_scenario_parse, and each field compared. This
 * keeps the builder's op table and the loader's (sim/scenario_guest.c) from drifting apart. */
#include <criterion/criterion.h>

#include "../fuzz/fz_export.h"

#include <stdlib.h>
#include <string.h>

static void sample_action(uint8_t op, struct script_action *a, struct script_action *body)
{
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->index = 0x80b + op;
	a->sub = op;
	a->addr = UINT64_C(0xfee00000) + op * 16;
	a->value = op == SOP_COMPUTE ? 1000 : UINT64_C(0x123456789abcdef0) + op;
	a->size = op == SOP_IN || op == SOP_OUT ? 2 : 8;
	a->cr = 4;
	if (op == SOP_IN || op == SOP_OUT) {
		a->index = 0x3f8;
		a->value = op == SOP_OUT ? 0x41 : 0;
	}
	if (op == SOP_REPEAT) {
		a->count = 3;
		a->body = body;
		a->n_body = 1;
	}
}

static char *build(void)
{
	struct script_action a, body = {.op = SOP_RDTSC};
	fz_scn *s = fz_scn_create("fuzz_test", 0xabc);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(s && f, "out of memory");
	fz_scn_machine_int(s, "vcpus", 2);
	fz_scn_machine_bool(s, "apicv", true);
	fz_scn_machine_str(s, "irqchip", "split");
	fz_scn_quirk(s, "halt_with_if_clear", "block");
	for (uint8_t op = 0; op < SOP_OP_MAX; op++) {
		sample_action(op, &a, &body);
		fz_scn_action(s, &a);
	}
	sample_action(SOP_CLI, &a, &body);
	fz_scn_handler_action(s, 0x2a, &a);
	fz_scn_irq_line(s, 100, 3, 1);
	fz_scn_msi(s, 50, 0xfee00000, 0x4031); /* earlier than the last event: raised to 100 */
	fz_scn_host(s, 200, "apicv_inhibit", 1, 7);
	fz_scn_limits(s, 1000000, 5000, 100);
	fz_scn_expect(s, "invariant_violation");
	cr_assert_eq(fz_scn_write(s, f), 0, "fz_scn_write failed");
	fclose(f);
	fz_scn_destroy(s);
	return text;
}

Test(fuzz_export, built_scenario_loads_with_every_action_intact)
{
	char *text = build();
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	struct script_action want, body = {.op = SOP_RDTSC};

	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "built scenario does not load: %s\n%s", err.msg, text);
	cr_assert_eq(sc->guest.script.n_main, SOP_OP_MAX, "actions: wanted %d, got %zu", SOP_OP_MAX,
	             sc->guest.script.n_main);
	for (uint8_t op = 0; op < SOP_OP_MAX; op++) {
		const struct script_action *got = &sc->guest.script.main[op];

		sample_action(op, &want, &body);
		cr_assert_eq(got->op, op, "action %u: wanted op %u, got %u", op, op, got->op);
		if (op == SOP_WRMSR || op == SOP_MMIO_WRITE || op == SOP_VMCALL || op == SOP_MOV_CR)
			cr_assert_eq(got->value, want.value, "op %u: value %#llx, got %#llx", op,
			             (unsigned long long)want.value,
			             (unsigned long long)got->value);
		if (op == SOP_RDMSR || op == SOP_WRMSR || op == SOP_CPUID || op == SOP_OUT)
			cr_assert_eq(got->index, want.index, "op %u: index %#x, got %#x", op,
			             want.index, got->index);
		if (op == SOP_MMIO_READ || op == SOP_MMIO_WRITE)
			cr_assert_eq(got->addr, want.addr, "op %u: gpa differs", op);
	}
	cr_assert_eq(sc->guest.script.main[SOP_REPEAT].count, 3, "repeat count");
	cr_assert_eq(sc->guest.script.main[SOP_REPEAT].body[0].op, SOP_RDTSC, "repeat body op");
	hvsim_scenario_free(sc);
	free(text);
}

Test(fuzz_export, built_scenario_keeps_machine_events_limits_and_expectations)
{
	char *text = build();
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "%s", err.msg);
	cr_assert_str_eq(sc->name, "fuzz-test-0000000000000abc", "name: got %s", sc->name);
	cr_assert(sc->machine.vcpus == 2 && sc->machine.apicv &&
	              sc->machine.irqchip == IRQCHIP_SPLIT,
	          "machine fields lost");
	cr_assert_eq(sc->n_events, 3, "events: wanted 3, got %zu", sc->n_events);
	cr_assert_eq(sc->events[1].kind, SEV_MSI, "event 1 kind");
	cr_assert_eq(sc->events[1].at_ns, 100, "msi time raised to 100, got %llu",
	             (unsigned long long)sc->events[1].at_ns);
	cr_assert_eq(sc->events[2].vcpu, 1, "host event vcpu");
	cr_assert_eq(sc->limits.instructions, 5000, "limits.instructions");
	cr_assert_eq(sc->guest.script.n_handlers, 1, "handlers");
	cr_assert_eq(sc->guest.script.handlers[0].vector, 0x2a, "handler vector");
	cr_assert_eq(sc->runs[0].n_findings, 1, "expected findings");
	cr_assert_str_eq(sc->runs[0].findings[0], "invariant_violation", "expected finding kind");
	cr_assert_str_eq(sc->runs[0].golden, "../golden/fuzz-test-0000000000000abc.repro.jsonl",
	                 "golden: got %s", sc->runs[0].golden);
	cr_assert_eq(sc->hv.n_quirks, 1, "quirks");
	hvsim_scenario_free(sc);
	free(text);
}
