/*
 * The operating system's randomness, for the stack's secret keys.
 *
 * The sans-IO core reads no OS (tests/lint/test_core_headers.sh): a stack
 * configured with seed 0 asks hsk_config.entropy for its keys, and when
 * that is NULL, this function. It lives here, beside the clock of the event
 * loop, because it is the one system call the library makes on behalf of
 * the core. A port to a system without getrandom(2) replaces this file or
 * sets hsk_config.entropy.
 */
#include <errno.h>
#include <sys/random.h>

#include "handshake.h"

int hsk_os_entropy(void *ctx, void *buf, size_t len)
{
	unsigned char *p = buf;
	(void)ctx;

	/* Flags 0: the urandom source, which blocks only until the kernel's
	 * pool has been seeded once after boot; keys made before that would
	 * be guessable. Reads of up to 256 bytes are never short, but a
	 * signal may interrupt the wait. */
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
