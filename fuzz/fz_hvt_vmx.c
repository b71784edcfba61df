/* fuzz_hv_transitions' L1 VMX operations (fz_hvt.h): the VMX instructions an L1 hypervisor runs
 * under KVM's nested VMX (hv/kvm/kvm_nested.c), with operands shaped as it uses them: a VMXON
 * region and FZ_VMX_VMCS_N VMCS regions at fixed guest pages whose revision identifier the walker
 * writes first, memory operands in a fixed slot per instruction (stored there by the action, as
 * an L1 stores a pointer before VMPTRLD), VMCS fields from a table of those the entry checks and
 * kvm_nested read, and values valid for a launch that reaches the nested entry, from a table, or
 * raw. Misaligned and out-of-range pointers, operands outside RAM or non-canonical, read-only and
 * invalid field encodings reach VMfailInvalid, VMfailValid, #GP and #UD. The encoder writes every
 * value raw (SDM ch. 31 "VMX Instruction Reference", Appendix B "Field Encoding in VMCS"). */
#include "fz_hvt_int.h"

#include <hvsim/guest_op.h>
#include <hvsim/scenario.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

#define CR0_BOOT    UINT64_C(0x80000031) /* hvsim's long-mode CR0 (docs/vcpu-layer.md) */
#define CR4_VMXE    UINT64_C(0x2620)     /* its CR4 with VMXE (SDM 24.7) */
#define GDT_GPA     0x1000u
#define IDT_GPA     0x2000u
#define L2_RIP      0x9000u
#define PT_RESERVE  (128u << 10) /* page tables at RAM top - 128 KiB, stacks below */
#define SEL_CODE64  0x08u
#define SEL_DATA    0x10u
#define SEL_TR      0x28u
#define AR_DATA     0xc093u
#define AR_CODE64   0xa09bu
#define AR_UNUSABLE 0x10000u
#define AR_TSS_BUSY 0x8bu

enum vmx_value_kind { V_CONST, V_CR3, V_STACK, V_HOST_RIP };

/* The fields a launch needs, with the values scenarios/guest/nvmx_hlt.S gives them (controls
 * adjusted to the kvm-nested profile's capability MSRs; host and guest state copies of L1's own
 * 64-bit state), SDM 27.2-27.3 and Appendix B. */
