/*
 * `handshake report`: trace events in, one HTML page out.
 *
 * The events (from JSON lines or a pcap) are kept in a compact model:
 * strings (hosts, endpoints, causes, reasons) interned once, each event a
 * fixed record. The page embeds them as one JSON object
 *
 *   {"v":1,"source":"json","inferred":false,"title":..,"notes":[..],
 *    "summary":{..}|null,"str":[..],"ev":[[kind,t_us,host,obj,sd,local,
 *    remote, ...kind-specific fields], ...]}
 *
 * (docs/report.md lists the fields), followed by the charting library and
 * the page's script, which builds every view in the browser. The writer
 * goes through a temporary file renamed into place: an error never leaves
 * half a page behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handshake.h"
#include "report.h"
#include "report_assets.h"

#ifndef HSK_VERSION_STRING
#define HSK_VERSION_STRING "0.1.0"
#endif

enum { MAX_NOTES = 16 };

struct report {
	const char *source;
	const char *name;       /* the input's file name, for the title */
	bool inferred;
	rep_ev *ev;
	size_t nev, cap;
	/* interned strings: an array and an open-addressing index into it */
	char **str;
	size_t nstr, strcap;
	int *slot;
	size_t nslot;
	char *summary;          /* JSON text, already escaped for HTML */
	char *notes[MAX_NOTES];
	int nnotes;
	size_t unknown;         /* lines of event kinds we do not draw */
};

report *report_new(const char *source)
{
	report *r = calloc(1, sizeof(*r));

	if (r)
		r->source = source;
	return r;
}

void report_free(report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nstr; i++)
		free(r->str[i]);
	for (i = 0; i < (size_t)r->nnotes; i++)
		free(r->notes[i]);
	free(r->str);
	free(r->slot);
	free(r->ev);
	free(r->summary);
	free(r);
}

void report_set_inferred(report *r, bool inferred)
{
	r->inferred = inferred;
}

void report_note(report *r, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (r->nnotes >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->notes[r->nnotes] = strdup(buf);
	if (r->notes[r->nnotes])
		r->nnotes++;
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int grow_index(report *r)
{
	size_t n = r->nslot ? r->nslot * 2 : 256, i;
	int *slot = malloc(n * sizeof(*slot));

	if (!slot)
		return -1;
	for (i = 0; i < n; i++)
		slot[i] = -1;
	for (i = 0; i < r->nstr; i++) {
		size_t k = str_hash(r->str[i]) & (n - 1);

		while (slot[k] >= 0)
			k = (k + 1) & (n - 1);
		slot[k] = (int)i;
	}
	free(r->slot);
	r->slot = slot;
	r->nslot = n;
	return 0;
}

int report_str(report *r, const char *s)
{
	size_t k;

	if (!s)
		return -1;
	if ((r->nstr + 1) * 2 > r->nslot && grow_index(r) < 0)
		return -1;
	k = str_hash(s) & (r->nslot - 1);
	while (r->slot[k] >= 0) {
		if (!strcmp(r->str[r->slot[k]], s))
			return r->slot[k];
		k = (k + 1) & (r->nslot - 1);
	}
	if (r->nstr == r->strcap) {
		size_t cap = r->strcap ? r->strcap * 2 : 64;
		char **ns = realloc(r->str, cap * sizeof(*ns));

		if (!ns)
			return -1;
		r->str = ns;
		r->strcap = cap;
	}
	r->str[r->nstr] = strdup(s);
	if (!r->str[r->nstr])
		return -1;
	r->slot[k] = (int)r->nstr;
	return (int)r->nstr++;
}

rep_ev *report_events(report *r)
{
	return r->ev;
}

size_t report_nev(const report *r)
{
	return r->nev;
}

size_t report_nstrings(const report *r)
{
	return r->nstr;
}

const char *report_string(const report *r, int i)
{
	return i >= 0 && (size_t)i < r->nstr ? r->str[i] : NULL;
}

int report_add(report *r, const rep_ev *ev)
{
	if (r->nev == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		rep_ev *ne = realloc(r->ev, cap * sizeof(*ne));

		if (!ne)
			return -1;
		r->ev = ne;
		r->cap = cap;
	}
	r->ev[r->nev++] = *ev;
	return 0;
}

/* ---- JSON lines ---- */

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};
static const char *const obj_names[] = { "tcb", "req", "tw", "listen", "none" };

static int name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* "SYN,ACK" -> bits; -1 for an unknown name. "none" is no flag. */
static int parse_flags(const char *s)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG",
					     "ECE", "CWR" };
	int bits = 0;

	if (!strcmp(s, "none"))
		return 0;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s), i;
		bool found = false;

		for (i = 0; i < 8; i++)
			if (strlen(names[i]) == n && !memcmp(names[i], s, n)) {
				bits |= 1 << i;
				found = true;
			}
		if (!found)
			return -1;
		s += n + (e ? 1 : 0);
	}
	return bits;
}

