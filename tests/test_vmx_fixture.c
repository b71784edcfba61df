/* The VMX test fixture (see test_vmx_fixture.h): no tests here, only the known-good VMCS that
 * every VM-entry test breaks one field of. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "test_vmx_fixture.h"

static bool mem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	if (pa >= VFX_MEM_SIZE || len > VFX_MEM_SIZE - pa)
		return false;
	memcpy(buf, (uint8_t *)ctx + pa, len);
	return true;
}

static bool mem_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	if (pa >= VFX_MEM_SIZE || len > VFX_MEM_SIZE - pa)
		return false;
	memcpy((uint8_t *)ctx + pa, buf, len);
	return true;
}

void vfx_write(struct vfx *x, uint64_t pa, const void *buf, size_t len)
{
	cr_assert(mem_write(x->mem, pa, buf, len), "fixture write at %#llx",
	          (unsigned long long)pa);
}

void vfx_write32(struct vfx *x, uint64_t pa, uint32_t v)
{
	vfx_write(x, pa, &v, sizeof(v));
}

void vfx_set(struct vfx *x, uint32_t enc, uint64_t value)
{
	cr_assert(vmx_vmcs_set(x->cpu, enc, value), "vmcs set %s", vmcs_field_name(enc));
}

uint64_t vfx_get(struct vfx *x, uint32_t enc)
{
	uint64_t v = 0;

	cr_assert(vmx_vmcs_get(x->cpu, enc, &v), "vmcs get %s", vmcs_field_name(enc));
	return v;
}

void vfx_or(struct vfx *x, uint32_t enc, uint64_t bits)
{
	vfx_set(x, enc, vfx_get(x, enc) | bits);
}

void vfx_clear(struct vfx *x, uint32_t enc, uint64_t bits)
{
	vfx_set(x, enc, vfx_get(x, enc) & ~bits);
}

/* Controls: the must-be-one bits plus what the configuration uses, kept within allowed-1. */
static void program_controls(struct vfx *x)
{
	const struct vmx_caps *c = &x->caps;
	uint32_t pin = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
	uint32_t proc = PROC_HLT_EXITING | PROC_USE_TPR_SHADOW | PROC_USE_IO_BITMAPS |
	                PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY;
	uint32_t proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP;
	uint32_t exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_LOAD_IA32_EFER |
	                EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER;
	uint32_t entry = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT;

	vfx_set(x, VMCS_PIN_BASED_VM_EXEC_CONTROL,
	        (vmx_caps_pin_must1(c) | pin) & vmx_caps_pin_may1(c));
	vfx_set(x, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	        (vmx_caps_proc_must1(c) | proc) & vmx_caps_proc_may1(c));
	vfx_set(x, VMCS_SECONDARY_VM_EXEC_CONTROL,
	        (vmx_caps_proc2_must1(c) | proc2) & vmx_caps_proc2_may1(c));
	vfx_set(x, VMCS_VM_EXIT_CONTROLS, (vmx_caps_exit_must1(c) | exit) & vmx_caps_exit_may1(c));
	vfx_set(x, VMCS_VM_ENTRY_CONTROLS,
	        (vmx_caps_entry_must1(c) | entry) & vmx_caps_entry_may1(c));
	vfx_set(x, VMCS_IO_BITMAP_A, VFX_IO_A);
	vfx_set(x, VMCS_IO_BITMAP_B, VFX_IO_B);
	vfx_set(x, VMCS_MSR_BITMAP, VFX_MSR_BITMAP);
	vfx_set(x, VMCS_VIRTUAL_APIC_PAGE_ADDR, VFX_VAPIC);
	vfx_set(x, VMCS_APIC_ACCESS_ADDR, VFX_APIC_ACCESS);
	vfx_set(x, VMCS_POSTED_INTR_DESC_ADDR, VFX_PI_DESC);
	vfx_set(x, VMCS_POSTED_INTR_NV, 0xf2);
	vfx_set(x, VMCS_EPT_POINTER, VFX_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_WB);
	vfx_set(x, VMCS_VIRTUAL_PROCESSOR_ID, 1);
	vfx_set(x, VMCS_PML_ADDRESS, VFX_PML);
	vfx_set(x, VMCS_EPTP_LIST_ADDRESS, VFX_EPTP_LIST);
	vfx_set(x, VMCS_VMREAD_BITMAP, VFX_VMREAD_BM);
	vfx_set(x, VMCS_VMWRITE_BITMAP, VFX_VMWRITE_BM);
	vfx_set(x, VMCS_VE_INFO_ADDRESS, VFX_VE_INFO);
	vfx_set(x, VMCS_VM_EXIT_MSR_STORE_ADDR, VFX_MSR_AREA);
	vfx_set(x, VMCS_VM_EXIT_MSR_LOAD_ADDR, VFX_MSR_AREA);
	vfx_set(x, VMCS_VM_ENTRY_MSR_LOAD_ADDR, VFX_MSR_AREA);
}

