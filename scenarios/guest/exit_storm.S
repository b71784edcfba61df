/* An exit storm: CPUID forever. The exit limit ends the run with budget_exhausted. */
#include "runtime.h"

	GUEST_ENTRY64
	xor eax, eax
1:	cpuid
	xor eax, eax
	jmp 1b
