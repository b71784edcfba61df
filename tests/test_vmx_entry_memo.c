/* Verifies the VM-entry memo (models/vmx/vmx_entry_memo.c): a VMRESUME after a VMLAUNCH on the
 * same VMCS skips the checks whose inputs did not change, and its outcome is still the one
 * running every check gives (SDM 27.2-27.4: the first violated check in SDM order decides). Each
 * input a check has is changed once under a passing memo: a field a skipped check reads, memory a
 * check reads (the virtual-APIC page's VTPR), the capabilities, the processor's mode. Then
 * thousands of random changes (fields set to 0, all ones or one bit flipped, VTPR, mode) compare
 * every VMRESUME with the checks run without a memo (vmx_check_entry). */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"

#include <string.h>

#define VFX_PROFILE "intel-icelake-server"
#define VTPR        (VFX_VAPIC + 0x80)

static void expect_same(const struct vmx_result *got, const struct vmx_result *want, unsigned step)
{
	cr_assert(got->outcome == want->outcome && got->error == want->error &&
	              got->exit_reason == want->exit_reason && got->exit_qual == want->exit_qual &&
	              strcmp(got->check ? got->check : "-", want->check ? want->check : "-") == 0,
	          "step %u: memo entry gave %s (%s, error %u, reason %#x, qual %#llx), every check "
	          "gives %s (%s, error %u, reason %#x, qual %#llx)",
	          step, vmx_outcome_name(got->outcome), got->check ? got->check : "-", got->error,
	          got->exit_reason, (unsigned long long)got->exit_qual,
	          vmx_outcome_name(want->outcome), want->check ? want->check : "-", want->error,
	          want->exit_reason, (unsigned long long)want->exit_qual);
}

/* VMRESUME, compared with every check run on the same state. */
static void resume_as_every_check(struct vfx *x, unsigned step)
{
	struct vmx_result want, got;

	vmx_check_entry(x->cpu, &want);
	vmx_vmresume(x->cpu, &got);
	expect_same(&got, &want, step);
}

/* VMfailValid from the named check. */
static void expect_fail_valid(const struct vmx_result *res, const char *check)
{
	cr_expect_eq(res->outcome, VMX_FAIL_VALID, "outcome %s", vmx_outcome_name(res->outcome));
	cr_expect_str_eq(res->check ? res->check : "-", check);
}

/* The fixture, launched: the memo knows every check passed. */
static void launched(struct vfx *x)
{
	struct vmx_result res;

	vfx_init(x, VFX_PROFILE);
	vmx_vmlaunch(x->cpu, &res);
	cr_assert_eq(res.outcome, VMX_ENTERED, "VMLAUNCH of the fixture: %s %s",
	             vmx_outcome_name(res.outcome), res.check ? res.check : "");
}

Test(vmx_entry_memo, a_resume_on_unchanged_inputs_skips_most_checks)
{
	struct vfx x;
	struct vmx_result res;
	uint64_t before;

	launched(&x);
	before = x.cpu->memo.skipped;
	vfx_set(&x, VMCS_GUEST_RIP, vfx_get(&x, VMCS_GUEST_RIP) + 2);
	vmx_vmresume(x.cpu, &res);
	cr_expect_eq(res.outcome, VMX_ENTERED);
	cr_expect_gt(x.cpu->memo.skipped - before, vmx_check_count() / 2,
	             "a VMRESUME after a RIP change skipped %llu of %zu checks",
	             (unsigned long long)(x.cpu->memo.skipped - before), vmx_check_count());
	vfx_fini(&x);
}

Test(vmx_entry_memo, a_field_a_skipped_check_read_is_checked_again)
{
	struct vfx x;

	launched(&x);
	vfx_or(&x, VMCS_HOST_CR3, UINT64_C(1) << 63); /* SDM 27.2.2: beyond the address width */
	vfx_expect_vmfail(&x, "vmx_check_host_cr3_width", 8);
	resume_as_every_check(&x, 0);
	vfx_fini(&x);
}

