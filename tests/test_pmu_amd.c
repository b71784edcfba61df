/* Verifies the AMD core PMU's MSR interface (APM Vol. 2 13.2, pinned revision): the legacy
 * PERF_CTL0-3/PERF_CTR0-3 and the PerfCtrExtCore MSRs as aliases of one set of counters, the
 * reserved bits of PERF_CTLn, 48-bit counters, the PerfMonV2 global MSRs (status read-only,
 * clear/set, control of existing counters) and their absence without PerfMonV2. Each test builds
 * its own PMU from the amd-zen4 or amd-legacy profile. */
#include "pmu_fixture.h"

/* APM 13.2: PERF_CTL0-3/PERF_CTR0-3 are the same registers as PerfCtrExtCore's counters 0-3 */
Test(pmu_amd, legacy_msrs_alias_ext_core_counters)
{
	struct pmu *p = pmu_mk("amd-zen4");

	pmu_wr_ok(p, MSR_AMD_PERF_CTR0 + 2, 0x1234);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CTR_EXT0 + 2 * 2), 0x1234, "PERF_CTR2 via ext MSR");
	pmu_wr_ok(p, MSR_AMD_PERF_CTL_EXT0 + 2 * 3, 0x4300C0);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CTL0 + 3), 0x4300C0, "PERF_CTL3 via legacy MSR");
	pmu_destroy(p);
}

/* APM 13.2: without PerfCtrExtCore only the four legacy counters exist */
Test(pmu_amd, ext_core_msrs_need_the_feature)
{
	struct pmu *p = pmu_mk("amd-legacy");
	uint64_t v;

	cr_expect_eq(pmu_msr_read(p, MSR_AMD_PERF_CTL_EXT0, &v), PMU_ACCESS_GP, "ext CTL0");
	cr_expect_eq(pmu_msr_read(p, MSR_AMD_PERF_CTR0 + 3, &v), PMU_ACCESS_OK, "legacy CTR3");
	pmu_destroy(p);
}

/* APM 13.2: counters 4 and 5 exist only through the PerfCtrExtCore MSRs */
Test(pmu_amd, counters_4_5_only_via_ext_msrs)
{
	struct pmu *p = pmu_mk("amd-zen4");

	pmu_wr_ok(p, MSR_AMD_PERF_CTR_EXT0 + 2 * 5, 0xFFFF);
	cr_expect_eq(pmu_counter_value(p, false, 5), 0xFFFF, "counter 5");
	cr_expect(!pmu_msr_owned(p, MSR_AMD_PERF_CTL_EXT0 + 12), "0xC001020C is past the range");
	pmu_destroy(p);
}

/* APM 13.2.1: PERF_CTLn bits 19, 21, 39:36 and 63:42 are reserved; bits 35:32 (EventSelect
 * 11:8) and 41:40 (Host/Guest only) are defined */
Test(pmu_amd, perf_ctl_reserved_bits_fault)
{
	struct pmu *p = pmu_mk("amd-zen4");
	const uint64_t bad[] = {UINT64_C(1) << 19, UINT64_C(1) << 21, UINT64_C(1) << 36,
	                        UINT64_C(1) << 42, UINT64_C(1) << 63};

	pmu_wr_ok(p, MSR_AMD_PERF_CTL0, UINT64_C(0x30F00000000) | 0x4300C0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		pmu_wr_gp(p, MSR_AMD_PERF_CTL0, bad[i]);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CTL0), UINT64_C(0x30F00000000) | 0x4300C0,
	             "unchanged by the faulting writes");
	pmu_destroy(p);
}

/* APM 13.2.1: the counters are 48 bits; bits 63:48 of a write are dropped */
Test(pmu_amd, counter_write_cut_to_48_bits)
{
	struct pmu *p = pmu_mk("amd-zen4");
	uint64_t v;

	pmu_wr_ok(p, MSR_AMD_PERF_CTR0, ~UINT64_C(0));
	v = pmu_rd_ok(p, MSR_AMD_PERF_CTR0);
	cr_expect_eq(v, UINT64_C(0xFFFFFFFFFFFF), "wanted 48 ones, got %#llx",
	             (unsigned long long)v);
	pmu_destroy(p);
}

/* APM 13.2 PerfMonV2: PerfCntrGlobalStatus is read-only, Clr/Set change it */
Test(pmu_amd, global_status_read_only_clear_and_set)
{
	struct pmu *p = pmu_mk("amd-zen4");

	pmu_wr_gp(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS, 1);
	pmu_wr_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET, 0x21);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS), 0x21, "after Set");
	pmu_wr_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR, 0x1);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS), 0x20, "after Clr");
	pmu_wr_gp(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS_SET, 0x40);
	pmu_destroy(p);
}

/* APM 13.2 PerfMonV2: PerfCntrGlobalCtl resets to all core counters enabled and takes only
 * existing counters */
Test(pmu_amd, global_ctl_reset_and_reserved)
{
	struct pmu *p = pmu_mk("amd-zen4");

	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL), 0x3F, "reset value");
	pmu_wr_gp(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL, 0x40);
	pmu_wr_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL, 0x5);
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL), 0x5, "written value");
	pmu_destroy(p);
}

/* APM 13.2: without PerfMonV2 the global MSRs do not exist */
Test(pmu_amd, global_msrs_need_perfmon_v2)
{
	struct pmu *p = pmu_mk("amd-legacy");
	uint64_t v;

	cr_expect_eq(pmu_msr_read(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL, &v), PMU_ACCESS_GP, "GlobalCtl");
	cr_expect_eq(pmu_msr_write(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS_CLR, 0), PMU_ACCESS_GP,
	             "GlobalStatusClr");
	pmu_destroy(p);
}

/* Intel MSRs are not AMD PMU MSRs */
Test(pmu_amd, intel_msrs_unhandled)
{
	struct pmu *p = pmu_mk("amd-zen4");
	uint64_t v;

	cr_expect_eq(pmu_msr_read(p, MSR_IA32_PERF_GLOBAL_CTRL, &v), PMU_ACCESS_UNHANDLED,
	             "IA32_PERF_GLOBAL_CTRL on AMD");
	cr_expect_eq(pmu_msr_read(p, MSR_IA32_PMC0, &v), PMU_ACCESS_UNHANDLED, "IA32_PMC0 on AMD");
	pmu_destroy(p);
}
