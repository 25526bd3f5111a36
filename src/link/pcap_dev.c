/*
 * A pcap writer stacked on any device: every packet read from or written to
 * the device below is recorded, with wall-clock time, in a LINKTYPE_RAW
 * (bare IPv4) capture that tshark/wireshark open directly. libpcap writes
 * the file (pcap_open_dead + pcap_dump).
 *
 * The queues of a multi-queue device share one file (pcap_dev_open_shared),
 * written under a mutex, so that the shards on them make one capture.
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
#include <pthread.h>
#include <pcap/pcap.h>

/* The file, shared by the layers of the queues of one multi-queue device
 * (each shard's thread records into the same capture): a mutex around
 * each record, uncontended with one queue. */
struct pcap_file {
	pthread_mutex_t mu;
	pcap_t *p;
	pcap_dumper_t *dump;
	uint64_t last_flush;
	int err;             /* first write error (errno), sticky */
	unsigned refs;
};

struct pcap_dev {
	hsk_dev dev;
	struct pcap_file *f;
};

/* pcap_dump() returns nothing: a failed write shows only in the stream's
 * error flag or in the next flush. The first error stops the capture (a
 * file with a hole is worse than a short one) and is kept for
 * pcap_dev_error(). Called with the mutex held. */
static void pd_check(struct pcap_file *f, int flush_rc)
{
	if (f->err)
		return;
	if (flush_rc < 0 || ferror(pcap_dump_file(f->dump)))
		f->err = errno ? errno : EIO;
}

static void pd_record(struct pcap_dev *pd, uint64_t now, const uint8_t *pkt, size_t len)
{
	struct pcap_file *f = pd->f;
	struct pcap_pkthdr h;
	struct timeval tv;

	pthread_mutex_lock(&f->mu);
	if (f->err)
		goto out;
	gettimeofday(&tv, NULL);
	h.ts = tv;
	h.caplen = (bpf_u_int32)len;
	h.len = (bpf_u_int32)len;
	errno = 0;
	pcap_dump((u_char *)f->dump, &h, pkt);
	pd_check(f, 0);
	/* Flush about once a second so a running capture can be read. */
	if (now - f->last_flush > 1000000000ull) {
		errno = 0;
		pd_check(f, pcap_dump_flush(f->dump));
		f->last_flush = now;
	}
out:
	pthread_mutex_unlock(&f->mu);
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

/* Batches pass through (recorded one by one), so that a capture does not
 * cost the device below its batches. */
static long pd_read_batch(hsk_dev *d, uint64_t now, hsk_pkt *pkts, unsigned n)
{
	long k = d->lower->ops->read_batch(d->lower, now, pkts, n);

	for (long i = 0; i < k; i++) {
		d->st.rx_packets++;
		d->st.rx_bytes += pkts[i].len;
		pd_record((struct pcap_dev *)d, now, pkts[i].data, pkts[i].len);
	}
	return k;
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
	struct pcap_file *f = pd->f;
	bool last;

	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (last) {
		pcap_dump_close(f->dump);
		pcap_close(f->p);
		pthread_mutex_destroy(&f->mu);
		free(f);
	}
	dev_close(d->lower);
	free(pd);
}

static const struct hsk_dev_ops pcap_ops = {
	.read = pd_read,
	.write = pd_write,
	.close = pd_close,
};

/* The same with read_batch, for a device below that has it. */
static const struct hsk_dev_ops pcap_batch_ops = {
	.read = pd_read,
	.write = pd_write,
	.read_batch = pd_read_batch,
	.close = pd_close,
};

static struct pcap_dev *pd_find(const hsk_dev *d)
{
	for (; d; d = d->lower)
		if (d->ops == &pcap_ops || d->ops == &pcap_batch_ops)
			return (struct pcap_dev *)d;
	return NULL;
}

int pcap_dev_error(const hsk_dev *d)
{
	struct pcap_dev *pd = pd_find(d);
	int e;

	if (!pd)
		return 0;
	pthread_mutex_lock(&pd->f->mu);
	e = pd->f->err;
	pthread_mutex_unlock(&pd->f->mu);
	return -e;
}

int pcap_dev_flush(hsk_dev *d)
{
	struct pcap_dev *pd = pd_find(d);
	int e;

	if (!pd)
		return 0;
	pthread_mutex_lock(&pd->f->mu);
	if (!pd->f->err) {
		errno = 0;
		pd_check(pd->f, pcap_dump_flush(pd->f->dump));
	}
	e = pd->f->err;
	pthread_mutex_unlock(&pd->f->mu);
	return -e;
}

static hsk_dev *pd_new(hsk_dev *lower, struct pcap_file *f, char *err, size_t errlen)
{
	struct pcap_dev *pd = calloc(1, sizeof(*pd));

	if (!pd) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	pd->f = f;
	pd->dev.ops = lower->ops->read_batch ? &pcap_batch_ops : &pcap_ops;
	pd->dev.lower = lower;
	pd->dev.fd = lower->fd;
	pd->dev.mtu = lower->mtu;
	snprintf(pd->dev.name, sizeof(pd->dev.name), "pcap(%.50s)", lower->name);
	return &pd->dev;
}

hsk_dev *pcap_dev_open(hsk_dev *lower, const char *path, char *err, size_t errlen)
{
	struct pcap_file *f = calloc(1, sizeof(*f));
	hsk_dev *d;

	if (!f) {
		dev_errf(err, errlen, "out of memory");
		return NULL;
	}
	f->p = pcap_open_dead(DLT_RAW, 65535);
	if (!f->p) {
		dev_errf(err, errlen, "pcap_open_dead failed");
		free(f);
		return NULL;
	}
	f->dump = pcap_dump_open(f->p, path);
	if (!f->dump) {
		dev_errf(err, errlen, "%s: %s", path, pcap_geterr(f->p));
		pcap_close(f->p);
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->mu, NULL);
	f->refs = 1;
	if (!(d = pd_new(lower, f, err, errlen))) {
		pcap_dump_close(f->dump);
		pcap_close(f->p);
		pthread_mutex_destroy(&f->mu);
		free(f);
	}
	return d;
}

hsk_dev *pcap_dev_open_shared(hsk_dev *lower, hsk_dev *other, char *err, size_t errlen)
{
	struct pcap_dev *o = pd_find(other);
	hsk_dev *d;

	if (!o) {
		dev_errf(err, errlen, "no capture to share");
		return NULL;
	}
	if ((d = pd_new(lower, o->f, err, errlen))) {
		pthread_mutex_lock(&o->f->mu);
		o->f->refs++;
		pthread_mutex_unlock(&o->f->mu);
	}
	return d;
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

hsk_dev *pcap_dev_open_shared(hsk_dev *lower, hsk_dev *other, char *err, size_t errlen)
{
	(void)lower;
	(void)other;
	dev_errf(err, errlen, "handshake was built without libpcap");
	return NULL;
}

#endif
