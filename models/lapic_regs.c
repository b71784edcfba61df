/* Local APIC register access through both interfaces: the xAPIC MMIO page (SDM 11.4.1, Table 11-1)
 * and the x2APIC MSRs 0x800-0x8FF (SDM 11.12.1.2, Table 11-6), plus IA32_APIC_BASE and
 * IA32_TSC_DEADLINE. Access rules and writable masks live in one table; config-dependent bits
 * (SVR[12], LVT Timer[18], LVT CMCI) are applied by slot_wmask/slot_access.
 * MMIO sub-register accesses: reads of 1/2/4/8 bytes return the bytes of the 16-byte slot (register
 * in bytes 0-3, zeros above); writes other than 16-byte-aligned 32-bit stores are dropped, as KVM
 * does (SDM 11.4.1 calls anything else model specific). */
#include "lapic_int.h"

enum {
	XR = 1,   /* readable through MMIO */
	XW = 2,   /* writable through MMIO */
	X2R = 4,  /* readable through RDMSR */
	X2W = 8,  /* writable through WRMSR */
	XRZ = 16, /* write-only register: MMIO reads return 0 */
	ALL = XR | XW | X2R | X2W,
};

struct reg_rule {
	uint8_t access;
	uint32_t wmask; /* bits a write stores (x2APIC: every other bit is reserved) */
	uint32_t ro;    /* read-only bits a WRMSR may carry without #GP (ignored) */
};

#define LVT_PENDING LAPIC_LVT_PENDING
#define LINT_RO     (LAPIC_LVT_PENDING | LAPIC_LVT_REMOTE_IRR)
#define VEC_REG                \
	{                      \
		XR | X2R, 0, 0 \
	}

/* SDM Table 11-1 "Local APIC Register Address Map", Table 11-6 "Local APIC Register Address Map
 * Supported by x2APIC", Figure 11-8 (LVT bits), Figure 11-23 (SVR). Empty slots are reserved. */
static const struct reg_rule rules[LAPIC_NSLOTS] = {
    [SLOT(LAPIC_REG_ID)] = {XR | XW | X2R, 0xFF000000, 0},
    [SLOT(LAPIC_REG_LVR)] = {XR | X2R, 0, 0},
    [SLOT(LAPIC_REG_TPR)] = {ALL, 0xFF, 0},
    [SLOT(LAPIC_REG_APR)] = {XR, 0, 0},
    [SLOT(LAPIC_REG_PPR)] = {XR | X2R, 0, 0},
    [SLOT(LAPIC_REG_EOI)] = {XRZ | XW | X2W, 0, 0},
    [SLOT(LAPIC_REG_RRD)] = {XR, 0, 0},
    [SLOT(LAPIC_REG_LDR)] = {XR | XW | X2R, 0xFF000000, 0},
    [SLOT(LAPIC_REG_DFR)] = {XR | XW, 0xF0000000, 0},
    [SLOT(LAPIC_REG_SVR)] = {ALL, LAPIC_SVR_VECTOR | LAPIC_SVR_ENABLE | LAPIC_SVR_FOCUS, 0},
    [0x10] = VEC_REG,
    [0x11] = VEC_REG,
    [0x12] = VEC_REG,
    [0x13] = VEC_REG, /* ISR */
    [0x14] = VEC_REG,
    [0x15] = VEC_REG,
    [0x16] = VEC_REG,
    [0x17] = VEC_REG,
    [0x18] = VEC_REG,
    [0x19] = VEC_REG,
    [0x1A] = VEC_REG,
    [0x1B] = VEC_REG, /* TMR */
    [0x1C] = VEC_REG,
    [0x1D] = VEC_REG,
    [0x1E] = VEC_REG,
    [0x1F] = VEC_REG,
    [0x20] = VEC_REG,
    [0x21] = VEC_REG,
    [0x22] = VEC_REG,
    [0x23] = VEC_REG, /* IRR */
    [0x24] = VEC_REG,
    [0x25] = VEC_REG,
    [0x26] = VEC_REG,
    [0x27] = VEC_REG,
    [SLOT(LAPIC_REG_ESR)] = {ALL, 0, 0}, /* x2APIC: only 0 may be written */
    [SLOT(LAPIC_REG_LVT_CMCI)] = {ALL, 0x107FF, LVT_PENDING},
    [SLOT(LAPIC_REG_ICR_LO)] = {XR | XW, 0xCCFFF, LAPIC_ICR_BUSY}, /* x2APIC: 64-bit MSR 0x830 */
    [SLOT(LAPIC_REG_ICR_HI)] = {XR | XW, 0xFF000000, 0},
    [SLOT(LAPIC_REG_LVT_TIMER)] = {ALL, 0x100FF, LVT_PENDING}, /* + timer mode bits */
    [SLOT(LAPIC_REG_LVT_THERMAL)] = {ALL, 0x107FF, LVT_PENDING},
    [SLOT(LAPIC_REG_LVT_PMC)] = {ALL, 0x107FF, LVT_PENDING},
    [SLOT(LAPIC_REG_LVT_LINT0)] = {ALL, 0x1A7FF, LINT_RO},
    [SLOT(LAPIC_REG_LVT_LINT1)] = {ALL, 0x1A7FF, LINT_RO},
    [SLOT(LAPIC_REG_LVT_ERROR)] = {ALL, 0x100FF, LVT_PENDING},
    [SLOT(LAPIC_REG_TMICT)] = {ALL, 0xFFFFFFFF, 0},
    [SLOT(LAPIC_REG_TMCCT)] = {XR | X2R, 0, 0},
    [SLOT(LAPIC_REG_TDCR)] = {ALL, 0xB, 0},
    [SLOT(LAPIC_REG_SELF_IPI)] = {X2W, 0xFF, 0},
};

