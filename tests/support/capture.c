#include "capture.h"

#include <string.h>

void pkt_capture(void *ctx, const uint8_t *pkt, size_t len)
{
	pkt_cap *c = ctx;

	if (c->n < CAP_MAX && len <= CAP_LEN) {
		memcpy(c->pkt[c->n], pkt, len);
		c->len[c->n] = len;
	}
	c->n++;
}
