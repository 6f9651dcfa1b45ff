// SPDX-License-Identifier: GPL-2.0
/*
 * Guest receive: frames the stack sends to the vif wait in a bounded
 * per-queue list until the guest has posted enough buffers; a kernel
 * thread per queue grant-copies them into those buffers in batches and
 * answers each request in its own ring slot (netfront relies on that).
 * A small frame into an idle queue is copied by its sender instead.
 * A guest that stops posting buffers costs dom0 a bounded queue: frames
 * expire after rx_drain_timeout_msecs, and after rx_stall_timeout_msecs
 * the carrier goes off until the guest catches up.
 */
#include <linux/etherdevice.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/grant_table.h>

#include "common.h"

int xnb_rx_alloc(struct xnb_queue *q)
{
	q->rx_copy = kvcalloc(XNB_RX_COPY_OPS, sizeof(*q->rx_copy),
			      GFP_KERNEL);
	q->rx_meta = kvcalloc(XNB_RX_RING_SIZE, sizeof(*q->rx_meta),
			      GFP_KERNEL);
	q->rx_items = kvcalloc(XNB_RX_RING_SIZE, sizeof(*q->rx_items),
			       GFP_KERNEL);
	if (!q->rx_copy || !q->rx_meta || !q->rx_items) {
		xnb_rx_free(q);
		return -ENOMEM;
	}
	skb_queue_head_init(&q->rx_queue);
	q->rx_queue_bytes = 0;
	init_waitqueue_head(&q->rx_wq);
	return 0;
}

void xnb_rx_free(struct xnb_queue *q)
{
	kvfree(q->rx_copy);
	kvfree(q->rx_meta);
	kvfree(q->rx_items);
	q->rx_copy = NULL;
	q->rx_meta = NULL;
	q->rx_items = NULL;
}

static struct netdev_queue *rx_txq(struct xnb_queue *q)
{
	return netdev_get_tx_queue(q->vif->dev, q->id);
}

static struct sk_buff *rx_dequeue(struct xnb_queue *q)
{
	struct sk_buff *skb;
	unsigned long flags;

	spin_lock_irqsave(&q->rx_queue.lock, flags);
	skb = __skb_dequeue(&q->rx_queue);
	if (skb) {
		q->rx_queue_bytes -= skb->len;
		if (q->rx_queue_bytes < XNB_RX_QUEUE_BYTES / 2 &&
		    netif_tx_queue_stopped(rx_txq(q)))
			netif_tx_wake_queue(rx_txq(q));
	}
	spin_unlock_irqrestore(&q->rx_queue.lock, flags);
	return skb;
}

static struct sk_buff *rx_peek(struct xnb_queue *q)
{
	struct sk_buff *skb;
	unsigned long flags;

	spin_lock_irqsave(&q->rx_queue.lock, flags);
	skb = skb_peek(&q->rx_queue);
	spin_unlock_irqrestore(&q->rx_queue.lock, flags);
	return skb;
}

void xnb_rx_purge(struct xnb_queue *q)
{
	struct sk_buff *skb;

	while ((skb = rx_dequeue(q)))
		dev_kfree_skb_any(skb);
}

/* Data slots @skb takes, packed tight, the first after the XDP headroom. */
static unsigned int rx_data_slots(struct xnb_queue *q, struct sk_buff *skb)
{
	unsigned int first = XEN_PAGE_SIZE - q->rx_headroom;

	if (skb->len <= first)
		return 1;
	return 1 + DIV_ROUND_UP(skb->len - first, XEN_PAGE_SIZE);
}

static u8 rx_gso_type(struct sk_buff *skb)
{
	if (!skb_is_gso(skb))
		return XEN_NETIF_GSO_TYPE_NONE;
	if (skb_shinfo(skb)->gso_type & SKB_GSO_TCPV4)
		return XEN_NETIF_GSO_TYPE_TCPV4;
	if (skb_shinfo(skb)->gso_type & SKB_GSO_TCPV6)
		return XEN_NETIF_GSO_TYPE_TCPV6;
	return XEN_NETIF_GSO_TYPE_NONE;
}

