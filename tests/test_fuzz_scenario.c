/* Verifies the named invariants of the fuzz_scenario_json harness (fuzz/fz_scenario.c): each holds
 * on a correct result and reports a broken one, and the harness limits clamp what a fuzzed scenario
 * may cost. Inputs are small hand-made scenarios, summaries and trace texts. */
#include <criterion/criterion.h>

#include "../fuzz/fz_scenario.h"

#include <stdio.h>
#include <string.h>

#define WHY 512

static const char good[] =
    "{\"hvsim\":1,\"name\":\"g\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"vcpus\":2,\"memory_mib\":64,\"quantum_insns\":1},"
    "\"hypervisor\":{\"algorithm\":\"minimal\"},\"guest\":{\"script\":{\"main\":[{\"op\":\"hlt\"}]}"
    "},"
    "\"events\":[{\"at_ns\":5,\"irq_line\":{\"gsi\":1,\"level\":1}},"
    "{\"at_ns\":9,\"irq_line\":{\"gsi\":1,\"level\":0}}],"
    "\"limits\":{\"virtual_ns\":1000000000,\"instructions\":1000000000,\"exits\":5},"
    "\"runs\":[{\"name\":\"a\",\"golden\":\"g\"}]}";

static struct hvsim_scenario *load(void)
{
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(hvsim_scenario_parse("g.json", good, strlen(good), NULL, &sc, &err), HVSIM_OK,
	             "%s", err.msg);
	return sc;
}

Test(fuzz_scenario, parse_contract_holds_and_catches_a_bad_message)
{
	struct hvsim_error err = {.status = HVSIM_E_INPUT};
	char why[WHY];

	strcpy(err.msg, "f.json: $.x: expected a, found b");
	cr_assert(fz_inv_parse_contract(HVSIM_E_INPUT, NULL, &err, "f.json", why, WHY), "%s", why);
	strcpy(err.msg, "f.json: something went wrong");
	cr_assert_not(fz_inv_parse_contract(HVSIM_E_INPUT, NULL, &err, "f.json", why, WHY),
	              "a message without $PATH/expected/found passed");
	cr_assert_not(fz_inv_parse_contract(HVSIM_OK, NULL, &err, "f.json", why, WHY),
	              "HVSIM_OK without a scenario passed");
}

Test(fuzz_scenario, error_printable_catches_control_characters)
{
	struct hvsim_error err = {.status = HVSIM_E_INPUT, .msg = "line one\nline two"};
	char why[WHY];

	cr_assert_not(fz_inv_error_printable(&err, why, WHY), "a newline passed");
	cr_assert(strstr(why, "0x0a"), "why names the character: %s", why);
	strcpy(err.msg, "one \\u001b line");
	cr_assert(fz_inv_error_printable(&err, why, WHY), "an escaped ESC failed: %s", why);
}

Test(fuzz_scenario, scenario_valid_holds_and_catches_unsorted_events)
{
	struct hvsim_scenario *sc = load();
	char why[WHY];

	cr_assert(fz_inv_scenario_valid(sc, why, WHY), "a loaded scenario failed: %s", why);
	sc->events[1].at_ns = 1;
	cr_assert_not(fz_inv_scenario_valid(sc, why, WHY), "events out of order passed");
	hvsim_scenario_free(sc);
}

Test(fuzz_scenario, limits_clamp_time_exits_memory_and_slices)
{
	struct hvsim_scenario *sc = load();
	struct fz_limits l;

	fz_scenario_limits(sc, &l);
	/* quantum 1 instruction of 1 ns, 2 vCPUs: FZ_SLICES_MAX / 2 quanta bound the virtual time
	 */
	cr_assert_eq(l.virtual_ns, FZ_SLICES_MAX / 2, "virtual_ns: wanted %d, got %llu",
	             FZ_SLICES_MAX / 2, (unsigned long long)l.virtual_ns);
	cr_assert_eq(l.instructions, FZ_INSTRUCTIONS_MAX, "instructions: got %llu",
	             (unsigned long long)l.instructions);
	cr_assert_eq(l.exits, 5, "exits below the cap stay: got %llu", (unsigned long long)l.exits);
	cr_assert_eq(l.memory_mib, FZ_MEMORY_MIB_MAX, "memory: got %u", l.memory_mib);
	cr_assert_eq(l.n_runs, 1, "runs: got %zu", l.n_runs);
	hvsim_scenario_free(sc);
}

Test(fuzz_scenario, summary_consistent_catches_exit_counts_that_disagree)
{
	struct hvsim_scenario *sc = load();
	struct hvsim_summary s = {.exits = 2, .end_reason = "x"};
	char why[WHY];

	s.exits_by_reason[EXIT_REASON_HLT] = 2;
	cr_assert(fz_inv_summary_consistent(&s, sc, why, WHY), "%s", why);
	s.exits_by_reason[EXIT_REASON_HLT] = 1;
	cr_assert_not(fz_inv_summary_consistent(&s, sc, why, WHY), "2 exits, 1 by reason passed");
	hvsim_scenario_free(sc);
}

static bool trace_ok(const char *text, size_t findings, char *why)
{
	struct hvsim_scenario *sc = load();
	struct hvsim_summary s = {.n_findings = findings};
	struct fz_trace t;
	struct trace_sink sink;
	bool ok;

	fz_trace_init(&t);
	sink = fz_trace_sink(&t);
	sink.write(sink.ctx, text, strlen(text));
	ok = fz_inv_trace_wellformed(&t, sc, &s, why, WHY);
	fz_trace_free(&t);
	hvsim_scenario_free(sc);
	return ok;
}

