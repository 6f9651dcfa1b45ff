// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of xen-netback's guest transmit validation
 * (xen-netback/tx_parse.c): each hostile layout from the protocol hazards
 * list gets its verdict, and random slot contents never read past what
 * was given (ASan) nor yield an inconsistent description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx_parse.h"
#include "unit.h"

#define FATAL_SLOTS 20

static struct xen_netif_tx_request ring[512];

static void slot(unsigned int i, u16 offset, u16 size, u16 flags, u16 id)
{
	ring[i] = (struct xen_netif_tx_request){
		.gref = 100 + i, .offset = offset, .size = size,
		.flags = flags, .id = id,
	};
}

static void extra(unsigned int i, u8 type, u8 flags, u16 size, u8 gso_type)
{
	struct xen_netif_extra_info ex;

	memset(&ring[i], 0, sizeof(ring[i]));
	memset(&ex, 0, sizeof(ex));
	ex.type = type;
	ex.flags = flags;
	if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
		ex.u.gso.size = size;
		ex.u.gso.type = gso_type;
	}
	if (type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD)
		memcpy(ex.u.mcast.addr, "\x01\x00\x5e\x00\x00\x01", 6);
	memcpy(&ring[i], &ex, sizeof(ex));
}

static enum xnb_tx_verdict parse(unsigned int avail, struct xnb_tx_pkt *pkt)
{
	xnb_tx_parse(ring, avail, FATAL_SLOTS, pkt);
	return pkt->verdict;
}

static void test_simple(void)
{
	struct xnb_tx_pkt p;

	slot(0, 100, 60, XEN_NETTXF_csum_blank, 7);
	CHECK(parse(1, &p) == XNB_TX_OK && p.nr_slots == 1 && p.nr_data == 1 &&
	      p.len == 60 && p.first_len == 60 &&
	      (p.flags & XEN_NETTXF_csum_blank), "one-slot frame is OK");
	CHECK(parse(0, &p) == XNB_TX_MORE, "empty ring: wait");
}

static void test_multi_slot(void)
{
	struct xnb_tx_pkt p;

	slot(0, 0, 3000, XEN_NETTXF_more_data, 1);
	slot(1, 0, 1000, XEN_NETTXF_more_data, 2);
	slot(2, 96, 1000, 0, 3);
	CHECK(parse(3, &p) == XNB_TX_OK && p.nr_slots == 3 && p.nr_data == 3 &&
	      p.first_len == 1000, "three slots: first holds len - rest");
	CHECK(xnb_tx_slot_len(&p, ring, 2) == 1000 &&
	      xnb_tx_data_slot(&p, 2) == 2, "data slot lookup");
	CHECK(parse(2, &p) == XNB_TX_MORE, "packet not all on the ring: wait");
}

static void test_gso_extra(void)
{
	struct xnb_tx_pkt p;

	slot(0, 0, 9000, XEN_NETTXF_extra_info | XEN_NETTXF_more_data |
	     XEN_NETTXF_csum_blank, 1);
	extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	slot(2, 0, 4096, XEN_NETTXF_more_data, 2);
	slot(3, 0, 4096, 0, 3);
	CHECK(parse(4, &p) == XNB_TX_OK && p.nr_extras == 1 &&
	      p.nr_slots == 4 && p.nr_data == 3 && p.gso_size == 1448 &&
	      p.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && p.first_len == 808,
	      "GSO extra parsed, data slots after it");
	CHECK(xnb_tx_data_slot(&p, 1) == 2, "first data slot after the extra");
	CHECK(parse(1, &p) == XNB_TX_MORE, "missing extra: wait");

	extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
	CHECK(parse(4, &p) == XNB_TX_FATAL, "GSO size 0 is fatal");
	extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, 9);
	CHECK(parse(4, &p) == XNB_TX_FATAL, "unknown GSO type is fatal");
	extra(1, XEN_NETIF_EXTRA_TYPE_NONE, 0, 0, 0);
	CHECK(parse(4, &p) == XNB_TX_FATAL, "extra type 0 is fatal");
	extra(1, XEN_NETIF_EXTRA_TYPE_MAX, 0, 0, 0);
	CHECK(parse(4, &p) == XNB_TX_FATAL, "extra type beyond MAX is fatal");
}

static void test_extra_chain(void)
{
	struct xnb_tx_pkt p;
	unsigned int i;

	slot(0, 0, 60, XEN_NETTXF_extra_info, 1);
	for (i = 1; i <= 10; i++)
		extra(i, XEN_NETIF_EXTRA_TYPE_XDP, XEN_NETIF_EXTRA_FLAG_MORE,
		      0, 0);
	CHECK(parse(11, &p) == XNB_TX_FATAL, "endless extra chain is fatal");

	slot(0, 0, 60, XEN_NETTXF_extra_info, 1);
	extra(1, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, 0, 0);
	CHECK(parse(2, &p) == XNB_TX_CONTROL &&
	      p.mcast_type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD &&
	      p.mcast_addr[0] == 1 && p.nr_slots == 2,
	      "multicast add is a control request");
}

static void test_page_crossing(void)
{
	struct xnb_tx_pkt p;

	slot(0, 4000, 200, 0, 1);
	CHECK(parse(1, &p) == XNB_TX_FATAL, "first slot offset+size > page is fatal");
	slot(0, 0, 200, XEN_NETTXF_more_data, 1);
	slot(1, 4000, 100, 0, 2);
	CHECK(parse(2, &p) == XNB_TX_FATAL, "later slot offset+size > page is fatal");
	/* Only the first slot's own bytes count for its page. */
	slot(0, 4000, 1096, XEN_NETTXF_more_data, 1);
	slot(1, 0, 1000, 0, 2);
	CHECK(parse(2, &p) == XNB_TX_OK && p.first_len == 96,
	      "first slot at the end of a page, rest elsewhere, is OK");
}

