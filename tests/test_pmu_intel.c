/* Verifies the Intel architectural PMU's MSR interface (SDM Vol. 3B 21.2, pinned edition): which
 * MSRs exist per version and configuration (#GP otherwise), reserved bits of the event selects,
 * IA32_FIXED_CTR_CTRL and the global MSRs (#GP, state unchanged), legacy IA32_PMCx writes
 * sign-extended from bit 31 against full-width IA32_A_PMCx writes, the read-only MSRs, the status
 * reset/set pair and IA32_PERF_GLOBAL_INUSE. Each test builds its own PMU from a profile and
 * drives it through pmu_msr_read / pmu_msr_write only. */
#include "pmu_fixture.h"

/* SDM 21.2.1.1: RDMSR of a counter beyond CPUID.0AH:EAX[15:8] is a reserved MSR: #GP */
Test(pmu_intel, rdmsr_of_missing_gp_counter_faults)
{
	struct pmu *p = pmu_mk("intel-v4"); /* 4 GP counters */
	uint64_t v;

	cr_expect_eq(pmu_msr_read(p, MSR_IA32_PMC0 + 3, &v), PMU_ACCESS_OK, "PMC3 exists");
	cr_expect_eq(pmu_msr_read(p, MSR_IA32_PMC0 + 4, &v), PMU_ACCESS_GP, "PMC4: wanted #GP");
	cr_expect_eq(pmu_msr_read(p, MSR_IA32_PERFEVTSEL0 + 4, &v), PMU_ACCESS_GP,
	             "PERFEVTSEL4: wanted #GP");
	cr_expect_eq(pmu_msr_read(p, MSR_IA32_FIXED_CTR0 + 3, &v), PMU_ACCESS_GP,
	             "FIXED_CTR3 with 3 fixed counters: wanted #GP");
	pmu_destroy(p);
}

/* SDM 21.2.1: version 1 has no fixed counters and no global MSRs */
Test(pmu_intel, version1_has_no_global_msrs)
{
	const uint32_t msrs[] = {MSR_IA32_FIXED_CTR0,
	                         MSR_IA32_FIXED_CTR_CTRL,
	                         MSR_IA32_PERF_GLOBAL_STATUS,
	                         MSR_IA32_PERF_GLOBAL_CTRL,
	                         MSR_IA32_PERF_GLOBAL_STATUS_RESET,
	                         MSR_IA32_PERF_CAPABILITIES};
	struct pmu *p = pmu_mk("intel-v1");
	uint64_t v;

	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		cr_expect_eq(pmu_msr_read(p, msrs[i], &v), PMU_ACCESS_GP,
		             "v1 RDMSR %#x: wanted #GP", msrs[i]);
	pmu_destroy(p);
}

/* SDM 21.2.4: IA32_PERF_GLOBAL_STATUS_SET and IA32_PERF_GLOBAL_INUSE arrive with version 4 */
Test(pmu_intel, status_set_and_inuse_need_version4)
{
	struct pmu *v2 = pmu_mk("intel-v2"), *v4 = pmu_mk("intel-v4");
	uint64_t v;

	cr_expect_eq(pmu_msr_read(v2, MSR_IA32_PERF_GLOBAL_STATUS_SET, &v), PMU_ACCESS_GP,
	             "v2 SET");
	cr_expect_eq(pmu_msr_read(v2, MSR_IA32_PERF_GLOBAL_INUSE, &v), PMU_ACCESS_GP, "v2 INUSE");
	cr_expect_eq(pmu_msr_read(v4, MSR_IA32_PERF_GLOBAL_STATUS_SET, &v), PMU_ACCESS_OK,
	             "v4 SET");
	cr_expect_eq(pmu_msr_read(v4, MSR_IA32_PERF_GLOBAL_INUSE, &v), PMU_ACCESS_OK, "v4 INUSE");
	pmu_destroy(v2);
	pmu_destroy(v4);
}

/* Not a PMU MSR: the owner decides (the model does not claim it) */
Test(pmu_intel, non_pmu_msr_is_unhandled)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	uint64_t v = 1;

	cr_expect_eq(pmu_msr_read(p, 0x10, &v), PMU_ACCESS_UNHANDLED, "TSC read");
	cr_expect_eq(v, 0, "value of an unhandled read: wanted 0, got %#llx",
	             (unsigned long long)v);
	cr_expect_eq(pmu_msr_write(p, 0xC0010000, 0), PMU_ACCESS_UNHANDLED, "AMD MSR on Intel");
	cr_expect(!pmu_msr_owned(p, 0x1B), "IA32_APIC_BASE is not a PMU MSR");
	pmu_destroy(p);
}

/* SDM 21.2.1.1: IA32_PERFEVTSELx bits 63:32 are reserved; a write setting one faults and changes
 * nothing */
