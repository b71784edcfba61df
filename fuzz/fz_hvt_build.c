/* The scenario of a fuzz_hv_transitions input (fz_hvt.h): the machine and the kvm quirks of its
 * configuration; its guest actions as script actions (or, for a code guest, as x86 fragments
 * assembled by fz_hvt_code.c from the same actions); its timed events. One walker (fz_hvt_walk)
 * turns operations into actions and events for both guest kinds, so the script and the code form
 * of an input do the same things in the same order. */
#include "fz_hvt_int.h"

#include <hvsim/guest_op.h>
#include <hvsim/hv_registry.h>

#include <stdlib.h>
#include <string.h>

#define XAPIC_GPA        UINT64_C(0xfee00000)
#define IOAPIC_GPA       UINT64_C(0xfec00000)
#define IOAPIC_IOREGSEL  0x00u
#define IOAPIC_IOWIN     0x10u
#define IOAPIC_EOI       0x40u
#define IOAPIC_REDTBL    0x10u /* index of redirection entry 0's low dword (82093AA 3.2.4) */
#define X2APIC_EOI       0x80bu
#define XAPIC_EOI        0xb0u
#define PAGE_MASK        (~UINT64_C(0xfff))
#define SCRIPT_MIB       1
#define CODE_MIB         2
#define VMX_PROLOGUE_CR4 0x2620u /* hvsim's boot CR4 (docs/vcpu-layer.md) with VMXE */

/* ---- operations to actions ---- */

static struct script_action mmio(enum script_op op, uint64_t gpa, uint8_t size, uint64_t value)
{
	return (struct script_action){.op = (uint8_t)op, .addr = gpa, .size = size, .value = value};
}

static struct script_action msr(enum script_op op, uint32_t index, uint64_t value)
{
	return (struct script_action){.op = (uint8_t)op, .index = index, .value = value};
}

/* An I/O APIC entry programmed as an OS does: high dword, then low (unmasking last). */
static size_t rte_actions(const struct fz_hvt_op *op, struct script_action *a)
{
	uint32_t index = IOAPIC_REDTBL + 2 * op->reg;

	a[0] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + IOAPIC_IOREGSEL, 4, index + 1);
	a[1] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + IOAPIC_IOWIN, 4, (uint32_t)op->value2);
	a[2] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + IOAPIC_IOREGSEL, 4, index);
	a[3] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + IOAPIC_IOWIN, 4, (uint32_t)op->value);
	return 4;
}

static size_t eoi_action(const struct fz_hvt_op *op, struct script_action *a)
{
	switch (op->sub) {
	case FZ_EOI_X2APIC: a[0] = msr(SOP_WRMSR, X2APIC_EOI, 0); break;
	case FZ_EOI_XAPIC: a[0] = mmio(SOP_MMIO_WRITE, XAPIC_GPA + XAPIC_EOI, 4, 0); break;
	default: a[0] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + IOAPIC_EOI, 4, op->vector); break;
	}
	return 1;
}

static size_t insn_action(const struct fz_hvt_op *op, struct script_action *a)
{
	static const uint8_t ops[FZ_INSN_COUNT] = {
	    SOP_RDTSC,  SOP_RDTSCP,  SOP_HLT,    SOP_STI,     SOP_CLI,  SOP_PAUSE,
	    SOP_WBINVD, SOP_MONITOR, SOP_MWAIT,  SOP_INVLPG,  SOP_INVD, SOP_XSETBV,
	    SOP_RDRAND, SOP_RDSEED,  SOP_TDCALL, SOP_SEAMCALL};

	a[0] = (struct script_action){.op = ops[op->sub % FZ_INSN_COUNT]};
	switch (op->sub) {
	case FZ_INSN_INVLPG: a[0].addr = op->value; break;
	case FZ_INSN_TDCALL:
	case FZ_INSN_SEAMCALL: a[0].value = op->value; break;
	case FZ_INSN_MONITOR:
		a[0].addr = op->value;
		a[0].index = op->reg;
		a[0].sub = (uint32_t)op->value2;
		break;
	case FZ_INSN_MWAIT:
		a[0].index = op->reg;
		a[0].sub = (uint32_t)op->value2;
		break;
	case FZ_INSN_XSETBV:
		a[0].index = op->reg;
		a[0].value = op->value;
		break;
	default: break;
	}
	return 1;
}

