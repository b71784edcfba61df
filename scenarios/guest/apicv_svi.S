/* The guest side of "KVM: VMX: Update SVI during runtime APICv activation": an x2APIC guest whose
 * TSC-deadline timer uses vector 236 (0xec), as in the report's LAPIC dump. The interrupt handler
 * does some work before its EOI (a spin of about 50 us), during which the host may change the
 * vCPU's APICv state. The guest takes ROUNDS timer interrupts, each armed 100 us ahead, waiting for
 * each with a bounded spin (about 2 ms, interrupts on); it reports the rounds it completed and
 * ends with isa-debug-exit code 0, or code 1 when a tick never came (interrupts stalled). */
#include "runtime.h"

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_SPIV 0x80f
#define MSR_X2APIC_LVTT 0x832
#define TIMER_VECTOR 0xec
#define LVTT_TSC_DEADLINE (2 << 17)
#define TSC_PER_100US 200000	/* machine.tsc_khz 2,000,000 */
#define HANDLER_SPIN 12500	/* four instructions an iteration: 50 us */
#define WAIT_SPIN 500000	/* 2 ms */
#define ROUNDS 3

	GUEST_ENTRY64
	IDT_SET TIMER_VECTOR, timer_isr
	X2APIC_ENABLE
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR | LVTT_TSC_DEADLINE
	sti
	xor r14d, r14d			/* rounds done */
round:
	rdtsc
	shl rdx, 32
	or rax, rdx
	add rax, TSC_PER_100US
	mov rdx, rax
	shr rdx, 32
	mov ecx, MSR_TSC_DEADLINE
	wrmsr
	mov ecx, WAIT_SPIN
1:	cmp dword ptr [rip + ticks], r14d
	ja 2f
	dec ecx
	jnz 1b
	jmp report			/* no tick: interrupts stalled */
2:	inc r14d
	cmp r14d, ROUNDS
	jb round
report:
	REPORT r14d
	xor eax, eax
	cmp r14d, ROUNDS
	setb al
	mov dx, DEBUG_EXIT_PORT
	out dx, al
	HALT_FOREVER

timer_isr:
	ISR_ENTER
	mov ecx, HANDLER_SPIN
3:	dec ecx
	nop
	nop
	jnz 3b
	inc dword ptr [rip + ticks]
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

	.p2align 2
ticks:	.long 0
