/* The Unicorn backend: one UC_MODE_64 engine per vCPU runs real x86 code until an operation a
 * hypervisor must see, leaving RIP on it (a fault-like exit, SDM 28.1 "Architectural State
 * Before a VM Exit"). Traps are per-address code hooks armed before a block first runs; time is
 * counted per translation block; MMIO arrives as precise page faults (uc_mem.c). Design,
 * invariants and the Unicorn 2.0.1 behaviour this relies on: uc_int.h and docs/vcpu-layer.md.
 * Not modelled: guest exceptions are reported, not delivered through the guest IDT. */
#include "uc_int.h"

#include "guest_setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTARTS_MAX 256 /* uc_emu_start calls per run() before it returns what it retired */
/* Translation blocks after which the run loop flushes every translation itself, between runs:
 * a small block's host code is about 1 KiB, so this stays far below the 1 GiB code buffer
 * whose overflow Unicorn 2.0.1 flushes inside uc_emu_start and then crashes (tb_set_jmp_target
 * on a flushed block). Each deadline cut with until costs two; a flush costs ~160 ms and makes
 * the whole buffer resident, so a long-lived engine should be replaced first (the fuzz harness
 * recycles its kept machines long before, vm_translations). */
#define UC_TB_FLUSH_AT 200000u

enum { RUN_AGAIN = -1 };

void uc_request_stop(struct uc_cpu *c, uint8_t why, uint64_t pc)
{
	if (c->stopping)
		return;
	c->stop = why;
	c->stop_pc = pc;
	c->stopping = true;
	c->limit = 0; /* sends the block hook's fast path to block_slow, which sees stopping */
	uc_emu_stop(c->uc);
}

/* Decodes a block Unicorn is about to run for the first time; false when the run must stop
 * before it (new trap hooks, a full cache, an undecodable block). */
static bool admit(struct uc_cpu *c, uint64_t pc, uint32_t size, uint32_t icount,
                  const struct uc_block **out)
{
	bool restart = false;

	*out = uc_block_decode(c, pc, size, c->precise ? 0 : icount, &restart);
	if (!*out) {
		/* Zydis and Unicorn disagreeing on the count shows only at a fresh translation
		 * (icount): a kept one would be admitted later on Zydis's count alone, after a
		 * snapshot restore or a reload, and run differently (fuzz_hv_transitions finding
		 * 21) */
		if (!c->flush_all)
			uc_ctl_remove_cache(c->uc, pc, pc + size);
		uc_request_stop(c, c->flush_all ? UST_ARM : UST_INTERNAL, pc);
		return false;
	}
	if (restart) {
		uc_ctl_remove_cache(c->uc, pc, pc + size); /* retranslate with the new hooks */
		uc_request_stop(c, UST_ARM, pc);
		return false;
	}
	return true;
}

static size_t recent_slot(uint64_t pc)
{
	return (size_t)(pc ^ (pc >> 9)) & (UC_RECENT - 1);
}

/* The rare cases of the block hook: a block missing from the direct-mapped front (looked up or
 * decoded now), a stop already requested, and a block that would overrun the budget. */
static __attribute__((noinline)) void block_slow(struct uc_cpu *c, uint64_t pc, uint32_t size)
{
	const struct uc_block *b = uc_block_find(c, pc);
	uint32_t icount;
	uint64_t done;

	if (c->stopping || size == 0)
		return;
	if (c->pt_written) {
		uc_request_stop(c, UST_PT_WRITE, pc);
		return;
	}
	/* b's first instruction alone (uc_step.c), its bytes checked as it was translated */
	if (b && b->size != size && b->icount > 1 && size == b->head_len) {
		icount = 1;
	} else {
		if ((!b || b->size != size) && !admit(c, pc, size, 0, &b))
			return;
		icount = b->icount;
		c->recent[recent_slot(pc)] =
		    (struct uc_recent){.pc = pc, .size = size, .icount = icount, .b = b};
	}
	done = c->done + icount;
	if (done > c->limit) {
		uc_request_stop(c, UST_BUDGET, pc);
		return;
	}
	c->cur_start = c->done;
	c->done = done;
	c->cur = b;
}

