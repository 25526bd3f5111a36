/*
 * wire: bytes <-> host-order structs, and nothing else (no state).
 *
 * Contract (as smoltcp's wire/mod.rs): a *_parse function checks every length
 * before it reads, so no accessor can read out of bounds; it returns
 * WIRE_OK or a negative wire_err naming the counted reason. A *_emit function
 * writes into a caller buffer whose size it checks, and returns the bytes
 * written or a negative wire_err. Multi-byte fields in the structs are in
 * host byte order.
 */
#ifndef HSK_WIRE_H
#define HSK_WIRE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/csum.h"
#include "handshake.h"          /* HSK_TH_* */

enum wire_err {
	WIRE_OK = 0,
	WIRE_ERR_SHORT = -1,          /* buffer shorter than a header */
	WIRE_ERR_VERSION = -2,        /* IP version not the one parsed */
	WIRE_ERR_IHL = -3,            /* IP header length < 20 or past the end */
	WIRE_ERR_TOTLEN = -4,         /* IP total length < IHL or > buffer */
	WIRE_ERR_IP_CSUM = -5,        /* IP header checksum */
	WIRE_ERR_FRAGMENT = -6,       /* a fragment (MF set or offset != 0) */
	WIRE_ERR_DOFF = -7,           /* TCP data offset < 5 or past the end */
	WIRE_ERR_OPTLEN = -8,         /* TCP option length 0/1/past the end/wrong */
	WIRE_ERR_MSS_ZERO = -9,       /* MSS option of 0 */
	WIRE_ERR_TCP_CSUM = -10,      /* TCP checksum */
	WIRE_ERR_SYN_FIN = -11,       /* SYN and FIN together */
	WIRE_ERR_SPACE = -12,         /* emit: output buffer too small */
	WIRE_ERR_PROTO = -13,         /* not the protocol asked for */
	WIRE_ERR_ADDR = -14,          /* source is broadcast/multicast/zero */
	WIRE_ERR_ICMP_CSUM = -15,     /* ICMP checksum */
	/* IPv6 (wire/ipv6.h) */
	WIRE_ERR_EXTHDR = -16,        /* extension header or option truncated
				       * or malformed */
	WIRE_ERR_EXT_LIMIT = -17,     /* more extension headers than we walk */
	WIRE_ERR_PARAMPROB = -18,     /* refused as RFC 8200 says: an ICMPv6
				       * parameter problem may be owed */
	WIRE_ERR_ND = -19,            /* ND message failing RFC 4861's checks */
	WIRE_ERR_COUNT = 20
};
/* "short", "tcp_bad_csum", ...: the name a drop is counted under;
 * "unknown" for a value that is not a wire_err. */
const char *wire_err_name(int err);

/* ---- checksums: core/csum.h (RFC 1071, RFC 1624) ---- */

/* ---- IPv4 (RFC 791) ---- */
enum { IP_PROTO_ICMP = 1, IP_PROTO_TCP = 6, IP_PROTO_UDP = 17 };
enum { IPV4_HDR_LEN = 20 };
enum { IPV4_DF = 0x4000, IPV4_MF = 0x2000, IPV4_FRAG_MASK = 0x1fff };

typedef struct ipv4_hdr {
	uint8_t ihl;          /* header length in bytes (20..60) */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag;        /* flags (DF/MF) and offset in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src, dst;
	/* src + dst in 64 bits, for a pseudo-header: set with them by the
	 * parse and by the IP layer's input for the header it hands up (TCP's
	 * checksum starts from it; emit does not read it) */
	uint64_t asum;
} ipv4_hdr;

/* Parses and checks the header, in this order: WIRE_ERR_SHORT (len < 20),
 * WIRE_ERR_VERSION, WIRE_ERR_IHL (< 20 or > len), WIRE_ERR_TOTLEN (< IHL or
 * > len), WIRE_ERR_IP_CSUM, WIRE_ERR_ADDR (source 0.0.0.0, 255.255.255.255
 * or 224.0.0.0/4). IP options are skipped, not interpreted. Fragments parse
 * fine; callers decide about them. On success *payload, *payload_len describe
 * the bytes after the header up to total_len (trailing link padding is
 * excluded). */
int ipv4_parse(const uint8_t *buf, size_t len, ipv4_hdr *h,
	       const uint8_t **payload, size_t *payload_len);
/* Writes a 20-byte header (no options) with its checksum; h->ihl, h->csum
 * are ignored. Returns 20 or WIRE_ERR_SPACE. */
int ipv4_emit(const ipv4_hdr *h, uint8_t *buf, size_t cap);
static inline bool ipv4_is_fragment(const ipv4_hdr *h)
{
	return (h->frag & (IPV4_MF | IPV4_FRAG_MASK)) != 0;
}

