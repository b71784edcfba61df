/* The event queue: pending work ordered by (virtual time, insertion sequence), so events due at the
 * same nanosecond always fire in the order they were scheduled. */
#ifndef HVSIM_EVQ_H
#define HVSIM_EVQ_H

#include <hvsim/base.h>

typedef struct sim_evq sim_evq;

/* A handle names one scheduled event; 0 is never a valid handle. A handle goes stale once its event
 * fired or was cancelled, and cancelling a stale handle is harmless. */
typedef uint64_t sim_ev_handle;

struct sim_event {
	uint64_t time_ns; /* when it is due, virtual ns */
	uint64_t seq;     /* insertion order, breaks ties */
	uint32_t kind;    /* owner-defined */
	int32_t vcpu;     /* target vCPU index, -1 for none */
	uint64_t data;    /* owner-defined payload */
};

/* NULL when out of memory. */
sim_evq *sim_evq_create(void);
void sim_evq_destroy(sim_evq *q);
/* Removes every event; sequence numbering restarts so a reset queue replays identically. */
void sim_evq_reset(sim_evq *q);
/* Schedules an event; returns its handle, or 0 when out of memory. */
sim_ev_handle sim_evq_push(sim_evq *q, uint64_t time_ns, uint32_t kind, int32_t vcpu,
                           uint64_t data);
/* Unschedules; true when the event was still pending. */
bool sim_evq_cancel(sim_evq *q, sim_ev_handle h);
/* True when h names a pending event. */
bool sim_evq_pending(const sim_evq *q, sim_ev_handle h);
/* Earliest pending time into *time_ns; false when empty. */
bool sim_evq_peek_time(const sim_evq *q, uint64_t *time_ns);
/* Removes the earliest (time, seq) event into *ev; false when empty. */
bool sim_evq_pop(sim_evq *q, struct sim_event *ev);
size_t sim_evq_len(const sim_evq *q);
/* Makes dst an exact copy of src (handles stay valid in dst); HVSIM_E_NOMEM on failure, dst intact.
 */
enum hvsim_status sim_evq_copy(sim_evq *dst, const sim_evq *src);

#endif