typedef struct line_ctx {
	report *r;
	const jval *o;
	char *err;
	size_t cap;
} line_ctx;

static int bad(line_ctx *c, const char *fmt, const char *key)
{
	snprintf(c->err, c->cap, fmt, key);
	return -1;
}

/* A non-negative integer member below 2^32 (or `max`). */
static int get_u32(line_ctx *c, const char *key, bool need, uint32_t *out)
{
	const jval *v = json_get(c->o, key);

	if (!v) {
		if (need)
			return bad(c, "a \"%s\" is missing", key);
		return 0;
	}
	if (v->type != J_NUM || v->num < 0 || v->num > 4294967295.0 || v->num != (double)(uint64_t)v->num)
		return bad(c, "\"%s\" is not an integer 0..2^32-1", key);
	*out = (uint32_t)v->num;
	return 1;
}

static int get_num(line_ctx *c, const char *key, bool need, double *out)
{
	const jval *v = json_get(c->o, key);

	if (!v) {
		if (need)
			return bad(c, "a \"%s\" is missing", key);
		return 0;
	}
	if (v->type != J_NUM || v->num < 0)
		return bad(c, "\"%s\" is not a non-negative number", key);
	*out = v->num;
	return 1;
}

static int get_str(line_ctx *c, const char *key, bool need, const char **out)
{
	const jval *v = json_get(c->o, key);

	if (!v) {
		if (need)
			return bad(c, "a \"%s\" is missing", key);
		return 0;
	}
	if (v->type != J_STR)
		return bad(c, "\"%s\" is not a string", key);
	*out = v->str;
	return 1;
}

static int get_bool(line_ctx *c, const jval *o, const char *key, bool *out)
{
	const jval *v = json_get(o, key);

	if (!v)
		return 0;
	if (v->type != J_TRUE && v->type != J_FALSE)
		return bad(c, "\"%s\" is not true or false", key);
	*out = v->type == J_TRUE;
	return 1;
}

static int read_options(line_ctx *c, rep_ev *ev)
{
	const jval *o = json_get(c->o, "options"), *v;
	line_ctx oc = *c;
	uint32_t u;
	size_t i;

	if (!o)
		return 0;
	if (o->type != J_OBJ)
		return bad(c, "\"%s\" is not an object", "options");
	oc.o = o;
	u = 0;
	if (get_u32(&oc, "mss", false, &u) < 0)
		return -1;
	ev->mss = (uint16_t)(u > 65535 ? 65535 : u);
	u = 0;
	if ((v = json_get(o, "wscale"))) {
		if (get_u32(&oc, "wscale", false, &u) < 0 || u > 127)
			return bad(c, "\"%s\" is not a window-scale shift", "wscale");
		ev->wscale = (int8_t)u;
	}
	if (get_bool(c, o, "sack_ok", &ev->sack_ok) < 0 || get_bool(c, o, "ts", &ev->has_ts) < 0)
		return -1;
	if (get_u32(&oc, "tsval", false, &ev->ts_val) < 0 ||
	    get_u32(&oc, "tsecr", false, &ev->ts_ecr) < 0)
		return -1;
	if ((v = json_get(o, "sack"))) {
		if (v->type != J_ARR || v->len > 4)
			return bad(c, "\"%s\" is not a list of up to 4 blocks", "sack");
		for (i = 0; i < v->len; i++) {
			const jval *b = &v->kids[i];

			if (b->type != J_ARR || b->len != 2 || b->kids[0].type != J_NUM ||
			    b->kids[1].type != J_NUM || b->kids[0].num < 0 ||
			    b->kids[1].num < 0 || b->kids[0].num > 4294967295.0 ||
			    b->kids[1].num > 4294967295.0)
				return bad(c, "\"%s\" has a bad block", "sack");
			ev->sack[i][0] = (uint32_t)b->kids[0].num;
			ev->sack[i][1] = (uint32_t)b->kids[1].num;
		}
		ev->nsack = (uint8_t)v->len;
	}
	return 0;
}

