/* VM-entry checks on guest segment registers (SDM 27.3.1.2 "Checks on Guest Segment Registers")
 * and descriptor-table registers (SDM 27.3.1.3 "Checks on Guest Descriptor-Table Registers"), in
 * the SDM's order: selectors, bases, limits, then access rights for virtual-8086 and for other
 * modes (protected, IA-32e, and real or unpaged with "unrestricted guest"). One rule that covers
 * several registers is one check; the failing register is the result's item. Exit 33, qual 0. */
#include "vmx_int.h"

enum seg { ES, CS, SS, DS, FS, GS, LDTR, TR, NSEGS };

struct seg_fields {
	const char *name;
	int sel, base, limit, ar; /* enum vmcs_idx */
};

#define SEG(n)                                                                \
	{                                                                     \
#n, VMCS_IDX_GUEST_##n##_SELECTOR, VMCS_IDX_GUEST_##n##_BASE, \
		    VMCS_IDX_GUEST_##n##_LIMIT, VMCS_IDX_GUEST_##n##_AR_BYTES \
	}

static const struct seg_fields segs[NSEGS] = {
    SEG(ES), SEG(CS), SEG(SS), SEG(DS), SEG(FS), SEG(GS), SEG(LDTR), SEG(TR),
};

static uint32_t sel(const struct vmx_entry_ctx *c, int s)
{
	return (uint32_t)vmx_ctx_f(c, segs[s].sel);
}

static uint64_t base(const struct vmx_entry_ctx *c, int s)
{
	return vmx_ctx_f(c, segs[s].base);
}

static uint32_t limit(const struct vmx_entry_ctx *c, int s)
{
	return (uint32_t)vmx_ctx_f(c, segs[s].limit);
}

static uint32_t ar(const struct vmx_entry_ctx *c, int s)
{
	return (uint32_t)vmx_ctx_f(c, segs[s].ar);
}

static bool usable(const struct vmx_entry_ctx *c, int s)
{
	return !(ar(c, s) & AR_UNUSABLE);
}

static bool v86(const struct vmx_entry_ctx *c)
{
	return (F(GUEST_RFLAGS) & RFLAGS_VM) != 0;
}

/* Checks that apply to "CS, or the register if usable" outside virtual-8086 mode. */
static bool ar_checked(const struct vmx_entry_ctx *c, int s)
{
	return !v86(c) && (s == CS || usable(c, s));
}

/* ---- selectors ---- */

static bool vmx_check_guest_tr_ti(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(sel(c, TR) & SEL_TI, SDM_GUEST_SEG);
}

static bool vmx_check_guest_ldtr_ti(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && (sel(c, LDTR) & SEL_TI), SDM_GUEST_SEG);
}

static bool vmx_check_guest_ss_rpl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!v86(c) && !vmx_unrestricted(c) && SEL_RPL(sel(c, SS)) != SEL_RPL(sel(c, CS)),
	          SDM_GUEST_SEG);
}

/* ---- bases ---- */

