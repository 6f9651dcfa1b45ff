// SPDX-License-Identifier: GPL-2.0
/*
 * Guest transmit: the frontend's tx ring, served by NAPI.  Each round
 * copies the ring's requests into private memory, validates each packet
 * there (tx_parse.c), builds skbs whose every byte is grant-copied from
 * the guest in one batch, answers every slot, then hands the frames to
 * the stack.  Nothing of the guest stays mapped after a round.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/grant_table.h>

#include "common.h"
#include "tx_layout.h"

int xnb_tx_alloc(struct xnb_queue *q)
{
	q->tx_slots = kvcalloc(XNB_TX_RING_SIZE, sizeof(*q->tx_slots),
			       GFP_KERNEL);
	q->tx_copy = kvcalloc(XNB_TX_COPY_OPS, sizeof(*q->tx_copy),
			      GFP_KERNEL);
	q->tx_items = kvcalloc(XNB_TX_BATCH, sizeof(*q->tx_items), GFP_KERNEL);
	if (!q->tx_slots || !q->tx_copy || !q->tx_items) {
		xnb_tx_free(q);
		return -ENOMEM;
	}
	return 0;
}

void xnb_tx_free(struct xnb_queue *q)
{
	kvfree(q->tx_slots);
	kvfree(q->tx_copy);
	kvfree(q->tx_items);
	q->tx_slots = NULL;
	q->tx_copy = NULL;
	q->tx_items = NULL;
}

static void credit_timer(struct timer_list *t)
{
	struct xnb_queue *q = xdb_timer_container_of(q, t, credit_timeout);

	WRITE_ONCE(q->tx_credit_wait, false);
	napi_schedule(&q->napi);
}

/* No limit until xenbus.c reads the toolstack's "rate" (bytes per usec). */
void xnb_tx_credit_init(struct xnb_queue *q)
{
	q->credit_bytes = 0;
	q->credit_usec = 0;
	q->remaining_credit = 0;
	q->credit_window_start = jiffies;
	q->tx_credit_wait = false;
	timer_setup(&q->credit_timeout, credit_timer, 0);
}

/* May a frame of @len bytes go now?  If not, the timer brings NAPI back. */
static bool credit_take(struct xnb_queue *q, unsigned int len)
{
	/* The "rate" watch may change these at any time. */
	unsigned long bytes = READ_ONCE(q->credit_bytes);
	unsigned long period = usecs_to_jiffies(READ_ONCE(q->credit_usec));

	if (!bytes)
		return true;
	if (time_after_eq(jiffies, q->credit_window_start + period)) {
		q->credit_window_start = jiffies;
		q->remaining_credit = bytes;
	}
	/* A frame larger than a whole period's credit goes on a fresh one. */
	if (len > q->remaining_credit && q->remaining_credit < bytes) {
		WRITE_ONCE(q->tx_credit_wait, true);
		mod_timer(&q->credit_timeout, q->credit_window_start + period);
		return false;
	}
	q->remaining_credit -= min_t(unsigned long, len, q->remaining_credit);
	return true;
}

/*
 * Room in the frags for @len bytes at guest offset @soff, @left bytes of
 * the frame still to place with them: returns the bytes that go at *doff
 * of local frame *gfn (0 if no page could be had).
 */
static unsigned int tx_frag_room(struct sk_buff *skb, unsigned int soff,
				 unsigned int len, unsigned int left,
				 unsigned long *gfn, unsigned int *doff)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	unsigned int nr = sh->nr_frags, end = 0;
	struct xnb_tx_place p;
	struct page *page;

	if (nr)
		end = skb_frag_off(&sh->frags[nr - 1]) +
		      skb_frag_size(&sh->frags[nr - 1]);
	p = xnb_tx_place(nr, end, soff, len, left - len, MAX_SKB_FRAGS);
	if (p.fresh) {
		page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
		if (!page)
			return 0;
		skb_add_rx_frag(skb, nr, page, p.off, p.len, PAGE_SIZE);
	} else {
		page = skb_frag_page(&sh->frags[nr - 1]);
		skb_frag_size_add(&sh->frags[nr - 1], p.len);
		skb->len += p.len;
		skb->data_len += p.len;
	}
	*gfn = xen_page_to_gfn(page);
	*doff = p.off;
	return p.len;
}

