/* The hand-made seeds of fuzz_hv_transitions: operation lists that reach the states random bytes
 * rarely do, above all the three Windows/APICv bug patterns in script form (a level interrupt with
 * Directed EOI on a split irqchip; a one-shot timer switched to periodic; APICv activated while a
 * vector is in service), each with the quirk value that shows the bug and the one that fixes it,
 * plus IPIs and MSIs on two vCPUs, xAPIC MMIO, the I/O APIC and pc-testdev lines, the TSC-deadline
 * timer, IA32_APIC_BASE transitions, MOV to CR, exits of every kind, APICv toggling, and code
 * guests with EPT zaps. fuzz/fzgen encodes them into fuzz/corpus/fuzz_hv_transitions/, and
 * tests/test_fuzz_hvt.c runs each one and checks that it gets where its name says (want). */
#include "fz_hvt_seeds.h"

#include <hvsim/exit_reason.h>
#include <hvsim/guest_op.h>
#include <hvsim/scenario.h>

#include <stdio.h>
#include <string.h>

/* Operation builders, named after what they do (kept out of clang-format). */
/* clang-format off */
#define WRMSR(m, v)    {.kind = FZ_HVT_MSR_WRITE, .reg = (m), .value = (v)}
#define RDMSR(m)       {.kind = FZ_HVT_MSR_READ, .reg = (m)}
#define APIC_BASE(v)   {.kind = FZ_HVT_APIC_BASE, .value = (v)}
#define X2APIC_ON      APIC_BASE(0xfee00c00) /* EN | EXTD (SDM 11.12.1) */
#define SPIV(v)        WRMSR(0x80f, (v))
#define MMIO_W(off, v) {.kind = FZ_HVT_XAPIC_WRITE, .reg = (off), .size = 4, .value = (v)}
#define MMIO_R(off)    {.kind = FZ_HVT_XAPIC_READ, .reg = (off), .size = 4}
#define RTE(pin, lo, d) {.kind = FZ_HVT_IOAPIC_RTE, .reg = (pin), .value = (lo), \
                         .value2 = (uint64_t)(d) << 24}
#define IO_W(off, v)   {.kind = FZ_HVT_IOAPIC_WRITE, .reg = (off), .size = 4, .value = (v)}
#define IO_R(off)      {.kind = FZ_HVT_IOAPIC_READ, .reg = (off), .size = 4}
#define EOI_X2         {.kind = FZ_HVT_EOI, .sub = FZ_EOI_X2APIC}
#define EOI_XAPIC      {.kind = FZ_HVT_EOI, .sub = FZ_EOI_XAPIC}
#define EOI_IO(v)      {.kind = FZ_HVT_EOI, .sub = FZ_EOI_IOAPIC, .vector = (v)}
#define OUT(p, s, v)   {.kind = FZ_HVT_OUT, .reg = (p), .size = (s), .value = (v)}
#define IN(p, s)       {.kind = FZ_HVT_IN, .reg = (p), .size = (s)}
#define CPUID(l)       {.kind = FZ_HVT_CPUID, .reg = (l)}
#define INSN(x)        {.kind = FZ_HVT_INSN, .sub = FZ_INSN_##x}
#define HLT            INSN(HLT)
#define COMPUTE(n)     {.kind = FZ_HVT_COMPUTE, .value = (n)}
#define MOV_CR(c, v)   {.kind = FZ_HVT_MOV_CR, .cr = (c), .value = (v)}
#define VMCALL(v)      {.kind = FZ_HVT_VMCALL, .value = (v)}
#define RDPMC(c)       {.kind = FZ_HVT_RDPMC, .reg = (c)}
#define HANDLER(v)     {.kind = FZ_HVT_HANDLER, .vector = (v)}
#define MAIN           {.kind = FZ_HVT_MAIN}
#define REPEAT(n)      {.kind = FZ_HVT_REPEAT, .value = (n)}
#define LINE(dt, gsi, lvl) {.kind = FZ_HVT_LINE, .dt_ns = (dt), .reg = (gsi), .value = (lvl)}
#define MSI(dt, dest, vec) {.kind = FZ_HVT_MSI, .dt_ns = (dt), \
                            .value = 0xfee00000u | (uint64_t)(dest) << 12, .value2 = (vec)}
