/* The scenario harness's limits, trace collector and named invariants (fz_scenario.h). The
 * invariants restate contracts written elsewhere (include/hvsim/scenario.h, vm.h, trace.h, the
 * scheduling invariants of sim/vm_int.h) as checks over the loader's and the engine's results. */
#include "fz_scenario.h"
#include "fz_why.h"

#include "../sim/scenario_int.h" /* the loader's bounds: SCRIPT_MAX_DEPTH, SCENARIO_MAX_RUNS */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_OFFSET        UINT64_C(0xcbf29ce484222325)
#define HASH_PRIME         UINT64_C(0x9e3779b97f4a7c15)
#define MEMORY_MIB_RUN_MAX 64 /* code guests needing more RAM than this are parsed, not run */
#define PAGE_MIB_SHIFT     20
#define TRACE_FIRST_CAP    16384 /* bytes: most fuzzed traces fit */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* RAM a code guest needs for its bytes and entry point, in MiB (rounded up). */
static uint64_t code_mib(const struct hvsim_scenario *sc)
{
	uint64_t end = sc->guest.load_gpa + sc->guest.n_bytes;

	if (sc->guest.entry + 1 > end)
		end = sc->guest.entry + 1;
	return (end + (UINT64_C(1) << PAGE_MIB_SHIFT) - 1) >> PAGE_MIB_SHIFT;
}

void fz_scenario_limits(const struct hvsim_scenario *sc, struct fz_limits *out)
{
	uint64_t slice_ns = (uint64_t)sc->machine.quantum_insns * sc->machine.insn_ns;
	uint64_t mib = min_u64(sc->machine.memory_mib, FZ_MEMORY_MIB_MAX);

	out->virtual_ns = min_u64(sc->limits.virtual_ns, FZ_VIRTUAL_NS_MAX);
	out->virtual_ns = min_u64(out->virtual_ns, slice_ns * (FZ_SLICES_MAX / sc->machine.vcpus));
	out->instructions = min_u64(sc->limits.instructions, FZ_INSTRUCTIONS_MAX);
	out->exits = min_u64(sc->limits.exits, FZ_EXITS_MAX);
	if (!sc->guest.has_script && code_mib(sc) > mib)
		mib = min_u64(code_mib(sc), sc->machine.memory_mib);
	out->memory_mib = (uint32_t)mib;
	out->n_runs = mib > MEMORY_MIB_RUN_MAX ? 0 : min_u64(sc->n_runs, FZ_RUNS_MAX);
}

void fz_scenario_apply_limits(struct hvsim_scenario *sc, const struct fz_limits *l)
{
	sc->limits.virtual_ns = l->virtual_ns;
	sc->limits.instructions = l->instructions;
	sc->limits.exits = l->exits;
	sc->machine.memory_mib = l->memory_mib;
}

/* ---- trace collector ---- */

void fz_trace_init(struct fz_trace *t)
{
	memset(t, 0, sizeof(*t));
	t->hash = HASH_OFFSET;
}

void fz_trace_free(struct fz_trace *t)
{
	free(t->buf);
	fz_trace_init(t);
}

/* Makes room for want more kept bytes (up to FZ_TRACE_KEEP); false when nothing more fits. */
static bool trace_room(struct fz_trace *t, size_t want)
{
	size_t cap = t->cap ? t->cap : TRACE_FIRST_CAP;
	char *grown;

	if (t->len + want <= t->cap || t->oom || t->cap == FZ_TRACE_KEEP)
		return t->len < t->cap;
	while (cap < t->len + want && cap < FZ_TRACE_KEEP)
		cap *= 2;
	if (cap > FZ_TRACE_KEEP)
		cap = FZ_TRACE_KEEP;
	if (!(grown = realloc(t->buf, cap))) {
		t->oom = true;
		return t->len < t->cap;
	}
	t->buf = grown;
	t->cap = cap;
	return true;
}

static uint64_t hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_PRIME;
	return h ^ (h >> 29);
}

/* The hash takes the bytes eight at a time, little-endian, so that it does not depend on how the
 * writer splits its output into calls: a byte at a time it was 4% of a scripted input. */
static void trace_hash(struct fz_trace *t, const char *buf, size_t len)
{
	unsigned have = (unsigned)(t->total % 8);
	size_t i = 0;
	uint64_t w;

	for (; have && i < len; i++) {
		t->pend |= (uint64_t)(uint8_t)buf[i] << (8 * have);
		if (++have == 8) {
			t->hash = hash_word(t->hash, t->pend);
			t->pend = 0;
			have = 0;
		}
	}
	for (; i + 8 <= len; i += 8) {
		w = 0;
		for (unsigned k = 0; k < 8; k++)
			w |= (uint64_t)(uint8_t)buf[i + k] << (8 * k);
		t->hash = hash_word(t->hash, w);
	}
	for (unsigned k = 0; i < len; i++, k++)
		t->pend |= (uint64_t)(uint8_t)buf[i] << (8 * k);
}

