// SPDX-License-Identifier: GPL-2.0
/*
 * IOCTL_GNTDEV_GRANT_COPY: copy between granted pages and the caller's
 * memory without mapping anything.  Segments are validated, their local
 * side split at page boundaries, and batched into GNTTABOP_copy; local
 * pages are pinned only while their batch runs.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <xen/page.h>

#include "gntdev.h"

/* Ops per hypercall; each segment needs at most two. */
#define GNTDEV_COPY_BATCH	64

struct gntdev_copy_batch {
	struct gnttab_copy ops[GNTDEV_COPY_BATCH];
	/* Where each op's segment reports its status. */
	s16 __user *status[GNTDEV_COPY_BATCH];
	struct page *pages[GNTDEV_COPY_BATCH];
	bool dirty[GNTDEV_COPY_BATCH];
	unsigned int nr_ops;
	unsigned int nr_pages;
};

static void gntdev_copy_unpin(struct gntdev_copy_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_pages; i++)
		unpin_user_pages_dirty_lock(&b->pages[i], 1, b->dirty[i]);
	b->nr_pages = 0;
}

/* Run the batch; each segment gets the status of its first failed op. */
static int gntdev_copy_flush(struct gntdev_copy_batch *b)
{
	s16 __user *prev = NULL;
	s16 status = GNTST_okay;
	unsigned int i;
	int err = 0;

	if (b->nr_ops)
		gnttab_batch_copy(b->ops, b->nr_ops);
	gntdev_copy_unpin(b);

	for (i = 0; i < b->nr_ops; i++) {
		if (b->status[i] != prev) {
			if (prev && put_user(status, prev))
				err = -EFAULT;
			prev = b->status[i];
			status = GNTST_okay;
		}
		if (status == GNTST_okay)
			status = b->ops[i].status;
	}
	if (prev && put_user(status, prev))
		err = -EFAULT;
	b->nr_ops = 0;
	return err;
}

/*
 * Queue one piece of a segment: @len bytes, within one local page and
 * within the foreign page.  Pins the local page, if the piece has one.
 */
static int gntdev_copy_piece(struct gntdev_copy_batch *b,
			     const struct gntdev_grant_copy_segment *seg,
			     s16 __user *status, unsigned int done,
			     unsigned int len)
{
	struct gnttab_copy *op = &b->ops[b->nr_ops];
	bool local_src = !(seg->flags & GNTCOPY_source_gref);
	const typeof(seg->source) *local = local_src ? &seg->source : &seg->dest;
	struct gnttab_copy_ptr *local_ptr = local_src ? &op->source : &op->dest;
	unsigned long addr;
	struct page *page;
	int ret;

	memset(op, 0, sizeof(*op));
	op->flags = seg->flags;
	op->len = len;
	if (seg->flags & GNTCOPY_source_gref) {
		op->source.u.ref = seg->source.foreign.ref;
		op->source.domid = seg->source.foreign.domid;
		op->source.offset = seg->source.foreign.offset + done;
	}
	if (seg->flags & GNTCOPY_dest_gref) {
		op->dest.u.ref = seg->dest.foreign.ref;
		op->dest.domid = seg->dest.foreign.domid;
		op->dest.offset = seg->dest.foreign.offset + done;
	}

	if ((seg->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)) !=
	    (GNTCOPY_source_gref | GNTCOPY_dest_gref)) {
		addr = (unsigned long)local->virt + done;
		ret = pin_user_pages_fast(addr, 1, local_src ? 0 : FOLL_WRITE,
					  &page);
		if (ret != 1)
			return ret < 0 ? ret : -EFAULT;
		b->pages[b->nr_pages] = page;
		b->dirty[b->nr_pages++] = !local_src;
		local_ptr->u.gmfn = xen_page_to_gfn(page);
		local_ptr->domid = DOMID_SELF;
		local_ptr->offset = offset_in_page(addr);
	}
	b->status[b->nr_ops++] = status;
	return 0;
}

/* The checks the UAPI promises, on our private copy of a segment. */
static int gntdev_copy_check(const struct gntdev_grant_copy_segment *seg)
{
	u16 grefs = seg->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref);

	/* Only the two flags that say which side is a grant are defined. */
	if (seg->flags & ~grefs)
		return -EINVAL;
	/* Local to local is no grant copy at all. */
	if (!grefs)
		return -EINVAL;
	/* A grant reference names one page: the copy may not leave it. */
	if ((grefs & GNTCOPY_source_gref) &&
	    seg->source.foreign.offset + seg->len > XEN_PAGE_SIZE)
		return -EINVAL;
	if ((grefs & GNTCOPY_dest_gref) &&
	    seg->dest.foreign.offset + seg->len > XEN_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

static int gntdev_copy_segment(struct gntdev_copy_batch *b,
			       struct gntdev_grant_copy_segment __user *useg)
{
	struct gntdev_grant_copy_segment seg;
	unsigned long local = 0;
	unsigned int done, len;
	int err;

	if (copy_from_user(&seg, useg, sizeof(seg)))
		return -EFAULT;
	err = gntdev_copy_check(&seg);
	if (err)
		return err;
	if (!seg.len)
		return put_user((s16)GNTST_okay, &useg->status);

	if (GNTDEV_COPY_BATCH - b->nr_ops < 2) {
		err = gntdev_copy_flush(b);
		if (err)
			return err;
	}

	if (!(seg.flags & GNTCOPY_source_gref))
		local = (unsigned long)seg.source.virt;
	else if (!(seg.flags & GNTCOPY_dest_gref))
		local = (unsigned long)seg.dest.virt;

	/* The local side may cross one page boundary: two pieces then. */
	for (done = 0; done < seg.len; done += len) {
		len = seg.len - done;
		if (local)
			len = min_t(unsigned int, len,
				    PAGE_SIZE - offset_in_page(local + done));
		err = gntdev_copy_piece(b, &seg, &useg->status, done, len);
		if (err)
			return err;
	}
	return 0;
}

long gntdev_ioctl_grant_copy(struct ioctl_gntdev_grant_copy __user *uarg)
{
	struct ioctl_gntdev_grant_copy op;
	struct gntdev_copy_batch *b;
	unsigned int i;
	long err = 0;

	if (copy_from_user(&op, uarg, sizeof(op)))
		return -EFAULT;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < op.count && !err; i++) {
		err = gntdev_copy_segment(b, &op.segments[i]);
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	if (err) {
		/* Statuses are undefined on error; just let go of the pages. */
		gntdev_copy_unpin(b);
		b->nr_ops = 0;
	} else {
		err = gntdev_copy_flush(b);
	}
	kfree(b);
	return err;
}
