/* Verifies the fuzz_lapic_ioapic machinery (fuzz/fz_apic*.c): every named cross-model invariant
 * holds on a sane system and fails on a state built to break exactly its rule; the decoder and
 * encoder agree for every operation kind; each hand-made seed runs without a finding, reaches the
 * state its name promises and is deterministic; the export maps expressible inputs to scenarios
 * the real loader accepts and names the first operation that has no form; after an operation
 * the checks skip exactly the models whose bytes (and time) are those their checks last passed on.
 */
#include <criterion/criterion.h>

#include "../fuzz/fz_apic_seeds.h"
#include "../models/ioapic_int.h"
#include "../models/lapic_int.h"
#include <hvsim/vm.h>

#include <stdlib.h>
#include <string.h>

#define WHY 512

struct fx {
	struct fz_apic_sys s;
	struct fz_apic_snap snap;
	char why[WHY];
};

static void fx_init(struct fx *x, uint16_t config)
{
	struct fz_apic_config cfg;

	fz_apic_config_from(config, &cfg);
	cr_assert_eq(fz_apic_create(&x->s, &x->snap), HVSIM_OK, "fz_apic_create");
	cr_assert_eq(fz_apic_load(&x->s, &x->snap, &cfg), HVSIM_OK, "fz_apic_load");
}

static void fx_fini(struct fx *x)
{
	fz_apic_destroy(&x->s, &x->snap);
}

/* Runs one operation the way fz_apic_run does. */
static void fx_op(struct fx *x, struct fz_apic_op op)
{
	fz_apic_resolve(&x->s, &op);
	fz_apic_begin(&x->s);
	fz_apic_execute(&x->s, &x->snap, &op);
	fz_apic_end(&x->s);
}

static void set_bit(uint32_t *w, unsigned v)
{
	w[v >> 5] |= 1u << (v & 31);
}

static struct lapic *cpu0(struct fx *x)
{
	return x->s.cpu[0];
}

static void enable(struct fx *x, unsigned cpu)
{
	fx_op(x, (struct fz_apic_op){.kind = FZ_APIC_MMIO_WRITE,
	                             .cpu = (uint8_t)cpu,
	                             .reg = LAPIC_REG_SVR,
	                             .size = 4,
	                             .value = 0x1FF});
}

/* ---- Invariants: hold on sane state, fail on broken state ---- */

