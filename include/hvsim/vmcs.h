/* The VMCS field table: encodings, widths, types and names of every field of SDM Vol. 3D
 * Appendix B "Field Encoding in VMCS", with the encoding layout of SDM 25.11.2 "VMREAD, VMWRITE,
 * and Encodings of VMCS Fields". Field values live in the VMX model (hvsim/vmx.h). */
#ifndef HVSIM_VMCS_H
#define HVSIM_VMCS_H

#include <hvsim/base.h>
#include <hvsim/vmcs_fields.h>

/* Encodings: VMCS_GUEST_RIP == 0x681e. A 64-bit field's high half is its encoding + 1. */
enum vmcs_field {
#define VMCS_X_ENUM(name, enc, r1, r2) VMCS_##name = (enc),
	VMCS_FIELDS(VMCS_X_ENUM)
#undef VMCS_X_ENUM
};

/* Encoding bits 14:13. */
enum vmcs_width {
	VMCS_WIDTH_16 = 0,
	VMCS_WIDTH_64 = 1,
	VMCS_WIDTH_32 = 2,
	VMCS_WIDTH_NATURAL = 3, /* 64 bits on the long-mode hosts hvsim models */
};

/* Encoding bits 11:10. */
enum vmcs_type {
	VMCS_TYPE_CONTROL = 0,
	VMCS_TYPE_RO_DATA = 1, /* VM-exit information: VMWRITE fails unless IA32_VMX_MISC[29] */
	VMCS_TYPE_GUEST = 2,
	VMCS_TYPE_HOST = 3,
};

#define VMCS_ENC_HIGH       0x1u        /* bit 0: access the high 32 bits of a 64-bit field */
#define VMCS_ENC_RESERVED   0xffff9000u /* bits 31:15 and 12 of an encoding are reserved */
#define VMCS_ENC_INDEX(enc) (((enc) >> 1) & 0x1ffu)

struct vmcs_field_info {
	const char *name;      /* "GUEST_RIP" */
	const char *high_name; /* "GUEST_IA32_PAT_HIGH" for 64-bit fields, else NULL */
	uint32_t encoding;     /* full-access encoding (bit 0 clear) */
	uint8_t width;         /* enum vmcs_width */
	uint8_t type;          /* enum vmcs_type */
	uint16_t req[2];       /* VMCS_REQ() pair from vmcs_fields.h: supported if either holds */
};

/* Number of fields in the table. Can't fail. */
size_t vmcs_field_count(void);
/* The i-th field in encoding order; NULL when i >= vmcs_field_count(). */
const struct vmcs_field_info *vmcs_field_at(size_t i);
/* The field an encoding names (full or high access); NULL when the encoding names no Appendix B
 * field, has reserved bits set, or asks for the high half of a field that is not 64-bit. */
const struct vmcs_field_info *vmcs_field_lookup(uint64_t encoding);
/* Dense table index of an encoding's field (0..count-1), or -1 exactly when lookup gives NULL. */
int vmcs_field_index(uint64_t encoding);
/* The field's name ("GUEST_RIP", "GUEST_IA32_PAT_HIGH"), or "UNKNOWN". Can't fail. */
const char *vmcs_field_name(uint64_t encoding);

#endif