/* Grant copies one frame can need: per source page, per destination slot. */
static unsigned int rx_ops_bound(struct sk_buff *skb, unsigned int slots)
{
	unsigned int n = slots, i;

	n += (offset_in_page(skb->data) + skb_headlen(skb)) / PAGE_SIZE + 1;
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];

		n += (offset_in_page(skb_frag_off(f)) + skb_frag_size(f)) /
			PAGE_SIZE + 1;
	}
	return n;
}

/* Ring slots of the head frame; 0 if it cannot be delivered at all. */
static unsigned int rx_slots_needed(struct xnb_queue *q, struct sk_buff *skb)
{
	struct xnb_vif *vif = q->vif;
	unsigned int data = rx_data_slots(q, skb);
	unsigned int limit = vif->can_sg ? XEN_NETIF_NR_SLOTS_MIN : 1;

	if (data > limit)
		return 0;
	if (XNB_RX_CB(skb)->has_hash)
		data++;
	if (skb_is_gso(skb)) {
		if (rx_gso_type(skb) == XEN_NETIF_GSO_TYPE_NONE)
			return 0;
		data++;
	}
	return data;
}

/* Copy state of one frame: where the next byte lands in the guest. */
struct rx_fill {
	struct xnb_queue *q;
	struct xnb_rx_item *it;
	unsigned int slot;		/* current data slot, in rx_meta[] */
	unsigned int next_data;		/* rx_meta[] index of the next one */
	unsigned int end;		/* first rx_meta[] index not ours */
	bool overflow;			/* the frame outgrew its slots */
	struct xen_netif_rx_request req; /* private copy of the slot */
};

static void rx_take_slot(struct rx_fill *f, unsigned int meta, u16 offset)
{
	struct xnb_queue *q = f->q;

	RING_COPY_REQUEST(&q->rx, q->rx.req_cons + meta, &f->req);
	f->slot = meta;
	q->rx_meta[meta].id = f->req.id;
	q->rx_meta[meta].offset = offset;
	q->rx_meta[meta].size = 0;
	q->rx_meta[meta].flags = 0;
	q->rx_meta[meta].extra = 0;
}

/* Copy @len bytes at gfn @gfn, offset @off (one local page) to the guest. */
static void rx_copy_piece(struct rx_fill *f, unsigned long gfn,
			  unsigned int off, unsigned int len)
{
	struct xnb_queue *q = f->q;

	while (len) {
		struct xnb_rx_meta *m = &q->rx_meta[f->slot];
		unsigned int doff = m->offset + m->size, chunk;
		struct gnttab_copy *op;

		if (doff == XEN_PAGE_SIZE) {
			/* Never past the slots counted for the frame. */
			if (f->next_data >= f->end) {
				f->overflow = true;
				return;
			}
			m->flags |= XEN_NETRXF_more_data;
			rx_take_slot(f, f->next_data++, 0);
			continue;
		}
		chunk = min(len, (unsigned int)XEN_PAGE_SIZE - doff);
		op = &q->rx_copy[f->it->op0 + f->it->nops++];
		op->source.u.gmfn = gfn;
		op->source.domid = DOMID_SELF;
		op->source.offset = off;
		op->dest.u.ref = f->req.gref;
		op->dest.domid = q->vif->domid;
		op->dest.offset = doff;
		op->len = chunk;
		op->flags = GNTCOPY_dest_gref;
		m->size += chunk;
		off += chunk;
		len -= chunk;
	}
}

/* Copy a run of local memory given as page + offset, page by page. */
static void rx_copy_run(struct rx_fill *f, struct page *page,
			unsigned int off, unsigned int len)
{
	page += off / PAGE_SIZE;
	off %= PAGE_SIZE;
	while (len) {
		unsigned int chunk = min(len, (unsigned int)PAGE_SIZE - off);

		rx_copy_piece(f, xen_page_to_gfn(page), off, chunk);
		page++;
		off = 0;
		len -= chunk;
	}
}

