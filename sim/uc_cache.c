/* The Unicorn backend's decode cache: every translation block Unicorn generates is decoded once
 * with Zydis into its instruction count, its instruction offsets and the trap sites in it, and
 * each new trap site gets a one-address code hook. Blocks are keyed by their start address and
 * replaced when Unicorn retranslates (self-modifying code), so no stale decode ever runs; trap
 * sites keep the bytes they came from. Invariants: uc_int.h. */
#include "uc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS_INITIAL  1024u
#define BLOCKS_MAX      (1u << 20)
#define OFFS_INITIAL    16384u
#define OFFS_MAX        (1u << 24)
#define TRAPS_INITIAL   256u
#define TRAPS_MAX       (1u << 16)
#define BLOCK_BYTES_MAX 16384u              /* a translation block spans at most two pages */
#define CODE_PAGES      (UINT64_C(1) << 20) /* 4 KiB pages below 4 GiB */

static size_t hash(uint64_t key, size_t cap)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & (cap - 1);
}

enum hvsim_status uc_cache_init(struct uc_cpu *c)
{
	c->code_buf = malloc(BLOCK_BYTES_MAX);
	c->blocks = calloc(BLOCKS_INITIAL, sizeof(*c->blocks));
	c->offs = malloc(OFFS_INITIAL * sizeof(*c->offs));
	c->traps = calloc(TRAPS_INITIAL, sizeof(*c->traps));
	if (!c->code_buf || !c->blocks || !c->offs || !c->traps)
		return HVSIM_E_NOMEM;
	c->blocks_cap = BLOCKS_INITIAL;
	c->offs_cap = OFFS_INITIAL;
	c->traps_cap = TRAPS_INITIAL;
	return HVSIM_OK;
}

void uc_cache_fini(struct uc_cpu *c)
{
	uc_keep_forget(c);
	free(c->code_pages);
	c->code_pages = NULL;
	free(c->blocks);
	free(c->offs);
	free(c->traps);
	free(c->code_buf);
	c->code_buf = NULL;
	c->blocks = NULL;
	c->offs = NULL;
	c->traps = NULL;
}

void uc_cache_flush(struct uc_cpu *c)
{
	memset(c->blocks, 0, c->blocks_cap * sizeof(*c->blocks));
	c->blocks_used = 0;
	c->offs_used = 0;
	c->cur = NULL;
	memset(c->recent, 0, sizeof(c->recent));
	c->flush_pending = false;
	c->flush_all = false;
	uc_keep_forget(c);
	if (c->code_pages)
		memset(c->code_pages, 0, CODE_PAGES / 8);
	/* Unicorn translated only blocks on_block saw, all inside the marked span */
	if (c->code_hi)
		uc_invalidate_phys(c, c->code_lo << 12, (c->code_hi - c->code_lo) << 12);
	c->code_lo = c->code_hi = 0;
}

static struct uc_block *block_slot(const struct uc_cpu *c, uint64_t pc)
{
	size_t i = hash(pc, c->blocks_cap);

	while (c->blocks[i].size && c->blocks[i].pc != pc)
		i = (i + 1) & (c->blocks_cap - 1);
	return &c->blocks[i];
}

const struct uc_block *uc_block_find(const struct uc_cpu *c, uint64_t pc)
{
	const struct uc_block *b = block_slot(c, pc);

	return b->size ? b : NULL;
}

static bool blocks_grow(struct uc_cpu *c)
{
	struct uc_block *old = c->blocks;
	size_t cap = c->blocks_cap * 2;
	uint64_t cur_pc = c->cur ? c->cur->pc : 0;
	bool had_cur = c->cur != NULL;

	if (cap > BLOCKS_MAX || !(c->blocks = calloc(cap, sizeof(*c->blocks)))) {
		c->blocks = old;
		return false;
	}
	c->blocks_cap = cap;
	for (size_t i = 0; i < cap / 2; i++)
		if (old[i].size)
			*block_slot(c, old[i].pc) = old[i];
	free(old);
	c->cur = had_cur ? uc_block_find(c, cur_pc) : NULL;
	memset(c->recent, 0, sizeof(c->recent));
	return true;
}

static bool offs_reserve(struct uc_cpu *c, size_t n)
{
	uint16_t *p;
	size_t cap = c->offs_cap;

	while (c->offs_used + n > cap)
		cap *= 2;
	if (cap == c->offs_cap)
		return true;
	if (cap > OFFS_MAX || !(p = realloc(c->offs, cap * sizeof(*p))))
		return false;
	c->offs = p;
	c->offs_cap = cap;
	return true;
}

