/* Building reproducer scenarios from a harness's decoded operations: the export side of the mapping
 * contract in docs/fuzzing.md ("Export mapping"). A harness decodes its input once into operations;
 * its export function replays the same decoding into a builder instead of the model: guest-visible
 * operations become script actions in order, external ones timed events, time advances compute
 * actions, hypervisor-side ones host events. The written file is a scenario `hvsim run` loads. */
#ifndef HVSIM_FUZZ_EXPORT_H
#define HVSIM_FUZZ_EXPORT_H

#include <hvsim/scenario.h>

#include <stdio.h>

typedef struct fz_scn fz_scn;

/* A scenario named "fuzz-TARGET-HASH" (TARGET with '_' as '-') with one run "repro" (seed 0, golden
 * ../golden/NAME.repro.jsonl), the "minimal" algorithm, one vCPU and a provenance note naming the
 * target and the reproducer. NULL when out of memory. */
fz_scn *fz_scn_create(const char *target, uint64_t input_hash);
void fz_scn_destroy(fz_scn *s);
/* Loads the scenario as hvsim_scenario_parse loads its text (sim/scenario_tree.h), without
 * printing and parsing it: HVSIM_E_NOMEM when building it ran out of memory, else the loader's
 * result. */
enum hvsim_status fz_scn_load(fz_scn *s, const char *file, const struct scenario_io *io,
                              struct hvsim_scenario **out, struct hvsim_error *err);
/* The scenario's name, for messages. */
const char *fz_scn_name(const fz_scn *s);

/* The setters below never fail: an allocation failure is remembered and fz_scn_write reports it.
 * machine.KEY = value: an integer (vcpus, memory_mib, insn_ns, ...), string or bool field. */
void fz_scn_machine_int(fz_scn *s, const char *key, uint64_t value);
void fz_scn_machine_str(fz_scn *s, const char *key, const char *value);
void fz_scn_machine_bool(fz_scn *s, const char *key, bool value);
void fz_scn_algorithm(fz_scn *s, const char *algorithm);
void fz_scn_quirk(fz_scn *s, const char *name, const char *value);
/* Appends a guest action to the script's main list (a repeat copies its body). */
void fz_scn_action(fz_scn *s, const struct script_action *a);
/* Appends a handler action for vector (32..255; others are ignored). */
void fz_scn_handler_action(fz_scn *s, uint8_t vector, const struct script_action *a);
/* Timed events. Times must not decrease: an earlier time is raised to the last event's. */
void fz_scn_irq_line(fz_scn *s, uint64_t at_ns, uint32_t gsi, uint8_t level);
void fz_scn_msi(fz_scn *s, uint64_t at_ns, uint64_t address, uint64_t data);
/* vcpu < 0: the VM. */
void fz_scn_host(fz_scn *s, uint64_t at_ns, const char *action, int32_t vcpu, uint64_t arg);
void fz_scn_limits(fz_scn *s, uint64_t virtual_ns, uint64_t instructions, uint64_t exits);
/* Replaces the script with a long-mode code guest: bytes (n) loaded at load_gpa, the entry. */
void fz_scn_guest_code(fz_scn *s, const uint8_t *bytes, size_t n, uint64_t load_gpa);
/* oracles.invariants.enabled: the engine runs the algorithm's invariants after every slice. */
void fz_scn_check_invariants(fz_scn *s);
/* Adds a finding kind the run expects (the violated invariant, before the fix). */
void fz_scn_expect(fz_scn *s, const char *kind);
/* The scenario as compact JSON text (malloc'd; the caller frees it); NULL when out of memory. */
char *fz_scn_text(fz_scn *s);
/* Writes the scenario as JSON. 0 when written, 2 when out of memory or out failed. */
int fz_scn_write(fz_scn *s, FILE *out);

#endif
