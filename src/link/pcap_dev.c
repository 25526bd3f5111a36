/*
 * A pcap writer stacked on any device: every packet read from or written to
 * the device below is recorded, with wall-clock time, in a LINKTYPE_RAW
 * (bare IPv4) capture that tshark/wireshark open directly. libpcap writes
 * the file (pcap_open_dead + pcap_dump).
 *
 * Where it sits decides what it sees: directly above the stack (the CLI's
 * choice) it records the stack's own view, i.e. packets as sent before an
 * impairment layer drops them and packets as received after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "link/dev.h"

#ifdef HSK_HAVE_PCAP
#include <pcap/pcap.h>

struct pcap_dev {
	hsk_dev dev;
	pcap_t *p;
	pcap_dumper_t *dump;
	uint64_t last_flush;
	int err;             /* first write error (errno), sticky */
};

/* pcap_dump() returns nothing: a failed write shows only in the stream's
 * error flag or in the next flush. The first error stops the capture (a
 * file with a hole is worse than a short one) and is kept for
 * pcap_dev_error(). */
static void pd_check(struct pcap_dev *pd, int flush_rc)
{
	if (pd->err)
		return;
	if (flush_rc < 0 || ferror(pcap_dump_file(pd->dump)))
		pd->err = errno ? errno : EIO;
}

static void pd_record(struct pcap_dev *pd, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct pcap_pkthdr h;
	struct timeval tv;

	if (pd->err)
		return;
	gettimeofday(&tv, NULL);
	h.ts = tv;
	h.caplen = (bpf_u_int32)len;
	h.len = (bpf_u_int32)len;
	errno = 0;
	pcap_dump((u_char *)pd->dump, &h, pkt);
	pd_check(pd, 0);
	/* Flush about once a second so a running capture can be read. */
	if (now - pd->last_flush > 1000000000ull) {
		errno = 0;
		pd_check(pd, pcap_dump_flush(pd->dump));
		pd->last_flush = now;
	}
}

static long pd_read(hsk_dev *d, uint64_t now, uint8_t *buf, size_t cap)
{
	long n = dev_read(d->lower, now, buf, cap);

	if (n > 0) {
		d->st.rx_packets++;
		d->st.rx_bytes += (uint64_t)n;
		pd_record((struct pcap_dev *)d, now, buf, (size_t)n);
	}
	return n;
}

static int pd_write(hsk_dev *d, uint64_t now, const uint8_t *pkt, size_t len)
{
	d->st.tx_packets++;
	d->st.tx_bytes += len;
	pd_record((struct pcap_dev *)d, now, pkt, len);
	return dev_write(d->lower, now, pkt, len);
}

static void pd_close(hsk_dev *d)
{
	struct pcap_dev *pd = (struct pcap_dev *)d;

	pcap_dump_close(pd->dump);
	pcap_close(pd->p);
	dev_close(d->lower);
	free(pd);
}

static const struct hsk_dev_ops pcap_ops = {
	.read = pd_read,
	.write = pd_write,
	.close = pd_close,
};

static struct pcap_dev *pd_find(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &pcap_ops)
			return (struct pcap_dev *)d;
	return NULL;
}

int pcap_dev_error(const hsk_dev *d)
{
	struct pcap_dev *pd = pd_find(d);

	return pd ? -pd->err : 0;
}

int pcap_dev_flush(hsk_dev *d)
{
	struct pcap_dev *pd = pd_find(d);

	if (!pd)
		return 0;
	if (!pd->err) {
		errno = 0;
		pd_check(pd, pcap_dump_flush(pd->dump));
	}
	return -pd->err;
}

hsk_dev *pcap_dev_open(hsk_dev *lower, const char *path, char *err, size_t errlen)
{
	struct pcap_dev *pd;

	pd = calloc(1, sizeof(*pd));
	if (!pd) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	pd->p = pcap_open_dead(DLT_RAW, 65535);
	if (!pd->p) {
		dev_errf(err, errlen, "pcap_open_dead failed");
		free(pd);
		return NULL;
	}
	pd->dump = pcap_dump_open(pd->p, path);
	if (!pd->dump) {
		dev_errf(err, errlen, "%s: %s", path, pcap_geterr(pd->p));
		pcap_close(pd->p);
		free(pd);
		return NULL;
	}
	pd->dev.ops = &pcap_ops;
	pd->dev.lower = lower;
	pd->dev.fd = lower->fd;
	pd->dev.mtu = lower->mtu;
	snprintf(pd->dev.name, sizeof(pd->dev.name), "pcap(%.50s)", lower->name);
	return &pd->dev;
}

#else /* !HSK_HAVE_PCAP */

int pcap_dev_error(const hsk_dev *d)
{
	(void)d;
	return 0;
}

int pcap_dev_flush(hsk_dev *d)
{
	(void)d;
	return 0;
}

hsk_dev *pcap_dev_open(hsk_dev *lower, const char *path, char *err, size_t errlen)
{
	(void)lower;
	dev_errf(err, errlen, "%s: handshake was built without libpcap", path);
	return NULL;
}

#endif
