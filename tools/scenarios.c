/*
 * The demo's scenarios. Each uses the public socket API only, plus the
 * memlink filter (through demo->filter) to lose exactly the segments it
 * wants lost, and demo_inject() for segments no stack would send. The
 * client is 198.18.0.1, the server 198.18.0.2; the link delay is 1 ms.
 */
#include <inttypes.h>
#include <string.h>

#include "demo.h"

#define SRV DEMO_SERVER_ADDR
#define CLI DEMO_CLIENT_ADDR
#define C DEMO_CLIENT
#define S DEMO_SERVER

/* ---- shared steps ---- */

/* listen on 80, connect, accept: fills the three sds; false on failure */
static bool establish(demo *d, int backlog, int *lsd, int *csd, int *ssd)
{
	int rc;

	*lsd = demo_listen(d, 80, backlog);
	if (*lsd < 0)
		return false;
	demo_run_for(d, 1 * DEMO_MS);
	*csd = demo_connect(d, C, 0, SRV, 80);
	if (*csd < 0)
		return false;
	rc = demo_wait_connected(d, C, *csd, 120 * DEMO_S);
	if (!demo_expect(d, rc == 0, "client: connect: %s", hsk_errno_name(rc)))
		return false;
	*ssd = demo_wait_accept(d, *lsd, 10 * DEMO_S);
	return demo_expect(d, *ssd >= 0, "server: accept: %s", hsk_errno_name(*ssd));
}

/* Nothing left but the listener, and no timer armed. */
static void expect_clean(demo *d)
{
	hsk_usage u[2];
	int i;

	for (i = 0; i < 2; i++) {
		hsk_stack_usage(demo_stack(d, i), &u[i]);
		demo_expect(d, u[i].tcbs == 0 && u[i].requests == 0 && u[i].timewaits == 0,
			    "%s: %zu TCBs, %zu requests, %zu TIME_WAIT entries left",
			    i ? "server" : "client", u[i].tcbs, u[i].requests,
			    u[i].timewaits);
	}
}

static void expect_path(demo *d, int side, const char *path)
{
	demo_expect(d, !strcmp(d->side[side].path, path), "%s states: %s (expected %s)",
		    side ? "server" : "client", d->side[side].path, path);
}

/* The client closes first, the server reads EOF and closes; run out 2MSL. */
static void close_client_first(demo *d, int csd, int ssd)
{
	long n;

	demo_close(d, C, csd);
	n = demo_recv(d, S, ssd, 0, 10 * DEMO_S);
	demo_expect(d, n == 0, "server: no end of stream after the client's close");
	demo_close(d, S, ssd);
	demo_expect(d, demo_run_until_idle(d, 300 * DEMO_S),
		    "the network is not idle 300 s after the close");
}

static uint32_t elapsed_ms(const demo *d, uint64_t since)
{
	return (uint32_t)((demo_now(d) - since) / DEMO_MS);
}

/* ---- basic ---- */

static const char *const basic_counters[] = {
	"ActiveOpens", "PassiveOpens", "InSegs", "OutSegs", "RetransSegs",
	"EstabResets", "TW", NULL,
};

