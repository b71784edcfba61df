/* The built-in hypervisor algorithms, by name. */
#ifndef HVSIM_HV_REGISTRY_H
#define HVSIM_HV_REGISTRY_H

#include <hvsim/hv.h>

/* The built-in algorithm called name, or NULL. */
const struct hvsim_hv_ops *hvsim_hv_builtin(const char *name);
/* The i-th built-in algorithm, NULL past the end (for listings). */
const struct hvsim_hv_ops *hvsim_hv_builtin_at(size_t i);
/* Checks an algorithm table handed in by a plug-in: ABI version, size, required callbacks.
 * HVSIM_E_INPUT with a message saying what is wrong. */
enum hvsim_status hvsim_hv_validate(const struct hvsim_hv_ops *ops, struct hvsim_error *err);

#endif