Test(pmu_intel, evtsel_reserved_high_bits_fault)
{
	struct pmu *p = pmu_mk("intel-icelake-server");

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, 0x4300C0);
	pmu_wr_gp(p, MSR_IA32_PERFEVTSEL0, UINT64_C(1) << 32 | 0x4300C0);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERFEVTSEL0), 0x4300C0,
	             "the faulting write kept the old");
	pmu_destroy(p);
}

/* SDM 21.2.3, 21.2.5: AnyThread (bit 21) is valid in versions 3-4 only (v5 deprecates it) */
Test(pmu_intel, anythread_valid_only_in_v3_v4)
{
	struct pmu *v4 = pmu_mk("intel-v4"), *v5 = pmu_mk("intel-icelake-server");

	pmu_wr_ok(v4, MSR_IA32_PERFEVTSEL0, PMU_EVTSEL_ANY | PMU_EVTSEL_EN);
	pmu_wr_ok(v4, MSR_IA32_FIXED_CTR_CTRL, PMU_FIXED_ANY);
	pmu_wr_gp(v5, MSR_IA32_PERFEVTSEL0, PMU_EVTSEL_ANY | PMU_EVTSEL_EN);
	pmu_wr_gp(v5, MSR_IA32_FIXED_CTR_CTRL, PMU_FIXED_ANY);
	pmu_destroy(v4);
	pmu_destroy(v5);
}

/* SDM 21.2.2: IA32_FIXED_CTR_CTRL has one nibble per fixed counter; nibbles beyond are reserved */
Test(pmu_intel, fixed_ctr_ctrl_nibbles_beyond_counters_fault)
{
	struct pmu *p = pmu_mk("intel-v4"); /* 3 fixed counters */

	pmu_wr_ok(p, MSR_IA32_FIXED_CTR_CTRL, 0xBBB);
	pmu_wr_gp(p, MSR_IA32_FIXED_CTR_CTRL, 0xB000);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_FIXED_CTR_CTRL), 0xBBB, "unchanged by the #GP write");
	pmu_destroy(p);
}

/* SDM 21.2.2: IA32_PERF_GLOBAL_CTRL enables existing counters only */
Test(pmu_intel, global_ctrl_bits_of_missing_counters_fault)
{
	struct pmu *p = pmu_mk("intel-v4"); /* PMC0-3, fixed 0-2 */

	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(0x70000000F));
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(0x10));
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(1) << 35);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_CTRL), UINT64_C(0x70000000F), "unchanged");
	pmu_destroy(p);
}

/* SDM 21.2.2: at reset every GP enable bit of IA32_PERF_GLOBAL_CTRL is set, the fixed ones clear */
Test(pmu_intel, global_ctrl_resets_to_gp_counters_enabled)
{
	struct pmu *p = pmu_mk("intel-icelake-server");

	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_CTRL), 0xFF, "wanted 0xff, got %#llx",
	             (unsigned long long)pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_CTRL));
	pmu_destroy(p);
}

/* SDM 21.2.6: a write to IA32_PMCx stores EAX sign-extended from bit 31, cut to the width */
Test(pmu_intel, legacy_pmc_write_sign_extends_bit31)
{
	struct pmu *p = pmu_mk("intel-icelake-server"); /* 48-bit counters */
	uint64_t v;

	pmu_wr_ok(p, MSR_IA32_PMC0, UINT64_C(0xABCD00000000) | 0x80000001);
	v = pmu_rd_ok(p, MSR_IA32_PMC0);
	cr_expect_eq(v, UINT64_C(0xFFFF80000001), "wanted 0xffff80000001, got %#llx",
	             (unsigned long long)v);
	pmu_wr_ok(p, MSR_IA32_PMC0, 0x7FFFFFFF);
	v = pmu_rd_ok(p, MSR_IA32_PMC0);
	cr_expect_eq(v, 0x7FFFFFFF, "bit 31 clear: wanted 0x7fffffff, got %#llx",
	             (unsigned long long)v);
	pmu_destroy(p);
}

/* SDM 21.2.6: IA32_A_PMCx writes the full width; bits beyond it are reserved */
Test(pmu_intel, full_width_write_stores_width_and_faults_beyond)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	uint64_t v;

	pmu_wr_ok(p, MSR_IA32_A_PMC0 + 2, UINT64_C(0x123456789ABC));
	v = pmu_rd_ok(p, MSR_IA32_PMC0 + 2);
	cr_expect_eq(v, UINT64_C(0x123456789ABC), "PMC2 via A_PMC2: got %#llx",
	             (unsigned long long)v);
	pmu_wr_gp(p, MSR_IA32_A_PMC0 + 2, UINT64_C(1) << 48);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_A_PMC0 + 2), UINT64_C(0x123456789ABC), "unchanged");
	pmu_destroy(p);
}

/* SDM 21.2.6: IA32_A_PMCx exist only with IA32_PERF_CAPABILITIES.FW_WRITE */
Test(pmu_intel, a_pmc_needs_fw_write)
{
	struct pmu *p = pmu_mk("intel-v2"); /* capabilities 0 */
	uint64_t v;

	cr_expect_eq(pmu_msr_read(p, MSR_IA32_A_PMC0, &v), PMU_ACCESS_GP,
	             "A_PMC0 without FW_WRITE");
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_CAPABILITIES), 0, "capabilities");
	pmu_destroy(p);
}

