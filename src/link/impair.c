/*
 * Impairment layer: loss, duplication, delay, reordering and ECN CE marks
 * on any device, in either or both directions, because the kernel here has
 * no netem. A CE mark goes only on an ECT packet (RFC 3168 §5: a router
 * marks what the ends said can take it), with the header checksum redone.
 *
 * Each direction has a queue of held packets sorted by due time. A packet
 * that is neither delayed nor reordered passes straight through; a
 * reordered one waits reorder_ns more than the others, so the ones behind
 * it overtake it. Received packets that come due are returned by read();
 * sent ones go out in advance(). Queues are bounded (queue_limit packets;
 * beyond it a packet is dropped and counted). Every decision comes from a
 * generator seeded by cfg.seed, so a given seed makes the same choices for
 * the same packet sequence.
 *
 * A stall (stall_ns) stops the path once: from the moment the
 * stall_after-th packet enters the layer (either direction), everything
 * that enters in the next stall_ns is held, and at its end let go in the
 * order it came (a handover, a link's own retransmissions). A sender's
 * timeout then fires while its originals wait, and its retransmission
 * arrives behind them: the spurious timeout F-RTO and Eifel tell.
 *
 * cross_fins makes a simultaneous close happen on demand, whatever the
 * timing of the two ends: the first TCP FIN to arrive (from either side)
 * is held at the layer's entrance, with everything behind it in that
 * direction, until the first FIN of the other direction arrives. Then
 * that FIN passes and the held packets are let go, the held FIN first:
 * each end has sent its FIN before it sees the other's, as if both had
 * crossed on the wire. Once per layer (one connection).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/dev.h"

struct held {
	struct held *prev, *next;
	uint64_t due;
	size_t len;
	uint8_t data[];
};

struct hq {
	struct held *head, *tail;   /* sorted by due, oldest first */
	unsigned n;
};

enum { DIR_TX, DIR_RX };

struct impair_dev {
	hsk_dev dev;
	impair_cfg cfg;
	impair_stats st;
	uint64_t rng;
	struct hq txq, rxq;
	/* cross_fins */
	struct hq gate[2];          /* held behind a FIN, per direction */
	bool fin_seen[2], crossed;
	/* stall */
	unsigned entered;           /* packets so far, until the stall */
	uint64_t stall_end;         /* 0: not begun */
	uint8_t cebuf[65536];       /* a sent packet being marked CE */
};

