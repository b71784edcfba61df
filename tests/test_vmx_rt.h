/* Helpers of the VMX runtime tests (part 2) on top of the VMX fixture (test_vmx_fixture.h): enter
 * the guest the known-good VMCS describes, build guest operations, flip controls, poke bitmaps and
 * the virtual-APIC page. Each test owns its fixture and guest state. */
#ifndef TEST_VMX_RT_H
#define TEST_VMX_RT_H

#include <hvsim/vmx_runtime.h>

#include "test_vmx_fixture.h"

#define VRT_TSC  UINT64_C(0x100000) /* TSC at VM entry in the tests */
#define VRT_RIP  UINT64_C(0x401000) /* guest RIP of the fixture */
#define VRT_LEN  3                  /* instruction length the op builders use */
#define VRT_PINV 0xf2               /* posted-interrupt notification vector of the fixture */

/* VMLAUNCH the fixture's VMCS and load the guest into *g (zeroed first): asserts both. */
void vrt_enter(struct vfx *x, struct cpu_state *g, struct vmx_entry_effects *fx);
/* vmx_exit with the checks of a successful exit asserted. */
void vrt_exit(struct vfx *x, const struct vmx_exit_info *e, const struct cpu_state *g,
              struct vmx_exit_effects *fx);

/* Guest operations at VRT_RIP with VRT_LEN bytes. */
struct guest_op vrt_op(uint8_t kind);
struct guest_op vrt_io(uint16_t port, uint8_t size, bool in);
struct guest_op vrt_msr(uint8_t kind, uint32_t index, uint64_t value);
struct guest_op vrt_cr(uint8_t cr, uint8_t access, uint8_t gpr, uint64_t value);
struct guest_op vrt_mmio(uint64_t gpa, uint8_t size, bool write, uint64_t value);

/* Control words by index, for tables. */
enum vrt_word { VRT_PIN, VRT_PROC, VRT_PROC2, VRT_EXIT, VRT_ENTRY };
void vrt_ctl(struct vfx *x, unsigned word, uint32_t bits, bool on);

/* Sets bit n of the bitmap at pa. */
void vrt_bitmap_set(struct vfx *x, uint64_t pa, unsigned n);

/* APICv configuration: TPR shadow, virtualize APIC accesses, APIC-register virtualization and
 * virtual-interrupt delivery; posted interrupts when posted. */
void vrt_apicv(struct vfx *x, bool posted);

/* Runs vmx_op_exits at VRT_TSC. */
bool vrt_run(struct vfx *x, const struct guest_op *op, const struct cpu_state *g,
             struct vmx_op_result *r);

/* Step log collected by vrt_log_hook: names in order. */
#define VRT_LOG_MAX 64
struct vrt_log {
	unsigned n;
	struct vmx_step s[VRT_LOG_MAX];
};
void vrt_log_hook(void *ctx, const struct vmx_step *step);
/* Index of the first step named name at or after from, -1 when none. */
int vrt_log_find(const struct vrt_log *log, const char *name, int from);

#endif
