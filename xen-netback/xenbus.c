// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netback control plane: the "vif" xenbus backend.  Advertises our
 * features, creates the net device at probe (the hotplug script needs it
 * at InitWait), reads the frontend's features and queues when it
 * connects, and goes Connected only once the hotplug script has written
 * hotplug-status = connected.  Also the module's entry points.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "common.h"

unsigned int xnb_max_queues;
module_param_named(max_queues, xnb_max_queues, uint, 0644);
MODULE_PARM_DESC(max_queues,
		 "Most queues a frontend may use (default: online CPUs)");

bool xnb_separate_tx_rx_irq = true;
module_param_named(separate_tx_rx_irq, xnb_separate_tx_rx_irq, bool, 0644);
MODULE_PARM_DESC(separate_tx_rx_irq,
		 "Offer separate event channels for transmit and receive");

unsigned int xnb_rx_drain_timeout_msecs = 10000;
module_param_named(rx_drain_timeout_msecs, xnb_rx_drain_timeout_msecs, uint,
		   0444);
MODULE_PARM_DESC(rx_drain_timeout_msecs,
		 "Milliseconds a frame waits for guest buffers before it is dropped");

unsigned int xnb_rx_stall_timeout_msecs = 60000;
module_param_named(rx_stall_timeout_msecs, xnb_rx_stall_timeout_msecs, uint,
		   0444);
MODULE_PARM_DESC(rx_stall_timeout_msecs,
		 "Milliseconds without guest buffers before the carrier goes off");

unsigned int xnb_fatal_skb_slots = 20;
module_param_named(fatal_skb_slots, xnb_fatal_skb_slots, uint, 0444);
MODULE_PARM_DESC(fatal_skb_slots,
		 "Slots after a guest packet's first beyond which it disables the vif (18..64)");

static bool xnb_provides_xdp_headroom = true;
module_param_named(provides_xdp_headroom, xnb_provides_xdp_headroom, bool,
		   0644);
MODULE_PARM_DESC(provides_xdp_headroom,
		 "Offer frontends receive headroom for XDP");

struct backend {
	struct xenbus_device *dev;
	struct xnb_vif *vif;
	char *script;			/* hotplug script, for the uevent */
	bool connected;			/* rings mapped, queues running */
	bool hotplug_ok;		/* hotplug-status = connected */
	struct xenbus_watch hotplug_watch;
	struct xenbus_watch rate_watch;
	struct xenbus_watch mcast_watch;
};

static int write_features(struct xenbus_device *dev)
{
	static const char *const on[] = {
		"feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
		"feature-ipv6-csum-offload", "feature-rx-copy",
		"feature-multicast-control",
		"feature-dynamic-multicast-control", "feature-ctrl-ring",
	};
	struct xenbus_transaction xbt;
	unsigned int i;
	int err;

again:
	err = xenbus_transaction_start(&xbt);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(on) && !err; i++)
		err = xenbus_write(xbt, dev->nodename, on[i], "1");
	if (!err)
		err = xenbus_write(xbt, dev->nodename, "feature-rx-flip", "0");
	if (!err)
		err = xenbus_printf(xbt, dev->nodename,
				    "feature-split-event-channels", "%u",
				    xnb_separate_tx_rx_irq);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename,
				    "multi-queue-max-queues", "%u",
				    xnb_max_queues);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename,
				    "feature-xdp-headroom", "%u",
				    xnb_provides_xdp_headroom);
	if (err) {
		xenbus_transaction_end(xbt, 1);
		return err;
	}
	err = xenbus_transaction_end(xbt, 0);
	if (err == -EAGAIN)
		goto again;
	return err;
}

