/* The generic virtualization hardware: decides whether a guest operation exits (the intercept
 * set, like VMX execution controls, SDM 26.1.3 "Instructions That Cause VM Exits Conditionally"),
 * records the exit, and completes operations the way the CPU completes them, with the results a
 * hypervisor supplied or, for operations that do not exit, from the guest TSC and the run's PRNG.
 * VMX, when present, replaces these decisions; the exit records and completions stay. Not
 * modelled: interrupt shadows, I/O permission bitmaps, privilege checks (CPL 0 guests). */
#include "vm_int.h"

#include <hvsim/clock.h>
#include <hvsim/vmcs.h>

#include <string.h>

#define RFLAGS_CF       (UINT64_C(1) << 0)
#define RFLAGS_PF       (UINT64_C(1) << 2)
#define RFLAGS_AF       (UINT64_C(1) << 4)
#define RFLAGS_ZF       (UINT64_C(1) << 6)
#define RFLAGS_SF       (UINT64_C(1) << 7)
#define RFLAGS_IF       (UINT64_C(1) << 9)
#define RFLAGS_DF       (UINT64_C(1) << 10)
#define RFLAGS_OF       (UINT64_C(1) << 11)
#define TSC_FRAC_BITS   48
#define IO_STRING_CHUNK (UINT64_C(1) << 16) /* REP INS/OUTS elements per completion */

/* A VMX instruction: its mnemonic, the memory operand's address, VMREAD/VMWRITE's encoding and
 * VMWRITE's register source. */
static void vmx_exit_fields(struct trace_ev *e, const struct guest_op *op)
{
	uint8_t insn = op->u.vmx.insn;

	trace_ev_str(e, "insn", guest_vmx_insn_name(insn));
	if (op->u.vmx.mem)
		trace_ev_hex(e, "addr", op->u.vmx.addr);
	if (insn == GVMX_VMREAD || insn == GVMX_VMWRITE)
		trace_ev_hex(e, "field", op->u.vmx.field);
	if (insn == GVMX_VMWRITE && !op->u.vmx.mem)
		trace_ev_hex(e, "value", op->u.vmx.value);
}

/* Operands a hypervisor developer reads, per exit kind (docs/trace-format.md "exit"). */
void vcpu_exit_fields(struct trace_ev *e, const struct guest_op *op)
{
	switch (op->kind) {
	case GOP_CPUID:
		trace_ev_hex(e, "leaf", op->u.cpuid.leaf);
		trace_ev_hex(e, "subleaf", op->u.cpuid.subleaf);
		break;
	case GOP_RDMSR: trace_ev_hex(e, "msr", op->u.msr.index); break;
	case GOP_WRMSR:
		trace_ev_hex(e, "msr", op->u.msr.index);
		trace_ev_hex(e, "value", op->u.msr.value);
		break;
	case GOP_IO:
		trace_ev_hex(e, "port", op->u.io.port);
		trace_ev_num(e, "size", op->u.io.size);
		trace_ev_str(e, "dir", op->u.io.in ? "in" : "out");
		if (!op->u.io.in && !op->u.io.string)
			trace_ev_hex(e, "value", op->u.io.value);
		if (op->u.io.string)
			trace_ev_bool(e, "rep", op->u.io.rep);
		if (op->u.io.string && op->u.io.rep)
			trace_ev_hex(e, "count", op->u.io.count);
		break;
	case GOP_MMIO:
		trace_ev_hex(e, "gpa", op->u.mmio.gpa);
		if (vcpu_mmio_no_data(op)) {
			trace_ev_str(e, "dir",
			             op->u.mmio.fetch   ? "fetch"
			             : op->u.mmio.write ? "write"
			                                : "read");
			break;
		}
		trace_ev_num(e, "size", op->u.mmio.size);
		trace_ev_str(e, "dir", op->u.mmio.write ? "write" : "read");
		if (op->u.mmio.write)
			trace_ev_hex(e, "value", op->u.mmio.value);
		break;
	case GOP_CR:
		trace_ev_num(e, "cr", op->u.cr.cr);
		trace_ev_num(e, "access", op->u.cr.access);
		if (op->u.cr.access == CR_ACCESS_MOV_TO_CR)
			trace_ev_hex(e, "value", op->u.cr.value);
		break;
	case GOP_RDPMC: trace_ev_hex(e, "ecx", op->u.rdpmc.ecx); break;
	case GOP_INVLPG: trace_ev_hex(e, "addr", op->u.invlpg.addr); break;
	case GOP_MONITOR: /* SDM Vol. 2B MONITOR: RAX the address, ECX extensions */
		trace_ev_hex(e, "addr", op->u.mwait.addr);
		trace_ev_hex(e, "ecx", op->u.mwait.ecx);
		break;
	case GOP_MWAIT: /* SDM Vol. 2B MWAIT: EAX hints, ECX extensions */
		trace_ev_hex(e, "eax", op->u.mwait.eax);
		trace_ev_hex(e, "ecx", op->u.mwait.ecx);
		break;
	case GOP_XSETBV:
		trace_ev_hex(e, "xcr", op->u.xsetbv.xcr);
		trace_ev_hex(e, "value", op->u.xsetbv.value);
		break;
	case GOP_VMX: vmx_exit_fields(e, op); break;
	default: break;
	}
}

