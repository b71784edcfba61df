/* Verifies interrupt handling inside one local APIC: acceptance by delivery mode (IRR/TMR, pending
 * NMI/SMI/INIT/SIPI/ExtINT events), illegal vectors, TPR/PPR/APR, selection against PPR, INTA
 * (IRR to ISR, spurious vector), EOI of the highest ISR bit with the level EOI broadcast and its
 * suppression by SVR[12], ESR write-before-read semantics and the error interrupt, software
 * disable masking, and LVT delivery of local sources (modes per entry, LINT0 remote IRR, LVTPC
 * self-masking). Messages are built by hand and passed to lapic_accept; registers are accessed
 * through MMIO in xAPIC mode. Each test builds its own LAPIC. */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

static struct lapic *mk_cfg(const struct lapic_config *cfg)
{
	struct lapic *l = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(lapic_create(cfg, &l, &err), HVSIM_OK, "lapic_create: %s", err.msg);
	return l;
}

static uint32_t rd(struct lapic *l, uint32_t off)
{
	uint64_t v;

	lapic_mmio_read(l, off, 4, &v, 0, NULL);
	return (uint32_t)v;
}

static void wr(struct lapic *l, uint32_t off, uint32_t v)
{
	lapic_mmio_write(l, off, 4, v, 0, NULL);
}

/* A software-enabled xAPIC (SVR = 0x1FF: spurious vector 0xFF). */
static struct lapic *mk_on(void)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_SVR, 0x1FF);
	return l;
}

static bool vec_bit(struct lapic *l, uint32_t base, unsigned v)
{
	return (lapic_reg_peek(l, base + (v >> 5) * 0x10, 0) >> (v & 31)) & 1;
}

static struct lapic_irq msg(uint8_t dm, uint8_t vector, bool level_trigger)
{
	struct lapic_irq m = {
	    .vector = vector, .delivery_mode = dm, .level = true, .trigger_level = level_trigger};

	return m;
}

static bool accept(struct lapic *l, uint8_t dm, uint8_t v, bool level_trigger)
{
	struct lapic_irq m = msg(dm, v, level_trigger);

	return lapic_accept(l, &m, NULL);
}

static uint32_t esr(struct lapic *l)
{
	wr(l, LAPIC_REG_ESR, 0);
	return rd(l, LAPIC_REG_ESR);
}

/* SDM 11.8.4 "Interrupt Acceptance for Fixed Interrupts": the vector's IRR bit is set */
Test(lapic_irq, fixed_message_sets_irr)
{
	struct lapic *l = mk_on();
	struct lapic_irq m = msg(LAPIC_DM_FIXED, 0x41, false);
	struct lapic_result r;

	cr_expect(lapic_accept(l, &m, &r), "fixed 0x41 refused");
	cr_expect(r.irr_set, "irr_set not reported");
	cr_expect(vec_bit(l, LAPIC_REG_IRR, 0x41), "IRR bit 0x41 clear");
	lapic_destroy(l);
}

/* SDM 11.8.4: TMR is set for level-triggered and cleared for edge-triggered acceptance */
Test(lapic_irq, tmr_follows_trigger_mode)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x52, true);
	cr_expect(vec_bit(l, LAPIC_REG_TMR, 0x52), "level acceptance left TMR clear");
	accept(l, LAPIC_DM_FIXED, 0x52, false);
	cr_expect(!vec_bit(l, LAPIC_REG_TMR, 0x52), "edge acceptance left TMR set");
	lapic_destroy(l);
}

/* Lowest-priority messages are accepted like fixed ones by the chosen APIC */
Test(lapic_irq, lowest_priority_message_sets_irr)
{
	struct lapic *l = mk_on();

	cr_expect(accept(l, LAPIC_DM_LOWEST, 0x61, false), "lowest-priority refused");
	cr_expect(vec_bit(l, LAPIC_REG_IRR, 0x61), "IRR bit 0x61 clear");
	lapic_destroy(l);
}

/* SDM 11.4.7.2: a software-disabled APIC refuses fixed interrupts */
Test(lapic_irq, fixed_refused_while_software_disabled)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	l = mk_cfg(&c);
	cr_expect(!accept(l, LAPIC_DM_FIXED, 0x41, false), "fixed accepted while SVR[8]=0");
	cr_expect(!vec_bit(l, LAPIC_REG_IRR, 0x41), "IRR set while software disabled");
	lapic_destroy(l);
}

