/* The interrupt system of fuzz_lapic_ioapic (fz_apic.h): LAPICs and an I/O APIC wired as a
 * platform wires them, a virtual clock that fires timers in deadline order, snapshots, and the
 * bookkeeping the cross-model invariants need. Pristine models are made once per configuration and
 * copied in for every input, so an input never pays for model creation. Not modelled: the 8259
 * (ExtINT events stay pending), INIT/SIPI processor state (events are only recorded). */
#include "fz_apic.h"
#include "harness.h"

#include "../models/lapic_int.h"

#include <stdarg.h>
#include <string.h>

#define LAPIC_KEYS   64 /* x2apic, directed EOI, CMCI, TSC deadline, sparse IDs, lowest IPI */
#define IOAPIC_KEYS  8  /* version x 4 pin counts */
#define MESSAGES_MAX 4096
#define FNV_OFFSET   UINT64_C(0xcbf29ce484222325)

static const uint32_t dense_ids[FZ_APIC_CPUS_MAX] = {0, 1, 2, 3};
static const uint32_t sparse_ids[FZ_APIC_CPUS_MAX] = {0, 0x11, 0x20, 0x101};
static const uint32_t pin_counts[4] = {24, 8, 1, 120};

/* Pristine models, made on first use of a configuration; process state of the harness, never
 * part of a model (the fuzzer runs one harness per process). */
static struct lapic *pristine_lapic[LAPIC_KEYS][FZ_APIC_CPUS_MAX];
static struct ioapic *pristine_io[IOAPIC_KEYS];

void fz_apic_config_from(uint16_t v, struct fz_apic_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_cpus = 1 + (v & 3);
	cfg->x2apic = v & 4;
	cfg->directed_eoi = v & 8;
	cfg->cmci = !(v & 16);
	cfg->tsc_deadline = !(v & 32);
	cfg->sparse_ids = (v & 64) && cfg->x2apic;
	cfg->lowest_ipi = !(v & 128);
	cfg->io_pins = pin_counts[(v >> 8) & 3];
	cfg->io_version = (v & 0x400) ? 0x11 : 0x20;
}

static unsigned lapic_key(const struct fz_apic_config *c)
{
	return (unsigned)c->x2apic | (unsigned)c->directed_eoi << 1 | (unsigned)c->cmci << 2 |
	       (unsigned)c->tsc_deadline << 3 | (unsigned)c->sparse_ids << 4 |
	       (unsigned)c->lowest_ipi << 5;
}

static unsigned io_key(const struct fz_apic_config *c)
{
	unsigned p = 0;

	while (p < 3 && pin_counts[p] != c->io_pins)
		p++;
	return p | (c->io_version == 0x11 ? 4u : 0u);
}

static void lapic_config_of(const struct fz_apic_config *c, unsigned i, struct lapic_config *lc)
{
	lapic_config_default(lc);
	lc->apic_id = (c->sparse_ids ? sparse_ids : dense_ids)[i];
	lc->bsp = i == 0;
	lc->max_lvt = c->cmci ? 6 : 5;
	lc->directed_eoi = c->directed_eoi;
	lc->x2apic = c->x2apic;
	lc->tsc_deadline = c->tsc_deadline;
	lc->lowest_priority_ipi = c->lowest_ipi;
}

static enum hvsim_status pristine(const struct fz_apic_config *c, struct lapic ***cpus,
                                  struct ioapic **io)
{
	struct lapic **set = pristine_lapic[lapic_key(c)];
	struct ioapic_config ic = {.pins = c->io_pins, .version = c->io_version, .id = 0};
	struct hvsim_error err;
	struct lapic_config lc;

	for (unsigned i = 0; i < FZ_APIC_CPUS_MAX; i++) {
		lapic_config_of(c, i, &lc);
		if (!set[i] && lapic_create(&lc, &set[i], &err) != HVSIM_OK)
			return err.status;
	}
	if (!pristine_io[io_key(c)] &&
	    ioapic_create(&ic, &pristine_io[io_key(c)], &err) != HVSIM_OK)
		return err.status;
	*cpus = set;
	*io = pristine_io[io_key(c)];
	return HVSIM_OK;
}

void fz_apic_destroy(struct fz_apic_sys *s, struct fz_apic_snap *snap)
{
	for (unsigned i = 0; i < FZ_APIC_CPUS_MAX; i++) {
		lapic_destroy(s->cpu[i]);
		lapic_destroy(snap->cpu[i]);
		lapic_destroy(s->checked[i]);
		s->cpu[i] = snap->cpu[i] = s->checked[i] = NULL;
	}
	ioapic_destroy(s->io);
	ioapic_destroy(snap->io);
	ioapic_destroy(s->io_checked);
	s->io = snap->io = s->io_checked = NULL;
}

