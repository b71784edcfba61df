/* The VMCS field table: every field of SDM Appendix B "Field Encoding in VMCS" with its width and
 * type decoded from the encoding (SDM 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields").
 * Which fields a processor supports depends on its capability MSRs: see vmx_caps_field_supported.
 * Leaves out nothing of Appendix B; fields only SEAM (TDX) can use are listed as never supported.
 */
#include "vmx_int.h"

#define ENC_WIDTH(e) ((uint8_t)(((e) >> 13) & 3))
#define ENC_TYPE(e)  ((uint8_t)(((e) >> 10) & 3))

static const struct vmcs_field_info fields[] = {
#define VMCS_X_INFO(n, e, r1, r2)                                        \
	{#n,          ENC_WIDTH(e) == VMCS_WIDTH_64 ? #n "_HIGH" : NULL, \
	 (e),         ENC_WIDTH(e),                                      \
	 ENC_TYPE(e), {(r1), (r2)}},
    VMCS_FIELDS(VMCS_X_INFO)
#undef VMCS_X_INFO
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

size_t vmcs_field_count(void)
{
	return FIELD_COUNT;
}

const struct vmcs_field_info *vmcs_field_at(size_t i)
{
	return i < FIELD_COUNT ? &fields[i] : NULL;
}

/* Binary search on the full encoding; the list in vmcs_fields.h is sorted (a test pins that). */
static int find_full(uint32_t enc)
{
	size_t lo = 0, hi = FIELD_COUNT;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fields[mid].encoding == enc)
			return (int)mid;
		if (fields[mid].encoding < enc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int vmcs_field_index(uint64_t encoding)
{
	uint32_t enc;
	int i;

	if (encoding > UINT32_MAX || (encoding & VMCS_ENC_RESERVED))
		return -1;
	enc = (uint32_t)encoding;
	i = find_full(enc & ~VMCS_ENC_HIGH);
	if (i < 0)
		return -1;
	/* SDM 25.11.2: access type 1 (high) is defined only for 64-bit fields */
	if ((enc & VMCS_ENC_HIGH) && fields[i].width != VMCS_WIDTH_64)
		return -1;
	return i;
}

const struct vmcs_field_info *vmcs_field_lookup(uint64_t encoding)
{
	int i = vmcs_field_index(encoding);

	return i < 0 ? NULL : &fields[i];
}

const char *vmcs_field_name(uint64_t encoding)
{
	const struct vmcs_field_info *fi = vmcs_field_lookup(encoding);

	if (!fi)
		return "UNKNOWN";
	return (encoding & VMCS_ENC_HIGH) ? fi->high_name : fi->name;
}
