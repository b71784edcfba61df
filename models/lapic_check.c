/* Invariant checks over a local APIC, for tests and fuzzers (the list is in lapic_int.h). Pure
 * functions over const state; a failure names the broken condition by its own source text and the
 * rule it comes from, so the message cannot drift from the check. */
#include "lapic_int.h"

#include <stdio.h>

#define CHECK(cond, cite)                                   \
	do {                                                \
		if (!(cond))                                \
			return fail(buf, cap, #cond, cite); \
	} while (0)

static bool fail(char *buf, size_t cap, const char *cond, const char *cite)
{
	if (cap)
		snprintf(buf, cap, "lapic invariant broken: %s (%s)", cond, cite);
	return false;
}

static bool vec_words_zero(const struct lapic *l, unsigned first_slot)
{
	for (unsigned i = 0; i < 8; i++)
		if (l->regs[first_slot + i])
			return false;
	return true;
}

static bool check_priority(const struct lapic *l, char *buf, size_t cap)
{
	CHECK(l->regs[SLOT(LAPIC_REG_PPR)] == lapic_compute_ppr(l),
	      "SDM 11.8.3.1: PPR derives from TPR and ISRV");
	CHECK((l->regs[SLOT(LAPIC_REG_TPR)] & ~0xFFu) == 0, "SDM 11.8.3: TPR is 8 bits");
	CHECK((l->regs[SLOT(LAPIC_REG_IRR)] & 0xFFFF) == 0, "SDM 11.5.2: vectors 0-15 are illegal");
	CHECK((l->regs[SLOT(LAPIC_REG_ISR)] & 0xFFFF) == 0, "SDM 11.5.2: vectors 0-15 are illegal");
	CHECK((l->regs[SLOT(LAPIC_REG_ESR)] & ~0xFFu) == 0, "SDM 11.5.3: ESR bits 31:8 reserved");
	CHECK((l->esr_pending & ~0xFFu) == 0, "SDM 11.5.3: ESR bits 31:8 reserved");
	return true;
}

static bool check_lvt(const struct lapic *l, enum lapic_lvt i, char *buf, size_t cap)
{
	unsigned slot = lapic_lvt_slot(i);
	uint32_t v = l->regs[slot];

	if (!lapic_lvt_present(l, i)) {
		CHECK(v == 0, "SDM 11.4.8: entries above max LVT do not exist");
		return true;
	}
	CHECK((v & ~(lapic_slot_wmask(l, slot) | lapic_slot_ro(slot))) == 0,
	      "SDM Figure 11-8: LVT reserved bits are 0");
	CHECK((v & LAPIC_LVT_PENDING) == 0, "model: messages leave at once, delivery status idle");
	CHECK(lapic_sw_enabled(l) || (v & LAPIC_LVT_MASKED),
	      "SDM 11.4.7.2: every LVT is masked while software disabled");
	return true;
}

static bool check_regs(const struct lapic *l, char *buf, size_t cap)
{
	const unsigned svr = SLOT(LAPIC_REG_SVR), tdcr = SLOT(LAPIC_REG_TDCR);

	for (int i = 0; i < LAPIC_LVT_COUNT; i++)
		if (!check_lvt(l, (enum lapic_lvt)i, buf, cap))
			return false;
	CHECK((l->regs[svr] & ~lapic_slot_wmask(l, svr)) == 0,
	      "SDM Figure 11-23: SVR reserved bits are 0");
	CHECK((l->regs[tdcr] & ~lapic_slot_wmask(l, tdcr)) == 0, "SDM Figure 11-10: TDCR bits");
	CHECK((l->regs[SLOT(LAPIC_REG_ICR_LO)] & LAPIC_ICR_BUSY) == 0,
	      "model: IPIs leave at once, ICR delivery status idle");
	CHECK(l->regs[SLOT(LAPIC_REG_EOI)] == 0 && l->regs[SLOT(LAPIC_REG_SELF_IPI)] == 0,
	      "SDM Table 11-1: write-only registers hold nothing");
	return true;
}

static bool check_timer(const struct lapic *l, uint64_t now, char *buf, size_t cap)
{
	const struct lapic_timer *t = &l->timer;
	enum lapic_timer_mode mode = lapic_timer_mode_of(l);
	uint32_t tmict = l->regs[SLOT(LAPIC_REG_TMICT)];

	CHECK(t->divisor == lapic_timer_divisor(l->regs[SLOT(LAPIC_REG_TDCR)]),
	      "SDM Figure 11-10: divisor follows TDCR");
	CHECK(!t->counting || (mode != LAPIC_TIMER_TSC_DEADLINE && tmict != 0),
	      "SDM 11.5.4: counting needs one-shot/periodic mode and TMICT != 0");
	CHECK(!t->counting || t->base_count <= tmict, "SDM 11.5.4: the count starts at TMICT");
	CHECK(lapic_timer_count(l, now) <= tmict, "SDM 11.5.4: TMCCT <= TMICT");
	CHECK(t->tsc_deadline == 0 || mode == LAPIC_TIMER_TSC_DEADLINE,
	      "SDM 11.5.4.1: IA32_TSC_DEADLINE is 0 outside TSC-deadline mode");
	if (mode == LAPIC_TIMER_TSC_DEADLINE)
		CHECK(t->armed == (t->tsc_deadline != 0) && !t->counting,
		      "SDM 11.5.4.1: armed exactly while IA32_TSC_DEADLINE != 0");
	else
		CHECK(t->armed == t->counting, "SDM 11.5.4: armed exactly while counting");
	return true;
}

static bool check_mode(const struct lapic *l, char *buf, size_t cap)
{
	enum lapic_mode mode = lapic_get_mode(l);
	uint64_t b = l->apic_base;

	CHECK(!(b & LAPIC_BASE_EXTD) || (b & LAPIC_BASE_EN), "SDM 11.12.5.1: EXTD=1 EN=0 invalid");
	CHECK(l->cfg.x2apic || !(b & LAPIC_BASE_EXTD), "SDM 11.12.1: EXTD needs x2APIC support");
	CHECK((b & 0x2FF) == 0 && (b >> l->cfg.maxphyaddr) == 0,
	      "SDM 11.4.4: IA32_APIC_BASE reserved bits are 0");
	CHECK(l->regs[SLOT(LAPIC_REG_LVR)] == (l->cfg.version | (uint32_t)l->cfg.max_lvt << 16 |
	                                       (l->cfg.directed_eoi ? LAPIC_LVR_DIRECTED_EOI : 0)),
	      "SDM 11.4.8: LVR is fixed by the configuration");
	if (mode == LAPIC_MODE_X2APIC) {
		CHECK(l->regs[SLOT(LAPIC_REG_ID)] == l->cfg.apic_id,
		      "SDM 11.12.5.1: x2APIC ID is the hardware ID");
		CHECK(l->regs[SLOT(LAPIC_REG_LDR)] == lapic_x2apic_ldr(l->cfg.apic_id),
		      "SDM 11.12.10.2: x2APIC LDR derives from the ID");
	} else {
		CHECK(l->regs[SLOT(LAPIC_REG_ID)] == (uint32_t)l->xapic_id << 24,
		      "SDM 11.4.6: xAPIC ID in bits 31:24");
		CHECK((l->regs[SLOT(LAPIC_REG_DFR)] & 0x0FFFFFFF) == 0x0FFFFFFF,
		      "SDM 11.6.2.2: DFR bits 27:0 read as 1s");
	}
	if (mode == LAPIC_MODE_DISABLED) {
		CHECK(vec_words_zero(l, SLOT(LAPIC_REG_IRR)) &&
		          vec_words_zero(l, SLOT(LAPIC_REG_ISR)),
		      "SDM 11.4.3: a disabled APIC holds no interrupts");
		CHECK(!l->timer.armed, "SDM 11.4.3: a disabled APIC's timer does not run");
	}
	return true;
}

bool lapic_check_invariants(const struct lapic *l, uint64_t now_ns, char *buf, size_t cap)
{
	if (cap)
		buf[0] = '\0';
	return check_mode(l, buf, cap) && check_priority(l, buf, cap) && check_regs(l, buf, cap) &&
	       check_timer(l, now_ns, buf, cap);
}
