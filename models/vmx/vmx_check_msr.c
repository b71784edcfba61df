/* The VM-entry MSR-load list checks, SDM 27.4 "Loading MSRs": each 16-byte entry, in order, must
 * name an MSR VM entry may load with a value WRMSR would take at CPL 0; the first bad entry fails
 * VM entry with exit reason 34 and its 1-based index as exit qualification. Nothing is loaded
 * here. Model choices where the SDM leaves the behaviour open: MSRs 79H (IA32_BIOS_UPDT_TRIG) and
 * 8BH (IA32_BIOS_SIGN_ID) are the "model-specific reasons" MSRs (as in KVM); a list longer than
 * IA32_VMX_MISC's recommended maximum fails at the first entry past it; unbacked memory reads as
 * all ones (and so fails the reserved-bits rule). */
#include "vmx_int.h"

#define MSR_IA32_BIOS_UPDT_TRIG  0x79u
#define MSR_IA32_BIOS_SIGN_ID    0x8bu
#define MSR_IA32_SMM_MONITOR_CTL 0x9bu
#define MSR_IA32_FS_BASE         0xc0000100u
#define MSR_IA32_GS_BASE         0xc0000101u

static void read_entry(const struct vmx_entry_ctx *c, uint64_t n, uint64_t e[2])
{
	uint64_t pa = F(VM_ENTRY_MSR_LOAD_ADDR) + 16 * n;

	if (!vmx_ctx_read(c, pa, e, 16))
		e[0] = e[1] = UINT64_MAX;
}

static bool wrmsr_faults(const struct vmx_entry_ctx *c, uint32_t index, uint64_t value)
{
	return c->msr->write_ok && !c->msr->write_ok(c->msr->ctx, index, value);
}

/* The rules of SDM 27.4 on the MSR index and the reserved bits 63:32, in order; qual is the
 * entry's 1-based index. */
static bool index_bad(const struct vmx_entry_ctx *c, struct vmx_fail *f, const uint64_t e[2],
                      uint64_t qual)
{
	uint32_t index = (uint32_t)e[0];

	return CCQ(index == MSR_IA32_FS_BASE || index == MSR_IA32_GS_BASE, SDM_MSR_LOAD, qual) ||
	       CCQ(c->mode->x2apic_mode && (index >> 8) == 0x8, SDM_MSR_LOAD, qual) ||
	       CCQ(index == MSR_IA32_SMM_MONITOR_CTL && !c->mode->in_smm, SDM_MSR_LOAD, qual) ||
	       CCQ(index == MSR_IA32_BIOS_UPDT_TRIG || index == MSR_IA32_BIOS_SIGN_ID, SDM_MSR_LOAD,
	           qual) ||
	       CCQ(e[0] >> 32, SDM_MSR_LOAD, qual);
}

/* One entry against every rule of SDM 27.4. An index below 79H with bits 63:32 clear (the
 * lowest MSR index_bad names) passes index_bad's rules: one test for the common entry. */
static bool entry_bad(const struct vmx_entry_ctx *c, struct vmx_fail *f, const uint64_t e[2],
                      uint64_t qual)
{
	uint32_t index = (uint32_t)e[0];

	return (e[0] >= MSR_IA32_BIOS_UPDT_TRIG && index_bad(c, f, e, qual)) ||
	       CCQ(wrmsr_faults(c, index, e[1]), SDM_MSR_LOAD, qual);
}

static bool vmx_check_msr_load_list(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	uint64_t count = F(VM_ENTRY_MSR_LOAD_COUNT);
	uint64_t max = VMX_MISC_MAX_MSR_LIST(vmx_caps_msr(c->caps, MSR_IA32_VMX_MISC));
	uint64_t n, checked = count < max ? count : max;

	for (n = 0; n < checked; n++) {
		uint64_t e[2];

		read_entry(c, n, e);
		if (entry_bad(c, f, e, n + 1))
			return true;
	}
	/* entries past the recommended maximum: the first one fails */
	return n < count && CCQ(n >= max, SDM_MSR_LOAD, n + 1);
}

const struct vmx_check vmx_checks_msr[] = {
    VMX_CHECK(vmx_check_msr_load_list, VMX_GROUP_MSR, SDM_MSR_LOAD),
};

const size_t vmx_checks_msr_count = sizeof(vmx_checks_msr) / sizeof(vmx_checks_msr[0]);
