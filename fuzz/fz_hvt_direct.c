/* The scenario of an input for a kept machine (fz_hvt_int.h), built straight into the loader's
 * structures instead of as JSON that the loader parses back: an input changes only the guest
 * program, the events and the kvm quirks the VM takes again at reload (the cache keys machines
 * without them), and the machine, algorithm, limits, oracles and run are those of the kept VM's
 * base scenario, which the loader made from the same configuration. Each quirk, action and
 * event holds what fz_hvt_build's JSON carries for it (fz_export.c writes those fields only) as
 * the loader reads them (sim/scenario_guest.c). A fresh VM loads the printed JSON instead
 * (fz_hvt_exec.c), and the determinism rerun compares the two runs: every input under replay,
 * one in 64 under a fuzzer. */
#include "fz_hvt_int.h"

#include <hvsim/guest_op.h>
#include <hvsim/hv_registry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTORS     256u
#define VECTOR_MIN  32u /* fz_scn_handler_action drops lower vectors */
#define FILE_NAME   "fuzz_hv_transitions.json"
#define LIST_GROWTH 16u

struct list {
	struct script_action *a;
	size_t n, cap;
};

struct fz_hvt_direct {
	struct hvsim_scenario sc;
	struct list main, handlers[VECTORS];
	struct script_handler hs[VECTORS - VECTOR_MIN];
	struct scenario_event *ev;
	size_t n_ev, cap_ev;
	uint64_t last_at_ns;
	uint8_t *bytes; /* the code image, NULL for a script */
	size_t n_bytes;
	bool oom;
	char name[96];
	struct hvsim_quirk_setting quirks[FZ_HVT_QUIRK_SLOTS]; /* as fz_hvt_build sets them */
	char quirk_path[FZ_HVT_QUIRK_SLOTS][64];
	size_t n_quirks;
};

static void free_actions(struct script_action *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		if (a[i].op == SOP_REPEAT)
			free_actions(a[i].body, a[i].n_body);
	free(a);
}

void fz_hvt_direct_free(struct fz_hvt_direct *d)
{
	if (!d)
		return;
	free_actions(d->main.a, d->main.n);
	for (size_t v = 0; v < VECTORS; v++)
		if (d->handlers[v].a) /* most vectors have no handler */
			free_actions(d->handlers[v].a, d->handlers[v].n);
	free(d->ev);
	free(d->bytes);
	free(d);
}

/* Whether insn always has a memory operand (m64, m128; SDM ch. 31). */
static bool vmx_has_mem(unsigned insn)
{
	return insn == GVMX_VMXON || insn == GVMX_VMCLEAR || insn == GVMX_VMPTRLD ||
	       insn == GVMX_VMPTRST || insn == GVMX_INVEPT || insn == GVMX_INVVPID;
}

/* The vmx action's fields fz_export.c writes, as the loader reads them back. */
static void vmx_as_loaded(const struct script_action *a, struct script_action *r)
{
	unsigned insn = a->sub < GVMX_COUNT ? a->sub : GVMX_VMXOFF;
	bool rw = insn == GVMX_VMREAD || insn == GVMX_VMWRITE;
	bool mem = rw ? (a->flags & SCRIPT_VMX_MEM) != 0 : vmx_has_mem(insn);
	bool st = mem && (a->flags & SCRIPT_VMX_STORE);

	r->sub = insn;
	r->flags = mem ? SCRIPT_VMX_MEM : 0;
	r->addr = mem ? a->addr : 0;
	switch (insn) {
	case GVMX_VMXON:
	case GVMX_VMCLEAR:
	case GVMX_VMPTRLD:
		r->value = st ? a->value : 0;
		r->flags |= st ? SCRIPT_VMX_STORE : 0;
		break;
	case GVMX_VMREAD: r->field = a->field; break;
	case GVMX_VMWRITE:
		r->field = a->field;
		r->value = !mem || st ? a->value : 0;
		r->flags |= mem && st ? SCRIPT_VMX_STORE : 0;
		break;
	case GVMX_INVEPT:
	case GVMX_INVVPID:
		r->field = a->field;
		r->value = st ? a->value : 0;
		r->value2 = st ? a->value2 : 0;
		r->flags |= st ? SCRIPT_VMX_STORE : 0;
		break;
	default: break;
	}
}

