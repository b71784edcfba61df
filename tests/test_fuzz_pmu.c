/* Verifies the fuzz_pmu_msr machinery (fuzz/fz_pmu*.c) and the named PMU invariants it shares with
 * the pmu-replay algorithm (hv/pmu_replay_inv.c): every named invariant holds on a sane PMU and
 * fails on a state or result built to break exactly its rule; the configuration byte names every
 * profile; the decoder reads back what the encoder wrote for every operation kind; each hand-made
 * seed runs without a finding, reaches what its name promises and is deterministic (the exports
 * are tests/test_pmu_replay.c's). The invariants are fed states made with the model's API, then
 * bent through its private layout. */
#include <criterion/criterion.h>

#include "../fuzz/fz_pmu_seeds.h"
#include "../models/pmu_int.h"
#include <string.h>

#define WHY 384

static struct pmu *mk(const char *profile)
{
	struct pmu_config c;
	struct pmu *p = NULL;

	cr_assert_eq(pmu_profile(profile, &c), HVSIM_OK, "profile %s", profile);
	cr_assert_eq(pmu_create(&c, &p, NULL), HVSIM_OK, "pmu_create %s", profile);
	return p;
}

Test(fuzz_pmu, counter_width_detects_a_counter_and_a_read_beyond_the_width)
{
	struct pmu *p = mk("intel-v2"); /* 40-bit */
	char why[WHY];

	cr_expect(pmu_replay_inv_counter_width(p, UINT64_C(0xFFFFFFFFFF), 40, why, WHY), "sane: %s",
	          why);
	cr_expect(!pmu_replay_inv_counter_width(p, UINT64_C(1) << 40, 40, why, WHY),
	          "read of 41 bits");
	p->fixed_ctr[2] = UINT64_C(1) << 40;
	cr_expect(!pmu_replay_inv_counter_width(p, 0, 0, why, WHY),
	          "fixed counter 2 beyond 40 bits");
	pmu_destroy(p);
}

Test(fuzz_pmu, rdpmc_matches_msr_checks_the_fault_rule_and_the_value)
{
	struct pmu *p = mk("intel-v4");
	char why[WHY];

	p->gp_ctr[2] = 0x99;
	cr_expect(pmu_replay_inv_rdpmc(p, 2, 0, false, PMU_ACCESS_OK, 0x99, why, WHY), "sane: %s",
	          why);
	cr_expect(!pmu_replay_inv_rdpmc(p, 2, 0, false, PMU_ACCESS_OK, 0x98, why, WHY),
	          "wrong value");
	cr_expect(!pmu_replay_inv_rdpmc(p, 2, 3, false, PMU_ACCESS_OK, 0x99, why, WHY),
	          "CPL 3 without PCE must fault");
	cr_expect(!pmu_replay_inv_rdpmc(p, 2, 3, true, PMU_ACCESS_GP, 0, why, WHY),
	          "CPL 3 with PCE must not fault");
	cr_expect(
	    pmu_replay_inv_rdpmc(p, PMU_RDPMC_FIXED | 3, 0, false, PMU_ACCESS_GP, 0, why, WHY),
	    "fixed 3 of 3: #GP is right: %s", why);
	pmu_destroy(p);
}

Test(fuzz_pmu, global_status_allows_only_reported_or_set_bits)
{
	struct pmu *a = mk("intel-icelake-server"), *b = mk("intel-icelake-server");
	char why[WHY];

	b->global_status = 0x5;
	cr_expect(pmu_replay_inv_status(a, b, 0x1, 0x4, 0, why, WHY), "reported + set: %s", why);
	cr_expect(!pmu_replay_inv_status(a, b, 0x1, 0, 0, why, WHY),
	          "bit 2 neither counted nor set");
	cr_expect(!pmu_replay_inv_status(a, b, 0x1, 0x4, 0x1, why, WHY),
	          "bit 0 survived its reset");
	b->global_status = UINT64_C(1) << 36;
	cr_expect(!pmu_replay_inv_status(a, b, 0, ~UINT64_C(0), 0, why, WHY),
	          "fixed counter 4 missing");
	pmu_destroy(a);
	pmu_destroy(b);
}