static int read_segment(line_ctx *c, rep_ev *ev)
{
	const char *flags, *reason = NULL;
	bool need = ev->kind != RK_DROP;
	int got;

	got = get_str(c, "flags", need, &flags);
	if (got < 0)
		return -1;
	if (got == 0) {
		ev->flags = -1;         /* a drop of a packet that did not parse */
	} else if ((ev->flags = parse_flags(flags)) < 0) {
		return bad(c, "unknown flags \"%s\"", flags);
	}
	if (got && (get_u32(c, "seq", true, &ev->seq) < 0 || get_u32(c, "ack", true, &ev->ack) < 0 ||
		    get_u32(c, "len", true, &ev->len) < 0 || get_u32(c, "win", true, &ev->win) < 0))
		return -1;
	if (read_options(c, ev) < 0)
		return -1;
	if (get_str(c, "reason", ev->kind == RK_DROP, &reason) < 0)
		return -1;
	ev->reason = report_str(c->r, reason);
	return 0;
}

static int read_cc(line_ctx *c, rep_ev *ev)
{
	uint32_t ss = 0;
	int got;

	if (get_u32(c, "cwnd", true, &ev->cwnd) < 0 || get_u32(c, "flight", true, &ev->flight) < 0 ||
	    get_u32(c, "snd_wnd", false, &ev->snd_wnd) < 0 ||
	    get_u32(c, "backoff", false, &ev->backoff) < 0 ||
	    get_num(c, "srtt_us", false, &ev->srtt_us) < 0 ||
	    get_num(c, "rto_us", false, &ev->rto_us) < 0 ||
	    get_bool(c, c->o, "recovery", &ev->recovery) < 0)
		return -1;
	got = get_u32(c, "ssthresh", false, &ss);
	if (got < 0)
		return -1;
	ev->ssthresh = got ? (int64_t)ss : -1;
	return 0;
}

/* Reads an endpoint "a.b.c.d:port" (any text is kept; only its type is
 * checked). */
static int read_endpoint(line_ctx *c, const char *key, int *out)
{
	const char *s = NULL;

	*out = -1;
	if (get_str(c, key, false, &s) < 0)
		return -1;
	if (s)
		*out = report_str(c->r, s);
	return 0;
}

/* One event object into ev. 1: an event; 0: skipped (summary or an unknown
 * kind); -1: bad (message in c->err). */
static int read_event(line_ctx *c, rep_ev *ev)
{
	static const char *const kinds[] = { "state", "tx", "rx", "drop", "cc", "queue" };
	const char *kind, *host, *obj = "none", *from, *to, *cause = NULL;
	double sd = -1;
	int k;

	if (c->o->type != J_OBJ)
		return bad(c, "not a JSON object%s", "");
	if (get_str(c, "ev", true, &kind) < 0)
		return -1;
	if (!strcmp(kind, "summary")) {
		char *text = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&text, &n);

		if (!f)
			return bad(c, "out of memory%s", "");
		json_write(f, c->o);
		fclose(f);
		free(c->r->summary);
		c->r->summary = text;
		return 0;
	}
	k = name_index(kinds, 6, kind);
	if (k < 0) {
		c->r->unknown++;
		return 0;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = (uint8_t)k;
	ev->wscale = -1;
	ev->ssthresh = -1;
	if (get_num(c, "t_us", true, &ev->t_us) < 0 || get_str(c, "host", true, &host) < 0 ||
	    get_str(c, "obj", false, &obj) < 0 || get_num(c, "sd", false, &sd) < 0)
		return -1;
	if (name_index(obj_names, 5, obj) < 0)
		return bad(c, "unknown obj \"%s\"", obj);
	ev->obj = (uint8_t)name_index(obj_names, 5, obj);
	ev->sd = sd >= 0 && sd < 1e9 ? (int)sd : -1;
	ev->host = report_str(c->r, host);
	if (read_endpoint(c, "local", &ev->local) < 0 || read_endpoint(c, "remote", &ev->remote) < 0)
		return -1;
	ev->cause = ev->reason = -1;
	switch (k) {
	case RK_STATE:
		if (get_str(c, "from", true, &from) < 0 || get_str(c, "to", true, &to) < 0 ||
		    get_str(c, "cause", false, &cause) < 0)
			return -1;
		if (name_index(state_names, 11, from) < 0)
			return bad(c, "unknown state \"%s\"", from);
		if (name_index(state_names, 11, to) < 0)
			return bad(c, "unknown state \"%s\"", to);
		ev->from = (uint8_t)name_index(state_names, 11, from);
		ev->to = (uint8_t)name_index(state_names, 11, to);
		ev->cause = report_str(c->r, cause);
		return 1;
	case RK_TX: case RK_RX: case RK_DROP:
		return read_segment(c, ev) < 0 ? -1 : 1;
	case RK_CC:
		return read_cc(c, ev) < 0 ? -1 : 1;
	default:
		if (get_u32(c, "syn_q", true, &ev->syn_q) < 0 ||
		    get_u32(c, "accept_q", true, &ev->accept_q) < 0 ||
		    get_u32(c, "backlog", false, &ev->backlog) < 0)
			return -1;
		return 1;
	}
}

