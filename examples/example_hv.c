/* example_hv: a complete hypervisor algorithm in one file, built as a plug-in (docs/writing-an-
 * algorithm.md walks through it). It runs on hvsim's generic virtualization hardware: every guest
 * operation exits, and the algorithm emulates it. It answers CPUID with a vendor signature, keeps
 * an MSR table, ignores port writes and reads all-ones, blocks the vCPU on HLT until an interrupt
 * line rises, and injects that line as vector 0x20 + GSI.
 *
 * Build: cc -shared -fPIC -Iinclude -o libexample_hv.so examples/example_hv.c
 * Run:   bin/hvsim run --hv ./libexample_hv.so scenarios/smoke.json */
#include <hvsim/hv.h>

#include <stdlib.h>
#include <string.h>

#define MSRS      32
#define RFLAGS_IF (UINT64_C(1) << 9)

struct example {
	hvsim_vm *vm;
	uint32_t msr_index[MSRS];
	uint64_t msr_value[MSRS];
	unsigned n_msrs;
	int pending; /* vector to inject into vCPU 0, -1: none */
	uint64_t exits;
};

static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct example *x = calloc(1, sizeof(*x));

	if (!x)
		return HVSIM_E_NOMEM;
	x->vm = vm;
	x->pending = -1;
	*priv = x;
	return HVSIM_OK;
}

static void vm_destroy(void *priv)
{
	free(priv);
}

static uint64_t *msr_slot(struct example *x, uint32_t index, bool create)
{
	for (unsigned i = 0; i < x->n_msrs; i++)
		if (x->msr_index[i] == index)
			return &x->msr_value[i];
	if (!create || x->n_msrs == MSRS)
		return NULL;
	x->msr_index[x->n_msrs] = index;
	x->msr_value[x->n_msrs] = 0;
	return &x->msr_value[x->n_msrs++];
}

/* CPUID leaf 0: the largest leaf and a 12-byte vendor string in EBX, EDX, ECX. */
static void emulate_cpuid(hvsim_vcpu *v, uint32_t leaf)
{
	static const char vendor[12] = {'h', 'v', 's', 'i', 'm', 'E', 'x', 'a', 'm', 'p', 'l', 'e'};
	uint32_t w[3];

	memcpy(w, vendor, sizeof(w));
	hvsim_vcpu_set_gpr(v, GPR_RAX, leaf == 0 ? 1 : 0);
	hvsim_vcpu_set_gpr(v, GPR_RBX, leaf == 0 ? w[0] : 0);
	hvsim_vcpu_set_gpr(v, GPR_RDX, leaf == 0 ? w[1] : 0);
	hvsim_vcpu_set_gpr(v, GPR_RCX, leaf == 0 ? w[2] : 0);
}

static void handle_exit(struct example *x, hvsim_vcpu *v, const struct hvsim_exit *e)
{
	uint64_t *slot;

	x->exits++;
	switch (e->op.kind) {
	case GOP_CPUID:
		emulate_cpuid(v, e->op.u.cpuid.leaf);
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_RDMSR:
		slot = msr_slot(x, e->op.u.msr.index, false);
		hvsim_vcpu_complete(v, slot ? *slot : 0);
		break;
	case GOP_WRMSR:
		slot = msr_slot(x, e->op.u.msr.index, true);
		if (slot)
			*slot = e->op.u.msr.value;
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_HLT:
		hvsim_vcpu_complete(v, 0);
		if (!(hvsim_vcpu_rflags(v) & RFLAGS_IF))
			hvsim_vcpu_stop(v, "halted with interrupts disabled");
		else if (x->pending < 0)
			hvsim_vcpu_block(v);
		break;
	default: hvsim_vcpu_complete(v, UINT64_MAX); break;
	}
}

static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct example *x = priv;
	const struct hvsim_exit *e = hvsim_vcpu_exit(v);

	if (e)
		handle_exit(x, v, e);
	if (x->pending >= 0 && hvsim_vcpu_index(v) == 0 && hvsim_vcpu_interruptible(v)) {
		hvsim_vcpu_inject(v, (uint8_t)x->pending);
		x->pending = -1;
	}
	(void)hvsim_vcpu_enter(v); /* refused when the vCPU was blocked or stopped above */
	return HVSIM_OK;
}

static void irq_line(void *priv, uint32_t gsi, uint8_t level)
{
	struct example *x = priv;
	struct trace_ev ev;

	if (!level || gsi >= 0xe0)
		return;
	x->pending = (int)(0x20 + gsi);
	trace_ev_init(&ev, hvsim_vm_now(x->vm), 0, "example_irq");
	trace_ev_num(&ev, "gsi", gsi);
	trace_ev_num(&ev, "exits_so_far", x->exits);
	hvsim_emit(x->vm, &ev);
	hvsim_vcpu_kick(hvsim_vm_vcpu(x->vm, 0));
}

static const struct hvsim_hv_ops example_ops = {
#ifdef EXAMPLE_WRONG_ABI /* built this way by make check, to test the loader's ABI check */
    .abi_version = HVSIM_HV_ABI_VERSION + 1,
#else
    .abi_version = HVSIM_HV_ABI_VERSION,
#endif
    .size = sizeof(struct hvsim_hv_ops),
    .name = "example",
    .description = "the plug-in example of docs/writing-an-algorithm.md",
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_run = vcpu_run,
    .irq_line = irq_line,
};

const struct hvsim_hv_ops *hvsim_hv_plugin(void);

const struct hvsim_hv_ops *hvsim_hv_plugin(void)
{
	return &example_ops;
}
