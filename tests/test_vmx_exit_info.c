/* Verifies the exit information of instruction exits (SDM 28.2.1 qualifications, SDM 28.2.4
 * instruction-information formats) and the exits of the instructions without a guest_op kind
 * (GETSEC, MOV DR, INVPCID, descriptor-table and VMX instructions: SDM 26.1.2, 26.1.3, 26.3):
 * encoders are checked against hand-assembled field values; instructions through vmx_insn_exits
 * on the fixture's entered guest. */
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

/* [base + index*scale + disp] in DS, 64-bit addressing */
static struct vmx_insn mem_insn(uint8_t id, uint8_t base, uint8_t index, uint8_t scale,
                                int64_t disp)
{
	struct vmx_insn in;

	memset(&in, 0, sizeof(in));
	in.id = id;
	in.len = 4;
	in.rip = VRT_RIP;
	in.op.mem = true;
	in.op.base = base;
	in.op.index = index;
	in.op.scale = scale;
	in.op.addr_size = 2;
	in.op.seg = SEG_DS;
	in.op.disp = disp;
	in.op.reg1 = GPR_COUNT;
	return in;
}

/* SDM 26.1.2: the VMX instructions exit unconditionally in VMX non-root operation */
Test(vmx_exit_info, vmx_instructions_exit_unconditionally)
{
	static const struct {
		uint8_t id;
		uint32_t reason;
	} rows[] = {
	    {VMX_INSN_VMCLEAR, EXIT_REASON_VMCLEAR}, {VMX_INSN_VMLAUNCH, EXIT_REASON_VMLAUNCH},
	    {VMX_INSN_VMPTRLD, EXIT_REASON_VMPTRLD}, {VMX_INSN_VMPTRST, EXIT_REASON_VMPTRST},
	    {VMX_INSN_VMREAD, EXIT_REASON_VMREAD},   {VMX_INSN_VMRESUME, EXIT_REASON_VMRESUME},
	    {VMX_INSN_VMWRITE, EXIT_REASON_VMWRITE}, {VMX_INSN_VMXOFF, EXIT_REASON_VMXOFF},
	    {VMX_INSN_VMXON, EXIT_REASON_VMXON},     {VMX_INSN_INVEPT, EXIT_REASON_INVEPT},
	    {VMX_INSN_INVVPID, EXIT_REASON_INVVPID},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(rows[i].id, GPR_RAX, GPR_COUNT, 0, 0);

		enter(&x, &g);
		cr_assert(vmx_insn_exits(x.cpu, &in, &g, &r), "insn %u: wanted an exit",
		          rows[i].id);
		cr_assert(r.exit.reason == rows[i].reason && r.exit.insn_len == 4,
		          "insn %u: wanted reason %u len 4, got %u len %u", rows[i].id,
		          rows[i].reason, r.exit.reason, r.exit.insn_len);
		vfx_fini(&x);
	}
}

/* SDM 31.3: #UD before the exit with CR0.PE = 0 (an unrestricted guest in real mode) */
Test(vmx_exit_info, vmx_instruction_in_real_mode_raises_ud)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_insn in = mem_insn(VMX_INSN_VMPTRLD, GPR_RAX, GPR_COUNT, 0, 0);

	enter(&x, &g);
	g.cr0 &= ~(CR0_PE | CR0_PG);
	g.efer &= ~EFER_LMA;
	cr_assert_not(vmx_insn_exits(x.cpu, &in, &g, &r), "no exit in real mode");
	cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 6, "wanted #UD, got %u/%u",
	          r.outcome, r.fault.vector);
	vfx_fini(&x);
}

/* SDM 28.2.1: memory-operand instructions report the displacement; SDM 28.2.4 Table for
 * VMCLEAR/VMPTRLD/VMPTRST/VMXON: scaling 1:0, address size 9:7, segment 17:15, index 21:18,
 * base 26:23 */
Test(vmx_exit_info, vmptrld_reports_displacement_and_memory_operand)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_insn in = mem_insn(VMX_INSN_VMPTRLD, GPR_RBX, GPR_RSI, 3, -0x10);
	uint32_t want = 3u | (2u << 7) | (3u << 15) | (6u << 18) | (3u << 23);

	enter(&x, &g);
	vmx_insn_exits(x.cpu, &in, &g, &r);
	cr_assert_eq(r.exit.qual, (uint64_t)-0x10, "qual wanted -0x10, got %#llx",
	             (unsigned long long)r.exit.qual);
	cr_assert(r.exit.has_insn_info && r.exit.insn_info == want, "info wanted %#x, got %#x",
	          want, r.exit.insn_info);
	vfx_fini(&x);
}

