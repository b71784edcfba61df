/* Verifies control-register accesses in VMX non-root operation: when MOV CR0/CR3/CR4/CR8, CLTS and
 * LMSW exit (SDM 26.1.3: guest/host masks and read shadows, CR3-target values, CR8 exiting), what
 * they do without an exit (SDM 26.3: owned bits keep their value, reads see the shadow; SDM 30.3:
 * MOV CR8 through VTPR), and the exit qualification of SDM Table 28-3. Each test enters the
 * fixture's guest and asks vmx_op_exits about one access. */
#include <criterion/criterion.h>

#include "test_vmx_rt.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static void enter(struct vfx *x, struct cpu_state *g)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_enter(x, g, &fx);
}

/* SDM 26.1.3 MOV to CR0: exits unless every owned bit of the source matches the read shadow */
Test(vmx_nonroot_cr, mov_to_cr0_exits_when_an_owned_bit_differs_from_the_shadow)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op;

	enter(&x, &g);
	vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, CR0_TS | CR0_NE);
	vfx_set(&x, VMCS_CR0_READ_SHADOW, CR0_NE);
	op = vrt_cr(0, CR_ACCESS_MOV_TO_CR, GPR_RBX, g.cr0 | CR0_TS);
	cr_assert(vrt_run(&x, &op, &g, &r), "setting owned TS (shadow 0) must exit");
	cr_assert(r.exit.reason == EXIT_REASON_CR_ACCESS && r.exit.qual == 0x300,
	          "wanted exit 28 qual 0x300 (CR0, MOV to, RBX), got %u %#llx", r.exit.reason,
	          (unsigned long long)r.exit.qual);
	vfx_fini(&x);
}

/* SDM 26.3 MOV to CR0: without an exit the owned bits keep the current CR0 value */
Test(vmx_nonroot_cr, mov_to_cr0_matching_the_shadow_keeps_owned_bits)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op;

	enter(&x, &g);
	g.cr0 |= CR0_TS;
	vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vfx_set(&x, VMCS_CR0_READ_SHADOW, 0);
	op = vrt_cr(0, CR_ACCESS_MOV_TO_CR, GPR_RAX, (g.cr0 & ~CR0_TS) | BIT64(18));
	cr_assert_not(vrt_run(&x, &op, &g, &r), "matching the shadow: no exit");
	cr_assert(r.outcome == VMX_OP_DONE && r.done.set_cr && r.done.cr == 0 &&
	              r.done.cr_value == (g.cr0 | BIT64(18)),
	          "wanted CR0 %#llx (TS kept, AM set), got outcome %u value %#llx",
	          (unsigned long long)(g.cr0 | BIT64(18)), r.outcome,
	          (unsigned long long)r.done.cr_value);
	vfx_fini(&x);
}