static struct uc_trap *trap_slot(const struct uc_cpu *c, uint64_t addr)
{
	size_t i = hash(addr, c->traps_cap);

	while (c->traps[i].used && c->traps[i].addr != addr)
		i = (i + 1) & (c->traps_cap - 1);
	return &c->traps[i];
}

struct uc_trap *uc_trap_find(const struct uc_cpu *c, uint64_t addr)
{
	struct uc_trap *t = trap_slot(c, addr);

	return t->used ? t : NULL;
}

static bool traps_grow(struct uc_cpu *c)
{
	struct uc_trap *old = c->traps;
	size_t cap = c->traps_cap * 2;

	if (cap > TRAPS_MAX || !(c->traps = calloc(cap, sizeof(*c->traps)))) {
		c->traps = old;
		return false;
	}
	c->traps_cap = cap;
	for (size_t i = 0; i < cap / 2; i++)
		if (old[i].used)
			*trap_slot(c, old[i].addr) = old[i];
	free(old);
	return true;
}

/* Kinds Unicorn executes correctly itself; the rest must always stop (uc_int.h). */
static bool kind_safe(const struct dec_insn *d)
{
	switch (d->kind) {
	case GOP_PAUSE:
	case GOP_INVLPG:
	case GOP_INVD:
	case GOP_WBINVD: return true;
	case GOP_CR: return d->u.cr.cr != 8; /* CR8 reaches QEMU's absent local APIC */
	default: return false;
	}
}

static struct uc_trap *trap_get(struct uc_cpu *c, uint64_t addr)
{
	struct uc_trap *t = uc_trap_find(c, addr);

	if (t)
		return t;
	if ((c->traps_used + 1) * 2 > c->traps_cap && !traps_grow(c))
		return NULL;
	t = trap_slot(c, addr);
	memset(t, 0, sizeof(*t));
	t->used = true;
	t->addr = addr;
	c->traps_used++;
	return t;
}

static bool trap_arm(struct uc_cpu *c, struct uc_trap *t, bool *restart)
{
	if (t->hooked)
		return true;
	if (uc_hook_add(c->uc, &t->hook, UC_HOOK_CODE, (void *)uc_on_trap, c, t->addr, t->addr) !=
	    UC_ERR_OK)
		return false;
	t->hooked = true;
	*restart = true;
	return true;
}

static bool trap_set(struct uc_cpu *c, uint64_t addr, const uint8_t *bytes,
                     const struct dec_insn *d, bool *restart)
{
	struct uc_trap *t = trap_get(c, addr);

	if (!t)
		return false;
	t->cls = d->cls;
	t->d = *d;
	t->nbytes = d->len;
	memcpy(t->bytes, bytes, d->len);
	t->always = d->cls != DEC_IF_WRITE && (d->cls != DEC_OP || !kind_safe(d));
	return trap_arm(c, t, restart);
}

/* An instruction that is no trap: a trap slot left there by older code retires, unless it is an
 * MMIO site for these very bytes (MMIO sites are found by faults, not by decoding). len 0: bytes
 * that are no instruction, where every site retires. */
static void trap_retire(struct uc_cpu *c, uint64_t addr, const uint8_t *bytes, uint8_t len)
{
	struct uc_trap *t = uc_trap_find(c, addr);

	if (!t || t->cls == DEC_NONE)
		return;
	if (t->cls == DEC_MMIO && t->nbytes == len && memcmp(t->bytes, bytes, len) == 0)
		return;
	t->cls = DEC_NONE;
}

enum hvsim_status uc_trap_add_mmio(struct uc_cpu *c, uint64_t addr, const uint8_t *bytes,
                                   const struct dec_insn *d, bool *restart)
{
	struct dec_insn m = *d;

	m.cls = DEC_MMIO;
	return trap_set(c, addr, bytes, &m, restart) ? HVSIM_OK : HVSIM_E_NOMEM;
}

/* The instruction at la whose bytes run past the end of its block: QEMU stops reading an
 * instruction it does not implement once it knows (VMREAD after 0F 78, VMXON [rip+disp32] after
 * its ModRM) and ends the block there, so the block's bytes hold only its start. Decodes it from
 * memory; false when it is not an instruction there either. *tail: the bytes past the block. */
static bool decode_overhang(struct uc_cpu *c, enum dec_mode mode, uint64_t la, uint32_t in_block,
                            struct dec_insn *d, uint8_t *bytes, uint32_t *tail)
{
	for (uint32_t len = 15; len > in_block; len--) {
		if (!uc_read_linear(c, la, bytes, len))
			continue; /* the end of RAM: try fewer bytes */
		if (!dec_insn(mode, bytes, len, d) || d->len <= in_block)
			return false;
		*tail = d->len - in_block;
		return true;
	}
	return false;
}

