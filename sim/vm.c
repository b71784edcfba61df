/* The machine: built from a scenario run, then advanced slice by slice. A slice runs every vCPU in
 * index order up to the slice end (the quantum, or the next event, whichever is first); then the
 * events that fell due fire in (time, sequence) order. When no vCPU can run, time jumps to the next
 * event; when there is none, the run ends with idle_hang. Scheduling invariants: vm_int.h. */
#include "oracle.h"
#include "str_eq.h"
#include "vm_int.h"
#include "vmx_hw.h"

#include "guest_setup.h"

#include <hvsim/clock.h>
#include <hvsim/hv_registry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The quirk setting q's value (sim_same_str: a scenario built in memory, the fuzz harness's, names
 * quirks and values with the algorithm's own strings, so equal pointers spare the comparison). */
static enum hvsim_status select_quirk(const struct hvsim_hv_ops *hv, const char *file,
                                      const struct hvsim_quirk_setting *q, const char **values,
                                      struct hvsim_error *err)
{
	for (size_t i = 0; i < hv->n_quirks; i++) {
		if (!sim_same_str(hv->quirks[i].name, q->name))
			continue;
		for (size_t k = 0; k < hv->quirks[i].n_values; k++) {
			if (sim_same_str(hv->quirks[i].values[k], q->value)) {
				values[i] = hv->quirks[i].values[k];
				return HVSIM_OK;
			}
		}
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "%s: %s: expected a value of quirk %s (see hvsim list "
		                       "--quirks), found \"%s\"",
		                       file, q->json_path, q->name, q->value);
	}
	return hvsim_error_set(err, HVSIM_E_INPUT,
	                       "%s: %s: expected a quirk of algorithm \"%s\", found \"%s\"", file,
	                       q->json_path, hv->name, q->name);
}

enum hvsim_status vm_quirk_values(const hvsim_vm *vm, const struct hvsim_scenario *sc,
                                  const char **values, struct hvsim_error *err)
{
	const struct hvsim_hv_ops *hv = vm->hv;
	const struct scenario_run *r = &sc->runs[vm->run];
	enum hvsim_status st = HVSIM_OK;

	for (size_t i = 0; i < hv->n_quirks; i++)
		values[i] = hv->quirks[i].def;
	if (strcmp(hv->name, sc->hv.algorithm) != 0)
		return HVSIM_OK; /* another algorithm stands in: not its quirks */
	for (size_t i = 0; i < sc->hv.n_quirks && st == HVSIM_OK; i++)
		st = select_quirk(hv, sc->file, &sc->hv.quirks[i], values, err);
	for (size_t i = 0; i < r->n_quirks && st == HVSIM_OK; i++)
		st = select_quirk(hv, sc->file, &r->quirks[i], values, err);
	return st;
}

static enum hvsim_status select_quirks(hvsim_vm *vm, struct hvsim_error *err)
{
	vm->quirk_values = calloc(vm->hv->n_quirks + 1, sizeof(*vm->quirk_values));
	if (!vm->quirk_values)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
	return vm_quirk_values(vm, vm->sc, vm->quirk_values, err);
}

static enum hvsim_status pick_algorithm(hvsim_vm *vm, const struct hvsim_vm_opts *o,
                                        struct hvsim_error *err)
{
	vm->hv = o->hv ? o->hv : hvsim_hv_builtin(vm->sc->hv.algorithm);
	if (!vm->hv)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.hypervisor.algorithm: expected a built-in algorithm "
		    "(see hvsim list --algorithms) or --hv PLUGIN.so, found \"%s\"",
		    vm->sc->file, vm->sc->hv.algorithm);
	return hvsim_hv_validate(vm->hv, err);
}

enum hvsim_status vm_schedule_events(hvsim_vm *vm, struct hvsim_error *err)
{
	for (size_t i = 0; i < vm->sc->n_events; i++)
		if (!sim_evq_push(vm->evq, vm->sc->events[i].at_ns, VMEV_SCENARIO, -1, i))
			return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
	return HVSIM_OK;
}

/* The code a code guest starts with: the runner's image of guest.program, or guest.bytes. */
static enum hvsim_status guest_image(hvsim_vm *vm, const struct hvsim_vm_opts *o,
                                     const uint8_t **img, size_t *len, struct hvsim_error *err)
{
	const struct hvsim_scenario *sc = vm->sc;

	*img = sc->guest.program ? o->image : sc->guest.bytes;
	*len = sc->guest.program ? o->image_len : sc->guest.n_bytes;
	if (!*img || !*len)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "%s: $.guest.program: expected the program's bytes in "
		                       "struct hvsim_vm_opts.image (the runner reads the file)",
		                       sc->file);
	return HVSIM_OK;
}

