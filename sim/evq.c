/* The event queue: a 4-ary min-heap on the 128-bit key (time << 64 | seq) whose entries carry their
 * keys inline, so sifting touches only the heap array and one comparison orders two events (a 4-ary
 * heap halves the levels a pop walks; measured by bench/bench_engine.c). Payloads live in a slot
 * pool; a handle is (generation << 32 | slot + 1). Cancelling follows Redis' ae.c: the slot's
 * generation is bumped (a tombstone) and the heap entry is dropped lazily when it reaches the top,
 * or in bulk once tombstones outnumber live events, so the hot push/pop path never maintains
 * back-pointers. Stale entries never surface: after every pop and cancel the top of the heap is
 * purged, so peek and pop always see a live event. */
#include <hvsim/evq.h>

#include <stdlib.h>
#include <string.h>

#define NO_SLOT UINT32_MAX

typedef unsigned __int128 u128;

#define ARITY 4

struct heap_ent {
	u128 key; /* time_ns << 64 | seq */
	uint32_t slot;
	uint32_t gen; /* the slot generation this entry was pushed with */
};

struct slot {
	uint32_t gen;  /* odd while the event is pending */
	uint32_t next; /* free-list link */
	uint32_t kind;
	int32_t vcpu;
	uint64_t data;
};

struct sim_evq {
	struct heap_ent *heap;
	struct slot *slots;
	uint32_t len;     /* heap entries, tombstones included */
	uint32_t dead;    /* tombstones in the heap */
	uint32_t cap;     /* capacity of heap and slots */
	uint32_t free;    /* first free slot, NO_SLOT when none */
	uint32_t n_slots; /* slots ever handed out */
	uint64_t next_seq;
};

static inline u128 make_key(uint64_t time_ns, uint64_t seq)
{
	return (u128)time_ns << 64 | seq;
}

static inline uint64_t key_time(u128 key)
{
	return (uint64_t)(key >> 64);
}

/* Index of the smallest of the children first..first+ARITY-1 that exist (first < len). */
static inline uint32_t min_child(const struct heap_ent *h, uint32_t first, uint32_t len)
{
	uint32_t best = first, a, b;

	if (first + ARITY <= len) { /* all four: a branch-free tournament */
		a = first + (h[first + 1].key < h[first].key);
		b = first + 2 + (h[first + 3].key < h[first + 2].key);
		return h[b].key < h[a].key ? b : a;
	}
	for (uint32_t c = first + 1; c < len; c++)
		best = h[c].key < h[best].key ? c : best;
	return best;
}

static inline bool live(const sim_evq *q, const struct heap_ent *e)
{
	return q->slots[e->slot].gen == e->gen;
}

static void sift_up(sim_evq *q, uint32_t i)
{
	struct heap_ent e = q->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / ARITY;

		if (e.key >= q->heap[parent].key)
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
}

static void sift_down(sim_evq *q, uint32_t i)
{
	struct heap_ent e = q->heap[i];

	for (;;) {
		uint32_t c = ARITY * i + 1;

		if (c >= q->len)
			break;
		c = min_child(q->heap, c, q->len);
		if (q->heap[c].key >= e.key)
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = e;
}

/* Floyd's bottom-up deletion: walk the hole at the top down to a leaf along the smaller children
 * (one comparison per level), put the last entry there and sift it up, which is usually a short
 * way. */
static void remove_top(sim_evq *q)
{
	uint32_t i = 0, n = --q->len;

	if (n == 0)
		return;
	for (;;) {
		uint32_t c = ARITY * i + 1;

		if (c >= n)
			break;
		c = min_child(q->heap, c, n);
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = q->heap[n];
	sift_up(q, i);
}

/* Drops tombstones from the top so heap[0] is live (or the heap is empty). */
static void purge_top(sim_evq *q)
{
	while (q->len && !live(q, &q->heap[0])) {
		remove_top(q);
		q->dead--;
	}
}

/* Rebuilds the heap without tombstones once they outnumber live entries: O(n), amortized. */
static void compact(sim_evq *q)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < q->len; i++)
		if (live(q, &q->heap[i]))
			q->heap[n++] = q->heap[i];
	q->len = n;
	q->dead = 0;
	for (uint32_t i = n / ARITY + 1; i-- > 0;)
		sift_down(q, i);
}

