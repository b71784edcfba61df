/* The I/O APIC as KVM wires it. Kernel irqchip: KVM's in-kernel I/O APIC (ioapic.c) sees LAPIC EOI
 * broadcasts directly. Split irqchip: the I/O APIC belongs to the VMM's userspace and behaves like
 * QEMU's hw/intc/ioapic.c; KVM forwards an EOI of a vector the userspace I/O APIC routes with a
 * KVM_EXIT_IOAPIC_EOI exit (lapic.c kvm_ioapic_send_eoi), and guest accesses to its MMIO window are
 * KVM_EXIT_MMIO exits. Both re-deliver a level interrupt whose line is still asserted at EOI, and
 * both throttle: the SUCCESSIVE_IRQ_MAX-th re-delivery in a row is delayed by 10 ms (KVM commit
 * 184564efae4d "kvm: ioapic: conditionally delay irq delivery during eoi broadcast"; QEMU commit
 * "ioapic: allow buggy guests mishandling level-triggered interrupts to make progress").
 * The split_irqchip_eoi_broadcast quirk decides whether an EOI with SPIV[12] (Directed EOI) set
 * still exits to userspace: "KVM: x86: skip userspace IOAPIC EOI exit when Directed EOI is
 * enabled". */
#include "kvm_int.h"

#include <stdlib.h>
#include <string.h>

static struct kvm_held *held_of(struct kvm_vm *kvm);

enum hvsim_status kvm_ioapic_create(struct kvm_vm *kvm)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(kvm->vm);
	struct ioapic_config cfg;
	struct hvsim_error err;

	ioapic_config_default(&cfg);
	cfg.pins = sc->machine.ioapic_pins;
	cfg.version = (uint8_t)sc->machine.ioapic_version;
	if (ioapic_create(&cfg, &kvm->user.io, &err) != HVSIM_OK)
		return err.status;
	kvm->ioapic = kvm->user.io;
	return HVSIM_OK;
}

void kvm_ioapic_destroy(struct kvm_vm *kvm)
{
	ioapic_destroy(kvm->user.io);
	free(held_of(kvm));
}

void kvm_userspace_exit(struct kvm_vcpu *kv, const char *reason, const char *key, uint64_t value)
{
	struct trace_ev e;

	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "userspace_exit");
	trace_ev_str(&e, "reason", reason);
	trace_ev_hex(&e, key, value);
	hvsim_emit(kv->kvm->vm, &e);
	hvsim_vcpu_charge(kv->v, KVM_USERSPACE_EXIT_NS);
}

static void send_all(struct kvm_vm *kvm, const struct ioapic_result *res)
{
	for (uint32_t i = 0; i < res->n_msgs; i++)
		kvm_deliver_msg(kvm, -1, &res->msgs[i].irq);
}

void kvm_ioapic_set_line(struct kvm_vm *kvm, uint32_t gsi, uint8_t level)
{
	struct ioapic_result res;

	if (level == 0)
		kvm->user.successive[gsi < KVM_IOAPIC_GSIS ? gsi : 0] = 0;
	if (ioapic_assert_irq(kvm->ioapic, gsi, level != 0, &res))
		send_all(kvm, &res);
}

/* The held list lives beside the device; allocated on first use (most runs never throttle). */
static struct kvm_held *held_of(struct kvm_vm *kvm)
{
	return (struct kvm_held *)kvm->user_held;
}

static void hold(struct kvm_vm *kvm, const struct lapic_irq *msg)
{
	struct kvm_held *h = held_of(kvm);

	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return;
		kvm->user_held = h;
	}
	if (h->n < KVM_IOAPIC_GSIS)
		h->msg[h->n++] = *msg;
	if (!kvm->user.delayed)
		kvm->user.delayed =
		    hvsim_timer_arm(kvm->vm, hvsim_vm_now(kvm->vm) + KVM_IOAPIC_EOI_DELAY_NS, NULL,
		                    COOKIE_IOAPIC_DELAYED);
}

/* ioapic_eoi_broadcast / kvm_ioapic_update_eoi_one: count re-deliveries per pin, hold the one that
 * reaches SUCCESSIVE_IRQ_MAX, send the others. */
