/* Guest instructions in VMX non-root operation: which exit (SDM 26.1.2 unconditionally, 26.1.3 by
 * VM-execution controls, with the fault priorities of 26.1.1) and how the ones that do not exit
 * behave differently (SDM 26.3: TSC offsetting/scaling, WRMSR 79H). I/O and MSR bitmaps, PAUSE-loop
 * exiting, MMIO as EPT violations or APIC-access page accesses, and the instructions without a
 * guest_op kind (struct vmx_insn: GETSEC, MOV DR, INVPCID, INVEPT/INVVPID, descriptor tables, the
 * VMX instructions). CR accesses are in vmx_nonroot_cr.c, APIC-page and x2APIC virtualization in
 * vmx_apicv_access.c. Not modelled: TSS I/O-permission checks (IN/OUT at CPL > IOPL is taken as
 * allowed), ENCLS/ENCLV, XSAVES/XRSTORS, VMFUNC, UMWAIT/TPAUSE, PCONFIG, LOADIWKEY, MSRLIST,
 * address-size and segment-override prefixes of INS/OUTS (the defaults are reported). */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define VEC_UD 6
#define VEC_GP 13

#define MSR_IA32_TIME_STAMP_COUNTER 0x10u
#define MSR_IA32_BIOS_UPDT_TRIG     0x79u

void vmx_op_exit(struct vmx_op_result *out, uint32_t reason, uint32_t insn_len, uint64_t qual)
{
	memset(&out->exit, 0, sizeof(out->exit));
	out->outcome = VMX_OP_EXIT;
	out->exit.reason = reason;
	out->exit.qual = qual;
	if (insn_len) {
		out->exit.has_insn_len = true;
		out->exit.insn_len = insn_len;
	}
}

/* An exception the operation raises instead of exiting (SDM 26.1.1): delivered through the guest
 * IDT, or an exit 0 when the exception bitmap says so (SDM 26.2). */
void vmx_op_fault(const struct vmx_cpu *cpu, struct vmx_op_result *out, uint8_t vector,
                  bool has_error)
{
	struct vmx_exception e = {.vector = vector, .has_error = has_error};

	if (vmx_exception_exits(cpu, &e, &out->exit)) {
		out->outcome = VMX_OP_EXIT;
		return;
	}
	out->outcome = VMX_OP_FAULT;
	out->fault.valid = true;
	out->fault.type = VMX_INTR_HW_EXC;
	out->fault.vector = vector;
	out->fault.has_error = has_error;
}

void vmx_op_done(struct vmx_op_result *out)
{
	out->outcome = VMX_OP_DONE;
}

void vmx_op_done_value(struct vmx_op_result *out, uint64_t value)
{
	out->outcome = VMX_OP_DONE;
	out->done.has_value = true;
	out->done.value = value;
}

/* An instruction that exits when control bit is set in controls, else executes. */
static void exit_if(struct vmx_op_result *out, uint32_t controls, uint32_t bit, uint32_t reason,
                    uint32_t len)
{
	if (controls & bit)
		vmx_op_exit(out, reason, len, 0);
	else
		out->outcome = VMX_OP_EXECUTE;
}

/* ---- I/O instructions (SDM 26.1.3 IN/INS/OUT/OUTS, I/O bitmaps SDM 25.6.4) ---- */

static bool io_bitmap_bit(const struct vmx_cpu *cpu, const struct vmcs *v, uint32_t port)
{
	uint64_t bitmap = port < 0x8000 ? VF(v, IO_BITMAP_A) : VF(v, IO_BITMAP_B);
	uint8_t byte;

	vmx_mem_read(cpu, bitmap + ((port & 0x7fffu) >> 3), &byte, 1);
	return (byte >> (port & 7u)) & 1u;
}

/* True when the access exits: unconditional I/O exiting without bitmaps; with bitmaps, any port
 * the access touches has its bit set, or the access wraps past FFFFH. */
