/* The code guest of fuzz_hv_transitions: the guest actions the walker produces (fz_hvt_int.h) run
 * as x86-64 instructions on the vCPU layer (Unicorn, Zydis-decoded exits, real interrupt delivery
 * through the IDT), the same actions as the script twin runs. The image is threaded code: a fixed
 * runtime, the same bytes for every input, holds one routine per instruction form (cpuid / wrmsr /
 * mov [r11], eax / vmptrld [r11] / a dec-jnz compute loop ...) that loads its operands from the
 * current record, executes the instruction and dispatches to the next record; the input is data:
 * records of a routine address and its operands. So a kept machine keeps Unicorn's translations
 * from one input to the next (code that changed bytes at every input was retranslated: 40% of a
 * code guest's time). Layout at FZ_HVT_CODE_GPA: the routines and, at RT_STUBS, one
 * interrupt stub per vector (one page), then the data pages: the handler table, the records of the
 * prologue (one 64-bit interrupt gate per handler vector, SDM 6.14.1, then STI), the main list
 * (ending in an isa-debug-exit OUT) and the handlers (registers saved; IRETQ). Each vCPU's record
 * pointer is its RBP (no exit kvm emulates writes RBP), a repeat's count and body are in R15 and
 * R14 (as the count was before), and the runtime touches the stack only in handlers, as before. The
 * data pages hold no code: Unicorn's translations of the runtime never see a write. Encodings:
 * SDM Vol. 2. */
#include "fz_hvt_int.h"

#include <hvsim/guest_op.h>

#include <stdlib.h>
#include <string.h>

#define HANDLERS_MAX 16
#define MAIN_MAX     12288u              /* record bytes of the main list */
#define LIST_MAX     4096u               /* record bytes of one handler */
#define RT_STUBS     0x600u              /* offset of the interrupt stubs: 8 bytes per vector */
#define RT_DATA      FZ_HVT_CODE_RUNTIME /* offset of the data pages (never translated) */
#define DATA_GPA     (FZ_HVT_CODE_GPA + RT_DATA)
#define DATA_HTAB    0u /* offset in data: per vector, its handler's first operands */
#define DATA_LISTS   (DATA_HTAB + 8u * 256u)
#define SEL_CODE64   0x08u            /* hvsim's 64-bit code selector (docs/vcpu-layer.md) */
#define GATE_INTR64  UINT64_C(0x8e00) /* P=1, DPL 0, type 0xe: 64-bit interrupt gate */
#define DEBUG_EXIT   0xf4u
#define SAVED_REGS   8u /* the stub's pushes above the vector: rax rcx rdx rbx r11 r14 r15 rbp */

/* The registers a routine loads from its record, in record order. */
enum { L_RAX, L_RCX, L_RDX, L_R11, L_NONE };

/* The routines: one per instruction form. */
enum routine {
	R_CPUID,
	R_RDMSR,
	R_RDPMC,
	R_WRMSR,
	R_IN1,
	R_IN2,
	R_IN4,
	R_OUT1,
	R_OUT2,
	R_OUT4,
	R_RD1,
	R_RD2,
	R_RD4,
	R_RD8,
	R_WR1,
	R_WR2,
	R_WR4,
	R_WR8,
	R_ST128,
	R_TDCALL,
	R_SEAMCALL,
	R_VMCALL,
	R_MONITOR,
	R_MWAIT,
	R_INVLPG,
	R_XSETBV,
	R_RDTSC,
	R_RDTSCP,
	R_HLT,
	R_PAUSE,
	R_WBINVD,
	R_STI,
	R_CLI,
	R_INVD,
	R_RDRAND,
	R_RDSEED,
	R_NOP1,
	R_NOP2,
	R_LOOP,
	R_CR0,             /* R_CR0 + n: mov crN, rax (n < 8), R_CR0 + 8: mov cr8, rax */
	R_VMX = R_CR0 + 9, /* R_VMX + enum guest_vmx_insn: the memory forms */
	R_VMREAD_REG = R_VMX + GVMX_COUNT,
	R_VMWRITE_REG,
	R_SIMPLE_COUNT, /* the table-driven ones end here */
	R_REPEAT = R_SIMPLE_COUNT,
	R_REPEAT_END,
	R_END,
	R_IRET,
	R_COUNT,
};

