/* Verifies the local APIC life cycle: IA32_APIC_BASE (EN/EXTD transitions and their #GP cases,
 * reserved bits against MAXPHYADDR, BSP, relocation reported to the owner), RESET and INIT state,
 * snapshots by copy, configuration validation, and the invariant checker (which must hold after
 * every legal operation and must name the invariant when state is corrupted on purpose through
 * the private header). Each test builds its own LAPIC. */
#include <criterion/criterion.h>
#include <string.h>

#include <hvsim/lapic.h>

#include "../models/lapic_int.h"

#define BASE_EN   (LAPIC_DEFAULT_BASE | LAPIC_BASE_EN)
#define BASE_X2   (BASE_EN | LAPIC_BASE_EXTD)
#define BASE_OFF  LAPIC_DEFAULT_BASE
#define MSG_BYTES 256

static struct lapic *mk_cfg(const struct lapic_config *cfg)
{
	struct lapic *l = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(lapic_create(cfg, &l, &err), HVSIM_OK, "lapic_create: %s", err.msg);
	return l;
}

static struct lapic *mk(void)
{
	struct lapic_config c;

	lapic_config_default(&c);
	c.bsp = false;
	return mk_cfg(&c);
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

static bool set_base(struct lapic *l, uint64_t v)
{
	struct lapic_result r;

	lapic_set_apic_base(l, v, 0, &r);
	return !r.gp;
}

static void expect_invariants(const struct lapic *l, const char *when)
{
	char msg[MSG_BYTES];

	cr_expect(lapic_check_invariants(l, 0, msg, sizeof(msg)), "%s: %s", when, msg);
}

/* SDM 11.4.4 "Local APIC Status and Location": reset base 0xFEE00000, enabled, BSP flag */
Test(lapic_base, reset_value_has_default_base_enable_and_bsp)
{
	struct lapic_config c;
	struct lapic *bsp, *ap;

	lapic_config_default(&c);
	bsp = mk_cfg(&c);
	c.bsp = false;
	ap = mk_cfg(&c);
	cr_expect_eq(lapic_get_apic_base(bsp), UINT64_C(0xFEE00900), "BSP base: got %#llx",
	             (unsigned long long)lapic_get_apic_base(bsp));
	cr_expect_eq(lapic_get_apic_base(ap), UINT64_C(0xFEE00800), "AP base: got %#llx",
	             (unsigned long long)lapic_get_apic_base(ap));
	lapic_destroy(bsp);
	lapic_destroy(ap);
}

Test(lapic_base, msr_read_returns_apic_base)
{
	struct lapic *l = mk();
	uint64_t v;

	cr_assert(lapic_msr_read(l, MSR_IA32_APIC_BASE, &v, 0, NULL), "0x1B not handled");
	cr_expect_eq(v, BASE_EN, "RDMSR 0x1B: got %#llx", (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.12.5.1: xAPIC -> x2APIC by setting EXTD is legal */
Test(lapic_base, xapic_to_x2apic_allowed)
{
	struct lapic *l = mk();

	cr_expect(set_base(l, BASE_X2), "xAPIC -> x2APIC refused");
	cr_expect_eq(lapic_get_mode(l), LAPIC_MODE_X2APIC, "mode %d", lapic_get_mode(l));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: x2APIC -> xAPIC directly raises #GP */
Test(lapic_base, x2apic_to_xapic_raises_gp)
{
	struct lapic *l = mk();

	set_base(l, BASE_X2);
	cr_expect(!set_base(l, BASE_EN), "x2APIC -> xAPIC accepted");
	cr_expect_eq(lapic_get_apic_base(l), BASE_X2, "faulting write changed the MSR");
	lapic_destroy(l);
}

/* SDM 11.12.5.1: disabled -> x2APIC raises #GP */
Test(lapic_base, disabled_to_x2apic_raises_gp)
{
	struct lapic *l = mk();

	set_base(l, BASE_OFF);
	cr_expect(!set_base(l, BASE_X2), "disabled -> x2APIC accepted");
	lapic_destroy(l);
}

/* SDM 11.12.5.1: EN=0 EXTD=1 is the invalid state */
Test(lapic_base, extd_without_en_raises_gp)
{
	struct lapic *l = mk();

	cr_expect(!set_base(l, BASE_OFF | LAPIC_BASE_EXTD), "xAPIC -> EN=0,EXTD=1 accepted");
	set_base(l, BASE_X2);
	cr_expect(!set_base(l, BASE_OFF | LAPIC_BASE_EXTD), "x2APIC -> EN=0,EXTD=1 accepted");
	lapic_destroy(l);
}

/* SDM 11.12.5.1: x2APIC -> disabled -> xAPIC is the legal way back */
Test(lapic_base, x2apic_to_xapic_through_disabled_allowed)
{
	struct lapic *l = mk();

	set_base(l, BASE_X2);
	cr_expect(set_base(l, BASE_OFF), "x2APIC -> disabled refused");
	cr_expect(set_base(l, BASE_EN), "disabled -> xAPIC refused");
	cr_expect_eq(lapic_get_mode(l), LAPIC_MODE_XAPIC, "mode %d", lapic_get_mode(l));
	expect_invariants(l, "after the round trip");
	lapic_destroy(l);
}

/* SDM 11.12.1: EXTD is reserved when CPUID does not report x2APIC */
Test(lapic_base, extd_reserved_without_x2apic_support)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.x2apic = false;
	l = mk_cfg(&c);
	cr_expect(!set_base(l, BASE_X2 | LAPIC_BASE_BSP), "EXTD accepted without x2APIC");
	lapic_destroy(l);
}

/* SDM 11.4.4: bits 7:0 and 9 are reserved */
Test(lapic_base, low_reserved_bits_raise_gp)
{
	static const uint64_t bits[] = {1u << 0, 1u << 7, 1u << 9};
	struct lapic *l = mk();

	for (int i = 0; i < 3; i++)
		cr_expect(!set_base(l, BASE_EN | bits[i]), "reserved bit %#llx accepted",
		          (unsigned long long)bits[i]);
	lapic_destroy(l);
}

/* SDM 11.4.4: base bits at or above MAXPHYADDR are reserved */
Test(lapic_base, bits_above_maxphyaddr_raise_gp)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.maxphyaddr = 36;
	l = mk_cfg(&c);
	cr_expect(!set_base(l, BASE_EN | UINT64_C(1) << 36), "bit 36 accepted at MAXPHYADDR 36");
	cr_expect(!set_base(l, BASE_EN | UINT64_C(1) << 63), "bit 63 accepted");
	cr_expect(set_base(l, UINT64_C(0xF00000000) | LAPIC_BASE_EN), "bit 35 refused");
	lapic_destroy(l);
}

/* SDM Table 2-2: the BSP flag is read/write */
Test(lapic_base, bsp_flag_writable)
{
	struct lapic *l = mk();

	cr_expect(set_base(l, BASE_EN | LAPIC_BASE_BSP), "setting BSP refused");
	cr_expect(lapic_get_apic_base(l) & LAPIC_BASE_BSP, "BSP not set");
	lapic_destroy(l);
}

/* SDM 11.4.5 "Relocating the Local APIC Registers": the owner learns the new page address */
Test(lapic_base, relocation_reports_new_mmio_base)
{
	struct lapic *l = mk();
	struct lapic_result r;

	lapic_set_apic_base(l, UINT64_C(0xFED00000) | LAPIC_BASE_EN, 0, &r);
	cr_expect(!r.gp && r.base_changed, "relocation: gp=%d changed=%d", r.gp, r.base_changed);
	cr_expect(r.mmio_enabled, "page not decoding after relocation");
	cr_expect_eq(r.mmio_base, UINT64_C(0xFED00000), "mmio_base %#llx",
	             (unsigned long long)r.mmio_base);
	lapic_destroy(l);
}

Test(lapic_base, unchanged_value_is_not_a_change)
{
	struct lapic *l = mk();
	struct lapic_result r;

	lapic_set_apic_base(l, BASE_EN, 0, &r);
	cr_expect(!r.gp && !r.base_changed, "rewriting the same value: gp=%d changed=%d", r.gp,
	          r.base_changed);
	lapic_destroy(l);
}

/* SDM 11.4.3, 11.12.1.2: the page decodes only in xAPIC mode */
Test(lapic_base, page_decodes_only_in_xapic_mode)
{
	struct lapic *l = mk();
	struct lapic_result r;

	lapic_set_apic_base(l, BASE_X2, 0, &r);
	cr_expect(!r.mmio_enabled, "page decodes in x2APIC mode");
	lapic_set_apic_base(l, BASE_OFF, 0, &r);
	cr_expect(!r.mmio_enabled, "page decodes while disabled");
	lapic_set_apic_base(l, BASE_EN, 0, &r);
	cr_expect(r.mmio_enabled, "page does not decode in xAPIC mode");
	lapic_destroy(l);
}

/* SDM 11.4.3: global disable loses the register state (back to the reset values) */
Test(lapic_base, global_disable_resets_registers)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_TPR, 0x40);
	wr(l, LAPIC_REG_LVT_LINT0, 0x700);
	set_base(l, BASE_OFF);
	set_base(l, BASE_EN);
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0, "TPR survived disable: %#x", rd(l, 0x80));
	cr_expect_eq(rd(l, LAPIC_REG_SVR), 0xFF, "SVR survived disable: %#x", rd(l, 0xF0));
	cr_expect_eq(rd(l, LAPIC_REG_LVT_LINT0), 0x10000, "LINT0 survived disable: %#x",
	             rd(l, 0x350));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: the (software-written) xAPIC ID survives a disable/enable */
Test(lapic_base, global_disable_keeps_xapic_id)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_ID, 0x05000000);
	set_base(l, BASE_OFF);
	set_base(l, BASE_EN);
	cr_expect_eq(rd(l, LAPIC_REG_ID), 0x05000000, "ID after disable/enable: %#x", rd(l, 0x20));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: xAPIC -> x2APIC keeps other register values (only ID and LDR change) */