/* The pseudo-header's sum of a header handed up, as csum_pseudo_native
 * gives it for its addresses, from their sum kept with them. */
static inline __attribute__((always_inline)) uint64_t
ipv4_hdr_pseudo_native(const ipv4_hdr *h, uint8_t proto, uint32_t len)
{
	assert(h->asum == (uint64_t)h->src + h->dst);
	return csum_native(h->asum + proto + len);
}

/* ---- TCP (RFC 9293) and options ---- */
enum { TCP_HDR_LEN = 20, TCP_MAX_OPT_LEN = 40 };
enum {
	TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_WSCALE = 3,
	TCPOPT_SACK_PERM = 4, TCPOPT_SACK = 5, TCPOPT_TIMESTAMP = 8,
	TCPOPT_FASTOPEN = 34,         /* RFC 7413 TCP Fast Open cookie */
};
/* A Fast Open cookie: 4 to 16 bytes, an even number (RFC 7413 §4.1.1). */
enum { TCP_FO_COOKIE_MIN = 4, TCP_FO_COOKIE_MAX = 16 };
enum { TCP_MAX_SACK_BLOCKS = 4 };

typedef struct tcp_sack_block {
	uint32_t left, right;
} tcp_sack_block;

typedef struct tcp_opts {
	uint16_t mss;         /* 0: absent */
	int8_t wscale;        /* -1: absent; values > 14 are kept, callers clamp */
	bool sack_ok;
	bool has_ts;
	uint8_t nsack;        /* SACK blocks present (0..4) */
	/* RFC 7413 Fast Open: has_fo with fo_len 0 is a cookie request; a
	 * cookie is fo_len (4..16, even) bytes at fo_cookie (parsed: inside
	 * the segment; emitted: wherever the caller keeps it). An option of
	 * another length is ignored, as Linux does. Zeroed: absent. */
	bool has_fo;
	uint8_t fo_len;
	uint32_t ts_val, ts_ecr;
	const uint8_t *fo_cookie;
	tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
} tcp_opts;

typedef struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;         /* header length in bytes (20..60) */
	uint8_t flags;        /* HSK_TH_* */
	uint16_t win;
	uint16_t csum;
	uint16_t urp;
	tcp_opts opt;
} tcp_hdr;

/* Parses a TCP segment of `len` bytes (IP payload). Checks, in this order:
 * WIRE_ERR_SHORT (len < 20), WIRE_ERR_DOFF (< 20 or > len), when verify_csum
 * is set WIRE_ERR_TCP_CSUM (against the pseudo-header of src/dst),
 * WIRE_ERR_SYN_FIN, then the options: WIRE_ERR_OPTLEN, WIRE_ERR_MSS_ZERO
 * (unknown options are skipped by length). On success *payload, *payload_len
 * are the data bytes. */
int tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
	      bool verify_csum, tcp_hdr *h, const uint8_t **payload,
	      size_t *payload_len);
/* tcp_parse without the payload's part of the checksum, for a caller that
 * sums the payload while copying it (csum_copy, ring_write_at_csum): the
 * same checks and results as tcp_parse(verify_csum = true) except that on
 * WIRE_OK the checksum is not yet verified; *hsum is the sum of the
 * pseudo-header and the TCP header with its options, and the segment is
 * intact when csum_fold(csum_add(*hsum, sum of the payload)) == 0 (the
 * payload starts at an even offset). The caller must not act on the
 * segment before that check. A segment failing a later check (SYN+FIN,
 * options) has its whole checksum verified first, so a corrupted one is
 * counted as WIRE_ERR_TCP_CSUM, as tcp_parse counts it. */
int tcp_parse_hsum(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
		   tcp_hdr *h, const uint8_t **payload, size_t *payload_len,
		   uint32_t *hsum);
/* Bytes the options in `o` take on the wire, padded to a multiple of 4
 * (SACK blocks that do not fit in 40 bytes are left off from the end; the
 * first always fits unless a Fast Open cookie, which only SYNs carry,
 * takes the room). */
size_t tcp_opts_len(const tcp_opts *o);
/* Options absent: mss 0, wscale -1, no SACK_PERM, no timestamps, no blocks,
 * no Fast Open. */
void tcp_opts_init(tcp_opts *o);
/* Parses `len` bytes of option space (as tcp_parse does); WIRE_OK,
 * WIRE_ERR_OPTLEN or WIRE_ERR_MSS_ZERO. The layouts of nearly every
 * segment (timestamps alone; a SYN's MSS, SACK_PERM + TS, WSCALE) take a
 * path without the loop; the result is always tcp_opts_parse_all's. */