/* UC_HOOK_BLOCK: runs at the start of every block execution, before the block's own exit check,
 * so a stop requested here executes none of its instructions. The block is counted whole now;
 * a stop inside it recounts from cur_start (count_to). This is the hot path of exit-free code:
 * one direct-mapped lookup, three stores. */
static void on_block(uc_engine *uc, uint64_t pc, uint32_t size, void *ud)
{
	struct uc_cpu *c = ud;
	const struct uc_recent *r = &c->recent[recent_slot(pc)];
	uint64_t done = c->done + r->icount;

	(void)uc;
	if (__builtin_expect(r->pc != pc || r->size != size || done > c->limit, 0)) {
		block_slow(c, pc, size);
		return;
	}
	c->cur_start = c->done;
	c->done = done;
	c->cur = r->b;
}

/* UC_HOOK_EDGE_GENERATED: Unicorn generated a block (first time, or again after self-modifying
 * code invalidated it) and is about to run it. */
static void on_edge(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *ud)
{
	struct uc_cpu *c = ud;
	const struct uc_block *b;

	(void)uc, (void)prev;
	if (c->stopping || tb->size == 0)
		return;
	c->cur = NULL; /* the previous block finished before Unicorn looked up this one */
	c->generated++;
	c->since_tb_flush++;
	if (c->pt_written) { /* translated through a TLB entry the store may have outdated */
		uc_request_stop(c, UST_PT_WRITE, tb->pc);
		return;
	}
	if (uc_step_is_head(c, uc_block_find(c, tb->pc), tb->pc, tb->size, tb->icount))
		return; /* a step, or the instruction after STI: the whole block's decode holds */
	admit(c, tb->pc, tb->size, tb->icount, &b);
}

void uc_on_trap(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	struct uc_cpu *c = ud;
	const struct uc_trap *t;

	(void)uc, (void)size;
	if (c->stopping || !(t = uc_trap_find(c, addr)) || t->cls == DEC_NONE)
		return;
	if (t->cls == DEC_IF_WRITE) {
		if (c->if_stop && !(c->if_pass && addr == c->if_pass_addr))
			uc_request_stop(c, UST_IF_WRITE, addr);
		return;
	}
	if (c->pass_armed && c->pass_addr == addr) {
		c->pass_armed = false; /* runs natively once (pass_through) */
		return;
	}
	if (t->cls == DEC_MMIO) {
		if (uc_mmio_site_hits(c, t, addr))
			uc_request_stop(c, UST_MMIO, addr);
		return;
	}
	if (t->cls == DEC_CR2_WRITE || t->always || (c->stop_mask & GOP_BIT(t->d.kind)))
		uc_request_stop(c, UST_TRAP, addr);
}

/* Unicorn hands guest exceptions here instead of delivering them; RIP is precise. */
static void on_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	struct uc_cpu *c = ud;

	(void)uc;
	if (c->stopping)
		return;
	c->stop_vec = intno;
	c->stop_addr = uc_reg(c, UC_X86_REG_CR2);
	uc_request_stop(c, intno == 14 ? UST_PF : UST_EXC, uc_reg(c, UC_X86_REG_RIP));
}

static bool on_invalid(uc_engine *uc, void *ud)
{
	struct uc_cpu *c = ud;

	(void)uc;
	if (!c->stopping)
		uc_request_stop(c, UST_UD, uc_reg(c, UC_X86_REG_RIP));
	return false;
}

/* The executing block stopped before the instruction at addr: only the ones before it retired. */
static bool count_to(struct uc_cpu *c, uint64_t addr)
{
	uint32_t idx;

	if (!c->cur)
		return false;
	if (addr == c->cur->pc + c->cur->size)
		idx = c->cur->icount; /* the precise deadline, right after the block's last one */
	else if (!uc_block_index(c, c->cur, addr, &idx))
		return false;
	c->done = c->cur_start + idx;
	c->cur = NULL;
	return true;
}

