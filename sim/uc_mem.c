/* The Unicorn backend's memory side: linear reads through the guest's paging (SDM 4.3, 4.4, 4.5),
 * the decoding mode from CR0/EFER/CS, MMIO regions, and the page faults that carry every MMIO
 * access and every access outside RAM. Unicorn 2.0.1 never delivers guest exceptions, so QEMU's
 * double-fault bookkeeping (old_exception) would turn the second fault into #DF and the third into
 * a silent triple-fault stop; uc_calibrate finds that field in a saved context once and every
 * handled fault resets it (docs/vcpu-layer.md "Unicorn facts"). Not modelled: protection keys,
 * reserved-bit faults, A/D bits (hvsim's page tables preset nothing the guest relies on). */
#include "uc_int.h"

#include "guest_setup.h"
#include "mem_track.h"

#include <stdio.h>
#include <string.h>

#define PG_P          UINT64_C(0x1)
#define PG_PS         UINT64_C(0x80)
#define ADDR_MASK     UINT64_C(0x000ffffffffff000)
#define MSR_IA32_EFER 0xc0000080u
#define EFER_LMA      (UINT64_C(1) << 10)
#define CR4_PSE       (UINT64_C(1) << 4)
#define CR4_PAE       (UINT64_C(1) << 5)
#define CR4_PKE       (UINT64_C(1) << 22)
#define CR4_PKS       (UINT64_C(1) << 24)
#define CR0_PG        (UINT64_C(1) << 31)
#define CR0_TLB       (UINT64_C(1) | UINT64_C(1) << 16 | CR0_PG) /* PE, WP, PG */
/* PAE, PGE, LA57, SMEP, SMAP, PKE, PKS */
#define CR4_TLB \
	(CR4_PAE | UINT64_C(1) << 7 | UINT64_C(1) << 12 | UINT64_C(3) << 20 | CR4_PKE | CR4_PKS)
#define EFER_TLB      (UINT64_C(1) << 8 | EFER_LMA | UINT64_C(1) << 11) /* LME, LMA, NXE */
#define PF_VECTOR     14
#define CALIB_BASE    (UINT64_C(1) << 32) /* above any guest RAM (4 GiB at most) */
#define CATCH_ALL_END (UINT64_C(1) << 47) /* end of the linear space hvsim maps for guests */
#define TLB_SCRATCH   CATCH_ALL_END

static bool phys_read(const struct uc_cpu *c, uint64_t pa, void *buf, size_t len)
{
	if (pa >= c->m->mem_size || len > c->m->mem_size - pa)
		return false;
	memcpy(buf, c->m->mem + pa, len);
	return true;
}

static bool entry(const struct uc_cpu *c, uint64_t table, uint64_t idx, unsigned sz, uint64_t *e)
{
	*e = 0;
	return phys_read(c, (table & ADDR_MASK) + idx * sz, e, sz) && (*e & PG_P);
}

/* SDM 4.5 "4-Level Paging"; 4.4 "PAE Paging"; 4.3 "32-Bit Paging". */
static bool translate(const struct uc_cpu *c, const uint64_t *cr, uint64_t efer, uint64_t la,
                      uint64_t *pa)
{
	uint64_t e;

	if (!(cr[0] & GS_CR0_PG)) {
		*pa = la;
		return true;
	}
	if (efer & EFER_LMA) {
		if (!entry(c, cr[3], (la >> 39) & 511, 8, &e) ||
		    !entry(c, e, (la >> 30) & 511, 8, &e))
			return false;
		if (e & PG_PS) {
			*pa = (e & ADDR_MASK & ~UINT64_C(0x3fffffff)) | (la & 0x3fffffff);
			return true;
		}
	} else if (cr[4] & GS_CR4_PAE) {
		if (!entry(c, cr[3] & ~UINT64_C(0x1f) & 0xffffffe0, (la >> 30) & 3, 8, &e))
			return false;
	} else {
		if (!entry(c, cr[3], (la >> 22) & 1023, 4, &e))
			return false;
		if ((e & PG_PS) && (cr[4] & CR4_PSE)) {
			*pa = (e & 0xffc00000) | (la & 0x3fffff);
			return true;
		}
		if (!entry(c, e, (la >> 12) & 1023, 4, &e))
			return false;
		*pa = (e & 0xfffff000) | (la & 0xfff);
		return true;
	}
	if (!entry(c, e, (la >> 21) & 511, 8, &e))
		return false;
	if (e & PG_PS) {
		*pa = (e & ADDR_MASK & ~UINT64_C(0x1fffff)) | (la & 0x1fffff);
		return true;
	}
	if (!entry(c, e, (la >> 12) & 511, 8, &e))
		return false;
	*pa = (e & ADDR_MASK) | (la & 0xfff);
	return true;
}

