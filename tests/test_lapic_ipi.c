/* Verifies interprocessor interrupts: decoding of xAPIC ICR writes (ICR_LO sends), the 64-bit
 * x2APIC ICR and SELF IPI MSRs into messages, the sender-side errors (illegal vector, lowest
 * priority in x2APIC mode or when unsupported, reserved modes), and the pure routing helper for
 * physical, logical flat, logical cluster and x2APIC logical destinations, broadcasts, shorthands
 * and the deterministic lowest-priority choice. Routing tests describe the APICs with plain
 * lapic_dest_info values; end-to-end tests use real LAPICs. Each test builds its own state. */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

#define FLAT    0xFFFFFFFFu
#define CLUSTER 0x0FFFFFFFu

static struct lapic *mk_cfg(const struct lapic_config *cfg)
{
	struct lapic *l = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(lapic_create(cfg, &l, &err), HVSIM_OK, "lapic_create: %s", err.msg);
	return l;
}

static struct lapic *mk_id(uint32_t id)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.apic_id = id;
	l = mk_cfg(&c);
	lapic_mmio_write(l, LAPIC_REG_SVR, 4, 0x1FF, 0, NULL);
	return l;
}

static struct lapic *mk_x2(uint32_t id)
{
	struct lapic *l = mk_id(id);
	struct lapic_result r;

	lapic_set_apic_base(l, lapic_get_apic_base(l) | LAPIC_BASE_EXTD, 0, &r);
	cr_assert(!r.gp, "x2APIC switch refused");
	return l;
}

static void wr(struct lapic *l, uint32_t off, uint32_t v, struct lapic_result *r)
{
	lapic_mmio_write(l, off, 4, v, 0, r);
}

static uint32_t x2_esr(struct lapic *l)
{
	uint64_t v;

	lapic_msr_write(l, 0x828, 0, 0, NULL);
	lapic_msr_read(l, 0x828, &v, 0, NULL);
	return (uint32_t)v;
}

static uint32_t x_esr(struct lapic *l)
{
	uint64_t v;

	wr(l, LAPIC_REG_ESR, 0, NULL);
	lapic_mmio_read(l, LAPIC_REG_ESR, 4, &v, 0, NULL);
	return (uint32_t)v;
}

static struct lapic_dest_info cpu_x(uint32_t id, uint32_t ldr, uint32_t dfr)
{
	struct lapic_dest_info c = {
	    .id = id, .ldr = ldr, .dfr = dfr, .mode = LAPIC_MODE_XAPIC, .sw_enabled = true};

	return c;
}

static struct lapic_dest_info cpu_x2(uint32_t id)
{
	struct lapic_dest_info c = {.id = id,
	                            .ldr = ((id >> 4) << 16) | (1u << (id & 15)),
	                            .mode = LAPIC_MODE_X2APIC,
	                            .sw_enabled = true};

	return c;
}

static struct lapic_irq to(uint32_t dest, bool logical, bool x2)
{
	struct lapic_irq m = {.dest = dest,
	                      .vector = 0x40,
	                      .dest_logical = logical,
	                      .x2apic_format = x2,
	                      .level = true};

	return m;
}

/* Routes m among n CPUs from src and returns the destination set as a bit mask. */
static unsigned route_mask(const struct lapic_dest_info *cpus, unsigned n, int src,
                           const struct lapic_irq *m)
{
	bool dest[8];
	unsigned mask = 0, count;

	cr_assert(n <= 8);
	count = lapic_route(cpus, n, src, m, dest);
	for (unsigned i = 0; i < n; i++)
		mask |= (unsigned)dest[i] << i;
	cr_assert_eq((unsigned)__builtin_popcount(mask), count, "count %u vs set %#x", count, mask);
	return mask;
}

/* SDM 11.6.1: writing ICR_LO sends the IPI described by ICR_LO and ICR_HI */
Test(lapic_ipi, xapic_icr_low_write_sends_ipi)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_HI, 0x03000000, &r);
	cr_expect(!r.ipi, "ICR_HI write sent an IPI");
	wr(l, LAPIC_REG_ICR_LO, 0x4F, &r);
	cr_assert(r.ipi, "ICR_LO write sent nothing");
	cr_expect(r.ipi_msg.vector == 0x4F && r.ipi_msg.delivery_mode == LAPIC_DM_FIXED &&
	              !r.ipi_msg.dest_logical && r.ipi_msg.shorthand == LAPIC_SH_NONE &&
	              r.ipi_msg.dest == 3 && !r.ipi_msg.x2apic_format,
	          "message vec %#x dm %u logical %d sh %u dest %#x x2 %d", r.ipi_msg.vector,
	          r.ipi_msg.delivery_mode, r.ipi_msg.dest_logical, r.ipi_msg.shorthand,
	          r.ipi_msg.dest, r.ipi_msg.x2apic_format);
	cr_expect_eq(r.icr, UINT64_C(0x030000000000004F), "raw ICR %#llx",
	             (unsigned long long)r.icr);
	lapic_destroy(l);
}

