/*
 * A small event loop that drives one hsk_stack on one device in real time,
 * so that applications and the CLI need no stack internals.
 *
 * One thread, one epoll set: the device's fd, a signalfd (SIGINT, SIGTERM,
 * SIGHUP, SIGUSR1) and any fd the application adds. Each turn:
 *
 *   now = CLOCK_MONOTONIC
 *   device timers (ARP, impairment queues)    dev_advance
 *   packets in (at most a batch)              hsk_stack_input
 *   stack timers                              hsk_stack_advance
 *   readiness events -> the socket callback   hsk_stack_events
 *   sleep in epoll_wait until the earliest of the stack's deadline, the
 *   device's deadline, or an fd becoming ready
 *
 * Callbacks run between stack calls, never inside one, so they may call any
 * hsk_* function (send, recv, close...), and always after the stack's clock
 * was brought to the present (hsk_stack_advance). Packets the stack sends
 * go to the device at once. A program calling hsk_* outside callbacks
 * should call hsk_stack_advance(s, hsk_now_ns()) first.
 *
 * Usage:
 *   hsk_netspec ns = { .tun = "hsk0", .addr = ..., .prefix = 24 };
 *   hsk_loop *l = hsk_loop_open(&ns, NULL, err, sizeof(err));
 *   hsk_loop_on_socket(l, on_sock, app);
 *   ... hsk_socket(hsk_loop_stack(l)) ... hsk_listen ...
 *   hsk_loop_run(l);
 */
#ifndef HANDSHAKE_LOOP_H
#define HANDSHAKE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "handshake.h"

struct hsk_dev;
typedef struct hsk_loop hsk_loop;

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hsk_now_ns(void);

/* Which device to open and what to stack on it. */
typedef struct hsk_netspec {
	const char *tun;        /* TUN device name, or */
	const char *tap;        /* TAP device name */
	uint32_t addr;          /* our address (host order) */
	unsigned prefix;        /* our prefix length */
	uint32_t gw;            /* TAP: gateway for other destinations (0: none) */
	uint32_t host_addr;     /* kernel side address given to an unconfigured
				 * device; 0: the first other host of the prefix;
				 * UINT32_MAX: never configure */
	const char *pcap;       /* capture file, or NULL */
	/* impairment layer, added when any is non-zero */
	double loss, dup, reorder;
	double ce;              /* chance an ECT packet is marked CE */
	uint64_t delay_ns, reorder_ns;
	uint64_t seed;
	bool cross_fins;        /* hold the first FIN until the other side's
				 * arrives: a simultaneous close on demand */
} hsk_netspec;

/* Opens the device stack described by ns: driver, then impairment, then
 * pcap on top (so the capture shows what the stack sent and received).
 * NULL with a message in err. */
struct hsk_dev *hsk_netspec_open(const hsk_netspec *ns, char *err, size_t errlen);

/* "198.18.0.2/24" -> addr, prefix (32 when absent). 0 or -1. */
int hsk_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);
/* "198.18.0.1" -> addr. 0 or -1. */
int hsk_parse_ipv4(const char *s, uint32_t *addr);
/* addr -> "198.18.0.1" into buf (16 bytes); returns buf. */
const char *hsk_ipv4_str(uint32_t addr, char *buf);

/* A loop over dev (taken over: closed by hsk_loop_free). cfg may be NULL
 * for defaults; cfg->addr 0 means `addr`, cfg->mtu 0 the device's MTU.
 * NULL with a message in err. */
hsk_loop *hsk_loop_new(struct hsk_dev *dev, uint32_t addr, const hsk_config *cfg,
		       char *err, size_t errlen);
/* hsk_netspec_open + hsk_loop_new. */
hsk_loop *hsk_loop_open(const hsk_netspec *ns, const hsk_config *cfg,
			char *err, size_t errlen);
/* Resets (RST) every connection that still has a socket, then frees the
 * stack, the device and the loop. Close connections first to end them
 * gracefully (see hsk_loop_linger). */
void hsk_loop_free(hsk_loop *l);

hsk_stack *hsk_loop_stack(hsk_loop *l);
struct hsk_dev *hsk_loop_dev(hsk_loop *l);
/* The time of the current turn (CLOCK_MONOTONIC ns). */
uint64_t hsk_loop_now(const hsk_loop *l);

/* Called for each readiness event (sd, HSK_POLL* mask). */
typedef void (*hsk_loop_sock_fn)(void *ctx, hsk_loop *l, int sd, int events);
void hsk_loop_on_socket(hsk_loop *l, hsk_loop_sock_fn fn, void *ctx);
/* Called for SIGINT, SIGTERM, SIGHUP and SIGUSR1. Without a handler, the
 * first three stop the loop. */
typedef void (*hsk_loop_sig_fn)(void *ctx, hsk_loop *l, int signo);
void hsk_loop_on_signal(hsk_loop *l, hsk_loop_sig_fn fn, void *ctx);
/* Called once at the end of every turn (after the socket events). */
typedef void (*hsk_loop_tick_fn)(void *ctx, hsk_loop *l);
void hsk_loop_on_tick(hsk_loop *l, hsk_loop_tick_fn fn, void *ctx);

/* Watches an application fd (EPOLLIN/EPOLLOUT bits in `events`). */
typedef void (*hsk_loop_fd_fn)(void *ctx, hsk_loop *l, int fd, uint32_t events);
int hsk_loop_add_fd(hsk_loop *l, int fd, uint32_t events, hsk_loop_fd_fn fn, void *ctx);
int hsk_loop_del_fd(hsk_loop *l, int fd);

/* Wakes the loop no later than t (CLOCK_MONOTONIC ns), so that the tick
 * callback runs then: for the application's own timeouts. One turn at or
 * after t clears it; the earliest of several calls wins. */
void hsk_loop_wake_at(hsk_loop *l, uint64_t t);

/* Runs turns until hsk_loop_stop (0) or a device error (-errno). */
int hsk_loop_run(hsk_loop *l);
/* One turn, sleeping at most max_wait_ns, even after a stop (so an
 * application can finish closing after it stopped the loop). 0, 1 when
 * stopped, or -errno. */
int hsk_loop_run_once(hsk_loop *l, uint64_t max_wait_ns);
/* Runs until `deadline` (CLOCK_MONOTONIC ns) or stop. */
int hsk_loop_run_until(hsk_loop *l, uint64_t deadline);
/* After the application has closed its connections: runs turns until no
 * connection needs the loop any more (no TCB, no SYN-queue request,
 * nothing held back by an impairment layer) or until `deadline`. With
 * tw_grace_ns > 0, TIME_WAIT entries keep it running that much longer
 * (within the deadline), so that a FIN the peer resends because our last
 * ACK was lost is still answered. Clears a stop first. 0 when all is
 * done, 1 at the deadline, 2 when a callback stopped the loop (a second
 * SIGINT, say), -errno on a device error. */
int hsk_loop_linger(hsk_loop *l, uint64_t deadline, uint64_t tw_grace_ns);
void hsk_loop_stop(hsk_loop *l);
/* Clears a stop so that hsk_loop_run can run again. */
void hsk_loop_resume(hsk_loop *l);
bool hsk_loop_stopped(const hsk_loop *l);

#endif
