/*
 * Ethernet framing and ARP (RFC 826): see arp.h for the cache's rules.
 * The cache is a small array searched linearly: a TAP link has a handful of
 * neighbours, and max_entries bounds the work per lookup.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/arp.h"

enum { ST_FREE = 0, ST_INCOMPLETE, ST_REACHABLE };
enum { ARP_OP_REQUEST = 1, ARP_OP_REPLY = 2 };
enum { ARP_FRAME_MAX = ARP_ETH_HDR_LEN + 65535 };

struct arp_pkt {
	struct arp_pkt *next;
	size_t len;
	uint8_t data[];        /* the IPv4 packet */
};

struct arp_entry {
	uint32_t addr;
	uint8_t mac[ARP_MAC_LEN];
	uint8_t state;
	uint8_t tries;
	uint64_t confirmed;    /* REACHABLE: last reply or request seen */
	uint64_t next_try;     /* INCOMPLETE: next retry; REACHABLE: next refresh */
	struct arp_pkt *q_head, *q_tail;
	unsigned q_n;
};

struct arp_cache {
	uint8_t mac[ARP_MAC_LEN];
	uint32_t addr;
	unsigned max_entries, max_pending;
	arp_stats st;
	uint8_t *frame;        /* scratch for one outgoing frame */
	struct arp_entry *e;
};

static const uint8_t bcast[ARP_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

arp_cache *arp_new(const uint8_t mac[ARP_MAC_LEN], uint32_t addr,
		   unsigned max_entries, unsigned max_pending)
{
	arp_cache *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	memcpy(a->mac, mac, ARP_MAC_LEN);
	a->addr = addr;
	a->max_entries = max_entries ? max_entries : 1;
	a->max_pending = max_pending;
	a->frame = malloc(ARP_FRAME_MAX);
	a->e = calloc(a->max_entries, sizeof(*a->e));
	if (!a->frame || !a->e) {
		arp_free(a);
		return NULL;
	}
	return a;
}

static void entry_drop_queue(arp_cache *a, struct arp_entry *e)
{
	struct arp_pkt *p;

	while ((p = e->q_head)) {
		e->q_head = p->next;
		a->st.pending_drops++;
		free(p);
	}
	e->q_tail = NULL;
	e->q_n = 0;
}

void arp_free(arp_cache *a)
{
	if (!a)
		return;
	for (unsigned i = 0; a->e && i < a->max_entries; i++)
		entry_drop_queue(a, &a->e[i]);
	free(a->e);
	free(a->frame);
	free(a);
}

static void eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, ARP_MAC_LEN);
	memcpy(f + 6, src, ARP_MAC_LEN);
	put16(f + 12, type);
}

static void arp_send(arp_cache *a, uint16_t op, const uint8_t *dst_mac,
		     const uint8_t *tha, uint32_t tpa, arp_out_fn out, void *ctx)
{
	uint8_t f[ARP_ETH_HDR_LEN + ARP_PKT_LEN];
	uint8_t *p = f + ARP_ETH_HDR_LEN;

	eth_header(f, dst_mac, a->mac, ARP_ETHERTYPE_ARP);
	put16(p, 1);                     /* Ethernet */
	put16(p + 2, ARP_ETHERTYPE_IPV4);
	p[4] = ARP_MAC_LEN;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, a->mac, ARP_MAC_LEN);
	put32(p + 14, a->addr);
	memcpy(p + 18, tha, ARP_MAC_LEN);
	put32(p + 24, tpa);
	if (op == ARP_OP_REQUEST)
		a->st.requests_sent++;
	else
		a->st.replies_sent++;
	out(ctx, f, sizeof(f));
}

static void send_request(arp_cache *a, uint32_t tpa, arp_out_fn out, void *ctx)
{
	static const uint8_t zero[ARP_MAC_LEN];

	arp_send(a, ARP_OP_REQUEST, bcast, zero, tpa, out, ctx);
}

static void send_ip(arp_cache *a, const uint8_t *mac, const uint8_t *pkt, size_t len,
		    arp_out_fn out, void *ctx)
{
	eth_header(a->frame, mac, a->mac, ARP_ETHERTYPE_IPV4);
	memcpy(a->frame + ARP_ETH_HDR_LEN, pkt, len);
	out(ctx, a->frame, ARP_ETH_HDR_LEN + len);
}

static struct arp_entry *find(const arp_cache *a, uint32_t addr)
{
	for (unsigned i = 0; i < a->max_entries; i++)
		if (a->e[i].state != ST_FREE && a->e[i].addr == addr)
			return &a->e[i];
	return NULL;
}