int report_read_json(report *r, const char *buf, size_t len, char *err, size_t cap)
{
	jarena *a = jarena_new();
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;
	char msg[200];
	int rc = 0;

	if (!a) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;         /* a UTF-8 byte-order mark */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q;
		const char *le = nl ? nl : end;
		line_ctx c = { r, NULL, msg, sizeof(msg) };
		rep_ev ev;
		int got;

		lineno++;
		for (q = p; q < le && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q == le) {
			p = le + 1;
			continue;
		}
		jarena_reset(a);
		c.o = json_parse(a, p, (size_t)(le - p), msg, sizeof(msg));
		got = c.o ? read_event(&c, &ev) : -1;
		if (got < 0) {
			snprintf(err, cap, "line %zu: %s", lineno, msg);
			rc = -1;
			break;
		}
		if (got > 0 && report_add(r, &ev) < 0) {
			snprintf(err, cap, "out of memory at line %zu", lineno);
			rc = -1;
			break;
		}
		p = le + 1;
	}
	jarena_free(a);
	if (rc == 0 && r->unknown)
		report_note(r, "%zu line(s) of event kinds this report does not know were skipped",
			    r->unknown);
	return rc;
}

/* ---- the page ---- */

static void write_ev(FILE *f, const rep_ev *e)
{
	static const char sep[] = ",";
	size_t i;

	fprintf(f, "[%u,", e->kind);
	json_write_num(f, e->t_us);
	fprintf(f, ",%d,%u,%d,%d,%d", e->host, e->obj, e->sd, e->local, e->remote);
	switch (e->kind) {
	case RK_STATE:
		fprintf(f, ",%u,%u,%d]", e->from, e->to, e->cause);
		return;
	case RK_TX: case RK_RX: case RK_DROP:
		fprintf(f, ",%d,%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%d",
			e->flags, e->seq, e->ack, e->len, e->win, e->reason);
		if (!e->mss && e->wscale < 0 && !e->sack_ok && !e->has_ts && !e->nsack) {
			fputs(",0]", f);
			return;
		}
		fprintf(f, ",[%u,%d,%d,", e->mss, e->wscale, e->sack_ok);
		if (e->has_ts)
			fprintf(f, "%" PRIu32 ",%" PRIu32, e->ts_val, e->ts_ecr);
		else
			fputs("-1,-1", f);
		if (!e->nsack) {
			fputs(",0]]", f);
			return;
		}
		fputs(",[", f);
		for (i = 0; i < e->nsack; i++)
			fprintf(f, "%s[%" PRIu32 ",%" PRIu32 "]", i ? sep : "", e->sack[i][0],
				e->sack[i][1]);
		fputs("]]]", f);
		return;
	case RK_CC:
		fprintf(f, ",%" PRIu32 ",%" PRId64 ",%" PRIu32 ",%" PRIu32 ",", e->cwnd,
			e->ssthresh, e->flight, e->snd_wnd);
		json_write_num(f, e->srtt_us);
		fputc(',', f);
		json_write_num(f, e->rto_us);
		fprintf(f, ",%" PRIu32 ",%d]", e->backoff, e->recovery);
		return;
	default:
		fprintf(f, ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 "]", e->syn_q, e->accept_q,
			e->backlog);
		return;
	}
}

