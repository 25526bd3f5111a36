/*
 * `handshake serve`: a TCP server on a real device.
 *
 *   --echo      send back everything received; close after the peer's FIN
 *               once all is echoed (the default)
 *   --discard   read and drop; close after the peer's FIN
 *   --http DIR  HTTP/1.1 GET and HEAD of files under DIR, "Connection: close"
 *   --send FILE send FILE to each client, then close (handshake closes
 *               first), reading and dropping whatever the client sends
 *
 * Connections are driven by readiness events; a connection with output
 * pending is retried at the end of every loop turn as well, so progress
 * never depends on one missed event.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/dev.h"
#include "netcmd.h"

enum mode { M_ECHO, M_DISCARD, M_HTTP, M_SEND };
enum { BUF = 65536, REQ_MAX = 4096 };

struct conn {
	bool used;
	bool eof;            /* the peer sent FIN */
	bool out_done;       /* nothing more to send: close when flushed */
	int fd;              /* file being sent, or -1 */
	hsk_tuple peer;
	uint8_t *buf;        /* pending output */
	size_t off, len;
	size_t req_len;
	uint64_t rx, tx;
	char req[REQ_MAX];
};

struct server {
	net_opts o;
	hsk_loop *l;
	hsk_stack *s;
	int mode;
	const char *arg;     /* DIR or FILE */
	uint16_t port;
	int backlog;
	int lsd;
	struct conn *c;
	unsigned nc;
	unsigned open, accepted, closed, errors;
	int max_conns;       /* exit after this many connections closed (0: never) */
	bool count_reached;
};

/* After --count connections: let the last closes finish (FINs
 * acknowledged, held packets out), for at most 5 s; behind a lossy
 * impairment layer, with a second of TIME_WAIT duty as `connect` does. */
static void serve_linger(struct server *sv)
{
	uint64_t end = hsk_now_ns() + 5000000000ull;
	bool lossy = sv->o.ns.loss > 0, in_grace = false;
	hsk_usage u;

	for (;;) {
		uint64_t now = hsk_now_ns();

		hsk_stack_usage(sv->s, &u);
		if (!in_grace && u.tcbs == 0 && u.requests == 0 &&
		    !impair_held(hsk_loop_dev(sv->l))) {
			if (!lossy || !u.timewaits)
				return;
			in_grace = true;
			if (end > now + 1000000000ull)
				end = now + 1000000000ull;
		}
		if (now >= end)
			return;
		if (hsk_loop_run_once(sv->l, 10000000) < 0)
			return;
	}
}

static struct conn *conn_get(struct server *sv, int sd)
{
	if (sd < 0)
		return NULL;
	if ((unsigned)sd >= sv->nc) {
		unsigned n = sv->nc ? sv->nc : 64;
		struct conn *c;
		while (n <= (unsigned)sd)
			n *= 2;
		c = realloc(sv->c, n * sizeof(*c));
		if (!c)
			return NULL;
		memset(c + sv->nc, 0, (n - sv->nc) * sizeof(*c));
		sv->c = c;
		sv->nc = n;
	}
	return &sv->c[sd];
}

static void conn_release(struct server *sv, int sd, bool abort)
{
	struct conn *c = &sv->c[sd];
	char p[24];

	if (abort)
		hsk_abort(sv->s, sd);
	else
		hsk_close(sv->s, sd);
	if (!sv->o.quiet)
		fprintf(stderr, "serve: %s closed (rx %" PRIu64 " B, tx %" PRIu64 " B)%s\n",
			net_endpoint(c->peer.raddr, c->peer.rport, p, sizeof(p)),
			c->rx, c->tx, abort ? " aborted" : "");
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	sv->open--;
	sv->closed++;
	if (sv->max_conns && sv->closed >= (unsigned)sv->max_conns) {
		sv->count_reached = true;
		hsk_loop_stop(sv->l);
	}
}

