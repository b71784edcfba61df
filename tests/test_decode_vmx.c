/* Verifies the decoding of the VMX instructions (sim/decode.c) into GOP_VMX operations: each
 * instruction of SDM ch. 31 with its length, and the operands the VM-exit instruction information
 * and exit qualification describe (SDM 28.2.1, 28.2.4): the memory operand's base, index, scale,
 * address size, segment and displacement (RIP-relative: displacement + next RIP), its linear
 * address, VMREAD/VMWRITE's register operands and their values. Machine code is given as bytes
 * (assembled with GNU as); registers come from a fake register file. */
#include <criterion/criterion.h>

#include "../sim/decode.h"

#include <string.h>

#define RIP 0x8000

struct regs {
	uint64_t gpr[GPR_COUNT];
	uint64_t fs, gs;
};

static uint64_t read_gpr(void *ctx, unsigned gpr)
{
	return ((struct regs *)ctx)->gpr[gpr];
}

static uint64_t read_seg(void *ctx, unsigned seg)
{
	struct regs *r = ctx;

	return seg == DEC_SEG_FS ? r->fs : r->gs;
}

/* Decodes bytes in mode and builds the operation at RIP with registers r. */
static struct guest_op build(uint8_t mode, const uint8_t *bytes, size_t n, struct regs *r)
{
	struct dec_regs dr = {.gpr = read_gpr, .seg_base = read_seg, .ctx = r};
	struct dec_insn d;
	struct guest_op op;

	cr_assert(dec_insn(mode, bytes, n, &d), "bytes do not decode");
	dec_build_op(&d, RIP, &dr, &op);
	return op;
}

struct vmx_case {
	const char *name;
	uint8_t bytes[8];
	uint8_t len;
	uint8_t insn; /* enum guest_vmx_insn */
	bool mem;
};

static const struct vmx_case cases[] = {
    {"vmxon [rax]", {0xf3, 0x0f, 0xc7, 0x30}, 4, GVMX_VMXON, true},
    {"vmxon [rip+0x100]", {0xf3, 0x0f, 0xc7, 0x35, 0x00, 0x01, 0x00, 0x00}, 8, GVMX_VMXON, true},
    {"vmclear [rbx+rcx*8+0x10]", {0x66, 0x0f, 0xc7, 0x74, 0xcb, 0x10}, 6, GVMX_VMCLEAR, true},
    {"vmptrld [rsp+8]", {0x0f, 0xc7, 0x74, 0x24, 0x08}, 5, GVMX_VMPTRLD, true},
    {"vmptrst fs:[rdx]", {0x64, 0x0f, 0xc7, 0x3a}, 4, GVMX_VMPTRST, true},
    {"vmread rax, rbx", {0x0f, 0x78, 0xd8}, 3, GVMX_VMREAD, false},
    {"vmread [rsi], rdx", {0x0f, 0x78, 0x16}, 3, GVMX_VMREAD, true},
    {"vmwrite r9, r10", {0x45, 0x0f, 0x79, 0xca}, 4, GVMX_VMWRITE, false},
    {"vmwrite rcx, [rbp-8]", {0x0f, 0x79, 0x4d, 0xf8}, 4, GVMX_VMWRITE, true},
    {"vmlaunch", {0x0f, 0x01, 0xc2}, 3, GVMX_VMLAUNCH, false},
    {"vmresume", {0x0f, 0x01, 0xc3}, 3, GVMX_VMRESUME, false},
    {"vmxoff", {0x0f, 0x01, 0xc4}, 3, GVMX_VMXOFF, false},
    {"invept rax, [rbx]", {0x66, 0x0f, 0x38, 0x80, 0x03}, 5, GVMX_INVEPT, true},
    {"invvpid r8, [rdi+4]", {0x66, 0x44, 0x0f, 0x38, 0x81, 0x47, 0x04}, 7, GVMX_INVVPID, true},
};

/* SDM 26.1.2: every VMX instruction is an operation a hypervisor must see. */
Test(decode_vmx, vmx_instructions_decode_as_gop_vmx_with_their_length)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vmx_case *c = &cases[i];
		struct regs r = {0};
		struct guest_op op = build(DEC_MODE_64, c->bytes, c->len, &r);

		cr_expect(op.kind == GOP_VMX && op.len == c->len,
		          "%s: wanted kind vmx length %u, got %s length %u", c->name, c->len,
		          guest_op_kind_name(op.kind), op.len);
		cr_expect(op.u.vmx.insn == c->insn && op.u.vmx.mem == c->mem,
		          "%s: wanted %s mem %d, got %s mem %d", c->name,
		          guest_vmx_insn_name(c->insn), c->mem, guest_vmx_insn_name(op.u.vmx.insn),
		          op.u.vmx.mem);
	}
}

/* SDM 28.2.4: base, index, scaling, address size and segment of a memory operand; its linear
 * address is base + index * scale + displacement. */
