/* Verifies the kvm algorithm's vPMU (hv/kvm/kvm_pmu.c) on small scripted kvm scenarios: CPUID 0xA
 * reports the guest PMU KVM builds (version 2, 8 GP and 3 fixed 48-bit counters on Ice Lake-SP);
 * an enabled counter counts the guest instructions retired between exits; RDPMC at CPL 0 returns
 * without #GP, RDPMC of a missing counter and WRMSR of a reserved bit raise #GP (a script cannot
 * take it: guest_fault); an overflow with INT set delivers the LVTPC vector; PERF_CAPABILITIES
 * faults without CPUID PDCM; snapshots restore the vPMU; pmu_invariants catches a broken vPMU;
 * with two vCPUs each counts its own instructions.
 * State is read through the algorithm's private layout (hv/kvm/kvm_int.h). */
#include <criterion/criterion.h>

#include "../hv/kvm/kvm_int.h"
#include "../models/pmu_int.h"
#include "../sim/vm_int.h"
#include "vm_fixture.h"

#include <stdio.h>
#include <string.h>

#define TEXT_MAX     4096
#define SEL_INST     "0x4300c0" /* EN, OS, USR, INST_RETIRED.ANY */
#define SEL_INST_PMI "0x5300c0" /* ... and INT */
#define X2APIC_ON    "{\"op\":\"wrmsr\",\"msr\":\"0x1b\",\"value\":\"0xfee00c00\"}"
#define SPIV_ON      "{\"op\":\"wrmsr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\"}"

static const char script_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1},"
    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":[%s]%s}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

static void build(struct vm_fixture *f, const char *actions, const char *extra)
{
	char text[TEXT_MAX];

	snprintf(text, sizeof(text), script_fmt, actions, extra ? extra : "");
	fixture_build(f, text, NULL);
	cr_assert(f->vm, "%s: %s", actions, f->err.msg);
}

static struct kvm_vcpu *vcpu0(struct vm_fixture *f)
{
	return &((struct kvm_vm *)f->vm->hv_priv)->vcpus[0];
}

static bool has_finding(struct vm_fixture *f, const char *kind)
{
	const struct hvsim_summary *s = hvsim_vm_summary(f->vm);

	for (size_t i = 0; i < s->n_findings && i < HVSIM_MAX_FINDINGS; i++)
		if (strcmp(s->findings[i].kind, kind) == 0)
			return true;
	return false;
}

/* kvm_init_pmu_capability: version min(host, 2), fixed counters min(host, 3) */
Test(kvm_pmu, cpuid_0a_reports_the_capped_guest_pmu)
{
	struct vm_fixture f;
	uint32_t r[4];

	build(&f, "{\"op\":\"hlt\"}", NULL);
	kvm_cpuid(vcpu0(&f), 0xA, 0, r);
	cr_expect_eq(r[0] & 0xFFFFFF, 0x300802u, "EAX[23:0]: wanted v2, 8 GP of 48 bits, got %#x",
	             r[0]);
	cr_expect_eq(r[3] & 0x1FFF, 0x603u, "EDX[12:0]: wanted 3 fixed of 48 bits, got %#x", r[3]);
	fixture_free(&f);
}

/* SDM 21.2.1.2: INST_RETIRED counts the guest's retired instructions (the engine's count) */
Test(kvm_pmu, counter_counts_guest_instructions)
{
	struct vm_fixture f;
	uint64_t v;

	build(&f,
	      "{\"op\":\"wrmsr\",\"msr\":\"0x186\",\"value\":\"" SEL_INST "\"},"
	      "{\"op\":\"compute\",\"insns\":1000},{\"op\":\"rdmsr\",\"msr\":\"0xc1\"}",
	      NULL);
	fixture_run(&f);
	v = pmu_counter_value(vcpu0(&f)->pmu, false, 0);
	cr_expect(v >= 1000 && v <= 1010,
	          "PMC0: wanted 1000 instructions (+ the exiting ones), got %llu",
	          (unsigned long long)v);
	cr_expect(!has_finding(&f, "guest_fault"), "no #GP wanted");
	fixture_free(&f);
}