/* Sends pending bytes, refilling from the file; false on a send error. */
static bool conn_flush(struct server *sv, int sd, struct conn *c)
{
	for (;;) {
		long n;

		if (c->off == c->len && c->fd >= 0) {
			ssize_t r = read(c->fd, c->buf, BUF);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				c->out_done = true;
			} else {
				c->off = 0;
				c->len = (size_t)r;
			}
		}
		if (c->off == c->len)
			return true;
		n = hsk_send(sv->s, sd, c->buf + c->off, c->len - c->off);
		if (n == -HSK_EAGAIN)
			return true;
		if (n < 0)
			return false;
		c->off += (size_t)n;
		c->tx += (uint64_t)n;
		if (n == 0)
			return true;
	}
}

static void http_respond(struct server *sv, struct conn *c)
{
	char path[PATH_MAX], method[16], url[1024];
	const char *status = "200 OK";
	struct stat st;
	int fd = -1;

	c->out_done = true;
	if (sscanf(c->req, "%15s %1023s", method, url) != 2 ||
	    (strcmp(method, "GET") && strcmp(method, "HEAD"))) {
		status = "405 Method Not Allowed";
	} else if (url[0] != '/' || strstr(url, "..")) {
		status = "400 Bad Request";
	} else {
		snprintf(path, sizeof(path), "%s%s%s", sv->arg, url,
			 url[strlen(url) - 1] == '/' ? "index.html" : "");
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			fd = -1;
			status = "404 Not Found";
		}
	}
	c->off = 0;
	if (fd >= 0) {
		c->len = (size_t)snprintf((char *)c->buf, BUF, "HTTP/1.1 %s\r\nServer: handshake\r\n"
					  "Content-Type: application/octet-stream\r\n"
					  "Content-Length: %jd\r\nConnection: close\r\n\r\n",
					  status, (intmax_t)st.st_size);
		if (!strcmp(method, "HEAD")) {
			close(fd);
		} else {
			c->fd = fd;
			c->out_done = false;
		}
	} else {
		c->len = (size_t)snprintf((char *)c->buf, BUF, "HTTP/1.1 %s\r\nServer: handshake\r\n"
					  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
					  status, strlen(status) + 1, status);
	}
}

/* Reads what is there; acts on it by mode. */
static bool conn_read(struct server *sv, int sd, struct conn *c)
{
	uint8_t tmp[BUF];

	/* Echo applies back-pressure: no reading while output is pending. */
	while (!(sv->mode == M_ECHO && c->off < c->len)) {
		uint8_t *dst = sv->mode == M_ECHO ? c->buf : tmp;
		long n = hsk_recv(sv->s, sd, dst, BUF);

		if (n == -HSK_EAGAIN)
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			c->eof = true;
			if (sv->mode == M_ECHO || sv->mode == M_DISCARD)
				c->out_done = true;
			return true;
		}
		c->rx += (uint64_t)n;
		if (sv->mode == M_ECHO) {
			c->off = 0;
			c->len = (size_t)n;
			if (!conn_flush(sv, sd, c))
				return false;
		} else if (sv->mode == M_HTTP && !c->out_done && c->fd < 0) {
			size_t k = (size_t)n < REQ_MAX - 1 - c->req_len ? (size_t)n
					: REQ_MAX - 1 - c->req_len;
			memcpy(c->req + c->req_len, tmp, k);
			c->req_len += k;
			c->req[c->req_len] = '\0';
			if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
			    c->req_len == REQ_MAX - 1)
				http_respond(sv, c);
		}
	}
	return true;
}

