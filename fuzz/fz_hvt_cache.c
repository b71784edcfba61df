/* fuzz_hv_transitions' machine cache (fz_hvt.h): building a VM (CPU profile, VMX processors and
 * VMCS, the kvm algorithm's set-up, a Unicorn engine for code guests) costs more than running
 * most inputs, so the harness keeps one built VM per configuration with a snapshot taken before
 * it ran, and reloads it for each input of that configuration (hvsim_vm_reload). The run is the
 * one a fresh VM gives: the determinism rerun compares the two on every input under replay and
 * on one in eight under a fuzzer. Slots are replaced least recently used first. */
#include "fz_hvt_int.h"

#include "../sim/vm_int.h"

#include <hvsim/hv_registry.h>

#include <stdlib.h>
#include <string.h>

struct fz_hvt_slot {
	bool used;
	struct fz_hvt_config cfg; /* key, with the guest kind the builder chose */
	bool script;
	uint64_t last_use;           /* cache tick */
	struct hvsim_scenario *base; /* built from */
	struct fz_hvt_direct *cur;   /* runs now (freed at the next reload) */
	hvsim_vm *vm;
	hvsim_snapshot *snap;    /* before the VM ran */
	struct fz_trace created; /* what building the VM wrote (apicv lines): every run's start */
	struct fz_trace trace;
};

struct fz_hvt_cache {
	struct fz_hvt_slot slot[FZ_HVT_CACHE_SLOTS];
	uint64_t tick;
	/* the kvm quirks a kept VM takes again at reload (struct hvsim_quirk_desc reload): no part
	 * of the key, the input's scenario carries them (fz_hvt_direct.c) */
	bool reload_quirk[FZ_HVT_QUIRK_SLOTS];
};

struct fz_hvt_cache *fz_hvt_cache_create(void)
{
	const struct hvsim_hv_ops *kvm = hvsim_hv_builtin("kvm");
	struct fz_hvt_cache *c = calloc(1, sizeof(struct fz_hvt_cache));

	for (size_t q = 0; c && kvm && kvm->reload && q < kvm->n_quirks && q < FZ_HVT_QUIRK_SLOTS;
	     q++)
		c->reload_quirk[q] = kvm->quirks[q].reload;
	return c;
}

static void slot_clear(struct fz_hvt_slot *s)
{
	hvsim_snapshot_free(s->snap);
	hvsim_vm_destroy(s->vm);
	fz_hvt_direct_free(s->cur);
	hvsim_scenario_free(s->base);
	if (s->used) {
		fz_trace_free(&s->trace);
		fz_trace_free(&s->created);
	}
	memset(s, 0, sizeof(*s));
}

void fz_hvt_cache_destroy(struct fz_hvt_cache *c)
{
	for (size_t i = 0; c && i < FZ_HVT_CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	free(c);
}

static bool same_config(const struct fz_hvt_cache *c, const struct fz_hvt_config *a,
                        const struct fz_hvt_config *b)
{
	for (size_t q = 0; q < FZ_HVT_QUIRK_SLOTS; q++)
		if (a->quirk[q] != b->quirk[q] && !c->reload_quirk[q])
			return false;
	return a->vcpus == b->vcpus && a->split == b->split && a->apicv == b->apicv &&
	       a->ioapic_11 == b->ioapic_11 && a->code == b->code && a->cpu == b->cpu &&
	       a->nested == b->nested;
}

/* The slot of cfg's machine, or the one to replace (free, else least recently used). */
static struct fz_hvt_slot *find(struct fz_hvt_cache *c, const struct fz_hvt_config *cfg,
                                bool script)
{
	struct fz_hvt_slot *victim = &c->slot[0];

	for (size_t i = 0; i < FZ_HVT_CACHE_SLOTS; i++) {
		struct fz_hvt_slot *s = &c->slot[i];

		if (s->used && s->script == script && same_config(c, &s->cfg, cfg))
			return s;
		if (victim->used && (!s->used || s->last_use < victim->last_use))
			victim = s;
	}
	return victim;
}

/* The scenario of cfg's machine with no operations: what a slot's VM is built from. */
static struct hvsim_scenario *base_scenario(const struct fz_hvt_config *cfg, bool script,
                                            struct hvsim_error *err)
{
	static const struct scenario_io no_io = {.exists = NULL, .check_goldens = false};
	struct fz_hvt_input *in = calloc(1, sizeof(*in));
	fz_scn *s = NULL;
	struct hvsim_scenario *sc = NULL;

	if (in) {
		in->cfg = *cfg;
		in->cfg.code = !script;
		s = fz_hvt_build(in, 0);
	}
	if (s)
		fz_scn_load(s, "fuzz_hv_transitions-base.json", &no_io, &sc, err);
	else
		hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory building the base scenario");
	fz_scn_destroy(s);
	free(in);
	return sc;
}

/* Builds slot s for cfg: the VM and its snapshot before it ran. */
static enum hvsim_status slot_build(struct fz_hvt_slot *s, const struct fz_hvt_config *cfg,
                                    bool script, struct hvsim_error *err)
{
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};

	s->used = true;
	s->cfg = *cfg;
	s->script = script;
	fz_trace_init(&s->created);
	fz_trace_init(&s->trace);
	opts.trace = fz_trace_sink(&s->trace);
	if (!(s->base = base_scenario(cfg, script, err)) ||
	    !(s->vm = hvsim_vm_create(s->base, 0, &opts, err)) ||
	    !(s->snap = hvsim_vm_snapshot(s->vm, err))) {
		slot_clear(s);
		return err->status ? err->status : HVSIM_E_NOMEM;
	}
	s->created = s->trace; /* the snapshot flushed the writer */
	fz_trace_init(&s->trace);
	if (s->created.oom || s->created.len != s->created.total) {
		slot_clear(s);
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory keeping the trace");
	}
	return HVSIM_OK;
}

hvsim_vm *fz_hvt_cache_take(struct fz_hvt_cache *c, const struct fz_hvt_config *cfg,
                            struct fz_hvt_direct *d, const struct hvsim_scenario **scp,
                            struct fz_trace **trace, struct hvsim_error *err)
{
	bool script = fz_hvt_direct_script(d);
	struct fz_hvt_slot *s = find(c, cfg, script);
	const struct hvsim_scenario *sc;
	struct trace_sink sink;

	if (!s->used || !same_config(c, &s->cfg, cfg) || s->script != script ||
	    vm_translations(s->vm) >= FZ_HVT_TB_RECYCLE) {
		slot_clear(s);
		if (slot_build(s, cfg, script, err) != HVSIM_OK) {
			fz_hvt_direct_free(d);
			return NULL;
		}
	}
	sc = fz_hvt_direct_scenario(d, s->base);
	s->last_use = ++c->tick;
	fz_trace_free(&s->trace);
	fz_trace_init(&s->trace);
	sink = fz_trace_sink(&s->trace);
	if (s->created.len)
		sink.write(sink.ctx, s->created.buf, s->created.len);
	if (hvsim_vm_reload(s->vm, s->snap, sc, err) != HVSIM_OK) {
		fz_hvt_direct_free(d);
		slot_clear(s);
		return NULL;
	}
	fz_hvt_direct_free(s->cur);
	s->cur = d;
	*scp = sc;
	*trace = &s->trace;
	return s->vm;
}

void fz_hvt_cache_drop(struct fz_hvt_cache *c, hvsim_vm *vm)
{
	for (size_t i = 0; i < FZ_HVT_CACHE_SLOTS; i++)
		if (c->slot[i].used && c->slot[i].vm == vm)
			slot_clear(&c->slot[i]);
}
