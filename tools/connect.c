/*
 * `handshake connect`: a TCP client on a real device.
 *
 * Connects to HOST:PORT; sends --send FILE (if given) and then shuts down
 * its sending side (after --close-delay MS), while writing what arrives to
 * --recv FILE (or dropping it); closes once the peer's FIN has arrived.
 * Without --send it sends nothing and keeps its side open until the peer
 * closes. After close() it keeps the loop running until the connection has
 * left every state that needs it (at most --linger seconds), so that the
 * four-way close completes before the process and its device go away.
 *
 * SIGINT/SIGTERM end it gracefully: our FIN goes out (after what the
 * stack already holds; a Fast Open connection still in SYN_SENT sends it
 * once the handshake completes), the peer has --drain-timeout seconds
 * (default 2) to close its
 * side (what it sends meanwhile is still written to --recv), then the
 * connection is reset; a second signal resets at once (when it comes a
 * quarter second or more after the first: see serve.c).
 *
 * Exit status: 0 when the exchange completed, 1 on a connection error
 * (printed as its errno name, e.g. "ECONNREFUSED"), when interrupted, or
 * when an output file (--recv, --pcap, --trace-file) could not be written
 * in full; 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "link/dev.h"
#include "netcmd.h"

enum { BUF = 65536 };

struct client {
	net_opts o;
	hsk_loop *l;
	hsk_stack *s;
	int sd;
	hsk_addr raddr;
	uint16_t rport, lport;
	const char *send_path, *recv_path;
	bool fastopen;            /* --fastopen: TCP_FASTOPEN_CONNECT */
	const char *cookie_path;  /* --fastopen-cookie FILE */
	const char *target;       /* HOST:PORT as given */
	int in, out;              /* files; -1 when not used */
	uint8_t buf[BUF];
	size_t off, len;
	bool connected, sent_all, shut, eof, failed;
	bool done;                /* the exchange completed: lingering */
	bool draining;            /* interrupted: FIN out, reading to the end */
	int err;
	int interrupted;          /* the signal, or 0 */
	uint64_t close_delay_ns, shut_at, linger_ns, timeout_ns, drain_end, t_signal;
	uint64_t t_start, t_conn, t_end;
	uint64_t tx, rx;
};

static void fail(struct client *c, int err, const char *what)
{
	if (!c->failed)
		fprintf(stderr, "connect: %s: %s (%s)\n", what, hsk_errno_name(err),
			hsk_strerror(err));
	c->failed = true;
	c->err = err < 0 ? -err : err;
	hsk_loop_stop(c->l);
}

static void do_send(struct client *c)
{
	while (!c->sent_all) {
		long n;

		if (c->off == c->len) {
			ssize_t r = c->in >= 0 ? read(c->in, c->buf, BUF) : 0;
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;   /* a pipe or terminal with nothing yet */
			if (r <= 0) {
				c->sent_all = true;
				c->shut_at = hsk_loop_now(c->l) + c->close_delay_ns;
				break;
			}
			c->off = 0;
			c->len = (size_t)r;
		}
		n = hsk_send(c->s, c->sd, c->buf + c->off, c->len - c->off);
		if (n == -HSK_EAGAIN || n == 0)
			return;
		if (n < 0) {
			fail(c, (int)n, "send");
			return;
		}
		c->off += (size_t)n;
		c->tx += (uint64_t)n;
	}
	/* Not before the handshake (a Fast Open connection is writable in
	 * SYN_SENT, but shutdown() waits for the connection). */
	if (c->send_path && c->sent_all && !c->shut && hsk_loop_now(c->l) >= c->shut_at &&
	    hsk_sock_state(c->s, c->sd) != HSK_SYN_SENT) {
		int rc = hsk_shutdown(c->s, c->sd, HSK_SHUT_WR);
		if (rc < 0)
			fail(c, rc, "shutdown");
		c->shut = true;
	}
}

