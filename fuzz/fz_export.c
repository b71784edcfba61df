/* The reproducer-scenario builder (fz_export.h): a cJSON tree in the layout of
 * docs/scenario-format.md, written with cJSON's printer. Op names and operand keys mirror the
 * loader's table in sim/scenario_guest.c; tests/test_fuzz_export.c parses every op back to catch
 * any drift. */
#include "fz_export.h"

#include "../sim/scenario_tree.h"

#include <hvsim/guest_op.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

struct fz_scn {
	cJSON *root, *machine, *hv, *guest, *main, *handlers, *events, *limits, *run;
	char name[96];
	uint64_t last_at_ns; /* latest event time: events stay in time order */
	bool oom;            /* a node could not be allocated: fz_scn_write fails */
};

static const char *const op_names[SOP_OP_MAX] = {
    [SOP_CPUID] = "cpuid",
    [SOP_RDMSR] = "rdmsr",
    [SOP_WRMSR] = "wrmsr",
    [SOP_IN] = "in",
    [SOP_OUT] = "out",
    [SOP_MMIO_READ] = "mmio_read",
    [SOP_MMIO_WRITE] = "mmio_write",
    [SOP_RDTSC] = "rdtsc",
    [SOP_RDTSCP] = "rdtscp",
    [SOP_RDPMC] = "rdpmc",
    [SOP_HLT] = "hlt",
    [SOP_PAUSE] = "pause",
    [SOP_VMCALL] = "vmcall",
    [SOP_TDCALL] = "tdcall",
    [SOP_WBINVD] = "wbinvd",
    [SOP_MOV_CR] = "mov_cr",
    [SOP_COMPUTE] = "compute",
    [SOP_STI] = "sti",
    [SOP_CLI] = "cli",
    [SOP_REPEAT] = "repeat",
    [SOP_MONITOR] = "monitor",
    [SOP_MWAIT] = "mwait",
    [SOP_INVLPG] = "invlpg",
    [SOP_INVD] = "invd",
    [SOP_XSETBV] = "xsetbv",
    [SOP_RDRAND] = "rdrand",
    [SOP_RDSEED] = "rdseed",
    [SOP_SEAMCALL] = "seamcall",
    [SOP_STORE] = "store",
    [SOP_VMX] = "vmx",
};

