/* Finding reports of the fuzzing harnesses. The mode and the count are process state: a fuzzer runs
 * one harness per process and libFuzzer's entry point has no context argument. Nothing here is part
 * of the simulator; a report is how a harness tells the fuzzer that an input is worth keeping. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

static enum fz_mode mode = FZ_ABORT;
static unsigned n_findings;
static char last_kind[64];

void fz_set_mode(enum fz_mode m)
{
	mode = m;
}

enum fz_mode fz_get_mode(void)
{
	return mode;
}

unsigned fz_findings(void)
{
	return n_findings;
}

const char *fz_last_kind(void)
{
	return last_kind;
}

void fz_finding(const char *kind, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "==hvsim-fuzz== FINDING %s %s: ", fz_target.name, kind);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	snprintf(last_kind, sizeof(last_kind), "%s", kind);
	n_findings++;
	if (mode == FZ_ABORT)
		abort(); /* the fuzzer's crash handler saves the input */
}

void fz_check_rerun(bool same, uint64_t a, uint64_t b, const char *b_kind, const char *b_why)
{
	if (same && !b_kind && a == b)
		return;
	fz_finding("deterministic", "two runs of one input differ: hash %016llx vs %016llx%s%s",
	           (unsigned long long)a, (unsigned long long)b, b_kind ? "; second run: " : "",
	           b_kind ? b_why : "");
}
