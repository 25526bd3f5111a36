/*
 * XDP program for the AF_XDP device: every frame that arrives on a queue
 * with a bound XSK goes to it (the device owns the interface: ARP too,
 * answered by arp.c as on TAP); a queue without one passes its frames to
 * the kernel. Built with clang -target bpf and embedded in the library.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} hsk_xsks SEC(".maps");

SEC("xdp")
int hsk_xsk_redirect(struct xdp_md *ctx)
{
	return (int)bpf_redirect_map(&hsk_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual MIT/GPL";
