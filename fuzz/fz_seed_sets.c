/* The seed-set table (fz_seed_sets.h): one row per harness, each a thin adaptor over the harness's
 * own seed table (fz_*_seeds.c), whose seed structs differ in everything but their name. */
#include "fz_apic_seeds.h"
#include "fz_hvt_seeds.h"
#include "fz_pmu_seeds.h"
#include "fz_seed_sets.h"
#include "fz_tdx.h"
#include "fz_vmx_seeds.h"

#define ADAPT(pfx)                                                             \
	static const char *pfx##_name(size_t i)                                \
	{                                                                      \
		return fz_##pfx##_seed_at(i)->name;                            \
	}                                                                      \
	static size_t pfx##_bytes(size_t i, uint8_t *buf, size_t cap)          \
	{                                                                      \
		return fz_##pfx##_seed_bytes(fz_##pfx##_seed_at(i), buf, cap); \
	}

ADAPT(apic)
ADAPT(vmx)
ADAPT(hvt)
ADAPT(pmu)
ADAPT(tdx)

static const struct fz_seed_set sets[] = {
    {"fuzz_lapic_ioapic", fz_apic_seed_count, apic_name, apic_bytes},
    {"fuzz_vmcs_entry", fz_vmx_seed_count, vmx_name, vmx_bytes},
    {"fuzz_hv_transitions", fz_hvt_seed_count, hvt_name, hvt_bytes},
    {"fuzz_pmu_msr", fz_pmu_seed_count, pmu_name, pmu_bytes},
    {"fuzz_tdx_seamcall", fz_tdx_seed_count, tdx_name, tdx_bytes},
};

const struct fz_seed_set *fz_seed_set_at(size_t i)
{
	return i < sizeof(sets) / sizeof(sets[0]) ? &sets[i] : NULL;
}