#define PAT_DEFAULT UINT64_C(0x0007040600070406)
#define EFER_LONG   UINT64_C(0xd01) /* SCE, LME, LMA, NXE */

static void program_host(struct vfx *x)
{
	const struct vmx_caps *c = &x->caps;

	vfx_set(x, VMCS_HOST_CR0, vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0) | CR0_WP | 0x12);
	vfx_set(x, VMCS_HOST_CR4, vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0) | CR4_PAE | 0x600);
	vfx_set(x, VMCS_HOST_CR3, VFX_HOST_CR3);
	vfx_set(x, VMCS_HOST_CS_SELECTOR, 0x10);
	vfx_set(x, VMCS_HOST_SS_SELECTOR, 0x18);
	vfx_set(x, VMCS_HOST_TR_SELECTOR, 0x40);
	vfx_set(x, VMCS_HOST_TR_BASE, UINT64_C(0xffff800000003000));
	vfx_set(x, VMCS_HOST_GDTR_BASE, UINT64_C(0xffff800000001000));
	vfx_set(x, VMCS_HOST_IDTR_BASE, UINT64_C(0xffff800000002000));
	vfx_set(x, VMCS_HOST_RIP, UINT64_C(0xffffffff81000000));
	vfx_set(x, VMCS_HOST_RSP, UINT64_C(0xffff800000010000));
	vfx_set(x, VMCS_HOST_IA32_EFER, EFER_LONG);
	vfx_set(x, VMCS_HOST_IA32_PAT, PAT_DEFAULT);
}

#define AR_CODE64 0xa09bu /* type 11, S, DPL 0, P, L, G */
#define AR_DATA   0xc093u /* type 3, S, DPL 0, P, D/B, G */
#define AR_TSS64  0x008bu /* type 11 busy TSS, P */

