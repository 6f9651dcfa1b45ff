// SPDX-License-Identifier: GPL-2.0
/*
 * The control ring: the frontend sets a Toeplitz key, hash types and a
 * hash-to-queue mapping, which then steer frames to its receive queues.
 * Requests are served in the event channel's interrupt thread (they
 * grant-copy the key and the mapping from the guest); every field is
 * checked on a private copy of the request.
 */
#define XEN_NETIF_DEFINE_TOEPLITZ	/* netif.h's reference Toeplitz hash */

#include <linux/skbuff.h>
#include <net/flow_dissector.h>
#include <xen/events.h>
#include <xen/grant_table.h>

#include "common.h"

/* Copy @len bytes at the start of the guest's grant @ref into @dst. */
static u32 ctrl_copy_in(struct xnb_vif *vif, grant_ref_t ref, void *dst,
			unsigned int len)
{
	unsigned int done = 0;

	/* One copy per local page that dst covers. */
	while (done < len) {
		u8 *to = (u8 *)dst + done;
		struct gnttab_copy op = {
			.source.u.ref = ref,
			.source.domid = vif->domid,
			.source.offset = done,
			.dest.u.gmfn = virt_to_gfn(to),
			.dest.domid = DOMID_SELF,
			.dest.offset = offset_in_page(to),
			.flags = GNTCOPY_source_gref,
		};

		op.len = min_t(unsigned int, len - done,
			       XEN_PAGE_SIZE - op.dest.offset);
		gnttab_batch_copy(&op, 1);
		if (op.status != GNTST_okay)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		done += op.len;
	}
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static u32 ctrl_copy_key(struct xnb_vif *vif, const struct xnb_ctrl_op *op)
{
	struct xnb_hash *h = &vif->hash;
	u8 *key;
	u32 st;

	key = kzalloc(XNB_HASH_KEY_MAX, GFP_KERNEL);
	if (!key)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	st = ctrl_copy_in(vif, op->ref, key, op->len);
	if (st == XEN_NETIF_CTRL_STATUS_SUCCESS) {
		spin_lock_irq(&h->lock);
		memcpy(h->key, key, XNB_HASH_KEY_MAX);
		spin_unlock_irq(&h->lock);
	}
	kfree(key);
	return st;
}

/* @size: the mapping size @op was checked against. */
static u32 ctrl_copy_mapping(struct xnb_vif *vif, const struct xnb_ctrl_op *op,
			     u32 size)
{
	struct xnb_hash *h = &vif->hash;
	u32 *map, st;

	map = kcalloc(XNB_HASH_MAPPING_MAX, sizeof(*map), GFP_KERNEL);
	if (!map)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	st = ctrl_copy_in(vif, op->ref, map, op->len * sizeof(*map));
	if (st == XEN_NETIF_CTRL_STATUS_SUCCESS)
		st = xnb_ctrl_check_mapping(map, op->len, vif->ctrl_nr_queues);
	if (st == XEN_NETIF_CTRL_STATUS_SUCCESS) {
		spin_lock_irq(&h->lock);
		/* A size set meanwhile makes the checked range stale. */
		if (h->size == size)
			memcpy(&h->mapping[op->off], map, op->len * sizeof(*map));
		else
			st = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		spin_unlock_irq(&h->lock);
	}
	kfree(map);
	return st;
}

static u32 ctrl_request(struct xnb_vif *vif,
			const struct xen_netif_ctrl_request *req, u32 *data)
{
	struct xnb_hash *h = &vif->hash;
	struct xnb_ctrl_state state = {
		.alg = READ_ONCE(h->alg),
		.size = READ_ONCE(h->size),
		.nr_queues = vif->ctrl_nr_queues,
	};
	struct xnb_ctrl_op op;
	u32 st;

	st = xnb_ctrl_check(req, &state, &op);
	*data = op.data;
	if (st != XEN_NETIF_CTRL_STATUS_SUCCESS)
		return st;
	switch (op.action) {
	case XNB_CTRL_SET_ALG:
		WRITE_ONCE(h->alg, op.value);
		break;
	case XNB_CTRL_SET_FLAGS:
		WRITE_ONCE(h->flags, op.value);
		break;
	case XNB_CTRL_SET_SIZE:
		spin_lock_irq(&h->lock);
		h->size = op.value;
		memset(h->mapping, 0, sizeof(h->mapping));
		spin_unlock_irq(&h->lock);
		break;
	case XNB_CTRL_COPY_KEY:
		return ctrl_copy_key(vif, &op);
	case XNB_CTRL_COPY_MAPPING:
		return ctrl_copy_mapping(vif, &op, state.size);
	case XNB_CTRL_ANSWER:
		break;
	}
	return st;
}

/* Requests need grant copies that may sleep: served from a work item. */
static void ctrl_work(struct work_struct *work)
{
	struct xnb_vif *vif = container_of(work, struct xnb_vif, ctrl_work);
	struct xen_netif_ctrl_back_ring *ring = &vif->ctrl;
	unsigned int irq = READ_ONCE(vif->ctrl_irq), served = 0;
	int more = 0, notify;

	/* A disabled frontend's requests are not served: its events spurious. */
	if (READ_ONCE(vif->disabled)) {
		xen_irq_lateeoi(irq, XEN_EOI_FLAG_SPURIOUS);
		return;
	}
	do {
		RING_IDX prod = READ_ONCE(ring->sring->req_prod);

		virt_rmb(); /* requests only after their producer index */
		if (prod - ring->req_cons > RING_SIZE(ring)) {
			xnb_vif_fatal(vif, "impossible number of control requests");
			break;
		}
		while (ring->req_cons != prod) {
			struct xen_netif_ctrl_request req;
			struct xen_netif_ctrl_response *rsp;
			u32 status, val;

			RING_COPY_REQUEST(ring, ring->req_cons, &req);
			ring->req_cons++;
			status = ctrl_request(vif, &req, &val);
			rsp = RING_GET_RESPONSE(ring, ring->rsp_prod_pvt);
			memset(rsp, 0, sizeof(*rsp));
			rsp->id = req.id;
			rsp->type = req.type;
			rsp->status = status;
			rsp->data = val;
			ring->rsp_prod_pvt++;
			served++;
		}
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(ring, notify);
		if (notify)
			notify_remote_via_irq(irq);
		RING_FINAL_CHECK_FOR_REQUESTS(ring, more);
	} while (more && served < RING_SIZE(ring) && !READ_ONCE(vif->disabled));

	/*
	 * A ring's worth per run.  With requests left the guest sends no
	 * event (req_event stays behind them): a fresh run goes on, the EOI
	 * still owed, so that other work gets the CPU in between.
	 */
	if (more && !READ_ONCE(vif->disabled)) {
		schedule_work(&vif->ctrl_work);
		return;
	}
	xen_irq_lateeoi(irq, served ? 0 : XEN_EOI_FLAG_SPURIOUS);
}

static irqreturn_t ctrl_interrupt(int irq, void *data)
{
	struct xnb_vif *vif = data;

	/*
	 * Xen raises the event as the channel is bound, before the bind
	 * returns the irq to xnb_ctrl_connect(): the work item must EOI
	 * this irq, never 0, or the channel stays masked for good.
	 */
	WRITE_ONCE(vif->ctrl_irq, irq);
	/* The EOI comes from the work item. */
	schedule_work(&vif->ctrl_work);
	return IRQ_HANDLED;
}

int xnb_ctrl_connect(struct xnb_vif *vif, grant_ref_t ref, evtchn_port_t port,
		     unsigned int nr_queues)
{
	struct xen_netif_ctrl_sring *sring;
	void *addr;
	int err;

	err = xenbus_map_ring_valloc(vif->xbdev, &ref, 1, &addr);
	if (err)
		return err;
	sring = addr;
	/* From the last response on, as the data rings (rebind). */
	BACK_RING_ATTACH(&vif->ctrl, sring, READ_ONCE(sring->rsp_prod),
			 XEN_PAGE_SIZE);
	vif->ctrl_nr_queues = nr_queues;
	snprintf(vif->ctrl_irq_name, sizeof(vif->ctrl_irq_name), "%s-ctrl",
		 vif->dev->name);
	INIT_WORK(&vif->ctrl_work, ctrl_work);
	err = bind_interdomain_evtchn_to_irqhandler_lateeoi(vif->xbdev, port,
							    ctrl_interrupt, 0,
							    vif->ctrl_irq_name,
							    vif);
	if (err < 0) {
		xenbus_unmap_ring_vfree(vif->xbdev, vif->ctrl.sring);
		vif->ctrl.sring = NULL;
		return err;
	}
	WRITE_ONCE(vif->ctrl_irq, err);
	return 0;
}

void xnb_ctrl_disconnect(struct xnb_vif *vif)
{
	struct xnb_hash *h = &vif->hash;

	if (vif->ctrl_irq) {
		/* No new event, then no work item left to use the ring. */
		disable_irq(vif->ctrl_irq);
		cancel_work_sync(&vif->ctrl_work);
		unbind_from_irqhandler(vif->ctrl_irq, vif);
		vif->ctrl_irq = 0;
	}
	if (vif->ctrl.sring) {
		xenbus_unmap_ring_vfree(vif->xbdev, vif->ctrl.sring);
		vif->ctrl.sring = NULL;
	}
	spin_lock_irq(&h->lock);
	h->alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
	h->flags = 0;
	h->size = 0;
	memset(h->key, 0, sizeof(h->key));
	spin_unlock_irq(&h->lock);
}

/*
 * The frontend's Toeplitz hash of @skb over the fields its hash types
 * name; false when hashing is off or no type applies.  *type gets the
 * _XEN_NETIF_CTRL_HASH_TYPE_* used.
 */
bool xnb_hash_skb(struct xnb_vif *vif, struct sk_buff *skb, u32 *hash,
		  u8 *type)
{
	struct xnb_hash *h = &vif->hash;
	u32 flags = READ_ONCE(h->flags);
	u8 buf[36], key[XNB_HASH_KEY_MAX];
	unsigned long irqflags;
	unsigned int len = 0;
	struct flow_keys fk;
	bool tcp;

	if (READ_ONCE(h->alg) != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ||
	    !flags)
		return false;
	if (!skb_flow_dissect_flow_keys(skb, &fk, 0))
		return false;
	/* A fragment's ports are not its own: it hashes as plain IP. */
	tcp = fk.basic.ip_proto == IPPROTO_TCP &&
	      !(fk.control.flags & FLOW_DIS_IS_FRAGMENT);
	if (fk.basic.n_proto == htons(ETH_P_IP)) {
		memcpy(buf, &fk.addrs.v4addrs.src, 4);
		memcpy(buf + 4, &fk.addrs.v4addrs.dst, 4);
		if (tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP)) {
			memcpy(buf + 8, &fk.ports.src, 2);
			memcpy(buf + 10, &fk.ports.dst, 2);
			len = 12;
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
		} else if (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4) {
			len = 8;
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
		}
	} else if (fk.basic.n_proto == htons(ETH_P_IPV6)) {
		memcpy(buf, &fk.addrs.v6addrs.src, 16);
		memcpy(buf + 16, &fk.addrs.v6addrs.dst, 16);
		if (tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)) {
			memcpy(buf + 32, &fk.ports.src, 2);
			memcpy(buf + 34, &fk.ports.dst, 2);
			len = 36;
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
		} else if (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6) {
			len = 32;
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
		}
	}
	if (!len)
		return false;

	spin_lock_irqsave(&h->lock, irqflags);
	memcpy(key, h->key, sizeof(key));
	spin_unlock_irqrestore(&h->lock, irqflags);
	*hash = xen_netif_toeplitz_hash(key, sizeof(key), buf, len);
	return true;
}

/* The queue the frontend's hash mapping picks for @skb, or -1: none set. */
int xnb_hash_queue(struct xnb_vif *vif, struct sk_buff *skb,
		   unsigned int nr_queues)
{
	struct xnb_hash *h = &vif->hash;
	unsigned long flags;
	unsigned int q;
	u32 hash;
	u8 type;

	if (!xnb_hash_skb(vif, skb, &hash, &type))
		return -1;
	spin_lock_irqsave(&h->lock, flags);
	q = xnb_ctrl_pick_queue(h->mapping, h->size, hash, nr_queues);
	spin_unlock_irqrestore(&h->lock, flags);
	return q;
}
