/* Verifies the fuzz_hv_transitions machinery (fuzz/fz_hvt*.c) and the kvm algorithm's named
 * invariants (hv/kvm/kvm_check.c): the decoder and encoder agree on the configuration and on every
 * seed operation; each hand-made seed runs without a harness finding, reaches the state its name
 * promises and reruns identically; every named invariant holds on a running kvm VM and fails on
 * state corrupted to break exactly its rule; the engine reports a violation as invariant_violation
 * only when the scenario enables oracles.invariants; and the exported reproducer is the scenario
 * the harness ran (same trace hash through the real loader and a plain run). */
#include <criterion/criterion.h>

#include "../fuzz/fz_hvt_int.h"
#include "../fuzz/fz_hvt_seeds.h"
#include "../hv/kvm/kvm_int.h"
#include "../models/ioapic_int.h"
#include "../models/lapic_int.h"
#include "../sim/vm_int.h"

#include <hvsim/vmx_ctrl.h>

#include <stdlib.h>
#include <string.h>

#define WHY      512
#define SEED_MAX 4096

/* A kvm VM on one vCPU whose scripted guest enables x2APIC and halts in KVM; with apicv, APICv
 * is active. Stepped until the vCPU is blocked in HLT emulation. */
struct vmfx {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
	struct kvm_vm *kvm;
	char why[WHY];
};

static const char vm_text[] =
    "{\"hvsim\":1,\"name\":\"t\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"cpu\":\"intel-icelake-server\",\"memory_mib\":1,\"apicv\":%s},"
    "\"hypervisor\":{\"algorithm\":\"kvm\"},"
    "\"guest\":{\"script\":{\"main\":[{\"op\":\"wrmsr\",\"msr\":\"0x1b\",\"value\":\"0xfee00c00\"},"
    "{\"op\":\"wrmsr\",\"msr\":\"0x80f\",\"value\":\"0x1ff\"},{\"op\":\"hlt\"}]}},"
    "\"limits\":{\"virtual_ns\":1000000,\"instructions\":100000,\"exits\":100},"
    "\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

static void vmfx_init(struct vmfx *f, bool apicv)
{
	static const struct scenario_io io = {.check_goldens = false};
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};
	struct hvsim_error err = {0};
	char text[sizeof(vm_text) + 8];

	snprintf(text, sizeof(text), vm_text, apicv ? "true" : "false");
	cr_assert_eq(hvsim_scenario_parse("t.json", text, strlen(text), &io, &f->sc, &err),
	             HVSIM_OK, "parse: %s", err.msg);
	f->vm = hvsim_vm_create(f->sc, 0, &opts, &err);
	cr_assert(f->vm, "vm_create: %s", err.msg);
	for (unsigned i = 0; i < 100 && f->vm->vcpus[0].state != VS_BLOCKED; i++)
		hvsim_vm_step(f->vm, 1);
	cr_assert_eq(f->vm->vcpus[0].state, VS_BLOCKED, "the guest halts in KVM");
	f->kvm = f->vm->hv_priv;
}

static void vmfx_fini(struct vmfx *f)
{
	hvsim_vm_destroy(f->vm);
	hvsim_scenario_free(f->sc);
}

static void want_violation(struct vmfx *f, const char *name)
{
	const char *got = hvsim_vm_check_invariants(f->vm, f->why, sizeof(f->why));

	cr_assert(got && strcmp(got, name) == 0, "wanted %s, got %s (%s)", name,
	          got ? got : "no violation", f->why);
}

/* ---- decoder and encoder ---- */

Test(fuzz_hvt, config_round_trips)
{
	struct fz_hvt_config cfg;
	struct fz_hvt_input in;
	uint8_t b[64];
	struct fz_out o;

	fz_hvt_config_default(&cfg);
	cfg.vcpus = 2;
	cfg.split = cfg.apicv = cfg.code = cfg.ioapic_11 = true;
	cfg.cpu = 2;
	cr_assert(fz_hvt_config_quirk(&cfg, "apicv_activation_svi", "stale"));
	cr_assert(fz_hvt_config_quirk(&cfg, "split_irqchip_eoi_broadcast", "disable"));
	fz_out_init(&o, b, sizeof(b));
	fz_hvt_encode_config(&o, &cfg);
	fz_hvt_decode(b, o.len, &in);
	cr_assert(memcmp(&in.cfg, &cfg, sizeof(cfg)) == 0, "the decoded configuration differs");
	cr_assert_eq(in.n_ops, 0, "no operations after %zu configuration bytes", o.len);
}

