/* The Intel VMX hardware model, part 2: VMX non-root operation as pure functions over the logical
 * processor (struct vmx_cpu), its current VMCS and simulated memory. VM-entry loading and event
 * injection (SDM 27.3.2-27.7), which guest operations and events cause VM exits (26.1-26.5),
 * VM-exit processing (28.1-28.7) and APIC virtualization (ch. 30). The engine owns the guest
 * registers (struct cpu_state), executes what does not exit and delivers events through the guest
 * IDT; these functions say what the processor would do. Intel SDM Vol. 3C, order number
 * 325462-084US. See docs/vmx-model.md "Runtime" for the calling contract. */
#ifndef HVSIM_VMX_RUNTIME_H
#define HVSIM_VMX_RUNTIME_H

#include <hvsim/cpu_state.h>
#include <hvsim/guest_op.h>
#include <hvsim/vmx.h>

struct vmx_cpu;

/* ---- Interruption information (SDM 25.8.3 Table 25-17; the same layout for VM-exit
 * interruption information and IDT-vectoring information, SDM 25.9.2-25.9.3) ---- */

enum vmx_intr_type {
	VMX_INTR_EXT = 0,         /* external interrupt */
	VMX_INTR_NMI = 2,         /* non-maskable interrupt */
	VMX_INTR_HW_EXC = 3,      /* hardware exception */
	VMX_INTR_SW_INT = 4,      /* software interrupt (INT n) */
	VMX_INTR_PRIV_SW_EXC = 5, /* privileged software exception (INT1) */
	VMX_INTR_SW_EXC = 6,      /* software exception (INT3, INTO) */
	VMX_INTR_OTHER = 7,       /* other event: vector 0 = pending MTF VM exit */
};

#define VMX_INTR_INFO_VECTOR_MASK  0xffu
#define VMX_INTR_INFO_TYPE_SHIFT   8
#define VMX_INTR_INFO_DELIVER_CODE (UINT32_C(1) << 11)
#define VMX_INTR_INFO_NMI_UNBLOCK  (UINT32_C(1) << 12) /* NMI unblocking due to IRET */
#define VMX_INTR_INFO_VALID        (UINT32_C(1) << 31)

/* An event to deliver through the guest IDT (or that was being delivered). */
struct vmx_event {
	bool valid;
	uint8_t type; /* enum vmx_intr_type */
	uint8_t vector;
	bool has_error; /* push error_code */
	uint32_t error_code;
	uint32_t insn_len; /* bytes: software types push RIP + insn_len (SDM 27.6.1.1) */
};

/* The interruption-information value of an event (valid bit set when ev->valid). Can't fail. */
uint32_t vmx_event_intr_info(const struct vmx_event *ev);
/* The event an interruption-information value describes (valid only with bit 31). Can't fail. */
void vmx_event_from_intr_info(uint32_t info, uint32_t error_code, uint32_t insn_len,
                              struct vmx_event *ev);

/* ---- Exit information (SDM 28.2) ---- */

/* One VM exit as the model prepares it and vmx_exit records it. Fields the SDM leaves undefined
 * for the exit are left unwritten in the VMCS (has_* false). */
struct vmx_exit_info {
	uint32_t reason; /* basic exit reason (enum hvsim_exit_reason), | 1<<31 only for a
	                    VM-entry failure (then only host state is loaded) */
	bool trap_like;  /* the operation completed: the saved RIP is the next instruction's */
	uint64_t qual;   /* exit qualification (0 where the SDM clears it) */
	bool has_insn_len;
	uint32_t insn_len; /* VM-exit instruction length, bytes 1..15 */
	bool has_insn_info;
	uint32_t insn_info; /* VM-exit instruction information */
	bool has_linear;
	uint64_t guest_linear; /* guest-linear address */
	bool has_phys;
	uint64_t guest_phys; /* guest-physical address (EPT violation) */
	uint32_t intr_info;  /* VM-exit interruption information; 0 = invalid */
	uint32_t intr_error; /* VM-exit interruption error code (valid with bit 11) */
	/* Set by the owner when the exit interrupted the delivery of an event through the IDT
	 * (SDM 28.2.3); vmx_event_intr_info() of that event. 0 = none. */
	uint32_t idt_vectoring_info;
	uint32_t idt_vectoring_error;
	uint64_t pending_dbg; /* pending debug exceptions to save where SDM 28.3.4 keeps them */
};

