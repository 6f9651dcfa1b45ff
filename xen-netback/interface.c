// SPDX-License-Identifier: GPL-2.0
/*
 * The vif net device (vif<domid>.<handle>), its queues' rings and event
 * channels, NAPI and receive threads, carrier, multicast filter and
 * ethtool statistics.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/kthread.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <xen/events.h>

#include "common.h"

static netdev_tx_t vif_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct xnb_vif *vif = netdev_priv(dev);
	unsigned int qid = skb_get_queue_mapping(skb);
	const struct ethhdr *eth;

	if (!READ_ONCE(vif->connected) || READ_ONCE(vif->disabled) ||
	    /* a size seen means its queue array is seen too */
	    qid >= smp_load_acquire(&vif->nr_queues) || skb->len < ETH_HLEN)
		goto drop;
	/* The receive path copies the head and page fragments only. */
	if (skb_has_frag_list(skb) && skb_linearize(skb))
		goto drop;
	eth = (const struct ethhdr *)skb->data;
	if (READ_ONCE(vif->mcast_filter) && is_multicast_ether_addr(eth->h_dest) &&
	    !is_broadcast_ether_addr(eth->h_dest) &&
	    !xnb_mcast_allowed(vif, eth->h_dest))
		goto drop;
	return xnb_rx_enqueue(&vif->queues[qid], skb);
drop:
	/* Per-CPU: senders on several queues may drop at once. */
	dev_core_stats_tx_dropped_inc(dev);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* The frontend's hash mapping if it set one, else the stack's choice. */
static u16 vif_select_queue(struct net_device *dev, struct sk_buff *skb,
			    struct net_device *sb_dev)
{
	struct xnb_vif *vif = netdev_priv(dev);
	unsigned int nr = READ_ONCE(vif->nr_queues);
	int q;

	if (nr <= 1)
		return 0;
	q = xnb_hash_queue(vif, skb, nr);
	return q < 0 ? netdev_pick_tx(dev, skb, NULL) : q;
}

static void vif_get_stats64(struct net_device *dev,
			    struct rtnl_link_stats64 *st)
{
	struct xnb_vif *vif = netdev_priv(dev);
	unsigned int i;

	netdev_stats_to_stats64(st, &dev->stats);
	/* The device receives what the guest transmits, and vice versa. */
	for (i = 0; i < dev->num_tx_queues; i++) {
		const struct xnb_queue_stats *s = &vif->stats[i];

		st->rx_packets += READ_ONCE(s->tx_frames);
		st->rx_bytes += READ_ONCE(s->tx_bytes);
		st->rx_dropped += READ_ONCE(s->tx_dropped);
		st->tx_packets += READ_ONCE(s->rx_frames);
		st->tx_bytes += READ_ONCE(s->rx_bytes);
		st->tx_dropped += READ_ONCE(s->rx_dropped);
	}
}

static int vif_change_mtu(struct net_device *dev, int mtu)
{
	struct xnb_vif *vif = netdev_priv(dev);

	if (mtu > (vif->can_sg ? XNB_MAX_MTU : ETH_DATA_LEN))
		return -EINVAL;
	dev->mtu = mtu;
	return 0;
}

/* Offer the stack only what the frontend said it can receive. */
static netdev_features_t vif_fix_features(struct net_device *dev,
					  netdev_features_t features)
{
	struct xnb_vif *vif = netdev_priv(dev);

	if (!vif->can_sg)
		features &= ~NETIF_F_SG;
	if (!vif->gso_v4)
		features &= ~NETIF_F_TSO;
	if (!vif->gso_v6)
		features &= ~NETIF_F_TSO6;
	if (!vif->ip_csum)
		features &= ~NETIF_F_IP_CSUM;
	if (!vif->ipv6_csum)
		features &= ~NETIF_F_IPV6_CSUM;
	return features;
}

static int vif_open(struct net_device *dev)
{
	struct xnb_vif *vif = netdev_priv(dev);

	if (vif->connected)
		netif_tx_wake_all_queues(dev);
	return 0;
}

static int vif_close(struct net_device *dev)
{
	netif_tx_stop_all_queues(dev);
	return 0;
}

