/*
 * Trace renderers: exact JSON lines for given events, flag names, and the
 * sequence diagram drawn for a hand-built event sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "trace/trace.h"

#define CLI 0xc6120001u
#define SRV 0xc6120002u
#define MS 1000000ull

typedef struct capture {
	char *buf;
	size_t len;
	FILE *f;
} capture;

static void cap_open(capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static char *cap_close(capture *c)
{
	fclose(c->f);
	return c->buf;
}

static hsk_trace_event ev_state(uint64_t t, int side, uint8_t from, uint8_t to,
				const char *cause)
{
	hsk_trace_event e = { .t_ns = t, .kind = HSK_EV_STATE, .obj = HSK_OBJ_TCB,
			      .sd = 3, .from = from, .to = to, .cause = cause,
			      .wscale = -1 };

	e.tuple = side == 0 ? (hsk_tuple){ CLI, SRV, 49152, 80 }
			    : (hsk_tuple){ SRV, CLI, 80, 49152 };
	return e;
}

static hsk_trace_event ev_seg(uint64_t t, int side, uint8_t kind, uint8_t flags,
			      uint32_t seq, uint32_t ack, uint32_t len)
{
	hsk_trace_event e = { .t_ns = t, .kind = kind, .obj = HSK_OBJ_TCB,
			      .sd = -1, .flags = flags, .seq = seq, .ack = ack,
			      .len = len, .win = 65535, .wscale = -1 };

	e.tuple = side == 0 ? (hsk_tuple){ CLI, SRV, 49152, 80 }
			    : (hsk_tuple){ SRV, CLI, 80, 49152 };
	return e;
}

static void test_flags(void **state)
{
	char b[48];

	(void)state;
	assert_string_equal(trace_flags(HSK_TH_SYN, b, sizeof(b)), "SYN");
	assert_string_equal(trace_flags(HSK_TH_SYN | HSK_TH_ACK, b, sizeof(b)), "SYN,ACK");
	assert_string_equal(trace_flags(HSK_TH_FIN | HSK_TH_ACK, b, sizeof(b)), "FIN,ACK");
	assert_string_equal(trace_flags(HSK_TH_RST | HSK_TH_ACK, b, sizeof(b)), "RST,ACK");
	assert_string_equal(trace_flags(HSK_TH_PSH | HSK_TH_ACK | HSK_TH_FIN, b, sizeof(b)),
			    "FIN,PSH,ACK");
	assert_string_equal(trace_flags(0xff, b, sizeof(b)),
			    "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR");
	assert_string_equal(trace_flags(0, b, sizeof(b)), "none");
	/* a short buffer truncates at a flag boundary, never overflows */
	assert_string_equal(trace_flags(HSK_TH_SYN | HSK_TH_ACK, b, 6), "SYN");
}

static void test_json_state(void **state)
{
	capture c;
	hsk_trace_event e = ev_state(1500, 0, HSK_CLOSED, HSK_SYN_SENT, "connect()");
	char *s;

	(void)state;
	cap_open(&c);
	trace_json_line(c.f, "client", &e);
	e.t_ns = 2 * MS;
	e.sd = -1;
	e.obj = HSK_OBJ_TW;
	e.from = HSK_TIME_WAIT;
	e.to = HSK_CLOSED;
	e.cause = "timer \"2MSL\"";
	trace_json_line(c.f, "client", &e);
	s = cap_close(&c);
	if (getenv("SHOW"))
		fputs(s, stderr);
	assert_string_equal(s,
		"{\"t_us\":1.5,\"host\":\"client\",\"ev\":\"state\",\"obj\":\"tcb\",\"sd\":3,"
		"\"local\":\"198.18.0.1:49152\",\"remote\":\"198.18.0.2:80\","
		"\"from\":\"CLOSED\",\"to\":\"SYN_SENT\",\"cause\":\"connect()\"}\n"
		"{\"t_us\":2000,\"host\":\"client\",\"ev\":\"state\",\"obj\":\"tw\","
		"\"local\":\"198.18.0.1:49152\",\"remote\":\"198.18.0.2:80\","
		"\"from\":\"TIME_WAIT\",\"to\":\"CLOSED\",\"cause\":\"timer \\\"2MSL\\\"\"}\n");
	free(s);
}