static uint64_t efer(struct uc_cpu *c)
{
	uc_x86_msr msr = {.rid = MSR_IA32_EFER};

	uc_reg_read(c->uc, UC_X86_REG_MSR, &msr);
	return msr.value;
}

/* Calls fn for each page-sized piece of [la, la+len) with its physical address. */
static bool each_piece(struct uc_cpu *c, uint64_t la, size_t len,
                       bool (*fn)(struct uc_cpu *c, uint64_t pa, size_t off, size_t n, void *arg),
                       void *arg)
{
	uint64_t cr[5] = {uc_reg(c, UC_X86_REG_CR0), 0, 0, uc_reg(c, UC_X86_REG_CR3),
	                  uc_reg(c, UC_X86_REG_CR4)};
	uint64_t e = efer(c), pa;
	size_t off = 0;

	while (off < len) {
		size_t n = GS_PAGE - ((la + off) & (GS_PAGE - 1));

		if (n > len - off)
			n = len - off;
		if (!translate(c, cr, e, la + off, &pa) || pa >= c->m->mem_size ||
		    n > c->m->mem_size - pa || !fn(c, pa, off, n, arg))
			return false;
		off += n;
	}
	return true;
}

static bool piece_check(struct uc_cpu *c, uint64_t pa, size_t off, size_t n, void *arg)
{
	(void)c, (void)pa, (void)off, (void)n, (void)arg;
	return true;
}

static bool piece_read(struct uc_cpu *c, uint64_t pa, size_t off, size_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, c->m->mem + pa, n);
	return true;
}

static bool piece_write(struct uc_cpu *c, uint64_t pa, size_t off, size_t n, void *arg)
{
	memcpy(c->m->mem + pa, (const uint8_t *)arg + off, n);
	mem_track_mark(c->m->track, pa, n);
	uc_pt_stored(c, pa, n);
	if (uc_code_touched(c, pa, n))
		c->flush_pending = true; /* an event's frame over translated code */
	return true;
}

bool uc_read_linear(struct uc_cpu *c, uint64_t la, void *buf, size_t len)
{
	return each_piece(c, la, len, piece_read, buf);
}

bool uc_write_linear(struct uc_cpu *c, uint64_t la, const void *buf, size_t len)
{
	return each_piece(c, la, len, piece_check, NULL) &&
	       each_piece(c, la, len, piece_write, (void *)buf);
}

/* SDM 3.4.5: L (bit 53) and D/B (bit 54) of the code-segment descriptor. */
enum dec_mode uc_cpu_mode(struct uc_cpu *c)
{
	uc_x86_mmr gdtr = {0};
	uint64_t cs = uc_reg(c, UC_X86_REG_CS), desc = 0;
	bool lma = efer(c) & EFER_LMA;

	if (!(uc_reg(c, UC_X86_REG_CR0) & GS_CR0_PE))
		return DEC_MODE_16;
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	if ((cs & ~7u) == 0 || !uc_read_linear(c, gdtr.base + (cs & ~7u), &desc, sizeof(desc)))
		return lma ? DEC_MODE_64 : DEC_MODE_32;
	if (lma && (desc >> 53 & 1))
		return DEC_MODE_64;
	return (desc >> 54 & 1) ? DEC_MODE_32 : DEC_MODE_16;
}

