/* The VMX machine fuzz_vmcs_entry drives: the vmx-replay algorithm's machine (hv/vmx_replay_int.h:
 * one logical processor in VMX root operation over a CPU profile, its VMCS store and a small
 * simulated memory, started from the known-good fixture), so that an exported finding replays
 * under `hvsim run` on the same code. A pristine machine is made once per profile; every input
 * starts from a copy (the processor and store structs, and only the memory pages the previous
 * input wrote), never from re-creation. The named invariants are the library's
 * (vmx_replay_inv_*, run by vmx_replay_execute). */
#ifndef HVSIM_FUZZ_VMX_H
#define HVSIM_FUZZ_VMX_H

#include "../hv/vmx_replay_int.h"

#include <stdio.h>

#define FZ_VMX_PROFILES_MAX 8
#define FZ_VMX_WHY_MAX      VMX_REPLAY_WHY_MAX

/* What happened over a run: seed tests check these, the determinism hash covers them. */
struct fz_vmx_stats {
	unsigned entered;    /* VMLAUNCH/VMRESUME that passed every check */
	unsigned fail_ctrl;  /* VMfailValid(7) */
	unsigned fail_host;  /* VMfailValid(8) */
	unsigned exit_guest; /* VM-entry failure, exit reason 33 */
	unsigned exit_msr;   /* VM-entry failure, exit reason 34 */
	unsigned vmfail;     /* other VMfailValid / VMfailInvalid */
	unsigned faults;     /* #UD, #GP(0) */
	unsigned vmwrites;   /* successful VMWRITEs */
};

struct fz_vmx_sys {
	unsigned profile;            /* index into vmx_profile_names() */
	struct vmx_replay_machine m; /* the live machine (hv/vmx_replay_int.h) */
	struct fz_vmx_stats stats;
	uint64_t hash; /* every result mixed in (fz_vmx_mix): the determinism check compares it */
	struct vmx_result last_entry; /* the last VMLAUNCH/VMRESUME's result (outcome 0: none) */
	bool entry_seen;
	/* The first violation found while running an operation: kind or NULL, and why. */
	const char *bad;
	char why[FZ_VMX_WHY_MAX];
	/* Optional (tests): called after every instruction with what ran and its result. */
	void (*log)(void *ctx, const struct vmx_replay_insn_op *op, const struct vmx_result *res);
	void *log_ctx;
};

/* Number of embedded profiles usable here (at most FZ_VMX_PROFILES_MAX). Can't fail. */
unsigned fz_vmx_profile_count(void);
/* Allocates the live machine. HVSIM_E_NOMEM when out of memory (nothing to free then). */
enum hvsim_status fz_vmx_create(struct fz_vmx_sys *s);
/* Frees what fz_vmx_create made; safe on a failed or zeroed machine. */
void fz_vmx_destroy(struct fz_vmx_sys *s);
/* Puts the known-good fixture of profile (taken modulo the count) in place by copying the
 * pristine machine. HVSIM_E_INPUT when the profile does not load or the fixture does not reach
 * VMX root operation with a current VMCS (err says why); HVSIM_E_NOMEM. */
enum hvsim_status fz_vmx_load(struct fz_vmx_sys *s, unsigned profile, struct hvsim_error *err);
/* The known-good value of the field at dense index i (vmcs_field_at order); 0 past the table. */
uint64_t fz_vmx_fixture_value(const struct fz_vmx_sys *s, size_t i);
/* The processor's mode inputs in the fixture (VMX root, CPL 0, 64-bit). Can't fail. */
const struct vmx_cpu_mode *fz_vmx_fixture_mode(const struct fz_vmx_sys *s);
/* Records a violation (the first one of an operation wins). Can't fail. */
void fz_vmx_flag(struct fz_vmx_sys *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mixes a result into the determinism hash. Can't fail. */
void fz_vmx_mix(struct fz_vmx_sys *s, uint64_t v);

#endif
