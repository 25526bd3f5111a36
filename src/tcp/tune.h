/*
 * Buffer autotuning (tune.c, docs/bytestream.md): the receive count's
 * state, which the active extension holds (tcb_act.tun), and what the
 * rest of the engine asks of autotuning. The rings follow the buffers
 * through mem.c (tcb_fit_rcv, tcb_fit_snd). Included by tcp.h, whose
 * tcb_act holds the state.
 */
#ifndef HSK_TCP_TUNE_H
#define HSK_TCP_TUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/seq.h"

struct tcp_stack;
struct tcp_seg;
struct tcb;
struct tcb_act;

/*
 * The receive count (Linux's tcp_rcv_space_adjust and
 * tcp_rcv_rtt_measure): once per receiver RTT, the bytes the application
 * consumed in it; the buffer follows them. Valid while tcb_act.tune has
 * TUNE_RCV; not zeroed in a new extension.
 */
typedef struct tcp_tune {
	uint64_t due;             /* the next count (ns; UINT64_MAX: never) */
	uint64_t count_at;        /* when the current count began */
	uint64_t rtt_at;          /* without timestamps: when the window
				   * measure began (rtt_seq its end) */
	hsk_seq count_seq;        /* bytes consumed up to here when it began
				   * (Linux's rcvq_space.seq) */
	hsk_seq rtt_seq;
	uint32_t space;           /* bytes consumed in the last count
				   * (Linux's rcvq_space.space) */
	uint32_t rtt_us;          /* the receiver's RTT estimate; 0: none */
	hsk_seq full_una;         /* SND.UNA when a writer last found the send
				   * ring full (with TUNE_SND_FULL) */
} tcp_tune;

enum tcp_tune_flag {
	TUNE_RCV = 1u << 0,       /* `tun`'s receive count is set */
	TUNE_SND_FULL = 1u << 1,  /* `tun.full_una` is set */
};

/* The largest receive buffer a connection may reach: rcvbuf, or with
 * autotuning (not locked) rcvbuf_max when larger. Our window scale comes
 * from it (tune.c). */
uint32_t tcp_rcvbuf_reach(const struct tcp_stack *s, uint32_t rcvbuf, unsigned locks);
/* Our window-scale shift for a connection with that buffer and locks. */
uint8_t tcp_rcv_wscale(const struct tcp_stack *s, uint32_t rcvbuf, unsigned locks);
/* Receive autotuning's work for a full-sized in-order segment (tune.c):
 * the receiver's RTT, and once per RTT the count of what the application
 * consumed, which the buffer follows. */
void tune_rcv_count(struct tcp_stack *s, struct tcb *t, struct tcb_act *a,
		    const struct tcp_seg *sg);
/* Send autotuning (tune.c): the application found the send ring full;
 * sndbuf follows twice the congestion window (Linux's
 * tcp_sndbuf_expand). tcb_fit_snd grows the ring to it. */
void tune_snd_full(struct tcp_stack *s, struct tcb *t);
/* A receive count still live (tune.c): the extension stays for it. */
bool tune_live(const struct tcp_stack *s, const struct tcb_act *a);

#endif
