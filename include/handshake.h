/*
 * handshake — a userspace TCP/IP stack.
 *
 * The stack is sans-IO: it owns no file descriptor, thread or clock. A driver
 * hands it IPv4 packets and the current time (hsk_stack_input), fires its
 * timers (hsk_stack_advance) and asks when to come back
 * (hsk_stack_next_deadline). Every outgoing IPv4 packet is handed to
 * link.transmit, synchronously.
 *
 * Sockets are small integers ("socket descriptors", sd) local to one stack.
 * Calls never block; they return a negative HSK_E* code on failure. The codes
 * have the values and names of Linux errno (HSK_EAGAIN == EAGAIN == 11).
 *
 * Contract: neither link.transmit nor the trace callback may call back into
 * the stack. Readiness is reported after processing through hsk_stack_events.
 * Socket calls act at the stack's clock, i.e. the time of the last
 * hsk_stack_input/hsk_stack_advance: a driver advances the stack to the
 * current time before it calls into the sockets.
 *
 * Addresses and ports in this API are in host byte order.
 */
#ifndef HANDSHAKE_H
#define HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* What these headers declare is the library's interface, exported; the
 * library's own functions are hidden (CMakeLists.txt), so that its names
 * (tcp_input, ip_input, ...) never meet another stack's in a program. */
#pragma GCC visibility push(default)

/* ---- errors: negative return values, numbered as Linux errno ---- */
enum hsk_error {
	HSK_OK = 0,
	HSK_EPERM = 1,
	HSK_ENOENT = 2,
	HSK_EBADF = 9,
	HSK_EAGAIN = 11,
	HSK_ENOMEM = 12,
	HSK_EINVAL = 22,
	HSK_EMFILE = 24,
	HSK_EPIPE = 32,
	HSK_EMSGSIZE = 90,
	HSK_ENOPROTOOPT = 92,
	HSK_EOPNOTSUPP = 95,
	HSK_EAFNOSUPPORT = 97,
	HSK_EADDRINUSE = 98,
	HSK_EADDRNOTAVAIL = 99,
	HSK_ENETUNREACH = 101,
	HSK_ECONNABORTED = 103,
	HSK_ECONNRESET = 104,
	HSK_ENOBUFS = 105,
	HSK_EISCONN = 106,
	HSK_ENOTCONN = 107,
	HSK_ETIMEDOUT = 110,
	HSK_ECONNREFUSED = 111,
	HSK_EHOSTUNREACH = 113,
	HSK_EALREADY = 114,
	HSK_EINPROGRESS = 115,
};

/* "ECONNREFUSED" for -111 or 111; "E?" for an unknown code. */
const char *hsk_errno_name(int err);
/* A short human description ("Connection refused"). */
const char *hsk_strerror(int err);

/* ---- TCP states, named as in RFC 9293 ---- */
enum hsk_tcp_state {
	HSK_CLOSED = 0,
	HSK_LISTEN,
	HSK_SYN_SENT,
	HSK_SYN_RECEIVED,
	HSK_ESTABLISHED,
	HSK_FIN_WAIT_1,
	HSK_FIN_WAIT_2,
	HSK_CLOSE_WAIT,
	HSK_CLOSING,
	HSK_LAST_ACK,
	HSK_TIME_WAIT,
	HSK_STATE_COUNT
};
/* "ESTABLISHED", "SYN_RECEIVED", ...; "?" when out of range. */
const char *hsk_state_name(int state);

/* TCP header flags, as on the wire. */
enum {
	HSK_TH_FIN = 0x01,
	HSK_TH_SYN = 0x02,
	HSK_TH_RST = 0x04,
	HSK_TH_PSH = 0x08,
	HSK_TH_ACK = 0x10,
	HSK_TH_URG = 0x20,
	HSK_TH_ECE = 0x40,
	HSK_TH_CWR = 0x80,
};

typedef struct hsk_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
} hsk_tuple;

/* ---- addresses of either family ---- */
enum { HSK_AF_INET = 2, HSK_AF_INET6 = 10 };   /* Linux's AF_ values */

/* An address that carries its family. IPv4 in host byte order (as the
 * uint32_t addresses everywhere in this API), IPv6 as its 16 bytes in
 * network order. scope_id is the zone of a link-local IPv6 address; the
 * stack has one interface, so it is kept and printed, never checked. */
typedef struct hsk_addr {
	uint8_t family;           /* HSK_AF_INET or HSK_AF_INET6 */
	uint32_t scope_id;
	union {
		uint32_t v4;
		uint8_t v6[16];
	};
} hsk_addr;

static inline hsk_addr hsk_addr_v4(uint32_t v4)
{
	hsk_addr a = { .family = HSK_AF_INET, .scope_id = 0, .v4 = v4 };
	return a;
}
static inline hsk_addr hsk_addr_v6(const uint8_t v6[16])
{
	hsk_addr a = { .family = HSK_AF_INET6, .scope_id = 0, .v4 = 0 };
	for (int i = 0; i < 16; i++)
		a.v6[i] = v6[i];
	return a;
}
/* Same family and address (the zone is not compared). */
bool hsk_addr_eq(const hsk_addr *a, const hsk_addr *b);

/* Room for any address in text, with brackets, zone and port. */
#define HSK_ADDRSTRLEN 72
/* "198.18.0.1", "2001:2::1", "[2001:2::1]", "fe80::1%3" (a numeric zone)
 * or "::ffff:198.18.0.1" (an IPv6 address, v4-mapped): 0, or -HSK_EINVAL. */
int hsk_addr_parse(const char *str, hsk_addr *a);
/* The address as text (RFC 5952 for IPv6: lower case, the longest run of
 * zero groups as ::, a zone as %n) in buf, which it returns; "?" for an
 * unknown family. */
const char *hsk_addr_str(const hsk_addr *a, char buf[HSK_ADDRSTRLEN]);
/* With a port: "198.18.0.1:80", "[2001:2::2]:80" (RFC 5952 §6). */
const char *hsk_addr_port_str(const hsk_addr *a, uint16_t port, char buf[HSK_ADDRSTRLEN]);

