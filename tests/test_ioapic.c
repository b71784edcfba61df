/* Verifies the I/O APIC model against the 82093AA datasheet (section 3) and the IOxAPIC EOI
 * register: IOREGSEL/IOWIN indirect access, the ID, version and arbitration registers for
 * versions 0x11 and 0x20, redirection-entry fields and their read-only/reserved bits, edge and
 * level inputs with polarity and masking, remote IRR, re-delivery on EOI, the EOI register, and
 * end-to-end flows with a local APIC (EOI broadcast, directed EOI). Registers are accessed through
 * ioapic_mmio_read/write as a guest would; lines change with ioapic_set_irq. Each test builds its
 * own I/O APIC. */
#include <criterion/criterion.h>
#include <string.h>

#include <hvsim/ioapic.h>
#include <hvsim/lapic.h>

#include "../models/ioapic_int.h"

#define VEC 0x31u

static struct ioapic *mk(uint8_t version, uint32_t pins)
{
	struct ioapic_config c;
	struct ioapic *io = NULL;
	struct hvsim_error err = {0};

	ioapic_config_default(&c);
	c.version = version;
	c.pins = pins;
	cr_assert_eq(ioapic_create(&c, &io, &err), HVSIM_OK, "ioapic_create: %s", err.msg);
	return io;
}

static uint32_t reg_rd(struct ioapic *io, uint32_t idx)
{
	struct ioapic_result r;

	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, idx, NULL);
	ioapic_mmio_read(io, IOAPIC_IOWIN, 4, &r);
	return r.value;
}

static uint32_t reg_wr(struct ioapic *io, uint32_t idx, uint32_t v)
{
	struct ioapic_result r;

	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, idx, NULL);
	ioapic_mmio_write(io, IOAPIC_IOWIN, 4, v, &r);
	return r.n_msgs;
}

/* Programs entry pin (high dword first, as operating systems do); returns messages sent. */
static uint32_t rte_set(struct ioapic *io, uint32_t pin, uint32_t lo, uint32_t hi)
{
	reg_wr(io, IOAPIC_IDX_REDTBL + 2 * pin + 1, hi);
	return reg_wr(io, IOAPIC_IDX_REDTBL + 2 * pin, lo);
}

static uint32_t line(struct ioapic *io, uint32_t pin, int level)
{
	struct ioapic_result r;

	cr_assert(ioapic_set_irq(io, pin, level, &r), "pin %u refused", pin);
	return r.n_msgs;
}

static bool remote_irr(struct ioapic *io, uint32_t pin)
{
	return (ioapic_redirection(io, pin) & IOAPIC_RTE_REMOTE_IRR) != 0;
}

#define LEVEL_LO (VEC | (uint32_t)IOAPIC_RTE_LEVEL)
#define EDGE_LO  VEC

/* 82093AA 3.2.2: version in bits 7:0, maximum redirection entry in bits 23:16 */
Test(ioapic, version_register_reports_version_and_entries)
{
	static const struct {
		uint8_t version;
		uint32_t pins, want;
	} cases[] = {{0x11, 24, 0x00170011}, {0x20, 24, 0x00170020}, {0x20, 48, 0x002F0020}};

	for (int i = 0; i < 3; i++) {
		struct ioapic *io = mk(cases[i].version, cases[i].pins);

		cr_expect_eq(reg_rd(io, IOAPIC_IDX_VER), cases[i].want,
		             "version %#x, %u pins: wanted %#x, got %#x", cases[i].version,
		             cases[i].pins, cases[i].want, reg_rd(io, IOAPIC_IDX_VER));
		ioapic_destroy(io);
	}
}

/* 82093AA 3.2.1: the ID lives in bits 27:24; the rest is reserved */
Test(ioapic, id_register_bits_27_24)
{
	struct ioapic *io = mk(0x20, 24);

	reg_wr(io, IOAPIC_IDX_ID, 0xFFFFFFFF);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_ID), 0x0F000000, "ID %#x", reg_rd(io, IOAPIC_IDX_ID));
	ioapic_destroy(io);
}

