/* Shared fixture of the VMX tests: an array-backed simulated memory, a logical processor in VMX
 * root operation with a current VMCS programmed as a known-good 64-bit guest and host for a CPU
 * profile. Tests break one field and check the outcome. Each test owns its fixture. */
#ifndef TEST_VMX_FIXTURE_H
#define TEST_VMX_FIXTURE_H

#include <hvsim/vmx.h>

#include <hvsim/exit_reason.h>

#include "../models/vmx/vmx_int.h"

#define VFX_MEM_SIZE (UINT64_C(4) << 20)

/* Physical layout of the fixture's memory (all inside VFX_MEM_SIZE). */
#define VFX_VMXON       UINT64_C(0x1000)
#define VFX_VMCS        UINT64_C(0x2000)
#define VFX_VMCS2       UINT64_C(0x3000)
#define VFX_SHADOW_VMCS UINT64_C(0x4000)
#define VFX_IO_A        UINT64_C(0x5000)
#define VFX_IO_B        UINT64_C(0x6000)
#define VFX_MSR_BITMAP  UINT64_C(0x7000)
#define VFX_VAPIC       UINT64_C(0x8000)
#define VFX_APIC_ACCESS UINT64_C(0x9000)
#define VFX_PI_DESC     UINT64_C(0xa000)
#define VFX_PML         UINT64_C(0xb000)
#define VFX_MSR_AREA    UINT64_C(0xc000)
#define VFX_EPTP_LIST   UINT64_C(0xd000)
#define VFX_VMREAD_BM   UINT64_C(0xe000)
#define VFX_VMWRITE_BM  UINT64_C(0xf000)
#define VFX_VE_INFO     UINT64_C(0x10000)
#define VFX_EPT_PML4    UINT64_C(0x11000)
#define VFX_PDPT        UINT64_C(0x12000)
#define VFX_HOST_CR3    UINT64_C(0x20000)
#define VFX_GUEST_CR3   UINT64_C(0x30000)

struct vfx {
	struct vmx_caps caps;
	uint8_t *mem;
	struct vmx_mem memops;
	struct vmcs_store *store;
	struct vmx_cpu *cpu;
};

/* Loads the profile, enters VMX operation, makes VFX_VMCS current and programs the known-good
 * configuration. Fails the test (cr_assert) when any step does not succeed. */
void vfx_init(struct vfx *x, const char *profile);
void vfx_fini(struct vfx *x);
/* Direct field access to the current VMCS (no VMWRITE rules). */
void vfx_set(struct vfx *x, uint32_t enc, uint64_t value);
uint64_t vfx_get(struct vfx *x, uint32_t enc);
void vfx_or(struct vfx *x, uint32_t enc, uint64_t bits);
void vfx_clear(struct vfx *x, uint32_t enc, uint64_t bits);
/* Writes into simulated memory. */
void vfx_write(struct vfx *x, uint64_t pa, const void *buf, size_t len);
void vfx_write32(struct vfx *x, uint64_t pa, uint32_t v);
/* Runs every VM-entry check (as VMLAUNCH would). */
void vfx_entry(struct vfx *x, struct vmx_result *res);

/* Asserts that entry passes, printing the failing check otherwise. */
void vfx_expect_entered(struct vfx *x, const char *what);
/* Asserts VMfailValid(error) from check name. */
void vfx_expect_vmfail(struct vfx *x, const char *check, uint32_t error);
/* Asserts a VM-entry failure exit: basic reason, qualification, check name. */
void vfx_expect_exit(struct vfx *x, const char *check, uint32_t reason, uint64_t qual);

#endif

/* One-field-broken entry tests: build the fixture for ICX, run body, expect the outcome. */
#define VFX_PROFILE "intel-icelake-server"

#define VMFAIL_TEST(suite, name, check, error, ...)  \
	Test(suite, name)                            \
	{                                            \
		struct vfx x_, *x = &x_;             \
		vfx_init(x, VFX_PROFILE);            \
		__VA_ARGS__;                         \
		vfx_expect_vmfail(x, #check, error); \
		vfx_fini(x);                         \
	}

#define EXIT_TEST(suite, name, check, reason, qual, ...)  \
	Test(suite, name)                                 \
	{                                                 \
		struct vfx x_, *x = &x_;                  \
		vfx_init(x, VFX_PROFILE);                 \
		__VA_ARGS__;                              \
		vfx_expect_exit(x, #check, reason, qual); \
		vfx_fini(x);                              \
	}

#define PASS_TEST(suite, name, ...)           \
	Test(suite, name)                     \
	{                                     \
		struct vfx x_, *x = &x_;      \
		vfx_init(x, VFX_PROFILE);     \
		__VA_ARGS__;                  \
		vfx_expect_entered(x, #name); \
		vfx_fini(x);                  \
	}

#define CTRL_FAIL(name, check, ...) VMFAIL_TEST(vmx_entry_ctrl, name, check, 7, __VA_ARGS__)
#define HOST_FAIL(name, check, ...) VMFAIL_TEST(vmx_entry_host, name, check, 8, __VA_ARGS__)
#define GUEST_FAIL(name, check, ...) \
	EXIT_TEST(vmx_entry_guest, name, check, EXIT_REASON_INVALID_GUEST_STATE, 0, __VA_ARGS__)