/* ---- tracing: every transition and every segment is an event ---- */
enum hsk_ev_kind {
	HSK_EV_STATE = 0, /* a state transition */
	HSK_EV_TX,        /* a segment sent */
	HSK_EV_RX,        /* a segment received (after validation) */
	HSK_EV_DROP,      /* a packet or segment dropped; see reason */
	HSK_EV_CC,        /* a connection's congestion state, after each segment
			   * it sends (cwnd ... backoff below) */
	HSK_EV_QUEUE,     /* a listener's SYN or accept queue length changed */
};
enum hsk_obj_kind {
	HSK_OBJ_TCB = 0,  /* a full connection */
	HSK_OBJ_REQ,      /* a SYN-queue request (SYN_RECEIVED, passive) */
	HSK_OBJ_TW,       /* a compact TIME_WAIT entry */
	HSK_OBJ_LISTEN,   /* a listener */
	HSK_OBJ_NONE,     /* no object (e.g. a reset sent for no connection) */
};

typedef struct hsk_trace_event {
	uint64_t t_ns;
	uint8_t kind;            /* enum hsk_ev_kind */
	uint8_t obj;             /* enum hsk_obj_kind */
	int sd;                  /* socket descriptor, or -1 */
	hsk_tuple tuple;         /* from the point of view of this stack */
	/* HSK_AF_INET; or HSK_AF_INET6, the addresses in laddr6/raddr6
	 * (tuple.laddr and raddr 0, the ports in the tuple) */
	uint8_t family;
	uint8_t laddr6[16], raddr6[16];
	/* HSK_EV_STATE */
	uint8_t from, to;        /* enum hsk_tcp_state */
	const char *cause;       /* "rcv SYN", "timer 2MSL", "close()", ... */
	/* HSK_EV_TX / RX / DROP (segment fields are zero when not parsed) */
	uint8_t flags;           /* HSK_TH_* */
	uint32_t seq, ack;       /* absolute sequence numbers */
	uint32_t len;            /* payload bytes (SYN and FIN not counted) */
	uint32_t win;            /* window field as on the wire (unscaled) */
	uint16_t urp;            /* urgent pointer with URG, else 0 */
	uint16_t mss;            /* MSS option, 0 when absent */
	int8_t wscale;           /* window-scale option, -1 when absent */
	bool sack_ok, has_ts;
	const char *reason;      /* HSK_EV_DROP: the counted reason */
	/* TX / RX / DROP: the rest of the options */
	uint32_t ts_val, ts_ecr; /* when has_ts */
	uint8_t nsack;           /* SACK blocks present (0..4) */
	struct { uint32_t left, right; } sack[4];
	int8_t fastopen;         /* Fast Open option: -1 absent, 0 a cookie
				  * request, else the cookie's length */
	/* HSK_EV_CC: the sending side of a connection (obj TCB), sampled
	 * after every segment it sends (only while a trace is set) */
	uint32_t cwnd;           /* bytes */
	uint32_t ssthresh;       /* bytes; UINT32_MAX until the first loss */
	uint32_t flight;         /* bytes sent and not yet acknowledged */
	uint32_t snd_wnd;        /* the peer's window, bytes (scaled) */
	uint64_t srtt_ns;        /* 0 before the first RTT sample */
	uint64_t rto_ns;         /* the timeout armed now, backoff included */
	uint8_t backoff;         /* RTO doublings in effect: timeouts in a row */
	bool in_recovery;        /* fast recovery (RFC 6675 / RFC 6582) */
	/* HSK_EV_QUEUE (obj LISTEN, tuple: the listener's address and port) */
	uint32_t syn_q, accept_q, backlog;
} hsk_trace_event;

typedef void (*hsk_trace_fn)(void *ctx, const hsk_trace_event *ev);