static bool io_exits(const struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                     const struct guest_op *op)
{
	unsigned size = op->u.io.size ? op->u.io.size : 1;

	if (!(c->proc & PROC_USE_IO_BITMAPS))
		return (c->proc & PROC_UNCOND_IO_EXITING) != 0;
	for (uint32_t p = op->u.io.port; p < (uint32_t)op->u.io.port + size; p++)
		if (p > 0xffff || io_bitmap_bit(cpu, v, p))
			return true;
	return false;
}

/* Default address size of the guest's code segment: 0 = 16, 1 = 32, 2 = 64 bits. */
static unsigned addr_size(const struct cpu_state *g)
{
	if (vmx_guest_64bit(g))
		return 2;
	return (g->seg[SEG_CS].ar & AR_DB) ? 1 : 0;
}

/* SDM 28.2.1 guest-linear address and 28.2.4 instruction information of INS/OUTS: ES:(E)DI for
 * INS, DS:(E)SI for OUTS (no segment-override prefix is known). */
static void io_string_info(const struct cpu_state *g, const struct guest_op *op,
                           struct vmx_exit_info *x)
{
	unsigned asz = addr_size(g), seg = op->u.io.in ? SEG_ES : SEG_DS;
	uint64_t off = g->gpr[op->u.io.in ? GPR_RDI : GPR_RSI];
	uint64_t la;

	off &= asz == 0 ? 0xffffu : asz == 1 ? UINT32_MAX : UINT64_MAX;
	la = g->seg[seg].base + off;
	x->has_insn_info = true;
	x->insn_info = vmx_insn_info_io(asz, op->u.io.in ? 0 : seg);
	x->has_linear = true;
	x->guest_linear = vmx_guest_64bit(g) ? la : la & UINT32_MAX;
}

static void io_op(const struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                  const struct guest_op *op, const struct cpu_state *g, struct vmx_op_result *out)
{
	unsigned size = op->u.io.size ? op->u.io.size : 1;

	if (!io_exits(cpu, v, c, op)) {
		out->outcome = VMX_OP_EXECUTE;
		return;
	}
	vmx_op_exit(out, EXIT_REASON_IO_INSTRUCTION, op->len,
	            vmx_qual_io(size, op->u.io.in, op->u.io.string, op->u.io.rep, op->u.io.imm,
	                        op->u.io.port));
	if (op->u.io.string)
		io_string_info(g, op, &out->exit);
}

/* ---- RDMSR/WRMSR (SDM 26.1.3, MSR bitmaps SDM 25.6.9) ---- */

static bool msr_bitmap_exits(const struct vmx_cpu *cpu, const struct vmcs *v,
                             const struct vmx_ctls *c, uint32_t index, bool write)
{
	unsigned off;
	uint8_t byte;

	if (!(c->proc & PROC_USE_MSR_BITMAPS))
		return true;
	if (index <= 0x1fffu)
		off = 0;
	else if (index - 0xc0000000u <= 0x1fffu)
		off = 1024;
	else
		return true;
	off += write ? 2048 : 0;
	vmx_mem_read(cpu, VF(v, MSR_BITMAP) + off + ((index & 0x1fffu) >> 3), &byte, 1);
	return (byte >> (index & 7u)) & 1u;
}

static void rdmsr_op(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                     const struct guest_op *op, uint64_t tsc, struct vmx_op_result *out)
{
	uint32_t index = op->u.msr.index;

	if (msr_bitmap_exits(cpu, v, c, index, false)) {
		vmx_op_exit(out, EXIT_REASON_RDMSR, op->len, 0);
		return;
	}
	if (vmx_x2apic_rdmsr(cpu, op, out))
		return;
	/* SDM 26.3 RDMSR: IA32_TIME_STAMP_COUNTER reads with the TSC offset and multiplier */
	if (index == MSR_IA32_TIME_STAMP_COUNTER) {
		vmx_op_done_value(out, vmx_guest_tsc(cpu, tsc));
		return;
	}
	out->outcome = VMX_OP_EXECUTE;
}

