/* Helpers of the PMU model tests (tests/test_pmu_*.c): build a PMU from a named profile (or a
 * configuration) and access MSRs with asserted outcomes. Each test builds and frees its own PMU. */
#ifndef HVSIM_TEST_PMU_FIXTURE_H
#define HVSIM_TEST_PMU_FIXTURE_H

#include <criterion/criterion.h>

#include <hvsim/pmu.h>

static inline struct pmu *pmu_mk_cfg(const struct pmu_config *cfg)
{
	struct pmu *p = NULL;
	struct hvsim_error err = {0};

	cr_assert_eq(pmu_create(cfg, &p, &err), HVSIM_OK, "pmu_create: %s", err.msg);
	return p;
}

static inline struct pmu *pmu_mk(const char *profile)
{
	struct pmu_config c;

	cr_assert_eq(pmu_profile(profile, &c), HVSIM_OK, "profile %s", profile);
	return pmu_mk_cfg(&c);
}

static inline uint64_t pmu_rd_ok(const struct pmu *p, uint32_t msr)
{
	uint64_t v = ~UINT64_C(0);
	enum pmu_access a = pmu_msr_read(p, msr, &v);

	cr_assert_eq(a, PMU_ACCESS_OK, "RDMSR %#x: wanted OK, got %d", msr, a);
	return v;
}

static inline void pmu_wr_ok(struct pmu *p, uint32_t msr, uint64_t v)
{
	enum pmu_access a = pmu_msr_write(p, msr, v);

	cr_assert_eq(a, PMU_ACCESS_OK, "WRMSR %#x <- %#llx: wanted OK, got %d", msr,
	             (unsigned long long)v, a);
}

static inline void pmu_wr_gp(struct pmu *p, uint32_t msr, uint64_t v)
{
	enum pmu_access a = pmu_msr_write(p, msr, v);

	cr_assert_eq(a, PMU_ACCESS_GP, "WRMSR %#x <- %#llx: wanted #GP, got %d", msr,
	             (unsigned long long)v, a);
}

static inline void pmu_assert_sane(const struct pmu *p)
{
	char why[256];

	cr_assert(pmu_check(p, why, sizeof(why)), "pmu_check: %s", why);
}

#endif
