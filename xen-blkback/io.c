// SPDX-License-Identifier: GPL-2.0
/*
 * A request's I/O: segments fetched (indirect pages by grant copy into
 * private memory), grants mapped (or found in the persistent cache), bios
 * built and submitted; on completion the grants are unmapped and the
 * response written.  Everything here runs in the ring's thread except the
 * bio completion, which only queues the request for that thread.
 */
#include <linux/bio.h>
#include <linux/slab.h>
#include <xen/page.h>

#include "common.h"

/*
 * Copy the segment descriptors of an indirect request into private memory:
 * from the persistent mapping of each indirect page where the ring may
 * keep one (frontends with persistent grants reuse their indirect pages,
 * so this saves a hypercall per request), else by grant copy.
 */
static int fetch_indirect_segs(struct xdb_ring *ring, struct xdb_io *io)
{
	struct gnttab_copy ops[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	char *buf = (char *)ring->indirect_segs;
	unsigned int i, n = 0, left = io->nr_segs;

	for (i = 0; i < io->nr_indirect_pages; i++) {
		unsigned int len = min_t(unsigned int, left,
					 XDB_SEGS_PER_INDIRECT_PAGE) *
				   sizeof(struct blkif_request_segment);
		char *dst = buf + i * XEN_PAGE_SIZE;
		struct xdb_pgrant *pg = NULL;

		left -= len / sizeof(struct blkif_request_segment);
		if (ring->persistent)
			pg = xdb_pgrant_get_or_map(ring, io->indirect_grefs[i]);
		if (pg) {
			memcpy(dst, page_address(pg->page), len);
			xdb_pgrant_put(ring, pg);
			continue;
		}
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].source.u.ref = io->indirect_grefs[i];
		ops[n].source.domid = ring->vbd->domid;
		ops[n].dest.u.gmfn = virt_to_gfn(dst);
		ops[n].dest.domid = DOMID_SELF;
		ops[n].len = len;
		ops[n].flags = GNTCOPY_source_gref;
		n++;
	}
	if (n)
		gnttab_batch_copy(ops, n);
	for (i = 0; i < n; i++)
		if (ops[i].status != GNTST_okay)
			return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

static void set_segs(struct xdb_req *req, const struct xdb_io *io,
		     const struct blkif_request_segment *seg)
{
	unsigned int i;

	req->nr_segs = io->nr_segs;
	for (i = 0; i < io->nr_segs; i++) {
		req->segs[i].gref = seg[i].gref;
		req->segs[i].offset = seg[i].first_sect << 9;
		req->segs[i].len = (seg[i].last_sect - seg[i].first_sect + 1)
				   << 9;
		req->segs[i].page = NULL;
		req->segs[i].pgrant = NULL;
	}
}

/* Keep a new mapping in the persistent cache if the ring may. */
static void try_persist(struct xdb_ring *ring, struct xdb_seg *seg)
{
	struct xdb_pgrant *pg;

	if (ring->nr_pgrants >= xdb_max_persistent_grants)
		return;
	pg = kmalloc(sizeof(*pg), GFP_NOIO);
	if (!pg)
		return;
	pg->gref = seg->gref;
	pg->handle = seg->handle;
	pg->page = seg->page;
	if (!xdb_pgrant_add(ring, pg)) {
		kfree(pg);
		return;
	}
	seg->pgrant = pg;
}

/*
 * Map every segment's grant, from the persistent cache where it is there.
 * Returns BLKIF_RSP_OKAY or ERROR; on error the segments that did map are
 * recorded in req->segs for xdb_io_complete to release.
 */
static int map_segs(struct xdb_ring *ring, struct xdb_req *req, bool ro)
{
	unsigned int i, n = 0, flags = GNTMAP_host_map;
	unsigned int *idx = ring->map_idx;
	int status = BLKIF_RSP_OKAY, err;

	if (ro && !ring->persistent)
		flags |= GNTMAP_readonly;
	for (i = 0; i < req->nr_segs; i++) {
		struct xdb_seg *seg = &req->segs[i];

		if (ring->persistent) {
			seg->pgrant = xdb_pgrant_get(ring, seg->gref);
			if (seg->pgrant) {
				seg->page = seg->pgrant->page;
				continue;
			}
		}
		if (gnttab_page_cache_get(&ring->page_cache, &seg->page)) {
			seg->page = NULL;
			status = BLKIF_RSP_ERROR;
			break;
		}
		gnttab_set_map_op(&ring->map_ops[n],
				  (unsigned long)page_address(seg->page), flags,
				  seg->gref, ring->vbd->domid);
		ring->pages[n] = seg->page;
		idx[n++] = i;
	}
	if (!n)
		return status;

	err = gnttab_map_refs(ring->map_ops, NULL, ring->pages, n);
	for (i = 0; i < n; i++) {
		struct xdb_seg *seg = &req->segs[idx[i]];

		if (!err && ring->map_ops[i].status == GNTST_okay) {
			seg->handle = ring->map_ops[i].handle;
			if (ring->persistent)
				try_persist(ring, seg);
			continue;
		}
		/* A handle Xen gave despite the error must still be unmapped. */
		if (ring->map_ops[i].status == GNTST_okay) {
			seg->handle = ring->map_ops[i].handle;
		} else {
			gnttab_page_cache_put(&ring->page_cache, &seg->page, 1);
			seg->page = NULL;
		}
		pr_warn_ratelimited("vbd %u/%u: grant %u of the guest does not map (%d/%d)\n",
				    ring->vbd->domid, ring->vbd->handle,
				    seg->gref, err, ring->map_ops[i].status);
		status = BLKIF_RSP_ERROR;
	}
	return status;
}

/*
 * The ring's thread itself, not an interrupt that happens to have stopped
 * it (it may be about to sleep).
 */
static bool in_ring_thread(const struct xdb_ring *ring)
{
	return in_task() && current == ring->thread;
}

/*
 * A bio of the request is done; after the last one (if submission is
 * over) the request is.  One whose grants all stay mapped
 * (persistent) is answered here, without waiting for the thread: the
 * guest may reuse its grants and id at once, as nothing is unmapped.  The
 * thread still releases it from the done list, when it next runs, unless
 * it waits for it.
 *
 * Everything from the list_add on, the event and the wake-up included,
 * happens under done_lock: a stopping thread takes that lock to collect
 * this request before it can count it done and let the ring (its irq,
 * its wait queue) be freed, so the ring outlives our last touch of it.
 */
static void req_put(struct xdb_req *req)
{
	struct xdb_ring *ring = req->ring;
	bool notify = false, wake = true;
	unsigned long flags;

	if (!atomic_dec_and_test(&req->pending))
		return;
	spin_lock_irqsave(&ring->done_lock, flags);
	if (req->early) {
		xdb_abi_put_response(&ring->br, ring->abi, req->id,
				     req->operation, req->status);
		notify = xdb_ring_push_locked(ring);
		req->answered = true;
	}
	list_add_tail(&req->node, &ring->done_reqs);
	if (req->early) {
		smp_mb();	/* pairs with wait_for_work() */
		wake = READ_ONCE(ring->wants_done);
	}
	if (notify)
		notify_remote_via_irq(ring->irq);
	/* Not from the thread itself (a plug flushed): it is awake. */
	if (wake && !in_ring_thread(ring))
		wake_up(&ring->wq);
	spin_unlock_irqrestore(&ring->done_lock, flags);
}

static bool all_persistent(const struct xdb_req *req)
{
	unsigned int i;

	for (i = 0; i < req->nr_segs; i++)
		if (!req->segs[i].pgrant)
			return false;
	return true;
}

static void bio_done(struct bio *bio)
{
	struct xdb_req *req = bio->bi_private;

	if (bio->bi_status) {
		int status = bio->bi_status == BLK_STS_NOTSUPP ?
			     BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;

		cmpxchg(&req->status, BLKIF_RSP_OKAY, status);
	}
	bio_put(bio);
	req_put(req);
}

static struct bio *new_bio(struct xdb_req *req, unsigned int nr_vecs,
			   blk_opf_t opf, sector_t sector)
{
	struct bio *bio = bio_alloc(req->ring->vbd->bdev.bdev,
				    min_t(unsigned int, nr_vecs, BIO_MAX_VECS),
				    opf, GFP_NOIO);

	bio->bi_iter.bi_sector = sector;
	bio->bi_private = req;
	bio->bi_end_io = bio_done;
	atomic_inc(&req->pending);
	return bio;
}

static void submit_bios(struct xdb_req *req, blk_opf_t opf, sector_t sector)
{
	struct bio *bio = NULL;
	unsigned int i;

	if (!req->nr_segs) {
		submit_bio(new_bio(req, 0, opf, sector));
		return;
	}
	for (i = 0; i < req->nr_segs; i++) {
		struct xdb_seg *seg = &req->segs[i];

		if (!bio || !bio_add_page(bio, seg->page, seg->len,
					  seg->offset)) {
			if (bio)
				submit_bio(bio);
			bio = new_bio(req, req->nr_segs - i, opf, sector);
			/* A fresh bio has room for at least one page. */
			__bio_add_page(bio, seg->page, seg->len, seg->offset);
		}
		sector += seg->len >> 9;
	}
	submit_bio(bio);
}

static void count(struct xdb_ring *ring, const struct xdb_io *io)
{
	struct xdb_stats *st = &ring->stats;

	switch (io->kind) {
	case XDB_IO_READ:
		st->rd_req++;
		st->rd_sect += io->nr_sectors;
		break;
	case XDB_IO_WRITE:
		st->wr_req++;
		st->wr_sect += io->nr_sectors;
		break;
	case XDB_IO_FLUSH:
	case XDB_IO_BARRIER:
		st->f_req++;
		st->wr_sect += io->nr_sectors;
		break;
	case XDB_IO_DISCARD:
		st->ds_req++;
		break;
	}
}

/*
 * Start the I/O of a checked read, write, flush or barrier.  Returns
 * XDB_IN_FLIGHT when bios are on their way (the request comes back
 * through the done list), else the status for an immediate
 * xdb_io_complete: the request could not start, or every bio completed
 * while it was submitted (brd does so).
 */
int xdb_io_submit(struct xdb_ring *ring, struct xdb_req *req,
		  struct xdb_io *io)
{
	const struct blkif_request_segment *seg = io->seg;
	blk_opf_t opf;
	int status;

	req->nr_segs = 0;
	if (io->nr_indirect_pages) {
		status = fetch_indirect_segs(ring, io);
		if (status == BLKIF_RSP_OKAY)
			status = xdb_check_segments(ring->indirect_segs,
						    &ring->vbd->limits, io);
		if (status != BLKIF_RSP_OKAY)
			return status;
		seg = ring->indirect_segs;
	}
	set_segs(req, io, seg);
	count(ring, io);
	status = map_segs(ring, req, io->kind != XDB_IO_READ);
	if (status != BLKIF_RSP_OKAY)
		return status;

	/*
	 * Writes go as direct I/O does (REQ_SYNC | REQ_IDLE): the guest
	 * paces its own, and writeback throttling holds any other back.
	 */
	switch (io->kind) {
	case XDB_IO_READ:
		opf = REQ_OP_READ;
		break;
	case XDB_IO_WRITE:
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
		break;
	default:
		/* Earlier writes durable first, this one durable on return. */
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE | REQ_PREFLUSH |
		      (req->nr_segs ? REQ_FUA : 0);
		break;
	}
	req->early = all_persistent(req);
	atomic_set(&req->pending, 1);
	submit_bios(req, opf, io->sector);
	/* Done already: the thread finishes it, with no trip through the list. */
	if (atomic_dec_and_test(&req->pending))
		return req->status;
	return XDB_IN_FLIGHT;
}

/* Discards are carried out synchronously, in the ring's thread. */
int xdb_io_discard(struct xdb_ring *ring, const struct xdb_io *io)
{
	struct block_device *bdev = ring->vbd->bdev.bdev;
	int err;

	count(ring, io);
	if (io->secure)
		err = blkdev_issue_secure_erase(bdev, io->sector,
						io->nr_sectors, GFP_KERNEL);
	else
		err = blkdev_issue_discard(bdev, io->sector, io->nr_sectors,
					   GFP_KERNEL);
	if (err == -EOPNOTSUPP)
		return BLKIF_RSP_EOPNOTSUPP;
	return err ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
}

/*
 * Unmap the first @n grants of ring->unmap_ops, for ring->pages.  The
 * I/O can be done with a page while something else in dom0 still holds
 * it: a network block device's zero-copy send that may yet be
 * retransmitted.  gnttab_unmap_refs_sync() waits for them to let go, so
 * that they never read a grant the page maps next.
 */
int xdb_unmap_pages(struct xdb_ring *ring, unsigned int n)
{
	struct gntab_unmap_queue_data *w = &ring->unmap_wait;

	w->unmap_ops = ring->unmap_ops;
	w->kunmap_ops = NULL;
	w->pages = ring->pages;
	w->count = n;
	return gnttab_unmap_refs_sync(w);
}

/* Release what a request holds, answer it and free it. */
void xdb_io_complete(struct xdb_ring *ring, struct xdb_req *req)
{
	unsigned int i, n = 0;
	int err = 0;

	for (i = 0; i < req->nr_segs; i++) {
		struct xdb_seg *seg = &req->segs[i];

		if (seg->pgrant) {
			xdb_pgrant_put(ring, seg->pgrant);
		} else if (seg->page) {
			gnttab_set_unmap_op(&ring->unmap_ops[n],
					    (unsigned long)page_address(seg->page),
					    GNTMAP_host_map, seg->handle);
			ring->pages[n++] = seg->page;
		}
	}
	if (n)
		err = xdb_unmap_pages(ring, n);
	for (i = 0; i < n; i++) {
		/* A page still mapped must never be reused for anything. */
		if (!err && ring->unmap_ops[i].status == GNTST_okay)
			gnttab_page_cache_put(&ring->page_cache,
					      &ring->pages[i], 1);
		else
			pr_err_ratelimited("vbd %u/%u: a grant does not unmap (%d/%d), its page is kept\n",
					   ring->vbd->domid, ring->vbd->handle,
					   err, ring->unmap_ops[i].status);
	}
	if (!req->answered)
		xdb_ring_respond(ring, req->id, req->operation, req->status);
	req->nr_segs = 0;
	req->early = false;
	req->answered = false;
	list_add(&req->node, &ring->free_reqs);
	ring->inflight--;
}
