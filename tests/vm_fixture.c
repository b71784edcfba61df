/* Test fixture implementation (vm_fixture.h). Not a test file: it holds no Test(). */
#include "vm_fixture.h"

#include <stdlib.h>
#include <string.h>

static bool capture(void *ctx, const char *buf, size_t len)
{
	struct vm_fixture *f = ctx;

	if (f->trace_len + len >= FIXTURE_TRACE_MAX)
		return false;
	memcpy(f->trace + f->trace_len, buf, len);
	f->trace_len += len;
	f->trace[f->trace_len] = '\0';
	return true;
}

void fixture_build_run(struct vm_fixture *f, const char *file, const char *text, const char *run,
                       const struct hvsim_hv_ops *hv)
{
	struct hvsim_vm_opts o = {.hv = hv};
	int r = 0;

	memset(f, 0, sizeof(*f));
	f->trace = calloc(1, FIXTURE_TRACE_MAX);
	if (hvsim_scenario_parse(file, text, strlen(text), NULL, &f->sc, &f->err) != HVSIM_OK)
		return;
	if (run && (r = hvsim_scenario_find_run(f->sc, run)) < 0) {
		hvsim_error_set(&f->err, HVSIM_E_INPUT, "%s: no run %s", file, run);
		return;
	}
	o.trace = (struct trace_sink){.write = capture, .ctx = f};
	f->vm = hvsim_vm_create(f->sc, (size_t)r, &o, &f->err);
}

void fixture_build(struct vm_fixture *f, const char *text, const struct hvsim_hv_ops *hv)
{
	fixture_build_run(f, "test.json", text, NULL, hv);
}

enum hvsim_vm_state fixture_run(struct vm_fixture *f)
{
	enum hvsim_vm_state st;

	while ((st = hvsim_vm_step(f->vm, 1024)) == HVSIM_VM_RUNNING)
		;
	hvsim_vm_finish(f->vm);
	return st;
}

void fixture_free(struct vm_fixture *f)
{
	hvsim_vm_destroy(f->vm);
	hvsim_scenario_free(f->sc);
	free(f->trace);
}

unsigned fixture_count(const struct vm_fixture *f, const char *needle)
{
	unsigned n = 0;

	for (const char *p = f->trace; (p = strstr(p, needle)); p++)
		n++;
	return n;
}
