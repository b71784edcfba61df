/* A deadline inside a translation block, run one instruction at a time. Unicorn 2.0.1 stops inside
 * a block only where a translation ends: uc_emu_start's until cuts the block as it is translated,
 * and after the run Unicorn drops every translation over the byte before until, the whole block's
 * too. Each such deadline cost two translations of its block (the cut one, then the whole one
 * again): in the fuzz harness's code guests, most of what Unicorn translated (docs/vcpu-layer.md).
 *
 * QEMU ends a translation after one instruction when it starts in an interrupt shadow
 * (HF_INHIBIT_IRQ_MASK in hflags, which is part of a translation's key), and that instruction
 * clears the flag. So a step sets the flag in the saved context: the run's first block is the
 * instruction alone, a translation kept beside the whole block's, and the block hook counts it as
 * the block's first instruction (uc_step_is_head). Unicorn never takes an interrupt, so the flag
 * changes nothing the guest sees; the instruction after STI runs the same way. hflags' place in the
 * context is found by running STI, as old_exception's is (uc_mem.c). */
#include "uc_int.h"

#include <stdlib.h>
#include <string.h>

#define HF_INHIBIT_IRQ (UINT32_C(1) << 3) /* QEMU target/i386/cpu.h HF_INHIBIT_IRQ_SHIFT */

struct calib {
	struct uc_cpu *c;
	uint8_t *ctx[3]; /* the context at the first three block starts */
	uint32_t size[3];
	unsigned n;
	size_t ctx_size;
};

static void calib_block(uc_engine *uc, uint64_t pc, uint32_t size, void *ud)
{
	struct calib *k = ud;

	(void)pc;
	if (k->n < 3) {
		uc_context_save(uc, k->c->ctx);
		memcpy(k->ctx[k->n], k->c->ctx, k->ctx_size);
		k->size[k->n] = size;
	}
	if (++k->n >= 3)
		uc_emu_stop(uc);
}

static uint32_t word_at(const uint8_t *ctx, size_t off)
{
	uint32_t w;

	memcpy(&w, ctx + off, sizeof(w));
	return w;
}

/* The one word that holds the shadow at the block after STI only. */
static size_t shadow_find(const struct calib *k)
{
	size_t found = 0, hits = 0;

	for (size_t o = 0; o + 4 <= k->ctx_size; o += 4) {
		uint32_t before = word_at(k->ctx[0], o), in = word_at(k->ctx[1], o);
		uint32_t after = word_at(k->ctx[2], o);

		if (!(before & HF_INHIBIT_IRQ) && in == (after | HF_INHIBIT_IRQ) && in != after) {
			found = o;
			hits++;
		}
	}
	return hits == 1 ? found : 0;
}

static bool shadow_run(struct calib *k, uint64_t la)
{
	uc_hook h;

	k->n = 0;
	if (uc_hook_add(k->c->uc, &h, UC_HOOK_BLOCK, (void *)calib_block, k, 1, 0) != UC_ERR_OK)
		return false;
	uc_emu_start(k->c->uc, la, 0, 0, 0);
	uc_hook_del(k->c->uc, h);
	return k->n >= 3;
}

void uc_step_calibrate(struct uc_cpu *c, uint64_t la, uint8_t *code)
{
	/* cli; sti; nop; nop; nop; jmp $ : blocks [cli sti] [nop] [nop nop jmp] */
	static const uint8_t sti[] = {0xfa, 0xfb, 0x90, 0x90, 0x90, 0xeb, 0xfe};
	/* nop; nop; jmp $, started in the shadow: blocks [nop] [nop jmp] */
	static const uint8_t plain[] = {0x90, 0x90, 0xeb, 0xfe};
	struct calib k = {.c = c, .ctx_size = uc_context_size(c->uc)};
	uint8_t *fresh = malloc(k.ctx_size);
	size_t off;

	c->hflags_off = 0;
	for (unsigned i = 0; i < 3; i++)
		k.ctx[i] = malloc(k.ctx_size);
	if (!fresh || !k.ctx[0] || !k.ctx[1] || !k.ctx[2])
		goto out;
	uc_context_save(c->uc, c->ctx);
	memcpy(fresh, c->ctx, k.ctx_size);
	memcpy(code, sti, sizeof(sti));
	if (!shadow_run(&k, la) || k.size[1] != 1 || (off = shadow_find(&k)) == 0)
		goto back;
	/* the check: the flag set by hand makes a one-instruction block of a fresh translation */
	memcpy(code + 8, plain, sizeof(plain));
	c->hflags_off = off;
	uc_step_shadow(c, true);
	if (!shadow_run(&k, la + 8) || k.size[0] != 1 || k.size[1] != 3)
		c->hflags_off = 0;
back:
	memcpy(c->ctx, fresh, k.ctx_size);
	uc_context_restore(c->uc, c->ctx);
out:
	free(fresh);
	for (unsigned i = 0; i < 3; i++)
		free(k.ctx[i]);
}

void uc_step_shadow(struct uc_cpu *c, bool on)
{
	uint32_t hf, want;

	uc_context_save(c->uc, c->ctx);
	memcpy(&hf, (uint8_t *)c->ctx + c->hflags_off, sizeof(hf));
	want = on ? hf | HF_INHIBIT_IRQ : hf & ~HF_INHIBIT_IRQ;
	if (want == hf)
		return;
	memcpy((uint8_t *)c->ctx + c->hflags_off, &want, sizeof(want));
	uc_context_restore(c->uc, c->ctx);
}

bool uc_step_is_head(struct uc_cpu *c, const struct uc_block *b, uint64_t pc, uint32_t size,
                     uint32_t icount)
{
	uint8_t now[15];

	return b && b->pc == pc && b->icount > 1 && icount == 1 && size == b->head_len &&
	       uc_read_linear(c, pc, now, size) && memcmp(now, b->head, size) == 0;
}
