/* Test utility: a trace sink that keeps every byte in a growable, NUL-terminated buffer. */
#ifndef HVSIM_TEST_TRACE_BUF_H
#define HVSIM_TEST_TRACE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct trace_buf {
	char *p; /* NULL until the first write */
	size_t len, cap;
};

/* A struct trace_sink write function; ctx is a struct trace_buf. False when out of memory. */
bool trace_buf_write(void *ctx, const char *s, size_t n);

#endif