static int fault(struct uc_cpu *c, const char **why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fault(struct uc_cpu *c, const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	*why = c->why;
	return BE_FAULT;
}

/* The deadline falls inside the block at stop_pc: stop exactly there with until. */
static int start_precise(struct uc_cpu *c, const char **why)
{
	const struct uc_block *b = uc_block_find(c, c->stop_pc);

	if (!b || c->budget - c->done >= b->icount)
		return fault(c, why, "internal: no block at 0x%llx for a deadline",
		             (unsigned long long)c->stop_pc);
	if (c->hflags_off && c->budget - c->done <= UC_STEP_MAX) {
		c->step = true; /* one instruction, kept translations (uc_step.c) */
		return RUN_AGAIN;
	}
	c->until = uc_block_addr(c, b, (uint32_t)(c->budget - c->done));
	c->precise = true;
	c->limit = UINT64_MAX; /* the until address ends this run, not the block hook */
	/* Unicorn cuts translations at until only as it makes them: the block is translated again,
	 * shortened. Only translations over its first byte go; the one starting at until survives
	 * for the next run (Unicorn drops the shortened one after this run itself). */
	uc_ctl_remove_cache(c->uc, b->pc, b->pc + 1);
	return RUN_AGAIN;
}

/* MOV to CR2: emulated so that hvsim's CR2 shadow (restored after MMIO faults) stays exact. */
static int emulate_cr2(struct uc_cpu *c, const struct uc_trap *t)
{
	struct dec_regs r;

	uc_dec_regs(c, &r);
	c->cr2 = dec_val_read(&t->d.u.cr.src, t->d.mode == DEC_MODE_64 ? 8 : 4, &r);
	uc_set_reg(c, UC_X86_REG_CR2, c->cr2);
	c->rip += t->d.len;
	c->done++;
	return RUN_AGAIN;
}

static int stopped_at_trap(struct uc_cpu *c, struct guest_op *op, const char **why)
{
	const struct uc_trap *t = uc_trap_find(c, c->stop_pc);
	struct dec_regs r;

	if (!t || !count_to(c, c->stop_pc))
		return fault(c, why, "internal: trap at 0x%llx outside its block",
		             (unsigned long long)c->stop_pc);
	c->rip = c->stop_pc;
	if (t->cls == DEC_CR2_WRITE)
		return emulate_cr2(c, t);
	uc_dec_regs(c, &r);
	dec_build_op(&t->d, c->rip, &r, op);
	return BE_OP;
}

static int stopped_at_mmio(struct uc_cpu *c, struct guest_op *op, const char **why)
{
	if (!count_to(c, c->stop_pc))
		return fault(c, why, "internal: MMIO stop at 0x%llx outside its block",
		             (unsigned long long)c->stop_pc);
	c->rip = c->stop_pc;
	if (c->why[0]) {
		*why = c->why;
		return BE_BAD_ACCESS;
	}
	*op = c->pending;
	return BE_OP;
}

static int stopped_in_block(struct uc_cpu *c, struct guest_op *op, const char **why)
{
	if (c->stop != UST_INTERNAL && !count_to(c, c->stop_pc))
		c->cur = NULL; /* the fault ends the vCPU; the count is then of no use */
	c->rip = c->stop_pc;
	switch (c->stop) {
	case UST_PF: return uc_handle_fault(c, op, why);
	case UST_EXC:
		uc_reset_exception_state(c);
		return fault(c, why, "guest exception vector %u at rip 0x%llx (not delivered)",
		             c->stop_vec, (unsigned long long)c->rip);
	case UST_UD:
		return fault(c, why, "invalid opcode (#UD) at rip 0x%llx",
		             (unsigned long long)c->rip);
	case UST_NOPAGING:
		return fault(c, why,
		             "MMIO access with paging off at rip 0x%llx (hvsim traps MMIO through "
		             "its page tables)",
		             (unsigned long long)c->rip);
	default: *why = c->why; return BE_FAULT;
	}
}

/* Before an instruction that may open an interrupt window: the run ends there, or, when it is the
 * first one of the run, runs it alone (its hook lets it pass, the budget becomes one). */
static int stopped_at_if_write(struct uc_cpu *c, const char **why)
{
	if (!count_to(c, c->stop_pc))
		return fault(c, why, "internal: IF stop at 0x%llx outside its block",
		             (unsigned long long)c->stop_pc);
	c->rip = c->stop_pc;
	if (c->done > 0)
		return BE_BUDGET;
	c->if_pass = true;
	c->if_pass_addr = c->rip;
	c->budget = 1;
	c->limit = 1;
	return RUN_AGAIN;
}

static int stopped_bad(struct uc_cpu *c, const char **why)
{
	snprintf(c->why, sizeof(c->why), "%s 0x%llx outside RAM and MMIO",
	         c->bad_fetch   ? "instruction fetch from"
	         : c->bad_write ? "write to"
	                        : "read from",
	         (unsigned long long)c->bad_addr);
	c->rip = uc_reg(c, UC_X86_REG_RIP);
	*why = c->why;
	return BE_BAD_ACCESS;
}

/* Unicorn returned without a hook asking it to: the precise deadline, or a failure. */
static int stopped_unasked(struct uc_cpu *c, uc_err err, const char **why)
{
	uint64_t rip = uc_reg(c, UC_X86_REG_RIP);

	if (err == UC_ERR_OK && c->precise && rip == c->until && count_to(c, rip)) {
		c->rip = rip;
		c->precise = false;
		c->until = 0;
		c->limit = c->budget;
		return BE_BUDGET;
	}
	c->rip = rip;
	return fault(c, why, "internal: Unicorn stopped unasked at rip 0x%llx (%s)",
	             (unsigned long long)rip, uc_strerror(err));
}

static int classify(struct uc_cpu *c, uc_err err, struct guest_op *op, const char **why)
{
	switch (c->stop) {
	case UST_ARM:
	case UST_PT_WRITE: c->rip = c->stop_pc; return RUN_AGAIN;
	case UST_BUDGET:
		c->rip = c->stop_pc;
		return c->done >= c->budget ? BE_BUDGET : start_precise(c, why);
	case UST_TRAP: return stopped_at_trap(c, op, why);
	case UST_MMIO: return stopped_at_mmio(c, op, why);
	case UST_IF_WRITE: return stopped_at_if_write(c, why);
	case UST_BAD: return stopped_bad(c, why);
	case UST_NONE: return stopped_unasked(c, err, why);
	default: return stopped_in_block(c, op, why);
	}
}

/* Every translation and decoded block goes, and Unicorn's code buffer starts empty. */
static void flush_translations(struct uc_cpu *c)
{
	uc_cache_flush(c);
	uc_ctl_flush_tlb(c->uc); /* Unicorn 2.0.1's name for UC_CTL_TB_FLUSH */
	c->since_tb_flush = 0;
	c->tb_flushes++;
}

static int run_once(struct uc_cpu *c, struct guest_op *op, const char **why)
{
	uc_err err;

	if (c->since_tb_flush >= c->tb_flush_at)
		flush_translations(c);
	if (c->flush_all)
		uc_cache_flush(c);
	else if (c->flush_pending)
		uc_keep_sync(c);
	uc_regs_flush(c);
	if (c->pt_written) {
		c->pt_written = false;
		uc_tlb_flush(c);
	}
	uc_tlb_sync(c);
	c->cur = NULL;
	c->stop = UST_NONE;
	c->stopping = false;
	c->limit = c->precise ? UINT64_MAX : c->budget;
	c->why[0] = '\0';
	if (c->step)
		uc_step_shadow(c, true);
	c->running = true;
	err = uc_emu_start(c->uc, c->rip, c->until, 0, 0);
	c->running = false;
	uc_regs_invalidate(c);
	if (c->step) /* a stop before the instruction ran leaves its shadow set */
		uc_step_shadow(c, false);
	c->step = false;
	return classify(c, err, op, why);
}

static enum be_stop run(void *ctx, uint64_t budget, struct guest_op *op, uint64_t *retired,
                        const char **why)
{
	struct uc_cpu *c = ctx;
	int st = RUN_AGAIN;

	c->budget = budget;
	c->limit = budget;
	c->done = 0;
	c->precise = false;
	c->step = false;
	c->until = 0;
	if (c->pass_armed && c->pass_addr != c->rip)
		c->pass_armed = false;
	/* An armed run at an IF writer stops at once (the hook), then runs it alone: the trap table
	 * is not asked here, before run_once has dropped what changed under the code (a trap left
	 * by older bytes would cut a run a fresh engine does not). */
	for (unsigned i = 0; i < RESTARTS_MAX && st == RUN_AGAIN; i++)
		st = run_once(c, op, why);
	c->if_stop = false;
	c->if_pass = false;
	if (c->precise) { /* restarts ran out on the precise path: drop it, the caller re-runs */
		c->precise = false;
		c->until = 0;
		c->limit = c->budget;
	}
	*retired = c->done;
	return st == RUN_AGAIN ? BE_BUDGET : (enum be_stop)st;
}

static void arm_if_stop(void *ctx)
{
	((struct uc_cpu *)ctx)->if_stop = true;
}

static void set_stop_mask(void *ctx, uint32_t mask)
{
	((struct uc_cpu *)ctx)->stop_mask = mask;
}

static bool pass_through(void *ctx, const struct guest_op *op)
{
	struct uc_cpu *c = ctx;
	const struct uc_trap *t = uc_trap_find(c, op->rip);

	if (!t || t->cls != DEC_OP || t->always || op->kind == GOP_MMIO)
		return false;
	c->pass_addr = op->rip;
	c->pass_armed = true;
	return true;
}

static void flush_tlb(void *ctx)
{
	uc_tlb_flush(ctx);
}

static void mem_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct uc_cpu *c = ctx;

	uc_pt_written(c, gpa, len);
	if (uc_code_touched(c, gpa, len))
		c->flush_pending = true; /* drop what changed before the next run */
}