/* ---- QEMU's exception bookkeeping ---- */

static void calib_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	unsigned *n = ud;

	(void)intno;
	(*n)++;
	uc_emu_stop(uc);
}

static void calib_code(uint8_t *page)
{
	/* PML4 at +0, PDPT at +0x1000, PD at +0x2000 mapping CALIB_BASE with one 2 MiB page, the
	 * next 2 MiB not present; code at +0x3000: mov [rbx], eax; mov [rbx], eax; hlt (and at
	 * +0x3100 uc_step.c's) */
	static const uint8_t code[] = {0x89, 0x03, 0x89, 0x03, 0xf4};
	uint64_t pml4e = (CALIB_BASE + 0x1000) | 3, pdpte = (CALIB_BASE + 0x2000) | 3;
	uint64_t pde = CALIB_BASE | 0x83;

	memcpy(page + 0, &pml4e, 8);
	memcpy(page + 0x1000 + 4 * 8, &pdpte, 8);
	memcpy(page + 0x2000, &pde, 8);
	memcpy(page + 0x3000, code, sizeof(code));
}

static uint64_t calib_mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc, (void)off, (void)size, (void)ud;
	return 0;
}

static void calib_mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
	(void)uc, (void)off, (void)size, (void)v, (void)ud;
}

/* Runs two faulting stores and finds the one int that went (-1 or 0) -> 14 -> 8. */
static bool calib_find(struct uc_cpu *c, uint8_t *saved[3], size_t size)
{
	size_t found = 0, hits = 0;

	for (size_t o = 0; o + 4 <= size; o += 4) {
		int32_t a, b, d;

		memcpy(&a, saved[0] + o, 4);
		memcpy(&b, saved[1] + o, 4);
		memcpy(&d, saved[2] + o, 4);
		if ((a == -1 || a == 0) && b == PF_VECTOR && d == 8) {
			found = o;
			hits++;
		}
	}
	c->old_exception_off = found;
	return hits == 1;
}

static bool calib_run(struct uc_cpu *c, uint8_t *page, uint8_t *saved[3], size_t size)
{
	unsigned n = 0;
	uc_hook h;
	uint64_t regs[][2] = {{UC_X86_REG_CR3, CALIB_BASE},
	                      {UC_X86_REG_CR4, GS_CR4_PAGED},
	                      {UC_X86_REG_CR0, GS_CR0_PAGED},
	                      {UC_X86_REG_RBX, CALIB_BASE + 0x200000}};
	bool ok;

	calib_code(page);
	uc_context_save(c->uc, c->ctx);
	memcpy(saved[0], c->ctx, size);
	for (unsigned i = 0; i < 4; i++)
		uc_reg_write(c->uc, (int)regs[i][0], &regs[i][1]);
	if (uc_hook_add(c->uc, &h, UC_HOOK_INTR, (void *)calib_intr, &n, 1, 0) != UC_ERR_OK)
		return false;
	for (unsigned i = 1; i < 3; i++) {
		uc_emu_start(c->uc, CALIB_BASE + 0x3000 + 2 * (i - 1), 0, 0, 0);
		uc_context_save(c->uc, c->ctx);
		memcpy(saved[i], c->ctx, size);
	}
	uc_hook_del(c->uc, h);
	ok = n == 2 && calib_find(c, saved, size);
	if (ok) /* the same machine finds hflags (uc_step.c) */
		uc_step_calibrate(c, CALIB_BASE + 0x3100, page + 0x3100);
	memcpy(c->ctx, saved[0], size); /* back to the fresh state */
	uc_context_restore(c->uc, c->ctx);
	return ok;
}

enum hvsim_status uc_calibrate(struct uc_cpu *c)
{
	size_t size = uc_context_size(c->uc);
	uint8_t *page = calloc(1, 0x4000), *saved[3] = {malloc(size), malloc(size), malloc(size)};
	enum hvsim_status st = HVSIM_E_NOMEM;

