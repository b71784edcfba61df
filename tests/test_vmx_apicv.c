/* Verifies APIC virtualization (SDM ch. 30) step by step: PPR, TPR, EOI and self-IPI
 * virtualization, evaluation and delivery of virtual interrupts, posted-interrupt processing,
 * virtualized reads and writes of the APIC-access page with APIC-write and APIC-access exits,
 * x2APIC MSR virtualization, and the APICv SVI stall of "KVM: VMX: Update SVI during runtime
 * APICv activation". Each test programs the fixture's VMCS and virtual-APIC page, enters the
 * guest and drives guest operations and events through the model, checking RVI, SVI, VISR,
 * VIRR and VPPR after each step. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))
#define APIC     VFX_APIC_ACCESS

struct apic_state {
	uint8_t rvi, svi;
	uint32_t vppr;
};

static struct apic_state state(struct vfx *x)
{
	struct apic_state s = {vmx_apicv_rvi(x->cpu), vmx_apicv_svi(x->cpu),
	                       vmx_vapic_read(x->cpu, VAPIC_VPPR)};

	return s;
}

#define EXPECT_STATE(x, rvi_, svi_, vppr_, what)                                                 \
	do {                                                                                     \
		struct apic_state s_ = state(x);                                                 \
		cr_assert(s_.rvi == (rvi_) && s_.svi == (svi_) && s_.vppr == (vppr_),            \
		          "%s: wanted RVI %#x SVI %#x VPPR %#x, got %#x %#x %#x", (what),        \
		          (unsigned)(rvi_), (unsigned)(svi_), (unsigned)(vppr_), s_.rvi, s_.svi, \
		          s_.vppr);                                                              \
	} while (0)

/* APICv fixture: virtual-interrupt delivery with the VIRR/VISR/VTPR given, IF = 1, entered */
static void apicv_enter(struct vfx *x, struct cpu_state *g, uint16_t intr_status,
                        const uint8_t *virr, size_t nvirr)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_apicv(x, false);
	vfx_set(x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vfx_set(x, VMCS_GUEST_INTR_STATUS, intr_status);
	vrt_enter(x, g, &fx);
	for (size_t i = 0; i < nvirr; i++)
		vmx_vapic_set(x->cpu, VAPIC_VIRR, virr[i], true);
	vmx_apicv_evaluate(x->cpu);
}

/* The guest writes 0 to the EOI register through the APIC-access page. */
static void guest_eoi(struct vfx *x, const struct cpu_state *g, struct vmx_op_result *r)
{
	struct guest_op op = vrt_mmio(APIC + VAPIC_VEOI, 4, true, 0);

	vrt_run(x, &op, g, r);
}

static int deliver(struct vfx *x, const struct cpu_state *g)
{
	struct vmx_event_result out;
	struct vmx_pending p = {0};

	vmx_event_exits(x->cpu, g, VRT_TSC, &p, &out);
	return out.action == VMX_EV_DELIVER ? out.event.vector : -1;
}

/* SDM 30.1.3 "PPR Virtualization": VPPR = VTPR when VTPR[7:4] >= SVI[7:4], else SVI & F0H */
Test(vmx_apicv, ppr_virtualization_takes_the_higher_class)
{
	static const struct {
		uint32_t vtpr;
		uint8_t svi;
		uint32_t vppr;
	} rows[] = {{0x00, 0x00, 0x00}, {0x35, 0x31, 0x35}, {0x20, 0x51, 0x50}, {0x5f, 0x51, 0x5f}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;

		apicv_enter(&x, &g, 0, NULL, 0);
		vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, rows[i].vtpr);
		vmx_apicv_set_svi(x.cpu, rows[i].svi);
		vmx_apicv_ppr_virtualize(x.cpu);
		cr_assert_eq(vmx_vapic_read(x.cpu, VAPIC_VPPR), rows[i].vppr,
		             "VTPR %#x SVI %#x: VPPR wanted %#x got %#x", rows[i].vtpr, rows[i].svi,
		             rows[i].vppr, vmx_vapic_read(x.cpu, VAPIC_VPPR));
		vfx_fini(&x);
	}
}

