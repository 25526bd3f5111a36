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
 *
 * With several shards every shard writes its rows and figures in its own
 * thread, one after the other (hsk_shards_sync); the rows get a shard
 * column, a table of per-shard figures follows them, and the counters are
 * the sums (with the handovers: WrongShard, ShardHandedIn, ShardRingDrops).
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

/* What the shards' snapshots add up to; the parts are written one shard
 * after the other (hsk_shards_sync), so without locks. */
struct snap {
	FILE *rows;              /* the table's rows, every shard's */
	FILE *shards;            /* a line of figures per shard */
	FILE *devs;              /* a line per device (queue) */
	uint64_t *cnt;           /* counters, summed */
	hsk_usage u;
	unsigned by_state[HSK_STATE_COUNT];
	size_t nrows;
	bool oom, many;
	impair_stats is;
	bool have_is;
	arp_stats as;
	size_t arp_n;
	bool have_as;
	uint64_t wrong, handed, drops;
};

/* Packets the kernel dropped on their way to us because its queue for the
 * TUN/TAP device was full (handshake cannot see those losses itself).
 * devname: "tun:hsk0", or "tun:hsk0/q1" for a queue of a multi-queue one. */
static void print_kernel_drops(FILE *f, const char *devname)
{
	char path[128], ifname[64];
	unsigned long long n;
	const char *colon = strchr(devname, ':');
	FILE *in;

	if (!colon || strlen(colon + 1) >= sizeof(ifname))
		return;
	strcpy(ifname, colon + 1);
	if (strchr(ifname, '/'))
		*strchr(ifname, '/') = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname);
	in = fopen(path, "r");
	if (!in)
		return;
	if (fscanf(in, "%llu", &n) == 1 && n)
		fprintf(f, "%-24s %llu packets dropped by the kernel before reaching us "
			"(device queue full)\n", "", n);
	fclose(in);
}

static void snap_rows(struct snap *sn, hsk_stack *s, unsigned shard)
{
	static const char *const kinds[] = { "tcb", "req", "tw", "listen", "-" };
	struct conn_walk w = { 0 };

	hsk_stack_conns(s, collect_conn, &w);
	for (size_t i = 0; i < w.n; i++) {
		const hsk_conn_info *ci = &w.rows[i];
		char l[HSK_ADDRSTRLEN], r[HSK_ADDRSTRLEN], q[24] = "", sh[8] = "";

		net_endpoint6(ci->family, ci->tuple.laddr, ci->laddr6, ci->tuple.lport, l, sizeof(l));
		net_endpoint6(ci->family, ci->tuple.raddr, ci->raddr6, ci->tuple.rport, r, sizeof(r));
		if (ci->state == HSK_LISTEN)
			snprintf(q, sizeof(q), "%" PRIu32 "/%" PRIu32, ci->syn_q, ci->accept_q);
		if (sn->many)
			snprintf(sh, sizeof(sh), "%2u ", shard);
		fprintf(sn->rows, "%-12s %7" PRIu32 " %7" PRIu32 " %-21s %-21s %-6s %s%4d %s\n",
			hsk_state_name(ci->state), ci->recv_q, ci->send_q, l, r,
			ci->obj < 5 ? kinds[ci->obj] : "?", sh, ci->sd, q);
		if (ci->obj == HSK_OBJ_TCB)
			print_tcp_info(sn->rows, s, ci->sd);
		if (ci->state < HSK_STATE_COUNT)
			sn->by_state[ci->state]++;
	}
	sn->nrows += w.n;
	sn->oom |= w.oom;
	free(w.rows);
}

