// SPDX-License-Identifier: GPL-2.0
/*
 * The DMABUF ioctls: foreign grants exported as a dma-buf, and a dma-buf's
 * pages granted to a domain.
 *
 * Export: the grants are mapped for the kernel (as a map with no file
 * offset) and their pages become a dma-buf, which importers DMA-map and
 * user space may mmap() (once, whole, like a gntdev map).  The dma-buf
 * keeps the map until its last reference goes, which EXP_WAIT_RELEASED
 * waits for.  Only the default backing exists here: the pages are the
 * foreign frames themselves, so GNTDEV_DMA_FLAG_WC and _COHERENT (memory
 * from dma_alloc_wc()/dma_alloc_coherent()) cannot be honoured: EINVAL.
 *
 * Import: the dma-buf is attached to the gntdev device and mapped, and
 * each of its pages is granted to the domain, by the frame its DMA address
 * names (an importer may not touch the exporter's struct pages: there may
 * be none).  IMP_RELEASE (or close) ends the grants; while the remote
 * still maps one, the import keeps the buffer mapped, so its memory cannot
 * be reused, and a work item retries until the remote lets go.
 *
 * Exports and imports are named by the fd the ioctl returned or took: if
 * that fd is still open on one of the file's buffers, that one; otherwise
 * (closed, or reused for another dma-buf) the one the file exported or
 * imported under that number.
 */
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <xen/page.h>

#include "gntdev.h"

XDB_MODULE_IMPORT_NS(DMA_BUF);

/* Every file's export and import lists; an export outlives its file. */
static DEFINE_MUTEX(gntdev_dmabuf_lock);

/* The device importers attach as, and whose DMA mask they see. */
static struct device *gntdev_dmabuf_dev;

struct gntdev_dmabuf_exp {
	struct list_head link;		/* in the file's exports while both live */
	struct kref ref;		/* the dma-buf's, and each waiter's */
	struct gntdev_map *map;
	struct dma_buf *dmabuf;
	int fd;
	struct completion released;
};

struct gntdev_dmabuf_imp {
	struct list_head link;		/* in the file's imports */
	int fd;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	unsigned int count;
	unsigned int granted;		/* refs[0..granted) are live grants */
	grant_ref_t *refs;
};

/*
 * Imports released while the remote still maps a grant, under
 * gntdev_dmabuf_lock; each holds a reference to this module.
 */
static LIST_HEAD(gntdev_imp_held);
static void gntdev_imp_retry(struct work_struct *work);
static DECLARE_DELAYED_WORK(gntdev_imp_retry_work, gntdev_imp_retry);
static atomic_t gntdev_imp_held_count = ATOMIC_INIT(0);

void gntdev_dmabuf_init(struct device *dev)
{
	/* Exporters DMA-map their pages for it: any address will do. */
	if (dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64)))
		pr_warn("no DMA mask for the dma-buf imports\n");
	/* The device node is already open: imports fail until this is set. */
	smp_store_release(&gntdev_dmabuf_dev, dev);
}

/*
 * Module exit: no import is held (each holds the module), but the retry
 * work may still be returning from the last one's module_put().
 */
void gntdev_dmabuf_exit(void)
{
	cancel_delayed_work_sync(&gntdev_imp_retry_work);
}

/* For debugfs: imports released while the remote still maps a page. */
int gntdev_dmabuf_imports_held(void)
{
	return atomic_read(&gntdev_imp_held_count);
}

/* ---- export ---- */

static void gntdev_exp_free(struct kref *ref)
{
	kfree(container_of(ref, struct gntdev_dmabuf_exp, ref));
}

static struct sg_table *gntdev_exp_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct gntdev_dmabuf_exp *e = attach->dmabuf->priv;
	struct sg_table *sgt;
	int err;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	err = sg_alloc_table_from_pages(sgt, e->map->pages, e->map->count, 0,
					(size_t)e->map->count << PAGE_SHIFT,
					GFP_KERNEL);
	if (err)
		goto free;
	err = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (err)
		goto table;
	return sgt;

table:
	sg_free_table(sgt);
free:
	kfree(sgt);
	return ERR_PTR(err);
}