int tcp_opts_parse(const uint8_t *p, size_t len, tcp_opts *o);
/* The general parser: any order, unknown kinds skipped by length. */
int tcp_opts_parse_all(const uint8_t *p, size_t len, tcp_opts *o);
/* Writes the options in Linux order (Fast Open last, NOP-padded to a
 * multiple of 4 as Linux pads it); returns tcp_opts_len(o). */
size_t tcp_opts_write(const tcp_opts *o, uint8_t *p);
/* Writes header + options + payload and the checksum. h->doff and h->csum
 * are computed. Returns bytes written or WIRE_ERR_SPACE. The option order
 * is the one Linux uses (MSS, SACK_PERM+TS or NOP NOP TS, NOP WSCALE, SACK).
 * A payload already at buf + 20 + tcp_opts_len() is not copied. */
int tcp_emit(const tcp_hdr *h, const uint8_t *payload, size_t payload_len,
	     uint32_t src, uint32_t dst, uint8_t *buf, size_t cap);
/* tcp_emit for a payload already in place at buf + 20 + tcp_opts_len()
 * whose sum is known (from csum_copy or ring_peek_csum, which put it
 * there): only the header is summed. Same returns as tcp_emit. */
int tcp_emit_summed(const tcp_hdr *h, size_t payload_len, uint32_t payload_sum,
		    uint32_t src, uint32_t dst, uint8_t *buf, size_t cap);

/* The same four for either family: psum is the pseudo-header's sum
 * without the length, csum_pseudo(src, dst, IP_PROTO_TCP, 0) for IPv4 or
 * csum_pseudo6(src, dst, IP_PROTO_TCP, 0) for IPv6 (RFC 8200 §8.1); the
 * functions add the segment's length, as the IPv4 ones do. */
int tcp_parse_ps(const uint8_t *buf, size_t len, uint32_t psum, bool verify_csum,
		 tcp_hdr *h, const uint8_t **payload, size_t *payload_len);
int tcp_parse_hsum_ps(const uint8_t *buf, size_t len, uint32_t psum, tcp_hdr *h,
		      const uint8_t **payload, size_t *payload_len, uint32_t *hsum);
int tcp_emit_ps(const tcp_hdr *h, const uint8_t *payload, size_t payload_len,
		uint32_t psum, uint8_t *buf, size_t cap);
int tcp_emit_summed_ps(const tcp_hdr *h, size_t payload_len, uint32_t payload_sum,
		       uint32_t psum, uint8_t *buf, size_t cap);

/* ---- ICMP (RFC 792), the parts TCP needs ---- */
enum { ICMP_ECHO_REPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO_REQUEST = 8,
       ICMP_TIME_EXCEEDED = 11 };
enum { ICMP_UNREACH_NET = 0, ICMP_UNREACH_HOST = 1, ICMP_UNREACH_PROTO = 2,
       ICMP_UNREACH_PORT = 3, ICMP_UNREACH_NEEDFRAG = 4 };
/* time exceeded: in transit (TTL), in fragment reassembly */
enum { ICMP_EXC_TTL = 0, ICMP_EXC_FRAGTIME = 1 };
enum { ICMP_HDR_LEN = 8 };

typedef struct icmp_hdr {
	uint8_t type, code;
	uint16_t csum;
	uint32_t rest;        /* id/seq for echo, next-hop MTU in the low 16 bits
			       * for fragmentation-needed */
} icmp_hdr;

/* Checks length and checksum over the whole message: WIRE_OK,
 * WIRE_ERR_SHORT or WIRE_ERR_ICMP_CSUM. */
int icmp_parse(const uint8_t *buf, size_t len, icmp_hdr *h,
	       const uint8_t **body, size_t *body_len);
/* Header + body with checksum; returns bytes written or WIRE_ERR_SPACE.
 * `body` may overlap `buf` (e.g. a quoted packet already in place). */
int icmp_emit(const icmp_hdr *h, const uint8_t *body, size_t body_len,
	      uint8_t *buf, size_t cap);

/* ---- byte helpers ---- */
/* Big-endian loads and stores at any alignment: one move and a byte swap
 * (the compiler does not always merge the byte-wise form of a store). */
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}
static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}
static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}
static inline void wr64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}
#else
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}
#endif

/* A source address no packet may carry: 0.0.0.0, the limited broadcast
 * 255.255.255.255, or a multicast group (224.0.0.0/4). RFC 1122 3.2.1.3. */
static inline bool ipv4_bad_src(uint32_t a)
{
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe;
}

/* A ones'-complement sum in 64 bits (end-around carry), not 0, folds to
 * all ones (sum_fold64(s) == 0xffff, the check of a received checksum)
 * exactly when s is a multiple of 0xffff: 2^64 - 1 is one, so s is
 * congruent modulo 0xffff to the sum it stands for, and the fold is that
 * sum's representative in 1..0xffff. A multiply and a compare (gcc's
 * test of divisibility by an odd constant) instead of the fold's eight
 * instructions and its compare; test_syn_fast holds it to the fold. */
