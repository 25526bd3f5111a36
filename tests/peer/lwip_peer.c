/*
 * The lwIP peer harness (lwip_peer.h): the wire between the two stacks,
 * each end's application, and the driver that steps the network and
 * lwIP's timer.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "handshake.h"
#include "lwip_peer.h"

#define HSK_IP 0xc6120001u /* 198.18.0.1 */
#define LW_IP 0xc6120002u  /* 198.18.0.2 */
static const uint8_t HSK_IP6[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
static const uint8_t LW_IP6[16] = { 0x20, 0x01, 0, 2, [15] = 2 };
enum { PORT = 5001, CHUNK = 16384 };

/* One direction's bytes: written from a pattern, checked on arrival. */
typedef struct flow {
	uint64_t total, sent, got;
	uint8_t seed;
	bool bad; /* a byte arrived that the pattern does not have there */
	uint64_t done_ns;     /* when the last byte was read */
} flow;

static uint8_t pattern(const flow *f, uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 11) + f->seed);
}

static void flow_fill(const flow *f, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(f, f->sent + i);
}

static void flow_check(flow *f, const uint8_t *buf, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(f, f->got + i))
			f->bad = true;
	f->got += n;
	if (f->got == f->total)
		f->done_ns = now;
}

/* An end, as its application sees it. */
typedef struct end {
	flow *out, *in;      /* what it writes, what it reads */
	bool eof;            /* the peer's FIN read */
	bool shut;           /* its own FIN asked for */
	bool closed;         /* closed (or aborted) by the application */
	int err;             /* handshake: -errno; lwIP: its err_t */
	bool aborted;        /* this end reset the connection */
} end;
/* The run under way (one at a time: lwIP has one global instance). */
static struct {
	const scenario *sc;
	hsk_memnet *net;
	hsk_stack *st;
	hsk_link lw_link;     /* host 1's way into the network */
	uint64_t next_tick;   /* lwIP's next tcp_tmr */
	flow up, down;
	end h, l;
	int lsd, sd;          /* handshake's listener and connection */
	struct tcp_pcb *lpcb, *pcb;
	struct pbuf *held;    /* lwIP: received, not yet read */
	bool lw_connected;
	uint64_t pause_until;
	uint64_t t0;          /* the run's start */
	bool silenced, spoken; /* the silent end's silence began, ended */
	peer_figures fig;
	uint32_t snd_max[2];  /* per sender, the highest sequence number sent
			       * past the SYN */
	bool snd_max_set[2];
	bool print;
} R;

static struct netif lw_nif;
/* lwIP's tcp_output and ip_input. handshake has functions of those names
 * too (hidden from other libraries, CMakeLists.txt), and this program's
 * own calls bind to them: lwIP's are taken from its library. The other
 * lwIP calls here have no namesake in handshake. */
static err_t (*lw_tcp_output)(struct tcp_pcb *pcb);
static err_t (*lw_ip_input)(struct pbuf *p, struct netif *inp);
static uint8_t lw_out[65536];

/* ---- the wire ---- */

static err_t lw_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)n, (void)dst;
	pbuf_copy_partial(p, lw_out, p->tot_len, 0);
	R.lw_link.transmit(R.lw_link.ctx, lw_out, p->tot_len);
	return ERR_OK;
}

static err_t lw_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)dst;
	return lw_output(n, p, NULL);
}

/* Whether a packet for lwIP is TCP or ICMP in a sound IP header:
 * version, protocol or next header, lengths. The network's corruption
 * flips any byte; lwIP takes a flipped protocol for UDP-Lite and asserts
 * ("delete me", inet_chksum.c) on the coverage it then reads, so such
 * packets stop here, counted (lwIP's robustness is not what this tests).
 * A flipped byte anywhere else reaches lwIP, whose checksums catch it. */