static bool vmx_check_guest_v86_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(v86(c) && base(c, s) != (uint64_t)sel(c, s) << 4, SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_base_canonical(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	static const int regs[] = {TR, FS, GS, LDTR};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		int s = regs[i];

		f->item = segs[s].name;
		if (CC((s != LDTR || usable(c, s)) && !vmx_caps_canonical(c->caps, base(c, s)),
		       SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_cs_base_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(base(c, CS) >> 32, SDM_GUEST_SEG);
}

static bool vmx_check_guest_data_base_high(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	static const int regs[] = {SS, DS, ES};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		f->item = segs[regs[i]].name;
		if (CC(usable(c, regs[i]) && (base(c, regs[i]) >> 32), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

/* ---- limits and access rights in virtual-8086 mode ---- */

static bool vmx_check_guest_v86_limit(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(v86(c) && limit(c, s) != 0xffff, SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_v86_ar(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(v86(c) && ar(c, s) != 0xf3, SDM_GUEST_SEG))
			return true;
	}
	return false;
}

/* ---- access rights outside virtual-8086 mode ---- */

static bool cs_type_ok(const struct vmx_entry_ctx *c)
{
	unsigned t = AR_TYPE(ar(c, CS));

	return t == 9 || t == 11 || t == 13 || t == 15 || (vmx_unrestricted(c) && t == 3);
}

static bool vmx_check_guest_cs_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!v86(c) && !cs_type_ok(c), SDM_GUEST_SEG);
}

static bool vmx_check_guest_ss_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	unsigned t = AR_TYPE(ar(c, SS));

	return CC(!v86(c) && usable(c, SS) && t != 3 && t != 7, SDM_GUEST_SEG);
}

static const int data_segs[] = {DS, ES, FS, GS};
#define DATA_SEG_COUNT (sizeof(data_segs) / sizeof(data_segs[0]))

static bool vmx_check_guest_data_type_accessed(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (size_t i = 0; i < DATA_SEG_COUNT; i++) {
		int s = data_segs[i];

		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && !(AR_TYPE(ar(c, s)) & 1), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_data_type_readable(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (size_t i = 0; i < DATA_SEG_COUNT; i++) {
		int s = data_segs[i];
		unsigned t = AR_TYPE(ar(c, s));

		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && (t & 8) && !(t & 2), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_seg_s(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && !(ar(c, s) & AR_S), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_cs_dpl_data(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!v86(c) && AR_TYPE(ar(c, CS)) == 3 && AR_DPL(ar(c, CS)) != 0, SDM_GUEST_SEG);
}

static bool vmx_check_guest_cs_dpl_nonconforming(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	unsigned t = AR_TYPE(ar(c, CS));

	return CC(!v86(c) && (t == 9 || t == 11) && AR_DPL(ar(c, CS)) != AR_DPL(ar(c, SS)),
	          SDM_GUEST_SEG);
}

static bool vmx_check_guest_cs_dpl_conforming(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	unsigned t = AR_TYPE(ar(c, CS));

	return CC(!v86(c) && (t == 13 || t == 15) && AR_DPL(ar(c, CS)) > AR_DPL(ar(c, SS)),
	          SDM_GUEST_SEG);
}

static bool vmx_check_guest_ss_dpl_rpl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!v86(c) && !vmx_unrestricted(c) && AR_DPL(ar(c, SS)) != SEL_RPL(sel(c, SS)),
	          SDM_GUEST_SEG);
}

static bool vmx_check_guest_ss_dpl_real(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	bool real = AR_TYPE(ar(c, CS)) == 3 || !(F(GUEST_CR0) & CR0_PE);

	return CC(!v86(c) && real && AR_DPL(ar(c, SS)) != 0, SDM_GUEST_SEG);
}

static bool vmx_check_guest_data_dpl(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (size_t i = 0; i < DATA_SEG_COUNT; i++) {
		int s = data_segs[i];

		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && !vmx_unrestricted(c) && AR_TYPE(ar(c, s)) <= 11 &&
		           AR_DPL(ar(c, s)) < SEL_RPL(sel(c, s)),
		       SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_seg_present(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && !(ar(c, s) & AR_P), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_seg_ar_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && (ar(c, s) & (AR_RSVD_11_8 | AR_RSVD_31_17)),
		       SDM_GUEST_SEG))
			return true;
	}
	return false;
}

static bool vmx_check_guest_cs_db_long(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!v86(c) && vmx_ia32e_guest(c) && (ar(c, CS) & AR_L) && (ar(c, CS) & AR_DB),
	          SDM_GUEST_SEG);
}

/* SDM 27.3.1.2 bit 15 (G): limit bits 11:0 not all ones needs G=0; any of 31:20 set needs G=1.
 * So with G=1 a clear bit among 11:0 is bad, with G=0 a set bit among 31:20. */
static bool granularity_bad(uint32_t lim, uint32_t a)
{
	uint32_t bad = (a & AR_G) ? ~lim & 0xfffu : lim & 0xfff00000u;

	return bad != 0;
}

static bool vmx_check_guest_seg_granularity(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	for (int s = ES; s <= GS; s++) {
		f->item = segs[s].name;
		if (CC(ar_checked(c, s) && granularity_bad(limit(c, s), ar(c, s)), SDM_GUEST_SEG))
			return true;
	}
	return false;
}

/* ---- TR ---- */

static bool vmx_check_guest_tr_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	unsigned t = AR_TYPE(ar(c, TR));
	bool ok = vmx_ia32e_guest(c) ? t == 11 : (t == 3 || t == 11);

	return CC(!ok, SDM_GUEST_SEG);
}

static bool vmx_check_guest_tr_s(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(ar(c, TR) & AR_S, SDM_GUEST_SEG);
}

static bool vmx_check_guest_tr_present(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!(ar(c, TR) & AR_P), SDM_GUEST_SEG);
}

static bool vmx_check_guest_tr_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(ar(c, TR) & (AR_RSVD_11_8 | AR_RSVD_31_17), SDM_GUEST_SEG);
}

static bool vmx_check_guest_tr_granularity(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(granularity_bad(limit(c, TR), ar(c, TR)), SDM_GUEST_SEG);
}

static bool vmx_check_guest_tr_usable(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(ar(c, TR) & AR_UNUSABLE, SDM_GUEST_SEG);
}

