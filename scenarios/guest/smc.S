/* Self-modifying code: the guest writes CPUID (0f a2) over two NOPs of a block it already ran,
 * and runs it again. The rewritten block must trap, the first run must not. */
#include "runtime.h"

	GUEST_ENTRY64
	mov r12d, 2
1:	call patchme
	REPORT 0x5c
	mov word ptr [rip + site], 0xa20f
	dec r12d
	jnz 1b
	HALT_FOREVER

patchme:
	xor eax, eax
site:	nop
	nop
	ret