Test(lapic_base, x2apic_switch_keeps_tpr_and_svr)
{
	struct lapic *l = mk();
	uint64_t v;

	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_TPR, 0x40);
	set_base(l, BASE_X2);
	lapic_msr_read(l, 0x808, &v, 0, NULL);
	cr_expect_eq(v, 0x40, "TPR after switch: %#llx", (unsigned long long)v);
	lapic_msr_read(l, 0x80F, &v, 0, NULL);
	cr_expect_eq(v, 0x1FF, "SVR after switch: %#llx", (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.4.7.3: INIT keeps the APIC ID and resets everything else */
Test(lapic_base, init_keeps_id_resets_other_registers)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_ID, 0x09000000);
	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_TPR, 0x40);
	wr(l, LAPIC_REG_LDR, 0x01000000);
	lapic_init_reset(l, NULL);
	cr_expect_eq(rd(l, LAPIC_REG_ID), 0x09000000, "ID after INIT: %#x", rd(l, 0x20));
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0, "TPR after INIT: %#x", rd(l, 0x80));
	cr_expect_eq(rd(l, LAPIC_REG_LDR), 0, "LDR after INIT: %#x", rd(l, 0xD0));
	cr_expect_eq(rd(l, LAPIC_REG_SVR), 0xFF, "SVR after INIT: %#x", rd(l, 0xF0));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: INIT keeps x2APIC mode and IA32_APIC_BASE */
