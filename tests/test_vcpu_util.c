/* Helpers for the instruction-level vCPU tests (test_vcpu_util.h): inline scenarios, a recording
 * algorithm, an in-memory trace. No Test() here; nothing static is shared between tests. */
#include "test_vcpu_util.h"

#include "../sim/vm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_SLICES_MAX 200000000

static bool sink(void *ctx, const char *buf, size_t len)
{
	struct tv *t = ctx;

	if (t->trace_len + len + 1 > t->trace_cap) {
		size_t cap = (t->trace_len + len + 1) * 2;
		char *p = realloc(t->trace, cap);

		if (!p)
			return false;
		t->trace = p;
		t->trace_cap = cap;
	}
	memcpy(t->trace + t->trace_len, buf, len);
	t->trace_len += len;
	t->trace[t->trace_len] = '\0';
	return true;
}

static void record(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	struct tv_exit *e;

	if (t->n_exits++ >= TV_EXITS_MAX)
		return;
	e = &t->exits[t->n_exits - 1];
	e->x = *x;
	e->vcpu = hvsim_vcpu_index(v);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		e->gpr[i] = hvsim_vcpu_gpr(v, i);
	e->rip = hvsim_vcpu_rip(v);
	e->rflags = hvsim_vcpu_rflags(v);
	e->now = hvsim_vcpu_now(v);
}

void tv_default(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	const struct guest_op *op = &x->op;

	(void)t;
	switch (op->kind) {
	case GOP_CPUID:
		for (unsigned r = GPR_RAX; r <= GPR_RBX; r++)
			hvsim_vcpu_set_gpr(v, r, 0);
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_IO:
	case GOP_MMIO: hvsim_vcpu_complete(v, UINT64_MAX); break;
	case GOP_RDTSC:
	case GOP_RDTSCP: hvsim_vcpu_complete(v, hvsim_vcpu_tsc(v)); break;
	case GOP_CR:
		hvsim_vcpu_complete(v, op->u.cr.access == CR_ACCESS_MOV_FROM_CR
		                           ? hvsim_vcpu_cr(v, op->u.cr.cr)
		                           : 0);
		break;
	case GOP_HLT:
		hvsim_vcpu_complete(v, 0);
		hvsim_vcpu_stop(v, "hlt");
		break;
	default: hvsim_vcpu_complete(v, 0); break;
	}
}

static enum hvsim_status rec_vm_create(hvsim_vm *vm, void **priv)
{
	*priv = hvsim_vm_user(vm);
	return *priv ? HVSIM_OK : HVSIM_E_INPUT;
}

static enum hvsim_status rec_vcpu_create(void *priv, hvsim_vcpu *v)
{
	struct tv *t = priv;

	if (t->intercepts)
		hvsim_vcpu_set_intercepts(v, t->intercepts);
	hvsim_vcpu_set_tsc_offset(v, t->tsc_offset);
	if (t->tsc_multiplier)
		hvsim_vcpu_set_tsc_multiplier(v, t->tsc_multiplier);
	return HVSIM_OK;
}

static enum hvsim_status rec_vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct tv *t = priv;
	const struct hvsim_exit *x = hvsim_vcpu_exit(v);

	if (x) {
		record(t, v, x);
		(t->handler ? t->handler : tv_default)(t, v, x);
	}
	(void)hvsim_vcpu_enter(v);
	return HVSIM_OK;
}

/* I/O APIC line N delivers vector 0x20 + N to vCPU 0, as in the minimal algorithm. */
static void rec_irq_line(void *priv, uint32_t gsi, uint8_t level)
{
	struct tv *t = priv;
	hvsim_vcpu *v = hvsim_vm_vcpu(t->vm, 0);

	if (level && v) {
		hvsim_vcpu_inject(v, (uint8_t)(0x20 + gsi));
		hvsim_vcpu_kick(v);
	}
}

static void *rec_snapshot(void *priv)
{
	return priv; /* the recorder keeps nothing a test rewinds */
}

static enum hvsim_status rec_restore(void *priv, const void *snap)
{
	(void)priv, (void)snap;
	return HVSIM_OK;
}

static void rec_snapshot_free(void *snap)
{
	(void)snap;
}

static const struct hvsim_hv_ops recorder_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "recorder",
    .description = "test algorithm: records exits",
    .vm_create = rec_vm_create,
    .vcpu_create = rec_vcpu_create,
    .vcpu_run = rec_vcpu_run,
    .irq_line = rec_irq_line,
    .snapshot = rec_snapshot,
    .restore = rec_restore,
    .snapshot_free = rec_snapshot_free,
};

