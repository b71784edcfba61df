/* Verifies the local APIC register interfaces: every xAPIC MMIO register and every x2APIC MSR is
 * read and written through the public access functions, checking reset values, writable bits,
 * read-only/write-only/reserved rules (#GP in x2APIC mode, "Illegal Register Address" in xAPIC
 * mode), the all-ones MMIO behaviour when the page does not decode, sub-register accesses, and the
 * configuration-dependent bits (LVR, SVR[12], LVT CMCI, LVT Timer[18]). Each test builds its own
 * LAPIC from lapic_config_default() and tweaks the config where the rule needs it. */
#include <criterion/criterion.h>

#include <hvsim/lapic.h>

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

static void to_x2apic(struct lapic *l)
{
	struct lapic_result r;

	lapic_set_apic_base(l, lapic_get_apic_base(l) | LAPIC_BASE_EXTD, 0, &r);
	cr_assert(!r.gp, "xAPIC -> x2APIC refused");
}

static uint64_t mrd(struct lapic *l, uint32_t msr, bool *gp)
{
	struct lapic_result r;
	uint64_t v;

	cr_assert(lapic_msr_read(l, msr, &v, 0, &r), "MSR %#x not handled", msr);
	*gp = r.gp;
	return v;
}

static bool mwr_gp(struct lapic *l, uint32_t msr, uint64_t v)
{
	struct lapic_result r;

	cr_assert(lapic_msr_write(l, msr, v, 0, &r), "MSR %#x not handled", msr);
	return r.gp;
}

/* Latches and returns the ESR (SDM 11.5.3: write, then read). */
static uint32_t esr(struct lapic *l)
{
	wr(l, LAPIC_REG_ESR, 0);
	return rd(l, LAPIC_REG_ESR);
}

struct reg_val {
	uint32_t off;
	uint32_t val;
};

/* SDM 11.4.7.1 "Local APIC State After Power-Up or Reset" */
Test(lapic_regs, xapic_reset_value_of_every_register)
{
	static const struct reg_val want[] = {
	    {0x020, 0},          {0x030, 0x00060015}, {0x080, 0},       {0x090, 0},
	    {0x0A0, 0},          {0x0B0, 0},          {0x0C0, 0},       {0x0D0, 0},
	    {0x0E0, 0xFFFFFFFF}, {0x0F0, 0xFF},       {0x280, 0},       {0x2F0, 0x10000},
	    {0x300, 0},          {0x310, 0},          {0x320, 0x10000}, {0x330, 0x10000},
	    {0x340, 0x10000},    {0x350, 0x10000},    {0x360, 0x10000}, {0x370, 0x10000},
	    {0x380, 0},          {0x390, 0},          {0x3E0, 0},
	};
	struct lapic *l = mk();

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(rd(l, want[i].off), want[i].val, "reg %#x: wanted %#x, got %#x",
		             want[i].off, want[i].val, rd(l, want[i].off));
	for (uint32_t off = 0x100; off <= 0x270; off += 0x10)
		cr_expect_eq(rd(l, off), 0, "ISR/TMR/IRR %#x: wanted 0, got %#x", off, rd(l, off));
	lapic_destroy(l);
}

/* SDM 11.12.5.1: after xAPIC -> x2APIC the registers read through MSR 0x800 + offset/16 */
Test(lapic_regs, x2apic_msr_value_of_every_readable_register)
{
	static const struct reg_val want[] = {
	    {0x802, 0},       {0x803, 0x00060015}, {0x808, 0},       {0x80A, 0},
	    {0x80D, 1},       {0x80F, 0xFF},       {0x828, 0},       {0x82F, 0x10000},
	    {0x832, 0x10000}, {0x833, 0x10000},    {0x834, 0x10000}, {0x835, 0x10000},
	    {0x836, 0x10000}, {0x837, 0x10000},    {0x838, 0},       {0x839, 0},
	    {0x83E, 0},
	};
	struct lapic *l = mk();
	bool gp;

	to_x2apic(l);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t v = mrd(l, want[i].off, &gp);

		cr_expect(!gp, "RDMSR %#x raised #GP", want[i].off);
		cr_expect_eq(v, want[i].val, "MSR %#x: wanted %#x, got %#llx", want[i].off,
		             want[i].val, (unsigned long long)v);
	}
	for (uint32_t msr = 0x810; msr <= 0x827; msr++) {
		uint64_t v = mrd(l, msr, &gp);

		cr_expect(!gp && v == 0, "MSR %#x: wanted 0 without #GP, got %#llx gp=%d", msr,
		          (unsigned long long)v, gp);
	}
	cr_expect_eq(mrd(l, 0x830, &gp), 0, "ICR MSR not 0 after reset");
	lapic_destroy(l);
}

