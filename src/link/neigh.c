/* The neighbour table shared by ARP and ND: see neigh.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/neigh.h"

int neigh_init(neigh_table *t, unsigned max_entries, unsigned max_pending, unsigned keylen)
{
	memset(t, 0, sizeof(*t));
	t->max_entries = max_entries ? max_entries : 1;
	t->max_pending = max_pending;
	t->keylen = keylen;
	t->e = calloc(t->max_entries, sizeof(*t->e));
	return t->e ? 0 : -1;
}

void neigh_fini(neigh_table *t)
{
	for (unsigned i = 0; t->e && i < t->max_entries; i++)
		neigh_clear(t, &t->e[i]);
	free(t->e);
	t->e = NULL;
}

struct neigh_entry *neigh_find(const neigh_table *t, const void *addr)
{
	for (unsigned i = 0; i < t->max_entries; i++)
		if (t->e[i].state != NEIGH_FREE && !memcmp(t->e[i].addr, addr, t->keylen))
			return &t->e[i];
	return NULL;
}

struct neigh_entry *neigh_alloc(neigh_table *t, const void *addr)
{
	struct neigh_entry *victim = NULL;

	for (unsigned i = 0; i < t->max_entries; i++) {
		struct neigh_entry *e = &t->e[i];
		if (e->state == NEIGH_FREE) {
			victim = e;
			break;
		}
		if (e->state != NEIGH_INCOMPLETE &&
		    (!victim || e->confirmed < victim->confirmed))
			victim = e;
	}
	if (!victim)
		return NULL;
	if (victim->state != NEIGH_FREE)
		t->evictions++;
	neigh_clear(t, victim);
	memcpy(victim->addr, addr, t->keylen);
	return victim;
}

void neigh_clear(neigh_table *t, struct neigh_entry *e)
{
	struct neigh_pkt *p;

	while ((p = neigh_pop(e))) {
		t->pending_drops++;
		free(p);
	}
	memset(e, 0, sizeof(*e));
}

int neigh_enqueue(neigh_table *t, struct neigh_entry *e, const uint8_t *pkt, size_t len)
{
	struct neigh_pkt *p;

	if (e->q_n >= t->max_pending || !(p = malloc(sizeof(*p) + len))) {
		t->pending_drops++;
		return -ENOBUFS;
	}
	p->next = NULL;
	p->len = len;
	memcpy(p->data, pkt, len);
	if (e->q_tail)
		e->q_tail->next = p;
	else
		e->q_head = p;
	e->q_tail = p;
	e->q_n++;
	return 0;
}

struct neigh_pkt *neigh_pop(struct neigh_entry *e)
{
	struct neigh_pkt *p = e->q_head;

	if (!p)
		return NULL;
	e->q_head = p->next;
	if (!e->q_head)
		e->q_tail = NULL;
	e->q_n--;
	return p;
}

size_t neigh_count(const neigh_table *t)
{
	size_t n = 0;

	for (unsigned i = 0; i < t->max_entries; i++)
		n += t->e[i].state != NEIGH_FREE;
	return n;
}
