/* Verifies events in VMX non-root operation (SDM 26.2, 26.5, 27.7): external interrupts (with
 * and without exiting and acknowledge-on-exit), NMIs (NMI exiting, virtual NMIs, blocking),
 * interrupt- and NMI-window exits, MTF, the VMX-preemption timer, INIT and SIPI, their priority
 * and activity-state blocking, HLT wake-up, and exceptions against the exception bitmap. Each
 * test enters the fixture's guest and asks vmx_event_exits (or vmx_exception_exits) what
 * happens at the next instruction boundary. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static void enter_if(struct vfx *x, struct cpu_state *g, bool if_set)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vfx_set(x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | (if_set ? RFLAGS_IF : 0));
	vrt_enter(x, g, &fx);
}

static void boundary(struct vfx *x, const struct cpu_state *g, const struct vmx_pending *p,
                     struct vmx_event_result *out)
{
	vmx_event_exits(x->cpu, g, VRT_TSC, p, out);
}

/* SDM 26.2 + 28.2.2: with external-interrupt exiting and acknowledge-on-exit the owner acks
 * and the exit carries the vector */
Test(vmx_event, external_interrupt_exits_with_vector_when_acknowledged_on_exit)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_event_result out;
	struct vmx_pending p = {.extint = true};

	enter_if(&x, &g, false);
	boundary(&x, &g, &p, &out);
	cr_assert_eq(out.action, VMX_EV_ACK_EXTINT, "IF=0 does not block with exiting: ack, got %u",
	             out.action);
	vmx_extint_ack(x.cpu, 0x41, &g, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
	              out.exit.intr_info == 0x80000041,
	          "wanted exit 1 info 0x80000041, got %u %u %#x", out.action, out.exit.reason,
	          out.exit.intr_info);
	vfx_fini(&x);
}

/* SDM 28.2.2: without acknowledge-on-exit the interruption information is invalid and the
 * interrupt stays pending */
Test(vmx_event, external_interrupt_exit_without_ack_leaves_it_pending)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_event_result out;
	struct vmx_pending p = {.extint = true};

	enter_if(&x, &g, true);
	vrt_ctl(&x, VRT_EXIT, EXIT_ACK_INTR_ON_EXIT, false);
	boundary(&x, &g, &p, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
	              out.exit.intr_info == 0 && out.extint_remains,
	          "wanted exit 1 with invalid info, got %u %#x", out.action, out.exit.intr_info);
	vfx_fini(&x);
}

/* SDM 26.2: without external-interrupt exiting the interrupt goes through the guest IDT when
 * RFLAGS.IF = 1 and nothing blocks it */
Test(vmx_event, external_interrupt_without_exiting_is_delivered_when_if_is_1)
{
	static const struct {
		const char *name;
		bool if_set;
		uint32_t blocking;
		uint8_t action;
	} rows[] = {{"IF=1", true, 0, VMX_EV_ACK_EXTINT},
	            {"IF=0", false, 0, VMX_EV_NONE},
	            {"STI blocking", true, CPU_INTR_BLOCK_STI, VMX_EV_NONE}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {.extint = true};

		enter_if(&x, &g, rows[i].if_set);
		vrt_ctl(&x, VRT_PIN, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
		        false);
		g.interruptibility = rows[i].blocking;
		boundary(&x, &g, &p, &out);
		cr_assert_eq(out.action, rows[i].action, "%s: action %u", rows[i].name, out.action);
		if (out.action == VMX_EV_ACK_EXTINT) {
			vmx_extint_ack(x.cpu, 0x30, &g, &out);
			cr_assert(out.action == VMX_EV_DELIVER && out.event.type == VMX_INTR_EXT &&
			              out.event.vector == 0x30,
			          "%s: delivery of 30H", rows[i].name);
		}
		vfx_fini(&x);
	}
}

/* SDM 26.2 and 27.7.1: NMI exiting turns an NMI into exit 0; MOV-SS blocking holds it; with
 * virtual NMIs the blocking bit does not block the physical NMI */
