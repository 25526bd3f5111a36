/*
 * An HTTP/1.1 client on a TUN device: GET one URL path, write the response
 * (headers and body) to stdout, using the public API and the event loop.
 *
 *   sudo ./http_client hsk0 198.18.0.2/24 198.18.0.1 80 /index.html
 *   (the kernel side, 198.18.0.1, runs e.g. `python3 -m http.server 80`)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "handshake_loop.h"

struct req {
	char out[1024];
	size_t off, len;
	int sd, status;             /* status: 0 running, 1 done, <0 error */
};

static void on_socket(void *ctx, hsk_loop *l, int sd, int events)
{
	hsk_stack *s = hsk_loop_stack(l);
	struct req *r = ctx;
	char buf[16384];
	long n;

	if (sd != r->sd)
		return;
	if ((events & HSK_POLLERR) && (n = hsk_sock_error(s, sd))) {
		r->status = (int)-n;
		hsk_loop_stop(l);
		return;
	}
	while (r->off < r->len && (n = hsk_send(s, sd, r->out + r->off, r->len - r->off)) > 0)
		r->off += (size_t)n;
	while ((n = hsk_recv(s, sd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n == 0 || (n < 0 && n != -HSK_EAGAIN)) {
		r->status = n == 0 ? 1 : (int)n;    /* EOF: the server closed */
		hsk_loop_stop(l);
	}
}

int main(int argc, char **argv)
{
	hsk_netspec ns = { 0 };
	struct req r = { .status = 0 };
	uint32_t server;
	char err[256];
	hsk_loop *l;

	if (argc != 6 || hsk_parse_cidr(argv[2], &ns.addr, &ns.prefix) < 0 ||
	    hsk_parse_ipv4(argv[3], &server) < 0) {
		fprintf(stderr, "usage: %s TUN A.B.C.D/PREFIX SERVER PORT PATH\n", argv[0]);
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
	r.len = (size_t)snprintf(r.out, sizeof(r.out), "GET %s HTTP/1.1\r\nHost: %s\r\n"
				 "Connection: close\r\n\r\n", argv[5], argv[3]);
	r.sd = hsk_socket(s);
	int rc = hsk_connect(s, r.sd, server, (uint16_t)atoi(argv[4]));
	if (rc < 0 && rc != -HSK_EINPROGRESS)
		r.status = rc;
	hsk_loop_on_socket(l, on_socket, &r);
	if (!r.status)
		hsk_loop_run(l);
	hsk_close(s, r.sd);
	/* Let the close finish (our FIN acknowledged) before the device goes. */
	for (int i = 0; i < 100; i++) {
		hsk_usage u;
		hsk_stack_usage(s, &u);
		if (u.tcbs == 0)
			break;
		hsk_loop_run_once(l, 20000000);     /* at most 2 s in all */
	}
	hsk_loop_free(l);
	if (r.status < 0)
		fprintf(stderr, "%s: %s\n", argv[3], hsk_errno_name(r.status));
	return r.status < 0;
}
