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
};

static void pd_record(struct pcap_dev *pd, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct pcap_pkthdr h;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	h.ts = tv;
	h.caplen = (bpf_u_int32)len;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)pd->dump, &h, pkt);
	/* Flush about once a second so a running capture can be read. */
	if (now - pd->last_flush > 1000000000ull) {
		pcap_dump_flush(pd->dump);
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

hsk_dev *pcap_dev_open(hsk_dev *lower, const char *path, char *err, size_t errlen)
{
	(void)lower;
	dev_errf(err, errlen, "%s: handshake was built without libpcap", path);
	return NULL;
}

#endif
