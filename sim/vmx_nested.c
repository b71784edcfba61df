/* The nested-entry differential as an engine service: an algorithm that emulates VMX for its guest
 * hypervisor (L1) hands over its own decision on L1's VMLAUNCH/VMRESUME and its vmcs12; the engine
 * runs the SDM-faithful VMX model on the same vmcs12 with the capabilities L1 was told
 * (vmx_view_entry), traces both outcomes and reports a nested_check_mismatch finding when they
 * differ. The vmcs12's pointers are guest-physical: the model reads guest RAM.
 * docs/nested-differential.md. */
#include "vm_int.h"
#include "vmx_shadow_int.h"

#include <hvsim/hv_vmx.h>

#include <stdio.h>

#define OUTCOME_TEXT 160

static bool guest_mem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	return hvsim_guest_read(ctx, pa, buf, len) == HVSIM_OK;
}

static void emit_check(hvsim_vcpu *v, const struct hvsim_nested_entry *e, bool agree,
                       const char *mine, const char *hw)
{
	struct trace_ev ev;

	trace_ev_init(&ev, v->now, (int32_t)v->index, "nested_check");
	trace_ev_str(&ev, "insn", e->launch ? "VMLAUNCH" : "VMRESUME");
	trace_ev_hex(&ev, "vmcs12", e->vmcs12->pa);
	trace_ev_bool(&ev, "agree", agree);
	trace_ev_str(&ev, "hv", mine);
	trace_ev_str(&ev, "hw", hw);
	vm_emit(v->vm, &ev);
}

bool hvsim_vmx_nested_differential(hvsim_vcpu *v, const struct hvsim_nested_entry *e,
                                   const struct vmx_result *mine, struct vmx_result *hw)
{
	struct vmx_mem mem = {.read = guest_mem_read, .ctx = v ? v->vm : NULL};
	struct vmx_result local;
	char mine_s[OUTCOME_TEXT], hw_s[OUTCOME_TEXT], detail[2 * OUTCOME_TEXT + 64];
	bool agree;

	if (!v || !e || !e->vmcs12 || !e->l1_caps || !mine)
		return false;
	if (!hw)
		hw = &local;
	vmx_view_entry(e->l1_caps, &e->l1_mode, &mem, e->vmcs12, e->launch, hw);
	agree = vmx_result_same(mine, hw);
	vmx_result_describe(mine, mine_s, sizeof(mine_s));
	vmx_result_describe(hw, hw_s, sizeof(hw_s));
	emit_check(v, e, agree, mine_s, hw_s);
	vmx_shadow_nested_entry(v, e->launch, agree, hw);
	if (!agree) {
		snprintf(detail, sizeof(detail), "%s: %s; hardware: %s", v->vm->hv->name, mine_s,
		         hw_s);
		vm_finding(v->vm, (int32_t)v->index, v->now, "nested_check_mismatch", detail);
	}
	return agree;
}
