/* VMCS set-up, as KVM's vmx.c does it (setup_vmcs_config, init_vmcs, vmx_vcpu_reset): controls
 * adjusted to the capability MSRs (a wanted control the processor cannot set is an error, an
 * optional one is dropped), a 64-bit host state, the guest state from the vCPU's boot state, and
 * the pages the controls point at (MSR bitmap, virtual-APIC page, EPT root). Guest RAM is
 * identity-mapped by the engine, so the EPT root is allocated for the EPTP checks and never walked.
 */
#include "kvm_int.h"

#include <hvsim/vmx_ctrl.h>

#include <string.h>

#define HOST_CR0             UINT64_C(0x80050033) /* PG WP NE ET MP PE */
#define HOST_CR4             UINT64_C(0x000006a0) /* OSXMMEXCPT OSFXSR PGE PAE */
#define HOST_EFER            UINT64_C(0xd01)      /* NXE LMA LME SCE */
#define HOST_PAT             UINT64_C(0x0007040600070406)
#define HOST_CS              0x10
#define HOST_SS              0x18
#define HOST_TR              0x40
#define HOST_TEXT            UINT64_C(0xffffffff81000000) /* where vmx_vmexit would live */
#define HOST_DATA            UINT64_C(0xffff888000000000)
#define EPTP_WB_4LEVEL       0x1eu /* memory type 6 (WB), page-walk length 4 - 1 in bits 5:3 */
#define CR4_VMXE             (UINT64_C(1) << 13)
#define EFER_LMA             (UINT64_C(1) << 10)
#define MSR_BITMAP_READ_LOW  0
#define MSR_BITMAP_WRITE_LOW 2048

void kvm_vmcs_write(struct kvm_vcpu *kv, uint64_t field, uint64_t value)
{
	struct vmx_result res;

	hvsim_vmwrite(kv->v, field, value, &res);
}

uint64_t kvm_vmcs_read(struct kvm_vcpu *kv, uint64_t field)
{
	return hvsim_vmread64(kv->v, field);
}

static uint64_t cap(struct kvm_vcpu *kv, uint32_t msr)
{
	return hvsim_vmx_caps(kv->kvm->vm)->msr[msr - VMX_CAP_MSR_FIRST];
}

/* adjust_vmx_controls: allowed-0 bits forced on, allowed-1 bits the only ones possible. */
static bool adjust(struct kvm_vcpu *kv, uint32_t msr, uint32_t need, uint32_t want, uint32_t *out)
{
	uint64_t m = cap(kv, msr);
	uint32_t ctl = ((need | want) & (uint32_t)(m >> 32)) | (uint32_t)m;

	*out = ctl;
	return (ctl & need) == need;
}

static uint32_t true_msr(struct kvm_vcpu *kv, uint32_t plain, uint32_t true_one)
{
	return (cap(kv, MSR_IA32_VMX_BASIC) >> 55) & 1 ? true_one : plain;
}

void kvm_set_exec_ctrl(struct kvm_vcpu *kv, uint32_t bits, bool on)
{
	kv->exec_ctrl = on ? kv->exec_ctrl | bits : kv->exec_ctrl & ~bits;
	kvm_vmcs_write(kv, VMCS_CPU_BASED_VM_EXEC_CONTROL, kv->exec_ctrl);
}

void kvm_set_exec_ctrl2(struct kvm_vcpu *kv, uint32_t bits, bool on)
{
	kv->exec_ctrl2 = on ? kv->exec_ctrl2 | bits : kv->exec_ctrl2 & ~bits;
	kvm_vmcs_write(kv, VMCS_SECONDARY_VM_EXEC_CONTROL, kv->exec_ctrl2);
}