#define HOST(dt, what, cpu, arg) {.kind = FZ_HVT_HOST, .dt_ns = (dt), .sub = FZ_HOST_##what, \
                                  .vcpu = (cpu), .value = (arg)}
/* L1 VMX (fz_hvt_vmx.c): memory operands in the instruction's slot, stored there first */
#define VSLOT(i)       (FZ_VMX_OPERAND_GPA + 16u * GVMX_##i)
#define VM64(i, ptr)   {.kind = FZ_HVT_VMX, .sub = GVMX_##i, .value = (ptr), .addr = VSLOT(i), \
                        .flags = SCRIPT_VMX_MEM | SCRIPT_VMX_STORE}
#define VMXON          VM64(VMXON, FZ_VMX_VMXON_GPA)
#define VMCLEAR(p)     VM64(VMCLEAR, (p))
#define VMPTRLD(p)     VM64(VMPTRLD, (p))
#define VMPTRST        {.kind = FZ_HVT_VMX, .sub = GVMX_VMPTRST, .addr = VSLOT(VMPTRST), \
                        .flags = SCRIPT_VMX_MEM}
#define VMWRITE(f, v)  {.kind = FZ_HVT_VMX, .sub = GVMX_VMWRITE, .field = (f), .value = (v)}
#define VMREAD(f)      {.kind = FZ_HVT_VMX, .sub = GVMX_VMREAD, .field = (f)}
#define VMREAD_M(f)    {.kind = FZ_HVT_VMX, .sub = GVMX_VMREAD, .field = (f), .addr = VSLOT(VMREAD), \
                        .flags = SCRIPT_VMX_MEM}
#define VMX_INV(i, t, lo, hi) {.kind = FZ_HVT_VMX, .sub = GVMX_##i, .field = (t), .value = (lo), \
                               .value2 = (hi), .addr = VSLOT(i), \
                               .flags = SCRIPT_VMX_MEM | SCRIPT_VMX_STORE}
#define VMX0(i)        {.kind = FZ_HVT_VMX, .sub = GVMX_##i}
/* A vmcs12 whose launch reaches KVM's nested entry: fz_hvt_vmx.c's launch table, for a machine
 * whose page tables (CR3) and stacks start at top (RAM top - 128 KiB). */
#define VMCS12_VALID(top) \
    VMWRITE(0x4000, 0x16), VMWRITE(0x4002, 0x40061f2), VMWRITE(0x400c, 0x36ffb), \
    VMWRITE(0x4012, 0x13fb), VMWRITE(0x6c00, 0x80000031), VMWRITE(0x6800, 0x80000031), \
    VMWRITE(0x6c02, (top)), VMWRITE(0x6802, (top)), VMWRITE(0x6c04, 0x2620), \
    VMWRITE(0x6804, 0x2620), VMWRITE(0x6c0c, 0x1000), VMWRITE(0x6816, 0x1000), \
    VMWRITE(0x4810, 0x2f), VMWRITE(0x6c0e, 0x2000), VMWRITE(0x6818, 0x2000), \
    VMWRITE(0x4812, 0xfff), VMWRITE(0x0c00, 0x10), VMWRITE(0x0c02, 0x08), \
    VMWRITE(0x0c04, 0x10), VMWRITE(0x0c06, 0x10), VMWRITE(0x0c08, 0x10), \
    VMWRITE(0x0c0a, 0x10), VMWRITE(0x0c0c, 0x28), VMWRITE(0x6c16, FZ_HVT_CODE_GPA), \
    VMWRITE(0x6c14, (top)), VMWRITE(0x0800, 0x10), VMWRITE(0x0802, 0x08), \
    VMWRITE(0x0804, 0x10), VMWRITE(0x0806, 0x10), VMWRITE(0x0808, 0x10), \
    VMWRITE(0x080a, 0x10), VMWRITE(0x080e, 0x28), VMWRITE(0x4800, 0xffffffff), \
    VMWRITE(0x4802, 0xffffffff), VMWRITE(0x4804, 0xffffffff), VMWRITE(0x4806, 0xffffffff), \
    VMWRITE(0x4808, 0xffffffff), VMWRITE(0x480a, 0xffffffff), VMWRITE(0x480e, 0x67), \
    VMWRITE(0x4814, 0xc093), VMWRITE(0x4816, 0xa09b), VMWRITE(0x4818, 0xc093), \
    VMWRITE(0x481a, 0xc093), VMWRITE(0x481c, 0xc093), VMWRITE(0x481e, 0xc093), \
    VMWRITE(0x4820, 0x10000), VMWRITE(0x4822, 0x8b), VMWRITE(0x681a, 0x400), \
    VMWRITE(0x681c, (top)), VMWRITE(0x681e, 0x9000), VMWRITE(0x6820, 0x2), \
    VMWRITE(0x2800, UINT64_MAX)
