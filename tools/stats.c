/*
 * The live table, in the manner of `ss -tan`, and the counters. Printed on
 * SIGUSR1 and, with --stats, at exit.
 *
 * As in ss, a listener's Recv-Q is its accept-queue length and its Send-Q
 * the backlog; SynQ and AccQ add the SYN-queue and accept-queue lengths of
 * listeners (handshake's request entries are visible too, as SYN_RECEIVED
 * rows of kind "req", and TIME_WAIT entries as kind "tw"). A connection
 * that still has its socket gets a second line, as `ss -ti` does: the
 * congestion control, RTT, RTO, MSS, windows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/arp.h"
#include "link/dev.h"
#include "netcmd.h"

struct conn_walk {
	hsk_conn_info *rows;
	size_t n, cap;
	bool oom;
};

/* Rows are collected first and printed after the walk, so that the
 * per-connection details (hsk_sock_info) are not asked for from inside
 * the stack's callback. */
static void collect_conn(void *ctx, const hsk_conn_info *ci)
{
	struct conn_walk *w = ctx;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		hsk_conn_info *r = realloc(w->rows, cap * sizeof(*r));
		if (!r) {
			w->oom = true;
			return;
		}
		w->rows = r;
		w->cap = cap;
	}
	w->rows[w->n++] = *ci;
}

/* A second line as `ss -ti` gives: what the connection knows of its path. */
static void print_tcp_info(FILE *f, hsk_stack *s, int sd)
{
	hsk_tcp_info ti;

	if (sd < 0 || hsk_sock_info(s, sd, &ti) < 0)
		return;
	fprintf(f, "%13s%s%s wscale:%u,%u rtt:%.3f/%.3f ms rto:%.0f ms mss:%u "
		"cwnd:%" PRIu32 " ssthresh:%" PRIu32 " snd_wnd:%" PRIu32 " unacked:%" PRIu32 "%s%s\n",
		"", ti.congestion_control ? ti.congestion_control : "-",
		ti.sack ? " sack" : "", ti.snd_wscale, ti.rcv_wscale,
		(double)ti.srtt_ns / 1e6, (double)ti.rttvar_ns / 1e6, (double)ti.rto_ns / 1e6,
		ti.mss, ti.cwnd, ti.ssthresh, ti.snd_wnd, ti.unacked,
		ti.timestamps ? " ts" : "", ti.in_recovery ? " recovery" : "");
}

void stats_print_conns(FILE *f, hsk_stack *s)
{
	static const char *const kinds[] = { "tcb", "req", "tw", "listen", "-" };
	struct conn_walk w = { 0 };
	unsigned by_state[HSK_STATE_COUNT] = { 0 };
	int first = 1;

	fprintf(f, "%-12s %7s %7s %-21s %-21s %-6s %4s %s\n", "State", "Recv-Q",
		"Send-Q", "Local Address:Port", "Peer Address:Port", "Kind", "sd",
		"SynQ/AccQ");
	hsk_stack_conns(s, collect_conn, &w);
	for (size_t i = 0; i < w.n; i++) {
		const hsk_conn_info *ci = &w.rows[i];
		char l[24], r[24], q[24] = "";

		net_endpoint(ci->tuple.laddr, ci->tuple.lport, l, sizeof(l));
		net_endpoint(ci->tuple.raddr, ci->tuple.rport, r, sizeof(r));
		if (ci->state == HSK_LISTEN)
			snprintf(q, sizeof(q), "%" PRIu32 "/%" PRIu32, ci->syn_q, ci->accept_q);
		fprintf(f, "%-12s %7" PRIu32 " %7" PRIu32 " %-21s %-21s %-6s %4d %s\n",
			hsk_state_name(ci->state), ci->recv_q, ci->send_q, l, r,
			ci->obj < 5 ? kinds[ci->obj] : "?", ci->sd, q);
		if (ci->obj == HSK_OBJ_TCB)
			print_tcp_info(f, s, ci->sd);
		if (ci->state < HSK_STATE_COUNT)
			by_state[ci->state]++;
	}
	fprintf(f, "total %zu", w.n);
	for (int st = 0; st < HSK_STATE_COUNT; st++) {
		if (!by_state[st])
			continue;
		fprintf(f, "%s %s %u", first ? ":" : ",", hsk_state_name(st), by_state[st]);
		first = 0;
	}
	fprintf(f, "%s\n", w.oom ? " (out of memory: table incomplete)" : "");
	free(w.rows);
}

