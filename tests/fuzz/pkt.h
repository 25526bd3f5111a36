/*
 * Packets for the fuzz harness: building IPv4 and TCP with right checksums,
 * the link's packet queues, and one-line descriptions for verbose runs.
 * Uses only src/wire.
 */
#ifndef HSK_FUZZ_PKT_H
#define HSK_FUZZ_PKT_H

#include <stddef.h>
#include <stdint.h>

enum { PKT_QCAP = 128 };

/* A FIFO of copied packets (a device queue: full, it drops). */
typedef struct pkt_queue {
	uint8_t *p[PKT_QCAP];
	uint16_t len[PKT_QCAP];
	unsigned head, n;
} pkt_queue;

void q_push(pkt_queue *q, const uint8_t *p, size_t len);
/* The oldest packet (the caller frees it) or NULL. */
uint8_t *q_pop(pkt_queue *q, size_t *len);
void q_clear(pkt_queue *q);

/* TCP header, options (optlen a multiple of 4, <= 40), payload (which may
 * overlap o past the options) and checksum; returns the segment length. */
size_t build_tcp(uint8_t *o, uint32_t src, uint32_t dst, uint16_t sport,
		 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t win, uint16_t urp, const uint8_t *opt, size_t optlen,
		 const uint8_t *pay, size_t plen);
/* An IPv4 header with options (optlen a multiple of 4, <= 40) and its
 * checksum, for l4len bytes after it; returns the header length. */
size_t build_ip(uint8_t *o, uint32_t src, uint32_t dst, uint8_t proto,
		uint16_t id, uint16_t frag, uint8_t ttl, const uint8_t *opt,
		size_t optlen, size_t l4len);

/* One line on stderr: time (s), who, what, length, and the headers. */
void pkt_show(double t, const char *who, const char *what, const uint8_t *pkt,
	      size_t len);

#endif
