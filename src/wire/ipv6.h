/*
 * wire, IPv6: the header (RFC 8200), the extension-header chain, ICMPv6
 * (RFC 4443) and Neighbor Discovery messages (RFC 4861), as bytes <->
 * structs with no state, under wire.h's contract: every length is checked
 * before a read, emit checks its buffer.
 *
 * Addresses are 16 bytes in network order (uint8_t[16]); everything else
 * in the structs is in host order.
 */
#ifndef HSK_WIRE_IPV6_H
#define HSK_WIRE_IPV6_H

#include <assert.h>
#include <string.h>

#include "wire/wire.h"

enum { IPV6_HDR_LEN = 40, IPV6_MIN_MTU = 1280, IPV6_ADDR_LEN = 16 };
/* Next-header values (IANA "Assigned Internet Protocol Numbers"). */
enum {
	IP_PROTO_HOPOPTS = 0, IP_PROTO_ROUTING = 43, IP_PROTO_FRAGMENT = 44,
	IP_PROTO_ICMPV6 = 58, IP_PROTO_NONE = 59, IP_PROTO_DSTOPTS = 60,
};

typedef struct ipv6_hdr {
	uint8_t tclass;
	uint32_t flow;            /* 20 bits */
	uint16_t payload_len;
	uint8_t next;             /* next header */
	uint8_t hop_limit;
	uint8_t src[16], dst[16];
	/* src and dst summed for a pseudo-header (addr6_pair_sum), set with
	 * them by the parse (ipv6_hdr_fields) and by the IP layer's input
	 * for the header it hands up: TCP's checksum starts from it, not from
	 * the 32 bytes (emit does not read it) */
	uint64_t asum;
} ipv6_hdr;

/* Parses and checks the fixed header, in this order: WIRE_ERR_SHORT (len <
 * 40), WIRE_ERR_VERSION (!= 6), WIRE_ERR_TOTLEN (payload length past the
 * buffer), WIRE_ERR_ADDR (a multicast source, RFC 4291 §2.7). The other
 * martian sources and destinations are the IP layer's to judge (:: is a
 * legal source for DAD). Jumbograms (payload length 0 with a jumbo option,
 * RFC 2675) are not supported: 0 means no payload. *payload is what
 * follows the 40 bytes, up to the payload length (link padding is left
 * off). */
int ipv6_parse(const uint8_t *buf, size_t len, ipv6_hdr *h,
	       const uint8_t **payload, size_t *payload_len);
/* ipv6_parse's fields of a header that passed its checks (plen: the
 * payload length it read), the addresses left out (ip6_input's short way
 * has them in place) ... */
static inline void ipv6_hdr_fields_but_addrs(const uint8_t *buf, size_t plen, ipv6_hdr *h)
{
	uint32_t w0 = rd32(buf);
	h->tclass = (uint8_t)(w0 >> 20);
	h->flow = w0 & 0xfffff;
	h->payload_len = (uint16_t)plen;
	h->next = buf[6];
	h->hop_limit = buf[7];
}
/* ... and with them. */
static inline void ipv6_hdr_fields(const uint8_t *buf, size_t plen, ipv6_hdr *h)
{
	ipv6_hdr_fields_but_addrs(buf, plen, h);
	memcpy(h->src, buf + 8, 16);
	memcpy(h->dst, buf + 24, 16);
	h->asum = addr6_pair_sum(h->src, h->dst);
}

/* The pseudo-header's sum of a header handed up (csum_pseudo6_native of
 * its addresses), from the addresses' sum kept with them. */
static inline __attribute__((always_inline)) uint64_t
ipv6_hdr_pseudo_native(const ipv6_hdr *h, uint8_t proto, uint32_t len)
{
	assert(h->asum == addr6_pair_sum(h->src, h->dst));
	return csum_pseudo6_asum_native(h->asum, proto, len);
}
/* Writes the 40-byte header: 40 or WIRE_ERR_SPACE. */
int ipv6_emit(const ipv6_hdr *h, uint8_t *buf, size_t cap);

/* ---- the extension-header chain (RFC 8200 §4) ---- */

