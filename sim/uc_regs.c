/* The Unicorn backend's registers and event delivery. Between runs, general-purpose registers are
 * cached and written back in one batch before the next run (each uc_reg_* call costs ~10 ns);
 * inside hooks they are read live. Events are delivered through the guest's IDT the way the CPU
 * does it (SDM 6.12 "Exception and Interrupt Handling", 6.14 for 64-bit mode, 21.1.4 for real
 * mode), since Unicorn delivers none itself. Not modelled: privilege changes, task gates, IST,
 * the STI/MOV SS interrupt shadow (Unicorn does not expose it). */
#include "uc_int.h"

#include "guest_setup.h"

#include <string.h>

#define RFLAGS_TF      (UINT64_C(1) << 8)
#define RFLAGS_IF      (UINT64_C(1) << 9)
#define RFLAGS_NT      (UINT64_C(1) << 14)
#define RFLAGS_RF      (UINT64_C(1) << 16)
#define RFLAGS_VM      (UINT64_C(1) << 17)
#define RFLAGS_AC      (UINT64_C(1) << 18)
#define MSR_IA32_EFER  0xc0000080u
#define EFER_LMA       (UINT64_C(1) << 10)
#define GATE_INTERRUPT 0xe /* 32/64-bit interrupt gate; 0xf is a trap gate (SDM Table 3-2) */
#define GATE_TRAP      0xf

static const int gpr_ids[GPR_COUNT] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

uint64_t uc_reg(struct uc_cpu *c, int regid)
{
	uint64_t v = 0;

	uc_reg_read(c->uc, regid, &v);
	return v;
}

void uc_set_reg(struct uc_cpu *c, int regid, uint64_t v)
{
	uc_reg_write(c->uc, regid, &v);
}

uint64_t uc_gpr(struct uc_cpu *c, unsigned gpr)
{
	if (gpr >= GPR_COUNT)
		return 0;
	if (c->running)
		return uc_reg(c, gpr_ids[gpr]);
	if (!(c->gpr_valid & (1u << gpr))) {
		c->gpr[gpr] = uc_reg(c, gpr_ids[gpr]);
		c->gpr_valid |= 1u << gpr;
	}
	return c->gpr[gpr];
}

void uc_set_gpr(struct uc_cpu *c, unsigned gpr, uint64_t v)
{
	if (gpr >= GPR_COUNT)
		return;
	if (c->running) {
		uc_set_reg(c, gpr_ids[gpr], v);
		return;
	}
	c->gpr[gpr] = v;
	c->gpr_valid |= 1u << gpr;
	c->gpr_dirty |= 1u << gpr;
}

void uc_regs_flush(struct uc_cpu *c)
{
	int ids[GPR_COUNT];
	void *vals[GPR_COUNT];
	int n = 0;

	for (uint32_t d = c->gpr_dirty; d; d &= d - 1) {
		unsigned i = (unsigned)__builtin_ctz(d);

		ids[n] = gpr_ids[i];
		vals[n++] = &c->gpr[i];
	}
	if (n)
		uc_reg_write_batch(c->uc, ids, vals, n);
	c->gpr_dirty = 0;
}

void uc_regs_invalidate(struct uc_cpu *c)
{
	c->gpr_valid = 0;
	c->gpr_dirty = 0;
}

static uint64_t regs_gpr(void *ctx, unsigned gpr)
{
	return uc_gpr(ctx, gpr);
}

static uint64_t regs_seg_base(void *ctx, unsigned seg)
{
	return uc_reg(ctx, seg == DEC_SEG_FS ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE);
}

static bool regs_mem(void *ctx, uint64_t la, void *buf, size_t len)
{
	return uc_read_linear(ctx, la, buf, len);
}

void uc_dec_regs(struct uc_cpu *c, struct dec_regs *r)
{
	r->gpr = regs_gpr;
	r->seg_base = regs_seg_base;
	r->mem = regs_mem;
	r->ctx = c;
}

/* ---- event delivery ---- */

struct frame {
	uint64_t rsp;  /* moves down as values are pushed */
	uint8_t width; /* bytes per push */
	bool ok;
};

static void push(struct uc_cpu *c, struct frame *f, uint64_t v)
{
	f->rsp -= f->width;
	if (f->width == 2)
		f->rsp &= 0xffff;
	f->ok = f->ok && uc_write_linear(c, f->rsp, &v, f->width);
}

static bool gate_ok(uint8_t type)
{
	return type == GATE_INTERRUPT || type == GATE_TRAP;
}

