/* Verifies lapic_set_directed_eoi (the hypervisor changing LVR[24] after the LAPIC was built, as
 * hvsim_vm_reload does for the kvm quirk split_irqchip_eoi_broadcast): on a LAPIC in its RESET
 * state it gives every register lapic_create gives with that configuration (SDM 11.4.8: LVR is
 * fixed by the configuration), either way; and withdrawing the capability clears SVR[12], which
 * is then reserved (SDM 11.8.5). Registers are compared through lapic_reg_peek. */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

static struct lapic *make(bool directed_eoi)
{
	struct lapic_config cfg;
	struct hvsim_error err = {0};
	struct lapic *l = NULL;

	lapic_config_default(&cfg);
	cfg.directed_eoi = directed_eoi;
	cr_assert_eq(lapic_create(&cfg, &l, &err), HVSIM_OK, "lapic_create: %s", err.msg);
	return l;
}

Test(lapic_directed_eoi, set_on_a_reset_lapic_equals_the_lapic_built_with_it)
{
	for (int from = 0; from < 2; from++) {
		struct lapic *got = make(from), *want = make(!from);

		lapic_set_directed_eoi(got, !from);
		cr_assert_eq(lapic_get_config(got)->directed_eoi, !from, "from %d: config", from);
		for (uint32_t off = 0; off < 0x400; off += 0x10)
			cr_assert_eq(lapic_reg_peek(got, off, 0), lapic_reg_peek(want, off, 0),
			             "from %d: register %#x is %#x, built with it %#x", from, off,
			             lapic_reg_peek(got, off, 0), lapic_reg_peek(want, off, 0));
		lapic_destroy(got);
		lapic_destroy(want);
	}
}

Test(lapic_directed_eoi, withdrawing_it_clears_svr_bit_12)
{
	struct lapic *l = make(true);
	uint32_t svr;

	lapic_mmio_write(l, LAPIC_REG_SVR, 4, 0x1ff | LAPIC_SVR_SUPPRESS_EOI, 0, NULL);
	cr_assert(lapic_reg_peek(l, LAPIC_REG_SVR, 0) & LAPIC_SVR_SUPPRESS_EOI,
	          "SVR[12] writable while LVR[24] is set");
	lapic_set_directed_eoi(l, false);
	svr = lapic_reg_peek(l, LAPIC_REG_SVR, 0);
	cr_assert_eq(svr, 0x1ffu, "SVR %#x, wanted 0x1ff", svr);
	cr_assert_eq(lapic_reg_peek(l, LAPIC_REG_LVR, 0) & LAPIC_LVR_DIRECTED_EOI, 0u, "LVR[24]");
	lapic_destroy(l);
}
