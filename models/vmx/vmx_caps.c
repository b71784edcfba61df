/* VMX capability MSRs 480H-492H: which exist, what RDMSR returns, the allowed settings of each
 * control (SDM Appendix A "VMX Capability Reporting Facility", A.2 "Reserved Controls and Default
 * Settings") and which VMCS fields a profile supports. IA32_VMX_EXIT_CTLS2 (493H) is not modelled:
 * no profile supports the "activate secondary controls" VM-exit control. */
#include "vmx_int.h"

static const char *const msr_names[VMX_CAP_MSR_COUNT] = {
    "IA32_VMX_BASIC",           "IA32_VMX_PINBASED_CTLS",      "IA32_VMX_PROCBASED_CTLS",
    "IA32_VMX_EXIT_CTLS",       "IA32_VMX_ENTRY_CTLS",         "IA32_VMX_MISC",
    "IA32_VMX_CR0_FIXED0",      "IA32_VMX_CR0_FIXED1",         "IA32_VMX_CR4_FIXED0",
    "IA32_VMX_CR4_FIXED1",      "IA32_VMX_VMCS_ENUM",          "IA32_VMX_PROCBASED_CTLS2",
    "IA32_VMX_EPT_VPID_CAP",    "IA32_VMX_TRUE_PINBASED_CTLS", "IA32_VMX_TRUE_PROCBASED_CTLS",
    "IA32_VMX_TRUE_EXIT_CTLS",  "IA32_VMX_TRUE_ENTRY_CTLS",    "IA32_VMX_VMFUNC",
    "IA32_VMX_PROCBASED_CTLS3",
};

static bool msr_in_range(uint32_t msr)
{
	return msr >= VMX_CAP_MSR_FIRST && msr < VMX_CAP_MSR_FIRST + VMX_CAP_MSR_COUNT;
}

const char *vmx_caps_msr_name(uint32_t msr)
{
	return msr_in_range(msr) ? msr_names[msr - VMX_CAP_MSR_FIRST] : NULL;
}

uint64_t vmx_caps_msr(const struct vmx_caps *caps, uint32_t msr)
{
	return msr_in_range(msr) ? caps->msr[msr - VMX_CAP_MSR_FIRST] : 0;
}

bool vmx_caps_msr_read(const struct vmx_caps *caps, uint32_t msr, uint64_t *value)
{
	if (!msr_in_range(msr) || !(caps->present & BIT32(msr - VMX_CAP_MSR_FIRST)))
		return false;
	*value = caps->msr[msr - VMX_CAP_MSR_FIRST];
	return true;
}

static bool true_ctls(const struct vmx_caps *caps)
{
	return (vmx_caps_msr(caps, MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS) != 0;
}

/* The control MSR consulted for a control, SDM A.3.1, A.3.2, A.4, A.5. */
static uint64_t ctl_msr(const struct vmx_caps *caps, uint32_t plain, uint32_t true_msr)
{
	return vmx_caps_msr(caps, true_ctls(caps) ? true_msr : plain);
}

uint32_t vmx_caps_pin_must1(const struct vmx_caps *caps)
{
	return (uint32_t)ctl_msr(caps, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS);
}

uint32_t vmx_caps_pin_may1(const struct vmx_caps *caps)
{
	return (
	    uint32_t)(ctl_msr(caps, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS) >>
	              32);
}

uint32_t vmx_caps_proc_must1(const struct vmx_caps *caps)
{
	return (uint32_t)ctl_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS,
	                         MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
}

uint32_t vmx_caps_proc_may1(const struct vmx_caps *caps)
{
	return (uint32_t)(ctl_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS,
	                          MSR_IA32_VMX_TRUE_PROCBASED_CTLS) >>
	                  32);
}

/* SDM A.3.3: secondary controls exist only with the 1-setting of "activate secondary controls". */
uint32_t vmx_caps_proc2_must1(const struct vmx_caps *caps)
{
	if (!(vmx_caps_proc_may1(caps) & PROC_ACTIVATE_SECONDARY))
		return 0;
	return (uint32_t)vmx_caps_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS2);
}

uint32_t vmx_caps_proc2_may1(const struct vmx_caps *caps)
{
	if (!(vmx_caps_proc_may1(caps) & PROC_ACTIVATE_SECONDARY))
		return 0;
	return (uint32_t)(vmx_caps_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
}

/* SDM A.3.4: all 64 bits of IA32_VMX_PROCBASED_CTLS3 are allowed-1 settings. */
uint64_t vmx_caps_proc3_may1(const struct vmx_caps *caps)
{
	if (!(vmx_caps_proc_may1(caps) & PROC_ACTIVATE_TERTIARY))
		return 0;
	return vmx_caps_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS3);
}

