/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring of pending ports that read() hands to user space.
 *
 * Plain memory and no locking: the caller serialises.  Kept free of kernel
 * calls so tests/unit can exercise it in user space.  prod and cons run
 * freely and wrap; size is a power of two and is only ever grown.
 */
#ifndef XEN_EVTCHN_RING_H
#define XEN_EVTCHN_RING_H

#include <linux/types.h>

struct evtchn_ring {
	u32 *slot;
	unsigned int size;	/* number of slots: 0 or a power of two */
	unsigned int prod;	/* next slot the interrupt handler fills */
	unsigned int cons;	/* next slot read() hands out */
	bool overflow;		/* a port was dropped; sticky until reset */
};

static inline unsigned int evtchn_ring_pending(const struct evtchn_ring *r)
{
	return r->prod - r->cons;
}

/* Queue a port; on a full ring, record the overflow instead. */
static inline bool evtchn_ring_push(struct evtchn_ring *r, u32 port)
{
	if (evtchn_ring_pending(r) >= r->size) {
		r->overflow = true;
		return false;
	}
	r->slot[r->prod & (r->size - 1)] = port;
	r->prod++;
	return true;
}

/*
 * How many of the first @want pending ports lie contiguously from cons on;
 * *@first points at them.  A wrapped ring needs a second call after cons
 * has been advanced, or the caller offsets by the count returned.
 */
static inline unsigned int evtchn_ring_chunk(const struct evtchn_ring *r,
					     unsigned int cons,
					     unsigned int want, u32 **first)
{
	unsigned int idx = cons & (r->size - 1);
	unsigned int until_end = r->size - idx;

	*first = &r->slot[idx];
	return want < until_end ? want : until_end;
}

/*
 * Move the pending ports into a larger array of @new_size slots (a power of
 * two no smaller than the pending count); returns the old array to free.
 */
static inline u32 *evtchn_ring_move(struct evtchn_ring *r, u32 *new_slot,
				    unsigned int new_size)
{
	u32 *old = r->slot;
	unsigned int i;

	for (i = r->cons; i != r->prod; i++)
		new_slot[i & (new_size - 1)] = r->slot[i & (r->size - 1)];
	r->slot = new_slot;
	r->size = new_size;
	return old;
}

static inline void evtchn_ring_reset(struct evtchn_ring *r)
{
	r->prod = 0;
	r->cons = 0;
	r->overflow = false;
}

#endif /* XEN_EVTCHN_RING_H */
