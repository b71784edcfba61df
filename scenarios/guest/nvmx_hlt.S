/* An L1 hypervisor that launches a 64-bit L2 in the HLT activity state, whatever VMX_MISC says
 * (scenario nvmx-hlt-activity-vmx-misc). Like a real L1 it sets CR4.VMXE, reads IA32_VMX_BASIC for
 * the revision identifier, adjusts its controls to the capability MSRs (the TRUE_ ones when
 * IA32_VMX_BASIC[55] is set, SDM A.2), enters VMX operation, and programs host and guest state as
 * copies of its own 64-bit state. GUEST_ACTIVITY_STATE = 1 (HLT) is valid only when
 * IA32_VMX_MISC[6] is set (SDM 27.3.1.5).
 *
 * Reports on port 0xe9: CPUID.1:ECX, IA32_FEATURE_CONTROL, IA32_VMX_MISC (low half), then the
 * status of VMXON, VMCLEAR and VMPTRLD (VMX_STATUS: 0 = VMsucceed). After VMLAUNCH: if it fails
 * with VMfail, the status and VM_INSTRUCTION_ERROR; if it fails with a VM-entry failure exit, L1
 * resumes at HOST_RIP and reports VM_EXIT_REASON and EXIT_QUALIFICATION. Then isa-debug-exit.
 * When the entry succeeds L2 runs (hvsim stops there: L2 is not simulated).
 *
 * Memory: VMXON region at 1 MiB, VMCS at 1 MiB + 4 KiB, L2's stack below 2 MiB. */
#include "runtime.h"

#define VMXON_REGION 0x100000
#define VMCS_REGION 0x101000
#define L2_STACK 0x200000
#define DEBUG_EXIT 0xf4
#define SEL_TR 0x28 /* TR selector for the VMCS: no descriptor is read at VM exit (SDM 28.5.2) */

/* VMCS field encodings, SDM Appendix B */
#define VMCS_LINK_POINTER 0x2800
#define PIN_BASED_VM_EXEC_CONTROL 0x4000
#define CPU_BASED_VM_EXEC_CONTROL 0x4002
#define VM_EXIT_CONTROLS 0x400c
#define VM_ENTRY_CONTROLS 0x4012
#define VM_INSTRUCTION_ERROR 0x4400
#define VM_EXIT_REASON 0x4402
#define EXIT_QUALIFICATION 0x6400
#define GUEST_ES_SELECTOR 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define GUEST_ES_LIMIT 0x4800
#define GUEST_GDTR_LIMIT 0x4810
#define GUEST_IDTR_LIMIT 0x4812
#define GUEST_ES_AR_BYTES 0x4814
#define GUEST_ACTIVITY_STATE 0x4826
#define GUEST_CR0 0x6800
#define GUEST_CR3 0x6802
#define GUEST_CR4 0x6804
#define GUEST_TR_BASE 0x6814
#define GUEST_GDTR_BASE 0x6816
#define GUEST_IDTR_BASE 0x6818
#define GUEST_DR7 0x681a
#define GUEST_RSP 0x681c
#define GUEST_RIP 0x681e
#define GUEST_RFLAGS 0x6820
#define HOST_ES_SELECTOR 0x0c00 /* ES, CS, SS, DS, FS, GS, TR: +2 each */
#define HOST_CR0 0x6c00
#define HOST_CR3 0x6c02
#define HOST_CR4 0x6c04
#define HOST_GDTR_BASE 0x6c0c
#define HOST_IDTR_BASE 0x6c0e
#define HOST_RSP 0x6c14
#define HOST_RIP 0x6c16

/* Controls, SDM Tables 25-5, 25-6, 25-13, 25-15 */
#define PROC_HLT_EXITING (1 << 7)
#define EXIT_HOST_ADDR_SPACE_SIZE (1 << 9)
#define ENTRY_IA32E_MODE_GUEST (1 << 9)
#define ACTIVITY_HLT 1
#define AR_CODE64 0xa09b
#define AR_DATA 0xc093
#define AR_UNUSABLE 0x10000
#define AR_TSS_BUSY 0x8b

/* eax = want adjusted to control MSR (msr + r12): bits set in the low half must be 1, only bits
 * set in the high half may be 1 (SDM A.3-A.5); clobbers ecx, edx. */
.macro ADJUST msr, want
	lea ecx, [r12 + \msr]
	rdmsr
	or eax, \want
	and eax, edx
.endm

/* VMWRITE that jumps to vmwrite_failed (field in edx) unless it succeeded (CF = ZF = 0). */
.macro W field, value
	VMWRITE_VAL \field, \value
	jbe vmwrite_failed
.endm

	GUEST_ENTRY64
	mov eax, 1
	cpuid
	REPORT ecx
	mov ecx, MSR_IA32_FEATURE_CONTROL
	rdmsr
	REPORT eax
	mov rax, cr4
	or eax, CR4_VMXE
	mov cr4, rax
	RDMSR64 MSR_IA32_VMX_MISC
	REPORT eax
	RDMSR64 MSR_IA32_VMX_BASIC
	xor r12d, r12d
	bt rax, 55
	jnc 1f
	mov r12d, 0xc /* IA32_VMX_TRUE_PINBASED_CTLS = IA32_VMX_PINBASED_CTLS + 0xc, ... */
