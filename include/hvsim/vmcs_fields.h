/* Every VMCS field of SDM Vol. 3D Appendix B "Field Encoding in VMCS" (order number 325462-084US),
 * as one X-macro list sorted by encoding: X(NAME, encoding, req1, req2). The field is supported on
 * a profile when req1 or req2 holds (VMCS_REQ_NONE: always; VMCS_REQ_NEVER: only in SEAM, never
 * here); each requirement names the control whose 1-setting brings the field, as the SDM's chapter
 * 25 "Virtual Machine Control Structures" says field by field ("This field exists only on
 * processors that support the 1-setting of ..."). Names follow Linux KVM's vmx.h where KVM has the
 * field and the SDM's wording otherwise. */
#ifndef HVSIM_VMCS_FIELDS_H
#define HVSIM_VMCS_FIELDS_H

/* Requirement kinds: which capability MSR's allowed-1 half (VMFUNC: the MSR itself) holds the bit.
 */
#define VMCS_REQK_NONE   0
#define VMCS_REQK_PIN    1
#define VMCS_REQK_PROC   2
#define VMCS_REQK_PROC2  3
#define VMCS_REQK_PROC3  4
#define VMCS_REQK_EXIT   5
#define VMCS_REQK_ENTRY  6
#define VMCS_REQK_VMFUNC 7
#define VMCS_REQK_NEVER  8

#define VMCS_REQ(kind, bit) ((VMCS_REQK_##kind << 8) | (bit))
#define VMCS_REQ_NONE       VMCS_REQ(NONE, 0)
#define VMCS_REQ_NEVER      VMCS_REQ(NEVER, 0)

