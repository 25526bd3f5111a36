/*
 * The passive open's calls between the engine's files: listeners and
 * their SYN queue (listen.c), SYN cookies (cookie.c) and TCP Fast Open
 * (tfo.c), whose server side is a passive open and whose client side
 * shares its cookie and key code. Only the files that take a SYN, make a
 * child or talk to a listener include it; tcp.h keeps what every file
 * needs.
 */
#ifndef HSK_TCP_PASSIVE_H
#define HSK_TCP_PASSIVE_H

#include "tcp/tcp.h"

/* ---- listen.c ---- */
/* The listener for IPv4 address addr (an IPv4 one, or an IPv6 wildcard
 * that is not v6only) or IPv6 address a6 (an IPv6 one) and port. */
tcp_listener *listener_find(struct tcp_stack *s, uint32_t addr, uint16_t port);
tcp_listener *listener_find6(struct tcp_stack *s, const uint8_t a6[16], uint16_t port);
/* The listener a segment is for. */
tcp_listener *listener_for(struct tcp_stack *s, const tcp_seg *sg);
/* The listener a segment on tuple tu (our view) goes to: with an
 * SO_REUSEPORT group, one of it chosen by a keyed hash of the tuple (so a
 * connection's segments all reach the same one). */
tcp_listener *listener_lookup(struct tcp_stack *s, const hsk_tuple *tu);
tcp_verdict listen_input(struct tcp_stack *s, tcp_listener *l, const tcp_seg *sg);
/* The same with the ISS of a new request chosen by the caller (a SYN that
 * reopens a connection from TIME_WAIT); isn NULL: RFC 6528. */
tcp_verdict listen_input_isn(struct tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			     const hsk_seq *isn);
tcp_verdict req_input(struct tcp_stack *s, tcp_req *r, const tcp_seg *sg);
/* Sends a request's SYN,ACK (flags SYN|ACK) or ACK (flags ACK). */
void req_send(struct tcp_stack *s, tcp_req *r, uint8_t flags);
void req_timer_fire(struct tcp_stack *s, tcp_req *r, uint64_t now);
/* A request described by the SYN sg to listener l (not yet in the table);
 * isn NULL: RFC 6528. */
void req_from_syn(struct tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
		  const hsk_seq *isn, tcp_req *r);
/* A TCB in SYN_RECEIVED from what request r (a copy) describes, on l's
 * accept queue; NULL when the pool is empty. */
tcb *listener_child(struct tcp_stack *s, tcp_listener *l, const tcp_req *r,
		    const tbl_v6addrs *a6);
void req_free(struct tcp_stack *s, tcp_req *r);
/* The listener's socket is closing: drop its requests, reset its queue. */
void listener_close(struct tcp_stack *s, tcp_listener *l);
/* listener_accept (below): the oldest connection of the accept queue. */
/* The i-th connection of the accept queue (i < accept_q), oldest first. */
static inline tcb *listener_queued(const tcp_listener *l, uint32_t i)
{
	return l->aq[(l->aq_first + i) & (l->aq_cap - 1)];
}
/* Frees what the listener holds beyond its pool slot (its queue). */
void listener_free(struct tcp_stack *s, tcp_listener *l);

/* ---- cookie.c: SYN cookies (RFC 4987) ---- */
/* Cookies are minted in 64 s periods and accepted from the current and the
 * previous one; a listener checks ACKs for cookies this long after it sent
 * its last one. */
#define COOKIE_PERIOD_NS (64ull * 1000000000ull)
#define COOKIE_VALID_NS (2 * COOKIE_PERIOD_NS)
/* The ISS of a cookie SYN-ACK answering the SYN (irs, MSS option mss, 0 when
 * absent) on tuple tu. */
hsk_seq cookie_make(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		    hsk_seq irs, uint16_t mss);
/* cookie_make, and the connection's TSval offset in *ts_offset. */
hsk_seq cookie_make_off(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
			hsk_seq irs, uint16_t mss, uint32_t *ts_offset);
/* Checks a cookie came back in the final ACK (iss = SEG.ACK - 1,
 * irs = SEG.SEQ - 1): the MSS it encodes, or 0 when it is not valid. */
uint16_t cookie_check(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		      hsk_seq iss, hsk_seq irs);
/* cookie_check, and when valid the connection's TSval offset (the one
 * cookie_make_off gave) in *ts_offset. */
uint16_t cookie_check_off(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
			  hsk_seq iss, hsk_seq irs, uint32_t *ts_offset);
/* The cookie key's SipHash state (tcp_stack.cookie_p), at the stack's
 * making. */
void cookie_key_init(struct tcp_stack *s);

/* ---- tfo.c: TCP Fast Open (RFC 7413), both ends, as Linux ---- */
enum { TFO_COOKIE_LEN = 8 };
/* Server: the cookie of the client on tuple tu (our view; a6 its IPv6
 * addresses, or NULL): SipHash of the two addresses under the primary
 * key. */
