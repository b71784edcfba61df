/* Verifies canonical traces: fixed key order, the encoding of every field type, 64-bit values that
 * survive a write/read round trip bit-exactly (0, 2^53+1, 2^64-1: JSON numbers are doubles, so they
 * must travel as "0x..." strings), escaping, and the streaming writer's sink and level filter. */
#include <criterion/criterion.h>

#include <hvsim/trace.h>

#include <stdio.h>
#include <string.h>

#define BUF 4096

struct mem_sink {
	char buf[BUF];
	size_t len;
	bool fail;
};

static bool mem_write(void *ctx, const char *buf, size_t len)
{
	struct mem_sink *m = ctx;

	if (m->fail || m->len + len > BUF)
		return false;
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return true;
}

Test(trace, line_has_fixed_key_order)
{
	struct trace_ev e;
	char line[BUF];

	trace_ev_init(&e, 1200, 0, "exit");
	trace_ev_str(&e, "reason", "WRMSR");
	trace_ev_hex(&e, "msr", 0x80b);
	trace_ev_hex(&e, "value", 0);
	trace_encode(&e, line, sizeof(line));
	cr_assert_str_eq(
	    line, "{\"t\":1200,\"vcpu\":0,\"ev\":\"exit\",\"reason\":\"WRMSR\",\"msr\":\"0x80b\","
	          "\"value\":\"0x0\"}\n");
}

Test(trace, vcpu_omitted_when_negative)
{
	struct trace_ev e;
	char line[BUF];

	trace_ev_init(&e, 5, -1, "irq_line");
	trace_ev_num(&e, "gsi", 10);
	trace_ev_bool(&e, "ok", false);
	trace_encode(&e, line, sizeof(line));
	cr_assert_str_eq(line, "{\"t\":5,\"ev\":\"irq_line\",\"gsi\":10,\"ok\":false}\n");
}

Test(trace, strings_are_escaped)
{
	struct trace_ev e;
	char line[BUF];

	trace_ev_init(&e, 0, -1, "x");
	trace_ev_str(&e, "s", "a\"b\\c\nd\x01");
	trace_encode(&e, line, sizeof(line));
	cr_assert_str_eq(line, "{\"t\":0,\"ev\":\"x\",\"s\":\"a\\\"b\\\\c\\nd\\u0001\"}\n");
}

/* The three values plus neighbours of the double precision limit. */
Test(trace, hex_values_round_trip_bit_exact)
{
	static const uint64_t values[] = {
	    0,    (UINT64_C(1) << 53) + 1, UINT64_MAX, (UINT64_C(1) << 53) - 1, UINT64_C(1) << 63,
	    0x80b};
	struct trace_rec r;
	struct hvsim_error err = {0};
	struct trace_ev e;
	char line[BUF];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		trace_ev_init(&e, 1, 2, "v");
		trace_ev_hex(&e, "value", values[i]);
		trace_encode(&e, line, sizeof(line));
		cr_assert_eq(trace_parse_line(line, strlen(line), &r, &err), HVSIM_OK,
		             "value %#llx: parse failed: %s", (unsigned long long)values[i],
		             err.msg);
		cr_assert_eq(r.f[0].type, TRACE_HEX, "value %#llx: type %d",
		             (unsigned long long)values[i], r.f[0].type);
		cr_assert_eq(r.f[0].u, values[i], "wanted %#llx, got %#llx",
		             (unsigned long long)values[i], (unsigned long long)r.f[0].u);
	}
}

Test(trace, record_round_trip_keeps_every_field)
{
	struct trace_rec r;
	struct hvsim_error err = {0};
	struct trace_ev e;
	char line[BUF];

	trace_ev_init(&e, 99, 3, "inject");
	trace_ev_hex(&e, "vector", 0xec);
	trace_ev_num(&e, "count", 7);
	trace_ev_str(&e, "type", "extint");
	trace_ev_bool(&e, "blocked", true);
	trace_encode(&e, line, sizeof(line));
	cr_assert_eq(trace_parse_line(line, strlen(line), &r, &err), HVSIM_OK, "%s", err.msg);
	cr_assert(r.t == 99 && r.vcpu == 3 && strcmp(r.ev, "inject") == 0, "header: %s", line);
	cr_assert_eq(r.n, 4, "fields: wanted 4, got %u", r.n);
	cr_assert_eq(r.f[trace_rec_index(&r, "vector")].u, 0xec);
	cr_assert_eq(r.f[trace_rec_index(&r, "count")].type, TRACE_NUM);
	cr_assert_str_eq(r.f[trace_rec_index(&r, "type")].s, "extint");
	cr_assert(r.f[trace_rec_index(&r, "blocked")].b, "bool lost");
	cr_assert_eq(trace_rec_index(&r, "absent"), -1);
}

