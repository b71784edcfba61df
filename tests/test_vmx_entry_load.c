/* Verifies VM-entry loading (SDM 27.3.2), event injection (SDM 27.6) and the special features of
 * VM entry (SDM 27.7): each test programs the fixture's known-good VMCS, runs VMLAUNCH and
 * vmx_entry_load, and checks the guest state and the effects reported for the owner. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static void setup(struct vfx *x)
{
	vfx_init(x, VFX_PROFILE);
}

/* SDM 27.3.2.1-27.3.2.3: registers come from the guest-state area */
Test(vmx_entry_load, guest_registers_come_from_the_vmcs)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vfx_set(&x, VMCS_GUEST_RSP, 0x7ff0);
	vfx_set(&x, VMCS_GUEST_SYSENTER_CS, UINT64_C(0x1234567800000010));
	vfx_set(&x, VMCS_GUEST_SYSENTER_EIP, 0xffffffff81000000);
	vrt_enter(&x, &g, &fx);
	cr_assert(g.rip == VRT_RIP && g.gpr[GPR_RSP] == 0x7ff0 && g.rflags == RFLAGS_FIXED1,
	          "RIP/RSP/RFLAGS: got %#llx %#llx %#llx", (unsigned long long)g.rip,
	          (unsigned long long)g.gpr[GPR_RSP], (unsigned long long)g.rflags);
	cr_assert(g.cr3 == VFX_GUEST_CR3 && g.cr4 == vfx_get(&x, VMCS_GUEST_CR4),
	          "CR3/CR4 from the VMCS");
	cr_assert(g.seg[SEG_CS].selector == 0x08 && g.seg[SEG_CS].ar == 0xa09b &&
	              g.seg[SEG_TR].base == 0x5000 && g.seg[SEG_TR].limit == 0x67,
	          "CS/TR from the VMCS");
	cr_assert(g.gdtr.base == 0x1000 && g.gdtr.limit == 0x7f && g.idtr.limit == 0xfff,
	          "GDTR/IDTR from the VMCS");
	cr_assert(g.efer == 0xd01 && g.pat == UINT64_C(0x0007040600070406), "EFER/PAT loaded");
	cr_assert(g.sysenter_cs == 0x10 && g.sysenter_eip == 0xffffffff81000000,
	          "SYSENTER_CS keeps bits 31:0, got %#llx", (unsigned long long)g.sysenter_cs);
	cr_assert(vmx_cpu_in_nonroot(x.cpu), "the processor is in VMX non-root operation");
	vfx_fini(&x);
}

/* SDM 27.3.2.1: CR0.ET, NW, CD and the reserved bits keep their value from before the entry */
Test(vmx_entry_load, cr0_cd_nw_et_are_not_modified)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_result r;

	setup(&x);
	memset(&g, 0, sizeof(g));
	g.cr0 = BIT64(30) | BIT64(29) | BIT64(4);
	vmx_vmlaunch(x.cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED, "entry");
	vmx_entry_load(x.cpu, VRT_TSC, &g, &fx);
	cr_assert_eq(g.cr0 & (BIT64(30) | BIT64(29) | BIT64(4)), BIT64(30) | BIT64(29) | BIT64(4),
	             "CD/NW/ET wanted kept, got CR0 %#llx", (unsigned long long)g.cr0);
	cr_assert(g.cr0 & CR0_PG, "PG from the field");
	vfx_fini(&x);
}

/* SDM 27.3.2.1: with "load debug controls" DR7 bits 12, 15:14 are 0 and bit 10 is 1 (GD, bit 13,
 * loads as written) */
Test(vmx_entry_load, dr7_loaded_with_fixed_bits_under_load_debug_controls)
{
	for (int load = 0; load <= 1; load++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_result r;

		setup(&x);
		vrt_ctl(&x, VRT_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS, load);
		vfx_set(&x, VMCS_GUEST_DR7, 0xf4ff);
		vfx_set(&x, VMCS_GUEST_IA32_DEBUGCTL, 0x1);
		memset(&g, 0, sizeof(g));
		g.dr7 = 0x400;
		vmx_vmlaunch(x.cpu, &r);
		vmx_entry_load(x.cpu, VRT_TSC, &g, &fx);
		cr_assert_eq(g.dr7, load ? UINT64_C(0x24ff) : UINT64_C(0x400),
		             "load debug controls %d: DR7 %#llx", load, (unsigned long long)g.dr7);
		cr_assert_eq(g.debugctl, load ? 1u : 0u, "DEBUGCTL");
		vfx_fini(&x);
	}
}

