/* I/O APIC: IOREGSEL/IOWIN indirect access, ID/version/arbitration registers, the redirection
 * table with remote IRR, edge and level inputs with polarity and masking, EOI handling (LAPIC EOI
 * broadcast, and the version 0x20 EOI register), per the 82093AA datasheet section 3 and the
 * IOxAPIC EOI register of Intel chipset datasheets. Messages leave at once, so delivery status
 * always reads idle. Left out: the APIC serial bus, the IRQ pin assertion register, interrupt
 * remapping formats and KVM/QEMU's EOI-storm throttling (see docs/interrupt-models.md).
 * The state and its invariants are described in ioapic_int.h. */
#include "ioapic_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 82093AA 3.2.4: software-writable RTE bits; remote IRR and delivery status are read-only and
 * bits 55:17 reserved */
#define RTE_WMASK                                                                             \
	(IOAPIC_RTE_VECTOR | (UINT64_C(7) << IOAPIC_RTE_DM_SHIFT) | IOAPIC_RTE_DEST_LOGICAL | \
	 IOAPIC_RTE_POLARITY | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |                         \
	 (UINT64_C(0xFF) << IOAPIC_RTE_DEST_SHIFT))

void ioapic_config_default(struct ioapic_config *cfg)
{
	cfg->pins = 24;
	cfg->version = 0x20;
	cfg->id = 0;
}

enum hvsim_status ioapic_create(const struct ioapic_config *cfg, struct ioapic **out,
                                struct hvsim_error *err)
{
	struct ioapic *io;

	*out = NULL;
	if (cfg->pins == 0 || cfg->pins > IOAPIC_MAX_PINS)
		return hvsim_error_set(err, HVSIM_E_INPUT, "ioapic: %u pins (want 1..%u)",
		                       cfg->pins, IOAPIC_MAX_PINS);
	if (cfg->version != 0x11 && cfg->version != 0x20)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "ioapic: version %#x (want 0x11 or 0x20)", cfg->version);
	if (cfg->id > 0xF)
		return hvsim_error_set(err, HVSIM_E_INPUT, "ioapic: ID %u (want 0..15)", cfg->id);
	io = calloc(1, sizeof(*io));
	if (!io)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "ioapic: out of memory");
	io->cfg = *cfg;
	ioapic_reset(io);
	*out = io;
	return HVSIM_OK;
}

void ioapic_destroy(struct ioapic *io)
{
	free(io);
}

size_t ioapic_state_size(void)
{
	return sizeof(struct ioapic);
}

void ioapic_copy(struct ioapic *dst, const struct ioapic *src)
{
	memcpy(dst, src, sizeof(*dst));
}

const struct ioapic_config *ioapic_get_config(const struct ioapic *io)
{
	return &io->cfg;
}

void ioapic_reset(struct ioapic *io)
{
	memset(io->redtbl, 0, sizeof(io->redtbl));
	/* 82093AA 3.2.4: entries reset masked (other fields undefined: the model uses 0) */
	for (uint32_t i = 0; i < io->cfg.pins; i++)
		io->redtbl[i] = IOAPIC_RTE_MASKED;
	io->ioregsel = 0;
	io->id = io->cfg.id;
	io->arb = io->cfg.id;
}

static void result_clear(struct ioapic_result *res)
{
	res->value = 0;
	res->n_msgs = 0;
	res->remote_irr_cleared = 0;
}

/* ---- Delivery ---- */

static unsigned rte_dm(uint64_t rte)
{
	return (unsigned)(rte >> IOAPIC_RTE_DM_SHIFT) & 7;
}

/* 82093AA 3.2.4: SMI, NMI, INIT and ExtINT are always edge triggered */
static bool rte_level(uint64_t rte)
{
	unsigned dm = rte_dm(rte);

	return (rte & IOAPIC_RTE_LEVEL) && (dm == LAPIC_DM_FIXED || dm == LAPIC_DM_LOWEST);
}

static bool rte_reserved_dm(uint64_t rte)
{
	return rte_dm(rte) == 3 || rte_dm(rte) == 6;
}

bool ioapic_pin_asserted(const struct ioapic *io, uint32_t pin)
{
	if (pin >= io->cfg.pins)
		return false;
	/* 82093AA 3.2.4 INTPOL: 1 = active low */
	return (io->level[pin] != 0) != ((io->redtbl[pin] & IOAPIC_RTE_POLARITY) != 0);
}

