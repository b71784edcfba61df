/* Interprocessor interrupts: decoding an ICR or SELF IPI write into a message (SDM 11.6.1
 * "Interrupt Command Register (ICR)", 11.12.9 "ICR Operation in x2APIC Mode", 11.12.11 "SELF IPI
 * Register") and the pure routing that finds which APICs a message reaches (SDM 11.6.2
 * "Determining IPI Destination", 11.12.10 "Determining IPI Destination in x2APIC Mode").
 * The model sends nothing itself: the message goes back in the result and the owner routes it.
 * Left out: the P6 APIC bus (focus processor, arbitration IDs), INIT level de-assert messages. */
#include "lapic_int.h"

#define XAPIC_BROADCAST  0xFFu
#define X2APIC_BROADCAST 0xFFFFFFFFu

void lapic_send_icr(struct lapic *l, uint64_t icr, struct lapic_result *res)
{
	bool x2 = lapic_x2apic_mode(l);
	uint32_t lo = (uint32_t)icr;
	uint8_t dm = (lo >> LAPIC_LVT_DM_SHIFT) & 7, vec = (uint8_t)lo;
	struct lapic_irq *m = &res->ipi_msg;

	/* SDM 11.12.9: lowest priority is reserved in x2APIC mode and sets "Redirectable IPI",
	 * like an xAPIC that cannot send it (SDM 11.6.1, Table 11-3 note 1); nothing is sent and
	 * the vector is not checked */
	if (dm == LAPIC_DM_LOWEST && (x2 || !l->cfg.lowest_priority_ipi)) {
		lapic_error(l, LAPIC_ESR_REDIRECTABLE, res);
		return;
	}
	if (dm == 3 || dm == 7) /* reserved encodings: no message */
		return;
	/* SDM 11.5.2, 11.5.3: an illegal vector is refused by the sender */
	if ((dm == LAPIC_DM_FIXED || dm == LAPIC_DM_LOWEST) && vec < 16) {
		lapic_error(l, LAPIC_ESR_SEND_ILLEGAL, res);
		return;
	}
	m->vector = vec;
	m->delivery_mode = dm;
	m->dest_logical = (lo & LAPIC_ICR_DEST_LOGICAL) != 0;
	m->shorthand = (lo >> LAPIC_ICR_SH_SHIFT) & 3;
	m->x2apic_format = x2;
	m->dest = x2 ? (uint32_t)(icr >> 32) : (uint32_t)(icr >> 56);
	/* SDM 11.6.1: on Pentium 4 and later the Level flag is always issued as 1 and the Trigger
	 * Mode as 0 (edge), whatever the ICR holds: IPIs never set TMR bits */
	m->level = true;
	m->trigger_level = false;
	res->ipi = true;
	res->icr = icr;
}

void lapic_send_self_ipi(struct lapic *l, uint8_t vector, struct lapic_result *res)
{
	uint64_t icr = vector | (uint64_t)LAPIC_SH_SELF << LAPIC_ICR_SH_SHIFT;

	/* SDM 11.12.11: same as an ICR write of a fixed, edge, self-shorthand IPI */
	lapic_send_icr(l, icr, res);
}

void lapic_dest_info(const struct lapic *l, struct lapic_dest_info *out)
{
	bool x2 = lapic_x2apic_mode(l);
	uint32_t id = l->regs[SLOT(LAPIC_REG_ID)];

	out->mode = (uint8_t)lapic_get_mode(l);
	out->id = x2 ? id : id >> 24;
	out->ldr = l->regs[SLOT(LAPIC_REG_LDR)];
	out->dfr = l->regs[SLOT(LAPIC_REG_DFR)];
	out->apr = (uint8_t)lapic_compute_apr(l);
	out->sw_enabled = lapic_sw_enabled(l);
}

static bool is_broadcast(const struct lapic_irq *m)
{
	if (m->x2apic_format)
		return m->dest == X2APIC_BROADCAST; /* SDM 11.12.9 */
	return (m->dest & 0xFF) == XAPIC_BROADCAST; /* SDM 11.6.2.1, 11.6.2.2 */
}

/* SDM 11.6.2.1 "Physical Destination Mode". An xAPIC-mode receiver compares the low 8 bits of a
 * 32-bit destination (hardware aliasing that KVM does not reproduce). */
static bool match_physical(const struct lapic_dest_info *c, const struct lapic_irq *m)
{
	if (c->mode == LAPIC_MODE_X2APIC)
		return c->id == (m->x2apic_format ? m->dest : (m->dest & 0xFF));
	return c->id == (m->dest & 0xFF);
}

/* SDM 11.6.2.2 "Logical Destination Mode" (flat and cluster models, chosen by DFR[31:28]) and
 * SDM 11.12.10.1 (x2APIC: bits 31:16 select the cluster, bits 15:0 the members). */
static bool match_logical(const struct lapic_dest_info *c, const struct lapic_irq *m)
{
	uint32_t d, ldr;

	if (c->mode == LAPIC_MODE_X2APIC) {
		d = m->x2apic_format ? m->dest : (m->dest & 0xFF);
		return (d >> 16) == (c->ldr >> 16) && (d & c->ldr & 0xFFFF) != 0;
	}
	d = m->dest & 0xFF;
	ldr = c->ldr >> 24;
	switch (c->dfr >> 28) {
	case 0xF: return (d & ldr) != 0;
	case 0x0: return (d >> 4) == (ldr >> 4) && (d & ldr & 0xF) != 0;
	default: return false; /* reserved DFR models match nothing */
	}
}

bool lapic_match_dest(const struct lapic_dest_info *cpu, const struct lapic_irq *msg)
{
	if (cpu->mode == LAPIC_MODE_DISABLED)
		return false;
	if (is_broadcast(msg))
		return true;
	return msg->dest_logical ? match_logical(cpu, msg) : match_physical(cpu, msg);
}

/* SDM 11.6.2.3 "Broadcast/Self Delivery Mode": shorthands ignore the destination field */
static bool target_of(const struct lapic_dest_info *c, unsigned i, int src,
                      const struct lapic_irq *m)
{
	if (c->mode == LAPIC_MODE_DISABLED)
		return false;
	switch (m->shorthand) {
	case LAPIC_SH_SELF: return (int)i == src;
	case LAPIC_SH_ALL: return true;
	case LAPIC_SH_ALL_BUT: return (int)i != src;
	default: return lapic_match_dest(c, m);
	}
}

/* SDM 11.6.2.4 "Lowest Priority Delivery Mode": the hardware arbitration is model specific; the
 * model picks the lowest APR, then the lowest APIC ID, then the lowest index. Software-disabled
 * APICs do not take part (they refuse fixed and lowest-priority messages). */
static unsigned pick_lowest(const struct lapic_dest_info *cpus, unsigned n, bool *dest)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++) {
		const struct lapic_dest_info *c = &cpus[i];

		if (!dest[i])
			continue;
		dest[i] = false;
		if (!c->sw_enabled)
			continue;
		if (best < 0 || c->apr < cpus[best].apr ||
		    (c->apr == cpus[best].apr && c->id < cpus[best].id))
			best = (int)i;
	}
	if (best < 0)
		return 0;
	dest[best] = true;
	return 1;
}

unsigned lapic_route(const struct lapic_dest_info *cpus, unsigned n, int src,
                     const struct lapic_irq *msg, bool *dest)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++) {
		dest[i] = target_of(&cpus[i], i, src, msg);
		count += dest[i];
	}
	if (msg->delivery_mode == LAPIC_DM_LOWEST && count > 0)
		count = pick_lowest(cpus, n, dest);
	return count;
}