void tfo_cookie_make(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
		     uint8_t out[8]);
/* Server: the keys at init: hsk_config.tcp_fastopen_key, or one derived
 * from the stack's secret when it is all zero. */
void tfo_keys_init(struct tcp_stack *s);
/* Server: new keys (hsk_fastopen_key_set): backup NULL for none. */
void tfo_keys_set(struct tcp_stack *s, const uint8_t primary[16], const uint8_t *backup);
/* Server: the keys in use now into out (primary, then backup): 16 or 32. */
int tfo_keys_get(struct tcp_stack *s, uint8_t out[32]);
/* Server: a SYN reached listener l (server bit on). TFO_SYN_TAKEN when
 * Fast Open took it (a TCB with the SYN's data is on the accept queue, its
 * SYN-ACK sent); otherwise a normal request, whose SYN-ACK carries a
 * cookie for TFO_SYN_COOKIE (a value, not a flag through a pointer: the
 * listener's usual SYN keeps its own in a register). */
enum tfo_syn_res { TFO_SYN_REQ, TFO_SYN_COOKIE, TFO_SYN_TAKEN };
enum tfo_syn_res tfo_syn(struct tcp_stack *s, tcp_listener *l, const tcp_seg *sg,
			 const hsk_seq *isn);
/* Whether a Fast Open option with len cookie bytes fits beside the
 * options o of a SYN or SYN-ACK in a segment of our MSS: on a tiny link
 * MTU (down to IPv4's 68) it does not, and is left out. */
bool tfo_opt_fits(struct tcp_stack *s, const tcp_opts *o, bool v6, uint8_t len);
/* Server: a Fast Open TCB's SYN-ACK carries a new cookie (in cookie[8])
 * when the SYN's was the backup key's (and it fits). */
void tfo_synack_out(struct tcp_stack *s, tcb *t, seg_out *o, uint8_t cookie[8]);
/* Server: a SYN again, to a Fast Open TCB whose SYN-ACK was lost: true when
 * it was answered (with the SYN-ACK, rate limited). */
bool tfo_child_syn(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* Server: the TCB leaves SYN_RECEIVED (or ends): its listener's queue of
 * pending Fast Open connections has room again. */
void tfo_child_done(struct tcp_stack *s, tcb *t);
/* Server: listener l closes: its pending children forget it. */
void tfo_listener_gone(tcp_listener *l);
/* Client: what our SYN carries: the option (a cookie, or a request) and
 * data from the send ring on its first transmission. Returns the data
 * length. */
uint32_t tfo_syn_out(struct tcp_stack *s, tcb *t, seg_out *o);
/* Client: the SYN-ACK arrived (snd_una not yet moved): caches its cookie,
 * drops the SYN's data it acknowledged from the ring and rewinds to
 * resend what it did not. */
void tfo_rcv_synack(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* Client: our SYN timed out: note the loss against the cookie. */
void tfo_syn_timeout(struct tcp_stack *s, tcb *t);
/* Client: a cookie is cached for addr (and Fast Open is not backing off
 * after SYN losses): its length, 0 when none. mss: the server's, or 0. */
/* The client's cache is keyed by the server's 16-byte address (IPv4
 * v4-mapped: tfo_key4). */
void tfo_key4(uint32_t addr, uint8_t key[16]);
uint8_t tfo_cookie_find(struct tcp_stack *s, const uint8_t addr[16], const uint8_t **cookie,
			uint16_t *mss);
int tfo_cookie_store(struct tcp_stack *s, const uint8_t addr[16], const uint8_t *cookie,
		     uint8_t len, uint16_t mss);
/* Client: the most data a Fast Open SYN to t's peer carries. */
uint32_t tfo_syn_room(struct tcp_stack *s, const tcb *t);
void tfo_destroy(struct tcp_stack *s);
/* The cookie cached for addr into out[16]: its length, or -HSK_ENOENT. */
int tfo_cookie_copy(struct tcp_stack *s, const uint8_t addr[16], uint8_t out[16]);
/* Server: the Fast Open TCB's handshake completed (its SYN-ACK's RTT). */
void tfo_child_established(struct tcp_stack *s, tcb *t);

/* A listener's queue lengths changed (HSK_EV_QUEUE); callers check
 * s->cfg.trace first, so an untraced stack does not even call it. */
void trace_listener(struct tcp_stack *s, const tcp_listener *l);

/* The oldest connection off the accept queue; NULL when it is empty. In
 * line in hsk_accept (a call and a frame less per accept). */
static inline tcb *listener_accept(struct tcp_stack *s, tcp_listener *l)
{
	if (!l->accept_q)
		return NULL;
	tcb *t = l->aq[l->aq_first];
	l->aq_first = (l->aq_first + 1) & (l->aq_cap - 1);
	t->flags &= ~TF_ON_ACCEPTQ;
	l->accept_q--;
	if (s->env->cfg.trace)
		trace_listener(s, l);
	return t;
}


#endif