/* 82093AA 3.2.3: IOAPICARB is loaded when IOAPICID is written, and is read-only */
Test(ioapic, arbitration_id_loaded_from_id_write)
{
	struct ioapic *io = mk(0x11, 24);

	reg_wr(io, IOAPIC_IDX_ID, 0x05000000);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_ARB), 0x05000000, "ARB %#x", reg_rd(io, 2));
	reg_wr(io, IOAPIC_IDX_ARB, 0x0A000000);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_ARB), 0x05000000, "ARB written: %#x", reg_rd(io, 2));
	ioapic_destroy(io);
}

/* 82093AA 3.2.2: the version register is read-only */
Test(ioapic, version_register_read_only)
{
	struct ioapic *io = mk(0x20, 24);

	reg_wr(io, IOAPIC_IDX_VER, 0);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_VER), 0x00170020, "VER %#x", reg_rd(io, 1));
	ioapic_destroy(io);
}

/* 82093AA 3.1.1: IOREGSEL holds an 8-bit register address; bits 31:8 read 0 */
Test(ioapic, ioregsel_is_8_bits)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, 0x1FF, NULL);
	ioapic_mmio_read(io, IOAPIC_IOREGSEL, 4, &r);
	cr_expect_eq(r.value, 0xFF, "IOREGSEL %#x", r.value);
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 1, 0x12, NULL);
	ioapic_mmio_read(io, IOAPIC_IOREGSEL, 4, &r);
	cr_expect_eq(r.value, 0x12, "IOREGSEL after byte write %#x", r.value);
	ioapic_destroy(io);
}

/* 82093AA 3.1.2: IOWIN is accessed as a dword; other sizes read 0 and write nothing */
Test(ioapic, iowin_requires_dword_access)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, IOAPIC_IDX_VER, NULL);
	ioapic_mmio_read(io, IOAPIC_IOWIN, 1, &r);
	cr_expect_eq(r.value, 0, "byte IOWIN read %#x", r.value);
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, IOAPIC_IDX_ID, NULL);
	ioapic_mmio_write(io, IOAPIC_IOWIN, 2, 0x0300, NULL);
	ioapic_mmio_write(io, IOAPIC_IOWIN, 4, 0x03000000, NULL);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_ID), 0x03000000, "dword write lost: %#x", reg_rd(io, 0));
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: every entry resets masked */
Test(ioapic, entries_reset_masked)
{
	struct ioapic *io = mk(0x11, 24);

	for (uint32_t pin = 0; pin < 24; pin++)
		cr_expect_eq(reg_rd(io, IOAPIC_IDX_REDTBL + 2 * pin), 0x10000, "entry %u low %#x",
		             pin, reg_rd(io, IOAPIC_IDX_REDTBL + 2 * pin));
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: writable fields; delivery status, remote IRR and bits 55:17 are not stored */
Test(ioapic, entry_writable_fields)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 3, 0xFFFFFFFF, 0xFFFFFFFF);
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_REDTBL + 6), 0x1AFFF, "low %#x",
	             reg_rd(io, IOAPIC_IDX_REDTBL + 6));
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_REDTBL + 7), 0xFF000000, "high %#x",
	             reg_rd(io, IOAPIC_IDX_REDTBL + 7));
	ioapic_destroy(io);
}

