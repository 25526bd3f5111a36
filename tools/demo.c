/*
 * The demo harness: two stacks (client 198.18.0.1, server 198.18.0.2) on a
 * memnet with a 1 ms one-way delay, their trace events routed to the
 * sequence diagram or to JSON lines, the network's own drops reported as
 * drop events of the sender, and helpers that run the virtual clock until
 * a socket condition holds. The command line of `handshake demo` is parsed
 * here too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "report.h"

#define DEMO_DELAY_NS (1 * DEMO_MS)
#define DEMO_MAX_STEPS 20000000u

static const char *const side_name[2] = { "client", "server" };
static const uint32_t side_addr[2] = { DEMO_CLIENT_ADDR, DEMO_SERVER_ADDR };

uint64_t demo_now(const demo *d)
{
	return memnet_now(d->net);
}

/* ---- trace routing ---- */

static void emit(demo *d, int col, const hsk_trace_event *ev)
{
	if (d->o->capture)
		trace_json_line(d->o->capture, side_name[col], ev);
	if (d->o->quiet && d->o->format == DEMO_TEXT)
		return;         /* too long to draw; JSON has every event */
	if (d->o->format == DEMO_JSON)
		trace_json_line(d->o->out, side_name[col], ev);
	else
		diagram_event(d->dg, col, ev);
}

bool demo_visited(const demo *d, int side, int state)
{
	return (d->side[side].visited >> state) & 1;
}

static void path_add(demo_side *sd, const char *name)
{
	size_t n = strlen(sd->path);

	snprintf(sd->path + n, sizeof(sd->path) - n, "%s%s", n ? " " : "", name);
}

/* The first connection's transitions, for the summary. Requests, TCBs and
 * TIME_WAIT entries of one 4-tuple are one connection. */
static void track_state(demo_side *sd, const hsk_trace_event *ev)
{
	if (ev->obj == HSK_OBJ_LISTEN || ev->tuple.rport == 0)
		return;
	sd->visited |= 1u << ev->to;
	if (!sd->path_started) {
		sd->path_started = true;
		sd->path_tuple = ev->tuple;
		path_add(sd, hsk_state_name(ev->from));
	} else if (memcmp(&sd->path_tuple, &ev->tuple, sizeof(ev->tuple))) {
		return;
	}
	path_add(sd, hsk_state_name(ev->to));
}

static void on_trace(void *ctx, const hsk_trace_event *ev)
{
	demo_side *sd = ctx;

	if (ev->kind == HSK_EV_STATE)
		track_state(sd, ev);
	if (ev->kind == HSK_EV_TX) {
		uint32_t end = ev->seq + ev->len + !!(ev->flags & HSK_TH_SYN) +
			       !!(ev->flags & HSK_TH_FIN);
		bool same = sd->sent_any &&
			    !memcmp(&sd->last_tuple, &ev->tuple, sizeof(ev->tuple));

		if (!(ev->flags & HSK_TH_RST) &&
		    (!same || (int32_t)(end - sd->snd_nxt) > 0))
			sd->snd_nxt = end;
		sd->last_tuple = ev->tuple;
		sd->sent_any = true;
	}
	emit(sd->d, sd->col, ev);
}

/* A TCP segment of either family: its tuple into ev (IPv6: the addresses
 * in laddr6/raddr6, the tuple's 0, as the stack's events). */
static bool parse_tcp(const uint8_t *pkt, size_t len, hsk_trace_event *ev, tcp_hdr *th,
		      size_t *plen)
{
	const uint8_t *l4, *payload;
	size_t l4len;
	ipv4_hdr ip;
	ipv6_hdr ip6;

	if (len && pkt[0] >> 4 == 6) {
		if (ipv6_parse(pkt, len, &ip6, &l4, &l4len) != WIRE_OK ||
		    ip6.next != IP_PROTO_TCP ||
		    tcp_parse_ps(l4, l4len, 0, false, th, &payload, plen) != WIRE_OK)
			return false;
		ev->family = HSK_AF_INET6;
		memcpy(ev->laddr6, ip6.src, 16);
		memcpy(ev->raddr6, ip6.dst, 16);
		ev->tuple = (hsk_tuple){ 0, 0, th->sport, th->dport };
		return true;
	}
	if (ipv4_parse(pkt, len, &ip, &l4, &l4len) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(l4, l4len, ip.src, ip.dst, false, th, &payload, plen) != WIRE_OK)
		return false;
	ev->tuple = (hsk_tuple){ ip.src, ip.dst, th->sport, th->dport };
	return true;
}

hsk_addr demo_addr(const demo *d, uint32_t v4)
{
	static const uint8_t pfx[12] = { 0x20, 0x01, 0x00, 0x02 };
	uint8_t a[16];

	if (!d->o->ipv6)
		return hsk_addr_v4(v4);
	memcpy(a, pfx, 12);
	wr32(a + 12, v4);
	return hsk_addr_v6(a);
}

