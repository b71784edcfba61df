/* Executing the operations of fuzz_lapic_ioapic (fz_apic_ops.h) on the interrupt system, with the
 * checks that need the operation's context (what a read returned, what INTA or EOI did, a
 * snapshot's copy), and the run loop shared by the harness, its export and the tests. The loop
 * checks every invariant after every operation (fz_apic_check_state) and stops at the first
 * violation. */
#include "fz_apic_ops.h"

#include <string.h>

static void run_cpu_mmio(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	struct lapic_result r;
	uint64_t v = 0;
	char why[FZ_APIC_WHY_MAX];

	if (op->kind == FZ_APIC_MMIO_WRITE) {
		lapic_mmio_write(l, op->reg, op->size, op->value, s->now_ns, &r);
	} else {
		lapic_mmio_read(l, op->reg, op->size, &v, s->now_ns, &r);
		fz_apic_mix(s, v);
		if (!fz_inv_apic_read_width(l, 0, op->size, v, why, sizeof(why)))
			fz_apic_flag(s, "counter_width", "cpu %u MMIO %#x: %s", op->cpu, op->reg,
			             why);
	}
	fz_apic_after_lapic(s, op->cpu, &r);
}

static void run_cpu_msr(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	uint32_t msr = op->kind == FZ_APIC_BASE ? MSR_IA32_APIC_BASE : op->reg;
	struct lapic_result r;
	uint64_t v = 0;
	char why[FZ_APIC_WHY_MAX];
	bool handled;

	if (op->kind == FZ_APIC_MSR_READ) {
		handled = lapic_msr_read(l, msr, &v, s->now_ns, &r);
		if (handled && !r.gp && !fz_inv_apic_read_width(l, msr, 8, v, why, sizeof(why)))
			fz_apic_flag(s, "counter_width", "cpu %u RDMSR %#x: %s", op->cpu, msr, why);
	} else {
		handled = lapic_msr_write(l, msr, op->value, s->now_ns, &r);
	}
	fz_apic_mix(s, v ^ (uint64_t)handled << 63);
	if (handled)
		fz_apic_after_lapic(s, op->cpu, &r);
}

static void run_ack(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	uint32_t svr = lapic_reg_peek(l, LAPIC_REG_SVR, s->now_ns) & LAPIC_SVR_VECTOR;
	bool pending = lapic_pending_vector(l) >= 0;
	int v = lapic_ack(l);
	char why[FZ_APIC_WHY_MAX];

	s->touched[op->cpu] = true;
	s->stats.inta += pending;
	fz_apic_mix(s, (uint64_t)(int64_t)v);
	if (!fz_inv_apic_inta(l, &s->prev[op->cpu], svr, v, why, sizeof(why)))
		fz_apic_flag(s, "inta_dispenses_highest", "cpu %u: %s", op->cpu, why);
}

/* EOI through the API, the xAPIC register or the x2APIC MSR; checked when it took effect. */
static void run_eoi(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	enum lapic_mode mode = lapic_get_mode(l);
	struct lapic_result r;
	char why[FZ_APIC_WHY_MAX];
	bool took = true;

	if (op->sub == 0) {
		lapic_eoi(l, &r);
	} else if (op->sub == 1) {
		lapic_mmio_write(l, LAPIC_REG_EOI, 4, 0, s->now_ns, &r);
		took = mode == LAPIC_MODE_XAPIC;
	} else {
		lapic_msr_write(l, LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_EOI >> 4), 0, s->now_ns, &r);
		took = mode == LAPIC_MODE_X2APIC && !r.gp;
	}
	if (took && !fz_inv_apic_eoi(l, &s->prev[op->cpu], &r, why, sizeof(why)))
		fz_apic_flag(s, "eoi_clears_highest_isr", "cpu %u: %s", op->cpu, why);
	fz_apic_after_lapic(s, op->cpu, &r);
}

static uint32_t icr_low(const struct lapic_irq *q)
{
	return q->vector | (uint32_t)q->delivery_mode << 8 |
	       (q->dest_logical ? LAPIC_ICR_DEST_LOGICAL : 0) | (q->level ? LAPIC_ICR_LEVEL : 0) |
	       (q->trigger_level ? LAPIC_ICR_TRIGGER : 0) |
	       (uint32_t)q->shorthand << LAPIC_ICR_SH_SHIFT;
}

