// SPDX-License-Identifier: GPL-2.0
/*
 * dm-holdref: a test-only device-mapper target, for the VM test
 * 67-blkback-held-pages.  It passes every bio on to the device under it
 * and holds a reference to each page a write carries for HOLD_MS after
 * the write, as a network block device's zero-copy send does until the
 * peer acknowledges the data (or to retransmit it): the write may be
 * complete while its pages are still read.  When it lets go, it checks
 * that the page still holds the bytes the write carried:
 *
 *   dmsetup create NAME --table "0 SECTORS holdref DEVICE [HOLD_MS]"
 *   dmsetup status NAME   ->
 *       "... holdref held H changed C unreadable U pending P"
 *
 * HOLD_MS defaults to 100.  changed: the page held other bytes (it was
 * given another grant's data); unreadable: the page had no kernel mapping
 * left; pending: pages held now.  A backend that unmaps a page only once
 * its other holders let go counts neither changed nor unreadable.
 */
#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#define HOLD_MS_DEFAULT	100
#define HOLD_MS_MAX	60000
#define SAMPLE_BYTES	64

struct holdref {
	struct dm_dev *dev;
	unsigned int hold_ms;
	atomic_t pending;		/* holds not yet let go */
	atomic_long_t held, changed, unreadable;
};

/* Ours, so that module exit can wait for the last let-go to return. */
static struct workqueue_struct *holdref_wq;

struct held_page {
	struct delayed_work work;
	struct holdref *hr;
	struct page *page;
	unsigned int offset, len;
	u8 want[SAMPLE_BYTES];
};

static void holdref_let_go(struct work_struct *work)
{
	struct held_page *h = container_of(to_delayed_work(work),
					   struct held_page, work);
	struct holdref *hr = h->hr;
	u8 got[SAMPLE_BYTES];

	if (copy_from_kernel_nofault(got, page_address(h->page) + h->offset,
				     h->len))
		atomic_long_inc(&hr->unreadable);
	else if (memcmp(got, h->want, h->len))
		atomic_long_inc(&hr->changed);
	/*
	 * Counted as let go before the reference goes: a backend that waits
	 * for the page can only be done once "pending" shows it.
	 */
	if (atomic_dec_and_test(&hr->pending))
		wake_up_var(&hr->pending);
	put_page(h->page);
	kfree(h);
}

static void holdref_hold(struct holdref *hr, const struct bio_vec *bv)
{
	struct held_page *h = kmalloc(sizeof(*h), GFP_NOIO);

	if (!h)
		return;
	h->hr = hr;
	h->page = bv->bv_page;
	h->offset = bv->bv_offset;
	h->len = min_t(unsigned int, bv->bv_len, SAMPLE_BYTES);
	memcpy(h->want, page_address(h->page) + h->offset, h->len);
	get_page(h->page);
	atomic_inc(&hr->pending);
	atomic_long_inc(&hr->held);
	INIT_DELAYED_WORK(&h->work, holdref_let_go);
	queue_delayed_work(holdref_wq, &h->work, msecs_to_jiffies(hr->hold_ms));
}

static int holdref_map(struct dm_target *ti, struct bio *bio)
{
	struct holdref *hr = ti->private;
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_set_dev(bio, hr->dev->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (bio_op(bio) == REQ_OP_WRITE)
		bio_for_each_segment(bv, bio, iter)
			holdref_hold(hr, &bv);
	return DM_MAPIO_REMAPPED;
}

static int holdref_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct holdref *hr;
	int err;

	if (argc < 1 || argc > 2) {
		ti->error = "holdref takes the device and, optionally, HOLD_MS";
		return -EINVAL;
	}
	hr = kzalloc(sizeof(*hr), GFP_KERNEL);
	if (!hr)
		return -ENOMEM;
	hr->hold_ms = HOLD_MS_DEFAULT;
	if (argc == 2 && (kstrtouint(argv[1], 10, &hr->hold_ms) ||
			  hr->hold_ms > HOLD_MS_MAX)) {
		ti->error = "holdref: HOLD_MS is 0-60000";
		kfree(hr);
		return -EINVAL;
	}
	err = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &hr->dev);
	if (err) {
		ti->error = "holdref: no such device";
		kfree(hr);
		return err;
	}
	ti->num_flush_bios = 1;
	ti->private = hr;
	return 0;
}

static void holdref_dtr(struct dm_target *ti)
{
	struct holdref *hr = ti->private;

	wait_var_event(&hr->pending, !atomic_read(&hr->pending));
	dm_put_device(ti, hr->dev);
	kfree(hr);
}

static void holdref_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct holdref *hr = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("held %ld changed %ld unreadable %ld pending %d",
		       atomic_long_read(&hr->held),
		       atomic_long_read(&hr->changed),
		       atomic_long_read(&hr->unreadable),
		       atomic_read(&hr->pending));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %u", hr->dev->name, hr->hold_ms);
		break;
	default:
		*result = '\0';
		break;
	}
}

static int holdref_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct holdref *hr = ti->private;

	return fn(ti, hr->dev, 0, ti->len, data);
}

static struct target_type holdref_target = {
	.name = "holdref",
	.version = { 1, 1, 0 },
	.module = THIS_MODULE,
	.ctr = holdref_ctr,
	.dtr = holdref_dtr,
	.map = holdref_map,
	.status = holdref_status,
	.iterate_devices = holdref_iterate_devices,
};

static int __init holdref_init(void)
{
	int err;

	holdref_wq = alloc_workqueue("dm-holdref", 0, 0);
	if (!holdref_wq)
		return -ENOMEM;
	err = dm_register_target(&holdref_target);
	if (err)
		destroy_workqueue(holdref_wq);
	return err;
}

static void __exit holdref_exit(void)
{
	dm_unregister_target(&holdref_target);
	destroy_workqueue(holdref_wq);
}

module_init(holdref_init);
module_exit(holdref_exit);
MODULE_DESCRIPTION("Test-only: hold written pages past their write, then check them");
MODULE_LICENSE("GPL");
