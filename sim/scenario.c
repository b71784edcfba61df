/* The scenario loader, top level: format version, names, provenance, machine, hypervisor, limits
 * and runs. Guests and events are in scenario_guest.c. Validation is strict and total: any input
 * gives either a complete scenario or one error naming file, JSON path, expectation and finding. */
#include "scenario_int.h"
#include "scenario_tree.h"

#include <hvsim/clock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {"hvsim",   "name",       "description", "provenance",
                                       "machine", "hypervisor", "guest",       "events",
                                       "limits",  "oracles",    "runs",        NULL};
static const char *const oracle_keys[] = {"interrupt_storm", "isr_stall", "timer_stall",
                                          "invariants", NULL};
static const char *const storm_keys[] = {"count", "window_ns", "insns_per_irq", NULL};
static const char *const isr_keys[] = {"stall_ns", "eois", NULL};
static const char *const timer_keys[] = {"stall_ns", NULL};
static const char *const invariant_keys[] = {"enabled", NULL};
static const char *const prov_keys[] = {"patch", "link", "commit", "note", NULL};
static const char *const machine_keys[] = {
    "cpu",     "vcpus",       "memory_mib",     "irqchip", "apicv",
    "nested",  "tsc_khz",     "apic_bus_khz",   "insn_ns", "quantum_insns",
    "exit_ns", "ioapic_pins", "ioapic_version", NULL};
static const char *const hv_keys[] = {"algorithm", "quirks", NULL};
static const char *const limit_keys[] = {"virtual_ns", "instructions", "exits", NULL};
static const char *const run_keys[] = {"name",   "description", "seed", "quirks",
                                       "golden", "findings",    NULL};
static const char *const irqchip_names[] = {"kernel", "split"};
static const char *const ioapic_versions[] = {"0x11", "0x20"};

bool scenario_check_file(struct loader *ld, const cJSON *obj, const char *key, const char *rel)
{
	char path[SCENARIO_PATH_MAX];
	size_t saved;

	if (ld->jc.failed || !ld->io || !ld->io->exists)
		return !ld->jc.failed;
	saved = jc_push_key(&ld->jc, key);
	if (!hvsim_scenario_path(ld->sc, rel, path, sizeof(path)))
		jc_fail(&ld->jc, jc_get(obj, key), "a path shorter than %d bytes",
		        SCENARIO_PATH_MAX);
	else if (!ld->io->exists(ld->io->ctx, path))
		jc_fail_text(&ld->jc, "no such file", "an existing file (%s)", path);
	jc_pop(&ld->jc, saved);
	return !ld->jc.failed;
}

static bool parse_ident(struct loader *ld, const cJSON *obj, const char *key, char **out)
{
	size_t saved;

	if (!jc_str(&ld->jc, obj, key, 64, out) || !*out)
		return !ld->jc.failed;
	if (!jc_ident_ok(*out)) {
		saved = jc_push_key(&ld->jc, key);
		jc_fail(&ld->jc, jc_get(obj, key), "a name of [a-z0-9._-] starting with [a-z0-9]");
		jc_pop(&ld->jc, saved);
	}
	return !ld->jc.failed;
}

static bool parse_provenance(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct hvsim_scenario *sc = ld->sc;
	size_t saved = jc_push_key(c, "provenance");

	if (jc_object(c, j, prov_keys)) {
		jc_str(c, j, "patch", SCENARIO_STR_MAX, &sc->provenance.patch);
		jc_str(c, j, "link", SCENARIO_STR_MAX, &sc->provenance.link);
		jc_str(c, j, "commit", 64, &sc->provenance.commit);
		jc_str(c, j, "note", SCENARIO_STR_MAX, &sc->provenance.note);
	}
	if (!c->failed && sc->provenance.link && strncmp(sc->provenance.link, "https://", 8) != 0 &&
	    strncmp(sc->provenance.link, "http://", 7) != 0) {
		size_t s2 = jc_push_key(c, "link");

		jc_fail(c, jc_get(j, "link"), "an http(s):// address");
		jc_pop(c, s2);
	}
	if (!c->failed && !sc->provenance.link && !sc->provenance.note)
		jc_fail(c, j, "an object with \"link\" (the bug or patch) or \"note\"");
	jc_pop(c, saved);
	return !c->failed;
}

