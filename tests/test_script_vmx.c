/* Verifies the scripted guest's vmx and store actions (docs/scenario-format.md "Scripts"): a vmx
 * action produces the guest operation the decoder builds for the real instruction in the form
 * fuzz/fz_hvt_code.c assembles (SDM 28.2.4: same operands, registers and length; only RIP
 * differs), stores its memory operand into guest RAM first, and gets the same handling from KVM's
 * nested VMX as the code form (the same exits and nested_* trace lines, time and RIP aside); a
 * store outside RAM stops the vCPU; the loader names what a malformed vmx action lacks or has too
 * much. The guest operations come from the script backend and the decoder directly; the handling
 * from inline scenarios and the fuzz harness's builder, run through the loader and the engine. */
#include "vm_fixture.h"

#include "../fuzz/fz_hvt_int.h"
#include "../fuzz/fz_hvt_seeds.h"
#include "../sim/backend.h"
#include "../sim/decode.h"
#include "../sim/mem_track.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM_BYTES (64u << 10)
#define SLOT      0x1000u
#define FIELD     0x681eu
#define VALUE     UINT64_C(0x123456789)

struct vmx_form {
	const char *name;
	struct script_action a;
	uint8_t bytes[16]; /* the instruction fz_hvt_code.c emits for the action */
	uint8_t n;
};

#define MEM   SCRIPT_VMX_MEM
#define STORE SCRIPT_VMX_STORE
/* clang-format off */
static const struct vmx_form forms[] = {
    {"vmxon [r11]", {.op = SOP_VMX, .sub = GVMX_VMXON, .flags = MEM | STORE, .addr = SLOT,
                     .value = 0x3000}, {0xf3, 0x41, 0x0f, 0xc7, 0x33}, 5},
    {"vmclear [r11]", {.op = SOP_VMX, .sub = GVMX_VMCLEAR, .flags = MEM, .addr = SLOT},
     {0x66, 0x41, 0x0f, 0xc7, 0x33}, 5},
    {"vmptrld [r11]", {.op = SOP_VMX, .sub = GVMX_VMPTRLD, .flags = MEM | STORE, .addr = SLOT,
                       .value = 0x3000}, {0x41, 0x0f, 0xc7, 0x33}, 4},
    {"vmptrst [r11]", {.op = SOP_VMX, .sub = GVMX_VMPTRST, .flags = MEM, .addr = SLOT},
     {0x41, 0x0f, 0xc7, 0x3b}, 4},
    {"vmread rax, rcx", {.op = SOP_VMX, .sub = GVMX_VMREAD, .field = FIELD}, {0x0f, 0x78, 0xc8}, 3},
    {"vmread [r11], rcx", {.op = SOP_VMX, .sub = GVMX_VMREAD, .flags = MEM, .addr = SLOT,
                           .field = FIELD}, {0x41, 0x0f, 0x78, 0x0b}, 4},
    {"vmwrite rcx, rax", {.op = SOP_VMX, .sub = GVMX_VMWRITE, .field = FIELD, .value = VALUE},
     {0x0f, 0x79, 0xc8}, 3},
    {"vmwrite rcx, [r11]", {.op = SOP_VMX, .sub = GVMX_VMWRITE, .flags = MEM | STORE,
                            .addr = SLOT, .field = FIELD, .value = VALUE},
     {0x41, 0x0f, 0x79, 0x0b}, 4},
    {"invept rcx, [r11]", {.op = SOP_VMX, .sub = GVMX_INVEPT, .flags = MEM | STORE, .addr = SLOT,
                           .field = 1, .value = 0x1e, .value2 = 0},
     {0x66, 0x41, 0x0f, 0x38, 0x80, 0x0b}, 6},
    {"invvpid rcx, [r11]", {.op = SOP_VMX, .sub = GVMX_INVVPID, .flags = MEM | STORE,
                            .addr = SLOT, .field = 0, .value = 1, .value2 = 0x9000},
     {0x66, 0x41, 0x0f, 0x38, 0x81, 0x0b}, 6},
    {"vmlaunch", {.op = SOP_VMX, .sub = GVMX_VMLAUNCH}, {0x0f, 0x01, 0xc2}, 3},
    {"vmresume", {.op = SOP_VMX, .sub = GVMX_VMRESUME}, {0x0f, 0x01, 0xc3}, 3},
    {"vmxoff", {.op = SOP_VMX, .sub = GVMX_VMXOFF}, {0x0f, 0x01, 0xc4}, 3},
};
/* clang-format on */

