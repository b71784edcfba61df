/* Verifies the guest set-up helpers (sim/guest_setup*.c): long, protected and real mode start in
 * the architectural state hvsim documents (CR0/CR3/CR4, code segment, per-vCPU stack, RFLAGS),
 * interrupts reach handlers through the guest's own IDT in protected and real mode (SDM 6.12,
 * 21.1.4), every vCPU starts at the entry with its own stack, and layouts that cannot work are
 * refused at creation with a message instead of misbehaving later. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/guest_setup.h"
#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#include <string.h>

#define MIB (UINT64_C(1) << 20)

static uint64_t cs_of(struct tv *t, unsigned vcpu)
{
	struct uc_cpu *c = tv_vcpu(t, vcpu)->be_ctx;

	return uc_reg(c, UC_X86_REG_CS);
}

struct mode_case {
	const char *mode;
	uint8_t m;
	const char *hex; /* cpuid; hlt in that mode */
	uint64_t cr0, cr4, cs;
};

static const struct mode_case modes[] = {
    {"long", GUEST_MODE_LONG, "0f a2 f4", GS_CR0_PAGED, GS_CR4_PAGED, GS_SEL_CODE64},
    {"protected", GUEST_MODE_PROTECTED, "0f a2 f4", GS_CR0_PAGED, GS_CR4_PAGED, GS_SEL_CODE32},
    {"real", GUEST_MODE_REAL, "0f a2 f4", GS_CR0_ET, 0, 0},
};

Test(vcpu_modes, each_mode_starts_in_the_documented_state)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const struct mode_case *m = &modes[i];
		struct tv t = {.handler = tv_stop_at_exit};
		const struct tv_exit *e;
		uint64_t mem = 2 * MIB;
		hvsim_vcpu *v;

		cr_assert(tv_open_code(&t, m->mode, m->hex, "\"machine\": {\"memory_mib\": 2}"),
		          "%s: %s", m->mode, t.err.msg);
		tv_run(&t);
		e = tv_exit_of(&t, GOP_CPUID, 0);
		cr_assert_not_null(e, "%s: no CPUID exit; trace:\n%s", m->mode, t.trace);
		v = tv_vcpu(&t, 0);
		cr_expect_eq(hvsim_vcpu_cr(v, 0), m->cr0, "%s: CR0 wanted %#llx, got %#llx",
		             m->mode, (unsigned long long)m->cr0,
		             (unsigned long long)hvsim_vcpu_cr(v, 0));
		cr_expect_eq(hvsim_vcpu_cr(v, 4), m->cr4, "%s: CR4 wanted %#llx, got %#llx",
		             m->mode, (unsigned long long)m->cr4,
		             (unsigned long long)hvsim_vcpu_cr(v, 4));
		if (m->m != GUEST_MODE_REAL)
			cr_expect_eq(hvsim_vcpu_cr(v, 3), gs_cr3(m->m, mem),
			             "%s: CR3 wanted %#llx, got %#llx", m->mode,
			             (unsigned long long)gs_cr3(m->m, mem),
			             (unsigned long long)hvsim_vcpu_cr(v, 3));
		cr_expect_eq(cs_of(&t, 0), m->cs, "%s: CS wanted %#llx, got %#llx", m->mode,
		             (unsigned long long)m->cs, (unsigned long long)cs_of(&t, 0));
		cr_expect_eq(e->gpr[GPR_RSP], gs_stack_top(m->m, mem, 0),
		             "%s: RSP wanted %#llx, got %#llx", m->mode,
		             (unsigned long long)gs_stack_top(m->m, mem, 0),
		             (unsigned long long)e->gpr[GPR_RSP]);
		cr_expect_eq(e->rflags, 2, "%s: RFLAGS wanted 0x2, got %#llx", m->mode,
		             (unsigned long long)e->rflags);
		cr_expect_eq(e->rip, 0x8000, "%s: RIP wanted the entry 0x8000, got %#llx", m->mode,
		             (unsigned long long)e->rip);
		tv_close(&t);
	}
}

static void hlt_blocks(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	bool if_set = hvsim_vcpu_rflags(v) & (UINT64_C(1) << 9);

	if (x->op.kind != GOP_HLT) {
		tv_default(t, v, x);
		return;
	}
	hvsim_vcpu_complete(v, 0);
	if (if_set)
		hvsim_vcpu_block(v);
	else
		hvsim_vcpu_stop(v, "hlt with interrupts off");
}

struct irq_case {
	const char *mode;
	const char
	    *hex; /* installs a vector 0x2a handler (out 0x81), sti; hlt; out 0x80; cli; hlt */
};

static const struct irq_case irqs[] = {
    {"protected", "b8 2c 80 00 00 66 a3 50 21 00 00 66 c7 05 52 21 00 00 18 00 66 c7 05 54 21 "
                  "00 00 00 8e c1 e8 10 66 a3 56 21 00 00 fb f4 e6 80 fa f4 e6 81 cf"},
    {"real", "c7 06 a8 00 12 80 c7 06 aa 00 00 00 fb f4 e6 80 fa f4 e6 81 cf"},
};

