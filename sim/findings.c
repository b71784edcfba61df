/* The finding kinds hvsim knows (docs/oracles.md). Scenario files may only expect these. */
#include <hvsim/scenario.h>

#include <string.h>

static const char *const kinds[] = {
    "interrupt_storm",       /* a vector delivered too often without guest progress */
    "isr_stall",             /* a vector stuck in (v)ISR while the guest keeps EOIing */
    "timer_stall",           /* the guest relies on a timer that never fires again */
    "idle_hang",             /* every vCPU halted with no wake-up source */
    "budget_exhausted",      /* a limit (time, instructions, exits) ended the run */
    "guest_bad_access",      /* the guest touched memory outside RAM and MMIO */
    "guest_fault",           /* the guest did something the machine cannot continue from */
    "invariant_violation",   /* a model invariant broke (fuzzing) */
    "vmentry_failure",       /* VM entry failed where the algorithm expected success */
    "nested_check_mismatch", /* an algorithm's nested checks disagree with the hardware model */
    "nested_insn_mismatch",  /* an algorithm's emulation of an L1 VMX instruction disagrees
                                with the hardware model */
    "hv_error",              /* the algorithm reported an error or stopped making progress */
};

bool hvsim_finding_kind_known(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}
