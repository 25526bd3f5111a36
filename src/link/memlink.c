/*
 * memlink: an in-memory IPv4 network with a virtual clock.
 *
 *   stack -> link.transmit (host_transmit)
 *         -> filter -> loss -> egress queue/rate -> corrupt -> dup
 *         -> delay + jitter (+ reorder hold) -> heap ordered by (time, id)
 *   memnet_step -> pop due packets -> hsk_stack_input (or a test sink)
 *               -> hsk_stack_advance on every stack whose deadline is due
 *
 * transmit only copies the packet into a pooled buffer and schedules it, so
 * a stack is never re-entered from its own transmit. Packets due at the same
 * instant are delivered in the order they were scheduled (FIFO by id), which
 * together with the seeded RNG makes a run replay exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "link/memlink.h"

enum { MEMNET_MAX_HOSTS = 64 };
#define MEMNET_REORDER_DEFAULT_NS 1000000ull
#define MEMNET_LIVELOCK_STEPS 1000000u

typedef struct mpkt {
	uint64_t at;            /* delivery time */
	uint64_t id;            /* FIFO tie-break */
	int from, to;
	size_t len, cap;
	uint8_t *data;
	struct mpkt *next_free;
} mpkt;

struct hsk_memnet;

typedef struct mhost {
	struct hsk_memnet *net;
	int id;
	uint32_t addr;
	bool has6;
	uint8_t addr6[16];      /* with has6: IPv6 packets to it come here */
	hsk_stack *stack;
	memnet_sink_fn sink;
	void *sink_ctx;
	memnet_impair imp;
	uint64_t busy_until;    /* egress serialisation ends */
	/* departure times of packets still in the egress queue (ring) */
	uint64_t *depart;
	size_t dep_head, dep_len, dep_cap;
} mhost;

struct hsk_memnet {
	uint64_t now;
	uint64_t next_id;
	hsk_rng rng;
	mhost *hosts[MEMNET_MAX_HOSTS];
	int nhosts;
	mpkt **heap;
	size_t heap_len, heap_cap;
	mpkt *free_list;
	memnet_filter_fn filter;
	void *filter_ctx;
	memnet_drop_fn drop_hook;
	void *drop_ctx;
	memnet_stats st;
};

/* ---- the delivery heap, ordered by (at, id) ---- */

static bool pkt_before(const mpkt *a, const mpkt *b)
{
	return a->at < b->at || (a->at == b->at && a->id < b->id);
}

static bool heap_push(hsk_memnet *n, mpkt *p)
{
	size_t i;

	if (n->heap_len == n->heap_cap) {
		size_t cap = n->heap_cap ? n->heap_cap * 2 : 64;
		mpkt **h = realloc(n->heap, cap * sizeof(*h));

		if (!h)
			return false;
		n->heap = h;
		n->heap_cap = cap;
	}
	i = n->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!pkt_before(p, n->heap[parent]))
			break;
		n->heap[i] = n->heap[parent];
		i = parent;
	}
	n->heap[i] = p;
	return true;
}

