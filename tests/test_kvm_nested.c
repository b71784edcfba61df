/* Verifies nested VMX in the kvm algorithm (hv/kvm/kvm_nested.c) end to end: real L1 programs
 * execute VMX instructions, which exit to KVM (SDM 26.1.2); KVM decodes the operand from the
 * VM-exit instruction information and emulates the instruction with the outcome of SDM ch. 31
 * (VMsucceed, VMfailInvalid, VMfailValid with the VM-instruction error of SDM 31.4, #UD, #GP).
 * The L1 programs report each result on port 0xe9 (scenarios/guest/nvmx_probe.S lists the probes;
 * nvmx_hlt.S launches an L2). Entries are checked twice: KVM's decision is what L1 gets, the
 * nested-entry differential compares it with hardware given what L1 was told. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../hv/kvm/kvm_int.h"

#include <hvsim/hv_registry.h>
#include <hvsim/vmx_ctrl.h>

#include <stdio.h>
#include <string.h>

#define REPORTS_MAX 32
/* nvmx_probe.S report indices (0-based) */
enum {
	P_CPUID_VMX = 0,
	P_CR4_FAULT,
	P_RDMSR_FAULT,
	P_VMX_BASIC,
	P_VMXON_BAD_FAULT,
	P_VMXON_BAD_STATUS,
	P_VMXON,
	P_VMPTRLD,
	P_VMPTRLD_VMXON_STATUS,
	P_VMPTRLD_VMXON_ERROR,
	P_VMREAD_REG,
	P_VMREAD_MEM,
	P_VMPTRST,
	P_VMWRITE_RO_STATUS,
	P_VMWRITE_RO_ERROR,
	P_VMREAD_RSVD_STATUS,
	P_VMREAD_RSVD_ERROR,
	P_VMXOFF,
	P_VMREAD_AFTER_VMXOFF,
};
/* nvmx_hlt.S report indices after VMLAUNCH failed */
enum { H_MISC = 2, H_AFTER_LAUNCH = 6 };
#define ST_FAIL_INVALID     0x1u
#define ST_FAIL_VALID       0x40u
#define VEC_UD              6u
#define VEC_GP              13u
#define KVM_VMCS12_REVISION 0x11e57ed0u /* the kvm-nested profile's IA32_VMX_BASIC[30:0] */

struct run {
	struct tv t;
	uint32_t rep[REPORTS_MAX];
	unsigned n;
};

/* guest_out values in trace order. */
static unsigned reports(const struct tv *t, uint32_t *out, unsigned cap)
{
	static const char key[] = "\"ev\":\"guest_out\",\"value\":\"";
	unsigned n = 0;

	for (const char *p = t->trace; p && (p = strstr(p, key)) && n < cap; p++)
		out[n++] = (uint32_t)strtoull(p + sizeof(key) - 1, NULL, 16);
	return n;
}

/* Runs program under kvm on an Ice Lake machine (machine.nested = nested) with the quirk value
 * and the scenario events given ("" for none). patch, when set, edits the image first. */
static void run_l1(struct run *r, const char *program, bool nested, const char *quirk,
                   const char *events, void (*patch)(struct tv *))
{
	char json[2048];

	memset(r, 0, sizeof(*r));
	r->t.hv = hvsim_hv_builtin("kvm");
	cr_assert(tv_load_program(&r->t, program), "scenarios/guest/%s.bin missing", program);
	if (patch)
		patch(&r->t);
	snprintf(
	    json, sizeof(json),
	    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
	    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":4,\"nested\":%s},"
	    "\"hypervisor\":{\"algorithm\":\"kvm\",\"quirks\":{\"nvmx_vmx_misc_hlt\":\"%s\"}},"
	    "\"guest\":{\"mode\":\"long\",\"program\":\"guest/p.bin\"},\"events\":[%s],"
	    "\"limits\":{\"exits\":2000},\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}",
	    nested ? "true" : "false", quirk, events);
	cr_assert(tv_open(&r->t, json), "%s", r->t.err.msg);
	tv_run(&r->t);
	r->n = reports(&r->t, r->rep, REPORTS_MAX);
}

static uint32_t report(const struct run *r, unsigned i)
{
	cr_assert(i < r->n, "report %u missing (%u reports); trace:\n%s", i, r->n, r->t.trace);
	return r->rep[i];
}

