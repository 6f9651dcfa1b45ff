// SPDX-License-Identifier: GPL-2.0
/*
 * A ring (one queue of a vbd): its shared pages, its event channel (late
 * EOI, so an event storm cannot hold a dom0 CPU), and the thread that takes
 * requests, starts their I/O and answers them.  Only the thread touches
 * the ring's requests and grant mappings; bio completions hand requests
 * back to it through the done list.
 */
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <xen/events.h>

#include "common.h"

void xdb_ring_respond(struct xdb_ring *ring, u64 id, u8 operation,
		      int status)
{
	unsigned long flags;

	spin_lock_irqsave(&ring->done_lock, flags);
	xdb_abi_put_response(&ring->br, ring->abi, id, operation, status);
	spin_unlock_irqrestore(&ring->done_lock, flags);
}

/* Publish the responses written so far; the caller holds done_lock. */
bool xdb_ring_push_locked(struct xdb_ring *ring)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring->br.native, notify);
	return notify;
}

void xdb_ring_push(struct xdb_ring *ring)
{
	unsigned long flags;
	bool notify;

	spin_lock_irqsave(&ring->done_lock, flags);
	notify = xdb_ring_push_locked(ring);
	spin_unlock_irqrestore(&ring->done_lock, flags);
	if (notify)
		notify_remote_via_irq(ring->irq);
}

static irqreturn_t ring_interrupt(int irq, void *data)
{
	struct xdb_ring *ring = data;

	WRITE_ONCE(ring->notified, true);
	wake_up(&ring->wq);
	return IRQ_HANDLED;
}

static bool has_done(struct xdb_ring *ring)
{
	return !list_empty_careful(&ring->done_reqs);
}

static void complete_done(struct xdb_ring *ring)
{
	struct xdb_req *req, *tmp;
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&ring->done_lock, flags);
	list_splice_init(&ring->done_reqs, &done);
	spin_unlock_irqrestore(&ring->done_lock, flags);
	list_for_each_entry_safe(req, tmp, &done, node) {
		list_del(&req->node);
		xdb_io_complete(ring, req);
		cond_resched();
	}
}

/*
 * The guest broke the ring protocol: stop reading it, say so once (not
 * when disconnected: the state is no longer the ring's to set).
 */
static void ring_fatal(struct xdb_ring *ring, const char *why)
{
	ring->broken = true;
	if (!READ_ONCE(ring->stopping))
		xenbus_dev_fatal(ring->vbd->dev, -EPROTO, "ring %u: %s",
				 ring->index, why);
}

/* Check and start one request; answer it at once if it cannot start. */
static void dispatch(struct xdb_ring *ring, const struct blkif_request *breq)
{
	struct xdb_vbd *vbd = ring->vbd;
	struct xdb_req *req;
	struct xdb_io io;
	int status;

	status = xdb_check_request(breq, &vbd->limits, &io);
	/*
	 * A disk made read-only since it was opened (blockdev --setro, a dm
	 * table reloaded read-only) takes no more writes: the block layer
	 * only warns about them.  In-tree lets them through.
	 */
	if (status == BLKIF_RSP_OKAY && io.kind != XDB_IO_READ &&
	    bdev_read_only(vbd->bdev.bdev))
		status = BLKIF_RSP_ERROR;
	if (status == BLKIF_RSP_OKAY && io.kind == XDB_IO_BARRIER &&
	    ring->inflight) {
		/* A barrier waits until everything before it is done. */
		ring->held = *breq;
		ring->held_valid = true;
		return;
	}

	req = list_first_entry(&ring->free_reqs, struct xdb_req, node);
	list_del(&req->node);
	ring->inflight++;
	req->id = io.id;
	req->operation = io.operation;
	req->status = BLKIF_RSP_OKAY;
	req->nr_segs = 0;

	if (status == BLKIF_RSP_OKAY) {
		if (io.kind == XDB_IO_DISCARD) {
			/* Answers so far go out first: a discard may be long. */
			xdb_ring_push(ring);
			status = xdb_io_discard(ring, &io);
		} else {
			status = xdb_io_submit(ring, req, &io);
		}
		if (status == XDB_IN_FLIGHT) {
			if (io.kind == XDB_IO_BARRIER)
				ring->draining = true;
			return;
		}
	} else {
		pr_warn_ratelimited("vbd %u/%u: request (operation %u) refused\n",
				    vbd->domid, vbd->handle, breq->operation);
	}
	req->status = status;
	/*
	 * Published with the rest of the pass (ring_thread pushes after it):
	 * a device that completes as it is called (brd) then costs the guest
	 * one event per pass, not one per answer it happens to wait for.
	 */
	xdb_io_complete(ring, req);
}