/* SDM 11.4.7.2: NMI, SMI, INIT and SIPI are still received while software disabled */
Test(lapic_irq, nmi_received_while_software_disabled)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	l = mk_cfg(&c);
	cr_expect(accept(l, LAPIC_DM_NMI, 0, false), "NMI refused while software disabled");
	cr_expect(lapic_events(l) & LAPIC_EV_NMI, "NMI event not pending");
	lapic_destroy(l);
}

/* SDM 11.4.3: a globally disabled APIC receives nothing */
Test(lapic_irq, nothing_received_while_globally_disabled)
{
	struct lapic *l = mk_on();

	lapic_set_apic_base(l, LAPIC_DEFAULT_BASE, 0, NULL);
	cr_expect(!accept(l, LAPIC_DM_FIXED, 0x41, false), "fixed accepted while disabled");
	cr_expect(!accept(l, LAPIC_DM_NMI, 0, false), "NMI accepted while disabled");
	cr_expect_eq(lapic_events(l), 0, "events %#x while disabled", lapic_events(l));
	lapic_destroy(l);
}

/* SDM 11.5.2 "Valid Interrupt Vectors": vectors 0-15 are refused with "Received Illegal Vector" */
Test(lapic_irq, illegal_vector_refused_with_esr)
{
	struct lapic *l = mk_on();
	struct lapic_irq m = msg(LAPIC_DM_FIXED, 15, false);
	struct lapic_result r;

	cr_expect(!lapic_accept(l, &m, &r), "vector 15 accepted");
	cr_expect_eq(r.esr_errors, LAPIC_ESR_RECV_ILLEGAL, "esr_errors %#x", r.esr_errors);
	cr_expect(!vec_bit(l, LAPIC_REG_IRR, 15), "IRR bit 15 set");
	cr_expect_eq(esr(l), LAPIC_ESR_RECV_ILLEGAL, "ESR %#x", esr(l));
	lapic_destroy(l);
}

/* SDM 11.5.2: vectors 16-31 are not illegal for the APIC */
Test(lapic_irq, vector_16_is_legal)
{
	struct lapic *l = mk_on();

	cr_expect(accept(l, LAPIC_DM_FIXED, 16, false), "vector 16 refused");
	lapic_destroy(l);
}

/* Non-vectored delivery modes become pending events for the owner */
Test(lapic_irq, nmi_smi_init_extint_raise_events)
{
	static const struct {
		uint8_t dm;
		uint32_t ev;
	} cases[] = {{LAPIC_DM_NMI, LAPIC_EV_NMI},
	             {LAPIC_DM_SMI, LAPIC_EV_SMI},
	             {LAPIC_DM_INIT, LAPIC_EV_INIT},
	             {LAPIC_DM_EXTINT, LAPIC_EV_EXTINT}};

	for (int i = 0; i < 4; i++) {
		struct lapic *l = mk_on();
		struct lapic_irq m = msg(cases[i].dm, 0, false);
		struct lapic_result r;

		cr_expect(lapic_accept(l, &m, &r), "mode %u refused", cases[i].dm);
		cr_expect_eq(r.events, cases[i].ev, "mode %u: result events %#x", cases[i].dm,
		             r.events);
		cr_expect_eq(lapic_events(l), cases[i].ev, "mode %u: pending %#x", cases[i].dm,
		             lapic_events(l));
		lapic_destroy(l);
	}
}

Test(lapic_irq, startup_raises_sipi_with_vector)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_STARTUP, 0x9A, false);
	cr_expect(lapic_events(l) & LAPIC_EV_SIPI, "SIPI not pending");
	cr_expect_eq(lapic_sipi_vector(l), 0x9A, "SIPI vector %#x", lapic_sipi_vector(l));
	lapic_clear_events(l, LAPIC_EV_SIPI);
	cr_expect_eq(lapic_events(l), 0, "events left after clear: %#x", lapic_events(l));
	lapic_destroy(l);
}