static void snap_devs(struct snap *sn, hsk_loop *l)
{
	for (unsigned q = 0; q < hsk_loop_dev_count(l); q++) {
		hsk_dev *dev = hsk_loop_dev_at(l, q);
		impair_stats is;
		arp_stats as;
		size_t arp_n;

		for (const hsk_dev *d = dev; d; d = d->lower) {
			fprintf(sn->devs, "%-24s rx %" PRIu64 " pkts %" PRIu64 " B (%" PRIu64
				" dropped), tx %" PRIu64 " pkts %" PRIu64 " B (%" PRIu64 " dropped)\n",
				d->name, d->st.rx_packets, d->st.rx_bytes, d->st.rx_dropped,
				d->st.tx_packets, d->st.tx_bytes, d->st.tx_dropped);
			if (!d->lower && hsk_loop_shard(l) == 0 && q == 0)
				print_kernel_drops(sn->devs, d->name);
		}
		if (impair_get_stats(dev, &is)) {
			sn->have_is = true;
			sn->is.lost += is.lost;
			sn->is.duplicated += is.duplicated;
			sn->is.reordered += is.reordered;
			sn->is.delayed += is.delayed;
			sn->is.queue_drops += is.queue_drops;
			sn->is.fins_held += is.fins_held;
			sn->is.ce_marked += is.ce_marked;
			sn->is.stalled += is.stalled;
		}
		if (tap_get_arp_stats(dev, &as, &arp_n)) {
			sn->have_as = true;
			sn->as = as;
			sn->arp_n = arp_n;
		}
	}
}

/* One shard's part, in its own thread. */
static void snap_shard(void *ctx, hsk_loop *l)
{
	struct snap *sn = ctx;
	hsk_stack *s = hsk_loop_stack(l);
	hsk_shards *sh = hsk_loop_shards(l);
	unsigned id = hsk_loop_shard(l);
	hsk_shard_stats ss = { .cpu = -1 };
	hsk_usage u;

	snap_rows(sn, s, id);
	for (size_t i = 0; i < hsk_counter_count(); i++)
		sn->cnt[i] += hsk_counter_get(s, i);
	hsk_stack_usage(s, &u);
	sn->u.tcbs += u.tcbs;
	sn->u.requests += u.requests;
	sn->u.timewaits += u.timewaits;
	sn->u.sockets += u.sockets;
	sn->u.listeners += u.listeners;
	sn->u.buffer_bytes += u.buffer_bytes;
	snap_devs(sn, l);
	if (!sn->many)
		return;
	hsk_shards_stats(sh, id, &ss);
	sn->wrong += ss.wrong_shard;
	sn->handed += ss.handed_in;
	sn->drops += ss.ring_drops;
	fprintf(sn->shards, "%5u %4d %6zu %6zu %6zu %11" PRIu64 " %12" PRIu64 " %10" PRIu64
		" %10" PRIu64 " %11" PRIu64 " %9" PRIu64 " %10" PRIu64 " %9" PRIu64 "\n",
		id, ss.cpu, u.tcbs, u.requests, u.timewaits,
		hsk_counter_by_name(s, "ActiveOpens"), hsk_counter_by_name(s, "PassiveOpens"),
		hsk_counter_by_name(s, "InSegs"), hsk_counter_by_name(s, "OutSegs"),
		ss.wrong_shard, ss.handed_in, ss.ring_drops, ss.turns);
}

static void print_buf(FILE *f, char *buf, size_t len)
{
	if (buf && len)
		fwrite(buf, 1, len, f);
}

