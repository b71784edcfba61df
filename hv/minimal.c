/* "minimal": the smallest complete algorithm, on the generic virtualization hardware (no VMX). It
 * emulates every exit with fixed answers (CPUID and unknown MSRs read 0, reads from ports and MMIO
 * give all ones), keeps written MSRs, blocks on HLT, and turns a raised I/O APIC line N into vector
 * 0x20 + N on vCPU 0. It is the foundation's smoke test and the model for docs/writing-an-algorithm.md;
 * hypervisor behaviour worth testing lives in the kvm algorithm. */
#include <hvsim/hv.h>

#include <stdlib.h>
#include <string.h>

#define MSR_SLOTS 64
#define VECTOR_BASE 0x20
#define RFLAGS_IF (UINT64_C(1) << 9)

struct minimal {
	hvsim_vm *vm;
	bool halt_stops; /* quirk halt_with_if_clear = stop */
	uint32_t msr_index[MSR_SLOTS];
	uint64_t msr_value[MSR_SLOTS];
	unsigned n_msrs;
	int pending[1];  /* vector waiting for vCPU 0, -1 none */
};

static const char *const halt_values[] = {"stop", "block"};

static const struct hvsim_quirk_desc minimal_quirks[] = {
	{
		.name = "halt_with_if_clear",
		.values = halt_values,
		.n_values = 2,
		.def = "stop",
		.doc = "stop: HLT with RFLAGS.IF clear ends the vCPU; block: it waits forever",
		.provenance = "hvsim smoke test (no upstream bug)",
	},
};

static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct minimal *m = calloc(1, sizeof(*m));

	if (!m)
		return HVSIM_E_NOMEM;
	m->vm = vm;
	m->halt_stops = strcmp(hvsim_vm_quirk(vm, "halt_with_if_clear"), "stop") == 0;
	m->pending[0] = -1;
	*priv = m;
	return HVSIM_OK;
}

static void vm_destroy(void *priv)
{
	free(priv);
}

static uint64_t msr_read(const struct minimal *m, uint32_t index)
{
	for (unsigned i = 0; i < m->n_msrs; i++)
		if (m->msr_index[i] == index)
			return m->msr_value[i];
	return 0;
}

static void msr_write(struct minimal *m, uint32_t index, uint64_t value)
{
	for (unsigned i = 0; i < m->n_msrs; i++) {
		if (m->msr_index[i] == index) {
			m->msr_value[i] = value;
			return;
		}
	}
	if (m->n_msrs < MSR_SLOTS) {
		m->msr_index[m->n_msrs] = index;
		m->msr_value[m->n_msrs++] = value;
	}
}

static void handle_hlt(struct minimal *m, hvsim_vcpu *v)
{
	bool if_set = hvsim_vcpu_rflags(v) & RFLAGS_IF;

	hvsim_vcpu_complete(v, 0);
	if (!if_set && m->halt_stops)
		hvsim_vcpu_stop(v, "hlt with interrupts disabled");
	else if (m->pending[0] < 0 || hvsim_vcpu_index(v) != 0)
		hvsim_vcpu_block(v);
}

static void handle_exit(struct minimal *m, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	const struct guest_op *op = &x->op;

	switch (op->kind) {
	case GOP_CPUID:
		for (unsigned r = GPR_RAX; r <= GPR_RBX; r++)
			hvsim_vcpu_set_gpr(v, r, 0);
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_RDMSR: hvsim_vcpu_complete(v, msr_read(m, op->u.msr.index)); break;
	case GOP_WRMSR:
		msr_write(m, op->u.msr.index, op->u.msr.value);
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_IO:
	case GOP_MMIO: hvsim_vcpu_complete(v, UINT64_MAX); break;
	case GOP_HLT: handle_hlt(m, v); break;
	default: hvsim_vcpu_complete(v, 0); break;
	}
}

static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct minimal *m = priv;
	const struct hvsim_exit *x = hvsim_vcpu_exit(v);

	if (x)
		handle_exit(m, v, x);
	if (hvsim_vcpu_index(v) == 0 && m->pending[0] >= 0 && hvsim_vcpu_interruptible(v)) {
		hvsim_vcpu_inject(v, (uint8_t)m->pending[0]);
		m->pending[0] = -1;
	}
	/* Refused (HVSIM_E_INPUT) when the exit handler blocked or stopped the vCPU: nothing to do. */
	(void)hvsim_vcpu_enter(v);
	return HVSIM_OK;
}

static void irq_line(void *priv, uint32_t gsi, uint8_t level)
{
	struct minimal *m = priv;

	if (!level || gsi > 0xff - VECTOR_BASE)
		return;
	m->pending[0] = (int)(VECTOR_BASE + gsi);
	hvsim_vcpu_kick(hvsim_vm_vcpu(m->vm, 0));
}

const struct hvsim_hv_ops hv_minimal_ops = {
	.abi_version = HVSIM_HV_ABI_VERSION,
	.size = sizeof(struct hvsim_hv_ops),
	.name = "minimal",
	.description = "smallest complete algorithm on generic hardware (smoke test, docs example)",
	.quirks = minimal_quirks,
	.n_quirks = 1,
	.vm_create = vm_create,
	.vm_destroy = vm_destroy,
	.vcpu_run = vcpu_run,
	.irq_line = irq_line,
};