/* SDM 11.4.7.4: an INIT level de-assert message has no effect */
Test(lapic_irq, init_deassert_ignored)
{
	struct lapic *l = mk_on();
	struct lapic_irq m = msg(LAPIC_DM_INIT, 0, true);

	m.level = false;
	cr_expect(!lapic_accept(l, &m, NULL), "INIT de-assert accepted");
	cr_expect_eq(lapic_events(l), 0, "events %#x", lapic_events(l));
	lapic_destroy(l);
}

/* SDM 11.6.1: delivery mode 011b is reserved: such a message is not accepted */
Test(lapic_irq, reserved_delivery_mode_refused)
{
	struct lapic *l = mk_on();

	cr_expect(!accept(l, 3, 0x40, false), "delivery mode 3 accepted");
	cr_expect(lapic_highest_irr(l) == -1 && lapic_events(l) == 0, "mode 3 left state");
	lapic_destroy(l);
}

/* SDM 11.8.4: IRR and ISR can hold the same vector; more requests collapse in IRR */
Test(lapic_irq, vector_queued_once_in_irr_and_once_in_isr)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x41, false);
	cr_expect_eq(lapic_ack(l), 0x41, "first ack");
	accept(l, LAPIC_DM_FIXED, 0x41, false);
	accept(l, LAPIC_DM_FIXED, 0x41, false);
	cr_expect(vec_bit(l, LAPIC_REG_IRR, 0x41) && vec_bit(l, LAPIC_REG_ISR, 0x41),
	          "0x41 not in both IRR and ISR");
	wr(l, LAPIC_REG_EOI, 0);
	cr_expect_eq(lapic_ack(l), 0x41, "second ack");
	wr(l, LAPIC_REG_EOI, 0);
	cr_expect_eq(lapic_highest_irr(l), -1, "a third request survived: IRR %d",
	             lapic_highest_irr(l));
	lapic_destroy(l);
}

/* SDM 11.8.4: the highest-priority IRR vector is dispensed */
Test(lapic_irq, pending_vector_is_highest_irr)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x41, false);
	accept(l, LAPIC_DM_FIXED, 0x92, false);
	accept(l, LAPIC_DM_FIXED, 0x63, false);
	cr_expect_eq(lapic_pending_vector(l), 0x92, "pending %d", lapic_pending_vector(l));
	lapic_destroy(l);
}

/* SDM 11.8.3.1: interrupts whose class is not above PPR[7:4] are held */
Test(lapic_irq, tpr_class_blocks_lower_or_equal_classes)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_TPR, 0x50);
	accept(l, LAPIC_DM_FIXED, 0x5F, false);
	cr_expect_eq(lapic_pending_vector(l), -1, "0x5F dispensed with TPR 0x50");
	accept(l, LAPIC_DM_FIXED, 0x60, false);
	cr_expect_eq(lapic_pending_vector(l), 0x60, "0x60 not dispensed with TPR 0x50");
	lapic_destroy(l);
}

/* SDM 11.8.3.1: an in-service vector blocks vectors of its own class */
Test(lapic_irq, isr_class_blocks_same_class)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x71, false);
	lapic_ack(l);
	accept(l, LAPIC_DM_FIXED, 0x7E, false);
	cr_expect_eq(lapic_pending_vector(l), -1, "0x7E dispensed while 0x71 in service");
	accept(l, LAPIC_DM_FIXED, 0x80, false);
	cr_expect_eq(lapic_pending_vector(l), 0x80, "0x80 should preempt 0x71");
	lapic_destroy(l);
}

/* SDM 11.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4] */
Test(lapic_irq, ppr_is_tpr_when_tpr_class_higher)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x31, false);
	lapic_ack(l);
	wr(l, LAPIC_REG_TPR, 0x45);
	cr_expect_eq(rd(l, LAPIC_REG_PPR), 0x45, "PPR %#x", rd(l, LAPIC_REG_PPR));
	wr(l, LAPIC_REG_TPR, 0x3A);
	cr_expect_eq(rd(l, LAPIC_REG_PPR), 0x3A, "PPR with equal classes %#x", rd(l, 0xA0));
	lapic_destroy(l);
}

