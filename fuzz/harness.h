/* The fuzzing harness framework (docs/fuzzing.md): a structure-aware byte reader, finding reports,
 * and the hooks each harness defines. A harness is one file: FZ_TARGET(...) plus
 * LLVMFuzzerTestOneInput() and an export function that maps an input to a scenario. The same file
 * links three ways: with libFuzzer (clang -fsanitize=fuzzer), with AFL++'s libFuzzer-compatible
 * driver (afl-clang-fast -fsanitize=fuzzer), and with replay_main.c into a plain replay binary. */
#ifndef HVSIM_FUZZ_HARNESS_H
#define HVSIM_FUZZ_HARNESS_H

#include <hvsim/base.h>

#include <stdio.h>

/* ---- The byte reader: each take consumes input bytes; past the end every take reads zero ---- */

struct fz_in {
	const uint8_t *p;
	size_t len; /* bytes of input */
	size_t pos; /* bytes consumed */
};

/* Starts reading data[0..size). Can't fail. */
void fz_init(struct fz_in *in, const uint8_t *data, size_t size);
/* Bytes not yet consumed. */
size_t fz_left(const struct fz_in *in);
/* Little-endian integers of 1, 2, 4, 8 bytes; missing bytes read as zero. Can't fail. */
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
bool fz_bool(struct fz_in *in);
/* An index 0..n-1 (n >= 1; n == 0 gives 0), from one byte when n <= 256, else from four. */
size_t fz_choose(struct fz_in *in, size_t n);
/* A value in [lo, hi] (lo <= hi; otherwise lo). */
uint64_t fz_range(struct fz_in *in, uint64_t lo, uint64_t hi);
/* Either one of table[0..n) (interesting values: MSR numbers, field encodings) or, when the choice
 * byte is past the table, an arbitrary 64-bit value. n may be 0. */
uint64_t fz_pick(struct fz_in *in, const uint64_t *table, size_t n);
/* Copies up to max bytes, as many as the next length byte says; returns the count. */
size_t fz_bytes(struct fz_in *in, void *dst, size_t max);
/* Bounded loop condition: true while input remains and *iter < max, counting the iteration.
 * for (unsigned i = 0; fz_more(in, &i, 256);) { op = fz_choose(in, N_OPS); ... } */
bool fz_more(struct fz_in *in, unsigned *iter, unsigned max);
/* Reads f to its end into a malloc'd buffer (free it), *len bytes. NULL on a read error, when out
 * of memory, or past max bytes. */
uint8_t *fz_read_file(FILE *f, size_t max, size_t *len);
/* FNV-1a 64 of size bytes: names reproducers after their content. Can't fail. */
uint64_t fz_hash(const void *data, size_t size);
/* Folds v into *h with one multiply (a bijection of *h for a given v): the run hashes the
 * determinism checks compare. Can't fail. */
void fz_mix(uint64_t *h, uint64_t v);

/* ---- The byte writer: the reader's inverse, for seed generators and round-trip tests ---- */

struct fz_out {
	uint8_t *p;
	size_t len;    /* bytes written */
	size_t cap;    /* bytes available */
	bool overflow; /* a put did not fit (what fitted is kept) */
};

void fz_out_init(struct fz_out *o, uint8_t *buf, size_t cap);
/* Writes the low `bytes` bytes of v, little-endian, as fz_u8..fz_u64 read them. */
void fz_put(struct fz_out *o, uint64_t v, unsigned bytes);
/* The bytes fz_choose(in, n) reads back as index. */
void fz_put_choose(struct fz_out *o, size_t n, size_t index);
/* The bytes fz_pick(in, table, n) reads back as value: its first table index, else n and the
 * value. */
void fz_put_pick(struct fz_out *o, const uint64_t *table, size_t n, uint64_t value);

/* ---- Findings ---- */

enum fz_mode {
	FZ_ABORT = 0, /* default: print the report, then abort() so the fuzzer keeps the input */
	FZ_COUNT = 1, /* replay: print the report, count it, return */
	/* a recorded sequence (fz_seq.h): the harness chooses its checks as under a fuzzer (every
	 * mode but FZ_COUNT), and the report is counted as in FZ_COUNT */
	FZ_SEQUENCE = 2,
};

/* Reports a finding of the current target: kind is the invariant or oracle name
 * ("trace_nondeterministic"). Prints one line "==hvsim-fuzz== FINDING TARGET KIND: DETAIL" to
 * stderr; in FZ_ABORT mode it does not return. */
void fz_finding(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The invariant "deterministic": a finding unless the rerun of an input (hash b; b_kind, b_why: its
 * own finding, NULL when none) matches the first run (hash a) and same holds. */
void fz_check_rerun(bool same, uint64_t a, uint64_t b, const char *b_kind, const char *b_why);
void fz_set_mode(enum fz_mode mode);
enum fz_mode fz_get_mode(void);
/* Findings reported since the process started (FZ_COUNT mode). */
unsigned fz_findings(void);
/* The kind of the last finding reported ("" when none). */
const char *fz_last_kind(void);

/* ---- What each harness defines ---- */

struct fz_export_info {
	const char *file; /* in: the path the scenario is written to (messages name it) */
	char kind[32];    /* out: "scenario" (runnable), "invalid" (the loader rejects it) */
	char expect[HVSIM_ERR_MSG_MAX + 32]; /* out: what `hvsim run FILE` does with it */
};

/* Writes a scenario file reproducing the input to out. Returns 0 when written, 1 when this input
 * has no scenario form (info->expect says why), 2 when out could not be written. */
typedef int (*fz_export_fn)(const uint8_t *data, size_t size, FILE *out,
                            struct fz_export_info *info);

struct fz_target {
	const char *name;       /* "fuzz_scenario_json": the binary, corpus and dictionary name */
	fz_export_fn export_fn; /* NULL: this harness cannot export yet */
};

/* Each harness defines its target once: FZ_TARGET("fuzz_x", x_export); */
#define FZ_TARGET(name_, export_) const struct fz_target fz_target = {(name_), (export_)}
extern const struct fz_target fz_target;

/* libFuzzer's entry point, defined by the harness. Returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional process set-up a harness may define (libFuzzer, AFL++'s driver and the replay driver
 * call it once, before the first input). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