static const char *link_reason(const char *r)
{
	if (!strcmp(r, "filter"))
		return "link: lost by the scenario";
	if (!strcmp(r, "loss"))
		return "link: random loss";
	if (!strcmp(r, "queue"))
		return "link: queue full";
	if (!strcmp(r, "unroutable"))
		return "link: unroutable";
	return r;
}

/* The network dropped a packet: a drop event on the sender's side. */
static void on_link_drop(void *ctx, uint64_t now, int from, const char *reason,
			 const uint8_t *pkt, size_t len)
{
	demo *d = ctx;
	hsk_trace_event ev = { .t_ns = now, .kind = HSK_EV_DROP, .obj = HSK_OBJ_NONE,
			       .sd = -1, .wscale = -1, .reason = link_reason(reason) };
	tcp_hdr th;
	size_t plen;

	if (from != d->host[0] && from != d->host[1])
		return;
	if (parse_tcp(pkt, len, &ev, &th, &plen)) {
		ev.flags = th.flags;
		ev.seq = th.seq;
		ev.ack = th.ack;
		ev.len = (uint32_t)plen;
		ev.win = th.win;
		ev.mss = th.opt.mss;
		ev.wscale = th.opt.wscale;
		ev.sack_ok = th.opt.sack_ok;
		ev.has_ts = th.opt.has_ts;
	}
	emit(d, from == d->host[0] ? DEMO_CLIENT : DEMO_SERVER, &ev);
}

/* ---- pcap: every packet as its sender sent it, stamped with virtual time
 * (nanosecond pcap, LINKTYPE_RAW: bare IPv4 or IPv6) ---- */

static void pcap_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the file's byte order is the writer's */
}

static void pcap_header(FILE *f)
{
	uint16_t major = 2, minor = 4;
	uint8_t h[24] = { 0 };

	pcap_put32(h, 0xa1b23c4du);     /* nanosecond timestamps */
	memcpy(h + 4, &major, 2);
	memcpy(h + 6, &minor, 2);
	pcap_put32(h + 16, 65535);      /* snaplen */
	pcap_put32(h + 20, 101);        /* LINKTYPE_RAW */
	fwrite(h, 1, sizeof(h), f);
}

static void pcap_record(FILE *f, uint64_t t, const uint8_t *pkt, size_t len)
{
	uint8_t h[16];

	pcap_put32(h, (uint32_t)(t / 1000000000u));
	pcap_put32(h + 4, (uint32_t)(t % 1000000000u));
	pcap_put32(h + 8, (uint32_t)len);
	pcap_put32(h + 12, (uint32_t)len);
	fwrite(h, 1, sizeof(h), f);
	fwrite(pkt, 1, len, f);
}

static bool on_filter(void *ctx, int from, const uint8_t *pkt, size_t len)
{
	demo *d = ctx;
	hsk_trace_event ev = { 0 };
	tcp_hdr th;
	size_t plen;
	int side = from == d->host[0] ? DEMO_CLIENT : DEMO_SERVER;

	if (d->o->pcap)
		pcap_record(d->o->pcap, demo_now(d), pkt, len);
	if (!d->filter)
		return true;
	if (!parse_tcp(pkt, len, &ev, &th, &plen))
		return d->filter(d, side, NULL, 0);
	return d->filter(d, side, &th, plen);
}

/* ---- notes, expectations, summary ---- */

void demo_note(demo *d, int col, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	if (d->o->format != DEMO_TEXT)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diagram_note(d->dg, col, demo_now(d), buf);
}

static void add_summary(demo *d, const char *prefix, const char *fmt, va_list ap)
{
	int n;

	if (d->nsummary >= (int)(sizeof(d->summary) / sizeof(d->summary[0])))
		return;
	n = snprintf(d->summary[d->nsummary], sizeof(d->summary[0]), "%s", prefix);
	vsnprintf(d->summary[d->nsummary] + n, sizeof(d->summary[0]) - (size_t)n, fmt, ap);
	d->nsummary++;
}

void demo_say(demo *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_summary(d, "", fmt, ap);
	va_end(ap);
}

bool demo_expect(demo *d, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	d->failures++;
	va_start(ap, fmt);
	add_summary(d, "UNEXPECTED: ", fmt, ap);
	va_end(ap);
	return false;
}

/* ---- running the clock ---- */

/* Readiness is polled (hsk_poll, hsk_sock_state) after every event rather
 * than read from hsk_stack_events: the stack queues each sd at most once,
 * so leaving that queue undrained costs nothing. */
