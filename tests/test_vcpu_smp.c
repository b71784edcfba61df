/* Verifies several instruction-level vCPUs (issue 3 point 7): deterministic round robin with the
 * configured quantum writes trace lines in one canonical order (slice by slice, vCPUs in index
 * order within a slice), an IPI kicks its target out of HLT no earlier than it was sent, and
 * the whole run repeats byte for byte. Real code with the minimal algorithm or the recorder. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <hvsim/hv_registry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUANTUM_NS 100

/* L: out 0x80, al; 50 x nop; jmp L: one exit every 52 instructions. */
static void spin_code(char *hex, size_t cap)
{
	static const uint8_t out[] = {0xe6, 0x80}, jmp[] = {0xeb, 0xca};

	hex[0] = '\0';
	tv_hex(hex, cap, out, sizeof(out));
	tv_hex_fill(hex, cap, 0x90, 50);
	tv_hex(hex, cap, jmp, sizeof(jmp));
}

static void parse_line(const char *line, uint64_t *t, int *vcpu)
{
	*t = strtoull(line + 5, NULL, 10);
	*vcpu = strstr(line, "\"vcpu\":") ? atoi(strstr(line, "\"vcpu\":") + 7) : -1;
}

/* SDM-free engine rule (sim/vm_int.h): slices in time order, vCPUs in index order in a slice. */
Test(vcpu_smp, trace_lines_follow_slices_then_vcpu_index)
{
	struct tv t = {0};
	char hex[1024];
	uint64_t last_slice = 0;
	int last_vcpu = -1;
	unsigned exits_seen[3] = {0};

	spin_code(hex, sizeof(hex));
	cr_assert(
	    tv_open_code(&t, "long", hex,
	                 "\"machine\": {\"vcpus\": 3, \"quantum_insns\": 100, \"exit_ns\": 0}, "
	                 "\"limits\": {\"exits\": 90}"),
	    "%s", t.err.msg);
	tv_run(&t);
	for (char *line = t.trace; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		uint64_t ts, slice;
		int v;

		if (!strstr(line, "\"ev\":\"exit\"") ||
		    strstr(line, "\"ev\":\"exit\"") > strchr(line, '\n'))
			continue;
		parse_line(line, &ts, &v);
		slice = ts / QUANTUM_NS;
		cr_expect(slice > last_slice || (slice == last_slice && v >= last_vcpu),
		          "exit of vCPU %d at %llu ns (slice %llu) after vCPU %d in slice %llu", v,
		          (unsigned long long)ts, (unsigned long long)slice, last_vcpu,
		          (unsigned long long)last_slice);
		last_slice = slice;
		last_vcpu = v;
		if (v >= 0 && v < 3)
			exits_seen[v]++;
	}
	for (unsigned i = 0; i < 3; i++)
		cr_expect_geq(exits_seen[i], 25, "vCPU %u exited %u times of 90: not round robin",
		              i, exits_seen[i]);
	tv_close(&t);
}

static uint64_t field_time(const char *trace, const char *needle)
{
	const char *p = strstr(trace, needle);

	while (p && p > trace && p[-1] != '\n')
		p--;
	return p ? strtoull(p + 5, NULL, 10) : 0;
}

/* vCPU 1 halts (blocked by the minimal algorithm); vCPU 0's ICR write injects vector 0x40 and
 * kicks it; its handler runs no earlier than the write. */
Test(vcpu_smp, ipi_kicks_the_target_out_of_hlt)
{
	struct tv t = {.hv = hvsim_hv_builtin("minimal")};
	uint64_t sent, taken;

	cr_assert(tv_load_program(&t, "smp_ipi"), "scenarios/guest/smp_ipi.bin missing");
	cr_assert(
	    tv_open_program(&t, "long", "\"machine\": {\"vcpus\": 2, \"quantum_insns\": 1000}"),
	    "%s", t.err.msg);
	tv_run(&t);
	cr_assert(tv_trace_has(&t, "\"vcpu\":1,\"ev\":\"inject\",\"vector\":\"0x40\""),
	          "vCPU 1 never took the IPI; trace:\n%s", t.trace);
	cr_expect(tv_trace_has(&t, "\"value\":\"0xa9\""), "vCPU 1 did not leave its HLT loop");
	sent = field_time(t.trace, "\"gpa\":\"0xfee00300\"");
	taken = field_time(t.trace, "\"vcpu\":1,\"ev\":\"inject\"");
	cr_expect(taken >= sent, "the IPI was taken at %llu ns, before it was sent at %llu ns",
	          (unsigned long long)taken, (unsigned long long)sent);
	tv_close(&t);
}

static char *run_trace(const char *program, const char *extra, const char *seed_run)
{
	struct tv t = {.hv = hvsim_hv_builtin("minimal")};
	char *copy;

	(void)seed_run;
	cr_assert(tv_load_program(&t, program), "%s missing", program);
	cr_assert(tv_open_program(&t, "long", extra), "%s", t.err.msg);
	tv_run(&t);
	copy = strdup(t.trace ? t.trace : "");
	tv_close(&t);
	return copy;
}

/* Determinism rule 1: the same scenario gives the same bytes, twice in one process. */
Test(vcpu_smp, a_multi_vcpu_run_repeats_byte_for_byte)
{
	const char *extra = "\"machine\": {\"vcpus\": 2, \"quantum_insns\": 333}";
	char *a = run_trace("smp_ipi", extra, NULL), *b = run_trace("smp_ipi", extra, NULL);

	cr_expect(strlen(a) > 0, "empty trace");
	cr_expect_str_eq(a, b, "two runs differ:\n--- first\n%s\n--- second\n%s", a, b);
	free(a);
	free(b);
}
