/* Local APIC state: life cycle (RESET, INIT), IA32_APIC_BASE and the xAPIC/x2APIC/disabled
 * transitions, IRR/ISR/TMR, task and processor priority, interrupt acceptance, INTA, EOI with the
 * EOI broadcast, local (LVT) delivery and error signalling, per SDM Vol. 3A chapter 11.
 * Register decoding is in lapic_regs.c, the timer in lapic_timer.c, IPIs in lapic_ipi.c.
 * Left out: the APIC bus of P6/Pentium parts (arbitration IDs, focus processor, checksum errors),
 * the Remote Read register's function, and thermal/PMU/MCE sources themselves (lapic_lvt_fire). */
#include "lapic_int.h"

#include <stdlib.h>
#include <string.h>

#define ISR_SLOT    SLOT(LAPIC_REG_ISR)
#define TMR_SLOT    SLOT(LAPIC_REG_TMR)
#define IRR_SLOT    SLOT(LAPIC_REG_IRR)
#define VEC_WORD(v) ((unsigned)(v) >> 5)
#define VEC_BIT(v)  (1u << ((unsigned)(v)&31))

void lapic_config_default(struct lapic_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->apic_id = 0;
	cfg->bsp = true;
	cfg->version = 0x15;
	cfg->max_lvt = 6;
	cfg->directed_eoi = false;
	cfg->x2apic = true;
	cfg->tsc_deadline = true;
	cfg->lowest_priority_ipi = true;
	cfg->maxphyaddr = 46;
	cfg->apic_bus_khz = 1000000;
	cfg->tsc_khz = 2000000;
}

static enum hvsim_status config_check(const struct lapic_config *c, struct hvsim_error *err)
{
	if (c->version != 0x14 && c->version != 0x15)
		return hvsim_error_set(err, HVSIM_E_INPUT, "lapic: version %#x (want 0x14 or 0x15)",
		                       c->version);
	if (c->max_lvt != 5 && c->max_lvt != 6)
		return hvsim_error_set(err, HVSIM_E_INPUT, "lapic: max_lvt %u (want 5 or 6)",
		                       c->max_lvt);
	if (c->maxphyaddr < 36 || c->maxphyaddr > 52)
		return hvsim_error_set(err, HVSIM_E_INPUT, "lapic: maxphyaddr %u (want 36..52)",
		                       c->maxphyaddr);
	if (c->apic_bus_khz == 0 || c->apic_bus_khz > 100000000 || c->tsc_khz == 0 ||
	    c->tsc_khz > 100000000)
		return hvsim_error_set(err, HVSIM_E_INPUT, "lapic: frequencies must be 1..1e8 kHz");
	/* SDM 11.12.1.3: ID 0xFFFFFFFF is reserved; an xAPIC-only part has 8-bit IDs */
	if (c->apic_id == UINT32_MAX || (!c->x2apic && c->apic_id > 0xFF))
		return hvsim_error_set(err, HVSIM_E_INPUT, "lapic: APIC ID %#x not assignable",
		                       c->apic_id);
	return HVSIM_OK;
}

enum hvsim_status lapic_create(const struct lapic_config *cfg, struct lapic **out,
                               struct hvsim_error *err)
{
	enum hvsim_status st;
	struct lapic *l;

	*out = NULL;
	st = config_check(cfg, err);
	if (st != HVSIM_OK)
		return st;
	l = calloc(1, sizeof(*l));
	if (!l)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "lapic: out of memory");
	l->cfg = *cfg;
	lapic_reset(l);
	*out = l;
	return HVSIM_OK;
}

void lapic_destroy(struct lapic *l)
{
	free(l);
}

size_t lapic_state_size(void)
{
	return sizeof(struct lapic);
}

void lapic_copy(struct lapic *dst, const struct lapic *src)
{
	memcpy(dst, src, sizeof(*dst));
}

const struct lapic_config *lapic_get_config(const struct lapic *l)
{
	return &l->cfg;
}

void lapic_result_clear(struct lapic_result *res)
{
	memset(res, 0, sizeof(*res));
	res->eoi_vector = -1;
	res->eoi_broadcast = -1;
}

/* ---- Modes and IA32_APIC_BASE ---- */

