/* Verifies that a guest's store into hvsim's page tables (the paging area at the top of RAM,
 * sim/guest_setup.h) takes effect at the next block (uc_pt_written, sim/uc_mem.c): Unicorn's TLB
 * would keep the old translation until some flush, whose timing depends on what ran before (a
 * snapshot's restore flushes, a long run does not), so the same guest would run differently on a
 * fresh VM, a kept one and after a restore (fuzz_hv_transitions finding 25). The SDM lets a TLB
 * keep a stale entry until INVLPG or a CR3 load (SDM 4.10.4); hvsim chooses the moment
 * deterministically. Each test builds a VM around inline 64-bit code at 0x8000. */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

/* xor eax, eax; mov ecx, 5; L: dec ecx; jnz L; test eax, eax; jnz H; mov eax, 1;
 * mov rdx, 0xe0000 (the PML4 of a 1 MiB VM); mov qword [rdx], 0; mov ecx, 5; jmp L; H: hlt.
 * The second pass over L would run from cached translations with a stale TLB: after the store
 * the next block's fetch walks the cleared PML4 and faults, 19 instructions in. */
Test(uc_pt_write, store_into_the_pml4_unmaps_the_code_at_the_next_block)
{
	struct tv t = {0};
	const struct hvsim_summary *sum;

	cr_assert(
	    tv_open_code(&t, "long",
	                 "31 c0 b9 05 00 00 00 ff c9 75 fc 85 c0 75 1a b8 01 00 00 00 48 c7 c2 "
	                 "00 00 0e 00 48 c7 02 00 00 00 00 b9 05 00 00 00 eb de f4",
	                 "\"machine\": {\"memory_mib\": 1}"),
	    "%s", t.err.msg);
	tv_run(&t);
	sum = hvsim_vm_summary(t.vm);
	cr_expect_eq(sum->instructions, 19, "instructions %llu\n%s",
	             (unsigned long long)sum->instructions, t.trace);
	cr_expect(tv_trace_has(&t, "instruction fetch from 0x8007 outside RAM and MMIO"), "%s",
	          t.trace);
	tv_close(&t);
}