/* SDM Table 11-1, Figure 11-8, Figure 11-23: only architecturally writable bits are stored */
Test(lapic_regs, xapic_writable_bits_of_every_register)
{
	static const struct reg_val want[] = {
	    {LAPIC_REG_ID, 0xFF000000},     {LAPIC_REG_TPR, 0xFF},
	    {LAPIC_REG_LDR, 0xFF000000},    {LAPIC_REG_DFR, 0xFFFFFFFF},
	    {LAPIC_REG_SVR, 0x3FF},         {LAPIC_REG_LVT_CMCI, 0x107FF},
	    {LAPIC_REG_ICR_HI, 0xFF000000}, {LAPIC_REG_ICR_LO, 0xCCFFF},
	    {LAPIC_REG_LVT_TIMER, 0x700FF}, {LAPIC_REG_LVT_THERMAL, 0x107FF},
	    {LAPIC_REG_LVT_PMC, 0x107FF},   {LAPIC_REG_LVT_LINT0, 0x1A7FF},
	    {LAPIC_REG_LVT_LINT1, 0x1A7FF}, {LAPIC_REG_LVT_ERROR, 0x100FF},
	    {LAPIC_REG_TMICT, 0xFFFFFFFF},  {LAPIC_REG_TDCR, 0xB},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct lapic *l = mk();

		wr(l, LAPIC_REG_SVR, 0x1FF);
		wr(l, want[i].off, 0xFFFFFFFF);
		cr_expect_eq(rd(l, want[i].off), want[i].val,
		             "reg %#x after writing all ones: wanted %#x, got %#x", want[i].off,
		             want[i].val, rd(l, want[i].off));
		lapic_destroy(l);
	}
}

/* SDM Table 11-1: read-only registers ignore MMIO writes */
Test(lapic_regs, xapic_read_only_registers_ignore_writes)
{
	static const uint32_t ro[] = {LAPIC_REG_LVR, LAPIC_REG_APR, LAPIC_REG_PPR,  LAPIC_REG_RRD,
	                              0x100,         0x170,         0x180,          0x1F0,
	                              0x200,         0x270,         LAPIC_REG_TMCCT};
	struct lapic *l = mk();

	wr(l, LAPIC_REG_SVR, 0x1FF);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = rd(l, ro[i]);

		wr(l, ro[i], 0xFFFFFFFF);
		cr_expect_eq(rd(l, ro[i]), before, "reg %#x changed by a write: %#x -> %#x", ro[i],
		             before, rd(l, ro[i]));
	}
	cr_expect_eq(esr(l), 0, "writes to read-only registers flagged an error");
	lapic_destroy(l);
}

/* SDM Table 11-6: x2APIC registers store their writable bits */
Test(lapic_regs, x2apic_writable_bits_of_every_register)
{
	static const struct reg_val want[] = {
	    {0x808, 0xFF},    {0x80F, 0x3FF},   {0x82F, 0x107FF},    {0x832, 0x700FF},
	    {0x833, 0x107FF}, {0x834, 0x107FF}, {0x835, 0x1A7FF},    {0x836, 0x1A7FF},
	    {0x837, 0x100FF}, {0x83E, 0xB},     {0x838, 0xFFFFFFFF},
	};
	bool gp;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct lapic *l = mk();
		uint64_t v;

		to_x2apic(l);
		cr_assert(!mwr_gp(l, 0x80F, 0x1FF), "SVR enable refused");
		cr_expect(!mwr_gp(l, want[i].off, want[i].val), "WRMSR %#x %#x raised #GP",
		          want[i].off, want[i].val);
		v = mrd(l, want[i].off, &gp);
		cr_expect_eq(v, want[i].val, "MSR %#x: wanted %#x, got %#llx", want[i].off,
		             want[i].val, (unsigned long long)v);
		lapic_destroy(l);
	}
}

