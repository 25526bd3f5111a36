/*
 * Loss recovery without SACK (recovery.c, RFC 5681 / RFC 6582), driven
 * segment by segment: one stack connects to a scripted peer whose SYN-ACK
 * offers neither SACK nor timestamps; the test writes the peer's ACKs by
 * hand and reads what the stack sends from the link callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "handshake.h"
#include "stack/stack.h"
#include "wire/wire.h"

#define US 0xc6120002u      /* 198.18.0.2: the stack */
#define PEER 0xc6120001u    /* 198.18.0.1 */
#define MS 1000000ull
#define MSS 1000
#define PEER_ISS 5000u


static uint64_t cnt(hsk_stack *s, const char *name)
{
	return hsk_counter_by_name(s, name);
}

/* The TCP header and payload length of captured packet i. */
static tcp_hdr seg_at(const pkt_cap *c, int i, size_t *dlen)
{
	const uint8_t *p, *data;
	size_t plen;
	ipv4_hdr ih;
	tcp_hdr h;

	assert_true(i < c->n && i < 64);
	assert_int_equal(ipv4_parse(c->pkt[i], c->len[i], &ih, &p, &plen), WIRE_OK);
	assert_int_equal(tcp_parse(p, plen, ih.src, ih.dst, true, &h, &data, dlen), WIRE_OK);
	return h;
}

/* A segment from the peer, with `len` bytes of payload. */
static void peer_send_data(hsk_stack *s, uint64_t now, const tcp_hdr *th, const void *data,
			   size_t len)
{
	uint8_t seg[200], pkt[300];
	int n = tcp_emit(th, data, len, PEER, US, seg, sizeof(seg));
	ipv4_hdr h = { .total_len = (uint16_t)(20 + n), .id = 1, .ttl = 64,
		       .proto = IP_PROTO_TCP, .src = PEER, .dst = US };

	assert_true(n > 0);
	assert_int_equal(ipv4_emit(&h, pkt, 20), 20);
	memcpy(pkt + 20, seg, (size_t)n);
	hsk_stack_input(s, now, pkt, 20 + (size_t)n);
}

static void peer_send(hsk_stack *s, uint64_t now, const tcp_hdr *th)
{
	peer_send_data(s, now, th, NULL, 0);
}

struct conn {
	hsk_stack *s;
	int sd;
	uint16_t port;          /* ours */
	uint32_t iss;
};

/* The peer's pure ACK of `ack` (relative to our ISS). */
static void peer_ack(struct conn *k, uint64_t now, uint32_t ack)
{
	tcp_hdr th = { .sport = 80, .dport = k->port, .seq = PEER_ISS + 1,
		       .ack = k->iss + ack, .flags = HSK_TH_ACK, .win = 65535,
		       .opt = { .wscale = -1 } };

	peer_send(k->s, now, &th);
}

/* Connects at 1000 ms; the peer answers at 1001 ms with MSS 1000 and a
 * 64 KB window, no timestamps, no window scale, SACK when `sack`. */
static void open_conn_sack(struct conn *k, pkt_cap *c, bool sack)
{
	hsk_config cfg;
	hsk_link link = { .ctx = c, .transmit = pkt_capture };
	size_t dlen;

	hsk_config_default(&cfg);
	cfg.addr = US;
	cfg.seed = 7;
	memset(c, 0, sizeof(*c));
	k->s = hsk_stack_new(&cfg, &link, 1000 * MS);
	assert_non_null(k->s);
	k->sd = hsk_socket(k->s);
	assert_int_equal(hsk_connect(k->s, k->sd, PEER, 80), -HSK_EINPROGRESS);
	tcp_hdr syn = seg_at(c, 0, &dlen);
	assert_true(syn.flags & HSK_TH_SYN);
	k->port = syn.sport;
	k->iss = syn.seq;
	tcp_hdr sa = { .sport = 80, .dport = k->port, .seq = PEER_ISS, .ack = k->iss + 1,
		       .flags = HSK_TH_SYN | HSK_TH_ACK, .win = 65535,
		       .opt = { .mss = MSS, .wscale = -1, .sack_ok = sack } };
	peer_send(k->s, 1001 * MS, &sa);
	assert_int_equal(hsk_sock_state(k->s, k->sd), HSK_ESTABLISHED);
}

