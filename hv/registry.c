/* The table of built-in algorithms and the checks applied to any algorithm table, built in or
 * loaded from a plug-in. */
#include <hvsim/hv_registry.h>

#include <string.h>

extern const struct hvsim_hv_ops hv_minimal_ops;
extern const struct hvsim_hv_ops hv_kvm_ops;
extern const struct hvsim_hv_ops hv_vmx_replay_ops;
extern const struct hvsim_hv_ops hv_tdx_replay_ops;
extern const struct hvsim_hv_ops hv_pmu_replay_ops;

static const struct hvsim_hv_ops *const builtins[] = {
    &hv_minimal_ops, &hv_kvm_ops, &hv_vmx_replay_ops, &hv_tdx_replay_ops, &hv_pmu_replay_ops,
};

#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

const struct hvsim_hv_ops *hvsim_hv_builtin(const char *name)
{
	for (size_t i = 0; i < N_BUILTINS; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

const struct hvsim_hv_ops *hvsim_hv_builtin_at(size_t i)
{
	return i < N_BUILTINS ? builtins[i] : NULL;
}

static bool quirk_ok(const struct hvsim_quirk_desc *q)
{
	if (!q->name || !q->values || q->n_values == 0 || !q->def)
		return false;
	for (size_t i = 0; i < q->n_values; i++)
		if (q->values[i] && strcmp(q->values[i], q->def) == 0)
			return true;
	return false;
}

enum hvsim_status hvsim_hv_validate(const struct hvsim_hv_ops *ops, struct hvsim_error *err)
{
	if (ops->abi_version != HVSIM_HV_ABI_VERSION)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "algorithm ABI version %u, expected %u: rebuild it against "
		                       "this hvsim's <hvsim/hv.h>",
		                       ops->abi_version, HVSIM_HV_ABI_VERSION);
	if (ops->size != sizeof(struct hvsim_hv_ops))
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "algorithm table is %u bytes, expected %zu: rebuild it against "
		    "this hvsim's <hvsim/hv.h>",
		    ops->size, sizeof(struct hvsim_hv_ops));
	if (!ops->name || !ops->vm_create || !ops->vcpu_run)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "algorithm table lacks name, vm_create or vcpu_run");
	for (size_t i = 0; i < ops->n_quirks; i++)
		if (!quirk_ok(&ops->quirks[i]))
			return hvsim_error_set(
			    err, HVSIM_E_INPUT,
			    "algorithm %s: quirk %zu has no name, no values or a "
			    "default that is not one of its values",
			    ops->name, i);
	return HVSIM_OK;
}