static void bitmap_bit(uint8_t *page, unsigned base, uint32_t msr, bool intercept)
{
	unsigned bit = msr & 0x1fff;

	if (intercept)
		page[base + bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		page[base + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
}

/* vmx_update_msr_bitmap_x2apic: with APICv, x2APIC reads and the TPR, EOI and SELF-IPI writes go to
 * the processor; everything else exits. */
void kvm_msr_bitmap_x2apic(struct kvm_vcpu *kv, bool passthrough)
{
	uint8_t page[HVSIM_PAGE_SIZE];

	hvsim_host_read(kv->kvm->vm, kv->msr_bitmap_pa, page, sizeof(page));
	for (uint32_t msr = LAPIC_X2APIC_MSR_BASE; msr <= LAPIC_X2APIC_MSR_LAST; msr++) {
		bitmap_bit(page, MSR_BITMAP_READ_LOW, msr, !passthrough);
		bitmap_bit(page, MSR_BITMAP_WRITE_LOW, msr, true);
	}
	bitmap_bit(page, MSR_BITMAP_WRITE_LOW, 0x808, !passthrough); /* TPR */
	bitmap_bit(page, MSR_BITMAP_WRITE_LOW, 0x80b, !passthrough); /* EOI */
	bitmap_bit(page, MSR_BITMAP_WRITE_LOW, 0x83f, !passthrough); /* SELF IPI */
	hvsim_host_write(kv->kvm->vm, kv->msr_bitmap_pa, page, sizeof(page));
}

static enum hvsim_status alloc_pages(struct kvm_vcpu *kv)
{
	hvsim_vm *vm = kv->kvm->vm;
	uint8_t ones[HVSIM_PAGE_SIZE];

	if (hvsim_host_alloc(vm, 1, &kv->msr_bitmap_pa) || hvsim_host_alloc(vm, 1, &kv->vapic_pa) ||
	    hvsim_host_alloc(vm, 1, &kv->ept_pa))
		return HVSIM_E_NOMEM;
	memset(ones, 0xff, sizeof(ones)); /* intercept every MSR */
	hvsim_host_write(vm, kv->msr_bitmap_pa, ones, sizeof(ones));
	return HVSIM_OK;
}

static bool setup_controls(struct kvm_vcpu *kv)
{
	uint32_t pin, exit, entry;
	bool ok = true;

	ok &= adjust(kv, true_msr(kv, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS),
	             PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, PIN_VIRTUAL_NMIS, &pin);
	ok &=
	    adjust(kv, true_msr(kv, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS),
	           PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_MSR_BITMAPS |
	               PROC_USE_TPR_SHADOW | PROC_ACTIVATE_SECONDARY | PROC_MWAIT_EXITING |
	               PROC_MONITOR_EXITING | PROC_USE_TSC_OFFSETTING,
	           PROC_RDPMC_EXITING, &kv->exec_ctrl);
	kv->exec_ctrl &= ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_INVLPG_EXITING |
	                   PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING) |
	                 (uint32_t)cap(kv, true_msr(kv, MSR_IA32_VMX_PROCBASED_CTLS,
	                                            MSR_IA32_VMX_TRUE_PROCBASED_CTLS));
	ok &= adjust(kv, MSR_IA32_VMX_PROCBASED_CTLS2,
	             PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID,
	             PROC2_ENABLE_RDTSCP, &kv->exec_ctrl2);
	ok &= adjust(kv, true_msr(kv, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS),
	             EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_LOAD_IA32_EFER |
	                 EXIT_SAVE_IA32_EFER,
	             EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_PAT, &exit);
	ok &= adjust(kv, true_msr(kv, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS),
	             ENTRY_LOAD_IA32_EFER, ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS, &entry);
	kv->pin_ctrl = pin;
	kvm_vmcs_write(kv, VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	kvm_vmcs_write(kv, VMCS_CPU_BASED_VM_EXEC_CONTROL, kv->exec_ctrl);
	kvm_vmcs_write(kv, VMCS_SECONDARY_VM_EXEC_CONTROL, kv->exec_ctrl2);
	kvm_vmcs_write(kv, VMCS_VM_EXIT_CONTROLS, exit);
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_CONTROLS, entry);
	return ok;
}

static uint64_t fixed(struct kvm_vcpu *kv, uint64_t value, uint32_t fixed0, uint32_t fixed1)
{
	return (value | cap(kv, fixed0)) & cap(kv, fixed1);
}

static void setup_host(struct kvm_vcpu *kv, uint64_t host_cr3)
{
	kvm_vmcs_write(kv, VMCS_HOST_CR0,
	               fixed(kv, HOST_CR0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1));
	kvm_vmcs_write(kv, VMCS_HOST_CR3, host_cr3);
	kvm_vmcs_write(kv, VMCS_HOST_CR4,
	               fixed(kv, HOST_CR4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
	kvm_vmcs_write(kv, VMCS_HOST_CS_SELECTOR, HOST_CS);
	kvm_vmcs_write(kv, VMCS_HOST_SS_SELECTOR, HOST_SS);
	kvm_vmcs_write(kv, VMCS_HOST_DS_SELECTOR, 0);
	kvm_vmcs_write(kv, VMCS_HOST_ES_SELECTOR, 0);
	kvm_vmcs_write(kv, VMCS_HOST_FS_SELECTOR, 0);
	kvm_vmcs_write(kv, VMCS_HOST_GS_SELECTOR, 0);
	kvm_vmcs_write(kv, VMCS_HOST_TR_SELECTOR, HOST_TR);
	kvm_vmcs_write(kv, VMCS_HOST_FS_BASE, 0);
	kvm_vmcs_write(kv, VMCS_HOST_GS_BASE, HOST_DATA + 0x100000 * kv->index);
	kvm_vmcs_write(kv, VMCS_HOST_TR_BASE, HOST_DATA + 0x2000);
	kvm_vmcs_write(kv, VMCS_HOST_GDTR_BASE, HOST_DATA + 0x1000);
	kvm_vmcs_write(kv, VMCS_HOST_IDTR_BASE, HOST_DATA + 0x3000);
	kvm_vmcs_write(kv, VMCS_HOST_IA32_SYSENTER_CS, 0);
	kvm_vmcs_write(kv, VMCS_HOST_IA32_SYSENTER_ESP, 0);
	kvm_vmcs_write(kv, VMCS_HOST_IA32_SYSENTER_EIP, 0);
	kvm_vmcs_write(kv, VMCS_HOST_IA32_EFER, HOST_EFER);
	kvm_vmcs_write(kv, VMCS_HOST_IA32_PAT, HOST_PAT);
	kvm_vmcs_write(kv, VMCS_HOST_RIP, HOST_TEXT);
	kvm_vmcs_write(kv, VMCS_HOST_RSP, HOST_DATA + 0x10000 + 0x4000 * kv->index);
}

/* Selector, limit, access-rights and base fields of each segment register, by enum cpu_seg. */
static const uint32_t seg_sel[SEG_COUNT] = {
    VMCS_GUEST_ES_SELECTOR,   VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
    VMCS_GUEST_DS_SELECTOR,   VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
    VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR,
};
static const uint32_t seg_limit[SEG_COUNT] = {
    VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,   VMCS_GUEST_DS_LIMIT,
    VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,
};
static const uint32_t seg_ar[SEG_COUNT] = {
    VMCS_GUEST_ES_AR_BYTES,   VMCS_GUEST_CS_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
    VMCS_GUEST_DS_AR_BYTES,   VMCS_GUEST_FS_AR_BYTES, VMCS_GUEST_GS_AR_BYTES,
    VMCS_GUEST_LDTR_AR_BYTES, VMCS_GUEST_TR_AR_BYTES,
};
static const uint32_t seg_base[SEG_COUNT] = {
    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,   VMCS_GUEST_DS_BASE,
    VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE,
};

static void write_segments(struct kvm_vcpu *kv, const struct cpu_state *s)
{
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		kvm_vmcs_write(kv, seg_sel[i], s->seg[i].selector);
		kvm_vmcs_write(kv, seg_limit[i], s->seg[i].limit);
		kvm_vmcs_write(kv, seg_ar[i], s->seg[i].ar);
		kvm_vmcs_write(kv, seg_base[i], s->seg[i].base);
	}
}

/* vmx_set_cr0/vmx_set_cr4: the guest's value in the read shadow, the VMX-fixed bits forced in the
 * field (CR0.PE/PG stay the guest's: unrestricted guest). */
void kvm_vmcs_load_guest(struct kvm_vcpu *kv, const struct cpu_state *s)
{
	uint32_t entry = (uint32_t)kvm_vmcs_read(kv, VMCS_VM_ENTRY_CONTROLS);

	kvm_vmcs_write(kv, VMCS_GUEST_CR0,
	               (fixed(kv, s->cr0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1) &
	                ~UINT64_C(0x80000001)) |
	                   (s->cr0 & 0x80000001u));
	kvm_vmcs_write(kv, VMCS_CR0_READ_SHADOW, s->cr0);
	kvm_vmcs_write(kv, VMCS_GUEST_CR3, s->cr3);
	kvm_vmcs_write(kv, VMCS_GUEST_CR4,
	               fixed(kv, s->cr4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
	kvm_vmcs_write(kv, VMCS_CR4_READ_SHADOW, s->cr4);
	kvm_vmcs_write(kv, VMCS_GUEST_DR7, s->dr7);
	kvm_vmcs_write(kv, VMCS_GUEST_RSP, s->gpr[GPR_RSP]);
	kvm_vmcs_write(kv, VMCS_GUEST_RIP, s->rip);
	kvm_vmcs_write(kv, VMCS_GUEST_RFLAGS, s->rflags);
	write_segments(kv, s);
	kvm_vmcs_write(kv, VMCS_GUEST_GDTR_BASE, s->gdtr.base);
	kvm_vmcs_write(kv, VMCS_GUEST_GDTR_LIMIT, s->gdtr.limit);
	kvm_vmcs_write(kv, VMCS_GUEST_IDTR_BASE, s->idtr.base);
	kvm_vmcs_write(kv, VMCS_GUEST_IDTR_LIMIT, s->idtr.limit);
	kvm_vmcs_write(kv, VMCS_GUEST_IA32_EFER, s->efer);
	kvm_vmcs_write(kv, VMCS_GUEST_IA32_PAT, s->pat ? s->pat : HOST_PAT);
	kvm_vmcs_write(kv, VMCS_GUEST_IA32_DEBUGCTL, s->debugctl);
	kvm_vmcs_write(kv, VMCS_GUEST_SYSENTER_CS, s->sysenter_cs);
	kvm_vmcs_write(kv, VMCS_GUEST_SYSENTER_ESP, s->sysenter_esp);
	kvm_vmcs_write(kv, VMCS_GUEST_SYSENTER_EIP, s->sysenter_eip);
	if (s->efer & EFER_LMA) /* an IA-32e mode guest (vmx_set_efer) */
		entry |= ENTRY_IA32E_MODE_GUEST;
	else
		entry &= ~ENTRY_IA32E_MODE_GUEST;
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_CONTROLS, entry);
}

/* The guest's view of CR0/CR4: owned bits from the read shadow (kvm_read_cr0/cr4). */
static uint64_t guest_cr(struct kvm_vcpu *kv, uint32_t field, uint32_t shadow, uint32_t mask)
{
	uint64_t m = kvm_vmcs_read(kv, mask);

	return (kvm_vmcs_read(kv, field) & ~m) | (kvm_vmcs_read(kv, shadow) & m);
}

void kvm_vmcs_save_guest(struct kvm_vcpu *kv, struct cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned r = 0; r < GPR_COUNT; r++)
		s->gpr[r] = hvsim_vcpu_gpr(kv->v, r);
	s->gpr[GPR_RSP] = kvm_vmcs_read(kv, VMCS_GUEST_RSP);
	s->rip = kvm_vmcs_read(kv, VMCS_GUEST_RIP);
	s->rflags = kvm_vmcs_read(kv, VMCS_GUEST_RFLAGS);
	s->cr0 = guest_cr(kv, VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, VMCS_CR0_GUEST_HOST_MASK);
	s->cr3 = kvm_vmcs_read(kv, VMCS_GUEST_CR3);
	s->cr4 = guest_cr(kv, VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, VMCS_CR4_GUEST_HOST_MASK);
	s->dr7 = kvm_vmcs_read(kv, VMCS_GUEST_DR7);
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		s->seg[i].selector = (uint16_t)kvm_vmcs_read(kv, seg_sel[i]);
		s->seg[i].limit = (uint32_t)kvm_vmcs_read(kv, seg_limit[i]);
		s->seg[i].ar = (uint32_t)kvm_vmcs_read(kv, seg_ar[i]);
		s->seg[i].base = kvm_vmcs_read(kv, seg_base[i]);
	}
	s->gdtr = (struct cpu_dtable){kvm_vmcs_read(kv, VMCS_GUEST_GDTR_BASE),
	                              (uint32_t)kvm_vmcs_read(kv, VMCS_GUEST_GDTR_LIMIT)};
	s->idtr = (struct cpu_dtable){kvm_vmcs_read(kv, VMCS_GUEST_IDTR_BASE),
	                              (uint32_t)kvm_vmcs_read(kv, VMCS_GUEST_IDTR_LIMIT)};
	s->efer = kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER);
	s->pat = kvm_vmcs_read(kv, VMCS_GUEST_IA32_PAT);
	s->debugctl = kvm_vmcs_read(kv, VMCS_GUEST_IA32_DEBUGCTL);
	s->sysenter_cs = kvm_vmcs_read(kv, VMCS_GUEST_SYSENTER_CS);
	s->sysenter_esp = kvm_vmcs_read(kv, VMCS_GUEST_SYSENTER_ESP);
	s->sysenter_eip = kvm_vmcs_read(kv, VMCS_GUEST_SYSENTER_EIP);
	s->activity = (uint32_t)kvm_vmcs_read(kv, VMCS_GUEST_ACTIVITY_STATE);
	s->interruptibility = (uint32_t)kvm_vmcs_read(kv, VMCS_GUEST_INTERRUPTIBILITY_INFO);
}

