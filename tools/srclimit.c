/*
 * Connections per source address (see serve.h): open addressing with
 * linear probing, at most half full, and deletion by backward shift, so
 * no tombstones accumulate while clients come and go. The hash is keyed
 * with a secret from the caller: a client that picks its addresses still
 * cannot predict which slots they take.
 */
#include <stdlib.h>

#include "serve.h"

struct src_ent {
	uint64_t addr;        /* src_key */
	uint32_t n;           /* 0: free slot */
};

static uint32_t src_hash(const src_table *t, uint64_t addr)
{
	uint64_t z = addr ^ t->key;

	/* splitmix64's finaliser */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31)) & (t->cap - 1);
}

uint64_t src_key(const hsk_addr *a)
{
	uint64_t k = 0;

	if (a->family != HSK_AF_INET6)
		return a->v4;
	for (int i = 0; i < 8; i++)
		k = k << 8 | a->v6[i];
	return k;
}

void src_init(src_table *t, uint64_t key)
{
	*t = (src_table){ .key = key };
}

void src_free(src_table *t)
{
	free(t->e);
	t->e = NULL;
	t->cap = t->used = 0;
}

static struct src_ent *src_find(const src_table *t, uint64_t addr)
{
	if (!t->cap)
		return NULL;
	for (uint32_t i = src_hash(t, addr);; i = (i + 1) & (t->cap - 1)) {
		struct src_ent *e = &t->e[i];
		if (!e->n)
			return NULL;
		if (e->addr == addr)
			return e;
	}
}

uint32_t src_count(const src_table *t, uint64_t addr)
{
	const struct src_ent *e = src_find(t, addr);

	return e ? e->n : 0;
}

static void src_put(src_table *t, uint64_t addr, uint32_t n)
{
	uint32_t i = src_hash(t, addr);

	while (t->e[i].n)
		i = (i + 1) & (t->cap - 1);
	t->e[i] = (struct src_ent){ addr, n };
	t->used++;
}

static int src_grow(src_table *t)
{
	src_table old = *t;

	t->cap = old.cap ? 2 * old.cap : 64;
	t->e = calloc(t->cap, sizeof(*t->e));
	if (!t->e) {
		*t = old;
		return -1;
	}
	t->used = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.e[i].n)
			src_put(t, old.e[i].addr, old.e[i].n);
	free(old.e);
	return 0;
}

int src_add(src_table *t, uint64_t addr)
{
	struct src_ent *e = src_find(t, addr);

	if (e) {
		e->n++;
		return 0;
	}
	if (2 * (t->used + 1) > t->cap && src_grow(t) < 0)
		return -1;
	src_put(t, addr, 1);
	return 0;
}

void src_del(src_table *t, uint64_t addr)
{
	struct src_ent *e = src_find(t, addr);
	uint32_t mask = t->cap - 1, i, j;

	if (!e || --e->n)
		return;
	/* Backward shift: move up every entry of the run after the hole that
	 * may sit there (its home slot is not cyclically within (i, j]). */
	i = (uint32_t)(e - t->e);
	for (j = (i + 1) & mask; t->e[j].n; j = (j + 1) & mask) {
		uint32_t home = src_hash(t, t->e[j].addr);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->e[i] = t->e[j];
			i = j;
		}
	}
	t->e[i].n = 0;
	t->used--;
}