struct msr_val {
	uint32_t msr;
	uint64_t val;
};

/* SDM 11.12.1.3 "Reserved Bit Checking": non-zero reserved bits in a WRMSR raise #GP */
Test(lapic_regs, x2apic_reserved_bits_raise_gp)
{
	static const struct msr_val bad[] = {
	    {0x808, 0x100},    {0x808, UINT64_C(1) << 32},
	    {0x80F, 0x1000},   {0x80F, 0x2000},
	    {0x82F, 0x20000},  {0x832, 0x80000},
	    {0x833, 0x2000},   {0x834, 0x8000},
	    {0x835, 0x20000},  {0x836, 0x800},
	    {0x837, 0x700},    {0x838, UINT64_C(1) << 32},
	    {0x83E, 0x4},      {0x83F, 0x100},
	    {0x828, 0x1},      {0x80B, 0x1},
	    {0x830, 0x2000},   {0x830, 0x10000},
	    {0x830, 0x100000}, {0x830, 0x80000000},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lapic *l = mk();
		bool gp;

		to_x2apic(l);
		cr_expect(mwr_gp(l, bad[i].msr, bad[i].val),
		          "WRMSR %#x %#llx: wanted #GP, got none", bad[i].msr,
		          (unsigned long long)bad[i].val);
		cr_expect_eq(mrd(l, 0x80F, &gp), 0xFF, "SVR changed by faulting write to %#x",
		             bad[i].msr);
		lapic_destroy(l);
	}
}

/* SDM 11.12.1.2, Table 11-6: WRMSR to a read-only x2APIC register raises #GP */
Test(lapic_regs, x2apic_read_only_register_write_raises_gp)
{
	static const uint32_t ro[] = {0x802, 0x803, 0x80A, 0x80D, 0x810, 0x817,
	                              0x818, 0x81F, 0x820, 0x827, 0x839};
	struct lapic *l = mk();

	to_x2apic(l);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		cr_expect(mwr_gp(l, ro[i], 0), "WRMSR %#x: wanted #GP, got none", ro[i]);
	lapic_destroy(l);
}

/* SDM Table 11-6: RDMSR of the write-only EOI and SELF IPI registers raises #GP */
Test(lapic_regs, x2apic_write_only_register_read_raises_gp)
{
	struct lapic *l = mk();
	bool gp;

	to_x2apic(l);
	mrd(l, 0x80B, &gp);
	cr_expect(gp, "RDMSR EOI (0x80B): wanted #GP");
	mrd(l, 0x83F, &gp);
	cr_expect(gp, "RDMSR SELF IPI (0x83F): wanted #GP");
	lapic_destroy(l);
}

/* SDM 11.12.1.2: MSRs of 0x800-0x8FF not in Table 11-6 (APR, RRD, DFR, ICR high half included)
 * raise #GP on RDMSR and WRMSR */
Test(lapic_regs, x2apic_reserved_msr_raises_gp)
{
	static const uint32_t rsvd[] = {0x800, 0x801, 0x804, 0x805, 0x806, 0x807, 0x809, 0x80C,
	                                0x80E, 0x829, 0x82A, 0x82B, 0x82C, 0x82D, 0x82E, 0x831,
	                                0x83A, 0x83B, 0x83C, 0x83D, 0x840, 0x8FF};
	struct lapic *l = mk();
	bool gp;

	to_x2apic(l);
	for (size_t i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
		mrd(l, rsvd[i], &gp);
		cr_expect(gp, "RDMSR %#x: wanted #GP", rsvd[i]);
		cr_expect(mwr_gp(l, rsvd[i], 0), "WRMSR %#x: wanted #GP", rsvd[i]);
	}
	lapic_destroy(l);
}

