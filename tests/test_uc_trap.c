/* Verifies that no trapped instruction escapes into Unicorn (issue 3 point 2): every instruction
 * a hypervisor intercepts exits on its very first execution with RIP on it and none of its
 * architectural effects (the registers it writes still hold sentinels), also as the first and the
 * last instruction of a translation block and after self-modifying or host-written code; WRMSR
 * never reaches Unicorn's own MSRs; RDTSC reads virtual time; HLT exits instead of ending
 * emulation; and instructions are counted exactly when a deadline cuts a block. Each test runs
 * real code on a fresh VM with a recording test algorithm (test_vcpu_util.h). */
#include <criterion/criterion.h>

#include "test_vcpu_util.h"

#include "../sim/uc_int.h"
#include "../sim/vm_int.h"

#include <stdio.h>
#include <string.h>

#define CODE_GPA 0x8000
#define HEX_MAX  8192

/* mov r64, TV_SENTINEL for RAX, RBX, RCX, RDX, RSI, RDI, R9, R10: 80 bytes. */
static void sentinels(char *hex, size_t cap)
{
	static const uint8_t op[][2] = {{0x48, 0xb8}, {0x48, 0xbb}, {0x48, 0xb9}, {0x48, 0xba},
	                                {0x48, 0xbe}, {0x48, 0xbf}, {0x49, 0xb9}, {0x49, 0xba}};
	uint64_t s = TV_SENTINEL;

	for (size_t i = 0; i < sizeof(op) / sizeof(op[0]); i++) {
		tv_hex(hex, cap, op[i], 2);
		tv_hex(hex, cap, (const uint8_t *)&s, 8);
	}
}

#define SENTINEL_BYTES 80
#define SENTINEL_INSNS 8
static const unsigned checked_gprs[] = {GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX,
                                        GPR_RSI, GPR_RDI, GPR_R9,  GPR_R10};

struct trap_case {
	const char *name;
	uint8_t bytes[8];
	uint8_t len;
	uint8_t kind;
};

static const struct trap_case traps[] = {
    {"cpuid", {0x0f, 0xa2}, 2, GOP_CPUID},
    {"rdmsr", {0x0f, 0x32}, 2, GOP_RDMSR},
    {"wrmsr", {0x0f, 0x30}, 2, GOP_WRMSR},
    {"rdtsc", {0x0f, 0x31}, 2, GOP_RDTSC},
    {"rdtscp", {0x0f, 0x01, 0xf9}, 3, GOP_RDTSCP},
    {"rdpmc", {0x0f, 0x33}, 2, GOP_RDPMC},
    {"hlt", {0xf4}, 1, GOP_HLT},
    {"pause", {0xf3, 0x90}, 2, GOP_PAUSE},
    {"monitor", {0x0f, 0x01, 0xc8}, 3, GOP_MONITOR},
    {"mwait", {0x0f, 0x01, 0xc9}, 3, GOP_MWAIT},
    {"in al, 0x60", {0xe4, 0x60}, 2, GOP_IO},
    {"in ax, dx", {0x66, 0xed}, 2, GOP_IO},
    {"in eax, dx", {0xed}, 1, GOP_IO},
    {"out 0x80, al", {0xe6, 0x80}, 2, GOP_IO},
    {"out dx, ax", {0x66, 0xef}, 2, GOP_IO},
    {"out dx, eax", {0xef}, 1, GOP_IO},
    {"rep insb", {0xf3, 0x6c}, 2, GOP_IO},
    {"rep outsw", {0x66, 0xf3, 0x6f}, 3, GOP_IO},
    {"outsd", {0x6f}, 1, GOP_IO},
    {"vmcall", {0x0f, 0x01, 0xc1}, 3, GOP_VMCALL},
    {"vmmcall", {0x0f, 0x01, 0xd9}, 3, GOP_VMMCALL},
    {"tdcall", {0x66, 0x0f, 0x01, 0xcc}, 4, GOP_TDCALL},
    {"seamcall", {0x66, 0x0f, 0x01, 0xcf}, 4, GOP_SEAMCALL},
    {"invlpg [rax+8]", {0x0f, 0x01, 0x78, 0x08}, 4, GOP_INVLPG},
    {"invd", {0x0f, 0x08}, 2, GOP_INVD},
    {"wbinvd", {0x0f, 0x09}, 2, GOP_WBINVD},
    {"xsetbv", {0x0f, 0x01, 0xd1}, 3, GOP_XSETBV},
    {"mov cr0, rax", {0x0f, 0x22, 0xc0}, 3, GOP_CR},
    {"mov rbx, cr3", {0x0f, 0x20, 0xdb}, 3, GOP_CR},
    {"mov cr4, r9", {0x41, 0x0f, 0x22, 0xe1}, 4, GOP_CR},
    {"mov cr8, rcx", {0x44, 0x0f, 0x22, 0xc1}, 4, GOP_CR},
    {"mov rdx, cr8", {0x44, 0x0f, 0x20, 0xc2}, 4, GOP_CR},
    {"clts", {0x0f, 0x06}, 2, GOP_CR},
    {"lmsw ax", {0x0f, 0x01, 0xf0}, 3, GOP_CR},
    {"rdrand eax", {0x0f, 0xc7, 0xf0}, 3, GOP_RDRAND},
    {"rdseed r10", {0x49, 0x0f, 0xc7, 0xfa}, 4, GOP_RDSEED},
    /* SDM 26.1.2: the VMX instructions (Unicorn has no VMX: they must never reach it) */
    {"vmxon [rax]", {0xf3, 0x0f, 0xc7, 0x30}, 4, GOP_VMX},
    {"vmxon [rip+0x100]", {0xf3, 0x0f, 0xc7, 0x35, 0x00, 0x01, 0x00, 0x00}, 8, GOP_VMX},
    {"vmclear [rbx+rcx*8+0x10]", {0x66, 0x0f, 0xc7, 0x74, 0xcb, 0x10}, 6, GOP_VMX},
    {"vmptrld [rsp+8]", {0x0f, 0xc7, 0x74, 0x24, 0x08}, 5, GOP_VMX},
    {"vmptrst [rdx]", {0x0f, 0xc7, 0x3a}, 3, GOP_VMX},
    {"vmread rax, rbx", {0x0f, 0x78, 0xd8}, 3, GOP_VMX},
    {"vmwrite r9, r10", {0x45, 0x0f, 0x79, 0xca}, 4, GOP_VMX},
    {"vmlaunch", {0x0f, 0x01, 0xc2}, 3, GOP_VMX},
    {"vmresume", {0x0f, 0x01, 0xc3}, 3, GOP_VMX},
    {"vmxoff", {0x0f, 0x01, 0xc4}, 3, GOP_VMX},
    {"invept rax, [rbx]", {0x66, 0x0f, 0x38, 0x80, 0x03}, 5, GOP_VMX},
    {"invvpid r8, [rdi+4]", {0x66, 0x44, 0x0f, 0x38, 0x81, 0x47, 0x04}, 7, GOP_VMX},
};

