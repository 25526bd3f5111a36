/*
 * IPv4 fragment reassembly (RFC 791, RFC 815) that no sender can lock up.
 *
 * A datagram being reassembled is keyed by (src, dst, id, proto) and holds
 * its fragments in a list sorted by offset, each in its own allocation, so
 * a fragment costs what it carries (a tiny one at offset 65000 does not cost
 * a 64 KiB buffer). It is complete when the last fragment (MF clear) fixed
 * the length and the bytes held add up to it (overlaps are refused, so the
 * sum is the coverage). Then the fragments are copied into one buffer, which
 * lives until the next reasm_* call.
 *
 * Bounds (Linux's ipfrag_* before 4.17, when its evictor still ran):
 *   - memory: every datagram is charged its bookkeeping and its fragments.
 *     A fragment that would take the total above high_thresh first evicts
 *     the oldest datagrams until the total is under low_thresh
 *     (ReasmEvictions). Linux 4.17+ instead refuses new datagrams above
 *     high_thresh, which is the lockout this file used to have: 64
 *     spoofed tiny fragments stopped all reassembly for 30 s;
 *   - per source: one source address may hold src_max bytes; beyond that
 *     its own oldest datagrams go (ReasmSrcEvictions), not anyone else's;
 *   - time: timeout_ns after its first fragment a datagram is abandoned
 *     (ReasmTimeout). Datagrams are kept in order of arrival, which is the
 *     order of their deadlines, so expiry and eviction take the list head;
 *   - REASM_MAX_FRAGS fragments per datagram (as FreeBSD's
 *     maxfragsperpacket), so the sorted insert stays cheap: 64 KiB in
 *     fragments of 512 bytes fits.
 * Refused outright (FragmentsDropped), RFC 791/RFC 5722:
 *   - an empty fragment, a non-last one not a multiple of 8 bytes, one
 *     ending past 65535 - IHL ("endless");
 *   (tiny fragments are legal IPv4, RFC 791: an end host reassembles
 *   8-byte pieces. RFC 1858's offset-8 attack rewrites a TCP header that a
 *   filter in front has passed; here it is an overlap, which drops the
 *   datagram, so the rewritten header is never delivered.)
 *   - an overlap with a fragment held (ReasmOverlaps): the whole datagram
 *     goes, as Linux since 4.19 and RFC 5722 for IPv6 — an overlap is an
 *     evasion attempt, not a retransmission. An exact duplicate (same
 *     range, same bytes, same MF) is ignored (RFC 8200 §4.5 allows it);
 *     the same bytes with another MF contradict the datagram's length
 *     and count as an overlap;
 *   - data past the end a last fragment fixed, or two different ends;
 *     a last fragment (MF clear) may come first.
 * Every abandoned datagram counts once in ReasmFails.
 *
 * The offset-0 fragment's IPv4 header is kept after its data (20 bytes,
 * rebuilt from the parsed fields: options are not kept), so that a
 * datagram abandoned at its timeout can be answered with an ICMP time
 * exceeded quoting it, as RFC 1122 §3.3.2 asks ("the first fragment
 * header needs to be saved"); reasm_expire_one rebuilds that fragment.
 *
 * IPv6 (RFC 8200 §4.5) runs the same code in an instance of its own
 * (reasm_new6): a datagram is keyed by (src, dst, identification), the
 * next header of the fragmentable part is the offset-0 fragment's, and
 * that fragment's unfragmentable part (the IPv6 header and the extension
 * headers before the fragment header) is kept, charged, to head the
 * reassembled packet. The IPv6 specifics (key, head) live after the
 * common part of each entry, sized per instance, so an IPv4 entry is no
 * larger for IPv6's existence: 160 bytes are charged for an 8-byte IPv4
 * fragment, as before (180 for a first one, with its header), and 224
 * for an IPv6 one.
 *
 * Lookups go through two hash tables under the stack's secret key, one by
 * datagram and one by source, sized from high_thresh and allocated with
 * the first fragment: a stack that never sees one pays nothing. (The
 * tables are not charged to high_thresh, as Linux's are not.)
 */
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "ip/ip.h"
#include "wire/ipv6.h"

enum { REASM_MAX_FRAGS = 128 };

