/* Verifies VM-exit processing (SDM 28): the exit information recorded in the VMCS (28.2), the
 * guest state saved (28.3) including the RFLAGS.RF, interruptibility, pending-debug and
 * preemption-timer rules, the MSR-store and MSR-load lists (28.4, 28.6), host state (28.5), VMX
 * aborts (28.7), VM-entry failures (27.8), IDT-vectoring information and its re-injection, and
 * the entry -> exit -> entry round trip of the guest state. Each test enters the fixture's guest,
 * builds an exit, runs vmx_exit and reads the VMCS and the effects. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static void enter(struct vfx *x, struct cpu_state *g)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_enter(x, g, &fx);
}

static uint32_t abort_indicator(struct vfx *x)
{
	uint32_t v = 0;

	cr_assert(x->memops.read(x->mem, VFX_VMCS + 4, &v, 4), "read abort indicator");
	return v;
}

/* SDM 28.2.1: basic reason, qualification, instruction length; no IDT vectoring */
Test(vmx_exit, exit_records_reason_qualification_and_length)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_exit_effects fx;
	struct guest_op op = vrt_io(0x60, 1, true);

	enter(&x, &g);
	vrt_ctl(&x, VRT_PROC, PROC_USE_IO_BITMAPS, false);
	vrt_ctl(&x, VRT_PROC, PROC_UNCOND_IO_EXITING, true);
	vrt_run(&x, &op, &g, &r);
	vrt_exit(&x, &r.exit, &g, &fx);
	cr_assert(vfx_get(&x, VMCS_VM_EXIT_REASON) == EXIT_REASON_IO_INSTRUCTION &&
	              vfx_get(&x, VMCS_EXIT_QUALIFICATION) == 0x00600008 &&
	              vfx_get(&x, VMCS_VM_EXIT_INSTRUCTION_LEN) == VRT_LEN &&
	              vfx_get(&x, VMCS_IDT_VECTORING_INFO_FIELD) == 0 &&
	              vfx_get(&x, VMCS_VM_EXIT_INTR_INFO) == 0,
	          "got reason %llu qual %#llx len %llu idt %#llx",
	          (unsigned long long)vfx_get(&x, VMCS_VM_EXIT_REASON),
	          (unsigned long long)vfx_get(&x, VMCS_EXIT_QUALIFICATION),
	          (unsigned long long)vfx_get(&x, VMCS_VM_EXIT_INSTRUCTION_LEN),
	          (unsigned long long)vfx_get(&x, VMCS_IDT_VECTORING_INFO_FIELD));
	vfx_fini(&x);
}

/* SDM 28.3.3: a fault-like exit saves the instruction's RIP, a trap-like one (after the owner
 * completed the instruction) the next instruction's */
Test(vmx_exit, fault_like_saves_instruction_rip_trap_like_the_next)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_exit_effects fx;
	struct guest_op cpuid = vrt_op(GOP_CPUID);
	struct guest_op cr8 = vrt_cr(8, CR_ACCESS_MOV_TO_CR, GPR_RAX, 1);

	enter(&x, &g);
	vrt_run(&x, &cpuid, &g, &r);
	cr_assert(!r.exit.trap_like, "CPUID exit is fault-like");
	vrt_exit(&x, &r.exit, &g, &fx);
	cr_assert_eq(vfx_get(&x, VMCS_GUEST_RIP), VRT_RIP, "fault-like: RIP of CPUID");
	vfx_fini(&x);

	enter(&x, &g);
	vfx_set(&x, VMCS_TPR_THRESHOLD, 2);
	vrt_run(&x, &cr8, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE_EXIT && r.exit.trap_like &&
	              r.exit.reason == EXIT_REASON_TPR_BELOW_THRESHOLD,
	          "MOV to CR8 below threshold: outcome %u reason %u", r.outcome, r.exit.reason);
	g.rip += cr8.len;
	vrt_exit(&x, &r.exit, &g, &fx);
	cr_assert_eq(vfx_get(&x, VMCS_GUEST_RIP), VRT_RIP + VRT_LEN, "trap-like: next RIP");
	cr_assert_eq(vfx_get(&x, VMCS_VM_EXIT_INSTRUCTION_LEN), 0, "length undefined: not written");
	vfx_fini(&x);
}

