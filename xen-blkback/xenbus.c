// SPDX-License-Identifier: GPL-2.0
/*
 * xen-blkback's control plane: the "vbd" xenbus backend.
 *
 * The toolstack creates the backend directory; probe advertises what the
 * rings can do and waits (InitWait).  The hotplug script writes
 * physical-device, and the backing device is opened.  Once the frontend
 * has published its rings (Initialised or Connected) they are mapped, the
 * disk is described (sectors, info, sector sizes, flush, discard) and the
 * backend goes Connected.  Every callback here runs in the xenwatch
 * thread or in module removal, and a connection's teardown on a workqueue
 * of its own; the vbd's mutex serialises them.  The rings being torn down
 * (old_rings) belong to that work alone until it is done with them.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/io/protocols.h>
#include <xen/xen.h>

#include "common.h"

/* Tell a resized backing device to the frontend (rewriting state). */
static void resize_check(struct work_struct *work)
{
	struct xdb_vbd *vbd = container_of(to_delayed_work(work),
					   struct xdb_vbd, resize_work);
	struct xenbus_device *dev = vbd->dev;
	u64 sectors = bdev_nr_sectors(vbd->bdev.bdev);
	struct xenbus_transaction xbt;
	int err, state;

	if (sectors != READ_ONCE(vbd->limits.sectors)) {
		WRITE_ONCE(vbd->limits.sectors, sectors);
		pr_info("vbd %u/%u: size changed to %llu sectors\n",
			vbd->domid, vbd->handle, sectors);
		do {
			err = xenbus_transaction_start(&xbt);
			if (err)
				break;
			err = xenbus_printf(xbt, dev->nodename, "sectors",
					    "%llu", sectors);
			/*
			 * Rewritten to make a connected frontend look again;
			 * read in the transaction, so that a state switch
			 * meanwhile makes it start over.
			 */
			if (!err && xenbus_scanf(xbt, dev->nodename, "state",
						 "%d", &state) == 1 &&
			    state == XenbusStateConnected)
				err = xenbus_printf(xbt, dev->nodename, "state",
						    "%d", XenbusStateConnected);
			err = xenbus_transaction_end(xbt, err != 0) ?: err;
		} while (err == -EAGAIN);
		if (err)
			pr_warn("vbd %u/%u: new size not written (%d)\n",
				vbd->domid, vbd->handle, err);
	}
	schedule_delayed_work(&vbd->resize_work, HZ);
}

static struct workqueue_struct *xdb_teardown_wq;

/*
 * End the connection: its rings take no more requests from now on and go
 * to teardown_work, and the backend says @state (InitWait, Closing,
 * Closed; Unknown: nothing) once they are gone, so that the frontend has
 * every answer first.  With no rings it says it now.  @recheck: act on
 * the frontend's state then (a connect waiting).  While a teardown is
 * under way there are no rings (nothing connects), so this only says
 * @state.
 */
static void disconnect(struct xdb_vbd *vbd, enum xenbus_state state,
		       bool recheck)
{
	unsigned int i;

	if (!vbd->rings) {
		if (state != XenbusStateUnknown)
			xenbus_switch_state(vbd->dev, state);
		return;
	}
	cancel_delayed_work_sync(&vbd->resize_work);
	for (i = 0; i < vbd->nr_rings; i++)
		xdb_ring_stop_taking(&vbd->rings[i]);
	vbd->old_rings = vbd->rings;
	vbd->nr_old_rings = vbd->nr_rings;
	vbd->rings = NULL;
	vbd->nr_rings = 0;
	vbd->teardown_state = state;
	vbd->recheck = recheck;
	/* The work unmaps through the device, which may be unregistered. */
	get_device(&vbd->dev->dev);
	refcount_inc(&vbd->refs);
	queue_work(xdb_teardown_wq, &vbd->teardown_work);
}

static void retire_stats(struct xdb_vbd *vbd, const struct xdb_stats *st)
{
	struct xdb_stats *sum = &vbd->retired;

	sum->rd_req += st->rd_req;
	sum->wr_req += st->wr_req;
	sum->f_req += st->f_req;
	sum->ds_req += st->ds_req;
	sum->oo_req += st->oo_req;
	sum->rd_sect += st->rd_sect;
	sum->wr_sect += st->wr_sect;
	sum->max_pass = max(sum->max_pass, st->max_pass);
}