Test(fuzz_scenario, trace_wellformed_holds_and_catches_each_defect)
{
	char why[WHY];
	const char *end = "{\"t\":9,\"ev\":\"end\"}\n";
	char buf[512];

	snprintf(buf, sizeof(buf),
	         "{\"t\":1,\"vcpu\":1,\"ev\":\"x\"}\n{\"t\":0,\"vcpu\":0,\"ev\":\"x\"}\n"
	         "{\"t\":2,\"ev\":\"finding\",\"kind\":\"k\"}\n%s",
	         end);
	cr_assert(trace_ok(buf, 1, why), "a good trace failed: %s", why);
	cr_assert_not(trace_ok(buf, 0, why), "1 finding line with 0 in the summary passed");
	snprintf(buf, sizeof(buf), "{\"t\":5,\"vcpu\":0,\"ev\":\"x\"}\n{\"t\":4,\"vcpu\":0}\n%s",
	         end);
	cr_assert_not(trace_ok(buf, 0, why), "a line without ev passed");
	snprintf(buf, sizeof(buf),
	         "{\"t\":5,\"vcpu\":0,\"ev\":\"x\"}\n{\"t\":4,\"vcpu\":0,\"ev\":\"y\"}\n%s", end);
	cr_assert_not(trace_ok(buf, 0, why), "vCPU time going back passed");
	cr_assert(strstr(why, "goes back"), "why: %s", why);
	cr_assert_not(trace_ok("{\"t\":5,\"vcpu\":2,\"ev\":\"x\"}\n", 0, why),
	              "vcpu 2 of 2 passed");
	cr_assert_not(trace_ok("{\"t\":5,\"ev\":\"x\"}\n", 0, why), "a trace without end passed");
}

/* docs/trace-format.md: machine events carry the engine's time. A host action names its vCPU, and
 * the engine's time may be behind that vCPU's (it ran past the slice end, paying an exit): the
 * line is not one of the vCPU's own, so its time is not held to the vCPU's order (found by
 * fuzz_hv_transitions). */
Test(fuzz_scenario, trace_wellformed_takes_host_lines_at_the_engines_time)
{
	char why[WHY];

	cr_assert(trace_ok("{\"t\":1001,\"vcpu\":0,\"ev\":\"entry\"}\n"
	                   "{\"t\":1000,\"vcpu\":0,\"ev\":\"host\",\"action\":\"a\"}\n"
	                   "{\"t\":1001,\"vcpu\":0,\"ev\":\"exit\"}\n{\"t\":9,\"ev\":\"end\"}\n",
	                   0, why),
	          "a host line behind its vCPU's time failed: %s", why);
	cr_assert_not(
	    trace_ok("{\"t\":1001,\"vcpu\":0,\"ev\":\"entry\"}\n"
	             "{\"t\":1000,\"vcpu\":0,\"ev\":\"host\",\"action\":\"a\"}\n"
	             "{\"t\":1000,\"vcpu\":0,\"ev\":\"exit\"}\n{\"t\":9,\"ev\":\"end\"}\n",
	             0, why),
	    "a vCPU line behind the vCPU's own earlier line passed");
}

static uint64_t digest_in_chunks(const char *text, size_t len, size_t chunk)
{
	struct fz_trace t;
	struct trace_sink sink;
	uint64_t d;

	fz_trace_init(&t);
	sink = fz_trace_sink(&t);
	for (size_t i = 0; i < len; i += chunk)
		sink.write(sink.ctx, text + i, len - i < chunk ? len - i : chunk);
	d = fz_trace_digest(&t);
	fz_trace_free(&t);
	return d;
}

/* The determinism checks compare digests of traces the writer hands over in differently sized
 * pieces (a kept machine's trace starts with the lines of its creation): the digest is the same
 * however the bytes are split. */
Test(fuzz_scenario, trace_digest_does_not_depend_on_how_writes_split_the_bytes)
{
	const char *text = "{\"t\":1,\"vcpu\":0,\"ev\":\"exit\",\"reason\":\"HLT\"}\n{\"t\":9}\n";
	size_t len = strlen(text);
	uint64_t whole = digest_in_chunks(text, len, len);

	for (size_t chunk = 1; chunk < len; chunk++)
		cr_assert_eq(digest_in_chunks(text, len, chunk), whole,
		             "chunks of %zu bytes: %016llx, whole: %016llx", chunk,
		             (unsigned long long)digest_in_chunks(text, len, chunk),
		             (unsigned long long)whole);
}

/* ... and it changes with any one byte, and with the length (a trailing NUL byte). */
Test(fuzz_scenario, trace_digest_changes_with_any_byte_and_the_length)
{
	char text[] = "{\"t\":1,\"vcpu\":0,\"ev\":\"exit\"}\n";
	size_t len = strlen(text);
	uint64_t base = digest_in_chunks(text, len, 5);

	for (size_t i = 0; i < len; i++) {
		text[i] ^= 1;
		cr_assert_neq(digest_in_chunks(text, len, 5), base, "byte %zu flipped, same digest",
		              i);
		text[i] ^= 1;
	}
	cr_assert_neq(digest_in_chunks(text, len + 1, 5), base, "a NUL byte appended, same digest");
}
