/* Private declarations of the "tdx-replay" algorithm (hv/tdx_replay*.c), shared with the
 * fuzz_tdx_seamcall harness (fuzz/fz_tdx*.c) and the tests, so that the harness and a replayed run
 * execute one copy of everything: the machine, the call executor and the named TDX invariants.
 *
 * The machine. A TDX module model (include/hvsim/tdx.h) reset to the configuration a scenario or
 * input names, a second model holding the state before the running call, and the vCPU-to-LP map
 * the association rule keeps independently of the model. It is private to its owner: no engine vCPU
 * issues SEAMCALLs.
 *
 * Calls. tdx_replay_seamcall, tdx_replay_tdcall and tdx_replay_td_exit execute one call with
 * concrete registers and run every named invariant that applies after it (the names fuzz
 * findings and the run's invariant_violation findings carry): tdx_check, page_owner_function,
 * pamt_type_consistent, status_known, failure_without_effect, lifecycle_order,
 * vcpu_lp_association; and, checking the executor's own shortcut, write_recorded. */
#ifndef HVSIM_TDX_REPLAY_INT_H
#define HVSIM_TDX_REPLAY_INT_H

#include "replay.h"

#include <hvsim/trace.h>

#include "../models/tdx/tdx_int.h"

#define TDX_REPLAY_WHY_MAX  384     /* bytes of an invariant's failure reason */
#define TDX_REPLAY_RESETS   256     /* configurations whose reset state the fast mode knows */
#define TDX_REPLAY_NOT_LEAF 0xffffu /* the "leaf" of a TDCALL or exit for the PAMT rule */

struct tdx_replay_machine {
	struct tdx_module *m;
	struct tdx_module *before;               /* the state before the running call */
	uint8_t assoc[TDX_TD_MAX][TDX_VCPU_MAX]; /* vCPU -> LP since its last entry, TDX_NONE */
	/* Between calls: before holds the state after the last call when every state invariant
	 * (tdx_check, page_owner_function, pamt_type_consistent, failure_without_effect) held on
	 * it; the next call then starts from it without a copy, and its checks read only the bytes
	 * that changed since (a module byte for byte as that state passes as it did). m is written
	 * only by the calls and tdx_replay_reset: a write between two calls counts as the next
	 * call's. False: the next call copies m into before and checks in full. */
	bool checked;
	/* How a call's changes are found. True (the default): the whole module is compared with
	 * before, and a change the model did not record (tdx_int.h, m->wrote) in a call that
	 * succeeded is the finding write_recorded. False: only the header and what the model
	 * recorded are compared, so a change it did not record goes unseen: the fuzzer's first run
	 * of an input, whose rerun (fuzz/fuzz_tdx_seamcall.c) and every replay are full. */
	bool full;
	/* The calls run the model's second, uninstrumented compilation (tdx_plain_*,
	 * models/tdx/tdx_int.h): same results and effects. fuzz_tdx_seamcall's determinism rerun
	 * sets it, so that the rerun adds no edge counts or comparisons to the input's coverage. */
	bool plain;
	/* Full mode: a reset to a configuration of reset_ok counts as checked, as in fast mode (the
	 * fuzzer's runs, whose first run of an input checked it). False (the default): a full-mode
	 * reset is checked in full after the next call, and a write to m before it counts as the
	 * reset's (a replay's module is checked as it stands). */
	bool keep_resets;
	/* Fast mode (full mode with keep_resets): configurations whose reset state the state
	 * invariants (tdx_check, page_owner_function) held on. A reset state is a function of its
	 * configuration alone, so after a reset to one of them before is reset too and counts as
	 * checked (no copy, and the first call is checked on what it changed; a full-mode call
	 * still compares the whole module). Slot: a hash of the configuration, or one of the
	 * next 7 when that is taken. */
	struct tdx_config reset_ok[TDX_REPLAY_RESETS];
	uint64_t reset_known[TDX_REPLAY_RESETS / 64]; /* bit per slot of reset_ok in use */
};

/* The calls a replay executes. */
enum tdx_replay_call { TDX_REPLAY_SEAMCALL, TDX_REPLAY_TDCALL, TDX_REPLAY_TD_EXIT };

