/*
 * The TCP engine's internal types and the calls between its files.
 *
 * Three sizes of connection object share the 4-tuple table, each starting
 * with the same two members (table node, timer) so that a fired timer or a
 * table hit finds its owner by `node.kind`:
 *   struct tcb     a full connection (every state but LISTEN and TIME_WAIT,
 *                  and SYN_RECEIVED only after a simultaneous open)
 *   struct tcp_req a SYN-queue request: a passive SYN_RECEIVED
 *   struct tcp_tw  a TIME_WAIT entry
 * Listeners are a fourth, smaller kind kept in their own list.
 *
 * Call chain on input (arrive.c; the map of the input files: input.c):
 *   tcp_input | tcp_input6 -> parse -> lookup -> tcb_input | req_input | tw_input
 *                                 | listen_input | closed_input
 *             -> tcp_reply (reply.c) acts on the verdict they return
 * and on output (output.c): tcp_output(tcb) -> seg_send -> ip_output | ip6_output.
 *
 * Both families run the same code. An IPv6 object is the same struct from
 * a pool of its own whose slots have room for its two addresses after it
 * (core/table.h): node.v6 says so, obj_a6() finds them, and its key holds
 * folds of them. Wherever a tuple travels, an `a6` travels beside it: the
 * addresses of an IPv6 tuple, NULL for IPv4 (whose key is the tuple).
 */
#ifndef HSK_TCP_H
#define HSK_TCP_H

#include <assert.h>

#include "core/env.h"
#include "core/pool.h"
#include "core/ring.h"
#include "core/table.h"
#include "core/wheel.h"
#include "handshake.h"
#include "ip/ip.h"
#include "tcp/cc.h"
#include "tcp/rtt.h"
#include "tcp/sack.h"
#include "tcp/seq.h"
#include "tcp/tune.h"
#include "wire/wire.h"

struct tcp_stack;
struct tcp_listener;

/* A parsed incoming segment, passed down the input steps. */
typedef struct tcp_seg {
	const ipv4_hdr *ip;       /* NULL for IPv6 */
	uint8_t tos;              /* IPv4's TOS or IPv6's traffic class: the
				   * ECN bits are the same (RFC 3168 §5) */
	const tbl_v6addrs *a6;    /* IPv6: l = the destination, r = the source */
	tcp_hdr th;
	hsk_tuple tuple;          /* our view: laddr = ip->dst (IPv6: folds) */
	hsk_seq seq, ack;
	const uint8_t *data;
	uint32_t len;             /* payload bytes */
	/* Fused receive (tcp_input): `placed` bytes of the payload, verified,
	 * already copied into the receive ring past its data, at ring index
	 * placed_end (head + len) for RCV.NXT = placed_nxt; committed by
	 * data_in_order while the stack's placed_ring still names the ring. */
	uint32_t placed, placed_end;
	hsk_seq placed_nxt;
} tcp_seg;

/* Payloads of at least this many bytes are verified while copied into
 * the receive ring (tcp_input; those header prediction takes as the next
 * data in order from 128 bytes, hp_fused; seg_send sums every payload
 * while it gathers it, whatever its length). Below it one
 * pass of csum_partial over the whole segment costs fewer instructions
 * than a separate header sum plus the bookkeeping (docs/performance.md). */
#ifndef HSK_TCP_FUSE_MIN
#define HSK_TCP_FUSE_MIN 4096   /* -DHSK_TCP_FUSE_MIN=1: every segment (tests) */
#endif
enum { TCP_FUSE_MIN = HSK_TCP_FUSE_MIN };

/* Sequence space a segment occupies: payload plus one each for SYN, FIN. */
static inline uint32_t seg_space(const tcp_seg *sg)
{
	return sg->len + !!(sg->th.flags & HSK_TH_SYN) + !!(sg->th.flags & HSK_TH_FIN);
}

/*
 * What input decided about a segment. Every step of SEGMENT ARRIVES, and
 * the request, TIME_WAIT, listener and no-connection handlers, return one;
 * anything but TV_ACCEPT ends the processing of the segment, and
 * tcp_reply() (reply.c) acts on it: the one way a reply to an unacceptable
 * segment leaves, under one rate-limit policy (docs/engine.md).
 */
enum tcp_act {
	TV_ACCEPT = 0,  /* go on with the next step */
	TV_DONE,        /* processing ended: the step did what the segment
			 * asked (the object may be gone) */
	TV_DROP,        /* drop it, say nothing */
	TV_DUPACK,      /* drop it and send our ACK (RFC 9293 "send an
			 * acknowledgment and drop"): at most one per
			 * invalid_ratelimit for a segment without text */
	TV_PAWS,        /* the same for a PAWS failure (RFC 7323 §5.3 R1) */
	TV_SYNACK,      /* a request saw its SYN again: our SYN,ACK, rate
			 * limited as TV_DUPACK */
	TV_CHALLENGE,   /* drop it and send a challenge ACK (RFC 5961):
			 * challenge_ack_limit per challenge_ack_window */
	TV_RST,         /* drop it and reset: seq = SEG.ACK, or RST,ACK */
};
typedef struct tcp_verdict {
	enum tcp_act act;
	const char *why;          /* traced as the drop reason (NULL: none) */
} tcp_verdict;
#define TV(act, why) ((tcp_verdict){ (act), (why) })
#define TV_OK TV(TV_ACCEPT, NULL)

/* The reply limits of a full connection (reply.c): 32-bit millisecond
 * stamps (they wrap after 49 days: at worst one reply more or less), 0
 * meaning never. A request or TIME_WAIT entry keeps only oow_ms, which
 * limits its challenge ACKs too. */
typedef struct tcp_rl {
	uint32_t oow_ms;          /* the last rate-limited reply */
	uint32_t chal_ms;         /* start of the challenge-ACK window */
	uint32_t chal_n;          /* challenge ACKs sent in it */
} tcp_rl;

enum tcb_flag {
	TF_ACK_NOW = 1u << 0,      /* send an ACK at the end of processing */
	TF_FIN_QUEUED = 1u << 1,   /* the user shut down writing: FIN after data */
	TF_FIN_SENT = 1u << 2,     /* our FIN has a sequence number (snd_max - 1) */
	TF_RCVD_FIN = 1u << 3,     /* the peer's FIN was received (EOF) */
	TF_ORPHAN = 1u << 4,       /* the user closed it: nobody reads */
	TF_SHUT_RD = 1u << 5,
	TF_NODELAY = 1u << 6,
	TF_KEEPALIVE = 1u << 7,
	TF_LINGER0 = 1u << 8,
	TF_WSCALE = 1u << 9,       /* window scaling negotiated */
	TF_PASSIVE = 1u << 10,     /* came from a listener */
	TF_ON_ACCEPTQ = 1u << 11,
	TF_FIN_ACKED = 1u << 12,   /* our FIN is acknowledged */
	TF_SYN_RETRANS = 1u << 13, /* the SYN was retransmitted (Karn) */
	TF_RTT_TIMING = 1u << 14,  /* act->rtt_seq is being timed */
	TF_SACK_OK = 1u << 15,
	TF_TS_OK = 1u << 16,
	TF_DETACHED = 1u << 17,    /* out of the table, no timers: kept only so
				    * the user can read what arrived */
	TF_PERSIST = 1u << 18,     /* act->rtx_at is the persist timer */
	TF_SWS_OVERRIDE = 1u << 19, /* the persist timer fired on a small
				     * window: send what fits */
	TF_SND_WAIT = 1u << 20,    /* refused a send ring (tcp_mem_high):
				    * no POLLOUT until memory is back */
	/* apps (issue 8): quick ACKs, Fast Open, SO_REUSEADDR */
	TF_PINGPONG = 1u << 21,    /* interactive: delayed ACKs ride on data
				    * (Linux's pingpong mode; TCP_QUICKACK 0) */
	TF_TFO_CHILD = 1u << 22,   /* passive Fast Open: the SYN's cookie made
				    * this TCB before the handshake completed */
	TF_TFO_PENDING = 1u << 23, /* ... and it is still in SYN_RECEIVED,
				    * counted in its listener's tfo_pending */
	TF_TFO_SYN = 1u << 24,     /* active: our SYN carries a Fast Open
				    * option (a cookie or a request) */
	TF_TFO_DATA = 1u << 25,    /* ... and data (from the send ring) */
	TF_TFO_DEFER = 1u << 26,   /* TCP_FASTOPEN_CONNECT: the SYN waits for
				    * the first write */
	TF_REUSEADDR = 1u << 27,   /* SO_REUSEADDR when the port was bound */
	TF_TFO_ACKED = 1u << 28,   /* active: the SYN-ACK took our SYN's data */
	TF_ECN_HIGH = 1u << 29,    /* act->ecn_high is set (ecn.c); without
				    * it, the edge is ISS + 1, or ISS with: */
	TF_ECN_ISS = 1u << 31,
	TF_RCV_MOVED = 1u << 30,   /* RCV.NXT moved past the peer's SYN: data
				    * (or a FIN) came in order (quickack.c) */
};

/* tcb.ecn: RFC 3168 state of a connection (Linux's ecn_flags). */
enum tcb_ecn {
	ECN_OK = 1u << 0,          /* negotiated on the SYN */
	ECN_DEMAND_CWR = 1u << 1,  /* CE seen: ECE on our segments until CWR */
	ECN_QUEUE_CWR = 1u << 2,   /* we reduced: CWR on the next new data */
	ECN_EDGE_FAR = 1u << 3,    /* the once-per-window edge is far behind
				    * SND.UNA: every ECE is news (ecn.c) */
};

/* Segment records a connection starts with, inside its tcp_sack: a
 * request/response exchange never needs more (recovery.c doubles them
 * into malloc'ed storage for bulk transfers). */
enum { SACK_RECORDS_FIRST = 16 };

/* SACK state of a connection that negotiated SACK (recovery.c): the
 * blocks we report, the peer's blocks, and RACK-TLP over per-segment
 * records. Part of the active extension; in use (tcb_sack() not NULL)
 * from the first data sent or received out of order until quiescent. */
typedef struct tcp_sack {
	sack_rcv rcv;
	sack_board board;
	rack rk;
	rack_seg *seg;            /* record storage: NULL until the first send,
				   * then seg0 or, past it, malloc'ed (its
				   * capacity: rk.cap) */
	uint64_t reo_at;          /* RACK reordering timer; 0: not armed */
	uint64_t tlp_at;          /* tail loss probe timer; 0: not armed */
	rack_seg seg0[SACK_RECORDS_FIRST];
} tcp_sack;