static void probe(struct run *r, bool nested, const char *events)
{
	run_l1(r, "nvmx_probe", nested, "always", events, NULL);
}

#define EXPECT_REPORT(r, i, want, what)                                                     \
	cr_expect_eq(report((r), (i)), (uint32_t)(want), "%s: wanted %#x, got %#x", (what), \
	             (unsigned)(want), report((r), (i)))

/* ---- without nested VMX (KVM's nested=0) ---- */

Test(kvm_nested, cpuid_reports_vmx_only_with_nested)
{
	struct run on, off;

	probe(&on, true, "");
	probe(&off, false, "");
	EXPECT_REPORT(&on, P_CPUID_VMX, 1, "CPUID.1:ECX.VMX with nested");
	EXPECT_REPORT(&off, P_CPUID_VMX, 0, "CPUID.1:ECX.VMX without nested");
	tv_close(&on.t);
	tv_close(&off.t);
}

/* vmx_is_valid_cr4: CR4.VMXE is reserved for a guest without nested VMX: #GP. */
Test(kvm_nested, cr4_vmxe_without_nested_is_gp)
{
	struct run r;

	probe(&r, false, "");
	EXPECT_REPORT(&r, P_CR4_FAULT, VEC_GP, "MOV to CR4 with VMXE");
	tv_close(&r.t);
}

Test(kvm_nested, vmx_msrs_without_nested_are_gp)
{
	struct run r;

	probe(&r, false, "");
	EXPECT_REPORT(&r, P_RDMSR_FAULT, VEC_GP, "RDMSR IA32_VMX_BASIC");
	tv_close(&r.t);
}

/* handle_vmx_instruction: without nested VMX a VMX instruction is #UD. */
Test(kvm_nested, vmxon_without_nested_is_ud)
{
	struct run r;

	probe(&r, false, "");
	EXPECT_REPORT(&r, P_VMXON_BAD_FAULT, VEC_UD, "VMXON");
	tv_close(&r.t);
}

/* ---- with nested VMX ---- */

Test(kvm_nested, cr4_vmxe_with_nested_is_accepted)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_CR4_FAULT, 0, "MOV to CR4 with VMXE");
	tv_close(&r.t);
}

/* SDM A.1: IA32_VMX_BASIC[30:0] is the VMCS revision identifier L1 must use. */
Test(kvm_nested, vmx_basic_reports_the_vmcs12_revision)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_RDMSR_FAULT, 0, "RDMSR IA32_VMX_BASIC fault");
	EXPECT_REPORT(&r, P_VMX_BASIC, KVM_VMCS12_REVISION, "IA32_VMX_BASIC[31:0]");
	tv_close(&r.t);
}

/* SDM 31.3 VMXON: a region whose revision identifier is not IA32_VMX_BASIC[30:0] is
 * VMfailInvalid (CF = 1). */
Test(kvm_nested, vmxon_with_a_bad_revision_is_vmfail_invalid)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMXON_BAD_FAULT, 0, "VMXON fault");
	EXPECT_REPORT(&r, P_VMXON_BAD_STATUS, ST_FAIL_INVALID, "VMXON status");
	tv_close(&r.t);
}

Test(kvm_nested, vmxon_vmclear_vmptrld_succeed)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMXON, 0, "VMXON status");
	EXPECT_REPORT(&r, P_VMPTRLD, 0, "VMCLEAR and VMPTRLD status");
	tv_close(&r.t);
}

/* SDM 31.3 VMPTRLD: the VMXON pointer is VMfailValid(10) (SDM 31.4). */
Test(kvm_nested, vmptrld_of_the_vmxon_pointer_is_error_10)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMPTRLD_VMXON_STATUS, ST_FAIL_VALID, "VMPTRLD status");
	EXPECT_REPORT(&r, P_VMPTRLD_VMXON_ERROR, VMXERR_VMPTRLD_VMXON_POINTER,
	              "VM-instruction error");
	tv_close(&r.t);
}

/* Register operands from the instruction information (reg1, reg2: SDM 28.2.4). */
Test(kvm_nested, vmread_returns_what_vmwrite_wrote_through_registers)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMREAD_REG, 0x1234, "GUEST_RIP read back");
	tv_close(&r.t);
}

