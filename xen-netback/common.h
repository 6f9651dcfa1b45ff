/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xen-netback: the structures shared by the control plane (xenbus.c), the
 * net device (interface.c), guest transmit (tx.c) and guest receive (rx.c).
 */
#ifndef XNB_COMMON_H
#define XNB_COMMON_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>
#include <xen/page.h>
#include <xen/grant_table.h>
#include <asm/xen/hypercall.h>
#include <xen/interface/io/netif.h>

#include "ctrl_check.h"
#include "tx_parse.h"

#define XNB_TX_RING_SIZE	__CONST_RING_SIZE(xen_netif_tx, XEN_PAGE_SIZE)
#define XNB_RX_RING_SIZE	__CONST_RING_SIZE(xen_netif_rx, XEN_PAGE_SIZE)

/* Guest transmit: frames one NAPI round builds before its grant copies. */
#define XNB_TX_BATCH		64
/* Bytes of a guest frame copied into the skb's linear area. */
#define XNB_TX_HEAD		128
/*
 * Grant copies of one transmit round: a slot (at most a page) lands in at
 * most three pieces of the skb (the linear area may straddle a page).
 */
#define XNB_TX_COPY_OPS		(3 * XNB_TX_RING_SIZE)
/* Upper bound of fatal_skb_slots, so one packet always fits the ring. */
#define XNB_FATAL_SLOTS_MAX	64

/* Guest receive: grant copies of one round. */
#define XNB_RX_COPY_OPS		(2 * XNB_RX_RING_SIZE)
/* Bytes queued for a guest before its queue is stopped. */
#define XNB_RX_QUEUE_BYTES	(XNB_RX_RING_SIZE / 2 * XEN_PAGE_SIZE)
/* Frames up to this size into an idle queue are copied by the sender. */
#define XNB_RX_NOW_BYTES	256

/* Frame and GSO limits: 64 KiB of IP payload, less the VLAN header. */
#define XNB_MAX_MTU		(65535 - VLAN_ETH_HLEN)
#define XNB_MCAST_MAX		64

/* Hash state the frontend sets through the control ring. */
struct xnb_hash {
	/*
	 * Key, size and mapping together.  Taken with interrupts off: the
	 * transmit path reads them, and netpoll (netconsole on the vif or
	 * its bridge) transmits with interrupts off.
	 */
	spinlock_t lock;
	u32 alg;			/* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	u32 flags;			/* XEN_NETIF_CTRL_HASH_TYPE_* */
	u8 key[XNB_HASH_KEY_MAX];
	u32 size;			/* mapping entries in use */
	u32 mapping[XNB_HASH_MAPPING_MAX];
};

struct xnb_vif;

/* A guest frame of the current transmit round. */
struct xnb_tx_item {
	struct xnb_tx_pkt pkt;
	struct sk_buff *skb;		/* NULL: answered without a frame */
	s16 status;			/* XEN_NETIF_RSP_* for its slots */
	unsigned int slot0;		/* first slot in tx_slots[] */
	unsigned int op0;		/* its grant copies in tx_copy[] */
	unsigned int nops;
};

/* Counters ethtool shows, per queue, summed over queues. */
struct xnb_queue_stats {
	u64 tx_frames;		/* from the guest */
	u64 tx_bytes;
	u64 tx_dropped;		/* guest frames answered with an error */
	u64 tx_copy_errors;
	u64 tx_gso;
	u64 rx_frames;		/* to the guest */
	u64 rx_bytes;
	u64 rx_dropped;		/* expired in the queue or undeliverable */
	u64 rx_gso;
	u64 rx_stalls;
};

/* A response slot of the current receive round. */
struct xnb_rx_meta {
	u16 id;
	u16 offset;
	u16 size;
	u16 flags;			/* XEN_NETRXF_* */
	u8 extra;			/* XEN_NETIF_EXTRA_TYPE_*, 0: data */
	bool more_extras;		/* another extra follows */
	u16 gso_size;
	u8 gso_type;
	u8 hash_type;
	u32 hash;
};