/* SDM 28.3.3 RFLAGS.RF: 0 for instruction exits, 1 for EPT violations outside event delivery,
 * as pushed for faults, unchanged for interrupts */
Test(vmx_exit, rflags_rf_follows_the_exit_cause)
{
	static const struct {
		const char *name;
		uint32_t reason, intr_info, idt;
		uint64_t rf_before, rf_after;
	} rows[] = {
	    {"CPUID clears RF", EXIT_REASON_CPUID, 0, 0, RFLAGS_RF, 0},
	    {"EPT violation sets RF", EXIT_REASON_EPT_VIOLATION, 0, 0, 0, RFLAGS_RF},
	    {"EPT violation in delivery keeps RF", EXIT_REASON_EPT_VIOLATION, 0, 0x80000030, 0, 0},
	    {"#GP exit sets RF", EXIT_REASON_EXCEPTION_NMI, 0x80000b0d, 0, 0, RFLAGS_RF},
	    {"#BP exit keeps RF", EXIT_REASON_EXCEPTION_NMI, 0x80000603, 0, 0, 0},
	    {"external interrupt keeps RF", EXIT_REASON_EXTERNAL_INTERRUPT, 0x80000030, 0,
	     RFLAGS_RF, RFLAGS_RF},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = rows[i].reason,
		                          .intr_info = rows[i].intr_info,
		                          .idt_vectoring_info = rows[i].idt};

		enter(&x, &g);
		g.rflags |= rows[i].rf_before;
		vrt_exit(&x, &e, &g, &fx);
		cr_assert_eq(vfx_get(&x, VMCS_GUEST_RFLAGS) & RFLAGS_RF, rows[i].rf_after,
		             "%s: saved RFLAGS %#llx", rows[i].name,
		             (unsigned long long)vfx_get(&x, VMCS_GUEST_RFLAGS));
		vfx_fini(&x);
	}
}

/* SDM 28.3.4: blocking by SMI is saved as 0 outside SMM; STI, MOV SS and NMI are kept */
Test(vmx_exit, interruptibility_saved_without_smi_blocking)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};

	enter(&x, &g);
	g.interruptibility = CPU_INTR_BLOCK_STI | CPU_INTR_BLOCK_SMI | CPU_INTR_BLOCK_NMI;
	vrt_exit(&x, &e, &g, &fx);
	cr_assert_eq(vfx_get(&x, VMCS_GUEST_INTERRUPTIBILITY_INFO), 0x9, "saved %#llx",
	             (unsigned long long)vfx_get(&x, VMCS_GUEST_INTERRUPTIBILITY_INFO));
	vfx_fini(&x);
}

/* SDM 28.3.4: pending debug exceptions are saved for INIT, TPR-below-threshold, virtualized
 * EOI, APIC-write and MTF exits and under MOV-SS blocking; cleared otherwise */
Test(vmx_exit, pending_debug_exceptions_saved_only_where_the_sdm_keeps_them)
{
	static const struct {
		uint32_t reason;
		uint32_t blocking;
		bool kept;
	} rows[] = {
	    {EXIT_REASON_MONITOR_TRAP_FLAG, 0, true},
	    {EXIT_REASON_INIT_SIGNAL, 0, true},
	    {EXIT_REASON_TPR_BELOW_THRESHOLD, 0, true},
	    {EXIT_REASON_VIRTUALIZED_EOI, 0, true},
	    {EXIT_REASON_APIC_WRITE, 0, true},
	    {EXIT_REASON_CPUID, 0, false},
	    {EXIT_REASON_CPUID, CPU_INTR_BLOCK_MOV_SS, true},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = rows[i].reason, .pending_dbg = 0x4002};

		enter(&x, &g);
		g.interruptibility = rows[i].blocking;
		vrt_exit(&x, &e, &g, &fx);
		cr_assert_eq(vfx_get(&x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS),
		             rows[i].kept ? 0x4002 : 0, "reason %u blocking %#x: saved %#llx",
		             rows[i].reason, rows[i].blocking,
		             (unsigned long long)vfx_get(&x, VMCS_GUEST_PENDING_DBG_EXCEPTIONS));
		vfx_fini(&x);
	}
}

