/* The hypervisor-algorithm interface: what an algorithm implements (struct hvsim_hv_ops) and what
 * the engine offers it. An algorithm drives simulated hardware the way a real hypervisor does; the
 * engine calls it whenever a vCPU is in root mode (after creation, after every exit, after a
 * wake-up). docs/writing-an-algorithm.md walks through a minimal one. */
#ifndef HVSIM_HV_H
#define HVSIM_HV_H

#include <hvsim/base.h>
#include <hvsim/evq.h>
#include <hvsim/guest_op.h>
#include <hvsim/trace.h>
#include <hvsim/vm.h>

/* Bumped whenever struct hvsim_hv_ops or the engine services change incompatibly.
 * 2: snapshot/restore/snapshot_free callbacks; intercept, TSC, CR and MMIO-map services.
 * 3: struct guest_op carries GOP_VMX operands (64 bytes); nested-VMX services; check_invariants
 *    callback (hvsim_vm_check_invariants, scenario oracles.invariants). Compatible additions
 *    since: GOP_SEAMCALL (after the existing kinds), hvsim_vcpu_instructions.
 * 4: struct hvsim_quirk_desc reload flag; reload callback (hvsim_vm_reload changes such quirks).
 *    Compatible additions since: hvsim_vmx_nested_caps (hv_vmx.h; an algorithm that does not
 *    call it runs as before); guest_op mmio.fetch and mmio.not_mov (in former padding: EPT
 *    violations on an instruction fetch and on an access by an instruction other than MOV,
 *    which ended the vCPU before). */
#define HVSIM_HV_ABI_VERSION 4
/* A plug-in shared object exports this symbol: const struct hvsim_hv_ops *hvsim_hv_plugin(void). */
#define HVSIM_HV_PLUGIN_SYMBOL "hvsim_hv_plugin"

/* A named quirk: a historical behaviour selected by value. The default is current upstream. */
struct hvsim_quirk_desc {
	const char *name;
	const char *const *values; /* n_values names */
	size_t n_values;
	const char *def;        /* one of values */
	const char *doc;        /* what each value does, one line */
	const char *provenance; /* the patch or thread it comes from */
	/* true: the algorithm takes the value again in its reload callback, so hvsim_vm_reload may
	 * give a kept VM another value; false: the value shapes the VM at creation, and a reload
	 * for a scenario selecting another value is refused. */
	bool reload;
};

struct hvsim_hv_ops {
	uint32_t abi_version; /* HVSIM_HV_ABI_VERSION */
	uint32_t size;        /* sizeof(struct hvsim_hv_ops) the algorithm was built with */
	const char *name;
	const char *description;
	const struct hvsim_quirk_desc *quirks;
	size_t n_quirks;

