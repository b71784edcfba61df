/* Verifies instruction fetches, and accesses by instructions other than MOV, that reach
 * guest-physical pages with no RAM behind them, on a code guest (Unicorn) under the kvm algorithm:
 * each is an EPT violation (SDM 28.2.1 Table 28-7: bit 2 for a fetch, bit 1 for a write), KVM
 * faults a page the host zapped back in and the instruction runs, as KVM's MMU does after its
 * notifiers took a page away; a fetch from emulated MMIO is an emulation failure KVM cannot get
 * past (KVM_EXIT_INTERNAL_ERROR), and hvsim's kvm emulates no instruction but MOV; an event
 * delivery reading its IDT gate from a zapped page exits the same way and is re-injected. Each
 * test builds a VM around inline 64-bit code at 0x8000 or a built guest program
 * (test_vcpu_util.h). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <hvsim/hv_registry.h>

#include <stdio.h>

#define MACHINE "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 1}"

#define LOOP "b9 40 0d 03 00 ff c9 75 fc f4"

/* The run's summary, with the given events. */
static struct hvsim_summary run_loop(struct tv *t, const char *events)
{
	char extra[512];

	snprintf(extra, sizeof(extra),
	         MACHINE ", \"events\": [%s], \"limits\": "
	                 "{\"virtual_ns\": 2000000}",
	         events);
	t->hv = hvsim_hv_builtin("kvm");
	cr_assert(tv_open_code(t, "long", LOOP, extra), "%s", t->err.msg);
	tv_run(t);
	return *hvsim_vm_summary(t->vm);
}

/* mov ecx, 200000; loop: dec ecx; jnz loop; hlt. The host zaps the code page at 50 us, while
 * the loop runs: the next fetch exits, KVM faults the page in, and the loop runs to the HLT,
 * every instruction once, as without the zap. */
Test(kvm_ept_access, fetch_from_a_zapped_code_page_faults_it_back_in)
{
	struct tv t = {0}, plain = {0};
	struct hvsim_summary sum = run_loop(&t, "{\"at_ns\": 50000, \"host\": {\"action\": "
	                                        "\"ept_zap\", \"arg\": \"0x8000\"}}");
	struct hvsim_summary want = run_loop(&plain, "");

	cr_expect(tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\",\"rip\":\"0x8005\","
	                           "\"gpa\":\"0x8005\",\"dir\":\"fetch\"") ||
	              tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\",\"rip\":\"0x8007\","
	                               "\"gpa\":\"0x8007\",\"dir\":\"fetch\""),
	          "a fetch EPT violation inside the loop:\n%s", t.trace);
	cr_expect(tv_trace_has(&t, "\"ev\":\"ept_fault_in\",\"gpa\":\"0x8000\""), "%s", t.trace);
	cr_expect_eq(sum.exits_by_reason[EXIT_REASON_HLT], 1, "the loop reaches its HLT\n%s",
	             t.trace);
	cr_expect_eq(sum.instructions, want.instructions, "instructions %llu, without the zap %llu",
	             (unsigned long long)sum.instructions, (unsigned long long)want.instructions);
	cr_expect(!tv_trace_has(&t, "guest_bad_access") && !tv_trace_has(&t, "guest_fault"),
	          "no fault finding:\n%s", t.trace);
	tv_close(&t);
	tv_close(&plain);
}

/* mov eax, 0xfec00000; jmp rax: code fetched from the I/O APIC window, which KVM emulates. */
Test(kvm_ept_access, fetch_from_emulated_mmio_is_an_emulation_failure)
{
	struct tv t = {.hv = hvsim_hv_builtin("kvm")};

	cr_assert(tv_open_code(&t, "long", "b8 00 00 c0 fe ff e0 f4", MACHINE), "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\",\"rip\":\"0xfec00000\","
	                           "\"gpa\":\"0xfec00000\",\"dir\":\"fetch\""),
	          "%s", t.trace);
	cr_expect(tv_trace_has(&t, "instruction fetch from MMIO at 0xfec00000: emulation failure"),
	          "%s", t.trace);
	cr_expect_eq(hvsim_vm_summary(t.vm)->exits_by_reason[EXIT_REASON_HLT], 0, "%s", t.trace);
	tv_close(&t);
}

/* Without VMX (the recording test algorithm), nothing takes the fetch: the vCPU ends with
 * guest_bad_access, naming the address. */
Test(kvm_ept_access, fetch_from_mmio_without_vmx_is_a_bad_access)
{
	struct tv t = {0};

	cr_assert(tv_open_code(&t, "long", "b8 00 00 c0 fe ff e0 f4", ""), "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"guest_bad_access\"") &&
	              tv_trace_has(&t, "instruction fetch from MMIO at 0xfec00000"),
	          "%s", t.trace);
	tv_close(&t);
}

/* mov rsp, 0x10000; push rax; pop rbx; hlt, with the stack page 0xf000 zapped before the guest
 * runs: the PUSH is an EPT violation for a write, KVM faults the page in, and PUSH, POP and HLT
 * run. */
