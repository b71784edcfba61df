/* The validity checks KVM applies to a guest's write before emulating it, when the value lands in
 * the VMCS: MOV to CR0 and CR4 (x86.c kvm_set_cr0 / kvm_is_valid_cr0, kvm_set_cr4 /
 * kvm_is_valid_cr4) and WRMSR to IA32_EFER and IA32_PAT (set_efer, kvm_pat_valid). A value the
 * architecture refuses raises #GP(0) in the guest (SDM Vol. 2B "MOV—Move to/from Control
 * Registers" and "WRMSR" exceptions) instead of reaching the VMCS, where the next VM entry would
 * fail its checks. CR4 and EFER bits of features the guest's CPUID does not advertise are
 * reserved, as KVM derives them (__cr4_reserved_bits, efer_reserved_bits). Left out: the
 * PAE-paging and PDPTE transitions of a guest turning paging on (the guests hvsim's kvm runs start
 * in 64-bit mode). */
#include "kvm_int.h"

#define CR0_PE (UINT64_C(1) << 0)
#define CR0_ET (UINT64_C(1) << 4)
#define CR0_NW (UINT64_C(1) << 29)
#define CR0_CD (UINT64_C(1) << 30)
#define CR0_PG (UINT64_C(1) << 31)
/* PE MP EM TS ET NE WP AM NW CD PG: writes to the other bits are ignored (CR0_RESERVED_BITS) */
#define CR0_DEFINED      UINT64_C(0xe005003f)
#define CR4_PAE          (UINT64_C(1) << 5)
#define CR4_LA57         (UINT64_C(1) << 12)
#define CR4_PCIDE        (UINT64_C(1) << 17)
#define EFER_SCE         (UINT64_C(1) << 0)
#define EFER_LME         (UINT64_C(1) << 8)
#define EFER_LMA         (UINT64_C(1) << 10)
#define EFER_NXE         (UINT64_C(1) << 11)
#define CPUID_EXT_EDX_NX 20                  /* CPUID.80000001H:EDX[20] */
#define SEG_AR_L         (UINT32_C(1) << 13) /* CS.L: 64-bit code segment */

/* Each CR4 bit and the CPUID feature that makes it writable (SDM 2.5 "Control Registers"; KVM's
 * __cr4_reserved_bits). reg: the CPUID output register, 1 EBX, 2 ECX, 3 EDX. */
static const struct {
	uint8_t cr4_bit;
	uint32_t leaf;
	uint8_t reg, bit;
} cr4_features[] = {
    {0, 1, 3, 1},   /* VME: VME */
    {1, 1, 3, 1},   /* PVI: VME */
    {2, 1, 3, 4},   /* TSD: TSC */
    {3, 1, 3, 2},   /* DE: DE */
    {4, 1, 3, 3},   /* PSE: PSE */
    {5, 1, 3, 6},   /* PAE: PAE */
    {6, 1, 3, 7},   /* MCE: MCE */
    {7, 1, 3, 13},  /* PGE: PGE */
    {9, 1, 3, 24},  /* OSFXSR: FXSR */
    {10, 1, 3, 25}, /* OSXMMEXCPT: SSE */
    {11, 7, 2, 2},  /* UMIP: UMIP */
    {12, 7, 2, 16}, /* LA57: LA57 */
    {13, 1, 2, 5},  /* VMXE: VMX */
    {14, 1, 2, 6},  /* SMXE: SMX */
    {16, 7, 1, 0},  /* FSGSBASE: FSGSBASE */
    {17, 1, 2, 17}, /* PCIDE: PCID */
    {18, 1, 2, 26}, /* OSXSAVE: XSAVE */
    {20, 7, 1, 7},  /* SMEP: SMEP */
    {21, 7, 1, 20}, /* SMAP: SMAP */
    {22, 7, 2, 3},  /* PKE: PKU */
};
#define CR4_PCE (UINT64_C(1) << 8) /* always writable */

/* The CR4 bits this guest may set: PCE, and each bit whose feature its CPUID advertises. */
static uint64_t cr4_writable(struct kvm_vcpu *kv)
{
	uint32_t leaf1[4], leaf7[4];
	uint64_t ok = CR4_PCE;

	kvm_cpuid(kv, 1, 0, leaf1);
	kvm_cpuid(kv, 7, 0, leaf7);
	for (size_t i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		const uint32_t *r = cr4_features[i].leaf == 1 ? leaf1 : leaf7;

		if ((r[cr4_features[i].reg] >> cr4_features[i].bit) & 1)
			ok |= UINT64_C(1) << cr4_features[i].cr4_bit;
	}
	return ok;
}

/* 64-bit mode: IA-32e mode (EFER.LMA) with a 64-bit code segment (SDM 2.2.1). */
static bool in_64bit_mode(struct kvm_vcpu *kv)
{
	return (kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER) & EFER_LMA) &&
	       (kvm_vmcs_read(kv, VMCS_GUEST_CS_AR_BYTES) & SEG_AR_L);
}

bool kvm_cr0_check(struct kvm_vcpu *kv, uint64_t *cr0)
{
	uint64_t v = *cr0;

	if ((v >> 32) != 0 ||                     /* bits 63:32 are reserved */
	    ((v & CR0_NW) && !(v & CR0_CD)) ||    /* NW without CD */
	    ((v & CR0_PG) && !(v & CR0_PE)) ||    /* paging without protection */
	    (!(v & CR0_PG) && in_64bit_mode(kv))) /* leaving paging in 64-bit mode */
		return false;
	*cr0 = (v | CR0_ET) & CR0_DEFINED;
	return true;
}

bool kvm_cr4_check(struct kvm_vcpu *kv, uint64_t cr4)
{
	uint64_t old = kvm_vmcs_read(kv, VMCS_CR4_READ_SHADOW);
	bool lma = kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER) & EFER_LMA;

	if (cr4 & ~cr4_writable(kv))
		return false;
	if (lma && (!(cr4 & CR4_PAE) || ((cr4 ^ old) & CR4_LA57)))
		return false; /* IA-32e mode needs PAE; LA57 changes only outside it */
	return !((cr4 & CR4_PCIDE) && !(old & CR4_PCIDE) &&
	         (!lma || (kvm_vmcs_read(kv, VMCS_GUEST_CR3) & 0xfff)));
}

bool kvm_efer_check(struct kvm_vcpu *kv, uint64_t *efer)
{
	uint64_t old = kvm_vmcs_read(kv, VMCS_GUEST_IA32_EFER);
	uint64_t ok = EFER_SCE | EFER_LME | EFER_LMA;
	uint32_t ext[4];

	kvm_cpuid(kv, 0x80000001u, 0, ext);
	if ((ext[3] >> CPUID_EXT_EDX_NX) & 1)
		ok |= EFER_NXE;
	if (*efer & ~ok)
		return false; /* reserved bits */
	if (((*efer ^ old) & EFER_LME) && (kvm_vmcs_read(kv, VMCS_GUEST_CR0) & CR0_PG))
		return false; /* LME changes only with paging off (SDM 10.8.5) */
	*efer = (*efer & ~EFER_LMA) | (old & EFER_LMA); /* LMA is the processor's (SDM 2.2.1) */
	return true;
}

/* Each byte of IA32_PAT is a memory type: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC- (SDM 12.12.2) */
bool kvm_pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}