struct reasm_frag {
	struct reasm_frag *next;   /* by offset */
	uint32_t off, len;
	uint8_t data[];
};

struct reasm_src;

struct reasm_dg {
	struct reasm_dg *hnext;                /* hash chain */
	struct reasm_dg *older, *newer;        /* all datagrams, by age */
	struct reasm_dg *src_older, *src_newer; /* this source's, by age */
	struct reasm_src *owner;
	size_t mem;                /* charged: this entry and its fragments */
	uint64_t deadline;
	struct reasm_frag *frags;
	unsigned nfrags;
	uint32_t total;            /* payload length once the last arrived */
	uint32_t received;         /* bytes held */
	bool have_last;
	/* The key, klen bytes, source address first: IPv4 src, dst, id,
	 * proto; IPv6 src, dst, id, then (8-aligned) a struct dg6. */
	_Alignas(8) uint8_t key[];
};

/* IPv6: what the offset-0 fragment brought. */
struct dg6 {
	uint8_t *head;             /* its unfragmentable part, or NULL */
	uint32_t head_len;
	uint32_t nh_ptr;           /* where in head the 44 (fragment) is */
	uint8_t next;              /* the fragmentable part's next header */
};

/* A source with datagrams in progress; freed with its last one. Its size
 * is charged to each datagram, so the count of sources needs no bound of
 * its own. */
struct reasm_src {
	struct reasm_src *hnext;
	size_t mem;
	struct reasm_dg *oldest, *newest;
	_Alignas(8) uint8_t addr[];    /* alen bytes */
};

/* The counters an instance bumps (IPv4's Reasm*, IPv6's Ip6Reasm*). */
struct reasm_ids {
	uint16_t reqds, oks, fails, timeout, dropped, overlaps, evictions, src_evictions;
};

enum { V4_KLEN = 12, V6_KLEN = 36, V6_KPAD = 40 };

struct ip_reasm {
	reasm_limits lim;
	uint64_t k0, k1;
	uint8_t alen, klen;        /* address and key bytes: 4/12 or 16/36 */
	bool v6;
	struct reasm_ids id;
	size_t dg_size, src_size;  /* allocation of one entry of each kind */
	size_t dg_charge;          /* both, charged once per datagram */
	size_t mem_used;
	unsigned count;            /* datagrams in progress */
	unsigned mask;             /* buckets - 1; 0 until the first fragment */
	struct reasm_dg **dg_hash;
	struct reasm_src **src_hash;
	struct reasm_dg *oldest, *newest;
	uint8_t *done;             /* the last completed datagram */
};

#define RCNT(r, cnt, which) ((cnt)->v[(r)->id.which]++)

static struct dg6 *dg6_of(struct reasm_dg *d)
{
	return (struct dg6 *)(void *)(d->key + V6_KPAD);
}

static size_t frag_charge(uint32_t len)
{
	return sizeof(struct reasm_frag) + len;
}

static ip_reasm *reasm_alloc(const reasm_limits *lim, uint64_t k0, uint64_t k1, bool v6)
{
	ip_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->lim = *lim;
	r->k0 = k0;
	r->k1 = k1;
	r->v6 = v6;
	r->alen = v6 ? 16 : 4;
	r->klen = v6 ? V6_KLEN : V4_KLEN;
	r->dg_size = sizeof(struct reasm_dg) + (v6 ? V6_KPAD + sizeof(struct dg6) : V4_KLEN);
	r->src_size = sizeof(struct reasm_src) + r->alen;
	r->dg_charge = r->dg_size + r->src_size;
	if (v6)
		r->id = (struct reasm_ids){ CNT_Ip6ReasmReqds, CNT_Ip6ReasmOKs, CNT_Ip6ReasmFails,
			CNT_Ip6ReasmTimeout, CNT_Ip6FragmentsDropped, CNT_Ip6ReasmOverlaps,
			CNT_Ip6ReasmEvictions, CNT_Ip6ReasmSrcEvictions };
	else
		r->id = (struct reasm_ids){ CNT_ReasmReqds, CNT_ReasmOKs, CNT_ReasmFails,
			CNT_ReasmTimeout, CNT_FragmentsDropped, CNT_ReasmOverlaps,
			CNT_ReasmEvictions, CNT_ReasmSrcEvictions };
	return r;
}

