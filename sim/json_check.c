/* Path-tracking validation helpers for the scenario loader (see json_check.h). */
#include "json_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX ((UINT64_C(1) << 53) - 1)
#define FOUND_MAX 48

void jc_init(struct jc *c, const char *file, struct hvsim_error *err)
{
	c->file = file;
	c->err = err;
	c->failed = false;
	c->depth = 0;
}

/* Appends text to path[0..*len) (cap bytes), cutting at the end. */
static void append(char *path, size_t cap, size_t *len, const char *text)
{
	int n = snprintf(path + *len, cap - *len, "%s", text);

	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* Length of buf[0..len) without a UTF-8 sequence left incomplete at its end. */
static size_t utf8_whole(const char *buf, size_t len)
{
	size_t k = len, need;
	unsigned char lead;

	while (k && ((unsigned char)buf[k - 1] & 0xc0) == 0x80 && len - k < 3)
		k--;
	if (!k)
		return len;
	lead = (unsigned char)buf[k - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return len - (k - 1) < need ? k - 1 : len;
}

/* Writes at most max_in bytes of s into buf as the content of a JSON string: quotes, backslashes
 * and control characters escaped, so that a message is one printable line whatever the scenario
 * holds. Never splits a UTF-8 sequence or an escape. Returns true when s was cut. */
static bool escape(char *buf, size_t cap, const char *s, size_t max_in)
{
	size_t len = 0, i = 0;

	for (; s[i] && i < max_in; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8] = {(char)ch};
		size_t n = 1;

		/* one snprintf per character dominated scenario loading: only the rare escapes
		 * format */
		if (ch == '"' || ch == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch == '\n')
			n = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (ch < 0x20 || ch == 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
		if (len + n >= cap)
			break;
		memcpy(buf + len, esc, n);
		len += n;
	}
	if (s[i])
		len = utf8_whole(buf, len);
	buf[len] = '\0';
	return s[i] != '\0';
}

static size_t push(struct jc *c, const char *key, size_t index)
{
	size_t saved = c->depth;

	if (c->depth < JC_DEPTH_MAX)
		c->seg[c->depth] = (struct jc_seg){.key = key, .index = index};
	c->depth++;
	return saved;
}

size_t jc_push_key(struct jc *c, const char *key)
{
	return push(c, key, 0);
}

size_t jc_push_index(struct jc *c, size_t i)
{
	return push(c, NULL, i);
}

void jc_pop(struct jc *c, size_t saved)
{
	c->depth = saved;
}

static void segment_text(const struct jc_seg *g, char *buf, size_t cap)
{
	if (g->key) {
		buf[0] = '.';
		escape(buf + 1, cap - 1, g->key, cap);
	} else {
		snprintf(buf, cap, "[%zu]", g->index);
	}
}

void jc_path(const struct jc *c, char *buf, size_t cap)
{
	size_t len = 0, n = c->depth < JC_DEPTH_MAX ? c->depth : JC_DEPTH_MAX;
	char text[80];

	if (!cap)
		return;
	buf[0] = '\0';
	append(buf, cap, &len, "$");
	for (size_t i = 0; i < n; i++) {
		segment_text(&c->seg[i], text, sizeof(text));
		append(buf, cap, &len, text);
	}
}

/* How a value is shown in "found ...": the JSON text of a scalar (strings quoted, long ones cut),
 * the kind of a container. */
static void describe(const cJSON *j, char *buf, size_t cap)
{
	if (!j) {
		snprintf(buf, cap, "nothing");
	} else if (cJSON_IsObject(j)) {
		snprintf(buf, cap, "an object");
	} else if (cJSON_IsArray(j)) {
		snprintf(buf, cap, "an array");
	} else if (cJSON_IsString(j)) {
		char text[FOUND_MAX * 2];
		bool cut = escape(text, cap > 6 && cap - 6 < sizeof(text) ? cap - 6 : sizeof(text),
		                  j->valuestring, FOUND_MAX);

		snprintf(buf, cap, "\"%s%s\"", text, cut ? "..." : "");
	} else {
		char *s = cJSON_PrintUnformatted(j);

		snprintf(buf, cap, "%.*s", FOUND_MAX, s ? s : "a value");
		free(s);
	}
}

static bool vfail(struct jc *c, const char *found, const char *fmt, va_list ap)
{
	char expected[256], path[JC_PATH_MAX];

	if (c->failed)
		return false;
	c->failed = true;
	vsnprintf(expected, sizeof(expected), fmt, ap);
	jc_path(c, path, sizeof(path));
	hvsim_error_set(c->err, HVSIM_E_INPUT, "%s: %s: expected %s, found %s", c->file, path,
	                expected, found);
	return false;
}

bool jc_fail(struct jc *c, const cJSON *found, const char *fmt, ...)
{
	char text[FOUND_MAX * 2 + 8];
	va_list ap;
	bool r;

	describe(found, text, sizeof(text));
	va_start(ap, fmt);
	r = vfail(c, text, fmt, ap);
	va_end(ap);
	return r;
}

bool jc_fail_text(struct jc *c, const char *found, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = vfail(c, found, fmt, ap);
	va_end(ap);
	return r;
}

void jc_fail_nomem(struct jc *c)
{
	if (c->failed)
		return;
	c->failed = true;
	hvsim_error_set(c->err, HVSIM_E_NOMEM, "%s: out of memory while loading", c->file);
}

/* Whether a and b are the same text; the first bytes are compared inline, as most keys differ
 * there (every member of every object of a scenario passes through here). */
static bool same_key(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

static bool allowed_key(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (same_key(key, *allowed))
			return true;
	return false;
}

static void join_keys(const char *const *allowed, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *allowed && len < cap; allowed++) {
		int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", *allowed);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

bool jc_object(struct jc *c, const cJSON *j, const char *const *allowed)
{
	char keys[200];

	if (c->failed)
		return false;
	if (!cJSON_IsObject(j))
		return jc_fail(c, j, "an object");
	for (const cJSON *m = j->child; m; m = m->next) {
		size_t saved;

		if (!m->string)
			return jc_fail(c, j, "an object with named members");
		saved = jc_push_key(c, m->string);
		if (!allowed_key(m->string, allowed)) {
			join_keys(allowed, keys, sizeof(keys));
			return jc_fail_text(c, "an unknown key", "one of the keys %s", keys);
		}
		for (const cJSON *o = j->child; o != m; o = o->next)
			if (same_key(o->string, m->string))
				return jc_fail_text(c, "it twice", "each key once");
		jc_pop(c, saved);
	}
	return true;
}

const cJSON *jc_get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

bool jc_required(struct jc *c, const cJSON *obj, const char *key, const char *kind)
{
	size_t saved;

	if (c->failed)
		return false;
	if (jc_get(obj, key))
		return true;
	saved = jc_push_key(c, key);
	jc_fail(c, NULL, "%s", kind);
	jc_pop(c, saved);
	return false;
}

static bool exact_int(const cJSON *j, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!(d >= 0 && d <= (double)EXACT_MAX) || d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

static bool hex_string(const cJSON *j, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;

	if (!cJSON_IsString(j))
		return false;
	s = j->valuestring;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return false;
	for (s += 2; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

static bool ranged(struct jc *c, const cJSON *obj, const char *key, uint64_t min, uint64_t max,
                   uint64_t *out, bool allow_hex)
{
	const cJSON *j = jc_get(obj, key);
	uint64_t v;
	size_t saved;
	bool ok;

	if (c->failed)
		return false;
	if (!j)
		return true;
	saved = jc_push_key(c, key);
	ok = exact_int(j, &v) || (allow_hex && hex_string(j, &v));
	if (!ok || v < min || v > max) {
		if (allow_hex)
			jc_fail(c, j, "an integer or \"0x...\" string 0x%llx..0x%llx",
			        (unsigned long long)min, (unsigned long long)max);
		else
			jc_fail(c, j, "an integer %llu..%llu", (unsigned long long)min,
			        (unsigned long long)max);
	} else {
		*out = v;
	}
	jc_pop(c, saved);
	return !c->failed;
}

bool jc_int(struct jc *c, const cJSON *obj, const char *key, uint64_t min, uint64_t max,
            uint64_t *out)
{
	return ranged(c, obj, key, min, max, out, false);
}

bool jc_u64(struct jc *c, const cJSON *obj, const char *key, uint64_t min, uint64_t max,
            uint64_t *out)
{
	return ranged(c, obj, key, min, max, out, true);
}

bool jc_bool(struct jc *c, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *j = jc_get(obj, key);
	size_t saved;

	if (c->failed)
		return false;
	if (!j)
		return true;
	saved = jc_push_key(c, key);
	if (!cJSON_IsBool(j))
		jc_fail(c, j, "true or false");
	else
		*out = cJSON_IsTrue(j);
	jc_pop(c, saved);
	return !c->failed;
}

bool jc_str(struct jc *c, const cJSON *obj, const char *key, size_t max_len, char **out)
{
	const cJSON *j = jc_get(obj, key);
	size_t saved;

	if (c->failed)
		return false;
	if (!j)
		return true;
	saved = jc_push_key(c, key);
	if (!cJSON_IsString(j) || !j->valuestring[0] || strlen(j->valuestring) > max_len) {
		jc_fail(c, j, "a string of 1..%zu characters", max_len);
	} else {
		free(*out);
		*out = strdup(j->valuestring);
		if (!*out)
			jc_fail_nomem(c);
	}
	jc_pop(c, saved);
	return !c->failed;
}

bool jc_enum(struct jc *c, const cJSON *obj, const char *key, const char *const *names, size_t n,
             uint8_t *out)
{
	const cJSON *j = jc_get(obj, key);
	char list[200] = "";
	size_t saved, len = 0;

	if (c->failed)
		return false;
	if (!j)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (cJSON_IsString(j) && strcmp(j->valuestring, names[i]) == 0) {
			*out = (uint8_t)i;
			return true;
		}
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
		                        "%s\"%s\"", i ? ", " : "", names[i]);
		if (len >= sizeof(list))
			break;
	}
	saved = jc_push_key(c, key);
	jc_fail(c, j, "one of %s", list);
	jc_pop(c, saved);
	return false;
}

bool jc_ident_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}