static void machine_defaults(struct hvsim_scenario *sc)
{
	sc->machine.vcpus = 1;
	sc->machine.memory_mib = 16;
	sc->machine.irqchip = IRQCHIP_KERNEL;
	sc->machine.tsc_khz = 2000000;
	sc->machine.apic_bus_khz = 1000000;
	sc->machine.insn_ns = 1;
	sc->machine.quantum_insns = 10000;
	sc->machine.exit_ns = 500;
	sc->machine.ioapic_pins = 24;
	sc->machine.ioapic_version = 0x20;
}

static bool parse_machine(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct hvsim_scenario *sc = ld->sc;
	size_t saved = jc_push_key(c, "machine");
	uint64_t v;
	uint8_t e;

	machine_defaults(sc);
	if (j && jc_object(c, j, machine_keys)) {
		parse_ident(ld, j, "cpu", &sc->machine.cpu);
		v = sc->machine.vcpus;
		jc_int(c, j, "vcpus", 1, SCENARIO_MAX_VCPUS, &v);
		sc->machine.vcpus = (uint32_t)v;
		v = sc->machine.memory_mib;
		jc_int(c, j, "memory_mib", 1, SCENARIO_MAX_MEMORY_MIB, &v);
		sc->machine.memory_mib = (uint32_t)v;
		jc_enum(c, j, "irqchip", irqchip_names, 2, &sc->machine.irqchip);
		jc_bool(c, j, "apicv", &sc->machine.apicv);
		jc_bool(c, j, "nested", &sc->machine.nested);
		jc_int(c, j, "tsc_khz", 1000, 10000000, &sc->machine.tsc_khz);
		jc_int(c, j, "apic_bus_khz", 1000, 10000000, &sc->machine.apic_bus_khz);
		v = sc->machine.insn_ns;
		jc_int(c, j, "insn_ns", 1, 1000, &v);
		sc->machine.insn_ns = (uint32_t)v;
		v = sc->machine.quantum_insns;
		jc_int(c, j, "quantum_insns", 1, 10000000, &v);
		sc->machine.quantum_insns = (uint32_t)v;
		v = sc->machine.exit_ns;
		jc_int(c, j, "exit_ns", 0, 1000000, &v);
		sc->machine.exit_ns = (uint32_t)v;
		v = sc->machine.ioapic_pins;
		jc_int(c, j, "ioapic_pins", 1, 120, &v);
		sc->machine.ioapic_pins = (uint32_t)v;
		e = 1;
		if (jc_enum(c, j, "ioapic_version", ioapic_versions, 2, &e))
			sc->machine.ioapic_version = e ? 0x20 : 0x11;
	}
	if (!c->failed && !sc->machine.cpu) {
		sc->machine.cpu = strdup("generic");
		if (!sc->machine.cpu)
			jc_fail_nomem(c);
	}
	jc_pop(c, saved);
	return !c->failed;
}

/* Quirk objects: {"name": "value", ...}; names and values are identifiers. Which names and values
 * an algorithm knows is checked when the VM is built (hvsim_vm_create), where the algorithm is
 * known. */
static bool parse_quirks(struct loader *ld, const cJSON *j, struct hvsim_quirk_setting **out,
                         size_t *n_out)
{
	struct jc *c = &ld->jc;
	size_t n = (size_t)cJSON_GetArraySize(j), i = 0;
	struct hvsim_quirk_setting *q;

	if (!cJSON_IsObject(j))
		return jc_fail(c, j, "an object of quirk names and values");
	q = calloc(n ? n : 1, sizeof(*q));
	if (!q) {
		jc_fail_nomem(c);
		return false;
	}
	*out = q;
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t saved = jc_push_key(c, m->string);

		for (size_t k = 0; k < i; k++)
			if (strcmp(q[k].name, m->string) == 0)
				jc_fail_text(c, "it twice", "each quirk once");
		if (!c->failed && !jc_ident_ok(m->string))
			jc_fail_text(c, "an invalid quirk name", "a quirk name of [a-z0-9._-]");
		if (!c->failed && (!cJSON_IsString(m) || !jc_ident_ok(m->valuestring)))
			jc_fail(c, m, "a quirk value name (string of [a-z0-9._-])");
		if (!c->failed) {
			char path[JC_PATH_MAX];

			jc_path(c, path, sizeof(path));
			q[i].name = strdup(m->string);
			q[i].value = strdup(m->valuestring);
			q[i].json_path = strdup(path);
			*n_out = i + 1;
			if (!q[i].name || !q[i].value || !q[i].json_path)
				jc_fail_nomem(c);
		}
		jc_pop(c, saved);
	}
	return !c->failed;
}