static const struct {
	uint64_t field, value;
	uint8_t kind; /* enum vmx_value_kind: V_CONST's value, or from the machine */
} launch[] = {
    {0x4000, 0x16, V_CONST},        /* PIN_BASED_VM_EXEC_CONTROL */
    {0x4002, 0x40061f2, V_CONST},   /* CPU_BASED_VM_EXEC_CONTROL, HLT exiting */
    {0x400c, 0x36ffb, V_CONST},     /* VM_EXIT_CONTROLS, host address-space size */
    {0x4012, 0x13fb, V_CONST},      /* VM_ENTRY_CONTROLS, IA-32e mode guest */
    {0x6c00, CR0_BOOT, V_CONST},    /* HOST_CR0 */
    {0x6800, CR0_BOOT, V_CONST},    /* GUEST_CR0 */
    {0x6c02, 0, V_CR3},             /* HOST_CR3 */
    {0x6802, 0, V_CR3},             /* GUEST_CR3 */
    {0x6c04, CR4_VMXE, V_CONST},    /* HOST_CR4 */
    {0x6804, CR4_VMXE, V_CONST},    /* GUEST_CR4 */
    {0x6c0c, GDT_GPA, V_CONST},     /* HOST_GDTR_BASE */
    {0x6816, GDT_GPA, V_CONST},     /* GUEST_GDTR_BASE */
    {0x4810, 0x2f, V_CONST},        /* GUEST_GDTR_LIMIT */
    {0x6c0e, IDT_GPA, V_CONST},     /* HOST_IDTR_BASE */
    {0x6818, IDT_GPA, V_CONST},     /* GUEST_IDTR_BASE */
    {0x4812, 0xfff, V_CONST},       /* GUEST_IDTR_LIMIT */
    {0x0c00, SEL_DATA, V_CONST},    /* HOST_ES_SELECTOR */
    {0x0c02, SEL_CODE64, V_CONST},  /* HOST_CS_SELECTOR */
    {0x0c04, SEL_DATA, V_CONST},    /* HOST_SS_SELECTOR */
    {0x0c06, SEL_DATA, V_CONST},    /* HOST_DS_SELECTOR */
    {0x0c08, SEL_DATA, V_CONST},    /* HOST_FS_SELECTOR */
    {0x0c0a, SEL_DATA, V_CONST},    /* HOST_GS_SELECTOR */
    {0x0c0c, SEL_TR, V_CONST},      /* HOST_TR_SELECTOR */
    {0x6c16, 0, V_HOST_RIP},        /* HOST_RIP */
    {0x6c14, 0, V_STACK},           /* HOST_RSP */
    {0x0800, SEL_DATA, V_CONST},    /* GUEST_ES_SELECTOR */
    {0x0802, SEL_CODE64, V_CONST},  /* GUEST_CS_SELECTOR */
    {0x0804, SEL_DATA, V_CONST},    /* GUEST_SS_SELECTOR */
    {0x0806, SEL_DATA, V_CONST},    /* GUEST_DS_SELECTOR */
    {0x0808, SEL_DATA, V_CONST},    /* GUEST_FS_SELECTOR */
    {0x080a, SEL_DATA, V_CONST},    /* GUEST_GS_SELECTOR */
    {0x080e, SEL_TR, V_CONST},      /* GUEST_TR_SELECTOR */
    {0x4800, 0xffffffff, V_CONST},  /* GUEST_ES_LIMIT */
    {0x4802, 0xffffffff, V_CONST},  /* GUEST_CS_LIMIT */
    {0x4804, 0xffffffff, V_CONST},  /* GUEST_SS_LIMIT */
    {0x4806, 0xffffffff, V_CONST},  /* GUEST_DS_LIMIT */
    {0x4808, 0xffffffff, V_CONST},  /* GUEST_FS_LIMIT */
    {0x480a, 0xffffffff, V_CONST},  /* GUEST_GS_LIMIT */
    {0x480e, 0x67, V_CONST},        /* GUEST_TR_LIMIT */
    {0x4814, AR_DATA, V_CONST},     /* GUEST_ES_AR_BYTES */
    {0x4816, AR_CODE64, V_CONST},   /* GUEST_CS_AR_BYTES */
    {0x4818, AR_DATA, V_CONST},     /* GUEST_SS_AR_BYTES */
    {0x481a, AR_DATA, V_CONST},     /* GUEST_DS_AR_BYTES */
    {0x481c, AR_DATA, V_CONST},     /* GUEST_FS_AR_BYTES */
    {0x481e, AR_DATA, V_CONST},     /* GUEST_GS_AR_BYTES */
    {0x4820, AR_UNUSABLE, V_CONST}, /* GUEST_LDTR_AR_BYTES */
    {0x4822, AR_TSS_BUSY, V_CONST}, /* GUEST_TR_AR_BYTES */
    {0x681a, 0x400, V_CONST},       /* GUEST_DR7 */
    {0x681c, 0, V_STACK},           /* GUEST_RSP */
    {0x681e, L2_RIP, V_CONST},      /* GUEST_RIP */
    {0x6820, 0x2, V_CONST},         /* GUEST_RFLAGS */
    {0x2800, UINT64_MAX, V_CONST},  /* VMCS_LINK_POINTER */
};

/* The launch fields, then fields the entry checks and kvm_nested read besides: VPID, the MSR
 * bitmap, EPTP, virtual-APIC and APIC-access addresses, secondary controls, TPR threshold, entry
 * interruption information, interruptibility, activity state, preemption timer, CR0/CR4 masks and
 * read shadows, GUEST/HOST_IA32_EFER; the read-only VM_INSTRUCTION_ERROR, VM_EXIT_REASON,
 * EXIT_QUALIFICATION, GUEST_PHYSICAL_ADDRESS; the link pointer's high half; and encodings no
 * field has (VMfailValid 12). */
static const uint64_t more_fields[] = {
    0x0000, 0x2004, 0x201a, 0x2012,     0x2014,
    0x401e, 0x401c, 0x4016, 0x4824,     0x4826,
    0x482e, 0x6000, 0x6002, 0x6004,     0x6006,
    0x2806, 0x2c02, 0x4400, 0x4402,     0x6400,
    0x2400, 0x2801, 0x0001, 0xffffffff, UINT64_C(0x100004000),
};

/* VMXON/VMCLEAR/VMPTRLD pointers: the regions, misaligned, outside RAM, beyond MAXPHYADDR (46),
 * page 0 (SDM 31.3 "VMfailValid ... invalid physical address") */
