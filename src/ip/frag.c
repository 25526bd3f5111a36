/*
 * IPv4 fragment reassembly (RFC 791, RFC 815) with time and memory bounds.
 *
 * A datagram being reassembled is keyed by (src, dst, id, proto) and holds
 * a buffer that grows to the highest byte seen, plus a bitmap of the 8-byte
 * blocks received (RFC 815's hole list, as bits: 65536 / 8 blocks). It is
 * complete when the last fragment (MF clear) fixed the length and every
 * block below it is present.
 *
 * Bounds, all counted when hit:
 *   - REASM_SLOTS datagrams at once and mem_limit bytes of buffers: a
 *     fragment that would exceed either is dropped (FragmentsDropped,
 *     ReasmFails) rather than evicting work in progress, as Linux does;
 *   - timeout_ns after its first fragment a datagram is abandoned
 *     (ReasmTimeout, ReasmFails);
 *   - overlapping fragments abandon the datagram (as Linux since 4.19: an
 *     overlap is an evasion attempt, not a retransmission); an exact
 *     duplicate of a fragment already held is ignored.
 * Fragments arrive rarely, so buffers come from malloc when a datagram
 * starts; nothing is allocated for unfragmented packets.
 */
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"

enum { REASM_SLOTS = 64, REASM_MAX = 65535 - IPV4_HDR_LEN, REASM_BLOCKS = 65536 / 8 };

struct reasm_dg {
	bool used;
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	uint64_t deadline;
	uint32_t total;        /* payload length, known once MF=0 arrived; else 0 */
	bool have_last;
	uint32_t cap;          /* bytes allocated in buf */
	uint8_t *buf;
	uint64_t map[REASM_BLOCKS / 64];  /* received 8-byte blocks */
};

struct ip_reasm {
	size_t mem_limit, mem_used;
	uint64_t timeout_ns;
	uint8_t *done;         /* the last completed datagram, freed next call */
	unsigned in_use;       /* slots used: the common case, 0, costs nothing */
	struct reasm_dg dg[REASM_SLOTS];
};

ip_reasm *reasm_new(size_t mem_limit, uint64_t timeout_ns)
{
	ip_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->mem_limit = mem_limit;
	r->timeout_ns = timeout_ns;
	return r;
}