/* Memory operands from the instruction information and qualification (get_vmx_mem_address). */
Test(kvm_nested, vmread_and_vmwrite_memory_operands_use_the_decoded_address)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMREAD_MEM, 0x5678, "GUEST_RSP through memory");
	tv_close(&r.t);
}

/* SDM 31.3 VMPTRST: the current-VMCS pointer stored to the m64 operand. */
Test(kvm_nested, vmptrst_stores_the_current_vmcs_pointer)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMPTRST, 0x101000, "VMPTRST");
	tv_close(&r.t);
}

/* SDM 31.3 VMWRITE: a read-only field may be written when IA32_VMX_MISC[29] is set (the
 * kvm-nested profile sets it). */
Test(kvm_nested, vmwrite_to_a_read_only_field_succeeds_with_vmx_misc_bit_29)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMWRITE_RO_STATUS, 0, "VMWRITE VM_EXIT_REASON");
	tv_close(&r.t);
}

/* SDM 31.4 error 13: with IA32_VMX_MISC[29] cleared by userspace, KVM refuses the write
 * (nested_cpu_has_vmwrite_any_field reads what L1 was told). */
Test(kvm_nested, vmwrite_to_a_read_only_field_is_error_13_without_bit_29)
{
	struct run r;

	probe(
	    &r, true,
	    "{\"at_ns\":0,\"host\":{\"action\":\"nested_vmx_misc_clear\",\"arg\":\"0x20000000\"}}");
	EXPECT_REPORT(&r, P_VMWRITE_RO_STATUS, ST_FAIL_VALID, "VMWRITE VM_EXIT_REASON");
	EXPECT_REPORT(&r, P_VMWRITE_RO_ERROR, VMXERR_VMWRITE_READ_ONLY_COMPONENT,
	              "VM-instruction error");
	tv_close(&r.t);
}

/* SDM 31.4 error 12: an encoding with reserved bits names no component. */
Test(kvm_nested, vmread_of_a_reserved_encoding_is_error_12)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMREAD_RSVD_STATUS, ST_FAIL_VALID, "VMREAD 0x8000");
	EXPECT_REPORT(&r, P_VMREAD_RSVD_ERROR, VMXERR_UNSUPPORTED_VMCS_COMPONENT,
	              "VM-instruction error");
	tv_close(&r.t);
}

/* SDM 31.3 VMXOFF leaves VMX operation: VMREAD is then #UD. */
Test(kvm_nested, vmxoff_leaves_vmx_operation)
{
	struct run r;

	probe(&r, true, "");
	EXPECT_REPORT(&r, P_VMXOFF, 0, "VMXOFF status");
	EXPECT_REPORT(&r, P_VMREAD_AFTER_VMXOFF, VEC_UD, "VMREAD after VMXOFF");
	tv_close(&r.t);
}

static const char rejected[] =
    "\"kind\":\"hv_error\",\"detail\":\"the algorithm rejected a host action\"";

/* vmx_set_vmx_msr: userspace may not change the capabilities while L1 is in VMX operation
 * (-EBUSY). The probe program is in VMX operation from about 17 us to 54 us. */
Test(kvm_nested, misc_clear_in_vmx_operation_is_refused)
{
	struct run r;

	probe(&r, true,
	      "{\"at_ns\":30000,\"host\":{\"action\":\"nested_vmx_misc_clear\",\"arg\":\"0x40\"}}");
	cr_expect(tv_trace_has(&r.t, rejected), "no rejected host action in:\n%s", r.t.trace);
	tv_close(&r.t);
}

/* vmx_restore_vmx_misc: the preemption-timer rate may not change (-EINVAL). */
Test(kvm_nested, misc_clear_changing_the_timer_rate_is_refused)
{
	struct run r;

	probe(&r, true,
	      "{\"at_ns\":0,\"host\":{\"action\":\"nested_vmx_misc_clear\",\"arg\":\"0x1\"}}");
	cr_expect(tv_trace_has(&r.t, rejected), "no rejected host action in:\n%s", r.t.trace);
	tv_close(&r.t);
}

/* ---- VMLAUNCH: KVM's decision, and the differential ---- */

static const char clear_hlt[] =
    "{\"at_ns\":0,\"host\":{\"action\":\"nested_vmx_misc_clear\",\"arg\":\"0x40\"}}";

