/* Verifies the Zydis-based decoder (sim/decode.c): every instruction a hypervisor intercepts is
 * classified as its guest_op kind with its length, ordinary instructions are not, and operand
 * templates turn into the operands hardware reports (SDM 28.2 "Recording VM-Exit Information":
 * exit qualification for I/O and CR accesses) given the registers of the moment. MMIO decoding
 * accepts the MOV forms only. Machine code is given as bytes (assembled with GNU as). */
#include <criterion/criterion.h>

#include "../sim/decode.h"

#include <string.h>

struct fake_regs {
	uint64_t gpr[GPR_COUNT];
	uint64_t fs, gs;
	const uint8_t *mem; /* linear address 0x1000 maps to mem[0] */
	size_t mem_len;
};

static uint64_t fake_gpr(void *ctx, unsigned gpr)
{
	return ((struct fake_regs *)ctx)->gpr[gpr];
}

static uint64_t fake_seg(void *ctx, unsigned seg)
{
	struct fake_regs *f = ctx;

	return seg == DEC_SEG_FS ? f->fs : f->gs;
}

static bool fake_mem(void *ctx, uint64_t la, void *buf, size_t len)
{
	struct fake_regs *f = ctx;

	if (la < 0x1000 || la - 0x1000 + len > f->mem_len)
		return false;
	memcpy(buf, f->mem + (la - 0x1000), len);
	return true;
}

static struct dec_regs regs_of(struct fake_regs *f)
{
	return (struct dec_regs){.gpr = fake_gpr, .seg_base = fake_seg, .mem = fake_mem, .ctx = f};
}

struct insn_case {
	const char *name;
	uint8_t mode;
	uint8_t bytes[15];
	uint8_t len;
	uint8_t cls;
	uint8_t kind;
};

/* SDM 26.1.3 "Instructions That Cause VM Exits Conditionally" plus RDTSC/RDMSR/... that Unicorn
 * would run against host state. */