uint64_t fz_trace_digest(const struct fz_trace *t)
{
	return hash_word(hash_word(t->hash, t->pend), t->total);
}

static bool trace_write(void *ctx, const char *buf, size_t len)
{
	struct fz_trace *t = ctx;
	size_t keep = len;

	trace_hash(t, buf, len);
	t->total += len;
	if (!trace_room(t, len))
		return true;
	if (keep > t->cap - t->len)
		keep = t->cap - t->len;
	memcpy(t->buf + t->len, buf, keep);
	t->len += keep;
	return true;
}

struct trace_sink fz_trace_sink(struct fz_trace *t)
{
	return (struct trace_sink){.write = trace_write, .ctx = t};
}

/* ---- invariants ---- */

bool fz_inv_parse_contract(enum hvsim_status st, const struct hvsim_scenario *sc,
                           const struct hvsim_error *err, const char *file, char *why, size_t cap)
{
	size_t flen = strlen(file);
	const char *expected;

	if (st == HVSIM_OK)
		return sc ? true : fz_fail(why, cap, "HVSIM_OK without a scenario");
	if (sc)
		return fz_fail(why, cap, "status %d with a scenario", (int)st);
	if (st != HVSIM_E_INPUT && st != HVSIM_E_NOMEM)
		return fz_fail(why, cap, "status %d, wanted E_INPUT or E_NOMEM", (int)st);
	if (err->status != st)
		return fz_fail(why, cap, "returned %d but err->status is %d", (int)st,
		               (int)err->status);
	if (st == HVSIM_E_NOMEM)
		return true;
	if (strncmp(err->msg, file, flen) != 0 || strncmp(err->msg + flen, ": $", 3) != 0)
		return fz_fail(why, cap, "message does not start with \"%s: $\": %s", file,
		               err->msg);
	expected = strstr(err->msg + flen, ": expected ");
	if (!expected || !strstr(expected, ", found "))
		return fz_fail(why, cap, "message lacks \": expected ..., found ...\": %s",
		               err->msg);
	return true;
}

bool fz_inv_error_printable(const struct hvsim_error *err, char *why, size_t cap)
{
	for (size_t i = 0; err->msg[i]; i++) {
		unsigned char c = (unsigned char)err->msg[i];

		if (c < 0x20 || c == 0x7f)
			return fz_fail(why, cap, "control character 0x%02x at offset %zu", c, i);
	}
	return true;
}

static bool actions_valid(const struct script_action *a, size_t n, unsigned depth, char *why,
                          size_t cap)
{
	for (size_t i = 0; i < n; i++) {
		const struct script_action *x = &a[i];
		bool io = x->op == SOP_IN || x->op == SOP_OUT;
		bool mmio = x->op == SOP_MMIO_READ || x->op == SOP_MMIO_WRITE;

		if (x->op >= SOP_OP_MAX)
			return fz_fail(why, cap, "action op %u out of range", x->op);
		if ((io || mmio) &&
		    (!x->size || (x->size & (x->size - 1)) || x->size > (io ? 4 : 8)))
			return fz_fail(why, cap, "access size %u", x->size);
		if (x->op == SOP_MOV_CR && x->cr != 0 && x->cr != 3 && x->cr != 4 && x->cr != 8)
			return fz_fail(why, cap, "mov_cr to CR%u", x->cr);
		if (x->op == SOP_COMPUTE && x->value == 0)
			return fz_fail(why, cap, "compute of 0 instructions");
		if (x->op != SOP_REPEAT)
			continue;
		if (x->count == 0 || x->n_body == 0 || depth + 1 >= SCRIPT_MAX_DEPTH)
			return fz_fail(why, cap, "repeat count %llu, body %zu, depth %u",
			               (unsigned long long)x->count, x->n_body, depth);
		if (!actions_valid(x->body, x->n_body, depth + 1, why, cap))
			return false;
	}
	return true;
}

static bool handlers_valid(const struct guest_script *s, char *why, size_t cap)
{
	for (size_t i = 0; i < s->n_handlers; i++) {
		if (s->handlers[i].vector < 32)
			return fz_fail(why, cap, "handler for vector %u", s->handlers[i].vector);
		if (i && s->handlers[i].vector <= s->handlers[i - 1].vector)
			return fz_fail(why, cap, "handlers not sorted/unique at %zu", i);
		if (!actions_valid(s->handlers[i].actions, s->handlers[i].n, 0, why, cap))
			return false;
	}
	return true;
}

