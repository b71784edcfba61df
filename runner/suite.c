/* Loading a scenario library for check and bless: all files parse or nothing runs. */
#include "suite.h"

#include <stdlib.h>
#include <string.h>

static bool add_jobs(struct suite *s, size_t sc, const char *run_filter)
{
	const struct hvsim_scenario *x = s->scs[sc];
	struct job *jobs = realloc(s->jobs, (s->n_jobs + x->n_runs) * sizeof(*jobs));

	if (!jobs)
		return false;
	s->jobs = jobs;
	for (size_t r = 0; r < x->n_runs; r++)
		if (!run_filter || strcmp(run_filter, x->runs[r].name) == 0)
			s->jobs[s->n_jobs++] = (struct job){.sc = sc, .run = r};
	return true;
}

static bool unique_name(const struct suite *s, size_t i)
{
	for (size_t k = 0; k < i; k++) {
		if (strcmp(s->scs[k]->name, s->scs[i]->name) == 0) {
			fprintf(stderr,
			        "%s: $.name: expected a scenario name not used by %s, found "
			        "\"%s\"\n",
			        s->scs[i]->file, s->scs[k]->file, s->scs[i]->name);
			return false;
		}
	}
	return true;
}

bool suite_load(struct suite *s, char **paths, int n, bool check_goldens, const char *run_filter)
{
	struct hvsim_error err = {0};
	size_t count = 0;
	char **files = cli_collect(paths, n, &count, &err);
	bool ok = files != NULL;

	memset(s, 0, sizeof(*s));
	if (!files) {
		fprintf(stderr, "hvsim: %s\n", err.msg);
		return false;
	}
	s->scs = calloc(count ? count : 1, sizeof(*s->scs));
	if (!s->scs) {
		cli_free_list(files, count);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		struct hvsim_scenario *sc = cli_load_scenario(files[i], check_goldens, &err);

		if (!sc) {
			fprintf(stderr, "%s\n", err.msg);
			ok = false;
			continue;
		}
		s->scs[s->n_scs++] = sc;
		if (!unique_name(s, s->n_scs - 1))
			ok = false;
		else if (!add_jobs(s, s->n_scs - 1, run_filter))
			ok = false;
	}
	cli_free_list(files, count);
	return ok;
}

void suite_shard(struct suite *s, size_t index, size_t count)
{
	size_t kept = 0;

	for (size_t k = 0; k < s->n_jobs; k++)
		if (k % count == index)
			s->jobs[kept++] = s->jobs[k];
	s->n_jobs = kept;
}

void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n_scs; i++)
		hvsim_scenario_free(s->scs[i]);
	free(s->scs);
	free(s->jobs);
	memset(s, 0, sizeof(*s));
}

bool suite_golden(const struct suite *s, const struct job *j, char *buf, size_t cap)
{
	const struct hvsim_scenario *sc = s->scs[j->sc];

	return hvsim_scenario_path(sc, sc->runs[j->run].golden, buf, cap);
}
