/* Decoding and encoding the operations of fuzz_vmcs_entry (fz_vmx_ops.h), and the resolution of
 * VMWRITE values: raw, interesting values for the field's width, a flipped bit of the current
 * value, the allowed-0/allowed-1 boundary of the control MSR (or VMX-fixed CR bits) that governs
 * the field, the known-good value, or addresses around MAXPHYADDR and the canonical boundary. */
#include "fz_vmx_ops.h"
#include "fz_small.h"

#include "../models/vmx/vmx_int.h"

#include <string.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const char *const op_names[FZ_VMX_OP_COUNT] = {
    "vmwrite", "vmread",  "vmlaunch", "vmresume", "vmclear", "vmptrld", "vmxoff",
    "vmxon",   "vmptrst", "mode",     "mem",      "invept",  "invvpid",
};

/* Operands of VMXON, VMPTRLD, VMCLEAR: the fixture's regions, a page with revision 0, unaligned,
 * beyond every profile's MAXPHYADDR, unbacked */
static const uint64_t region_pas[] = {
    VMX_REPLAY_PA_VMCS,  VMX_REPLAY_PA_VMCS2,  VMX_REPLAY_PA_SHADOW_VMCS,
    VMX_REPLAY_PA_VMXON, VMX_REPLAY_PA_IO_A,   VMX_REPLAY_PA_VMCS + 8,
    UINT64_C(1) << 52,   VMX_REPLAY_MEM_BYTES, UINT64_C(0x3f000),
};

/* MSR-load entries: allowed, excluded by SDM 27.4 (FS/GS base, SMM monitor, microcode), x2APIC,
 * reserved-bit carriers, not an MSR */
static const uint64_t msr_indexes[] = {
    0x10,       0x1B,       0x3A,  0x79,  0x8B,  0x9B,       0x174,
    0x175,      0x277,      0x808, 0x80B, 0x830, 0xC0000080, 0xC0000100,
    0xC0000101, 0xC0000102, 0x480, 0x1D9, 0x38F, 0xFFFFFFFF, UINT64_C(1) << 32,
};

static const uint64_t msr_values[] = {0, 1, 0x0007040600070406, 0xd01, UINT64_MAX, 0xfee00900};
static const uint64_t pdpte_values[] = {0, 1, 0x30001, 0x7, 0x1 | (UINT64_C(1) << 63), 0x181};
static const uint64_t eptp_values[] = {VMX_REPLAY_PA_EPT_PML4 | 0x1e, 0,
                                       VMX_REPLAY_PA_EPT_PML4 | 0x26, UINT64_C(1) << 52 | 0x1e};
static const uint64_t vpid_descs[] = {1, 0, 0xffff, 0x10000};
static const uint64_t linear_addrs[] = {0,
                                        0x401000,
                                        UINT64_C(0x00007ffffffff000),
                                        UINT64_C(0x0000800000000000),
                                        UINT64_C(0xffff800000000000),
                                        UINT64_C(0x00ff800000000000)};

const char *fz_vmx_op_name(uint8_t kind)
{
	return kind < FZ_VMX_OP_COUNT ? op_names[kind] : "?";
}

/* ---- Decoding ---- */

/* A field from the table (full or high access), or a raw 32- or 64-bit encoding. */
static uint64_t dec_field(struct fz_in *in)
{
	size_t n = vmcs_field_count();

	switch (fz_small_choose(in, 4)) {
	case 0: return vmcs_field_at(fz_choose(in, n))->encoding;
	case 1: return vmcs_field_at(fz_choose(in, n))->encoding | VMCS_ENC_HIGH;
	case 2: return fz_u32(in);
	default: return fz_u64(in);
	}
}