/* SDM 27.3.2.1: without "load IA32_EFER", LMA follows "IA-32e mode guest" and so does LME
 * when CR0.PG is loaded as 1 */
Test(vmx_entry_load, efer_lma_lme_follow_ia32e_mode_guest_without_load_efer)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_result r;

	setup(&x);
	vrt_ctl(&x, VRT_ENTRY, ENTRY_LOAD_IA32_EFER, false);
	memset(&g, 0, sizeof(g));
	g.efer = 0x1; /* SCE from before the entry */
	vmx_vmlaunch(x.cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED, "entry");
	vmx_entry_load(x.cpu, VRT_TSC, &g, &fx);
	cr_assert_eq(g.efer, UINT64_C(0x501), "EFER wanted SCE|LME|LMA, got %#llx",
	             (unsigned long long)g.efer);
	vfx_fini(&x);
}

/* SDM 27.3.2.2: unusable registers keep SS base bits 31:4, SS.B = 1, 32-bit DS/ES bases and a
 * canonical LDTR base */
Test(vmx_entry_load, unusable_segments_follow_the_loading_rules)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vfx_set(&x, VMCS_GUEST_SS_SELECTOR, 0);
	vfx_set(&x, VMCS_GUEST_SS_AR_BYTES, AR_UNUSABLE);
	vfx_set(&x, VMCS_GUEST_SS_BASE, 0x12345678f);
	vfx_set(&x, VMCS_GUEST_DS_AR_BYTES, AR_UNUSABLE);
	vfx_set(&x, VMCS_GUEST_DS_BASE, 0x100000000);
	vfx_set(&x, VMCS_GUEST_LDTR_BASE, 0x0100000000000000); /* bit 56: the 57-bit sign */
	vrt_enter(&x, &g, &fx);
	cr_assert(g.seg[SEG_SS].base == 0x23456780 && (g.seg[SEG_SS].ar & AR_DB),
	          "SS base %#llx ar %#x", (unsigned long long)g.seg[SEG_SS].base, g.seg[SEG_SS].ar);
	cr_assert_eq(g.seg[SEG_DS].base, 0, "DS base bits 63:32 cleared");
	cr_assert_eq(g.seg[SEG_LDTR].base, UINT64_C(0xff00000000000000),
	             "LDTR base canonical for 57-bit linear addresses, got %#llx",
	             (unsigned long long)g.seg[SEG_LDTR].base);
	vfx_fini(&x);
}

