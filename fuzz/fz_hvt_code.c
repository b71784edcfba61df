/* The code guest of fuzz_hv_transitions: each guest action the walker produces (fz_hvt_int.h)
 * becomes a fixed x86-64 fragment with its operands as immediates (mov ecx, MSR; wrmsr / mov r11d,
 * address; mov [r11], value / a dec-jnz loop for compute, ...), so a code guest runs the same
 * actions as its script twin, but as instructions on the vCPU layer (Unicorn, Zydis-decoded exits,
 * real interrupt delivery through the IDT). Layout at FZ_HVT_CODE_GPA: a prologue writing one
 * 64-bit interrupt gate per handler vector into the IDT hvsim's set-up placed at FZ_HVT_IDT_GPA
 * (SDM 6.14.1), then STI; the main list; an isa-debug-exit OUT that ends the run; the handlers,
 * each saving the registers the fragments use and returning with IRETQ. Encodings: SDM Vol. 2. */
#include "fz_hvt_int.h"

#include <hvsim/guest_op.h>

#include <stdlib.h>
#include <string.h>

#define HANDLERS_MAX 16
#define LIST_MAX     4608u /* bytes of one list: 96 operations of at most ~45 bytes */
#define GATE_BYTES   18    /* mov rax, imm64; mov [disp32], rax: per quadword of a gate */
#define SEL_CODE64   0x08u /* hvsim's 64-bit code selector (docs/vcpu-layer.md) */
#define GATE_INTR64  UINT64_C(0x8e00) /* P=1, DPL 0, type 0xe: 64-bit interrupt gate */
#define DEBUG_EXIT   0xf4u

struct list {
	int vector; /* -1: main */
	uint8_t b[LIST_MAX];
	size_t len;
};

struct code {
	struct list lists[2 + HANDLERS_MAX]; /* main, handlers, and link()'s prologue */
	unsigned n;
	bool overflow;
};

static void emit(struct list *l, struct code *c, const uint8_t *b, size_t n)
{
	if (l->len + n > LIST_MAX) {
		c->overflow = true;
		return;
	}
	memcpy(l->b + l->len, b, n);
	l->len += n;
}

static void emit_imm(struct list *l, struct code *c, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	emit(l, c, b, bytes);
}

/* opcode bytes, then an immediate */
static void op_imm(struct list *l, struct code *c, const char *ops, size_t n, uint64_t v,
                   unsigned bytes)
{
	emit(l, c, (const uint8_t *)ops, n);
	emit_imm(l, c, v, bytes);
}

static void mov_ecx(struct list *l, struct code *c, uint32_t v)
{
	op_imm(l, c, "\xb9", 1, v, 4);
}

static void mov_eax(struct list *l, struct code *c, uint32_t v)
{
	op_imm(l, c, "\xb8", 1, v, 4);
}

static void mov_rax(struct list *l, struct code *c, uint64_t v)
{
	op_imm(l, c, "\x48\xb8", 2, v, 8);
}

static void mov_edx(struct list *l, struct code *c, uint32_t v)
{
	op_imm(l, c, "\xba", 1, v, 4);
}

/* mov r11d, gpa (zero-extended), then the access through [r11] */
static void mmio_read(struct list *l, struct code *c, const struct script_action *a)
{
	op_imm(l, c, "\x41\xbb", 2, a->addr, 4);
	switch (a->size) {
	case 1: emit(l, c, (const uint8_t *)"\x41\x8a\x03", 3); break;     /* mov al, [r11] */
	case 2: emit(l, c, (const uint8_t *)"\x66\x41\x8b\x03", 4); break; /* mov ax, [r11] */
	case 8: emit(l, c, (const uint8_t *)"\x49\x8b\x03", 3); break;     /* mov rax, [r11] */
	default: emit(l, c, (const uint8_t *)"\x41\x8b\x03", 3); break;    /* mov eax, [r11] */
	}
}

static void mmio_write(struct list *l, struct code *c, const struct script_action *a)
{
	op_imm(l, c, "\x41\xbb", 2, a->addr, 4);
	switch (a->size) {
	case 1: op_imm(l, c, "\x41\xc6\x03", 3, a->value, 1); break;     /* mov byte [r11], ib */
	case 2: op_imm(l, c, "\x66\x41\xc7\x03", 4, a->value, 2); break; /* mov word [r11], iw */
	case 8:
		mov_rax(l, c, a->value);
		emit(l, c, (const uint8_t *)"\x49\x89\x03", 3); /* mov [r11], rax */
		break;
	default: op_imm(l, c, "\x41\xc7\x03", 3, a->value, 4); break; /* mov dword [r11], id */
	}
}