/* SDM 11.6.1: the model sends at once, so delivery status reads idle */
Test(lapic_ipi, icr_delivery_status_reads_idle)
{
	struct lapic *l = mk_id(0);
	uint64_t v;

	wr(l, LAPIC_REG_ICR_LO, 0x40, NULL);
	lapic_mmio_read(l, LAPIC_REG_ICR_LO, 4, &v, 0, NULL);
	cr_expect_eq(v, 0x40, "ICR_LO %#llx", (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.6.1: on Pentium 4 and later IPIs are issued with Level = 1 and edge trigger */
Test(lapic_ipi, ipi_issued_as_edge_assert)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0x8040, &r);
	cr_assert(r.ipi, "no IPI");
	cr_expect(r.ipi_msg.level && !r.ipi_msg.trigger_level, "level %d trigger_level %d",
	          r.ipi_msg.level, r.ipi_msg.trigger_level);
	lapic_destroy(l);
}

/* SDM 11.12.9: one WRMSR to 0x830 sends, with a 32-bit destination */
Test(lapic_ipi, x2apic_icr_sends_32bit_destination)
{
	struct lapic *l = mk_x2(0);
	struct lapic_result r;

	lapic_msr_write(l, 0x830, UINT64_C(0x12345) << 32 | 0x0831, 0, &r);
	cr_assert(r.ipi && !r.gp, "no IPI (gp %d)", r.gp);
	cr_expect(r.ipi_msg.dest == 0x12345 && r.ipi_msg.dest_logical && r.ipi_msg.x2apic_format &&
	              r.ipi_msg.vector == 0x31,
	          "dest %#x logical %d x2 %d vec %#x", r.ipi_msg.dest, r.ipi_msg.dest_logical,
	          r.ipi_msg.x2apic_format, r.ipi_msg.vector);
	lapic_destroy(l);
}

/* SDM 11.12.9: lowest priority is reserved in x2APIC mode: "Redirectable IPI", nothing sent */
Test(lapic_ipi, x2apic_lowest_priority_sets_redirectable_ipi)
{
	struct lapic *l = mk_x2(0);
	struct lapic_result r;

	lapic_msr_write(l, 0x830, 0x0140, 0, &r);
	cr_expect(!r.ipi && !r.gp, "ipi %d gp %d", r.ipi, r.gp);
	cr_expect_eq(x2_esr(l), LAPIC_ESR_REDIRECTABLE, "ESR %#x", x2_esr(l));
	lapic_destroy(l);
}

/* SDM 11.6.1 Table 11-3 note 1: sending lowest priority is model specific */
Test(lapic_ipi, xapic_lowest_priority_unsupported_sets_redirectable_ipi)
{
	struct lapic_config c;
	struct lapic *l;
	struct lapic_result r;

	lapic_config_default(&c);
	c.lowest_priority_ipi = false;
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_SVR, 0x1FF, NULL);
	wr(l, LAPIC_REG_ICR_LO, 0x0140, &r);
	cr_expect(!r.ipi, "lowest-priority IPI sent without support");
	cr_expect_eq(x_esr(l), LAPIC_ESR_REDIRECTABLE, "ESR %#x", x_esr(l));
	lapic_destroy(l);
}

Test(lapic_ipi, xapic_lowest_priority_supported_is_sent)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0x0140, &r);
	cr_expect(r.ipi && r.ipi_msg.delivery_mode == LAPIC_DM_LOWEST, "lowest-priority not sent");
	lapic_destroy(l);
}

/* SDM 11.12.9: lowest priority plus an illegal vector sets only "Redirectable IPI" */
Test(lapic_ipi, lowest_priority_with_illegal_vector_sets_only_redirectable)
{
	struct lapic *l = mk_x2(0);

	lapic_msr_write(l, 0x830, 0x0105, 0, NULL);
	cr_expect_eq(x2_esr(l), LAPIC_ESR_REDIRECTABLE, "ESR %#x", x2_esr(l));
	lapic_destroy(l);
}

