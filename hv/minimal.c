/* "minimal": the smallest complete algorithm, on the generic virtualization hardware (no VMX). It
 * emulates every exit with fixed answers (CPUID reports the vCPU index as the initial APIC ID in
 * leaf 1 EBX[31:24] and leaf 0xb EDX, other leaves and unknown MSRs read 0, reads from ports and
 * MMIO give all ones), keeps written MSRs, answers RDTSC from the guest TSC and RDRAND from the
 * run's PRNG, lets MOV to CR happen, blocks on HLT, sends a fixed IPI for an ICR write (xAPIC
 * offset 0x300 or x2APIC MSR 0x830; destination from the ICR's destination field), and turns a
 * raised I/O APIC line N into vector 0x20 + N on vCPU 0. It is the foundation's smoke test and the
 * model for docs/writing-an-algorithm.md; hypervisor behaviour worth testing lives in the kvm
 * algorithm. */
#include <hvsim/hv.h>

#include <stdlib.h>
#include <string.h>

#define MSR_SLOTS              64
#define VECTOR_BASE            0x20
#define RFLAGS_IF              (UINT64_C(1) << 9)
#define MAX_VCPUS              SCENARIO_MAX_VCPUS
#define MSR_X2APIC_ICR         0x830u
#define XAPIC_ICR_LO           0x300u
#define XAPIC_ICR_HI           0x310u
#define CPUID_LEAF_FEATURES    0x1u
#define CPUID_LEAF_X2APIC_TOPO 0xbu

struct minimal {
	hvsim_vm *vm;
	bool halt_stops;  /* quirk halt_with_if_clear = stop */
	bool rdtsc_exits; /* quirk rdtsc_exiting = on */
	uint32_t msr_index[MSR_SLOTS];
	uint64_t msr_value[MSR_SLOTS];
	unsigned n_msrs;
	int16_t pending[MAX_VCPUS];   /* vector waiting for each vCPU, -1 none */
	uint32_t icr_dest[MAX_VCPUS]; /* xAPIC ICR high (destination) last written, per vCPU */
};

static const char *const halt_values[] = {"stop", "block"};
static const char *const onoff_values[] = {"on", "off"};

static const struct hvsim_quirk_desc minimal_quirks[] = {
    {
        .name = "halt_with_if_clear",
        .values = halt_values,
        .n_values = 2,
        .def = "stop",
        .doc = "stop: HLT with RFLAGS.IF clear ends the vCPU; block: it waits forever",
        .provenance = "hvsim smoke test (no upstream bug)",
    },
    {
        .name = "rdtsc_exiting",
        .values = onoff_values,
        .n_values = 2,
        .def = "on",
        .doc = "on: RDTSC/RDTSCP exit; off: they read the guest TSC without exits",
        .provenance = "hvsim time tests (no upstream bug)",
    },
};

static enum hvsim_status vm_create(hvsim_vm *vm, void **priv)
{
	struct minimal *m = calloc(1, sizeof(*m));

	if (!m)
		return HVSIM_E_NOMEM;
	m->vm = vm;
	m->halt_stops = strcmp(hvsim_vm_quirk(vm, "halt_with_if_clear"), "stop") == 0;
	m->rdtsc_exits = strcmp(hvsim_vm_quirk(vm, "rdtsc_exiting"), "on") == 0;
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		m->pending[i] = -1;
	*priv = m;
	return HVSIM_OK;
}

static void vm_destroy(void *priv)
{
	free(priv);
}

static enum hvsim_status vcpu_create(void *priv, hvsim_vcpu *v)
{
	struct minimal *m = priv;