Test(lapic_base, init_keeps_x2apic_mode)
{
	struct lapic *l = mk();

	set_base(l, BASE_X2);
	lapic_init_reset(l, NULL);
	cr_expect_eq(lapic_get_apic_base(l), BASE_X2, "base after INIT: %#llx",
	             (unsigned long long)lapic_get_apic_base(l));
	expect_invariants(l, "after INIT in x2APIC mode");
	lapic_destroy(l);
}

/* SDM 11.12.5.1: INIT in the disabled state stays disabled */
Test(lapic_base, init_keeps_disabled_state)
{
	struct lapic *l = mk();

	set_base(l, BASE_OFF);
	lapic_init_reset(l, NULL);
	cr_expect_eq(lapic_get_mode(l), LAPIC_MODE_DISABLED, "mode after INIT: %d",
	             lapic_get_mode(l));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: RESET returns an x2APIC to xAPIC mode with the hardware ID */
Test(lapic_base, reset_returns_to_xapic_with_hardware_id)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.apic_id = 3;
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_ID, 0x07000000);
	set_base(l, BASE_X2 | LAPIC_BASE_BSP);
	lapic_reset(l);
	cr_expect_eq(lapic_get_mode(l), LAPIC_MODE_XAPIC, "mode after RESET %d", lapic_get_mode(l));
	cr_expect_eq(rd(l, LAPIC_REG_ID), 0x03000000, "ID after RESET: %#x", rd(l, 0x20));
	lapic_destroy(l);
}

/* Snapshots: lapic_copy (or a copy of lapic_state_size() bytes) restores every behaviour */
Test(lapic_base, copy_restores_snapshot)
{
	struct lapic *l = mk(), *snap = mk();
	uint64_t d1, d2;

	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_LVT_TIMER, 0x20030);
	wr(l, LAPIC_REG_TMICT, 1000);
	lapic_copy(snap, l);
	wr(l, LAPIC_REG_TMICT, 0);
	wr(l, LAPIC_REG_TPR, 0x80);
	lapic_copy(l, snap);
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0, "TPR not restored: %#x", rd(l, 0x80));
	cr_expect(lapic_timer_deadline(l, &d1) && lapic_timer_deadline(snap, &d2) && d1 == d2,
	          "timer deadline not restored");
	lapic_destroy(l);
	lapic_destroy(snap);
}

