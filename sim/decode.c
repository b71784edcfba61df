/* Zydis decoding into guest operations: which instructions a hypervisor must see (the exit lists of
 * SDM 26.1.2 and 26.1.3 "Instructions That Cause VM Exits (Un)conditionally", plus the ones Unicorn
 * would execute against host state), their operand templates, and the MOV forms an MMIO access is
 * emulated for, and the VMX instructions (SDM ch. 31) with the operands VM-exit instruction
 * information describes (SDM 28.2.4).
 * Not modelled: privilege checks (guests run at CPL 0), segment bases other than FS/GS in 64-bit
 * mode (hvsim's guests use flat segments), MMIO accesses by any instruction other than MOV. */
#include "decode.h"

#include <Zydis/Zydis.h>

#include <string.h>

uint64_t dec_size_mask(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static bool decoder_init(ZydisDecoder *d, enum dec_mode mode)
{
	static const ZydisMachineMode mm[] = {
	    ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_MACHINE_MODE_LONG_64};
	static const ZydisStackWidth sw[] = {ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_32,
	                                     ZYDIS_STACK_WIDTH_64};

	if ((unsigned)mode > DEC_MODE_64)
		return false;
	return ZYAN_SUCCESS(ZydisDecoderInit(d, mm[mode], sw[mode]));
}

/* Zydis register to guest GPR; AH/CH/DH/BH are bits 15:8 of RAX/RCX/RDX/RBX. */
static bool map_gpr(ZydisRegister r, struct dec_val *v)
{
	ZydisRegister big;

	v->high8 = false;
	switch (r) {
	case ZYDIS_REGISTER_AH:
		v->gpr = GPR_RAX;
		v->high8 = true;
		return true;
	case ZYDIS_REGISTER_CH:
		v->gpr = GPR_RCX;
		v->high8 = true;
		return true;
	case ZYDIS_REGISTER_DH:
		v->gpr = GPR_RDX;
		v->high8 = true;
		return true;
	case ZYDIS_REGISTER_BH:
		v->gpr = GPR_RBX;
		v->high8 = true;
		return true;
	default: break;
	}
	big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15)
		return false;
	v->gpr = (uint8_t)(big - ZYDIS_REGISTER_RAX);
	return true;
}

static uint8_t map_index_reg(ZydisRegister r)
{
	struct dec_val v;

	if (r == ZYDIS_REGISTER_NONE)
		return DEC_NOREG;
	if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP)
		return DEC_RIP;
	return map_gpr(r, &v) && !v.high8 ? v.gpr : DEC_NOREG;
}

static void map_mem(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *o,
                    struct dec_mem *m)
{
	m->base = map_index_reg(o->mem.base);
	m->index = map_index_reg(o->mem.index);
	m->scale = o->mem.scale ? o->mem.scale : 1;
	m->disp = o->mem.disp.has_displacement ? o->mem.disp.value : 0;
	m->addr_size = (uint8_t)(in->address_width / 8);
	m->seg = o->mem.segment == ZYDIS_REGISTER_FS   ? DEC_SEG_FS
	         : o->mem.segment == ZYDIS_REGISTER_GS ? DEC_SEG_GS
	                                               : DEC_SEG_DEFAULT;
}

static void map_imm(const ZydisDecodedOperand *o, uint8_t size, struct dec_val *v)
{
	uint64_t x = o->imm.is_signed ? (uint64_t)o->imm.value.s : o->imm.value.u;

	v->gpr = DEC_NOREG;
	v->high8 = false;
	v->imm = x & dec_size_mask(size);
}

static void io_template(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                        struct dec_insn *d)
{
	ZydisMnemonic m = in->mnemonic;

	d->kind = GOP_IO;
	d->u.io.in = m == ZYDIS_MNEMONIC_IN || m == ZYDIS_MNEMONIC_INSB ||
	             m == ZYDIS_MNEMONIC_INSW || m == ZYDIS_MNEMONIC_INSD;
	d->u.io.string = m != ZYDIS_MNEMONIC_IN && m != ZYDIS_MNEMONIC_OUT;
	d->u.io.rep = d->u.io.string && (in->attributes & ZYDIS_ATTRIB_HAS_REP);
	d->u.io.addr_size = (uint8_t)(in->address_width / 8);
	if (d->u.io.string)
		d->u.io.size = (uint8_t)(in->operand_width / 8);
	for (unsigned i = 0; i < in->operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &ops[i];

		if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			d->u.io.imm = true;
			d->u.io.port = (uint16_t)o->imm.value.u;
		} else if (!d->u.io.string && o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		           o->reg.value != ZYDIS_REGISTER_DX) {
			d->u.io.size = (uint8_t)(o->size / 8);
		}
	}
	if (d->u.io.size != 1 && d->u.io.size != 2 && d->u.io.size != 4)
		d->u.io.size = 1;
}