/* The same without SACK. */
static void open_conn(struct conn *k, pkt_cap *c)
{
	open_conn_sack(k, c, false);
}

/* RFC 6582 §3.2 (1) (and RFC 5681 §3.2's note on timeouts): after a
 * retransmission timeout, duplicate ACKs for data sent before it are the
 * go-back-N resends arriving again, not a new loss: no fast retransmit
 * until SND.UNA passes what was outstanding at the timeout. After that, the
 * third duplicate ACK (RFC 5681 §3.2: DupThresh 3), not the second, starts
 * one. */
static void test_no_fast_retransmit_after_timeout(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[15000];
	size_t dlen;
	(void)state;

	open_conn(&k, &c);
	/* Ten segments: the initial window (10 * MSS). */
	int first = c.n;
	assert_int_equal(hsk_send(k.s, k.sd, data, 10000), 10000);
	hsk_stack_advance(k.s, 1002 * MS);
	assert_int_equal(c.n - first, 10);
	/* Nothing comes back: the RTO (200 ms after the 1 ms SYN-ACK sample)
	 * resends the first segment alone (cwnd 1 MSS). */
	first = c.n;
	hsk_stack_advance(k.s, 1300 * MS);
	assert_int_equal(cnt(k.s, "TCPTimeouts"), 1);
	assert_int_equal(c.n - first, 1);
	tcp_hdr h = seg_at(&c, first, &dlen);
	assert_int_equal(h.seq, k.iss + 1);
	assert_int_equal(dlen, MSS);
	/* Its ACK: slow start resends the next two (go-back-N). */
	first = c.n;
	peer_ack(&k, 1301 * MS, 1001);
	hsk_stack_advance(k.s, 1301 * MS);
	assert_int_equal(c.n - first, 2);
	assert_int_equal(seg_at(&c, first, &dlen).seq, k.iss + 1001);
	assert_int_equal(seg_at(&c, first + 1, &dlen).seq, k.iss + 2001);
	/* Three duplicate ACKs of 1001: below `recover`, no fast retransmit. */
	first = c.n;
	for (int i = 0; i < 3; i++)
		peer_ack(&k, 1302 * MS, 1001);
	hsk_stack_advance(k.s, 1302 * MS);
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 0);
	assert_int_equal(cnt(k.s, "TCPRenoRecovery"), 0);
	assert_int_equal(c.n, first);

	/* Everything acknowledged: SND.UNA has passed `recover`. New data,
	 * then three duplicate ACKs of it: fast retransmit of its first
	 * segment, at once. */
	peer_ack(&k, 1303 * MS, 10001);
	first = c.n;
	assert_int_equal(hsk_send(k.s, k.sd, data, 5000), 5000);
	hsk_stack_advance(k.s, 1304 * MS);
	assert_true(c.n - first >= 4);
	first = c.n;
	for (int i = 0; i < 2; i++)
		peer_ack(&k, 1305 * MS, 10001);
	hsk_stack_advance(k.s, 1305 * MS);
	assert_int_equal(c.n, first);          /* two are not enough (DupThresh 3) */
	peer_ack(&k, 1305 * MS, 10001);
	hsk_stack_advance(k.s, 1305 * MS);
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 1);
	assert_int_equal(cnt(k.s, "TCPRenoRecovery"), 1);
	assert_int_equal(c.n - first, 1);
	h = seg_at(&c, first, &dlen);
	assert_int_equal(h.seq, k.iss + 10001);
	assert_int_equal(dlen, MSS);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* RFC 5681 §2: a duplicate ACK carries no data and does not change the
 * window; only three of those start a fast retransmit. Three ACKs of
 * SND.UNA that each move the window, or that carry data, do not. */
