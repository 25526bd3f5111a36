/*
 * The fuzz harness's one window into the stack's internals.
 *
 * Everything that knows struct tcb, the connection table or the pools is in
 * peek.c, so that when the internals move only that file changes. The rest
 * of the harness sees plain snapshots in host types, and a structural check
 * that abort()s with a message naming the broken invariant.
 */
#ifndef HSK_FUZZ_PEEK_H
#define HSK_FUZZ_PEEK_H

#include <stdbool.h>
#include <stdint.h>

#include "handshake.h"

/* One connection object as the harness needs it. */
typedef struct peek_conn {
	uint8_t obj;              /* HSK_OBJ_TCB / _REQ / _TW; 0xff: none */
	uint8_t state;            /* enum hsk_tcp_state */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2;
	uint8_t snd_wscale;       /* the peer's shift we apply (TCBs) */
	uint16_t mss;             /* effective send MSS (TCBs) */
	uint32_t rcv_nxt, rcv_wnd; /* rcv_wnd: what we advertised */
	uint32_t ts_recent;       /* the peer's latest TSval (0 when unknown) */
	bool ts_ok, sack_ok;
} peek_conn;

enum { PEEK_NONE = 0xff };

/* The object on tuple tu (this stack's view); false and obj = PEEK_NONE
 * when there is none. */
bool peek_conn_get(hsk_stack *s, const hsk_tuple *tu, peek_conn *out);

/* Walks every TCB, request, TIME_WAIT entry, listener and socket and
 * abort()s when one is inconsistent: SND.UNA <= SND.NXT <= SND.MAX, no
 * more in flight than was written, MSS in (0, ours], window shifts <= 14,
 * socket <-> TCB links, pool counts equal to the objects found, buffer
 * bytes equal to the rings held, SYN and accept queue lengths. `who` names
 * the stack in the message; `skip` turns PEEK_* checks off. */
enum { PEEK_NO_MSS = 1 };       /* skip the MSS range check */
void peek_check(hsk_stack *s, const char *who, unsigned skip);

/* The stack's own MSS (link MTU - 40). */
uint16_t peek_stack_mss(hsk_stack *s);

#endif
