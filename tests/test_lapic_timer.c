/* Verifies the local APIC timer against virtual time: the eight TDCR divide encodings, TMCCT as a
 * function of time, one-shot and periodic expiry and re-arming, TMICT restart and stop, divider
 * changes mid-count, mode switches (one-shot <-> periodic keep counting, into/out of TSC-deadline
 * disarm), masked timers counting on, TSC-deadline arming/firing/disarming through MSR 0x6E0 with
 * the TSC frequency and offset, the APIC bus frequency, and the owner protocol (deadline query,
 * early and late expire calls). Time is passed explicitly; the default bus is 1 GHz, so with
 * TDCR = 0xB (divide by 1) one tick is one ns. Each test builds its own LAPIC. */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

#define VEC      0x40u
#define ONESHOT  VEC
#define PERIODIC (VEC | 1u << 17)
#define DEADLINE (VEC | 2u << 17)
#define DIV1     0xBu

static struct lapic *mk_cfg(const struct lapic_config *cfg)
{
	struct lapic *l = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(lapic_create(cfg, &l, &err), HVSIM_OK, "lapic_create: %s", err.msg);
	return l;
}

static uint32_t rd_at(struct lapic *l, uint32_t off, uint64_t t)
{
	uint64_t v;

	lapic_mmio_read(l, off, 4, &v, t, NULL);
	return (uint32_t)v;
}

static void wr_at(struct lapic *l, uint32_t off, uint32_t v, uint64_t t)
{
	lapic_mmio_write(l, off, 4, v, t, NULL);
}

/* Software-enabled APIC with LVT Timer = lvtt and the divider set to tdcr. */
static struct lapic *mk_timer(const struct lapic_config *cfg, uint32_t lvtt, uint32_t tdcr)
{
	struct lapic_config def;
	struct lapic *l;

	lapic_config_default(&def);
	l = mk_cfg(cfg ? cfg : &def);
	wr_at(l, LAPIC_REG_SVR, 0x1FF, 0);
	wr_at(l, LAPIC_REG_LVT_TIMER, lvtt, 0);
	wr_at(l, LAPIC_REG_TDCR, tdcr, 0);
	return l;
}

static bool irr_has(struct lapic *l, unsigned v)
{
	return (lapic_reg_peek(l, LAPIC_REG_IRR + (v >> 5) * 0x10, 0) >> (v & 31)) & 1;
}

static uint64_t deadline(struct lapic *l)
{
	uint64_t ns = 0;

	cr_assert(lapic_timer_deadline(l, &ns), "timer not armed");
	return ns;
}

static bool armed(struct lapic *l)
{
	uint64_t ns;

	return lapic_timer_deadline(l, &ns);
}

static bool expire(struct lapic *l, uint64_t t)
{
	struct lapic_result r;

	lapic_timer_expire(l, t, &r);
	return r.timer_fired;
}

static uint64_t msr_rd(struct lapic *l, uint32_t msr, uint64_t t)
{
	uint64_t v;

	lapic_msr_read(l, msr, &v, t, NULL);
	return v;
}

/* SDM 11.5.4, Figure 11-10: bits 3,1:0 of TDCR select divide by 2,4,8,16,32,64,128,1 */
Test(lapic_timer, divide_configuration_encodings)
{
	static const struct {
		uint32_t tdcr, div;
	} enc[] = {{0x0, 2},  {0x1, 4},  {0x2, 8},   {0x3, 16},
	           {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1}};

	for (int i = 0; i < 8; i++) {
		struct lapic *l = mk_timer(NULL, ONESHOT, enc[i].tdcr);
		uint32_t got;

		wr_at(l, LAPIC_REG_TMICT, 1000, 0);
		got = rd_at(l, LAPIC_REG_TMCCT, 10 * enc[i].div);
		cr_expect_eq(got, 990,
		             "TDCR %#x (div %u): TMCCT after 10 ticks: wanted 990, got %u",
		             enc[i].tdcr, enc[i].div, got);
		cr_expect_eq(deadline(l), 1000u * enc[i].div, "TDCR %#x: deadline %llu, wanted %u",
		             enc[i].tdcr, (unsigned long long)deadline(l), 1000u * enc[i].div);
		lapic_destroy(l);
	}
}

