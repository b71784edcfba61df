/* Recorded input sequences: the log format and the reduction of a finding's history (fz_seq.h). */
#include "fz_seq.h"
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_BYTES (SIZE_MAX / 2) /* a log is as long as the campaign was */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Counts the whole records (index them too when s->off is set). */
static size_t walk(struct fz_seq *s)
{
	size_t pos = FZ_SEQ_MAGIC_LEN, n = 0;

	while (s->len - pos >= 4 && s->len - pos - 4 >= le32(s->buf + pos)) {
		uint32_t size = le32(s->buf + pos);

		if (s->off) {
			s->off[n] = pos + 4;
			s->size[n] = size;
		}
		pos += 4 + (size_t)size;
		n++;
	}
	s->truncated = pos != s->len;
	return n;
}

bool fz_seq_load(const char *path, struct fz_seq *s, char *why, size_t cap)
{
	FILE *f = fopen(path, "rb");

	memset(s, 0, sizeof(*s));
	if (!f) {
		snprintf(why, cap, "%s: cannot open", path);
		return false;
	}
	s->buf = fz_read_file(f, LOG_MAX_BYTES, &s->len);
	fclose(f);
	if (!s->buf) {
		snprintf(why, cap, "%s: cannot read (or out of memory)", path);
		return false;
	}
	if (s->len < FZ_SEQ_MAGIC_LEN || memcmp(s->buf, FZ_SEQ_MAGIC, FZ_SEQ_MAGIC_LEN) != 0) {
		snprintf(why, cap, "%s: expected a sequence log starting \"%s\"", path,
		         FZ_SEQ_MAGIC);
		fz_seq_free(s);
		return false;
	}
	s->n = walk(s);
	s->off = malloc((s->n ? s->n : 1) * sizeof(*s->off));
	s->size = malloc((s->n ? s->n : 1) * sizeof(*s->size));
	if (!s->off || !s->size) {
		snprintf(why, cap, "%s: out of memory", path);
		fz_seq_free(s);
		return false;
	}
	walk(s);
	return true;
}

void fz_seq_free(struct fz_seq *s)
{
	free(s->buf);
	free(s->off);
	free(s->size);
	memset(s, 0, sizeof(*s));
}

bool fz_seq_put_magic(FILE *f)
{
	return fwrite(FZ_SEQ_MAGIC, 1, FZ_SEQ_MAGIC_LEN, f) == FZ_SEQ_MAGIC_LEN;
}

void fz_seq_len(uint8_t out[4], uint32_t size)
{
	out[0] = (uint8_t)size;
	out[1] = (uint8_t)(size >> 8);
	out[2] = (uint8_t)(size >> 16);
	out[3] = (uint8_t)(size >> 24);
}

bool fz_seq_put(FILE *f, const uint8_t *data, uint32_t size)
{
	uint8_t len[4];

	fz_seq_len(len, size);
	return fwrite(len, 1, 4, f) == 4 && (!size || fwrite(data, 1, size, f) == size);
}

/* ---- reduction ---- */

struct reducer {
	fz_seq_trial_fn trial;
	void *ctx;
	struct fz_seq_reduce *r;
};

static bool shows(struct reducer *d, const size_t *sel, size_t n)
{
	if (d->r->max_trials && d->r->trials >= d->r->max_trials) {
		d->r->spent = true;
		return false;
	}
	d->r->trials++;
	return d->trial(d->ctx, sel, n);
}

/* The shortest run of sel ending with its last record that shows the finding, as its start:
 * suffixes of 1, 2, 4, ... records until one shows (a kept machine's history mostly starts not
 * long before), then bisection between that one and the last that did not. SIZE_MAX when none
 * shows, sel[0..n) included, or the budget ran out first. */
static size_t shortest_suffix(struct reducer *d, const size_t *sel, size_t n)
{
	size_t len = 1, prev = 0, lo, hi;

	while (!shows(d, sel + n - len, len)) {
		if (len == n || d->r->spent)
			return SIZE_MAX;
		prev = len;
		len = len * 2 < n ? len * 2 : n;
	}
	lo = n - len;  /* sel[lo..n) shows */
	hi = n - prev; /* sel[hi..n) does not (or is empty) */
	while (hi - lo > 1 && !d->r->spent) {
		size_t mid = lo + (hi - lo) / 2;

		if (shows(d, sel + mid, n - mid))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* sel without its records [from, to) into out; returns the count. */
static size_t without(const size_t *sel, size_t n, size_t from, size_t to, size_t *out)
{
	memcpy(out, sel, from * sizeof(*sel));
	memcpy(out + from, sel + to, (n - to) * sizeof(*sel));
	return n - (to - from);
}

/* ddmin on the history sel[0..n-1): leaves out chunks while the finding still shows. */
static void leave_out(struct reducer *d, size_t *sel, size_t *n, size_t *tmp)
{
	size_t chunks = 2;

	while (*n - 1 >= 2 && !d->r->spent) {
		size_t hist = *n - 1;
		bool removed = false;

		if (chunks > hist)
			chunks = hist;
		for (size_t c = 0; c < chunks && !removed && !d->r->spent; c++) {
			size_t m =
			    without(sel, *n, hist * c / chunks, hist * (c + 1) / chunks, tmp);

			if (shows(d, tmp, m)) {
				memcpy(sel, tmp, m * sizeof(*sel));
				*n = m;
				chunks = chunks > 2 ? chunks - 1 : 2;
				removed = true;
			}
		}
		if (removed)
			continue;
		if (chunks >= hist)
			break;
		chunks = chunks * 2 < hist ? chunks * 2 : hist;
	}
}

bool fz_seq_reduce(size_t *sel, size_t *n, fz_seq_trial_fn trial, void *ctx,
                   struct fz_seq_reduce *r)
{
	struct reducer d = {trial, ctx, r};
	size_t start, *tmp;

	if (*n == 0 || (start = shortest_suffix(&d, sel, *n)) == SIZE_MAX)
		return false;
	memmove(sel, sel + start, (*n - start) * sizeof(*sel));
	*n -= start;
	if (*n > 2 && (tmp = malloc(*n * sizeof(*tmp))) != NULL) {
		leave_out(&d, sel, n, tmp);
		free(tmp);
	}
	return true;
}
