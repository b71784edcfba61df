/* Verifies the PMU model's counting, RDPMC, CPUID and configuration rules: an enabled counter
 * counts the event its select names at the CPLs OS/USR allow and only under the global enable;
 * fixed counters count their fixed events; a wrap sets the global status bit and requests a PMI
 * only with INT/PMI; counters never leave their width; RDPMC's CR4.PCE/CPL rule, ECX[30] fixed
 * selection and index checks; CPUID 0xA / 0x80000022 derived from the description; invalid
 * descriptions refused; pmu_check catches a broken state. Each test builds its own PMU and
 * reports the events itself through pmu_count (SDM 21.2, SDM Vol. 2B RDPMC, APM 13.2). */
#include "pmu_fixture.h"

#include "../models/pmu_int.h"

#define EVTSEL_INST_ANY  (PMU_EVTSEL_EN | PMU_EVTSEL_OS | PMU_EVTSEL_USR | 0xC0)
#define EVTSEL_CYCLES_OS (PMU_EVTSEL_EN | PMU_EVTSEL_OS | 0x3C)

/* SDM 21.2.1.2: event 0xC0 umask 0 counts instructions retired on an enabled counter */
Test(pmu_count, enabled_counter_counts_its_event)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 1000, 3, &r);
	pmu_count(p, PMU_EV_CORE_CYCLES, 77, 3, &r);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PMC0), 1000, "PMC0: wanted 1000, got %llu",
	             (unsigned long long)pmu_rd_ok(p, MSR_IA32_PMC0));
	pmu_destroy(p);
}

/* SDM 21.2.1.1: OS counts at CPL 0, USR at CPL 1-3 */
Test(pmu_count, os_usr_filter_by_cpl)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_CYCLES_OS);
	pmu_count(p, PMU_EV_CORE_CYCLES, 10, 3, &r);
	pmu_count(p, PMU_EV_CORE_CYCLES, 5, 0, &r);
	cr_expect_eq(pmu_counter_value(p, false, 0), 5, "OS only: wanted 5, got %llu",
	             (unsigned long long)pmu_counter_value(p, false, 0));
	pmu_destroy(p);
}

/* SDM 21.2.2: a counter counts only while its IA32_PERF_GLOBAL_CTRL bit is set */
Test(pmu_count, global_ctrl_gates_counting)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0 + 1, EVTSEL_INST_ANY);
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, 0x1);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 50, 0, &r);
	cr_expect_eq(pmu_counter_value(p, false, 1), 0, "PMC1 disabled globally");
	pmu_destroy(p);
}

/* SDM 21.2.1.1: EN clear, or CMASK/INV/EDGE (conditions the model cannot see), counts nothing */
Test(pmu_count, disabled_or_conditional_select_counts_nothing)
{
	const uint64_t sels[] = {EVTSEL_INST_ANY & ~PMU_EVTSEL_EN, EVTSEL_INST_ANY | 1u << 24,
	                         EVTSEL_INST_ANY | PMU_EVTSEL_INV,
	                         EVTSEL_INST_ANY | PMU_EVTSEL_EDGE, EVTSEL_INST_ANY | 0x100};
	struct pmu_count_result r;

	for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		struct pmu *p = pmu_mk("intel-icelake-server");

		pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, sels[i]);
		pmu_count(p, PMU_EV_INSTRUCTIONS, 9, 0, &r);
		cr_expect_eq(pmu_counter_value(p, false, 0), 0, "select %#llx counted %llu",
		             (unsigned long long)sels[i],
		             (unsigned long long)pmu_counter_value(p, false, 0));
		pmu_destroy(p);
	}
}

/* SDM 21.2.2: fixed counter 0 counts instructions, 1 core cycles, under their nibble and the
 * global enable bit 32 + j */
Test(pmu_count, fixed_counters_count_fixed_events)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_FIXED_CTR_CTRL, 0x33);
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(1) << 32);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 11, 0, &r);
	pmu_count(p, PMU_EV_CORE_CYCLES, 22, 0, &r);
	cr_expect_eq(pmu_counter_value(p, true, 0), 11, "fixed 0: wanted 11");
	cr_expect_eq(pmu_counter_value(p, true, 1), 0, "fixed 1 not globally enabled");
	pmu_destroy(p);
}

/* SDM 21.2.2: a counter counts only with its global enable bit and its own enable (EN, or the
 * fixed nibble's OS/USR bits); pmu_counting says whether any does */
