/* The hand-made seeds of fuzz_lapic_ioapic: operation lists that reach states random bytes rarely
 * do (a level-triggered I/O APIC interrupt delivered, EOI'd and re-delivered; a periodic timer
 * firing several times; IPIs in every destination mode; TSC-deadline expiry; LINT0 remote IRR;
 * snapshots). fuzz/fzgen encodes them into fuzz/corpus/fuzz_lapic_ioapic/, and
 * tests/test_fuzz_apic.c runs each one and checks that it got where its name says (fz_apic_seed
 * "wants"), so a decoder change that breaks a seed fails a test. */
#include "fz_apic_seeds.h"

#include <string.h>

/* Operation builders, named after what they do (one line each: kept out of clang-format). */
/* clang-format off */
#define MMIO_W(c, r, v) {.kind = FZ_APIC_MMIO_WRITE, .cpu = (c), .reg = (r), .size = 4, \
                         .value = (v)}
#define MMIO_R(c, r)    {.kind = FZ_APIC_MMIO_READ, .cpu = (c), .reg = (r), .size = 4}
#define MSR_W(c, m, v)  {.kind = FZ_APIC_MSR_WRITE, .cpu = (c), .reg = (m), .value = (v)}
#define MSR_R(c, m)     {.kind = FZ_APIC_MSR_READ, .cpu = (c), .reg = (m)}
#define TSC_DEADLINE(c, ahead) \
	{.kind = FZ_APIC_MSR_WRITE, .cpu = (c), .reg = MSR_IA32_TSC_DEADLINE, .sub = 2, \
	 .value = 0x100 + (ahead)}
#define BASE(c, how)    {.kind = FZ_APIC_BASE, .cpu = (c), .sub = (how)}
#define ACK(c)          {.kind = FZ_APIC_ACK, .cpu = (c)}
#define EOI(c, how)     {.kind = FZ_APIC_EOI, .cpu = (c), .sub = (how)}
#define RTE(pin, lo, d) {.kind = FZ_APIC_IO_RTE, .reg = (pin), .value = (lo), \
                         .hi = (uint64_t)(d) << 24}
#define LINE(pin, on)   {.kind = FZ_APIC_IO_LINE, .reg = (pin), .sub = (on) ? 3 : 2}
#define IO_W(off, v)    {.kind = FZ_APIC_IO_WRITE, .reg = (off), .size = 4, .value = (v)}
#define IO_R(off)       {.kind = FZ_APIC_IO_READ, .reg = (off), .size = 4}
#define TO_DEADLINE     {.kind = FZ_APIC_ADVANCE, .sub = 1, .value = 1}
#define ADVANCE(ns)     {.kind = FZ_APIC_ADVANCE, .value = (ns)}
#define FIRE(c, lvt)    {.kind = FZ_APIC_LVT_FIRE, .cpu = (c), .reg = (lvt)}
#define CR8(c, v)       {.kind = FZ_APIC_CR8, .cpu = (c), .value = (v)}
#define SNAPSHOT        {.kind = FZ_APIC_SNAPSHOT}
#define RESTORE         {.kind = FZ_APIC_RESTORE}
#define EVENTS(c)       {.kind = FZ_APIC_EVENTS, .cpu = (c), .value = 0xFF}
#define INIT(c)         {.kind = FZ_APIC_INIT, .cpu = (c)}
#define IRQ(v, dm, lvl, trig, logical, d, sh) \
	{.vector = (v), .delivery_mode = (dm), .level = (lvl), .trigger_level = (trig), \
	 .dest_logical = (logical), .dest = (d), .shorthand = (sh)}
#define IPI(c, v, dm, logical, sh, d) \
	{.kind = FZ_APIC_IPI, .cpu = (c), .irq = IRQ(v, dm, true, false, logical, d, sh)}
#define ACCEPT(c, v, dm, lvl, trig) \
	{.kind = FZ_APIC_ACCEPT, .cpu = (c), .irq = IRQ(v, dm, lvl, trig, false, 0, 0)}
#define MSI(v, dm, logical, d) {.kind = FZ_APIC_MSI, .irq = IRQ(v, dm, true, false, logical, d, 0)}
/* clang-format on */

#define SVR_ON        0x1FF
#define X2(reg)       (LAPIC_X2APIC_MSR_BASE + ((reg) >> 4))
#define LVL           0x8000u /* RTE / LVT level trigger */
#define MASK          0x10000u
#define PERIODIC      0x20000u
#define TSC_MODE      0x40000u
#define CFG(n, flags) ((uint16_t)(((n)-1) | (flags)))
#define CFG_X2APIC    4
#define CFG_DIRECTED  8
#define CFG_IO_11_120 0x700 /* version 0x11, 120 pins */