static void put_vbd(struct xdb_vbd *vbd)
{
	if (!refcount_dec_and_test(&vbd->refs))
		return;
	if (vbd->bdev_open)
		xdb_bdev_close(&vbd->bdev);
	kfree(vbd);
}

static void frontend_state_act(struct xdb_vbd *vbd, enum xenbus_state state);

/*
 * Stopping a ring's thread waits for its I/O in flight, which a backing
 * device can hold for as long as it likes (a lost iSCSI path, a hard NFS
 * mount).  That wait happens here, on a workqueue, so that the xenbus
 * watch thread (every device's watches, not only this vbd's) goes on
 * meanwhile.
 */
static void teardown_work(struct work_struct *work)
{
	struct xdb_vbd *vbd = container_of(work, struct xdb_vbd,
					   teardown_work);
	struct xenbus_device *dev = vbd->dev;
	unsigned int i;

	for (i = 0; i < vbd->nr_old_rings; i++)
		xdb_ring_disconnect(&vbd->old_rings[i]);

	mutex_lock(&vbd->lock);
	for (i = 0; i < vbd->nr_old_rings; i++)
		retire_stats(vbd, &vbd->old_rings[i].stats);
	kfree(vbd->old_rings);
	vbd->old_rings = NULL;
	vbd->nr_old_rings = 0;
	if (!vbd->removed) {
		enum xenbus_state fe = vbd->recheck ?
				       xdb_read_otherend_state(dev) :
				       XenbusStateUnknown;

		/* A frontend starting over meanwhile is told InitWait alone. */
		if (vbd->teardown_state != XenbusStateUnknown &&
		    fe != XenbusStateInitialising)
			xenbus_switch_state(dev, vbd->teardown_state);
		if (vbd->recheck)
			frontend_state_act(vbd, fe);
	}
	mutex_unlock(&vbd->lock);
	put_vbd(vbd);
	put_device(&dev->dev);
}

/* The frontend's layout choice: its "protocol" key, native by default. */
static int read_abi(struct xdb_vbd *vbd, enum xdb_abi *abi)
{
	struct xenbus_device *dev = vbd->dev;
	char *proto = xenbus_read(XBT_NIL, dev->otherend, "protocol", NULL);
	int err = 0;

	*abi = XDB_ABI_NATIVE;
	if (IS_ERR(proto))
		return 0;
	if (!strcmp(proto, XEN_IO_PROTO_ABI_X86_32))
		*abi = XDB_ABI_X86_32;
	else if (strcmp(proto, XEN_IO_PROTO_ABI_X86_64))
		err = -EINVAL;
	if (err)
		xenbus_dev_fatal(dev, err, "unknown protocol %.32s", proto);
	kfree(proto);
	return err;
}

/* The grant references of one ring, from dir (the frontend's, or queue-N). */
static int read_ring_refs(struct xdb_vbd *vbd, const char *dir,
			  unsigned int order, grant_ref_t *grefs)
{
	unsigned int i, n = 1U << order;
	char key[20];

	if (!order && xenbus_scanf(XBT_NIL, dir, "ring-ref", "%u",
				   &grefs[0]) == 1)
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "ring-ref%u", i);
		if (xenbus_scanf(XBT_NIL, dir, key, "%u", &grefs[i]) != 1) {
			xenbus_dev_fatal(vbd->dev, -EINVAL, "reading %s/%s",
					 dir, key);
			return -EINVAL;
		}
	}
	return 0;
}

static int connect_ring(struct xdb_vbd *vbd, struct xdb_ring *ring,
			const char *dir, unsigned int order)
{
	grant_ref_t grefs[1U << XENBUS_MAX_RING_GRANT_ORDER];
	evtchn_port_t evtchn;
	int err;

	if (xenbus_scanf(XBT_NIL, dir, "event-channel", "%u", &evtchn) != 1) {
		xenbus_dev_fatal(vbd->dev, -EINVAL, "reading %s/event-channel",
				 dir);
		return -EINVAL;
	}
	err = read_ring_refs(vbd, dir, order, grefs);
	if (err)
		return err;
	err = xdb_ring_connect(ring, grefs, 1U << order, evtchn);
	if (err)
		xenbus_dev_fatal(vbd->dev, err, "connecting ring %u of %s",
				 ring->index, dir);
	return err;
}