/* MOV to/from CRn (0F 22 / 0F 20), CLTS, LMSW (SDM Table 28-3 "Exit Qualification for
 * Control-Register Accesses"). */
static void cr_template(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                        struct dec_insn *d)
{
	const ZydisDecodedOperand *gpr_op = NULL;

	d->kind = GOP_CR;
	d->u.cr.size = in->machine_mode == ZYDIS_MACHINE_MODE_LONG_64 ? 8 : 4;
	d->u.cr.src.gpr = DEC_NOREG;
	if (in->mnemonic == ZYDIS_MNEMONIC_CLTS) {
		d->u.cr.access = CR_ACCESS_CLTS;
		return;
	}
	if (in->mnemonic == ZYDIS_MNEMONIC_LMSW) {
		d->u.cr.access = CR_ACCESS_LMSW;
		d->u.cr.size = 2;
		if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
			d->u.cr.src_mem = true;
			map_mem(in, &ops[0], &d->u.cr.mem);
		} else {
			map_gpr(ops[0].reg.value, &d->u.cr.src);
		}
		return;
	}
	d->u.cr.access = in->opcode == 0x22 ? CR_ACCESS_MOV_TO_CR : CR_ACCESS_MOV_FROM_CR;
	for (unsigned i = 0; i < 2; i++) {
		ZydisRegister r = ops[i].reg.value;

		if (r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15)
			d->u.cr.cr = (uint8_t)(r - ZYDIS_REGISTER_CR0);
		else
			gpr_op = &ops[i];
	}
	if (gpr_op)
		map_gpr(gpr_op->reg.value, &d->u.cr.src);
	d->u.cr.src.high8 = false;
}

static bool is_cr_move(const ZydisDecodedInstruction *in)
{
	return in->opcode_map == ZYDIS_OPCODE_MAP_0F &&
	       (in->opcode == 0x20 || in->opcode == 0x22) && in->mnemonic == ZYDIS_MNEMONIC_MOV;
}

/* Control registers a MOV may name whose accesses hypervisors intercept. */
static bool cr_trapped(uint8_t cr)
{
	return cr == 0 || cr == 3 || cr == 4 || cr == 8;
}

static void classify_cr(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                        struct dec_insn *d)
{
	cr_template(in, ops, d);
	if (d->u.cr.access == CR_ACCESS_MOV_TO_CR && d->u.cr.cr == 2)
		d->cls = DEC_CR2_WRITE;
	else if (d->u.cr.access >= CR_ACCESS_CLTS || cr_trapped(d->u.cr.cr))
		d->cls = DEC_OP;
	else
		d->cls =
		    DEC_NONE; /* MOV from CR2 reads the shadow; CR1, CR5-7 raise #UD natively */
}