/* SDM 6.14.1 "64-Bit Mode IDT", 6.14.2 "64-Bit Mode Stack Frame". */
static enum hvsim_status deliver_long(struct uc_cpu *c, uint8_t vector, bool has_error,
                                      uint32_t error_code, uint64_t *rflags)
{
	uc_x86_mmr idtr = {0};
	uint8_t g[16];
	struct frame f = {.width = 8, .ok = true};
	uint64_t rsp = uc_gpr(c, GPR_RSP);

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)vector * 16 + 15 > idtr.limit ||
	    !uc_read_linear(c, idtr.base + (uint64_t)vector * 16, g, sizeof(g)) || !(g[5] & 0x80) ||
	    !gate_ok(g[5] & 0xf))
		return HVSIM_E_INPUT;
	f.rsp = rsp & ~UINT64_C(0xf);
	push(c, &f, uc_reg(c, UC_X86_REG_SS));
	push(c, &f, rsp);
	push(c, &f, *rflags);
	push(c, &f, uc_reg(c, UC_X86_REG_CS));
	push(c, &f, c->rip);
	if (has_error)
		push(c, &f, error_code);
	if (!f.ok)
		return HVSIM_E_INPUT;
	uc_set_gpr(c, GPR_RSP, f.rsp);
	uc_set_reg(c, UC_X86_REG_CS, (uint16_t)(g[2] | g[3] << 8));
	c->rip = (uint64_t)(g[0] | g[1] << 8) | (uint64_t)(g[6] | g[7] << 8) << 16 |
	         (uint64_t)(g[8] | g[9] << 8 | g[10] << 16 | (uint32_t)g[11] << 24) << 32;
	if ((g[5] & 0xf) == GATE_INTERRUPT)
		*rflags &= ~RFLAGS_IF;
	return HVSIM_OK;
}

/* SDM 6.12.1 "Exception- or Interrupt-Handler Procedures", same privilege level. */
static enum hvsim_status deliver_protected(struct uc_cpu *c, uint8_t vector, bool has_error,
                                           uint32_t error_code, uint64_t *rflags)
{
	uc_x86_mmr idtr = {0};
	uint8_t g[8];
	struct frame f = {.width = 4, .ok = true};

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)vector * 8 + 7 > idtr.limit ||
	    !uc_read_linear(c, idtr.base + (uint64_t)vector * 8, g, sizeof(g)) || !(g[5] & 0x80) ||
	    !gate_ok(g[5] & 0xf))
		return HVSIM_E_INPUT;
	f.rsp = uc_gpr(c, GPR_RSP) & 0xffffffff;
	push(c, &f, *rflags);
	push(c, &f, uc_reg(c, UC_X86_REG_CS));
	push(c, &f, c->rip);
	if (has_error)
		push(c, &f, error_code);
	if (!f.ok)
		return HVSIM_E_INPUT;
	uc_set_gpr(c, GPR_RSP, f.rsp);
	uc_set_reg(c, UC_X86_REG_CS, (uint16_t)(g[2] | g[3] << 8));
	c->rip = (uint64_t)(g[0] | g[1] << 8) | (uint64_t)(g[6] | g[7] << 8) << 16;
	if ((g[5] & 0xf) == GATE_INTERRUPT)
		*rflags &= ~RFLAGS_IF;
	return HVSIM_OK;
}

/* SDM 21.1.4 "Interrupt and Exception Handling" (real-address mode). Handlers must be in code
 * segment 0: Unicorn cannot load a real-mode CS base from outside the CPU loop. */
static enum hvsim_status deliver_real(struct uc_cpu *c, uint8_t vector, uint64_t *rflags)
{
	uc_x86_mmr idtr = {0};
	uint16_t ivt[2];
	struct frame f = {.width = 2, .ok = true};

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)vector * 4 + 3 > idtr.limit ||
	    !uc_read_linear(c, idtr.base + (uint64_t)vector * 4, ivt, sizeof(ivt)) || ivt[1] != 0 ||
	    uc_reg(c, UC_X86_REG_CS) != 0 || uc_reg(c, UC_X86_REG_SS) != 0)
		return HVSIM_E_INPUT;
	f.rsp = uc_gpr(c, GPR_RSP) & 0xffff;
	push(c, &f, *rflags);
	push(c, &f, 0);
	push(c, &f, c->rip);
	if (!f.ok)
		return HVSIM_E_INPUT;
	uc_set_gpr(c, GPR_RSP, f.rsp);
	c->rip = ivt[0];
	*rflags &= ~(RFLAGS_IF | RFLAGS_AC);
	return HVSIM_OK;
}