static void do_recv(struct client *c)
{
	uint8_t tmp[BUF];

	while (!c->eof) {
		long n = hsk_recv(c->s, c->sd, tmp, sizeof(tmp));

		if (n == -HSK_EAGAIN)
			return;
		if (n < 0) {
			fail(c, (int)n, "recv");
			return;
		}
		if (n == 0) {
			c->eof = true;
			return;
		}
		c->rx += (uint64_t)n;
		for (long w = 0; c->out >= 0 && w < n;) {
			ssize_t k = write(c->out, tmp + w, (size_t)(n - w));
			if (k < 0) {
				/* a full disk, a closed pipe: what was received
				 * is lost, so the exchange failed */
				fprintf(stderr, "connect: %s: %s\n", c->recv_path, strerror(errno));
				if (c->out > 1)
					close(c->out);
				c->out = -1;
				c->failed = true;
				hsk_loop_stop(c->l);
				return;
			}
			w += k;
		}
	}
}

static void progress(struct client *c)
{
	int ev = hsk_poll(c->s, c->sd);

	if (ev < 0)
		return;
	if (!c->connected) {
		int e = hsk_sock_error(c->s, c->sd);
		if (e) {
			fail(c, e, c->target);
			return;
		}
		if (!(ev & HSK_POLLOUT))
			return;
		c->connected = true;
		c->t_conn = hsk_loop_now(c->l);
		if (!c->o.quiet && hsk_sock_state(c->s, c->sd) == HSK_SYN_SENT) {
			fprintf(stderr, "connect: Fast Open: the first data goes on the SYN\n");
		} else if (!c->o.quiet) {
			hsk_addr la = { 0 }, ra = { 0 };
			uint16_t lp = 0, rp = 0;
			char l[HSK_ADDRSTRLEN], r[HSK_ADDRSTRLEN];
			hsk_sock_name(c->s, c->sd, &la, &lp);
			hsk_sock_peer(c->s, c->sd, &ra, &rp);
			fprintf(stderr, "connect: %s -> %s established in %.3f ms\n",
				net_endpoint_addr(&la, lp, l, sizeof(l)),
				net_endpoint_addr(&ra, rp, r, sizeof(r)),
				(double)(c->t_conn - c->t_start) / 1e6);
		}
	}
	if (ev & HSK_POLLERR) {
		int e = hsk_sock_error(c->s, c->sd);
		if (e) {
			fail(c, e, "connection");
			return;
		}
	}
	do_recv(c);
	if (c->draining) {
		if (c->eof || c->failed)
			hsk_loop_stop(c->l);
		return;
	}
	if (!c->failed)
		do_send(c);
	if (!c->failed && c->eof && (c->shut || !c->send_path)) {
		if (c->send_path && !c->sent_all)
			return;   /* half-closed by the peer: keep sending */
		c->t_end = hsk_loop_now(c->l);
		c->done = true;
		hsk_loop_stop(c->l);
	}
}

static void on_sock(void *ctx, hsk_loop *l, int sd, int events)
{
	struct client *c = ctx;
	(void)l;
	(void)events;

	if (sd == c->sd)
		progress(c);
}

static void on_tick(void *ctx, hsk_loop *l)
{
	struct client *c = ctx;

	if (net_outputs_check(&c->o, l, false) < 0 && !c->failed) {
		c->failed = true;
		hsk_loop_stop(l);
		return;
	}
	if (!c->connected && c->timeout_ns && hsk_loop_now(l) - c->t_start > c->timeout_ns) {
		fail(c, HSK_ETIMEDOUT, c->target);
		return;
	}
	/* Pending output, or a shutdown waiting for --close-delay. */
	if (c->connected && !hsk_loop_stopped(l) && (!c->sent_all || !c->shut))
		progress(c);
}