/* SDM 30.2.1: a virtual interrupt is recognized when RVI[7:4] > VPPR[7:4] and interrupt-window
 * exiting is 0 */
Test(vmx_apicv, evaluation_compares_rvi_with_vppr_class)
{
	static const struct {
		uint8_t rvi;
		uint32_t vppr;
		bool intwin, recognized;
	} rows[] = {{0x51, 0x40, false, true},
	            {0x51, 0x50, false, false},
	            {0x51, 0x00, true, false},
	            {0x00, 0x00, false, false}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;

		apicv_enter(&x, &g, 0, NULL, 0);
		vrt_ctl(&x, VRT_PROC, PROC_INTR_WINDOW_EXITING, rows[i].intwin);
		vmx_apicv_set_rvi(x.cpu, rows[i].rvi);
		vfx_write32(&x, VFX_VAPIC + VAPIC_VPPR, rows[i].vppr);
		cr_assert_eq(vmx_apicv_evaluate(x.cpu), rows[i].recognized,
		             "RVI %#x VPPR %#x window %d", rows[i].rvi, rows[i].vppr,
		             rows[i].intwin);
		vfx_fini(&x);
	}
}

/* (a) SDM 30.2.2 then 30.1.4: a virtual interrupt is delivered (VIRR -> VISR, SVI, VPPR, RVI)
 * and the guest's EOI dismisses it (VISR cleared, SVI and VPPR recomputed, evaluation) */
Test(vmx_apicv, virtual_interrupt_delivered_then_eoi_virtualized)
{
	static const uint8_t virr[] = {0x51};
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct vrt_log log = {0};

	apicv_enter(&x, &g, 0x0051, virr, NROWS(virr));
	vmx_cpu_set_step_hook(x.cpu, vrt_log_hook, &log);
	EXPECT_STATE(&x, 0x51, 0, 0x00, "after entry");
	cr_assert(vmx_apicv_recognized(x.cpu), "51H recognized at entry");
	cr_assert_eq(deliver(&x, &g), 0x51, "virtual-interrupt delivery of 51H");
	EXPECT_STATE(&x, 0, 0x51, 0x50, "after delivery");
	cr_assert(vmx_vapic_test(x.cpu, VAPIC_VISR, 0x51) &&
	              !vmx_vapic_test(x.cpu, VAPIC_VIRR, 0x51),
	          "VISR[51H] set, VIRR[51H] clear");
	guest_eoi(&x, &g, &r);
	cr_assert_eq(r.outcome, VMX_OP_DONE, "EOI virtualized without exit, outcome %u", r.outcome);
	EXPECT_STATE(&x, 0, 0, 0x00, "after EOI");
	cr_assert(!vmx_vapic_test(x.cpu, VAPIC_VISR, 0x51), "VISR[51H] cleared");
	cr_assert(vrt_log_find(&log, "virtual-interrupt delivery", 0) >= 0 &&
	              vrt_log_find(&log, "EOI virtualization",
	                           vrt_log_find(&log, "APIC-write emulation", 0)) >= 0 &&
	              vrt_log_find(&log, "evaluate pending virtual interrupts",
	                           vrt_log_find(&log, "EOI virtualization", 0)) >= 0,
	          "step log: delivery, APIC-write emulation, EOI virtualization, evaluation");
	vfx_fini(&x);
}

/* (a) nested: the EOI of the higher vector lets the lower pending one be delivered */
Test(vmx_apicv, eoi_of_higher_vector_lets_lower_pending_vector_through)
{
	static const uint8_t virr[] = {0x51, 0x61};
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;

	apicv_enter(&x, &g, 0x0061, virr, NROWS(virr));
	cr_assert_eq(deliver(&x, &g), 0x61, "61H first");
	EXPECT_STATE(&x, 0x51, 0x61, 0x60, "61H in service, 51H pending");
	cr_assert_eq(deliver(&x, &g), -1, "51H masked by VPPR 60H");
	guest_eoi(&x, &g, &r);
	EXPECT_STATE(&x, 0x51, 0, 0x00, "after EOI of 61H");
	cr_assert_eq(deliver(&x, &g), 0x51, "51H delivered after the EOI");
	EXPECT_STATE(&x, 0, 0x51, 0x50, "51H in service");
	vfx_fini(&x);
}