bool demo_run_until(demo *d, bool (*pred)(demo *d, void *arg), void *arg,
		    uint64_t max_dt)
{
	uint64_t deadline = demo_now(d) + max_dt;
	unsigned steps = 0;

	while (!(pred && pred(d, arg))) {
		if (!memnet_step(d->net, deadline))
			return pred && pred(d, arg);
		if (++steps > DEMO_MAX_STEPS) {
			demo_expect(d, false, "the simulation did not settle "
				    "(%u events by t=%.3f ms)", steps,
				    demo_now(d) / 1e6);
			return false;
		}
	}
	return true;
}

void demo_run_for(demo *d, uint64_t dt)
{
	demo_run_until(d, NULL, NULL, dt);
}

static bool is_idle(demo *d, void *arg)
{
	(void)arg;
	return memnet_next_event(d->net) == UINT64_MAX;
}

bool demo_run_until_idle(demo *d, uint64_t max_dt)
{
	return demo_run_until(d, is_idle, NULL, max_dt);
}

/* ---- socket steps ---- */

/* API calls carry no time: the stacks stamp them with the time of their
 * last input or advance, so bring both to the network's clock first. */
static void sync_clock(demo *d)
{
	int i;

	for (i = 0; i < 2; i++)
		hsk_stack_advance(d->st[i], demo_now(d));
}

hsk_stack *demo_stack(demo *d, int side)
{
	sync_clock(d);
	return d->st[side];
}

int demo_listen(demo *d, uint16_t port, int backlog)
{
	hsk_stack *s = d->st[DEMO_SERVER];
	hsk_addr any = { .family = d->o->ipv6 ? HSK_AF_INET6 : HSK_AF_INET };
	int sd, rc;

	sync_clock(d);
	sd = hsk_socket_family(s, any.family);
	if (sd < 0)
		return sd;
	rc = hsk_bind_addr(s, sd, &any, port);
	if (rc == 0)
		rc = hsk_listen(s, sd, backlog);
	if (rc < 0) {
		demo_expect(d, false, "server: listen on port %u: %s", port,
			    hsk_errno_name(rc));
		hsk_close(s, sd);
		return rc;
	}
	return sd;
}

int demo_connect(demo *d, int side, uint16_t lport, uint32_t addr, uint16_t port)
{
	hsk_stack *s = d->st[side];
	hsk_addr to = demo_addr(d, addr), any = { .family = to.family };
	int sd, rc;

	sync_clock(d);
	sd = hsk_socket_family(s, to.family);
	if (sd < 0)
		return sd;
	if (lport) {
		rc = hsk_bind_addr(s, sd, &any, lport);
		if (rc < 0) {
			demo_expect(d, false, "%s: bind port %u: %s", side_name[side],
				    lport, hsk_errno_name(rc));
			hsk_close(s, sd);
			return rc;
		}
	}
	rc = hsk_connect_addr(s, sd, &to, port);
	if (rc < 0 && rc != -HSK_EINPROGRESS) {
		demo_expect(d, false, "%s: connect: %s", side_name[side], hsk_errno_name(rc));
		hsk_close(s, sd);
		return rc;
	}
	return sd;
}

typedef struct sock_ref {
	int side, sd;
	int accepted;
} sock_ref;

static bool connect_done(demo *d, void *arg)
{
	sock_ref *r = arg;
	int ev = hsk_poll(d->st[r->side], r->sd);
	int st = hsk_sock_state(d->st[r->side], r->sd);

	return ev < 0 || (ev & (HSK_POLLERR | HSK_POLLHUP)) ||
	       (st != HSK_SYN_SENT && st != HSK_SYN_RECEIVED && st != HSK_CLOSED);
}

int demo_wait_connected(demo *d, int side, int sd, uint64_t max_dt)
{
	sock_ref r = { side, sd, -1 };
	int err, st;

	if (!demo_run_until(d, connect_done, &r, max_dt))
		return -HSK_ETIMEDOUT;
	err = hsk_sock_error(d->st[side], sd);
	if (err > 0)
		return -err;
	st = hsk_sock_state(d->st[side], sd);
	if (st < 0)
		return st;
	return st == HSK_CLOSED ? -HSK_ENOTCONN : 0;
}

static bool accept_done(demo *d, void *arg)
{
	sock_ref *r = arg;

	sync_clock(d);
	r->accepted = hsk_accept(d->st[DEMO_SERVER], r->sd, NULL);
	return r->accepted != -HSK_EAGAIN;
}

int demo_wait_accept(demo *d, int lsd, uint64_t max_dt)
{
	sock_ref r = { DEMO_SERVER, lsd, -HSK_EAGAIN };

	if (!accept_done(d, &r) && !demo_run_until(d, accept_done, &r, max_dt))
		return -HSK_ETIMEDOUT;
	if (r.accepted >= 0)
		demo_note(d, DEMO_SERVER, "accept() = %d", r.accepted);
	return r.accepted;
}