static void port_io(struct list *l, struct code *c, const struct script_action *a)
{
	bool out = a->op == SOP_OUT;

	mov_edx(l, c, a->index & 0xffff);
	if (out)
		mov_eax(l, c, (uint32_t)a->value);
	if (a->size == 1)
		emit(l, c, (const uint8_t *)(out ? "\xee" : "\xec"), 1);
	else if (a->size == 2)
		emit(l, c, (const uint8_t *)(out ? "\x66\xef" : "\x66\xed"), 2);
	else
		emit(l, c, (const uint8_t *)(out ? "\xef" : "\xed"), 1);
}

/* n instructions: NOPs, or mov ecx, k; L: dec ecx; jnz L (1 + 2k instructions) */
static void compute(struct list *l, struct code *c, uint64_t n)
{
	if (n < 3) {
		for (uint64_t i = 0; i < n; i++)
			emit(l, c, (const uint8_t *)"\x90", 1);
		return;
	}
	mov_ecx(l, c, (uint32_t)((n - 1) / 2));
	emit(l, c, (const uint8_t *)"\xff\xc9\x75\xfc", 4);
}

static void mov_cr(struct list *l, struct code *c, const struct script_action *a)
{
	mov_rax(l, c, a->value);
	if (a->cr == 8)
		emit(l, c, (const uint8_t *)"\x44\x0f\x22\xc0", 4); /* mov cr8, rax */
	else
		op_imm(l, c, "\x0f\x22", 2, 0xc0u | (unsigned)a->cr << 3, 1); /* mov crN, rax */
}

static void action(struct list *l, struct code *c, const struct script_action *a);

/* mov r15d, count; L: body; dec r15d; jnz L */
static void repeat(struct list *l, struct code *c, const struct script_action *a)
{
	size_t top;

	op_imm(l, c, "\x41\xbf", 2, a->count, 4);
	top = l->len;
	for (size_t i = 0; i < a->n_body; i++)
		action(l, c, &a->body[i]);
	emit(l, c, (const uint8_t *)"\x41\xff\xcf", 3);
	op_imm(l, c, "\x0f\x85", 2, (uint32_t)(int32_t)((int64_t)top - (int64_t)(l->len + 6)), 4);
}

static void simple(struct list *l, struct code *c, enum script_op op)
{
	static const char *const bytes[SOP_OP_MAX] = {
	    [SOP_RDTSC] = "\x0f\x31",
	    [SOP_RDTSCP] = "\x0f\x01\xf9",
	    [SOP_HLT] = "\xf4",
	    [SOP_PAUSE] = "\xf3\x90",
	    [SOP_WBINVD] = "\x0f\x09",
	    [SOP_STI] = "\xfb",
	    [SOP_CLI] = "\xfa",
	    [SOP_INVD] = "\x0f\x08",
	    [SOP_RDRAND] = "\x48\x0f\xc7\xf0", /* rdrand rax */
	    [SOP_RDSEED] = "\x48\x0f\xc7\xf8", /* rdseed rax */
	};

	if (bytes[op])
		emit(l, c, (const uint8_t *)bytes[op], strlen(bytes[op]));
}

/* monitor: mov rax, addr; mov ecx, ext; mov edx, hints; monitor. mwait: mov eax, hints;
 * mov ecx, ext; mwait. invlpg: mov rax, addr; invlpg [rax]. xsetbv: ecx, eax, edx; xsetbv. */
static void wait_op(struct list *l, struct code *c, const struct script_action *a)
{
	switch (a->op) {
	case SOP_MONITOR:
		mov_rax(l, c, a->addr);
		mov_ecx(l, c, a->index);
		mov_edx(l, c, a->sub);
		emit(l, c, (const uint8_t *)"\x0f\x01\xc8", 3);
		break;
	case SOP_MWAIT:
		mov_eax(l, c, a->sub);
		mov_ecx(l, c, a->index);
		emit(l, c, (const uint8_t *)"\x0f\x01\xc9", 3);
		break;
	case SOP_INVLPG:
		mov_rax(l, c, a->addr);
		emit(l, c, (const uint8_t *)"\x0f\x01\x38", 3);
		break;
	default: /* SOP_XSETBV */
		mov_ecx(l, c, a->index);
		mov_eax(l, c, (uint32_t)a->value);
		mov_edx(l, c, (uint32_t)(a->value >> 32));
		emit(l, c, (const uint8_t *)"\x0f\x01\xd1", 3);
		break;
	}
}

/* The VMX instructions with [r11] memory operands, RCX as ModRM.reg and RAX as VMREAD's and
 * VMWRITE's register operand (SDM Vol. 2 ch. 6 "VMX Instruction Reference"): VMXON F3 0F C7 /6,
 * VMCLEAR 66 0F C7 /6, VMPTRLD 0F C7 /6, VMPTRST 0F C7 /7, VMREAD 0F 78 /r, VMWRITE 0F 79 /r,
 * INVEPT 66 0F 38 80 /r, INVVPID 66 0F 38 81 /r, VMLAUNCH/VMRESUME/VMXOFF 0F 01 C2/C3/C4. */