Test(fuzz_hvt, zero_configuration_is_upstream_kvm)
{
	struct fz_hvt_config def;
	struct fz_hvt_input in;
	uint8_t zeros[FZ_HVT_CONFIG_BYTES] = {0};

	fz_hvt_config_default(&def);
	fz_hvt_decode(zeros, sizeof(zeros), &in);
	cr_assert(memcmp(&in.cfg, &def, sizeof(def)) == 0,
	          "zero bytes must decode to one vCPU, kernel irqchip and every quirk's default");
}

Test(fuzz_hvt, seed_operations_round_trip)
{
	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		uint8_t b[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(s, b, sizeof(b));
		struct fz_hvt_input *in = malloc(sizeof(*in));

		cr_assert(n, "%s: does not encode", s->name);
		fz_hvt_decode(b, n, in);
		cr_assert_eq(in->n_ops, s->n_ops, "%s: %u operations decoded, wanted %zu", s->name,
		             in->n_ops, s->n_ops);
		for (size_t k = 0; k < s->n_ops; k++)
			cr_assert(memcmp(&in->ops[k], &s->ops[k], sizeof(s->ops[k])) == 0,
			          "%s: operation %zu (%s) decodes differently", s->name, k,
			          fz_hvt_op_name(s->ops[k].kind));
		free(in);
	}
}

/* ---- seeds ---- */

static void check_want(const struct fz_hvt_seed *s, const struct fz_hvt_outcome *o)
{
	const struct fz_hvt_want *w = &s->want;
	bool found = !w->finding;

	cr_assert(!o->kind, "%s: finding %s: %s", s->name, o->kind, o->why);
	cr_assert(o->sum.injections >= w->injections && o->sum.eois >= w->eois &&
	              o->sum.timer_fires >= w->timer_fires,
	          "%s: injections %llu, EOIs %llu, timer expiries %llu; wanted at least %u, %u, %u",
	          s->name, (unsigned long long)o->sum.injections, (unsigned long long)o->sum.eois,
	          (unsigned long long)o->sum.timer_fires, w->injections, w->eois, w->timer_fires);
	cr_assert(o->sum.exits_by_reason[w->exit_reason] >= w->exits_of_reason,
	          "%s: %llu exits of reason %u, wanted at least %u", s->name,
	          (unsigned long long)o->sum.exits_by_reason[w->exit_reason], w->exit_reason,
	          w->exits_of_reason);
	for (size_t i = 0; !found && i < o->sum.n_findings && i < HVSIM_MAX_FINDINGS; i++)
		found = strcmp(o->sum.findings[i].kind, w->finding) == 0;
	cr_assert(found, "%s: the run reports no %s", s->name, w->finding);
}

Test(fuzz_hvt, seeds_reach_their_state_without_findings)
{
	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct fz_hvt_outcome *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		uint8_t bytes[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(s, bytes, sizeof(bytes));

		fz_hvt_decode(bytes, n, in);
		fz_hvt_run(in, fz_hash(bytes, n), a);
		check_want(s, a);
		fz_hvt_run(in, fz_hash(bytes, n), b);
		cr_assert_eq(a->hash, b->hash, "%s: two runs differ: %016llx vs %016llx", s->name,
		             (unsigned long long)a->hash, (unsigned long long)b->hash);
		free(in);
		free(a);
		free(b);
	}
}

/* fz_hvt_cache.c: a kept machine reloaded for each input gives the run a fresh VM gives. The seeds
 * run twice through a cache of their machines (the second pass all reloads, in the other order),
 * each compared with a fresh run; they mix scripted and code guests and several machines. */
