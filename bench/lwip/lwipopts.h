/*
 * lwIP 2.1.3 built from Debian's source package for the benchmarks
 * (scripts/bench-deps.sh fetches it, scripts/bench.sh compiles it with
 * these options): the raw API without an OS (NO_SYS), IPv4 and TCP only,
 * sized for the same workloads as handshake's benchmarks: a 4 MiB window
 * and send buffer, and an MSS as large as a 64 KiB MTU allows (each
 * netif's MTU brings the effective MSS down to 1460 at MTU 1500).
 *
 * Memory comes from lwIP's own allocators, as an embedded build would have
 * it and as lwIP is fastest: fixed-size pools (memp) for pcbs and segments,
 * and lwIP's heap (mem.c) for the pbufs it sends; Debian's build uses
 * malloc for both. The pools are sized for the largest benchmark (16,000
 * connections, 4,096 TIME_WAIT pcbs, a 4 MiB send buffer); bench/lwip.c
 * measures an idle end as the growth of what these allocators hand out
 * (their statistics, the only ones switched on).
 */
#ifndef BENCH_LWIPOPTS_H
#define BENCH_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_TIMERS 1 /* sys_now() is bench/lwip.c's virtual clock */
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NOASSERT 1 /* a release build; Debian's keeps its asserts */

#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_DNS 0
#define LWIP_DHCP 0
#define LWIP_IGMP 0
#define LWIP_TCP 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0

#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (8 * 1024 * 1024)  /* the pbufs of a full 4 MiB send buffer */
#define MEMP_NUM_TCP_PCB 40000
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_TCP_SEG 16384
#define MEMP_NUM_PBUF 64
#define PBUF_POOL_SIZE 16           /* unused: received packets are our pbufs */
#define MEMP_NUM_SYS_TIMEOUT 8
#define LWIP_STATS 1                /* only what counts the allocators */
#define MEM_STATS 1
#define MEMP_STATS 1
#define LINK_STATS 0
#define ETHARP_STATS 0
#define IP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define IGMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 0
#define SYS_STATS 0
#define LWIP_STATS_DISPLAY 0

#define TCP_MSS 65495               /* 65535 - 40; MTU 1500 -> 1460 */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 7
#define TCP_WND (4 * 1024 * 1024)
#define TCP_SND_BUF (4 * 1024 * 1024)
#define TCP_SND_QUEUELEN 8192       /* pbufs: 4 MiB / 1460 B, twice */
#define TCP_SNDQUEUELOWAT 4096
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
/* init.c's checks assume 16-bit windows (TCP_SNDLOWAT vs 0xffff - 4*MSS)
 * and a receive path through PBUF_POOL, neither of which holds here */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define LWIP_NETIF_TX_SINGLE_PBUF 1 /* as Debian: one pbuf per segment */
#define LWIP_CHECKSUM_ON_COPY 1     /* as Debian: sum while tcp_write copies */
#define LWIP_CHKSUM_ALGORITHM 3     /* lwIP's fastest portable checksum */
#define LWIP_SUPPORT_CUSTOM_PBUF 1  /* the driver hands received packets over in place */

#endif