/* SDM 27.3.2.4: PAE guests get their PDPTEs from the VMCS with EPT, from memory without */
Test(vmx_entry_load, pae_pdptes_come_from_vmcs_with_ept_and_memory_without)
{
	for (int ept = 0; ept <= 1; ept++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		uint64_t mem_pdpte = 0x71001, field_pdpte = 0x81001;

		setup(&x);
		vrt_ctl(&x, VRT_ENTRY, ENTRY_IA32E_MODE_GUEST, false);
		vfx_set(&x, VMCS_GUEST_IA32_EFER, 0);
		vfx_set(&x, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
		vfx_set(&x, VMCS_GUEST_CR3, VFX_PDPT);
		vrt_ctl(&x, VRT_PROC2, PROC2_ENABLE_EPT, ept);
		vfx_write(&x, VFX_PDPT, &mem_pdpte, 8);
		vfx_set(&x, VMCS_GUEST_PDPTR0, field_pdpte);
		vrt_enter(&x, &g, &fx);
		cr_assert_eq(g.pdpte[0], ept ? field_pdpte : mem_pdpte, "EPT %d: PDPTE0 %#llx", ept,
		             (unsigned long long)g.pdpte[0]);
		vfx_fini(&x);
	}
}

/* SDM 27.6.1.1: the injected event for every interruption type, RIP + length for software ones */
Test(vmx_entry_load, injected_event_of_every_type_is_described)
{
	static const struct {
		const char *name;
		uint32_t info, error, len;
		uint8_t type, vector;
		bool has_error;
	} rows[] = {
	    {"external interrupt", 0x80000041, 0, 0, VMX_INTR_EXT, 0x41, false},
	    {"NMI", 0x80000202, 0, 0, VMX_INTR_NMI, 2, false},
	    {"#GP with error code", 0x80000b0d, 0x18, 0, VMX_INTR_HW_EXC, 13, true},
	    {"#PF", 0x80000b0e, 0x2, 0, VMX_INTR_HW_EXC, 14, true},
	    {"software interrupt INT 80h", 0x80000480, 0, 2, VMX_INTR_SW_INT, 0x80, false},
	    {"privileged software exception INT1", 0x80000501, 0, 1, VMX_INTR_PRIV_SW_EXC, 1,
	     false},
	    {"software exception INT3", 0x80000603, 0, 1, VMX_INTR_SW_EXC, 3, false},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;

		setup(&x);
		vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
		vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, rows[i].info);
		vfx_set(&x, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, rows[i].error);
		vfx_set(&x, VMCS_VM_ENTRY_INSTRUCTION_LEN, rows[i].len);
		vrt_enter(&x, &g, &fx);
		cr_assert(fx.inject.valid && fx.inject.type == rows[i].type &&
		              fx.inject.vector == rows[i].vector &&
		              fx.inject.has_error == rows[i].has_error &&
		              fx.inject.error_code == rows[i].error &&
		              fx.inject.insn_len == rows[i].len,
		          "%s: got valid %d type %u vector %#x error %d/%#x len %u", rows[i].name,
		          fx.inject.valid, fx.inject.type, fx.inject.vector, fx.inject.has_error,
		          fx.inject.error_code, fx.inject.insn_len);
		cr_assert_eq(vmx_event_intr_info(&fx.inject), rows[i].info, "%s: info round trip",
		             rows[i].name);
		vfx_fini(&x);
	}
}

/* SDM 27.6.2: type 7 vector 0 injects nothing but makes an MTF exit pending */
Test(vmx_entry_load, pending_mtf_injection_is_not_a_vectored_event)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000700);
	vrt_enter(&x, &g, &fx);
	cr_assert(!fx.inject.valid && fx.mtf_exit, "wanted no injection and a pending MTF exit");
	vfx_fini(&x);
}

/* SDM 27.7.2: a vectoring entry leaves the processor active, waking a HLT guest; a
 * non-vectoring one keeps the HLT activity state */
Test(vmx_entry_load, vectoring_entry_wakes_a_hlt_guest)
{
	for (int inject = 0; inject <= 1; inject++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;

		setup(&x);
		vfx_set(&x, VMCS_GUEST_ACTIVITY_STATE, CPU_ACTIVITY_HLT);
		vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
		vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, inject ? 0x80000030 : 0);
		vrt_enter(&x, &g, &fx);
		cr_assert_eq(g.activity, inject ? CPU_ACTIVITY_ACTIVE : CPU_ACTIVITY_HLT,
		             "inject %d: activity %u", inject, g.activity);
		cr_assert_eq(fx.woke, inject, "inject %d: woke", inject);
		vfx_fini(&x);
	}
}

/* SDM 27.7.1: a vectoring entry drops STI/MOV-SS blocking; an injected NMI leaves NMI blocking */
Test(vmx_entry_load, vectoring_entry_clears_sti_blocking_and_nmi_injection_blocks_nmis)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vfx_set(&x, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000202);
	vrt_enter(&x, &g, &fx);
	cr_assert_eq(g.interruptibility, CPU_INTR_BLOCK_NMI, "NMI injection: blocking %#x",
	             g.interruptibility);
	vfx_fini(&x);

	setup(&x);
	vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vfx_set(&x, VMCS_GUEST_INTERRUPTIBILITY_INFO, CPU_INTR_BLOCK_STI);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000b0d);
	vrt_enter(&x, &g, &fx);
	cr_assert_eq(g.interruptibility & CPU_INTR_BLOCK_STI, 0, "STI blocking gone after #GP");
	vfx_fini(&x);
}