long demo_send_some(demo *d, int side, int sd, size_t len)
{
	demo_side *me = &d->side[side];
	uint8_t buf[4096];
	size_t i, n = len < sizeof(buf) ? len : sizeof(buf);
	long rc;

	for (i = 0; i < n; i++)
		buf[i] = demo_pattern(me->tx_off + i);
	rc = hsk_send(d->st[side], sd, buf, n);
	if (rc > 0)
		me->tx_off += (uint64_t)rc;
	return rc;
}

long demo_send(demo *d, int side, int sd, size_t len)
{
	size_t done = 0;
	unsigned tries = 0;

	sync_clock(d);
	demo_note(d, side, "send(%zu)", len);
	while (done < len) {
		long rc = demo_send_some(d, side, sd, len - done);

		if (rc == -HSK_EAGAIN && ++tries < 1000) {
			demo_run_for(d, 10 * DEMO_MS);
			sync_clock(d);
			continue;
		}
		if (rc < 0) {
			demo_expect(d, false, "%s: send: %s", side_name[side],
				    hsk_errno_name((int)rc));
			return done ? (long)done : rc;
		}
		done += (size_t)rc;
	}
	return (long)done;
}

long demo_recv_some(demo *d, int side, int sd)
{
	demo_side *me = &d->side[side];
	uint8_t buf[16384];
	long rc = hsk_recv(d->st[side], sd, buf, sizeof(buf)), i;

	for (i = 0; i < rc; i++)
		me->rx_bad += buf[i] != demo_pattern(me->rx_off + (uint64_t)i);
	if (rc > 0)
		me->rx_off += (uint64_t)rc;
	return rc;
}

typedef struct recv_ref {
	int side, sd;
	size_t want, got;
	bool eof;
	int err;
} recv_ref;

static bool recv_done(demo *d, void *arg)
{
	recv_ref *r = arg;

	sync_clock(d);
	for (;;) {
		long rc = demo_recv_some(d, r->side, r->sd);

		if (rc > 0) {
			r->got += (size_t)rc;
			continue;
		}
		if (rc == 0)
			r->eof = true;
		else if (rc != -HSK_EAGAIN)
			r->err = (int)-rc;
		break;
	}
	return r->err || r->eof || (r->want && r->got >= r->want);
}

long demo_recv(demo *d, int side, int sd, size_t want, uint64_t max_dt)
{
	recv_ref r = { side, sd, want, 0, false, 0 };

	if (!recv_done(d, &r))
		demo_run_until(d, recv_done, &r, max_dt);
	if (r.got)
		demo_note(d, side, "recv() = %zu", r.got);
	if (r.eof)
		demo_note(d, side, "recv() = 0 (end of stream)");
	demo_expect(d, d->side[side].rx_bad == 0, "%s: %" PRIu64 " bytes received "
		    "differ from what was sent", side_name[side], d->side[side].rx_bad);
	if (r.err) {
		demo_note(d, side, "recv() = -%s", hsk_errno_name(r.err));
		return -1;
	}
	if (want == 0)
		return r.eof ? (long)r.got : -1;
	return r.got >= want ? (long)r.got : -1;
}

int demo_close(demo *d, int side, int sd)
{
	int rc;

	sync_clock(d);
	rc = hsk_close(d->st[side], sd);
	if (rc < 0)
		demo_expect(d, false, "%s: close: %s", side_name[side], hsk_errno_name(rc));
	return rc;
}

int demo_shutdown(demo *d, int side, int sd, int how)
{
	int rc;

	sync_clock(d);
	demo_note(d, side, "shutdown(%s)", how == HSK_SHUT_WR ? "SHUT_WR" :
		  how == HSK_SHUT_RD ? "SHUT_RD" : "SHUT_RDWR");
	rc = hsk_shutdown(d->st[side], sd, how);
	if (rc < 0)
		demo_expect(d, false, "%s: shutdown: %s", side_name[side],
			    hsk_errno_name(rc));
	return rc;
}

