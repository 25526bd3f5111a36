/*
 * A single-producer single-consumer ring of variable-length records: how
 * one shard hands a packet to another (shards.c). One thread pushes, one
 * other thread peeks and pops; no locks, no allocation after init.
 *
 * Records are copied in as a 8-byte header (the length) and the bytes,
 * padded to 8; a record that would run past the end of the buffer starts
 * again at the front, behind a wrap marker. head and tail count bytes
 * from the start and never wrap (2^64 bytes).
 *
 * Waking the consumer. spsc_push says when the consumer may have seen the
 * ring empty and gone to sleep (then the producer writes the consumer's
 * eventfd). The producer stores head and then loads tail; the consumer
 * stores tail and then loads head, all sequentially consistent: one of the
 * two always sees the other's store, so a record is never left behind a
 * sleeping consumer (at worst it is woken once for nothing).
 */
#ifndef HSK_API_SPSC_H
#define HSK_API_SPSC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* head and tail are kept 128 bytes apart (two cache lines, whatever the
 * struct's alignment), so the two threads do not share a line. */
typedef struct hsk_spsc {
	uint8_t *buf;
	size_t cap;                  /* a power of two, >= 64 */
	char pad0[128];
	_Atomic uint64_t head;       /* bytes pushed (producer) */
	char pad1[128];
	_Atomic uint64_t tail;       /* bytes popped (consumer) */
	char pad2[128];
} hsk_spsc;

enum { SPSC_FULL = -1, SPSC_PUSHED = 0, SPSC_WAKE = 1 };

/* cap: bytes, rounded up to a power of two (at least 64). 0 or -1. */
int spsc_init(hsk_spsc *r, size_t cap);
void spsc_free(hsk_spsc *r);
/* The largest record the ring takes (half its size, less the header). */
size_t spsc_max_record(const hsk_spsc *r);
/* Producer: copies len bytes in. SPSC_WAKE when the consumer may be
 * asleep on an empty ring, SPSC_PUSHED, or SPSC_FULL (nothing copied). */
int spsc_push(hsk_spsc *r, const void *data, size_t len);
/* Consumer: the oldest record, in place (valid until spsc_pop), or NULL
 * when the ring is empty. */
const uint8_t *spsc_peek(hsk_spsc *r, size_t *len);
/* Consumer: drops the record spsc_peek returned. */
void spsc_pop(hsk_spsc *r);

#endif
