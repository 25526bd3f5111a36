/*
 * TUNSETSTEERINGEBPF program: the queue of every packet the kernel sends
 * into a multi-queue TUN device. TUN takes (return value) mod queues, so
 * returning the hash mod the indirection table size gives the queue that
 * steer_queue() computes in user space. Built with clang -target bpf and
 * embedded in the library (cmake/link_features.cmake).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HSK_STEER_CTX struct __sk_buff *
#define HSK_STEER_LOAD(ctx, off, dst, n) bpf_skb_load_bytes(ctx, off, dst, n)
#include "../steer_hash.h"

SEC("socket")
int hsk_tun_steer(struct __sk_buff *skb)
{
	return (int)(hsk_steer_packet_hash(skb) % HSK_STEER_RETA);
}

char _license[] SEC("license") = "Dual MIT/GPL";