ip_reasm *reasm_new(const reasm_limits *lim, uint64_t k0, uint64_t k1)
{
	return reasm_alloc(lim, k0, k1, false);
}

ip_reasm *reasm_new6(const reasm_limits *lim, uint64_t k0, uint64_t k1)
{
	return reasm_alloc(lim, k0, k1, true);
}

/* The tables, at the first fragment: a bucket per 128 bytes allowed, about
 * the charge of the smallest datagram (160 bytes), so that even a table
 * full of spoofed 8-byte fragments has chains shorter than one. Under such
 * a flood this is 4 M fragments/s against 0.6 M with a bucket per KiB
 * (cache misses on chain walks). 512 KiB for the default 4 MiB. */
static bool tables_init(ip_reasm *r)
{
	size_t n = 16;

	if (r->mask)
		return true;
	while (n < r->lim.high_thresh / 128 && n < 65536)
		n *= 2;
	r->dg_hash = calloc(n, sizeof(*r->dg_hash));
	r->src_hash = calloc(n, sizeof(*r->src_hash));
	if (!r->dg_hash || !r->src_hash) {
		free(r->dg_hash);
		free(r->src_hash);
		r->dg_hash = NULL;
		r->src_hash = NULL;
		return false;
	}
	r->mask = (unsigned)n - 1;
	return true;
}

static unsigned dg_bucket(const ip_reasm *r, const uint8_t *key)
{
	return (unsigned)hsk_siphash(key, r->klen, r->k0, r->k1) & r->mask;
}

static unsigned src_bucket(const ip_reasm *r, const uint8_t *addr)
{
	return (unsigned)hsk_siphash(addr, r->alen, r->k0 ^ 0x737263, r->k1) & r->mask;
}

static struct reasm_src **src_slot(ip_reasm *r, const uint8_t *addr)
{
	struct reasm_src **pp = &r->src_hash[src_bucket(r, addr)];

	while (*pp && memcmp((*pp)->addr, addr, r->alen))
		pp = &(*pp)->hnext;
	return pp;
}

static struct reasm_dg *dg_lookup(ip_reasm *r, const uint8_t *key)
{
	struct reasm_dg *d = r->dg_hash[dg_bucket(r, key)];

	while (d && memcmp(d->key, key, r->klen))
		d = d->hnext;
	return d;
}

static void charge(ip_reasm *r, struct reasm_dg *d, size_t n)
{
	r->mem_used += n;
	d->mem += n;
	d->owner->mem += n;
}

/* Unlinks d from every list, frees it and its fragments, and its source
 * when that was its last datagram. */
static void dg_destroy(ip_reasm *r, struct reasm_dg *d)
{
	struct reasm_dg **pp = &r->dg_hash[dg_bucket(r, d->key)];
	struct reasm_src *o = d->owner;

	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	*(d->older ? &d->older->newer : &r->oldest) = d->newer;
	*(d->newer ? &d->newer->older : &r->newest) = d->older;
	*(d->src_older ? &d->src_older->src_newer : &o->oldest) = d->src_newer;
	*(d->src_newer ? &d->src_newer->src_older : &o->newest) = d->src_older;
	r->mem_used -= d->mem;
	o->mem -= d->mem;
	r->count--;
	for (struct reasm_frag *f = d->frags, *next; f; f = next) {
		next = f->next;
		free(f);
	}
	if (r->v6)
		free(dg6_of(d)->head);
	free(d);
	if (!o->oldest) {
		struct reasm_src **sp = src_slot(r, o->addr);
		*sp = o->hnext;
		free(o);
	}
}

static struct reasm_dg *dg_create(ip_reasm *r, const uint8_t *key, uint64_t now)
{
	struct reasm_dg *d = calloc(1, r->dg_size);
	struct reasm_src **sp = src_slot(r, key), *o = *sp;
	unsigned b = dg_bucket(r, key);