static void wrmsr_op(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                     const struct guest_op *op, struct vmx_op_result *out)
{
	if (msr_bitmap_exits(cpu, v, c, op->u.msr.index, true)) {
		vmx_op_exit(out, EXIT_REASON_WRMSR, op->len, 0);
		return;
	}
	if (vmx_x2apic_wrmsr(cpu, op, out))
		return;
	/* SDM 26.3 WRMSR: no microcode update is loaded in VMX non-root operation */
	if (op->u.msr.index == MSR_IA32_BIOS_UPDT_TRIG) {
		vmx_op_done(out);
		return;
	}
	out->outcome = VMX_OP_EXECUTE;
}

/* ---- PAUSE (SDM 26.1.3: PAUSE exiting, PAUSE-loop exiting at CPL 0) ---- */

static void pause_op(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                     const struct guest_op *op, const struct cpu_state *g, uint64_t tsc,
                     struct vmx_op_result *out)
{
	struct vmx_nonroot *nr = &cpu->nr;

	out->outcome = VMX_OP_EXECUTE;
	if (c->proc & PROC_PAUSE_EXITING) {
		vmx_op_exit(out, EXIT_REASON_PAUSE, op->len, 0);
		return;
	}
	if (!(c->proc2 & PROC2_PAUSE_LOOP_EXITING) || vmx_guest_cpl(g) != 0)
		return;
	if (!nr->ple_loop || tsc - nr->ple_last > (uint32_t)VF(v, PLE_GAP)) {
		nr->ple_loop = true;
		nr->ple_first = tsc;
	} else if (tsc - nr->ple_first > (uint32_t)VF(v, PLE_WINDOW)) {
		vmx_op_exit(out, EXIT_REASON_PAUSE, op->len, 0);
	}
	nr->ple_last = tsc;
}

/* ---- Faults that take priority over VM exits (SDM 26.1.1) ---- */

/* CPL > 0 #GP(0) (#UD for MONITOR/MWAIT) and the #UD conditions of the instructions modelled;
 * true with out filled when the operation faults. */
static bool prio_fault(const struct vmx_cpu *cpu, const struct vmx_ctls *c,
                       const struct guest_op *op, const struct cpu_state *g,
                       struct vmx_op_result *out)
{
	bool cpl0 = vmx_guest_cpl(g) == 0;

	switch (op->kind) {
	case GOP_VMMCALL: break; /* AMD's VMMCALL is #UD on an Intel processor */
	case GOP_TDCALL:
	case GOP_SEAMCALL:
		/* Intel TDX ISA TDCALL, SEAMCALL: #UD without SEAM; on a TDX-capable processor the
		 * CPL > 0 #GP(0) comes before the VM exit (as KVM commit 9d7dfb95da2c measured on
		 * SPR and EMR) */
		if (!cpu->caps.seam)
			break;
		if (cpl0)
			return false;
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	case GOP_MONITOR:
	case GOP_MWAIT:
		if (cpl0)
			return false;
		break;
	case GOP_XSETBV:
		if (!(g->cr4 & CR4_OSXSAVE))
			break;
		if (cpl0)
			return false;
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	case GOP_RDTSCP:
		if (!(c->proc2 & PROC2_ENABLE_RDTSCP))
			break;
		/* fall through */
	case GOP_RDTSC:
		if (cpl0 || !(g->cr4 & CR4_TSD))
			return false;
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	case GOP_RDPMC:
		if (cpl0 || (g->cr4 & CR4_PCE))
			return false;
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	case GOP_HLT:
	case GOP_INVD:
	case GOP_WBINVD:
	case GOP_INVLPG:
	case GOP_RDMSR:
	case GOP_WRMSR:
	case GOP_CR:
		if (cpl0)
			return false;
		vmx_op_fault(cpu, out, VEC_GP, true);
		return true;
	default: return false;
	}
	vmx_op_fault(cpu, out, VEC_UD, false);
	return true;
}