Test(vmx_event, nmi_exits_with_nmi_exiting)
{
	static const struct {
		const char *name;
		uint32_t blocking;
		bool exits;
	} rows[] = {{"no blocking", 0, true},
	            {"virtual-NMI blocking", CPU_INTR_BLOCK_NMI, true},
	            {"MOV-SS blocking", CPU_INTR_BLOCK_MOV_SS, false}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {.nmi = true};

		enter_if(&x, &g, false);
		g.interruptibility = rows[i].blocking;
		boundary(&x, &g, &p, &out);
		cr_assert_eq(out.action == VMX_EV_EXIT, rows[i].exits, "%s: action %u",
		             rows[i].name, out.action);
		if (rows[i].exits)
			cr_assert(out.exit.reason == 0 && out.exit.intr_info == 0x80000202,
			          "%s: exit 0 info 0x80000202, got %u %#x", rows[i].name,
			          out.exit.reason, out.exit.intr_info);
		vfx_fini(&x);
	}
}

/* SDM 26.2: without NMI exiting the NMI is delivered through descriptor 2 unless blocked */
Test(vmx_event, nmi_without_exiting_is_delivered_unless_blocked)
{
	for (int blocked = 0; blocked <= 1; blocked++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {.nmi = true};

		enter_if(&x, &g, false);
		vrt_ctl(&x, VRT_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, false);
		g.interruptibility = blocked ? CPU_INTR_BLOCK_NMI : 0;
		boundary(&x, &g, &p, &out);
		if (blocked)
			cr_assert_eq(out.action, VMX_EV_NONE, "blocked by NMI");
		else
			cr_assert(out.action == VMX_EV_DELIVER && out.event.vector == 2 &&
			              out.event.type == VMX_INTR_NMI,
			          "NMI delivered through vector 2");
		vfx_fini(&x);
	}
}

/* SDM 26.2: interrupt-window exiting exits before any instruction when IF = 1 and there is no
 * STI/MOV-SS blocking; it wakes HLT */
Test(vmx_event, interrupt_window_exit_needs_an_open_window)
{
	static const struct {
		const char *name;
		bool if_set;
		uint32_t blocking, activity;
		bool exits;
	} rows[] = {
	    {"open", true, 0, CPU_ACTIVITY_ACTIVE, true},
	    {"IF=0", false, 0, CPU_ACTIVITY_ACTIVE, false},
	    {"MOV-SS blocking", true, CPU_INTR_BLOCK_MOV_SS, CPU_ACTIVITY_ACTIVE, false},
	    {"in HLT", true, 0, CPU_ACTIVITY_HLT, true},
	    {"in shutdown", true, 0, CPU_ACTIVITY_SHUTDOWN, false},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {0};

		enter_if(&x, &g, rows[i].if_set);
		vrt_ctl(&x, VRT_PROC, PROC_INTR_WINDOW_EXITING, true);
		g.interruptibility = rows[i].blocking;
		g.activity = rows[i].activity;
		boundary(&x, &g, &p, &out);
		cr_assert_eq(out.action == VMX_EV_EXIT &&
		                 out.exit.reason == EXIT_REASON_INTERRUPT_WINDOW,
		             rows[i].exits, "%s: action %u reason %u", rows[i].name, out.action,
		             out.exit.reason);
		vfx_fini(&x);
	}
}

/* SDM 26.2: NMI-window exiting exits without virtual-NMI blocking; it comes before an NMI and
 * before the interrupt window */
Test(vmx_event, nmi_window_exit_precedes_nmi_and_interrupt_window)
{
	for (int vblock = 0; vblock <= 1; vblock++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {.nmi = true};

		enter_if(&x, &g, true);
		vrt_ctl(&x, VRT_PROC, PROC_NMI_WINDOW_EXITING | PROC_INTR_WINDOW_EXITING, true);
		g.interruptibility = vblock ? CPU_INTR_BLOCK_NMI : 0;
		boundary(&x, &g, &p, &out);
		cr_assert_eq(out.exit.reason,
		             vblock ? EXIT_REASON_EXCEPTION_NMI : EXIT_REASON_NMI_WINDOW,
		             "virtual-NMI blocking %d: reason %u", vblock, out.exit.reason);
		vfx_fini(&x);
	}
}