/* clang-format on */

#define SPIV_ON       0x1ff  /* software enabled, spurious vector 0xff */
#define SPIV_DIRECTED 0x11ff /* and Directed EOI: suppress EOI broadcasts (SDM 11.8.5) */
#define LVL           0x8000 /* RTE: level-triggered (82093AA 3.2.4) */
#define ONESHOT(v)    (v)
#define PERIODIC(v)   (0x20000 | (v))
#define TSC_DL(v)     (0x40000 | (v))
#define ICR_SELF(v)   (0x44000 | (v)) /* fixed, assert, shorthand self (SDM 11.6.1) */
#define ICR_OTHERS(v) (0xc4000 | (v)) /* fixed, assert, all excluding self */
#define TDCR_1        0xb             /* divide by 1 */

static const struct fz_hvt_op directed_eoi_storm[] = {
    X2APIC_ON,
    SPIV(SPIV_DIRECTED),
    RTE(10, LVL | 0x31, 0),
    HANDLER(0x31),
    EOI_X2,
    COMPUTE(200),
    MAIN,
    REPEAT(20),
    HLT,
    LINE(20000, 10, 1),
};

/* Windows: LAPIC EOI in the ISR, the device serviced later (line low), then the I/O APIC EOI */
static const struct fz_hvt_op directed_eoi_windows[] = {
    X2APIC_ON,
    SPIV(SPIV_DIRECTED),
    RTE(10, LVL | 0x31, 0),
    HANDLER(0x31),
    EOI_X2,
    MAIN,
    HLT,
    COMPUTE(60000),
    EOI_IO(0x31),
    HLT,
    COMPUTE(1000),
    EOI_IO(0x31),
    LINE(20000, 10, 1),
    LINE(40000, 10, 0),
    LINE(40000, 10, 1),
};

/* a one-shot timer expires, then LVTT turns periodic without a TMICT write */
static const struct fz_hvt_op lvtt_switch[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    WRMSR(0x83e, TDCR_1),
    WRMSR(0x832, ONESHOT(0x40)),
    WRMSR(0x838, 1000),
    HANDLER(0x40),
    EOI_X2,
    MAIN,
    HLT,
    WRMSR(0x832, PERIODIC(0x40)),
    HLT,
    HLT,
};

/* vector 0xec in service (injected with APICv off) when APICv is activated */
static const struct fz_hvt_op apicv_in_service[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    WRMSR(0x83e, TDCR_1),
    WRMSR(0x832, ONESHOT(0xec)),
    WRMSR(0x838, 5000),
    HANDLER(0xec),
    COMPUTE(30000),
    EOI_X2,
    MAIN,
    HLT,
    WRMSR(0x838, 5000),
    HLT,
    COMPUTE(1000),
    HOST(20000, ACTIVATE, -1, 0),
};

