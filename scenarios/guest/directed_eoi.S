/* A level-triggered device interrupt handled the way Windows with Hyper-V does it (from "KVM: x86:
 * skip userspace IOAPIC EOI exit when Directed EOI is enabled"): in x2APIC mode, with Directed EOI
 * (SPIV[12]) when LVR[24] offers it. The interrupt service routine only acknowledges the LAPIC
 * (EOI) and queues a deferred procedure call; the DPC, run from the idle loop with interrupts on,
 * services the device (it lowers its line through pc-testdev) and then EOIs the I/O APIC through
 * its EOI register. Without Directed EOI the ISR services the device before the LAPIC EOI, the
 * classic order for broadcast EOIs. The device raises its line ROUNDS times (scenario events); each
 * handled round is reported on port 0xe9, and the guest ends with isa-debug-exit. */
#include "runtime.h"

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_LVR 0x803
#define MSR_X2APIC_SPIV 0x80f
#define IOAPIC_BASE 0xfec00000
#define IOAPIC_EOI 0x40
#define DEV_GSI 10
#define DEV_VECTOR 0x51
#define TESTDEV_IRQ 0x2000
#define ROUNDS 3

	GUEST_ENTRY64
	IDT_SET DEV_VECTOR, dev_isr
	mov ecx, MSR_APIC_BASE		/* x2APIC mode: EXTD | EN (SDM 11.12.1) */
	rdmsr
	or eax, (1 << 10) | (1 << 11)
	wrmsr
	X2APIC_READ MSR_X2APIC_LVR	/* LVR[24]: EOI-broadcast suppression supported */
	shr eax, 24
	and eax, 1
	mov r15d, eax
	mov eax, 0x1ff			/* APIC on, spurious vector 0xff ... */
	test r15d, r15d
	jz 1f
	or eax, 1 << 12			/* ... and Directed EOI when offered */
1:	mov ecx, MSR_X2APIC_SPIV
	xor edx, edx
	wrmsr
	REPORT r15d
	mov r11d, IOAPIC_BASE		/* GSI 10: vector 0x51, fixed, physical 0, level */
	mov dword ptr [r11], 0x10 + 2 * DEV_GSI
	mov dword ptr [r11 + 0x10], DEV_VECTOR | (1 << 15)
	mov dword ptr [r11], 0x11 + 2 * DEV_GSI
	mov dword ptr [r11 + 0x10], 0
	sti
idle:
	hlt
	cmp byte ptr [rip + dpc_pending], 0
	je idle
	mov byte ptr [rip + dpc_pending], 0
	mov dx, TESTDEV_IRQ + DEV_GSI	/* the DPC services the device: its line goes low */
	xor eax, eax
	out dx, al
	test r15d, r15d
	jz 2f
	mov r11d, IOAPIC_BASE		/* Directed EOI: the guest EOIs the I/O APIC itself */
	mov dword ptr [r11 + IOAPIC_EOI], DEV_VECTOR
2:	inc r14d
	REPORT r14d
	cmp r14d, ROUNDS
	jb idle
	DEBUG_EXIT 0
	HALT_FOREVER

dev_isr:
	ISR_ENTER
	test r15d, r15d
	jnz 3f
	mov dx, TESTDEV_IRQ + DEV_GSI	/* broadcast EOIs: service the device first */
	xor eax, eax
	out dx, al
3:	X2APIC_WRITE MSR_X2APIC_EOI, 0	/* acknowledge the LAPIC now ... */
	mov byte ptr [rip + dpc_pending], 1 /* ... and the device later */
	ISR_EXIT

dpc_pending:
	.byte 0
