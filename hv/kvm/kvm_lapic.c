/* The emulated local APIC, as KVM's lapic.c runs it: guest accesses (x2APIC MSRs, the xAPIC page)
 * go to the LAPIC model; what the model reports is acted on here: IPIs are routed, EOIs reach the
 * I/O APIC (directly, or through the VMM's userspace in split mode), the timer is re-armed on the
 * virtual clock, and a vCPU waiting in HLT is woken. The lvtt_periodic_restart quirk lives here. */
#include "kvm_int.h"

#include <stdio.h>

/* KVM advertises EOI-broadcast suppression (LVR[24]); the split-irqchip quirk "disable" withdraws
 * it (KVM_X2APIC_DISABLE_SUPPRESS_EOI_BROADCAST). */
static bool directed_eoi(const struct kvm_vm *kvm)
{
	return kvm->split_eoi != SPLIT_EOI_DISABLE;
}

enum hvsim_status kvm_lapic_create(struct kvm_vcpu *kv)
{
	const struct hvsim_scenario *sc = hvsim_vm_scenario(kv->kvm->vm);
	struct lapic_config cfg;
	struct hvsim_error err;

	lapic_config_default(&cfg);
	cfg.apic_id = kv->index;
	cfg.bsp = kv->index == 0;
	cfg.apic_bus_khz = sc->machine.apic_bus_khz;
	cfg.tsc_khz = sc->machine.tsc_khz;
	cfg.directed_eoi = directed_eoi(kv->kvm);
	return lapic_create(&cfg, &kv->lapic, &err);
}

void kvm_lapic_set_directed_eoi(struct kvm_vcpu *kv)
{
	lapic_set_directed_eoi(kv->lapic, directed_eoi(kv->kvm));
}

static const char *timer_mode_name(uint32_t lvtt)
{
	switch ((lvtt & LAPIC_LVT_TIMER_MASK) >> LAPIC_LVT_TIMER_SHIFT) {
	case LAPIC_TIMER_ONESHOT: return "oneshot";
	case LAPIC_TIMER_PERIODIC: return "periodic";
	default: return "tsc-deadline";
	}
}

/* The lapic_timer event the timer_stall oracle follows (sim/oracle.h). */
static void emit_timer_config(struct kvm_vcpu *kv)
{
	uint64_t now = hvsim_vcpu_now(kv->v), dl;
	uint32_t lvtt = lapic_reg_peek(kv->lapic, LAPIC_REG_LVT_TIMER, now);
	struct trace_ev e;

	trace_ev_init(&e, now, (int32_t)kv->index, "lapic_timer");
	trace_ev_str(&e, "mode", timer_mode_name(lvtt));
	trace_ev_bool(&e, "masked", lvtt & LAPIC_LVT_MASKED);
	trace_ev_bool(&e, "armed", lapic_timer_deadline(kv->lapic, &dl));
	trace_ev_hex(&e, "vector", lvtt & LAPIC_LVT_VECTOR);
	trace_ev_num(&e, "tmict", lapic_reg_peek(kv->lapic, LAPIC_REG_TMICT, now));
	hvsim_emit(kv->kvm->vm, &e);
}

static void rearm_timer(struct kvm_vcpu *kv)
{
	hvsim_vm *vm = kv->kvm->vm;
	uint64_t at;

	if (kv->timer)
		hvsim_timer_cancel(vm, kv->timer);
	kv->timer = 0;
	if (lapic_timer_deadline(kv->lapic, &at)) {
		kv->timer_at = at;
		kv->timer = hvsim_timer_arm(vm, at, kv->v, COOKIE_LAPIC_TIMER);
	}
}

static void emit_eoi(struct kvm_vcpu *kv, int cleared)
{
	struct trace_ev e;
	int top = lapic_highest_isr(kv->lapic);

	trace_ev_init(&e, hvsim_vcpu_now(kv->v), (int32_t)kv->index, "eoi");
	if (cleared >= 0)
		trace_ev_hex(&e, "vector", (uint64_t)cleared);
	trace_ev_hex(&e, "isr", top < 0 ? 0 : (uint64_t)top);
	hvsim_emit(kv->kvm->vm, &e);
}

void kvm_lapic_after(struct kvm_vcpu *kv, const struct lapic_result *res)
{
	if (res->timer_changed || res->timer_fired)
		rearm_timer(kv);
	if (res->ipi)
		kvm_deliver_msg(kv->kvm, (int)kv->index, &res->ipi_msg);
	if (res->eoi_vector >= 0 || res->eoi_broadcast >= 0)
		emit_eoi(kv, res->eoi_vector);
	if (res->eoi_vector >= 0)
		kvm_apicv_isr_update(kv); /* apic_clear_isr */
	if (res->eoi_vector >= 0)
		kvm_ioapic_lapic_eoi(kv, (uint8_t)res->eoi_vector);
	/* a new interrupt: a halted vCPU wakes, a running one exits to take it (kvm_vcpu_kick) */
	if (res->irr_set) {
		kv->halted = false;
		hvsim_vcpu_kick(kv->v);
	}
}

/* Quirk lvtt_periodic_restart=restart: the 2019 proposal re-armed an expired one-shot count when
 * the guest switched LVTT to periodic without writing TMICT; hardware keeps the count at 0. */