/* (b) SDM 30.1.4: with the vector's EOI-exit bitmap bit set, EOI virtualization ends in a
 * trap-like EOI-induced exit with the vector as qualification */
Test(vmx_apicv, eoi_with_eoi_exit_bitmap_bit_causes_exit_45)
{
	static const uint8_t virr[] = {0x51};
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;

	apicv_enter(&x, &g, 0x0051, virr, NROWS(virr));
	vfx_set(&x, VMCS_EOI_EXIT_BITMAP1, UINT64_C(1) << (0x51 - 64));
	deliver(&x, &g);
	guest_eoi(&x, &g, &r);
	cr_assert(r.outcome == VMX_OP_DONE_EXIT && r.exit.reason == EXIT_REASON_VIRTUALIZED_EOI &&
	              r.exit.qual == 0x51 && r.exit.trap_like,
	          "wanted trap-like exit 45 qual 51H, got outcome %u reason %u qual %#llx",
	          r.outcome, r.exit.reason, (unsigned long long)r.exit.qual);
	cr_assert(!vmx_vapic_test(x.cpu, VAPIC_VISR, 0x51), "VISR[51H] cleared before the exit");
	vfx_fini(&x);
}

/* (c) SDM 30.1.2: without virtual-interrupt delivery, lowering VTPR[7:4] below the TPR
 * threshold (MOV to CR8 or a write to offset 80H) is a trap-like exit 43 */
Test(vmx_apicv, tpr_write_below_threshold_causes_exit_43)
{
	static const struct {
		const char *name;
		bool mmio;
		uint64_t value;
		bool exits;
	} rows[] = {{"MOV to CR8 3", false, 3, true},
	            {"MOV to CR8 4", false, 4, false},
	            {"write 20H to offset 80H", true, 0x20, true},
	            {"write 50H to offset 80H", true, 0x50, false}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_entry_effects fx;
		struct vmx_op_result r;
		struct guest_op op = rows[i].mmio
		                         ? vrt_mmio(APIC + VAPIC_VTPR, 4, true, rows[i].value)
		                         : vrt_cr(8, CR_ACCESS_MOV_TO_CR, GPR_RAX, rows[i].value);

		vfx_init(&x, VFX_PROFILE);
		vrt_ctl(&x, VRT_PROC2, PROC2_VIRT_APIC_ACCESSES, true);
		vfx_set(&x, VMCS_TPR_THRESHOLD, 4);
		vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, 0x80);
		vrt_enter(&x, &g, &fx);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.outcome, rows[i].exits ? VMX_OP_DONE_EXIT : VMX_OP_DONE,
		             "%s: outcome %u", rows[i].name, r.outcome);
		if (rows[i].exits)
			cr_assert(r.exit.reason == EXIT_REASON_TPR_BELOW_THRESHOLD &&
			              r.exit.trap_like,
			          "%s: trap-like exit 43", rows[i].name);
		vfx_fini(&x);
	}
}

/* SDM 30.1.2: with virtual-interrupt delivery a TPR write runs PPR virtualization and
 * evaluation instead: lowering VTPR unmasks a pending vector */