/* ---- Exit qualification and instruction-information encoders (SDM 28.2.1, 28.2.4) ---- */

/* Control-register access (SDM Table 28-3). lmsw_mem: LMSW with a memory operand. */
uint64_t vmx_qual_cr(unsigned cr, unsigned access, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src);
/* MOV DR: dr number, direction (true = MOV from DR), GPR. */
uint64_t vmx_qual_mov_dr(unsigned dr, bool from_dr, unsigned gpr);
/* I/O instruction: size in bytes (1, 2, 4). */
uint64_t vmx_qual_io(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port);
/* APIC access (SDM 30.4): page offset and access type. */
enum vmx_apic_access_type {
	VMX_APIC_ACCESS_LINEAR_READ = 0,
	VMX_APIC_ACCESS_LINEAR_WRITE = 1,
	VMX_APIC_ACCESS_LINEAR_FETCH = 2,
	VMX_APIC_ACCESS_LINEAR_EVENT = 3,
	VMX_APIC_ACCESS_GPA_EVENT = 10,
	VMX_APIC_ACCESS_GPA_INSN = 15,
};
uint64_t vmx_qual_apic_access(unsigned offset, unsigned type);
/* EPT violation: access kind, the permissions of the translation (bits 5:3, 0 when not present),
 * whether the guest-linear address is valid and is the access's own translation. */
#define VMX_EPT_READ        UINT64_C(0x1)
#define VMX_EPT_WRITE       UINT64_C(0x2)
#define VMX_EPT_FETCH       UINT64_C(0x4)
#define VMX_EPT_READABLE    UINT64_C(0x8)
#define VMX_EPT_WRITABLE    UINT64_C(0x10)
#define VMX_EPT_EXECUTABLE  UINT64_C(0x20)
#define VMX_EPT_GLA_VALID   UINT64_C(0x80)
#define VMX_EPT_GLA_XLATE   UINT64_C(0x100)
#define VMX_EPT_NMI_UNBLOCK UINT64_C(0x1000)

/* A memory or register operand as the VM-exit instruction-information formats describe it. */
struct vmx_insn_operand {
	bool mem;          /* memory operand (else register form: reg1) */
	uint8_t scale;     /* 0..3: index scaled by 1, 2, 4, 8 */
	uint8_t addr_size; /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
	uint8_t seg;       /* enum cpu_seg ES..GS */
	uint8_t index;     /* enum guest_gpr, GPR_COUNT when none */
	uint8_t base;      /* enum guest_gpr, GPR_COUNT when none */
	int64_t disp;      /* displacement; RIP-relative: displacement + next RIP */
	uint8_t reg1;      /* register operand of the register form */
	uint8_t reg2;   /* second register operand (INVEPT/INVPCID/INVVPID type, VMREAD/VMWRITE) */
	uint8_t opsize; /* LGDT/LIDT/SGDT/SIDT: 0 = 16-bit, 1 = 32-bit; RDRAND/RDSEED: 0/1/2 =
	                   16/32/64-bit */
};

