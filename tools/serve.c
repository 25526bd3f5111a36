/*
 * `handshake serve`: a TCP server on a real device.
 *
 *   --echo      send back everything received; close after the peer's FIN
 *               once all is echoed (the default)
 *   --discard   read and drop; close after the peer's FIN
 *   --http DIR  HTTP/1.1 GET and HEAD of files beneath DIR, "Connection:
 *               close" (serve_http.c)
 *   --send FILE send FILE to each client, then close (handshake closes
 *               first), reading and dropping whatever the client sends
 *
 * Connections are driven by readiness events; a connection with output
 * pending is retried at the end of every loop turn as well, so progress
 * never depends on one missed event.
 *
 * No client can hold the server (docs/security.md):
 *   --max-conn N, --max-conn-per-source N
 *               a connection accepted over a limit is reset at once and
 *               counted (RefusedTotal, RefusedPerSource)
 *   --idle-timeout S
 *               no byte either way for S seconds: closed, or reset when
 *               output is stuck behind a peer that does not read
 *               (IdleTimeouts)
 *   --request-timeout S
 *               HTTP: the request head must be complete within S seconds
 *               of the accept, else 408 (RequestTimeouts); a head over
 *               8 KiB gets 431 (HeadTooLarge)
 * Output buffers are allocated when first needed, so an idle connection
 * costs the server some 100 bytes besides the stack's own state.
 *
 * SIGINT/SIGTERM stop it gracefully: the listener closes (new SYNs meet
 * RST), every connection gets a FIN after what the stack already holds,
 * the peers have --drain-timeout seconds to close their side, and what
 * remains then is reset. A second signal resets at once, if it comes a
 * quarter second or more after the first: one sooner is the same request
 * delivered twice (`timeout`, for one, signals the process and then its
 * whole process group).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/dev.h"
#include "netcmd.h"
#include "serve.h"

enum mode { M_ECHO, M_DISCARD, M_HTTP, M_SEND, M_HOLD };
enum { BUF = 65536 };
enum { NS = 1000000000 };

struct conn {
	bool used;
	bool eof;            /* the peer sent FIN */
	bool out_done;       /* nothing more to send: close when flushed */
	bool shut;           /* draining: our FIN is queued */
	int fd;              /* file being sent, or -1 */
	hsk_addr peer;
	uint16_t pport;      /* the peer's port */
	uint8_t *buf;        /* pending output (BUF bytes, on first use) */
	size_t off, len;
	char *req;           /* HTTP: the request head so far */
	size_t req_len;
	uint64_t t_accept;   /* for --request-timeout */
	uint64_t t_active;   /* last byte either way, for --idle-timeout */
	uint64_t rx, tx;
};

/* What --stats shows besides the stack's counters. */
struct serve_counters {
	uint64_t refused_total, refused_source, idle_timeouts, request_timeouts;
	uint64_t head_too_large, http_forbidden, http_not_found;
	uint64_t drain_closed, drain_reset;
};

struct serve_set;

/* One per shard: its loop, stack, listener and connections. The options
 * are the same in all (copied from the command line's); what a limit
 * counts across shards is in the set. */
struct server {
	net_opts *o;
	struct serve_set *set;
	hsk_loop *l;
	hsk_stack *s;
	int mode;
	const char *arg;     /* DIR or FILE */
	int root;            /* --http: DIR's descriptor */
	uint16_t port;
	hsk_addr bind;       /* --port ADDR:N (family 0: every address) */
	int backlog;
	int fastopen;        /* --fastopen N: the listener's TCP_FASTOPEN */
	int rcvbuf;          /* --rcvbuf N: the listener's SO_RCVBUF (0: default) */
	int lsd;
	struct conn *c;
	unsigned nc;
	unsigned open, accepted, closed, errors;
	int max_conns;       /* exit after this many connections closed (0: never) */
	bool count_reached;
	/* limits (0: none) */
	unsigned max_open, max_per_source;
	uint64_t idle_ns, request_ns;
	uint64_t next_sweep; /* no timeout can expire before this */
	uint64_t refuse_note;/* last "refused" message (one a second) */
	bool draining;
	uint64_t drain_start, drain_end;
	struct serve_counters n;
};

/* What the shards of a server share: the limits' counts. Touched at an
 * accept and a close, never per packet. */
struct serve_set {
	net_opts o;
	hsk_shards *sh;
	struct server *sv;      /* one per shard */
	unsigned n;
	_Atomic unsigned open, closed;
	pthread_mutex_t src_mu;
	src_table src;          /* connections per source address, all shards */
};

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

