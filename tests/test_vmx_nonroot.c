/* Verifies which guest operations cause VM exits in VMX non-root operation (SDM 26.1.2, 26.1.3),
 * the fault priorities of SDM 26.1.1 and the changed behaviour of non-exiting instructions
 * (SDM 26.3): each test enters the fixture's known-good guest, flips the control or bitmap under
 * test and asks vmx_op_exits about one operation, checking the outcome and the exit it prepared
 * (basic reason, qualification, instruction length and information). Table-driven tests give
 * each row its own message. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

#define EXPECT_EXIT(r, reason_, what)                                                          \
	cr_assert((r).outcome == VMX_OP_EXIT && (r).exit.reason == (reason_),                  \
	          "%s: wanted exit %u, got outcome %u reason %u", (what), (unsigned)(reason_), \
	          (r).outcome, (r).exit.reason)

#define EXPECT_OUTCOME(r, out_, what)                                                         \
	cr_assert((r).outcome == (out_), "%s: wanted outcome %u, got %u (reason %u)", (what), \
	          (unsigned)(out_), (r).outcome, (r).exit.reason)

struct ctl_row {
	const char *name;
	uint8_t kind;
	unsigned word;
	uint32_t bit;
	uint32_t reason;
};

/* SDM 26.1.3: the instructions a single execution control turns into exits */
static const struct ctl_row ctl_rows[] = {
    {"HLT / HLT exiting", GOP_HLT, VRT_PROC, PROC_HLT_EXITING, EXIT_REASON_HLT},
    {"INVLPG / INVLPG exiting", GOP_INVLPG, VRT_PROC, PROC_INVLPG_EXITING, EXIT_REASON_INVLPG},
    {"MWAIT / MWAIT exiting", GOP_MWAIT, VRT_PROC, PROC_MWAIT_EXITING, EXIT_REASON_MWAIT},
    {"RDPMC / RDPMC exiting", GOP_RDPMC, VRT_PROC, PROC_RDPMC_EXITING, EXIT_REASON_RDPMC},
    {"RDTSC / RDTSC exiting", GOP_RDTSC, VRT_PROC, PROC_RDTSC_EXITING, EXIT_REASON_RDTSC},
    {"RDTSCP / RDTSC exiting", GOP_RDTSCP, VRT_PROC, PROC_RDTSC_EXITING, EXIT_REASON_RDTSCP},
    {"MONITOR / MONITOR exiting", GOP_MONITOR, VRT_PROC, PROC_MONITOR_EXITING, EXIT_REASON_MONITOR},
    {"PAUSE / PAUSE exiting", GOP_PAUSE, VRT_PROC, PROC_PAUSE_EXITING, EXIT_REASON_PAUSE},
    {"WBINVD / WBINVD exiting", GOP_WBINVD, VRT_PROC2, PROC2_WBINVD_EXITING, EXIT_REASON_WBINVD},
    {"RDRAND / RDRAND exiting", GOP_RDRAND, VRT_PROC2, PROC2_RDRAND_EXITING, EXIT_REASON_RDRAND},
    {"RDSEED / RDSEED exiting", GOP_RDSEED, VRT_PROC2, PROC2_RDSEED_EXITING, EXIT_REASON_RDSEED},
};

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static void row_setup(struct vfx *x, struct cpu_state *g, const struct ctl_row *row, bool on)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_enter(x, g, &fx);
	vrt_ctl(x, row->word, row->bit, on);
}

