/* Decoding and encoding the operations of fuzz_lapic_ioapic (fz_apic_ops.h), and the resolution of
 * state-dependent operands. Operand values come from tables of the registers, MSRs and values the
 * models care about, or raw; the encoder writes the form the decoder reads back, so the seed
 * generator and the round-trip tests cannot drift from the decoder. */
#include "fz_apic_ops.h"

#include <hvsim/clock.h>

#include <string.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const char *const op_names[FZ_APIC_OP_COUNT] = {
    "mmio_read", "mmio_write", "msr_read", "msr_write", "apic_base", "accept",
    "ack",       "eoi",        "ipi",      "msi",       "io_read",   "io_write",
    "io_rte",    "io_line",    "io_eoi",   "lvt_fire",  "advance",   "tsc_offset",
    "snapshot",  "restore",    "cr8",      "init",      "virt",      "events",
};

/* SDM Table 11-1 offsets, plus reserved ones and offsets inside a slot */
static const uint64_t xapic_regs[] = {
    0x020, 0x030, 0x080, 0x090, 0x0A0, 0x0B0, 0x0C0, 0x0D0, 0x0E0, 0x0F0, 0x100, 0x170,
    0x180, 0x1F0, 0x200, 0x270, 0x280, 0x2F0, 0x300, 0x310, 0x320, 0x330, 0x340, 0x350,
    0x360, 0x370, 0x380, 0x390, 0x3E0, 0x3F0, 0x3D0, 0x400, 0xFF0, 0x0B4,
};

/* SDM Table 11-6 MSRs, IA32_APIC_BASE, IA32_TSC_DEADLINE, reserved ones and two outside */
static const uint64_t x2apic_msrs[] = {
    0x1B,  0x6E0, 0x802, 0x803, 0x808, 0x809, 0x80A, 0x80B, 0x80C, 0x80D, 0x80E, 0x80F,
    0x810, 0x817, 0x818, 0x81F, 0x820, 0x827, 0x828, 0x82F, 0x830, 0x831, 0x832, 0x833,
    0x834, 0x835, 0x836, 0x837, 0x838, 0x839, 0x83E, 0x83F, 0x840, 0x8FF, 0x3A,  0x10,
};

/* SVR enable, LVT masked/periodic/TSC-deadline, level LINT, TDCR encodings, IDs, DFR models */
static const uint64_t values32[] = {
    0,       0xFFFFFFFF, 0x1FF,      0x100,      0x10FF,     0x10000,    0x20030,
    0x40040, 0x60050,    0x10020,    0x8030,     0x8730,     0xF0,       0x0B,
    0x07,    0x01,       0x0FFFFFFF, 0xFF000000, 0x01000000, 0x80000000, 0x700,
    0x400,   0x500,      0x600,      0x200,      0x0F,       0x10,       0x12,
};

static const uint64_t io_offsets[] = {0x00, 0x10, 0x40, 0x20, 0x04, 0x14, 0x11, 0xF0};
/* ID, version, arbitration, reserved, the first and last entries' halves, past the table */
static const uint64_t io_indexes[] = {0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12,
                                      0x13, 0x2E, 0x3F, 0x40, 0x41, 0xFF, 0x0F};
static const uint8_t sizes[] = {4, 4, 4, 4, 4, 1, 2, 8};

const char *fz_apic_op_name(uint8_t kind)
{
	return kind < FZ_APIC_OP_COUNT ? op_names[kind] : "?";
}

/* ---- Decoding ---- */

static uint8_t dec_size(struct fz_in *in)
{
	return sizes[fz_choose(in, N(sizes))];
}

/* A register value: raw, from the table, or an LVT/RTE-shaped one built from fields. */
static uint32_t dec_value32(struct fz_in *in)
{
	uint32_t f;

	switch (fz_choose(in, 3)) {
	case 0: return fz_u32(in);
	case 1: return (uint32_t)fz_pick(in, values32, N(values32));
	default:
		f = fz_u8(in);
		return fz_u8(in) | (f & 7) << 8 | ((f >> 3) & 1) << 15 | ((f >> 4) & 1) << 13 |
		       ((f >> 5) & 1) << 16 | (f >> 6) << 17;
	}
}

/* A table MSR; a raw value with bit 63 set is any 32-bit MSR, other raw values 0x800-0x8FF. */
static uint32_t dec_msr(struct fz_in *in)
{
	uint64_t m = fz_pick(in, x2apic_msrs, N(x2apic_msrs));

	if (m < 0x900)
		return (uint32_t)m;
	return (m >> 63) ? (uint32_t)m : LAPIC_X2APIC_MSR_BASE + (uint32_t)(m & 0xFF);
}