static void test_json_segments(void **state)
{
	capture c;
	hsk_trace_event e = ev_seg(1000123, 0, HSK_EV_TX, HSK_TH_SYN, 100, 0, 0);
	char *s;

	(void)state;
	e.mss = 1460;
	e.wscale = 7;
	e.sack_ok = true;
	e.has_ts = true;
	e.ts_val = 7;
	cap_open(&c);
	trace_json_line(c.f, "client", &e);
	e = ev_seg(2000000, 1, HSK_EV_RX, HSK_TH_PSH | HSK_TH_ACK, 101, 301, 64);
	e.obj = HSK_OBJ_REQ;
	e.nsack = 2;
	e.sack[0].left = 500;
	e.sack[0].right = 600;
	e.sack[1].left = 700;
	e.sack[1].right = 800;
	trace_json_line(c.f, "server", &e);
	e = ev_seg(3000000, 1, HSK_EV_DROP, HSK_TH_ACK, 101, 301, 0);
	e.obj = HSK_OBJ_LISTEN;
	e.reason = "ListenOverflows";
	trace_json_line(c.f, "server", &e);
	/* a packet that did not parse: no segment fields */
	e = (hsk_trace_event){ .t_ns = 4000010, .kind = HSK_EV_DROP, .obj = HSK_OBJ_NONE,
			       .sd = -1, .wscale = -1, .reason = "tcp_bad_csum" };
	trace_json_line(c.f, "server", &e);
	s = cap_close(&c);
	if (getenv("SHOW"))
		fputs(s, stderr);
	assert_string_equal(s,
		"{\"t_us\":1000.123,\"host\":\"client\",\"ev\":\"tx\",\"obj\":\"tcb\","
		"\"local\":\"198.18.0.1:49152\",\"remote\":\"198.18.0.2:80\","
		"\"flags\":\"SYN\",\"seq\":100,\"ack\":0,\"len\":0,\"win\":65535,"
		"\"options\":{\"mss\":1460,\"wscale\":7,\"sack_ok\":true,\"ts\":true,"
		"\"tsval\":7,\"tsecr\":0}}\n"
		"{\"t_us\":2000,\"host\":\"server\",\"ev\":\"rx\",\"obj\":\"req\","
		"\"local\":\"198.18.0.2:80\",\"remote\":\"198.18.0.1:49152\","
		"\"flags\":\"PSH,ACK\",\"seq\":101,\"ack\":301,\"len\":64,\"win\":65535,"
		"\"options\":{\"sack\":[[500,600],[700,800]]}}\n"
		"{\"t_us\":3000,\"host\":\"server\",\"ev\":\"drop\",\"obj\":\"listen\","
		"\"local\":\"198.18.0.2:80\",\"remote\":\"198.18.0.1:49152\","
		"\"flags\":\"ACK\",\"seq\":101,\"ack\":301,\"len\":0,\"win\":65535,"
		"\"reason\":\"ListenOverflows\"}\n"
		"{\"t_us\":4000.01,\"host\":\"server\",\"ev\":\"drop\",\"obj\":\"none\","
		"\"reason\":\"tcp_bad_csum\"}\n");
	free(s);
}

/* The congestion sample and the listener's queues: numbers, and no
 * ssthresh before the first loss. */
static void test_json_cc_queue(void **state)
{
	capture c;
	hsk_trace_event e = ev_seg(5 * MS, 0, HSK_EV_CC, 0, 0, 0, 0);
	char *s;

	(void)state;
	e.cwnd = 14480;
	e.ssthresh = UINT32_MAX;
	e.flight = 2896;
	e.snd_wnd = 65535;
	e.srtt_ns = 2 * MS + 500;
	e.rto_ns = 200 * MS;
	cap_open(&c);
	trace_json_line(c.f, "client", &e);
	e.ssthresh = 7240;
	e.backoff = 2;
	e.in_recovery = true;
	trace_json_line(c.f, "client", &e);
	e = (hsk_trace_event){ .t_ns = 6 * MS, .kind = HSK_EV_QUEUE, .obj = HSK_OBJ_LISTEN,
			       .sd = 0, .wscale = -1, .tuple = { SRV, 0, 80, 0 },
			       .syn_q = 1, .accept_q = 2, .backlog = 2 };
	trace_json_line(c.f, "server", &e);
	s = cap_close(&c);
	if (getenv("SHOW"))
		fputs(s, stderr);
	assert_string_equal(s,
		"{\"t_us\":5000,\"host\":\"client\",\"ev\":\"cc\",\"obj\":\"tcb\","
		"\"local\":\"198.18.0.1:49152\",\"remote\":\"198.18.0.2:80\","
		"\"cwnd\":14480,\"flight\":2896,\"snd_wnd\":65535,\"srtt_us\":2000,"
		"\"rto_us\":200000,\"backoff\":0,\"recovery\":false}\n"
		"{\"t_us\":5000,\"host\":\"client\",\"ev\":\"cc\",\"obj\":\"tcb\","
		"\"local\":\"198.18.0.1:49152\",\"remote\":\"198.18.0.2:80\","
		"\"cwnd\":14480,\"ssthresh\":7240,\"flight\":2896,\"snd_wnd\":65535,"
		"\"srtt_us\":2000,\"rto_us\":200000,\"backoff\":2,\"recovery\":true}\n"
		"{\"t_us\":6000,\"host\":\"server\",\"ev\":\"queue\",\"obj\":\"listen\","
		"\"sd\":0,\"local\":\"198.18.0.2:80\",\"remote\":\"0.0.0.0:0\","
		"\"syn_q\":1,\"accept_q\":2,\"backlog\":2}\n");
	free(s);
}

