/*
 * The IPv4 layer: input checks and demultiplexing (ip.c), fragment
 * reassembly (frag.c), ICMP (icmp.c), and output.
 *
 *   hsk_stack_input -> ip_input -> [reasm_input] -> tcp_input
 *                                               -> icmp_input -> tcp_icmp_error
 *   tcp output / icmp -> ip_output -> link.transmit
 */
#ifndef HSK_IP_H
#define HSK_IP_H

#include "core/counters.h"
#include "handshake.h"
#include "wire/wire.h"

struct hsk_stack;

/* One IPv4 packet from the link. */
void ip_input(struct hsk_stack *s, uint64_t now, const uint8_t *pkt, size_t len);
/* buf holds the layer-4 message at buf + IPV4_HDR_LEN; writes the IPv4
 * header in front of it (source: the stack's address) and transmits. */
void ip_output(struct hsk_stack *s, uint8_t *buf, uint32_t dst, uint8_t proto,
	       size_t l4_len);

/* ---- frag.c: reassembly bounded in memory, per source and in time
 * (RFC 791, RFC 815; Linux's ipfrag_* knobs) */
typedef struct ip_reasm ip_reasm;
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
/* An ICMP message addressed to us (ip is its IPv4 header). Answers echo
 * requests; hands destination-unreachable (incl. fragmentation needed) to
 * TCP through tcp_icmp_error. */
void icmp_input(struct hsk_stack *s, uint64_t now, const ipv4_hdr *ip,
		const uint8_t *msg, size_t len);

/* ---- implemented by TCP ---- */
void tcp_input(struct hsk_stack *s, uint64_t now, const ipv4_hdr *ip,
	       const uint8_t *seg, size_t len);
/* An ICMP error about a TCP segment we sent: src/dst/ports as in that
 * segment (src is us), seq its sequence number, mtu the next-hop MTU for
 * fragmentation-needed (0 otherwise). */
void tcp_icmp_error(struct hsk_stack *s, uint64_t now, uint32_t src, uint32_t dst,
		    uint16_t sport, uint16_t dport, uint32_t seq,
		    uint8_t type, uint8_t code, uint16_t mtu);

#endif