/* stdin (a pipe or terminal) became readable: send what it has. */
static void on_input(void *ctx, hsk_loop *l, int fd, uint32_t events)
{
	struct client *c = ctx;
	(void)fd;
	(void)events;

	if (c->connected && !hsk_loop_stopped(l))
		progress(c);
	if (c->sent_all)
		hsk_loop_del_fd(l, c->in);
}

static void on_signal(void *ctx, hsk_loop *l, int signo)
{
	struct client *c = ctx;

	if (signo == SIGUSR1) {
		stats_print(stderr, l);
		return;
	}
	hsk_loop_stop(l);
	if (c->done)
		return;             /* lingering after a complete exchange */
	if (c->interrupted) {
		if (hsk_loop_now(l) - c->t_signal >= 250000000ull)
			c->drain_end = hsk_loop_now(l);   /* again: reset now */
		return;
	}
	c->interrupted = signo;
	c->t_signal = hsk_loop_now(l);
	c->drain_end = hsk_loop_now(l) + c->o.drain_ns;
	if (!c->o.quiet)
		fprintf(stderr, "connect: %s: closing\n", strsignal(signo));
}

/* Our FIN, once the connection is made: a Fast Open connection is
 * writable in SYN_SENT, where shutdown() is refused (ENOTCONN, as Linux
 * would drop the connection): its FIN waits for the SYN-ACK. */
static void drain_shut(struct client *c)
{
	if (c->shut || hsk_sock_state(c->s, c->sd) == HSK_SYN_SENT)
		return;
	hsk_shutdown(c->s, c->sd, HSK_SHUT_WR);
	c->shut = true;
}

/* Interrupted: our FIN now (or when the handshake completes), then what
 * the peer still sends until its FIN or the drain deadline. True when the
 * peer closed in time. */
static bool drain(struct client *c)
{
	uint64_t now = hsk_now_ns();

	if (!c->connected || c->failed)
		return false;
	if (c->in >= 0)
		hsk_loop_del_fd(c->l, c->in);
	c->draining = true;
	hsk_loop_resume(c->l);
	do_recv(c);
	while (!c->eof && !c->failed && now < c->drain_end) {
		drain_shut(c);
		if (hsk_loop_run_once(c->l, c->drain_end - now) != 0)
			break;
		now = hsk_now_ns();
	}
	return c->eof && !c->failed;
}

/* The loop, waking in time for a shutdown that waits for --close-delay
 * and for --timeout. */
static int run(struct client *c)
{
	int rc = 0;

	while (rc == 0) {
		uint64_t now = hsk_now_ns(), wait = 1000000000ull;

		if (c->sent_all && !c->shut && c->send_path)
			wait = c->shut_at > now ? c->shut_at - now : 0;
		rc = hsk_loop_run_once(c->l, wait);
	}
	return rc < 0 ? rc : 0;
}

/* After close(): the loop runs until the connection needs us no more and
 * the impairment layer has let out what it held (the last ACK, say), at
 * most --linger seconds. Behind a lossy impairment layer we stay in
 * TIME_WAIT until 3 s pass with nothing coming in, so that a FIN the peer
 * resends because our last ACK was lost still gets its ACK (the reason
 * TIME_WAIT exists) instead of silence: with a 200 ms RTO the peer
 * resends at 0.2, 0.6, 1.4 and 3 s, and one more loss must not leave its
 * LAST-ACK unanswered (test_loss's sink checks it ends within 3 s). */
static void linger(struct client *c, uint64_t deadline)
{
	hsk_loop_linger(c->l, deadline, c->o.ns.loss > 0 ? 3000000000ull : 0);
}