/*
 * Take what the frontend queued, as far as free requests and response
 * slots allow, and at most a ring's worth in one pass: refused requests
 * and discards are answered within it (their answers go out before each
 * discard and with any completion's), so a frontend that refills its ring
 * as fast as answers come would otherwise keep the thread here for good,
 * away from cond_resched() and kthread_stop().  Requests left over set
 * more_pending, for the next pass to start without waiting for an event.
 * Returns whether it took a request: an event that brought none it could
 * take is spurious, so that a frontend signalling while its requests must
 * wait (behind a barrier, or with every request in flight) is held back
 * by late EOI rather than served a pass per event.
 */
static bool process_requests(struct xdb_ring *ring)
{
	struct blkif_back_ring *br = &ring->br.native;
	struct blkif_request breq;
	unsigned int taken = 0;
	struct blk_plug plug;
	RING_IDX rp;
	int more;

	ring->more_pending = false;
	if (ring->broken || READ_ONCE(ring->stopping))
		return false;
	if (ring->held_valid) {
		if (ring->inflight)
			return false;
		ring->held_valid = false;
		dispatch(ring, &ring->held);
	}
	if (ring->draining) {
		if (ring->inflight)
			return false;
		ring->draining = false;
	}

	blk_start_plug(&plug);
	do {
		rp = READ_ONCE(br->sring->req_prod);
		virt_rmb();	/* requests up to rp are in memory */
		if (RING_REQUEST_PROD_OVERFLOW(br, rp)) {
			ring_fatal(ring, "impossible request producer index");
			break;
		}
		while (br->req_cons != rp) {
			/*
			 * Discards run synchronously here, each as large as
			 * the disk: a stop or a disconnect waits for the one
			 * at hand only.
			 */
			if (READ_ONCE(ring->stopping))
				goto out;
			if (taken == ring->nr_reqs || kthread_should_stop()) {
				ring->more_pending = true;
				goto out;
			}
			if (RING_REQUEST_CONS_OVERFLOW(br, br->req_cons))
				goto out;
			if (list_empty(&ring->free_reqs)) {
				ring->stats.oo_req++;
				goto out;
			}
			xdb_abi_copy_request(&ring->br, ring->abi,
					     br->req_cons, &breq);
			br->req_cons++;
			taken++;
			dispatch(ring, &breq);
			/*
			 * A pass may take a ring of requests, each mapping up
			 * to thousands of grants (failing ones too): let the
			 * CPU go between them.
			 */
			cond_resched();
			if (ring->held_valid || ring->draining)
				goto out;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(br, more);
	} while (more);
out:
	blk_finish_plug(&plug);
	if (taken > ring->stats.max_pass)
		WRITE_ONCE(ring->stats.max_pass, taken);
	return taken != 0;
}

static void log_stats(struct xdb_ring *ring)
{
	struct xdb_stats *st = &ring->stats;

	pr_info("vbd %u/%u ring %u: rd %llu wr %llu f %llu ds %llu oo %llu rd_sect %llu wr_sect %llu max_pass %llu pgrants %u\n",
		ring->vbd->domid, ring->vbd->handle, ring->index, st->rd_req,
		st->wr_req, st->f_req, st->ds_req, st->oo_req, st->rd_sect,
		st->wr_sect, st->max_pass, ring->nr_pgrants);
}

/* Once a second: idle persistent grants, spare pages, statistics. */
static void housekeeping(struct xdb_ring *ring)
{
	if (time_before(jiffies, ring->next_purge))
		return;
	ring->next_purge = jiffies + HZ;
	if (ring->nr_pgrants)
		xdb_pgrant_purge(ring, false);
	gnttab_page_cache_shrink(&ring->page_cache, xdb_max_buffer_pages);
	if (xdb_log_stats && time_after_eq(jiffies, ring->next_stats_log)) {
		ring->next_stats_log = jiffies + 10 * HZ;
		log_stats(ring);
	}
}

static bool thread_has_work(struct xdb_ring *ring)
{
	return READ_ONCE(ring->notified) || has_done(ring) ||
	       kthread_should_stop();
}

/*
 * Sleep until an event, a completion the thread must see, or a second
 * has passed (housekeeping); not at all while a bounded pass left
 * requests on the ring (the frontend need not notify for those).
 * Requests answered from their completion wake it only when it waits for
 * one to come back: out of free requests, or a barrier waiting for the
 * I/O before it.
 */
static void wait_for_work(struct xdb_ring *ring)
{
	if (ring->more_pending)
		return;
	WRITE_ONCE(ring->wants_done, list_empty(&ring->free_reqs) ||
		   ring->held_valid || ring->draining);
	smp_mb();	/* req_put() sees wants_done, or we see its request */
	wait_event_interruptible_timeout(ring->wq, thread_has_work(ring), HZ);
}

static int ring_thread(void *data)
{
	struct xdb_ring *ring = data;

	while (!kthread_should_stop()) {
		bool eoi;

		wait_for_work(ring);
		complete_done(ring);
		/*
		 * Clear before looking: a later event must wake us again.  One
		 * step, so that an event coming in between cannot be cleared
		 * unseen and its EOI never sent (the channel masked for good).
		 */
		eoi = xchg(&ring->notified, false);
		if (process_requests(ring))
			ring->requests_since_eoi = true;
		xdb_ring_push(ring);
		/*
		 * An event is spurious only if no request came since the last
		 * EOI: a pass woken by a completion often takes the requests
		 * an event announces before the event is seen.  Counting
		 * those as spurious makes the kernel delay the next EOIs (up
		 * to a second each) under a steady load.
		 */
		if (eoi) {
			xen_irq_lateeoi(ring->irq, ring->requests_since_eoi ?
					0 : XEN_EOI_FLAG_SPURIOUS);
			ring->requests_since_eoi = false;
		}
		housekeeping(ring);
		cond_resched();
	}

	/*
	 * Stopping: answer what is in flight before the grants go.  Each
	 * request is collected under done_lock, which its completion holds
	 * until it no longer touches the ring (req_put()).
	 */
	WRITE_ONCE(ring->wants_done, true);
	smp_mb();	/* as in wait_for_work() */
	while (ring->inflight) {
		wait_event(ring->wq, has_done(ring));
		complete_done(ring);
	}
	/*
	 * A barrier still held was taken from the ring too, and every request
	 * taken gets one answer: it fails, as it was never written.
	 */
	if (ring->held_valid) {
		xdb_ring_respond(ring, ring->held.u.rw.id, ring->held.operation,
				 BLKIF_RSP_ERROR);
		ring->held_valid = false;
	}
	xdb_ring_push(ring);
	return 0;
}

static void free_reqs(struct xdb_ring *ring)
{
	unsigned int i;

	if (!ring->reqs)
		return;
	for (i = 0; i < ring->nr_reqs; i++)
		kvfree(ring->reqs[i].segs);
	kvfree(ring->reqs);
	ring->reqs = NULL;
}

static int alloc_reqs(struct xdb_ring *ring)
{
	unsigned int i;

	ring->reqs = kvcalloc(ring->nr_reqs, sizeof(*ring->reqs), GFP_KERNEL);
	if (!ring->reqs)
		return -ENOMEM;
	for (i = 0; i < ring->nr_reqs; i++) {
		struct xdb_req *req = &ring->reqs[i];

		req->ring = ring;
		req->segs = kvcalloc(ring->max_segs, sizeof(*req->segs),
				     GFP_KERNEL);
		if (!req->segs)
			return -ENOMEM;
		list_add_tail(&req->node, &ring->free_reqs);
	}
	return 0;
}

static void free_scratch(struct xdb_ring *ring)
{
	kvfree(ring->map_ops);
	kvfree(ring->unmap_ops);
	kvfree(ring->pages);
	kvfree(ring->map_idx);
	kvfree(ring->purge_batch);
	ring->map_ops = NULL;
	ring->unmap_ops = NULL;
	ring->pages = NULL;
	ring->map_idx = NULL;
	ring->purge_batch = NULL;
	if (ring->indirect_segs)
		free_pages_exact(ring->indirect_segs, ring->indirect_size);
	ring->indirect_segs = NULL;
}

static int alloc_scratch(struct xdb_ring *ring)
{
	unsigned int n = ring->max_segs, indirect;

	ring->map_ops = kvcalloc(n, sizeof(*ring->map_ops), GFP_KERNEL);
	ring->unmap_ops = kvcalloc(n, sizeof(*ring->unmap_ops), GFP_KERNEL);
	ring->pages = kvcalloc(n, sizeof(*ring->pages), GFP_KERNEL);
	ring->map_idx = kvcalloc(n, sizeof(*ring->map_idx), GFP_KERNEL);
	ring->purge_batch = kvcalloc(n, sizeof(*ring->purge_batch),
				     GFP_KERNEL);
	if (!ring->map_ops || !ring->unmap_ops || !ring->pages ||
	    !ring->map_idx || !ring->purge_batch)
		return -ENOMEM;
	indirect = ring->vbd->limits.max_indirect_segs;
	if (indirect) {
		/* Whole pages: each indirect page is grant-copied into one. */
		ring->indirect_size = DIV_ROUND_UP(indirect,
						   XDB_SEGS_PER_INDIRECT_PAGE) *
				      PAGE_SIZE;
		ring->indirect_segs = alloc_pages_exact(ring->indirect_size,
							GFP_KERNEL);
		if (!ring->indirect_segs)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Set up what xdb_ring_disconnect touches, for every ring of a vbd before
 * any of them connects: a connect that fails part way, or never starts
 * because an earlier ring failed, leaves a ring that is safe to tear down.
 */
void xdb_ring_init(struct xdb_ring *ring, struct xdb_vbd *vbd,
		   unsigned int index)
{
	ring->vbd = vbd;
	ring->index = index;
	init_waitqueue_head(&ring->wq);
	spin_lock_init(&ring->done_lock);
	INIT_LIST_HEAD(&ring->free_reqs);
	INIT_LIST_HEAD(&ring->done_reqs);
	ring->pgrants = RB_ROOT;
	gnttab_page_cache_init(&ring->page_cache);
}

/*
 * Map the ring the frontend granted, bind its event channel and start its
 * thread.  The ring was set up by xdb_ring_init; on failure the caller
 * calls xdb_ring_disconnect.
 */
int xdb_ring_connect(struct xdb_ring *ring, grant_ref_t *grefs,
		     unsigned int nr_grefs, evtchn_port_t evtchn)
{
	struct xdb_vbd *vbd = ring->vbd;
	int err;

	ring->max_segs = max_t(unsigned int, BLKIF_MAX_SEGMENTS_PER_REQUEST,
			       vbd->limits.max_indirect_segs);

	err = xenbus_map_ring_valloc(vbd->dev, grefs, nr_grefs, &ring->sring);
	if (err)
		return err;
	xdb_abi_init_ring(&ring->br, ring->abi, ring->sring,
			  XEN_PAGE_SIZE * nr_grefs);
	ring->nr_reqs = xdb_abi_ring_size(&ring->br, ring->abi);

	err = alloc_reqs(ring);
	if (!err)
		err = alloc_scratch(ring);
	if (err)
		return err;

	err = bind_interdomain_evtchn_to_irqhandler_lateeoi(vbd->dev, evtchn,
							    ring_interrupt, 0,
							    "blkif-backend",
							    ring);
	if (err < 0)
		return err;
	ring->irq = err;

	ring->next_purge = jiffies + HZ;
	ring->thread = kthread_run(ring_thread, ring, "%u.%s-%u", vbd->domid,
				   vbd->devname, ring->index);
	if (IS_ERR(ring->thread)) {
		err = PTR_ERR(ring->thread);
		ring->thread = NULL;
		return err;
	}
	return 0;
}

/*
 * Take no more requests, at once (the thread finishes the one at hand):
 * the disconnect that calls this returns before the ring's I/O is done,
 * and may say Closed (or the device go) before xdb_ring_disconnect.
 */
void xdb_ring_stop_taking(struct xdb_ring *ring)
{
	WRITE_ONCE(ring->stopping, true);
}

/* Undo xdb_ring_connect, whatever part of it was done, if any. */
void xdb_ring_disconnect(struct xdb_ring *ring)
{
	if (ring->thread) {
		kthread_stop(ring->thread);
		ring->thread = NULL;
	}
	if (ring->irq) {
		unbind_from_irqhandler(ring->irq, ring);
		ring->irq = 0;
	}
	if (ring->purge_batch)
		xdb_pgrant_purge(ring, true);
	gnttab_page_cache_shrink(&ring->page_cache, 0);
	if (ring->sring) {
		xenbus_unmap_ring_vfree(ring->vbd->dev, ring->sring);
		ring->sring = NULL;
	}
	free_reqs(ring);
	free_scratch(ring);
}
