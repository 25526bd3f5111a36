/*
 * `handshake report`: one self-contained HTML page from a trace.
 *
 * The input is JSON lines (demo --format json, serve/connect --trace json)
 * or a pcap (states are then inferred from the segments and marked so).
 * Both become the same compact event list, embedded in the page with the
 * page's script and style (tools/report/) and the charting library
 * (third_party/uplot/), compiled into the program: the page fetches
 * nothing. docs/report.md describes the views and the embedded format.
 *
 *   report.c       the command, the event model, the page writer
 *   report_json.c  a small strict JSON parser (one line at a time)
 *   report_pcap.c  pcap reading and state inference
 */
#ifndef HSK_TOOLS_REPORT_H
#define HSK_TOOLS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- JSON values (report_json.c) ---- */
enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jval {
	uint8_t type;           /* enum jtype */
	double num;
	const char *str;        /* J_STR: decoded, NUL-terminated; J_NUM: the text */
	size_t len;             /* J_STR: bytes; J_ARR/J_OBJ: members */
	struct jval *kids;      /* J_ARR: values; J_OBJ: key, value, key, value ... */
} jval;

typedef struct jarena jarena;
jarena *jarena_new(void);
void jarena_reset(jarena *a);
void jarena_free(jarena *a);

/* Parses exactly one JSON value filling text[0..len) (white space around
 * it allowed). NULL on error, with a message ("unexpected end of input at
 * column 80") in err. */
const jval *json_parse(jarena *a, const char *text, size_t len, char *err, size_t cap);
/* The member `key` of an object, NULL when absent or not an object. */
const jval *json_get(const jval *obj, const char *key);
/* Writes v as JSON, with '<', '>' and '&' escaped so that it is safe
 * inside an HTML <script> element. */
void json_write(FILE *out, const jval *v);
/* A number as JSON: the shortest form that reads back the same. */
void json_write_num(FILE *out, double d);
/* A string as JSON, escaped the same way. */
void json_write_str(FILE *out, const char *s, size_t len);

/* ---- the event model (report.c) ---- */
enum rep_kind { RK_STATE, RK_TX, RK_RX, RK_DROP, RK_CC, RK_QUEUE };

typedef struct rep_ev {
	double t_us;
	uint8_t kind;           /* enum rep_kind */
	uint8_t obj;            /* enum hsk_obj_kind */
	int host;               /* string index */
	int sd;                 /* -1: none */
	int local, remote;      /* string index of "a.b.c.d:port", -1: none */
	/* state */
	uint8_t from, to;
	int cause;              /* string index, -1: none */
	/* segments */
	int flags;              /* -1: a drop of an unparsed packet */
	uint32_t seq, ack, len, win;
	int reason;             /* string index, -1: none */
	uint16_t mss;           /* 0: absent */
	int8_t wscale;          /* -1: absent */
	bool sack_ok, has_ts;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;
	uint32_t sack[4][2];
	/* cc */
	uint32_t cwnd, flight, snd_wnd, backoff;
	int64_t ssthresh;       /* -1: not set */
	double srtt_us, rto_us;
	bool recovery;
	/* queue */
	uint32_t syn_q, accept_q, backlog;
} rep_ev;

typedef struct report report;

/* An empty report; `source` is "json" or "pcap". NULL without memory. */
report *report_new(const char *source);
void report_free(report *r);
/* Interns a string: its index in the page's string table. */
int report_str(report *r, const char *s);
/* Appends an event (strings already interned). -1 without memory. */
int report_add(report *r, const rep_ev *ev);
/* Marks the states as inferred (pcap input). */
void report_set_inferred(report *r, bool inferred);
/* A note shown at the top of the page ("12 events of unknown kinds"). */
void report_note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The events (in time order once report_write sorted them) and strings. */
rep_ev *report_events(report *r);
size_t report_nev(const report *r);
size_t report_nstrings(const report *r);
/* The string at index i, NULL for -1 or out of range. */
const char *report_string(const report *r, int i);

/* ---- what the page needs before it draws (report_model.c) ---- */
typedef struct rep_model rep_model;
/* Groups the events into connections and listeners and tallies each
 * connection (interning its outcome). NULL without memory. */
rep_model *rep_model_build(report *r);
/* ,"owner":[..],"conns":[..],"listeners":[..] */
void rep_model_write(FILE *f, const rep_model *m, size_t nev);
void rep_model_free(rep_model *m);

/* Reads JSON lines from buf into r; -1 with a message naming the line. */
int report_read_json(report *r, const char *buf, size_t len, char *err, size_t cap);
/* Reads a pcap into r, inferring states; -1 with a message. */
int report_read_pcap(report *r, const uint8_t *buf, size_t len, char *err, size_t cap);

/* Writes the page to path (through a temporary file renamed into place, so
 * a failed run never leaves a half page). -1 with a message. */
int report_write(report *r, const char *path, const char *title, char *err, size_t cap);

/* The whole pipeline: the input's bytes (JSON lines or pcap, told apart by
 * the pcap magic) to a page at `out_path`. The title is `title`, else the
 * demo scenario's name, else `name` (the input file; may be NULL). -1 with
 * a message. */
int report_from_buffer(const uint8_t *buf, size_t len, const char *out_path,
		       const char *title, const char *name, char *err, size_t cap);
/* The same from a file (read whole). */
int report_from_file(const char *in_path, const char *out_path, const char *title,
		     char *err, size_t cap);

/* `handshake report TRACE -o OUT.html [--title TEXT]` */
int report_main(int argc, char **argv);

#endif
