/* xAPIC MMIO: stores of a register and of an immediate, loads into 32-bit, 16-bit, 8-bit and
 * high-byte registers (merged the x86 way), an 8-byte store (one operation), the moffs form, and
 * an EOI. The minimal algorithm reads all ones, so each load's merge is visible in the reports. */
#include "runtime.h"

	GUEST_ENTRY64
	mov r11d, XAPIC_BASE
	mov eax, 0x30
	mov dword ptr [r11 + XAPIC_TPR], eax        /* store, register source */
	mov dword ptr [r11 + XAPIC_SVR], 0x1ff      /* store, immediate source */
	mov rbx, 0x1122334455667788
	mov ebx, dword ptr [r11 + XAPIC_VERSION]    /* 32-bit load: upper half cleared */
	REPORT64 rbx
	mov rcx, 0x1122334455667788
	mov cx, word ptr [r11 + XAPIC_ID]           /* 16-bit load: upper bits kept */
	REPORT64 rcx
	mov rdx, 0x1122334455667788
	mov esi, XAPIC_BASE
	mov dh, byte ptr [rsi + XAPIC_ID]           /* high-byte load: bits 15:8 only */
	REPORT64 rdx
	mov rax, 0x0000000100000040
	mov qword ptr [r11 + XAPIC_ICR_LO], rax     /* one 8-byte store */
	movabs eax, dword ptr [XAPIC_BASE + XAPIC_TPR]  /* moffs load */
	REPORT eax
	XAPIC_WRITE XAPIC_EOI, 0
	HALT_FOREVER
