/* The machine of the vmx-replay algorithm and of fuzz_vmcs_entry (vmx_replay_int.h): one VMX
 * logical processor, its VMCS store and simulated memory from address 0 with dirty-page tracking,
 * and the known-good fixture (VMXON, VMCLEAR, VMPTRLD, then a VMCS that passes every VM-entry
 * check on every embedded profile). Leaves out everything but the VMX root side: no guest runs.
 * Follows SDM Vol. 3C ch. 25 (VMCS), 27 (VM-entry checks), 31 (instructions). */
#include "vmx_replay_int.h"

#include "../models/vmx/vmx_int.h"

#include <stdlib.h>
#include <string.h>

#define PAGE        UINT64_C(0x1000)
#define PAT_DEFAULT UINT64_C(0x0007040600070406)
#define EFER_LONG   UINT64_C(0xd01) /* SCE, LME, LMA, NXE */
#define AR_CODE64   0xa09bu         /* type 11, S, DPL 0, P, L, G */
#define AR_DATA     0xc093u         /* type 3, S, DPL 0, P, D/B, G */
#define AR_TSS64    0x008bu         /* busy 64-bit TSS, P */
#define SHADOW_BIT  0x80000000u     /* SDM 25.2: the shadow-VMCS indicator, bit 31 */

_Static_assert(VMCS_IDX_COUNT <= 256, "vmx_replay_before.fields holds every VMCS field");
_Static_assert(VMX_REPLAY_PAGES *PAGE == VMX_REPLAY_MEM_BYTES, "one dirty bit per page");
_Static_assert(VMX_REPLAY_PAGES <= 64, "dirty is a 64-bit mask");

static bool mem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	const uint8_t *mem = ctx;

	if (pa >= VMX_REPLAY_MEM_BYTES || len > VMX_REPLAY_MEM_BYTES - pa)
		return false;
	memcpy(buf, mem + pa, len);
	return true;
}

/* The model never writes memory; a write would go unnoticed by the dirty tracking. */
static bool mem_write_refused(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	(void)ctx, (void)pa, (void)buf, (void)len;
	return false;
}

enum hvsim_status vmx_replay_machine_create(struct vmx_replay_machine *m,
                                            const struct vmx_caps *caps)
{
	memset(m, 0, sizeof(*m));
	m->mem = calloc(1, VMX_REPLAY_MEM_BYTES);
	m->store = vmcs_store_create(VMX_REPLAY_STORE_CAP);
	m->memops = (struct vmx_mem){mem_read, mem_write_refused, m->mem};
	m->cpu = m->mem && m->store ? vmx_cpu_create(caps, &m->memops, m->store) : NULL;
	if (!m->cpu) {
		vmx_replay_machine_destroy(m);
		return HVSIM_E_NOMEM;
	}
	m->dirty = ~UINT64_C(0);
	return HVSIM_OK;
}

void vmx_replay_machine_destroy(struct vmx_replay_machine *m)
{
	vmx_cpu_destroy(m->cpu);
	vmcs_store_destroy(m->store);
	free(m->mem);
	memset(m, 0, sizeof(*m));
}

static void set(struct vmx_cpu *cpu, uint32_t enc, uint64_t v)
{
	vmx_vmcs_set(cpu, enc, v);
}

/* Controls: what the profile requires plus what the configuration uses, within allowed-1. */
static void program_controls(struct vmx_cpu *cpu)
{
	const struct vmx_caps *c = vmx_cpu_caps(cpu);
	uint32_t proc = PROC_HLT_EXITING | PROC_USE_TPR_SHADOW | PROC_USE_IO_BITMAPS |
	                PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY;
	uint32_t proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP;
	uint32_t exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_LOAD_IA32_EFER |
	                EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER;
	uint32_t entry = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT;
	uint32_t pin = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;

	set(cpu, VMCS_PIN_BASED_VM_EXEC_CONTROL,
	    (vmx_caps_pin_must1(c) | pin) & vmx_caps_pin_may1(c));
	set(cpu, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    (vmx_caps_proc_must1(c) | proc) & vmx_caps_proc_may1(c));
	set(cpu, VMCS_SECONDARY_VM_EXEC_CONTROL,
	    (vmx_caps_proc2_must1(c) | proc2) & vmx_caps_proc2_may1(c));
	set(cpu, VMCS_VM_EXIT_CONTROLS, (vmx_caps_exit_must1(c) | exit) & vmx_caps_exit_may1(c));
	set(cpu, VMCS_VM_ENTRY_CONTROLS,
	    (vmx_caps_entry_must1(c) | entry) & vmx_caps_entry_may1(c));
}

