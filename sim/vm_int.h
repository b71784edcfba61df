/* The machine's private layout, shared by the engine's files (vm.c: build and the scheduling loop;
 * vcpu.c: one vCPU's execution and the services the hypervisor calls; emit.c: trace and findings).
 *
 * Scheduling invariants:
 * - vm->now is the start of the current slice; every vCPU's local time is >= vm->now while it runs,
 *   and events due at or before vm->now have fired before any vCPU runs in the slice.
 * - vm->slice_end only shrinks during a slice: scheduling an event earlier than it pulls it in, so
 * a timer armed by an exit handler fires at its own time, not at the end of a quantum.
 * - vCPUs run in index order inside a slice; ties between events break by insertion sequence.
 * Everything here is a function of the scenario, the run and the seed. */
#ifndef HVSIM_VM_INT_H
#define HVSIM_VM_INT_H

#include <hvsim/evq.h>
#include <hvsim/hv.h>
#include <hvsim/prng.h>
#include <hvsim/cpu_state.h>
#include <hvsim/vm.h>
#include <hvsim/vmx.h>

#include "backend.h"
#include "mem_track.h"

/* Event kinds in the queue. */
enum vm_event_kind {
	VMEV_SCENARIO = 1,  /* data: index into sc->events */
	VMEV_HV_TIMER = 2,  /* data: the algorithm's cookie */
	VMEV_VMX_TIMER = 3, /* a vCPU's VMX-preemption timer expires */
};

enum vcpu_state {
	VS_ROOT = 0,    /* in the hypervisor: vcpu_run is due */
	VS_GUEST = 1,   /* guest runs */
	VS_BLOCKED = 2, /* waits in the hypervisor for a kick */
	VS_DONE = 3,    /* finished for the rest of the run */
	VS_HALTED = 4,  /* halted in the guest (HLT not intercepted) until an interrupt or a kick */
};

/* How many vcpu_run calls in a row may leave the vCPU in root mode before the engine stops it. */
#define HV_IDLE_CALLS_MAX 64

struct vmx_shadow;

struct hvsim_vcpu {
	hvsim_vm *vm;
	unsigned index;
	void *priv;
	uint8_t state;       /* enum vcpu_state */
	uint64_t now;        /* local virtual time, ns */
	uint64_t insns;      /* guest instructions retired */
	unsigned idle_calls; /* consecutive vcpu_run calls without leaving root mode */
	bool has_exit;       /* exit is readable: set by an exit, cleared when vcpu_run returns */
	bool exit_cost_due;  /* the next entry pays machine.exit_ns for the last exit */
	struct hvsim_exit exit;
	int16_t pending_vector;  /* generic injection waiting for the next entry, -1: none */
	uint32_t intercepts;     /* GOP_BIT kinds that exit (generic hardware) */
	uint64_t tsc_offset;     /* added to the scaled TSC (two's complement) */
	uint64_t tsc_multiplier; /* 48 fraction bits; 1 << 48 is 1.0 */
	uint32_t tsc_aux;        /* IA32_TSC_AUX, returned by RDTSCP in ECX */
	const struct guest_backend_ops *be;
	void *be_ctx;
	struct vmx_cpu *vmx; /* this vCPU's VMX logical processor, NULL without VMX */
	bool vmx_exited;     /* vcpu_run follows a VM exit */
	uint64_t vmx_exits;  /* VM exits of this vCPU so far */
	bool vmx_has_op;     /* vmx_op is the operation behind that exit */
	struct guest_op vmx_op;
	bool nonroot;               /* in VMX non-root operation (vmx_nonroot.c) */
	bool vmx_kick;              /* a host interrupt is pending for the non-root guest */
	sim_ev_handle vmx_timer;    /* engine event of the VMX-preemption timer, 0: none */
	struct cpu_state vmx_guest; /* guest state the backend does not hold */
	uint64_t vmx_be_cr[3];      /* CR0, CR3, CR4 as last written into the backend */
	uint8_t vmx_be_cr_valid;    /* bit i: vmx_be_cr[i] is known */
	struct vmx_shadow *shadow;  /* L1's VMX processor for the instruction oracle
	                               (vmx_shadow_int.h); NULL: no capabilities declared */
};

struct hvsim_vm {
	const struct hvsim_scenario *sc;
	size_t run;
	const struct hvsim_hv_ops *hv;
	void *hv_priv;
	const char **quirk_values; /* per hv->quirks entry: selected value */
	const char *refusal;       /* why vm_create refused the machine (hvsim_vm_refuse) */
	sim_evq *evq;
	struct sim_prng prng;
	uint64_t now;         /* slice start, ns */
	uint64_t slice_end;   /* ns */
	hvsim_vcpu *ctx_vcpu; /* vCPU whose time is "now" for services, NULL: vm->now */
	trace_writer *trace;
	struct oracles *oracles;
	unsigned emit_depth; /* emit re-entry guard (oracles emitting findings) */
	uint8_t *mem;        /* guest RAM */
	uint64_t mem_size;
	struct mem_track track; /* pages written since RAM equalled a snapshot (snapshot.c) */
	uint64_t snap_serial;   /* serial of the VM's last snapshot (mem_track.base) */
	struct be_machine mach; /* RAM and MMIO map as backends see them (mach.mem == mem) */
	struct be_xmod xmod;    /* a code guest's cross-modifying code (mach.xmod with vCPUs > 1) */
	bool code_guest;        /* instruction-level guest (Unicorn), else a script */
	void *user;             /* struct hvsim_vm_opts.user */
	hvsim_vcpu *vcpus;
	unsigned n_vcpus;
	bool has_vmx; /* the CPU profile has VMX */
	struct vmx_caps vmx_caps;
	struct vmcs_store *vmcs_store;
	uint8_t *host_mem; /* hypervisor pages at HVSIM_HOST_MEM_BASE */
	size_t host_pages;
	enum hvsim_vm_state state;
	bool finished;
	bool stepped; /* a slice ran (hvsim_vm_reload needs a snapshot from before) */
	uint64_t
	    image_len; /* code guests: bytes of the image at guest.load_gpa (hvsim_vm_reload) */
	bool invariant_reported; /* oracles.invariants: a violation was reported (once a run) */
	struct hvsim_summary sum;
	struct hvsim_error err;
};

