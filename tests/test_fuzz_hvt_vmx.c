/* Verifies fuzz_hv_transitions' L1 VMX operations (fuzz/fz_hvt_vmx.c, docs/fuzzing.md): inputs
 * committed before them never select them, so their kind bytes decode with the count they were
 * made with; inputs with configuration byte 0 bits 7:6 clear never decode one; vmx operations
 * survive the encoder; the walker writes the revision identifiers (and with nested VMX sets
 * CR4.VMXE) before the operations; and the VMX seeds reach KVM's nested entry, its VMfail paths
 * and the #UD of VMX without nesting. Inputs are decoded from files and from bytes of the seeded
 * PRNG; runs go through the harness's builder, the loader and the engine. */
#include "vm_fixture.h"

#include "../fuzz/fz_hvt_int.h"
#include "../fuzz/fz_hvt_seeds.h"

#include <hvsim/prng.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 8192
#define SAMPLES   400

/* Reproducers found after the vmx operations joined the decoder: made with today's kinds. */
static const char *const vmx_era_reproducers[] = {
    "fuzz_hv_transitions-e17c0fa680d4f423", /* a VMCS active on two vCPUs (nested oracle) */
    "fuzz_hv_transitions-f7ea65ccd8b1b1bc", /* the same after a VMCLEAR on the other vCPU */
    "fuzz_hv_transitions-e7b240fd6172cf18", /* a block Zydis and Unicorn count differently */
    /* cross-modifying code: the first, then either of the next two */
    "fuzz_hv_transitions-97c73f20b1106063",
    "fuzz_hv_transitions-fd9241a67e63f128",
    "fuzz_hv_transitions-706def42eb3348d0",
    /* a drop on an unmapped page: the three in order */
    "fuzz_hv_transitions-57fec22576911561",
    "fuzz_hv_transitions-1d2457e9c794f89c",
    "fuzz_hv_transitions-e8b40b407657f5d0",
    /* a store into hvsim's page tables: the two in order */
    "fuzz_hv_transitions-66f04895a0d0164c",
    "fuzz_hv_transitions-b043b633cbbb8cb0",
    /* the same on another vCPU (after fd9241a67e63f128 above) */
    "fuzz_hv_transitions-caa63bbcfd74fdc0",
    /* code rewritten into no instruction under an armed trap site: the two in order */
    "fuzz_hv_transitions-6ed60f9c038dc0ec",
    "fuzz_hv_transitions-36b852ee15c6cf88",
};

static bool vmx_seed(const char *name)
{
	const struct fz_hvt_seed *s = fz_hvt_seed_named(name);

	for (size_t i = 0; i < sizeof(vmx_era_reproducers) / sizeof(vmx_era_reproducers[0]); i++)
		if (strcmp(name, vmx_era_reproducers[i]) == 0)
			return true;
	return s && s->vmx_ops;
}

/* Decodes every committed input of dir that is neither a VMX seed nor a reproducer made with the
 * vmx operations; fails if one selects vmx_ops. */
static unsigned check_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	cr_assert_not_null(d, "%s: run the tests from the repository root", dir);
	while ((e = readdir(d))) {
		char path[512];
		uint8_t *b = malloc(INPUT_MAX);
		struct fz_hvt_input *in = malloc(sizeof(*in));
		FILE *f;
		size_t len;

		if (e->d_name[0] == '.' || strstr(e->d_name, ".expect") || vmx_seed(e->d_name)) {
			free(b);
			free(in);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		len = fread(b, 1, INPUT_MAX, f);
		fclose(f);
		fz_hvt_decode(b, len, in);
		cr_expect(
		    !in->cfg.vmx_ops && !in->cfg.nested,
		    "%s: byte 0 = %#x selects vmx operations: its kinds would decode differently",
		    path, len ? b[0] : 0);
		n++;
		free(b);
		free(in);
	}
	closedir(d);
	return n;
}

Test(fuzz_hvt_vmx, committed_inputs_keep_the_kind_count_they_were_made_with)
{
	unsigned n = check_dir("fuzz/corpus/fuzz_hv_transitions") +
	             check_dir("fuzz/crashes/fuzz_hv_transitions");

	cr_assert_geq(n, 20, "committed inputs checked: %u", n);
}

