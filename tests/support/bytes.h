/*
 * Byte helpers shared by the unit tests of the wire parsers.
 */
#ifndef HSK_TEST_BYTES_H
#define HSK_TEST_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* A copy of p[0..n) in a block of its own of exactly n bytes (one when n
 * is 0), so that ASan reports a parser that reads past the end; the caller
 * frees it. Asserts that the allocation succeeded. */
uint8_t *dup_bytes(const uint8_t *p, size_t n);

#endif
