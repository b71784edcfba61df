/* Snapshots of the kvm algorithm (struct hvsim_hv_ops snapshot/restore/snapshot_free): the whole
 * struct kvm_vm with its vCPUs, each vCPU's LAPIC model and vPMU, the I/O APIC, the userspace I/O
 * APIC's held messages, the vmcs12 store and L1's VMX processors (nested VMX). Engine event handles
 * (LAPIC timers, the delayed I/O APIC service) are plain values: the engine restores its event
 * queue with them. Restore copies into the live objects, so every pointer the VM holds (vCPUs,
 * LAPICs, I/O APIC, store, L1 processors) stays valid; a snapshot restores any number of times. */
#include "kvm_int.h"

#include <stdlib.h>
#include <string.h>

struct kvm_snap {
	unsigned n;                 /* vCPUs */
	struct kvm_vm *kvm;         /* a copy with its vCPUs; its pointers are never followed */
	struct lapic **lapic;       /* n copies */
	struct pmu **pmu;           /* n copies of the vPMUs */
	struct ioapic *io;          /* a copy */
	struct kvm_held *held;      /* NULL: nothing was ever held */
	struct vmcs_store *vmcs12s; /* NULL without nested VMX */
	struct vmx_cpu **l1;        /* n; NULL where L1's processor did not exist */
};

static size_t vm_bytes(unsigned n)
{
	return sizeof(struct kvm_vm) + n * sizeof(struct kvm_vcpu);
}

void kvm_snapshot_free(void *snap)
{
	struct kvm_snap *s = snap;

	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->lapic)
			free(s->lapic[i]);
		if (s->pmu)
			free(s->pmu[i]);
		if (s->l1)
			vmx_cpu_destroy(s->l1[i]);
	}
	free(s->lapic);
	free(s->pmu);
	free(s->l1);
	free(s->io);
	free(s->held);
	vmcs_store_destroy(s->vmcs12s);
	free(s->kvm);
	free(s);
}

static void *dup_bytes(const void *p, size_t bytes)
{
	void *q = malloc(bytes);

	if (q)
		memcpy(q, p, bytes);
	return q;
}

static bool take_vcpu(const struct kvm_vcpu *kv, struct kvm_snap *s, unsigned i)
{
	s->lapic[i] = malloc(lapic_state_size());
	s->pmu[i] = malloc(pmu_state_size());
	if (!s->lapic[i] || !s->pmu[i])
		return false;
	lapic_copy(s->lapic[i], kv->lapic);
	pmu_copy(s->pmu[i], kv->pmu);
	return !kv->nested.cpu || (s->l1[i] = vmx_cpu_clone(kv->nested.cpu)) != NULL;
}

static bool take(const struct kvm_vm *kvm, struct kvm_snap *s)
{
	s->kvm = dup_bytes(kvm, vm_bytes(kvm->n));
	s->lapic = calloc(kvm->n, sizeof(*s->lapic));
	s->pmu = calloc(kvm->n, sizeof(*s->pmu));
	s->l1 = calloc(kvm->n, sizeof(*s->l1));
	s->io = malloc(ioapic_state_size());
	if (!s->kvm || !s->lapic || !s->pmu || !s->l1 || !s->io)
		return false;
	ioapic_copy(s->io, kvm->ioapic);
	if (kvm->user_held && !(s->held = dup_bytes(kvm->user_held, sizeof(*s->held))))
		return false;
	if (kvm->vmcs12s && !(s->vmcs12s = vmcs_store_clone(kvm->vmcs12s)))
		return false;
	for (unsigned i = 0; i < kvm->n; i++)
		if (!take_vcpu(&kvm->vcpus[i], s, i))
			return false;
	return true;
}

void *kvm_snapshot(void *priv)
{
	const struct kvm_vm *kvm = priv;
	struct kvm_snap *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->n = kvm->n;
	if (!take(kvm, s)) {
		kvm_snapshot_free(s);
		return NULL;
	}
	return s;
}

/* L1's processor as the snapshot had it: assigned into the live one, created when the snapshot
 * had one and the VM has none yet, destroyed when the snapshot predates it. */
static bool restore_l1(struct kvm_vcpu *kv, const struct vmx_cpu *from)
{
	if (!from) {
		vmx_cpu_destroy(kv->nested.cpu);
		kv->nested.cpu = NULL;
	} else if (kv->nested.cpu) {
		vmx_cpu_assign(kv->nested.cpu, from);
	} else {
		kv->nested.cpu = vmx_cpu_clone(from); /* same memory ops and vmcs12 store */
	}
	return !from || kv->nested.cpu;
}

static bool restore_held(struct kvm_vm *kvm, const struct kvm_held *from)
{
	if (!from) {
		if (kvm->user_held)
			kvm->user_held->n = 0;
		return true;
	}
	if (!kvm->user_held && !(kvm->user_held = malloc(sizeof(*kvm->user_held))))
		return false;
	*kvm->user_held = *from;
	return true;
}

/* Everything that may need memory, before any plain state changes. */
static enum hvsim_status restore_owned(struct kvm_vm *kvm, const struct kvm_snap *s)
{
	if (s->vmcs12s && !vmcs_store_assign(kvm->vmcs12s, s->vmcs12s))
		return HVSIM_E_NOMEM;
	if (!restore_held(kvm, s->held))
		return HVSIM_E_NOMEM;
	for (unsigned i = 0; i < kvm->n; i++)
		if (!restore_l1(&kvm->vcpus[i], s->l1[i]))
			return HVSIM_E_NOMEM;
	return HVSIM_OK;
}

static void restore_vcpu(struct kvm_vcpu *kv, const struct kvm_vcpu *from, const struct lapic *l,
                         const struct pmu *pmu)
{
	struct kvm_vcpu keep = *kv;

	*kv = *from;
	kv->kvm = keep.kvm;
	kv->v = keep.v;
	kv->lapic = keep.lapic;
	kv->nested.cpu = keep.nested.cpu;
	kv->pmu = keep.pmu;
	lapic_copy(kv->lapic, l);
	pmu_copy(kv->pmu, pmu);
}

enum hvsim_status kvm_restore(void *priv, const void *snap)
{
	struct kvm_vm *kvm = priv, keep;
	const struct kvm_snap *s = snap;
	enum hvsim_status st;

	if (s->n != kvm->n || !s->vmcs12s != !kvm->vmcs12s)
		return HVSIM_E_INPUT;
	if ((st = restore_owned(kvm, s)) != HVSIM_OK)
		return st;
	keep = *kvm; /* the fixed part: the vCPUs follow one by one */
	*kvm = *s->kvm;
	kvm->vm = keep.vm;
	kvm->ioapic = keep.ioapic;
	kvm->user.io = keep.user.io;
	kvm->user_held = keep.user_held;
	kvm->vmcs12s = keep.vmcs12s;
	ioapic_copy(kvm->ioapic, s->io);
	for (unsigned i = 0; i < kvm->n; i++)
		restore_vcpu(&kvm->vcpus[i], &s->kvm->vcpus[i], s->lapic[i], s->pmu[i]);
	return HVSIM_OK;
}