static void code_replaced(void *ctx)
{
	struct uc_cpu *c = ctx;

	c->flush_pending = true; /* keeps what the new image has in common with the old */
}

static uint64_t translations(void *ctx)
{
	return ((const struct uc_cpu *)ctx)->generated;
}

static enum hvsim_status mmio_changed(void *ctx)
{
	return uc_mmio_sync(ctx);
}

static void destroy(void *ctx)
{
	struct uc_cpu *c = ctx;

	if (!c)
		return;
	if (c->ctx)
		uc_context_free(c->ctx);
	if (c->uc) /* leaks Unicorn 2.0.1's self-modifying-code bitmaps: fuzz/lsan.supp */
		uc_close(c->uc);
	uc_cache_fini(c);
	free(c);
}

static enum hvsim_status add_hooks(struct uc_cpu *c)
{
	uc_hook h;

	if (uc_hook_add(c->uc, &h, UC_HOOK_BLOCK, (void *)on_block, c, 1, 0) ||
	    uc_hook_add(c->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)on_edge, c, 1, 0) ||
	    uc_hook_add(c->uc, &h, UC_HOOK_INTR, (void *)on_intr, c, 1, 0) ||
	    uc_hook_add(c->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, c, 1, 0))
		return HVSIM_E_INTERNAL;
	return uc_add_mem_hooks(c);
}