/* SDM 11.12.1.2: the x2APIC MSRs exist only in x2APIC mode */
Test(lapic_regs, x2apic_msrs_raise_gp_in_xapic_mode)
{
	struct lapic *l = mk();
	bool gp;

	mrd(l, 0x808, &gp);
	cr_expect(gp, "RDMSR TPR in xAPIC mode: wanted #GP");
	cr_expect(mwr_gp(l, 0x808, 0x10), "WRMSR TPR in xAPIC mode: wanted #GP");
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0, "faulting WRMSR changed TPR");
	lapic_destroy(l);
}

Test(lapic_regs, x2apic_msrs_raise_gp_when_disabled)
{
	struct lapic *l = mk();
	bool gp;

	lapic_set_apic_base(l, LAPIC_DEFAULT_BASE, 0, NULL);
	mrd(l, 0x803, &gp);
	cr_expect(gp, "RDMSR LVR with the APIC disabled: wanted #GP");
	lapic_destroy(l);
}

/* Only IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF belong to the LAPIC */
Test(lapic_regs, other_msrs_are_not_handled)
{
	struct lapic *l = mk();
	uint64_t v;

	cr_expect(!lapic_msr_read(l, 0x10, &v, 0, NULL), "MSR 0x10 claimed by the LAPIC");
	cr_expect(!lapic_msr_write(l, 0x7FF, 0, 0, NULL), "MSR 0x7FF claimed by the LAPIC");
	cr_expect(!lapic_msr_write(l, 0x900, 0, 0, NULL), "MSR 0x900 claimed by the LAPIC");
	lapic_destroy(l);
}

/* SDM 11.4.3: a globally disabled APIC does not decode its page: reads float to all ones */
Test(lapic_regs, mmio_reads_all_ones_when_disabled)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	static const uint64_t want[] = {0xFF, 0xFFFF, 0xFFFFFFFF, UINT64_MAX};
	struct lapic *l = mk();

	lapic_set_apic_base(l, LAPIC_DEFAULT_BASE, 0, NULL);
	for (int i = 0; i < 4; i++) {
		uint64_t v;

		lapic_mmio_read(l, LAPIC_REG_LVR, sizes[i], &v, 0, NULL);
		cr_expect_eq(v, want[i], "size %u read: wanted %#llx, got %#llx", sizes[i],
		             (unsigned long long)want[i], (unsigned long long)v);
	}
	lapic_destroy(l);
}

/* SDM 11.12.1.2: in x2APIC mode the page behaves like a globally disabled xAPIC */
Test(lapic_regs, mmio_reads_all_ones_in_x2apic_mode)
{
	struct lapic *l = mk();

	to_x2apic(l);
	cr_expect_eq(rd(l, LAPIC_REG_LVR), 0xFFFFFFFF, "MMIO LVR in x2APIC mode: got %#x",
	             rd(l, LAPIC_REG_LVR));
	lapic_destroy(l);
}

Test(lapic_regs, mmio_writes_dropped_in_x2apic_mode)
{
	struct lapic *l = mk();
	bool gp;

	to_x2apic(l);
	wr(l, LAPIC_REG_TPR, 0x50);
	cr_expect_eq(mrd(l, 0x808, &gp), 0, "MMIO write reached TPR in x2APIC mode");
	lapic_destroy(l);
}

/* Model choice for SDM 11.4.1 (sub-register access is model specific): reads return the bytes
 * of the 16-byte slot, the register in bytes 0-3 */
Test(lapic_regs, mmio_narrow_read_returns_register_bytes)
{
	struct lapic *l = mk();
	uint64_t v;

	lapic_mmio_read(l, LAPIC_REG_LVR + 2, 1, &v, 0, NULL);
	cr_expect_eq(v, 0x06, "LVR byte 2: wanted 0x06 (max LVT), got %#llx",
	             (unsigned long long)v);
	lapic_mmio_read(l, LAPIC_REG_LVR, 2, &v, 0, NULL);
	cr_expect_eq(v, 0x0015, "LVR word 0: wanted 0x15, got %#llx", (unsigned long long)v);
	lapic_destroy(l);
}