Test(lapic_base, state_bytes_are_a_snapshot)
{
	struct lapic *a = mk(), *b = mk();

	wr(a, LAPIC_REG_TPR, 0x70);
	memcpy(b, a, lapic_state_size());
	cr_expect_eq(rd(b, LAPIC_REG_TPR), 0x70, "memcpy snapshot lost TPR: %#x", rd(b, 0x80));
	lapic_destroy(a);
	lapic_destroy(b);
}

struct bad_cfg {
	const char *what;
	void (*apply)(struct lapic_config *);
};

static void bad_version(struct lapic_config *c)
{
	c->version = 0x10;
}
static void bad_max_lvt(struct lapic_config *c)
{
	c->max_lvt = 4;
}
static void bad_maxphyaddr(struct lapic_config *c)
{
	c->maxphyaddr = 53;
}
static void bad_bus(struct lapic_config *c)
{
	c->apic_bus_khz = 0;
}
static void bad_tsc(struct lapic_config *c)
{
	c->tsc_khz = 0;
}
static void bad_id(struct lapic_config *c)
{
	c->apic_id = UINT32_MAX;
}
static void bad_xapic_id(struct lapic_config *c)
{
	c->x2apic = false;
	c->apic_id = 0x100;
}

/* A config no hardware could have is refused with a message, never an abort */
Test(lapic_base, create_rejects_impossible_configs)
{
	static const struct bad_cfg bad[] = {
	    {"version 0x10", bad_version},
	    {"max_lvt 4", bad_max_lvt},
	    {"maxphyaddr 53", bad_maxphyaddr},
	    {"bus 0 kHz", bad_bus},
	    {"tsc 0 kHz", bad_tsc},
	    {"ID 0xFFFFFFFF", bad_id},
	    {"xAPIC-only ID 0x100", bad_xapic_id},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lapic_config c;
		struct lapic *l = (struct lapic *)&c;
		struct hvsim_error err = {0};

		lapic_config_default(&c);
		bad[i].apply(&c);
		cr_expect_eq(lapic_create(&c, &l, &err), HVSIM_E_INPUT, "%s accepted", bad[i].what);
		cr_expect_null(l, "%s: *out not NULL", bad[i].what);
		cr_expect_neq(err.msg[0], '\0', "%s: no message", bad[i].what);
	}
}

Test(lapic_base, invariants_hold_after_reset_and_mode_changes)
{
	struct lapic *l = mk();

	expect_invariants(l, "after RESET");
	set_base(l, BASE_X2);
	expect_invariants(l, "in x2APIC mode");
	set_base(l, BASE_OFF);
	expect_invariants(l, "disabled");
	lapic_destroy(l);
}

static void expect_broken(struct lapic *l, const char *needle)
{
	char msg[MSG_BYTES];

	cr_expect(!lapic_check_invariants(l, 0, msg, sizeof(msg)), "corruption (%s) not detected",
	          needle);
	cr_expect(strstr(msg, needle) != NULL, "message '%s' does not name '%s'", msg, needle);
}

/* SDM 11.8.3.1: the checker notices a PPR that does not follow TPR/ISR */
Test(lapic_base, invariants_detect_inconsistent_ppr)
{
	struct lapic *l = mk();

	l->regs[SLOT(LAPIC_REG_PPR)] = 0x30;
	expect_broken(l, "PPR");
	lapic_destroy(l);
}

/* SDM 11.4.7.2: the checker notices an unmasked LVT while software disabled */
Test(lapic_base, invariants_detect_unmasked_lvt_while_sw_disabled)
{
	struct lapic *l = mk();

	l->regs[SLOT(LAPIC_REG_LVT_LINT1)] = 0x30;
	expect_broken(l, "masked while software disabled");
	lapic_destroy(l);
}

/* SDM 11.5.4: the checker notices a count above TMICT */
Test(lapic_base, invariants_detect_count_above_tmict)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_TMICT, 100);
	l->timer.base_count = 200;
	expect_broken(l, "TMICT");
	lapic_destroy(l);
}

/* SDM 11.12.10.2: the checker notices an x2APIC LDR that does not derive from the ID */
Test(lapic_base, invariants_detect_wrong_x2apic_ldr)
{
	struct lapic *l = mk();

	set_base(l, BASE_X2);
	l->regs[SLOT(LAPIC_REG_LDR)] = 0x2;
	expect_broken(l, "LDR");
	lapic_destroy(l);
}

