/* The hand-made seed sets of every structure-aware harness, behind one interface: fzgen writes
 * them into fuzz/corpus/T/ and each seed operation into T's dictionary (fz_dict.c), and
 * tests/test_fuzz_gen.c checks the committed files against them. */
#ifndef HVSIM_FUZZ_SEED_SETS_H
#define HVSIM_FUZZ_SEED_SETS_H

#include "harness.h"

struct fz_seed_set {
	const char *target; /* the harness: its corpus directory is fuzz/corpus/TARGET */
	size_t (*count)(void);
	const char *(*name)(size_t i); /* the corpus file name of seed i */
	/* seed i's input bytes into buf; 0 when they do not fit in cap or the seed is bad */
	size_t (*bytes)(size_t i, uint8_t *buf, size_t cap);
	size_t (*n_ops)(size_t i); /* operations of seed i */
	/* operation k of seed i encoded into o; returns the operation's name ("wrmsr") */
	const char *(*op)(size_t i, size_t k, struct fz_out *o);
};

/* The i-th seed set, NULL past the end. Can't fail. */
const struct fz_seed_set *fz_seed_set_at(size_t i);
/* The seed set of target, NULL when it has none. */
const struct fz_seed_set *fz_seed_set_of(const char *target);

#endif