/* Indexes with no register behind them read 0 */
Test(ioapic, unimplemented_index_reads_zero)
{
	struct ioapic *io = mk(0x20, 24);

	cr_expect_eq(reg_rd(io, 0x03), 0, "index 3: %#x", reg_rd(io, 3));
	cr_expect_eq(reg_rd(io, IOAPIC_IDX_REDTBL + 2 * 24), 0, "entry 24 of 24: %#x",
	             reg_rd(io, 0x40));
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: an unmasked edge input sends on its rising edge */
Test(ioapic, edge_rising_edge_sends_message)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 1, EDGE_LO, 0x02000000);
	ioapic_set_irq(io, 1, 1, &r);
	cr_assert_eq(r.n_msgs, 1, "messages %u", r.n_msgs);
	cr_expect(r.msgs[0].pin == 1 && r.msgs[0].irq.vector == VEC && r.msgs[0].irq.dest == 2 &&
	              r.msgs[0].irq.delivery_mode == LAPIC_DM_FIXED &&
	              !r.msgs[0].irq.dest_logical && !r.msgs[0].irq.trigger_level &&
	              !r.msgs[0].irq.x2apic_format,
	          "message pin %u vec %#x dest %#x dm %u", r.msgs[0].pin, r.msgs[0].irq.vector,
	          r.msgs[0].irq.dest, r.msgs[0].irq.delivery_mode);
	cr_expect_eq(line(io, 1, 0), 0, "falling edge sent a message");
	cr_expect_eq(line(io, 1, 1), 1, "second rising edge not sent");
	ioapic_destroy(io);
}

Test(ioapic, edge_held_high_sends_once)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 1, EDGE_LO, 0);
	line(io, 1, 1);
	cr_expect_eq(line(io, 1, 1), 0, "a steady high level re-sent an edge");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: edges on a masked pin are ignored, not held pending */
Test(ioapic, edge_lost_while_masked)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 1, EDGE_LO | (uint32_t)IOAPIC_RTE_MASKED, 0);
	cr_expect_eq(line(io, 1, 1), 0, "masked edge sent");
	cr_expect_eq(rte_set(io, 1, EDGE_LO, 0), 0, "unmask delivered a lost edge");
	line(io, 1, 0);
	cr_expect_eq(line(io, 1, 1), 1, "next edge after unmask not sent");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: a level interrupt is sent and sets remote IRR */
Test(ioapic, level_sends_and_sets_remote_irr)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 2, LEVEL_LO, 0);
	ioapic_set_irq(io, 2, 1, &r);
	cr_assert_eq(r.n_msgs, 1, "messages %u", r.n_msgs);
	cr_expect(r.msgs[0].irq.trigger_level, "level message marked edge");
	cr_expect(remote_irr(io, 2), "remote IRR clear after sending");
	cr_expect(reg_rd(io, IOAPIC_IDX_REDTBL + 4) & IOAPIC_RTE_REMOTE_IRR,
	          "remote IRR not visible through IOWIN");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: no new message while remote IRR is set */
Test(ioapic, level_not_resent_while_remote_irr)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	line(io, 2, 0);
	cr_expect_eq(line(io, 2, 1), 0, "re-sent before EOI");
	ioapic_destroy(io);
}

/* A level input still asserted when unmasked is sent then */
Test(ioapic, level_sent_on_unmask_if_asserted)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 2, LEVEL_LO | (uint32_t)IOAPIC_RTE_MASKED, 0);
	cr_expect_eq(line(io, 2, 1), 0, "masked level sent");
	cr_expect_eq(rte_set(io, 2, LEVEL_LO, 0), 1, "unmask did not send the asserted level");
	ioapic_destroy(io);
}

Test(ioapic, level_not_sent_on_unmask_if_deasserted)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 2, LEVEL_LO | (uint32_t)IOAPIC_RTE_MASKED, 0);
	line(io, 2, 1);
	line(io, 2, 0);
	cr_expect_eq(rte_set(io, 2, LEVEL_LO, 0), 0, "unmask sent a withdrawn level");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: an EOI with the entry's vector clears remote IRR; still asserted: re-sent */
Test(ioapic, eoi_redelivers_asserted_level)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	ioapic_eoi(io, VEC, &r);
	cr_expect_eq(r.remote_irr_cleared, 1, "cleared %u", r.remote_irr_cleared);
	cr_expect_eq(r.n_msgs, 1, "re-delivery messages %u", r.n_msgs);
	cr_expect(remote_irr(io, 2), "remote IRR not set again by the re-delivery");
	ioapic_destroy(io);
}