static inline bool sum_all_ones(uint64_t s)
{
	return s % 0xffff == 0;
}

/* The header's checksum is right: its 32-bit words (ihl is a multiple of
 * 4) summed in 64 bits, all ones in either byte order (sum_all_ones: the
 * version makes the sum non-zero). Inline, so that the parser calls
 * nothing and needs no stack frame. */
static inline bool hdr_sum_ok(const uint8_t *p, size_t ihl)
{
	uint64_t s = 0;
	if (ihl == IPV4_HDR_LEN) {
		/* the usual header, without options: two 8-byte words and
		 * the last 4 bytes, no loop */
		uint32_t w4;
		memcpy(&w4, p + 16, 4);
		s = sum_words8(p, 2, w4);
	} else {
		for (size_t i = 0; i < ihl; i += 4) {
			uint32_t w;
			memcpy(&w, p + i, 4);
			s += w;
		}
	}
	return sum_all_ones(s);
}

/* The checks of ipv4_parse before the source's, in its order (length,
 * version, header length, total length, header checksum), inline for the
 * IP layer's input: the header length (20..60) and *total the total
 * length, or an error. ipv4_parse checks the source next (ipv4_bad_src);
 * the IP layer's martian test covers that one. */
static inline __attribute__((always_inline)) int ipv4_hdr_check(const uint8_t *buf, size_t len,
								size_t *total)
{
	if (len < IPV4_HDR_LEN)
		return WIRE_ERR_SHORT;
	size_t ihl = IPV4_HDR_LEN;
	if (buf[0] != (4 << 4 | IPV4_HDR_LEN / 4)) {   /* not the usual 0x45 */
		if (buf[0] >> 4 != 4)
			return WIRE_ERR_VERSION;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (ihl < IPV4_HDR_LEN || ihl > len)
			return WIRE_ERR_IHL;
	}
	size_t t = rd16(buf + 2);
	if (t < ihl || t > len)
		return WIRE_ERR_TOTLEN;
	if (!hdr_sum_ok(buf, ihl))
		return WIRE_ERR_IP_CSUM;
	*total = t;
	return (int)ihl;
}

/* Segments of at most TCP_SUM_SHORT bytes, a multiple of 4 (a SYN, a
 * SYN-ACK, a bare ACK, a FIN, a request of up to 64 bytes with
 * timestamps), are summed inline rather than by csum_partial: no call,
 * no loop (sum_words8 takes up to 15 words and the last 4 bytes). */
enum { TCP_SUM_SHORT = 124 };
static inline bool tcp_sum_short(size_t len)
{
	return len <= TCP_SUM_SHORT && !(len & 3);
}

/* The ones'-complement sum of such a segment (at least 20 bytes) and of
 * ns, in 64 bits, in host byte order: 64-bit words with end-around carry
 * (add, adc), the last 4 bytes alone when len is not a multiple of 8. ns
 * is the pseudo-header's sum with the length as host-order words
 * (csum_native: csum_pseudo_native, csum_pseudo6_native): any 64-bit
 * value but 0. Never 0: an end-around carry never makes a sum 0. */
static inline __attribute__((always_inline)) uint64_t tcp_sum_words(const uint8_t *buf,
								    size_t len, uint64_t ns)
{
	uint64_t s = ns;
	if (len & 4) {
		uint32_t w4;
		memcpy(&w4, buf + len - 4, 4);
		bool c = __builtin_add_overflow(s, (uint64_t)w4, &s);
		s += c;
	}
	return sum_words8(buf, len >> 3, s);
}

/* The same with the pseudo-header's sum psum + len (big-endian words). */
static inline __attribute__((always_inline)) uint64_t tcp_sum_native64(const uint8_t *buf,
								       size_t len, uint32_t psum)
{
	return tcp_sum_words(buf, len, csum_native((uint64_t)psum + len));
}

/* The same folded to 16 bits (never 0). */
static inline __attribute__((always_inline)) uint32_t tcp_sum_native(const uint8_t *buf,
								     size_t len, uint32_t psum)
{
	return sum_fold64(tcp_sum_native64(buf, len, psum));
}

/* The checksum of a segment of len >= 20 bytes is right (psum: the
 * pseudo-header's sum without the length): tcp_parse's check. A short
 * segment's sum is all ones in either byte order when csum_partial's is. */
static inline __attribute__((always_inline)) bool tcp_sum_ok(const uint8_t *buf, size_t len,
							     uint32_t psum)
{
	if (tcp_sum_short(len))
		return sum_all_ones(tcp_sum_native64(buf, len, psum));
	return len <= 0xffff && csum_fold(csum_partial(buf, len, psum + (uint32_t)len)) == 0;
}

