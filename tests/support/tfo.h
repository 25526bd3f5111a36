/*
 * The Fast Open scenarios' setup, shared by test_tfo and test_tfo_keys:
 * client C (host 0), server S (host 1) listening on PORT (80) with Fast
 * Open; connections of either family as the scenario's (sim.h).
 */
#ifndef HSK_TEST_TFO_H
#define HSK_TEST_TFO_H

#include "sim.h"

enum { TFO_C = 0, TFO_S = 1, TFO_PORT = 80 };

/* A configuration with tcp_fastopen = bits. */
hsk_config cfg_tfo(unsigned bits);
/* The next segment sent: from `host`, with these flags and length (for
 * the later connections of a test, whose sequence numbers expect_seg's
 * relative ones cannot follow). Its ISS-relative numbers are checked by
 * the caller. */
#define next_seg(sm, host, flags, len) next_seg_at(sm, host, flags, len, __LINE__)
const sim_ev *next_seg_at(sim *sm, int host, uint8_t flags, uint32_t len, int line);
/* The Fast Open option of the segment expect_seg just consumed. */
int last_fo(const sim *sm);
/* S's Fast Open listener on PORT, of the family, with a queue of qlen. */
int tfo_listen(sim *sm, int qlen);
/* Client C with the default Fast Open bits (client only), server S with
 * sc, listening on PORT with a Fast Open queue of qlen. */
int tfo_setup_cfg(sim *sm, const hsk_config *sc, uint64_t seed, int qlen);
/* The same with S's Fast Open client and server bits. */
int tfo_setup(sim *sm, uint64_t seed, int qlen);
/* The end of a test: every timer run out, nothing left in any pool. */
void tfo_end(sim *sm);
/* The same after closing the listener. */
void tfo_finish(sim *sm, int lsd);
/* A new socket of host h sends msg with MSG_FASTOPEN to S:PORT; sendto
 * says want. */
int tfo_send(sim *sm, int h, const char *msg, int want);
/* Client C aborts csd, the server closes its end ssd. */
void tfo_drop(sim *sm, int csd, int ssd);
/* S's cookie for the host at v4 (over IPv6, of the addresses' twins). */
void cookie_for(sim *sm, uint32_t v4, uint8_t ck[8]);
/* A first connection from host h asks for a cookie (nothing on its SYN
 * but the request, -EINPROGRESS), the SYN-ACK brings it; closed again. */
void fetch_cookie(sim *sm, int h, int lsd);

#endif