/* Decodes buf (size bytes at pc) into offsets appended to c->offs; returns the count, or 0 with
 * c->why set. *tail: bytes of the last instruction past the block (decode_overhang). */
static uint32_t decode_into(struct uc_cpu *c, uint64_t pc, const uint8_t *buf, uint32_t size,
                            bool *restart, uint32_t *tail)
{
	enum dec_mode mode = uc_cpu_mode(c);
	uint32_t n = 0, o = 0;
	struct dec_insn d;
	uint8_t over[15];

	*tail = 0;
	while (o < size) {
		const uint8_t *at = buf + o;

		c->offs[c->offs_used + n++] = (uint16_t)o;
		if (!dec_insn(mode, at, size - o, &d)) {
			/* Unicorn ends a block at bytes it cannot decode either (#UD). A trap site
			 * older bytes left there retires: its hook would emulate the instruction
			 * that was there, where Unicorn raises #UD (fuzz_hv_transitions finding 27)
			 */
			if (!decode_overhang(c, mode, pc + o, size - o, &d, over, tail)) {
				trap_retire(c, pc + o, at, 0);
				return n;
			}
			at = over;
		}
		if (d.cls == DEC_NONE) {
			trap_retire(c, pc + o, at, d.len);
		} else if (!trap_set(c, pc + o, at, &d, restart)) {
			snprintf(c->why, sizeof(c->why),
			         "more than %u trap sites, or Unicorn refused a hook, at 0x%llx",
			         TRAPS_MAX / 2, (unsigned long long)(pc + o));
			return 0;
		}
		o += d.len;
	}
	return n;
}

/* Code pages are tracked by linear address, which hvsim's identity paging makes physical. The span
 * is kept even when the bitmap cannot be allocated (then every write counts as touching code). */
static void mark_code(struct uc_cpu *c, uint64_t pc, uint32_t size)
{
	uint64_t first = pc >> 12, last = (pc + size - 1) >> 12;

	if (!c->code_hi || first < c->code_lo)
		c->code_lo = first;
	if (last + 1 > c->code_hi)
		c->code_hi = last + 1;
	for (uint64_t p = first; c->m->xmod && p <= last && p < c->m->xmod->n_pages; p++)
		c->m->xmod->pages[p / 64] |= UINT64_C(1) << (p % 64);
	if (!c->code_pages && !(c->code_pages = calloc(1, CODE_PAGES / 8)))
		return;
	for (uint64_t p = first; p <= last && p < CODE_PAGES; p++)
		c->code_pages[p / 8] |= (uint8_t)(1u << (p % 8));
}

bool uc_code_touched(const struct uc_cpu *c, uint64_t gpa, uint64_t len)
{
	if (!c->code_pages)
		return c->code_hi != 0; /* code but no bitmap: assume it */
	for (uint64_t p = gpa >> 12; len && p <= (gpa + len - 1) >> 12 && p < CODE_PAGES; p++)
		if (c->code_pages[p / 8] & (1u << (p % 8)))
			return true;
	return false;
}

const struct uc_block *uc_block_decode(struct uc_cpu *c, uint64_t pc, uint32_t size,
                                       uint32_t icount, bool *restart)
{
	uint8_t *buf = c->code_buf;
	struct uc_block *b;
	uint32_t n, tail;

	*restart = false;
	if (size == 0 || size > BLOCK_BYTES_MAX || !uc_read_linear(c, pc, buf, size)) {
		snprintf(c->why, sizeof(c->why), "code at 0x%llx is not mapped to RAM",
		         (unsigned long long)pc);
		return NULL;
	}
	/* Unicorn holds its translation even if decoding it fails below */
	mark_code(c, pc, size);
	uc_keep_note(c, pc, size);
	if (((c->blocks_used + 1) * 2 > c->blocks_cap && !blocks_grow(c)) ||
	    !offs_reserve(c, size)) {
		c->flush_all = true; /* the run loop flushes between runs, never inside a hook */
		return NULL;
	}
	n = decode_into(c, pc, buf, size, restart, &tail);
	if (n == 0 || (icount && n != icount)) {
		if (n)
			snprintf(c->why, sizeof(c->why),
			         "Zydis and Unicorn disagree on the instructions of the block at "
			         "0x%llx (%u against %u)",
			         (unsigned long long)pc, n, icount);
		return NULL;
	}
	if (tail) { /* a last instruction's bytes past the block */
		mark_code(c, pc + size, tail);
		uc_keep_note(c, pc + size, tail);
	}
	b = block_slot(c, pc);
	if (!b->size)
		c->blocks_used++;
	*b = (struct uc_block){.pc = pc,
	                       .size = size,
	                       .icount = n,
	                       .off = (uint32_t)c->offs_used,
	                       .span = size + tail};
	if (n > 1) { /* the first instruction lies inside the block */
		b->head_len = (uint8_t)c->offs[c->offs_used + 1];
		memcpy(b->head, buf, b->head_len);
	}
	c->offs_used += n;
	return b;
}