/* SDM 28.3.4: "save VMX-preemption timer value" stores the remaining value (0 for timer
 * exits); without it the field is not modified */
Test(vmx_exit, preemption_timer_value_saved_with_save_control)
{
	static const struct {
		bool save;
		uint32_t reason;
		uint64_t want;
	} rows[] = {{true, EXIT_REASON_CPUID, 70},
	            {true, EXIT_REASON_PREEMPTION_TIMER, 0},
	            {false, EXIT_REASON_CPUID, 100}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects efx;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = rows[i].reason};

		vfx_init(&x, VFX_PROFILE);
		vrt_ctl(&x, VRT_PIN, PIN_PREEMPTION_TIMER, true);
		vrt_ctl(&x, VRT_EXIT, EXIT_SAVE_PREEMPTION_TIMER, rows[i].save);
		vfx_set(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE, 100);
		vrt_enter(&x, &g, &efx);
		cr_assert(vmx_exit(x.cpu, &e, &g, VRT_TSC + 30 * 128, &fx), "exit");
		cr_assert_eq(vfx_get(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE), rows[i].want,
		             "save %d reason %u: wanted %llu got %llu", rows[i].save,
		             rows[i].reason, (unsigned long long)rows[i].want,
		             (unsigned long long)vfx_get(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE));
		vfx_fini(&x);
	}
}

/* SDM 28.3.1: DR7/DEBUGCTL, PAT and EFER are saved only with their VM-exit controls */
Test(vmx_exit, msr_and_debug_fields_saved_only_with_their_controls)
{
	static const struct {
		const char *name;
		uint32_t bit, enc;
	} rows[] = {{"save debug controls", EXIT_SAVE_DEBUG_CONTROLS, VMCS_GUEST_DR7},
	            {"save IA32_PAT", EXIT_SAVE_IA32_PAT, VMCS_GUEST_IA32_PAT},
	            {"save IA32_EFER", EXIT_SAVE_IA32_EFER, VMCS_GUEST_IA32_EFER}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		for (int on = 0; on <= 1; on++) {
			struct vfx x;
			struct cpu_state g;
			struct vmx_exit_effects fx;
			struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
			uint64_t before;

			enter(&x, &g);
			vrt_ctl(&x, VRT_EXIT, rows[i].bit, on);
			before = vfx_get(&x, rows[i].enc);
			g.dr7 = 0x401;
			g.pat = 0x0606060606060606;
			g.efer = 0x501;
			vrt_exit(&x, &e, &g, &fx);
			cr_assert_eq(vfx_get(&x, rows[i].enc) != before, on, "%s %d: field %#llx",
			             rows[i].name, on,
			             (unsigned long long)vfx_get(&x, rows[i].enc));
			vfx_fini(&x);
		}
	}
}

static bool read_msr_double(void *ctx, uint32_t index, uint64_t *value)
{
	(void)ctx;
	*value = (uint64_t)index * 2;
	return index != 0x8b8; /* one MSR that RDMSR refuses */
}

/* SDM 28.4: each MSR-store entry receives RDMSR of its index */
Test(vmx_exit, msr_store_list_receives_rdmsr_values)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
	struct vmx_msr_read_ops ops = {read_msr_double, NULL};
	uint64_t list[4] = {0x10, 0, 0xc0000080, 0};
	uint32_t index;
	uint64_t value;

	enter(&x, &g);
	vmx_cpu_set_msr_read_ops(x.cpu, &ops);
	vfx_write(&x, VFX_MSR_AREA, list, sizeof(list));
	vfx_set(&x, VMCS_VM_EXIT_MSR_STORE_COUNT, 2);
	vrt_exit(&x, &e, &g, &fx);
	cr_assert_eq(fx.msr_stored, 2, "stored %u", fx.msr_stored);
	vmx_msr_list_entry(x.cpu, VFX_MSR_AREA, 1, &index, &value);
	cr_assert(index == 0xc0000080 && value == 0x180000100, "entry 2: %#x = %#llx", index,
	          (unsigned long long)value);
	vfx_fini(&x);
}