	/* Called once per VM, before any vCPU exists. *priv is handed back to every other callback.
	 * Non-HVSIM_OK fails the VM creation. */
	enum hvsim_status (*vm_create)(hvsim_vm *vm, void **priv);
	void (*vm_destroy)(void *priv);
	/* Called once per vCPU, in index order. */
	enum hvsim_status (*vcpu_create)(void *priv, hvsim_vcpu *v);
	/* Required. The vCPU is in root mode: handle the exit that brought it here (if any), then
	 * enter the guest, block the vCPU or stop it. Returning without doing any of them is
	 * allowed a bounded number of times in a row; then the engine stops the vCPU with an
	 * internal error. */
	enum hvsim_status (*vcpu_run)(void *priv, hvsim_vcpu *v);
	/* An I/O APIC input line changed (scenario "irq_line" events). */
	void (*irq_line)(void *priv, uint32_t gsi, uint8_t level);
	/* A message-signalled interrupt arrived (scenario "msi" events). */
	void (*msi)(void *priv, uint64_t addr, uint64_t data);
	/* A timer armed with hvsim_timer_arm() expired. */
	void (*timer)(void *priv, hvsim_vcpu *v, uint64_t cookie);
	/* A host action from the scenario ("apicv_activate", ...). HVSIM_E_UNSUPPORTED if unknown.
	 */
	enum hvsim_status (*host_action)(void *priv, hvsim_vcpu *v, const char *action,
	                                 uint64_t arg);
	/* Optional, for hvsim_vm_snapshot(): a copy of everything the algorithm keeps (its models
	 * included), NULL when out of memory; restore loads a copy back into priv (snap stays
	 * unchanged: one snapshot restores any number of times; pointers the engine or the models
	 * hold into priv stay valid); snapshot_free frees one. Without them the VM cannot be
	 * snapshotted. */
	void *(*snapshot)(void *priv);
	enum hvsim_status (*restore)(void *priv, const void *snap);
	void (*snapshot_free)(void *snap);
	/* Optional: the algorithm's named invariants over its own state and the models it drives.
	 * Pure: changes nothing, emits nothing. Returns NULL when every one holds, else the name of
	 * the first one broken (a static string) with what broke written into why (cap bytes). The
	 * engine calls it after every slice when the scenario enables oracles.invariants and
	 * reports an invariant_violation finding; fuzzers and tests call
	 * hvsim_vm_check_invariants(). */
	const char *(*check_invariants)(void *priv, char *why, size_t cap);
	/* Optional, for hvsim_vm_reload: called after the engine restored a snapshot taken before
	 * the VM ran and selected the new scenario's quirks (hvsim_vm_quirk gives them). The
	 * algorithm takes the values of its quirks marked reload again, so that its state is the
	 * one vm_create and vcpu_create give with them. Non-HVSIM_OK fails the reload (the VM is
	 * then failed). Without it, no quirk is reloadable. */
	enum hvsim_status (*reload)(void *priv);
};

/* ---- Engine services: the VM ---- */
unsigned hvsim_vm_vcpu_count(const hvsim_vm *vm);
/* NULL when index is out of range. */
hvsim_vcpu *hvsim_vm_vcpu(hvsim_vm *vm, unsigned index);
const struct hvsim_scenario *hvsim_vm_scenario(const hvsim_vm *vm);
/* The selected value of a quirk (run override, scenario value, else the default); NULL if unknown.
 */
const char *hvsim_vm_quirk(const hvsim_vm *vm, const char *name);
/* Virtual time of the engine's current context, ns. */
uint64_t hvsim_vm_now(const hvsim_vm *vm);
/* Next value of the run's seeded PRNG. */
uint64_t hvsim_vm_random(hvsim_vm *vm);
/* The user pointer of struct hvsim_vm_opts (embedders, tests); NULL when none. */
void *hvsim_vm_user(const hvsim_vm *vm);
/* Called by vm_create before it returns HVSIM_E_UNSUPPORTED: why the algorithm refuses this
 * machine, naming the scenario setting ("needs a VMX CPU profile in machine.cpu"). why must
 * outlive the VM (a string literal). VM creation then fails as an input error with it. */
void hvsim_vm_refuse(hvsim_vm *vm, const char *why);

/* MMIO regions: guest-physical ranges whose accesses exit as GOP_MMIO operations (exit reason
 * EPT_VIOLATION under the generic hardware). Every VM starts with the xAPIC page at 0xfee00000 and
 * the I/O APIC page at 0xfec00000; an algorithm moves them the way a guest's IA32_APIC_BASE write
 * moves its APIC (SDM 11.4.5 "Relocating the Local APIC Registers"). */
#define HVSIM_MMIO_XAPIC         0u
#define HVSIM_MMIO_IOAPIC        1u
#define HVSIM_MMIO_MAX           8u
#define HVSIM_XAPIC_DEFAULT_GPA  UINT64_C(0xfee00000)
#define HVSIM_IOAPIC_DEFAULT_GPA UINT64_C(0xfec00000)
/* Maps region id (< HVSIM_MMIO_MAX) at [gpa, gpa+size), moving it if it was mapped. HVSIM_E_INPUT
 * for an unaligned or empty range, an overlap with another region, or a layout the page tables
 * cannot express; the map is then unchanged. */
enum hvsim_status hvsim_mmio_map(hvsim_vm *vm, unsigned id, uint64_t gpa, uint64_t size);
/* Removes region id; accesses there then reach RAM or are bad accesses. HVSIM_E_INPUT: bad id. */
enum hvsim_status hvsim_mmio_unmap(hvsim_vm *vm, unsigned id);