static void conn_work(struct server *sv, int sd, int events)
{
	struct conn *c = &sv->c[sd];
	bool ok = true;

	if (events & (HSK_POLLIN | HSK_POLLRDHUP | HSK_POLLHUP))
		ok = conn_read(sv, sd, c);
	if (ok)
		ok = conn_flush(sv, sd, c);
	if (ok && sv->mode == M_ECHO && c->off == c->len && !c->eof)
		ok = conn_read(sv, sd, c);   /* output drained: read on */
	if (!ok || (events & HSK_POLLERR)) {
		int e = hsk_sock_error(sv->s, sd);
		char p[24];
		if (e && !sv->o.quiet)
			fprintf(stderr, "serve: %s: %s\n",
				net_endpoint(c->peer.raddr, c->peer.rport, p, sizeof(p)),
				hsk_errno_name(e));
		sv->errors++;
		conn_release(sv, sd, true);
		return;
	}
	if (c->out_done && c->off == c->len && c->fd < 0) {
		/* Read what is left so close() sends FIN, not RST. */
		conn_read(sv, sd, c);
		if (c->eof || sv->mode == M_HTTP || sv->mode == M_SEND)
			conn_release(sv, sd, false);
	}
}

static void accept_all(struct server *sv)
{
	for (;;) {
		hsk_tuple peer;
		int sd = hsk_accept(sv->s, sv->lsd, &peer);
		struct conn *c;
		char p[24];

		if (sd < 0)
			return;
		c = conn_get(sv, sd);
		if (!c || !(c->buf = malloc(BUF))) {
			hsk_abort(sv->s, sd);
			continue;
		}
		c->used = true;
		c->fd = -1;
		hsk_sock_tuple(sv->s, sd, &c->peer);
		sv->open++;
		sv->accepted++;
		if (!sv->o.quiet)
			fprintf(stderr, "serve: accepted %s\n",
				net_endpoint(c->peer.raddr, c->peer.rport, p, sizeof(p)));
		if (sv->mode == M_SEND) {
			c->fd = open(sv->arg, O_RDONLY | O_CLOEXEC);
			if (c->fd < 0)
				c->out_done = true;
		}
		conn_work(sv, sd, HSK_POLLIN | HSK_POLLOUT);
	}
}

static void on_sock(void *ctx, hsk_loop *l, int sd, int events)
{
	struct server *sv = ctx;
	(void)l;

	if (sd == sv->lsd) {
		accept_all(sv);
		return;
	}
	if ((unsigned)sd < sv->nc && sv->c[sd].used)
		conn_work(sv, sd, events);
}

static void on_tick(void *ctx, hsk_loop *l)
{
	struct server *sv = ctx;
	(void)l;

	for (unsigned sd = 0; sd < sv->nc; sd++) {
		struct conn *c = &sv->c[sd];
		if (c->used && (c->off < c->len || c->fd >= 0))
			conn_work(sv, (int)sd, HSK_POLLOUT);
	}
}

static void on_signal(void *ctx, hsk_loop *l, int signo)
{
	struct server *sv = ctx;

	if (signo == SIGUSR1)
		stats_print(stderr, l);
	else
		hsk_loop_stop(l);
	(void)sv;
}

static void serve_usage(FILE *f)
{
	fprintf(f,
		"usage: handshake serve (--tun NAME | --tap NAME) --addr A.B.C.D/PREFIX\n"
		"                       --port N [--echo | --discard | --http DIR | --send FILE]\n"
		"                       [--backlog N] [--count N] [options]\n"
		"  --echo        echo everything back (default)\n"
		"  --discard     read and drop\n"
		"  --http DIR    serve files under DIR over HTTP/1.1\n"
		"  --send FILE   send FILE to every client, then close\n"
		"  --backlog N   listen backlog (default 4096)\n"
		"  --count N     exit after N connections have closed\n");
	net_opt_usage(f);
}