static const struct insn_case exit_cases[] = {
    {"cpuid", DEC_MODE_64, {0x0f, 0xa2}, 2, DEC_OP, GOP_CPUID},
    {"rdmsr", DEC_MODE_64, {0x0f, 0x32}, 2, DEC_OP, GOP_RDMSR},
    {"wrmsr", DEC_MODE_64, {0x0f, 0x30}, 2, DEC_OP, GOP_WRMSR},
    {"rdtsc", DEC_MODE_64, {0x0f, 0x31}, 2, DEC_OP, GOP_RDTSC},
    {"rdtscp", DEC_MODE_64, {0x0f, 0x01, 0xf9}, 3, DEC_OP, GOP_RDTSCP},
    {"rdpmc", DEC_MODE_64, {0x0f, 0x33}, 2, DEC_OP, GOP_RDPMC},
    {"hlt", DEC_MODE_64, {0xf4}, 1, DEC_OP, GOP_HLT},
    {"pause", DEC_MODE_64, {0xf3, 0x90}, 2, DEC_OP, GOP_PAUSE},
    {"monitor", DEC_MODE_64, {0x0f, 0x01, 0xc8}, 3, DEC_OP, GOP_MONITOR},
    {"mwait", DEC_MODE_64, {0x0f, 0x01, 0xc9}, 3, DEC_OP, GOP_MWAIT},
    {"in al, 0x60", DEC_MODE_64, {0xe4, 0x60}, 2, DEC_OP, GOP_IO},
    {"out dx, eax", DEC_MODE_64, {0xef}, 1, DEC_OP, GOP_IO},
    {"rep insb", DEC_MODE_64, {0xf3, 0x6c}, 2, DEC_OP, GOP_IO},
    {"rep outsw", DEC_MODE_64, {0x66, 0xf3, 0x6f}, 3, DEC_OP, GOP_IO},
    {"vmcall", DEC_MODE_64, {0x0f, 0x01, 0xc1}, 3, DEC_OP, GOP_VMCALL},
    {"vmmcall", DEC_MODE_64, {0x0f, 0x01, 0xd9}, 3, DEC_OP, GOP_VMMCALL},
    {"tdcall", DEC_MODE_64, {0x66, 0x0f, 0x01, 0xcc}, 4, DEC_OP, GOP_TDCALL},
    {"seamcall", DEC_MODE_64, {0x66, 0x0f, 0x01, 0xcf}, 4, DEC_OP, GOP_SEAMCALL},
    {"invlpg [rax+8]", DEC_MODE_64, {0x0f, 0x01, 0x78, 0x08}, 4, DEC_OP, GOP_INVLPG},
    {"invd", DEC_MODE_64, {0x0f, 0x08}, 2, DEC_OP, GOP_INVD},
    {"wbinvd", DEC_MODE_64, {0x0f, 0x09}, 2, DEC_OP, GOP_WBINVD},
    {"xsetbv", DEC_MODE_64, {0x0f, 0x01, 0xd1}, 3, DEC_OP, GOP_XSETBV},
    {"mov cr0, rax", DEC_MODE_64, {0x0f, 0x22, 0xc0}, 3, DEC_OP, GOP_CR},
    {"mov rbx, cr3", DEC_MODE_64, {0x0f, 0x20, 0xdb}, 3, DEC_OP, GOP_CR},
    {"mov cr4, r9", DEC_MODE_64, {0x41, 0x0f, 0x22, 0xe1}, 4, DEC_OP, GOP_CR},
    {"mov cr8, rcx", DEC_MODE_64, {0x44, 0x0f, 0x22, 0xc1}, 4, DEC_OP, GOP_CR},
    {"mov rdx, cr8", DEC_MODE_64, {0x44, 0x0f, 0x20, 0xc2}, 4, DEC_OP, GOP_CR},
    {"clts", DEC_MODE_64, {0x0f, 0x06}, 2, DEC_OP, GOP_CR},
    {"lmsw ax", DEC_MODE_64, {0x0f, 0x01, 0xf0}, 3, DEC_OP, GOP_CR},
    {"rdrand eax", DEC_MODE_64, {0x0f, 0xc7, 0xf0}, 3, DEC_OP, GOP_RDRAND},
    {"rdseed r10", DEC_MODE_64, {0x49, 0x0f, 0xc7, 0xfa}, 4, DEC_OP, GOP_RDSEED},
    {"32-bit in al, dx", DEC_MODE_32, {0xec}, 1, DEC_OP, GOP_IO},
    {"32-bit mov cr3, eax", DEC_MODE_32, {0x0f, 0x22, 0xd8}, 3, DEC_OP, GOP_CR},
    {"16-bit rep insw", DEC_MODE_16, {0xf3, 0x6d}, 2, DEC_OP, GOP_IO},
    {"16-bit mov eax, cr0", DEC_MODE_16, {0x0f, 0x20, 0xc0}, 3, DEC_OP, GOP_CR},
    {"mov cr2, rax", DEC_MODE_64, {0x0f, 0x22, 0xd0}, 3, DEC_CR2_WRITE, GOP_CR},
    {"mov rax, cr2", DEC_MODE_64, {0x0f, 0x20, 0xd0}, 3, DEC_NONE, GOP_CR},
    /* SDM Vol. 3A 7.8.1 "Masking Maskable Hardware Interrupts": what may set IF */
    {"sti", DEC_MODE_64, {0xfb}, 1, DEC_IF_WRITE, GOP_NONE},
    {"popfq", DEC_MODE_64, {0x9d}, 1, DEC_IF_WRITE, GOP_NONE},
    {"iretq", DEC_MODE_64, {0x48, 0xcf}, 2, DEC_IF_WRITE, GOP_NONE},
    {"sysretq", DEC_MODE_64, {0x48, 0x0f, 0x07}, 3, DEC_IF_WRITE, GOP_NONE},
    {"32-bit iretd", DEC_MODE_32, {0xcf}, 1, DEC_IF_WRITE, GOP_NONE},
    {"cli (clears IF: an extra stop, no harm)", DEC_MODE_64, {0xfa}, 1, DEC_IF_WRITE, GOP_NONE},
    {"pushfq", DEC_MODE_64, {0x9c}, 1, DEC_NONE, GOP_NONE},
    {"nop", DEC_MODE_64, {0x90}, 1, DEC_NONE, GOP_NONE},
    {"add rax, 1", DEC_MODE_64, {0x48, 0x83, 0xc0, 0x01}, 4, DEC_NONE, GOP_NONE},
    {"mov [rbx+0x300], eax",
     DEC_MODE_64,
     {0x89, 0x83, 0x00, 0x03, 0x00, 0x00},
     6,
     DEC_NONE,
     GOP_NONE},
};

