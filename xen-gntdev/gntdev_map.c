// SPDX-License-Identifier: GPL-2.0
/*
 * Grant maps: their file offsets, the grant map and unmap hypercalls, the
 * unmap notification, and teardown once the file and every VMA let go.
 */
#include <linux/atomic.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/page.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>

#include "gntdev.h"

/* File offsets stay below 2^63 bytes so that mmap()'s off_t can reach them. */
#define GNTDEV_INDEX_END	(1ULL << (63 - PAGE_SHIFT))

/*
 * Teardowns still waiting for their pages, retried on a workqueue of the
 * module's own.  Each holds the module: a pipe may keep a page for ever,
 * and rmmod should then fail (EBUSY), not hang.
 */
static struct workqueue_struct *gntdev_teardown_wq;

/* A busy teardown looks again after 5 ms, 10, 15... up to a second. */
#define GNTDEV_TEARDOWN_STEP_MS		5
#define GNTDEV_TEARDOWN_MAX_STEPS	(1000 / GNTDEV_TEARDOWN_STEP_MS)

/*
 * Grants per hypercall, PTEs per page-table walk and pages per call to
 * the balloon, when a map is made, mapped, unmapped or freed.  Without
 * preemption a 64 Ki-grant map would keep its CPU for the whole of one
 * call (and map->lock held, for the user unmap); between chunks the lock
 * is dropped and, where the caller may sleep, other tasks run.
 */
#define GNTDEV_CHUNK	512U

/* Give back pages [@first, @end) of the map, a chunk at a time. */
static void gntdev_free_pages(struct gntdev_map *map, unsigned int first,
			      unsigned int end)
{
	unsigned int step;

	for (; first < end; first += step) {
		step = min(end - first, GNTDEV_CHUNK);
		gnttab_free_pages(step, map->pages + first);
		cond_resched();
	}
}

/*
 * Ballooned pages for the whole map, a chunk at a time: all or none.  A
 * killed caller stops between chunks: under a raised limit the map can
 * be most of dom0's memory, which the OOM killer may be trying to get back.
 */
static int gntdev_alloc_pages(struct gntdev_map *map)
{
	unsigned int i, step;

	for (i = 0; i < map->count; i += step) {
		step = min(map->count - i, GNTDEV_CHUNK);
		/* A failed call gives back what it got itself. */
		if (fatal_signal_pending(current) ||
		    gnttab_alloc_pages(step, map->pages + i)) {
			gntdev_free_pages(map, 0, i);
			return -ENOMEM;
		}
		cond_resched();
	}
	return 0;
}

atomic_t gntdev_stat_maps = ATOMIC_INIT(0);
atomic_t gntdev_stat_mapped = ATOMIC_INIT(0);

static void gntdev_map_free(struct gntdev_map *map, bool free_pages)
{
	if (map->notify.flags & UNMAP_NOTIFY_SEND_EVENT) {
		notify_remote_via_evtchn(map->notify.port);
		evtchn_put(map->notify.port);
	}
	if (free_pages)
		gntdev_free_pages(map, 0, map->count);
	kvfree(map);
	atomic_dec(&gntdev_stat_maps);
}

/* Hand out @n elements of @size from the map's single allocation. */
static void *gntdev_carve(void **next, unsigned int n, size_t size)
{
	void *p = *next;

	*next += n * size;
	return p;
}

struct gntdev_map *gntdev_map_create(unsigned int count)
{
	unsigned int nkernel = gntdev_pv() ? count : 0;
	struct gntdev_map *map;
	size_t per_grant;
	unsigned int i;
	void *next;