static const char *const vmx_mem_bytes[GVMX_COUNT] = {
    [GVMX_VMXON] = "\xf3\x41\x0f\xc7\x33",
    [GVMX_VMCLEAR] = "\x66\x41\x0f\xc7\x33",
    [GVMX_VMPTRLD] = "\x41\x0f\xc7\x33",
    [GVMX_VMPTRST] = "\x41\x0f\xc7\x3b",
    [GVMX_VMREAD] = "\x41\x0f\x78\x0b",
    [GVMX_VMWRITE] = "\x41\x0f\x79\x0b",
    [GVMX_INVEPT] = "\x66\x41\x0f\x38\x80\x0b",
    [GVMX_INVVPID] = "\x66\x41\x0f\x38\x81\x0b",
    [GVMX_VMLAUNCH] = "\x0f\x01\xc2",
    [GVMX_VMRESUME] = "\x0f\x01\xc3",
    [GVMX_VMXOFF] = "\x0f\x01\xc4",
};

/* mov r11, addr; the stored operand (mov rax, imm64; mov [r11], rax; an m128's high quadword at
 * [r11 + 8]); mov rcx, field; VMWRITE's register source in RAX; the instruction (vmread rax, rcx
 * and vmwrite rcx, rax in the register forms: 0F 78 C8, 0F 79 C8). */
static void vmx_insn(struct list *l, struct code *c, const struct script_action *a)
{
	uint8_t insn = a->sub < GVMX_COUNT ? (uint8_t)a->sub : GVMX_VMXOFF;
	bool rw = insn == GVMX_VMREAD || insn == GVMX_VMWRITE;
	bool m128 = insn == GVMX_INVEPT || insn == GVMX_INVVPID;
	bool mem = rw ? (a->flags & SCRIPT_VMX_MEM) != 0 : strlen(vmx_mem_bytes[insn]) > 3;
	const char *b = vmx_mem_bytes[insn];

	if (mem)
		op_imm(l, c, "\x49\xbb", 2, a->addr, 8);
	if (mem && (a->flags & SCRIPT_VMX_STORE)) {
		mov_rax(l, c, a->value);
		emit(l, c, (const uint8_t *)"\x49\x89\x03", 3);
		if (m128) {
			mov_rax(l, c, a->value2);
			emit(l, c, (const uint8_t *)"\x49\x89\x43\x08", 4);
		}
	}
	if (rw || m128)
		op_imm(l, c, "\x48\xb9", 2, a->field, 8);
	if (!mem && insn == GVMX_VMWRITE)
		mov_rax(l, c, a->value);
	if (!mem && rw)
		b = insn == GVMX_VMREAD ? "\x0f\x78\xc8" : "\x0f\x79\xc8";
	emit(l, c, (const uint8_t *)b, strlen(b));
}

static void action(struct list *l, struct code *c, const struct script_action *a)
{
	switch (a->op) {
	case SOP_CPUID:
		mov_eax(l, c, a->index);
		mov_ecx(l, c, a->sub);
		emit(l, c, (const uint8_t *)"\x0f\xa2", 2);
		break;
	case SOP_RDMSR:
	case SOP_RDPMC:
		mov_ecx(l, c, a->index);
		emit(l, c, (const uint8_t *)(a->op == SOP_RDMSR ? "\x0f\x32" : "\x0f\x33"), 2);
		break;
	case SOP_WRMSR:
		mov_ecx(l, c, a->index);
		mov_eax(l, c, (uint32_t)a->value);
		mov_edx(l, c, (uint32_t)(a->value >> 32));
		emit(l, c, (const uint8_t *)"\x0f\x30", 2);
		break;
	case SOP_IN:
	case SOP_OUT: port_io(l, c, a); break;
	case SOP_MMIO_READ: mmio_read(l, c, a); break;
	case SOP_MMIO_WRITE:
	case SOP_STORE: mmio_write(l, c, a); break;
	case SOP_VMX: vmx_insn(l, c, a); break;
	case SOP_TDCALL:
		mov_rax(l, c, a->value);
		emit(l, c, (const uint8_t *)"\x66\x0f\x01\xcc", 4);
		break;
	case SOP_SEAMCALL:
		mov_rax(l, c, a->value);
		emit(l, c, (const uint8_t *)"\x66\x0f\x01\xcf", 4);
		break;
	case SOP_VMCALL:
		mov_rax(l, c, a->value);
		emit(l, c, (const uint8_t *)"\x0f\x01\xc1", 3);
		break;
	case SOP_MOV_CR: mov_cr(l, c, a); break;
	case SOP_MONITOR:
	case SOP_MWAIT:
	case SOP_INVLPG:
	case SOP_XSETBV: wait_op(l, c, a); break;
	case SOP_COMPUTE: compute(l, c, a->value); break;
	case SOP_REPEAT: repeat(l, c, a); break;
	default: simple(l, c, (enum script_op)a->op); break;
	}
}

