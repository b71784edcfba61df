/* Verifies MMIO on the instruction-level vCPU (issue 3 point 3): accesses to the xAPIC page and
 * the I/O APIC window exit with RIP on the instruction, the address, width, direction and store
 * value; loads complete into their destination with x86 merge rules; an 8-byte access is one
 * operation; flags and CR2 survive the exit; the xAPIC page can be moved into RAM; accesses
 * outside RAM and MMIO, straddling a region boundary, or by instructions other than MOV end the
 * vCPU with a finding instead of crashing. Real code on fresh VMs (test_vcpu_util.h). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include <stdio.h>
#include <string.h>

#define CODE_GPA   0x8000
#define LOAD_VALUE UINT64_C(0xaabbccdd11223344)

static void mmio_loads(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	(void)t;
	if (x->op.kind == GOP_MMIO) {
		hvsim_vcpu_complete(v, LOAD_VALUE);
		return;
	}
	tv_default(t, v, x);
}

Test(uc_mmio, store_exits_with_address_width_value_and_rip)
{
	/* mov r11d, 0xfee00000; mov eax, 0x42; mov [r11+0x80], eax; hlt */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "41 bb 00 00 e0 fe b8 42 00 00 00 41 89 83 80 00 00 00 f4", ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_MMIO, 0);
	cr_assert_not_null(e, "no MMIO exit; trace:\n%s", t.trace);
	cr_expect_eq(e->x.reason, EXIT_REASON_EPT_VIOLATION, "reason wanted EPT_VIOLATION, got %u",
	             e->x.reason);
	cr_expect(e->rip == CODE_GPA + 11 && e->x.op.len == 7,
	          "RIP/len wanted 0x800b/7, got %#llx/%u", (unsigned long long)e->rip, e->x.op.len);
	cr_expect(e->x.op.u.mmio.gpa == 0xfee00080 && e->x.op.u.mmio.size == 4 &&
	              e->x.op.u.mmio.write && e->x.op.u.mmio.value == 0x42,
	          "wanted write 4 bytes 0x42 at 0xfee00080, got %s %u bytes %#llx at %#llx",
	          e->x.op.u.mmio.write ? "write" : "read", e->x.op.u.mmio.size,
	          (unsigned long long)e->x.op.u.mmio.value, (unsigned long long)e->x.op.u.mmio.gpa);
	cr_expect_eq(e->x.op.u.mmio.region, HVSIM_MMIO_XAPIC, "region wanted xAPIC, got %u",
	             e->x.op.u.mmio.region);
	cr_expect(tv_exit_of(&t, GOP_HLT, 0) != NULL, "the guest did not continue to HLT");
	tv_close(&t);
}

/* SDM 3.4.1.1: 32-bit destinations zero bits 63:32, 8/16-bit ones keep the rest; AH-style
 * registers take bits 15:8. */
Test(uc_mmio, loads_merge_into_their_destination_like_x86)
{
	/* r11 = xAPIC; rax=rbx=rcx=rdx=r8 = 0x1111111111111111; eax <- [r11+0x30] (4);
	 * bx <- (2); cl <- (1); dh <- [rsi+0x30] (1); r8 <- (8); hlt */
	struct tv t = {.handler = mmio_loads};
	const struct tv_exit *e;
	static const struct {
		unsigned gpr;
		uint64_t want;
	} w[] = {{GPR_RAX, UINT64_C(0x11223344)},
	         {GPR_RBX, UINT64_C(0x1111111111113344)},
	         {GPR_RCX, UINT64_C(0x1111111111111144)},
	         {GPR_RDX, UINT64_C(0x1111111111114411)},
	         {GPR_R8, LOAD_VALUE}};

	cr_assert(
	    tv_open_code(&t, "long",
	                 "41 bb 00 00 e0 fe 48 b8 11 11 11 11 11 11 11 11 48 89 c3 48 89 c1 "
	                 "48 89 c2 49 89 c0 41 8b 43 30 66 41 8b 5b 30 41 8a 4b 30 be 00 00 e0 "
	                 "fe 8a 76 30 4d 8b 43 30 f4",
	                 ""),
	    "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT; trace:\n%s", t.trace);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		cr_expect_eq(e->gpr[w[i].gpr], w[i].want, "GPR %u wanted %#llx, got %#llx",
		             w[i].gpr, (unsigned long long)w[i].want,
		             (unsigned long long)e->gpr[w[i].gpr]);
	cr_expect(tv_exit_of(&t, GOP_MMIO, 3)->x.op.u.mmio.high8, "mov dh load not marked high8");
	tv_close(&t);
}