/* What every segment of a connection shares in its headers, worked out
 * once (seg_tpl_fill, when its extension is made; the tuple never
 * changes): the ports' word as on the wire, the sum of the pseudo-header
 * without the length plus that word (as seg_put sums header words: host
 * order, not folded), for IPv4 the IP header's addresses as on the wire
 * and their sum (ip_output_pre), for IPv6 the flow label. */
typedef struct seg_tpl {
	uint64_t psum;
	union {
		uint64_t ip_sum;  /* IPv4 */
		uint32_t flow;    /* IPv6: the flow label (tcp_flow_label) */
	};
	uint32_t ports;
	uint8_t ip_addrs[8];      /* IPv4 only */
} seg_tpl;
/* The ports' word, lport << 16 | rport, read as one: the two are adjacent
 * in the tuple (a load and a rotation, not two loads, a shift and an or). */
_Static_assert(offsetof(hsk_tuple, rport) == offsetof(hsk_tuple, lport) + 2, "ports");
static inline uint32_t tuple_ports(const hsk_tuple *tu)
{
	uint32_t w;
	memcpy(&w, (const uint8_t *)tu + offsetof(hsk_tuple, lport), 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = w << 16 | w >> 16;  /* rport << 16 | lport as loaded */
#endif
	return w;
}

/* The flow label of an IPv6 connection (RFC 6437 §3): a keyed hash of its
 * addresses and ports (the stack's secret, not the table's or the ISNs'),
 * 20 bits, never 0 (unlabelled). The same for every packet of the
 * connection from this end, its SYN-ACK, TIME_WAIT's and a reset's too;
 * unguessable, so no one can aim a network's flow hashing. conn.c. */
uint32_t tcp_flow_label(const struct tcp_stack *s, const hsk_tuple *tu,
			const tbl_v6addrs *a6);

/* A flow's seg_tpl: what seg_put (output.c) would otherwise work out from
 * the tuple for every segment. By tcb_act_new, and in line in seg_send
 * (the requests, TIME_WAIT, resets) and for a TCB without an extension.
 * IPv6's flow label is left to the caller (tcp_flow_label: a call, which
 * IPv4's ways need not pay for in their frames). */
static inline __attribute__((always_inline)) void seg_tpl_fill(seg_tpl *tp, const hsk_tuple *tu,
							       const tbl_v6addrs *a6)
{
	uint32_t ports = tuple_ports(tu);
	wr32((uint8_t *)&tp->ports, ports);
	if (a6) {
		tp->psum = (uint64_t)csum_pseudo6(a6->l, a6->r, IP_PROTO_TCP, 0) + ports;
		tp->flow = 0;           /* the caller's to work out */
		memset(tp->ip_addrs, 0, sizeof(tp->ip_addrs));
		return;
	}
	/* The pseudo-header: IPv4's addresses added as the 32-bit words they
	 * are, as the header's (csum_pseudo's halves, without the splitting). */
	tp->psum = (uint64_t)tu->laddr + tu->raddr + IP_PROTO_TCP + ports;
	tp->ip_sum = ip_pre_sum(IP_PROTO_TCP, tu->laddr, tu->raddr);
	wr32(tp->ip_addrs, tu->laddr);
	wr32(tp->ip_addrs + 4, tu->raddr);
}

/*
 * A congestion event that may yet prove spurious (undo.c; RFC 3522,
 * RFC 3708, RFC 4015, RFC 9438 §4.9): written when the event begins,
 * read when its recovery ends or a D-SACK arrives; valid while
 * tcb_act.undo has UNDO_ON.
 */
typedef struct tcp_undo {
	cc_undo cc;               /* the congestion state before it */
	hsk_seq marker;           /* SND.UNA when it began (Linux's undo_marker) */
	hsk_seq high;             /* the end of its highest retransmission */
	uint32_t ts_low;          /* TSval the oldest data then in flight went
				   * with: an older echo is of nothing of it */
	uint32_t ts_rxt;          /* TSval of its first retransmission, with
				   * UNDO_TS (Linux's retrans_stamp) */
	uint32_t retrans;         /* retransmissions no D-SACK has reported
				   * needless (Linux's undo_retrans) */
	uint32_t frto_cwnd;       /* F-RTO: cwnd before step 2's new data,
				   * with UNDO_FRTO_NEW */
} tcp_undo;

enum tcp_undo_flag {
	UNDO_ON = 1u << 0,        /* an event's undo is possible */
	UNDO_RTO = 1u << 1,       /* the event had a timeout */
	UNDO_LOSS = 1u << 2,      /* in the timeout's recovery (Linux's Loss) */
	UNDO_TS = 1u << 3,        /* ts_rxt is set */
	UNDO_TOLD = 1u << 4,      /* the first ACK of the retransmission came
				   * (RFC 3522 asks it alone) */
	UNDO_FRTO = 1u << 5,      /* F-RTO's step 2 waits for the first ACK
				   * after the timeout (RFC 5682 §2.1) */
	UNDO_FRTO_NEW = 1u << 6,  /* step 3: two new segments went, the
				   * second ACK tells */
};

/*
 * The active extension of a TCB (active.c): everything a connection needs
 * only while it moves data, recovers a loss, waits on a timer other than
 * keepalive, or has rarely-used options set. Taken from a pool when first
 * needed (tcb_act_get) and given back once the connection is quiescent
 * again -- nothing in flight, buffered or held out of order, no timer but
 * keepalive, no option set, congestion control as cc_init left it but for
 * cwnd (kept in the TCB meanwhile) -- so that giving it back and taking a
 * new one changes nothing a peer or the user could see (docs/engine.md).
 */
typedef struct tcb_act {
	hsk_ring snd;             /* bytes from snd_una (allocated on first use) */
	hsk_ring rcv;             /* in-order bytes not yet read */
	/* deadlines; 0 = not armed (keepalive's is the TCB's keep_at) */
	uint64_t rtx_at;          /* retransmission or persist */
	uint64_t delack_at;
	uint64_t close_at;        /* FIN_WAIT_2 timeout of an orphan */
	uint64_t first_rtx_at;    /* when the current retransmission run began */
	uint64_t rtt_start;       /* when rtt_seq (or the SYN) was sent */
	uint64_t user_timeout_ns; /* HSK_SO_USER_TIMEOUT; 0: none */
	/* a passive Fast Open child in SYN_RECEIVED (TF_TFO_PENDING): its
	 * listener (NULL once that closed) and its place in the listener's
	 * list of them (tfo.c) */
	struct tcp_listener *listener;
	struct tcb *tfo_next, *tfo_prev;
	/* On the stack's list of extensions kept past quiescence (active.c):
	 * its neighbours there, and when it last went quiescent */
	struct tcb *idle_next, *idle_prev;
	uint64_t idle_at;
	bool idle_listed;
	uint8_t urg;              /* enum tcp_urg_flag (urgent.c): 0, snd_up
				   * and rcv_up unused */
	hsk_seq rtt_seq;          /* timed segment (without timestamps) */
	hsk_seq recover;          /* RFC 6582: snd_max when recovery began */
	hsk_seq snd_sml;          /* end of the last small segment (Nagle);
				   * at most SND.UNA (none) in a new one */
	hsk_seq ecn_high;         /* with TF_ECN_HIGH: SND.MAX at the last
				   * reduction for ECE, one per window (RFC
				   * 3168 §6.1.2), or SND.UNA when established
				   * if that was neither ISS nor ISS + 1 */
	hsk_seq irs;              /* a Fast Open child's IRS (tfo_child_syn) */
	uint32_t ts_flight;       /* our TSval when the data in flight began:
				   * an echo older than that is not of it */
	uint32_t keep_idle_s, keep_intvl_s; /* 0: the stack's */
	uint16_t user_mss;        /* TCP_MAXSEG; 0: none */
	uint8_t keep_cnt;         /* probes before giving up; 0: the stack's */
	uint8_t dupacks;          /* consecutive duplicate ACKs */
	uint8_t unacked_segs;     /* full segments received since our last ACK */
	uint8_t retries;          /* consecutive retransmissions of snd_una */
	uint8_t win_probes;       /* zero-window probes since the peer last
				   * answered (an orphan's: since it began) */
	bool sack_on;             /* `sack` is in use */
	bool ecn_cwr;             /* in ECN's CWR state: cwnd coming down to
				   * ssthresh by PRR until SND.UNA passes
				   * ecn_high (ecn.c) */
	bool tfo_newcookie;       /* a passive Fast Open child whose SYN's
				   * cookie was the backup key's: our SYN-ACK
				   * brings one of the primary */
	uint8_t undo;             /* enum tcp_undo_flag: 0, `und` unused */
	uint8_t tune;             /* enum tcp_tune_flag: 0, `tun` unused */
	cc_state cc;              /* congestion control */
	reass ooo;                /* out-of-order ranges */
	hsk_seq snd_up;           /* with URG_SND: RFC 9293's SND.UP, the
				   * octet after our urgent data */
	tcp_sack sack;
	tcp_undo und;             /* with `undo`; not zeroed in a new one */
	tcp_tune tun;             /* with `tune`; not zeroed either */
	seg_tpl tpl;              /* the TCB's, filled by tcb_act_new */
	hsk_seq rcv_up;           /* with URG_RCV: RCV.UP, the octet after
				   * the peer's urgent data */
	/* Pacing (pace.h): the two first zeroed in a new extension
	 * (act_init), pace_next valid with pace_cap */
	uint64_t pace_wait_at;    /* a paced segment waits until then (the
				   * timer); 0: none waits */
	uint32_t pace_cap;        /* HSK_SO_MAX_PACING_RATE: bytes/s, or
				   * PACE_UNCAPPED; 0: not paced */
	uint64_t pace_next;       /* the earliest departure of the next
				   * paced segment (Linux's tcp_wstamp_ns) */
} tcb_act;

/* The urgent mechanism's state in tcb_act.urg (urgent.c) */
enum tcp_urg_flag {
	URG_SND = 1u << 0,        /* snd_up is set: our segments before it
				   * carry URG (while SND.UNA is below it) */
	URG_RCV = 1u << 1,        /* rcv_up is set: urgent data not yet read
				   * while the read position is below it */
};

/*
 * A connection. This part is what an idle established connection needs:
 * DESIGN.md's 256 bytes per idle end with the socket slot and the table
 * (200 bytes on x86_64, asserted below). Times here are ns, or ms of the
 * stack's clock in 32 bits where only ms matter (they wrap after 49 days).
 * What is rarely set (TCP_MAXSEG, keepalive timings, TCP_USER_TIMEOUT) is
 * in the extension, which it then keeps.
 */
typedef struct tcb {
	tbl_node node;            /* key: the 4-tuple; kind HSK_OBJ_TCB */
	hsk_timer timer;          /* deadline = min of the deadlines */
	uint8_t state : 4;        /* enum hsk_tcp_state */
	uint8_t ecn : 4;          /* enum tcb_ecn (ecn.c) */
	uint8_t snd_wscale : 4;   /* shifts: at most 14 (RFC 7323 §2.3) */
	uint8_t rcv_wscale : 4;
	uint8_t err;              /* pending error (positive HSK_E*) */
	uint8_t keep_probes;      /* unanswered probes so far */
	uint32_t flags;           /* enum tcb_flag */
	int sd;                   /* socket descriptor, -1 when orphaned */
	uint16_t mss;             /* the peer's MSS, capped by ours */
	uint8_t tos;              /* IP_TOS: DSCP of our packets, ECN bits 0 */
	uint8_t quick : 5;        /* quick ACKs left, <= QACK_MAX (quickack.c) */
	uint8_t cc_id : 2;        /* its congestion control: cc_at(cc_id) */
	uint8_t syn_acked : 1;    /* SND.UNA has passed the ISS: set where it
				   * first does, never cleared (SND.UNA == ISS
				   * again after 2^32 - 1 data bytes) */

	/* RFC 9293 send and receive variables; our FIN, once sent
	 * (TF_FIN_SENT), is SND.MAX - 1 */
	hsk_seq iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	hsk_seq rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint32_t snd_wnd, max_snd_wnd;

	/* RFC 7323 timestamps */
	uint32_t ts_offset;       /* added to our clock in TSval */
	uint32_t ts_recent;       /* the peer's latest valid TSval */
	uint32_t ts_recent_ms;    /* when ts_recent was taken (PAWS aging) */

	uint32_t sndbuf, rcvbuf;
	uint32_t cwnd;            /* act->cc.cwnd while there is no act (the
				   * MSS it runs with is then max(mss, 64)) */
	tcp_rl rl;                /* reply limits (reply.c) */
	uint32_t lrcv_ms;         /* last data received, ms clock (quickack.c) */
	uint64_t keep_at;         /* keepalive deadline; 0 = not armed */
	rtt_est rtt;              /* RFC 6298 */
	tcb_act *act;             /* NULL while idle */
} tcb;

typedef struct tcp_req {
	tbl_node node;            /* kind HSK_OBJ_REQ */
	hsk_timer timer;          /* SYN-ACK retransmission: first armed for
				   * rto_initial after the SYN-ACK, which is
				   * how its send time is known (req_synack_at) */
	struct tcp_listener *listener;
	struct tcp_req *lnext, *lprev; /* the listener's SYN queue */
	hsk_seq iss, irs;
	uint16_t peer_wnd;        /* window field of the SYN (never scaled) */
	uint16_t rcv_wnd;         /* the window our SYN-ACK offers */
	uint16_t mss;
	int8_t snd_wscale;        /* the peer's shift, -1 when not offered */
	uint8_t rcv_wscale;
	uint8_t retries;
	bool acked;               /* final ACK seen but the accept queue was
				   * full, or TCP_DEFER_ACCEPT held it */
	bool sack_ok, ts_ok;      /* the SYN offered SACK / timestamps */
	bool ecn_ok;              /* the SYN asked for ECN and we agreed */
	bool tfo_cookie;          /* our SYN-ACK carries a Fast Open cookie */
	bool synack_again;        /* a SYN-ACK went again for a repeated SYN:
				   * no RTT sample (Karn; req_synack_at) */
	uint32_t ts_recent;       /* the SYN's TSval */
	uint32_t ts_offset;
	uint32_t oow_ms;          /* the last rate-limited reply (reply.c) */
} tcp_req;

typedef struct tcp_tw {
	tbl_node node;            /* kind HSK_OBJ_TW */
	hsk_timer timer;          /* 2MSL */
	hsk_seq snd_nxt, rcv_nxt;
	uint16_t rcv_win;         /* window field we send (already scaled) */
	bool ts_ok : 1;
	bool reuse : 1;           /* SO_REUSEADDR of its socket (bind()) */
	uint8_t tos;              /* IP_TOS of the connection (its DSCP) */
	uint32_t ts_offset, ts_recent;
	uint32_t oow_ms;          /* the last rate-limited reply (reply.c) */
} tcp_tw;

typedef struct tcp_listener {
	struct tcp_listener *next;
	uint32_t addr;            /* IPv4: 0 any */
	uint16_t port;
	uint8_t family;           /* HSK_AF_INET, or HSK_AF_INET6 ... */
	bool v6only;              /* ... taking IPv4 too unless this */
	uint8_t addr6[16];        /* IPv6: all zero any */
	int sd;
	uint32_t backlog;         /* accept queue limit */
	uint32_t syn_q, accept_q; /* current lengths */
	tcp_req *reqs;            /* the SYN queue's requests */
	tcb **aq;                 /* the accept queue: a ring of aq_cap, the
				   * oldest at aq_first (listener_queue) */
	uint32_t aq_cap, aq_first;
	/* options inherited by accepted connections */
	uint32_t flags, sndbuf, rcvbuf;
	uint8_t buf_locks;        /* enum buf_lock: SO_SNDBUF / SO_RCVBUF set */
	/* its socket's family, and its connections': HSK_AF_INET6 for an
	 * IPv4 listener of an IPv6 socket bound to a v4-mapped address */
	uint8_t sock_family;
	/* SYN cookies: when the last one was sent (Linux's last_overflow);
	 * ACKs reaching the listener are checked only for COOKIE_VALID_NS */
	bool cookies_sent;
	uint64_t last_cookie_ns;
	/* apps (issue 8) */
	bool reuseport;           /* SO_REUSEPORT: one of a group */
	uint8_t tos;              /* IP_TOS of its SYN-ACKs, inherited */
	uint8_t defer_retrans;    /* TCP_DEFER_ACCEPT, in SYN-ACK timeouts */
	uint16_t user_mss;        /* TCP_MAXSEG, inherited */
	uint32_t tfo_qlen;        /* TCP_FASTOPEN: pending Fast Open children
				   * allowed (0: off) */
	uint32_t tfo_pending;     /* children still in SYN_RECEIVED */
	struct tcb *tfo_kids;     /* ... listed through their act (tfo.c) */
	const cc_ops *cc;         /* TCP_CONGESTION, inherited (NULL: stack's) */
} tcp_listener;

_Static_assert(offsetof(tcb, timer) == offsetof(tcp_req, timer), "timer offset");
_Static_assert(offsetof(tcb, timer) == offsetof(tcp_tw, timer), "timer offset");
/* DESIGN.md's memory targets for the two objects a busy server has most of
 * (x86_64; pointers and alignment differ elsewhere). */
_Static_assert(sizeof(void *) != 8 || sizeof(tcp_req) <= 128, "tcp_req <= 128 B");
/* An idle established end is its TCB, its socket slot and its share of the
 * table: DESIGN.md's 256 bytes (docs/bench.md measures it). */
_Static_assert(sizeof(void *) != 8 || sizeof(tcb) <= 200, "tcb <= 200 B");
_Static_assert(CC_ALGOS <= 4, "tcb.cc_id has 2 bits");
_Static_assert(sizeof(void *) != 8 || sizeof(tcp_tw) <= 96, "tcp_tw <= 96 B");

/* Buffer locks (Linux's SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK): the
 * application set SO_SNDBUF / SO_RCVBUF, and autotuning (tune.c) leaves
 * that buffer as it was set. Sockets and listeners keep them as well,
 * for the connections they make. */
enum buf_lock {
	BUF_LOCK_SND = 1u << 0,
	BUF_LOCK_RCV = 1u << 1,
};
_Static_assert(BUF_LOCK_SND + BUF_LOCK_RCV < 4, "rtt_est.held has 2 bits");
static inline unsigned tcb_buf_locks(const tcb *t)
{
	return (unsigned)t->rtt.held;
}
static inline void tcb_set_buf_locks(tcb *t, unsigned locks)
{
	t->rtt.held = locks & 3u;
}

/* TCP Fast Open server keys (tfo.c), Linux's primary and backup
 * (tcp_fastopen_key): cookies are made with key[0] and accepted with
 * either. With rotation (hsk_config.tcp_fastopen_key_rotate_ns) both are
 * derived from master: key[0] for the current period, key[1] for the one
 * before. */
typedef struct tfo_keys {
	uint64_t master[2];
	uint64_t key[2][2];
	bool backup;              /* key[1] in use */
	uint64_t period;          /* rotation: the period key[] belong to */
} tfo_keys;

/* Free ring buffers of the default size kept for reuse. */
enum { TCP_RING_CACHE = 64 };

/* The TCP layer of a stack: every connection object, the listeners, the
 * buffers, and what it needs from the layers around it (the shared env,
 * the IP layer to send through, and a hook that tells the socket layer
 * above that a socket's readiness may have changed). */
typedef struct tcp_stack {
	hsk_env *env;
	ip_layer *ip;
	uint16_t mss;             /* ours: mtu - 40 */
	rtt_params rttp;          /* RTO bounds and the timestamp clock */
	const cc_ops *cc_ops;     /* congestion control for new connections */
	cc_state cc_fresh[CC_ALGOS]; /* cc_init's state of each algorithm
				      * (cc_init_like), by cc_index */
	hsk_table conns;          /* TCBs, requests, TIME_WAIT entries */
	hsk_sip_pre isn_p;        /* SipHash state after tcp_isn's key
				   * (sip_pre's) */
	hsk_sip_pre cookie_p;     /* and after the SYN cookie's (cookie.c's
				   * cookie_key_init) */
	/* tcp_isn's last addresses and the state after them (tcp_isn_init's
	 * first): a client opens to one server, a server hears from one
	 * client, again and again, and only the ports change. */
	uint64_t isn_m0;          /* IPv4: the first word (TUPLE_M0) */
	hsk_sip_pre isn_st;       /* and the state after it (sip_pre's) */
	tbl_v6addrs isn_a6;       /* IPv6: the four address words */
	hsk_sip_pre isn_st6;      /* and the state after them (sip_pre's) */
	hsk_pool tcb_pool, req_pool, tw_pool, lst_pool;
	hsk_pool act_pool;        /* tcb_act of connections moving data */
	/* IPv6 objects: slots of sizeof(obj) + sizeof(tbl_v6addrs); a kind's
	 * two pools share its limit (tcp_obj_get) */
	hsk_pool tcb_pool6, req_pool6, tw_pool6;
	uint16_t mss6;            /* ours over IPv6: mtu - 60 */
	tcp_listener *listeners;
	size_t buffer_bytes;      /* send and receive rings in use */
	size_t orphan_bytes;      /* of which orphans hold */
	unsigned orphans;         /* closed by the user, still in the table */
	bool mem_pressure;        /* tcp_mem: above pressure, not yet below low */
	uint64_t mem_pressure_at; /* when the pressure began */
	unsigned snd_waiters;     /* connections refused a send ring (a hint) */
	uint8_t *ring_cache[TCP_RING_CACHE];
	unsigned ring_cache_n;
	uint32_t ring_cache_cap;  /* the size cached: the default, rounded */
	void (*notify)(void *ctx, int sd);
	void *notify_ctx;
	/* The socket notify last told and found or put on its event queue,
	 * -1 when none: tcp_notify skips the call for it (most of a
	 * connection's notifications come while it is queued already).
	 * The socket layer keeps it true: -1 again when it drains the
	 * queue or frees a slot (stack.c, socket.c, stack.h). */
	int notified;
	/* apps (issue 8): TCP Fast Open cookies of servers (tfo.c),
	 * allocated with the first one */
	struct tfo_cache *tfo;
	/* The receive ring holding the payload of the segment being processed,
	 * placed but not committed (tcp_seg.placed); ring_release forgets it */
	const hsk_ring *placed_ring;
	tfo_keys tfo_keys;        /* our cookies' keys, as a server */
	/* Extensions of quiescent connections kept for a while (active.c),
	 * oldest first; act_eager gives each back at once instead (tests
	 * compare the two) */
	struct tcb *act_idle_head, *act_idle_tail;
	unsigned act_idle_n;
	bool act_eager;
	uint32_t pace_default;    /* a new extension's pace_cap (pacing_rate) */
	/* Tests only, each turning one short way off so that a test can
	 * run a workload both ways and compare the traces:
	 * no_fastpath: every segment takes the general steps of SEGMENT
	 * ARRIVES and every ACK the general loss recovery, never header
	 * prediction or the loss-free shortcuts, and each segment of a
	 * burst works out its own window field (tests/sim/test_fastpath.c);
	 * syn_fast_off: a cookie SYN never takes tcp_input4's own path
	 * (listen.c; tests/unit/test_syn_fast.c). act_eager above is the
	 * third (tests/sim/test_shortcuts.c). */
	bool no_fastpath;
	bool syn_fast_off;
	/* A new TCB is a copy of tcb_fresh, what tcb_new's long way makes of
	 * a zeroed slot before the tuple and ts_offset (built by tcp_init:
	 * the configuration and congestion control never change after);
	 * conn_long makes every TCB the long way, and a request's TCB and
	 * a TCB's TIME_WAIT entry leave and enter the table in two steps,
	 * not one tbl_replace (tests/unit/test_conn_fast.c and
	 * tests/sim/test_shortcuts.c compare the two), and sends every
	 * request's SYN-ACK by seg_send, not synack_fast (listen.c;
	 * tests/unit/test_syn_fast.c compares the bytes). */
	bool conn_long;
	tcb tcb_fresh;
	/* The last RFC 6056 offset pick_port computed and the tuple it is of
	 * (lport 0; IPv6: the addresses too): a client's connections to one
	 * server hash it once (socket.c; conn_long: every time) */
	hsk_tuple poff_key;
	tbl_v6addrs poff_a6;
	uint32_t poff;
	bool poff_valid, poff_v6;
} tcp_stack;

/* The addresses of an IPv6 object; NULL for an IPv4 one. */
static inline const tbl_v6addrs *obj_a6(const tcp_stack *s, const tbl_node *n)
{
	return n->v6 ? tbl_v6(&s->conns, n) : NULL;
}
/* Our MSS for a family (what a SYN offers and a peer's is capped by). */
static inline uint16_t tcp_our_mss(const tcp_stack *s, bool v6)
{
	return v6 ? s->mss6 : s->mss;
}

/* ---- tcp.c: the layer's life ---- */
/* A zeroed connection object of `kind` (TCB, request, TIME_WAIT entry)
 * for key `key` of the family a6 says: from the IPv6 pool, its addresses
 * copied after it, when a6 is not NULL. NULL when the kind's limit
 * (both families together) is reached or memory runs out. Kind, key and
 * v6 are set; the table is not touched. */
void *tcp_obj_get(struct tcp_stack *s, int kind, const hsk_tuple *key, const tbl_v6addrs *a6);
/* A kind's pool for a family. */
static inline hsk_pool *tcp_obj_pool(tcp_stack *s, int kind, bool v6)
{
	switch (kind) {
	case HSK_OBJ_TCB:
		return v6 ? &s->tcb_pool6 : &s->tcb_pool;
	case HSK_OBJ_REQ:
		return v6 ? &s->req_pool6 : &s->req_pool;
	default:
		return v6 ? &s->tw_pool6 : &s->tw_pool;
	}
}
/* Whether the kind's limit leaves room for one more: one limit for both
 * families (each pool's max is the kind's; SIZE_MAX: none). */
static inline bool tcp_obj_room(tcp_stack *s, int kind)
{
	hsk_pool *p4 = tcp_obj_pool(s, kind, false), *p6 = tcp_obj_pool(s, kind, true);
	return pool_in_use(p4) + pool_in_use(p6) < p4->max;
}
/* The same slot NOT zeroed and its node not set, only the addresses
 * copied after it (a6 not NULL): for a caller that writes every byte of
 * the object (tcb_new copies tcb_fresh, req_from_syn assigns the whole
 * request). In line: every caller names its kind, so the pools are
 * known where it is compiled. */
static inline void *tcp_obj_slot(tcp_stack *s, int kind, const tbl_v6addrs *a6)
{
	if (!tcp_obj_room(s, kind))
		return NULL;
	char *o = pool_get_raw(tcp_obj_pool(s, kind, a6 != NULL));
	if (o && a6)
		memcpy(o + s->conns.obj_size[kind], a6, sizeof(*a6));
	return o;
}
/* Back to its pool (it must be out of the table). */
static inline void tcp_obj_put(tcp_stack *s, tbl_node *n)
{
	pool_put(tcp_obj_pool(s, n->kind, n->v6), n);
}
/* 0, or a negative HSK_E* (unknown congestion control, no memory). */
int tcp_init(tcp_stack *s, hsk_env *env, ip_layer *ip);
/* Frees every connection object and buffer the layer still holds, except
 * TCBs that only a socket holds (the stack frees those with its sockets). */
void tcp_destroy(tcp_stack *s);
/* What the IP layer calls (ip_upper). */
void tcp_input(void *ctx, const ipv4_hdr *ip, const uint8_t *seg, size_t len);
/* ip_upper.input while SYNs are answered with cookies (listen.c): such a
 * SYN takes a path of its own (syn_cookie_fast), the rest tcp_input. */
void tcp_input4(void *ctx, const ipv4_hdr *ip, const uint8_t *seg, size_t len);
void tcp_input6(void *ctx, const ipv6_hdr *ip, const uint8_t *seg, size_t len);
void tcp_icmp_error(void *ctx, const ip_icmp_err *err);
/* A wheel timer of a TCP object is due. */
void tcp_timer_fire(tcp_stack *s, hsk_timer *tm, uint64_t now);
/* The memory a TCB owns beyond its pool slot: its active extension with
 * the rings and the records in it. */
void tcb_release_buffers(struct tcp_stack *s, tcb *t);
/* Socket sd's readiness may have changed: tell the socket layer. Always
 * in line (GCC called its second half out of line from tcp_input). The
 * hook is always there: hsk_stack_new, tcp_init's one caller, sets it
 * before any segment or call can come (no test of it at each call). No
 * call for the socket told last while it stays queued (s->notified):
 * the hook would find it queued and do nothing. */
static inline __attribute__((always_inline)) void tcp_notify(tcp_stack *s, int sd)
{
	if (sd >= 0 && sd != s->notified) {
		assert(s->notify);
		s->notify(s->notify_ctx, sd);
	}
}

/* ---- state.c ---- */
/* The one place a TCB changes state: checks the table of legal transitions,
 * emits the trace event. An illegal transition is an engine bug: it
 * asserts (debug builds), counts IllegalTransitions, leaves the state as it
 * was and returns false; the caller must then give up what it was doing
 * (drop the segment, skip the timer action). */
__attribute__((cold)) bool tcb_set_state_slow(struct tcp_stack *s, tcb *t, int to,
					   const char *cause);
/* The legal transitions: bit `to` of tcp_legal_next[from] (state.c). */
extern const uint16_t tcp_legal_next[16];
/* The common case's transition, untraced and legal: the state, and the
 * socket told. */
static inline bool tcb_state_to(struct tcp_stack *s, tcb *t, int to)
{
	t->state = (uint8_t)to;
	tcp_notify(s, t->sd);
	return true;
}
static inline bool tcb_set_state(struct tcp_stack *s, tcb *t, int to, const char *cause)
{
	/* The common case, inline (about nine per connection): untraced and
	 * legal (so not to the same state). */
	if (__builtin_expect(!s->env->cfg.trace && (unsigned)to < HSK_STATE_COUNT &&
			     ((tcp_legal_next[t->state] >> to) & 1), 1))
		return tcb_state_to(s, t, to);
	return tcb_set_state_slow(s, t, to, cause);
}
/* tcb_set_state for a transition its caller knows to be legal (it tested
 * the state it comes from; asserted here): without the table's test. */
static inline bool tcb_set_state_legal(struct tcp_stack *s, tcb *t, int to, const char *cause)
{
	assert((unsigned)to < HSK_STATE_COUNT && ((tcp_legal_next[t->state] >> to) & 1));
	if (__builtin_expect(!s->env->cfg.trace, 1))
		return tcb_state_to(s, t, to);
	return tcb_set_state_slow(s, t, to, cause);
}
/* The same for a caller that has told the socket in this event already
 * (tcp_notify): without telling it again. The socket stays queued until
 * the application reads the events, which it cannot do before the event
 * ends, so a second notification would find it queued. */
static inline bool tcb_set_state_told(struct tcp_stack *s, tcb *t, int to, const char *cause)
{
	assert((unsigned)to < HSK_STATE_COUNT && ((tcp_legal_next[t->state] >> to) & 1));
	if (__builtin_expect(!s->env->cfg.trace, 1)) {
		t->state = (uint8_t)to;
		return true;
	}
	return tcb_set_state_slow(s, t, to, cause);
}
/* Trace a transition of a request or TIME_WAIT entry (no TCB). */
void trace_obj_state(struct tcp_stack *s, int obj, const hsk_tuple *tu,
		     const tbl_v6addrs *a6, int from, int to, const char *cause);
bool tcp_transition_legal(int from, int to);
/* States in which the connection is synchronized (RFC 9293 §3.10.7.4).
 * These three are inline: asked on every segment with data and by the
 * socket calls, each is one test of a bit set. */
static inline bool state_synchronized(int st)
{
	return st == HSK_SYN_RECEIVED || st == HSK_ESTABLISHED || st == HSK_FIN_WAIT_1 ||
	       st == HSK_FIN_WAIT_2 || st == HSK_CLOSE_WAIT || st == HSK_CLOSING ||
	       st == HSK_LAST_ACK || st == HSK_TIME_WAIT;
}
/* States in which we may still send data. */
static inline bool state_can_send(int st)
{
	return st == HSK_ESTABLISHED || st == HSK_CLOSE_WAIT;
}
/* States in which the peer may still send data. */
static inline bool state_can_recv(int st)
{
	return st == HSK_ESTABLISHED || st == HSK_FIN_WAIT_1 || st == HSK_FIN_WAIT_2;
}

/* ---- output.c ---- */
enum { TCP_DEFAULT_MSS = 536 };
typedef struct seg_out {
	uint8_t flags;
	hsk_seq seq, ack;
	uint16_t win;
	const uint8_t *data;      /* or NULL: take len bytes from the send ring */
	uint32_t len;
	uint32_t ring_off;        /* with data == NULL: offset in tcb->snd */
	uint8_t tos;              /* IP TOS byte: DSCP, ECN field (ecn.c) */
	uint16_t up;              /* the urgent pointer, with HSK_TH_URG */
	tcp_opts opt;
} seg_out;
/* Emits one segment on tuple tu (our view; a6 its IPv6 addresses or
 * NULL). obj/sd label the trace. */
void seg_send(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6,
	      const seg_out *o, const hsk_ring *ring, int obj, int sd);
/* Sends whatever the state, windows and queues allow, then an ACK if one is
 * owed; arms the retransmission timer. */
void tcp_output(struct tcp_stack *s, tcb *t);
/* tcp_output for connect()'s SYN: a TCB just made in SYN_SENT, its
 * extension taken, nothing sent, no Fast Open SYN waiting. */
void output_syn(struct tcp_stack *s, tcb *t);
/* tcp_output for send()'s usual way: new bytes just written to the send
 * ring of a TCB in ESTABLISHED or CLOSE_WAIT, in the table, no FIN
 * queued, no Fast Open SYN waiting, not tcp_stack.no_fastpath. */
void output_data(struct tcp_stack *s, tcb *t);
/* tcp_output for close()'s usual way: the FIN just queued (FIN_WAIT_1 or
 * LAST_ACK), both rings empty, in the table, not tcp_stack.no_fastpath. */
void output_fin(struct tcp_stack *s, tcb *t);
/* A pure ACK from a TCB now (clears delayed-ACK state). */
/* Returns the window field it sent (tw_enter's, when nothing moved since). */
uint16_t tcb_send_ack(struct tcp_stack *s, tcb *t);
void tcb_send_rst(struct tcp_stack *s, tcb *t);
/* A window or keepalive probe: an ACK with SEG.SEQ = SND.UNA - 1. */
void tcb_send_probe(struct tcp_stack *s, tcb *t);
/* The reply to a segment for which no connection exists (RFC 9293
 * §3.10.7.1): RST with seq = SEG.ACK, or RST,ACK with ack = SEG.SEQ+LEN. */
void send_rst_for(struct tcp_stack *s, const tcp_seg *sg);
/* The window field to advertise, after scaling; updates rcv_adv. */
uint16_t tcb_window_field(struct tcp_stack *s, tcb *t);
/* tcb_window_field when the edge may move (mem.c, out of line). */
uint16_t window_field_space(struct tcp_stack *s, tcb *t, uint32_t promised, uint32_t step);
/* The window field when the edge stays: what was promised, scaled down,
 * so that it never reaches past rcv_adv, which stays too. */
static inline uint16_t promised_field(const tcb *t, uint32_t promised)
{
	uint32_t field = promised >> t->rcv_wscale;
	return field > 65535 ? 65535 : (uint16_t)field;
}
/* tcb_window_field's body: in line where it pays (output.c's short way;
 * in the send loop it costs bulk its registers), the call elsewhere. */
static inline __attribute__((always_inline)) uint16_t tcb_window_field_inl(struct tcp_stack *s,
									     tcb *t)
{
	/* Never shrink the window we offered (RFC 9293 §3.8.6.2.2): keep the
	 * right edge at least where it was. */
	uint32_t promised = seq_gt(t->rcv_adv, t->rcv_nxt) ?
		(uint32_t)seq_diff(t->rcv_adv, t->rcv_nxt) : 0;
	/* Receiver SWS avoidance (ibid.): move the right edge only by at
	 * least min(RCV.BUFF/2, MSS), never by crumbs. */
	uint32_t step = t->rcvbuf / 2 < t->mss ? t->rcvbuf / 2 : t->mss;
	/* The space is at most rcvbuf (tcb_rcv_room): with the edge less
	 * than a step short of that (most segments: a window offered in
	 * full, a few bytes since), it stays whatever the ring holds, and
	 * the space is not worked out: the field is what was promised
	 * (not 0: more than rcvbuf - step >= rcvbuf / 2), scaled down.
	 * (step <= rcvbuf / 2: no wrap.) */
	if (promised > t->rcvbuf - step)
		return promised_field(t, promised);
	return window_field_space(s, t, promised, step);
}
/* The options of a SYN or SYN-ACK we send (v6: over IPv6, its MSS), in
 * o zeroed by the caller (its seg_out's initializer, or seg_init). */
void syn_options(struct tcp_stack *s, tcp_opts *o, int8_t peer_wscale, uint8_t rcv_wscale,
		 bool synack, bool v6);
void syn_options_stream(struct tcp_stack *s, tcp_opts *o, bool sack, bool ts,
			uint32_t ts_offset, uint32_t ts_ecr);
/* Our window-scale shift for a receive buffer of rcvbuf bytes. */
uint8_t wscale_for(uint32_t rcvbuf);
/* Retransmit from snd_una after a timeout (go-back-N). */
void tcb_retransmit(struct tcp_stack *s, tcb *t);

/* Sends up to `max_len` bytes already sent once, starting at `seq`
 * (a retransmission: SND.NXT does not move). Returns the bytes sent. */
uint32_t tcb_resend(struct tcp_stack *s, tcb *t, hsk_seq seq, uint32_t max_len);

/* ---- recovery.c ---- */
/* Without SACK: NewReno (RFC 6582) on cumulative and duplicate ACKs. */
void rec_on_ack(struct tcp_stack *s, tcb *t, const tcp_opts *o, uint32_t acked,
		uint32_t flight_before);
void rec_on_dupack(struct tcp_stack *s, tcb *t);
/* With SACK: RFC 6675 scoreboard and RACK-TLP (RFC 8985), in the active
 * extension (which rec_sack_init takes when there is none). */
int rec_sack_init(struct tcp_stack *s, tcb *t);
/* The SACK state in use (sack_on) goes when nothing is in flight, held or
 * owed: no record, no D-SACK to report, no recovery. */
void rec_sack_free_idle(tcb *t);
/* rec_sent when the SACK state is in use and the segment has no data or
 * its records are not there or full. */
bool rec_sent_grow(struct tcp_stack *s, tcb *t, hsk_seq start, uint32_t len, bool fin);
/* The ACK field of a segment (after SND.UNA has moved, if it did). */
void rec_sack_ack(struct tcp_stack *s, tcb *t, const tcp_seg *sg, uint32_t acked,
		  uint32_t flight_before);
/* The path MTU shrank (ICMP fragmentation needed): resend the oldest. */
void rec_path_shrunk(struct tcp_stack *s, tcb *t);
/* rec_send_lost's walk: records are marked lost. */
bool rec_send_lost_walk(struct tcp_stack *s, tcb *t, tcp_sack *k);
/* The bytes in the network: RFC 6675's pipe with SACK, else SND.NXT -
 * SND.UNA. */
uint32_t rec_pipe(const tcb *t);
/* RTO with SACK: mark lost per RFC 8985 §6.3 instead of going back N. */
void rec_sack_rto(struct tcp_stack *s, tcb *t);
/* The reordering or probe timer is due. */
void rec_sack_timers(struct tcp_stack *s, tcb *t, uint64_t now);
/* Receiver: SACK blocks for an outgoing segment with room for `room`
 * option bytes. */
void rec_fill_blocks(tcb *t, tcp_opts *o, uint32_t room);

/* ---- undo.c: spurious-loss undo ---- */
/* A congestion event begins, before its reduction: fast recovery, or a
 * first timeout outside recovery (rto). Not for ECN's (the callers'). */
void undo_begin(struct tcp_stack *s, tcb *t, bool rto);
/* A timeout: a new event (undo_begin) when none runs, else the running
 * one has had a timeout too. Before cc_on_rto. */
void undo_on_rto(struct tcp_stack *s, tcb *t, bool first);
/* Data already sent went again (send_seg), with this TSval; only while
 * an event's undo is possible (t->act->undo: the caller's test). */
void undo_retransmitted(tcb *t, hsk_seq seq, uint32_t len, uint32_t tsval);
/* A partial ACK of fast recovery without SACK: true when its echo shows
 * the hole filled by the delayed original and nothing retransmitted is
 * still out; the recovery is over and undone (t->act->undo: the
 * caller's test). */
bool undo_partial(struct tcp_stack *s, tcb *t, const tcp_opts *o);
/* A D-SACK for [start, end) arrived (t->act->undo: the caller's test). */
void undo_dsack(struct tcp_stack *s, tcb *t, hsk_seq start, hsk_seq end);
/* An ACK with SACK blocks while the SACK state is not in use (nothing in
 * flight): its D-SACK, late after the recovery's end (t->act->undo: the
 * caller's test). */
void undo_dsack_idle(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* An ACK advanced SND.UNA during the event's recovery, after recovery's
 * own step; `ended`: fast recovery ended with it (t->act->undo: the
 * caller's test). */
void undo_ack(struct tcp_stack *s, tcb *t, const tcp_opts *o, bool ended);
/* F-RTO's step 2 (undo.c): the first ACK after the timeout advanced
 * SND.UNA (UNDO_FRTO: the caller's test; after the ACK's growth of
 * cwnd). */
void undo_frto_first_ack(tcb *t);
/* F-RTO with SACK: an ACK that advanced SND.UNA by `acked` (0: none),
 * after the ACK's growth and undo_ack (UNDO_FRTO or UNDO_FRTO_NEW: the
 * caller's test). */
void undo_frto_sack(struct tcp_stack *s, tcb *t, const tcp_opts *o, uint32_t acked);
/* F-RTO ends taking the loss as real: at a duplicate ACK, or an ECE
 * (UNDO_FRTO or UNDO_FRTO_NEW: the caller's test). After step 2's new
 * data, go-back-N from SND.UNA. */
void undo_frto_real(tcb *t);

/* ---- reply.c ---- */
/* Acts on what input decided about segment sg for connection object n (a
 * tcb, tcp_req or tcp_tw; NULL: none, e.g. a listener's reset): traces
 * v.why as the drop, applies the rate limits, sends the reply. TV_ACCEPT
 * and TV_DONE do nothing (n may be gone after TV_DONE). */
void tcp_reply(struct tcp_stack *s, tbl_node *n, const tcp_seg *sg, tcp_verdict v);
/* tcp_reply where the input's verdicts end (arrive.c, listen.c): most are
 * TV_ACCEPT or TV_DONE, which make no call. */
static inline void tcp_reply_owed(struct tcp_stack *s, tbl_node *n, const tcp_seg *sg,
				  tcp_verdict v)
{
	if (v.act != TV_ACCEPT && v.act != TV_DONE)
		tcp_reply(s, n, sg, v);
}

/* ---- input.c ---- */
/* Steps of SEGMENT ARRIVES for a TCB in a synchronized state, from the ACK
 * check on (used when a request is promoted by the final ACK). */
tcp_verdict tcb_input_after_syn(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* The same for the handshake's third ACK to a TCB just made from a request
 * or a SYN cookie (SEG.ACK = ISS + 1), with a short way for a pure ACK. */
tcp_verdict tcb_input_synrcvd_ack(struct tcp_stack *s, tcb *t, const tcp_seg *sg);

/* ---- conn.c: TCB life cycle ---- */
/* A new TCB for tu, in the table, with a random ts_offset (a connect's). */
tcb *tcb_new(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6);
/* What tcb_new makes of a zeroed TCB before its tuple and ts_offset:
 * tcp_stack's tcb_fresh (t zeroed by the caller). */
void tcb_fresh_init(struct tcp_stack *s, tcb *t);
/* Takes a TCB out of the table and stops its timers (TF_DETACHED); the
 * memory stays for the socket that still holds it. */
void tcb_detach(struct tcp_stack *s, tcb *t);
/* tcb_detach, then its successor (a TIME_WAIT entry with its key; or
 * NULL) in the table where it was: tbl_replace, one step instead of two;
 * then, as tcb_closed, the TCB freed when nobody holds it (no socket, not
 * on an accept queue). */
void tcb_end_to(struct tcp_stack *s, tcb *t, tbl_node *succ);
/* Unhooks and frees: table, timer, buffers. */
void tcb_free(struct tcp_stack *s, tcb *t);
/* Ends a connection with an error (reset, timeout): CLOSED, the socket sees
 * `err`; the TCB is freed if orphaned. */
void tcb_fail(struct tcp_stack *s, tcb *t, int err, const char *cause);
/* Moves a TCB to CLOSED and frees it when nobody holds it. */
void tcb_closed(struct tcp_stack *s, tcb *t, const char *cause);
/* tcb_closed for an orphan (no socket) in a state that may close (every
 * state but CLOSED: asserted), as LAST_ACK's last ACK ends it. */
void tcb_closed_orphan(struct tcp_stack *s, tcb *t, const char *cause);
/* RFC 6528 initial sequence number: SipHash-2-4 of the 4-tuple under the
 * stack's key with this label, tcp_stack.isn_p its state after the key. */
#define TCP_ISN_LABEL 0x69736eu         /* "isn" */
hsk_seq tcp_isn(struct tcp_stack *s, const hsk_tuple *tu, const tbl_v6addrs *a6);
/* tcp_isn's key state (isn_p) from the stack's key, and its address
 * states for the zero addresses (tcp_init's). */
void tcp_isn_init(struct tcp_stack *s);
/* Readiness may have changed: queue an event for the socket. */
static inline void tcb_notify(struct tcp_stack *s, tcb *t)
{
	tcp_notify(s, t->sd);
}

/* ---- mem.c: buffers and their memory (tcp_mem) ---- */
/* An orphan: closed by the user, still in the table. */
static inline bool tcb_counted_orphan(const tcb *t)
{
	return (t->flags & (TF_ORPHAN | TF_DETACHED)) == TF_ORPHAN;
}
/* close(): the user lets go; the TCB lives on as an orphan (counted in
 * the stack's orphans and orphan_bytes) until it leaves the table. In
 * line: a few stores, once per close. */
static inline void tcb_orphan(struct tcp_stack *s, tcb *t)
{
	t->sd = -1;
	if (t->flags & TF_ORPHAN)
		return;
	t->flags |= TF_ORPHAN;
	if (tcb_counted_orphan(t)) {
		s->orphans++;
		if (t->act)
			s->orphan_bytes += t->act->snd.cap + t->act->rcv.cap;
	}
}
/* tcb_orphan for a TCB its caller knows to be neither an orphan nor
 * detached, with its extension a: counted at once. */
static inline void tcb_orphan_counted(struct tcp_stack *s, tcb *t, const tcb_act *a)
{
	assert(!(t->flags & (TF_ORPHAN | TF_DETACHED)) && a == t->act && a);
	t->sd = -1;
	t->flags |= TF_ORPHAN;
	s->orphans++;
	s->orphan_bytes += a->snd.cap + a->rcv.cap;
}
/* The rings, allocated when first needed: 0, or -HSK_EAGAIN (send: over
 * tcp_mem_high; the socket is woken when memory is back) / -HSK_ENOBUFS
 * (receive: drop the data). tcb_alloc_snd: for a TCB without a send ring
 * (send_room's test); tcb_alloc_rcv answers 0 when the ring is there. */
int tcb_alloc_snd(struct tcp_stack *s, tcb *t);
int tcb_alloc_rcv(struct tcp_stack *s, tcb *t);
/* Resize the rings as memory pressure asks: the send ring trimmed to what
 * it holds under pressure; either grown back after it. tcb_fit_snd: for a
 * TCB that holds a send ring. */
void tcb_fit_snd(struct tcp_stack *s, tcb *t);
void tcb_fit_rcv(struct tcp_stack *s, tcb *t);
/* Gives back the send ring once everything is acknowledged and the receive
 * ring once everything is read (nothing held out of order).
 * tcb_release_idle_held: for a TCB that holds a ring or SACK state. */
void tcb_release_idle_held(struct tcp_stack *s, tcb *t);
/* The same for a TCB whose receive ring (held) the user just emptied. */
void tcb_release_rcv_emptied(struct tcp_stack *s, tcb *t);
static inline void tcb_release_idle_rings(struct tcp_stack *s, tcb *t)
{
	/* Usually nothing is left to give back by then (the rings went at
	 * the last data, the SACK state with them): no call. */
	const tcb_act *a = t->act;
	if (a && (a->snd.buf || a->rcv.buf || a->sack_on))
		tcb_release_idle_held(s, t);
}
/* tcb_release_idle_rings keeping nothing: also an empty ring larger than
 * the cache's, which the others keep while the extension is kept (mem.c;
 * active.c gives it back with the extension). */
void tcb_release_idle_all(struct tcp_stack *s, tcb *t);
/* Gives back both rings (the TCB is being freed). */
void tcb_release_rings(struct tcp_stack *s, tcb *t);
/* Bytes the receive ring can still store (its size or rcvbuf). */
uint32_t tcb_rcv_room(const tcb *t);
/* The receive window we can offer now (bytes, unscaled): the room, and
 * under memory pressure no more than rcvbuf_min. */
uint32_t tcb_rcv_space(const struct tcp_stack *s, const tcb *t);
/* Not even a minimum ring fits under tcp_mem_high. */
bool tcp_mem_exhausted(const struct tcp_stack *s);
/* The payload per segment a path MTU allows this connection (clamped as
 * the peer's MSS is, conn.h's tcp_clamp_mss; timestamp room taken off). */
uint16_t tcb_mss_for_mtu(const struct tcp_stack *s, const tcb *t, uint32_t mtu);
/* The TF_SACK_OK and TF_TS_OK a connection takes from sack_ok, ts_ok
 * offered (the configuration's say first). */
static inline uint32_t tcb_syn_opts(const struct tcp_stack *s, bool sack_ok, bool ts_ok)
{
	return (sack_ok && s->env->cfg.sack ? TF_SACK_OK : 0) |
	       (ts_ok && s->env->cfg.timestamps ? TF_TS_OK : 0);
}

/* ---- active.c: the active extension (tcb_act) ---- */
tcb_act *tcb_act_new(struct tcp_stack *s, tcb *t);
/* tcb_act_put_idle's way for an extension there that is not the newest
 * kept (active.c). */
void tcb_act_put(struct tcp_stack *s, tcb *t);
/* The extension the newest kept though it holds a ring: an empty one
 * larger than the cache's, kept with it (mem.c), not given back each time
 * it empties. Given back with it (its time on the list as any other's),
 * without popping the oldest (the next tcb_act_put does). */
void tcb_act_keep(struct tcp_stack *s, tcb *t);
/* tcb_act_put's way when the kept list is empty (a connection at a time,
 * the usual): t alone on it, with no neighbour to link nor the limit to
 * test. (In line: the small read's too.) */
static inline void tcb_act_put_alone(struct tcp_stack *s, tcb *t, tcb_act *a)
{
	assert(a == t->act && !s->act_eager && !s->act_idle_head);
	assert(!a->idle_listed && !s->act_idle_tail && !s->act_idle_n);
	a->idle_at = s->env->now;
	a->idle_next = a->idle_prev = NULL;
	s->act_idle_head = s->act_idle_tail = t;
	a->idle_listed = true;
	s->act_idle_n = 1;
}
/* The TCB's extension, taken from the pool when it has none; NULL only
 * when no memory is left for one (the caller gives up what needed it). */
static inline tcb_act *tcb_act_get(struct tcp_stack *s, tcb *t)
{
	return t->act ? t->act : tcb_act_new(s, t);
}
/* tcb_act_idle_settled for an extension a known to hold no ring. */
static inline __attribute__((always_inline)) bool tcb_act_idle_settled_ringless(
	struct tcp_stack *s, tcb *t, tcb_act *a)
{
	assert(a == t->act && !a->snd.buf && !a->rcv.buf);
	if ((a->rtx_at | a->delack_at | a->sack_on) != 0)
		return true;
	/* Already the newest kept (as after each segment of a request and
	 * its response): only its time moves, as tcb_act_put would do. */
	if (s->act_idle_tail != t)
		return false;
	a->idle_at = s->env->now;
	return true;
}
/* tcb_act_put_idle but for its call: false when tcb_act_put is left to
 * do (nothing done then). */
static inline __attribute__((always_inline)) bool tcb_act_idle_settled(struct tcp_stack *s,
									tcb *t)
{
	tcb_act *a = t->act;
	/* (the rings first, a transfer's usual exits; the other three or-ed,
	 * one branch) */
	if (!a || a->snd.buf || a->rcv.buf)
		return true;
	return tcb_act_idle_settled_ringless(s, t, a);
}
/* At the end of an event (a segment, a timer, a socket call): gives the
 * extension back if the connection is quiescent (active.c), after
 * ACT_KEEP_NS. The quick tests here fail for any connection still moving
 * data. */
static inline __attribute__((always_inline)) void tcb_act_put_idle(struct tcp_stack *s,
									 tcb *t)
{
	if (!tcb_act_idle_settled(s, t))
		tcb_act_put(s, t);
}
/* Frees it whatever it holds (the TCB is being freed). */
void tcb_act_free(struct tcp_stack *s, tcb *t);
/* Gives back the kept extensions that have been quiescent for
 * ACT_KEEP_NS by `now` (the stack's clock moved on). */
void tcb_act_reap(struct tcp_stack *s, uint64_t now);
/* tcb_cc_init's cwnd for a TCB without an extension: what one made now
 * would hold (cc_init_like's). In line: the passive child's (listen.c). */
static inline uint32_t tcb_cwnd_fresh(const struct tcp_stack *s, const tcb *t, uint32_t mss)
{
	const cc_state *fresh = &s->cc_fresh[t->cc_id];
	return fresh->ops->fixed ? fresh->cwnd :
				   cc_initial_window(mss < CC_MIN_MSS ? CC_MIN_MSS : mss);
}
/* Congestion control starts over for `mss` (cc_init): in the extension,
 * or in the TCB's cwnd when there is none. In line: at the client's
 * SYN,ACK (input.c) the extension is known there, and the call went. */
static inline void tcb_cc_init(struct tcp_stack *s, tcb *t, uint32_t mss)
{
	if (t->act) {
		cc_init_like(&t->act->cc, &s->cc_fresh[t->cc_id], mss);
		return;
	}
	t->cwnd = tcb_cwnd_fresh(s, t, mss);
}
static inline tcp_sack *tcb_sack(const tcb *t)
{
	return t->act && t->act->sack_on ? &t->act->sack : NULL;
}
/* Reads that need no extension: what an idle connection has. */
static inline uint32_t tcb_snd_len(const tcb *t) { return t->act ? ring_len(&t->act->snd) : 0; }
static inline uint32_t tcb_rcv_len(const tcb *t) { return t->act ? ring_len(&t->act->rcv) : 0; }
/* Nothing held out of order: no range, and no FIN beyond a hole either
 * (bytes at RCV.NXT must then go through the reassembly queue, which
 * brings the held FIN in when they reach it). */
static inline bool tcb_ooo_empty(const tcb *t)
{
	return !t->act || (reass_empty(&t->act->ooo) && !t->act->ooo.fin_known);
}
static inline uint32_t tcb_cwnd(const tcb *t) { return t->act ? t->act->cc.cwnd : t->cwnd; }
static inline uint32_t tcb_ssthresh(const tcb *t)
{
	return t->act ? t->act->cc.ssthresh : CC_CWND_MAX;
}
static inline bool tcb_in_recovery(const tcb *t) { return t->act && t->act->cc.in_recovery; }
static inline uint64_t tcb_rtx_at(const tcb *t) { return t->act ? t->act->rtx_at : 0; }
/* Our SYN is not acknowledged yet (not SND.UNA == ISS: true again after
 * 2^32 - 1 data bytes). */
static inline bool syn_outstanding(const tcb *t) { return !t->syn_acked; }
/* With the send ring empty in ESTABLISHED or CLOSE_WAIT: everything
 * written is sent and acknowledged, nothing is lost, no FIN queued or
 * sent, so tcp_output would find nothing due but an ACK (what its
 * stand-ins, output_quiet and established_fin_taken, assert). */
static inline bool tcb_all_acked(const tcb *t)
{
	return !syn_outstanding(t) && seq_eq(t->snd_una, t->snd_max) &&
	       seq_eq(t->snd_nxt, t->snd_max) &&
	       !(t->flags & (TF_DETACHED | TF_FIN_QUEUED | TF_FIN_SENT)) &&
	       !(tcb_sack(t) && tcb_sack(t)->rk.lost_bytes);
}
static inline uint64_t tcb_user_timeout(const tcb *t) { return t->act ? t->act->user_timeout_ns : 0; }
static inline uint16_t tcb_user_mss(const tcb *t) { return t->act ? t->act->user_mss : 0; }
static inline uint8_t tcb_retries(const tcb *t) { return t->act ? t->act->retries : 0; }
static inline uint8_t tcb_win_probes(const tcb *t) { return t->act ? t->act->win_probes : 0; }
static inline const cc_ops *tcb_cc_ops(const tcb *t) { return cc_at(t->cc_id); }

/* ---- timer.c ---- */
/* Keepalive parameters: the socket's, else the stack's. */
uint64_t keep_idle_ns(const struct tcp_stack *s, const tcb *t);
/* The earlier of two deadlines minus one, 0 ("not armed") counting as the
 * largest: deadlines are carried minus one, so that 0 becomes UINT64_MAX
 * and a plain minimum does it (cmov, no branches). */
static inline uint64_t timer_min_m1(uint64_t m, uint64_t b)
{
	b -= 1;
	return b < m ? b : m;
}
/* tcb_timer_set for a caller that knows more. sent: an ACK has just gone
 * (tcb_put cleared delack_at) or connect's SYN (nothing received), the
 * extension is there; fresh: the SACK
 * state has just begun too (sack_start: no reordering timer). */
static inline __attribute__((always_inline)) void tcb_timer_set_k(struct tcp_stack *s, tcb *t,
								   bool sent, bool fresh)
{
	uint64_t m = t->keep_at - 1;
	const tcb_act *a = t->act;
	assert(!sent || (a && !a->delack_at));
	assert(!fresh || (sent && a->sack_on && !a->sack.reo_at));
	if (sent && !a)
		__builtin_unreachable();
	if (a) {
		m = timer_min_m1(m, a->rtx_at);
		if (!sent)
			m = timer_min_m1(m, a->delack_at);
		m = timer_min_m1(m, a->close_at);
		m = timer_min_m1(m, a->pace_wait_at);
		if (fresh)
			m = timer_min_m1(m, a->sack.tlp_at);
		else if (a->sack_on)
			m = timer_min_m1(timer_min_m1(m, a->sack.reo_at), a->sack.tlp_at);
	}
	if (m == UINT64_MAX)
		wheel_cancel(&s->env->wheel, &t->timer);
	else if (!timer_armed(&t->timer) || t->timer.deadline != m + 1)
		wheel_arm(&s->env->wheel, &t->timer, m + 1);
}
/* Re-arms the TCB's wheel timer at the earliest of its deadlines, for a
 * TCB in the table (tcb_timer_update asks). */
static inline void tcb_timer_set(struct tcp_stack *s, tcb *t)
{
	tcb_timer_set_k(s, t, false, false);
}
/* tcb_timer_set unless the TCB is out of the table. Inline: it runs after
 * every event (each tcp_output, segment and socket call). */
static inline void tcb_timer_update(struct tcp_stack *s, tcb *t)
{
	if (!(t->flags & TF_DETACHED))
		tcb_timer_set(s, t);
}
void tcb_timer_fire(struct tcp_stack *s, tcb *t, uint64_t now);
void tcb_arm_rtx(struct tcp_stack *s, tcb *t, uint64_t now);
/* tcb_arm_rtx without the wheel: rtx_at (and first_rtx_at) for an RTO
 * from now, for a caller that ends with tcb_timer_update (tcp_output
 * does: the wheel is set once, to the earliest of all the deadlines). */
static inline void tcb_set_rtx(struct tcp_stack *s, tcb *t, uint64_t now)
{
	tcb_act *a = t->act;  /* something is in flight, or data waits */
	a->rtx_at = now + rtt_rto(&t->rtt, &s->rttp);
	if (!a->first_rtx_at)
		a->first_rtx_at = now;
}

/* ---- timewait.c ---- */
/* Turns a TCB entering TIME_WAIT into a compact entry; frees the TCB. win
 * is the entry's window field: that of the ACK just sent (tcb_send_ack's;
 * nothing it depends on moves between the two, and tcb_window_field asked
 * again answers the same), or tcb_window_field's when none was sent. */
void tw_enter(struct tcp_stack *s, tcb *t, const char *cause, uint16_t win);
/* tw_enter after the ACK of the peer's FIN (tcb_send_ack's window): a
 * caller that has nothing to do after it may end with its call. */
void tw_enter_acked(struct tcp_stack *s, tcb *t, const char *cause);
tcp_verdict tw_input(struct tcp_stack *s, tcp_tw *tw, const tcp_seg *sg);
void tw_send_ack(struct tcp_stack *s, tcp_tw *tw);
void tw_timer_fire(struct tcp_stack *s, tcp_tw *tw, uint64_t now);
/* Fires, in order, the TIME_WAIT entries whose 2MSL timers are the
 * wheel's next due (wheel_fifo_pop_due: the usual reaping), each as
 * wheel_pop_expired and tcp_timer_fire would, without their calls;
 * stops at the first timer they would take their general way for.
 * tw_reap_from: from tm, the first of them, taken. */
void tw_reap_from(struct tcp_stack *s, hsk_timer *tm, uint64_t now);
static inline void tw_reap_due(struct tcp_stack *s, uint64_t now)
{
	/* (the test in line: most calls find nothing due) */
	hsk_timer *tm = wheel_fifo_pop_due(&s->env->wheel, now);
	if (tm)
		tw_reap_from(s, tm, now);
}
void tw_free(struct tcp_stack *s, tcp_tw *tw);

/* ---- quickack.c: quick-ACK mode and pingpong, as Linux ---- */
enum { QACK_MAX = 16 };   /* Linux's TCP_MAX_QUICKACKS */
/* In-order data arrived (before RCV.NXT moves): the first data and data
 * after an idle RTO enter quick-ACK mode. */
void qack_on_data(struct tcp_stack *s, tcb *t);
/* Quick-ACK mode now: up to `max` ACKs at once (Linux's
 * tcp_enter_quickack_mode), leaving pingpong mode. */
void qack_enter(struct tcp_stack *s, tcb *t, unsigned max);
/* ACK this data at once (quick ACKs left and not interactive). */
static inline bool qack_now(const tcb *t)
{
	return t->quick && !(t->flags & TF_PINGPONG);
}
/* A segment carrying our ACK leaves; `owed`: an ACK was due. */
static inline void qack_sent(tcb *t, bool owed)
{
	if (owed && t->quick)
		t->quick--;
}
/* The millisecond clock of lrcv_ms; 0 is kept for "never". */
static inline uint32_t qack_ms_clock(const struct tcp_stack *s)
{
	uint32_t ms = s->env->now_ms;
	return ms ? ms : 1;
}
/* A reply now comes within the delayed-ACK time of the last data
 * received. */
static inline bool qack_reply_in_time(const struct tcp_stack *s, const tcb *t)
{
	return qack_ms_clock(s) - t->lrcv_ms < (uint32_t)(s->env->cfg.delack_ns / 1000000);
}
/* qack_data_sent's clock, out of line (the send loop's). */
void qack_data_sent_clock(struct tcp_stack *s, tcb *t);
/* New data leaves: a reply within the delayed-ACK time of the last data
 * received makes the connection interactive (pingpong). in_line: the
 * clock's test without the call (output_one's fresh segment, a
 * lifecycle's request and response; in the send loop the call: bulk's
 * registers). */
static inline __attribute__((always_inline)) void qack_data_sent(struct tcp_stack *s, tcb *t,
								  bool in_line)
{
	/* Already interactive (every reply of a bulk sender), or no data
	 * received yet: nothing to set, so no clock to read. */
	if (!t->lrcv_ms || (t->flags & TF_PINGPONG))
		return;
	if (!in_line)
		qack_data_sent_clock(s, t);
	else if (qack_reply_in_time(s, t))
		t->flags |= TF_PINGPONG;
}
/* The delayed-ACK timer fired: in pingpong mode a reply did not come in
 * time, so leave it (Linux's tcp_delack_timer_handler). */
static inline void qack_delack_missed(tcb *t)
{
	t->flags &= ~TF_PINGPONG;
}
/* TCP_QUICKACK: 1 leaves pingpong mode and sends an ACK owed; 0 enters it. */
void qack_set(struct tcp_stack *s, tcb *t, bool on);

/* ---- ecn.c: RFC 3168 and the TOS byte, as Linux ---- */
/* Our SYN (asks when hsk_config.ecn is 1) or SYN-ACK (answers). */
void ecn_syn_out(struct tcp_stack *s, tcb *t, seg_out *o);
/* A SYN-ACK (SYN_SENT) or a SYN (simultaneous open) confirms ECN or not. */
void ecn_rcv_synack(tcb *t, const tcp_seg *sg);
void ecn_rcv_syn(tcb *t, const tcp_seg *sg);
/* A passive open: does the SYN ask for ECN (ECE and CWR, RFC 3168 §6.1.1;
 * not on an ECN-capable packet, as Linux), and do we agree? In line: every
 * request asks (listen.c). */
static inline bool ecn_syn_ok(const struct tcp_stack *s, const tcp_seg *sg)
{
	return s->env->cfg.ecn >= 1 &&
	       (sg->th.flags & (HSK_TH_ECE | HSK_TH_CWR)) == (HSK_TH_ECE | HSK_TH_CWR) &&
	       (sg->tos & IP_ECN_MASK) == IP_ECN_NOT_ECT;
}
/* Any non-SYN segment of a TCB: the TOS byte (ECT(0) on new data), ECE,
 * CWR. */
void ecn_out(tcb *t, seg_out *o);
/* A data segment arrived: CWR ends our ECE, CE starts it. */
void ecn_rcv_data(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* An acceptable ACK, after loss recovery saw it: ECE reduces cwnd once
 * per window, from `cwnd` (what it was before this ACK). */
void ecn_rcv_ack(struct tcp_stack *s, tcb *t, const tcp_seg *sg, uint32_t flight,
		 uint32_t cwnd, uint32_t delivered);
/* An ACK that delivered `delivered` bytes, the pipe after it: in the CWR
 * state, PRR sets cwnd and true is returned (no growth); the state ends
 * once SND.UNA passes ecn_high (false: grow as usual). */
bool ecn_cwr_ack(struct tcp_stack *s, tcb *t, uint32_t delivered, uint32_t pipe);
/* A loss starts fast recovery: in the CWR state, it takes over the
 * reduction under way (true: the caller does not reduce again). */
bool ecn_cwr_to_recovery(tcb *t, bool sack);
/* The CWR state ends without completing (RTO, TCP_CONGESTION). */
static inline void ecn_cwr_abort(tcb *t)
{
	if (t->act)
		t->act->ecn_cwr = false;
}

/* Bytes written and not yet sent (TCP_NOTSENT_LOWAT). */
static inline uint32_t tcb_notsent(const tcb *t)
{
	hsk_seq end = seq_add(t->snd_una, (syn_outstanding(t) ? 1u : 0u) +
			      tcb_snd_len(t));
	return seq_gt(end, t->snd_max) ? (uint32_t)seq_diff(end, t->snd_max) : 0;
}
/* Data bytes the peer has acknowledged (modulo 2^32): SYN and FIN are not
 * data. */
static inline uint32_t tcb_data_acked(const tcb *t)
{
	uint32_t n = (uint32_t)seq_diff(t->snd_una, t->iss);
	/* (no test of n: 0 is 2^32 - 1 data bytes and an acknowledged SYN
	 * after the wrap; TF_FIN_ACKED implies syn_acked) */
	if (t->syn_acked)
		n--;
	if (t->flags & TF_FIN_ACKED)
		n--;
	return n;
}

/* ---- options.c: socket options that reach into the engine ---- */
/* TCP_CONGESTION on a connection: the algorithm changes, cwnd and
 * ssthresh stay (Linux's tcp_reinit_congestion_control). */
void tcb_set_cc(struct tcp_stack *s, tcb *t, const cc_ops *ops);
/* TCP_MAXSEG: the MSS option we send, capped by user_mss (0: none). */
static inline uint16_t mss_cap(uint16_t mss, uint16_t user_mss)
{
	return user_mss && user_mss < mss ? user_mss : mss;
}

/* ---- urgent.c: the urgent mechanism (RFC 9293 §3.8.5), in line ---- */
/* Urgent bytes left to read before the peer's urgent pointer; 0: none
 * pending (hsk_sock_urgent). */
uint32_t tcb_urgent_left(const tcb *t);
/* Whether a's urgent state still means something (act_quiescent): our
 * pointer ahead of SND.UNA, or urgent bytes left to read. */
bool tcb_urgent_live(const tcb *t, const tcb_act *a);
/* The sixth step of segment arrival for a segment with URG whose checks
 * passed: RCV.UP taken when it advances, the socket told. */
void urg_input(struct tcp_stack *s, tcb *t, const tcp_seg *sg);
/* After the application read: urgent mode ends once the read position
 * reaches RCV.UP. */
void urg_after_read(tcb *t);
/* send(MSG_OOB) once its bytes are queued (in the send ring): SND.UP
 * after them. */
void tcb_urgent_mark(tcb *t);
/* Urgent data not yet acknowledged: Nagle does not hold it back. */
static inline bool urg_sending(const tcb *t, const tcb_act *a)
{
	return a && (a->urg & URG_SND) && seq_gt(a->snd_up, t->snd_una);
}
/* Segment o of a TCB in urgent mode (a->urg has URG_SND): before SND.UP it
 * carries URG and the pointer SND.UP - SEG.SEQ, or 0xffff when that is
 * farther than the field reaches (as Linux). Urgent mode ends where
 * SND.UNA reaches SND.UP. */
static inline __attribute__((always_inline)) void urg_out(const tcb *t, tcb_act *a,
							  seg_out *o)
{
	if (!seq_gt(a->snd_up, t->snd_una)) {
		a->urg &= (uint8_t)~URG_SND;
		return;
	}
	if (seq_lt(o->seq, a->snd_up)) {
		uint32_t d = (uint32_t)seq_diff(a->snd_up, o->seq);
		o->flags |= HSK_TH_URG;
		o->up = (uint16_t)(d > 0xffff ? 0xffff : d);
	}
}

/* ---- trace helpers (state.c) ---- */
void trace_segment_ev(struct tcp_stack *s, int kind, int obj, int sd,
		      const hsk_tuple *tu, const tbl_v6addrs *a6, const tcp_hdr *th,
		      uint32_t len, const char *reason);
/* A segment event, when tracing: inline, so that an untraced stack does
 * not marshal nine arguments for a call that returns at once (~20
 * instructions per segment, twice per segment). */
static inline void trace_segment(struct tcp_stack *s, int kind, int obj, int sd,
				 const hsk_tuple *tu, const tbl_v6addrs *a6, const tcp_hdr *th,
				 uint32_t len, const char *reason)
{
	if (s->env->cfg.trace)
		trace_segment_ev(s, kind, obj, sd, tu, a6, th, len, reason);
}

#endif
