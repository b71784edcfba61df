/* Engine throughput: event-queue push+pop and trace encoding, each against a baseline measured in
 * the same process so the ratio means something on any machine.
 *   evq:   timer-like traffic (a queue holding DEPTH pending events; each step pops the
 *          earliest and schedules a successor at a pseudo-random later time), vs. the same PRNG
 *          draws summed in a loop (the cost floor of generating the workload).
 *   trace: exit-like lines encoded and streamed to /dev/null through the buffered writer, vs. the
 *          same bytes written with fwrite of a pre-encoded line (the cost floor of the sink).
 * Goal (issue 2): >= 20 million queue events per second per core. */
#include <hvsim/evq.h>
#include <hvsim/prng.h>
#include <hvsim/trace.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define EVQ_EVENTS 10000000ULL
/* e.g. 16 vCPUs with a LAPIC timer, a preemption timer and 2 events */
#define EVQ_HEADLINE_DEPTH 64
#define TRACE_LINES        5000000ULL
#define EVQ_GOAL           20e6

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_evq(unsigned depth, uint64_t *check)
{
	sim_evq *q = sim_evq_create();
	struct sim_prng p;
	struct sim_event ev;
	double t0;

	sim_prng_seed(&p, 1);
	for (unsigned i = 0; i < depth; i++)
		sim_evq_push(q, sim_prng_below(&p, 1000000), 1, 0, i);
	t0 = now_s();
	for (uint64_t i = 0; i < EVQ_EVENTS; i++) {
		sim_evq_pop(q, &ev);
		*check += ev.data;
		sim_evq_push(q, ev.time_ns + 1 + (sim_prng_next(&p) & 0xffff), 1, 0, ev.data);
	}
	t0 = now_s() - t0;
	sim_evq_destroy(q);
	return (double)EVQ_EVENTS / t0;
}

static double bench_prng_floor(uint64_t *check)
{
	struct sim_prng p;
	double t0;

	sim_prng_seed(&p, 1);
	t0 = now_s();
	for (uint64_t i = 0; i < EVQ_EVENTS; i++)
		*check += sim_prng_next(&p) & 0xffff;
	return (double)EVQ_EVENTS / (now_s() - t0);
}

static bool sink_write(void *ctx, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len;
}

static void exit_line(struct trace_ev *e, uint64_t i)
{
	trace_ev_init(e, i * 37, 0, "exit");
	trace_ev_str(e, "reason", "WRMSR");
	trace_ev_hex(e, "rip", 0x100000 + i);
	trace_ev_hex(e, "msr", 0x80b);
	trace_ev_hex(e, "value", i * UINT64_C(0x9e3779b97f4a7c15));
}

static double bench_trace(FILE *null)
{
	trace_writer *w = trace_writer_create((struct trace_sink){sink_write, null}, TRACE_GOLDEN);
	struct trace_ev e;
	double t0 = now_s();

	for (uint64_t i = 0; i < TRACE_LINES; i++) {
		exit_line(&e, i);
		trace_writer_emit(w, &e);
	}
	trace_writer_destroy(w);
	return (double)TRACE_LINES / (now_s() - t0);
}

static double bench_fwrite_floor(FILE *null)
{
	struct trace_ev e;
	char line[256];
	size_t n;
	double t0;

	exit_line(&e, 12345);
	n = trace_encode(&e, line, sizeof(line));
	t0 = now_s();
	for (uint64_t i = 0; i < TRACE_LINES; i++)
		fwrite(line, 1, n, null);
	fflush(null);
	return (double)TRACE_LINES / (now_s() - t0);
}

int main(void)
{
	FILE *null = fopen("/dev/null", "w");
	uint64_t check = 0;
	static const unsigned depths[] = {4, 16, EVQ_HEADLINE_DEPTH, 1024, 65536};
	double evq, floor_evq, tr, floor_tr;

	if (!null)
		return 1;
	floor_evq = bench_prng_floor(&check);
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		evq = bench_evq(depths[i], &check);
		printf(
		    "evq    %6.1f M events/s (pop+push, %5u pending)  workload floor %6.1f M/s  "
		    "ratio %.3f%s\n",
		    evq / 1e6, depths[i], floor_evq / 1e6, evq / floor_evq,
		    depths[i] == EVQ_HEADLINE_DEPTH
		        ? (evq >= EVQ_GOAL ? "  goal >= 20 M/s: met" : "  goal >= 20 M/s: NOT met")
		        : "");
	}
	tr = bench_trace(null);
	floor_tr = bench_fwrite_floor(null);
	printf(
	    "trace  %6.1f M lines/s to /dev/null          fwrite floor   %6.1f M/s  ratio %.2f\n",
	    tr / 1e6, floor_tr / 1e6, tr / floor_tr);
	fclose(null);
	return check == 42; /* keeps the work observable; never true in practice */
}
