/* The export mapping of fuzz_lapic_ioapic (docs/fuzzing.md "Export mapping", "fuzz_lapic_ioapic"):
 * guest-visible operations become script actions of the one vCPU (xAPIC MMIO at the current APIC
 * page, x2APIC and IA32_APIC_BASE as WRMSR/RDMSR, CR8 as MOV to CR8, I/O APIC MMIO at its
 * default base), platform inputs become timed events (line changes as irq_line with the logical
 * level, messages as MSIs), time advances compute actions. Operations a guest or platform cannot
 * express (INTA, local LVT sources, TSC offsets, snapshots, INIT, APIC-virtualization posts) and
 * inputs with more than one LAPIC have no form: the export then names the first such operation. */
#include "fz_apic_ops.h"

#include <string.h>

#define COMPUTE_MAX   UINT64_C(1000000000)   /* insns of one scenario compute action */
#define EXPORT_NS_MAX UINT64_C(100000000000) /* longest time an exported scenario spans, ns */

static void act(struct fz_apic_export *x, uint8_t sop, uint64_t addr, uint32_t index, uint8_t size,
                uint64_t value)
{
	struct script_action a;

	memset(&a, 0, sizeof(a));
	a.op = sop;
	a.addr = addr;
	a.index = index;
	a.size = size;
	a.value = value;
	a.cr = 8;
	fz_scn_action(x->scn, &a);
}

/* insn_ns is 1: N ns of virtual time are N instructions; long spans repeat a full compute. */
static void act_compute(struct fz_apic_export *x, uint64_t insns)
{
	struct script_action a, body;

	if (insns > COMPUTE_MAX) {
		memset(&body, 0, sizeof(body));
		body.op = SOP_COMPUTE;
		body.value = COMPUTE_MAX;
		memset(&a, 0, sizeof(a));
		a.op = SOP_REPEAT;
		a.count = (uint32_t)(insns / COMPUTE_MAX);
		a.body = &body;
		a.n_body = 1;
		fz_scn_action(x->scn, &a);
		insns %= COMPUTE_MAX;
	}
	if (insns)
		act(x, SOP_COMPUTE, 0, 0, 0, insns);
}

static uint64_t lapic_page(const struct lapic *l)
{
	return lapic_get_apic_base(l) & LAPIC_BASE_ADDR_MASK &
	       ((UINT64_C(1) << lapic_get_config(l)->maxphyaddr) - 1);
}

static uint32_t icr_low(const struct lapic_irq *q)
{
	return q->vector | (uint32_t)q->delivery_mode << 8 |
	       (q->dest_logical ? LAPIC_ICR_DEST_LOGICAL : 0) | (q->level ? LAPIC_ICR_LEVEL : 0) |
	       (q->trigger_level ? LAPIC_ICR_TRIGGER : 0) |
	       (uint32_t)q->shorthand << LAPIC_ICR_SH_SHIFT;
}

/* An MSI carrying q to its xAPIC-format destination (SDM 11.11.1, 11.11.2); none for a 32-bit
 * x2APIC destination, which needs interrupt remapping. */
static bool msi_form(struct fz_apic_export *x, uint64_t now, const struct lapic_irq *q)
{
	uint64_t addr =
	    LAPIC_DEFAULT_BASE | (uint64_t)(q->dest & 0xFF) << 12 | (q->dest_logical ? 4u : 0u);
	uint64_t data = q->vector | (uint32_t)q->delivery_mode << 8 | (q->level ? 1u << 14 : 0) |
	                (q->trigger_level ? 1u << 15 : 0);

	if (q->x2apic_format && q->dest > 0xFF)
		return false;
	fz_scn_msi(x->scn, now, addr, data);
	return true;
}

static bool eoi_form(struct fz_apic_export *x, const struct lapic *l, const struct fz_apic_op *op)
{
	enum lapic_mode mode = lapic_get_mode(l);

	if (op->sub == 1 || (op->sub == 0 && mode == LAPIC_MODE_XAPIC))
		act(x, SOP_MMIO_WRITE, lapic_page(l) + LAPIC_REG_EOI, 0, 4, 0);
	else if (op->sub == 2 || mode == LAPIC_MODE_X2APIC)
		act(x, SOP_WRMSR, 0, LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_EOI >> 4), 0, 0);
	else
		return false; /* the API on a disabled APIC: no register to write */
	return true;
}

static void ipi_form(struct fz_apic_export *x, const struct lapic *l, const struct fz_apic_op *op)
{
	uint32_t lo = icr_low(&op->irq);

	if (lapic_get_mode(l) == LAPIC_MODE_X2APIC) {
		act(x, SOP_WRMSR, 0, LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_ICR_LO >> 4), 0,
		    (uint64_t)op->irq.dest << 32 | lo);
		return;
	}
	act(x, SOP_MMIO_WRITE, lapic_page(l) + LAPIC_REG_ICR_HI, 0, 4,
	    (uint64_t)(op->irq.dest & 0xFF) << 24);
	act(x, SOP_MMIO_WRITE, lapic_page(l) + LAPIC_REG_ICR_LO, 0, 4, lo);
}

static void rte_form(struct fz_apic_export *x, const struct fz_apic_op *op)
{
	const uint64_t base = IOAPIC_DEFAULT_BASE;

	act(x, SOP_MMIO_WRITE, base + IOAPIC_IOREGSEL, 0, 4, IOAPIC_IDX_REDTBL + 2 * op->reg + 1);
	act(x, SOP_MMIO_WRITE, base + IOAPIC_IOWIN, 0, 4, (uint32_t)op->hi);
	act(x, SOP_MMIO_WRITE, base + IOAPIC_IOREGSEL, 0, 4, IOAPIC_IDX_REDTBL + 2 * op->reg);
	act(x, SOP_MMIO_WRITE, base + IOAPIC_IOWIN, 0, 4, (uint32_t)op->value);
}