/* The checksum field of a segment of len >= 20 bytes whose own is 0:
 * csum_fold(csum_partial(buf, len, psum + len)), bit for bit (both sums
 * are non-zero, so both fold to the same value in 1..0xffff). */
static inline __attribute__((always_inline)) uint16_t tcp_sum_field(const uint8_t *buf,
								    size_t len, uint32_t psum)
{
	if (!tcp_sum_short(len))
		return csum_fold(csum_partial(buf, len, psum + (uint32_t)len));
	uint32_t s = tcp_sum_native(buf, len, psum);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s & 0xff) << 8 | s >> 8;
#endif
	return (uint16_t)~s;
}

/* The option layouts nearly every segment carries, as Linux and this
 * stack write them, parsed without the loop, inline for the TCP input:
 * none, TS alone (NOP NOP TS: every segment of a connection with
 * timestamps), and a SYN's or SYN-ACK's MSS, SACK_PERM + TS, NOP WSCALE
 * with a non-zero MSS. true: *o is what tcp_opts_parse_all gives; false:
 * another layout (or an MSS of 0), for the general parser (which sets *o
 * afresh). */
static inline __attribute__((always_inline)) bool tcp_opts_fast(const uint8_t *p, size_t len,
								tcp_opts *o)
{
	enum {
		W_NOP_NOP_TS = TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_TIMESTAMP << 8 | 10,
		W_SACKP_TS = TCPOPT_SACK_PERM << 24 | 2 << 16 | TCPOPT_TIMESTAMP << 8 | 10,
		W_NOP_WSCALE = TCPOPT_NOP << 16 | TCPOPT_WSCALE << 8 | 3,
		/* mss .. fo_len: 8 bytes, set with one store (sack[] is read
		 * only below nsack) */
		HEAD = offsetof(tcp_opts, ts_val),
	};
	_Static_assert(offsetof(tcp_opts, ts_val) == 8 && offsetof(tcp_opts, fo_len) == 7,
		       "the small fields of tcp_opts are its first 8 bytes");
	static const tcp_opts ts_alone = { .wscale = -1, .has_ts = true };
	static const tcp_opts none = { .wscale = -1 };
	static const tcp_opts syn = { .sack_ok = true, .has_ts = true };
	o->fo_cookie = NULL;
	uint32_t w = 0;
	if (len == 12 && (w = rd32(p)) == (uint32_t)W_NOP_NOP_TS) {
		memcpy(o, &ts_alone, HEAD);
		o->ts_val = rd32(p + 4);
		o->ts_ecr = rd32(p + 8);
		return true;
	}
	if (len == 0) {
		memcpy(o, &none, HEAD + 8);     /* and ts_val, ts_ecr 0 */
		return true;
	}
	if (len == 20 && (w = rd32(p)) >> 16 == (TCPOPT_MSS << 8 | 4) && (w & 0xffff) &&
	    rd32(p + 4) == (uint32_t)W_SACKP_TS && rd32(p + 16) >> 8 == (uint32_t)W_NOP_WSCALE) {
		memcpy(o, &syn, HEAD);
		o->mss = (uint16_t)w;
		o->wscale = (int8_t)(p[19] > 127 ? 127 : p[19]);
		o->ts_val = rd32(p + 8);
		o->ts_ecr = rd32(p + 12);
		return true;
	}
	return false;
}

/* The checks and fields after the checksum (SYN+FIN, options). The data
 * offset and checksum fields, which the engine never reads (it has the
 * payload), and the urgent pointer of a segment without URG are left to
 * tcp_parse_unread (the parse functions of tcp.c). */
static inline __attribute__((always_inline)) int tcp_parse_rest(const uint8_t *buf, size_t len, size_t doff, tcp_hdr *h,
		      const uint8_t **payload, size_t *payload_len)
{
	uint8_t flags = buf[13];
	if ((flags & (HSK_TH_SYN | HSK_TH_FIN)) == (HSK_TH_SYN | HSK_TH_FIN))
		return WIRE_ERR_SYN_FIN;
	if (!tcp_opts_fast(buf + TCP_HDR_LEN, doff - TCP_HDR_LEN, &h->opt)) {
		int err = tcp_opts_parse_all(buf + TCP_HDR_LEN, doff - TCP_HDR_LEN, &h->opt);
		if (err)
			return err;
	}

	h->sport = rd16(buf);
	h->dport = rd16(buf + 2);
	h->seq = rd32(buf + 4);
	h->ack = rd32(buf + 8);
	h->flags = flags;
	h->win = rd16(buf + 14);
	/* the urgent pointer only with URG (urgent.c): the one read a
	 * segment without it would not need */
	if (__builtin_expect(flags & HSK_TH_URG, 0))
		h->urp = rd16(buf + 18);
	*payload = buf + doff;
	*payload_len = len - doff;
	return WIRE_OK;
}