/* SDM 26.1.3 "Instructions That Cause VM Exits Conditionally" */
Test(vmx_nonroot, conditional_instruction_exits_when_its_control_is_1)
{
	for (size_t i = 0; i < NROWS(ctl_rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(ctl_rows[i].kind);

		row_setup(&x, &g, &ctl_rows[i], true);
		cr_assert(vrt_run(&x, &op, &g, &r), "%s: wanted an exit", ctl_rows[i].name);
		EXPECT_EXIT(r, ctl_rows[i].reason, ctl_rows[i].name);
		cr_assert(r.exit.has_insn_len && r.exit.insn_len == VRT_LEN,
		          "%s: instruction length wanted %u got %u", ctl_rows[i].name, VRT_LEN,
		          r.exit.insn_len);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3: with the control 0 the instruction runs in the guest (RDTSC/RDTSCP complete with
 * the guest TSC, SDM 26.3) */
Test(vmx_nonroot, conditional_instruction_runs_when_its_control_is_0)
{
	for (size_t i = 0; i < NROWS(ctl_rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(ctl_rows[i].kind);
		bool tsc = op.kind == GOP_RDTSC || op.kind == GOP_RDTSCP;

		row_setup(&x, &g, &ctl_rows[i], false);
		cr_assert_not(vrt_run(&x, &op, &g, &r), "%s: wanted no exit, got reason %u",
		              ctl_rows[i].name, r.exit.reason);
		EXPECT_OUTCOME(r, tsc ? VMX_OP_DONE : VMX_OP_EXECUTE, ctl_rows[i].name);
		vfx_fini(&x);
	}
}

/* SDM 26.1.2 "Instructions That Cause VM Exits Unconditionally" */
Test(vmx_nonroot, cpuid_invd_xsetbv_vmcall_always_exit)
{
	static const struct {
		const char *name;
		uint8_t kind;
		uint32_t reason;
	} rows[] = {{"CPUID", GOP_CPUID, EXIT_REASON_CPUID},
	            {"INVD", GOP_INVD, EXIT_REASON_INVD},
	            {"XSETBV", GOP_XSETBV, EXIT_REASON_XSETBV},
	            {"VMCALL", GOP_VMCALL, EXIT_REASON_VMCALL}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(rows[i].kind);

		vfx_init(&x, VFX_PROFILE);
		vrt_enter(&x, &g, &fx);
		g.cr4 |= CR4_OSXSAVE;
		vrt_ctl(&x, VRT_PROC, UINT32_MAX & ~PROC_ACTIVATE_SECONDARY, false);
		vrt_run(&x, &op, &g, &r);
		EXPECT_EXIT(r, rows[i].reason, rows[i].name);
		vfx_fini(&x);
	}
}

/* SDM 26.3 RDTSCP: #UD without "enable RDTSCP", before any exit */
Test(vmx_nonroot, rdtscp_without_enable_rdtscp_raises_ud)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_RDTSCP);

	vfx_init(&x, VFX_PROFILE);
	vrt_enter(&x, &g, &fx);
	vrt_ctl(&x, VRT_PROC, PROC_RDTSC_EXITING, true);
	vrt_ctl(&x, VRT_PROC2, PROC2_ENABLE_RDTSCP, false);
	vrt_run(&x, &op, &g, &r);
	EXPECT_OUTCOME(r, VMX_OP_FAULT, "RDTSCP without enable RDTSCP");
	cr_assert(r.fault.vector == 6 && r.fault.type == VMX_INTR_HW_EXC, "wanted #UD, got %u/%u",
	          r.fault.vector, r.fault.type);
	vfx_fini(&x);
}

/* SDM 26.3 RDTSC: "use TSC offsetting" adds the TSC offset; "use TSC scaling" multiplies by the
 * 16.48 multiplier first; RDTSCP also returns IA32_TSC_AUX */
Test(vmx_nonroot, rdtsc_returns_scaled_and_offset_tsc)
{
	static const struct {
		const char *name;
		bool offsetting, scaling;
		uint64_t offset, mult, want;
	} rows[] = {
	    {"no offsetting", false, false, 0x5000, 0, VRT_TSC},
	    {"offset", true, false, 0x5000, 0, VRT_TSC + 0x5000},
	    {"negative offset", true, false, (uint64_t)-0x1000, 0, VRT_TSC - 0x1000},
	    {"scale by 2 plus offset", true, true, 0x10, UINT64_C(2) << 48, 2 * VRT_TSC + 0x10},
	    {"scale by 1/2", true, true, 0, UINT64_C(1) << 47, VRT_TSC / 2},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(GOP_RDTSCP);

		vfx_init(&x, VFX_PROFILE);
		vrt_ctl(&x, VRT_PROC, PROC_USE_TSC_OFFSETTING, rows[i].offsetting);
		vrt_ctl(&x, VRT_PROC2, PROC2_USE_TSC_SCALING, rows[i].scaling);
		vfx_set(&x, VMCS_TSC_OFFSET, rows[i].offset);
		vfx_set(&x, VMCS_TSC_MULTIPLIER, rows[i].mult ? rows[i].mult : 1);
		vrt_enter(&x, &g, &fx);
		g.tsc_aux = 0x1234;
		vrt_run(&x, &op, &g, &r);
		cr_assert(
		    r.outcome == VMX_OP_DONE && r.done.has_value && r.done.value == rows[i].want,
		    "%s: wanted TSC %#llx, got outcome %u value %#llx", rows[i].name,
		    (unsigned long long)rows[i].want, r.outcome, (unsigned long long)r.done.value);
		cr_assert(r.done.has_aux && r.done.aux == 0x1234, "%s: RDTSCP ECX wanted 0x1234",
		          rows[i].name);
		vfx_fini(&x);
	}
}

/* SDM 26.3 RDMSR: IA32_TIME_STAMP_COUNTER (10H) reads with the TSC offset */
Test(vmx_nonroot, rdmsr_tsc_reads_offset_tsc)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_msr(GOP_RDMSR, 0x10, 0);

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC, PROC_USE_TSC_OFFSETTING, true);
	vfx_set(&x, VMCS_TSC_OFFSET, 0x777);
	vrt_enter(&x, &g, &fx);
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE && r.done.value == VRT_TSC + 0x777,
	          "wanted %#llx, got outcome %u value %#llx", (unsigned long long)(VRT_TSC + 0x777),
	          r.outcome, (unsigned long long)r.done.value);
	vfx_fini(&x);
}