Test(lapic_regs, mmio_read_above_register_dword_is_zero)
{
	struct lapic *l = mk();
	uint64_t v;

	lapic_mmio_read(l, LAPIC_REG_LVR + 4, 4, &v, 0, NULL);
	cr_expect_eq(v, 0, "bytes 4-7 of the LVR slot: wanted 0, got %#llx", (unsigned long long)v);
	lapic_mmio_read(l, LAPIC_REG_LVR, 8, &v, 0, NULL);
	cr_expect_eq(v, 0x00060015, "8-byte LVR read: wanted 0x60015, got %#llx",
	             (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.4.1: registers are written with 128-bit-aligned 32-bit stores; others are dropped */
Test(lapic_regs, mmio_write_not_aligned_dword_dropped)
{
	struct lapic *l = mk();

	lapic_mmio_write(l, LAPIC_REG_TPR, 1, 0x50, 0, NULL);
	lapic_mmio_write(l, LAPIC_REG_TPR, 2, 0x50, 0, NULL);
	lapic_mmio_write(l, LAPIC_REG_TPR, 8, 0x50, 0, NULL);
	lapic_mmio_write(l, LAPIC_REG_TPR + 4, 4, 0x50, 0, NULL);
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0, "a narrow/unaligned store changed TPR to %#x",
	             rd(l, LAPIC_REG_TPR));
	lapic_destroy(l);
}

/* SDM 11.5.3: touching a reserved register sets ESR bit 7 "Illegal Register Address" */
Test(lapic_regs, reserved_register_read_sets_illegal_register_address)
{
	struct lapic *l = mk();

	cr_expect_eq(rd(l, 0x040), 0, "reserved register 0x40 read non-zero");
	cr_expect_eq(esr(l), LAPIC_ESR_ILLEGAL_REG, "ESR: wanted %#x, got %#x",
	             LAPIC_ESR_ILLEGAL_REG, esr(l));
	lapic_destroy(l);
}

Test(lapic_regs, reserved_register_write_sets_illegal_register_address)
{
	struct lapic *l = mk();

	wr(l, 0x3A0, 1);
	cr_expect_eq(esr(l), LAPIC_ESR_ILLEGAL_REG, "ESR after writing 0x3A0: got %#x", esr(l));
	lapic_destroy(l);
}

/* SDM Table 11-1: offset 0x3F0 (SELF IPI in x2APIC) is reserved in xAPIC mode */
Test(lapic_regs, self_ipi_offset_reserved_in_xapic)
{
	struct lapic *l = mk();
	struct lapic_result r;

	wr(l, LAPIC_REG_SVR, 0x1FF);
	lapic_mmio_write(l, LAPIC_REG_SELF_IPI, 4, 0x40, 0, &r);
	cr_expect(!r.ipi, "xAPIC write to 0x3F0 sent an IPI");
	cr_expect_eq(esr(l), LAPIC_ESR_ILLEGAL_REG, "ESR after 0x3F0 write: got %#x", esr(l));
	lapic_destroy(l);
}

/* SDM 11.4.8 "Local APIC Version Register": version, max LVT entry, bit 24 from the config */
Test(lapic_regs, lvr_reports_configured_version_and_max_lvt)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.version = 0x14;
	c.max_lvt = 5;
	l = mk_cfg(&c);
	cr_expect_eq(rd(l, LAPIC_REG_LVR), 0x00050014, "LVR: wanted 0x50014, got %#x",
	             rd(l, LAPIC_REG_LVR));
	lapic_destroy(l);
}

Test(lapic_regs, lvr_bit24_advertises_directed_eoi)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.directed_eoi = true;
	l = mk_cfg(&c);
	cr_expect(rd(l, LAPIC_REG_LVR) & LAPIC_LVR_DIRECTED_EOI, "LVR %#x lacks bit 24",
	          rd(l, LAPIC_REG_LVR));
	lapic_destroy(l);
}

/* SDM 11.4.8: with max LVT 5 there is no LVT CMCI register */
Test(lapic_regs, lvt_cmci_absent_with_max_lvt_5)
{
	struct lapic_config c;
	struct lapic *l;
	bool gp;

	lapic_config_default(&c);
	c.max_lvt = 5;
	l = mk_cfg(&c);
	cr_expect_eq(rd(l, LAPIC_REG_LVT_CMCI), 0, "LVT CMCI read non-zero");
	cr_expect_eq(esr(l), LAPIC_ESR_ILLEGAL_REG, "LVT CMCI is not reserved: ESR %#x", esr(l));
	to_x2apic(l);
	mrd(l, 0x82F, &gp);
	cr_expect(gp, "RDMSR 0x82F without CMCI: wanted #GP");
	lapic_destroy(l);
}

