/* The seed-set table (fz_seed_sets.h): one row per harness, each a thin adaptor over the harness's
 * own seed table (fz_*_seeds.c), whose seed and operation structs differ in everything but their
 * names. */
#include "fz_seed_sets.h"

#include "fz_apic_ops.h"
#include "fz_apic_seeds.h"
#include "fz_hvt_seeds.h"
#include "fz_pmu_seeds.h"
#include "fz_tdx.h"
#include "fz_vmx_ops.h"
#include "fz_vmx_seeds.h"

#include <string.h>

#define ADAPT(pfx, op_name)                                                    \
	static const char *pfx##_name(size_t i)                                \
	{                                                                      \
		return fz_##pfx##_seed_at(i)->name;                            \
	}                                                                      \
	static size_t pfx##_bytes(size_t i, uint8_t *buf, size_t cap)          \
	{                                                                      \
		return fz_##pfx##_seed_bytes(fz_##pfx##_seed_at(i), buf, cap); \
	}                                                                      \
	static size_t pfx##_n_ops(size_t i)                                    \
	{                                                                      \
		return fz_##pfx##_seed_at(i)->n_ops;                           \
	}                                                                      \
	static const char *pfx##_op(size_t i, size_t k, struct fz_out *o)      \
	{                                                                      \
		fz_##pfx##_encode(o, &fz_##pfx##_seed_at(i)->ops[k]);          \
		return op_name(fz_##pfx##_seed_at(i)->ops[k].kind);            \
	}

ADAPT(apic, fz_apic_op_name)
ADAPT(vmx, fz_vmx_op_name)
ADAPT(hvt, fz_hvt_op_name)
ADAPT(pmu, pmu_replay_op_name)
ADAPT(tdx, fz_tdx_op_name)

#define SET(target, pfx)                                                                        \
	{                                                                                       \
		(target), fz_##pfx##_seed_count, pfx##_name, pfx##_bytes, pfx##_n_ops, pfx##_op \
	}

static const struct fz_seed_set sets[] = {
    SET("fuzz_lapic_ioapic", apic), SET("fuzz_vmcs_entry", vmx),   SET("fuzz_hv_transitions", hvt),
    SET("fuzz_pmu_msr", pmu),       SET("fuzz_tdx_seamcall", tdx),
};

#define N_SETS (sizeof(sets) / sizeof(sets[0]))

const struct fz_seed_set *fz_seed_set_at(size_t i)
{
	return i < N_SETS ? &sets[i] : NULL;
}

const struct fz_seed_set *fz_seed_set_of(const char *target)
{
	for (size_t i = 0; i < N_SETS; i++)
		if (strcmp(sets[i].target, target) == 0)
			return &sets[i];
	return NULL;
}