static mpkt *heap_pop(hsk_memnet *n)
{
	mpkt *top = n->heap[0], *last;
	size_t i = 0;

	last = n->heap[--n->heap_len];
	while (n->heap_len > 0) {
		size_t c = 2 * i + 1;

		if (c >= n->heap_len)
			break;
		if (c + 1 < n->heap_len && pkt_before(n->heap[c + 1], n->heap[c]))
			c++;
		if (!pkt_before(n->heap[c], last))
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	if (n->heap_len > 0)
		n->heap[i] = last;
	return top;
}

/* ---- packet buffers: a free list; a buffer grows only when a larger
 * packet than it ever held comes along ---- */

static mpkt *pkt_get(hsk_memnet *n, size_t len)
{
	mpkt *p = n->free_list;

	if (p) {
		n->free_list = p->next_free;
	} else {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
	}
	if (p->cap < len) {
		size_t cap = len < 2048 ? 2048 : len;
		uint8_t *d = realloc(p->data, cap);

		if (!d) {
			p->next_free = n->free_list;
			n->free_list = p;
			return NULL;
		}
		p->data = d;
		p->cap = cap;
	}
	p->len = len;
	return p;
}

static void pkt_put(hsk_memnet *n, mpkt *p)
{
	p->next_free = n->free_list;
	n->free_list = p;
}

/* ---- network ---- */

hsk_memnet *memnet_new(uint64_t seed, uint64_t start_ns)
{
	hsk_memnet *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->now = start_ns;
	rng_seed(&n->rng, seed);
	return n;
}

void memnet_free(hsk_memnet *n)
{
	mpkt *p;
	int i;

	if (!n)
		return;
	while (n->heap_len > 0)
		pkt_put(n, heap_pop(n));
	while ((p = n->free_list)) {
		n->free_list = p->next_free;
		free(p->data);
		free(p);
	}
	free(n->heap);
	for (i = 0; i < n->nhosts; i++) {
		free(n->hosts[i]->depart);
		free(n->hosts[i]);
	}
	free(n);
}

uint64_t memnet_now(const hsk_memnet *n)
{
	return n->now;
}

int memnet_host_by_addr(const hsk_memnet *n, uint32_t addr)
{
	int i;

	for (i = 0; i < n->nhosts; i++)
		if (n->hosts[i]->addr == addr)
			return i;
	return -1;
}

int memnet_host_by_addr6(const hsk_memnet *n, const uint8_t a[16])
{
	for (int i = 0; i < n->nhosts; i++)
		if (n->hosts[i]->has6 && !memcmp(n->hosts[i]->addr6, a, 16))
			return i;
	return -1;
}

int memnet_set_addr6(hsk_memnet *n, int host, const uint8_t a[16])
{
	if (host < 0 || host >= n->nhosts || memnet_host_by_addr6(n, a) >= 0)
		return -1;
	n->hosts[host]->has6 = true;
	memcpy(n->hosts[host]->addr6, a, 16);
	return 0;
}

static void report_drop(hsk_memnet *n, int from, const char *reason,
			const uint8_t *pkt, size_t len)
{
	if (n->drop_hook)
		n->drop_hook(n->drop_ctx, n->now, from, reason, pkt, len);
}

/* Egress queue occupancy: departures still in the future. */
static size_t egress_queued(mhost *h, uint64_t now)
{
	while (h->dep_len > 0 && h->depart[h->dep_head] <= now) {
		h->dep_head = (h->dep_head + 1) % h->dep_cap;
		h->dep_len--;
	}
	return h->dep_len;
}

/* When the packet leaves the sender: after serialisation behind what is
 * already queued. UINT64_MAX when the queue is full. */
static uint64_t egress_depart(hsk_memnet *n, mhost *h, size_t len)
{
	const memnet_impair *imp = &h->imp;
	uint64_t start, tx;

	if (imp->rate_bps == 0)
		return n->now;
	if (imp->queue_limit > 0 && h->depart &&
	    egress_queued(h, n->now) >= imp->queue_limit)
		return UINT64_MAX;
	start = h->busy_until > n->now ? h->busy_until : n->now;
	tx = ((uint64_t)len * 8u * 1000000000u + imp->rate_bps - 1) / imp->rate_bps;
	h->busy_until = start + tx;
	if (imp->queue_limit > 0 && h->depart) {
		size_t tail = (h->dep_head + h->dep_len) % h->dep_cap;

		h->depart[tail] = h->busy_until;
		h->dep_len++;
	}
	return h->busy_until;
}

static uint64_t flight_time(hsk_memnet *n, const memnet_impair *imp)
{
	uint64_t t = imp->delay_ns;

	if (imp->jitter_ns > 0)
		t += rng_below(&n->rng, imp->jitter_ns);
	if (imp->reorder > 0 && rng_chance(&n->rng, imp->reorder)) {
		t += imp->reorder_ns ? imp->reorder_ns : MEMNET_REORDER_DEFAULT_NS;
		n->st.reordered++;
	}
	return t;
}

static mpkt *schedule(hsk_memnet *n, int from, int to, uint64_t at,
		      const uint8_t *data, size_t len)
{
	mpkt *p = pkt_get(n, len);

	if (!p)
		return NULL;
	memcpy(p->data, data, len);
	p->at = at;
	p->id = n->next_id++;
	p->from = from;
	p->to = to;
	if (!heap_push(n, p)) {
		pkt_put(n, p);
		return NULL;
	}
	return p;
}

static void host_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	mhost *h = ctx;
	hsk_memnet *n = h->net;
	const memnet_impair *imp = &h->imp;
	uint64_t depart, at;
	mpkt *p;
	int to = -1;

	n->st.sent++;
	if (n->filter && !n->filter(n->filter_ctx, h->id, pkt, len)) {
		n->st.filtered++;
		report_drop(n, h->id, "filter", pkt, len);
		return;
	}
	if (len >= 20 && (pkt[0] >> 4) == 4)
		to = memnet_host_by_addr(n, (uint32_t)pkt[16] << 24 |
					 (uint32_t)pkt[17] << 16 |
					 (uint32_t)pkt[18] << 8 | pkt[19]);
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		to = memnet_host_by_addr6(n, pkt + 24);
	if (to < 0) {
		n->st.unroutable++;
		report_drop(n, h->id, "unroutable", pkt, len);
		return;
	}
	if (imp->loss > 0 && rng_chance(&n->rng, imp->loss)) {
		n->st.lost++;
		report_drop(n, h->id, "loss", pkt, len);
		return;
	}
	depart = egress_depart(n, h, len);
	if (depart == UINT64_MAX) {
		n->st.queue_drops++;
		report_drop(n, h->id, "queue", pkt, len);
		return;
	}
	at = depart + flight_time(n, imp);
	p = schedule(n, h->id, to, at, pkt, len);
	if (!p) {
		n->st.queue_drops++;
		report_drop(n, h->id, "queue", pkt, len);
		return;
	}
	/* corrupt the scheduled copy (a duplicate carries the same damage) */
	if (imp->corrupt > 0 && len > 0 && rng_chance(&n->rng, imp->corrupt)) {
		/* (the value drawn before the place: the order the RNG
		 * was always read in) */
		uint8_t x = (uint8_t)(1 + rng_below(&n->rng, 255));
		size_t off = rng_below(&n->rng, len);
		bool v6 = p->data[0] >> 4 == 6;

		p->data[off] ^= x;
		n->st.corrupted++;
		if (v6 && ((off == 0 && x < 16) || (off >= 1 && off <= 3) || off == 7 ||
			   (off == 6 && p->data[6] == 59)))
			n->st.corrupted_unchecked++;
	}
	if (imp->dup > 0 && rng_chance(&n->rng, imp->dup)) {
		at = depart + flight_time(n, imp);
		if (schedule(n, h->id, to, at, p->data, len))
			n->st.duplicated++;
	}
}

