/*
 * The textbook sequence diagram:
 *
 *      t(ms)   client                                                   server
 *      0.000   CLOSED -> SYN_SENT (connect())
 *      0.000   ---- SYN seq=100 win=65535 <mss 1460> ------------------->
 *      1.000                                                            LISTEN -> SYN_RECEIVED (rcv SYN)
 *      1.000   <--- SYN,ACK seq=300 ack=101 win=65535 <mss 1460> -------
 *      2.000   ---- FIN,ACK seq=101 ack=301 -------X  lost: link loss
 *
 * An arrow is drawn on the line of its transmission. Whether it arrived is
 * only known later, so lines are held until they are resolved: a TX is
 * matched with the RX of the same segment on the other column (tuple
 * reversed, flags, seq, ack, len), or with a DROP. A DROP reported by the
 * sender's column (the network lost it) ends the arrow in an X two thirds
 * of the way; a DROP reported by the receiver ends it in an X at the
 * receiver. A segment
 * never reported as received by the end ends in "?" ("not received"). An RX
 * with no matching TX (a duplicate, an injected packet) is drawn at its
 * arrival. Lines are written in order once resolved and older than the
 * newest event, so a DROP that follows its RX at the same instant can still
 * turn the arrow into an X.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

enum { DG_TIME_W = 10, DG_GAP = 3, DG_WIDTH = 56 };
enum { LN_STATE, LN_ARROW, LN_NOTE, LN_TEXT };
enum { AR_PENDING, AR_ARRIVED, AR_LOST, AR_DROPPED, AR_UNSEEN };

typedef struct dline {
	uint64_t t;
	uint64_t settled;       /* when its fate became known */
	uint8_t kind, status, col;
	uint8_t unmatched;      /* an RX that matched no TX: 1 dup, 2 unknown */
	hsk_trace_event ev;     /* its strings are copied below, pointers cleared */
	char cause[48];
	char reason[64];        /* LN_TEXT: the text */
} dline;

struct trace_diagram {
	FILE *out;
	char name[2][32];
	bool ports;
	dline *lines;
	size_t head, len, cap;
	uint64_t latest;
};

trace_diagram *diagram_new(FILE *out, const char *left, const char *right)
{
	trace_diagram *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->out = out;
	snprintf(d->name[0], sizeof(d->name[0]), "%s", left ? left : "left");
	snprintf(d->name[1], sizeof(d->name[1]), "%s", right ? right : "right");
	fprintf(out, "%*s%*s%-*s%s\n", DG_TIME_W, "t(ms)", DG_GAP, "",
		DG_WIDTH + 1, d->name[0], d->name[1]);
	return d;
}

void diagram_show_ports(trace_diagram *d, bool on)
{
	if (d)
		d->ports = on;
}

/* ---- rendering ---- */

static size_t seg_label(const trace_diagram *d, const dline *l, char *buf, size_t cap)
{
	const hsk_trace_event *ev = &l->ev;
	char flags[48];
	size_t n = 0;

#define LBL(...) do { \
		int w_ = snprintf(buf + n, cap - n, __VA_ARGS__); \
		if (w_ > 0) \
			n = (size_t)w_ < cap - n ? n + (size_t)w_ : cap - 1; \
	} while (0)
	buf[0] = '\0';
	if (d->ports)
		LBL(":%u>:%u ", ev->tuple.lport, ev->tuple.rport);
	LBL("%s seq=%" PRIu32, trace_flags(ev->flags, flags, sizeof(flags)), ev->seq);
	if (ev->flags & HSK_TH_ACK)
		LBL(" ack=%" PRIu32, ev->ack);
	if (ev->len)
		LBL(" len=%" PRIu32, ev->len);
	if ((ev->flags & HSK_TH_SYN) || ev->win == 0)
		LBL(" win=%" PRIu32, ev->win);
	if (ev->mss || ev->wscale >= 0 || ev->sack_ok || ev->has_ts) {
		const char *sep = "";

		LBL(" <");
		if (ev->mss) {
			LBL("mss %u", ev->mss);
			sep = ",";
		}
		if (ev->sack_ok) {
			LBL("%ssackOK", sep);
			sep = ",";
		}
		if (ev->has_ts) {
			LBL("%sts", sep);
			sep = ",";
		}
		if (ev->wscale >= 0)
			LBL("%swscale %d", sep, ev->wscale);
		LBL(">");
	}
	if (l->unmatched)
		LBL(l->unmatched == 1 ? " (dup)" : " (unmatched)");
#undef LBL
	return n;
}

static void fill(char *buf, size_t from, size_t to, char c)
{
	size_t i;

	for (i = from; i < to; i++)
		buf[i] = c;
}

/* Draws an arrow into buf: the full width when it arrived (or is still in
 * flight), two thirds of it when the network lost it or it was never seen. */
