/* Verifies the VMCS field table (SDM Appendix B, SDM 25.11.2 encodings), the capability MSR read
 * view and the CPU profiles: encodings sorted and decoded into width and type, names, high-half
 * lookups, per-profile field support, RDMSR presence, every embedded profile loading, and strict
 * rejection of malformed profiles with messages naming profile and key. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_fixture.h"

Test(vmcs_fields, table_is_sorted_and_unique)
{
	for (size_t i = 1; i < vmcs_field_count(); i++)
		cr_assert_lt(vmcs_field_at(i - 1)->encoding, vmcs_field_at(i)->encoding,
		             "%s (%#x) before %s (%#x)", vmcs_field_at(i - 1)->name,
		             vmcs_field_at(i - 1)->encoding, vmcs_field_at(i)->name,
		             vmcs_field_at(i)->encoding);
}

Test(vmcs_fields, width_and_type_decode_from_encoding)
{
	static const struct {
		uint32_t enc;
		uint8_t width, type;
	} cases[] = {
	    {VMCS_VIRTUAL_PROCESSOR_ID, VMCS_WIDTH_16, VMCS_TYPE_CONTROL},
	    {VMCS_GUEST_CS_SELECTOR, VMCS_WIDTH_16, VMCS_TYPE_GUEST},
	    {VMCS_HOST_TR_SELECTOR, VMCS_WIDTH_16, VMCS_TYPE_HOST},
	    {VMCS_EPT_POINTER, VMCS_WIDTH_64, VMCS_TYPE_CONTROL},
	    {VMCS_GUEST_PHYSICAL_ADDRESS, VMCS_WIDTH_64, VMCS_TYPE_RO_DATA},
	    {VMCS_VM_EXIT_REASON, VMCS_WIDTH_32, VMCS_TYPE_RO_DATA},
	    {VMCS_GUEST_ACTIVITY_STATE, VMCS_WIDTH_32, VMCS_TYPE_GUEST},
	    {VMCS_EXIT_QUALIFICATION, VMCS_WIDTH_NATURAL, VMCS_TYPE_RO_DATA},
	    {VMCS_HOST_RIP, VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vmcs_field_info *fi = vmcs_field_lookup(cases[i].enc);

		cr_assert(fi && fi->width == cases[i].width && fi->type == cases[i].type,
		          "%#x: wanted width %u type %u, got %s", cases[i].enc, cases[i].width,
		          cases[i].type, fi ? fi->name : "no field");
	}
}

Test(vmcs_fields, names_follow_sdm_and_high_half_is_suffixed)
{
	cr_assert_str_eq(vmcs_field_name(VMCS_GUEST_RIP), "GUEST_RIP");
	cr_assert_str_eq(vmcs_field_name(0x4016), "VM_ENTRY_INTR_INFO_FIELD");
	cr_assert_str_eq(vmcs_field_name(VMCS_GUEST_IA32_PAT + 1), "GUEST_IA32_PAT_HIGH");
	cr_assert_str_eq(vmcs_field_name(0x7777), "UNKNOWN");
}

Test(vmcs_fields, high_access_exists_only_for_64_bit_fields)
{
	for (size_t i = 0; i < vmcs_field_count(); i++) {
		const struct vmcs_field_info *fi = vmcs_field_at(i);
		bool want = fi->width == VMCS_WIDTH_64;

		cr_assert_eq(vmcs_field_lookup(fi->encoding | 1) != NULL, want,
		             "%s high access: wanted %d", fi->name, want);
	}
}

Test(vmcs_fields, reserved_encoding_bits_name_no_field)
{
	cr_assert_null(vmcs_field_lookup(VMCS_GUEST_RIP | 0x1000), "bit 12 reserved");
	cr_assert_null(vmcs_field_lookup(VMCS_GUEST_RIP | 0x8000), "bit 15 reserved");
	cr_assert_null(vmcs_field_lookup(BIT64(32) | VMCS_GUEST_RIP), "bits 63:32");
}

Test(vmcs_fields, every_appendix_b_group_is_present)
{
	size_t per[4][4] = {{0}};

	for (size_t i = 0; i < vmcs_field_count(); i++)
		per[vmcs_field_at(i)->width][vmcs_field_at(i)->type]++;
	/* 16-bit has no read-only fields (SDM B.1); every other width has all four types. */
	for (int w = 0; w < 4; w++)
		for (int t = 0; t < 4; t++)
			if (!(w == VMCS_WIDTH_16 && t == VMCS_TYPE_RO_DATA))
				cr_assert_gt(per[w][t], 0, "width %d type %d has no field", w, t);
	cr_assert_geq(vmcs_field_count(), 180, "only %zu fields", vmcs_field_count());
}

static struct vmx_caps load(const char *name)
{
	struct vmx_caps c;
	struct hvsim_error err = {0};