struct script_fx {
	uint8_t *ram;
	struct be_machine m;
	struct guest_script s;
	struct script_action a;
	void *cpu;
};

static void script_fx_init(struct script_fx *f, const struct script_action *a)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, RAM_BYTES);
	cr_assert_not_null(f->ram);
	f->m.mem = f->ram;
	f->m.mem_size = RAM_BYTES;
	f->a = *a;
	f->s.main = &f->a;
	f->s.n_main = 1;
	f->cpu = script_backend_create(&f->s, 0x100000, &f->m);
	cr_assert_not_null(f->cpu);
}

static void script_fx_fini(struct script_fx *f)
{
	script_backend_ops.destroy(f->cpu);
	free(f->ram);
}

static uint64_t script_gpr(void *ctx, unsigned gpr)
{
	return script_backend_ops.get_gpr(ctx, gpr);
}

/* The decoded instruction's operation with the registers the script set (SDM 28.2.4). */
static struct guest_op decoded(const struct vmx_form *t, void *cpu)
{
	struct dec_regs r = {.gpr = script_gpr, .ctx = cpu};
	struct dec_insn d;
	struct guest_op op;

	cr_assert(dec_insn(DEC_MODE_64, t->bytes, t->n, &d), "%s: the bytes decode", t->name);
	dec_build_op(&d, 0x100000, &r, &op);
	return op;
}

Test(script_vmx, vmx_action_gives_the_operation_the_decoder_builds_for_its_code_form)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct vmx_form *t = &forms[i];
		struct script_fx f;
		struct guest_op got, want;
		uint64_t retired;
		const char *why = NULL;

		script_fx_init(&f, &t->a);
		memset(&got, 0, sizeof(got));
		cr_assert_eq(script_backend_ops.run(f.cpu, 10, &got, &retired, &why), BE_OP,
		             "%s: stops at the operation (%s)", t->name, why ? why : "");
		want = decoded(t, f.cpu);
		cr_expect_eq(got.len, want.len, "%s: length wanted %u, got %u", t->name, want.len,
		             got.len);
		got.rip = want.rip;
		cr_expect(
		    memcmp(&got.u.vmx, &want.u.vmx, sizeof(got.u.vmx)) == 0 &&
		        got.kind == want.kind,
		    "%s: operands differ: insn %u/%u mem %d/%d reg1 %u/%u reg2 %u/%u base %u/%u "
		    "index %u/%u scale %u/%u asize %u/%u seg %u/%u addr %llx/%llx field %llx/%llx "
		    "value %llx/%llx (script/decoder)",
		    t->name, got.u.vmx.insn, want.u.vmx.insn, got.u.vmx.mem, want.u.vmx.mem,
		    got.u.vmx.reg1, want.u.vmx.reg1, got.u.vmx.reg2, want.u.vmx.reg2,
		    got.u.vmx.base, want.u.vmx.base, got.u.vmx.index, want.u.vmx.index,
		    got.u.vmx.scale, want.u.vmx.scale, got.u.vmx.addr_size, want.u.vmx.addr_size,
		    got.u.vmx.seg, want.u.vmx.seg, (unsigned long long)got.u.vmx.addr,
		    (unsigned long long)want.u.vmx.addr, (unsigned long long)got.u.vmx.field,
		    (unsigned long long)want.u.vmx.field, (unsigned long long)got.u.vmx.value,
		    (unsigned long long)want.u.vmx.value);
		script_fx_fini(&f);
	}
}