Test(fuzz_pmu, count_advances_by_n_detects_wrong_steps_missing_status_and_disabled_counters)
{
	struct pmu *a = mk("intel-icelake-server"), *b = mk("intel-icelake-server");
	struct pmu_count_result r = {0};
	char why[WHY];

	a->gp_sel[0] = a->gp_sel[1] = PMU_EVTSEL_EN;
	b->gp_ctr[0] = 10;
	cr_expect(pmu_replay_inv_count(a, b, 10, &r, why, WHY), "advanced by n: %s", why);
	b->gp_ctr[0] = 11;
	cr_expect(!pmu_replay_inv_count(a, b, 10, &r, why, WHY), "advanced by n + 1");
	a->gp_ctr[1] = UINT64_C(0xFFFFFFFFFFFF);
	b->gp_ctr[0] = 0;
	b->gp_ctr[1] = 1;
	cr_expect(!pmu_replay_inv_count(a, b, 2, &r, why, WHY), "wrapped without its status bit");
	b->global_status = 2;
	r.overflow = 2;
	cr_expect(pmu_replay_inv_count(a, b, 2, &r, why, WHY), "wrapped with status: %s", why);
	r.overflow = 3;
	cr_expect(!pmu_replay_inv_count(a, b, 2, &r, why, WHY), "overflow of a counter that stood");
	r.overflow = 2;
	a->global_ctrl = 1; /* PMC1 advanced while globally disabled */
	cr_expect(!pmu_replay_inv_count(a, b, 2, &r, why, WHY), "globally disabled PMC1 advanced");
	pmu_destroy(a);
	pmu_destroy(b);
}

Test(fuzz_pmu, wrmsr_gp_no_effect_detects_any_register_change)
{
	struct pmu *a = mk("amd-zen4"), *b = mk("amd-zen4");
	char why[WHY];

	cr_expect(pmu_replay_inv_no_effect(a, b, why, WHY), "same: %s", why);
	b->global_ctrl = 1;
	cr_expect(!pmu_replay_inv_no_effect(a, b, why, WHY), "global control changed");
	pmu_destroy(a);
	pmu_destroy(b);
}

Test(fuzz_pmu, roundtrip_checks_each_msr_as_it_stores)
{
	struct pmu *p = mk("intel-icelake-server");
	char why[WHY];

	cr_assert_eq(pmu_msr_write(p, MSR_IA32_PMC0, 0x80000000), PMU_ACCESS_OK, "write");
	cr_expect(pmu_replay_inv_roundtrip(p, MSR_IA32_PMC0, 0x80000000, why, WHY),
	          "sign-extended: %s", why);
	p->gp_ctr[0] = 0x80000000; /* a model that forgot the sign extension */
	cr_expect(!pmu_replay_inv_roundtrip(p, MSR_IA32_PMC0, 0x80000000, why, WHY),
	          "not extended");
	cr_expect(!pmu_replay_inv_roundtrip(p, MSR_IA32_PERF_GLOBAL_STATUS, 0, why, WHY),
	          "a read-only MSR took a write");
	cr_expect(pmu_replay_inv_roundtrip(p, MSR_IA32_PERF_GLOBAL_STATUS_RESET, 5, why, WHY),
	          "write-only reads 0: %s", why);
	pmu_destroy(p);
}

Test(fuzz_pmu, snapshot_equal_detects_any_difference)
{
	struct pmu *a = mk("intel-v4"), *b = mk("intel-v4");
	char why[WHY];

	cr_expect(pmu_replay_inv_same(a, b, why, WHY), "fresh copies: %s", why);
	b->fixed_ctrl = 0x1;
	cr_expect(!pmu_replay_inv_same(a, b, why, WHY), "fixed control differs");
	pmu_destroy(a);
	pmu_destroy(b);
}

Test(fuzz_pmu, configuration_byte_names_every_profile)
{
	unsigned n = 0;

	for (const char *const *p = pmu_profile_names(); *p; p++)
		n++;
	cr_assert_leq(n, FZ_PMU_PROFILES, "%u profiles, room for %d", n, FZ_PMU_PROFILES);
	for (unsigned b = 0; b < n; b++) {
		struct pmu_config c, want;

		fz_pmu_config_from((uint8_t)b, &c);
		pmu_profile(pmu_profile_names()[b], &want);
		cr_expect(c.vendor == want.vendor && c.n_gp == want.n_gp &&
		              c.version == want.version,
		          "byte %u: wanted profile %s", b, pmu_profile_names()[b]);
	}
	for (unsigned b = 0; b < 256; b++) {
		struct pmu_config c;
		char why[WHY];

		fz_pmu_config_from((uint8_t)b, &c);
		cr_expect(pmu_config_valid(&c, why, WHY), "byte %u: %s", b, why);
		cr_expect_lt(fz_pmu_config_index((uint8_t)b), FZ_PMU_PROFILES * FZ_PMU_VARIANTS,
		             "byte %u index", b);
	}
}