/* AMD's VMMCALL and TDX's TDCALL and SEAMCALL are #UD on this processor (no SEAM): the guest gets
 * #UD, no exit */
Test(vmx_nonroot, vmmcall_tdcall_and_seamcall_raise_ud_without_exit)
{
	static const uint8_t kinds[] = {GOP_VMMCALL, GOP_TDCALL, GOP_SEAMCALL};

	for (size_t i = 0; i < NROWS(kinds); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(kinds[i]);

		vfx_init(&x, VFX_PROFILE);
		vrt_enter(&x, &g, &fx);
		cr_assert_not(vrt_run(&x, &op, &g, &r), "%s: no exit",
		              guest_op_kind_name(kinds[i]));
		cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 6 && !r.fault.has_error,
		          "%s: wanted #UD, got outcome %u vector %u", guest_op_kind_name(kinds[i]),
		          r.outcome, r.fault.vector);
		vfx_fini(&x);
	}
}

/* Intel TDX ISA TDCALL, SEAMCALL on a TDX-capable processor (Sapphire Rapids, seam): at CPL 0 an
 * unconditional VM exit (77, 76); at CPL 3 #GP(0) first, no exit (KVM commit 9d7dfb95da2c) */
Test(vmx_nonroot, tdcall_and_seamcall_exit_at_cpl0_and_gp_at_cpl3_with_seam)
{
	static const struct {
		uint8_t kind;
		unsigned reason;
	} rows[] = {{GOP_TDCALL, EXIT_REASON_TDCALL}, {GOP_SEAMCALL, EXIT_REASON_SEAMCALL}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		const char *name = guest_op_kind_name(rows[i].kind);
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(rows[i].kind);

		vfx_init(&x, "intel-sapphirerapids");
		vrt_enter(&x, &g, &fx);
		cr_assert(vrt_run(&x, &op, &g, &r), "%s at CPL 0: wanted an exit", name);
		EXPECT_EXIT(r, rows[i].reason, name);
		g.seg[SEG_SS].ar |= 3u << 5; /* SS.DPL = CPL 3 */
		cr_assert_not(vrt_run(&x, &op, &g, &r), "%s at CPL 3: wanted no exit", name);
		cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 13 && r.fault.has_error &&
		              r.fault.error_code == 0,
		          "%s at CPL 3: wanted #GP(0), got outcome %u vector %u", name, r.outcome,
		          r.fault.vector);
		vfx_fini(&x);
	}
}

/* SDM 26.2 "Exceptions": with bit 6 in the exception bitmap, the #UD becomes exit 0 */
Test(vmx_nonroot, vmmcall_ud_exits_when_exception_bitmap_has_ud)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_VMMCALL);

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_EXCEPTION_BITMAP, 1u << 6);
	vrt_enter(&x, &g, &fx);
	vrt_run(&x, &op, &g, &r);
	EXPECT_EXIT(r, EXIT_REASON_EXCEPTION_NMI, "VMMCALL #UD intercepted");
	cr_assert_eq(r.exit.intr_info, 0x80000306u, "interruption info wanted 0x80000306, got %#x",
	             r.exit.intr_info);
	vfx_fini(&x);
}