/* "rate" = "bytes,usec" from the toolstack; absent or bad: no limit. */
static void read_rate(struct backend *be, unsigned long *bytes,
		      unsigned long *usec)
{
	char *s;

	*bytes = 0;
	*usec = 0;
	s = xenbus_read(XBT_NIL, be->dev->nodename, "rate", NULL);
	if (IS_ERR(s))
		return;
	if (sscanf(s, "%lu,%lu", bytes, usec) != 2 || !*bytes || !*usec ||
	    *usec > 1000000UL * 3600) {
		*bytes = 0;
		*usec = 0;
	}
	kfree(s);
}

static void apply_rate(struct backend *be)
{
	struct xnb_vif *vif = be->vif;
	unsigned long bytes, usec;
	unsigned int i;

	read_rate(be, &bytes, &usec);
	for (i = 0; i < vif->nr_queues; i++) {
		struct xnb_queue *q = &vif->queues[i];

		/* NAPI reads these; a torn update costs one period at worst. */
		WRITE_ONCE(q->credit_usec, usec);
		WRITE_ONCE(q->credit_bytes, bytes);
	}
}

/* Coalesce events of watched nodes: one pending event is enough. */
static bool one_pending(struct xenbus_watch *w, const char *path,
			const char *token)
{
	return !w->nr_pending;
}

static void rate_changed(struct xenbus_watch *w, const char *path,
			 const char *token)
{
	struct backend *be = container_of(w, struct backend, rate_watch);

	if (be->connected)
		apply_rate(be);
}

static void mcast_changed(struct xenbus_watch *w, const char *path,
			  const char *token)
{
	struct backend *be = container_of(w, struct backend, mcast_watch);

	WRITE_ONCE(be->vif->mcast_filter,
		   !!xenbus_read_unsigned(be->dev->otherend,
					  "request-multicast-control", 0));
}

static void hotplug_changed(struct xenbus_watch *w, const char *path,
			    const char *token)
{
	struct backend *be = container_of(w, struct backend, hotplug_watch);
	unsigned int len;
	char *s;

	s = xenbus_read(XBT_NIL, be->dev->nodename, "hotplug-status", &len);
	if (IS_ERR(s))
		return;
	if (len == strlen("connected") && !memcmp(s, "connected", len)) {
		be->hotplug_ok = true;
		if (be->connected && be->dev->state != XenbusStateConnected)
			xenbus_switch_state(be->dev, XenbusStateConnected);
	}
	kfree(s);
}

static void unwatch(struct xenbus_watch *w)
{
	if (!w->node)
		return;
	unregister_xenbus_watch(w);
	kfree(w->node);
	w->node = NULL;
}

/*
 * The frontend's XDP headroom, which it may change while connected.  A
 * bad one is reported in xenstore when connecting; on a change, where
 * the guest can ask again with every write of its state, only in a
 * rate-limited message.
 */
static void read_xdp_headroom(struct backend *be, bool connecting)
{
	struct xenbus_device *dev = be->dev;
	unsigned int headroom;

	headroom = xnb_provides_xdp_headroom ?
		   xenbus_read_unsigned(dev->otherend, "xdp-headroom", 0) : 0;
	/* The first receive slot must keep room for data. */
	if (headroom > XEN_NETIF_MAX_XDP_HEADROOM ||
	    headroom >= XEN_PAGE_SIZE - ETH_HLEN) {
		if (connecting)
			xenbus_dev_error(dev, -EINVAL,
					 "xdp-headroom %u ignored", headroom);
		else
			dev_warn_ratelimited(&dev->dev,
					     "xdp-headroom %u ignored\n",
					     headroom);
		headroom = 0;
	}
	WRITE_ONCE(be->vif->xdp_headroom, headroom);
}