Test(pmu_count, counting_needs_a_globally_and_locally_enabled_counter)
{
	struct pmu *p = pmu_mk("intel-icelake-server");

	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, 0);
	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY);
	pmu_wr_ok(p, MSR_IA32_FIXED_CTR_CTRL, 0x3);
	cr_expect_not(pmu_counting(p), "EN and the fixed nibble set, no global enable: counting");
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, 0x2);
	cr_expect_not(pmu_counting(p), "PMC1 globally enabled without EN: counting");
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(1) << 33);
	cr_expect_not(pmu_counting(p), "fixed 1 globally enabled with a zero nibble: counting");
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(1) << 32);
	cr_expect(pmu_counting(p), "fixed 0 enabled both ways: not counting");
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, 0x1);
	cr_expect(pmu_counting(p), "PMC0 enabled both ways: not counting");
	pmu_destroy(p);
}

/* SDM 21.2.2: a wrap sets the counter's GLOBAL_STATUS bit; with INT it requests a PMI */
Test(pmu_count, overflow_sets_status_and_pmi_with_int)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0 + 2, EVTSEL_INST_ANY | PMU_EVTSEL_INT);
	pmu_wr_ok(p, MSR_IA32_PMC0 + 2, 0xFFFFFFF0); /* -16, sign-extended */
	pmu_count(p, PMU_EV_INSTRUCTIONS, 15, 0, &r);
	cr_expect(!r.pmi && r.overflow == 0, "15 of 16: no overflow yet");
	pmu_count(p, PMU_EV_INSTRUCTIONS, 3, 0, &r);
	cr_expect(r.pmi, "overflow with INT: PMI wanted");
	cr_expect_eq(r.overflow, 4, "overflow bits: wanted 4, got %#llx",
	             (unsigned long long)r.overflow);
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS), 4, "status bit 2");
	cr_expect_eq(pmu_counter_value(p, false, 2), 2, "wrapped to 2");
	pmu_destroy(p);
}

/* SDM 21.2.2: without INT an overflow sets the status bit but requests no PMI */
Test(pmu_count, overflow_without_int_no_pmi)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_FIXED_CTR_CTRL, 0x3 << 4);
	pmu_wr_ok(p, MSR_IA32_PERF_GLOBAL_CTRL, UINT64_C(1) << 33);
	pmu_wr_ok(p, MSR_IA32_FIXED_CTR0 + 1, UINT64_C(0xFFFFFFFFFFFF));
	pmu_count(p, PMU_EV_CORE_CYCLES, 1, 0, &r);
	cr_expect(!r.pmi, "no PMI bit: no PMI");
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERF_GLOBAL_STATUS), UINT64_C(1) << 33, "status 33");
	pmu_destroy(p);
}

/* Counters never leave their width, whatever count is reported */
Test(pmu_count, huge_counts_stay_within_width)
{
	struct pmu *p = pmu_mk("intel-v2"); /* 40-bit */
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY);
	pmu_count(p, PMU_EV_INSTRUCTIONS, ~UINT64_C(0), 0, &r);
	cr_expect(r.overflow & 1, "2^64-1 events wrap a 40-bit counter");
	cr_expect_eq(pmu_counter_value(p, false, 0), UINT64_C(0xFFFFFFFFFF), "got %#llx",
	             (unsigned long long)pmu_counter_value(p, false, 0));
	pmu_assert_sane(p);
	pmu_destroy(p);
}

/* SDM 21.2.1: version 1 has no global status: an overflow only requests the PMI */
Test(pmu_count, v1_overflow_pmi_without_status)
{
	struct pmu *p = pmu_mk("intel-v1");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY | PMU_EVTSEL_INT);
	pmu_wr_ok(p, MSR_IA32_PMC0, 0xFFFFFFFF);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 1, 0, &r);
	cr_expect(r.pmi, "PMI requested");
	cr_expect_eq(r.overflow, 0, "no status register");
	pmu_assert_sane(p);
	pmu_destroy(p);
}

/* CPUID.0AH:EBX: an event marked unavailable counts nothing */
Test(pmu_count, unavailable_architectural_event_counts_nothing)
{
	struct pmu_config c;
	struct pmu *p;
	struct pmu_count_result r;

	pmu_profile("intel-icelake-server", &c);
	c.events_unavailable = 1u << PMU_EV_BRANCHES;
	p = pmu_mk_cfg(&c);
	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, PMU_EVTSEL_EN | PMU_EVTSEL_OS | 0xC4);
	pmu_count(p, PMU_EV_BRANCHES, 4, 0, &r);
	cr_expect_eq(pmu_counter_value(p, false, 0), 0, "unavailable event counted");
	pmu_destroy(p);
}

/* APM 13.2: AMD counts retired instructions (0xC0) with PerfCntrGlobalCtl enabling it, and an
 * overflow sets PerfCntrGlobalStatus */
