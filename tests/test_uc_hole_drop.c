/* Verifies that dropping the translations and trap sites of code on a page the guest's tables no
 * longer map (an MMIO region moved over it, a zapped EPT page) leaves no fault behind. Unicorn
 * 2.0.1 looks the code up through the guest's paging when it drops translations, also inside
 * uc_hook_del; such a page faults there, Unicorn ignores the fault and keeps the translations,
 * but QEMU's double-fault bookkeeping counts it, so the guest's next real page fault became a
 * double fault, and the one after a silent triple-fault stop (fuzz_hv_transitions finding 23:
 * "Unicorn stopped unasked" on a machine kept from earlier inputs, a guest_bad_access on a fresh
 * one).
 *
 * The guest: at 0x8000 "call 0x9000; out 0x80, al; mov eax, [0xfee00030]; hlt", at 0x9000
 * "cpuid; ret". At the OUT the test maps an MMIO region over 0x9000 and changes the CPUID there
 * and a byte on the first page, so the next run drops the CPUID's trap site on a page the
 * guest's tables leave unmapped. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <string.h>

#define HOLE_GPA  0x9000u
#define HOLE_SLOT 2u
#define HEX_MAX   (3 * 8192 + 64)

static void hole_over_code(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	static const uint8_t nop = 0x90, int3 = 0xcc;

	if (x->op.kind == GOP_IO) {
		cr_assert_eq(hvsim_mmio_map(t->vm, HOLE_SLOT, HOLE_GPA, 0x1000), HVSIM_OK);
		cr_assert_eq(hvsim_guest_write(t->vm, HOLE_GPA, &nop, 1), HVSIM_OK);
		/* and a byte on the first page, past the HLT: the dropped range then starts there,
		 * where Unicorn's lookup of the range's first page leaves a translation in its TLB
		 */
		cr_assert_eq(hvsim_guest_write(t->vm, HOLE_GPA - 0x800, &int3, 1), HVSIM_OK);
	}
	tv_default(t, v, x);
}

static void guest_hex(char *hex, size_t cap)
{
	static const uint8_t page0[] = {
	    0xe8, 0xfb, 0x0f, 0x00, 0x00,       /* call 0x9000 */
	    0xe6, 0x80,                         /* out 0x80, al */
	    0x41, 0xbb, 0x00, 0x00, 0xe0, 0xfe, /* mov r11d, 0xfee00000 */
	    0x41, 0x8b, 0x43, 0x30,             /* mov eax, [r11+0x30] */
	    0xf4,                               /* hlt */
	};
	static const uint8_t page1[] = {0x0f, 0xa2, 0xc3}; /* cpuid; ret */

	hex[0] = '\0';
	tv_hex(hex, cap, page0, sizeof(page0));
	tv_hex_fill(hex, cap, 0x90, 0x1000 - sizeof(page0));
	tv_hex(hex, cap, page1, sizeof(page1));
}

/* SDM 4.7: a page fault on a not-present page is #PF; hvsim's page tables turn an MMIO access
 * into one, which exits (SDM 29.3.3.2 for the EPT view), whatever translations went before. */
Test(uc_hole_drop, a_page_fault_after_a_drop_on_an_unmapped_page_is_a_page_fault)
{
	struct tv t = {.handler = hole_over_code};
	static char hex[HEX_MAX];
	const struct tv_exit *e;

	guest_hex(hex, sizeof(hex));
	cr_assert(tv_open_code(&t, "long", hex, ""), "%s", t.err.msg);
	tv_run(&t);
	cr_assert_not_null(tv_exit_of(&t, GOP_CPUID, 0), "the CPUID did not exit; trace:\n%s",
	                   t.trace);
	e = tv_exit_of(&t, GOP_MMIO, 0);
	cr_assert_not_null(e, "the xAPIC read did not exit; trace:\n%s", t.trace);
	cr_expect_eq(e->x.op.u.mmio.gpa, 0xfee00030, "gpa %#llx",
	             (unsigned long long)e->x.op.u.mmio.gpa);
	cr_expect_not_null(tv_exit_of(&t, GOP_HLT, 0),
	                   "the guest did not reach its HLT; trace:\n%s", t.trace);
	tv_close(&t);
}
