/* Verifies the event queue: events come out in (time, insertion sequence) order, ties included,
 * cancellation removes exactly the named event, stale handles are harmless, and a copy replays the
 * same order (determinism rule 1: ties in the event queue break by sequence number). */
#include <criterion/criterion.h>

#include <hvsim/evq.h>
#include <hvsim/prng.h>

#define MANY 10000

static sim_evq *new_queue(void)
{
	sim_evq *q = sim_evq_create();

	cr_assert_not_null(q, "sim_evq_create failed");
	return q;
}

Test(evq, pops_in_time_order)
{
	static const uint64_t times[] = {50, 10, 40, 20, 30};
	sim_evq *q = new_queue();
	struct sim_event ev;
	uint64_t last = 0;

	for (size_t i = 0; i < 5; i++)
		sim_evq_push(q, times[i], 1, -1, i);
	for (size_t i = 0; i < 5; i++) {
		cr_assert(sim_evq_pop(q, &ev), "pop %zu: queue empty too early", i);
		cr_assert_geq(ev.time_ns, last, "pop %zu: time %llu after %llu", i,
		              (unsigned long long)ev.time_ns, (unsigned long long)last);
		last = ev.time_ns;
	}
	cr_assert_not(sim_evq_pop(q, &ev), "queue should be empty");
	sim_evq_destroy(q);
}

Test(evq, ties_break_by_insertion_order)
{
	sim_evq *q = new_queue();
	struct sim_event ev;

	for (uint64_t i = 0; i < 100; i++)
		sim_evq_push(q, 7, 1, -1, i);
	for (uint64_t i = 0; i < 100; i++) {
		sim_evq_pop(q, &ev);
		cr_assert_eq(ev.data, i, "tie %llu: wanted data %llu, got %llu",
		             (unsigned long long)i, (unsigned long long)i,
		             (unsigned long long)ev.data);
	}
	sim_evq_destroy(q);
}

/* A random mix of times with many ties: the pop order must be the stable sort of the push order. */
Test(evq, random_mix_matches_stable_sort)
{
	static uint64_t t[MANY];
	sim_evq *q = new_queue();
	struct sim_prng p;
	struct sim_event ev;
	uint64_t prev_t = 0, prev_data = 0;

	sim_prng_seed(&p, 3);
	for (uint64_t i = 0; i < MANY; i++) {
		t[i] = sim_prng_below(&p, 64);
		sim_evq_push(q, t[i], 0, -1, i);
	}
	for (uint64_t i = 0; i < MANY; i++) {
		sim_evq_pop(q, &ev);
		cr_assert_eq(ev.time_ns, t[ev.data], "event %llu lost its time",
		             (unsigned long long)ev.data);
		if (i > 0) {
			cr_assert(
			    ev.time_ns > prev_t || (ev.time_ns == prev_t && ev.data > prev_data),
			    "pop %llu: (%llu, #%llu) after (%llu, #%llu)", (unsigned long long)i,
			    (unsigned long long)ev.time_ns, (unsigned long long)ev.data,
			    (unsigned long long)prev_t, (unsigned long long)prev_data);
		}
		prev_t = ev.time_ns;
		prev_data = ev.data;
	}
	sim_evq_destroy(q);
}

Test(evq, cancel_removes_only_that_event)
{
	sim_evq *q = new_queue();
	sim_ev_handle h[5];
	struct sim_event ev;

	for (uint64_t i = 0; i < 5; i++)
		h[i] = sim_evq_push(q, 100 + i, 0, -1, i);
	cr_assert(sim_evq_cancel(q, h[2]), "cancel of a pending event must succeed");
	cr_assert_eq(sim_evq_len(q), 4, "len after cancel: got %zu", sim_evq_len(q));
	for (uint64_t want = 0; want < 5; want++) {
		if (want == 2)
			continue;
		sim_evq_pop(q, &ev);
		cr_assert_eq(ev.data, want, "wanted event %llu, got %llu", (unsigned long long)want,
		             (unsigned long long)ev.data);
	}
	sim_evq_destroy(q);
}

Test(evq, stale_handle_cancel_is_harmless)
{
	sim_evq *q = new_queue();
	struct sim_event ev;
	sim_ev_handle old = sim_evq_push(q, 1, 0, -1, 1), fresh;

	sim_evq_pop(q, &ev);
	fresh = sim_evq_push(q, 2, 0, -1, 2); /* reuses the freed slot */
	cr_assert_not(sim_evq_pending(q, old), "a fired handle must not be pending");
	cr_assert_not(sim_evq_cancel(q, old), "cancelling a fired handle must fail");
	cr_assert(sim_evq_pending(q, fresh), "the new event must survive the stale cancel");
	cr_assert_not(sim_evq_cancel(q, 0), "handle 0 is never valid");
	sim_evq_destroy(q);
}

Test(evq, peek_reports_earliest)
{
	sim_evq *q = new_queue();
	uint64_t t = 0;

	cr_assert_not(sim_evq_peek_time(q, &t), "empty queue has no earliest time");
	sim_evq_push(q, 30, 0, -1, 0);
	sim_evq_push(q, 20, 0, -1, 0);
	cr_assert(sim_evq_peek_time(q, &t) && t == 20, "earliest: wanted 20, got %llu",
	          (unsigned long long)t);
	sim_evq_destroy(q);
}

Test(evq, copy_replays_identically)
{
	sim_evq *a = new_queue(), *b = new_queue();
	struct sim_event ea, eb;
	sim_ev_handle h;

	for (uint64_t i = 0; i < 200; i++)
		h = sim_evq_push(a, (i * 37) % 11, 0, (int32_t)(i % 4), i);
	cr_assert_eq(sim_evq_copy(b, a), HVSIM_OK, "copy failed");
	cr_assert(sim_evq_pending(b, h), "handles stay valid in the copy");
	while (sim_evq_pop(a, &ea)) {
		cr_assert(sim_evq_pop(b, &eb), "copy ran out early");
		cr_assert(ea.time_ns == eb.time_ns && ea.seq == eb.seq && ea.data == eb.data,
		          "copy diverged at seq %llu", (unsigned long long)ea.seq);
	}
	sim_evq_destroy(a);
	sim_evq_destroy(b);
}

Test(evq, reset_restarts_sequence)
{
	sim_evq *q = new_queue();
	struct sim_event ev;

	sim_evq_push(q, 5, 0, -1, 0);
	sim_evq_reset(q);
	cr_assert_eq(sim_evq_len(q), 0, "reset must empty the queue");
	sim_evq_push(q, 5, 0, -1, 0);
	sim_evq_pop(q, &ev);
	cr_assert_eq(ev.seq, 0, "sequence after reset: wanted 0, got %llu",
	             (unsigned long long)ev.seq);
	sim_evq_destroy(q);
}
