/* The scenario loader, second half: the guest (code image, inline bytes or a recorded script) and
 * the timed external events. */
#include "scenario_int.h"

#include <hvsim/clock.h>
#include <hvsim/guest_op.h>

#include <stdlib.h>
#include <string.h>

static const char *const guest_keys[] = {"mode",  "program", "bytes", "load_gpa",
                                         "entry", "script",  NULL};
static const char *const script_keys[] = {"main", "handlers", NULL};
static const char *const event_keys[] = {"at_ns", "irq_line", "msi", "host", NULL};
static const char *const irq_keys[] = {"gsi", "level", NULL};
static const char *const msi_keys[] = {"address", "data", NULL};
static const char *const host_keys[] = {"action", "vcpu", "arg", NULL};
static const char *const mode_names[] = {"real", "protected", "long"};

#define GUEST_BYTES_MAX  65536
#define DEFAULT_LOAD_GPA 0x8000

/* Script ops: JSON name, allowed keys. Indexed by enum script_op. */
struct op_desc {
	const char *name;
	const char *const *keys;
};

#define KEYS(...) ((const char *const[]){"op", __VA_ARGS__, NULL})
static const struct op_desc op_descs[SOP_OP_MAX] = {
    [SOP_CPUID] = {"cpuid", KEYS("leaf", "subleaf")},
    [SOP_RDMSR] = {"rdmsr", KEYS("msr")},
    [SOP_WRMSR] = {"wrmsr", KEYS("msr", "value")},
    [SOP_IN] = {"in", KEYS("port", "size")},
    [SOP_OUT] = {"out", KEYS("port", "size", "value")},
    [SOP_MMIO_READ] = {"mmio_read", KEYS("gpa", "size")},
    [SOP_MMIO_WRITE] = {"mmio_write", KEYS("gpa", "size", "value")},
    [SOP_RDTSC] = {"rdtsc", KEYS(NULL)},
    [SOP_RDTSCP] = {"rdtscp", KEYS(NULL)},
    [SOP_RDPMC] = {"rdpmc", KEYS("counter")},
    [SOP_HLT] = {"hlt", KEYS(NULL)},
    [SOP_PAUSE] = {"pause", KEYS(NULL)},
    [SOP_VMCALL] = {"vmcall", KEYS("rax")},
    [SOP_TDCALL] = {"tdcall", KEYS("rax")},
    [SOP_WBINVD] = {"wbinvd", KEYS(NULL)},
    [SOP_MOV_CR] = {"mov_cr", KEYS("cr", "value")},
    [SOP_COMPUTE] = {"compute", KEYS("insns")},
    [SOP_STI] = {"sti", KEYS(NULL)},
    [SOP_CLI] = {"cli", KEYS(NULL)},
    [SOP_REPEAT] = {"repeat", KEYS("count", "body")},
    [SOP_MONITOR] = {"monitor", KEYS("addr", "extensions", "hints")},
    [SOP_MWAIT] = {"mwait", KEYS("hints", "extensions")},
    [SOP_INVLPG] = {"invlpg", KEYS("addr")},
    [SOP_INVD] = {"invd", KEYS(NULL)},
    [SOP_XSETBV] = {"xsetbv", KEYS("xcr", "value")},
    [SOP_RDRAND] = {"rdrand", KEYS(NULL)},
    [SOP_RDSEED] = {"rdseed", KEYS(NULL)},
    [SOP_SEAMCALL] = {"seamcall", KEYS("rax")},
    [SOP_STORE] = {"store", KEYS("gpa", "size", "value")},
    [SOP_VMX] = {"vmx",
                 KEYS("insn", "addr", "pointer", "field", "value", "type", "desc_lo", "desc_hi")},
};

/* The operands of a vmx action, as bits over vmx_keys, per instruction: those it needs and those
 * it may have (SDM ch. 31: the m64 of VMXON/VMCLEAR/VMPTRLD/VMPTRST, VMREAD/VMWRITE's r/m and
 * field, INVEPT/INVVPID's type and m128 descriptor). */