struct form {
	uint8_t loads[3]; /* L_*, L_NONE-terminated */
	uint8_t len;
	const char *bytes;
};

#define F0(b)                                              \
	{                                                  \
		{L_NONE, L_NONE, L_NONE}, sizeof(b) - 1, b \
	}
#define F1(a, b)                                      \
	{                                             \
		{a, L_NONE, L_NONE}, sizeof(b) - 1, b \
	}
#define F2(a, c, b)                              \
	{                                        \
		{a, c, L_NONE}, sizeof(b) - 1, b \
	}
#define F3(a, c, d, b)                      \
	{                                   \
		{a, c, d}, sizeof(b) - 1, b \
	}
#define VMX_MEM(b) F3(L_RAX, L_RCX, L_R11, b)
/* clang-format off */
static const struct form forms[R_SIMPLE_COUNT] = {
    [R_CPUID] = F2(L_RAX, L_RCX, "\x0f\xa2"),
    [R_RDMSR] = F1(L_RCX, "\x0f\x32"),
    [R_RDPMC] = F1(L_RCX, "\x0f\x33"),
    [R_WRMSR] = F3(L_RCX, L_RAX, L_RDX, "\x0f\x30"),
    [R_IN1] = F1(L_RDX, "\xec"),
    [R_IN2] = F1(L_RDX, "\x66\xed"),
    [R_IN4] = F1(L_RDX, "\xed"),
    [R_OUT1] = F2(L_RDX, L_RAX, "\xee"),
    [R_OUT2] = F2(L_RDX, L_RAX, "\x66\xef"),
    [R_OUT4] = F2(L_RDX, L_RAX, "\xef"),
    [R_RD1] = F1(L_R11, "\x41\x8a\x03"),           /* mov al, [r11] */
    [R_RD2] = F1(L_R11, "\x66\x41\x8b\x03"),       /* mov ax, [r11] */
    [R_RD4] = F1(L_R11, "\x41\x8b\x03"),           /* mov eax, [r11] */
    [R_RD8] = F1(L_R11, "\x49\x8b\x03"),           /* mov rax, [r11] */
    [R_WR1] = F2(L_RAX, L_R11, "\x41\x88\x03"),    /* mov [r11], al */
    [R_WR2] = F2(L_RAX, L_R11, "\x66\x41\x89\x03"), /* mov [r11], ax */
    [R_WR4] = F2(L_RAX, L_R11, "\x41\x89\x03"),    /* mov [r11], eax */
    [R_WR8] = F2(L_RAX, L_R11, "\x49\x89\x03"),    /* mov [r11], rax */
    /* mov [r11], rax; mov [r11 + 8], rdx: an m128 operand, an IDT gate */
    [R_ST128] = F3(L_RAX, L_RDX, L_R11, "\x49\x89\x03\x49\x89\x53\x08"),
    [R_TDCALL] = F1(L_RAX, "\x66\x0f\x01\xcc"),
    [R_SEAMCALL] = F1(L_RAX, "\x66\x0f\x01\xcf"),
    [R_VMCALL] = F1(L_RAX, "\x0f\x01\xc1"),
    [R_MONITOR] = F3(L_RAX, L_RCX, L_RDX, "\x0f\x01\xc8"),
    [R_MWAIT] = F2(L_RAX, L_RCX, "\x0f\x01\xc9"),
    [R_INVLPG] = F1(L_RAX, "\x0f\x01\x38"),        /* invlpg [rax] */
    [R_XSETBV] = F3(L_RCX, L_RAX, L_RDX, "\x0f\x01\xd1"),
    [R_RDTSC] = F0("\x0f\x31"),
    [R_RDTSCP] = F0("\x0f\x01\xf9"),
    [R_HLT] = F0("\xf4"),
    [R_PAUSE] = F0("\xf3\x90"),
    [R_WBINVD] = F0("\x0f\x09"),
    [R_STI] = F0("\xfb"),
    [R_CLI] = F0("\xfa"),
    [R_INVD] = F0("\x0f\x08"),
    [R_RDRAND] = F0("\x48\x0f\xc7\xf0"),           /* rdrand rax */
    [R_RDSEED] = F0("\x48\x0f\xc7\xf8"),           /* rdseed rax */
    [R_NOP1] = F0("\x90"),
    [R_NOP2] = F0("\x90\x90"),
    [R_LOOP] = F1(L_RCX, "\xff\xc9\x75\xfc"),      /* L: dec ecx; jnz L */
    [R_CR0 + 0] = F1(L_RAX, "\x0f\x22\xc0"),
    [R_CR0 + 1] = F1(L_RAX, "\x0f\x22\xc8"),
    [R_CR0 + 2] = F1(L_RAX, "\x0f\x22\xd0"),
    [R_CR0 + 3] = F1(L_RAX, "\x0f\x22\xd8"),
    [R_CR0 + 4] = F1(L_RAX, "\x0f\x22\xe0"),
    [R_CR0 + 5] = F1(L_RAX, "\x0f\x22\xe8"),
    [R_CR0 + 6] = F1(L_RAX, "\x0f\x22\xf0"),
    [R_CR0 + 7] = F1(L_RAX, "\x0f\x22\xf8"),
    [R_CR0 + 8] = F1(L_RAX, "\x44\x0f\x22\xc0"),   /* mov cr8, rax */
    /* The VMX instructions with [r11] memory operands and RCX as ModRM.reg (SDM Vol. 2 ch. 6
     * "VMX Instruction Reference"): VMXON F3 0F C7 /6, VMCLEAR 66 0F C7 /6, VMPTRLD 0F C7 /6,
     * VMPTRST 0F C7 /7, VMREAD 0F 78 /r, VMWRITE 0F 79 /r, INVEPT 66 0F 38 80 /r, INVVPID
     * 66 0F 38 81 /r, VMLAUNCH/VMRESUME/VMXOFF 0F 01 C2/C3/C4; the register forms of VMREAD
     * and VMWRITE with RAX: vmread rax, rcx (0F 78 C8), vmwrite rcx, rax (0F 79 C8). */
    [R_VMX + GVMX_VMXON] = VMX_MEM("\xf3\x41\x0f\xc7\x33"),
    [R_VMX + GVMX_VMCLEAR] = VMX_MEM("\x66\x41\x0f\xc7\x33"),
    [R_VMX + GVMX_VMPTRLD] = VMX_MEM("\x41\x0f\xc7\x33"),
    [R_VMX + GVMX_VMPTRST] = VMX_MEM("\x41\x0f\xc7\x3b"),
    [R_VMX + GVMX_VMREAD] = VMX_MEM("\x41\x0f\x78\x0b"),
    [R_VMX + GVMX_VMWRITE] = VMX_MEM("\x41\x0f\x79\x0b"),
    [R_VMX + GVMX_INVEPT] = VMX_MEM("\x66\x41\x0f\x38\x80\x0b"),
    [R_VMX + GVMX_INVVPID] = VMX_MEM("\x66\x41\x0f\x38\x81\x0b"),
    [R_VMX + GVMX_VMLAUNCH] = F0("\x0f\x01\xc2"),
    [R_VMX + GVMX_VMRESUME] = F0("\x0f\x01\xc3"),
    [R_VMX + GVMX_VMXOFF] = F0("\x0f\x01\xc4"),
    [R_VMREAD_REG] = F1(L_RCX, "\x0f\x78\xc8"),
    [R_VMWRITE_REG] = F2(L_RCX, L_RAX, "\x0f\x79\xc8"),
};
/* clang-format on */