/* SDM 21.2: a counter counts the logical processor it belongs to: with two vCPUs each vCPU's PMC0
 * counts its own 1,000 instructions, not the VM's 2,000 (nor nothing, as before per-vCPU counts) */
Test(kvm_pmu, each_vcpu_counts_its_own_instructions)
{
	static const char fmt[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"vcpus\":2},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":["
	    "{\"op\":\"wrmsr\",\"msr\":\"0x186\",\"value\":\"" SEL_INST "\"},"
	    "{\"op\":\"compute\",\"insns\":1000},{\"op\":\"rdmsr\",\"msr\":\"0xc1\"}]}},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	struct vm_fixture f;

	fixture_build(&f, fmt, NULL);
	cr_assert(f.vm, "%s", f.err.msg);
	fixture_run(&f);
	for (unsigned i = 0; i < 2; i++) {
		struct kvm_vcpu *kv = &((struct kvm_vm *)f.vm->hv_priv)->vcpus[i];
		uint64_t v = pmu_counter_value(kv->pmu, false, 0);

		cr_expect(
		    v >= 1000 && v <= 1010,
		    "vCPU %u PMC0: wanted its 1000 instructions (+ the exiting ones), got %llu", i,
		    (unsigned long long)v);
	}
	fixture_free(&f);
}

/* SDM Vol. 2B RDPMC: at CPL 0 RDPMC of an existing counter completes */
Test(kvm_pmu, rdpmc_of_existing_counter_completes)
{
	struct vm_fixture f;

	build(&f, "{\"op\":\"rdpmc\",\"counter\":7},{\"op\":\"rdpmc\",\"counter\":1073741826}",
	      NULL);
	fixture_run(&f);
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\""), 0, "no #GP injection wanted");
	cr_expect(!has_finding(&f, "guest_fault"), "no guest_fault wanted");
	fixture_free(&f);
}

/* SDM Vol. 2B RDPMC: an index past the counters raises #GP(0) */
Test(kvm_pmu, rdpmc_of_missing_counter_raises_gp)
{
	struct vm_fixture f;

	build(&f, "{\"op\":\"rdpmc\",\"counter\":8}", NULL);
	fixture_run(&f);
	cr_expect(has_finding(&f, "guest_fault"), "#GP wanted (guest_fault in a script)");
	fixture_free(&f);
}

/* SDM 21.2.1.1: PERFEVTSEL bits 63:32 are reserved; SDM 21.2.6 (no PDCM: PERF_CAPABILITIES #GP) */
Test(kvm_pmu, reserved_evtsel_and_perf_capabilities_raise_gp)
{
	static const char *const acts[] = {
	    "{\"op\":\"wrmsr\",\"msr\":\"0x186\",\"value\":\"0x100000000\"}",
	    "{\"op\":\"rdmsr\",\"msr\":\"0x345\"}",
	    "{\"op\":\"rdmsr\",\"msr\":\"0x391\"}", /* STATUS_SET: version 4 */
	};

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		struct vm_fixture f;

		build(&f, acts[i], NULL);
		fixture_run(&f);
		cr_expect(has_finding(&f, "guest_fault"), "%s: #GP wanted", acts[i]);
		fixture_free(&f);
	}
}

/* SDM 21.2.1.1 INT, 11.5.1: an overflow with INT set raises a PMI through LVTPC */
Test(kvm_pmu, overflow_delivers_the_lvtpc_vector)
{
	struct vm_fixture f;

	build(&f,
	      X2APIC_ON "," SPIV_ON ","
	                "{\"op\":\"wrmsr\",\"msr\":\"0x834\",\"value\":\"0x40\"},"
	                "{\"op\":\"wrmsr\",\"msr\":\"0xc1\",\"value\":\"0xffffff00\"},"
	                "{\"op\":\"wrmsr\",\"msr\":\"0x186\",\"value\":\"" SEL_INST_PMI "\"},"
	                "{\"op\":\"compute\",\"insns\":1000},{\"op\":\"hlt\"}",
	      ",\"handlers\":{\"0x40\":[{\"op\":\"wrmsr\",\"msr\":\"0x80b\",\"value\":\"0x0\"}]}");
	fixture_run(&f);
	cr_expect_geq(fixture_count(&f, "\"vector\":\"0x40\""), 1,
	              "wanted the PMI vector 0x40:\n%s", f.trace);
	cr_expect(pmu_get_config(vcpu0(&f)->pmu)->version == 2, "guest PMU version 2");
	cr_expect_eq(vcpu0(&f)->pmu->global_status & 1, 1, "GLOBAL_STATUS bit 0 after the wrap");
	fixture_free(&f);
}