static void dec_mem(struct fz_in *in, struct fz_vmx_op *op)
{
	op->src = (uint8_t)fz_small_choose(in, FZ_VMX_MEM_COUNT);
	switch (op->src) {
	case FZ_VMX_MEM_REVISION:
		op->addr = fz_small_pick(in, region_pas, N(region_pas));
		op->enc = fz_small_choose(in, 3); /* revision, revision | shadow bit, raw */
		op->value = op->enc == 2 ? fz_u32(in) : 0;
		break;
	case FZ_VMX_MEM_MSR_LOAD:
		op->addr = fz_u8(in) % 32;
		op->enc = fz_small_pick(in, msr_indexes, N(msr_indexes));
		op->value = fz_small_pick(in, msr_values, N(msr_values));
		break;
	case FZ_VMX_MEM_PDPTE:
		op->addr = fz_u8(in) & 3;
		op->value = fz_small_pick(in, pdpte_values, N(pdpte_values));
		break;
	default:
		op->addr = fz_u32(in);
		op->value = fz_u64(in);
		break;
	}
}

void fz_vmx_decode(struct fz_in *in, struct fz_vmx_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)fz_small_choose(in, FZ_VMX_OP_COUNT);
	switch (op->kind) {
	case FZ_VMX_VMWRITE:
		op->enc = dec_field(in);
		op->src = (uint8_t)fz_small_choose(in, FZ_VMX_SRC_COUNT);
		op->value = op->src == FZ_VMX_SRC_RAW ? fz_u64(in) : fz_u8(in);
		break;
	case FZ_VMX_VMREAD: op->enc = dec_field(in); break;
	case FZ_VMX_VMCLEAR:
	case FZ_VMX_VMPTRLD:
	case FZ_VMX_VMXON: op->value = fz_small_pick(in, region_pas, N(region_pas)); break;
	case FZ_VMX_MODE:
		op->src = (uint8_t)fz_small_choose(in, VMX_REPLAY_MODE_COUNT);
		op->value = fz_u8(in);
		break;
	case FZ_VMX_MEM: dec_mem(in, op); break;
	case FZ_VMX_INVEPT:
		op->enc = fz_u8(in);
		op->value = fz_small_pick(in, eptp_values, N(eptp_values));
		op->addr = fz_u64(in);
		break;
	case FZ_VMX_INVVPID:
		op->enc = fz_u8(in);
		op->value = fz_small_pick(in, vpid_descs, N(vpid_descs));
		op->addr = fz_small_pick(in, linear_addrs, N(linear_addrs));
		break;
	default: break;
	}
}

/* ---- Encoding ---- */

static void enc_field(struct fz_out *o, uint64_t enc)
{
	size_t n = vmcs_field_count();

	for (size_t i = 0; i < n; i++) {
		uint32_t e = vmcs_field_at(i)->encoding;

		if (enc == e || enc == (e | VMCS_ENC_HIGH)) {
			fz_put_choose(o, 4, enc == e ? 0 : 1);
			fz_put_choose(o, n, i);
			return;
		}
	}
	fz_put_choose(o, 4, enc <= UINT32_MAX ? 2 : 3);
	fz_put(o, enc, enc <= UINT32_MAX ? 4 : 8);
}

static void enc_mem(struct fz_out *o, const struct fz_vmx_op *op)
{
	fz_put_choose(o, FZ_VMX_MEM_COUNT, op->src);
	switch (op->src) {
	case FZ_VMX_MEM_REVISION:
		fz_put_pick(o, region_pas, N(region_pas), op->addr);
		fz_put_choose(o, 3, op->enc);
		if (op->enc == 2)
			fz_put(o, op->value, 4);
		break;
	case FZ_VMX_MEM_MSR_LOAD:
		fz_put(o, op->addr, 1);
		fz_put_pick(o, msr_indexes, N(msr_indexes), op->enc);
		fz_put_pick(o, msr_values, N(msr_values), op->value);
		break;
	case FZ_VMX_MEM_PDPTE:
		fz_put(o, op->addr, 1);
		fz_put_pick(o, pdpte_values, N(pdpte_values), op->value);
		break;
	default:
		fz_put(o, op->addr, 4);
		fz_put(o, op->value, 8);
		break;
	}
}