/*
 * An skb for the frame, a linear head then frags laid out by tx_layout.h,
 * and in @op the grant copies that fill it (*nops of them).  NULL if
 * memory ran out.
 */
static struct sk_buff *tx_build_skb(struct xnb_queue *q,
				    const struct xnb_tx_pkt *pkt,
				    const struct xen_netif_tx_request *slots,
				    struct gnttab_copy *op, unsigned int *nops)
{
	unsigned int head = min_t(unsigned int, pkt->len, XNB_TX_HEAD);
	unsigned int left = pkt->len - head, n = 0, d;
	struct sk_buff *skb;

	skb = napi_alloc_skb(&q->napi, head);
	if (!skb)
		return NULL;
	for (d = 0; d < pkt->nr_data; d++) {
		const struct xen_netif_tx_request *s =
			&slots[xnb_tx_data_slot(pkt, d)];
		unsigned int len = xnb_tx_slot_len(pkt, slots, d);
		unsigned int soff = s->offset;

		while (len) {
			unsigned int chunk, doff;
			unsigned long gfn;

			if (skb_headlen(skb) < head) {
				u8 *dst = skb_tail_pointer(skb);

				doff = offset_in_page(dst);
				chunk = min3(len, head - skb_headlen(skb),
					     (unsigned int)PAGE_SIZE - doff);
				gfn = virt_to_gfn(dst);
				skb_put(skb, chunk);
			} else {
				chunk = tx_frag_room(skb, soff, len, left,
						     &gfn, &doff);
				if (!chunk) {
					kfree_skb(skb);
					return NULL;
				}
				left -= chunk;
			}
			op[n].source.u.ref = s->gref;
			op[n].source.domid = q->vif->domid;
			op[n].source.offset = soff;
			op[n].dest.u.gmfn = gfn;
			op[n].dest.domid = DOMID_SELF;
			op[n].dest.offset = doff;
			op[n].len = chunk;
			op[n].flags = GNTCOPY_source_gref;
			n++;
			soff += chunk;
			len -= chunk;
		}
	}
	*nops = n;
	return skb;
}

/* Checksum and GSO state from the first slot's flags and the GSO extra. */
static int tx_finish_skb(struct xnb_queue *q, struct sk_buff *skb,
			 const struct xnb_tx_pkt *pkt)
{
	bool recalc = false;

	skb->protocol = eth_type_trans(skb, q->vif->dev);
	skb_reset_network_header(skb);
	skb_record_rx_queue(skb, q->id);

	if (pkt->flags & XEN_NETTXF_csum_blank)
		skb->ip_summed = CHECKSUM_PARTIAL;
	else if (pkt->flags & XEN_NETTXF_data_validated)
		skb->ip_summed = CHECKSUM_UNNECESSARY;

	if (pkt->gso_size) {
		skb_shinfo(skb)->gso_size = pkt->gso_size;
		skb_shinfo(skb)->gso_type = SKB_GSO_DODGY |
			(pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ?
			 SKB_GSO_TCPV4 : SKB_GSO_TCPV6);
		skb_shinfo(skb)->gso_segs = 0;
		/* Segmentation needs the checksum set up as partial. */
		if (skb->ip_summed != CHECKSUM_PARTIAL) {
			skb->ip_summed = CHECKSUM_PARTIAL;
			recalc = true;
		}
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		int err = skb_checksum_setup(skb, recalc);

		if (err)
			return err;
	}
	skb_probe_transport_header(skb);

	if (pkt->has_hash) {
		bool l4 = pkt->hash_type == _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP ||
			  pkt->hash_type == _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;

		skb_set_hash(skb, pkt->hash,
			     l4 ? PKT_HASH_TYPE_L4 : PKT_HASH_TYPE_L3);
	}
	return 0;
}