/* SDM 11.5.3: an ICR write with vector 0-15 sets "Send Illegal Vector" */
Test(lapic_ipi, illegal_vector_sets_send_illegal_vector)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0x0F, &r);
	cr_expect(!r.ipi, "illegal vector sent");
	cr_expect_eq(x_esr(l), LAPIC_ESR_SEND_ILLEGAL, "ESR %#x", x_esr(l));
	lapic_destroy(l);
}

/* The vector field is not checked for NMI, INIT and SIPI */
Test(lapic_ipi, nmi_init_startup_ignore_vector_legality)
{
	static const uint32_t lo[] = {0x400, 0x500, 0x600};

	for (int i = 0; i < 3; i++) {
		struct lapic *l = mk_id(0);
		struct lapic_result r;

		wr(l, LAPIC_REG_ICR_LO, lo[i], &r);
		cr_expect(r.ipi, "ICR_LO %#x not sent", lo[i]);
		cr_expect_eq(r.esr_errors, 0, "ICR_LO %#x errors %#x", lo[i], r.esr_errors);
		lapic_destroy(l);
	}
}

/* SDM 11.6.1: delivery modes 011b and 111b are reserved: nothing is sent */
Test(lapic_ipi, reserved_delivery_mode_sends_nothing)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0x340, &r);
	cr_expect(!r.ipi, "mode 3 sent");
	wr(l, LAPIC_REG_ICR_LO, 0x740, &r);
	cr_expect(!r.ipi, "mode 7 sent");
	lapic_destroy(l);
}

Test(lapic_ipi, startup_ipi_carries_vector_page)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0x69F, &r);
	cr_expect(r.ipi && r.ipi_msg.delivery_mode == LAPIC_DM_STARTUP && r.ipi_msg.vector == 0x9F,
	          "SIPI message wrong");
	lapic_destroy(l);
}

/* SDM 11.6.1: the shorthand field is bits 19:18 */
Test(lapic_ipi, shorthand_decoded_from_icr)
{
	struct lapic *l = mk_id(0);
	struct lapic_result r;

	wr(l, LAPIC_REG_ICR_LO, 0xC0040, &r);
	cr_expect(r.ipi && r.ipi_msg.shorthand == LAPIC_SH_ALL_BUT, "shorthand %u",
	          r.ipi_msg.shorthand);
	lapic_destroy(l);
}

/* SDM 11.12.11 "SELF IPI Register": a fixed, edge IPI to self */
Test(lapic_ipi, self_ipi_msr_sends_fixed_to_self)
{
	struct lapic *l = mk_x2(0);
	struct lapic_result r;

	lapic_msr_write(l, 0x83F, 0x55, 0, &r);
	cr_assert(r.ipi, "SELF IPI sent nothing");
	cr_expect(r.ipi_msg.vector == 0x55 && r.ipi_msg.shorthand == LAPIC_SH_SELF &&
	              r.ipi_msg.delivery_mode == LAPIC_DM_FIXED && !r.ipi_msg.trigger_level,
	          "SELF IPI message wrong");
	lapic_destroy(l);
}

/* SDM 11.5.3: SELF IPI with an illegal vector sets "Send Illegal Vector" */
Test(lapic_ipi, self_ipi_illegal_vector_sets_error)
{
	struct lapic *l = mk_x2(0);
	struct lapic_result r;

	lapic_msr_write(l, 0x83F, 0x07, 0, &r);
	cr_expect(!r.ipi, "illegal SELF IPI sent");
	cr_expect_eq(x2_esr(l), LAPIC_ESR_SEND_ILLEGAL, "ESR %#x", x2_esr(l));
	lapic_destroy(l);
}

/* SDM 11.6.2.1 "Physical Destination Mode" */
Test(lapic_ipi, route_physical_matches_apic_id)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0, FLAT), cpu_x(1, 0, FLAT), cpu_x(2, 0, FLAT)};
	struct lapic_irq m = to(2, false, false);

	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x4, "dest 2");
}

/* SDM 11.6.2.1: 0xFF is the physical broadcast */
Test(lapic_ipi, route_physical_broadcast_reaches_all)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0, FLAT), cpu_x(1, 0, FLAT), cpu_x(2, 0, FLAT)};
	struct lapic_irq m = to(0xFF, false, false);

	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x7, "broadcast");
}

/* SDM 11.12.9: x2APIC physical destinations are 32-bit IDs, broadcast 0xFFFFFFFF */
Test(lapic_ipi, route_x2apic_physical_32bit_ids)
{
	struct lapic_dest_info cpus[3] = {cpu_x2(0x100), cpu_x2(0x200), cpu_x2(0xFF)};
	struct lapic_irq m = to(0x200, false, true);

	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x2, "dest 0x200");
	m.dest = 0xFF;
	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x4, "0xFF is an ID in x2APIC format");
	m.dest = 0xFFFFFFFF;
	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x7, "x2APIC broadcast");
	m.dest_logical = true;
	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x7, "x2APIC logical broadcast");
}