static bool parse_hypervisor(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "hypervisor");

	if (jc_object(c, j, hv_keys) && jc_required(c, j, "algorithm", "an algorithm name")) {
		parse_ident(ld, j, "algorithm", &ld->sc->hv.algorithm);
		if (jc_get(j, "quirks")) {
			size_t s2 = jc_push_key(c, "quirks");

			parse_quirks(ld, jc_get(j, "quirks"), &ld->sc->hv.quirks,
			             &ld->sc->hv.n_quirks);
			jc_pop(c, s2);
		}
	}
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_limits(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "limits");

	ld->sc->limits.virtual_ns = SIM_NS_PER_SEC;
	ld->sc->limits.instructions = UINT64_C(1000000000);
	ld->sc->limits.exits = 1000000;
	if (j && jc_object(c, j, limit_keys)) {
		jc_int(c, j, "virtual_ns", 1, SIM_NS_MAX, &ld->sc->limits.virtual_ns);
		jc_int(c, j, "instructions", 1, SIM_NS_MAX, &ld->sc->limits.instructions);
		jc_int(c, j, "exits", 1, UINT64_C(1000000000), &ld->sc->limits.exits);
	}
	jc_pop(c, saved);
	return !c->failed;
}

static void oracle_defaults(struct hvsim_oracle_params *p)
{
	p->storm_count = ORACLE_DEFAULT_STORM_COUNT;
	p->storm_window_ns = ORACLE_DEFAULT_STORM_WINDOW_NS;
	p->storm_insns_per_irq = ORACLE_DEFAULT_STORM_INSNS_PER_IRQ;
	p->isr_stall_ns = ORACLE_DEFAULT_ISR_STALL_NS;
	p->isr_stall_eois = ORACLE_DEFAULT_ISR_STALL_EOIS;
	p->timer_stall_ns = ORACLE_DEFAULT_TIMER_STALL_NS;
}

/* One oracle's parameter object: obj.key must be an object with only keys. */
static const cJSON *oracle_obj(struct jc *c, const cJSON *j, const char *key,
                               const char *const *keys, size_t *saved)
{
	const cJSON *o = jc_get(j, key);

	*saved = jc_push_key(c, key);
	if (o && !jc_object(c, o, keys))
		o = NULL;
	return o;
}

static bool parse_oracles(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct hvsim_oracle_params *p = &ld->sc->oracles;
	size_t saved = jc_push_key(c, "oracles"), s2;
	const cJSON *o;

	oracle_defaults(p);
	if (j && jc_object(c, j, oracle_keys)) {
		if ((o = oracle_obj(c, j, "interrupt_storm", storm_keys, &s2))) {
			jc_int(c, o, "count", 1, UINT32_MAX, &p->storm_count);
			jc_int(c, o, "window_ns", 1, SIM_NS_MAX, &p->storm_window_ns);
			jc_int(c, o, "insns_per_irq", 0, UINT32_MAX, &p->storm_insns_per_irq);
		}
		jc_pop(c, s2);
		if ((o = oracle_obj(c, j, "isr_stall", isr_keys, &s2))) {
			jc_int(c, o, "stall_ns", 1, SIM_NS_MAX, &p->isr_stall_ns);
			jc_int(c, o, "eois", 0, UINT32_MAX, &p->isr_stall_eois);
		}
		jc_pop(c, s2);
		if ((o = oracle_obj(c, j, "timer_stall", timer_keys, &s2)))
			jc_int(c, o, "stall_ns", 1, SIM_NS_MAX, &p->timer_stall_ns);
		jc_pop(c, s2);
		if ((o = oracle_obj(c, j, "invariants", invariant_keys, &s2)))
			jc_bool(c, o, "enabled", &p->invariants);
		jc_pop(c, s2);
	}
	jc_pop(c, saved);
	return !c->failed;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool parse_findings(struct loader *ld, const cJSON *j, struct scenario_run *r)
{
	struct jc *c = &ld->jc;
	size_t n, i = 0;

	if (!cJSON_IsArray(j))
		return jc_fail(c, j, "an array of finding kinds");
	n = (size_t)cJSON_GetArraySize(j);
	r->findings = calloc(n ? n : 1, sizeof(char *));
	if (!r->findings) {
		jc_fail_nomem(c);
		return false;
	}
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t saved = jc_push_index(c, i);

		if (!cJSON_IsString(m) || !hvsim_finding_kind_known(m->valuestring))
			jc_fail(c, m, "a finding kind from docs/oracles.md");
		for (size_t k = 0; k < i && !c->failed; k++)
			if (strcmp(r->findings[k], m->valuestring) == 0)
				jc_fail(c, m, "each finding kind once");
		if (!c->failed) {
			r->findings[i] = strdup(m->valuestring);
			r->n_findings = i + 1;
			if (!r->findings[i])
				jc_fail_nomem(c);
		}
		jc_pop(c, saved);
	}
	if (!c->failed)
		qsort(r->findings, r->n_findings, sizeof(char *), cmp_str);
	return !c->failed;
}