/* Map every ring the frontend published and start their threads. */
static int connect_rings(struct xdb_vbd *vbd)
{
	struct xenbus_device *dev = vbd->dev;
	unsigned int nq, order, i;
	enum xdb_abi abi;
	bool persistent;
	int err;

	nq = xenbus_read_unsigned(dev->otherend, "multi-queue-num-queues", 1);
	if (nq == 0 || nq > xdb_queues_limit()) {
		xenbus_dev_fatal(dev, -EINVAL, "%u queues asked, %u offered",
				 nq, xdb_queues_limit());
		return -EINVAL;
	}
	order = xenbus_read_unsigned(dev->otherend, "ring-page-order", 0);
	if (order > xdb_ring_order_limit()) {
		xenbus_dev_fatal(dev, -EINVAL, "ring order %u asked, %u offered",
				 order, xdb_ring_order_limit());
		return -EINVAL;
	}
	err = read_abi(vbd, &abi);
	if (err)
		return err;
	persistent = xdb_feature_persistent &&
		     xenbus_read_unsigned(dev->otherend, "feature-persistent", 0);

	vbd->rings = kcalloc(nq, sizeof(*vbd->rings), GFP_KERNEL);
	if (!vbd->rings) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating %u rings", nq);
		return -ENOMEM;
	}
	vbd->nr_rings = nq;
	/* All of them first: a failure below tears down every ring. */
	for (i = 0; i < nq; i++) {
		xdb_ring_init(&vbd->rings[i], vbd, i);
		vbd->rings[i].abi = abi;
		vbd->rings[i].persistent = persistent;
	}
	for (i = 0; i < nq; i++) {
		struct xdb_ring *ring = &vbd->rings[i];
		char *dir;

		if (nq == 1) {
			err = connect_ring(vbd, ring, dev->otherend, order);
		} else {
			dir = kasprintf(GFP_KERNEL, "%s/queue-%u",
					dev->otherend, i);
			if (!dir) {
				xenbus_dev_fatal(dev, -ENOMEM, "connecting ring %u",
						 i);
				return -ENOMEM;
			}
			err = connect_ring(vbd, ring, dir, order);
			kfree(dir);
		}
		if (err)
			return err;
	}
	pr_info("vbd %u/%u: %u ring(s) of %u page(s), %s layout%s\n",
		vbd->domid, vbd->handle, nq, 1U << order,
		abi == XDB_ABI_X86_32 ? "x86_32" : "native",
		persistent ? ", persistent grants" : "");
	return 0;
}

static unsigned int vdisk_info(struct xdb_vbd *vbd)
{
	unsigned int info = 0;

	if (vbd->limits.readonly)
		info |= VDISK_READONLY;
	if (vbd->cdrom)
		info |= VDISK_CDROM;
	if (vbd->bdev.bdev->bd_disk->flags & GENHD_FL_REMOVABLE)
		info |= VDISK_REMOVABLE;
	return info;
}

/* Describe the disk to the frontend, in one transaction. */
static int write_disk(struct xdb_vbd *vbd, struct xenbus_transaction xbt)
{
	struct block_device *bdev = vbd->bdev.bdev;
	const char *node = vbd->dev->nodename;
	const struct xdb_disk_limits *lim = &vbd->limits;
	int err;

	err = xenbus_printf(xbt, node, "feature-flush-cache", "%d", vbd->flush);
	err = err ?: xenbus_printf(xbt, node, "feature-barrier", "%d",
				   vbd->flush);
	err = err ?: xenbus_printf(xbt, node, "feature-discard", "%d",
				   lim->discard);
	if (lim->discard) {
		err = err ?: xenbus_printf(xbt, node, "discard-granularity",
					   "%u",
					   bdev_discard_granularity(bdev));
		err = err ?: xenbus_printf(xbt, node, "discard-alignment",
					   "%u", bdev_discard_alignment(bdev));
		err = err ?: xenbus_printf(xbt, node, "discard-secure", "%d",
					   lim->secure_discard);
	}
	err = err ?: xenbus_printf(xbt, node, "sectors", "%llu", lim->sectors);
	err = err ?: xenbus_printf(xbt, node, "info", "%u", vdisk_info(vbd));
	err = err ?: xenbus_printf(xbt, node, "sector-size", "%u",
				   bdev_logical_block_size(bdev));
	err = err ?: xenbus_printf(xbt, node, "physical-sector-size", "%u",
				   bdev_physical_block_size(bdev));
	return err;
}