static void program_guest_segments(struct vfx *x)
{
	static const uint32_t data_sel[] = {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR,
	                                    VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
	                                    VMCS_GUEST_GS_SELECTOR};
	static const uint32_t data_lim[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_SS_LIMIT,
	                                    VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT,
	                                    VMCS_GUEST_GS_LIMIT};
	static const uint32_t data_ar[] = {VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
	                                   VMCS_GUEST_DS_AR_BYTES, VMCS_GUEST_FS_AR_BYTES,
	                                   VMCS_GUEST_GS_AR_BYTES};

	for (int i = 0; i < 5; i++) {
		vfx_set(x, data_sel[i], 0x10);
		vfx_set(x, data_lim[i], 0xffffffff);
		vfx_set(x, data_ar[i], AR_DATA);
	}
	vfx_set(x, VMCS_GUEST_CS_SELECTOR, 0x08);
	vfx_set(x, VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vfx_set(x, VMCS_GUEST_CS_AR_BYTES, AR_CODE64);
	vfx_set(x, VMCS_GUEST_TR_SELECTOR, 0x18);
	vfx_set(x, VMCS_GUEST_TR_LIMIT, 0x67);
	vfx_set(x, VMCS_GUEST_TR_AR_BYTES, AR_TSS64);
	vfx_set(x, VMCS_GUEST_TR_BASE, 0x5000);
	vfx_set(x, VMCS_GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vfx_set(x, VMCS_GUEST_GDTR_BASE, 0x1000);
	vfx_set(x, VMCS_GUEST_GDTR_LIMIT, 0x7f);
	vfx_set(x, VMCS_GUEST_IDTR_BASE, 0x2000);
	vfx_set(x, VMCS_GUEST_IDTR_LIMIT, 0xfff);
}

static void program_guest(struct vfx *x)
{
	const struct vmx_caps *c = &x->caps;

	vfx_set(x, VMCS_GUEST_CR0, vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0) | CR0_WP | 0x12);
	vfx_set(x, VMCS_GUEST_CR4, vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0) | CR4_PAE | 0x600);
	vfx_set(x, VMCS_GUEST_CR3, VFX_GUEST_CR3);
	vfx_set(x, VMCS_GUEST_DR7, 0x400);
	vfx_set(x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	vfx_set(x, VMCS_GUEST_RIP, 0x401000);
	vfx_set(x, VMCS_GUEST_RSP, 0x8000);
	vfx_set(x, VMCS_GUEST_IA32_EFER, EFER_LONG);
	vfx_set(x, VMCS_GUEST_IA32_PAT, PAT_DEFAULT);
	vfx_set(x, VMCS_VMCS_LINK_POINTER, UINT64_MAX);
	program_guest_segments(x);
}

void vfx_init(struct vfx *x, const char *profile)
{
	struct hvsim_error err = {0};
	struct vmx_result res;
	uint32_t rev;

	memset(x, 0, sizeof(*x));
	cr_assert_eq(vmx_profile_load(profile, &x->caps, &err), HVSIM_OK, "profile %s: %s", profile,
	             err.msg);
	x->mem = calloc(1, VFX_MEM_SIZE);
	cr_assert(x->mem, "fixture memory");
	x->memops = (struct vmx_mem){mem_read, mem_write, x->mem};
	x->store = vmcs_store_create(16);
	x->cpu = vmx_cpu_create(&x->caps, &x->memops, x->store);
	cr_assert(x->store && x->cpu, "fixture objects");
	rev = vmx_caps_revision(&x->caps);
	vfx_write32(x, VFX_VMXON, rev);
	vfx_write32(x, VFX_VMCS, rev);
	vfx_write32(x, VFX_VMCS2, rev);
	vfx_write32(x, VFX_SHADOW_VMCS, rev | 0x80000000u);
	vmx_vmxon(x->cpu, VFX_VMXON, &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "VMXON: %s", vmx_outcome_name(res.outcome));
	vmx_vmclear(x->cpu, VFX_VMCS, &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "VMCLEAR: %s", vmx_outcome_name(res.outcome));
	vmx_vmptrld(x->cpu, VFX_VMCS, &res);
	cr_assert_eq(res.outcome, VMX_SUCCEED, "VMPTRLD: %s", vmx_outcome_name(res.outcome));
	program_controls(x);
	program_host(x);
	program_guest(x);
}

void vfx_fini(struct vfx *x)
{
	vmx_cpu_destroy(x->cpu);
	vmcs_store_destroy(x->store);
	free(x->mem);
}

void vfx_entry(struct vfx *x, struct vmx_result *res)
{
	vmx_check_entry(x->cpu, res);
}

static const char *str(const char *s)
{
	return s ? s : "-";
}

void vfx_expect_entered(struct vfx *x, const char *what)
{
	struct vmx_result r;

	vfx_entry(x, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED,
	             "%s: wanted entry, got %s (error %u) from %s [%s] item %s (%s)", what,
	             vmx_outcome_name(r.outcome), r.error, str(r.check), str(r.cond), str(r.item),
	             str(r.cite));
}

void vfx_expect_vmfail(struct vfx *x, const char *check, uint32_t error)
{
	struct vmx_result r;

	vfx_entry(x, &r);
	cr_assert(r.outcome == VMX_FAIL_VALID && r.error == error && r.check &&
	              strcmp(r.check, check) == 0,
	          "wanted VMfailValid(%u) from %s, got %s (error %u) from %s [%s] item %s", error,
	          check, vmx_outcome_name(r.outcome), r.error, str(r.check), str(r.cond),
	          str(r.item));
}

void vfx_expect_exit(struct vfx *x, const char *check, uint32_t reason, uint64_t qual)
{
	struct vmx_result r;

	vfx_entry(x, &r);
	cr_assert(r.outcome == VMX_ENTRY_FAIL_EXIT &&
	              r.exit_reason == (VMX_EXIT_REASON_ENTRY_FAIL | reason) &&
	              r.exit_qual == qual && r.check && strcmp(r.check, check) == 0,
	          "wanted exit %u qual %llu from %s, got %s reason %#x qual %llu from %s [%s] "
	          "item %s",
	          reason, (unsigned long long)qual, check, vmx_outcome_name(r.outcome),
	          r.exit_reason, (unsigned long long)r.exit_qual, str(r.check), str(r.cond),
	          str(r.item));
}