/* SDM 11.8.3.1: PPR = ISRV[7:4]:0 when the in-service class is higher */
Test(lapic_irq, ppr_is_isr_class_when_higher)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_TPR, 0x25);
	accept(l, LAPIC_DM_FIXED, 0x41, false);
	lapic_ack(l);
	cr_expect_eq(rd(l, LAPIC_REG_PPR), 0x40, "PPR %#x", rd(l, LAPIC_REG_PPR));
	wr(l, LAPIC_REG_EOI, 0);
	cr_expect_eq(rd(l, LAPIC_REG_PPR), 0x25, "PPR after EOI %#x", rd(l, LAPIC_REG_PPR));
	lapic_destroy(l);
}

/* SDM 11.6.2.4, Figure 11-15: APR from TPR, IRRV and ISRV */
Test(lapic_irq, apr_follows_arbitration_formula)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_TPR, 0x20);
	cr_expect_eq(rd(l, LAPIC_REG_APR), 0x20, "idle APR %#x", rd(l, LAPIC_REG_APR));
	accept(l, LAPIC_DM_FIXED, 0x45, false);
	cr_expect_eq(rd(l, LAPIC_REG_APR), 0x40, "APR with IRR 0x45 %#x", rd(l, 0x90));
	lapic_ack(l);
	wr(l, LAPIC_REG_TPR, 0x45);
	cr_expect_eq(rd(l, LAPIC_REG_APR), 0x40, "APR with TPR 0x45 = ISR class %#x", rd(l, 0x90));
	wr(l, LAPIC_REG_TPR, 0x55);
	cr_expect_eq(rd(l, LAPIC_REG_APR), 0x55, "APR with TPR above all %#x", rd(l, 0x90));
	lapic_destroy(l);
}

/* SDM 11.8.4: INTA moves the vector from IRR to ISR */
Test(lapic_irq, ack_moves_irr_to_isr)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x66, false);
	cr_expect_eq(lapic_ack(l), 0x66, "ack");
	cr_expect(!vec_bit(l, LAPIC_REG_IRR, 0x66), "IRR still set");
	cr_expect(vec_bit(l, LAPIC_REG_ISR, 0x66), "ISR not set");
	cr_expect_eq(lapic_highest_isr(l), 0x66, "highest ISR %d", lapic_highest_isr(l));
	lapic_destroy(l);
}

/* SDM 11.9 "Spurious Interrupt": INTA with nothing deliverable returns the spurious vector */
Test(lapic_irq, ack_returns_spurious_vector_when_masked_by_tpr)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_SVR, 0x1EF);
	accept(l, LAPIC_DM_FIXED, 0x41, false);
	wr(l, LAPIC_REG_TPR, 0x40);
	cr_expect_eq(lapic_ack(l), 0xEF, "ack under TPR");
	cr_expect(vec_bit(l, LAPIC_REG_IRR, 0x41), "spurious INTA consumed IRR");
	cr_expect_eq(lapic_highest_isr(l), -1, "spurious INTA set ISR");
	lapic_destroy(l);
}

Test(lapic_irq, ack_returns_spurious_vector_when_irr_empty)
{
	struct lapic *l = mk_on();

	cr_expect_eq(lapic_ack(l), 0xFF, "ack with empty IRR");
	lapic_destroy(l);
}

/* SDM 11.8.5: EOI clears the highest-priority ISR bit */
Test(lapic_irq, eoi_clears_highest_isr_bit)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	accept(l, LAPIC_DM_FIXED, 0x40, false);
	lapic_ack(l);
	accept(l, LAPIC_DM_FIXED, 0x80, false);
	lapic_ack(l);
	lapic_mmio_write(l, LAPIC_REG_EOI, 4, 0, 0, &r);
	cr_expect_eq(r.eoi_vector, 0x80, "EOI cleared %d", r.eoi_vector);
	cr_expect(!vec_bit(l, LAPIC_REG_ISR, 0x80) && vec_bit(l, LAPIC_REG_ISR, 0x40),
	          "wrong ISR bit cleared");
	lapic_destroy(l);
}

Test(lapic_irq, eoi_with_empty_isr_does_nothing)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	lapic_eoi(l, &r);
	cr_expect(r.eoi_vector == -1 && r.eoi_broadcast == -1, "EOI reported %d/%d", r.eoi_vector,
	          r.eoi_broadcast);
	lapic_destroy(l);
}