void demo_inject(demo *d, int from, const hsk_tuple *t, uint8_t flags,
		 uint32_t seq, uint32_t ack, uint16_t win)
{
	uint8_t pkt[IPV6_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN];
	tcp_hdr th = { .sport = t->lport, .dport = t->rport, .seq = seq, .ack = ack,
		       .flags = flags, .win = win };
	/* an IPv6 connection's tuple (a trace event's) has no addresses:
	 * those of the two sides */
	hsk_addr src = demo_addr(d, t->laddr ? t->laddr : side_addr[from]),
		 dst = demo_addr(d, t->raddr ? t->raddr : side_addr[!from]);
	bool v6 = src.family == HSK_AF_INET6;
	size_t hl = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	hsk_trace_event ev = { .t_ns = demo_now(d), .kind = HSK_EV_TX,
			       .obj = HSK_OBJ_NONE, .sd = -1, .tuple = *t,
			       .flags = flags, .seq = seq, .ack = ack, .win = win,
			       .wscale = -1 };
	char fl[48];
	int tl;

	th.opt.wscale = -1;
	tl = tcp_emit_ps(&th, NULL, 0, v6 ? csum_pseudo6(src.v6, dst.v6, IP_PROTO_TCP, 0) :
			 csum_pseudo(t->laddr, t->raddr, IP_PROTO_TCP, 0), pkt + hl,
			 sizeof(pkt) - hl);
	if (tl < 0) {
		demo_expect(d, false, "inject: tcp_emit failed (%d)", tl);
		return;
	}
	if (v6) {
		ipv6_hdr ip6 = { .payload_len = (uint16_t)tl, .next = IP_PROTO_TCP,
				 .hop_limit = 64 };
		memcpy(ip6.src, src.v6, 16);
		memcpy(ip6.dst, dst.v6, 16);
		ipv6_emit(&ip6, pkt, sizeof(pkt));
		/* as the stack's IPv6 events: addresses apart */
		ev.family = HSK_AF_INET6;
		memcpy(ev.laddr6, src.v6, 16);
		memcpy(ev.raddr6, dst.v6, 16);
		ev.tuple.laddr = ev.tuple.raddr = 0;
	} else {
		ipv4_hdr ip = { .ttl = 64, .frag = IPV4_DF, .proto = IP_PROTO_TCP,
				.src = t->laddr, .dst = t->raddr,
				.total_len = (uint16_t)(IPV4_HDR_LEN + tl) };
		if (ipv4_emit(&ip, pkt, sizeof(pkt)) != IPV4_HDR_LEN) {
			demo_expect(d, false, "inject: ipv4_emit failed");
			return;
		}
	}
	if (d->o->format == DEMO_TEXT) {
		demo_note(d, from, "inject %s seq=%" PRIu32 " (crafted, not from the stack)",
			  trace_flags(flags, fl, sizeof(fl)), seq);
		diagram_event(d->dg, from, &ev);
	}
	hsk_stack_input(d->st[!from], demo_now(d), pkt, hl + (size_t)tl);
}

/* ---- set-up and summary ---- */

static int demo_setup(demo *d, const demo_opts *o)
{
	memnet_impair imp = { .delay_ns = DEMO_DELAY_NS, .loss = o->loss };
	int i;

	memset(d, 0, sizeof(*d));
	d->o = o;
	d->net = memnet_new(o->seed, 0);
	if (!d->net)
		return -1;
	memnet_set_filter(d->net, on_filter, d);
	memnet_set_drop_hook(d->net, on_link_drop, d);
	if (o->format == DEMO_TEXT && !o->quiet) {
		d->dg = diagram_new(o->out, side_name[0], side_name[1]);
		if (!d->dg)
			return -1;
	}
	for (i = 0; i < 2; i++) {
		hsk_config cfg;

		d->side[i] = (demo_side){ .d = d, .col = i, .name = side_name[i] };
		d->host[i] = memnet_add_host(d->net, side_addr[i], &d->link[i]);
		if (d->host[i] < 0)
			return -1;
		memnet_set_impair(d->net, d->host[i], &imp);
		hsk_config_default(&cfg);
		cfg.addr = side_addr[i];
		cfg.seed = o->seed * 2 + (uint64_t)i;
		if (cfg.seed == HSK_SEED_OS)    /* a demo always replays */
			cfg.seed = ~0ull;
		cfg.trace = on_trace;
		cfg.trace_ctx = &d->side[i];
		d->st[i] = hsk_stack_new(&cfg, &d->link[i], 0);
		if (!d->st[i])
			return -1;
		memnet_set_stack(d->net, d->host[i], d->st[i]);
		if (o->ipv6) {
			hsk_addr a6 = demo_addr(d, side_addr[i]);
			if (hsk_stack_add_addr(d->st[i], &a6, 64) < 0 ||
			    memnet_set_addr6(d->net, d->host[i], a6.v6) < 0)
				return -1;
		}
	}
	return 0;
}

static void demo_teardown(demo *d)
{
	int i;

	if (d->dg)
		diagram_finish(d->dg);
	d->dg = NULL;
	for (i = 0; i < 2; i++)
		if (d->st[i])
			hsk_stack_free(d->st[i]);
	memnet_free(d->net);
}

typedef struct conn_list {
	char text[512];
	size_t len;
	int n;
	bool json;
} conn_list;