	if (page && saved[0] && saved[1] && saved[2]) {
		st = HVSIM_E_INTERNAL;
		if (uc_mem_map_ptr(c->uc, CALIB_BASE, 0x4000, UC_PROT_ALL, page) == UC_ERR_OK &&
		    uc_mmio_map(c->uc, CALIB_BASE + 0x200000, GS_PAGE, calib_mmio_read, NULL,
		                calib_mmio_write, NULL) == UC_ERR_OK &&
		    calib_run(c, page, saved, size))
			st = HVSIM_OK;
		uc_ctl_remove_cache(c->uc, CALIB_BASE,
		                    CALIB_BASE + 0x4000); /* paging is off again */
		uc_mem_unmap(c->uc, CALIB_BASE + 0x200000, GS_PAGE);
		uc_mem_unmap(c->uc, CALIB_BASE, 0x4000);
	}
	free(page);
	for (unsigned i = 0; i < 3; i++)
		free(saved[i]);
	return st;
}

void uc_reset_exception_state(struct uc_cpu *c)
{
	int32_t none = -1;

	uc_context_save(c->uc, c->ctx);
	memcpy((uint8_t *)c->ctx + c->old_exception_off, &none, sizeof(none));
	uc_context_restore(c->uc, c->ctx);
}

/* Unicorn 2.0.1 has no call that drops the TLB, but every change to its memory map does (QEMU's
 * tcg_commit). The cheapest change is one permission flip of a scratch page (a third of the cost
 * of mapping and unmapping one). The page lies beyond the 40 physical-address bits the CPU model's
 * page walk accepts (QEMU's TCG_PHYS_ADDR_BITS: higher address bits are reserved and fault), so no
 * guest reaches it whatever its permission. */
enum hvsim_status uc_tlb_init(struct uc_cpu *c)
{
	c->scratch_rw = false;
	return uc_mem_map(c->uc, TLB_SCRATCH, GS_PAGE, UC_PROT_READ) == UC_ERR_OK ? HVSIM_OK
	                                                                          : HVSIM_E_NOMEM;
}

/* The bits the softmmu TLB's entries depend on: QEMU computes each entry's protection from the
 * tables and these when it fills it (CR4.PSE only without PAE, SDM 4.1.1). */
uint64_t uc_paging_bits(unsigned cr, uint64_t value)
{
	if (cr == 0)
		return value & CR0_TLB;
	if (cr == 4)
		return value & (CR4_TLB | (value & CR4_PAE ? 0 : CR4_PSE));
	return value;
}

void uc_paging_read(struct uc_cpu *c, struct uc_paging *p)
{
	p->cr0 = uc_paging_bits(0, uc_reg(c, UC_X86_REG_CR0));
	p->cr3 = uc_reg(c, UC_X86_REG_CR3);
	p->cr4 = uc_paging_bits(4, uc_reg(c, UC_X86_REG_CR4));
	p->efer = efer(c) & EFER_TLB;
}

bool uc_paging_same(const struct uc_paging *a, const struct uc_paging *b)
{
	return a->cr0 == b->cr0 && a->cr3 == b->cr3 && a->cr4 == b->cr4 && a->efer == b->efer;
}

bool uc_paging_watched(const struct uc_cpu *c, const struct uc_paging *p)
{
	uint64_t table = p->cr3 & ~(uint64_t)(GS_PAGE - 1);

	return (p->cr0 & CR0_PG) && !(p->cr4 & (CR4_PKE | CR4_PKS)) && table >= c->pt_lo &&
	       table < c->m->mem_size;
}

void uc_tlb_flush(struct uc_cpu *c)
{
	c->tlb_stale = true;
}

bool uc_pt_written(struct uc_cpu *c, uint64_t gpa, uint64_t len)
{
	if (gpa + len <= c->pt_lo || gpa >= c->m->mem_size)
		return false;
	if (!c->running) {
		uc_tlb_flush(c);
		return true;
	}
	c->pt_written = true;
	c->limit = c->done; /* the next block start stops (block_slow) */
	return true;
}