/* SDM 26.3 MOV from CR0/CR4: owned bits come from the read shadow */
Test(vmx_nonroot_cr, mov_from_cr0_and_cr4_read_the_shadow_for_owned_bits)
{
	static const struct {
		uint8_t cr;
		uint32_t mask_enc, shadow_enc;
	} rows[] = {{0, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW},
	            {4, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_READ_SHADOW}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(rows[i].cr, CR_ACCESS_MOV_FROM_CR, GPR_RCX, 0);
		uint64_t cr, want;

		enter(&x, &g);
		cr = rows[i].cr ? g.cr4 : g.cr0;
		vfx_set(&x, rows[i].mask_enc, 0xff00);
		vfx_set(&x, rows[i].shadow_enc, 0x5a5a);
		want = (cr & ~UINT64_C(0xff00)) | 0x5a00;
		cr_assert_not(vrt_run(&x, &op, &g, &r), "MOV from CR%u never exits", rows[i].cr);
		cr_assert(r.outcome == VMX_OP_DONE && r.done.value == want,
		          "CR%u read wanted %#llx, got %#llx", rows[i].cr, (unsigned long long)want,
		          (unsigned long long)r.done.value);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3 MOV to CR4 exits on an owned bit that differs from the shadow */
Test(vmx_nonroot_cr, mov_to_cr4_exits_when_an_owned_bit_differs_from_the_shadow)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op;

	enter(&x, &g);
	vfx_set(&x, VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vfx_set(&x, VMCS_CR4_READ_SHADOW, 0);
	op = vrt_cr(4, CR_ACCESS_MOV_TO_CR, GPR_RDX, g.cr4 & ~CR4_VMXE);
	cr_assert_not(vrt_run(&x, &op, &g, &r), "VMXE 0 matches the shadow: no exit");
	cr_assert(r.done.set_cr && (r.done.cr_value & CR4_VMXE), "owned VMXE stays 1");
	op.u.cr.value |= CR4_VMXE;
	cr_assert(vrt_run(&x, &op, &g, &r), "VMXE 1 differs from the shadow: exit");
	cr_assert_eq(r.exit.qual, 0x204, "qual wanted 0x204 (CR4, RDX), got %#llx",
	             (unsigned long long)r.exit.qual);
	vfx_fini(&x);
}

/* SDM 26.3 MOV to CR4: an unowned bit set to a value VMX operation forbids is #GP */
Test(vmx_nonroot_cr, mov_to_cr4_clearing_unowned_vmxe_raises_gp)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op;

	enter(&x, &g);
	vfx_set(&x, VMCS_CR4_GUEST_HOST_MASK, 0);
	op = vrt_cr(4, CR_ACCESS_MOV_TO_CR, GPR_RAX, g.cr4 & ~CR4_VMXE);
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.outcome == VMX_OP_FAULT && r.fault.vector == 13, "wanted #GP, got %u/%u",
	          r.outcome, r.fault.vector);
	vfx_fini(&x);
}

/* SDM 26.1.3 and 26.3 CLTS: exit when TS is owned and set in the shadow; owned and clear in
 * the shadow: completes without changing TS; not owned: runs normally */