static void fmt_addr(char *buf, size_t cap, uint32_t a, uint16_t port)
{
	snprintf(buf, cap, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff, port);
}

static void conn_add(void *ctx, const hsk_conn_info *ci)
{
	static const char *const objs[] = { "tcb", "req", "tw", "listen", "none" };
	conn_list *cl = ctx;
	char la[HSK_ADDRSTRLEN], ra[HSK_ADDRSTRLEN], item[240];
	int w;

	if (ci->family == HSK_AF_INET6) {
		hsk_addr l = hsk_addr_v6(ci->laddr6), r = hsk_addr_v6(ci->raddr6);
		char b[HSK_ADDRSTRLEN];
		snprintf(la, sizeof(la), "%s", hsk_addr_port_str(&l, ci->tuple.lport, b));
		snprintf(ra, sizeof(ra), "%s", hsk_addr_port_str(&r, ci->tuple.rport, b));
	} else {
		fmt_addr(la, sizeof(la), ci->tuple.laddr, ci->tuple.lport);
		fmt_addr(ra, sizeof(ra), ci->tuple.raddr, ci->tuple.rport);
	}
	if (ci->state == HSK_LISTEN)
		w = snprintf(item, sizeof(item), "LISTEN %s (accept queue %u/%u, SYN queue %u)",
			     la, ci->accept_q, ci->backlog, ci->syn_q);
	else
		w = snprintf(item, sizeof(item), "%s %s > %s (%s)",
			     hsk_state_name(ci->state), la, ra,
			     ci->obj < 5 ? objs[ci->obj] : "?");
	if (w < 0 || cl->len + (size_t)w + 8 >= sizeof(cl->text))
		return;
	cl->len += (size_t)snprintf(cl->text + cl->len, sizeof(cl->text) - cl->len,
				    cl->json ? "%s\"%s\"" : "%s%s",
				    cl->n ? (cl->json ? "," : "; ") : "", item);
	cl->n++;
}

static void print_counters_text(demo *d, const demo_scenario *sc)
{
	FILE *out = d->o->out;
	size_t i;

	fprintf(out, "  %-24s %10s %10s\n", "counter", "client", "server");
	for (i = 0; sc->counters && sc->counters[i]; i++) {
		uint64_t c = hsk_counter_by_name(d->st[0], sc->counters[i]);
		uint64_t s = hsk_counter_by_name(d->st[1], sc->counters[i]);

		if (c == UINT64_MAX && s == UINT64_MAX)
			fprintf(out, "  %-24s %10s %10s\n", sc->counters[i], "?", "?");
		else
			fprintf(out, "  %-24s %10" PRIu64 " %10" PRIu64 "\n",
				sc->counters[i], c, s);
	}
}

static void json_escape_into(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	}
	fputc('"', out);
}

/* Counters summed over both stacks. */
static uint64_t both(demo *d, const char *name)
{
	uint64_t a = hsk_counter_by_name(d->st[0], name), b = hsk_counter_by_name(d->st[1], name);

	return (a == UINT64_MAX ? 0 : a) + (b == UINT64_MAX ? 0 : b);
}

/* The figures as numbers: every scenario's bytes and loss handling, and
 * what a transfer measured. */
static void print_figures(FILE *out, demo *d)
{
	const demo_figures *f = &d->fig;

	fprintf(out, "\"figures\":{\"bytes\":%" PRIu64 ",\"retransmissions\":%" PRIu64
		",\"recoveries\":%" PRIu64 ",\"rtos\":%" PRIu64,
		d->side[0].tx_off + d->side[1].tx_off, both(d, "RetransSegs"),
		both(d, "TCPSackRecovery") + both(d, "TCPRenoRecovery"), both(d, "TCPTimeouts"));
	if (f->transfer)
		fprintf(out, ",\"transfer_ms\":%.3f,\"goodput_mbps\":%.3f,\"final_cwnd\":%" PRIu32
			",\"final_ssthresh\":%" PRIu32 ",\"srtt_ms\":%.3f", f->transfer_ns / 1e6,
			f->goodput_mbps, f->final_cwnd, f->final_ssthresh, f->srtt_ns / 1e6);
	fputc('}', out);
}

