// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xen/gntdev: the character device, its ioctls and the module.
 */
#include <linux/debugfs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <xen/events.h>
#include <xen/xen.h>

#include "gntdev.h"

/* The in-tree module's name, meaning and default. */
unsigned int gntdev_limit = 64 * 1024;
module_param_named(limit, gntdev_limit, uint, 0644);
MODULE_PARM_DESC(limit,
		 "Maximum number of grants that may be mapped by one mapping request");

static long gntdev_ioctl_map(struct gntdev_file *f,
			     struct ioctl_gntdev_map_grant_ref __user *uarg)
{
	struct ioctl_gntdev_map_grant_ref op;
	struct gntdev_map *map;
	unsigned int i;
	int err;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if (!op.count || op.count > READ_ONCE(gntdev_limit))
		return -EINVAL;

	map = gntdev_map_create(op.count);
	if (!map)
		return -ENOMEM;
	if (copy_from_user(map->grants, uarg->refs,
			   sizeof(map->grants[0]) * op.count)) {
		gntdev_map_put(map);
		return -EFAULT;
	}
	/* Xen's domain ids are 16 bits: a larger one would name another. */
	for (i = 0; i < op.count; i++) {
		if (map->grants[i].domid > U16_MAX) {
			gntdev_map_put(map);
			return -EINVAL;
		}
	}

	mutex_lock(&f->lock);
	err = gntdev_map_publish(f, map);
	if (!err) {
		op.index = map->index << PAGE_SHIFT;
		gntdev_map_get(map);	/* ours; the list holds the first */
	}
	mutex_unlock(&f->lock);
	if (err) {
		gntdev_map_put(map);
		return err;
	}

	/*
	 * Not under f->lock: a fault on @uarg takes mmap_lock, which mmap()
	 * holds when it takes f->lock.  Meanwhile another thread may have
	 * unmapped the map by its index: then it is no longer listed.
	 */
	if (copy_to_user(uarg, &op, sizeof(op))) {
		bool listed;

		err = -EFAULT;
		mutex_lock(&f->lock);
		listed = !list_empty(&map->link);
		if (listed)
			gntdev_map_unlist(f, map);
		mutex_unlock(&f->lock);
		if (listed)
			gntdev_map_put(map);
	}
	gntdev_map_put(map);
	return err;
}

static long gntdev_ioctl_unmap(struct gntdev_file *f,
			       struct ioctl_gntdev_unmap_grant_ref __user *uarg)
{
	struct ioctl_gntdev_unmap_grant_ref op;
	struct gntdev_map *map;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;

	/* As in-tree: count 0 matches a map of any size; ENOENT if none. */
	mutex_lock(&f->lock);
	map = gntdev_map_find(f, op.index >> PAGE_SHIFT, op.count);
	if (map)
		gntdev_map_unlist(f, map);
	mutex_unlock(&f->lock);
	if (!map)
		return -ENOENT;
	/* A VMA still mapping it keeps the grants until munmap(). */
	gntdev_map_put(map);
	return 0;
}

static long gntdev_ioctl_offset(struct ioctl_gntdev_get_offset_for_vaddr __user *uarg)
{
	struct ioctl_gntdev_get_offset_for_vaddr op;
	int err;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	err = gntdev_offset_for_vaddr(op.vaddr, &op.offset, &op.count);
	if (err)
		return err;
	return copy_to_user(uarg, &op, sizeof(op)) ? -EFAULT : 0;
}