/* SDM 27.7.3: pending debug exceptions survive a non-vectoring entry to an active guest and
 * are dropped by injecting a hardware exception */
Test(vmx_entry_load, pending_debug_exceptions_follow_the_entry_rules)
{
	for (int inject = 0; inject <= 1; inject++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;

		setup(&x);
		vfx_set(&x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
		vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_TF);
		vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, inject ? 0x80000b0d : 0);
		vrt_enter(&x, &g, &fx);
		cr_assert_eq(g.pending_dbg, inject ? 0 : PENDING_DBG_BS, "inject %d: pending %#llx",
		             inject, (unsigned long long)g.pending_dbg);
		cr_assert_eq(fx.debug_trap, !inject, "inject %d: #DB trap owed", inject);
		vfx_fini(&x);
	}
}

/* SDM 27.7.4: the timer starts with the field's value and ticks every 2^VMX_MISC[4:0] TSC
 * ticks; 0 expires before the first instruction */
Test(vmx_entry_load, preemption_timer_starts_with_field_value_and_rate)
{
	static const uint32_t values[] = {0, 1, 100};

	for (size_t i = 0; i < NROWS(values); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		uint64_t deadline = ((VRT_TSC >> 7) + values[i]) << 7; /* ICX rate: bit 7 */

		setup(&x);
		vrt_ctl(&x, VRT_PIN, PIN_PREEMPTION_TIMER, true);
		vfx_set(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE, values[i]);
		vrt_enter(&x, &g, &fx);
		cr_assert(fx.timer_active && fx.timer_shift == 7 && fx.timer_value == values[i] &&
		              fx.timer_deadline == deadline && fx.timer_exit == (values[i] == 0),
		          "value %u: got active %d shift %u deadline %#llx (want %#llx) exit %d",
		          values[i], fx.timer_active, fx.timer_shift,
		          (unsigned long long)fx.timer_deadline, (unsigned long long)deadline,
		          fx.timer_exit);
		vfx_fini(&x);
	}
}

Test(vmx_entry_load, tsc_offset_multiplier_and_msr_load_list_are_reported)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vrt_ctl(&x, VRT_PROC, PROC_USE_TSC_OFFSETTING, true);
	vrt_ctl(&x, VRT_PROC2, PROC2_USE_TSC_SCALING, true);
	vfx_set(&x, VMCS_TSC_OFFSET, 0x1000);
	vfx_set(&x, VMCS_TSC_MULTIPLIER, UINT64_C(3) << 47);
	vfx_set(&x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vrt_enter(&x, &g, &fx);
	cr_assert(fx.tsc_offsetting && fx.tsc_offset == 0x1000 && fx.tsc_scaling &&
	              fx.tsc_multiplier == (UINT64_C(3) << 47),
	          "TSC offset/multiplier");
	cr_assert_eq(vmx_guest_tsc(x.cpu, 0x10000), 0x18000 + 0x1000, "guest TSC = 1.5 x + offset");
	cr_assert(fx.msr_load_addr == VFX_MSR_AREA && fx.msr_load_count == 0, "MSR-load list");
	vfx_fini(&x);
}

/* SDM 27.4: the reported list entries read back in order */
Test(vmx_entry_load, msr_load_list_entries_read_in_order)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	uint64_t list[4] = {0x174, 0x10, 0x277, 0x0007040600070406};
	uint32_t index;
	uint64_t value;

	setup(&x);
	vfx_write(&x, VFX_MSR_AREA, list, sizeof(list));
	vfx_set(&x, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
	vrt_enter(&x, &g, &fx);
	cr_assert_eq(fx.msr_load_count, 2, "count");
	cr_assert(vmx_msr_list_entry(x.cpu, fx.msr_load_addr, 1, &index, &value) &&
	              index == 0x277 && value == 0x0007040600070406,
	          "entry 2: got %#x %#llx", index, (unsigned long long)value);
	vfx_fini(&x);
}

