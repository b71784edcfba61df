/* The kvm algorithm's vPMU, as KVM's pmu.c and vmx/pmu_intel.c emulate one, on the PMU model: a
 * guest PMU from the host profile capped as kvm_init_pmu_capability caps it (v2, 8 GP and 3 fixed
 * counters, FW_WRITE only); PMU MSR and RDPMC exits emulated on it (#GP where it refuses); guest
 * instructions retired counted at every exit (as instructions, and as core and reference cycles at
 * insn_ns each) and at an overflow timer armed at the predicted wrap (KVM's host perf event
 * overflowing); a PMI through LVTPC (kvm_pmu_deliver_pmi). Each vCPU counts its own instructions
 * (hvsim_vcpu_instructions). Left out: branch, cache and slot events (the engine does not report
 * them) and perf_event sampling skid. */
#include "kvm_int.h"

#include <hvsim/vm.h>

#include <string.h>

#define GUEST_PMU_VERSION 2                      /* kvm_pmu_cap.version = min(version, 2) */
#define GUEST_FIXED_MAX   3                      /* fixed counters without the mediated vPMU */
#define GUEST_EVENTS_MAX  7                      /* CPUID.0AH:EAX[31:24] for a v2 guest */
#define HOST_PMU_DEFAULT  "intel-icelake-server" /* kvm-nested describes an Ice Lake-SP host */
#define CR4_PCE           (UINT64_C(1) << 8)
#define AR_DPL(ar)        ((unsigned)((ar) >> 5) & 3u)
#define NS_PER_MS         UINT64_C(1000000)
#define PMU_ARM_MAX_INSNS (UINT64_C(1) << 40) /* farther wraps: predicted again at later exits */

/* The guest PMU KVM builds from the host's (kvm_init_pmu_capability, intel_pmu_refresh). */
static void guest_config(const char *cpu, struct pmu_config *c)
{
	if (!cpu || pmu_profile(cpu, c) != HVSIM_OK || c->vendor != PMU_VENDOR_INTEL)
		pmu_profile(HOST_PMU_DEFAULT, c);
	if (c->version > GUEST_PMU_VERSION)
		c->version = GUEST_PMU_VERSION;
	if (c->n_fixed > GUEST_FIXED_MAX)
		c->n_fixed = GUEST_FIXED_MAX;
	if (c->n_events > GUEST_EVENTS_MAX)
		c->n_events = GUEST_EVENTS_MAX;
	c->perf_capabilities &= PMU_CAP_FW_WRITE; /* vmx_get_perf_capabilities without LBR/PEBS */
}

enum hvsim_status kvm_pmu_create(struct kvm_vcpu *kv)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(kv->kvm->vm);
	struct pmu_config c;
	struct hvsim_error err;

	guest_config(sc->machine.cpu, &c);
	return pmu_create(&c, &kv->pmu, &err);
}

void kvm_pmu_cpuid(struct kvm_vcpu *kv, uint32_t leaf, uint32_t out[4])
{
	if (kv->pmu)
		pmu_cpuid(pmu_get_config(kv->pmu), leaf, 0, out);
}

/* The guest's CPL: SS.DPL (SDM 5.5, "the CPL is ... the DPL of SS"). */
static unsigned guest_cpl(struct kvm_vcpu *kv)
{
	return AR_DPL(kvm_vmcs_read(kv, VMCS_GUEST_SS_AR_BYTES));
}

/* kvm_pmu_deliver_pmi: the overflow interrupt through LVTPC (SDM 21.2.1.1 INT, 11.5.1). */
static void deliver_pmi(struct kvm_vcpu *kv)
{
	struct lapic_result res;

	kvm_apicv_pull(kv);
	lapic_lvt_fire(kv->lapic, LAPIC_LVT_PMC, &res);
	kvm_lapic_after(kv, &res);
	kvm_apicv_push(kv);
}

/* Unhalted cycles at the TSC rate of n instructions of insn_ns each. */
static uint64_t cycles_of(uint64_t n, const struct hvsim_scenario *sc)
{
	uint64_t ns = n * sc->machine.insn_ns;

	return ns / NS_PER_MS * sc->machine.tsc_khz +
	       ns % NS_PER_MS * sc->machine.tsc_khz / NS_PER_MS;
}

/* Guest instructions (at insn_ns each) until the TSC-rate cycle count reaches cycles, rounded up.
 */
static uint64_t insns_for_cycles(uint64_t cycles, const struct hvsim_scenario *sc)
{
	uint64_t khz = sc->machine.tsc_khz ? sc->machine.tsc_khz : 1;
	uint64_t ns = cycles / khz * NS_PER_MS + ((cycles % khz) * NS_PER_MS + khz - 1) / khz;

	return ns / sc->machine.insn_ns + 1;
}

