// SPDX-License-Identifier: GPL-2.0
/*
 * IOCTL_GNTDEV_GRANT_COPY: copy between granted pages and the caller's
 * memory without mapping anything.  Segments are validated, their local
 * side split at page boundaries, and batched into GNTTABOP_copy; local
 * pages are pinned only while their batch runs, each run of consecutive
 * user pages with one call (callers copy whole buffers).
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
	/* The user page of each op's local side, if it has one. */
	unsigned long local[GNTDEV_COPY_BATCH];
	/* Each op's local page while pinned (the batch runs), else NULL. */
	struct page *pages[GNTDEV_COPY_BATCH];
	unsigned int nr_ops;
};

/* An op has a local side unless both sides are grants (checked before). */
static bool gntdev_copy_has_local(const struct gnttab_copy *op)
{
	return (op->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)) !=
	       (GNTCOPY_source_gref | GNTCOPY_dest_gref);
}

/* ... and copies into it (which dirties the page) if the source is a grant. */
static bool gntdev_copy_into_local(const struct gnttab_copy *op)
{
	return op->flags & GNTCOPY_source_gref;
}

static void gntdev_copy_unpin(struct gntdev_copy_batch *b)
{
	unsigned int i, n;
	bool dirty;

	/* Neighbours of equal dirtiness go back in one call. */
	for (i = 0; i < b->nr_ops; i += n) {
		n = 1;
		if (!b->pages[i])
			continue;
		dirty = gntdev_copy_into_local(&b->ops[i]);
		while (i + n < b->nr_ops && b->pages[i + n] &&
		       gntdev_copy_into_local(&b->ops[i + n]) == dirty)
			n++;
		unpin_user_pages_dirty_lock(&b->pages[i], n, dirty);
		memset(&b->pages[i], 0, n * sizeof(b->pages[i]));
	}
}

/*
 * Pin the local pages of ops [first, first + n), consecutive user pages of
 * one direction, in one call, and give the ops their frames.
 */
static int gntdev_copy_pin_run(struct gntdev_copy_batch *b, unsigned int first,
			       unsigned int n)
{
	struct page **pages = &b->pages[first];
	bool into = gntdev_copy_into_local(&b->ops[first]);
	unsigned int i;
	int ret;

	ret = pin_user_pages_fast(b->local[first], n, into ? FOLL_WRITE : 0,
				  pages);
	if (ret != n) {
		if (ret > 0) {
			unpin_user_pages(pages, ret);
			memset(pages, 0, ret * sizeof(*pages));
		}
		return ret < 0 ? ret : -EFAULT;
	}
	for (i = 0; i < n; i++) {
		struct gnttab_copy *op = &b->ops[first + i];

		(into ? &op->dest : &op->source)->u.gmfn =
			xen_page_to_gfn(pages[i]);
	}
	return 0;
}

static int gntdev_copy_pin(struct gntdev_copy_batch *b)
{
	const struct gnttab_copy *ops = b->ops;
	unsigned int i, n;
	int err;

	for (i = 0; i < b->nr_ops; i += n) {
		n = 1;
		if (!gntdev_copy_has_local(&ops[i]))
			continue;
		while (i + n < b->nr_ops && gntdev_copy_has_local(&ops[i + n]) &&
		       gntdev_copy_into_local(&ops[i + n]) ==
		       gntdev_copy_into_local(&ops[i]) &&
		       b->local[i + n] == b->local[i] + n * PAGE_SIZE)
			n++;
		err = gntdev_copy_pin_run(b, i, n);
		if (err)
			return err;
	}
	return 0;
}

/* Run the batch; each segment gets the status of its first failed op. */
static int gntdev_copy_flush(struct gntdev_copy_batch *b)
{
	s16 __user *prev = NULL;
	s16 status = GNTST_okay;
	unsigned int i;
	int err;

	err = gntdev_copy_pin(b);
	if (!err && b->nr_ops)
		gnttab_batch_copy(b->ops, b->nr_ops);
	gntdev_copy_unpin(b);
	if (err) {
		b->nr_ops = 0;
		return err;
	}

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
 * within the foreign page.  Its local page is pinned when the batch runs.
 */
static void gntdev_copy_piece(struct gntdev_copy_batch *b,
			      const struct gntdev_grant_copy_segment *seg,
			      s16 __user *status, unsigned int done,
			      unsigned int len)
{
	unsigned int i = b->nr_ops++;
	struct gnttab_copy *op = &b->ops[i];
	bool local_src = !(seg->flags & GNTCOPY_source_gref);
	const typeof(seg->source) *local = local_src ? &seg->source : &seg->dest;
	struct gnttab_copy_ptr *local_ptr = local_src ? &op->source : &op->dest;
	unsigned long addr;

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
	b->status[i] = status;
	if (!gntdev_copy_has_local(op))
		return;
	addr = (unsigned long)local->virt + done;
	b->local[i] = addr & PAGE_MASK;
	local_ptr->domid = DOMID_SELF;
	local_ptr->offset = offset_in_page(addr);
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
		gntdev_copy_piece(b, &seg, &useg->status, done, len);
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
	/* Statuses are undefined on error: nothing is pinned yet then. */
	if (!err)
		err = gntdev_copy_flush(b);
	kfree(b);
	return err;
}