/* Three models like one (the system's, the snapshot's, the last checked one); false when out of
 * memory. */
static bool make_lapics(const struct lapic *like, struct lapic **a, struct lapic **b,
                        struct lapic **c)
{
	const struct lapic_config *lc = lapic_get_config(like);
	struct hvsim_error err;

	return lapic_create(lc, a, &err) == HVSIM_OK && lapic_create(lc, b, &err) == HVSIM_OK &&
	       lapic_create(lc, c, &err) == HVSIM_OK;
}

static bool make_ioapics(const struct ioapic *like, struct ioapic **a, struct ioapic **b,
                         struct ioapic **c)
{
	const struct ioapic_config *ic = ioapic_get_config(like);
	struct hvsim_error err;

	return ioapic_create(ic, a, &err) == HVSIM_OK && ioapic_create(ic, b, &err) == HVSIM_OK &&
	       ioapic_create(ic, c, &err) == HVSIM_OK;
}

enum hvsim_status fz_apic_create(struct fz_apic_sys *s, struct fz_apic_snap *snap)
{
	struct fz_apic_config c;
	struct lapic **cpus;
	struct ioapic *io;
	enum hvsim_status st;

	memset(s, 0, sizeof(*s));
	memset(snap, 0, sizeof(*snap));
	fz_apic_config_from(0, &c);
	st = pristine(&c, &cpus, &io);
	for (unsigned i = 0; st == HVSIM_OK && i < FZ_APIC_CPUS_MAX; i++)
		if (!make_lapics(cpus[i], &s->cpu[i], &snap->cpu[i], &s->checked[i]))
			st = HVSIM_E_NOMEM;
	if (st == HVSIM_OK && !make_ioapics(io, &s->io, &snap->io, &s->io_checked))
		st = HVSIM_E_NOMEM;
	if (st != HVSIM_OK)
		fz_apic_destroy(s, snap);
	return st;
}

static void track_load(struct fz_apic_sys *s, unsigned i)
{
	struct fz_apic_track *t = &s->track[i];
	const uint32_t *regs = s->cpu[i]->regs; /* lapic_get_vectors, without three calls */

	memcpy(t->irr, &regs[SLOT(LAPIC_REG_IRR)], sizeof(t->irr));
	memcpy(t->isr, &regs[SLOT(LAPIC_REG_ISR)], sizeof(t->isr));
	memcpy(t->tmr, &regs[SLOT(LAPIC_REG_TMR)], sizeof(t->tmr));
}

/* Nothing is known checked: the next check of each model is a full one. */
static void forget_checked(struct fz_apic_sys *s)
{
	memset(s->checked_valid, 0, sizeof(s->checked_valid));
	s->io_checked_valid = false;
}

enum hvsim_status fz_apic_load(struct fz_apic_sys *s, struct fz_apic_snap *snap,
                               const struct fz_apic_config *cfg)
{
	struct lapic **cpus;
	struct ioapic *io;
	enum hvsim_status st = pristine(cfg, &cpus, &io);

	if (st != HVSIM_OK)
		return st;
	s->cfg = *cfg;
	for (unsigned i = 0; i < FZ_APIC_CPUS_MAX; i++) {
		lapic_copy(s->cpu[i], cpus[i]);
		memset(&s->track[i], 0, sizeof(s->track[i]));
		track_load(s, i);
	}
	ioapic_copy(s->io, io);
	s->now_ns = 0;
	s->hash = FNV_OFFSET;
	forget_checked(s);
	memset(&s->stats, 0, sizeof(s->stats));
	snap->taken = false;
	fz_apic_begin(s);
	return HVSIM_OK;
}

void fz_apic_snapshot(const struct fz_apic_sys *s, struct fz_apic_snap *snap)
{
	for (unsigned i = 0; i < s->cfg.n_cpus; i++)
		lapic_copy(snap->cpu[i], s->cpu[i]);
	ioapic_copy(snap->io, s->io);
	snap->now_ns = s->now_ns;
	memcpy(snap->track, s->track, sizeof(snap->track));
	snap->taken = true;
}

/* Back in time to the snapshot: the operation's "before" becomes the snapshot too, so the
 * tracking sees no IRR growth in the restore itself. */
