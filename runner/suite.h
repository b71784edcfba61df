/* A loaded set of scenarios and the (scenario, run) jobs drawn from them: shared by check and
 * bless, which both run many scenarios and compare with goldens. */
#ifndef HVSIM_SUITE_H
#define HVSIM_SUITE_H

#include "cli.h"

struct job {
	size_t sc; /* index into suite.scs */
	size_t run;
};

struct suite {
	struct hvsim_scenario **scs;
	size_t n_scs;
	struct job *jobs;
	size_t n_jobs;
};

/* Loads every scenario under paths; prints each error to stderr. False when any file was bad
 * (nothing runs then) or two scenarios share a name. run_filter: only runs of that name. */
bool suite_load(struct suite *s, char **paths, int n, bool check_goldens, const char *run_filter);
/* Keeps jobs k with k % count == index (0-based), for CI matrices. */
void suite_shard(struct suite *s, size_t index, size_t count);
void suite_free(struct suite *s);
/* Where job j's golden lives. */
bool suite_golden(const struct suite *s, const struct job *j, char *buf, size_t cap);

#endif