static const struct fz_apic_op level_redeliver[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    RTE(3, LVL | 0x31, 0),
    LINE(3, 1),
    ACK(0),
    EOI(0, 1),
    ACK(0),
    LINE(3, 0),
    EOI(0, 1),
    IO_R(IOAPIC_IOREGSEL),
};

static const struct fz_apic_op periodic_timer[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_TDCR, 0xB),
    MMIO_W(0, LAPIC_REG_LVT_TIMER, PERIODIC | 0x40),
    MMIO_W(0, LAPIC_REG_TMICT, 1000),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 1),
    MMIO_R(0, LAPIC_REG_TMCCT),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 0),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 1),
    ADVANCE(5500),
    MMIO_R(0, LAPIC_REG_TMCCT),
};

static const struct fz_apic_op oneshot_divide[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_TDCR, 0x3),
    MMIO_W(0, LAPIC_REG_LVT_TIMER, 0x41),
    MMIO_W(0, LAPIC_REG_TMICT, 300),
    ADVANCE(2000),
    MMIO_R(0, LAPIC_REG_TMCCT),
    MMIO_W(0, LAPIC_REG_TDCR, 0xA),
    MMIO_R(0, LAPIC_REG_TMCCT),
    MMIO_W(0, LAPIC_REG_LVT_TIMER, PERIODIC | 0x41),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 1),
    TO_DEADLINE,
    ACK(0),
    MMIO_R(0, LAPIC_REG_TMCCT),
};

static const struct fz_apic_op tsc_deadline[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_LVT_TIMER, TSC_MODE | 0x42),
    TSC_DEADLINE(0, 0x400),
    MSR_R(0, MSR_IA32_TSC_DEADLINE),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 1),
    {.kind = FZ_APIC_TSC_OFFSET, .cpu = 0, .sub = 2, .value = 0x10},
    TSC_DEADLINE(0, 0x80),
    TO_DEADLINE,
    ACK(0),
    EOI(0, 1),
    MMIO_R(0, LAPIC_REG_TMCCT),
};

static const struct fz_apic_op x2apic_ipi[] = {
    BASE(0, 1),
    BASE(1, 1),
    MSR_W(0, X2(LAPIC_REG_SVR), SVR_ON),
    MSR_W(1, X2(LAPIC_REG_SVR), SVR_ON),
    IPI(0, 0x50, LAPIC_DM_FIXED, false, LAPIC_SH_NONE, 1),
    ACK(1),
    EOI(1, 2),
    MSR_W(1, X2(LAPIC_REG_SELF_IPI), 0x51),
    ACK(1),
    EOI(1, 2),
    IPI(1, 0x52, LAPIC_DM_FIXED, true, LAPIC_SH_NONE, 0x1),
    ACK(0),
    EOI(0, 2),
    IPI(0, 0x53, LAPIC_DM_LOWEST, false, LAPIC_SH_NONE, 1),
    MSR_W(0, X2(LAPIC_REG_ESR), 0),
    MSR_R(0, X2(LAPIC_REG_ESR)),
    IPI(0, 0x54, LAPIC_DM_FIXED, false, LAPIC_SH_ALL, 0),
    ACK(0),
    ACK(1),
    MSR_R(1, X2(LAPIC_REG_LDR)),
};