void fz_vmx_encode(struct fz_out *o, const struct fz_vmx_op *op)
{
	fz_put_choose(o, FZ_VMX_OP_COUNT, op->kind);
	switch (op->kind) {
	case FZ_VMX_VMWRITE:
		enc_field(o, op->enc);
		fz_put_choose(o, FZ_VMX_SRC_COUNT, op->src);
		fz_put(o, op->value, op->src == FZ_VMX_SRC_RAW ? 8 : 1);
		break;
	case FZ_VMX_VMREAD: enc_field(o, op->enc); break;
	case FZ_VMX_VMCLEAR:
	case FZ_VMX_VMPTRLD:
	case FZ_VMX_VMXON: fz_put_pick(o, region_pas, N(region_pas), op->value); break;
	case FZ_VMX_MODE:
		fz_put_choose(o, VMX_REPLAY_MODE_COUNT, op->src);
		fz_put(o, op->value, 1);
		break;
	case FZ_VMX_MEM: enc_mem(o, op); break;
	case FZ_VMX_INVEPT:
		fz_put(o, op->enc, 1);
		fz_put_pick(o, eptp_values, N(eptp_values), op->value);
		fz_put(o, op->addr, 8);
		break;
	case FZ_VMX_INVVPID:
		fz_put(o, op->enc, 1);
		fz_put_pick(o, vpid_descs, N(vpid_descs), op->value);
		fz_put_pick(o, linear_addrs, N(linear_addrs), op->addr);
		break;
	default: break;
	}
}

/* ---- Resolution of VMWRITE values ---- */

static uint64_t ones(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static unsigned width_bits(uint64_t enc)
{
	const struct vmcs_field_info *fi = vmcs_field_lookup(enc);

	if (!fi || (enc & VMCS_ENC_HIGH))
		return 32;
	return fi->width == VMCS_WIDTH_16 ? 16 : fi->width == VMCS_WIDTH_32 ? 32 : 64;
}

/* 0, all ones, single bits, the sign bit, page-size edges, the last page below and the first
 * page at MAXPHYADDR, both sides of the canonical boundary; cut to the width. */
static uint64_t interesting(const struct vmx_caps *c, unsigned bits, uint8_t b)
{
	uint64_t top = UINT64_C(1) << (c->linear_bits - 1);
	uint64_t phys = UINT64_C(1) << c->maxphyaddr;
	const uint64_t table[16] = {
	    0,
	    ones(bits),
	    1,
	    UINT64_C(1) << (bits - 1),
	    ones(bits) >> 1,
	    0x1000,
	    0xfff,
	    phys - 0x1000,
	    phys,
	    top - 0x1000,
	    top,
	    ~(top - 1),
	    UINT64_C(1) << 63,
	    0xffffffff,
	    UINT64_C(1) << 32,
	    0x80000000,
	};

	if (b & 0x80)
		return (UINT64_C(1) << (b & 63)) & ones(bits);
	return table[b % 16] & ones(bits);
}

static uint64_t address(const struct vmx_caps *c, uint8_t b)
{
	static const uint64_t fixture[] = {
	    VMX_REPLAY_PA_VMXON,       VMX_REPLAY_PA_VMCS,   VMX_REPLAY_PA_VMCS2,
	    VMX_REPLAY_PA_SHADOW_VMCS, VMX_REPLAY_PA_IO_A,   VMX_REPLAY_PA_MSR_AREA,
	    UINT64_C(0x3f000),         VMX_REPLAY_MEM_BYTES, VMX_REPLAY_PA_VMCS + 0x10};
	uint64_t phys = UINT64_C(1) << c->maxphyaddr;

	switch (b % 4) {
	case 0: return fixture[(b >> 2) % N(fixture)];
	case 1: return phys - 0x1000 * (1 + (b >> 2)); /* page-aligned, below MAXPHYADDR */
	case 2: return phys + 0x1000 * (b >> 2);       /* at or above it */
	default: return interesting(c, 64, (uint8_t)(9 + (b >> 2) % 3));
	}
}

/* The allowed-0 (must be 1) and allowed-1 (may be 1) settings governing the field, when a
 * capability MSR governs it (SDM A.3-A.5, A.7, A.8). */
static bool bounds(const struct vmx_caps *c, uint64_t enc, uint64_t *must1, uint64_t *may1)
{
	switch (enc) {
	case VMCS_PIN_BASED_VM_EXEC_CONTROL:
		*must1 = vmx_caps_pin_must1(c), *may1 = vmx_caps_pin_may1(c);
		return true;
	case VMCS_CPU_BASED_VM_EXEC_CONTROL:
		*must1 = vmx_caps_proc_must1(c), *may1 = vmx_caps_proc_may1(c);
		return true;
	case VMCS_SECONDARY_VM_EXEC_CONTROL:
		*must1 = vmx_caps_proc2_must1(c), *may1 = vmx_caps_proc2_may1(c);
		return true;
	case VMCS_TERTIARY_VM_EXEC_CONTROL: *must1 = 0, *may1 = vmx_caps_proc3_may1(c); return true;
	case VMCS_VM_EXIT_CONTROLS:
		*must1 = vmx_caps_exit_must1(c), *may1 = vmx_caps_exit_may1(c);
		return true;
	case VMCS_VM_ENTRY_CONTROLS:
		*must1 = vmx_caps_entry_must1(c), *may1 = vmx_caps_entry_may1(c);
		return true;
	case VMCS_GUEST_CR0:
	case VMCS_HOST_CR0:
		*must1 = vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0);
		*may1 = vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED1);
		return true;
	case VMCS_GUEST_CR4:
	case VMCS_HOST_CR4:
		*must1 = vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0);
		*may1 = vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED1);
		return true;
	default: return false;
	}
}