enum { VA_ADDR = 1, VA_POINTER = 2, VA_FIELD = 4, VA_VALUE = 8, VA_TYPE = 16, VA_DESC = 96 };
#define VMX_KEYS 7
static const char *const vmx_keys[VMX_KEYS] = {"addr", "pointer", "field",  "value",
                                               "type", "desc_lo", "desc_hi"};
static const struct {
	uint8_t need, allow;
} vmx_operands[GVMX_COUNT] = {
    [GVMX_VMXON] = {VA_ADDR, VA_ADDR | VA_POINTER},
    [GVMX_VMCLEAR] = {VA_ADDR, VA_ADDR | VA_POINTER},
    [GVMX_VMPTRLD] = {VA_ADDR, VA_ADDR | VA_POINTER},
    [GVMX_VMPTRST] = {VA_ADDR, VA_ADDR},
    [GVMX_VMREAD] = {VA_FIELD, VA_FIELD | VA_ADDR},
    [GVMX_VMWRITE] = {VA_FIELD, VA_FIELD | VA_ADDR | VA_VALUE},
    [GVMX_INVEPT] = {VA_ADDR | VA_TYPE, VA_ADDR | VA_TYPE | VA_DESC},
    [GVMX_INVVPID] = {VA_ADDR | VA_TYPE, VA_ADDR | VA_TYPE | VA_DESC},
};

static bool parse_actions(struct loader *ld, const cJSON *j, struct script_action **out,
                          size_t *n_out, unsigned depth);
static int hexval(char ch);

static bool need(struct loader *ld, const cJSON *obj, const char *key, const char *kind)
{
	return jc_required(&ld->jc, obj, key, kind);
}

static bool parse_size(struct loader *ld, const cJSON *j, uint8_t max, uint8_t *size)
{
	uint64_t v = 0;
	size_t saved;

	if (!need(ld, j, "size", "an access size in bytes") ||
	    !jc_int(&ld->jc, j, "size", 1, max, &v))
		return false;
	if (v & (v - 1)) {
		saved = jc_push_key(&ld->jc, "size");
		jc_fail(&ld->jc, jc_get(j, "size"), "a size of 1, 2, 4%s bytes",
		        max == 8 ? " or 8" : "");
		jc_pop(&ld->jc, saved);
		return false;
	}
	*size = (uint8_t)v;
	return true;
}

static bool parse_cr(struct loader *ld, const cJSON *j, struct script_action *a)
{
	uint64_t v = 0;
	size_t saved;

	if (!need(ld, j, "cr", "a control register number") || !jc_int(&ld->jc, j, "cr", 0, 8, &v))
		return false;
	if (v != 0 && v != 3 && v != 4 && v != 8) {
		saved = jc_push_key(&ld->jc, "cr");
		jc_fail(&ld->jc, jc_get(j, "cr"), "a control register 0, 3, 4 or 8");
		jc_pop(&ld->jc, saved);
		return false;
	}
	a->cr = (uint8_t)v;
	return need(ld, j, "value", "a value") &&
	       jc_u64(&ld->jc, j, "value", 0, UINT64_MAX, &a->value);
}

static bool parse_repeat(struct loader *ld, const cJSON *j, struct script_action *a, unsigned depth)
{
	size_t saved;
	bool ok;

	if (!need(ld, j, "count", "a repeat count") ||
	    !jc_int(&ld->jc, j, "count", 1, 1000000000, &a->count) ||
	    !need(ld, j, "body", "an array of actions"))
		return false;
	saved = jc_push_key(&ld->jc, "body");
	if (depth + 1 >= SCRIPT_MAX_DEPTH)
		ok = jc_fail_text(&ld->jc, "deeper nesting", "repeat nested at most %d deep",
		                  SCRIPT_MAX_DEPTH);
	else
		ok = parse_actions(ld, jc_get(j, "body"), &a->body, &a->n_body, depth + 1);
	if (ok && a->n_body == 0)
		ok = jc_fail_text(&ld->jc, "an empty array", "at least one action to repeat");
	jc_pop(&ld->jc, saved);
	return ok;
}