static const uint64_t pointers[] = {
    FZ_VMX_VMXON_GPA,    FZ_VMX_VMCS_GPA, FZ_VMX_VMCS_GPA + 0x1000, FZ_VMX_VMCS_GPA + 0x2000,
    FZ_VMX_VMCS_GPA + 4, 0x40000000,      UINT64_C(1) << 46,        0};
/* memory operands not in their slot: outside RAM (#GP(0), kvm_nested.c), non-canonical, crossing
 * a page, the xAPIC page */
static const uint64_t bad_addrs[] = {0x40000000, UINT64_C(0x8000000000000000),
                                     FZ_VMX_OPERAND_GPA + 0xffc, 0xfee00000};
static const uint64_t values[] = {
    0,        1,        0xffffffff,      UINT64_MAX,
    CR0_BOOT, CR4_VMXE, FZ_VMX_VMCS_GPA, UINT64_C(0x8000000000000000)};
/* INVEPT/INVVPID types (SDM 31.3: INVEPT 1 single-context, 2 global; INVVPID 0
 * individual-address, 1 single-context, 2 all-context, 3 single-context retaining globals) */
static const uint64_t inv_types[] = {0, 1, 2, 3};
/* descriptor low quadwords: 0, VPID 1, an EPTP (WB, 4-level walk) of page 0 and of a region;
 * high: 0, a linear address, a non-canonical one */
static const uint64_t desc_lo[] = {0, 1, 0x1e, FZ_VMX_VMCS_GPA | 0x1e, 0xffff};
static const uint64_t desc_hi[] = {0, L2_RIP, UINT64_C(0x8000000000000000)};
/* revision identifiers: the right one, with the shadow-VMCS indicator (bit 31), the host's
 * (intel-icelake-server), 0 */
static const uint64_t revisions[] = {FZ_VMX_REVISION_ID, FZ_VMX_REVISION_ID | 0x80000000u, 4, 0};
static const uint64_t regions[] = {FZ_VMX_VMXON_GPA, FZ_VMX_VMCS_GPA, FZ_VMX_VMCS_GPA + 0x1000,
                                   FZ_VMX_VMCS_GPA + 0x2000};

const char *fz_hvt_vmx_name(uint8_t sub)
{
	return sub == FZ_VMX_REVISION ? "revision" : guest_vmx_insn_name(sub);
}

size_t fz_hvt_vmx_launch_count(void)
{
	return N(launch);
}

uint64_t fz_hvt_vmx_launch_field(size_t i)
{
	return i < N(launch) ? launch[i].field : 0;
}

bool fz_hvt_vmx_valid_value(const struct fz_hvt_config *cfg, uint64_t field, uint64_t *value)
{
	uint64_t top = (uint64_t)fz_hvt_memory_mib(cfg) << 20;

	for (size_t i = 0; i < N(launch); i++) {
		if (launch[i].field != field)
			continue;
		switch (launch[i].kind) {
		case V_CR3:
		case V_STACK: *value = top - PT_RESERVE; break;
		case V_HOST_RIP: *value = FZ_HVT_CODE_GPA; break;
		default: *value = launch[i].value; break;
		}
		return true;
	}
	return false;
}

static uint64_t slot(uint8_t sub)
{
	return FZ_VMX_OPERAND_GPA + 16u * sub;
}

/* The memory operand: the instruction's slot with the operand stored there first, the slot as
 * memory holds it, or a bad address. */
static void dec_mem(struct fz_in *in, struct fz_hvt_op *op, bool can_store)
{
	size_t k = fz_choose(in, 3);

	op->flags = SCRIPT_VMX_MEM;
	op->addr = slot(op->sub);
	if (k == 0 && can_store)
		op->flags |= SCRIPT_VMX_STORE;
	else if (k == 2)
		op->addr = fz_pick(in, bad_addrs, N(bad_addrs));
}

static void enc_mem(struct fz_out *o, const struct fz_hvt_op *op)
{
	if (op->addr == slot(op->sub)) {
		fz_put_choose(o, 3, op->flags & SCRIPT_VMX_STORE ? 0 : 1);
		return;
	}
	fz_put_choose(o, 3, 2);
	fz_put_pick(o, bad_addrs, N(bad_addrs), op->addr);
}