/* Extension headers walked at most in one packet (atomic fragments and
 * headers with segments left 0 included): a chain longer than this is
 * dropped (WIRE_ERR_EXT_LIMIT). Eight is the limit RFC 9098 discusses and
 * far more than any real sender uses. */
enum { IPV6_MAX_EXT_HDRS = 8 };
/* Unknown options skipped (action 00) per options header, and padding
 * bytes in a row, before the header is refused as malformed (Linux's
 * max_{hbh,dst}_opts_cnt and its RFC 4942 padding check). */
enum { IPV6_MAX_SKIP_OPTS = 8, IPV6_MAX_PAD = 7 };

/* ICMPv6 parameter problem codes (RFC 4443 §3.4, RFC 7112). */
enum {
	ICMP6_PP_HEADER = 0,      /* erroneous header field */
	ICMP6_PP_NEXTHDR = 1,     /* unrecognized next header */
	ICMP6_PP_OPTION = 2,      /* unrecognized IPv6 option */
	ICMP6_PP_INCOMPLETE = 3,  /* first fragment lacks the header chain */
};

typedef struct ipv6_frag {
	uint32_t id;
	uint16_t off;             /* bytes (a multiple of 8) */
	bool more;                /* M flag */
	uint8_t next;             /* next header of the fragmentable part */
} ipv6_frag;

/* What a walk found. Offsets count from the start of the IPv6 header. */
typedef struct ipv6_chain {
	uint8_t proto;            /* the upper-layer protocol, or IP_PROTO_NONE
				   * (59: nothing to deliver) */
	uint8_t nhdrs;            /* extension headers walked */
	uint32_t off;             /* where the upper-layer header starts */
	uint32_t proto_ptr;       /* offset of the byte that named proto (the
				   * pointer of a code 1 for an unknown one) */
	/* A fragment (not atomic): the walk stopped after its header. */
	bool is_frag;
	uint32_t frag_hdr;        /* offset of the fragment header */
	uint32_t frag_nh_ptr;     /* offset of the byte that named it (44) */
	ipv6_frag frag;
	/* On WIRE_ERR_PARAMPROB: what to answer (RFC 8200 §4, RFC 4443 §3.4)
	 * when pp_send is set (an option of action 01 is dropped silently;
	 * action 11 answers only a unicast destination). */
	bool pp_send;
	uint8_t pp_code;
	uint32_t pp_ptr;
} ipv6_chain;

enum {
	IPV6_WALK_DST_MCAST = 1,  /* the packet was sent to a multicast group */
};

/*
 * Walks the extension headers of the packet pkt[0..len) (an IPv6 header
 * with its payload length already checked) from offset `off`, where a
 * header of type `nh` starts, whose type was read from pkt[nh_ptr]: (40,
 * pkt[6], 6) for a packet as it arrived; after reassembly, from the end of
 * the unfragmentable part. Processes, in order:
 *   hop-by-hop options: only right after the IPv6 header, else parameter
 *     problem code 1 at nh_ptr; options as below;
 *   destination options: each option by the two high bits of its type
 *     (00 skip, 01 drop, 10 drop and code 2 at the option, 11 the same but
 *     only for a unicast destination); Pad1/PadN; unknown-but-skipped
 *     options and padding bounded as above;
 *   routing: segments left 0 is ignored; any other is refused with code 0
 *     at the routing type (we forward nothing; RFC 5095 makes type 0 such a
 *     type);
 *   fragment: an atomic fragment (offset 0, M clear, RFC 6946) is skipped
 *     like an empty header; a real one ends the walk (is_frag), after,
 *     for a first fragment, a check that the rest of the chain and the
 *     upper-layer header's first bytes (TCP 20, ICMPv6 8, else 1) are in
 *     this packet (RFC 8200 §4.5, RFC 7112: code 3, pointer 0). A
 *     non-last fragment whose length is not a multiple of 8 is code 0 at
 *     the payload length (4); one that would end past 65,535 bytes code 0
 *     at the fragment offset;
 *   anything else is the upper-layer protocol (proto, off) — known to the
 *     caller or answered with code 1 (ICMP6_PP_NEXTHDR) by it.
 * Returns WIRE_OK, WIRE_ERR_EXTHDR (truncated or malformed: drop),
 * WIRE_ERR_EXT_LIMIT, or WIRE_ERR_PARAMPROB with pp_* filled in.
 */