static enum hvsim_status open_engine(struct uc_cpu *c, struct hvsim_error *err)
{
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &c->uc) != UC_ERR_OK) {
		c->uc = NULL;
		return hvsim_error_set(err, HVSIM_E_NOMEM, "Unicorn: cannot open an x86-64 engine");
	}
	if (uc_track_init(c) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_INTERNAL, "Unicorn: cannot install hooks");
	if (uc_context_alloc(c->uc, &c->ctx) != UC_ERR_OK || uc_cache_init(c) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory creating a vCPU");
	if (uc_calibrate(c) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_INTERNAL,
		                       "Unicorn: this build keeps its exception state where hvsim "
		                       "cannot find it (hvsim needs Unicorn 2.0.1)");
	if (uc_mem_map_ptr(c->uc, 0, c->m->mem_size, UC_PROT_ALL, c->m->mem) != UC_ERR_OK ||
	    uc_tlb_init(c) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "Unicorn: cannot map guest RAM");
	if (uc_mmio_sync(c) != HVSIM_OK)
		return hvsim_error_set(err, HVSIM_E_INPUT, "Unicorn: cannot map the MMIO regions");
	return HVSIM_OK;
}

void *uc_backend_create(const struct be_machine *m, uint8_t mode, uint64_t entry, unsigned index,
                        struct hvsim_error *err)
{
	struct uc_cpu *c = calloc(1, sizeof(*c));