/* ---- configuration ---- */
typedef struct hsk_config {
	uint32_t addr;              /* local IPv4 address */
	uint16_t mtu;               /* link MTU (1500); MSS = mtu - 40 */
	uint16_t min_snd_mss;       /* 48 (tcp_min_snd_mss): a peer's smaller
				     * MSS option is raised to this (never
				     * above our own MSS) */
	uint16_t min_pmtu;          /* 552 (min_pmtu): an ICMP fragmentation-
				     * needed MTU below this is taken as this */
	uint8_t prefix_len;         /* our subnet (0: unknown). Packets from
				     * its broadcast address are dropped;
				     * hsk_loop_open fills it in */
	/* Secret keys of ISNs (RFC 6528), SYN cookies, ephemeral ports
	 * (RFC 6056) and the connection table's hash. 0 (HSK_SEED_OS, the
	 * default): drawn from `entropy` at hsk_stack_new, so no two stacks
	 * share them. Any other value: keys derived from it, so a run replays
	 * bit for bit — for tests and simulations only, since anyone who knows
	 * the seed can predict ISNs and forge cookies. */
	uint64_t seed;
	/* Fills buf with len unpredictable bytes; 0, or a negative error (then
	 * hsk_stack_new fails rather than run with guessable keys). Used only
	 * when seed is 0. NULL (default): hsk_os_entropy, i.e. getrandom(2). */
	int (*entropy)(void *ctx, void *buf, size_t len);
	void *entropy_ctx;

	/* IPv4 fragment reassembly (Linux's ipfrag_*): memory held for
	 * datagrams in pieces; going over high_thresh evicts the oldest
	 * down to low_thresh, and a source over its share loses its own
	 * oldest first. 0 high_thresh: no reassembly. */
	uint32_t ipfrag_high_thresh;  /* 4 MiB (ipfrag_high_thresh) */
	uint32_t ipfrag_low_thresh;   /* 3 MiB (ipfrag_low_thresh) */
	uint32_t ipfrag_src_max;      /* 1 MiB: one source address's share */
	uint64_t ipfrag_time_ns;      /* 30 s (ipfrag_time) */

	/* handshake and close */
	unsigned syn_retries;       /* 6  (tcp_syn_retries) */
	unsigned synack_retries;    /* 5  (tcp_synack_retries) */
	unsigned orphan_retries;    /* 8  FIN/data retries and zero-window
				     * probes of a closed socket */
	unsigned retries2;          /* 15 (tcp_retries2) data retransmissions,
				     * or zero-window probes unanswered */
	unsigned somaxconn;         /* 4096: caps the listen backlog */
	unsigned max_syn_backlog;   /* 4096: caps a listener's SYN queue */
	bool syncookies;            /* true: cookies when the SYN queue is full */
	bool abort_on_overflow;     /* false: full accept queue drops the ACK */
	uint64_t msl_ns;            /* 30 s: TIME_WAIT lasts 2*MSL */
	uint64_t fin_timeout_ns;    /* 60 s: FIN_WAIT_2 of a closed socket */
	unsigned max_tw_buckets;    /* 262144 TIME_WAIT entries at most */

	/* retransmission */
	uint64_t rto_initial_ns;    /* 1 s */
	uint64_t rto_min_ns;        /* 200 ms */
	uint64_t rto_max_ns;        /* 120 s */
	uint64_t delack_ns;         /* 40 ms */

	/* Replies to unacceptable segments, per connection (requests and
	 * TIME_WAIT entries included): RFC 5961 challenge ACKs ... */
	unsigned challenge_ack_limit;   /* 10 per challenge_ack_window_ns */
	uint64_t challenge_ack_window_ns; /* 1 s */
	/* ... and duplicate ACKs to out-of-window, PAWS-failing and repeated
	 * segments that carry no text: one per this interval (Linux's
	 * tcp_invalid_ratelimit) */
	uint64_t invalid_ratelimit_ns;  /* 500 ms */

	/* byte stream */
	bool sack;                  /* true: offer and use SACK (tcp_sack) */
	bool timestamps;            /* true: RFC 7323 timestamps (tcp_timestamps) */
	bool window_scaling;        /* true: RFC 7323 window scale */
	/* F-RTO (RFC 5682, with SACK its §3), as Linux's tcp_frto: after a
	 * timeout new data goes before more is resent, and the timeout is
	 * undone when the ACKs show the originals arrived (true) */
	bool frto;
	/* ECN (RFC 3168), as Linux's tcp_ecn: 0 off; 1 ask for it on our
	 * SYNs and accept it; 2 (default) accept it when a peer asks */
	uint8_t ecn;
	/* TCP Fast Open (RFC 7413), Linux's tcp_fastopen bits: 0x1 client
	 * (default), 0x2 server (a listener also needs TCP_FASTOPEN), 0x4
	 * client sends data without a cookie, 0x200 server takes data
	 * without a cookie, 0x400 server on every listener (queue: its
	 * backlog). */
	unsigned tcp_fastopen;
	/* The server's cookie key (Linux's tcp_fastopen_key): all zero
	 * (default), one derived from the stack's secret; hsk_shards gives
	 * every shard of a set one drawn key. hsk_fastopen_key_set changes
	 * it at run time. */
	uint8_t tcp_fastopen_key[16];
	/* Key rotation (RFC 7413 §4.1.2): every this long of the clock, a
	 * new key for new cookies, derived from tcp_fastopen_key by the
	 * period's number (now / interval); cookies of the period before
	 * stay valid. 0 (default): never, as Linux. */
	uint64_t tcp_fastopen_key_rotate_ns;
	/* Bytes not yet sent a socket may hold (TCP_NOTSENT_LOWAT's default,
	 * Linux's tcp_notsent_lowat): UINT32_MAX, no limit */
	uint32_t tcp_notsent_lowat;
	/* Pacing for every connection (HSK_SO_MAX_PACING_RATE's default, in
	 * its units), as Linux paces every flow under the fq qdisc: 0
	 * (default) off; -1 paced at the rate the window and RTT give; N > 0
	 * that, at most N bytes/s (fq's maxrate). A socket's option
	 * overrides it (0 there: that connection is not paced). */
	int pacing_rate;
	const char *congestion_control; /* "cubic" (default), "newreno", "none" */
	uint32_t isn_offset;        /* added to every ISN (0) */
	bool isn_fixed;             /* false; true: every ISN is isn_offset
				     * (tests: start near 2^32; never in use) */

	/* buffers and limits */
	uint32_t sndbuf;            /* 256 KiB per connection */
	uint32_t rcvbuf;            /* 256 KiB per connection */
	/* Buffer memory of the whole stack, as Linux's tcp_mem (in bytes
	 * here, not pages): the send and receive rings of every connection.
	 * Above tcp_mem_pressure the stack is under memory pressure until the
	 * total falls below tcp_mem_low: new rings get the minimum size
	 * (sndbuf_min, rcvbuf_min: Linux's tcp_wmem[0], tcp_rmem[0]),
	 * windows stop growing, send rings shrink to what they hold. A ring
	 * that would pass tcp_mem_high is refused: its data is dropped
	 * (TCPRcvQDrop), hsk_send answers -HSK_EAGAIN, and orphans holding
	 * rings are reset first (TCPAbortOnMemory). The defaults are Linux's
	 * on a host with 4 GiB free (low:pressure:high = 3:4:6); the core
	 * knows no RAM, so size them to the memory the stack may use. */
	uint64_t tcp_mem_low;       /* 192 MiB */
	uint64_t tcp_mem_pressure;  /* 256 MiB */
	uint64_t tcp_mem_high;      /* 384 MiB */
	uint32_t sndbuf_min;        /* 4096 */
	uint32_t rcvbuf_min;        /* 4096 */
	/* Buffer autotuning, as Linux's (tcp_rmem[2], tcp_wmem[2]): a
	 * connection's receive buffer grows to about twice what the
	 * application read in a round trip, its send buffer to about twice
	 * the congestion window, up to these (docs/bytestream.md). Not for a
	 * buffer the application set (SO_RCVBUF, SO_SNDBUF), and never under
	 * memory pressure. At most 1 GiB; at or below rcvbuf / sndbuf, that
	 * buffer does not grow. Our window scale is worked out from the
	 * larger of rcvbuf and rcvbuf_max. */
	uint32_t rcvbuf_max;        /* 6 MiB */
	uint32_t sndbuf_max;        /* 4 MiB */
	unsigned max_sockets;       /* 65536 socket descriptors */
	unsigned max_conns;         /* 1048576 TCBs + requests */
	/* Connections closed by the user that still live (FIN_WAIT_1/2,
	 * CLOSING, LAST_ACK) at most; a close() beyond it resets the
	 * connection (TCPAbortOnMemory), as Linux's tcp_max_orphans. */
	unsigned max_orphans;       /* 65536 */

	/* keepalive (off per socket until enabled) */
	uint64_t keepalive_idle_ns;     /* 7200 s */
	uint64_t keepalive_intvl_ns;    /* 75 s */
	unsigned keepalive_probes;      /* 9 */

	/* observation */
	hsk_trace_fn trace;
	void *trace_ctx;

	/* Active opens: when set, the ephemeral port search (RFC 6056) takes
	 * only a port for which port_ok says yes, trying on through the
	 * range. The shard layer (hsk_shards) passes "the replies of this
	 * tuple come to my shard". NULL: every free port will do. */
	bool (*port_ok)(void *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport,
			uint16_t rport);
	/* The same for active opens over IPv6 (16-byte addresses); NULL:
	 * every free port will do. Both take port_ok_ctx. */
	bool (*port_ok6)(void *ctx, const uint8_t laddr[16], const uint8_t raddr[16],
			 uint16_t lport, uint16_t rport);
	void *port_ok_ctx;
	/* The clock contract (see the top of this file): socket calls act at
	 * the stack's clock. With `clock` set, a build with assertions
	 * (NDEBUG undefined) checks it on every socket call that may arm a
	 * timer: a stack clock more than clock_slack_ns behind clock() means
	 * the driver did not advance the stack first, and the call aborts;
	 * any build counts it in StaleClock. NULL (default): not checked. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	uint64_t clock_slack_ns;    /* 10 ms */
} hsk_config;

