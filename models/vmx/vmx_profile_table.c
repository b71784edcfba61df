/* The embedded CPU profiles: their names (tools/embed.c) and their capabilities, parsed from
 * profiles/<name>.json at build time by the strict parser (tools/profile_tables.c generates the
 * table; the build fails on a profile that does not parse), so loading one per VM is a copy. */
#include "vmx_int.h"

#include <string.h>

extern const char *const vmx_profile_data_names[];
extern const size_t vmx_profile_data_count;
extern const struct vmx_caps vmx_profile_data_caps[];

const char *const *vmx_profile_names(void)
{
	return vmx_profile_data_names;
}

enum hvsim_status vmx_profile_load(const char *name, struct vmx_caps *caps, struct hvsim_error *err)
{
	for (size_t i = 0; name && i < vmx_profile_data_count; i++) {
		if (strcmp(vmx_profile_data_names[i], name) == 0) {
			*caps = vmx_profile_data_caps[i];
			return HVSIM_OK;
		}
	}
	return hvsim_error_set(err, HVSIM_E_INPUT,
	                       "profile %s: $: no such embedded profile (see vmx_profile_names)",
	                       name ? name : "(null)");
}