	/*
	 * One allocation for the map and all its per-grant arrays: mapping
	 * one grant per request is common (xenstored, xenconsoled) and
	 * pays for every allocation.  Every element size is a multiple of
	 * 8, so each array stays aligned.
	 */
	BUILD_BUG_ON(sizeof(*map) % 8 || sizeof(*map->map_ops) % 8 ||
		     sizeof(*map->unmap_ops) % 8 || sizeof(*map->grants) % 8);
	per_grant = sizeof(*map->map_ops) + 2 * sizeof(*map->unmap_ops) +
		    2 * sizeof(*map->pages) + sizeof(*map->grants);
	map = kvzalloc(size_add(size_add(sizeof(*map),
					 size_mul(count, per_grant)),
				size_mul(nkernel, sizeof(*map->kmap_ops) +
						  sizeof(*map->kunmap_ops))),
		       GFP_KERNEL | __GFP_NOWARN); /* a raised limit: ENOMEM */
	if (!map)
		return NULL;
	next = map + 1;
	map->map_ops = gntdev_carve(&next, count, sizeof(*map->map_ops));
	map->kmap_ops = nkernel ? gntdev_carve(&next, nkernel,
					       sizeof(*map->kmap_ops)) : NULL;
	map->unmap_ops = gntdev_carve(&next, count, sizeof(*map->unmap_ops));
	map->teardown_ops = gntdev_carve(&next, count,
					 sizeof(*map->teardown_ops));
	map->kunmap_ops = nkernel ? gntdev_carve(&next, nkernel,
						 sizeof(*map->kunmap_ops)) : NULL;
	map->pages = gntdev_carve(&next, count, sizeof(*map->pages));
	map->teardown_pages = gntdev_carve(&next, count,
					   sizeof(*map->teardown_pages));
	map->grants = gntdev_carve(&next, count, sizeof(*map->grants));

	atomic_inc(&gntdev_stat_maps);
	map->count = count;
	INIT_LIST_HEAD(&map->link);
	refcount_set(&map->users, 1);
	spin_lock_init(&map->lock);
	if (gntdev_alloc_pages(map)) {
		gntdev_map_free(map, false);
		return NULL;
	}
	for (i = 0; i < count; i++) {
		map->unmap_ops[i].handle = INVALID_GRANT_HANDLE;
		if (map->kunmap_ops)
			map->kunmap_ops[i].handle = INVALID_GRANT_HANDLE;
	}
	return map;
}

/* Give the map the lowest free range of file offsets and list it. */
int gntdev_map_publish(struct gntdev_file *f, struct gntdev_map *map)
{
	struct gntdev_map *pos;
	u64 index = 0;

	lockdep_assert_held(&f->lock);
	list_for_each_entry(pos, &f->maps, link) {
		if (pos->index >= index + map->count)
			break;
		index = pos->index + pos->count;
	}
	if (index + map->count > GNTDEV_INDEX_END)
		return -ENOSPC;
	map->index = index;
	/* Before pos, or at the end when the walk found no later map. */
	list_add_tail(&map->link, &pos->link);
	return 0;
}

/*
 * The listed map that starts at @index and spans @count pages (0: any).
 * @count is 64-bit so that an mmap() length of 2^32 pages or more is
 * compared whole and matches no map, rather than a map of its low bits.
 */
struct gntdev_map *gntdev_map_find(struct gntdev_file *f, u64 index,
				   u64 count)
{
	struct gntdev_map *map;

	lockdep_assert_held(&f->lock);
	list_for_each_entry(map, &f->maps, link) {
		if (map->index == index && (!count || map->count == count))
			return map;
		if (map->index > index)
			break;
	}
	return NULL;
}

/* The listed map whose range holds page offset @page. */
struct gntdev_map *gntdev_map_find_page(struct gntdev_file *f, u64 page)
{
	struct gntdev_map *map;

	lockdep_assert_held(&f->lock);
	list_for_each_entry(map, &f->maps, link) {
		if (page >= map->index && page - map->index < map->count)
			return map;
		if (map->index > page)
			break;
	}
	return NULL;
}

void gntdev_map_unlist(struct gntdev_file *f, struct gntdev_map *map)
{
	lockdep_assert_held(&f->lock);
	list_del_init(&map->link);
}

void gntdev_map_get(struct gntdev_map *map)
{
	refcount_inc(&map->users);
}

/*
 * PV: map page @i at its kernel address too, if it is not yet; true if it
 * is mapped there.  Done on first need (get_user_pages() through the
 * VMA), as most users only touch their mapping.  It fails only when Xen
 * has no handle left (maptrack full): the grant is still mapped for the
 * user.
 */