Test(vmx_nonroot_cr, clts_follows_mask_and_shadow_of_ts)
{
	static const struct {
		uint64_t mask, shadow;
		uint8_t outcome;
	} rows[] = {
	    {CR0_TS, CR0_TS, VMX_OP_EXIT}, {CR0_TS, 0, VMX_OP_DONE}, {0, CR0_TS, VMX_OP_EXECUTE}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(0, CR_ACCESS_CLTS, 0, 0);

		enter(&x, &g);
		g.cr0 |= CR0_TS;
		vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, rows[i].mask);
		vfx_set(&x, VMCS_CR0_READ_SHADOW, rows[i].shadow);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.outcome, rows[i].outcome,
		             "mask %#llx shadow %#llx: wanted %u got %u",
		             (unsigned long long)rows[i].mask, (unsigned long long)rows[i].shadow,
		             rows[i].outcome, r.outcome);
		if (r.outcome == VMX_OP_DONE)
			cr_assert(r.done.cr_value & CR0_TS, "owned TS stays set");
		if (r.outcome == VMX_OP_EXIT)
			cr_assert_eq(r.exit.qual, 0x20, "CLTS qual wanted 0x20, got %#llx",
			             (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3 LMSW: exits on setting owned PE that the shadow has clear, or changing owned bits
 * 3:1; SDM 26.3: otherwise owned bits are kept and PE is never cleared */
Test(vmx_nonroot_cr, lmsw_exits_on_owned_bits_and_never_clears_pe)
{
	static const struct {
		const char *name;
		uint64_t mask, shadow;
		uint16_t src;
		bool exits;
		uint64_t low4; /* CR0[3:0] after a non-exiting LMSW from CR0[3:0] = 0001b */
	} rows[] = {
	    {"owned PE set, shadow clear", CR0_PE, 0, 0x1, true, 0},
	    {"owned MP differs", 0x2, 0x0, 0x3, true, 0},
	    {"owned bits match the shadow: kept from CR0", 0xe, 0x8, 0x9, false, 0x1},
	    {"clearing PE is ignored", 0, 0, 0x0, false, 0x1},
	    {"unowned bits load", 0x0, 0x0, 0xf, false, 0xf},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(0, CR_ACCESS_LMSW, 0, 0);

		enter(&x, &g);
		g.cr0 = (g.cr0 & ~UINT64_C(0xf)) | CR0_PE;
		op.u.cr.lmsw = rows[i].src;
		vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, rows[i].mask);
		vfx_set(&x, VMCS_CR0_READ_SHADOW, rows[i].shadow);
		cr_assert_eq(vrt_run(&x, &op, &g, &r), rows[i].exits, "%s: exit wanted %d",
		             rows[i].name, rows[i].exits);
		if (rows[i].exits)
			cr_assert_eq(r.exit.qual, 0x30 | ((uint64_t)rows[i].src << 16),
			             "%s: LMSW qual %#llx", rows[i].name,
			             (unsigned long long)r.exit.qual);
		else
			cr_assert_eq(r.done.cr_value & 0xf, rows[i].low4,
			             "%s: CR0[3:0] wanted %#llx", rows[i].name,
			             (unsigned long long)rows[i].low4);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3 MOV to CR3: exits with CR3-load exiting unless the value is one of the first
 * CR3-target-count targets */
Test(vmx_nonroot_cr, mov_to_cr3_exits_unless_value_is_a_cr3_target)
{
	static const struct {
		const char *name;
		bool load_exiting;
		uint64_t count, value;
		bool exits;
	} rows[] = {
	    {"no CR3-load exiting", false, 0, 0x5000, false},
	    {"count 0", true, 0, 0x5000, true},
	    {"target 1 of 2", true, 2, 0x6000, false},
	    {"target 2 beyond count 1", true, 1, 0x6000, true},
	    {"no target matches", true, 4, 0x9000, true},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(3, CR_ACCESS_MOV_TO_CR, GPR_RSI, rows[i].value);

		enter(&x, &g);
		vrt_ctl(&x, VRT_PROC, PROC_CR3_LOAD_EXITING, rows[i].load_exiting);
		vfx_set(&x, VMCS_CR3_TARGET_COUNT, rows[i].count);
		vfx_set(&x, VMCS_CR3_TARGET_VALUE0, 0x5000);
		vfx_set(&x, VMCS_CR3_TARGET_VALUE1, 0x6000);
		cr_assert_eq(vrt_run(&x, &op, &g, &r), rows[i].exits, "%s: exit wanted %d",
		             rows[i].name, rows[i].exits);
		vfx_fini(&x);
	}
}

Test(vmx_nonroot_cr, mov_from_cr3_exits_with_cr3_store_exiting)
{
	for (int on = 0; on <= 1; on++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(3, CR_ACCESS_MOV_FROM_CR, GPR_R15, 0);

		enter(&x, &g);
		vrt_ctl(&x, VRT_PROC, PROC_CR3_STORE_EXITING, on);
		cr_assert_eq(vrt_run(&x, &op, &g, &r), on, "CR3-store exiting %d", on);
		if (on)
			cr_assert_eq(r.exit.qual, 0xf13,
			             "qual wanted 0xf13 (CR3, from, R15), got %#llx",
			             (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 26.1.3: MOV to/from CR8 exit with CR8-load/store exiting */
Test(vmx_nonroot_cr, mov_cr8_exits_with_cr8_load_and_store_exiting)
{
	static const struct {
		uint8_t access;
		uint32_t bit;
		uint64_t qual;
	} rows[] = {{CR_ACCESS_MOV_TO_CR, PROC_CR8_LOAD_EXITING, 0x108},
	            {CR_ACCESS_MOV_FROM_CR, PROC_CR8_STORE_EXITING, 0x118}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_cr(8, rows[i].access, GPR_RCX, 2);

		enter(&x, &g);
		vrt_ctl(&x, VRT_PROC, rows[i].bit, true);
		cr_assert(vrt_run(&x, &op, &g, &r), "row %zu: wanted exit", i);
		cr_assert_eq(r.exit.qual, rows[i].qual, "row %zu: qual wanted %#llx, got %#llx", i,
		             (unsigned long long)rows[i].qual, (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 30.3: with "use TPR shadow", MOV to CR8 writes VTPR[7:4] (clearing the rest) and MOV from
 * CR8 reads it back in bits 3:0 */
Test(vmx_nonroot_cr, mov_cr8_with_tpr_shadow_uses_vtpr)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op to = vrt_cr(8, CR_ACCESS_MOV_TO_CR, GPR_RAX, 0x7);
	struct guest_op from = vrt_cr(8, CR_ACCESS_MOV_FROM_CR, GPR_RAX, 0);

	enter(&x, &g);
	vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, 0xffffff0f);
	cr_assert_not(vrt_run(&x, &to, &g, &r), "MOV to CR8: no exit above threshold 0");
	cr_assert_eq(vmx_vapic_read(x.cpu, VAPIC_VTPR), 0x70, "VTPR wanted 0x70, got %#x",
	             vmx_vapic_read(x.cpu, VAPIC_VTPR));
	vrt_run(&x, &from, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE && r.done.value == 7, "MOV from CR8 wanted 7, got %llu",
	          (unsigned long long)r.done.value);
	vfx_fini(&x);
}

/* SDM 26.3 MOV to CR0: with "unrestricted guest" clearing unowned PG and PE is allowed, without
 * it clearing PG is #GP */
Test(vmx_nonroot_cr, mov_to_cr0_clearing_pg_needs_unrestricted_guest)
{
	for (int ug = 0; ug <= 1; ug++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op;

		enter(&x, &g);
		g.efer &= ~(EFER_LME | EFER_LMA);
		vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, 0);
		vrt_ctl(&x, VRT_PROC2, PROC2_UNRESTRICTED_GUEST, ug);
		op = vrt_cr(0, CR_ACCESS_MOV_TO_CR, GPR_RAX, g.cr0 & ~(CR0_PG | CR0_PE));
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.outcome, ug ? VMX_OP_DONE : VMX_OP_FAULT,
		             "unrestricted guest %d: outcome %u", ug, r.outcome);
		vfx_fini(&x);
	}
}

/* Runs a MOV to CR0/CR4 the masks leave to the guest and returns its outcome. */
static enum vmx_op_outcome unowned_mov_to_cr_on(const char *profile, unsigned cr,
                                                const struct cpu_state *state, uint64_t value)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op op;
	struct vmx_entry_effects fx;

	vfx_init(&x, profile);
	vrt_enter(&x, &g, &fx);
	g = *state;
	vfx_set(&x, cr == 0 ? VMCS_CR0_GUEST_HOST_MASK : VMCS_CR4_GUEST_HOST_MASK, 0);
	op = vrt_cr(cr, CR_ACCESS_MOV_TO_CR, GPR_RAX, value);
	vrt_run(&x, &op, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE || (r.outcome == VMX_OP_FAULT && r.fault.vector == 13),
	          "CR%u <- %#llx: wanted done or #GP, got outcome %u", cr,
	          (unsigned long long)value, r.outcome);
	vfx_fini(&x);
	return r.outcome;
}

static enum vmx_op_outcome unowned_mov_to_cr(unsigned cr, const struct cpu_state *state,
                                             uint64_t value)
{
	return unowned_mov_to_cr_on(VFX_PROFILE, cr, state, value);
}

/* A guest in 64-bit mode with the VMX-fixed CR0/CR4 bits of the profile. */
static struct cpu_state long_mode_guest(void)
{
	struct cpu_state g = {0};

	g.cr0 = CR0_PE | CR0_NE | CR0_WP | CR0_PG | BIT64(4);
	g.cr4 = CR4_PAE | CR4_VMXE;
	g.efer = EFER_LME | EFER_LMA;
	g.seg[SEG_CS].ar = AR_L;
	return g;
}

/* SDM Vol. 2B MOV to CR4, #GP(0) "if an attempt is made to leave IA-32e mode by clearing
 * CR4.PAE"; outside IA-32e mode clearing PAE is allowed */
Test(vmx_nonroot_cr, mov_to_cr4_clearing_pae_in_ia32e_mode_raises_gp)
{
	struct cpu_state g = long_mode_guest();

	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 & ~CR4_PAE), VMX_OP_FAULT);
	g.cr0 &= ~CR0_PG;
	g.efer = 0;
	g.seg[SEG_CS].ar = 0;
	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 & ~CR4_PAE), VMX_OP_DONE);
}

/* SDM Vol. 2B MOV to CR4: changing CR4.LA57 in IA-32e mode is #GP(0) */
Test(vmx_nonroot_cr, mov_to_cr4_changing_la57_in_ia32e_mode_raises_gp)
{
	struct cpu_state g = long_mode_guest();

	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 | CR4_LA57), VMX_OP_FAULT);
	g.cr4 |= CR4_LA57;
	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 & ~CR4_LA57), VMX_OP_FAULT);
	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4), VMX_OP_DONE, "LA57 unchanged is fine");
}