static void print_summary_json(FILE *out, demo *d, const demo_scenario *sc,
			       const memnet_stats *ms, const conn_list *cl, bool strict)
{
	size_t k;
	int i;

	fprintf(out, "{\"ev\":\"summary\",\"scenario\":\"%s\",\"t_us\":%" PRIu64
		",\"outcome\":\"%s\",\"notes\":[", sc->name, demo_now(d) / 1000,
		d->failures ? (strict ? "unexpected" : "unchecked") : "ok");
	for (i = 0; i < d->nsummary; i++) {
		fputs(i ? "," : "", out);
		json_escape_into(out, d->summary[i]);
	}
	fputs("],", out);
	print_figures(out, d);
	fputs(",\"states\":{", out);
	for (i = 0; i < 2; i++)
		fprintf(out, "%s\"%s\":\"%s\"", i ? "," : "", side_name[i], d->side[i].path);
	fputs("},\"connections\":{", out);
	for (i = 0; i < 2; i++)
		fprintf(out, "%s\"%s\":[%s]", i ? "," : "", side_name[i], cl[i].text);
	fputs("},\"counters\":{", out);
	for (i = 0; i < 2; i++) {
		fprintf(out, "%s\"%s\":{", i ? "," : "", side_name[i]);
		for (k = 0; sc->counters && sc->counters[k]; k++)
			fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", sc->counters[k],
				hsk_counter_by_name(d->st[i], sc->counters[k]));
		fputc('}', out);
	}
	fprintf(out, "},\"link\":{\"sent\":%" PRIu64 ",\"delivered\":%" PRIu64
		",\"lost\":%" PRIu64 ",\"filtered\":%" PRIu64 "}}\n",
		ms->sent, ms->delivered, ms->lost, ms->filtered);
}

static void print_summary(demo *d, const demo_scenario *sc)
{
	FILE *out = d->o->out;
	bool strict = d->o->loss <= 0;
	memnet_stats ms;
	conn_list cl[2];
	int i;

	memnet_get_stats(d->net, &ms);
	for (i = 0; i < 2; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].json = true;
		hsk_stack_conns(d->st[i], conn_add, &cl[i]);
	}
	if (d->o->capture)
		print_summary_json(d->o->capture, d, sc, &ms, cl, strict);
	if (d->o->format == DEMO_JSON) {
		print_summary_json(out, d, sc, &ms, cl, strict);
		return;
	}
	for (i = 0; i < 2; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		hsk_stack_conns(d->st[i], conn_add, &cl[i]);
	}
	fprintf(out, "\nsummary: %s: %s\n", sc->name, sc->desc);
	for (i = 0; i < 2; i++)
		if (d->side[i].path_started)
			fprintf(out, "  %s states: %s\n", side_name[i], d->side[i].path);
	for (i = 0; i < d->nsummary; i++)
		fprintf(out, "  %s\n", d->summary[i]);
	for (i = 0; i < 2; i++)
		fprintf(out, "  %s connections at the end (t=%.3f ms): %s\n", side_name[i],
			demo_now(d) / 1e6, cl[i].n ? cl[i].text : "none");
	print_counters_text(d, sc);
	fprintf(out, "  link: %" PRIu64 " packets sent, %" PRIu64 " delivered, %" PRIu64
		" lost at random, %" PRIu64 " lost by the scenario\n",
		ms.sent, ms.delivered, ms.lost, ms.filtered);
	if (!d->failures)
		fprintf(out, "  outcome: as expected\n");
	else if (strict)
		fprintf(out, "  outcome: UNEXPECTED (%d)\n", d->failures);
	else
		fprintf(out, "  outcome: %d expectation(s) not met; not checked with --loss\n",
			d->failures);
}

static int run_scenario(const demo_scenario *sc, const demo_opts *opts)
{
	demo d;
	int rc;
	demo_opts q = *opts;
	const demo_opts *o = &q;

	q.quiet = sc->quiet;
	if (demo_setup(&d, o) < 0) {
		fprintf(stderr, "handshake demo: cannot set up the network and stacks\n");
		demo_teardown(&d);
		return 1;
	}
	sc->run(&d);
	if (d.dg)
		diagram_finish(d.dg);
	d.dg = NULL;
	print_summary(&d, sc);
	rc = d.failures && o->loss <= 0 ? 1 : 0;
	demo_teardown(&d);
	fflush(o->out);
	return rc;
}

/* ---- command line ---- */

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: handshake demo [--scenario NAME] [--format text|json] [--seed N]\n"
		"                      [--loss P] [--pcap FILE] [--html FILE] [--ipv6]\n"
		"       handshake demo --list\n"
		"\n"
		"Runs a scripted TCP scenario between a client (198.18.0.1) and a server\n"
		"(198.18.0.2) on an in-memory network with a virtual clock (1 ms one-way\n"
		"delay), and prints every state transition and segment.\n"
		"\n"
		"  --scenario NAME  the scenario to run (default: basic); see --list\n"
		"  --format FMT     text: a sequence diagram (default); json: JSON lines\n"
		"  --seed N         seeds ISNs, ports and the network (default: 1)\n"
		"  --loss P         random loss probability 0..1 in both directions\n"
		"                   (0: none, also in bulk, which has 1%% otherwise)\n"
		"  --pcap FILE      write every packet sent (before the network's losses)\n"
		"                   to FILE, stamped with virtual time\n"
		"  --html FILE      also draw the run as a self-contained HTML report\n"
		"                   (the same as 'handshake report' of the JSON trace)\n"
		"  --ipv6           the same scenario over IPv6: client 2001:2::c612:1,\n"
		"                   server 2001:2::c612:2 (2001:2::/96 + the IPv4 address)\n"
		"  --list           lists the scenarios\n"
		"  -h, --help       this help\n");
}

