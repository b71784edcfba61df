/* The trace reader's fast path (sim/trace_scan.c) against its cJSON path: a line the scanner
 * accepts must read exactly as cJSON reads it (docs/trace-format.md, "Reading traces"), every
 * canonical line must take the scanner, and every other line must still read or fail as before. */
#include <criterion/criterion.h>

#include <hvsim/prng.h>

#include "../sim/trace_read_int.h"
#include "test_files.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define MUTANTS      64 /* per golden line */

/* Both paths read line: the scanner's record, when it takes the line, is the cJSON path's. */
static bool same_reading(const char *line, size_t len)
{
	struct trace_rec fast, slow;
	struct hvsim_error err = {0};

	if (!trace_scan_line(line, len, &fast))
		return false;
	cr_assert_eq(trace_parse_line_json(line, len, &slow, &err), HVSIM_OK,
	             "the scanner took a line cJSON rejects (%s): %.*s", err.msg, (int)len, line);
	cr_assert(memcmp(&fast, &slow, sizeof(fast)) == 0, "the paths read differently: %.*s",
	          (int)len, line);
	return true;
}

/* Overwrites, inserts or deletes one byte of line (len < cap), from the JSON punctuation, digits
 * and letters a mutation is likeliest to make meaningful. */
static size_t mutate(char *line, size_t len, size_t cap, struct sim_prng *p)
{
	static const char alphabet[] = "{}[]:,\"\\ \t\n0123456789-+.eExabf{tvn";
	size_t at = (size_t)sim_prng_below(p, len);
	char c = alphabet[sim_prng_below(p, sizeof(alphabet) - 1)];

	switch (sim_prng_below(p, 3)) {
	case 0: line[at] = c; return len;
	case 1:
		if (len + 1 >= cap)
			return len;
		memmove(line + at + 1, line + at, len - at);
		line[at] = c;
		return len + 1;
	default: memmove(line + at, line + at + 1, len - at - 1); return len - 1;
	}
}

/* The golden traces' lines, one after another (malloc'd, each line with its '\n'). */
static char *golden_lines(size_t *len)
{
	glob_t g;
	char *all = NULL;

	*len = 0;
	cr_assert_eq(glob("golden/*.jsonl", 0, NULL, &g), 0,
	             "no golden traces (run from the root)");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t n;
		uint8_t *text = test_slurp(g.gl_pathv[i], &n);

		cr_assert_not_null(text, "%s", g.gl_pathv[i]);
		all = realloc(all, *len + n + 1);
		cr_assert_not_null(all);
		memcpy(all + *len, text, n);
		*len += n;
		all[*len] = '\0';
		free(text);
	}
	globfree(&g);
	return all;
}

Test(trace_scan, every_golden_line_takes_the_scanner_and_reads_as_cjson_does)
{
	size_t len, lines = 0;
	char *all = golden_lines(&len);

	for (char *line = all, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, lines++)
		cr_assert(same_reading(line, (size_t)(nl - line) + 1),
		          "the scanner left a canonical line to cJSON: %.*s", (int)(nl - line),
		          line);
	cr_assert_gt(lines, 1000);
	free(all);
}

Test(trace_scan, mutated_golden_lines_read_as_cjson_reads_them)
{
	struct sim_prng p;
	size_t len, taken = 0, left = 0;
	char *all = golden_lines(&len);

	sim_prng_seed(&p, 7);
	for (char *line = all, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		size_t n = (size_t)(nl - line);

		for (unsigned m = 0; m < MUTANTS && n + 2 < LINE_MAX_LEN; m++) {
			char buf[LINE_MAX_LEN];
			size_t k = n;

			memcpy(buf, line, n);
			for (unsigned edits = 1 + (unsigned)sim_prng_below(&p, 2); edits--;)
				k = k ? mutate(buf, k, sizeof(buf), &p) : k;
			if (same_reading(buf, k))
				taken++;
			else
				left++;
		}
	}
	/* both kinds occur: mutations that keep the form (a digit for a digit) and ones that leave
	 */
	cr_assert_gt(taken, 1000);
	cr_assert_gt(left, 1000);
	free(all);
}

/* Lines cJSON reads but the scanner leaves to it, each with the record cJSON makes. */
Test(trace_scan, lines_outside_the_canonical_form_still_read)
{
	static const char *const lines[] = {
	    "{ \"t\":1,\"ev\":\"x\"}",                /* whitespace */
	    "{\"t\":1,\"ev\":\"a\\u0041\"}",          /* an escape */
	    "{\"t\":1.0,\"ev\":\"x\"}",               /* an exact number not in digits */
	    "{\"t\":00000000000000001,\"ev\":\"x\"}", /* 17 digits */
	};
	struct trace_rec r;
	struct hvsim_error err = {0};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);

		cr_assert_not(trace_scan_line(lines[i], n, &r), "%s", lines[i]);
		cr_assert_eq(trace_parse_line(lines[i], n, &r, &err), HVSIM_OK, "%s: %s", lines[i],
		             err.msg);
		cr_assert_eq(r.t, 1, "%s", lines[i]);
	}
}

Test(trace_scan, errors_are_the_cjson_paths)
{
	static const char *const lines[] = {
	    "{\"t\":9007199254740992,\"ev\":\"x\"}", /* 2^53 */
	    "{\"t\":1,\"vcpu\":2147483648,\"ev\":\"x\"}",
	    "{\"t\":1,\"ev\":\"x\",\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,"
	    "\"i\":0,\"j\":0,\"k\":0,\"l\":0,\"m\":0,\"n\":0,\"o\":0,\"p\":0,\"q\":0}", /* 17 fields
	                                                                                 */
	    "{\"ev\":\"x\",\"t\":1}",
	    "{\"t\":1,\"ev\":\"x\",\"k\":null}",
	};
	struct trace_rec r;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);
		struct hvsim_error fast = {0}, slow = {0};

		cr_assert_not(trace_scan_line(lines[i], n, &r), "%s", lines[i]);
		cr_assert_eq(trace_parse_line(lines[i], n, &r, &fast), HVSIM_E_INPUT, "%s",
		             lines[i]);
		cr_assert_eq(trace_parse_line_json(lines[i], n, &r, &slow), HVSIM_E_INPUT);
		cr_assert_str_eq(fast.msg, slow.msg);
	}
}

Test(trace_scan, sixteen_digits_up_to_two_to_the_53_minus_one_take_the_scanner)
{
	const char *line = "{\"t\":9007199254740991,\"vcpu\":2147483647,\"ev\":\"x\",\"n\":0001}";

	cr_assert(same_reading(line, strlen(line)));
}

/* cJSON_ParseWithLength stops at the end of the object: both paths ignore what follows */
Test(trace_scan, what_follows_the_object_is_ignored_by_both_paths)
{
	const char *line = "{\"t\":1,\"ev\":\"x\",\"k\":\"0x1\"} trailer";

	cr_assert(same_reading(line, strlen(line)));
}