Test(vmx_apicv, tpr_write_with_vid_unmasks_pending_interrupt)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_op_result r;
	struct guest_op op = vrt_cr(8, CR_ACCESS_MOV_TO_CR, GPR_RAX, 0);

	vfx_init(&x, VFX_PROFILE);
	vrt_apicv(&x, false);
	vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vfx_set(&x, VMCS_GUEST_INTR_STATUS, 0x0051);
	vfx_write32(&x, VFX_VAPIC + VAPIC_VTPR, 0x60);
	vmx_vapic_set(x.cpu, VAPIC_VIRR, 0x51, true);
	vrt_enter(&x, &g, &fx);
	cr_assert(!fx.vintr_recognized, "VTPR 60H masks 51H at entry");
	vrt_run(&x, &op, &g, &r);
	cr_assert_eq(r.outcome, VMX_OP_DONE, "no exit with virtual-interrupt delivery");
	EXPECT_STATE(&x, 0x51, 0, 0x00, "VTPR 0: VPPR 0");
	cr_assert_eq(deliver(&x, &g), 0x51, "51H delivered after the TPR write");
	vfx_fini(&x);
}

/* (d) SDM 30.1.5 via 30.4.3.2: an ICR write with self shorthand, fixed, edge, vector >= 10H is
 * self-IPI virtualization; any other ICR value is an APIC-write exit */
Test(vmx_apicv, self_ipi_through_icr_write_is_virtualized)
{
	static const struct {
		const char *name;
		uint32_t icr;
		bool virtualized;
	} rows[] = {{"self, fixed, vector 61H", 0x00040061, true},
	            {"no shorthand", 0x00000061, false},
	            {"level triggered", 0x00048061, false},
	            {"vector 0FH", 0x0004000f, false}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_mmio(APIC + VAPIC_VICR_LO, 4, true, rows[i].icr);

		apicv_enter(&x, &g, 0, NULL, 0);
		vrt_run(&x, &op, &g, &r);
		if (rows[i].virtualized) {
			cr_assert_eq(r.outcome, VMX_OP_DONE, "%s: no exit", rows[i].name);
			cr_assert(vmx_vapic_test(x.cpu, VAPIC_VIRR, 0x61) &&
			              vmx_apicv_rvi(x.cpu) == 0x61 && vmx_apicv_recognized(x.cpu),
			          "%s: VIRR[61H], RVI 61H, recognized", rows[i].name);
		} else {
			cr_assert(r.outcome == VMX_OP_DONE_EXIT &&
			              r.exit.reason == EXIT_REASON_APIC_WRITE &&
			              r.exit.qual == 0x300,
			          "%s: APIC-write exit qual 300H, got %u %u %#llx", rows[i].name,
			          r.outcome, r.exit.reason, (unsigned long long)r.exit.qual);
		}
		cr_assert_eq(vmx_vapic_read(x.cpu, VAPIC_VICR_LO), rows[i].icr,
		             "%s: the write reached VICR_LO", rows[i].name);
		vfx_fini(&x);
	}
}

