/* Support for hypervisors that virtualize the APIC: while a processor's APIC virtualization owns
 * the interrupt state (SDM 30.1 "Virtual Apic State"), the virtual-APIC page holds IRR, ISR and
 * TPR, and the hypervisor moves them between the page and this model when virtualization is
 * switched on or off, or when it must emulate an access itself. These functions bypass the
 * architectural access rules on purpose: they are the hypervisor's view, not the guest's. */
#include "lapic_int.h"

#define VEC_SLOTS       8
#define IRR_FIRST       SLOT(LAPIC_REG_IRR)
#define ISR_FIRST       SLOT(LAPIC_REG_ISR)
#define TMR_FIRST       SLOT(LAPIC_REG_TMR)
#define ILLEGAL_VECTORS 0xffffu /* vectors 0-15 never enter IRR/ISR (SDM 11.5.2) */

void lapic_get_vectors(const struct lapic *l, uint32_t irr[8], uint32_t isr[8], uint32_t tmr[8])
{
	for (unsigned i = 0; i < VEC_SLOTS; i++) {
		if (irr)
			irr[i] = l->regs[IRR_FIRST + i];
		if (isr)
			isr[i] = l->regs[ISR_FIRST + i];
		if (tmr)
			tmr[i] = l->regs[TMR_FIRST + i];
	}
}

void lapic_set_vectors(struct lapic *l, const uint32_t irr[8], const uint32_t isr[8])
{
	for (unsigned i = 0; i < VEC_SLOTS; i++) {
		uint32_t keep = i == 0 ? ~ILLEGAL_VECTORS : ~0u;

		l->regs[IRR_FIRST + i] = irr[i] & keep;
		l->regs[ISR_FIRST + i] = isr[i] & keep;
	}
	lapic_update_ppr(l);
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	lapic_write_tpr(l, tpr);
}
