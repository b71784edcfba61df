/* The cross-model invariants of the interrupt system (fz_apic.h, "Named invariants"). Each is a
 * pure function over const state. Values an owner observes are read through the public API (PPR,
 * TMCCT, the pending vector, reads); IRR/ISR/TMR, IA32_TSC_DEADLINE and IOREGSEL straight from
 * the private layouts, which keeps the checks cheap. A unit test can call each on any model.
 * A failure names the broken rule and prints the values it compared. */
#include "fz_apic.h"
#include "fz_why.h"

#include "../models/ioapic_int.h"
#include "../models/lapic_int.h"

#include <stdarg.h>
#include <string.h>

#define CLASS(v) ((unsigned)(v) >> 4)

/* IRR, ISR and TMR straight from the register image (lapic_int.h): the checks run after every
 * operation, and lapic_get_vectors would cost a call per register. */
static const uint32_t *irr_of(const struct lapic *l)
{
	return &l->regs[SLOT(LAPIC_REG_IRR)];
}

static const uint32_t *isr_of(const struct lapic *l)
{
	return &l->regs[SLOT(LAPIC_REG_ISR)];
}

static bool bit(const uint32_t *w, unsigned v)
{
	return (w[v >> 5] >> (v & 31)) & 1;
}

static int highest(const uint32_t *w)
{
	for (int i = 7; i >= 0; i--)
		if (w[i])
			return i * 32 + 31 - __builtin_clz(w[i]);
	return -1;
}

bool fz_inv_apic_ppr(const struct lapic *l, uint64_t now_ns, char *why, size_t cap)
{
	uint32_t tpr = lapic_reg_peek(l, LAPIC_REG_TPR, now_ns);
	uint32_t ppr = lapic_reg_peek(l, LAPIC_REG_PPR, now_ns), want;
	int isrv = highest(isr_of(l)), irrv = highest(irr_of(l)), pending, want_pending;

	/* SDM 11.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4 */
	want = isrv < 0 || CLASS(tpr) >= CLASS(isrv) ? tpr : (uint32_t)isrv & 0xF0;
	if (ppr != want)
		return fz_fail(why, cap, "PPR %#x, wanted %#x from TPR %#x and highest ISR %d", ppr,
		               want, tpr, isrv);
	pending = lapic_pending_vector(l);
	want_pending = irrv >= 0 && CLASS(irrv) > CLASS(ppr) ? irrv : -1;
	if (pending != want_pending)
		return fz_fail(why, cap, "pending vector %d, wanted %d (highest IRR %d, PPR %#x)",
		               pending, want_pending, irrv, ppr);
	return true;
}

bool fz_inv_apic_isr_one_per_class(const struct lapic *l, char *why, size_t cap)
{
	const uint32_t *isr = isr_of(l);

	for (unsigned c = 0; c < 16; c++) {
		uint32_t half = (isr[c >> 1] >> (16 * (c & 1))) & 0xFFFF;

		if (half & (half - 1))
			return fz_fail(why, cap,
			               "priority class %u has ISR bits %#x (ISR word %u %#x)", c,
			               half, c >> 1, isr[c >> 1]);
	}
	return true;
}

bool fz_inv_apic_irr_isr(const struct lapic *l, const struct fz_apic_track *t, char *why,
                         size_t cap)
{
	const uint32_t *irr = irr_of(l), *isr = isr_of(l);

	for (unsigned w = 0; w < 8; w++) {
		uint32_t both = irr[w] & isr[w] & ~t->reaccepted[w];

		if (both)
			return fz_fail(
			    why, cap,
			    "vector %d in IRR and ISR without a second acceptance after its "
			    "INTA (IRR %#x ISR %#x word %u)",
			    (int)(w * 32 + 31 - (unsigned)__builtin_clz(both)), irr[w], isr[w], w);
	}
	return true;
}

