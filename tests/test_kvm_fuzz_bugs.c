/* Regression tests for the bugs fuzz_hv_transitions found in the engine and the kvm algorithm
 * (docs/fuzzing.md "Findings"). Each test runs a small kvm scenario that does the one thing the bug
 * was about and checks what the rule named above it gives; scenarios/regress/kvm-guest-writes-gp
 * replays the same writes as a code guest with a #GP handler. */
#include <criterion/criterion.h>

#include "vm_fixture.h"

#include <stdio.h>
#include <string.h>

#define TEXT_MAX 4096

static const char script_fmt[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1},"
    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":[%s]}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

static void run_script(struct vm_fixture *f, const char *actions)
{
	char text[TEXT_MAX];

	snprintf(text, sizeof(text), script_fmt, actions);
	fixture_build(f, text, NULL);
	cr_assert(f->vm, "%s: %s", actions, f->err.msg);
	fixture_run(f);
}

/* Builds the whole scenario text under kvm and runs it to its end. */
static void run_text(struct vm_fixture *f, const char *text)
{
	fixture_build(f, text, NULL);
	cr_assert(f->vm, "%s", f->err.msg);
	fixture_run(f);
}

static void assert_no_finding(const struct vm_fixture *f)
{
	const struct hvsim_summary *s = hvsim_vm_summary(f->vm);

	cr_assert_eq(s->n_findings, 0, "wanted no finding, got %s: %s",
	             s->n_findings ? s->findings[0].kind : "",
	             s->n_findings ? s->findings[0].detail : "");
}

/* A scripted guest has handlers for vectors 32..255 only, so an exception finds no gate; on
 * hardware that ends in a triple fault (SDM 6.15 "#NP", "#DF"). The script backend returned at
 * once instead, the faulting action ran again, and the #GP repeated forever without virtual time
 * passing (a MOV to CR4 setting a reserved bit, which the processor refuses without an exit:
 * 1,000,000 deliveries a slice). */
Test(kvm_fuzz_bugs, script_exception_without_a_handler_stops_the_vcpu)
{
	struct vm_fixture f;
	const struct hvsim_summary *s;

	run_script(&f, "{\"op\":\"mov_cr\",\"cr\":4,\"value\":\"0x80050033\"},{\"op\":\"hlt\"}");
	s = hvsim_vm_summary(f.vm);
	cr_assert_eq(fixture_count(&f, "\"ev\":\"inject\""), 1, "wanted one #GP delivery, got %u",
	             fixture_count(&f, "\"ev\":\"inject\""));
	cr_assert(s->n_findings == 1 && strcmp(s->findings[0].kind, "guest_fault") == 0,
	          "wanted one guest_fault, got %zu findings (%s)", s->n_findings,
	          s->n_findings ? s->findings[0].kind : "none");
	fixture_free(&f);
}

/* kvm_set_cr0, kvm_set_cr4, set_efer and kvm_pat_valid refuse these writes with #GP (SDM Vol. 2B
 * "MOV—Move to/from Control Registers", "WRMSR"; SDM 12.12.2 "IA32_PAT MSR"): the kvm algorithm
 * copied them into the VMCS and the next VM entry failed. Each now ends the script with the #GP
 * it cannot take (guest_fault), never with vmentry_failure. */
Test(kvm_fuzz_bugs, refused_writes_raise_gp_instead_of_failing_the_entry)
{
	static const char *const writes[] = {
	    "{\"op\":\"mov_cr\",\"cr\":0,\"value\":\"0x180000011\"}",    /* CR0 bit 32 */
	    "{\"op\":\"mov_cr\",\"cr\":0,\"value\":\"0xa0000011\"}",     /* NW without CD */
	    "{\"op\":\"mov_cr\",\"cr\":4,\"value\":\"0x2620\"}",         /* VMXE, no VMX in CPUID */
	    "{\"op\":\"wrmsr\",\"msr\":\"0x277\",\"value\":\"0x4132\"}", /* PAT type 0x32 */
	    "{\"op\":\"wrmsr\",\"msr\":\"0xc0000080\",\"value\":\"0xd03\"}", /* EFER bit 1 */
	    "{\"op\":\"wrmsr\",\"msr\":\"0xc0000080\",\"value\":\"0x401\"}", /* LME off, paging on
	                                                                      */
	};

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		struct vm_fixture f;
		const struct hvsim_summary *s;

		run_script(&f, writes[i]);
		s = hvsim_vm_summary(f.vm);
		cr_assert(s->n_findings == 1 && strcmp(s->findings[0].kind, "guest_fault") == 0 &&
		              fixture_count(&f, "\"vector\":\"0xd\"") == 1,
		          "%s: wanted one #GP and a guest_fault, got %zu findings, first %s",
		          writes[i], s->n_findings, s->n_findings ? s->findings[0].kind : "none");
		fixture_free(&f);
	}
}