/* Connect if both the backing device and the frontend's rings are there. */
static void try_connect(struct xdb_vbd *vbd)
{
	struct xenbus_device *dev = vbd->dev;
	enum xenbus_state fe = xdb_read_otherend_state(dev);
	struct xenbus_transaction xbt;
	int err;

	if (!vbd->bdev_open || dev->state == XenbusStateConnected)
		return;
	if (fe != XenbusStateInitialised && fe != XenbusStateConnected)
		return;

	if (vbd->old_rings) {
		vbd->recheck = true;
		return;
	}
	/* Whatever a previous connection left goes first; then we connect. */
	if (vbd->rings) {
		disconnect(vbd, XenbusStateUnknown, true);
		return;
	}
	err = connect_rings(vbd);
	if (err) {
		disconnect(vbd, XenbusStateUnknown, false);
		return;
	}
	do {
		err = xenbus_transaction_start(&xbt);
		if (err)
			break;
		err = write_disk(vbd, xbt);
		err = xenbus_transaction_end(xbt, err != 0) ?: err;
	} while (err == -EAGAIN);
	if (err) {
		xenbus_dev_fatal(dev, err, "describing the disk");
		disconnect(vbd, XenbusStateUnknown, false);
		return;
	}
	xenbus_switch_state(dev, XenbusStateConnected);
	schedule_delayed_work(&vbd->resize_work, HZ);
}

/* Open what the toolstack's physical-device names ("major:minor", hex). */
static int open_backing(struct xdb_vbd *vbd, unsigned int major,
			unsigned int minor)
{
	struct xenbus_device *dev = vbd->dev;
	struct xdb_disk_limits *lim = &vbd->limits;
	struct block_device *bdev;
	bool discard_enable;
	char *s;
	int err;

	s = xenbus_read(XBT_NIL, dev->nodename, "mode", NULL);
	if (IS_ERR(s)) {
		xenbus_dev_fatal(dev, PTR_ERR(s), "reading mode");
		return PTR_ERR(s);
	}
	lim->readonly = !strchr(s, 'w');
	kfree(s);
	s = xenbus_read(XBT_NIL, dev->nodename, "device-type", NULL);
	vbd->cdrom = !IS_ERR(s) && !strcmp(s, "cdrom");
	if (!IS_ERR(s))
		kfree(s);
	discard_enable = xenbus_read_unsigned(dev->nodename, "discard-enable",
					      1);

	err = xdb_bdev_open(&vbd->bdev, MKDEV(major, minor), !lim->readonly);
	if (err) {
		xenbus_dev_fatal(dev, err, "opening device %x:%x", major, minor);
		return err;
	}
	bdev = vbd->bdev.bdev;
	vbd->bdev_open = true;
	vbd->major = major;
	vbd->minor = minor;
	if (bdev_read_only(bdev))
		lim->readonly = true;
	vbd->flush = bdev_write_cache(bdev);
	lim->sectors = bdev_nr_sectors(bdev);
	lim->block_sectors = bdev_logical_block_size(bdev) >> SECTOR_SHIFT;
	lim->discard = discard_enable && bdev_max_discard_sectors(bdev);
	lim->secure_discard = lim->discard &&
			      bdev_max_secure_erase_sectors(bdev);
	return 0;
}

