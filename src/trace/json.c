/*
 * Trace events as JSON lines (one object per event, keys in a fixed order so
 * the output can be compared byte for byte):
 *
 *   {"t_us":1000,"host":"client","ev":"state","obj":"tcb","sd":3,
 *    "local":"198.18.0.1:49152","remote":"198.18.0.2:80",
 *    "from":"CLOSED","to":"SYN_SENT","cause":"connect()"}
 *   {"t_us":1000,"host":"client","ev":"tx","obj":"tcb","sd":3,"local":...,
 *    "remote":...,"flags":"SYN","seq":100,"ack":0,"len":0,"win":65535,
 *    "options":{"mss":1460,"wscale":7,"sack_ok":true,"ts":true}}
 *   ... "ev":"drop", ..., "reason":"ListenOverflows"}
 *   ... "ev":"cc", ..., "cwnd":14480,"ssthresh":..,"flight":..,"snd_wnd":..,
 *       "srtt_us":..,"rto_us":..,"backoff":0,"recovery":false}
 *   ... "ev":"queue","obj":"listen", ..., "syn_q":1,"accept_q":0,"backlog":2}
 *
 * A segment with URG has "urp" (its urgent pointer) after "win".
 * Options carry "tsval"/"tsecr" after "ts":true and SACK blocks as
 * "sack":[[left,right],...]; ssthresh is left out until the first loss.
 * sd is left out when -1, local/remote when the tuple is all zero, options
 * when none is present, and the segment fields of a drop whose packet was
 * not parsed (all zero).
 */
#include <inttypes.h>
#include <stdio.h>

#include "trace/trace.h"

const char *trace_flags(uint8_t flags, char *buf, size_t cap)
{
	/* the order people say them in: SYN,ACK  FIN,ACK  RST,ACK  PSH,ACK */
	static const struct { uint8_t bit; const char *name; } names[] = {
		{ HSK_TH_SYN, "SYN" }, { HSK_TH_FIN, "FIN" }, { HSK_TH_RST, "RST" },
		{ HSK_TH_PSH, "PSH" }, { HSK_TH_ACK, "ACK" }, { HSK_TH_URG, "URG" },
		{ HSK_TH_ECE, "ECE" }, { HSK_TH_CWR, "CWR" },
	};
	size_t i, used = 0;

	if (!buf || cap == 0)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(flags & names[i].bit))
			continue;
		w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "",
			     names[i].name);
		if (w < 0 || (size_t)w >= cap - used) {
			buf[used] = '\0'; /* whole flag names only */
			break;
		}
		used += (size_t)w;
	}
	if (used == 0)
		snprintf(buf, cap, "none");
	return buf;
}

static const char *ev_name(uint8_t kind)
{
	switch (kind) {
	case HSK_EV_STATE: return "state";
	case HSK_EV_TX: return "tx";
	case HSK_EV_RX: return "rx";
	case HSK_EV_DROP: return "drop";
	case HSK_EV_CC: return "cc";
	case HSK_EV_QUEUE: return "queue";
	default: return "?";
	}
}