/* SDM 26.5.2: with "monitor trap flag" an MTF exit is pending after one instruction */
Test(vmx_event, mtf_exit_follows_one_retired_instruction)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {0};

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC, PROC_MONITOR_TRAP_FLAG, true);
	vrt_enter(&x, &g, &fx);
	cr_assert(fx.mtf_single_step && !fx.mtf_exit, "single-step, nothing pending yet");
	boundary(&x, &g, &p, &out);
	cr_assert_eq(out.action, VMX_EV_NONE, "no MTF exit before an instruction");
	vmx_nonroot_retired(x.cpu, 1);
	boundary(&x, &g, &p, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_MONITOR_TRAP_FLAG,
	          "MTF exit after the instruction, got %u/%u", out.action, out.exit.reason);
	vfx_fini(&x);
}

/* SDM 26.5.2 and 27.6.2: a vectoring entry with MTF, or an injected pending MTF, exits at the
 * first boundary; INIT takes priority over it */
Test(vmx_event, mtf_pending_after_vectoring_entry_yields_to_init)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending init = {.init = true}, none = {0};

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000700);
	vrt_enter(&x, &g, &fx);
	boundary(&x, &g, &init, &out);
	cr_assert_eq(out.exit.reason, EXIT_REASON_INIT_SIGNAL, "INIT first, got %u",
	             out.exit.reason);
	boundary(&x, &g, &none, &out);
	cr_assert_eq(out.exit.reason, EXIT_REASON_MONITOR_TRAP_FLAG, "then MTF, got %u",
	             out.exit.reason);
	vfx_fini(&x);
}

/* SDM 26.5.1: the timer exits once TSC bit X has changed value times */
Test(vmx_event, preemption_timer_exits_at_its_deadline)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {0};
	uint64_t deadline;

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PIN, PIN_PREEMPTION_TIMER, true);
	vfx_set(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE, 10);
	vrt_enter(&x, &g, &fx);
	cr_assert(vmx_preemption_timer_deadline(x.cpu, &deadline) &&
	              deadline == fx.timer_deadline && deadline == VRT_TSC + 10 * 128,
	          "deadline %#llx", (unsigned long long)deadline);
	vmx_event_exits(x.cpu, &g, deadline - 1, &p, &out);
	cr_assert_eq(out.action, VMX_EV_NONE, "one tick early: nothing");
	vmx_event_exits(x.cpu, &g, deadline, &p, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_PREEMPTION_TIMER,
	          "exit 52 at the deadline, got %u/%u", out.action, out.exit.reason);
	cr_assert_eq(vmx_timer_remaining(VRT_TSC, 10, 7, VRT_TSC + 3 * 128 + 5), 7, "remaining");
	vfx_fini(&x);
}

/* SDM 26.2 and 27.7.2: INIT exits unless in wait-for-SIPI; SIPI exits only in wait-for-SIPI
 * (qualification = vector) and is discarded elsewhere */
Test(vmx_event, init_and_sipi_follow_the_activity_state)
{
	static const struct {
		const char *name;
		uint32_t activity;
		bool init, sipi;
		uint8_t action;
		uint32_t reason;
	} rows[] = {
	    {"INIT in active", CPU_ACTIVITY_ACTIVE, true, false, VMX_EV_EXIT,
	     EXIT_REASON_INIT_SIGNAL},
	    {"INIT in wait-for-SIPI", CPU_ACTIVITY_WAIT_SIPI, true, false, VMX_EV_NONE, 0},
	    {"SIPI in wait-for-SIPI", CPU_ACTIVITY_WAIT_SIPI, false, true, VMX_EV_EXIT,
	     EXIT_REASON_SIPI},
	    {"SIPI in active", CPU_ACTIVITY_ACTIVE, false, true, VMX_EV_DISCARD_SIPI, 0},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {
		    .init = rows[i].init, .sipi = rows[i].sipi, .sipi_vector = 0x9a};

		enter_if(&x, &g, false);
		g.activity = rows[i].activity;
		boundary(&x, &g, &p, &out);
		cr_assert(out.action == rows[i].action && out.exit.reason == rows[i].reason,
		          "%s: action %u reason %u", rows[i].name, out.action, out.exit.reason);
		if (rows[i].reason == EXIT_REASON_SIPI)
			cr_assert_eq(out.exit.qual, 0x9a, "SIPI vector in the qualification");
		vfx_fini(&x);
	}
}