static uint32_t dec_dest(struct fz_in *in)
{
	switch (fz_choose(in, 4)) {
	case 0: return 0xFF;
	case 1: return (uint32_t)fz_choose(in, 4);
	case 2: return fz_u8(in);
	default: return fz_u32(in);
	}
}

/* Vector from one byte; delivery mode, level, trigger, destination mode and format from one. */
static void dec_irq(struct fz_in *in, struct lapic_irq *q)
{
	uint8_t f;

	memset(q, 0, sizeof(*q));
	q->vector = fz_u8(in);
	f = fz_u8(in);
	q->delivery_mode = f & 7;
	q->level = !(f & 8);
	q->trigger_level = f & 16;
	q->dest_logical = f & 32;
	q->x2apic_format = f & 64;
}

static void dec_msr_write(struct fz_in *in, struct fz_apic_op *op)
{
	op->reg = dec_msr(in);
	op->sub = (uint8_t)fz_choose(in, 4);
	switch (op->sub) {
	case 0: op->value = fz_u64(in); break;
	case 1: op->value = dec_value32(in); break;
	case 2: op->value = fz_u16(in); break;
	default: op->value = dec_value32(in) | UINT64_C(1) << (32 + fz_u8(in) % 32); break;
	}
}

static void dec_lapic_op(struct fz_in *in, struct fz_apic_op *op)
{
	switch (op->kind) {
	case FZ_APIC_MMIO_READ:
	case FZ_APIC_MMIO_WRITE:
		op->reg = (uint32_t)fz_pick(in, xapic_regs, N(xapic_regs)) & 0xFFF;
		op->size = dec_size(in);
		if (op->kind == FZ_APIC_MMIO_WRITE)
			op->value = dec_value32(in);
		break;
	case FZ_APIC_MSR_READ: op->reg = dec_msr(in); break;
	case FZ_APIC_MSR_WRITE: dec_msr_write(in, op); break;
	case FZ_APIC_BASE:
		op->sub = (uint8_t)fz_choose(in, 9);
		op->value = op->sub == 7 ? fz_u64(in) : 0;
		break;
	case FZ_APIC_ACCEPT: dec_irq(in, &op->irq); break;
	case FZ_APIC_EOI:
	case FZ_APIC_INIT: op->sub = (uint8_t)fz_choose(in, op->kind == FZ_APIC_EOI ? 3 : 2); break;
	case FZ_APIC_IPI:
		dec_irq(in, &op->irq);
		op->irq.shorthand = fz_u8(in) & 3;
		op->irq.dest = dec_dest(in);
		break;
	case FZ_APIC_LVT_FIRE: op->reg = (uint32_t)fz_choose(in, LAPIC_LVT_COUNT + 1); break;
	case FZ_APIC_TSC_OFFSET:
		op->sub = (uint8_t)fz_choose(in, 4);
		op->value = op->sub == 0 ? fz_u64(in) : fz_u16(in);
		break;
	case FZ_APIC_VIRT: op->sub = (uint8_t)fz_choose(in, 2); /* fall through */
	case FZ_APIC_CR8:
	case FZ_APIC_EVENTS: op->value = fz_u8(in); break;
	default: break;
	}
}

static uint64_t dec_advance(struct fz_in *in, uint8_t sub)
{
	switch (sub) {
	case 0: return fz_u16(in);
	case 1: return fz_choose(in, 3);
	case 2: return fz_u32(in);
	default: return fz_u64(in);
	}
}

static void dec_system_op(struct fz_in *in, struct fz_apic_op *op)
{
	switch (op->kind) {
	case FZ_APIC_MSI:
		dec_irq(in, &op->irq);
		op->irq.dest = dec_dest(in);
		break;
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE:
		op->reg = (uint32_t)fz_pick(in, io_offsets, N(io_offsets)) & 0xFFF;
		op->size = dec_size(in);
		if (op->kind == FZ_APIC_IO_READ)
			break;
		op->value = op->reg == IOAPIC_IOREGSEL && fz_bool(in)
		                ? fz_pick(in, io_indexes, N(io_indexes))
		                : dec_value32(in);
		break;
	case FZ_APIC_IO_RTE:
		op->reg = fz_u8(in) & 0x7F;
		op->value = dec_value32(in);
		op->hi = (uint64_t)dec_dest(in) << 24;
		break;
	case FZ_APIC_IO_LINE:
		op->reg = fz_u8(in) & 0x7F;
		op->sub = (uint8_t)fz_choose(in, 4);
		break;
	case FZ_APIC_IO_EOI: op->value = fz_u8(in); break;
	case FZ_APIC_ADVANCE:
		op->sub = (uint8_t)fz_choose(in, 4);
		op->value = dec_advance(in, op->sub);
		break;
	default: break;
	}
}

