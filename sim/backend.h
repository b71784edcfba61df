/* Guest backends: what executes guest instructions. The script backend replays recorded actions; the
 * Unicorn backend (uc_*.c) runs real code. Both report exit-worthy operations as struct guest_op and
 * leave RIP on the operation until the hypervisor completes it, as hardware does on a fault-like exit. */
#ifndef HVSIM_BACKEND_H
#define HVSIM_BACKEND_H

#include <hvsim/guest_op.h>
#include <hvsim/scenario.h>

enum be_stop {
	BE_BUDGET = 0, /* retired the whole budget */
	BE_OP = 1,     /* stopped at an operation, *op filled, not executed */
	BE_DONE = 2,   /* the guest has nothing more to run (end of script) */
	BE_FAULT = 3,  /* the guest did something the machine cannot continue from; *why says what */
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
};

/* The script backend over a parsed script; base_rip is where its synthetic code addresses start.
 * NULL when out of memory. */
void *script_backend_create(const struct guest_script *s, uint64_t base_rip);
extern const struct guest_backend_ops script_backend_ops;

#endif