/* Exit-worthy instructions and their kinds (SDM 26.1.2, 26.1.3). */
static uint8_t op_kind(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_CPUID: return GOP_CPUID;
	case ZYDIS_MNEMONIC_RDMSR: return GOP_RDMSR;
	case ZYDIS_MNEMONIC_WRMSR: return GOP_WRMSR;
	case ZYDIS_MNEMONIC_RDTSC: return GOP_RDTSC;
	case ZYDIS_MNEMONIC_RDTSCP: return GOP_RDTSCP;
	case ZYDIS_MNEMONIC_RDPMC: return GOP_RDPMC;
	case ZYDIS_MNEMONIC_HLT: return GOP_HLT;
	case ZYDIS_MNEMONIC_PAUSE: return GOP_PAUSE;
	case ZYDIS_MNEMONIC_MONITOR: return GOP_MONITOR;
	case ZYDIS_MNEMONIC_MWAIT: return GOP_MWAIT;
	case ZYDIS_MNEMONIC_IN:
	case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB:
	case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB:
	case ZYDIS_MNEMONIC_OUTSW:
	case ZYDIS_MNEMONIC_OUTSD: return GOP_IO;
	case ZYDIS_MNEMONIC_VMCALL: return GOP_VMCALL;
	case ZYDIS_MNEMONIC_VMMCALL: return GOP_VMMCALL;
	case ZYDIS_MNEMONIC_TDCALL: return GOP_TDCALL;
	case ZYDIS_MNEMONIC_SEAMCALL: return GOP_SEAMCALL;
	case ZYDIS_MNEMONIC_INVLPG: return GOP_INVLPG;
	case ZYDIS_MNEMONIC_INVD: return GOP_INVD;
	case ZYDIS_MNEMONIC_WBINVD: return GOP_WBINVD;
	case ZYDIS_MNEMONIC_XSETBV: return GOP_XSETBV;
	case ZYDIS_MNEMONIC_CLTS:
	case ZYDIS_MNEMONIC_LMSW: return GOP_CR;
	case ZYDIS_MNEMONIC_RDRAND: return GOP_RDRAND;
	case ZYDIS_MNEMONIC_RDSEED: return GOP_RDSEED;
	case ZYDIS_MNEMONIC_VMXON:
	case ZYDIS_MNEMONIC_VMXOFF:
	case ZYDIS_MNEMONIC_VMCLEAR:
	case ZYDIS_MNEMONIC_VMPTRLD:
	case ZYDIS_MNEMONIC_VMPTRST:
	case ZYDIS_MNEMONIC_VMREAD:
	case ZYDIS_MNEMONIC_VMWRITE:
	case ZYDIS_MNEMONIC_VMLAUNCH:
	case ZYDIS_MNEMONIC_VMRESUME:
	case ZYDIS_MNEMONIC_INVEPT:
	case ZYDIS_MNEMONIC_INVVPID: return GOP_VMX;
	default: return GOP_NONE;
	}
}

static uint8_t vmx_insn_of(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_VMXON: return GVMX_VMXON;
	case ZYDIS_MNEMONIC_VMXOFF: return GVMX_VMXOFF;
	case ZYDIS_MNEMONIC_VMCLEAR: return GVMX_VMCLEAR;
	case ZYDIS_MNEMONIC_VMPTRLD: return GVMX_VMPTRLD;
	case ZYDIS_MNEMONIC_VMPTRST: return GVMX_VMPTRST;
	case ZYDIS_MNEMONIC_VMREAD: return GVMX_VMREAD;
	case ZYDIS_MNEMONIC_VMWRITE: return GVMX_VMWRITE;
	case ZYDIS_MNEMONIC_VMLAUNCH: return GVMX_VMLAUNCH;
	case ZYDIS_MNEMONIC_VMRESUME: return GVMX_VMRESUME;
	case ZYDIS_MNEMONIC_INVEPT: return GVMX_INVEPT;
	default: return GVMX_INVVPID;
	}
}

/* The segment register a memory operand uses, in the instruction-information order (SDM 28.2.4:
 * 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS); Zydis resolves the default (SS for RSP/RBP bases). */
static uint8_t map_seg(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return 0;
	case ZYDIS_REGISTER_CS: return 1;
	case ZYDIS_REGISTER_SS: return 2;
	case ZYDIS_REGISTER_FS: return 4;
	case ZYDIS_REGISTER_GS: return 5;
	default: return 3;
	}
}

/* VMX instructions (SDM ch. 31): the r/m operand (memory, or VMREAD/VMWRITE's register form) and
 * the ModRM.reg operand (the VMCS encoding of VMREAD/VMWRITE, the type of INVEPT/INVVPID). */
static void vmx_template(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                         struct dec_insn *d)
{
	struct dec_val v;

	d->u.vmx.insn = vmx_insn_of(in->mnemonic);
	d->u.vmx.reg1 = d->u.vmx.reg2 = GPR_COUNT;
	d->u.vmx.seg = 3;
	d->u.vmx.size = in->machine_mode == ZYDIS_MACHINE_MODE_LONG_64 ? 8 : 4;
	for (unsigned i = 0; i < in->operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &ops[i];

		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			d->u.vmx.mem = true;
			d->u.vmx.seg = map_seg(o->mem.segment);
			map_mem(in, o, &d->u.vmx.m);
		} else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && map_gpr(o->reg.value, &v)) {
			if (o->encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG)
				d->u.vmx.reg2 = v.gpr;
			else
				d->u.vmx.reg1 = v.gpr;
		}
	}
}