static void run_basic(demo *d)
{
	int lsd, csd, ssd;
	long n;

	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	demo_send(d, C, csd, 64);
	n = demo_recv(d, S, ssd, 64, 10 * DEMO_S);
	demo_expect(d, n == 64, "server: received %ld bytes, not 64", n);
	demo_send(d, S, ssd, 64);
	n = demo_recv(d, C, csd, 64, 10 * DEMO_S);
	demo_expect(d, n == 64, "client: received %ld bytes, not 64", n);
	demo_say(d, "64-byte request and 64-byte response exchanged");
	close_client_first(d, csd, ssd);
	expect_path(d, C, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 "
		    "TIME_WAIT CLOSED");
	expect_path(d, S, "LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	expect_clean(d);
}

/* ---- simultaneous open ---- */

static void run_simultaneous_open(demo *d)
{
	int a, b, rc;

	/* both bound to fixed ports, connecting to each other at one instant */
	a = demo_connect(d, C, 5000, SRV, 6000);
	b = demo_connect(d, S, 6000, CLI, 5000);
	if (a < 0 || b < 0)
		return;
	rc = demo_wait_connected(d, C, a, 60 * DEMO_S);
	demo_expect(d, rc == 0, "client: connect: %s", hsk_errno_name(rc));
	rc = demo_wait_connected(d, S, b, 60 * DEMO_S);
	demo_expect(d, rc == 0, "server: connect: %s", hsk_errno_name(rc));
	demo_expect(d, demo_visited(d, C, HSK_SYN_RECEIVED) &&
		    demo_visited(d, S, HSK_SYN_RECEIVED),
		    "both sides should pass through SYN_RECEIVED");
	demo_say(d, "both SYNs crossed: SYN_SENT -> SYN_RECEIVED -> ESTABLISHED on each side");
	close_client_first(d, a, b);
	expect_path(d, C, "CLOSED SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 "
		    "FIN_WAIT_2 TIME_WAIT CLOSED");
	expect_path(d, S, "CLOSED SYN_SENT SYN_RECEIVED ESTABLISHED CLOSE_WAIT "
		    "LAST_ACK CLOSED");
	expect_clean(d);
}

/* ---- simultaneous close ---- */

static void run_simultaneous_close(demo *d)
{
	int lsd, csd, ssd;

	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	demo_run_for(d, 10 * DEMO_MS);
	/* both close at the same virtual instant: the FINs cross */
	demo_close(d, C, csd);
	demo_close(d, S, ssd);
	demo_expect(d, demo_run_until_idle(d, 300 * DEMO_S), "not idle after 300 s");
	demo_expect(d, demo_visited(d, C, HSK_CLOSING) && demo_visited(d, S, HSK_CLOSING),
		    "both sides should pass through CLOSING");
	expect_path(d, C, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT CLOSED");
	expect_path(d, S, "LISTEN SYN_RECEIVED ESTABLISHED FIN_WAIT_1 CLOSING "
		    "TIME_WAIT CLOSED");
	demo_say(d, "both ends went FIN_WAIT_1 -> CLOSING -> TIME_WAIT");
	expect_clean(d);
}

/* ---- half close ---- */

static void run_half_close(demo *d)
{
	int lsd, csd, ssd, i;
	long n;

	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	demo_shutdown(d, C, csd, HSK_SHUT_WR);
	n = demo_recv(d, S, ssd, 0, 10 * DEMO_S);
	demo_expect(d, n == 0, "server: no end of stream after shutdown(SHUT_WR)");
	/* the server keeps sending into the half-open connection */
	for (i = 0; i < 3; i++) {
		demo_send(d, S, ssd, 100);
		demo_run_for(d, 20 * DEMO_MS);
	}
	n = demo_recv(d, C, csd, 300, 10 * DEMO_S);
	demo_expect(d, n == 300, "client: received %ld bytes after its FIN, not 300", n);
	demo_expect(d, hsk_sock_state(demo_stack(d, C), csd) == HSK_FIN_WAIT_2,
		    "client: %s while receiving, not FIN_WAIT_2",
		    hsk_state_name(hsk_sock_state(demo_stack(d, C), csd)));
	demo_say(d, "client received %ld bytes in FIN_WAIT_2 after shutting down writing", n);
	demo_close(d, S, ssd);
	n = demo_recv(d, C, csd, 0, 10 * DEMO_S);
	demo_expect(d, n == 0, "client: no end of stream after the server's close");
	demo_close(d, C, csd);
	demo_expect(d, demo_run_until_idle(d, 300 * DEMO_S), "not idle after 300 s");
	expect_path(d, C, "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 "
		    "TIME_WAIT CLOSED");
	expect_path(d, S, "LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	expect_clean(d);
}

/* ---- refused ---- */

static const char *const refused_counters[] = {
	"ActiveOpens", "AttemptFails", "OutRsts", "RstSentNoSocket", "DropNoSocket",
	NULL,
};

static void run_refused(demo *d)
{
	int csd, rc;

	csd = demo_connect(d, C, 0, SRV, 81);
	if (csd < 0)
		return;
	rc = demo_wait_connected(d, C, csd, 10 * DEMO_S);
	demo_say(d, "connect() to port 81 failed: %s (%s)", hsk_errno_name(rc),
		 hsk_strerror(rc));
	demo_expect(d, rc == -HSK_ECONNREFUSED, "connect: %s, expected ECONNREFUSED",
		    hsk_errno_name(rc));
	demo_close(d, C, csd);
	demo_run_until_idle(d, 10 * DEMO_S);
	expect_clean(d);
}

/* ---- retransmission of lost handshake segments ---- */

typedef struct loss_plan {
	int side;
	uint8_t flags;          /* exact flags of the segments to lose */
	int count, lost;
	int seen;               /* segments with those flags sent */
	uint32_t fin_seq;       /* lost-final-ack: the server's FIN */
	bool have_fin;
} loss_plan;

static bool lose_first(demo *d, int from, const tcp_hdr *seg, size_t len)
{
	loss_plan *p = d->user;

	(void)len;
	if (!seg || from != p->side || seg->flags != p->flags)
		return true;
	p->seen++;
	if (p->lost >= p->count)
		return true;
	p->lost++;
	return false;
}

static const char *const retrans_counters[] = {
	"ActiveOpens", "PassiveOpens", "RetransSegs", "TCPSynRetrans", "TCPTimeouts",
	"OutSegs", NULL,
};

static void run_lost_handshake(demo *d, loss_plan *p, const char *what)
{
	int lsd, csd, ssd;
	uint64_t t0 = demo_now(d);

	d->user = p;
	d->filter = lose_first;
	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	demo_say(d, "the first %d %s were lost; connected after %" PRIu32 " ms", p->lost,
		 what, elapsed_ms(d, t0));
	demo_expect(d, p->lost == p->count, "only %d %s were lost", p->lost, what);
	demo_say(d, "%s sent %d %s in all", p->side ? "server" : "client", p->seen, what);
	demo_expect(d, p->seen > p->count, "%s sent only %d %s",
		    p->side ? "server" : "client", p->seen, what);
	close_client_first(d, csd, ssd);
	expect_clean(d);
}

static void run_syn_retransmit(demo *d)
{
	loss_plan p = { .side = C, .flags = HSK_TH_SYN, .count = 2 };

	run_lost_handshake(d, &p, "SYNs");
	/* initial RTO 1 s, doubled: SYNs at 0, 1 s and 3 s */
}

static void run_synack_retransmit(demo *d)
{
	loss_plan p = { .side = S, .flags = HSK_TH_SYN | HSK_TH_ACK, .count = 2 };

	run_lost_handshake(d, &p, "SYN,ACKs");
}

/* ---- lost final ACK ---- */

static bool lose_final_ack(demo *d, int from, const tcp_hdr *seg, size_t len)
{
	loss_plan *p = d->user;

	if (!seg)
		return true;
	if (from == S && (seg->flags & HSK_TH_FIN)) {
		p->fin_seq = seg->seq + (uint32_t)len;
		p->have_fin = true;
		return true;
	}
	if (from == C && p->have_fin && p->lost < p->count &&
	    seg->flags == HSK_TH_ACK && len == 0 && seg->ack == p->fin_seq + 1) {
		p->lost++;
		return false;
	}
	return true;
}

static const char *const lost_ack_counters[] = {
	"RetransSegs", "TCPTimeouts", "TW", "InSegs", "OutSegs", NULL,
};

static void run_lost_final_ack(demo *d)
{
	loss_plan p = { .count = 1 };
	int lsd, csd, ssd;

	d->user = &p;
	d->filter = lose_final_ack;
	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	close_client_first(d, csd, ssd);
	demo_expect(d, p.lost == 1, "the final ACK was not seen (lost %d)", p.lost);
	demo_expect(d, hsk_counter_by_name(demo_stack(d, S), "RetransSegs") >= 1,
		    "server did not retransmit its FIN");
	demo_say(d, "the client's ACK of the server's FIN was lost; the server "
		 "retransmitted the FIN and the client in TIME_WAIT acknowledged it again");
	expect_path(d, S, "LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	expect_clean(d);
}

/* ---- accept queue overflow ---- */

static const char *const overflow_counters[] = {
	"ActiveOpens", "PassiveOpens", "ListenOverflows", "ListenDrops",
	"TCPReqQFullDrop", "SyncookiesSent", "RetransSegs", "TCPSynRetrans", NULL,
};

typedef struct listen_info {
	uint32_t accept_q, syn_q, backlog;
} listen_info;

static void get_listen(void *ctx, const hsk_conn_info *ci)
{
	listen_info *li = ctx;

	if (ci->state == HSK_LISTEN) {
		li->accept_q = ci->accept_q;
		li->syn_q = ci->syn_q;
		li->backlog = ci->backlog;
	}
}

static void show_clients(demo *d, const int *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		hsk_tuple t;

		hsk_sock_tuple(demo_stack(d, C), c[i], &t);
		demo_say(d, "client %d (port %u): %s", i + 1, t.lport,
			 hsk_state_name(hsk_sock_state(demo_stack(d, C), c[i])));
	}
}

/*
 * Backlog 2. The first client's connection fills one slot of the accept
 * queue; the second and third handshake at the same instant, both SYNs fit
 * the SYN queue, the second completes and fills the accept queue, so the
 * third's final ACK is dropped: that client believes it is connected while
 * the server still holds a request and retransmits its SYN,ACK. A fourth
 * client's SYN then meets the full accept queue. (With backlog 1 the SYN
 * queue, capped by the backlog too, could never hold the second request
 * while the first connection waits, so no final ACK could be dropped.)
 */
static void run_accept_overflow(demo *d)
{
	int lsd, c[4], s[4], i, accepted = 0;
	listen_info li = { 0, 0, 0 };
	uint64_t deadline;

	diagram_show_ports(d->dg, true);
	lsd = demo_listen(d, 80, 2);
	if (lsd < 0)
		return;
	demo_run_for(d, 1 * DEMO_MS);
	for (i = 0; i < 4; i++) {
		c[i] = demo_connect(d, C, 0, SRV, 80);
		if (c[i] < 0)
			return;
		/* the second and third connect together */
		if (i != 1)
			demo_run_for(d, 10 * DEMO_MS);
	}
	/* the server does not accept for 3 s */
	demo_run_for(d, 3 * DEMO_S);
	hsk_stack_conns(demo_stack(d, S), get_listen, &li);
	demo_say(d, "after 3 s without accept(): accept queue %u (backlog %u), SYN queue %u",
		 li.accept_q, li.backlog, li.syn_q);
	show_clients(d, c, 4);
	demo_expect(d, hsk_counter_by_name(demo_stack(d, S), "ListenOverflows") >= 1,
		    "no ListenOverflows with backlog 2 and four clients");
	/* now the server accepts; the waiting handshakes complete on the
	 * next retransmission */
	deadline = demo_now(d) + 60 * DEMO_S;
	while (accepted < 4 && demo_now(d) < deadline) {
		int sd = demo_wait_accept(d, lsd, deadline - demo_now(d));

		if (sd < 0)
			break;
		s[accepted++] = sd;
	}
	demo_say(d, "the server accepted %d connection(s) by t=%.3f ms", accepted,
		 demo_now(d) / 1e6);
	demo_expect(d, accepted == 4, "only %d of 4 connections were accepted", accepted);
	for (i = 0; i < 4; i++)
		hsk_abort(demo_stack(d, C), c[i]);
	demo_note(d, C, "abort() x4");
	demo_run_for(d, 10 * DEMO_MS);
	for (i = 0; i < accepted; i++)
		hsk_close(demo_stack(d, S), s[i]);
	demo_run_until_idle(d, 300 * DEMO_S);
	expect_clean(d);
}

/* ---- RST in the window (RFC 5961 section 3.2) ---- */

static const char *const rst_counters[] = {
	"TCPChallengeACK", "TCPChallengeACKLimited", "EstabResets", "OutRsts",
	"InSegs", NULL,
};

static void run_rst_in_window(demo *d)
{
	int lsd, csd, ssd, err;
	uint32_t rcv_nxt;
	hsk_tuple t;
	long n;

	if (!establish(d, 16, &lsd, &csd, &ssd))
		return;
	demo_send(d, C, csd, 10);
	n = demo_recv(d, S, ssd, 10, 10 * DEMO_S);
	demo_expect(d, n == 10, "server: received %ld bytes, not 10", n);
	demo_run_for(d, 100 * DEMO_MS);
	/* what the server expects next is what the client sent last */
	rcv_nxt = d->side[C].snd_nxt;
	t = d->side[C].last_tuple;

	demo_inject(d, C, &t, HSK_TH_RST, rcv_nxt + 1000, 0, 0);
	demo_run_for(d, 10 * DEMO_MS);
	demo_expect(d, hsk_sock_state(demo_stack(d, S), ssd) == HSK_ESTABLISHED,
		    "server: %s after an in-window RST, not ESTABLISHED",
		    hsk_state_name(hsk_sock_state(demo_stack(d, S), ssd)));
	demo_expect(d, hsk_counter_by_name(demo_stack(d, S), "TCPChallengeACK") >= 1,
		    "server: no challenge ACK for an in-window RST");
	demo_say(d, "RST with seq=RCV.NXT+1000: challenge ACK, connection kept");

	demo_inject(d, C, &t, HSK_TH_RST, rcv_nxt, 0, 0);
	demo_run_for(d, 10 * DEMO_MS);
	err = hsk_sock_error(demo_stack(d, S), ssd);
	demo_say(d, "RST with seq=RCV.NXT: server connection reset (%s)",
		 err ? hsk_errno_name(err) : "no error");
	demo_expect(d, err == HSK_ECONNRESET, "server: error %s after an exact RST, "
		    "expected ECONNRESET", hsk_errno_name(err));
	hsk_close(demo_stack(d, S), ssd);
	/* the client does not know: its next segment meets a RST */
	demo_send(d, C, csd, 10);
	demo_run_for(d, 100 * DEMO_MS);
	err = hsk_sock_error(demo_stack(d, C), csd);
	demo_say(d, "client's next send met a RST: %s", err ? hsk_errno_name(err) : "no error");
	demo_expect(d, err == HSK_ECONNRESET, "client: error %s, expected ECONNRESET",
		    hsk_errno_name(err));
	hsk_close(demo_stack(d, C), csd);
	demo_run_until_idle(d, 300 * DEMO_S);
	expect_clean(d);
}

/* ---- bulk transfer ---- */

#define BULK_BYTES (4u << 20)
#define BULK_RATE_BPS 100000000ull     /* 100 Mbit/s each way */
#define BULK_DELAY_NS (10 * DEMO_MS)   /* 20 ms round trip */
#define BULK_LOSS 0.01                 /* unless --loss says otherwise (0: none) */

static const char *const bulk_counters[] = {
	"OutSegs", "InSegs", "RetransSegs", "TCPFastRetrans", "TCPTimeouts",
	"TCPSackRecovery", "TCPRenoRecovery", "TCPLossProbes", "TCPDSACKRecv",
	"TCPOFOQueue", "TCPDelayedACKs", NULL,
};

typedef struct bulk_state {
	int csd, ssd;
	uint64_t sent, got, t_done;
	int err;
} bulk_state;

/* Called after every event: the client writes while the send buffer
 * takes it, the server reads everything there is. */
static bool bulk_progress(demo *d, void *arg)
{
	bulk_state *b = arg;
	long rc;

	demo_stack(d, C);
	while (b->sent < BULK_BYTES) {
		rc = demo_send_some(d, C, b->csd, BULK_BYTES - b->sent);
		if (rc <= 0) {
			if (rc != -HSK_EAGAIN)
				b->err = (int)-rc;
			break;
		}
		b->sent += (uint64_t)rc;
	}
	while ((rc = demo_recv_some(d, S, b->ssd)) > 0)
		b->got += (uint64_t)rc;
	if (rc != -HSK_EAGAIN && rc <= 0 && b->got < BULK_BYTES)
		b->err = rc ? (int)-rc : HSK_EPIPE;
	if (b->got >= BULK_BYTES && !b->t_done)
		b->t_done = demo_now(d);
	return b->err || b->got >= BULK_BYTES;
}

static void run_bulk(demo *d)
{
	bulk_state b = { 0 };
	uint64_t t0, dt;
	int lsd;

	memnet_impair imp = {
		.delay_ns = BULK_DELAY_NS, .rate_bps = BULK_RATE_BPS,
		.loss = d->o->loss_given ? d->o->loss : BULK_LOSS,
	};
	memnet_set_impair(d->net, d->host[C], &imp);
	memnet_set_impair(d->net, d->host[S], &imp);
	if (!establish(d, 16, &lsd, &b.csd, &b.ssd))
		return;
	t0 = demo_now(d);
	demo_note(d, C, "send() %u bytes as fast as the stack takes them", BULK_BYTES);
	demo_run_until(d, bulk_progress, &b, 600 * DEMO_S);
	demo_note(d, S, "recv() = %" PRIu64 " in all", b.got);
	demo_expect(d, !b.err, "transfer failed: %s", hsk_errno_name(b.err));
	demo_expect(d, b.got == BULK_BYTES, "server received %" PRIu64 " of %u bytes",
		    b.got, BULK_BYTES);
	demo_expect(d, d->side[S].rx_bad == 0, "%" PRIu64 " bytes arrived corrupted",
		    d->side[S].rx_bad);
	dt = (b.t_done ? b.t_done : demo_now(d)) - t0;
	demo_say(d, "link: %.0f Mbit/s each way, RTT %.0f ms, %.1f %% loss each way",
		 BULK_RATE_BPS / 1e6, 2 * BULK_DELAY_NS / 1e6, 100 * imp.loss);
	demo_say(d, "%" PRIu64 " bytes in %.3f ms of virtual time: goodput %.1f Mbit/s, "
		 "in order and intact", b.got, dt / 1e6,
		 dt ? b.got * 8.0 * 1e3 / (double)dt : 0.0);
	d->fig.transfer = true;
	d->fig.transfer_ns = dt;
	d->fig.goodput_mbps = dt ? b.got * 8.0 * 1e3 / (double)dt : 0.0;
	hsk_tcp_info ti;
	if (hsk_sock_info(demo_stack(d, C), b.csd, &ti) == 0) {
		demo_say(d, "sender: %s, SACK %s, timestamps %s, final cwnd %u bytes "
			 "(ssthresh %u), srtt %.1f ms, rto %.0f ms", ti.congestion_control,
			 ti.sack ? "on" : "off", ti.timestamps ? "on" : "off", ti.cwnd,
			 ti.ssthresh, ti.srtt_ns / 1e6, ti.rto_ns / 1e6);
		d->fig.final_cwnd = ti.cwnd;
		d->fig.final_ssthresh = ti.ssthresh;
		d->fig.srtt_ns = ti.srtt_ns;
	}
	close_client_first(d, b.csd, b.ssd);
	expect_clean(d);
}

const demo_scenario demo_scenarios[] = {
	{ "basic", "three-way handshake, 64-byte request and response, four-way close",
	  basic_counters, run_basic, false },
	{ "simultaneous-open", "both ends connect to each other at the same instant",
	  basic_counters, run_simultaneous_open, false },
	{ "simultaneous-close", "both ends close at the same instant: CLOSING on both",
	  basic_counters, run_simultaneous_close, false },
	{ "half-close", "client shuts down writing and keeps receiving, then the server closes",
	  basic_counters, run_half_close, false },
	{ "refused", "connect to a port with no listener: RST,ACK and ECONNREFUSED",
	  refused_counters, run_refused, false },
	{ "syn-retransmit", "the first two SYNs are lost: retransmitted after 1 s and 2 s",
	  retrans_counters, run_syn_retransmit, false },
	{ "synack-retransmit", "the first two SYN,ACKs are lost: the server retransmits",
	  retrans_counters, run_synack_retransmit, false },
	{ "lost-final-ack", "the last ACK of the close is lost: FIN retransmitted, "
	  "re-acknowledged from TIME_WAIT", lost_ack_counters, run_lost_final_ack, false },
	{ "accept-overflow", "backlog 2, no accept() for 3 s, four clients: a final "
	  "ACK and SYNs dropped", overflow_counters, run_accept_overflow, false },
	{ "bulk", "4 MiB from client to server over a lossy 100 Mbit/s link "
	  "(summary only)", bulk_counters, run_bulk, .quiet = true },
	{ "rst-in-window", "an in-window RST that is not RCV.NXT gets a challenge ACK "
	  "(RFC 5961)", rst_counters, run_rst_in_window, false },
	{ "syn-flood", "32,768 spoofed SYNs at a backlog of 64: SYN cookies, and a real "
	  "client still gets through (summary only)", demo_flood_counters,
	  demo_run_syn_flood, .quiet = true },
};

const size_t demo_nscenarios = sizeof(demo_scenarios) / sizeof(demo_scenarios[0]);