/* An IPI the way software sends it: ICR through MMIO (high half first) or one x2APIC WRMSR. */
static void run_ipi(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	uint32_t lo = icr_low(&op->irq);
	struct lapic_result r;

	if (lapic_get_mode(l) == LAPIC_MODE_X2APIC) {
		lapic_msr_write(l, LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_ICR_LO >> 4),
		                (uint64_t)op->irq.dest << 32 | lo, s->now_ns, &r);
		fz_apic_after_lapic(s, op->cpu, &r);
		return;
	}
	lapic_mmio_write(l, LAPIC_REG_ICR_HI, 4, (uint64_t)(op->irq.dest & 0xFF) << 24, s->now_ns,
	                 &r);
	fz_apic_after_lapic(s, op->cpu, &r);
	lapic_mmio_write(l, LAPIC_REG_ICR_LO, 4, lo, s->now_ns, &r);
	fz_apic_after_lapic(s, op->cpu, &r);
}

static void run_io_mmio(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct ioapic_result r;
	char why[FZ_APIC_WHY_MAX];

	if (op->kind == FZ_APIC_IO_WRITE) {
		ioapic_mmio_write(s->io, op->reg, op->size, op->value, &r);
	} else {
		ioapic_mmio_read(s->io, op->reg, op->size, &r);
		fz_apic_mix(s, r.value);
		if (!fz_inv_apic_ioapic_read(s->io, op->reg, op->size, r.value, why, sizeof(why)))
			fz_apic_flag(s, "ioapic_read_width", "%s", why);
	}
	fz_apic_after_ioapic(s, &r);
}

/* Programs one redirection entry as an OS does: high dword, then low (unmasking last). */
static void run_io_rte(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	const uint32_t writes[4][2] = {{IOAPIC_IOREGSEL, IOAPIC_IDX_REDTBL + 2 * op->reg + 1},
	                               {IOAPIC_IOWIN, (uint32_t)op->hi},
	                               {IOAPIC_IOREGSEL, IOAPIC_IDX_REDTBL + 2 * op->reg},
	                               {IOAPIC_IOWIN, (uint32_t)op->value}};
	struct ioapic_result r;

	for (unsigned k = 0; k < 4; k++) {
		ioapic_mmio_write(s->io, writes[k][0], 4, writes[k][1], &r);
		fz_apic_after_ioapic(s, &r);
	}
}

static void run_io(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct ioapic_result r;
	bool ok = true;

	switch (op->kind) {
	case FZ_APIC_IO_LINE:
		if (op->sub < 2)
			ok = ioapic_set_irq(s->io, op->reg, op->sub, &r);
		else
			ok = ioapic_assert_irq(s->io, op->reg, op->sub == 3, &r);
		break;
	default: ioapic_eoi(s->io, (uint8_t)op->value, &r); break;
	}
	fz_apic_mix(s, ok);
	fz_apic_after_ioapic(s, &r);
}

static void check_snapshot(struct fz_apic_sys *s, const struct fz_apic_snap *snap)
{
	char why[FZ_APIC_WHY_MAX];

	for (unsigned i = 0; i < s->cfg.n_cpus; i++)
		if (!fz_inv_apic_lapic_same(s->cpu[i], snap->cpu[i], s->now_ns, why, sizeof(why)))
			fz_apic_flag(s, "snapshot_equal", "cpu %u: %s", i, why);
	if (!fz_inv_apic_ioapic_same(s->io, snap->io, why, sizeof(why)))
		fz_apic_flag(s, "snapshot_equal", "I/O APIC: %s", why);
}

static void run_snapshot(struct fz_apic_sys *s, struct fz_apic_snap *snap,
                         const struct fz_apic_op *op)
{
	if (op->kind == FZ_APIC_SNAPSHOT) {
		fz_apic_snapshot(s, snap);
	} else if (snap->taken) {
		fz_apic_restore(s, snap);
		fz_apic_mix(s, s->now_ns);
	} else {
		return;
	}
	check_snapshot(s, snap);
}

/* A hypervisor posts a vector into IRR (ISR kept, as a virtual-APIC page sync does): an
 * acceptance; never into a globally disabled APIC, which holds no interrupts (SDM 11.4.3). */
static void post_vector(struct lapic *l, uint8_t v, struct lapic_result *r)
{
	uint32_t irr[8], isr[8];

	if (lapic_get_mode(l) == LAPIC_MODE_DISABLED)
		return;
	lapic_get_vectors(l, irr, isr, NULL);
	irr[v >> 5] |= 1u << (v & 31);
	lapic_set_vectors(l, irr, isr);
	r->irr_set = v >= 16;
}

