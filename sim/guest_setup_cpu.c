/* Guest set-up, CPU half: puts a fresh Unicorn vCPU into long, protected or real mode on the
 * structures guest_setup.c wrote. In UC_MODE_64, uc_reg_write of CR0/CR3/CR4 and of CS/SS/DS/ES
 * stores raw values without QEMU's mode flags, descriptor caches or TLB flush, so only long mode
 * (the state a fresh engine is already in) is set by register writes; protected and real mode are
 * entered by running the trampoline, which switches modes the architectural way (SDM 10.8.5 and
 * 10.9.2 in the current SDM numbering of the mode-switching sections). */
#include "uc_int.h"

#include "guest_setup.h"

#define MSR_IA32_EFER       0xc0000080u
#define EFER_LME_LMA        (UINT64_C(0x500))
#define RFLAGS_FIXED        UINT64_C(0x2) /* bit 1 reads as 1 (SDM 2.3) */
#define IDT_LIMIT_LONG      0xfff
#define IDT_LIMIT_PROTECTED 0x7ff
#define IVT_LIMIT           0x3ff

static void write_table(struct uc_cpu *c, int regid, uint64_t base, uint32_t limit)
{
	uc_x86_mmr r = {.base = base, .limit = limit};

	uc_reg_write(c->uc, regid, &r);
}

static void write_efer(struct uc_cpu *c, uint64_t v)
{
	uc_x86_msr msr = {.rid = MSR_IA32_EFER, .value = v};

	uc_reg_write(c->uc, UC_X86_REG_MSR, &msr);
}

/* A fresh UC_MODE_64 engine already has EFER.LMA and a 64-bit CS (flags, not descriptors): only
 * the paging registers and the selectors are missing, and the TLB is empty. */
static void setup_long(struct uc_cpu *c)
{
	uint64_t mem = c->m->mem_size;

	uc_set_reg(c, UC_X86_REG_CR4, GS_CR4_PAGED);
	uc_set_reg(c, UC_X86_REG_CR3, gs_cr3(GUEST_MODE_LONG, mem));
	uc_set_reg(c, UC_X86_REG_CR0, GS_CR0_PAGED);
	write_efer(c, EFER_LME_LMA);
	uc_set_reg(c, UC_X86_REG_CS, GS_SEL_CODE64);
	uc_set_reg(c, UC_X86_REG_SS, GS_SEL_DATA);
	uc_set_reg(c, UC_X86_REG_DS, GS_SEL_DATA);
	uc_set_reg(c, UC_X86_REG_ES, GS_SEL_DATA);
	write_table(c, UC_X86_REG_IDTR, GS_IDT_GPA, IDT_LIMIT_LONG);
}

/* The trampoline starts in the engine's 64-bit state with paging on over hvsim's long-mode tables
 * and EFER.LME clear, so its first MOV to CR0 leaves IA-32e mode. */
static enum hvsim_status run_trampoline(struct uc_cpu *c, uint8_t mode, struct hvsim_error *err)
{
	uint64_t mem = c->m->mem_size;
	uc_err e;

	uc_set_reg(c, UC_X86_REG_CR4, GS_CR4_PAGED);
	uc_set_reg(c, UC_X86_REG_CR3, gs_cr3(GUEST_MODE_LONG, mem));
	uc_set_reg(c, UC_X86_REG_CR0, GS_CR0_PG | GS_CR0_ET | GS_CR0_PE);
	write_efer(c, 0);
	uc_tlb_sync(c);
	e = uc_emu_start(c->uc, GS_TRAMP_GPA, 0, 0, 0);
	if (e != UC_ERR_OK)
		return hvsim_error_set(
		    err, HVSIM_E_INTERNAL, "the %s-mode set-up trampoline failed: %s",
		    mode == GUEST_MODE_REAL ? "real" : "protected", uc_strerror(e));
	if (mode == GUEST_MODE_PROTECTED && (uc_reg(c, UC_X86_REG_CS) != GS_SEL_CODE32 ||
	                                     uc_reg(c, UC_X86_REG_CR0) != GS_CR0_PAGED))
		return hvsim_error_set(
		    err, HVSIM_E_INTERNAL,
		    "the protected-mode set-up trampoline ended in the wrong state");
	if (mode == GUEST_MODE_REAL && (uc_reg(c, UC_X86_REG_CR0) & GS_CR0_PE))
		return hvsim_error_set(err, HVSIM_E_INTERNAL,
		                       "the real-mode set-up trampoline ended in the wrong state");
	return HVSIM_OK;
}

enum hvsim_status gs_cpu_setup(struct uc_cpu *c, uint8_t mode, uint64_t entry, unsigned index,
                               struct hvsim_error *err)
{
	enum hvsim_status st = HVSIM_OK;

	write_table(c, UC_X86_REG_GDTR, GS_GDT_GPA, GS_GDT_LIMIT);
	if (mode == GUEST_MODE_LONG)
		setup_long(c);
	else
		st = run_trampoline(c, mode, err);
	if (st != HVSIM_OK)
		return st;
	if (mode == GUEST_MODE_PROTECTED)
		write_table(c, UC_X86_REG_IDTR, GS_IDT_GPA, IDT_LIMIT_PROTECTED);
	else if (mode == GUEST_MODE_REAL)
		write_table(c, UC_X86_REG_IDTR, 0, IVT_LIMIT);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		uc_set_gpr(c, i, 0);
	uc_set_gpr(c, GPR_RSP, gs_stack_top(mode, c->m->mem_size, index));
	uc_set_reg(c, UC_X86_REG_EFLAGS, RFLAGS_FIXED);
	uc_set_reg(c, UC_X86_REG_CR2, 0);
	c->cr2 = 0;
	c->rip = entry;
	return HVSIM_OK;
}
