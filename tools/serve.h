/*
 * The parts of `handshake serve` that stand alone:
 *
 *   serve_http.c  HTTP/1.1 GET and HEAD of files beneath a directory
 *   srclimit.c    connections per source address, for the per-source limit
 */
#ifndef HSK_TOOLS_SERVE_H
#define HSK_TOOLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "handshake.h"

/* ---- serve_http.c ---- */

/* The largest request head (request line and header fields) taken; a
 * longer one gets 431. */
enum { HTTP_HEAD_MAX = 8192 };

/* Opens DIR as the document root: an O_PATH descriptor, or -1 with errno
 * set (ENOTDIR when DIR is not a directory). */
int http_root_open(const char *dir);

/* The length of the request head in buf[0..len) up to and including the
 * blank line that ends it ("\r\n\r\n" or "\n\n"); 0 while incomplete.
 * The search starts at `from` (where the previous one left off, less 3),
 * so a head that arrives byte by byte costs linear time, not quadratic. */
size_t http_head_len(const char *buf, size_t len, size_t from);

/* What to answer. */
typedef struct http_reply {
	int status;           /* 200, 400, 403, 404, 405, 408, 431, 503 */
	int fd;               /* 200 and not HEAD: the file to send, else -1 */
	off_t size;           /* 200: the file's size */
	bool head;            /* HEAD: no body */
} http_reply;

/* Answers the complete request head `req` (NUL-terminated): the target is
 * resolved beneath the root and never outside it (no "..", no symbolic
 * link leading out, no magic link), and only a regular file is served; a
 * FIFO, device or socket is refused without being waited on. */
void http_handle(int root, const char *req, http_reply *r);

/* The response head (and for an error, its short body) into out: its
 * length (at most cap - 1). */
size_t http_format(const http_reply *r, char *out, size_t cap);

/* ---- srclimit.c ---- */

/* Open connections per source address: a hash table keyed with a secret,
 * so that addresses chosen by a client cannot pile into one chain. */
typedef struct src_table {
	struct src_ent *e;
	uint32_t cap;         /* slots, a power of two (0: none yet) */
	uint32_t used;
	uint64_t key;
} src_table;

void src_init(src_table *t, uint64_t key);
void src_free(src_table *t);
/* The key a source counts under: an IPv4 address as it is; an IPv6 one
 * by its /64, the least a host on a LAN gets (one /128 each would let
 * a host with a /64 open as many as it likes). A /64's top 32 bits are
 * never 0 on the wire (martians), so the two families never meet. */
uint64_t src_key(const hsk_addr *a);
/* Connections open from addr (a src_key). */
uint32_t src_count(const src_table *t, uint64_t addr);
/* One more from addr: 0, or -1 when out of memory. */
int src_add(src_table *t, uint64_t addr);
/* One fewer from addr (it must have one). */
void src_del(src_table *t, uint64_t addr);

#endif