/* --count reached (posted to every shard; ctx: the set). */
static void count_reached(void *ctx, hsk_loop *l)
{
	struct serve_set *set = ctx;
	struct server *sv = &set->sv[hsk_loop_shard(l)];

	sv->count_reached = true;
	hsk_loop_stop(l);
}

/* A connection from addr leaves the limits' counts. */
static void unadmit(struct server *sv, const hsk_addr *addr)
{
	struct serve_set *set = sv->set;

	pthread_mutex_lock(&set->src_mu);
	src_del(&set->src, src_key(addr));
	pthread_mutex_unlock(&set->src_mu);
	atomic_fetch_sub(&set->open, 1);
}

static void conn_release(struct server *sv, int sd, bool abort)
{
	struct conn *c = &sv->c[sd];
	char p[HSK_ADDRSTRLEN];

	if (abort)
		hsk_abort(sv->s, sd);
	else
		hsk_close(sv->s, sd);
	if (!sv->o->quiet)
		fprintf(stderr, "serve: %s closed (rx %" PRIu64 " B, tx %" PRIu64 " B)%s\n",
			net_endpoint_addr(&c->peer, c->pport, p, sizeof(p)),
			c->rx, c->tx, abort ? " aborted" : "");
	if (sv->draining) {
		if (abort)
			sv->n.drain_reset++;
		else
			sv->n.drain_closed++;
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->req);
	unadmit(sv, &c->peer);
	memset(c, 0, sizeof(*c));
	sv->open--;
	sv->closed++;
	/* --count: every shard stops once the set has closed that many */
	if (atomic_fetch_add(&sv->set->closed, 1) + 1 == (unsigned)sv->max_conns)
		hsk_shards_post_all(sv->set->sh, count_reached, sv->set);
	if (sv->draining && !sv->open)
		hsk_loop_stop(sv->l);
}

static bool conn_buf(struct conn *c)
{
	return c->buf || (c->buf = malloc(BUF));
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
		c->t_active = hsk_loop_now(sv->l);
	}
}

/* The response to a complete head, or an error status (408, 431) when
 * `status` is not 0; the connection closes after it. */
static void http_respond(struct server *sv, struct conn *c, int status)
{
	http_reply r = { .status = status, .fd = -1 };

	if (!status)
		http_handle(sv->root, c->req, &r);
	if (r.status == 403)
		sv->n.http_forbidden++;
	else if (r.status == 404)
		sv->n.http_not_found++;
	free(c->req);
	c->req = NULL;
	c->out_done = true;
	if (!conn_buf(c)) {
		if (r.fd >= 0)
			close(r.fd);
		return;
	}
	c->off = 0;
	c->len = http_format(&r, (char *)c->buf, BUF);
	if (r.fd >= 0) {
		c->fd = r.fd;
		c->out_done = false;
	}
}

/* HTTP: adds n received bytes to the head; answers once it is complete
 * or too large. */
static void http_take(struct server *sv, struct conn *c, const uint8_t *d, size_t n)
{
	size_t k, from = c->req_len > 3 ? c->req_len - 3 : 0;

	if (!c->req && !(c->req = malloc(HTTP_HEAD_MAX + 1))) {
		http_respond(sv, c, 503);
		return;
	}
	k = n < HTTP_HEAD_MAX - c->req_len ? n : HTTP_HEAD_MAX - c->req_len;
	memcpy(c->req + c->req_len, d, k);
	c->req_len += k;
	c->req[c->req_len] = '\0';
	if (http_head_len(c->req, c->req_len, from))
		http_respond(sv, c, 0);
	else if (c->req_len == HTTP_HEAD_MAX) {
		sv->n.head_too_large++;
		http_respond(sv, c, 431);
	}
}

/* Reads what is there; acts on it by mode. While draining (or once the
 * answer is under way) what arrives is read and dropped. */