/* splitmix64: small, seeded, good enough for coin flips. */
static uint64_t imp_next(struct impair_dev *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int imp_chance(struct impair_dev *m, double p)
{
	if (p <= 0)
		return 0;
	return (double)(imp_next(m) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* Whether to mark this packet CE: an IPv4 packet whose ECN field says
 * ECT(0) or ECT(1), at the configured chance. */
static bool imp_ce_due(struct impair_dev *m, const uint8_t *p, size_t len)
{
	if (m->cfg.ce <= 0 || len < 20 || ((p[0] >> 4) != 4 && ((p[0] >> 4) != 6 || len < 40)))
		return false;
	/* IPv6: the low two bits of the traffic class (bits 2-3 of byte 1) */
	uint8_t ecn = (p[0] >> 4) == 6 ? (p[1] >> 4) & 3 : p[1] & 3;
	if (ecn != 1 && ecn != 2)
		return false;
	return imp_chance(m, m->cfg.ce);
}

/* Marks CE in place and redoes the IPv4 header checksum. */
static void imp_ce_mark(struct impair_dev *m, uint8_t *p, size_t len)
{
	size_t hl = (size_t)(p[0] & 15) * 4;
	uint32_t sum = 0;

	if ((p[0] >> 4) == 6) {
		p[1] |= 0x30;            /* no header checksum in IPv6 */
		m->st.ce_marked++;
		return;
	}
	p[1] |= 3;
	if (hl < 20 || hl > len)
		return;
	p[10] = p[11] = 0;
	for (size_t i = 0; i < hl; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	m->st.ce_marked++;
}

/* Inserts keeping due order; equal due times keep arrival order. */
static int hq_push(struct impair_dev *m, struct hq *q, uint64_t due,
		   const uint8_t *pkt, size_t len)
{
	struct held *h, *at;

	if (q->n >= m->cfg.queue_limit) {
		m->st.queue_drops++;
		return -ENOBUFS;
	}
	h = malloc(sizeof(*h) + len);
	if (!h) {
		m->st.queue_drops++;
		return -ENOMEM;
	}
	h->due = due;
	h->len = len;
	memcpy(h->data, pkt, len);
	for (at = q->tail; at && at->due > due; at = at->prev)
		;
	h->prev = at;
	h->next = at ? at->next : q->head;
	if (h->next)
		h->next->prev = h;
	else
		q->tail = h;
	if (at)
		at->next = h;
	else
		q->head = h;
	q->n++;
	return 0;
}

static struct held *hq_pop_due(struct hq *q, uint64_t now)
{
	struct held *h = q->head;

	if (!h || h->due > now)
		return NULL;
	q->head = h->next;
	if (q->head)
		q->head->prev = NULL;
	else
		q->tail = NULL;
	q->n--;
	return h;
}

static void hq_clear(struct hq *q)
{
	struct held *h;

	while ((h = hq_pop_due(q, UINT64_MAX)))
		free(h);
}

/*
 * Decides a packet's fate. Returns how many copies to deliver now (0..2)
 * and queues the ones that must wait.
 */
static int imp_decide(struct impair_dev *m, struct hq *q, uint64_t now,
		      const uint8_t *pkt, size_t len)
{
	int copies = 1, now_copies = 0;
	uint64_t from = now;        /* when the packet may start its way */

	if (m->cfg.stall_ns && !m->stall_end && ++m->entered >= m->cfg.stall_after)
		m->stall_end = now + m->cfg.stall_ns;
	if (now < m->stall_end) {
		from = m->stall_end;
		m->st.stalled++;
	}
	if (imp_chance(m, m->cfg.loss)) {
		m->st.lost++;
		return 0;
	}
	if (imp_chance(m, m->cfg.dup)) {
		m->st.duplicated++;
		copies = 2;
	}
	for (int i = 0; i < copies; i++) {
		uint64_t due = from + m->cfg.delay_ns;

		if (imp_chance(m, m->cfg.reorder)) {
			m->st.reordered++;
			due += m->cfg.reorder_ns;
		}
		if (due == now) {
			now_copies++;
			continue;
		}
		if (m->cfg.delay_ns)
			m->st.delayed++;
		hq_push(m, q, due, pkt, len);
	}
	return now_copies;
}

/* An IPv4 packet carrying a TCP segment with FIN (first fragments only),
 * or an IPv6 one with TCP right after the fixed header (what stacks send). */
static bool pkt_is_fin(const uint8_t *p, size_t len)
{
	size_t ihl;

	if (len >= 54 && p[0] >> 4 == 6)
		return p[6] == 6 && (p[40 + 13] & 0x01);
	if (len < 20 || p[0] >> 4 != 4 || p[9] != 6)
		return false;
	ihl = (size_t)(p[0] & 15) * 4;
	if ((((p[6] & 0x1f) << 8) | p[7]) != 0 || len < ihl + 14)
		return false;
	return p[ihl + 13] & 0x01;
}

enum gate_verdict { GATE_PASS, GATE_HELD, GATE_CROSSED };

/* cross_fins, for a packet entering the layer in direction dir. */
static enum gate_verdict gate_check(struct impair_dev *m, int dir, uint64_t now,
				    const uint8_t *pkt, size_t len)
{
	if (!m->cfg.cross_fins || m->crossed)
		return GATE_PASS;
	if (!m->fin_seen[dir] && pkt_is_fin(pkt, len)) {
		m->fin_seen[dir] = true;
		if (m->fin_seen[!dir]) {
			m->crossed = true;
			return GATE_CROSSED;
		}
		m->st.fins_held++;
	}
	if (!m->fin_seen[dir])
		return GATE_PASS;
	/* Queued in arrival order (hq_push keeps it for equal times); a
	 * full queue drops, as any other. */
	hq_push(m, &m->gate[dir], now, pkt, len);
	return GATE_HELD;
}

/* The FINs crossed: what the gate of dir held goes on its way now, through
 * the usual loss and delay. */
static void gate_release(struct impair_dev *m, int dir, uint64_t now)
{
	struct held *h;

	while ((h = hq_pop_due(&m->gate[dir], UINT64_MAX))) {
		if ((m->cfg.dirs & (dir == DIR_TX ? IMPAIR_TX : IMPAIR_RX)) &&
		    imp_ce_due(m, h->data, h->len))
			imp_ce_mark(m, h->data, h->len);
		if (dir == DIR_TX) {
			int copies = m->cfg.dirs & IMPAIR_TX ?
				imp_decide(m, &m->txq, now, h->data, h->len) : 1;
			for (int i = 0; i < copies; i++)
				dev_write(m->dev.lower, now, h->data, h->len);
		} else {
			int copies = m->cfg.dirs & IMPAIR_RX ?
				imp_decide(m, &m->rxq, now, h->data, h->len) : 1;
			for (int i = 0; i < copies; i++)
				hq_push(m, &m->rxq, now, h->data, h->len);
		}
		free(h);
	}
}

static long imp_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	struct impair_dev *m = (struct impair_dev *)d;
	struct held *h;
	long n;

	/* A bounded number of tries: every lower read consumes a packet. */
	for (int tries = 0; tries < 64; tries++) {
		h = hq_pop_due(&m->rxq, now);
		if (h) {
			n = h->len <= cap ? (long)h->len : 0;
			if (n)
				memcpy(buf, h->data, (size_t)n);
			free(h);
			if (!n)
				continue;
			d->st.rx_packets++;
			d->st.rx_bytes += (uint64_t)n;
			return n;
		}
		n = dev_read(d->lower, now, buf, cap);
		if (n <= 0)
			return n;
		switch (gate_check(m, DIR_RX, now, buf, (size_t)n)) {
		case GATE_HELD:
			continue;
		case GATE_CROSSED:
			/* our FIN leaves before the stack can answer theirs */
			gate_release(m, DIR_TX, now);
			break;
		case GATE_PASS:
			break;
		}
		if (!(m->cfg.dirs & IMPAIR_RX)) {
			d->st.rx_packets++;
			d->st.rx_bytes += (uint64_t)n;
			return n;
		}
		if (imp_ce_due(m, buf, (size_t)n))
			imp_ce_mark(m, buf, (size_t)n);
		switch (imp_decide(m, &m->rxq, now, buf, (size_t)n)) {
		case 0:
			continue;
		case 2:
			/* the second copy is due now: queue it for the next read */
			hq_push(m, &m->rxq, now, buf, (size_t)n);
			/* fall through */
		default:
			d->st.rx_packets++;
			d->st.rx_bytes += (uint64_t)n;
			return n;
		}
	}
	return 0;
}

static int imp_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct impair_dev *m = (struct impair_dev *)d;
	int copies = 1, rc = 0;

	enum gate_verdict g;

	d->st.tx_packets++;
	d->st.tx_bytes += len;
	g = gate_check(m, DIR_TX, now, pkt, len);
	if (g == GATE_HELD)
		return 0;
	if ((m->cfg.dirs & IMPAIR_TX) && len <= sizeof(m->cebuf) && imp_ce_due(m, pkt, len)) {
		memcpy(m->cebuf, pkt, len);
		imp_ce_mark(m, m->cebuf, len);
		pkt = m->cebuf;
	}
	if (m->cfg.dirs & IMPAIR_TX)
		copies = imp_decide(m, &m->txq, now, pkt, len);
	for (int i = 0; i < copies; i++)
		rc = dev_write(d->lower, now, pkt, len);
	if (g == GATE_CROSSED)
		gate_release(m, DIR_RX, now);   /* their FIN, after ours */
	return rc;
}

static void imp_advance(hsk_dev *d, uint64_t now)
{
	struct impair_dev *m = (struct impair_dev *)d;
	struct held *h;

	while ((h = hq_pop_due(&m->txq, now))) {
		dev_write(d->lower, now, h->data, h->len);
		free(h);
	}
}

static uint64_t imp_next_deadline(const hsk_dev *d)
{
	const struct impair_dev *m = (const struct impair_dev *)d;
	uint64_t t = UINT64_MAX;

	if (m->txq.head)
		t = m->txq.head->due;
	if (m->rxq.head && m->rxq.head->due < t)
		t = m->rxq.head->due;
	return t;
}

static void imp_close(hsk_dev *d)
{
	struct impair_dev *m = (struct impair_dev *)d;

	hq_clear(&m->txq);
	hq_clear(&m->rxq);
	hq_clear(&m->gate[DIR_TX]);
	hq_clear(&m->gate[DIR_RX]);
	dev_close(d->lower);
	free(m);
}

static const struct hsk_dev_ops impair_ops = {
	.read = imp_read,
	.write = imp_write,
	.next_deadline = imp_next_deadline,
	.advance = imp_advance,
	.close = imp_close,
};

hsk_dev *impair_open(hsk_dev *lower, const impair_cfg *cfg, char *err, size_t errlen)
{
	struct impair_dev *m;

	if (!lower || !cfg || cfg->loss < 0 || cfg->loss > 1 || cfg->dup < 0 ||
	    cfg->dup > 1 || cfg->reorder < 0 || cfg->reorder > 1 || cfg->ce < 0 || cfg->ce > 1) {
		dev_errf(err, errlen, "impairment probabilities must be within 0..1");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	if (!m->cfg.dirs)
		m->cfg.dirs = IMPAIR_TX | IMPAIR_RX;
	if (!m->cfg.reorder_ns)
		m->cfg.reorder_ns = 2000000;
	if (!m->cfg.queue_limit)
		m->cfg.queue_limit = 8192;
	m->rng = cfg->seed ^ 0x696d70616972ull;
	m->dev.ops = &impair_ops;
	m->dev.lower = lower;
	m->dev.fd = lower->fd;
	m->dev.mtu = lower->mtu;
	snprintf(m->dev.name, sizeof(m->dev.name), "impair(%.50s)", lower->name);
	return &m->dev;
}

int impair_get_stats(const hsk_dev *d, impair_stats *st)
{
	for (; d; d = d->lower) {
		if (d->ops == &impair_ops) {
			*st = ((const struct impair_dev *)d)->st;
			return 1;
		}
	}
	return 0;
}

unsigned impair_held(const hsk_dev *d)
{
	for (; d; d = d->lower) {
		if (d->ops == &impair_ops) {
			const struct impair_dev *m = (const struct impair_dev *)d;
			return m->txq.n + m->rxq.n + m->gate[DIR_TX].n + m->gate[DIR_RX].n;
		}
	}
	return 0;
}