/* SDM Vol. 2B MOV to CR4: setting CR4.PCIDE is #GP(0) while CR3[11:0] != 0 or outside
 * IA-32e mode */
Test(vmx_nonroot_cr, mov_to_cr4_setting_pcide_needs_ia32e_mode_and_cr3_low_bits_clear)
{
	struct cpu_state g = long_mode_guest();

	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 | CR4_PCIDE), VMX_OP_DONE);
	g.cr3 = 0x1005;
	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 | CR4_PCIDE), VMX_OP_FAULT);
	g.cr3 = 0x1000;
	g.efer = 0;
	g.cr0 &= ~CR0_PG;
	cr_assert_eq(unowned_mov_to_cr(4, &g, g.cr4 | CR4_PCIDE), VMX_OP_FAULT);
}

/* SDM Vol. 2B MOV to CR4: setting CR4.CET while CR0.WP = 0 is #GP(0) (Sapphire Rapids: the
 * profile whose IA32_VMX_CR4_FIXED1 allows CET) */
Test(vmx_nonroot_cr, mov_to_cr4_setting_cet_needs_cr0_wp)
{
	const char *spr = "intel-sapphirerapids";
	struct cpu_state g = long_mode_guest();

	cr_assert_eq(unowned_mov_to_cr_on(spr, 4, &g, g.cr4 | CR4_CET), VMX_OP_DONE);
	g.cr0 &= ~CR0_WP;
	cr_assert_eq(unowned_mov_to_cr_on(spr, 4, &g, g.cr4 | CR4_CET), VMX_OP_FAULT);
}