static void test_sizes(void)
{
	struct xnb_tx_pkt p;

	slot(0, 0, 100, XEN_NETTXF_more_data, 1);
	slot(1, 0, 200, 0, 2);
	CHECK(parse(2, &p) == XNB_TX_DROP && p.nr_slots == 2,
	      "slots larger than the packet: dropped, all its slots consumed");
	slot(0, 0, 10, 0, 1);
	CHECK(parse(1, &p) == XNB_TX_DROP, "runt frame dropped");
	slot(0, 0, 0, 0, 1);
	CHECK(parse(1, &p) == XNB_TX_DROP, "empty frame dropped");
}

static void chain(unsigned int following, u16 first_size)
{
	unsigned int i;

	slot(0, 0, first_size, XEN_NETTXF_more_data, 0);
	for (i = 1; i <= following; i++)
		slot(i, 0, 0, i < following ? XEN_NETTXF_more_data : 0, i);
}

static void test_slot_limits(void)
{
	struct xnb_tx_pkt p;
	unsigned int i;

	/* As in-tree: 19 slots pass, 20 and 21 drop, 22 are fatal. */
	chain(XEN_NETIF_NR_SLOTS_MIN - 1, 1000);
	CHECK(parse(256, &p) == XNB_TX_OK &&
	      p.nr_data == XEN_NETIF_NR_SLOTS_MIN,
	      "18 slots (first + 17, sizes 0) are accepted");
	chain(XEN_NETIF_NR_SLOTS_MIN, 1000);
	CHECK(parse(256, &p) == XNB_TX_OK &&
	      p.nr_data == XEN_NETIF_NR_SLOTS_MIN + 1,
	      "19 slots (first + 18) are accepted, as in-tree");
	chain(XEN_NETIF_NR_SLOTS_MIN + 1, 1000);
	CHECK(parse(256, &p) == XNB_TX_DROP &&
	      p.nr_slots == XEN_NETIF_NR_SLOTS_MIN + 2,
	      "20 slots: dropped, all consumed");
	chain(FATAL_SLOTS, 1000);
	CHECK(parse(256, &p) == XNB_TX_DROP,
	      "fatal_skb_slots after the first (21 slots): dropped");
	chain(FATAL_SLOTS + 1, 1000);
	CHECK(parse(256, &p) == XNB_TX_FATAL,
	      "fatal_skb_slots + 1 after the first (22 slots): fatal");
	chain(FATAL_SLOTS + 1, 1000);
	CHECK(parse(5, &p) == XNB_TX_MORE, "a long packet not all on the ring yet: wait");
	/* XSA-432: head plus 17 slots, total <= 128 bytes. */
	chain(XEN_NETIF_NR_SLOTS_MIN - 1, 100);
	for (i = 1; i < XEN_NETIF_NR_SLOTS_MIN; i++)
		ring[i].size = 1;
	CHECK(parse(256, &p) == XNB_TX_OK && p.first_len == 100 - 17,
	      "tiny slots: sizes add up");
	chain(300, 1000);
	CHECK(parse(256, &p) == XNB_TX_FATAL, "whole ring of one packet: fatal");
}

/* Random garbage: the verdict's description is always self-consistent. */
static void test_random(void)
{
	unsigned int round, bad = 0;

	srand(42);
	for (round = 0; round < 200000; round++) {
		unsigned int avail = rand() % 40, i;
		struct xen_netif_tx_request *copy;
		struct xnb_tx_pkt p;

		copy = malloc((avail ? avail : 1) * sizeof(*copy));
		for (i = 0; i < avail * sizeof(*copy); i++)
			((u8 *)copy)[i] = rand();
		/* Bias towards plausible flags and sizes. */
		for (i = 0; i < avail; i++) {
			if (rand() % 2)
				copy[i].flags &= 0xf;
			if (rand() % 2)
				copy[i].size &= 0xfff;
			if (rand() % 2)
				copy[i].offset &= 0xfff;
		}
		xnb_tx_parse(copy, avail, FATAL_SLOTS, &p);
		if (p.verdict == XNB_TX_OK || p.verdict == XNB_TX_DROP ||
		    p.verdict == XNB_TX_CONTROL) {
			if (p.nr_slots > avail || p.nr_slots < 1 ||
			    p.nr_slots != 1 + p.nr_extras + p.nr_data - 1)
				bad++;
		}
		if (p.verdict == XNB_TX_OK) {
			unsigned int sum = 0;

			if (p.len < XNB_TX_MIN_LEN ||
			    p.nr_data > XEN_NETIF_NR_SLOTS_MIN ||
			    copy[0].offset + p.first_len > XEN_PAGE_SIZE)
				bad++;
			for (i = 0; i < p.nr_data; i++) {
				const struct xen_netif_tx_request *s =
					&copy[xnb_tx_data_slot(&p, i)];

				sum += xnb_tx_slot_len(&p, copy, i);
				if (i && s->offset + s->size > XEN_PAGE_SIZE)
					bad++;
			}
			if (sum != p.len)
				bad++;
		}
		free(copy);
	}
	CHECK(!bad, "200000 random slot sets: consistent verdicts (%u bad)",
	      bad);
}

int main(void)
{
	test_simple();
	test_multi_slot();
	test_gso_extra();
	test_extra_chain();
	test_page_crossing();
	test_sizes();
	test_slot_limits();
	test_random();
	return unit_failed ? 1 : 0;
}