/* One response per slot: data slots echo their id, extras are null. */
static void tx_respond(struct xnb_queue *q, const struct xnb_tx_item *it)
{
	const struct xen_netif_tx_request *slots = &q->tx_slots[it->slot0];
	unsigned int i;

	for (i = 0; i < it->pkt.nr_slots; i++) {
		struct xen_netif_tx_response *rsp =
			RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);
		bool extra = i >= 1 && i <= it->pkt.nr_extras;

		rsp->id = extra ? 0 : slots[i].id;
		rsp->status = extra ? XEN_NETIF_RSP_NULL : it->status;
		q->tx.rsp_prod_pvt++;
	}
}

static void tx_drop(struct xnb_queue *q, struct xnb_tx_item *it,
		    const char *why)
{
	if (why)
		net_warn_ratelimited("%s: dropping a guest frame: %s\n",
				     q->vif->dev->name, why);
	kfree_skb(it->skb);
	it->skb = NULL;
	it->status = XEN_NETIF_RSP_ERROR;
	q->stats->tx_dropped++;
}

/*
 * A producer index read behind one read before: only a guest writing it
 * back and forth does that, and each change would have NAPI poll again
 * with nothing new to take, for as long as the guest kept at it.  Disables
 * the vif.  Both indices are within a ring of req_cons.
 */
static bool tx_prod_went_back(struct xnb_queue *q, RING_IDX prod)
{
	RING_IDX cons = q->tx.req_cons;

	if (prod - cons >= q->tx_seen_prod - cons)
		return false;
	xnb_vif_fatal(q->vif, "tx request producer moved back");
	return true;
}

/*
 * Validate and build up to @budget frames.  Returns the number of frames
 * (or answered packets) handled.
 */
static int tx_round(struct xnb_queue *q, int budget, bool *again)
{
	struct xnb_vif *vif = q->vif;
	RING_IDX cons = q->tx.req_cons, prod;
	unsigned int avail, used = 0, nitems = 0, nops = 0, i, j;
	bool fatal = false;
	int done = 0;

	*again = false;
	prod = READ_ONCE(q->tx.sring->req_prod);
	virt_rmb(); /* read requests only after their producer index */
	avail = prod - cons;
	if (avail > XNB_TX_RING_SIZE) {
		xnb_vif_fatal(vif, "impossible number of tx requests");
		return 0;
	}
	if (tx_prod_went_back(q, prod))
		return 0;
	q->tx_seen_prod = prod;
	if (!avail)
		return 0;
	/* Every slot is answered in the round that consumes it. */
	for (i = 0; i < avail; i++)
		RING_COPY_REQUEST(&q->tx, cons + i, &q->tx_slots[i]);

	while (used < avail && nitems < XNB_TX_BATCH &&
	       (int)nitems < budget) {
		struct xnb_tx_item *it = &q->tx_items[nitems];
		const struct xen_netif_tx_request *slots = &q->tx_slots[used];

		xnb_tx_parse(slots, avail - used, xnb_fatal_skb_slots,
			     &it->pkt);
		if (it->pkt.verdict == XNB_TX_MORE)
			break;
		if (it->pkt.verdict == XNB_TX_FATAL) {
			xnb_vif_fatal(vif, it->pkt.why);
			fatal = true;
			break;
		}
		it->skb = NULL;
		it->status = XEN_NETIF_RSP_OKAY;
		it->slot0 = used;
		it->op0 = nops;
		it->nops = 0;
		if (it->pkt.verdict == XNB_TX_DROP) {
			tx_drop(q, it, it->pkt.why);
		} else if (it->pkt.verdict == XNB_TX_CONTROL) {
			if (!xnb_mcast_update(vif, it->pkt.mcast_type,
					      it->pkt.mcast_addr))
				it->status = XEN_NETIF_RSP_ERROR;
		} else {
			if (nops + 3 * it->pkt.nr_data > XNB_TX_COPY_OPS) {
				*again = true;
				break;
			}
			if (!credit_take(q, it->pkt.len))
				break;
			it->skb = tx_build_skb(q, &it->pkt, slots,
					       &q->tx_copy[nops], &it->nops);
			if (!it->skb)
				tx_drop(q, it, NULL);
			else
				nops += it->nops;
		}
		used += it->pkt.nr_slots;
		nitems++;
	}
	if (nitems && used < avail && !fatal)
		*again = true;

	if (nops)
		xnb_grant_copy(q->tx_copy, nops);

	for (i = 0; i < nitems; i++) {
		struct xnb_tx_item *it = &q->tx_items[i];

		for (j = 0; j < it->nops; j++) {
			if (q->tx_copy[it->op0 + j].status != GNTST_okay) {
				q->stats->tx_copy_errors++;
				tx_drop(q, it, "grant copy failed");
				break;
			}
		}
		tx_respond(q, it);
	}
	q->tx.req_cons = cons + used;
	if (used) {
		int notify;

		q->tx_progress = true;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
		if (notify)
			notify_remote_via_irq(q->tx_irq);
	}

	for (i = 0; i < nitems; i++) {
		struct xnb_tx_item *it = &q->tx_items[i];
		struct sk_buff *skb = it->skb;
		unsigned int len;

		if (!skb)
			continue;
		it->skb = NULL;
		len = skb->len;
		if (tx_finish_skb(q, skb, &it->pkt)) {
			net_warn_ratelimited("%s: bad checksum or GSO setup in a guest frame\n",
					     vif->dev->name);
			kfree_skb(skb);
			q->stats->tx_dropped++;
			continue;
		}
		q->stats->tx_frames++;
		q->stats->tx_bytes += len;
		if (it->pkt.gso_size)
			q->stats->tx_gso++;
		netif_receive_skb(skb);
		done++;
	}
	return max_t(int, done, nitems ? 1 : 0);
}