/* SDM 11.6.2.2 "Logical Destination Mode", flat model: MDA & LDR[31:24] != 0 */
Test(lapic_ipi, route_logical_flat_bitmask)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0x01000000, FLAT), cpu_x(1, 0x02000000, FLAT),
	                                  cpu_x(2, 0x04000000, FLAT)};
	struct lapic_irq m = to(0x05, true, false);

	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x5, "flat dest 0x05");
	m.dest = 0;
	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0, "flat dest 0 matched someone");
}

/* SDM 11.6.2.2, cluster model: MDA[7:4] selects the cluster, MDA[3:0] the members */
Test(lapic_ipi, route_logical_cluster)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0x11000000, CLUSTER),
	                                  cpu_x(1, 0x12000000, CLUSTER),
	                                  cpu_x(2, 0x21000000, CLUSTER)};
	struct lapic_irq m = to(0x13, true, false);

	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x3, "cluster 1 members 0,1");
	m.dest = 0x21;
	cr_expect_eq(route_mask(cpus, 3, 0, &m), 0x4, "cluster 2 member 0");
}

/* SDM 11.12.10.1: x2APIC logical, cluster = dest[31:16], members = dest[15:0] */
Test(lapic_ipi, route_x2apic_logical_cluster)
{
	struct lapic_dest_info cpus[4] = {cpu_x2(0x00), cpu_x2(0x01), cpu_x2(0x10), cpu_x2(0x11)};
	struct lapic_irq m = to(0x10003, true, true);

	cr_expect_eq(route_mask(cpus, 4, 0, &m), 0xC, "cluster 1 bits 0,1");
	m.dest = 0x00002;
	cr_expect_eq(route_mask(cpus, 4, 0, &m), 0x2, "cluster 0 bit 1");
}

/* SDM 11.6.2.3 "Broadcast/Self Delivery Mode": the three shorthands */
Test(lapic_ipi, route_shorthands)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0, FLAT), cpu_x(1, 0, FLAT), cpu_x(2, 0, FLAT)};
	struct lapic_irq m = to(0, false, false);

	m.shorthand = LAPIC_SH_SELF;
	cr_expect_eq(route_mask(cpus, 3, 1, &m), 0x2, "self");
	m.shorthand = LAPIC_SH_ALL;
	cr_expect_eq(route_mask(cpus, 3, 1, &m), 0x7, "all including self");
	m.shorthand = LAPIC_SH_ALL_BUT;
	cr_expect_eq(route_mask(cpus, 3, 1, &m), 0x5, "all excluding self");
}

/* SDM 11.4.3: a globally disabled APIC receives nothing, broadcasts included */
Test(lapic_ipi, route_skips_disabled_apics)
{
	struct lapic_dest_info cpus[2] = {cpu_x(0, 0, FLAT), cpu_x(1, 0, FLAT)};
	struct lapic_irq m = to(0xFF, false, false);

	cpus[1].mode = LAPIC_MODE_DISABLED;
	cr_expect_eq(route_mask(cpus, 2, 0, &m), 0x1, "broadcast reached a disabled APIC");
}

/* SDM 11.6.2.4: lowest priority picks one APIC; the model takes the lowest APR */
Test(lapic_ipi, route_lowest_priority_picks_lowest_apr)
{
	struct lapic_dest_info cpus[3] = {cpu_x(0, 0x01000000, FLAT), cpu_x(1, 0x02000000, FLAT),
	                                  cpu_x(2, 0x04000000, FLAT)};
	struct lapic_irq m = to(0x07, true, false);

	m.delivery_mode = LAPIC_DM_LOWEST;
	cpus[0].apr = 0x40;
	cpus[1].apr = 0x10;
	cpus[2].apr = 0x20;
	cr_expect_eq(route_mask(cpus, 3, -1, &m), 0x2, "lowest APR not chosen");
}

Test(lapic_ipi, route_lowest_priority_ties_go_to_lowest_id)
{
	struct lapic_dest_info cpus[3] = {cpu_x(7, 0x01000000, FLAT), cpu_x(3, 0x02000000, FLAT),
	                                  cpu_x(5, 0x04000000, FLAT)};
	struct lapic_irq m = to(0x07, true, false);

	m.delivery_mode = LAPIC_DM_LOWEST;
	cr_expect_eq(route_mask(cpus, 3, -1, &m), 0x2, "tie not broken by lowest ID");
}