int memnet_add_host(hsk_memnet *n, uint32_t addr, hsk_link *link)
{
	mhost *h;

	if (n->nhosts >= MEMNET_MAX_HOSTS || memnet_host_by_addr(n, addr) >= 0)
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	h->net = n;
	h->id = n->nhosts;
	h->addr = addr;
	n->hosts[n->nhosts++] = h;
	if (link) {
		link->ctx = h;
		link->transmit = host_transmit;
	}
	return h->id;
}

static mhost *host_get(const hsk_memnet *n, int host)
{
	if (host < 0 || host >= n->nhosts)
		return NULL;
	return n->hosts[host];
}

void memnet_set_stack(hsk_memnet *n, int host, hsk_stack *s)
{
	mhost *h = host_get(n, host);

	if (h)
		h->stack = s;
}

void memnet_set_sink(hsk_memnet *n, int host, memnet_sink_fn fn, void *ctx)
{
	mhost *h = host_get(n, host);

	if (h) {
		h->sink = fn;
		h->sink_ctx = ctx;
	}
}

void memnet_set_impair(hsk_memnet *n, int host, const memnet_impair *imp)
{
	mhost *h = host_get(n, host);
	uint64_t *dep = NULL;

	if (!h)
		return;
	if (imp && imp->queue_limit > 0) {
		dep = calloc(imp->queue_limit, sizeof(*dep));
		if (!dep)
			return;
	}
	free(h->depart);
	h->depart = dep;
	h->dep_head = h->dep_len = 0;
	h->dep_cap = imp ? imp->queue_limit : 0;
	if (imp)
		h->imp = *imp;
	else
		memset(&h->imp, 0, sizeof(h->imp));
}