/* Index of needle in hay after position `from`, or -1. */
static long find_after(const char *hay, const char *needle, long from)
{
	const char *p = strstr(hay + from, needle);

	return p ? p - hay : -1;
}

/* The line of s that contains needle (copied into out). */
static const char *line_with(const char *s, const char *needle, char *out, size_t cap)
{
	const char *p = strstr(s, needle), *b, *e;

	if (!p)
		return NULL;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	snprintf(out, cap, "%.*s", (int)(e - b), b);
	return out;
}

static void feed(trace_diagram *d, int col, hsk_trace_event e)
{
	diagram_event(d, col, &e);
}

static void test_diagram_handshake_and_close(void **state)
{
	capture c;
	trace_diagram *d;
	hsk_trace_event e;
	char line[256];
	char *s;
	long pos;

	(void)state;
	cap_open(&c);
	d = diagram_new(c.f, "client", "server");
	assert_non_null(d);
	feed(d, 1, ev_state(0, 1, HSK_CLOSED, HSK_LISTEN, "listen()"));
	feed(d, 0, ev_state(0, 0, HSK_CLOSED, HSK_SYN_SENT, "connect()"));
	e = ev_seg(0, 0, HSK_EV_TX, HSK_TH_SYN, 100, 0, 0);
	e.mss = 1460;
	feed(d, 0, e);
	/* the RX has the server's view of the tuple */
	feed(d, 1, ev_seg(MS, 1, HSK_EV_RX, HSK_TH_SYN, 100, 0, 0));
	feed(d, 1, ev_state(MS, 1, HSK_LISTEN, HSK_SYN_RECEIVED, "rcv SYN"));
	feed(d, 1, ev_seg(MS, 1, HSK_EV_TX, HSK_TH_SYN | HSK_TH_ACK, 300, 101, 0));
	feed(d, 0, ev_seg(2 * MS, 0, HSK_EV_RX, HSK_TH_SYN | HSK_TH_ACK, 300, 101, 0));
	feed(d, 0, ev_state(2 * MS, 0, HSK_SYN_SENT, HSK_ESTABLISHED, "rcv SYN,ACK"));
	/* a FIN lost by the network, reported on the sender's column */
	feed(d, 0, ev_seg(3 * MS, 0, HSK_EV_TX, HSK_TH_FIN | HSK_TH_ACK, 101, 301, 0));
	e = ev_seg(3 * MS, 0, HSK_EV_DROP, HSK_TH_FIN | HSK_TH_ACK, 101, 301, 0);
	e.reason = "link loss";
	feed(d, 0, e);
	/* an ACK the server receives and then discards */
	feed(d, 0, ev_seg(4 * MS, 0, HSK_EV_TX, HSK_TH_ACK, 102, 301, 0));
	feed(d, 1, ev_seg(5 * MS, 1, HSK_EV_RX, HSK_TH_ACK, 102, 301, 0));
	e = ev_seg(5 * MS, 1, HSK_EV_DROP, HSK_TH_ACK, 102, 301, 0);
	e.reason = "ListenOverflows";
	feed(d, 1, e);
	/* a data segment from the server that is never reported received */
	feed(d, 1, ev_seg(6 * MS, 1, HSK_EV_TX, HSK_TH_PSH | HSK_TH_ACK, 301, 102, 64));
	diagram_finish(d);
	s = cap_close(&c);
	if (getenv("SHOW"))
		fputs(s, stderr);

	/* header, then events in time order */
	assert_true(find_after(s, "t(ms)", 0) == 5);
	pos = find_after(s, "CLOSED -> LISTEN (listen())", 0);
	assert_true(pos > 0);
	pos = find_after(s, "CLOSED -> SYN_SENT (connect())", pos);
	assert_true(pos > 0);
	assert_non_null(line_with(s, "---- SYN seq=100 win=65535 <mss 1460> ---", line, sizeof(line)));
	assert_int_equal(line[strlen(line) - 1], '>');
	assert_true(strncmp(line, "     0.000   ---- SYN", 21) == 0);
	/* the server's state is written in its column, to the right */
	assert_non_null(line_with(s, "LISTEN -> SYN_RECEIVED (rcv SYN)", line, sizeof(line)));
	assert_true(strstr(line, "LISTEN -> SYN_RECEIVED") - line > 50);
	assert_true(strncmp(line, "     1.000", 10) == 0);
	assert_non_null(line_with(s, "<--- SYN,ACK seq=300 ack=101 win=65535 ---", line, sizeof(line)));
	assert_int_equal(line[strlen(line) - 1], '-');
	pos = find_after(s, "SYN_SENT -> ESTABLISHED (rcv SYN,ACK)", pos);
	assert_true(pos > 0);
	/* lost: ends in an X part-way, with the reason */
	assert_non_null(line_with(s, "---- FIN,ACK seq=101 ack=301 ", line, sizeof(line)));
	assert_non_null(strstr(line, "-X  lost: link loss"));
	assert_true(strstr(line, "X  lost") - line < 12 + 56);
	/* dropped by the receiver: X at the far end */
	assert_non_null(line_with(s, "---- ACK seq=102 ack=301 ", line, sizeof(line)));
	assert_non_null(strstr(line, "-X  dropped by server: ListenOverflows"));
	assert_int_equal(strstr(line, "X  dropped") - line, 13 + 56 - 1);
	/* never received */
	assert_non_null(line_with(s, "PSH,ACK seq=301 ack=102 len=64", line, sizeof(line)));
	assert_non_null(strstr(line, "?--- PSH,ACK"));
	assert_non_null(strstr(line, "not received"));
	free(s);
}

