/* A guest operation that real hardware would hand to a hypervisor: an exit-causing instruction or
 * an MMIO access, decoded into the operands a hypervisor reads. Both guest backends
 * (instruction-level code on Unicorn, recorded scripts) produce these; the virtualization hardware
 * model decides whether each one exits or completes in the guest. */
#ifndef HVSIM_GUEST_OP_H
#define HVSIM_GUEST_OP_H

#include <hvsim/base.h>

enum guest_op_kind {
	GOP_NONE = 0,
	GOP_CPUID,
	GOP_RDMSR,
	GOP_WRMSR,
	GOP_RDTSC,
	GOP_RDTSCP,
	GOP_RDPMC,
	GOP_HLT,
	GOP_PAUSE,
	GOP_MONITOR,
	GOP_MWAIT,
	GOP_IO, /* IN, OUT, INS, OUTS */
	GOP_VMCALL,
	GOP_VMMCALL,
	GOP_TDCALL,
	GOP_INVLPG,
	GOP_INVD,
	GOP_WBINVD,
	GOP_XSETBV,
	GOP_CR, /* MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW */
	GOP_RDRAND,
	GOP_RDSEED,
	GOP_MMIO,     /* a load or store to an MMIO region */
	GOP_VMX,      /* a VMX instruction (enum guest_vmx_insn) */
	GOP_SEAMCALL, /* last: kinds keep their values for plug-ins (hv.h ABI 3) */
	GOP_KIND_MAX,
};

/* General-purpose register numbers in the SDM's encoding order (also the VMX
 * instruction-information and CR-access qualification encoding: SDM Table 28-3). */
enum guest_gpr {
	GPR_RAX = 0,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	GPR_COUNT,
};

/* CR access types as the exit qualification encodes them (SDM Table 28-3 bits 5:4). */
enum guest_cr_access {
	CR_ACCESS_MOV_TO_CR = 0,
	CR_ACCESS_MOV_FROM_CR = 1,
	CR_ACCESS_CLTS = 2,
	CR_ACCESS_LMSW = 3,
};

/* The VMX instructions a GOP_VMX operation names (SDM ch. 31 "VMX Instruction Reference"). */
enum guest_vmx_insn {
	GVMX_VMXON = 0,
	GVMX_VMXOFF,
	GVMX_VMCLEAR,
	GVMX_VMPTRLD,
	GVMX_VMPTRST,
	GVMX_VMREAD,
	GVMX_VMWRITE,
	GVMX_VMLAUNCH,
	GVMX_VMRESUME,
	GVMX_INVEPT,
	GVMX_INVVPID,
	GVMX_COUNT,
};

struct guest_op {
	uint8_t kind; /* enum guest_op_kind */
	uint8_t len;  /* instruction length in bytes, 1..15 */
	uint64_t rip; /* linear address of the instruction */
	union {
		struct {
			uint32_t leaf, subleaf; /* EAX, ECX */
		} cpuid;
		struct {
			uint32_t index; /* ECX */
			uint64_t value; /* EDX:EAX for WRMSR; result for RDMSR once completed */
		} msr;
		struct {
			uint16_t port;
			uint8_t size;      /* 1, 2 or 4 bytes */
			bool in;           /* IN/INS (true), OUT/OUTS (false) */
			bool string;       /* INS/OUTS */
			bool rep;          /* REP prefix */
			bool imm;          /* port from an immediate (else DX) */
			uint8_t addr_size; /* string: RSI/RDI/RCX width in bytes (2, 4, 8) */
			uint32_t value;    /* OUT data (OUTS: 1st element); IN result */
			uint64_t count;    /* REP: RCX at the start (masked to addr_size); else 1 */
			uint64_t addr; /* string: linear address of the first element (RSI/RDI) */
		} io;
		struct {
			uint8_t cr;     /* 0, 3, 4 or 8 */
			uint8_t access; /* enum guest_cr_access */
			uint8_t gpr;    /* enum guest_gpr, MOV forms */
			uint8_t size;   /* MOV from CR: bytes written (8 in 64-bit mode) */
			uint16_t lmsw;  /* LMSW source data */
			uint64_t value; /* value moved to the CR */
		} cr;
		struct {
			uint64_t gpa;
			uint8_t size; /* 1, 2, 4 or 8 bytes */
			bool write;
			uint8_t
			    gpr; /* destination GPR of a load (enum guest_gpr), GPR_COUNT if none */
			bool high8;     /* destination is AH, CH, DH or BH: bits 15:8 of gpr */
			uint8_t region; /* id of the MMIO region hit (HVSIM_MMIO_* in hv.h) */
			bool fetch;     /* an instruction fetch from the region at gpa (size 0, gpr
			                 * GPR_COUNT): no data moves; the instruction at rip is retried
			                 * once the page is backed */
			bool
			    not_mov; /* an access at gpa by an instruction other than MOV (size 0,
			              * gpr GPR_COUNT; write: it writes memory): hvsim moves no
			              * data; the instruction at rip runs once the page is backed */
			uint64_t value; /* store data; load result once completed */
		} mmio;
		struct {
			uint32_t ecx; /* RDPMC counter selector */
		} rdpmc;
		struct {
			uint32_t xcr;   /* ECX */
			uint64_t value; /* EDX:EAX */
		} xsetbv;
		struct {
			uint64_t addr; /* INVLPG linear address */
		} invlpg;
		struct {
			uint8_t gpr;  /* RDRAND/RDSEED destination */
			uint8_t size; /* operand size in bytes */
		} rand;
		struct {
			uint32_t eax, ecx; /* MONITOR/MWAIT hints and extensions */
			uint64_t addr;     /* MONITOR: RAX, the linear address armed */
		} mwait;
		/* A VMX instruction with its operands as the VM-exit instruction information
		 * describes them (SDM 28.2.4) and their values at the exit. */
		struct {
			uint8_t insn;  /* enum guest_vmx_insn */
			bool mem;      /* r/m operand in memory (m64, m128, VMREAD/VMWRITE r/m) */
			uint8_t reg1;  /* r/m operand's register form; GPR_COUNT if none */
			uint8_t reg2;  /* ModRM.reg: VMREAD/VMWRITE encoding, INVEPT/INVVPID type */
			uint8_t base;  /* memory base, GPR_COUNT if none (also RIP-relative) */
			uint8_t index; /* memory index, GPR_COUNT if none */
			uint8_t scale; /* index multiplier: 1, 2, 4 or 8 */
			uint8_t addr_size; /* address size, bytes: 2, 4 or 8 */
			uint8_t seg;    /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS (SDM 28.2.4 order) */
			uint8_t size;   /* reg1/reg2 size, bytes: 8 in 64-bit mode, else 4 */
			int64_t disp;   /* displacement; RIP-relative: + the next RIP */
			uint64_t addr;  /* memory operand's linear address (FS/GS base added) */
			uint64_t field; /* reg2's value: the VMCS encoding or INVEPT/INVVPID type */
			uint64_t value; /* VMWRITE, register form: reg1's value; else 0 */
		} vmx;
	} u;
};

/* One bit per kind, for sets of operations (intercept sets). */
#define GOP_BIT(kind) (UINT32_C(1) << (kind))

/* Lower-case mnemonic-like name of an op kind ("wrmsr", "io", "mmio"); "none" when out of range. */
const char *guest_op_kind_name(unsigned kind);
/* Lower-case mnemonic of a VMX instruction ("vmxon", "vmlaunch"); "none" when out of range. */
const char *guest_vmx_insn_name(unsigned insn);

#endif
