/*
 * handshake against lwIP 2.1.3 (Debian's liblwip.so) in one process: the
 * harness of tests/peer/test_lwip.c (docs/network.md, "Against lwIP").
 *
 * Both stacks run over a memnet: host 0 is handshake (198.18.0.1), host 1
 * is lwIP (198.18.0.2, one netif of its one global instance, fed by the
 * network's sink); with HSK_SIM_FAMILY=6 they speak IPv6, 2001:2::1 and
 * 2001:2::2, handshake's listener dual-stack and lwIP's too. The
 * network's virtual clock also drives lwIP's TCP timer (tcp_tmr every
 * 250 ms), so every run replays exactly: LWIP_SEED=N runs only the runs
 * of seed N, LWIP_PRINT=1 prints every packet, LWIP_VERBOSE=1 a line of
 * figures per run.
 *
 * A run plays a scenario: each end's application writes its bytes from a
 * pattern and checks what it reads against the other's, then closes as
 * the scenario says. peer_run checks that every byte arrived once and in
 * order, that each end saw the other's FIN (or the reset or the
 * keepalive's error the scenario makes) within the time allowed, the
 * closing states (TIME_WAIT at the end that closed first), and, once
 * TIME_WAIT has passed, that neither stack holds anything: handshake's
 * usage is zero and lwIP's pcb lists are empty. It fails the running
 * cmocka test otherwise.
 */
#ifndef HSK_TEST_LWIP_PEER_H
#define HSK_TEST_LWIP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/memlink.h"

#define MS 1000000ull
#define SEC 1000000000ull
enum { HSK = 0, LW = 1 }; /* the two ends */

/* What a scenario asks of a run. */
typedef struct scenario {
	const char *name;
	bool hsk_client;      /* handshake connects; otherwise lwIP does */
	uint64_t up, down;    /* bytes client -> server, server -> client */
	bool half_close;      /* the client shuts down its side once written;
			       * the server answers only after that FIN */
	bool cross_fins;      /* both close at one instant once each has read
			       * everything: the FINs cross (CLOSING at both
			       * ends, then TIME_WAIT at both) */
	int reset_by;         /* HSK or LW aborts once it has half of what
			       * it receives; -1: both close gracefully */
	int pause;            /* HSK or LW stops reading for pause_ns once
			       * it has a quarter; -1: neither */
	uint64_t pause_ns;
	uint32_t read_rate;   /* both readers take at most this many bytes
			       * per 100 ms (0: all they can) */
	int keepalive_by;     /* HSK or LW probes the idle connection (after
			       * 5 s, then every 1 s; 3 unanswered end it);
			       * -1: neither */
	bool silent;          /* the other end goes silent once the data is
			       * through, until the prober gives up; then it
			       * comes back and closes (and is reset) */
	uint64_t hold_ns;     /* neither end closes before this long */
	bool fastopen;        /* handshake, the client, connects with
			       * TCP_FASTOPEN_CONNECT and a cookie cached for
			       * lwIP: its SYN carries its first bytes */
	uint8_t ecn;          /* handshake's hsk_config.ecn (0: the default) */
	bool urgent;          /* a part of handshake's writes are urgent data
			       * (HSK_MSG_OOB), which lwIP reads in line */
	unsigned mtu;         /* handshake's link MTU (0: 1500) */
	uint32_t rcvbuf;      /* handshake's receive buffer, fixed (0: the
			       * default, autotuned) */
	memnet_impair imp;    /* both directions */
	uint64_t seed;
	uint64_t limit_ns;    /* the whole exchange, virtual time */
	bool v6;              /* IPv6 (set by run from HSK_SIM_FAMILY) */
} scenario;

/* What the last run saw on the wire, by sender (HSK, LW). */
typedef struct peer_figures {
	size_t lw_largest;       /* lwIP's largest packet */
	unsigned zero_wnd[2];    /* segments with a zero window */
	unsigned probes[2];      /* keepalive probes: no data, at the highest
				  * sequence number sent less one */
	unsigned data_segs[2];   /* segments with data */
	size_t syn_data[2];      /* data on the first SYN */
	uint8_t syn_flags[2];    /* the first SYN's flags */
	unsigned ect[2];         /* packets marked ECT or CE */
	unsigned urg[2];         /* segments with URG */
	uint64_t tfo_fail;       /* handshake's TCPFastOpenActiveFail */
	unsigned lw_shielded;    /* corrupted IP headers kept from lwIP */
	unsigned resent[2];      /* of them, not above the highest sent */
} peer_figures;

/* 300,000 bytes each way, graceful closes, 10 ms each way, 600 s. */
scenario peer_base(const char *name, uint64_t seed);
/* One run of sc, in the family HSK_SIM_FAMILY asks for; checked. false:
 * not run (LWIP_SEED names another seed), so peer_last says nothing. */
bool peer_run(const scenario *sc);
/* sc with handshake the client, then with lwIP. */
void peer_both_ways(scenario sc);
/* Whether HSK_SIM_FAMILY=6 asks for IPv6. */
bool peer_family6(void);
const peer_figures *peer_last(void);

#endif
