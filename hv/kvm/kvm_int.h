/* The "kvm" reference algorithm: hvsim's model of Linux KVM's x86/VMX logic (arch/x86/kvm), built
 * on hvsim's hardware models. Each historical behaviour it can reproduce is a named quirk whose
 * default is current upstream (docs/kvm-algorithm.md lists them with their patches).
 *
 * Structure, mirroring KVM: kvm.c (the algorithm table, VM/vCPU life cycle, the vcpu_run loop),
 * kvm_vmcs.c (VMCS set-up, like vmx.c init_vmcs), kvm_exit.c (exit handlers), kvm_lapic.c (the
 * emulated local APIC, like lapic.c, over models/lapic), kvm_irq.c (interrupt routing and
 * injection, like irq_comm.c and x86.c inject_pending_event), kvm_ioapic.c (the in-kernel I/O APIC,
 * and for split irqchip the VMM-userspace I/O APIC that behaves like QEMU's), kvm_apicv.c (APICv
 * activation and the virtual-APIC page), kvm_cpuid.c, kvm_nested.c (VMX emulated for an L1
 * hypervisor, like vmx/nested.c), kvm_valid.c (validity of emulated writes), kvm_check.c (the named
 * invariants).
 *
 * Invariants: while APICv is inactive, the LAPIC model holds IRR/ISR/TMR; while active, IRR and ISR
 * live in the virtual-APIC page (the hardware changes them) and the model's copies are refreshed
 * from it before any LAPIC operation (kvm_apicv_pull) and pushed back after (kvm_apicv_push). */
#ifndef HVSIM_KVM_INT_H
#define HVSIM_KVM_INT_H

#include <hvsim/cpu_state.h>
#include <hvsim/hv.h>
#include <hvsim/hv_vmx.h>
#include <hvsim/ioapic.h>
#include <hvsim/lapic.h>
#include <hvsim/pmu.h>

#define KVM_MAX_VCPUS   256
#define KVM_IOAPIC_GSIS IOAPIC_MAX_PINS
/* QEMU's and KVM's SUCCESSIVE_IRQ_MAX_COUNT: EOIs in a row that find a level line still asserted
 * before re-delivery is delayed by KVM_IOAPIC_EOI_DELAY_NS (HZ/100 in KVM, 10 ms in QEMU). */
#define KVM_SUCCESSIVE_IRQ_MAX  10000
#define KVM_IOAPIC_EOI_DELAY_NS 10000000u
/* Engine MMIO regions free for zapped EPT entries (0 and 1 are the xAPIC page and I/O APIC). */
#define KVM_ZAP_FIRST_REGION 2u
#define KVM_ZAP_SLOTS        (HVSIM_MMIO_MAX - KVM_ZAP_FIRST_REGION)
/* Faulting a zapped page back in: the host page was being migrated (NUMA balancing, compaction). */
#define KVM_EPT_FAULT_IN_NS 20000u
/* What a round trip to the VMM's userspace costs on top of an exit (KVM_RUN return and re-entry).
 */
#define KVM_USERSPACE_EXIT_NS 2000u
/* The VMM's port devices (kvm_exit.c): QEMU's debugcon, isa-debug-exit and pc-testdev IRQ lines. */
#define KVM_DEBUG_PORT      0xe9u
#define KVM_DEBUG_EXIT_PORT 0xf4u
#define KVM_TESTDEV_IRQ     0x2000u
#define KVM_TESTDEV_LINES   24u

enum kvm_split_eoi {
	SPLIT_EOI_QUIRKED = 0, /* every EOI of a level I/O APIC vector exits to userspace */
	SPLIT_EOI_SUPPRESS =
	    1, /* no exit when SPIV[12] is set: the guest EOIs the I/O APIC itself */
	SPLIT_EOI_DISABLE = 2, /* LVR[24] not advertised: the guest cannot suppress broadcasts */
};

enum kvm_timer_cookie {
	COOKIE_LAPIC_TIMER = 1,    /* the vCPU's emulated LAPIC timer */
	COOKIE_IOAPIC_DELAYED = 2, /* the userspace I/O APIC's delayed re-delivery */
	COOKIE_PMU_OVERFLOW = 3,   /* the vCPU's vPMU reaches its next interrupting wrap */
};

/* vmcs12 regions KVM tracks per VM (L1's VMCSs, keyed by guest-physical address). */
#define KVM_VMCS12_MAX 64u
/* IA32_FEATURE_CONTROL as the VMM sets it: locked, without VMX; with nested VMX also "VMXON
 * outside SMX" (SDM Vol. 4 Table 2-2, bits 0 and 2). */