Test(script_vmx, vmx_action_stores_its_memory_operand_before_the_instruction)
{
	const struct vmx_form *t = &forms[8]; /* invept: both quadwords of the m128 */
	struct script_fx f;
	struct guest_op op;
	uint64_t retired, lo = 0, hi = 1;
	const char *why = NULL;

	script_fx_init(&f, &t->a);
	script_backend_ops.run(f.cpu, 10, &op, &retired, &why);
	memcpy(&lo, f.ram + SLOT, 8);
	memcpy(&hi, f.ram + SLOT + 8, 8);
	cr_expect(lo == t->a.value && hi == t->a.value2,
	          "descriptor in RAM: wanted %llx:%llx, got %llx:%llx",
	          (unsigned long long)t->a.value2, (unsigned long long)t->a.value,
	          (unsigned long long)hi, (unsigned long long)lo);
	script_fx_fini(&f);
}

Test(script_vmx, store_outside_ram_is_a_bad_access)
{
	struct script_action a = {.op = SOP_STORE, .addr = RAM_BYTES - 2, .size = 4, .value = 1};
	struct script_fx f;
	struct guest_op op;
	uint64_t retired;
	const char *why = NULL;

	script_fx_init(&f, &a);
	cr_expect_eq(script_backend_ops.run(f.cpu, 10, &op, &retired, &why), BE_BAD_ACCESS,
	             "a 4-byte store at RAM top - 2 must stop with a bad access");
	cr_expect(why && strstr(why, "outside RAM"), "why: %s", why ? why : "(none)");
	script_fx_fini(&f);
}

Test(script_vmx, store_into_an_mmio_region_is_a_bad_access)
{
	struct script_action a = {.op = SOP_STORE, .addr = 0x5ffe, .size = 4, .value = 1};
	struct script_fx f;
	struct guest_op op;
	uint64_t retired;
	const char *why = NULL;

	script_fx_init(&f, &a);
	f.m.mmio[0] = (struct sim_mmio_region){.gpa = 0x6000, .size = 0x1000};
	cr_expect_eq(script_backend_ops.run(f.cpu, 10, &op, &retired, &why), BE_BAD_ACCESS,
	             "a store reaching into the MMIO region at 0x6000 must stop with a bad access");
	cr_expect(why && strstr(why, "MMIO"), "why: %s", why ? why : "(none)");
	cr_expect_eq(f.ram[0x5ffe], 0, "nothing of the refused store lands in RAM");
	script_fx_fini(&f);
}

/* The written-page record must see the script's stores, else a restore leaves them behind. */
Test(script_vmx, store_marks_its_pages_in_the_written_page_record)
{
	struct script_action a = {.op = SOP_STORE, .addr = 0x2ffc, .size = 8, .value = ~0ull};
	struct script_fx f;
	struct mem_track t;
	struct guest_op op;
	uint64_t retired;
	const char *why = NULL;

	script_fx_init(&f, &a);
	cr_assert(mem_track_init(&t, RAM_BYTES));
	f.m.track = &t;
	script_backend_ops.run(f.cpu, 10, &op, &retired, &why);
	cr_expect_eq(f.ram[0x3003], 0xff, "the store's last byte is in RAM");
	cr_expect_eq(t.bits[0], UINT64_C(0xc), "pages 2 and 3 marked written, got %#llx",
	             (unsigned long long)t.bits[0]);
	mem_track_free(&t);
	script_fx_fini(&f);
}

/* ---- KVM's handling of both forms ---- */

/* The VMX exit and nested_* lines of a trace, without "t" and the exit's "rip", one per line. */
static char *vmx_lines(const char *trace)
{
	size_t cap = strlen(trace) + 1, n = 0;
	char *out = calloc(1, cap);

	for (const char *p = trace; p && *p;) {
		const char *e = strchr(p, '\n'), *ev = strstr(p, "\"ev\":");
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool want = ev && ev < p + len &&
		            (strncmp(ev, "\"ev\":\"nested", 12) == 0 ||
		             (strncmp(ev, "\"ev\":\"exit\"", 11) == 0 &&
		              memmem(p, len, "\"insn\":", 7) != NULL));

		if (want) {
			const char *rip = memmem(ev, len - (size_t)(ev - p), "\"rip\":\"", 7);
			const char *after = rip ? strchr(rip + 7, '"') + 2 : NULL;
			bool exit = strncmp(ev, "\"ev\":\"exit\"", 11) == 0;

			if (exit && rip) {
				memcpy(out + n, ev, (size_t)(rip - ev));
				n += (size_t)(rip - ev);
				memcpy(out + n, after, (size_t)(p + len - after));
				n += (size_t)(p + len - after);
			} else {
				memcpy(out + n, ev, (size_t)(p + len - ev));
				n += (size_t)(p + len - ev);
			}
			out[n++] = '\n';
		}
		p = e ? e + 1 : NULL;
	}
	return out;
}