Test(decode, instructions_classify_as_their_kind_with_their_length)
{
	for (size_t i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++) {
		const struct insn_case *c = &exit_cases[i];
		struct dec_insn d;

		cr_assert(dec_insn(c->mode, c->bytes, c->len, &d), "%s: does not decode", c->name);
		cr_expect_eq(d.len, c->len, "%s: length wanted %u, got %u", c->name, c->len, d.len);
		cr_expect_eq(d.cls, c->cls, "%s: class wanted %u, got %u", c->name, c->cls, d.cls);
		if (c->cls != DEC_NONE)
			cr_expect_eq(d.kind, c->kind, "%s: kind wanted %s, got %s", c->name,
			             guest_op_kind_name(c->kind), guest_op_kind_name(d.kind));
	}
}

/* The access an instruction other than MOV makes to an MMIO page (sim/uc_mem.c not_mov_op): a
 * write when it writes a memory operand, explicit or implicit (PUSH, CALL), read-modify-write
 * included; a read otherwise (POP, RET, CMP). */
Test(decode, writes_memory_covers_implicit_and_read_modify_write_operands)
{
	static const struct {
		const char *name;
		uint8_t bytes[5];
		size_t len;
		bool writes;
	} rows[] = {
	    {"push rax", {0x50}, 1, true},
	    {"call rel32", {0xe8, 0, 0, 0, 0}, 5, true},
	    {"pop rbx", {0x5b}, 1, false},
	    {"ret", {0xc3}, 1, false},
	    {"add dword [rax], 1", {0x83, 0x00, 0x01}, 3, true},
	    {"cmp dword [rax], 1", {0x83, 0x38, 0x01}, 3, false},
	    {"lea rax, [rbx] (no access)", {0x48, 0x8d, 0x03}, 3, false},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(dec_writes_memory(DEC_MODE_64, rows[i].bytes, rows[i].len),
		             rows[i].writes, "%s", rows[i].name);
}

Test(decode, truncated_bytes_do_not_decode)
{
	static const uint8_t store[] = {0x89, 0x83, 0x00, 0x03};
	struct dec_insn d;

	cr_expect_not(dec_insn(DEC_MODE_64, store, sizeof(store), &d),
	              "a 6-byte MOV given 4 bytes decoded (len %u)", d.len);
	cr_expect_eq(d.len, 0, "failed decode left len %u", d.len);
}

static struct guest_op op_for(uint8_t mode, const uint8_t *bytes, size_t n, struct fake_regs *f)
{
	struct dec_insn d;
	struct dec_regs r = regs_of(f);
	struct guest_op op;

	memset(&op, 0xee, sizeof(op));
	cr_assert(dec_insn(mode, bytes, n, &d), "bytes do not decode");
	dec_build_op(&d, 0x8000, &r, &op);
	return op;
}

/* SDM Table 28-5 "Exit Qualification for I/O Instructions". */
Test(decode, io_operands_follow_the_encoding)
{
	struct fake_regs f = {.gpr = {[GPR_RAX] = 0x11223344, [GPR_RDX] = 0x3f8}};
	static const uint8_t out_dx_ax[] = {0x66, 0xef}, in_imm[] = {0xe4, 0x60};
	struct guest_op a = op_for(DEC_MODE_64, out_dx_ax, 2, &f);
	struct guest_op b = op_for(DEC_MODE_64, in_imm, 2, &f);

	cr_expect(a.kind == GOP_IO && !a.u.io.in && !a.u.io.imm && !a.u.io.string,
	          "out dx, ax: wanted a non-string OUT through DX");
	cr_expect_eq(a.u.io.port, 0x3f8, "out dx, ax: port wanted 0x3f8, got %#x", a.u.io.port);
	cr_expect_eq(a.u.io.size, 2, "out dx, ax: size wanted 2, got %u", a.u.io.size);
	cr_expect_eq(a.u.io.value, 0x3344, "out dx, ax: value wanted 0x3344, got %#x",
	             a.u.io.value);
	cr_expect(b.u.io.in && b.u.io.imm && b.u.io.port == 0x60 && b.u.io.size == 1,
	          "in al, 0x60: wanted IN imm port 0x60 size 1, got in=%d imm=%d port=%#x size=%u",
	          b.u.io.in, b.u.io.imm, b.u.io.port, b.u.io.size);
}

Test(decode, rep_string_io_reports_count_address_and_first_element)
{
	static const uint8_t data[] = {0xaa, 0xbb};
	struct fake_regs f = {
	    .gpr = {[GPR_RCX] = UINT64_C(0xffffffff00000005), [GPR_RDX] = 0x80, [GPR_RSI] = 0x1000},
	    .mem = data,
	    .mem_len = sizeof(data)};
	static const uint8_t rep_outsw[] = {0x66, 0xf3, 0x6f}, rep_outsb32[] = {0xf3, 0x6e};
	struct guest_op w = op_for(DEC_MODE_64, rep_outsw, 3, &f);
	struct guest_op b = op_for(DEC_MODE_32, rep_outsb32, 2, &f);

	cr_expect(w.u.io.string && w.u.io.rep && !w.u.io.in, "rep outsw: wanted REP string OUT");
	cr_expect_eq(w.u.io.count, UINT64_C(0xffffffff00000005),
	             "rep outsw (64-bit addresses): count wanted RCX, got %#llx",
	             (unsigned long long)w.u.io.count);
	cr_expect_eq(b.u.io.count, 5, "rep outsb (32-bit addresses): count wanted ECX=5, got %llu",
	             (unsigned long long)b.u.io.count);
	cr_expect_eq(w.u.io.addr, 0x1000, "addr wanted RSI 0x1000, got %#llx",
	             (unsigned long long)w.u.io.addr);
	cr_expect_eq(w.u.io.value, 0xbbaa, "first OUTS element wanted 0xbbaa, got %#x",
	             w.u.io.value);
	cr_expect_eq(b.u.io.addr_size, 4, "32-bit mode address size wanted 4, got %u",
	             b.u.io.addr_size);
}

/* SDM Table 28-3 "Exit Qualification for Control-Register Accesses". */
Test(decode, cr_access_reports_register_type_and_value)
{
	struct fake_regs f = {.gpr = {[GPR_R9] = 0x6f0, [GPR_RAX] = 0xfff1}};
	static const uint8_t to_cr4[] = {0x41, 0x0f, 0x22, 0xe1}, from_cr3[] = {0x0f, 0x20, 0xdb};
	static const uint8_t lmsw_ax[] = {0x0f, 0x01, 0xf0}, from_cr0_32[] = {0x0f, 0x20, 0xc0};
	struct guest_op a = op_for(DEC_MODE_64, to_cr4, 4, &f);
	struct guest_op b = op_for(DEC_MODE_64, from_cr3, 3, &f);
	struct guest_op c = op_for(DEC_MODE_64, lmsw_ax, 3, &f);
	struct guest_op d = op_for(DEC_MODE_32, from_cr0_32, 3, &f);

	cr_expect(a.u.cr.cr == 4 && a.u.cr.access == CR_ACCESS_MOV_TO_CR && a.u.cr.gpr == GPR_R9,
	          "mov cr4, r9: wanted cr 4, to-CR, gpr 9; got cr %u access %u gpr %u", a.u.cr.cr,
	          a.u.cr.access, a.u.cr.gpr);
	cr_expect_eq(a.u.cr.value, 0x6f0, "mov cr4, r9: value wanted 0x6f0, got %#llx",
	             (unsigned long long)a.u.cr.value);
	cr_expect(b.u.cr.cr == 3 && b.u.cr.access == CR_ACCESS_MOV_FROM_CR &&
	              b.u.cr.gpr == GPR_RBX && b.u.cr.size == 8,
	          "mov rbx, cr3: wanted cr 3 from-CR rbx size 8; got %u %u %u %u", b.u.cr.cr,
	          b.u.cr.access, b.u.cr.gpr, b.u.cr.size);
	cr_expect(c.u.cr.access == CR_ACCESS_LMSW && c.u.cr.lmsw == 0xfff1,
	          "lmsw ax: wanted LMSW with 0xfff1, got access %u data %#x", c.u.cr.access,
	          c.u.cr.lmsw);
	cr_expect_eq(d.u.cr.size, 4, "32-bit mov eax, cr0: size wanted 4, got %u", d.u.cr.size);
}

Test(decode, msr_and_cpuid_operands_come_from_ecx_eax_edx)
{
	struct fake_regs f = {.gpr = {[GPR_RAX] = UINT64_C(0xdead00000000000b),
	                              [GPR_RCX] = UINT64_C(0xbeef000000000830),
	                              [GPR_RDX] = 0x12345678}};
	static const uint8_t wrmsr[] = {0x0f, 0x30}, cpuid[] = {0x0f, 0xa2};
	struct guest_op w = op_for(DEC_MODE_64, wrmsr, 2, &f);
	struct guest_op c = op_for(DEC_MODE_64, cpuid, 2, &f);

	cr_expect_eq(w.u.msr.index, 0x830, "wrmsr: index wanted ECX 0x830, got %#x", w.u.msr.index);
	cr_expect_eq(w.u.msr.value, UINT64_C(0x123456780000000b),
	             "wrmsr: value wanted EDX:EAX 0x123456780000000b, got %#llx",
	             (unsigned long long)w.u.msr.value);
	cr_expect(c.u.cpuid.leaf == 0xb && c.u.cpuid.subleaf == 0x830,
	          "cpuid: wanted leaf EAX 0xb subleaf ECX 0x830, got %#x %#x", c.u.cpuid.leaf,
	          c.u.cpuid.subleaf);
}

Test(decode, rdrand_reports_destination_and_width)
{
	struct fake_regs f = {0};
	static const uint8_t r10[] = {0x49, 0x0f, 0xc7, 0xfa}, bx[] = {0x66, 0x0f, 0xc7, 0xf3};
	struct guest_op a = op_for(DEC_MODE_64, r10, 4, &f);
	struct guest_op b = op_for(DEC_MODE_64, bx, 4, &f);

	cr_expect(a.u.rand.gpr == GPR_R10 && a.u.rand.size == 8,
	          "rdseed r10: wanted gpr 10 size 8, got %u %u", a.u.rand.gpr, a.u.rand.size);
	cr_expect(b.u.rand.gpr == GPR_RBX && b.u.rand.size == 2,
	          "rdrand bx: wanted gpr 3 size 2, got %u %u", b.u.rand.gpr, b.u.rand.size);
}

struct mmio_case {
	const char *name;
	uint8_t bytes[15];
	uint8_t len;
	bool write;
	uint8_t size;
	uint64_t gpa;
	uint64_t value; /* stores */
	uint8_t gpr;    /* loads */
	bool high8;
};

static const struct mmio_case mmio_cases[] = {
    {"mov [rbx+0x300], eax",
     {0x89, 0x83, 0x00, 0x03, 0x00, 0x00},
     6,
     true,
     4,
     0xfee00300,
     0x55667788,
     0,
     false},
    {"mov byte [rdi], 0x7f", {0xc6, 0x07, 0x7f}, 3, true, 1, 0xfee000b0, 0x7f, 0, false},
    {"mov qword [rbx], rax",
     {0x48, 0x89, 0x03},
     3,
     true,
     8,
     0xfee00000,
     UINT64_C(0x1122334455667788),
     0,
     false},
    {"mov qword [rbx+rcx*4+0x10], -1",
     {0x48, 0xc7, 0x44, 0x8b, 0x10, 0xff, 0xff, 0xff, 0xff},
     9,
     true,
     8,
     0xfee00000 + 4 * 4 + 0x10,
     UINT64_MAX,
     0,
     false},
    {"mov ah, [rsi+0x20]", {0x8a, 0x66, 0x20}, 3, false, 1, 0xfee00020, 0, GPR_RAX, true},
    {"mov r12w, [rip+0x100]",
     {0x66, 0x44, 0x8b, 0x25, 0x00, 0x01, 0x00, 0x00},
     8,
     false,
     2,
     0x8000 + 8 + 0x100,
     0,
     GPR_R12,
     false},
    {"movabs eax, [0xfee00030]",
     {0xa1, 0x30, 0x00, 0xe0, 0xfe, 0, 0, 0, 0},
     9,
     false,
     4,
     0xfee00030,
     0,
     GPR_RAX,
     false},
    {"mov fs:[rax], ecx", {0x64, 0x89, 0x08}, 3, true, 4, 0xfee00000 + 0x100, 4, 0, false},
};

Test(decode, mmio_mov_forms_give_address_width_and_data)
{
	struct fake_regs f = {.gpr = {[GPR_RAX] = UINT64_C(0x1122334455667788),
	                              [GPR_RBX] = 0xfee00000,
	                              [GPR_RCX] = 4,
	                              [GPR_RSI] = 0xfee00000,
	                              [GPR_RDI] = 0xfee000b0},
	                      .fs = 0xfee00000 + 0x100 - UINT64_C(0x1122334455667788)};

	for (size_t i = 0; i < sizeof(mmio_cases) / sizeof(mmio_cases[0]); i++) {
		const struct mmio_case *c = &mmio_cases[i];
		struct dec_regs r = regs_of(&f);
		const char *why = NULL;
		struct dec_insn d;
		struct guest_op op;

		cr_assert(dec_mmio(DEC_MODE_64, c->bytes, c->len, &d, &why), "%s: refused (%s)",
		          c->name, why);
		dec_build_op(&d, 0x8000, &r, &op);
		cr_expect(op.kind == GOP_MMIO && op.len == c->len, "%s: kind %u len %u", c->name,
		          op.kind, op.len);
		cr_expect_eq(op.u.mmio.gpa, c->gpa, "%s: gpa wanted %#llx, got %#llx", c->name,
		             (unsigned long long)c->gpa, (unsigned long long)op.u.mmio.gpa);
		cr_expect(op.u.mmio.write == c->write && op.u.mmio.size == c->size,
		          "%s: wanted write=%d size=%u, got write=%d size=%u", c->name, c->write,
		          c->size, op.u.mmio.write, op.u.mmio.size);
		if (c->write)
			cr_expect_eq(op.u.mmio.value, c->value, "%s: value wanted %#llx, got %#llx",
			             c->name, (unsigned long long)c->value,
			             (unsigned long long)op.u.mmio.value);
		else
			cr_expect(op.u.mmio.gpr == c->gpr && op.u.mmio.high8 == c->high8,
			          "%s: destination wanted gpr %u high8 %d, got %u %d", c->name,
			          c->gpr, c->high8, op.u.mmio.gpr, op.u.mmio.high8);
	}
}

Test(decode, mmio_by_other_instructions_is_refused_with_a_reason)
{
	static const uint8_t add_mem[] = {0x01, 0x03}, rep_movsb[] = {0xf3, 0xa4};
	const char *why = NULL;
	struct dec_insn d;

	cr_expect_not(dec_mmio(DEC_MODE_64, add_mem, 2, &d, &why), "add [rbx], eax accepted");
	cr_expect(why && strstr(why, "other than MOV"), "reason wanted 'other than MOV', got %s",
	          why ? why : "(null)");
	why = NULL;
	cr_expect_not(dec_mmio(DEC_MODE_64, rep_movsb, 2, &d, &why), "rep movsb accepted");
}

Test(decode, effective_address_wraps_to_the_address_size)
{
	struct fake_regs f = {.gpr = {[GPR_RAX] = 0xfffffff0}};
	struct dec_regs r = regs_of(&f);
	struct dec_mem m32 = {
	    .base = GPR_RAX, .index = DEC_NOREG, .scale = 1, .addr_size = 4, .disp = 0x20};
	struct dec_mem m64 = m32;

	m64.addr_size = 8;
	cr_expect_eq(dec_ea(&m32, 0, 0, &r), 0x10, "32-bit wrap: wanted 0x10, got %#llx",
	             (unsigned long long)dec_ea(&m32, 0, 0, &r));
	cr_expect_eq(dec_ea(&m64, 0, 0, &r), UINT64_C(0x100000010),
	             "64-bit: wanted 0x100000010, got %#llx",
	             (unsigned long long)dec_ea(&m64, 0, 0, &r));
}
