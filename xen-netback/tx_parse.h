/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Validation of one guest transmit packet: plain functions of plain memory.
 * The caller copies the packet's ring slots into private memory first; the
 * parser reads only that copy.  It builds in the kernel and in tests/unit.
 */
#ifndef XNB_TX_PARSE_H
#define XNB_TX_PARSE_H

#include <linux/types.h>
#include <xen/page.h>
#include <xen/interface/io/netif.h>

/* Smallest frame worth building: an Ethernet header. */
#define XNB_TX_MIN_LEN		14
/* Extras one packet may carry: one of each known type. */
#define XNB_TX_MAX_EXTRAS	(XEN_NETIF_EXTRA_TYPE_MAX - 1)

enum xnb_tx_verdict {
	XNB_TX_OK,	/* build and deliver the packet */
	XNB_TX_DROP,	/* consume its slots, answer them with errors */
	XNB_TX_CONTROL,	/* multicast filter request: no frame, answer okay */
	XNB_TX_MORE,	/* the ring does not hold the whole packet yet */
	XNB_TX_FATAL,	/* the frontend broke the protocol: disable the vif */
};

struct xnb_tx_pkt {
	enum xnb_tx_verdict verdict;
	const char *why;		/* reason for DROP or FATAL */
	unsigned int nr_slots;		/* ring slots used, extras included */
	unsigned int nr_extras;		/* extras right after the first slot */
	unsigned int nr_data;		/* data slots, the first included */
	unsigned int len;		/* frame length (the first slot's size) */
	unsigned int first_len;		/* bytes the first slot itself holds */
	u16 flags;			/* the first slot's XEN_NETTXF_* */
	u16 gso_size;			/* 0: not GSO */
	u8 gso_type;			/* XEN_NETIF_GSO_TYPE_* */
	bool has_hash;
	u8 hash_type;			/* _XEN_NETIF_CTRL_HASH_TYPE_* */
	u32 hash;
	u8 mcast_type;			/* XEN_NETIF_EXTRA_TYPE_MCAST_*, or 0 */
	u8 mcast_addr[6];
};

/*
 * Parse the packet whose first slot is slots[0], of @avail copied slots.
 * More data slots after the first than the legacy limit
 * (XEN_NETIF_NR_SLOTS_MIN) drop the packet; more than @fatal_slots after
 * the first are fatal.  @fatal_slots is at least the legacy limit.
 */
void xnb_tx_parse(const struct xen_netif_tx_request *slots, unsigned int avail,
		  unsigned int fatal_slots, struct xnb_tx_pkt *pkt);

/* Index in slots[] of data slot @n (0 is the first slot). */
static inline unsigned int xnb_tx_data_slot(const struct xnb_tx_pkt *pkt,
					    unsigned int n)
{
	return n ? n + pkt->nr_extras : 0;
}

/* Bytes data slot @n carries. */
static inline unsigned int
xnb_tx_slot_len(const struct xnb_tx_pkt *pkt,
		const struct xen_netif_tx_request *slots, unsigned int n)
{
	return n ? slots[xnb_tx_data_slot(pkt, n)].size : pkt->first_len;
}

#endif /* XNB_TX_PARSE_H */