/* x2APIC ICR (SDM 11.12.9 "ICR Operation in x2APIC Mode"): bits 13, 17:16 and 31:20 are reserved;
 * WRMSR ignores bit 12 (delivery status), so it is neither stored nor checked. */
#define X2APIC_ICR_RSVD UINT64_C(0xFFF32000)

static uint8_t slot_access(const struct lapic *l, unsigned slot)
{
	if (slot == SLOT(LAPIC_REG_LVT_CMCI) && !lapic_lvt_present(l, LAPIC_LVT_CMCI))
		return 0; /* SDM 11.4.8: only max LVT entry + 1 entries exist */
	return rules[slot].access;
}

uint32_t lapic_slot_wmask(const struct lapic *l, unsigned slot)
{
	uint32_t m = rules[slot].wmask;

	/* SDM 11.8.5: SVR[12] is reserved unless LVR[24] advertises EOI-broadcast suppression */
	if (slot == SLOT(LAPIC_REG_SVR) && l->cfg.directed_eoi)
		m |= LAPIC_SVR_SUPPRESS_EOI;
	/* SDM 11.5.4.1: bit 18 of LVT Timer is reserved without TSC-deadline support */
	if (slot == SLOT(LAPIC_REG_LVT_TIMER))
		m |= l->cfg.tsc_deadline ? LAPIC_LVT_TIMER_MASK : 1u << LAPIC_LVT_TIMER_SHIFT;
	return m;
}

uint32_t lapic_slot_ro(unsigned slot)
{
	return slot < LAPIC_NSLOTS ? rules[slot].ro : 0;
}

uint32_t lapic_reg_peek(const struct lapic *l, uint32_t offset, uint64_t now_ns)
{
	unsigned slot = offset >> 4;

	if ((offset & 0xF) || slot >= LAPIC_NSLOTS)
		return 0;
	switch (offset) {
	case LAPIC_REG_TMCCT:
		/* SDM 11.5.4.1: the current count reads 0 in TSC-deadline mode */
		if (lapic_timer_mode_of(l) == LAPIC_TIMER_TSC_DEADLINE)
			return 0;
		return lapic_timer_count(l, now_ns);
	case LAPIC_REG_APR: return lapic_compute_apr(l);
	default: return l->regs[slot];
	}
}

/* ---- Writes, shared by both interfaces; value is already masked ---- */

static void write_lvt(struct lapic *l, unsigned slot, uint32_t v, uint64_t now,
                      struct lapic_result *res)
{
	uint32_t old = l->regs[slot];

	v |= old & rules[slot].ro & ~LAPIC_LVT_PENDING;
	if (!lapic_sw_enabled(l)) /* SDM 11.4.7.2: masks cannot be cleared while disabled */
		v |= LAPIC_LVT_MASKED;
	l->regs[slot] = v;
	if (slot == SLOT(LAPIC_REG_LVT_TIMER))
		lapic_timer_lvtt_written(l, old, now, res);
}

static void write_esr(struct lapic *l)
{
	/* SDM 11.5.3: a write latches the errors detected since the previous write */
	l->regs[SLOT(LAPIC_REG_ESR)] = l->esr_pending;
	l->esr_pending = 0;
}

static void write_icr_lo(struct lapic *l, uint32_t v, struct lapic_result *res)
{
	l->regs[SLOT(LAPIC_REG_ICR_LO)] = v;
	/* SDM 11.6.1: writing the low doubleword sends the IPI */
	lapic_send_icr(l, (uint64_t)l->regs[SLOT(LAPIC_REG_ICR_HI)] << 32 | v, res);
}