/* SDM 11.8.5: EOI of a level-triggered vector (TMR set) is broadcast to the I/O APICs */
Test(lapic_irq, eoi_of_level_vector_broadcasts)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	accept(l, LAPIC_DM_FIXED, 0x93, true);
	lapic_ack(l);
	lapic_mmio_write(l, LAPIC_REG_EOI, 4, 0, 0, &r);
	cr_expect_eq(r.eoi_broadcast, 0x93, "broadcast %d", r.eoi_broadcast);
	lapic_destroy(l);
}

Test(lapic_irq, eoi_of_edge_vector_not_broadcast)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	accept(l, LAPIC_DM_FIXED, 0x93, false);
	lapic_ack(l);
	lapic_eoi(l, &r);
	cr_expect_eq(r.eoi_vector, 0x93, "EOI vector %d", r.eoi_vector);
	cr_expect_eq(r.eoi_broadcast, -1, "edge EOI broadcast %d", r.eoi_broadcast);
	lapic_destroy(l);
}

/* SDM 11.8.5: SVR[12] suppresses the EOI broadcast (directed EOI) */
Test(lapic_irq, eoi_broadcast_suppressed_by_svr_bit12)
{
	struct lapic_config c;
	struct lapic *l;
	struct lapic_result r;

	lapic_config_default(&c);
	c.directed_eoi = true;
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_SVR, 0x11FF);
	accept(l, LAPIC_DM_FIXED, 0x93, true);
	lapic_ack(l);
	lapic_eoi(l, &r);
	cr_expect_eq(r.eoi_vector, 0x93, "EOI vector %d", r.eoi_vector);
	cr_expect_eq(r.eoi_broadcast, -1, "suppressed EOI broadcast %d", r.eoi_broadcast);
	lapic_destroy(l);
}

/* xAPIC: the value written to EOI does not matter */
Test(lapic_irq, xapic_eoi_value_ignored)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 0x50, false);
	lapic_ack(l);
	wr(l, LAPIC_REG_EOI, 0xDEADBEEF);
	cr_expect_eq(lapic_highest_isr(l), -1, "non-zero EOI write ignored");
	lapic_destroy(l);
}

/* SDM 11.5.3 "Error Handling": errors become visible only after the next ESR write */
Test(lapic_irq, esr_updates_on_write_before_read)
{
	struct lapic *l = mk_on();

	accept(l, LAPIC_DM_FIXED, 3, false);
	cr_expect_eq(rd(l, LAPIC_REG_ESR), 0, "ESR visible before a write: %#x", rd(l, 0x280));
	wr(l, LAPIC_REG_ESR, 0);
	cr_expect_eq(rd(l, LAPIC_REG_ESR), LAPIC_ESR_RECV_ILLEGAL, "ESR after write %#x",
	             rd(l, 0x280));
	wr(l, LAPIC_REG_ESR, 0);
	cr_expect_eq(rd(l, LAPIC_REG_ESR), 0, "ESR not cleared by the next write: %#x",
	             rd(l, 0x280));
	lapic_destroy(l);
}

/* SDM 11.5.3: a detected error is signalled through LVT Error */
Test(lapic_irq, error_signalled_through_lvt_error)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_ERROR, 0xE3);
	accept(l, LAPIC_DM_FIXED, 3, false);
	cr_expect(vec_bit(l, LAPIC_REG_IRR, 0xE3), "error interrupt 0xE3 not in IRR");
	lapic_destroy(l);
}

/* An illegal LVT Error vector latches "Received Illegal Vector" once, without recursion */
Test(lapic_irq, illegal_error_vector_latched_once)
{
	struct lapic *l = mk_on();
	struct lapic_irq m = msg(LAPIC_DM_FIXED, 3, false);
	struct lapic_result r;

	wr(l, LAPIC_REG_LVT_ERROR, 0x05);
	lapic_accept(l, &m, &r);
	cr_expect_eq(r.esr_errors, LAPIC_ESR_RECV_ILLEGAL, "errors %#x", r.esr_errors);
	cr_expect_eq(lapic_highest_irr(l), -1, "an illegal vector reached IRR");
	lapic_destroy(l);
}