bool gntdev_kmap_slot(struct gntdev_map *map, unsigned int i)
{
	struct gnttab_map_grant_ref *op = &map->kmap_ops[i];

	lockdep_assert_held(&map->lock);
	if (map->kunmap_ops[i].handle != INVALID_GRANT_HANDLE)
		return true;
	if (map->unmap_ops[i].handle == INVALID_GRANT_HANDLE)
		return false;
	if (HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, op, 1) ||
	    op->status != GNTST_okay) {
		pr_err_ratelimited("kernel mapping of grant %u failed: %d\n",
				   map->grants[i].ref, op->status);
		return false;
	}
	map->kunmap_ops[i].handle = op->handle;
	atomic_inc(&gntdev_stat_mapped);
	return true;
}

/* PV: the unmap notify's byte cleared through its grant, by Xen. */
static void gntdev_clear_byte_by_copy(struct gntdev_map *map,
				      unsigned int page)
{
	struct gnttab_copy op = {
		.source.u.gmfn = xen_page_to_gfn(ZERO_PAGE(0)),
		.source.domid = DOMID_SELF,
		.dest.u.ref = map->grants[page].ref,
		.dest.domid = map->grants[page].domid,
		.dest.offset = map->notify.byte,
		.len = 1,
		.flags = GNTCOPY_dest_gref,
	};

	if (HYPERVISOR_grant_table_op(GNTTABOP_copy, &op, 1) ||
	    op.status != GNTST_okay)
		pr_err_ratelimited("clearing the unmap notify byte in grant %u failed: %d\n",
				   map->grants[page].ref, op.status);
}

/* The unmap notify's byte, cleared while its page is still mapped. */
static void gntdev_notify_clear_byte(struct gntdev_map *map, unsigned int first,
				     unsigned int n)
{
	unsigned int page = map->notify.page;
	u8 *kaddr;

	lockdep_assert_held(&map->lock);
	if (!(map->notify.flags & UNMAP_NOTIFY_CLEAR_BYTE) ||
	    page < first || page - first >= n)
		return;
	map->notify.flags &= ~UNMAP_NOTIFY_CLEAR_BYTE;
	/*
	 * Read-only grants cannot be written, and a grant never mapped is
	 * left alone.  The byte is written through the kernel's mapping
	 * where there is one (on PV only once made on need), else, on PV, by
	 * a grant copy: making a mapping for it could fail (maptrack full),
	 * and the byte could not be cleared later.
	 */
	if (map->readonly ||
	    map->unmap_ops[page].handle == INVALID_GRANT_HANDLE)
		return;
	if (map->kunmap_ops &&
	    map->kunmap_ops[page].handle == INVALID_GRANT_HANDLE) {
		gntdev_clear_byte_by_copy(map, page);
		return;
	}
	kaddr = page_address(map->pages[page]);
	kaddr[map->notify.byte] = 0;
}

/* Slot @i is mapped for the user, and for the kernel if @kmapped. */
static bool gntdev_user_slot(const struct gntdev_map *map, unsigned int i,
			     bool kmapped)
{
	bool kernel = map->kunmap_ops[i].handle != INVALID_GRANT_HANDLE;

	return map->unmap_ops[i].handle != INVALID_GRANT_HANDLE &&
	       kernel == kmapped;
}

/*
 * Unmap the user mappings of the slots in [first, first + n) that do
 * (@kmapped) or do not have a kernel mapping, in one hypercall; returns
 * how many went.  Slots without one take their p2m entry along
 * (gnttab_unmap_refs): nothing else can reach their page.  The others
 * keep it until their kernel mapping goes, at teardown.
 */