bool fz_inv_apic_irr_growth(const struct lapic *l, const struct fz_apic_track *t, bool accepted,
                            char *why, size_t cap)
{
	const uint32_t *irr = irr_of(l);

	if (accepted)
		return true;
	for (unsigned w = 0; w < 8; w++)
		if (irr[w] & ~t->irr[w])
			return fz_fail(why, cap,
			               "IRR word %u went %#x -> %#x with nothing accepted", w,
			               t->irr[w], irr[w]);
	return true;
}

static uint32_t prev_ppr(const struct fz_apic_track *prev, uint32_t tpr)
{
	int isrv = highest(prev->isr);

	return isrv < 0 || CLASS(tpr) >= CLASS(isrv) ? tpr : (uint32_t)isrv & 0xF0;
}

bool fz_inv_apic_inta(const struct lapic *l, const struct fz_apic_track *prev, uint32_t svr_vector,
                      int v, char *why, size_t cap)
{
	const uint32_t *irr = irr_of(l), *isr = isr_of(l);
	uint32_t tpr = lapic_reg_peek(l, LAPIC_REG_TPR, 0), ppr = prev_ppr(prev, tpr);
	int top = highest(prev->irr);
	bool deliverable = top >= 0 && CLASS(top) > CLASS(ppr);

	if (!deliverable) { /* SDM 11.9: spurious */
		for (unsigned w = 0; w < 8; w++)
			if (irr[w] != prev->irr[w] || isr[w] != prev->isr[w])
				return fz_fail(why, cap, "spurious INTA changed IRR/ISR word %u",
				               w);
		if ((uint32_t)v != svr_vector)
			return fz_fail(why, cap,
			               "INTA with nothing above PPR %#x returned %d, wanted "
			               "the spurious vector %u",
			               ppr, v, svr_vector);
		return true;
	}
	if (v != top)
		return fz_fail(why, cap,
		               "INTA returned %d, wanted the highest IRR vector %d (PPR %#x)", v,
		               top, ppr);
	if (bit(irr, (unsigned)v) || !bit(isr, (unsigned)v))
		return fz_fail(why, cap, "after INTA of %d: IRR bit %d, ISR bit %d (wanted 0, 1)",
		               v, bit(irr, (unsigned)v), bit(isr, (unsigned)v));
	return true;
}

bool fz_inv_apic_eoi(const struct lapic *l, const struct fz_apic_track *prev,
                     const struct lapic_result *res, char *why, size_t cap)
{
	const uint32_t *isr = isr_of(l);
	int top = highest(prev->isr);
	uint32_t svr = lapic_reg_peek(l, LAPIC_REG_SVR, 0);
	bool level, suppress = (svr & LAPIC_SVR_SUPPRESS_EOI) != 0;

	if (res->eoi_vector != top)
		return fz_fail(why, cap, "EOI cleared vector %d, wanted the highest ISR vector %d",
		               res->eoi_vector, top);
	if (top < 0)
		return res->eoi_broadcast < 0 ||
		       fz_fail(why, cap, "EOI with ISR empty broadcast %d", res->eoi_broadcast);
	if (bit(isr, (unsigned)top))
		return fz_fail(why, cap, "EOI left vector %d in ISR", top);
	level = bit(prev->tmr, (unsigned)top);
	if ((res->eoi_broadcast >= 0) != (level && !suppress) ||
	    (res->eoi_broadcast >= 0 && res->eoi_broadcast != top))
		return fz_fail(why, cap,
		               "EOI of vector %d (TMR %d, SVR[12] %d) broadcast %d, wanted %d", top,
		               level, suppress, res->eoi_broadcast, level && !suppress ? top : -1);
	return true;
}

bool fz_inv_apic_tmcct(const struct lapic *l, uint64_t now_ns, char *why, size_t cap)
{
	uint32_t tmcct = lapic_reg_peek(l, LAPIC_REG_TMCCT, now_ns);
	uint32_t tmict = lapic_reg_peek(l, LAPIC_REG_TMICT, now_ns);

	if (tmcct > tmict)
		return fz_fail(why, cap, "TMCCT %#x > TMICT %#x at %llu ns", tmcct, tmict,
		               (unsigned long long)now_ns);
	if (lapic_timer_mode_of(l) == LAPIC_TIMER_TSC_DEADLINE && tmcct != 0)
		return fz_fail(why, cap, "TMCCT %#x in TSC-deadline mode, wanted 0", tmcct);
	return true;
}