/* SDM 27.7.5 / 27.7.6: interrupt- and NMI-window exits pending right after entry */
Test(vmx_entry_load, window_exits_pending_after_entry_need_open_windows)
{
	static const struct {
		const char *name;
		uint64_t rflags;
		uint32_t blocking;
		bool intr, nmi;
	} rows[] = {
	    {"IF=1 no blocking", RFLAGS_FIXED1 | RFLAGS_IF, 0, true, true},
	    {"IF=0", RFLAGS_FIXED1, 0, false, true},
	    {"STI blocking", RFLAGS_FIXED1 | RFLAGS_IF, CPU_INTR_BLOCK_STI, false, false},
	    {"virtual-NMI blocking", RFLAGS_FIXED1 | RFLAGS_IF, CPU_INTR_BLOCK_NMI, true, false},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;

		setup(&x);
		vrt_ctl(&x, VRT_PROC, PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING, true);
		vfx_set(&x, VMCS_GUEST_RFLAGS, rows[i].rflags);
		vfx_set(&x, VMCS_GUEST_INTERRUPTIBILITY_INFO, rows[i].blocking);
		vrt_enter(&x, &g, &fx);
		cr_assert(fx.intr_window_exit == rows[i].intr && fx.nmi_window_exit == rows[i].nmi,
		          "%s: wanted intr %d nmi %d, got %d %d", rows[i].name, rows[i].intr,
		          rows[i].nmi, fx.intr_window_exit, fx.nmi_window_exit);
		vfx_fini(&x);
	}
}

/* SDM 27.7.7: without virtual-interrupt delivery, a TPR threshold above VTPR[7:4] exits right
 * after entry */
Test(vmx_entry_load, tpr_threshold_above_vtpr_exits_after_entry)
{
	for (uint32_t vtpr = 0x20; vtpr <= 0x40; vtpr += 0x20) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;

		setup(&x);
		vrt_ctl(&x, VRT_PROC2, PROC2_VIRT_APIC_ACCESSES, true);
		vfx_set(&x, VMCS_TPR_THRESHOLD, 3);
		vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, vtpr);
		vrt_enter(&x, &g, &fx);
		cr_assert_eq(fx.tpr_threshold_exit, vtpr == 0x20, "VTPR %#x threshold 3: exit %d",
		             vtpr, fx.tpr_threshold_exit);
		vfx_fini(&x);
	}
}

/* SDM 27.3.2.5: with virtual-interrupt delivery the entry virtualizes PPR and evaluates */
Test(vmx_entry_load, entry_virtualizes_ppr_and_recognizes_pending_interrupt)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;

	setup(&x);
	vrt_apicv(&x, false);
	vfx_set(&x, VMCS_GUEST_INTR_STATUS, 0x3051); /* SVI 30H, RVI 51H */
	vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, 0x20);
	vrt_enter(&x, &g, &fx);
	cr_assert_eq(vmx_vapic_read(x.cpu, VAPIC_VPPR), 0x30, "VPPR = SVI & F0H, got %#x",
	             vmx_vapic_read(x.cpu, VAPIC_VPPR));
	cr_assert(fx.vintr_recognized, "RVI 51H > VPPR 30H: recognized");
	vfx_fini(&x);
}

/* SDM 28.2: the valid bit of the VM-entry interruption information is cleared by the next VM
 * exit, not by the entry */
Test(vmx_entry_load, entry_interruption_valid_bit_is_cleared_by_the_exit)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_exit_effects xf;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};

	setup(&x);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000030);
	vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vrt_enter(&x, &g, &fx);
	cr_assert_eq(vfx_get(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x80000030,
	             "valid while in guest");
	vrt_exit(&x, &e, &g, &xf);
	cr_assert_eq(vfx_get(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x30, "valid bit cleared by exit");
	vfx_fini(&x);
}

Test(vmx_entry_load, entry_load_without_current_vmcs_fails)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_result r;

	setup(&x);
	memset(&g, 0, sizeof(g));
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	cr_assert_not(vmx_entry_load(x.cpu, VRT_TSC, &g, &fx), "no current VMCS");
	cr_assert_not(vmx_cpu_in_nonroot(x.cpu), "still in root operation");
	vfx_fini(&x);
}
