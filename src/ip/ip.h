/*
 * The IP layer: IPv4 input checks and demultiplexing (ip.c), fragment
 * reassembly (frag.c), ICMP (icmp.c), and output; IPv6 beside it (ip6.c,
 * icmp6.c, the same frag.c) and the stack's addresses of both families
 * (addr.c). It knows the layer below (the link) and hands what it
 * receives to the protocol above through a narrow interface (ip_upper):
 * it never sees a connection.
 *
 *   hsk_stack_input -> ip_input -> [reasm_input] -> upper.input (TCP)
 *                                               -> icmp_input -> upper.icmp_error
 *                      (version 6) ip6_input -> ipv6_walk -> [reasm_input6]
 *                                               -> upper.input6 (TCP)
 *                                               -> icmp6_input -> upper.icmp_error
 *   TCP / ICMP output -> ip_output | ip6_output -> link.transmit
 */
#ifndef HSK_IP_H
#define HSK_IP_H

#include <string.h>

#include "core/env.h"
#include "handshake.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

/* Address families inside the stack: the IP version. */
enum { IP_FAM4 = 4, IP_FAM6 = 6 };

/* An ICMP error about a packet we sent (RFC 792, RFC 1122 §3.2.2.1): the
 * quoted packet's addresses and ports (src is us), its first sequence
 * number, and the next-hop MTU of a fragmentation-needed (0 otherwise).
 *
 * family 0 (or IP_FAM4): an IPv4 error, src and dst its addresses.
 * family IP_FAM6: the head of an ip_icmp_err6 (ip_icmp_err_v6() gets it)
 * whose 128-bit addresses follow; src and dst are 0. An ICMPv6 error's
 * type and code are given here in ICMPv4's terms, so that TCP handles
 * both families with one code path (icmp6.c, icmp6_as_v4): packet too
 * big is destination unreachable / fragmentation needed with mtu (never
 * below 1280, RFC 8201 §4), port unreachable is port unreachable, an
 * unrecognized next header is protocol unreachable, no route, beyond
 * scope and address unreachable are host unreachable, administratively
 * prohibited, policy and reject route are code 13 (communication
 * administratively prohibited), time exceeded is time exceeded, other
 * parameter problems are ICMP's parameter problem (12). The ICMPv6 type
 * and code as received are in the ip_icmp_err6. An upper layer without
 * input6 is never given an IPv6 error. */
typedef struct ip_icmp_err {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t type, code;
	uint16_t mtu;
	uint8_t family;
} ip_icmp_err;

typedef struct ip_icmp_err6 {
	ip_icmp_err e;            /* e.family == IP_FAM6 */
	uint8_t type6, code6;     /* as received */
	uint8_t src[16], dst[16]; /* the quoted packet's (src is ours) */
} ip_icmp_err6;

static inline const ip_icmp_err6 *ip_icmp_err_v6(const ip_icmp_err *e)
{
	return e->family == IP_FAM6 ? (const ip_icmp_err6 *)e : NULL;
}

/* The transport protocol above (TCP): where segments and ICMP errors about
 * them go. None may call back into ip_input or ip6_input. input6 NULL: the
 * protocol speaks no IPv6 (its segments are answered as an unrecognized
 * next header, and ICMPv6 errors are not handed up). */
typedef struct ip_upper {
	/* One segment to our address: of ip, src, dst and tos are the
	 * packet's; the other fields are set only off the IPv4 fast path
	 * (ip_input), and nothing above reads them. */
	void (*input)(void *ctx, const ipv4_hdr *ip, const uint8_t *seg, size_t len);
	void (*icmp_error)(void *ctx, const ip_icmp_err *err);
	void *ctx;
	/* One segment to a unicast address of ours, the extension headers
	 * walked (and the datagram reassembled): ip->src/dst are the
	 * packet's, ip->payload_len and ip->next what the packet said. */
	void (*input6)(void *ctx, const ipv6_hdr *ip, const uint8_t *seg, size_t len);
} ip_upper;

/* ---- the stack's addresses (addr.c) ----
 * Any number of either family, kept sorted (family, then bytes) so that a
 * lookup is a binary search; the first IPv4 address is also ip->addr, the
 * one the IPv4 fast path compares with. IPv4 addresses are stored in the
 * first 4 bytes of a[], in network order. */
typedef struct ip_addr {
	uint8_t family;           /* IP_FAM4 or IP_FAM6 */
	uint8_t prefix;           /* on-link prefix length (0: unknown) */
	uint8_t a[16];
} ip_addr;