static bool conn_read(struct server *sv, int sd, struct conn *c)
{
	uint8_t tmp[BUF];

	/* --hold never reads (its receive window closes), until the drain:
	 * then what is there goes, so that the close is a FIN, not a RST. */
	if (sv->mode == M_HOLD && !sv->draining)
		return true;
	/* Echo applies back-pressure: no reading while output is pending. */
	while (!(sv->mode == M_ECHO && !sv->draining && c->off < c->len)) {
		bool echo = sv->mode == M_ECHO && !sv->draining;
		uint8_t *dst = tmp;
		long n;

		if (echo) {
			if (!conn_buf(c))
				return false;
			dst = c->buf;
		}
		n = hsk_recv(sv->s, sd, dst, BUF);
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
		c->t_active = hsk_loop_now(sv->l);
		if (echo) {
			c->off = 0;
			c->len = (size_t)n;
			if (!conn_flush(sv, sd, c))
				return false;
		} else if (sv->mode == M_HTTP && !sv->draining && !c->out_done && c->fd < 0) {
			http_take(sv, c, tmp, (size_t)n);
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
		char p[HSK_ADDRSTRLEN];
		if (e && !sv->o->quiet)
			fprintf(stderr, "serve: %s: %s\n",
				net_endpoint_addr(&c->peer, c->pport, p, sizeof(p)),
				hsk_errno_name(e));
		sv->errors++;
		conn_release(sv, sd, true);
		return;
	}
	if (c->out_done && c->off == c->len && c->fd < 0) {
		/* Read what is left so close() sends FIN, not RST. */
		conn_read(sv, sd, c);
		/* Draining, our FIN is out: wait for the peer's. */
		if (c->eof || (!sv->draining && (sv->mode == M_HTTP || sv->mode == M_SEND)))
			conn_release(sv, sd, false);
	}
}

/* Logs a refused connection, at most once a second (a flood must not
 * become a flood of messages). */
static void note_refused(struct server *sv, const hsk_addr *peer, uint16_t pport,
			 const char *why)
{
	uint64_t now = hsk_loop_now(sv->l);
	char p[HSK_ADDRSTRLEN];

	if (sv->o->quiet || (sv->refuse_note && now - sv->refuse_note < NS))
		return;
	sv->refuse_note = now;
	fprintf(stderr, "serve: %s reset: %s (%" PRIu64 " refused so far)\n",
		net_endpoint_addr(peer, pport, p, sizeof(p)), why,
		sv->n.refused_total + sv->n.refused_source);
}

/* Whether a new connection from peer is within the limits, counted over
 * every shard: then it is counted in (unadmit takes it out), else it is
 * to be reset, and is counted and logged. */
static bool admit(struct server *sv, const hsk_addr *peer, uint16_t pport)
{
	struct serve_set *set = sv->set;
	unsigned open = atomic_fetch_add(&set->open, 1);
	int rc;

	if (sv->max_open && open >= sv->max_open) {
		atomic_fetch_sub(&set->open, 1);
		sv->n.refused_total++;
		note_refused(sv, peer, pport, "--max-conn reached");
		return false;
	}
	pthread_mutex_lock(&set->src_mu);
	if (sv->max_per_source && src_count(&set->src, src_key(peer)) >= sv->max_per_source) {
		pthread_mutex_unlock(&set->src_mu);
		atomic_fetch_sub(&set->open, 1);
		sv->n.refused_source++;
		note_refused(sv, peer, pport, "--max-conn-per-source reached");
		return false;
	}
	rc = src_add(&set->src, src_key(peer));
	pthread_mutex_unlock(&set->src_mu);
	if (rc < 0)
		atomic_fetch_sub(&set->open, 1);
	return rc == 0;
}

/* The earliest time a timeout of c can expire. */
static uint64_t conn_deadline(const struct server *sv, const struct conn *c)
{
	uint64_t t = UINT64_MAX;

	if (sv->idle_ns)
		t = c->t_active + sv->idle_ns;
	if (sv->request_ns && sv->mode == M_HTTP && !c->out_done && c->fd < 0 &&
	    c->t_accept + sv->request_ns < t)
		t = c->t_accept + sv->request_ns;
	return t;
}

static void arm_sweep(struct server *sv, uint64_t t)
{
	if (t < sv->next_sweep) {
		sv->next_sweep = t;
		hsk_loop_wake_at(sv->l, t);
	}
}

static void accept_all(struct server *sv)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	for (;;) {
		hsk_addr peer;
		uint16_t pport;
		int sd = hsk_accept_addr(sv->s, sv->lsd, &peer, &pport);
		struct conn *c;
		char p[HSK_ADDRSTRLEN];

		if (sd < 0)
			return;
		/* An IPv4 peer of the dual-stack listener: as IPv4 in the
		 * messages and in the per-source counts */
		if (peer.family == HSK_AF_INET6 && !memcmp(peer.v6, v4mapped, 12))
			peer = hsk_addr_v4((uint32_t)peer.v6[12] << 24 | (uint32_t)peer.v6[13] << 16 |
					   (uint32_t)peer.v6[14] << 8 | peer.v6[15]);
		if (!admit(sv, &peer, pport)) {
			hsk_abort(sv->s, sd);
			continue;
		}
		if (!(c = conn_get(sv, sd))) {
			unadmit(sv, &peer);
			hsk_abort(sv->s, sd);
			continue;
		}
		c->used = true;
		c->fd = -1;
		c->peer = peer;
		c->pport = pport;
		c->t_accept = c->t_active = hsk_loop_now(sv->l);
		sv->open++;
		sv->accepted++;
		if (!sv->o->quiet)
			fprintf(stderr, "serve: accepted %s\n",
				net_endpoint_addr(&c->peer, c->pport, p, sizeof(p)));
		if (sv->mode == M_SEND) {
			c->fd = open(sv->arg, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			if (c->fd < 0 || !conn_buf(c)) {
				if (c->fd >= 0)
					close(c->fd);
				c->fd = -1;
				c->out_done = true;
			}
		}
		arm_sweep(sv, conn_deadline(sv, c));
		conn_work(sv, sd, HSK_POLLIN | HSK_POLLOUT);
	}
}

/* A timeout expired: HTTP gets 408 while its head is incomplete; any
 * other connection is closed, or reset when its output is stuck. */
static void conn_expire(struct server *sv, int sd, struct conn *c, uint64_t now)
{
	if (sv->mode == M_HTTP && !c->out_done && c->fd < 0 && sv->request_ns &&
	    now >= c->t_accept + sv->request_ns) {
		sv->n.request_timeouts++;
		http_respond(sv, c, 408);
		c->t_active = now;   /* the answer gets an idle period of its own */
		conn_work(sv, sd, HSK_POLLOUT);
		return;
	}
	sv->n.idle_timeouts++;
	conn_release(sv, sd, c->off < c->len || c->fd >= 0);
}

/* Acts on expired timeouts and finds the next one. */
static void sweep(struct server *sv, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (unsigned sd = 0; sd < sv->nc; sd++) {
		struct conn *c = &sv->c[sd];
		uint64_t t;

		if (!c->used)
			continue;
		if (conn_deadline(sv, c) <= now)
			conn_expire(sv, (int)sd, c, now);
		if (c->used && (t = conn_deadline(sv, c)) < next)
			next = t;
	}
	/* At most ten sweeps a second: timeouts are coarse, and a sweep
	 * walks every connection. */
	if (next < now + NS / 10)
		next = now + NS / 10;
	sv->next_sweep = UINT64_MAX;
	arm_sweep(sv, next);
}

/* SIGINT/SIGTERM: no new connections, a FIN to every open one. */
static void drain_start(struct server *sv)
{
	sv->draining = true;
	sv->drain_start = hsk_loop_now(sv->l);
	sv->drain_end = sv->drain_start + sv->o->drain_ns;
	hsk_loop_wake_at(sv->l, sv->drain_end);
	if (sv->lsd >= 0) {
		hsk_close(sv->s, sv->lsd);
		sv->lsd = -1;
	}
	if (!sv->o->quiet && hsk_loop_shard(sv->l) == 0) {
		unsigned open = atomic_load(&sv->set->open);
		fprintf(stderr, "serve: stopping: FIN to %u connection%s, %.1f s to close\n",
			open, open == 1 ? "" : "s", (double)sv->o->drain_ns / 1e9);
	}
	for (unsigned sd = 0; sd < sv->nc; sd++) {
		struct conn *c = &sv->c[sd];

		if (!c->used)
			continue;
		/* Output not yet handed to the stack is dropped; the FIN
		 * follows what the stack holds. */
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->off = c->len = 0;
		c->out_done = true;
		c->shut = true;
		hsk_shutdown(sv->s, (int)sd, HSK_SHUT_WR);
		conn_work(sv, (int)sd, HSK_POLLIN);
	}
	if (!sv->open)
		hsk_loop_stop(sv->l);
}

/* The drain deadline passed: reset what is left. */
static void drain_reset(struct server *sv)
{
	for (unsigned sd = 0; sd < sv->nc; sd++)
		if (sv->c[sd].used)
			conn_release(sv, (int)sd, true);
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
	uint64_t now = hsk_loop_now(l);

	for (unsigned sd = 0; sd < sv->nc; sd++) {
		struct conn *c = &sv->c[sd];
		if (c->used && (c->off < c->len || c->fd >= 0))
			conn_work(sv, (int)sd, HSK_POLLOUT);
	}
	if (sv->draining && now >= sv->drain_end)
		drain_reset(sv);
	else if (now >= sv->next_sweep)
		sweep(sv, now);
	if (hsk_loop_shard(l) == 0)
		net_outputs_check(sv->o, l, false);
}

/* Adds a shard's figures to the totals t (ctx: t, whose set says where
 * the shards are), one shard after the other (hsk_shards_sync). */
static void sum_shard(void *ctx, hsk_loop *l)
{
	struct server *t = ctx, *sv = &t->set->sv[hsk_loop_shard(l)];
	struct serve_counters *a = &t->n;
	const struct serve_counters *b = &sv->n;

	t->open += sv->open;
	t->accepted += sv->accepted;
	t->closed += sv->closed;
	t->errors += sv->errors;
	a->refused_total += b->refused_total;
	a->refused_source += b->refused_source;
	a->idle_timeouts += b->idle_timeouts;
	a->request_timeouts += b->request_timeouts;
	a->head_too_large += b->head_too_large;
	a->http_forbidden += b->http_forbidden;
	a->http_not_found += b->http_not_found;
	a->drain_closed += b->drain_closed;
	a->drain_reset += b->drain_reset;
}

/* The figures of all shards. */
static struct server serve_totals(struct serve_set *set)
{
	struct server t = { .set = set, .max_open = set->sv[0].max_open,
			    .max_per_source = set->sv[0].max_per_source };

	hsk_shards_sync(set->sh, sum_shard, &t);
	return t;
}

static void print_counters(struct serve_set *set, FILE *f)
{
	struct server t = serve_totals(set);
	const struct { const char *name; uint64_t v; } n[] = {
		{ "RefusedTotal", t.n.refused_total },
		{ "RefusedPerSource", t.n.refused_source },
		{ "IdleTimeouts", t.n.idle_timeouts },
		{ "RequestTimeouts", t.n.request_timeouts },
		{ "HeadTooLarge", t.n.head_too_large },
		{ "HttpForbidden", t.n.http_forbidden },
		{ "HttpNotFound", t.n.http_not_found },
		{ "DrainClosed", t.n.drain_closed },
		{ "DrainReset", t.n.drain_reset },
	};
	size_t k = sizeof(n) / sizeof(n[0]);

	fprintf(f, "serve: %u open, %u accepted, %u closed, %u errors; limits: "
		"--max-conn %u, --max-conn-per-source %u (0: none)\n", t.open,
		t.accepted, t.closed, t.errors, t.max_open, t.max_per_source);
	for (size_t i = 0; i < k; i++)
		fprintf(f, "  %-24s %12" PRIu64 "%s", n[i].name, n[i].v,
			i % 2 || i == k - 1 ? "\n" : "");
	fflush(f);
}

static void on_signal(void *ctx, hsk_loop *l, int signo)
{
	struct server *sv = ctx;

	/* SIGUSR1: shard 0 prints every shard's figures */
	if (signo == SIGUSR1) {
		if (hsk_loop_shard(l) == 0) {
			stats_print(stderr, l);
			print_counters(sv->set, stderr);
		}
	} else if (!sv->draining && !sv->count_reached) {
		drain_start(sv);
	} else if (!sv->draining || hsk_loop_now(l) - sv->drain_start >= NS / 4) {
		sv->drain_end = hsk_loop_now(l);   /* again: reset now */
		hsk_loop_stop(l);
	}
}

static void serve_usage(FILE *f)
{
	fprintf(f,
		"usage: handshake serve (--tun NAME | --tap NAME) --addr A.B.C.D/PREFIX\n"
		"                       --port [ADDR:]N [--echo | --discard | --hold | --http DIR |\n"
		"                       --send FILE] [--rcvbuf N]\n"
		"  --port N      listen on port N of every address (both families with\n"
		"                an IPv6 --addr: a dual-stack socket on [::])\n"
		"  --port A:N    only on address A: 198.18.0.2:80, [2001:2::2]:80\n"
		"                       [--backlog N] [--count N] [limits] [options]\n"
		"  --echo        echo everything back (default)\n"
		"  --discard     read and drop\n"
		"  --http DIR    serve the regular files beneath DIR over HTTP/1.1\n"
		"  --send FILE   send FILE (a regular file) to every client, then close\n"
		"  --hold        accept and never read (the receive window fills)\n"
		"  --rcvbuf N    the listener's SO_RCVBUF in bytes, inherited by its\n"
		"                connections (1024 at least)\n"
		"  --backlog N   listen backlog (default 4096)\n"
		"  --fastopen N  TCP Fast Open (RFC 7413): take data on SYNs with a\n"
		"                valid cookie, N such connections pending at most\n"
		"  --count N     exit after N connections have closed\n"
		"limits (0: none):\n"
		"  --max-conn N             connections open at once (default 16384)\n"
		"  --max-conn-per-source N  ... from one address (default 256); over a\n"
		"                           limit a new connection is reset at once\n"
		"  --idle-timeout S         close a connection idle for S s (default 300)\n"
		"  --request-timeout S      HTTP: the request head must arrive within S s\n"
		"                           (default 10; then 408)\n");
	net_opt_usage(f);
}

/* The numeric options: --port, --backlog, --count, --max-conn,
 * --max-conn-per-source, --fastopen, --rcvbuf, --idle-timeout, --request-timeout.
 * 1 when a is one (-1 on a bad value), 0 when not. */
static int serve_num_opt(struct server *sv, int argc, char **argv, int *i)
{
	static const char *const opts[] = { "--port", "--backlog", "--count", "--max-conn",
		"--max-conn-per-source", "--fastopen", "--rcvbuf", "--idle-timeout",
		"--request-timeout", NULL };
	const char *opt = NULL, *v;
	unsigned long n = 0;
	uint64_t ns = 0;
	char *end;
	int k;

	for (k = 0; opts[k]; k++)
		if (net_opt_is(argv[*i], opts[k]))
			break;
	if (!(opt = opts[k]))
		return 0;
	if (!(v = net_opt_value("serve", argc, argv, i, opt)))
		return -1;
	if (k >= 7) {
		if (net_parse_seconds(v, &ns) < 0)
			goto bad;
	} else if (k == 0 && (strchr(v, ':') || v[0] == '[')) {
		/* --port ADDR:N, [IPV6]:N: that address only */
		if (net_parse_endpoint("serve", "--port", v, &sv->bind, &sv->port) < 0)
			return -1;
		return 1;
	} else {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' ||
		    n > (k == 0 ? 65535ul : 1000000000ul) || (k == 6 && n < 1024))
			goto bad;
	}
	switch (k) {
	case 0: sv->port = (uint16_t)n; break;
	case 1: sv->backlog = (int)n; break;
	case 2: sv->max_conns = (int)n; break;
	case 3: sv->max_open = (unsigned)n; break;
	case 4: sv->max_per_source = (unsigned)n; break;
	case 5: sv->fastopen = (int)n; break;
	case 6: sv->rcvbuf = (int)n; break;
	case 7: sv->idle_ns = ns; break;
	default: sv->request_ns = ns; break;
	}
	return 1;
bad:
	fprintf(stderr, "handshake serve: bad %s '%s'\n", opt, v);
	return -1;
}

