/* Guest set-up, memory half: the layout checks, the GDT, the empty IDT, identity page tables that
 * map RAM only (MMIO regions are holes), and the trampolines that switch a fresh vCPU into
 * protected or real mode. Follows SDM 3.4.5 (segment descriptors), 4.4 and 4.5 (PAE and 4-level
 * paging), 6.14.1 (64-bit IDT gates). Leaves out: TSS, LDT, user-mode segments (CPL 0 only). */
#include "guest_setup.h"

#include <string.h>

#define MIB    (UINT64_C(1) << 20)
#define GIB    (UINT64_C(1) << 30)
#define CHUNK  (UINT64_C(2) << 20) /* one 2 MiB page */
#define PTE_P  UINT64_C(0x1)
#define PTE_RW UINT64_C(0x2)
/* Accessed and dirty preset (SDM 4.8): a page walk then never writes the tables, so they change
 * only when hvsim rebuilds them or the guest stores to them, and restoring a snapshot whose tables
 * are the current ones keeps the cached translations (snapshot.c). Bit 6 is ignored in the
 * entries that reference a table. Not in PAE PDPTEs, where bits 5 and 6 are reserved. */
#define PTE_AD           UINT64_C(0x60)
#define PDE_PS           UINT64_C(0x80)
#define PT_ENTRIES       512u
#define TRAMP_CR3_OFFSET 0x1f /* the imm32 of "mov eax, imm32" before "mov cr3, eax" */

/* SDM 3.4.5 "Segment Descriptors": flat 4 GiB descriptors, DPL 0. */
static const uint64_t gdt[] = {
    0,
    UINT64_C(0x00af9a000000ffff), /* 0x08: 64-bit code, L=1 */
    UINT64_C(0x00cf92000000ffff), /* 0x10: data, 4 GiB, writable */
    UINT64_C(0x00cf9a000000ffff), /* 0x18: 32-bit code, D=1 */
    UINT64_C(0x00009a000000ffff), /* 0x20: 16-bit code, 64 KiB */
    UINT64_C(0x000092000000ffff), /* 0x28: 16-bit data, 64 KiB */
};

/* Entered in the 64-bit state a fresh Unicorn vCPU starts in, with CR0.PG set and EFER.LME clear:
 * clearing CR0.PG leaves IA-32e mode (SDM 10.8.5.4), the far jump loads the 32-bit code segment,
 * then the data segments and PAE paging are loaded the architectural way. */
static const uint8_t tramp_protected[] = {
    0xb8, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xc0, /* mov eax, 0x11; mov cr0, rax */
    0xea, 0x10, 0x30, 0x00, 0x00, 0x18, 0x00, 0x00, /* ljmp 0x18:0x3010 */
    0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, /* mov ax, 0x10; mov ds/es, ax */
    0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, 0xb8, 0x00, /* mov ss/fs/gs, ax; mov eax, CR3 */
    0x00, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0xb8, 0x20, /* mov cr3, eax; mov eax, 0x620 */
    0x06, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0xb8, 0x31, /* mov cr4, eax; mov eax, 0x80000031 */
    0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xf4,       /* mov cr0, eax; hlt */
};

/* As above to 32-bit protected mode, then a 16-bit code segment, 16-bit data segments, CR0.PE
 * cleared and a real-mode far jump to CS 0 (SDM 10.9.2 "Switching Back to Real-Address Mode");
 * CR4 and CR3 end at their reset value 0. */
static const uint8_t tramp_real[] = {
    0xb8, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xc0, /* mov eax, 0x11; mov cr0, rax */
    0xea, 0x10, 0x30, 0x00, 0x00, 0x20, 0x00, 0x00, /* ljmp 0x20:0x3010 */
    0xb8, 0x28, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, /* mov ax, 0x28; mov ds/es/ss/fs/gs, ax */
    0xd0, 0x8e, 0xe0, 0x8e, 0xe8, 0x0f, 0x20, 0xc0, /* mov eax, cr0 */
    0x24, 0xfe, 0x0f, 0x22, 0xc0, 0xea, 0x30, 0x30, /* and al, 0xfe; mov cr0, eax; ljmp 0:0x3030 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
    0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, /* xor ax, ax; mov ds/es/ss, ax */
    0x8e, 0xe0, 0x8e, 0xe8, 0x66, 0x31, 0xc0, 0x0f, /* mov fs/gs, ax; xor eax, eax */
    0x22, 0xe0, 0x0f, 0x22, 0xd8, 0xf4,             /* mov cr4, eax; mov cr3, eax; hlt */
};