bool tv_open(struct tv *t, const char *json)
{
	struct hvsim_vm_opts o = {
	    .hv = t->hv ? t->hv : &recorder_ops, .level = TRACE_VERBOSE, .user = t};

	o.trace = (struct trace_sink){.write = sink, .ctx = t};
	o.image = t->image;
	o.image_len = t->image_len;
	if (hvsim_scenario_parse("test.json", json, strlen(json), NULL, &t->sc, &t->err) !=
	    HVSIM_OK)
		return false;
	t->vm = hvsim_vm_create(t->sc, 0, &o, &t->err);
	return t->vm != NULL;
}

static bool open_guest(struct tv *t, const char *mode, const char *code, const char *extra)
{
	size_t cap = strlen(code) + strlen(extra) + 1024;
	char *json = malloc(cap);
	bool ok;

	if (!json)
		return false;
	snprintf(json, cap,
	         "{\"hvsim\": 1, \"name\": \"t\", \"description\": \"test\", "
	         "\"provenance\": {\"note\": \"test\"}, \"hypervisor\": {\"algorithm\": "
	         "\"%s\"}, \"guest\": {\"mode\": \"%s\", %s}, "
	         "\"runs\": [{\"name\": \"r\", \"golden\": \"g.jsonl\"}]%s%s}",
	         t->hv ? t->hv->name : "recorder", mode, code, extra[0] ? ", " : "", extra);
	ok = tv_open(t, json);
	free(json);
	return ok;
}

bool tv_open_code(struct tv *t, const char *mode, const char *hex, const char *extra)
{
	size_t cap = strlen(hex) + 32;
	char *code = malloc(cap);
	bool ok;

	if (!code)
		return false;
	snprintf(code, cap, "\"bytes\": \"%s\"", hex);
	ok = open_guest(t, mode, code, extra);
	free(code);
	return ok;
}

bool tv_open_deadline_loop(struct tv *t)
{
	return tv_open_code(
	    t, "long",
	    "b9 e8 03 00 00 48 ff c0 48 ff c0 48 ff c0 48 ff c0 48 ff c0 48 ff c0 48 ff "
	    "c0 48 ff c0 48 ff c0 48 ff c0 ff c9 75 de f4",
	    "\"machine\": {\"quantum_insns\": 12}");
}

bool tv_open_program(struct tv *t, const char *mode, const char *extra)
{
	return open_guest(t, mode, "\"program\": \"guest/p.bin\"", extra);
}

bool tv_load_program(struct tv *t, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "scenarios/guest/%s.bin", name);
	f = fopen(path, "rb");
	if (!f)
		return false;
	t->image_len = fread(t->image_buf, 1, sizeof(t->image_buf), f);
	t->image = t->image_buf;
	fclose(f);
	return t->image_len > 0;
}

enum hvsim_vm_state tv_run(struct tv *t)
{
	enum hvsim_vm_state st = HVSIM_VM_RUNNING;

	for (uint64_t i = 0; i < STEP_SLICES_MAX && st == HVSIM_VM_RUNNING; i += 1024)
		st = hvsim_vm_step(t->vm, 1024);
	hvsim_vm_finish(t->vm);
	return st;
}

void tv_close(struct tv *t)
{
	hvsim_vm_destroy(t->vm);
	if (t->sc)
		hvsim_scenario_free(t->sc);
	free(t->trace);
	t->vm = NULL;
	t->sc = NULL;
	t->trace = NULL;
}

const struct tv_exit *tv_exit_of(const struct tv *t, uint8_t kind, unsigned nth)
{
	unsigned n = t->n_exits < TV_EXITS_MAX ? t->n_exits : TV_EXITS_MAX;

	for (unsigned i = 0; i < n; i++)
		if (t->exits[i].x.op.kind == kind && nth-- == 0)
			return &t->exits[i];
	return NULL;
}

unsigned tv_reports(const struct tv *t, uint32_t *out, unsigned cap)
{
	unsigned n = t->n_exits < TV_EXITS_MAX ? t->n_exits : TV_EXITS_MAX, k = 0;

	for (unsigned i = 0; i < n && k < cap; i++) {
		const struct guest_op *op = &t->exits[i].x.op;

		if (op->kind == GOP_IO && !op->u.io.in && !op->u.io.string && op->u.io.port == 0xe9)
			out[k++] = op->u.io.value;
	}
	return k;
}

bool tv_trace_has(const struct tv *t, const char *needle)
{
	return t->trace && strstr(t->trace, needle);
}

hvsim_vcpu *tv_vcpu(struct tv *t, unsigned index)
{
	return hvsim_vm_vcpu(t->vm, index);
}

void tv_hex(char *buf, size_t cap, const uint8_t *bytes, size_t n)
{
	size_t len = strlen(buf);

	for (size_t i = 0; i < n && len + 4 < cap; i++, len += 3)
		snprintf(buf + len, cap - len, "%02x ", bytes[i]);
}

void tv_hex_fill(char *buf, size_t cap, uint8_t byte, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tv_hex(buf, cap, &byte, 1);
}

void tv_stop_at_exit(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	(void)t, (void)x;
	hvsim_vcpu_stop(v, "test stops at the first exit");
}