/* Adds item to obj under key (or to an array when key is NULL); records an allocation failure. */
static cJSON *put(fz_scn *s, cJSON *obj, const char *key, cJSON *item)
{
	if (!item || !obj) {
		s->oom = true;
		cJSON_Delete(item);
		return NULL;
	}
	if (key && cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (key ? !cJSON_AddItemToObject(obj, key, item) : !cJSON_AddItemToArray(obj, item)) {
		s->oom = true;
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

static cJSON *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return cJSON_CreateString(buf);
}

static void build_skeleton(fz_scn *s, const char *target)
{
	cJSON *prov = cJSON_CreateObject(), *script, *runs;
	char note[256];

	snprintf(note, sizeof(note),
	         "found by hvsim's %s fuzz harness; raw reproducer fuzz/crashes/%s/", target,
	         target);
	put(s, s->root, "hvsim", cJSON_CreateNumber(SCENARIO_FORMAT_VERSION));
	put(s, s->root, "name", cJSON_CreateString(s->name));
	put(s, s->root, "description",
	    cJSON_CreateString("fuzzing reproducer (hvsim fuzz --export)"));
	put(s, s->root, "provenance", prov);
	put(s, prov, "note", cJSON_CreateString(note));
	s->machine = put(s, s->root, "machine", cJSON_CreateObject());
	s->hv = put(s, s->root, "hypervisor", cJSON_CreateObject());
	put(s, s->hv, "algorithm", cJSON_CreateString("minimal"));
	s->guest = put(s, s->root, "guest", cJSON_CreateObject());
	script = put(s, s->guest, "script", cJSON_CreateObject());
	s->main = put(s, script, "main", cJSON_CreateArray());
	s->handlers = put(s, script, "handlers", cJSON_CreateObject());
	s->events = put(s, s->root, "events", cJSON_CreateArray());
	s->limits = put(s, s->root, "limits", cJSON_CreateObject());
	runs = put(s, s->root, "runs", cJSON_CreateArray());
	s->run = put(s, runs, NULL, cJSON_CreateObject());
}

fz_scn *fz_scn_create(const char *target, uint64_t input_hash)
{
	fz_scn *s = calloc(1, sizeof(*s));
	char golden[160];
	size_t n;

	if (!s || !(s->root = cJSON_CreateObject())) {
		free(s);
		return NULL;
	}
	n = (size_t)snprintf(s->name, sizeof(s->name), "%.60s-%016llx", target,
	                     (unsigned long long)input_hash);
	for (size_t i = 0; i < n && i < sizeof(s->name); i++)
		s->name[i] = s->name[i] == '_' ? '-' : s->name[i];
	build_skeleton(s, target);
	snprintf(golden, sizeof(golden), "../golden/%s.repro.jsonl", s->name);
	put(s, s->run, "name", cJSON_CreateString("repro"));
	put(s, s->run, "golden", cJSON_CreateString(golden));
	return s;
}

void fz_scn_destroy(fz_scn *s)
{
	if (!s)
		return;
	cJSON_Delete(s->root);
	free(s);
}

const char *fz_scn_name(const fz_scn *s)
{
	return s->name;
}

void fz_scn_machine_int(fz_scn *s, const char *key, uint64_t value)
{
	put(s, s->machine, key, cJSON_CreateNumber((double)value));
}

void fz_scn_machine_str(fz_scn *s, const char *key, const char *value)
{
	put(s, s->machine, key, cJSON_CreateString(value));
}

void fz_scn_machine_bool(fz_scn *s, const char *key, bool value)
{
	put(s, s->machine, key, cJSON_CreateBool(value));
}

void fz_scn_algorithm(fz_scn *s, const char *algorithm)
{
	put(s, s->hv, "algorithm", cJSON_CreateString(algorithm));
}

void fz_scn_quirk(fz_scn *s, const char *name, const char *value)
{
	cJSON *q = cJSON_GetObjectItemCaseSensitive(s->hv, "quirks");

	if (!q)
		q = put(s, s->hv, "quirks", cJSON_CreateObject());
	put(s, q, name, cJSON_CreateString(value));
}

static cJSON *action_json(fz_scn *s, const struct script_action *a);

/* Whether insn always has a memory operand (m64, m128; SDM ch. 31). */
static bool vmx_has_mem(unsigned insn)
{
	return insn == GVMX_VMXON || insn == GVMX_VMCLEAR || insn == GVMX_VMPTRLD ||
	       insn == GVMX_VMPTRST || insn == GVMX_INVEPT || insn == GVMX_INVVPID;
}

/* A vmx action's operands as the loader takes them (docs/scenario-format.md "Scripts"). */
static void vmx_operands(fz_scn *s, cJSON *j, const struct script_action *a)
{
	bool mem = a->flags & SCRIPT_VMX_MEM, st = a->flags & SCRIPT_VMX_STORE;
	unsigned insn = a->sub < GVMX_COUNT ? a->sub : GVMX_VMXOFF; /* as the script backend */

	put(s, j, "insn", cJSON_CreateString(guest_vmx_insn_name(insn)));
	mem = insn == GVMX_VMREAD || insn == GVMX_VMWRITE ? mem : vmx_has_mem(insn);
	st = st && mem;
	if (mem)
		put(s, j, "addr", hex(a->addr));
	switch (insn) {
	case GVMX_VMXON:
	case GVMX_VMCLEAR:
	case GVMX_VMPTRLD:
		if (st)
			put(s, j, "pointer", hex(a->value));
		break;
	case GVMX_VMREAD: put(s, j, "field", hex(a->field)); break;
	case GVMX_VMWRITE:
		put(s, j, "field", hex(a->field));
		if (!mem || st)
			put(s, j, "value", hex(a->value));
		break;
	case GVMX_INVEPT:
	case GVMX_INVVPID:
		put(s, j, "type", hex(a->field));
		if (st) {
			put(s, j, "desc_lo", hex(a->value));
			put(s, j, "desc_hi", hex(a->value2));
		}
		break;
	default: break;
	}
}

static void operands(fz_scn *s, cJSON *j, const struct script_action *a)
{
	switch (a->op) {
	case SOP_CPUID:
		put(s, j, "leaf", hex(a->index));
		put(s, j, "subleaf", hex(a->sub));
		break;
	case SOP_WRMSR: put(s, j, "value", hex(a->value)); /* fall through */
	case SOP_RDMSR: put(s, j, "msr", hex(a->index)); break;
	case SOP_OUT: put(s, j, "value", hex((uint32_t)a->value)); /* fall through */
	case SOP_IN:
		put(s, j, "port", hex(a->index & 0xffff));
		put(s, j, "size", cJSON_CreateNumber(a->size));
		break;
	case SOP_MMIO_WRITE:
	case SOP_STORE: put(s, j, "value", hex(a->value)); /* fall through */
	case SOP_MMIO_READ:
		put(s, j, "gpa", hex(a->addr));
		put(s, j, "size", cJSON_CreateNumber(a->size));
		break;
	case SOP_RDPMC: put(s, j, "counter", hex(a->index)); break;
	case SOP_VMCALL:
	case SOP_TDCALL:
	case SOP_SEAMCALL: put(s, j, "rax", hex(a->value)); break;
	case SOP_MOV_CR:
		put(s, j, "cr", cJSON_CreateNumber(a->cr));
		put(s, j, "value", hex(a->value));
		break;
	case SOP_COMPUTE: put(s, j, "insns", cJSON_CreateNumber((double)a->value)); break;
	case SOP_MONITOR: put(s, j, "addr", hex(a->addr)); /* fall through */
	case SOP_MWAIT:
		put(s, j, "extensions", hex(a->index));
		put(s, j, "hints", hex(a->sub));
		break;
	case SOP_INVLPG: put(s, j, "addr", hex(a->addr)); break;
	case SOP_XSETBV:
		put(s, j, "xcr", hex(a->index));
		put(s, j, "value", hex(a->value));
		break;
	case SOP_VMX: vmx_operands(s, j, a); break;
	case SOP_REPEAT: {
		cJSON *body = cJSON_CreateArray();

		put(s, j, "count", cJSON_CreateNumber((double)a->count));
		for (size_t i = 0; body && i < a->n_body; i++)
			put(s, body, NULL, action_json(s, &a->body[i]));
		put(s, j, "body", body);
		break;
	}
	default: break;
	}
}

static cJSON *action_json(fz_scn *s, const struct script_action *a)
{
	cJSON *j = cJSON_CreateObject();

	if (!j || a->op >= SOP_OP_MAX) {
		cJSON_Delete(j);
		s->oom = true;
		return NULL;
	}
	put(s, j, "op", cJSON_CreateString(op_names[a->op]));
	operands(s, j, a);
	return j;
}

void fz_scn_action(fz_scn *s, const struct script_action *a)
{
	put(s, s->main, NULL, action_json(s, a));
}

void fz_scn_handler_action(fz_scn *s, uint8_t vector, const struct script_action *a)
{
	char key[8];
	cJSON *list;

	if (vector < 32)
		return;
	snprintf(key, sizeof(key), "0x%x", vector);
	list = cJSON_GetObjectItemCaseSensitive(s->handlers, key);
	if (!list)
		list = put(s, s->handlers, key, cJSON_CreateArray());
	put(s, list, NULL, action_json(s, a));
}

static cJSON *event(fz_scn *s, uint64_t at_ns, const char *kind)
{
	cJSON *e = put(s, s->events, NULL, cJSON_CreateObject());

	if (at_ns < s->last_at_ns)
		at_ns = s->last_at_ns;
	s->last_at_ns = at_ns;
	put(s, e, "at_ns", cJSON_CreateNumber((double)at_ns));
	return put(s, e, kind, cJSON_CreateObject());
}

void fz_scn_irq_line(fz_scn *s, uint64_t at_ns, uint32_t gsi, uint8_t level)
{
	cJSON *e = event(s, at_ns, "irq_line");

	put(s, e, "gsi", cJSON_CreateNumber(gsi));
	put(s, e, "level", cJSON_CreateNumber(level ? 1 : 0));
}

void fz_scn_msi(fz_scn *s, uint64_t at_ns, uint64_t address, uint64_t data)
{
	cJSON *e = event(s, at_ns, "msi");

	put(s, e, "address", hex(address));
	put(s, e, "data", hex((uint32_t)data));
}

void fz_scn_host(fz_scn *s, uint64_t at_ns, const char *action, int32_t vcpu, uint64_t arg)
{
	cJSON *e = event(s, at_ns, "host");

	put(s, e, "action", cJSON_CreateString(action));
	if (vcpu >= 0)
		put(s, e, "vcpu", cJSON_CreateNumber(vcpu));
	put(s, e, "arg", hex(arg));
}

void fz_scn_limits(fz_scn *s, uint64_t virtual_ns, uint64_t instructions, uint64_t exits)
{
	put(s, s->limits, "virtual_ns", cJSON_CreateNumber((double)virtual_ns));
	put(s, s->limits, "instructions", cJSON_CreateNumber((double)instructions));
	put(s, s->limits, "exits", cJSON_CreateNumber((double)exits));
}

void fz_scn_guest_code(fz_scn *s, const uint8_t *bytes, size_t n, uint64_t load_gpa)
{
	static const char digits[] = "0123456789abcdef";
	char *text = malloc(2 * n + 1);

	if (!text) {
		s->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		text[2 * i] = digits[bytes[i] >> 4];
		text[2 * i + 1] = digits[bytes[i] & 15];
	}
	text[2 * n] = '\0';
	cJSON_DeleteItemFromObjectCaseSensitive(s->guest, "script");
	s->main = s->handlers = NULL;
	put(s, s->guest, "mode", cJSON_CreateString("long"));
	put(s, s->guest, "bytes", cJSON_CreateString(text));
	put(s, s->guest, "load_gpa", hex(load_gpa));
	free(text);
}

void fz_scn_check_invariants(fz_scn *s)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(s->root, "oracles"), *inv;

	if (!o)
		o = put(s, s->root, "oracles", cJSON_CreateObject());
	inv = put(s, o, "invariants", cJSON_CreateObject());
	put(s, inv, "enabled", cJSON_CreateTrue());
}

void fz_scn_expect(fz_scn *s, const char *kind)
{
	cJSON *f = cJSON_GetObjectItemCaseSensitive(s->run, "findings"), *k;

	if (!f)
		f = put(s, s->run, "findings", cJSON_CreateArray());
	cJSON_ArrayForEach(k, f)
	{
		if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0)
			return;
	}
	put(s, f, NULL, cJSON_CreateString(kind));
}

char *fz_scn_text(fz_scn *s)
{
	return s->oom ? NULL : cJSON_PrintUnformatted(s->root);
}

enum hvsim_status fz_scn_load(fz_scn *s, const char *file, const struct scenario_io *io,
                              struct hvsim_scenario **out, struct hvsim_error *err)
{
	*out = NULL;
	if (s->oom)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory building the scenario");
	return scenario_parse_tree(file, s->root, io, out, err);
}

int fz_scn_write(fz_scn *s, FILE *out)
{
	char *text;
	int rc = 2;

	text = s->oom ? NULL : cJSON_Print(s->root);
	if (text && fputs(text, out) >= 0 && fputc('\n', out) != EOF)
		rc = 0;
	free(text);
	return rc;
}
