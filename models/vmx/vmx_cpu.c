/* The VMX logical processor: its VMX-operation state (in VMX operation, VMXON pointer,
 * current-VMCS pointer; SDM 24.11 "VMX Operation" and 25.1 "Overview"), the mode inputs the
 * instructions check, and the result helpers. Non-root state lives in struct vmx_nonroot (see
 * vmx_int.h) and is driven by the runtime files. */
#include "vmx_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct vmx_cpu *vmx_cpu_create(const struct vmx_caps *caps, const struct vmx_mem *mem,
                               struct vmcs_store *store)
{
	struct vmx_cpu *cpu;

	if (!caps || !mem || !store)
		return NULL;
	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return NULL;
	cpu->caps = *caps;
	cpu->mem = *mem;
	cpu->store = store;
	cpu->current_vmcs = VMX_INVALID_VMCS_PTR;
	cpu->mode.cr0 = vmx_caps_msr(caps, MSR_IA32_VMX_CR0_FIXED0) | CR0_PE | CR0_NE | CR0_PG;
	cpu->mode.cr4 = vmx_caps_msr(caps, MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE | CR4_PAE;
	cpu->mode.efer = EFER_LME | EFER_LMA;
	cpu->mode.rflags = RFLAGS_FIXED1;
	cpu->mode.cs_l = true;
	cpu->mode.feature_control = FEAT_CTL_LOCK | FEAT_CTL_VMXON;
	vmx_memo_clear(&cpu->memo);
	return cpu;
}

void vmx_cpu_destroy(struct vmx_cpu *cpu)
{
	free(cpu);
}

/* A snapshot copy: same state, same borrowed memory ops, MSR ops, store and step hook. */
struct vmx_cpu *vmx_cpu_clone(const struct vmx_cpu *src)
{
	struct vmx_cpu *cpu = malloc(sizeof(*cpu));

	if (cpu) {
		memcpy(cpu, src, offsetof(struct vmx_cpu, memo));
		vmx_memo_clear(&cpu->memo);
	}
	return cpu;
}

/* The processor's own state only; dst keeps its memory, MSR ops, store and step hook. */
void vmx_cpu_assign(struct vmx_cpu *dst, const struct vmx_cpu *src)
{
	dst->caps = src->caps;
	dst->mode = src->mode;
	dst->in_vmx = src->in_vmx;
	dst->vmxon_ptr = src->vmxon_ptr;
	dst->current_vmcs = src->current_vmcs;
	dst->nr = src->nr;
	vmx_memo_clear(&dst->memo);
}

void vmx_cpu_set_mode(struct vmx_cpu *cpu, const struct vmx_cpu_mode *mode)
{
	cpu->mode = *mode;
}

const struct vmx_cpu_mode *vmx_cpu_mode(const struct vmx_cpu *cpu)
{
	return &cpu->mode;
}

void vmx_cpu_set_msr_ops(struct vmx_cpu *cpu, const struct vmx_msr_ops *ops)
{
	if (ops)
		cpu->msr = *ops;
	else
		memset(&cpu->msr, 0, sizeof(cpu->msr));
}

const struct vmx_caps *vmx_cpu_caps(const struct vmx_cpu *cpu)
{
	return &cpu->caps;
}

bool vmx_cpu_in_vmx_operation(const struct vmx_cpu *cpu)
{
	return cpu->in_vmx;
}

uint64_t vmx_cpu_current_vmcs(const struct vmx_cpu *cpu)
{
	return cpu->current_vmcs;
}

uint64_t vmx_cpu_vmxon_ptr(const struct vmx_cpu *cpu)
{
	return cpu->vmxon_ptr;
}

bool vmx_cpu_vmcs_launched(const struct vmx_cpu *cpu, uint64_t pa)
{
	const struct vmcs *v = vmcs_store_find_const(cpu->store, pa);

	return v && v->launched;
}

const struct vmcs *vmx_current_const(const struct vmx_cpu *cpu)
{
	if (cpu->current_vmcs == VMX_INVALID_VMCS_PTR)
		return NULL;
	return vmcs_store_find_hinted(cpu->store, cpu->current_vmcs);
}

struct vmcs *vmx_current(struct vmx_cpu *cpu)
{
	return (struct vmcs *)vmx_current_const(cpu);
}

bool vmx_vmcs_get(const struct vmx_cpu *cpu, uint32_t encoding, uint64_t *value)
{
	const struct vmcs *v = vmx_current_const(cpu);
	int i = vmcs_field_index(encoding & ~VMCS_ENC_HIGH);

	if (!v || i < 0)
		return false;
	*value = v->f[i];
	return true;
}

bool vmx_vmcs_set(struct vmx_cpu *cpu, uint32_t encoding, uint64_t value)
{
	struct vmcs *v = vmx_current(cpu);
	int i = vmcs_field_index(encoding & ~VMCS_ENC_HIGH);

	if (!v || i < 0)
		return false;
	v->f[i] = value;
	return true;
}

/* SDM 31.2 "Conventions": VMsucceed clears CF, PF, AF, ZF, SF, OF; VMfailInvalid sets CF and
 * VMfailValid sets ZF, clearing the others. */
uint64_t vmx_result_rflags(const struct vmx_result *res, uint64_t rflags)
{
	const uint64_t arith =
	    RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF;

	switch (res->outcome) {
	case VMX_SUCCEED: return rflags & ~arith;
	case VMX_FAIL_INVALID: return (rflags & ~arith) | RFLAGS_CF;
	case VMX_FAIL_VALID: return (rflags & ~arith) | RFLAGS_ZF;
	default: return rflags;
	}
}

const char *vmx_outcome_name(enum vmx_outcome outcome)
{
	switch (outcome) {
	case VMX_SUCCEED: return "VMsucceed";
	case VMX_FAIL_INVALID: return "VMfailInvalid";
	case VMX_FAIL_VALID: return "VMfailValid";
	case VMX_FAULT_UD: return "#UD";
	case VMX_FAULT_GP: return "#GP(0)";
	case VMX_ENTERED: return "entered";
	case VMX_ENTRY_FAIL_EXIT: return "VM-entry failure";
	case VMX_INTERNAL_ERROR: return "internal error";
	}
	return "unknown";
}
