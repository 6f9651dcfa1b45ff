/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small shims over kernel API drift, selected by the HAVE_* results of the
 * build-time probes (compat/probes/, generated into probes.h).  Forced into
 * every object of the project, so driver files stay free of version checks.
 * Shims are named xdb_*; driver code calls those, never a redefined kernel
 * name.
 */
#ifndef XDB_COMPAT_H
#define XDB_COMPAT_H

/* Every message of the project names its module; set before any include. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "probes.h"

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xen/events.h>
#include <xen/xenbus.h>

/* Reference-count an event channel so that gntdev's unmap notify can hold it. */
static inline int xdb_evtchn_make_refcounted(evtchn_port_t port, bool is_static)
{
#ifdef HAVE_EVTCHN_MAKE_REFCOUNTED_STATIC
	return evtchn_make_refcounted(port, is_static);
#else
	/* Such kernels have no static event channels: is_static is never set. */
	return evtchn_make_refcounted(port);
#endif
}

/*
 * IOCTL_EVTCHN_BIND_STATIC where the UAPI has it.  Older kernels have no
 * static event channels; 0 stands in, a number no 'E' ioctl has, so the
 * dispatcher (which checks the type first) never reaches it.
 */
#ifdef HAVE_IOCTL_EVTCHN_BIND_STATIC
#define XDB_IOCTL_EVTCHN_BIND_STATIC	IOCTL_EVTCHN_BIND_STATIC
#else
#define XDB_IOCTL_EVTCHN_BIND_STATIC	0
#endif

/* Changing a VMA's flags: through the accessors where vm_flags is const. */
#ifdef HAVE_VM_FLAGS_SET
#define xdb_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define xdb_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define xdb_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define xdb_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/*
 * A block device opened by number, shared (no holder), for reading and
 * optionally writing: a struct file where the kernel opens it as one.
 */
struct xdb_bdev {
	struct block_device *bdev;
#ifdef HAVE_BDEV_FILE_OPEN_BY_DEV
	struct file *file;
#else
	fmode_t mode;
#endif
};

static inline int xdb_bdev_open(struct xdb_bdev *b, dev_t dev, bool write)
{
#ifdef HAVE_BDEV_FILE_OPEN_BY_DEV
	b->file = bdev_file_open_by_dev(dev, BLK_OPEN_READ |
					(write ? BLK_OPEN_WRITE : 0),
					NULL, NULL);
	if (IS_ERR(b->file))
		return PTR_ERR(b->file);
	b->bdev = file_bdev(b->file);
#else
	b->mode = FMODE_READ | (write ? FMODE_WRITE : 0);
	b->bdev = blkdev_get_by_dev(dev, b->mode, NULL);
	if (IS_ERR(b->bdev))
		return PTR_ERR(b->bdev);
#endif
	return 0;
}

static inline void xdb_bdev_close(struct xdb_bdev *b)
{
#ifdef HAVE_BDEV_FILE_OPEN_BY_DEV
	fput(b->file);
#else
	blkdev_put(b->bdev, b->mode);
#endif
}

/* Importing a symbol namespace: a bare name before 6.13, a string since. */
#ifdef HAVE_MODULE_IMPORT_NS_IDENT
#define XDB_MODULE_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#else
#define XDB_MODULE_IMPORT_NS(ns)	MODULE_IMPORT_NS(__stringify(ns))
#endif

/* The device xenbus_driver.uevent gets: const where the kernel says so. */
#ifdef HAVE_XENBUS_UEVENT_CONST
#define XDB_XENBUS_UEVENT_DEV_CONST	const
#else
#define XDB_XENBUS_UEVENT_DEV_CONST
#endif

/*
 * What xenbus_driver.remove returns: a remove callback is declared
 * "static xdb_xenbus_remove_t f(...)" and ends "return XDB_XENBUS_REMOVED;".
 */
#ifdef HAVE_XENBUS_REMOVE_VOID
#define xdb_xenbus_remove_t	void
#define XDB_XENBUS_REMOVED
#else
#define xdb_xenbus_remove_t	int
#define XDB_XENBUS_REMOVED	0
#endif

/* Timers: the names that replaced del_timer_sync() and from_timer(). */
#ifdef HAVE_TIMER_DELETE_SYNC
#define xdb_timer_delete_sync(t)	timer_delete_sync(t)
#else
#define xdb_timer_delete_sync(t)	del_timer_sync(t)
#endif
#ifdef HAVE_TIMER_CONTAINER_OF
#define xdb_timer_container_of(var, t, field)	timer_container_of(var, t, field)
#else
#define xdb_timer_container_of(var, t, field)	from_timer(var, t, field)
#endif

/* The frontend's state, read for a backend device (7.1 wants the device). */
static inline enum xenbus_state
xdb_read_otherend_state(struct xenbus_device *dev)
{
#ifdef HAVE_XENBUS_READ_DRIVER_STATE_DEV
	return xenbus_read_driver_state(dev, dev->otherend);
#else
	return xenbus_read_driver_state(dev->otherend);
#endif
}

/*
 * The vm_operations_struct member through which vm_normal_page() finds the
 * page behind a special PTE.  Without find_special_page (6.18+) the build
 * requires CONFIG_FIND_NORMAL_PAGE=y (compat/Kbuild.include), so that
 * find_normal_page exists.
 */
#ifdef HAVE_VM_OPS_FIND_SPECIAL_PAGE
#define xdb_vm_ops_find_page	find_special_page
#else
#define xdb_vm_ops_find_page	find_normal_page
#endif

#endif /* XDB_COMPAT_H */
