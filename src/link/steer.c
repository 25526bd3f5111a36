/*
 * Flow steering (see steer.h, steer_hash.h). The eBPF half loads the
 * program built into the library (cmake/link_features.cmake) with libbpf.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "link/dev.h"
#include "link/steer.h"

struct steer_buf {
	const uint8_t *p;
	size_t len;
};

static inline int steer_load(const struct steer_buf *b, unsigned off, void *dst, unsigned n)
{
	if (off > b->len || n > b->len - off)
		return -1;
	memcpy(dst, b->p + off, n);
	return 0;
}

#define HSK_STEER_CTX const struct steer_buf *
#define HSK_STEER_LOAD(ctx, off, dst, n) steer_load(ctx, off, dst, n)
#include "link/steer_hash.h"

const uint8_t steer_symmetric_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

uint32_t steer_hash(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport)
{
	return hsk_steer_hash(saddr, daddr, sport, dport);
}

uint32_t steer_fold6(const uint8_t a[16])
{
	return hsk_steer_fold6(a);
}

uint32_t steer_hash6(const uint8_t saddr[16], const uint8_t daddr[16], uint16_t sport,
		     uint16_t dport)
{
	return hsk_steer_hash(hsk_steer_fold6(saddr), hsk_steer_fold6(daddr), sport, dport);
}

unsigned steer_queue(uint32_t hash, unsigned n)
{
	return n ? (hash % HSK_STEER_RETA) % n : 0;
}

uint32_t steer_packet_hash(const uint8_t *pkt, size_t len)
{
	struct steer_buf b = { pkt, len };

	return hsk_steer_packet_hash(&b);
}

uint16_t steer_pick_port(uint32_t laddr, uint32_t raddr, uint16_t rport,
			 unsigned q, unsigned n, uint16_t lo, uint16_t hi, uint16_t start)
{
	uint32_t span = (uint32_t)hi - lo + 1, k;

	if (hi < lo)
		return 0;
	if (start < lo || start > hi)
		start = lo;
	for (k = 0; k < span; k++) {
		uint16_t p = (uint16_t)(lo + (start - lo + k) % span);
		if (steer_queue(steer_hash(laddr, raddr, p, rport), n) == q)
			return p;
	}
	return 0;
}

uint32_t steer_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data, size_t n)
{
	uint32_t h = 0, win;
	size_t next = 4;

	if (keylen < n + 4)
		return 0;
	/* win: the 32 key bits starting at the current input bit */
	win = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < n; i++) {
		for (int b = 7; b >= 0; b--) {
			if (data[i] & (1u << b))
				h ^= win;
			win = win << 1 | ((key[next] >> b) & 1u);
		}
		next++;
	}
	return h;
}

#ifdef HSK_HAVE_BPF
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

extern const unsigned char hsk_bpf_tun_steer[];
extern const size_t hsk_bpf_tun_steer_len;

bool steer_bpf_available(void) { return true; }

int steer_tun_prog_load(char *err, size_t errlen)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int fd = -1, rc;

	obj = bpf_object__open_mem(hsk_bpf_tun_steer, hsk_bpf_tun_steer_len, NULL);
	if (!obj) {
		dev_errf(err, errlen, "steering program: %s", strerror(errno));
		return -1;
	}
	if ((rc = bpf_object__load(obj)) < 0) {
		dev_errf(err, errlen, "loading the steering program: %s", strerror(-rc));
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "hsk_tun_steer");
	/* Our own reference: the object's goes with it. */
	if (!prog || (fd = dup(bpf_program__fd(prog))) < 0)
		dev_errf(err, errlen, "steering program: %s", strerror(errno));
out:
	bpf_object__close(obj);
	return fd;
}

int steer_tun_attach(int tunfd, char *err, size_t errlen)
{
	int fd = steer_tun_prog_load(err, errlen), rc = 0;

	if (fd < 0)
		return -1;
	if (ioctl(tunfd, TUNSETSTEERINGEBPF, &fd) < 0) {
		dev_errf(err, errlen, "TUNSETSTEERINGEBPF: %s", strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

int steer_prog_run(int prog_fd, const uint8_t *pkt, size_t len, uint32_t *ret)
{
	/* The test run takes an Ethernet frame and hands the program the
	 * network header, as TUN does. */
	uint8_t frame[14 + 65535] = { [12] = 0x08, [13] = 0x00 };
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int rc;

	if (len > sizeof(frame) - 14)
		return -EMSGSIZE;
	memcpy(frame + 14, pkt, len);
	o.data_in = frame;
	o.data_size_in = (uint32_t)(14 + len);
	o.repeat = 1;
	rc = bpf_prog_test_run_opts(prog_fd, &o);
	if (rc < 0)
		return -errno;
	*ret = o.retval;
	return 0;
}

#else /* built without clang/libbpf */

bool steer_bpf_available(void) { return false; }

int steer_tun_prog_load(char *err, size_t errlen)
{
	dev_errf(err, errlen, "eBPF steering: built without clang and libbpf (install clang libbpf-dev)");
	return -1;
}

int steer_tun_attach(int tunfd, char *err, size_t errlen)
{
	(void)tunfd;
	return steer_tun_prog_load(err, errlen);
}

int steer_prog_run(int prog_fd, const uint8_t *pkt, size_t len, uint32_t *ret)
{
	(void)prog_fd; (void)pkt; (void)len; (void)ret;
	return -ENOSYS;
}

#endif