uint64_t gs_pt_base(uint64_t mem_size)
{
	return (mem_size - (uint64_t)GS_PT_PAGES * GS_PAGE) & ~(uint64_t)(GS_PAGE - 1);
}

uint64_t gs_stack_top(uint8_t mode, uint64_t mem_size, unsigned index)
{
	if (mode == GUEST_MODE_REAL)
		return GS_REAL_STACK_TOP - (uint64_t)index * GS_REAL_STACK_SIZE;
	return gs_pt_base(mem_size) - (uint64_t)index * GS_STACK_SIZE;
}

uint64_t gs_cr3(uint8_t mode, uint64_t mem_size)
{
	return gs_pt_base(mem_size) + (mode == GUEST_MODE_LONG ? 0 : 2 * GS_PAGE);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The ranges the image must stay out of: system pages, stacks, paging area. */
static void reserved(const struct hvsim_scenario *sc, uint64_t mem, uint64_t r[2][2])
{
	uint64_t n = sc->machine.vcpus;

	r[0][0] = GS_GDT_GPA;
	r[0][1] = GS_LOW_END - GS_GDT_GPA;
	if (sc->guest.mode == GUEST_MODE_REAL) {
		r[1][0] = GS_REAL_STACK_TOP - n * GS_REAL_STACK_SIZE;
		r[1][1] = n * GS_REAL_STACK_SIZE;
	} else {
		r[1][0] = gs_stack_top(sc->guest.mode, mem, (unsigned)n);
		r[1][1] = mem - r[1][0];
	}
}

static enum hvsim_status check_stacks(const struct hvsim_scenario *sc, uint64_t mem,
                                      struct hvsim_error *err)
{
	uint64_t n = sc->machine.vcpus;

	if (sc->guest.mode == GUEST_MODE_REAL && n > GS_REAL_MAX_VCPUS)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.machine.vcpus: expected at most %u vCPUs for a real-mode "
		    "guest (one 256-byte stack each below 0x8000), found %llu",
		    sc->file, GS_REAL_MAX_VCPUS, (unsigned long long)n);
	if (sc->guest.mode != GUEST_MODE_REAL &&
	    (uint64_t)GS_PT_PAGES * GS_PAGE + n * GS_STACK_SIZE + GS_LOW_END > mem)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.machine.memory_mib: expected room for %llu vCPU stacks of "
		    "16 KiB and the page tables, found %llu MiB",
		    sc->file, (unsigned long long)n, (unsigned long long)(mem / MIB));
	return HVSIM_OK;
}

enum hvsim_status gs_check_layout(const struct hvsim_scenario *sc, size_t image_len,
                                  struct hvsim_error *err)
{
	uint64_t mem = (uint64_t)sc->machine.memory_mib * MIB, load = sc->guest.load_gpa;
	uint64_t r[2][2];
	enum hvsim_status st = check_stacks(sc, mem, err);

	if (st != HVSIM_OK)
		return st;
	if (image_len == 0 || load > mem || image_len > mem - load)
		return hvsim_error_set(err, HVSIM_E_INPUT,
		                       "%s: $.guest: expected a %zu-byte image to fit in RAM at "
		                       "load_gpa 0x%llx",
		                       sc->file, image_len, (unsigned long long)load);
	reserved(sc, mem, r);
	for (unsigned i = 0; i < 2; i++)
		if (overlaps(load, image_len, r[i][0], r[i][1]))
			return hvsim_error_set(
			    err, HVSIM_E_INPUT,
			    "%s: $.guest.load_gpa: expected the image [0x%llx, "
			    "0x%llx) clear of hvsim's %s [0x%llx, 0x%llx)",
			    sc->file, (unsigned long long)load,
			    (unsigned long long)(load + image_len),
			    i ? "stacks and page tables" : "GDT, IDT and trampoline",
			    (unsigned long long)r[i][0], (unsigned long long)(r[i][0] + r[i][1]));
	if (sc->guest.mode == GUEST_MODE_REAL && sc->guest.entry > 0xffff)
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.guest.entry: expected a real-mode entry below 0x10000 "
		    "(CS is 0), found 0x%llx",
		    sc->file, (unsigned long long)sc->guest.entry);
	return HVSIM_OK;
}

