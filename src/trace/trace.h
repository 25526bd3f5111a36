/*
 * Renderers for trace events (hsk_trace_event): a textbook sequence diagram
 * and JSON lines. They know the public API only. `host` labels the stack an
 * event came from ("client", "server", ...).
 */
#ifndef HSK_TRACE_H
#define HSK_TRACE_H

#include <stdio.h>
#include "handshake.h"

/* "SYN,ACK" style flag names into buf (at least 32 bytes); returns buf. */
const char *trace_flags(uint8_t flags, char *buf, size_t cap);

/* One JSON object per line: t_us, host, ev (state|tx|rx|drop), obj, and
 * from/to/cause or flags/seq/ack/len/win (+ options, reason). */
void trace_json_line(FILE *out, const char *host, const hsk_trace_event *ev);

/* The sequence diagram: column 0 (left) and column 1 (right). Segments are
 * drawn as arrows when sent; a segment that never arrives (dropped on the
 * link or by the receiver) ends in an X. State changes are written on their
 * side with the time. */
typedef struct trace_diagram trace_diagram;
trace_diagram *diagram_new(FILE *out, const char *left, const char *right);
void diagram_event(trace_diagram *d, int column, const hsk_trace_event *ev);
/* A free-text line in a column at time t_ns ("close()", "inject RST"). */
void diagram_note(trace_diagram *d, int column, uint64_t t_ns, const char *text);
/* Prefix states and arrows with ports (several connections on one side). */
void diagram_show_ports(trace_diagram *d, bool on);
/* Writes whatever is pending and frees d. */
void diagram_finish(trace_diagram *d);

#endif