Test(fuzz_hvt, kept_machines_run_each_input_as_a_fresh_vm)
{
	struct fz_hvt_cache *cache = fz_hvt_cache_create();
	size_t n_seeds = fz_hvt_seed_count();

	cr_assert(cache);
	for (size_t k = 0; k < 2 * n_seeds; k++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(k < n_seeds ? k : 2 * n_seeds - 1 - k);
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct fz_hvt_outcome *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		uint8_t bytes[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(s, bytes, sizeof(bytes));

		fz_hvt_decode(bytes, n, in);
		fz_hvt_run_cached(cache, in, fz_hash(bytes, n), true, a);
		fz_hvt_run(in, fz_hash(bytes, n), b);
		cr_assert(!a->kind, "%s: kept machine: finding %s: %s", s->name, a->kind, a->why);
		cr_assert_eq(a->hash, b->hash, "%s (pass %zu): kept %016llx, fresh %016llx",
		             s->name, k / n_seeds, (unsigned long long)a->hash,
		             (unsigned long long)b->hash);
		free(in);
		free(a);
		free(b);
	}
	fz_hvt_cache_destroy(cache);
}

static bool same_actions(const struct script_action *a, size_t na, const struct script_action *b,
                         size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].op != b[i].op || a[i].size != b[i].size || a[i].cr != b[i].cr ||
		    a[i].index != b[i].index || a[i].sub != b[i].sub || a[i].addr != b[i].addr ||
		    a[i].value != b[i].value || a[i].count != b[i].count ||
		    !same_actions(a[i].body, a[i].n_body, b[i].body, b[i].n_body))
			return false;
	return true;
}

static bool same_events(const struct hvsim_scenario *a, const struct hvsim_scenario *b)
{
	if (a->n_events != b->n_events)
		return false;
	for (size_t i = 0; i < a->n_events; i++) {
		const struct scenario_event *x = &a->events[i], *y = &b->events[i];

		if (x->at_ns != y->at_ns || x->kind != y->kind || x->gsi != y->gsi ||
		    x->level != y->level || x->msi_addr != y->msi_addr ||
		    x->msi_data != y->msi_data || x->vcpu != y->vcpu || x->arg != y->arg ||
		    (x->kind == SEV_HOST && strcmp(x->action, y->action) != 0))
			return false;
	}
	return true;
}

static bool same_guest(const struct hvsim_scenario *a, const struct hvsim_scenario *b)
{
	const struct guest_script *x = &a->guest.script, *y = &b->guest.script;

	if (a->guest.has_script != b->guest.has_script || a->guest.n_bytes != b->guest.n_bytes ||
	    (a->guest.n_bytes && memcmp(a->guest.bytes, b->guest.bytes, a->guest.n_bytes) != 0) ||
	    !same_actions(x->main, x->n_main, y->main, y->n_main) || x->n_handlers != y->n_handlers)
		return false;
	for (size_t i = 0; i < x->n_handlers; i++)
		if (x->handlers[i].vector != y->handlers[i].vector ||
		    !same_actions(x->handlers[i].actions, x->handlers[i].n, y->handlers[i].actions,
		                  y->handlers[i].n))
			return false;
	return true;
}

static struct hvsim_scenario *load_text(fz_scn *s)
{
	static const struct scenario_io io = {.exists = NULL, .check_goldens = false};
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	char *text = fz_scn_text(s);

	cr_assert_not_null(text);
	cr_assert_eq(hvsim_scenario_parse("t.json", text, strlen(text), &io, &sc, &err), HVSIM_OK,
	             "%s", err.msg);
	free(text);
	return sc;
}

/* fz_hvt_direct.c: the scenario a kept machine runs, built without JSON, holds the guest program
 * and events the loader reads from the JSON a fresh VM runs, for every seed (scripted and code
 * guests, handlers, repeats, every event kind). */
static unsigned count_repeats(const struct script_action *a, size_t n)
{
	unsigned r = 0;

	for (size_t i = 0; i < n; i++)
		r += a[i].op == SOP_REPEAT;
	return r;
}