1:	and eax, 0x7fffffff
	mov dword ptr [VMXON_REGION], eax
	mov dword ptr [VMCS_REGION], eax

	vmxon qword ptr [rip + vmxon_ptr]
	VMX_STATUS
	REPORT eax
	vmclear qword ptr [rip + vmcs_ptr]
	VMX_STATUS
	REPORT eax
	vmptrld qword ptr [rip + vmcs_ptr]
	VMX_STATUS
	REPORT eax

	/* controls */
	ADJUST 0x481, 0
	W PIN_BASED_VM_EXEC_CONTROL, rax
	ADJUST 0x482, PROC_HLT_EXITING
	W CPU_BASED_VM_EXEC_CONTROL, rax
	ADJUST 0x483, EXIT_HOST_ADDR_SPACE_SIZE
	W VM_EXIT_CONTROLS, rax
	ADJUST 0x484, ENTRY_IA32E_MODE_GUEST
	W VM_ENTRY_CONTROLS, rax

	/* host and guest control registers: L1's own */
	mov rbx, cr0
	W HOST_CR0, rbx
	W GUEST_CR0, rbx
	mov rbx, cr3
	W HOST_CR3, rbx
	W GUEST_CR3, rbx
	mov rbx, cr4
	W HOST_CR4, rbx
	W GUEST_CR4, rbx

	/* descriptor tables */
	sub rsp, 16
	sgdt [rsp]
	mov rbx, [rsp + 2]
	W HOST_GDTR_BASE, rbx
	W GUEST_GDTR_BASE, rbx
	movzx ebx, word ptr [rsp]
	W GUEST_GDTR_LIMIT, rbx
	sidt [rsp]
	mov rbx, [rsp + 2]
	W HOST_IDTR_BASE, rbx
	W GUEST_IDTR_BASE, rbx
	movzx ebx, word ptr [rsp]
	W GUEST_IDTR_LIMIT, rbx
	add rsp, 16

	/* the constant fields, from the table */
	lea rsi, [rip + fields]
2:	mov rdx, [rsi]
	cmp rdx, -1
	je 3f
	mov rax, [rsi + 8]
	vmwrite rdx, rax
	jbe vmwrite_failed
	add rsi, 16
	jmp 2b
3:
	mov rbx, rsp
	W HOST_RSP, rbx

	vmlaunch
	/* VMfail: the entry did not start */
	VMX_STATUS
	REPORT eax
	VMREAD_REG rbx, VM_INSTRUCTION_ERROR
	REPORT ebx
	jmp done

	/* A VM-entry failure exit (or any VM exit) returns here with the host state. */
host_rip:
	VMREAD_REG rbx, VM_EXIT_REASON
	REPORT ebx
	VMREAD_REG rbx, EXIT_QUALIFICATION
	REPORT ebx
	jmp done

vmwrite_failed:
	REPORT 0xbad0
	REPORT edx
	VMREAD_REG rbx, VM_INSTRUCTION_ERROR
	REPORT ebx
done:
	mov dx, DEBUG_EXIT
	xor eax, eax
	out dx, al
	HALT_FOREVER

	/* L2: never simulated */
l2_entry:
	hlt
	jmp l2_entry

	.p2align 3
vmxon_ptr:
	.quad VMXON_REGION
vmcs_ptr:
	.quad VMCS_REGION

/* (field, value) pairs, ended by -1 */
fields:
	.quad HOST_ES_SELECTOR, SEL_DATA
	.quad HOST_ES_SELECTOR + 2, SEL_CODE64
	.quad HOST_ES_SELECTOR + 4, SEL_DATA
	.quad HOST_ES_SELECTOR + 6, SEL_DATA
	.quad HOST_ES_SELECTOR + 8, SEL_DATA
	.quad HOST_ES_SELECTOR + 10, SEL_DATA
	.quad HOST_ES_SELECTOR + 12, SEL_TR
	.quad HOST_RIP, host_rip
	.quad GUEST_ES_SELECTOR, SEL_DATA
	.quad GUEST_ES_SELECTOR + 2, SEL_CODE64
	.quad GUEST_ES_SELECTOR + 4, SEL_DATA
	.quad GUEST_ES_SELECTOR + 6, SEL_DATA
	.quad GUEST_ES_SELECTOR + 8, SEL_DATA
	.quad GUEST_ES_SELECTOR + 10, SEL_DATA
	.quad GUEST_ES_SELECTOR + 14, SEL_TR
	.quad GUEST_ES_LIMIT, 0xffffffff
	.quad GUEST_ES_LIMIT + 2, 0xffffffff
	.quad GUEST_ES_LIMIT + 4, 0xffffffff
	.quad GUEST_ES_LIMIT + 6, 0xffffffff
	.quad GUEST_ES_LIMIT + 8, 0xffffffff
	.quad GUEST_ES_LIMIT + 10, 0xffffffff
	.quad GUEST_ES_LIMIT + 14, 0x67
	.quad GUEST_ES_AR_BYTES, AR_DATA
	.quad GUEST_ES_AR_BYTES + 2, AR_CODE64
	.quad GUEST_ES_AR_BYTES + 4, AR_DATA
	.quad GUEST_ES_AR_BYTES + 6, AR_DATA
	.quad GUEST_ES_AR_BYTES + 8, AR_DATA
	.quad GUEST_ES_AR_BYTES + 10, AR_DATA
	.quad GUEST_ES_AR_BYTES + 12, AR_UNUSABLE
	.quad GUEST_ES_AR_BYTES + 14, AR_TSS_BUSY
	.quad GUEST_DR7, 0x400
	.quad GUEST_RSP, L2_STACK
	.quad GUEST_RIP, l2_entry
	.quad GUEST_RFLAGS, 0x2
	.quad VMCS_LINK_POINTER, -1
	.quad GUEST_ACTIVITY_STATE, ACTIVITY_HLT
	.quad -1