/* Byte 0 bits 7:6: 01 nested VMX and vmx operations, 10 vmx operations alone, 00 neither. */
Test(fuzz_hvt_vmx, nested_configurations_round_trip)
{
	static const struct {
		bool nested, vmx_ops;
	} cases[] = {{true, true}, {false, true}, {false, false}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fz_hvt_config cfg;
		struct fz_hvt_input *in = malloc(sizeof(*in));
		uint8_t b[FZ_HVT_CONFIG_BYTES];
		struct fz_out o;

		fz_hvt_config_default(&cfg);
		cfg.nested = cases[i].nested;
		cfg.vmx_ops = cases[i].vmx_ops;
		fz_out_init(&o, b, sizeof(b));
		fz_hvt_encode_config(&o, &cfg);
		fz_hvt_decode(b, o.len, in);
		cr_expect(in->cfg.nested == cfg.nested && in->cfg.vmx_ops == cfg.vmx_ops,
		          "nested %d vmx_ops %d: decoded nested %d vmx_ops %d (byte 0 = %#x)",
		          cfg.nested, cfg.vmx_ops, in->cfg.nested, in->cfg.vmx_ops, b[0]);
		free(in);
	}
}

static void random_input(struct sim_prng *p, uint8_t *b, size_t n, uint8_t bits76)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)sim_prng_next(p);
	b[0] = (uint8_t)((b[0] & 0x3f) | bits76);
}

static unsigned vmx_ops_of(const struct fz_hvt_input *in)
{
	unsigned n = 0;

	for (unsigned k = 0; k < in->n_ops; k++)
		n += in->ops[k].kind == FZ_HVT_VMX;
	return n;
}

Test(fuzz_hvt_vmx, only_bits_7_6_of_byte_0_let_vmx_operations_decode)
{
	struct sim_prng p;
	struct fz_hvt_input *in = malloc(sizeof(*in));
	uint8_t b[256];
	unsigned off = 0, on = 0;

	sim_prng_seed(&p, 7);
	for (unsigned i = 0; i < SAMPLES; i++) {
		random_input(&p, b, sizeof(b), 0);
		fz_hvt_decode(b, sizeof(b), in);
		off += vmx_ops_of(in);
		b[0] |= (uint8_t)(i & 1 ? 0x40 : 0x80);
		fz_hvt_decode(b, sizeof(b), in);
		on += vmx_ops_of(in);
	}
	cr_expect_eq(off, 0, "vmx operations decoded with bits 7:6 clear: %u", off);
	cr_expect_gt(on, 0, "no vmx operation decoded with bit 6 or 7 set");
	free(in);
}

Test(fuzz_hvt_vmx, vmx_operations_round_trip_through_the_encoder)
{
	struct sim_prng p;
	struct fz_hvt_input *in = malloc(sizeof(*in)), *back = malloc(sizeof(*back));
	uint8_t b[512], e[INPUT_MAX];

	sim_prng_seed(&p, 11);
	for (unsigned i = 0; i < SAMPLES; i++) {
		struct fz_out o;

		random_input(&p, b, sizeof(b), 0x40);
		fz_hvt_decode(b, sizeof(b), in);
		fz_out_init(&o, e, sizeof(e));
		fz_hvt_encode_config(&o, &in->cfg);
		for (unsigned k = 0; k < in->n_ops; k++)
			fz_hvt_encode(&o, &in->ops[k]);
		cr_assert(!o.overflow, "sample %u does not encode", i);
		fz_hvt_decode(e, o.len, back);
		cr_assert_eq(back->n_ops, in->n_ops, "sample %u: %u operations back, wanted %u", i,
		             back->n_ops, in->n_ops);
		for (unsigned k = 0; k < in->n_ops; k++)
			cr_assert(memcmp(&back->ops[k], &in->ops[k], sizeof(in->ops[k])) == 0,
			          "sample %u: operation %u (%s %s) decodes differently", i, k,
			          fz_hvt_op_name(in->ops[k].kind),
			          in->ops[k].kind == FZ_HVT_VMX ? fz_hvt_vmx_name(in->ops[k].sub)
			                                        : "");
	}
	free(in);
	free(back);
}

/* Collects the main list's actions. */
struct collect {
	struct script_action a[16];
	size_t n;
};

static void on_action(void *ctx, int handler, const struct script_action *a)
{
	struct collect *c = ctx;

	if (handler < 0 && c->n < 16)
		c->a[c->n++] = *a;
}

Test(fuzz_hvt_vmx, walker_writes_revision_identifiers_before_the_operations)
{
	struct fz_hvt_input *in = calloc(1, sizeof(*in));
	struct collect c = {.n = 0};
	struct fz_hvt_sink sink = {.action = on_action, .ctx = &c};

	fz_hvt_config_default(&in->cfg);
	in->cfg.nested = in->cfg.vmx_ops = true;
	fz_hvt_walk(in, &sink);
	cr_assert_eq(
	    c.n, 5, "actions before any operation: wanted 4 stores and a MOV to CR4, got %zu", c.n);
	for (size_t i = 0; i < 4; i++)
		cr_expect(c.a[i].op == SOP_STORE && c.a[i].value == FZ_VMX_REVISION_ID &&
		              c.a[i].addr ==
		                  (i ? FZ_VMX_VMCS_GPA + 0x1000u * (i - 1) : FZ_VMX_VMXON_GPA),
		          "action %zu: wanted the revision identifier stored in region %zu", i, i);
	cr_expect(c.a[4].op == SOP_MOV_CR && c.a[4].cr == 4 && (c.a[4].value & 0x2000),
	          "the fifth action sets CR4.VMXE");
	c.n = 0;
	in->cfg.nested = false;
	fz_hvt_walk(in, &sink);
	cr_expect_eq(c.n, 4, "without nested VMX: the stores only (CR4.VMXE is #GP), got %zu", c.n);
	c.n = 0;
	in->cfg.vmx_ops = false;
	fz_hvt_walk(in, &sink);
	cr_expect_eq(c.n, 0, "without vmx operations: nothing, got %zu", c.n);
	free(in);
}