static void dg_release(ip_reasm *r, struct reasm_dg *d)
{
	r->mem_used -= d->cap;
	r->in_use--;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

void reasm_free(ip_reasm *r)
{
	if (!r)
		return;
	for (int i = 0; i < REASM_SLOTS; i++)
		if (r->dg[i].used)
			dg_release(r, &r->dg[i]);
	free(r->done);
	free(r);
}

static void release_done(ip_reasm *r)
{
	free(r->done);
	r->done = NULL;
}

static bool map_test(const struct reasm_dg *d, uint32_t b)
{
	return d->map[b / 64] >> (b % 64) & 1;
}

/* Blocks [b0, b1): 0 none set, 1 all set, -1 some. */
static int map_state(const struct reasm_dg *d, uint32_t b0, uint32_t b1)
{
	uint32_t set = 0;

	for (uint32_t b = b0; b < b1; b++)
		set += map_test(d, b);
	return set == 0 ? 0 : set == b1 - b0 ? 1 : -1;
}

static void map_set(struct reasm_dg *d, uint32_t b0, uint32_t b1)
{
	for (uint32_t b = b0; b < b1; b++)
		d->map[b / 64] |= 1ull << (b % 64);
}

static struct reasm_dg *dg_find(ip_reasm *r, const ipv4_hdr *h, bool create, uint64_t now)
{
	struct reasm_dg *free_slot = NULL;

	for (int i = 0; i < REASM_SLOTS; i++) {
		struct reasm_dg *d = &r->dg[i];
		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (d->id == h->id && d->src == h->src && d->dst == h->dst && d->proto == h->proto)
			return d;
	}
	if (!create || !free_slot)
		return NULL;
	free_slot->used = true;
	r->in_use++;
	free_slot->id = h->id;
	free_slot->src = h->src;
	free_slot->dst = h->dst;
	free_slot->proto = h->proto;
	free_slot->deadline = now + r->timeout_ns;
	return free_slot;
}

/* Makes room for bytes up to `end`; false when over the memory limit. */
static bool dg_grow(ip_reasm *r, struct reasm_dg *d, uint32_t end)
{
	uint32_t cap = d->cap ? d->cap : 2048;
	uint8_t *nb;

	if (end <= d->cap)
		return true;
	while (cap < end)
		cap *= 2;
	if (cap > REASM_MAX)
		cap = REASM_MAX;
	if (r->mem_used - d->cap + cap > r->mem_limit)
		return false;
	nb = realloc(d->buf, cap);
	if (!nb)
		return false;
	r->mem_used += cap - d->cap;
	d->buf = nb;
	d->cap = cap;
	return true;
}

static long frag_drop(ip_reasm *r, struct reasm_dg *d, hsk_counters *cnt)
{
	cnt->v[CNT_FragmentsDropped]++;
	cnt->v[CNT_ReasmFails]++;
	if (d)
		dg_release(r, d);
	return -1;
}

static bool dg_complete(const struct reasm_dg *d)
{
	uint32_t nblocks = (d->total + 7) / 8;

	if (!d->have_last)
		return false;
	for (uint32_t w = 0; w < nblocks / 64; w++)
		if (d->map[w] != ~0ull)
			return false;
	for (uint32_t b = nblocks / 64 * 64; b < nblocks; b++)
		if (!map_test(d, b))
			return false;
	return true;
}

long reasm_input(ip_reasm *r, uint64_t now, const ipv4_hdr *h,
		 const uint8_t *payload, size_t len, const uint8_t **out,
		 hsk_counters *cnt)
{
	uint32_t off = (uint32_t)(h->frag & IPV4_FRAG_MASK) * 8;
	bool more = h->frag & IPV4_MF;
	uint32_t end = off + (uint32_t)len;
	struct reasm_dg *d;
	long n;
	int st;

	release_done(r);
	cnt->v[CNT_ReasmReqds]++;
	/* Every fragment but the last carries a multiple of 8 bytes. */
	if (len == 0 || end > REASM_MAX || (more && len % 8))
		return frag_drop(r, NULL, cnt);
	d = dg_find(r, h, true, now);
	if (!d)
		return frag_drop(r, NULL, cnt);
	if (d->have_last && (end > d->total || (!more && end != d->total)))
		return frag_drop(r, d, cnt);
	if (!more) {
		/* Nothing may lie at or past the end; a block the end cuts short
		 * can only have come from a fragment that went past it. */
		if (!d->have_last && d->cap && map_state(d, end / 8, REASM_BLOCKS) != 0)
			return frag_drop(r, d, cnt);
		d->have_last = true;
		d->total = end;
	}
	st = map_state(d, off / 8, (end + 7) / 8);
	if (st == 1 && d->cap >= end && !memcmp(d->buf + off, payload, len))
		return 0;       /* an exact duplicate */
	if (st != 0)
		return frag_drop(r, d, cnt);
	if (!dg_grow(r, d, end))
		return frag_drop(r, d, cnt);
	memcpy(d->buf + off, payload, len);
	map_set(d, off / 8, (end + 7) / 8);
	if (!dg_complete(d))
		return 0;
	/* Hand the buffer over; it lives until the next reasm_* call. */
	cnt->v[CNT_ReasmOKs]++;
	r->done = d->buf;
	n = (long)d->total;
	d->buf = NULL;
	dg_release(r, d);
	*out = r->done;
	return n;
}

void reasm_expire(ip_reasm *r, uint64_t now, hsk_counters *cnt)
{
	release_done(r);
	for (int i = 0; i < REASM_SLOTS; i++) {
		struct reasm_dg *d = &r->dg[i];
		if (d->used && now >= d->deadline) {
			cnt->v[CNT_ReasmTimeout]++;
			cnt->v[CNT_ReasmFails]++;
			dg_release(r, d);
		}
	}
}

uint64_t reasm_next_deadline(const ip_reasm *r)
{
	uint64_t t = UINT64_MAX;

	/* Asked on every deadline query of the stack: no scan when idle. */
	if (!r->in_use)
		return t;
	for (int i = 0; i < REASM_SLOTS; i++)
		if (r->dg[i].used && r->dg[i].deadline < t)
			t = r->dg[i].deadline;
	return t;
}