/* The file or directory of --send / --http, checked before anything is
 * opened for writing. */
static int serve_check_arg(struct server *sv)
{
	struct stat st;

	if (sv->mode == M_HTTP) {
		sv->root = http_root_open(sv->arg);
		if (sv->root < 0) {
			fprintf(stderr, "handshake serve: --http %s: %s\n", sv->arg,
				strerror(errno));
			return -1;
		}
	} else if (sv->mode == M_SEND) {
		if (access(sv->arg, R_OK) < 0 || stat(sv->arg, &st) < 0) {
			fprintf(stderr, "handshake serve: %s: %s\n", sv->arg, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "handshake serve: --send %s: not a regular file\n",
				sv->arg);
			return -1;
		}
	}
	return 0;
}

static int serve_args(struct server *sv, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int r = net_opt_parse(sv->o, argc, argv, &i);

		if (r == 0)
			r = serve_num_opt(sv, argc, argv, &i);
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
		} else if (!strcmp(a, "--hold")) {
			sv->mode = M_HOLD;
		} else if (net_opt_is(a, "--http") || net_opt_is(a, "--send")) {
			sv->mode = net_opt_is(a, "--http") ? M_HTTP : M_SEND;
			if (!(v = net_opt_value("serve", argc, argv, &i, sv->mode == M_HTTP ? "--http" : "--send")))
				return 2;
			sv->arg = v;
		} else {
			fprintf(stderr, "handshake serve: unknown argument '%s'\n", a);
			return 2;
		}
	}
	if (!sv->port) {
		fprintf(stderr, "handshake serve: --port N is required\n");
		return 2;
	}
	if (net_opt_check(sv->o) < 0 || serve_check_arg(sv) < 0)
		return 2;
	if (sv->fastopen)
		sv->o->fastopen_bits |= HSK_TFO_SERVER;
	return 0;
}