/* The fields tcp_parse_rest leaves out (of a header tcp_parse_doff
 * passed). */
static inline void tcp_parse_unread(const uint8_t *buf, tcp_hdr *h)
{
	h->doff = (uint8_t)((buf[12] >> 4) * 4);
	h->csum = rd16(buf + 16);
	h->urp = rd16(buf + 18);
}

/* The lengths every parse checks first; the data offset, or an error. */
static inline __attribute__((always_inline)) int tcp_parse_doff(const uint8_t *buf, size_t len, size_t *doff)
{
	if (len < TCP_HDR_LEN)
		return WIRE_ERR_SHORT;
	*doff = (size_t)(buf[12] >> 4) * 4;
	if (*doff < TCP_HDR_LEN || *doff > len)
		return WIRE_ERR_DOFF;
	return WIRE_OK;
}

/* The pseudo-header sum psum (without the length: both families' sums
 * take the segment length as a 16-bit term below 64 KiB) and the parse. */
static inline __attribute__((always_inline)) int tcp_parse_ps_inline(const uint8_t *buf, size_t len, uint32_t psum,
							  bool verify_csum, tcp_hdr *h,
							  const uint8_t **payload, size_t *payload_len)
{
	size_t doff;
	int err = tcp_parse_doff(buf, len, &doff);
	if (err)
		return err;
	/* An IPv4 payload is below 64 KiB; a longer buffer cannot be checked
	 * against a 16-bit pseudo-header length (nor an IPv6 one without a
	 * jumbogram, which we do not take). */
	if (verify_csum && !tcp_sum_ok(buf, len, psum))
		return WIRE_ERR_TCP_CSUM;
	return tcp_parse_rest(buf, len, doff, h, payload, payload_len);
}

/* The sum (as csum_partial gives it: big-endian words, not folded, not
 * 0 unless all is 0) of a TCP header of doff bytes (a multiple of 4,
 * 20..60: tcp_parse_doff checked it) plus ns, the pseudo-header's sum
 * with the length as host-order words (tcp_sum_words): inline, instead of
 * a call to csum_partial for 32 bytes. */
static inline __attribute__((always_inline)) uint32_t tcp_hdr_sum_native(const uint8_t *buf,
									size_t doff, uint64_t ns)
{
	uint64_t s = tcp_sum_words(buf, doff, ns);
	/* to 32 bits with end-around carry; on a little-endian host a
	 * rotation by 8 makes it a sum of big-endian words (csum.c: finish) */
	uint32_t v = (uint32_t)s, hi = (uint32_t)(s >> 32);
	v += hi;
	v += v < hi;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = v >> 8 | v << 24;
#endif
	return v;
}

/* The same plus ps, a sum of big-endian words (the pseudo-header's with
 * the length). */
static inline __attribute__((always_inline)) uint32_t tcp_hdr_sum(const uint8_t *buf, size_t doff,
								 uint32_t ps)
{
	return tcp_hdr_sum_native(buf, doff, csum_native(ps));
}

/* ns (host-order words, csum_native) as a sum of big-endian words: folded
 * to 16 bits and, on a little-endian host, byte-swapped. */
static inline uint32_t csum_of_native(uint64_t ns)
{
	uint32_t v = sum_fold64(ns);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = (v >> 8 | v << 8) & 0xffff;
#endif
	return v;
}

/* tcp_parse_ps_inline for the TCP input, which verifies a payload of at
 * least fuse_min bytes while it copies it: for such a segment the
 * checksum is not verified here; *hsum is the pseudo-header and header
 * sum (tcp_parse_hsum's) and the return 1. Otherwise tcp_parse_ps_inline
 * with the checksum verified (WIRE_OK), or an error. h->csum and h->urp
 * are not set (tcp_parse_rest). The pseudo-header's sum comes as ns, its
 * length len included, in host-order words (csum_pseudo_native,
 * csum_pseudo6_native): the short segments' sum starts from it, with no
 * fold and no byte swap of the pseudo-header's. */