static const struct fz_hvt_op ipi_msi[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    HANDLER(0x50),
    EOI_X2,
    MAIN,
    HANDLER(0x41),
    EOI_X2,
    MAIN,
    HANDLER(0x30),
    EOI_X2,
    MAIN,
    WRMSR(0x830, ICR_SELF(0x50)),
    WRMSR(0x830, ICR_OTHERS(0x41)),
    WRMSR(0x83f, 0x50),
    HLT,
    HLT,
    MSI(10000, 0, 0x30),
    MSI(5000, 1, 0x30),
    MSI(5000, 0xff, 0x30),
};

static const struct fz_hvt_op xapic_periodic[] = {
    MMIO_W(0xf0, SPIV_ON),
    MMIO_W(0x3e0, TDCR_1),
    MMIO_W(0x320, PERIODIC(0x30)),
    MMIO_W(0x380, 5000),
    HANDLER(0x30),
    EOI_XAPIC,
    MMIO_R(0x390),
    MAIN,
    REPEAT(4),
    HLT,
    MMIO_W(0x320, 0x10030),
};

/* pc-testdev raises and lowers pin 3; the guest reads the I/O APIC back through IOREGSEL/IOWIN */
static const struct fz_hvt_op ioapic_testdev[] = {
    X2APIC_ON,  SPIV(SPIV_ON),     RTE(3, 0x32, 0),   HANDLER(0x32), EOI_X2,
    MAIN,       OUT(0x2003, 1, 1), IO_W(0x00, 0x01),  IO_R(0x10),    IO_W(0x00, 0x16),
    IO_R(0x10), OUT(0x2003, 1, 0), OUT(0x2003, 1, 1), COMPUTE(100),
};

/* one exit of each kind the kvm algorithm handles; RDPMC reads the vPMU's PMC0 */
static const struct fz_hvt_op exits[] = {
    CPUID(0x0),
    CPUID(0x1),
    CPUID(0x40000000),
    CPUID(0x40000010),
    CPUID(0x80000008),
    INSN(RDTSC),
    INSN(RDTSCP),
    VMCALL(1),
    IN(0x80, 1),
    OUT(0xe9, 4, 0x1234),
    INSN(WBINVD),
    INSN(PAUSE),
    RDMSR(0x10),
    RDMSR(0xc0000080),
    WRMSR(0x277, 0x0007040600070406),
    WRMSR(0xc0000080, 0xd01),
    RDPMC(0),
};

/* MONITOR and MWAIT exit (KVM's MONITOR/MWAIT exiting) and are skipped, INVLPG runs (no INVLPG
 * exiting with EPT), INVD exits, RDRAND/RDSEED run; XSETBV with CR4.OSXSAVE clear is #UD, which
 * ends the script */
static const struct fz_hvt_op wait_ops[] = {
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_MONITOR, .value = 0x8000},
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_MWAIT, .value2 = 0x20, .reg = 1},
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_INVLPG, .value = 0x2000},
    INSN(INVD),
    INSN(RDRAND),
    INSN(RDSEED),
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_XSETBV, .value = 0x3},
};

/* a non-TD guest's TDCALL on a TDX-capable processor (Sapphire Rapids): exit 77, KVM injects #UD
 * (KVM commit 9d7dfb95da2c), which ends the script */
static const struct fz_hvt_op tdcall_ops[] = {
    CPUID(0x21),
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_TDCALL, .value = 1},
};

/* the same for SEAMCALL (exit 76): TDH.MNG.CREATE from a non-TD guest */
static const struct fz_hvt_op seamcall_ops[] = {
    CPUID(0x21),
    {.kind = FZ_HVT_INSN, .sub = FZ_INSN_SEAMCALL, .value = 9},
};

/* the timer interrupt's delivery pushes onto a zapped stack page: EPT violation, re-injection;
 * twice, the page zapped again after KVM faulted it back in */
static const struct fz_hvt_op code_zap[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    WRMSR(0x83e, TDCR_1),
    WRMSR(0x832, ONESHOT(0x40)),
    WRMSR(0x838, 10000),
    HANDLER(0x40),
    EOI_X2,
    MAIN,
    HLT,
    COMPUTE(5000),
    WRMSR(0x838, 10000),
    HLT,
    HOST(5000, ZAP, 0, 0x1df000),
    HOST(35000, ZAP, 0, 0x1df000),
};