/* SDM 28.2.4 INVEPT/INVPCID/INVVPID: no index (bit 22), Reg2 in 31:28 */
Test(vmx_exit_info, invept_info_has_reg2_and_no_index)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_insn in = mem_insn(VMX_INSN_INVEPT, GPR_RAX, GPR_COUNT, 0, 0x20);
	uint32_t want = (2u << 7) | (3u << 15) | (1u << 22) | (0u << 23) | (1u << 28);

	enter(&x, &g);
	in.op.reg2 = GPR_RCX;
	vmx_insn_exits(x.cpu, &in, &g, &r);
	cr_assert(r.exit.insn_info == want && r.exit.qual == 0x20,
	          "info wanted %#x qual 0x20, got %#x %#llx", want, r.exit.insn_info,
	          (unsigned long long)r.exit.qual);
	vfx_fini(&x);
}

/* SDM 28.2.4 VMREAD/VMWRITE register form: Reg1 6:3, bit 10, Reg2 31:28; no qualification */
Test(vmx_exit_info, vmread_register_form_info)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_insn in = mem_insn(VMX_INSN_VMREAD, GPR_COUNT, GPR_COUNT, 0, 0);
	uint32_t want = (8u << 3) | (1u << 10) | (2u << 28);

	enter(&x, &g);
	in.op.mem = false;
	in.op.reg1 = GPR_R8;
	in.op.reg2 = GPR_RDX;
	vmx_insn_exits(x.cpu, &in, &g, &r);
	cr_assert(r.exit.insn_info == want && r.exit.qual == 0, "info wanted %#x, got %#x", want,
	          r.exit.insn_info);
	vfx_fini(&x);
}

/* SDM 26.1.3 VMREAD/VMWRITE with VMCS shadowing: no exit when the encoding fits in 15 bits and
 * its bitmap bit is 0 */