static void physical_device_changed(struct xenbus_watch *watch,
				    const char *path, const char *token)
{
	struct xdb_vbd *vbd = container_of(watch, struct xdb_vbd, phys_watch);
	struct xenbus_device *dev = vbd->dev;
	unsigned int major, minor;
	char *val;
	int n;

	val = xenbus_read(XBT_NIL, dev->nodename, "physical-device", NULL);
	if (IS_ERR(val)) {
		n = PTR_ERR(val);
	} else if (!*val) {
		n = -ENOENT;	/* empty: not written yet, as missing */
		kfree(val);
	} else {
		n = sscanf(val, "%x:%x", &major, &minor);
		kfree(val);
		/* Out of dev_t's range, MKDEV() would name another device. */
		if (n == 2 && (MAJOR(MKDEV(major, minor)) != major ||
			       MINOR(MKDEV(major, minor)) != minor))
			n = -ERANGE;
	}
	if (n == -ENOENT)
		return;

	mutex_lock(&vbd->lock);
	if (n != 2) {
		/* The hotplug script's mistake: say so rather than wait. */
		if (!vbd->bdev_open)
			xenbus_dev_fatal(dev, n < 0 ? n : -EINVAL,
					 "reading physical-device");
	} else if (vbd->bdev_open) {
		if (major != vbd->major || minor != vbd->minor)
			pr_warn("vbd %u/%u: physical-device changed to %x:%x; changing the backing device is not supported\n",
				vbd->domid, vbd->handle, major, minor);
	} else if (!open_backing(vbd, major, minor)) {
		try_connect(vbd);
	}
	mutex_unlock(&vbd->lock);
}

/* What the frontend's @state asks of us, the lock held. */
static void frontend_state_act(struct xdb_vbd *vbd, enum xenbus_state state)
{
	struct xenbus_device *dev = vbd->dev;

	switch (state) {
	case XenbusStateInitialising:
		/* A frontend starting over: what it had goes first. */
		if (dev->state != XenbusStateInitWait)
			disconnect(vbd, XenbusStateInitWait, false);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		try_connect(vbd);
		break;
	case XenbusStateClosing:
		disconnect(vbd, XenbusStateClosing, false);
		break;
	case XenbusStateClosed:
		disconnect(vbd, XenbusStateClosed, false);
		break;
	case XenbusStateUnknown:
		disconnect(vbd, XenbusStateUnknown, false);
		break;
	default:
		xenbus_dev_fatal(dev, -EINVAL, "frontend in state %d", state);
		break;
	}
}

static void frontend_changed(struct xenbus_device *dev,
			     enum xenbus_state state)
{
	struct xdb_vbd *vbd = dev_get_drvdata(&dev->dev);
	bool gone = state == XenbusStateUnknown ||
		    (state == XenbusStateClosed && !xenbus_dev_is_online(dev));

	mutex_lock(&vbd->lock);
	if (vbd->old_rings)
		vbd->recheck = true;	/* the teardown acts on it when done */
	else
		frontend_state_act(vbd, state);
	mutex_unlock(&vbd->lock);
	/*
	 * The frontend is gone, or the toolstack is removing us: from this
	 * thread only, which serialises it with xenbus's own removal.
	 */
	if (gone)
		device_unregister(&dev->dev);
}

/* What the rings can do, for the frontend to choose from. */
static int advertise(struct xdb_vbd *vbd)
{
	const char *node = vbd->dev->nodename;
	struct xenbus_transaction xbt;
	int err;

	do {
		err = xenbus_transaction_start(&xbt);
		if (err)
			return err;
		err = xenbus_printf(xbt, node, "feature-max-indirect-segments",
				    "%u", vbd->limits.max_indirect_segs);
		err = err ?: xenbus_printf(xbt, node, "feature-persistent",
					   "%d", xdb_feature_persistent);
		err = err ?: xenbus_printf(xbt, node, "max-ring-page-order",
					   "%u", xdb_ring_order_limit());
		err = err ?: xenbus_printf(xbt, node, "multi-queue-max-queues",
					   "%u", xdb_queues_limit());
		err = xenbus_transaction_end(xbt, err != 0) ?: err;
	} while (err == -EAGAIN);
	return err;
}