static uint64_t lowest_bit(uint64_t v, unsigned skip)
{
	for (unsigned k = 0; v; k++, v &= v - 1)
		if (k == skip)
			return v & (~v + 1);
	return 0;
}

static uint64_t control(const struct vmx_caps *c, uint64_t enc, uint64_t cur, uint8_t b)
{
	uint64_t must1, may1;

	if (!bounds(c, enc, &must1, &may1))
		return interesting(c, width_bits(enc), b);
	switch (b % 6) {
	case 0: return must1; /* the minimum */
	case 1: return may1;  /* every allowed bit */
	case 2:
		return cur |
		       lowest_bit(~may1 & ones(width_bits(enc)), b >> 3); /* beyond allowed-1 */
	case 3: return cur & ~lowest_bit(must1, b >> 3);                  /* below allowed-0 */
	case 4: return cur | lowest_bit(may1 & ~must1, b >> 3);  /* one optional control on */
	default: return cur & ~lowest_bit(cur & ~must1, b >> 3); /* one optional control off */
	}
}

static uint64_t current_field(const struct fz_vmx_sys *s, uint64_t enc)
{
	uint64_t v = 0;

	vmx_vmcs_get(s->m.cpu, (uint32_t)enc, &v);
	return (enc & VMCS_ENC_HIGH) ? v >> 32 : v;
}

static uint64_t vmwrite_value(const struct fz_vmx_sys *s, const struct fz_vmx_op *op)
{
	const struct vmx_caps *c = vmx_cpu_caps(s->m.cpu);
	int i = vmcs_field_index(op->enc);
	uint8_t b = (uint8_t)op->value;

	switch (op->src) {
	case FZ_VMX_SRC_TABLE: return interesting(c, width_bits(op->enc), b);
	case FZ_VMX_SRC_FLIP: return current_field(s, op->enc) ^ UINT64_C(1) << (b % 64);
	case FZ_VMX_SRC_CONTROL: return control(c, op->enc, current_field(s, op->enc), b);
	case FZ_VMX_SRC_FIXTURE:
		return i < 0                       ? 0
		       : (op->enc & VMCS_ENC_HIGH) ? fz_vmx_fixture_value(s, (size_t)i) >> 32
		                                   : fz_vmx_fixture_value(s, (size_t)i);
	case FZ_VMX_SRC_ADDRESS: return address(c, b);
	default: return op->value;
	}
}

void fz_vmx_resolve(const struct fz_vmx_sys *s, struct fz_vmx_op *op)
{
	uint32_t rev = vmx_caps_revision(vmx_cpu_caps(s->m.cpu));

	if (op->kind == FZ_VMX_VMWRITE) {
		op->value = vmwrite_value(s, op);
		op->src = FZ_VMX_SRC_RAW;
	} else if (op->kind == FZ_VMX_MEM && op->src == FZ_VMX_MEM_REVISION && op->enc < 2) {
		op->value = op->enc == 0 ? rev : rev | 0x80000000u;
		op->enc = 2;
	}
}