/* Code guests: layout checks, GDT/IDT, page tables and trampolines before the vCPUs exist. */
static enum hvsim_status prepare_code(hvsim_vm *vm, const struct hvsim_vm_opts *o,
                                      struct hvsim_error *err)
{
	const struct hvsim_scenario *sc = vm->sc;
	const uint8_t *img;
	size_t len;
	enum hvsim_status st;

	if ((st = guest_image(vm, o, &img, &len, err)) != HVSIM_OK ||
	    (st = gs_check_layout(sc, len, err)) != HVSIM_OK)
		return st;
	gs_write_tables(vm->mem, vm->mem_size, sc->guest.mode);
	if ((st = vm_mmio_init(vm, err)) != HVSIM_OK)
		return st;
	gs_write_trampoline(vm->mem, vm->mem_size, sc->guest.mode);
	if (vm->n_vcpus > 1 && vm_xmod_init(vm) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory building the machine");
	return HVSIM_OK;
}

/* After every vCPU ran its set-up: the trampoline goes, the program arrives. */
static void load_code(hvsim_vm *vm, const struct hvsim_vm_opts *o)
{
	const uint8_t *img;
	size_t len;

	gs_clear_trampoline(vm->mem);
	if (guest_image(vm, o, &img, &len, NULL) == HVSIM_OK &&
	    hvsim_guest_write(vm, vm->sc->guest.load_gpa, img, len) == HVSIM_OK)
		vm->image_len = len;
}

/* Guest RAM comes zero-filled from anonymous pages: the host zeroes only the pages the guest
 * touches, where calloc of megabytes clears them all (most runs touch a few pages). NULL when
 * out of memory. */
static uint8_t *guest_ram_alloc(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void guest_ram_free(uint8_t *mem, uint64_t size)
{
	if (mem)
		munmap(mem, size);
}

static enum hvsim_status build(hvsim_vm *vm, const struct hvsim_vm_opts *o, struct hvsim_error *err)
{
	const struct hvsim_scenario *sc = vm->sc;
	enum hvsim_status st;

	sim_prng_seed(&vm->prng, o->has_seed ? o->seed : sc->runs[vm->run].seed);
	vm->mem_size = (uint64_t)sc->machine.memory_mib << 20;
	vm->mem = guest_ram_alloc(vm->mem_size);
	vm->mach.mem = vm->mem;
	vm->mach.mem_size = vm->mem_size;
	vm->mach.track = &vm->track;
	vm->code_guest = !sc->guest.has_script;
	vm->user = o->user;
	/* a code guest's backend marks its own writes (mem_track.h) */
	if (vm->mem && !mem_track_init(&vm->track, vm->mem_size))
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory building the machine");
	vm->evq = sim_evq_create();
	vm->n_vcpus = sc->machine.vcpus;
	vm->vcpus = calloc(vm->n_vcpus, sizeof(*vm->vcpus));
	if (o->trace.write)
		vm->trace = trace_writer_create(o->trace, o->level);
	vm->oracles = oracles_create(&sc->oracles, vm->n_vcpus);
	if (!vm->mem || !vm->evq || !vm->vcpus || !vm->oracles || (o->trace.write && !vm->trace))
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory building the machine");
	if ((st = pick_algorithm(vm, o, err)) != HVSIM_OK ||
	    (st = select_quirks(vm, err)) != HVSIM_OK)
		return st;
	if (vm->code_guest && (st = prepare_code(vm, o, err)) != HVSIM_OK)
		return st;
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if ((st = vcpu_init(vm, &vm->vcpus[i], i, err)) != HVSIM_OK)
			return st;
	if ((st = vmx_hw_init(vm, err)) != HVSIM_OK)
		return st;
	if (vm->code_guest)
		load_code(vm, o);
	if ((st = vm_schedule_events(vm, err)) != HVSIM_OK)
		return st;
	if ((st = vm->hv->vm_create(vm, &vm->hv_priv)) == HVSIM_E_UNSUPPORTED)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.machine: expected a machine algorithm %s supports, found "
		    "one it refuses: %s",
		    vm->sc->file, vm->hv->name, vm->refusal ? vm->refusal : "it gives no reason");
	if (st != HVSIM_OK)
		return hvsim_error_set(err, st, "algorithm %s: vm_create failed", vm->hv->name);
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->hv->vcpu_create && (st = vm->hv->vcpu_create(vm->hv_priv, &vm->vcpus[i])))
			return hvsim_error_set(err, st, "algorithm %s: vcpu_create(%u) failed",
			                       vm->hv->name, i);
	return HVSIM_OK;
}

