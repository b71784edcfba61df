/* Helpers for the instruction-level vCPU tests: a VM built from an inline scenario, a recording
 * test algorithm (every exit is stored with the registers at the moment of the exit, then
 * completed the way the minimal algorithm would, unless the test installs its own handler), and
 * a trace kept in memory. Each test owns its struct tv; nothing is shared between tests. */
#ifndef HVSIM_TEST_VCPU_UTIL_H
#define HVSIM_TEST_VCPU_UTIL_H

#include <hvsim/hv.h>
#include <hvsim/vm.h>

#define TV_EXITS_MAX 512
#define TV_SENTINEL  UINT64_C(0x5a5a5a5a5a5a5a5a)

struct tv;
typedef void (*tv_handler)(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x);

struct tv_exit {
	struct hvsim_exit x;
	unsigned vcpu;
	uint64_t gpr[GPR_COUNT]; /* at the exit, before the algorithm touched anything */
	uint64_t rip, rflags;
	uint64_t now; /* vCPU virtual time at the exit, ns */
};

struct tv {
	struct hvsim_scenario *sc;
	hvsim_vm *vm;
	struct hvsim_error err;
	char *trace; /* every trace line so far, NUL-terminated */
	size_t trace_len, trace_cap;
	struct tv_exit exits[TV_EXITS_MAX];
	unsigned n_exits;        /* exits seen (only the first TV_EXITS_MAX are kept) */
	tv_handler handler;      /* NULL: tv_default */
	uint32_t intercepts;     /* 0: the default (all exit) */
	uint64_t tsc_offset;     /* applied to every vCPU at creation */
	uint64_t tsc_multiplier; /* 0: the default (1.0) */
	void *arg;               /* for handlers */
	const uint8_t *image;    /* guest.program bytes, when the scenario names a program */
	size_t image_len;
	const struct hvsim_hv_ops *hv; /* NULL: the recorder; else this algorithm (not recorded) */
	uint8_t image_buf[16384];
};

/* Reads a built guest program (scenarios/guest/NAME.bin) into t->image. False when missing. */
bool tv_load_program(struct tv *t, const char *name);
/* Parses json (a complete scenario) and builds the VM. False with t->err filled. */
bool tv_open(struct tv *t, const char *json);
/* A one-run scenario around inline code: mode "long"/"protected"/"real", hex bytes, and extra
 * top-level JSON members (may be ""), e.g. "\"machine\": {\"vcpus\": 2}". */
bool tv_open_code(struct tv *t, const char *mode, const char *hex, const char *extra);
/* The deadline loop: mov ecx, 1000; L: 10 x inc rax; dec ecx; jnz L; hlt, in long mode with a
 * 12-instruction quantum, so that every slice ends just before the loop's jnz, 11 instructions
 * into its block. It reaches the HLT at 12,001 ns with RAX 10,000. */
bool tv_open_deadline_loop(struct tv *t);
/* The same around the program loaded by tv_load_program. */
bool tv_open_program(struct tv *t, const char *mode, const char *extra);
/* Steps the VM until it is no longer running (bounded). Returns the final state. */
enum hvsim_vm_state tv_run(struct tv *t);
void tv_close(struct tv *t);
/* Completes like the minimal algorithm (CPUID zeros, reads of ports/MMIO all ones, RDTSC from
 * the guest TSC, MOV from CR the CPU's value) except that HLT stops the vCPU. */
void tv_default(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x);
/* The nth (0-based) recorded exit of kind, or NULL. */
const struct tv_exit *tv_exit_of(const struct tv *t, uint8_t kind, unsigned nth);
/* Values the guest reported with OUT to port 0xe9, in order; returns how many (<= cap). */
unsigned tv_reports(const struct tv *t, uint32_t *out, unsigned cap);
bool tv_trace_has(const struct tv *t, const char *needle);
/* The private vCPU, for tests that look under the hood. */
hvsim_vcpu *tv_vcpu(struct tv *t, unsigned index);
/* Appends bytes as hex pairs ("0f a2 ") to buf (cap bytes, NUL-terminated). */
void tv_hex(char *buf, size_t cap, const uint8_t *bytes, size_t n);
/* Appends n copies of one byte. */
void tv_hex_fill(char *buf, size_t cap, uint8_t byte, size_t n);
/* Handler that records nothing more and stops the vCPU at its first exit, without completing. */
void tv_stop_at_exit(struct tv *t, hvsim_vcpu *v, const struct hvsim_exit *x);

#endif