static void connect_usage(FILE *f)
{
	fprintf(f,
		"usage: handshake connect (--tun NAME | --tap NAME) --addr A.B.C.D/PREFIX\n"
		"                         HOST:PORT [--send FILE] [--recv FILE] [options]\n"
		"  --send FILE        send FILE, then shut down the sending side\n"
		"  --recv FILE        write what arrives to FILE ('-': stdout)\n"
		"  --lport N          local port (default: ephemeral)\n"
		"  --close-delay MS   wait MS after sending before the shutdown\n"
		"  --timeout S        give up connecting after S seconds (default: the\n"
		"                     stack's SYN retries decide)\n"
		"  --linger S         after close, wait at most S s for the close to\n"
		"                     complete (default 10)\n"
		"  --fastopen         TCP Fast Open (TCP_FASTOPEN_CONNECT): with a cookie\n"
		"                     for HOST, the first data goes on the SYN\n"
		"  --fastopen-cookie FILE  the cookie for HOST: read at start when FILE\n"
		"                     exists, written at exit when the server gave one\n"
		"exit status: 0 done, 1 connection error, interrupted or an output file\n"
		"not written in full, 2 usage\n");
	net_opt_usage(f);
}

static int parse_num(const char *v, double max, double *out)
{
	char *end;

	*out = strtod(v, &end);
	return end == v || *end || !(*out >= 0 && *out <= max) ? -1 : 0;
}

static int connect_args(struct client *c, int argc, char **argv)
{
	const char *target = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		double x;
		int r = net_opt_parse(&c->o, argc, argv, &i);

		if (r < 0)
			return 2;
		if (r)
			continue;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			connect_usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--fastopen")) {
			c->fastopen = true;
			continue;
		}
		static const char *const opts[] = { "--send", "--recv", "--lport",
			"--close-delay", "--timeout", "--linger", "--fastopen-cookie", NULL };
		const char *opt = NULL;
		for (int k = 0; opts[k]; k++)
			if (net_opt_is(a, opts[k]))
				opt = opts[k];
		if (!opt) {
			if (a[0] == '-' || target) {
				fprintf(stderr, "handshake connect: unexpected argument '%s'\n", a);
				return 2;
			}
			target = a;
			continue;
		}
		if (!(v = net_opt_value("connect", argc, argv, &i, opt)))
			return 2;
		if (!strcmp(opt, "--send")) {
			c->send_path = v;
		} else if (!strcmp(opt, "--recv")) {
			c->recv_path = v;
		} else if (!strcmp(opt, "--fastopen-cookie")) {
			c->cookie_path = v;
		} else if (parse_num(v, !strcmp(opt, "--lport") ? 65535 : 1e6, &x) < 0) {
			fprintf(stderr, "handshake connect: bad %s '%s'\n", opt, v);
			return 2;
		} else if (!strcmp(opt, "--lport")) {
			c->lport = (uint16_t)x;
		} else if (!strcmp(opt, "--close-delay")) {
			c->close_delay_ns = (uint64_t)(x * 1e6);
		} else if (!strcmp(opt, "--timeout")) {
			c->timeout_ns = (uint64_t)(x * 1e9);
		} else {
			c->linger_ns = (uint64_t)(x * 1e9);
		}
	}
	if (!target) {
		fprintf(stderr, "handshake connect: HOST:PORT is required\n");
		return 2;
	}
	if (net_parse_endpoint("connect", "target", target, &c->raddr, &c->rport) < 0)
		return 2;
	c->target = target;
	if (net_opt_check(&c->o) < 0)
		return 2;
	if (c->raddr.family == HSK_AF_INET6 && !c->o.ns.naddr6) {
		fprintf(stderr, "handshake connect: %s is IPv6: give an IPv6 --addr too\n", target);
		return 2;
	}
	if (c->raddr.family == HSK_AF_INET && !c->o.ns.addr) {
		fprintf(stderr, "handshake connect: %s is IPv4: give an IPv4 --addr too\n", target);
		return 2;
	}
	return 0;
}

