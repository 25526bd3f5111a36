/*
 * IPv4 input checks and demultiplexing, and output.
 *
 * Martians (RFC 1122 §3.2.1.3, RFC 6890) are dropped here, before TCP or
 * ICMP sees them, so that nothing is ever answered to an address that
 * cannot have sent the packet: a reply to a loopback, broadcast or
 * multicast source, or to ourselves, would be a reflection or a loop.
 * Destinations other than our address — broadcast and multicast included,
 * which TCP must never answer (RFC 1122 §4.2.3.10, kept by RFC 9293) and
 * ICMP echo need not (RFC 1122 §3.2.2.6) — are dropped too.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip_in.h"

int ip_init(ip_layer *ip, hsk_env *env, const hsk_link *link, uint32_t addr)
{
	const hsk_config *c = &env->cfg;
	reasm_limits rl = {
		.high_thresh = c->ipfrag_high_thresh,
		.low_thresh = c->ipfrag_low_thresh,
		.src_max = c->ipfrag_src_max,
		.timeout_ns = c->ipfrag_time_ns,
	};
	uint8_t a4[4];

	ip->env = env;
	ip->link = *link;
	ip_set_addr(ip, addr);
	/* The configured address heads the list; one the list refuses (a
	 * test's odd choice) still works as ip->addr, as it always has. */
	wr32(a4, addr);
	if (addr)
		ip_addr_add(ip, IP_FAM4, a4, c->prefix_len);
	ip->icmp_err_tokens = ICMP_ERR_BURST;
	ip->reasm = reasm_new(&rl, env->key0 ^ 0x66726167, env->key1);
	/* IPv6 fragments have limits of their own, of the same size
	 * (Linux's ip6frag_* defaults are ipfrag_*'s). */
	ip->reasm6 = reasm_new6(&rl, env->key0 ^ 0x66726136, env->key1);
	return ip->reasm && ip->reasm6 ? 0 : -HSK_ENOMEM;
}

void ip_destroy(ip_layer *ip)
{
	if (ip->reasm)
		reasm_free(ip->reasm);
	if (ip->reasm6)
		reasm_free(ip->reasm6);
	ip->reasm = NULL;
	ip->reasm6 = NULL;
	free(ip->addrs.v);
	memset(&ip->addrs, 0, sizeof(ip->addrs));
}

/* Datagrams abandoned at their timeout: the reassembly decides, and here
 * each whose first fragment came is answered with a time exceeded
 * (fragment reassembly; RFC 1122 §3.3.2, RFC 8200 §4.5). */
