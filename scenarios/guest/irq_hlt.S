/* Interrupts through the guest's IDT: a handler for vector 0x2a (I/O APIC line 10 under the
 * minimal algorithm) counts and reports; the main loop halts with interrupts enabled until it
 * has run once. */
#include "runtime.h"

	GUEST_ENTRY64
	IDT_SET 0x2a, handler
	sti
1:	hlt
	cmp dword ptr [rip + count], 1
	jb 1b
	mov eax, dword ptr [rip + count]
	REPORT eax
	HALT_FOREVER

handler:
	inc dword ptr [rip + count]
	REPORT 0x2a
	iretq

	.p2align 2
count:	.long 0
