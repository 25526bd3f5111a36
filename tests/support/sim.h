/*
 * Simulator fixtures for tests: stacks on a memnet with a virtual clock, a
 * log of every trace event, and expectations over that log.
 *
 * Host 0 is the client (198.18.0.1), host 1 the server (198.18.0.2); more
 * hosts get 198.18.0.3, ... Sequence numbers in expectations are relative
 * to the sender's ISS and the receiver's IRS (sim_iss), so tests read like
 * the RFC's figures.
 */
#ifndef HSK_TEST_SIM_H
#define HSK_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handshake.h"
#include "link/memlink.h"
#include "wire/wire.h"

enum { SIM_MAX_HOSTS = 8 };
#define SIM_ADDR(i) (0xc6120001u + (uint32_t)(i)) /* 198.18.0.1 + i */
#define MS (1000000ull)
#define SEC (1000000000ull)

typedef struct sim_ev {
	int host;
	hsk_trace_event ev;
	char cause[80];
	uint8_t tos;              /* TX: the IP TOS byte of the packet, as it
				   * left the host (before any CE mark) */
} sim_ev;

typedef struct sim {
	hsk_memnet *net;
	int nhosts;
	hsk_stack *st[SIM_MAX_HOSTS];
	sim_ev *log;
	size_t nlog, cap;
	size_t tx_cursor;         /* expect_seg consumes TX events from here */
	size_t st_cursor[SIM_MAX_HOSTS]; /* expect_state, per host */
	bool print;               /* echo events to stderr (debugging) */
	/* segments to lose: from host, nth TX matching flags (1-based) */
	struct { int host; uint8_t flags; int nth; int seen; } lose[8];
	int nlose;
	/* blackhole[h][f]: lose every segment host h sends with flags f */
	bool blackhole[SIM_MAX_HOSTS][256];
	int family;               /* of sim_listen/connect: HSK_AF_INET(6) */
	/* CE marks (RFC 3168) on ECT packets a host sends: every one, or the
	 * nth (1-based) ECT packet; ect_seen counts them */
	bool ce_all[SIM_MAX_HOSTS];
	int ce_nth[SIM_MAX_HOSTS][4];
	int ect_seen[SIM_MAX_HOSTS];
	int ce_marked[SIM_MAX_HOSTS];
	/* a packet host h sends with the TOS of the TX event it carries */
	hsk_link lower[SIM_MAX_HOSTS];
} sim;

/* cfg may be NULL for defaults; it is used for every host (addr is set). */
void sim_init(sim *sm, int nhosts, const hsk_config *cfg, uint64_t seed);
/* The same with a configuration per host (cfgs[i] NULL: defaults). */
void sim_init_hosts(sim *sm, int nhosts, const hsk_config *const cfgs[], uint64_t seed);
void sim_free(sim *sm);
/* IPv6 beside IPv4: host i gets 2001:2::1 + i (/64) on its stack and on
 * the network, and sim_listen, sim_connect and sim_open_pair speak IPv6
 * from then on (listeners on ::, dual-stack). */
void sim_use_ipv6(sim *sm);
/* Whether HSK_SIM_FAMILY=6 asks sim_init for IPv6. */
bool sim_env_ipv6(void);
/* HSK_SEED_OFFSET (default 0): added to the first seed of the seeded
 * property tests (test_random, test_fastpath, test_stream, test_shortcuts,
 * test_timer_defer), so that a soak (scripts/soak.sh) runs seeds make
 * check never ran; a failure prints its seed, as without it. */
uint64_t sim_env_seed_offset(void);
hsk_addr sim_addr6(int i);
/* The family's ways, for scenarios written once for both (HSK_SIM_FAMILY):
 * host i's address (IPv4, or its IPv6 twin after sim_use_ipv6); a socket
 * of the family; a bind to the family's wildcard (the error is returned);
 * a connect to host to_host (the result returned); the MSS a 1500-byte
 * link gives (1460, or 1440 over IPv6). */
hsk_addr sim_addr(const sim *sm, int i);
/* Any IPv4 address of a scenario as the family has it (over IPv6 its
 * twin 2001:2::/96 + v4, as the sim_inject helpers build). */
hsk_addr sim_twin(const sim *sm, uint32_t v4);
/* v4's IPv6 twin, 2001:2::/96 + v4, whatever the family. */
hsk_addr sim_twin6(uint32_t v4);
int sim_socket(sim *sm, int host);
int sim_bind_any(sim *sm, int host, int sd, uint16_t port);
int sim_connect_to(sim *sm, int host, int sd, int to_host, uint16_t port);
unsigned sim_mss(const sim *sm);
void sim_run(sim *sm, uint64_t dt_ns);
/* Brings every stack's clock to the network's (after memnet_step, whose
 * last call may move time past every host's: socket calls then need it). */
