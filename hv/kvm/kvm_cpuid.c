/* CPUID as KVM presents it to a guest (arch/x86/kvm/cpuid.c): the basic leaves of an Ice Lake-like
 * processor with the hypervisor bit, x2APIC and TSC-deadline, the vPMU's leaf 0xA (PDCM is not
 * set), the KVM signature leaf 0x40000000 ("KVMKVMKVM\0\0\0") and, with quirk
 * cpuid_timing_leaf=present, the generic timing leaf 0x40000010 (EAX = TSC frequency in kHz, EBX =
 * APIC bus frequency in kHz), as proposed in "Support 'generic' CPUID timing leaf as KVM guest and
 * host". Leaves beyond the maxima read as zero. */
#include "kvm_int.h"

#include <string.h>

#define CPUID_MAX_BASIC     0xd
#define CPUID_MAX_EXT       0x80000008u
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES  0x40000001u
#define CPUID_TIMING_LEAF   0x40000010u
#define CPUID_PMU_LEAF      0xau /* from the vPMU (kvm_pmu.c) */

/* Leaf 1 (SDM Vol. 2A CPUID, Table 3-10/3-11) */
#define ICELAKE_SIGNATURE 0x000606a6u /* family 6, model 0x6a, stepping 6 */
#define ECX_SSE3          (1u << 0)
#define ECX_VMX           (1u << 5)
#define ECX_SSSE3         (1u << 9)
#define ECX_CX16          (1u << 13)
#define ECX_SSE41         (1u << 19)
#define ECX_SSE42         (1u << 20)
#define ECX_X2APIC        (1u << 21)
#define ECX_POPCNT        (1u << 23)
#define ECX_TSC_DEADLINE  (1u << 24)
#define ECX_XSAVE         (1u << 26)
#define ECX_HYPERVISOR    (1u << 31)
#define EDX_BASIC         0x0789fbffu /* FPU..PGE, CMOV, PAT, PSE36, CLFLUSH, MMX, FXSR, SSE, SSE2 */
#define EDX_APIC          (1u << 9)
/* 0x80000001 */
#define EXT_ECX_LAHF    1u
#define EXT_EDX_SYSCALL (1u << 11)
#define EXT_EDX_NX      (1u << 20)
#define EXT_EDX_RDTSCP  (1u << 27)
#define EXT_EDX_LM      (1u << 29)

static void signature(uint32_t out[4], uint32_t max_leaf)
{
	static const char sig[12] = {'K', 'V', 'M', 'K', 'V', 'M', 'K', 'V', 'M', 0, 0, 0};

	out[0] = max_leaf;
	memcpy(&out[1], sig, 4);
	memcpy(&out[2], sig + 4, 4);
	memcpy(&out[3], sig + 8, 4);
}

static void basic(struct kvm_vcpu *kv, uint32_t leaf, uint32_t out[4])
{
	static const char vendor[12] = {'G', 'e', 'n', 'u', 'i', 'n', 'e', 'I', 'n', 't', 'e', 'l'};

	if (leaf == 0) {
		out[0] = CPUID_MAX_BASIC;
		memcpy(&out[1], vendor, 4);     /* EBX "Genu" */
		memcpy(&out[3], vendor + 4, 4); /* EDX "ineI" */
		memcpy(&out[2], vendor + 8, 4); /* ECX "ntel" */
	} else if (leaf == 1) {
		out[0] = ICELAKE_SIGNATURE;
		out[1] = (kv->index << 24) | (kv->kvm->n << 16) |
		         (8u << 8); /* APIC ID, count, CLFLUSH */
		out[2] = ECX_SSE3 | ECX_SSSE3 | ECX_CX16 | ECX_SSE41 | ECX_SSE42 | ECX_X2APIC |
		         ECX_POPCNT | ECX_TSC_DEADLINE | ECX_XSAVE | ECX_HYPERVISOR |
		         (kv->kvm->nested ? ECX_VMX : 0); /* nested=1 */
		out[3] = EDX_BASIC | EDX_APIC;
	}
}

static void extended(uint32_t leaf, uint32_t out[4])
{
	if (leaf == 0x80000000u) {
		out[0] = CPUID_MAX_EXT;
	} else if (leaf == 0x80000001u) {
		out[2] = EXT_ECX_LAHF;
		out[3] = EXT_EDX_SYSCALL | EXT_EDX_NX | EXT_EDX_RDTSCP | EXT_EDX_LM;
	} else if (leaf == CPUID_MAX_EXT) {
		out[0] = (48u << 8) | 46u; /* linear bits 48, physical bits 46 */
	}
}

void kvm_cpuid(struct kvm_vcpu *kv, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(kv->kvm->vm);

	(void)subleaf;
	memset(out, 0, 4 * sizeof(uint32_t));
	if (leaf == CPUID_PMU_LEAF)
		kvm_pmu_cpuid(kv, leaf, out);
	else if (leaf <= CPUID_MAX_BASIC)
		basic(kv, leaf, out);
	else if (leaf == KVM_CPUID_SIGNATURE)
		signature(out, kv->kvm->timing_leaf ? CPUID_TIMING_LEAF : KVM_CPUID_FEATURES);
	else if (leaf == CPUID_TIMING_LEAF && kv->kvm->timing_leaf) {
		out[0] = (uint32_t)sc->machine.tsc_khz;
		out[1] = (uint32_t)sc->machine.apic_bus_khz;
	} else if (leaf >= 0x80000000u && leaf <= CPUID_MAX_EXT) {
		extended(leaf, out);
	}
}