/* A byte buffer that notes overflow instead of growing. */
struct buf {
	uint8_t *b;
	size_t len, cap;
	bool overflow;
};

struct list {
	int vector; /* -1: main */
	struct buf recs;
};

struct code {
	uint64_t rt[R_COUNT]; /* guest-physical address of each routine */
	struct list lists[1 + HANDLERS_MAX];
	unsigned n;
	bool overflow;
	uint8_t main_b[MAIN_MAX];
	uint8_t handler_b[HANDLERS_MAX][LIST_MAX];
};

static void put(struct buf *o, const void *b, size_t n)
{
	if (o->len + n > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->b + o->len, b, n);
	o->len += n;
}

static void put_le(struct buf *o, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(o, b, bytes);
}

/* opcode bytes, then a little-endian value (an absolute disp32, an immediate) */
static void put_op(struct buf *o, const char *ops, size_t n, uint64_t v, unsigned bytes)
{
	put(o, ops, n);
	put_le(o, v, bytes);
}

/* ---- the runtime ---- */

/* mov rax, [rbp - 8]; jmp rax: data is read by MOVs only, which hvsim completes when an EPT
 * zap leaves the page to a fault (docs/vcpu-layer.md). */
static void jump(struct buf *o)
{
	put(o, "\x48\x8b\x45\xf8\xff\xe0", 6);
}