static bool overlaps(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi)
{
	return addr < hi && addr + len > lo;
}

/* Drops the blocks whose decoded bytes overlap [lo, hi) by rebuilding the table (open addressing
 * has no deletion). Out of memory, drops every block: a block that runs again undecoded is
 * decoded in the block hook (block_slow), its trap sites still armed. */
static void blocks_filter(struct uc_cpu *c, uint64_t lo, uint64_t hi)
{
	struct uc_block *old = c->blocks, *fresh = calloc(c->blocks_cap, sizeof(*fresh));

	c->blocks_used = 0;
	if (!fresh) {
		memset(c->blocks, 0, c->blocks_cap * sizeof(*c->blocks));
		return;
	}
	c->blocks = fresh;
	for (size_t i = 0; i < c->blocks_cap; i++)
		if (old[i].size && !overlaps(old[i].pc, old[i].span, lo, hi)) {
			*block_slot(c, old[i].pc) = old[i];
			c->blocks_used++;
		}
	free(old);
}

/* Drops the trap sites whose bytes overlap [lo, hi) with their hooks (every translation holding
 * them is gone). Out of memory, retires them in place instead: a retired site's hook does
 * nothing, and decoding its block again refreshes it. */
static void traps_filter(struct uc_cpu *c, uint64_t lo, uint64_t hi)
{
	struct uc_trap *old = c->traps, *fresh = calloc(c->traps_cap, sizeof(*fresh));

	if (!fresh) {
		for (size_t i = 0; i < c->traps_cap; i++)
			if (old[i].used && overlaps(old[i].addr, old[i].nbytes, lo, hi))
				old[i].cls = DEC_NONE;
		return;
	}
	c->traps = fresh;
	c->traps_used = 0;
	for (size_t i = 0; i < c->traps_cap; i++) {
		if (!old[i].used)
			continue;
		if (!overlaps(old[i].addr, old[i].nbytes, lo, hi)) {
			*trap_slot(c, old[i].addr) = old[i];
			c->traps_used++;
		} else if (old[i].hooked) {
			uc_hook_del(c->uc, old[i].hook);
		}
	}
	free(old);
}

/* Moves the live blocks' offsets together once dropped ones fill most of the array. */
static void offs_compact(struct uc_cpu *c)
{
	size_t live = 0, k = 0;
	uint16_t *fresh;

	for (size_t i = 0; i < c->blocks_cap; i++)
		live += c->blocks[i].size ? c->blocks[i].icount : 0;
	if (c->offs_used <= 2 * live + OFFS_INITIAL / 2 ||
	    !(fresh = malloc(c->offs_cap * sizeof(*fresh))))
		return;
	for (size_t i = 0; i < c->blocks_cap; i++) {
		struct uc_block *b = &c->blocks[i];

		if (!b->size)
			continue;
		memcpy(fresh + k, c->offs + b->off, b->icount * sizeof(*fresh));
		b->off = (uint32_t)k;
		k += b->icount;
	}
	free(c->offs);
	c->offs = fresh;
	c->offs_used = k;
}

void uc_cache_drop(struct uc_cpu *c, uint64_t lo, uint64_t hi)
{
	blocks_filter(c, lo, hi);
	traps_filter(c, lo, hi);
	offs_compact(c);
	c->cur = NULL;
	memset(c->recent, 0, sizeof(c->recent));
}

bool uc_block_index(const struct uc_cpu *c, const struct uc_block *b, uint64_t addr,
                    uint32_t *index)
{
	const uint16_t *o = c->offs + b->off;
	uint32_t lo = 0, hi = b->icount;

	if (addr < b->pc || addr >= b->pc + b->size)
		return false;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (b->pc + o[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*index = lo;
	return lo < b->icount && b->pc + o[lo] == addr;
}

uint64_t uc_block_addr(const struct uc_cpu *c, const struct uc_block *b, uint32_t index)
{
	return b->pc + c->offs[b->off + index];
}