static const struct fz_hvt_op apicv_toggle[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    HANDLER(0x50),
    EOI_X2,
    MAIN,
    WRMSR(0x83f, 0x50),
    COMPUTE(20000),
    WRMSR(0x83f, 0x50),
    COMPUTE(20000),
    WRMSR(0x830, ICR_SELF(0x50)),
    COMPUTE(1000),
    HOST(10000, INHIBIT, -1, 0),
    HOST(20000, ACTIVATE, 0, 0),
};

static const struct fz_hvt_op tsc_deadline[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    WRMSR(0x832, TSC_DL(0x41)),
    WRMSR(0x6e0, 20000),
    HANDLER(0x41),
    EOI_X2,
    MAIN,
    HLT,
    RDMSR(0x6e0),
};

/* xAPIC, x2APIC, disabled, xAPIC, x2APIC, then the invalid x2APIC -> xAPIC (#GP, SDM 11.12.5) */
static const struct fz_hvt_op apic_base[] = {
    RDMSR(0x1b),           MMIO_R(0x30), X2APIC_ON, RDMSR(0x803),          APIC_BASE(0),
    APIC_BASE(0xfee00800), MMIO_R(0x20), X2APIC_ON, APIC_BASE(0xfee00800),
};

/* CR8 and CR4 without exits (TPR shadow, guest-owned bits), CR0.NE clear: an exit KVM emulates,
 * then clearing CR0.PG in 64-bit mode: #GP */
static const struct fz_hvt_op mov_cr[] = {
    MOV_CR(8, 0x5),        MOV_CR(4, 0x6a0), MOV_CR(0, 0x80050033), MOV_CR(4, 0x620), MOV_CR(8, 0),
    MOV_CR(0, 0x80000011), CPUID(0x1),       MOV_CR(0, 0x31),
};

static const struct fz_hvt_op split_ioapic[] = {
    X2APIC_ON,
    SPIV(SPIV_ON),
    IO_W(0x00, 0x01),
    IO_R(0x10),
    RTE(5, LVL | 0x35, 0),
    HANDLER(0x35),
    EOI_X2,
    COMPUTE(100),
    MAIN,
    HLT,
    EOI_IO(0x35),
    COMPUTE(100),
    LINE(10000, 5, 1),
    LINE(30000, 5, 0),
};

#define SCRIPT_TOP 0xe0000u  /* 1 MiB of RAM - 128 KiB */
#define CODE_TOP   0x1e0000u /* 2 MiB - 128 KiB */
#define VMCS_A     FZ_VMX_VMCS_GPA
#define VMCS_B     (FZ_VMX_VMCS_GPA + 0x1000u)

/* A complete L1 flow: VMXON, VMCLEAR, VMPTRLD, a valid vmcs12, VMREAD (register and memory),
 * VMPTRST, INVEPT and INVVPID (global), VMLAUNCH: KVM's nested entry and the differential. */
#define L1_LAUNCH(top)                                                                      \
	VMXON, VMCLEAR(VMCS_A), VMPTRLD(VMCS_A), VMCS12_VALID(top), VMREAD(0x681e),         \
	    VMREAD_M(0x4002), VMPTRST, VMX_INV(INVEPT, 2, 0, 0), VMX_INV(INVVPID, 2, 0, 0), \
	    VMX0(VMLAUNCH)
static const struct fz_hvt_op l1_launch_ops[] = {L1_LAUNCH(SCRIPT_TOP)};
static const struct fz_hvt_op code_l1_launch_ops[] = {L1_LAUNCH(CODE_TOP)};

/* The failure paths of an L1 flow (SDM 31.4 VM-instruction error numbers): VMLAUNCH of an empty
 * vmcs12 (VMfailValid 7), VMRESUME of a clear one (5), VMREAD of VM_INSTRUCTION_ERROR, VMPTRLD of
 * the VMXON region (10) and of a misaligned pointer (9), VMXON in VMX operation (15), a VMWRITE to
 * the read-only VM_EXIT_REASON (accepted: kvm-nested reports VMWRITE to every field), an INVEPT of
 * a reserved type (28), VMCLEAR, VMXOFF, then VMPTRLD outside VMX operation (#UD). */
