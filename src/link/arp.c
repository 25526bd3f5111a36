/*
 * Ethernet framing and ARP (RFC 826): see arp.h for the cache's rules. The
 * cache is the neighbour table of neigh.c, keyed by the 4-byte address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/arp.h"
#include "link/neigh.h"

enum { ARP_OP_REQUEST = 1, ARP_OP_REPLY = 2 };
enum { ARP_FRAME_MAX = ARP_ETH_HDR_LEN + 65535 };

/* In an entry, `confirmed` is the last reply or request seen (REACHABLE);
 * `next_try` the next retry (INCOMPLETE) or refresh (REACHABLE). */
struct arp_cache {
	uint8_t mac[ARP_MAC_LEN];
	uint32_t addr;
	arp_stats st;          /* pending_drops and evictions: in nt */
	uint8_t *frame;        /* scratch for one outgoing frame */
	neigh_table nt;
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
	a->frame = malloc(ARP_FRAME_MAX);
	if (!a->frame || neigh_init(&a->nt, max_entries, max_pending, sizeof(addr)) < 0) {
		arp_free(a);
		return NULL;
	}
	return a;
}

void arp_free(arp_cache *a)
{
	if (!a)
		return;
	neigh_fini(&a->nt);
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

static struct neigh_entry *find(const arp_cache *a, uint32_t addr)
{
	return neigh_find(&a->nt, &addr);
}

static uint32_t entry_addr(const struct neigh_entry *e)
{
	uint32_t addr;

	memcpy(&addr, e->addr, sizeof(addr));
	return addr;
}

static void confirm(arp_cache *a, struct neigh_entry *e, uint64_t now,
		    const uint8_t *mac, arp_out_fn out, void *ctx)
{
	struct neigh_pkt *p;

	memcpy(e->mac, mac, ARP_MAC_LEN);
	e->state = NEIGH_REACHABLE;
	e->confirmed = now;
	e->next_try = 0;
	e->tries = 0;
	while ((p = neigh_pop(e))) {
		send_ip(a, e->mac, p->data, p->len, out, ctx);
		free(p);
	}
}

static void arp_input(arp_cache *a, uint64_t now, const uint8_t *p, size_t len,
		      arp_out_fn out, void *ctx)
{
	uint32_t spa, tpa;
	uint16_t op;
	struct neigh_entry *e;

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
		e = neigh_alloc(&a->nt, &spa);
		if (e)
			confirm(a, e, now, p + 8, out, ctx);
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

/* nh's entry when it is resolved and fresh (asking again in its last
 * quarter of life, once a second); NULL otherwise. */
static struct neigh_entry *resolved(arp_cache *a, uint64_t now, uint32_t nh,
				    arp_out_fn out, void *ctx)
{
	struct neigh_entry *e = find(a, nh);

	if (!e || e->state != NEIGH_REACHABLE || now >= e->confirmed + ARP_REACHABLE_NS)
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
	struct neigh_entry *e = resolved(a, now, nh, out, ctx);

	if (!e)
		return false;
	memcpy(mac, e->mac, ARP_MAC_LEN);
	return true;
}

void arp_glean(arp_cache *a, uint64_t now, uint32_t addr, const uint8_t mac[ARP_MAC_LEN],
	       arp_out_fn out, void *ctx)
{
	struct neigh_entry *e;

	if (!addr || addr == a->addr || (mac[0] & 1))
		return;
	e = find(a, addr);
	if (e && e->state == NEIGH_REACHABLE && !memcmp(e->mac, mac, ARP_MAC_LEN) &&
	    now < e->confirmed + ARP_REACHABLE_NS / 2)
		return;   /* nothing new: keep the per-packet cost a compare */
	if (!e && !(e = neigh_alloc(&a->nt, &addr)))
		return;
	confirm(a, e, now, mac, out, ctx);
}

int arp_output(arp_cache *a, uint64_t now, uint32_t nh, const uint8_t *pkt,
	       size_t len, arp_out_fn out, void *ctx)
{
	struct neigh_entry *e;

	if (len > ARP_FRAME_MAX - ARP_ETH_HDR_LEN)
		return -EMSGSIZE;
	if ((e = resolved(a, now, nh, out, ctx))) {
		send_ip(a, e->mac, pkt, len, out, ctx);
		return 0;
	}
	e = find(a, nh);
	if (e && e->state == NEIGH_REACHABLE) {
		e->state = NEIGH_INCOMPLETE;   /* expired: resolve again */
		e->tries = 0;
		e->next_try = now;
	}
	if (!e) {
		e = neigh_alloc(&a->nt, &nh);
		if (!e) {
			a->nt.pending_drops++;
			return -ENOBUFS;
		}
		e->state = NEIGH_INCOMPLETE;
		e->next_try = now;
	}
	if (e->tries == 0) {
		send_request(a, nh, out, ctx);
		e->tries = 1;
		e->next_try = now + ARP_RETRY_NS;
	}
	return neigh_enqueue(&a->nt, e, pkt, len);
}

void arp_advance(arp_cache *a, uint64_t now, arp_out_fn out, void *ctx)
{
	for (unsigned i = 0; i < a->nt.max_entries; i++) {
		struct neigh_entry *e = &a->nt.e[i];

		if (e->state == NEIGH_INCOMPLETE && now >= e->next_try) {
			if (e->tries >= ARP_RETRIES) {
				a->st.failed++;
				neigh_clear(&a->nt, e);
				continue;
			}
			send_request(a, entry_addr(e), out, ctx);
			e->tries++;
			e->next_try = now + ARP_RETRY_NS;
		} else if (e->state == NEIGH_REACHABLE && now >= e->confirmed + ARP_REACHABLE_NS) {
			neigh_clear(&a->nt, e);
		}
	}
}

uint64_t arp_next_deadline(const arp_cache *a)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < a->nt.max_entries; i++) {
		const struct neigh_entry *e = &a->nt.e[i];
		uint64_t x = UINT64_MAX;

		if (e->state == NEIGH_INCOMPLETE)
			x = e->next_try;
		else if (e->state == NEIGH_REACHABLE)
			x = e->confirmed + ARP_REACHABLE_NS;
		if (x < t)
			t = x;
	}
	return t;
}

bool arp_lookup(const arp_cache *a, uint32_t addr, uint8_t mac[ARP_MAC_LEN])
{
	const struct neigh_entry *e = find(a, addr);

	if (!e || e->state != NEIGH_REACHABLE)
		return false;
	memcpy(mac, e->mac, ARP_MAC_LEN);
	return true;
}

size_t arp_entries(const arp_cache *a)
{
	return neigh_count(&a->nt);
}

void arp_get_stats(const arp_cache *a, arp_stats *st)
{
	*st = a->st;
	st->pending_drops = a->nt.pending_drops;
	st->evictions = a->nt.evictions;
}