static void gntdev_exp_unmap(struct dma_buf_attachment *attach,
			     struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/* mmap() of the whole buffer, shared if writable, once (as gntdev maps). */
static int gntdev_exp_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct gntdev_dmabuf_exp *e = dmabuf->priv;
	struct gntdev_map *map = e->map;

	if (vma->vm_pgoff || vma_pages(vma) != map->count ||
	    ((vma->vm_flags & VM_WRITE) && !(vma->vm_flags & VM_SHARED)))
		return -EINVAL;
	mutex_lock(&gntdev_dmabuf_lock);
	if (map->mmapped) {
		mutex_unlock(&gntdev_dmabuf_lock);
		return -EINVAL;
	}
	map->mmapped = true;
	map->readonly = !(vma->vm_flags & VM_WRITE);
	gntdev_map_get(map);		/* the VMA's reference */
	mutex_unlock(&gntdev_dmabuf_lock);
	return gntdev_mmap_map(map, vma, true);
}

/* The last reference is gone (no fd, importer or mapping is left). */
static void gntdev_exp_release(struct dma_buf *dmabuf)
{
	struct gntdev_dmabuf_exp *e = dmabuf->priv;

	mutex_lock(&gntdev_dmabuf_lock);
	list_del_init(&e->link);
	mutex_unlock(&gntdev_dmabuf_lock);
	complete_all(&e->released);
	gntdev_map_put(e->map);
	kref_put(&e->ref, gntdev_exp_free);
}

static const struct dma_buf_ops gntdev_exp_ops = {
	.map_dma_buf = gntdev_exp_map,
	.unmap_dma_buf = gntdev_exp_unmap,
	.mmap = gntdev_exp_mmap,
	.release = gntdev_exp_release,
};

/* A map of @count grants of @domid, refs from @urefs, mapped for the kernel. */
static struct gntdev_map *gntdev_exp_map_refs(u32 domid, unsigned int count,
					      const u32 __user *urefs)
{
	struct gntdev_map *map;
	unsigned int i;
	u32 *refs;
	int err;

	/* Sized by the caller (a raised limit): ENOMEM, no warning. */
	refs = kvmalloc_array(count, sizeof(*refs), GFP_KERNEL | __GFP_NOWARN);
	if (!refs)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(refs, urefs, count * sizeof(*refs))) {
		kvfree(refs);
		return ERR_PTR(-EFAULT);
	}
	map = gntdev_map_create(count);
	if (!map) {
		kvfree(refs);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < count; i++) {
		map->grants[i].domid = domid;
		map->grants[i].ref = refs[i];
	}
	kvfree(refs);
	err = gntdev_map_kernel(map);
	if (err) {
		/* Unmaps what did map. */
		gntdev_map_put(map);
		return ERR_PTR(err);
	}
	return map;
}

static long gntdev_exp_from_refs(struct gntdev_file *f,
				 struct ioctl_gntdev_dmabuf_exp_from_refs __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs op;
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct gntdev_dmabuf_exp *e;
	struct gntdev_map *map;
	struct dma_buf *dmabuf;
	int fd;

	if (copy_from_user(&op, uarg, offsetof(typeof(op), refs)))
		return -EFAULT;
	/* Only the default backing (see the top of this file). */
	if (op.flags)
		return -EINVAL;
	if (!op.count || op.count > READ_ONCE(gntdev_limit) ||
	    op.domid > U16_MAX)
		return -EINVAL;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	map = gntdev_exp_map_refs(op.domid, op.count, uarg->refs);
	if (IS_ERR(map)) {
		kfree(e);
		return PTR_ERR(map);
	}
	INIT_LIST_HEAD(&e->link);
	kref_init(&e->ref);
	init_completion(&e->released);
	e->map = map;

	info.ops = &gntdev_exp_ops;
	info.size = (size_t)op.count << PAGE_SHIFT;
	info.flags = O_RDWR;
	info.priv = e;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		gntdev_map_put(map);
		kfree(e);
		return PTR_ERR(dmabuf);
	}
	e->dmabuf = dmabuf;

	/* The fd is installed only once user space has its number. */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);	/* releases e and the map */
		return fd;
	}
	op.fd = fd;
	if (copy_to_user(uarg, &op, offsetof(typeof(op), refs))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	e->fd = fd;
	mutex_lock(&gntdev_dmabuf_lock);
	list_add_tail(&e->link, &f->exports);
	mutex_unlock(&gntdev_dmabuf_lock);
	fd_install(fd, dmabuf->file);
	return 0;
}