static bool lw_sound(const uint8_t *pkt, size_t len)
{
	if (len >= 40 && pkt[0] >> 4 == 6)
		return (pkt[6] == 6 || pkt[6] == 58) && (size_t)(pkt[4] << 8 | pkt[5]) + 40 == len;
	return len >= 20 && pkt[0] == 0x45 && (pkt[9] == 6 || pkt[9] == 1) &&
	       (size_t)(pkt[2] << 8 | pkt[3]) == len;
}

static void lw_sink(void *ctx, uint64_t now, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)now;
	if (!lw_sound(pkt, len)) {
		R.fig.lw_shielded++;
		if (R.print)
			fprintf(stderr, "%10.3f unsound packet kept from lwIP: %02x %02x %02x, len %zu\n",
				(double)memnet_now(R.net) / SEC, pkt[0], pkt[6], pkt[9], len);
		return;
	}
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		return;
	pbuf_take(p, pkt, (u16_t)len);
	if (lw_nif.input(p, &lw_nif) != ERR_OK)
		pbuf_free(p);
}

static err_t lw_nif_init(struct netif *n)
{
	n->name[0] = 'h';
	n->name[1] = 's';
	n->output = lw_output;
	n->output_ip6 = lw_output6;
	n->mtu = 1500;
	n->mtu6 = 1500;
	return ERR_OK;
}

static void lw_setup(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	void *lib = dlopen("liblwip.so.0", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(lib);
	*(void **)&lw_tcp_output = dlsym(lib, "tcp_output");
	*(void **)&lw_ip_input = dlsym(lib, "ip_input");
	assert_non_null(lw_tcp_output);
	assert_non_null(lw_ip_input);
	lwip_init();
	ip4_addr_t a, mask, gw;
	IP4_ADDR(&a, 198, 18, 0, 2);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 198, 18, 0, 1);
	assert_non_null(netif_add(&lw_nif, &a, &mask, &gw, NULL, lw_nif_init, lw_ip_input));
	ip6_addr_t a6;
	memcpy(a6.addr, LW_IP6, 16);
	ip6_addr_clear_zone(&a6);
	netif_ip6_addr_set(&lw_nif, 0, &a6);
	netif_ip6_addr_set_state(&lw_nif, 0, IP6_ADDR_PREFERRED); /* no DAD */
	netif_set_default(&lw_nif);
	netif_set_up(&lw_nif);
	netif_set_link_up(&lw_nif);
}

/* Every packet either end sends, before impairments. */
static bool on_packet(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	bool v6 = pkt[0] >> 4 == 6;
	size_t hl = v6 ? 40 : (pkt[0] & 15) * 4u;
	if (len < hl + 20 || pkt[v6 ? 6 : 9] != 6) {
		if (R.print)
			fprintf(stderr, "%10.3f %s protocol %u len %zu\n",
				(double)memnet_now(R.net) / SEC, from == HSK ? "hsk ->" : "<- lw",
				pkt[v6 ? 6 : 9], len);
		return true; /* not TCP (lwIP's MLD reports, say: unroutable here) */
	}
	if (from == LW && len > R.fig.lw_largest)
		R.fig.lw_largest = len;
	const uint8_t *t = pkt + hl;
	if (!t[14] && !t[15] && !(t[13] & TCP_RST))
		R.fig.zero_wnd[from]++;
	size_t dlen = len - hl - (t[12] >> 4) * 4u;
	if ((v6 ? pkt[1] >> 4 : pkt[1]) & 3)
		R.fig.ect[from]++;
	if (t[13] & TCP_URG)
		R.fig.urg[from]++;
	if ((t[13] & TCP_SYN) && !R.fig.syn_flags[from]) {
		R.fig.syn_flags[from] = t[13];
		R.fig.syn_data[from] = dlen;
	}
	uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	if (!dlen && (t[13] & 0x3f) == TCP_ACK && R.snd_max_set[from] &&
	    seq == R.snd_max[from] - 1)
		R.fig.probes[from]++;
	if (dlen && !(t[13] & TCP_SYN)) {
		R.fig.data_segs[from]++;
		uint32_t last = seq + (uint32_t)dlen;
		if (R.snd_max_set[from] && (int32_t)(last - R.snd_max[from]) <= 0)
			R.fig.resent[from]++;
		else
			R.snd_max[from] = last;
		R.snd_max_set[from] = true;
	}
	if (R.print) {
		uint32_t ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | t[10] << 8 | t[11];
		fprintf(stderr, "%10.3f %s flags %02x seq %u ack %u win %u len %zu\n",
			(double)memnet_now(R.net) / SEC, from == HSK ? "hsk ->" : "<- lw",
			t[13], seq, ack, t[14] << 8 | t[15], len);
	}
	return true;
}

