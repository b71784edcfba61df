/* Reloading a machine for another scenario (hvsim_vm_reload): a snapshot taken before the VM ran
 * is restored and the new scenario's guest program and events take the place of the old ones, so
 * a fuzzer reuses one built machine (VMX processors, VMCS, algorithm, Unicorn engine) for many
 * inputs instead of building one per input. The new scenario must describe the same machine
 * (reload_difference); everything the VM took from the old scenario at creation then holds for
 * the new one, and the run is the one a VM created from the new scenario gives. Quirks the
 * algorithm marks reload (struct hvsim_quirk_desc) may change: the engine selects the new values
 * and the algorithm's reload callback takes them; any other quirk must keep its value. */
#include "guest_setup.h"
#include "snapshot_int.h"

#include <string.h>

/* Equal strings, or both NULL. A scenario built in memory (the fuzz harness's) names quirks and
 * their values with the algorithm's own strings: equal pointers spare the comparisons. */
static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_machine(const struct hvsim_scenario *a, const struct hvsim_scenario *b)
{
	return same_str(a->machine.cpu, b->machine.cpu) && a->machine.vcpus == b->machine.vcpus &&
	       a->machine.memory_mib == b->machine.memory_mib &&
	       a->machine.irqchip == b->machine.irqchip && a->machine.apicv == b->machine.apicv &&
	       a->machine.nested == b->machine.nested && a->machine.tsc_khz == b->machine.tsc_khz &&
	       a->machine.apic_bus_khz == b->machine.apic_bus_khz &&
	       a->machine.insn_ns == b->machine.insn_ns &&
	       a->machine.quantum_insns == b->machine.quantum_insns &&
	       a->machine.exit_ns == b->machine.exit_ns &&
	       a->machine.ioapic_pins == b->machine.ioapic_pins &&
	       a->machine.ioapic_version == b->machine.ioapic_version;
}

static bool same_oracles(const struct hvsim_oracle_params *a, const struct hvsim_oracle_params *b)
{
	return a->storm_count == b->storm_count && a->storm_window_ns == b->storm_window_ns &&
	       a->storm_insns_per_irq == b->storm_insns_per_irq &&
	       a->isr_stall_ns == b->isr_stall_ns && a->isr_stall_eois == b->isr_stall_eois &&
	       a->timer_stall_ns == b->timer_stall_ns && a->invariants == b->invariants;
}

/* The guest's kind and where it starts; a program file is not reloadable (the runner reads it). */
static bool same_guest_frame(const struct hvsim_scenario *a, const struct hvsim_scenario *b)
{
	return a->guest.has_script == b->guest.has_script && a->guest.mode == b->guest.mode &&
	       a->guest.load_gpa == b->guest.load_gpa && a->guest.entry == b->guest.entry &&
	       !a->guest.program && !b->guest.program;
}

static bool same_run(const struct hvsim_scenario *a, const struct hvsim_scenario *b, size_t run)
{
	return run < a->n_runs && run < b->n_runs && a->runs[run].seed == b->runs[run].seed;
}

/* The first part of the machine description where b differs from a (run run), NULL when none. */
static const char *reload_difference(const struct hvsim_scenario *a, const struct hvsim_scenario *b,
                                     size_t run)
{
	if (!same_machine(a, b))
		return "$.machine";
	if (!same_str(a->hv.algorithm, b->hv.algorithm))
		return "$.hypervisor.algorithm";
	if (!same_guest_frame(a, b))
		return "$.guest (kind, mode, load_gpa, entry or program)";
	if (a->limits.virtual_ns != b->limits.virtual_ns ||
	    a->limits.instructions != b->limits.instructions || a->limits.exits != b->limits.exits)
		return "$.limits";
	if (!same_oracles(&a->oracles, &b->oracles))
		return "$.oracles";
	if (!same_run(a, b, run))
		return "$.runs (the seed of the VM's run)";
	return NULL;
}

/* Where q is set in sc's run (the run's override first, as vm.c lets it win), NULL when nowhere.
 */
static const struct hvsim_quirk_setting *
quirk_setting(const hvsim_vm *vm, const struct hvsim_scenario *sc, const struct hvsim_quirk_desc *q)
{
	if (!same_str(vm->hv->name, sc->hv.algorithm))
		return NULL; /* another algorithm stands in: not its quirks (vm.c select_quirks) */
	return hvsim_scenario_quirk(sc, vm->run, q->name);
}

/* The value of q that sc selects (its setting, else the default), as q's own string; NULL when
 * the setting names no value of q. */
static const char *quirk_value(const struct hvsim_quirk_desc *q,
                               const struct hvsim_quirk_setting *set)
{
	if (!set)
		return q->def;
	for (size_t k = 0; k < q->n_values; k++)
		if (same_str(q->values[k], set->value))
			return q->values[k];
	return NULL;
}

/* Every quirk setting of sc names a quirk of the algorithm, as VM creation requires. */
static enum hvsim_status settings_known(const hvsim_vm *vm, const char *sc_file,
                                        const struct hvsim_quirk_setting *set, size_t n,
                                        struct hvsim_error *err)
{
	const struct hvsim_hv_ops *hv = vm->hv;

	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t q = 0; q < hv->n_quirks && !known; q++)
			known = same_str(hv->quirks[q].name, set[i].name) &&
			        quirk_value(&hv->quirks[q], &set[i]) != NULL;
		if (!known)
			return hvsim_error_set(
			    err, HVSIM_E_INPUT,
			    "%s: %s: expected a quirk of algorithm \"%s\" and one of its values "
			    "(see hvsim list --quirks), found %s = \"%s\"",
			    sc_file, set[i].json_path ? set[i].json_path : "$.hypervisor.quirks",
			    hv->name, set[i].name, set[i].value);
	}
	return HVSIM_OK;
}