static enum lapic_mode mode_of(uint64_t base)
{
	if (!(base & LAPIC_BASE_EN))
		return LAPIC_MODE_DISABLED;
	return (base & LAPIC_BASE_EXTD) ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC;
}

enum lapic_mode lapic_get_mode(const struct lapic *l)
{
	return mode_of(l->apic_base);
}

bool lapic_hw_enabled(const struct lapic *l)
{
	return (l->apic_base & LAPIC_BASE_EN) != 0;
}

bool lapic_x2apic_mode(const struct lapic *l)
{
	return mode_of(l->apic_base) == LAPIC_MODE_X2APIC;
}

bool lapic_sw_enabled(const struct lapic *l)
{
	return (l->regs[SLOT(LAPIC_REG_SVR)] & LAPIC_SVR_ENABLE) != 0;
}

uint64_t lapic_get_apic_base(const struct lapic *l)
{
	return l->apic_base;
}

/* SDM 11.12.10.2 "Deriving Logical x2APIC ID from the Local x2APIC ID" */
uint32_t lapic_x2apic_ldr(uint32_t x2apic_id)
{
	return ((x2apic_id >> 4) << 16) | (1u << (x2apic_id & 0xF));
}

static uint64_t base_addr_mask(const struct lapic *l)
{
	return LAPIC_BASE_ADDR_MASK & ((UINT64_C(1) << l->cfg.maxphyaddr) - 1);
}

/* The check half of WRMSR IA32_APIC_BASE: pure, true when the write is legal. */
static bool apic_base_write_ok(const struct lapic *l, uint64_t v)
{
	uint64_t allowed = LAPIC_BASE_BSP | LAPIC_BASE_EN | base_addr_mask(l);
	enum lapic_mode from = mode_of(l->apic_base);

	if (l->cfg.x2apic)
		allowed |= LAPIC_BASE_EXTD;
	if (v & ~allowed) /* SDM 11.4.4 "Local APIC Status and Location": reserved bits */
		return false;
	if ((v & LAPIC_BASE_EXTD) && !(v & LAPIC_BASE_EN)) /* SDM 11.12.5.1: invalid state */
		return false;
	if (from == LAPIC_MODE_X2APIC && mode_of(v) == LAPIC_MODE_XAPIC) /* SDM 11.12.5.1 */
		return false;
	if (from == LAPIC_MODE_DISABLED && mode_of(v) == LAPIC_MODE_X2APIC) /* SDM 11.12.5.1 */
		return false;
	return true;
}

static void mode_transition(struct lapic *l, enum lapic_mode from, enum lapic_mode to,
                            struct lapic_result *res)
{
	bool was_armed = l->timer.armed;

	if (to == LAPIC_MODE_DISABLED) {
		/* SDM 11.4.3: state may be lost; SDM 11.12.5.1: only the IDs survive */
		lapic_reset_regs(l);
	} else if (from == LAPIC_MODE_XAPIC && to == LAPIC_MODE_X2APIC) {
		/* SDM 11.12.5.1: the x2APIC ID is the hardware one; LDR is derived */
		l->regs[SLOT(LAPIC_REG_ID)] = l->cfg.apic_id;
		l->regs[SLOT(LAPIC_REG_LDR)] = lapic_x2apic_ldr(l->cfg.apic_id);
		l->regs[SLOT(LAPIC_REG_DFR)] = 0;
	}
	if (was_armed != l->timer.armed)
		res->timer_changed = true;
}

static void report_base(const struct lapic *l, struct lapic_result *res)
{
	res->mmio_base = l->apic_base & base_addr_mask(l);
	res->mmio_enabled = mode_of(l->apic_base) == LAPIC_MODE_XAPIC;
}

void lapic_set_apic_base(struct lapic *l, uint64_t value, uint64_t now_ns, struct lapic_result *res)
{
	struct lapic_result scratch;
	enum lapic_mode from = mode_of(l->apic_base);

	res = res ? res : &scratch;
	lapic_result_clear(res);
	lapic_timer_sync(l, now_ns, res);
	if (!apic_base_write_ok(l, value)) {
		res->gp = true;
		report_base(l, res);
		return;
	}
	res->base_changed = value != l->apic_base;
	l->apic_base = value;
	if (from != mode_of(value))
		mode_transition(l, from, mode_of(value), res);
	report_base(l, res);
}