Test(vmx_exit_info, vmread_with_vmcs_shadowing_follows_the_vmread_bitmap)
{
	static const struct {
		const char *name;
		uint64_t field;
		bool set_bit, exits;
	} rows[] = {{"bit clear", 0x681e, false, false},
	            {"bit set", 0x681e, true, true},
	            {"encoding above bit 14", 0x10000, false, true}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(VMX_INSN_VMREAD, GPR_RAX, GPR_COUNT, 0, 0);

		enter(&x, &g);
		vrt_ctl(&x, VRT_PROC2, PROC2_VMCS_SHADOWING, true);
		in.field = rows[i].field;
		if (rows[i].set_bit)
			vrt_bitmap_set(&x, VFX_VMREAD_BM, (unsigned)rows[i].field);
		cr_assert_eq(vmx_insn_exits(x.cpu, &in, &g, &r), rows[i].exits,
		             "%s: exit wanted %d", rows[i].name, rows[i].exits);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3 descriptor-table exiting: exits 46 and 47 with the identity in bits 29:28 */
Test(vmx_exit_info, descriptor_table_instructions_exit_with_identity)
{
	static const struct {
		uint8_t id;
		uint32_t reason;
		uint32_t identity;
	} rows[] = {
	    {VMX_INSN_SGDT, EXIT_REASON_GDTR_IDTR, 0}, {VMX_INSN_SIDT, EXIT_REASON_GDTR_IDTR, 1},
	    {VMX_INSN_LGDT, EXIT_REASON_GDTR_IDTR, 2}, {VMX_INSN_LIDT, EXIT_REASON_GDTR_IDTR, 3},
	    {VMX_INSN_SLDT, EXIT_REASON_LDTR_TR, 0},   {VMX_INSN_STR, EXIT_REASON_LDTR_TR, 1},
	    {VMX_INSN_LLDT, EXIT_REASON_LDTR_TR, 2},   {VMX_INSN_LTR, EXIT_REASON_LDTR_TR, 3},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(rows[i].id, GPR_RAX, GPR_COUNT, 0, 8);

		enter(&x, &g);
		cr_assert_not(vmx_insn_exits(x.cpu, &in, &g, &r), "insn %u without the control",
		              rows[i].id);
		vrt_ctl(&x, VRT_PROC2, PROC2_DESC_TABLE_EXITING, true);
		cr_assert(vmx_insn_exits(x.cpu, &in, &g, &r), "insn %u with the control",
		          rows[i].id);
		cr_assert(
		    r.exit.reason == rows[i].reason &&
		        ((r.exit.insn_info >> 28) & 3) == rows[i].identity && r.exit.qual == 8,
		    "insn %u: wanted reason %u identity %u qual 8, got %u info %#x qual %#llx",
		    rows[i].id, rows[i].reason, rows[i].identity, r.exit.reason, r.exit.insn_info,
		    (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 28.2.4 LLDT/LTR/SLDT/STR register form: Reg1 6:3 and bit 10 */
Test(vmx_exit_info, ltr_register_form_info)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vmx_insn in = mem_insn(VMX_INSN_LTR, GPR_COUNT, GPR_COUNT, 0, 0);
	uint32_t want = (5u << 3) | (1u << 10) | (3u << 28);

	enter(&x, &g);
	vrt_ctl(&x, VRT_PROC2, PROC2_DESC_TABLE_EXITING, true);
	in.op.mem = false;
	in.op.reg1 = GPR_RBP;
	vmx_insn_exits(x.cpu, &in, &g, &r);
	cr_assert(r.exit.insn_info == want && r.exit.qual == 0, "info wanted %#x, got %#x", want,
	          r.exit.insn_info);
	vfx_fini(&x);
}

/* SDM 26.1.3 MOV DR with MOV-DR exiting; qualification per SDM 28.2.1 */
Test(vmx_exit_info, mov_dr_exits_with_mov_dr_exiting)
{
	static const struct {
		uint8_t id, dr, gpr;
		uint64_t qual;
	} rows[] = {{VMX_INSN_MOV_TO_DR, 7, GPR_RAX, 0x007},
	            {VMX_INSN_MOV_FROM_DR, 6, GPR_R9, 0x916}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(rows[i].id, GPR_COUNT, GPR_COUNT, 0, 0);

		enter(&x, &g);
		in.op.mem = false;
		in.op.reg1 = rows[i].gpr;
		in.dr = rows[i].dr;
		cr_assert_not(vmx_insn_exits(x.cpu, &in, &g, &r), "row %zu without MOV-DR exiting",
		              i);
		vrt_ctl(&x, VRT_PROC, PROC_MOV_DR_EXITING, true);
		cr_assert(vmx_insn_exits(x.cpu, &in, &g, &r), "row %zu with MOV-DR exiting", i);
		cr_assert(r.exit.reason == EXIT_REASON_DR_ACCESS && r.exit.qual == rows[i].qual,
		          "row %zu: wanted 29 / %#llx, got %u / %#llx", i,
		          (unsigned long long)rows[i].qual, r.exit.reason,
		          (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 26.1.2 footnote: GETSEC exits with CR4.SMXE = 1 and is #UD otherwise */
Test(vmx_exit_info, getsec_exits_only_with_cr4_smxe)
{
	for (int smxe = 0; smxe <= 1; smxe++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(VMX_INSN_GETSEC, GPR_COUNT, GPR_COUNT, 0, 0);

		enter(&x, &g);
		g.cr4 = smxe ? g.cr4 | CR4_SMXE : g.cr4 & ~CR4_SMXE;
		vmx_insn_exits(x.cpu, &in, &g, &r);
		if (smxe)
			cr_assert(r.outcome == VMX_OP_EXIT && r.exit.reason == EXIT_REASON_GETSEC,
			          "SMXE 1: wanted exit 11, got %u/%u", r.outcome, r.exit.reason);
		else
			cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 6,
			          "SMXE 0: wanted #UD, got %u", r.outcome);
		vfx_fini(&x);
	}
}

/* SDM 26.3 INVPCID: #UD without "enable INVPCID"; exits with INVLPG exiting */
Test(vmx_exit_info, invpcid_needs_enable_invpcid_and_exits_with_invlpg_exiting)
{
	static const struct {
		bool enable, invlpg;
		uint8_t outcome;
	} rows[] = {
	    {false, true, VMX_OP_FAULT}, {true, false, VMX_OP_EXECUTE}, {true, true, VMX_OP_EXIT}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct vmx_insn in = mem_insn(VMX_INSN_INVPCID, GPR_RAX, GPR_COUNT, 0, 0);

		enter(&x, &g);
		vrt_ctl(&x, VRT_PROC2, PROC2_ENABLE_INVPCID, rows[i].enable);
		vrt_ctl(&x, VRT_PROC, PROC_INVLPG_EXITING, rows[i].invlpg);
		vmx_insn_exits(x.cpu, &in, &g, &r);
		cr_assert_eq(r.outcome, rows[i].outcome,
		             "enable %d INVLPG exiting %d: wanted %u got %u", rows[i].enable,
		             rows[i].invlpg, rows[i].outcome, r.outcome);
		if (r.outcome == VMX_OP_EXIT)
			cr_assert_eq(r.exit.reason, EXIT_REASON_INVPCID, "reason 58");
		vfx_fini(&x);
	}
}

/* SDM Table 28-3 exit qualification for control-register accesses */
Test(vmx_exit_info, cr_access_qualification_layout)
{
	static const struct {
		unsigned cr, access, gpr;
		bool mem;
		uint16_t src;
		uint64_t want;
	} rows[] = {
	    {0, CR_ACCESS_MOV_TO_CR, GPR_RAX, false, 0, 0x0},
	    {4, CR_ACCESS_MOV_TO_CR, GPR_R12, false, 0, 0xc04},
	    {3, CR_ACCESS_MOV_FROM_CR, GPR_RDI, false, 0, 0x713},
	    {8, CR_ACCESS_MOV_FROM_CR, GPR_RSP, false, 0, 0x418},
	    {0, CR_ACCESS_CLTS, GPR_RBX, false, 0, 0x20},
	    {0, CR_ACCESS_LMSW, GPR_RBX, false, 0xabcd, 0xabcd0030},
	    {0, CR_ACCESS_LMSW, 0, true, 0x1, 0x10070},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		uint64_t q =
		    vmx_qual_cr(rows[i].cr, rows[i].access, rows[i].gpr, rows[i].mem, rows[i].src);

		cr_assert_eq(q, rows[i].want, "row %zu: wanted %#llx, got %#llx", i,
		             (unsigned long long)rows[i].want, (unsigned long long)q);
	}
}

/* SDM 28.2.1 APIC-access qualification: offset 11:0, access type 15:12 */
Test(vmx_exit_info, apic_access_qualification_layout)
{
	cr_assert_eq(vmx_qual_apic_access(0x300, VMX_APIC_ACCESS_LINEAR_WRITE), 0x1300,
	             "linear write at 300H");
	cr_assert_eq(vmx_qual_apic_access(0x80, VMX_APIC_ACCESS_LINEAR_READ), 0x80,
	             "linear read at 80H");
	cr_assert_eq(vmx_qual_apic_access(0x1fff, VMX_APIC_ACCESS_GPA_EVENT), 0xafff,
	             "offset keeps 12 bits, type 10");
}

/* SDM 28.2.4 RDRAND/RDSEED: destination 6:3, operand size 12:11; the exit carries it */
Test(vmx_exit_info, rdrand_exit_reports_destination_and_size)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op = vrt_op(GOP_RDRAND);

	enter(&x, &g);
	vrt_ctl(&x, VRT_PROC2, PROC2_RDRAND_EXITING, true);
	op.u.rand.gpr = GPR_R10;
	op.u.rand.size = 4;
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.exit.has_insn_info && r.exit.insn_info == ((10u << 3) | (1u << 11)),
	          "wanted %#x, got %#x", (10u << 3) | (1u << 11), r.exit.insn_info);
	cr_assert_eq(vmx_insn_info_rand(GPR_RAX, 2), 2u << 11, "64-bit RAX");
	vfx_fini(&x);
}

/* SDM 28.2.1 task-switch qualification: selector 15:0, source 31:30 */
Test(vmx_exit_info, task_switch_and_triple_fault_exits)
{
	struct vmx_exit_info e;

	vmx_task_switch_exit(0x28, 2, 5, &e);
	cr_assert(e.reason == EXIT_REASON_TASK_SWITCH && e.qual == 0x80000028 && e.has_insn_len &&
	              e.insn_len == 5,
	          "JMP task switch: got %u %#llx len %u", e.reason, (unsigned long long)e.qual,
	          e.insn_len);
	vmx_task_switch_exit(0x30, 3, 0, &e);
	cr_assert(e.qual == 0xc0000030 && !e.has_insn_len, "IDT task gate: got %#llx",
	          (unsigned long long)e.qual);
	vmx_triple_fault_exit(&e);
	cr_assert(e.reason == EXIT_REASON_TRIPLE_FAULT && e.qual == 0, "triple fault exit 2");
}
