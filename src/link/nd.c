/*
 * Neighbor Discovery and DAD: see nd.h for the rules. The cache is the
 * neighbour table ARP uses too (neigh.c), keyed by 128-bit addresses; the
 * messages are parsed and built by src/wire/nd.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/nd.h"
#include "link/neigh.h"
#include "wire/ipv6.h"

enum { ETH_HDR = 14, ND_FRAME_MAX = ETH_HDR + IPV6_HDR_LEN + 65535 };

struct nd_addr {
	uint8_t a[16];
	uint8_t prefix;
	int8_t state;          /* enum nd_addr_state */
	uint8_t nonce[6];
	uint64_t dad_end;
};

struct nd_cache {
	uint8_t mac[6];
	nd_stats st;           /* pending_drops and evictions: in nt */
	uint8_t *frame;        /* scratch for one outgoing frame */
	neigh_table nt;
	struct nd_addr *addrs;
	unsigned naddrs, addr_cap;
	bool router_cfg, router_set;
	uint8_t router[16];
	uint64_t router_until;
	uint64_t nonce_state;
	bool heard;            /* an advertisement for nd_take_advert */
	uint8_t heard_addr[16], heard_mac[6];
};

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t unspec[16];

nd_cache *nd_new(const uint8_t mac[6], unsigned max_entries, unsigned max_pending)
{
	nd_cache *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->mac, mac, 6);
	n->frame = malloc(ND_FRAME_MAX);
	if (!n->frame || neigh_init(&n->nt, max_entries, max_pending, 16) < 0) {
		nd_free(n);
		return NULL;
	}
	for (int i = 0; i < 6; i++)
		n->nonce_state = n->nonce_state << 8 | mac[i];
	return n;
}

void nd_free(nd_cache *n)
{
	if (!n)
		return;
	neigh_fini(&n->nt);
	free(n->addrs);
	free(n->frame);
	free(n);
}

/* ---- our addresses ---- */

static struct nd_addr *find_addr(const nd_cache *n, const uint8_t a[16])
{
	for (unsigned i = 0; i < n->naddrs; i++)
		if (!memcmp(n->addrs[i].a, a, 16))
			return &n->addrs[i];
	return NULL;
}

enum nd_addr_state nd_addr_state(const nd_cache *n, const uint8_t a[16])
{
	const struct nd_addr *x = find_addr(n, a);

	return x ? (enum nd_addr_state)x->state : ND_ADDR_NONE;
}

/* A preferred address of ours to send an NS about `target` from: one in
 * the target's prefix (link-local for a link-local target), else any. */
static const uint8_t *pick_src(const nd_cache *n, const uint8_t target[16])
{
	const uint8_t *any = NULL;

	for (unsigned i = 0; i < n->naddrs; i++) {
		const struct nd_addr *x = &n->addrs[i];
		if (x->state != ND_ADDR_PREFERRED)
			continue;
		if (ip6_is_linklocal(target) ? ip6_is_linklocal(x->a)
					     : ip6_prefix_eq(x->a, target, x->prefix))
			return x->a;
		if (!any || ip6_is_linklocal(x->a))
			any = x->a;
	}
	return any;
}

/* Destinations on the link: link-local, or in one of our prefixes. */
static bool on_link(const nd_cache *n, const uint8_t dst[16])
{
	if (ip6_is_linklocal(dst))
		return true;
	for (unsigned i = 0; i < n->naddrs; i++)
		if (n->addrs[i].prefix && ip6_prefix_eq(n->addrs[i].a, dst, n->addrs[i].prefix))
			return true;
	return false;
}

/* Frames we take: our MAC, all-nodes, our solicited-node groups. */
static bool mac_accept(const nd_cache *n, const uint8_t *m)
{
	static const uint8_t an[6] = { 0x33, 0x33, 0, 0, 0, 1 };

	if (!memcmp(m, n->mac, 6) || !memcmp(m, an, 6))
		return true;
	if (m[0] != 0x33 || m[1] != 0x33 || m[2] != 0xff)
		return false;
	for (unsigned i = 0; i < n->naddrs; i++)
		if (!memcmp(n->addrs[i].a + 13, m + 3, 3))
			return true;
	return false;
}

