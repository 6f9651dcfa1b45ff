/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xen-blkback: the structures shared by its files.
 *
 *   xenbus.c        control plane: xenstore keys, frontend states, connect
 *   ring.c          a ring: mapping, event channel, thread, responses
 *   io.c            a request: grant mapping, bios, completion
 *   persistent.c    the per-ring cache of persistently mapped grants
 *   request_check.c what a request may ask (plain code, unit-tested)
 *   abi.c           request and response layouts (native, x86_32)
 *   sysfs.c         statistics and device attributes
 *   params.c        module parameters
 */
#ifndef XDB_BLKBACK_COMMON_H
#define XDB_BLKBACK_COMMON_H

#include <linux/blkdev.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

#include "abi.h"
#include "request_check.h"

/* Module parameters (params.c). */
extern unsigned int xdb_max_queues;
extern unsigned int xdb_max_ring_page_order;
extern unsigned int xdb_max_indirect_segments;
extern unsigned int xdb_max_persistent_grants;
extern unsigned int xdb_persistent_grant_unused_seconds;
extern unsigned int xdb_max_buffer_pages;
extern bool xdb_feature_persistent;
extern bool xdb_log_stats;

/*
 * Counters of one ring; written by its thread only, summed by sysfs
 * (max_pass: the largest is shown).
 */
struct xdb_stats {
	u64 rd_req;
	u64 wr_req;
	u64 f_req;
	u64 ds_req;
	u64 oo_req;
	u64 rd_sect;
	u64 wr_sect;
	u64 max_pass;		/* most requests taken in one pass */
};

/* A grant kept mapped across requests (feature-persistent). */
struct xdb_pgrant {
	struct rb_node node;
	grant_ref_t gref;
	grant_handle_t handle;
	struct page *page;
	unsigned int users;		/* requests using it now */
	unsigned long last_used;	/* jiffies */
};

/* One segment of a request, as mapped. */
struct xdb_seg {
	struct page *page;
	struct xdb_pgrant *pgrant;	/* NULL: mapped for this request only */
	grant_handle_t handle;		/* valid when mapped and not pgrant */
	grant_ref_t gref;
	u16 offset;
	u16 len;
};

/* A request taken from the ring and not yet answered. */
struct xdb_req {
	struct list_head node;		/* free list or done list */
	struct xdb_ring *ring;
	u64 id;
	u8 operation;
	atomic_t pending;		/* bios in flight, plus one */
	int status;			/* BLKIF_RSP_*; first error wins */
	bool early;			/* answer from bio completion */
	bool answered;			/* done so: the thread only frees it */
	unsigned int nr_segs;
	struct xdb_seg *segs;		/* xdb_ring.max_segs entries */
};

struct xdb_vbd;

/* One ring (queue): its pages, event channel, thread and requests. */
struct xdb_ring {
	struct xdb_vbd *vbd;
	unsigned int index;
	enum xdb_abi abi;
	union xdb_back_ring br;
	void *sring;			/* the mapped ring pages */
	unsigned int irq;
	struct task_struct *thread;
	wait_queue_head_t wq;
	bool notified;			/* an event came since the last look */
	bool requests_since_eoi;	/* requests taken since the last EOI */
	bool more_pending;		/* the last pass left requests */
	bool broken;			/* guest broke the protocol: no more */
	bool stopping;			/* disconnected: take no more requests */
	unsigned int max_segs;

	/* Requests: all of them, the free ones, and the completed ones. */
	struct xdb_req *reqs;
	unsigned int nr_reqs;
	struct list_head free_reqs;
	unsigned int inflight;
	/*
	 * done_reqs and the response ring, both written from completions;
	 * a completion also holds it while it signals the ring.
	 */
	spinlock_t done_lock;
	struct list_head done_reqs;
	bool wants_done;		/* the thread waits for a request back */

	/* WRITE_BARRIER: one request held until earlier I/O is done. */
	bool held_valid;
	struct blkif_request held;
	bool draining;			/* a barrier is in flight */

