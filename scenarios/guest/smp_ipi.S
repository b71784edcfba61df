/* Two vCPUs from one entry point: vCPU 1 installs a handler and halts; vCPU 0 sends it IPI
 * vector 0x40 through the xAPIC ICR, which the minimal algorithm turns into an injection that
 * kicks vCPU 1 out of HLT. Each reports its index; the handler reports the vector. */
#include "runtime.h"

	GUEST_ENTRY64
	CPU_INDEX
	mov r12d, eax
	REPORT r12d
	test r12d, r12d
	jnz ap
	mov ecx, 2000               /* let vCPU 1 reach HLT first */
1:	dec ecx
	jnz 1b
	XAPIC_IPI 1, 0x40
	HALT_FOREVER

ap:	IDT_SET 0x40, ipi
	sti
2:	hlt
	cmp dword ptr [rip + got], 0
	je 2b
	REPORT 0xa9
	HALT_FOREVER

ipi:	mov dword ptr [rip + got], 1
	REPORT 0x40
	iretq

	.p2align 2
got:	.long 0
