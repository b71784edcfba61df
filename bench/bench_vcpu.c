/* Instruction-level vCPU speed (issue 3 point 9), measured in one process on the same guest code
 * (thread CPU time, best of REPEATS interleaved runs):
 * exit-free loops (register-only, tight and wide; a store loop) on bare Unicorn 2.0.1 against
 * hvsim (block-hook instruction counting, trap hooks armed, paging), and exits per second through
 * the minimal algorithm for a CPUID loop, an xAPIC MMIO write loop and an RDTSC loop. Goals:
 * hvsim >= 70% of bare Unicorn's instructions per second; >= 2 million exits per second each.
 * Figures go to docs/vcpu-layer.md. Wall-clock time is read here only (bench/, never sim/). */
#include <hvsim/hv.h>
#include <hvsim/vm.h>

#include <unicorn/unicorn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CODE_GPA   0x8000
#define MEM_BYTES  (UINT64_C(2) << 20)
#define DATA_GPA   0x100000
#define REPEATS    5
#define GOAL_RATIO 0.70
#define GOAL_EXITS 2e6

struct loop {
	const char *name;
	const char *hex;       /* loop with ecx/edx iterations preset by the prologue, then hlt */
	double insns_per_iter; /* instructions per iteration */
	uint64_t iters;
};

/* Prologue "mov ecx, N" (b9 imm32) or "mov edx, N" is patched into the hex below. */
static const struct loop loops[] = {
    /* mov ecx, N; L: add rax, 1; add rbx, rax; xor rdx, rbx; dec ecx; jnz L; hlt */
    {"register loop, 5-instruction block", "b9 %s 48 83 c0 01 48 01 c3 48 31 da ff c9 75 f2 f4", 5,
     100000000},
    /* mov ecx, N; L: 15 x (add/xor chain); dec ecx; jnz L; hlt */
    {"register loop, 17-instruction block",
     "b9 %s 48 83 c0 01 48 01 c3 48 31 da 49 01 d0 4d 01 c1 4d 31 ca 4d 01 d3 4d 29 dc 48 83 "
     "c0 01 48 01 c3 48 31 da 49 01 d0 4d 01 c1 4d 31 ca 4d 01 d3 ff c9 75 cd f4",
     17, 30000000},
    /* mov ecx, N; L: 31 x (add/xor chain); dec ecx; jnz L; hlt */
    {"register loop, 33-instruction block",
     "b9 %s 48 83 c0 01 48 01 c3 48 31 da 49 01 d0 4d 01 c1 4d 31 ca 4d 01 d3 4d 29 dc 48 83 "
     "c0 01 48 01 c3 48 31 da 49 01 d0 4d 01 c1 4d 31 ca 4d 01 d3 48 83 c0 01 48 01 c3 48 31 "
     "da 49 01 d0 4d 01 c1 4d 31 ca 4d 01 d3 4d 29 dc 48 83 c0 01 48 01 c3 48 31 da 49 01 d0 "
     "4d 01 c1 4d 31 ca 4d 01 d3 4d 01 e5 ff c9 75 9b f4",
     33, 15000000},
    /* mov ecx, N; mov esi, 0x100000; L: mov [rsi], rax; add rax, 1; dec ecx; jnz L; hlt */
    {"store loop, 4-instruction block", "b9 %s be 00 00 10 00 48 89 06 48 83 c0 01 ff c9 75 f5 f4",
     4, 3000000},
};

/* CPU time of this thread: the figures are per core, and the machine may be shared. */
static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*hex && n < cap) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void loop_hex(const struct loop *l, char *out, size_t cap)
{
	char imm[16];
	uint32_t n = (uint32_t)l->iters;

	snprintf(imm, sizeof(imm), "%02x %02x %02x %02x", n & 0xff, (n >> 8) & 0xff,
	         (n >> 16) & 0xff, n >> 24);
	snprintf(out, cap, l->hex, imm);
}

static void empty_block_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	(void)uc, (void)addr, (void)size, (void)ud;
}

/* Bare Unicorn: the same bytes at the same address, stopped by the final HLT; with_hook adds an
 * empty UC_HOOK_BLOCK, the floor of any per-block instruction counting. */
static double bare_rate(const struct loop *l, bool with_hook)
{
	uint8_t *mem = calloc(1, MEM_BYTES), code[512];
	char hex[1024];
	size_t n;
	uc_engine *uc;
	double best = 0;

	loop_hex(l, hex, sizeof(hex));
	n = hex_to_bytes(hex, code, sizeof(code));
	for (int r = 0; r < 1 && mem; r++) {
		double t;

		if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
			break;
		memcpy(mem + CODE_GPA, code, n);
		uc_mem_map_ptr(uc, 0, MEM_BYTES, UC_PROT_ALL, mem);
		if (with_hook)
			uc_hook_add(uc, &(uc_hook){0}, UC_HOOK_BLOCK, (void *)empty_block_hook,
			            NULL, 1, 0);
		t = now_s();
		uc_emu_start(uc, CODE_GPA, 0, 0, 0);
		t = now_s() - t;
		if ((double)l->iters * l->insns_per_iter / t > best)
			best = (double)l->iters * l->insns_per_iter / t;
		uc_close(uc);
	}
	free(mem);
	return best;
}

static hvsim_vm *make_vm(const char *hex, const char *quirks, uint64_t exits,
                         struct hvsim_scenario **sc)
{
	size_t cap = strlen(hex) + 1024;
	char *json = malloc(cap);
	struct hvsim_error err = {0};
	struct hvsim_vm_opts o = {0};
	hvsim_vm *vm = NULL;