static const struct {
	uint32_t enc;
	uint64_t value;
} fixed_fields[] = {
    /* control addresses */
    {VMCS_IO_BITMAP_A, VMX_REPLAY_PA_IO_A},
    {VMCS_IO_BITMAP_B, VMX_REPLAY_PA_IO_B},
    {VMCS_MSR_BITMAP, VMX_REPLAY_PA_MSR_BITMAP},
    {VMCS_VIRTUAL_APIC_PAGE_ADDR, VMX_REPLAY_PA_VAPIC},
    {VMCS_APIC_ACCESS_ADDR, VMX_REPLAY_PA_APIC_ACCESS},
    {VMCS_POSTED_INTR_DESC_ADDR, VMX_REPLAY_PA_PI_DESC},
    {VMCS_POSTED_INTR_NV, 0xf2},
    {VMCS_EPT_POINTER, VMX_REPLAY_PA_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_WB},
    {VMCS_VIRTUAL_PROCESSOR_ID, 1},
    {VMCS_PML_ADDRESS, VMX_REPLAY_PA_PML},
    {VMCS_EPTP_LIST_ADDRESS, VMX_REPLAY_PA_EPTP_LIST},
    {VMCS_VMREAD_BITMAP, VMX_REPLAY_PA_VMREAD_BM},
    {VMCS_VMWRITE_BITMAP, VMX_REPLAY_PA_VMWRITE_BM},
    {VMCS_VE_INFO_ADDRESS, VMX_REPLAY_PA_VE_INFO},
    {VMCS_VM_EXIT_MSR_STORE_ADDR, VMX_REPLAY_PA_MSR_AREA},
    {VMCS_VM_EXIT_MSR_LOAD_ADDR, VMX_REPLAY_PA_MSR_AREA},
    {VMCS_VM_ENTRY_MSR_LOAD_ADDR, VMX_REPLAY_PA_MSR_AREA},
    /* host state */
    {VMCS_HOST_CR3, VMX_REPLAY_PA_HOST_CR3},
    {VMCS_HOST_CS_SELECTOR, 0x10},
    {VMCS_HOST_SS_SELECTOR, 0x18},
    {VMCS_HOST_TR_SELECTOR, 0x40},
    {VMCS_HOST_TR_BASE, UINT64_C(0xffff800000003000)},
    {VMCS_HOST_GDTR_BASE, UINT64_C(0xffff800000001000)},
    {VMCS_HOST_IDTR_BASE, UINT64_C(0xffff800000002000)},
    {VMCS_HOST_RIP, UINT64_C(0xffffffff81000000)},
    {VMCS_HOST_RSP, UINT64_C(0xffff800000010000)},
    {VMCS_HOST_IA32_EFER, EFER_LONG},
    {VMCS_HOST_IA32_PAT, PAT_DEFAULT},
    /* guest state */
    {VMCS_GUEST_CR3, VMX_REPLAY_PA_GUEST_CR3},
    {VMCS_GUEST_DR7, 0x400},
    {VMCS_GUEST_RFLAGS, RFLAGS_FIXED1},
    {VMCS_GUEST_RIP, 0x401000},
    {VMCS_GUEST_RSP, 0x8000},
    {VMCS_GUEST_IA32_EFER, EFER_LONG},
    {VMCS_GUEST_IA32_PAT, PAT_DEFAULT},
    {VMCS_VMCS_LINK_POINTER, UINT64_MAX},
    {VMCS_GUEST_CS_SELECTOR, 0x08},
    {VMCS_GUEST_CS_LIMIT, 0xffffffff},
    {VMCS_GUEST_CS_AR_BYTES, AR_CODE64},
    {VMCS_GUEST_TR_SELECTOR, 0x18},
    {VMCS_GUEST_TR_LIMIT, 0x67},
    {VMCS_GUEST_TR_AR_BYTES, AR_TSS64},
    {VMCS_GUEST_TR_BASE, 0x5000},
    {VMCS_GUEST_LDTR_AR_BYTES, AR_UNUSABLE},
    {VMCS_GUEST_GDTR_BASE, 0x1000},
    {VMCS_GUEST_GDTR_LIMIT, 0x7f},
    {VMCS_GUEST_IDTR_BASE, 0x2000},
    {VMCS_GUEST_IDTR_LIMIT, 0xfff},
};