/* hsk_config.tcp_fastopen bits, as Linux's. */
enum {
	HSK_TFO_CLIENT = 0x1,
	HSK_TFO_SERVER = 0x2,
	HSK_TFO_CLIENT_NO_COOKIE = 0x4,
	HSK_TFO_SERVER_NO_COOKIE = 0x200,
	HSK_TFO_SERVER_ALL = 0x400,
};

/* hsk_config.seed: keys from the operating system (the default). */
#define HSK_SEED_OS 0

/* Fills cfg with the defaults above (Linux's where Linux has a knob). */
void hsk_config_default(hsk_config *cfg);
/* The default entropy source: getrandom(2), waiting only until the kernel's
 * pool is first seeded after boot. 0, or -errno. ctx is unused. */
int hsk_os_entropy(void *ctx, void *buf, size_t len);

/* ---- the link: where outgoing packets go ---- */
typedef struct hsk_link {
	void *ctx;
	/* Called for every outgoing IPv4 packet; must not call into the stack. */
	void (*transmit)(void *ctx, const uint8_t *pkt, size_t len);
} hsk_link;

/* ---- the stack ---- */
typedef struct hsk_stack hsk_stack;

/* NULL on bad configuration or no memory. `now_ns` starts the clock. */
hsk_stack *hsk_stack_new(const hsk_config *cfg, const hsk_link *link, uint64_t now_ns);
void hsk_stack_free(hsk_stack *s);
/* One IPv4 packet arrives. Malformed input is counted and dropped. No
 * timer fires here (a packet read late may be the ACK that cancels an
 * overdue one): call hsk_stack_advance after a batch of input. */
void hsk_stack_input(hsk_stack *s, uint64_t now_ns, const uint8_t *pkt, size_t len);
/* Fires every timer due at or before now_ns. */
void hsk_stack_advance(hsk_stack *s, uint64_t now_ns);
/* The earliest pending deadline, UINT64_MAX when nothing is pending. */
uint64_t hsk_stack_next_deadline(const hsk_stack *s);
const hsk_config *hsk_stack_config(const hsk_stack *s);
/* The stack's addresses: any number of either family, each with its
 * on-link prefix length (hsk_config.addr is the first IPv4 one). IPv6 is
 * off until the stack has an IPv6 address. add: 0, -HSK_EAFNOSUPPORT (a
 * family that is neither), -HSK_EINVAL (an address that cannot be a
 * host's: unspecified, loopback, multicast, v4-mapped, 0.0.0.0/8, 127/8,
 * 224/3, or a prefix longer than the address), -HSK_EADDRINUSE (there
 * already), -HSK_ENOMEM. del: 0, -HSK_EAFNOSUPPORT, -HSK_EADDRNOTAVAIL.
 * Deleting the first IPv4 address makes the next one the first.
 * Connections on an address deleted live on (as Linux's). */
int hsk_stack_add_addr(hsk_stack *s, const hsk_addr *a, unsigned prefix);
int hsk_stack_del_addr(hsk_stack *s, const hsk_addr *a);
/* Writes up to max addresses (IPv4 first, each family in byte order) and
 * their prefix lengths (prefix may be NULL); returns how many there are. */
size_t hsk_stack_addrs(const hsk_stack *s, hsk_addr *out, unsigned *prefix, size_t max);

/* ---- sockets ----
 *
 * Every call lists the errors it can return (negative HSK_E* values), and
 * docs/api.md has the same list with each option's Linux counterpart;
 * tests/sim/test_errors.c makes each of them happen. "EBADF" is always:
 * sd is not an open socket of this stack. A "pending error" is the error
 * that ended a connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT), reported
 * once by the next send/recv/hsk_sock_error and then cleared, as SO_ERROR.
 * Beyond the lists, an engine bug (a transition the table refuses, counted
 * in IllegalTransitions) makes connect() fail with ECONNABORTED, shutdown()
 * with EINVAL, and a connection end with ECONNABORTED pending.
 */
enum { HSK_SHUT_RD = 0, HSK_SHUT_WR = 1, HSK_SHUT_RDWR = 2 };

/* Readiness, as poll(2) */
enum {
	HSK_POLLIN = 0x001,   /* data (SO_RCVLOWAT bytes), EOF, or a connection
			       * to accept */
	HSK_POLLPRI = 0x002,  /* urgent data left to read (hsk_sock_urgent) */
	HSK_POLLOUT = 0x004,  /* room to send (SO_SNDLOWAT bytes, and below
			       * TCP_NOTSENT_LOWAT) / connect completed */
	HSK_POLLERR = 0x008,  /* a pending error (hsk_sock_error) */
	HSK_POLLHUP = 0x010,  /* both directions closed */
	HSK_POLLRDHUP = 0x2000, /* the peer sent FIN, or we shut down reading */
	HSK_POLLDRAINED = 0x10000, /* handshake's own: every byte written has
			       * been acknowledged (the send buffer is drained;
			       * lwIP's tcp_sent with nothing left) */
};

