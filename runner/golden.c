/* Golden comparison: two traces are compared line by line, streaming. The report names the first
 * divergent line, shows the three lines before it (shared by both files) and the expected and the
 * actual line, so the reader sees where behaviour changed without a whole diff. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT_LINES 3

struct ring {
	char *line[CONTEXT_LINES];
	size_t next;
};

static void ring_push(struct ring *r, const char *s)
{
	free(r->line[r->next]);
	r->line[r->next] = strdup(s);
	r->next = (r->next + 1) % CONTEXT_LINES;
}

static void ring_free(struct ring *r)
{
	for (size_t i = 0; i < CONTEXT_LINES; i++)
		free(r->line[i]);
}

static void chomp(char *s, ssize_t *n)
{
	if (*n > 0 && s[*n - 1] == '\n')
		s[--*n] = '\0';
}

static void report(FILE *out, const struct ring *r, unsigned long lineno, const char *want,
                   const char *got)
{
	unsigned long first = lineno > CONTEXT_LINES ? lineno - CONTEXT_LINES : 1;

	fprintf(out, "  first difference at line %lu\n", lineno);
	for (unsigned long l = first; l < lineno; l++) {
		const char *s = r->line[(r->next + CONTEXT_LINES - (lineno - l)) % CONTEXT_LINES];

		fprintf(out, "    %6lu   %s\n", l, s ? s : "");
	}
	fprintf(out, "  expected:\n    %6lu - %s\n", lineno, want ? want : "(end of golden)");
	fprintf(out, "  actual:\n    %6lu + %s\n", lineno, got ? got : "(end of trace)");
}

enum golden_result cli_golden_compare(const char *golden, const char *actual, FILE *out,
                                      struct hvsim_error *err)
{
	FILE *g = fopen(golden, "r"), *a = fopen(actual, "r");
	char *gl = NULL, *al = NULL;
	size_t gcap = 0, acap = 0;
	struct ring ctx = {0};
	enum golden_result res = GOLDEN_MATCH;
	unsigned long lineno = 0;

	if (!g || !a) {
		hvsim_error_set(err, HVSIM_E_IO, "%s: cannot open: %s", g ? actual : golden,
		                strerror(errno));
		res = GOLDEN_ERROR;
	}
	while (res == GOLDEN_MATCH) {
		ssize_t gn = getline(&gl, &gcap, g), an = getline(&al, &acap, a);

		lineno++;
		if (gn < 0 && an < 0)
			break;
		if (gn >= 0)
			chomp(gl, &gn);
		if (an >= 0)
			chomp(al, &an);
		if (gn < 0 || an < 0 || strcmp(gl, al) != 0) {
			report(out, &ctx, lineno, gn < 0 ? NULL : gl, an < 0 ? NULL : al);
			res = GOLDEN_DIFFER;
			break;
		}
		ring_push(&ctx, gl);
	}
	ring_free(&ctx);
	free(gl);
	free(al);
	if (g)
		fclose(g);
	if (a)
		fclose(a);
	return res;
}
