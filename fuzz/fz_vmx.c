/* The VMX machine of fuzz_vmcs_entry (fz_vmx.h): pristine machines per CPU profile with the
 * known-good fixture of hv/vmx_replay_fixture.c, copied into the live machine for every input
 * (only the memory pages the previous input wrote, plus the revision pages when the profile
 * changes). The pristine machines are the harness's process state: one input at a time. */
#include "fz_vmx.h"
#include "harness.h"

#include <stdarg.h>
#include <string.h>

#define PAGE       UINT64_C(0x1000)
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* A pristine machine per profile: process state of the harness (one input at a time). */
struct pristine {
	bool made;
	struct vmx_replay_machine m;
};

static struct pristine pristine[FZ_VMX_PROFILES_MAX];

/* Pages whose pristine contents differ between profiles: the revision words of the fixture's
 * regions. A change of profile copies these; every other page is the same in all. */
#define PAGE_BIT(pa) (UINT64_C(1) << ((pa) / PAGE))
#define PROFILE_PAGES                                                   \
	(PAGE_BIT(VMX_REPLAY_PA_VMXON) | PAGE_BIT(VMX_REPLAY_PA_VMCS) | \
	 PAGE_BIT(VMX_REPLAY_PA_VMCS2) | PAGE_BIT(VMX_REPLAY_PA_SHADOW_VMCS))

unsigned fz_vmx_profile_count(void)
{
	const char *const *names = vmx_profile_names();
	unsigned n = 0;

	while (names[n] && n < FZ_VMX_PROFILES_MAX)
		n++;
	return n;
}

static enum hvsim_status make_pristine(unsigned profile, struct hvsim_error *err)
{
	struct pristine *p = &pristine[profile];
	struct vmx_caps caps;
	enum hvsim_status st;

	st = vmx_profile_load(vmx_profile_names()[profile], &caps, err);
	if (st != HVSIM_OK)
		return st;
	st = vmx_replay_machine_create(&p->m, &caps);
	if (st != HVSIM_OK)
		return hvsim_error_set(err, st, "out of memory");
	st = vmx_replay_fixture(&p->m, err);
	if (st != HVSIM_OK) {
		vmx_replay_machine_destroy(&p->m);
		return st;
	}
	p->made = true;
	return HVSIM_OK;
}

enum hvsim_status fz_vmx_create(struct fz_vmx_sys *s)
{
	struct vmx_caps caps;
	struct hvsim_error err;
	enum hvsim_status st;

	memset(s, 0, sizeof(*s));
	if (fz_vmx_profile_count() == 0 ||
	    vmx_profile_load(vmx_profile_names()[0], &caps, &err) != HVSIM_OK)
		return HVSIM_E_INPUT;
	st = vmx_replay_machine_create(&s->m, &caps);
	s->profile = UINT32_MAX;
	return st;
}

void fz_vmx_destroy(struct fz_vmx_sys *s)
{
	vmx_replay_machine_destroy(&s->m);
	memset(s, 0, sizeof(*s));
}

enum hvsim_status fz_vmx_load(struct fz_vmx_sys *s, unsigned profile, struct hvsim_error *err)
{
	unsigned n = fz_vmx_profile_count();
	enum hvsim_status st;

	if (n == 0)
		return hvsim_error_set(err, HVSIM_E_INPUT, "no VMX profile embedded");
	profile %= n;
	if (!pristine[profile].made && (st = make_pristine(profile, err)) != HVSIM_OK)
		return st;
	if (s->profile != profile)
		s->m.dirty |= PROFILE_PAGES;
	vmx_replay_copy(&s->m, &pristine[profile].m, false);
	s->profile = profile;
	memset(&s->stats, 0, sizeof(s->stats));
	memset(&s->last_entry, 0, sizeof(s->last_entry));
	s->entry_seen = false;
	s->hash = FNV_OFFSET;
	s->bad = NULL;
	s->why[0] = '\0';
	return HVSIM_OK;
}

uint64_t fz_vmx_fixture_value(const struct fz_vmx_sys *s, size_t i)
{
	const struct pristine *p = &pristine[s->profile < FZ_VMX_PROFILES_MAX ? s->profile : 0];

	return p->made ? vmx_replay_vmcs_value(&p->m, i) : 0;
}

const struct vmx_cpu_mode *fz_vmx_fixture_mode(const struct fz_vmx_sys *s)
{
	const struct pristine *p = &pristine[s->profile < FZ_VMX_PROFILES_MAX ? s->profile : 0];

	return p->made ? vmx_cpu_mode(p->m.cpu) : vmx_cpu_mode(s->m.cpu);
}

void fz_vmx_flag(struct fz_vmx_sys *s, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (s->bad)
		return;
	s->bad = kind;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* fz_mix on the system's hash. */
void fz_vmx_mix(struct fz_vmx_sys *s, uint64_t v)
{
	fz_mix(&s->hash, v);
}