Test(pmu_count, amd_counts_and_overflows)
{
	struct pmu *p = pmu_mk("amd-zen4");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_AMD_PERF_CTL_EXT0 + 2 * 4, EVTSEL_INST_ANY | PMU_EVTSEL_INT);
	pmu_wr_ok(p, MSR_AMD_PERF_CTR_EXT0 + 2 * 4, UINT64_C(0xFFFFFFFFFFFE));
	pmu_count(p, PMU_EV_INSTRUCTIONS, 2, 3, &r);
	cr_expect(r.pmi, "PMI requested");
	cr_expect_eq(pmu_rd_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_STATUS), 0x10, "status bit 4");
	pmu_wr_ok(p, MSR_AMD_PERF_CNTR_GLOBAL_CTL, 0);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 2, 3, &r);
	cr_expect_eq(pmu_counter_value(p, false, 4), 0, "globally disabled: still 0");
	pmu_destroy(p);
}

/* SDM Vol. 2B RDPMC: #GP(0) at CPL > 0 with CR4.PCE clear; allowed at CPL 0 or with PCE */
Test(pmu_count, rdpmc_cpl_and_pce)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	uint64_t v;

	cr_expect_eq(pmu_rdpmc(p, 0, 3, false, &v), PMU_ACCESS_GP, "CPL 3, PCE 0");
	cr_expect_eq(pmu_rdpmc(p, 0, 3, true, &v), PMU_ACCESS_OK, "CPL 3, PCE 1");
	cr_expect_eq(pmu_rdpmc(p, 0, 0, false, &v), PMU_ACCESS_OK, "CPL 0");
	pmu_destroy(p);
}

/* SDM Vol. 2B RDPMC: ECX[30] selects fixed counters; an index past the counters faults */
Test(pmu_count, rdpmc_selects_and_checks_index)
{
	struct pmu *p = pmu_mk("intel-v4"); /* 4 GP, 3 fixed */
	uint64_t v;

	pmu_wr_ok(p, MSR_IA32_FIXED_CTR0 + 2, 0x77);
	pmu_wr_ok(p, MSR_IA32_PMC0 + 3, 0x55);
	cr_expect_eq(pmu_rdpmc(p, PMU_RDPMC_FIXED | 2, 0, false, &v), PMU_ACCESS_OK, "fixed 2");
	cr_expect_eq(v, 0x77, "fixed 2 value: got %#llx", (unsigned long long)v);
	cr_expect_eq(pmu_rdpmc(p, 3, 0, false, &v), PMU_ACCESS_OK, "GP 3");
	cr_expect_eq(v, 0x55, "GP 3 value: got %#llx", (unsigned long long)v);
	cr_expect_eq(pmu_rdpmc(p, PMU_RDPMC_FIXED | 3, 0, false, &v), PMU_ACCESS_GP, "fixed 3");
	cr_expect_eq(pmu_rdpmc(p, 4, 0, false, &v), PMU_ACCESS_GP, "GP 4");
	cr_expect_eq(pmu_rdpmc(p, 0x80000000u, 0, false, &v), PMU_ACCESS_GP, "ECX[31]");
	pmu_destroy(p);
}

/* APM Vol. 3 RDPMC: ECX 0-5 with PerfCtrExtCore; 6 and up (northbridge, L2I) are not modelled */
Test(pmu_count, amd_rdpmc_index_range)
{
	struct pmu *p = pmu_mk("amd-zen4");
	uint64_t v;

	cr_expect_eq(pmu_rdpmc(p, 5, 0, false, &v), PMU_ACCESS_OK, "ECX 5");
	cr_expect_eq(pmu_rdpmc(p, 6, 0, false, &v), PMU_ACCESS_GP, "ECX 6");
	cr_expect_eq(pmu_rdpmc(p, PMU_RDPMC_FIXED, 0, false, &v), PMU_ACCESS_GP, "no fixed on AMD");
	pmu_destroy(p);
}

/* SDM Vol. 2A CPUID leaf 0AH: version, counters, widths, events, fixed bitmap (v5) */
Test(pmu_count, cpuid_0a_from_description)
{
	struct pmu_config c;
	uint32_t r[4];

	pmu_profile("intel-sapphirerapids", &c);
	cr_assert(pmu_cpuid(&c, 0xA, 0, r), "leaf 0xA is the PMU's");
	cr_expect_eq(r[0], 0x08300805u, "EAX: wanted 0x08300805, got %#x", r[0]);
	cr_expect_eq(r[1], 0, "EBX: every event available, got %#x", r[1]);
	cr_expect_eq(r[2], 0xF, "ECX: fixed bitmap 0xf, got %#x", r[2]);
	cr_expect_eq(r[3], 0x8604u, "EDX: 4 fixed of 48 bits, AnyThread deprecated, got %#x", r[3]);
	cr_expect(!pmu_cpuid(&c, 0x80000022, 0, r), "AMD leaf on Intel");
}