int ipv6_walk(const uint8_t *pkt, size_t len, size_t off, uint8_t nh,
	      size_t nh_ptr, unsigned flags, ipv6_chain *c);

/* ---- ICMPv6 (RFC 4443) ---- */
enum {
	ICMP6_DEST_UNREACH = 1, ICMP6_PACKET_TOO_BIG = 2, ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAM_PROB = 4, ICMP6_ECHO_REQUEST = 128, ICMP6_ECHO_REPLY = 129,
	ND_ROUTER_SOLICIT = 133, ND_ROUTER_ADVERT = 134, ND_NEIGHBOR_SOLICIT = 135,
	ND_NEIGHBOR_ADVERT = 136, ND_REDIRECT = 137,
};
enum {
	ICMP6_UNREACH_NOROUTE = 0, ICMP6_UNREACH_ADMIN = 1, ICMP6_UNREACH_BEYOND = 2,
	ICMP6_UNREACH_ADDR = 3, ICMP6_UNREACH_PORT = 4,
};
enum { ICMP6_EXC_HOPLIMIT = 0, ICMP6_EXC_FRAGTIME = 1 };
/* An ICMPv6 error holds as much of the offending packet as fits in the
 * minimum MTU (RFC 4443 §2.4(c)). */
enum { ICMP6_ERR_QUOTE_MAX = IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP_HDR_LEN };
static inline bool icmp6_is_error(uint8_t type) { return type < 128; }

/* ICMPv6 shares ICMP's 8-byte layout (icmp_hdr: type, code, checksum, and
 * 32 bits of id/seq, MTU or pointer). The checksum covers the IPv6
 * pseudo-header of src, dst: WIRE_OK, WIRE_ERR_SHORT or
 * WIRE_ERR_ICMP_CSUM. */
int icmp6_parse(const uint8_t *buf, size_t len, const uint8_t src[16],
		const uint8_t dst[16], icmp_hdr *h, const uint8_t **body,
		size_t *body_len);
/* Header + body with the checksum; bytes written or WIRE_ERR_SPACE. body
 * may overlap buf (a quote already in place). */
int icmp6_emit(const icmp_hdr *h, const uint8_t *body, size_t body_len,
	       const uint8_t src[16], const uint8_t dst[16], uint8_t *buf, size_t cap);

/* ---- Neighbor Discovery (RFC 4861) ---- */
enum { ND_MAC_LEN = 6, ND_MAX_PREFIXES = 4 };
enum { ND_NA_ROUTER = 0x80000000u, ND_NA_SOLICITED = 0x40000000u,
       ND_NA_OVERRIDE = 0x20000000u };
enum { ND_OPT_SLLA = 1, ND_OPT_TLLA = 2, ND_OPT_PREFIX = 3, ND_OPT_MTU = 5,
       ND_OPT_NONCE = 14 };

typedef struct nd_prefix {
	uint8_t len;              /* prefix length */
	uint8_t flags;            /* 0x80 on-link (L), 0x40 autonomous (A) */
	uint32_t valid, preferred;
	uint8_t prefix[16];
} nd_prefix;

typedef struct nd_msg {
	uint8_t type;             /* ND_* */
	uint32_t flags;           /* NA: ND_NA_*; RA: M/O in the top byte */
	uint8_t target[16];       /* NS, NA */
	/* RA */
	uint8_t cur_hop_limit;
	uint16_t router_lifetime; /* seconds; 0: not a default router */
	uint32_t reachable_ms, retrans_ms;
	/* options (the first of each kind; unknown kinds skipped) */
	bool has_sll, has_tll, has_mtu, has_nonce;
	uint8_t sll[ND_MAC_LEN], tll[ND_MAC_LEN];
	uint8_t nonce[6];         /* NS: RFC 7527's (6 bytes, the size Linux
				   * sends; other sizes are ignored) */
	uint32_t mtu;
	uint8_t nprefix;          /* prefix information options kept */
	nd_prefix prefix[ND_MAX_PREFIXES];
} nd_msg;