#define KVM_FEATURE_CONTROL        UINT64_C(0x1)
#define KVM_FEATURE_CONTROL_NESTED UINT64_C(0x5)

struct kvm_vm;

/* Nested VMX state of one vCPU (KVM's vmx->nested). */
struct kvm_nested {
	struct vmx_cpu *cpu;   /* L1's VMX processor as KVM emulates it; created at L1's first VMX
	                          instruction, NULL before (and after userspace changed caps) */
	struct vmx_caps caps;  /* the capability MSRs L1 reads (vmx->nested.msrs) */
	uint64_t misc_cleared; /* IA32_VMX_MISC bits userspace cleared with KVM_SET_MSRS */
};

struct kvm_vcpu {
	struct kvm_vm *kvm;
	hvsim_vcpu *v;
	unsigned index;
	struct lapic *lapic;
	sim_ev_handle timer; /* engine event of the LAPIC timer, 0: none */
	uint64_t timer_at;   /* its deadline, ns */
	/* VMX */
	uint64_t vmxon_pa, vmcs_pa, msr_bitmap_pa, vapic_pa, apic_access_pa, pi_desc_pa, ept_pa;
	bool launched;
	bool vmx_broken;     /* an entry failed: the vCPU is stopped */
	uint32_t exec_ctrl;  /* primary processor-based controls as last written */
	uint32_t exec_ctrl2; /* secondary controls as last written */
	uint32_t pin_ctrl;
	bool apicv_active;
	bool irq_window; /* interrupt-window exiting requested */
	/* pending re-injection from IDT-vectoring information (vmx_complete_interrupts) */
	uint32_t reinject_info, reinject_err, reinject_len;
	bool halted;          /* blocked in kvm_vcpu_halt */
	int8_t apicv_request; /* KVM_REQ_APICV_UPDATE: -1 none, 0 inhibit, 1 activate */
	uint64_t misc_msr[8]; /* a few MSRs the guest may read back: index in misc_idx */
	uint32_t misc_idx[8];
	unsigned n_misc;
	uint64_t tsc_offset;
	struct kvm_nested nested;
	struct pmu *pmu;         /* the guest's vPMU (kvm_pmu.c) */
	uint64_t pmu_insns;      /* the VM's instructions retired when the vPMU last counted */
	sim_ev_handle pmu_timer; /* engine event at the predicted overflow, 0: none */
};

/* Messages the userspace I/O APIC's throttle holds back until the delayed service (kvm_ioapic.c).
 */
struct kvm_held {
	unsigned n; /* messages in msg[] */
	struct lapic_irq msg[KVM_IOAPIC_GSIS];
};

/* The VMM's userspace I/O APIC for split irqchip: QEMU's ioapic.c semantics. */
struct kvm_user_ioapic {
	struct ioapic *io;
	uint32_t successive[KVM_IOAPIC_GSIS]; /* QEMU irq_eoi[]: re-deliveries in a row per pin */
	sim_ev_handle delayed;                /* pending delayed service, 0: none */
};

struct kvm_vm {
	hvsim_vm *vm;
	unsigned n;
	bool split;                  /* machine.irqchip == split */
	bool apicv_allowed;          /* machine.apicv */
	struct ioapic *ioapic;       /* the I/O APIC (in-kernel, or the VMM's for split irqchip) */
	struct kvm_user_ioapic user; /* its throttle state */
	struct kvm_held *user_held;  /* allocated at the first throttled message, NULL before */
	/* quirks */
	uint8_t split_eoi;    /* enum kvm_split_eoi */
	bool lvtt_restart;    /* lvtt_periodic_restart = restart */
	bool timing_leaf;     /* cpuid_timing_leaf = present */
	bool svi_update;      /* apicv_activation_svi = update */
	bool misc_hlt_always; /* nvmx_vmx_misc_hlt = always */
	bool tdx_insn_ud;     /* tdx_insn_exit = ud */
	/* nested VMX (machine.nested, KVM's nested=1) */
	bool nested;
	struct vmx_caps nested_supported; /* what KVM can emulate for L1: the kvm-nested profile */
	struct vmcs_store *vmcs12s;       /* L1's VMCSs */
	/* guest pages whose EPT entries the host zapped (MMU-notifier invalidation), each mapped as
	 * an engine MMIO region so that the next access exits; 0: slot free */
	uint64_t zapped[KVM_ZAP_SLOTS];
	struct kvm_vcpu vcpus[]; /* n of them, allocated with the VM (up to KVM_MAX_VCPUS) */
};