/* SDM 26.1.1: privilege-level faults come before VM exits (HLT at CPL 3 is #GP(0)) */
Test(vmx_nonroot, privileged_instruction_at_cpl3_faults_before_exit)
{
	static const uint8_t kinds[] = {GOP_HLT,    GOP_INVD,  GOP_WBINVD,
	                                GOP_INVLPG, GOP_RDMSR, GOP_WRMSR};

	for (size_t i = 0; i < NROWS(kinds); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = vrt_op(kinds[i]);

		vfx_init(&x, VFX_PROFILE);
		vrt_enter(&x, &g, &fx);
		g.seg[SEG_SS].ar |= 3u << 5;
		vrt_run(&x, &op, &g, &r);
		cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 13 && r.fault.has_error,
		          "%s at CPL 3: wanted #GP(0), got outcome %u vector %u",
		          guest_op_kind_name(kinds[i]), r.outcome, r.fault.vector);
		vfx_fini(&x);
	}
}

/* SDM 26.2: the #GP a CPL-3 RDMSR raises exits with its error code when intercepted */
Test(vmx_nonroot, cpl3_gp_exits_with_error_code_when_intercepted)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_msr(GOP_RDMSR, 0x1b, 0);

	vfx_init(&x, VFX_PROFILE);
	vfx_set(&x, VMCS_EXCEPTION_BITMAP, 1u << 13);
	vrt_enter(&x, &g, &fx);
	g.seg[SEG_SS].ar |= 3u << 5;
	vrt_run(&x, &op, &g, &r);
	EXPECT_EXIT(r, EXIT_REASON_EXCEPTION_NMI, "#GP intercepted");
	cr_assert(r.exit.intr_info == 0x80000b0du && r.exit.intr_error == 0,
	          "wanted info 0x80000b0d error 0, got %#x / %#x", r.exit.intr_info,
	          r.exit.intr_error);
	vfx_fini(&x);
}

/* SDM 26.1.1: #UD of XSETBV with CR4.OSXSAVE = 0 comes before its unconditional exit */
Test(vmx_nonroot, xsetbv_without_osxsave_raises_ud)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_XSETBV);

	vfx_init(&x, VFX_PROFILE);
	vrt_enter(&x, &g, &fx);
	g.cr4 &= ~CR4_OSXSAVE;
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 6, "wanted #UD, got %u/%u",
	          r.outcome, r.fault.vector);
	vfx_fini(&x);
}

/* SDM 26.3 MWAIT: no sleep when IF = 0, ECX[0] = 1 and interrupt-window exiting is 1 */
Test(vmx_nonroot, mwait_with_intr_window_and_if0_does_not_sleep)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_MWAIT);

	vfx_init(&x, VFX_PROFILE);
	vrt_enter(&x, &g, &fx);
	vrt_ctl(&x, VRT_PROC, PROC_INTR_WINDOW_EXITING, true);
	op.u.mwait.ecx = 1;
	g.rflags &= ~RFLAGS_IF;
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE && r.done.no_sleep, "wanted DONE no_sleep, got %u/%d",
	          r.outcome, r.done.no_sleep);
	op.u.mwait.ecx = 0;
	vrt_run(&x, &op, &g, &r);
	EXPECT_OUTCOME(r, VMX_OP_EXECUTE, "ECX[0] = 0 sleeps normally");
	vfx_fini(&x);
}

/* ---- I/O (SDM 26.1.3, I/O bitmaps SDM 25.6.4) ---- */

static void io_setup(struct vfx *x, struct cpu_state *g, bool bitmaps, bool uncond)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_enter(x, g, &fx);
	vrt_ctl(x, VRT_PROC, PROC_USE_IO_BITMAPS, bitmaps);
	vrt_ctl(x, VRT_PROC, PROC_UNCOND_IO_EXITING, uncond);
}