/*
 * Socket options: hsk_setsockopt/hsk_getsockopt take an int in Linux's
 * units (the Linux option is named after each); TCP_CONGESTION is a
 * string (hsk_setsockopt_str). Before connect() or listen() an option is
 * kept for the connection (accepted sockets inherit their listener's, as
 * in Linux). docs/api.md says which differ from Linux, and why.
 */
enum hsk_sockopt {
	HSK_SO_NODELAY = 1,      /* TCP_NODELAY: 0/1, disable Nagle */
	HSK_SO_KEEPALIVE,        /* SO_KEEPALIVE: 0/1 */
	HSK_SO_KEEPIDLE,         /* TCP_KEEPIDLE: seconds, 1..32767 */
	HSK_SO_KEEPINTVL,        /* TCP_KEEPINTVL: seconds, 1..32767 */
	HSK_SO_KEEPCNT,          /* TCP_KEEPCNT: 1..127 */
	HSK_SO_SNDBUF,           /* SO_SNDBUF: bytes; read: twice what was set,
				  * as Linux (its bookkeeping overhead) */
	HSK_SO_RCVBUF,           /* SO_RCVBUF: the same */
	HSK_SO_LINGER0,          /* 1: close() sends RST (SO_LINGER {1, 0}) */
	HSK_SO_USER_TIMEOUT,     /* TCP_USER_TIMEOUT: milliseconds, 0: retry
				  * counts rule */
	HSK_SO_MAXSEG,           /* TCP_MAXSEG: set before connect()/listen()
				  * (88..32767, 0: none) caps our MSS; read:
				  * the effective send MSS once connected, else
				  * what was set, else 536 */
	HSK_TCP_QUICKACK,        /* TCP_QUICKACK: 1 ACK at once (and leave
				  * interactive mode); 0 delay ACKs */
	HSK_IP_TOS,              /* IP_TOS: 0..255, the DSCP of our packets
				  * (the two ECN bits are TCP's: ignored) */
	HSK_SO_RCVLOWAT,         /* SO_RCVLOWAT: bytes before POLLIN (1..) */
	HSK_SO_SNDLOWAT,         /* SO_SNDLOWAT: room before POLLOUT (1..) */
	HSK_TCP_NOTSENT_LOWAT,   /* TCP_NOTSENT_LOWAT: bytes not yet sent at
				  * most (POLLOUT below half of it) */
	HSK_SO_LINGER,           /* SO_LINGER: -1 off, 0 RST on close(), N>0
				  * seconds for the FIN to be acknowledged */
	HSK_SO_REUSEADDR,        /* SO_REUSEADDR: 0/1, before bind() */
	HSK_SO_REUSEPORT,        /* SO_REUSEPORT: 0/1, before bind() */
	HSK_TCP_DEFER_ACCEPT,    /* TCP_DEFER_ACCEPT: seconds; read: rounded
				  * up to the SYN-ACK schedule, as Linux */
	HSK_TCP_FASTOPEN,        /* TCP_FASTOPEN: listener's queue of pending
				  * Fast Open connections (0: off) */
	HSK_TCP_FASTOPEN_CONNECT, /* TCP_FASTOPEN_CONNECT: 0/1, before
				  * connect() */
	HSK_TCP_CONGESTION,      /* TCP_CONGESTION: a name, *_str calls only */
	HSK_SO_ERROR,            /* SO_ERROR: read the pending error (positive),
				  * cleared */
	HSK_SO_V6ONLY,           /* IPV6_V6ONLY: 0/1 (default 0): an IPv6
				  * socket on :: takes IPv6 only; before bind
				  * or connect, else -HSK_EINVAL; ENOPROTOOPT
				  * on an IPv4 socket */
	HSK_SO_MAX_PACING_RATE,  /* SO_MAX_PACING_RATE: bytes/s at most, and
				  * turns pacing on, as Linux's internal
				  * pacing (its segments spread over the RTT
				  * at twice the window per RTT in slow start,
				  * 1.2 times after); -1: paced, uncapped;
				  * 0: not paced (the default) */
};
/* The Linux names. */
#define HSK_TCP_NODELAY HSK_SO_NODELAY
#define HSK_TCP_KEEPIDLE HSK_SO_KEEPIDLE
#define HSK_TCP_KEEPINTVL HSK_SO_KEEPINTVL
#define HSK_TCP_KEEPCNT HSK_SO_KEEPCNT
#define HSK_TCP_USER_TIMEOUT HSK_SO_USER_TIMEOUT
#define HSK_TCP_MAXSEG HSK_SO_MAXSEG

/* Message flags, with Linux's values. */
enum {
	HSK_MSG_OOB = 0x1,            /* sendto: urgent data (RFC 9293 §3.8.5) */
	HSK_MSG_PEEK = 0x2,           /* recvv: read without consuming */
	HSK_MSG_FASTOPEN = 0x20000000, /* sendto: connect with Fast Open */
};

/* A new socket.
 * Errors: EMFILE (max_sockets are open, as Linux's per-process descriptor
 * limit), ENOMEM. */
int hsk_socket(hsk_stack *s);
/* A socket of family HSK_AF_INET (what hsk_socket makes) or HSK_AF_INET6.
 * An IPv6 socket bound to :: and not HSK_SO_V6ONLY also takes IPv4
 * connections, whose peers it reports as ::ffff:a.b.c.d (Linux's
 * bindv6only 0).
 * Errors: EAFNOSUPPORT (another family), and those of hsk_socket. */
int hsk_socket_family(hsk_stack *s, int family);
/* addr 0 means the stack's address; port 0 picks one at connect().
 * Errors: EBADF; EAFNOSUPPORT (an IPv6 socket: hsk_bind_addr); EINVAL
 * (not a fresh socket, or bound already);
 * EADDRNOTAVAIL (addr is not ours); EADDRINUSE (the port is in use: a
 * listener unless both set SO_REUSEPORT; a socket bound only, unless
 * both set SO_REUSEADDR or both SO_REUSEPORT; a connection, request or
 * TIME_WAIT entry unless both set SO_REUSEADDR: docs/api.md). */