Test(vcpu_modes, interrupts_reach_handlers_through_the_guest_idt)
{
	for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++) {
		struct tv t = {.handler = hlt_blocks};
		const struct tv_exit *a, *b;

		cr_assert(
		    tv_open_code(&t, irqs[i].mode, irqs[i].hex,
		                 "\"events\": [{\"at_ns\": 10000, \"irq_line\": {\"gsi\": 10, "
		                 "\"level\": 1}}]"),
		    "%s: %s", irqs[i].mode, t.err.msg);
		tv_run(&t);
		a = tv_exit_of(&t, GOP_IO, 0);
		b = tv_exit_of(&t, GOP_IO, 1);
		cr_assert(a && b, "%s: wanted the handler's OUT then the main OUT; trace:\n%s",
		          irqs[i].mode, t.trace);
		cr_expect(a->x.op.u.io.port == 0x81 && b->x.op.u.io.port == 0x80,
		          "%s: ports wanted 0x81 (handler) then 0x80 (after IRET), got %#x %#x",
		          irqs[i].mode, a->x.op.u.io.port, b->x.op.u.io.port);
		cr_expect(a->now >= 10000, "%s: the handler ran at %llu ns, before the interrupt",
		          irqs[i].mode, (unsigned long long)a->now);
		tv_close(&t);
	}
}

/* All vCPUs start at the entry point; each gets its own stack (docs/vcpu-layer.md). */
Test(vcpu_modes, every_vcpu_starts_at_the_entry_with_its_own_stack)
{
	/* mov eax, esp; out 0xe9, eax; hlt */
	struct tv t = {0};
	uint64_t mem = 4 * MIB;

	cr_assert(tv_open_code(&t, "long", "89 e0 e7 e9 f4",
	                       "\"machine\": {\"vcpus\": 3, \"memory_mib\": 4}"),
	          "%s", t.err.msg);
	tv_run(&t);
	for (unsigned i = 0; i < 3; i++) {
		const struct tv_exit *e = tv_exit_of(&t, GOP_IO, i);

		cr_assert_not_null(e, "vCPU %u did not report", i);
		cr_expect_eq(e->rip, 0x8002, "vCPU %u: RIP wanted 0x8002, got %#llx", e->vcpu,
		             (unsigned long long)e->rip);
		cr_expect_eq(e->x.op.u.io.value, gs_stack_top(GUEST_MODE_LONG, mem, e->vcpu),
		             "vCPU %u: RSP wanted %#llx, got %#x", e->vcpu,
		             (unsigned long long)gs_stack_top(GUEST_MODE_LONG, mem, e->vcpu),
		             e->x.op.u.io.value);
	}
	tv_close(&t);
}

struct layout_case {
	const char *name;
	const char *mode;
	const char *extra;
	const char *message;
};

static const struct layout_case layouts[] = {
    {"image over the GDT", "long", "\"machine\": {\"memory_mib\": 2}", "GDT, IDT"},
    {"real-mode entry above 64 KiB", "real", "\"machine\": {\"memory_mib\": 2}", "real-mode entry"},
    {"stacks that do not fit", "long", "\"machine\": {\"memory_mib\": 1, \"vcpus\": 64}",
     "room for 64 vCPU stacks"},
};

Test(vcpu_modes, impossible_layouts_are_refused_with_a_message)
{
	static const char *const guest[] = {
	    "\"bytes\": \"f4\", \"load_gpa\": \"0x1000\"",
	    "\"bytes\": \"f4\", \"load_gpa\": \"0x10000\", \"entry\": \"0x10000\"",
	    "\"bytes\": \"f4\"",
	};

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		char json[1024];
		struct tv t = {0};

		snprintf(json, sizeof(json),
		         "{\"hvsim\": 1, \"name\": \"t\", \"description\": \"d\", \"provenance\": "
		         "{\"note\": \"n\"}, \"hypervisor\": {\"algorithm\": \"recorder\"}, %s, "
		         "\"guest\": {\"mode\": \"%s\", %s}, \"runs\": [{\"name\": \"r\", "
		         "\"golden\": \"g\"}]}",
		         layouts[i].extra, layouts[i].mode, guest[i]);
		cr_expect_not(tv_open(&t, json), "%s: the VM was built", layouts[i].name);
		cr_expect(strstr(t.err.msg, layouts[i].message),
		          "%s: message wanted \"%s\", got %s", layouts[i].name, layouts[i].message,
		          t.err.msg);
		tv_close(&t);
	}
}

Test(vcpu_modes, mmio_map_refuses_bad_ranges_and_keeps_the_map)
{
	struct tv t = {0};

	cr_assert(tv_open_code(&t, "long", "f4", ""), "%s", t.err.msg);
	cr_expect_eq(hvsim_mmio_map(t.vm, HVSIM_MMIO_XAPIC, 0x100010, 0x1000), HVSIM_E_INPUT,
	             "an unaligned base was accepted");
	cr_expect_eq(hvsim_mmio_map(t.vm, HVSIM_MMIO_XAPIC, HVSIM_IOAPIC_DEFAULT_GPA, 0x1000),
	             HVSIM_E_INPUT, "an overlap with the I/O APIC window was accepted");
	cr_expect_eq(hvsim_mmio_map(t.vm, HVSIM_MMIO_MAX, 0x100000, 0x1000), HVSIM_E_INPUT,
	             "an id beyond HVSIM_MMIO_MAX was accepted");
	cr_expect_eq(t.vm->mach.mmio[HVSIM_MMIO_XAPIC].gpa, HVSIM_XAPIC_DEFAULT_GPA,
	             "a refused map moved the xAPIC page to %#llx",
	             (unsigned long long)t.vm->mach.mmio[HVSIM_MMIO_XAPIC].gpa);
	cr_expect_eq(hvsim_mmio_unmap(t.vm, HVSIM_MMIO_IOAPIC), HVSIM_OK, "unmap failed");
	tv_close(&t);
}