void sim_sync_clocks(sim *sm);
/* Runs until nothing is left to do (no packets, no timers) or `limit`. */
void sim_run_idle(sim *sm, uint64_t limit_ns);
uint64_t sim_now(const sim *sm);
/* Lose the nth transmitted segment of `host` whose flags are exactly `flags`. */
void sim_lose(sim *sm, int host, uint8_t flags, int nth);

/* Lose every segment `host` sends whose flags are exactly `flags` (on), or
 * stop doing so (off). flags -1: every segment of that host. */
void sim_blackhole(sim *sm, int host, int flags, bool on);
/* Mark CE on the nth ECT-marked packet `host` sends (1-based; up to 4
 * such marks per host), as a congested router would. */
void sim_ce_mark(sim *sm, int host, int nth);
/* Mark CE on every ECT-marked packet `host` sends (on), or stop (off). */
void sim_ce_all(sim *sm, int host, bool on);
/* The next TX event after the cursor (consumed), or NULL. */
const sim_ev *sim_next_tx(sim *sm);
/* TX events in the whole log from `host` with exactly `flags`. */
int sim_count_tx(const sim *sm, int host, uint8_t flags);

/* The events hsk_stack_events has for sd now (it reads them all): their
 * HSK_POLL* masks or-ed, -1 when sd has none. */
int sim_socket_events(hsk_stack *st, int sd);

/* Socket helpers (assert on failure). */
int sim_listen(sim *sm, int host, uint16_t port, int backlog);
int sim_connect(sim *sm, int host, int to_host, uint16_t port);
int sim_accept(sim *sm, int host, int lsd);

/* listen on server:port, connect from client, run 10 ms, accept; asserts
 * the three handshake segments and ESTABLISHED at both ends. */
void sim_open_pair(sim *sm, int client, int server, uint16_t port, int backlog,
		   int *lsd, int *csd, int *ssd);
/* sim_init with two hosts and cfg (NULL: defaults), then sim_open_pair
 * from host 0 to host 1 on `port`, backlog 8: the set-up most scenarios
 * start from. */
void sim_init_pair(sim *sm, const hsk_config *cfg, uint64_t seed, uint16_t port,
		   int *lsd, int *csd, int *ssd);
/* The end of a test on such a pair: the client aborts csd, the server
 * closes ssd and the listener lsd; every timer runs out (600 s at most),
 * no pool holds anything, and the simulation is freed. */
void sim_finish_pair(sim *sm, int client, int server, int lsd, int csd, int ssd);
/* The same, gracefully: the client closes csd and, gap_ns later, the
 * server closes ssd and lsd (each close must succeed); then 61 s for
 * TIME_WAIT, the pools checked empty, the simulation freed. */
void sim_finish_pair_graceful(sim *sm, int client, int server, int lsd, int csd, int ssd,
			      uint64_t gap_ns);

/* ISS and IRS as seen in the log (the first SYN each host sent). */
uint32_t sim_iss(const sim *sm, int host);

/* Expectations: find the next TX event (from any host) after the cursor and
 * check it; seq/ack are relative to the sender's and receiver's ISS. */
#define expect_seg(sm, host, flags, rseq, rack, len) \
	sim_expect_seg(sm, host, flags, rseq, rack, len, __FILE__, __LINE__)
void sim_expect_seg(sim *sm, int host, uint8_t flags, uint32_t rseq, uint32_t rack,
		    uint32_t len, const char *file, int line);
/* The next state event of `host` after the cursor (other events skipped). */
#define expect_state(sm, host, from, to) \
	sim_expect_state(sm, host, from, to, __FILE__, __LINE__)
void sim_expect_state(sim *sm, int host, int from, int to, const char *file, int line);
/* No further TX event in the log. */
#define expect_no_tx(sm) sim_expect_no_tx(sm, __FILE__, __LINE__)
void sim_expect_no_tx(sim *sm, const char *file, int line);
/* The states a host went through, e.g. "CLOSED>SYN_SENT>ESTABLISHED". */
void sim_state_path(const sim *sm, int host, int obj_mask, char *buf, size_t cap);
/* Every pool of every host is empty. */
void sim_assert_no_leaks(sim *sm);
uint64_t sim_counter(const sim *sm, int host, const char *name);
/* What host's pools hold now (hsk_stack_usage). */
hsk_usage sim_usage(const sim *sm, int host);