Test(ioapic, eoi_after_deassert_only_clears_remote_irr)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	line(io, 2, 0);
	ioapic_eoi(io, VEC, &r);
	cr_expect(r.remote_irr_cleared == 1 && r.n_msgs == 0, "cleared %u messages %u",
	          r.remote_irr_cleared, r.n_msgs);
	cr_expect(!remote_irr(io, 2), "remote IRR still set");
	ioapic_destroy(io);
}

Test(ioapic, eoi_for_other_vector_has_no_effect)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	ioapic_eoi(io, VEC + 1, &r);
	cr_expect(r.remote_irr_cleared == 0 && remote_irr(io, 2), "EOI of another vector acted");
	ioapic_destroy(io);
}

/* IOxAPIC EOI register text: every entry with the vector has remote IRR cleared */
Test(ioapic, eoi_clears_every_entry_with_the_vector)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 4, LEVEL_LO, 0);
	rte_set(io, 5, LEVEL_LO, 0);
	line(io, 4, 1);
	line(io, 5, 1);
	line(io, 5, 0);
	ioapic_eoi(io, VEC, &r);
	cr_expect_eq(r.remote_irr_cleared, 2, "cleared %u", r.remote_irr_cleared);
	cr_expect(r.n_msgs == 1 && r.msgs[0].pin == 4, "re-delivery: %u messages, first pin %u",
	          r.n_msgs, r.n_msgs ? r.msgs[0].pin : 99);
	ioapic_destroy(io);
}

/* IOxAPIC (version 0x20): the EOI register at offset 0x40 */
Test(ioapic, eoi_register_clears_remote_irr_in_version_0x20)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	line(io, 2, 0);
	ioapic_mmio_write(io, IOAPIC_EOI, 4, VEC, &r);
	cr_expect_eq(r.remote_irr_cleared, 1, "EOI register cleared %u", r.remote_irr_cleared);
	cr_expect(!remote_irr(io, 2), "remote IRR still set");
	ioapic_destroy(io);
}

/* The 82093AA (version 0x11) has no EOI register */
Test(ioapic, eoi_register_absent_in_version_0x11)
{
	struct ioapic *io = mk(0x11, 24);

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	ioapic_mmio_write(io, IOAPIC_EOI, 4, VEC, NULL);
	cr_expect(remote_irr(io, 2), "0x40 write cleared remote IRR on a version 0x11 IOAPIC");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4 INTPOL: an active-low level input asserts when the line is low */
Test(ioapic, active_low_level_asserts_on_low_line)
{
	struct ioapic *io = mk(0x20, 24);

	line(io, 6, 1);
	rte_set(io, 6, LEVEL_LO | (uint32_t)IOAPIC_RTE_POLARITY, 0);
	cr_expect(!ioapic_pin_asserted(io, 6), "high line asserted with active low");
	cr_expect_eq(line(io, 6, 0), 1, "low line not sent");
	ioapic_destroy(io);
}

Test(ioapic, active_low_edge_fires_on_falling_line)
{
	struct ioapic *io = mk(0x20, 24);

	line(io, 6, 1);
	rte_set(io, 6, EDGE_LO | (uint32_t)IOAPIC_RTE_POLARITY, 0);
	cr_expect_eq(line(io, 6, 0), 1, "falling line did not fire an active-low edge");
	cr_expect_eq(line(io, 6, 1), 0, "rising line fired an active-low edge");
	ioapic_destroy(io);
}

/* ioapic_assert_irq takes the logical level and applies the entry's polarity */
Test(ioapic, logical_assert_follows_polarity)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	line(io, 6, 1);
	rte_set(io, 6, LEVEL_LO | (uint32_t)IOAPIC_RTE_POLARITY, 0);
	cr_assert(ioapic_assert_irq(io, 6, true, &r), "pin refused");
	cr_expect_eq(r.n_msgs, 1, "logical assert of an active-low pin not sent");
	cr_expect(ioapic_pin_asserted(io, 6), "pin not asserted");
	ioapic_assert_irq(io, 6, false, NULL);
	cr_expect(!ioapic_pin_asserted(io, 6), "pin still asserted after logical de-assert");
	ioapic_destroy(io);
}

