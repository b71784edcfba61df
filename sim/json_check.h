/* Strict JSON validation with paths: every failure names the file, the JSON path, what was expected
 * and what was found ("f.json: $.machine.vcpus: expected an integer 1..256, found \"two\""). The
 * first failure wins; later calls become no-ops, so parsers can call on without checking each step.
 * Private to the scenario loader. */
#ifndef HVSIM_JSON_CHECK_H
#define HVSIM_JSON_CHECK_H

#include <hvsim/base.h>

#include <cjson/cJSON.h>

#define JC_PATH_MAX 256
/* Segments kept: each prints at least 2 bytes, so deeper paths are cut by JC_PATH_MAX anyway. */
#define JC_DEPTH_MAX (JC_PATH_MAX / 2 + 2)

/* The path is kept as segments and printed only for a failure (loading formats no path text). */
struct jc_seg {
	const char *key; /* NULL: an index */
	size_t index;
};

struct jc {
	const char *file;
	struct hvsim_error *err;
	bool failed;
	size_t depth; /* segments pushed (those past JC_DEPTH_MAX are not kept) */
	struct jc_seg seg[JC_DEPTH_MAX];
};

void jc_init(struct jc *c, const char *file, struct hvsim_error *err);
/* Push ".key" / "[i]" onto the path (key must live until popped); return the previous depth for
 * jc_pop. */
size_t jc_push_key(struct jc *c, const char *key);
size_t jc_push_index(struct jc *c, size_t i);
void jc_pop(struct jc *c, size_t saved);
/* The current path ("$.runs[0].quirks"), cut to cap bytes. */
void jc_path(const struct jc *c, char *buf, size_t cap);

/* Records a failure at the current path (first one wins); found NULL prints "nothing". */
bool jc_fail(struct jc *c, const cJSON *found, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with a preformatted "found" text. */
bool jc_fail_text(struct jc *c, const char *found, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void jc_fail_nomem(struct jc *c);

/* j must be an object whose keys are all in allowed (NULL-terminated) and each given once. */
bool jc_object(struct jc *c, const cJSON *j, const char *const *allowed);
/* Member lookup; NULL when absent. Missing required members fail with "expected KIND". */
const cJSON *jc_get(const cJSON *obj, const char *key);
bool jc_required(struct jc *c, const cJSON *obj, const char *key, const char *kind);

/* Scalars. Each reads obj.key into *out when present (leaving *out alone when absent) and returns
 * false only on a failure. jc_u64 takes a JSON integer below 2^53 or a "0x..." string. */
bool jc_int(struct jc *c, const cJSON *obj, const char *key, uint64_t min, uint64_t max,
            uint64_t *out);
bool jc_u64(struct jc *c, const cJSON *obj, const char *key, uint64_t min, uint64_t max,
            uint64_t *out);
bool jc_bool(struct jc *c, const cJSON *obj, const char *key, bool *out);
/* A string of 1..max_len bytes; *out is a new heap copy. */
bool jc_str(struct jc *c, const cJSON *obj, const char *key, size_t max_len, char **out);
/* A string that is one of names[0..n); *out is its index. */
bool jc_enum(struct jc *c, const cJSON *obj, const char *key, const char *const *names, size_t n,
             uint8_t *out);
/* Checks an identifier: 1..64 of [a-z0-9._-], starting with a letter or digit. */
bool jc_ident_ok(const char *s);

#endif