/*
 * The export @fd names (see the top of this file), with a reference, or
 * NULL.  @open_buf: what dma_buf_get(@fd) gave, or an error pointer
 * (which no export's buffer equals).
 */
static struct gntdev_dmabuf_exp *gntdev_exp_find(struct gntdev_file *f, int fd,
						 struct dma_buf *open_buf)
{
	struct gntdev_dmabuf_exp *e;

	mutex_lock(&gntdev_dmabuf_lock);
	list_for_each_entry(e, &f->exports, link)
		if (e->dmabuf == open_buf)
			goto found;
	list_for_each_entry(e, &f->exports, link)
		if (e->fd == fd)
			goto found;
	mutex_unlock(&gntdev_dmabuf_lock);
	return NULL;
found:
	kref_get(&e->ref);
	mutex_unlock(&gntdev_dmabuf_lock);
	return e;
}

static long gntdev_exp_wait_released(struct gntdev_file *f,
				     struct ioctl_gntdev_dmabuf_exp_wait_released __user *uarg)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op;
	struct gntdev_dmabuf_exp *e;
	struct dma_buf *open_buf;
	long left;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	open_buf = dma_buf_get(op.fd);
	e = gntdev_exp_find(f, op.fd, open_buf);
	/* Not under our lock: this may be the last reference. */
	if (!IS_ERR(open_buf))
		dma_buf_put(open_buf);
	if (!e)
		return -ENOENT;
	/*
	 * Signals do not end the wait, as in-tree: a restarted call would
	 * wait its whole time again.  A fatal one does, so it can be killed.
	 */
	left = wait_for_completion_killable_timeout(&e->released,
						    msecs_to_jiffies(op.wait_to_ms));
	kref_put(&e->ref, gntdev_exp_free);
	if (left < 0)
		return left;
	return left ? 0 : -ETIMEDOUT;
}

/* ---- import ---- */

/*
 * End every grant the remote no longer maps, keeping the others at the
 * front of refs[]; true when none is left.
 */
static bool gntdev_imp_end_grants(struct gntdev_dmabuf_imp *imp)
{
	unsigned int i, left = 0;

	for (i = 0; i < imp->granted; i++)
		if (!gnttab_try_end_foreign_access(imp->refs[i]))
			imp->refs[left++] = imp->refs[i];
	imp->granted = left;
	return !left;
}

/* The buffer goes back to its exporter; no grant of it is left. */
static void gntdev_imp_drop(struct gntdev_dmabuf_imp *imp)
{
	if (!IS_ERR_OR_NULL(imp->sgt))
		dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
						  DMA_TO_DEVICE);
	if (!IS_ERR_OR_NULL(imp->attach))
		dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	kvfree(imp->refs);
	kfree(imp);
}

/* End an import, now or, while the remote maps a page, from the retry work. */
static void gntdev_imp_end(struct gntdev_dmabuf_imp *imp)
{
	if (gntdev_imp_end_grants(imp)) {
		gntdev_imp_drop(imp);
		return;
	}
	__module_get(THIS_MODULE);
	atomic_inc(&gntdev_imp_held_count);
	mutex_lock(&gntdev_dmabuf_lock);
	list_add_tail(&imp->link, &gntdev_imp_held);
	mutex_unlock(&gntdev_dmabuf_lock);
	queue_delayed_work(system_wq, &gntdev_imp_retry_work, HZ);
}

static void gntdev_imp_retry(struct work_struct *work)
{
	struct gntdev_dmabuf_imp *imp, *next;
	LIST_HEAD(done);
	bool more;

	mutex_lock(&gntdev_dmabuf_lock);
	/* Up to 64 Ki grants an import, and as many imports as files made. */
	list_for_each_entry_safe(imp, next, &gntdev_imp_held, link) {
		if (gntdev_imp_end_grants(imp))
			list_move_tail(&imp->link, &done);
		cond_resched();
	}
	more = !list_empty(&gntdev_imp_held);
	mutex_unlock(&gntdev_dmabuf_lock);
	if (more)
		queue_delayed_work(system_wq, &gntdev_imp_retry_work, HZ);
	/* gntdev_dmabuf_exit() waits for this function to return. */
	list_for_each_entry_safe(imp, next, &done, link) {
		gntdev_imp_drop(imp);
		atomic_dec(&gntdev_imp_held_count);
		module_put(THIS_MODULE);
	}
}