static void program_state(struct vmx_cpu *cpu)
{
	static const uint32_t data_segs[][3] = {
	    {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES},
	    {VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES},
	    {VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES},
	    {VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES},
	    {VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES},
	};
	const struct vmx_caps *c = vmx_cpu_caps(cpu);
	uint64_t cr0 = vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0) | CR0_WP | 0x12;   /* MP, ET */
	uint64_t cr4 = vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0) | CR4_PAE | 0x600; /* OSFXSR.. */

	for (size_t i = 0; i < sizeof(fixed_fields) / sizeof(fixed_fields[0]); i++)
		set(cpu, fixed_fields[i].enc, fixed_fields[i].value);
	for (size_t i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++) {
		set(cpu, data_segs[i][0], 0x10);
		set(cpu, data_segs[i][1], 0xffffffff);
		set(cpu, data_segs[i][2], AR_DATA);
	}
	set(cpu, VMCS_HOST_CR0, cr0);
	set(cpu, VMCS_HOST_CR4, cr4);
	set(cpu, VMCS_GUEST_CR0, cr0);
	set(cpu, VMCS_GUEST_CR4, cr4);
}

static void put32(struct vmx_replay_machine *m, uint64_t pa, uint32_t v)
{
	vmx_replay_mem_write(m, pa, &v, sizeof(v));
}

enum hvsim_status vmx_replay_fixture(struct vmx_replay_machine *m, struct hvsim_error *err)
{
	uint32_t rev = vmx_caps_revision(vmx_cpu_caps(m->cpu));
	struct vmx_result r;

	put32(m, VMX_REPLAY_PA_VMXON, rev);
	put32(m, VMX_REPLAY_PA_VMCS, rev);
	put32(m, VMX_REPLAY_PA_VMCS2, rev);
	put32(m, VMX_REPLAY_PA_SHADOW_VMCS, rev | SHADOW_BIT);
	vmx_vmxon(m->cpu, VMX_REPLAY_PA_VMXON, &r);
	if (r.outcome == VMX_SUCCEED)
		vmx_vmclear(m->cpu, VMX_REPLAY_PA_VMCS, &r);
	if (r.outcome == VMX_SUCCEED)
		vmx_vmptrld(m->cpu, VMX_REPLAY_PA_VMCS, &r);
	if (r.outcome != VMX_SUCCEED)
		return hvsim_error_set(err, HVSIM_E_INPUT, "fixture: %s at %s",
		                       vmx_outcome_name(r.outcome), r.cond ? r.cond : "?");
	program_controls(m->cpu);
	program_state(m->cpu);
	return HVSIM_OK;
}

void vmx_replay_copy(struct vmx_replay_machine *dst, const struct vmx_replay_machine *src, bool all)
{
	uint64_t pages = all ? ~UINT64_C(0) : dst->dirty;

	for (unsigned pg = 0; pg < VMX_REPLAY_PAGES; pg++)
		if (pages & (UINT64_C(1) << pg))
			memcpy(dst->mem + pg * PAGE, src->mem + pg * PAGE, PAGE);
	dst->dirty = 0;
	/* Same capacity on both sides: the assignment fits once the slots are reserved. */
	if (!vmcs_store_assign(dst->store, src->store))
		dst->store->count = 0;
	vmx_cpu_assign(dst->cpu, src->cpu);
	dst->seen.valid = dst->verified.valid = false;
}

bool vmx_replay_mem_write(struct vmx_replay_machine *m, uint64_t pa, const void *buf, size_t len)
{
	if (pa >= VMX_REPLAY_MEM_BYTES || len > VMX_REPLAY_MEM_BYTES - pa || len == 0)
		return false;
	memcpy(m->mem + pa, buf, len);
	for (uint64_t pg = pa / PAGE; pg <= (pa + len - 1) / PAGE; pg++)
		m->dirty |= UINT64_C(1) << pg;
	m->seen.valid = m->verified.valid = false;
	return true;
}

uint64_t vmx_replay_pdpte_pa(const struct vmx_replay_machine *m, unsigned index)
{
	uint64_t guest_cr3 = 0;

	vmx_vmcs_get(m->cpu, VMCS_GUEST_CR3, &guest_cr3);
	return (guest_cr3 & 0xffffffe0u) + 8 * (index & 3); /* SDM 27.3.1.6: CR3[31:5] */
}

uint64_t vmx_replay_vmcs_value(const struct vmx_replay_machine *m, size_t i)
{
	const struct vmcs *v =
	    m->store ? vmcs_store_find_const(m->store, VMX_REPLAY_PA_VMCS) : NULL;

	return v && i < VMCS_IDX_COUNT ? v->f[i] : 0;
}