/* The next record: rbp += 8 * (operands + 1); its routine. */
static void next(struct buf *o, unsigned operands)
{
	put(o, "\x48\x83\xc5", 3); /* add rbp, imm8 */
	put_le(o, 8u * (operands + 1), 1);
	jump(o);
}

/* mov reg, [rbp + 8 * slot] for each load. */
static unsigned loads(struct buf *o, const uint8_t *l)
{
	static const char *const enc[L_NONE] = {"\x48\x8b\x45", "\x48\x8b\x4d", "\x48\x8b\x55",
	                                        "\x4c\x8b\x5d"};
	unsigned n = 0;

	for (; n < 3 && l[n] != L_NONE; n++) {
		put(o, enc[l[n]], 3);
		put_le(o, 8u * n, 1);
	}
	return n;
}

/* REPEAT (count): r15 = count, r14 = the body's first operands. REPEAT_END: dec r15d; back to
 * the body while not zero. The walker never nests repeats. */
static void repeat_routines(struct code *c, struct buf *o)
{
	size_t back;

	c->rt[R_REPEAT] = FZ_HVT_CODE_GPA + o->len;
	put(o, "\x4c\x8b\x7d\x00", 4); /* mov r15, [rbp] */
	put(o, "\x4c\x8d\x75\x10", 4); /* lea r14, [rbp + 16] */
	next(o, 1);
	c->rt[R_REPEAT_END] = FZ_HVT_CODE_GPA + o->len;
	put(o, "\x41\xff\xcf\x75", 4); /* dec r15d; jnz back */
	back = o->len;
	put_le(o, 0, 1);
	next(o, 0);
	if (!o->overflow)
		o->b[back] = (uint8_t)(o->len - back - 1);
	put(o, "\x4c\x89\xf5", 3); /* back: mov rbp, r14 */
	jump(o);
}

/* END: mov al, 0; out DEBUG_EXIT, al; then hlt; jmp back, should the exit not end the run.
 * IRET: the stub's saves back, the vector dropped, iretq. */
static void tail_routines(struct code *c, struct buf *o)
{
	static const uint8_t end[] = {0xb0, 0x00, 0xe6, DEBUG_EXIT, 0xf4, 0xeb, 0xfd};

	c->rt[R_END] = FZ_HVT_CODE_GPA + o->len;
	put(o, end, sizeof(end));
	c->rt[R_IRET] = FZ_HVT_CODE_GPA + o->len;
	put(o, "\x5d\x41\x5f\x41\x5e\x41\x5b", 7); /* pop rbp, r15, r14, r11 */
	put(o, "\x5b\x5a\x59\x58", 4);             /* pop rbx, rdx, rcx, rax */
	put(o, "\x48\x8d\x64\x24\x08\x48\xcf", 7); /* lea rsp, [rsp + 8]; iretq */
}