static bool grow(sim_evq *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 64;
	struct heap_ent *heap;
	struct slot *slots;

	if (cap <= q->cap)
		return false;
	heap = realloc(q->heap, (size_t)cap * sizeof(*heap));
	if (!heap)
		return false;
	q->heap = heap;
	slots = realloc(q->slots, (size_t)cap * sizeof(*slots));
	if (!slots)
		return false;
	q->slots = slots;
	q->cap = cap;
	return true;
}

sim_evq *sim_evq_create(void)
{
	sim_evq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->free = NO_SLOT;
	if (!grow(q)) {
		sim_evq_destroy(q);
		return NULL;
	}
	return q;
}

void sim_evq_destroy(sim_evq *q)
{
	if (!q)
		return;
	free(q->heap);
	free(q->slots);
	free(q);
}

void sim_evq_reset(sim_evq *q)
{
	q->len = 0;
	q->dead = 0;
	q->free = NO_SLOT;
	q->n_slots = 0;
	q->next_seq = 0;
}

static uint32_t slot_alloc(sim_evq *q)
{
	uint32_t s;

	if (q->free != NO_SLOT) {
		s = q->free;
		q->free = q->slots[s].next;
		return s;
	}
	if (q->n_slots == q->cap || q->len == q->cap) {
		if (!grow(q))
			return NO_SLOT;
	}
	s = q->n_slots++;
	q->slots[s].gen = 0;
	return s;
}

static void slot_release(sim_evq *q, uint32_t s)
{
	q->slots[s].gen++; /* even: free; every heap entry still naming it is now a tombstone */
	q->slots[s].next = q->free;
	q->free = s;
}

sim_ev_handle sim_evq_push(sim_evq *q, uint64_t time_ns, uint32_t kind, int32_t vcpu, uint64_t data)
{
	uint32_t s;
	struct slot *sl;

	if (q->len == q->cap && (q->dead ? (compact(q), false) : !grow(q)))
		return 0;
	s = slot_alloc(q);
	if (s == NO_SLOT || q->len == q->cap)
		return 0;
	sl = &q->slots[s];
	sl->gen++;
	sl->kind = kind;
	sl->vcpu = vcpu;
	sl->data = data;
	q->heap[q->len] = (struct heap_ent){make_key(time_ns, q->next_seq++), s, sl->gen};
	sift_up(q, q->len++);
	return ((uint64_t)sl->gen << 32) | (s + 1);
}

static struct slot *slot_of(const sim_evq *q, sim_ev_handle h)
{
	uint32_t s = (uint32_t)h - 1;

	if (h == 0 || s >= q->n_slots || q->slots[s].gen != (uint32_t)(h >> 32))
		return NULL;
	return &q->slots[s];
}

bool sim_evq_pending(const sim_evq *q, sim_ev_handle h)
{
	return slot_of(q, h) != NULL;
}

bool sim_evq_cancel(sim_evq *q, sim_ev_handle h)
{
	if (!slot_of(q, h))
		return false;
	slot_release(q, (uint32_t)h - 1);
	q->dead++;
	purge_top(q);
	if (q->dead > 64 && q->dead > q->len / 2)
		compact(q);
	return true;
}

bool sim_evq_peek_time(const sim_evq *q, uint64_t *time_ns)
{
	if (q->len == 0)
		return false;
	*time_ns = key_time(q->heap[0].key);
	return true;
}

bool sim_evq_pop(sim_evq *q, struct sim_event *ev)
{
	const struct slot *sl;

	if (q->len == 0)
		return false;
	sl = &q->slots[q->heap[0].slot];
	ev->time_ns = key_time(q->heap[0].key);
	ev->seq = (uint64_t)q->heap[0].key;
	ev->kind = sl->kind;
	ev->vcpu = sl->vcpu;
	ev->data = sl->data;
	slot_release(q, q->heap[0].slot);
	remove_top(q);
	purge_top(q);
	return true;
}

size_t sim_evq_len(const sim_evq *q)
{
	return q->len - q->dead;
}

enum hvsim_status sim_evq_copy(sim_evq *dst, const sim_evq *src)
{
	while (dst->cap < src->cap)
		if (!grow(dst))
			return HVSIM_E_NOMEM;
	memcpy(dst->heap, src->heap, (size_t)src->len * sizeof(*dst->heap));
	memcpy(dst->slots, src->slots, (size_t)src->n_slots * sizeof(*dst->slots));
	dst->len = src->len;
	dst->dead = src->dead;
	dst->free = src->free;
	dst->n_slots = src->n_slots;
	dst->next_seq = src->next_seq;
	return HVSIM_OK;
}