/* A free slot, or the least recently confirmed REACHABLE one. */
static struct arp_entry *alloc_entry(arp_cache *a)
{
	struct arp_entry *victim = NULL;

	for (unsigned i = 0; i < a->max_entries; i++) {
		struct arp_entry *e = &a->e[i];
		if (e->state == ST_FREE)
			return e;
		if (e->state == ST_REACHABLE && (!victim || e->confirmed < victim->confirmed))
			victim = e;
	}
	if (victim) {
		a->st.evictions++;
		memset(victim, 0, sizeof(*victim));
	}
	return victim;
}

static void confirm(arp_cache *a, struct arp_entry *e, uint64_t now,
		    const uint8_t *mac, arp_out_fn out, void *ctx)
{
	struct arp_pkt *p;

	memcpy(e->mac, mac, ARP_MAC_LEN);
	e->state = ST_REACHABLE;
	e->confirmed = now;
	e->next_try = 0;
	e->tries = 0;
	while ((p = e->q_head)) {
		e->q_head = p->next;
		send_ip(a, e->mac, p->data, p->len, out, ctx);
		free(p);
	}
	e->q_tail = NULL;
	e->q_n = 0;
}

static void arp_input(arp_cache *a, uint64_t now, const uint8_t *p, size_t len,
		      arp_out_fn out, void *ctx)
{
	uint32_t spa, tpa;
	uint16_t op;
	struct arp_entry *e;

	if (len < ARP_PKT_LEN || get16(p) != 1 || get16(p + 2) != ARP_ETHERTYPE_IPV4 ||
	    p[4] != ARP_MAC_LEN || p[5] != 4) {
		a->st.bad++;
		return;
	}
	op = get16(p + 6);
	spa = get32(p + 14);
	tpa = get32(p + 24);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
		a->st.bad++;
		return;
	}
	/* A sender claiming a broadcast/multicast MAC is not believed. */
	if (p[8] & 1) {
		a->st.bad++;
		return;
	}
	if (op == ARP_OP_REQUEST)
		a->st.requests_rcvd++;
	else
		a->st.replies_rcvd++;
	/* RFC 826 "merge": update what we know about the sender ... */
	e = spa ? find(a, spa) : NULL;
	if (e)
		confirm(a, e, now, p + 8, out, ctx);
	if (tpa != a->addr) {
		a->st.not_for_us++;
		return;
	}
	/* ... and learn it when the message was for us (it will talk to us). */
	if (!e && spa && spa != a->addr) {
		e = alloc_entry(a);
		if (e) {
			e->addr = spa;
			confirm(a, e, now, p + 8, out, ctx);
		}
	}
	if (op == ARP_OP_REQUEST)
		arp_send(a, ARP_OP_REPLY, p + 8, p + 8, spa, out, ctx);
}

long arp_eth_input(arp_cache *a, uint64_t now, const uint8_t *frame, size_t len,
		   const uint8_t **ip, arp_out_fn out, void *ctx)
{
	uint16_t type;

	if (len < ARP_ETH_HDR_LEN) {
		a->st.bad++;
		return 0;
	}
	if (memcmp(frame, a->mac, ARP_MAC_LEN) && memcmp(frame, bcast, ARP_MAC_LEN)) {
		a->st.not_for_us++;
		return 0;
	}
	type = get16(frame + 12);
	if (type == ARP_ETHERTYPE_ARP) {
		arp_input(a, now, frame + ARP_ETH_HDR_LEN, len - ARP_ETH_HDR_LEN, out, ctx);
		return 0;
	}
	if (type != ARP_ETHERTYPE_IPV4 || len == ARP_ETH_HDR_LEN) {
		a->st.not_for_us++;
		return 0;
	}
	*ip = frame + ARP_ETH_HDR_LEN;
	return (long)(len - ARP_ETH_HDR_LEN);
}

static int enqueue(arp_cache *a, struct arp_entry *e, const uint8_t *pkt, size_t len)
{
	struct arp_pkt *p;

	if (e->q_n >= a->max_pending || !(p = malloc(sizeof(*p) + len))) {
		a->st.pending_drops++;
		return -ENOBUFS;
	}
	p->next = NULL;
	p->len = len;
	memcpy(p->data, pkt, len);
	if (e->q_tail)
		e->q_tail->next = p;
	else
		e->q_head = p;
	e->q_tail = p;
	e->q_n++;
	return 0;
}

/* nh's entry when it is resolved and fresh (asking again in its last
 * quarter of life, once a second); NULL otherwise. */