/* vm.c: queues the scenario's events (guest-visible order: file order). HVSIM_E_NOMEM. */
enum hvsim_status vm_schedule_events(hvsim_vm *vm, struct hvsim_error *err);
/* vm.c: the value of each of vm's algorithm's quirks that sc's run (vm->run) selects: the default,
 * then $.hypervisor.quirks, then the run's, as the algorithm's own strings, into values (one per
 * quirk). HVSIM_E_INPUT, err naming the setting, for a quirk or value the algorithm lacks. */
enum hvsim_status vm_quirk_values(const hvsim_vm *vm, const struct hvsim_scenario *sc,
                                  const char **values, struct hvsim_error *err);
/* vcpu.c */
enum hvsim_status vcpu_init(hvsim_vm *vm, hvsim_vcpu *v, unsigned index, struct hvsim_error *err);
/* vcpu_hw.c: the generic virtualization hardware */
/* Handles an operation the backend stopped at: an exit when intercepted, else completed in the
 * guest the way the CPU would. */
void vcpu_hw_op(hvsim_vcpu *v, const struct guest_op *op);
/* Applies an operation's result and moves RIP past it (or lets the backend execute it);
 * native says it completed without an exit. */
void vcpu_hw_complete(hvsim_vcpu *v, const struct guest_op *op, uint64_t result);
/* Retires op without executing it: RIP past it, one instruction of time (its effect was applied
 * by the caller). */
void vcpu_hw_skip(hvsim_vcpu *v, const struct guest_op *op);
/* vm_mmio.c */
/* Default MMIO map and page tables of a code guest; HVSIM_E_INPUT when they do not fit. */
enum hvsim_status vm_mmio_init(hvsim_vm *vm, struct hvsim_error *err);
/* Tells every vCPU's backend that guest memory [gpa, gpa+len) changed under it. */
void vm_mem_written(hvsim_vm *vm, uint64_t gpa, uint64_t len);
/* Sets up vm->xmod and vm->mach.xmod (backend.h) for vm's RAM. HVSIM_E_NOMEM. */
enum hvsim_status vm_xmod_init(hvsim_vm *vm);
void vcpu_fini(hvsim_vcpu *v);
/* The guest stopped for good (end of script, fault, bad access): finding and state. */
void vcpu_guest_stop(hvsim_vcpu *v, enum be_stop st, const char *why);
/* A GOP_MMIO fetch or not_mov access that no VM exit took: guest_bad_access (fetch) or
 * guest_fault (not_mov), the vCPU ends. */
void vcpu_mmio_stop(hvsim_vcpu *v, const struct guest_op *op);
/* Whether op is a fetch or not_mov access (hvsim moves no data for it). */
static inline bool vcpu_mmio_no_data(const struct guest_op *op)
{
	return op->kind == GOP_MMIO && (op->u.mmio.fetch || op->u.mmio.not_mov);
}
/* vcpu_hw.c: the operands an exit line carries for op (docs/trace-format.md "exit"). */
void vcpu_exit_fields(struct trace_ev *e, const struct guest_op *op);
void vcpu_emit(hvsim_vcpu *v, const char *ev, uint8_t level, const char *key, const char *val);
/* Runs v until its local time reaches vm->slice_end or it blocks, finishes or the run ends. */
void vcpu_run_slice(hvsim_vcpu *v);
bool vcpu_runnable(const hvsim_vcpu *v);

/* emit.c */
void vm_emit(hvsim_vm *vm, const struct trace_ev *e);
void vm_finding(hvsim_vm *vm, int32_t vcpu, uint64_t t, const char *kind, const char *detail);
/* Ends the run: records the reason, writes nothing (hvsim_vm_finish writes "end"). */
void vm_end(hvsim_vm *vm, const char *reason);
/* Ends the run on an hvsim bug or trace failure. */
void vm_fail(hvsim_vm *vm, enum hvsim_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t vm_ctx_now(const hvsim_vm *vm);
/* vm.c: translation blocks the vCPUs' backends generated since the VM was created (0 for
 * scripted guests): a kept VM whose count grew large is better rebuilt (uc_cpu.c
 * UC_TB_FLUSH_AT). Pure. */
uint64_t vm_translations(const hvsim_vm *vm);
/* vm.c: schedules an engine event at at_ns (not before the current context's time), pulling the
 * slice end in; 0 when out of memory. */
sim_ev_handle vm_schedule(hvsim_vm *vm, uint64_t at_ns, uint32_t kind, int32_t vcpu, uint64_t data);
/* oracle_report_fn for the VM's oracles: records the finding. */
void vm_oracle_report(void *ctx, int32_t vcpu, uint64_t t, const char *kind, const char *detail);

#endif
