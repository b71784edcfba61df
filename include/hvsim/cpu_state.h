/* The architectural state of a guest processor as VMX entries load it and VM exits save it: the
 * interchange between the VMX model (VMCS guest-state area, SDM 25.4) and the engine's guest
 * backends. Segment access rights use the VMCS format (SDM Table 25-2), bit 16 = unusable. */
#ifndef HVSIM_CPU_STATE_H
#define HVSIM_CPU_STATE_H

#include <hvsim/base.h>
#include <hvsim/guest_op.h>

enum cpu_seg {
	SEG_ES = 0,
	SEG_CS,
	SEG_SS,
	SEG_DS,
	SEG_FS,
	SEG_GS,
	SEG_LDTR,
	SEG_TR,
	SEG_COUNT,
};

#define SEG_AR_UNUSABLE (UINT32_C(1) << 16)

struct cpu_segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit; /* bytes - 1, after granularity scaling (the VMCS limit field) */
	uint32_t ar;    /* VMCS access-rights format; SEG_AR_UNUSABLE marks an unusable register */
};

struct cpu_dtable {
	uint64_t base;
	uint32_t limit;
};

/* Guest interruptibility state bits (SDM Table 25-3). */
#define CPU_INTR_BLOCK_STI    (1u << 0)
#define CPU_INTR_BLOCK_MOV_SS (1u << 1)
#define CPU_INTR_BLOCK_SMI    (1u << 2)
#define CPU_INTR_BLOCK_NMI    (1u << 3)

/* Guest activity states (SDM 25.4.2). */
enum cpu_activity {
	CPU_ACTIVITY_ACTIVE = 0,
	CPU_ACTIVITY_HLT = 1,
	CPU_ACTIVITY_SHUTDOWN = 2,
	CPU_ACTIVITY_WAIT_SIPI = 3,
};

struct cpu_state {
	uint64_t gpr[GPR_COUNT];
	uint64_t rip;
	uint64_t rflags;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t dr7;
	struct cpu_segment seg[SEG_COUNT];
	struct cpu_dtable gdtr, idtr;
	uint64_t efer;
	uint64_t pat;
	uint64_t debugctl;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t perf_global_ctrl;
	uint32_t activity;         /* enum cpu_activity */
	uint32_t interruptibility; /* CPU_INTR_BLOCK_* */
	uint64_t pending_dbg;      /* pending debug exceptions (SDM 25.4.2) */
	uint64_t pdpte[4];         /* PAE page-directory-pointer-table entries */
	uint64_t tsc_aux;          /* IA32_TSC_AUX, what RDTSCP returns in ECX */
};

#endif