static struct arp_entry *resolved(arp_cache *a, uint64_t now, uint32_t nh,
				  arp_out_fn out, void *ctx)
{
	struct arp_entry *e = find(a, nh);

	if (!e || e->state != ST_REACHABLE || now >= e->confirmed + ARP_REACHABLE_NS)
		return NULL;
	if (now >= e->confirmed + ARP_REACHABLE_NS / 4 * 3 && now >= e->next_try) {
		send_request(a, nh, out, ctx);
		e->next_try = now + ARP_RETRY_NS;
	}
	return e;
}

bool arp_resolve(arp_cache *a, uint64_t now, uint32_t nh, uint8_t mac[ARP_MAC_LEN],
		 arp_out_fn out, void *ctx)
{
	struct arp_entry *e = resolved(a, now, nh, out, ctx);

	if (!e)
		return false;
	memcpy(mac, e->mac, ARP_MAC_LEN);
	return true;
}

void arp_glean(arp_cache *a, uint64_t now, uint32_t addr, const uint8_t mac[ARP_MAC_LEN],
	       arp_out_fn out, void *ctx)
{
	struct arp_entry *e;

	if (!addr || addr == a->addr || (mac[0] & 1))
		return;
	e = find(a, addr);
	if (e && e->state == ST_REACHABLE && !memcmp(e->mac, mac, ARP_MAC_LEN) &&
	    now < e->confirmed + ARP_REACHABLE_NS / 2)
		return;   /* nothing new: keep the per-packet cost a compare */
	if (!e && !(e = alloc_entry(a)))
		return;
	e->addr = addr;
	confirm(a, e, now, mac, out, ctx);
}

int arp_output(arp_cache *a, uint64_t now, uint32_t nh, const uint8_t *pkt,
	       size_t len, arp_out_fn out, void *ctx)
{
	struct arp_entry *e;

	if (len > ARP_FRAME_MAX - ARP_ETH_HDR_LEN)
		return -EMSGSIZE;
	if ((e = resolved(a, now, nh, out, ctx))) {
		send_ip(a, e->mac, pkt, len, out, ctx);
		return 0;
	}
	e = find(a, nh);
	if (e && e->state == ST_REACHABLE) {
		e->state = ST_INCOMPLETE;   /* expired: resolve again */
		e->tries = 0;
		e->next_try = now;
	}
	if (!e) {
		e = alloc_entry(a);
		if (!e) {
			a->st.pending_drops++;
			return -ENOBUFS;
		}
		e->addr = nh;
		e->state = ST_INCOMPLETE;
		e->next_try = now;
	}
	if (e->tries == 0) {
		send_request(a, nh, out, ctx);
		e->tries = 1;
		e->next_try = now + ARP_RETRY_NS;
	}
	return enqueue(a, e, pkt, len);
}

void arp_advance(arp_cache *a, uint64_t now, arp_out_fn out, void *ctx)
{
	for (unsigned i = 0; i < a->max_entries; i++) {
		struct arp_entry *e = &a->e[i];

		if (e->state == ST_INCOMPLETE && now >= e->next_try) {
			if (e->tries >= ARP_RETRIES) {
				a->st.failed++;
				entry_drop_queue(a, e);
				memset(e, 0, sizeof(*e));
				continue;
			}
			send_request(a, e->addr, out, ctx);
			e->tries++;
			e->next_try = now + ARP_RETRY_NS;
		} else if (e->state == ST_REACHABLE && now >= e->confirmed + ARP_REACHABLE_NS) {
			memset(e, 0, sizeof(*e));
		}
	}
}

uint64_t arp_next_deadline(const arp_cache *a)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < a->max_entries; i++) {
		const struct arp_entry *e = &a->e[i];
		uint64_t x = UINT64_MAX;

		if (e->state == ST_INCOMPLETE)
			x = e->next_try;
		else if (e->state == ST_REACHABLE)
			x = e->confirmed + ARP_REACHABLE_NS;
		if (x < t)
			t = x;
	}
	return t;
}

bool arp_lookup(const arp_cache *a, uint32_t addr, uint8_t mac[ARP_MAC_LEN])
{
	const struct arp_entry *e = find(a, addr);

	if (!e || e->state != ST_REACHABLE)
		return false;
	memcpy(mac, e->mac, ARP_MAC_LEN);
	return true;
}

size_t arp_entries(const arp_cache *a)
{
	size_t n = 0;

	for (unsigned i = 0; i < a->max_entries; i++)
		n += a->e[i].state != ST_FREE;
	return n;
}

void arp_get_stats(const arp_cache *a, arp_stats *st)
{
	*st = a->st;
}
