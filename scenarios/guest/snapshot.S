/* State for the snapshot tests: each pass reports a random number (RDRAND exits to the
 * algorithm's PRNG), bumps a counter in memory and reports it with the TSC; then the guest halts
 * with interrupts on until two I/O APIC interrupts (vector 0x2a) have run its handler. */
#include "runtime.h"

	GUEST_ENTRY64
	IDT_SET 0x2a, handler
	mov r13d, 40
1:	rdrand eax
	REPORT eax
	inc dword ptr [rip + counter]
	mov eax, dword ptr [rip + counter]
	REPORT eax
	rdtsc
	REPORT eax
	dec r13d
	jnz 1b
	sti
2:	hlt
	cmp dword ptr [rip + irqs], 2
	jb 2b
	HALT_FOREVER

handler:
	inc dword ptr [rip + irqs]
	mov eax, dword ptr [rip + irqs]
	REPORT eax
	iretq

	.p2align 2
counter: .long 0
irqs:	.long 0
