/* hvsim base types: status codes, the error record, the version. Every public header includes this.
 */
#ifndef HVSIM_BASE_H
#define HVSIM_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVSIM_VERSION_MAJOR 0
#define HVSIM_VERSION_MINOR 1
#define HVSIM_VERSION_PATCH 0
#define HVSIM_VERSION       "0.1.0"

/* Library-level status. Architectural outcomes (VMfail, #GP, TDX status) are never statuses: they
 * are results carried in the result structs of the model that produced them. */
enum hvsim_status {
	HVSIM_OK = 0,
	HVSIM_E_INPUT = 1,    /* bad scenario, bad argument from a plugin or a fuzzer */
	HVSIM_E_NOMEM = 2,    /* allocation failed */
	HVSIM_E_IO = 3,       /* a host file could not be read or written */
	HVSIM_E_INTERNAL = 4, /* an hvsim invariant broke: a bug in hvsim, logged, never an abort */
	HVSIM_E_UNSUPPORTED = 5,
};

#define HVSIM_ERR_MSG_MAX 512

/* The one error record handed out of the library: a message ready to print. */
struct hvsim_error {
	enum hvsim_status status;
	char msg[HVSIM_ERR_MSG_MAX];
};

/* Fills err (when non-NULL) with status and a printf-style message; returns status. */
enum hvsim_status hvsim_error_set(struct hvsim_error *err, enum hvsim_status status,
                                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The library's version string, HVSIM_VERSION. Can't fail. */
const char *hvsim_version(void);

#endif