/* SDM 11.4.7.2: clearing SVR[8] masks every LVT entry */
Test(lapic_irq, software_disable_masks_every_lvt)
{
	static const uint32_t lvts[] = {0x2F0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370};
	struct lapic *l = mk_on();

	for (int i = 0; i < 7; i++)
		wr(l, lvts[i], 0x40);
	wr(l, LAPIC_REG_SVR, 0xFF);
	for (int i = 0; i < 7; i++)
		cr_expect(rd(l, lvts[i]) & LAPIC_LVT_MASKED, "LVT %#x unmasked: %#x", lvts[i],
		          rd(l, lvts[i]));
	lapic_destroy(l);
}

/* SDM 11.4.7.2: attempts to clear mask bits while software disabled are ignored */
Test(lapic_irq, lvt_stays_masked_while_software_disabled)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_SVR, 0xFF);
	wr(l, LAPIC_REG_LVT_LINT0, 0x40);
	cr_expect_eq(rd(l, LAPIC_REG_LVT_LINT0), 0x10040, "LINT0 %#x", rd(l, 0x350));
	wr(l, LAPIC_REG_SVR, 0x1FF);
	cr_expect_eq(rd(l, LAPIC_REG_LVT_LINT0), 0x10040, "re-enable unmasked LINT0: %#x",
	             rd(l, 0x350));
	lapic_destroy(l);
}

/* SDM 11.5.1: a fixed LVT entry delivers its vector */
Test(lapic_irq, lvt_fixed_delivery_sets_irr)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	wr(l, LAPIC_REG_LVT_THERMAL, 0x91);
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_THERMAL, &r), "thermal not delivered");
	cr_expect(r.irr_set && vec_bit(l, LAPIC_REG_IRR, 0x91), "IRR 0x91 not set");
	lapic_destroy(l);
}

Test(lapic_irq, masked_lvt_delivers_nothing)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_CMCI, 0x10091);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_CMCI, NULL), "masked CMCI delivered");
	cr_expect_eq(lapic_highest_irr(l), -1, "masked CMCI set IRR");
	lapic_destroy(l);
}

/* SDM 11.5.1: NMI and SMI modes raise the events */
Test(lapic_irq, lvt_nmi_and_smi_modes_raise_events)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_LINT1, 0x400);
	wr(l, LAPIC_REG_LVT_THERMAL, 0x200);
	lapic_lvt_fire(l, LAPIC_LVT_LINT1, NULL);
	lapic_lvt_fire(l, LAPIC_LVT_THERMAL, NULL);
	cr_expect_eq(lapic_events(l), LAPIC_EV_NMI | LAPIC_EV_SMI, "events %#x", lapic_events(l));
	lapic_destroy(l);
}

/* SDM 11.5.1: ExtINT is supported by LINT0/1 only */
Test(lapic_irq, lvt_extint_only_on_lint)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_LINT0, 0x700);
	wr(l, LAPIC_REG_LVT_PMC, 0x700);
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "LINT0 ExtINT not delivered");
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_PMC, NULL), "PMC ExtINT delivered");
	cr_expect_eq(lapic_events(l), LAPIC_EV_EXTINT, "events %#x", lapic_events(l));
	lapic_destroy(l);
}

/* SDM 11.5.1: INIT is not supported by the thermal, PMC and CMCI entries */
Test(lapic_irq, lvt_init_not_on_thermal_pmc_cmci)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_THERMAL, 0x500);
	wr(l, LAPIC_REG_LVT_PMC, 0x500);
	wr(l, LAPIC_REG_LVT_CMCI, 0x500);
	wr(l, LAPIC_REG_LVT_LINT0, 0x500);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_THERMAL, NULL), "thermal INIT delivered");
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_PMC, NULL), "PMC INIT delivered");
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_CMCI, NULL), "CMCI INIT delivered");
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "LINT0 INIT not delivered");
	lapic_destroy(l);
}