#include <hvsim/prng.h>

#define RANDOM_OPS 20000

/* Writes a register through whichever interface the current mode decodes. */
static void reg_put(struct lapic *l, uint32_t off, uint32_t v, uint64_t now)
{
	if (lapic_get_mode(l) == LAPIC_MODE_X2APIC)
		lapic_msr_write(l, LAPIC_X2APIC_MSR_BASE + (off >> 4), v, now, NULL);
	else
		lapic_mmio_write(l, off, 4, v, now, NULL);
}

/* What a guest driver usually does: enable the APIC, program and start the timer. */
static void random_setup_op(struct lapic *l, uint64_t r, uint64_t v, uint64_t now)
{
	switch ((r >> 8) % 4) {
	case 0: reg_put(l, LAPIC_REG_SVR, 0x100 | (uint32_t)(v & 0xFF), now); break;
	case 1: reg_put(l, LAPIC_REG_LVT_TIMER, 0x20 | (uint32_t)(v & 0x70000), now); break;
	case 2: reg_put(l, LAPIC_REG_TMICT, (uint32_t)(v % 5000), now); break;
	default: reg_put(l, LAPIC_REG_TDCR, (uint32_t)(v & 0xB), now); break;
	}
}

/* One random operation of a guest, a device or the owner, chosen by the seeded PRNG. */
static void random_op(struct lapic *l, struct sim_prng *p, uint64_t now)
{
	static const uint32_t msrs[] = {MSR_IA32_APIC_BASE,
	                                MSR_IA32_TSC_DEADLINE,
	                                0x808,
	                                0x80B,
	                                0x80F,
	                                0x828,
	                                0x830,
	                                0x832,
	                                0x835,
	                                0x838,
	                                0x83E,
	                                0x83F};
	uint64_t r = sim_prng_next(p), v = sim_prng_next(p), out;
	struct lapic_irq m = {.vector = (uint8_t)v,
	                      .delivery_mode = (uint8_t)(v >> 8) & 7,
	                      .level = true,
	                      .trigger_level = (v >> 12) & 1};

	switch (r % 16) {
	case 0: lapic_mmio_write(l, (uint32_t)(v >> 32) & 0x3F0, 4, v, now, NULL); break;
	case 1:
		lapic_mmio_read(l, (uint32_t)(v >> 32) & 0xFFF, 1u << (r >> 8) % 4, &out, now,
		                NULL);
		break;
	case 2:
		lapic_msr_write(l, msrs[(r >> 8) % 12], v & (r & 0x100 ? ~0ull : 0x3FFFF), now,
		                NULL);
		break;
	case 3: lapic_msr_read(l, 0x800 + (uint32_t)(r >> 8) % 0x40, &out, now, NULL); break;
	case 4:
	case 5: lapic_accept(l, &m, NULL); break;
	case 6: lapic_ack(l); break;
	case 7: lapic_eoi(l, NULL); break;
	case 8: lapic_lvt_fire(l, (enum lapic_lvt)((r >> 8) % LAPIC_LVT_COUNT), NULL); break;
	case 9:
		if ((r >> 8) % 8 == 0)
			lapic_set_apic_base(l, LAPIC_DEFAULT_BASE | (v & 0xD00), now, NULL);
		break;
	case 10:
		if ((r >> 8) % 16 == 0)
			lapic_init_reset(l, NULL);
		break;
	case 11: lapic_set_tsc_offset(l, v >> 40, now, NULL); break;
	case 12:
		lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, lapic_guest_tsc(l, now) + v % 4000, now,
		                NULL);
		break;
	default: random_setup_op(l, r, v, now); break;
	}
}

/* Every invariant survives a long seeded stream of arbitrary register traffic and events */
Test(lapic_base, invariants_hold_under_random_traffic)
{
	struct lapic *l = mk();
	struct sim_prng p;
	char msg[MSG_BYTES];
	uint64_t now = 0;

	sim_prng_seed(&p, 4);
	for (int i = 0; i < RANDOM_OPS; i++) {
		uint64_t next;

		now += sim_prng_below(&p, 500);
		if (lapic_timer_deadline(l, &next) && next <= now && sim_prng_below(&p, 2))
			lapic_timer_expire(l, now, NULL);
		random_op(l, &p, now);
		if (!lapic_check_invariants(l, now, msg, sizeof(msg)))
			cr_assert_fail("after op %d at %llu ns: %s", i, (unsigned long long)now,
			               msg);
	}
	lapic_destroy(l);
}