	if (!d)
		return NULL;
	if (!o) {
		o = calloc(1, r->src_size);
		if (!o) {
			free(d);
			return NULL;
		}
		memcpy(o->addr, key, r->alen);
		*sp = o;
	}
	memcpy(d->key, key, r->klen);
	d->deadline = now + r->lim.timeout_ns;
	d->owner = o;
	d->hnext = r->dg_hash[b];
	r->dg_hash[b] = d;
	d->older = r->newest;
	*(r->newest ? &r->newest->newer : &r->oldest) = d;
	r->newest = d;
	d->src_older = o->newest;
	*(o->newest ? &o->newest->src_newer : &o->oldest) = d;
	o->newest = d;
	r->count++;
	charge(r, d, r->dg_charge);
	return d;
}

/* Makes room for `need` more bytes from source `addr` without touching
 * `keep` (the datagram the bytes are for, or NULL): first that source's
 * oldest datagrams while it is over its share, then anyone's oldest while
 * the total is over high_thresh, down to low_thresh. False when the bytes
 * still do not fit. */
static bool make_room(ip_reasm *r, const uint8_t *addr, size_t need,
		      struct reasm_dg *keep, hsk_counters *cnt)
{
	struct reasm_src *o = *src_slot(r, addr);

	while (o && o->mem + need > r->lim.src_max) {
		struct reasm_dg *d = o->oldest;
		if (d == keep)
			d = d->src_newer;
		if (!d)
			break;
		bool last = o->oldest == d && o->newest == d;
		RCNT(r, cnt, src_evictions);
		RCNT(r, cnt, fails);
		dg_destroy(r, d);
		if (last)
			o = NULL;       /* freed with its last datagram */
	}
	if (o && o->mem + need > r->lim.src_max)
		return false;
	if (!keep && need > r->lim.src_max)
		return false;
	if (r->mem_used + need > r->lim.high_thresh) {
		while (r->mem_used + need > r->lim.low_thresh) {
			struct reasm_dg *d = r->oldest;
			if (d && d == keep)     /* none left is no keep (NULL) */
				d = d->newer;
			if (!d)
				break;
			RCNT(r, cnt, evictions);
			RCNT(r, cnt, fails);
			dg_destroy(r, d);
		}
	}
	return r->mem_used + need <= r->lim.high_thresh;
}

void reasm_free(ip_reasm *r)
{
	if (!r)
		return;
	while (r->oldest)
		dg_destroy(r, r->oldest);
	free(r->dg_hash);
	free(r->src_hash);
	free(r->done);
	free(r);
}

static long frag_drop(ip_reasm *r, struct reasm_dg *d, hsk_counters *cnt)
{
	RCNT(r, cnt, dropped);
	RCNT(r, cnt, fails);
	if (d)
		dg_destroy(r, d);
	return -1;
}

/* Checks that need no datagram (RFC 791, RFC 8200 §4.5): not empty, a
 * non-last one a multiple of 8 bytes, ending at max_end at the latest. */
static bool frag_sane(uint32_t off, size_t len, bool more, uint32_t max_end)
{
	return len != 0 && off + len <= max_end && !(more && len % 8);
}

/* Where a fragment [off, end) goes in d's list: the link to set. NULL for an
 * overlap; *dup set for an exact duplicate: the same range, the same bytes
 * and the same MF (the one held is the last exactly when it ends where
 * the last fragment did; another MF contradicts the datagram's length). */
static struct reasm_frag **frag_place(struct reasm_dg *d, uint32_t off, uint32_t end,
				      bool more, const uint8_t *payload, bool *dup)
{
	struct reasm_frag **pp = &d->frags, *prev = NULL;

	*dup = false;
	while (*pp && (*pp)->off < off) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp && (*pp)->off == off && (*pp)->len == end - off &&
	    (d->have_last && end == d->total) == !more &&
	    !memcmp((*pp)->data, payload, end - off)) {
		*dup = true;
		return pp;
	}
	if ((prev && prev->off + prev->len > off) || (*pp && (*pp)->off < end))
		return NULL;
	return pp;
}

/* The end of the highest fragment held (0 for none). */
static uint32_t dg_high(const struct reasm_dg *d)
{
	const struct reasm_frag *f = d->frags;

	while (f && f->next)
		f = f->next;
	return f ? f->off + f->len : 0;
}

/* Copies the complete datagram out (after the IPv6 head, with its
 * payload length and the fragment header's next-header byte made those
 * of a whole packet) and ends it. */
