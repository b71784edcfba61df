/* Regression tests for scenario-loader bugs found by fuzzing (fuzz/fuzz_scenario_json.c,
 * docs/fuzzing.md "Findings"). Each test parses the minimized input the fuzzer reported and checks
 * the contract it broke: include/hvsim/scenario.h promises one error message "FILE: $PATH: expected
 * WHAT, found WHAT", ready to print. */
#include <criterion/criterion.h>

#include <hvsim/scenario.h>

#include <stdio.h>
#include <string.h>

/* Every required member but the name and the guest; HEAD adds an empty scripted guest. */
#define HEAD_NO_GUEST                                                         \
	"{\"hvsim\":1,\"description\":\"d\",\"provenance\":{\"note\":\"n\"}," \
	"\"hypervisor\":{\"algorithm\":\"minimal\"},\"runs\":[{\"name\":\"a\",\"golden\":\"g\"}],"
#define HEAD HEAD_NO_GUEST "\"guest\":{\"script\":{\"main\":[]}},"

static enum hvsim_status parse(const char *text, struct hvsim_error *err)
{
	struct hvsim_scenario *sc = NULL;
	enum hvsim_status st = hvsim_scenario_parse("f.json", text, strlen(text), NULL, &sc, err);

	hvsim_scenario_free(sc);
	return st;
}

static bool printable(const char *msg, size_t *bad)
{
	for (size_t i = 0; msg[i]; i++) {
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] == 0x7f) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* Found by fuzz_scenario_json (error_printable): a string value with a newline and an ESC sequence
 * was copied raw into the message, which then spanned two lines and recoloured the terminal. */
Test(scenario_fuzz_bugs, error_message_escapes_control_characters_in_values)
{
	struct hvsim_error err = {0};
	const char *text = HEAD "\"name\":\"a\\nb\\u001b[31m\"}";
	const char *want = "f.json: $.name: expected a name of [a-z0-9._-] starting with [a-z0-9], "
	                   "found \"a\\nb\\u001b[31m\"";
	size_t bad = 0;

	cr_assert_eq(parse(text, &err), HVSIM_E_INPUT, "input %s: wanted E_INPUT", text);
	cr_assert(printable(err.msg, &bad), "control character at offset %zu of: %s", bad, err.msg);
	cr_assert_str_eq(err.msg, want, "wanted %s, got %s", want, err.msg);
}

/* The same for a key: an unknown key is part of the JSON path in the message. */
Test(scenario_fuzz_bugs, error_message_escapes_control_characters_in_keys)
{
	struct hvsim_error err = {0};
	const char *text = "{\"hvsim\":1,\"x\\ty\\\"z\":1}";
	const char *want = "f.json: $.x\\u0009y\\\"z: expected one of the keys";
	size_t bad = 0;

	cr_assert_eq(parse(text, &err), HVSIM_E_INPUT, "input %s: wanted E_INPUT", text);
	cr_assert(printable(err.msg, &bad), "control character at offset %zu of: %s", bad, err.msg);
	cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "wanted a message starting %s, got %s",
	          want, err.msg);
}

/* A long value is cut to 48 bytes in "found": the cut never splits a UTF-8 sequence. */
Test(scenario_fuzz_bugs, error_message_cut_keeps_utf8_whole)
{
	struct hvsim_error err = {0};
	/* 47 ASCII bytes, then U+00E9 (2 bytes) straddling the 48-byte cut, then more */
	const char *text = HEAD "\"name\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	                        "\xc3\xa9zzzz\"}";
	const char *found = NULL;

	cr_assert_eq(parse(text, &err), HVSIM_E_INPUT, "wanted E_INPUT for an invalid name");
	found = strstr(err.msg, "found \"");
	cr_assert_not_null(found, "no found part in: %s", err.msg);
	cr_assert_null(strstr(found, "\xc3\""), "a lone UTF-8 lead byte before the cut in: %s",
	               err.msg);
	cr_assert_null(strstr(found, "\xc3..."), "a lone UTF-8 lead byte before the cut in: %s",
	               err.msg);
}

static enum hvsim_status parse_handler_key(const char *key, struct hvsim_error *err,
                                           uint8_t *vector)
{
	char text[1024];
	struct hvsim_scenario *sc = NULL;
	enum hvsim_status st;

	snprintf(text, sizeof(text),
	         HEAD_NO_GUEST
	         "\"name\":\"t\",\"guest\":{\"script\":{\"main\":[],\"handlers\":{\"%s\":[]}}}}",
	         key);
	st = hvsim_scenario_parse("f.json", text, strlen(text), NULL, &sc, err);
	if (sc && sc->guest.script.n_handlers == 1)
		*vector = sc->guest.script.handlers[0].vector;
	hvsim_scenario_free(sc);
	return st;
}

/* Found while writing the fuzz_scenario_json seeds: handler keys went through strtoul(s, 0), so
 * " 32" and "+32" were vector 32 and "040" was octal 32, not 40. */
Test(scenario_fuzz_bugs, handler_key_rejects_octal_sign_and_space)
{
	static const char *const bad[] = {"040", " 32", "+32", "32 ", "0x", "0x1000", "31", "256"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hvsim_error err = {0};
		uint8_t v = 0;

		cr_assert_eq(parse_handler_key(bad[i], &err, &v), HVSIM_E_INPUT,
		             "key \"%s\": wanted E_INPUT, got vector %u", bad[i], v);
		cr_assert_not_null(strstr(err.msg, "an interrupt vector 32..255"),
		                   "key \"%s\": wanted the vector message, got %s", bad[i],
		                   err.msg);
	}
}

Test(scenario_fuzz_bugs, handler_key_accepts_decimal_and_hex)
{
	static const struct {
		const char *key;
		uint8_t vector;
	} good[] = {{"32", 32},     {"40", 40},     {"255", 255},
	            {"0x2a", 0x2a}, {"0X2A", 0x2a}, {"0x020", 0x20}};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct hvsim_error err = {0};
		uint8_t v = 0;

		cr_assert_eq(parse_handler_key(good[i].key, &err, &v), HVSIM_OK, "key \"%s\": %s",
		             good[i].key, err.msg);
		cr_assert_eq(v, good[i].vector, "key \"%s\": wanted vector %u, got %u", good[i].key,
		             good[i].vector, v);
	}
}
