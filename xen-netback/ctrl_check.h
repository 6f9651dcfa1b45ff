/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Validation of control ring requests: plain functions of plain memory, so
 * that they build in the kernel and in tests/unit and tests/fuzz too.  The
 * caller copies each request off the shared ring first.
 */
#ifndef XNB_CTRL_CHECK_H
#define XNB_CTRL_CHECK_H

#include <linux/types.h>
#include <xen/page.h>
#include <xen/interface/io/netif.h>

/* Control ring limits (netif.h: Toeplitz keys of 40 octets are usual). */
#define XNB_HASH_KEY_MAX	40
#define XNB_HASH_MAPPING_MAX	128

#define XNB_HASH_TYPES	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 |		\
			 XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |		\
			 XEN_NETIF_CTRL_HASH_TYPE_IPV6 |		\
			 XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/* The hash state a request is judged against (a snapshot of it). */
struct xnb_ctrl_state {
	u32 alg;		/* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	u32 size;		/* mapping entries in use */
	unsigned int nr_queues;	/* the vif's queues, at least 1 */
};

enum xnb_ctrl_action {
	XNB_CTRL_ANSWER,	/* nothing to change: answer status and data */
	XNB_CTRL_SET_ALG,	/* alg = value */
	XNB_CTRL_SET_FLAGS,	/* flags = value */
	XNB_CTRL_SET_SIZE,	/* size = value, the mapping cleared */
	XNB_CTRL_COPY_KEY,	/* key = len bytes of grant ref, zero-padded */
	XNB_CTRL_COPY_MAPPING,	/* mapping[off..off+len) = len u32s of ref */
};

/* What a valid request asks for; every field inside its limits. */
struct xnb_ctrl_op {
	enum xnb_ctrl_action action;
	u32 value;		/* SET_*: the new value */
	grant_ref_t ref;	/* COPY_*: the frontend's grant */
	u32 len;		/* COPY_KEY: bytes, COPY_MAPPING: entries */
	u32 off;		/* COPY_MAPPING: first entry */
	u32 data;		/* ANSWER: the response's data */
};

/*
 * Judge @req against @st: returns the response status; on
 * XEN_NETIF_CTRL_STATUS_SUCCESS *op says what to do.
 */
u32 xnb_ctrl_check(const struct xen_netif_ctrl_request *req,
		   const struct xnb_ctrl_state *st, struct xnb_ctrl_op *op);

/* A mapping copied in for COPY_MAPPING: every entry names a queue. */
u32 xnb_ctrl_check_mapping(const u32 *map, u32 len, unsigned int nr_queues);

/* The queue for @hash: the mapping's entry, or hash % nr_queues without. */
unsigned int xnb_ctrl_pick_queue(const u32 *mapping, u32 size, u32 hash,
				 unsigned int nr_queues);

#endif /* XNB_CTRL_CHECK_H */