/*
 * Whether @page holds a grant mapping (another gntdev map's, say): on PV
 * its frame is not dom0's, so bfn_to_pfn() already failed; elsewhere the
 * page looks like any other and only its flag tells.  A page of a compound
 * one never is (grant-mapped pages are single ballooned pages).
 */
static bool gntdev_page_is_foreign(struct page *page)
{
	return !xen_pv_domain() && !PageCompound(page) && PageForeign(page);
}

/*
 * The frame of each page of the mapped buffer, from its DMA addresses
 * (the gntdev device maps 1:1 onto bus frames), into @frames; the buffer
 * is exactly @count whole pages.
 */
static int gntdev_imp_frames(struct gntdev_dmabuf_imp *imp, xen_pfn_t *frames)
{
	struct device *dev = gntdev_dmabuf_dev;
	struct sg_dma_page_iter it;
	struct scatterlist *sg;
	unsigned int i, n = 0;
	unsigned long pfn;
	phys_addr_t bus;

	/*
	 * A bounced mapping would name swiotlb's frames, not the buffer's.
	 * Xen's swiotlb bounces what spans machine-discontiguous pages, which
	 * on PV is any entry of more than one page, and everything when
	 * forced to.
	 */
	if (is_swiotlb_force_bounce(dev))
		return -EOPNOTSUPP;
	if (xen_pv_domain()) {
		for_each_sgtable_sg(imp->sgt, sg, i)
			if (offset_in_page(sg->offset) + sg->length > PAGE_SIZE)
				return -EOPNOTSUPP;
	}
	for_each_sgtable_dma_sg(imp->sgt, sg, i)
		if (offset_in_page(sg_dma_address(sg)) ||
		    offset_in_page(sg_dma_len(sg)))
			return -EINVAL;
	for_each_sgtable_dma_page(imp->sgt, &it, 0) {
		if (n == imp->count)
			return -EINVAL;
		bus = dma_to_phys(dev, sg_page_iter_dma_address(&it));
		/* Only dom0's own frames can be granted (not a foreign map's). */
		pfn = bfn_to_pfn(XEN_PFN_DOWN(bus));
		if (!pfn_valid(pfn) || gntdev_page_is_foreign(pfn_to_page(pfn)))
			return -EOPNOTSUPP;
		frames[n++] = pfn_to_gfn(pfn);
	}
	return n == imp->count ? 0 : -EINVAL;
}