/* SDM 26.2 / 27.7.2: external interrupts are blocked in shutdown and wait-for-SIPI; a delivery
 * from HLT wakes the processor */
Test(vmx_event, activity_state_blocks_or_wakes)
{
	static const struct {
		const char *name;
		uint32_t activity;
		uint8_t action;
		bool wake;
	} rows[] = {{"HLT", CPU_ACTIVITY_HLT, VMX_EV_DELIVER, true},
	            {"shutdown", CPU_ACTIVITY_SHUTDOWN, VMX_EV_NONE, false},
	            {"wait-for-SIPI", CPU_ACTIVITY_WAIT_SIPI, VMX_EV_NONE, false}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {.extint = true};

		enter_if(&x, &g, true);
		vrt_ctl(&x, VRT_PIN, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
		        false);
		g.activity = rows[i].activity;
		boundary(&x, &g, &p, &out);
		if (out.action == VMX_EV_ACK_EXTINT)
			vmx_extint_ack(x.cpu, 0x30, &g, &out);
		cr_assert(out.action == rows[i].action && out.wake == rows[i].wake,
		          "%s: action %u wake %d", rows[i].name, out.action, out.wake);
		vfx_fini(&x);
	}
}

/* SDM 26.2 "Exceptions": the exception bitmap decides, page faults through mask/match */
Test(vmx_event, exception_bitmap_and_page_fault_mask_match)
{
	static const struct {
		const char *name;
		uint8_t vector;
		uint32_t bitmap, mask, match, pfec;
		bool exits;
	} rows[] = {
	    {"#UD bit set", 6, 1u << 6, 0, 0, 0, true},
	    {"#UD bit clear", 6, 0, 0, 0, 0, false},
	    {"#PF bit 14, mask=match=0", 14, 1u << 14, 0, 0, 0x2, true},
	    {"#PF bit 14, match FFFFFFFF: none", 14, 1u << 14, 0, 0xffffffff, 0x2, false},
	    {"#PF bit clear, PFEC matches", 14, 0, 0x1, 0x1, 0x1, false},
	    {"#PF bit clear, PFEC differs: reversed", 14, 0, 0x1, 0x1, 0x0, true},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_exit_info e;
		struct vmx_exception ex = {.vector = rows[i].vector,
		                           .has_error = rows[i].vector == 14,
		                           .error_code = rows[i].pfec,
		                           .pf_addr = 0xdead000};

		enter_if(&x, &g, false);
		vfx_set(&x, VMCS_EXCEPTION_BITMAP, rows[i].bitmap);
		vfx_set(&x, VMCS_PAGE_FAULT_ERROR_CODE_MASK, rows[i].mask);
		vfx_set(&x, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, rows[i].match);
		cr_assert_eq(vmx_exception_exits(x.cpu, &ex, &e), rows[i].exits, "%s",
		             rows[i].name);
		if (rows[i].exits && rows[i].vector == 14)
			cr_assert(e.qual == 0xdead000 && e.intr_info == 0x80000b0e &&
			              e.intr_error == rows[i].pfec,
			          "%s: #PF exit info %#x qual %#llx", rows[i].name, e.intr_info,
			          (unsigned long long)e.qual);
		vfx_fini(&x);
	}
}