static bool parse_run(struct loader *ld, const cJSON *j, struct scenario_run *r, size_t index)
{
	struct jc *c = &ld->jc;

	if (!jc_object(c, j, run_keys) || !jc_required(c, j, "name", "a run name") ||
	    !jc_required(c, j, "golden", "a golden trace path"))
		return false;
	parse_ident(ld, j, "name", &r->name);
	for (size_t k = 0; k < index && !c->failed; k++) {
		if (strcmp(ld->sc->runs[k].name, r->name) == 0) {
			size_t saved = jc_push_key(c, "name");

			jc_fail(c, jc_get(j, "name"), "a run name not used by an earlier run");
			jc_pop(c, saved);
		}
	}
	jc_str(c, j, "description", SCENARIO_STR_MAX, &r->description);
	jc_u64(c, j, "seed", 0, UINT64_MAX, &r->seed);
	jc_str(c, j, "golden", SCENARIO_PATH_MAX, &r->golden);
	if (!c->failed && ld->io && ld->io->check_goldens)
		scenario_check_file(ld, j, "golden", r->golden);
	if (!c->failed && jc_get(j, "quirks")) {
		size_t saved = jc_push_key(c, "quirks");

		parse_quirks(ld, jc_get(j, "quirks"), &r->quirks, &r->n_quirks);
		jc_pop(c, saved);
	}
	if (!c->failed && jc_get(j, "findings")) {
		size_t saved = jc_push_key(c, "findings");

		parse_findings(ld, jc_get(j, "findings"), r);
		jc_pop(c, saved);
	}
	return !c->failed;
}

static bool parse_runs(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "runs"), n, i = 0;

	n = cJSON_IsArray(j) ? (size_t)cJSON_GetArraySize(j) : 0;
	if (n < 1 || n > SCENARIO_MAX_RUNS) {
		jc_fail(c, j, "an array of 1..%d runs", SCENARIO_MAX_RUNS);
		jc_pop(c, saved);
		return false;
	}
	ld->sc->runs = calloc(n, sizeof(*ld->sc->runs));
	if (!ld->sc->runs)
		jc_fail_nomem(c);
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t s2 = jc_push_index(c, i);

		ld->sc->n_runs = i + 1;
		parse_run(ld, m, &ld->sc->runs[i], i);
		jc_pop(c, s2);
	}
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_top(struct loader *ld, const cJSON *root)
{
	struct jc *c = &ld->jc;
	struct hvsim_scenario *sc = ld->sc;
	uint64_t version = 0;

	if (!jc_object(c, root, top_keys) ||
	    !jc_required(c, root, "hvsim", "the format version 1") ||
	    !jc_int(c, root, "hvsim", SCENARIO_FORMAT_VERSION, SCENARIO_FORMAT_VERSION, &version) ||
	    !jc_required(c, root, "name", "a scenario name") ||
	    !jc_required(c, root, "description", "a description") ||
	    !jc_required(c, root, "provenance", "a provenance object") ||
	    !jc_required(c, root, "hypervisor", "a hypervisor object") ||
	    !jc_required(c, root, "guest", "a guest object") ||
	    !jc_required(c, root, "runs", "an array of runs"))
		return false;
	parse_ident(ld, root, "name", &sc->name);
	jc_str(c, root, "description", SCENARIO_STR_MAX, &sc->description);
	parse_provenance(ld, jc_get(root, "provenance"));
	if (!c->failed)
		parse_machine(ld, jc_get(root, "machine"));
	if (!c->failed)
		parse_hypervisor(ld, jc_get(root, "hypervisor"));
	if (!c->failed)
		scenario_parse_guest(ld, jc_get(root, "guest"));
	if (!c->failed)
		scenario_parse_events(ld, jc_get(root, "events"));
	if (!c->failed)
		parse_limits(ld, jc_get(root, "limits"));
	if (!c->failed)
		parse_oracles(ld, jc_get(root, "oracles"));
	if (!c->failed)
		parse_runs(ld, jc_get(root, "runs"));
	return !c->failed;
}