/* ---- RESET and INIT ---- */

static uint32_t lvr_value(const struct lapic *l)
{
	/* SDM 11.4.8 "Local APIC Version Register" */
	return l->cfg.version | ((uint32_t)l->cfg.max_lvt << 16) |
	       (l->cfg.directed_eoi ? LAPIC_LVR_DIRECTED_EOI : 0);
}

void lapic_set_directed_eoi(struct lapic *l, bool supported)
{
	l->cfg.directed_eoi = supported;
	l->regs[SLOT(LAPIC_REG_LVR)] = lvr_value(l);
	if (!supported) /* SDM 11.8.5: SVR[12] is reserved without EOI-broadcast suppression */
		l->regs[SLOT(LAPIC_REG_SVR)] &= ~LAPIC_SVR_SUPPRESS_EOI;
}

/* SDM 11.4.7.1 "Local APIC State After Power-Up or Reset": every register but the ID and the
 * version to its reset value; the ID follows the current mode. */
void lapic_reset_regs(struct lapic *l)
{
	memset(l->regs, 0, sizeof(l->regs));
	l->regs[SLOT(LAPIC_REG_LVR)] = lvr_value(l);
	l->regs[SLOT(LAPIC_REG_DFR)] = UINT32_MAX;
	l->regs[SLOT(LAPIC_REG_SVR)] = 0xFF;
	for (int i = 0; i < LAPIC_LVT_COUNT; i++)
		if (lapic_lvt_present(l, (enum lapic_lvt)i))
			l->regs[lapic_lvt_slot((enum lapic_lvt)i)] = LAPIC_LVT_MASKED;
	if (lapic_x2apic_mode(l)) {
		l->regs[SLOT(LAPIC_REG_ID)] = l->cfg.apic_id;
		l->regs[SLOT(LAPIC_REG_LDR)] = lapic_x2apic_ldr(l->cfg.apic_id);
		l->regs[SLOT(LAPIC_REG_DFR)] = 0;
	} else {
		l->regs[SLOT(LAPIC_REG_ID)] = (uint32_t)l->xapic_id << 24;
	}
	l->esr_pending = 0;
	lapic_timer_stop(l);
}

void lapic_reset(struct lapic *l)
{
	l->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | (l->cfg.bsp ? LAPIC_BASE_BSP : 0);
	l->xapic_id = (uint8_t)l->cfg.apic_id;
	l->tsc_offset = 0;
	l->events = 0;
	l->sipi_vector = 0;
	lapic_reset_regs(l);
}

void lapic_init_reset(struct lapic *l, struct lapic_result *res)
{
	struct lapic_result scratch;
	bool was_armed = l->timer.armed;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	/* SDM 11.4.7.3 and 11.12.5.1: IA32_APIC_BASE and the ID are kept, a disabled APIC stays
	 * disabled, everything else is reset as at power-up. */
	if (lapic_hw_enabled(l))
		lapic_reset_regs(l);
	res->timer_changed = was_armed;
	report_base(l, res);
}

/* ---- Priorities: SDM 11.8.3.1 "Task and Processor Priorities" ---- */

static int highest_vector(const uint32_t *regs, unsigned first_slot)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = regs[first_slot + (unsigned)i];

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

int lapic_highest_irr(const struct lapic *l)
{
	return highest_vector(l->regs, IRR_SLOT);
}

int lapic_highest_isr(const struct lapic *l)
{
	return highest_vector(l->regs, ISR_SLOT);
}

uint32_t lapic_compute_ppr(const struct lapic *l)
{
	uint32_t tpr = l->regs[SLOT(LAPIC_REG_TPR)] & 0xFF;
	int isr = lapic_highest_isr(l);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;

	if ((tpr & 0xF0) >= (isrv & 0xF0))
		return tpr;
	return isrv & 0xF0;
}

void lapic_update_ppr(struct lapic *l)
{
	l->regs[SLOT(LAPIC_REG_PPR)] = lapic_compute_ppr(l);
}