/* Unicorn hands an 8-byte MMIO store to its callbacks as two 4-byte halves; hvsim presents one
 * 8-byte operation. */
Test(uc_mmio, eight_byte_access_is_one_operation)
{
	/* r11 = xAPIC; mov rax, 0x0102030405060708; mov [r11+0x300], rax; hlt */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "41 bb 00 00 e0 fe 48 b8 08 07 06 05 04 03 02 01 49 89 83 00 03 00 "
	                       "00 f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_MMIO, 0);
	cr_assert_not_null(e, "no MMIO exit");
	cr_expect(e->x.op.u.mmio.size == 8 && e->x.op.u.mmio.value == UINT64_C(0x0102030405060708),
	          "wanted one 8-byte store of 0x0102030405060708, got %u bytes %#llx",
	          e->x.op.u.mmio.size, (unsigned long long)e->x.op.u.mmio.value);
	cr_expect_null(tv_exit_of(&t, GOP_MMIO, 1), "a second MMIO exit for the same store");
	tv_close(&t);
}

/* The exit is fault-like (SDM 28.1): flags computed before the MOV are intact afterwards. */
Test(uc_mmio, flags_survive_an_mmio_exit)
{
	/* cmp eax, 5 (ZF=1); mov [r11+0xb0], 0; jz ok; out 0x81, al; hlt; ok: out 0x80, al; hlt */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "41 bb 00 00 e0 fe b8 05 00 00 00 83 f8 05 41 c7 83 b0 00 00 00 00 "
	                       "00 00 00 74 03 e6 81 f4 e6 80 f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_IO, 0);
	cr_assert_not_null(e, "no OUT exit");
	cr_expect_eq(e->x.op.u.io.port, 0x80, "wanted the ZF=1 path (port 0x80), got port %#x",
	             e->x.op.u.io.port);
	tv_close(&t);
}

