/* A simulated machine built from one run of a scenario: vCPUs, guest memory, the event queue, the
 * clock, the trace, the oracles and the hypervisor algorithm under test. The runner owns the loop:
 * it calls hvsim_vm_step() until the run is over. */
#ifndef HVSIM_VM_H
#define HVSIM_VM_H

#include <hvsim/base.h>
#include <hvsim/exit_reason.h>
#include <hvsim/scenario.h>
#include <hvsim/trace.h>

typedef struct hvsim_vm hvsim_vm;
typedef struct hvsim_vcpu hvsim_vcpu;
struct hvsim_hv_ops;

struct hvsim_vm_opts {
	const struct hvsim_hv_ops *hv; /* the algorithm; NULL: the built-in named by the scenario */
	bool has_seed;                 /* seed overrides the run's seed */
	uint64_t seed;
	struct trace_sink trace; /* write == NULL: no trace file (oracles still run) */
	enum trace_level level;
	const uint8_t *image; /* the guest program image the runner read; may be NULL */
	size_t image_len;
	void *user; /* handed to the algorithm by hvsim_vm_user() */
};

enum hvsim_vm_state {
	HVSIM_VM_RUNNING = 0,
	HVSIM_VM_DONE = 1,   /* ended: every vCPU finished, or a limit was reached */
	HVSIM_VM_FAILED = 2, /* ended on an internal error or a trace write failure */
};

#define HVSIM_MAX_FINDINGS 64

struct hvsim_finding_rec {
	char kind[32];
	uint64_t t;
	int32_t vcpu;
	char detail[96];
};

struct hvsim_summary {
	uint64_t virtual_ns;   /* virtual time reached */
	uint64_t instructions; /* guest instructions retired, all vCPUs */
	uint64_t exits;
	uint64_t exits_by_reason[EXIT_REASON_MAX];
	uint64_t injections; /* events delivered into the guest */
	uint64_t eois;
	uint64_t timer_fires;
	uint64_t trace_lines;
	size_t n_findings; /* findings reported; the first HVSIM_MAX_FINDINGS are kept */
	struct hvsim_finding_rec findings[HVSIM_MAX_FINDINGS];
	char end_reason[64]; /* "all vCPUs finished", "limit virtual_ns", ... */
};

/* Builds the machine for run run_index of sc. NULL on failure with err filled (HVSIM_E_INPUT for a
 * scenario the algorithm rejects, e.g. an unknown quirk value). */
hvsim_vm *hvsim_vm_create(const struct hvsim_scenario *sc, size_t run_index,
                          const struct hvsim_vm_opts *opts, struct hvsim_error *err);
/* Advances the simulation by at most max_slices scheduling slices. Never blocks, never aborts. */
enum hvsim_vm_state hvsim_vm_step(hvsim_vm *vm, uint64_t max_slices);
/* Runs the end-of-run oracles, writes the "end" line and flushes the trace; call once after the
 * last step. Returns the trace's sticky status. */
enum hvsim_status hvsim_vm_finish(hvsim_vm *vm);
const struct hvsim_summary *hvsim_vm_summary(const hvsim_vm *vm);

/* Snapshots of a whole machine in memory: guest memory, every vCPU (registers, exit state, time,
 * TSC settings), the MMIO map, the clock, the event queue, the PRNG, the summary, the oracles,
 * the VMX hardware (logical processors, VMCS store, host pages) and the algorithm's state (struct
 * hvsim_hv_ops snapshot callbacks). Restoring rewinds all of them; the
 * trace is a stream and is not rewound: both calls flush it to its sink, and lines emitted after a
 * restore follow the earlier ones.
 * Take and restore snapshots between hvsim_vm_step() calls, before hvsim_vm_finish(). */
typedef struct hvsim_snapshot hvsim_snapshot;
/* NULL with err filled: HVSIM_E_UNSUPPORTED when the algorithm has no snapshot callbacks or the VM
 * is finished, HVSIM_E_NOMEM. */
hvsim_snapshot *hvsim_vm_snapshot(hvsim_vm *vm, struct hvsim_error *err);
/* Loads s (taken from this VM) back. HVSIM_E_INPUT for a snapshot of another machine; on any
 * failure the VM is failed (hvsim_vm_step returns HVSIM_VM_FAILED). */
enum hvsim_status hvsim_vm_restore(hvsim_vm *vm, const hvsim_snapshot *s);
void hvsim_snapshot_free(hvsim_snapshot *s);
/* Reuses a built machine for another scenario of the same machine (fuzzers: one VM for many
 * inputs). s must have been taken from vm before its first hvsim_vm_step() slice, with no event
 * queued; sc must describe the same machine as the scenario vm was created from (machine,
 * hypervisor, the values of quirks not marked reload in struct hvsim_quirk_desc, guest kind,
 * mode, load address and entry, limits, oracles, the run's seed; no guest.program). vm is
 * restored to s (also after hvsim_vm_finish), selects sc's quirks (the algorithm's reload
 * callback takes them), then takes sc's script or code bytes and events: the run is the one
 * hvsim_vm_create(sc) gives, and
 * its trace starts where s's did. vm then reads sc until the next reload or hvsim_vm_destroy.
 * HVSIM_E_INPUT (another machine or a snapshot of another VM; vm unchanged),
 * HVSIM_E_UNSUPPORTED (s was taken after the VM ran), or the restore's failure (vm failed). */
enum hvsim_status hvsim_vm_reload(hvsim_vm *vm, const hvsim_snapshot *s,
                                  const struct hvsim_scenario *sc, struct hvsim_error *err);
/* The algorithm's named invariants now (struct hvsim_hv_ops check_invariants): NULL when they all
 * hold or the algorithm has none; else the broken invariant's name, with what broke in why (cap
 * bytes). Pure: no trace line, no finding. Call it between hvsim_vm_step() calls. */
const char *hvsim_vm_check_invariants(hvsim_vm *vm, char *why, size_t cap);
/* The error that made hvsim_vm_step return HVSIM_VM_FAILED. */
const struct hvsim_error *hvsim_vm_error(const hvsim_vm *vm);
void hvsim_vm_destroy(hvsim_vm *vm);

#endif