/* SDM 11.5.1 and the PMU chapter: a delivered PMI sets the LVT PC mask bit */
Test(lapic_irq, lvtpc_masks_itself_on_pmi)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_PMC, 0x400);
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_PMC, NULL), "PMI not delivered");
	cr_expect_eq(rd(l, LAPIC_REG_LVT_PMC), 0x10400, "LVTPC %#x", rd(l, 0x340));
	lapic_clear_events(l, LAPIC_EV_NMI);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_PMC, NULL), "second PMI delivered while masked");
	lapic_destroy(l);
}

/* SDM 11.5.1: a level LINT0 sets remote IRR and TMR, and is held until EOI */
Test(lapic_irq, lint0_level_holds_until_eoi)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	wr(l, LAPIC_REG_LVT_LINT0, 0x8031);
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "first LINT0 not delivered");
	cr_expect(rd(l, LAPIC_REG_LVT_LINT0) & LAPIC_LVT_REMOTE_IRR, "remote IRR clear");
	cr_expect(vec_bit(l, LAPIC_REG_TMR, 0x31), "TMR clear for level LINT0");
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "LINT0 re-delivered before EOI");
	lapic_ack(l);
	lapic_eoi(l, &r);
	cr_expect(!(rd(l, LAPIC_REG_LVT_LINT0) & LAPIC_LVT_REMOTE_IRR), "EOI left remote IRR");
	cr_expect_eq(r.eoi_broadcast, 0x31, "level EOI broadcast %d", r.eoi_broadcast);
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "LINT0 not delivered after EOI");
	lapic_destroy(l);
}

/* SDM 11.5.1: level-sensitive interrupts are not supported for LINT1: it acts as edge */
Test(lapic_irq, lint1_level_acts_as_edge)
{
	struct lapic *l = mk_on();

	wr(l, LAPIC_REG_LVT_LINT1, 0x8032);
	lapic_lvt_fire(l, LAPIC_LVT_LINT1, NULL);
	cr_expect(!vec_bit(l, LAPIC_REG_TMR, 0x32), "LINT1 set TMR");
	cr_expect(lapic_lvt_fire(l, LAPIC_LVT_LINT1, NULL), "second LINT1 refused");
	lapic_destroy(l);
}

/* SDM 11.5.2: an LVT with an illegal vector delivers nothing and flags the error */
Test(lapic_irq, lvt_illegal_vector_flags_error)
{
	struct lapic *l = mk_on();
	struct lapic_result r;

	wr(l, LAPIC_REG_LVT_THERMAL, 0x0E);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_THERMAL, &r), "illegal vector delivered");
	cr_expect_eq(r.esr_errors, LAPIC_ESR_RECV_ILLEGAL, "errors %#x", r.esr_errors);
	lapic_destroy(l);
}

/* Globally disabled: LINT pins bypass the APIC; lapic_lvt_fire delivers nothing */
Test(lapic_irq, lvt_fire_does_nothing_when_globally_disabled)
{
	struct lapic *l = mk_on();

	lapic_set_apic_base(l, LAPIC_DEFAULT_BASE, 0, NULL);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_LINT0, NULL), "LINT0 delivered while disabled");
	lapic_destroy(l);
}

/* SDM 11.4.8: no CMCI entry when max LVT is 5 */
Test(lapic_irq, cmci_fire_absent_with_max_lvt_5)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.max_lvt = 5;
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_SVR, 0x1FF);
	cr_expect(!lapic_lvt_fire(l, LAPIC_LVT_CMCI, NULL), "CMCI delivered without the entry");
	cr_expect(!lapic_lvt_fire(l, (enum lapic_lvt)42, NULL), "out-of-range LVT delivered");
	lapic_destroy(l);
}

/* SDM 11.8.3.1: a TPR write updates PPR at once */
Test(lapic_irq, tpr_write_updates_ppr)
{
	struct lapic *l = mk_on();
	struct lapic_irq m = msg(LAPIC_DM_FIXED, 0x41, false);

	lapic_accept(l, &m, NULL);
	wr(l, LAPIC_REG_TPR, 0x60);
	cr_expect_eq(rd(l, LAPIC_REG_PPR), 0x60, "PPR %#x", rd(l, 0xA0));
	wr(l, LAPIC_REG_TPR, 0x00);
	cr_expect_eq(lapic_pending_vector(l), 0x41, "0x41 not pending after TPR drop");
	lapic_destroy(l);
}