enum hvsim_status uc_be_deliver(void *ctx, uint8_t vector, uint8_t type, bool has_error,
                                uint32_t error_code)
{
	struct uc_cpu *c = ctx;
	uc_x86_msr efer = {.rid = MSR_IA32_EFER};
	uint64_t rflags = uc_reg(c, UC_X86_REG_EFLAGS);
	enum hvsim_status st;

	(void)type;
	uc_reg_read(c->uc, UC_X86_REG_MSR, &efer);
	if (!(uc_reg(c, UC_X86_REG_CR0) & GS_CR0_PE))
		st = deliver_real(c, vector, &rflags);
	else if (efer.value & EFER_LMA)
		st = deliver_long(c, vector, has_error, error_code, &rflags);
	else
		st = deliver_protected(c, vector, has_error, error_code, &rflags);
	if (st != HVSIM_OK)
		return st;
	rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	uc_set_reg(c, UC_X86_REG_EFLAGS, rflags);
	c->pass_armed = false;
	return HVSIM_OK;
}

bool uc_be_idt_gate(void *ctx, uint8_t vector, uint64_t *la, unsigned *len)
{
	struct uc_cpu *c = ctx;
	uc_x86_msr efer = {.rid = MSR_IA32_EFER};
	uc_x86_mmr idtr = {0};

	if (!(uc_reg(c, UC_X86_REG_CR0) & GS_CR0_PE))
		return false; /* the IVT: no paging, so no MMIO hole to meet */
	uc_reg_read(c->uc, UC_X86_REG_MSR, &efer);
	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	*len = efer.value & EFER_LMA ? 16 : 8;
	*la = idtr.base + (uint64_t)vector * *len;
	return true;
}

bool uc_be_interruptible(void *ctx)
{
	return uc_reg(ctx, UC_X86_REG_EFLAGS) & RFLAGS_IF;
}

uint64_t uc_be_get_gpr(void *ctx, unsigned gpr)
{
	return uc_gpr(ctx, gpr);
}

void uc_be_set_gpr(void *ctx, unsigned gpr, uint64_t value)
{
	uc_set_gpr(ctx, gpr, value);
}

uint64_t uc_be_get_rip(void *ctx)
{
	return ((struct uc_cpu *)ctx)->rip;
}

void uc_be_set_rip(void *ctx, uint64_t rip)
{
	((struct uc_cpu *)ctx)->rip = rip;
}

uint64_t uc_be_get_rflags(void *ctx)
{
	return uc_reg(ctx, UC_X86_REG_EFLAGS);
}

void uc_be_set_rflags(void *ctx, uint64_t rflags)
{
	uc_set_reg(ctx, UC_X86_REG_EFLAGS, rflags | 2);
}

static const int cr_ids[9] = {
    UC_X86_REG_CR0, 0, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4, 0, 0, 0, UC_X86_REG_CR8};

uint64_t uc_be_get_cr(void *ctx, unsigned cr)
{
	struct uc_cpu *c = ctx;

	if (cr == 2)
		return c->cr2;
	return cr < 9 && cr_ids[cr] ? uc_reg(c, cr_ids[cr]) : 0;
}

void uc_be_set_cr(void *ctx, unsigned cr, uint64_t value)
{
	struct uc_cpu *c = ctx;
	struct uc_paging now;
	uint64_t before;

	if (cr >= 9 || !cr_ids[cr])
		return;
	if (cr == 2)
		c->cr2 = value;
	before = uc_reg(c, cr_ids[cr]);
	uc_set_reg(c, cr_ids[cr], value);
	if (cr != 0 && cr != 3 && cr != 4)
		return;
	/* SDM 4.10.4.1: a MOV to CR3 invalidates the TLB whatever its value, a MOV to CR0 or CR4
	 * when it changes a bit translations depend on (compared as Unicorn holds the register).
	 * The softmmu TLB holds what the tables give, and hvsim's own tables change only under a
	 * flush (uc_pt_written, snapshot.c): so the same CR3 of those tables needs none. Most VM
	 * entries and exits load unchanged paging registers, and each flush costs a memory-map
	 * change (uc_tlb_sync). */
	if (uc_paging_bits(cr, uc_reg(c, cr_ids[cr])) != uc_paging_bits(cr, before)) {
		uc_tlb_flush(c);
	} else if (cr == 3) {
		uc_paging_read(c, &now);
		if (!uc_paging_watched(c, &now))
			uc_tlb_flush(c);
	}
}