/* The fields fz_export.c's operands() writes for a's operation, as the loader reads them back. */
static struct script_action as_loaded(struct fz_hvt_direct *d, const struct script_action *a)
{
	struct script_action r = {.op = a->op};

	switch (a->op) {
	case SOP_CPUID: r.index = a->index, r.sub = a->sub; break;
	case SOP_WRMSR: r.value = a->value; /* fall through */
	case SOP_RDMSR: r.index = a->index; break;
	case SOP_OUT: r.value = (uint32_t)a->value; /* fall through */
	case SOP_IN: r.index = a->index & 0xffff, r.size = a->size; break;
	case SOP_MMIO_WRITE:
	case SOP_STORE: r.value = a->value; /* fall through */
	case SOP_MMIO_READ: r.addr = a->addr, r.size = a->size; break;
	case SOP_RDPMC: r.index = a->index; break;
	case SOP_VMCALL:
	case SOP_TDCALL:
	case SOP_SEAMCALL: r.value = a->value; break;
	case SOP_MOV_CR: r.cr = a->cr, r.value = a->value; break;
	case SOP_COMPUTE: r.value = a->value; break;
	case SOP_MONITOR: r.addr = a->addr; /* fall through */
	case SOP_MWAIT: r.index = a->index, r.sub = a->sub; break;
	case SOP_INVLPG: r.addr = a->addr; break;
	case SOP_XSETBV: r.index = a->index, r.value = a->value; break;
	case SOP_VMX: vmx_as_loaded(a, &r); break;
	case SOP_REPEAT:
		r.count = a->count;
		r.body = calloc(a->n_body ? a->n_body : 1, sizeof(*r.body));
		if (!r.body) {
			d->oom = true;
			break;
		}
		r.n_body = a->n_body;
		for (size_t i = 0; i < a->n_body; i++)
			r.body[i] = as_loaded(d, &a->body[i]);
		break;
	default: break;
	}
	return r;
}

static void append(struct fz_hvt_direct *d, struct list *l, const struct script_action *a)
{
	struct script_action *grown;

	if (l->n == l->cap) {
		grown = realloc(l->a, (l->cap + LIST_GROWTH) * sizeof(*l->a));
		if (!grown) {
			d->oom = true;
			return;
		}
		l->a = grown;
		l->cap += LIST_GROWTH;
	}
	l->a[l->n++] = as_loaded(d, a);
}

static void on_action(void *ctx, int handler, const struct script_action *a)
{
	struct fz_hvt_direct *d = ctx;

	if (handler < 0)
		append(d, &d->main, a);
	else if ((unsigned)handler >= VECTOR_MIN && (unsigned)handler < VECTORS)
		append(d, &d->handlers[handler], a);
}

/* A new event at at_ns, raised to the last one's time as fz_export.c's event() does. */
static struct scenario_event *event(struct fz_hvt_direct *d, uint64_t at_ns, uint8_t kind)
{
	struct scenario_event *grown;

	if (d->n_ev == d->cap_ev) {
		grown = realloc(d->ev, (d->cap_ev + LIST_GROWTH) * sizeof(*d->ev));
		if (!grown) {
			d->oom = true;
			return NULL;
		}
		d->ev = grown;
		d->cap_ev += LIST_GROWTH;
	}
	if (at_ns < d->last_at_ns)
		at_ns = d->last_at_ns;
	d->last_at_ns = at_ns;
	d->ev[d->n_ev] = (struct scenario_event){.at_ns = at_ns, .kind = kind};
	return &d->ev[d->n_ev++];
}

