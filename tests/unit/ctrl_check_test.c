// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of xen-netback's control ring validation
 * (xen-netback/ctrl_check.c): the statuses netif.h specifies for each
 * request, the XSA-270 mapping bounds, and queue picks that stay inside the
 * vif whatever the mapping says.
 */
#include <string.h>

#include "ctrl_check.h"
#include "unit.h"

static u32 check(u16 type, u32 d0, u32 d1, u32 d2, u32 alg, u32 size,
		 struct xnb_ctrl_op *op)
{
	struct xen_netif_ctrl_request req = {
		.id = 7, .type = type, .data = { d0, d1, d2 },
	};
	struct xnb_ctrl_state st = { .alg = alg, .size = size, .nr_queues = 4 };

	return xnb_ctrl_check(&req, &st, op);
}

#define TOEPLITZ	XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ
#define NONE		XEN_NETIF_CTRL_HASH_ALGORITHM_NONE
#define OK		XEN_NETIF_CTRL_STATUS_SUCCESS
#define INVAL		XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define NOTSUP		XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED
#define OVERFLOW	XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW

static void test_algorithm_and_flags(void)
{
	struct xnb_ctrl_op op;

	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, TOEPLITZ, 0, 0,
		    NONE, 0, &op) == OK && op.action == XNB_CTRL_SET_ALG &&
	      op.value == TOEPLITZ, "Toeplitz is taken");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 2, 0, 0, NONE, 0,
		    &op) == INVAL, "an unknown algorithm is refused");
	CHECK(check(XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, NONE, 0,
		    &op) == NOTSUP, "no flags without an algorithm");
	CHECK(check(XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, TOEPLITZ, 0,
		    &op) == OK && op.data == XNB_HASH_TYPES,
	      "the four hash types are offered");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1u << 4, 0, 0,
		    TOEPLITZ, 0, &op) == INVAL, "an unknown hash type is refused");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
		    XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, TOEPLITZ, 0, &op) == OK &&
	      op.action == XNB_CTRL_SET_FLAGS, "a known hash type is taken");
	CHECK(check(XEN_NETIF_CTRL_TYPE_INVALID, 0, 0, 0, TOEPLITZ, 0,
		    &op) == NOTSUP && op.action == XNB_CTRL_ANSWER,
	      "type 0 is not supported");
	CHECK(check(0xffff, 0, 0, 0, TOEPLITZ, 0, &op) == NOTSUP,
	      "an unknown type is not supported");
}

static void test_key(void)
{
	struct xnb_ctrl_op op;

	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 5, 40, 0, TOEPLITZ, 0,
		    &op) == OK && op.action == XNB_CTRL_COPY_KEY &&
	      op.ref == 5 && op.len == 40, "a 40-octet key is copied");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 5, 0, 0, TOEPLITZ, 0,
		    &op) == OK && op.len == 0, "an empty key clears it");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 5, 41, 0, TOEPLITZ, 0,
		    &op) == OVERFLOW, "a longer key overflows the buffer");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 5, XEN_PAGE_SIZE + 1, 0,
		    TOEPLITZ, 0, &op) == INVAL, "a key past its page is invalid");
}

static void test_mapping(void)
{
	struct xnb_ctrl_op op;

	CHECK(check(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, NONE,
		    0, &op) == OK && op.data == XNB_HASH_MAPPING_MAX,
	      "the mapping holds %u entries", XNB_HASH_MAPPING_MAX);
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0,
		    NONE, 0, &op) == INVAL, "a size past the table is refused");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 128, 0, 0,
		    NONE, 0, &op) == OK && op.action == XNB_CTRL_SET_SIZE &&
	      op.value == 128, "the full size is taken");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 64, 64, TOEPLITZ,
		    128, &op) == OK && op.action == XNB_CTRL_COPY_MAPPING &&
	      op.off == 64 && op.len == 64 && op.ref == 9,
	      "the second half of the mapping is copied");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 65, 64, TOEPLITZ,
		    128, &op) == INVAL, "a range past the size is invalid");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 1, 0xffffffff,
		    TOEPLITZ, 128, &op) == INVAL,
	      "an offset that wraps with its length is invalid (XSA-270)");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 0x40000001, 0,
		    TOEPLITZ, 128, &op) == OVERFLOW,
	      "a length whose byte count wraps to 4 overflows");
	CHECK(check(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 1, 0, TOEPLITZ, 0,
		    &op) == INVAL, "no entries before a size is set");
}

static void test_queues(void)
{
	u32 map[XNB_HASH_MAPPING_MAX] = { 3, 1, 7 };

	CHECK(xnb_ctrl_check_mapping(map, 2, 4) == OK, "queues 3 and 1 of 4");
	CHECK(xnb_ctrl_check_mapping(map, 3, 4) == INVAL,
	      "queue 7 of 4 is refused");
	CHECK(xnb_ctrl_pick_queue(map, 2, 5, 4) == 1, "hash 5 of size 2: map[1]");
	CHECK(xnb_ctrl_pick_queue(map, 0, 6, 4) == 2,
	      "no mapping: hash 6 of 4 queues is queue 2");
	CHECK(xnb_ctrl_pick_queue(map, 3, 2, 4) == 0,
	      "an entry for a queue the vif no longer has gives queue 0");
	CHECK(xnb_ctrl_pick_queue(map, 0xffffffff, 0xffffffff, 4) < 4,
	      "a size past the table stays inside it");
	CHECK(xnb_ctrl_pick_queue(map, 0, 6, 0) == 0, "no queues: no division");
}

int main(void)
{
	test_algorithm_and_flags();
	test_key();
	test_mapping();
	test_queues();
	return unit_failed ? 1 : 0;
}