/* The 32-bit register operand key of j, 0 when absent. */
static uint32_t opt_u32(struct jc *c, const cJSON *j, const char *key)
{
	uint64_t v = 0;

	jc_u64(c, j, key, 0, UINT32_MAX, &v);
	return (uint32_t)v;
}

/* MONITOR, MWAIT, INVLPG, XSETBV: operands as the instructions take them from registers. */
static void parse_wait_ops(struct loader *ld, const cJSON *j, struct script_action *a)
{
	struct jc *c = &ld->jc;
	uint64_t v = 0;

	switch (a->op) {
	case SOP_INVLPG:
		if (need(ld, j, "addr", "a linear address"))
			jc_u64(c, j, "addr", 0, UINT64_MAX, &a->addr);
		break;
	case SOP_MONITOR:
		if (need(ld, j, "addr", "a linear address"))
			jc_u64(c, j, "addr", 0, UINT64_MAX, &a->addr);
		a->index = opt_u32(c, j, "extensions");
		a->sub = opt_u32(c, j, "hints");
		break;
	case SOP_MWAIT:
		a->index = opt_u32(c, j, "extensions");
		a->sub = opt_u32(c, j, "hints");
		break;
	case SOP_XSETBV:
		if (need(ld, j, "xcr", "an XCR number") && jc_u64(c, j, "xcr", 0, UINT32_MAX, &v))
			a->index = (uint32_t)v;
		if (need(ld, j, "value", "a value"))
			jc_u64(c, j, "value", 0, UINT64_MAX, &a->value);
		break;
	default: break;
	}
}

/* The vmx action: which instruction, and its operands as that instruction takes them. */
static bool parse_vmx(struct loader *ld, const cJSON *j, struct script_action *a)
{
	const char *names[GVMX_COUNT];
	struct jc *c = &ld->jc;
	uint8_t insn = 0, need_ops, allow;

	for (unsigned i = 0; i < GVMX_COUNT; i++)
		names[i] = guest_vmx_insn_name(i);
	if (!need(ld, j, "insn", "a VMX instruction name") ||
	    !jc_enum(c, j, "insn", names, GVMX_COUNT, &insn))
		return false;
	a->sub = insn;
	need_ops = vmx_operands[insn].need;
	allow = vmx_operands[insn].allow;
	if (insn == GVMX_VMWRITE && !jc_get(j, "addr"))
		need_ops |= VA_VALUE; /* the register form's source */
	for (unsigned k = 0; k < VMX_KEYS && !c->failed; k++) {
		size_t saved;

		if ((need_ops & (1u << k)) &&
		    !need(ld, j, vmx_keys[k], "an operand of this instruction"))
			break;
		if ((allow & (1u << k)) || !jc_get(j, vmx_keys[k]))
			continue;
		saved = jc_push_key(c, vmx_keys[k]);
		jc_fail(c, jc_get(j, vmx_keys[k]), "no \"%s\" operand for %s", vmx_keys[k],
		        names[insn]);
		jc_pop(c, saved);
	}
	if (jc_get(j, "addr") && jc_u64(c, j, "addr", 0, UINT64_MAX, &a->addr))
		a->flags |= SCRIPT_VMX_MEM;
	jc_u64(c, j, "field", 0, UINT64_MAX, &a->field);
	jc_u64(c, j, "type", 0, UINT64_MAX, &a->field);
	if (jc_get(j, "pointer") && jc_u64(c, j, "pointer", 0, UINT64_MAX, &a->value))
		a->flags |= SCRIPT_VMX_STORE;
	if (jc_get(j, "value") && jc_u64(c, j, "value", 0, UINT64_MAX, &a->value) &&
	    (a->flags & SCRIPT_VMX_MEM))
		a->flags |= SCRIPT_VMX_STORE;
	if (jc_get(j, "desc_lo") || jc_get(j, "desc_hi"))
		a->flags |= SCRIPT_VMX_STORE; /* the m128 descriptor, a missing half 0 */
	jc_u64(c, j, "desc_lo", 0, UINT64_MAX, &a->value);
	jc_u64(c, j, "desc_hi", 0, UINT64_MAX, &a->value2);
	return !c->failed;
}