/* A field of launch[], of more_fields[], or raw (fz_pick over both tables). */
static uint64_t dec_field(struct fz_in *in)
{
	size_t i = fz_choose(in, N(launch) + N(more_fields) + 1);

	if (i < N(launch))
		return launch[i].field;
	return i < N(launch) + N(more_fields) ? more_fields[i - N(launch)] : fz_u64(in);
}

static void enc_field(struct fz_out *o, uint64_t field)
{
	for (size_t i = 0; i < N(launch); i++)
		if (launch[i].field == field) {
			fz_put_choose(o, N(launch) + N(more_fields) + 1, i);
			return;
		}
	for (size_t i = 0; i < N(more_fields); i++)
		if (more_fields[i] == field) {
			fz_put_choose(o, N(launch) + N(more_fields) + 1, N(launch) + i);
			return;
		}
	fz_put_choose(o, N(launch) + N(more_fields) + 1, N(launch) + N(more_fields));
	fz_put(o, field, 8);
}

static uint64_t dec_vmwrite_value(struct fz_in *in, const struct fz_hvt_config *cfg, uint64_t field)
{
	uint64_t v = 0;

	switch (fz_choose(in, 3)) {
	case 0: fz_hvt_vmx_valid_value(cfg, field, &v); return v;
	case 1: return fz_pick(in, values, N(values));
	default: return fz_u64(in);
	}
}

/* VMREAD/VMWRITE: the register form, or memory */
static void dec_rw(struct fz_in *in, const struct fz_hvt_config *cfg, struct fz_hvt_op *op)
{
	op->field = dec_field(in);
	if (op->sub == GVMX_VMWRITE)
		op->value = dec_vmwrite_value(in, cfg, op->field);
	if (fz_choose(in, 2) == 1)
		dec_mem(in, op, op->sub == GVMX_VMWRITE);
}

void fz_hvt_vmx_decode(struct fz_in *in, const struct fz_hvt_config *cfg, struct fz_hvt_op *op)
{
	op->sub = (uint8_t)fz_choose(in, FZ_VMX_SUBS);
	switch (op->sub) {
	case GVMX_VMXON:
	case GVMX_VMCLEAR:
	case GVMX_VMPTRLD:
		op->value = fz_pick(in, pointers, N(pointers));
		dec_mem(in, op, true);
		break;
	case GVMX_VMPTRST: dec_mem(in, op, false); break;
	case GVMX_VMREAD:
	case GVMX_VMWRITE: dec_rw(in, cfg, op); break;
	case GVMX_INVEPT:
	case GVMX_INVVPID:
		op->field = fz_pick(in, inv_types, N(inv_types));
		op->value = fz_pick(in, desc_lo, N(desc_lo));
		op->value2 = fz_pick(in, desc_hi, N(desc_hi));
		dec_mem(in, op, true);
		break;
	case FZ_VMX_REVISION:
		op->addr = fz_pick(in, regions, N(regions));
		op->value = fz_pick(in, revisions, N(revisions)) & UINT32_MAX;
		break;
	default: break; /* VMXOFF, VMLAUNCH, VMRESUME */
	}
}

void fz_hvt_vmx_encode(struct fz_out *o, const struct fz_hvt_op *op)
{
	fz_put_choose(o, FZ_VMX_SUBS, op->sub);
	switch (op->sub) {
	case GVMX_VMXON:
	case GVMX_VMCLEAR:
	case GVMX_VMPTRLD:
		fz_put_pick(o, pointers, N(pointers), op->value);
		enc_mem(o, op);
		break;
	case GVMX_VMPTRST: enc_mem(o, op); break;
	case GVMX_VMREAD:
	case GVMX_VMWRITE:
		enc_field(o, op->field);
		if (op->sub == GVMX_VMWRITE) {
			fz_put_choose(o, 3, 2);
			fz_put(o, op->value, 8);
		}
		fz_put_choose(o, 2, (op->flags & SCRIPT_VMX_MEM) != 0);
		if (op->flags & SCRIPT_VMX_MEM)
			enc_mem(o, op);
		break;
	case GVMX_INVEPT:
	case GVMX_INVVPID:
		fz_put_pick(o, inv_types, N(inv_types), op->field);
		fz_put_pick(o, desc_lo, N(desc_lo), op->value);
		fz_put_pick(o, desc_hi, N(desc_hi), op->value2);
		enc_mem(o, op);
		break;
	case FZ_VMX_REVISION:
		fz_put_pick(o, regions, N(regions), op->addr);
		fz_put_pick(o, revisions, N(revisions), op->value);
		break;
	default: break;
	}
}