/* SDM 11.8.5: SVR[12] is writable only when LVR[24] advertises EOI-broadcast suppression */
Test(lapic_regs, svr_bit12_writable_only_when_advertised)
{
	struct lapic_config c;
	struct lapic *with, *without;

	lapic_config_default(&c);
	without = mk_cfg(&c);
	c.directed_eoi = true;
	with = mk_cfg(&c);
	wr(with, LAPIC_REG_SVR, 0x11FF);
	wr(without, LAPIC_REG_SVR, 0x11FF);
	cr_expect_eq(rd(with, LAPIC_REG_SVR), 0x11FF, "advertised: SVR %#x", rd(with, 0xF0));
	cr_expect_eq(rd(without, LAPIC_REG_SVR), 0x01FF, "not advertised: SVR %#x",
	             rd(without, 0xF0));
	lapic_destroy(with);
	lapic_destroy(without);
}

Test(lapic_regs, svr_bit12_accepted_by_wrmsr_when_advertised)
{
	struct lapic_config c;
	struct lapic *l;
	bool gp;

	lapic_config_default(&c);
	c.directed_eoi = true;
	l = mk_cfg(&c);
	to_x2apic(l);
	cr_expect(!mwr_gp(l, 0x80F, 0x11FF), "WRMSR SVR 0x11FF raised #GP with directed EOI");
	cr_expect_eq(mrd(l, 0x80F, &gp), 0x11FF, "SVR did not keep bit 12");
	lapic_destroy(l);
}

/* SDM 11.4.6 "Local APIC ID": the xAPIC ID (bits 31:24) is writable */
Test(lapic_regs, xapic_id_is_writable)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_ID, 0x07123456);
	cr_expect_eq(rd(l, LAPIC_REG_ID), 0x07000000, "ID: wanted 0x07000000, got %#x",
	             rd(l, LAPIC_REG_ID));
	lapic_destroy(l);
}

/* SDM 11.6.2.2: DFR bits 27:0 are reserved and read as 1s; only the model bits change */
Test(lapic_regs, dfr_low_bits_read_as_ones)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_DFR, 0);
	cr_expect_eq(rd(l, LAPIC_REG_DFR), 0x0FFFFFFF, "DFR: wanted 0x0FFFFFFF, got %#x",
	             rd(l, LAPIC_REG_DFR));
	lapic_destroy(l);
}