static int read_features(struct backend *be)
{
	struct xenbus_device *dev = be->dev;
	struct xnb_vif *vif = be->vif;
	const char *fe = dev->otherend;

	if (!xenbus_read_unsigned(fe, "request-rx-copy", 0)) {
		xenbus_dev_fatal(dev, -EOPNOTSUPP,
				 "frontend does not request rx-copy, the only receive mode");
		return -EOPNOTSUPP;
	}
	vif->rx_notify = xenbus_read_unsigned(fe, "feature-rx-notify", 0);
	vif->can_sg = xenbus_read_unsigned(fe, "feature-sg", 0);
	vif->gso_v4 = xenbus_read_unsigned(fe, "feature-gso-tcpv4", 0);
	vif->gso_v6 = xenbus_read_unsigned(fe, "feature-gso-tcpv6", 0);
	vif->ip_csum = !xenbus_read_unsigned(fe, "feature-no-csum-offload", 0);
	vif->ipv6_csum = xenbus_read_unsigned(fe, "feature-ipv6-csum-offload",
					      0);
	vif->mcast_filter = xenbus_read_unsigned(fe,
						 "request-multicast-control", 0);
	read_xdp_headroom(be, true);
	return 0;
}

/* Ring references and event channels of queue @i. */
static int connect_queue(struct backend *be, struct xnb_queue *q,
			 unsigned int nr)
{
	struct xenbus_device *dev = be->dev;
	unsigned int tx_ref, rx_ref, tx_port, rx_port;
	char *dir;
	int err;

	if (nr == 1)
		dir = kstrdup(dev->otherend, GFP_KERNEL);
	else
		dir = kasprintf(GFP_KERNEL, "%s/queue-%u", dev->otherend, q->id);
	if (!dir)
		return -ENOMEM;
	err = xenbus_gather(XBT_NIL, dir, "tx-ring-ref", "%u", &tx_ref,
			    "rx-ring-ref", "%u", &rx_ref, NULL);
	if (err) {
		xenbus_dev_fatal(dev, err, "reading %s/{tx,rx}-ring-ref", dir);
		goto out;
	}
	err = -ENOENT;
	if (xnb_separate_tx_rx_irq)
		err = xenbus_gather(XBT_NIL, dir, "event-channel-tx", "%u",
				    &tx_port, "event-channel-rx", "%u",
				    &rx_port, NULL);
	if (err) {
		err = xenbus_scanf(XBT_NIL, dir, "event-channel", "%u",
				   &tx_port);
		if (err != 1) {
			err = err < 0 ? err : -EINVAL;
			xenbus_dev_fatal(dev, err, "reading %s/event-channel",
					 dir);
			goto out;
		}
		rx_port = tx_port;
	}
	err = xnb_vif_connect_queue(q, tx_ref, rx_ref, tx_port, rx_port);
	if (err)
		xenbus_dev_fatal(dev, err,
				 "mapping rings %u/%u, event channels %u/%u of %s",
				 tx_ref, rx_ref, tx_port, rx_port, dir);
out:
	kfree(dir);
	return err;
}

/* The optional control ring: ctrl-ring-ref and event-channel-ctrl. */
static int connect_ctrl(struct backend *be, unsigned int nr)
{
	struct xenbus_device *dev = be->dev;
	unsigned int ref, port;
	int err;

	if (xenbus_scanf(XBT_NIL, dev->otherend, "ctrl-ring-ref", "%u",
			 &ref) != 1)
		return 0;
	if (xenbus_scanf(XBT_NIL, dev->otherend, "event-channel-ctrl", "%u",
			 &port) != 1) {
		xenbus_dev_fatal(dev, -EINVAL, "ctrl-ring-ref without event-channel-ctrl");
		return -EINVAL;
	}
	err = xnb_ctrl_connect(be->vif, ref, port, nr);
	if (err)
		xenbus_dev_fatal(dev, err, "mapping control ring %u, event channel %u",
				 ref, port);
	return err;
}