static void test_diagram_dup_and_injected(void **state)
{
	capture c;
	trace_diagram *d;
	char line[256];
	char *s;

	(void)state;
	cap_open(&c);
	d = diagram_new(c.f, "A", "B");
	diagram_show_ports(d, true);
	feed(d, 0, ev_seg(0, 0, HSK_EV_TX, HSK_TH_ACK, 5, 6, 10));
	feed(d, 1, ev_seg(MS, 1, HSK_EV_RX, HSK_TH_ACK, 5, 6, 10));
	feed(d, 1, ev_seg(MS, 1, HSK_EV_RX, HSK_TH_ACK, 5, 6, 10));
	/* an RST nobody traced sending */
	feed(d, 0, ev_seg(2 * MS, 0, HSK_EV_RX, HSK_TH_RST, 77, 0, 0));
	diagram_note(d, 0, 2 * MS, "close()");
	/* a drop that matches nothing is a note on its column */
	{
		hsk_trace_event e = ev_seg(3 * MS, 1, HSK_EV_DROP, HSK_TH_SYN, 1, 0, 0);

		e.reason = "DropNoSocket";
		feed(d, 1, e);
	}
	diagram_finish(d);
	s = cap_close(&c);
	if (getenv("SHOW"))
		fputs(s, stderr);
	assert_non_null(line_with(s, ":49152>:80 ACK seq=5 ack=6 len=10 ---", line, sizeof(line)));
	assert_null(strstr(line, "(dup)"));
	assert_non_null(line_with(s, "len=10 (dup)", line, sizeof(line)));
	assert_true(strncmp(line, "     1.000   ----", 17) == 0);
	assert_non_null(line_with(s, "<--- :80>:49152 RST seq=77 (unmatched)", line, sizeof(line)));
	assert_non_null(line_with(s, "close()", line, sizeof(line)));
	assert_string_equal(line, "     2.000   close()");
	assert_non_null(line_with(s, "x drop SYN seq=1 ack=0 len=0: DropNoSocket", line, sizeof(line)));
	assert_true(strstr(line, "x drop") - line > 50);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_json_state),
		cmocka_unit_test(test_json_segments),
		cmocka_unit_test(test_json_cc_queue),
		cmocka_unit_test(test_diagram_handshake_and_close),
		cmocka_unit_test(test_diagram_dup_and_injected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
