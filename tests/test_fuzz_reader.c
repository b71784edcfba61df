/* Verifies the fuzzing harnesses' byte reader (fuzz/fz_reader.c): little-endian takes, zeros past
 * the end, choices and ranges that stay in bounds, table picks, bounded loops. Each test decodes a
 * fixed byte string and compares with the values worked out by hand. */
#include <criterion/criterion.h>

#include "../fuzz/harness.h"

Test(fuzz_reader, takes_are_little_endian_and_consume_bytes)
{
	static const uint8_t b[] = {0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12};
	struct fz_in in;

	fz_init(&in, b, sizeof(b));
	cr_assert_eq(fz_u8(&in), 0x01, "u8");
	cr_assert_eq(fz_u16(&in), 0x1234, "u16: wanted 0x1234");
	cr_assert_eq(fz_u32(&in), 0x12345678u, "u32: wanted 0x12345678");
	cr_assert_eq(fz_left(&in), 0, "left: wanted 0, got %zu", fz_left(&in));
}

Test(fuzz_reader, past_the_end_reads_zero)
{
	static const uint8_t b[] = {0xff};
	struct fz_in in;
	uint64_t v;

	fz_init(&in, b, sizeof(b));
	v = fz_u64(&in);
	cr_assert_eq(v, 0xff, "u64 of one byte 0xff: got %#llx", (unsigned long long)v);
	cr_assert_eq(fz_u32(&in), 0, "past the end: wanted 0");
	fz_init(&in, NULL, 0);
	cr_assert_eq(fz_u16(&in), 0, "empty input: wanted 0");
}

Test(fuzz_reader, choose_stays_below_n)
{
	static const size_t ns[] = {1, 2, 3, 7, 255, 256, 257, 100000};
	uint8_t b[64];
	struct fz_in in;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		fz_init(&in, b, sizeof(b));
		for (int i = 0; i < 8; i++) {
			size_t c = fz_choose(&in, ns[k]);

			cr_assert_lt(c, ns[k], "n %zu draw %d: got %zu", ns[k], i, c);
		}
	}
}

Test(fuzz_reader, range_stays_inside_bounds)
{
	static const uint64_t bounds[][2] = {{5, 5},        {10, 20},        {0, 0xffff},
	                                     {1, 1u << 20}, {0, UINT64_MAX}, {7, 3}};
	static const uint8_t b[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80};
	struct fz_in in;

	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		uint64_t lo = bounds[k][0], hi = bounds[k][1], v;

		fz_init(&in, b, sizeof(b));
		v = fz_range(&in, lo, hi);
		cr_assert(v >= lo && (hi < lo ? v == lo : v <= hi), "[%#llx, %#llx]: got %#llx",
		          (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)v);
	}
}

Test(fuzz_reader, pick_takes_from_the_table_or_reads_a_value)
{
	static const uint64_t table[] = {0x1b, 0x80b};
	static const uint8_t b[] = {1, 2, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0};
	struct fz_in in;
	uint64_t first, second;

	fz_init(&in, b, sizeof(b));
	first = fz_pick(&in, table, 2);
	second = fz_pick(&in, table, 2);
	cr_assert_eq(first, 0x80b, "choice 1: wanted table[1] 0x80b, got %#llx",
	             (unsigned long long)first);
	cr_assert_eq(second, 0x11223344, "choice 2 (past the table): wanted 0x11223344, got %#llx",
	             (unsigned long long)second);
}

Test(fuzz_reader, bytes_copies_at_most_max_and_what_is_left)
{
	static const uint8_t b[] = {200, 'a', 'b', 'c'};
	uint8_t dst[8] = {0};
	struct fz_in in;
	size_t n;

	fz_init(&in, b, sizeof(b));
	n = fz_bytes(&in, dst, sizeof(dst));
	cr_assert_eq(n, 3, "length byte 200 with 3 bytes left: wanted 3, got %zu", n);
	cr_assert(dst[0] == 'a' && dst[2] == 'c', "copied bytes differ");
}

Test(fuzz_reader, more_is_bounded_by_count_and_input)
{
	static const uint8_t b[100] = {0};
	struct fz_in in;
	unsigned i = 0, loops = 0;

	fz_init(&in, b, sizeof(b));
	while (fz_more(&in, &i, 10))
		loops++;
	cr_assert_eq(loops, 10, "max 10 with input left: wanted 10 iterations, got %u", loops);
	fz_init(&in, b, 3);
	i = loops = 0;
	while (fz_more(&in, &i, 10)) {
		fz_u8(&in);
		loops++;
	}
	cr_assert_eq(loops, 3, "3 bytes, one per iteration: wanted 3 iterations, got %u", loops);
}

Test(fuzz_reader, hash_is_fnv1a_64)
{
	uint64_t h = fz_hash("a", 1);

	cr_assert_eq(h, UINT64_C(0xaf63dc4c8601ec8c), "FNV-1a 64 of \"a\": got %#llx",
	             (unsigned long long)h);
}
