/*
 * Kernel-side load for the scale benchmark (bench/scale.sh): clients that
 * drive handshake over TUN, and the servers that stand in for handshake
 * when the kernel talks to itself over a veth pair, so that both sides of
 * every comparison run the same client. Linux sockets only.
 *
 *   netload send HOST PORT BYTES      connect, send BYTES, shut down the
 *                                     write side, wait for the server's
 *                                     close: prints "mbps" (10^6 B/s)
 *   netload recv HOST PORT            connect, read to EOF: "mbps", "bytes"
 *   netload sink ADDR PORT            server: read each connection to EOF,
 *                                     then close (one at a time, forever)
 *   netload source ADDR PORT BYTES    server: send BYTES, then close
 *   netload echo ADDR PORT THREADS    server: THREADS epoll loops on
 *                                     SO_REUSEPORT listeners, echo until
 *                                     EOF, then close (forever)
 *   netload conns HOST PORT SECS CONC THREADS
 *       connection rate: THREADS epoll loops keep CONC connections in
 *       flight between them; each connects, writes 64 bytes, reads the
 *       64 echoed back and closes (the client closes first, as in
 *       bench/lifecycle.c), then the slot connects again. Prints "conns"
 *       (completed in SECS seconds), "conn_rate" (per second) and
 *       "conn_errors" (connects refused, reset or timed out; an echo that
 *       differs).
 *
 * Servers run until killed; clients exit 0 with their figures, 1 on error.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 65536, REQ = 64, MAXEV = 256 };

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "netload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in addr_of(const char *host, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "netload: bad address %s\n", host);
		exit(1);
	}
	return a;
}

static int dial(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)
		die("connect");
	return fd;
}

static int listener(const struct sockaddr_in *a, bool reuseport)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(fd, 4096) < 0)
		die("bind/listen");
	return fd;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- bulk ---- */

static int do_send(const struct sockaddr_in *a, long long bytes)
{
	static char buf[CHUNK];
	double t0 = wall();
	int fd = dial(a);
	long long left = bytes;

	memset(buf, 'x', sizeof(buf));
	while (left > 0) {
		ssize_t n = write(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
		if (n <= 0)
			die("write");
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	printf("mbps %.1f\n", (double)bytes / (wall() - t0) / 1e6);
	close(fd);
	return 0;
}

static int do_recv(const struct sockaddr_in *a)
{
	static char buf[4 * CHUNK];
	double t0 = wall();
	int fd = dial(a);
	long long got = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += n;
	if (n < 0)
		die("read");
	printf("mbps %.1f\nbytes %lld\n", (double)got / (wall() - t0) / 1e6, got);
	close(fd);
	return 0;
}

_Noreturn static void serve_bulk(const struct sockaddr_in *a, long long bytes, bool source)
{
	static char buf[4 * CHUNK];
	int l = listener(a, false);

	memset(buf, 'x', sizeof(buf));
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		long long left = bytes;

		if (c < 0)
			continue;
		if (source) {
			while (left > 0) {
				ssize_t n = write(c, buf, left < CHUNK ? (size_t)left : CHUNK);
				if (n <= 0)
					break;
				left -= n;
			}
		} else {
			while (read(c, buf, sizeof(buf)) > 0)
				;
		}
		close(c);
	}
}

/* ---- echo server ---- */

static void *echo_loop(void *arg)
{
	const struct sockaddr_in *a = arg;
	int l = listener(a, true), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l }, evs[MAXEV];
	char buf[4096];

	set_nonblock(l);
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, MAXEV, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				if (write(fd, buf, (size_t)r) != r)
					break;
			if (r == 0 || (r < 0 && errno != EAGAIN))
				close(fd);      /* leaves the epoll set with it */
		}
	}
	return NULL;
}

static int serve_echo(struct sockaddr_in *a, int threads)
{
	pthread_t th;

	for (int i = 1; i < threads; i++)
		pthread_create(&th, NULL, echo_loop, a);
	printf("listening\n");
	fflush(stdout);
	echo_loop(a);
	return 0;
}

/* ---- connection rate ---- */

struct slot {
	int fd;
	int got;                 /* echo bytes read back */
	bool sent;
};