static void fill_template(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                          struct dec_insn *d)
{
	switch (d->kind) {
	case GOP_IO: io_template(in, ops, d); break;
	case GOP_CR: cr_template(in, ops, d); break;
	case GOP_INVLPG: map_mem(in, &ops[0], &d->u.invlpg); break;
	case GOP_VMX: vmx_template(in, ops, d); break;
	case GOP_RDRAND:
	case GOP_RDSEED: {
		struct dec_val v;

		map_gpr(ops[0].reg.value, &v);
		d->u.rand.gpr = v.gpr;
		d->u.rand.size = (uint8_t)(ops[0].size / 8);
		break;
	}
	default: break;
	}
}

/* Zydis's flag table: IF modified or set to 1. Zydis lists the writers that only clear it (CLI,
 * INT n, SYSCALL) as modifying it too; they cost an extra stop while a window waits, no more. */
static bool writes_if(const ZydisDecodedInstruction *in)
{
	return in->cpu_flags &&
	       ((in->cpu_flags->modified | in->cpu_flags->set_1) & ZYDIS_CPUFLAG_IF) != 0;
}

bool dec_insn(enum dec_mode mode, const uint8_t *bytes, size_t avail, struct dec_insn *out)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	memset(out, 0, sizeof(*out));
	out->mode = (uint8_t)mode;
	if (!decoder_init(&dec, mode) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, avail, &in, ops)))
		return false;
	out->len = in.length;
	if (is_cr_move(&in)) {
		classify_cr(&in, ops, out);
		return true;
	}
	out->kind = op_kind(in.mnemonic);
	if (out->kind == GOP_NONE) {
		if (writes_if(&in))
			out->cls = DEC_IF_WRITE;
		return true;
	}
	out->cls = DEC_OP;
	fill_template(&in, ops, out);
	return true;
}

static bool mmio_operands(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                          struct dec_insn *d)
{
	const ZydisDecodedOperand *mem, *other;

	if (in->operand_count_visible != 2)
		return false;
	d->u.mmio.write = ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
	mem = d->u.mmio.write ? &ops[0] : &ops[1];
	other = d->u.mmio.write ? &ops[1] : &ops[0];
	if (mem->type != ZYDIS_OPERAND_TYPE_MEMORY || mem->mem.type != ZYDIS_MEMOP_TYPE_MEM)
		return false;
	d->u.mmio.size = (uint8_t)(mem->size / 8);
	map_mem(in, mem, &d->u.mmio.mem);
	if (other->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && d->u.mmio.write) {
		map_imm(other, d->u.mmio.size, &d->u.mmio.val);
		return true;
	}
	return other->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       map_gpr(other->reg.value, &d->u.mmio.val);
}

bool dec_writes_memory(enum dec_mode mode, const uint8_t *bytes, size_t avail)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	if (!decoder_init(&dec, mode) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, avail, &in, ops)))
		return false;
	for (unsigned i = 0; i < in.operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM &&
		    (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return true;
	return false;
}

bool dec_mmio(enum dec_mode mode, const uint8_t *bytes, size_t avail, struct dec_insn *out,
              const char **why)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	memset(out, 0, sizeof(*out));
	out->mode = (uint8_t)mode;
	if (!decoder_init(&dec, mode) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, avail, &in, ops))) {
		*why = "an MMIO access by bytes that do not decode";
		return false;
	}
	out->len = in.length;
	out->kind = GOP_MMIO;
	out->cls = DEC_OP;
	if (in.mnemonic != ZYDIS_MNEMONIC_MOV || is_cr_move(&in) || !mmio_operands(&in, ops, out)) {
		*why = "an MMIO access by an instruction other than MOV (not emulated)";
		return false;
	}
	if (out->u.mmio.size != 1 && out->u.mmio.size != 2 && out->u.mmio.size != 4 &&
	    out->u.mmio.size != 8) {
		*why = "an MMIO access of an unsupported width";
		return false;
	}
	return true;
}