/* An L1's VMX instruction, or its revision-identifier store into a region (SDM 25.2). */
static size_t vmx_action(const struct fz_hvt_op *op, struct script_action *a)
{
	if (op->sub == FZ_VMX_REVISION) {
		a[0] = (struct script_action){
		    .op = SOP_STORE, .addr = op->addr, .size = 4, .value = (uint32_t)op->value};
		return 1;
	}
	a[0] = (struct script_action){.op = SOP_VMX,
	                              .sub = op->sub % GVMX_COUNT,
	                              .flags = op->flags,
	                              .addr = op->addr,
	                              .field = op->field,
	                              .value = op->value,
	                              .value2 = op->value2};
	return 1;
}

size_t fz_hvt_op_actions(const struct fz_hvt_op *op, struct script_action *a)
{
	switch (op->kind) {
	case FZ_HVT_MSR_READ: a[0] = msr(SOP_RDMSR, op->reg, 0); return 1;
	case FZ_HVT_MSR_WRITE: a[0] = msr(SOP_WRMSR, op->reg, op->value); return 1;
	case FZ_HVT_APIC_BASE: a[0] = msr(SOP_WRMSR, 0x1b, op->value); return 1;
	case FZ_HVT_XAPIC_READ:
		a[0] = mmio(SOP_MMIO_READ, XAPIC_GPA + op->reg, op->size, 0);
		return 1;
	case FZ_HVT_XAPIC_WRITE:
		a[0] = mmio(SOP_MMIO_WRITE, XAPIC_GPA + op->reg, op->size, op->value);
		return 1;
	case FZ_HVT_IOAPIC_READ: a[0] = mmio(SOP_MMIO_READ, IOAPIC_GPA + op->reg, 4, 0); return 1;
	case FZ_HVT_IOAPIC_WRITE:
		a[0] = mmio(SOP_MMIO_WRITE, IOAPIC_GPA + op->reg, 4, (uint32_t)op->value);
		return 1;
	case FZ_HVT_IOAPIC_RTE: return rte_actions(op, a);
	case FZ_HVT_EOI: return eoi_action(op, a);
	case FZ_HVT_OUT:
	case FZ_HVT_IN:
		a[0] = (struct script_action){.op = op->kind == FZ_HVT_OUT ? SOP_OUT : SOP_IN,
		                              .index = op->reg,
		                              .size = op->size,
		                              .value = (uint32_t)op->value};
		return 1;
	case FZ_HVT_CPUID:
		a[0] = (struct script_action){
		    .op = SOP_CPUID, .index = op->reg, .sub = (uint32_t)op->value2};
		return 1;
	case FZ_HVT_INSN: return insn_action(op, a);
	case FZ_HVT_RDPMC:
		a[0] = (struct script_action){.op = SOP_RDPMC, .index = op->reg};
		return 1;
	case FZ_HVT_COMPUTE:
		a[0] = (struct script_action){.op = SOP_COMPUTE, .value = op->value};
		return 1;
	case FZ_HVT_MOV_CR:
		a[0] = (struct script_action){.op = SOP_MOV_CR, .cr = op->cr, .value = op->value};
		return 1;
	case FZ_HVT_VMCALL:
		a[0] = (struct script_action){.op = SOP_VMCALL, .value = op->value};
		return 1;
	case FZ_HVT_VMX: return vmx_action(op, a);
	default: return 0;
	}
}

/* ---- the walker ---- */