hvsim_vm *hvsim_vm_create(const struct hvsim_scenario *sc, size_t run_index,
                          const struct hvsim_vm_opts *opts, struct hvsim_error *err)
{
	struct hvsim_vm_opts none = {0};
	hvsim_vm *vm;

	if (run_index >= sc->n_runs) {
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: no run %zu", sc->file, run_index);
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
		return NULL;
	}
	vm->sc = sc;
	vm->run = run_index;
	vm->state = HVSIM_VM_RUNNING;
	if (build(vm, opts ? opts : &none, err) != HVSIM_OK) {
		hvsim_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

void hvsim_vm_destroy(hvsim_vm *vm)
{
	if (!vm)
		return;
	if (vm->hv_priv && vm->hv->vm_destroy)
		vm->hv->vm_destroy(vm->hv_priv);
	vmx_hw_fini(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->n_vcpus; i++)
		vcpu_fini(&vm->vcpus[i]);
	free(vm->vcpus);
	trace_writer_destroy(vm->trace);
	oracles_destroy(vm->oracles);
	sim_evq_destroy(vm->evq);
	guest_ram_free(vm->mem, vm->mem_size);
	mem_track_free(&vm->track);
	free(vm->xmod.pages);
	free(vm->quirk_values);
	free(vm);
}

static void scenario_event(hvsim_vm *vm, const struct scenario_event *se)
{
	const struct hvsim_hv_ops *hv = vm->hv;
	struct trace_ev e;
	hvsim_vcpu *v = se->vcpu >= 0 ? &vm->vcpus[se->vcpu] : NULL;

	switch (se->kind) {
	case SEV_IRQ_LINE:
		trace_ev_init(&e, vm->now, -1, "irq_line");
		trace_ev_num(&e, "gsi", se->gsi);
		trace_ev_num(&e, "level", se->level);
		vm_emit(vm, &e);
		if (hv->irq_line)
			hv->irq_line(vm->hv_priv, se->gsi, se->level);
		break;
	case SEV_MSI:
		trace_ev_init(&e, vm->now, -1, "msi");
		trace_ev_hex(&e, "address", se->msi_addr);
		trace_ev_hex(&e, "data", se->msi_data);
		vm_emit(vm, &e);
		if (hv->msi)
			hv->msi(vm->hv_priv, se->msi_addr, se->msi_data);
		break;
	default:
		trace_ev_init(&e, vm->now, se->vcpu, "host");
		trace_ev_str(&e, "action", se->action);
		trace_ev_hex(&e, "arg", se->arg);
		vm_emit(vm, &e);
		if (!hv->host_action ||
		    hv->host_action(vm->hv_priv, v, se->action, se->arg) != HVSIM_OK)
			vm_finding(vm, se->vcpu, vm->now, "hv_error",
			           "the algorithm rejected a host action");
		break;
	}
}

static void fire(hvsim_vm *vm, const struct sim_event *ev)
{
	hvsim_vcpu *v =
	    ev->vcpu >= 0 && (unsigned)ev->vcpu < vm->n_vcpus ? &vm->vcpus[ev->vcpu] : NULL;
	struct trace_ev e;

	vm->now = ev->time_ns > vm->now ? ev->time_ns : vm->now;
	if (ev->kind == VMEV_SCENARIO) {
		scenario_event(vm, &vm->sc->events[ev->data]);
		return;
	}
	if (ev->kind == VMEV_VMX_TIMER) {
		if (v)
			vmx_timer_fired(v);
		return;
	}
	trace_ev_init(&e, vm->now, ev->vcpu, "hv_timer");
	e.level = TRACE_VERBOSE;
	trace_ev_hex(&e, "cookie", ev->data);
	vm_emit(vm, &e);
	if (vm->hv->timer)
		vm->hv->timer(vm->hv_priv, v, ev->data);
}

static void fire_due(hvsim_vm *vm)
{
	struct sim_event ev;
	uint64_t t;

	while (vm->state == HVSIM_VM_RUNNING && sim_evq_peek_time(vm->evq, &t) && t <= vm->now) {
		sim_evq_pop(vm->evq, &ev);
		fire(vm, &ev);
	}
}

static uint64_t slice_end(const hvsim_vm *vm)
{
	uint64_t q = (uint64_t)vm->sc->machine.quantum_insns * vm->sc->machine.insn_ns;
	uint64_t end = vm->now + q, t;

	if (sim_evq_peek_time(vm->evq, &t) && t < end)
		end = t;
	if (end > vm->sc->limits.virtual_ns)
		end = vm->sc->limits.virtual_ns;
	return end > vm->now ? end : vm->now + 1;
}

static bool all_done(const hvsim_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].state != VS_DONE)
			return false;
	return true;
}