/* Switching an entry to edge clears remote IRR (Linux's EOI emulation relies on it) */
Test(ioapic, switching_to_edge_clears_remote_irr)
{
	struct ioapic *io = mk(0x11, 24);

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	rte_set(io, 2, EDGE_LO | (uint32_t)IOAPIC_RTE_MASKED, 0);
	cr_expect(!remote_irr(io, 2), "remote IRR survived the switch to edge");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: NMI, SMI, INIT and ExtINT are treated as edge even if programmed level */
Test(ioapic, nmi_entry_programmed_level_acts_as_edge)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 7, LEVEL_LO | LAPIC_DM_NMI << 8, 0);
	ioapic_set_irq(io, 7, 1, &r);
	cr_assert_eq(r.n_msgs, 1, "NMI not sent");
	cr_expect(r.msgs[0].irq.delivery_mode == LAPIC_DM_NMI && !r.msgs[0].irq.trigger_level,
	          "NMI message dm %u level %d", r.msgs[0].irq.delivery_mode,
	          r.msgs[0].irq.trigger_level);
	cr_expect(!remote_irr(io, 7), "NMI set remote IRR");
	line(io, 7, 0);
	cr_expect_eq(line(io, 7, 1), 1, "second NMI edge not sent");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: delivery modes 011b and 110b are reserved: nothing is sent */
Test(ioapic, reserved_delivery_mode_sends_nothing)
{
	struct ioapic *io = mk(0x20, 24);

	rte_set(io, 8, EDGE_LO | 3u << 8, 0);
	cr_expect_eq(line(io, 8, 1), 0, "mode 3 sent");
	ioapic_destroy(io);
}

/* 82093AA 3.2.4: logical destination mode and lowest priority travel in the message */
Test(ioapic, message_carries_logical_lowest_priority)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 9, EDGE_LO | LAPIC_DM_LOWEST << 8 | (uint32_t)IOAPIC_RTE_DEST_LOGICAL,
	        0x0F000000);
	ioapic_set_irq(io, 9, 1, &r);
	cr_assert_eq(r.n_msgs, 1, "not sent");
	cr_expect(r.msgs[0].irq.dest_logical && r.msgs[0].irq.dest == 0x0F &&
	              r.msgs[0].irq.delivery_mode == LAPIC_DM_LOWEST,
	          "logical %d dest %#x dm %u", r.msgs[0].irq.dest_logical, r.msgs[0].irq.dest,
	          r.msgs[0].irq.delivery_mode);
	ioapic_destroy(io);
}

Test(ioapic, set_irq_out_of_range_pin_refused)
{
	struct ioapic *io = mk(0x20, 24);

	cr_expect(!ioapic_set_irq(io, 24, 1, NULL), "pin 24 of 24 accepted");
	cr_expect(!ioapic_pin_asserted(io, 24), "pin 24 asserted");
	ioapic_destroy(io);
}

Test(ioapic, create_rejects_impossible_configs)
{
	static const struct ioapic_config bad[] = {
	    {0, 0x20, 0}, {121, 0x20, 0}, {24, 0x12, 0}, {24, 0x20, 16}};

	for (int i = 0; i < 4; i++) {
		struct ioapic *io = NULL;
		struct hvsim_error err = {0};

		cr_expect_eq(ioapic_create(&bad[i], &io, &err), HVSIM_E_INPUT,
		             "pins %u version %#x id %u accepted", bad[i].pins, bad[i].version,
		             bad[i].id);
		cr_expect_null(io, "config %d: *out not NULL", i);
	}
}