	if (!json)
		return NULL;
	snprintf(json, cap,
	         "{\"hvsim\": 1, \"name\": \"bench\", \"description\": \"bench\", "
	         "\"provenance\": {\"note\": \"bench\"}, \"machine\": {\"memory_mib\": 2, "
	         "\"quantum_insns\": 10000000}, \"hypervisor\": {\"algorithm\": \"minimal\"%s}, "
	         "\"guest\": {\"bytes\": \"%s\"}, \"limits\": {\"instructions\": "
	         "9007199254740991, \"virtual_ns\": 9007199254740991, \"exits\": %llu}, "
	         "\"runs\": [{\"name\": \"r\", \"golden\": \"g\"}]}",
	         quirks, hex, (unsigned long long)exits);
	if (hvsim_scenario_parse("bench.json", json, strlen(json), NULL, sc, &err) == HVSIM_OK)
		vm = hvsim_vm_create(*sc, 0, &o, &err);
	if (!vm)
		fprintf(stderr, "bench: %s\n", err.msg);
	free(json);
	return vm;
}

/* Runs to the end; returns wall seconds and the summary. */
static double run_vm(hvsim_vm *vm, struct hvsim_summary *sum)
{
	double t = now_s();

	while (hvsim_vm_step(vm, 1024) == HVSIM_VM_RUNNING)
		;
	t = now_s() - t;
	*sum = *hvsim_vm_summary(vm);
	return t;
}

static double hvsim_rate(const struct loop *l)
{
	char hex[1024];
	double best = 0;

	loop_hex(l, hex, sizeof(hex));
	for (int r = 0; r < 1; r++) {
		struct hvsim_scenario *sc = NULL;
		hvsim_vm *vm = make_vm(hex, "", 1000, &sc);
		struct hvsim_summary sum;
		double t;

		if (!vm)
			return 0;
		t = run_vm(vm, &sum);
		if ((double)sum.instructions / t > best)
			best = (double)sum.instructions / t;
		hvsim_vm_destroy(vm);
		hvsim_scenario_free(sc);
	}
	return best;
}

struct exit_loop {
	const char *name;
	const char *hex;
	const char *quirks;
};

static const struct exit_loop exit_loops[] = {
    /* L: xor eax, eax; cpuid; jmp L */
    {"CPUID loop", "31 c0 0f a2 eb fa", ""},
    /* mov r11d, 0xfee00000; L: mov dword [r11+0xb0], 0; jmp L */
    {"xAPIC MMIO write loop", "41 bb 00 00 e0 fe 41 c7 83 b0 00 00 00 00 00 00 00 eb f3", ""},
    /* L: rdtsc; jmp L */
    {"RDTSC loop", "0f 31 eb fc", ", \"quirks\": {\"rdtsc_exiting\": \"on\"}"},
};

#define EXITS_PER_RUN 1000000

static double exit_rate(const struct exit_loop *e)
{
	double best = 0;

	for (int r = 0; r < REPEATS; r++) {
		struct hvsim_scenario *sc = NULL;
		hvsim_vm *vm = make_vm(e->hex, e->quirks, EXITS_PER_RUN, &sc);
		struct hvsim_summary sum;
		double t;

		if (!vm)
			return 0;
		t = run_vm(vm, &sum);
		if ((double)sum.exits / t > best)
			best = (double)sum.exits / t;
		hvsim_vm_destroy(vm);
		hvsim_scenario_free(sc);
	}
	return best;
}

int main(void)
{
	bool ok = true;

	printf("instruction-level vCPU, best of %d runs, one core\n", REPEATS);
	printf("%-38s %13s %13s %13s %6s %6s\n", "exit-free guest loop (instructions/s)",
	       "bare Unicorn", "+empty hook", "hvsim", "floor", "hvsim");
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		double bare = 0, floor = 0, hv = 0, ratio;

		for (int r = 0; r < REPEATS; r++) { /* interleaved: all see the same machine */
			double b = bare_rate(&loops[i], false), f = bare_rate(&loops[i], true);
			double h = hvsim_rate(&loops[i]);

			bare = b > bare ? b : bare;
			floor = f > floor ? f : floor;
			hv = h > hv ? h : hv;
		}
		ratio = bare > 0 ? hv / bare : 0;
		printf("%-38s %9.1f M/s %9.1f M/s %9.1f M/s %5.0f%% %5.0f%%%s\n", loops[i].name,
		       bare / 1e6, floor / 1e6, hv / 1e6, bare > 0 ? floor / bare * 100 : 0,
		       ratio * 100, ratio >= GOAL_RATIO ? "" : "  (below the 70% goal)");
		ok = ok && ratio >= GOAL_RATIO;
	}
	printf("%-38s %14s %8s\n", "exits through the minimal algorithm", "exits/s", "goal");
	for (size_t i = 0; i < sizeof(exit_loops) / sizeof(exit_loops[0]); i++) {
		double rate = exit_rate(&exit_loops[i]);

		printf("%-38s %10.2f M/s %7.0f%%%s\n", exit_loops[i].name, rate / 1e6,
		       rate / GOAL_EXITS * 100,
		       rate >= GOAL_EXITS ? "" : "  (below the 2 M/s goal)");
		ok = ok && rate >= GOAL_EXITS;
	}
	printf("goals %s\n", ok ? "met" : "not all met (docs/vcpu-layer.md explains)");
	return 0;
}