static unsigned int gntdev_unmap_user_slots(struct gntdev_map *map,
					    unsigned int first, unsigned int n,
					    bool kmapped)
{
	struct gnttab_unmap_grant_ref *batch = map->teardown_ops;
	unsigned int i, k = 0, unmapped = 0;
	int err;

	for (i = first; i < first + n; i++) {
		if (!gntdev_user_slot(map, i, kmapped))
			continue;
		batch[k] = map->unmap_ops[i];
		/* An op a refused call never reached must not read as done. */
		batch[k].status = GNTST_general_error;
		map->teardown_pages[k++] = map->pages[i];
	}
	if (!k)
		return 0;
	if (kmapped)
		err = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, batch, k);
	else
		err = gnttab_unmap_refs(batch, NULL, map->teardown_pages, k);
	/* After Xen's unmap the p2m step may still fail: statuses decide. */
	if (err)
		pr_err_ratelimited("grant unmap refused: %d\n", err);
	/*
	 * The batch holds the chosen slots in order: walk them again.  A
	 * failed gnttab_unmap_refs() may have stopped before the pages' p2m
	 * entries, so its slots keep their handles: teardown then leaks
	 * their pages rather than reuse them.
	 */
	for (i = first; k && i < first + n; i++) {
		if (!gntdev_user_slot(map, i, kmapped))
			continue;
		k--;
		if (batch->status != GNTST_okay) {
			pr_err_ratelimited("user unmap of grant %u failed: %d\n",
					   map->grants[i].ref, batch->status);
		} else if (!err || kmapped) {
			map->unmap_ops[i].handle = INVALID_GRANT_HANDLE;
			unmapped++;
		}
		batch++;
	}
	return unmapped;
}

/*
 * PV: remove the user page-table mappings of pages [first, first + n);
 * Xen clears each PTE itself.  Called before the kernel zaps those PTEs
 * (from the MMU notifier) and on mmap() failure; sleeps only if
 * @may_block.  The batch lives in teardown_ops, unused until the last
 * user goes, and map->lock keeps the callers apart, a chunk at a time:
 * each slot's handle is checked under it, so callers may interleave.
 */
void gntdev_unmap_user_range(struct gntdev_map *map, unsigned int first,
			     unsigned int n, bool may_block)
{
	unsigned int end, step, unmapped = 0;

	if (first >= map->count)
		return;
	end = first + min(n, map->count - first);
	spin_lock(&map->lock);
	gntdev_notify_clear_byte(map, first, end - first);
	spin_unlock(&map->lock);
	for (; first < end; first += step) {
		step = min(end - first, GNTDEV_CHUNK);
		spin_lock(&map->lock);
		unmapped += gntdev_unmap_user_slots(map, first, step, true) +
			    gntdev_unmap_user_slots(map, first, step, false);
		spin_unlock(&map->lock);
		if (may_block)
			cond_resched();
	}
	atomic_sub(unmapped, &gntdev_stat_mapped);
}

/*
 * Collect the slots whose last mapping (the kernel one on PV, the only one
 * otherwise) is still in place, for gnttab_unmap_refs*(); returns how many.
 */
static unsigned int gntdev_collect_mapped(struct gntdev_map *map)
{
	struct gnttab_unmap_grant_ref *ops = gntdev_pv() ? map->kunmap_ops :
							   map->unmap_ops;
	unsigned int i, n = 0;

	for (i = 0; i < map->count; i++) {
		if (ops[i].handle == INVALID_GRANT_HANDLE)
			continue;
		map->teardown_ops[n] = ops[i];
		/* An op a failed call never reached must not read as done. */
		map->teardown_ops[n].status = GNTST_general_error;
		map->teardown_pages[n] = map->pages[i];
		ops[i].handle = INVALID_GRANT_HANDLE;
		n++;
	}
	return n;
}

/* Whether something else in dom0 (I/O, a pipe) still holds a page. */
static bool gntdev_teardown_busy(struct gntdev_map *map)
{
	unsigned int i;

	for (i = 0; i < map->teardown_count; i++)
		if (page_count(map->teardown_pages[i]) > 1)
			return true;
	return false;
}

/*
 * Drop from map->pages, keeping their order, the pages that must never be
 * reused: those whose teardown op did not end GNTST_okay, and on PV those
 * whose user mapping Xen would not remove (their unmap_ops handle stayed;
 * gntdev_collect_mapped() cleared every other).  Returns how many are
 * left.  teardown_pages[] holds the collected pages in map->pages' order,
 * so one pass pairs them up.
 */
static unsigned int gntdev_keep_unmapped_pages(struct gntdev_map *map)
{
	unsigned int i, t = 0, kept = 0;

	for (i = 0; i < map->count; i++) {
		struct page *page = map->pages[i];
		bool leak = map->unmap_ops[i].handle != INVALID_GRANT_HANDLE;

		if (t < map->teardown_count && map->teardown_pages[t] == page &&
		    map->teardown_ops[t++].status != GNTST_okay)
			leak = true;
		if (!leak)
			map->pages[kept++] = page;
	}
	return kept;
}