static long dg_finish(ip_reasm *r, struct reasm_dg *d, const uint8_t **out,
		      hsk_counters *cnt)
{
	const struct dg6 *x = r->v6 ? dg6_of(d) : NULL;
	size_t hl = x ? x->head_len : 0;
	uint8_t *buf;

	if (x && (!x->head || hl - IPV6_HDR_LEN + d->total > 65535))
		return frag_drop(r, d, cnt);
	buf = malloc(hl + d->total);
	if (!buf)
		return frag_drop(r, d, cnt);
	if (x) {
		memcpy(buf, x->head, hl);
		wr16(buf + 4, (uint16_t)(hl - IPV6_HDR_LEN + d->total));
		buf[x->nh_ptr] = x->next;
	}
	for (const struct reasm_frag *f = d->frags; f; f = f->next)
		memcpy(buf + hl + f->off, f->data, f->len);
	long n = (long)(hl + d->total);
	dg_destroy(r, d);
	RCNT(r, cnt, oks);
	r->done = buf;
	*out = buf;
	return n;
}

/* The IPv6 head of the offset-0 fragment: false when out of memory. */
static bool dg6_head(ip_reasm *r, struct reasm_dg *d, const uint8_t *pkt,
		     const ipv6_chain *c)
{
	struct dg6 *x = dg6_of(d);

	/* (Kept, not reached: a second offset-0 fragment is an exact
	 * duplicate or an overlap, both ended in frag_input before this.) */
	if (x->head)
		return true;
	x->head = malloc(c->frag_hdr);
	if (!x->head)
		return false;
	memcpy(x->head, pkt, c->frag_hdr);
	x->head_len = c->frag_hdr;
	x->nh_ptr = c->frag_nh_ptr;
	x->next = c->frag.next;
	charge(r, d, c->frag_hdr);
	return true;
}

/* One fragment [off, off + len) of the datagram `key` (an instance's
 * common path): what reasm_input and reasm_input6 return. On success
 * *dp is the datagram the fragment went into (NULL once it completed
 * or for a duplicate). hdr: the IPv4 header an offset-0 fragment keeps
 * after its data (IPV4_HDR_LEN bytes), or NULL. */
static long frag_input(ip_reasm *r, uint64_t now, const uint8_t *key, uint32_t off,
		       bool more, uint32_t max_end, const uint8_t *payload, size_t len,
		       const uint8_t *hdr, struct reasm_dg **dp, hsk_counters *cnt)
{
	uint32_t end = off + (uint32_t)len;
	size_t keep = hdr && off == 0 ? IPV4_HDR_LEN : 0;
	struct reasm_frag **pp = NULL, *f;
	struct reasm_dg *d = NULL;
	bool dup;

	*dp = NULL;
	free(r->done);
	r->done = NULL;
	RCNT(r, cnt, reqds);
	if (!frag_sane(off, len, more, max_end) || !tables_init(r))
		return frag_drop(r, NULL, cnt);
	d = dg_lookup(r, key);
	if (d) {
		if (d->have_last && (end > d->total || (!more && end != d->total)))
			return frag_drop(r, d, cnt);
		/* A block past a newly fixed end came from a fragment beyond it. */
		if (!more && !d->have_last && dg_high(d) > end)
			return frag_drop(r, d, cnt);
		pp = frag_place(d, off, end, more, payload, &dup);
		if (dup)
			return 0;
		if (!pp) {
			RCNT(r, cnt, overlaps);
			return frag_drop(r, d, cnt);
		}
		if (d->nfrags >= REASM_MAX_FRAGS)
			return frag_drop(r, d, cnt);
	}
	if (!make_room(r, key, frag_charge(end - off + keep) + (d ? 0 : r->dg_charge), d, cnt))
		return frag_drop(r, d, cnt);
	if (!d) {
		d = dg_create(r, key, now);
		if (!d)
			return frag_drop(r, NULL, cnt);
		pp = &d->frags;
	}
	f = malloc(frag_charge(end - off + keep));
	if (!f)
		return frag_drop(r, d, cnt);
	f->off = off;
	f->len = end - off;
	memcpy(f->data, payload, f->len);
	if (keep)
		memcpy(f->data + f->len, hdr, keep);
	f->next = *pp;
	*pp = f;
	d->nfrags++;
	d->received += f->len;
	charge(r, d, frag_charge(f->len + keep));
	if (!more) {
		d->have_last = true;
		d->total = end;
	}
	*dp = d;
	return 0;
}