/* Instructions that may exit but have no guest_op kind; the engine decodes them into this. */
enum vmx_insn_id {
	VMX_INSN_GETSEC = 0,
	VMX_INSN_MOV_TO_DR,
	VMX_INSN_MOV_FROM_DR,
	VMX_INSN_INVPCID,
	VMX_INSN_INVEPT,
	VMX_INSN_INVVPID,
	VMX_INSN_SGDT,
	VMX_INSN_SIDT,
	VMX_INSN_LGDT,
	VMX_INSN_LIDT,
	VMX_INSN_SLDT,
	VMX_INSN_STR,
	VMX_INSN_LLDT,
	VMX_INSN_LTR,
	VMX_INSN_VMCLEAR,
	VMX_INSN_VMLAUNCH,
	VMX_INSN_VMPTRLD,
	VMX_INSN_VMPTRST,
	VMX_INSN_VMREAD,
	VMX_INSN_VMRESUME,
	VMX_INSN_VMWRITE,
	VMX_INSN_VMXOFF,
	VMX_INSN_VMXON,
	VMX_INSN_COUNT,
};

struct vmx_insn {
	uint8_t id;  /* enum vmx_insn_id */
	uint8_t len; /* instruction length, bytes */
	uint64_t rip;
	struct vmx_insn_operand op; /* operands as decoded */
	uint8_t dr;                 /* MOV DR: debug register number */
	uint64_t field;             /* VMREAD/VMWRITE: the register source operand (encoding) */
};

/* VM-exit instruction information of insn (SDM 28.2.4 formats; undefined bits written 0). Zero
 * for instructions without the field. Can't fail. */
uint32_t vmx_insn_info(const struct vmx_insn *insn);
/* INS/OUTS: address size 0/1/2 and segment (enum cpu_seg). */
uint32_t vmx_insn_info_io(unsigned addr_size, unsigned seg);
/* RDRAND/RDSEED: destination register and operand size 0/1/2 (16/32/64-bit). */
uint32_t vmx_insn_info_rand(unsigned gpr, unsigned opsize);

/* ---- Step log (--verbose): every APIC-virtualization step and entry/exit phase ---- */

struct vmx_step {
	const char *name; /* "EOI virtualization", "PPR virtualization", ... */
	const char *cite; /* SDM section of the step */
	uint32_t vector;  /* vector the step acted on, 0 if none */
	uint64_t value;   /* step result: new SVI, RVI, VPPR, 1 = recognized, ... */
};
typedef void (*vmx_step_fn)(void *ctx, const struct vmx_step *step);
/* Installs the step hook (NULL: none). Can't fail. */
void vmx_cpu_set_step_hook(struct vmx_cpu *cpu, vmx_step_fn fn, void *ctx);

/* RDMSR at CPL 0, for the VM-exit MSR-store list (SDM 28.4): true and *value, false = #GP. */
struct vmx_msr_read_ops {
	bool (*read)(void *ctx, uint32_t index, uint64_t *value);
	void *ctx;
};
/* Installs the RDMSR oracle (NULL ops or read: every MSR reads as 0). Can't fail. */
void vmx_cpu_set_msr_read_ops(struct vmx_cpu *cpu, const struct vmx_msr_read_ops *ops);

/* One 16-byte entry of an MSR list (SDM 25.7.2, 25.8.2). false when unbacked memory. */
bool vmx_msr_list_entry(const struct vmx_cpu *cpu, uint64_t addr, uint32_t i, uint32_t *index,
                        uint64_t *value);

/* ---- VM entry: loading guest state and injecting (SDM 27.3.2-27.7) ---- */