static void reg_write(struct lapic *l, unsigned slot, uint32_t v, uint64_t now,
                      struct lapic_result *res)
{
	switch (slot << 4) {
	case LAPIC_REG_ID:
		l->xapic_id = (uint8_t)(v >> 24);
		l->regs[slot] = v;
		break;
	case LAPIC_REG_TPR: lapic_write_tpr(l, v); break;
	case LAPIC_REG_EOI: lapic_eoi_apply(l, res); break;
	case LAPIC_REG_LDR: l->regs[slot] = v; break;
	case LAPIC_REG_DFR: l->regs[slot] = v | 0x0FFFFFFF; break; /* bits 27:0 read as 1s */
	case LAPIC_REG_SVR: lapic_write_svr(l, v); break;
	case LAPIC_REG_ESR: write_esr(l); break;
	case LAPIC_REG_ICR_LO: write_icr_lo(l, v, res); break;
	case LAPIC_REG_ICR_HI: l->regs[slot] = v; break;
	case LAPIC_REG_LVT_CMCI:
	case LAPIC_REG_LVT_TIMER:
	case LAPIC_REG_LVT_THERMAL:
	case LAPIC_REG_LVT_PMC:
	case LAPIC_REG_LVT_LINT0:
	case LAPIC_REG_LVT_LINT1:
	case LAPIC_REG_LVT_ERROR: write_lvt(l, slot, v, now, res); break;
	case LAPIC_REG_TMICT: lapic_timer_write_tmict(l, v, now, res); break;
	case LAPIC_REG_TDCR: lapic_timer_write_tdcr(l, v, now, res); break;
	case LAPIC_REG_SELF_IPI: lapic_send_self_ipi(l, (uint8_t)v, res); break;
	default: break;
	}
}

/* ---- xAPIC MMIO ---- */

/* SDM 11.4.3 and 11.12.1.2: the page decodes only in xAPIC mode. Globally disabled, or in x2APIC
 * mode ("behaves similar to a legacy xAPIC in globally disabled state"), nothing answers: reads
 * float to all ones and writes go nowhere. */
static bool mmio_decodes(const struct lapic *l)
{
	return lapic_get_mode(l) == LAPIC_MODE_XAPIC;
}

static bool size_ok(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && offset < LAPIC_MMIO_SIZE &&
	       offset + size <= LAPIC_MMIO_SIZE;
}

/* SDM 11.5.3: touching a reserved register sets "Illegal Register Address" */
static uint32_t xapic_read_slot(struct lapic *l, unsigned slot, uint64_t now,
                                struct lapic_result *res)
{
	uint8_t acc = slot < LAPIC_NSLOTS ? slot_access(l, slot) : 0;

	if (acc & XR)
		return lapic_reg_peek(l, slot << 4, now);
	if (!(acc & XRZ) && !(acc & XW))
		lapic_error(l, LAPIC_ESR_ILLEGAL_REG, res);
	return 0;
}

void lapic_mmio_read(struct lapic *l, uint32_t offset, unsigned size, uint64_t *value,
                     uint64_t now_ns, struct lapic_result *res)
{
	struct lapic_result scratch;
	uint64_t v = 0;
	uint32_t reg = 0;
	int cached = -1;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	*value = 0;
	if (!size_ok(offset, size))
		return;
	if (!mmio_decodes(l)) {
		*value = size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
		return;
	}
	lapic_timer_sync(l, now_ns, res);
	for (unsigned i = 0; i < size; i++) {
		uint32_t off = offset + i, byte = off & 0xF;

		if ((int)(off >> 4) != cached) {
			cached = (int)(off >> 4);
			reg = xapic_read_slot(l, off >> 4, now_ns, res);
		}
		if (byte < 4)
			v |= (uint64_t)((reg >> (8 * byte)) & 0xFF) << (8 * i);
	}
	*value = v;
}

void lapic_mmio_write(struct lapic *l, uint32_t offset, unsigned size, uint64_t value,
                      uint64_t now_ns, struct lapic_result *res)
{
	struct lapic_result scratch;
	unsigned slot = offset >> 4;
	uint8_t acc;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	if (!mmio_decodes(l) || !size_ok(offset, size))
		return;
	/* SDM 11.4.1: registers are 128-bit aligned and written with 32-bit stores */
	if (size != 4 || (offset & 0xF))
		return;
	lapic_timer_sync(l, now_ns, res);
	acc = slot < LAPIC_NSLOTS ? slot_access(l, slot) : 0;
	if (!(acc & XW)) {
		if (!(acc & (XR | XRZ)))
			lapic_error(l, LAPIC_ESR_ILLEGAL_REG, res);
		return; /* read-only registers ignore writes */
	}
	reg_write(l, slot, (uint32_t)value & lapic_slot_wmask(l, slot), now_ns, res);
}