void memnet_set_filter(hsk_memnet *n, memnet_filter_fn fn, void *ctx)
{
	n->filter = fn;
	n->filter_ctx = ctx;
}

void memnet_set_drop_hook(hsk_memnet *n, memnet_drop_fn fn, void *ctx)
{
	n->drop_hook = fn;
	n->drop_ctx = ctx;
}

uint64_t memnet_next_event(const hsk_memnet *n)
{
	uint64_t t = n->heap_len > 0 ? n->heap[0]->at : UINT64_MAX;
	int i;

	for (i = 0; i < n->nhosts; i++) {
		hsk_stack *s = n->hosts[i]->stack;

		if (s && !n->hosts[i]->sink) {
			uint64_t d = hsk_stack_next_deadline(s);

			if (d < t)
				t = d;
		}
	}
	return t;
}

static void deliver(hsk_memnet *n, mpkt *p)
{
	mhost *h = n->hosts[p->to];

	if (h->sink) {
		n->st.delivered++;
		h->sink(h->sink_ctx, n->now, p->data, p->len);
	} else if (h->stack) {
		n->st.delivered++;
		hsk_stack_input(h->stack, n->now, p->data, p->len);
	} else {
		n->st.unroutable++;
		report_drop(n, p->from, "unroutable", p->data, p->len);
	}
}

bool memnet_step(hsk_memnet *n, uint64_t limit)
{
	uint64_t t = memnet_next_event(n), last_id;
	int i;

	if (t == UINT64_MAX || t > limit) {
		if (limit != UINT64_MAX && limit > n->now)
			n->now = limit;
		return false;
	}
	if (t > n->now)
		n->now = t;
	/* Packets scheduled while delivering (at this same instant with zero
	 * delay) wait for the next step, so one step is bounded. */
	last_id = n->next_id;
	while (n->heap_len > 0 && n->heap[0]->at <= n->now &&
	       n->heap[0]->id < last_id) {
		mpkt *p = heap_pop(n);

		deliver(n, p);
		pkt_put(n, p);
	}
	for (i = 0; i < n->nhosts; i++) {
		mhost *h = n->hosts[i];

		if (h->stack && !h->sink && hsk_stack_next_deadline(h->stack) <= n->now)
			hsk_stack_advance(h->stack, n->now);
	}
	return true;
}

void memnet_run_for(hsk_memnet *n, uint64_t dt_ns)
{
	uint64_t end = n->now + dt_ns, at = n->now;
	unsigned same = 0;

	if (end < n->now)
		end = UINT64_MAX - 1;
	while (memnet_step(n, end)) {
		if (n->now != at) {
			at = n->now;
			same = 0;
		} else if (++same >= MEMNET_LIVELOCK_STEPS) {
			n->st.livelocks++;
			break;
		}
	}
	n->now = end;
}

size_t memnet_in_flight(const hsk_memnet *n)
{
	return n->heap_len;
}

void memnet_get_stats(const hsk_memnet *n, memnet_stats *st)
{
	*st = n->st;
}