/* ---- lwIP's application ---- */

static err_t lw_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)pcb, (void)err;
	if (!p)
		R.l.eof = true;
	else if (R.held)
		pbuf_cat(R.held, p);
	else
		R.held = p;
	return ERR_OK;
}

static void lw_on_err(void *arg, err_t err)
{
	(void)arg;
	R.l.err = err;
	R.pcb = NULL; /* lwIP has freed it */
}

static err_t lw_on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg, (void)pcb, (void)err;
	R.lw_connected = true;
	return ERR_OK;
}

static void lw_attach(struct tcp_pcb *pcb)
{
	R.pcb = pcb;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, lw_on_recv);
	tcp_err(pcb, lw_on_err);
	if (R.sc->keepalive_by == LW) {
		ip_set_option(pcb, SOF_KEEPALIVE);
		pcb->keep_idle = 5000;
		pcb->keep_intvl = 1000;
		pcb->keep_cnt = 3;
	}
}

static void hsk_keepalive(int sd)
{
	if (R.sc->keepalive_by != HSK)
		return;
	assert_int_equal(hsk_setsockopt(R.st, sd, HSK_SO_KEEPALIVE, 1), 0);
	assert_int_equal(hsk_setsockopt(R.st, sd, HSK_SO_KEEPIDLE, 5), 0);
	assert_int_equal(hsk_setsockopt(R.st, sd, HSK_SO_KEEPINTVL, 1), 0);
	assert_int_equal(hsk_setsockopt(R.st, sd, HSK_SO_KEEPCNT, 3), 0);
}

/* The end that keeps still gave up probing (keepalive_by's error). */
static bool prober_failed(void)
{
	return R.sc->keepalive_by == HSK ? R.h.err != 0 : R.l.err != 0;
}

static err_t lw_on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb || R.pcb || R.l.closed)
		return ERR_VAL;
	lw_attach(pcb);
	R.lw_connected = true;
	return ERR_OK;
}

/* What a reader may take now: all it can, or read_rate per 100 ms since
 * the start, less what it took. */
static uint64_t may_read(const flow *in)
{
	if (!R.sc->read_rate)
		return UINT64_MAX;
	uint64_t allowed = R.sc->read_rate * ((memnet_now(R.net) - R.t0) / (100 * MS));
	return allowed > in->got ? allowed - in->got : 0;
}

static bool paused(int who)
{
	return R.sc->pause == who && R.pause_until && memnet_now(R.net) < R.pause_until;
}

/* The reader's pause begins at a quarter of what it receives. */
static void maybe_pause(int who, const flow *in)
{
	if (R.sc->pause == who && !R.pause_until && in->got >= in->total / 4)
		R.pause_until = memnet_now(R.net) + R.sc->pause_ns;
}

static bool wants_reset(int who, const flow *in)
{
	return R.sc->reset_by == who && in->got >= in->total / 2;
}

/* The server of a half-close writes only once it read the client's FIN. */
static bool may_write(const end *e, bool client)
{
	return client || !R.sc->half_close || e->eof;
}