/* Runs <sentinels> <pad NOPs> <insn> hlt and checks the first exit. */
static void check_trap(const struct trap_case *c, size_t pad, const char *where)
{
	struct tv t = {.handler = tv_stop_at_exit};
	char hex[HEX_MAX] = "";
	const struct tv_exit *e;
	uint64_t at = CODE_GPA + SENTINEL_BYTES + pad;

	sentinels(hex, sizeof(hex));
	tv_hex_fill(hex, sizeof(hex), 0x90, pad);
	tv_hex(hex, sizeof(hex), c->bytes, c->len);
	tv_hex_fill(hex, sizeof(hex), 0xf4, 1);
	cr_assert(tv_open_code(&t, "long", hex, ""), "%s (%s): %s", c->name, where, t.err.msg);
	tv_run(&t);
	cr_assert_eq(t.n_exits, 1, "%s (%s): wanted 1 exit, got %u", c->name, where, t.n_exits);
	e = &t.exits[0];
	cr_expect_eq(e->x.op.kind, c->kind, "%s (%s): kind wanted %s, got %s", c->name, where,
	             guest_op_kind_name(c->kind), guest_op_kind_name(e->x.op.kind));
	cr_expect(e->rip == at && e->x.op.rip == at && e->x.op.len == c->len,
	          "%s (%s): RIP/op.rip/len wanted %#llx/%#llx/%u, got %#llx/%#llx/%u", c->name,
	          where, (unsigned long long)at, (unsigned long long)at, c->len,
	          (unsigned long long)e->rip, (unsigned long long)e->x.op.rip, e->x.op.len);
	for (size_t i = 0; i < sizeof(checked_gprs) / sizeof(checked_gprs[0]); i++)
		cr_expect_eq(e->gpr[checked_gprs[i]], TV_SENTINEL,
		             "%s (%s): GPR %u changed before the exit: wanted %#llx, got %#llx",
		             c->name, where, checked_gprs[i], (unsigned long long)TV_SENTINEL,
		             (unsigned long long)e->gpr[checked_gprs[i]]);
	cr_expect_eq(e->now, SENTINEL_INSNS + pad,
	             "%s (%s): instructions retired before the exit wanted %zu, got %llu", c->name,
	             where, SENTINEL_INSNS + pad, (unsigned long long)e->now);
	tv_close(&t);
}