static bool parse_operands(struct loader *ld, const cJSON *j, struct script_action *a,
                           unsigned depth)
{
	struct jc *c = &ld->jc;
	uint64_t v = 0;

	switch (a->op) {
	case SOP_CPUID:
		if (need(ld, j, "leaf", "a CPUID leaf") && jc_u64(c, j, "leaf", 0, UINT32_MAX, &v))
			a->index = (uint32_t)v;
		v = 0;
		if (jc_u64(c, j, "subleaf", 0, UINT32_MAX, &v))
			a->sub = (uint32_t)v;
		break;
	case SOP_RDMSR:
	case SOP_WRMSR:
		if (need(ld, j, "msr", "an MSR index") && jc_u64(c, j, "msr", 0, UINT32_MAX, &v))
			a->index = (uint32_t)v;
		if (a->op == SOP_WRMSR && need(ld, j, "value", "a value"))
			jc_u64(c, j, "value", 0, UINT64_MAX, &a->value);
		break;
	case SOP_IN:
	case SOP_OUT:
		if (need(ld, j, "port", "an I/O port") && jc_u64(c, j, "port", 0, 0xffff, &v))
			a->index = (uint32_t)v;
		parse_size(ld, j, 4, &a->size);
		if (a->op == SOP_OUT && need(ld, j, "value", "a value"))
			jc_u64(c, j, "value", 0, UINT32_MAX, &a->value);
		break;
	case SOP_MMIO_READ:
	case SOP_MMIO_WRITE:
	case SOP_STORE:
		if (need(ld, j, "gpa", "a guest-physical address"))
			jc_u64(c, j, "gpa", 0, UINT64_MAX, &a->addr);
		parse_size(ld, j, 8, &a->size);
		if (a->op != SOP_MMIO_READ && need(ld, j, "value", "a value"))
			jc_u64(c, j, "value", 0, UINT64_MAX, &a->value);
		break;
	case SOP_RDPMC:
		if (need(ld, j, "counter", "an RDPMC counter selector") &&
		    jc_u64(c, j, "counter", 0, UINT32_MAX, &v))
			a->index = (uint32_t)v;
		break;
	case SOP_VMCALL:
	case SOP_TDCALL:
	case SOP_SEAMCALL: jc_u64(c, j, "rax", 0, UINT64_MAX, &a->value); break;
	case SOP_MOV_CR: parse_cr(ld, j, a); break;
	case SOP_COMPUTE:
		if (need(ld, j, "insns", "an instruction count"))
			jc_int(c, j, "insns", 1, 1000000000, &a->value);
		break;
	case SOP_REPEAT: parse_repeat(ld, j, a, depth); break;
	case SOP_VMX: parse_vmx(ld, j, a); break;
	default: parse_wait_ops(ld, j, a); break;
	}
	return !c->failed;
}

