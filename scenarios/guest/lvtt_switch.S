/* Windows under Skype (from "KVM: lapic: restart counter on change to periodic mode"): the guest
 * often switches its LAPIC timer between one-shot and periodic. Here the one-shot count expires,
 * and then the guest rewrites LVTT to periodic WITHOUT writing TMICT, expecting ticks. It waits for
 * TICKS ticks with interrupts on, giving up after a bounded spin (about 20 ms of virtual time),
 * and reports the ticks it saw; isa-debug-exit code 0 means time kept running, 1 that it stopped. */
#include "runtime.h"

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_SPIV 0x80f
#define MSR_X2APIC_LVTT 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_TDCR 0x83e
#define TIMER_VECTOR 0xef
#define LVTT_PERIODIC (1 << 17)
#define COUNT 100000		/* 100 us at KVM's 1 GHz APIC bus, divide by 1 */
#define TICKS 5
#define SPIN 5000000		/* four instructions an iteration: 20 ms at 1 ns each */

	GUEST_ENTRY64
	IDT_SET TIMER_VECTOR, timer_isr
	X2APIC_ENABLE
	X2APIC_WRITE MSR_X2APIC_TDCR, 0xb
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR
	X2APIC_WRITE MSR_X2APIC_TMICT, COUNT
	sti
1:	hlt				/* the one-shot expiry */
	cmp dword ptr [rip + ticks], 1
	jb 1b
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR | LVTT_PERIODIC
	mov ecx, SPIN
2:	cmp dword ptr [rip + ticks], TICKS + 1
	jae 3f
	dec ecx
	jnz 2b
3:	mov ebx, dword ptr [rip + ticks]
	dec ebx				/* ticks after the switch */
	REPORT ebx
	xor eax, eax
	cmp ebx, TICKS
	setb al				/* code 1: time stopped */
	mov dx, DEBUG_EXIT_PORT
	out dx, al
	HALT_FOREVER

timer_isr:
	ISR_ENTER
	inc dword ptr [rip + ticks]
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

	.p2align 2
ticks:	.long 0
