/* Sums RDTSC over 1,000,000 iterations and reports the 64-bit sum. With RDTSC not intercepted the
 * sum is a function of the scenario alone: iteration i reads the TSC of virtual time
 * (setup + 6 i + 1) * insn_ns (tests/test_vcpu_time.c derives it). */
#include "runtime.h"

	GUEST_ENTRY64
	mov ecx, 1000000
	xor r8d, r8d
1:	rdtsc
	shl rdx, 32
	or rax, rdx
	add r8, rax
	dec ecx
	jnz 1b
	REPORT64 r8
	HALT_FOREVER