typedef struct ip_addrs {
	ip_addr *v;
	unsigned n, cap;
	unsigned n4, n6;
	/* ip6_select_src's last answer, a function of the list and the
	 * destination: a client connects to one server again and again
	 * (sel_ok: they hold one; ip_addr_add and ip_addr_del clear it) */
	bool sel_ok;
	uint8_t sel_dst[16], sel_src[16];
} ip_addrs;

typedef struct ip_reasm ip_reasm;

/* Room for the largest packet we build: IPv4 + TCP header with options +
 * payload of an MTU up to 64 KiB. */
enum { IP_TXBUF = 65536 + 128 };

/* ICMP and ICMPv6 errors we send (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)):
 * one token bucket for the stack and both families (as Linux's
 * icmp_global), ICMP_ERR_BURST deep, a token every ICMP_ERR_INTERVAL_NS.
 * (Linux limits each destination to one a second through its peer cache,
 * and all of them to 1000 a second; a host that sends errors only for
 * malformed packets and abandoned fragments needs no per-peer state.) */
#ifndef ICMP_ERR_BURST
#define ICMP_ERR_BURST 10
#endif
#ifndef ICMP_ERR_INTERVAL_NS
#define ICMP_ERR_INTERVAL_NS 10000000ull     /* 100 a second */
#endif
/* An ICMP (IPv4) error is at most 576 bytes, as Linux's (RFC 1812
 * §4.3.2.3: as much of the datagram as fits in what every host accepts). */
enum { ICMP_ERR_MAX = 576 };
/* Hop limit of the packets we send (Linux's hop_limit default). */
enum { IP6_HOP_LIMIT = 64 };

typedef struct ip_layer {
	hsk_env *env;
	hsk_link link;
	uint32_t addr;            /* ours (the first IPv4 address) */
	uint32_t bcast;           /* our subnet's broadcast for addr and
				   * cfg.prefix_len, 0 when none (ip_set_addr
				   * sets both) */
	uint16_t ip_id;           /* identification of the next packet */
	ip_reasm *reasm;
	ip_upper upper;
	ip_addrs addrs;           /* every address of both families */
	ip_reasm *reasm6;         /* IPv6 reassembly, allocated with ip */
	uint32_t icmp_err_tokens; /* error rate limit: tokens left ... */
	uint64_t icmp_err_refill; /* ... and when the next one is due */
	ipv4_hdr rx;              /* the addresses and TOS of the TCP segment
				   * ip_input hands up (upper.input may not
				   * call back into ip_input, so one is
				   * enough); the addresses are rx_pair's,
				   * stored with it */
	uint64_t rx_pair;         /* the source and destination (as the
				   * packet's 8 bytes) that last passed
				   * ip_input's address tests, when rx_pair_ok:
				   * forgotten when the addresses change
				   * (ip_rx_pair_forget) */
	bool rx_pair_ok;
	bool rx6_pair_ok;         /* the same for ip6_input: rx6_pair, the
				   * source and destination of the last TCP
				   * packet without extension headers that
				   * passed its checks */
	uint8_t rx6_pair[32];
	ipv6_hdr rx6;             /* the header ip6_input's short way hands up
				   * (as rx: the addresses are rx6_pair's,
				   * stored with it, and their sum asum) */
	uint8_t txbuf[IP_TXBUF];  /* the packet being built, by any layer */
} ip_layer;

/* Sets up ip on env; 0, or -HSK_ENOMEM. */
int ip_init(ip_layer *ip, hsk_env *env, const hsk_link *link, uint32_t addr);
/* ip->addr = a, and the subnet broadcast that goes with it (ip->bcast). */
void ip_set_addr(ip_layer *ip, uint32_t a);
/* ip_input and ip6_input test the next packet's addresses afresh: for any
 * change of ip->addr, ip->bcast or the addresses (ip_set_addr, ip_addr_add,
 * ip_addr_del). */
static inline void ip_rx_pair_forget(ip_layer *ip)
{
	ip->rx_pair_ok = false;
	ip->rx6_pair_ok = false;
}
void ip_destroy(ip_layer *ip);
/* One packet from the link: IPv4, or IPv6 (to ip6_input) once the stack
 * has an IPv6 address — until then version 6 is dropped as IPv4 always
 * dropped it (InHdrErrors). */
void ip_input(ip_layer *ip, const uint8_t *pkt, size_t len);
/* The TTL of every IPv4 packet sent: the Assigned Numbers default
 * (RFC 1700), Linux's ip_default_ttl. */
