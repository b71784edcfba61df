/* The VMX instructions of SDM ch. 31 "VMX Instruction Reference" as executed in VMX root operation
 * (or outside VMX operation): VMXON, VMXOFF, VMPTRLD, VMPTRST, VMCLEAR, VMREAD, VMWRITE, VMLAUNCH,
 * VMRESUME, INVEPT, INVVPID, with their #UD/#GP(0) pre-checks, VMfailInvalid/VMfailValid cases and
 * the VM-instruction errors of SDM 31.4. Leaves out: VMX non-root operation (exits are the
 * engine's), SMX/SMM dual-monitor treatment, A20M, VMCALL, VMFUNC. Unbacked memory reads as all
 * ones, like a read that master-aborts. */
#include "vmx_int.h"

#include <string.h>

#define SDM_INSN(name) "SDM 31.3 \"VMX Instructions\" " name
#define SDM_VMFAIL     "SDM 31.2 \"Conventions\""

/* Records a failed pre-check (its condition text and citation) in res; true when cond holds. */
#define PRE(res, cond, out, cite) ((cond) ? pre_fail((res), (out), #cond, (cite)) : false)

static bool pre_fail(struct vmx_result *res, enum vmx_outcome out, const char *cond,
                     const char *cite)
{
	res->outcome = out;
	res->group = VMX_GROUP_PRE;
	res->check = "vmx_insn_precheck";
	res->cond = cond;
	res->cite = cite;
	return true;
}

static void result_init(struct vmx_result *res)
{
	memset(res, 0, sizeof(*res));
}

static struct vmcs *current(struct vmx_cpu *cpu)
{
	if (cpu->current_vmcs == VMX_INVALID_VMCS_PTR)
		return NULL;
	return vmcs_store_find(cpu->store, cpu->current_vmcs);
}

static uint32_t mem_read32(const struct vmx_cpu *cpu, uint64_t pa)
{
	uint32_t v;

	if (!cpu->mem.read || !cpu->mem.read(cpu->mem.ctx, pa, &v, sizeof(v)))
		return UINT32_MAX;
	return v;
}

/* SDM 31.2: VMfail(n) is VMfailValid(n) with a current VMCS (error stored in it), else
 * VMfailInvalid. */
static void vmfail(struct vmx_cpu *cpu, struct vmx_result *res, uint32_t error, const char *cond,
                   const char *cite)
{
	struct vmcs *v = current(cpu);

	res->group = VMX_GROUP_PRE;
	res->check = "vmx_insn_vmfail";
	res->cond = cond;
	res->cite = cite;
	if (!v) {
		res->outcome = VMX_FAIL_INVALID;
		return;
	}
	res->outcome = VMX_FAIL_VALID;
	res->error = error;
	v->f[VMCS_IDX_VM_INSTRUCTION_ERROR] = error;
}