static void test_duplicate_ack_definition(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[10000];
	(void)state;

	open_conn(&k, &c);
	assert_int_equal(hsk_send(k.s, k.sd, data, 10000), 10000);
	hsk_stack_advance(k.s, 1002 * MS);
	peer_ack(&k, 1003 * MS, 1001);          /* SND.UNA = 1001 */
	/* Three window updates at SND.UNA: not duplicates. */
	for (int i = 0; i < 3; i++) {
		tcp_hdr th = { .sport = 80, .dport = k.port, .seq = PEER_ISS + 1,
			       .ack = k.iss + 1001, .flags = HSK_TH_ACK,
			       .win = (uint16_t)(60000 - 1000 * i), .opt = { .wscale = -1 } };
		peer_send(k.s, 1004 * MS, &th);
	}
	/* Three data segments acknowledging SND.UNA: not duplicates. */
	for (int i = 0; i < 3; i++) {
		tcp_hdr th = { .sport = 80, .dport = k.port, .seq = PEER_ISS + 1 + (uint32_t)i,
			       .ack = k.iss + 1001, .flags = HSK_TH_ACK | HSK_TH_PSH,
			       .win = 58000, .opt = { .wscale = -1 } };
		peer_send_data(k.s, 1005 * MS, &th, "x", 1);
	}
	hsk_stack_advance(k.s, 1006 * MS);
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 0);
	assert_int_equal(cnt(k.s, "RetransSegs"), 0);
	/* Three true duplicates: fast retransmit of SND.UNA. */
	for (int i = 0; i < 3; i++) {
		tcp_hdr th = { .sport = 80, .dport = k.port, .seq = PEER_ISS + 4,
			       .ack = k.iss + 1001, .flags = HSK_TH_ACK,
			       .win = 58000, .opt = { .wscale = -1 } };
		peer_send(k.s, 1007 * MS, &th);
	}
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 1);
	assert_int_equal(cnt(k.s, "RetransSegs"), 1);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* Limited Transmit (RFC 3042, RFC 5681 §3.2): the first and second
 * duplicate ACKs each send one new segment, cwnd unchanged; the third
 * starts fast retransmit, and NewReno's ssthresh comes from the
 * FlightSize without those two segments (10 segments: 5000, not 6000). */
static void test_limited_transmit(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[15000];
	hsk_tcp_info ti;
	size_t dlen;
	(void)state;

	open_conn(&k, &c);
	assert_int_equal(hsk_setsockopt_str(k.s, k.sd, HSK_TCP_CONGESTION, "newreno"), 0);
	int first = c.n;
	assert_int_equal(hsk_send(k.s, k.sd, data, sizeof(data)), (long)sizeof(data));
	hsk_stack_advance(k.s, 1002 * MS);
	assert_int_equal(c.n - first, 10);      /* the initial window */
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	uint32_t cwnd = ti.cwnd;
	assert_int_equal(cwnd, 10 * MSS);
	for (uint32_t i = 0; i < 2; i++) {
		first = c.n;
		peer_ack(&k, 1003 * MS, 1);     /* segment 1 lost */
		assert_int_equal(c.n - first, 1);
		tcp_hdr h = seg_at(&c, first, &dlen);
		assert_int_equal(h.seq, k.iss + 10001 + i * MSS);
		assert_int_equal(dlen, MSS);
		assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
		assert_int_equal(ti.cwnd, cwnd);
	}
	assert_int_equal(cnt(k.s, "RetransSegs"), 0);
	first = c.n;
	peer_ack(&k, 1003 * MS, 1);
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 1);
	assert_int_equal(c.n - first, 1);
	assert_int_equal(seg_at(&c, first, &dlen).seq, k.iss + 1);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.ssthresh, 5 * MSS);
	/* In recovery duplicates inflate cwnd (ssthresh + 3 SMSS, one more
	 * each), not Limited Transmit: the 12 segments out leave room for a
	 * new one at the eighth duplicate. */
	first = c.n;
	for (int i = 4; i <= 7; i++)
		peer_ack(&k, 1004 * MS, 1);
	assert_int_equal(c.n, first);
	peer_ack(&k, 1004 * MS, 1);
	assert_int_equal(c.n - first, 1);
	assert_int_equal(seg_at(&c, first, &dlen).seq, k.iss + 12001);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* Karn on a fast retransmit: the timed segment went twice, so the ACK
 * that covers it gives no RTT sample (without timestamps nothing says
 * which copy it acknowledges). */