/* One call, its outcome and the first invariant it broke. */
struct tdx_replay_step {
	uint8_t call;        /* enum tdx_replay_call */
	unsigned lp;         /* the LP it executed on */
	struct tdx_regs in;  /* SEAMCALL: RAX RCX RDX R8 R9; TDCALL: RAX RCX RDX R11 */
	struct tdx_regs out; /* SEAMCALL: the registers after; TDCALL: the guest's after */
	bool exited; /* TDCALL, exit: the TD exited; host then holds TDH.VP.ENTER's return */
	struct tdx_regs host;
	const char *bad; /* the broken invariant's name, NULL when all hold */
	char why[TDX_REPLAY_WHY_MAX];
};

/* ---- The machine and its calls (tdx_replay_exec.c) ---- */

/* Two models (each a fixed-size allocation any configuration fits), no vCPU associated.
 * HVSIM_E_NOMEM (destroy is still safe). */
enum hvsim_status tdx_replay_machine_create(struct tdx_replay_machine *mc);
/* Frees what create made; safe on a zeroed or failed machine. */
void tdx_replay_machine_destroy(struct tdx_replay_machine *mc);
/* The module back in its initial state under cfg, no vCPU associated. HVSIM_E_INPUT (err says
 * which field) for a configuration out of range (mc then unchanged). */
enum hvsim_status tdx_replay_reset(struct tdx_replay_machine *mc, const struct tdx_config *cfg,
                                   struct hvsim_error *err);
/* SEAMCALL on lp (taken modulo TDX_LP_MAX) with RAX RCX RDX R8 R9 of in, then the invariants
 * (*out). Can't fail. */
void tdx_replay_seamcall(struct tdx_replay_machine *mc, unsigned lp, const struct tdx_regs *in,
                         struct tdx_replay_step *out);
/* TDCALL from the vCPU running on lp with RAX RCX RDX R11 of in, then the invariants. Can't fail.
 */
void tdx_replay_tdcall(struct tdx_replay_machine *mc, unsigned lp, const struct tdx_regs *in,
                       struct tdx_replay_step *out);
/* An external interrupt ends the TD running on lp (nothing when none), then the invariants.
 * Can't fail. */
void tdx_replay_td_exit(struct tdx_replay_machine *mc, unsigned lp, struct tdx_replay_step *out);
/* The status a step's outcome is judged by: SEAMCALL RAX, a TD exit's RAX, else the guest's RAX.
 * Pure. */
uint64_t tdx_replay_status(const struct tdx_replay_step *s);

/* ---- Host events and trace lines (tdx_replay_events.c) ---- */

enum tdx_replay_act_kind {
	TDX_REPLAY_ACT_PART,  /* a configuration field or a staged register: nothing to do yet */
	TDX_REPLAY_ACT_RESET, /* tdx_reset with cfg */
	TDX_REPLAY_ACT_CALL,  /* call on lp with regs */
};

struct tdx_replay_action {
	uint8_t kind; /* enum tdx_replay_act_kind */
	uint8_t call; /* enum tdx_replay_call */
	unsigned lp;
	struct tdx_regs regs;
	struct tdx_config cfg;
};

/* The parser's state between events: zero-initialize it before the first. */
struct tdx_replay_parser {
	struct tdx_config cfg;
	uint8_t cfg_set;   /* bit per configuration field seen since the last tdx_module */
	bool loaded;       /* tdx_module seen */
	uint8_t staged;    /* bit per register staged for the next call */
	struct tdx_regs r; /* the staged registers */
};

/* Takes the next host event. NULL and *out when it is valid (ACT_PART while a call or the
 * configuration is incomplete); otherwise a static string saying what is wrong with it. */
const char *tdx_replay_parse(struct tdx_replay_parser *p, const char *action, uint64_t arg,
                             struct tdx_replay_action *out);
/* After the last event: NULL, or why the events cannot end here (staged registers unused). */
const char *tdx_replay_parse_end(const struct tdx_replay_parser *p);
/* The trace line of one executed call (ev "tdx_call", docs/trace-format.md). Strings are
 * borrowed from static tables. Can't fail. */