	if (!c) {
		hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory creating a vCPU");
		return NULL;
	}
	c->m = m;
	c->pt_lo =
	    m->mem_size >= (uint64_t)GS_PT_PAGES * GS_PAGE ? gs_pt_base(m->mem_size) : m->mem_size;
	c->mode = mode;
	c->index = index;
	c->stop_mask = UINT32_MAX;
	c->tb_flush_at = UC_TB_FLUSH_AT;
	if (open_engine(c, err) != HVSIM_OK || gs_cpu_setup(c, mode, entry, index, err) != HVSIM_OK)
		goto fail;
	if (add_hooks(c) != HVSIM_OK) {
		hvsim_error_set(err, HVSIM_E_INTERNAL, "Unicorn: cannot install hooks");
		goto fail;
	}
	uc_invalidate_phys(c, GS_TRAMP_GPA, GS_PAGE); /* the trampoline's code goes away */
	return c;
fail:
	destroy(c);
	return NULL;
}

/* ---- snapshots ---- */

struct uc_snap {
	uint64_t rip, cr2;
	uint32_t stop_mask;
	uint64_t pass_addr;
	bool pass_armed;
	size_t ctx_size;
	uint8_t ctx[]; /* uc_context blob */
};

static void *snapshot(void *ctx)
{
	struct uc_cpu *c = ctx;
	size_t size = uc_context_size(c->uc);
	struct uc_snap *s = malloc(sizeof(*s) + size);

	if (!s)
		return NULL;
	uc_regs_flush(c);
	uc_set_reg(c, UC_X86_REG_RIP, c->rip);
	uc_context_save(c->uc, c->ctx);
	memcpy(s->ctx, c->ctx, size);
	s->ctx_size = size;
	s->rip = c->rip;
	s->cr2 = c->cr2;
	s->stop_mask = c->stop_mask;
	s->pass_addr = c->pass_addr;
	s->pass_armed = c->pass_armed;
	return s;
}

static enum hvsim_status restore(void *ctx, const void *snap)
{
	struct uc_cpu *c = ctx;
	const struct uc_snap *s = snap;
	struct uc_paging was, now;
	int32_t none = -1;

	if (s->ctx_size != uc_context_size(c->uc))
		return HVSIM_E_INPUT;
	uc_paging_read(c, &was);
	memcpy(c->ctx, s->ctx, s->ctx_size);
	memcpy((uint8_t *)c->ctx + c->old_exception_off, &none, sizeof(none));
	uc_context_restore(c->uc, c->ctx);
	uc_regs_invalidate(c);
	c->rip = s->rip;
	c->cr2 = s->cr2;
	c->stop_mask = s->stop_mask;
	c->pass_addr = s->pass_addr;
	c->pass_armed = s->pass_armed;
	c->flush_pending = true; /* memory was restored under the translations: compare */
	uc_paging_read(c, &now);
	if (!uc_paging_same(&was, &now) || !uc_paging_watched(c, &now))
		uc_tlb_flush(c); /* snapshot.c flushes when the restore changed hvsim's tables */
	return HVSIM_OK;
}

static void snapshot_free(void *snap)
{
	free(snap);
}

const struct guest_backend_ops uc_backend_ops = {
    .name = "unicorn",
    .destroy = destroy,
    .run = run,
    .get_gpr = uc_be_get_gpr,
    .set_gpr = uc_be_set_gpr,
    .get_rip = uc_be_get_rip,
    .set_rip = uc_be_set_rip,
    .get_rflags = uc_be_get_rflags,
    .set_rflags = uc_be_set_rflags,
    .deliver = uc_be_deliver,
    .interruptible = uc_be_interruptible,
    .set_stop_mask = set_stop_mask,
    .arm_if_stop = arm_if_stop,
    .pass_through = pass_through,
    .get_cr = uc_be_get_cr,
    .set_cr = uc_be_set_cr,
    .flush_tlb = flush_tlb,
    .mem_written = mem_written,
    .mmio_changed = mmio_changed,
    .code_replaced = code_replaced,
    .translations = translations,
    .idt_gate = uc_be_idt_gate,
    .snapshot = snapshot,
    .restore = restore,
    .snapshot_free = snapshot_free,
};