Test(trace, reader_rejects_non_canonical_lines)
{
	static const char *const bad[] = {
	    "",
	    "[1,2]",
	    "{\"ev\":\"x\",\"t\":1}",
	    "{\"t\":1.5,\"ev\":\"x\"}",
	    "{\"t\":1,\"ev\":\"x\",\"big\":9007199254740993}",
	    "{\"t\":1,\"ev\":\"x\",\"o\":{}}",
	    "{\"t\":1}",
	};
	struct trace_rec r;
	struct hvsim_error err = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(trace_parse_line(bad[i], strlen(bad[i]), &r, &err), HVSIM_E_INPUT,
		             "line %zu (%s) should be rejected", i, bad[i]);
}

Test(trace, writer_streams_and_filters_levels)
{
	struct mem_sink m = {0};
	trace_writer *w = trace_writer_create((struct trace_sink){mem_write, &m}, TRACE_GOLDEN);
	struct trace_ev e;

	trace_ev_init(&e, 1, 0, "kept");
	trace_writer_emit(w, &e);
	trace_ev_init(&e, 2, 0, "verbose");
	e.level = TRACE_VERBOSE;
	trace_writer_emit(w, &e);
	cr_assert_eq(trace_writer_lines(w), 1, "verbose line must be filtered");
	cr_assert_eq(trace_writer_destroy(w), HVSIM_OK);
	m.buf[m.len] = '\0';
	cr_assert_str_eq(m.buf, "{\"t\":1,\"vcpu\":0,\"ev\":\"kept\"}\n");
}

Test(trace, writer_reports_sink_failure)
{
	struct mem_sink m = {.fail = true};
	trace_writer *w = trace_writer_create((struct trace_sink){mem_write, &m}, TRACE_GOLDEN);
	struct trace_ev e;

	trace_ev_init(&e, 1, 0, "x");
	trace_writer_emit(w, &e);
	cr_assert_eq(trace_writer_destroy(w), HVSIM_E_IO, "a failing sink must surface as E_IO");
}

Test(trace, too_many_fields_is_an_internal_error)
{
	struct mem_sink m = {0};
	trace_writer *w = trace_writer_create((struct trace_sink){mem_write, &m}, TRACE_GOLDEN);
	struct trace_ev e;

	trace_ev_init(&e, 1, 0, "x");
	for (int i = 0; i <= TRACE_MAX_FIELDS; i++)
		trace_ev_num(&e, "k", (uint64_t)i);
	cr_assert_eq(trace_writer_emit(w, &e), HVSIM_E_INTERNAL, "a dropped field must not pass");
	trace_writer_destroy(w);
}

/* The reader keeps what fits of an over-long event name, key or string value, terminated. */
Test(trace, reader_truncates_long_names_and_strings_to_their_fields)
{
	char line[1024], longs[600];
	struct trace_rec r;
	struct hvsim_error err = {0};
	int len;

	memset(longs, 'k', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	len = snprintf(line, sizeof(line), "{\"t\":1,\"ev\":\"%.40s\",\"%.40s\":\"%s\"}", longs,
	               longs, longs);
	cr_assert_eq(trace_parse_line(line, (size_t)len, &r, &err), HVSIM_OK, "%s", err.msg);
	cr_expect_eq(strlen(r.ev), sizeof(r.ev) - 1, "ev: %zu bytes kept", strlen(r.ev));
	cr_expect_eq(strlen(r.f[0].key), sizeof(r.f[0].key) - 1, "key: %zu bytes kept",
	             strlen(r.f[0].key));
	cr_expect_eq(strlen(r.f[0].s), sizeof(r.f[0].s) - 1, "value: %zu bytes kept",
	             strlen(r.f[0].s));
	cr_expect(r.f[0].s[0] == 'k' && r.f[0].s[sizeof(r.f[0].s) - 2] == 'k', "value bytes kept");
}