/* sc's quirks are ones VM creation accepts, and each quirk the algorithm does not take again at
 * reload keeps the value the VM was created with. */
static enum hvsim_status quirks_reloadable(const hvsim_vm *vm, const struct hvsim_scenario *sc,
                                           struct hvsim_error *err)
{
	const struct hvsim_hv_ops *hv = vm->hv;
	enum hvsim_status st;

	if (same_str(hv->name, sc->hv.algorithm) &&
	    ((st = settings_known(vm, sc->file, sc->hv.quirks, sc->hv.n_quirks, err)) != HVSIM_OK ||
	     (st = settings_known(vm, sc->file, sc->runs[vm->run].quirks,
	                          sc->runs[vm->run].n_quirks, err)) != HVSIM_OK))
		return st;
	for (size_t q = 0; q < hv->n_quirks; q++) {
		const struct hvsim_quirk_desc *d = &hv->quirks[q];
		const char *v = quirk_value(d, quirk_setting(vm, sc, d));

		if ((!d->reload || !hv->reload) && !same_str(v, vm->quirk_values[q]))
			return hvsim_error_set(
			    err, HVSIM_E_INPUT,
			    "%s: $.hypervisor.quirks.%s: expected \"%s\", the value the VM was "
			    "created with (algorithm %s reads this quirk only at VM creation), "
			    "found "
			    "\"%s\"",
			    sc->file, d->name, vm->quirk_values[q], hv->name, v);
	}
	return HVSIM_OK;
}

/* The quirk values of sc (quirks_reloadable held), taken by the algorithm. */
static enum hvsim_status select_quirks(hvsim_vm *vm, const struct hvsim_scenario *sc)
{
	const struct hvsim_hv_ops *hv = vm->hv;

	for (size_t q = 0; q < hv->n_quirks; q++)
		vm->quirk_values[q] =
		    quirk_value(&hv->quirks[q], quirk_setting(vm, sc, &hv->quirks[q]));
	return hv->reload ? hv->reload(vm->hv_priv) : HVSIM_OK;
}

/* Whether s can be reloaded for sc: HVSIM_OK, else the status with err saying why not. */
static enum hvsim_status reloadable(const hvsim_vm *vm, const hvsim_snapshot *s,
                                    const struct hvsim_scenario *sc, struct hvsim_error *err)
{
	const char *diff;
	enum hvsim_status st;

	if (!s || s->vm != vm)
		return hvsim_error_set(err, HVSIM_E_INPUT, "the snapshot belongs to another VM");
	if ((diff = reload_difference(s->sc, sc, vm->run)) != NULL)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: %s: expected the machine of the VM's scenario, found another", sc->file,
		    diff);
	/* the queue holds the old scenario's events, nothing the algorithm armed behind them */
	if ((st = quirks_reloadable(vm, sc, err)) != HVSIM_OK)
		return st;
	if (s->stepped || sim_evq_len(s->evq) != s->sc->n_events)
		return hvsim_error_set(
		    err, HVSIM_E_UNSUPPORTED,
		    "the snapshot was taken after the VM ran or with timers armed");
	return vm->code_guest ? gs_check_layout(sc, sc->guest.n_bytes, err) : HVSIM_OK;
}

/* The old image out, the new one in, both at guest.load_gpa (reloadable: the same in both
 * scenarios; memory holds the snapshot's image); the backends' code_replaced drops the
 * translations of code that changed, so the writes need no per-range invalidation. */
static void load_image(hvsim_vm *vm, const struct hvsim_scenario *sc)
{
	memset(vm->mem + sc->guest.load_gpa, 0, vm->image_len);
	memcpy(vm->mem + sc->guest.load_gpa, sc->guest.bytes, sc->guest.n_bytes);
	mem_track_mark(&vm->track, sc->guest.load_gpa,
	               vm->image_len > sc->guest.n_bytes ? vm->image_len : sc->guest.n_bytes);
	vm->image_len = sc->guest.n_bytes;
}

static enum hvsim_status load_program(hvsim_vm *vm, const struct hvsim_scenario *sc)
{
	if (vm->code_guest) {
		load_image(vm, sc);
		for (unsigned i = 0; i < vm->n_vcpus; i++)
			if (vm->vcpus[i].be->code_replaced)
				vm->vcpus[i].be->code_replaced(vm->vcpus[i].be_ctx);
		return HVSIM_OK;
	}
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (!script_backend_rebind(vm->vcpus[i].be_ctx, &sc->guest.script))
			return HVSIM_E_INTERNAL;
	return HVSIM_OK;
}

enum hvsim_status hvsim_vm_reload(hvsim_vm *vm, const hvsim_snapshot *s,
                                  const struct hvsim_scenario *sc, struct hvsim_error *err)
{
	enum hvsim_status st;

	if ((st = reloadable(vm, s, sc, err)) != HVSIM_OK)
		return st;
	vm->finished = false;
	if ((st = hvsim_vm_restore(vm, s)) != HVSIM_OK)
		return hvsim_error_set(err, st, "restoring the snapshot failed");
	memset(&vm->err, 0, sizeof(vm->err));
	vm->sc = sc;
	if (vm->trace)
		trace_writer_set_lines(vm->trace, s->trace_lines);
	sim_evq_reset(vm->evq); /* the old scenario's events (reloadable) */
	if ((st = select_quirks(vm, sc)) != HVSIM_OK || (st = load_program(vm, sc)) != HVSIM_OK ||
	    (st = vm_schedule_events(vm, err)) != HVSIM_OK) {
		vm_fail(vm, st, "reloading the scenario failed");
		return hvsim_error_set(err, st, "reloading the scenario failed");
	}
	return HVSIM_OK;
}