static const struct fz_hvt_op l1_vmfail_ops[] = {
    VMXON,
    VMCLEAR(VMCS_B),
    VMPTRLD(VMCS_B),
    VMX0(VMLAUNCH),
    VMREAD(0x4400),
    VMX0(VMRESUME),
    VMREAD_M(0x4400),
    VMPTRLD(FZ_VMX_VMXON_GPA),
    VMPTRLD(VMCS_B + 4),
    VMXON,
    VMWRITE(0x4402, 1),
    VMX_INV(INVEPT, 0, 0x1e, 0),
    VMCLEAR(VMCS_B),
    VMX0(VMXOFF),
    VMPTRLD(VMCS_B),
};

/* VMX operations without nested VMX: KVM injects #UD for each (handle_vmx_instruction). */
static const struct fz_hvt_op vmx_off_ops[] = {VMXON};

#define OPS(a) (a), sizeof(a) / sizeof((a)[0])

static const struct fz_hvt_seed seeds[] = {
    {"directed-eoi-split-quirked",
     1,
     true,
     false,
     false,
     0,
     "split_irqchip_eoi_broadcast=quirked",
     OPS(directed_eoi_storm),
     {.injections = 10},
     false,
     false},
    {"directed-eoi-split-suppress",
     1,
     true,
     false,
     false,
     0,
     "",
     OPS(directed_eoi_windows),
     {.injections = 2, .eois = 2},
     false,
     false},
    {"lvtt-oneshot-to-periodic",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(lvtt_switch),
     {.timer_fires = 1, .eois = 1, .finding = "idle_hang"},
     false,
     false},
    {"lvtt-oneshot-to-periodic-restart",
     1,
     false,
     false,
     false,
     0,
     "lvtt_periodic_restart=restart",
     OPS(lvtt_switch),
     {.timer_fires = 3, .eois = 3},
     false,
     false},
    {"apicv-activation-in-service",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(apicv_in_service),
     {.injections = 2, .eois = 2},
     false,
     false},
    {"apicv-activation-in-service-stale",
     1,
     false,
     false,
     false,
     0,
     "apicv_activation_svi=stale",
     OPS(apicv_in_service),
     {.injections = 1, .finding = "invariant_violation"},
     false,
     false},
    {"ipi-msi-two-vcpus",
     2,
     false,
     false,
     false,
     1,
     "",
     OPS(ipi_msi),
     {.injections = 4},
     false,
     false},
    {"xapic-periodic-mmio",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(xapic_periodic),
     {.timer_fires = 4, .eois = 4},
     false,
     false},
    {"ioapic-testdev-edge",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(ioapic_testdev),
     {.injections = 2},
     false,
     false},
    {"exits-of-every-kind",
     1,
     false,
     false,
     false,
     2,
     "cpuid_timing_leaf=present",
     OPS(exits),
     {.exit_reason = EXIT_REASON_CPUID, .exits_of_reason = 5},
     false,
     false}, /* RDPMC(0): the vPMU's PMC0 */
    {"code-timer-ept-zap",
     1,
     false,
     false,
     true,
     0,
     "",
     OPS(code_zap),
     {.injections = 2, .exit_reason = EXIT_REASON_EPT_VIOLATION, .exits_of_reason = 2},
     false,
     false},
    {"apicv-inhibit-activate",
     1,
     false,
     true,
     false,
     0,
     "",
     OPS(apicv_toggle),
     {.injections = 3},
     false,
     false},
    {"tsc-deadline",
     1,
     false,
     false,
     false,
     1,
     "",
     OPS(tsc_deadline),
     {.timer_fires = 1},
     false,
     false},
    {"apic-base-transitions",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(apic_base),
     {.exit_reason = EXIT_REASON_RDMSR, .exits_of_reason = 2, .finding = "guest_fault"},
     false,
     false},
    {"mov-cr",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(mov_cr),
     {.exit_reason = EXIT_REASON_CR_ACCESS, .exits_of_reason = 2, .finding = "guest_fault"},
     false,
     false},
    {"split-ioapic-mmio",
     1,
     true,
     false,
     false,
     0,
     "",
     OPS(split_ioapic),
     {.injections = 1},
     false,
     false},
    {"wait-cache-rand",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(wait_ops),
     {.exit_reason = EXIT_REASON_MONITOR, .exits_of_reason = 1, .finding = "guest_fault"},
     false,
     false},
    {"tdcall-non-td",
     1,
     false,
     false,
     false,
     1,
     "",
     OPS(tdcall_ops),
     {.exit_reason = EXIT_REASON_TDCALL, .exits_of_reason = 1, .finding = "guest_fault"},
     false,
     false},
    {"seamcall-non-td",
     1,
     false,
     false,
     false,
     1,
     "",
     OPS(seamcall_ops),
     {.exit_reason = EXIT_REASON_SEAMCALL, .exits_of_reason = 1, .finding = "guest_fault"},
     false,
     false},
    {"code-wait-cache-rand",
     1,
     false,
     false,
     true,
     0,
     "",
     OPS(wait_ops),
     {.exit_reason = EXIT_REASON_MWAIT, .exits_of_reason = 1, .finding = "guest_fault"},
     false,
     false},
    {"nvmx-l1-launch",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(l1_launch_ops),
     {.exit_reason = EXIT_REASON_VMLAUNCH, .exits_of_reason = 1},
     true,
     true},
    {"code-nvmx-l1-launch",
     1,
     false,
     false,
     true,
     0,
     "",
     OPS(code_l1_launch_ops),
     {.exit_reason = EXIT_REASON_VMLAUNCH, .exits_of_reason = 1},
     true,
     true},
    {"nvmx-l1-vmfail",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(l1_vmfail_ops),
     {.exit_reason = EXIT_REASON_VMXOFF, .exits_of_reason = 1, .finding = "guest_fault"},
     true,
     true},
    {"vmx-without-nested",
     1,
     false,
     false,
     false,
     0,
     "",
     OPS(vmx_off_ops),
     {.exit_reason = EXIT_REASON_VMXON, .exits_of_reason = 1, .finding = "guest_fault"},
     false,
     true},
};

