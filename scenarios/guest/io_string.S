/* String I/O: REP OUTSB of four bytes, REP INSW of three words (each receives the algorithm's
 * value), a plain INSB; then the buffer and the string registers are reported. */
#include "runtime.h"

	GUEST_ENTRY64
	lea rsi, [rip + src]
	mov ecx, 4
	mov dx, 0x80
	rep outsb
	REPORT ecx                      /* 0: RCX consumed */
	lea rdi, [rip + dst]
	mov ecx, 3
	rep insw
	lea rax, [rip + dst]
	mov r8, rdi
	sub r8, rax
	REPORT r8d                      /* 6: RDI advanced by three words */
	insb
	mov eax, dword ptr [rip + dst]
	REPORT eax                      /* the first two words the algorithm returned */
	mov eax, dword ptr [rip + dst + 4]
	REPORT eax                      /* third word, then the INSB byte */
	HALT_FOREVER
src:	.byte 1, 2, 3, 4
	.p2align 3
dst:	.quad 0, 0