static __attribute__((noinline)) void ip_expire(ip_layer *ip)
{
	uint8_t first[IPV6_MIN_MTU];
	size_t n;

	while (reasm_expire_one(ip->reasm, ip->env->now, first, sizeof(first), &n,
				&ip->env->cnt))
		if (n)
			icmp_send_error(ip, first, n, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
	while (reasm_expire_one(ip->reasm6, ip->env->now, first, sizeof(first), &n,
				&ip->env->cnt))
		if (n)
			icmp6_send_error(ip, first, n, ICMP6_TIME_EXCEEDED, ICMP6_EXC_FRAGTIME,
					 0, false);
}

void ip_advance(ip_layer *ip)
{
	if (ip_next_deadline(ip) <= ip->env->now)
		ip_expire(ip);
}

uint64_t ip_next_deadline(const ip_layer *ip)
{
	uint64_t a = reasm_next_deadline(ip->reasm), b = reasm_next_deadline(ip->reasm6);

	return a < b ? a : b;
}

static void ip_drop(ip_layer *ip, const char *why)
{
	hsk_trace_event ev = { .kind = HSK_EV_DROP, .obj = HSK_OBJ_NONE, .sd = -1,
			       .wscale = -1, .reason = why };
	env_trace(ip->env, &ev);
}

/* Our subnet's directed broadcast; 0 when the prefix is unknown (0) or has
 * none (/31 point-to-point as RFC 3021, /32). */
static uint32_t subnet_broadcast(const ip_layer *ip)
{
	unsigned p = ip->env->cfg.prefix_len;

	if (p == 0 || p > 30)
		return 0;
	return ip->addr | (0xffffffffu >> p);
}

void ip_set_addr(ip_layer *ip, uint32_t a)
{
	ip->addr = a;
	ip->bcast = subnet_broadcast(ip);
	ip_rx_pair_forget(ip);
}

/* ip4_martian (ip.h), with the Debug builds' check that ip->bcast is
 * still the subnet's (a stack's configuration does not change under it). */
static inline bool addr_martian(const ip_layer *ip, uint32_t a)
{
	assert(ip->bcast == subnet_broadcast(ip));
	return ip4_martian(ip, a);
}

bool ip4_unicast_peer(const ip_layer *ip, uint32_t a)
{
	return !addr_martian(ip, a) && !ip4_is_ours(ip, a);
}

/* RFC 1122 §3.2.2.1: a protocol we do not have is answered with a
 * protocol unreachable quoting the datagram — its header rebuilt when it
 * came in fragments (pkt is then the last fragment; h and payload are the
 * datagram's). */
static void ip_proto_unreachable(ip_layer *ip, const ipv4_hdr *h, const uint8_t *pkt,
				 const uint8_t *payload, size_t plen, bool reassembled)
{
	uint8_t q[ICMP_ERR_MAX];
	ipv4_hdr w = *h;
	size_t n;

	if (!reassembled) {
		icmp_send_error(ip, pkt, h->ihl + plen, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0);
		return;
	}
	w.total_len = (uint16_t)(IPV4_HDR_LEN + plen > 65535 ? 65535 : IPV4_HDR_LEN + plen);
	ipv4_emit(&w, q, sizeof(q));
	n = plen < sizeof(q) - IPV4_HDR_LEN ? plen : sizeof(q) - IPV4_HDR_LEN;
	memcpy(q + IPV4_HDR_LEN, payload, n);
	icmp_send_error(ip, q, IPV4_HDR_LEN + n, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0);
}

/* Any IPv4 packet, every check in its order and counted (ip_input takes
 * the usual one itself, and IPv6). */
static __attribute__((noinline)) void ip_input_all(ip_layer *ip, const uint8_t *pkt, size_t len)
{
	ipv4_hdr h;
	const uint8_t *payload;
	size_t plen;
	int err = ipv4_parse(pkt, len, &h, &payload, &plen);
	CNT_INC(ip->env, InReceives);
	if (err < 0) {
		/* The wire layer already refuses the worst sources. */
		if (err == WIRE_ERR_ADDR)
			CNT_INC(ip->env, DropMartianSrc);
		else
			CNT_INC(ip->env, InHdrErrors);
		ip_drop(ip, wire_err_name(err));
		return;
	}
	/* Linux's IpExt counters of the ECN field (RFC 3168): the TCP layer
	 * reads the field from the header it is handed. */
	_Static_assert(CNT_InNoECTPkts + IP_ECN_ECT1 == CNT_InECT1Pkts &&
		       CNT_InNoECTPkts + IP_ECN_ECT0 == CNT_InECT0Pkts &&
		       CNT_InNoECTPkts + IP_ECN_CE == CNT_InCEPkts,
		       "the four counters in the field's order");
	ip->env->cnt.v[CNT_InNoECTPkts + (h.tos & IP_ECN_MASK)]++;
	if (h.dst != ip->addr && !(ip->addrs.n4 > 1 && ip4_is_ours(ip, h.dst))) {
		CNT_INC(ip->env, InAddrErrors);
		if (addr_martian(ip, h.dst)) {
			CNT_INC(ip->env, DropMartianDst);
			ip_drop(ip, "ip_martian_dst");
		} else {
			CNT_INC(ip->env, DropNotForUs);
			ip_drop(ip, "ip_not_for_us");
		}
		return;
	}
	/* Our own address as the source is a land attack (a SYN to ourselves
	 * answered to ourselves), or a loop. */
	if (addr_martian(ip, h.src) || h.src == ip->addr ||
	    (ip->addrs.n4 > 1 && ip4_is_ours(ip, h.src))) {
		CNT_INC(ip->env, DropMartianSrc);
		ip_drop(ip, "ip_martian_src");
		return;
	}
	bool reassembled = ipv4_is_fragment(&h);
	if (reassembled) {
		const uint8_t *whole;
		long n = reasm_input(ip->reasm, ip->env->now, &h, payload, plen, &whole, &ip->env->cnt);
		if (n <= 0)
			return;
		payload = whole;
		plen = (size_t)n;
		h.total_len = (uint16_t)(h.ihl + plen > 65535 ? 65535 : h.ihl + plen);
		h.frag = 0;
	}
	if (h.proto == IP_PROTO_TCP) {  /* nearly every packet: no jump table */
		CNT_INC(ip->env, InDelivers);
		ip->upper.input(ip->upper.ctx, &h, payload, plen);
		return;
	}
	switch (h.proto) {
	case IP_PROTO_ICMP:
		CNT_INC(ip->env, InDelivers);
		icmp_input(ip, &h, payload, plen);
		break;
	default:
		CNT_INC(ip->env, InUnknownProtos);
		ip_drop(ip, "ip_unknown_protocol");
		ip_proto_unreachable(ip, &h, pkt, payload, plen, reassembled);
		break;
	}
}

/* ip_input's packet whose addresses are not the known pair: their tests,
 * and, passing, the pair known from now on (its addresses in ip->rx) and
 * the packet taken as ip_input takes it; failing, ip_input_all's. Out of
 * line and reached by a tail call: the usual packet's way then calls
 * nothing and saves no register. */
static __attribute__((noinline)) void ip_input_new_pair(ip_layer *ip, const uint8_t *pkt,
							size_t len, size_t ihl, size_t total)
{
	uint32_t src = rd32(pkt + 12), dst = rd32(pkt + 16);
	if (dst != ip->addr || ip->addrs.n4 > 1 || addr_martian(ip, src) || src == ip->addr) {
		ip_input_all(ip, pkt, len);
		return;
	}
	ip->rx.src = src;
	ip->rx.dst = dst;
	ip->rx.asum = (uint64_t)src + dst;
	memcpy(&ip->rx_pair, pkt + 12, 8);
	ip->rx_pair_ok = true;
	ip_input_tcp(ip, ip->env, pkt, ihl, total);
}

/* The usual packet, an IPv4 TCP segment to our one address from a
 * unicast source, not a fragment, passes ip_input_all's tests and
 * counters in a row and goes up with a tail call: of its header, what TCP
 * reads (the addresses, the ECN field: ip_upper) is kept in ip->rx, not
 * in a frame of this function. The rest of the header is read where it
 * is. The source is tested once: addr_martian refuses every source
 * ipv4_parse's ipv4_bad_src does (0/8, 224/4, 240/4), so such a packet is
 * ip_input_all's, which parses it again and counts it as it always has.
 * Anything else is ip_input_all's too. */
void ip_input(ip_layer *ip, const uint8_t *pkt, size_t len)
{
	size_t total;
	int ihl = ipv4_hdr_check(pkt, len, &total);
	if (ihl < 0) {
		/* IPv6 costs IPv4 nothing: it is told apart on the error path
		 * (a version 6 packet is never anything but too short or not
		 * version 4 to ipv4_hdr_check). */
		if ((ihl == WIRE_ERR_VERSION || ihl == WIRE_ERR_SHORT) && ip_in_v6(ip, pkt, len))
			ip6_input(ip, pkt, len);
		else
			ip_input_all(ip, pkt, len);
		return;
	}
	if (!ip_in_tcp_whole(pkt)) {
		ip_input_all(ip, pkt, len);
		return;
	}
	if (!ip_in_pair_known(ip, pkt)) {
		ip_input_new_pair(ip, pkt, len, (size_t)ihl, total);
		return;
	}
	ip_input_tcp(ip, ip->env, pkt, (size_t)ihl, total);
}