/* The accepted forms of the same writes still complete: EFER with LMA given as 0 keeps LMA (the
 * processor's), PAT with valid types, CR0 clearing the host-owned NE. */
Test(kvm_fuzz_bugs, valid_writes_still_complete)
{
	struct vm_fixture f;

	run_script(&f, "{\"op\":\"wrmsr\",\"msr\":\"0xc0000080\",\"value\":\"0x901\"},"
	               "{\"op\":\"wrmsr\",\"msr\":\"0x277\",\"value\":\"0x7040600070406\"},"
	               "{\"op\":\"mov_cr\",\"cr\":0,\"value\":\"0x80000011\"},{\"op\":\"cpuid\","
	               "\"leaf\":\"0x1\"}");
	assert_no_finding(&f);
	cr_assert_eq(fixture_count(&f, "guest_done"), 1, "the script ran to its end");
	fixture_free(&f);
}

/* SDM 26.3 "Changes to Instruction Behavior in VMX Non-Root Operation": a MOV to CR4 that does not
 * exit leaves the bits the CR4 guest/host mask owns unchanged. The vCPU layer let the backend
 * re-run the guest's own MOV, which cleared CR4.VMXE (owned by KVM); the VM exit saved that, and
 * the next VMRESUME failed vmx_check_guest_cr4_fixed0. */