uint64_t dec_ea(const struct dec_mem *m, uint64_t rip, uint8_t len, const struct dec_regs *r)
{
	uint64_t ea = (uint64_t)m->disp;

	if (m->base == DEC_RIP)
		ea += rip + len;
	else if (m->base != DEC_NOREG)
		ea += r->gpr(r->ctx, m->base);
	if (m->index != DEC_NOREG && m->index != DEC_RIP)
		ea += r->gpr(r->ctx, m->index) * m->scale;
	ea &= dec_size_mask(m->addr_size);
	if (m->seg != DEC_SEG_DEFAULT && r->seg_base)
		ea += r->seg_base(r->ctx, m->seg);
	return ea;
}

uint64_t dec_val_read(const struct dec_val *v, uint8_t size, const struct dec_regs *r)
{
	uint64_t x;

	if (v->gpr == DEC_NOREG)
		return v->imm & dec_size_mask(size);
	x = r->gpr(r->ctx, v->gpr);
	if (v->high8)
		x >>= 8;
	return x & dec_size_mask(size);
}

static void build_io(const struct dec_insn *d, uint64_t rip, const struct dec_regs *r,
                     struct guest_op *op)
{
	uint64_t amask = dec_size_mask(d->u.io.addr_size), x = 0;

	op->u.io.size = d->u.io.size;
	op->u.io.in = d->u.io.in;
	op->u.io.string = d->u.io.string;
	op->u.io.rep = d->u.io.rep;
	op->u.io.imm = d->u.io.imm;
	op->u.io.port = d->u.io.imm ? d->u.io.port : (uint16_t)r->gpr(r->ctx, GPR_RDX);
	op->u.io.count = 1;
	if (!d->u.io.string) {
		if (!d->u.io.in)
			op->u.io.value =
			    (uint32_t)(r->gpr(r->ctx, GPR_RAX) & dec_size_mask(d->u.io.size));
		return;
	}
	op->u.io.addr_size = d->u.io.addr_size;
	op->u.io.addr = r->gpr(r->ctx, d->u.io.in ? GPR_RDI : GPR_RSI) & amask;
	if (d->u.io.rep)
		op->u.io.count = r->gpr(r->ctx, GPR_RCX) & amask;
	if (!d->u.io.in && r->mem && !r->mem(r->ctx, op->u.io.addr, &x, d->u.io.size))
		x = 0;
	op->u.io.value = (uint32_t)(x & dec_size_mask(d->u.io.size));
	(void)rip;
}

static void build_cr(const struct dec_insn *d, uint64_t rip, const struct dec_regs *r,
                     struct guest_op *op)
{
	op->u.cr.cr = d->u.cr.cr;
	op->u.cr.access = d->u.cr.access;
	op->u.cr.size = d->u.cr.size;
	op->u.cr.gpr = d->u.cr.src.gpr == DEC_NOREG ? 0 : d->u.cr.src.gpr;
	if (d->u.cr.access == CR_ACCESS_MOV_TO_CR)
		op->u.cr.value =
		    r->gpr(r->ctx, d->u.cr.src.gpr) & dec_size_mask(d->mode == DEC_MODE_64 ? 8 : 4);
	if (d->u.cr.access == CR_ACCESS_LMSW && !d->u.cr.src_mem)
		op->u.cr.lmsw = (uint16_t)r->gpr(r->ctx, d->u.cr.src.gpr);
	if (d->u.cr.access == CR_ACCESS_LMSW && d->u.cr.src_mem) {
		uint16_t w = 0;

		if (r->mem && r->mem(r->ctx, dec_ea(&d->u.cr.mem, rip, d->len, r), &w, 2))
			op->u.cr.lmsw = w;
	}
}

/* The operands of a VMX instruction as VM-exit instruction information reports them, with the
 * memory operand's linear address and the register values (SDM 28.2.1: a RIP-relative operand's
 * exit qualification is the displacement plus the next instruction's RIP). */
static void build_vmx(const struct dec_insn *d, uint64_t rip, const struct dec_regs *r,
                      struct guest_op *op)
{
	const struct dec_mem *m = &d->u.vmx.m;
	uint64_t mask = dec_size_mask(d->u.vmx.size);

