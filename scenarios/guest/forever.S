/* A guest that never exits: the instruction limit ends the run with budget_exhausted. */
#include "runtime.h"

	GUEST_ENTRY64
1:	jmp 1b