/* SDM 21.2.2: fixed counter bits beyond CPUID.0AH:EDX[12:5] are reserved */
Test(pmu_intel, fixed_counter_write_beyond_width_faults)
{
	struct pmu *p = pmu_mk("intel-v2"); /* 40-bit fixed counters */

	pmu_wr_ok(p, MSR_IA32_FIXED_CTR0 + 1, UINT64_C(0xFFFFFFFFFF));
	pmu_wr_gp(p, MSR_IA32_FIXED_CTR0 + 1, UINT64_C(1) << 40);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_FIXED_CTR0 + 1), UINT64_C(0xFFFFFFFFFF), "unchanged");
	pmu_destroy(p);
}

/* SDM 21.2.2: IA32_PERF_GLOBAL_STATUS is read-only; SDM Vol. 4: so is IA32_PERF_CAPABILITIES,
 * and SDM 21.2.4 IA32_PERF_GLOBAL_INUSE */
Test(pmu_intel, read_only_msrs_fault_on_write)
{
	struct pmu *p = pmu_mk("intel-icelake-server");

	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_STATUS, 0);
	pmu_wr_gp(p, MSR_IA32_PERF_CAPABILITIES, 0x24C5);
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_INUSE, 0);
	pmu_destroy(p);
}

/* SDM 21.2.4: STATUS_SET sets status bits, STATUS_RESET clears the bits written as 1 */
Test(pmu_intel, status_set_then_reset_roundtrip)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	uint64_t bits = UINT64_C(1) << 33 | 5;

	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_STATUS_SET, bits);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS), bits, "after SET");
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET, 4);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS), bits & ~UINT64_C(4), "after RESET");
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET), 0, "RESET reads 0");
	pmu_destroy(p);
}

/* SDM 21.2.4: STATUS_SET of a missing counter's bit (or a status the model lacks) faults */
Test(pmu_intel, status_set_of_missing_counter_faults)
{
	struct pmu *p = pmu_mk("intel-v4");

	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_STATUS_SET, UINT64_C(1) << 4);
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_STATUS_SET, UINT64_C(1) << 62);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS), 0, "unchanged");
	pmu_destroy(p);
}

/* SDM 21.2.2: OVF_CTRL's CondChgd (63) and OvfBuf (62) clears are valid; other high bits are not */
Test(pmu_intel, ovf_ctrl_reserved_bits_fault)
{
	struct pmu *p = pmu_mk("intel-v2");

	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET, UINT64_C(3) << 62 | 3);
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET, UINT64_C(1) << 55);
	pmu_wr_gp(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET, UINT64_C(1) << 2);
	pmu_destroy(p);
}

/* SDM 21.2.4: INUSE bit n is PERFEVTSELn[7:0] != 0, bit 32+j a fixed enable, bit 63 any PMI */
Test(pmu_intel, inuse_reflects_programmed_counters)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	uint64_t v;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0 + 3, 0xC0);
	pmu_wr_ok(p, MSR_IA32_FIXED_CTR_CTRL, 0x2 << 4);
	v = pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_INUSE);
	cr_expect_eq(v, UINT64_C(1) << 33 | 8, "wanted %#llx, got %#llx",
	             (unsigned long long)(UINT64_C(1) << 33 | 8), (unsigned long long)v);
	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0 + 5, PMU_EVTSEL_INT);
	v = pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_INUSE);
	cr_expect_eq(v >> 63, 1, "INT set: PMI in use, got %#llx", (unsigned long long)v);
	cr_expect_eq(v & 0x20, 0, "event select 0 with INT: not in use, got %#llx",
	             (unsigned long long)v);
	pmu_destroy(p);
}

/* A read-write register reads back what was written (SDM 21.2.1.1, 21.2.2) */
Test(pmu_intel, rw_registers_roundtrip)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	const struct {
		uint32_t msr;
		uint64_t v;
	} rw[] = {{MSR_IA32_PERFEVTSEL0 + 7, 0xFFDBFFFF},
	          {MSR_IA32_FIXED_CTR_CTRL, 0xBBBB},
	          {MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(0xF000000FF)},
	          {MSR_IA32_FIXED_CTR0 + 3, UINT64_C(0xFFFFFFFFFFFF)},
	          {MSR_IA32_A_PMC0 + 7, UINT64_C(0x800000000000)}};

	for (unsigned i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		uint64_t got;

		pmu_wr_ok(p, rw[i].msr, rw[i].v);
		got = pmu_rd_ok(p, rw[i].msr);
		cr_expect_eq(got, rw[i].v, "MSR %#x: wrote %#llx, read %#llx", rw[i].msr,
		             (unsigned long long)rw[i].v, (unsigned long long)got);
	}
	pmu_assert_sane(p);
	pmu_destroy(p);
}
