/* Pins the Unicorn 2.0.1 behaviours the instruction-level vCPU is built on
 * (docs/vcpu-layer.md "Unicorn facts"), on bare engines: a stop requested in the block hook runs
 * none of the block; UC_HOOK_EDGE_GENERATED reports every generated block but an engine's first;
 * a code hook added while its block runs misses that run; RDTSC and WRMSR run against host and
 * internal state when not trapped; guest exceptions are never delivered, so a second page fault
 * turns into #DF unless hvsim resets QEMU's old_exception (uc_calibrate finds it); and an until
 * address the guest's paging does not map makes Unicorn walk the page tables after the run,
 * clobbering CR2; and a page entry naming a physical address above 40 bits (where the TLB
 * scratch page lives) faults. A failure here means the Unicorn build changed under hvsim. */
#include <criterion/criterion.h>

#include "../sim/uc_int.h"

#include <stdlib.h>
#include <string.h>

#define BASE     0x1000
#define MEM_SIZE 0x400000

struct engine {
	uc_engine *uc;
	uint8_t *mem;
};

static void open_engine(struct engine *e, const uint8_t *code, size_t n)
{
	cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc), UC_ERR_OK, "uc_open failed");
	e->mem = calloc(1, MEM_SIZE);
	cr_assert_not_null(e->mem, "out of memory");
	if (n)
		memcpy(e->mem + BASE, code, n);
	cr_assert_eq(uc_mem_map_ptr(e->uc, 0, MEM_SIZE, UC_PROT_ALL, e->mem), UC_ERR_OK,
	             "map failed");
}

static void close_engine(struct engine *e)
{
	uc_close(e->uc);
	free(e->mem);
}

static uint64_t reg(struct engine *e, int id)
{
	uint64_t v = 0;

	uc_reg_read(e->uc, id, &v);
	return v;
}

static void stop_first_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	unsigned *n = ud;

	(void)addr, (void)size;
	if ((*n)++ == 0)
		uc_emu_stop(uc);
}

Test(uc_facts, a_stop_in_the_block_hook_runs_none_of_the_block)
{
	static const uint8_t code[] = {0x48, 0xc7, 0xc0, 0x01,
	                               0x00, 0x00, 0x00, 0xf4}; /* mov rax,1 */
	struct engine e;
	unsigned calls = 0;
	uc_hook h;

	open_engine(&e, code, sizeof(code));
	uc_hook_add(e.uc, &h, UC_HOOK_BLOCK, (void *)stop_first_block, &calls, 1, 0);
	uc_emu_start(e.uc, BASE, 0, 0, 0);
	cr_expect_eq(reg(&e, UC_X86_REG_RAX), 0, "mov rax, 1 ran: rax %#llx",
	             (unsigned long long)reg(&e, UC_X86_REG_RAX));
	cr_expect_eq(reg(&e, UC_X86_REG_RIP), BASE, "RIP wanted the block start, got %#llx",
	             (unsigned long long)reg(&e, UC_X86_REG_RIP));
	close_engine(&e);
}

static void count_edge(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *ud)
{
	(void)uc, (void)cur, (void)prev;
	(*(unsigned *)ud)++;
}

Test(uc_facts, edge_hook_reports_generated_blocks_but_the_first)
{
	/* jmp +0; jmp +0; hlt: three blocks */
	static const uint8_t code[] = {0xeb, 0x00, 0xeb, 0x00, 0xf4};
	struct engine e;
	unsigned edges = 0;
	uc_hook h;

	open_engine(&e, code, sizeof(code));
	uc_hook_add(e.uc, &h, UC_HOOK_EDGE_GENERATED, (void *)count_edge, &edges, 1, 0);
	uc_emu_start(e.uc, BASE, 0, 0, 0);
	cr_expect_eq(edges, 2, "edge hook calls wanted 2 (3 blocks, the first unreported), got %u",
	             edges);
	close_engine(&e);
}

struct late {
	uc_hook hook;
	unsigned fired;
	bool added;
};

static void late_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)uc, (void)addr, (void)size;
	((struct late *)ud)->fired++;
}

static void add_late(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	struct late *l = ud;

	(void)addr, (void)size;
	if (!l->added) {
		l->added = true;
		uc_hook_add(uc, &l->hook, UC_HOOK_CODE, (void *)late_code, l, BASE + 1, BASE + 1);
	}
}