/* kvm.c */
struct kvm_vcpu *kvm_vcpu_of(struct kvm_vm *kvm, hvsim_vcpu *v);

/* kvm_vmcs.c */
enum hvsim_status kvm_vmcs_setup(struct kvm_vcpu *kv);
void kvm_vmcs_write(struct kvm_vcpu *kv, uint64_t field, uint64_t value);
uint64_t kvm_vmcs_read(struct kvm_vcpu *kv, uint64_t field);
void kvm_set_exec_ctrl(struct kvm_vcpu *kv, uint32_t bits, bool on);
void kvm_set_exec_ctrl2(struct kvm_vcpu *kv, uint32_t bits, bool on);
void kvm_msr_bitmap_x2apic(struct kvm_vcpu *kv, bool passthrough);
/* The guest's architectural state into the guest-state area, CR0/CR4 through KVM's ownership (the
 * guest's values in the read shadows), and back out (GPRs from the vCPU). Can't fail. */
void kvm_vmcs_load_guest(struct kvm_vcpu *kv, const struct cpu_state *s);
void kvm_vmcs_save_guest(struct kvm_vcpu *kv, struct cpu_state *s);

/* kvm_exit.c */
void kvm_handle_exit(struct kvm_vcpu *kv);
void kvm_skip_instruction(struct kvm_vcpu *kv);
void kvm_inject_gp(struct kvm_vcpu *kv);
void kvm_inject_ud(struct kvm_vcpu *kv);

/* kvm_lapic.c */
enum hvsim_status kvm_lapic_create(struct kvm_vcpu *kv);
/* LVR[24] follows split_irqchip_eoi_broadcast again (hvsim_vm_reload, before the VM ran). */
void kvm_lapic_set_directed_eoi(struct kvm_vcpu *kv);
bool kvm_lapic_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value);
bool kvm_lapic_msr_write(struct kvm_vcpu *kv, uint32_t msr, uint64_t value);
void kvm_lapic_mmio(struct kvm_vcpu *kv, uint64_t offset, unsigned size, bool write,
                    uint64_t *value);
void kvm_lapic_after(struct kvm_vcpu *kv, const struct lapic_result *res);
void kvm_lapic_timer_fire(struct kvm_vcpu *kv);
void kvm_lapic_eoi_virtualized(struct kvm_vcpu *kv, uint8_t vector);

/* kvm_irq.c */
void kvm_deliver_msg(struct kvm_vm *kvm, int src, const struct lapic_irq *msg);
void kvm_deliver_msi(struct kvm_vm *kvm, uint64_t addr, uint64_t data);
void kvm_inject_pending(struct kvm_vcpu *kv);
bool kvm_has_pending(struct kvm_vcpu *kv);
void kvm_complete_interrupts(struct kvm_vcpu *kv);

/* kvm_ioapic.c */
enum hvsim_status kvm_ioapic_create(struct kvm_vm *kvm);
void kvm_ioapic_destroy(struct kvm_vm *kvm);
void kvm_ioapic_set_line(struct kvm_vm *kvm, uint32_t gsi, uint8_t level);
void kvm_ioapic_lapic_eoi(struct kvm_vcpu *kv, uint8_t vector);
bool kvm_ioapic_mmio(struct kvm_vcpu *kv, uint64_t gpa, unsigned size, bool write, uint64_t *value);
void kvm_ioapic_delayed(struct kvm_vm *kvm);
/* A KVM_EXIT_* round trip to the VMM's userspace: traced, and its time charged. */
void kvm_userspace_exit(struct kvm_vcpu *kv, const char *reason, const char *key, uint64_t value);

/* kvm_apicv.c */
void kvm_apicv_set(struct kvm_vcpu *kv, bool active);
void kvm_apicv_pull(struct kvm_vcpu *kv);
void kvm_apicv_push(struct kvm_vcpu *kv);
/* APICv active: SVI = the model's highest in-service vector, after an ISR change KVM emulated. */
void kvm_apicv_isr_update(struct kvm_vcpu *kv);
/* x2APIC virtualization and MSR pass-through follow the guest's APIC mode (x2APIC only). */
void kvm_apicv_update_mode(struct kvm_vcpu *kv);

/* kvm_ept.c */
enum hvsim_status kvm_ept_zap(struct kvm_vm *kvm, uint64_t gpa);
/* A guest access (or event delivery) hit a zapped page: map it back; false when gpa is not one. */
bool kvm_ept_fault_in(struct kvm_vcpu *kv, uint64_t gpa);
/* Whether gpa's page, which kvm_ept_fault_in found not zapped, is guest RAM again (not the xAPIC
 * or I/O APIC page): an EPT violation taken while it was zapped, handled after another vCPU
 * faulted it in. */
