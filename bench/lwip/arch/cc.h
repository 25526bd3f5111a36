/* lwIP's architecture header for the build from source (bench/lwip/lwipopts.h):
 * Linux, glibc, little-endian x86-64, byte swaps from the compiler. */
#ifndef BENCH_LWIP_ARCH_CC_H
#define BENCH_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS
#define lwip_htons(x) ((u16_t)__builtin_bswap16(x))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32(x))
#define LWIP_RAND() ((u32_t)rand())
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwip: %s\n", x); abort(); } while (0)

#endif