	cr_assert_eq(vmx_profile_load(name, &c, &err), HVSIM_OK, "%s: %s", name, err.msg);
	return c;
}

Test(vmcs_fields, field_support_follows_profile_controls)
{
	struct vmx_caps icx = load("intel-icelake-server"), spr = load("intel-sapphirerapids");
	struct vmx_caps kvm = load("kvm-nested");

	cr_assert(!vmx_caps_field_supported(&icx, VMCS_TERTIARY_VM_EXEC_CONTROL), "ICX tertiary");
	cr_assert(vmx_caps_field_supported(&spr, VMCS_TERTIARY_VM_EXEC_CONTROL), "SPR tertiary");
	cr_assert(vmx_caps_field_supported(&spr, VMCS_GUEST_S_CET), "SPR CET");
	cr_assert(!vmx_caps_field_supported(&icx, VMCS_GUEST_S_CET), "ICX CET");
	cr_assert(!vmx_caps_field_supported(&kvm, VMCS_PLE_GAP), "kvm-nested PLE");
	cr_assert(vmx_caps_field_supported(&kvm, VMCS_EPTP_LIST_ADDRESS), "EPTP list");
	cr_assert(!vmx_caps_field_supported(&spr, VMCS_SHARED_EPT_POINTER), "SEAM-only field");
}

/* ---- capability MSRs ---- */

Test(vmx_caps, msr_read_follows_appendix_a_presence)
{
	struct vmx_caps icx = load("intel-icelake-server"), spr = load("intel-sapphirerapids");
	uint64_t v;

	cr_assert(vmx_caps_msr_read(&icx, MSR_IA32_VMX_BASIC, &v) && v == icx.msr[0], "BASIC");
	cr_assert(!vmx_caps_msr_read(&icx, MSR_IA32_VMX_PROCBASED_CTLS3, &v), "ICX has no 492H");
	cr_assert(vmx_caps_msr_read(&spr, MSR_IA32_VMX_PROCBASED_CTLS3, &v) && v == 0x10,
	          "SPR 492H");
	cr_assert(!vmx_caps_msr_read(&icx, 0x493, &v), "493H not modelled");
	cr_assert(!vmx_caps_msr_read(&icx, 0x47f, &v), "below range");
}

Test(vmx_caps, true_ctls_used_only_with_basic_bit_55)
{
	struct vmx_caps c = load("intel-icelake-server");

	cr_assert_eq(vmx_caps_proc_must1(&c), 0x04006172u, "TRUE_PROCBASED low");
	c.msr[0] &= ~VMX_BASIC_TRUE_CTLS;
	cr_assert_eq(vmx_caps_proc_must1(&c), 0x0401e172u, "PROCBASED low");
}

/* ---- profiles ---- */

Test(vmx_profile, every_embedded_profile_loads_with_its_name)
{
	int n = 0;

	for (const char *const *p = vmx_profile_names(); *p; p++, n++) {
		struct vmx_caps c = load(*p);

		cr_assert_str_eq(c.name, *p);
		cr_assert(c.maxphyaddr >= 32 && (c.present & 0x7ff) == 0x7ff, "%s basics", *p);
	}
	cr_assert_geq(n, 3, "wanted at least 3 profiles, got %d", n);
}

Test(vmx_profile, kvm_nested_reports_vmcs12_revision_and_hlt)
{
	struct vmx_caps c = load("kvm-nested");

	cr_assert_eq(vmx_caps_revision(&c), 0x11e57ed0u, "revision");
	cr_assert(c.msr[5] & VMX_MISC_ACTIVITY_HLT, "VMX_MISC bit 6");
}

Test(vmx_profile, unknown_profile_name_fails)
{
	struct vmx_caps c;
	struct hvsim_error err = {0};

	cr_assert_eq(vmx_profile_load("pentium-4", &c, &err), HVSIM_E_INPUT);
	cr_assert(strstr(err.msg, "pentium-4"), "message: %s", err.msg);
}

#define MIN_MSRS                                                                           \
	"\"IA32_VMX_BASIC\":{\"value\":\"0x4\",\"source\":\"t\"},"                         \
	"\"IA32_VMX_PINBASED_CTLS\":{\"value\":\"0x1600000016\",\"source\":\"t\"},"        \
	"\"IA32_VMX_PROCBASED_CTLS\":{\"value\":\"0x0401e1720401e172\",\"source\":\"t\"}," \
	"\"IA32_VMX_EXIT_CTLS\":{\"value\":\"0x36dff00036dff\",\"source\":\"t\"},"         \
	"\"IA32_VMX_ENTRY_CTLS\":{\"value\":\"0x11ff000011ff\",\"source\":\"t\"},"         \
	"\"IA32_VMX_MISC\":{\"value\":\"0x0\",\"source\":\"t\"},"                          \
	"\"IA32_VMX_CR0_FIXED0\":{\"value\":\"0x80000021\",\"source\":\"t\"},"             \
	"\"IA32_VMX_CR0_FIXED1\":{\"value\":\"0xffffffff\",\"source\":\"t\"},"             \
	"\"IA32_VMX_CR4_FIXED0\":{\"value\":\"0x2000\",\"source\":\"t\"},"                 \
	"\"IA32_VMX_CR4_FIXED1\":{\"value\":\"0x27ff\",\"source\":\"t\"},"                 \
	"\"IA32_VMX_VMCS_ENUM\":{\"value\":\"0x2e\",\"source\":\"t\"}"

