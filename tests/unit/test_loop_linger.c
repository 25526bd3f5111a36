/*
 * hsk_loop_linger's TIME_WAIT grace runs again from each packet that comes
 * in: a peer in LAST_ACK whose every resent FIN arrives within the grace
 * of the one before is answered each time, however long that takes in
 * all. (A clean-clone CI run failed interop_test_loss when `connect`'s
 * grace ran from its close only and the kernel's later resends of its
 * FIN met no one.)
 *
 * The peer is a device written here: it answers the loop's SYN with a
 * SYN-ACK and its FIN with an ACK and a FIN of its own, then resends that
 * FIN RESEND_GAP after each ACK of it, RESENDS times: a peer whose ACKs
 * we send are lost, as far as it can tell.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handshake.h"
#include "handshake_loop.h"
#include "link/dev.h"
#include "wire/wire.h"

enum {
	US = 0xc6120002,          /* 198.18.0.2: the loop's stack */
	PEER = 0xc6120001,        /* 198.18.0.1 */
	PEER_PORT = 80,
	PEER_ISS = 1000000,
	RESENDS = 3,
};
#define MS 1000000ull
#define GRACE (1000 * MS)
#define RESEND_GAP (500 * MS)     /* well inside GRACE, so a stall does not matter */

struct peer_dev {
	hsk_dev d;
	int pipe[2];
	uint8_t pkt[128];
	size_t pkt_len;           /* a segment ready for read(); 0: none */
	uint64_t fin_due;         /* when the FIN is resent; UINT64_MAX: never */
	uint16_t our_port;
	uint32_t our_fin_ack;     /* the ACK our FIN needs (its seq + 1) */
	unsigned fin_acks, resends;
	uint64_t last_fin_ack_at; /* when the last ACK of the peer's FIN came */
};

static void peer_segment(struct peer_dev *p, uint8_t flags, uint32_t ack)
{
	ipv4_hdr ip = { .ttl = 64, .proto = IP_PROTO_TCP, .src = PEER, .dst = US };
	tcp_hdr th = {
		.sport = PEER_PORT, .dport = p->our_port,
		.seq = PEER_ISS + (flags & HSK_TH_SYN ? 0 : 1), .ack = ack,
		.flags = flags, .win = 65535,
	};
	int n;

	tcp_opts_init(&th.opt);
	n = tcp_emit(&th, NULL, 0, PEER, US, p->pkt + IPV4_HDR_LEN,
		     sizeof(p->pkt) - IPV4_HDR_LEN);
	assert_true(n > 0);
	ip.total_len = (uint16_t)(IPV4_HDR_LEN + n);
	assert_int_equal(ipv4_emit(&ip, p->pkt, sizeof(p->pkt)), IPV4_HDR_LEN);
	p->pkt_len = ip.total_len;
}

/* The peer's answers to what the loop sends. */
static int pd_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct peer_dev *p = (struct peer_dev *)d;
	const uint8_t *seg, *data;
	size_t seg_len, data_len;
	ipv4_hdr ip;
	tcp_hdr th;

	assert_int_equal(ipv4_parse(pkt, len, &ip, &seg, &seg_len), WIRE_OK);
	assert_int_equal(tcp_parse(seg, seg_len, ip.src, ip.dst, true, &th, &data, &data_len),
			 WIRE_OK);
	if (th.flags & HSK_TH_SYN) {
		p->our_port = th.sport;
		peer_segment(p, HSK_TH_SYN | HSK_TH_ACK, th.seq + 1);
	} else if (th.flags & HSK_TH_FIN) {
		p->our_fin_ack = th.seq + 1;
		peer_segment(p, HSK_TH_FIN | HSK_TH_ACK, p->our_fin_ack);
	} else if (p->our_fin_ack && th.ack == PEER_ISS + 2) {
		p->fin_acks++;
		p->last_fin_ack_at = now;
		if (p->resends < RESENDS)
			p->fin_due = now + RESEND_GAP;
	}
	d->st.tx_packets++;
	return 0;
}

static void pd_advance(hsk_dev *d, uint64_t now)
{
	struct peer_dev *p = (struct peer_dev *)d;

	if (now < p->fin_due)
		return;
	p->fin_due = UINT64_MAX;
	p->resends++;
	peer_segment(p, HSK_TH_FIN | HSK_TH_ACK, p->our_fin_ack);
}

static uint64_t pd_next_deadline(const hsk_dev *d)
{
	return ((const struct peer_dev *)d)->fin_due;
}

static long pd_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct peer_dev *p = (struct peer_dev *)d;
	size_t n = p->pkt_len;

	(void)now;
	if (!n)
		return 0;
	assert_true(n <= cap);
	memcpy(buf, p->pkt, n);
	p->pkt_len = 0;
	d->st.rx_packets++;
	return (long)n;
}

static void pd_close(hsk_dev *d)
{
	struct peer_dev *p = (struct peer_dev *)d;

	close(p->pipe[0]);
	close(p->pipe[1]);
}

static const struct hsk_dev_ops peer_ops = {
	.read = pd_read, .write = pd_write, .close = pd_close,
	.next_deadline = pd_next_deadline, .advance = pd_advance,
};

static void test_resent_fins_answered(void **state)
{
	struct peer_dev p = { .fin_due = UINT64_MAX };
	uint64_t start, end;
	char err[128];
	hsk_loop *l;
	hsk_stack *s;
	hsk_usage u;
	int sd, rc;

	(void)state;
	assert_int_equal(pipe(p.pipe), 0);
	p.d.ops = &peer_ops;
	p.d.fd = p.pipe[0];
	p.d.mtu = 1500;
	l = hsk_loop_new(&p.d, US, NULL, err, sizeof(err));
	assert_non_null(l);
	s = hsk_loop_stack(l);

	sd = hsk_socket(s);
	assert_true(sd >= 0);
	hsk_connect(s, sd, PEER, PEER_PORT);
	start = hsk_now_ns();
	while (hsk_sock_state(s, sd) != HSK_ESTABLISHED && hsk_now_ns() - start < 2000 * MS)
		assert_true(hsk_loop_run_once(l, 10 * MS) >= 0);
	assert_int_equal(hsk_sock_state(s, sd), HSK_ESTABLISHED);

	assert_int_equal(hsk_close(s, sd), 0);
	start = hsk_now_ns();
	rc = hsk_loop_linger(l, start + 10000 * MS, GRACE);
	end = hsk_now_ns();

	assert_int_equal(rc, 0);
	/* the FIN and each resend answered: a grace from the close alone
	 * would have ended before the second resend */
	assert_int_equal(p.resends, RESENDS);
	assert_int_equal(p.fin_acks, 1 + RESENDS);
	assert_true(end - start >= RESENDS * RESEND_GAP + GRACE);
	/* and no longer than the grace after the last */
	assert_true(end >= p.last_fin_ack_at + GRACE);
	assert_true(end - p.last_fin_ack_at < GRACE + 1000 * MS);
	hsk_stack_usage(s, &u);
	assert_int_equal(u.timewaits, 1);
	hsk_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resent_fins_answered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
