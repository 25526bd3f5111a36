/*
 * The urgent mechanism (RFC 9293 §3.8.5: MUST-30 to MUST-33 and MUST-62;
 * RFC 6093). A point in the stream, the urgent pointer, marks the end of
 * urgent data: it is the sequence number of the octet after that data
 * (MUST-62, the BSD reading, as Linux).
 *
 * Urgent data stays in line (RFC 6093 §6's advice; Linux's SO_OOBINLINE):
 * it is read in order with the rest, never taken out of the stream, so no
 * byte is lost or reordered whatever the peer's pointer says. What the
 * application gets is the knowledge:
 *   - HSK_POLLPRI while urgent data is left to read, and an event each
 *     time the peer's pointer advances (MUST-32);
 *   - hsk_sock_urgent: how many bytes are left before the pointer
 *     (MUST-33).
 * It sends urgent data with hsk_sendto's HSK_MSG_OOB: the pointer then
 * follows the bytes just queued (RFC 9293's SEND call, SND.UP), and every
 * segment before it carries URG until SND.UNA passes it.
 *
 * The state is in the active extension (tcb_act.urg, snd_up, rcv_up),
 * which act_quiescent keeps while the state means something. Urgent data
 * to send is in the send ring, which has one anyway; a peer's pointer
 * ahead of its data holds one on its own until the data comes and is
 * read, as a byte the peer sends beyond a hole holds one with its
 * reassembly (no new way for a peer to make a connection cost more).
 */
#include <assert.h>

#include "tcp/tcp.h"

/* The sequence number of the next byte the application reads: behind
 * RCV.NXT by what is queued, and by the peer's FIN once it came. */
static hsk_seq read_seq(const tcb *t)
{
	uint32_t behind = tcb_rcv_len(t) + ((t->flags & TF_RCVD_FIN) ? 1u : 0u);
	return seq_add(t->rcv_nxt, (uint32_t)-behind);
}

uint32_t tcb_urgent_left(const tcb *t)
{
	const tcb_act *a = t->act;
	if (!a || !(a->urg & URG_RCV))
		return 0;
	hsk_seq r = read_seq(t);
	if (!seq_gt(a->rcv_up, r))
		return 0;
	uint32_t left = (uint32_t)seq_diff(a->rcv_up, r);
	/* After the FIN nothing more comes: at most what is queued. */
	if ((t->flags & TF_RCVD_FIN) && left > tcb_rcv_len(t))
		left = tcb_rcv_len(t);
	return left;
}

bool tcb_urgent_live(const tcb *t, const tcb_act *a)
{
	return urg_sending(t, a) || ((a->urg & URG_RCV) && tcb_urgent_left(t));
}

void urg_input(tcp_stack *s, tcb *t, const tcp_seg *sg)
{
	/* RFC 9293 §3.10.7.4, sixth: in the states before the peer's FIN; in
	 * the others "this should not occur": ignored. */
	if (t->state != HSK_ESTABLISHED && t->state != HSK_FIN_WAIT_1 &&
	    t->state != HSK_FIN_WAIT_2)
		return;
	hsk_seq up = seq_add(sg->seq, sg->th.urp);
	/* Urgent data already read (or a pointer at the read position):
	 * nothing is pending. */
	if (!seq_gt(up, read_seq(t)))
		return;
	/* RCV.UP <- max(RCV.UP, SEG.UP): a pointer that does not advance a
	 * pending one tells nothing new. */
	tcb_act *a = t->act;
	if (a && tcb_urgent_left(t) && !seq_gt(up, a->rcv_up))
		return;
	if (!(a = tcb_act_get(s, t)))
		return;         /* no memory for the state: data stays in line */
	a->rcv_up = up;
	a->urg |= URG_RCV;
	tcb_notify(s, t);       /* HSK_POLLPRI (MUST-32) */
}

void urg_after_read(tcb *t)
{
	tcb_act *a = t->act;
	if (a && (a->urg & URG_RCV) && !tcb_urgent_left(t))
		a->urg &= (uint8_t)~URG_RCV;
}

void tcb_urgent_mark(tcb *t)
{
	tcb_act *a = t->act;
	assert(a && a->snd.buf);
	a->snd_up = seq_add(t->snd_una, (syn_outstanding(t) ? 1u : 0u) + tcb_snd_len(t));
	a->urg |= URG_SND;
}
