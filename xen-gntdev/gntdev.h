/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/xen/gntdev: dom0 user space maps and copies pages that other
 * domains granted to it (xenstored, xenconsoled, QEMU's disk backend,
 * libxenvchan, all through libxengnttab).
 *
 * A grant map is created by IOCTL_GNTDEV_MAP_GRANT_REF, which only reserves
 * a range of file offsets; mmap() of that range maps the grants.  On a PV
 * dom0 Xen writes the user's page-table entries itself, and a second grant
 * mapping, made on first need, puts the frame at the kernel address of a
 * ballooned page so kernel code (I/O on the mapping, unmap notify) can
 * reach it.  On an
 * auto-translated (PVH/HVM) dom0 the grant is mapped over the ballooned
 * page's frame and the page is inserted into the VMA.
 */
#ifndef XEN_GNTDEV_H
#define XEN_GNTDEV_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/interface/event_channel.h>
#include <xen/gntdev.h>

extern unsigned int gntdev_limit;
/* For debugfs: live maps, and grant mappings held (user and kernel ones). */
extern atomic_t gntdev_stat_maps;
extern atomic_t gntdev_stat_mapped;

struct gntdev_file {
	struct mutex lock;		/* maps and their file offsets */
	struct list_head maps;		/* struct gntdev_map, by index */
	/* Under gntdev_dmabuf.c's lock: */
	struct list_head exports;	/* live dma-bufs exported from refs */
	struct list_head imports;	/* dma-bufs imported to refs */
};

struct gntdev_unmap_notify {
	u32 flags;			/* UNMAP_NOTIFY_* still to do */
	unsigned int page;		/* byte to clear: the map's page, */
	unsigned int byte;		/* and the byte in it */
	evtchn_port_t port;		/* held with evtchn_get() while set */
};

struct gntdev_map {
	struct list_head link;		/* in gntdev_file.maps while listed */
	/* One for the file's list, one for each VMA piece mapping it. */
	refcount_t users;

	u64 index;			/* first page's offset in the file */
	unsigned int count;		/* pages */
	struct ioctl_gntdev_grant_ref *grants;
	struct page **pages;		/* ballooned pages the grants back */

	/*
	 * Grant state, under @lock (a spinlock: the PV invalidation may run
	 * where sleeping is not allowed).  map_ops/unmap_ops are the user
	 * mapping on PV (Xen writes the PTEs), or the only mapping on an
	 * auto-translated dom0; kmap_ops/kunmap_ops the PV kernel mapping.
	 * A slot is mapped while its unmap op's handle is valid.
	 */
	spinlock_t lock;
	bool mmapped;			/* mmap() happens once per map */
	bool readonly;
	unsigned long vm_start;		/* user address of page 0 (PV) */
	const struct mm_struct *vm_mm;	/* mmap()'s, only compared */
	struct gnttab_map_grant_ref *map_ops;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct gnttab_map_grant_ref *kmap_ops;
	struct gnttab_unmap_grant_ref *kunmap_ops;
	struct gntdev_unmap_notify notify;

	/* PV: unmaps the user mapping before the kernel zaps its PTEs. */
	struct mmu_interval_notifier notifier;
	bool notifier_live;

	/*
	 * Final teardown, which may wait for the pages' other users; until
	 * then teardown_ops also serves as the PV user-unmap batch.
	 */
	struct delayed_work teardown_work;
	unsigned int teardown_count;	/* ops and pages collected */
	unsigned int teardown_steps;	/* next look, in 5 ms steps from now */
	struct gnttab_unmap_grant_ref *teardown_ops;
	struct page **teardown_pages;
};

/* Grants are mapped into user page tables by Xen (PV) or by the kernel. */
static inline bool gntdev_pv(void)
{
	return !xen_feature(XENFEAT_auto_translated_physmap);
}

/* gntdev_map.c */
struct gntdev_map *gntdev_map_create(unsigned int count);
int gntdev_map_publish(struct gntdev_file *f, struct gntdev_map *map);
struct gntdev_map *gntdev_map_find(struct gntdev_file *f, u64 index,
				   u64 count);
struct gntdev_map *gntdev_map_find_page(struct gntdev_file *f, u64 page);
void gntdev_map_unlist(struct gntdev_file *f, struct gntdev_map *map);
void gntdev_map_get(struct gntdev_map *map);
void gntdev_map_put(struct gntdev_map *map);
int gntdev_map_grants(struct gntdev_map *map, struct vm_area_struct *vma);
int gntdev_map_kernel(struct gntdev_map *map);
int gntdev_map_user(struct gntdev_map *map, struct vm_area_struct *vma);
int gntdev_teardown_init(void);
void gntdev_teardown_exit(void);
void gntdev_unmap_user_range(struct gntdev_map *map, unsigned int first,
			     unsigned int n, bool may_block);
bool gntdev_kmap_slot(struct gntdev_map *map, unsigned int i);
int gntdev_set_notify(struct gntdev_map *map, u32 action, u64 offset,
		      evtchn_port_t port);

/* gntdev_mmap.c */
int gntdev_mmap(struct file *file, struct vm_area_struct *vma);
int gntdev_mmap_map(struct gntdev_map *map, struct vm_area_struct *vma,
		    bool exported);
int gntdev_offset_for_vaddr(unsigned long vaddr, u64 *offset, u32 *count);

/* gntdev_copy.c */
long gntdev_ioctl_grant_copy(struct ioctl_gntdev_grant_copy __user *uarg);

/* gntdev_dmabuf.c, where the kernel has dma-buf support */
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
void gntdev_dmabuf_init(struct device *dev);
void gntdev_dmabuf_exit(void);
int gntdev_dmabuf_imports_held(void);
void gntdev_dmabuf_release_file(struct gntdev_file *f);
long gntdev_ioctl_dmabuf(struct gntdev_file *f, unsigned int cmd,
			 void __user *uarg);
#else
static inline void gntdev_dmabuf_init(struct device *dev) { }
static inline void gntdev_dmabuf_exit(void) { }
static inline int gntdev_dmabuf_imports_held(void) { return 0; }
static inline void gntdev_dmabuf_release_file(struct gntdev_file *f) { }
static inline long gntdev_ioctl_dmabuf(struct gntdev_file *f, unsigned int cmd,
				       void __user *uarg)
{
	return -ENOTTY;
}
#endif

#endif /* XEN_GNTDEV_H */
