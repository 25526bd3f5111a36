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
 *     range, same bytes) is ignored (RFC 8200 §4.5 allows it);
 *   - data past the end a last fragment fixed, or two different ends;
 *     a last fragment (MF clear) may come first.
 * Every abandoned datagram counts once in ReasmFails.
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
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool have_last;
	unsigned nfrags;
	uint32_t total;            /* payload length once MF=0 arrived */
	uint32_t received;         /* bytes held */
	size_t mem;                /* charged: this entry and its fragments */
	uint64_t deadline;
	struct reasm_frag *frags;
};

/* A source with datagrams in progress; freed with its last one. Its size
 * is charged to each datagram, so the count of sources needs no bound of
 * its own. */
struct reasm_src {
	struct reasm_src *hnext;
	uint32_t addr;
	size_t mem;
	struct reasm_dg *oldest, *newest;
};

enum { DG_CHARGE = sizeof(struct reasm_dg) + sizeof(struct reasm_src) };

struct ip_reasm {
	reasm_limits lim;
	uint64_t k0, k1;
	size_t mem_used;
	unsigned count;            /* datagrams in progress */
	unsigned mask;             /* buckets - 1; 0 until the first fragment */
	struct reasm_dg **dg_hash;
	struct reasm_src **src_hash;
	struct reasm_dg *oldest, *newest;
	uint8_t *done;             /* the last completed datagram */
};

static size_t frag_charge(uint32_t len)
{
	return sizeof(struct reasm_frag) + len;
}

ip_reasm *reasm_new(const reasm_limits *lim, uint64_t k0, uint64_t k1)
{
	ip_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->lim = *lim;
	r->k0 = k0;
	r->k1 = k1;
	return r;
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

static unsigned dg_bucket(const ip_reasm *r, uint32_t src, uint32_t dst,
			  uint16_t id, uint8_t proto)
{
	uint32_t k[3] = { src, dst, (uint32_t)id << 8 | proto };

	return (unsigned)hsk_siphash(k, sizeof(k), r->k0, r->k1) & r->mask;
}

static unsigned src_bucket(const ip_reasm *r, uint32_t src)
{
	return (unsigned)hsk_siphash(&src, sizeof(src), r->k0 ^ 0x737263, r->k1) & r->mask;
}

static struct reasm_src **src_slot(ip_reasm *r, uint32_t addr)
{
	struct reasm_src **pp = &r->src_hash[src_bucket(r, addr)];

	while (*pp && (*pp)->addr != addr)
		pp = &(*pp)->hnext;
	return pp;
}

static struct reasm_dg *dg_lookup(ip_reasm *r, const ipv4_hdr *h)
{
	struct reasm_dg *d = r->dg_hash[dg_bucket(r, h->src, h->dst, h->id, h->proto)];

	while (d && !(d->id == h->id && d->src == h->src && d->dst == h->dst &&
		      d->proto == h->proto))
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
	struct reasm_dg **pp = &r->dg_hash[dg_bucket(r, d->src, d->dst, d->id, d->proto)];
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
	free(d);
	if (!o->oldest) {
		struct reasm_src **sp = src_slot(r, o->addr);
		*sp = o->hnext;
		free(o);
	}
}

static struct reasm_dg *dg_create(ip_reasm *r, const ipv4_hdr *h, uint64_t now)
{
	struct reasm_dg *d = calloc(1, sizeof(*d));
	struct reasm_src **sp = src_slot(r, h->src), *o = *sp;
	unsigned b = dg_bucket(r, h->src, h->dst, h->id, h->proto);

	if (!d)
		return NULL;
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			free(d);
			return NULL;
		}
		o->addr = h->src;
		*sp = o;
	}
	d->src = h->src;
	d->dst = h->dst;
	d->id = h->id;
	d->proto = h->proto;
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
	charge(r, d, DG_CHARGE);
	return d;
}

/* Makes room for `need` more bytes from source `addr` without touching
 * `keep` (the datagram the bytes are for, or NULL): first that source's
 * oldest datagrams while it is over its share, then anyone's oldest while
 * the total is over high_thresh, down to low_thresh. False when the bytes
 * still do not fit. */