/* After the loop stopped: the rest of a graceful stop, or of --count. */
static int serve_finish(struct server *sv, int rc)
{
	uint64_t now = hsk_now_ns();

	if (rc == 0 && sv->count_reached && !sv->draining) {
		hsk_close(sv->s, sv->lsd);   /* new SYNs are refused meanwhile */
		sv->lsd = -1;
		return hsk_loop_linger(sv->l, now + 5ull * NS, sv->o->ns.loss > 0 ? NS : 0);
	}
	if (rc != 0 || !sv->draining)
		return rc;
	/* Every connection closed (or a second signal): the closes
	 * complete within what is left of the drain time, and what is
	 * still open then is reset. */
	if (sv->open && now < sv->drain_end) {
		hsk_loop_resume(sv->l);
		rc = hsk_loop_run_until(sv->l, sv->drain_end);
		if (rc < 0)
			return rc;
	}
	now = hsk_now_ns();
	if (now < sv->drain_end && hsk_loop_linger(sv->l, sv->drain_end, 0) < 0)
		return -EIO;
	drain_reset(sv);
	/* The RSTs leave at once, but an impairment layer may hold them. */
	return hsk_loop_linger(sv->l, hsk_now_ns() + NS / 2, 0) < 0 ? -EIO : 0;
}