/* SDM 26.1.2: VMX instructions exit unconditionally, each with its own reason. */
static uint16_t vmx_reason(uint8_t insn)
{
	static const uint16_t reasons[GVMX_COUNT] = {
	    [GVMX_VMXON] = EXIT_REASON_VMXON,       [GVMX_VMXOFF] = EXIT_REASON_VMXOFF,
	    [GVMX_VMCLEAR] = EXIT_REASON_VMCLEAR,   [GVMX_VMPTRLD] = EXIT_REASON_VMPTRLD,
	    [GVMX_VMPTRST] = EXIT_REASON_VMPTRST,   [GVMX_VMREAD] = EXIT_REASON_VMREAD,
	    [GVMX_VMWRITE] = EXIT_REASON_VMWRITE,   [GVMX_VMLAUNCH] = EXIT_REASON_VMLAUNCH,
	    [GVMX_VMRESUME] = EXIT_REASON_VMRESUME, [GVMX_INVEPT] = EXIT_REASON_INVEPT,
	    [GVMX_INVVPID] = EXIT_REASON_INVVPID,
	};

	return insn < GVMX_COUNT ? reasons[insn] : EXIT_REASON_EXCEPTION_NMI;
}

static uint16_t generic_reason(const struct guest_op *op)
{
	uint8_t kind = op->kind;
	static const uint16_t reasons[GOP_KIND_MAX] = {
	    [GOP_CPUID] = EXIT_REASON_CPUID,
	    [GOP_RDMSR] = EXIT_REASON_RDMSR,
	    [GOP_WRMSR] = EXIT_REASON_WRMSR,
	    [GOP_RDTSC] = EXIT_REASON_RDTSC,
	    [GOP_RDTSCP] = EXIT_REASON_RDTSCP,
	    [GOP_RDPMC] = EXIT_REASON_RDPMC,
	    [GOP_HLT] = EXIT_REASON_HLT,
	    [GOP_PAUSE] = EXIT_REASON_PAUSE,
	    [GOP_MONITOR] = EXIT_REASON_MONITOR,
	    [GOP_MWAIT] = EXIT_REASON_MWAIT,
	    [GOP_IO] = EXIT_REASON_IO_INSTRUCTION,
	    [GOP_VMCALL] = EXIT_REASON_VMCALL,
	    [GOP_VMMCALL] = EXIT_REASON_EXCEPTION_NMI, /* #UD on Intel */
	    [GOP_TDCALL] = EXIT_REASON_TDCALL,
	    [GOP_SEAMCALL] = EXIT_REASON_SEAMCALL,
	    [GOP_INVLPG] = EXIT_REASON_INVLPG,
	    [GOP_INVD] = EXIT_REASON_INVD,
	    [GOP_WBINVD] = EXIT_REASON_WBINVD,
	    [GOP_XSETBV] = EXIT_REASON_XSETBV,
	    [GOP_CR] = EXIT_REASON_CR_ACCESS,
	    [GOP_RDRAND] = EXIT_REASON_RDRAND,
	    [GOP_RDSEED] = EXIT_REASON_RDSEED,
	    [GOP_MMIO] = EXIT_REASON_EPT_VIOLATION,
	};

	if (kind == GOP_VMX)
		return vmx_reason(op->u.vmx.insn);
	return kind < GOP_KIND_MAX ? reasons[kind] : EXIT_REASON_EXCEPTION_NMI;
}