/* Lay out @skb over the slots from rx_meta[meta0] on and queue copies. */
static void rx_fill_frame(struct xnb_queue *q, struct xnb_rx_item *it,
			  unsigned int nslots)
{
	struct sk_buff *skb = it->skb;
	struct xnb_rx_meta *first = &q->rx_meta[it->meta0];
	u8 gso = rx_gso_type(skb);
	struct rx_fill f = { .q = q, .it = it };
	unsigned int i;

	f.next_data = it->meta0 + 1;
	f.end = it->meta0 + nslots;
	rx_take_slot(&f, it->meta0, q->rx_headroom);
	/* Extras follow the first data slot: GSO, then the hash. */
	if (gso != XEN_NETIF_GSO_TYPE_NONE) {
		struct xnb_rx_meta *ex = &q->rx_meta[f.next_data++];

		memset(ex, 0, sizeof(*ex));
		ex->extra = XEN_NETIF_EXTRA_TYPE_GSO;
		ex->more_extras = XNB_RX_CB(skb)->has_hash;
		ex->gso_type = gso;
		ex->gso_size = skb_shinfo(skb)->gso_size;
		first->flags |= XEN_NETRXF_extra_info;
	}
	if (XNB_RX_CB(skb)->has_hash) {
		struct xnb_rx_meta *ex = &q->rx_meta[f.next_data++];

		memset(ex, 0, sizeof(*ex));
		ex->extra = XEN_NETIF_EXTRA_TYPE_HASH;
		ex->hash_type = XNB_RX_CB(skb)->hash_type;
		ex->hash = XNB_RX_CB(skb)->hash;
		first->flags |= XEN_NETRXF_extra_info;
	}

	rx_copy_run(&f, virt_to_page(skb->data), offset_in_page(skb->data),
		    skb_headlen(skb));
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		rx_copy_run(&f, skb_frag_page(frag), skb_frag_off(frag),
			    skb_frag_size(frag));
	}

	if (skb->ip_summed == CHECKSUM_PARTIAL)
		first->flags |= XEN_NETRXF_csum_blank |
				XEN_NETRXF_data_validated;
	else if (skb->ip_summed == CHECKSUM_UNNECESSARY)
		first->flags |= XEN_NETRXF_data_validated;
	/* Slots the layout did not reach still get (empty) responses. */
	for (i = f.next_data; i < f.end; i++) {
		memset(&q->rx_meta[i], 0, sizeof(q->rx_meta[i]));
		q->rx_meta[i - 1].flags |= XEN_NETRXF_more_data;
		f.overflow = true;
	}
	it->failed = f.overflow;
	it->nr_meta = nslots;
}

/* Write the round's responses, in the slots of the requests they answer. */
static void rx_respond(struct xnb_queue *q, unsigned int nitems)
{
	unsigned int i, j;

	for (i = 0; i < nitems; i++) {
		struct xnb_rx_item *it = &q->rx_items[i];
		bool failed = it->failed;

		for (j = 0; j < it->nops; j++)
			if (q->rx_copy[it->op0 + j].status != GNTST_okay)
				failed = true;
		it->failed = failed;
		if (failed)
			q->stats->rx_dropped++;

		for (j = 0; j < it->nr_meta; j++) {
			struct xnb_rx_meta *m = &q->rx_meta[it->meta0 + j];
			union {
				struct xen_netif_rx_response *rsp;
				struct xen_netif_extra_info *ex;
			} u;

			u.rsp = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);
			if (m->extra) {
				memset(u.ex, 0, sizeof(*u.ex));
				u.ex->type = m->extra;
				if (m->more_extras)
					u.ex->flags = XEN_NETIF_EXTRA_FLAG_MORE;
				if (m->extra == XEN_NETIF_EXTRA_TYPE_GSO) {
					u.ex->u.gso.size = m->gso_size;
					u.ex->u.gso.type = m->gso_type;
				} else {
					u.ex->u.hash.type = m->hash_type;
					u.ex->u.hash.algorithm =
						XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
					/* Least significant octet first. */
					u.ex->u.hash.value[0] = m->hash;
					u.ex->u.hash.value[1] = m->hash >> 8;
					u.ex->u.hash.value[2] = m->hash >> 16;
					u.ex->u.hash.value[3] = m->hash >> 24;
				}
			} else {
				u.rsp->id = m->id;
				u.rsp->offset = m->offset;
				u.rsp->flags = m->flags;
				/* netfront drops a frame with any failed slot. */
				u.rsp->status = failed ? XEN_NETIF_RSP_ERROR :
							 m->size;
			}
			q->rx.rsp_prod_pvt++;
		}
	}
}

