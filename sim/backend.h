/* Guest backends: what executes guest instructions. The script backend replays recorded actions;
 * the Unicorn backend (uc_*.c) runs real code. Both report exit-worthy operations as struct
 * guest_op and leave RIP on the operation until the hypervisor completes it, as hardware does on a
 * fault-like exit. */
#ifndef HVSIM_BACKEND_H
#define HVSIM_BACKEND_H

#include <hvsim/guest_op.h>
#include <hvsim/scenario.h>

enum be_stop {
	BE_BUDGET = 0, /* retired the whole budget */
	BE_OP = 1,     /* stopped at an operation, *op filled, not executed */
	BE_DONE = 2,   /* the guest has nothing more to run (end of script) */
	BE_FAULT = 3, /* the guest did something the machine cannot continue from; *why says what */
	BE_BAD_ACCESS = 4, /* the guest touched memory outside RAM and MMIO; *why says where */
};

/* Interrupt/exception types as VMX event injection encodes them (SDM 25.8.3 Table 25-17). */
enum be_event_type {
	BE_EV_EXTINT = 0,
	BE_EV_NMI = 2,
	BE_EV_HW_EXCEPTION = 3,
	BE_EV_SW_INT = 4,
	BE_EV_PRIV_SW_EXCEPTION = 5,
	BE_EV_SW_EXCEPTION = 6,
};

/* MMIO regions of the machine (HVSIM_MMIO_* ids index the array). */
#define SIM_MMIO_MAX 8

struct sim_mmio_region {
	uint64_t gpa, size; /* page-aligned; size 0: unused */
};

struct mem_track;

/* Cross-modifying code (SDM 9.1.3): a backend sees its own guest's stores to code it translated,
 * not another vCPU's. So each backend marks the pages it translates code from here, and passes a
 * store of its guest that lands on a marked page to the VM, which tells the other vCPUs' backends
 * (their mem_written). The marks are never cleared: a page marked for nothing costs a call. */
struct be_xmod {
	uint64_t *pages; /* one bit per page of RAM (page i: bit i % 64 of word i / 64) */
	uint64_t n_pages;
	void (*stored)(void *ctx, unsigned vcpu, uint64_t gpa, uint64_t len);
	void *ctx;
};

/* The machine as a backend sees it: owned by the VM, read by the backends. */
struct be_machine {
	uint8_t *mem;      /* guest RAM, identity at guest-physical 0 */
	uint64_t mem_size; /* bytes */
	struct sim_mmio_region mmio[SIM_MMIO_MAX];
	/* the VM's written-page record (mem_track.h): a backend that writes RAM itself marks every
	 * page it writes there */
	struct mem_track *track;
	struct be_xmod *xmod; /* NULL: one vCPU, or no code guest */
};

struct guest_backend_ops {
	const char *name;
	void (*destroy)(void *ctx);
	/* Runs at most budget instructions (budget >= 1). *retired counts the instructions that
	 * completed, the stopping operation excluded. */
	enum be_stop (*run)(void *ctx, uint64_t budget, struct guest_op *op, uint64_t *retired,
	                    const char **why);
	uint64_t (*get_gpr)(void *ctx, unsigned gpr);
	void (*set_gpr)(void *ctx, unsigned gpr, uint64_t value);
	uint64_t (*get_rip)(void *ctx);
	void (*set_rip)(void *ctx, uint64_t rip);
	uint64_t (*get_rflags)(void *ctx);
	void (*set_rflags)(void *ctx, uint64_t rflags);
	/* Delivers an event through the guest IDT now (pushes the frame, loads the handler).
	 * HVSIM_E_INPUT if the guest's IDT cannot take it (the caller reports a finding). */
	enum hvsim_status (*deliver)(void *ctx, uint8_t vector, uint8_t type, bool has_error,
	                             uint32_t error_code);
	/* True when maskable interrupts are not blocked (RFLAGS.IF, no interrupt shadow). */
	bool (*interruptible)(void *ctx);

	/* The rest is optional (the script backend has only arm_if_stop and the snapshot trio). */

	/* Kinds (GOP_BIT set) that must stop run() with BE_OP. The backend may stop on more kinds:
	 * those it can never execute itself (RDTSC, CPUID, ...). Can't fail. */
	void (*set_stop_mask)(void *ctx, uint32_t mask);
	/* The next run() also ends (BE_BUDGET, *retired the instructions before it) right before an
	 * instruction that may set RFLAGS.IF (STI, POPF, IRET, ...); started at one, it runs only
	 * that one. A vCPU waiting for an interrupt window thus stops at every boundary where the
	 * window can open, as with a budget of one, without running each instruction alone. */
	void (*arm_if_stop)(void *ctx);
	/* Executes the operation run() stopped at with the guest's own operands when the guest next
	 * runs, instead of skipping it (MOV to CR0 needs the CPU's own mode switch). False when the
	 * backend cannot execute that kind; the caller then completes it itself. */
	bool (*pass_through)(void *ctx, const struct guest_op *op);
	/* Control registers as the CPU holds them; set_cr stores the value and flushes the TLB but
	 * changes no mode state (use pass_through for architectural mode switches). */
	uint64_t (*get_cr)(void *ctx, unsigned cr);
	void (*set_cr)(void *ctx, unsigned cr, uint64_t value);
	void (*flush_tlb)(void *ctx);
	/* The host wrote guest memory [gpa, gpa+len): drops translations of code there. */
	void (*mem_written)(void *ctx, uint64_t gpa, uint64_t len);
	/* The VM's MMIO regions changed (vm->mmio): remap them. HVSIM_E_NOMEM on failure. */
	enum hvsim_status (*mmio_changed)(void *ctx);
	/* Optional. The guest's code was replaced wholesale before the vCPU ran it
	 * (hvsim_vm_reload, the vCPU not stopped at an operation): drop every translation and trap
	 * site of code that changed, so that the vCPU runs as a new backend would. */
	void (*code_replaced)(void *ctx);
	/* Optional. Translation blocks the backend's engine generated since it was created (a
	 * measure of its translation work and code memory). Pure. */
	uint64_t (*translations)(void *ctx);
	/* Optional. The linear address and size of the IDT gate that delivering vector reads first
	 * (SDM 6.12.1, 6.14.1); false when there is none to read (real mode, a script). Pure. */
	bool (*idt_gate)(void *ctx, uint8_t vector, uint64_t *la, unsigned *len);
	/* A copy of the backend's state, NULL when out of memory; restore loads one back and drops
	 * every cached translation of code the restored memory changed. */
	void *(*snapshot)(void *ctx);
	enum hvsim_status (*restore)(void *ctx, const void *snap);
	void (*snapshot_free)(void *snap);
};

/* The Unicorn backend (uc_*.c): one fresh engine on machine m, set up in mode (enum guest_mode)
 * with vCPU index's stack and RIP = entry. NULL with err filled on failure. */
void *uc_backend_create(const struct be_machine *m, uint8_t mode, uint64_t entry, unsigned index,
                        struct hvsim_error *err);
extern const struct guest_backend_ops uc_backend_ops;

/* The script backend over a parsed script; base_rip is where its synthetic code addresses start;
 * its stores write m's RAM (m may be NULL: every store is then a bad access). NULL when out of
 * memory. */
void *script_backend_create(const struct guest_script *s, uint64_t base_rip,
                            const struct be_machine *m);
/* Gives a script vCPU that has not run an action yet the script s instead (hvsim_vm_reload);
 * false, unchanged, once it has. */
bool script_backend_rebind(void *ctx, const struct guest_script *s);
extern const struct guest_backend_ops script_backend_ops;

#endif