static bool in_group(const nd_cache *n, const uint8_t g[16])
{
	if (ip6_is_all_nodes(g))
		return true;
	if (!ip6_is_solicited_node(g))
		return false;
	for (unsigned i = 0; i < n->naddrs; i++)
		if (!memcmp(n->addrs[i].a + 13, g + 13, 3))
			return true;
	return false;
}

/* ---- sending ---- */

static void eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ND_ETHERTYPE_IPV6 >> 8;
	f[13] = ND_ETHERTYPE_IPV6 & 0xff;
}

/* An ND message m from src to dst, at MAC dmac (hop limit 255). */
static void nd_send(nd_cache *n, const nd_msg *m, const uint8_t src[16],
		    const uint8_t dst[16], const uint8_t dmac[6], nd_out_fn out, void *ctx)
{
	uint8_t f[ETH_HDR + IPV6_HDR_LEN + 64];
	ipv6_hdr h = { .next = IP_PROTO_ICMPV6, .hop_limit = 255 };
	int k = nd_emit(m, src, dst, f + ETH_HDR + IPV6_HDR_LEN, 64);

	if (k < 0)
		return;
	h.payload_len = (uint16_t)k;
	memcpy(h.src, src, 16);
	memcpy(h.dst, dst, 16);
	eth_header(f, dmac, n->mac);
	ipv6_emit(&h, f + ETH_HDR, IPV6_HDR_LEN);
	if (m->type == ND_NEIGHBOR_SOLICIT)
		n->st.ns_sent++;
	else
		n->st.na_sent++;
	out(ctx, f, ETH_HDR + IPV6_HDR_LEN + (size_t)k);
}

/* An NS for target: to its solicited-node group (mac NULL) or unicast to
 * mac. False when we have no address to send it from. */
static bool send_ns(nd_cache *n, const uint8_t target[16], const uint8_t *mac,
		    nd_out_fn out, void *ctx)
{
	nd_msg m = { .type = ND_NEIGHBOR_SOLICIT, .has_sll = true };
	const uint8_t *src = pick_src(n, target);
	uint8_t dst[16], dmac[6];

	if (!src)
		return false;
	memcpy(m.target, target, 16);
	memcpy(m.sll, n->mac, 6);
	if (mac) {
		memcpy(dst, target, 16);
		memcpy(dmac, mac, 6);
	} else {
		ip6_solicited_node(target, dst);
		ip6_mcast_mac(dst, dmac);
	}
	nd_send(n, &m, src, dst, dmac, out, ctx);
	return true;
}

static void send_ip(nd_cache *n, const uint8_t *mac, const uint8_t *pkt, size_t len,
		    nd_out_fn out, void *ctx)
{
	eth_header(n->frame, mac, n->mac);
	memcpy(n->frame + ETH_HDR, pkt, len);
	out(ctx, n->frame, ETH_HDR + len);
}

/* ---- the cache ---- */

static struct neigh_entry *find(const nd_cache *n, const uint8_t a[16])
{
	return neigh_find(&n->nt, a);
}

static void flush_queue(nd_cache *n, struct neigh_entry *e, nd_out_fn out, void *ctx)
{
	struct neigh_pkt *p;

	while ((p = neigh_pop(e))) {
		send_ip(n, e->mac, p->data, p->len, out, ctx);
		free(p);
	}
}

/* e's MAC is known now, in `state`: what waited for it goes out. */
static void resolved(nd_cache *n, struct neigh_entry *e, uint64_t now, const uint8_t mac[6],
		     uint8_t state, nd_out_fn out, void *ctx)
{
	memcpy(e->mac, mac, 6);
	e->state = state;
	e->confirmed = now;
	e->tries = 0;
	flush_queue(n, e, out, ctx);
}

/* What an NS or RA from `a` tells (§7.2.3, §6.3.4): its MAC, unconfirmed. */
static void learn(nd_cache *n, uint64_t now, const uint8_t a[16], const uint8_t mac[6],
		  nd_out_fn out, void *ctx)
{
	struct neigh_entry *e = find(n, a);

	if (mac[0] & 1)
		return;                /* a group's MAC is nobody's */
	if (!e) {
		e = neigh_alloc(&n->nt, a);
		if (!e)
			return;
	} else if (e->state != NEIGH_INCOMPLETE && !memcmp(e->mac, mac, 6)) {
		return;
	}
	resolved(n, e, now, mac, NEIGH_STALE, out, ctx);
}

/* ---- receiving ---- */

