/*
 * A program that names lwIP before handshake when it links
 * (tests/install/test_install.sh): both stacks in one process, wired by
 * hand, a connection from handshake to an lwIP listener over IPv6, "ping"
 * one way and "pong" the other. It uses handshake's installed interface
 * alone, and lwIP by lwIP's own names (ip_input, tcp_output), as any
 * program beside lwIP would: both names are handshake's too, inside it.
 * Exits 0 when the exchange completes, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include <handshake.h>

enum { HSK = 0, LW = 1, QMAX = 64, PKT = 2048, PORT = 7 };
static const uint8_t HSK_IP6[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
static const uint8_t LW_IP6[16] = { 0x20, 0x01, 0, 2, [15] = 2 };

/* Packets on their way, in order: to HSK or to LW. */
static struct { uint8_t data[PKT]; size_t len; int to; } q[QMAX];
static size_t qhead, qlen;
static struct netif nif;
static hsk_stack *st;
static uint64_t now = 1000000000;
static struct tcp_pcb *conn;
static char lw_got[16];

static void put(int to, const uint8_t *pkt, size_t len)
{
	if (qlen == QMAX || len > PKT)
		return; /* lost */
	size_t i = (qhead + qlen++) % QMAX;
	memcpy(q[i].data, pkt, len);
	q[i].len = len;
	q[i].to = to;
}

static void hsk_transmit(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	put(LW, pkt, len);
}

static err_t lw_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)n, (void)dst;
	uint8_t buf[PKT];
	put(HSK, buf, pbuf_copy_partial(p, buf, sizeof(buf), 0));
	return ERR_OK;
}

static err_t lw_nif_init(struct netif *n)
{
	n->output_ip6 = lw_output6;
	n->mtu = 1500;
	return ERR_OK;
}

/* Delivers what is on its way, and what that makes either stack send. */
static void pump(void)
{
	for (int i = 0; i < 1000 && qlen; i++) {
		size_t h = qhead;
		qhead = (qhead + 1) % QMAX;
		qlen--;
		now += 1000000;
		if (q[h].to == HSK) {
			hsk_stack_input(st, now, q[h].data, q[h].len);
			continue;
		}
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)q[h].len, PBUF_RAM);
		if (!p)
			continue;
		pbuf_take(p, q[h].data, (u16_t)q[h].len);
		if (nif.input(p, &nif) != ERR_OK)
			pbuf_free(p);
	}
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (!p)
		return ERR_OK;
	pbuf_copy_partial(p, lw_got, sizeof(lw_got) - 1, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (tcp_write(pcb, "pong", 4, TCP_WRITE_FLAG_COPY) == ERR_OK)
		tcp_output(pcb); /* lwIP's: handshake has one too */
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	conn = pcb;
	tcp_recv(pcb, on_recv);
	return ERR_OK;
}

static int fail(const char *what)
{
	fprintf(stderr, "lwip_first: %s\n", what);
	return 1;
}

int main(void)
{
	lwip_init(); /* its tcp_init must be lwIP's */
	ip4_addr_t none = { 0 };
	if (!netif_add(&nif, &none, &none, &none, NULL, lw_nif_init, ip_input))
		return fail("netif_add");
	ip6_addr_t a6;
	memcpy(a6.addr, LW_IP6, 16);
	ip6_addr_clear_zone(&a6);
	netif_ip6_addr_set(&nif, 0, &a6);
	netif_ip6_addr_set_state(&nif, 0, IP6_ADDR_PREFERRED);
	netif_set_up(&nif);
	netif_set_link_up(&nif);
	struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V6);
	if (!l || tcp_bind(l, IP6_ADDR_ANY, PORT) != ERR_OK || !(l = tcp_listen(l)))
		return fail("lwIP's listener");
	tcp_accept(l, on_accept);

	hsk_config cfg;
	hsk_config_default(&cfg);
	cfg.addr = 0xc6120001; /* 198.18.0.1 */
	cfg.seed = 1;
	hsk_link link = { NULL, hsk_transmit };
	st = hsk_stack_new(&cfg, &link, now);
	hsk_addr me = hsk_addr_v6(HSK_IP6), peer = hsk_addr_v6(LW_IP6);
	if (!st || hsk_stack_add_addr(st, &me, 64))
		return fail("hsk_stack_new");
	int sd = hsk_socket_family(st, HSK_AF_INET6);
	if (sd < 0 || hsk_connect_addr(st, sd, &peer, PORT) != -HSK_EINPROGRESS)
		return fail("hsk_connect_addr");
	pump();
	if (hsk_sock_state(st, sd) != HSK_ESTABLISHED || !conn)
		return fail("no connection");
	hsk_stack_advance(st, now);
	if (hsk_send(st, sd, "ping", 4) != 4)
		return fail("hsk_send");
	pump();
	char got[8] = { 0 };
	hsk_stack_advance(st, now);
	if (strcmp(lw_got, "ping") || hsk_recv(st, sd, got, sizeof(got)) != 4 || strcmp(got, "pong"))
		return fail("ping and pong");
	hsk_abort(st, sd);
	pump();
	hsk_stack_free(st);
	printf("lwip_first: ping and pong over IPv6 between lwIP and handshake\n");
	return 0;
}