bool kvm_ept_spurious(uint64_t gpa);

/* kvm_nested.c */
/* Loads the capabilities KVM emulates and creates the vmcs12 store; HVSIM_E_NOMEM, or
 * HVSIM_E_INTERNAL when the kvm-nested profile does not load. No-op without machine.nested. */
enum hvsim_status kvm_nested_init(struct kvm_vm *kvm);
void kvm_nested_fini(struct kvm_vm *kvm);
/* The capability MSRs a new vCPU's L1 reads. Can't fail. */
void kvm_nested_vcpu_init(struct kvm_vcpu *kv);
/* RDMSR of IA32_VMX_BASIC..IA32_VMX_PROCBASED_CTLS3 by L1: false when #GP (no nested VMX, or an
 * MSR the capabilities lack). */
bool kvm_nested_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value);
/* Whether L1 may load cr4 (its own view): VMXE only with nested VMX, and kept while in VMX
 * operation (vmx_is_valid_cr4). */
bool kvm_nested_cr4_valid(struct kvm_vcpu *kv, uint64_t cr4);
/* A VMX instruction exit (reasons 19-27, 50, 53) from L1: emulated, or #UD without nested VMX. */
void kvm_nested_vmx_exit(struct kvm_vcpu *kv, unsigned reason);
/* Userspace KVM_SET_MSRS(IA32_VMX_MISC, supported & ~bits) (vmx_restore_vmx_misc):
 * HVSIM_E_UNSUPPORTED without nested VMX, HVSIM_E_INPUT while L1 is in VMX operation (-EBUSY)
 * or when bits would change the timer rate or the MSEG revision (-EINVAL). */
enum hvsim_status kvm_nested_misc_clear(struct kvm_vcpu *kv, uint64_t bits);
/* get_vmx_mem_address: the linear address of a VMX instruction's memory operand from the VM-exit
 * instruction information, the exit qualification (displacement), the GPRs and the segment's
 * base (SDM 28.2.4, 3.7.5). Can't fail. */
uint64_t kvm_nested_operand_addr(uint32_t info, uint64_t qual, const uint64_t gpr[GPR_COUNT],
                                 uint64_t seg_base, bool long_mode);

/* kvm_valid.c: validity of guest writes KVM emulates into the VMCS; false: the write raises #GP.
 * kvm_cr0_check also drops the bits writes ignore and sets ET; kvm_efer_check keeps EFER.LMA. */
bool kvm_cr0_check(struct kvm_vcpu *kv, uint64_t *cr0);
bool kvm_cr4_check(struct kvm_vcpu *kv, uint64_t cr4);
bool kvm_efer_check(struct kvm_vcpu *kv, uint64_t *efer);
bool kvm_pat_valid(uint64_t pat);

/* kvm_snapshot.c: struct hvsim_hv_ops snapshot, restore and snapshot_free */
void *kvm_snapshot(void *priv);
enum hvsim_status kvm_restore(void *priv, const void *snap);
void kvm_snapshot_free(void *snap);

/* kvm_check.c: the named invariants (struct hvsim_hv_ops check_invariants) */
const char *kvm_check_invariants(void *priv, char *why, size_t cap);

/* kvm_pmu.c: the vPMU. kvm_pmu_create: HVSIM_E_NOMEM when out of memory. kvm_pmu_msr_read/write:
 * false when msr is not a PMU MSR, else *ok false means #GP. kvm_pmu_account counts the guest
 * instructions retired since the last call (at every exit and at the overflow timer) and delivers
 * a PMI; kvm_pmu_rdpmc emulates an RDPMC exit; kvm_pmu_cpuid fills leaf 0xA. None fails
 * otherwise. */
enum hvsim_status kvm_pmu_create(struct kvm_vcpu *kv);
bool kvm_pmu_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value, bool *ok);
bool kvm_pmu_msr_write(struct kvm_vcpu *kv, uint32_t msr, uint64_t value, bool *ok);
void kvm_pmu_account(struct kvm_vcpu *kv);
void kvm_pmu_overflow_timer(struct kvm_vcpu *kv);
void kvm_pmu_rdpmc(struct kvm_vcpu *kv);
void kvm_pmu_cpuid(struct kvm_vcpu *kv, uint32_t leaf, uint32_t out[4]);

/* kvm_cpuid.c */
void kvm_cpuid(struct kvm_vcpu *kv, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
