/* fz_why.h: the failure reason of a fuzz invariant. */
#include "fz_why.h"

#include <stdarg.h>
#include <stdio.h>

bool fz_fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}