static void test_fast_retransmit_not_timed(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[4000];
	hsk_tcp_info ti;
	(void)state;

	open_conn(&k, &c);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	uint64_t srtt = ti.srtt_ns;             /* the SYN,ACK's 1 ms */
	assert_int_equal(hsk_send(k.s, k.sd, data, sizeof(data)), (long)sizeof(data));
	hsk_stack_advance(k.s, 1002 * MS);
	for (int i = 0; i < 3; i++)
		peer_ack(&k, 1003 * MS, 1);
	assert_int_equal(cnt(k.s, "TCPFastRetrans"), 1);
	peer_ack(&k, 1150 * MS, 4001);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.srtt_ns, srtt);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* RFC 7661: the window grows only while it is what limits the sender.
 * ACKs of an application-limited flight (3 segments of a 10-segment
 * window) leave cwnd as it was; once the flight fills the window, each
 * ACK grows it (slow start: by the bytes it acknowledges). cc_grow skips
 * cc_on_ack for the first kind: this fails if growth happens while not
 * cwnd-limited, or does not happen while cwnd-limited. */
static void test_growth_only_when_cwnd_limited(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[20000];
	hsk_tcp_info ti;
	(void)state;

	open_conn(&k, &c);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	uint32_t iw = ti.cwnd;
	assert_int_equal(iw, 10 * MSS);
	/* Three segments, acknowledged one by one: flight + MSS < cwnd. */
	assert_int_equal(hsk_send(k.s, k.sd, data, 3 * MSS), 3 * MSS);
	hsk_stack_advance(k.s, 1002 * MS);
	for (uint32_t i = 1; i <= 3; i++)
		peer_ack(&k, 1003 * MS, 1 + i * MSS);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.cwnd, iw);
	/* A flight of nine: 9 MSS + MSS reaches cwnd, so its first ACK is
	 * cwnd-limited: +1 MSS. */
	int first = c.n;
	assert_int_equal(hsk_send(k.s, k.sd, data, 9 * MSS), 9 * MSS);
	hsk_stack_advance(k.s, 1004 * MS);
	assert_int_equal(c.n - first, 9);
	peer_ack(&k, 1005 * MS, 1 + 4 * MSS);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.cwnd, iw + MSS);
	/* Eight in flight now, nothing more to send: 8 MSS + MSS < 11 MSS,
	 * so the rest of the ACKs are not cwnd-limited. */
	for (uint32_t i = 5; i <= 12; i++)
		peer_ack(&k, 1006 * MS, 1 + i * MSS);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.cwnd, iw + MSS);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* With SACK, an ACK of everything in flight, nothing else held (the
 * SACK state is given up at once: recovery.c, rec_quiet_all) still takes
 * RACK's RTT sample from the newest record and grows a full window. Five
 * segments at 1001 ms, five more at 1002 ms (the window full), all
 * acknowledged at 1005 ms: the sample is 3 ms (not the first record's
 * 4 ms) and slow start adds what was acknowledged. */
