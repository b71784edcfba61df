/* Recorded input sequences (docs/fuzzing.md "Findings that need a history"). A harness keeps
 * process state between inputs (fuzz_hv_transitions' kept machines), so a finding may need the
 * inputs the fuzzer ran before it. A libFuzzer harness records every input it runs when
 * HVSIM_FUZZ_SEQUENCE names a directory (fuzz/seq_record.c); the replay binary replays such a
 * log in one process and reduces it to the few inputs the finding needs (fuzz/seq_replay.c).
 *
 * The log: the 8 bytes "hvsimseq", then one record per input: its length as 4 bytes
 * little-endian, then its bytes. A log cut inside a record (the process died writing it) ends
 * with the last whole record. */
#ifndef HVSIM_FUZZ_SEQ_H
#define HVSIM_FUZZ_SEQ_H

#include <hvsim/base.h>

#include <stdio.h>

#define FZ_SEQ_MAGIC     "hvsimseq"
#define FZ_SEQ_MAGIC_LEN 8u

struct fz_seq {
	uint8_t *buf; /* the whole file */
	size_t len;
	size_t n;       /* whole records */
	size_t *off;    /* offset of record i's bytes in buf */
	uint32_t *size; /* record i's length */
	bool truncated; /* bytes after the last whole record */
};

/* Reads the log at path. False with why filled (cap bytes) when it cannot be read, does not
 * start with the magic, or memory runs out; s then needs no free. */
bool fz_seq_load(const char *path, struct fz_seq *s, char *why, size_t cap);
void fz_seq_free(struct fz_seq *s);
/* The 4 bytes that announce a record of size bytes. Can't fail. */
void fz_seq_len(uint8_t out[4], uint32_t size);
/* Writes the magic, or one record, to f. False on a write error. */
bool fz_seq_put_magic(FILE *f);
bool fz_seq_put(FILE *f, const uint8_t *data, uint32_t size);

/* Runs the records sel[0..n) in order from a fresh process state; true when the finding being
 * reduced shows at the last of them. */
typedef bool (*fz_seq_trial_fn)(void *ctx, const size_t *sel, size_t n);

struct fz_seq_reduce {
	size_t trials;     /* trials run */
	size_t max_trials; /* budget (0: none); the reduction stops where it is when spent */
	bool spent;        /* the budget ran out */
};

/* Reduces the history the finding at the last record of sel[0..*n) needs (sel lists record
 * numbers in order). First the shortest run of sel ending with that record that still shows
 * it: suffixes of doubling length from the end, then bisection on the start. Then records are
 * left out while it still shows (ddmin, complements of ever smaller chunks). On return
 * sel[0..*n) is the smaller sequence, still ending with that record. False, sel unchanged, when
 * no suffix showed it (the whole of sel included) within the budget. */
bool fz_seq_reduce(size_t *sel, size_t *n, fz_seq_trial_fn trial, void *ctx,
                   struct fz_seq_reduce *r);

/* The replay binary's --sequence command (seq_replay.c): argv as main's. Returns the exit
 * status. */
int fz_seq_replay_main(int argc, char **argv);

#endif