#define VMCS_FIELDS(X)                                                                  \
	/* B.1.1 16-bit control fields */                                               \
	X(VIRTUAL_PROCESSOR_ID, 0x0000, VMCS_REQ(PROC2, 5), VMCS_REQ_NEVER)             \
	X(POSTED_INTR_NV, 0x0002, VMCS_REQ(PIN, 7), VMCS_REQ_NEVER)                     \
	X(EPTP_INDEX, 0x0004, VMCS_REQ(PROC2, 18), VMCS_REQ_NEVER)                      \
	X(HLAT_PREFIX_SIZE, 0x0006, VMCS_REQ(PROC3, 1), VMCS_REQ_NEVER)                 \
	X(LAST_PID_POINTER_INDEX, 0x0008, VMCS_REQ(PROC3, 4), VMCS_REQ_NEVER)           \
	/* B.1.2 16-bit guest-state fields */                                           \
	X(GUEST_ES_SELECTOR, 0x0800, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_CS_SELECTOR, 0x0802, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_SS_SELECTOR, 0x0804, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_DS_SELECTOR, 0x0806, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_FS_SELECTOR, 0x0808, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_GS_SELECTOR, 0x080a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_LDTR_SELECTOR, 0x080c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                   \
	X(GUEST_TR_SELECTOR, 0x080e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_INTR_STATUS, 0x0810, VMCS_REQ(PROC2, 9), VMCS_REQ_NEVER)                \
	X(GUEST_PML_INDEX, 0x0812, VMCS_REQ(PROC2, 17), VMCS_REQ_NEVER)                 \
	X(GUEST_UINV, 0x0814, VMCS_REQ(ENTRY, 19), VMCS_REQ(EXIT, 27))                  \
	/* B.1.3 16-bit host-state fields */                                            \
	X(HOST_ES_SELECTOR, 0x0c00, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_CS_SELECTOR, 0x0c02, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_SS_SELECTOR, 0x0c04, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_DS_SELECTOR, 0x0c06, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_FS_SELECTOR, 0x0c08, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_GS_SELECTOR, 0x0c0a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(HOST_TR_SELECTOR, 0x0c0c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	/* B.2.1 64-bit control fields */                                               \
	X(IO_BITMAP_A, 0x2000, VMCS_REQ_NONE, VMCS_REQ_NEVER)                           \
	X(IO_BITMAP_B, 0x2002, VMCS_REQ_NONE, VMCS_REQ_NEVER)                           \
	X(MSR_BITMAP, 0x2004, VMCS_REQ(PROC, 28), VMCS_REQ_NEVER)                       \
	X(VM_EXIT_MSR_STORE_ADDR, 0x2006, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(VM_EXIT_MSR_LOAD_ADDR, 0x2008, VMCS_REQ_NONE, VMCS_REQ_NEVER)                 \
	X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(EXECUTIVE_VMCS_POINTER, 0x200c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(PML_ADDRESS, 0x200e, VMCS_REQ(PROC2, 17), VMCS_REQ_NEVER)                     \
	X(TSC_OFFSET, 0x2010, VMCS_REQ_NONE, VMCS_REQ_NEVER)                            \
	X(VIRTUAL_APIC_PAGE_ADDR, 0x2012, VMCS_REQ(PROC, 21), VMCS_REQ_NEVER)           \
	X(APIC_ACCESS_ADDR, 0x2014, VMCS_REQ(PROC2, 0), VMCS_REQ_NEVER)                 \
	X(POSTED_INTR_DESC_ADDR, 0x2016, VMCS_REQ(PIN, 7), VMCS_REQ_NEVER)              \
	X(VM_FUNCTION_CONTROL, 0x2018, VMCS_REQ(PROC2, 13), VMCS_REQ_NEVER)             \
	X(EPT_POINTER, 0x201a, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)                      \
	X(EOI_EXIT_BITMAP0, 0x201c, VMCS_REQ(PROC2, 9), VMCS_REQ_NEVER)                 \
	X(EOI_EXIT_BITMAP1, 0x201e, VMCS_REQ(PROC2, 9), VMCS_REQ_NEVER)                 \
	X(EOI_EXIT_BITMAP2, 0x2020, VMCS_REQ(PROC2, 9), VMCS_REQ_NEVER)                 \
	X(EOI_EXIT_BITMAP3, 0x2022, VMCS_REQ(PROC2, 9), VMCS_REQ_NEVER)                 \
	X(EPTP_LIST_ADDRESS, 0x2024, VMCS_REQ(VMFUNC, 0), VMCS_REQ_NEVER)               \
	X(VMREAD_BITMAP, 0x2026, VMCS_REQ(PROC2, 14), VMCS_REQ_NEVER)                   \
	X(VMWRITE_BITMAP, 0x2028, VMCS_REQ(PROC2, 14), VMCS_REQ_NEVER)                  \
	X(VE_INFO_ADDRESS, 0x202a, VMCS_REQ(PROC2, 18), VMCS_REQ_NEVER)                 \
	X(XSS_EXIT_BITMAP, 0x202c, VMCS_REQ(PROC2, 20), VMCS_REQ_NEVER)                 \
	X(ENCLS_EXITING_BITMAP, 0x202e, VMCS_REQ(PROC2, 15), VMCS_REQ_NEVER)            \
	X(SPP_TABLE_POINTER, 0x2030, VMCS_REQ(PROC2, 23), VMCS_REQ_NEVER)               \
	X(TSC_MULTIPLIER, 0x2032, VMCS_REQ(PROC2, 25), VMCS_REQ_NEVER)                  \
	X(TERTIARY_VM_EXEC_CONTROL, 0x2034, VMCS_REQ(PROC, 17), VMCS_REQ_NEVER)         \
	X(ENCLV_EXITING_BITMAP, 0x2036, VMCS_REQ(PROC2, 28), VMCS_REQ_NEVER)            \
	X(LOW_PASID_DIRECTORY, 0x2038, VMCS_REQ(PROC2, 21), VMCS_REQ_NEVER)             \
	X(HIGH_PASID_DIRECTORY, 0x203a, VMCS_REQ(PROC2, 21), VMCS_REQ_NEVER)            \
	X(SHARED_EPT_POINTER, 0x203c, VMCS_REQ_NEVER, VMCS_REQ_NEVER)                   \
	X(PCONFIG_EXITING_BITMAP, 0x203e, VMCS_REQ(PROC2, 27), VMCS_REQ_NEVER)          \
	X(HLAT_POINTER, 0x2040, VMCS_REQ(PROC3, 1), VMCS_REQ_NEVER)                     \
	X(PID_POINTER_TABLE, 0x2042, VMCS_REQ(PROC3, 4), VMCS_REQ_NEVER)                \
	X(SECONDARY_VM_EXIT_CONTROLS, 0x2044, VMCS_REQ(EXIT, 31), VMCS_REQ_NEVER)       \
	X(IA32_SPEC_CTRL_MASK, 0x204a, VMCS_REQ(PROC3, 7), VMCS_REQ_NEVER)              \
	X(IA32_SPEC_CTRL_SHADOW, 0x204c, VMCS_REQ(PROC3, 7), VMCS_REQ_NEVER)            \
	/* B.2.2 64-bit read-only data field */                                         \
	X(GUEST_PHYSICAL_ADDRESS, 0x2400, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)           \
	/* B.2.3 64-bit guest-state fields */                                           \
	X(VMCS_LINK_POINTER, 0x2800, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_IA32_DEBUGCTL, 0x2802, VMCS_REQ_NONE, VMCS_REQ_NEVER)                   \
	X(GUEST_IA32_PAT, 0x2804, VMCS_REQ(ENTRY, 14), VMCS_REQ(EXIT, 18))              \
	X(GUEST_IA32_EFER, 0x2806, VMCS_REQ(ENTRY, 15), VMCS_REQ(EXIT, 20))             \
	X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, VMCS_REQ(ENTRY, 13), VMCS_REQ(EXIT, 30)) \
	X(GUEST_PDPTR0, 0x280a, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)                     \
	X(GUEST_PDPTR1, 0x280c, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)                     \
	X(GUEST_PDPTR2, 0x280e, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)                     \
	X(GUEST_PDPTR3, 0x2810, VMCS_REQ(PROC2, 1), VMCS_REQ_NEVER)                     \
	X(GUEST_BNDCFGS, 0x2812, VMCS_REQ(ENTRY, 16), VMCS_REQ(EXIT, 23))               \
	X(GUEST_IA32_RTIT_CTL, 0x2814, VMCS_REQ(ENTRY, 18), VMCS_REQ(EXIT, 25))         \
	X(GUEST_IA32_LBR_CTL, 0x2816, VMCS_REQ(ENTRY, 21), VMCS_REQ(EXIT, 26))          \
	X(GUEST_IA32_PKRS, 0x2818, VMCS_REQ(ENTRY, 22), VMCS_REQ_NEVER)                 \
	/* B.2.4 64-bit host-state fields */                                            \
	X(HOST_IA32_PAT, 0x2c00, VMCS_REQ(EXIT, 19), VMCS_REQ_NEVER)                    \
	X(HOST_IA32_EFER, 0x2c02, VMCS_REQ(EXIT, 21), VMCS_REQ_NEVER)                   \
	X(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04, VMCS_REQ(EXIT, 12), VMCS_REQ_NEVER)       \
	X(HOST_IA32_PKRS, 0x2c06, VMCS_REQ(EXIT, 29), VMCS_REQ_NEVER)                   \
	/* B.3.1 32-bit control fields */                                               \
	X(PIN_BASED_VM_EXEC_CONTROL, 0x4000, VMCS_REQ_NONE, VMCS_REQ_NEVER)             \
	X(CPU_BASED_VM_EXEC_CONTROL, 0x4002, VMCS_REQ_NONE, VMCS_REQ_NEVER)             \
	X(EXCEPTION_BITMAP, 0x4004, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006, VMCS_REQ_NONE, VMCS_REQ_NEVER)            \
	X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008, VMCS_REQ_NONE, VMCS_REQ_NEVER)           \
	X(CR3_TARGET_COUNT, 0x400a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(VM_EXIT_CONTROLS, 0x400c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(VM_EXIT_MSR_STORE_COUNT, 0x400e, VMCS_REQ_NONE, VMCS_REQ_NEVER)               \
	X(VM_EXIT_MSR_LOAD_COUNT, 0x4010, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(VM_ENTRY_CONTROLS, 0x4012, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014, VMCS_REQ_NONE, VMCS_REQ_NEVER)               \
	X(VM_ENTRY_INTR_INFO_FIELD, 0x4016, VMCS_REQ_NONE, VMCS_REQ_NEVER)              \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018, VMCS_REQ_NONE, VMCS_REQ_NEVER)         \
	X(VM_ENTRY_INSTRUCTION_LEN, 0x401a, VMCS_REQ_NONE, VMCS_REQ_NEVER)              \
	X(TPR_THRESHOLD, 0x401c, VMCS_REQ(PROC, 21), VMCS_REQ_NEVER)                    \
	X(SECONDARY_VM_EXEC_CONTROL, 0x401e, VMCS_REQ(PROC, 31), VMCS_REQ_NEVER)        \
	X(PLE_GAP, 0x4020, VMCS_REQ(PROC2, 10), VMCS_REQ_NEVER)                         \
	X(PLE_WINDOW, 0x4022, VMCS_REQ(PROC2, 10), VMCS_REQ_NEVER)                      \
	X(NOTIFY_WINDOW, 0x4024, VMCS_REQ(PROC2, 31), VMCS_REQ_NEVER)                   \
	/* B.3.2 32-bit read-only data fields */                                        \
	X(VM_INSTRUCTION_ERROR, 0x4400, VMCS_REQ_NONE, VMCS_REQ_NEVER)                  \
	X(VM_EXIT_REASON, 0x4402, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(VM_EXIT_INTR_INFO, 0x4404, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(VM_EXIT_INTR_ERROR_CODE, 0x4406, VMCS_REQ_NONE, VMCS_REQ_NEVER)               \
	X(IDT_VECTORING_INFO_FIELD, 0x4408, VMCS_REQ_NONE, VMCS_REQ_NEVER)              \
	X(IDT_VECTORING_ERROR_CODE, 0x440a, VMCS_REQ_NONE, VMCS_REQ_NEVER)              \
	X(VM_EXIT_INSTRUCTION_LEN, 0x440c, VMCS_REQ_NONE, VMCS_REQ_NEVER)               \
	X(VMX_INSTRUCTION_INFO, 0x440e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                  \
	/* B.3.3 32-bit guest-state fields */                                           \
	X(GUEST_ES_LIMIT, 0x4800, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_CS_LIMIT, 0x4802, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_SS_LIMIT, 0x4804, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_DS_LIMIT, 0x4806, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_FS_LIMIT, 0x4808, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_GS_LIMIT, 0x480a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_LDTR_LIMIT, 0x480c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(GUEST_TR_LIMIT, 0x480e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(GUEST_GDTR_LIMIT, 0x4810, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(GUEST_IDTR_LIMIT, 0x4812, VMCS_REQ_NONE, VMCS_REQ_NEVER)                      \
	X(GUEST_ES_AR_BYTES, 0x4814, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_CS_AR_BYTES, 0x4816, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_SS_AR_BYTES, 0x4818, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_DS_AR_BYTES, 0x481a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_FS_AR_BYTES, 0x481c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_GS_AR_BYTES, 0x481e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_LDTR_AR_BYTES, 0x4820, VMCS_REQ_NONE, VMCS_REQ_NEVER)                   \
	X(GUEST_TR_AR_BYTES, 0x4822, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(GUEST_INTERRUPTIBILITY_INFO, 0x4824, VMCS_REQ_NONE, VMCS_REQ_NEVER)           \
	X(GUEST_ACTIVITY_STATE, 0x4826, VMCS_REQ_NONE, VMCS_REQ_NEVER)                  \
	X(GUEST_SMBASE, 0x4828, VMCS_REQ_NONE, VMCS_REQ_NEVER)                          \
	X(GUEST_SYSENTER_CS, 0x482a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(VMX_PREEMPTION_TIMER_VALUE, 0x482e, VMCS_REQ(PIN, 6), VMCS_REQ_NEVER)         \
	/* B.3.4 32-bit host-state field */                                             \
	X(HOST_IA32_SYSENTER_CS, 0x4c00, VMCS_REQ_NONE, VMCS_REQ_NEVER)                 \
	/* B.4.1 natural-width control fields */                                        \
	X(CR0_GUEST_HOST_MASK, 0x6000, VMCS_REQ_NONE, VMCS_REQ_NEVER)                   \
	X(CR4_GUEST_HOST_MASK, 0x6002, VMCS_REQ_NONE, VMCS_REQ_NEVER)                   \
	X(CR0_READ_SHADOW, 0x6004, VMCS_REQ_NONE, VMCS_REQ_NEVER)                       \
	X(CR4_READ_SHADOW, 0x6006, VMCS_REQ_NONE, VMCS_REQ_NEVER)                       \
	X(CR3_TARGET_VALUE0, 0x6008, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(CR3_TARGET_VALUE1, 0x600a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(CR3_TARGET_VALUE2, 0x600c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	X(CR3_TARGET_VALUE3, 0x600e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                     \
	/* B.4.2 natural-width read-only data fields */                                 \
	X(EXIT_QUALIFICATION, 0x6400, VMCS_REQ_NONE, VMCS_REQ_NEVER)                    \
	X(IO_RCX, 0x6402, VMCS_REQ_NONE, VMCS_REQ_NEVER)                                \
	X(IO_RSI, 0x6404, VMCS_REQ_NONE, VMCS_REQ_NEVER)                                \
	X(IO_RDI, 0x6406, VMCS_REQ_NONE, VMCS_REQ_NEVER)                                \
	X(IO_RIP, 0x6408, VMCS_REQ_NONE, VMCS_REQ_NEVER)                                \
	X(GUEST_LINEAR_ADDRESS, 0x640a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                  \
	/* B.4.3 natural-width guest-state fields */                                    \
	X(GUEST_CR0, 0x6800, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_CR3, 0x6802, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_CR4, 0x6804, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_ES_BASE, 0x6806, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_CS_BASE, 0x6808, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_SS_BASE, 0x680a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_DS_BASE, 0x680c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_FS_BASE, 0x680e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_GS_BASE, 0x6810, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_LDTR_BASE, 0x6812, VMCS_REQ_NONE, VMCS_REQ_NEVER)                       \
	X(GUEST_TR_BASE, 0x6814, VMCS_REQ_NONE, VMCS_REQ_NEVER)                         \
	X(GUEST_GDTR_BASE, 0x6816, VMCS_REQ_NONE, VMCS_REQ_NEVER)                       \
	X(GUEST_IDTR_BASE, 0x6818, VMCS_REQ_NONE, VMCS_REQ_NEVER)                       \
	X(GUEST_DR7, 0x681a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_RSP, 0x681c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_RIP, 0x681e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                             \
	X(GUEST_RFLAGS, 0x6820, VMCS_REQ_NONE, VMCS_REQ_NEVER)                          \
	X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822, VMCS_REQ_NONE, VMCS_REQ_NEVER)          \
	X(GUEST_SYSENTER_ESP, 0x6824, VMCS_REQ_NONE, VMCS_REQ_NEVER)                    \
	X(GUEST_SYSENTER_EIP, 0x6826, VMCS_REQ_NONE, VMCS_REQ_NEVER)                    \
	X(GUEST_S_CET, 0x6828, VMCS_REQ(ENTRY, 20), VMCS_REQ(EXIT, 28))                 \
	X(GUEST_SSP, 0x682a, VMCS_REQ(ENTRY, 20), VMCS_REQ(EXIT, 28))                   \
	X(GUEST_INTR_SSP_TABLE, 0x682c, VMCS_REQ(ENTRY, 20), VMCS_REQ(EXIT, 28))        \
	/* B.4.4 natural-width host-state fields */                                     \
	X(HOST_CR0, 0x6c00, VMCS_REQ_NONE, VMCS_REQ_NEVER)                              \
	X(HOST_CR3, 0x6c02, VMCS_REQ_NONE, VMCS_REQ_NEVER)                              \
	X(HOST_CR4, 0x6c04, VMCS_REQ_NONE, VMCS_REQ_NEVER)                              \
	X(HOST_FS_BASE, 0x6c06, VMCS_REQ_NONE, VMCS_REQ_NEVER)                          \
	X(HOST_GS_BASE, 0x6c08, VMCS_REQ_NONE, VMCS_REQ_NEVER)                          \
	X(HOST_TR_BASE, 0x6c0a, VMCS_REQ_NONE, VMCS_REQ_NEVER)                          \
	X(HOST_GDTR_BASE, 0x6c0c, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(HOST_IDTR_BASE, 0x6c0e, VMCS_REQ_NONE, VMCS_REQ_NEVER)                        \
	X(HOST_IA32_SYSENTER_ESP, 0x6c10, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(HOST_IA32_SYSENTER_EIP, 0x6c12, VMCS_REQ_NONE, VMCS_REQ_NEVER)                \
	X(HOST_RSP, 0x6c14, VMCS_REQ_NONE, VMCS_REQ_NEVER)                              \
	X(HOST_RIP, 0x6c16, VMCS_REQ_NONE, VMCS_REQ_NEVER)                              \
	X(HOST_S_CET, 0x6c18, VMCS_REQ(EXIT, 28), VMCS_REQ_NEVER)                       \
	X(HOST_SSP, 0x6c1a, VMCS_REQ(EXIT, 28), VMCS_REQ_NEVER)                         \
	X(HOST_INTR_SSP_TABLE, 0x6c1c, VMCS_REQ(EXIT, 28), VMCS_REQ_NEVER)

#endif