/* SDM 11.6.2.4 "Lowest Priority Delivery Mode", Figure 11-15 (APR) */
uint32_t lapic_compute_apr(const struct lapic *l)
{
	uint32_t tpr = l->regs[SLOT(LAPIC_REG_TPR)] & 0xFF;
	int irr = lapic_highest_irr(l), isr = lapic_highest_isr(l);
	uint32_t irrv = irr < 0 ? 0 : (uint32_t)irr & 0xF0;
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xF0;
	uint32_t max = tpr & 0xF0;

	if ((tpr & 0xF0) >= irrv && (tpr & 0xF0) > isrv)
		return tpr;
	if (isrv > max)
		max = isrv;
	if (irrv > max)
		max = irrv;
	return max;
}

void lapic_write_tpr(struct lapic *l, uint32_t value)
{
	l->regs[SLOT(LAPIC_REG_TPR)] = value & 0xFF;
	lapic_update_ppr(l);
}

void lapic_write_cr8(struct lapic *l, uint64_t cr8)
{
	lapic_write_tpr(l, (uint32_t)(cr8 & 0xF) << 4); /* SDM 11.8.6 */
}

uint64_t lapic_read_cr8(const struct lapic *l)
{
	return (l->regs[SLOT(LAPIC_REG_TPR)] >> 4) & 0xF;
}

int lapic_pending_vector(const struct lapic *l)
{
	int irr = lapic_highest_irr(l);

	/* SDM 11.8.4: dispensed only when its priority class is above PPR[7:4] */
	if (irr < 0 || ((uint32_t)irr & 0xF0) <= (l->regs[SLOT(LAPIC_REG_PPR)] & 0xF0))
		return -1;
	return irr;
}

int lapic_ack(struct lapic *l)
{
	int v = lapic_pending_vector(l);

	if (v < 0) /* SDM 11.9 "Spurious Interrupt" */
		return (int)(l->regs[SLOT(LAPIC_REG_SVR)] & LAPIC_SVR_VECTOR);
	l->regs[IRR_SLOT + VEC_WORD(v)] &= ~VEC_BIT(v);
	l->regs[ISR_SLOT + VEC_WORD(v)] |= VEC_BIT(v);
	lapic_update_ppr(l);
	return v;
}

static void eoi_level(struct lapic *l, int v, struct lapic_result *res)
{
	static const enum lapic_lvt lints[] = {LAPIC_LVT_LINT0, LAPIC_LVT_LINT1};

	/* SDM 11.5.1: the LINT remote IRR is reset when the EOI for its vector arrives */
	for (unsigned i = 0; i < 2; i++) {
		uint32_t *lvt = &l->regs[lapic_lvt_slot(lints[i])];

		if ((*lvt & LAPIC_LVT_VECTOR) == (uint32_t)v)
			*lvt &= ~LAPIC_LVT_REMOTE_IRR;
	}
	/* SDM 11.8.5 "Signaling Interrupt Servicing Completion": SVR[12] suppresses the broadcast
	 */
	if (!(l->regs[SLOT(LAPIC_REG_SVR)] & LAPIC_SVR_SUPPRESS_EOI))
		res->eoi_broadcast = (int16_t)v;
}

void lapic_eoi_apply(struct lapic *l, struct lapic_result *res)
{
	int v = lapic_highest_isr(l);

	if (v < 0)
		return;
	l->regs[ISR_SLOT + VEC_WORD(v)] &= ~VEC_BIT(v);
	lapic_update_ppr(l);
	res->eoi_vector = (int16_t)v;
	if (l->regs[TMR_SLOT + VEC_WORD(v)] & VEC_BIT(v))
		eoi_level(l, v, res);
}

void lapic_eoi(struct lapic *l, struct lapic_result *res)
{
	struct lapic_result scratch;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	lapic_eoi_apply(l, res);
}

/* ---- Acceptance ---- */

/* SDM 11.8.4 "Interrupt Acceptance for Fixed Interrupts". signal_errors is false only for the
 * error interrupt itself, so an illegal LVT Error vector cannot recurse. */