/* The operation exits with its reason and decoded operands. */
static void generic_exit(hvsim_vcpu *v, const struct guest_op *op)
{
	hvsim_vm *vm = v->vm;
	struct trace_ev e;

	v->exit.reason = generic_reason(op);
	v->exit.op = *op;
	v->has_exit = true;
	v->exit_cost_due = true;
	v->state = VS_ROOT;
	vm->sum.exits++;
	vm->sum.exits_by_reason[v->exit.reason]++;
	trace_ev_init(&e, v->now, (int32_t)v->index, "exit");
	trace_ev_str(&e, "reason", hvsim_exit_reason_name(v->exit.reason));
	trace_ev_hex(&e, "rip", op->rip);
	vcpu_exit_fields(&e, op);
	vm_emit(vm, &e);
	if (vm->sum.exits >= vm->sc->limits.exits) {
		vm_finding(vm, (int32_t)v->index, v->now, "budget_exhausted", "limit exits");
		vm_end(vm, "limit exits");
	}
}

/* Merges an n-byte result into a GPR the way x86 does: 8- and 16-bit writes keep the upper bits,
 * 32-bit writes zero bits 63:32 (SDM 3.4.1.1); high8 targets bits 15:8 (AH, CH, DH, BH). */
static void write_gpr(hvsim_vcpu *v, unsigned gpr, bool high8, uint64_t value, unsigned size)
{
	uint64_t old = hvsim_vcpu_gpr(v, gpr);

	if (high8)
		value = (old & ~UINT64_C(0xff00)) | ((value & 0xff) << 8);
	else if (size == 1)
		value = (old & ~UINT64_C(0xff)) | (value & 0xff);
	else if (size == 2)
		value = (old & ~UINT64_C(0xffff)) | (value & 0xffff);
	else if (size == 4)
		value = (uint32_t)value;
	hvsim_vcpu_set_gpr(v, gpr, value);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

/* String I/O completes whole, or in chunks with RIP left on it like an interrupted REP
 * (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ"); each INS element receives value. */
static bool io_string(hvsim_vcpu *v, const struct guest_op *op, uint64_t value)
{
	uint64_t amask = size_mask(op->u.io.addr_size), n = op->u.io.rep ? op->u.io.count : 1;
	uint64_t step = op->u.io.size, done = n < IO_STRING_CHUNK ? n : IO_STRING_CHUNK;
	unsigned reg = op->u.io.in ? GPR_RDI : GPR_RSI;
	bool down = hvsim_vcpu_rflags(v) & RFLAGS_DF;
	uint64_t addr = hvsim_vcpu_gpr(v, reg);

	for (uint64_t i = 0; op->u.io.in && i < done; i++) {
		uint64_t a = (addr + (down ? -(i * step) : i * step)) & amask;

		if (hvsim_guest_write(v->vm, a, &value, op->u.io.size) != HVSIM_OK)
			break;
	}
	addr += down ? -(done * step) : done * step;
	write_gpr(v, reg, false, addr & amask, op->u.io.addr_size);
	if (op->u.io.rep)
		write_gpr(v, GPR_RCX, false, (n - done) & amask, op->u.io.addr_size);
	return done == n;
}

static void set_flags_cf_only(hvsim_vcpu *v)
{
	uint64_t f = hvsim_vcpu_rflags(v);

	f &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
	v->be->set_rflags(v->be_ctx, f | RFLAGS_CF); /* SDM Vol. 2 RDRAND: CF=1 when valid */
}

static bool pass_through(hvsim_vcpu *v, const struct guest_op *op)
{
	return v->be->pass_through && v->be->pass_through(v->be_ctx, op);
}

/* Writes the results; false when the backend will execute the operation itself (pass-through)
 * or a REP string operation has elements left, so RIP stays. */
static bool apply(hvsim_vcpu *v, const struct guest_op *op, uint64_t result)
{
	switch (op->kind) {
	case GOP_RDMSR:
	case GOP_RDTSC:
	case GOP_RDPMC:
	case GOP_RDTSCP:
		write_gpr(v, GPR_RAX, false, result, 4);
		write_gpr(v, GPR_RDX, false, result >> 32, 4);
		if (op->kind == GOP_RDTSCP)
			write_gpr(v, GPR_RCX, false, v->tsc_aux, 4);
		return true;
	case GOP_IO:
		if (op->u.io.string)
			return io_string(v, op, result);
		if (op->u.io.in)
			write_gpr(v, GPR_RAX, false, result, op->u.io.size);
		return true;
	case GOP_MMIO:
		if (!op->u.mmio.write && op->u.mmio.gpr < GPR_COUNT)
			write_gpr(v, op->u.mmio.gpr, op->u.mmio.high8, result, op->u.mmio.size);
		return true;
	case GOP_RDRAND:
	case GOP_RDSEED:
		write_gpr(v, op->u.rand.gpr, false, result, op->u.rand.size);
		set_flags_cf_only(v);
		return true;
	case GOP_CR:
		if (op->u.cr.access == CR_ACCESS_MOV_FROM_CR) {
			write_gpr(v, op->u.cr.gpr, false, result, op->u.cr.size);
			return true;
		}
		return !pass_through(v, op);
	case GOP_INVLPG:
	case GOP_PAUSE:
	case GOP_INVD:
	case GOP_WBINVD: return !pass_through(v, op);
	default: return true;
	}
}

void vcpu_hw_complete(hvsim_vcpu *v, const struct guest_op *op, uint64_t result)
{
	if (!apply(v, op, result))
		return;
	if (op->kind == GOP_INVLPG && v->be->flush_tlb)
		v->be->flush_tlb(v->be_ctx);
	vcpu_hw_skip(v, op);
}

void vcpu_hw_skip(hvsim_vcpu *v, const struct guest_op *op)
{
	hvsim_vcpu_set_rip(v, op->rip + op->len);
	v->insns++;
	v->now += v->vm->sc->machine.insn_ns;
	v->vm->sum.instructions++;
}

static void halt(hvsim_vcpu *v)
{
	if (v->pending_vector >= 0 && v->be->interruptible(v->be_ctx))
		return; /* an interrupt is already waiting: it ends the halt at once */
	v->state = VS_HALTED;
	vcpu_emit(v, "halt", TRACE_VERBOSE, NULL, NULL);
}

void vcpu_hw_op(hvsim_vcpu *v, const struct guest_op *op)
{
	if (vcpu_mmio_no_data(op)) {
		vcpu_mmio_stop(v, op);
		return;
	}
	if (op->kind < GOP_KIND_MAX && (v->intercepts & GOP_BIT(op->kind))) {
		generic_exit(v, op);
		return;
	}
	switch (op->kind) {
	case GOP_RDTSC:
	case GOP_RDTSCP: vcpu_hw_complete(v, op, hvsim_vcpu_tsc(v)); break;
	case GOP_RDRAND:
	case GOP_RDSEED: vcpu_hw_complete(v, op, sim_prng_next(&v->vm->prng)); break;
	case GOP_HLT:
		vcpu_hw_complete(v, op, 0);
		halt(v);
		break;
	default: vcpu_hw_complete(v, op, 0); break;
	}
}

/* ---- services for algorithms ---- */

void hvsim_vcpu_complete(hvsim_vcpu *v, uint64_t result)
{
	const struct guest_op *op = &v->vmx_op;

	if (v->has_exit) {
		vcpu_hw_complete(v, &v->exit.op, result);
		return;
	}
	/* After a VM exit the guest's RIP lives in the VMCS: complete like an emulator that skips
	 * the instruction (GUEST_RIP += length), leaving the backend's RIP for the next entry. */
	if (v->vmx_exited && v->vmx_has_op && apply(v, op, result)) {
		vmx_vmcs_set(v->vmx, VMCS_GUEST_RIP, op->rip + op->len);
		v->insns++;
		v->now += v->vm->sc->machine.insn_ns;
		v->vm->sum.instructions++;
	}
}

void hvsim_vcpu_set_intercepts(hvsim_vcpu *v, uint32_t mask)
{
	v->intercepts = (mask & HVSIM_INTERCEPT_ALL) | HVSIM_INTERCEPT_FORCED;
	if (v->be->set_stop_mask)
		v->be->set_stop_mask(v->be_ctx, v->intercepts);
}

uint32_t hvsim_vcpu_intercepts(const hvsim_vcpu *v)
{
	return v->intercepts;
}

void hvsim_vcpu_set_tsc_offset(hvsim_vcpu *v, uint64_t offset)
{
	v->tsc_offset = offset;
}

void hvsim_vcpu_set_tsc_multiplier(hvsim_vcpu *v, uint64_t multiplier)
{
	v->tsc_multiplier = multiplier;
}

uint64_t hvsim_vcpu_tsc(const hvsim_vcpu *v)
{
	uint64_t tsc = sim_ns_to_tsc(v->now, v->vm->sc->machine.tsc_khz);

	return sim_tsc_scale(tsc, v->tsc_multiplier, TSC_FRAC_BITS) + v->tsc_offset;
}

void hvsim_vcpu_set_tsc_aux(hvsim_vcpu *v, uint32_t aux)
{
	v->tsc_aux = aux;
}

uint64_t hvsim_vcpu_cr(hvsim_vcpu *v, unsigned cr)
{
	return v->be->get_cr ? v->be->get_cr(v->be_ctx, cr) : 0;
}

void hvsim_vcpu_set_cr(hvsim_vcpu *v, unsigned cr, uint64_t value)
{
	if (v->be->set_cr)
		v->be->set_cr(v->be_ctx, cr, value);
}