Test(kvm_ept_access, push_onto_a_zapped_stack_page_faults_it_back_in)
{
	struct tv t = {.hv = hvsim_hv_builtin("kvm")};

	cr_assert(tv_open_code(&t, "long", "48 bc 00 00 01 00 00 00 00 00 50 5b f4",
	                       MACHINE ", \"events\": [{\"at_ns\": 0, \"host\": {\"action\": "
	                               "\"ept_zap\", \"arg\": \"0xf000\"}}]"),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\",\"rip\":\"0x800a\","
	                           "\"gpa\":\"0xfff8\",\"dir\":\"write\""),
	          "%s", t.trace);
	cr_expect(tv_trace_has(&t, "\"ev\":\"ept_fault_in\",\"gpa\":\"0xf000\""), "%s", t.trace);
	cr_expect_eq(hvsim_vm_summary(t.vm)->exits_by_reason[EXIT_REASON_HLT], 1, "%s", t.trace);
	cr_expect(!tv_trace_has(&t, "guest_fault"), "%s", t.trace);
	tv_close(&t);
}

/* mov eax, 0xfec00000; add dword [rax], 1: a read-modify-write of the I/O APIC window, which
 * KVM's emulator would carry out and hvsim's kvm does not: an EPT violation for a write, then a
 * guest_fault naming the limit. */
Test(kvm_ept_access, add_to_emulated_mmio_stops_with_a_guest_fault)
{
	struct tv t = {.hv = hvsim_hv_builtin("kvm")};

	cr_assert(tv_open_code(&t, "long", "b8 00 00 c0 fe 83 00 01 f4", MACHINE), "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\",\"rip\":\"0x8005\","
	                           "\"gpa\":\"0xfec00000\",\"dir\":\"write\""),
	          "%s", t.trace);
	cr_expect(tv_trace_has(&t, "by an instruction other than MOV at rip 0x8005 (hvsim's kvm "
	                           "does not emulate it)"),
	          "%s", t.trace);
	tv_close(&t);
}

/* Without VMX the same ADD ends the vCPU with the guest_fault it always had. */
Test(kvm_ept_access, add_to_mmio_without_vmx_is_a_guest_fault)
{
	struct tv t = {0};

	cr_assert(tv_open_code(&t, "long", "b8 00 00 c0 fe 83 00 01 f4", ""), "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "an MMIO access by an instruction other than MOV (not emulated) "
	                           "at rip 0x8005"),
	          "%s", t.trace);
	tv_close(&t);
}

/* The Directed EOI guest (split irqchip) fills its IDT, then the host zaps the IDT page: the
 * delivery of the level interrupt at 100 us reads its gate there first (SDM 6.12.1), an EPT
 * violation for a read with the event in the IDT-vectoring information (SDM 28.2.3); KVM faults
 * the page in and re-injects the vector, which the guest then takes. */
Test(kvm_ept_access, idt_gate_read_from_a_zapped_page_exits_and_is_reinjected)
{
	struct tv t = {.hv = hvsim_hv_builtin("kvm")};

	cr_assert(tv_load_program(&t, "directed_eoi"),
	          "scenarios/guest/directed_eoi.bin (make build)");
	cr_assert(tv_open_program(
	              &t, "long",
	              "\"machine\": {\"cpu\": \"intel-icelake-server\", \"memory_mib\": 4, "
	              "\"irqchip\": \"split\"}, \"events\": [{\"at_ns\": 50000, \"host\": "
	              "{\"action\": \"ept_zap\", \"arg\": \"0x2000\"}}, {\"at_ns\": 100000, "
	              "\"irq_line\": {\"gsi\": 10, \"level\": 1}}], \"limits\": {\"virtual_ns\": "
	              "200000}"),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"qual\":\"0x1\",\"idt_vectoring\":\"0x80000051\"") &&
	              tv_trace_has(&t, "\"reason\":\"EPT_VIOLATION\""),
	          "%s", t.trace);
	cr_expect(tv_trace_has(&t, "\"ev\":\"ept_fault_in\",\"gpa\":\"0x2000\""), "%s", t.trace);
	cr_expect(tv_trace_has(&t, "\"ev\":\"inject\",\"vector\":\"0x51\""), "%s", t.trace);
	cr_expect(!tv_trace_has(&t, "guest_fault"), "%s", t.trace);
	tv_close(&t);
}

/* mov rsp, 0xfec00100; mov ecx, 0x12345; rdmsr: KVM injects #GP for the unknown MSR, and the
 * delivery pushes its frame onto the I/O APIC window: an EPT violation with the #GP in the
 * IDT-vectoring information, which KVM cannot emulate (KVM_INTERNAL_ERROR_DELIVERY_EV). */
Test(kvm_ept_access, delivery_onto_emulated_mmio_is_a_guest_fault)
{
	struct tv t = {.hv = hvsim_hv_builtin("kvm")};

	cr_assert(tv_open_code(&t, "long", "48 bc 00 01 c0 fe 00 00 00 00 b9 45 23 01 00 0f 32 f4",
	                       MACHINE),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_expect(tv_trace_has(&t, "\"idt_vectoring\":\"0x80000b0d\""), "%s", t.trace);
	cr_expect(tv_trace_has(&t, "an event delivery touched MMIO at 0xfec000d0 "
	                           "(KVM_INTERNAL_ERROR_DELIVERY_EV)"),
	          "%s", t.trace);
	cr_expect(!tv_trace_has(&t, "hv_error"), "%s", t.trace);
	tv_close(&t);
}