static void on_event(void *ctx, const struct fz_hvt_op *op, uint64_t at_ns)
{
	static const char *const actions[FZ_HOST_COUNT] = {"apicv_activate", "apicv_inhibit",
	                                                   "ept_zap"};
	struct fz_hvt_direct *d = ctx;
	struct scenario_event *e;

	if (op->kind == FZ_HVT_LINE && (e = event(d, at_ns, SEV_IRQ_LINE))) {
		e->gsi = op->reg;
		e->level = (uint8_t)op->value ? 1 : 0; /* fz_scn_irq_line's level */
	} else if (op->kind == FZ_HVT_MSI && (e = event(d, at_ns, SEV_MSI))) {
		e->msi_addr = op->value;
		e->msi_data = (uint32_t)op->value2;
	} else if (op->kind == FZ_HVT_HOST && (e = event(d, at_ns, SEV_HOST))) {
		e->action = (char *)actions[op->sub % FZ_HOST_COUNT];
		e->vcpu = op->vcpu >= 0 ? op->vcpu : -1;
		e->arg = op->value;
	}
}

/* The code image, as fz_hvt_build makes it: none (a script) when it does not fit. */
static bool build_code(struct fz_hvt_direct *d, const struct fz_hvt_input *in)
{
	d->bytes = malloc(FZ_HVT_CODE_MAX);
	d->n_bytes = d->bytes ? fz_hvt_code(in, d->bytes, FZ_HVT_CODE_MAX) : 0;
	if (d->n_bytes)
		return true;
	free(d->bytes);
	d->bytes = NULL;
	return false;
}

/* Every kvm quirk with the configuration's value, in table order, as fz_hvt_build writes them. */
static void set_quirks(struct fz_hvt_direct *d, const struct fz_hvt_config *c)
{
	const struct hvsim_hv_ops *kvm = hvsim_hv_builtin("kvm");

	for (size_t q = 0; kvm && q < kvm->n_quirks && q < FZ_HVT_QUIRK_SLOTS; q++) {
		const struct hvsim_quirk_desc *k = &kvm->quirks[q];

		snprintf(d->quirk_path[q], sizeof(d->quirk_path[q]), "$.hypervisor.quirks.%s",
		         k->name);
		d->quirks[q] = (struct hvsim_quirk_setting){
		    .name = (char *)k->name,
		    .value = (char *)k->values[c->quirk[q] % k->n_values],
		    .json_path = d->quirk_path[q],
		};
		d->n_quirks = q + 1;
	}
}

struct fz_hvt_direct *fz_hvt_direct_build(const struct fz_hvt_input *in, uint64_t input_hash)
{
	struct fz_hvt_direct *d = calloc(1, sizeof(*d));
	struct fz_hvt_sink sink = {.action = on_action, .event = on_event, .ctx = d};

	if (!d)
		return NULL;
	snprintf(d->name, sizeof(d->name), "fuzz-hv-transitions-%016llx",
	         (unsigned long long)input_hash);
	set_quirks(d, &in->cfg);
	if (in->cfg.code && build_code(d, in))
		sink.action = NULL; /* the actions are in the code */
	fz_hvt_walk(in, &sink);
	if (d->oom) {
		fz_hvt_direct_free(d);
		return NULL;
	}
	return d;
}

bool fz_hvt_direct_script(const struct fz_hvt_direct *d)
{
	return d->bytes == NULL;
}

/* The handlers in vector order, as the loader sorts them; one per vector with actions. */
static void set_script(struct fz_hvt_direct *d)
{
	struct guest_script *s = &d->sc.guest.script;

	*s = (struct guest_script){.main = d->main.a, .n_main = d->main.n, .handlers = d->hs};
	for (unsigned v = VECTOR_MIN; v < VECTORS; v++)
		if (d->handlers[v].n)
			d->hs[s->n_handlers++] =
			    (struct script_handler){.vector = (uint8_t)v,
			                            .actions = d->handlers[v].a,
			                            .n = d->handlers[v].n};
}

const struct hvsim_scenario *fz_hvt_direct_scenario(struct fz_hvt_direct *d,
                                                    const struct hvsim_scenario *base)
{
	d->sc = *base;
	d->sc.file = (char *)FILE_NAME;
	d->sc.name = d->name;
	d->sc.events = d->ev;
	d->sc.n_events = d->n_ev;
	d->sc.hv.quirks = d->quirks;
	d->sc.hv.n_quirks = d->n_quirks;
	if (d->bytes) {
		d->sc.guest.bytes = d->bytes;
		d->sc.guest.n_bytes = d->n_bytes;
	} else {
		set_script(d);
	}
	return &d->sc;
}
