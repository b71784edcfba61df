/* One of each exit-worthy instruction in long mode under the kvm algorithm on VMX, so the golden
 * shows which exit with which reason and operands under KVM's controls and which complete in the
 * guest (RDTSC, RDTSCP, RDRAND, MOV from CR0, MOV to CR4 of its own shadow, INVLPG with EPT, PAUSE
 * and WBINVD without their exiting controls). RDPMC exits and KVM's vPMU returns PMC0 (a KVM
 * without a vPMU answers #GP, which the guest's #GP handler skips); a read of the I/O APIC window
 * is an EPT violation KVM emulates. */
#include "runtime.h"

#define VEC_GP 13

	GUEST_ENTRY64
	IDT_SET VEC_GP, gp_handler
	X2APIC_ENABLE
	mov eax, 0x0b
	mov ecx, 0x1
	cpuid				/* CPUID: exit 10 */
	X2APIC_WRITE 0x808, 0x20	/* WRMSR: exit 32 */
	X2APIC_READ 0x808		/* RDMSR: exit 31 */
	REPORT eax			/* OUT to port 0xe9: exit 30 */
	mov dx, 0x80
	in eax, dx			/* IN: exit 30, all ones */
	rdtsc				/* no exit: TSC offsetting */
	rdtscp				/* no exit: RDTSCP enabled */
	xor ecx, ecx
	rdpmc				/* exit 15; PMC0 from the vPMU */
	rdrand eax			/* no exit */
	mov rax, cr0			/* no exit: CR0 reads are not intercepted */
	mov rbx, cr4
	mov cr4, rbx			/* no exit: no owned bit changes from its shadow */
	mov rcx, cr3
	invlpg [rcx]			/* no exit with EPT */
	wbinvd				/* no exit: WBINVD exiting is off */
	invd				/* exit 13: unconditional */
	pause				/* no exit: PAUSE exiting is off */
	mov eax, 0x8000
	xor ecx, ecx
	xor edx, edx
	monitor				/* exit 39 */
	mwait				/* exit 36 */
	mov rbx, cr4
	or rbx, 1 << 18			/* CR4.OSXSAVE, a bit the guest owns: no exit */
	mov cr4, rbx
	mov eax, 0x7
	xor ecx, ecx
	xor edx, edx
	xsetbv				/* exit 55 (with OSXSAVE clear it would be #UD, SDM 26.1.1) */
	vmcall				/* exit 18 */
	mov r11d, 0xfec00000
	mov dword ptr [r11], 1		/* I/O APIC version register: exit 48 (EPT violation) */
	mov eax, dword ptr [r11 + 0x10]
	REPORT eax
	DEBUG_EXIT 0
	HALT_FOREVER

gp_handler:
	add rsp, 8			/* the error code */
	add qword ptr [rsp], 2		/* skip the 2-byte RDPMC */
	iretq