/* SDM Vol. 2B MOV to CR0: NW = 1 with CD = 0 is an invalid combination, #GP(0) */
Test(vmx_nonroot_cr, mov_to_cr0_nw_without_cd_raises_gp)
{
	struct cpu_state g = long_mode_guest();

	cr_assert_eq(unowned_mov_to_cr(0, &g, g.cr0 | CR0_NW), VMX_OP_FAULT);
	cr_assert_eq(unowned_mov_to_cr(0, &g, g.cr0 | CR0_NW | CR0_CD), VMX_OP_DONE);
}

/* SDM Vol. 2B MOV to CR0: clearing CR0.PG is #GP(0) in 64-bit mode and while CR4.PCIDE = 1;
 * in compatibility mode it leaves IA-32e mode (unrestricted guest lets PG go) */
Test(vmx_nonroot_cr, mov_to_cr0_clearing_pg_in_64bit_mode_raises_gp)
{
	struct vfx x;
	struct cpu_state g, lm = long_mode_guest();
	struct vmx_op_result r;
	struct guest_op op;
	const struct {
		uint32_t cs_ar;
		uint64_t cr4;
		enum vmx_op_outcome want;
	} rows[] = {{AR_L, CR4_PAE | CR4_VMXE, VMX_OP_FAULT},
	            {0, CR4_PAE | CR4_VMXE, VMX_OP_DONE},
	            {0, CR4_PAE | CR4_VMXE | CR4_PCIDE, VMX_OP_FAULT}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		enter(&x, &g);
		g = lm;
		g.seg[SEG_CS].ar = rows[i].cs_ar;
		g.cr4 = rows[i].cr4;
		vfx_set(&x, VMCS_CR0_GUEST_HOST_MASK, 0);
		vrt_ctl(&x, VRT_PROC2, PROC2_UNRESTRICTED_GUEST, 1);
		op = vrt_cr(0, CR_ACCESS_MOV_TO_CR, GPR_RAX, g.cr0 & ~CR0_PG);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.outcome, rows[i].want, "row %zu: outcome %u", i, r.outcome);
		vfx_fini(&x);
	}
}