static void lvtt_restart(struct kvm_vcpu *kv, uint32_t old_lvtt, uint64_t now)
{
	uint32_t lvtt = lapic_reg_peek(kv->lapic, LAPIC_REG_LVT_TIMER, now);
	uint32_t tmict = lapic_reg_peek(kv->lapic, LAPIC_REG_TMICT, now);
	struct lapic_result res;

	if (!kv->kvm->lvtt_restart || tmict == 0 ||
	    ((lvtt & LAPIC_LVT_TIMER_MASK) >> LAPIC_LVT_TIMER_SHIFT) != LAPIC_TIMER_PERIODIC ||
	    ((old_lvtt & LAPIC_LVT_TIMER_MASK) >> LAPIC_LVT_TIMER_SHIFT) != LAPIC_TIMER_ONESHOT ||
	    lapic_reg_peek(kv->lapic, LAPIC_REG_TMCCT, now) != 0)
		return;
	if (lapic_get_mode(kv->lapic) == LAPIC_MODE_X2APIC)
		lapic_msr_write(kv->lapic, LAPIC_X2APIC_MSR_BASE + (LAPIC_REG_TMICT >> 4), tmict,
		                now, &res);
	else
		lapic_mmio_write(kv->lapic, LAPIC_REG_TMICT, 4, tmict, now, &res);
	kvm_lapic_after(kv, &res);
}

static bool timer_register(uint32_t offset)
{
	return offset == LAPIC_REG_LVT_TIMER || offset == LAPIC_REG_TMICT ||
	       offset == LAPIC_REG_TDCR;
}

/* After a write to register offset: the quirk, then the oracle's view of the timer. */
static void after_write(struct kvm_vcpu *kv, uint32_t offset, uint32_t old_lvtt, uint64_t now)
{
	if (offset == LAPIC_REG_LVT_TIMER)
		lvtt_restart(kv, old_lvtt, now);
	if (timer_register(offset))
		emit_timer_config(kv);
}

bool kvm_lapic_msr_read(struct kvm_vcpu *kv, uint32_t msr, uint64_t *value)
{
	struct lapic_result res;
	bool handled;

	kvm_apicv_pull(kv);
	handled = lapic_msr_read(kv->lapic, msr, value, hvsim_vcpu_now(kv->v), &res);
	if (!handled)
		return false;
	if (res.gp)
		kvm_inject_gp(kv);
	kvm_lapic_after(kv, &res);
	kvm_apicv_push(kv);
	return true;
}

bool kvm_lapic_msr_write(struct kvm_vcpu *kv, uint32_t msr, uint64_t value)
{
	uint64_t now = hvsim_vcpu_now(kv->v);
	uint32_t old_lvtt = lapic_reg_peek(kv->lapic, LAPIC_REG_LVT_TIMER, now);
	uint32_t offset = (msr - LAPIC_X2APIC_MSR_BASE) << 4;
	struct lapic_result res;

	kvm_apicv_pull(kv);
	if (!lapic_msr_write(kv->lapic, msr, value, now, &res))
		return false;
	if (res.gp) {
		kvm_inject_gp(kv);
		return true;
	}
	kvm_lapic_after(kv, &res);
	if (msr == MSR_IA32_APIC_BASE) { /* kvm_lapic_set_base: the mode decides x2APIC APICv */
		kvm_apicv_update_mode(kv);
		kvm_apicv_isr_update(kv); /* a disabled APIC holds nothing in service */
	}
	if (msr >= LAPIC_X2APIC_MSR_BASE && msr <= LAPIC_X2APIC_MSR_LAST)
		after_write(kv, offset, old_lvtt, now);
	else if (msr == MSR_IA32_TSC_DEADLINE)
		emit_timer_config(kv);
	kvm_apicv_push(kv);
	return true;
}

void kvm_lapic_mmio(struct kvm_vcpu *kv, uint64_t offset, unsigned size, bool write,
                    uint64_t *value)
{
	uint64_t now = hvsim_vcpu_now(kv->v);
	uint32_t old_lvtt = lapic_reg_peek(kv->lapic, LAPIC_REG_LVT_TIMER, now);
	struct lapic_result res;

	kvm_apicv_pull(kv);
	if (write)
		lapic_mmio_write(kv->lapic, (uint32_t)offset, size, *value, now, &res);
	else
		lapic_mmio_read(kv->lapic, (uint32_t)offset, size, value, now, &res);
	kvm_lapic_after(kv, &res);
	if (write)
		after_write(kv, (uint32_t)offset & ~0xfu, old_lvtt, now);
	kvm_apicv_push(kv);
}

void kvm_lapic_timer_fire(struct kvm_vcpu *kv)
{
	struct lapic_result res;
	struct trace_ev e;

	kv->timer = 0;
	kvm_apicv_pull(kv);
	lapic_timer_expire(
	    kv->lapic, hvsim_vcpu_now(kv->v) > kv->timer_at ? hvsim_vcpu_now(kv->v) : kv->timer_at,
	    &res);
	if (res.timer_fired && res.irr_set) {
		trace_ev_init(&e, kv->timer_at, (int32_t)kv->index, "timer");
		trace_ev_hex(&e, "vector",
		             lapic_reg_peek(kv->lapic, LAPIC_REG_LVT_TIMER, kv->timer_at) &
		                 LAPIC_LVT_VECTOR);
		hvsim_emit(kv->kvm->vm, &e);
	}
	kvm_lapic_after(kv, &res);
	kvm_apicv_push(kv);
}

/* An EOI the hardware virtualized and reported with an EOI-induced exit (exit 45): the ISR bit is
 * already clear in the virtual-APIC page; what remains is KVM's kvm_apic_set_eoi_accelerated: tell
 * the I/O APIC. */
void kvm_lapic_eoi_virtualized(struct kvm_vcpu *kv, uint8_t vector)
{
	kvm_apicv_pull(kv);
	emit_eoi(kv, vector);
	kvm_ioapic_lapic_eoi(kv, vector);
	kvm_apicv_push(kv);
}