/* The stubs' common part: saves, then rbp = the vector's handler's first operands. */
static uint64_t common_entry(struct buf *o, uint32_t htab)
{
	uint64_t at = FZ_HVT_CODE_GPA + o->len;

	put(o, "\x50\x51\x52\x53\x41\x53", 6); /* push rax, rcx, rdx, rbx, r11 */
	put(o, "\x41\x56\x41\x57\x55", 5);     /* push r14, r15, rbp */
	put(o, "\x0f\xb6\x44\x24", 4);         /* movzx eax, byte [rsp + 8 * SAVED] */
	put_le(o, 8u * SAVED_REGS, 1);
	put_op(o, "\x48\x8b\x2c\xc5", 4, htab, 4); /* mov rbp, [rax * 8 + htab] */
	jump(o);
	return at;
}

/* The fixed code pages: entry, routines, common handler entry; stubs at RT_STUBS. */
static void runtime(struct code *c, struct buf *o)
{
	uint64_t common;

	/* entry: mov ebp, the prologue's first operands; its routine */
	put_op(o, "\xbd", 1, DATA_GPA + DATA_LISTS + 8, 4);
	jump(o);
	for (unsigned r = 0; r < R_SIMPLE_COUNT; r++) {
		unsigned n;

		c->rt[r] = FZ_HVT_CODE_GPA + o->len;
		n = loads(o, forms[r].loads);
		put(o, forms[r].bytes, forms[r].len);
		next(o, n);
	}
	repeat_routines(c, o);
	tail_routines(c, o);
	common = common_entry(o, (uint32_t)(DATA_GPA + DATA_HTAB));
	if (o->len > RT_STUBS) {
		o->overflow = true;
		return;
	}
	memset(o->b + o->len, 0xcc, RT_STUBS - o->len);
	o->len = RT_STUBS;
	for (unsigned v = 0; v < 256; v++) { /* push imm8 v; jmp common; int3 */
		uint64_t after = FZ_HVT_CODE_GPA + o->len + 7;

		put_op(o, "\x6a", 1, v, 1);
		put_op(o, "\xe9", 1, (uint32_t)(common - after), 4);
		put(o, "\xcc", 1);
	}
}

/* ---- the records ---- */

static void record(struct list *l, enum routine r, const struct code *c, const uint64_t *ops,
                   unsigned n)
{
	put_le(&l->recs, c->rt[r], 8);
	for (unsigned i = 0; i < n; i++)
		put_le(&l->recs, ops[i], 8);
}

static void rec0(struct list *l, const struct code *c, enum routine r)
{
	record(l, r, c, NULL, 0);
}

static void rec1(struct list *l, const struct code *c, enum routine r, uint64_t a)
{
	record(l, r, c, &a, 1);
}

static void rec2(struct list *l, const struct code *c, enum routine r, uint64_t a, uint64_t b)
{
	const uint64_t ops[2] = {a, b};

	record(l, r, c, ops, 2);
}

static void rec3(struct list *l, const struct code *c, enum routine r, uint64_t a, uint64_t b,
                 uint64_t d)
{
	const uint64_t ops[3] = {a, b, d};

	record(l, r, c, ops, 3);
}

static unsigned size_index(uint8_t size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 8 ? 3 : 2;
}

static void mmio(struct list *l, const struct code *c, const struct script_action *a)
{
	unsigned s = size_index(a->size);

	if (a->op == SOP_MMIO_READ)
		rec1(l, c, (enum routine)(R_RD1 + s), a->addr);
	else
		rec2(l, c, (enum routine)(R_WR1 + s), a->value, a->addr);
}

static void port_io(struct list *l, const struct code *c, const struct script_action *a)
{
	unsigned s = a->size == 1 ? 0 : a->size == 2 ? 1 : 2;

	if (a->op == SOP_OUT)
		rec2(l, c, (enum routine)(R_OUT1 + s), a->index & 0xffff, (uint32_t)a->value);
	else
		rec1(l, c, (enum routine)(R_IN1 + s), a->index & 0xffff);
}

/* n instructions: NOPs, or ecx = k; L: dec ecx; jnz L (2k + the load) */
static void compute(struct list *l, const struct code *c, uint64_t n)
{
	if (n == 1 || n == 2)
		rec0(l, c, n == 1 ? R_NOP1 : R_NOP2);
	else if (n >= 3)
		rec1(l, c, R_LOOP, (uint32_t)((n - 1) / 2));
}

