// SPDX-License-Identifier: GPL-2.0
/*
 * Persistent grants (feature-persistent): a frontend that offers them keeps
 * granting the same pages, so a ring keeps each such grant mapped after its
 * request and reuses the mapping.  The cache is bounded by
 * max_persistent_grants; grants over the bound are mapped per request as
 * usual.  Grants unused for persistent_grant_unused_seconds are unmapped by
 * the ring's thread, which alone touches the cache.
 */
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "common.h"

/* The cached grant for gref, marked in use; NULL if there is none. */
struct xdb_pgrant *xdb_pgrant_get(struct xdb_ring *ring, grant_ref_t gref)
{
	struct rb_node *n = ring->pgrants.rb_node;

	while (n) {
		struct xdb_pgrant *pg = rb_entry(n, struct xdb_pgrant, node);

		if (gref < pg->gref) {
			n = n->rb_left;
		} else if (gref > pg->gref) {
			n = n->rb_right;
		} else {
			pg->users++;
			return pg;
		}
	}
	return NULL;
}

/*
 * Cache a freshly mapped grant, in use.  False if gref is cached already
 * (a request naming one new grant twice): the caller keeps its mapping
 * for the request only.
 */
bool xdb_pgrant_add(struct xdb_ring *ring, struct xdb_pgrant *pg)
{
	struct rb_node **link = &ring->pgrants.rb_node, *parent = NULL;

	while (*link) {
		struct xdb_pgrant *cur = rb_entry(*link, struct xdb_pgrant,
						  node);

		parent = *link;
		if (pg->gref < cur->gref)
			link = &parent->rb_left;
		else if (pg->gref > cur->gref)
			link = &parent->rb_right;
		else
			return false;
	}
	pg->users = 1;
	rb_link_node(&pg->node, parent, link);
	rb_insert_color(&pg->node, &ring->pgrants);
	ring->nr_pgrants++;
	return true;
}

void xdb_pgrant_put(struct xdb_ring *ring, struct xdb_pgrant *pg)
{
	pg->users--;
	pg->last_used = jiffies;
}

/* Unmap a batch of idle grants and free them. */
static void unmap_batch(struct xdb_ring *ring, struct xdb_pgrant **batch,
			unsigned int n)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		gnttab_set_unmap_op(&ring->unmap_ops[i],
				    (unsigned long)page_address(batch[i]->page),
				    GNTMAP_host_map, batch[i]->handle);
		ring->pages[i] = batch[i]->page;
	}
	err = xdb_unmap_pages(ring, n);
	for (i = 0; i < n; i++) {
		/* A page still mapped must never be reused for anything. */
		if (!err && ring->unmap_ops[i].status == GNTST_okay)
			gnttab_page_cache_put(&ring->page_cache,
					      &batch[i]->page, 1);
		else
			pr_err_ratelimited("vbd %u/%u: persistent grant %u not unmapped (%d/%d), its page is kept\n",
					   ring->vbd->domid, ring->vbd->handle,
					   batch[i]->gref, err,
					   ring->unmap_ops[i].status);
		kfree(batch[i]);
	}
}

/*
 * The cached grant for @gref, marked in use, mapped now if it is not
 * cached yet; NULL if the cache is full or the grant does not map (the
 * caller copies instead).
 */
struct xdb_pgrant *xdb_pgrant_get_or_map(struct xdb_ring *ring,
					 grant_ref_t gref)
{
	struct gnttab_map_grant_ref *op = &ring->map_ops[0];
	struct xdb_pgrant *pg = xdb_pgrant_get(ring, gref);
	int err;

	if (pg || ring->nr_pgrants >= xdb_max_persistent_grants)
		return pg;
	pg = kzalloc(sizeof(*pg), GFP_NOIO);
	if (!pg)
		return NULL;
	if (gnttab_page_cache_get(&ring->page_cache, &pg->page)) {
		kfree(pg);
		return NULL;
	}
	gnttab_set_map_op(op, (unsigned long)page_address(pg->page),
			  GNTMAP_host_map, gref, ring->vbd->domid);
	err = gnttab_map_refs(op, NULL, &pg->page, 1);
	pg->gref = gref;
	pg->handle = op->handle;
	if (op->status != GNTST_okay) {
		gnttab_page_cache_put(&ring->page_cache, &pg->page, 1);
		kfree(pg);
		return NULL;
	}
	/* A mapping made despite an error, or (cannot be) a cached gref. */
	if (err || !xdb_pgrant_add(ring, pg)) {
		unmap_batch(ring, &pg, 1);
		return NULL;
	}
	return pg;
}

/*
 * Unmap cached grants that no request uses: every one (all), else those
 * idle for persistent_grant_unused_seconds or beyond the cache's bound.
 */
void xdb_pgrant_purge(struct xdb_ring *ring, bool all)
{
	unsigned long idle = (unsigned long)xdb_persistent_grant_unused_seconds *
			     HZ;
	struct xdb_pgrant **batch = ring->purge_batch;
	unsigned int max_batch = ring->max_segs, n = 0;
	struct rb_node *next = rb_first(&ring->pgrants);

	while (next) {
		struct xdb_pgrant *pg = rb_entry(next, struct xdb_pgrant, node);

		next = rb_next(next);
		if (pg->users)
			continue;
		if (!all && ring->nr_pgrants <= xdb_max_persistent_grants &&
		    time_before(jiffies, pg->last_used + idle))
			continue;
		rb_erase(&pg->node, &ring->pgrants);
		ring->nr_pgrants--;
		batch[n++] = pg;
		if (n == max_batch) {
			unmap_batch(ring, batch, n);
			n = 0;
		}
	}
	if (n)
		unmap_batch(ring, batch, n);
}
