/* Determinism of instruction-level guests (rule 1): each guest program of the scenario library,
 * run twice in one process with the minimal algorithm, gives byte-identical traces; and the seed
 * changes nothing but the values drawn from the run's PRNG (here RDRAND results). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <hvsim/hv_registry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trace_of(const char *program, const char *machine, uint64_t seed, const char *events)
{
	struct tv t = {.hv = hvsim_hv_builtin("minimal")};
	char json[2048];
	char *copy;

	snprintf(json, sizeof(json),
	         "{\"hvsim\": 1, \"name\": \"d\", \"description\": \"d\", \"provenance\": "
	         "{\"note\": \"n\"}, \"machine\": {%s}, \"hypervisor\": {\"algorithm\": "
	         "\"minimal\"}, \"guest\": {\"program\": \"guest/p.bin\"}, \"events\": [%s], "
	         "\"limits\": {\"exits\": 2000}, \"runs\": [{\"name\": \"r\", \"seed\": %llu, "
	         "\"golden\": \"g\"}]}",
	         machine, events, (unsigned long long)seed);
	cr_assert(tv_load_program(&t, program), "%s missing", program);
	cr_assert(tv_open(&t, json), "%s: %s", program, t.err.msg);
	tv_run(&t);
	copy = strdup(t.trace ? t.trace : "");
	tv_close(&t);
	return copy;
}

static const char irq_events[] = "{\"at_ns\": 20000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}, "
                                 "{\"at_ns\": 150000, \"irq_line\": {\"gsi\": 10, \"level\": 1}}";

static const struct {
	const char *program;
	const char *machine;
	const char *events;
} programs[] = {
    {"exits", "\"memory_mib\": 2", ""},
    {"xapic_mmio", "\"memory_mib\": 2", ""},
    {"irq_hlt", "\"memory_mib\": 2", irq_events},
    {"smp_ipi", "\"vcpus\": 2, \"quantum_insns\": 500", ""},
    {"snapshot", "\"quantum_insns\": 700", irq_events},
    {"smc", "\"memory_mib\": 2", ""},
};

Test(vcpu_determinism, every_guest_program_repeats_byte_for_byte)
{
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		char *a = trace_of(programs[i].program, programs[i].machine, 1, programs[i].events);
		char *b = trace_of(programs[i].program, programs[i].machine, 1, programs[i].events);

		cr_expect(strlen(a) > 100, "%s: trace too short:\n%s", programs[i].program, a);
		cr_expect_str_eq(a, b, "%s: two runs differ", programs[i].program);
		free(a);
		free(b);
	}
}

/* Lines that differ between seeds must be reports of RDRAND values (the OUT exit right after each
 * RDRAND exit in scenarios/guest/snapshot.S). */
Test(vcpu_determinism, the_seed_changes_only_prng_values)
{
	char *a = trace_of("snapshot", "\"quantum_insns\": 700", 1, irq_events);
	char *b = trace_of("snapshot", "\"quantum_insns\": 700", 2, irq_events);
	char *sa, *sb, *la, *lb, *prev = NULL;
	unsigned differing = 0;

	for (la = strtok_r(a, "\n", &sa), lb = strtok_r(b, "\n", &sb); la && lb;
	     la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
		bool same = strcmp(la, lb) == 0;
		const char *before = prev;

		if (strstr(la, "\"ev\":\"exit\""))
			prev = la; /* the last exit line (verbose traces interleave entries) */
		if (same)
			continue;
		differing++;
		cr_expect(before && strstr(before, "\"reason\":\"RDRAND\"") &&
		              strstr(la, "\"port\":\"0xe9\""),
		          "a line other than an RDRAND report differs:\n%s\n%s\n(after %s)", la, lb,
		          before ? before : "nothing");
	}
	cr_expect(la == NULL && lb == NULL, "the traces have different lengths");
	cr_expect_gt(differing, 30, "only %u lines differ: the seed does not reach RDRAND",
	             differing);
	free(a);
	free(b);
}
