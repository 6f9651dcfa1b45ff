// SPDX-License-Identifier: GPL-2.0
/*
 * mmap() of a grant map, its VMA operations, and (PV) the MMU notifier
 * that unmaps grants before the kernel tears down their page tables.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>

#include "gntdev.h"

static void gntdev_vma_open(struct vm_area_struct *vma)
{
	struct gntdev_map *map = vma->vm_private_data;

	/* A split or a copy of the VMA: one more user of the map. */
	gntdev_map_get(map);
	/*
	 * A copy into a child by fork(), which MADV_DOFORK lets past
	 * VM_DONTCOPY (7.1 refuses it here): the child gets the VMA but
	 * none of its pages, which an auto-translated dom0 would otherwise
	 * copy.  Only where fork() calls ->open before it copies (6.9 on).
	 */
	if (vma->vm_mm != map->vm_mm)
		xdb_vm_flags_set(vma, VM_WIPEONFORK);
}

static void gntdev_vma_close(struct vm_area_struct *vma)
{
	gntdev_map_put(vma->vm_private_data);
}

/*
 * PV: the page behind a grant PTE (marked special), for get_user_pages();
 * the kernel will reach it at its kernel address, mapped here if need be.
 */
static struct page *gntdev_find_special_page(struct vm_area_struct *vma,
					     unsigned long addr)
{
	struct gntdev_map *map = vma->vm_private_data;
	unsigned long i = (addr - map->vm_start) >> PAGE_SHIFT;
	bool mapped;

	if (i >= map->count)
		return NULL;
	spin_lock(&map->lock);
	mapped = gntdev_kmap_slot(map, i);
	spin_unlock(&map->lock);
	return mapped ? map->pages[i] : NULL;
}

/*
 * PV: changing the protection rewrites PTEs that Xen owns, so the
 * invalidation before it would unmap the grants and leave a hole that
 * faults.  Refuse instead: a map's protection is fixed at mmap().
 */
static int gntdev_vma_mprotect(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end, unsigned long newflags)
{
	return gntdev_pv() && newflags != vma->vm_flags ? -EACCES : 0;
}

static const struct vm_operations_struct gntdev_vm_ops = {
	.open = gntdev_vma_open,
	.close = gntdev_vma_close,
	.mprotect = gntdev_vma_mprotect,
	.xdb_vm_ops_find_page = gntdev_find_special_page,
};

/* The same for an exported dma-buf's mapping, which has no file offset. */
static const struct vm_operations_struct gntdev_dmabuf_vm_ops = {
	.open = gntdev_vma_open,
	.close = gntdev_vma_close,
	.mprotect = gntdev_vma_mprotect,
	.xdb_vm_ops_find_page = gntdev_find_special_page,
};

/*
 * PV: part of the map's address range is going away (munmap, mremap,
 * exit, reclaim of the page tables).  Xen must remove the grant PTEs
 * before the kernel touches them.  Sleeps only where the range allows
 * it, so it also serves callers that may not block.
 */
static bool gntdev_invalidate(struct mmu_interval_notifier *mn,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct gntdev_map *map = container_of(mn, struct gntdev_map, notifier);
	unsigned long map_end = map->vm_start + (unsigned long)map->count * PAGE_SIZE;
	unsigned long start = max(range->start, map->vm_start);
	unsigned long end = min(range->end, map_end);

	mmu_interval_set_seq(mn, cur_seq);
	if (start < end)
		gntdev_unmap_user_range(map, (start - map->vm_start) >> PAGE_SHIFT,
					(end - start) >> PAGE_SHIFT,
					mmu_notifier_range_blockable(range));
	return true;
}

static const struct mmu_interval_notifier_ops gntdev_notifier_ops = {
	.invalidate = gntdev_invalidate,
};

/*
 * Map @map's grants into @vma, for which the caller marked the map
 * mmapped, set map->readonly and took a reference.  @exported: the map is
 * a dma-buf's, whose grants the kernel has mapped already.  On failure
 * the VMA's reference is dropped.
 */
int gntdev_mmap_map(struct gntdev_map *map, struct vm_area_struct *vma,
		    bool exported)
{
	unsigned long size = vma->vm_end - vma->vm_start;
	int err;

	/* A read-only map stays so: mprotect() may not add PROT_WRITE. */
	if (map->readonly)
		xdb_vm_flags_clear(vma, VM_MAYWRITE);
	/* Grants are not inherited by fork(), dumped or grown. */
	xdb_vm_flags_set(vma, VM_DONTCOPY | VM_DONTDUMP | VM_DONTEXPAND);
	vma->vm_ops = exported ? &gntdev_dmabuf_vm_ops : &gntdev_vm_ops;
	vma->vm_private_data = map;
	map->vm_start = vma->vm_start;
	map->vm_mm = vma->vm_mm;

	if (gntdev_pv()) {
		err = mmu_interval_notifier_insert_locked(&map->notifier,
							  vma->vm_mm,
							  vma->vm_start, size,
							  &gntdev_notifier_ops);
		if (err)
			goto fail;
		map->notifier_live = true;
	}

	if (!exported)
		err = gntdev_map_grants(map, vma);
	else
		err = gntdev_pv() ? gntdev_map_user(map, vma) : 0;
	if (!err && !gntdev_pv())
		err = vm_map_pages_zero(vma, map->pages, map->count);
	if (err)
		goto fail;
	return 0;

fail:
	/*
	 * ->close is not called for a VMA whose mmap() failed: drop its
	 * reference here.  The map stays (and is used up) until its owner
	 * lets go: UNMAP_GRANT_REF or close, or the dma-buf's release.
	 */
	vma->vm_private_data = NULL;
	vma->vm_ops = NULL;
	gntdev_map_put(map);
	return err;
}

int gntdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct gntdev_file *f = file->private_data;
	struct gntdev_map *map;

	/* A private writable mapping would copy-on-write guest memory. */
	if ((vma->vm_flags & VM_WRITE) && !(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	mutex_lock(&f->lock);
	map = gntdev_map_find(f, vma->vm_pgoff, vma_pages(vma));
	if (!map || map->mmapped) {
		mutex_unlock(&f->lock);
		return -EINVAL;
	}
	map->mmapped = true;
	map->readonly = !(vma->vm_flags & VM_WRITE);
	gntdev_map_get(map);		/* the VMA's reference */
	mutex_unlock(&f->lock);

	return gntdev_mmap_map(map, vma, false);
}

int gntdev_offset_for_vaddr(unsigned long vaddr, u64 *offset, u32 *count)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct gntdev_map *map;
	int err = -EINVAL;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, vaddr);
	map = vma && vma->vm_ops == &gntdev_vm_ops ? vma->vm_private_data : NULL;
	/* Only the address the whole map was mmap()ed at names it. */
	if (map && map->vm_start == vaddr) {
		*offset = map->index << PAGE_SHIFT;
		*count = map->count;
		err = 0;
	}
	mmap_read_unlock(mm);
	return err;
}