static inline __attribute__((always_inline)) int
tcp_parse_fuse_inline(const uint8_t *buf, size_t len, uint64_t ns, size_t fuse_min, tcp_hdr *h,
		      const uint8_t **payload, size_t *payload_len, uint32_t *hsum)
{
	/* A header of 32 bytes (the data offset 8: timestamps alone, as
	 * nearly every segment carries them) and nothing after it: an ACK, a
	 * FIN, most segments of a short connection and every ACK of a
	 * transfer. Its lengths pass tcp_parse_doff's tests and it is below
	 * fuse_min (at least 1): one test of the two lengths instead, its
	 * four words summed in a row, and the rest's option parse for 12
	 * bytes (in line again, for this length). */
	if (len == 32 && (buf[12] & 0xf0) == 8 << 4 && fuse_min > 0) {
		if (!sum_all_ones(sum_words8(buf, 4, ns)))
			return WIRE_ERR_TCP_CSUM;
		return tcp_parse_rest(buf, 32, 32, h, payload, payload_len);
	}
	size_t doff;
	int err = tcp_parse_doff(buf, len, &doff);
	if (err)
		return err;
	if (len - doff < fuse_min) {
		/* (tcp_sum_ok's two ways) */
		if (tcp_sum_short(len)) {
			/* (the test of the sum a branch of its own: as one
			 * condition with the long way's, gcc made it a flag
			 * and tested the flag) */
			if (!sum_all_ones(tcp_sum_words(buf, len, ns)))
				return WIRE_ERR_TCP_CSUM;
		} else if (len > 0xffff ||
			   csum_fold(csum_partial(buf, len, csum_of_native(ns))) != 0) {
			return WIRE_ERR_TCP_CSUM;
		}
		return tcp_parse_rest(buf, len, doff, h, payload, payload_len);
	}
	if (len > 0xffff)
		return WIRE_ERR_TCP_CSUM;
	uint32_t sum = tcp_hdr_sum_native(buf, doff, ns);
	err = tcp_parse_rest(buf, len, doff, h, payload, payload_len);
	/* A segment that fails a later check is counted as tcp_parse counts
	 * it: as a bad checksum when its checksum is bad too. */
	if (err && csum_fold(csum_partial(buf + doff, len - doff, sum)) != 0)
		return WIRE_ERR_TCP_CSUM;
	*hsum = sum;
	return err ? err : 1;
}

/* tcp_parse, inline for the TCP layer's input (one per segment). */
static inline __attribute__((always_inline)) int
tcp_parse_inline(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, bool verify_csum,
		 tcp_hdr *h, const uint8_t **payload, size_t *payload_len)
{
	return tcp_parse_ps_inline(buf, len, csum_pseudo(src, dst, IP_PROTO_TCP, 0), verify_csum,
				   h, payload, payload_len);
}

/* The MSS option of a SYN whose options are a layout tcp_opts_parse takes
 * without its loop (Linux's: MSS, SACK_PERM + TS, NOP WSCALE), MSS alone,
 * or none: the MSS (0: none); -1 for any other layout, which the caller
 * hands to tcp_opts_parse. A layout taken here parses there without error
 * to this MSS (tests/unit/test_syn_fast.c holds it to that). */
static inline __attribute__((always_inline)) int tcp_syn_opts_mss(const uint8_t *p, size_t len)
{
	if (len == 0)
		return 0;
	if (len != 20 && len != 4)
		return -1;
	uint32_t w0 = rd32(p);
	if (w0 >> 16 != (TCPOPT_MSS << 8 | 4) || !(w0 & 0xffff))
		return -1;
	if (len == 20 && (rd32(p + 4) != ((uint32_t)TCPOPT_SACK_PERM << 24 | 2 << 16 |
					    TCPOPT_TIMESTAMP << 8 | 10) ||
			  rd32(p + 16) >> 8 != ((uint32_t)TCPOPT_NOP << 16 | TCPOPT_WSCALE << 8 | 3)))
		return -1;
	return (int)(w0 & 0xffff);
}

/* Header and options (checksum field 0); returns the header length, or
 * WIRE_ERR_SPACE when header + payload_len do not fit cap or 64 KiB. */
static inline __attribute__((always_inline)) int
tcp_emit_header(const tcp_hdr *h, size_t payload_len, uint8_t *buf, size_t cap)
{
	enum { MAX_HLEN = TCP_HDR_LEN + TCP_MAX_OPT_LEN };
	size_t hlen;
	if (cap >= MAX_HLEN && payload_len <= cap - MAX_HLEN &&
	    payload_len <= 0xffff - MAX_HLEN) {
		/* Room for any header: write the options and learn their
		 * length, instead of computing it twice. Timestamps alone
		 * (every segment of a connection with them but its SYN) are
		 * written here, as tcp_opts_write writes them. */
		const tcp_opts *o = &h->opt;
		if (o->has_ts && !o->mss && !o->sack_ok && o->wscale < 0 && !o->nsack &&
		    !o->has_fo) {
			wr32(buf + TCP_HDR_LEN, (uint32_t)TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
				TCPOPT_TIMESTAMP << 8 | 10);
			wr32(buf + TCP_HDR_LEN + 4, o->ts_val);
			wr32(buf + TCP_HDR_LEN + 8, o->ts_ecr);
			hlen = TCP_HDR_LEN + 12;
		} else {
			hlen = TCP_HDR_LEN + tcp_opts_write(o, buf + TCP_HDR_LEN);
		}
	} else {
		hlen = TCP_HDR_LEN + tcp_opts_len(&h->opt);
		if (cap < hlen || payload_len > cap - hlen || payload_len > 0xffff - hlen)
			return WIRE_ERR_SPACE;
		tcp_opts_write(&h->opt, buf + TCP_HDR_LEN);
	}
	wr16(buf, h->sport);
	wr16(buf + 2, h->dport);
	wr32(buf + 4, h->seq);
	wr32(buf + 8, h->ack);
	buf[12] = (uint8_t)(hlen / 4 << 4);
	buf[13] = h->flags;
	wr16(buf + 14, h->win);
	wr32(buf + 16, (uint32_t)h->urp); /* checksum 0 while summing */
	return (int)hlen;
}

