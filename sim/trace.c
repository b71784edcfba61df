/* The canonical trace writer. An event is encoded into one JSON line with its keys in emission
 * order; the bytes depend only on the event, never on the host, so equal runs give equal files.
 * Lines are buffered and streamed to the sink; nothing holds the whole trace. */
#include <hvsim/trace.h>

#include "str_eq.h"

#include <stdlib.h>
#include <string.h>

#define WRITER_BUF     65536
#define LINE_MAX_BYTES 4096

struct trace_writer {
	struct trace_sink sink;
	enum trace_level max_level;
	enum hvsim_status status;
	uint64_t lines;
	size_t used;
	char buf[WRITER_BUF];
};

void trace_ev_init(struct trace_ev *e, uint64_t t, int32_t vcpu, const char *ev)
{
	e->t = t;
	e->vcpu = vcpu;
	e->level = TRACE_GOLDEN;
	e->n = 0;
	e->overflow = false;
	e->ev = ev;
}

static struct trace_field *add(struct trace_ev *e, const char *key, uint8_t type)
{
	struct trace_field *f;

	if (e->n >= TRACE_MAX_FIELDS) {
		e->overflow = true;
		return NULL;
	}
	f = &e->f[e->n++];
	f->key = key;
	f->type = type;
	return f;
}

void trace_ev_num(struct trace_ev *e, const char *key, uint64_t v)
{
	struct trace_field *f = add(e, key, TRACE_NUM);

	if (f)
		f->v.u = v;
}

void trace_ev_hex(struct trace_ev *e, const char *key, uint64_t v)
{
	struct trace_field *f = add(e, key, TRACE_HEX);

	if (f)
		f->v.u = v;
}

void trace_ev_str(struct trace_ev *e, const char *key, const char *s)
{
	struct trace_field *f = add(e, key, TRACE_STR);

	if (f)
		f->v.s = s ? s : "";
}

void trace_ev_bool(struct trace_ev *e, const char *key, bool b)
{
	struct trace_field *f = add(e, key, TRACE_BOOL);

	if (f)
		f->v.b = b;
}

const struct trace_field *trace_ev_get(const struct trace_ev *e, const char *key)
{
	for (unsigned i = 0; i < e->n; i++)
		if (sim_str_eq(e->f[i].key, key))
			return &e->f[i];
	return NULL;
}

/* A bounded output cursor: writes past the end are counted, not performed. The fast paths copy
 * whole pieces when they fit, which is always the case for lines within LINE_MAX_BYTES. */
struct out {
	char *p;
	size_t cap, len;
};

static void put_c(struct out *o, char c)
{
	if (o->len < o->cap)
		o->p[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, const char *s, size_t n)
{
	if (o->len + n <= o->cap)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_s(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

static void put_dec(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_n(o, tmp + n, sizeof(tmp) - (size_t)n);
}

static void put_hex(struct out *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[20];
	int n = sizeof(tmp);

	tmp[--n] = '"';
	do {
		tmp[--n] = digits[v & 15];
		v >>= 4;
	} while (v);
	tmp[--n] = 'x';
	tmp[--n] = '0';
	tmp[--n] = '"';
	put_n(o, tmp + n, sizeof(tmp) - (size_t)n);
}

static bool plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

static void put_json_str(struct out *o, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	put_c(o, '"');
	while (*s) {
		const char *run = s;

		while (*s && plain((unsigned char)*s))
			s++;
		put_n(o, run, (size_t)(s - run));
		if (!*s)
			break;
		if (*s == '"' || *s == '\\') {
			put_c(o, '\\');
			put_c(o, *s);
		} else if (*s == '\n') {
			put_n(o, "\\n", 2);
		} else {
			put_n(o, "\\u00", 4);
			put_c(o, digits[(unsigned char)*s >> 4]);
			put_c(o, digits[*s & 15]);
		}
		s++;
	}
	put_c(o, '"');
}

/* ,"key": -- keys come from code, but a plug-in's key is escaped like any string. */
static void put_key(struct out *o, const char *key)
{
	const char *k = key;

	while (*k && plain((unsigned char)*k))
		k++;
	put_c(o, ',');
	if (*k) {
		put_json_str(o, key);
	} else {
		put_c(o, '"');
		put_n(o, key, (size_t)(k - key));
		put_c(o, '"');
	}
	put_c(o, ':');
}

static void put_field(struct out *o, const struct trace_field *f)
{
	put_key(o, f->key);
	switch (f->type) {
	case TRACE_NUM: put_dec(o, f->v.u); break;
	case TRACE_HEX: put_hex(o, f->v.u); break;
	case TRACE_STR: put_json_str(o, f->v.s); break;
	default: put_s(o, f->v.b ? "true" : "false"); break;
	}
}

size_t trace_encode(const struct trace_ev *e, char *buf, size_t cap)
{
	struct out o = {.p = buf, .cap = cap, .len = 0};

	put_n(&o, "{\"t\":", 5);
	put_dec(&o, e->t);
	if (e->vcpu >= 0) {
		put_key(&o, "vcpu");
		put_dec(&o, (uint64_t)e->vcpu);
	}
	put_key(&o, "ev");
	put_json_str(&o, e->ev ? e->ev : "");
	for (unsigned i = 0; i < e->n; i++)
		put_field(&o, &e->f[i]);
	put_s(&o, "}\n");
	if (o.len >= cap)
		return 0;
	buf[o.len] = '\0';
	return o.len;
}

trace_writer *trace_writer_create(struct trace_sink sink, enum trace_level max_level)
{
	trace_writer *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	w->sink = sink;
	w->max_level = max_level;
	w->status = HVSIM_OK;
	w->lines = 0;
	w->used = 0;
	return w;
}

enum hvsim_status trace_writer_flush(trace_writer *w)
{
	if (w->status == HVSIM_OK && w->used && w->sink.write &&
	    !w->sink.write(w->sink.ctx, w->buf, w->used))
		w->status = HVSIM_E_IO;
	w->used = 0;
	return w->status;
}

enum hvsim_status trace_writer_emit(trace_writer *w, const struct trace_ev *e)
{
	size_t n;

	if (e->level > w->max_level || w->status != HVSIM_OK)
		return w->status;
	if (WRITER_BUF - w->used < LINE_MAX_BYTES && trace_writer_flush(w) != HVSIM_OK)
		return w->status;
	n = trace_encode(e, w->buf + w->used, LINE_MAX_BYTES);
	if (n == 0 || e->overflow) {
		w->status = HVSIM_E_INTERNAL;
		return w->status;
	}
	w->used += n;
	w->lines++;
	return HVSIM_OK;
}

enum hvsim_status trace_writer_destroy(trace_writer *w)
{
	enum hvsim_status st;

	if (!w)
		return HVSIM_OK;
	st = trace_writer_flush(w);
	free(w);
	return st;
}

uint64_t trace_writer_lines(const trace_writer *w)
{
	return w->lines;
}

void trace_writer_set_lines(trace_writer *w, uint64_t lines)
{
	w->lines = lines;
}
