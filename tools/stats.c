/*
 * The live table, in the manner of `ss -tan`, and the counters. Printed on
 * SIGUSR1 and, with --stats, at exit.
 *
 * As in ss, a listener's Recv-Q is its accept-queue length and its Send-Q
 * the backlog; SynQ and AccQ add the SYN-queue and accept-queue lengths of
 * listeners (handshake's request entries are visible too, as SYN_RECEIVED
 * rows of kind "req", and TIME_WAIT entries as kind "tw").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "link/arp.h"
#include "link/dev.h"
#include "netcmd.h"

struct conn_walk {
	FILE *f;
	unsigned n;
	unsigned by_state[HSK_STATE_COUNT];
};

static void print_conn(void *ctx, const hsk_conn_info *ci)
{
	static const char *const kinds[] = { "tcb", "req", "tw", "listen", "-" };
	struct conn_walk *w = ctx;
	char l[24], r[24], q[24] = "";

	net_endpoint(ci->tuple.laddr, ci->tuple.lport, l, sizeof(l));
	net_endpoint(ci->tuple.raddr, ci->tuple.rport, r, sizeof(r));
	if (ci->state == HSK_LISTEN)
		snprintf(q, sizeof(q), "%" PRIu32 "/%" PRIu32, ci->syn_q, ci->accept_q);
	fprintf(w->f, "%-12s %7" PRIu32 " %7" PRIu32 " %-21s %-21s %-6s %4d %s\n",
		hsk_state_name(ci->state), ci->recv_q, ci->send_q, l, r,
		ci->obj < 5 ? kinds[ci->obj] : "?", ci->sd, q);
	w->n++;
	if (ci->state < HSK_STATE_COUNT)
		w->by_state[ci->state]++;
}

void stats_print_conns(FILE *f, hsk_stack *s)
{
	struct conn_walk w = { .f = f };
	int first = 1;

	fprintf(f, "%-12s %7s %7s %-21s %-21s %-6s %4s %s\n", "State", "Recv-Q",
		"Send-Q", "Local Address:Port", "Peer Address:Port", "Kind", "sd",
		"SynQ/AccQ");
	hsk_stack_conns(s, print_conn, &w);
	fprintf(f, "total %u", w.n);
	for (int st = 0; st < HSK_STATE_COUNT; st++) {
		if (!w.by_state[st])
			continue;
		fprintf(f, "%s %s %u", first ? ":" : ",", hsk_state_name(st), w.by_state[st]);
		first = 0;
	}
	fputc('\n', f);
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
			" reordered, %" PRIu64 " delayed, %" PRIu64 " queue drops\n",
			is.lost, is.duplicated, is.reordered, is.delayed, is.queue_drops);
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