Test(vmx_nonroot, io_without_bitmaps_follows_unconditional_io_exiting)
{
	for (int uncond = 0; uncond <= 1; uncond++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_io(0x70, 1, false);

		io_setup(&x, &g, false, uncond);
		cr_assert_eq(vrt_run(&x, &op, &g, &r), uncond,
		             "unconditional I/O exiting %d: exit wanted %d", uncond, uncond);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3: bitmap A covers 0000H-7FFFH, B 8000H-FFFFH; unconditional I/O exiting ignored */
Test(vmx_nonroot, io_bitmap_bit_decides_the_exit)
{
	static const struct {
		const char *name;
		uint16_t port, set_port;
		uint8_t size;
		bool exits;
	} rows[] = {
	    {"bitmap A bit set", 0x60, 0x60, 1, true},
	    {"bitmap A other bit", 0x60, 0x61, 1, false},
	    {"bitmap B bit set", 0xcf8, 0xcf8, 4, true},
	    {"bitmap B high port", 0x9000, 0x9000, 1, true},
	    {"word access touching a set bit", 0x3f7, 0x3f8, 2, true},
	    {"dword access straddling A and B", 0x7ffe, 0x8001, 4, true},
	    {"clear bitmaps with unconditional exiting", 0x80, 0xffff, 1, false},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_io(rows[i].port, rows[i].size, true);
		uint16_t sp = rows[i].set_port;

		io_setup(&x, &g, true, true);
		if (sp != 0xffff)
			vrt_bitmap_set(&x, sp < 0x8000 ? VFX_IO_A : VFX_IO_B, sp & 0x7fff);
		cr_assert_eq(vrt_run(&x, &op, &g, &r), rows[i].exits, "%s: exit wanted %d",
		             rows[i].name, rows[i].exits);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3: an access that wraps from FFFFH to 0000H exits whatever the bitmaps say */
Test(vmx_nonroot, io_access_wrapping_port_space_exits)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_io(0xffff, 2, false);

	io_setup(&x, &g, true, false);
	cr_assert(vrt_run(&x, &op, &g, &r), "port FFFFH word access: wanted exit");
	EXPECT_EXIT(r, EXIT_REASON_IO_INSTRUCTION, "wrap");
	vfx_fini(&x);
}

/* SDM 28.2.1 exit qualification for I/O instructions */
Test(vmx_nonroot, io_exit_qualification_encodes_the_access)
{
	static const struct {
		uint16_t port;
		uint8_t size;
		bool in, string, rep, imm;
		uint64_t qual;
	} rows[] = {
	    {0x60, 1, true, false, false, true, 0x00600048},
	    {0x3f8, 1, false, false, false, false, 0x03f80000},
	    {0xcfc, 4, true, false, false, false, 0x0cfc000b},
	    {0x1f0, 2, true, true, true, false, 0x01f00039},
	    {0x80, 2, false, true, false, false, 0x00800011},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_io(rows[i].port, rows[i].size, rows[i].in);

		op.u.io.string = rows[i].string;
		op.u.io.rep = rows[i].rep;
		op.u.io.imm = rows[i].imm;
		io_setup(&x, &g, false, true);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.exit.qual, rows[i].qual, "row %zu port %#x: wanted %#llx, got %#llx",
		             i, rows[i].port, (unsigned long long)rows[i].qual,
		             (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 28.2.1 / 28.2.4: INS and OUTS record the linear address of their memory operand and the
 * address size and segment (OUTS: DS by default) */
Test(vmx_nonroot, string_io_records_linear_address_and_instruction_info)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_io(0x3f8, 1, false);

	io_setup(&x, &g, false, true);
	op.u.io.string = true;
	g.gpr[GPR_RSI] = 0x123456789;
	g.seg[SEG_DS].base = 0x1000;
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.exit.has_linear && r.exit.guest_linear == 0x123457789,
	          "OUTS linear wanted 0x123457789, got %#llx",
	          (unsigned long long)r.exit.guest_linear);
	cr_assert(r.exit.has_insn_info && r.exit.insn_info == ((2u << 7) | (3u << 15)),
	          "OUTS info wanted 64-bit DS %#x, got %#x", (2u << 7) | (3u << 15),
	          r.exit.insn_info);
	vfx_fini(&x);
}

/* ---- MSRs (SDM 26.1.3, MSR bitmaps SDM 25.6.9) ---- */

static void msr_setup(struct vfx *x, struct cpu_state *g)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_enter(x, g, &fx);
}

Test(vmx_nonroot, msr_access_exits_without_msr_bitmaps)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op rd = vrt_msr(GOP_RDMSR, 0x1b, 0), wr = vrt_msr(GOP_WRMSR, 0x1b, 0);

	msr_setup(&x, &g);
	vrt_ctl(&x, VRT_PROC, PROC_USE_MSR_BITMAPS, false);
	vrt_run(&x, &rd, &g, &r);
	EXPECT_EXIT(r, EXIT_REASON_RDMSR, "RDMSR without bitmaps");
	vrt_run(&x, &wr, &g, &r);
	EXPECT_EXIT(r, EXIT_REASON_WRMSR, "WRMSR without bitmaps");
	vfx_fini(&x);
}

/* SDM 25.6.9: read-low at 0, read-high at 1024, write-low at 2048, write-high at 3072 */
Test(vmx_nonroot, msr_bitmap_quarter_decides_the_exit)
{
	static const struct {
		const char *name;
		uint8_t kind;
		uint32_t index;
		unsigned bit; /* bit number in the 4-KByte bitmap page */
	} rows[] = {
	    {"read low", GOP_RDMSR, 0x1b, 0x1b},
	    {"read high", GOP_RDMSR, 0xc0000080, 8192 + 0x80},
	    {"write low", GOP_WRMSR, 0x1b, 16384 + 0x1b},
	    {"write high", GOP_WRMSR, 0xc0000080, 24576 + 0x80},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(rows[i].kind, rows[i].index, 0);
		uint32_t reason = rows[i].kind == GOP_RDMSR ? EXIT_REASON_RDMSR : EXIT_REASON_WRMSR;

		msr_setup(&x, &g);
		cr_assert_not(vrt_run(&x, &op, &g, &r), "%s: clear bit must not exit",
		              rows[i].name);
		vrt_bitmap_set(&x, VFX_MSR_BITMAP, rows[i].bit);
		vrt_run(&x, &op, &g, &r);
		EXPECT_EXIT(r, reason, rows[i].name);
		vfx_fini(&x);
	}
}

Test(vmx_nonroot, msr_outside_bitmap_ranges_always_exits)
{
	static const uint32_t idx[] = {0x2000, 0x40000000, 0xbfffffff, 0xc0002000};

	for (size_t i = 0; i < NROWS(idx); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(GOP_RDMSR, idx[i], 0);

		msr_setup(&x, &g);
		vrt_run(&x, &op, &g, &r);
		cr_assert(r.outcome == VMX_OP_EXIT && r.exit.reason == EXIT_REASON_RDMSR,
		          "RDMSR %#x: wanted exit 31, got outcome %u", idx[i], r.outcome);
		vfx_fini(&x);
	}
}

/* SDM 26.3 WRMSR: IA32_BIOS_UPDT_TRIG loads no microcode; control passes on */
Test(vmx_nonroot, wrmsr_bios_update_trigger_completes_without_update)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_msr(GOP_WRMSR, 0x79, 0x1000);

	msr_setup(&x, &g);
	vrt_run(&x, &op, &g, &r);
	EXPECT_OUTCOME(r, VMX_OP_DONE, "WRMSR 79H");
	vfx_fini(&x);
}

/* ---- PAUSE-loop exiting (SDM 26.1.3) ---- */

Test(vmx_nonroot, pause_loop_exits_once_the_loop_outlasts_ple_window)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_PAUSE);

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC2, PROC2_PAUSE_LOOP_EXITING, true);
	vfx_set(&x, VMCS_PLE_GAP, 100);
	vfx_set(&x, VMCS_PLE_WINDOW, 1000);
	vrt_enter(&x, &g, &fx);
	cr_assert_not(vmx_op_exits(x.cpu, &op, &g, 10000, &r), "first PAUSE starts a loop");
	for (uint64_t t = 10050; t <= 11000; t += 50)
		cr_assert_not(vmx_op_exits(x.cpu, &op, &g, t, &r), "PAUSE at %llu within window",
		              (unsigned long long)t);
	cr_assert(vmx_op_exits(x.cpu, &op, &g, 11050, &r), "PAUSE 1050 ticks into the loop exits");
	EXPECT_EXIT(r, EXIT_REASON_PAUSE, "PLE");
	vfx_fini(&x);
}