static bool per_cpu(uint8_t kind)
{
	switch (kind) {
	case FZ_APIC_MSI:
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE:
	case FZ_APIC_IO_RTE:
	case FZ_APIC_IO_LINE:
	case FZ_APIC_IO_EOI:
	case FZ_APIC_ADVANCE:
	case FZ_APIC_SNAPSHOT:
	case FZ_APIC_RESTORE: return false;
	default: return true;
	}
}

void fz_apic_decode(struct fz_in *in, unsigned n_cpus, struct fz_apic_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)fz_choose(in, FZ_APIC_OP_COUNT);
	if (!per_cpu(op->kind)) {
		dec_system_op(in, op);
		return;
	}
	op->cpu = (uint8_t)fz_choose(in, n_cpus);
	dec_lapic_op(in, op);
}

/* ---- Encoding: the same layout, written ---- */

static void enc_size(struct fz_out *o, uint8_t size)
{
	size_t i = 0;

	while (i + 1 < N(sizes) && sizes[i] != size)
		i++;
	fz_put_choose(o, N(sizes), i);
}

static void enc_value32(struct fz_out *o, uint64_t v)
{
	fz_put_choose(o, 3, 0);
	fz_put(o, v, 4);
}

static void enc_msr(struct fz_out *o, uint32_t msr)
{
	for (size_t i = 0; i < N(x2apic_msrs); i++)
		if (x2apic_msrs[i] == msr) {
			fz_put_choose(o, N(x2apic_msrs) + 1, i);
			return;
		}
	fz_put_pick(o, x2apic_msrs, N(x2apic_msrs), UINT64_C(1) << 63 | msr);
}

static void enc_dest(struct fz_out *o, uint32_t dest)
{
	if (dest == 0xFF) {
		fz_put_choose(o, 4, 0);
	} else if (dest <= 0xFF) {
		fz_put_choose(o, 4, 2);
		fz_put(o, dest, 1);
	} else {
		fz_put_choose(o, 4, 3);
		fz_put(o, dest, 4);
	}
}

static void enc_irq(struct fz_out *o, const struct lapic_irq *q)
{
	fz_put(o, q->vector, 1);
	fz_put(o,
	       (q->delivery_mode & 7u) | (q->level ? 0u : 8u) | (q->trigger_level ? 16u : 0u) |
	           (q->dest_logical ? 32u : 0u) | (q->x2apic_format ? 64u : 0u),
	       1);
}

static void enc_lapic_op(struct fz_out *o, const struct fz_apic_op *op)
{
	switch (op->kind) {
	case FZ_APIC_MMIO_READ:
	case FZ_APIC_MMIO_WRITE:
		fz_put_pick(o, xapic_regs, N(xapic_regs), op->reg);
		enc_size(o, op->size);
		if (op->kind == FZ_APIC_MMIO_WRITE)
			enc_value32(o, op->value);
		break;
	case FZ_APIC_MSR_READ: enc_msr(o, op->reg); break;
	case FZ_APIC_MSR_WRITE:
		enc_msr(o, op->reg);
		fz_put_choose(o, 4, op->sub == 2 ? 2 : 0);
		fz_put(o, op->value, op->sub == 2 ? 2 : 8);
		break;
	case FZ_APIC_BASE:
		fz_put_choose(o, 9, op->sub);
		if (op->sub == 7)
			fz_put(o, op->value, 8);
		break;
	case FZ_APIC_ACCEPT: enc_irq(o, &op->irq); break;
	case FZ_APIC_EOI:
	case FZ_APIC_INIT: fz_put_choose(o, op->kind == FZ_APIC_EOI ? 3 : 2, op->sub); break;
	case FZ_APIC_IPI:
		enc_irq(o, &op->irq);
		fz_put(o, op->irq.shorthand, 1);
		enc_dest(o, op->irq.dest);
		break;
	case FZ_APIC_LVT_FIRE: fz_put_choose(o, LAPIC_LVT_COUNT + 1, op->reg); break;
	case FZ_APIC_TSC_OFFSET:
		fz_put_choose(o, 4, op->sub);
		fz_put(o, op->value, op->sub == 0 ? 8 : 2);
		break;
	case FZ_APIC_VIRT: fz_put_choose(o, 2, op->sub); /* fall through */
	case FZ_APIC_CR8:
	case FZ_APIC_EVENTS: fz_put(o, op->value, 1); break;
	default: break;
	}
}