Test(decode_vmx, memory_operand_reports_base_index_scale_and_address)
{
	static const uint8_t b[] = {0x66, 0x0f, 0xc7,
	                            0x74, 0xcb, 0x10}; /* vmclear [rbx+rcx*8+0x10] */
	struct regs r = {.gpr = {[GPR_RBX] = 0x100000, [GPR_RCX] = 3}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.base == GPR_RBX && op.u.vmx.index == GPR_RCX && op.u.vmx.scale == 8,
	          "base/index/scale wanted %u/%u/8, got %u/%u/%u", GPR_RBX, GPR_RCX, op.u.vmx.base,
	          op.u.vmx.index, op.u.vmx.scale);
	cr_expect(op.u.vmx.addr_size == 8 && op.u.vmx.seg == 3 && op.u.vmx.disp == 0x10,
	          "address size/segment/displacement wanted 8/3 (DS)/0x10, got %u/%u/%lld",
	          op.u.vmx.addr_size, op.u.vmx.seg, (long long)op.u.vmx.disp);
	cr_expect_eq(op.u.vmx.addr, UINT64_C(0x100028), "address wanted 0x100028, got %#llx",
	             (unsigned long long)op.u.vmx.addr);
}

/* SDM 3.7.4: a memory operand based on RSP or RBP uses SS by default. */
Test(decode_vmx, rsp_based_operand_uses_ss)
{
	static const uint8_t b[] = {0x0f, 0xc7, 0x74, 0x24, 0x08}; /* vmptrld [rsp+8] */
	struct regs r = {.gpr = {[GPR_RSP] = 0x3000}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.seg == 2 && op.u.vmx.index == GPR_COUNT && op.u.vmx.addr == 0x3008,
	          "segment/index/address wanted 2 (SS)/none/0x3008, got %u/%u/%#llx", op.u.vmx.seg,
	          op.u.vmx.index, (unsigned long long)op.u.vmx.addr);
}

/* SDM 3.7.5: in 64-bit mode an FS override adds the FS base. */
Test(decode_vmx, fs_override_adds_the_fs_base)
{
	static const uint8_t b[] = {0x64, 0x0f, 0xc7, 0x3a}; /* vmptrst fs:[rdx] */
	struct regs r = {.gpr = {[GPR_RDX] = 0x10}, .fs = 0x200000};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.seg == 4 && op.u.vmx.addr == 0x200010,
	          "segment/address wanted 4 (FS)/0x200010, got %u/%#llx", op.u.vmx.seg,
	          (unsigned long long)op.u.vmx.addr);
}

/* SDM 28.2.1: for RIP-relative addressing the exit qualification is the displacement plus the
 * address of the next instruction; the base register is invalid. */
Test(decode_vmx, rip_relative_operand_reports_displacement_plus_next_rip)
{
	static const uint8_t b[] = {0xf3, 0x0f, 0xc7, 0x35, 0x00, 0x01, 0x00, 0x00};
	struct regs r = {0};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);
	int64_t want = RIP + sizeof(b) + 0x100;

	cr_expect(op.u.vmx.base == GPR_COUNT && op.u.vmx.disp == want &&
	              op.u.vmx.addr == (uint64_t)want,
	          "base/displacement/address wanted none/%#llx/%#llx, got %u/%#llx/%#llx",
	          (long long)want, (long long)want, op.u.vmx.base, (long long)op.u.vmx.disp,
	          (unsigned long long)op.u.vmx.addr);
}

/* SDM 28.2.4 Table 28-14: VMREAD's register form: reg1 the destination (r/m), reg2 the encoding
 * (ModRM.reg), whose value is the field. */