int hsk_bind(hsk_stack *s, int sd, uint32_t addr, uint16_t port);
/* Listens with a backlog capped by somaxconn (0: 1; negative: somaxconn,
 * as Linux); on a listening socket, changes the backlog.
 * Errors: EBADF; EINVAL (neither fresh nor listening, or not bound to a
 * port); EADDRINUSE (another listener has the port and not both set
 * SO_REUSEPORT); ENOBUFS (no memory for the listener). */
int hsk_listen(hsk_stack *s, int sd, int backlog);
/* A connection from the accept queue: its new sd. A Fast Open connection
 * is there from its SYN on, with the SYN's data readable (SYN_RECEIVED).
 * `peer` may be NULL.
 * Errors: EBADF; EINVAL (not listening); EAGAIN (nothing to accept);
 * EMFILE (max_sockets are open: the connection stays queued, and once a
 * socket is closed the listener is reported readable again, so an
 * application that accepts on events is never locked out); ENOMEM. */
int hsk_accept(hsk_stack *s, int sd, hsk_tuple *peer);
/* Opens a connection: -HSK_EINPROGRESS, then POLLOUT (connected) or
 * POLLERR. With TCP_FASTOPEN_CONNECT and a cookie for addr cached, 0 at
 * once: the SYN leaves with the first write's data (as Linux).
 * Errors: EBADF; EAFNOSUPPORT (a fresh IPv6 socket: hsk_connect_addr,
 * with a v4-mapped address for an IPv4 peer); EINPROGRESS (the normal
 * answer); EALREADY (connecting) and EISCONN (connected), before
 * EAFNOSUPPORT as on Linux; EINVAL (listening, or addr
 * or port 0); ENETUNREACH (addr is no host's: multicast, broadcast,
 * 240/4, 127/8, 0/8; RFC 1122 §4.2.3.10); EADDRNOTAVAIL (no ephemeral
 * port free); EADDRINUSE (the bound port has a connection to addr:port
 * already); ENOBUFS (max_conns connections). */
int hsk_connect(hsk_stack *s, int sd, uint32_t addr, uint16_t port);
/* Queues bytes: how many (maybe fewer than len; 0 for len 0).
 * Errors: EBADF; ENOTCONN (not connected); a pending error; EAGAIN (no room
 * now: wait for POLLOUT; also while the handshake is not complete, except
 * on a Fast Open connection); EPIPE (we shut down writing, or the
 * connection is closed). */
long hsk_send(hsk_stack *s, int sd, const void *buf, size_t len);
/* Gathers from iovcnt buffers as one hsk_send; the same errors, and EINVAL
 * (iovcnt < 0 or > HSK_IOV_MAX, iov NULL with iovcnt > 0, or lengths that
 * add up past LONG_MAX). */
typedef struct hsk_iovec {
	void *base;
	size_t len;
} hsk_iovec;
enum { HSK_IOV_MAX = 1024 };  /* Linux's UIO_MAXIOV */
long hsk_sendv(hsk_stack *s, int sd, const hsk_iovec *iov, int iovcnt);
/* sendto(2): with HSK_MSG_FASTOPEN on a fresh socket, connects to
 * addr:port with TCP Fast Open (RFC 7413): with a cookie cached for addr,
 * buf (as much as fits) leaves on the SYN and the bytes queued are
 * returned; without one the SYN asks for a cookie and -HSK_EINPROGRESS is
 * returned, nothing queued (as Linux). Without the flag, or on a
 * connected socket, hsk_send (addr and port ignored, as Linux does); with
 * HSK_MSG_OOB the bytes it queued are urgent data (below, hsk_sock_urgent).
 * Errors: those of hsk_connect and hsk_send, and EOPNOTSUPP
 * (HSK_MSG_FASTOPEN while hsk_config.tcp_fastopen lacks the client bit);
 * EINVAL (unknown flags, or HSK_MSG_OOB with HSK_MSG_FASTOPEN); EPIPE (no
 * HSK_MSG_FASTOPEN on a fresh socket);
 * ENOTCONN (no HSK_MSG_FASTOPEN on a listening socket). */
long hsk_sendto(hsk_stack *s, int sd, const void *buf, size_t len, int flags,
		uint32_t addr, uint16_t port);
/* Bytes read; 0 at end of stream (the peer's FIN, or after SHUT_RD once
 * what was queued is read).
 * Errors: EBADF; ENOTCONN (not connected); EAGAIN (nothing yet); a pending
 * error (after the data that arrived before it). */
long hsk_recv(hsk_stack *s, int sd, void *buf, size_t len);
/* Scatters into iovcnt buffers as one hsk_recv; flags 0 or HSK_MSG_PEEK
 * (the bytes stay for the next read). The errors of hsk_recv, and EINVAL
 * (as hsk_sendv, or unknown flags). */
long hsk_recvv(hsk_stack *s, int sd, const hsk_iovec *iov, int iovcnt, int flags);
/*
 * Zero copy (as smoltcp's recv_with/send_with): borrow the next contiguous
 * run of received bytes in place, then release what was consumed; reserve
 * room at the end of the send buffer, write into it, then commit. A
 * pointer stays valid until the matching release/commit or the next call
 * into the stack, whichever comes first, with one exception: the send-side
 * calls never move the receive ring, so a borrowed run may be copied into
 * reserved room and committed before it is released (an echo copies each
 * byte once: examples/zerocopy_echo.c). Not the reverse: a release that
 * empties the receive ring may give back an empty send ring, reserved
 * room and all.
 */
/* The next run of received bytes in place: its length (up to the end of
 * the buffer's storage: call again after a release for the rest), 0 at
 * end of stream. The errors of hsk_recv. */
long hsk_recv_borrow(hsk_stack *s, int sd, const void **data);
/* Consumes n bytes of what hsk_recv_borrow showed (as hsk_recv would).
 * Errors: EBADF; ENOTCONN; EINVAL (n more than is readable). */
int hsk_recv_release(hsk_stack *s, int sd, size_t n);
/* Room at the end of the send buffer, in place: its length (contiguous: up
 * to the end of the storage), to fill and hsk_send_commit. The errors of
 * hsk_send. */