static bool guest_valid(const struct hvsim_scenario *sc, char *why, size_t cap)
{
	uint64_t mem = (uint64_t)sc->machine.memory_mib << 20;
	bool code = sc->guest.program || sc->guest.bytes;

	if (sc->guest.mode > GUEST_MODE_LONG)
		return fz_fail(why, cap, "guest mode %u", sc->guest.mode);
	if (code == sc->guest.has_script || (sc->guest.program && sc->guest.bytes))
		return fz_fail(why, cap, "guest has not exactly one source");
	if (code && (sc->guest.load_gpa >= mem || sc->guest.entry >= mem))
		return fz_fail(why, cap, "load_gpa 0x%llx / entry 0x%llx outside %llu bytes of RAM",
		               (unsigned long long)sc->guest.load_gpa,
		               (unsigned long long)sc->guest.entry, (unsigned long long)mem);
	if (!sc->guest.has_script)
		return true;
	return actions_valid(sc->guest.script.main, sc->guest.script.n_main, 0, why, cap) &&
	       handlers_valid(&sc->guest.script, why, cap);
}

static bool events_valid(const struct hvsim_scenario *sc, char *why, size_t cap)
{
	for (size_t i = 0; i < sc->n_events; i++) {
		const struct scenario_event *e = &sc->events[i];

		if (i && e->at_ns < sc->events[i - 1].at_ns)
			return fz_fail(why, cap, "event %zu at %llu before its predecessor", i,
			               (unsigned long long)e->at_ns);
		if (e->kind == SEV_IRQ_LINE && (e->gsi >= sc->machine.ioapic_pins || e->level > 1))
			return fz_fail(why, cap, "event %zu: gsi %u level %u", i, e->gsi, e->level);
		if (e->kind == SEV_HOST &&
		    (!e->action || e->vcpu < -1 || e->vcpu >= (int32_t)sc->machine.vcpus))
			return fz_fail(why, cap, "event %zu: host action on vCPU %d", i, e->vcpu);
		if (e->kind > SEV_HOST)
			return fz_fail(why, cap, "event %zu: kind %u", i, e->kind);
	}
	return true;
}

static bool runs_valid(const struct hvsim_scenario *sc, char *why, size_t cap)
{
	if (sc->n_runs < 1 || sc->n_runs > SCENARIO_MAX_RUNS)
		return fz_fail(why, cap, "%zu runs", sc->n_runs);
	for (size_t i = 0; i < sc->n_runs; i++) {
		const struct scenario_run *r = &sc->runs[i];

		if (!r->name || !r->golden)
			return fz_fail(why, cap, "run %zu without name or golden", i);
		if (hvsim_scenario_find_run(sc, r->name) != (int)i)
			return fz_fail(why, cap, "run name %s used twice", r->name);
		for (size_t k = 0; k < r->n_findings; k++)
			if (!hvsim_finding_kind_known(r->findings[k]) ||
			    (k && strcmp(r->findings[k - 1], r->findings[k]) >= 0))
				return fz_fail(why, cap,
				               "run %zu: findings not known, sorted, unique", i);
	}
	return true;
}

static bool machine_valid(const struct hvsim_scenario *sc, char *why, size_t cap)
{
	uint32_t v = sc->machine.vcpus, mib = sc->machine.memory_mib,
	         pins = sc->machine.ioapic_pins;

	if (v < 1 || v > SCENARIO_MAX_VCPUS || mib < 1 || mib > SCENARIO_MAX_MEMORY_MIB)
		return fz_fail(why, cap, "vcpus %u, memory %u MiB", v, mib);
	if (sc->machine.irqchip > IRQCHIP_SPLIT || sc->machine.insn_ns < 1 ||
	    sc->machine.quantum_insns < 1 || pins < 1 || pins > 240 ||
	    (sc->machine.ioapic_version != 0x11 && sc->machine.ioapic_version != 0x20))
		return fz_fail(why, cap, "irqchip %u insn_ns %u quantum %u pins %u version 0x%x",
		               sc->machine.irqchip, sc->machine.insn_ns, sc->machine.quantum_insns,
		               pins, sc->machine.ioapic_version);
	return true;
}

bool fz_inv_scenario_valid(const struct hvsim_scenario *sc, char *why, size_t cap)
{
	if (!sc->name || !sc->description || !sc->hv.algorithm || !sc->machine.cpu)
		return fz_fail(why, cap, "a required string is missing");
	if (!sc->limits.virtual_ns || !sc->limits.instructions || !sc->limits.exits)
		return fz_fail(why, cap, "a zero limit");
	return machine_valid(sc, why, cap) && guest_valid(sc, why, cap) &&
	       events_valid(sc, why, cap) && runs_valid(sc, why, cap);
}

