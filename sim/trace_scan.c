/* The trace reader's fast path: a single pass over a line in the canonical form the writer emits
 * (docs/trace-format.md), with no allocation. It accepts only what it can read exactly as cJSON
 * would: no whitespace, no escapes, no control bytes, integers of at most 16 digits up to 2^53 - 1,
 * at most TRACE_MAX_FIELDS fields, the keys in the reader's order. Anything else, valid or not, it
 * hands back to the cJSON path, which reads every line and words every error. */
#include "trace_read_int.h"

#include <string.h>

#define NUM_DIGITS 16

struct scan {
	const char *p, *end;
};

/* A string token without escapes or control bytes: its bytes are its value. */
static bool scan_str(struct scan *s, const char **str, size_t *len)
{
	const char *q;

	if (s->p == s->end || *s->p != '"')
		return false;
	for (q = s->p + 1; q < s->end && *q != '"'; q++)
		if (*q == '\\' || (unsigned char)*q < 0x20)
			return false;
	if (q == s->end)
		return false;
	*str = s->p + 1;
	*len = (size_t)(q - *str);
	s->p = q + 1;
	return true;
}

static bool scan_char(struct scan *s, char c)
{
	if (s->p == s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

static bool scan_key(struct scan *s, const char **key, size_t *len)
{
	return scan_str(s, key, len) && scan_char(s, ':');
}

/* The n bytes at s are word's first n (plain loops: a fuzzing build intercepts memcmp). */
static bool bytes_are(const char *s, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != word[i])
			return false;
	return true;
}

static bool key_is(const char *key, size_t len, const char *want)
{
	return strlen(want) == len && bytes_are(key, len, want);
}

/* An unsigned decimal integer the double cJSON makes of it holds exactly. */
static bool scan_uint(struct scan *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && digits < NUM_DIGITS) {
		v = v * 10 + (uint64_t)(*s->p++ - '0');
		digits++;
	}
	if (!digits || v > TRACE_NUM_EXACT_MAX)
		return false;
	*out = v;
	return true; /* a 17th digit, '.', 'e': the caller finds no ',' or '}' next */
}

static bool scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || !bytes_are(s->p, n, word))
		return false;
	s->p += n;
	return true;
}

void trace_copy_n(char *dst, size_t cap, const char *src, size_t n)
{
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool scan_value(struct scan *s, struct trace_rec *r)
{
	unsigned i = r->n;
	const char *str;
	size_t len;

	if (s->p < s->end && *s->p == '"') {
		if (!scan_str(s, &str, &len))
			return false;
		r->f[i].type = trace_hex_n(str, len, &r->f[i].u) ? TRACE_HEX : TRACE_STR;
		trace_copy_n(r->f[i].s, sizeof(r->f[i].s), str, len);
	} else if (scan_literal(s, "true")) {
		r->f[i].type = TRACE_BOOL;
		r->f[i].b = true;
	} else if (scan_literal(s, "false")) {
		r->f[i].type = TRACE_BOOL;
	} else {
		r->f[i].type = TRACE_NUM;
		if (!scan_uint(s, &r->f[i].u))
			return false;
	}
	r->n++;
	return true;
}

static bool scan_field(struct scan *s, struct trace_rec *r)
{
	const char *key;
	size_t len;

	if (r->n >= TRACE_MAX_FIELDS || !scan_key(s, &key, &len))
		return false;
	trace_copy_n(r->f[r->n].key, sizeof(r->f[r->n].key), key, len);
	return scan_value(s, r);
}

/* "t", then "vcpu" when present, then "ev": parse_obj's order (trace_read.c). */
static bool scan_head(struct scan *s, struct trace_rec *r)
{
	const char *key, *ev;
	size_t len, ev_len;
	uint64_t v;

	if (!scan_char(s, '{') || !scan_key(s, &key, &len) || !key_is(key, len, "t") ||
	    !scan_uint(s, &r->t) || !scan_char(s, ',') || !scan_key(s, &key, &len))
		return false;
	if (key_is(key, len, "vcpu")) {
		if (!scan_uint(s, &v) || v > INT32_MAX || !scan_char(s, ',') ||
		    !scan_key(s, &key, &len))
			return false;
		r->vcpu = (int32_t)v;
	}
	if (!key_is(key, len, "ev") || !scan_str(s, &ev, &ev_len))
		return false;
	trace_copy_n(r->ev, sizeof(r->ev), ev, ev_len);
	return true;
}

bool trace_scan_line(const char *line, size_t len, struct trace_rec *out)
{
	struct scan s = {line, line + len};

	memset(out, 0, sizeof(*out));
	out->vcpu = -1;
	if (!scan_head(&s, out))
		return false;
	while (scan_char(&s, ','))
		if (!scan_field(&s, out))
			return false;
	return scan_char(&s, '}'); /* cJSON ignores what follows the object: the '\n' */
}