static void test_sack_ack_of_all(void **state)
{
	pkt_cap c;
	struct conn k;
	static uint8_t data[10 * MSS];
	hsk_tcp_info ti;
	(void)state;

	open_conn_sack(&k, &c, true);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	uint32_t iw = ti.cwnd;
	assert_int_equal(iw, 10 * MSS);
	assert_int_equal(ti.srtt_ns, 1 * MS);   /* the SYN,ACK's */
	int first = c.n;
	assert_int_equal(hsk_send(k.s, k.sd, data, 5 * MSS), 5 * MSS);
	hsk_stack_advance(k.s, 1002 * MS);
	assert_int_equal(hsk_send(k.s, k.sd, data, 5 * MSS), 5 * MSS);
	hsk_stack_advance(k.s, 1002 * MS);
	assert_int_equal(c.n - first, 10);
	peer_ack(&k, 1005 * MS, 1 + 10 * MSS);
	assert_int_equal(hsk_sock_info(k.s, k.sd, &ti), 0);
	assert_int_equal(ti.unacked, 0);
	/* RFC 6298 (2.3): 7/8 of 1 ms and 1/8 of 3 ms */
	assert_int_equal(ti.srtt_ns, 1 * MS - 1 * MS / 8 + 3 * MS / 8);
	assert_int_equal(ti.cwnd, iw + 10 * MSS);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* The peer's segment of `len` bytes at `seq` (relative to its ISS),
 * acknowledging `ack` (relative to our ISS). */
static void peer_data(struct conn *k, uint64_t now, uint32_t seq, uint32_t ack, size_t len)
{
	static const uint8_t bytes[100];     /* (peer_send_data: 200 bytes a segment) */
	tcp_hdr th = { .sport = 80, .dport = k->port, .seq = PEER_ISS + seq,
		       .ack = k->iss + ack, .flags = HSK_TH_ACK, .win = 65535,
		       .opt = { .wscale = -1 } };

	assert_true(len <= sizeof(bytes));
	peer_send_data(k->s, now, &th, bytes, len);
}

/* Segment i of c is a pure ACK of the peer's byte `ack` (from its ISS)
 * with one SACK block, [left, right). */
static void assert_pure_ack_block(const pkt_cap *c, int i, uint32_t ack, uint32_t left,
				  uint32_t right)
{
	size_t dlen;
	tcp_hdr h = seg_at(c, i, &dlen);
	assert_int_equal(dlen, 0);
	assert_int_equal(h.ack, PEER_ISS + ack);
	assert_int_equal(h.opt.nsack, 1);
	assert_int_equal(h.opt.sack[0].left, PEER_ISS + left);
	assert_int_equal(h.opt.sack[0].right, PEER_ISS + right);
}

/* RFC 2883: a D-SACK the ACK that answered the duplicate had no room for
 * (it went on a full-sized data segment) is still owed, and an ACK of
 * everything in flight in between does not lose it (recovery.c,
 * rec_quiet_all: with a D-SACK to report the SACK state stays). The next
 * ACK (here the answer to an old segment) carries it. Leaves the SACK
 * state on with nothing in flight, nothing held, no D-SACK owed. */
static void dsack_past_ack_of_all(struct conn *k, pkt_cap *c)
{
	static uint8_t data[11 * MSS];
	uint8_t got[200];
	size_t dlen;

	open_conn_sack(k, c, true);
	peer_data(k, 1002 * MS, 1, 1, 100);
	hsk_stack_advance(k->s, 1300 * MS);     /* its ACK out, delayed or not */
	assert_int_equal(hsk_recv(k->s, k->sd, got, sizeof(got)), 100);
	/* 11 segments: the initial window takes 10 */
	int first = c->n;
	assert_int_equal(hsk_send(k->s, k->sd, data, 11 * MSS), 11 * MSS);
	assert_int_equal(c->n - first, 10);
	/* The first acknowledged, with the peer's 100 bytes again: the
	 * eleventh segment goes, full, with the ACK (no room for blocks). */
	first = c->n;
	peer_data(k, 1301 * MS, 1, 1 + MSS, 100);
	assert_int_equal(c->n - first, 1);
	tcp_hdr h = seg_at(c, first, &dlen);
	assert_int_equal(dlen, MSS);
	assert_int_equal(h.ack, PEER_ISS + 101);
	assert_int_equal(h.opt.nsack, 0);
	/* Everything acknowledged: nothing to answer. */
	peer_data(k, 1302 * MS, 101, 1 + 11 * MSS, 0);
	assert_int_equal(c->n - first, 1);
	/* An old segment: the answer reports the duplicate. */
	peer_data(k, 1303 * MS, 1, 1 + 11 * MSS, 0);
	assert_int_equal(c->n - first, 2);
	assert_pure_ack_block(c, first + 1, 101, 1, 101);
}

static void test_dsack_outlives_ack_of_all(void **state)
{
	pkt_cap c;
	struct conn k;
	(void)state;

	dsack_past_ack_of_all(&k, &c);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* An ACK that acknowledges nothing with nothing in flight (here a data
 * segment from the peer) is no "ACK of everything" (recovery.c,
 * rec_quiet_all's !flight_before): the SACK state stays as it is (on,
 * after dsack_past_ack_of_all), and a duplicate of that data is reported
 * with a D-SACK. */
static void test_idle_ack_keeps_sack_state(void **state)
{
	pkt_cap c;
	struct conn k;
	(void)state;

	dsack_past_ack_of_all(&k, &c);
	peer_data(&k, 1304 * MS, 101, 1 + 11 * MSS, 100);       /* nothing in flight */
	hsk_stack_advance(k.s, 1600 * MS);
	int first = c.n;
	peer_data(&k, 1601 * MS, 101, 1 + 11 * MSS, 100);       /* again */
	assert_int_equal(c.n - first, 1);
	assert_pure_ack_block(&c, first, 201, 101, 201);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* The extensions kept for reuse (active.c's list, oldest first, at most
 * ACT_KEEP_MAX) are those of quiet connections: one whose SACK state is
 * still on (after dsack_past_ack_of_all: nothing in flight, no ring, no
 * timer) is not put on the list at the end of an event
 * (tcb_act_put_idle's sack_on test), so it takes no place there (where
 * it would push a quiet one out early) and its idle time does not start. */
static void test_sack_state_not_kept(void **state)
{
	pkt_cap c;
	struct conn k;
	(void)state;

	dsack_past_ack_of_all(&k, &c);
	tcb *t = k.s->socks[k.sd].t;
	tcb_act *a = t->act;
	/* Listed when it was last quiet (before the SACK state), taken off
	 * when its time ran out (not given back: not quiescent). */
	hsk_stack_advance(k.s, 1400 * MS);
	assert_ptr_equal(t->act, a);
	assert_false(a->idle_listed);
	/* An event (the peer's ACK of everything, again) with the SACK
	 * state on and all that tcb_act_put_idle tests before it clear. */
	peer_data(&k, 1401 * MS, 101, 1 + 11 * MSS, 0);
	assert_ptr_equal(t->act, a);
	assert_true(a->sack_on);
	assert_null(a->snd.buf);
	assert_null(a->rcv.buf);
	assert_int_equal(a->rtx_at | a->delack_at, 0);
	assert_false(a->idle_listed);
	assert_int_equal(k.s->tcp.act_idle_n, 0);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

/* RFC 2018: while data is held out of order, every ACK reports it, also
 * when no recent block lists it any more. Five ranges held, the first
 * sent last: the receiver's four recent blocks (sack.c's list) are the
 * four lower ones; a segment at RCV.NXT then fills the hole below them
 * and merges them in, so that every recent block goes, and the highest
 * range is held still. The next ACK with no D-SACK to send must carry
 * its block (blocks_due's held-data test: output.c, for tcb_put and
 * ack_fast). */
static void test_held_data_reported_without_recent_blocks(void **state)
{
	pkt_cap c;
	struct conn k;
	size_t dlen;
	static const uint32_t at[5] = { 201, 51, 61, 71, 81 };
	(void)state;

	open_conn_sack(&k, &c, true);
	for (int i = 0; i < 5; i++) {
		int first = c.n;
		peer_data(&k, 1002 * MS + (uint64_t)i * MS, at[i], 1, 5);
		assert_int_equal(c.n - first, 1);       /* out of order: ACK now */
		tcp_hdr h = seg_at(&c, first, &dlen);
		assert_int_equal(h.ack, PEER_ISS + 1);
		assert_int_equal(h.opt.nsack, i < 4 ? i + 1 : 4);
		assert_int_equal(h.opt.sack[0].left, PEER_ISS + at[i]);
	}
	/* [1, 86): the hole filled up to the fourth range's end, the held
	 * bytes a duplicate (the D-SACK of the first, RFC 2883) */
	int first = c.n;
	peer_data(&k, 1010 * MS, 1, 1, 85);
	assert_int_equal(c.n - first, 1);
	tcp_hdr h = seg_at(&c, first, &dlen);
	assert_int_equal(h.ack, PEER_ISS + 86);
	assert_int_equal(h.opt.nsack, 2);
	assert_int_equal(h.opt.sack[0].left, PEER_ISS + 51);
	assert_int_equal(h.opt.sack[0].right, PEER_ISS + 56);
	assert_int_equal(h.opt.sack[1].left, PEER_ISS + 201);
	/* The next in order: its ACK (at once or delayed) has no recent
	 * block and no D-SACK to send, and reports the range held. */
	first = c.n;
	peer_data(&k, 1011 * MS, 86, 1, 5);
	hsk_stack_advance(k.s, 1300 * MS);
	assert_int_equal(c.n - first, 1);
	assert_pure_ack_block(&c, first, 91, 201, 206);
	hsk_abort(k.s, k.sd);
	hsk_stack_free(k.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_fast_retransmit_after_timeout),
		cmocka_unit_test(test_duplicate_ack_definition),
		cmocka_unit_test(test_limited_transmit),
		cmocka_unit_test(test_fast_retransmit_not_timed),
		cmocka_unit_test(test_growth_only_when_cwnd_limited),
		cmocka_unit_test(test_sack_ack_of_all),
		cmocka_unit_test(test_dsack_outlives_ack_of_all),
		cmocka_unit_test(test_idle_ack_keeps_sack_state),
		cmocka_unit_test(test_sack_state_not_kept),
		cmocka_unit_test(test_held_data_reported_without_recent_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