static void eoi_and_redeliver(struct kvm_vm *kvm, uint8_t vector)
{
	struct ioapic_result res;

	ioapic_eoi(kvm->ioapic, vector, &res);
	for (uint32_t p = 0; p < KVM_IOAPIC_GSIS; p++) {
		uint64_t rte = ioapic_redirection(kvm->ioapic, p);

		if ((rte & IOAPIC_RTE_VECTOR) == vector && !ioapic_pin_asserted(kvm->ioapic, p))
			kvm->user.successive[p] = 0;
	}
	for (uint32_t i = 0; i < res.n_msgs; i++) {
		uint32_t pin = res.msgs[i].pin;

		if (pin < KVM_IOAPIC_GSIS &&
		    ++kvm->user.successive[pin] >= KVM_SUCCESSIVE_IRQ_MAX) {
			kvm->user.successive[pin] = 0;
			hold(kvm, &res.msgs[i].irq);
		} else {
			kvm_deliver_msg(kvm, -1, &res.msgs[i].irq);
		}
	}
}

void kvm_ioapic_delayed(struct kvm_vm *kvm)
{
	struct kvm_held *h = held_of(kvm);
	unsigned n = h ? h->n : 0;

	kvm->user.delayed = 0;
	if (h)
		h->n = 0;
	for (unsigned i = 0; i < n; i++)
		kvm_deliver_msg(kvm, -1, &h->msg[i]);
}

/* kvm_ioapic_handles_vector: a vector some redirection entry uses for a level interrupt. */
static bool handles_vector(struct kvm_vm *kvm, uint8_t vector)
{
	for (uint32_t p = 0; p < KVM_IOAPIC_GSIS; p++) {
		uint64_t rte = ioapic_redirection(kvm->ioapic, p);

		if ((rte & IOAPIC_RTE_VECTOR) == vector && (rte & IOAPIC_RTE_LEVEL))
			return true;
	}
	return false;
}

static bool tmr_set(struct kvm_vcpu *kv, uint8_t vector)
{
	uint32_t tmr[8];

	lapic_get_vectors(kv->lapic, NULL, NULL, tmr);
	return tmr[vector / 32] & (1u << (vector % 32));
}

static bool directed_eoi(struct kvm_vcpu *kv)
{
	uint64_t now = hvsim_vcpu_now(kv->v);

	return lapic_reg_peek(kv->lapic, LAPIC_REG_SVR, now) & LAPIC_SVR_SUPPRESS_EOI;
}

void kvm_ioapic_lapic_eoi(struct kvm_vcpu *kv, uint8_t vector)
{
	struct kvm_vm *kvm = kv->kvm;

	if (!handles_vector(kvm, vector))
		return;
	if (!kvm->split) {
		/* in-kernel: level EOIs only, and none while Directed EOI is on (ioapic.c) */
		if (tmr_set(kv, vector) && !directed_eoi(kv))
			eoi_and_redeliver(kvm, vector);
		return;
	}
	if (kvm->split_eoi == SPLIT_EOI_SUPPRESS && directed_eoi(kv))
		return; /* the fix: the guest will EOI the I/O APIC itself */
	kvm_userspace_exit(kv, "IOAPIC_EOI", "vector", vector);
	eoi_and_redeliver(kvm, vector);
}

bool kvm_ioapic_mmio(struct kvm_vcpu *kv, uint64_t gpa, unsigned size, bool write, uint64_t *value)
{
	struct kvm_vm *kvm = kv->kvm;
	uint32_t off = (uint32_t)(gpa - IOAPIC_DEFAULT_BASE);
	struct ioapic_result res;

	if (gpa < IOAPIC_DEFAULT_BASE || gpa - IOAPIC_DEFAULT_BASE >= IOAPIC_MMIO_SIZE)
		return false;
	if (kvm->split)
		kvm_userspace_exit(kv, "MMIO", "gpa", gpa);
	if (!write) {
		ioapic_mmio_read(kvm->ioapic, off, size, &res);
		*value = res.value;
		return true;
	}
	if (off == IOAPIC_EOI && ioapic_get_config(kvm->ioapic)->version == 0x20) {
		/* the explicit EOI a Directed-EOI guest writes (IOxAPIC EOI register) */
		eoi_and_redeliver(kvm, (uint8_t)*value);
		return true;
	}
	ioapic_mmio_write(kvm->ioapic, off, size, *value, &res);
	send_all(kvm, &res);
	return true;
}