/* Before the fix: L1 is told IA32_VMX_MISC[6] = 0 and still uses HLT; KVM enters (L2 is not
 * simulated: the vCPU stops), hardware would fail the entry (SDM 27.3.1.5). */
Test(kvm_nested, userspace_quirk_enters_what_hardware_rejects)
{
	struct run r;

	run_l1(&r, "nvmx_hlt", true, "userspace", clear_hlt, NULL);
	EXPECT_REPORT(&r, H_MISC, 0x20000125, "IA32_VMX_MISC[31:0] as L1 reads it");
	cr_expect(tv_trace_has(&r.t,
	                       "\"kind\":\"nested_check_mismatch\",\"detail\":\"kvm: entered; "
	                       "hardware: exit 33 qual 0x0 "
	                       "vmx_check_guest_activity_supported\""),
	          "no mismatch finding in:\n%s", r.t.trace);
	cr_expect(tv_trace_has(&r.t, "\"ev\":\"vcpu_stop\",\"reason\":\"nested VM entry: L2 "
	                             "execution is not simulated\""),
	          "the vCPU did not stop at the nested entry");
	tv_close(&r.t);
}

/* The fix: IA32_VMX_MISC[6] is reported whatever userspace set; both checks agree. */
Test(kvm_nested, always_quirk_reports_hlt_and_agrees_with_hardware)
{
	struct run r;

	run_l1(&r, "nvmx_hlt", true, "always", clear_hlt, NULL);
	EXPECT_REPORT(&r, H_MISC, 0x20000165, "IA32_VMX_MISC[31:0] as L1 reads it");
	cr_expect(tv_trace_has(&r.t, "\"agree\":true,\"hv\":\"entered\",\"hw\":\"entered\""),
	          "no agreeing nested_check in:\n%s", r.t.trace);
	cr_expect_not(tv_trace_has(&r.t, "nested_check_mismatch"), "a mismatch was reported");
	tv_close(&r.t);
}

/* Replaces the 16-byte (field, value) pair of nvmx_hlt.S's field table. */
static void patch_pair(struct tv *t, uint64_t field, uint64_t from, uint64_t to)
{
	uint64_t pair[2] = {field, from};

	for (size_t o = 0; o + sizeof(pair) <= t->image_len; o += 8) {
		if (memcmp(t->image_buf + o, pair, sizeof(pair)) == 0) {
			memcpy(t->image_buf + o + 8, &to, sizeof(to));
			return;
		}
	}
	cr_assert_fail("field %#llx = %#llx not found in nvmx_hlt.bin", (unsigned long long)field,
	               (unsigned long long)from);
}

static void activity_shutdown(struct tv *t)
{
	patch_pair(t, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT, ACTIVITY_SHUTDOWN);
}

static void host_cs_zero(struct tv *t)
{
	patch_pair(t, VMCS_HOST_CS_SELECTOR, 0x08, 0);
}

/* SDM 27.8: a guest-state check failure is a VM exit to L1 (reason 33 with bit 31), with L1's
 * host state from vmcs12 loaded: L1 continues at HOST_RIP and reads the exit reason. Shutdown
 * is an activity state neither KVM nor the kvm-nested profile supports. */
Test(kvm_nested, entry_failure_resumes_l1_at_host_rip_with_exit_reason_33)
{
	struct run r;

	run_l1(&r, "nvmx_hlt", true, "always", "", activity_shutdown);
	EXPECT_REPORT(&r, H_AFTER_LAUNCH, 0x80000021, "VM_EXIT_REASON at HOST_RIP");
	EXPECT_REPORT(&r, H_AFTER_LAUNCH + 1, 0, "EXIT_QUALIFICATION at HOST_RIP");
	cr_expect_not(tv_trace_has(&r.t, "nested_check_mismatch"), "a mismatch was reported");
	tv_close(&r.t);
}

/* SDM 27.2.3: HOST_CS_SELECTOR 0 is VMfailValid(8); L1 continues after VMLAUNCH with ZF. */
Test(kvm_nested, host_state_error_is_vmfail_valid_8_to_l1)
{
	struct run r;

	run_l1(&r, "nvmx_hlt", true, "always", "", host_cs_zero);
	EXPECT_REPORT(&r, H_AFTER_LAUNCH, ST_FAIL_VALID, "VMLAUNCH status");
	EXPECT_REPORT(&r, H_AFTER_LAUNCH + 1, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
	              "VM-instruction error");
	tv_close(&r.t);
}