/* The trace of seed's operations on a script or a code guest of its configuration. */
static char *seed_trace(const struct fz_hvt_seed *s, bool code)
{
	struct fz_hvt_input *in = calloc(1, sizeof(*in));
	struct vm_fixture f;
	fz_scn *scn;
	char *text, *lines;

	cr_assert(fz_hvt_seed_config(s, &in->cfg), "%s: configuration", s->name);
	in->cfg.code = code;
	memcpy(in->ops, s->ops, s->n_ops * sizeof(*s->ops));
	in->n_ops = (unsigned)s->n_ops;
	scn = fz_hvt_build(in, 1);
	text = fz_scn_text(scn);
	cr_assert(code == (strstr(text, "\"bytes\"") != NULL), "%s: the guest form built", s->name);
	fixture_build(&f, text, NULL);
	cr_assert_not_null(f.vm, "%s: build: %s", s->name, f.err.msg);
	fixture_run(&f);
	lines = vmx_lines(f.trace);
	fixture_free(&f);
	free(text);
	fz_scn_destroy(scn);
	free(in);
	return lines;
}

static const struct fz_hvt_seed *seed_named(const char *name)
{
	const struct fz_hvt_seed *s = fz_hvt_seed_named(name);

	cr_assert_not_null(s, "no seed %s", name);
	return s;
}

Test(script_vmx, script_and_code_forms_get_the_same_nested_vmx_handling)
{
	static const char *const names[] = {"nvmx-l1-launch", "nvmx-l1-vmfail"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct fz_hvt_seed *s = seed_named(names[i]);
		char *script = seed_trace(s, false), *code = seed_trace(s, true);

		cr_expect(strstr(script, "\"ev\":\"nested_") != NULL, "%s: nested lines", s->name);
		cr_expect_str_eq(script, code, "%s: script\n%s\ncode\n%s", s->name, script, code);
		free(script);
		free(code);
	}
}

/* ---- the loader ---- */

#define VMX_SCENARIO(action)                                                                     \
	"{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"     \
	"\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"nested\":true},"       \
	"\"hypervisor\":{\"algorithm\":\"kvm\"},\"guest\":{\"script\":{\"main\":[" action "]}}," \
	"\"runs\":[{\"name\":\"r\",\"golden\":\"g\"}]}"

Test(script_vmx, loader_names_a_missing_or_foreign_vmx_operand)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {VMX_SCENARIO("{\"op\":\"vmx\",\"insn\":\"vmptrld\"}"),
	     "$.guest.script.main[0].addr: expected an operand of this instruction, found nothing"},
	    {VMX_SCENARIO(
	         "{\"op\":\"vmx\",\"insn\":\"vmread\",\"field\":\"0x4400\",\"pointer\":1}"),
	     "$.guest.script.main[0].pointer: expected no \"pointer\" operand for vmread, found 1"},
	    {VMX_SCENARIO("{\"op\":\"vmx\",\"insn\":\"vmwrite\",\"field\":\"0x4400\"}"),
	     "$.guest.script.main[0].value: expected an operand of this instruction, found "
	     "nothing"},
	    {VMX_SCENARIO("{\"op\":\"vmx\",\"insn\":\"vmcall\"}"), "$.guest.script.main[0].insn"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_fixture f;

		fixture_build(&f, cases[i].text, NULL);
		cr_expect_null(f.vm, "case %zu loads", i);
		cr_expect(strstr(f.err.msg, cases[i].want) != NULL, "case %zu: wanted %s, got %s",
		          i, cases[i].want, f.err.msg);
		fixture_free(&f);
	}
}