struct walk {
	const struct fz_hvt_input *in;
	const struct fz_hvt_sink *sink;
	int handler;     /* vector whose handler receives guest actions, -1: main */
	uint64_t repeat; /* the next guest action's repeat count, 0: none */
	uint64_t t_ns;   /* the event clock */
	uint64_t zapped[FZ_HVT_ZAP_PAGES];
	unsigned n_zapped;
};

static void walk_guest(struct walk *w, const struct fz_hvt_op *op)
{
	struct script_action a[FZ_HVT_ACTIONS_MAX], rep;
	size_t n = fz_hvt_op_actions(op, a);

	if (!n || !w->sink->action)
		return;
	if (w->repeat) {
		rep = (struct script_action){
		    .op = SOP_REPEAT, .count = w->repeat, .body = a, .n_body = n};
		w->sink->action(w->sink->ctx, w->handler, &rep);
		w->repeat = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->sink->action(w->sink->ctx, w->handler, &a[i]);
}

/* Pages ept_zap may take: inside guest RAM, at most FZ_HVT_ZAP_PAGES distinct ones (the zapped
 * pages of hvsim's kvm model are engine MMIO regions, of which it has KVM_ZAP_SLOTS; real KVM
 * has no such limit, so the walker drops zaps past it instead of provoking a rejection). */
static bool zap_allowed(struct walk *w, struct fz_hvt_op *op)
{
	uint64_t mem = (uint64_t)fz_hvt_memory_mib(&w->in->cfg) << 20;

	op->value = (op->value & PAGE_MASK) % mem;
	for (unsigned i = 0; i < w->n_zapped; i++)
		if (w->zapped[i] == op->value)
			return true;
	if (w->n_zapped == FZ_HVT_ZAP_PAGES)
		return false;
	w->zapped[w->n_zapped++] = op->value;
	return true;
}

static void walk_event(struct walk *w, const struct fz_hvt_op *src)
{
	struct fz_hvt_op op = *src;

	w->t_ns += op.dt_ns;
	if (op.kind == FZ_HVT_HOST) {
		if (op.vcpu >= (int)w->in->cfg.vcpus)
			op.vcpu = (int8_t)(w->in->cfg.vcpus - 1);
		if (op.sub == FZ_HOST_ZAP && !zap_allowed(w, &op))
			return;
	}
	if (w->sink->event)
		w->sink->event(w->sink->ctx, &op, w->t_ns);
}

/* What an L1 does before its first VMX instruction: the revision identifier into the VMXON region
 * and each VMCS region (SDM 25.2, 25.11.5), and with nested VMX offered CR4.VMXE (SDM 24.7; it is
 * #GP without). Inputs with vmx_ops only, so older inputs build the scenario they always did. */
static void vmx_prologue(const struct fz_hvt_input *in, const struct fz_hvt_sink *sink)
{
	struct script_action a = {.op = SOP_STORE, .size = 4, .value = FZ_VMX_REVISION_ID};

	if (!in->cfg.vmx_ops || !sink->action)
		return;
	for (unsigned r = 0; r <= FZ_VMX_VMCS_N; r++) {
		a.addr = r == 0 ? FZ_VMX_VMXON_GPA : FZ_VMX_VMCS_GPA + 0x1000u * (r - 1);
		sink->action(sink->ctx, -1, &a);
	}
	if (in->cfg.nested) {
		a = (struct script_action){.op = SOP_MOV_CR, .cr = 4, .value = VMX_PROLOGUE_CR4};
		sink->action(sink->ctx, -1, &a);
	}
}

void fz_hvt_walk(const struct fz_hvt_input *in, const struct fz_hvt_sink *sink)
{
	struct walk w = {.in = in, .sink = sink, .handler = -1};

	vmx_prologue(in, sink);
	for (unsigned i = 0; i < in->n_ops; i++) {
		const struct fz_hvt_op *op = &in->ops[i];

		switch (op->kind) {
		case FZ_HVT_HANDLER: w.handler = op->vector; break;
		case FZ_HVT_MAIN: w.handler = -1; break;
		case FZ_HVT_REPEAT: w.repeat = op->value; break;
		case FZ_HVT_LINE:
		case FZ_HVT_MSI:
		case FZ_HVT_HOST: walk_event(&w, op); break;
		case FZ_HVT_VMX:
			if (in->cfg.vmx_ops)
				walk_guest(&w, op);
			break;
		default: walk_guest(&w, op); break;
		}
	}
}

unsigned fz_hvt_memory_mib(const struct fz_hvt_config *cfg)
{
	return cfg->code ? CODE_MIB : SCRIPT_MIB;
}

/* ---- the scenario ---- */

static void scn_action(void *ctx, int handler, const struct script_action *a)
{
	if (handler < 0)
		fz_scn_action(ctx, a);
	else
		fz_scn_handler_action(ctx, (uint8_t)handler, a);
}

static void scn_event(void *ctx, const struct fz_hvt_op *op, uint64_t at_ns)
{
	static const char *const actions[FZ_HOST_COUNT] = {"apicv_activate", "apicv_inhibit",
	                                                   "ept_zap"};

	if (op->kind == FZ_HVT_LINE)
		fz_scn_irq_line(ctx, at_ns, op->reg, (uint8_t)op->value);
	else if (op->kind == FZ_HVT_MSI)
		fz_scn_msi(ctx, at_ns, op->value, op->value2);
	else
		fz_scn_host(ctx, at_ns, actions[op->sub % FZ_HOST_COUNT], op->vcpu, op->value);
}

static void build_machine(fz_scn *s, const struct fz_hvt_config *c)
{
	const struct hvsim_hv_ops *kvm = hvsim_hv_builtin("kvm");

	fz_scn_algorithm(s, "kvm");
	fz_scn_machine_str(s, "cpu", fz_hvt_cpu_name(c->cpu));
	fz_scn_machine_int(s, "vcpus", c->vcpus);
	fz_scn_machine_int(s, "memory_mib", fz_hvt_memory_mib(c));
	fz_scn_machine_str(s, "irqchip", c->split ? "split" : "kernel");
	fz_scn_machine_bool(s, "apicv", c->apicv);
	if (c->nested)
		fz_scn_machine_bool(s, "nested", true);
	fz_scn_machine_str(s, "ioapic_version", c->ioapic_11 ? "0x11" : "0x20");
	fz_scn_machine_int(s, "insn_ns", 1);
	fz_scn_machine_int(s, "quantum_insns", FZ_HVT_QUANTUM);
	for (size_t q = 0; kvm && q < kvm->n_quirks && q < FZ_HVT_QUIRK_SLOTS; q++)
		fz_scn_quirk(s, kvm->quirks[q].name,
		             kvm->quirks[q].values[c->quirk[q] % kvm->quirks[q].n_values]);
	fz_scn_limits(s, FZ_HVT_VIRTUAL_NS, FZ_HVT_INSTRUCTIONS, FZ_HVT_EXITS);
	fz_scn_check_invariants(s);
}

static bool build_code(fz_scn *s, const struct fz_hvt_input *in)
{
	uint8_t *img = malloc(FZ_HVT_CODE_MAX);
	size_t n = img ? fz_hvt_code(in, img, FZ_HVT_CODE_MAX) : 0;

	if (n)
		fz_scn_guest_code(s, img, n, FZ_HVT_CODE_GPA);
	free(img);
	return n != 0;
}

fz_scn *fz_hvt_build(const struct fz_hvt_input *in, uint64_t input_hash)
{
	fz_scn *s = fz_scn_create("fuzz_hv_transitions", input_hash);
	struct fz_hvt_sink script = {.action = scn_action, .event = scn_event, .ctx = s};
	struct fz_hvt_sink events = {.action = NULL, .event = scn_event, .ctx = s};

	if (!s)
		return NULL;
	build_machine(s, &in->cfg);
	if (in->cfg.code && build_code(s, in))
		fz_hvt_walk(in, &events);
	else
		fz_hvt_walk(in, &script);
	return s;
}