static const char *obj_name(uint8_t obj)
{
	switch (obj) {
	case HSK_OBJ_TCB: return "tcb";
	case HSK_OBJ_REQ: return "req";
	case HSK_OBJ_TW: return "tw";
	case HSK_OBJ_LISTEN: return "listen";
	case HSK_OBJ_NONE: return "none";
	default: return "?";
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_addr(FILE *out, const char *key, uint32_t a, uint16_t port)
{
	fprintf(out, ",\"%s\":\"%u.%u.%u.%u:%u\"", key, a >> 24, (a >> 16) & 0xff,
		(a >> 8) & 0xff, a & 0xff, port);
}

static void json_options(FILE *out, const hsk_trace_event *ev)
{
	const char *sep = "";
	unsigned i, n = ev->nsack < 4 ? ev->nsack : 4;

	if (!ev->mss && ev->wscale < 0 && !ev->sack_ok && !ev->has_ts && !n)
		return;
	fputs(",\"options\":{", out);
	if (ev->mss) {
		fprintf(out, "\"mss\":%u", ev->mss);
		sep = ",";
	}
	if (ev->wscale >= 0) {
		fprintf(out, "%s\"wscale\":%d", sep, ev->wscale);
		sep = ",";
	}
	if (ev->sack_ok) {
		fprintf(out, "%s\"sack_ok\":true", sep);
		sep = ",";
	}
	if (ev->has_ts) {
		fprintf(out, "%s\"ts\":true,\"tsval\":%" PRIu32 ",\"tsecr\":%" PRIu32,
			sep, ev->ts_val, ev->ts_ecr);
		sep = ",";
	}
	if (n) {
		fprintf(out, "%s\"sack\":[", sep);
		for (i = 0; i < n; i++)
			fprintf(out, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "",
				ev->sack[i].left, ev->sack[i].right);
		fputc(']', out);
	}
	fputc('}', out);
}

static void json_cc(FILE *out, const hsk_trace_event *ev)
{
	fprintf(out, ",\"cwnd\":%" PRIu32, ev->cwnd);
	if (ev->ssthresh != UINT32_MAX)
		fprintf(out, ",\"ssthresh\":%" PRIu32, ev->ssthresh);
	fprintf(out, ",\"flight\":%" PRIu32 ",\"snd_wnd\":%" PRIu32 ",\"srtt_us\":%"
		PRIu64 ",\"rto_us\":%" PRIu64 ",\"backoff\":%u,\"recovery\":%s",
		ev->flight, ev->snd_wnd, ev->srtt_ns / 1000, ev->rto_ns / 1000,
		ev->backoff, ev->in_recovery ? "true" : "false");
}

void trace_json_line(FILE *out, const char *host, const hsk_trace_event *ev)
{
	const hsk_tuple *t = &ev->tuple;
	uint64_t us = ev->t_ns / 1000, frac = ev->t_ns % 1000;
	char flags[48];

	if (frac == 0)
		fprintf(out, "{\"t_us\":%" PRIu64, us);
	else if (frac % 100 == 0)
		fprintf(out, "{\"t_us\":%" PRIu64 ".%" PRIu64, us, frac / 100);
	else if (frac % 10 == 0)
		fprintf(out, "{\"t_us\":%" PRIu64 ".%02" PRIu64, us, frac / 10);
	else
		fprintf(out, "{\"t_us\":%" PRIu64 ".%03" PRIu64, us, frac);
	fputs(",\"host\":", out);
	json_str(out, host ? host : "");
	fprintf(out, ",\"ev\":\"%s\",\"obj\":\"%s\"", ev_name(ev->kind), obj_name(ev->obj));
	if (ev->sd >= 0)
		fprintf(out, ",\"sd\":%d", ev->sd);
	if (ev->family == HSK_AF_INET6) {
		hsk_addr l = hsk_addr_v6(ev->laddr6), r = hsk_addr_v6(ev->raddr6);
		char b[HSK_ADDRSTRLEN];

		fprintf(out, ",\"local\":\"%s\"", hsk_addr_port_str(&l, t->lport, b));
		fprintf(out, ",\"remote\":\"%s\"", hsk_addr_port_str(&r, t->rport, b));
	} else if (t->laddr || t->raddr || t->lport || t->rport) {
		json_addr(out, "local", t->laddr, t->lport);
		json_addr(out, "remote", t->raddr, t->rport);
	}
	if (ev->kind == HSK_EV_STATE) {
		fprintf(out, ",\"from\":\"%s\",\"to\":\"%s\",\"cause\":",
			hsk_state_name(ev->from), hsk_state_name(ev->to));
		json_str(out, ev->cause ? ev->cause : "");
	} else if (ev->kind == HSK_EV_CC) {
		json_cc(out, ev);
	} else if (ev->kind == HSK_EV_QUEUE) {
		fprintf(out, ",\"syn_q\":%" PRIu32 ",\"accept_q\":%" PRIu32
			",\"backlog\":%" PRIu32, ev->syn_q, ev->accept_q, ev->backlog);
	} else if (ev->kind != HSK_EV_DROP || ev->flags || ev->seq || ev->ack ||
		   ev->len || ev->win) {
		fprintf(out, ",\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32
			",\"len\":%" PRIu32 ",\"win\":%" PRIu32,
			trace_flags(ev->flags, flags, sizeof(flags)), ev->seq,
			ev->ack, ev->len, ev->win);
		if (ev->flags & HSK_TH_URG)
			fprintf(out, ",\"urp\":%u", (unsigned)ev->urp);
		json_options(out, ev);
	}
	if (ev->kind == HSK_EV_DROP || ev->reason) {
		fputs(",\"reason\":", out);
		json_str(out, ev->reason ? ev->reason : "");
	}
	fputs("}\n", out);
}
