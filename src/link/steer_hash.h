/*
 * The flow hash that decides a packet's queue (and later its shard). This
 * header is compiled twice, into the library (steer.c) and into the eBPF
 * programs (src/link/bpf/), so the kernel and user space run the very same
 * code; it therefore uses no libc and no fixed-width typedefs.
 *
 * The hash is Toeplitz (the RSS hash of NICs, Microsoft's RSS spec) with
 * the symmetric key 0x6d5a repeated (Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling"): over (saddr, daddr,
 * sport, dport) it gives the same value with source and destination
 * swapped, so both directions of a flow land on one queue. Because the key
 * repeats every 16 bits, the Toeplitz sum over the 12 input bytes equals
 * the 16-bit Toeplitz of the XOR of the six 16-bit words; that is what is
 * computed (steer.c checks it against the full algorithm).
 *
 * The key is public: steering needs agreement, not secrecy. Anyone who
 * can pick a 4-tuple can pick its queue, and so load one shard; ports
 * are the peer's to choose either way (docs/scale.md, "hash").
 *
 * queue = (hash mod HSK_STEER_RETA) mod queues, as a NIC with the default
 * indirection table of 128 entries (entry i -> queue i mod n) computes it,
 * and as TUN computes (program's return value) mod queues.
 */
#ifndef HSK_LINK_STEER_HASH_H
#define HSK_LINK_STEER_HASH_H

#define HSK_STEER_RETA 128u
#define HSK_STEER_KEY16 0x6d5au

/* The 16-bit fold of a tuple (addresses and ports in host order). */
static inline unsigned int hsk_steer_fold(unsigned int saddr, unsigned int daddr,
					  unsigned int sport, unsigned int dport)
{
	return ((saddr >> 16) ^ saddr ^ (daddr >> 16) ^ daddr ^ sport ^ dport) & 0xffffu;
}

/* Toeplitz of a folded tuple with the symmetric key. */
static inline unsigned int hsk_steer_hash16(unsigned int x)
{
	const unsigned long long k = 0x6d5a6d5a6d5a6d5aull;
	unsigned int h = 0;
	int i;

#ifdef __clang__
#pragma unroll
#endif
	for (i = 0; i < 16; i++)
		if (x & (0x8000u >> i))
			h ^= (unsigned int)((k << i) >> 32);
	return h;
}

static inline unsigned int hsk_steer_hash(unsigned int saddr, unsigned int daddr,
					  unsigned int sport, unsigned int dport)
{
	return hsk_steer_hash16(hsk_steer_fold(saddr, daddr, sport, dport));
}

/*
 * The hash of a packet, parsed the same way on both sides. The includer
 * defines HSK_STEER_CTX (what packets are read from) and
 * HSK_STEER_LOAD(ctx, off, dst, n) (0 when n bytes at off were copied).
 *   TCP/UDP         by the 4-tuple;
 *   a fragment      by the addresses alone (ports 0): its pieces stay
 *                   together (the reassembled segment may be on the wrong
 *                   shard then; docs/scale.md);
 *   an ICMP error   by the TCP/UDP packet it quotes (the flow it is about:
 *                   the hash is symmetric, so quoting our own packet gives
 *                   the flow's hash);
 *   other IPv4      by the addresses;
 * IPv6 the same way, each address folded to 32 bits (the XOR of its four
 * words: with the 16-bit-periodic key that is the Toeplitz over the 36
 * bytes, what a NIC's RSS hashes for TCP/IPv6 with this 40-byte key):
 *   TCP/UDP right after the IPv6 header   by the 4-tuple;
 *   an ICMPv6 error (types 1-4) quoting a TCP/UDP packet   by its tuple;
 *   anything else (extension headers, fragments)   by the addresses;
 *   neither IPv4 nor IPv6   0.
 */
#ifdef HSK_STEER_LOAD
static inline unsigned int hsk_steer_be32(const unsigned char *p)
{
	return (unsigned int)p[0] << 24 | (unsigned int)p[1] << 16 | (unsigned int)p[2] << 8 | p[3];
}