/* A frame of the current receive round. */
struct xnb_rx_item {
	struct sk_buff *skb;
	unsigned int meta0;		/* its slots in rx_meta[] */
	unsigned int nr_meta;
	unsigned int op0;		/* its grant copies in rx_copy[] */
	unsigned int nops;
	bool failed;			/* answered with errors */
};

/* Guest receive bookkeeping each queued skb carries in skb->cb. */
struct xnb_rx_cb {
	unsigned long expires;		/* jiffies: dropped if still queued */
	u32 hash;			/* the frontend's hash, if has_hash */
	u8 hash_type;
	bool has_hash;
};

#define XNB_RX_CB(skb)	((struct xnb_rx_cb *)(skb)->cb)

/* One pair of rings with their event channels. */
struct xnb_queue {
	struct xnb_vif *vif;
	unsigned int id;
	char name[IFNAMSIZ + 16];	/* vif<domid>.<handle>-q<id> */
	char tx_irq_name[IFNAMSIZ + 20];
	char rx_irq_name[IFNAMSIZ + 20];

	unsigned int tx_irq;		/* also rx_irq without split channels */
	unsigned int rx_irq;
	bool split_irq;
	unsigned long eoi_pending;	/* XNB_EOI_TX */

	/* Guest transmit, served by NAPI. */
	struct napi_struct napi;
	bool napi_live;			/* added and enabled: may be scheduled */
	struct xen_netif_tx_back_ring tx;
	struct xen_netif_tx_request *tx_slots;	/* private copies, one round */
	struct gnttab_copy *tx_copy;
	struct xnb_tx_item *tx_items;
	RING_IDX tx_seen_prod;		/* furthest req_prod read */
	bool tx_progress;		/* slots consumed since the last EOI */
	bool tx_credit_wait;		/* out of credit, the timer reschedules */
	/* Credit scheduler: bytes the guest may still send this period. */
	unsigned long credit_bytes;
	unsigned long credit_usec;
	unsigned long remaining_credit;
	unsigned long credit_window_start;
	struct timer_list credit_timeout;

	/* Guest receive, served by a kernel thread. */
	struct xen_netif_rx_back_ring rx;
	struct sk_buff_head rx_queue;
	unsigned int rx_queue_bytes;	/* under rx_queue.lock */
	struct task_struct *rx_task;
	wait_queue_head_t rx_wq;
	unsigned long rx_busy;		/* XNB_RX_BUSY: one copier at a time */
	struct gnttab_copy *rx_copy;
	struct xnb_rx_meta *rx_meta;
	struct xnb_rx_item *rx_items;
	RING_IDX rx_seen_prod;		/* furthest req_prod an event showed */
	u16 rx_headroom;		/* XDP headroom of this round */
	unsigned long rx_last_progress;	/* jiffies of the last delivery */
	bool stalled;

	/* The vif's counters for this queue index; each side its own. */
	struct xnb_queue_stats *stats;
};

#define XNB_EOI_TX	0	/* NAPI owes the tx event channel its EOI */
#define XNB_RX_BUSY	0	/* the thread or a sender fills the rx ring */

/* One virtual interface: a net device and the guest's queues. */
struct xnb_vif {
	struct net_device *dev;
	struct xenbus_device *xbdev;
	domid_t domid;
	unsigned int handle;

	/* Written at connect and disconnect only, with the queues stopped. */
	struct xnb_queue *queues;
	unsigned int nr_queues;
	bool connected;

	/*
	 * Counters per queue index, one per transmit queue of the device:
	 * they outlive the queues, so a reconnection does not reset them.
	 */
	struct xnb_queue_stats *stats;

	/* What the frontend can receive (sets the device's features). */
	bool can_sg;
	bool gso_v4;
	bool gso_v6;
	bool ip_csum;
	bool ipv6_csum;
	bool rx_notify;
	u16 xdp_headroom;

	/*
	 * Multicast filter the frontend built with MCAST_ADD/DEL extras; its
	 * lock is taken with interrupts off, as the hash's.
	 */
	spinlock_t mcast_lock;
	bool mcast_filter;		/* request-multicast-control */
	unsigned int nr_mcast;
	u8 mcast[XNB_MCAST_MAX][ETH_ALEN];