static int open_files(struct client *c)
{
	if (c->send_path) {
		c->in = !strcmp(c->send_path, "-") ? 0 : open(c->send_path, O_RDONLY | O_CLOEXEC);
		if (c->in < 0) {
			fprintf(stderr, "handshake connect: %s: %s\n", c->send_path, strerror(errno));
			return -1;
		}
	}
	if (c->recv_path) {
		c->out = !strcmp(c->recv_path, "-") ? 1 :
			open(c->recv_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out < 0) {
			fprintf(stderr, "handshake connect: %s: %s\n", c->recv_path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* --fastopen-cookie: the cookie as hex on one line, as `ip tcp_metrics`
 * shows it. A missing or unreadable file is no cookie. */
static void cookie_load(struct client *c)
{
	FILE *f = c->cookie_path ? fopen(c->cookie_path, "r") : NULL;
	uint8_t ck[16];
	size_t n = 0;
	unsigned b;

	if (!f)
		return;
	while (n < sizeof(ck) && fscanf(f, "%2x", &b) == 1)
		ck[n++] = (uint8_t)b;
	fclose(f);
	if (hsk_fastopen_cookie_set_addr(c->s, &c->raddr, ck, n) < 0)
		fprintf(stderr, "connect: %s: not a Fast Open cookie, ignored\n", c->cookie_path);
}

static void cookie_save(struct client *c)
{
	uint8_t ck[16];
	int n = c->cookie_path ? hsk_fastopen_cookie_get_addr(c->s, &c->raddr, ck) : -1;
	FILE *f;

	if (n <= 0)
		return;
	if (!(f = fopen(c->cookie_path, "w"))) {
		fprintf(stderr, "connect: %s: %s\n", c->cookie_path, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++)
		fprintf(f, "%02x", ck[i]);
	fputc('\n', f);
	fclose(f);
}

/* The exchange, on the shard whose flow it is: connect, run, close and
 * linger. The loop's device error (-errno) or 0. */
static int connect_run(struct client *c)
{
	int rc;

	c->t_start = hsk_now_ns();
	cookie_load(c);
	hsk_addr any = { .family = c->raddr.family };
	c->sd = hsk_socket_family(c->s, c->raddr.family);
	rc = c->sd < 0 ? c->sd : hsk_bind_addr(c->s, c->sd, &any, c->lport);
	if (rc >= 0 && c->fastopen)
		rc = hsk_setsockopt(c->s, c->sd, HSK_TCP_FASTOPEN_CONNECT, 1);
	if (rc >= 0 && c->o.pacing)
		rc = hsk_setsockopt(c->s, c->sd, HSK_SO_MAX_PACING_RATE, c->o.pacing);
	if (rc >= 0)
		rc = hsk_connect_addr(c->s, c->sd, &c->raddr, c->rport);
	if (rc == 0)
		progress(c);      /* Fast Open with a cookie: writable at once */
	if (rc < 0 && rc != -HSK_EINPROGRESS) {
		fail(c, rc, c->target);
		rc = 0;
	} else {
		rc = run(c);
	}
	if (rc < 0)
		fprintf(stderr, "connect: device error: %s\n", strerror(-rc));
	if (c->sd >= 0) {
		bool graceful = c->interrupted ? drain(c) : !c->failed;

		if (graceful) {
			hsk_close(c->s, c->sd);
			linger(c, c->interrupted ? c->drain_end : hsk_now_ns() + c->linger_ns);
		} else {
			hsk_abort(c->s, c->sd);
			/* the RST leaves at once unless an impairment layer holds it */
			hsk_loop_linger(c->l, hsk_now_ns() + 500000000ull, 0);
		}
	}
	return rc;
}

/* The shard of a given local port: its flow's (IPv6: from the source
 * address the stack will pick, as the kernel's steering hashes it). */
static unsigned connect_shard_of(struct client *c)
{
	hsk_stack *s = hsk_loop_stack(hsk_shards_loop(c->o.sh, 0));
	hsk_addr src;

	if (c->raddr.family == HSK_AF_INET)
		return hsk_shards_of(c->o.sh, c->o.ns.addr, c->lport, c->raddr.v4, c->rport);
	if (hsk_select_src(s, &c->raddr, &src) < 0)
		return 0;
	return hsk_shards_of_addr(c->o.sh, &src, c->lport, &c->raddr, c->rport);
}

static void stop_shard(void *ctx, hsk_loop *l)
{
	(void)ctx;
	hsk_loop_stop(l);
}

/* Each shard: the client's runs the exchange, the others carry what
 * reaches them (packets of its flow on another queue are handed over)
 * until it is done. */
static int connect_shard(void *ctx, hsk_loop *l)
{
	struct client *c = ctx;
	int rc;

	if (l != c->l) {
		rc = hsk_loop_run(l);
		return rc < 0 ? rc : 0;
	}
	rc = connect_run(c);
	hsk_shards_post_all(c->o.sh, stop_shard, NULL);
	return rc;
}

int cmd_connect(int argc, char **argv)
{
	struct client *c = calloc(1, sizeof(*c));
	hsk_loop *l0;
	unsigned shard = 0;
	int rc;

	if (!c)
		return 1;
	c->o.prog = "connect";
	signal(SIGPIPE, SIG_IGN);   /* a closed --recv pipe is an error, not a death */
	c->in = c->out = -1;
	c->linger_ns = 10000000000ull;
	c->o.drain_ns = NET_DRAIN_DEFAULT_MS * 1000000ull;   /* as serve */
	rc = connect_args(c, argc, argv);
	if (rc || open_files(c) < 0) {
		free(c);
		return rc ? rc : 2;
	}
	l0 = net_loop_open(&c->o);
	if (!l0) {
		net_opts_done(&c->o);
		if (c->in > 0)
			close(c->in);
		if (c->out > 1)
			close(c->out);
		free(c);
		return 1;
	}
	/* A given local port decides the shard; an ephemeral one is picked
	 * by shard 0 among those that bring the replies back to it. */
	if (c->lport)
		shard = connect_shard_of(c);
	c->l = hsk_shards_loop(c->o.sh, shard);
	c->s = hsk_loop_stack(c->l);
	hsk_loop_on_socket(c->l, on_sock, c);
	hsk_loop_on_tick(c->l, on_tick, c);
	hsk_loop_on_signal(c->l, on_signal, c);
	if (c->in >= 0) {
		struct stat st;
		/* Not a regular file: read it without blocking, when ready. */
		if (fstat(c->in, &st) == 0 && !S_ISREG(st.st_mode)) {
			fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
			hsk_loop_add_fd(c->l, c->in, EPOLLIN, on_input, c);
		}
	}
	rc = hsk_shards_run(c->o.sh, connect_shard, c);
	if (c->interrupted)
		c->failed = true;
	if (!c->o.quiet && !c->failed && c->connected) {
		double secs = (double)(c->t_end - c->t_conn) / 1e9;
		fprintf(stderr, "connect: sent %" PRIu64 " B, received %" PRIu64 " B in %.3f s"
			" (%.1f MB/s)\n", c->tx, c->rx, secs,
			secs > 0 ? (double)(c->tx + c->rx) / 1e6 / secs : 0.0);
	}
	cookie_save(c);
	if (c->o.stats)
		stats_print(stderr, c->l);
	if (net_report_finish(&c->o, c->l) < 0)
		c->failed = true;
	if (net_outputs_check(&c->o, c->l, true) < 0)
		c->failed = true;
	hsk_shards_free(c->o.sh);
	if (net_opts_done(&c->o) < 0)
		c->failed = true;
	if (c->in > 0)
		close(c->in);
	if (c->out > 1 && close(c->out) < 0) {
		fprintf(stderr, "connect: %s: %s\n", c->recv_path, strerror(errno));
		c->failed = true;
	}
	rc = c->failed || rc < 0 ? 1 : 0;
	free(c);
	return rc;
}