static const struct fz_apic_op xapic_lowest[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(1, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(2, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(3, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_LDR, 0x01000000),
    MMIO_W(1, LAPIC_REG_LDR, 0x02000000),
    MMIO_W(2, LAPIC_REG_LDR, 0x04000000),
    MMIO_W(3, LAPIC_REG_LDR, 0x08000000),
    MMIO_W(1, LAPIC_REG_TPR, 0x20),
    IPI(0, 0x60, LAPIC_DM_LOWEST, true, LAPIC_SH_NONE, 0x0F),
    ACK(0),
    ACK(2),
    ACK(3),
    EOI(0, 1),
    MSI(0x61, LAPIC_DM_FIXED, true, 0x06),
    ACK(1),
    ACK(2),
    EOI(1, 1),
    EOI(2, 1),
    IPI(3, 0x62, LAPIC_DM_FIXED, false, LAPIC_SH_ALL_BUT, 0),
    ACK(0),
    ACK(1),
    ACK(2),
    EOI(0, 1),
    EOI(1, 1),
    EOI(2, 1),
    MMIO_W(0, LAPIC_REG_DFR, 0x0FFFFFFF),
    MSI(0x63, LAPIC_DM_FIXED, true, 0x01),
    ACK(0),
};

static const struct fz_apic_op lint0_level[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_LVT_LINT0, LVL | 0x70),
    FIRE(0, LAPIC_LVT_LINT0),
    FIRE(0, LAPIC_LVT_LINT0),
    MMIO_R(0, LAPIC_REG_LVT_LINT0),
    ACK(0),
    EOI(0, 1),
    MMIO_R(0, LAPIC_REG_LVT_LINT0),
    FIRE(0, LAPIC_LVT_LINT0),
    ACK(0),
    EOI(0, 0),
    MMIO_W(0, LAPIC_REG_LVT_PMC, 0x71),
    FIRE(0, LAPIC_LVT_PMC),
    MMIO_R(0, LAPIC_REG_LVT_PMC),
    ACK(0),
    EOI(0, 1),
    MMIO_W(0, LAPIC_REG_LVT_LINT1, 0x400),
    FIRE(0, LAPIC_LVT_LINT1),
    EVENTS(0),
};

static const struct fz_apic_op snapshot_timer[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_LVT_TIMER, PERIODIC | 0x44),
    MMIO_W(0, LAPIC_REG_TMICT, 100),
    RTE(1, LVL | 0x45, 0),
    LINE(1, 1),
    SNAPSHOT,
    TO_DEADLINE,
    ACK(0),
    ACK(0),
    EOI(0, 1),
    EOI(0, 1),
    RESTORE,
    TO_DEADLINE,
    ACK(0),
    RESTORE,
    ACK(0),
    EOI(0, 0),
    SNAPSHOT,
};

static const struct fz_apic_op base_transitions[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    ACCEPT(0, 0x80, LAPIC_DM_FIXED, true, false),
    BASE(0, 2),
    MMIO_R(0, LAPIC_REG_ID),
    BASE(0, 1),
    BASE(0, 3),
    BASE(0, 0),
    MSR_R(0, MSR_IA32_APIC_BASE),
    BASE(0, 4),
    MMIO_R(0, LAPIC_REG_LVR),
    BASE(0, 1),
    MSR_R(0, X2(LAPIC_REG_ID)),
    BASE(0, 0),
    BASE(0, 5),
    BASE(0, 6),
    BASE(0, 8),
    BASE(0, 2),
    BASE(0, 0),
    MMIO_R(0, LAPIC_REG_SVR),
};

static const struct fz_apic_op ioapic_registers[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    IO_W(IOAPIC_IOREGSEL, IOAPIC_IDX_VER),
    IO_R(IOAPIC_IOWIN),
    IO_W(IOAPIC_IOREGSEL, IOAPIC_IDX_ID),
    IO_W(IOAPIC_IOWIN, 0x0F000000),
    IO_R(IOAPIC_IOWIN),
    RTE(119, MASK | 0x90, 0),
    LINE(119, 1),
    RTE(119, 0x90, 0),
    LINE(119, 0),
    LINE(119, 1),
    ACK(0),
    EOI(0, 1),
    RTE(5, LVL | 0x2000 | 0x91, 0),
    LINE(5, 1),
    ACK(0),
    IO_W(IOAPIC_EOI, 0x91),
    ACK(0),
    {.kind = FZ_APIC_IO_EOI, .value = 0x91},
    RTE(5, 0x91, 0),
    IO_R(IOAPIC_IOWIN),
};

static const struct fz_apic_op error_lvt[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    MMIO_W(0, LAPIC_REG_LVT_ERROR, 0xA0),
    IPI(0, 0x03, LAPIC_DM_FIXED, false, LAPIC_SH_SELF, 0),
    MMIO_W(0, LAPIC_REG_ESR, 0),
    MMIO_R(0, LAPIC_REG_ESR),
    ACK(0),
    EOI(0, 1),
    MMIO_R(0, 0x3D0),
    MMIO_W(0, LAPIC_REG_ESR, 0),
    MMIO_R(0, LAPIC_REG_ESR),
    ACCEPT(0, 0x05, LAPIC_DM_FIXED, true, false),
    ACK(0),
};

static const struct fz_apic_op event_modes[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    ACCEPT(0, 0, LAPIC_DM_NMI, true, false),
    ACCEPT(0, 0, LAPIC_DM_SMI, true, false),
    ACCEPT(0, 0, LAPIC_DM_INIT, true, false),
    ACCEPT(0, 0x9A, LAPIC_DM_STARTUP, true, false),
    ACCEPT(0, 0, LAPIC_DM_EXTINT, true, false),
    ACCEPT(0, 0x33, 3, true, false),
    EVENTS(0),
    IPI(1, 0x10, LAPIC_DM_INIT, false, LAPIC_SH_ALL_BUT, 0),
    IPI(1, 0x9B, LAPIC_DM_STARTUP, false, LAPIC_SH_NONE, 0),
    EVENTS(0),
    INIT(1),
};

