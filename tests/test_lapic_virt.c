/* Verifies the APIC-virtualization support functions (models/lapic_virt.c): IRR/ISR move between
 * the model and a virtual-APIC page image unchanged, illegal vectors 0-15 never enter (SDM 11.5.2),
 * and PPR follows the loaded ISR and TPR (SDM 11.8.3.1). */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

static struct lapic *new_lapic(void)
{
	struct lapic_config cfg;
	struct lapic *l = NULL;
	struct hvsim_error err = {0};

	lapic_config_default(&cfg);
	cr_assert_eq(lapic_create(&cfg, &l, &err), HVSIM_OK, "%s", err.msg);
	return l;
}

Test(lapic_virt, vectors_round_trip)
{
	struct lapic *l = new_lapic();
	uint32_t irr[8] = {0}, isr[8] = {0}, got_irr[8], got_isr[8];

	irr[1] = 1u << 5;  /* vector 0x25 */
	isr[7] = 1u << 12; /* vector 0xec */
	lapic_set_vectors(l, irr, isr);
	lapic_get_vectors(l, got_irr, got_isr, NULL);
	for (int i = 0; i < 8; i++)
		cr_assert(got_irr[i] == irr[i] && got_isr[i] == isr[i],
		          "word %d: wanted irr %#x isr %#x, got %#x %#x", i, irr[i], isr[i],
		          got_irr[i], got_isr[i]);
	cr_assert_eq(lapic_highest_isr(l), 0xec);
	lapic_destroy(l);
}

/* SDM 11.5.2: vectors 0-15 are illegal and never pend or enter service. */
Test(lapic_virt, illegal_vectors_are_dropped)
{
	struct lapic *l = new_lapic();
	uint32_t all[8] = {~0u, 0, 0, 0, 0, 0, 0, 0}, got[8];

	lapic_set_vectors(l, all, all);
	lapic_get_vectors(l, got, NULL, NULL);
	cr_assert_eq(got[0], 0xffff0000u, "IRR word 0: wanted 0xffff0000, got %#x", got[0]);
	lapic_destroy(l);
}

/* SDM 11.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
Test(lapic_virt, ppr_follows_loaded_isr_and_tpr)
{
	struct lapic *l = new_lapic();
	uint32_t irr[8] = {0}, isr[8] = {0};

	isr[7] = 1u << 12; /* 0xec in service */
	lapic_set_vectors(l, irr, isr);
	cr_assert_eq(lapic_reg_peek(l, LAPIC_REG_PPR, 0), 0xe0);
	lapic_set_tpr(l, 0xf3);
	cr_assert_eq(lapic_reg_peek(l, LAPIC_REG_PPR, 0), 0xf3);
	lapic_destroy(l);
}
