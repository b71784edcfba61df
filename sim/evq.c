/* The event queue: an indexed binary min-heap on (time, seq). Heap entries carry their keys inline so
 * sifting never leaves the heap array; payloads live in a slot pool whose slots remember their heap
 * position, so cancelling is an O(log n) removal instead of a tombstone left for the pop path.
 * Handles are (generation << 32 | slot + 1): a slot reused after firing gets a new generation, which
 * makes stale handles harmless. */
#include <hvsim/evq.h>

#include <stdlib.h>
#include <string.h>

#define NO_POS UINT32_MAX

struct heap_ent {
	uint64_t time_ns;
	uint64_t seq;
	uint32_t slot;
};

struct slot {
	uint32_t gen;
	uint32_t pos;    /* heap index, NO_POS when free */
	uint32_t next;   /* free-list link */
	uint32_t kind;
	int32_t vcpu;
	uint64_t data;
};

struct sim_evq {
	struct heap_ent *heap;
	struct slot *slots;
	uint32_t len;      /* heap entries in use */
	uint32_t cap;      /* heap and slot capacity */
	uint32_t free;     /* first free slot, NO_POS when none */
	uint32_t n_slots;  /* slots ever handed out */
	uint64_t next_seq;
};

static bool before(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
}

static void place(sim_evq *q, uint32_t i, struct heap_ent e)
{
	q->heap[i] = e;
	q->slots[e.slot].pos = i;
}

static void sift_up(sim_evq *q, uint32_t i)
{
	struct heap_ent e = q->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!before(&e, &q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, e);
}

static void sift_down(sim_evq *q, uint32_t i)
{
	struct heap_ent e = q->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= q->len)
			break;
		if (c + 1 < q->len && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &e))
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, e);
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
	q->free = NO_POS;
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
	q->free = NO_POS;
	q->n_slots = 0;
	q->next_seq = 0;
}

static uint32_t slot_alloc(sim_evq *q)
{
	uint32_t s;

	if (q->free != NO_POS) {
		s = q->free;
		q->free = q->slots[s].next;
		return s;
	}
	if (q->n_slots == q->cap && !grow(q))
		return NO_POS;
	s = q->n_slots++;
	q->slots[s].gen = 0;
	return s;
}

static void slot_release(sim_evq *q, uint32_t s)
{
	q->slots[s].pos = NO_POS;
	q->slots[s].gen++;
	q->slots[s].next = q->free;
	q->free = s;
}

sim_ev_handle sim_evq_push(sim_evq *q, uint64_t time_ns, uint32_t kind, int32_t vcpu, uint64_t data)
{
	uint32_t s = slot_alloc(q);
	struct slot *sl;

	if (s == NO_POS)
		return 0;
	sl = &q->slots[s];
	sl->gen++; /* odd generations are live: a handle never equals a freed slot's */
	sl->kind = kind;
	sl->vcpu = vcpu;
	sl->data = data;
	q->heap[q->len] = (struct heap_ent){.time_ns = time_ns, .seq = q->next_seq++, .slot = s};
	sl->pos = q->len++;
	sift_up(q, sl->pos);
	return ((uint64_t)sl->gen << 32) | (s + 1);
}

static struct slot *slot_of(const sim_evq *q, sim_ev_handle h)
{
	uint32_t s = (uint32_t)h - 1;

	if (h == 0 || s >= q->n_slots)
		return NULL;
	if (q->slots[s].gen != (uint32_t)(h >> 32) || q->slots[s].pos == NO_POS)
		return NULL;
	return &q->slots[s];
}

bool sim_evq_pending(const sim_evq *q, sim_ev_handle h)
{
	return slot_of(q, h) != NULL;
}

static void remove_at(sim_evq *q, uint32_t i)
{
	uint32_t s = q->heap[i].slot;

	q->len--;
	if (i != q->len) {
		place(q, i, q->heap[q->len]);
		if (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2]))
			sift_up(q, i);
		else
			sift_down(q, i);
	}
	slot_release(q, s);
}

bool sim_evq_cancel(sim_evq *q, sim_ev_handle h)
{
	struct slot *sl = slot_of(q, h);

	if (!sl)
		return false;
	remove_at(q, sl->pos);
	return true;
}

bool sim_evq_peek_time(const sim_evq *q, uint64_t *time_ns)
{
	if (q->len == 0)
		return false;
	*time_ns = q->heap[0].time_ns;
	return true;
}

bool sim_evq_pop(sim_evq *q, struct sim_event *ev)
{
	const struct slot *sl;

	if (q->len == 0)
		return false;
	sl = &q->slots[q->heap[0].slot];
	ev->time_ns = q->heap[0].time_ns;
	ev->seq = q->heap[0].seq;
	ev->kind = sl->kind;
	ev->vcpu = sl->vcpu;
	ev->data = sl->data;
	remove_at(q, 0);
	return true;
}

size_t sim_evq_len(const sim_evq *q)
{
	return q->len;
}

enum hvsim_status sim_evq_copy(sim_evq *dst, const sim_evq *src)
{
	while (dst->cap < src->cap)
		if (!grow(dst))
			return HVSIM_E_NOMEM;
	memcpy(dst->heap, src->heap, (size_t)src->len * sizeof(*dst->heap));
	memcpy(dst->slots, src->slots, (size_t)src->n_slots * sizeof(*dst->slots));
	dst->len = src->len;
	dst->free = src->free;
	dst->n_slots = src->n_slots;
	dst->next_seq = src->next_seq;
	return HVSIM_OK;
}