/* Why hvsim restarts a block after arming a trap in it (uc_int.h). */
Test(uc_facts, a_code_hook_added_while_its_block_runs_misses_that_run)
{
	static const uint8_t code[] = {0x90, 0x90, 0xf4};
	struct engine e;
	struct late l = {0};
	uc_hook h;

	open_engine(&e, code, sizeof(code));
	uc_hook_add(e.uc, &h, UC_HOOK_BLOCK, (void *)add_late, &l, 1, 0);
	uc_emu_start(e.uc, BASE, 0, 0, 0);
	cr_expect_eq(l.fired, 0, "the late hook fired %u times on its block's first run", l.fired);
	close_engine(&e);
}

Test(uc_facts, untrapped_rdtsc_and_wrmsr_touch_host_and_internal_state)
{
	/* rdtsc; mov ecx, 0x174; mov eax, 0x55; xor edx, edx; wrmsr; hlt */
	static const uint8_t code[] = {0x0f, 0x31, 0xb9, 0x74, 0x01, 0x00, 0x00, 0xb8, 0x55,
	                               0x00, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30, 0xf4};
	struct engine e;
	uc_x86_msr msr = {.rid = 0x174};

	open_engine(&e, code, sizeof(code));
	uc_hook_add(e.uc, &(uc_hook){0}, UC_HOOK_BLOCK, (void *)late_code, &(struct late){0}, 1, 0);
	uc_emu_start(e.uc, BASE, BASE + 2, 0, 0);
	cr_expect_neq(reg(&e, UC_X86_REG_RAX) | reg(&e, UC_X86_REG_RDX), 0,
	              "RDTSC returned 0: Unicorn no longer reads the host TSC");
	uc_emu_start(e.uc, BASE + 2, 0, 0, 0);
	uc_reg_read(e.uc, UC_X86_REG_MSR, &msr);
	cr_expect_eq(msr.value, 0x55, "Unicorn's SYSENTER_CS wanted the guest's 0x55, got %#llx",
	             (unsigned long long)msr.value);
	close_engine(&e);
}

struct faults {
	uint32_t vectors[4];
	unsigned n;
};

static void note_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	struct faults *f = ud;

	if (f->n < 4)
		f->vectors[f->n++] = intno;
	uc_emu_stop(uc);
}

static uint64_t no_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc, (void)off, (void)size, (void)ud;
	return 0;
}

static void no_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
	(void)uc, (void)off, (void)size, (void)v, (void)ud;
}

/* Long-mode paging over the first 2 MiB of mem (mapped at 0); the 2 MiB above are an MMIO page
 * that is not present. Code at BASE: mov [rbx], eax twice, hlt. */
static void paged_setup(uc_engine *uc, uint8_t *mem, struct faults *f)
{
	static const uint8_t code[] = {0x89, 0x03, 0x89, 0x03, 0xf4};
	uint64_t pml4e = 0x101000 | 3, pdpte = 0x102000 | 3, pde = 0x83;
	uint64_t regs[][2] = {{UC_X86_REG_CR3, 0x100000},
	                      {UC_X86_REG_CR4, 0x20},
	                      {UC_X86_REG_CR0, 0x80000011},
	                      {UC_X86_REG_RBX, 0x200000}};
	uc_hook h;

	memcpy(mem + BASE, code, sizeof(code));
	memcpy(mem + 0x100000, &pml4e, 8);
	memcpy(mem + 0x101000, &pdpte, 8);
	memcpy(mem + 0x102000, &pde, 8);
	uc_mmio_map(uc, 0x200000, 0x1000, no_read, NULL, no_write, NULL);
	for (unsigned i = 0; i < 4; i++)
		uc_reg_write(uc, (int)regs[i][0], &regs[i][1]);
	uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)note_intr, f, 1, 0);
}

Test(uc_facts, without_a_reset_the_second_page_fault_becomes_a_double_fault)
{
	struct engine e;
	struct faults f = {0};

	open_engine(&e, NULL, 0);
	paged_setup(e.uc, e.mem, &f);
	uc_emu_start(e.uc, BASE, 0, 0, 0);
	uc_emu_start(e.uc, BASE + 2, 0, 0, 0);
	cr_expect(f.n == 2 && f.vectors[0] == 14 && f.vectors[1] == 8,
	          "vectors wanted 14 then 8 (#DF), got %u faults: %u %u", f.n, f.vectors[0],
	          f.vectors[1]);
	close_engine(&e);
}

