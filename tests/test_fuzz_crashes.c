/* Replays the committed fuzzing reproducers that the scenario loader must reject: for every
 * fuzz/crashes/fuzz_scenario_json/X with an X.expect beside it, loading X must fail with exactly
 * the message in X.expect (what `hvsim run X` prints; docs/fuzzing.md "Findings replay"). The
 * replay binaries (make fuzz-replay) run the same files under ASan and UBSan. */
#include <criterion/criterion.h>

#include "test_files.h"

#include <hvsim/scenario.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRASH_DIR "fuzz/crashes/fuzz_scenario_json"

Test(fuzz_crashes, rejected_reproducers_give_their_recorded_message)
{
	glob_t g;

	if (glob(CRASH_DIR "/*.expect", 0, NULL, &g) != 0)
		cr_skip_test("no %s/*.expect files (run from the repository root)", CRASH_DIR);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char repro[4096];
		size_t len = 0, elen = 0;
		char *want, *text;
		struct hvsim_scenario *sc = NULL;
		struct hvsim_error err = {0};

		snprintf(repro, sizeof(repro), "%.*s", (int)(strlen(g.gl_pathv[i]) - 7),
		         g.gl_pathv[i]);
		want = (char *)test_slurp(g.gl_pathv[i], &elen);
		text = (char *)test_slurp(repro, &len);
		cr_assert(want && text, "%s: cannot read it or its reproducer", g.gl_pathv[i]);
		want[strcspn(want, "\n")] = '\0';
		cr_assert_eq(hvsim_scenario_parse(repro, text, len, NULL, &sc, &err), HVSIM_E_INPUT,
		             "%s: wanted a rejection", repro);
		cr_assert_str_eq(err.msg, want, "%s: wanted %s, got %s", repro, want, err.msg);
		free(want);
		free(text);
	}
	globfree(&g);
}