Test(fuzz_hvt, direct_scenarios_hold_what_the_loader_reads_from_the_json)
{
	unsigned code = 0, handlers = 0, repeats = 0, kinds[3] = {0};

	for (size_t k = 0; k < fz_hvt_seed_count(); k++) {
		const struct fz_hvt_seed *seed = fz_hvt_seed_at(k);
		struct fz_hvt_input *in = malloc(sizeof(*in)), *empty = malloc(sizeof(*empty));
		uint8_t bytes[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(seed, bytes, sizeof(bytes));
		struct fz_hvt_direct *d;
		fz_scn *full, *base_scn;
		struct hvsim_scenario *want, *base;
		const struct hvsim_scenario *got;

		cr_assert(in && empty);
		fz_hvt_decode(bytes, n, in);
		d = fz_hvt_direct_build(in, 0);
		cr_assert_not_null(d);
		*empty = *in;
		empty->n_ops = 0;
		empty->cfg.code = !fz_hvt_direct_script(d);
		full = fz_hvt_build(in, 0);
		base_scn = fz_hvt_build(empty, 0);
		want = load_text(full);
		base = load_text(base_scn);
		got = fz_hvt_direct_scenario(d, base);
		cr_expect(same_guest(got, want), "%s: the guest program differs", seed->name);
		cr_expect(same_events(got, want), "%s: the events differ (%zu against %zu)",
		          seed->name, got->n_events, want->n_events);
		code += !want->guest.has_script;
		handlers += (unsigned)want->guest.script.n_handlers;
		repeats += count_repeats(want->guest.script.main, want->guest.script.n_main);
		for (size_t e = 0; e < want->n_events; e++)
			kinds[want->events[e].kind % 3]++;
		fz_hvt_direct_free(d);
		hvsim_scenario_free(base);
		hvsim_scenario_free(want);
		fz_scn_destroy(base_scn);
		fz_scn_destroy(full);
		free(empty);
		free(in);
	}
	cr_expect(code && handlers && repeats && kinds[SEV_IRQ_LINE] && kinds[SEV_MSI] &&
	              kinds[SEV_HOST],
	          "the seeds cover too little: %u code guests, %u handlers, %u repeats, events "
	          "%u/%u/%u",
	          code, handlers, repeats, kinds[0], kinds[1], kinds[2]);
}

static size_t seed_image(const char *name, uint8_t *img, size_t cap)
{
	const struct fz_hvt_seed *s = NULL;
	struct fz_hvt_input *in = malloc(sizeof(*in));
	uint8_t bytes[SEED_MAX];
	size_t n, len = 0;

	for (size_t i = 0; i < fz_hvt_seed_count(); i++)
		if (strcmp(fz_hvt_seed_at(i)->name, name) == 0)
			s = fz_hvt_seed_at(i);
	if (s && in) {
		n = fz_hvt_seed_bytes(s, bytes, sizeof(bytes));
		fz_hvt_decode(bytes, n, in);
		len = fz_hvt_code(in, img, cap);
	}
	free(in);
	return len;
}

/* The code guest is threaded code: its first FZ_HVT_CODE_RUNTIME bytes (the routines) are the
 * same for every input, so a kept machine keeps their translations; the inputs differ in data. */
Test(fuzz_hvt, code_guest_runtime_is_the_same_for_every_input)
{
	static uint8_t a[FZ_HVT_CODE_MAX], b[FZ_HVT_CODE_MAX];
	size_t la = seed_image("code-timer-ept-zap", a, sizeof(a));
	size_t lb = seed_image("code-nvmx-l1-launch", b, sizeof(b));

	cr_assert(la > FZ_HVT_CODE_RUNTIME && lb > FZ_HVT_CODE_RUNTIME,
	          "images of %zu and %zu bytes, wanted more than the %u-byte runtime", la, lb,
	          FZ_HVT_CODE_RUNTIME);
	cr_expect(memcmp(a, b, FZ_HVT_CODE_RUNTIME) == 0, "the runtimes of two seeds differ");
	cr_expect(la != lb || memcmp(a, b, la) != 0, "two different seeds gave the same image");
}

/* The prologue's first record writes vector 0x40's interrupt gate (SDM Figure 6-8): its
 * operands are the gate's two quadwords and the IDT entry's address. */
Test(fuzz_hvt, code_guest_prologue_writes_the_gate_of_each_handler)
{
	static uint8_t img[FZ_HVT_CODE_MAX];
	size_t len = seed_image("code-timer-ept-zap", img, sizeof(img));
	uint64_t want = FZ_HVT_IDT_GPA + 0x40 * 16, q;
	bool found = false;

	for (size_t at = FZ_HVT_CODE_RUNTIME; at + 8 <= len && !found; at += 8) {
		memcpy(&q, img + at, 8);
		found = q == want;
	}
	cr_expect(found, "no record writes the IDT entry of vector 0x40 at %#llx (%zu bytes)",
	          (unsigned long long)want, len);
}

/* ---- the kvm algorithm's named invariants ---- */

Test(fuzz_hvt, kvm_invariants_hold_on_a_running_vm)
{
	struct vmfx f;
	const char *name;

	for (int apicv = 0; apicv < 2; apicv++) {
		vmfx_init(&f, apicv);
		name = hvsim_vm_check_invariants(f.vm, f.why, sizeof(f.why));
		cr_assert(!name, "apicv %d: %s broken: %s", apicv, name, f.why);
		cr_assert(fz_hvt_check_slice(f.vm, &name, f.why, sizeof(f.why)),
		          "apicv %d: harness invariant %s broken: %s", apicv, name, f.why);
		cr_assert(fz_inv_hvt_entry_state(f.vm, f.why, sizeof(f.why)), "apicv %d: %s", apicv,
		          f.why);
		vmfx_fini(&f);
	}
}

Test(fuzz_hvt, lapic_invariants_catch_a_ppr_that_ignores_tpr)
{
	struct vmfx f;
	struct lapic *l;

	vmfx_init(&f, false);
	l = f.kvm->vcpus[0].lapic;
	l->regs[SLOT(LAPIC_REG_TPR)] = 0x40; /* TPR written behind the model's back: PPR stale */
	want_violation(&f, "lapic_invariants");
	cr_assert(strstr(f.why, "PPR"), "the message names PPR: %s", f.why);
	vmfx_fini(&f);
}

Test(fuzz_hvt, ioapic_invariants_catch_a_wide_ioregsel)
{
	struct vmfx f;

	vmfx_init(&f, false);
	f.kvm->ioapic->ioregsel = 0x100;
	want_violation(&f, "ioapic_invariants");
	vmfx_fini(&f);
}

Test(fuzz_hvt, vmcs_current_catches_a_vmclear)
{
	struct vmfx f;
	struct vmx_result res;

	vmfx_init(&f, false);
	hvsim_vmclear(f.kvm->vcpus[0].v, f.kvm->vcpus[0].vmcs_pa, &res);
	want_violation(&f, "vmcs_current");
	vmfx_fini(&f);
}

Test(fuzz_hvt, controls_mirror_catches_a_control_written_behind_kvm)
{
	struct vmfx f;

	vmfx_init(&f, false);
	kvm_vmcs_write(&f.kvm->vcpus[0], VMCS_CPU_BASED_VM_EXEC_CONTROL,
	               f.kvm->vcpus[0].exec_ctrl ^ PROC_RDTSC_EXITING);
	want_violation(&f, "controls_mirror");
	vmfx_fini(&f);
}

static void vapic_set(struct vmfx *f, uint32_t offset, uint32_t value)
{
	hvsim_host_write(f->vm, f->kvm->vcpus[0].vapic_pa + offset, &value, sizeof(value));
}

Test(fuzz_hvt, apicv_rvi_catches_a_request_rvi_does_not_name)
{
	struct vmfx f;

	vmfx_init(&f, true);
	vapic_set(&f, 0x200 + 0x10 * (0x51 / 32), 1u << (0x51 % 32)); /* VIRR 0x51, RVI 0 */
	want_violation(&f, "apicv_rvi");
	vmfx_fini(&f);
}

Test(fuzz_hvt, apicv_svi_catches_an_in_service_vector_svi_does_not_name)
{
	struct vmfx f;

	vmfx_init(&f, true);
	vapic_set(&f, 0x100 + 0x10 * (0xec / 32), 1u << (0xec % 32)); /* VISR 0xec, SVI 0 */
	want_violation(&f, "apicv_svi");
	vmfx_fini(&f);
}

Test(fuzz_hvt, isr_one_per_class_catches_two_vectors_of_one_class)
{
	struct vmfx f;
	uint32_t irr[8] = {0}, isr[8] = {0};
	const char *kind;

	vmfx_init(&f, false);
	isr[0xe0 / 32] = 1u << (0xe5 % 32) | 1u << (0xec % 32);
	lapic_set_vectors(f.kvm->vcpus[0].lapic, irr, isr);
	cr_assert(!fz_inv_hvt_apic(f.vm, &kind, f.why, sizeof(f.why)) &&
	              strcmp(kind, "isr_one_per_class") == 0,
	          "wanted isr_one_per_class, got %s (%s)", kind ? kind : "none", f.why);
	vmfx_fini(&f);
}

Test(fuzz_hvt, vmcs_launched_catches_a_clear_vmcs)
{
	struct vmfx f;
	struct vmx_result res;

	vmfx_init(&f, false);
	hvsim_vmclear(f.kvm->vcpus[0].v, f.kvm->vcpus[0].vmcs_pa, &res);
	hvsim_vmptrld(f.kvm->vcpus[0].v, f.kvm->vcpus[0].vmcs_pa, &res);
	cr_assert(!fz_inv_hvt_vmcs_launched(f.vm, f.why, sizeof(f.why)),
	          "a VMCLEARed VMCS of a launched vCPU must break vmcs_launched");
	vmfx_fini(&f);
}

Test(fuzz_hvt, entry_state_valid_catches_a_bad_guest_field)
{
	struct vmfx f;

	vmfx_init(&f, false);
	kvm_vmcs_write(&f.kvm->vcpus[0], VMCS_GUEST_IA32_PAT, 0x02); /* memory type 2 */
	cr_assert(!fz_inv_hvt_entry_state(f.vm, f.why, sizeof(f.why)),
	          "an invalid GUEST_IA32_PAT must fail the entry checks");
	cr_assert(strstr(f.why, "pat"), "the failing check names PAT: %s", f.why);
	vmfx_fini(&f);
}

/* ---- the engine's invariant oracle and the export ---- */

/* Runs text through the loader and the engine in one go (as `hvsim run` does); the trace hash. */
static uint64_t plain_run(const char *text, struct hvsim_summary *sum)
{
	static const struct scenario_io io = {.check_goldens = false};
	struct hvsim_vm_opts opts = {.level = TRACE_GOLDEN};
	struct hvsim_scenario *sc = NULL;
	struct hvsim_error err = {0};
	struct fz_trace t;
	hvsim_vm *vm;
	uint64_t h;

	cr_assert_eq(hvsim_scenario_parse("x.json", text, strlen(text), &io, &sc, &err), HVSIM_OK,
	             "the exported scenario loads: %s", err.msg);
	fz_trace_init(&t);
	opts.trace = fz_trace_sink(&t);
	vm = hvsim_vm_create(sc, 0, &opts, &err);
	cr_assert(vm, "%s", err.msg);
	while (hvsim_vm_step(vm, 1000) == HVSIM_VM_RUNNING)
		;
	hvsim_vm_finish(vm);
	*sum = *hvsim_vm_summary(vm);
	h = t.hash;
	hvsim_vm_destroy(vm);
	hvsim_scenario_free(sc);
	fz_trace_free(&t);
	return h;
}

static char *export_text(const uint8_t *b, size_t n)
{
	struct fz_export_info info = {.file = "x.json"};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(fz_hvt_export(b, n, f, &info), 0, "export writes a scenario");
	fclose(f);
	return text;
}

Test(fuzz_hvt, engine_reports_invariant_violation_only_when_enabled)
{
	const struct fz_hvt_seed *s = fz_hvt_seed_named("apicv-activation-in-service-stale");
	uint8_t b[SEED_MAX];
	size_t n = fz_hvt_seed_bytes(s, b, sizeof(b));
	char *text = export_text(b, n), *off;
	struct hvsim_summary on, plain;
	bool seen = false;

	plain_run(text, &on);
	for (size_t i = 0; i < on.n_findings; i++)
		seen |= strcmp(on.findings[i].kind, "invariant_violation") == 0 &&
		        strncmp(on.findings[i].detail, "apicv_svi:", 10) == 0;
	cr_assert(seen, "activation with a stale SVI breaks apicv_svi");
	off = strstr(text, "\"enabled\":\ttrue");
	cr_assert(off, "the export enables oracles.invariants");
	memcpy(off + strlen("\"enabled\":\t"), "false", 5);
	plain_run(text, &plain);
	for (size_t i = 0; i < plain.n_findings; i++)
		cr_assert(strcmp(plain.findings[i].kind, "invariant_violation") != 0,
		          "no invariant_violation without oracles.invariants: %s",
		          plain.findings[i].detail);
	free(text);
}

Test(fuzz_hvt, export_reproduces_the_harness_run)
{
	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		uint8_t b[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(s, b, sizeof(b));
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct fz_hvt_outcome *o = malloc(sizeof(*o));
		char *text = export_text(b, n);
		struct hvsim_summary sum;
		uint64_t h;

		fz_hvt_decode(b, n, in);
		fz_hvt_run(in, fz_hash(b, n), o);
		h = plain_run(text, &sum);
		cr_assert(sum.instructions == o->sum.instructions && sum.exits == o->sum.exits &&
		              sum.virtual_ns == o->sum.virtual_ns,
		          "%s: the exported scenario ran %llu instructions, %llu exits to %llu ns; "
		          "the harness %llu, %llu, %llu",
		          s->name, (unsigned long long)sum.instructions,
		          (unsigned long long)sum.exits, (unsigned long long)sum.virtual_ns,
		          (unsigned long long)o->sum.instructions, (unsigned long long)o->sum.exits,
		          (unsigned long long)o->sum.virtual_ns);
		cr_assert(h != 0, "%s: a trace", s->name);
		free(text);
		free(in);
		free(o);
	}
}

/* snapshot_rerun (docs/fuzzing.md, fuzz_hv_transitions): every seed's run, snapshotted after
 * 1, 2, 5 or 17 slices and restored, reruns to the same trace suffix and summary */
Test(fuzz_hvt, seeds_rerun_identically_from_a_snapshot)
{
	static const unsigned at[] = {1, 2, 5, 17};

	for (size_t i = 0; i < fz_hvt_seed_count(); i++) {
		const struct fz_hvt_seed *s = fz_hvt_seed_at(i);
		struct fz_hvt_input *in = malloc(sizeof(*in));
		struct hvsim_scenario *sc = NULL;
		struct hvsim_error err = {0};
		uint8_t bytes[SEED_MAX];
		size_t n = fz_hvt_seed_bytes(s, bytes, sizeof(bytes));
		fz_scn *b;
		char *text, why[WHY];

		cr_assert(in, "out of memory");
		fz_hvt_decode(bytes, n, in);
		b = fz_hvt_build(in, fz_hash(bytes, n));
		text = b ? fz_scn_text(b) : NULL;
		cr_assert(text, "%s: building the scenario", s->name);
		cr_assert_eq(hvsim_scenario_parse("s.json", text, strlen(text), NULL, &sc, &err),
		             HVSIM_OK, "%s: %s", s->name, err.msg);
		for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++)
			cr_assert(fz_hvt_snapshot_rerun(sc, at[k], why, sizeof(why)),
			          "%s, snapshot after slice %u: %s", s->name, at[k], why);
		hvsim_scenario_free(sc);
		free(text);
		fz_scn_destroy(b);
		free(in);
	}
}

/* A quirk that reproduces a KVM bug makes that bug's finding expected, and only under that value:
 * tdx_insn_exit=internal_error ends the VM on a non-TD guest's TDCALL (before commit 9d7dfb95da2c),
 * upstream KVM injects #UD, so the same hv_error there is a finding. */
Test(fuzz_hvt, tdcall_hv_error_is_expected_only_under_its_quirk)
{
	struct hvsim_finding_rec f = {.kind = "hv_error"};
	struct fz_hvt_config cfg;

	snprintf(f.detail, sizeof(f.detail), "unhandled VM exit TDCALL (77)");
	fz_hvt_config_default(&cfg);
	cr_expect_not(fz_hvt_finding_expected(&cfg, &f), "expected under upstream KVM");
	cr_assert(fz_hvt_config_quirk(&cfg, "tdx_insn_exit", "internal_error"), "no such quirk");
	cr_expect(fz_hvt_finding_expected(&cfg, &f), "not expected under internal_error");
	snprintf(f.detail, sizeof(f.detail), "unhandled VM exit GETSEC (2)");
	cr_expect_not(fz_hvt_finding_expected(&cfg, &f), "another unhandled exit was excused");
}