long reasm_input(ip_reasm *r, uint64_t now, const ipv4_hdr *h,
		 const uint8_t *payload, size_t len, const uint8_t **out,
		 hsk_counters *cnt)
{
	uint8_t key[V4_KLEN] = { 0 }, first[IPV4_HDR_LEN];
	uint32_t off = (uint32_t)(h->frag & IPV4_FRAG_MASK) * 8;
	struct reasm_dg *d;

	wr32(key, h->src);
	wr32(key + 4, h->dst);
	wr16(key + 8, h->id);
	key[10] = h->proto;
	if (off == 0) {
		ipv4_hdr q = *h;
		q.total_len = (uint16_t)(IPV4_HDR_LEN + len);
		ipv4_emit(&q, first, sizeof(first));
	}
	long n = frag_input(r, now, key, off, h->frag & IPV4_MF, 65535u - h->ihl,
			    payload, len, off == 0 ? first : NULL, &d, cnt);
	if (n < 0 || !d)
		return n;
	if (d->have_last && d->received == d->total)
		return dg_finish(r, d, out, cnt);
	return 0;
}

long reasm_input6(ip_reasm *r, uint64_t now, const uint8_t *pkt, size_t len,
		  const ipv6_chain *c, const uint8_t **out, size_t *head,
		  size_t *nh_ptr, hsk_counters *cnt)
{
	uint8_t key[V6_KLEN];
	struct reasm_dg *d;

	memcpy(key, pkt + 8, 32);
	wr32(key + 32, c->frag.id);
	long n = frag_input(r, now, key, c->frag.off, c->frag.more,
			    65535u - (c->frag_hdr - IPV6_HDR_LEN), pkt + c->off,
			    len - c->off, NULL, &d, cnt);
	if (n < 0 || !d)
		return n;
	if (c->frag.off == 0 && !dg6_head(r, d, pkt, c))
		return frag_drop(r, d, cnt);
	if (d->have_last && d->received == d->total) {
		*head = dg6_of(d)->head_len;
		*nh_ptr = dg6_of(d)->nh_ptr;
		return dg_finish(r, d, out, cnt);
	}
	return 0;
}

/* d's offset-0 fragment as it came, into out[0..cap): its IPv4 header
 * (kept after its data) or its IPv6 head and a fragment header, then as
 * much of its data as fits. 0 when it has not come or cap is too small. */
static size_t first_fragment(const ip_reasm *r, struct reasm_dg *d, uint8_t *out, size_t cap)
{
	const struct reasm_frag *f = d->frags;
	size_t hl;

	if (!f || f->off != 0)
		return 0;
	if (!r->v6) {
		hl = IPV4_HDR_LEN;
		if (cap < hl)
			return 0;
		memcpy(out, f->data + f->len, hl);
	} else {
		const struct dg6 *x = dg6_of(d);
		if (!x->head || cap < x->head_len + 8)
			return 0;
		memcpy(out, x->head, x->head_len);
		hl = x->head_len;
		out[hl] = x->next;
		out[hl + 1] = 0;
		wr16(out + hl + 2, 1);                 /* offset 0, more: M */
		memcpy(out + hl + 4, d->key + 32, 4);  /* the identification */
		hl += 8;
	}
	size_t n = f->len < cap - hl ? f->len : cap - hl;
	memcpy(out + hl, f->data, n);
	return hl + n;
}

bool reasm_expire_one(ip_reasm *r, uint64_t now, uint8_t *first, size_t cap, size_t *len,
		      hsk_counters *cnt)
{
	free(r->done);
	r->done = NULL;
	if (!r->oldest || now < r->oldest->deadline)
		return false;
	RCNT(r, cnt, timeout);
	RCNT(r, cnt, fails);
	*len = first_fragment(r, r->oldest, first, cap);
	dg_destroy(r, r->oldest);
	return true;
}

uint64_t reasm_next_deadline(const ip_reasm *r)
{
	return r->oldest ? r->oldest->deadline : UINT64_MAX;
}

void reasm_usage(const ip_reasm *r, size_t *mem, unsigned *datagrams)
{
	*mem = r->mem_used;
	*datagrams = r->count;
}
