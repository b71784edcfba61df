/* Loading a hypervisor algorithm from a shared object (--hv PATH.so). The object exports
 * hvsim_hv_plugin(), which returns its algorithm table; the table is checked before use. */
#include "cli.h"

#include <hvsim/hv_registry.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef const struct hvsim_hv_ops *(*plugin_fn)(void);

const struct hvsim_hv_ops *cli_load_plugin(const char *path, struct hvsim_error *err)
{
	char local[4096];
	const struct hvsim_hv_ops *ops;
	plugin_fn fn;
	void *h;

	/* A bare name means the file here, not a search of the library path. */
	snprintf(local, sizeof(local), "%s%s", strchr(path, '/') ? "" : "./", path);
	h = dlopen(local, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: cannot load: %s", path, dlerror());
		return NULL;
	}
	*(void **)&fn = dlsym(h, HVSIM_HV_PLUGIN_SYMBOL);
	if (!fn) {
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: does not export %s()", path,
		                HVSIM_HV_PLUGIN_SYMBOL);
		dlclose(h);
		return NULL;
	}
	ops = fn();
	if (!ops) {
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: %s() returned NULL", path,
		                HVSIM_HV_PLUGIN_SYMBOL);
		dlclose(h);
		return NULL;
	}
	if (hvsim_hv_validate(ops, err) != HVSIM_OK) {
		char msg[HVSIM_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: %s", path, msg);
		dlclose(h);
		return NULL;
	}
	return ops;
}
