/* CPU profiles: the VMX capability MSRs and the few CPU facts the VM-entry checks need, parsed
 * from JSON text (profiles/<name>.json; the build parses the embedded ones once with this parser,
 * tools/profile_tables.c, and vmx_profile_table.c loads them from the table). Strict: unknown or
 * repeated keys, bad hex, missing keys and an MSR set that contradicts SDM Appendix A (an MSR
 * present that cannot exist or absent that must) are errors naming the profile and the key.
 * Format: docs/vmx-model.md. */
#include "vmx_int.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <string.h>

/* Defaults for the optional CPU facts: Intel IA32_EFER bits SCE, LME, LMA, NXE; IA32_DEBUGCTL
 * bits 1:0 and 15:6; IA32_PERF_GLOBAL_CTRL with 8 general-purpose and 4 fixed counters. */
#define DEFAULT_EFER_VALID     UINT64_C(0xd01)
#define DEFAULT_DEBUGCTL_VALID UINT64_C(0xffc3)
#define DEFAULT_PERF_VALID     UINT64_C(0xf000000ff)

struct pctx {
	const char *label;
	struct hvsim_error *err;
};

static enum hvsim_status perr(const struct pctx *p, const char *key, const char *what)
{
	return hvsim_error_set(p->err, HVSIM_E_INPUT, "profile %s: %s: %s", p->label, key, what);
}

static bool parse_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	n = strlen(s + 2);
	if (n == 0 || n > 16)
		return false;
	for (const char *q = s + 2; *q; q++) {
		int d;

		if (*q >= '0' && *q <= '9')
			d = *q - '0';
		else if (*q >= 'a' && *q <= 'f')
			d = *q - 'a' + 10;
		else if (*q >= 'A' && *q <= 'F')
			d = *q - 'A' + 10;
		else
			return false;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* Every key of obj is in allowed (NULL-terminated) and appears once. */
static enum hvsim_status keys_ok(const struct pctx *p, const cJSON *obj, const char *where,
                                 const char *const *allowed)
{
	char msg[160];

	for (const cJSON *a = obj->child; a; a = a->next) {
		bool known = false;

		for (const char *const *k = allowed; *k; k++)
			known |= strcmp(a->string, *k) == 0;
		for (const cJSON *b = obj->child; b != a; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return perr(p, where, "key given twice");
		if (!known) {
			snprintf(msg, sizeof(msg), "unknown key \"%.64s\"", a->string);
			return perr(p, where, msg);
		}
	}
	return HVSIM_OK;
}

static enum hvsim_status get_hex(const struct pctx *p, const cJSON *obj, const char *key,
                                 const char *path, bool required, uint64_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!j)
		return required ? perr(p, path, "missing") : HVSIM_OK;
	if (!cJSON_IsString(j) || !parse_hex(j->valuestring, out))
		return perr(p, path, "expected a \"0x...\" string of 1 to 16 hex digits");
	return HVSIM_OK;
}

static enum hvsim_status get_text(const struct pctx *p, const cJSON *obj, const char *key,
                                  const char *path, const char **out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(j) || j->valuestring[0] == '\0')
		return perr(p, path, "expected a non-empty string");
	*out = j->valuestring;
	return HVSIM_OK;
}

static enum hvsim_status get_bool(const struct pctx *p, const cJSON *obj, const char *key,
                                  bool *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!j)
		return HVSIM_OK;
	if (!cJSON_IsBool(j))
		return perr(p, key, "expected true or false");
	*out = cJSON_IsTrue(j);
	return HVSIM_OK;
}

static enum hvsim_status get_int(const struct pctx *p, const cJSON *obj, const char *key, int min,
                                 int max, bool required, uint8_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	char msg[80];

	if (!j)
		return required ? perr(p, key, "missing") : HVSIM_OK;
	if (!cJSON_IsNumber(j) || j->valuedouble != (double)(int)j->valuedouble ||
	    j->valueint < min || j->valueint > max) {
		snprintf(msg, sizeof(msg), "expected an integer %d..%d", min, max);
		return perr(p, key, msg);
	}
	*out = (uint8_t)j->valueint;
	return HVSIM_OK;
}

static int msr_slot(const char *name)
{
	for (uint32_t i = 0; i < VMX_CAP_MSR_COUNT; i++)
		if (strcmp(vmx_caps_msr_name(VMX_CAP_MSR_FIRST + i), name) == 0)
			return (int)i;
	return -1;
}

static enum hvsim_status parse_msr(const struct pctx *p, const cJSON *m, struct vmx_caps *caps)
{
	static const char *const allowed[] = {"value", "source", NULL};
	char path[96];
	const char *src;
	int slot = msr_slot(m->string);
	enum hvsim_status st;

	snprintf(path, sizeof(path), "msrs.%.64s", m->string);
	if (slot < 0)
		return perr(p, path, "not a VMX capability MSR name (IA32_VMX_BASIC ...)");
	if (!cJSON_IsObject(m))
		return perr(p, path, "expected an object {\"value\", \"source\"}");
	st = keys_ok(p, m, path, allowed);
	snprintf(path, sizeof(path), "msrs.%.64s.value", m->string);
	if (st == HVSIM_OK)
		st = get_hex(p, m, "value", path, true, &caps->msr[slot]);
	snprintf(path, sizeof(path), "msrs.%.64s.source", m->string);
	if (st == HVSIM_OK)
		st = get_text(p, m, "source", path, &src);
	caps->present |= BIT32(slot);
	return st;
}