/* Validates an RS, RA, NS or NA (RFC 4861 §6.1, §7.1) whose ICMPv6
 * checksum icmp6_parse has already verified: ip is the packet's header,
 * msg/len the whole ICMPv6 message. Checks the hop limit (255), code 0,
 * the message's length, every option's length (non-zero, within the
 * message), that a target is not multicast, that an NS from :: goes to a
 * solicited-node group with no source link-layer option, that an NA to a
 * multicast group has S clear, that an RA comes from a link-local source.
 * WIRE_OK or WIRE_ERR_ND (WIRE_ERR_PROTO for another ICMPv6 type). */
int nd_parse(const ipv6_hdr *ip, const uint8_t *msg, size_t len, nd_msg *m);
/* Writes an NS (m->target, SLLA when has_sll, nonce when has_nonce) or NA (flags, target, TLLA
 * when has_tll) or RS (SLLA when has_sll) as a complete ICMPv6 message
 * with its checksum for src -> dst: bytes written, WIRE_ERR_SPACE, or
 * WIRE_ERR_PROTO for another type. */
int nd_emit(const nd_msg *m, const uint8_t src[16], const uint8_t dst[16],
	    uint8_t *buf, size_t cap);

/* ---- addresses (RFC 4291) ---- */
static inline bool ip6_is_unspecified(const uint8_t a[16])
{
	static const uint8_t z[16];
	return memcmp(a, z, 16) == 0;
}
static inline bool ip6_is_loopback(const uint8_t a[16])
{
	static const uint8_t lo[16] = { [15] = 1 };
	return memcmp(a, lo, 16) == 0;
}
static inline bool ip6_is_multicast(const uint8_t a[16]) { return a[0] == 0xff; }
static inline bool ip6_is_linklocal(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
/* ::ffff:0:0/96 — an IPv4 address in IPv6 clothes: never on the wire
 * (RFC 4291 §2.5.5.2, RFC 6890). */
static inline bool ip6_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t p[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a, p, 12) == 0;
}
/* ::/96 but :: and ::1 — the deprecated IPv4-compatible addresses. */
static inline bool ip6_is_v4compat(const uint8_t a[16])
{
	static const uint8_t z[12];
	return memcmp(a, z, 12) == 0 && !ip6_is_unspecified(a) && !ip6_is_loopback(a);
}
/* ff02::1, all nodes on the link. */
static inline bool ip6_is_all_nodes(const uint8_t a[16])
{
	static const uint8_t an[16] = { 0xff, 0x02, [15] = 1 };
	return memcmp(a, an, 16) == 0;
}
/* The solicited-node group of a (ff02::1:ffXX:XXXX, RFC 4291 §2.7.1). */
static inline void ip6_solicited_node(const uint8_t a[16], uint8_t out[16])
{
	static const uint8_t p[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	memcpy(out, p, 13);
	memcpy(out + 13, a + 13, 3);
}
static inline bool ip6_is_solicited_node(const uint8_t a[16])
{
	static const uint8_t p[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	return memcmp(a, p, 13) == 0;
}
/* The Ethernet address of a multicast group (RFC 2464 §7): 33:33 and its
 * low 32 bits. */
static inline void ip6_mcast_mac(const uint8_t a[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}
/* fe80::/64 with the modified EUI-64 interface identifier of mac (RFC 4291
 * §2.5.1 and appendix A, RFC 2464 §4-5). */
static inline void ip6_linklocal_eui64(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}
/* a and b share their first plen bits. */
static inline bool ip6_prefix_eq(const uint8_t a[16], const uint8_t b[16], unsigned plen)
{
	unsigned n = plen / 8, r = plen % 8;

	if (plen > 128)
		return false;
	if (memcmp(a, b, n))
		return false;
	return !r || ((a[n] ^ b[n]) & (uint8_t)(0xff << (8 - r))) == 0;
}

#endif