/* MMIO faults are hvsim's, not the guest's: CR2 keeps the value the guest wrote. */
Test(uc_mmio, cr2_survives_an_mmio_exit)
{
	/* mov eax, 0x1234; mov cr2, rax; mov [r11+0xb0], 0; mov rbx, cr2; out 0xe9 ebx; hlt */
	struct tv t = {0};
	uint32_t r[1];

	cr_assert(tv_open_code(&t, "long",
	                       "b8 34 12 00 00 0f 22 d0 41 bb 00 00 e0 fe 41 c7 83 b0 00 00 00 00 "
	                       "00 00 00 0f 20 d3 89 d8 e7 e9 f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_assert_eq(tv_reports(&t, r, 1), 1, "no report; trace:\n%s", t.trace);
	cr_expect_eq(r[0], 0x1234, "CR2 wanted 0x1234, got %#x", r[0]);
	tv_close(&t);
}

static void move_xapic(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	if (x->op.kind == GOP_IO)
		cr_assert_eq(hvsim_mmio_map(t->vm, HVSIM_MMIO_XAPIC, 0x100000, 0x1000), HVSIM_OK,
		             "hvsim_mmio_map into RAM failed");
	tv_default(t, v, x);
}

/* SDM 11.4.5: the xAPIC page relocates; inside RAM it still exits, its old address is then
 * neither RAM nor MMIO. */
Test(uc_mmio, relocated_xapic_page_inside_ram_exits)
{
	/* out 0x80 (moves it); mov [0x100080], 7; mov [0xfee00080], 7; hlt */
	struct tv t = {.handler = move_xapic};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "e6 80 b8 00 00 10 00 c7 80 80 00 00 00 07 00 00 00 b8 00 00 e0 fe "
	                       "c7 80 80 00 00 00 07 00 00 00 f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_MMIO, 0);
	cr_assert_not_null(e, "no MMIO exit at the new address; trace:\n%s", t.trace);
	cr_expect_eq(e->x.op.u.mmio.gpa, 0x100080, "gpa wanted 0x100080, got %#llx",
	             (unsigned long long)e->x.op.u.mmio.gpa);
	cr_expect_null(tv_exit_of(&t, GOP_MMIO, 1), "the old xAPIC address still exits");
	cr_expect(tv_trace_has(&t, "\"kind\":\"guest_bad_access\""),
	          "the old address was not a bad access; trace:\n%s", t.trace);
	tv_close(&t);
}

Test(uc_mmio, ioapic_window_is_mmio)
{
	/* mov eax, 0xfec00000; mov [rax], 0x10; mov ebx, [rax+0x10]; hlt */
	struct tv t = {0};
	const struct tv_exit *a, *b;

	cr_assert(tv_open_code(&t, "long", "b8 00 00 c0 fe c7 00 10 00 00 00 8b 58 10 f4", ""),
	          "%s", t.err.msg);
	tv_run(&t);
	a = tv_exit_of(&t, GOP_MMIO, 0);
	b = tv_exit_of(&t, GOP_MMIO, 1);
	cr_assert(a && b, "wanted two MMIO exits; trace:\n%s", t.trace);
	cr_expect(a->x.op.u.mmio.region == HVSIM_MMIO_IOAPIC && a->x.op.u.mmio.gpa == 0xfec00000,
	          "IOREGSEL write: region %u gpa %#llx", a->x.op.u.mmio.region,
	          (unsigned long long)a->x.op.u.mmio.gpa);
	cr_expect(!b->x.op.u.mmio.write && b->x.op.u.mmio.gpa == 0xfec00010 &&
	              b->x.op.u.mmio.gpr == GPR_RBX,
	          "IOWIN read: wanted a read into rbx at 0xfec00010");
	tv_close(&t);
}

/* The first access makes the MOV a known MMIO site; the same MOV touching RAM later runs in the
 * guest without an exit and stores to RAM. */
Test(uc_mmio, known_mmio_instruction_touching_ram_runs_natively)
{
	/* rbx = xAPIC; r12 = 2; L: mov dword [rbx+0x80], 0x99; rbx = 0x10000; dec r12; jnz L;
	 * out 0xe9, [0x10080]; hlt */
	struct tv t = {0};
	uint32_t r[1];

	cr_assert(tv_open_code(&t, "long",
	                       "bb 00 00 e0 fe 41 bc 02 00 00 00 c7 83 80 00 00 00 99 00 00 00 bb "
	                       "00 00 01 00 41 ff cc 75 ec 8b 04 25 80 00 01 00 e7 e9 f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_expect_not_null(tv_exit_of(&t, GOP_MMIO, 0), "no MMIO exit for the first store");
	cr_expect_null(tv_exit_of(&t, GOP_MMIO, 1), "the RAM store exited as MMIO");
	cr_assert_eq(tv_reports(&t, r, 1), 1, "no report; trace:\n%s", t.trace);
	cr_expect_eq(r[0], 0x99, "RAM at 0x10080 wanted 0x99, got %#x", r[0]);
	tv_close(&t);
}

struct bad_case {
	const char *name;
	const char *hex;
	const char *finding;
	const char *detail;
};

static const struct bad_case bad[] = {
    {"load outside RAM", "b8 00 00 00 40 8b 18 f4", "guest_bad_access", "read from 0x40000000"},
    {"fetch outside RAM", "b8 00 00 00 40 ff e0", "guest_bad_access", "0x40000000"},
    {"store straddling the xAPIC page end", "b8 fe 0f e0 fe c7 00 07 00 00 00 f4",
     "guest_bad_access", "straddles"},
    {"ADD to MMIO", "41 bb 00 00 e0 fe 41 01 83 80 00 00 00 f4", "guest_fault", "other than MOV"},
};

/* Never a crash: each ends the vCPU with a finding naming what happened. */
Test(uc_mmio, bad_accesses_end_the_vcpu_with_a_finding)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tv t = {0};
		char kind[64];

		snprintf(kind, sizeof(kind), "\"kind\":\"%s\"", bad[i].finding);
		cr_assert(tv_open_code(&t, "long", bad[i].hex, ""), "%s: %s", bad[i].name,
		          t.err.msg);
		cr_expect_eq(tv_run(&t), HVSIM_VM_DONE, "%s: the run did not end cleanly",
		             bad[i].name);
		cr_expect(tv_trace_has(&t, kind) && tv_trace_has(&t, bad[i].detail),
		          "%s: wanted %s mentioning \"%s\"; trace:\n%s", bad[i].name, kind,
		          bad[i].detail, t.trace);
		cr_expect_null(tv_exit_of(&t, GOP_HLT, 0), "%s: the guest went on to HLT",
		               bad[i].name);
		tv_close(&t);
	}
}