static const demo_scenario *find_scenario(const char *name)
{
	size_t i;

	for (i = 0; i < demo_nscenarios; i++)
		if (!strcmp(demo_scenarios[i].name, name))
			return &demo_scenarios[i];
	return NULL;
}

/* The value of --opt VALUE or --opt=VALUE; NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static bool opt_is(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "handshake demo: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'handshake demo --help'.\n");
	return 2;
}

int demo_main(int argc, char **argv)
{
	demo_opts o = { .scenario = "basic", .format = DEMO_TEXT, .seed = 1,
			.loss = 0, .out = stdout };
	const demo_scenario *sc;
	const char *pcap_path = NULL;
	char *cap_buf = NULL;
	size_t cap_len = 0;
	bool list = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			demo_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--list")) {
			list = true;
		} else if (!strcmp(a, "--ipv6")) {
			o.ipv6 = true;
		} else if (opt_is(a, "--scenario")) {
			if (!(v = opt_value(argc, argv, &i, "--scenario")))
				return usage_error("%s needs a value", a);
			o.scenario = v;
		} else if (opt_is(a, "--format")) {
			if (!(v = opt_value(argc, argv, &i, "--format")))
				return usage_error("%s needs a value", a);
			if (!strcmp(v, "text"))
				o.format = DEMO_TEXT;
			else if (!strcmp(v, "json"))
				o.format = DEMO_JSON;
			else
				return usage_error("unknown format '%s' (text or json)", v);
		} else if (opt_is(a, "--seed")) {
			if (!(v = opt_value(argc, argv, &i, "--seed")))
				return usage_error("%s needs a value", a);
			errno = 0;
			o.seed = strtoull(v, &end, 0);
			if (errno || end == v || *end || *v == '-')
				return usage_error("bad seed '%s'", v);
		} else if (opt_is(a, "--html")) {
			if (!(v = opt_value(argc, argv, &i, "--html")))
				return usage_error("%s needs a value", a);
			o.html = v;
		} else if (opt_is(a, "--pcap")) {
			if (!(v = opt_value(argc, argv, &i, "--pcap")))
				return usage_error("%s needs a value", a);
			pcap_path = v;
		} else if (opt_is(a, "--loss")) {
			if (!(v = opt_value(argc, argv, &i, "--loss")))
				return usage_error("%s needs a value", a);
			errno = 0;
			o.loss = strtod(v, &end);
			if (errno || end == v || *end || !(o.loss >= 0 && o.loss <= 1))
				return usage_error("bad loss '%s' (a probability 0..1)", v);
			o.loss_given = true;
		} else if (a[0] == '-') {
			return usage_error("unknown option '%s'", a);
		} else {
			o.scenario = a; /* `handshake demo basic` */
		}
	}
	if (list) {
		size_t k;

		for (k = 0; k < demo_nscenarios; k++)
			printf("%-20s %s\n", demo_scenarios[k].name, demo_scenarios[k].desc);
		return 0;
	}
	sc = find_scenario(o.scenario);
	if (!sc)
		return usage_error("unknown scenario '%s' (see --list)", o.scenario);
	if (pcap_path) {
		o.pcap = fopen(pcap_path, "wb");
		if (!o.pcap) {
			fprintf(stderr, "handshake demo: %s: %s\n", pcap_path, strerror(errno));
			return 1;
		}
		pcap_header(o.pcap);
	}
	if (o.html) {
		o.capture = open_memstream(&cap_buf, &cap_len);
		if (!o.capture) {
			fprintf(stderr, "handshake demo: %s\n", strerror(errno));
			if (o.pcap)
				fclose(o.pcap);
			return 1;
		}
	}
	rc = run_scenario(sc, &o);
	if (o.pcap && fclose(o.pcap) != 0) {
		fprintf(stderr, "handshake demo: %s: %s\n", pcap_path, strerror(errno));
		rc = 1;
	}
	if (o.capture) {
		char err[512];

		fclose(o.capture);
		if (report_from_buffer((const uint8_t *)cap_buf, cap_len, o.html, NULL, NULL,
				       err, sizeof(err)) < 0) {
			fprintf(stderr, "handshake demo: %s\n", err);
			rc = 1;
		}
		free(cap_buf);
	}
	return rc;
}
