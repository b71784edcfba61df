/* Event injection (SDM 27.6 "Event Injection") and re-injection of an event whose delivery a VM
 * exit interrupted (SDM 28.2.3 "Information for VM Exits During Event Delivery"): the event a
 * VM entry delivers through the guest IDT, and the VM-entry fields a hypervisor writes to deliver
 * again what IDT-vectoring information reports. Delivery itself (pushing the frame, nested
 * exceptions) is the engine's. */
#include "vmx_int.h"

#include <string.h>

uint32_t vmx_event_intr_info(const struct vmx_event *ev)
{
	uint32_t info;

	if (!ev->valid)
		return 0;
	info = ev->vector | ((uint32_t)(ev->type & 7u) << VMX_INTR_INFO_TYPE_SHIFT) |
	       VMX_INTR_INFO_VALID;
	if (ev->has_error)
		info |= VMX_INTR_INFO_DELIVER_CODE;
	return info;
}

void vmx_event_from_intr_info(uint32_t info, uint32_t error_code, uint32_t insn_len,
                              struct vmx_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->valid = (info & VMX_INTR_INFO_VALID) != 0;
	ev->vector = (uint8_t)INTR_INFO_VECTOR(info);
	ev->type = (uint8_t)INTR_INFO_TYPE(info);
	ev->has_error = (info & VMX_INTR_INFO_DELIVER_CODE) != 0;
	ev->error_code = ev->has_error ? error_code : 0;
	if (ev->type == VMX_INTR_SW_INT || ev->type == VMX_INTR_PRIV_SW_EXC ||
	    ev->type == VMX_INTR_SW_EXC)
		ev->insn_len = insn_len;
}

/* SDM 27.6 "Event Injection": a valid VM-entry interruption-information field with a vectored
 * type delivers that event; type 7 vector 0 makes an MTF VM exit pending instead (SDM 27.6.2).
 * Returns true when the entry is vectoring (SDM 27.7). */
bool vmx_entry_injection(const struct vmcs *v, struct vmx_event *ev, bool *pending_mtf)
{
	uint32_t info = (uint32_t)VF(v, VM_ENTRY_INTR_INFO_FIELD);

	memset(ev, 0, sizeof(*ev));
	*pending_mtf = false;
	if (!(info & INTR_INFO_VALID))
		return false;
	if (INTR_INFO_TYPE(info) == INTR_TYPE_OTHER_EVENT) {
		*pending_mtf = INTR_INFO_VECTOR(info) == 0;
		return false;
	}
	vmx_event_from_intr_info(info, (uint32_t)VF(v, VM_ENTRY_EXCEPTION_ERROR_CODE),
	                         (uint32_t)VF(v, VM_ENTRY_INSTRUCTION_LEN), ev);
	return true;
}

/* The rules a hypervisor follows to deliver again the event an exit interrupted (what KVM's
 * vmx_complete_interrupts does): the IDT-vectoring type, vector and error code become the
 * VM-entry interruption information; software events carry the VM-exit instruction length
 * (SDM 28.2.4 defines it for exits during their delivery); bit 12 and the reserved bits are
 * dropped. An NMI whose delivery was interrupted left blocking by NMI (virtual-NMI blocking with
 * "virtual NMIs", SDM 28.1), which VM entry would refuse together with an injected NMI
 * (SDM 27.3.1.5): the hypervisor clears it. */
void vmx_reinject_from_idt_vectoring(uint32_t idt_info, uint32_t idt_error, uint32_t exit_insn_len,
                                     struct vmx_reinject *out)
{
	unsigned type = INTR_INFO_TYPE(idt_info);

	memset(out, 0, sizeof(*out));
	if (!(idt_info & INTR_INFO_VALID))
		return;
	out->valid = true;
	out->intr_info = idt_info & (VMX_INTR_INFO_VECTOR_MASK | (7u << VMX_INTR_INFO_TYPE_SHIFT) |
	                             VMX_INTR_INFO_DELIVER_CODE | VMX_INTR_INFO_VALID);
	if (idt_info & VMX_INTR_INFO_DELIVER_CODE)
		out->error_code = idt_error;
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_PRIV_SW_EXC ||
	    type == INTR_TYPE_SOFT_EXC)
		out->insn_len = exit_insn_len;
	out->clear_nmi_blocking = type == INTR_TYPE_NMI;
}