long hsk_send_reserve(hsk_stack *s, int sd, void **buf);
/* Queues n bytes written where hsk_send_reserve pointed, and sends.
 * Errors: EBADF; ENOTCONN; EINVAL (n more than was reserved); those of
 * hsk_send's state check (EAGAIN while connecting, EPIPE, a pending
 * error), as hsk_send_reserve returned them. */
int hsk_send_commit(hsk_stack *s, int sd, size_t n);
/* SHUT_RD: reads return what is queued, then 0 (data arriving later is
 * still queued, as Linux); SHUT_WR: FIN after the queued data.
 * Errors: EBADF; ENOTCONN (not connected, or still connecting); EINVAL
 * (how is none of HSK_SHUT_*). */
int hsk_shutdown(hsk_stack *s, int sd, int how);
/* Releases sd. The connection closes in the background (FIN), or is reset
 * when received data was left unread or SO_LINGER is 0; with SO_LINGER N >
 * 0 it is reset if our FIN is not acknowledged within N s. close() never
 * blocks. Errors: EBADF. */
int hsk_close(hsk_stack *s, int sd);
/* Sends RST and releases sd. Errors: EBADF. */
int hsk_abort(hsk_stack *s, int sd);
/* Errors: EBADF; ENOPROTOOPT (unknown option, or a string option);
 * EINVAL (a value out of range, or an option the socket's state does not
 * take: SO_SNDBUF/SO_RCVBUF once the buffer exists, TCP_FASTOPEN_CONNECT
 * after connect(), TCP_FASTOPEN on a connection); EOPNOTSUPP
 * (TCP_FASTOPEN_CONNECT while hsk_config.tcp_fastopen lacks the client
 * bit); ENOMEM. */
int hsk_setsockopt(hsk_stack *s, int sd, int opt, int value);
/* Errors: EBADF; ENOPROTOOPT (unknown option, or a string option). */
int hsk_getsockopt(hsk_stack *s, int sd, int opt, int *value);
/* String options (HSK_TCP_CONGESTION: "cubic", "newreno"/"reno", "none";
 * on a connection the algorithm changes at once, keeping cwnd, as Linux).
 * Errors: EBADF; ENOPROTOOPT (not a string option); ENOENT (no such
 * algorithm, as Linux); ENOMEM. */
int hsk_setsockopt_str(hsk_stack *s, int sd, int opt, const char *value);
/* The name, NUL-terminated, cut to cap. Errors: EBADF; ENOPROTOOPT;
 * EINVAL (cap 0). */
int hsk_getsockopt_str(hsk_stack *s, int sd, int opt, char *buf, size_t cap);
/* HSK_POLL* mask. Errors: EBADF. */
int hsk_poll(hsk_stack *s, int sd);
/* The pending error (positive HSK_E* value), cleared by reading; 0 if
 * none. Errors: EBADF. */
int hsk_sock_error(hsk_stack *s, int sd);
/* The connection's state (HSK_CLOSED for a fresh socket). Errors: EBADF. */
int hsk_sock_state(hsk_stack *s, int sd);
/* The 4-tuple (a fresh or listening socket: the bound address and port;
 * an IPv6 connection's addresses are 0: hsk_sock_name/peer).
 * Errors: EBADF. */
int hsk_sock_tuple(hsk_stack *s, int sd, hsk_tuple *t);
/* getsockname(2): our address and port (0.0.0.0:0 before bind/connect).
 * Either pointer may be NULL. Errors: EBADF. */
int hsk_getsockname(hsk_stack *s, int sd, uint32_t *addr, uint16_t *port);
/* getpeername(2). Errors: EBADF; ENOTCONN (no connection, or still in
 * SYN_SENT or CLOSED, as Linux). */
int hsk_getpeername(hsk_stack *s, int sd, uint32_t *addr, uint16_t *port);
/* A pointer of the application's, kept with the socket and handed back in
 * every hsk_event (as epoll_data, lwIP's tcp_arg). Not inherited by
 * accepted sockets. Errors: EBADF. */
int hsk_sock_set_user(hsk_stack *s, int sd, void *user);
/* The pointer set, NULL when none (or sd is not open). */
void *hsk_sock_user(hsk_stack *s, int sd);

/* The calls above with addresses of either family, and their errors; the
 * address must be of the socket's family (else -HSK_EAFNOSUPPORT). bind:
 * our address or the wildcard (0.0.0.0, ::): -HSK_EADDRNOTAVAIL for one
 * that is not ours (a v4-mapped one included), -HSK_EADDRINUSE as
 * hsk_bind (an IPv6 wildcard that is not v6only holds the port for IPv4
 * too; a specific IPv6 address or a v6only socket meets no IPv4 one),
 * -HSK_ENOMEM. connect: the source is the bound address or one of ours
 * chosen for the destination (RFC 6724), -HSK_ENETUNREACH when there is
 * none, or for a multicast IPv6 destination (as Linux); a v4-mapped
 * one is an IPv4 connection, -HSK_ENETUNREACH from a v6only socket or
 * one bound to an IPv6 address. */
int hsk_bind_addr(hsk_stack *s, int sd, const hsk_addr *a, uint16_t port);
int hsk_connect_addr(hsk_stack *s, int sd, const hsk_addr *a, uint16_t port);
/* hsk_accept, with the peer's address and port (either may be NULL). */
int hsk_accept_addr(hsk_stack *s, int sd, hsk_addr *peer, uint16_t *port);
/* The source address a connection to dst would get (RFC 6724 for IPv6;
 * the stack's IPv4 address): 0, -HSK_ENETUNREACH (none of its family or
 * scope), -HSK_EAFNOSUPPORT. */
int hsk_select_src(hsk_stack *s, const hsk_addr *dst, hsk_addr *src);
/* getsockname and getpeername: 0, -HSK_EBADF, -HSK_ENOTCONN (peer). */
int hsk_sock_name(hsk_stack *s, int sd, hsk_addr *a, uint16_t *port);
int hsk_sock_peer(hsk_stack *s, int sd, hsk_addr *a, uint16_t *port);

