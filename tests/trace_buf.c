/* Test utility (trace_buf.h): the whole trace in memory, for tests that compare trace bytes. */
#include "trace_buf.h"

#include <stdlib.h>
#include <string.h>

bool trace_buf_write(void *ctx, const char *s, size_t n)
{
	struct trace_buf *b = ctx;

	if (b->len + n + 1 > b->cap) {
		char *q = realloc(b->p, (b->len + n + 1) * 2);

		if (!q)
			return false;
		b->p = q;
		b->cap = (b->len + n + 1) * 2;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}