/*
 * One batch: as many queued frames as the posted buffers hold.  Returns
 * the slots used; *need gets the slots the next frame waits for.
 */
static unsigned int rx_round(struct xnb_queue *q, unsigned int *need)
{
	struct xnb_vif *vif = q->vif;
	unsigned int avail, used = 0, nops = 0, nitems = 0, i;
	RING_IDX prod;
	int notify;

	*need = 0;
	/* One headroom for the round: the frontend may change it any time. */
	q->rx_headroom = READ_ONCE(vif->xdp_headroom);
	prod = READ_ONCE(q->rx.sring->req_prod);
	virt_rmb(); /* read requests only after their producer index */
	avail = prod - q->rx.req_cons;
	if (avail > XNB_RX_RING_SIZE) {
		xnb_vif_fatal(vif, "impossible number of rx requests");
		return 0;
	}

	for (;;) {
		struct sk_buff *skb = rx_peek(q);
		struct xnb_rx_item *it;
		unsigned int slots;

		if (!skb)
			break;
		slots = rx_slots_needed(q, skb);
		if (!slots) {
			/* Too big or of a kind this guest cannot take. */
			dev_kfree_skb_any(rx_dequeue(q));
			q->stats->rx_dropped++;
			continue;
		}
		if (slots > avail - used) {
			*need = slots;
			break;
		}
		if (nops + rx_ops_bound(skb, slots) > XNB_RX_COPY_OPS)
			break;
		skb = rx_dequeue(q);
		it = &q->rx_items[nitems++];
		it->skb = skb;
		it->meta0 = used;
		it->op0 = nops;
		it->nops = 0;
		rx_fill_frame(q, it, slots);
		nops += it->nops;
		used += slots;
	}
	if (!nitems)
		return 0;

	if (nops)
		xnb_grant_copy(q->rx_copy, nops);
	rx_respond(q, nitems);
	/* xnb_rx_event() reads it from the event handler. */
	WRITE_ONCE(q->rx.req_cons, q->rx.req_cons + used);
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify)
		notify_remote_via_irq(q->rx_irq);

	for (i = 0; i < nitems; i++) {
		struct sk_buff *skb = q->rx_items[i].skb;

		/* A frame answered with errors counts as dropped only. */
		if (q->rx_items[i].failed) {
			dev_kfree_skb_any(skb);
		} else {
			q->stats->rx_frames++;
			q->stats->rx_bytes += skb->len;
			if (skb_is_gso(skb))
				q->stats->rx_gso++;
			dev_consume_skb_any(skb);
		}
		q->rx_items[i].skb = NULL;
	}
	q->rx_last_progress = jiffies;
	return used;
}

/* The ring is ours to fill: the thread's or one sender's, not both. */
static bool rx_claim(struct xnb_queue *q)
{
	return !test_and_set_bit_lock(XNB_RX_BUSY, &q->rx_busy);
}

static void rx_release(struct xnb_queue *q)
{
	clear_bit_unlock(XNB_RX_BUSY, &q->rx_busy);
	smp_mb__after_atomic(); /* free before the queue is looked at again */
}

/*
 * A small frame that found the queue empty goes to the guest from the
 * sender's context: an echo or a TCP ACK then costs dom0 no wake-up of
 * the thread (on a PV dom0 often an IPI and a vCPU leaving idle).  Only
 * when the ring is free and the frame is not one of a batch (the thread
 * batches those).  Returns whether the thread has nothing to do.
 */
