/* Verifies recorded input sequences (fuzz/fz_seq.c): a log written record by record reads back
 * whole, a log cut inside a record keeps the records before the cut, a file without the magic is
 * refused; and the reduction keeps exactly the earlier records a finding needs, in order, within
 * its trial budget. The trials here are a rule over the selected record numbers, not harness
 * runs (tests/test_fuzz_hvt_history.c runs a reduced pair through the real harness). */
#include <criterion/criterion.h>

#include "../fuzz/fz_seq.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void temp_path(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/hvsim-test-seq-%ld.seq", (long)getpid());
}

static void write_log(const char *path, unsigned records, bool cut)
{
	FILE *f = fopen(path, "wb");
	uint8_t data[64];

	cr_assert_not_null(f);
	cr_assert(fz_seq_put_magic(f));
	for (unsigned i = 0; i < records; i++) {
		memset(data, (int)i, sizeof(data));
		cr_assert(fz_seq_put(f, data, i)); /* record i: i bytes of value i */
	}
	if (cut)
		cr_assert_eq(fwrite("\x10\x00\x00\x00\x01", 1, 5, f), 5u); /* 16 bytes announced */
	fclose(f);
}

/* Writes a log of `records` records (cut: then a partial one) and loads it into s; the file is
 * gone again. */
static void load_log(struct fz_seq *s, unsigned records, bool cut)
{
	char path[128], why[256];

	temp_path(path, sizeof(path));
	write_log(path, records, cut);
	cr_assert(fz_seq_load(path, s, why, sizeof(why)), "%s", why);
	unlink(path);
}

Test(fuzz_seq, a_log_reads_back_record_by_record)
{
	struct fz_seq s;

	load_log(&s, 40, false);
	cr_expect_eq(s.n, 40u);
	cr_expect(!s.truncated);
	for (size_t i = 0; i < s.n; i++) {
		cr_expect_eq(s.size[i], i, "record %zu: %u bytes", i, s.size[i]);
		for (size_t k = 0; k < s.size[i]; k++)
			cr_expect_eq(s.buf[s.off[i] + k], (uint8_t)i);
	}
	fz_seq_free(&s);
}

Test(fuzz_seq, a_log_cut_inside_a_record_keeps_the_records_before)
{
	struct fz_seq s;

	load_log(&s, 5, true);
	cr_expect_eq(s.n, 5u);
	cr_expect(s.truncated);
	fz_seq_free(&s);
}

Test(fuzz_seq, a_file_without_the_magic_is_refused)
{
	char path[128], why[256];
	struct fz_seq s;
	FILE *f;

	temp_path(path, sizeof(path));
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputs("{\"hvsim\": 1}", f);
	fclose(f);
	cr_expect(!fz_seq_load(path, &s, why, sizeof(why)));
	cr_expect(strstr(why, "expected a sequence log") != NULL, "%s", why);
	unlink(path);
}

/* The finding shows at record `last` when every record of `need` ran before it, in order. */
struct rule {
	size_t last;
	const size_t *need;
	size_t n_need;
};

static bool rule_shows(void *ctx, const size_t *sel, size_t n)
{
	const struct rule *r = ctx;
	size_t k = 0;

	if (!n || sel[n - 1] != r->last)
		return false;
	for (size_t i = 0; i + 1 < n && k < r->n_need; i++)
		k += sel[i] == r->need[k];
	return k == r->n_need;
}

static size_t reduce_all(const struct rule *r, size_t *sel, struct fz_seq_reduce *st, bool *ok)
{
	size_t n = r->last + 1;

	for (size_t i = 0; i < n; i++)
		sel[i] = i;
	*ok = fz_seq_reduce(sel, &n, rule_shows, (void *)r, st);
	return n;
}

Test(fuzz_seq, the_reduction_keeps_exactly_the_records_the_finding_needs)
{
	static const size_t need[] = {130, 417, 998};
	struct rule r = {1500, need, 3};
	struct fz_seq_reduce st = {0};
	size_t *sel = malloc(1501 * sizeof(*sel));
	size_t n;
	bool ok;

	cr_assert_not_null(sel);
	n = reduce_all(&r, sel, &st, &ok);
	cr_assert(ok);
	cr_assert_eq(n, 4u, "%zu records left", n);
	cr_expect(sel[0] == 130 && sel[1] == 417 && sel[2] == 998 && sel[3] == 1500,
	          "left %zu %zu %zu %zu", sel[0], sel[1], sel[2], sel[3]);
	cr_expect(!st.spent);
	cr_expect_lt(st.trials, 200u, "%zu trials", st.trials);
	free(sel);
}

/* A kept machine's history starts where it was built: a long log costs about twice the history
 * the finding needs, not the log. */
Test(fuzz_seq, a_short_history_at_the_end_of_a_long_log_costs_short_trials)
{
	static const size_t need[] = {99990};
	struct rule r = {99999, need, 1};
	struct fz_seq_reduce st = {0};
	size_t *sel = malloc(100000 * sizeof(*sel));
	size_t n;
	bool ok;

	cr_assert_not_null(sel);
	n = reduce_all(&r, sel, &st, &ok);
	cr_assert(ok);
	cr_expect(n == 2 && sel[0] == 99990 && sel[1] == 99999, "%zu records left", n);
	cr_expect_lt(st.trials, 20u, "%zu trials", st.trials);
	free(sel);
}

Test(fuzz_seq, a_finding_that_needs_no_history_is_left_alone)
{
	struct rule r = {60, NULL, 0};
	struct fz_seq_reduce st = {0};
	size_t sel[61];
	bool ok;
	size_t n = reduce_all(&r, sel, &st, &ok);

	cr_expect(ok);
	cr_expect_eq(n, 1u);
	cr_expect_eq(sel[0], 60u);
	cr_expect_eq(st.trials, 1u, "one trial: the record alone");
}

Test(fuzz_seq, a_log_whose_last_record_shows_nothing_is_left_unchanged)
{
	static const size_t need[] = {3};
	struct rule r = {50, need, 1};
	struct fz_seq_reduce st = {0};
	size_t sel[51];
	size_t n = 51;

	for (size_t i = 0; i < n; i++)
		sel[i] = i == 3 ? 4 : i; /* record 3 is missing: nothing shows */
	cr_expect(!fz_seq_reduce(sel, &n, rule_shows, &r, &st));
	cr_expect_eq(n, 51u);
	cr_expect_eq(sel[3], 4u);
}

Test(fuzz_seq, the_trial_budget_stops_the_reduction_with_a_sequence_that_still_shows)
{
	static const size_t need[] = {3, 500, 777};
	struct rule r = {999, need, 3};
	struct fz_seq_reduce st = {.max_trials = 14};
	size_t *sel = malloc(1000 * sizeof(*sel));
	size_t n;
	bool ok;

	cr_assert_not_null(sel);
	n = reduce_all(&r, sel, &st, &ok);
	cr_expect(ok);
	cr_expect(st.spent);
	cr_expect_eq(st.trials, 14u);
	cr_expect(rule_shows(&r, sel, n), "the sequence left (%zu records) no longer shows", n);
	free(sel);
}