	op->u.vmx.insn = d->u.vmx.insn;
	op->u.vmx.mem = d->u.vmx.mem;
	op->u.vmx.reg1 = d->u.vmx.reg1;
	op->u.vmx.reg2 = d->u.vmx.reg2;
	op->u.vmx.seg = d->u.vmx.seg;
	op->u.vmx.size = d->u.vmx.size;
	op->u.vmx.base = op->u.vmx.index = GPR_COUNT;
	if (d->u.vmx.mem) {
		op->u.vmx.base = m->base < GPR_COUNT ? m->base : GPR_COUNT;
		op->u.vmx.index = m->index < GPR_COUNT ? m->index : GPR_COUNT;
		op->u.vmx.scale = m->scale;
		op->u.vmx.addr_size = m->addr_size;
		op->u.vmx.disp = m->base == DEC_RIP ? m->disp + (int64_t)(rip + d->len) : m->disp;
		op->u.vmx.addr = dec_ea(m, rip, d->len, r);
	}
	if (d->u.vmx.reg2 < GPR_COUNT)
		op->u.vmx.field = r->gpr(r->ctx, d->u.vmx.reg2) & mask;
	if (d->u.vmx.insn == GVMX_VMWRITE && d->u.vmx.reg1 < GPR_COUNT)
		op->u.vmx.value = r->gpr(r->ctx, d->u.vmx.reg1) & mask;
}

static uint64_t edx_eax(const struct dec_regs *r)
{
	return (r->gpr(r->ctx, GPR_RDX) << 32) | (uint32_t)r->gpr(r->ctx, GPR_RAX);
}

void dec_build_op(const struct dec_insn *d, uint64_t rip, const struct dec_regs *r,
                  struct guest_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = d->kind;
	op->len = d->len;
	op->rip = rip;
	switch (d->kind) {
	case GOP_CPUID:
		op->u.cpuid.leaf = (uint32_t)r->gpr(r->ctx, GPR_RAX);
		op->u.cpuid.subleaf = (uint32_t)r->gpr(r->ctx, GPR_RCX);
		break;
	case GOP_RDMSR: op->u.msr.index = (uint32_t)r->gpr(r->ctx, GPR_RCX); break;
	case GOP_WRMSR:
		op->u.msr.index = (uint32_t)r->gpr(r->ctx, GPR_RCX);
		op->u.msr.value = edx_eax(r);
		break;
	case GOP_RDPMC: op->u.rdpmc.ecx = (uint32_t)r->gpr(r->ctx, GPR_RCX); break;
	case GOP_XSETBV:
		op->u.xsetbv.xcr = (uint32_t)r->gpr(r->ctx, GPR_RCX);
		op->u.xsetbv.value = edx_eax(r);
		break;
	case GOP_MONITOR:
	case GOP_MWAIT:
		op->u.mwait.eax = (uint32_t)r->gpr(r->ctx, GPR_RAX);
		op->u.mwait.ecx = (uint32_t)r->gpr(r->ctx, GPR_RCX);
		if (d->kind == GOP_MONITOR)
			op->u.mwait.addr =
			    r->gpr(r->ctx, GPR_RAX) & dec_size_mask(d->mode == DEC_MODE_64 ? 8 : 4);
		break;
	case GOP_IO: build_io(d, rip, r, op); break;
	case GOP_CR: build_cr(d, rip, r, op); break;
	case GOP_INVLPG: op->u.invlpg.addr = dec_ea(&d->u.invlpg, rip, d->len, r); break;
	case GOP_VMX: build_vmx(d, rip, r, op); break;
	case GOP_RDRAND:
	case GOP_RDSEED:
		op->u.rand.gpr = d->u.rand.gpr;
		op->u.rand.size = d->u.rand.size;
		break;
	case GOP_MMIO:
		op->u.mmio.gpa = dec_ea(&d->u.mmio.mem, rip, d->len, r);
		op->u.mmio.size = d->u.mmio.size;
		op->u.mmio.write = d->u.mmio.write;
		op->u.mmio.gpr = d->u.mmio.write ? GPR_COUNT : d->u.mmio.val.gpr;
		op->u.mmio.high8 = !d->u.mmio.write && d->u.mmio.val.high8;
		if (d->u.mmio.write)
			op->u.mmio.value = dec_val_read(&d->u.mmio.val, d->u.mmio.size, r);
		break;
	default: break;
	}
}