static const struct fz_apic_op tpr_masking[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON),
    ACCEPT(0, 0x45, LAPIC_DM_FIXED, true, false),
    CR8(0, 5),
    ACK(0),
    MMIO_R(0, LAPIC_REG_PPR),
    CR8(0, 3),
    ACK(0),
    ACCEPT(0, 0x46, LAPIC_DM_FIXED, true, false),
    ACCEPT(0, 0x45, LAPIC_DM_FIXED, true, false),
    ACK(0),
    MMIO_R(0, LAPIC_REG_ISR + 0x20),
    EOI(0, 1),
    ACK(0),
    EOI(0, 1),
    EOI(0, 1),
    {.kind = FZ_APIC_VIRT, .cpu = 0, .sub = 1, .value = 0x77},
    ACK(0),
    {.kind = FZ_APIC_VIRT, .cpu = 0, .sub = 0, .value = 0x80},
    ACK(0),
    EOI(0, 1),
    CR8(0, 0),
    ACK(0),
};

static const struct fz_apic_op directed_eoi[] = {
    MMIO_W(0, LAPIC_REG_SVR, SVR_ON | LAPIC_SVR_SUPPRESS_EOI),
    RTE(7, LVL | 0xB1, 0),
    LINE(7, 1),
    ACK(0),
    EOI(0, 1),
    IO_W(IOAPIC_EOI, 0xB1),
    ACK(0),
    LINE(7, 0),
    EOI(0, 1),
    {.kind = FZ_APIC_IO_EOI, .value = 0xB1},
    MMIO_R(0, LAPIC_REG_SVR),
};

#define SEED(name_, cfg_, ops_, ...)                                  \
	{                                                             \
		.name = (name_), .config = (cfg_), .ops = (ops_),     \
		.n_ops = sizeof(ops_) / sizeof((ops_)[0]), .wants = { \
			__VA_ARGS__                                   \
		}                                                     \
	}

static const struct fz_apic_seed seeds[] = {
    SEED("level-ioapic-redelivered", CFG(1, 0), level_redeliver, .inta = 2, .eoi_bcast = 2,
         .io_msgs = 2),
    SEED("periodic-timer", CFG(1, 0), periodic_timer, .inta = 3, .timer_fires = 4),
    SEED("oneshot-divide-switch", CFG(1, 0), oneshot_divide, .inta = 2, .timer_fires = 2),
    SEED("tsc-deadline", CFG(1, 0), tsc_deadline, .inta = 2, .timer_fires = 2),
    SEED("x2apic-ipi", CFG(2, CFG_X2APIC), x2apic_ipi, .inta = 5, .ipis = 4),
    SEED("xapic-logical-lowest", CFG(4, 0), xapic_lowest, .inta = 7, .ipis = 2, .accepted = 7),
    SEED("lint0-level-remote-irr", CFG(1, 0), lint0_level, .inta = 3, .eoi_bcast = 2),
    SEED("snapshot-restore-timer", CFG(1, 0), snapshot_timer, .inta = 3, .timer_fires = 2,
         .restores = 2),
    SEED("apic-base-transitions", CFG(1, CFG_X2APIC), base_transitions, .accepted = 1),
    SEED("ioapic-registers-120", CFG(1, CFG_IO_11_120), ioapic_registers, .inta = 2, .io_msgs = 2),
    SEED("error-lvt", CFG(1, 0), error_lvt, .inta = 1),
    SEED("nmi-smi-init-sipi", CFG(2, 0), event_modes, .accepted = 5),
    SEED("tpr-masking", CFG(1, 0), tpr_masking, .inta = 4),
    SEED("directed-eoi", CFG(1, CFG_DIRECTED), directed_eoi, .inta = 2, .io_msgs = 2),
};

size_t fz_apic_seed_count(void)
{
	return sizeof(seeds) / sizeof(seeds[0]);
}

const struct fz_apic_seed *fz_apic_seed_at(size_t i)
{
	return i < fz_apic_seed_count() ? &seeds[i] : NULL;
}

size_t fz_apic_seed_bytes(const struct fz_apic_seed *seed, uint8_t *buf, size_t cap)
{
	struct fz_out o;

	fz_out_init(&o, buf, cap);
	fz_put(&o, seed->config, 2);
	for (size_t i = 0; i < seed->n_ops; i++)
		fz_apic_encode(&o, &seed->ops[i]);
	return o.overflow ? 0 : o.len;
}