Test(vmx_entry_memo, a_check_that_reads_memory_runs_at_every_entry)
{
	struct vfx x;
	struct vmx_result res;

	launched(&x);
	vfx_set(&x, VMCS_TPR_THRESHOLD, 4);
	x.mem[VTPR] = 0x40;
	vmx_vmresume(x.cpu, &res);
	cr_assert_eq(res.outcome, VMX_ENTERED, "threshold 4, VTPR 0x40: %s",
	             res.check ? res.check : "");
	x.mem[VTPR] = 0x30; /* SDM 27.2.1.1: TPR threshold[3:0] above VTPR[7:4] */
	vmx_vmresume(x.cpu, &res);
	expect_fail_valid(&res, "vmx_check_ctrl_tpr_threshold_vtpr");
	vfx_fini(&x);
}

Test(vmx_entry_memo, other_capabilities_run_every_check)
{
	struct vfx x;
	struct vmx_caps strict;
	struct vmx_result res;

	launched(&x);
	strict = x.caps;
	/* the pin-based controls' allowed-1 half (SDM A.3.1) no longer allows NMI exiting */
	strict.msr[MSR_IA32_VMX_TRUE_PINBASED_CTLS - 0x480] &= ~((uint64_t)PIN_NMI_EXITING << 32);
	strict.msr[MSR_IA32_VMX_PINBASED_CTLS - 0x480] &= ~((uint64_t)PIN_NMI_EXITING << 32);
	vmx_vmentry_with_caps(x.cpu, &strict, false, &res);
	expect_fail_valid(&res, "vmx_check_ctrl_pin_allowed1");
	vfx_fini(&x);
}

Test(vmx_entry_memo, another_processor_mode_runs_every_check)
{
	struct vfx x;
	struct vmx_cpu_mode m;

	launched(&x);
	m = *vmx_cpu_mode(x.cpu);
	m.efer &= ~EFER_LMA; /* SDM 27.2.4: outside IA-32e mode, no IA-32e mode guest */
	vmx_cpu_set_mode(x.cpu, &m);
	resume_as_every_check(&x, 0);
	vfx_expect_vmfail(&x, "vmx_check_host_outside_ia32e_guest", 8);
	vfx_fini(&x);
}

/* xorshift64: the test's own deterministic sequence */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One random change: a field to 0, all ones, one bit flipped or back to the fixture's value;
 * sometimes VTPR, the mode's EFER.LMA, or the whole VMCS back to the fixture. */
static void change(struct vfx *x, const uint64_t *good, uint64_t *s)
{
	struct vmcs *v = vmcs_store_find(x->store, VFX_VMCS);
	uint64_t r = next(s), i = (r >> 8) % VMCS_IDX_COUNT;
	struct vmx_cpu_mode m = *vmx_cpu_mode(x->cpu);

	switch (r % 16) {
	case 0: v->f[i] = 0; break;
	case 1: v->f[i] = UINT64_MAX; break;
	case 2: x->mem[VTPR] = (uint8_t)(r >> 32); break;
	case 3:
		m.efer ^= (r >> 40) % 8 ? 0 : EFER_LMA;
		vmx_cpu_set_mode(x->cpu, &m);
		break;
	case 4: memcpy(v->f, good, sizeof(v->f)); break;
	case 5:
	case 6:
	case 7: v->f[i] = good[i]; break;
	default: v->f[i] ^= UINT64_C(1) << (r >> 58); break;
	}
}

Test(vmx_entry_memo, random_changes_give_the_outcome_of_every_check)
{
	struct vfx x;
	uint64_t good[VMCS_IDX_COUNT], seed = UINT64_C(0x9e3779b97f4a7c15), skipped;

	launched(&x);
	memcpy(good, vmcs_store_find(x.store, VFX_VMCS)->f, sizeof(good));
	skipped = x.cpu->memo.skipped;
	for (unsigned step = 1; step <= 20000; step++) {
		unsigned n = 1 + (unsigned)(next(&seed) % 3);

		for (unsigned k = 0; k < n; k++)
			change(&x, good, &seed);
		resume_as_every_check(&x, step);
	}
	cr_expect_gt(x.cpu->memo.skipped - skipped, 20000u * 10,
	             "the memo skipped only %llu checks in 20,000 entries",
	             (unsigned long long)(x.cpu->memo.skipped - skipped));
	vfx_fini(&x);
}