static bool io_form(struct fz_apic_export *x, const struct fz_apic_sys *s,
                    const struct fz_apic_op *op)
{
	const struct ioapic_config *c = ioapic_get_config(s->io);
	bool active_low = ioapic_redirection(s->io, op->reg) & IOAPIC_RTE_POLARITY;

	switch (op->kind) {
	case FZ_APIC_IO_READ:
		act(x, SOP_MMIO_READ, IOAPIC_DEFAULT_BASE + op->reg, 0, op->size, 0);
		return true;
	case FZ_APIC_IO_WRITE:
		act(x, SOP_MMIO_WRITE, IOAPIC_DEFAULT_BASE + op->reg, 0, op->size, op->value);
		return true;
	case FZ_APIC_IO_RTE: rte_form(x, op); return true;
	case FZ_APIC_IO_LINE: /* irq_line carries the logical level, as KVM_IRQ_LINE does */
		if (op->reg >= c->pins)
			return false;
		fz_scn_irq_line(x->scn, s->now_ns, op->reg,
		                op->sub >= 2 ? op->sub == 3 : (op->sub == 1) != active_low);
		return true;
	default: /* FZ_APIC_IO_EOI: the IOxAPIC EOI register, where there is one */
		if (c->version != 0x20)
			return false;
		act(x, SOP_MMIO_WRITE, IOAPIC_DEFAULT_BASE + IOAPIC_EOI, 0, 4, op->value & 0xFF);
		return true;
	}
}

/* A message that reaches the LAPIC directly: an MSI to every APIC of the one-vCPU machine. */
static bool message_form(struct fz_apic_export *x, const struct fz_apic_sys *s,
                         const struct fz_apic_op *op)
{
	struct lapic_irq q = op->irq;

	if (op->kind == FZ_APIC_ACCEPT) {
		q.dest = 0xFF;
		q.dest_logical = false;
		q.x2apic_format = false;
	}
	return msi_form(x, s->now_ns, &q);
}

static bool form(struct fz_apic_export *x, const struct fz_apic_sys *s, const struct fz_apic_op *op)
{
	const struct lapic *l = s->cpu[op->cpu];

	switch (op->kind) {
	case FZ_APIC_MMIO_READ:
		act(x, SOP_MMIO_READ, lapic_page(l) + op->reg, 0, op->size, 0);
		break;
	case FZ_APIC_MMIO_WRITE:
		act(x, SOP_MMIO_WRITE, lapic_page(l) + op->reg, 0, op->size, op->value);
		break;
	case FZ_APIC_MSR_READ: act(x, SOP_RDMSR, 0, op->reg, 0, 0); break;
	case FZ_APIC_MSR_WRITE: act(x, SOP_WRMSR, 0, op->reg, 0, op->value); break;
	case FZ_APIC_BASE: act(x, SOP_WRMSR, 0, MSR_IA32_APIC_BASE, 0, op->value); break;
	case FZ_APIC_CR8: act(x, SOP_MOV_CR, 0, 0, 0, op->value); break;
	case FZ_APIC_EOI: return eoi_form(x, l, op);
	case FZ_APIC_IPI: ipi_form(x, l, op); break;
	case FZ_APIC_ACCEPT:
	case FZ_APIC_MSI: return message_form(x, s, op);
	case FZ_APIC_ADVANCE:
		if (op->value > EXPORT_NS_MAX - s->now_ns)
			return false;
		act_compute(x, op->value);
		break;
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE:
	case FZ_APIC_IO_RTE:
	case FZ_APIC_IO_LINE:
	case FZ_APIC_IO_EOI: return io_form(x, s, op);
	default: return false; /* INTA, LVT sources, TSC offset, snapshots, INIT, APIC virt */
	}
	return true;
}

void fz_apic_export_op(struct fz_apic_export *x, const struct fz_apic_sys *s,
                       const struct fz_apic_op *op, unsigned index)
{
	if (x->no_form)
		return;
	if (s->cfg.n_cpus > 1) {
		x->no_form = "several LAPICs (every vCPU of a scenario runs the same script)";
		x->no_form_at = 0;
	} else if (!form(x, s, op)) {
		x->no_form = fz_apic_op_name(op->kind);
		x->no_form_at = index;
	}
}

void fz_apic_export_machine(struct fz_apic_export *x, const struct fz_apic_sys *s)
{
	fz_scn_algorithm(x->scn, "kvm");
	fz_scn_machine_str(x->scn, "cpu", "intel-icelake-server"); /* kvm needs VMX */
	fz_scn_machine_int(x->scn, "vcpus", 1);
	fz_scn_machine_int(x->scn, "insn_ns", 1);
	fz_scn_machine_int(x->scn, "exit_ns", 0);
	fz_scn_machine_int(x->scn, "quantum_insns", 1000);
	fz_scn_machine_int(x->scn, "ioapic_pins", s->cfg.io_pins);
	fz_scn_machine_str(x->scn, "ioapic_version", s->cfg.io_version == 0x11 ? "0x11" : "0x20");
	fz_scn_limits(x->scn, s->now_ns + 1000000, 1000000000, 1000000);
	fz_scn_check_invariants(
	    x->scn); /* the kvm algorithm checks its LAPIC and I/O APIC models */
}
