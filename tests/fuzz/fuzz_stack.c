/*
 * libFuzzer target: the whole stack behind hsk_stack_input.
 *
 * The input is a script of records; each record is one TCP segment sent to
 * a stack with a listener on port 80 and a client connection to 198.18.0.1
 * port 443, from 198.18.0.1:
 *   byte 0  mode: bit 0 sport 443 (else 1000 + byte 1), bit 1 seq relative
 *           to what the stack expects, bit 2 ack relative to what it sent,
 *           bit 3 corrupt the checksum, bit 4 advance time by byte 1 * 10 ms,
 *           bit 5 run a socket call (byte 1 picks which), bit 6 raw IP bytes,
 *           bit 7 timestamps and SACK blocks (from the payload's first
 *           bytes, relative to what the stack sent)
 *   byte 1  argument
 *   2..5    seq (or delta), 6..9 ack (or delta), 10 flags, 11..12 window,
 *   13      payload length (0..255), then the payload.
 * Checksums are computed by the harness unless asked to be wrong, so the
 * fuzzer reaches the engine instead of the checksum check. Relative seq/ack
 * let it complete handshakes whose ISNs it cannot guess. At the end every
 * timer is run out and the stack freed: leaks and bad accesses show up under
 * ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "handshake.h"
#include "wire/wire.h"

#define OUR_ADDR 0xc6120002u
#define PEER_ADDR 0xc6120001u

struct last_tx {
	uint32_t nxt, ack;      /* what the stack sent last: seq end, ack */
	uint32_t tsval;         /* its latest timestamp, to echo */
	unsigned count;
};

static void on_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct last_tx *lt = ctx;
	ipv4_hdr ih;
	tcp_hdr th;
	const uint8_t *pl, *data;
	size_t pn, dn;
	lt->count++;
	if (ipv4_parse(pkt, len, &ih, &pl, &pn) < 0 || ih.proto != IP_PROTO_TCP)
		return;
	if (tcp_parse(pl, pn, ih.src, ih.dst, false, &th, &data, &dn) < 0)
		return;
	lt->nxt = th.seq + (uint32_t)dn + !!(th.flags & HSK_TH_SYN) + !!(th.flags & HSK_TH_FIN);
	lt->ack = th.ack;
	if (th.opt.has_ts)
		lt->tsval = th.opt.ts_val;
}

static void socket_call(hsk_stack *s, int lsd, int csd, uint8_t arg)
{
	static const char msg[] = "GET / HTTP/1.1\r\n\r\n";
	char buf[512];
	int sd = hsk_accept(s, lsd, NULL);
	if (sd < 0)
		sd = (arg & 0x80) ? csd : 2;
	switch (arg % 8) {
	case 0: hsk_send(s, sd, msg, sizeof(msg) - 1); break;
	case 1: hsk_recv(s, sd, buf, sizeof(buf)); break;
	case 2: hsk_shutdown(s, sd, HSK_SHUT_WR); break;
	case 3: hsk_close(s, sd); break;
	case 4: hsk_abort(s, sd); break;
	case 5: hsk_setsockopt(s, sd, HSK_SO_NODELAY, 1); break;
	case 6: hsk_poll(s, sd); hsk_sock_error(s, sd); break;
	default: hsk_shutdown(s, sd, HSK_SHUT_RD); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct last_tx lt = { 0 };
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = OUR_ADDR;
	cfg.seed = 1;   /* fixed keys: a finding replays from its input alone */
	cfg.sndbuf = cfg.rcvbuf = 4096;
	hsk_link link = { &lt, on_transmit };
	uint64_t now = 1000000000ull;
	hsk_stack *s = hsk_stack_new(&cfg, &link, now);
	if (!s)
		return 0;
	int lsd = hsk_socket(s);
	hsk_bind(s, lsd, 0, 80);
	hsk_listen(s, lsd, 4);
	int csd = hsk_socket(s);
	hsk_bind(s, csd, 0, 5555);
	hsk_connect(s, csd, PEER_ADDR, 443);

	uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN + 256];
	uint32_t tsclock = 1000;
	size_t i = 0;
	while (i + 14 <= n) {
		const uint8_t *r = in + i;
		uint8_t mode = r[0], arg = r[1];
		size_t plen = r[13];
		if (i + 14 + plen > n)
			plen = n - i - 14;
		const uint8_t *payload = r + 14;
		i += 14 + plen;
		if (mode & 0x10)
			now += (uint64_t)arg * 10000000ull;
		hsk_stack_advance(s, now);
		if (mode & 0x20) {
			socket_call(s, lsd, csd, arg);
			continue;
		}
		if (mode & 0x40) {
			/* Raw bytes straight into IP input. */
			hsk_stack_input(s, now, payload, plen);
			continue;
		}
		tcp_hdr th = {
			.sport = (mode & 1) ? 443 : (uint16_t)(1000 + arg),
			.dport = (mode & 1) ? 5555 : 80,
			.seq = rd32(r + 2), .ack = rd32(r + 6),
			.flags = r[10], .win = rd16(r + 11),
		};
		th.opt.wscale = -1;
		if (r[10] & HSK_TH_SYN) {
			th.opt.mss = (uint16_t)(536 + arg * 4);
			th.opt.wscale = (int8_t)(arg % 16);
			th.opt.sack_ok = arg & 1;
			th.opt.has_ts = arg & 2;
			th.opt.ts_val = ++tsclock;
		} else if (mode & 0x80) {
			/* Timestamps and SACK blocks around what the stack sent:
			 * reaches PAWS, the scoreboard and RACK. */
			th.opt.has_ts = true;
			th.opt.ts_val = (arg & 4) ? tsclock - arg : ++tsclock;
			th.opt.ts_ecr = lt.tsval;
			for (size_t b = 0; b < 3 && 4 * (b + 1) <= plen; b++) {
				uint32_t left = lt.nxt - rd16(payload + 4 * b);
				th.opt.sack[b].left = left;
				th.opt.sack[b].right = left + rd16(payload + 4 * b + 2);
				th.opt.nsack = (uint8_t)(b + 1);
			}
		}
		if (mode & 2)
			th.seq += lt.ack;
		if (mode & 4)
			th.ack += lt.nxt;
		int tl = tcp_emit(&th, payload, plen, PEER_ADDR, OUR_ADDR,
				  pkt + IPV4_HDR_LEN, sizeof(pkt) - IPV4_HDR_LEN);
		if (tl < 0)
			continue;
		if (mode & 8)
			pkt[IPV4_HDR_LEN + 16] ^= 0x5a;
		ipv4_hdr ih = { .total_len = (uint16_t)(IPV4_HDR_LEN + tl), .ttl = 64,
				.proto = IP_PROTO_TCP, .src = PEER_ADDR, .dst = OUR_ADDR };
		ipv4_emit(&ih, pkt, IPV4_HDR_LEN);
		hsk_stack_input(s, now, pkt, (size_t)(IPV4_HDR_LEN + tl));
	}
	/* Run every timer out: TIME_WAIT, retransmissions, FIN_WAIT_2. */
	for (int k = 0; k < 10000; k++) {
		uint64_t d = hsk_stack_next_deadline(s);
		if (d == UINT64_MAX)
			break;
		now = d > now ? d : now;
		hsk_stack_advance(s, now);
	}
	hsk_stack_free(s);
	return 0;
}