static void dad_failed(nd_cache *n, struct nd_addr *a)
{
	a->state = ND_ADDR_DUPLICATE;
	n->st.dad_failed++;
}

static void handle_ns(nd_cache *n, uint64_t now, const ipv6_hdr *h, const nd_msg *m,
		      const uint8_t *smac, nd_out_fn out, void *ctx)
{
	struct nd_addr *a = find_addr(n, m->target);
	bool dad = ip6_is_unspecified(h->src);
	nd_msg na = { .type = ND_NEIGHBOR_ADVERT, .has_tll = true };
	uint8_t dmac[6];

	if (!a) {
		n->st.not_for_us++;
		return;
	}
	if (a->state == ND_ADDR_TENTATIVE) {
		/* RFC 4862 §5.4.3: another node's probe for it means it is
		 * taken (our own, looped back, carries our nonce); an NS from
		 * a unicast source is ignored. */
		if (dad && !(m->has_nonce && !memcmp(m->nonce, a->nonce, 6)))
			dad_failed(n, a);
		return;
	}
	if (a->state == ND_ADDR_DUPLICATE)
		return;
	if (!dad && m->has_sll)
		learn(n, now, h->src, m->sll, out, ctx);
	memcpy(na.target, m->target, 16);
	memcpy(na.tll, n->mac, 6);
	if (dad) {
		/* §7.2.4: defend the address to all nodes, unsolicited. */
		na.flags = ND_NA_OVERRIDE;
		ip6_mcast_mac(all_nodes, dmac);
		nd_send(n, &na, m->target, all_nodes, dmac, out, ctx);
		return;
	}
	na.flags = ND_NA_SOLICITED | ND_NA_OVERRIDE;
	memcpy(dmac, m->has_sll ? m->sll : smac, 6);
	nd_send(n, &na, m->target, h->src, dmac, out, ctx);
}

static void handle_na(nd_cache *n, uint64_t now, const nd_msg *m, nd_out_fn out, void *ctx)
{
	struct nd_addr *a = find_addr(n, m->target);
	struct neigh_entry *e;
	bool differs;

	if (a && a->state != ND_ADDR_DUPLICATE) {
		/* Someone else has (or claims) our address. (One DAD found
		 * taken is that node's: its NA is a neighbour's.) */
		if (a->state == ND_ADDR_TENTATIVE)
			dad_failed(n, a);
		else
			n->st.bad++;
		return;
	}
	/* for nd_take_advert, whether or not an entry asked for it */
	n->heard = m->has_tll && !(m->tll[0] & 1);
	if (n->heard) {
		memcpy(n->heard_addr, m->target, 16);
		memcpy(n->heard_mac, m->tll, 6);
	}
	e = find(n, m->target);
	if (!e)
		return;                /* §7.2.5: no entry, nothing to update */
	if (e->state == NEIGH_INCOMPLETE) {
		if (!m->has_tll || (m->tll[0] & 1))
			return;
		resolved(n, e, now, m->tll,
			 (m->flags & ND_NA_SOLICITED) ? NEIGH_REACHABLE : NEIGH_STALE, out, ctx);
		return;
	}
	differs = m->has_tll && memcmp(e->mac, m->tll, 6);
	if (!(m->flags & ND_NA_OVERRIDE) && differs) {
		if (e->state == NEIGH_REACHABLE)
			e->state = NEIGH_STALE;
		return;
	}
	if (m->has_tll && !(m->tll[0] & 1))
		memcpy(e->mac, m->tll, 6);
	if (m->flags & ND_NA_SOLICITED) {
		e->state = NEIGH_REACHABLE;
		e->confirmed = now;
		e->tries = 0;
	} else if (differs) {
		e->state = NEIGH_STALE;
		e->confirmed = now;
	}
}

static void handle_ra(nd_cache *n, uint64_t now, const ipv6_hdr *h, const nd_msg *m,
		      nd_out_fn out, void *ctx)
{
	if (m->has_sll)
		learn(n, now, h->src, m->sll, out, ctx);
	if (n->router_cfg)
		return;
	if (m->router_lifetime) {
		memcpy(n->router, h->src, 16);
		n->router_set = true;
		n->router_until = now + (uint64_t)m->router_lifetime * 1000000000ull;
	} else if (n->router_set && !memcmp(n->router, h->src, 16)) {
		n->router_set = false;
	}
}