/* An IPv6 address at p folded to 32 bits. */
static inline unsigned int hsk_steer_fold6(const unsigned char *p)
{
	return hsk_steer_be32(p) ^ hsk_steer_be32(p + 4) ^ hsk_steer_be32(p + 8) ^
	       hsk_steer_be32(p + 12);
}

static inline unsigned int hsk_steer_packet_hash6(HSK_STEER_CTX ctx)
{
	unsigned char ip[40], l4[4], in[40];
	unsigned int saddr, daddr, sport = 0, dport = 0;

	if (HSK_STEER_LOAD(ctx, 0, ip, 40))
		return 0;
	saddr = hsk_steer_fold6(ip + 8);
	daddr = hsk_steer_fold6(ip + 24);
	if (ip[6] == 6 || ip[6] == 17) {
		if (HSK_STEER_LOAD(ctx, 40, l4, 4) == 0) {
			sport = (unsigned int)l4[0] << 8 | l4[1];
			dport = (unsigned int)l4[2] << 8 | l4[3];
		}
	} else if (ip[6] == 58 && HSK_STEER_LOAD(ctx, 40, l4, 4) == 0 &&
		   l4[0] >= 1 && l4[0] <= 4 && HSK_STEER_LOAD(ctx, 48, in, 40) == 0 &&
		   in[0] >> 4 == 6 && (in[6] == 6 || in[6] == 17) &&
		   HSK_STEER_LOAD(ctx, 88, l4, 4) == 0) {
		saddr = hsk_steer_fold6(in + 8);
		daddr = hsk_steer_fold6(in + 24);
		sport = (unsigned int)l4[0] << 8 | l4[1];
		dport = (unsigned int)l4[2] << 8 | l4[3];
	}
	return hsk_steer_hash(saddr, daddr, sport, dport);
}

static inline unsigned int hsk_steer_packet_hash(HSK_STEER_CTX ctx)
{
	unsigned char ip[20], l4[4], icmp[4], in[20];
	unsigned int ihl, saddr, daddr, sport = 0, dport = 0, iihl;

	if (HSK_STEER_LOAD(ctx, 0, ip, 1))
		return 0;
	if (ip[0] >> 4 == 6)
		return hsk_steer_packet_hash6(ctx);
	if (HSK_STEER_LOAD(ctx, 0, ip, 20) || ip[0] >> 4 != 4)
		return 0;
	ihl = (ip[0] & 15u) * 4;
	saddr = hsk_steer_be32(ip + 12);
	daddr = hsk_steer_be32(ip + 16);
	/* MF or a fragment offset: no ports to be had */
	if ((ip[6] & 0x3f) || ip[7])
		goto out;
	if (ip[9] == 6 || ip[9] == 17) {
		if (HSK_STEER_LOAD(ctx, ihl, l4, 4) == 0) {
			sport = (unsigned int)l4[0] << 8 | l4[1];
			dport = (unsigned int)l4[2] << 8 | l4[3];
		}
	} else if (ip[9] == 1 && HSK_STEER_LOAD(ctx, ihl, icmp, 4) == 0 &&
		   (icmp[0] == 3 || icmp[0] == 4 || icmp[0] == 5 || icmp[0] == 11 || icmp[0] == 12) &&
		   HSK_STEER_LOAD(ctx, ihl + 8, in, 20) == 0 && in[0] >> 4 == 4 &&
		   (in[9] == 6 || in[9] == 17) && !(in[6] & 0x1f) && !in[7]) {
		iihl = (in[0] & 15u) * 4;
		if (HSK_STEER_LOAD(ctx, ihl + 8 + iihl, l4, 4) == 0) {
			saddr = hsk_steer_be32(in + 12);
			daddr = hsk_steer_be32(in + 16);
			sport = (unsigned int)l4[0] << 8 | l4[1];
			dport = (unsigned int)l4[2] << 8 | l4[3];
		}
	}
out:
	return hsk_steer_hash(saddr, daddr, sport, dport);
}
#endif

#endif