#define PROFILE(extra_top, extra_msrs)                                                        \
	"{\"name\":\"t\",\"description\":\"d\",\"source\":\"s\",\"maxphyaddr\":36," extra_top \
	"\"msrs\":{" MIN_MSRS extra_msrs "}}"

static void expect_reject(const char *json, const char *key)
{
	struct vmx_caps c;
	struct hvsim_error err = {0};

	cr_assert_eq(vmx_profile_parse("bad", json, &c, &err), HVSIM_E_INPUT, "accepted: %s", json);
	cr_assert(strstr(err.msg, "profile bad") && strstr(err.msg, key),
	          "message should name profile and %s: %s", key, err.msg);
}

Test(vmx_profile, minimal_profile_parses)
{
	struct vmx_caps c;
	struct hvsim_error err = {0};

	cr_assert_eq(vmx_profile_parse("ok", PROFILE("", ""), &c, &err), HVSIM_OK, "%s", err.msg);
	cr_assert_eq(c.maxphyaddr, 36, "maxphyaddr");
	cr_assert_eq(c.linear_bits, 48, "default linear width");
}

Test(vmx_profile, malformed_profiles_are_rejected_naming_the_key)
{
	expect_reject("{", "$");
	expect_reject(PROFILE("\"colour\":1,", ""), "colour");
	expect_reject(PROFILE("", ",\"IA32_VMX_FOO\":{\"value\":\"0x1\",\"source\":\"t\"}"),
	              "IA32_VMX_FOO");
	expect_reject(PROFILE("\"efer_valid\":\"0xg\",", ""), "efer_valid");
	expect_reject(PROFILE("\"efer_valid\":\"12\",", ""), "efer_valid");
	expect_reject(PROFILE("\"efer_valid\":\"0x11112222333344445\",", ""), "efer_valid");
	expect_reject(PROFILE("\"linear_address_bits\":52,", ""), "linear_address_bits");
	expect_reject("{\"name\":\"t\",\"description\":\"d\",\"source\":\"s\",\"msrs\":{}}",
	              "maxphyaddr");
	/* 48BH present although PROCBASED_CTLS allows no secondary controls */
	expect_reject(
	    PROFILE("", ",\"IA32_VMX_PROCBASED_CTLS2\":{\"value\":\"0x0\",\"source\":\"t\"}"),
	    "IA32_VMX_PROCBASED_CTLS2");
	/* value given as a JSON number rather than a hex string */
	expect_reject(PROFILE("", ",\"IA32_VMX_VMFUNC\":{\"value\":1,\"source\":\"t\"}"),
	              "IA32_VMX_VMFUNC");
}

Test(vmx_profile, missing_required_msr_is_rejected)
{
	struct vmx_caps c;
	struct hvsim_error err = {0};
	const char *json = "{\"name\":\"t\",\"description\":\"d\",\"source\":\"s\","
	                   "\"maxphyaddr\":36,\"msrs\":{"
	                   "\"IA32_VMX_BASIC\":{\"value\":\"0x4\",\"source\":\"t\"}}}";

	cr_assert_eq(vmx_profile_parse("bad", json, &c, &err), HVSIM_E_INPUT);
	cr_assert(strstr(err.msg, "IA32_VMX_PINBASED_CTLS"), "message: %s", err.msg);
}

/* ---- the check table ---- */

Test(vmx_checks, table_lists_every_check_once_in_group_order)
{
	uint8_t last = 0;

	for (size_t i = 0; i < vmx_check_count(); i++) {
		const struct vmx_check_desc *d = vmx_check_at(i);

		cr_assert_geq(d->group, last, "%s out of group order", d->name);
		last = d->group;
		cr_assert(strncmp(d->name, "vmx_check_", 10) == 0 && strstr(d->cite, "SDM 27."),
		          "%s: name or citation", d->name);
		for (size_t j = 0; j < i; j++)
			cr_assert(strcmp(vmx_check_at(j)->name, d->name) != 0, "%s twice", d->name);
	}
	cr_assert_null(vmx_check_at(vmx_check_count()), "past the end");
}