static void xdb_remove(struct xenbus_device *dev)
{
	struct xdb_vbd *vbd = dev_get_drvdata(&dev->dev);

	if (vbd->phys_watch_set) {
		unregister_xenbus_watch(&vbd->phys_watch);
		kfree(vbd->phys_watch.node);
	}
	mutex_lock(&vbd->lock);
	disconnect(vbd, XenbusStateUnknown, false);
	vbd->removed = true;
	mutex_unlock(&vbd->lock);
	dev_set_drvdata(&dev->dev, NULL);
	/* A teardown under way frees it, with the backing device, when done. */
	put_vbd(vbd);
}

static xdb_xenbus_remove_t xdb_remove_cb(struct xenbus_device *dev)
{
	xdb_remove(dev);
	return XDB_XENBUS_REMOVED;
}

static int xdb_probe(struct xenbus_device *dev,
		     const struct xenbus_device_id *id)
{
	const char *last = strrchr(dev->nodename, '/');
	struct xdb_vbd *vbd;
	char *name;
	int err;

	vbd = kzalloc(sizeof(*vbd), GFP_KERNEL);
	if (!vbd)
		return -ENOMEM;
	vbd->dev = dev;
	vbd->domid = dev->otherend_id;
	mutex_init(&vbd->lock);
	refcount_set(&vbd->refs, 1);
	INIT_DELAYED_WORK(&vbd->resize_work, resize_check);
	INIT_WORK(&vbd->teardown_work, teardown_work);
	dev_set_drvdata(&dev->dev, vbd);
	if (!last || kstrtou32(last + 1, 10, &vbd->handle))
		vbd->handle = 0;
	name = xenbus_read(XBT_NIL, dev->nodename, "dev", NULL);
	if (IS_ERR(name)) {
		snprintf(vbd->devname, sizeof(vbd->devname), "%u",
			 vbd->handle);
	} else {
		strscpy(vbd->devname, name, sizeof(vbd->devname));
		kfree(name);
	}
	vbd->limits.max_indirect_segs = xdb_indirect_limit();

	err = advertise(vbd);
	if (err) {
		xenbus_dev_fatal(dev, err, "writing features");
		goto fail;
	}
	/*
	 * InitWait before the watch: its first event may connect at once
	 * (a frontend that is ready already), and when probe runs outside
	 * the xenbus watch thread (module loaded with devices present) that
	 * event's Connected must not be overwritten.
	 */
	err = xenbus_switch_state(dev, XenbusStateInitWait);
	if (err)
		goto fail;
	err = xenbus_watch_pathfmt(dev, &vbd->phys_watch, NULL,
				   physical_device_changed, "%s/%s",
				   dev->nodename, "physical-device");
	if (err)
		goto fail;
	vbd->phys_watch_set = true;
	return 0;
fail:
	xdb_remove(dev);
	return err;
}

static const struct xenbus_device_id xdb_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver xdb_driver = {
	.ids = xdb_ids,
	.probe = xdb_probe,
	.remove = xdb_remove_cb,
	.otherend_changed = frontend_changed,
	.driver.dev_groups = xdb_vbd_groups,
};

static int __init xdb_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	/*
	 * Unbound, as many at once as a workqueue runs: a teardown stuck
	 * behind hung storage must not hold up another device's.
	 */
	xdb_teardown_wq = alloc_workqueue("xen-blkback-teardown",
					  WQ_UNBOUND | WQ_MEM_RECLAIM,
					  WQ_MAX_ACTIVE);
	if (!xdb_teardown_wq)
		return -ENOMEM;
	err = xenbus_register_backend(&xdb_driver);
	if (err)
		destroy_workqueue(xdb_teardown_wq);
	return err;
}
module_init(xdb_init);

static void __exit xdb_exit(void)
{
	xenbus_unregister_driver(&xdb_driver);
	/*
	 * Waits for every teardown still under way (of devices removed now
	 * or earlier): they run our code.
	 */
	destroy_workqueue(xdb_teardown_wq);
}
module_exit(xdb_exit);

MODULE_DESCRIPTION("Xen block device backend (vbd), out-of-tree");
MODULE_LICENSE("GPL");
MODULE_VERSION(XDB_VERSION);
MODULE_INFO(project, "xen-dom0-backends (out-of-tree)");
MODULE_ALIAS("xen-backend:vbd");