static long gntdev_imp_to_refs(struct gntdev_file *f,
			       struct ioctl_gntdev_dmabuf_imp_to_refs __user *uarg)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs op;
	struct gntdev_dmabuf_imp *imp;
	xen_pfn_t *frames = NULL;
	unsigned int i;
	int err;

	if (copy_from_user(&op, uarg, offsetof(typeof(op), refs)))
		return -EFAULT;
	if (op.reserved || op.domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (!op.count || op.count > READ_ONCE(gntdev_limit))
		return -EINVAL;
	/* Opened while the module still loads: no device to attach as yet. */
	if (!smp_load_acquire(&gntdev_dmabuf_dev))
		return -EAGAIN;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	imp->dmabuf = dma_buf_get(op.fd);
	if (IS_ERR(imp->dmabuf)) {
		err = PTR_ERR(imp->dmabuf);
		kfree(imp);
		return err;
	}
	imp->fd = op.fd;
	imp->count = op.count;
	/* The buffer is exactly @count pages: that bounds what we allocate. */
	err = -EINVAL;
	if (imp->dmabuf->size != (size_t)op.count << PAGE_SHIFT)
		goto fail;
	imp->refs = kvcalloc(op.count, sizeof(*imp->refs), GFP_KERNEL);
	frames = kvcalloc(op.count, sizeof(*frames), GFP_KERNEL);
	err = -ENOMEM;
	if (!imp->refs || !frames)
		goto fail;
	imp->attach = dma_buf_attach(imp->dmabuf, gntdev_dmabuf_dev);
	err = PTR_ERR_OR_ZERO(imp->attach);
	if (err)
		goto fail;
	/*
	 * To the device: were the exporter's pages bounced through swiotlb,
	 * unmapping must not copy the bounce buffer back over what the
	 * remote wrote.
	 */
	imp->sgt = dma_buf_map_attachment_unlocked(imp->attach, DMA_TO_DEVICE);
	err = PTR_ERR_OR_ZERO(imp->sgt);
	if (err)
		goto fail;
	err = gntdev_imp_frames(imp, frames);
	if (err)
		goto fail;

	for (i = 0; i < op.count; i++) {
		err = gnttab_grant_foreign_access(op.domid, frames[i], 0);
		if (err < 0)
			goto fail;
		imp->refs[imp->granted++] = err;
	}
	kvfree(frames);
	frames = NULL;
	if (copy_to_user(uarg->refs, imp->refs, op.count * sizeof(imp->refs[0]))) {
		err = -EFAULT;
		goto fail;
	}
	mutex_lock(&gntdev_dmabuf_lock);
	list_add_tail(&imp->link, &f->imports);
	mutex_unlock(&gntdev_dmabuf_lock);
	return 0;

fail:
	kvfree(frames);
	gntdev_imp_end(imp);
	return err;
}

/* The import @fd names, as gntdev_exp_find() does; under the lock. */
static struct gntdev_dmabuf_imp *gntdev_imp_find(struct gntdev_file *f, int fd,
						 struct dma_buf *open_buf)
{
	struct gntdev_dmabuf_imp *imp;

	lockdep_assert_held(&gntdev_dmabuf_lock);
	list_for_each_entry(imp, &f->imports, link)
		if (imp->dmabuf == open_buf)
			return imp;
	list_for_each_entry(imp, &f->imports, link)
		if (imp->fd == fd)
			return imp;
	return NULL;
}

static long gntdev_imp_release(struct gntdev_file *f,
			       struct ioctl_gntdev_dmabuf_imp_release __user *uarg)
{
	struct ioctl_gntdev_dmabuf_imp_release op;
	struct gntdev_dmabuf_imp *found;
	struct dma_buf *open_buf;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;
	if (op.reserved)
		return -EINVAL;
	open_buf = dma_buf_get(op.fd);
	mutex_lock(&gntdev_dmabuf_lock);
	found = gntdev_imp_find(f, op.fd, open_buf);
	if (found)
		list_del(&found->link);
	mutex_unlock(&gntdev_dmabuf_lock);
	if (!IS_ERR(open_buf))
		dma_buf_put(open_buf);
	if (!found)
		return -ENOENT;
	gntdev_imp_end(found);
	return 0;
}

/* ---- the file ---- */

/* The file is going: its imports end; its exports live on, unnamed. */
void gntdev_dmabuf_release_file(struct gntdev_file *f)
{
	struct gntdev_dmabuf_imp *imp, *next;
	struct gntdev_dmabuf_exp *e, *enext;
	LIST_HEAD(imports);

	mutex_lock(&gntdev_dmabuf_lock);
	list_for_each_entry_safe(e, enext, &f->exports, link)
		list_del_init(&e->link);
	list_splice_init(&f->imports, &imports);
	mutex_unlock(&gntdev_dmabuf_lock);
	list_for_each_entry_safe(imp, next, &imports, link)
		gntdev_imp_end(imp);
}

long gntdev_ioctl_dmabuf(struct gntdev_file *f, unsigned int cmd,
			 void __user *uarg)
{
	switch (cmd) {
	case IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS:
		return gntdev_exp_from_refs(f, uarg);
	case IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED:
		return gntdev_exp_wait_released(f, uarg);
	case IOCTL_GNTDEV_DMABUF_IMP_TO_REFS:
		return gntdev_imp_to_refs(f, uarg);
	case IOCTL_GNTDEV_DMABUF_IMP_RELEASE:
		return gntdev_imp_release(f, uarg);
	default:
		return -ENOTTY;
	}
}