	/* Grant mapping scratch, used by the thread only. */
	struct gnttab_map_grant_ref *map_ops;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct page **pages;
	struct gntab_unmap_queue_data unmap_wait;	/* xdb_unmap_pages() */
	unsigned int *map_idx;		/* map_ops[i] is for segs[map_idx[i]] */
	struct xdb_pgrant **purge_batch;
	struct blkif_request_segment *indirect_segs;	/* page-aligned */
	size_t indirect_size;
	struct gnttab_page_cache page_cache;

	bool persistent;
	struct rb_root pgrants;
	unsigned int nr_pgrants;
	unsigned long next_purge;	/* jiffies */
	unsigned long next_stats_log;	/* jiffies */

	struct xdb_stats stats;
};

/* One virtual block device: a backend xenbus device. */
struct xdb_vbd {
	struct xenbus_device *dev;
	struct mutex lock;		/* connect, disconnect, remove */
	domid_t domid;
	u32 handle;			/* the device id */
	char devname[16];		/* the toolstack's "dev", for names */

	/* The backing device, from the hotplug script's physical-device. */
	struct xdb_bdev bdev;
	bool bdev_open;
	u32 major, minor;
	bool cdrom;
	struct xdb_disk_limits limits;	/* readonly among them */
	bool flush;

	struct xenbus_watch phys_watch;
	bool phys_watch_set;

	struct xdb_ring *rings;
	unsigned int nr_rings;
	struct xdb_stats retired;	/* of rings already torn down */
	struct delayed_work resize_work;

	/*
	 * Rings of a connection being torn down by teardown_work, which waits
	 * for their I/O away from the xenbus watch thread.  While they are
	 * set, nothing connects.
	 */
	struct xdb_ring *old_rings;
	unsigned int nr_old_rings;
	struct work_struct teardown_work;
	enum xenbus_state teardown_state;	/* to say after it, or Unknown */
	bool recheck;		/* the frontend's state to be acted on after */
	bool removed;		/* the device went: say no more states */
	/*
	 * The device's, and a teardown's while one is under way: the last
	 * to let go frees the vbd, after its own unlock (a mutex may still
	 * be touched by its unlock when the next holder has it).
	 */
	refcount_t refs;
};

/* ring.c */
void xdb_ring_init(struct xdb_ring *ring, struct xdb_vbd *vbd,
		   unsigned int index);
int xdb_ring_connect(struct xdb_ring *ring, grant_ref_t *grefs,
		     unsigned int nr_grefs, evtchn_port_t evtchn);
void xdb_ring_stop_taking(struct xdb_ring *ring);
void xdb_ring_disconnect(struct xdb_ring *ring);
void xdb_ring_respond(struct xdb_ring *ring, u64 id, u8 operation,
		      int status);
void xdb_ring_push(struct xdb_ring *ring);
bool xdb_ring_push_locked(struct xdb_ring *ring);

/* io.c */
#define XDB_IN_FLIGHT	1	/* not a BLKIF_RSP_* status */
int xdb_io_submit(struct xdb_ring *ring, struct xdb_req *req,
		  struct xdb_io *io);
void xdb_io_complete(struct xdb_ring *ring, struct xdb_req *req);
int xdb_unmap_pages(struct xdb_ring *ring, unsigned int n);
int xdb_io_discard(struct xdb_ring *ring, const struct xdb_io *io);

/* persistent.c */
struct xdb_pgrant *xdb_pgrant_get(struct xdb_ring *ring, grant_ref_t gref);
bool xdb_pgrant_add(struct xdb_ring *ring, struct xdb_pgrant *pg);
struct xdb_pgrant *xdb_pgrant_get_or_map(struct xdb_ring *ring,
					 grant_ref_t gref);
void xdb_pgrant_put(struct xdb_ring *ring, struct xdb_pgrant *pg);
void xdb_pgrant_purge(struct xdb_ring *ring, bool all);

/* sysfs.c */
extern const struct attribute_group *xdb_vbd_groups[];

/* params.c */
unsigned int xdb_queues_limit(void);
unsigned int xdb_ring_order_limit(void);
unsigned int xdb_indirect_limit(void);

#endif /* XDB_BLKBACK_COMMON_H */