enum { IPV4_TTL_SENT = 64 };

/* buf holds the layer-4 message at buf + IPV4_HDR_LEN; writes the IPv4
 * header in front of it (source `src`: one of our addresses, the one the
 * flow or the request is on, which the layer above summed its checksum
 * with; TOS byte `tos`: DSCP and the ECN field, RFC 2474 and RFC 3168, as
 * the protocol above chose them) and transmits. */
static inline void ip_output_tos(ip_layer *ip, uint8_t *buf, uint32_t src, uint32_t dst,
				 uint8_t proto, uint8_t tos, size_t l4_len)
{
	/* Inline: once per packet sent, and a call's frame cost a third of
	 * the header's writing. DF: RFC 1191 path MTU discovery. */
	ipv4_emit_fields(buf, tos, (uint16_t)(IPV4_HDR_LEN + l4_len), ip->ip_id++, IPV4_DF, IPV4_TTL_SENT,
			 proto, src, dst);
	CNT_INC(ip->env, OutRequests);
	ip->link.transmit(ip->link.ctx, buf, IPV4_HDR_LEN + l4_len);
}
/* What ip_output_pre needs of a flow, worked out once: its addresses in
 * network order (source first) and ip_pre_sum's ksum. */
static inline uint64_t ip_pre_sum(uint8_t proto, uint32_t src, uint32_t dst)
{
	return ipv4_pre_sum(IPV4_TTL_SENT, proto, src, dst);
}
/* ip_output_tos for a flow whose addresses and ksum were worked out once
 * (a TCP connection's: tcb_act's seg_tpl). The same bytes. */
static inline void ip_output_pre(ip_layer *ip, uint8_t *buf, const uint8_t addrs[8],
				 uint64_t ksum, uint8_t proto, uint8_t tos, size_t l4_len)
{
	ipv4_emit_pre(buf, tos, (uint16_t)(IPV4_HDR_LEN + l4_len), ip->ip_id++, IPV4_DF, IPV4_TTL_SENT,
		      proto, addrs, ksum);
	CNT_INC(ip->env, OutRequests);
	ip->link.transmit(ip->link.ctx, buf, IPV4_HDR_LEN + l4_len);
}
/* The same with TOS 0. */
static inline void ip_output(ip_layer *ip, uint8_t *buf, uint32_t src, uint32_t dst,
			     uint8_t proto, size_t l4_len)
{
	ip_output_tos(ip, buf, src, dst, proto, 0, l4_len);
}
/* The ECN field of the TOS byte (RFC 3168 §5). */
enum { IP_ECN_NOT_ECT = 0, IP_ECN_ECT1 = 1, IP_ECN_ECT0 = 2, IP_ECN_CE = 3,
       IP_ECN_MASK = 3 };
/* Timers of the layer (reassembly expiry). */
void ip_advance(ip_layer *ip);
uint64_t ip_next_deadline(const ip_layer *ip);

/* ---- IPv6 (ip6.c) ---- */
/* One IPv6 packet from the link (ip_input passes version 6 here). */
void ip6_input(ip_layer *ip, const uint8_t *pkt, size_t len);
/* buf holds the layer-4 message at buf + IPV6_HDR_LEN; writes the IPv6
 * header in front of it (hop limit 64, traffic class `tclass`: DSCP and
 * the ECN field, as IPv4's TOS byte; flow label `flow`, 20 bits: the
 * flow's, RFC 6437, or 0) and transmits. src must be one of our addresses
 * (ip6_select_src picks one). */
static inline void ip6_output_tc(ip_layer *ip, uint8_t *buf, const uint8_t src[16],
				 const uint8_t dst[16], uint8_t proto, uint8_t tclass,
				 uint32_t flow, size_t l4_len)
{
	if (l4_len > 65535)
		return;
	/* ipv6_emit's bytes, from the arguments (no ipv6_hdr in between,
	 * inline: once per packet sent) */
	wr32(buf, 6u << 28 | (uint32_t)tclass << 20 | (flow & 0xfffff));
	wr16(buf + 4, (uint16_t)l4_len);
	buf[6] = proto;
	buf[7] = IP6_HOP_LIMIT;
	memcpy(buf + 8, src, 16);
	memcpy(buf + 24, dst, 16);
	CNT_INC(ip->env, Ip6OutRequests);
	ip->link.transmit(ip->link.ctx, buf, IPV6_HDR_LEN + l4_len);
}
static inline void ip6_output(ip_layer *ip, uint8_t *buf, const uint8_t src[16],
			      const uint8_t dst[16], uint8_t proto, size_t l4_len)
{
	ip6_output_tc(ip, buf, src, dst, proto, 0, 0, l4_len);
}