/* The guest instructions until the next interrupting wrap of any counter; false when none. */
static bool next_pmi_insns(struct kvm_vcpu *kv, const struct hvsim_scenario *sc, uint64_t *n)
{
	unsigned cpl = guest_cpl(kv);
	bool found = pmu_next_pmi(kv->pmu, PMU_EV_INSTRUCTIONS, cpl, n);
	enum pmu_event cycles[] = {PMU_EV_CORE_CYCLES, PMU_EV_REF_CYCLES};
	uint64_t c;

	for (unsigned i = 0; i < 2; i++) {
		if (!pmu_next_pmi(kv->pmu, cycles[i], cpl, &c))
			continue;
		c = insns_for_cycles(c, sc);
		*n = found && *n < c ? *n : c;
		found = true;
	}
	return found;
}

static void disarm(struct kvm_vcpu *kv)
{
	if (kv->pmu_timer)
		hvsim_timer_cancel(kv->kvm->vm, kv->pmu_timer);
	kv->pmu_timer = 0;
}

/* (Re)arms the overflow timer at the predicted wrap, as KVM programs the perf event's period. */
static void arm_overflow(struct kvm_vcpu *kv)
{
	hvsim_vm *vm = kv->kvm->vm;
	const struct hvsim_scenario *sc = hvsim_vm_scenario(vm);
	uint64_t n, now = hvsim_vcpu_now(kv->v);

	disarm(kv);
	if (!next_pmi_insns(kv, sc, &n) || n > PMU_ARM_MAX_INSNS)
		return;
	kv->pmu_timer =
	    hvsim_timer_arm(vm, now + n * sc->machine.insn_ns, kv->v, COOKIE_PMU_OVERFLOW);
}

void kvm_pmu_overflow_timer(struct kvm_vcpu *kv)
{
	kv->pmu_timer = 0;
	kvm_pmu_account(kv);
}

void kvm_pmu_account(struct kvm_vcpu *kv)
{
	hvsim_vm *vm = kv->kvm->vm;
	uint64_t total = hvsim_vcpu_instructions(kv->v), n = total - kv->pmu_insns;
	const struct hvsim_scenario *sc = hvsim_vm_scenario(vm);
	struct pmu_count_result r;
	unsigned cpl;
	bool pmi;

	kv->pmu_insns = total;
	if (!kv->pmu)
		return;
	if (!pmu_counting(kv->pmu)) { /* nothing counts: no count, no overflow to arm */
		disarm(kv);
		return;
	}
	if (n == 0) {
		arm_overflow(kv);
		return;
	}
	cpl = guest_cpl(kv);
	pmu_count(kv->pmu, PMU_EV_INSTRUCTIONS, n, cpl, &r);
	pmi = r.pmi;
	pmu_count(kv->pmu, PMU_EV_CORE_CYCLES, cycles_of(n, sc), cpl, &r);
	pmi |= r.pmi;
	pmu_count(kv->pmu, PMU_EV_REF_CYCLES, cycles_of(n, sc), cpl, &r);
	if (pmi || r.pmi)
		deliver_pmi(kv);
	arm_overflow(kv);
}

bool kvm_pmu_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value, bool *ok)
{
	if (!kv->pmu || !pmu_msr_owned(kv->pmu, msr))
		return false;
	/* vmx_get_msr: a guest without CPUID PDCM (kvm_cpuid.c sets none) cannot read it */
	*ok =
	    msr != MSR_IA32_PERF_CAPABILITIES && pmu_msr_read(kv->pmu, msr, value) == PMU_ACCESS_OK;
	return true;
}

bool kvm_pmu_msr_write(struct kvm_vcpu *kv, uint32_t msr, uint64_t value, bool *ok)
{
	if (!kv->pmu || !pmu_msr_owned(kv->pmu, msr))
		return false;
	*ok = pmu_msr_write(kv->pmu, msr, value) == PMU_ACCESS_OK;
	if (*ok && kv->kvm->n == 1)
		arm_overflow(kv); /* reprogram_counter: a new period */
	return true;
}

/* kvm_emulate_rdpmc: #GP as the model says (CR4.PCE/CPL, index), else EDX:EAX and skip. */
void kvm_pmu_rdpmc(struct kvm_vcpu *kv)
{
	uint32_t ecx = (uint32_t)hvsim_vcpu_gpr(kv->v, GPR_RCX);
	bool pce = kvm_vmcs_read(kv, VMCS_GUEST_CR4) & CR4_PCE;
	uint64_t value;

	if (!kv->pmu || pmu_rdpmc(kv->pmu, ecx, guest_cpl(kv), pce, &value) != PMU_ACCESS_OK) {
		kvm_inject_gp(kv);
		return;
	}
	hvsim_vcpu_set_gpr(kv->v, GPR_RAX, (uint32_t)value);
	hvsim_vcpu_set_gpr(kv->v, GPR_RDX, value >> 32);
	kvm_skip_instruction(kv);
}
