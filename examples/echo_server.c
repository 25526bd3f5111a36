/*
 * An echo server on a TUN device, using the public API and the event loop.
 *
 *   sudo ./echo_server hsk0 198.18.0.2/24 7
 *   nc 198.18.0.2 7          (from the host: the TUN gets 198.18.0.1/24)
 * A connection reads no more until what it could not send yet is gone.
 *
 * Urgent data (RFC 9293 §3.8.5) goes back as urgent data: handshake keeps
 * it in line, and hsk_sock_urgent says how many of the bytes left to read
 * are urgent; those are read alone and sent with HSK_MSG_OOB, so that the
 * echo's urgent pointer ends where the client's did. (A Linux client
 * without SO_OOBINLINE reads the last of them with recv(MSG_OOB):
 * tests/interop/test_urgent.sh.)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "handshake_loop.h"

enum { BUF = 16384 };

struct conn {
	char buf[BUF];
	size_t off, len;
	bool urgent;            /* buf[off..len) is urgent data */
};

static int lsd;

static void serve(hsk_stack *s, int sd, struct conn *c)
{
	long n;

	for (;;) {
		while (c->off < c->len) {           /* flush first */
			n = hsk_sendto(s, sd, c->buf + c->off, c->len - c->off,
				       c->urgent ? HSK_MSG_OOB : 0, 0, 0);
			if (n == -HSK_EAGAIN)
				return;                 /* POLLOUT will call us again */
			if (n < 0)
				goto done;
			c->off += (size_t)n;
		}
		/* the urgent bytes left to read, alone, or what there is */
		long urgent = hsk_sock_urgent(s, sd);
		n = hsk_recv(s, sd, c->buf, urgent > 0 && urgent < BUF ? (size_t)urgent : BUF);
		if (n == -HSK_EAGAIN)
			return;
		if (n <= 0)
			goto done;                      /* EOF or error */
		c->off = 0;
		c->len = (size_t)n;
		c->urgent = urgent > 0;
	}
done:
	hsk_close(s, sd);   /* the pointer goes with the socket */
	free(c);
}

static void on_socket(void *ctx, hsk_loop *l, int sd, int events)
{
	hsk_stack *s = hsk_loop_stack(l);
	(void)ctx;
	(void)events;

	if (sd != lsd) {
		struct conn *c = hsk_sock_user(s, sd);
		if (c)
			serve(s, sd, c);
		return;
	}
	while ((sd = hsk_accept(s, lsd, NULL)) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			hsk_abort(s, sd);
			continue;
		}
		hsk_sock_set_user(s, sd, c);
		serve(s, sd, c);
	}
}

int main(int argc, char **argv)
{
	hsk_netspec ns = { 0 };
	char err[256];
	hsk_loop *l;

	if (argc != 4 || hsk_parse_cidr(argv[2], &ns.addr, &ns.prefix) < 0) {
		fprintf(stderr, "usage: %s TUN A.B.C.D/PREFIX PORT\n", argv[0]);
		return 2;
	}
	ns.tun = argv[1];
	/* No configuration: the defaults, whose secret keys (ISNs, SYN
	 * cookies) come from getrandom; set hsk_config.seed only to replay. */
	if (!(l = hsk_loop_open(&ns, NULL, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hsk_stack *s = hsk_loop_stack(l);
	lsd = hsk_socket(s);
	if (hsk_bind(s, lsd, 0, (uint16_t)atoi(argv[3])) < 0 || hsk_listen(s, lsd, 128) < 0) {
		fprintf(stderr, "cannot listen on port %s\n", argv[3]);
		return 1;
	}
	hsk_loop_on_socket(l, on_socket, NULL);
	hsk_loop_run(l);                            /* until SIGINT/SIGTERM */
	hsk_loop_free(l);
	return 0;
}