struct vmx_entry_effects {
	/* VM-entry MSR-load list, already checked (SDM 27.4): apply entries 0..count-1 in order
	 * with vmx_msr_list_entry after the state in cpu_state. */
	uint64_t msr_load_addr;
	uint32_t msr_load_count;
	struct vmx_event inject; /* SDM 27.6.1: deliver now through the guest IDT */
	uint32_t activity;       /* activity state after entry (enum cpu_activity) */
	bool woke;               /* vectoring entry to a guest whose activity field was HLT, ... */
	bool debug_trap; /* valid pending debug exceptions (SDM 27.7.3): owner delivers #DB */
	/* Exits that are pending before the first guest instruction (vmx_event_exits reports them
	 * in priority order): */
	bool tpr_threshold_exit; /* SDM 27.7.7 */
	bool mtf_exit;           /* SDM 27.6.2 / 26.5.2 */
	bool timer_exit;         /* SDM 27.7.4: timer value 0 */
	bool nmi_window_exit;    /* SDM 27.7.6 */
	bool intr_window_exit;   /* SDM 27.7.5 */
	bool vintr_recognized;   /* SDM 27.3.2.5 / 30.2.1 */
	bool mtf_single_step;    /* "monitor trap flag" is 1: run one instruction per slice */
	/* VMX-preemption timer (SDM 27.7.4): ticks every 2^timer_shift TSC ticks */
	bool timer_active;
	uint32_t timer_value;
	uint8_t timer_shift;
	uint64_t timer_deadline; /* TSC at which it expires (saturates at UINT64_MAX) */
	/* TSC offsetting/scaling for guest RDTSC, RDTSCP and RDMSR(10H) (SDM 26.3) */
	bool tsc_offsetting;
	uint64_t tsc_offset;
	bool tsc_scaling;
	uint64_t tsc_multiplier; /* 16.48 fixed point */
};

/* Loads the guest state of the current VMCS into *guest after vmx_vmlaunch/vmx_vmresume
 * returned VMX_ENTERED; tsc is the processor's TSC now. State the entry does not load (GPRs
 * other than RSP, CR2, CR8, EFER.LME in some cases, ...) is left as the caller had it. Puts the
 * processor in VMX non-root operation. false (nothing changed) without a current VMCS. */
bool vmx_entry_load(struct vmx_cpu *cpu, uint64_t tsc, struct cpu_state *guest,
                    struct vmx_entry_effects *fx);
/* True between vmx_entry_load and vmx_exit. */
bool vmx_cpu_in_nonroot(const struct vmx_cpu *cpu);

/* ---- Guest operations in VMX non-root operation (SDM 26.1, 26.3, 30.3-30.5) ---- */

enum vmx_op_outcome {
	VMX_OP_EXECUTE = 0, /* not intercepted: execute as on bare metal */
	VMX_OP_EXIT,        /* fault-like VM exit before the operation; RIP stays on it */
	VMX_OP_DONE,        /* completed by the processor without an exit: apply done, RIP += len */
	VMX_OP_DONE_EXIT,   /* completed as VMX_OP_DONE, then a trap-like VM exit */
	VMX_OP_FAULT,       /* raises fault (an exception, no exit): deliver it through the IDT */
};

struct vmx_op_result {
	uint8_t outcome;           /* enum vmx_op_outcome */
	struct vmx_exit_info exit; /* VMX_OP_EXIT, VMX_OP_DONE_EXIT */
	struct {
		bool has_value; /* the result the operation returns: RDMSR/RDTSC EDX:EAX, MOV
		                   from CR the GPR, an MMIO load its data */
		uint64_t value;
		bool has_aux; /* RDTSCP: ECX = aux (IA32_TSC_AUX[31:0]) */
		uint32_t aux;
		bool set_cr; /* write cr_value to CR cr (MOV to CR0/CR4, CLTS, LMSW) */
		uint8_t cr;
		uint64_t cr_value;
		bool no_sleep; /* MWAIT: continue without entering the optimized state */
	} done;
	struct vmx_event fault; /* VMX_OP_FAULT */
};

/* Decides one guest operation in VMX non-root operation at TSC tsc. Returns true when it causes
 * a VM exit (VMX_OP_EXIT or VMX_OP_DONE_EXIT); out says the rest. Without a current VMCS: false,
 * VMX_OP_EXECUTE. */
bool vmx_op_exits(struct vmx_cpu *cpu, const struct guest_op *op, const struct cpu_state *guest,
                  uint64_t tsc, struct vmx_op_result *out);
/* The same for instructions without a guest_op kind (struct vmx_insn). */
bool vmx_insn_exits(struct vmx_cpu *cpu, const struct vmx_insn *insn, const struct cpu_state *guest,
                    struct vmx_op_result *out);