Test(fuzz_apic, ppr_consistent_detects_a_stale_ppr)
{
	struct fx x;

	fx_init(&x, 0);
	cr_assert(fz_inv_apic_ppr(cpu0(&x), 0, x.why, WHY), "reset state: %s", x.why);
	set_bit(&cpu0(&x)->regs[SLOT(LAPIC_REG_ISR)], 0x51); /* ISR without the PPR update */
	cr_assert(!fz_inv_apic_ppr(cpu0(&x), 0, x.why, WHY),
	          "ISR 0x51 with PPR 0: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, isr_one_per_class_allows_nesting_and_rejects_one_class_twice)
{
	struct fx x;
	uint32_t *isr;

	fx_init(&x, 0);
	isr = &cpu0(&x)->regs[SLOT(LAPIC_REG_ISR)];
	set_bit(isr, 0x31);
	set_bit(isr, 0x41);
	cr_assert(fz_inv_apic_isr_one_per_class(cpu0(&x), x.why, WHY),
	          "0x31 under 0x41 (nested, SDM 11.8.3.1): %s", x.why);
	set_bit(isr, 0x3F);
	cr_assert(!fz_inv_apic_isr_one_per_class(cpu0(&x), x.why, WHY),
	          "0x31 and 0x3F in ISR (one class): wanted a violation");
	fx_fini(&x);
}

/* SDM 11.8.4: the IRR and the ISR may hold the same vector, one interrupt each, only after a
 * second acceptance; INTA clears the IRR bit. */
Test(fuzz_apic, irr_isr_same_vector_allowed_only_after_reacceptance)
{
	struct fx x;
	struct lapic *l;

	fx_init(&x, 0);
	enable(&x, 0);
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACCEPT, .irq = {.vector = 0x61, .level = 1}});
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACK});
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACCEPT, .irq = {.vector = 0x61, .level = 1}});
	l = cpu0(&x);
	cr_assert(fz_inv_apic_irr_isr(l, &x.s.track[0], x.why, WHY),
	          "0x61 in ISR and re-accepted into IRR: %s", x.why);
	memset(x.s.track[0].reaccepted, 0, sizeof(x.s.track[0].reaccepted));
	cr_assert(!fz_inv_apic_irr_isr(l, &x.s.track[0], x.why, WHY),
	          "0x61 in IRR and ISR with no acceptance after its INTA: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, irr_only_by_acceptance_detects_a_spurious_irr_bit)
{
	struct fx x;

	fx_init(&x, 0);
	set_bit(&cpu0(&x)->regs[SLOT(LAPIC_REG_IRR)], 0x70);
	cr_assert(fz_inv_apic_irr_growth(cpu0(&x), &x.s.track[0], true, x.why, WHY),
	          "growth with an acceptance: %s", x.why);
	cr_assert(!fz_inv_apic_irr_growth(cpu0(&x), &x.s.track[0], false, x.why, WHY),
	          "IRR 0x70 appeared with nothing accepted: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, inta_dispenses_highest_checks_value_and_registers)
{
	struct fx x;
	struct fz_apic_track before;
	int v;

	fx_init(&x, 0);
	enable(&x, 0);
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACCEPT, .irq = {.vector = 0x45, .level = 1}});
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACCEPT, .irq = {.vector = 0x92, .level = 1}});
	before = x.s.track[0];
	v = lapic_ack(cpu0(&x));
	cr_assert(fz_inv_apic_inta(cpu0(&x), &before, 0xFF, v, x.why, WHY), "INTA %d: %s", v,
	          x.why);
	cr_assert(!fz_inv_apic_inta(cpu0(&x), &before, 0xFF, 0x45, x.why, WHY),
	          "INTA claimed 0x45 while 0x92 was highest: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, eoi_clears_highest_isr_checks_the_broadcast)
{
	struct fx x;
	struct fz_apic_track before;
	struct lapic_result r;

	fx_init(&x, 0);
	enable(&x, 0);
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACCEPT,
	                              .irq = {.vector = 0x55, .level = 1, .trigger_level = 1}});
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_ACK});
	before = x.s.track[0];
	lapic_eoi(cpu0(&x), &r);
	cr_assert(fz_inv_apic_eoi(cpu0(&x), &before, &r, x.why, WHY), "level EOI: %s", x.why);
	r.eoi_broadcast = -1;
	cr_assert(!fz_inv_apic_eoi(cpu0(&x), &before, &r, x.why, WHY),
	          "level EOI without broadcast (SDM 11.8.5): wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, tmcct_le_tmict_detects_a_count_above_the_initial_count)
{
	struct fx x;
	struct lapic *l;

	fx_init(&x, 0);
	enable(&x, 0);
	fx_op(&x, (struct fz_apic_op){
	              .kind = FZ_APIC_MMIO_WRITE, .reg = LAPIC_REG_TMICT, .size = 4, .value = 100});
	l = cpu0(&x);
	cr_assert(fz_inv_apic_tmcct(l, 10, x.why, WHY), "running count: %s", x.why);
	l->timer.base_count = 500; /* corrupt: the count starts above TMICT */
	cr_assert(!fz_inv_apic_tmcct(l, 0, x.why, WHY),
	          "TMCCT 500 > TMICT 100: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, timer_deadline_ahead_detects_an_overdue_expiry)
{
	struct fx x;
	uint64_t d;

	fx_init(&x, 0);
	enable(&x, 0);
	fx_op(&x, (struct fz_apic_op){
	              .kind = FZ_APIC_MMIO_WRITE, .reg = LAPIC_REG_TMICT, .size = 4, .value = 100});
	cr_assert(lapic_timer_deadline(cpu0(&x), &d), "timer armed");
	cr_assert(fz_inv_apic_deadline_ahead(cpu0(&x), d - 1, x.why, WHY), "before: %s", x.why);
	cr_assert(!fz_inv_apic_deadline_ahead(cpu0(&x), d, x.why, WHY),
	          "at the deadline %llu and not expired: wanted a violation",
	          (unsigned long long)d);
	fx_fini(&x);
}

Test(fuzz_apic, tsc_deadline_not_early_compares_with_the_guest_tsc)
{
	struct fx x;
	uint64_t tsc;

	fx_init(&x, 0);
	tsc = lapic_guest_tsc(cpu0(&x), 1000);
	cr_assert(fz_inv_apic_tsc_deadline_fire(cpu0(&x), tsc, 1000, x.why, WHY), "at: %s", x.why);
	cr_assert(!fz_inv_apic_tsc_deadline_fire(cpu0(&x), tsc + 1, 1000, x.why, WHY),
	          "fired one tick early: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, remote_irr_level_detects_remote_irr_on_an_edge_entry)
{
	struct fx x;

	fx_init(&x, 0);
	cr_assert(fz_inv_apic_remote_irr(x.s.io, x.why, WHY), "reset: %s", x.why);
	x.s.io->redtbl[2] = 0x30 | IOAPIC_RTE_REMOTE_IRR;
	cr_assert(!fz_inv_apic_remote_irr(x.s.io, x.why, WHY),
	          "remote IRR on edge pin 2: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, ioapic_msg_from_unmasked_detects_a_masked_sender)
{
	struct fx x;
	struct ioapic_msg m = {.pin = 4, .irq = {.vector = 0x34, .level = true}};

	fx_init(&x, 0);
	x.s.io->redtbl[4] = 0x34;
	cr_assert(fz_inv_apic_ioapic_msg(x.s.io, &m, x.why, WHY), "unmasked edge: %s", x.why);
	x.s.io->redtbl[4] |= IOAPIC_RTE_MASKED;
	cr_assert(!fz_inv_apic_ioapic_msg(x.s.io, &m, x.why, WHY),
	          "message from masked pin 4: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, route_sane_rejects_disabled_targets_and_two_lowest_priority_targets)
{
	struct lapic_dest_info cpus[2] = {{.mode = LAPIC_MODE_XAPIC},
	                                  {.mode = LAPIC_MODE_DISABLED}};
	struct lapic_irq fixed = {.vector = 0x40}, lowest = {.vector = 0x40, .delivery_mode = 1};
	bool both[2] = {true, true}, first[2] = {true, false};
	char why[WHY];

	cr_assert(fz_inv_apic_route(cpus, 2, -1, &fixed, first, 1, why, WHY), "one: %s", why);
	cr_assert(!fz_inv_apic_route(cpus, 2, -1, &fixed, both, 2, why, WHY),
	          "disabled APIC 1 in the set: wanted a violation");
	cpus[1].mode = LAPIC_MODE_XAPIC;
	cr_assert(!fz_inv_apic_route(cpus, 2, -1, &lowest, both, 2, why, WHY),
	          "lowest priority to two APICs: wanted a violation");
}

Test(fuzz_apic, counter_width_checks_reads_against_their_size)
{
	struct fx x;

	fx_init(&x, 0);
	cr_assert(fz_inv_apic_read_width(cpu0(&x), 0, 2, 0xFFFF, x.why, WHY), "2 bytes: %s", x.why);
	cr_assert(!fz_inv_apic_read_width(cpu0(&x), 0, 2, 0x10000, x.why, WHY),
	          "2-byte read of 0x10000: wanted a violation");
	cr_assert(!fz_inv_apic_read_width(cpu0(&x), 0x808, 8, UINT64_C(1) << 32, x.why, WHY),
	          "TPR MSR with bit 32: wanted a violation");
	cr_assert(fz_inv_apic_read_width(cpu0(&x), 0x830, 8, UINT64_C(1) << 40, x.why, WHY),
	          "ICR is 64 bits: %s", x.why);
	cr_assert(!fz_inv_apic_read_width(cpu0(&x), MSR_IA32_APIC_BASE, 8, 1u << 9, x.why, WHY),
	          "IA32_APIC_BASE bit 9: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, ioapic_read_width_checks_the_version_register)
{
	struct fx x;

	fx_init(&x, 0);
	x.s.io->ioregsel = IOAPIC_IDX_VER;
	cr_assert(fz_inv_apic_ioapic_read(x.s.io, IOAPIC_IOWIN, 4, 0x170020, x.why, WHY),
	          "24 pins, version 0x20: %s", x.why);
	cr_assert(!fz_inv_apic_ioapic_read(x.s.io, IOAPIC_IOWIN, 4, 0x180020, x.why, WHY),
	          "version register claiming 25 pins: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, snapshot_equal_detects_any_difference)
{
	struct fx x;

	fx_init(&x, 0);
	enable(&x, 0);
	fz_apic_snapshot(&x.s, &x.snap);
	cr_assert(fz_inv_apic_lapic_same(cpu0(&x), x.snap.cpu[0], 0, x.why, WHY), "copy: %s",
	          x.why);
	cr_assert(fz_inv_apic_ioapic_same(x.s.io, x.snap.io, x.why, WHY), "copy: %s", x.why);
	cpu0(&x)->tsc_offset = 1;
	cr_assert(!fz_inv_apic_lapic_same(cpu0(&x), x.snap.cpu[0], 0, x.why, WHY),
	          "TSC offset differs: wanted a violation");
	x.s.io->ioregsel = 3;
	cr_assert(!fz_inv_apic_ioapic_same(x.s.io, x.snap.io, x.why, WHY),
	          "IOREGSEL differs: wanted a violation");
	fx_fini(&x);
}

Test(fuzz_apic, bytes_equal_sees_a_difference_in_any_byte)
{
	uint8_t a[21] = {0}, b[21] = {0};

	cr_assert(fz_apic_bytes_equal(a, b, sizeof(a)), "equal buffers: wanted equal");
	for (size_t k = 0; k < sizeof(a); k++) {
		b[k] = 0x80;
		cr_assert(!fz_apic_bytes_equal(a, b, sizeof(a)),
		          "byte %zu of %zu differs: wanted "
		          "not equal",
		          k, sizeof(a));
		b[k] = 0;
	}
}

/* ---- Checked models: only a model whose state moved since its last check is checked again ---- */

static const struct fz_apic_op read_tpr = {
    .kind = FZ_APIC_MMIO_READ, .cpu = 0, .reg = LAPIC_REG_TPR, .size = 4};
static const struct fz_apic_op read_io = {.kind = FZ_APIC_IO_READ, .reg = IOAPIC_IOWIN, .size = 4};

Test(fuzz_apic, end_skips_a_model_unchanged_since_its_last_check)
{
	struct fx x;

	fx_init(&x, 0);
	enable(&x, 0);
	fz_apic_checked(&x.s);
	fx_op(&x, read_io);
	fz_apic_checked(&x.s);
	fx_op(&x, read_tpr);
	cr_assert(!x.s.touched[0], "TPR read changed nothing: wanted cpu 0 not to be checked");
	fx_op(&x, read_io);
	cr_assert(!x.s.io_touched, "IOWIN read changed nothing: wanted the I/O APIC unchecked");
	fx_fini(&x);
}

Test(fuzz_apic, end_checks_a_model_changed_since_its_last_check)
{
	struct fx x;
	const char *kind = NULL;

	fx_init(&x, 0);
	enable(&x, 0);
	fz_apic_checked(&x.s);
	fz_apic_begin(&x.s);
	fz_apic_execute(&x.s, &x.snap, &read_tpr);
	cpu0(&x)->regs[SLOT(LAPIC_REG_EOI)] = 1; /* a bug of the read: a write-only register set */
	fz_apic_end(&x.s);
	cr_assert(x.s.touched[0], "cpu 0 changed: wanted it checked");
	cr_assert(!fz_apic_check_state(&x.s, &kind, x.why, WHY),
	          "EOI register holding 1 after a read: wanted a violation");
	cr_assert_str_eq(kind, "lapic_invariants", "kind %s, wanted lapic_invariants", kind);
	fx_fini(&x);
}

Test(fuzz_apic, end_checks_again_once_time_moved_or_after_a_restore)
{
	struct fx x;

	fx_init(&x, 0);
	enable(&x, 0);
	fz_apic_snapshot(&x.s, &x.snap);
	fz_apic_checked(&x.s);
	x.s.now_ns++; /* as time passing without an advance operation would */
	fx_op(&x, read_tpr);
	cr_assert(x.s.touched[0], "time moved since the check: wanted cpu 0 checked");
	x.s.now_ns--;
	fx_op(&x, (struct fz_apic_op){.kind = FZ_APIC_RESTORE});
	fx_op(&x, read_tpr);
	cr_assert(x.s.touched[0], "after a restore: wanted cpu 0 checked");
	fx_fini(&x);
}

/* ---- Decoder and encoder ---- */

static struct fz_apic_op sample_op(uint8_t kind)
{
	struct fz_apic_op op = {.kind = kind, .cpu = 1, .reg = 0x300, .size = 4, .value = 0x4050};

	switch (kind) {
	case FZ_APIC_MSR_READ:
	case FZ_APIC_MSR_WRITE: op.reg = 0x838; break;
	case FZ_APIC_BASE:
		op.sub = 7;
		op.value = 0xFEE00900;
		break;
	case FZ_APIC_IO_READ:
	case FZ_APIC_IO_WRITE: op.reg = IOAPIC_IOWIN; break;
	case FZ_APIC_IO_RTE:
		op.reg = 9;
		op.hi = UINT64_C(3) << 24;
		break;
	case FZ_APIC_IO_LINE:
		op.reg = 9;
		op.sub = 3;
		break;
	case FZ_APIC_LVT_FIRE: op.reg = LAPIC_LVT_LINT0; break;
	case FZ_APIC_EOI:
	case FZ_APIC_INIT:
	case FZ_APIC_VIRT:
		op.sub = 1;
		op.value = 0x50;
		break;
	case FZ_APIC_CR8:
	case FZ_APIC_EVENTS:
	case FZ_APIC_IO_EOI: op.value = 0x50; break;
	default: break;
	}
	op.irq = (struct lapic_irq){.vector = 0x66,
	                            .delivery_mode = 1,
	                            .level = true,
	                            .dest_logical = true,
	                            .dest = 0x1234};
	return op;
}

Test(fuzz_apic, decoder_reads_back_what_the_encoder_wrote)
{
	for (uint8_t k = 0; k < FZ_APIC_OP_COUNT; k++) {
		struct fz_apic_op want = sample_op(k), got;
		uint8_t b[64];
		struct fz_out o;
		struct fz_in in;

		if (k == FZ_APIC_SNAPSHOT || k == FZ_APIC_RESTORE || k == FZ_APIC_ADVANCE ||
		    k == FZ_APIC_MSI || k == FZ_APIC_IO_READ || k == FZ_APIC_IO_LINE ||
		    k == FZ_APIC_IO_RTE || k == FZ_APIC_IO_WRITE || k == FZ_APIC_IO_EOI)
			want.cpu = 0; /* system operations name no LAPIC */
		fz_out_init(&o, b, sizeof(b));
		fz_apic_encode(&o, &want);
		cr_assert(!o.overflow, "%s: encoding overflowed", fz_apic_op_name(k));
		fz_init(&in, b, o.len);
		fz_apic_decode(&in, 4, &got);
		cr_assert(got.kind == want.kind && got.cpu == want.cpu,
		          "%s: kind/cpu %u/%u, wanted %u/%u", fz_apic_op_name(k), got.kind, got.cpu,
		          want.kind, want.cpu);
		cr_assert_eq(fz_left(&in), 0, "%s: %zu bytes left over", fz_apic_op_name(k),
		             fz_left(&in));
		cr_assert(got.reg == want.reg || !got.reg, "%s: reg %#x, wanted %#x",
		          fz_apic_op_name(k), got.reg, want.reg);
	}
}

/* ---- Seeds ---- */

static bool reaches(const struct fz_apic_stats *got, const struct fz_apic_stats *want)
{
	return got->inta >= want->inta && got->eoi_bcast >= want->eoi_bcast &&
	       got->io_msgs >= want->io_msgs && got->ipis >= want->ipis &&
	       got->timer_fires >= want->timer_fires && got->accepted >= want->accepted &&
	       got->restores >= want->restores;
}

Test(fuzz_apic, every_seed_reaches_its_state_without_a_finding)
{
	struct fx x;
	uint8_t b[4096];

	fx_init(&x, 0);
	for (size_t i = 0; i < fz_apic_seed_count(); i++) {
		const struct fz_apic_seed *sd = fz_apic_seed_at(i);
		size_t n = fz_apic_seed_bytes(sd, b, sizeof(b));
		const struct fz_apic_stats *st = &x.s.stats;
		struct fz_apic_outcome o;

		cr_assert(n > 0, "%s: does not encode", sd->name);
		fz_apic_run(&x.s, &x.snap, b, n, &o, NULL);
		cr_assert(!o.kind, "%s: finding %s: %s", sd->name, o.kind, o.why);
		cr_assert_eq(o.ops, sd->n_ops, "%s: ran %u of %zu operations", sd->name, o.ops,
		             sd->n_ops);
		cr_assert(reaches(st, &sd->wants),
		          "%s: got inta %u eoi_bcast %u io_msgs %u ipis %u fires %u accepted %u "
		          "restores %u, wanted at least %u %u %u %u %u %u %u",
		          sd->name, st->inta, st->eoi_bcast, st->io_msgs, st->ipis, st->timer_fires,
		          st->accepted, st->restores, sd->wants.inta, sd->wants.eoi_bcast,
		          sd->wants.io_msgs, sd->wants.ipis, sd->wants.timer_fires,
		          sd->wants.accepted, sd->wants.restores);
	}
	fx_fini(&x);
}

Test(fuzz_apic, a_run_is_deterministic)
{
	struct fx x;
	uint8_t b[4096];

	fx_init(&x, 0);
	for (size_t i = 0; i < fz_apic_seed_count(); i++) {
		const struct fz_apic_seed *sd = fz_apic_seed_at(i);
		size_t n = fz_apic_seed_bytes(sd, b, sizeof(b));
		struct fz_apic_outcome a, c;

		fz_apic_run(&x.s, &x.snap, b, n, &a, NULL);
		fz_apic_run(&x.s, &x.snap, b, n, &c, NULL);
		cr_assert_eq(a.hash, c.hash, "%s: hash %016llx then %016llx", sd->name,
		             (unsigned long long)a.hash, (unsigned long long)c.hash);
	}
	fx_fini(&x);
}

/* ---- Export ---- */

static char *export_text(struct fx *x, const struct fz_apic_op *ops, size_t n,
                         struct fz_apic_export *e)
{
	uint8_t b[512];
	struct fz_out o;
	struct fz_apic_outcome out;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fz_out_init(&o, b, sizeof(b));
	fz_put(&o, 0, 2);
	for (size_t i = 0; i < n; i++)
		fz_apic_encode(&o, &ops[i]);
	memset(e, 0, sizeof(*e));
	e->scn = fz_scn_create("fuzz_lapic_ioapic", 1);
	cr_assert(e->scn && f, "out of memory");
	fz_apic_run(&x->s, &x->snap, b, o.len, &out, e);
	fz_apic_export_machine(e, &x->s);
	cr_assert_eq(fz_scn_write(e->scn, f), 0, "fz_scn_write");
	fclose(f);
	fz_scn_destroy(e->scn);
	return text;
}

Test(fuzz_apic, export_writes_a_scenario_the_loader_accepts)
{
	static const struct fz_apic_op ops[] = {
	    {.kind = FZ_APIC_MMIO_WRITE, .reg = LAPIC_REG_SVR, .size = 4, .value = 0x1FF},
	    {.kind = FZ_APIC_IO_RTE, .reg = 3, .value = 0x8031},
	    {.kind = FZ_APIC_IO_LINE, .reg = 3, .sub = 3},
	    {.kind = FZ_APIC_ADVANCE, .value = 1500},
	    {.kind = FZ_APIC_EOI, .sub = 1},
	    {.kind = FZ_APIC_MSR_WRITE, .reg = 0x1B, .value = 0xFEE00D00},
	    {.kind = FZ_APIC_IPI, .irq = {.vector = 0x40, .level = true, .shorthand = 1}},
	};
	struct fz_apic_export e;
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	struct fx x;
	char *text;

	fx_init(&x, 0);
	text = export_text(&x, ops, sizeof(ops) / sizeof(ops[0]), &e);
	cr_assert(!e.no_form, "every operation has a form, got none at %u (%s)", e.no_form_at,
	          e.no_form);
	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "loader: %s\n%s", err.msg, text);
	cr_assert_eq(sc->machine.vcpus, 1, "one vCPU");
	cr_assert_eq(sc->n_events, 1, "one irq_line event, got %zu", sc->n_events);
	hvsim_scenario_free(sc);
	free(text);
	fx_fini(&x);
}

Test(fuzz_apic, export_names_the_first_operation_without_a_form)
{
	static const struct fz_apic_op ops[] = {
	    {.kind = FZ_APIC_MMIO_WRITE, .reg = LAPIC_REG_SVR, .size = 4, .value = 0x1FF},
	    {.kind = FZ_APIC_ACK},
	    {.kind = FZ_APIC_SNAPSHOT},
	};
	struct fz_apic_export e;
	struct fx x;

	fx_init(&x, 0);
	free(export_text(&x, ops, sizeof(ops) / sizeof(ops[0]), &e));
	cr_assert(e.no_form && strcmp(e.no_form, "ack") == 0 && e.no_form_at == 1,
	          "wanted operation 1 (ack), got %u (%s)", e.no_form_at,
	          e.no_form ? e.no_form : "none");
	fx_fini(&x);
}

/* docs/fuzzing.md, fuzz_lapic_ioapic "Export": an exported scenario runs on the kvm algorithm,
 * whose LAPIC and I/O APIC are the models the harness fuzzed, with oracles.invariants on; a
 * level interrupt through the I/O APIC, its EOI and a self-IPI run to the end with no finding */
Test(fuzz_apic, exported_scenario_runs_on_the_kvm_algorithm_with_the_invariants)
{
	static const struct fz_apic_op ops[] = {
	    {.kind = FZ_APIC_MMIO_WRITE, .reg = LAPIC_REG_SVR, .size = 4, .value = 0x1FF},
	    {.kind = FZ_APIC_IO_RTE, .reg = 3, .value = 0x8031},
	    {.kind = FZ_APIC_IO_LINE, .reg = 3, .sub = 3},
	    {.kind = FZ_APIC_ADVANCE, .value = 1500},
	    {.kind = FZ_APIC_MSR_WRITE, .reg = 0x1B, .value = 0xFEE00D00},
	    {.kind = FZ_APIC_IPI, .irq = {.vector = 0x40, .shorthand = 1}},
	    {.kind = FZ_APIC_ADVANCE, .value = 1000},
	};
	struct fz_apic_export e;
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	struct hvsim_vm_opts opts = {0};
	const struct hvsim_summary *sum;
	hvsim_vm *vm;
	struct fx x;
	char *text;

	fx_init(&x, 0);
	text = export_text(&x, ops, sizeof(ops) / sizeof(ops[0]), &e);
	cr_assert(!e.no_form, "no form at %u (%s)", e.no_form_at, e.no_form ? e.no_form : "");
	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), NULL, &sc, &err), HVSIM_OK,
	             "loader: %s", err.msg);
	cr_assert(sc->oracles.invariants, "the export enables oracles.invariants");
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	cr_assert(vm, "VM creation: %s\n%s", err.msg, text);
	for (int i = 0; i < 10000 && hvsim_vm_step(vm, 64) == HVSIM_VM_RUNNING; i++)
		;
	cr_assert_eq(hvsim_vm_finish(vm), HVSIM_OK, "finish");
	sum = hvsim_vm_summary(vm);
	cr_assert_eq(sum->n_findings, 0, "no finding, got %s: %s",
	             sum->n_findings ? sum->findings[0].kind : "",
	             sum->n_findings ? sum->findings[0].detail : "");
	cr_assert_gt(sum->exits, 5, "the guest's accesses exit to kvm (%llu exits)",
	             (unsigned long long)sum->exits);
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(sc);
	free(text);
	fx_fini(&x);
}