/* Free the map with every page of it that may be reused. */
static void gntdev_map_free_kept(struct gntdev_map *map)
{
	unsigned int count = map->count;

	map->count = gntdev_keep_unmapped_pages(map);
	if (map->count < count)
		pr_err("%u pages of a %u-page map are leaked: Xen did not unmap their grants\n",
		       count - map->count, count);
	gntdev_map_free(map, true);
}

/* Unmap the collected grants, whose pages nothing else holds, and free. */
static void gntdev_teardown_finish(struct gntdev_map *map)
{
	struct gnttab_unmap_grant_ref *ops = map->teardown_ops;
	unsigned int i, j, step, unmapped = 0, leaked = 0;
	int err = 0, ret;

	/* Every chunk, whatever one before it did: a grant left is a leak. */
	for (i = 0; i < map->teardown_count; i += step) {
		step = min(map->teardown_count - i, GNTDEV_CHUNK);
		ret = gnttab_unmap_refs(ops + i, NULL, map->teardown_pages + i,
					step);
		for (j = i; j < i + step; j++) {
			if (ops[j].status == GNTST_okay)
				unmapped++;
			/*
			 * A failed call may have stopped before putting its
			 * pages back to ordinary ones: none of them is reused.
			 */
			if (ret)
				ops[j].status = GNTST_general_error;
			if (ops[j].status != GNTST_okay)
				leaked++;
		}
		if (ret && !err)
			err = ret;
		cond_resched();
	}
	atomic_sub(unmapped, &gntdev_stat_mapped);
	/*
	 * A frame Xen would not unmap is still foreign: its page must never
	 * be reused, so it is leaked, loudly, rather than handed out again.
	 * The map's other pages go back to the balloon.
	 */
	if (leaked)
		pr_err("unmapping %u grants failed (%d), %u of them\n",
		       map->teardown_count, err, leaked);
	gntdev_map_free_kept(map);
}

static void gntdev_teardown_retry(struct work_struct *work)
{
	struct gntdev_map *map = container_of(to_delayed_work(work),
					      struct gntdev_map,
					      teardown_work);

	if (gntdev_teardown_busy(map)) {
		if (map->teardown_steps < GNTDEV_TEARDOWN_MAX_STEPS)
			map->teardown_steps++;
		queue_delayed_work(gntdev_teardown_wq, &map->teardown_work,
				   msecs_to_jiffies(GNTDEV_TEARDOWN_STEP_MS *
						    map->teardown_steps));
		return;
	}
	gntdev_teardown_finish(map);
	module_put(THIS_MODULE);
}

/*
 * Last user gone: unmap what is mapped and free.  A page that something
 * else still holds would be handed back while in use, so then the unmap
 * waits, off this thread, until nothing does.
 */
static void gntdev_map_teardown(struct gntdev_map *map)
{
	if (map->notifier_live)
		mmu_interval_notifier_remove(&map->notifier);
	if (gntdev_pv())
		gntdev_unmap_user_range(map, 0, map->count, true);

	spin_lock(&map->lock);
	gntdev_notify_clear_byte(map, 0, map->count);
	map->teardown_count = gntdev_collect_mapped(map);
	spin_unlock(&map->lock);
	if (!map->teardown_count) {
		gntdev_map_free_kept(map);
		return;
	}
	if (!gntdev_teardown_busy(map)) {
		gntdev_teardown_finish(map);
		return;
	}
	/* Whoever dropped the last user still holds the module here. */
	__module_get(THIS_MODULE);
	map->teardown_steps = 1;
	INIT_DELAYED_WORK(&map->teardown_work, gntdev_teardown_retry);
	queue_delayed_work(gntdev_teardown_wq, &map->teardown_work,
			   msecs_to_jiffies(GNTDEV_TEARDOWN_STEP_MS));
}

void gntdev_map_put(struct gntdev_map *map)
{
	if (refcount_dec_and_test(&map->users))
		gntdev_map_teardown(map);
}

int gntdev_teardown_init(void)
{
	gntdev_teardown_wq = alloc_workqueue("xen-gntdev-teardown",
					     WQ_UNBOUND, 0);
	return gntdev_teardown_wq ? 0 : -ENOMEM;
}

