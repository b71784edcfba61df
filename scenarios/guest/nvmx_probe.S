/* Probes of a hypervisor's VMX emulation for its guest (tests/test_kvm_nested.c): one report on
 * port 0xe9 per numbered probe, in order. Faults are caught: TRY runs one instruction with r14 =
 * 0; the #UD and #GP handlers put the vector in r14 and resume after it. Without VMX (VMXON
 * faults) the program stops after probe 5.
 *
 *  1 CPUID.1:ECX.VMX                 2 fault of MOV CR4 with VMXE     3 fault of RDMSR(480H)
 *  4 IA32_VMX_BASIC[31:0]            5 fault of VMXON (bad revision)  6 its status (CF=1: 0x1)
 *  7 status of VMXON                 8 status of VMCLEAR + VMPTRLD    9 VMPTRLD VMXON ptr: status
 * 10 its VM_INSTRUCTION_ERROR       11 VMREAD of a VMWRITE (registers) 12 same, memory operands
 * 13 VMPTRST's pointer              14 VMWRITE VM_EXIT_REASON: status  15 VM_INSTRUCTION_ERROR
 * 16 VMREAD reserved encoding: status 17 VM_INSTRUCTION_ERROR          18 status of VMXOFF
 * 19 fault of VMREAD after VMXOFF
 * Status values (VMX_STATUS): 0 VMsucceed, 0x1 VMfailInvalid, 0x40 VMfailValid. */
#include "runtime.h"

#define REGION_A 0x100000 /* VMXON region */
#define REGION_B 0x101000 /* a VMCS */
#define SCRATCH 0x102000  /* memory operands */
#define DEBUG_EXIT 0xf4
#define VM_INSTRUCTION_ERROR 0x4400
#define VM_EXIT_REASON 0x4402
#define GUEST_RSP 0x681c
#define GUEST_RIP 0x681e
#define RESERVED_ENCODING 0x8000 /* bit 15 set (SDM 25.11.2) */

/* Runs insn; afterwards r14 = 0, or the vector of the fault it raised (RIP past it). */
.macro TRY insn:vararg
	xor r14d, r14d
	lea r15, [rip + 1f]
	\insn
1:
.endm

/* Reports the VMX status of the instruction just executed (clobbers rax). */
.macro STATUS
	VMX_STATUS
	REPORT eax
.endm

	GUEST_ENTRY64
	IDT_SET 6, ud_handler
	IDT_SET 13, gp_handler
	/* 1 */
	mov eax, 1
	cpuid
	shr ecx, 5
	and ecx, 1
	REPORT ecx
	/* 2 */
	mov rbx, cr4
	or ebx, CR4_VMXE
	TRY mov cr4, rbx
	REPORT r14d
	/* 3, 4 */
	xor eax, eax
	mov ecx, MSR_IA32_VMX_BASIC
	TRY rdmsr
	REPORT r14d
	REPORT eax
	and eax, 0x7fffffff
	mov ebx, eax
	/* 5, 6: a VMXON region with the wrong revision identifier (SDM 31.3 VMXON) */
	xor eax, 1
	mov dword ptr [REGION_A], eax
	TRY vmxon qword ptr [rip + ptr_a]
	mov r13, r14
	VMX_STATUS
	REPORT r13d
	REPORT eax
	test r13, r13
	jnz done
	/* 7 */
	mov dword ptr [REGION_A], ebx
	mov dword ptr [REGION_B], ebx
	vmxon qword ptr [rip + ptr_a]
	STATUS
	/* 8 */
	vmclear qword ptr [rip + ptr_b]
	vmptrld qword ptr [rip + ptr_b]
	STATUS
	/* 9, 10: VMPTRLD of the VMXON pointer (error 10) */
	vmptrld qword ptr [rip + ptr_a]
	STATUS
	VMREAD_REG rbx, VM_INSTRUCTION_ERROR
	REPORT ebx
	/* 11 */
	VMWRITE_VAL GUEST_RIP, 0x1234
	VMREAD_REG rbx, GUEST_RIP
	REPORT ebx
	/* 12 */
	mov rcx, SCRATCH
	mov qword ptr [rcx], 0x5678
	mov edx, GUEST_RSP
	vmwrite rdx, qword ptr [rcx]
	vmread qword ptr [rcx + 8], rdx
	mov ebx, dword ptr [rcx + 8]
	REPORT ebx
	/* 13 */
	vmptrst qword ptr [rcx + 16]
	mov ebx, dword ptr [rcx + 16]
	REPORT ebx
	/* 14, 15: VMWRITE to a read-only field (error 13 unless IA32_VMX_MISC[29]) */
	VMWRITE_VAL VM_EXIT_REASON, 5
	STATUS
	VMREAD_REG rbx, VM_INSTRUCTION_ERROR
	REPORT ebx
	/* 16, 17: unsupported component (error 12) */
	mov edx, RESERVED_ENCODING
	vmread rbx, rdx
	STATUS
	VMREAD_REG rbx, VM_INSTRUCTION_ERROR
	REPORT ebx
	/* 18 */
	vmxoff
	STATUS
	/* 19 */
	mov edx, GUEST_RIP
	TRY vmread rbx, rdx
	REPORT r14d
done:
	mov dx, DEBUG_EXIT
	xor eax, eax
	out dx, al
	HALT_FOREVER

ud_handler:
	mov r14d, 6
	mov [rsp], r15
	iretq

gp_handler:
	mov r14d, 13
	add rsp, 8 /* the error code */
	mov [rsp], r15
	iretq

	.p2align 3
ptr_a:	.quad REGION_A
ptr_b:	.quad REGION_B