/* ---- Events in VMX non-root operation (SDM 26.2, 26.5, 27.7) ---- */

/* Events waiting at the processor's pins/APIC, as the engine sees them. */
struct vmx_pending {
	bool nmi;    /* an NMI is pending */
	bool extint; /* an unmasked external interrupt is pending at the interrupt controller */
	bool init;   /* INIT signal */
	bool sipi;   /* start-up IPI with sipi_vector */
	uint8_t sipi_vector;
};

enum vmx_ev_action {
	VMX_EV_NONE = 0,   /* nothing: run the guest (or stay in its inactive state) */
	VMX_EV_EXIT,       /* VM exit: out->exit, then vmx_exit */
	VMX_EV_DELIVER,    /* deliver out->event through the guest IDT (virtual interrupt or NMI) */
	VMX_EV_ACK_EXTINT, /* acknowledge the interrupt controller, then vmx_extint_ack(vector) */
	VMX_EV_DISCARD_SIPI, /* the SIPI is discarded (SDM 27.7.2) */
};

struct vmx_event_result {
	uint8_t action; /* enum vmx_ev_action */
	struct vmx_exit_info exit;
	struct vmx_event event;
	bool wake;           /* the event ends HLT: activity becomes active after delivery */
	bool eoi_physical;   /* posted-interrupt processing: write 0 to the physical EOI */
	bool extint_remains; /* exit without acknowledge: the interrupt stays pending */
};

/* The highest-priority event at this instruction boundary (SDM 6.9 with 26.2, 26.5.2, 27.7):
 * INIT, SIPI, TPR threshold after entry, MTF, preemption timer, NMI window, NMI, interrupt
 * window / virtual-interrupt delivery, external interrupt. Call before resuming the guest and
 * whenever an event arrives or IF/blocking/activity changes. Virtual-interrupt delivery updates
 * the virtual-APIC state (SDM 30.2.2). Can't fail (no current VMCS: VMX_EV_NONE). */
void vmx_event_exits(struct vmx_cpu *cpu, const struct cpu_state *guest, uint64_t tsc,
                     const struct vmx_pending *pend, struct vmx_event_result *out);
/* The acknowledged external interrupt vector (after VMX_EV_ACK_EXTINT): posted-interrupt
 * processing (SDM 30.6), exit 1 with the vector (ack on exit), or delivery through the guest IDT.
 * Can't fail. */
void vmx_extint_ack(struct vmx_cpu *cpu, uint8_t vector, const struct cpu_state *guest,
                    struct vmx_event_result *out);
/* count guest instructions retired since the last call (MTF: an exit becomes pending after
 * one, SDM 26.5.2). Can't fail. */
void vmx_nonroot_retired(struct vmx_cpu *cpu, uint64_t count);
/* The current VMCS's primary and secondary processor-based controls as the processor applies them
 * (secondary 0 without "activate secondary controls", SDM 25.6.2); both 0 without a current
 * VMCS. Can't fail. */
void vmx_proc_controls(const struct vmx_cpu *cpu, uint32_t *proc, uint32_t *proc2);

/* An exception raised in the guest (by an instruction or by event delivery). */
struct vmx_exception {
	uint8_t vector; /* 0..31 */
	bool has_error;
	uint32_t error_code;
	uint64_t pf_addr; /* #PF: the linear address (exit qualification) */
	uint64_t dr6;     /* #DB: B3-B0, BD, BS (exit qualification) */
	bool software;    /* #BP/#OF from INT3/INTO: software exception of insn_len bytes */
	uint32_t insn_len;
	bool nmi_unblock_iret; /* fault on IRET that unblocked NMIs (bit 12) */
};
/* Exception bitmap and #PF error-code mask/match (SDM 26.2): true with exit 0 prepared, false
 * when the owner delivers it through the guest IDT. */
bool vmx_exception_exits(const struct vmx_cpu *cpu, const struct vmx_exception *e,
                         struct vmx_exit_info *out);