void stats_print(FILE *f, hsk_loop *l)
{
	hsk_shards *sh = hsk_loop_shards(l);
	size_t n = hsk_counter_count(), col = 0;
	char *rows = NULL, *shl = NULL, *devs = NULL;
	size_t rows_len = 0, shl_len = 0, devs_len = 0;
	struct snap sn = { 0 };
	int first = 1;

	sn.many = sh && hsk_shards_count(sh) > 1;
	sn.cnt = calloc(n, sizeof(*sn.cnt));
	sn.rows = open_memstream(&rows, &rows_len);
	sn.shards = open_memstream(&shl, &shl_len);
	sn.devs = open_memstream(&devs, &devs_len);
	if (!sn.cnt || !sn.rows || !sn.shards || !sn.devs) {
		fprintf(f, "stats: out of memory\n");
		goto out;
	}
	if (sh)
		hsk_shards_sync(sh, snap_shard, &sn);
	else
		snap_shard(&sn, l);
	fflush(sn.rows);
	fflush(sn.shards);
	fflush(sn.devs);

	fprintf(f, "%-12s %7s %7s %-21s %-21s %-6s %s%4s %s\n", "State", "Recv-Q",
		"Send-Q", "Local Address:Port", "Peer Address:Port", "Kind",
		sn.many ? "Sh " : "", "sd", "SynQ/AccQ");
	print_buf(f, rows, rows_len);
	fprintf(f, "total %zu", sn.nrows);
	for (int st = 0; st < HSK_STATE_COUNT; st++) {
		if (!sn.by_state[st])
			continue;
		fprintf(f, "%s %s %u", first ? ":" : ",", hsk_state_name(st), sn.by_state[st]);
		first = 0;
	}
	fprintf(f, "%s\n", sn.oom ? " (out of memory: table incomplete)" : "");
	if (sn.many) {
		fprintf(f, "shards: what each counted (the counters below are the sums)\n");
		fprintf(f, "%5s %4s %6s %6s %6s %11s %12s %10s %10s %11s %9s %10s %9s\n",
			"shard", "cpu", "tcbs", "reqs", "tw", "ActiveOpen", "PassiveOpen",
			"InSegs", "OutSegs", "wrongShard", "handedIn", "ringDrops", "turns");
		print_buf(f, shl, shl_len);
	}
	fprintf(f, "counters (non-zero%s):\n", sn.many ? ", all shards" : "");
	for (size_t i = 0; i < n; i++) {
		if (!sn.cnt[i])
			continue;
		fprintf(f, "  %-24s %12" PRIu64 "%s", hsk_counter_name(i), sn.cnt[i],
			++col % 2 ? "" : "\n");
	}
	if (col % 2)
		fputc('\n', f);
	if (sn.many)
		fprintf(f, "  %-24s %12" PRIu64 "  %-24s %12" PRIu64 "\n  %-24s %12" PRIu64 "\n",
			"WrongShard", sn.wrong, "ShardHandedIn", sn.handed, "ShardRingDrops",
			sn.drops);
	fprintf(f, "in use: %zu tcbs, %zu requests, %zu timewait, %zu sockets, "
		"%zu listeners, %zu buffer bytes\n", sn.u.tcbs, sn.u.requests, sn.u.timewaits,
		sn.u.sockets, sn.u.listeners, sn.u.buffer_bytes);
	print_buf(f, devs, devs_len);
	if (sn.have_is)
		fprintf(f, "impairment: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64
			" reordered, %" PRIu64 " delayed, %" PRIu64 " queue drops, %" PRIu64
			" FINs held to cross, %" PRIu64 " CE marks, %" PRIu64 " held by a stall\n",
			sn.is.lost, sn.is.duplicated, sn.is.reordered, sn.is.delayed,
			sn.is.queue_drops, sn.is.fins_held, sn.is.ce_marked, sn.is.stalled);
	if (sn.have_as)
		fprintf(f, "arp: %zu entries; requests %" PRIu64 " sent, %" PRIu64 " received; "
			"replies %" PRIu64 " sent, %" PRIu64 " received; %" PRIu64 " failed, "
			"%" PRIu64 " pending drops, %" PRIu64 " evictions, %" PRIu64 " bad\n",
			sn.arp_n, sn.as.requests_sent, sn.as.requests_rcvd, sn.as.replies_sent,
			sn.as.replies_rcvd, sn.as.failed, sn.as.pending_drops, sn.as.evictions,
			sn.as.bad);
out:
	if (sn.rows)
		fclose(sn.rows);
	if (sn.shards)
		fclose(sn.shards);
	if (sn.devs)
		fclose(sn.devs);
	free(rows);
	free(shl);
	free(devs);
	free(sn.cnt);
	fflush(f);
}
