/* Canonical traces: JSON Lines, one event per line, keys in the order the emitter added them.
 * Format reference: docs/trace-format.md. Times are virtual ns (JSON numbers, < 2^53); every value
 * that can exceed 2^53 (registers, MSR values, addresses) is a "0x..." string. */
#ifndef HVSIM_TRACE_H
#define HVSIM_TRACE_H

#include <hvsim/base.h>

#define TRACE_MAX_FIELDS 16
#define TRACE_STR_MAX    96 /* bytes of a string field kept by the reader, NUL included */

enum trace_type {
	TRACE_NUM,  /* JSON number; the emitter guarantees value < 2^53 */
	TRACE_HEX,  /* "0x..." string, lower case, no leading zeros */
	TRACE_STR,  /* JSON string, escaped */
	TRACE_BOOL, /* true / false */
};

/* Verbosity: golden traces hold level 0 only; --verbose adds level 1. */
enum trace_level {
	TRACE_GOLDEN = 0,
	TRACE_VERBOSE = 1,
};

struct trace_field {
	const char *key; /* static string: field names are code, never data */
	uint8_t type;    /* enum trace_type */
	union {
		uint64_t u;
		const char *s; /* borrowed until the event is emitted */
		bool b;
	} v;
};

/* One event being built. "t", "vcpu" (omitted when < 0) and "ev" always come first. */
struct trace_ev {
	uint64_t t;
	int32_t vcpu;
	uint8_t level;
	uint8_t n;      /* fields used */
	bool overflow;  /* a field was dropped for lack of room: an hvsim bug, reported on emit */
	const char *ev; /* event kind, static string */
	struct trace_field f[TRACE_MAX_FIELDS];
};

void trace_ev_init(struct trace_ev *e, uint64_t t, int32_t vcpu, const char *ev);
void trace_ev_num(struct trace_ev *e, const char *key, uint64_t v);
void trace_ev_hex(struct trace_ev *e, const char *key, uint64_t v);
void trace_ev_str(struct trace_ev *e, const char *key, const char *s);
void trace_ev_bool(struct trace_ev *e, const char *key, bool b);
/* Field lookup by key, for observers; NULL when absent. */
const struct trace_field *trace_ev_get(const struct trace_ev *e, const char *key);

/* Where encoded bytes go. write returns false on failure (the writer then reports HVSIM_E_IO). */
struct trace_sink {
	bool (*write)(void *ctx, const char *buf, size_t len);
	void *ctx;
};

typedef struct trace_writer trace_writer;

/* Buffered streaming writer; NULL when out of memory. max_level: highest level written. */
trace_writer *trace_writer_create(struct trace_sink sink, enum trace_level max_level);
/* Encodes one event as a line. HVSIM_E_IO once the sink failed (sticky). */
enum hvsim_status trace_writer_emit(trace_writer *w, const struct trace_ev *e);
enum hvsim_status trace_writer_flush(trace_writer *w);
/* Flushes and frees; returns the sticky status. */
enum hvsim_status trace_writer_destroy(trace_writer *w);
uint64_t trace_writer_lines(const trace_writer *w);
/* Sets the count trace_writer_lines reports (a reloaded VM's trace restarts from its snapshot's;
 * hvsim_vm_reload). Can't fail. */
void trace_writer_set_lines(trace_writer *w, uint64_t lines);

/* Encodes e into buf (NUL-terminated line with '\n'); returns the length, or 0 if it did not fit.
 */
size_t trace_encode(const struct trace_ev *e, char *buf, size_t cap);

/* A parsed line. Strings are copied (truncated to TRACE_STR_MAX - 1 bytes). */
struct trace_rec {
	uint64_t t;
	int32_t vcpu; /* -1 when the line has none */
	char ev[32];
	uint8_t n;
	struct {
		char key[32];
		uint8_t type; /* enum trace_type; hex strings decode into u */
		uint64_t u;
		bool b;
		char s[TRACE_STR_MAX];
	} f[TRACE_MAX_FIELDS];
};

/* Parses one line (without or with its '\n'). On failure returns HVSIM_E_INPUT with err->msg saying
 * what was expected and found. */
enum hvsim_status trace_parse_line(const char *line, size_t len, struct trace_rec *out,
                                   struct hvsim_error *err);
/* Index of the field named key in a parsed record, or -1 when absent. */
int trace_rec_index(const struct trace_rec *r, const char *key);

#endif