static void run_cpu_misc(struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	struct lapic *l = s->cpu[op->cpu];
	struct lapic_result r;

	memset(&r, 0, sizeof(r));
	r.eoi_vector = r.eoi_broadcast = -1;
	switch (op->kind) {
	case FZ_APIC_ACCEPT: s->stats.accepted += lapic_accept(l, &op->irq, &r); break;
	case FZ_APIC_LVT_FIRE:
		fz_apic_mix(s, lapic_lvt_fire(l, (enum lapic_lvt)op->reg, &r));
		break;
	case FZ_APIC_TSC_OFFSET: lapic_set_tsc_offset(l, op->value, s->now_ns, &r); break;
	case FZ_APIC_CR8: lapic_write_cr8(l, op->value); break;
	case FZ_APIC_INIT:
		if (op->sub)
			lapic_reset(l);
		else
			lapic_init_reset(l, &r);
		break;
	case FZ_APIC_VIRT:
		if (op->sub == 0)
			lapic_set_tpr(l, (uint8_t)op->value);
		else
			post_vector(l, (uint8_t)op->value, &r);
		break;
	case FZ_APIC_EVENTS: lapic_clear_events(l, (uint32_t)op->value); break;
	default: break;
	}
	fz_apic_after_lapic(s, op->cpu, &r);
}

void fz_apic_execute(struct fz_apic_sys *s, struct fz_apic_snap *snap, const struct fz_apic_op *op)
{
	switch (op->kind) {
	case FZ_APIC_MMIO_READ:
	case FZ_APIC_MMIO_WRITE: run_cpu_mmio(s, op); break;
	case FZ_APIC_MSR_READ:
	case FZ_APIC_MSR_WRITE:
	case FZ_APIC_BASE: run_cpu_msr(s, op); break;
	case FZ_APIC_ACK: run_ack(s, op); break;
	case FZ_APIC_EOI: run_eoi(s, op); break;
	case FZ_APIC_IPI: run_ipi(s, op); break;
	case FZ_APIC_MSI: fz_apic_deliver(s, -1, &op->irq); break;
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE: run_io_mmio(s, op); break;
	case FZ_APIC_IO_RTE: run_io_rte(s, op); break;
	case FZ_APIC_IO_LINE:
	case FZ_APIC_IO_EOI: run_io(s, op); break;
	case FZ_APIC_ADVANCE: fz_apic_advance(s, op->value); break;
	case FZ_APIC_SNAPSHOT:
	case FZ_APIC_RESTORE: run_snapshot(s, snap, op); break;
	default: run_cpu_misc(s, op); break;
	}
}

/* Records the operation's first violation: the glue's, else the state invariants'. */
static void check_op(struct fz_apic_sys *s, const struct fz_apic_op *op, unsigned i,
                     struct fz_apic_outcome *o)
{
	const char *kind = s->bad;
	char why[FZ_APIC_WHY_MAX];

	if (kind)
		snprintf(why, sizeof(why), "%s", s->why);
	else if (!fz_apic_check_state(s, &kind, why, sizeof(why)))
		kind = kind ? kind : "invariant";
	if (!kind) {
		fz_apic_checked(s);
		return;
	}
	o->kind = kind;
	snprintf(o->why, sizeof(o->why), "op %u (%s): %s", i, fz_apic_op_name(op->kind), why);
}

void fz_apic_run(struct fz_apic_sys *s, struct fz_apic_snap *snap, const uint8_t *data, size_t size,
                 struct fz_apic_outcome *out, struct fz_apic_export *x)
{
	struct fz_apic_config cfg;
	struct fz_apic_op op;
	struct fz_in in;

	memset(out, 0, sizeof(*out));
	fz_init(&in, data, size);
	fz_apic_config_from(fz_u16(&in), &cfg);
	if (fz_apic_load(s, snap, &cfg) != HVSIM_OK) {
		out->kind = "out_of_memory";
		return;
	}
	for (unsigned i = 0; fz_more(&in, &i, FZ_APIC_OPS_MAX) && !out->kind;) {
		fz_apic_decode(&in, cfg.n_cpus, &op);
		fz_apic_resolve(s, &op);
		if (x)
			fz_apic_export_op(x, s, &op, i - 1);
		fz_apic_begin(s);
		fz_apic_execute(s, snap, &op);
		fz_apic_end(s);
		check_op(s, &op, i - 1, out);
		out->ops = i;
	}
	out->hash = s->hash;
}