static int cmp_time(const void *a, const void *b)
{
	const rep_ev *x = a, *y = b;

	return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

/* Events in time order; a trace is nearly always in order already, so
 * check before sorting (qsort is not stable: events of one instant would
 * lose their order, so out-of-order input is sorted by a merge). */
static int sort_events(report *r)
{
	size_t i, w;
	rep_ev *tmp;

	for (i = 1; i < r->nev; i++)
		if (r->ev[i].t_us < r->ev[i - 1].t_us)
			break;
	if (i >= r->nev)
		return 0;
	tmp = malloc(r->nev * sizeof(*tmp));
	if (!tmp)
		return -1;
	for (w = 1; w < r->nev; w *= 2) {
		size_t lo;

		for (lo = 0; lo < r->nev; lo += 2 * w) {
			size_t mid = lo + w < r->nev ? lo + w : r->nev;
			size_t hi = lo + 2 * w < r->nev ? lo + 2 * w : r->nev;
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				tmp[o++] = cmp_time(&r->ev[b], &r->ev[a]) < 0 ? r->ev[b++] : r->ev[a++];
			while (a < mid)
				tmp[o++] = r->ev[a++];
			while (b < hi)
				tmp[o++] = r->ev[b++];
		}
		memcpy(r->ev, tmp, r->nev * sizeof(*tmp));
	}
	free(tmp);
	report_note(r, "the events were not in time order; they were sorted");
	return 0;
}

static void write_data(FILE *f, const report *r, const rep_model *m, const char *title)
{
	size_t i;

	fprintf(f, "{\"v\":1,\"source\":\"%s\",\"inferred\":%s,\"generator\":\"handshake %s\",\"title\":",
		r->source, r->inferred ? "true" : "false", HSK_VERSION_STRING);
	json_write_str(f, title, strlen(title));
	fputs(",\"notes\":[", f);
	for (i = 0; i < (size_t)r->nnotes; i++) {
		if (i)
			fputc(',', f);
		json_write_str(f, r->notes[i], strlen(r->notes[i]));
	}
	fprintf(f, "],\"summary\":%s,\"str\":[", r->summary ? r->summary : "null");
	for (i = 0; i < r->nstr; i++) {
		if (i)
			fputc(',', f);
		json_write_str(f, r->str[i], strlen(r->str[i]));
	}
	fputs("],\"ev\":[", f);
	for (i = 0; i < r->nev; i++) {
		if (i)
			fputs(",\n", f);
		write_ev(f, &r->ev[i]);
	}
	fputc(']', f);
	rep_model_write(f, m, r->nev);
	fputc('}', f);
}

static void write_text(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(s[i], f);
		}
	}
}

/* The page template with its @@NAME@@ markers replaced. */
static void write_page(FILE *f, const report *r, const rep_model *model, const char *title)
{
	const char *p = (const char *)report_page, *end = p + report_page_len;

	while (p < end) {
		const char *m = strstr(p, "@@"), *e;
		size_t n;

		if (!m || m >= end) {
			fwrite(p, 1, (size_t)(end - p), f);
			break;
		}
		fwrite(p, 1, (size_t)(m - p), f);
		e = strstr(m + 2, "@@");
		if (!e) {
			fwrite(m, 1, (size_t)(end - m), f);
			break;
		}
		n = (size_t)(e - m - 2);
#define IS(name) (n == sizeof(name) - 1 && !memcmp(m + 2, name, n))
		if (IS("TITLE"))
			write_text(f, title, strlen(title));
		else if (IS("DATA"))
			write_data(f, r, model, title);
		else if (IS("CSS"))
			fwrite(report_css, 1, report_css_len, f);
		else if (IS("JS"))
			fwrite(report_js, 1, report_js_len, f);
		else if (IS("UPLOT_CSS"))
			fwrite(uplot_css, 1, uplot_css_len, f);
		else if (IS("UPLOT_JS"))
			fwrite(uplot_js, 1, uplot_js_len, f);
		else if (IS("UPLOT_LICENSE"))
			write_text(f, (const char *)uplot_license, uplot_license_len);
		else if (IS("UPLOT_VERSION"))
			fputs(UPLOT_VERSION, f);
		else if (IS("VERSION"))
			fputs(HSK_VERSION_STRING, f);
		else
			fwrite(m, 1, n + 4, f);
#undef IS
		p = e + 2;
	}
}

static const char *default_title(const report *r)
{
	static char buf[128];
	const char *s = r->summary ? strstr(r->summary, "\"scenario\":\"") : NULL;

	if (s) {
		const char *e;

		s += 12;
		e = strchr(s, '"');
		if (e && e - s < 64) {
			snprintf(buf, sizeof(buf), "demo --scenario %.*s", (int)(e - s), s);
			return buf;
		}
	}
	if (r->name) {
		const char *b = strrchr(r->name, '/');

		snprintf(buf, sizeof(buf), "%s", b ? b + 1 : r->name);
		return buf;
	}
	return "trace";
}