/* Line and column of the byte at offset in text, 1-based, for JSON syntax errors. */
static void locate(const char *text, size_t offset, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static bool set_dir(struct hvsim_scenario *sc, const char *file)
{
	const char *slash = strrchr(file, '/');

	sc->file = strdup(file);
	sc->dir = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
	return sc->file && sc->dir;
}

static enum hvsim_status syntax_error(const char *file, const char *text, size_t len,
                                      struct hvsim_error *err)
{
	const char *where = cJSON_GetErrorPtr();
	size_t off = len;
	unsigned line, col;

	if (where && where >= text && where <= text + len)
		off = (size_t)(where - text);
	locate(text, off, &line, &col);
	return hvsim_error_set(
	    err, HVSIM_E_INPUT,
	    "%s: $: expected valid JSON, found a syntax error at line %u column %u", file, line,
	    col);
}

enum hvsim_status hvsim_scenario_parse(const char *file, const char *text, size_t len,
                                       const struct scenario_io *io, struct hvsim_scenario **out,
                                       struct hvsim_error *err)
{
	cJSON *root;
	enum hvsim_status st;

	*out = NULL;
	if (memchr(text, '\0', len))
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "%s: $: expected JSON text, found a NUL byte", file);
	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return syntax_error(file, text, len, err);
	st = scenario_parse_tree(file, root, io, out, err);
	cJSON_Delete(root);
	return st;
}

enum hvsim_status scenario_parse_tree(const char *file, const cJSON *root,
                                      const struct scenario_io *io, struct hvsim_scenario **out,
                                      struct hvsim_error *err)
{
	struct loader ld = {.io = io};

	*out = NULL;
	ld.sc = calloc(1, sizeof(*ld.sc));
	jc_init(&ld.jc, file, err);
	if (!ld.sc || !set_dir(ld.sc, file))
		jc_fail_nomem(&ld.jc);
	else
		parse_top(&ld, root);
	if (ld.jc.failed) {
		hvsim_scenario_free(ld.sc);
		return err ? err->status : HVSIM_E_INPUT;
	}
	*out = ld.sc;
	return HVSIM_OK;
}

static void free_quirks(struct hvsim_quirk_setting *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
		free(q[i].json_path);
	}
	free(q);
}

static void free_run(struct scenario_run *r)
{
	free(r->name);
	free(r->description);
	free(r->golden);
	free_quirks(r->quirks, r->n_quirks);
	for (size_t i = 0; i < r->n_findings; i++)
		free(r->findings[i]);
	free(r->findings);
}

void hvsim_scenario_free(struct hvsim_scenario *sc)
{
	if (!sc)
		return;
	free(sc->file);
	free(sc->dir);
	free(sc->name);
	free(sc->description);
	free(sc->provenance.patch);
	free(sc->provenance.link);
	free(sc->provenance.commit);
	free(sc->provenance.note);
	free(sc->machine.cpu);
	free(sc->hv.algorithm);
	free_quirks(sc->hv.quirks, sc->hv.n_quirks);
	free(sc->guest.program);
	free(sc->guest.bytes);
	scenario_free_script(&sc->guest.script);
	for (size_t i = 0; i < sc->n_events; i++)
		free(sc->events[i].action);
	free(sc->events);
	for (size_t i = 0; i < sc->n_runs; i++)
		free_run(&sc->runs[i]);
	free(sc->runs);
	free(sc);
}

int hvsim_scenario_find_run(const struct hvsim_scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_runs; i++)
		if (strcmp(sc->runs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* A scenario built in memory (the fuzz harness's) names quirks with the algorithm's own strings. */
static bool same_name(const char *a, const char *b)
{
	return a == b || strcmp(a, b) == 0;
}

const struct hvsim_quirk_setting *hvsim_scenario_quirk(const struct hvsim_scenario *sc, size_t r,
                                                       const char *name)
{
	if (r < sc->n_runs)
		for (size_t i = 0; i < sc->runs[r].n_quirks; i++)
			if (same_name(sc->runs[r].quirks[i].name, name))
				return &sc->runs[r].quirks[i];
	for (size_t i = 0; i < sc->hv.n_quirks; i++)
		if (same_name(sc->hv.quirks[i].name, name))
			return &sc->hv.quirks[i];
	return NULL;
}

bool hvsim_scenario_path(const struct hvsim_scenario *sc, const char *rel, char *buf, size_t cap)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(buf, cap, "%s", rel);
	else
		n = snprintf(buf, cap, "%s/%s", sc->dir, rel);
	return n >= 0 && (size_t)n < cap;
}