static bool accept_fixed(struct lapic *l, uint8_t v, bool level, bool signal_errors,
                         struct lapic_result *res)
{
	if (!lapic_sw_enabled(l)) /* SDM 11.4.7.2: only NMI, SMI, INIT, SIPI are received */
		return false;
	if (v < 16) { /* SDM 11.5.2 "Valid Interrupt Vectors" */
		if (signal_errors) {
			lapic_error(l, LAPIC_ESR_RECV_ILLEGAL, res);
		} else {
			l->esr_pending |= LAPIC_ESR_RECV_ILLEGAL;
			res->esr_errors |= LAPIC_ESR_RECV_ILLEGAL;
		}
		return false;
	}
	l->regs[IRR_SLOT + VEC_WORD(v)] |= VEC_BIT(v);
	if (level)
		l->regs[TMR_SLOT + VEC_WORD(v)] |= VEC_BIT(v);
	else
		l->regs[TMR_SLOT + VEC_WORD(v)] &= ~VEC_BIT(v);
	res->irr_set = true;
	return true;
}

static void raise_event(struct lapic *l, uint32_t ev, struct lapic_result *res)
{
	l->events |= ev;
	res->events |= ev;
}

static bool accept_msg(struct lapic *l, const struct lapic_irq *m, struct lapic_result *res)
{
	if (!lapic_hw_enabled(l))
		return false;
	switch (m->delivery_mode) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (m->trigger_level && !m->level) /* a de-assert message carries no interrupt */
			return false;
		return accept_fixed(l, m->vector, m->trigger_level, true, res);
	case LAPIC_DM_SMI: raise_event(l, LAPIC_EV_SMI, res); return true;
	case LAPIC_DM_NMI: raise_event(l, LAPIC_EV_NMI, res); return true;
	case LAPIC_DM_INIT:
		/* SDM 11.4.7.4: INIT level de-assert has no effect on this APIC */
		if (m->trigger_level && !m->level)
			return false;
		raise_event(l, LAPIC_EV_INIT, res);
		return true;
	case LAPIC_DM_STARTUP:
		l->sipi_vector = m->vector;
		raise_event(l, LAPIC_EV_SIPI, res);
		return true;
	case LAPIC_DM_EXTINT: raise_event(l, LAPIC_EV_EXTINT, res); return true;
	default: return false;
	}
}

bool lapic_accept(struct lapic *l, const struct lapic_irq *msg, struct lapic_result *res)
{
	struct lapic_result scratch;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	return accept_msg(l, msg, res);
}

uint32_t lapic_events(const struct lapic *l)
{
	return l->events;
}

uint8_t lapic_sipi_vector(const struct lapic *l)
{
	return l->sipi_vector;
}

void lapic_clear_events(struct lapic *l, uint32_t mask)
{
	l->events &= ~mask;
}

/* ---- Local vector table ---- */

static const uint8_t lvt_slots[LAPIC_LVT_COUNT] = {
    [LAPIC_LVT_TIMER] = SLOT(LAPIC_REG_LVT_TIMER),
    [LAPIC_LVT_THERMAL] = SLOT(LAPIC_REG_LVT_THERMAL),
    [LAPIC_LVT_PMC] = SLOT(LAPIC_REG_LVT_PMC),
    [LAPIC_LVT_LINT0] = SLOT(LAPIC_REG_LVT_LINT0),
    [LAPIC_LVT_LINT1] = SLOT(LAPIC_REG_LVT_LINT1),
    [LAPIC_LVT_ERROR] = SLOT(LAPIC_REG_LVT_ERROR),
    [LAPIC_LVT_CMCI] = SLOT(LAPIC_REG_LVT_CMCI),
};

unsigned lapic_lvt_slot(enum lapic_lvt which)
{
	return lvt_slots[which];
}

int lapic_slot_lvt(unsigned slot)
{
	for (int i = 0; i < LAPIC_LVT_COUNT; i++)
		if (lvt_slots[i] == slot)
			return i;
	return -1;
}

bool lapic_lvt_present(const struct lapic *l, enum lapic_lvt which)
{
	if ((unsigned)which >= LAPIC_LVT_COUNT)
		return false;
	return which != LAPIC_LVT_CMCI || l->cfg.max_lvt >= 6; /* SDM 11.4.8: max LVT entry */
}