/*
 * Module exit: no teardown waits (each holds the module), but the last may
 * still be returning from its module_put(); destroying the workqueue
 * waits for it.
 */
void gntdev_teardown_exit(void)
{
	destroy_workqueue(gntdev_teardown_wq);
}

/* PV: the PTE that will map page @addr; Xen writes it when mapping. */
static int gntdev_record_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct gntdev_map *map = data;
	unsigned int i = (addr - map->vm_start) >> PAGE_SHIFT;
	u64 pte_maddr = arbitrary_virt_to_machine(pte).maddr;
	u32 flags = GNTMAP_host_map | GNTMAP_application_map |
		    GNTMAP_contains_pte;

	if (map->readonly)
		flags |= GNTMAP_readonly;
	gnttab_set_unmap_op(&map->unmap_ops[i], pte_maddr, flags,
			    INVALID_GRANT_HANDLE);
	/* Marks the PTE special, so the kernel asks us for its page. */
	flags |= 1 << _GNTMAP_guest_avail0;
	gnttab_set_map_op(&map->map_ops[i], pte_maddr, flags,
			  map->grants[i].ref, map->grants[i].domid);
	return 0;
}

/* PV: record the PTEs of @vma's pages, a chunk at a time. */
static int gntdev_record_ptes(struct gntdev_map *map,
			      struct vm_area_struct *vma)
{
	unsigned long addr, step = GNTDEV_CHUNK * PAGE_SIZE;
	int err = 0;

	for (addr = vma->vm_start; addr < vma->vm_end && !err; addr += step) {
		if (fatal_signal_pending(current))
			return -EINTR;
		err = apply_to_page_range(vma->vm_mm, addr,
					  min(step, vma->vm_end - addr),
					  gntdev_record_pte, map);
		cond_resched();
	}
	return err;
}

/* Kernel (or, auto-translated, the only) mapping of page @i. */
static void gntdev_set_kernel_ops(struct gntdev_map *map, unsigned int i,
				  struct gnttab_map_grant_ref *map_op,
				  struct gnttab_unmap_grant_ref *unmap_op)
{
	phys_addr_t addr = (phys_addr_t)pfn_to_kaddr(page_to_xen_pfn(map->pages[i]));
	u32 flags = GNTMAP_host_map | (map->readonly ? GNTMAP_readonly : 0);

	gnttab_set_map_op(map_op, addr, flags, map->grants[i].ref,
			  map->grants[i].domid);
	gnttab_set_unmap_op(unmap_op, addr, flags, INVALID_GRANT_HANDLE);
}

/* The kernel ops of every page (PV: kmap_ops, else the only ones). */
static void gntdev_set_kernel_ops_all(struct gntdev_map *map)
{
	struct gnttab_map_grant_ref *ops = map->kmap_ops ?: map->map_ops;
	struct gnttab_unmap_grant_ref *unmap_ops = map->kunmap_ops ?: map->unmap_ops;
	unsigned int i;

	for (i = 0; i < map->count; i++) {
		gntdev_set_kernel_ops(map, i, &ops[i], &unmap_ops[i]);
		if (i % GNTDEV_CHUNK == GNTDEV_CHUNK - 1)
			cond_resched();
	}
}

/* Record the handles of the slots @ops mapped; -EINVAL if one failed. */
static int gntdev_note_mapped(struct gntdev_map *map,
			      const struct gnttab_map_grant_ref *ops,
			      struct gnttab_unmap_grant_ref *unmap_ops)
{
	unsigned int i, mapped = 0;
	int err = 0;

	lockdep_assert_held(&map->lock);
	for (i = 0; i < map->count; i++) {
		if (ops[i].status == GNTST_okay) {
			unmap_ops[i].handle = ops[i].handle;
			mapped++;
		} else {
			err = -EINVAL;
		}
	}
	atomic_add(mapped, &gntdev_stat_mapped);
	return err;
}

/*
 * Map @ops (through gnttab_map_refs() when the PV p2m must name the
 * foreign frames, else as a plain batch) and record the handles of those
 * that mapped, even when the call failed part way: they must be unmapped
 * at teardown (the XSA-361 pattern).  An op Xen never reached keeps the
 * error status set here, so it cannot look mapped.
 */