static void backend_connect(struct backend *be)
{
	struct xenbus_device *dev = be->dev;
	struct xnb_vif *vif = be->vif;
	struct xnb_queue *queues;
	unsigned int nr, i;
	int err;

	nr = xenbus_read_unsigned(dev->otherend, "multi-queue-num-queues", 1);
	if (!nr || nr > xnb_max_queues || nr > vif->dev->num_tx_queues) {
		xenbus_dev_fatal(dev, -EINVAL,
				 "frontend asks for %u queues, at most %u",
				 nr, min(xnb_max_queues,
					 vif->dev->num_tx_queues));
		return;
	}
	if (read_features(be))
		return;
	queues = xnb_queues_alloc(vif, nr);
	if (!queues) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating %u queues", nr);
		return;
	}
	for (i = 0; i < nr; i++) {
		err = connect_queue(be, &queues[i], nr);
		if (err)
			goto fail;
	}
	err = connect_ctrl(be, nr);
	if (err)
		goto fail;
	xnb_vif_update_features(vif);
	err = xnb_vif_start(vif, queues, nr);
	if (err) {
		xenbus_dev_fatal(dev, err, "starting %u queues", nr);
		xnb_ctrl_disconnect(vif);
		goto fail;
	}
	be->connected = true;
	apply_rate(be);
	if (be->hotplug_ok)
		xenbus_switch_state(dev, XenbusStateConnected);
	return;
fail:
	xnb_queues_free(queues, nr);
	xnb_vif_end_disable(vif);
}

static void backend_disconnect(struct backend *be)
{
	if (!be->connected)
		return;
	be->connected = false;
	xnb_ctrl_disconnect(be->vif);
	xnb_vif_stop(be->vif);
}

static void frontend_changed(struct xenbus_device *dev,
			     enum xenbus_state state)
{
	struct backend *be = dev_get_drvdata(&dev->dev);

	switch (state) {
	case XenbusStateInitialising:
		/*
		 * A frontend starting over, after a close or without one (a
		 * guest kernel kexec'd, its driver reloaded): the old rings
		 * go, as in-tree.
		 */
		if (dev->state == XenbusStateInitWait && !be->connected)
			break;
		/* Connected but still waiting for the hotplug script too. */
		backend_disconnect(be);
		xenbus_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateReconfigured:
		break;
	case XenbusStateReconfiguring:
		/*
		 * netfront changes its XDP headroom this way; the features
		 * the connection was set up with stay (as in-tree).
		 */
		if (be->connected)
			read_xdp_headroom(be, false);
		xenbus_switch_state(dev, XenbusStateReconfigured);
		break;
	case XenbusStateConnected:
		if (be->connected) {
			if (be->hotplug_ok &&
			    dev->state != XenbusStateConnected)
				xenbus_switch_state(dev, XenbusStateConnected);
			break;
		}
		backend_connect(be);
		break;
	case XenbusStateClosing:
		backend_disconnect(be);
		xenbus_switch_state(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		backend_disconnect(be);
		xenbus_switch_state(dev, XenbusStateClosed);
		if (xenbus_dev_is_online(dev))
			break;
		fallthrough;
	case XenbusStateUnknown:
		/* The frontend is gone: so is this device (be is freed). */
		backend_disconnect(be);
		device_unregister(&dev->dev);
		break;
	default:
		xenbus_dev_fatal(dev, -EINVAL, "frontend in unknown state %d",
				 state);
		break;
	}
}

static void netback_remove(struct xenbus_device *dev)
{
	struct backend *be = dev_get_drvdata(&dev->dev);

	if (!be)
		return;
	unwatch(&be->hotplug_watch);
	unwatch(&be->rate_watch);
	unwatch(&be->mcast_watch);
	if (be->vif) {
		kobject_uevent(&dev->dev.kobj, KOBJ_OFFLINE);
		xenbus_rm(XBT_NIL, dev->nodename, "hotplug-status");
		backend_disconnect(be);
		xnb_vif_free(be->vif);
	}
	kfree(be->script);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(be);
}

static int netback_probe(struct xenbus_device *dev,
			 const struct xenbus_device_id *id)
{
	struct backend *be;
	unsigned int handle;
	int err;

	be = kzalloc(sizeof(*be), GFP_KERNEL);
	if (!be) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating backend");
		return -ENOMEM;
	}
	be->dev = dev;
	dev_set_drvdata(&dev->dev, be);

