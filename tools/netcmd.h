/*
 * The real-network commands of the CLI, `handshake serve` and
 * `handshake connect`, and what they share: the device/impairment/pcap
 * options, tracing, and the `ss -tan`-like table with the counters.
 *
 *   serve.c    the server (echo, discard, http, send)
 *   connect.c  the client (send a file, receive into a file)
 *   netopts.c  option parsing shared by both, the loop set-up, traces
 *   stats.c    the connection table and the counters
 */
#ifndef HSK_TOOLS_NETCMD_H
#define HSK_TOOLS_NETCMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "handshake_loop.h"
#include "handshake.h"

/* Entry points, dispatched from main.c as "serve" and "connect". */
int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);

enum net_trace { NET_TRACE_NONE = 0, NET_TRACE_TEXT, NET_TRACE_JSON };

typedef struct net_opts {
	hsk_netspec ns;
	unsigned threads;       /* --threads (0: one per core, as the device
				 * allows) */
	hsk_shards *sh;         /* the shards net_loop_open opened */
	int trace;              /* enum net_trace */
	FILE *trace_out;        /* stderr unless --trace-file */
	const char *trace_path; /* --trace-file, opened by net_loop_open */
	bool stats;
	bool quiet;
	bool seed_given;
	unsigned mtu;           /* 0: the device's */
	uint64_t t0;            /* trace times are relative to this */
	const char *prog;       /* "serve" / "connect", for messages */
	uint64_t drain_ns;      /* --drain-timeout */
	bool pcap_failed, trace_failed;   /* reported once */
	const char *report;     /* --report FILE: the HTML report at exit */
	bool ecn_given;         /* --ecn N: hsk_config.ecn (tcp_ecn) */
	uint8_t ecn;
	int pacing;             /* --pacing-rate: HSK_SO_MAX_PACING_RATE, 0: not set */
	unsigned fastopen_bits; /* or-ed into hsk_config.tcp_fastopen */
	FILE *report_tmp;       /* the JSON trace kept for it */
} net_opts;

enum { NET_DRAIN_DEFAULT_MS = 2000 };

/*
 * Tries argv[*i] as a shared option (--tun, --tap, --xdp, --addr, --gw,
 * --host-addr, --pcap, --trace, --trace-file, --report, --stats, --quiet,
 * --loss, --cross-fins, --delay, --dup, --reorder, --ce, --seed, --mtu,
 * --drain-timeout, --ecn, --threads, --queues, --offload, --offload-deny,
 * --uring, --no-steer, --steer-deny). Returns 1 when consumed
 * (advancing *i past a value), 0 when not a shared option, -1 on a bad
 * value (message printed).
 */
int net_opt_parse(net_opts *o, int argc, char **argv, int *i);
/* Checks the shared options after parsing; 0 or -1 (message printed). */
int net_opt_check(net_opts *o);
/* Usage lines of the shared options. */
void net_opt_usage(FILE *f);

/* The value of --opt VALUE or --opt=VALUE (NULL and a message when
 * missing); and whether arg is --opt or --opt=... */
const char *net_opt_value(const char *prog, int argc, char **argv, int *i, const char *opt);
bool net_opt_is(const char *arg, const char *opt);

/* Opens the trace file (--trace-file), then the device's queues and the
 * shards (o->sh; one per --threads) with a configuration from o (addr,
 * mtu, seed, trace): shard 0's loop. Call it only once the command line
 * has been checked in full: it creates and truncates the output files.
 * NULL after printing why. Free with hsk_shards_free(o->sh). */
hsk_loop *net_loop_open(net_opts *o);
/* "2 shards on 4 queues of tun:hsk0, offloads csum,tso4" for messages. */
const char *net_shards_desc(net_opts *o, char *buf, size_t cap);
/* Whether the output files (--pcap, --trace-file) are still being written
 * in full: 0, or -1 after printing the first failure once. With `final`,
 * flushes them first (before the loop is freed). In the first seconds it
 * also says (once each) which IPv6 --addr DAD found taken on the link,
 * which the loop then took out of the stack. */
int net_outputs_check(net_opts *o, hsk_loop *l, bool final);
/* Closes the trace file if one was opened: 0, or -1 (message printed)
 * when it could not be written in full. */
int net_opts_done(net_opts *o);
/* "2", "0.5" seconds -> ns (at most 10^6 s). 0 or -1. */
int net_parse_seconds(const char *v, uint64_t *ns);
/* With --report: adds the counters (summed over the shards) and every
 * shard's connections to the trace kept for the report and writes the
 * page. Call after hsk_shards_run, before freeing the shards. 0, or -1
 * after printing why. */
int net_report_finish(net_opts *o, hsk_loop *l);

/* "198.18.0.2:80" into buf (at least 24 bytes). */
const char *net_endpoint(uint32_t addr, uint16_t port, char *buf, size_t cap);
/* Either family: v4 or v6 by `family`; "[2001:2::2]:80", "[::]:*" (port
 * 0). buf: HSK_ADDRSTRLEN bytes. */
const char *net_endpoint6(int family, uint32_t v4, const uint8_t v6[16], uint16_t port,
			  char *buf, size_t cap);
const char *net_endpoint_addr(const hsk_addr *a, uint16_t port, char *buf, size_t cap);
/* "198.18.0.2:80" or "[2001:2::2]:80" (a zone as [fe80::1%2]:80): 0, or
 * -1 after a message ("bad WHAT ...") that says which form was expected. */
int net_parse_endpoint(const char *prog, const char *what, const char *s, hsk_addr *a,
		       uint16_t *port);

/* stats.c: the connection table (as `ss -tan`: state, Recv-Q, Send-Q,
 * local, peer; for listeners SYN and accept queue lengths), then each
 * shard's figures, the non-zero counters summed over the shards, device
 * and impairment figures. l is any shard's loop; with several shards
 * each one writes its part in its own thread (hsk_shards_sync), so call
 * it from shard 0's thread or after hsk_shards_run. */
void stats_print(FILE *f, hsk_loop *l);

#endif