/* Packets the kernel dropped on their way to us because its queue for the
 * TUN/TAP device was full (handshake cannot see those losses itself). */
static void print_kernel_drops(FILE *f, const char *devname)
{
	char path[128];
	unsigned long long n;
	const char *ifname = strchr(devname, ':');
	FILE *in;

	if (!ifname || strchr(ifname + 1, '/'))
		return;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname + 1);
	in = fopen(path, "r");
	if (!in)
		return;
	if (fscanf(in, "%llu", &n) == 1 && n)
		fprintf(f, "%-24s %llu packets dropped by the kernel before reaching us "
			"(device queue full)\n", "", n);
	fclose(in);
}

void stats_print_counters(FILE *f, hsk_stack *s, struct hsk_dev *dev)
{
	size_t n = hsk_counter_count(), col = 0;
	impair_stats is;
	arp_stats as;
	size_t arp_n;
	hsk_usage u;

	fprintf(f, "counters (non-zero):\n");
	for (size_t i = 0; i < n; i++) {
		uint64_t v = hsk_counter_get(s, i);
		if (!v)
			continue;
		fprintf(f, "  %-24s %12" PRIu64 "%s", hsk_counter_name(i), v,
			++col % 2 ? "" : "\n");
	}
	if (col % 2)
		fputc('\n', f);
	hsk_stack_usage(s, &u);
	fprintf(f, "in use: %zu tcbs, %zu requests, %zu timewait, %zu sockets, "
		"%zu listeners, %zu buffer bytes\n", u.tcbs, u.requests, u.timewaits,
		u.sockets, u.listeners, u.buffer_bytes);
	for (const hsk_dev *d = dev; d; d = d->lower) {
		fprintf(f, "%-24s rx %" PRIu64 " pkts %" PRIu64 " B (%" PRIu64 " dropped), "
			"tx %" PRIu64 " pkts %" PRIu64 " B (%" PRIu64 " dropped)\n",
			d->name, d->st.rx_packets, d->st.rx_bytes, d->st.rx_dropped,
			d->st.tx_packets, d->st.tx_bytes, d->st.tx_dropped);
		if (!d->lower)
			print_kernel_drops(f, d->name);
	}
	if (dev && impair_get_stats(dev, &is))
		fprintf(f, "impairment: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64
			" reordered, %" PRIu64 " delayed, %" PRIu64 " queue drops, %" PRIu64
			" FINs held to cross, %" PRIu64 " CE marks\n", is.lost, is.duplicated,
			is.reordered, is.delayed, is.queue_drops, is.fins_held, is.ce_marked);
	if (dev && tap_get_arp_stats(dev, &as, &arp_n))
		fprintf(f, "arp: %zu entries; requests %" PRIu64 " sent, %" PRIu64 " received; "
			"replies %" PRIu64 " sent, %" PRIu64 " received; %" PRIu64 " failed, "
			"%" PRIu64 " pending drops, %" PRIu64 " evictions, %" PRIu64 " bad\n",
			arp_n, as.requests_sent, as.requests_rcvd, as.replies_sent,
			as.replies_rcvd, as.failed, as.pending_drops, as.evictions, as.bad);
}

void stats_print(FILE *f, hsk_loop *l)
{
	stats_print_conns(f, hsk_loop_stack(l));
	stats_print_counters(f, hsk_loop_stack(l), hsk_loop_dev(l));
	fflush(f);
}