static void render_arrow(const trace_diagram *d, const dline *l, char *buf, size_t cap)
{
	char label[160];
	size_t ll = seg_label(d, l, label, sizeof(label));
	size_t body = ll + 6;   /* "---- " label " " */
	size_t w = body + 4 > DG_WIDTH ? body + 4 : DG_WIDTH;
	bool partial = l->status == AR_LOST || l->status == AR_UNSEEN;
	size_t span = partial ? (body + 2 > 2 * w / 3 ? body + 2 : 2 * w / 3) : w;
	size_t start = l->col == 0 ? 0 : w - span, stop = start + span;
	char head = l->status == AR_UNSEEN ? '?' :
		    (l->status == AR_LOST || l->status == AR_DROPPED) ? 'X' :
		    l->col == 0 ? '>' : '<';

	if (stop + 1 > cap)
		return;
	fill(buf, 0, start, ' ');
	fill(buf, start, stop, '-');
	buf[start + 4] = ' ';
	memcpy(buf + start + 5, label, ll);
	buf[start + 5 + ll] = ' ';
	if (l->col == 0)
		buf[stop - 1] = head;
	else
		buf[start] = head;
	buf[stop] = '\0';
	if (l->status == AR_LOST)
		snprintf(buf + stop, cap - stop, "  lost: %s", l->reason);
	else if (l->status == AR_DROPPED)
		snprintf(buf + stop, cap - stop, "  dropped by %s: %s",
			 d->name[!l->col], l->reason);
	else if (l->status == AR_UNSEEN)
		snprintf(buf + stop, cap - stop, "  not received");
}

static void render(trace_diagram *d, const dline *l)
{
	char text[400];
	size_t indent = 0;

	text[0] = '\0';
	if (l->kind == LN_STATE) {
		int w = 0;

		if (d->ports && l->ev.tuple.lport)
			w = snprintf(text, sizeof(text), ":%u ", l->ev.tuple.lport);
		snprintf(text + w, sizeof(text) - (size_t)w, "%s -> %s%s%s%s",
			 hsk_state_name(l->ev.from), hsk_state_name(l->ev.to),
			 l->cause[0] ? " (" : "", l->cause, l->cause[0] ? ")" : "");
		indent = l->col ? DG_WIDTH + 1 : 0;
	} else if (l->kind == LN_NOTE) {
		char flags[48];

		snprintf(text, sizeof(text), "x drop %s seq=%" PRIu32 " ack=%" PRIu32
			 " len=%" PRIu32 ": %s",
			 trace_flags(l->ev.flags, flags, sizeof(flags)), l->ev.seq,
			 l->ev.ack, l->ev.len, l->reason);
		indent = l->col ? DG_WIDTH + 1 : 0;
	} else if (l->kind == LN_TEXT) {
		snprintf(text, sizeof(text), "%s", l->reason);
		indent = l->col ? DG_WIDTH + 1 : 0;
	} else {
		render_arrow(d, l, text, sizeof(text));
	}
	fprintf(d->out, "%*" PRIu64 ".%03" PRIu64 "%*s%*s%s\n", DG_TIME_W - 4,
		l->t / 1000000, (l->t / 1000) % 1000, DG_GAP, "", (int)indent, "", text);
}

/* ---- the line buffer ---- */

static dline *push_line(trace_diagram *d)
{
	dline *l;

	if (d->head > 0 && d->head + d->len == d->cap) {
		memmove(d->lines, d->lines + d->head, d->len * sizeof(*l));
		d->head = 0;
	}
	if (d->head + d->len == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		dline *nl = realloc(d->lines, cap * sizeof(*nl));

		if (!nl)
			return NULL;
		d->lines = nl;
		d->cap = cap;
	}
	l = &d->lines[d->head + d->len++];
	memset(l, 0, sizeof(*l));
	return l;
}

/* A new line at the end holding a copy of ev (its strings are copied into
 * the line by the caller). */
static dline *add_line(trace_diagram *d, uint8_t kind, int col,
		       const hsk_trace_event *ev)
{
	dline *l = push_line(d);

	if (!l)
		return NULL;
	l->t = ev->t_ns;
	l->settled = ev->t_ns;
	l->kind = kind;
	l->col = (uint8_t)col;
	l->ev = *ev;
	l->ev.cause = NULL;
	l->ev.reason = NULL;
	return l;
}

static void flush(trace_diagram *d, bool all)
{
	while (d->len > 0) {
		dline *l = &d->lines[d->head];

		if (!all && (l->settled >= d->latest ||
			     (l->kind == LN_ARROW && l->status == AR_PENDING)))
			break;
		if (l->kind == LN_ARROW && l->status == AR_PENDING)
			l->status = AR_UNSEEN;
		render(d, l);
		d->head++;
		d->len--;
	}
	if (d->len == 0)
		d->head = 0;
}