/* A shard's run: the loop, then the rest of a graceful stop. */
static int serve_shard(void *ctx, hsk_loop *l)
{
	struct serve_set *set = ctx;
	struct server *sv = &set->sv[hsk_loop_shard(l)];
	int rc = serve_finish(sv, hsk_loop_run(l));

	if (rc < 0)
		fprintf(stderr, "handshake serve: device error: %s\n", strerror(-rc));
	return rc;
}

/* Every shard listens on the port (as SO_REUSEPORT): a SYN is answered
 * and accepted on the shard its flow belongs to. 0 or -1. */
static int serve_listen(struct serve_set *set, const struct server *tmpl)
{
	/* IPv6 on: one dual-stack socket on [::] (or the address asked for) */
	int fam = tmpl->bind.family ? tmpl->bind.family :
		  set->o.ns.naddr6 ? HSK_AF_INET6 : HSK_AF_INET;
	hsk_addr any = { .family = (uint8_t)fam };
	char a[HSK_ADDRSTRLEN];

	for (unsigned i = 0; i < set->n; i++) {
		struct server *sv = &set->sv[i];
		int rc = 0;

		*sv = *tmpl;
		sv->set = set;
		sv->l = hsk_shards_loop(set->sh, i);
		sv->s = hsk_loop_stack(sv->l);
		sv->lsd = hsk_socket_family(sv->s, fam);
		if (sv->lsd < 0 ||
		    (sv->fastopen &&
		     (rc = hsk_setsockopt(sv->s, sv->lsd, HSK_TCP_FASTOPEN, sv->fastopen)) < 0) ||
		    (sv->rcvbuf &&
		     (rc = hsk_setsockopt(sv->s, sv->lsd, HSK_SO_RCVBUF, sv->rcvbuf)) < 0) ||
		    (tmpl->o->pacing &&
		     (rc = hsk_setsockopt(sv->s, sv->lsd, HSK_SO_MAX_PACING_RATE,
					  tmpl->o->pacing)) < 0) ||
		    (rc = hsk_bind_addr(sv->s, sv->lsd, tmpl->bind.family ? &tmpl->bind : &any,
					sv->port)) < 0 ||
		    (rc = hsk_listen(sv->s, sv->lsd, sv->backlog)) < 0) {
			fprintf(stderr, "handshake serve: listen on %s: %s\n",
				net_endpoint_addr(tmpl->bind.family ? &tmpl->bind : &any,
						  sv->port, a, sizeof(a)),
				hsk_errno_name(sv->lsd < 0 ? sv->lsd : rc));
			return -1;
		}
		hsk_loop_on_socket(sv->l, on_sock, sv);
		hsk_loop_on_tick(sv->l, on_tick, sv);
		hsk_loop_on_signal(sv->l, on_signal, sv);
	}
	return 0;
}

