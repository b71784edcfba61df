/* The trace reader: parses canonical lines back into records, decoding "0x..." strings into 64-bit
 * values so that a written value reads back bit-exact (cJSON's doubles never see them). */
#include "trace_read_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool trace_hex_n(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n < 3 || s[0] != '0' || s[1] != 'x')
		return false;
	for (size_t i = 2; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return false;
		if (v >> 60) /* a 17th significant digit would overflow */
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

static bool exact_uint(const cJSON *j, uint64_t *out)
{
	double d = j->valuedouble;

	if (!cJSON_IsNumber(j) || d < 0 || d > (double)TRACE_NUM_EXACT_MAX ||
	    d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	trace_copy_n(dst, cap, src, strnlen(src, cap - 1));
}

static enum hvsim_status field_from(const cJSON *j, struct trace_rec *r, struct hvsim_error *err)
{
	unsigned i = r->n;

	if (i >= TRACE_MAX_FIELDS)
		return hvsim_error_set(err, HVSIM_E_INPUT, "expected at most %d fields, found more",
		                       TRACE_MAX_FIELDS);
	copy_str(r->f[i].key, sizeof(r->f[i].key), j->string);
	r->f[i].u = 0;
	r->f[i].b = false;
	r->f[i].s[0] = '\0';
	if (cJSON_IsBool(j)) {
		r->f[i].type = TRACE_BOOL;
		r->f[i].b = cJSON_IsTrue(j);
	} else if (cJSON_IsNumber(j)) {
		r->f[i].type = TRACE_NUM;
		if (!exact_uint(j, &r->f[i].u))
			return hvsim_error_set(err, HVSIM_E_INPUT,
			                       "$.%s: expected an integer 0..2^53-1, found %g",
			                       j->string, j->valuedouble);
	} else if (cJSON_IsString(j)) {
		if (trace_hex_n(j->valuestring, strlen(j->valuestring), &r->f[i].u))
			r->f[i].type = TRACE_HEX;
		else
			r->f[i].type = TRACE_STR;
		copy_str(r->f[i].s, sizeof(r->f[i].s), j->valuestring);
	} else {
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "$.%s: expected a number, string or boolean, found another type", j->string);
	}
	r->n++;
	return HVSIM_OK;
}

static enum hvsim_status parse_obj(const cJSON *root, struct trace_rec *r, struct hvsim_error *err)
{
	const cJSON *j = root->child;

	if (!j || strcmp(j->string, "t") != 0 || !exact_uint(j, &r->t))
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "$.t: expected an integer virtual time as the first key");
	j = j->next;
	if (j && strcmp(j->string, "vcpu") == 0) {
		uint64_t v;

		if (!exact_uint(j, &v) || v > INT32_MAX)
			return hvsim_error_set(err, HVSIM_E_INPUT, "$.vcpu: expected a vCPU index");
		r->vcpu = (int32_t)v;
		j = j->next;
	}
	if (!j || strcmp(j->string, "ev") != 0 || !cJSON_IsString(j))
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "$.ev: expected the event kind after t and vcpu");
	copy_str(r->ev, sizeof(r->ev), j->valuestring);
	for (j = j->next; j; j = j->next)
		if (field_from(j, r, err) != HVSIM_OK)
			return err ? err->status : HVSIM_E_INPUT;
	return HVSIM_OK;
}

enum hvsim_status trace_parse_line_json(const char *line, size_t len, struct trace_rec *out,
                                        struct hvsim_error *err)
{
	cJSON *root;
	enum hvsim_status st;

	memset(out, 0, sizeof(*out));
	out->vcpu = -1;
	root = cJSON_ParseWithLength(line, len);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return hvsim_error_set(err, HVSIM_E_INPUT, "$: expected a JSON object, found %s",
		                       root ? "another JSON value" : "invalid JSON");
	}
	st = parse_obj(root, out, err);
	cJSON_Delete(root);
	return st;
}

/* Canonical lines, all a run writes, take the scanner (no tree, no allocation: fuzz_hv_transitions
 * reads every line of one run in eight back); the rest, and every error, cJSON. */
enum hvsim_status trace_parse_line(const char *line, size_t len, struct trace_rec *out,
                                   struct hvsim_error *err)
{
	if (trace_scan_line(line, len, out))
		return HVSIM_OK;
	return trace_parse_line_json(line, len, out, err);
}

int trace_rec_index(const struct trace_rec *r, const char *key)
{
	for (unsigned i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return (int)i;
	return -1;
}