/* SDM 28.2.2: INT3 is a software exception with its instruction length; #DB reports DR6 bits */
Test(vmx_event, software_exception_and_debug_exception_exit_information)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_exit_info e;
	struct vmx_exception bp = {.vector = 3, .software = true, .insn_len = 1};
	struct vmx_exception db = {.vector = 1, .dr6 = 0xffff4ff1};

	enter_if(&x, &g, false);
	vfx_set(&x, VMCS_EXCEPTION_BITMAP, (1u << 3) | (1u << 1));
	cr_assert(vmx_exception_exits(x.cpu, &bp, &e) && e.intr_info == 0x80000603 &&
	              e.has_insn_len && e.insn_len == 1,
	          "#BP: info %#x len %u", e.intr_info, e.insn_len);
	cr_assert(vmx_exception_exits(x.cpu, &db, &e) && e.intr_info == 0x80000301 &&
	              e.qual == 0x4001,
	          "#DB: info %#x qual %#llx", e.intr_info, (unsigned long long)e.qual);
	vfx_fini(&x);
}

/* Event injection of an NMI with virtual NMIs leaves virtual-NMI blocking (SDM 27.6.1.1), so an
 * NMI window does not open until the guest's IRET clears it */
Test(vmx_event, injected_nmi_blocks_the_nmi_window)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {0};

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC, PROC_NMI_WINDOW_EXITING, true);
	vfx_set(&x, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000202);
	vrt_enter(&x, &g, &fx);
	boundary(&x, &g, &p, &out);
	cr_assert_eq(out.action, VMX_EV_NONE, "virtual-NMI blocking closes the window");
	g.interruptibility &= ~CPU_INTR_BLOCK_NMI; /* the guest's IRET */
	boundary(&x, &g, &p, &out);
	cr_assert_eq(out.exit.reason, EXIT_REASON_NMI_WINDOW, "window opens after IRET");
	vfx_fini(&x);
}

/* SDM 27.7.2 and 26.5.1: an entry to wait-for-SIPI blocks external interrupts, NMIs, INIT and the
 * expired preemption timer; only a SIPI leaves it (exit 4) */
Test(vmx_event, entry_to_wait_for_sipi_waits_for_a_sipi_only)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {.extint = true, .nmi = true, .init = true};

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PIN, PIN_PREEMPTION_TIMER, true);
	vfx_set(&x, VMCS_VMX_PREEMPTION_TIMER_VALUE, 0);
	vfx_set(&x, VMCS_GUEST_ACTIVITY_STATE, CPU_ACTIVITY_WAIT_SIPI);
	vrt_enter(&x, &g, &fx);
	cr_assert(g.activity == CPU_ACTIVITY_WAIT_SIPI && !fx.timer_exit,
	          "wait-for-SIPI: activity %u, timer exit %d", g.activity, fx.timer_exit);
	vmx_event_exits(x.cpu, &g, VRT_TSC + 1000, &p, &out);
	cr_assert_eq(out.action, VMX_EV_NONE, "everything blocked, got %u/%u", out.action,
	             out.exit.reason);
	p.sipi = true;
	p.sipi_vector = 0x10;
	vmx_event_exits(x.cpu, &g, VRT_TSC + 1000, &p, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_SIPI &&
	              out.exit.qual == 0x10,
	          "SIPI exit 4 qual 10H, got %u/%u", out.action, out.exit.reason);
	vfx_fini(&x);
}

/* SDM 27.7.2: an entry to the shutdown state blocks external interrupts and MTF, while an NMI
 * (NMI exiting) still exits */
Test(vmx_event, entry_to_shutdown_lets_only_nmis_through)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {.extint = true};

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC, PROC_MONITOR_TRAP_FLAG, true);
	vfx_set(&x, VMCS_GUEST_ACTIVITY_STATE, CPU_ACTIVITY_SHUTDOWN);
	vrt_enter(&x, &g, &fx);
	vmx_nonroot_retired(x.cpu, 1);
	vmx_event_exits(x.cpu, &g, VRT_TSC, &p, &out);
	cr_assert_eq(out.action, VMX_EV_NONE, "interrupt and MTF blocked in shutdown, got %u/%u",
	             out.action, out.exit.reason);
	p.nmi = true;
	vmx_event_exits(x.cpu, &g, VRT_TSC, &p, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.reason == EXIT_REASON_EXCEPTION_NMI,
	          "NMI exits from shutdown, got %u/%u", out.action, out.exit.reason);
	vfx_fini(&x);
}