/* Triple fault (exit 2) and task switch (exit 9: TSS selector, source 0 CALL, 1 IRET, 2 JMP,
 * 3 IDT task gate). Can't fail. */
void vmx_triple_fault_exit(struct vmx_exit_info *out);
void vmx_task_switch_exit(uint16_t selector, unsigned source, uint32_t insn_len,
                          struct vmx_exit_info *out);

/* ---- VM exit (SDM 28) ---- */

/* VMX-abort indicators (SDM 28.7 "VMX Aborts") */
enum vmx_abort {
	VMX_ABORT_SAVE_GUEST_MSR = 1, /* failure saving guest MSRs (SDM 28.4) */
	VMX_ABORT_HOST_PDPTE = 2,     /* host PDPTE checks failed (SDM 28.5.4) */
	VMX_ABORT_VMCS_CORRUPT = 3,   /* current VMCS corrupted */
	VMX_ABORT_LOAD_HOST_MSR = 4,  /* failure loading host MSRs (SDM 28.6) */
	VMX_ABORT_MCE = 5,            /* machine-check event during VM exit */
	VMX_ABORT_HOST_ADDR_SIZE = 6, /* IA-32e mode before the exit, "host address-space size" 0 */
};

struct vmx_exit_effects {
	uint32_t abort;        /* VMX-abort indicator written to the VMCS region (SDM 28.7); 0 none.
	                          Non-zero: the processor is in the VMX-abort shutdown state. */
	struct cpu_state host; /* processor state after the exit (root mode) */
	bool nmi_blocked;      /* the exit was caused directly by an NMI: NMIs blocked */
	/* VM-exit MSR-load list, checked (SDM 28.6): apply entries in order after host state */
	uint64_t msr_load_addr;
	uint32_t msr_load_count;
	uint32_t msr_stored; /* MSR-store entries written */
};

/* Processes a VM exit: records x in the current VMCS, saves *guest (the state at the exit point:
 * the exiting instruction's RIP for fault-like exits, the next one for trap-like), stores MSRs,
 * loads host state into fx->host and the processor's mode, checks the MSR-load list; leaves VMX
 * non-root operation. tsc: the TSC now (preemption-timer save). An exit reason with bit 31 is a
 * VM-entry failure (SDM 27.8): only host state and MSRs are loaded. false (nothing done) without
 * a current VMCS; a VMX abort is fx->abort with true. */
bool vmx_exit(struct vmx_cpu *cpu, const struct vmx_exit_info *x, const struct cpu_state *guest,
              uint64_t tsc, struct vmx_exit_effects *fx);

/* ---- Event re-injection (SDM 27.6, 28.2.3) ---- */

struct vmx_reinject {
	bool valid;              /* IDT-vectoring information was valid: write the fields below */
	uint32_t intr_info;      /* VM_ENTRY_INTR_INFO_FIELD */
	uint32_t error_code;     /* VM_ENTRY_EXCEPTION_ERROR_CODE */
	uint32_t insn_len;       /* VM_ENTRY_INSTRUCTION_LEN */
	bool clear_nmi_blocking; /* NMI: clear blocking by NMI in the guest interruptibility state,
	                            which the interrupted delivery set (SDM 28.1) */
};
/* What a hypervisor writes to re-inject the event an exit interrupted: from IDT-vectoring info
 * and error code and the VM-exit instruction length (software events). Can't fail. */
void vmx_reinject_from_idt_vectoring(uint32_t idt_info, uint32_t idt_error, uint32_t exit_insn_len,
                                     struct vmx_reinject *out);

/* ---- APIC virtualization (SDM 30), step by step ---- */

/* Virtual-APIC page offsets (SDM 30.1.1) */
#define VAPIC_VTPR     0x080u
#define VAPIC_VPPR     0x0a0u
#define VAPIC_VEOI     0x0b0u
#define VAPIC_VISR     0x100u
#define VAPIC_VTMR     0x180u
#define VAPIC_VIRR     0x200u
#define VAPIC_VICR_LO  0x300u
#define VAPIC_VICR_HI  0x310u
#define VAPIC_SELF_IPI 0x3f0u