/* An ND message (ICMPv6 right after the header) from MAC smac. */
static void nd_input(nd_cache *n, uint64_t now, const uint8_t *pkt, size_t len,
		     const uint8_t *smac, nd_out_fn out, void *ctx)
{
	ipv6_hdr h;
	const uint8_t *msg, *body;
	size_t mlen, blen;
	icmp_hdr ih;
	nd_msg m;
	int r;

	if (ipv6_parse(pkt, len, &h, &msg, &mlen) != WIRE_OK ||
	    icmp6_parse(msg, mlen, h.src, h.dst, &ih, &body, &blen) != WIRE_OK) {
		n->st.bad++;
		return;
	}
	r = nd_parse(&h, msg, mlen, &m);
	if (r == WIRE_ERR_PROTO)
		return;                /* a redirect: we have one router */
	if (r != WIRE_OK) {
		n->st.bad++;
		return;
	}
	/* To us: one of our addresses, all-nodes, or a group we joined. */
	if (ip6_is_multicast(h.dst) ? !in_group(n, h.dst) : !find_addr(n, h.dst)) {
		n->st.not_for_us++;
		return;
	}
	switch (m.type) {
	case ND_NEIGHBOR_SOLICIT:
		n->st.ns_rcvd++;
		handle_ns(n, now, &h, &m, smac, out, ctx);
		break;
	case ND_NEIGHBOR_ADVERT:
		n->st.na_rcvd++;
		handle_na(n, now, &m, out, ctx);
		break;
	case ND_ROUTER_ADVERT:
		n->st.ra_rcvd++;
		handle_ra(n, now, &h, &m, out, ctx);
		break;
	default:
		break;                 /* an RS: we are no router */
	}
}

long nd_eth_input(nd_cache *n, uint64_t now, const uint8_t *frame, size_t len,
		  const uint8_t **ip, nd_out_fn out, void *ctx)
{
	const uint8_t *p = frame + ETH_HDR;
	size_t plen;

	if (len < ETH_HDR || (frame[12] << 8 | frame[13]) != ND_ETHERTYPE_IPV6) {
		n->st.bad++;
		return 0;
	}
	if (!mac_accept(n, frame)) {
		n->st.not_for_us++;
		return 0;
	}
	plen = len - ETH_HDR;
	if (plen >= IPV6_HDR_LEN + 1 && p[0] >> 4 == 6 && p[6] == IP_PROTO_ICMPV6 &&
	    p[40] >= ND_ROUTER_SOLICIT && p[40] <= ND_REDIRECT) {
		nd_input(n, now, p, plen, frame + 6, out, ctx);
		return 0;
	}
	if (plen == 0) {
		n->st.bad++;
		return 0;
	}
	*ip = p;
	return (long)plen;
}

/* ---- output ---- */

/* nh's entry when a packet can go to it now (probing it when its
 * reachability is due to be confirmed); NULL when it must be resolved. */
static struct neigh_entry *usable(nd_cache *n, uint64_t now, const uint8_t nh[16],
			       nd_out_fn out, void *ctx)
{
	struct neigh_entry *e = find(n, nh);

	if (!e || e->state == NEIGH_INCOMPLETE)
		return NULL;
	if (e->state == NEIGH_REACHABLE && now >= e->confirmed + ND_REACHABLE_NS)
		e->state = NEIGH_STALE;
	bool due = e->state == NEIGH_STALE ||
		   now >= e->confirmed + ND_REACHABLE_NS / 4 * 3;
	if (due && now >= e->next_try) {
		if (e->tries >= ND_MAX_UCAST_SOLICIT) {
			e->state = NEIGH_INCOMPLETE;      /* gone quiet: resolve again */
			e->tries = 0;
			e->next_try = now;
			return NULL;
		}
		if (send_ns(n, nh, e->mac, out, ctx))
			e->tries++;
		e->next_try = now + ND_RETRANS_NS;
	}
	e->used = now;
	return e;
}