/* Guest-physical memory; HVSIM_E_INPUT when [gpa, gpa+len) is not guest RAM. */
enum hvsim_status hvsim_guest_read(hvsim_vm *vm, uint64_t gpa, void *buf, size_t len);
enum hvsim_status hvsim_guest_write(hvsim_vm *vm, uint64_t gpa, const void *buf, size_t len);

/* Schedules timer(priv, vcpu, cookie) at virtual time at_ns (clamped to now); 0 when out of memory.
 */
sim_ev_handle hvsim_timer_arm(hvsim_vm *vm, uint64_t at_ns, hvsim_vcpu *v, uint64_t cookie);
/* True when the timer was still pending. */
bool hvsim_timer_cancel(hvsim_vm *vm, sim_ev_handle h);

/* Writes an algorithm's own event to the trace and shows it to the oracles. */
void hvsim_emit(hvsim_vm *vm, const struct trace_ev *e);
/* Reports a finding (kind from docs/oracles.md); detail may be NULL. */
void hvsim_report_finding(hvsim_vm *vm, hvsim_vcpu *v, const char *kind, const char *detail);

/* ---- Engine services: one vCPU ---- */
unsigned hvsim_vcpu_index(const hvsim_vcpu *v);
hvsim_vm *hvsim_vcpu_vm(hvsim_vcpu *v);
void *hvsim_vcpu_priv(const hvsim_vcpu *v);
void hvsim_vcpu_set_priv(hvsim_vcpu *v, void *priv);
uint64_t hvsim_vcpu_now(const hvsim_vcpu *v);
/* Guest instructions v retired so far (the VM's total is hvsim_vm_summary's). Can't fail. */
uint64_t hvsim_vcpu_instructions(const hvsim_vcpu *v);

uint64_t hvsim_vcpu_gpr(hvsim_vcpu *v, unsigned gpr);
void hvsim_vcpu_set_gpr(hvsim_vcpu *v, unsigned gpr, uint64_t value);
uint64_t hvsim_vcpu_rip(hvsim_vcpu *v);
void hvsim_vcpu_set_rip(hvsim_vcpu *v, uint64_t rip);
uint64_t hvsim_vcpu_rflags(hvsim_vcpu *v);

/* The exit that brought the vCPU to root mode under the generic virtualization hardware (no VMX):
 * reason and decoded operation. NULL when the vCPU is not returning from such an exit. */
struct hvsim_exit {
	uint16_t reason;    /* enum hvsim_exit_reason */
	struct guest_op op; /* the decoded operation */
};
const struct hvsim_exit *hvsim_vcpu_exit(const hvsim_vcpu *v);
/* Completes the exiting operation as the hypervisor emulated it: writes the result (RDMSR, RDTSC,
 * RDPMC: EDX:EAX; RDTSCP: EDX:EAX and ECX = TSC_AUX; IN data; MMIO load data, merged into the
 * destination as x86 merges 8/16/32-bit writes; RDRAND/RDSEED value with CF=1; MOV from CR: the
 * GPR) where the instruction would have put it, and moves RIP past it. A MOV to CR, CLTS and LMSW
 * complete by performing the guest's own write in the CPU (mode switches included) when it next
 * runs. String I/O completes whole: RSI/RDI advance by count elements, RCX reaches 0 for REP, and
 * each INS element receives result. Does nothing when the vCPU is not returning from an exit. */
void hvsim_vcpu_complete(hvsim_vcpu *v, uint64_t result);

/* Generic virtualization hardware controls, the way VMX execution controls select exits.
 * Intercepts: GOP_BIT(kind) set means the operation exits; clear means it completes in the guest
 * (RDTSC/RDTSCP from the guest TSC, RDRAND/RDSEED from the run's PRNG, HLT waits for an interrupt
 * or a kick, PAUSE/INVD/WBINVD/INVLPG/MONITOR/MWAIT/CR accesses run as the CPU runs them).
 * Operations without in-guest behaviour always exit: HVSIM_INTERCEPT_FORCED. Default: all exit. */