void gs_write_tables(uint8_t *mem, uint64_t mem_size, uint8_t mode)
{
	(void)mem_size;
	memcpy(mem + GS_GDT_GPA, gdt, sizeof(gdt));
	memset(mem + GS_IDT_GPA, 0, GS_PAGE);
	if (mode == GUEST_MODE_REAL)
		memset(mem, 0, 0x400);
}

static bool in_hole(const struct gs_hole *h, size_t n, uint64_t page)
{
	for (size_t i = 0; i < n; i++)
		if (overlaps(page, GS_PAGE, h[i].gpa, h[i].size))
			return true;
	return false;
}

static bool chunk_has_hole(const struct gs_hole *h, size_t n, uint64_t chunk)
{
	for (size_t i = 0; i < n; i++)
		if (overlaps(chunk, CHUNK, h[i].gpa, h[i].size))
			return true;
	return false;
}

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, sizeof(v));
}

#define PT_HOLES_MAX 8 /* holes of one chunk copied aside; past that, every hole is tested */

/* Fills one page table for the 2 MiB chunk at gpa chunk. Only the holes that overlap the chunk
 * can overlap one of its pages, and only those are tested for each of the 512 (an EPT zap
 * rebuilds the tables, every MMIO region and zapped page a hole). */
static void fill_pt(uint8_t *pt, uint64_t chunk, uint64_t mem_size, const struct gs_hole *h,
                    size_t n)
{
	struct gs_hole near[PT_HOLES_MAX];
	const struct gs_hole *test = near;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!overlaps(chunk, CHUNK, h[i].gpa, h[i].size))
			continue;
		if (k == PT_HOLES_MAX) {
			test = h;
			k = n;
			break;
		}
		near[k++] = h[i];
	}
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t page = chunk + (uint64_t)i * GS_PAGE, pte = 0;

		if (page < mem_size && !in_hole(test, k, page))
			pte = page | PTE_P | PTE_RW | PTE_AD;
		memcpy(pt + i * 8, &pte, 8);
	}
}

/* The chunks that need a page table (not all RAM, or holed), in order, one per pool page. */
struct pt_plan {
	uint64_t chunk[GS_PT_PAGES];
	unsigned n;
};

/* Whether 2 MiB chunk c starts in RAM, within the 4 GiB that PD0-PD3 cover. */
static bool chunk_covered(uint64_t c, uint64_t mem_size)
{
	return c * CHUNK < mem_size && c < 2048;
}

/* False when more chunks need a page table than the pool holds. */
static bool plan_pts(struct pt_plan *plan, uint64_t mem_size, const struct gs_hole *holes,
                     size_t n_holes)
{
	plan->n = 0;
	for (uint64_t c = 0; chunk_covered(c, mem_size); c++) {
		uint64_t chunk = c * CHUNK;

		if (chunk + CHUNK <= mem_size && !chunk_has_hole(holes, n_holes, chunk))
			continue;
		if (GS_PT_POOL_FIRST + plan->n >= GS_PT_PAGES)
			return false;
		plan->chunk[plan->n++] = chunk;
	}
	return true;
}

/* Fills the page directory for GiB g: 2 MiB pages, or the next pool page's table (*pool, in the
 * order of plan_pts). */
static void fill_pd(uint8_t *page, uint64_t g, uint64_t base, uint64_t mem_size,
                    const struct pt_plan *plan, unsigned *pool)
{
	for (uint64_t c = g * PT_ENTRIES; c < (g + 1) * PT_ENTRIES && chunk_covered(c, mem_size);
	     c++) {
		uint64_t pde = c * CHUNK | PTE_P | PTE_RW | PTE_AD | PDE_PS;

		if (*pool < plan->n && plan->chunk[*pool] == c * CHUNK)
			pde = (base + (GS_PT_POOL_FIRST + (*pool)++) * GS_PAGE) | PTE_P | PTE_RW |
			      PTE_AD;
		put64(page, (c - g * PT_ENTRIES) * 8, pde);
	}
}