bool fz_inv_summary_consistent(const struct hvsim_summary *s, const struct hvsim_scenario *sc,
                               char *why, size_t cap)
{
	uint64_t by_reason = 0;

	for (unsigned i = 0; i < EXIT_REASON_MAX; i++)
		by_reason += s->exits_by_reason[i];
	if (by_reason != s->exits)
		return fz_fail(why, cap, "exits %llu, by reason %llu", (unsigned long long)s->exits,
		               (unsigned long long)by_reason);
	if (s->exits > sc->limits.exits || s->instructions > sc->limits.instructions ||
	    s->virtual_ns > sc->limits.virtual_ns)
		return fz_fail(
		    why, cap, "past a limit: exits %llu/%llu instructions %llu/%llu ns %llu/%llu",
		    (unsigned long long)s->exits, (unsigned long long)sc->limits.exits,
		    (unsigned long long)s->instructions,
		    (unsigned long long)sc->limits.instructions, (unsigned long long)s->virtual_ns,
		    (unsigned long long)sc->limits.virtual_ns);
	if (!s->end_reason[0])
		return fz_fail(why, cap, "no end reason");
	return true;
}

struct line_state {
	uint64_t last_t[SCENARIO_MAX_VCPUS];
	uint64_t findings, lines;
	bool ended; /* the last line seen was "end" */
};

static bool check_line(struct line_state *ls, const char *line, size_t len,
                       const struct hvsim_scenario *sc, char *why, size_t cap)
{
	struct trace_rec r;
	struct hvsim_error err = {0};

	if (trace_parse_line(line, len, &r, &err) != HVSIM_OK)
		return fz_fail(why, cap, "line %llu does not parse (%s): %.*s",
		               (unsigned long long)ls->lines + 1, err.msg,
		               (int)(len > 120 ? 120 : len), line);
	ls->lines++;
	if (ls->ended)
		return fz_fail(why, cap, "line %llu follows the \"end\" line",
		               (unsigned long long)ls->lines);
	if (r.vcpu >= (int32_t)sc->machine.vcpus)
		return fz_fail(why, cap, "line %llu: vcpu %d of %u", (unsigned long long)ls->lines,
		               r.vcpu, sc->machine.vcpus);
	/* lines of events that fell due name a vCPU but carry the event's time, which a vCPU that
	 * ran past the slice end is ahead of (docs/trace-format.md): host actions, timer callbacks
	 */
	if (strcmp(r.ev, "host") == 0 || strcmp(r.ev, "hv_timer") == 0 ||
	    strcmp(r.ev, "timer") == 0)
		r.vcpu = -1;
	if (r.vcpu >= 0 && r.t < ls->last_t[r.vcpu])
		return fz_fail(why, cap, "line %llu: vCPU %d time goes back from %llu to %llu",
		               (unsigned long long)ls->lines, r.vcpu,
		               (unsigned long long)ls->last_t[r.vcpu], (unsigned long long)r.t);
	if (r.vcpu >= 0)
		ls->last_t[r.vcpu] = r.t;
	ls->findings += strcmp(r.ev, "finding") == 0;
	ls->ended = strcmp(r.ev, "end") == 0;
	return true;
}

bool fz_inv_trace_wellformed(const struct fz_trace *t, const struct hvsim_scenario *sc,
                             const struct hvsim_summary *s, char *why, size_t cap)
{
	struct line_state *ls = calloc(1, sizeof(*ls));
	bool whole = t->buf && t->len == t->total, ok = true;
	size_t pos = 0;

	if (!ls || !t->buf) {
		free(ls);
		return true; /* nothing kept to check (out of memory) */
	}
	while (ok && pos < t->len) {
		const char *nl = memchr(t->buf + pos, '\n', t->len - pos);

		if (!nl)
			break; /* a line cut at FZ_TRACE_KEEP */
		ok = check_line(ls, t->buf + pos, (size_t)(nl - (t->buf + pos)), sc, why, cap);
		pos = (size_t)(nl - t->buf) + 1;
	}
	if (ok && whole && pos != t->len)
		ok = fz_fail(why, cap, "the trace does not end with a newline");
	if (ok && whole && !ls->ended)
		ok = fz_fail(why, cap, "the last line is not \"end\"");
	if (ok && whole && ls->findings != s->n_findings)
		ok = fz_fail(why, cap, "%llu finding lines, summary says %zu",
		             (unsigned long long)ls->findings, s->n_findings);
	free(ls);
	return ok;
}