/* mov crN, rax; N as the ModRM.reg the action's number encodes (cr8 has its own form). */
static void mov_cr(struct list *l, const struct code *c, const struct script_action *a)
{
	rec1(l, c, (enum routine)(R_CR0 + (a->cr == 8 ? 8 : (a->cr & 7u))), a->value);
}

/* The stored memory operand first (an m128's high quadword at [r11 + 8]), then the instruction
 * with r11 = address, rcx = field or type, rax = VMWRITE's register source. */
static void vmx_insn(struct list *l, const struct code *c, const struct script_action *a)
{
	uint8_t insn = a->sub < GVMX_COUNT ? (uint8_t)a->sub : GVMX_VMXOFF;
	bool rw = insn == GVMX_VMREAD || insn == GVMX_VMWRITE;
	bool mem = rw ? (a->flags & SCRIPT_VMX_MEM) != 0 : forms[R_VMX + insn].loads[0] != L_NONE;

	if (mem && (a->flags & SCRIPT_VMX_STORE)) {
		if (insn == GVMX_INVEPT || insn == GVMX_INVVPID)
			rec3(l, c, R_ST128, a->value, a->value2, a->addr);
		else
			rec2(l, c, R_WR8, a->value, a->addr);
	}
	if (mem)
		rec3(l, c, (enum routine)(R_VMX + insn), a->value, a->field, a->addr);
	else if (insn == GVMX_VMREAD)
		rec1(l, c, R_VMREAD_REG, a->field);
	else if (insn == GVMX_VMWRITE)
		rec2(l, c, R_VMWRITE_REG, a->field, a->value);
	else
		rec0(l, c, (enum routine)(R_VMX + insn));
}

static void action(struct list *l, const struct code *c, const struct script_action *a);

static void repeat(struct list *l, const struct code *c, const struct script_action *a)
{
	rec1(l, c, R_REPEAT, (uint32_t)a->count);
	for (size_t i = 0; i < a->n_body; i++)
		action(l, c, &a->body[i]);
	rec0(l, c, R_REPEAT_END);
}

static void simple(struct list *l, const struct code *c, enum script_op op)
{
	static const uint8_t r[SOP_OP_MAX] = {
	    [SOP_RDTSC] = R_RDTSC,   [SOP_RDTSCP] = R_RDTSCP, [SOP_HLT] = R_HLT,
	    [SOP_PAUSE] = R_PAUSE,   [SOP_WBINVD] = R_WBINVD, [SOP_STI] = R_STI,
	    [SOP_CLI] = R_CLI,       [SOP_INVD] = R_INVD,     [SOP_RDRAND] = R_RDRAND,
	    [SOP_RDSEED] = R_RDSEED,
	};

	if ((unsigned)op < SOP_OP_MAX && r[op]) /* R_CPUID (0) is no simple routine */
		rec0(l, c, (enum routine)r[op]);
}

static void action(struct list *l, const struct code *c, const struct script_action *a)
{
	switch (a->op) {
	case SOP_CPUID: rec2(l, c, R_CPUID, a->index, a->sub); break;
	case SOP_RDMSR: rec1(l, c, R_RDMSR, a->index); break;
	case SOP_RDPMC: rec1(l, c, R_RDPMC, a->index); break;
	case SOP_WRMSR:
		rec3(l, c, R_WRMSR, a->index, (uint32_t)a->value, (uint32_t)(a->value >> 32));
		break;
	case SOP_IN:
	case SOP_OUT: port_io(l, c, a); break;
	case SOP_MMIO_READ:
	case SOP_MMIO_WRITE:
	case SOP_STORE: mmio(l, c, a); break;
	case SOP_VMX: vmx_insn(l, c, a); break;
	case SOP_TDCALL: rec1(l, c, R_TDCALL, a->value); break;
	case SOP_SEAMCALL: rec1(l, c, R_SEAMCALL, a->value); break;
	case SOP_VMCALL: rec1(l, c, R_VMCALL, a->value); break;
	case SOP_MOV_CR: mov_cr(l, c, a); break;
	case SOP_MONITOR: rec3(l, c, R_MONITOR, a->addr, a->index, a->sub); break;
	case SOP_MWAIT: rec2(l, c, R_MWAIT, a->sub, a->index); break;
	case SOP_INVLPG: rec1(l, c, R_INVLPG, a->addr); break;
	case SOP_XSETBV:
		rec3(l, c, R_XSETBV, a->index, (uint32_t)a->value, (uint32_t)(a->value >> 32));
		break;
	case SOP_COMPUTE: compute(l, c, a->value); break;
	case SOP_REPEAT: repeat(l, c, a); break;
	default: simple(l, c, (enum script_op)a->op); break;
	}
}

