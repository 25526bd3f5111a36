/*
 * The reassembly's timeout in a test: reasm_expire_one until no datagram
 * is due. Shared by test_frag.c and test_frag6.c.
 */
#ifndef HSK_TEST_REASM_EXPIRE_H
#define HSK_TEST_REASM_EXPIRE_H

#include "ip/ip.h"

/* How many datagrams were abandoned. */
static inline unsigned expire(ip_reasm *r, uint64_t now, hsk_counters *c)
{
	uint8_t first[1280];
	size_t n;
	unsigned k = 0;

	while (reasm_expire_one(r, now, first, sizeof(first), &n, c))
		k++;
	return k;
}

#endif