/* SDM 11.5.4 "APIC Timer": the current count counts down from TMICT to 0 */
Test(lapic_timer, oneshot_tmcct_counts_down_to_zero)
{
	static const uint64_t at[] = {0, 1, 500, 999, 1000, 5000};
	static const uint32_t want[] = {1000, 999, 500, 1, 0, 0};
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(lapic_reg_peek(l, LAPIC_REG_TMCCT, at[i]), want[i],
		             "TMCCT at %llu ns: wanted %u, got %u", (unsigned long long)at[i],
		             want[i], lapic_reg_peek(l, LAPIC_REG_TMCCT, at[i]));
	lapic_destroy(l);
}

/* SDM 11.5.4: reaching 0 in one-shot mode delivers the LVT Timer vector once */
Test(lapic_timer, oneshot_expiry_delivers_once)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	cr_expect_eq(deadline(l), 1000, "deadline %llu", (unsigned long long)deadline(l));
	cr_expect(expire(l, 1000), "no expiry at the deadline");
	cr_expect(irr_has(l, VEC), "timer vector not in IRR");
	cr_expect(!armed(l), "one-shot still armed after expiry");
	lapic_destroy(l);
}

/* The owner protocol: an early expire call is harmless */
Test(lapic_timer, early_expire_call_does_nothing)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	cr_expect(!expire(l, 999), "expired 1 ns early");
	cr_expect(!irr_has(l, VEC), "IRR set early");
	cr_expect_eq(deadline(l), 1000, "deadline moved to %llu", (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* A late owner: any timed access first processes the expiry that was due */
Test(lapic_timer, register_access_catches_up_with_due_expiry)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	cr_expect(rd_at(l, LAPIC_REG_IRR + 0x20, 1500) & 1, "IRR read at 1500 misses vector 0x40");
	cr_expect(!armed(l), "still armed after catching up");
	lapic_destroy(l);
}

/* SDM 11.5.4: writing TMICT restarts the count */
Test(lapic_timer, tmict_write_restarts_count)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);
	struct lapic_result r;

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	lapic_mmio_write(l, LAPIC_REG_TMICT, 4, 1000, 400, &r);
	cr_expect(r.timer_changed, "TMICT write did not report timer_changed");
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 400), 1000, "TMCCT after restart %u",
	             rd_at(l, LAPIC_REG_TMCCT, 400));
	cr_expect_eq(deadline(l), 1400, "deadline %llu", (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* SDM 11.5.4: a write of 0 to TMICT stops the timer */
Test(lapic_timer, tmict_zero_stops_timer)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	wr_at(l, LAPIC_REG_TMICT, 0, 10);
	cr_expect(!armed(l), "armed after TMICT=0");
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 20), 0, "TMCCT %u", rd_at(l, 0x390, 20));
	lapic_destroy(l);
}

/* SDM 11.5.4: periodic mode reloads TMICT and fires every period */
Test(lapic_timer, periodic_reloads_and_rearms)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	cr_expect(expire(l, 100), "no expiry at 100");
	cr_expect_eq(deadline(l), 200, "next deadline %llu", (unsigned long long)deadline(l));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 150), 50, "TMCCT at 150: %u", rd_at(l, 0x390, 150));
	cr_expect(expire(l, 200), "no expiry at 200");
	cr_expect_eq(deadline(l), 300, "deadline after 2nd period %llu",
	             (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* SDM 11.5.4: a periodic count reloads on reaching zero, so it reads TMICT at each period start */
Test(lapic_timer, periodic_count_reloads_at_period_boundary)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	cr_expect_eq(lapic_reg_peek(l, LAPIC_REG_TMCCT, 100), 100, "TMCCT at the boundary");
	cr_expect_eq(lapic_reg_peek(l, LAPIC_REG_TMCCT, 399), 1, "TMCCT 1 ns before 4th expiry");
	lapic_destroy(l);
}

/* Missed periods while the owner was late collapse into one interrupt; the next deadline is in
 * the future */
Test(lapic_timer, late_periodic_expire_rearms_in_future)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	cr_expect(expire(l, 350), "no expiry at 350");
	cr_expect_eq(deadline(l), 400, "deadline after late expire %llu",
	             (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* SDM 11.5.4: the mask suppresses the interrupt, not the count */
Test(lapic_timer, masked_timer_keeps_counting)
{
	struct lapic *l = mk_timer(NULL, PERIODIC | LAPIC_LVT_MASKED, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	cr_expect(expire(l, 100), "masked timer did not expire");
	cr_expect(!irr_has(l, VEC), "masked timer set IRR");
	cr_expect_eq(deadline(l), 200, "masked periodic not re-armed: %llu",
	             (unsigned long long)deadline(l));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 130), 70, "TMCCT %u", rd_at(l, 0x390, 130));
	lapic_destroy(l);
}

/* SDM 11.4.7.2: software disable masks LVT Timer but the timer counts on */
Test(lapic_timer, timer_counts_while_software_disabled)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	wr_at(l, LAPIC_REG_SVR, 0xFF, 10);
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 50), 50, "TMCCT %u", rd_at(l, 0x390, 50));
	cr_expect(expire(l, 100), "no expiry while software disabled");
	cr_expect(!irr_has(l, VEC), "software-disabled timer set IRR");
	lapic_destroy(l);
}

