/* hvsim guest runtime: macros that keep guest programs short. Included first by every
 * scenarios/guest/NAME.S (preprocessed assembly, Intel syntax), linked by guest.ld at 0x8000 and
 * flattened to a .bin that a scenario loads at guest.load_gpa (default 0x8000).
 *
 * What hvsim's set-up provides (docs/vcpu-layer.md "Guest memory layout"): the GDT selectors
 * below, an IDT of 256 not-present gates (find it with SIDT), identity paging of RAM (long and
 * protected mode), a distinct stack per vCPU in RSP, other registers zero, interrupts disabled.
 * Every vCPU starts at the entry point; CPU_INDEX tells them apart (the minimal algorithm answers
 * CPUID leaf 1 with the vCPU index as the initial APIC ID, EBX[31:24]).
 *
 * Reporting: REPORT writes a 32-bit value to port 0xe9 with OUT; the exit line in the trace
 * carries it ("port":"0xe9","value":...). REPORT64 writes the low then the high half. */
#ifndef HVSIM_GUEST_RUNTIME_H
#define HVSIM_GUEST_RUNTIME_H

#define SEL_CODE64       0x08
#define SEL_DATA         0x10
#define SEL_CODE32       0x18
#define REPORT_PORT      0xe9
#define DEBUG_EXIT_PORT  0xf4 /* QEMU isa-debug-exit, as the kvm algorithm provides it */
#define XAPIC_BASE       0xfee00000
#define XAPIC_ID         0x20
#define XAPIC_VERSION    0x30
#define XAPIC_TPR        0x80
#define XAPIC_EOI        0xb0
#define XAPIC_SVR        0xf0
#define XAPIC_ICR_LO     0x300
#define XAPIC_ICR_HI     0x310
#define MSR_X2APIC_EOI   0x80b
#define MSR_X2APIC_ICR   0x830
#define GATE_INTERRUPT64 0x8e00 /* P=1, DPL 0, type 0xe (SDM 6.14.1) */

.intel_syntax noprefix
	.section .note.GNU-stack, "", @progbits
	.section .text.entry, "ax"

/* ---- 64-bit mode (the default) ---- */

/* Entry point of a long-mode program. */
.macro GUEST_ENTRY64
	.code64
	.globl _start
_start:
.endm

/* OUT of a 32-bit register or immediate to port 0xe9; preserves every register. */
.macro REPORT val
	push rax
	push rdx
	mov eax, \val
	mov edx, REPORT_PORT
	out dx, eax
	pop rdx
	pop rax
.endm

/* Reports a 64-bit register (not rax or rdx) as two OUTs: low half, then high half. */
.macro REPORT64 reg
	push rax
	push rdx
	mov rax, \reg
	mov edx, REPORT_PORT
	out dx, eax
	shr rax, 32
	out dx, eax
	pop rdx
	pop rax
.endm

/* eax = this vCPU's index (CPUID.01H:EBX[31:24]); clobbers ebx, ecx, edx. */
.macro CPU_INDEX
	mov eax, 1
	cpuid
	mov eax, ebx
	shr eax, 24
.endm

/* Fills IDT gate vector with a 64-bit interrupt gate to handler; preserves every register. */
.macro IDT_SET vector, handler
	push rax
	push rdx
	sub rsp, 16
	sidt [rsp]
	mov rax, [rsp + 2]
	add rsp, 16
	lea rdx, [rip + \handler]
	mov word ptr [rax + \vector * 16], dx
	mov word ptr [rax + \vector * 16 + 2], SEL_CODE64
	mov word ptr [rax + \vector * 16 + 4], GATE_INTERRUPT64
	shr rdx, 16
	mov word ptr [rax + \vector * 16 + 6], dx
	shr rdx, 16
	mov dword ptr [rax + \vector * 16 + 8], edx
	mov dword ptr [rax + \vector * 16 + 12], 0
	pop rdx
	pop rax
.endm

/* xAPIC register access through MMIO (uses r11 as the base; preserves it). */
.macro XAPIC_WRITE off, val
	push r11
	mov r11d, XAPIC_BASE
	mov dword ptr [r11 + \off], \val
	pop r11