void lapic_write_svr(struct lapic *l, uint32_t value)
{
	l->regs[SLOT(LAPIC_REG_SVR)] = value;
	if (value & LAPIC_SVR_ENABLE)
		return;
	/* SDM 11.4.7.2 "Local APIC State After It Has Been Software Disabled" */
	for (int i = 0; i < LAPIC_LVT_COUNT; i++)
		if (lapic_lvt_present(l, (enum lapic_lvt)i))
			l->regs[lapic_lvt_slot((enum lapic_lvt)i)] |= LAPIC_LVT_MASKED;
}

static bool lvt_deliver_fixed(struct lapic *l, enum lapic_lvt which, struct lapic_result *res)
{
	uint32_t *lvt = &l->regs[lapic_lvt_slot(which)];
	/* SDM 11.5.1: only LINT0 can be level triggered (fixed mode); LINT1 level is unsupported */
	bool level = which == LAPIC_LVT_LINT0 && (*lvt & LAPIC_LVT_LEVEL);

	if (level && (*lvt & LAPIC_LVT_REMOTE_IRR))
		return false;
	if (!accept_fixed(l, (uint8_t)(*lvt & LAPIC_LVT_VECTOR), level, which != LAPIC_LVT_ERROR,
	                  res))
		return false;
	if (level)
		*lvt |= LAPIC_LVT_REMOTE_IRR;
	return true;
}

/* SDM 11.5.1 "Local Vector Table": delivery modes each entry supports */
static bool lvt_deliver_mode(struct lapic *l, enum lapic_lvt which, uint32_t dm,
                             struct lapic_result *res)
{
	bool lint = which == LAPIC_LVT_LINT0 || which == LAPIC_LVT_LINT1;
	bool limited =
	    which == LAPIC_LVT_THERMAL || which == LAPIC_LVT_PMC || which == LAPIC_LVT_CMCI;

	switch (dm) {
	case LAPIC_DM_FIXED: return lvt_deliver_fixed(l, which, res);
	case LAPIC_DM_SMI: raise_event(l, LAPIC_EV_SMI, res); return true;
	case LAPIC_DM_NMI: raise_event(l, LAPIC_EV_NMI, res); return true;
	case LAPIC_DM_INIT:
		if (limited)
			return false;
		raise_event(l, LAPIC_EV_INIT, res);
		return true;
	case LAPIC_DM_EXTINT:
		if (!lint)
			return false;
		raise_event(l, LAPIC_EV_EXTINT, res);
		return true;
	default: return false;
	}
}

bool lapic_lvt_deliver(struct lapic *l, enum lapic_lvt which, struct lapic_result *res)
{
	uint32_t lvt, dm;
	bool done;

	if (!lapic_hw_enabled(l) || !lapic_lvt_present(l, which))
		return false;
	lvt = l->regs[lapic_lvt_slot(which)];
	if (lvt & LAPIC_LVT_MASKED)
		return false;
	/* SDM 11.5.1: the timer and error entries have no delivery-mode field: always fixed */
	dm = (which == LAPIC_LVT_TIMER || which == LAPIC_LVT_ERROR)
	         ? LAPIC_DM_FIXED
	         : (lvt >> LAPIC_LVT_DM_SHIFT) & 7;
	done = lvt_deliver_mode(l, which, dm, res);
	/* SDM 11.5.1 and the PMU chapter: delivering a PMI sets the LVT PC mask bit */
	if (done && which == LAPIC_LVT_PMC)
		l->regs[lapic_lvt_slot(which)] |= LAPIC_LVT_MASKED;
	return done;
}

bool lapic_lvt_fire(struct lapic *l, enum lapic_lvt which, struct lapic_result *res)
{
	struct lapic_result scratch;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	return lapic_lvt_deliver(l, which, res);
}

/* SDM 11.5.3 "Error Handling": the error is latched for the next ESR write, then signalled. */
void lapic_error(struct lapic *l, uint32_t bits, struct lapic_result *res)
{
	l->esr_pending |= bits;
	res->esr_errors |= bits;
	lapic_lvt_deliver(l, LAPIC_LVT_ERROR, res);
}