static bool make_room(ip_reasm *r, uint32_t addr, size_t need,
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
		cnt->v[CNT_ReasmSrcEvictions]++;
		cnt->v[CNT_ReasmFails]++;
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
			if (d == keep)
				d = d->newer;
			if (!d)
				break;
			cnt->v[CNT_ReasmEvictions]++;
			cnt->v[CNT_ReasmFails]++;
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
	cnt->v[CNT_FragmentsDropped]++;
	cnt->v[CNT_ReasmFails]++;
	if (d)
		dg_destroy(r, d);
	return -1;
}

/* Checks that need no datagram (RFC 791). */
static bool frag_sane(const ipv4_hdr *h, uint32_t off, size_t len, bool more)
{
	return len != 0 && off + len <= 65535u - h->ihl && !(more && len % 8);
}

/* Where a fragment [off, end) goes in d's list: the link to set. NULL for an
 * overlap; *dup set for an exact duplicate. */
static struct reasm_frag **frag_place(struct reasm_dg *d, uint32_t off, uint32_t end,
				      const uint8_t *payload, bool *dup)
{
	struct reasm_frag **pp = &d->frags, *prev = NULL;

	*dup = false;
	while (*pp && (*pp)->off < off) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp && (*pp)->off == off && (*pp)->len == end - off &&
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

/* Copies the complete datagram out and ends it. */
static long dg_finish(ip_reasm *r, struct reasm_dg *d, const uint8_t **out,
		      hsk_counters *cnt)
{
	uint8_t *buf = malloc(d->total);
	long n = (long)d->total;

	if (!buf)
		return frag_drop(r, d, cnt);
	for (const struct reasm_frag *f = d->frags; f; f = f->next)
		memcpy(buf + f->off, f->data, f->len);
	dg_destroy(r, d);
	cnt->v[CNT_ReasmOKs]++;
	r->done = buf;
	*out = buf;
	return n;
}

long reasm_input(ip_reasm *r, uint64_t now, const ipv4_hdr *h,
		 const uint8_t *payload, size_t len, const uint8_t **out,
		 hsk_counters *cnt)
{
	uint32_t off = (uint32_t)(h->frag & IPV4_FRAG_MASK) * 8;
	bool more = h->frag & IPV4_MF;
	uint32_t end = off + (uint32_t)len;
	struct reasm_frag **pp = NULL, *f;
	struct reasm_dg *d = NULL;
	bool dup;

	free(r->done);
	r->done = NULL;
	cnt->v[CNT_ReasmReqds]++;
	if (!frag_sane(h, off, len, more) || !tables_init(r))
		return frag_drop(r, NULL, cnt);
	d = dg_lookup(r, h);
	if (d) {
		if (d->have_last && (end > d->total || (!more && end != d->total)))
			return frag_drop(r, d, cnt);
		/* A block past a newly fixed end came from a fragment beyond it. */
		if (!more && !d->have_last && dg_high(d) > end)
			return frag_drop(r, d, cnt);
		pp = frag_place(d, off, end, payload, &dup);
		if (dup)
			return 0;
		if (!pp) {
			cnt->v[CNT_ReasmOverlaps]++;
			return frag_drop(r, d, cnt);
		}
		if (d->nfrags >= REASM_MAX_FRAGS)
			return frag_drop(r, d, cnt);
	}
	if (!make_room(r, h->src, frag_charge(end - off) + (d ? 0 : DG_CHARGE), d, cnt))
		return frag_drop(r, d, cnt);
	if (!d) {
		d = dg_create(r, h, now);
		if (!d)
			return frag_drop(r, NULL, cnt);
		pp = &d->frags;
	}
	f = malloc(frag_charge(end - off));
	if (!f)
		return frag_drop(r, d, cnt);
	f->off = off;
	f->len = end - off;
	memcpy(f->data, payload, f->len);
	f->next = *pp;
	*pp = f;
	d->nfrags++;
	d->received += f->len;
	charge(r, d, frag_charge(f->len));
	if (!more) {
		d->have_last = true;
		d->total = end;
	}
	if (d->have_last && d->received == d->total)
		return dg_finish(r, d, out, cnt);
	return 0;
}

void reasm_expire(ip_reasm *r, uint64_t now, hsk_counters *cnt)
{
	free(r->done);
	r->done = NULL;
	while (r->oldest && now >= r->oldest->deadline) {
		cnt->v[CNT_ReasmTimeout]++;
		cnt->v[CNT_ReasmFails]++;
		dg_destroy(r, r->oldest);
	}
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