#define VMFAIL(cpu, res, cond, err, cite) \
	((cond) ? (vmfail((cpu), (res), (err), #cond, (cite)), true) : false)

static bool in_long_compat(const struct vmx_cpu_mode *m)
{
	return (m->efer & EFER_LMA) && !m->cs_l;
}

/* The #UD and #GP(0) checks every VMX instruction but VMXON makes first. */
static bool common_prechecks(const struct vmx_cpu *cpu, struct vmx_result *res, const char *cite)
{
	const struct vmx_cpu_mode *m = &cpu->mode;

	return PRE(res, !cpu->in_vmx, VMX_FAULT_UD, cite) ||
	       PRE(res, !(m->cr0 & CR0_PE), VMX_FAULT_UD, cite) ||
	       PRE(res, m->rflags & RFLAGS_VM, VMX_FAULT_UD, cite) ||
	       PRE(res, in_long_compat(m), VMX_FAULT_UD, cite) ||
	       PRE(res, m->cpl > 0, VMX_FAULT_GP, cite);
}

static bool cr_fixed_ok(const struct vmx_caps *caps, uint64_t cr0, uint64_t cr4)
{
	uint64_t cr0_f0 = vmx_caps_msr(caps, MSR_IA32_VMX_CR0_FIXED0);
	uint64_t cr0_f1 = vmx_caps_msr(caps, MSR_IA32_VMX_CR0_FIXED1);
	uint64_t cr4_f0 = vmx_caps_msr(caps, MSR_IA32_VMX_CR4_FIXED0);
	uint64_t cr4_f1 = vmx_caps_msr(caps, MSR_IA32_VMX_CR4_FIXED1);

	return (cr0 & cr0_f0) == cr0_f0 && (cr0 & ~cr0_f1) == 0 && (cr4 & cr4_f0) == cr4_f0 &&
	       (cr4 & ~cr4_f1) == 0;
}

static bool vmxon_prechecks(const struct vmx_cpu *cpu, struct vmx_result *res)
{
	const struct vmx_cpu_mode *m = &cpu->mode;
	const char *cite = SDM_INSN("VMXON");

	if (PRE(res, !(m->cr0 & CR0_PE), VMX_FAULT_UD, cite) ||
	    PRE(res, !(m->cr4 & CR4_VMXE), VMX_FAULT_UD, cite) ||
	    PRE(res, m->rflags & RFLAGS_VM, VMX_FAULT_UD, cite) ||
	    PRE(res, in_long_compat(m), VMX_FAULT_UD, cite))
		return true;
	if (cpu->in_vmx)
		return PRE(res, m->cpl > 0, VMX_FAULT_GP, cite);
	return PRE(res, m->cpl > 0, VMX_FAULT_GP, cite) ||
	       PRE(res, !cr_fixed_ok(&cpu->caps, m->cr0, m->cr4), VMX_FAULT_GP, cite) ||
	       PRE(res, !(m->feature_control & FEAT_CTL_LOCK), VMX_FAULT_GP, cite) ||
	       PRE(res, !(m->feature_control & FEAT_CTL_VMXON), VMX_FAULT_GP, cite);
}

void vmx_vmxon(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res)
{
	const char *cite = SDM_INSN("VMXON");
	uint32_t rev;

	result_init(res);
	if (vmxon_prechecks(cpu, res))
		return;
	if (VMFAIL(cpu, res, cpu->in_vmx, VMXERR_VMXON_IN_VMX_ROOT, cite))
		return;
	rev = mem_read32(cpu, pa);
	if (PRE(res, vmx_pa_bad_page(&cpu->caps, pa), VMX_FAIL_INVALID, cite) ||
	    PRE(res, (rev & VMX_BASIC_REVISION_MASK) != vmx_caps_revision(&cpu->caps),
	        VMX_FAIL_INVALID, cite) ||
	    PRE(res, rev & ~VMX_BASIC_REVISION_MASK, VMX_FAIL_INVALID, cite))
		return;
	cpu->in_vmx = true;
	cpu->vmxon_ptr = pa;
	cpu->current_vmcs = VMX_INVALID_VMCS_PTR;
}

bool vmx_insn_fails_before_operand(const struct vmx_cpu *cpu, unsigned insn, uint64_t type)
{
	struct vmx_result res;

	switch (insn) {
	case VMX_INSN_VMXON: /* in VMX root operation: VMfail(15) without reading it */
		return vmxon_prechecks(cpu, &res) || cpu->in_vmx;
	case VMX_INSN_VMCLEAR:
	case VMX_INSN_VMPTRLD:
	case VMX_INSN_VMPTRST:
	case VMX_INSN_VMREAD:
	case VMX_INSN_VMWRITE: return common_prechecks(cpu, &res, SDM_INSN("operand"));
	case VMX_INSN_INVEPT: return vmx_inv_fails_before_desc(cpu, true, type);
	case VMX_INSN_INVVPID: return vmx_inv_fails_before_desc(cpu, false, type);
	default: return false;
	}
}

void vmx_vmxoff(struct vmx_cpu *cpu, struct vmx_result *res)
{
	result_init(res);
	if (common_prechecks(cpu, res, SDM_INSN("VMXOFF")))
		return;
	cpu->in_vmx = false;
	cpu->vmxon_ptr = 0;
	cpu->current_vmcs = VMX_INVALID_VMCS_PTR;
}

static bool vmcs_shadowing_supported(const struct vmx_caps *caps)
{
	return (vmx_caps_proc2_may1(caps) & PROC2_VMCS_SHADOWING) != 0;
}

void vmx_vmptrld(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res)
{
	const char *cite = SDM_INSN("VMPTRLD");
	uint32_t rev;

	result_init(res);
	if (common_prechecks(cpu, res, cite))
		return;
	if (VMFAIL(cpu, res, vmx_pa_bad_page(&cpu->caps, pa), VMXERR_VMPTRLD_INVALID_ADDRESS,
	           cite) ||
	    VMFAIL(cpu, res, pa == cpu->vmxon_ptr, VMXERR_VMPTRLD_VMXON_POINTER, cite))
		return;
	rev = mem_read32(cpu, pa);
	if (VMFAIL(cpu, res, (rev & VMX_BASIC_REVISION_MASK) != vmx_caps_revision(&cpu->caps),
	           VMXERR_VMPTRLD_INCORRECT_REVISION_ID, cite) ||
	    VMFAIL(cpu, res,
	           (rev & ~VMX_BASIC_REVISION_MASK) && !vmcs_shadowing_supported(&cpu->caps),
	           VMXERR_VMPTRLD_INCORRECT_REVISION_ID, cite))
		return;
	if (!vmcs_store_get(cpu->store, pa)) {
		pre_fail(res, VMX_INTERNAL_ERROR, "vmcs_store_get(cpu->store, pa) == NULL",
		         "hvsim: VMCS store full");
		return;
	}
	cpu->current_vmcs = pa;
}

void vmx_vmptrst(struct vmx_cpu *cpu, struct vmx_result *res)
{
	result_init(res);
	if (common_prechecks(cpu, res, SDM_INSN("VMPTRST")))
		return;
	res->value = cpu->current_vmcs;
}

void vmx_vmclear(struct vmx_cpu *cpu, uint64_t pa, struct vmx_result *res)
{
	const char *cite = SDM_INSN("VMCLEAR");
	struct vmcs *v;

	result_init(res);
	if (common_prechecks(cpu, res, cite))
		return;
	if (VMFAIL(cpu, res, vmx_pa_bad_page(&cpu->caps, pa), VMXERR_VMCLEAR_INVALID_ADDRESS,
	           cite) ||
	    VMFAIL(cpu, res, pa == cpu->vmxon_ptr, VMXERR_VMCLEAR_VMXON_POINTER, cite))
		return;
	v = vmcs_store_get(cpu->store, pa);
	if (!v) {
		pre_fail(res, VMX_INTERNAL_ERROR, "vmcs_store_get(cpu->store, pa) == NULL",
		         "hvsim: VMCS store full");
		return;
	}
	v->launched = false;
	if (pa == cpu->current_vmcs)
		cpu->current_vmcs = VMX_INVALID_VMCS_PTR;
}

/* The index of the field an instruction may access on this profile, -1 meaning error 12 (one
 * search of the field table: VMREAD and VMWRITE run at every exit a hypervisor handles). */
static int accessible(const struct vmx_cpu *cpu, uint64_t encoding)
{
	int i = vmcs_field_index(encoding);

	return i >= 0 && vmx_caps_info_supported(&cpu->caps, vmcs_field_at((size_t)i)) ? i : -1;
}

void vmx_vmread(struct vmx_cpu *cpu, uint64_t encoding, struct vmx_result *res)
{
	const char *cite = SDM_INSN("VMREAD");
	struct vmcs *v;
	int i;

	result_init(res);
	if (common_prechecks(cpu, res, cite))
		return;
	v = current(cpu);
	if (PRE(res, v == NULL, VMX_FAIL_INVALID, cite))
		return;
	i = accessible(cpu, encoding);
	if (VMFAIL(cpu, res, i < 0, VMXERR_UNSUPPORTED_VMCS_COMPONENT, cite))
		return;
	res->value = v->f[i];
	if (encoding & VMCS_ENC_HIGH)
		res->value >>= 32;
}

static uint64_t write_value(const struct vmcs_field_info *fi, uint64_t encoding, uint64_t old,
                            uint64_t value)
{
	if (encoding & VMCS_ENC_HIGH)
		return (old & UINT32_MAX) | ((value & UINT32_MAX) << 32);
	switch (fi->width) {
	case VMCS_WIDTH_16: return value & UINT16_MAX;
	case VMCS_WIDTH_32: return value & UINT32_MAX;
	default: return value;
	}
}

void vmx_vmwrite(struct vmx_cpu *cpu, uint64_t encoding, uint64_t value, struct vmx_result *res)
{
	const char *cite = SDM_INSN("VMWRITE");
	const struct vmcs_field_info *fi;
	struct vmcs *v;
	bool ro_ok = vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ALL;
	int i;

	result_init(res);
	if (common_prechecks(cpu, res, cite))
		return;
	v = current(cpu);
	if (PRE(res, v == NULL, VMX_FAIL_INVALID, cite))
		return;
	i = accessible(cpu, encoding);
	if (VMFAIL(cpu, res, i < 0, VMXERR_UNSUPPORTED_VMCS_COMPONENT, cite))
		return;
	fi = vmcs_field_at((size_t)i);
	if (VMFAIL(cpu, res, fi->type == VMCS_TYPE_RO_DATA && !ro_ok,
	           VMXERR_VMWRITE_READ_ONLY_COMPONENT, cite))
		return;
	v->f[i] = write_value(fi, encoding, v->f[i], value);
}