Test(vmx_nonroot, pause_after_ple_gap_starts_a_new_loop)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_PAUSE);

	vfx_init(&x, VFX_PROFILE);
	vrt_ctl(&x, VRT_PROC2, PROC2_PAUSE_LOOP_EXITING, true);
	vfx_set(&x, VMCS_PLE_GAP, 100);
	vfx_set(&x, VMCS_PLE_WINDOW, 1000);
	vrt_enter(&x, &g, &fx);
	vmx_op_exits(x.cpu, &op, &g, 10000, &r);
	for (uint64_t t = 10500; t <= 20000; t += 500)
		cr_assert_not(vmx_op_exits(x.cpu, &op, &g, t, &r),
		              "PAUSE at %llu, 500 > PLE_Gap after the previous: new loop",
		              (unsigned long long)t);
	vfx_fini(&x);
}

/* ---- MMIO (EPT violations, SDM 28.2.1) ---- */

Test(vmx_nonroot, mmio_with_ept_is_an_ept_violation_with_gpa)
{
	static const struct {
		bool write;
		uint64_t qual;
	} rows[] = {{false, 0x181}, {true, 0x182}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_mmio(0xfec00010, 4, rows[i].write, 0);

		msr_setup(&x, &g);
		vrt_run(&x, &op, &g, &r);
		EXPECT_EXIT(r, EXIT_REASON_EPT_VIOLATION, rows[i].write ? "write" : "read");
		cr_assert(r.exit.qual == rows[i].qual && r.exit.has_phys &&
		              r.exit.guest_phys == 0xfec00010,
		          "%s: wanted qual %#llx gpa 0xfec00010, got %#llx %#llx",
		          rows[i].write ? "write" : "read", (unsigned long long)rows[i].qual,
		          (unsigned long long)r.exit.qual, (unsigned long long)r.exit.guest_phys);
		vfx_fini(&x);
	}
}