/* The client closes once it wrote and read everything (after the
 * server's FIN when it half-closed); the server once it wrote everything
 * and read the client's FIN. Not before hold_ns; after a silence, once
 * it is over; never when the FINs are to cross (step does it). */
static bool may_close(const end *e, bool client)
{
	if (e->out->sent < e->out->total || e->in->got < e->in->total || R.sc->cross_fins ||
	    memnet_now(R.net) < R.t0 + R.sc->hold_ns)
		return false;
	if (R.sc->silent) /* the end that was silent, once back */
		return R.spoken;
	return client ? !R.sc->half_close || e->eof : e->eof;
}

static void lw_close(void)
{
	struct tcp_pcb *pcb = R.pcb;
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) == ERR_OK) {
		R.pcb = NULL;
		R.l.closed = true;
	} else { /* no room for the FIN yet: again later */
		tcp_recv(pcb, lw_on_recv);
		tcp_err(pcb, lw_on_err);
	}
}

static void lw_read(void)
{
	uint64_t allow = may_read(R.l.in);
	if (!R.held || paused(LW) || !allow)
		return;
	u32_t take = R.held->tot_len < allow ? R.held->tot_len : (u32_t)allow;
	u32_t left = take;
	for (struct pbuf *q = R.held; q && left; q = q->next) {
		u16_t n = q->len < left ? q->len : (u16_t)left;
		flow_check(R.l.in, q->payload, n, memnet_now(R.net));
		left -= n;
	}
	for (left = take; left;) {
		u16_t n = left > 0xffff ? 0xffff : (u16_t)left;
		R.held = pbuf_free_header(R.held, n);
		if (R.pcb)
			tcp_recved(R.pcb, n);
		left -= n;
	}
	maybe_pause(LW, R.l.in);
}