/* x2APIC virtualization (SDM 30.5): VID with "virtualize x2APIC mode" instead of APIC accesses */
static void x2apic_enter(struct vfx *x, struct cpu_state *g, bool arv)
{
	struct vmx_entry_effects fx;

	vfx_init(x, VFX_PROFILE);
	vrt_ctl(x, VRT_PROC2, PROC2_VIRT_X2APIC_MODE | PROC2_VIRT_INTR_DELIVERY, true);
	vrt_ctl(x, VRT_PROC2, PROC2_APIC_REGISTER_VIRT, arv);
	vfx_set(x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vrt_enter(x, g, &fx);
}

/* (d) SDM 30.5 WRMSR 83FH: vector[7:4] != 0 is self-IPI virtualization, else APIC-write 3F0H */
Test(vmx_apicv, x2apic_self_ipi_msr_virtualizes_or_exits)
{
	for (int low = 0; low <= 1; low++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(GOP_WRMSR, 0x83f, low ? 0x05 : 0x61);

		x2apic_enter(&x, &g, true);
		vrt_run(&x, &op, &g, &r);
		if (low)
			cr_assert(r.outcome == VMX_OP_DONE_EXIT &&
			              r.exit.reason == EXIT_REASON_APIC_WRITE &&
			              r.exit.qual == 0x3f0,
			          "vector 05H: APIC-write exit 3F0H, got %u %#llx", r.outcome,
			          (unsigned long long)r.exit.qual);
		else
			cr_assert(r.outcome == VMX_OP_DONE && vmx_apicv_rvi(x.cpu) == 0x61 &&
			              deliver(&x, &g) == 0x61,
			          "vector 61H: virtualized and delivered");
		vfx_fini(&x);
	}
}

/* SDM 30.5 WRMSR reserved-bit checks (#GP) and the EOI MSR */
Test(vmx_apicv, x2apic_wrmsr_checks_reserved_bits_then_virtualizes)
{
	static const struct {
		const char *name;
		uint32_t msr;
		uint64_t value;
		uint8_t outcome;
	} rows[] = {{"TPR with bits 63:8", 0x808, 0x100, VMX_OP_FAULT},
	            {"EOI nonzero", 0x80b, 0x1, VMX_OP_FAULT},
	            {"self-IPI with EDX", 0x83f, UINT64_C(1) << 32 | 0x61, VMX_OP_FAULT},
	            {"TPR 20H", 0x808, 0x20, VMX_OP_DONE},
	            {"EOI 0", 0x80b, 0, VMX_OP_DONE},
	            {"ICR is not special", 0x830, 0x40061, VMX_OP_EXECUTE}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(GOP_WRMSR, rows[i].msr, rows[i].value);

		x2apic_enter(&x, &g, false);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(r.outcome, rows[i].outcome, "%s: outcome %u", rows[i].name, r.outcome);
		if (r.outcome == VMX_OP_FAULT)
			cr_assert(r.fault.vector == 13 && r.fault.has_error, "%s: #GP(0)",
			          rows[i].name);
		vfx_fini(&x);
	}
	{
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(GOP_WRMSR, 0x808, 0x20);

		x2apic_enter(&x, &g, false);
		vrt_run(&x, &op, &g, &r);
		cr_assert_eq(vmx_vapic_read(x.cpu, VAPIC_VTPR), 0x20, "TPR MSR stored at 80H");
		vfx_fini(&x);
	}
}

/* SDM 30.5 RDMSR: TPR always reads VTPR; with APIC-register virtualization every x2APIC MSR
 * reads the page at (ECX & FFH) << 4 */
Test(vmx_apicv, x2apic_rdmsr_reads_the_virtual_apic_page)
{
	static const struct {
		const char *name;
		bool arv;
		uint32_t msr;
		uint8_t outcome;
		uint64_t value;
	} rows[] = {{"TPR without ARV", false, 0x808, VMX_OP_DONE, 0x0000000900000040},
	            {"ICR without ARV", false, 0x830, VMX_OP_EXECUTE, 0},
	            {"ICR with ARV", true, 0x830, VMX_OP_DONE, 0x00000000000400ef}};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_msr(GOP_RDMSR, rows[i].msr, 0);

		x2apic_enter(&x, &g, rows[i].arv);
		vfx_write32(&x, VFX_VAPIC + 0x80, 0x40);
		vfx_write32(&x, VFX_VAPIC + 0x84, 0x9);
		vfx_write32(&x, VFX_VAPIC + 0x300, 0x400ef);
		vrt_run(&x, &op, &g, &r);
		cr_assert(r.outcome == rows[i].outcome &&
		              (r.outcome != VMX_OP_DONE || r.done.value == rows[i].value),
		          "%s: outcome %u value %#llx", rows[i].name, r.outcome,
		          (unsigned long long)r.done.value);
		vfx_fini(&x);
	}
}

/* SDM 30.4.2: reads are virtualized only at 80H without APIC-register virtualization, at the
 * listed registers with it, and never when misaligned or wider than 32 bits */
