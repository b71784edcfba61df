/* 32-bit protected mode with PAE paging (hvsim's set-up): port I/O, CPUID, an xAPIC MMIO store
 * and load through the identity page tables, and MOV from CR0. */
#include "runtime.h"

	GUEST_ENTRY32
	REPORT32 0x32
	mov eax, 1
	cpuid
	mov eax, XAPIC_BASE
	mov dword ptr [eax + XAPIC_TPR], 0x10
	mov ebx, dword ptr [eax + XAPIC_VERSION]
	REPORT32 ebx
	mov eax, cr0
	REPORT32 eax
	cli
	hlt