static bool any_runnable(const hvsim_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vcpu_runnable(&vm->vcpus[i]))
			return true;
	return false;
}

/* When no vCPU ran to the slice end, time stops where the last one stopped, not at the slice end.
 */
static uint64_t latest_vcpu_time(const hvsim_vm *vm)
{
	uint64_t t = vm->now;

	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].now > t)
			t = vm->vcpus[i].now;
	return t < vm->slice_end ? t : vm->slice_end;
}

static void budget_exhausted(hvsim_vm *vm, const char *limit)
{
	char reason[64];

	snprintf(reason, sizeof(reason), "limit %s", limit);
	vm_finding(vm, -1, vm->now, "budget_exhausted", reason);
	vm_end(vm, reason);
}

/* Nothing can run: jump to the next event, or end the run. */
static void idle(hvsim_vm *vm)
{
	uint64_t t;

	if (all_done(vm)) {
		vm_end(vm, "all vCPUs finished");
	} else if (!sim_evq_peek_time(vm->evq, &t)) {
		vm_finding(vm, -1, vm->now, "idle_hang",
		           "every vCPU waits and nothing is scheduled");
		vm_end(vm, "idle hang");
	} else if (t >= vm->sc->limits.virtual_ns) {
		vm->now = vm->sc->limits.virtual_ns;
		budget_exhausted(vm, "virtual_ns");
	} else {
		vm->now = t;
	}
}

const char *hvsim_vm_check_invariants(hvsim_vm *vm, char *why, size_t cap)
{
	if (cap)
		why[0] = '\0';
	return vm->hv->check_invariants ? vm->hv->check_invariants(vm->hv_priv, why, cap) : NULL;
}

/* oracles.invariants: the algorithm's invariants after every slice; the first violation of a run
 * is a finding ("NAME: what broke"), later ones would repeat it. */
static void check_invariants(hvsim_vm *vm)
{
	char why[HVSIM_ERR_MSG_MAX], detail[sizeof(why) + 64];
	const char *name;

	if (!vm->sc->oracles.invariants || vm->invariant_reported)
		return;
	name = hvsim_vm_check_invariants(vm, why, sizeof(why));
	if (!name)
		return;
	vm->invariant_reported = true;
	snprintf(detail, sizeof(detail), "%s: %s", name, why);
	vm_finding(vm, -1, vm->now, "invariant_violation", detail);
}

static void one_slice(hvsim_vm *vm)
{
	vm->stepped = true;
	fire_due(vm);
	if (vm->state != HVSIM_VM_RUNNING)
		return;
	if (!any_runnable(vm)) {
		idle(vm);
		return;
	}
	vm->slice_end = slice_end(vm);
	for (unsigned i = 0; i < vm->n_vcpus && vm->state == HVSIM_VM_RUNNING; i++)
		vcpu_run_slice(&vm->vcpus[i]);
	vm->now = any_runnable(vm) ? vm->slice_end : latest_vcpu_time(vm);
	check_invariants(vm);
	if (vm->state == HVSIM_VM_RUNNING && vm->now >= vm->sc->limits.virtual_ns)
		budget_exhausted(vm, "virtual_ns");
}

enum hvsim_vm_state hvsim_vm_step(hvsim_vm *vm, uint64_t max_slices)
{
	for (uint64_t i = 0; i < max_slices && vm->state == HVSIM_VM_RUNNING; i++)
		one_slice(vm);
	vm->sum.virtual_ns = vm->now;
	return vm->state;
}

enum hvsim_status hvsim_vm_finish(hvsim_vm *vm)
{
	struct trace_ev e;
	enum hvsim_status st = HVSIM_OK;