Test(vmx_apicv, apic_access_reads_virtualized_or_exit_44)
{
	static const struct {
		const char *name;
		bool arv;
		unsigned off, size;
		bool virtualized;
	} rows[] = {
	    {"TPR without ARV", false, 0x80, 4, true},
	    {"ID without ARV", false, 0x20, 4, false},
	    {"ID with ARV", true, 0x20, 4, true},
	    {"IRR 7 with ARV", true, 0x270, 4, true},
	    {"offset 400H", true, 0x400, 4, false},
	    {"straddles bytes 3:4", true, 0x82, 4, false},
	    {"64-bit read", true, 0x80, 8, false},
	    {"byte 3 of TPR", true, 0x83, 1, true},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_mmio(APIC + rows[i].off, (uint8_t)rows[i].size, false, 0);

		apicv_enter(&x, &g, 0, NULL, 0);
		vrt_ctl(&x, VRT_PROC2, PROC2_APIC_REGISTER_VIRT, rows[i].arv);
		vfx_write32(&x, VFX_VAPIC + (rows[i].off & ~3u), 0x11223344);
		vrt_run(&x, &op, &g, &r);
		if (rows[i].virtualized)
			cr_assert(r.outcome == VMX_OP_DONE && r.done.has_value,
			          "%s: virtualized read, got %u", rows[i].name, r.outcome);
		else
			cr_assert(r.outcome == VMX_OP_EXIT &&
			              r.exit.reason == EXIT_REASON_APIC_ACCESS &&
			              r.exit.qual == rows[i].off,
			          "%s: exit 44 qual %#x, got %u %#llx", rows[i].name, rows[i].off,
			          r.outcome, (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* Accesses to the APIC-access page that carry no data hvsim could virtualize always exit with
 * their access type (SDM Table 28-6): an instruction fetch (SDM 30.4: type 2, even at the TPR
 * offset whose reads are virtualized), and a read or write by an instruction other than MOV
 * (types 0 and 1: hvsim's simplification, as it moves no data for them). */
Test(vmx_apicv, apic_access_without_data_exits_with_its_access_type)
{
	static const struct {
		const char *name;
		bool fetch, write;
		unsigned type;
	} rows[] = {
	    {"instruction fetch", true, false, VMX_APIC_ACCESS_LINEAR_FETCH},
	    {"read by another instruction", false, false, VMX_APIC_ACCESS_LINEAR_READ},
	    {"write by another instruction", false, true, VMX_APIC_ACCESS_LINEAR_WRITE},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_mmio(APIC + 0x80, 0, rows[i].write, 0);

		op.u.mmio.fetch = rows[i].fetch;
		op.u.mmio.not_mov = !rows[i].fetch;
		apicv_enter(&x, &g, 0, NULL, 0);
		vrt_run(&x, &op, &g, &r);
		cr_expect(r.outcome == VMX_OP_EXIT && r.exit.reason == EXIT_REASON_APIC_ACCESS &&
		              r.exit.qual == (0x80 | (rows[i].type << 12)),
		          "%s: wanted exit 44 qual %#x, got %u reason %u qual %#llx", rows[i].name,
		          0x80 | (rows[i].type << 12), r.outcome, r.exit.reason,
		          (unsigned long long)r.exit.qual);
		vfx_fini(&x);
	}
}

/* SDM 30.4.3: a virtualized write lands on the virtual-APIC page and, for registers without
 * emulation, ends in a trap-like APIC-write exit with the offset; ICR high only clears its
 * bytes 2:0; a write not virtualized is an APIC-access exit (write type) */
Test(vmx_apicv, apic_access_writes_emulated_or_exit)
{
	static const struct {
		const char *name;
		bool arv;
		unsigned off;
		uint32_t value, stored;
		uint8_t outcome;
		uint32_t reason;
		uint64_t qual;
	} rows[] = {
	    {"LVT timer with ARV", true, 0x320, 0x200ef, 0x200ef, VMX_OP_DONE_EXIT,
	     EXIT_REASON_APIC_WRITE, 0x320},
	    {"ICR high", true, 0x310, 0x12345678, 0x12000000, VMX_OP_DONE, 0, 0},
	    {"LVT timer without ARV", false, 0x320, 0x200ef, 0, VMX_OP_EXIT,
	     EXIT_REASON_APIC_ACCESS, 0x1320},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_op_result r;
		struct guest_op op = vrt_mmio(APIC + rows[i].off, 4, true, rows[i].value);

		apicv_enter(&x, &g, 0, NULL, 0);
		vrt_ctl(&x, VRT_PROC2, PROC2_APIC_REGISTER_VIRT, rows[i].arv);
		vrt_run(&x, &op, &g, &r);
		cr_assert(r.outcome == rows[i].outcome &&
		              (r.outcome == VMX_OP_DONE ||
		               (r.exit.reason == rows[i].reason && r.exit.qual == rows[i].qual)),
		          "%s: wanted %u/%u/%#llx, got %u/%u/%#llx", rows[i].name, rows[i].outcome,
		          rows[i].reason, (unsigned long long)rows[i].qual, r.outcome,
		          r.exit.reason, (unsigned long long)r.exit.qual);
		cr_assert_eq(vmx_vapic_read(x.cpu, rows[i].off), rows[i].stored,
		             "%s: virtual-APIC page holds %#x", rows[i].name,
		             vmx_vapic_read(x.cpu, rows[i].off));
		vfx_fini(&x);
	}
}

/* (e) SDM 30.6: the notification vector clears ON, moves PIR into VIRR, clears PIR, raises RVI
 * and evaluates; the owner EOIs the physical APIC; another vector exits as usual */
Test(vmx_apicv, posted_interrupt_with_on_bit_moves_pir_into_virr)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_entry_effects fx;
	struct vmx_event_result out;
	struct vmx_pending p = {.extint = true};
	uint32_t pir[16] = {0};
	uint8_t on;

	vfx_init(&x, VFX_PROFILE);
	vrt_apicv(&x, true);
	vfx_set(&x, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	pir[0x45 / 32] |= 1u << (0x45 % 32);
	pir[0x81 / 32] |= 1u << (0x81 % 32);
	pir[8] = 0x1; /* ON */
	vfx_write(&x, VFX_PI_DESC, pir, sizeof(pir));
	vrt_enter(&x, &g, &fx);
	vmx_event_exits(x.cpu, &g, VRT_TSC, &p, &out);
	cr_assert_eq(out.action, VMX_EV_ACK_EXTINT, "acknowledge first");
	vmx_extint_ack(x.cpu, VRT_PINV, &g, &out);
	cr_assert(out.action == VMX_EV_NONE && out.eoi_physical, "processed, physical EOI owed");
	cr_assert(x.memops.read(x.mem, VFX_PI_DESC + 32, &on, 1) && !(on & 1), "ON cleared");
	cr_assert(x.memops.read(x.mem, VFX_PI_DESC, pir, 32) && pir[2] == 0 && pir[4] == 0,
	          "PIR cleared");
	cr_assert(vmx_vapic_test(x.cpu, VAPIC_VIRR, 0x45) &&
	              vmx_vapic_test(x.cpu, VAPIC_VIRR, 0x81),
	          "VIRR has 45H and 81H");
	cr_assert(vmx_apicv_rvi(x.cpu) == 0x81 && vmx_apicv_recognized(x.cpu),
	          "RVI 81H recognized, got %#x", vmx_apicv_rvi(x.cpu));
	cr_assert_eq(deliver(&x, &g), 0x81, "81H delivered");
	vmx_extint_ack(x.cpu, 0x30, &g, &out);
	cr_assert(out.action == VMX_EV_EXIT && out.exit.intr_info == 0x80000030,
	          "other vector: exit 1 with 30H");
	vfx_fini(&x);
}

/* (f) SDM 30.1.4 "EOI Virtualization" dismisses the vector SVI names, not the highest VISR bit.
 * APICv activated at runtime with vector 236 in VISR but SVI left 0 (the bug "KVM: VMX: Update
 * SVI during runtime APICv activation" fixes): the guest's one EOI clears VISR[0] (nothing),
 * only then sets SVI to 236 and VPPR to E0H, and 236 stays in VISR; with no second EOI coming,
 * every vector below F0H stalls behind it */
Test(vmx_apicv, eoi_virtualization_with_stale_svi_leaves_vector_236_in_visr)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op self_ipi = vrt_mmio(APIC + VAPIC_VICR_LO, 4, true, 0x00040030);

	apicv_enter(&x, &g, 0x0000, NULL, 0);
	vmx_vapic_set(x.cpu, VAPIC_VISR, 236, true);
	guest_eoi(&x, &g, &r);
	cr_assert_eq(r.outcome, VMX_OP_DONE, "EOI virtualized");
	cr_assert(vmx_vapic_test(x.cpu, VAPIC_VISR, 236), "VISR[236] still set after the EOI");
	EXPECT_STATE(&x, 0, 236, 0xe0, "SVI catches up only now");
	vrt_run(&x, &self_ipi, &g, &r);
	cr_assert(vmx_vapic_test(x.cpu, VAPIC_VIRR, 0x30) && vmx_apicv_rvi(x.cpu) == 0x30 &&
	              !vmx_apicv_recognized(x.cpu),
	          "30H pending but not recognized behind VPPR E0H");
	cr_assert_eq(deliver(&x, &g), -1, "30H is never delivered: the vector stalls");
	vfx_fini(&x);
}

/* (f) fixed: with SVI updated to 236 at activation, the same EOI dismisses 236 and the next
 * interrupt goes through */
Test(vmx_apicv, eoi_virtualization_with_updated_svi_clears_vector_236)
{
	struct vfx x;
	struct cpu_state g;
	struct vmx_op_result r;
	struct guest_op self_ipi = vrt_mmio(APIC + VAPIC_VICR_LO, 4, true, 0x00040030);

	apicv_enter(&x, &g, 236 << 8, NULL, 0);
	vmx_vapic_set(x.cpu, VAPIC_VISR, 236, true);
	vmx_apicv_ppr_virtualize(x.cpu);
	guest_eoi(&x, &g, &r);
	cr_assert(!vmx_vapic_test(x.cpu, VAPIC_VISR, 236), "VISR[236] cleared by the EOI");
	EXPECT_STATE(&x, 0, 0, 0x00, "nothing in service");
	vrt_run(&x, &self_ipi, &g, &r);
	cr_assert_eq(deliver(&x, &g), 0x30, "30H delivered");
	vfx_fini(&x);
}

/* SDM 30.2.2: virtual-interrupt delivery needs IF = 1 and no STI/MOV-SS blocking, and wakes HLT */
Test(vmx_apicv, virtual_interrupt_delivery_needs_open_window_and_wakes_hlt)
{
	static const uint8_t virr[] = {0x51};
	static const struct {
		const char *name;
		uint64_t rflags;
		uint32_t blocking, activity;
		bool delivered;
	} rows[] = {
	    {"IF=0", RFLAGS_FIXED1, 0, CPU_ACTIVITY_ACTIVE, false},
	    {"STI blocking", RFLAGS_FIXED1 | RFLAGS_IF, CPU_INTR_BLOCK_STI, CPU_ACTIVITY_ACTIVE,
	     false},
	    {"HLT", RFLAGS_FIXED1 | RFLAGS_IF, 0, CPU_ACTIVITY_HLT, true},
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct vfx x;
		struct cpu_state g;
		struct vmx_event_result out;
		struct vmx_pending p = {0};

		apicv_enter(&x, &g, 0x0051, virr, NROWS(virr));
		g.rflags = rows[i].rflags;
		g.interruptibility = rows[i].blocking;
		g.activity = rows[i].activity;
		vmx_event_exits(x.cpu, &g, VRT_TSC, &p, &out);
		cr_assert_eq(out.action == VMX_EV_DELIVER, rows[i].delivered, "%s: action %u",
		             rows[i].name, out.action);
		if (rows[i].delivered)
			cr_assert(out.wake && out.event.vector == 0x51, "%s: wakes with 51H",
			          rows[i].name);
		vfx_fini(&x);
	}
}
