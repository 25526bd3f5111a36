/*
 * The IPv4 layer: input checks and demultiplexing (ip.c), fragment
 * reassembly (frag.c), ICMP (icmp.c), and output. It knows the layer below
 * (the link) and hands what it receives to the protocol above through a
 * narrow interface (ip_upper): it never sees a connection.
 *
 *   hsk_stack_input -> ip_input -> [reasm_input] -> upper.input (TCP)
 *                                               -> icmp_input -> upper.icmp_error
 *   TCP / ICMP output -> ip_output -> link.transmit
 */
#ifndef HSK_IP_H
#define HSK_IP_H

#include "core/env.h"
#include "handshake.h"
#include "wire/wire.h"

/* An ICMP error about a packet we sent (RFC 792, RFC 1122 §3.2.2.1): the
 * quoted packet's addresses and ports (src is us), its first sequence
 * number, and the next-hop MTU of a fragmentation-needed (0 otherwise). */
typedef struct ip_icmp_err {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t type, code;
	uint16_t mtu;
} ip_icmp_err;

/* The transport protocol above (TCP): where segments and ICMP errors about
 * them go. Neither may call back into ip_input. */
typedef struct ip_upper {
	void (*input)(void *ctx, const ipv4_hdr *ip, const uint8_t *seg, size_t len);
	void (*icmp_error)(void *ctx, const ip_icmp_err *err);
	void *ctx;
} ip_upper;

typedef struct ip_reasm ip_reasm;

/* Room for the largest packet we build: IPv4 + TCP header with options +
 * payload of an MTU up to 64 KiB. */
enum { IP_TXBUF = 65536 + 128 };

typedef struct ip_layer {
	hsk_env *env;
	hsk_link link;
	uint32_t addr;            /* ours */
	uint16_t ip_id;           /* identification of the next packet */
	ip_reasm *reasm;
	ip_upper upper;
	uint8_t txbuf[IP_TXBUF];  /* the packet being built, by any layer */
} ip_layer;

/* Sets up ip on env; 0, or -HSK_ENOMEM. */
int ip_init(ip_layer *ip, hsk_env *env, const hsk_link *link, uint32_t addr);
void ip_destroy(ip_layer *ip);
/* One IPv4 packet from the link. */
void ip_input(ip_layer *ip, const uint8_t *pkt, size_t len);
/* buf holds the layer-4 message at buf + IPV4_HDR_LEN; writes the IPv4
 * header in front of it (source: our address) and transmits. */
void ip_output(ip_layer *ip, uint8_t *buf, uint32_t dst, uint8_t proto, size_t l4_len);
/* Timers of the layer (reassembly expiry). */
void ip_advance(ip_layer *ip);
uint64_t ip_next_deadline(const ip_layer *ip);

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
/* Drops datagrams older than the timeout (ReasmTimeout, ReasmFails). */
void reasm_expire(ip_reasm *r, uint64_t now, hsk_counters *cnt);
uint64_t reasm_next_deadline(const ip_reasm *r);
/* Bytes charged and datagrams in progress. */
void reasm_usage(const ip_reasm *r, size_t *mem, unsigned *datagrams);

/* ---- icmp.c ---- */
/* An ICMP message addressed to us (h is its IPv4 header). Answers echo
 * requests; hands destination-unreachable (incl. fragmentation needed) and
 * time-exceeded about our TCP segments to the upper layer. */
void icmp_input(ip_layer *ip, const ipv4_hdr *h, const uint8_t *msg, size_t len);

#endif