	if (vm->finished)
		return vm->trace ? trace_writer_flush(vm->trace) : HVSIM_OK;
	vm->finished = true;
	if (vm->state == HVSIM_VM_RUNNING)
		vm_end(vm, "stopped by the runner");
	vm->sum.virtual_ns = vm->now;
	oracles_finish(vm->oracles, vm->now, vm_oracle_report, vm);
	trace_ev_init(&e, vm->now, -1, "end");
	trace_ev_str(&e, "reason", vm->sum.end_reason);
	trace_ev_num(&e, "instructions", vm->sum.instructions);
	trace_ev_num(&e, "exits", vm->sum.exits);
	vm_emit(vm, &e);
	if (vm->trace) {
		st = trace_writer_flush(vm->trace);
		vm->sum.trace_lines = trace_writer_lines(vm->trace);
	}
	return st;
}

const struct hvsim_summary *hvsim_vm_summary(const hvsim_vm *vm)
{
	return &vm->sum;
}

const struct hvsim_error *hvsim_vm_error(const hvsim_vm *vm)
{
	return &vm->err;
}

/* ---- services for algorithms ---- */

unsigned hvsim_vm_vcpu_count(const hvsim_vm *vm)
{
	return vm->n_vcpus;
}

hvsim_vcpu *hvsim_vm_vcpu(hvsim_vm *vm, unsigned index)
{
	return index < vm->n_vcpus ? &vm->vcpus[index] : NULL;
}

uint64_t vm_translations(const hvsim_vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; vm && i < vm->n_vcpus; i++)
		if (vm->vcpus[i].be && vm->vcpus[i].be->translations)
			n += vm->vcpus[i].be->translations(vm->vcpus[i].be_ctx);
	return n;
}

const struct hvsim_scenario *hvsim_vm_scenario(const hvsim_vm *vm)
{
	return vm->sc;
}

void hvsim_vm_refuse(hvsim_vm *vm, const char *why)
{
	vm->refusal = why;
}

const char *hvsim_vm_quirk(const hvsim_vm *vm, const char *name)
{
	for (size_t i = 0; i < vm->hv->n_quirks; i++)
		if (sim_same_str(vm->hv->quirks[i].name, name))
			return vm->quirk_values[i]; /* algorithms pass their table's own names */
	return NULL;
}

uint64_t hvsim_vm_now(const hvsim_vm *vm)
{
	return vm_ctx_now(vm);
}

uint64_t hvsim_vm_random(hvsim_vm *vm)
{
	return sim_prng_next(&vm->prng);
}

void *hvsim_vm_user(const hvsim_vm *vm)
{
	return vm->user;
}

static bool in_ram(const hvsim_vm *vm, uint64_t gpa, size_t len)
{
	return gpa < vm->mem_size && len <= vm->mem_size - gpa;
}

enum hvsim_status hvsim_guest_read(hvsim_vm *vm, uint64_t gpa, void *buf, size_t len)
{
	if (!in_ram(vm, gpa, len))
		return HVSIM_E_INPUT;
	memcpy(buf, vm->mem + gpa, len);
	return HVSIM_OK;
}

enum hvsim_status hvsim_guest_write(hvsim_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	if (!in_ram(vm, gpa, len))
		return HVSIM_E_INPUT;
	memcpy(vm->mem + gpa, buf, len);
	vm_mem_written(vm, gpa, len);
	return HVSIM_OK;
}

sim_ev_handle vm_schedule(hvsim_vm *vm, uint64_t at_ns, uint32_t kind, int32_t vcpu, uint64_t data)
{
	uint64_t now = vm_ctx_now(vm);
	sim_ev_handle h;

	if (at_ns < now)
		at_ns = now;
	h = sim_evq_push(vm->evq, at_ns, kind, vcpu, data);
	if (h && at_ns < vm->slice_end)
		vm->slice_end = at_ns > vm->now ? at_ns : vm->now + 1;
	return h;
}

sim_ev_handle hvsim_timer_arm(hvsim_vm *vm, uint64_t at_ns, hvsim_vcpu *v, uint64_t cookie)
{
	return vm_schedule(vm, at_ns, VMEV_HV_TIMER, v ? (int32_t)v->index : -1, cookie);
}

bool hvsim_timer_cancel(hvsim_vm *vm, sim_ev_handle h)
{
	return sim_evq_cancel(vm->evq, h);
}