Test(uc_facts, resetting_old_exception_keeps_page_faults_page_faults)
{
	struct faults f = {0};
	struct uc_cpu c = {0};
	uint8_t *mem = calloc(1, MEM_SIZE);

	cr_assert_not_null(mem, "out of memory");
	cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &c.uc), UC_ERR_OK, "uc_open failed");
	cr_assert_eq(uc_context_alloc(c.uc, &c.ctx), UC_ERR_OK, "uc_context_alloc failed");
	cr_assert_eq(uc_calibrate(&c), HVSIM_OK, "uc_calibrate found no old_exception");
	uc_mem_map_ptr(c.uc, 0, MEM_SIZE, UC_PROT_ALL, mem);
	paged_setup(c.uc, mem, &f);
	uc_emu_start(c.uc, BASE, 0, 0, 0);
	uc_reset_exception_state(&c);
	uc_emu_start(c.uc, BASE + 2, 0, 0, 0);
	cr_expect(f.n == 2 && f.vectors[0] == 14 && f.vectors[1] == 14,
	          "vectors wanted 14 then 14, got %u faults: %u %u", f.n, f.vectors[0],
	          f.vectors[1]);
	uc_context_free(c.ctx);
	uc_close(c.uc);
	free(mem);
}

/* Why hvsim passes until = 0 (uc_int.h): Unicorn invalidates the block at until - 1 after every
 * run, walking the guest's page tables; an unmapped until leaves a page fault's CR2 behind. */
Test(uc_facts, an_until_the_guest_paging_does_not_map_clobbers_cr2)
{
	struct engine e;
	struct faults f = {0};

	open_engine(&e, NULL, 0);
	paged_setup(e.uc, e.mem, &f);
	e.mem[BASE] = 0xf4; /* hlt */
	uc_emu_start(e.uc, BASE, UINT64_C(0x7fff0000), 0, 0);
	cr_expect_eq(reg(&e, UC_X86_REG_CR2), UINT64_C(0x7fff0000) - 1,
	             "CR2 wanted until - 1 = 0x7ffeffff, got %#llx",
	             (unsigned long long)reg(&e, UC_X86_REG_CR2));
	close_engine(&e);
}

/* Long-mode paging with 4 KiB pages for linear 0x200000 (PT at 0x103000, first entry pte); the
 * first 2 MiB identity-mapped. Code at BASE: mov al, [0x200000]; hlt. */
static void pte_setup(struct engine *e, uint64_t pte)
{
	static const uint8_t code[] = {0x8a, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4};
	uint64_t pml4e = 0x101000 | 3, pdpte = 0x102000 | 3, pde0 = 0x83, pde1 = 0x103000 | 3;
	uint64_t regs[][2] = {
	    {UC_X86_REG_CR3, 0x100000}, {UC_X86_REG_CR4, 0x20}, {UC_X86_REG_CR0, 0x80000011}};

	memcpy(e->mem + BASE, code, sizeof(code));
	memcpy(e->mem + 0x100000, &pml4e, 8);
	memcpy(e->mem + 0x101000, &pdpte, 8);
	memcpy(e->mem + 0x102000, &pde0, 8);
	memcpy(e->mem + 0x102008, &pde1, 8);
	memcpy(e->mem + 0x103000, &pte, 8);
	for (unsigned i = 0; i < 3; i++)
		uc_reg_write(e->uc, (int)regs[i][0], &regs[i][1]);
}

/* Why the scratch page sits at 2^47: the CPU model's page walk takes physical-address bits above
 * 40 as reserved, so a guest entry naming it page-faults instead of reaching it. */
Test(uc_facts, a_page_entry_naming_the_scratch_page_faults)
{
	struct engine e;
	struct faults f = {0};
	uc_hook h;

	open_engine(&e, NULL, 0);
	cr_assert_eq(uc_mem_map(e.uc, UINT64_C(1) << 47, 0x1000, UC_PROT_ALL), UC_ERR_OK);
	uc_hook_add(e.uc, &h, UC_HOOK_INTR, (void *)note_intr, &f, 1, 0);
	pte_setup(&e, (UINT64_C(1) << 47) | 3);
	uc_emu_start(e.uc, BASE, 0, 0, 0);
	cr_expect(f.n == 1 && f.vectors[0] == 14, "wanted one #PF (14), got %u events, first %u",
	          f.n, f.vectors[0]);
	close_engine(&e);
}