static bool rx_deliver_now(struct xnb_queue *q)
{
	unsigned int need;

	if (netdev_xmit_more() || READ_ONCE(q->vif->disabled) || !rx_claim(q))
		return false;
	rx_round(q, &need);
	rx_release(q);
	return !rx_peek(q);
}

/* Called by ndo_start_xmit: queue a frame for the guest. */
netdev_tx_t xnb_rx_enqueue(struct xnb_queue *q, struct sk_buff *skb)
{
	bool small = skb->len <= XNB_RX_NOW_BYTES && !skb_is_gso(skb);
	unsigned long flags;
	bool drop = false, alone = false;

	XNB_RX_CB(skb)->expires = jiffies +
		msecs_to_jiffies(xnb_rx_drain_timeout_msecs);
	/* A frontend that set up hashing gets each frame's hash. */
	XNB_RX_CB(skb)->has_hash = xnb_hash_skb(q->vif, skb,
						&XNB_RX_CB(skb)->hash,
						&XNB_RX_CB(skb)->hash_type);
	spin_lock_irqsave(&q->rx_queue.lock, flags);
	/* Past twice the limit the stack ignored a stopped queue. */
	if (q->rx_queue_bytes > 2 * XNB_RX_QUEUE_BYTES) {
		drop = true;
	} else {
		__skb_queue_tail(&q->rx_queue, skb);
		alone = skb_queue_len(&q->rx_queue) == 1;
		q->rx_queue_bytes += skb->len;
		if (q->rx_queue_bytes > XNB_RX_QUEUE_BYTES)
			netif_tx_stop_queue(rx_txq(q));
	}
	spin_unlock_irqrestore(&q->rx_queue.lock, flags);
	if (drop) {
		/* Not q->stats: the ring's owner may be counting there now. */
		dev_core_stats_tx_dropped_inc(q->vif->dev);
		dev_kfree_skb_any(skb);
	} else if (!(small && alone && rx_deliver_now(q))) {
		wake_up(&q->rx_wq);
	}
	return NETDEV_TX_OK;
}

/* Drop frames at the head that waited longer than the drain timeout. */
static void rx_expire(struct xnb_queue *q)
{
	struct sk_buff *skb;

	while ((skb = rx_peek(q)) &&
	       time_after(jiffies, XNB_RX_CB(skb)->expires)) {
		dev_kfree_skb_any(rx_dequeue(q));
		q->stats->rx_dropped++;
	}
}

static unsigned int rx_posted(struct xnb_queue *q)
{
	return READ_ONCE(q->rx.sring->req_prod) - q->rx.req_cons;
}

/* The guest has buffers for the largest frame: enough to end a stall. */
#define XNB_RX_ROOM	(XEN_NETIF_NR_SLOTS_MIN + 1)

/*
 * Carrier off while a frame has waited for guest buffers longer than the
 * stall timeout since the guest last had room or took a frame; back on
 * once it posts enough buffers for the largest frame.
 */
static void rx_check_stall(struct xnb_queue *q, unsigned int need)
{
	struct xnb_vif *vif = q->vif;
	unsigned long timeout = msecs_to_jiffies(xnb_rx_stall_timeout_msecs);
	bool room = rx_posted(q) >= XNB_RX_ROOM;

	if (room)
		q->rx_last_progress = jiffies;
	if (q->stalled) {
		if (!room)
			return;
		/* xnb_rx_event() reads it. */
		WRITE_ONCE(q->stalled, false);
		atomic_dec(&vif->stalled_queues);
		xnb_vif_update_carrier(vif);
		return;
	}
	if (!need || !vif->rx_notify || !xnb_rx_stall_timeout_msecs ||
	    time_before(jiffies, q->rx_last_progress + timeout))
		return;
	WRITE_ONCE(q->stalled, true);
	q->stats->rx_stalls++;
	net_info_ratelimited("%s: queue %u stalled: the guest posts no receive buffers\n",
			     vif->dev->name, q->id);
	atomic_inc(&vif->stalled_queues);
	xnb_vif_update_carrier(vif);
}

