/* Replays the committed reproducers of the model harnesses (docs/fuzzing.md "Findings replay"):
 * for every fuzz/crashes/fuzz_vmcs_entry/X with an X.expect beside it, running X through the
 * harness's decoder (fz_vmx_run) must give no finding and, for its last VMLAUNCH/VMRESUME, exactly
 * the outcome line in X.expect; for fuzz/crashes/fuzz_lapic_ioapic/X, no finding and X.expect's
 * "no finding"; for fuzz/crashes/fuzz_hv_transitions/X, the finding fz_hvt_run reports or "no
 * finding", as X.expect says; for fuzz/crashes/fuzz_tdx_seamcall/X, the finding fz_tdx_run
 * reports or "no finding". The replay binaries (make fuzz-replay) run the same files under ASan
 * and UBSan. */
#include <criterion/criterion.h>

#include "test_files.h"

#include "../fuzz/fz_apic_ops.h"
#include "../fuzz/fz_hvt.h"
#include "../fuzz/fz_tdx.h"
#include "../fuzz/fz_vmx_ops.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn(repro, data, len, want) for each reproducer of dir with an .expect file. */
static size_t each_repro(const char *dir,
                         void (*fn)(const char *, const uint8_t *, size_t, const char *))
{
	char pattern[256];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/*.expect", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char repro[4096];
		size_t len = 0, elen = 0;
		uint8_t *data, *want;

		snprintf(repro, sizeof(repro), "%.*s", (int)(strlen(g.gl_pathv[i]) - 7),
		         g.gl_pathv[i]);
		want = test_slurp(g.gl_pathv[i], &elen);
		data = test_slurp(repro, &len);
		cr_assert(want && data, "%s: cannot read it or its reproducer", g.gl_pathv[i]);
		want[strcspn((char *)want, "\n")] = '\0';
		fn(repro, data, len, (const char *)want);
		free(want);
		free(data);
	}
	globfree(&g);
	return g.gl_pathc;
}

static void vmx_one(const char *repro, const uint8_t *data, size_t len, const char *want)
{
	struct fz_vmx_outcome o;
	struct fz_vmx_sys s;

	cr_assert_eq(fz_vmx_create(&s), HVSIM_OK, "fz_vmx_create");
	fz_vmx_run(&s, data, len, &o, NULL);
	cr_assert(!o.kind, "%s: finding %s: %s", repro, o.kind, o.why);
	cr_assert_str_eq(o.last_entry, want, "%s: wanted %s, got %s", repro, want, o.last_entry);
	fz_vmx_destroy(&s);
}

static void apic_one(const char *repro, const uint8_t *data, size_t len, const char *want)
{
	struct fz_apic_outcome o;
	struct fz_apic_snap snap;
	struct fz_apic_sys s;

	cr_assert_eq(fz_apic_create(&s, &snap), HVSIM_OK, "fz_apic_create");
	fz_apic_run(&s, &snap, data, len, &o, NULL);
	cr_assert_str_eq(o.kind ? o.kind : "no finding", want, "%s: wanted %s, got %s: %s", repro,
	                 want, o.kind ? o.kind : "no finding", o.why);
	fz_apic_destroy(&s, &snap);
}

Test(fuzz_repro, vmcs_entry_reproducers_give_their_recorded_outcome)
{
	if (each_repro("fuzz/crashes/fuzz_vmcs_entry", vmx_one) == 0)
		cr_skip_test(
		    "no fuzz/crashes/fuzz_vmcs_entry/*.expect (run from the repository root)");
}

Test(fuzz_repro, lapic_ioapic_reproducers_give_their_recorded_outcome)
{
	if (each_repro("fuzz/crashes/fuzz_lapic_ioapic", apic_one) == 0)
		cr_skip_test("no fuzz/crashes/fuzz_lapic_ioapic/*.expect yet");
}

static void hvt_one(const char *repro, const uint8_t *data, size_t len, const char *want)
{
	struct fz_hvt_input *in = malloc(sizeof(*in));
	struct fz_hvt_outcome *o = malloc(sizeof(*o));

	cr_assert(in && o, "out of memory");
	fz_hvt_decode(data, len, in);
	fz_hvt_run(in, fz_hash(data, len), o);
	cr_assert_str_eq(o->kind ? o->kind : "no finding", want, "%s: wanted %s, got %s: %s", repro,
	                 want, o->kind ? o->kind : "no finding", o->why);
	free(in);
	free(o);
}

Test(fuzz_repro, hv_transitions_reproducers_give_their_recorded_outcome)
{
	if (each_repro("fuzz/crashes/fuzz_hv_transitions", hvt_one) == 0)
		cr_skip_test(
		    "no fuzz/crashes/fuzz_hv_transitions/*.expect (run from the repository root)");
}

static void tdx_one(const char *repro, const uint8_t *data, size_t len, const char *want)
{
	struct fz_tdx_outcome o;
	struct fz_tdx_sys s;

	cr_assert_eq(fz_tdx_create(&s), HVSIM_OK, "fz_tdx_create");
	fz_tdx_run(&s, data, len, &o);
	cr_assert_str_eq(o.kind ? o.kind : "no finding", want, "%s: wanted %s, got %s: %s", repro,
	                 want, o.kind ? o.kind : "no finding", o.why);
	fz_tdx_destroy(&s);
}

Test(fuzz_repro, tdx_seamcall_reproducers_give_their_recorded_outcome)
{
	if (each_repro("fuzz/crashes/fuzz_tdx_seamcall", tdx_one) == 0)
		cr_skip_test(
		    "no fuzz/crashes/fuzz_tdx_seamcall/*.expect (run from the repository root)");
}
