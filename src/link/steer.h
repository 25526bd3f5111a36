/*
 * Flow steering: which queue (and so which shard) a packet or a flow
 * belongs to, computed identically here and in the kernel by the eBPF
 * program attached to a multi-queue TUN device (bpf/tun_steer.bpf.c; the
 * hash itself is in steer_hash.h, shared by both).
 *
 *   queue = (hash mod 128) mod queues
 *   hash  = symmetric Toeplitz over (saddr, daddr, sport, dport)
 *
 * Both directions of a flow have the same hash, so the queue of a flow is
 * the queue its packets arrive on and the shard that owns its TCB.
 */
#ifndef HSK_LINK_STEER_H
#define HSK_LINK_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The hash of a tuple (host order; symmetric in the two endpoints). */
uint32_t steer_hash(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport);
/* The same for IPv6 addresses (16 bytes each): the addresses folded
 * to 32 bits (steer_fold6), then steer_hash. */
uint32_t steer_fold6(const uint8_t a[16]);
uint32_t steer_hash6(const uint8_t saddr[16], const uint8_t daddr[16], uint16_t sport,
		     uint16_t dport);
/* The queue of a hash among n (n >= 1). */
unsigned steer_queue(uint32_t hash, unsigned n);
/* The hash of an IPv4 or IPv6 packet (TCP/UDP tuple, an ICMP error's
 * quoted tuple, or the addresses; 0 when it is neither): what the
 * kernel's program computes for it. */
uint32_t steer_packet_hash(const uint8_t *pkt, size_t len);
static inline unsigned steer_packet_queue(const uint8_t *pkt, size_t len, unsigned n)
{
	return steer_queue(steer_packet_hash(pkt, len), n);
}

/* A local port in [lo, hi] such that (laddr:port -> raddr:rport) is on
 * queue q of n, searched from `start` upwards (wrapping): the port, or 0
 * when none is (cannot happen when the range is wider than a few times n).
 * For active opens: the shard that opens a connection picks a port that
 * brings the replies back to it. */
uint16_t steer_pick_port(uint32_t laddr, uint32_t raddr, uint16_t rport,
			 unsigned q, unsigned n, uint16_t lo, uint16_t hi, uint16_t start);

/* The Toeplitz hash of n bytes with any key (keylen >= n + 4), as the
 * RSS specification defines it: the reference the fast symmetric form is
 * checked against. */
uint32_t steer_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data, size_t n);
/* The 40-byte symmetric key (0x6d5a repeated) in byte form, for
 * `ethtool -X DEV hkey ...` on a NIC whose queues AF_XDP shards use. */
extern const uint8_t steer_symmetric_key[40];

/* ---- the eBPF programs (HSK_HAVE_BPF) ---- */
/* true when this build carries them. */
bool steer_bpf_available(void);
/* Loads the TUN steering program: its fd, or -1 with err set. */
int steer_tun_prog_load(char *err, size_t errlen);
/* Loads it and attaches it to the multi-queue TUN device of `tunfd`
 * (TUNSETSTEERINGEBPF; the device keeps its own reference). 0 or -1. */
int steer_tun_attach(int tunfd, char *err, size_t errlen);
/* Runs a loaded socket-filter program on one IPv4 packet in the kernel
 * (BPF_PROG_TEST_RUN): 0 with its return value in *ret, or -errno. */
int steer_prog_run(int prog_fd, const uint8_t *pkt, size_t len, uint32_t *ret);

#endif