static const struct fz_hvt_seed *seed_named(const char *name)
{
	const struct fz_hvt_seed *s = fz_hvt_seed_named(name);

	cr_assert_not_null(s, "no seed %s", name);
	return s;
}

/* Runs the seed's scenario as the harness builds it; f holds the trace. */
static void run_seed(struct vm_fixture *f, const char *name)
{
	const struct fz_hvt_seed *s = seed_named(name);
	struct fz_hvt_input *in = calloc(1, sizeof(*in));
	fz_scn *scn;
	char *text;

	cr_assert(fz_hvt_seed_config(s, &in->cfg));
	memcpy(in->ops, s->ops, s->n_ops * sizeof(*s->ops));
	in->n_ops = (unsigned)s->n_ops;
	scn = fz_hvt_build(in, 1);
	text = fz_scn_text(scn);
	fixture_build(f, text, NULL);
	cr_assert_not_null(f->vm, "%s: build: %s", name, f->err.msg);
	fixture_run(f);
	free(text);
	fz_scn_destroy(scn);
	free(in);
}

/* SDM 31.3 VMLAUNCH: a valid vmcs12 enters L2 (KVM's nested entry; the differential agrees). */
Test(fuzz_hvt_vmx, launch_seeds_reach_the_nested_entry)
{
	static const char *const names[] = {"nvmx-l1-launch", "code-nvmx-l1-launch"};

	for (size_t i = 0; i < 2; i++) {
		struct vm_fixture f;

		run_seed(&f, names[i]);
		cr_expect_eq(fixture_count(&f, "\"ev\":\"nested_entry\",\"vmcs12\":\"0x11000\""), 1,
		             "%s: nested entries of vmcs12 0x11000", names[i]);
		cr_expect_eq(fixture_count(&f, "\"agree\":true"), 1, "%s: the differential agrees",
		             names[i]);
		cr_expect_eq(fixture_count(&f, "nested_vmfail"), 0, "%s: no VMfail", names[i]);
		fixture_free(&f);
	}
}

/* SDM 31.4: the VM-instruction error numbers of the failure seed's instructions, in order. */
Test(fuzz_hvt_vmx, vmfail_seed_reaches_each_error_and_the_ud_outside_vmx_operation)
{
	static const char *const want[] = {
	    "\"insn\":\"VMLAUNCH\",\"outcome\":\"VMfailValid\",\"error\":7",
	    "\"insn\":\"VMRESUME\",\"outcome\":\"VMfailValid\",\"error\":5",
	    "\"insn\":\"VMPTRLD\",\"outcome\":\"VMfailValid\",\"error\":10",
	    "\"insn\":\"VMPTRLD\",\"outcome\":\"VMfailValid\",\"error\":9",
	    "\"insn\":\"VMXON\",\"outcome\":\"VMfailValid\",\"error\":15",
	    "\"insn\":\"INVEPT\",\"outcome\":\"VMfailValid\",\"error\":28",
	    "\"insn\":\"VMPTRLD\",\"outcome\":\"#UD\"",
	};
	struct vm_fixture f;

	run_seed(&f, "nvmx-l1-vmfail");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(fixture_count(&f, want[i]), 1, "lines with %s: wanted 1, got %u",
		             want[i], fixture_count(&f, want[i]));
	fixture_free(&f);
}

/* handle_vmx_instruction without nested VMX: #UD, which a scripted guest cannot take. */
Test(fuzz_hvt_vmx, vmx_without_nested_is_ud)
{
	struct vm_fixture f;

	run_seed(&f, "vmx-without-nested");
	cr_expect_eq(fixture_count(&f, "\"reason\":\"VMXON\""), 1, "VMXON exits");
	cr_expect_eq(fixture_count(&f, "\"ev\":\"inject\",\"vector\":\"0x6\""), 1, "#UD injected");
	cr_expect_eq(fixture_count(&f, "nested_"), 0, "no nested VMX handling");
	fixture_free(&f);
}
