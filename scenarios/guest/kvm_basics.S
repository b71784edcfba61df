/* A first guest for the kvm algorithm: CPUID's hypervisor signature, x2APIC mode, a one-shot LAPIC
 * timer interrupt through the guest's IDT, then isa-debug-exit. */
#include "runtime.h"

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_SPIV 0x80f
#define MSR_X2APIC_LVTT 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_TDCR 0x83e
#define TIMER_VECTOR 0xef

	GUEST_ENTRY64
	IDT_SET TIMER_VECTOR, timer_isr
	mov eax, 0x40000000
	cpuid
	REPORT ebx
	X2APIC_ENABLE
	X2APIC_WRITE MSR_X2APIC_TDCR, 0xb
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR
	X2APIC_WRITE MSR_X2APIC_TMICT, 50000
	sti
1:	hlt
	cmp dword ptr [rip + ticks], 1
	jb 1b
	mov ebx, dword ptr [rip + ticks]
	REPORT ebx
	DEBUG_EXIT 0
	HALT_FOREVER

timer_isr:
	ISR_ENTER
	inc dword ptr [rip + ticks]
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

	.p2align 2
ticks:	.long 0