bool uc_pt_stored(struct uc_cpu *c, uint64_t gpa, uint64_t len)
{
	if (!uc_pt_written(c, gpa, len))
		return false;
	if (c->m->xmod) /* every vCPU walks hvsim's page tables */
		c->m->xmod->stored(c->m->xmod->ctx, c->index, gpa, len);
	return true;
}

void uc_tlb_sync(struct uc_cpu *c)
{
	if (!c->tlb_stale)
		return;
	c->tlb_stale = false;
	c->scratch_rw = !c->scratch_rw;
	uc_mem_protect(c->uc, TLB_SCRATCH, GS_PAGE,
	               UC_PROT_READ | (c->scratch_rw ? UC_PROT_WRITE : UC_PROT_NONE));
}

/* Unicorn 2.0.1 finds the translations it drops through the guest's paging: a code address the
 * guest's tables do not map (an MMIO region or a zapped page over code) faults there, and Unicorn
 * ignores the fault and keeps the translations. QEMU's double-fault bookkeeping still counts it,
 * so the guest's next page fault would be a double fault (fuzz_hv_transitions finding 23). So
 * paging is lifted while translations go: every address in RAM is then its own physical
 * address, and one above RAM is in Unicorn's catch-all MMIO mapping, which it looks up without
 * a fault. */
uint64_t uc_paging_lift(struct uc_cpu *c)
{
	uint64_t cr0 = uc_reg(c, UC_X86_REG_CR0);

	uc_set_reg(c, UC_X86_REG_CR0, cr0 & ~GS_CR0_PG);
	uc_tlb_flush(c); /* no cached translation may survive into the lookups */
	uc_tlb_sync(c);
	return cr0;
}

void uc_paging_restore(struct uc_cpu *c, uint64_t cr0)
{
	uc_set_reg(c, UC_X86_REG_CR0, cr0);
	uc_tlb_flush(c);
}

void uc_invalidate_phys(struct uc_cpu *c, uint64_t gpa, uint64_t len)
{
	uint64_t cr0;

	if (!len)
		return;
	cr0 = uc_paging_lift(c);
	uc_ctl_remove_cache(c->uc, gpa, gpa + len);
	uc_paging_restore(c, cr0);
}

/* ---- MMIO regions ---- */

int uc_mmio_region(const struct uc_cpu *c, uint64_t gpa, uint64_t len, bool *straddle)
{
	*straddle = false;
	for (int i = 0; i < SIM_MMIO_MAX; i++) {
		const struct sim_mmio_region *r = &c->m->mmio[i];

		if (!r->size || gpa + len <= r->gpa || gpa >= r->gpa + r->size)
			continue;
		if (gpa >= r->gpa && gpa + len <= r->gpa + r->size)
			return i;
		*straddle = true;
		return i;
	}
	return -1;
}

/* Everything above RAM is one Unicorn MMIO mapping, so that QEMU's own "unmapped" check (made on
 * the linear address, before the page walk) lets every access reach the page walk, where hvsim's
 * page tables fault precisely. These callbacks run only when paging is off (real mode) or the
 * guest's own page tables map such an address: the access already happened, the vCPU stops. */
static void outside_access(struct uc_cpu *c, uint64_t off, bool write)
{
	uint64_t addr = c->ram_end + off;
	bool straddle;

	if (uc_mmio_region(c, addr, 1, &straddle) >= 0) {
		uc_request_stop(c, UST_NOPAGING, uc_reg(c, UC_X86_REG_RIP));
		return;
	}
	if (c->stopping)
		return;
	c->bad_addr = addr;
	c->bad_write = write;
	c->bad_fetch = false;
	uc_request_stop(c, UST_BAD, 0);
}

static uint64_t outside_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc, (void)size;
	outside_access(ud, off, false);
	return 0;
}

static void outside_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
	(void)uc, (void)size, (void)v;
	outside_access(ud, off, true);
}