static const struct net_device_ops vif_netdev_ops = {
	.ndo_open		= vif_open,
	.ndo_stop		= vif_close,
	.ndo_start_xmit		= vif_start_xmit,
	.ndo_select_queue	= vif_select_queue,
	.ndo_get_stats64	= vif_get_stats64,
	.ndo_change_mtu		= vif_change_mtu,
	.ndo_fix_features	= vif_fix_features,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static const struct {
	char name[ETH_GSTRING_LEN];
	size_t offset;
} vif_stat_names[] = {
#define XNB_STAT(f) { #f, offsetof(struct xnb_queue_stats, f) }
	XNB_STAT(tx_frames), XNB_STAT(tx_bytes), XNB_STAT(tx_dropped),
	XNB_STAT(tx_copy_errors), XNB_STAT(tx_gso),
	XNB_STAT(rx_frames), XNB_STAT(rx_bytes), XNB_STAT(rx_dropped),
	XNB_STAT(rx_gso), XNB_STAT(rx_stalls),
#undef XNB_STAT
};

static int vif_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ARRAY_SIZE(vif_stat_names) : -EINVAL;
}

static void vif_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	unsigned int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < ARRAY_SIZE(vif_stat_names); i++)
		memcpy(data + i * ETH_GSTRING_LEN, vif_stat_names[i].name,
		       ETH_GSTRING_LEN);
}

static void vif_get_ethtool_stats(struct net_device *dev,
				  struct ethtool_stats *stats, u64 *data)
{
	struct xnb_vif *vif = netdev_priv(dev);
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(vif_stat_names); i++) {
		data[i] = 0;
		for (j = 0; j < dev->num_tx_queues; j++)
			data[i] += READ_ONCE(*(u64 *)((u8 *)&vif->stats[j] +
						     vif_stat_names[i].offset));
	}
}

static const struct ethtool_ops vif_ethtool_ops = {
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= vif_get_sset_count,
	.get_strings		= vif_get_strings,
	.get_ethtool_stats	= vif_get_ethtool_stats,
};

static void vif_disable_work(struct work_struct *work)
{
	struct xnb_vif *vif = container_of(work, struct xnb_vif, disable_work);
	const char *why = xchg(&vif->disabled_why, NULL);

	xnb_vif_update_carrier(vif);
	/* For the toolstack and the admin: error/<backend path>/error. */
	if (why)
		xenbus_dev_error(vif->xbdev, -EPROTO, "frontend disabled: %s",
				 why);
}

/* A protocol violation: stop serving the guest (from any context). */
void xnb_vif_fatal(struct xnb_vif *vif, const char *why)
{
	if (xchg(&vif->disabled, true))
		return;
	netdev_err(vif->dev, "frontend of domain %u disabled: %s\n",
		   vif->domid, why);
	WRITE_ONCE(vif->disabled_why, why);
	/* Carrier changes may sleep: leave them to a work item. */
	schedule_work(&vif->disable_work);
}

void xnb_vif_update_carrier(struct xnb_vif *vif)
{
	if (READ_ONCE(vif->connected) && !READ_ONCE(vif->disabled) &&
	    !atomic_read(&vif->stalled_queues))
		netif_carrier_on(vif->dev);
	else
		netif_carrier_off(vif->dev);
}

bool xnb_mcast_allowed(struct xnb_vif *vif, const u8 *addr)
{
	unsigned long flags;
	unsigned int i;
	bool found = false;

	spin_lock_irqsave(&vif->mcast_lock, flags);
	for (i = 0; i < vif->nr_mcast && !found; i++)
		found = ether_addr_equal(vif->mcast[i], addr);
	spin_unlock_irqrestore(&vif->mcast_lock, flags);
	return found;
}

/* False when an address to add finds the list full: the guest is told. */
bool xnb_mcast_update(struct xnb_vif *vif, u8 type, const u8 *addr)
{
	unsigned long flags;
	bool full = false;
	unsigned int i;

	if (!is_multicast_ether_addr(addr))
		return true;
	spin_lock_irqsave(&vif->mcast_lock, flags);
	for (i = 0; i < vif->nr_mcast; i++)
		if (ether_addr_equal(vif->mcast[i], addr))
			break;
	if (type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD) {
		full = i == vif->nr_mcast && vif->nr_mcast == XNB_MCAST_MAX;
		if (i == vif->nr_mcast && !full)
			ether_addr_copy(vif->mcast[vif->nr_mcast++], addr);
	} else if (i < vif->nr_mcast) {
		vif->nr_mcast--;
		ether_addr_copy(vif->mcast[i], vif->mcast[vif->nr_mcast]);
	}
	spin_unlock_irqrestore(&vif->mcast_lock, flags);
	if (full)
		net_info_ratelimited("%s: multicast filter full (%u groups)\n",
				     vif->dev->name, XNB_MCAST_MAX);
	return !full;
}