static int serve_args(struct server *sv, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		char *end;
		int r = net_opt_parse(&sv->o, argc, argv, &i);

		if (r < 0)
			return 2;
		if (r)
			continue;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			serve_usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--echo")) {
			sv->mode = M_ECHO;
		} else if (!strcmp(a, "--discard")) {
			sv->mode = M_DISCARD;
		} else if (net_opt_is(a, "--http") || net_opt_is(a, "--send")) {
			sv->mode = net_opt_is(a, "--http") ? M_HTTP : M_SEND;
			if (!(v = net_opt_value("serve", argc, argv, &i, sv->mode == M_HTTP ? "--http" : "--send")))
				return 2;
			sv->arg = v;
		} else if (net_opt_is(a, "--port") || net_opt_is(a, "--backlog") ||
			   net_opt_is(a, "--count")) {
			const char *opt = a[2] == 'p' ? "--port" : a[2] == 'b' ? "--backlog" : "--count";
			unsigned long n;
			if (!(v = net_opt_value("serve", argc, argv, &i, opt)))
				return 2;
			n = strtoul(v, &end, 10);
			if (end == v || *end || n > (a[2] == 'p' ? 65535ul : 1000000000ul)) {
				fprintf(stderr, "handshake serve: bad %s '%s'\n", opt, v);
				return 2;
			}
			if (a[2] == 'p')
				sv->port = (uint16_t)n;
			else if (a[2] == 'b')
				sv->backlog = (int)n;
			else
				sv->max_conns = (int)n;
		} else {
			fprintf(stderr, "handshake serve: unknown argument '%s'\n", a);
			return 2;
		}
	}
	if (!sv->port) {
		fprintf(stderr, "handshake serve: --port N is required\n");
		return 2;
	}
	if (sv->mode == M_SEND && access(sv->arg, R_OK) < 0) {
		fprintf(stderr, "handshake serve: %s: %s\n", sv->arg, strerror(errno));
		return 2;
	}
	return net_opt_check(&sv->o) < 0 ? 2 : 0;
}

int cmd_serve(int argc, char **argv)
{
	static const char *const modes[] = { "echo", "discard", "http", "send" };
	struct server sv = { .o.prog = "serve", .mode = M_ECHO, .backlog = 4096 };
	char a[16];
	int rc;

	rc = serve_args(&sv, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (rc)
		return rc;
	sv.l = net_loop_open(&sv.o);
	if (!sv.l)
		return 1;
	sv.s = hsk_loop_stack(sv.l);
	sv.lsd = hsk_socket(sv.s);
	if (sv.lsd < 0 || (rc = hsk_bind(sv.s, sv.lsd, 0, sv.port)) < 0 ||
	    (rc = hsk_listen(sv.s, sv.lsd, sv.backlog)) < 0) {
		fprintf(stderr, "handshake serve: listen on port %u: %s\n", sv.port,
			hsk_errno_name(sv.lsd < 0 ? sv.lsd : rc));
		hsk_loop_free(sv.l);
		return 1;
	}
	hsk_loop_on_socket(sv.l, on_sock, &sv);
	hsk_loop_on_tick(sv.l, on_tick, &sv);
	hsk_loop_on_signal(sv.l, on_signal, &sv);
	if (!sv.o.quiet)
		fprintf(stderr, "serve: listening on %s:%u (%s) on %s, mtu %u\n",
			hsk_ipv4_str(sv.o.ns.addr, a), sv.port, modes[sv.mode],
			hsk_loop_dev(sv.l)->name, hsk_loop_dev(sv.l)->mtu);
	rc = hsk_loop_run(sv.l);
	if (rc == 0 && sv.count_reached) {
		hsk_close(sv.s, sv.lsd);   /* new SYNs are refused meanwhile */
		serve_linger(&sv);
	}
	if (rc < 0)
		fprintf(stderr, "handshake serve: device error: %s\n", strerror(-rc));
	if (!sv.o.quiet)
		fprintf(stderr, "serve: %u accepted, %u closed, %u errors\n",
			sv.accepted, sv.closed, sv.errors);
	if (sv.o.stats)
		stats_print(stderr, sv.l);
	for (unsigned sd = 0; sd < sv.nc; sd++) {
		if (sv.c[sd].fd >= 0 && sv.c[sd].used)
			close(sv.c[sd].fd);
		free(sv.c[sd].buf);
	}
	free(sv.c);
	net_report_finish(&sv.o, sv.s);
	hsk_loop_free(sv.l);
	net_opts_done(&sv.o);
	return rc < 0 ? 1 : 0;
}