/* MMIO regions need no Unicorn mapping of their own: the catch-all mapping covers those above
 * RAM and RAM those inside it; their holes live in the page tables (vm_mmio.c). */
enum hvsim_status uc_mmio_sync(struct uc_cpu *c)
{
	if (!c->ram_end) {
		uint64_t end = (c->m->mem_size + GS_PAGE - 1) & ~(uint64_t)(GS_PAGE - 1);

		if (uc_mmio_map(c->uc, end, CATCH_ALL_END - end, outside_read, c, outside_write,
		                c) != UC_ERR_OK)
			return HVSIM_E_INPUT;
		c->ram_end = end;
	}
	uc_tlb_flush(c);
	return HVSIM_OK;
}

/* Fills pending for an MMIO access of template d at rip; false when it does not hit MMIO. A
 * straddling access fills nothing and records a bad access. */
static bool mmio_op(struct uc_cpu *c, const struct dec_insn *d, uint64_t rip,
                    const struct dec_regs *r)
{
	bool straddle;
	uint64_t ea = dec_ea(&d->u.mmio.mem, rip, d->len, r);
	int region = uc_mmio_region(c, ea, d->u.mmio.size, &straddle);

	if (region < 0)
		return false;
	if (straddle) {
		c->bad_addr = ea;
		c->bad_write = d->u.mmio.write;
		snprintf(c->why, sizeof(c->why),
		         "a %u-byte access at 0x%llx straddles the boundary of MMIO region %d",
		         d->u.mmio.size, (unsigned long long)ea, region);
		return true;
	}
	dec_build_op(d, rip, r, &c->pending);
	c->pending.u.mmio.region = (uint8_t)region;
	return true;
}

bool uc_mmio_site_hits(struct uc_cpu *c, const struct uc_trap *t, uint64_t rip)
{
	struct dec_regs r;

	uc_dec_regs(c, &r);
	c->why[0] = '\0';
	memset(&c->pending, 0, sizeof(c->pending));
	return mmio_op(c, &t->d, rip, &r);
}

static enum be_stop bad_access(struct uc_cpu *c, uint64_t addr, const char *what, const char **why)
{
	snprintf(c->why, sizeof(c->why), "%s 0x%llx outside RAM and MMIO", what,
	         (unsigned long long)addr);
	*why = c->why;
	return BE_BAD_ACCESS;
}

/* Whether the fault at cr2 was the fetch of the instruction at rip: cr2 lies within 15 bytes of
 * rip and the n readable bytes there hold no whole instruction. */
static bool fetch_fault(struct uc_cpu *c, uint64_t rip, uint64_t cr2, const uint8_t *bytes,
                        size_t n)
{
	struct dec_insn d;

	return cr2 >= rip && cr2 - rip < 15 && (!n || !dec_insn(uc_cpu_mode(c), bytes, n, &d));
}

/* The GOP_MMIO operation of an access at cr2 in MMIO region `region` that moves no data (the caller
 * sets fetch or not_mov): size 0, no destination register. */
static void no_data_op(uint64_t rip, uint64_t cr2, int region, struct guest_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = GOP_MMIO;
	op->rip = rip;
	op->u.mmio.gpa = cr2;
	op->u.mmio.gpr = GPR_COUNT;
	op->u.mmio.region = (uint8_t)region;
}

/* An instruction fetch from an MMIO region (an EPT-unmapped page, SDM 28.2.1 Table 28-7 bit 2)
 * as the operation the vCPU layer turns into an EPT violation or an APIC-access VM exit: the
 * instruction is retried once the page is backed. */
static enum be_stop fetch_op(struct uc_cpu *c, uint64_t rip, uint64_t cr2, struct guest_op *op,
                             const char **why)
{
	bool straddle;
	int region = uc_mmio_region(c, cr2, 1, &straddle);

	if (region < 0)
		return bad_access(c, cr2, "instruction fetch from", why);
	no_data_op(rip, cr2, region, op);
	op->u.mmio.fetch = true;
	return BE_OP;
}