static bool parse_action(struct loader *ld, const cJSON *j, struct script_action *a, unsigned depth)
{
	struct jc *c = &ld->jc;
	const cJSON *op = cJSON_IsObject(j) ? jc_get(j, "op") : NULL;
	size_t saved;

	if (!cJSON_IsObject(j))
		return jc_fail(c, j, "an action object");
	if (!need(ld, j, "op", "an action name"))
		return false;
	for (unsigned i = 0; i < SOP_OP_MAX && !a->op && cJSON_IsString(op); i++)
		if (op->valuestring[0] == op_descs[i].name[0] &&
		    strcmp(op->valuestring, op_descs[i].name) == 0)
			a->op = (uint8_t)i + 1;
	if (!a->op) {
		saved = jc_push_key(c, "op");
		jc_fail(c, op, "a script action (docs/scenario-format.md \"Scripts\")");
		jc_pop(c, saved);
		return false;
	}
	a->op--;
	return jc_object(c, j, op_descs[a->op].keys) && parse_operands(ld, j, a, depth);
}

static bool parse_actions(struct loader *ld, const cJSON *j, struct script_action **out,
                          size_t *n_out, unsigned depth)
{
	struct jc *c = &ld->jc;
	size_t n = cJSON_IsArray(j) ? (size_t)cJSON_GetArraySize(j) : 0, i = 0;

	if (!cJSON_IsArray(j) || n > SCRIPT_MAX_ACTIONS)
		return jc_fail(c, j, "an array of at most %d actions", SCRIPT_MAX_ACTIONS);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out) {
		jc_fail_nomem(c);
		return false;
	}
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t saved = jc_push_index(c, i);

		*n_out = i + 1;
		parse_action(ld, m, &(*out)[i], depth);
		jc_pop(c, saved);
	}
	return !c->failed;
}

/* A handler key: a vector 32..255 in decimal ("42") or hex ("0x2a"); no sign, space or leading
 * zero: strtoul would read " 42" and "+42" as 42, and "040" as octal 32. */
static bool parse_vector(const char *s, uint8_t *out)
{
	unsigned base = 10, v = 0;
	const char *p = s;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (s[0] == '0') {
		return false;
	}
	if (!*p || strlen(p) > 3)
		return false;
	for (; *p; p++) {
		int d = hexval(*p);

		if (d < 0 || (unsigned)d >= base)
			return false;
		v = v * base + (unsigned)d;
	}
	if (v < 32 || v > 255)
		return false;
	*out = (uint8_t)v;
	return true;
}

static int cmp_handler(const void *a, const void *b)
{
	const struct script_handler *x = a, *y = b;

	return (int)x->vector - (int)y->vector;
}

static bool parse_handlers(struct loader *ld, const cJSON *j, struct guest_script *s)
{
	struct jc *c = &ld->jc;
	size_t n = cJSON_IsObject(j) ? (size_t)cJSON_GetArraySize(j) : 0, i = 0;

	if (!cJSON_IsObject(j))
		return jc_fail(c, j, "an object of vector: actions");
	s->handlers = calloc(n ? n : 1, sizeof(*s->handlers));
	if (!s->handlers) {
		jc_fail_nomem(c);
		return false;
	}
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t saved = jc_push_key(c, m->string);
		struct script_handler *h = &s->handlers[i];

		s->n_handlers = i + 1;
		if (!parse_vector(m->string, &h->vector))
			jc_fail_text(c, "another key", "an interrupt vector 32..255 as the key");
		for (size_t k = 0; k < i && !c->failed; k++)
			if (s->handlers[k].vector == h->vector)
				jc_fail_text(c, "it twice", "one handler per vector");
		if (!c->failed)
			parse_actions(ld, m, &h->actions, &h->n, 0);
		jc_pop(c, saved);
	}
	if (!c->failed)
		qsort(s->handlers, s->n_handlers, sizeof(*s->handlers), cmp_handler);
	return !c->failed;
}