/* Fills page p of the paging area (PML4, PDPT, PAE PDPT, PD0-PD3, then the pool). */
static void fill_page(uint8_t *page, unsigned p, uint64_t mem_size, const struct gs_hole *holes,
                      size_t n_holes, const struct pt_plan *plan, unsigned *pool)
{
	uint64_t base = gs_pt_base(mem_size);

	memset(page, 0, GS_PAGE);
	if (p == 0) {
		put64(page, 0, (base + GS_PAGE) | PTE_P | PTE_RW | PTE_AD); /* PML4[0] -> PDPT */
	} else if (p == 1 || p == 2) {
		for (uint64_t g = 0; g < 4 && g * GIB < mem_size; g++) /* PAE PDPTE: R/W reserved */
			put64(page, g * 8,
			      (base + (3 + g) * GS_PAGE) | PTE_P | (p == 1 ? PTE_RW | PTE_AD : 0));
	} else if (p < GS_PT_POOL_FIRST) {
		fill_pd(page, p - 3, base, mem_size, plan, pool);
	} else if (p - GS_PT_POOL_FIRST < plan->n) {
		fill_pt(page, plan->chunk[p - GS_PT_POOL_FIRST], mem_size, holes, n_holes);
	}
}

/* Word by word (memcmp would reach a fuzzing build's interceptor, 32 times per map change). */
static bool same_page(const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < GS_PAGE; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	return true;
}

/* Page p holds no entry: a directory of a GiB above RAM, or a pool page the plan leaves unused
 * (most of the 32). */
static bool page_empty(unsigned p, uint64_t mem_size, const struct pt_plan *plan)
{
	if (p >= GS_PT_POOL_FIRST)
		return p - GS_PT_POOL_FIRST >= plan->n;
	return p >= 3 && (uint64_t)(p - 3) * GIB >= mem_size;
}

/* Zeroes page; true when it was not all zero. */
static bool clear_page(uint8_t *page)
{
	for (size_t i = 0; i < GS_PAGE; i += 8) {
		uint64_t x;

		memcpy(&x, page + i, 8);
		if (x) {
			memset(page, 0, GS_PAGE);
			return true;
		}
	}
	return false;
}

/* Page by page, writing only the pages that change: a map change rewrites one or two pages of
 * the 32, and the pages not written need not be restored with the next snapshot. The plan comes
 * first, so that a pool overflow leaves memory untouched. */
enum hvsim_status gs_build_paging(uint8_t *mem, uint64_t mem_size, const struct gs_hole *holes,
                                  size_t n_holes, uint32_t *changed)
{
	uint8_t *area = mem + gs_pt_base(mem_size);
	uint8_t page[GS_PAGE];
	struct pt_plan plan;
	unsigned pool = 0;

	*changed = 0;
	if (!plan_pts(&plan, mem_size, holes, n_holes))
		return HVSIM_E_INPUT;
	for (unsigned p = 0; p < GS_PT_PAGES; p++) {
		if (page_empty(p, mem_size, &plan)) {
			if (clear_page(area + (size_t)p * GS_PAGE))
				*changed |= UINT32_C(1) << p;
			continue;
		}
		fill_page(page, p, mem_size, holes, n_holes, &plan, &pool);
		if (!same_page(area + (size_t)p * GS_PAGE, page)) {
			memcpy(area + (size_t)p * GS_PAGE, page, GS_PAGE);
			*changed |= UINT32_C(1) << p;
		}
	}
	return HVSIM_OK;
}

size_t gs_write_trampoline(uint8_t *mem, uint64_t mem_size, uint8_t mode)
{
	uint32_t cr3 = (uint32_t)gs_cr3(GUEST_MODE_PROTECTED, mem_size);

	if (mode == GUEST_MODE_PROTECTED) {
		memcpy(mem + GS_TRAMP_GPA, tramp_protected, sizeof(tramp_protected));
		memcpy(mem + GS_TRAMP_GPA + TRAMP_CR3_OFFSET, &cr3, sizeof(cr3));
		return sizeof(tramp_protected);
	}
	if (mode == GUEST_MODE_REAL) {
		memcpy(mem + GS_TRAMP_GPA, tramp_real, sizeof(tramp_real));
		return sizeof(tramp_real);
	}
	return 0;
}

void gs_clear_trampoline(uint8_t *mem)
{
	memset(mem + GS_TRAMP_GPA, 0, GS_PAGE);
}
