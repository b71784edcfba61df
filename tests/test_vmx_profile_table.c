/* Verifies the embedded CPU profile table (models/vmx/vmx_profile_table.c, generated at build time
 * by tools/profile_tables.c): every profile vmx_profile_load gives equals, field by field, what
 * the strict parser (vmx_profile_parse) makes of the same profile's embedded JSON text, so loading
 * from the table is loading the JSON (unknown names: test_vmx_fields.c). */
#include <criterion/criterion.h>

#include <hvsim/vmx.h>

#include <string.h>

extern const char *const vmx_profile_data_names[];
extern const char *const vmx_profile_data_texts[];
extern const size_t vmx_profile_data_count;

static void same_caps(const struct vmx_caps *got, const struct vmx_caps *want, const char *name)
{
	cr_assert_str_eq(got->name, want->name, "%s: name", name);
	for (unsigned i = 0; i < VMX_CAP_MSR_COUNT; i++)
		cr_assert_eq(got->msr[i], want->msr[i], "%s: MSR %#x: table %#llx, parsed %#llx",
		             name, VMX_CAP_MSR_FIRST + i, (unsigned long long)got->msr[i],
		             (unsigned long long)want->msr[i]);
	cr_assert_eq(got->present, want->present, "%s: present %#x, parsed %#x", name, got->present,
	             want->present);
	cr_assert_eq(got->maxphyaddr, want->maxphyaddr, "%s: maxphyaddr", name);
	cr_assert_eq(got->linear_bits, want->linear_bits, "%s: linear_bits", name);
	cr_assert_eq(got->perf_global_ctrl_valid, want->perf_global_ctrl_valid,
	             "%s: perf_global_ctrl_valid", name);
	cr_assert_eq(got->debugctl_valid, want->debugctl_valid, "%s: debugctl_valid", name);
	cr_assert_eq(got->efer_valid, want->efer_valid, "%s: efer_valid", name);
	cr_assert_eq(got->seam, want->seam, "%s: seam", name);
	/* a field added to struct vmx_caps and not compared above (nor written by the generator) */
	cr_assert_eq(sizeof(*got), 64 + VMX_CAP_MSR_COUNT * 8 + 8 + 3 * 8 + 8,
	             "struct vmx_caps changed: update tools/profile_tables.c and this test");
}

Test(vmx_profile_table, every_embedded_profile_loads_as_its_json_parses)
{
	struct hvsim_error err = {0};

	cr_assert_gt(vmx_profile_data_count, 0, "no embedded profile");
	for (size_t i = 0; i < vmx_profile_data_count; i++) {
		const char *name = vmx_profile_data_names[i];
		struct vmx_caps got, want;

		memset(&got, 0xa5, sizeof(got));
		cr_assert_eq(vmx_profile_load(name, &got, &err), HVSIM_OK, "%s: %s", name, err.msg);
		cr_assert_eq(vmx_profile_parse(name, vmx_profile_data_texts[i], &want, &err),
		             HVSIM_OK, "%s: %s", name, err.msg);
		same_caps(&got, &want, name);
	}
}