bool fz_inv_apic_deadline_ahead(const struct lapic *l, uint64_t now_ns, char *why, size_t cap)
{
	uint64_t d;

	if (lapic_timer_deadline(l, &d) && d <= now_ns)
		return fz_fail(why, cap, "timer armed for %llu ns at %llu ns: an expiry is overdue",
		               (unsigned long long)d, (unsigned long long)now_ns);
	return true;
}

bool fz_inv_apic_tsc_deadline_fire(const struct lapic *l, uint64_t deadline, uint64_t now_ns,
                                   char *why, size_t cap)
{
	uint64_t tsc = lapic_guest_tsc(l, now_ns);

	if (deadline == 0 || tsc < deadline)
		return fz_fail(why, cap, "fired at guest TSC %#llx, IA32_TSC_DEADLINE was %#llx",
		               (unsigned long long)tsc, (unsigned long long)deadline);
	return true;
}

static unsigned rte_dm(uint64_t rte)
{
	return (unsigned)(rte >> IOAPIC_RTE_DM_SHIFT) & 7;
}

static bool rte_level(uint64_t rte)
{
	return (rte & IOAPIC_RTE_LEVEL) &&
	       (rte_dm(rte) == LAPIC_DM_FIXED || rte_dm(rte) == LAPIC_DM_LOWEST);
}

bool fz_inv_apic_remote_irr(const struct ioapic *io, char *why, size_t cap)
{
	for (uint32_t p = 0; p < io->cfg.pins; p++) {
		uint64_t rte = io->redtbl[p];

		if ((rte & IOAPIC_RTE_REMOTE_IRR) && !rte_level(rte))
			return fz_fail(why, cap, "pin %u: remote IRR on a non-level entry %#llx", p,
			               (unsigned long long)rte);
	}
	return true;
}

bool fz_inv_apic_ioapic_msg(const struct ioapic *io, const struct ioapic_msg *m, char *why,
                            size_t cap)
{
	uint64_t rte = ioapic_redirection(io, m->pin);
	const struct lapic_irq *q = &m->irq;

	if (m->pin >= ioapic_get_config(io)->pins)
		return fz_fail(why, cap, "message from pin %u of %u", m->pin,
		               ioapic_get_config(io)->pins);
	if (rte & IOAPIC_RTE_MASKED)
		return fz_fail(why, cap, "pin %u sent while masked (entry %#llx)", m->pin,
		               (unsigned long long)rte);
	if (rte_dm(rte) == 3 || rte_dm(rte) == 6)
		return fz_fail(why, cap, "pin %u sent with reserved delivery mode %u", m->pin,
		               rte_dm(rte));
	if (q->vector != (rte & IOAPIC_RTE_VECTOR) || q->delivery_mode != rte_dm(rte) ||
	    q->dest != (uint32_t)(rte >> IOAPIC_RTE_DEST_SHIFT) ||
	    q->dest_logical != !!(rte & IOAPIC_RTE_DEST_LOGICAL) ||
	    q->trigger_level != rte_level(rte) || q->shorthand != LAPIC_SH_NONE || q->x2apic_format)
		return fz_fail(
		    why, cap,
		    "pin %u message vector %#x dm %u dest %#x logical %d level %d differs "
		    "from entry %#llx",
		    m->pin, q->vector, q->delivery_mode, q->dest, q->dest_logical, q->trigger_level,
		    (unsigned long long)rte);
	if (q->trigger_level &&
	    (!(rte & IOAPIC_RTE_REMOTE_IRR) || !ioapic_pin_asserted(io, m->pin)))
		return fz_fail(why, cap,
		               "pin %u level message without remote IRR or input asserted", m->pin);
	return true;
}