static inline __attribute__((always_inline)) int
tcp_emit_ps_inline(const tcp_hdr *h, const uint8_t *payload, size_t payload_len, uint32_t psum,
		   uint8_t *buf, size_t cap)
{
	int hlen = tcp_emit_header(h, payload_len, buf, cap);
	if (hlen < 0)
		return hlen;
	size_t n = (size_t)hlen + payload_len;
	/* A payload already in place (built behind the header) is not copied. */
	if (payload_len && payload != buf + hlen)
		memmove(buf + hlen, payload, payload_len);
	wr16(buf + 16, tcp_sum_field(buf, n, psum));
	return (int)n;
}

/* tcp_emit, inline for the TCP layer's output (one per segment). */
static inline __attribute__((always_inline)) int
tcp_emit_inline(const tcp_hdr *h, const uint8_t *payload, size_t payload_len, uint32_t src,
		uint32_t dst, uint8_t *buf, size_t cap)
{
	return tcp_emit_ps_inline(h, payload, payload_len, csum_pseudo(src, dst, IP_PROTO_TCP, 0),
				  buf, cap);
}

/* ipv4_emit's 20 bytes from the fields themselves, inline (the IP layer's
 * output writes one header per packet; ipv4_emit is this with a check of
 * the room). */
static inline void ipv4_emit_fields(uint8_t *buf, uint8_t tos, uint16_t total_len, uint16_t id,
				    uint16_t frag, uint8_t ttl, uint8_t proto, uint32_t src,
				    uint32_t dst)
{
	/* The header as five 32-bit words, and its checksum straight from
	 * them (the checksum's place 0 while summing; a word is congruent to
	 * the sum of its halves modulo 0xffff, and sum_fold64 folds). */
	uint32_t w0 = (uint32_t)(0x4500 | tos) << 16 | total_len;
	uint32_t w1 = (uint32_t)id << 16 | frag;
	uint32_t w2 = (uint32_t)ttl << 24 | (uint32_t)proto << 16;
	uint64_t sum = (uint64_t)src + dst + w0 + w1 + w2;
	/* Stored as two 64-bit words and one 32-bit: as five 32-bit ones,
	 * gcc gathered four of them into a vector register (a movd per word
	 * and three shuffles) before one store. (The sum with src + dst
	 * first: 8 instructions fewer per lifecycle as gcc orders it.) */
	wr64(buf, (uint64_t)w0 << 32 | w1);
	wr64(buf + 8, (uint64_t)(w2 | (uint16_t)~sum_fold64(sum)) << 32 | src);
	wr32(buf + 16, dst);
}

/* ipv4_emit_fields' sum of what a flow's packets share: the addresses and
 * the TTL and protocol word (ipv4_emit_pre's ksum). */
static inline uint64_t ipv4_pre_sum(uint8_t ttl, uint8_t proto, uint32_t src, uint32_t dst)
{
	return (uint64_t)src + dst + ((uint32_t)ttl << 24 | (uint32_t)proto << 16);
}

/* ipv4_emit_fields' 20 bytes for a flow whose addresses are known in
 * network order (addrs: source, then destination) and whose ipv4_pre_sum
 * (ksum) is known: the same bytes, without the addresses' swaps and sums. */
static inline void ipv4_emit_pre(uint8_t *buf, uint8_t tos, uint16_t total_len, uint16_t id,
				 uint16_t frag, uint8_t ttl, uint8_t proto,
				 const uint8_t addrs[8], uint64_t ksum)
{
	uint32_t w0 = (uint32_t)(0x4500 | tos) << 16 | total_len;
	uint32_t w1 = (uint32_t)id << 16 | frag;
	uint32_t w2 = (uint32_t)ttl << 24 | (uint32_t)proto << 16;
	uint64_t sum = ksum + w0 + w1;
	wr64(buf, (uint64_t)w0 << 32 | w1);
	wr32(buf + 8, w2 | (uint16_t)~sum_fold64(sum));
	memcpy(buf + 12, addrs, 8);
}

#endif