static bool parse_script(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct guest_script *s = &ld->sc->guest.script;
	size_t saved = jc_push_key(c, "script");

	if (jc_object(c, j, script_keys) && need(ld, j, "main", "an array of actions")) {
		size_t s2 = jc_push_key(c, "main");

		parse_actions(ld, jc_get(j, "main"), &s->main, &s->n_main, 0);
		jc_pop(c, s2);
		if (!c->failed && jc_get(j, "handlers")) {
			s2 = jc_push_key(c, "handlers");
			parse_handlers(ld, jc_get(j, "handlers"), s);
			jc_pop(c, s2);
		}
	}
	ld->sc->guest.has_script = !c->failed;
	jc_pop(c, saved);
	return !c->failed;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "bytes": a string of hex byte pairs, spaces allowed between bytes ("fa f4"). Out of line:
 * fuzz/coverage-ignore.txt names it, which an inlined copy would escape (a fuzz_hv_transitions
 * code guest's image is 8,000 to 64,000 characters, six comparisons each). */
static __attribute__((noinline)) bool parse_bytes(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
	size_t saved = jc_push_key(c, "bytes"), n = 0;
	uint8_t *b = s ? malloc(strlen(s) / 2 + 1) : NULL;

	if (!s || !*s)
		jc_fail(c, j, "a string of hex bytes (\"fa f4\")");
	else if (!b)
		jc_fail_nomem(c);
	while (!c->failed && *s) {
		if (*s == ' ') {
			s++;
		} else if (hexval(s[0]) < 0 || hexval(s[1]) < 0 || n >= GUEST_BYTES_MAX) {
			jc_fail(c, j, "at most %d hex byte pairs", GUEST_BYTES_MAX);
		} else {
			b[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
			s += 2;
		}
	}
	ld->sc->guest.bytes = b;
	ld->sc->guest.n_bytes = n;
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_code(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct hvsim_scenario *sc = ld->sc;
	uint64_t mem = (uint64_t)sc->machine.memory_mib << 20;

	if (jc_get(j, "program") && jc_get(j, "bytes"))
		return jc_fail_text(c, "both \"program\" and \"bytes\"", "one code source");
	if (jc_get(j, "program") && jc_str(c, j, "program", SCENARIO_PATH_MAX, &sc->guest.program))
		scenario_check_file(ld, j, "program", sc->guest.program);
	if (!c->failed && jc_get(j, "bytes"))
		parse_bytes(ld, jc_get(j, "bytes"));
	sc->guest.load_gpa = DEFAULT_LOAD_GPA;
	jc_u64(c, j, "load_gpa", 0, mem - 1, &sc->guest.load_gpa);
	sc->guest.entry = sc->guest.load_gpa;
	jc_u64(c, j, "entry", 0, mem - 1, &sc->guest.entry);
	return !c->failed;
}

bool scenario_parse_guest(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	struct hvsim_scenario *sc = ld->sc;
	size_t saved = jc_push_key(c, "guest");
	bool code = jc_get(j, "program") || jc_get(j, "bytes");

	sc->guest.mode = GUEST_MODE_LONG;
	if (jc_object(c, j, guest_keys)) {
		jc_enum(c, j, "mode", mode_names, 3, &sc->guest.mode);
		if (code && jc_get(j, "script"))
			jc_fail_text(c, "code and a script",
			             "either code (program/bytes) or a script");
		else if (!code && !jc_get(j, "script"))
			jc_fail_text(c, "neither", "\"program\", \"bytes\" or \"script\"");
	}
	if (!c->failed && code)
		parse_code(ld, j);
	if (!c->failed && jc_get(j, "script"))
		parse_script(ld, jc_get(j, "script"));
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_irq_line(struct loader *ld, const cJSON *j, struct scenario_event *e)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "irq_line");
	uint64_t gsi = 0, level = 0;

	if (jc_object(c, j, irq_keys) && need(ld, j, "gsi", "an I/O APIC input number") &&
	    need(ld, j, "level", "a line level 0 or 1") &&
	    jc_int(c, j, "gsi", 0, ld->sc->machine.ioapic_pins - 1, &gsi))
		jc_int(c, j, "level", 0, 1, &level);
	e->kind = SEV_IRQ_LINE;
	e->gsi = (uint32_t)gsi;
	e->level = (uint8_t)level;
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_msi(struct loader *ld, const cJSON *j, struct scenario_event *e)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "msi");

	if (jc_object(c, j, msi_keys) && need(ld, j, "address", "an MSI address") &&
	    need(ld, j, "data", "MSI data") && jc_u64(c, j, "address", 0, UINT64_MAX, &e->msi_addr))
		jc_u64(c, j, "data", 0, UINT32_MAX, &e->msi_data);
	e->kind = SEV_MSI;
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_host(struct loader *ld, const cJSON *j, struct scenario_event *e)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "host");
	uint64_t vcpu = UINT64_MAX;

	e->kind = SEV_HOST;
	e->vcpu = -1;
	if (jc_object(c, j, host_keys) && need(ld, j, "action", "a host action name")) {
		jc_str(c, j, "action", 64, &e->action);
		if (jc_get(j, "vcpu") && jc_int(c, j, "vcpu", 0, ld->sc->machine.vcpus - 1, &vcpu))
			e->vcpu = (int32_t)vcpu;
		jc_u64(c, j, "arg", 0, UINT64_MAX, &e->arg);
	}
	jc_pop(c, saved);
	return !c->failed;
}

static bool parse_event(struct loader *ld, const cJSON *j, struct scenario_event *e)
{
	struct jc *c = &ld->jc;
	int kinds = !!jc_get(j, "irq_line") + !!jc_get(j, "msi") + !!jc_get(j, "host");

	if (!jc_object(c, j, event_keys) || !need(ld, j, "at_ns", "a virtual time in ns") ||
	    !jc_int(c, j, "at_ns", 0, SIM_NS_MAX, &e->at_ns))
		return false;
	if (kinds != 1)
		return jc_fail_text(c, kinds ? "several" : "none",
		                    "exactly one of \"irq_line\", \"msi\", \"host\"");
	if (jc_get(j, "irq_line"))
		return parse_irq_line(ld, jc_get(j, "irq_line"), e);
	if (jc_get(j, "msi"))
		return parse_msi(ld, jc_get(j, "msi"), e);
	return parse_host(ld, jc_get(j, "host"), e);
}

bool scenario_parse_events(struct loader *ld, const cJSON *j)
{
	struct jc *c = &ld->jc;
	size_t saved = jc_push_key(c, "events"), n, i = 0;

	if (!j) {
		jc_pop(c, saved);
		return true;
	}
	n = cJSON_IsArray(j) ? (size_t)cJSON_GetArraySize(j) : 0;
	if (!cJSON_IsArray(j) || n > SCENARIO_MAX_EVENTS) {
		jc_fail(c, j, "an array of at most %d events", SCENARIO_MAX_EVENTS);
		jc_pop(c, saved);
		return false;
	}
	ld->sc->events = calloc(n ? n : 1, sizeof(*ld->sc->events));
	if (!ld->sc->events)
		jc_fail_nomem(c);
	for (const cJSON *m = j->child; m && !c->failed; m = m->next, i++) {
		size_t s2 = jc_push_index(c, i);

		ld->sc->n_events = i + 1;
		parse_event(ld, m, &ld->sc->events[i]);
		if (!c->failed && i > 0 && ld->sc->events[i].at_ns < ld->sc->events[i - 1].at_ns) {
			size_t s3 = jc_push_key(c, "at_ns");

			jc_fail(c, jc_get(m, "at_ns"), "a time >= the previous event's %llu",
			        (unsigned long long)ld->sc->events[i - 1].at_ns);
			jc_pop(c, s3);
		}
		jc_pop(c, s2);
	}
	jc_pop(c, saved);
	return !c->failed;
}

static void free_actions(struct script_action *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		free_actions(a[i].body, a[i].n_body);
	free(a);
}

void scenario_free_script(struct guest_script *s)
{
	free_actions(s->main, s->n_main);
	for (size_t i = 0; i < s->n_handlers; i++)
		free_actions(s->handlers[i].actions, s->handlers[i].n);
	free(s->handlers);
}