/* SDM 28.2.1 Table 28-7: the fetch of an instruction from an EPT-unmapped page sets bit 2
 * (instruction fetch), not the read or write bit, and no permission bits (not present). */
Test(vmx_nonroot, fetch_from_mmio_with_ept_is_an_ept_violation_with_the_fetch_bit)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_mmio(0xfec00000, 0, false, 0);

	op.u.mmio.fetch = true;
	op.u.mmio.gpr = GPR_COUNT;
	msr_setup(&x, &g);
	vrt_run(&x, &op, &g, &r);
	EXPECT_EXIT(r, EXIT_REASON_EPT_VIOLATION, "fetch");
	cr_assert(r.exit.qual == (VMX_EPT_FETCH | VMX_EPT_GLA_VALID | VMX_EPT_GLA_XLATE) &&
	              r.exit.has_phys && r.exit.guest_phys == 0xfec00000,
	          "wanted qual 0x184 gpa 0xfec00000, got %#llx %#llx",
	          (unsigned long long)r.exit.qual, (unsigned long long)r.exit.guest_phys);
	vfx_fini(&x);
}

Test(vmx_nonroot, mmio_without_ept_reaches_the_device)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_mmio(0xfec00010, 4, true, 0);

	msr_setup(&x, &g);
	vrt_ctl(&x, VRT_PROC2, PROC2_ENABLE_EPT, false);
	cr_assert_not(vrt_run(&x, &op, &g, &r), "no EPT: no exit");
	EXPECT_OUTCOME(r, VMX_OP_EXECUTE, "MMIO without EPT");
	vfx_fini(&x);
}

Test(vmx_nonroot, no_current_vmcs_means_no_exit)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_result res;
	struct guest_op op = vrt_op(GOP_CPUID);

	vfx_init(&x, VFX_PROFILE);
	memset(&g, 0, sizeof(g));
	vmx_vmclear(x.cpu, VFX_VMCS, &res);
	cr_assert_not(vrt_run(&x, &op, &g, &r), "no current VMCS");
	EXPECT_OUTCOME(r, VMX_OP_EXECUTE, "no current VMCS");
	vfx_fini(&x);
}
