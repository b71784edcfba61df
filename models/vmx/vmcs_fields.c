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

/* Direct map from an encoding's width, type and index (bits 14:13, 11:10, 9:1) to 1 + the field's
 * position in fields[] (0: no such field). Built by the compiler from the same list; the lookup is
 * on every VMREAD, VMWRITE and VM-entry check, so it is a load, not a search. */
#define ENC_SLOT(e) ((((e) >> 13) & 3) << 11 | (((e) >> 10) & 3) << 9 | (((e) >> 1) & 0x1ff))
#define SLOT_COUNT  (1u << 13)

enum field_pos {
#define VMCS_X_POS(n, e, r1, r2) POS_##n,
	VMCS_FIELDS(VMCS_X_POS)
#undef VMCS_X_POS
};

static const uint8_t slot_pos[SLOT_COUNT] = {
#define VMCS_X_SLOT(n, e, r1, r2) [ENC_SLOT(e)] = POS_##n + 1,
    VMCS_FIELDS(VMCS_X_SLOT)
#undef VMCS_X_SLOT
};

_Static_assert(FIELD_COUNT < UINT8_MAX, "slot_pos holds 1 + a position in a byte");

static int find_full(uint32_t enc)
{
	return (int)slot_pos[ENC_SLOT(enc)] - 1;
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