/* L1 copies its CR3 into HOST_CR3: MOV from CR3 without CR3-store exiting executes in the
 * processor (SDM 26.1.3) and reads L1's page-table root (hvsim's, at RAM top - 128 KiB). */
Test(kvm_nested, l1_reads_its_own_cr3_in_vmx_non_root_operation)
{
	struct run r;

	run_l1(&r, "nvmx_hlt", true, "always", "", NULL);
	cr_expect(
	    tv_trace_has(&r.t, "\"insn\":\"vmwrite\",\"field\":\"0x6c02\",\"value\":\"0x3e0000\""),
	    "HOST_CR3 was not written with L1's CR3:\n%s", r.t.trace);
	tv_close(&r.t);
}

/* ---- get_vmx_mem_address (SDM 28.2.4, 3.7.5) ---- */

#define II_BASE(r)  ((uint32_t)(r) << 23)
#define II_INDEX(r) ((uint32_t)(r) << 18)
#define II_NO_BASE  (UINT32_C(1) << 27)
#define II_NO_INDEX (UINT32_C(1) << 22)
#define II_ASIZE(a) ((uint32_t)(a) << 7)
#define II_SEG(s)   ((uint32_t)(s) << 15)

Test(kvm_nested, operand_address_is_base_plus_scaled_index_plus_displacement)
{
	uint64_t gpr[GPR_COUNT] = {[GPR_RBX] = 0x1000, [GPR_RCX] = 3};
	uint32_t info = II_BASE(GPR_RBX) | II_INDEX(GPR_RCX) | 3 | II_ASIZE(2) | II_SEG(3);
	uint64_t a = kvm_nested_operand_addr(info, 0x10, gpr, 0xdead0000, true);

	cr_expect_eq(a, 0x1028, "wanted 0x1028 (DS base ignored in 64-bit mode), got %#llx",
	             (unsigned long long)a);
}

Test(kvm_nested, operand_address_adds_the_fs_base_in_64bit_mode)
{
	uint64_t gpr[GPR_COUNT] = {[GPR_RDX] = 0x10};
	uint32_t info = II_BASE(GPR_RDX) | II_NO_INDEX | II_ASIZE(2) | II_SEG(4);
	uint64_t a = kvm_nested_operand_addr(info, 0, gpr, 0x200000, true);

	cr_expect_eq(a, 0x200010, "wanted 0x200010, got %#llx", (unsigned long long)a);
}

/* A 32-bit address size truncates the effective address before the segment base is added. */
Test(kvm_nested, operand_address_truncates_to_the_address_size)
{
	uint64_t gpr[GPR_COUNT] = {[GPR_RAX] = UINT64_C(0x1fffffff0)};
	uint32_t info = II_BASE(GPR_RAX) | II_NO_INDEX | II_ASIZE(1) | II_SEG(3);
	uint64_t a = kvm_nested_operand_addr(info, 0x20, gpr, 0, true);

	cr_expect_eq(a, 0x10, "wanted 0x10, got %#llx", (unsigned long long)a);
}

/* RIP-relative operands have no base: the qualification holds the whole address. */
Test(kvm_nested, operand_address_without_registers_is_the_qualification)
{
	uint64_t gpr[GPR_COUNT] = {0};
	uint32_t info = II_NO_BASE | II_NO_INDEX | II_ASIZE(2) | II_SEG(3);
	uint64_t a = kvm_nested_operand_addr(info, 0x8308, gpr, 0, true);

	cr_expect_eq(a, 0x8308, "wanted 0x8308, got %#llx", (unsigned long long)a);
}

/* Outside 64-bit mode every segment base is added, and the linear address wraps at 4 GiB. */
Test(kvm_nested, operand_address_outside_64bit_mode_adds_the_segment_base)
{
	uint64_t gpr[GPR_COUNT] = {[GPR_RSI] = 0x100};
	uint32_t info = II_BASE(GPR_RSI) | II_NO_INDEX | II_ASIZE(1) | II_SEG(3);
	uint64_t a = kvm_nested_operand_addr(info, 0, gpr, 0xffffff00, false);

	cr_expect_eq(a, 0, "wanted 0 (wrapped), got %#llx", (unsigned long long)a);
}