/* ---- Remaining instructions ---- */

static void rdtsc_op(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct guest_op *op,
                     const struct cpu_state *g, uint64_t tsc, struct vmx_op_result *out)
{
	uint32_t reason = op->kind == GOP_RDTSC ? EXIT_REASON_RDTSC : EXIT_REASON_RDTSCP;

	if (c->proc & PROC_RDTSC_EXITING) {
		vmx_op_exit(out, reason, op->len, 0);
		return;
	}
	vmx_op_done_value(out, vmx_guest_tsc(cpu, tsc));
	if (op->kind == GOP_RDTSCP) {
		out->done.has_aux = true;
		out->done.aux = (uint32_t)g->tsc_aux;
	}
}

/* SDM 26.3 MWAIT: without an exit, ECX[0] = 1 and RFLAGS.IF = 0, a pending virtual interrupt or
 * interrupt-window exiting makes MWAIT fall through instead of sleeping. */
static void mwait_op(const struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct guest_op *op,
                     const struct cpu_state *g, struct vmx_op_result *out)
{
	if (c->proc & PROC_MWAIT_EXITING) {
		vmx_op_exit(out, EXIT_REASON_MWAIT, op->len, 0);
		return;
	}
	out->outcome = VMX_OP_EXECUTE;
	if ((op->u.mwait.ecx & 1u) && !(g->rflags & RFLAGS_IF) &&
	    ((c->proc & PROC_INTR_WINDOW_EXITING) || cpu->nr.vintr_recognized)) {
		vmx_op_done(out);
		out->done.no_sleep = true;
	}
}

static void rand_op(const struct vmx_ctls *c, const struct guest_op *op, struct vmx_op_result *out)
{
	bool rdrand = op->kind == GOP_RDRAND;
	uint32_t bit = rdrand ? PROC2_RDRAND_EXITING : PROC2_RDSEED_EXITING;
	unsigned opsize = op->u.rand.size == 2 ? 0 : op->u.rand.size == 4 ? 1 : 2;

	exit_if(out, c->proc2, bit, rdrand ? EXIT_REASON_RDRAND : EXIT_REASON_RDSEED, op->len);
	if (out->outcome == VMX_OP_EXIT) {
		out->exit.has_insn_info = true;
		out->exit.insn_info = vmx_insn_info_rand(op->u.rand.gpr, opsize);
	}
}

/* SDM 28.2.1: INVLPG's qualification is its linear address, bits 63:32 cleared outside 64-bit */
static void invlpg_op(const struct vmx_ctls *c, const struct guest_op *op,
                      const struct cpu_state *g, struct vmx_op_result *out)
{
	uint64_t la = op->u.invlpg.addr;

	exit_if(out, c->proc, PROC_INVLPG_EXITING, EXIT_REASON_INVLPG, op->len);
	if (out->outcome == VMX_OP_EXIT)
		out->exit.qual = vmx_guest_64bit(g) ? la : la & UINT32_MAX;
}

/* The access bits of an EPT violation's qualification (SDM 28.2.1 Table 28-7: bit 0 read, bit 1
 * write, bit 2 instruction fetch). */
static uint64_t ept_access(const struct guest_op *op)
{
	if (op->u.mmio.fetch)
		return VMX_EPT_FETCH;
	return op->u.mmio.write ? VMX_EPT_WRITE : VMX_EPT_READ;
}

/* MMIO outside the APIC-access page: the engine maps guest RAM 1:1 through EPT, so an MMIO
 * region is an EPT-unmapped page and the access, or the fetch of an instruction there, an EPT
 * violation (SDM 28.2.1: access bit, no permissions since not present, guest-linear address
 * valid and translated; the guest-linear address is taken as equal to the GPA). Without EPT the
 * access reaches the device: no exit. */
