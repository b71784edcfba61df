/* Shared pieces of the VMX runtime (part 2): the controls as the processor applies them, the
 * step-log hook, memory and MSR-list helpers, and the TSC and VMX-preemption-timer arithmetic of
 * SDM 26.3 (RDTSC with TSC offsetting and scaling) and 26.5.1. The TSC itself is the engine's:
 * every function here takes it as an argument. */
#include "vmx_int.h"

#include <hvsim/clock.h>

#include <string.h>

#define MSR_IA32_BIOS_UPDT_TRIG  0x79u
#define MSR_IA32_BIOS_SIGN_ID    0x8bu
#define MSR_IA32_SMM_MONITOR_CTL 0x9bu
#define MSR_IA32_SMBASE          0x9eu
#define MSR_IA32_FS_BASE         0xc0000100u
#define MSR_IA32_GS_BASE         0xc0000101u
#define TSC_MULTIPLIER_FRAC_BITS 48

/* SDM 25.6.2: with "activate secondary/tertiary controls" 0 the processor acts as if every
 * secondary/tertiary control were 0. */
void vmx_ctls_of(const struct vmcs *v, struct vmx_ctls *c)
{
	memset(c, 0, sizeof(*c));
	c->pin = (uint32_t)VF(v, PIN_BASED_VM_EXEC_CONTROL);
	c->proc = (uint32_t)VF(v, CPU_BASED_VM_EXEC_CONTROL);
	if (c->proc & PROC_ACTIVATE_SECONDARY)
		c->proc2 = (uint32_t)VF(v, SECONDARY_VM_EXEC_CONTROL);
	if (c->proc & PROC_ACTIVATE_TERTIARY)
		c->proc3 = VF(v, TERTIARY_VM_EXEC_CONTROL);
	c->exit = (uint32_t)VF(v, VM_EXIT_CONTROLS);
	c->entry = (uint32_t)VF(v, VM_ENTRY_CONTROLS);
}

void vmx_cpu_set_step_hook(struct vmx_cpu *cpu, vmx_step_fn fn, void *ctx)
{
	cpu->step = fn;
	cpu->step_ctx = ctx;
}

void vmx_step_emit(const struct vmx_cpu *cpu, const char *name, const char *cite, uint32_t vector,
                   uint64_t value)
{
	struct vmx_step s = {name, cite, vector, value};

	if (cpu->step)
		cpu->step(cpu->step_ctx, &s);
}

void vmx_cpu_set_msr_read_ops(struct vmx_cpu *cpu, const struct vmx_msr_read_ops *ops)
{
	if (ops)
		cpu->msr_read = *ops;
	else
		memset(&cpu->msr_read, 0, sizeof(cpu->msr_read));
}

bool vmx_cpu_in_nonroot(const struct vmx_cpu *cpu)
{
	return cpu->nr.active;
}

uint64_t vmx_canonicalize(const struct vmx_caps *caps, uint64_t la)
{
	unsigned n = caps->linear_bits ? caps->linear_bits : 48;

	if (n >= 64)
		return la;
	if (la & (UINT64_C(1) << (n - 1)))
		return la | ~((UINT64_C(1) << n) - 1);
	return la & ((UINT64_C(1) << n) - 1);
}

unsigned vmx_guest_cpl(const struct cpu_state *g)
{
	return AR_DPL(g->seg[SEG_SS].ar);
}

bool vmx_guest_64bit(const struct cpu_state *g)
{
	return (g->efer & EFER_LMA) && (g->seg[SEG_CS].ar & AR_L);
}

bool vmx_mem_read(const struct vmx_cpu *cpu, uint64_t pa, void *buf, size_t len)
{
	if (cpu->mem.read && cpu->mem.read(cpu->mem.ctx, pa, buf, len))
		return true;
	memset(buf, 0xff, len);
	return false;
}

bool vmx_mem_write(const struct vmx_cpu *cpu, uint64_t pa, const void *buf, size_t len)
{
	return cpu->mem.write && cpu->mem.write(cpu->mem.ctx, pa, buf, len);
}