void xnb_mcast_clear(struct xnb_vif *vif)
{
	spin_lock_irq(&vif->mcast_lock);
	vif->nr_mcast = 0;
	spin_unlock_irq(&vif->mcast_lock);
}

void xnb_vif_update_features(struct xnb_vif *vif)
{
	rtnl_lock();
	if (!vif->can_sg && vif->dev->mtu > ETH_DATA_LEN)
		dev_set_mtu(vif->dev, ETH_DATA_LEN);
	netdev_update_features(vif->dev);
	rtnl_unlock();
}

struct xnb_vif *xnb_vif_create(struct xenbus_device *xbdev, domid_t domid,
			       unsigned int handle)
{
	static const u8 fixed_mac[ETH_ALEN] = {
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct net_device *dev;
	struct xnb_vif *vif;
	char name[IFNAMSIZ];
	int err;

	snprintf(name, sizeof(name), "vif%u.%u", domid, handle);
	dev = alloc_netdev_mq(sizeof(*vif), name, NET_NAME_PREDICTABLE,
			      ether_setup, xnb_max_queues);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	SET_NETDEV_DEV(dev, &xbdev->dev);
	vif = netdev_priv(dev);
	vif->stats = kcalloc(dev->num_tx_queues, sizeof(*vif->stats),
			     GFP_KERNEL);
	if (!vif->stats) {
		free_netdev(dev);
		return ERR_PTR(-ENOMEM);
	}
	vif->dev = dev;
	vif->xbdev = xbdev;
	vif->domid = domid;
	vif->handle = handle;
	/* Until the frontend says otherwise: what every netfront takes. */
	vif->can_sg = true;
	vif->ip_csum = true;
	spin_lock_init(&vif->mcast_lock);
	spin_lock_init(&vif->hash.lock);
	INIT_WORK(&vif->disable_work, vif_disable_work);
	atomic_set(&vif->stalled_queues, 0);

	dev->netdev_ops = &vif_netdev_ops;
	dev->ethtool_ops = &vif_ethtool_ops;
	dev->hw_features = NETIF_F_SG | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM |
			   NETIF_F_TSO | NETIF_F_TSO6;
	dev->features = dev->hw_features | NETIF_F_RXCSUM;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = XNB_MAX_MTU;
	dev->tx_queue_len = XNB_RX_RING_SIZE / 2;
	/*
	 * A queued skb is ours alone (its links and cb hold our queue's
	 * state): pktgen's burst and clone_skb must not send one twice.
	 */
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	/* The bridge must not pick this address: it is the highest. */
	eth_hw_addr_set(dev, fixed_mac);

	netif_carrier_off(dev);
	err = register_netdev(dev);
	if (err) {
		kfree(vif->stats);
		free_netdev(dev);
		return ERR_PTR(err);
	}
	return vif;
}

void xnb_vif_free(struct xnb_vif *vif)
{
	xnb_vif_stop(vif);
	cancel_work_sync(&vif->disable_work);
	unregister_netdev(vif->dev);
	kfree(vif->stats);
	free_netdev(vif->dev);
}

/*
 * Guest requests to serve: NAPI sends the EOI when it is done.  Events
 * come from the moment the channel is bound, before xnb_vif_start() has
 * added NAPI; the EOI then stays owed, and the NAPI round that
 * xnb_vif_start() schedules pays it.
 */
static void tx_kick(struct xnb_queue *q)
{
	set_bit(XNB_EOI_TX, &q->eoi_pending);
	/* Pairs with xnb_vif_start(): NAPI set up before napi_live. */
	if (smp_load_acquire(&q->napi_live))
		napi_schedule(&q->napi);
}

static irqreturn_t tx_interrupt(int irq, void *data)
{
	struct xnb_queue *q = data;

	if (!READ_ONCE(q->vif->disabled) && RING_HAS_UNCONSUMED_REQUESTS(&q->tx))
		tx_kick(q);
	else
		xen_irq_lateeoi(irq, XEN_EOI_FLAG_SPURIOUS);
	return IRQ_HANDLED;
}

static irqreturn_t rx_interrupt(int irq, void *data)
{
	struct xnb_queue *q = data;
	bool work = !READ_ONCE(q->vif->disabled) && xnb_rx_event(q);

	xen_irq_lateeoi(irq, work ? 0 : XEN_EOI_FLAG_SPURIOUS);
	return IRQ_HANDLED;
}

/* One channel for both rings: the EOI waits for whichever side has work. */
static irqreturn_t combined_interrupt(int irq, void *data)
{
	struct xnb_queue *q = data;
	bool rx = false, tx = false;

	if (!READ_ONCE(q->vif->disabled)) {
		rx = xnb_rx_event(q);
		tx = RING_HAS_UNCONSUMED_REQUESTS(&q->tx);
	}
	if (tx)
		tx_kick(q);
	else
		xen_irq_lateeoi(irq, rx ? 0 : XEN_EOI_FLAG_SPURIOUS);
	return IRQ_HANDLED;
}

static void queue_unmap(struct xnb_queue *q)
{
	struct xenbus_device *xbdev = q->vif->xbdev;

	if (q->tx.sring)
		xenbus_unmap_ring_vfree(xbdev, q->tx.sring);
	if (q->rx.sring)
		xenbus_unmap_ring_vfree(xbdev, q->rx.sring);
	q->tx.sring = NULL;
	q->rx.sring = NULL;
}

static void queue_unbind(struct xnb_queue *q)
{
	if (q->tx_irq)
		unbind_from_irqhandler(q->tx_irq, q);
	if (q->split_irq && q->rx_irq)
		unbind_from_irqhandler(q->rx_irq, q);
	q->tx_irq = 0;
	q->rx_irq = 0;
}

static int bind_lateeoi(struct xenbus_device *xbdev, evtchn_port_t port,
			irq_handler_t handler, const char *name,
			struct xnb_queue *q)
{
	return bind_interdomain_evtchn_to_irqhandler_lateeoi(xbdev, port,
							     handler, 0, name,
							     q);
}

/*
 * Map one queue's rings and bind its event channels (tx_port == rx_port:
 * a single channel).  On failure nothing of the queue stays mapped.
 */
int xnb_vif_connect_queue(struct xnb_queue *q, grant_ref_t tx_ref,
			  grant_ref_t rx_ref, evtchn_port_t tx_port,
			  evtchn_port_t rx_port)
{
	struct xnb_vif *vif = q->vif;
	struct xenbus_device *xbdev = vif->xbdev;
	struct xen_netif_tx_sring *tx_sring;
	struct xen_netif_rx_sring *rx_sring;
	void *addr;
	int err;

	err = xenbus_map_ring_valloc(xbdev, &tx_ref, 1, &addr);
	if (err)
		return err;
	tx_sring = addr;
	/*
	 * Go on from the responses published so far: 0 on a fresh ring, and
	 * after a rebind (the driver unbound and bound again, the module
	 * reloaded) the requests the guest posted since.  Every request
	 * taken before was answered in the round that took it.
	 */
	BACK_RING_ATTACH(&q->tx, tx_sring, READ_ONCE(tx_sring->rsp_prod),
			 XEN_PAGE_SIZE);
	err = xenbus_map_ring_valloc(xbdev, &rx_ref, 1, &addr);
	if (err)
		goto fail;
	rx_sring = addr;
	BACK_RING_ATTACH(&q->rx, rx_sring, READ_ONCE(rx_sring->rsp_prod),
			 XEN_PAGE_SIZE);
	q->rx_seen_prod = q->rx.req_cons;
	q->tx_seen_prod = q->tx.req_cons;

	q->split_irq = tx_port != rx_port;
	if (q->split_irq) {
		snprintf(q->tx_irq_name, sizeof(q->tx_irq_name), "%s-tx",
			 q->name);
		snprintf(q->rx_irq_name, sizeof(q->rx_irq_name), "%s-rx",
			 q->name);
		err = bind_lateeoi(xbdev, tx_port, tx_interrupt,
				   q->tx_irq_name, q);
		if (err < 0)
			goto fail;
		q->tx_irq = err;
		err = bind_lateeoi(xbdev, rx_port, rx_interrupt,
				   q->rx_irq_name, q);
		if (err < 0)
			goto fail;
		q->rx_irq = err;
	} else {
		snprintf(q->tx_irq_name, sizeof(q->tx_irq_name), "%s", q->name);
		err = bind_lateeoi(xbdev, tx_port, combined_interrupt,
				   q->tx_irq_name, q);
		if (err < 0)
			goto fail;
		q->tx_irq = err;
		q->rx_irq = err;
	}
	return 0;
fail:
	queue_unbind(q);
	queue_unmap(q);
	return err;
}

/* Everything a queue holds; safe on a partly set up queue. */
static void queue_release(struct xnb_queue *q)
{
	if (q->rx_task) {
		kthread_stop(q->rx_task);
		put_task_struct(q->rx_task);
		q->rx_task = NULL;
	}
	/* NAPI, the credit timer and the events stop before the rings go. */
	if (q->napi.poll)
		napi_disable(&q->napi);
	xdb_timer_delete_sync(&q->credit_timeout);
	queue_unbind(q);
	if (q->napi.poll) {
		netif_napi_del(&q->napi);
		q->napi.poll = NULL;
	}
	queue_unmap(q);
	xnb_rx_purge(q);
	xnb_tx_free(q);
	xnb_rx_free(q);
}

/* @nr queues with their private buffers, rings not connected yet. */
struct xnb_queue *xnb_queues_alloc(struct xnb_vif *vif, unsigned int nr)
{
	struct xnb_queue *queues;
	unsigned int i;

	queues = kcalloc(nr, sizeof(*queues), GFP_KERNEL);
	if (!queues)
		return NULL;
	for (i = 0; i < nr; i++) {
		struct xnb_queue *q = &queues[i];

		q->vif = vif;
		q->id = i;
		q->stats = &vif->stats[i];
		snprintf(q->name, sizeof(q->name), "%s-q%u", vif->dev->name, i);
		xnb_tx_credit_init(q);
		if (xnb_tx_alloc(q) || xnb_rx_alloc(q)) {
			/* This one's receive queue is not set up: not released. */
			xnb_tx_free(q);
			xnb_queues_free(queues, i);
			return NULL;
		}
	}
	return queues;
}

void xnb_queues_free(struct xnb_queue *queues, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		queue_release(&queues[i]);
	kfree(queues);
}

/*
 * Serve @nr queues whose rings are connected: start their receive
 * threads and NAPI, open the carrier.  On failure the caller still owns
 * the queues.
 */
int xnb_vif_start(struct xnb_vif *vif, struct xnb_queue *queues,
		  unsigned int nr)
{
	unsigned int i;
	int err;

	for (i = 0; i < nr; i++) {
		struct xnb_queue *q = &queues[i];
		struct task_struct *task;

		task = kthread_create(xnb_rx_thread, q, "%s-guest-rx",
				      q->name);
		if (IS_ERR(task))
			return PTR_ERR(task);
		get_task_struct(task);
		q->rx_task = task;
	}

	rtnl_lock();
	err = netif_set_real_num_tx_queues(vif->dev, nr);
	if (!err)
		err = netif_set_real_num_rx_queues(vif->dev, nr);
	if (err) {
		rtnl_unlock();
		return err;
	}
	vif->queues = queues;
	/* Transmitters see the array before its size. */
	smp_store_release(&vif->nr_queues, nr);
	for (i = 0; i < nr; i++) {
		netif_napi_add(vif->dev, &queues[i].napi, xnb_tx_poll);
		napi_enable(&queues[i].napi);
		/* Pairs with tx_kick(): events may schedule NAPI now. */
		smp_store_release(&queues[i].napi_live, true);
		wake_up_process(queues[i].rx_task);
	}
	WRITE_ONCE(vif->connected, true);
	if (netif_running(vif->dev))
		netif_tx_wake_all_queues(vif->dev);
	xnb_vif_update_carrier(vif);
	rtnl_unlock();
	/* Requests the guest queued before we were listening. */
	for (i = 0; i < nr; i++) {
		local_bh_disable();
		napi_schedule(&queues[i].napi);
		local_bh_enable();
		wake_up(&queues[i].rx_wq);
	}
	return 0;
}

/* Stop serving the guest; the net device stays, without carrier. */
void xnb_vif_stop(struct xnb_vif *vif)
{
	struct xnb_queue *queues = vif->queues;
	unsigned int nr = vif->nr_queues;

	if (!queues)
		return;
	WRITE_ONCE(vif->connected, false);
	netif_carrier_off(vif->dev);
	netif_tx_disable(vif->dev);
	rtnl_lock(); /* as xnb_vif_start() sets it */
	WRITE_ONCE(vif->nr_queues, 0);
	rtnl_unlock();
	/* No transmitter still looks at the queues. */
	synchronize_net();
	vif->queues = NULL;
	xnb_queues_free(queues, nr);
	/* The control ring was disconnected first. */
	xnb_vif_end_disable(vif);
	/* A thread may have turned the carrier on as the stop began. */
	netif_carrier_off(vif->dev);
	/* Only now: a receive thread may count a stall until it stops. */
	atomic_set(&vif->stalled_queues, 0);
	xnb_mcast_clear(vif);
}

/*
 * With no ring left that could disable the vif again: the last disable's
 * report is written now, not over the next connection, which starts
 * enabled.
 */
void xnb_vif_end_disable(struct xnb_vif *vif)
{
	flush_work(&vif->disable_work);
	WRITE_ONCE(vif->disabled, false);
}