static enum hvsim_status parse_msrs(const struct pctx *p, const cJSON *msrs, struct vmx_caps *caps)
{
	char msg[128];
	uint32_t want;

	if (!cJSON_IsObject(msrs))
		return perr(p, "msrs", "expected an object of MSR name -> {value, source}");
	for (const cJSON *m = msrs->child; m; m = m->next) {
		enum hvsim_status st = parse_msr(p, m, caps);

		if (st != HVSIM_OK)
			return st;
	}
	want = vmx_caps_derive_present(caps);
	for (uint32_t i = 0; i < VMX_CAP_MSR_COUNT; i++) {
		if (((want ^ caps->present) >> i) & 1) {
			snprintf(msg, sizeof(msg), "%s by SDM Appendix A given the other MSRs",
			         (want >> i) & 1 ? "missing, but required" : "present, but absent");
			return perr(p, vmx_caps_msr_name(VMX_CAP_MSR_FIRST + i), msg);
		}
	}
	if (caps->msr[0] & BIT64(31))
		return perr(p, "msrs.IA32_VMX_BASIC.value", "bit 31 is always 0 (SDM A.1)");
	return HVSIM_OK;
}

static enum hvsim_status parse_facts(const struct pctx *p, const cJSON *root, struct vmx_caps *caps)
{
	enum hvsim_status st;

	caps->linear_bits = 48;
	caps->efer_valid = DEFAULT_EFER_VALID;
	caps->debugctl_valid = DEFAULT_DEBUGCTL_VALID;
	caps->perf_global_ctrl_valid = DEFAULT_PERF_VALID;
	st = get_int(p, root, "maxphyaddr", 32, 52, true, &caps->maxphyaddr);
	if (st == HVSIM_OK)
		st = get_int(p, root, "linear_address_bits", 48, 57, false, &caps->linear_bits);
	if (st == HVSIM_OK && caps->linear_bits != 48 && caps->linear_bits != 57)
		st = perr(p, "linear_address_bits", "expected 48 or 57");
	if (st == HVSIM_OK)
		st = get_hex(p, root, "efer_valid", "efer_valid", false, &caps->efer_valid);
	if (st == HVSIM_OK)
		st = get_hex(p, root, "debugctl_valid", "debugctl_valid", false,
		             &caps->debugctl_valid);
	if (st == HVSIM_OK)
		st = get_hex(p, root, "perf_global_ctrl_valid", "perf_global_ctrl_valid", false,
		             &caps->perf_global_ctrl_valid);
	if (st == HVSIM_OK)
		st = get_bool(p, root, "seam", &caps->seam);
	return st;
}

static enum hvsim_status parse_root(const struct pctx *p, const cJSON *root, struct vmx_caps *caps)
{
	static const char *const allowed[] = {"name",
	                                      "description",
	                                      "source",
	                                      "maxphyaddr",
	                                      "linear_address_bits",
	                                      "efer_valid",
	                                      "debugctl_valid",
	                                      "perf_global_ctrl_valid",
	                                      "seam",
	                                      "msrs",
	                                      NULL};
	const char *name, *text;
	enum hvsim_status st;

	if (!cJSON_IsObject(root))
		return perr(p, "$", "expected a JSON object");
	st = keys_ok(p, root, "$", allowed);
	if (st == HVSIM_OK)
		st = get_text(p, root, "name", "name", &name);
	if (st == HVSIM_OK && strlen(name) >= VMX_NAME_MAX)
		st = perr(p, "name", "longer than 63 bytes");
	if (st == HVSIM_OK)
		st = get_text(p, root, "description", "description", &text);
	if (st == HVSIM_OK)
		st = get_text(p, root, "source", "source", &text);
	if (st == HVSIM_OK)
		st = parse_facts(p, root, caps);
	if (st == HVSIM_OK)
		st = parse_msrs(p, cJSON_GetObjectItemCaseSensitive(root, "msrs"), caps);
	if (st == HVSIM_OK)
		snprintf(caps->name, sizeof(caps->name), "%s", name);
	return st;
}

enum hvsim_status vmx_profile_parse(const char *label, const char *json, struct vmx_caps *caps,
                                    struct hvsim_error *err)
{
	struct pctx p = {label ? label : "(unnamed)", err};
	struct vmx_caps tmp;
	cJSON *root;
	enum hvsim_status st;

	if (!json || !caps)
		return perr(&p, "$", "no JSON text or no caps to fill");
	root = cJSON_Parse(json);
	if (!root)
		return perr(&p, "$", "not valid JSON");
	memset(&tmp, 0, sizeof(tmp));
	st = parse_root(&p, root, &tmp);
	cJSON_Delete(root);
	if (st == HVSIM_OK)
		*caps = tmp;
	return st;
}