bool vmx_msr_list_entry(const struct vmx_cpu *cpu, uint64_t addr, uint32_t i, uint32_t *index,
                        uint64_t *value)
{
	uint64_t e[2];
	bool ok = vmx_mem_read(cpu, addr + 16 * (uint64_t)i, e, sizeof(e));

	*index = (uint32_t)e[0];
	*value = e[1];
	return ok;
}

static bool x2apic_msr(const struct vmx_cpu *cpu, uint32_t index)
{
	return cpu->mode.x2apic_mode && (index >> 8) == 0x8;
}

/* SDM 28.4 "Saving MSRs": the rules an entry's index must pass before RDMSR. */
bool vmx_msr_list_store_bad(const struct vmx_cpu *cpu, uint64_t lo)
{
	uint32_t index = (uint32_t)lo;

	return (lo >> 32) != 0 || x2apic_msr(cpu, index) ||
	       (index == MSR_IA32_SMBASE && !cpu->mode.in_smm);
}

/* SDM 28.6 "Loading MSRs": the same rules as the VM-entry list (SDM 27.4), for an exit that
 * never ends in SMM; 79H and 8BH are the model-specific exclusions, as for VM entry. */
bool vmx_msr_list_load_bad(const struct vmx_cpu *cpu, uint64_t lo, uint64_t value)
{
	uint32_t index = (uint32_t)lo;

	return (lo >> 32) != 0 || index == MSR_IA32_FS_BASE || index == MSR_IA32_GS_BASE ||
	       x2apic_msr(cpu, index) || (index == MSR_IA32_SMM_MONITOR_CTL && !cpu->mode.in_smm) ||
	       index == MSR_IA32_BIOS_UPDT_TRIG || index == MSR_IA32_BIOS_SIGN_ID ||
	       (cpu->msr.write_ok && !cpu->msr.write_ok(cpu->msr.ctx, index, value));
}

/* SDM 26.3 "Changes to Instruction Behavior in VMX Non-Root Operation" (RDTSC): with "use TSC
 * offsetting" the guest sees TSC + offset, with "use TSC scaling" (TSC * multiplier) >> 48 +
 * offset. */
uint64_t vmx_guest_tsc(const struct vmx_cpu *cpu, uint64_t host_tsc)
{
	const struct vmcs *v = vmx_current_const(cpu);
	struct vmx_ctls c;
	uint64_t tsc = host_tsc;

	if (!v)
		return host_tsc;
	vmx_ctls_of(v, &c);
	if (!(c.proc & PROC_USE_TSC_OFFSETTING))
		return host_tsc;
	if (c.proc2 & PROC2_USE_TSC_SCALING)
		tsc = sim_tsc_scale(host_tsc, VF(v, TSC_MULTIPLIER), TSC_MULTIPLIER_FRAC_BITS);
	return tsc + VF(v, TSC_OFFSET);
}

/* SDM 26.5.1: the timer counts down by 1 each time TSC bit shift changes because the TSC
 * increments, so it reaches 0 when (TSC >> shift) has advanced by value. */
uint64_t vmx_timer_deadline(uint64_t start, uint32_t value, unsigned shift)
{
	uint64_t ticks;

	if (shift >= 64)
		return UINT64_MAX;
	ticks = (start >> shift) + value;
	if (ticks < value || ticks > (UINT64_MAX >> shift))
		return UINT64_MAX;
	return ticks << shift;
}

uint32_t vmx_timer_remaining(uint64_t start, uint32_t value, unsigned shift, uint64_t tsc)
{
	uint64_t elapsed;

	if (shift >= 64 || tsc <= start)
		return value;
	elapsed = (tsc >> shift) - (start >> shift);
	return elapsed >= value ? 0 : value - (uint32_t)elapsed;
}

bool vmx_preemption_timer_deadline(const struct vmx_cpu *cpu, uint64_t *deadline)
{
	if (!cpu->nr.active || !cpu->nr.timer_active)
		return false;
	*deadline =
	    vmx_timer_deadline(cpu->nr.timer_start, cpu->nr.timer_value, cpu->nr.timer_shift);
	return true;
}