Test(decode_vmx, vmread_register_form_reports_both_registers_and_the_field)
{
	static const uint8_t b[] = {0x0f, 0x78, 0xd8}; /* vmread rax, rbx */
	struct regs r = {.gpr = {[GPR_RBX] = 0x681e}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(!op.u.vmx.mem && op.u.vmx.reg1 == GPR_RAX && op.u.vmx.reg2 == GPR_RBX,
	          "mem/reg1/reg2 wanted 0/%u/%u, got %d/%u/%u", GPR_RAX, GPR_RBX, op.u.vmx.mem,
	          op.u.vmx.reg1, op.u.vmx.reg2);
	cr_expect_eq(op.u.vmx.field, 0x681e, "field wanted 0x681e, got %#llx",
	             (unsigned long long)op.u.vmx.field);
}

Test(decode_vmx, vmread_memory_form_reports_the_destination_address)
{
	static const uint8_t b[] = {0x0f, 0x78, 0x16}; /* vmread [rsi], rdx */
	struct regs r = {.gpr = {[GPR_RSI] = 0x5000, [GPR_RDX] = 0x4402}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.mem && op.u.vmx.addr == 0x5000 && op.u.vmx.reg2 == GPR_RDX &&
	              op.u.vmx.field == 0x4402,
	          "mem/address/reg2/field wanted 1/0x5000/%u/0x4402, got %d/%#llx/%u/%#llx",
	          GPR_RDX, op.u.vmx.mem, (unsigned long long)op.u.vmx.addr, op.u.vmx.reg2,
	          (unsigned long long)op.u.vmx.field);
}

/* VMWRITE's register form: reg1 (r/m) is the source, reg2 (ModRM.reg) the encoding. */
Test(decode_vmx, vmwrite_register_form_reports_the_value)
{
	static const uint8_t b[] = {0x45, 0x0f, 0x79, 0xca}; /* vmwrite r9, r10 */
	struct regs r = {.gpr = {[GPR_R9] = 0x4826, [GPR_R10] = 1}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.reg1 == GPR_R10 && op.u.vmx.reg2 == GPR_R9,
	          "reg1/reg2 wanted %u/%u, got %u/%u", GPR_R10, GPR_R9, op.u.vmx.reg1,
	          op.u.vmx.reg2);
	cr_expect(op.u.vmx.field == 0x4826 && op.u.vmx.value == 1,
	          "field/value wanted 0x4826/1, got %#llx/%#llx",
	          (unsigned long long)op.u.vmx.field, (unsigned long long)op.u.vmx.value);
}

/* The memory form's source is in memory: the operation carries its address, not a value. */
Test(decode_vmx, vmwrite_memory_form_reports_the_source_address)
{
	static const uint8_t b[] = {0x0f, 0x79, 0x4d, 0xf8}; /* vmwrite rcx, [rbp-8] */
	struct regs r = {.gpr = {[GPR_RBP] = 0x7008, [GPR_RCX] = 0x681c}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(
	    op.u.vmx.mem && op.u.vmx.addr == 0x7000 && op.u.vmx.seg == 2 && op.u.vmx.value == 0,
	    "mem/address/segment/value wanted 1/0x7000/2/0, got %d/%#llx/%u/%#llx", op.u.vmx.mem,
	    (unsigned long long)op.u.vmx.addr, op.u.vmx.seg, (unsigned long long)op.u.vmx.value);
}

/* SDM 28.2.4 Table 28-11: INVEPT/INVVPID's type register is reg2, the descriptor in memory. */
Test(decode_vmx, invept_reports_the_type_and_the_descriptor_address)
{
	static const uint8_t b[] = {0x66, 0x0f, 0x38, 0x80, 0x03}; /* invept rax, [rbx] */
	struct regs r = {.gpr = {[GPR_RAX] = 2, [GPR_RBX] = 0x9000}};
	struct guest_op op = build(DEC_MODE_64, b, sizeof(b), &r);

	cr_expect(op.u.vmx.reg2 == GPR_RAX && op.u.vmx.field == 2 && op.u.vmx.addr == 0x9000,
	          "reg2/type/address wanted %u/2/0x9000, got %u/%#llx/%#llx", GPR_RAX,
	          op.u.vmx.reg2, (unsigned long long)op.u.vmx.field,
	          (unsigned long long)op.u.vmx.addr);
}

/* SDM 31.3 VMREAD: outside 64-bit mode the operands are 32 bits (bits 63:32 ignored). */
Test(decode_vmx, vmread_outside_64bit_mode_uses_32bit_operands)
{
	static const uint8_t b[] = {0x0f, 0x78, 0xd8}; /* vmread eax, ebx */
	struct regs r = {.gpr = {[GPR_RBX] = UINT64_C(0xffffffff0000681e)}};
	struct guest_op op = build(DEC_MODE_32, b, sizeof(b), &r);

	cr_expect(op.u.vmx.size == 4 && op.u.vmx.field == 0x681e,
	          "size/field wanted 4/0x681e, got %u/%#llx", op.u.vmx.size,
	          (unsigned long long)op.u.vmx.field);
}

/* VMLAUNCH, VMRESUME and VMXOFF have no operands: no memory, no registers. */
Test(decode_vmx, vmlaunch_vmresume_vmxoff_have_no_operands)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vmx_case *c = &cases[i];
		struct regs r = {0};
		struct guest_op op;

		if (c->insn != GVMX_VMLAUNCH && c->insn != GVMX_VMRESUME && c->insn != GVMX_VMXOFF)
			continue;
		op = build(DEC_MODE_64, c->bytes, c->len, &r);
		cr_expect(!op.u.vmx.mem && op.u.vmx.reg1 == GPR_COUNT && op.u.vmx.reg2 == GPR_COUNT,
		          "%s: mem/reg1/reg2 wanted 0/none/none, got %d/%u/%u", c->name,
		          op.u.vmx.mem, op.u.vmx.reg1, op.u.vmx.reg2);
	}
}

/* The trace names the instruction (guest_vmx_insn_name); out of range is "none". */
Test(decode_vmx, instruction_names_follow_the_mnemonics)
{
	cr_expect_str_eq(guest_vmx_insn_name(GVMX_VMLAUNCH), "vmlaunch");
	cr_expect_str_eq(guest_vmx_insn_name(GVMX_INVVPID), "invvpid");
	cr_expect_str_eq(guest_vmx_insn_name(GVMX_COUNT), "none");
	cr_expect_str_eq(guest_op_kind_name(GOP_VMX), "vmx");
}