static void send(struct ioapic *io, uint32_t pin, struct ioapic_result *res)
{
	uint64_t *rte = &io->redtbl[pin];
	struct ioapic_msg *m;

	if (rte_reserved_dm(*rte) || res->n_msgs >= IOAPIC_MAX_PINS)
		return;
	m = &res->msgs[res->n_msgs++];
	m->pin = pin;
	m->irq.dest = (uint32_t)(*rte >> IOAPIC_RTE_DEST_SHIFT);
	m->irq.vector = (uint8_t)(*rte & IOAPIC_RTE_VECTOR);
	m->irq.delivery_mode = (uint8_t)rte_dm(*rte);
	m->irq.shorthand = LAPIC_SH_NONE;
	m->irq.dest_logical = (*rte & IOAPIC_RTE_DEST_LOGICAL) != 0;
	m->irq.x2apic_format = false;
	m->irq.level = true;
	m->irq.trigger_level = rte_level(*rte);
	/* 82093AA 3.2.4: remote IRR is set when the level interrupt is sent (accepted) */
	if (m->irq.trigger_level)
		*rte |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level input is sampled whenever it could be sent: asserted, unmasked, no EOI outstanding. */
static void sample_level(struct ioapic *io, uint32_t pin, struct ioapic_result *res)
{
	uint64_t rte = io->redtbl[pin];

	if (rte_level(rte) && !(rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
	    ioapic_pin_asserted(io, pin))
		send(io, pin, res);
}

bool ioapic_set_irq(struct ioapic *io, uint32_t pin, int level, struct ioapic_result *res)
{
	struct ioapic_result scratch;
	bool was, now;

	res = res ? res : &scratch;
	result_clear(res);
	if (pin >= io->cfg.pins)
		return false;
	was = ioapic_pin_asserted(io, pin);
	io->level[pin] = level != 0;
	now = ioapic_pin_asserted(io, pin);
	/* 82093AA 3.2.4 mask bit: edges on a masked pin are ignored, not held pending; level
	 * changes on a masked pin have no side effect */
	if (io->redtbl[pin] & IOAPIC_RTE_MASKED)
		return true;
	if (!rte_level(io->redtbl[pin])) {
		if (!was && now)
			send(io, pin, res);
	} else {
		sample_level(io, pin, res);
	}
	return true;
}

bool ioapic_assert_irq(struct ioapic *io, uint32_t pin, bool asserted, struct ioapic_result *res)
{
	bool active_low = pin < io->cfg.pins && (io->redtbl[pin] & IOAPIC_RTE_POLARITY);

	return ioapic_set_irq(io, pin, asserted != active_low, res);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector, struct ioapic_result *res)
{
	struct ioapic_result scratch;

	res = res ? res : &scratch;
	result_clear(res);
	/* 82093AA 3.2.4: an EOI with a matching vector clears remote IRR; the IOxAPIC EOI register
	 * does the same to every matching entry, which then resamples its input */
	for (uint32_t pin = 0; pin < io->cfg.pins; pin++) {
		uint64_t *rte = &io->redtbl[pin];

		if ((*rte & IOAPIC_RTE_VECTOR) != vector || !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		res->remote_irr_cleared++;
		sample_level(io, pin, res);
	}
}

uint64_t ioapic_redirection(const struct ioapic *io, uint32_t pin)
{
	return pin < io->cfg.pins ? io->redtbl[pin] : 0;
}

/* ---- Registers ---- */

static uint32_t read_indirect(const struct ioapic *io)
{
	uint32_t sel = io->ioregsel, pin;

	switch (sel) {
	case IOAPIC_IDX_ID: return (uint32_t)io->id << 24;                      /* 82093AA 3.2.1 */
	case IOAPIC_IDX_VER: return io->cfg.version | (io->cfg.pins - 1) << 16; /* 82093AA 3.2.2 */
	case IOAPIC_IDX_ARB: return (uint32_t)io->arb << 24;                    /* 82093AA 3.2.3 */
	default: break;
	}
	pin = (sel - IOAPIC_IDX_REDTBL) / 2;
	if (sel < IOAPIC_IDX_REDTBL || pin >= io->cfg.pins)
		return 0; /* unimplemented index: reads 0 (QEMU; KVM returns all ones) */
	return (uint32_t)(io->redtbl[pin] >> ((sel & 1) ? 32 : 0));
}

static void write_rte(struct ioapic *io, uint32_t pin, bool high, uint32_t val,
                      struct ioapic_result *res)
{
	uint64_t old = io->redtbl[pin], v;

	v = high ? (old & UINT64_C(0xFFFFFFFF)) | (uint64_t)val << 32
	         : (old & ~UINT64_C(0xFFFFFFFF)) | val;
	v = (v & RTE_WMASK) | (old & IOAPIC_RTE_REMOTE_IRR);
	/* Switching an entry to edge clears remote IRR: hardware behaviour Linux relies on to
	 * emulate an EOI on IOAPICs without the EOI register (and KVM and QEMU reproduce) */
	if (!rte_level(v))
		v &= ~IOAPIC_RTE_REMOTE_IRR;
	io->redtbl[pin] = v;
	sample_level(io, pin, res);
}

static void write_indirect(struct ioapic *io, uint32_t val, struct ioapic_result *res)
{
	uint32_t sel = io->ioregsel, pin = (sel - IOAPIC_IDX_REDTBL) / 2;

	if (sel == IOAPIC_IDX_ID) {
		io->id = (val >> 24) & 0xF;
		io->arb = io->id; /* 82093AA 3.2.3: IOAPICARB loads when IOAPICID is written */
		return;
	}
	if (sel < IOAPIC_IDX_REDTBL || pin >= io->cfg.pins)
		return; /* version, arbitration: read-only; other indexes: nothing there */
	write_rte(io, pin, sel & 1, val, res);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

static bool size_ok(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && offset < 0x1000;
}

void ioapic_mmio_read(struct ioapic *io, uint32_t offset, unsigned size, struct ioapic_result *res)
{
	struct ioapic_result scratch;
	uint32_t off = offset & (IOAPIC_MMIO_SIZE - 1);

	res = res ? res : &scratch;
	result_clear(res);
	if (!size_ok(offset, size))
		return;
	/* 82093AA 3.1.1, 3.1.2: IOREGSEL is an 8-bit register; IOWIN is read as a dword */
	if (off == IOAPIC_IOREGSEL)
		res->value = io->ioregsel & (uint32_t)size_mask(size);
	else if (off == IOAPIC_IOWIN && size == 4)
		res->value = read_indirect(io);
}

void ioapic_mmio_write(struct ioapic *io, uint32_t offset, unsigned size, uint64_t value,
                       struct ioapic_result *res)
{
	struct ioapic_result scratch;
	uint32_t off = offset & (IOAPIC_MMIO_SIZE - 1);

	res = res ? res : &scratch;
	result_clear(res);
	if (!size_ok(offset, size) || size == 8)
		return;
	if (off == IOAPIC_IOREGSEL)
		io->ioregsel = (uint32_t)value & 0xFF;
	else if (off == IOAPIC_IOWIN && size == 4)
		write_indirect(io, (uint32_t)value, res);
	else if (off == IOAPIC_EOI && io->cfg.version == 0x20)
		ioapic_eoi(io, (uint8_t)value, res); /* IOxAPIC EOI register, bits 7:0 */
}

/* ---- Invariants ---- */

#define CHECK(cond, cite)                                        \
	do {                                                     \
		if (!(cond))                                     \
			return fail(buf, cap, pin, #cond, cite); \
	} while (0)

static bool fail(char *buf, size_t cap, uint32_t pin, const char *cond, const char *cite)
{
	if (cap)
		snprintf(buf, cap, "ioapic invariant broken at pin %u: %s (%s)", pin, cond, cite);
	return false;
}

static bool check_pin(const struct ioapic *io, uint32_t pin, char *buf, size_t cap)
{
	uint64_t rte = io->redtbl[pin];

	if (pin >= io->cfg.pins) {
		CHECK(rte == 0 && io->level[pin] == 0, "82093AA 3.2.2: only pins entries exist");
		return true;
	}
	CHECK((rte & ~(RTE_WMASK | IOAPIC_RTE_REMOTE_IRR)) == 0,
	      "82093AA 3.2.4: reserved bits and delivery status are 0");
	CHECK(!(rte & IOAPIC_RTE_REMOTE_IRR) || rte_level(rte),
	      "82093AA 3.2.4: remote IRR only on level-triggered entries");
	CHECK(io->level[pin] <= 1, "model: a pin is low or high");
	CHECK(!rte_level(rte) || rte_reserved_dm(rte) || (rte & IOAPIC_RTE_MASKED) ||
	          (rte & IOAPIC_RTE_REMOTE_IRR) || !ioapic_pin_asserted(io, pin),
	      "82093AA 3.2.4: an asserted unmasked level input has been sent");
	return true;
}

/* Whether every entry and level past the configured pins is zero: one pass without branches (the
 * checks run after every operation of a fuzzing run, and most of the 120 slots are unused). */
static bool unused_pins_clear(const struct ioapic *io)
{
	uint64_t acc = 0;

	for (uint32_t pin = io->cfg.pins; pin < IOAPIC_MAX_PINS; pin++)
		acc |= io->redtbl[pin] | io->level[pin];
	return acc == 0;
}

bool ioapic_check_invariants(const struct ioapic *io, char *buf, size_t cap)
{
	uint32_t pin = 0;

	if (cap)
		buf[0] = '\0';
	CHECK(io->cfg.pins >= 1 && io->cfg.pins <= IOAPIC_MAX_PINS, "config: pin count");
	CHECK(io->ioregsel <= 0xFF, "82093AA 3.1.1: IOREGSEL is 8 bits");
	CHECK(io->id <= 0xF && io->arb <= 0xF, "82093AA 3.2.1, 3.2.3: 4-bit IDs");
	for (pin = 0; pin < io->cfg.pins; pin++)
		if (!check_pin(io, pin, buf, cap))
			return false;
	if (unused_pins_clear(io))
		return true;
	for (pin = io->cfg.pins; pin < IOAPIC_MAX_PINS; pin++) /* the first one that is not */
		if (!check_pin(io, pin, buf, cap))
			return false;
	return true;
}
