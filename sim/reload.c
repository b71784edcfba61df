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
#include "str_eq.h"

#include <stdlib.h>
#include <string.h>

static bool same_machine(const struct hvsim_scenario *a, const struct hvsim_scenario *b)
{
	return sim_same_str(a->machine.cpu, b->machine.cpu) &&
	       a->machine.vcpus == b->machine.vcpus &&
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
	if (!sim_same_str(a->hv.algorithm, b->hv.algorithm))
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

/* Each quirk the algorithm does not take again at reload keeps the value the VM was created with
 * (values: what sc selects, vm_quirk_values; both are the algorithm's own strings). */
static enum hvsim_status quirks_reloadable(const hvsim_vm *vm, const struct hvsim_scenario *sc,
                                           const char **values, struct hvsim_error *err)
{
	const struct hvsim_hv_ops *hv = vm->hv;
	enum hvsim_status st = vm_quirk_values(vm, sc, values, err);

	for (size_t q = 0; q < hv->n_quirks && st == HVSIM_OK; q++)
		if ((!hv->quirks[q].reload || !hv->reload) && values[q] != vm->quirk_values[q])
			st = hvsim_error_set(
			    err, HVSIM_E_INPUT,
			    "%s: $.hypervisor.quirks.%s: expected \"%s\", the value the VM was "
			    "created with (algorithm %s reads this quirk only at VM creation), "
			    "found \"%s\"",
			    sc->file, hv->quirks[q].name, vm->quirk_values[q], hv->name, values[q]);
	return st;
}

/* The quirk values quirks_reloadable accepted, taken by the algorithm. */
static enum hvsim_status select_quirks(hvsim_vm *vm, const char *const *values)
{
	const struct hvsim_hv_ops *hv = vm->hv;

	memcpy(vm->quirk_values, values, hv->n_quirks * sizeof(*values));
	return hv->reload ? hv->reload(vm->hv_priv) : HVSIM_OK;
}

/* Whether s can be reloaded for sc: HVSIM_OK, else the status with err saying why not. */
static enum hvsim_status reloadable(const hvsim_vm *vm, const hvsim_snapshot *s,
                                    const struct hvsim_scenario *sc, const char **values,
                                    struct hvsim_error *err)
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
	if ((st = quirks_reloadable(vm, sc, values, err)) != HVSIM_OK)
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

static enum hvsim_status reload(hvsim_vm *vm, const hvsim_snapshot *s,
                                const struct hvsim_scenario *sc, const char **values,
                                struct hvsim_error *err)
{
	enum hvsim_status st;

	if ((st = reloadable(vm, s, sc, values, err)) != HVSIM_OK)
		return st;
	vm->finished = false;
	if ((st = hvsim_vm_restore(vm, s)) != HVSIM_OK)
		return hvsim_error_set(err, st, "restoring the snapshot failed");
	memset(&vm->err, 0, sizeof(vm->err));
	vm->sc = sc;
	if (vm->trace)
		trace_writer_set_lines(vm->trace, s->trace_lines);
	sim_evq_reset(vm->evq); /* the old scenario's events (reloadable) */
	if ((st = select_quirks(vm, values)) != HVSIM_OK ||
	    (st = load_program(vm, sc)) != HVSIM_OK ||
	    (st = vm_schedule_events(vm, err)) != HVSIM_OK) {
		vm_fail(vm, st, "reloading the scenario failed");
		return hvsim_error_set(err, st, "reloading the scenario failed");
	}
	return HVSIM_OK;
}

enum hvsim_status hvsim_vm_reload(hvsim_vm *vm, const hvsim_snapshot *s,
                                  const struct hvsim_scenario *sc, struct hvsim_error *err)
{
	const char **values = calloc(vm->hv->n_quirks + 1, sizeof(*values));
	enum hvsim_status st;

	if (!values)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
	st = reload(vm, s, sc, values, err);
	free(values);
	return st;
}
