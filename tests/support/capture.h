/*
 * A link for unit tests that keeps what a stack transmits: the first
 * CAP_MAX packets whole (up to CAP_LEN bytes each) and a count of all.
 */
#ifndef HSK_TEST_CAPTURE_H
#define HSK_TEST_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

enum { CAP_MAX = 64, CAP_LEN = 1600 };

typedef struct pkt_cap {
	int n;                        /* packets transmitted */
	uint8_t pkt[CAP_MAX][CAP_LEN];
	size_t len[CAP_MAX];
} pkt_cap;

/* An hsk_link transmit function; ctx is a pkt_cap. */
void pkt_capture(void *ctx, const uint8_t *pkt, size_t len);

#endif
