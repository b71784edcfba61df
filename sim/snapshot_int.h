/* The snapshot's contents (snapshot.c takes and restores them; reload.c reuses a snapshot taken
 * before the VM ran for another scenario of the same machine). */
#ifndef HVSIM_SIM_SNAPSHOT_INT_H
#define HVSIM_SIM_SNAPSHOT_INT_H

#include "snapshot_mem.h"
#include "vm_int.h"

struct hvsim_snapshot {
	const hvsim_vm *vm;  /* the VM it belongs to */
	uint64_t serial;     /* the VM's count of snapshots when it was taken (mem_track.base) */
	struct snap_mem mem; /* guest RAM, sparse */
	struct sim_mmio_region mmio[SIM_MMIO_MAX];
	sim_evq *evq;
	struct sim_prng prng;
	uint64_t now, slice_end;
	enum hvsim_vm_state state;
	struct hvsim_summary sum;
	hvsim_vcpu *vcpus;       /* engine-side copies; their backend pointers are not used */
	void **be;               /* per vCPU backend snapshot */
	struct oracles *oracles; /* NULL when the VM has none */
	bool invariant_reported;
	bool stepped;                    /* hvsim_vm_reload: false, the VM had not run */
	const struct hvsim_scenario *sc; /* what the VM ran (hvsim_vm_reload compares) */
	uint64_t image_len;              /* bytes of the code guest's image in mem */
	uint64_t trace_lines;            /* lines the trace writer had written */
	void *vmx;                       /* vmx_snapshot_take, NULL without VMX */
	void *hv;                        /* the algorithm's snapshot */
};

#endif