void fz_apic_restore(struct fz_apic_sys *s, const struct fz_apic_snap *snap)
{
	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		lapic_copy(s->cpu[i], snap->cpu[i]);
		s->touched[i] = true;
	}
	ioapic_copy(s->io, snap->io);
	s->io_touched = true;
	s->now_ns = snap->now_ns;
	memcpy(s->track, snap->track, sizeof(s->track));
	memcpy(s->prev, snap->track, sizeof(s->prev));
	s->stats.restores++;
	forget_checked(s); /* the tracking went back too */
}

void fz_apic_begin(struct fz_apic_sys *s)
{
	memcpy(s->prev, s->track, sizeof(s->prev));
	memset(s->accepted, 0, sizeof(s->accepted));
	memset(s->touched, 0, sizeof(s->touched));
	s->io_touched = false;
	s->messages = 0;
	s->bad = NULL;
	s->why[0] = '\0';
}

bool fz_apic_bytes_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	size_t k = 0;

	for (; k + 8 <= n; k += 8) {
		uint64_t x, y;

		memcpy(&x, p + k, 8);
		memcpy(&y, q + k, 8);
		if (x != y)
			return false;
	}
	for (; k < n; k++)
		if (p[k] != q[k])
			return false;
	return true;
}

/* LAPIC i and the time are as they were when its state invariants last passed. */
static bool lapic_as_checked(const struct fz_apic_sys *s, unsigned i)
{
	return s->checked_valid[i] && s->checked_ns[i] == s->now_ns &&
	       fz_apic_bytes_equal(s->cpu[i], s->checked[i], lapic_state_size());
}

void fz_apic_end(struct fz_apic_sys *s)
{
	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		struct fz_apic_track *t = &s->track[i];
		const struct fz_apic_track *p = &s->prev[i];

		/* unchanged: IRR too, so the tracking stays as it is (reaccepted is within IRR) */
		if (s->touched[i] && lapic_as_checked(s, i))
			s->touched[i] = false;
		if (!s->touched[i])
			continue;
		track_load(s, i);
		for (unsigned w = 0; w < 8; w++) {
			uint32_t grown = s->accepted[i] ? t->irr[w] & ~p->irr[w] : 0;

			t->reaccepted[w] = (p->reaccepted[w] | grown) & t->irr[w];
		}
	}
	if (s->io_touched && s->io_checked_valid &&
	    fz_apic_bytes_equal(s->io, s->io_checked, ioapic_state_size()))
		s->io_touched = false;
}

void fz_apic_checked(struct fz_apic_sys *s)
{
	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		if (!s->touched[i])
			continue;
		lapic_copy(s->checked[i], s->cpu[i]);
		s->checked_ns[i] = s->now_ns;
		s->checked_valid[i] = true;
	}
	if (s->io_touched) {
		ioapic_copy(s->io_checked, s->io);
		s->io_checked_valid = true;
	}
}

