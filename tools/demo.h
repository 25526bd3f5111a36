/*
 * `handshake demo`: scripted scenarios on two stacks joined by memlink,
 * rendered as a sequence diagram or JSON lines.
 *
 * A scenario uses only the public socket API (include/handshake.h), the
 * memlink filter to lose chosen segments, and the helpers below to drive the
 * virtual clock. It records what it expected with demo_expect(); the summary
 * lists every unmet expectation and the exit status is 1 when there is one
 * (unless random loss was asked for, which makes outcomes unpredictable).
 */
#ifndef HSK_TOOLS_DEMO_H
#define HSK_TOOLS_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "handshake.h"
#include "link/memlink.h"
#include "trace/trace.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

#define DEMO_CLIENT_ADDR 0xc6120001u /* 198.18.0.1 */
#define DEMO_SERVER_ADDR 0xc6120002u /* 198.18.0.2 */
#define DEMO_MS 1000000ull
#define DEMO_S 1000000000ull

enum demo_format { DEMO_TEXT = 0, DEMO_JSON };
enum { DEMO_CLIENT = 0, DEMO_SERVER = 1 };

typedef struct demo_opts {
	const char *scenario;
	int format;             /* enum demo_format */
	uint64_t seed;
	double loss;            /* random loss, both directions */
	bool loss_given;        /* --loss was given (0 included: no loss at all) */
	FILE *out;
	FILE *pcap;             /* every packet sent, NULL: none */
	bool quiet;             /* text: the summary only, no diagram */
	const char *html;       /* --html FILE: the report page, NULL: none */
	FILE *capture;          /* JSON lines for the report, whatever the format */
	bool ipv6;              /* --ipv6: the same scenario over IPv6 */
} demo_opts;

/* Figures a scenario measured, for the summary's "figures" (as numbers). */
typedef struct demo_figures {
	bool transfer;          /* the fields below were measured */
	uint64_t transfer_ns;   /* first byte queued to last byte read */
	double goodput_mbps;
	uint32_t final_cwnd, final_ssthresh;
	uint64_t srtt_ns;
} demo_figures;

typedef struct demo demo;

/* A packet filter: return false to lose the packet. `from` is DEMO_CLIENT
 * or DEMO_SERVER; seg is the parsed TCP header (NULL if not TCP). */
typedef bool (*demo_filter_fn)(demo *d, int from, const tcp_hdr *seg, size_t len);

typedef struct demo_side {
	demo *d;
	int col;
	const char *name;
	/* the highest sequence number this side has sent plus its length:
	 * SND.NXT of its latest connection, as seen in the trace */
	uint32_t snd_nxt;
	hsk_tuple last_tuple;
	bool sent_any;
	/* the application byte stream: what this side queued and read, and
	 * bytes read that differ from what the peer queued at that offset */
	uint64_t tx_off, rx_off, rx_bad;
	/* states entered by connections (not listeners), as a bit mask */
	uint32_t visited;
	/* transitions seen, in order: "CLOSED SYN_SENT ESTABLISHED ..." for
	 * the first connection of this side */
	char path[256];
	hsk_tuple path_tuple;
	bool path_started;
} demo_side;

/* Did side enter state (any connection, any time)? */
bool demo_visited(const demo *d, int side, int state);

struct demo {
	const demo_opts *o;
	hsk_memnet *net;
	hsk_stack *st[2];
	int host[2];
	hsk_link link[2];
	demo_side side[2];
	trace_diagram *dg;
	demo_filter_fn filter;
	void *user;             /* scenario state for its filter */
	int failures;
	char summary[32][160];
	int nsummary;
	demo_figures fig;
};

typedef struct demo_scenario {
	const char *name;
	const char *desc;
	/* counters worth showing after this scenario, NULL-terminated */
	const char *const *counters;
	void (*run)(demo *d);
	bool quiet;              /* too long to draw: text has the summary only */
} demo_scenario;

extern const demo_scenario demo_scenarios[];
extern const size_t demo_nscenarios;

/* ---- helpers for scenarios ---- */
uint64_t demo_now(const demo *d);
/* A line in the diagram's column (ignored in JSON). */
void demo_note(demo *d, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A line for the summary. */
void demo_say(demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records an expectation; a false one is listed and fails the run. */
bool demo_expect(demo *d, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs the network for dt of virtual time. */
void demo_run_for(demo *d, uint64_t dt);
/* Runs until pred(d, arg) holds (checked after every event) or max_dt
 * passes; returns whether it holds. */
bool demo_run_until(demo *d, bool (*pred)(demo *d, void *arg), void *arg,
		    uint64_t max_dt);
/* Runs until no packet is in flight and no timer is armed (or max_dt). */
bool demo_run_until_idle(demo *d, uint64_t max_dt);

/* A side's stack with its clock brought to the network's: use it for every
 * direct API call, so what the call sends is stamped with the right time. */
hsk_stack *demo_stack(demo *d, int side);

/* Common steps. Each returns the sd or a negative error. */
int demo_listen(demo *d, uint16_t port, int backlog);
int demo_connect(demo *d, int side, uint16_t lport, uint32_t addr, uint16_t port);
/* Waits for sd on side to finish connecting; returns 0 or -error. */
int demo_wait_connected(demo *d, int side, int sd, uint64_t max_dt);
/* Waits for and returns an accepted sd (or a negative error). */
int demo_wait_accept(demo *d, int lsd, uint64_t max_dt);
/* Sends len bytes of the stream pattern, all of it; returns bytes queued. */
long demo_send(demo *d, int side, int sd, size_t len);
/* One hsk_send of up to len pattern bytes without running the clock or
 * noting it: bytes queued or a negative error. */
long demo_send_some(demo *d, int side, int sd, size_t len);
/* Reads what is there now, checking it against the peer's pattern: bytes
 * read, 0 at end of stream, or a negative error (-HSK_EAGAIN: nothing). */
long demo_recv_some(demo *d, int side, int sd);
/* The byte at offset off of every demo stream. */
static inline uint8_t demo_pattern(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13);
}
/* Waits until `want` bytes (or EOF when want is 0) arrive; returns bytes
 * read, or -1 on timeout / error. */
long demo_recv(demo *d, int side, int sd, size_t want, uint64_t max_dt);
int demo_close(demo *d, int side, int sd);
int demo_shutdown(demo *d, int side, int sd, int how);

/* --ipv6: each IPv4 address a of the demo has the twin 2001:2::/96 + a
 * (198.18.0.2 -> 2001:2::c612:2), which the stacks own and the network
 * routes; scenarios keep writing IPv4 addresses, and demo_listen,
 * demo_connect and demo_inject speak IPv6 with the twins. */
hsk_addr demo_addr(const demo *d, uint32_t v4);

/* Builds a TCP packet (IPv6 with --ipv6) from the tuple's local address
 * and hands it straight to the other stack, drawn as an injected
 * segment. */
void demo_inject(demo *d, int from, const hsk_tuple *t, uint8_t flags,
		 uint32_t seq, uint32_t ack, uint16_t win);

int demo_main(int argc, char **argv);

/* scenario_flood.c: the syn-flood scenario and its counters */
void demo_run_syn_flood(demo *d);
extern const char *const demo_flood_counters[];

#endif