/* ---- x2APIC MSRs ---- */

static void x2apic_read(struct lapic *l, unsigned slot, uint64_t *value, uint64_t now,
                        struct lapic_result *res)
{
	if (slot == SLOT(LAPIC_REG_ICR_LO)) {
		*value = (uint64_t)l->regs[SLOT(LAPIC_REG_ICR_HI)] << 32 |
		         l->regs[SLOT(LAPIC_REG_ICR_LO)];
		return;
	}
	/* SDM 11.12.1.2: reserved MSRs and write-only registers (EOI, SELF IPI) raise #GP */
	if (!(slot_access(l, slot) & X2R)) {
		res->gp = true;
		return;
	}
	*value = lapic_reg_peek(l, slot << 4, now);
}

static void x2apic_write_icr(struct lapic *l, uint64_t value, struct lapic_result *res)
{
	if (value & X2APIC_ICR_RSVD) { /* SDM 11.12.1.3 "Reserved Bit Checking" */
		res->gp = true;
		return;
	}
	value &= ~(uint64_t)LAPIC_ICR_BUSY;
	l->regs[SLOT(LAPIC_REG_ICR_LO)] = (uint32_t)value;
	l->regs[SLOT(LAPIC_REG_ICR_HI)] = (uint32_t)(value >> 32);
	lapic_send_icr(l, value, res); /* SDM 11.12.9: one WRMSR sends the IPI */
}

static void x2apic_write(struct lapic *l, unsigned slot, uint64_t value, uint64_t now,
                         struct lapic_result *res)
{
	uint32_t wmask;

	if (slot == SLOT(LAPIC_REG_ICR_LO)) {
		x2apic_write_icr(l, value, res);
		return;
	}
	wmask = lapic_slot_wmask(l, slot);
	/* SDM 11.12.1.2: read-only and reserved MSRs raise #GP; SDM 11.12.1.3: so do set
	 * reserved bits (bits 63:32 of every register but the ICR are reserved) */
	if (!(slot_access(l, slot) & X2W) || (value >> 32) ||
	    ((uint32_t)value & ~(wmask | rules[slot].ro))) {
		res->gp = true;
		return;
	}
	reg_write(l, slot, (uint32_t)value & wmask, now, res);
}

static bool x2apic_msr(uint32_t msr)
{
	return msr >= LAPIC_X2APIC_MSR_BASE && msr <= LAPIC_X2APIC_MSR_LAST;
}

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value, uint64_t now_ns,
                    struct lapic_result *res)
{
	struct lapic_result scratch;
	unsigned slot = msr - LAPIC_X2APIC_MSR_BASE;

	res = res ? res : &scratch;
	lapic_result_clear(res);
	*value = 0;
	if (msr == MSR_IA32_APIC_BASE) {
		*value = l->apic_base;
		return true;
	}
	if (msr != MSR_IA32_TSC_DEADLINE && !x2apic_msr(msr))
		return false;
	lapic_timer_sync(l, now_ns, res);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		res->gp = !l->cfg.tsc_deadline; /* no such MSR without CPUID.01H:ECX[24] */
		*value = res->gp ? 0 : lapic_timer_read_deadline(l);
		return true;
	}
	/* SDM 11.12.1.2: the MSR range exists only in x2APIC mode; 0x840-0x8FF are reserved */
	if (!lapic_x2apic_mode(l) || slot >= LAPIC_NSLOTS)
		res->gp = true;
	else
		x2apic_read(l, slot, value, now_ns, res);
	return true;
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value, uint64_t now_ns,
                     struct lapic_result *res)
{
	struct lapic_result scratch;
	unsigned slot = msr - LAPIC_X2APIC_MSR_BASE;

	res = res ? res : &scratch;
	if (msr == MSR_IA32_APIC_BASE) {
		lapic_set_apic_base(l, value, now_ns, res);
		return true;
	}
	lapic_result_clear(res);
	if (msr != MSR_IA32_TSC_DEADLINE && !x2apic_msr(msr))
		return false;
	lapic_timer_sync(l, now_ns, res);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!l->cfg.tsc_deadline)
			res->gp = true;
		else
			lapic_timer_write_deadline(l, value, now_ns, res);
		return true;
	}
	if (!lapic_x2apic_mode(l) || slot >= LAPIC_NSLOTS)
		res->gp = true;
	else
		x2apic_write(l, slot, value, now_ns, res);
	return true;
}
