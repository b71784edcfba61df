/* Test fixture: builds a VM from an inline scenario text, with an optional algorithm table, and
 * captures its trace in memory. Each test owns its fixture (no shared state). */
#ifndef HVSIM_TEST_VM_FIXTURE_H
#define HVSIM_TEST_VM_FIXTURE_H

#include <hvsim/hv.h>
#include <hvsim/scenario.h>
#include <hvsim/vm.h>

#define FIXTURE_TRACE_MAX (1u << 20)

struct vm_fixture {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
	struct hvsim_error err;
	char *trace; /* NUL-terminated trace text */
	size_t trace_len;
};

/* Parses text as "test.json" and builds run 0 with hv (NULL: the scenario's). On failure the
 * fixture's vm is NULL and err says why. */
void fixture_build(struct vm_fixture *f, const char *text, const struct hvsim_hv_ops *hv);
/* Parses text as file and builds its run named run (NULL: run 0) with hv, as fixture_build. */
void fixture_build_run(struct vm_fixture *f, const char *file, const char *text, const char *run,
                       const struct hvsim_hv_ops *hv);
/* Steps to the end and finishes the trace. */
enum hvsim_vm_state fixture_run(struct vm_fixture *f);
void fixture_free(struct vm_fixture *f);
/* Number of trace lines containing needle. */
unsigned fixture_count(const struct vm_fixture *f, const char *needle);

#endif