int report_write(report *r, const char *path, const char *title, char *err, size_t cap)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	rep_model *m = NULL;
	FILE *f;
	int fd;

	if (!tmp || sort_events(r) < 0 || !(m = rep_model_build(r))) {
		free(tmp);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		goto fail;
	}
	write_page(f, r, m, title ? title : default_title(r));
	if (ferror(f) | (fclose(f) != 0) || rename(tmp, path) != 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	rep_model_free(m);
	return 0;
fail:
	free(tmp);
	rep_model_free(m);
	return -1;
}

/* ---- the pipeline and the command ---- */

static bool is_pcap(const uint8_t *b, size_t len)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a },     /* pcapng: refused by the reader */
	};
	size_t i;

	for (i = 0; len >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (!memcmp(b, magics[i], 4))
			return true;
	return false;
}

int report_from_buffer(const uint8_t *buf, size_t len, const char *out_path,
		       const char *title, const char *name, char *err, size_t cap)
{
	bool pcap = is_pcap(buf, len);
	report *r;
	int rc;

	if (len == 0) {
		snprintf(err, cap, "the input is empty: no trace to draw");
		return -1;
	}
	r = report_new(pcap ? "pcap" : "json");
	if (!r) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	r->name = name;
	if (!pcap && buf[0] != '{' && buf[0] != ' ' && buf[0] != '\n' && buf[0] != 0xef &&
	    buf[0] != '\t' && buf[0] != '\r') {
		snprintf(err, cap, "neither JSON lines (a trace from --format json or --trace "
			 "json) nor a pcap");
		report_free(r);
		return -1;
	}
	rc = pcap ? report_read_pcap(r, buf, len, err, cap)
		  : report_read_json(r, (const char *)buf, len, err, cap);
	if (rc == 0 && r->nev == 0) {
		snprintf(err, cap, "no trace events in the input (JSON lines need \"ev\": "
			 "state, tx, rx, drop, cc or queue)");
		rc = -1;
	}
	if (rc == 0)
		rc = report_write(r, out_path, title, err, cap);
	report_free(r);
	return rc;
}

int report_from_file(const char *in_path, const char *out_path, const char *title,
		     char *err, size_t cap)
{
	FILE *f = fopen(in_path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, bcap = 0;
	int rc;

	if (!f) {
		snprintf(err, cap, "%s: %s", in_path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len == bcap) {
			size_t nc = bcap ? bcap * 2 : 1 << 16;
			uint8_t *nb = realloc(buf, nc);

			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, cap, "%s: out of memory", in_path);
				return -1;
			}
			buf = nb;
			bcap = nc;
		}
		n = fread(buf + len, 1, bcap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, cap, "%s: %s", in_path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = report_from_buffer(buf, len, out_path, title, in_path, err, cap);
	free(buf);
	return rc;
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: handshake report TRACE -o OUT.html [--title TEXT]\n"
		"\n"
		"Draws a trace as one self-contained HTML page (no network needed to\n"
		"view it): the sequence diagram, the time-sequence graph, congestion\n"
		"window and RTT, each end's states, the listener's queues, counters\n"
		"and an index of connections.\n"
		"\n"
		"  TRACE          JSON lines (demo --format json, serve/connect --trace\n"
		"                 json --trace-file F) or a pcap (states then inferred)\n"
		"  -o, --output F the page to write\n"
		"  --title TEXT   the page's title\n"
		"  -h, --help     this help\n");
}

int report_main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *title = NULL;
	char err[512];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			report_usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--title")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "handshake report: %s needs a value\n"
					"Try 'handshake report --help'.\n", a);
				return 2;
			}
			if (!strcmp(a, "--title"))
				title = argv[++i];
			else
				out = argv[++i];
		} else if (!strncmp(a, "--output=", 9)) {
			out = a + 9;
		} else if (!strncmp(a, "--title=", 8)) {
			title = a + 8;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "handshake report: unknown option '%s'\n"
				"Try 'handshake report --help'.\n", a);
			return 2;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "handshake report: one trace at a time ('%s')\n", a);
			return 2;
		}
	}
	if (!in || !out) {
		fprintf(stderr, "handshake report: %s\nTry 'handshake report --help'.\n",
			!in ? "which trace? (handshake report TRACE -o OUT.html)"
			    : "-o OUT.html is required");
		return 2;
	}
	if (report_from_file(in, out, title, err, sizeof(err)) < 0) {
		fprintf(stderr, "handshake report: %s%s%s\n", strncmp(err, in, strlen(in)) ? in : "",
			strncmp(err, in, strlen(in)) ? ": " : "", err);
		return 1;
	}
	return 0;
}