/* ---- addresses (addr.c) ---- */
/* Adds an address (a: 4 or 16 bytes, network order) with its on-link
 * prefix length: 0, -HSK_EINVAL (a family, prefix or address that cannot
 * be ours: unspecified, multicast, loopback, v4-mapped, 0.0.0.0,
 * 224/4...), -HSK_EADDRINUSE (already there), -HSK_ENOMEM. */
int ip_addr_add(ip_layer *ip, int family, const uint8_t *a, unsigned prefix);
/* 0, or -HSK_EADDRNOTAVAIL. Removing the first IPv4 address makes the
 * next one ip->addr (0 when none is left). */
int ip_addr_del(ip_layer *ip, int family, const uint8_t *a);
/* Our entry for a (4 or 16 bytes), or NULL. */
const ip_addr *ip_addr_find(const ip_layer *ip, int family, const uint8_t *a);
static inline bool ip6_is_ours(const ip_layer *ip, const uint8_t a[16])
{
	const ip_addrs *s = &ip->addrs;
	if (s->n6 <= 4) {
		/* A few IPv6 addresses (a host's: link-local, a global or
		 * two; they follow IPv4's): each compared as two words, not
		 * searched for (twice per packet received). */
		uint64_t y[2];
		memcpy(y, a, 16);
		for (unsigned i = s->n4; i < s->n4 + s->n6; i++) {
			uint64_t x[2];
			memcpy(x, s->v[i].a, 16);
			if (((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0)
				return true;
		}
		return false;
	}
	return ip_addr_find(ip, IP_FAM6, a);
}
bool ip4_is_ours(const ip_layer *ip, uint32_t a);
/* Addresses that are never a unicast peer: "this network" 0/8 (a source
 * only while a host boots, for BOOTP/DHCP, which is UDP: never ours),
 * loopback 127/8 (never off the host), multicast 224/4, the reserved 240/4
 * with the limited broadcast 255.255.255.255, and our subnet's broadcast
 * (ip->bcast: worked out when the address is set, not per packet). */
static inline bool ip4_martian(const ip_layer *ip, uint32_t a)
{
	uint32_t top = a >> 24;
	return top == 0 || top == 127 || top >= 224 || a == ip->bcast;
}
/* a may be a unicast peer's: not a martian, not ours. */
bool ip4_unicast_peer(const ip_layer *ip, uint32_t a);
/* a is a multicast group we listen to: all-nodes (ff02::1), or the
 * solicited-node group of one of our IPv6 addresses. */
bool ip6_in_group(const ip_layer *ip, const uint8_t a[16]);
/* The source for a packet to dst (RFC 6724 §5, the rules that matter to a
 * host with one interface): the same address when dst is ours, one of the
 * same scope (link-local for a link-local or link-scope multicast
 * destination, else a global one), of those the longest matching prefix.
 * 0, or -HSK_EADDRNOTAVAIL when we have no IPv6 address of that scope.
 * The last destination's answer is kept (ip_addrs.sel_ok). */
int ip6_select_src(ip_layer *ip, const uint8_t dst[16], uint8_t src[16]);

/* ---- frag.c: reassembly bounded in memory, per source and in time
 * (RFC 791, RFC 815; Linux's ipfrag_* knobs) */
typedef struct reasm_limits {
	size_t high_thresh;    /* bytes held at most; going over evicts ... */
	size_t low_thresh;     /* ... the oldest datagrams down to this */
	size_t src_max;        /* bytes one source address may hold */
	uint64_t timeout_ns;   /* a datagram's life from its first fragment */
} reasm_limits;
/* NULL on no memory. k0, k1: the secret key of the lookup hashes. */
ip_reasm *reasm_new(const reasm_limits *lim, uint64_t k0, uint64_t k1);
void reasm_free(ip_reasm *r);
/* Feeds one fragment (h and its payload). Returns the length of the
 * completed datagram's payload and points *out at it (valid until the next
 * reasm_* call), 0 while incomplete or for an exact duplicate, or a
 * negative value when the fragment was dropped. Counts in cnt: ReasmReqds
 * per fragment, ReasmOKs per datagram, FragmentsDropped per fragment
 * refused, ReasmFails per datagram abandoned, and why: ReasmOverlaps,
 * ReasmEvictions, ReasmSrcEvictions. */
long reasm_input(ip_reasm *r, uint64_t now, const ipv4_hdr *h,
		 const uint8_t *payload, size_t len, const uint8_t **out,
		 hsk_counters *cnt);
/* IPv6 (RFC 8200 §4.5) in an instance of its own (counters Ip6Reasm*):
 * keyed by (src, dst, identification). */
ip_reasm *reasm_new6(const reasm_limits *lim, uint64_t k0, uint64_t k1);
/* Feeds the fragment pkt[0..len) that ipv6_walk described in c (is_frag).
 * Returns the length of the reassembled packet and points *out at it
 * (valid until the next reasm_* call): the offset-0 fragment's IPv6
 * header and extension headers up to its fragment header (*head bytes),
 * then the fragmentable part, with the payload length and the byte that
 * named the fragment header (at *nh_ptr) made those of a whole packet, so
 * the chain reads on at *head with the header type (*out)[*nh_ptr]. 0
 * and negative as reasm_input. */
long reasm_input6(ip_reasm *r, uint64_t now, const uint8_t *pkt, size_t len,
		  const ipv6_chain *c, const uint8_t **out, size_t *head,
		  size_t *nh_ptr, hsk_counters *cnt);
/* Abandons the oldest datagram when its time is up (ReasmTimeout,
 * ReasmFails) and returns true, with its offset-0 fragment as it came —
 * the IPv4 header (options not kept) or the IPv6 head with a fragment
 * header, then as much of its data as fits cap — in first[0..*len), for
 * the ICMP time exceeded of RFC 1122 §3.3.2 and RFC 8200 §4.5; *len is 0
 * when that fragment never came. False when none is due. */
bool reasm_expire_one(ip_reasm *r, uint64_t now, uint8_t *first, size_t cap, size_t *len,
		      hsk_counters *cnt);
uint64_t reasm_next_deadline(const ip_reasm *r);
/* Bytes charged and datagrams in progress. */
void reasm_usage(const ip_reasm *r, size_t *mem, unsigned *datagrams);

/* ---- icmp.c ---- */
/* An ICMP message addressed to us (h is its IPv4 header). Answers echo
 * requests; hands destination-unreachable (incl. fragmentation needed) and
 * time-exceeded about our TCP segments to the upper layer. */
void icmp_input(ip_layer *ip, const ipv4_hdr *h, const uint8_t *msg, size_t len);
/* The error rate limit of both families (the bucket above): true, and a
 * token taken, when one may be sent now. */
bool icmp_err_rate_ok(ip_layer *ip);
/* Answers the datagram pkt[0..len) (its IPv4 header first; one that came
 * to us) with an ICMP error (type, code, and the 32 bits after the
 * checksum), quoting as much of it as fits in 576 bytes, unless RFC 1122
 * §3.2.2 forbids it (an error about an ICMP error, about a fragment that
 * is not the first, about a datagram not to one of our addresses, to a
 * source that is not one host) or the rate limit says no
 * (IcmpOutRateLimitGlobal). True when sent. */
bool icmp_send_error(ip_layer *ip, const uint8_t *pkt, size_t len, uint8_t type,
		     uint8_t code, uint32_t rest);

/* ---- icmp6.c ---- */
/* An ICMPv6 message (msg: len bytes) of the packet h, to a unicast address
 * of ours or (mcast) to a group we are in. Answers echo requests to a
 * unicast address; hands errors about our TCP segments up (see
 * ip_icmp_err); leaves Neighbor Discovery to the link (tap.c, nd.c) and
 * ignores what else is informational. */
void icmp6_input(ip_layer *ip, const ipv6_hdr *h, const uint8_t *msg, size_t len,
		 bool mcast);
/* Answers the packet pkt[0..len) with an ICMPv6 error (type, code, and
 * the 32-bit pointer or MTU), quoting as much of it as fits in 1280 bytes,
 * unless RFC 4443 §2.4(e) forbids it (an error about an error, a
 * multicast destination but for packet too big and parameter problem
 * code 2 when `mcast_ok`, a source that is not one unicast node) or the
 * rate limit (f) says no (Icmp6OutRateLimitGlobal). True when sent. */
bool icmp6_send_error(ip_layer *ip, const uint8_t *pkt, size_t len, uint8_t type,
		      uint8_t code, uint32_t rest, bool mcast_ok);

#endif