/* Changing TDCR mid-count keeps the current count and continues at the new rate */
Test(lapic_timer, tdcr_change_keeps_count_continuous)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);
	struct lapic_result r;

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	lapic_mmio_write(l, LAPIC_REG_TDCR, 4, 0x0, 400, &r);
	cr_expect(r.timer_changed, "TDCR change did not report timer_changed");
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 400), 600, "TMCCT at the change: %u",
	             rd_at(l, 0x390, 400));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 402), 599, "TMCCT one slow tick later: %u",
	             rd_at(l, 0x390, 402));
	cr_expect_eq(deadline(l), 1600, "deadline %llu", (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* A divider written while stopped applies to the next count */
Test(lapic_timer, tdcr_written_while_stopped_applies_to_next_count)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TDCR, 0x3, 0);
	wr_at(l, LAPIC_REG_TMICT, 10, 100);
	cr_expect_eq(deadline(l), 260, "deadline %llu (div 16)", (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* One-shot -> periodic while counting: the count continues and then reloads */
Test(lapic_timer, oneshot_to_periodic_continues_counting)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	wr_at(l, LAPIC_REG_LVT_TIMER, PERIODIC, 300);
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 300), 700, "TMCCT at switch %u",
	             rd_at(l, 0x390, 300));
	cr_expect_eq(deadline(l), 1000, "deadline %llu", (unsigned long long)deadline(l));
	cr_expect(expire(l, 1000), "no expiry at 1000");
	cr_expect_eq(deadline(l), 2000, "periodic reload deadline %llu",
	             (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* An expired one-shot switched to periodic stays at 0, as on bare metal */
Test(lapic_timer, expired_oneshot_to_periodic_stays_zero)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	expire(l, 100);
	wr_at(l, LAPIC_REG_LVT_TIMER, PERIODIC, 200);
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 300), 0, "TMCCT %u", rd_at(l, 0x390, 300));
	cr_expect(!armed(l), "expired one-shot re-armed by the switch");
	lapic_destroy(l);
}

/* Periodic -> one-shot: the current count runs out, fires, and stops */
Test(lapic_timer, periodic_to_oneshot_fires_at_end_of_current_count)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	expire(l, 100);
	expire(l, 200);
	wr_at(l, LAPIC_REG_LVT_TIMER, ONESHOT, 250);
	cr_expect_eq(deadline(l), 300, "deadline %llu", (unsigned long long)deadline(l));
	cr_expect(expire(l, 300), "no expiry at 300");
	cr_expect(!armed(l), "one-shot re-armed");
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 400), 0, "TMCCT %u", rd_at(l, 0x390, 400));
	lapic_destroy(l);
}