static void mmio_op(struct vmx_cpu *cpu, const struct vmx_ctls *c, const struct guest_op *op,
                    struct vmx_op_result *out)
{
	if (vmx_apic_access_op(cpu, op, out))
		return;
	if (!(c->proc2 & PROC2_ENABLE_EPT)) {
		out->outcome = VMX_OP_EXECUTE;
		return;
	}
	vmx_op_exit(out, EXIT_REASON_EPT_VIOLATION, 0,
	            ept_access(op) | VMX_EPT_GLA_VALID | VMX_EPT_GLA_XLATE);
	out->exit.has_phys = true;
	out->exit.guest_phys = op->u.mmio.gpa;
	out->exit.has_linear = true;
	out->exit.guest_linear = op->u.mmio.gpa;
}

static void dispatch(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                     const struct guest_op *op, const struct cpu_state *g, uint64_t tsc,
                     struct vmx_op_result *out)
{
	switch (op->kind) {
	case GOP_CPUID: vmx_op_exit(out, EXIT_REASON_CPUID, op->len, 0); break;
	case GOP_INVD: vmx_op_exit(out, EXIT_REASON_INVD, op->len, 0); break;
	case GOP_XSETBV: vmx_op_exit(out, EXIT_REASON_XSETBV, op->len, 0); break;
	case GOP_VMCALL: vmx_op_exit(out, EXIT_REASON_VMCALL, op->len, 0); break;
	case GOP_TDCALL:
		vmx_op_exit(out, EXIT_REASON_TDCALL, op->len, 0);
		break; /* unconditional */
	case GOP_SEAMCALL:
		vmx_op_exit(out, EXIT_REASON_SEAMCALL, op->len, 0);
		break; /* unconditional */
	case GOP_HLT: exit_if(out, c->proc, PROC_HLT_EXITING, EXIT_REASON_HLT, op->len); break;
	case GOP_INVLPG: invlpg_op(c, op, g, out); break;
	case GOP_MWAIT: mwait_op(cpu, c, op, g, out); break;
	case GOP_MONITOR:
		exit_if(out, c->proc, PROC_MONITOR_EXITING, EXIT_REASON_MONITOR, op->len);
		break;
	case GOP_RDPMC:
		exit_if(out, c->proc, PROC_RDPMC_EXITING, EXIT_REASON_RDPMC, op->len);
		break;
	case GOP_RDTSC:
	case GOP_RDTSCP: rdtsc_op(cpu, c, op, g, tsc, out); break;
	case GOP_PAUSE: pause_op(cpu, v, c, op, g, tsc, out); break;
	case GOP_WBINVD:
		exit_if(out, c->proc2, PROC2_WBINVD_EXITING, EXIT_REASON_WBINVD, op->len);
		break;
	case GOP_RDRAND:
	case GOP_RDSEED: rand_op(c, op, out); break;
	case GOP_IO: io_op(cpu, v, c, op, g, out); break;
	case GOP_RDMSR: rdmsr_op(cpu, v, c, op, tsc, out); break;
	case GOP_WRMSR: wrmsr_op(cpu, v, c, op, out); break;
	case GOP_CR: vmx_cr_op(cpu, op, g, out); break;
	case GOP_MMIO: mmio_op(cpu, c, op, out); break;
	default: out->outcome = VMX_OP_EXECUTE; break;
	}
}

bool vmx_op_exits(struct vmx_cpu *cpu, const struct guest_op *op, const struct cpu_state *guest,
                  uint64_t tsc, struct vmx_op_result *out)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;

	memset(out, 0, sizeof(*out));
	if (!v)
		return false;
	vmx_ctls_of(v, &c);
	if (!prio_fault(cpu, &c, op, guest, out))
		dispatch(cpu, v, &c, op, guest, tsc, out);
	return out->outcome == VMX_OP_EXIT || out->outcome == VMX_OP_DONE_EXIT;
}