/* SDM 28.4 and 28.7: an entry that cannot be stored is VMX abort 1 */
Test(vmx_exit, msr_store_failure_is_vmx_abort_1)
{
	static const struct {
		const char *name;
		uint64_t lo;
	} rows[] = {{"RDMSR faults", 0x8b8},
	            {"IA32_SMBASE outside SMM", 0x9e},
	            {"reserved bits 63:32", UINT64_C(0x100000010)}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
		struct vmx_msr_read_ops ops = {read_msr_double, NULL};
		uint64_t list[2] = {rows[i].lo, 0};

		enter(&x, &g);
		vmx_cpu_set_msr_read_ops(x.cpu, &ops);
		vfx_write(&x, VFX_MSR_AREA, list, sizeof(list));
		vfx_set(&x, VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
		cr_assert(vmx_exit(x.cpu, &e, &g, VRT_TSC, &fx), "exit runs");
		cr_assert(fx.abort == VMX_ABORT_SAVE_GUEST_MSR && abort_indicator(&x) == 1,
		          "%s: wanted abort 1, got %u (memory %u)", rows[i].name, fx.abort,
		          abort_indicator(&x));
		vfx_fini(&x);
	}
}

/* SDM 28.6: the MSR-load list is checked and handed to the owner; FS.base is refused (abort 4) */
Test(vmx_exit, msr_load_list_checked_and_reported)
{
	static const struct {
		uint64_t index;
		uint32_t abort;
	} rows[] = {{0x277, 0}, {0xc0000100, VMX_ABORT_LOAD_HOST_MSR}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
		uint64_t list[2] = {rows[i].index, 0x0007040600070406};

		enter(&x, &g);
		vfx_write(&x, VFX_MSR_AREA, list, sizeof(list));
		vfx_set(&x, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
		vmx_exit(x.cpu, &e, &g, VRT_TSC, &fx);
		cr_assert_eq(fx.abort, rows[i].abort, "MSR %#llx: abort %u",
		             (unsigned long long)rows[i].index, fx.abort);
		if (!rows[i].abort)
			cr_assert(fx.msr_load_addr == VFX_MSR_AREA && fx.msr_load_count == 1,
			          "list reported");
		vfx_fini(&x);
	}
}

/* SDM 28.5: host state per the host-state area and the VM-exit controls */
Test(vmx_exit, host_state_is_loaded_from_the_host_area)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
	const struct cpu_state *h = &fx.host;

	enter(&x, &g);
	g.gpr[GPR_RBX] = 0x1234;
	g.cr2 = 0xdead;
	vrt_exit(&x, &e, &g, &fx);
	cr_assert(h->rip == 0xffffffff81000000 && h->gpr[GPR_RSP] == 0xffff800000010000 &&
	              h->rflags == 2,
	          "RIP/RSP/RFLAGS");
	cr_assert(h->gpr[GPR_RBX] == 0x1234 && h->cr2 == 0xdead, "GPRs and CR2 unchanged");
	cr_assert(h->cr3 == VFX_HOST_CR3 && (h->cr4 & CR4_PAE) && h->efer == 0xd01 &&
	              h->dr7 == 0x400 && h->debugctl == 0,
	          "CR3 %#llx CR4 %#llx EFER %#llx DR7 %#llx", (unsigned long long)h->cr3,
	          (unsigned long long)h->cr4, (unsigned long long)h->efer,
	          (unsigned long long)h->dr7);
	cr_assert(h->seg[SEG_CS].selector == 0x10 && h->seg[SEG_CS].ar == 0xa09b &&
	              h->seg[SEG_SS].selector == 0x18 && h->seg[SEG_SS].ar == 0xc093 &&
	              (h->seg[SEG_DS].ar & AR_UNUSABLE) && h->seg[SEG_TR].limit == 0x67 &&
	              h->seg[SEG_TR].ar == 0x8b && (h->seg[SEG_LDTR].ar & AR_UNUSABLE),
	          "segments: CS ar %#x SS ar %#x TR ar %#x", h->seg[SEG_CS].ar, h->seg[SEG_SS].ar,
	          h->seg[SEG_TR].ar);
	cr_assert(h->gdtr.base == 0xffff800000001000 && h->gdtr.limit == 0xffff &&
	              h->idtr.limit == 0xffff,
	          "GDTR/IDTR limits FFFFH");
	cr_assert(h->activity == CPU_ACTIVITY_ACTIVE && h->interruptibility == 0,
	          "active, no blocking");
	cr_assert(vmx_cpu_mode(x.cpu)->cpl == 0 && vmx_cpu_mode(x.cpu)->cs_l &&
	              vmx_cpu_mode(x.cpu)->cr4 == h->cr4,
	          "processor mode: CPL 0, 64-bit");
	cr_assert(!vmx_cpu_in_nonroot(x.cpu) && vmx_cpu_current_vmcs(x.cpu) == VFX_VMCS &&
	              vmx_cpu_vmcs_launched(x.cpu, VFX_VMCS),
	          "root operation, VMCS current and launched");
	vfx_fini(&x);
}

/* SDM 28.5 and 28.7: an IA-32e guest with "host address-space size" 0 is VMX abort 6 */
Test(vmx_exit, ia32e_guest_with_32bit_host_is_vmx_abort_6)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};

	enter(&x, &g);
	vrt_ctl(&x, VRT_EXIT, EXIT_HOST_ADDR_SPACE_SIZE, false);
	vmx_exit(x.cpu, &e, &g, VRT_TSC, &fx);
	cr_assert(fx.abort == VMX_ABORT_HOST_ADDR_SIZE && abort_indicator(&x) == 6,
	          "wanted abort 6, got %u", fx.abort);
	vfx_fini(&x);
}