/*
 * Whether the producer index has moved on from the furthest seen, which
 * it now is; one gone back disables the vif.  One too far ahead is left
 * for tx_round() to refuse.
 */
static bool tx_prod_moved_on(struct xnb_queue *q)
{
	RING_IDX prod = READ_ONCE(q->tx.sring->req_prod);

	if (prod - q->tx.req_cons > XNB_TX_RING_SIZE)
		return true;
	if (tx_prod_went_back(q, prod) || prod == q->tx_seen_prod)
		return false;
	q->tx_seen_prod = prod;
	return true;
}

/* Requests to serve?  Re-arms the ring's event when there are none. */
bool xnb_tx_work_pending(struct xnb_queue *q)
{
	int more;

	if (READ_ONCE(q->vif->disabled) || READ_ONCE(q->tx_credit_wait))
		return false;
	RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
	if (!more)
		return false;
	/* A partial packet: wait for the producer to move on. */
	if (tx_prod_moved_on(q))
		return true;
	if (READ_ONCE(q->vif->disabled))
		return false;
	q->tx.sring->req_event = q->tx_seen_prod + 1;
	virt_mb(); /* the event index before the producer re-read */
	return tx_prod_moved_on(q);
}

int xnb_tx_poll(struct napi_struct *napi, int budget)
{
	struct xnb_queue *q = container_of(napi, struct xnb_queue, napi);
	int done = 0;
	bool again = true, eoi, progress;

	while (again && done < budget && !READ_ONCE(q->vif->disabled) &&
	       !READ_ONCE(q->tx_credit_wait))
		done += tx_round(q, budget - done, &again);
	if (done >= budget)
		return budget;

	/*
	 * The last look at the ring and its state, while NAPI is still
	 * ours: once it is complete, an event or the credit timer may start
	 * a poll on another CPU.  One that comes before finds NAPI ours and
	 * has this poll run again.
	 */
	if (xnb_tx_work_pending(q))
		return budget;
	eoi = test_and_clear_bit(XNB_EOI_TX, &q->eoi_pending);
	progress = q->tx_progress;
	if (eoi)
		q->tx_progress = false;
	napi_complete_done(napi, done);
	/* An event that brought nothing to do counts as spurious. */
	if (eoi)
		xen_irq_lateeoi(q->tx_irq, progress ? 0 : XEN_EOI_FLAG_SPURIOUS);
	return done;
}