static void enc_advance(struct fz_out *o, const struct fz_apic_op *op)
{
	uint8_t sub = op->sub == 1 ? 1 : op->value <= 0xFFFF ? 0 : op->value <= UINT32_MAX ? 2 : 3;
	static const unsigned bytes[] = {2, 1, 4, 8};

	fz_put_choose(o, 4, sub);
	fz_put(o, op->value, bytes[sub]);
}

static void enc_system_op(struct fz_out *o, const struct fz_apic_op *op)
{
	switch (op->kind) {
	case FZ_APIC_MSI:
		enc_irq(o, &op->irq);
		enc_dest(o, op->irq.dest);
		break;
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE:
		fz_put_pick(o, io_offsets, N(io_offsets), op->reg);
		enc_size(o, op->size);
		if (op->kind == FZ_APIC_IO_READ)
			break;
		if (op->reg == IOAPIC_IOREGSEL)
			fz_put(o, 0, 1); /* not the index table: a raw value follows */
		enc_value32(o, op->value);
		break;
	case FZ_APIC_IO_RTE:
		fz_put(o, op->reg, 1);
		enc_value32(o, op->value);
		enc_dest(o, (uint32_t)(op->hi >> 24));
		break;
	case FZ_APIC_IO_LINE:
		fz_put(o, op->reg, 1);
		fz_put_choose(o, 4, op->sub);
		break;
	case FZ_APIC_IO_EOI: fz_put(o, op->value, 1); break;
	case FZ_APIC_ADVANCE: enc_advance(o, op); break;
	default: break;
	}
}

void fz_apic_encode(struct fz_out *o, const struct fz_apic_op *op)
{
	fz_put_choose(o, FZ_APIC_OP_COUNT, op->kind);
	if (!per_cpu(op->kind)) {
		enc_system_op(o, op);
		return;
	}
	fz_put(o, op->cpu, 1);
	enc_lapic_op(o, op);
}

/* ---- Resolution ---- */

/* IA32_APIC_BASE values for the transitions of SDM 11.4.4 and 11.12.5.1, legal and not. */
static uint64_t base_for(const struct lapic *l, uint8_t sub, uint64_t raw)
{
	uint64_t cur = lapic_get_apic_base(l);
	uint64_t keep = cur & (LAPIC_BASE_BSP | LAPIC_BASE_ADDR_MASK);

	switch (sub) {
	case 0: return keep | LAPIC_BASE_EN;                   /* xAPIC */
	case 1: return keep | LAPIC_BASE_EN | LAPIC_BASE_EXTD; /* x2APIC */
	case 2: return keep;                                   /* disabled */
	case 3: return keep | LAPIC_BASE_EXTD;                 /* invalid: EXTD without EN */
	case 4: return (cur & ~LAPIC_BASE_ADDR_MASK) | (LAPIC_DEFAULT_BASE + 0x10000); /* moved */
	case 5: return cur | UINT64_C(1) << 9;                               /* reserved bit */
	case 6: return cur | UINT64_C(1) << lapic_get_config(l)->maxphyaddr; /* beyond width */
	case 7: return raw;
	default: return cur ^ LAPIC_BASE_BSP;
	}
}

static uint64_t resolve_advance(const struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	uint64_t d;

	if (op->sub == 1) /* to the next deadline: one ns before it, at it, or one after */
		return fz_apic_next_deadline(s, &d) && d > s->now_ns ? d - s->now_ns + op->value - 1
		                                                     : op->value;
	return op->sub == 3 ? op->value & FZ_APIC_NS_MAX : op->value;
}

void fz_apic_resolve(const struct fz_apic_sys *s, struct fz_apic_op *op)
{
	const struct lapic *l = s->cpu[op->cpu];
	uint64_t host_tsc = sim_ns_to_tsc(s->now_ns, lapic_get_config(l)->tsc_khz);

	switch (op->kind) {
	case FZ_APIC_BASE:
		op->value = base_for(l, op->sub, op->value);
		op->sub = 7;
		break;
	case FZ_APIC_MSR_WRITE:
		if (op->sub == 2) /* a TSC deadline near the guest TSC now */
			op->value = lapic_guest_tsc(l, s->now_ns) + op->value - 0x100;
		op->sub = 0;
		break;
	case FZ_APIC_TSC_OFFSET: /* guest TSC from 0, or far ahead */
		if (op->sub >= 1)
			op->value = op->sub == 1
			                ? 0
			                : (op->sub == 2 ? op->value : op->value << 32) - host_tsc;
		op->sub = 0;
		break;
	case FZ_APIC_ADVANCE:
		op->value = resolve_advance(s, op);
		op->sub = 0;
		break;
	default: break;
	}
}
