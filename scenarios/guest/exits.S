/* One of each exiting instruction in long mode, in a fixed order, so the golden shows what the
 * generic hardware reports for each (reason, RIP, operands). */
#include "runtime.h"

	GUEST_ENTRY64
	mov eax, 0x0b
	mov ecx, 0x1
	cpuid                           /* CPUID leaf 0xb subleaf 1 */
	X2APIC_WRITE 0x808, 0x20        /* WRMSR x2APIC TPR */
	X2APIC_READ 0x808               /* RDMSR */
	REPORT eax                      /* the TPR the algorithm kept: 0x20 */
	mov dx, 0x80
	mov al, 0x12
	out 0x80, al                    /* OUT imm8, 1 byte */
	mov ax, 0x1234
	out dx, ax                      /* OUT DX, 2 bytes */
	in eax, dx                      /* IN DX, 4 bytes */
	REPORT eax                      /* all ones from the minimal algorithm */
	rdtsc
	rdtscp
	mov ecx, 0
	rdpmc
	rdrand eax
	rdseed rbx
	mov rax, cr0                    /* MOV from CR0 */
	mov rbx, cr4
	mov cr4, rbx                    /* MOV to CR4, same value */
	mov rcx, cr3
	invlpg [rcx]
	wbinvd
	invd
	pause
	mov eax, 0x8000
	xor ecx, ecx
	xor edx, edx
	monitor
	mwait
	mov eax, 0x7
	xor ecx, ecx
	xor edx, edx
	xsetbv
	vmcall
	HALT_FOREVER