Test(ioapic, reset_masks_every_entry_and_clears_ioregsel)
{
	struct ioapic *io = mk(0x20, 24);
	struct ioapic_result r;

	rte_set(io, 0, EDGE_LO, 0);
	ioapic_reset(io);
	cr_expect_eq(ioapic_redirection(io, 0), IOAPIC_RTE_MASKED, "entry 0 %#llx",
	             (unsigned long long)ioapic_redirection(io, 0));
	ioapic_mmio_read(io, IOAPIC_IOREGSEL, 4, &r);
	cr_expect_eq(r.value, 0, "IOREGSEL %#x", r.value);
	ioapic_destroy(io);
}

Test(ioapic, copy_restores_snapshot)
{
	struct ioapic *io = mk(0x20, 24), *snap = mk(0x20, 24);

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	ioapic_copy(snap, io);
	ioapic_eoi(io, VEC, NULL);
	line(io, 2, 0);
	ioapic_eoi(io, VEC, NULL);
	ioapic_copy(io, snap);
	cr_expect(remote_irr(io, 2) && ioapic_pin_asserted(io, 2), "snapshot not restored");
	cr_expect_eq(memcmp(io, snap, ioapic_state_size()), 0, "state bytes differ");
	ioapic_destroy(io);
	ioapic_destroy(snap);
}

Test(ioapic, invariants_hold_after_operations)
{
	struct ioapic *io = mk(0x20, 24);
	char msg[256];

	rte_set(io, 2, LEVEL_LO, 0);
	line(io, 2, 1);
	rte_set(io, 3, EDGE_LO, 0);
	line(io, 3, 1);
	ioapic_eoi(io, VEC, NULL);
	cr_expect(ioapic_check_invariants(io, msg, sizeof(msg)), "%s", msg);
	ioapic_destroy(io);
}

/* The checker names a remote IRR on an edge entry */
Test(ioapic, invariants_detect_remote_irr_on_edge_entry)
{
	struct ioapic *io = mk(0x20, 24);
	char msg[256];

	io->redtbl[5] = VEC | IOAPIC_RTE_REMOTE_IRR;
	cr_expect(!ioapic_check_invariants(io, msg, sizeof(msg)), "corruption not detected");
	cr_expect(strstr(msg, "pin 5") && strstr(msg, "remote IRR"), "message: %s", msg);
	ioapic_destroy(io);
}

/* The checker names an asserted, unmasked level entry that was never sent */
Test(ioapic, invariants_detect_lost_level_interrupt)
{
	struct ioapic *io = mk(0x20, 24);
	char msg[256];

	io->redtbl[6] = LEVEL_LO;
	io->level[6] = 1;
	cr_expect(!ioapic_check_invariants(io, msg, sizeof(msg)), "lost interrupt not detected");
	cr_expect(strstr(msg, "pin 6") != NULL, "message: %s", msg);
	ioapic_destroy(io);
}

/* 82093AA 3.2.2: only the configured pins have entries; the checker names the first unused slot
 * that holds anything, an entry or a level */
Test(ioapic, invariants_detect_state_past_the_configured_pins)
{
	struct ioapic *io = mk(0x20, 24);
	char msg[256];

	io->level[100] = 1;
	io->redtbl[90] = VEC;
	cr_expect(!ioapic_check_invariants(io, msg, sizeof(msg)), "unused entry not detected");
	cr_expect(strstr(msg, "pin 90") != NULL, "message names pin 90: %s", msg);
	io->redtbl[90] = 0;
	cr_expect(!ioapic_check_invariants(io, msg, sizeof(msg)), "unused level not detected");
	cr_expect(strstr(msg, "pin 100") != NULL, "message names pin 100: %s", msg);
	ioapic_destroy(io);
}

/* End to end: level IRQ -> LAPIC (TMR) -> INTA -> EOI broadcast -> IOAPIC re-delivers while the
 * line stays asserted */
