/* Error records and the version string: the two things every layer shares. */
#include <hvsim/base.h>

#include <stdarg.h>
#include <stdio.h>

enum hvsim_status hvsim_error_set(struct hvsim_error *err, enum hvsim_status status,
                                  const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return status;
	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return status;
}

const char *hvsim_version(void)
{
	return HVSIM_VERSION;
}