	err = xenbus_scanf(XBT_NIL, dev->nodename, "handle", "%u", &handle);
	if (err != 1) {
		err = err < 0 ? err : -EINVAL;
		xenbus_dev_fatal(dev, err, "reading handle");
		goto fail;
	}
	be->script = xenbus_read(XBT_NIL, dev->nodename, "script", NULL);
	if (IS_ERR(be->script)) {
		err = PTR_ERR(be->script);
		be->script = NULL;
		xenbus_dev_fatal(dev, err, "reading script");
		goto fail;
	}
	err = write_features(dev);
	if (err) {
		xenbus_dev_fatal(dev, err, "writing features");
		goto fail;
	}
	be->vif = xnb_vif_create(dev, dev->otherend_id, handle);
	if (IS_ERR(be->vif)) {
		err = PTR_ERR(be->vif);
		be->vif = NULL;
		xenbus_dev_fatal(dev, err, "creating the net device");
		goto fail;
	}
	err = xenbus_watch_pathfmt(dev, &be->hotplug_watch, NULL,
				   hotplug_changed, "%s/hotplug-status",
				   dev->nodename);
	if (!err)
		err = xenbus_watch_pathfmt(dev, &be->rate_watch, one_pending,
					   rate_changed, "%s/rate",
					   dev->nodename);
	if (!err)
		err = xenbus_watch_pathfmt(dev, &be->mcast_watch, one_pending,
					   mcast_changed,
					   "%s/request-multicast-control",
					   dev->otherend);
	if (err)
		goto fail;
	/* The toolstack runs the hotplug script once it sees InitWait. */
	err = xenbus_switch_state(dev, XenbusStateInitWait);
	if (err)
		goto fail;
	return 0;
fail:
	netback_remove(dev);
	return err;
}

/* The hotplug environment: which script, for which interface. */
static int netback_uevent(XDB_XENBUS_UEVENT_DEV_CONST struct xenbus_device *dev,
			  struct kobj_uevent_env *env)
{
	struct backend *be = dev_get_drvdata(&dev->dev);
	int err;

	if (!be)
		return 0;
	if (be->script) {
		err = add_uevent_var(env, "script=%s", be->script);
		if (err)
			return err;
	}
	if (!be->vif)
		return 0;
	return add_uevent_var(env, "vif=%s", be->vif->dev->name);
}

static xdb_xenbus_remove_t netback_remove_cb(struct xenbus_device *dev)
{
	netback_remove(dev);
	return XDB_XENBUS_REMOVED;
}

static const struct xenbus_device_id netback_ids[] = {
	{ "vif" },
	{ "" }
};

static struct xenbus_driver netback_driver = {
	.ids = netback_ids,
	.probe = netback_probe,
	.remove = netback_remove_cb,
	.uevent = netback_uevent,
	.otherend_changed = frontend_changed,
	.allow_rebind = true,
};

static int __init netback_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (!xnb_max_queues)
		xnb_max_queues = num_online_cpus();
	xnb_fatal_skb_slots = clamp_t(unsigned int, xnb_fatal_skb_slots,
				      XEN_NETIF_NR_SLOTS_MIN,
				      XNB_FATAL_SLOTS_MAX);
	pr_info("vif backend, up to %u queues (version %s)\n",
		xnb_max_queues, XDB_VERSION);
	return xenbus_register_backend(&netback_driver);
}
module_init(netback_init);

static void __exit netback_exit(void)
{
	xenbus_unregister_driver(&netback_driver);
}
module_exit(netback_exit);

MODULE_DESCRIPTION("Xen network backend (vif), out-of-tree");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:vif");
MODULE_VERSION(XDB_VERSION);
MODULE_INFO(project, "xen-dom0-backends (out-of-tree)");