/* Same segment: b as seen from the other end when `reversed`. */
static bool seg_match(const hsk_trace_event *a, const hsk_trace_event *b, bool reversed)
{
	const hsk_tuple *x = &a->tuple, *y = &b->tuple;

	if (a->flags != b->flags || a->seq != b->seq || a->ack != b->ack ||
	    a->len != b->len)
		return false;
	if (reversed)
		return x->laddr == y->raddr && x->lport == y->rport &&
		       x->raddr == y->laddr && x->rport == y->lport;
	return x->laddr == y->laddr && x->lport == y->lport &&
	       x->raddr == y->raddr && x->rport == y->rport;
}

/* The oldest arrow from `col` in status st matching ev (newest if !oldest). */
static dline *find_arrow(trace_diagram *d, int col, uint8_t st,
			 const hsk_trace_event *ev, bool reversed, bool oldest)
{
	size_t i;

	for (i = 0; i < d->len; i++) {
		size_t k = oldest ? d->head + i : d->head + d->len - 1 - i;
		dline *l = &d->lines[k];

		if (l->kind == LN_ARROW && l->col == col && l->status == st &&
		    seg_match(&l->ev, ev, reversed))
			return l;
	}
	return NULL;
}

static void set_reason(dline *l, const char *r)
{
	snprintf(l->reason, sizeof(l->reason), "%s", r ? r : "?");
}

static void on_rx(trace_diagram *d, int col, const hsk_trace_event *ev)
{
	dline *l = find_arrow(d, !col, AR_PENDING, ev, true, true);
	bool dup;

	if (l) {
		l->status = AR_ARRIVED;
		l->settled = ev->t_ns;
		return;
	}
	/* nothing sent matches: draw it as arriving now from the other side */
	dup = find_arrow(d, !col, AR_ARRIVED, ev, true, false) != NULL;
	l = add_line(d, LN_ARROW, !col, ev);
	if (!l)
		return;
	l->status = AR_ARRIVED;
	l->unmatched = dup ? 1 : 2;
	/* tuple as the sender would see it, for later matching */
	l->ev.tuple.laddr = ev->tuple.raddr;
	l->ev.tuple.raddr = ev->tuple.laddr;
	l->ev.tuple.lport = ev->tuple.rport;
	l->ev.tuple.rport = ev->tuple.lport;
}

static void on_drop(trace_diagram *d, int col, const hsk_trace_event *ev)
{
	dline *l;

	/* lost by the network: reported on the sender's column */
	l = find_arrow(d, col, AR_PENDING, ev, false, true);
	if (l) {
		l->status = AR_LOST;
		l->settled = ev->t_ns;
		set_reason(l, ev->reason);
		return;
	}
	/* discarded by the receiver, maybe after it was counted as received */
	l = find_arrow(d, !col, AR_PENDING, ev, true, true);
	if (!l)
		l = find_arrow(d, !col, AR_ARRIVED, ev, true, false);
	if (l) {
		l->status = AR_DROPPED;
		l->settled = ev->t_ns;
		set_reason(l, ev->reason);
		return;
	}
	l = add_line(d, LN_NOTE, col, ev);
	if (!l)
		return;
	set_reason(l, ev->reason);
}

void diagram_event(trace_diagram *d, int column, const hsk_trace_event *ev)
{
	dline *l;
	int col = column ? 1 : 0;

	if (!d || !ev)
		return;
	if (ev->t_ns > d->latest)
		d->latest = ev->t_ns;
	switch (ev->kind) {
	case HSK_EV_STATE:
		l = add_line(d, LN_STATE, col, ev);
		if (!l)
			break;
		snprintf(l->cause, sizeof(l->cause), "%s", ev->cause ? ev->cause : "");
		break;
	case HSK_EV_TX:
		l = add_line(d, LN_ARROW, col, ev);
		if (l)
			l->status = AR_PENDING;
		break;
	case HSK_EV_RX:
		on_rx(d, col, ev);
		break;
	case HSK_EV_DROP:
		on_drop(d, col, ev);
		break;
	default:
		break;
	}
	flush(d, false);
}

void diagram_note(trace_diagram *d, int column, uint64_t t_ns, const char *text)
{
	hsk_trace_event ev = { .t_ns = t_ns, .sd = -1, .wscale = -1 };
	dline *l;

	if (!d)
		return;
	if (t_ns > d->latest)
		d->latest = t_ns;
	l = add_line(d, LN_TEXT, column ? 1 : 0, &ev);
	if (l)
		set_reason(l, text);
	flush(d, false);
}

void diagram_finish(trace_diagram *d)
{
	if (!d)
		return;
	flush(d, true);
	fflush(d->out);
	free(d->lines);
	free(d);
}