/* Software-disabled APICs refuse fixed/lowest messages, so they never win arbitration */
Test(lapic_ipi, route_lowest_priority_skips_software_disabled)
{
	struct lapic_dest_info cpus[2] = {cpu_x(0, 0x01000000, FLAT), cpu_x(1, 0x02000000, FLAT)};
	struct lapic_irq m = to(0x03, true, false);

	m.delivery_mode = LAPIC_DM_LOWEST;
	cpus[0].sw_enabled = false;
	cr_expect_eq(route_mask(cpus, 2, -1, &m), 0x2, "software-disabled APIC chosen");
	cpus[1].sw_enabled = false;
	cr_expect_eq(route_mask(cpus, 2, -1, &m), 0, "someone chosen among disabled APICs");
}

/* Hardware aliasing (noted in KVM's lapic.c): an xAPIC-mode receiver compares the low byte */
Test(lapic_ipi, route_xapic_receiver_aliases_low_byte_of_32bit_dest)
{
	struct lapic_dest_info cpus[2] = {cpu_x(0x05, 0, FLAT), cpu_x2(0x105)};
	struct lapic_irq m = to(0x105, false, true);

	cr_expect_eq(route_mask(cpus, 2, -1, &m), 0x3, "aliasing");
}

/* An 8-bit (I/O APIC, MSI) broadcast also reaches x2APIC-mode receivers */
Test(lapic_ipi, route_xapic_format_broadcast_reaches_x2apic)
{
	struct lapic_dest_info cpus[2] = {cpu_x2(0x1), cpu_x2(0x300)};
	struct lapic_irq m = to(0xFF, false, false);

	cr_expect_eq(route_mask(cpus, 2, -1, &m), 0x3, "8-bit broadcast to x2APIC receivers");
}

/* SDM 11.6.2.2: DFR models other than flat (1111b) and cluster (0000b) match nothing */
Test(lapic_ipi, route_reserved_dfr_model_matches_nothing)
{
	struct lapic_dest_info cpus[1] = {cpu_x(0, 0x01000000, 0x5FFFFFFF)};
	struct lapic_irq m = to(0x01, true, false);

	cr_expect_eq(route_mask(cpus, 1, -1, &m), 0, "reserved DFR model matched");
}

/* lapic_dest_info snapshots what routing needs from a real LAPIC */
Test(lapic_ipi, dest_info_reflects_mode_id_and_ldr)
{
	struct lapic *a = mk_id(4), *b = mk_x2(0x23);
	struct lapic_dest_info ia, ib;

	lapic_mmio_write(a, LAPIC_REG_LDR, 4, 0x08000000, 0, NULL);
	lapic_dest_info(a, &ia);
	lapic_dest_info(b, &ib);
	cr_expect(ia.mode == LAPIC_MODE_XAPIC && ia.id == 4 && ia.ldr == 0x08000000 &&
	              ia.dfr == FLAT && ia.sw_enabled,
	          "xAPIC info: mode %u id %#x ldr %#x dfr %#x", ia.mode, ia.id, ia.ldr, ia.dfr);
	cr_expect(ib.mode == LAPIC_MODE_X2APIC && ib.id == 0x23 && ib.ldr == 0x20008,
	          "x2APIC info: mode %u id %#x ldr %#x", ib.mode, ib.id, ib.ldr);
	lapic_destroy(a);
	lapic_destroy(b);
}

/* End to end: A sends a fixed IPI to B's APIC ID; the owner routes and B accepts it */
Test(lapic_ipi, ipi_end_to_end_between_two_apics)
{
	struct lapic *apics[2] = {mk_id(0), mk_id(1)};
	struct lapic_dest_info info[2];
	struct lapic_result r;
	bool dest[2];

	wr(apics[0], LAPIC_REG_ICR_HI, 0x01000000, NULL);
	wr(apics[0], LAPIC_REG_ICR_LO, 0x44, &r);
	cr_assert(r.ipi, "no IPI");
	for (int i = 0; i < 2; i++)
		lapic_dest_info(apics[i], &info[i]);
	cr_assert_eq(lapic_route(info, 2, 0, &r.ipi_msg, dest), 1, "route count");
	cr_assert(dest[1] && !dest[0], "routed to the wrong APIC");
	cr_expect(lapic_accept(apics[1], &r.ipi_msg, NULL), "B refused the IPI");
	cr_expect_eq(lapic_pending_vector(apics[1]), 0x44, "B pending %d",
	             lapic_pending_vector(apics[1]));
	lapic_destroy(apics[0]);
	lapic_destroy(apics[1]);
}