Test(kvm_fuzz_bugs, non_exiting_mov_to_cr4_keeps_the_host_owned_vmxe)
{
	static const char text[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":2},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"mode\":\"long\",\"bytes\":"
	    "\"48 c7 c0 20 00 00 00 0f 22 e0 0f a2 0f a2 b0 00 e6 f4\"},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	struct vm_fixture f;

	run_text(&f, text);
	assert_no_finding(&f);
	cr_assert_eq(hvsim_vm_summary(f.vm)->exits_by_reason[EXIT_REASON_CPUID], 2,
	             "both CPUIDs exit and resume");
	fixture_free(&f);
}

/* With APICv active, KVM updates SVI whenever its own emulation changes ISR (apic_clear_isr ->
 * vmx_hwapic_isr_update), as the processor's EOI virtualization would (SDM 30.1.4). The kvm
 * algorithm emulates an EOI written through the xAPIC page (it does not model the APIC-access
 * page) and left SVI on the vector it cleared: invariant apicv_svi broke, and PPR virtualization
 * (from SVI, SDM 30.1.3) then held back the next interrupt of that class. */
Test(kvm_fuzz_bugs, emulated_eoi_with_apicv_active_moves_svi)
{
	static const char text[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"apicv\":true},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":["
	    "{\"op\":\"mmio_write\",\"gpa\":\"0xfee000f0\",\"size\":4,\"value\":\"0x1ff\"},"
	    "{\"op\":\"mmio_write\",\"gpa\":\"0xfee00300\",\"size\":4,\"value\":\"0x44050\"},"
	    "{\"op\":\"compute\",\"insns\":10},"
	    "{\"op\":\"mmio_write\",\"gpa\":\"0xfee00300\",\"size\":4,\"value\":\"0x44050\"},"
	    "{\"op\":\"compute\",\"insns\":10}],"
	    "\"handlers\":{\"0x50\":[{\"op\":\"mmio_write\",\"gpa\":\"0xfee000b0\",\"size\":4,"
	    "\"value\":0}]}}},\"oracles\":{\"invariants\":{\"enabled\":true}},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	struct vm_fixture f;
	const struct hvsim_summary *s;

	run_text(&f, text);
	s = hvsim_vm_summary(f.vm);
	assert_no_finding(&f);
	cr_assert_eq(s->injections, 2, "both self-IPIs of vector 0x50 are delivered, got %llu",
	             (unsigned long long)s->injections);
	fixture_free(&f);
}

/* "KVM: VMX: Update SVI during runtime APICv activation" (apicv_activation_svi "update") calls
 * vmx_hwapic_isr_update with the highest in-service vector, and -1 (none) becomes SVI 0. The kvm
 * algorithm updated SVI only when some vector was in service, so a guest that EOIed its interrupt
 * while APICv was inhibited came back with the stale SVI: invariant apicv_svi broke (found by
 * fuzz_hv_transitions). Vector 0x50 is in service when APICv is inhibited and EOIed before it is
 * activated again. */
Test(kvm_fuzz_bugs, apicv_activation_with_nothing_in_service_clears_svi)
{
	static const char text[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"apicv\":true},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\",\"quirks\":{\"apicv_activation_svi\":\"update\"}"
	    "},"
	    "\"guest\":{\"script\":{\"main\":["
	    "{\"op\":\"wrmsr\",\"msr\":\"0x1b\",\"value\":\"0xfee00c00\"},"
	    "{\"op\":\"wrmsr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\"},"
	    "{\"op\":\"wrmsr\",\"msr\":\"0x83f\",\"value\":\"0x50\"},"
	    "{\"op\":\"compute\",\"insns\":30000}],"
	    "\"handlers\":{\"0x50\":[{\"op\":\"compute\",\"insns\":10000},"
	    "{\"op\":\"wrmsr\",\"msr\":\"0x80b\",\"value\":\"0x0\"}]}}},"
	    "\"events\":[{\"at_ns\":5000,\"host\":{\"action\":\"apicv_inhibit\"}},"
	    "{\"at_ns\":20000,\"host\":{\"action\":\"apicv_activate\"}}],"
	    "\"oracles\":{\"invariants\":{\"enabled\":true}},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	struct vm_fixture f;

	run_text(&f, text);
	/* at creation and at the activation after the EOI */
	cr_assert_eq(fixture_count(&f, "\"active\":true,\"rvi\":\"0x0\",\"svi\":\"0x0\""), 2,
	             "activation with nothing in service did not set SVI 0:\n%s", f.trace);
	assert_no_finding(&f);
	fixture_free(&f);
}

/* vmx_set_virtual_apic_mode and vmx_update_msr_bitmap_x2apic: x2APIC virtualization and the x2APIC
 * MSR pass-through exist only while the guest's APIC is in x2APIC mode; otherwise an x2APIC MSR
 * access exits and gets #GP (SDM 11.12.1). The kvm algorithm kept both on whatever the mode: a
 * guest that disabled its APIC (IA32_APIC_BASE = 0) still had SELF IPI virtualized into the page,
 * KVM copied the vector into the disabled LAPIC model, and lapic_invariants broke ("a disabled APIC
 * holds no interrupts", SDM 11.4.3). */
Test(kvm_fuzz_bugs, x2apic_msrs_exit_and_fault_outside_x2apic_mode_under_apicv)
{
	static const char *const scripts[] = {
	    "{\"op\":\"rdmsr\",\"msr\":\"0x802\"}", /* xAPIC mode: the ID read faults */
	    "{\"op\":\"wrmsr\",\"msr\":\"0x1b\",\"value\":\"0x0\"},"
	    "{\"op\":\"wrmsr\",\"msr\":\"0x83f\",\"value\":\"0xff\"}", /* disabled: SELF IPI faults
	                                                                */
	};
	static const char fmt[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"apicv\":true},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":[%s]}},"
	    "\"oracles\":{\"invariants\":{\"enabled\":true}},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		char text[TEXT_MAX];
		struct vm_fixture f;
		const struct hvsim_summary *s;

		snprintf(text, sizeof(text), fmt, scripts[i]);
		fixture_build(&f, text, NULL);
		cr_assert(f.vm, "%s", f.err.msg);
		fixture_run(&f);
		s = hvsim_vm_summary(f.vm);
		cr_assert(s->n_findings == 1 && strcmp(s->findings[0].kind, "guest_fault") == 0 &&
		              fixture_count(&f, "\"vector\":\"0xd\"") == 1,
		          "%s: wanted one #GP and a guest_fault, got %zu findings, first %s: %s",
		          scripts[i], s->n_findings, s->n_findings ? s->findings[0].kind : "none",
		          s->n_findings ? s->findings[0].detail : "");
		fixture_free(&f);
	}
}

/* With "unrestricted guest" (SDM 26.3.1.1, 27.3.1.1), GUEST_CR0.PE and PG are the guest's own:
 * kvm forced the VMX-fixed PE and PG on, so a real-mode guest ran with paging on and faulted
 * at its first fetch. And set_efer refuses an EFER.LME change only with paging on (SDM 10.8.5):
 * in real mode, WRMSR EFER.LME = 1 completes without #GP. */
Test(kvm_fuzz_bugs, real_mode_guest_runs_and_sets_efer_lme_with_paging_off)
{
	/* mov ecx, 0xc0000080; mov eax, 0x100; xor edx, edx; wrmsr; out 0xe9, al; hlt */
	static const char text[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":2},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"mode\":\"real\",\"bytes\":"
	    "\"66 b9 80 00 00 c0 66 b8 00 01 00 00 66 31 d2 0f 30 e6 e9 f4\"},"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":1000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	const struct hvsim_summary *sum;
	struct vm_fixture f;

	run_text(&f, text);
	sum = hvsim_vm_summary(f.vm);
	cr_assert_eq(sum->exits_by_reason[EXIT_REASON_IO_INSTRUCTION], 1,
	             "the OUT after the WRMSR exits (%llu instructions, finding %s)",
	             (unsigned long long)sum->instructions,
	             sum->n_findings ? sum->findings[0].detail : "none");
	cr_assert_eq(sum->injections, 0, "no #GP: %u inject lines",
	             fixture_count(&f, "\"inject\""));
	fixture_free(&f);
}

/* Zapping a page that is already zapped is a no-op, as KVM's MMU notifier invalidating an absent
 * SPTE is. The kvm algorithm keeps a zapped page in one of its engine MMIO slots; once an earlier
 * slot had freed up (its page faulted back in), a second zap of a page held by a later slot took
 * the free slot, the engine refused the overlapping region, and the host action failed
 * (hv_error). Zap A, zap B, the guest touches A (fault-in frees A's slot), zap B again. */
Test(kvm_fuzz_bugs, zapping_a_zapped_page_again_after_another_faulted_in_is_a_no_op)
{
	static const char text[] =
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":["
	    "{\"op\":\"compute\",\"insns\":2500},"
	    "{\"op\":\"mmio_write\",\"gpa\":\"0x10000\",\"size\":4,\"value\":\"0x1\"},"
	    "{\"op\":\"compute\",\"insns\":3000},{\"op\":\"hlt\"}]}},"
	    "\"events\":[{\"at_ns\":1000,\"host\":{\"action\":\"ept_zap\",\"arg\":\"0x10000\"}},"
	    "{\"at_ns\":2000,\"host\":{\"action\":\"ept_zap\",\"arg\":\"0x11000\"}},"
	    "{\"at_ns\":4000,\"host\":{\"action\":\"ept_zap\",\"arg\":\"0x11000\"}}],"
	    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
	    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";
	struct vm_fixture f;

	run_text(&f, text);
	cr_expect_eq(fixture_count(&f, "\"ev\":\"ept_fault_in\",\"gpa\":\"0x10000\""), 1,
	             "page A was not faulted in by the guest's write");
	cr_expect_eq(fixture_count(&f, "\"kind\":\"hv_error\""), 0,
	             "the second zap of page B was rejected (hv_error)");
	fixture_free(&f);
}
