/* A store outside RAM and outside any MMIO region: a guest_bad_access finding stops the vCPU. */
#include "runtime.h"

	GUEST_ENTRY64
	REPORT 0xbad
	mov eax, 0x40000000
	mov dword ptr [rax], 1
	REPORT 0xdead                   /* never reached */
	HALT_FOREVER