/* 32-bit register of the current VMCS's virtual-APIC page (unbacked: reads all ones). */
uint32_t vmx_vapic_read(const struct vmx_cpu *cpu, unsigned offset);
void vmx_vapic_write(struct vmx_cpu *cpu, unsigned offset, uint32_t value);
/* Bit vector in the 256-bit VISR/VIRR/VTMR at base (VAPIC_VISR, VAPIC_VIRR, VAPIC_VTMR). */
bool vmx_vapic_test(const struct vmx_cpu *cpu, unsigned base, uint8_t vector);
void vmx_vapic_set(struct vmx_cpu *cpu, unsigned base, uint8_t vector, bool on);
/* Highest vector set in the 256-bit register at base, -1 when none. */
int vmx_vapic_highest(const struct vmx_cpu *cpu, unsigned base);
/* Guest interrupt status (SDM 25.4.2): RVI bits 7:0, SVI bits 15:8. */
uint8_t vmx_apicv_rvi(const struct vmx_cpu *cpu);
uint8_t vmx_apicv_svi(const struct vmx_cpu *cpu);
void vmx_apicv_set_rvi(struct vmx_cpu *cpu, uint8_t rvi);
void vmx_apicv_set_svi(struct vmx_cpu *cpu, uint8_t svi);
/* Whether a virtual interrupt is recognized (SDM 30.2.1). */
bool vmx_apicv_recognized(const struct vmx_cpu *cpu);

/* The steps. Each logs itself through the step hook and reads/writes only the current VMCS and
 * the virtual-APIC page; exit (where one may follow) receives the trap-like exit. */
void vmx_apicv_ppr_virtualize(struct vmx_cpu *cpu);                             /* SDM 30.1.3 */
bool vmx_apicv_evaluate(struct vmx_cpu *cpu);                                   /* SDM 30.2.1 */
bool vmx_apicv_tpr_virtualize(struct vmx_cpu *cpu, struct vmx_exit_info *exit); /* 30.1.2 */
bool vmx_apicv_eoi_virtualize(struct vmx_cpu *cpu, struct vmx_exit_info *exit); /* 30.1.4 */
void vmx_apicv_self_ipi(struct vmx_cpu *cpu, uint8_t vector);                   /* SDM 30.1.5 */
/* Virtual-interrupt delivery (SDM 30.2.2): updates VISR/VIRR/SVI/RVI/VPPR, returns the vector
 * to deliver through the guest IDT; -1 when no virtual interrupt is recognized. */
int vmx_apicv_deliver(struct vmx_cpu *cpu);
/* Posted-interrupt processing steps 3, 5-7 (SDM 30.6) on the descriptor in memory. */
void vmx_apicv_posted_interrupt(struct vmx_cpu *cpu);

/* ---- TSC and the VMX-preemption timer ---- */

/* The guest's view of TSC host_tsc: offset and multiplier per the current VMCS (SDM 26.3 RDTSC);
 * host_tsc without a current VMCS. */
uint64_t vmx_guest_tsc(const struct vmx_cpu *cpu, uint64_t host_tsc);
/* TSC at which a timer loaded with value at TSC start expires, ticking when TSC bit shift
 * changes (SDM 26.5.1); saturates at UINT64_MAX. */
uint64_t vmx_timer_deadline(uint64_t start, uint32_t value, unsigned shift);
/* Remaining timer value at tsc (0 once expired). */
uint32_t vmx_timer_remaining(uint64_t start, uint32_t value, unsigned shift, uint64_t tsc);
/* The running timer's expiry TSC: false when the timer is not active. */
bool vmx_preemption_timer_deadline(const struct vmx_cpu *cpu, uint64_t *deadline);

#endif