.endm

.macro XAPIC_READ reg32, off
	push r11
	mov r11d, XAPIC_BASE
	mov \reg32, dword ptr [r11 + \off]
	pop r11
.endm

/* x2APIC register access through MSRs: clobbers eax, ecx, edx. */
.macro X2APIC_WRITE msr, lo, hi=0
	mov ecx, \msr
	mov eax, \lo
	mov edx, \hi
	wrmsr
.endm

.macro X2APIC_READ msr
	mov ecx, \msr
	rdmsr
.endm

/* Sends a fixed IPI through the xAPIC ICR (destination field ICR[63:56]). */
.macro XAPIC_IPI dest, vector
	XAPIC_WRITE XAPIC_ICR_HI, (\dest << 24)
	XAPIC_WRITE XAPIC_ICR_LO, \vector
.endm

/* x2APIC mode (IA32_APIC_BASE.EXTD | EN, SDM 11.12.1) with the APIC software-enabled and spurious
 * vector 0xff; spiv adds SPIV bits (e.g. 1 << 12 for Directed EOI). Clobbers eax, ecx, edx. */
.macro X2APIC_ENABLE spiv=0
	mov ecx, 0x1b
	rdmsr
	or eax, (1 << 10) | (1 << 11)
	wrmsr
	X2APIC_WRITE 0x80f, (0x1ff | \spiv)
.endm

/* Interrupt handler frame for handlers that use x2APIC macros: saves and restores rax, rcx, rdx. */
.macro ISR_ENTER
	push rax
	push rcx
	push rdx
.endm

.macro ISR_EXIT
	pop rdx
	pop rcx
	pop rax
	iretq
.endm

/* Ends the VM through QEMU's isa-debug-exit device (port 0xf4) with exit code in al: the kvm
 * algorithm traces guest_exit and stops every vCPU. Clobbers eax, edx. */
.macro DEBUG_EXIT code
	mov eax, \code
	mov dx, DEBUG_EXIT_PORT
	out dx, al
.endm

/* Stops this vCPU: HLT with interrupts disabled (the minimal algorithm ends the vCPU). */
.macro HALT_FOREVER
	cli
1000:
	hlt
	jmp 1000b
.endm

/* ---- VMX: the instructions of a guest hypervisor (L1), SDM ch. 31 ---- */

#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_VMX_BASIC       0x480
#define MSR_IA32_VMX_MISC        0x485
#define CR4_VMXE                 (1 << 13)

/* rax = the 64-bit MSR msr (EDX:EAX); clobbers rcx, rdx. */
.macro RDMSR64 msr
	mov ecx, \msr
	rdmsr
	shl rdx, 32
	or rax, rdx
.endm

/* VMWRITE of an immediate or register value (not rdx) to the field encoding field of the current
 * VMCS; clobbers rax, rdx. */
.macro VMWRITE_VAL field, value
	mov rax, \value
	mov edx, \field
	vmwrite rdx, rax
.endm

/* reg (not rdx) = VMREAD of the field encoding field; clobbers rdx. */
.macro VMREAD_REG reg, field
	mov edx, \field
	vmread \reg, rdx
.endm

/* eax = the flags a VMX instruction left (SDM 31.2 "Conventions"): 0 VMsucceed, 0x1 VMfailInvalid
 * (CF), 0x40 VMfailValid (ZF). Call right after the instruction. */
.macro VMX_STATUS
	pushfq
	pop rax
	and eax, 0x41
.endm

/* ---- 32-bit protected mode ---- */

.macro GUEST_ENTRY32
	.code32
	.globl _start
_start:
.endm

.macro REPORT32 val
	push eax
	push edx
	mov eax, \val
	mov edx, REPORT_PORT
	out dx, eax
	pop edx
	pop eax
.endm

/* ---- real mode ---- */

.macro GUEST_ENTRY16
	.code16
	.globl _start
_start:
.endm

.macro REPORT16 val
	push ax
	push dx
	mov ax, \val
	mov dx, REPORT_PORT
	out dx, ax
	pop dx
	pop ax
.endm

#endif