static bool route_member_ok(const struct lapic_dest_info *c, unsigned i, int src,
                            const struct lapic_irq *msg)
{
	if (c->mode == LAPIC_MODE_DISABLED)
		return false;
	if (msg->shorthand == LAPIC_SH_SELF)
		return (int)i == src;
	if (msg->shorthand == LAPIC_SH_ALL_BUT)
		return (int)i != src;
	return true;
}

bool fz_inv_apic_route(const struct lapic_dest_info *cpus, unsigned n, int src,
                       const struct lapic_irq *msg, const bool *dest, unsigned count, char *why,
                       size_t cap)
{
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!dest[i])
			continue;
		got++;
		if (!route_member_ok(&cpus[i], i, src, msg))
			return fz_fail(why, cap,
			               "APIC %u (mode %u) in the set of a message from %d with "
			               "shorthand %u",
			               i, cpus[i].mode, src, msg->shorthand);
	}
	if (got != count || count > n)
		return fz_fail(why, cap, "route returned %u, set holds %u of %u", count, got, n);
	if (msg->delivery_mode == LAPIC_DM_LOWEST && count > 1)
		return fz_fail(why, cap, "lowest priority to %u APICs", count);
	return true;
}

bool fz_inv_apic_read_width(const struct lapic *l, uint32_t msr, unsigned size, uint64_t value,
                            char *why, size_t cap)
{
	const struct lapic_config *c = lapic_get_config(l);
	/* SDM 11.4.4 Figure 11-5: bits 7:0, 9 and MAXPHYADDR-1:12 ... only BSP, EXTD, EN, base */
	uint64_t base_ok = LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN |
	                   (LAPIC_BASE_ADDR_MASK & ((UINT64_C(1) << c->maxphyaddr) - 1));

	if (msr == 0 && size < 8 && (value >> (8 * size)))
		return fz_fail(why, cap, "MMIO read of %u bytes returned %#llx", size,
		               (unsigned long long)value);
	if (msr == MSR_IA32_APIC_BASE && (value & ~base_ok))
		return fz_fail(why, cap, "IA32_APIC_BASE %#llx has reserved bits %#llx",
		               (unsigned long long)value, (unsigned long long)(value & ~base_ok));
	if (msr >= LAPIC_X2APIC_MSR_BASE && msr <= LAPIC_X2APIC_MSR_LAST &&
	    msr != LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_ICR_LO >> 4) && (value >> 32))
		return fz_fail(why, cap, "x2APIC MSR %#x read %#llx: above 32 bits", msr,
		               (unsigned long long)value);
	return true;
}

bool fz_inv_apic_ioapic_read(const struct ioapic *io, uint32_t offset, unsigned size,
                             uint32_t value, char *why, size_t cap)
{
	const struct ioapic_config *c = ioapic_get_config(io);
	uint32_t off = offset & (IOAPIC_MMIO_SIZE - 1);

	if (size < 4 && (value >> (8 * size)))
		return fz_fail(why, cap, "read of %u bytes at %#x returned %#x", size, offset,
		               value);
	if (off == IOAPIC_IOREGSEL && value > 0xFF)
		return fz_fail(why, cap, "IOREGSEL read %#x: above 8 bits", value);
	if (off == IOAPIC_IOWIN && size == 4 && io->ioregsel == IOAPIC_IDX_VER &&
	    value != (c->version | (c->pins - 1) << 16))
		return fz_fail(why, cap, "version register read %#x, wanted %#x", value,
		               c->version | (c->pins - 1) << 16);
	return true;
}

/* Registers computed from time or other registers, compared through the reader; the rest of the
 * state is compared byte for byte (models hold no pointers: their bytes are their state). */
static const uint32_t computed_regs[] = {LAPIC_REG_TMCCT, LAPIC_REG_APR, LAPIC_REG_PPR};