	/* Control ring (optional). */
	struct xen_netif_ctrl_back_ring ctrl;
	unsigned int ctrl_irq;
	unsigned int ctrl_nr_queues;
	struct work_struct ctrl_work;
	char ctrl_irq_name[IFNAMSIZ + 8];
	struct xnb_hash hash;

	/*
	 * Set by a fatal protocol error; the work below stops the vif and
	 * reports why (a string literal) in xenstore, once.
	 */
	bool disabled;
	const char *disabled_why;
	struct work_struct disable_work;
	atomic_t stalled_queues;
};

/* Module parameters. */
extern unsigned int xnb_max_queues;
extern bool xnb_separate_tx_rx_irq;
extern unsigned int xnb_rx_drain_timeout_msecs;
extern unsigned int xnb_rx_stall_timeout_msecs;
extern unsigned int xnb_fatal_skb_slots;

/* interface.c */
struct xnb_vif *xnb_vif_create(struct xenbus_device *xbdev, domid_t domid,
			       unsigned int handle);
void xnb_vif_free(struct xnb_vif *vif);
struct xnb_queue *xnb_queues_alloc(struct xnb_vif *vif, unsigned int nr);
void xnb_queues_free(struct xnb_queue *queues, unsigned int nr);
int xnb_vif_connect_queue(struct xnb_queue *q, grant_ref_t tx_ref,
			  grant_ref_t rx_ref, evtchn_port_t tx_port,
			  evtchn_port_t rx_port);
int xnb_vif_start(struct xnb_vif *vif, struct xnb_queue *queues,
		  unsigned int nr);
void xnb_vif_stop(struct xnb_vif *vif);
void xnb_vif_end_disable(struct xnb_vif *vif);
void xnb_vif_fatal(struct xnb_vif *vif, const char *why);
void xnb_vif_update_features(struct xnb_vif *vif);
void xnb_vif_update_carrier(struct xnb_vif *vif);
bool xnb_mcast_allowed(struct xnb_vif *vif, const u8 *addr);
bool xnb_mcast_update(struct xnb_vif *vif, u8 type, const u8 *addr);
void xnb_mcast_clear(struct xnb_vif *vif);

/* hash.c: control ring */
int xnb_ctrl_connect(struct xnb_vif *vif, grant_ref_t ref, evtchn_port_t port,
		     unsigned int nr_queues);
void xnb_ctrl_disconnect(struct xnb_vif *vif);
bool xnb_hash_skb(struct xnb_vif *vif, struct sk_buff *skb, u32 *hash,
		  u8 *type);
int xnb_hash_queue(struct xnb_vif *vif, struct sk_buff *skb,
		   unsigned int nr_queues);

/*
 * GNTTABOP_copy for NAPI and senders, which must not sleep:
 * gnttab_batch_copy() would msleep() to retry a frame Xen has paged out
 * (GNTST_eagain).  Here such an op just fails, and its frame with it; a
 * refused call fails every op.
 */
static inline void xnb_grant_copy(struct gnttab_copy *ops, unsigned int n)
{
	unsigned int i;

	if (HYPERVISOR_grant_table_op(GNTTABOP_copy, ops, n))
		for (i = 0; i < n; i++)
			ops[i].status = GNTST_general_error;
}

/* tx.c: guest transmit */
int xnb_tx_alloc(struct xnb_queue *q);
void xnb_tx_free(struct xnb_queue *q);
int xnb_tx_poll(struct napi_struct *napi, int budget);
bool xnb_tx_work_pending(struct xnb_queue *q);
void xnb_tx_credit_init(struct xnb_queue *q);

/* rx.c: guest receive */
int xnb_rx_alloc(struct xnb_queue *q);
void xnb_rx_free(struct xnb_queue *q);
int xnb_rx_thread(void *data);
netdev_tx_t xnb_rx_enqueue(struct xnb_queue *q, struct sk_buff *skb);
bool xnb_rx_event(struct xnb_queue *q);
void xnb_rx_purge(struct xnb_queue *q);

#endif /* XNB_COMMON_H */