bool nd_resolve(nd_cache *n, uint64_t now, const uint8_t dst[16], uint8_t mac[6],
		nd_out_fn out, void *ctx)
{
	struct neigh_entry *e;
	uint8_t nh[16];

	if (ip6_is_multicast(dst)) {
		ip6_mcast_mac(dst, mac);
		return true;
	}
	if (!nd_next_hop(n, now, dst, nh) || !(e = usable(n, now, nh, out, ctx)))
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

bool nd_next_hop(const nd_cache *n, uint64_t now, const uint8_t dst[16], uint8_t nh[16])
{
	if (on_link(n, dst)) {
		memcpy(nh, dst, 16);
		return true;
	}
	return nd_router(n, now, nh);
}

void nd_glean(nd_cache *n, uint64_t now, const uint8_t a[16], const uint8_t mac[6],
	      nd_out_fn out, void *ctx)
{
	struct neigh_entry *e = find(n, a);
	const struct nd_addr *x = find_addr(n, a);

	if ((mac[0] & 1) || (x && x->state != ND_ADDR_DUPLICATE) || ip6_is_multicast(a))
		return;
	if (!e && !(e = neigh_alloc(&n->nt, a)))
		return;
	resolved(n, e, now, mac, NEIGH_REACHABLE, out, ctx);
}

int nd_output(nd_cache *n, uint64_t now, const uint8_t *pkt, size_t len,
	      nd_out_fn out, void *ctx)
{
	struct neigh_entry *e;
	uint8_t mac[6], nh[16];

	if (len < IPV6_HDR_LEN || pkt[0] >> 4 != 6)
		return -EINVAL;
	if (len > ND_FRAME_MAX - ETH_HDR)
		return -EMSGSIZE;
	if (nd_resolve(n, now, pkt + 24, mac, out, ctx)) {
		send_ip(n, mac, pkt, len, out, ctx);
		return 0;
	}
	if (!nd_next_hop(n, now, pkt + 24, nh)) {
		n->st.no_route++;
		return -ENETUNREACH;
	}
	e = find(n, nh);
	if (!e) {
		e = neigh_alloc(&n->nt, nh);
		if (!e) {
			n->nt.pending_drops++;
			return -ENOBUFS;
		}
		e->state = NEIGH_INCOMPLETE;
		e->next_try = now;
	}
	if (e->tries == 0) {
		send_ns(n, nh, NULL, out, ctx);
		e->tries = 1;
		e->next_try = now + ND_RETRANS_NS;
	}
	return neigh_enqueue(&n->nt, e, pkt, len);
}

/* ---- configuration and time ---- */

/* splitmix64: the nonce only has to differ from other nodes'. */
static uint64_t next_nonce(nd_cache *n)
{
	uint64_t z = (n->nonce_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int nd_add_addr(nd_cache *n, uint64_t now, const uint8_t a[16], unsigned prefix,
		bool dad, nd_out_fn out, void *ctx)
{
	struct nd_addr *x;

	if (prefix > 128 || ip6_is_multicast(a) || ip6_is_unspecified(a) ||
	    ip6_is_loopback(a) || ip6_is_v4mapped(a))
		return -EINVAL;
	if (find_addr(n, a))
		return -EEXIST;
	if (n->naddrs == n->addr_cap) {
		unsigned cap = n->addr_cap ? 2 * n->addr_cap : 4;
		struct nd_addr *v = realloc(n->addrs, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		n->addrs = v;
		n->addr_cap = cap;
	}
	x = &n->addrs[n->naddrs++];
	memset(x, 0, sizeof(*x));
	memcpy(x->a, a, 16);
	x->prefix = (uint8_t)prefix;
	x->state = ND_ADDR_PREFERRED;
	if (!dad)
		return 0;
	n->nonce_state ^= now;
	uint64_t r = next_nonce(n);
	memcpy(x->nonce, &r, 6);
	x->state = ND_ADDR_TENTATIVE;
	x->dad_end = now + ND_RETRANS_NS;
	if (!out)
		return 0;      /* the probe is another device's to send */
	nd_msg m = { .type = ND_NEIGHBOR_SOLICIT, .has_nonce = true };
	uint8_t dst[16], dmac[6];
	memcpy(m.target, a, 16);
	memcpy(m.nonce, x->nonce, 6);
	ip6_solicited_node(a, dst);
	ip6_mcast_mac(dst, dmac);
	n->st.dad_sent++;
	nd_send(n, &m, unspec, dst, dmac, out, ctx);
	return 0;
}

int nd_dev_add_addr(nd_cache **n, const uint8_t mac[6], uint64_t now, const uint8_t a[16],
		    unsigned prefix, bool dad, nd_out_fn out, void *ctx, uint8_t ll[16])
{
	uint8_t lla[16];
	int rc;

	ip6_linklocal_eui64(mac, lla);
	if (!*n) {
		if (!(*n = nd_new(mac, 256, 64)))
			return -ENOMEM;
		rc = nd_add_addr(*n, now, lla, 64, dad, out, ctx);
		if (rc < 0)
			return rc;
	}
	if (ll)
		memcpy(ll, lla, 16);
	if (!a || !memcmp(a, lla, 16))
		return 0;
	return nd_add_addr(*n, now, a, prefix, dad, out, ctx);
}

bool nd_take_advert(nd_cache *n, uint8_t a[16], uint8_t mac[6])
{
	if (!n->heard)
		return false;
	n->heard = false;
	memcpy(a, n->heard_addr, 16);
	memcpy(mac, n->heard_mac, 6);
	return true;
}

bool nd_set_duplicate(nd_cache *n, const uint8_t a[16])
{
	struct nd_addr *x = find_addr(n, a);

	if (!x || x->state == ND_ADDR_DUPLICATE)
		return false;
	x->state = ND_ADDR_DUPLICATE;
	return true;
}

void nd_set_router(nd_cache *n, const uint8_t r[16])
{
	n->router_cfg = r != NULL;
	n->router_set = r != NULL;
	if (r)
		memcpy(n->router, r, 16);
}

bool nd_router(const nd_cache *n, uint64_t now, uint8_t r[16])
{
	if (!n->router_set || (!n->router_cfg && now >= n->router_until))
		return false;
	memcpy(r, n->router, 16);
	return true;
}

void nd_advance(nd_cache *n, uint64_t now, nd_out_fn out, void *ctx)
{
	for (unsigned i = 0; i < n->naddrs; i++)
		if (n->addrs[i].state == ND_ADDR_TENTATIVE && now >= n->addrs[i].dad_end)
			n->addrs[i].state = ND_ADDR_PREFERRED;
	for (unsigned i = 0; i < n->nt.max_entries; i++) {
		struct neigh_entry *e = &n->nt.e[i];
		uint64_t last = e->used > e->confirmed ? e->used : e->confirmed;

		if (e->state == NEIGH_INCOMPLETE && now >= e->next_try) {
			if (e->tries >= ND_MAX_MCAST_SOLICIT) {
				n->st.failed++;
				neigh_clear(&n->nt, e);
				continue;
			}
			send_ns(n, e->addr, NULL, out, ctx);
			e->tries++;
			e->next_try = now + ND_RETRANS_NS;
		} else if (e->state == NEIGH_REACHABLE && now >= e->confirmed + ND_REACHABLE_NS) {
			e->state = NEIGH_STALE;
		} else if (e->state == NEIGH_STALE && now >= last + ND_STALE_NS) {
			neigh_clear(&n->nt, e);
		}
	}
	if (n->router_set && !n->router_cfg && now >= n->router_until)
		n->router_set = false;
}

uint64_t nd_next_deadline(const nd_cache *n)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < n->naddrs; i++)
		if (n->addrs[i].state == ND_ADDR_TENTATIVE && n->addrs[i].dad_end < t)
			t = n->addrs[i].dad_end;
	for (unsigned i = 0; i < n->nt.max_entries; i++) {
		const struct neigh_entry *e = &n->nt.e[i];
		uint64_t last = e->used > e->confirmed ? e->used : e->confirmed;
		uint64_t x = UINT64_MAX;

		if (e->state == NEIGH_INCOMPLETE)
			x = e->next_try;
		else if (e->state == NEIGH_REACHABLE)
			x = e->confirmed + ND_REACHABLE_NS;
		else if (e->state == NEIGH_STALE)
			x = last + ND_STALE_NS;
		if (x < t)
			t = x;
	}
	if (n->router_set && !n->router_cfg && n->router_until < t)
		t = n->router_until;
	return t;
}

bool nd_lookup(const nd_cache *n, const uint8_t a[16], uint8_t mac[6])
{
	const struct neigh_entry *e = find(n, a);

	if (!e || (e->state != NEIGH_REACHABLE && e->state != NEIGH_STALE))
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

size_t nd_entries(const nd_cache *n)
{
	return neigh_count(&n->nt);
}

void nd_get_stats(const nd_cache *n, nd_stats *st)
{
	*st = n->st;
	st->pending_drops = n->nt.pending_drops;
	st->evictions = n->nt.evictions;
}