void tdx_replay_trace_call(struct trace_ev *e, uint64_t t, int32_t vcpu,
                           const struct tdx_replay_step *s);
/* The TDCALL leaf's name ("TDG.VP.VMCALL"), or "?". Can't fail. */
const char *tdx_replay_tdcall_name(uint64_t leaf);

/* ---- The algorithm's state (tdx_replay.c) ---- */

struct tdx_replay {
	struct tdx_replay_machine mc;
	struct tdx_replay_parser parser;
	struct replay_run run; /* events taken, the first broken invariant, a refusal */
};

/* ---- Named invariants (tdx_replay_inv.c): true when the rule holds ---- */

/* page_owner_function: every page a TD holds has one owner, a live TD whose TDR it names; the
 * per-TD counts (CHLDCNT, TDCX, TDVPX) equal the pages; no GPA of a TD maps two pages. */
bool tdx_replay_inv_page_owner(const struct tdx_module *m, char *why, size_t cap);
/* pamt_type_consistent: from before to after one leaf, at most the pages that leaf may change
 * changed type, each along a transition the leaf makes (TDX base spec "PAMT"). */
bool tdx_replay_inv_pamt_types(const struct tdx_module *b, const struct tdx_module *a,
                               unsigned leaf, uint64_t status, char *why, size_t cap);
/* status_known: the status is one the TDX ABI defines (tdx_status_known). */
bool tdx_replay_inv_status_known(uint64_t status, char *why, size_t cap);
/* tdx_replay_diff over the bytes [lo, hi) (clipped to a's used ones) only. Pure. */
bool tdx_replay_diff_range(const struct tdx_module *a, const struct tdx_module *b, size_t lo,
                           size_t hi, size_t *first, size_t *end);
/* True when a and b hold the same bytes up to a's used ones (tdx_used_bytes). Pure. */
bool tdx_replay_same(const struct tdx_module *a, const struct tdx_module *b);
/* Where a and b differ, up to a's used bytes: false when nowhere; else true with [*first, *end)
 * from the first differing byte to just past the last. Pure. */
bool tdx_replay_diff(const struct tdx_module *a, const struct tdx_module *b, size_t *first,
                     size_t *end);
/* page_owner_function's verdict on a, given that it held on b and that a holds b's bytes except
 * in its header (everything before the PAMT) and in the PAMT entries [lo, hi). Pure. */
bool tdx_replay_page_owner_since(const struct tdx_module *b, const struct tdx_module *a,
                                 uint32_t lo, uint32_t hi);
/* pamt_type_consistent's verdict when only the PAMT entries [lo, hi) may differ. Pure. */
bool tdx_replay_pamt_types_since(const struct tdx_module *b, const struct tdx_module *a,
                                 unsigned leaf, uint64_t status, uint32_t lo, uint32_t hi);
/* failure_without_effect: an error or warning status left the module byte for byte unchanged. */
bool tdx_replay_inv_no_effect(const struct tdx_module *b, const struct tdx_module *a,
                              uint64_t status, char *why, size_t cap);
/* lifecycle_order: a TD leaf succeeded only with the module ready; ADD/EXTEND only before
 * finalization, AUG/ENTER only after; on a TD in teardown nothing but TDH.MNG.RD (which reads)
 * succeeds with its TDR or TDVPR; PAGE.REMOVE only of a blocked page after a TDH.MEM.TRACK,
 * VPFLUSHDONE only with every vCPU flushed, KEY.FREEID only after every package's CACHE.WB. */
bool tdx_replay_inv_lifecycle(const struct tdx_module *b, unsigned leaf, const struct tdx_regs *in,
                              uint64_t status, char *why, size_t cap);
/* vcpu_lp_association: a vCPU entered only on the LP it stayed associated with since its last
 * entry (the machine's own map), and no two LPs run one vCPU. */
bool tdx_replay_inv_association(const struct tdx_replay_machine *mc, unsigned lp, unsigned leaf,
                                const struct tdx_regs *in, uint64_t status, char *why, size_t cap);

#endif