	if (!m->rdtsc_exits)
		hvsim_vcpu_set_intercepts(v, HVSIM_INTERCEPT_ALL &
		                                 ~(GOP_BIT(GOP_RDTSC) | GOP_BIT(GOP_RDTSCP)));
	return HVSIM_OK;
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

static void send_ipi(struct minimal *m, uint32_t dest, uint8_t vector)
{
	hvsim_vcpu *t = hvsim_vm_vcpu(m->vm, dest);

	if (!t || vector < 16)
		return;
	m->pending[dest] = vector;
	hvsim_vcpu_kick(t);
}

static void handle_hlt(struct minimal *m, hvsim_vcpu *v)
{
	bool if_set = hvsim_vcpu_rflags(v) & RFLAGS_IF;

	hvsim_vcpu_complete(v, 0);
	if (!if_set && m->halt_stops)
		hvsim_vcpu_stop(v, "hlt with interrupts disabled");
	else if (m->pending[hvsim_vcpu_index(v)] < 0)
		hvsim_vcpu_block(v);
}

/* The vCPU index as the initial APIC ID (SDM Vol. 2 CPUID leaf 01H EBX[31:24], leaf 0BH EDX). */
static void handle_cpuid(hvsim_vcpu *v, const struct guest_op *op)
{
	uint64_t id = hvsim_vcpu_index(v);

	for (unsigned r = GPR_RAX; r <= GPR_RBX; r++)
		hvsim_vcpu_set_gpr(v, r, 0);
	if (op->u.cpuid.leaf == CPUID_LEAF_FEATURES)
		hvsim_vcpu_set_gpr(v, GPR_RBX, (id & 0xff) << 24);
	else if (op->u.cpuid.leaf == CPUID_LEAF_X2APIC_TOPO)
		hvsim_vcpu_set_gpr(v, GPR_RDX, id);
	hvsim_vcpu_complete(v, 0);
}

static void handle_mmio(struct minimal *m, hvsim_vcpu *v, const struct guest_op *op)
{
	uint64_t off = op->u.mmio.gpa & 0xfff;
	unsigned self = hvsim_vcpu_index(v);

	if (op->u.mmio.write && op->u.mmio.region == HVSIM_MMIO_XAPIC && off == XAPIC_ICR_HI)
		m->icr_dest[self] = (uint32_t)(op->u.mmio.value >> 24) & 0xff;
	else if (op->u.mmio.write && op->u.mmio.region == HVSIM_MMIO_XAPIC && off == XAPIC_ICR_LO)
		send_ipi(m, m->icr_dest[self], (uint8_t)op->u.mmio.value);
	hvsim_vcpu_complete(v, UINT64_MAX);
}

static void handle_exit(struct minimal *m, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	const struct guest_op *op = &x->op;

	switch (op->kind) {
	case GOP_CPUID: handle_cpuid(v, op); break;
	case GOP_RDMSR: hvsim_vcpu_complete(v, msr_read(m, op->u.msr.index)); break;
	case GOP_WRMSR:
		msr_write(m, op->u.msr.index, op->u.msr.value);
		if (op->u.msr.index == MSR_X2APIC_ICR)
			send_ipi(m, (uint32_t)(op->u.msr.value >> 32), (uint8_t)op->u.msr.value);
		hvsim_vcpu_complete(v, 0);
		break;
	case GOP_IO: hvsim_vcpu_complete(v, UINT64_MAX); break;
	case GOP_MMIO: handle_mmio(m, v, op); break;
	case GOP_RDTSC:
	case GOP_RDTSCP: hvsim_vcpu_complete(v, hvsim_vcpu_tsc(v)); break;
	case GOP_RDRAND:
	case GOP_RDSEED: hvsim_vcpu_complete(v, hvsim_vm_random(m->vm)); break;
	case GOP_CR:
		hvsim_vcpu_complete(v, op->u.cr.access == CR_ACCESS_MOV_FROM_CR
		                           ? hvsim_vcpu_cr(v, op->u.cr.cr)
		                           : 0);
		break;
	case GOP_HLT: handle_hlt(m, v); break;
	default: hvsim_vcpu_complete(v, 0); break;
	}
}

static enum hvsim_status vcpu_run(void *priv, hvsim_vcpu *v)
{
	struct minimal *m = priv;
	const struct hvsim_exit *x = hvsim_vcpu_exit(v);
	unsigned i = hvsim_vcpu_index(v);

	if (x)
		handle_exit(m, v, x);
	if (m->pending[i] >= 0 && hvsim_vcpu_interruptible(v)) {
		hvsim_vcpu_inject(v, (uint8_t)m->pending[i]);
		m->pending[i] = -1;
	}
	/* Refused (HVSIM_E_INPUT) when the exit handler blocked or stopped the vCPU: nothing to do.
	 */
	(void)hvsim_vcpu_enter(v);
	return HVSIM_OK;
}

static void irq_line(void *priv, uint32_t gsi, uint8_t level)
{
	struct minimal *m = priv;

	if (!level || gsi > 0xff - VECTOR_BASE)
		return;
	m->pending[0] = (int16_t)(VECTOR_BASE + gsi);
	hvsim_vcpu_kick(hvsim_vm_vcpu(m->vm, 0));
}

static void *snapshot(void *priv)
{
	struct minimal *s = malloc(sizeof(*s));

	if (s)
		memcpy(s, priv, sizeof(*s));
	return s;
}

static enum hvsim_status restore(void *priv, const void *snap)
{
	memcpy(priv, snap, sizeof(struct minimal));
	return HVSIM_OK;
}

const struct hvsim_hv_ops hv_minimal_ops = {
    .abi_version = HVSIM_HV_ABI_VERSION,
    .size = sizeof(struct hvsim_hv_ops),
    .name = "minimal",
    .description = "smallest complete algorithm on generic hardware (smoke test, docs example)",
    .quirks = minimal_quirks,
    .n_quirks = 2,
    .vm_create = vm_create,
    .vm_destroy = vm_destroy,
    .vcpu_create = vcpu_create,
    .vcpu_run = vcpu_run,
    .irq_line = irq_line,
    .snapshot = snapshot,
    .restore = restore,
    .snapshot_free = free,
};