/* What the connection knows about its path, like Linux's TCP_INFO. */
typedef struct hsk_tcp_info {
	uint8_t state;            /* enum hsk_tcp_state */
	bool sack, timestamps;    /* negotiated */
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss;             /* effective send MSS (options taken off) */
	uint32_t cwnd, ssthresh;  /* bytes */
	uint32_t snd_wnd;         /* the peer's window, bytes */
	uint32_t unacked;         /* bytes in flight */
	uint64_t srtt_ns, rttvar_ns, rto_ns, min_rtt_ns;
	unsigned retransmits;     /* consecutive timeouts now */
	bool in_recovery;
	const char *congestion_control;
	bool ecn;                 /* ECN negotiated (RFC 3168) */
	bool fastopen;            /* a Fast Open connection whose SYN data the
				   * peer took (either end) */
	uint32_t bytes_acked;     /* data bytes the peer acknowledged, modulo
				   * 2^32 */
	uint64_t pacing_rate;     /* bytes/s a paced connection sends at now
				   * (Linux's tcpi_pacing_rate); 0: not paced,
				   * UINT64_MAX: paced, no rate yet (no RTT
				   * sample, no cap) */
} hsk_tcp_info;
/* Errors: EBADF; ENOTCONN (no connection). */
int hsk_sock_info(hsk_stack *s, int sd, hsk_tcp_info *ti);

/*
 * Urgent data (RFC 9293 §3.8.5; new applications should not use it,
 * SHLD-13). It stays in line, as Linux's SO_OOBINLINE: every byte is read
 * in order by hsk_recv, nothing is taken out of the stream. The peer's
 * urgent pointer marks the octet after its urgent data; while bytes
 * before it are left to read the socket has HSK_POLLPRI, and each advance
 * of the pointer queues an event. hsk_sendto with HSK_MSG_OOB sends urgent
 * data: the pointer follows the bytes it queued.
 */
/* Urgent bytes left to read before the peer's urgent pointer, 0 when none
 * (Linux's SIOCATMARK is true where this is 1: the next byte read is the
 * last urgent one). Errors: EBADF; ENOTCONN (no connection). */
long hsk_sock_urgent(hsk_stack *s, int sd);

/* Readiness events: sockets whose readiness may have changed since the last
 * call, each once. Returns how many were written to `out`. */
typedef struct hsk_event {
	int sd;
	int events;     /* current HSK_POLL* mask */
	void *user;     /* hsk_sock_set_user's pointer */
	uint32_t acked; /* data bytes the peer acknowledged since the last
			 * event of this socket (lwIP's tcp_sent) */
} hsk_event;
size_t hsk_stack_events(hsk_stack *s, hsk_event *out, size_t max);

/* ---- TCP Fast Open cookies (client side) ----
 * The cookie a server gave us, as Linux keeps it per destination address
 * (ip tcp_metrics): to carry it across runs of a program. */
/* Its length (4..16), the cookie copied into buf[16]. Errors: ENOENT (none
 * cached for addr). */
int hsk_fastopen_cookie_get(hsk_stack *s, uint32_t addr, uint8_t buf[16]);
/* Caches a cookie (len 4..16, even) for addr. Errors: EINVAL; ENOMEM. */
int hsk_fastopen_cookie_set(hsk_stack *s, uint32_t addr, const uint8_t *cookie, size_t len);
/* The same for a server of either family (IPv6: keyed by its 128 bits). */
int hsk_fastopen_cookie_get_addr(hsk_stack *s, const hsk_addr *a, uint8_t buf[16]);
int hsk_fastopen_cookie_set_addr(hsk_stack *s, const hsk_addr *a, const uint8_t *cookie,
				 size_t len);

/* ---- TCP Fast Open keys (server side) ----
 * Linux's TCP_FASTOPEN_KEY and net.ipv4.tcp_fastopen_key, for the whole
 * stack: cookies are made with the primary key and accepted with the
 * primary or the backup. To rotate by hand, set a new primary with the
 * old one as backup. With hsk_config.tcp_fastopen_key_rotate_ns the
 * primary given is the master of the rotation (each period's keys are
 * derived from it) and the backup, or if NULL the primary in use until
 * now, is accepted until the next period. Each stack of a shard set has
 * its own: set them all (hsk_shards_post). Errors: EINVAL (primary
 * NULL). */
int hsk_fastopen_key_set(hsk_stack *s, const uint8_t primary[16], const uint8_t *backup);
/* The keys in use now, primary then backup, into out[32]: 32, or 16 when
 * there is no backup (as Linux's getsockopt). */
int hsk_fastopen_key_get(hsk_stack *s, uint8_t out[32]);

/* ---- observation: connections and counters ---- */
typedef struct hsk_conn_info {
	uint8_t obj;            /* enum hsk_obj_kind */
	uint8_t state;          /* enum hsk_tcp_state */
	int sd;                 /* -1 for orphans, requests, TIME_WAIT */
	hsk_tuple tuple;        /* IPv6: addresses 0, see family */
	uint8_t family;         /* HSK_AF_INET, or HSK_AF_INET6 with ... */
	uint8_t laddr6[16], raddr6[16];   /* ... these (listeners: laddr6) */
	uint32_t send_q, recv_q;  /* bytes; for listeners: accept queue, backlog */
	uint32_t syn_q;           /* listeners: SYN queue length */
	uint32_t accept_q;        /* listeners: accept queue length */
	uint32_t backlog;         /* listeners */
} hsk_conn_info;
typedef void (*hsk_conn_fn)(void *ctx, const hsk_conn_info *ci);
void hsk_stack_conns(hsk_stack *s, hsk_conn_fn fn, void *ctx);

/* Counters, named after `netstat -s` where Linux has one. */
size_t hsk_counter_count(void);
const char *hsk_counter_name(size_t i);
uint64_t hsk_counter_get(const hsk_stack *s, size_t i);
/* By name; UINT64_MAX when there is no such counter. */
uint64_t hsk_counter_by_name(const hsk_stack *s, const char *name);

/* Objects in use, for leak checks: TCBs, requests, TIME_WAIT entries,
 * sockets, buffer bytes; orphans (closed by the user, still alive) and
 * the buffer bytes they hold. */
typedef struct hsk_usage {
	size_t tcbs, requests, timewaits, sockets, listeners, buffer_bytes;
	size_t orphans, orphan_bytes;
} hsk_usage;
void hsk_stack_usage(const hsk_stack *s, hsk_usage *u);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