static struct list *list_of(struct code *c, int vector)
{
	struct list *l;

	for (unsigned i = 0; i < c->n; i++)
		if (c->lists[i].vector == vector)
			return &c->lists[i];
	if (c->n == 1 + HANDLERS_MAX)
		return NULL;
	l = &c->lists[c->n];
	l->vector = vector;
	l->recs = (struct buf){.b = c->n ? c->handler_b[c->n - 1] : c->main_b,
	                       .cap = c->n ? LIST_MAX : MAIN_MAX};
	c->n++;
	return l;
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

/* ---- linking ---- */

/* The data pages into o: the handler table, the prologue (a 64-bit interrupt gate per
 * handler, SDM Figure 6-8, then STI: scripted guests start with IF set), main, handlers. */
static void data(struct code *c, struct buf *o)
{
	uint8_t pro_b[(HANDLERS_MAX + 1) * 32];
	struct list pro = {.recs = {.b = pro_b, .cap = sizeof(pro_b)}};
	uint64_t htab[256] = {0};
	uint64_t at;

	for (unsigned i = 1; i < c->n; i++) {
		uint64_t h = FZ_HVT_CODE_GPA + RT_STUBS + 8u * (uint8_t)c->lists[i].vector;
		uint64_t lo = (h & 0xffff) | (uint64_t)SEL_CODE64 << 16 | GATE_INTR64 << 32 |
		              ((h >> 16) & 0xffff) << 48;

		rec3(&pro, c, R_ST128, lo, h >> 32, FZ_HVT_IDT_GPA + 16u * c->lists[i].vector);
	}
	rec0(&pro, c, R_STI);
	rec0(&c->lists[0], c, R_END);
	at = DATA_GPA + DATA_LISTS + pro.recs.len + c->lists[0].recs.len;
	for (unsigned i = 1; i < c->n; i++) {
		rec0(&c->lists[i], c, R_IRET);
		htab[(uint8_t)c->lists[i].vector] = at + 8;
		at += c->lists[i].recs.len;
	}
	for (unsigned v = 0; v < 256; v++)
		put_le(o, htab[v], 8);
	put(o, pro.recs.b, pro.recs.len);
	for (unsigned i = 0; i < c->n; i++)
		put(o, c->lists[i].recs.b, c->lists[i].recs.len);
	c->overflow |= pro.recs.overflow;
	for (unsigned i = 0; i < c->n; i++)
		c->overflow |= c->lists[i].recs.overflow;
}

size_t fz_hvt_code(const struct fz_hvt_input *in, uint8_t *buf, size_t cap)
{
	struct code *c = malloc(sizeof(*c));
	struct fz_hvt_sink sink = {.action = code_action, .event = NULL, .ctx = c};
	struct buf o = {.b = buf, .cap = cap};
	size_t n = 0;

	if (!c)
		return 0;
	c->n = 0;
	c->overflow = false;
	list_of(c, -1);
	runtime(c, &o);
	fz_hvt_walk(in, &sink);
	if (!o.overflow && o.len == RT_STUBS + 8u * 256u && cap >= RT_DATA) {
		memset(buf + o.len, 0xcc, RT_DATA - o.len);
		o.len = RT_DATA;
		data(c, &o);
		n = c->overflow || o.overflow ? 0 : o.len;
	}
	free(c);
	return n;
}