/* The snapshot holds the vPMU: a restore brings back its counters */
Test(kvm_pmu, snapshot_restores_the_vpmu)
{
	struct vm_fixture f;
	struct kvm_vm *kvm;
	void *snap;

	build(&f, "{\"op\":\"hlt\"}", NULL);
	kvm = f.vm->hv_priv;
	cr_assert_eq(pmu_msr_write(kvm->vcpus[0].pmu, MSR_IA32_PMC0, 5), PMU_ACCESS_OK, "PMC0");
	snap = kvm_snapshot(kvm);
	cr_assert(snap, "snapshot");
	pmu_msr_write(kvm->vcpus[0].pmu, MSR_IA32_PMC0, 9);
	cr_assert_eq(kvm_restore(kvm, snap), HVSIM_OK, "restore");
	cr_expect_eq(pmu_counter_value(kvm->vcpus[0].pmu, false, 0), 5, "PMC0 restored");
	kvm_snapshot_free(snap);
	fixture_free(&f);
}

/* The named invariant pmu_invariants is the model's pmu_check */
Test(kvm_pmu, pmu_invariants_catches_a_counter_beyond_its_width)
{
	struct vm_fixture f;
	char why[256];
	const char *name;

	build(&f, "{\"op\":\"hlt\"}", NULL);
	cr_expect_null(kvm_check_invariants(f.vm->hv_priv, why, sizeof(why)), "sane at start");
	vcpu0(&f)->pmu->gp_ctr[3] = UINT64_C(1) << 48;
	name = kvm_check_invariants(f.vm->hv_priv, why, sizeof(why));
	cr_expect(name && strcmp(name, "pmu_invariants") == 0, "wanted pmu_invariants, got %s",
	          name ? name : "none");
	fixture_free(&f);
}

/* KVM's perf event overflows in the host and kicks the vCPU: a PMI comes at each wrap while the
 * guest computes, not only at its next exit (here 20,000 instructions, a wrap every 4,096). The
 * handler unmasks LVTPC, which the PMI masked (SDM 11.5.1), as Linux's PMI handler does. */
Test(kvm_pmu, pmi_comes_at_each_wrap_without_guest_exits)
{
	struct vm_fixture f;
	unsigned pmis;

	build(
	    &f,
	    X2APIC_ON "," SPIV_ON ","
	              "{\"op\":\"wrmsr\",\"msr\":\"0x834\",\"value\":\"0xfe\"},"
	              "{\"op\":\"wrmsr\",\"msr\":\"0x186\",\"value\":\"" SEL_INST_PMI "\"},"
	              "{\"op\":\"wrmsr\",\"msr\":\"0xc1\",\"value\":\"0xfffff000\"},"
	              "{\"op\":\"compute\",\"insns\":20000}",
	    ",\"handlers\":{\"0xfe\":[{\"op\":\"wrmsr\",\"msr\":\"0xc1\",\"value\":\"0xfffff000\"},"
	    "{\"op\":\"wrmsr\",\"msr\":\"0x834\",\"value\":\"0xfe\"}," /* unmask LVTPC */
	    "{\"op\":\"wrmsr\",\"msr\":\"0x80b\",\"value\":\"0x0\"}]}");
	fixture_run(&f);
	pmis = fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0xfe\"");
	cr_expect_eq(pmis, 4, "wanted 4 PMIs (20000 / 4096), got %u:\n%s", pmis, f.trace);
	fixture_free(&f);
}