/* "198.18.0.2:80", "[2001:2::2]:80", "198.18.0.2:80 [2001:2::2]:80" (the
 * dual-stack socket's addresses): what the startup line shows. */
static const char *listen_desc(const hsk_netspec *ns, const struct server *t, char *buf,
			       size_t cap)
{
	char e[HSK_ADDRSTRLEN];
	size_t k = 0;

	buf[0] = '\0';
	if (t->bind.family)
		return net_endpoint_addr(&t->bind, t->port, buf, cap);
	if (ns->addr)
		k += (size_t)snprintf(buf, cap, "%s", net_endpoint(ns->addr, t->port, e, sizeof(e)));
	for (unsigned i = 0; i < ns->naddr6 && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? " " : "",
				      net_endpoint_addr(&ns->addr6[i], t->port, e, sizeof(e)));
	return buf;
}

static void serve_free_conns(struct server *sv)
{
	for (unsigned sd = 0; sd < sv->nc; sd++) {
		if (sv->c[sd].fd >= 0 && sv->c[sd].used)
			close(sv->c[sd].fd);
		free(sv->c[sd].buf);
		free(sv->c[sd].req);
	}
	free(sv->c);
	sv->c = NULL;
	sv->nc = 0;
}

int cmd_serve(int argc, char **argv)
{
	static const char *const modes[] = { "echo", "discard", "http", "send", "hold" };
	static struct serve_set set = {
		.o = { .prog = "serve", .drain_ns = NET_DRAIN_DEFAULT_MS * 1000000ull },
	};
	struct server tmpl = {
		.o = &set.o,
		.mode = M_ECHO, .backlog = 4096, .root = -1, .lsd = -1,
		.max_open = 16384, .max_per_source = 256,
		.idle_ns = 300ull * NS, .request_ns = 10ull * NS,
		.next_sweep = UINT64_MAX,
	};
	uint64_t key;
	char a[4 * HSK_ADDRSTRLEN + 8], desc[160];
	hsk_loop *l0;
	int rc;

	rc = serve_args(&tmpl, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (rc) {
		if (tmpl.root >= 0)
			close(tmpl.root);
		return rc;
	}
	if (getrandom(&key, sizeof(key), 0) != sizeof(key))
		key = hsk_now_ns();
	src_init(&set.src, key);
	pthread_mutex_init(&set.src_mu, NULL);
	l0 = net_loop_open(&set.o);
	if (!l0) {
		net_opts_done(&set.o);
		if (tmpl.root >= 0)
			close(tmpl.root);
		src_free(&set.src);
		return 1;
	}
	set.sh = set.o.sh;
	set.n = hsk_shards_count(set.sh);
	set.sv = calloc(set.n, sizeof(*set.sv));
	if (!set.sv || serve_listen(&set, &tmpl) < 0) {
		rc = -1;
		goto out;
	}
	if (!set.o.quiet)
		fprintf(stderr, "serve: listening on %s (%s) on %s, mtu %u, %s\n",
			listen_desc(&set.o.ns, &tmpl, a, sizeof(a)), modes[tmpl.mode],
			hsk_loop_dev(l0)->name, hsk_loop_dev(l0)->mtu,
			net_shards_desc(&set.o, desc, sizeof(desc)));
	rc = hsk_shards_run(set.sh, serve_shard, &set);
	if (!set.o.quiet) {
		struct server t = serve_totals(&set);
		fprintf(stderr, "serve: %u accepted, %u closed, %u errors\n",
			t.accepted, t.closed, t.errors);
	}
	if (set.o.stats) {
		stats_print(stderr, l0);
		print_counters(&set, stderr);
	}
	if (net_report_finish(&set.o, l0) < 0)
		rc = -1;
out:
	if (net_outputs_check(&set.o, l0, true) < 0 && rc >= 0)
		rc = -1;
	for (unsigned i = 0; set.sv && i < set.n; i++)
		serve_free_conns(&set.sv[i]);
	free(set.sv);
	src_free(&set.src);
	pthread_mutex_destroy(&set.src_mu);
	hsk_shards_free(set.sh);
	if (net_opts_done(&set.o) < 0 && rc >= 0)
		rc = -1;
	if (tmpl.root >= 0)
		close(tmpl.root);
	return rc < 0 ? 1 : 0;
}