static void setup_guest(struct kvm_vcpu *kv)
{
	struct cpu_state s;

	hvsim_vcpu_boot_state(kv->v, &s);
	s.cr4 &= ~CR4_VMXE; /* the boot state is outside VMX operation */
	kvm_vmcs_write(kv, VMCS_CR0_GUEST_HOST_MASK, cap(kv, MSR_IA32_VMX_CR0_FIXED0));
	kvm_vmcs_write(kv, VMCS_CR4_GUEST_HOST_MASK, cap(kv, MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE);
	kvm_vmcs_load_guest(kv, &s);
	kvm_vmcs_write(kv, VMCS_VMCS_LINK_POINTER, UINT64_MAX);
	kvm_vmcs_write(kv, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	kvm_vmcs_write(kv, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	kvm_vmcs_write(kv, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

static void setup_pointers(struct kvm_vcpu *kv)
{
	kvm_vmcs_write(kv, VMCS_MSR_BITMAP, kv->msr_bitmap_pa);
	kvm_vmcs_write(kv, VMCS_VIRTUAL_APIC_PAGE_ADDR, kv->vapic_pa);
	kvm_vmcs_write(kv, VMCS_TPR_THRESHOLD, 0);
	kvm_vmcs_write(kv, VMCS_EPT_POINTER, kv->ept_pa | EPTP_WB_4LEVEL);
	kvm_vmcs_write(kv, VMCS_VIRTUAL_PROCESSOR_ID, kv->index + 1);
	kvm_vmcs_write(kv, VMCS_TSC_OFFSET, kv->tsc_offset);
	kvm_vmcs_write(kv, VMCS_EXCEPTION_BITMAP, 0);
	kvm_vmcs_write(kv, VMCS_CR3_TARGET_COUNT, 0);
	kvm_vmcs_write(kv, VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	kvm_vmcs_write(kv, VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	kvm_vmcs_write(kv, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	kvm_vmcs_write(kv, VMCS_GUEST_INTR_STATUS, 0);
}

/* VMXON, a fresh VMCS made current, and every field KVM initialises. */
enum hvsim_status kvm_vmcs_setup(struct kvm_vcpu *kv)
{
	hvsim_vm *vm = kv->kvm->vm;
	uint32_t rev = (uint32_t)cap(kv, MSR_IA32_VMX_BASIC) & 0x7fffffff;
	uint64_t host_cr3;
	struct vmx_result res;

	if (hvsim_host_alloc(vm, 1, &kv->vmxon_pa) || hvsim_host_alloc(vm, 1, &kv->vmcs_pa) ||
	    hvsim_host_alloc(vm, 1, &host_cr3) || alloc_pages(kv))
		return HVSIM_E_NOMEM;
	hvsim_host_write(vm, kv->vmxon_pa, &rev, sizeof(rev));
	hvsim_host_write(vm, kv->vmcs_pa, &rev, sizeof(rev));
	hvsim_vmxon(kv->v, kv->vmxon_pa, &res);
	if (res.outcome != VMX_SUCCEED)
		return HVSIM_E_INPUT;
	hvsim_vmclear(kv->v, kv->vmcs_pa, &res);
	hvsim_vmptrld(kv->v, kv->vmcs_pa, &res);
	if (res.outcome != VMX_SUCCEED || !setup_controls(kv))
		return HVSIM_E_INPUT;
	setup_host(kv, host_cr3);
	setup_pointers(kv);
	setup_guest(kv);
	return HVSIM_OK;
}
