/* Local APIC rules checked from inside a guest, end to end through the kvm algorithm and the LAPIC
 * model (the model's own unit tests check each rule alone). Every check reports one value on port
 * 0xe9, in this order:
 *   1. xAPIC MMIO read of the version register (SDM 11.4.8): max LVT and version
 *   2. x2APIC mode entered; LVR read through MSR 0x803: the same value
 *   3. TPR = 0x20, then PPR (SDM 11.8.3.1: PPR = TPR with an empty ISR): 0x20
 *   4. #GP count after WRMSR to read-only LVR, WRMSR with a reserved SPIV bit, RDMSR of the
 *      unimplemented x2APIC MSR 0x804 (SDM 11.12.1.2): 3
 *   5. a self-IPI through SELF IPI (MSR 0x83f, SDM 11.12.11) taken with interrupts on: 1
 *   6. TMCCT after a one-shot count of 1000 has run out (SDM 11.5.4): 0
 * The #GP handler skips the 2-byte RDMSR/WRMSR that faulted. */
#include "runtime.h"

#define XAPIC_LVR 0x30
#define MSR_X2APIC_LVR 0x803
#define MSR_X2APIC_TPR 0x808
#define MSR_X2APIC_PPR 0x80a
#define MSR_X2APIC_SPIV 0x80f
#define MSR_X2APIC_LVTT 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_TMCCT 0x839
#define MSR_X2APIC_TDCR 0x83e
#define MSR_X2APIC_SELF_IPI 0x83f
#define IPI_VECTOR 0x40
#define TIMER_VECTOR 0x41
#define VEC_GP 13

	GUEST_ENTRY64
	IDT_SET VEC_GP, gp_handler
	IDT_SET IPI_VECTOR, ipi_handler
	IDT_SET TIMER_VECTOR, timer_handler
	XAPIC_READ ebx, XAPIC_LVR		/* 1 */
	REPORT ebx
	X2APIC_ENABLE				/* 2 */
	X2APIC_READ MSR_X2APIC_LVR
	REPORT eax
	X2APIC_WRITE MSR_X2APIC_TPR, 0x20	/* 3 */
	X2APIC_READ MSR_X2APIC_PPR
	REPORT eax
	X2APIC_WRITE MSR_X2APIC_LVR, 0		/* 4: read-only */
	X2APIC_WRITE MSR_X2APIC_SPIV, 0x21ff	/* reserved bit 13 */
	mov ecx, 0x804				/* not an x2APIC register */
	rdmsr
	mov ebx, dword ptr [rip + gp_count]
	REPORT ebx
	X2APIC_WRITE MSR_X2APIC_TPR, 0
	sti
	X2APIC_WRITE MSR_X2APIC_SELF_IPI, IPI_VECTOR /* 5 */
	nop
	mov ebx, dword ptr [rip + ipi_count]
	REPORT ebx
	X2APIC_WRITE MSR_X2APIC_TDCR, 0xb	/* 6: divide by 1 */
	X2APIC_WRITE MSR_X2APIC_LVTT, TIMER_VECTOR | (1 << 16) /* masked: keeps counting */
	X2APIC_WRITE MSR_X2APIC_TMICT, 1000
	mov ecx, 2000
1:	dec ecx
	jnz 1b
	X2APIC_READ MSR_X2APIC_TMCCT
	REPORT eax
	DEBUG_EXIT 0
	HALT_FOREVER

gp_handler:				/* #GP pushes an error code: skip it, then the 2-byte insn */
	add rsp, 8
	add qword ptr [rsp], 2
	inc dword ptr [rip + gp_count]
	iretq

ipi_handler:
	ISR_ENTER
	inc dword ptr [rip + ipi_count]
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

timer_handler:
	ISR_ENTER
	X2APIC_WRITE MSR_X2APIC_EOI, 0
	ISR_EXIT

	.p2align 2
gp_count:	.long 0
ipi_count:	.long 0