#define HVSIM_INTERCEPT_ALL ((UINT32_C(1) << GOP_KIND_MAX) - 2)
#define HVSIM_INTERCEPT_FORCED                                                                \
	(GOP_BIT(GOP_CPUID) | GOP_BIT(GOP_RDMSR) | GOP_BIT(GOP_WRMSR) | GOP_BIT(GOP_RDPMC) |  \
	 GOP_BIT(GOP_IO) | GOP_BIT(GOP_VMCALL) | GOP_BIT(GOP_VMMCALL) | GOP_BIT(GOP_TDCALL) | \
	 GOP_BIT(GOP_XSETBV) | GOP_BIT(GOP_MMIO) | GOP_BIT(GOP_VMX))
/* Sets the intercept set (forced bits are added). Can't fail. */
void hvsim_vcpu_set_intercepts(hvsim_vcpu *v, uint32_t mask);
uint32_t hvsim_vcpu_intercepts(const hvsim_vcpu *v);
/* Guest TSC = (TSC of virtual time at machine.tsc_khz) * multiplier / 2^48 + offset, as VMX TSC
 * offsetting and scaling compute it (SDM 26.6.5). Defaults: offset 0, multiplier 2^48. */
void hvsim_vcpu_set_tsc_offset(hvsim_vcpu *v, uint64_t offset);
void hvsim_vcpu_set_tsc_multiplier(hvsim_vcpu *v, uint64_t multiplier);
/* The guest TSC at the vCPU's current virtual time. Can't fail. */
uint64_t hvsim_vcpu_tsc(const hvsim_vcpu *v);
/* IA32_TSC_AUX as RDTSCP returns it in ECX (default 0). */
void hvsim_vcpu_set_tsc_aux(hvsim_vcpu *v, uint32_t aux);
/* Control registers 0, 2, 3, 4, 8 as the CPU holds them (0 for others or a scripted guest).
 * set_cr stores a raw value and flushes the TLB as a MOV to CR would (SDM 4.10.4.1: for CR3
 * always, for CR0 and CR4 when the value changes), without mode switching; MOV to CR completion
 * is the way to let the guest switch modes. (The engine leaves out flushes that cannot change a
 * translation, docs/vcpu-layer.md "The TLB across restores and CR loads".) */
uint64_t hvsim_vcpu_cr(hvsim_vcpu *v, unsigned cr);
void hvsim_vcpu_set_cr(hvsim_vcpu *v, unsigned cr, uint64_t value);

/* Generic virtualization hardware: every operation a guest_op describes exits. Resumes the guest;
 * HVSIM_E_INPUT when the vCPU is not in root mode. */
enum hvsim_status hvsim_vcpu_enter(hvsim_vcpu *v);
/* Delivers an external interrupt through the guest's IDT at the next entry (generic hardware);
 * HVSIM_E_INPUT for a vector below 16. */
enum hvsim_status hvsim_vcpu_inject(hvsim_vcpu *v, uint8_t vector);
/* True when the guest can take a maskable interrupt now (RFLAGS.IF set, no STI/MOV-SS shadow). */
bool hvsim_vcpu_interruptible(hvsim_vcpu *v);
/* The vCPU waits in the hypervisor (HLT emulation) until hvsim_vcpu_kick(); virtual time passes. */
void hvsim_vcpu_block(hvsim_vcpu *v);
/* Makes a blocked vCPU, or one halted in the guest (HLT not intercepted), runnable again in root
 * mode (vcpu_run is called next); no effect otherwise. hvsim_vcpu_inject() also wakes a vCPU
 * halted in the guest, straight into the guest. */
void hvsim_vcpu_kick(hvsim_vcpu *v);
/* True while the vCPU is in root mode and may enter the guest: not entered, blocked or stopped. */
bool hvsim_vcpu_in_root(const hvsim_vcpu *v);
/* Ends the vCPU for the rest of the run (reason goes to the trace). */
void hvsim_vcpu_stop(hvsim_vcpu *v, const char *reason);
/* Advances the vCPU's virtual time by ns: hypervisor work that takes time, such as a round trip to
 * the VMM's userspace. Can't fail. */
void hvsim_vcpu_charge(hvsim_vcpu *v, uint64_t ns);

#endif