static long gntdev_ioctl_notify(struct gntdev_file *f,
				struct ioctl_gntdev_unmap_notify __user *uarg)
{
	struct ioctl_gntdev_unmap_notify op;
	struct gntdev_map *map;
	int err = -ENOENT;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	/* The request itself first, as in-tree: EINVAL before ENOENT. */
	if (op.action & ~(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
		return -EINVAL;
	/* Held so the port outlives its evtchn file until we notify. */
	if ((op.action & UNMAP_NOTIFY_SEND_EVENT) &&
	    evtchn_get(op.event_channel_port))
		return -EINVAL;

	mutex_lock(&f->lock);
	map = gntdev_map_find_page(f, op.index >> PAGE_SHIFT);
	if (map)
		err = gntdev_set_notify(map, op.action,
					op.index - (map->index << PAGE_SHIFT),
					op.event_channel_port);
	else if (op.action & UNMAP_NOTIFY_SEND_EVENT)
		evtchn_put(op.event_channel_port);
	mutex_unlock(&f->lock);
	return err;
}

static long gntdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gntdev_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOCTL_GNTDEV_MAP_GRANT_REF:
		return gntdev_ioctl_map(f, uarg);
	case IOCTL_GNTDEV_UNMAP_GRANT_REF:
		return gntdev_ioctl_unmap(f, uarg);
	case IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR:
		return gntdev_ioctl_offset(uarg);
	case IOCTL_GNTDEV_SET_UNMAP_NOTIFY:
		return gntdev_ioctl_notify(f, uarg);
	case IOCTL_GNTDEV_GRANT_COPY:
		return gntdev_ioctl_grant_copy(uarg);
	case IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS:
	case IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED:
	case IOCTL_GNTDEV_DMABUF_IMP_TO_REFS:
	case IOCTL_GNTDEV_DMABUF_IMP_RELEASE:
		return gntdev_ioctl_dmabuf(f, cmd, uarg);
	default:
		/* SET_MAX_GRANTS among them: libxengnttab takes ENOTTY as "no limit". */
		return -ENOTTY;
	}
}

static int gntdev_open(struct inode *inode, struct file *file)
{
	struct gntdev_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->maps);
	INIT_LIST_HEAD(&f->exports);
	INIT_LIST_HEAD(&f->imports);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int gntdev_release(struct inode *inode, struct file *file)
{
	struct gntdev_file *f = file->private_data;
	struct gntdev_map *map, *next;
	LIST_HEAD(maps);

	/* No more ioctls can come; VMAs and dma-bufs keep their maps alive. */
	gntdev_dmabuf_release_file(f);
	mutex_lock(&f->lock);
	list_splice_init(&f->maps, &maps);
	mutex_unlock(&f->lock);
	list_for_each_entry_safe(map, next, &maps, link) {
		list_del_init(&map->link);
		gntdev_map_put(map);
	}
	kfree(f);
	return 0;
}

static const struct file_operations gntdev_fops = {
	.owner = THIS_MODULE,
	.open = gntdev_open,
	.release = gntdev_release,
	.mmap = gntdev_mmap,
	.unlocked_ioctl = gntdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice gntdev_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xen/gntdev",
	.fops = &gntdev_fops,
};

/* /sys/kernel/debug/xen-gntdev/stats: what is held, for admins and tests. */
static int gntdev_stats_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "maps %d\ngrant_mappings %d\ndmabuf_imports_held %d\n",
		   atomic_read(&gntdev_stat_maps),
		   atomic_read(&gntdev_stat_mapped),
		   gntdev_dmabuf_imports_held());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gntdev_stats);

static struct dentry *gntdev_debugfs;

static int __init gntdev_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;

	err = gntdev_teardown_init();
	if (err)
		return err;
	err = misc_register(&gntdev_miscdev);
	if (err) {
		pr_err("cannot register /dev/xen/gntdev: %d\n", err);
		gntdev_teardown_exit();
		return err;
	}
	gntdev_dmabuf_init(gntdev_miscdev.this_device);
	gntdev_debugfs = debugfs_create_dir("xen-gntdev", NULL);
	debugfs_create_file("stats", 0400, gntdev_debugfs, NULL,
			    &gntdev_stats_fops);
	pr_info("/dev/xen/gntdev ready (xen-dom0-backends %s, %s dom0)\n",
		XDB_VERSION, gntdev_pv() ? "PV" : "auto-translated");
	return 0;
}

static void __exit gntdev_exit(void)
{
	misc_deregister(&gntdev_miscdev);
	debugfs_remove_recursive(gntdev_debugfs);
	/* Teardowns waiting for busy pages run this module's code. */
	gntdev_teardown_exit();
	gntdev_dmabuf_exit();
}

module_init(gntdev_init);
module_exit(gntdev_exit);

MODULE_DESCRIPTION("Xen granted-page access for dom0 user space (/dev/xen/gntdev)");
MODULE_LICENSE("GPL");
MODULE_VERSION(XDB_VERSION);
MODULE_INFO(project, "xen-dom0-backends (out-of-tree)");