/* SDM 28.5.4 and 28.7: a PAE host whose PDPTE has a reserved bit set is VMX abort 2 */
Test(vmx_exit, bad_host_pdpte_is_vmx_abort_2)
{
	for (int bad = 0; bad <= 1; bad++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_effects fx;
		struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};
		uint64_t pdpte = bad ? 0x70003 : 0x70001;

		enter(&x, &g);
		g.efer &= ~(EFER_LMA | EFER_LME);
		vrt_ctl(&x, VRT_EXIT, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER, false);
		vfx_set(&x, VMCS_HOST_CR3, VFX_PDPT);
		vfx_write(&x, VFX_PDPT, &pdpte, 8);
		vmx_exit(x.cpu, &e, &g, VRT_TSC, &fx);
		cr_assert_eq(fx.abort, bad ? VMX_ABORT_HOST_PDPTE : 0, "PDPTE %#llx: abort %u",
		             (unsigned long long)pdpte, fx.abort);
		if (!bad)
			cr_assert(fx.host.pdpte[0] == pdpte && !vmx_cpu_mode(x.cpu)->cs_l,
			          "PDPTE loaded, 32-bit host");
		vfx_fini(&x);
	}
}

/* SDM 28.5.5: an exit caused by an NMI leaves NMIs blocked */
Test(vmx_exit, nmi_exit_blocks_nmis_in_the_host)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_EXCEPTION_NMI, .intr_info = 0x80000202};

	enter(&x, &g);
	vrt_exit(&x, &e, &g, &fx);
	cr_assert(fx.nmi_blocked && (fx.host.interruptibility & CPU_INTR_BLOCK_NMI),
	          "NMI blocked after an NMI exit");
	vfx_fini(&x);
}

/* SDM 27.8: a VM-entry failure loads host state only: the guest-state area, the MSR-store
 * list and the VM-entry interruption information stay */