/* ---- LDTR (only when usable) ---- */

static bool vmx_check_guest_ldtr_type(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && AR_TYPE(ar(c, LDTR)) != 2, SDM_GUEST_SEG);
}

static bool vmx_check_guest_ldtr_s(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && (ar(c, LDTR) & AR_S), SDM_GUEST_SEG);
}

static bool vmx_check_guest_ldtr_present(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && !(ar(c, LDTR) & AR_P), SDM_GUEST_SEG);
}

static bool vmx_check_guest_ldtr_reserved(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && (ar(c, LDTR) & (AR_RSVD_11_8 | AR_RSVD_31_17)), SDM_GUEST_SEG);
}

static bool vmx_check_guest_ldtr_granularity(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(usable(c, LDTR) && granularity_bad(limit(c, LDTR), ar(c, LDTR)), SDM_GUEST_SEG);
}

/* ---- 27.3.1.3 GDTR, IDTR ---- */

static bool vmx_check_guest_gdtr_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(GUEST_GDTR_BASE)), SDM_GUEST_DT);
}

static bool vmx_check_guest_idtr_base(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(!vmx_caps_canonical(c->caps, F(GUEST_IDTR_BASE)), SDM_GUEST_DT);
}

static bool vmx_check_guest_gdtr_limit(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_GDTR_LIMIT) & 0xffff0000u, SDM_GUEST_DT);
}

static bool vmx_check_guest_idtr_limit(const struct vmx_entry_ctx *c, struct vmx_fail *f)
{
	return CC(F(GUEST_IDTR_LIMIT) & 0xffff0000u, SDM_GUEST_DT);
}

#define SEGCHK(fn) VMX_CHECK(fn, VMX_GROUP_GUEST, SDM_GUEST_SEG)
#define DTCHK(fn)  VMX_CHECK(fn, VMX_GROUP_GUEST, SDM_GUEST_DT)

const struct vmx_check vmx_checks_guest_seg[] = {
    SEGCHK(vmx_check_guest_tr_ti),
    SEGCHK(vmx_check_guest_ldtr_ti),
    SEGCHK(vmx_check_guest_ss_rpl),
    SEGCHK(vmx_check_guest_v86_base),
    SEGCHK(vmx_check_guest_base_canonical),
    SEGCHK(vmx_check_guest_cs_base_high),
    SEGCHK(vmx_check_guest_data_base_high),
    SEGCHK(vmx_check_guest_v86_limit),
    SEGCHK(vmx_check_guest_v86_ar),
    SEGCHK(vmx_check_guest_cs_type),
    SEGCHK(vmx_check_guest_ss_type),
    SEGCHK(vmx_check_guest_data_type_accessed),
    SEGCHK(vmx_check_guest_data_type_readable),
    SEGCHK(vmx_check_guest_seg_s),
    SEGCHK(vmx_check_guest_cs_dpl_data),
    SEGCHK(vmx_check_guest_cs_dpl_nonconforming),
    SEGCHK(vmx_check_guest_cs_dpl_conforming),
    SEGCHK(vmx_check_guest_ss_dpl_rpl),
    SEGCHK(vmx_check_guest_ss_dpl_real),
    SEGCHK(vmx_check_guest_data_dpl),
    SEGCHK(vmx_check_guest_seg_present),
    SEGCHK(vmx_check_guest_seg_ar_reserved),
    SEGCHK(vmx_check_guest_cs_db_long),
    SEGCHK(vmx_check_guest_seg_granularity),
    SEGCHK(vmx_check_guest_tr_type),
    SEGCHK(vmx_check_guest_tr_s),
    SEGCHK(vmx_check_guest_tr_present),
    SEGCHK(vmx_check_guest_tr_reserved),
    SEGCHK(vmx_check_guest_tr_granularity),
    SEGCHK(vmx_check_guest_tr_usable),
    SEGCHK(vmx_check_guest_ldtr_type),
    SEGCHK(vmx_check_guest_ldtr_s),
    SEGCHK(vmx_check_guest_ldtr_present),
    SEGCHK(vmx_check_guest_ldtr_reserved),
    SEGCHK(vmx_check_guest_ldtr_granularity),
    DTCHK(vmx_check_guest_gdtr_base),
    DTCHK(vmx_check_guest_idtr_base),
    DTCHK(vmx_check_guest_gdtr_limit),
    DTCHK(vmx_check_guest_idtr_limit),
};

const size_t vmx_checks_guest_seg_count =
    sizeof(vmx_checks_guest_seg) / sizeof(vmx_checks_guest_seg[0]);
