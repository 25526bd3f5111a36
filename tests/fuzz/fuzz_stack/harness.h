/*
 * fuzz_stack's harness, shared by its files: fuzz_stack.c (the two stacks,
 * the link, the checks after every step, the set-up and the end),
 * fuzz_stack/packets.c (building and rewriting packets: the link, segment,
 * icmp, echo and raw operations) and fuzz_stack/api.c (the socket
 * operations). fuzz_stack.c describes the input language and the
 * invariants.
 */
#ifndef HSK_FUZZ_STACK_HARNESS_H
#define HSK_FUZZ_STACK_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "peek.h"
#include "pkt.h"
#include "wire/wire.h"

#define ADDR_A 0xc6120002u      /* 198.18.0.2 */
#define ADDR_B 0xc6120001u      /* 198.18.0.1 */
#define ADDR_P 0xc6120003u      /* an attacker */
#define ADDR_R 0xc61200feu      /* a router that sends ICMP errors */
#define MS 1000000ull
#define SEC 1000000000ull

/* Linux's tcp_min_snd_mss: the least MSS a stack should use, whatever the
 * peer announced (CVE-2019-11479). */
enum { MIN_SND_MSS = 48 };
enum { MAX_SD = 64, MAX_REC = 128, MAX_TAINT = 64, MAX_OPS = 1500,
       MAX_LIVE = 64, BUF = 65536 + 256 };

enum allow_bits {
	AL_MTU = 1, AL_MSS = 2, AL_WINDOW = 4, AL_WNDUPDATE = 8, AL_PEEK = 16,
	AL_COUNTERS = 32, AL_STREAM = 64, AL_POOLS = 128,
	/* narrower: past one known fault, the rest still checked */
	AL_TINYMSS = 256,       /* MSS/MTU checks off where the peer offered an
				 * MSS below 64 or an ICMP error a path MTU
				 * below 576, and such connections left at
				 * the end (issue 12, fault 4) */
	AL_ZWLEAK = 512,        /* at the end, connections facing a zero window
				 * may be left (fault 2) */
	AL_RESEND = 1024,       /* a retransmission may carry bytes past
				 * SND.MAX (and the window) when it starts
				 * below: findings/new_* */
};
extern unsigned allow;
extern bool verbose;            /* HSK_FUZZ_VERBOSE: print what happens */

#define FAIL(...) do { \
	fprintf(stderr, "INVARIANT: "); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

static inline bool s_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool s_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool s_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* ---- reading the input ---- */

typedef struct rd {
	const uint8_t *p;
	size_t n;
} rd;

static inline uint8_t u8(rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}
static inline uint16_t u16(rd *r) { uint16_t v = u8(r); return (uint16_t)(v << 8 | u8(r)); }
static inline uint32_t u32(rd *r) { uint32_t v = u16(r); return v << 16 | u16(r); }
/* n bytes of input into out, zeros past the end. */
static inline void take(rd *r, uint8_t *out, size_t n)
{
	size_t k = n < r->n ? n : r->n;
	memcpy(out, r->p, k);
	memset(out + k, 0, n - k);
	r->p += k;
	r->n -= k;
}

/* ---- what the harness knows of each stack ---- */

/* One connection as seen on the wire, from the stack's side. */
typedef struct conn_rec {
	bool used;
	hsk_tuple tu;             /* the stack's view */
	bool have_iss, have_max, have_wnd, seen_syn;
	bool held;                /* the stack held an object on the tuple at a
				   * step's end since have_iss (forget_gone) */
	bool cookie_synack;       /* the last SYN-ACK left no object (a cookie) */
	bool mss_unknown;         /* a SYN came in garbage fragments */
	bool tiny_mss;            /* an MSS < 64 or a path MTU < 576 was offered */
	uint32_t iss;
	uint32_t snd_max;         /* highest sequence number sent, + 1 */
	uint32_t wnd;             /* window of the segment the stack took it
				   * from, computed from the wire bytes */
	uint16_t peer_mss;        /* largest MSS the peer's SYNs offered */
	unsigned incarnations;    /* ISSs seen on this tuple */
	bool touched;             /* sent something this step */
	bool sent_new;            /* new data this step, up to new_end */
	bool straddled;           /* a segment from old into new data */
	bool resent_past;         /* AL_RESEND let bytes up to resent_max by */
	uint32_t resent_max;
	uint32_t new_end;
} conn_rec;

/* What a delivered packet carries, for the window checks. */
typedef struct seginfo {
	bool valid;
	hsk_tuple tu;             /* the receiver's view */
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;
} seginfo;

typedef struct side {
	const char *name;
	hsk_stack *s;
	uint32_t addr;
	uint16_t mtu;
	int idx;
	conn_rec rec[MAX_REC];
	unsigned rec_next;
	conn_rec *touched[8];     /* records sent on in this step */
	unsigned ntouched;        /* > 8: scan them all */
	int sds[MAX_SD];
	unsigned nsd;
	uint64_t tx_off[MAX_SD], rx_off[MAX_SD];
	uint64_t n_tx, n_tcp, n_rst, n_icmp, n_in, n_trace_tx;
} side;

struct harness {
	side sd[2];
	pkt_queue q[2][2];        /* [from][to] */
	uint64_t now;
	bool cut;                 /* the link drops everything */
	bool taint_all;
	hsk_tuple taint[MAX_TAINT];
	unsigned ntaint;
};
extern struct harness H;

/* fuzz_stack.c */
side *other(side *x);
bool tuple_same(const hsk_tuple *a, const hsk_tuple *b);
void taint(const hsk_tuple *t);
bool tainted(const hsk_tuple *t);
uint8_t pattern(const hsk_tuple *t, uint64_t off);
conn_rec *rec_find(side *x, const hsk_tuple *tu, bool create);
void step_end(side *x, const seginfo *si, const peek_conn *before);
void parse_seginfo(const uint8_t *pkt, size_t len, seginfo *si);
void note_syn_tcp(side *x, uint32_t src, const uint8_t *seg, size_t len);
void deliver(side *x, const uint8_t *pkt, size_t len, const seginfo *si);
void deliver_head(int from, int to);

/* fuzz_stack/packets.c */
void op_segment(side *x, rd *r);
void op_icmp(side *x, rd *r);
void op_echo(side *x, rd *r);
void op_raw(side *x, rd *r);
void op_link(rd *r);

/* fuzz_stack/api.c */
void sd_add(side *x, int sd);
void op_socket(side *x, rd *r);

#endif