Test(fuzz_pmu, decoder_reads_back_what_the_encoder_wrote)
{
	const struct pmu_replay_op ops[] = {
	    {.kind = PMU_REPLAY_RDMSR, .msr = 0x38F},
	    {.kind = PMU_REPLAY_RDMSR, .msr = 0x12345},
	    {.kind = PMU_REPLAY_WRMSR, .msr = 0xC0010201, .value = UINT64_C(0xDEADBEEF00)},
	    {.kind = PMU_REPLAY_RDPMC, .msr = 0x40000002, .cpl = 3, .pce = true},
	    {.kind = PMU_REPLAY_COUNT, .event = PMU_EV_BRANCHES, .cpl = 1, .sub = 3, .value = 77},
	    {.kind = PMU_REPLAY_COUNT, .event = PMU_EV_CORE_CYCLES, .sub = 4, .ctr = 9, .value = 2},
	    {.kind = PMU_REPLAY_SNAPSHOT},
	    {.kind = PMU_REPLAY_RESTORE},
	    {.kind = PMU_REPLAY_RESET},
	};
	struct pmu_config cfg;

	pmu_profile("intel-icelake-server", &cfg);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint8_t b[64];
		struct fz_out o;
		struct fz_in in;
		struct pmu_replay_op got;

		fz_out_init(&o, b, sizeof(b));
		fz_pmu_encode(&o, &ops[i]);
		fz_init(&in, b, o.len);
		fz_pmu_decode(&in, &cfg, &got);
		cr_expect(got.kind == ops[i].kind && got.msr == ops[i].msr &&
		              got.value == ops[i].value && got.cpl == ops[i].cpl &&
		              got.pce == ops[i].pce && got.event == ops[i].event &&
		              got.sub == ops[i].sub && got.ctr == ops[i].ctr,
		          "op %zu (%s): decoded kind %u msr %#x value %#llx", i,
		          pmu_replay_op_name(ops[i].kind), got.kind, got.msr,
		          (unsigned long long)got.value);
		cr_expect_eq(fz_left(&in), 0, "op %zu: %zu bytes left", i, fz_left(&in));
	}
}

static void check_stats(const char *name, const struct pmu_replay_stats *got,
                        const struct pmu_replay_stats *want)
{
	cr_expect(got->gp >= want->gp && got->writes >= want->writes && got->rdpmc >= want->rdpmc &&
	              got->overflows >= want->overflows && got->pmis >= want->pmis &&
	              got->restores >= want->restores,
	          "%s: got gp %u writes %u rdpmc %u overflows %u pmis %u restores %u; wanted at "
	          "least %u %u %u %u %u %u",
	          name, got->gp, got->writes, got->rdpmc, got->overflows, got->pmis, got->restores,
	          want->gp, want->writes, want->rdpmc, want->overflows, want->pmis, want->restores);
}

Test(fuzz_pmu, every_seed_reaches_its_state_without_a_finding)
{
	struct fz_pmu_sys s;

	cr_assert_eq(fz_pmu_create(&s), HVSIM_OK, "fz_pmu_create");
	for (size_t i = 0; i < fz_pmu_seed_count(); i++) {
		const struct fz_pmu_seed *sd = fz_pmu_seed_at(i);
		struct fz_pmu_outcome o;
		uint8_t b[1024];
		size_t n = fz_pmu_seed_bytes(sd, b, sizeof(b));

		cr_assert(n, "%s: does not encode", sd->name);
		fz_pmu_run(&s, b, n, &o, NULL);
		cr_expect_null(o.kind, "%s: finding %s: %s", sd->name, o.kind ? o.kind : "", o.why);
		cr_expect_eq(o.ops, sd->n_ops, "%s: ran %u of %zu operations", sd->name, o.ops,
		             sd->n_ops);
		check_stats(sd->name, &s.m.stats, &sd->wants);
	}
	fz_pmu_destroy(&s);
}

Test(fuzz_pmu, a_run_is_deterministic)
{
	struct fz_pmu_sys s;

	cr_assert_eq(fz_pmu_create(&s), HVSIM_OK, "fz_pmu_create");
	for (size_t i = 0; i < fz_pmu_seed_count(); i++) {
		const struct fz_pmu_seed *sd = fz_pmu_seed_at(i);
		struct fz_pmu_outcome a, b;
		uint8_t buf[1024];
		size_t n = fz_pmu_seed_bytes(sd, buf, sizeof(buf));

		fz_pmu_run(&s, buf, n, &a, NULL);
		fz_pmu_run(&s, buf, n, &b, NULL);
		cr_expect(a.hash == b.hash && a.ops == b.ops, "%s: hashes %#llx and %#llx",
		          sd->name, (unsigned long long)a.hash, (unsigned long long)b.hash);
	}
	fz_pmu_destroy(&s);
}