struct conns {
	const struct sockaddr_in *a;
	int conc;
	double end;
	long long done, errors;
};

static void slot_open(int ep, struct slot *s, const struct sockaddr_in *a, long long *errors)
{
	for (int tries = 0; tries < 100; tries++) {
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = s };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 && errno != EINPROGRESS) {
			close(fd);
			(*errors)++;
			continue;
		}
		*s = (struct slot){ .fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		return;
	}
	die("connect keeps failing");
}

/* Advances a slot on an event: true when its connection is over (done or
 * failed). */
static bool slot_step(int ep, struct slot *s, uint32_t events, long long *errors)
{
	static const char req[REQ] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	char buf[REQ];
	ssize_t r = -1;

	if (events & EPOLLERR) {
		(*errors)++;
		return true;
	}
	if (!s->sent && (events & EPOLLOUT)) {
		if (write(s->fd, req, REQ) != REQ) {
			(*errors)++;
			return true;
		}
		s->sent = true;
		epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);   /* no more EPOLLOUT */
	}
	while (s->sent && s->got < REQ && (r = read(s->fd, buf, (size_t)(REQ - s->got))) > 0) {
		if (memcmp(buf, req + s->got, (size_t)r)) {
			(*errors)++;
			return true;
		}
		s->got += (int)r;
	}
	if (s->got == REQ)
		return true;
	if ((events & (EPOLLHUP | EPOLLRDHUP)) || (s->sent && r == 0)) {
		(*errors)++;
		return true;
	}
	return false;
}

static void *conns_loop(void *arg)
{
	struct conns *c = arg;
	int ep = epoll_create1(0);
	struct slot *slots = calloc((size_t)c->conc, sizeof(*slots));
	struct epoll_event evs[MAXEV];

	for (int i = 0; i < c->conc; i++)
		slot_open(ep, &slots[i], c->a, &c->errors);
	while (wall() < c->end) {
		int n = epoll_wait(ep, evs, MAXEV, 100);

		for (int i = 0; i < n; i++) {
			struct slot *s = evs[i].data.ptr;
			long long errs = c->errors;

			if (!slot_step(ep, s, evs[i].events, &c->errors))
				continue;
			if (c->errors == errs)
				c->done++;
			close(s->fd);
			slot_open(ep, s, c->a, &c->errors);
		}
	}
	for (int i = 0; i < c->conc; i++)
		close(slots[i].fd);
	free(slots);
	close(ep);
	return NULL;
}

static int do_conns(const struct sockaddr_in *a, double secs, int conc, int threads)
{
	struct conns *c = calloc((size_t)threads, sizeof(*c));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double t0 = wall(), end = t0 + secs;
	long long done = 0, errors = 0;

	for (int i = 0; i < threads; i++) {
		c[i] = (struct conns){ .a = a, .conc = conc / threads + (i < conc % threads), .end = end };
		pthread_create(&th[i], NULL, conns_loop, &c[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		done += c[i].done;
		errors += c[i].errors;
	}
	printf("conns %lld\nconn_rate %.0f\nconn_errors %lld\n", done, (double)done / (wall() - t0),
	       errors);
	free(c);
	free(th);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	struct sockaddr_in a;

	if (argc < 4)
		goto usage;
	a = addr_of(argv[2], argv[3]);
	if (!strcmp(m, "send") && argc == 5)
		return do_send(&a, atoll(argv[4]));
	if (!strcmp(m, "recv") && argc == 4)
		return do_recv(&a);
	if (!strcmp(m, "sink") && argc == 4)
		serve_bulk(&a, 0, false);
	if (!strcmp(m, "source") && argc == 5)
		serve_bulk(&a, atoll(argv[4]), true);
	if (!strcmp(m, "echo") && argc == 5)
		return serve_echo(&a, atoi(argv[4]) > 0 ? atoi(argv[4]) : 1);
	if (!strcmp(m, "conns") && argc == 7 && atoi(argv[5]) > 0 && atoi(argv[6]) > 0)
		return do_conns(&a, atof(argv[4]), atoi(argv[5]), atoi(argv[6]));
usage:
	fprintf(stderr, "usage: netload send|recv|sink|source|echo|conns HOST PORT ... (see the source)\n");
	return 2;
}