bool fz_inv_apic_lapic_same(const struct lapic *a, const struct lapic *b, uint64_t now_ns,
                            char *why, size_t cap)
{
	uint64_t da = 0, db = 0;
	bool aa = lapic_timer_deadline(a, &da), ab = lapic_timer_deadline(b, &db);

	for (unsigned k = 0; k < sizeof(computed_regs) / sizeof(computed_regs[0]); k++) {
		uint32_t va = lapic_reg_peek(a, computed_regs[k], now_ns);
		uint32_t vb = lapic_reg_peek(b, computed_regs[k], now_ns);

		if (va != vb)
			return fz_fail(why, cap, "register %#x: %#x vs %#x", computed_regs[k], va,
			               vb);
	}
	if (aa != ab || da != db)
		return fz_fail(why, cap, "timer %d@%llu vs %d@%llu", aa, (unsigned long long)da, ab,
		               (unsigned long long)db);
	if (lapic_guest_tsc(a, now_ns) != lapic_guest_tsc(b, now_ns))
		return fz_fail(why, cap, "guest TSC differs");
	for (unsigned i = 0; i < LAPIC_NSLOTS; i++)
		if (a->regs[i] != b->regs[i])
			return fz_fail(why, cap, "register %#x: %#x vs %#x", i << 4, a->regs[i],
			               b->regs[i]);
	if (!fz_apic_bytes_equal(a, b, lapic_state_size()))
		return fz_fail(why, cap, "state bytes differ (base %#llx vs %#llx)",
		               (unsigned long long)lapic_get_apic_base(a),
		               (unsigned long long)lapic_get_apic_base(b));
	return true;
}

bool fz_inv_apic_ioapic_same(const struct ioapic *a, const struct ioapic *b, char *why, size_t cap)
{
	for (uint32_t p = 0; p < IOAPIC_MAX_PINS; p++)
		if (a->redtbl[p] != b->redtbl[p] || a->level[p] != b->level[p])
			return fz_fail(why, cap, "pin %u: entry %#llx level %u vs %#llx level %u",
			               p, (unsigned long long)a->redtbl[p], a->level[p],
			               (unsigned long long)b->redtbl[p], b->level[p]);
	if (!fz_apic_bytes_equal(a, b, ioapic_state_size()))
		return fz_fail(why, cap, "state bytes differ (IOREGSEL %#x vs %#x)", a->ioregsel,
		               b->ioregsel);
	return true;
}

static bool check_cpu(const struct fz_apic_sys *s, unsigned i, const char **kind, char *why,
                      size_t cap)
{
	const struct lapic *l = s->cpu[i];
	uint64_t now = s->now_ns;

	if (!lapic_check_invariants(l, now, why, cap))
		return (*kind = "lapic_invariants"), false;
	if (!fz_inv_apic_ppr(l, now, why, cap))
		return (*kind = "ppr_consistent"), false;
	if (!fz_inv_apic_isr_one_per_class(l, why, cap))
		return (*kind = "isr_one_per_class"), false;
	if (!fz_inv_apic_irr_growth(l, &s->prev[i], s->accepted[i], why, cap))
		return (*kind = "irr_only_by_acceptance"), false;
	if (!fz_inv_apic_irr_isr(l, &s->track[i], why, cap))
		return (*kind = "irr_isr_same_vector"), false;
	if (!fz_inv_apic_tmcct(l, now, why, cap))
		return (*kind = "tmcct_le_tmict"), false;
	if (!fz_inv_apic_deadline_ahead(l, now, why, cap))
		return (*kind = "timer_deadline_ahead"), false;
	return true;
}

bool fz_apic_check_state(const struct fz_apic_sys *s, const char **kind, char *why, size_t cap)
{
	char inner[FZ_APIC_WHY_MAX];

	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		if (s->touched[i] && !check_cpu(s, i, kind, inner, sizeof(inner)))
			return fz_fail(why, cap, "cpu %u at %llu ns: %s", i,
			               (unsigned long long)s->now_ns, inner);
	}
	if (!s->io_touched)
		return true;
	if (!ioapic_check_invariants(s->io, why, cap))
		return (*kind = "ioapic_invariants"), false;
	if (!fz_inv_apic_remote_irr(s->io, why, cap))
		return (*kind = "remote_irr_level"), false;
	return true;
}