static int gntdev_map_ops(struct gntdev_map *map,
			  struct gnttab_map_grant_ref *ops,
			  struct gnttab_unmap_grant_ref *unmap_ops, bool set_p2m)
{
	unsigned int i, step;
	int err = 0, noted;

	for (i = 0; i < map->count; i++)
		ops[i].status = GNTST_general_error;
	for (i = 0; i < map->count && !err; i += step) {
		step = min(map->count - i, GNTDEV_CHUNK);
		/* The ops not reached keep their error: nothing to unmap. */
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		if (set_p2m)
			err = gnttab_map_refs(ops + i, NULL, map->pages + i, step);
		else
			gnttab_batch_map(ops + i, step);
		cond_resched();
	}
	spin_lock(&map->lock);
	noted = gntdev_note_mapped(map, ops, unmap_ops);
	spin_unlock(&map->lock);
	return err ?: noted;
}

/*
 * Map every grant of @map for @vma (mmap() holds the mmap lock).  On
 * failure, what did map stays recorded for teardown, except the PV user
 * mappings, which are removed before the failed VMA's PTEs are zapped.
 */
int gntdev_map_grants(struct gntdev_map *map, struct vm_area_struct *vma)
{
	int err;

	if (gntdev_pv()) {
		if (!xen_feature(XENFEAT_gnttab_map_avail_bits))
			return -EOPNOTSUPP;
		err = gntdev_record_ptes(map, vma);
		if (err)
			return err;
	}
	gntdev_set_kernel_ops_all(map);

	/* PV: the kernel mappings are made on first need (gntdev_kmap_slot). */
	err = gntdev_map_ops(map, map->map_ops, map->unmap_ops, true);
	if (err) {
		pr_debug("mapping %u grants of domain %u failed\n", map->count,
			 map->grants[0].domid);
		if (gntdev_pv())
			gntdev_unmap_user_range(map, 0, map->count, true);
	}
	return err;
}

/*
 * Map every grant of @map for the kernel only (a dma-buf's pages): at the
 * kernel address of its ballooned page on PV, the page's frame otherwise.
 * What did map stays recorded for teardown.
 */
int gntdev_map_kernel(struct gntdev_map *map)
{
	gntdev_set_kernel_ops_all(map);
	/* Without a user mapping, the PV p2m is set from the kernel one. */
	return gntdev_map_ops(map, map->kmap_ops ?: map->map_ops,
			      map->kunmap_ops ?: map->unmap_ops, true);
}

/*
 * PV: map the grants of a map whose kernel mapping is in place
 * (gntdev_map_kernel) into @vma as well, for mmap() of a dma-buf.  On
 * failure the user mappings that were made are removed again.
 */
int gntdev_map_user(struct gntdev_map *map, struct vm_area_struct *vma)
{
	int err;

	if (!xen_feature(XENFEAT_gnttab_map_avail_bits))
		return -EOPNOTSUPP;
	err = gntdev_record_ptes(map, vma);
	if (err)
		return err;
	/* Not gnttab_map_refs(): the p2m already names the foreign frames. */
	err = gntdev_map_ops(map, map->map_ops, map->unmap_ops, false);
	if (err)
		gntdev_unmap_user_range(map, 0, map->count, true);
	return err;
}

/*
 * @offset: the byte's, from the map's start (within the map).  With
 * UNMAP_NOTIFY_SEND_EVENT the caller holds @port (evtchn_get()), which
 * this takes over, also when it fails.
 */
int gntdev_set_notify(struct gntdev_map *map, u32 action, u64 offset,
		      evtchn_port_t port)
{
	struct gntdev_unmap_notify old;

	if ((action & UNMAP_NOTIFY_CLEAR_BYTE) && map->mmapped &&
	    map->readonly) {
		if (action & UNMAP_NOTIFY_SEND_EVENT)
			evtchn_put(port);
		return -EINVAL;
	}

	spin_lock(&map->lock);
	old = map->notify;
	map->notify.flags = action;
	map->notify.page = offset >> PAGE_SHIFT;
	map->notify.byte = offset_in_page(offset);
	map->notify.port = port;
	spin_unlock(&map->lock);

	if (old.flags & UNMAP_NOTIFY_SEND_EVENT)
		evtchn_put(old.port);
	return 0;
}