void fz_apic_flag(struct fz_apic_sys *s, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (s->bad)
		return;
	s->bad = kind;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

void fz_apic_mix(struct fz_apic_sys *s, uint64_t v)
{
	fz_mix(&s->hash, v);
}

static void mix_lapic_result(struct fz_apic_sys *s, const struct lapic_result *r)
{
	fz_apic_mix(s, (uint64_t)r->gp | (uint64_t)r->timer_fired << 1 | (uint64_t)r->irr_set << 2 |
	                   (uint64_t)r->ipi << 3 | (uint64_t)r->events << 8 |
	                   (uint64_t)r->esr_errors << 16 | (uint64_t)(uint16_t)r->eoi_vector << 32 |
	                   (uint64_t)(uint16_t)r->eoi_broadcast << 48);
}

void fz_apic_after_lapic(struct fz_apic_sys *s, unsigned i, const struct lapic_result *res)
{
	s->touched[i] = true;
	mix_lapic_result(s, res);
	if (res->irr_set)
		s->accepted[i] = true;
	s->stats.timer_fires += res->timer_fired;
	if (res->ipi) {
		s->stats.ipis++;
		fz_apic_deliver(s, (int)i, &res->ipi_msg);
	}
	if (res->eoi_broadcast >= 0) { /* SDM 11.8.5: the EOI message goes to every I/O APIC */
		struct ioapic_result ir;

		s->stats.eoi_bcast++;
		ioapic_eoi(s->io, (uint8_t)res->eoi_broadcast, &ir);
		fz_apic_after_ioapic(s, &ir);
	}
}

void fz_apic_after_ioapic(struct fz_apic_sys *s, const struct ioapic_result *res)
{
	char why[FZ_APIC_WHY_MAX];

	s->io_touched = true;
	fz_apic_mix(s, res->n_msgs | (uint64_t)res->remote_irr_cleared << 32);
	s->stats.io_msgs += res->n_msgs;
	for (uint32_t k = 0; k < res->n_msgs; k++) {
		if (!fz_inv_apic_ioapic_msg(s->io, &res->msgs[k], why, sizeof(why)))
			fz_apic_flag(s, "ioapic_msg_from_unmasked", "%s", why);
		fz_apic_deliver(s, -1, &res->msgs[k].irq);
	}
}

void fz_apic_deliver(struct fz_apic_sys *s, int src, const struct lapic_irq *msg)
{
	struct lapic_dest_info info[FZ_APIC_CPUS_MAX] = {{0}};
	bool dest[FZ_APIC_CPUS_MAX];
	char why[FZ_APIC_WHY_MAX];
	unsigned n = s->cfg.n_cpus, count;

	if (++s->messages > MESSAGES_MAX)
		return;
	for (unsigned i = 0; i < n; i++)
		lapic_dest_info(s->cpu[i], &info[i]);
	count = lapic_route(info, n, src, msg, dest);
	if (!fz_inv_apic_route(info, n, src, msg, dest, count, why, sizeof(why)))
		fz_apic_flag(s, "route_sane", "%s", why);
	fz_apic_mix(s, count);
	for (unsigned i = 0; i < n; i++) {
		struct lapic_result r;

		if (!dest[i])
			continue;
		if (lapic_accept(s->cpu[i], msg, &r))
			s->stats.accepted++;
		fz_apic_mix(s, r.irr_set);
		fz_apic_after_lapic(s, i, &r);
	}
}

bool fz_apic_next_deadline(const struct fz_apic_sys *s, uint64_t *ns)
{
	bool any = false;

	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		uint64_t d;

		if (lapic_timer_deadline(s->cpu[i], &d) && (!any || d < *ns)) {
			*ns = d;
			any = true;
		}
	}
	return any;
}

/* The owner's timer event for cpu i fired at now: expire it and check what it did. */
static void expire(struct fz_apic_sys *s, unsigned i)
{
	struct lapic *l = s->cpu[i];
	uint64_t tsc_deadline = l->timer.tsc_deadline;
	bool tsc_mode = lapic_timer_mode_of(l) == LAPIC_TIMER_TSC_DEADLINE;
	char why[FZ_APIC_WHY_MAX];
	struct lapic_result r;

	lapic_timer_expire(l, s->now_ns, &r);
	if (r.timer_fired && tsc_mode &&
	    !fz_inv_apic_tsc_deadline_fire(l, tsc_deadline, s->now_ns, why, sizeof(why)))
		fz_apic_flag(s, "tsc_deadline_not_early", "cpu %u: %s", i, why);
	fz_apic_after_lapic(s, i, &r);
}

/* Fires the earliest deadline at or before target; false when none is due. */
static bool expire_next(struct fz_apic_sys *s, uint64_t target)
{
	uint64_t d, best = 0;
	int who = -1;

	for (unsigned i = 0; i < s->cfg.n_cpus; i++)
		if (lapic_timer_deadline(s->cpu[i], &d) && d <= target && (who < 0 || d < best)) {
			best = d;
			who = (int)i;
		}
	if (who < 0)
		return false;
	if (best > s->now_ns)
		s->now_ns = best;
	expire(s, (unsigned)who);
	return true;
}

void fz_apic_advance(struct fz_apic_sys *s, uint64_t delta_ns)
{
	uint64_t target =
	    delta_ns > FZ_APIC_NS_MAX - s->now_ns ? FZ_APIC_NS_MAX : s->now_ns + delta_ns;

	for (unsigned k = 0; k < FZ_APIC_EXPIRE_MAX; k++)
		if (!expire_next(s, target))
			break;
	/* Budget spent: whatever is still due expires once at the target (periodic timers collapse
	 * their missed periods into one interrupt, as they would for a late owner). */
	s->now_ns = target;
	for (unsigned i = 0; i < s->cfg.n_cpus; i++) {
		uint64_t d;

		if (lapic_timer_deadline(s->cpu[i], &d) && d <= target)
			expire(s, i);
		s->touched[i] = true;
	}
	fz_apic_mix(s, s->now_ns);
}
