/* TSC calibration the way a guest that knows the "generic" timing leaf does it (XNU and FreeBSD
 * look for it under any hypervisor): CPUID 0x40000000 gives the largest hypervisor leaf; when
 * 0x40000010 exists, EAX is the TSC frequency and EBX the APIC bus frequency, both in kHz. Without
 * the leaf the guest calibrates: it counts TSC ticks across a one-shot LAPIC timer of 1,000,000
 * bus cycles, which is 1 ms on KVM's 1 GHz APIC bus. Either way it reports the TSC frequency (kHz)
 * on port 0xe9, preceded by how it got it (0x10 = leaf, 0xca = calibrated). */
#include "runtime.h"

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_SPIV 0x80f
#define MSR_X2APIC_LVTT 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_TDCR 0x83e
#define TIMER_VECTOR 0xee
#define CAL_CYCLES 1000000

	GUEST_ENTRY64
	mov eax, 0x40000000
	cpuid
	cmp eax, 0x40000010
	jb calibrate
	mov eax, 0x40000010
	cpuid
	REPORT 0x10
	REPORT eax			/* TSC kHz */
	REPORT ebx			/* APIC bus kHz */
	jmp done

calibrate:
	IDT_SET TIMER_VECTOR, cal_isr
	X2APIC_ENABLE
	X2APIC_WRITE MSR_X2APIC_TDCR, 0xb
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r12, rax
	X2APIC_WRITE MSR_X2APIC_TMICT, CAL_CYCLES
	sti
1:	hlt
	cmp byte ptr [rip + fired], 0
	je 1b
	mov rax, r13			/* the ISR's TSC reading */
	sub rax, r12			/* TSC ticks in 1 ms = kHz */
	REPORT 0xca
	REPORT eax
done:
	DEBUG_EXIT 0
	HALT_FOREVER

cal_isr:
	ISR_ENTER
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r13, rax
	mov byte ptr [rip + fired], 1
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

fired:	.byte 0