Test(ioapic, level_irq_eoi_broadcast_cycle_with_lapic)
{
	struct ioapic *io = mk(0x20, 24);
	struct lapic_config c;
	struct lapic *l = NULL;
	struct ioapic_result r;
	struct lapic_result lr;

	lapic_config_default(&c);
	cr_assert_eq(lapic_create(&c, &l, NULL), HVSIM_OK);
	lapic_mmio_write(l, LAPIC_REG_SVR, 4, 0x1FF, 0, NULL);
	rte_set(io, 10, LEVEL_LO, 0);
	ioapic_set_irq(io, 10, 1, &r);
	cr_assert_eq(r.n_msgs, 1);
	cr_assert(lapic_accept(l, &r.msgs[0].irq, NULL), "LAPIC refused");
	cr_assert_eq(lapic_ack(l), VEC);
	lapic_mmio_write(l, LAPIC_REG_EOI, 4, 0, 0, &lr);
	cr_assert_eq(lr.eoi_broadcast, (int)VEC, "no EOI broadcast");
	ioapic_eoi(io, (uint8_t)lr.eoi_broadcast, &r);
	cr_expect_eq(r.n_msgs, 1, "still-asserted line not re-delivered");
	ioapic_destroy(io);
	lapic_destroy(l);
}

/* Directed EOI: with SVR[12] set there is no broadcast; the OS writes the IOAPIC EOI register */
Test(ioapic, directed_eoi_uses_eoi_register)
{
	struct ioapic *io = mk(0x20, 24);
	struct lapic_config c;
	struct lapic *l = NULL;
	struct ioapic_result r;
	struct lapic_result lr;

	lapic_config_default(&c);
	c.directed_eoi = true;
	cr_assert_eq(lapic_create(&c, &l, NULL), HVSIM_OK);
	lapic_mmio_write(l, LAPIC_REG_SVR, 4, 0x11FF, 0, NULL);
	rte_set(io, 10, LEVEL_LO, 0);
	ioapic_set_irq(io, 10, 1, &r);
	lapic_accept(l, &r.msgs[0].irq, NULL);
	lapic_ack(l);
	ioapic_set_irq(io, 10, 0, NULL);
	lapic_eoi(l, &lr);
	cr_expect_eq(lr.eoi_broadcast, -1, "broadcast despite SVR[12]");
	cr_expect(remote_irr(io, 10), "remote IRR cleared without an EOI");
	ioapic_mmio_write(io, IOAPIC_EOI, 4, VEC, &r);
	cr_expect(!remote_irr(io, 10), "EOI register did not clear remote IRR");
	ioapic_destroy(io);
	lapic_destroy(l);
}

#include <hvsim/prng.h>

#define RANDOM_OPS 20000

/* Every invariant survives a long seeded stream of register writes, line changes and EOIs */
Test(ioapic, invariants_hold_under_random_traffic)
{
	struct ioapic *io = mk(0x20, 24);
	struct sim_prng p;
	char msg[256];

	sim_prng_seed(&p, 9);
	for (int i = 0; i < RANDOM_OPS; i++) {
		uint64_t r = sim_prng_next(&p), v = sim_prng_next(&p);
		uint32_t pin = (uint32_t)(v >> 40) % 26;

		switch (r % 5) {
		case 0: reg_wr(io, IOAPIC_IDX_REDTBL + (uint32_t)(r >> 8) % 52, (uint32_t)v); break;
		case 1: ioapic_set_irq(io, pin, (int)(v & 1), NULL); break;
		case 2: ioapic_eoi(io, (uint8_t)(r >> 8) & 0x3F, NULL); break;
		case 3: ioapic_mmio_write(io, (uint32_t)(r >> 8) & 0x7C, 4, v, NULL); break;
		default: reg_wr(io, (uint32_t)(r >> 8) & 0xFF, (uint32_t)v); break;
		}
		if (!ioapic_check_invariants(io, msg, sizeof(msg)))
			cr_assert_fail("after op %d: %s", i, msg);
	}
	ioapic_destroy(io);
}