/* Ask the guest for an event once @need slots are posted. */
static bool rx_wait_slots(struct xnb_queue *q, unsigned int need)
{
	q->rx.sring->req_event = q->rx.req_cons + need;
	virt_mb(); /* the event index before the producer re-read */
	return rx_posted(q) >= need;
}

static bool rx_ready(struct xnb_queue *q, unsigned int need)
{
	if (kthread_should_stop())
		return true;
	/* A sender filling the ring wakes us if it leaves frames. */
	if (test_bit(XNB_RX_BUSY, &q->rx_busy))
		return false;
	/* Frames a disabled vif still holds are ours to drop. */
	if (READ_ONCE(q->vif->disabled))
		return rx_peek(q);
	/* Buffers back: the carrier may go on again (rx_check_stall). */
	if (q->stalled && rx_posted(q) >= XNB_RX_ROOM)
		return true;
	if (need)
		return rx_posted(q) >= need;
	return rx_peek(q);
}

/*
 * Called from the event handler.  Work only if the event can let a queued
 * frame move or end a stall: the producer went past every value seen
 * before, and no more than a ring ahead of what we consumed.  A guest
 * that sets req_prod back and forth gets its events flagged spurious, so
 * the late-EOI throttle applies (XSA-332).
 */
bool xnb_rx_event(struct xnb_queue *q)
{
	RING_IDX prod = READ_ONCE(q->rx.sring->req_prod);
	RING_IDX cons, posted, seen;

	virt_rmb(); /* req_cons as recent as the responses the guest saw */
	cons = READ_ONCE(q->rx.req_cons);
	posted = prod - cons;
	seen = q->rx_seen_prod - cons;
	/* The thread may have consumed past it without an event. */
	if (seen > RING_SIZE(&q->rx))
		seen = 0;
	if (posted > RING_SIZE(&q->rx) || posted <= seen)
		return false;
	q->rx_seen_prod = prod;
	/*
	 * Wake on any forward move, a frame queued or not: the thread reads
	 * req_prod after each wake-up, so buffers it still waits for lie
	 * past rx_seen_prod and their event gets here.
	 */
	wake_up(&q->rx_wq);
	/* Buffers that end a stall are work too (rx_ready()). */
	return !skb_queue_empty_lockless(&q->rx_queue) ||
	       (READ_ONCE(q->stalled) && posted >= XNB_RX_ROOM);
}

int xnb_rx_thread(void *data)
{
	struct xnb_queue *q = data;
	unsigned int need = 0;

	q->rx_last_progress = jiffies;
	while (!kthread_should_stop()) {
		long timeout = MAX_SCHEDULE_TIMEOUT;

		/* Without rx notifications the ring must be polled. */
		if (rx_peek(q))
			timeout = q->vif->rx_notify ? HZ : HZ / 50;
		if (need) {
			if (rx_wait_slots(q, need))
				need = 0;
		} else if (q->stalled) {
			/*
			 * No frame left to wake us (the carrier is off): the
			 * guest's buffers must.
			 */
			rx_wait_slots(q, XNB_RX_ROOM);
		}
		wait_event_interruptible_timeout(q->rx_wq, rx_ready(q, need),
						 timeout);
		if (kthread_should_stop())
			break;
		if (!rx_claim(q))
			continue;
		if (READ_ONCE(q->vif->disabled)) {
			xnb_rx_purge(q);
			rx_release(q);
			need = 0;
			continue;
		}
		while (rx_round(q, &need))
			cond_resched();
		rx_expire(q);
		/*
		 * Only a queued frame waits for slots: with none left (all
		 * expired), a slot count to wait for would keep the next
		 * frames from waking us, and they would never expire.
		 */
		if (!rx_peek(q))
			need = 0;
		rx_check_stall(q, need);
		rx_release(q);
		cond_resched();
	}
	return 0;
}