static struct list *list_of(struct code *c, int vector)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->lists[i].vector == vector)
			return &c->lists[i];
	if (c->n == 1 + HANDLERS_MAX)
		return NULL;
	c->lists[c->n].vector = vector;
	c->lists[c->n].len = 0;
	return &c->lists[c->n++];
}

static void code_action(void *ctx, int handler, const struct script_action *a)
{
	struct code *c = ctx;
	struct list *l = list_of(c, handler);

	if (l)
		action(l, c, a);
	else
		c->overflow = true;
}

/* mov rax, quadword; mov [disp32], rax */
static void store_quad(struct list *l, struct code *c, uint32_t gpa, uint64_t quad)
{
	mov_rax(l, c, quad);
	op_imm(l, c, "\x48\x89\x04\x25", 4, gpa, 4);
}

/* A 64-bit interrupt gate for vector at handler address h (SDM Figure 6-8). */
static void gate(struct list *l, struct code *c, uint8_t vector, uint64_t h)
{
	uint64_t lo = (h & 0xffff) | (uint64_t)SEL_CODE64 << 16 | GATE_INTR64 << 32 |
	              ((h >> 16) & 0xffff) << 48;

	store_quad(l, c, FZ_HVT_IDT_GPA + 16u * vector, lo);
	store_quad(l, c, FZ_HVT_IDT_GPA + 16u * vector + 8, h >> 32);
}

static const uint8_t save_regs[] = {0x50, 0x51, 0x52, 0x53, 0x41, 0x53, 0x41, 0x57};
static const uint8_t restore_iret[] = {0x41, 0x5f, 0x41, 0x5b, 0x5b,
                                       0x5a, 0x59, 0x58, 0x48, 0xcf}; /* pops, iretq */
/* mov al, 0; out DEBUG_EXIT, al; then hlt; jmp back, should the exit not end the run */
static const uint8_t epilogue[] = {0xb0, 0x00, 0xe6, DEBUG_EXIT, 0xf4, 0xeb, 0xfd};

static size_t image_size(const struct code *c, size_t *prologue)
{
	size_t n = 0;

	*prologue = (size_t)(c->n - 1) * 2 * GATE_BYTES + 1;
	n = *prologue + c->lists[0].len + sizeof(epilogue);
	for (unsigned i = 1; i < c->n; i++)
		n += sizeof(save_regs) + c->lists[i].len + sizeof(restore_iret);
	return n;
}

static void put(uint8_t *buf, size_t *at, const void *b, size_t n)
{
	memcpy(buf + *at, b, n);
	*at += n;
}

/* Prologue, main, epilogue, handlers, into buf (size checked by the caller). */
static size_t link(struct code *c, uint8_t *buf, size_t prologue)
{
	struct list *pro = &c->lists[c->n]; /* the slot after the last list */
	uint64_t h = FZ_HVT_CODE_GPA + prologue + c->lists[0].len + sizeof(epilogue);
	size_t at = 0;

	pro->len = 0;
	for (unsigned i = 1; i < c->n; i++) {
		gate(pro, c, (uint8_t)c->lists[i].vector, h);
		h += sizeof(save_regs) + c->lists[i].len + sizeof(restore_iret);
	}
	emit(pro, c, (const uint8_t *)"\xfb", 1); /* sti: scripted guests start with IF set */
	put(buf, &at, pro->b, pro->len);
	put(buf, &at, c->lists[0].b, c->lists[0].len);
	put(buf, &at, epilogue, sizeof(epilogue));
	for (unsigned i = 1; i < c->n; i++) {
		put(buf, &at, save_regs, sizeof(save_regs));
		put(buf, &at, c->lists[i].b, c->lists[i].len);
		put(buf, &at, restore_iret, sizeof(restore_iret));
	}
	return at;
}

size_t fz_hvt_code(const struct fz_hvt_input *in, uint8_t *buf, size_t cap)
{
	struct code *c = malloc(sizeof(*c));
	struct fz_hvt_sink sink = {.action = code_action, .event = NULL, .ctx = c};
	size_t prologue, n = 0;

	if (!c)
		return 0;
	c->n = 0;
	c->overflow = false;
	list_of(c, -1);
	fz_hvt_walk(in, &sink);
	if (!c->overflow && image_size(c, &prologue) <= cap)
		n = link(c, buf, prologue);
	if (c->overflow)
		n = 0;
	free(c);
	return n;
}