/* APM Vol. 3 CPUID Fn8000_0022: PerfMonV2 and the core counter count */
Test(pmu_count, cpuid_80000022_from_description)
{
	struct pmu_config c;
	uint32_t r[4];

	pmu_profile("amd-zen4", &c);
	cr_assert(pmu_cpuid(&c, 0x80000022, 0, r), "leaf 0x80000022 is the PMU's");
	cr_expect_eq(r[0], 1, "EAX PerfMonV2: got %#x", r[0]);
	cr_expect_eq(r[1], 6, "EBX NumPerfCtrCore: got %#x", r[1]);
}

/* Descriptions the model cannot build are refused with a message */
Test(pmu_count, invalid_configs_refused)
{
	struct pmu_config c;
	struct pmu *p = (struct pmu *)1;
	struct hvsim_error err = {0};

	pmu_profile("intel-icelake-server", &c);
	c.version = 6;
	cr_expect_eq(pmu_create(&c, &p, &err), HVSIM_E_INPUT, "version 6");
	cr_expect_null(p, "no PMU on failure");
	pmu_profile("intel-icelake-server", &c);
	c.n_gp = 9;
	cr_expect_eq(pmu_create(&c, &p, &err), HVSIM_E_INPUT, "9 GP counters");
	pmu_profile("amd-zen4", &c);
	c.amd_ext_core = false;
	cr_expect_eq(pmu_create(&c, &p, &err), HVSIM_E_INPUT, "PerfMonV2 without ext core: %s",
	             err.msg);
}

/* pmu_check finds a counter beyond its width and a status bit of a missing counter */
Test(pmu_count, check_detects_broken_state)
{
	struct pmu *p = pmu_mk("intel-v4");
	char why[256];

	pmu_assert_sane(p);
	p->gp_ctr[1] = UINT64_C(1) << 48;
	cr_expect(!pmu_check(p, why, sizeof(why)), "counter beyond width not caught");
	p->gp_ctr[1] = 0;
	p->global_status = UINT64_C(1) << 5;
	cr_expect(!pmu_check(p, why, sizeof(why)), "status of PMC5 not caught");
	pmu_destroy(p);
}

/* A copy is a snapshot: restoring it brings back every register */
Test(pmu_count, copy_restores_state)
{
	struct pmu *p = pmu_mk("intel-icelake-server"), *s = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;

	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY);
	pmu_copy(s, p);
	pmu_count(p, PMU_EV_INSTRUCTIONS, 5, 0, &r);
	pmu_copy(p, s);
	cr_expect_eq(pmu_counter_value(p, false, 0), 0, "restored counter");
	cr_expect_eq(pmu_rd_ok(p, MSR_IA32_PERFEVTSEL0), EVTSEL_INST_ANY, "restored select");
	pmu_destroy(p);
	pmu_destroy(s);
}

/* Every profile builds and passes its own check */
Test(pmu_count, every_profile_builds_sane)
{
	for (const char *const *n = pmu_profile_names(); *n; n++) {
		struct pmu *p = pmu_mk(*n);
		char why[256];

		cr_expect(pmu_check(p, why, sizeof(why)), "%s: %s", *n, why);
		pmu_destroy(p);
	}
}

/* pmu_next_pmi: the fewest events until an interrupt-enabled counter of that event wraps */
Test(pmu_count, next_pmi_is_the_nearest_interrupting_wrap)
{
	struct pmu *p = pmu_mk("intel-icelake-server");
	struct pmu_count_result r;
	uint64_t n = 0;

	cr_expect(!pmu_next_pmi(p, PMU_EV_INSTRUCTIONS, 0, &n), "nothing programmed");
	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0, EVTSEL_INST_ANY | PMU_EVTSEL_INT);
	pmu_wr_ok(p, MSR_IA32_PMC0, 0xFFFFF000);                 /* 4096 to the wrap */
	pmu_wr_ok(p, MSR_IA32_PERFEVTSEL0 + 1, EVTSEL_INST_ANY); /* no INT: ignored */
	pmu_wr_ok(p, MSR_IA32_PMC0 + 1, 0xFFFFFFF0);
	cr_assert(pmu_next_pmi(p, PMU_EV_INSTRUCTIONS, 0, &n), "PMC0 interrupts");
	cr_expect_eq(n, 4096, "wanted 4096, got %llu", (unsigned long long)n);
	pmu_count(p, PMU_EV_INSTRUCTIONS, n - 1, 0, &r);
	cr_expect(!r.pmi, "one short of the wrap: no PMI");
	pmu_count(p, PMU_EV_INSTRUCTIONS, 1, 0, &r);
	cr_expect(r.pmi, "at the predicted count: PMI");
	cr_expect(!pmu_next_pmi(p, PMU_EV_BRANCHES, 0, &n), "no counter counts branches");
	pmu_destroy(p);
}