/* SDM 26.1.3: each of these exits before it executes (fault-like), on its first execution. */
Test(uc_trap, every_trapped_instruction_exits_before_it_runs)
{
	for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++)
		check_trap(&traps[i], 0, "first run");
}

/* Unicorn ends a translation block after 512 instructions: with 503 NOPs after the 8 sentinel
 * loads the trap is the block's last instruction, with 504 the next block's first. */
Test(uc_trap, traps_as_last_and_first_instruction_of_a_block)
{
	static const size_t kinds[] = {0, 3, 6, 13, 16, 26};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		check_trap(&traps[kinds[i]], 503, "last of a block");
		check_trap(&traps[kinds[i]], 504, "first of a block");
	}
}

/* QEMU stops reading an instruction it does not implement once it knows, and ends the block
 * there: VMREAD's block holds 0F 78 only, VMXON [rip+disp32]'s only up to the ModRM. The trap
 * must still be found, as the last instruction of a block (the bytes past it read from memory)
 * and as the first of the next. */
Test(uc_trap, vmx_instructions_cut_short_by_unicorn_still_trap)
{
	static const char *const cut[] = {"vmxon [rip+0x100]", "vmread rax, rbx",
	                                  "vmwrite r9, r10"};

	for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
		for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
			if (strcmp(traps[i].name, cut[k]) != 0)
				continue;
			check_trap(&traps[i], 0, "first run");
			check_trap(&traps[i], 503, "last of a block");
			check_trap(&traps[i], 504, "first of a block");
		}
	}
}

/* SDM 26.1.2 and Appendix C: under the generic hardware each VMX instruction exits with its own
 * basic exit reason (VMXON 27, VMLAUNCH 20, INVEPT 50), the trace naming it and its operand. */
Test(uc_trap, vmx_instructions_exit_with_their_basic_exit_reasons)
{
	struct tv t = {0};
	static const uint16_t want[] = {27, 20, 50};

	/* vmxon [rax]; vmlaunch; invept rax, [rbx]; hlt */
	cr_assert(tv_open_code(&t, "long", "f3 0f c7 30 0f 01 c2 66 0f 38 80 03 f4", ""), "%s",
	          t.err.msg);
	tv_run(&t);
	cr_assert_geq(t.n_exits, 3, "wanted 3 VMX exits, got %u", t.n_exits);
	for (unsigned i = 0; i < 3; i++)
		cr_expect_eq(t.exits[i].x.reason, want[i], "exit %u: reason wanted %u, got %u", i,
		             want[i], t.exits[i].x.reason);
	cr_expect(tv_trace_has(&t, "\"reason\":\"VMXON\",\"rip\":\"0x8000\",\"insn\":\"vmxon\","
	                           "\"addr\":\"0x0\""),
	          "no VMXON exit line in:\n%s", t.trace);
	tv_close(&t);
}

/* Unicorn 2.0.1 runs WRMSR against its own MSRs (docs/vcpu-layer.md); the trap must keep the
 * guest's write away from them: IA32_SYSENTER_CS stays 0 after an exit the algorithm completes. */
