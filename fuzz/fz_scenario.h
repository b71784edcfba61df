/* Scenario-level pieces of the fuzzing harnesses: the limits a fuzzed scenario runs under, a trace
 * collector, and the named invariants of the scenario loader and the engine. Shared by
 * fuzz_scenario_json.c, its export, and the unit tests (tests/test_fuzz_scenario.c). Each invariant
 * returns true when it holds; otherwise it writes what broke into why and returns false. */
#ifndef HVSIM_FUZZ_SCENARIO_H
#define HVSIM_FUZZ_SCENARIO_H

#include <hvsim/scenario.h>
#include <hvsim/trace.h>
#include <hvsim/vm.h>

#define FZ_SCENARIO_FILE "fuzz.json" /* the file name fuzzed text is parsed as */

/* What one fuzzed scenario may cost: small enough for thousands of executions per second. */
#define FZ_VIRTUAL_NS_MAX 2000000 /* 2 ms of virtual time */
/* guest instructions, all vCPUs: a guest rewriting the code it runs costs Unicorn a
 * retranslation per instruction (about 4 us), so an input's runs stay well under its timeout */
#define FZ_INSTRUCTIONS_MAX 100000
#define FZ_EXITS_MAX        2000
#define FZ_MEMORY_MIB_MAX   1
#define FZ_RUNS_MAX         4            /* runs executed per scenario */
#define FZ_SLICES_MAX       20000        /* vCPU quanta (quanta x vCPUs) a run may span */
#define FZ_TRACE_KEEP       (256u << 10) /* trace bytes kept for the line checks; all are hashed */

/* The limits a scenario runs under in the harness: its own, clamped to the FZ_*_MAX caps. The
 * export writes these into the reproducer so that `hvsim run` executes exactly what the harness
 * did. */
struct fz_limits {
	uint64_t virtual_ns;
	uint64_t instructions;
	uint64_t exits;
	uint32_t memory_mib;
	size_t n_runs; /* runs executed: the first n_runs of the scenario */
};

/* Computes the clamped limits of sc. Can't fail. */
void fz_scenario_limits(const struct hvsim_scenario *sc, struct fz_limits *out);
/* Writes l into sc (limits, memory). Can't fail. */
void fz_scenario_apply_limits(struct hvsim_scenario *sc, const struct fz_limits *l);

/* A trace sink that hashes every byte (FNV-1a 64) and keeps the first FZ_TRACE_KEEP bytes. */
struct fz_trace {
	char *buf;      /* kept bytes; NULL until the first write */
	size_t len;     /* bytes kept */
	size_t cap;     /* bytes allocated: doubles from 16 KiB up to FZ_TRACE_KEEP */
	uint64_t total; /* bytes written */
	uint64_t hash;  /* over the complete 8-byte words written (fz_trace_digest: all of it) */
	uint64_t pend;  /* the bytes of the incomplete word, total % 8 of them, little-endian */
	bool oom;       /* the buffer could not grow (kept bytes stop there) */
};

void fz_trace_init(struct fz_trace *t);
void fz_trace_free(struct fz_trace *t);
/* The sink to hand to hvsim_vm_opts.trace. Never fails (the hash covers what was not kept). */
struct trace_sink fz_trace_sink(struct fz_trace *t);
/* A hash of every byte written, and of their count. */
uint64_t fz_trace_digest(const struct fz_trace *t);

/* Loader contract (include/hvsim/scenario.h): OK with a scenario, or E_INPUT/E_NOMEM without one
 * and a message "FILE: $PATH: expected WHAT, found WHAT". */
bool fz_inv_parse_contract(enum hvsim_status st, const struct hvsim_scenario *sc,
                           const struct hvsim_error *err, const char *file, char *why, size_t cap);
/* An error message is one printable line: no control characters, no newline. */
bool fz_inv_error_printable(const struct hvsim_error *err, char *why, size_t cap);
/* A parsed scenario holds what the loader validated: counts and ranges, sorted events, handlers and
 * findings, one code source, bounded repeat nesting. */
bool fz_inv_scenario_valid(const struct hvsim_scenario *sc, char *why, size_t cap);
/* The summary agrees with itself and with the limits the run had. */
bool fz_inv_summary_consistent(const struct hvsim_summary *s, const struct hvsim_scenario *sc,
                               char *why, size_t cap);
/* Every kept trace line parses back (trace_parse_line), vCPU indexes exist, each vCPU's time never
 * goes backwards, the number of "finding" lines matches the summary, and the last line is "end". */
bool fz_inv_trace_wellformed(const struct fz_trace *t, const struct hvsim_scenario *sc,
                             const struct hvsim_summary *s, char *why, size_t cap);

#endif