/* SDM 11.5.4.1: switching into TSC-deadline mode disarms the timer */
Test(lapic_timer, switch_into_tsc_deadline_disarms)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);
	struct lapic_result r;

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	lapic_mmio_write(l, LAPIC_REG_LVT_TIMER, 4, DEADLINE, 10, &r);
	cr_expect(r.timer_changed, "mode switch did not report timer_changed");
	cr_expect(!armed(l), "armed after switching into TSC-deadline mode");
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 20), 0, "TMCCT %u", rd_at(l, 0x390, 20));
	lapic_destroy(l);
}

/* SDM 11.5.4.1: switching out of TSC-deadline mode disarms and clears the deadline */
Test(lapic_timer, switch_out_of_tsc_deadline_disarms)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 100000, 0, NULL);
	wr_at(l, LAPIC_REG_LVT_TIMER, ONESHOT, 10);
	cr_expect(!armed(l), "armed after leaving TSC-deadline mode");
	wr_at(l, LAPIC_REG_LVT_TIMER, DEADLINE, 20);
	cr_expect_eq(msr_rd(l, MSR_IA32_TSC_DEADLINE, 20), 0, "deadline survived the round trip");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: in TSC-deadline mode TMICT writes are ignored and TMCCT reads 0 */
Test(lapic_timer, tsc_deadline_mode_ignores_tmict)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	cr_expect_eq(rd_at(l, LAPIC_REG_TMICT, 0), 0, "TMICT %u", rd_at(l, 0x380, 0));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 10), 0, "TMCCT %u", rd_at(l, 0x390, 10));
	cr_expect(!armed(l), "TMICT armed the timer in TSC-deadline mode");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: the interrupt fires when the TSC reaches the deadline (2 GHz TSC by default) */
Test(lapic_timer, tsc_deadline_fires_when_tsc_reaches_value)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);
	struct lapic_result r;

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, &r);
	cr_expect(r.timer_changed, "arming did not report timer_changed");
	cr_expect_eq(deadline(l), 2500, "deadline %llu ns for TSC 5000 at 2 GHz",
	             (unsigned long long)deadline(l));
	cr_expect(!expire(l, 2499), "fired before the TSC reached the deadline");
	cr_expect(expire(l, 2500), "did not fire at the deadline");
	cr_expect(irr_has(l, VEC), "timer vector not in IRR");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: firing disarms the timer and clears IA32_TSC_DEADLINE */
Test(lapic_timer, tsc_deadline_cleared_after_firing)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, NULL);
	expire(l, 2500);
	cr_expect_eq(msr_rd(l, MSR_IA32_TSC_DEADLINE, 2500), 0, "MSR not cleared");
	cr_expect(!armed(l), "still armed");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: a deadline already passed fires at once */
Test(lapic_timer, tsc_deadline_in_past_fires_at_once)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);
	struct lapic_result r;

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 1500, 1000, &r);
	cr_expect(r.timer_fired, "past deadline did not fire");
	cr_expect(irr_has(l, VEC), "timer vector not in IRR");
	cr_expect_eq(msr_rd(l, MSR_IA32_TSC_DEADLINE, 1000), 0, "MSR not cleared");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: writing 0 disarms */
Test(lapic_timer, tsc_deadline_zero_disarms)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, NULL);
	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 0, 10, NULL);
	cr_expect(!armed(l), "armed after writing 0");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: in other modes IA32_TSC_DEADLINE reads 0 and ignores writes */
Test(lapic_timer, tsc_deadline_msr_inert_outside_deadline_mode)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);
	struct lapic_result r;

	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, &r);
	cr_expect(!r.gp, "write raised #GP");
	cr_expect(!armed(l), "write armed the timer in one-shot mode");
	cr_expect_eq(msr_rd(l, MSR_IA32_TSC_DEADLINE, 0), 0, "read non-zero in one-shot mode");
	lapic_destroy(l);
}

/* Without CPUID.01H:ECX.TSC_Deadline the MSR does not exist */
Test(lapic_timer, tsc_deadline_msr_gp_without_support)
{
	struct lapic_config c;
	struct lapic *l;
	struct lapic_result r;
	uint64_t v;

	lapic_config_default(&c);
	c.tsc_deadline = false;
	l = mk_cfg(&c);
	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, &r);
	cr_expect(r.gp, "WRMSR 0x6E0 without support: no #GP");
	lapic_msr_read(l, MSR_IA32_TSC_DEADLINE, &v, 0, &r);
	cr_expect(r.gp, "RDMSR 0x6E0 without support: no #GP");
	lapic_destroy(l);
}

