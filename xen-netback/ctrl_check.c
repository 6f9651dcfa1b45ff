// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of control ring requests (see ctrl_check.h).  Sizes are
 * compared as the u32s the guest wrote, before any arithmetic on them.
 */
#include "ctrl_check.h"

static u32 check_key(const struct xen_netif_ctrl_request *req,
		     struct xnb_ctrl_op *op)
{
	u32 len = req->data[1];

	if (len > XEN_PAGE_SIZE)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	if (len > XNB_HASH_KEY_MAX)
		return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
	op->action = XNB_CTRL_COPY_KEY;
	op->ref = req->data[0];
	op->len = len;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static u32 check_mapping(const struct xen_netif_ctrl_request *req,
			 const struct xnb_ctrl_state *st,
			 struct xnb_ctrl_op *op)
{
	u32 len = req->data[1], off = req->data[2];

	if (len > XNB_HASH_MAPPING_MAX)
		return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
	/* XSA-270: off + len must not wrap, nor leave the table. */
	if (off > st->size || len > st->size - off)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	op->action = XNB_CTRL_COPY_MAPPING;
	op->ref = req->data[0];
	op->len = len;
	op->off = off;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

u32 xnb_ctrl_check(const struct xen_netif_ctrl_request *req,
		   const struct xnb_ctrl_state *st, struct xnb_ctrl_op *op)
{
	bool hashing = st->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;

	*op = (struct xnb_ctrl_op){ .action = XNB_CTRL_ANSWER };
	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
		    req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		op->action = XNB_CTRL_SET_ALG;
		op->value = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		if (!hashing)
			return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		op->data = XNB_HASH_TYPES;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		if (!hashing)
			return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		if (req->data[0] & ~XNB_HASH_TYPES)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		op->action = XNB_CTRL_SET_FLAGS;
		op->value = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		return check_key(req, op);
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		op->data = XNB_HASH_MAPPING_MAX;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		if (req->data[0] > XNB_HASH_MAPPING_MAX)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		op->action = XNB_CTRL_SET_SIZE;
		op->value = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		return check_mapping(req, st, op);
	default:
		return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
	}
}

u32 xnb_ctrl_check_mapping(const u32 *map, u32 len, unsigned int nr_queues)
{
	u32 i;

	for (i = 0; i < len && i < XNB_HASH_MAPPING_MAX; i++)
		if (map[i] >= nr_queues)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

unsigned int xnb_ctrl_pick_queue(const u32 *mapping, u32 size, u32 hash,
				 unsigned int nr_queues)
{
	u32 q;

	if (!nr_queues)
		return 0;
	if (size > XNB_HASH_MAPPING_MAX)
		size = XNB_HASH_MAPPING_MAX;
	q = size ? mapping[hash % size] : hash % nr_queues;
	/* A mapping set for more queues than the vif has now: queue 0. */
	return q < nr_queues ? q : 0;
}
