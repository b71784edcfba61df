/* Guest set-up: the "firmware" hvsim puts in guest memory before an instruction-level guest starts
 * (guest_setup.c: memory structures; guest_setup_cpu.c: loading them into a Unicorn vCPU).
 *
 * Guest-physical layout (docs/vcpu-layer.md "Guest memory layout"):
 *   0x0000-0x03ff  real-mode IVT (real-mode guests)
 *   0x1000         GDT: 0x08 64-bit code, 0x10 flat data, 0x18 32-bit code, 0x20 16-bit code,
 *                  0x28 16-bit data
 *   0x2000         IDT: 256 gates, all not present; the guest program fills them
 *   0x3000         mode-switch trampoline, used during set-up and zeroed afterwards
 *   RAM top - 128K paging structures (PML4, PDPTs, PDs, a pool of PTs), identity-mapping RAM only
 *   below that     one 16 KiB stack per vCPU (real mode: 256 bytes each below 0x8000)
 * Everything outside RAM is not present in the page tables, and MMIO pages inside RAM are holes:
 * every MMIO access and every access outside RAM raises a precise page fault, which the vCPU turns
 * into an MMIO exit or a guest_bad_access finding, the way EPT leaves MMIO unmapped. */
#ifndef HVSIM_GUEST_SETUP_H
#define HVSIM_GUEST_SETUP_H

#include <hvsim/scenario.h>

#define GS_PAGE            0x1000u
#define GS_GDT_GPA         0x1000u
#define GS_GDT_LIMIT       47u /* 6 descriptors */
#define GS_IDT_GPA         0x2000u
#define GS_TRAMP_GPA       0x3000u
#define GS_LOW_END         0x4000u /* end of the system pages */
#define GS_PT_PAGES        32u     /* paging area at the top of RAM (a bit each in a uint32_t) */
#define GS_PT_POOL_FIRST   7u      /* pages 0-6: PML4, PDPT, PAE PDPT, PD0-PD3 */
#define GS_STACK_SIZE      0x4000u /* per vCPU, protected and long mode */
#define GS_REAL_STACK_TOP  0x8000u
#define GS_REAL_STACK_SIZE 0x100u
#define GS_REAL_MAX_VCPUS  64u

#define GS_SEL_CODE64 0x08u
#define GS_SEL_DATA   0x10u
#define GS_SEL_CODE32 0x18u
#define GS_SEL_CODE16 0x20u
#define GS_SEL_DATA16 0x28u

/* CR0/CR4 values hvsim's set-up leaves (SDM 2.5 "Control Registers"). */
#define GS_CR0_PE         (UINT64_C(1) << 0)
#define GS_CR0_ET         (UINT64_C(1) << 4)
#define GS_CR0_NE         (UINT64_C(1) << 5)
#define GS_CR0_PG         (UINT64_C(1) << 31)
#define GS_CR4_PAE        (UINT64_C(1) << 5)
#define GS_CR4_OSFXSR     (UINT64_C(1) << 9)
#define GS_CR4_OSXMMEXCPT (UINT64_C(1) << 10)
#define GS_CR0_PAGED      (GS_CR0_PG | GS_CR0_NE | GS_CR0_ET | GS_CR0_PE)
#define GS_CR4_PAGED      (GS_CR4_PAE | GS_CR4_OSFXSR | GS_CR4_OSXMMEXCPT)

/* A guest-physical range that must not be mapped (an MMIO region). */
struct gs_hole {
	uint64_t gpa, size;
};

/* Checks that the image (len bytes at sc->guest.load_gpa), the entry point, the stacks of every
 * vCPU and the system pages fit in RAM without overlapping. HVSIM_E_INPUT with err filled. */
enum hvsim_status gs_check_layout(const struct hvsim_scenario *sc, size_t image_len,
                                  struct hvsim_error *err);
/* First byte of the paging area. */
uint64_t gs_pt_base(uint64_t mem_size);
/* Initial RSP of vCPU index. */
uint64_t gs_stack_top(uint8_t mode, uint64_t mem_size, unsigned index);
/* CR3 for a paged mode: the PML4 (long) or the PAE PDPT (protected). */
uint64_t gs_cr3(uint8_t mode, uint64_t mem_size);
/* Writes the GDT and an empty IDT (and clears the IVT in real mode). Can't fail. */
void gs_write_tables(uint8_t *mem, uint64_t mem_size, uint8_t mode);
/* Rebuilds the identity paging structures for RAM minus the holes, writing only the pages whose
 * content changes; bit i of *changed: page i of the area was written. HVSIM_E_INPUT when the
 * holes need more page tables than the pool holds (the structures are then left unchanged). */
enum hvsim_status gs_build_paging(uint8_t *mem, uint64_t mem_size, const struct gs_hole *holes,
                                  size_t n_holes, uint32_t *changed);
/* Writes the set-up trampoline for mode at GS_TRAMP_GPA; returns its length (0: none needed). */
size_t gs_write_trampoline(uint8_t *mem, uint64_t mem_size, uint8_t mode);
/* Clears the trampoline page once every vCPU has run it. */
void gs_clear_trampoline(uint8_t *mem);

#endif