/* The deadline is compared with the guest TSC, offset included */
Test(lapic_timer, tsc_offset_shifts_deadline)
{
	struct lapic *l = mk_timer(NULL, DEADLINE, DIV1);

	lapic_set_tsc_offset(l, 1000, 0, NULL);
	cr_expect_eq(lapic_guest_tsc(l, 0), 1000, "guest TSC at 0");
	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 5000, 0, NULL);
	cr_expect_eq(deadline(l), 2000, "deadline %llu ns", (unsigned long long)deadline(l));
	lapic_set_tsc_offset(l, 0, 0, NULL);
	cr_expect_eq(deadline(l), 2500, "deadline after offset change %llu ns",
	             (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* A configurable APIC bus: at 100 MHz a tick at divide-by-1 is 10 ns */
Test(lapic_timer, apic_bus_frequency_sets_tick_length)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.apic_bus_khz = 100000;
	l = mk_timer(&c, ONESHOT, DIV1);
	wr_at(l, LAPIC_REG_TMICT, 10, 0);
	cr_expect_eq(deadline(l), 100, "deadline %llu", (unsigned long long)deadline(l));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 55), 5, "TMCCT at 55 ns: %u", rd_at(l, 0x390, 55));
	lapic_destroy(l);
}

/* Ticks shorter than a ns: the deadline is the first whole ns at which the count reached 0 */
Test(lapic_timer, deadline_rounds_up_to_whole_ns)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.apic_bus_khz = 3000000;
	l = mk_timer(&c, ONESHOT, DIV1);
	wr_at(l, LAPIC_REG_TMICT, 10, 0);
	cr_expect_eq(deadline(l), 4, "deadline %llu for 10 ticks at 3 GHz",
	             (unsigned long long)deadline(l));
	cr_expect_eq(rd_at(l, LAPIC_REG_TMCCT, 3), 1, "TMCCT at 3 ns: %u", rd_at(l, 0x390, 3));
	lapic_destroy(l);
}

/* Long counts do not overflow: TMICT 0xFFFFFFFF at divide 128 on a 1 MHz bus */
Test(lapic_timer, longest_count_deadline_is_exact)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.apic_bus_khz = 1000;
	l = mk_timer(&c, ONESHOT, 0xA);
	wr_at(l, LAPIC_REG_TMICT, 0xFFFFFFFF, 0);
	cr_expect_eq(deadline(l), UINT64_C(0xFFFFFFFF) * 128 * 1000, "deadline %llu",
	             (unsigned long long)deadline(l));
	lapic_destroy(l);
}

/* RESET and INIT stop the timer */
Test(lapic_timer, reset_and_init_disarm_timer)
{
	struct lapic *l = mk_timer(NULL, ONESHOT, DIV1);
	struct lapic_result r;

	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	lapic_init_reset(l, &r);
	cr_expect(r.timer_changed && !armed(l), "INIT left the timer armed");
	wr_at(l, LAPIC_REG_TMICT, 1000, 0);
	lapic_reset(l);
	cr_expect(!armed(l), "RESET left the timer armed");
	lapic_destroy(l);
}

/* The timer invariants hold across a busy sequence of timer operations */
Test(lapic_timer, invariants_hold_through_timer_operations)
{
	struct lapic *l = mk_timer(NULL, PERIODIC, DIV1);
	char msg[256];

	wr_at(l, LAPIC_REG_TMICT, 100, 0);
	expire(l, 100);
	wr_at(l, LAPIC_REG_TDCR, 0x1, 130);
	wr_at(l, LAPIC_REG_LVT_TIMER, ONESHOT, 170);
	cr_expect(lapic_check_invariants(l, 180, msg, sizeof(msg)), "%s", msg);
	wr_at(l, LAPIC_REG_LVT_TIMER, DEADLINE, 190);
	lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 10000, 200, NULL);
	cr_expect(lapic_check_invariants(l, 210, msg, sizeof(msg)), "%s", msg);
	lapic_destroy(l);
}