Test(uc_trap, wrmsr_never_reaches_unicorn_msrs)
{
	/* mov ecx, 0x174; mov eax, 0x1234; xor edx, edx; wrmsr; hlt */
	struct tv t = {0};
	uc_x86_msr msr = {.rid = 0x174};
	struct uc_cpu *c;

	cr_assert(tv_open_code(&t, "long", "b9 74 01 00 00 b8 34 12 00 00 31 d2 0f 30 f4", ""),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_assert_not_null(tv_exit_of(&t, GOP_WRMSR, 0), "no WRMSR exit");
	c = tv_vcpu(&t, 0)->be_ctx;
	uc_reg_read(c->uc, UC_X86_REG_MSR, &msr);
	cr_expect_eq(msr.value, 0, "Unicorn's SYSENTER_CS wanted 0, got %#llx",
	             (unsigned long long)msr.value);
	tv_close(&t);
}

/* RDTSC not intercepted: EDX:EAX is the guest TSC of the virtual time it ran at, never the
 * host's: 10 NOPs at 1 ns each, 2 GHz, offset 1000, multiplier 3.0 (SDM 26.6.5). */
Test(uc_trap, rdtsc_reads_the_virtual_tsc)
{
	/* 10 x nop; rdtsc; mov ebx, edx; mov edx, 0xe9; out dx, eax; mov eax, ebx; out dx, eax;
	 * hlt */
	struct tv t = {.intercepts = HVSIM_INTERCEPT_ALL & ~GOP_BIT(GOP_RDTSC),
	               .tsc_offset = 1000,
	               .tsc_multiplier = UINT64_C(3) << 48};
	uint32_t r[2];
	uint64_t want = 10 * 2 * 3 + 1000;

	cr_assert(tv_open_code(&t, "long",
	                       "90 90 90 90 90 90 90 90 90 90 0f 31 89 d3 ba e9 00 00 00 ef 89 d8 "
	                       "ef f4",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_assert_eq(tv_reports(&t, r, 2), 2, "wanted 2 reports");
	cr_expect_eq(((uint64_t)r[1] << 32) | r[0], want, "TSC wanted %llu, got %llu",
	             (unsigned long long)want, ((unsigned long long)r[1] << 32) | r[0]);
	cr_expect_null(tv_exit_of(&t, GOP_RDTSC, 0), "RDTSC exited although not intercepted");
	tv_close(&t);
}

static void complete_all(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	(void)t, (void)x;
	hvsim_vcpu_complete(v, 0);
	if (t->n_exits > 3)
		hvsim_vcpu_stop(v, "enough");
}

/* Unicorn 2.0.1 ends emulation at HLT; trapped, the HLT exits, and once the algorithm completes
 * it the guest continues after it. */
Test(uc_trap, hlt_exits_and_the_guest_continues_after_it)
{
	/* hlt; out 0x80, al; hlt */
	struct tv t = {.handler = complete_all};

	cr_assert(tv_open_code(&t, "long", "f4 e6 80 f4", ""), "%s", t.err.msg);
	tv_run(&t);
	cr_assert_geq(t.n_exits, 3, "wanted 3 exits, got %u", t.n_exits);
	cr_expect(t.exits[0].x.op.kind == GOP_HLT && t.exits[0].rip == CODE_GPA,
	          "first exit: HLT at 0x8000, got %s at %#llx",
	          guest_op_kind_name(t.exits[0].x.op.kind), (unsigned long long)t.exits[0].rip);
	cr_expect(t.exits[1].x.op.kind == GOP_IO && t.exits[1].rip == CODE_GPA + 1,
	          "second exit: OUT at 0x8001, got %s at %#llx",
	          guest_op_kind_name(t.exits[1].x.op.kind), (unsigned long long)t.exits[1].rip);
	tv_close(&t);
}

/* The guest rewrites two NOPs of a block it already ran into CPUID: the retranslated block is
 * decoded again and the CPUID traps (self-modifying code never runs a stale decode). */
Test(uc_trap, self_modified_code_traps_the_new_instruction)
{
	/* mov r12d, 2; L: call f; out 0x80, al; mov word [rip+f_site], 0xa20f; dec r12d; jnz L;
	 * hlt; f: xor eax, eax; f_site: nop; nop; ret */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long",
	                       "41 bc 02 00 00 00 e8 11 00 00 00 e6 80 66 c7 05 08 00 00 00 0f a2 "
	                       "41 ff cc 75 eb f4 31 c0 90 90 c3",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_CPUID, 0);
	cr_assert_not_null(e, "the rewritten CPUID did not exit; trace:\n%s", t.trace);
	cr_expect_eq(e->rip, CODE_GPA + 0x1e, "CPUID exit RIP wanted 0x801e, got %#llx",
	             (unsigned long long)e->rip);
	cr_expect_eq(tv_exit_of(&t, GOP_IO, 0)->now < e->now, true,
	             "the first pass (NOPs) must report before the CPUID exits");
	tv_close(&t);
}

/* SDM Vol. 2D Table A-3 leaves 0F 04 undefined, and an undefined opcode raises #UD (SDM 6.15,
 * "Interrupt 6"). The guest rewrites a CPUID it already ran (its trap site armed) into 0F 04:
 * Unicorn raises #UD there, and the old site must not emulate the CPUID that was there
 * (fuzz_hv_transitions finding 27: a MOV to CR8 rewritten into MOV to CR10, #UD by the SDM's
 * MOV to/from control registers). */
Test(uc_trap, code_rewritten_into_no_instruction_raises_ud_not_the_old_trap)
{
	/* mov r12d, 2; L: call f; out 0x80, al; mov word [rip+f_site], 0x040f; dec r12d; jnz L;
	 * hlt; f: xor eax, eax; f_site: cpuid; ret */
	struct tv t = {0};

	cr_assert(tv_open_code(&t, "long",
	                       "41 bc 02 00 00 00 e8 11 00 00 00 e6 80 66 c7 05 08 00 00 00 0f 04 "
	                       "41 ff cc 75 eb f4 31 c0 0f a2 c3",
	                       ""),
	          "%s", t.err.msg);
	tv_run(&t);
	cr_assert_not_null(tv_exit_of(&t, GOP_CPUID, 0), "the first CPUID did not exit; trace:\n%s",
	                   t.trace);
	cr_expect_null(tv_exit_of(&t, GOP_CPUID, 1),
	               "the rewritten bytes exited as the old CPUID; trace:\n%s", t.trace);
	cr_expect(tv_trace_has(&t, "invalid opcode (#UD) at rip 0x801e"),
	          "wanted #UD at the rewritten bytes; trace:\n%s", t.trace);
	cr_expect_null(tv_exit_of(&t, GOP_HLT, 0), "the guest went on to HLT");
	tv_close(&t);
}

static void patch_on_first_out(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x)
{
	static const uint8_t cpuid[] = {0x0f, 0xa2};

	if (x->op.kind == GOP_IO && t->n_exits == 1)
		hvsim_guest_write(t->vm, CODE_GPA, cpuid, sizeof(cpuid));
	if (x->op.kind == GOP_CPUID)
		hvsim_vcpu_stop(v, "done");
	else
		hvsim_vcpu_complete(v, 0);
}

/* The algorithm writes code with hvsim_guest_write (host side): Unicorn's translation of it is
 * dropped and the new instruction traps. */
Test(uc_trap, host_written_code_traps_the_new_instruction)
{
	/* L: nop; nop; out 0x80, al; jmp L */
	struct tv t = {.handler = patch_on_first_out};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long", "90 90 e6 80 eb fa", ""), "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_CPUID, 0);
	cr_assert_not_null(e, "the host-written CPUID did not exit; trace:\n%s", t.trace);
	cr_expect_eq(e->rip, CODE_GPA, "CPUID exit RIP wanted 0x8000, got %#llx",
	             (unsigned long long)e->rip);
	tv_close(&t);
}

/* A quantum of 7 instructions cuts the 12-instruction loop body anywhere: the precise path must
 * still retire exactly 1 + 1000 * 12 instructions before the HLT (1 ns each). */
Test(uc_trap, deadlines_inside_blocks_retire_exact_counts)
{
	/* mov ecx, 1000; L: 10 x inc rax; dec ecx; jnz L; hlt */
	struct tv t = {.handler = tv_stop_at_exit};
	const struct tv_exit *e;
	uint64_t want = 1 + 1000 * 12;

	cr_assert(tv_open_code(&t, "long",
	                       "b9 e8 03 00 00 48 ff c0 48 ff c0 48 ff c0 48 ff c0 48 ff c0 48 ff "
	                       "c0 48 ff c0 48 ff c0 48 ff c0 48 ff c0 ff c9 75 de f4",
	                       "\"machine\": {\"quantum_insns\": 7}"),
	          "%s", t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%.2000s", t.trace);
	cr_expect_eq(e->now, want, "HLT reached at %llu ns, wanted %llu",
	             (unsigned long long)e->now, (unsigned long long)want);
	cr_expect_eq(e->gpr[GPR_RAX], 10000, "rax wanted 10000, got %llu",
	             (unsigned long long)e->gpr[GPR_RAX]);
	tv_close(&t);
}

/* MOV to CR completes by running in the CPU (pass-through), so the CPU's own CR0 changes. */
Test(uc_trap, mov_to_cr0_completes_in_the_cpu)
{
	/* mov rax, cr0; or eax, 8; mov cr0, rax; mov rbx, cr0; hlt */
	struct tv t = {0};
	const struct tv_exit *e;

	cr_assert(tv_open_code(&t, "long", "0f 20 c0 83 c8 08 0f 22 c0 0f 20 c3 f4", ""), "%s",
	          t.err.msg);
	tv_run(&t);
	e = tv_exit_of(&t, GOP_HLT, 0);
	cr_assert_not_null(e, "no HLT exit; trace:\n%s", t.trace);
	cr_expect_eq(tv_exit_of(&t, GOP_CR, 1)->x.op.u.cr.value & 8, 8,
	             "MOV to CR0 exit value lacks CR0.TS");
	cr_expect_eq(e->gpr[GPR_RBX] & 8, 8, "CR0.TS wanted set after the write, rbx %#llx",
	             (unsigned long long)e->gpr[GPR_RBX]);
	cr_expect_eq(t.n_exits, 4, "wanted 3 CR exits and HLT, got %u exits", t.n_exits);
	tv_close(&t);
}