#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

size_t fz_hvt_seed_count(void)
{
	return N_SEEDS;
}

const struct fz_hvt_seed *fz_hvt_seed_at(size_t i)
{
	return i < N_SEEDS ? &seeds[i] : NULL;
}

const struct fz_hvt_seed *fz_hvt_seed_named(const char *name)
{
	for (size_t i = 0; i < N_SEEDS; i++)
		if (strcmp(seeds[i].name, name) == 0)
			return &seeds[i];
	return NULL;
}

bool fz_hvt_seed_config(const struct fz_hvt_seed *seed, struct fz_hvt_config *cfg)
{
	const char *p = seed->quirks;
	char name[64], value[64];
	int used = 0;

	fz_hvt_config_default(cfg);
	cfg->vcpus = seed->vcpus;
	cfg->split = seed->split;
	cfg->apicv = seed->apicv;
	cfg->code = seed->code;
	cfg->cpu = seed->cpu;
	cfg->nested = seed->nested;
	cfg->vmx_ops = seed->vmx_ops;
	while (sscanf(p, " %63[^= ]=%63s%n", name, value, &used) == 2) {
		if (!fz_hvt_config_quirk(cfg, name, value))
			return false;
		p += used;
	}
	return true;
}

size_t fz_hvt_seed_bytes(const struct fz_hvt_seed *seed, uint8_t *buf, size_t cap)
{
	struct fz_hvt_config cfg;
	struct fz_out o;

	if (!fz_hvt_seed_config(seed, &cfg))
		return 0;
	fz_out_init(&o, buf, cap);
	fz_hvt_encode_config(&o, &cfg);
	for (size_t k = 0; k < seed->n_ops; k++)
		fz_hvt_encode(&o, &seed->ops[k]);
	return o.overflow ? 0 : o.len;
}
