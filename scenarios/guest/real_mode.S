/* Real mode (CS = DS = SS = 0): port I/O of 16-bit values, CPUID, a software-visible stack, and
 * HLT. */
#include "runtime.h"

	GUEST_ENTRY16
	REPORT16 0x16
	mov ax, sp
	REPORT16 ax
	xor eax, eax
	cpuid
	mov eax, cr0
	REPORT16 ax
	cli
	hlt