Test(vmx_exit, entry_failure_loads_host_state_only)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason =
	                              VMX_EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE};
	uint64_t bad_store[2] = {0x9e, 0};

	vfx_init(&x, VFX_PROFILE);
	memset(&g, 0, sizeof(g));
	g.rip = 0x999;
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000030);
	vfx_write(&x, VFX_MSR_AREA, bad_store, sizeof(bad_store));
	vfx_set(&x, VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
	vrt_exit(&x, &e, &g, &fx);
	cr_assert(vfx_get(&x, VMCS_GUEST_RIP) == VRT_RIP &&
	              vfx_get(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD) == 0x80000030,
	          "guest area and entry info untouched");
	cr_assert_eq(fx.host.rip, 0xffffffff81000000, "host RIP loaded");
	vfx_fini(&x);
}

/* SDM 28.2.3: the event an exit interrupted is recorded in the IDT-vectoring fields */
Test(vmx_exit, idt_vectoring_information_recorded)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_event ev = {.valid = true,
	                       .type = VMX_INTR_HW_EXC,
	                       .vector = 14,
	                       .has_error = true,
	                       .error_code = 0x6};
	struct vmx_exit_info e = {.reason = EXIT_REASON_EPT_VIOLATION, .qual = 0x182};

	enter(&x, &g);
	e.idt_vectoring_info = vmx_event_intr_info(&ev) | VMX_INTR_INFO_NMI_UNBLOCK;
	e.idt_vectoring_error = ev.error_code;
	vrt_exit(&x, &e, &g, &fx);
	cr_assert(vfx_get(&x, VMCS_IDT_VECTORING_INFO_FIELD) == 0x80000b0e &&
	              vfx_get(&x, VMCS_IDT_VECTORING_ERROR_CODE) == 0x6,
	          "IDT vectoring %#llx error %#llx (bit 12 undefined: dropped)",
	          (unsigned long long)vfx_get(&x, VMCS_IDT_VECTORING_INFO_FIELD),
	          (unsigned long long)vfx_get(&x, VMCS_IDT_VECTORING_ERROR_CODE));
	vfx_fini(&x);
}

/* Re-injection of an interrupted event for every type (SDM 27.6 with SDM 28.2.3, 28.2.4) */
Test(vmx_exit, reinjection_from_idt_vectoring_for_every_type)
{
	static const struct {
		const char *name;
		uint32_t idt, error, exit_len;
		uint32_t info, want_error, want_len;
		bool clear_nmi;
	} rows[] = {
	    {"external interrupt", 0x80000041, 0, 3, 0x80000041, 0, 0, false},
	    {"NMI", 0x80000202, 0, 3, 0x80000202, 0, 0, true},
	    {"#PF with error code", 0x80000b0e, 0x4, 3, 0x80000b0e, 0x4, 0, false},
	    {"INT 80h", 0x80000480, 0, 2, 0x80000480, 0, 2, false},
	    {"INT1", 0x80000501, 0, 1, 0x80000501, 0, 1, false},
	    {"INT3", 0x80000603, 0, 1, 0x80000603, 0, 1, false},
	    {"bit 12 dropped", 0x80001030, 0, 0, 0x80000030, 0, 0, false},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vmx_reinject r;

		vmx_reinject_from_idt_vectoring(rows[i].idt, rows[i].error, rows[i].exit_len, &r);
		cr_assert(
		    r.valid && r.intr_info == rows[i].info && r.error_code == rows[i].want_error &&
		        r.insn_len == rows[i].want_len && r.clear_nmi_blocking == rows[i].clear_nmi,
		    "%s: got info %#x error %#x len %u clear NMI %d", rows[i].name, r.intr_info,
		    r.error_code, r.insn_len, r.clear_nmi_blocking);
	}
}

Test(vmx_exit, invalid_idt_vectoring_needs_no_reinjection)
{
	struct vmx_reinject r;

	vmx_reinject_from_idt_vectoring(0x30, 0, 3, &r);
	cr_assert(!r.valid && r.intr_info == 0, "invalid vectoring info: nothing to re-inject");
}

