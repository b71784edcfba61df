/* Instruction decoding for the instruction-level vCPU (decode.c): which guest instructions must
 * never run inside Unicorn, the operand template of each, and the MMIO access an instruction makes.
 *
 * A template (struct dec_insn) is everything static about an instruction: its class, its length
 * and where its operands live. dec_build_op() turns a template plus the registers at the moment of
 * the exit into the struct guest_op a hypervisor reads, the way hardware fills exit information
 * (SDM 28.2 "Recording VM-Exit Information"). Decoding costs ~0.3 us per instruction, so callers
 * decode each translation block once and keep the templates. */
#ifndef HVSIM_DECODE_H
#define HVSIM_DECODE_H

#include <hvsim/guest_op.h>

enum dec_mode {
	DEC_MODE_16 = 0, /* real mode or a 16-bit code segment */
	DEC_MODE_32 = 1, /* 32-bit protected mode (or compatibility mode) */
	DEC_MODE_64 = 2, /* 64-bit mode */
};

enum dec_class {
	DEC_NONE = 0,      /* runs natively */
	DEC_OP = 1,        /* a guest operation (kind): never runs natively unless passed through */
	DEC_CR2_WRITE = 2, /* MOV to CR2: the backend emulates it to keep its CR2 shadow exact */
	DEC_MMIO = 3, /* a MOV found to access MMIO (by its first page fault): checked each time */
	/* an instruction that may write RFLAGS.IF (STI, POPF, IRET, SYSRET, CLI, ...): runs
	 * natively, but marks where an interrupt window can open (struct guest_backend_ops
	 * arm_if_stop) */
	DEC_IF_WRITE = 4,
};

#define DEC_NOREG 0xff /* no register in a dec_mem slot */
#define DEC_RIP   0xfe /* RIP-relative base */

enum dec_seg { DEC_SEG_DEFAULT = 0, DEC_SEG_FS = 1, DEC_SEG_GS = 2 };

/* A memory operand: base + index * scale + disp, wrapped to the address size. */
struct dec_mem {
	uint8_t base, index; /* enum guest_gpr, DEC_NOREG or DEC_RIP (base) */
	uint8_t scale;       /* 1, 2, 4 or 8 */
	uint8_t seg;         /* enum dec_seg: FS/GS overrides add their base in 64-bit mode */
	uint8_t addr_size;   /* bytes: 2, 4 or 8 */
	int64_t disp;
};

/* A register or immediate source/destination of up to 8 bytes. */
struct dec_val {
	uint8_t gpr;  /* enum guest_gpr, DEC_NOREG for an immediate */
	bool high8;   /* AH, CH, DH, BH */
	uint64_t imm; /* sign-extended to the operand size */
};

struct dec_insn {
	uint8_t len;  /* bytes, 1..15 */
	uint8_t cls;  /* enum dec_class */
	uint8_t kind; /* enum guest_op_kind for DEC_OP */
	uint8_t mode; /* enum dec_mode it was decoded in */
	union {
		struct {
			uint16_t port;     /* immediate port */
			uint8_t size;      /* 1, 2 or 4 */
			uint8_t addr_size; /* string forms */
			bool in, string, rep, imm;
		} io;
		struct {
			uint8_t cr, access, size; /* access: enum guest_cr_access */
			struct dec_val src;       /* MOV to CR, LMSW register source */
			bool src_mem;             /* LMSW m16 */
			struct dec_mem mem;
		} cr;
		struct {
			uint8_t gpr, size;
		} rand;
		struct dec_mem invlpg;
		struct {
			bool write;
			uint8_t size;       /* access bytes */
			struct dec_val val; /* store source or load destination */
			struct dec_mem mem;
		} mmio;
		struct {
			uint8_t insn;       /* enum guest_vmx_insn */
			bool mem;           /* the r/m operand is in memory */
			uint8_t seg;        /* segment of the memory operand, ES 0 .. GS 5 */
			uint8_t reg1, reg2; /* ModRM.rm register form, ModRM.reg; GPR_COUNT: none */
			uint8_t size;       /* register operand size, bytes */
			struct dec_mem m;
		} vmx;
	} u;
};

/* Reads a GPR (enum guest_gpr), and the FS/GS bases, for operand evaluation. */
struct dec_regs {
	uint64_t (*gpr)(void *ctx, unsigned gpr);
	uint64_t (*seg_base)(void *ctx, unsigned seg); /* enum dec_seg, never DEC_SEG_DEFAULT */
	/* Reads guest memory at a linear address (OUTS data, LMSW m16); false when unreadable. */
	bool (*mem)(void *ctx, uint64_t la, void *buf, size_t len);
	void *ctx;
};

/* Decodes the instruction at bytes (avail readable bytes) and classifies it. False when the bytes
 * are not a valid instruction in mode (out->len is then 0). Never reads past avail. */
bool dec_insn(enum dec_mode mode, const uint8_t *bytes, size_t avail, struct dec_insn *out);
/* Whether the instruction at bytes writes a memory operand, explicit or implicit (PUSH, CALL),
 * read-modify-write included. False when it does not decode. */
bool dec_writes_memory(enum dec_mode mode, const uint8_t *bytes, size_t avail);

/* Decodes the instruction as an MMIO access: a MOV between a GPR or an immediate and memory
 * (88/89/8A/8B/C6/C7, A0-A3). False with *why set for any other instruction; out->len is then
 * its length, 0 when the bytes do not decode. */
bool dec_mmio(enum dec_mode mode, const uint8_t *bytes, size_t avail, struct dec_insn *out,
              const char **why);

/* The linear address a memory operand designates for the instruction at rip (len bytes). */
uint64_t dec_ea(const struct dec_mem *m, uint64_t rip, uint8_t len, const struct dec_regs *r);

/* The value of a dec_val of size bytes (register part or immediate), zero-extended. */
uint64_t dec_val_read(const struct dec_val *v, uint8_t size, const struct dec_regs *r);

/* Fills op for a DEC_OP template at rip with the operands the registers hold now. Can't fail. */
void dec_build_op(const struct dec_insn *d, uint64_t rip, const struct dec_regs *r,
                  struct guest_op *op);

/* Mask of the low size bytes (size 1..8). */
uint64_t dec_size_mask(unsigned size);

#endif