/* Build and inject a raw TCP segment into `host` as if from `from_addr`. */
void sim_inject(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		const void *data, size_t len);
/* The same with TCP options (NULL: none). */
void sim_inject_opts(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		     const tcp_opts *opt, const void *data, size_t len);
/* The same with the IP TOS byte (DSCP, ECN field) too. */
void sim_inject_tos(sim *sm, int host, uint32_t from_addr, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		    const tcp_opts *opt, uint8_t tos, const void *data, size_t len);
/* An ICMP error from `from_addr` into `host`, quoting the first 8 bytes of a
 * TCP segment the host sent on (lport -> raddr:rport) with sequence number
 * `seq`. mtu: the next-hop MTU of fragmentation-needed. */
void sim_inject_icmp(sim *sm, int host, uint32_t from_addr, uint8_t type, uint8_t code,
		     uint16_t mtu, uint16_t lport, uint32_t raddr, uint16_t rport,
		     uint32_t seq);

/*
 * A peer played by the test: its segments are injected from an address no
 * host owns, and what the host sends to it goes nowhere (it is only seen in
 * the log). Sequence numbers are relative: the peer's to its ISS, the
 * host's to the host's ISS.
 */
typedef struct sim_peer {
	sim *sm;
	int host;                 /* the stack under test */
	uint32_t addr;            /* the peer's address */
	uint16_t port, hport;     /* the peer's port, the host's */
	uint32_t iss, hiss;       /* the peer's ISS, the host's */
	bool ts;                  /* send the timestamp option, TSval = tsval */
	uint32_t tsval;
	uint32_t ts_ecr;          /* TSecr the peer sends (0: none echoed) */
	uint8_t tos;              /* IP TOS of the peer's segments (0) */
	int lsd, sd;              /* the host's listener and connection */
} sim_peer;

/* The host listens on hport (backlog 8); the peer (SIM_ADDR(7):4000, ISS
 * iss) opens a connection with the SYN options `syn` (NULL: none; with
 * timestamps the peer keeps sending them, TSval from syn->ts_val on); the
 * host accepts it. Checks the SYN,ACK and that the host is ESTABLISHED. */
void sim_peer_accept(sim *sm, sim_peer *p, int host, uint16_t hport, uint32_t iss,
		     const tcp_opts *syn);
/* The same with `win` as the window of the SYN and of the final ACK. */
void sim_peer_accept_win(sim *sm, sim_peer *p, int host, uint16_t hport, uint32_t iss,
			 const tcp_opts *syn, uint16_t win);
/* A segment from the peer (ack used only with HSK_TH_ACK). */
void sim_peer_send(sim_peer *p, uint32_t rseq, uint32_t rack, uint8_t flags, uint16_t win,
		   const void *data, size_t len);
/* The same with the urgent pointer field urp (flags should have URG). */
void sim_peer_send_urg(sim_peer *p, uint32_t rseq, uint32_t rack, uint8_t flags, uint16_t win,
		       uint16_t urp, const void *data, size_t len);
/* The next TX event after the cursor must be the host's, to the peer, with
 * these flags, relative seq/ack and length. */
#define expect_peer_seg(p, flags, rseq, rack, len) \
	sim_peer_expect(p, flags, rseq, rack, len, __FILE__, __LINE__)
void sim_peer_expect(sim_peer *p, uint8_t flags, uint32_t rseq, uint32_t rack,
		     uint32_t len, const char *file, int line);
/* TX events of the host since log index `from`. */
int sim_count_tx_since(const sim *sm, int host, size_t from);
/* The end of a test with a peer: the host aborts the peer's connection and
 * closes its listener; every timer runs out (600 s at most), no pool holds
 * anything, and the simulation is freed. */
void sim_peer_finish(sim_peer *p);

/*
 * A connection from host 0 (the client) to host 1 (the server) on `port`
 * (sim_init, then sim_open_pair with backlog 8), for tests that play the
 * server's side by injecting segments into the client: the client's port
 * and both ends' ISS.
 */
typedef struct sim_pair {
	sim sm;
	int lsd, csd, ssd;
	uint16_t port, cport;
	uint32_t c_iss, s_iss;
} sim_pair;
void sim_pair_open(sim_pair *p, const hsk_config *cfg, uint64_t seed, uint16_t port);
/* A segment "from the server" into the client, window 65535: seq relative
 * to the server's ISS, ack (used only with HSK_TH_ACK) to the client's. */
void sim_pair_to_client(sim_pair *p, uint32_t rseq, uint32_t rack, uint8_t flags,
			const void *data, size_t len);
/* A client in TIME_WAIT: host 0 connects to host 1 on `port`, closes first,
 * then the server closes; checks the four segments of the close and the
 * client's TIME_WAIT entry. Returns the client's port; *lsd is the
 * server's listener, still open. */
uint16_t sim_time_wait_client(sim *sm, uint16_t port, int *lsd);

#endif