/* Round trip: the state a VM exit saves is what the next VM entry loads (SDM 28.3, 27.3.2) */
Test(vmx_exit, exit_then_entry_restores_the_guest_state)
{
	struct vfx x;
	struct cpu_state g, g2;
	struct vmx_entry_effects efx;
	struct vmx_exit_effects fx;
	struct vmx_result res;
	struct vmx_exit_info e = {.reason = EXIT_REASON_EXTERNAL_INTERRUPT,
	                          .intr_info = 0x80000030};

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_EXIT, EXIT_SAVE_DEBUG_CONTROLS | EXIT_SAVE_IA32_PAT, true);
	vrt_ctl(&x, VRT_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS, true);
	vrt_enter(&x, &g, &efx);
	g.rip = 0x402345;
	g.gpr[GPR_RSP] = 0x7f00;
	g.rflags = RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF;
	g.cr3 = 0x31000;
	g.dr7 = 0x401;
	g.seg[SEG_FS].base = 0x7fff0000;
	g.seg[SEG_GS].selector = 0x10;
	g.sysenter_esp = 0x1234;
	g.pat = 0x0606060606060606;
	g.activity = CPU_ACTIVITY_HLT;
	g.interruptibility = CPU_INTR_BLOCK_NMI;
	vrt_exit(&x, &e, &g, &fx);
	vmx_vmresume(x.cpu, &res);
	cr_assert_eq(res.outcome, VMX_ENTERED, "VMRESUME: %s from %s [%s]",
	             vmx_outcome_name(res.outcome), res.check ? res.check : "-",
	             res.cond ? res.cond : "-");
	g2 = fx.host;
	cr_assert(vmx_entry_load(x.cpu, VRT_TSC, &g2, &efx), "entry load");
	cr_assert(g2.rip == g.rip && g2.gpr[GPR_RSP] == g.gpr[GPR_RSP] && g2.rflags == g.rflags &&
	              g2.cr0 == g.cr0 && g2.cr3 == g.cr3 && g2.cr4 == g.cr4 && g2.dr7 == g.dr7 &&
	              g2.efer == g.efer && g2.pat == g.pat && g2.sysenter_esp == g.sysenter_esp,
	          "registers: RIP %#llx/%#llx CR0 %#llx/%#llx", (unsigned long long)g2.rip,
	          (unsigned long long)g.rip, (unsigned long long)g2.cr0, (unsigned long long)g.cr0);
	cr_assert(memcmp(g2.seg, g.seg, sizeof(g.seg)) == 0 && g2.gdtr.base == g.gdtr.base &&
	              g2.idtr.limit == g.idtr.limit,
	          "segments and descriptor tables");
	cr_assert(g2.activity == g.activity && g2.interruptibility == g.interruptibility,
	          "activity %u/%u interruptibility %#x/%#x", g2.activity, g.activity,
	          g2.interruptibility, g.interruptibility);
	vfx_fini(&x);
}

/* SDM 28.2 with IA32_VMX_MISC[5]: the exit stores EFER.LMA into "IA-32e mode guest" */
Test(vmx_exit, exit_stores_efer_lma_in_ia32e_mode_guest_control)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};

	enter(&x, &g);
	g.efer &= ~EFER_LMA;
	vrt_exit(&x, &e, &g, &fx);
	cr_assert_eq(vfx_get(&x, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST, 0,
	             "LMA 0 stored into the entry control");
	vfx_fini(&x);
}

Test(vmx_exit, exit_without_current_vmcs_fails)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_effects fx;
	struct vmx_result r;
	struct vmx_exit_info e = {.reason = EXIT_REASON_CPUID};

	vfx_init(&x, VFX_PROFILE);
	memset(&g, 0, sizeof(g));
	vmx_vmclear(x.cpu, VFX_VMCS, &r);
	cr_assert_not(vmx_exit(x.cpu, &e, &g, VRT_TSC, &fx), "no current VMCS");
	vfx_fini(&x);
}