/* SDM 11.12.1.3 / 11.12.5.1: the x2APIC ID is the 32-bit hardware ID */
Test(lapic_regs, x2apic_id_is_the_32bit_hardware_id)
{
	struct lapic_config c;
	struct lapic *l;
	bool gp;
	uint64_t v;

	lapic_config_default(&c);
	c.apic_id = 0x12345;
	l = mk_cfg(&c);
	to_x2apic(l);
	v = mrd(l, 0x802, &gp);
	cr_expect_eq(v, 0x12345, "x2APIC ID: wanted 0x12345, got %#llx", (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.12.10.2: LDR = ID[19:4] << 16 | 1 << ID[3:0] */
Test(lapic_regs, x2apic_ldr_derived_from_id)
{
	struct lapic_config c;
	struct lapic *l;
	bool gp;
	uint64_t v;

	lapic_config_default(&c);
	c.apic_id = 0x35;
	l = mk_cfg(&c);
	to_x2apic(l);
	v = mrd(l, 0x80D, &gp);
	cr_expect_eq(v, 0x30020, "LDR for ID 0x35: wanted 0x30020, got %#llx",
	             (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM 11.12.9: the x2APIC ICR is one 64-bit MSR; WRMSR ignores bit 12 */
Test(lapic_regs, x2apic_icr_is_64bit_and_ignores_bit12)
{
	struct lapic *l = mk();
	uint64_t v;
	bool gp;

	to_x2apic(l);
	mwr_gp(l, 0x80F, 0x1FF);
	cr_expect(!mwr_gp(l, 0x830, UINT64_C(0x0000000700001040)), "ICR with bit 12: #GP");
	v = mrd(l, 0x830, &gp);
	cr_expect_eq(v, UINT64_C(0x0000000700000040), "ICR read: wanted 0x700000040, got %#llx",
	             (unsigned long long)v);
	lapic_destroy(l);
}

/* SDM Figure 11-8: delivery status (bit 12) and LINT remote IRR (bit 14) are read-only; WRMSR
 * may carry them without #GP */
Test(lapic_regs, lvt_read_only_bits_ignored)
{
	struct lapic *l = mk();
	bool gp;

	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_LVT_LINT0, 0x5030);
	cr_expect_eq(rd(l, LAPIC_REG_LVT_LINT0), 0x0030, "LINT0 kept read-only bits: %#x",
	             rd(l, LAPIC_REG_LVT_LINT0));
	to_x2apic(l);
	cr_expect(!mwr_gp(l, 0x835, 0x5030), "WRMSR LINT0 with RO bits: #GP");
	cr_expect_eq(mrd(l, 0x835, &gp), 0x0030, "LINT0 after WRMSR kept read-only bits");
	lapic_destroy(l);
}

/* SDM 11.5.4.1: without TSC-deadline support bit 18 of LVT Timer is reserved */
Test(lapic_regs, lvt_timer_bit18_reserved_without_tsc_deadline)
{
	struct lapic_config c;
	struct lapic *l;

	lapic_config_default(&c);
	c.tsc_deadline = false;
	l = mk_cfg(&c);
	wr(l, LAPIC_REG_SVR, 0x1FF);
	wr(l, LAPIC_REG_LVT_TIMER, 0x40030);
	cr_expect_eq(rd(l, LAPIC_REG_LVT_TIMER), 0x30, "LVT Timer kept bit 18: %#x",
	             rd(l, LAPIC_REG_LVT_TIMER));
	to_x2apic(l);
	cr_expect(mwr_gp(l, 0x832, 0x40030), "WRMSR LVT Timer bit 18: wanted #GP");
	lapic_destroy(l);
}

/* SDM 11.8.6 "Task Priority in IA-32e Mode": CR8[3:0] is TPR[7:4] */
Test(lapic_regs, cr8_maps_to_tpr_priority_class)
{
	struct lapic *l = mk();

	lapic_write_cr8(l, 0x5);
	cr_expect_eq(rd(l, LAPIC_REG_TPR), 0x50, "TPR after CR8=5: got %#x", rd(l, 0x80));
	wr(l, LAPIC_REG_TPR, 0x9F);
	cr_expect_eq(lapic_read_cr8(l), 9, "CR8 for TPR 0x9F: got %llu",
	             (unsigned long long)lapic_read_cr8(l));
	lapic_destroy(l);
}

/* SDM Table 11-1: EOI is write-only; an MMIO read returns 0 and is not an error */
Test(lapic_regs, xapic_eoi_reads_zero_without_error)
{
	struct lapic *l = mk();

	cr_expect_eq(rd(l, LAPIC_REG_EOI), 0, "EOI read non-zero");
	cr_expect_eq(esr(l), 0, "EOI read flagged ESR %#x", esr(l));
	lapic_destroy(l);
}

/* lapic_reg_peek sees the register image without side effects */
Test(lapic_regs, reg_peek_matches_mmio_reads)
{
	struct lapic *l = mk();

	wr(l, LAPIC_REG_TPR, 0x33);
	for (uint32_t off = 0x20; off < 0x400; off += 0x10)
		if (off != LAPIC_REG_EOI && off != 0x3F0 && (off < 0x40 || off > 0x70) &&
		    (off < 0x290 || off > 0x2E0) && (off < 0x3A0 || off > 0x3D0))
			cr_expect_eq(lapic_reg_peek(l, off, 0), rd(l, off),
			             "peek %#x = %#x, MMIO = %#x", off, lapic_reg_peek(l, off, 0),
			             rd(l, off));
	lapic_destroy(l);
}