uint32_t vmx_caps_exit_must1(const struct vmx_caps *caps)
{
	return (uint32_t)ctl_msr(caps, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS);
}

uint32_t vmx_caps_exit_may1(const struct vmx_caps *caps)
{
	return (uint32_t)(ctl_msr(caps, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS) >> 32);
}

uint32_t vmx_caps_entry_must1(const struct vmx_caps *caps)
{
	return (uint32_t)ctl_msr(caps, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS);
}

uint32_t vmx_caps_entry_may1(const struct vmx_caps *caps)
{
	return (uint32_t)(ctl_msr(caps, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS) >>
	                  32);
}

uint32_t vmx_caps_revision(const struct vmx_caps *caps)
{
	return (uint32_t)vmx_caps_msr(caps, MSR_IA32_VMX_BASIC) & VMX_BASIC_REVISION_MASK;
}

#define PRESENT(msr) BIT32((msr)-VMX_CAP_MSR_FIRST)

/* SDM Appendix A: 480H-48AH always; 48BH with "activate secondary controls"; 48CH with EPT or
 * VPID; 48DH-490H with IA32_VMX_BASIC[55]; 491H with "enable VM functions"; 492H with "activate
 * tertiary controls". The allowed-1 halves of the plain MSRs decide (TRUE_ MSRs may not exist). */
uint32_t vmx_caps_derive_present(const struct vmx_caps *caps)
{
	uint32_t p = 0x7ff; /* 480H..48AH */
	uint32_t proc1 = (uint32_t)(vmx_caps_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	uint32_t proc2 = (uint32_t)(vmx_caps_msr(caps, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);

	if (proc1 & PROC_ACTIVATE_SECONDARY) {
		p |= PRESENT(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
			p |= PRESENT(MSR_IA32_VMX_EPT_VPID_CAP);
		if (proc2 & PROC2_ENABLE_VMFUNC)
			p |= PRESENT(MSR_IA32_VMX_VMFUNC);
	}
	if (true_ctls(caps))
		p |= PRESENT(MSR_IA32_VMX_TRUE_PINBASED_CTLS) |
		     PRESENT(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) |
		     PRESENT(MSR_IA32_VMX_TRUE_EXIT_CTLS) | PRESENT(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	if (proc1 & PROC_ACTIVATE_TERTIARY)
		p |= PRESENT(MSR_IA32_VMX_PROCBASED_CTLS3);
	return p;
}

/* One requirement of vmcs_fields.h: the 1-setting of a control (bit) is allowed. */
static bool req_holds(const struct vmx_caps *caps, uint16_t req)
{
	unsigned kind = req >> 8, bit = req & 0xff;

	switch (kind) {
	case VMCS_REQK_NONE: return true;
	case VMCS_REQK_PIN: return vmx_caps_pin_may1(caps) & BIT32(bit);
	case VMCS_REQK_PROC: return vmx_caps_proc_may1(caps) & BIT32(bit);
	case VMCS_REQK_PROC2: return vmx_caps_proc2_may1(caps) & BIT32(bit);
	case VMCS_REQK_PROC3: return vmx_caps_proc3_may1(caps) & BIT64(bit);
	case VMCS_REQK_EXIT: return vmx_caps_exit_may1(caps) & BIT32(bit);
	case VMCS_REQK_ENTRY: return vmx_caps_entry_may1(caps) & BIT32(bit);
	case VMCS_REQK_VMFUNC:
		return (vmx_caps_proc2_may1(caps) & PROC2_ENABLE_VMFUNC) &&
		       (vmx_caps_msr(caps, MSR_IA32_VMX_VMFUNC) & BIT64(bit));
	default: return false;
	}
}

bool vmx_caps_info_supported(const struct vmx_caps *caps, const struct vmcs_field_info *fi)
{
	return req_holds(caps, fi->req[0]) || req_holds(caps, fi->req[1]);
}

bool vmx_caps_field_supported(const struct vmx_caps *caps, uint64_t encoding)
{
	const struct vmcs_field_info *fi = vmcs_field_lookup(encoding);

	return fi && vmx_caps_info_supported(caps, fi);
}

/* SDM A.1: IA32_VMX_BASIC[48] limits VMX structure addresses to 32 bits. */
bool vmx_caps_pa_too_wide(const struct vmx_caps *caps, uint64_t pa)
{
	unsigned width = caps->maxphyaddr;

	if (vmx_caps_msr(caps, MSR_IA32_VMX_BASIC) & VMX_BASIC_32BIT_ADDR)
		width = 32;
	return width < 64 && (pa >> width) != 0;
}

bool vmx_caps_canonical(const struct vmx_caps *caps, uint64_t la)
{
	unsigned bits = caps->linear_bits ? caps->linear_bits : 48;
	int64_t s = (int64_t)(la << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == la;
}