static void lw_app(void)
{
	bool client = !R.sc->hsk_client;
	end *e = &R.l;
	if (e->closed || !R.pcb) {
		if (!e->closed && R.l.err) { /* reset by the peer */
			e->closed = true;
			if (R.held) {
				pbuf_free(R.held);
				R.held = NULL;
			}
		}
		return;
	}
	if (!R.lw_connected)
		return;
	lw_read();
	if (wants_reset(LW, e->in)) {
		tcp_err(R.pcb, NULL); /* our own abort is no news to us */
		tcp_abort(R.pcb);
		R.pcb = NULL;
		e->closed = e->aborted = true;
		return;
	}
	if (may_write(e, client) && !e->shut) {
		uint8_t buf[CHUNK];
		bool wrote = false;
		while (e->out->sent < e->out->total) {
			uint64_t n = e->out->total - e->out->sent;
			u16_t room = tcp_sndbuf(R.pcb);
			if (n > sizeof(buf))
				n = sizeof(buf);
			if (n > room)
				n = room;
			if (!n)
				break;
			flow_fill(e->out, buf, n);
			if (tcp_write(R.pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;
			e->out->sent += n;
			wrote = true;
		}
		if (wrote)
			lw_tcp_output(R.pcb);
	}
	if (client && R.sc->half_close && !e->shut && e->out->sent == e->out->total &&
	    tcp_shutdown(R.pcb, 0, 1) == ERR_OK)
		e->shut = true;
	if (may_close(e, client) && !R.held)
		lw_close();
}

/* ---- handshake's application ---- */

static void hsk_app(void)
{
	bool client = R.sc->hsk_client;
	end *e = &R.h;
	if (R.sd < 0) {
		if (client || (R.sd = hsk_accept(R.st, R.lsd, NULL)) < 0)
			return;
		hsk_keepalive(R.sd);
	}
	if (e->closed)
		return;
	uint8_t buf[CHUNK];
	if (R.sc->fastopen && !e->out->sent) { /* the SYN's data */
		flow_fill(e->out, buf, 1000);
		long w = hsk_send(R.st, R.sd, buf, 1000);
		assert_true(w > 0);
		e->out->sent += (uint64_t)w;
	}
	if (hsk_sock_state(R.st, R.sd) == HSK_SYN_SENT)
		return;
	while (!e->eof && !e->err && !paused(HSK)) {
		uint64_t allow = may_read(e->in);
		if (!allow)
			break;
		long n = hsk_recv(R.st, R.sd, buf, allow < sizeof(buf) ? allow : sizeof(buf));
		if (n > 0) {
			flow_check(e->in, buf, (size_t)n, memnet_now(R.net));
			maybe_pause(HSK, e->in);
		} else if (n == 0)
			e->eof = true;
		else if (n != -HSK_EAGAIN)
			e->err = (int)n;
		if (n <= 0)
			break;
	}
	if (e->err) {
		assert_int_equal(hsk_close(R.st, R.sd), 0);
		e->closed = true;
		return;
	}
	if (wants_reset(HSK, e->in)) {
		assert_int_equal(hsk_abort(R.st, R.sd), 0);
		e->closed = e->aborted = true;
		return;
	}
	while (may_write(e, client) && !e->shut && e->out->sent < e->out->total) {
		uint64_t n = e->out->total - e->out->sent;
		if (n > sizeof(buf))
			n = sizeof(buf);
		flow_fill(e->out, buf, n);
		/* when asked, a write that starts in the last third of each
		 * 3,000 bytes is urgent data, 1,000 bytes at most */
		bool urgent = R.sc->urgent && e->out->sent / 1000 % 3 == 2;
		if (urgent && n > 1000)
			n = 1000;
		long w = hsk_sendto(R.st, R.sd, buf, n, urgent ? HSK_MSG_OOB : 0, 0, 0);
		if (w <= 0) {
			if (w != -HSK_EAGAIN)
				e->err = (int)w;
			break;
		}
		e->out->sent += (uint64_t)w;
	}
	if (client && R.sc->half_close && !e->shut && e->out->sent == e->out->total) {
		assert_int_equal(hsk_shutdown(R.st, R.sd, HSK_SHUT_WR), 0);
		e->shut = true;
	}
	if (may_close(e, client)) {
		assert_int_equal(hsk_close(R.st, R.sd), 0);
		e->closed = true;
	}
}

/* ---- the driver ---- */

/* The prober's peer falls silent (every packet it sends lost) once the
 * data is through, and speaks again once the prober gave up. */
static void silence_step(void)
{
	int quiet = R.sc->keepalive_by == HSK ? LW : HSK;
	if (!R.silenced && R.up.got == R.up.total && R.down.got == R.down.total) {
		memnet_impair mute = R.sc->imp;
		mute.loss = 1.0;
		memnet_set_impair(R.net, quiet, &mute);
		R.silenced = true;
	}
	if (R.silenced && !R.spoken && prober_failed()) {
		memnet_set_impair(R.net, quiet, &R.sc->imp);
		R.spoken = true;
	}
}

/* One network event, or lwIP's timer when nothing is due before it; then
 * both applications at the new instant. */
static void step(void)
{
	if (!memnet_step(R.net, R.next_tick)) {
		tcp_tmr();
		R.next_tick += TCP_TMR_INTERVAL * MS;
	}
	hsk_stack_advance(R.st, memnet_now(R.net));
	hsk_app();
	lw_app();
	if (R.sc->cross_fins && !R.h.closed && !R.l.closed && R.pcb && !R.held &&
	    R.up.got == R.up.total && R.down.got == R.down.total) {
		assert_int_equal(hsk_close(R.st, R.sd), 0);
		R.h.closed = true;
		lw_close();
		assert_true(R.l.closed);
	}
	if (R.sc->silent)
		silence_step();
}

static bool both_closed(void)
{
	return R.h.closed && R.l.closed;
}

static void run_until(bool (*done)(void), uint64_t dt)
{
	uint64_t until = memnet_now(R.net) + dt;
	while (!done() && memnet_now(R.net) < until)
		step();
}

static bool lw_idle(void)
{
	return !tcp_active_pcbs && !tcp_tw_pcbs;
}

static void start(const scenario *sc)
{
	lw_setup();
	R.sc = sc;
	R.print = getenv("LWIP_PRINT") != NULL;
	if (R.print)
		fprintf(stderr, "== %s (%s, %s, seed %llu)\n", sc->name, sc->v6 ? "IPv6" : "IPv4",
			sc->hsk_client ? "handshake client" : "lwIP client",
			(unsigned long long)sc->seed);
	R.up = (flow){ .total = sc->up, .seed = (uint8_t)sc->seed };
	R.down = (flow){ .total = sc->down, .seed = (uint8_t)(sc->seed * 7 + 3) };
	bool hc = sc->hsk_client;
	R.h = (end){ .out = hc ? &R.up : &R.down, .in = hc ? &R.down : &R.up };
	R.l = (end){ .out = hc ? &R.down : &R.up, .in = hc ? &R.up : &R.down };
	R.sd = R.lsd = -1;

	R.net = memnet_new(sc->seed, 1 * SEC);
	assert_non_null(R.net);
	R.next_tick = memnet_now(R.net) + TCP_TMR_INTERVAL * MS;
	R.t0 = memnet_now(R.net);
	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = HSK_IP;
	cfg.seed = sc->seed * 131 + 7;
	if (sc->mtu)
		cfg.mtu = sc->mtu;
	if (sc->rcvbuf)
		cfg.rcvbuf = cfg.rcvbuf_max = sc->rcvbuf;
	if (sc->ecn)
		cfg.ecn = sc->ecn;
	hsk_link link;
	assert_int_equal(memnet_add_host(R.net, HSK_IP, &link), HSK);
	assert_int_equal(memnet_add_host(R.net, LW_IP, &R.lw_link), LW);
	R.st = hsk_stack_new(&cfg, &link, memnet_now(R.net));
	assert_non_null(R.st);
	hsk_addr h6 = hsk_addr_v6(HSK_IP6);
	assert_int_equal(hsk_stack_add_addr(R.st, &h6, 64), 0);
	assert_int_equal(memnet_set_addr6(R.net, HSK, HSK_IP6), 0);
	assert_int_equal(memnet_set_addr6(R.net, LW, LW_IP6), 0);
	memnet_set_stack(R.net, HSK, R.st);
	memnet_set_sink(R.net, LW, lw_sink, NULL);
	memnet_set_impair(R.net, HSK, &sc->imp);
	memnet_set_impair(R.net, LW, &sc->imp);
	memnet_set_filter(R.net, on_packet, NULL);

	if (hc) {
		struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_ANY);
		assert_non_null(l);
		assert_int_equal(tcp_bind(l, IP_ANY_TYPE, PORT), ERR_OK);
		R.lpcb = tcp_listen_with_backlog(l, 4);
		assert_non_null(R.lpcb);
		tcp_accept(R.lpcb, lw_on_accept);
		R.sd = hsk_socket_family(R.st, sc->v6 ? HSK_AF_INET6 : HSK_AF_INET);
		assert_true(R.sd >= 0);
		hsk_addr to = sc->v6 ? hsk_addr_v6(LW_IP6) : hsk_addr_v4(LW_IP);
		hsk_keepalive(R.sd);
		if (sc->fastopen) { /* connect at once, the SYN with hsk_app's first write */
			static const uint8_t cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
			assert_int_equal(hsk_fastopen_cookie_set_addr(R.st, &to, cookie, 8), 0);
			assert_int_equal(hsk_setsockopt(R.st, R.sd, HSK_TCP_FASTOPEN_CONNECT, 1), 0);
			assert_int_equal(hsk_connect_addr(R.st, R.sd, &to, PORT), 0);
		} else {
			assert_int_equal(hsk_connect_addr(R.st, R.sd, &to, PORT), -HSK_EINPROGRESS);
		}
	} else {
		static const uint8_t any6[16];
		hsk_addr any = hsk_addr_v6(any6); /* dual-stack */
		R.lsd = hsk_socket_family(R.st, HSK_AF_INET6);
		assert_true(R.lsd >= 0);
		assert_int_equal(hsk_bind_addr(R.st, R.lsd, &any, PORT), 0);
		assert_int_equal(hsk_listen(R.st, R.lsd, 4), 0);
		struct tcp_pcb *pcb = tcp_new_ip_type(sc->v6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
		assert_non_null(pcb);
		lw_attach(pcb);
		ip_addr_t to;
		if (sc->v6) {
			memset(&to, 0, sizeof(to));
			IP_SET_TYPE_VAL(to, IPADDR_TYPE_V6);
			memcpy(ip_2_ip6(&to)->addr, HSK_IP6, 16);
		} else {
			IP_ADDR4(&to, 198, 18, 0, 1);
		}
		assert_int_equal(tcp_connect(pcb, &to, PORT, lw_on_connected), ERR_OK);
	}
	hsk_app(); /* a Fast Open connect's SYN leaves with its first write, now */
}

static void report(const char *what)
{
	fprintf(stderr, "%s (%s, %s, seed %llu): %s at %.1f s; up %llu/%llu%s, down %llu/%llu%s, "
		"hsk err %d eof %d closed %d, lwIP err %d eof %d closed %d\n",
		R.sc->name, R.sc->v6 ? "IPv6" : "IPv4",
		R.sc->hsk_client ? "handshake client" : "lwIP client",
		(unsigned long long)R.sc->seed, what, (double)memnet_now(R.net) / SEC,
		(unsigned long long)R.up.got, (unsigned long long)R.up.total,
		R.up.bad ? " BAD" : "", (unsigned long long)R.down.got,
		(unsigned long long)R.down.total, R.down.bad ? " BAD" : "", R.h.err, R.h.eof,
		R.h.closed, R.l.err, R.l.eof, R.l.closed);
}

/* The end of the closing: the end that closed first holds TIME_WAIT, the
 * other nothing; both after FINs that crossed; neither after a reset or a
 * keepalive's end. */
static bool closing_done(void)
{
	hsk_usage u;
	hsk_stack_usage(R.st, &u);
	if (tcp_active_pcbs || u.tcbs || u.orphans)
		return false;
	if (R.sc->reset_by >= 0 || R.sc->silent)
		return !tcp_tw_pcbs && !u.timewaits;
	if (R.sc->cross_fins)
		return tcp_tw_pcbs && u.timewaits == 1;
	return R.sc->hsk_client ? u.timewaits == 1 && !tcp_tw_pcbs : tcp_tw_pcbs && !u.timewaits;
}

/* What a failed run left behind, so that the next starts clean: lwIP has
 * one global instance. */
static void clean_up(void)
{
	while (tcp_active_pcbs || tcp_tw_pcbs) {
		struct tcp_pcb *pcb = tcp_active_pcbs ? tcp_active_pcbs : tcp_tw_pcbs;
		tcp_err(pcb, NULL);
		tcp_abort(pcb);
	}
	while (tcp_listen_pcbs.listen_pcbs)
		tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
	if (R.held)
		pbuf_free(R.held);
	if (R.st)
		hsk_stack_free(R.st);
	if (R.net)
		memnet_free(R.net);
	memset(&R, 0, sizeof(R));
}

bool peer_family6(void)
{
	const char *fam = getenv("HSK_SIM_FAMILY");
	return fam && !strcmp(fam, "6");
}

/* Runs a scenario to its end and checks it: every byte, the FINs (or the
 * reset, or the keepalive's error), the closing states; then, once
 * TIME_WAIT has passed, that neither stack holds anything. */
bool peer_run(const scenario *given)
{
	const char *only = getenv("LWIP_SEED");
	if (only && strtoull(only, NULL, 10) != given->seed)
		return false;
	static scenario current;
	current = *given;
	current.v6 = peer_family6();
	const scenario *sc = &current;
	clean_up();
	start(sc);
	run_until(both_closed, sc->limit_ns);
	bool server_eof = sc->hsk_client ? R.l.eof : R.h.eof;
	bool client_eof = sc->hsk_client ? R.h.eof : R.l.eof;
	bool ok = both_closed() && !R.up.bad && !R.down.bad;
	if (sc->silent) /* the prober gave up, with its peer's data in */
		ok = ok && R.up.got == R.up.total && R.down.got == R.down.total &&
		     (sc->keepalive_by == HSK ? R.h.err == -HSK_ETIMEDOUT : R.l.err == ERR_ABRT);
	else if (sc->reset_by < 0)
		ok = ok && R.up.got == R.up.total && R.down.got == R.down.total && !R.h.err &&
		     !R.l.err && (server_eof || sc->cross_fins) && (client_eof || !sc->half_close);
	else if (sc->reset_by == HSK) /* lwIP told of the reset */
		ok = ok && R.h.aborted && R.l.err == ERR_RST;
	else
		ok = ok && R.l.aborted && R.h.err == -HSK_ECONNRESET;
	if (!ok)
		report("FAILED");
	assert_true(ok);
	run_until(closing_done, 60 * SEC);
	if (!closing_done())
		report("closing states wrong");
	assert_true(closing_done());
	if (getenv("LWIP_VERBOSE")) {
		report("passed");
		uint64_t t0 = R.t0;
		fprintf(stderr, "  up done %.2f s, down done %.2f s; handshake %u data segments, "
			"%u resent, %llu timeouts, %llu Reno recoveries; lwIP %u, %u resent\n",
			(double)(R.up.done_ns - t0) / SEC, (double)(R.down.done_ns - t0) / SEC,
			R.fig.data_segs[HSK], R.fig.resent[HSK],
			(unsigned long long)hsk_counter_by_name(R.st, "TCPTimeouts"),
			(unsigned long long)hsk_counter_by_name(R.st, "TCPRenoRecovery"),
			R.fig.data_segs[LW], R.fig.resent[LW]);
	}

	/* lwIP's TIME_WAIT is 2 * 60 s, handshake's 60 s */
	run_until(lw_idle, 2 * TCP_MSL * MS + 10 * SEC);
	assert_true(lw_idle());
	if (R.lsd >= 0)
		assert_int_equal(hsk_close(R.st, R.lsd), 0);
	if (R.lpcb)
		assert_int_equal(tcp_close(R.lpcb), ERR_OK);
	R.lpcb = NULL;
	hsk_stack_advance(R.st, memnet_now(R.net) + 61 * SEC);
	hsk_usage u;
	hsk_stack_usage(R.st, &u);
	assert_int_equal(u.tcbs + u.requests + u.timewaits + u.sockets + u.orphans, 0);
	assert_int_equal(u.buffer_bytes, 0);
	R.fig.tfo_fail = hsk_counter_by_name(R.st, "TCPFastOpenActiveFail");
	hsk_stack_free(R.st);
	memnet_free(R.net);
	R.st = NULL;
	R.net = NULL;
	return true;
}

void peer_both_ways(scenario sc)
{
	sc.hsk_client = true;
	peer_run(&sc);
	sc.hsk_client = false;
	peer_run(&sc);
}

scenario peer_base(const char *name, uint64_t seed)
{
	return (scenario){ .name = name, .up = 300000, .down = 300000, .reset_by = -1,
			   .pause = -1, .keepalive_by = -1, .imp = { .delay_ns = 10 * MS },
			   .seed = seed, .limit_ns = 600 * SEC };
}

const peer_figures *peer_last(void)
{
	return &R.fig;
}