/* An access to an MMIO region at cr2 by an instruction other than MOV (or a MOV hvsim does not
 * take apart): hvsim emulates no such instruction, but on an EPT-unmapped page it is an EPT
 * violation that a hypervisor may end by backing the page; the instruction then runs. */
static enum be_stop not_mov_op(struct uc_cpu *c, uint64_t rip, uint64_t cr2, const uint8_t *bytes,
                               size_t n, struct guest_op *op)
{
	bool straddle;

	no_data_op(rip, cr2, uc_mmio_region(c, cr2, 1, &straddle), op);
	op->u.mmio.write = dec_writes_memory(uc_cpu_mode(c), bytes, n);
	op->u.mmio.not_mov = true;
	return BE_OP;
}

/* A page fault at instruction rip for linear address cr2: the instruction's own fetch from an
 * MMIO region is a fetch operation; an MMIO access by a MOV becomes an EPT-violation-like
 * operation and the MOV a known MMIO site (SDM 29.3.3.2 for the EPT view). */
static enum be_stop fault_op(struct uc_cpu *c, uint64_t rip, uint64_t cr2, struct guest_op *op,
                             const char **why)
{
	uint8_t bytes[15] = {0};
	struct dec_insn d;
	struct dec_regs r;
	const char *mwhy = NULL;
	bool straddle, restart;
	size_t n = 15;

	while (n && !uc_read_linear(c, rip, bytes, n))
		n--; /* an instruction at the end of RAM, or before an unmapped page */
	if (fetch_fault(c, rip, cr2, bytes, n))
		return fetch_op(c, rip, cr2, op, why);
	if (!n || (cr2 >= rip && cr2 < rip + 15 && uc_mmio_region(c, cr2, 1, &straddle) < 0))
		return bad_access(c, cr2, "instruction fetch from", why);
	uc_dec_regs(c, &r);
	if (!dec_mmio(uc_cpu_mode(c), bytes, n, &d, &mwhy)) {
		if (uc_mmio_region(c, cr2, 1, &straddle) < 0)
			return bad_access(c, cr2, "access to", why);
		if (d.len)
			return not_mov_op(c, rip, cr2, bytes, n, op);
		snprintf(c->why, sizeof(c->why), "%s at rip 0x%llx", mwhy, (unsigned long long)rip);
		*why = c->why;
		return BE_FAULT;
	}
	c->why[0] = '\0';
	if (!mmio_op(c, &d, rip, &r))
		return bad_access(c, dec_ea(&d.u.mmio.mem, rip, d.len, &r),
		                  d.u.mmio.write ? "write to" : "read from", why);
	if (c->why[0]) {
		*why = c->why;
		return BE_BAD_ACCESS;
	}
	*op = c->pending;
	if (uc_trap_add_mmio(c, rip, bytes, &d, &restart) == HVSIM_OK && restart)
		uc_ctl_remove_cache(c->uc, rip, rip + 1); /* the next run traps it before it runs */
	return BE_OP;
}

enum be_stop uc_handle_fault(struct uc_cpu *c, struct guest_op *op, const char **why)
{
	uint64_t cr2 = c->stop_addr;

	uc_reset_exception_state(c);
	uc_set_reg(c, UC_X86_REG_CR2, c->cr2); /* an EPT violation leaves CR2 alone */
	return fault_op(c, c->stop_pc, cr2, op, why);
}

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t v,
                        void *ud)
{
	struct uc_cpu *c = ud;

	(void)uc, (void)size, (void)v;
	if (c->stopping)
		return false;
	c->bad_addr = addr;
	c->bad_write = type == UC_MEM_WRITE_UNMAPPED;
	c->bad_fetch = type == UC_MEM_FETCH_UNMAPPED;
	uc_request_stop(c, UST_BAD, 0);
	return false;
}

enum hvsim_status uc_add_mem_hooks(struct uc_cpu *c)
{
	uc_hook h;

	return uc_hook_add(c->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, c, 1, 0) ==
	               UC_ERR_OK
	           ? HVSIM_OK
	           : HVSIM_E_INTERNAL;
}
