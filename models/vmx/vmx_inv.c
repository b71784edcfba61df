/* INVEPT and INVVPID (SDM 31.3 "VMX Instructions"): their #UD/#GP(0) checks and the operand
 * checks that fail with VM-instruction error 28. Nothing is cached in this model, so a successful
 * invalidation has no other effect. */
#include "vmx_int.h"

#include <string.h>

#define SDM_INVEPT  "SDM 31.3 \"VMX Instructions\" INVEPT"
#define SDM_INVVPID "SDM 31.3 \"VMX Instructions\" INVVPID"

static bool fault(struct vmx_result *res, enum vmx_outcome out, const char *cond, const char *cite)
{
	res->outcome = out;
	res->check = "vmx_insn_precheck";
	res->cond = cond;
	res->cite = cite;
	return true;
}

#define FAULT(res, cond, out, cite) ((cond) ? fault((res), (out), #cond, (cite)) : false)

static bool prechecks(const struct vmx_cpu *cpu, bool supported, struct vmx_result *res,
                      const char *cite)
{
	const struct vmx_cpu_mode *m = &cpu->mode;

	return FAULT(res, !cpu->in_vmx, VMX_FAULT_UD, cite) ||
	       FAULT(res, !supported, VMX_FAULT_UD, cite) ||
	       FAULT(res, !(m->cr0 & CR0_PE), VMX_FAULT_UD, cite) ||
	       FAULT(res, m->rflags & RFLAGS_VM, VMX_FAULT_UD, cite) ||
	       FAULT(res, (m->efer & EFER_LMA) && !m->cs_l, VMX_FAULT_UD, cite) ||
	       FAULT(res, m->cpl > 0, VMX_FAULT_GP, cite);
}

/* SDM 31.2: VMfail(28), valid or invalid depending on the current VMCS. */
static bool fail28(struct vmx_cpu *cpu, struct vmx_result *res, const char *cond, const char *cite)
{
	struct vmcs *v = NULL;

	if (cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		v = vmcs_store_find(cpu->store, cpu->current_vmcs);
	res->check = "vmx_insn_operand";
	res->cond = cond;
	res->cite = cite;
	if (!v) {
		res->outcome = VMX_FAIL_INVALID;
		return true;
	}
	res->outcome = VMX_FAIL_VALID;
	res->error = VMXERR_INVALID_INVEPT_INVVPID_OPERAND;
	v->f[VMCS_IDX_VM_INSTRUCTION_ERROR] = res->error;
	return true;
}

#define FAIL28(cpu, res, cond, cite) ((cond) ? fail28((cpu), (res), #cond, (cite)) : false)

/* The processor has INVEPT (INVVPID): the secondary control it serves and the capability bit. */
static bool invept_supported(const struct vmx_caps *caps)
{
	return (vmx_caps_proc2_may1(caps) & PROC2_ENABLE_EPT) &&
	       (vmx_caps_msr(caps, MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_INVEPT);
}

static bool invvpid_supported(const struct vmx_caps *caps)
{
	return (vmx_caps_proc2_may1(caps) & PROC2_ENABLE_VPID) &&
	       (vmx_caps_msr(caps, MSR_IA32_VMX_EPT_VPID_CAP) & VPID_CAP_INVVPID);
}

static bool invept_type_ok(uint64_t cap, uint64_t type)
{
	return (type == 1 && (cap & EPT_CAP_INVEPT_SINGLE)) ||
	       (type == 2 && (cap & EPT_CAP_INVEPT_ALL));
}

void vmx_invept(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                struct vmx_result *res)
{
	uint64_t cap = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_EPT_VPID_CAP);

	(void)desc_hi; /* bits 127:64 are reserved and ignored */
	memset(res, 0, sizeof(*res));
	if (prechecks(cpu, invept_supported(&cpu->caps), res, SDM_INVEPT))
		return;
	if (FAIL28(cpu, res, !invept_type_ok(cap, type), SDM_INVEPT) ||
	    FAIL28(cpu, res, type == 1 && vmx_eptp_invalid(&cpu->caps, desc_lo), SDM_INVEPT))
		return;
}

static bool invvpid_type_ok(uint64_t cap, uint64_t type)
{
	static const uint64_t bits[] = {VPID_CAP_INVVPID_ADDR, VPID_CAP_INVVPID_SINGLE,
	                                VPID_CAP_INVVPID_ALL, VPID_CAP_INVVPID_SNG_NG};

	return type < 4 && (cap & bits[type]);
}

bool vmx_inv_fails_before_desc(const struct vmx_cpu *cpu, bool ept, uint64_t type)
{
	uint64_t cap = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_EPT_VPID_CAP);
	struct vmx_result res;

	if (ept)
		return prechecks(cpu, invept_supported(&cpu->caps), &res, SDM_INVEPT) ||
		       !invept_type_ok(cap, type);
	return prechecks(cpu, invvpid_supported(&cpu->caps), &res, SDM_INVVPID) ||
	       !invvpid_type_ok(cap, type);
}

void vmx_invvpid(struct vmx_cpu *cpu, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                 struct vmx_result *res)
{
	uint64_t cap = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_EPT_VPID_CAP);
	uint64_t vpid = desc_lo & 0xffff;

	memset(res, 0, sizeof(*res));
	if (prechecks(cpu, invvpid_supported(&cpu->caps), res, SDM_INVVPID))
		return;
	if (FAIL28(cpu, res, !invvpid_type_ok(cap, type), SDM_INVVPID) ||
	    FAIL28(cpu, res, desc_lo >> 16, SDM_INVVPID) ||
	    FAIL28(cpu, res, type != 2 && vpid == 0, SDM_INVVPID) ||
	    FAIL28(cpu, res, type == 0 && !vmx_caps_canonical(&cpu->caps, desc_hi), SDM_INVVPID))
		return;
}
