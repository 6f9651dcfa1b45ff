// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for xen-netback/tx_parse.c, built as it is: the input
 * is a fatal_skb_slots setting and the tx ring slots a frontend wrote (see
 * fuzz.h).  A packet that is built or consumed must be described
 * consistently (its slots chained as the flags say, sizes adding up, each
 * slot inside its page, within the slot limits), and must be judged on
 * its own slots only, never before they are all there.
 */
#include <string.h>

#include "fuzz.h"
#include "tx_parse.h"

/* The most slots tx.c hands the parser: one ring (XNB_TX_RING_SIZE). */
#define FZ_TX_MAX_AVAIL		256

static struct xen_netif_tx_request *copy_slots(const void *src,
					       unsigned int n)
{
	/* Exactly n on the heap, so ASan sees any read past them. */
	struct xen_netif_tx_request *s = malloc(n ? n * sizeof(*s) : 1);

	if (!s)
		abort();
	memcpy(s, src, n * sizeof(*s));
	return s;
}

static bool same_pkt(const struct xnb_tx_pkt *a, const struct xnb_tx_pkt *b)
{
	return a->verdict == b->verdict && a->why == b->why &&
	       a->nr_slots == b->nr_slots && a->nr_extras == b->nr_extras &&
	       a->nr_data == b->nr_data && a->len == b->len &&
	       a->first_len == b->first_len && a->flags == b->flags &&
	       a->gso_size == b->gso_size && a->gso_type == b->gso_type &&
	       a->has_hash == b->has_hash && a->hash_type == b->hash_type &&
	       a->hash == b->hash && a->mcast_type == b->mcast_type &&
	       !memcmp(a->mcast_addr, b->mcast_addr, sizeof(a->mcast_addr));
}

/* The extras and data slots are chained exactly as their flags say. */
static void check_chain(const struct xen_netif_tx_request *slots,
			const struct xnb_tx_pkt *p)
{
	struct xen_netif_extra_info ex;
	bool gso = false;
	unsigned int i;

	FUZZ_CHECK(!!(slots[0].flags & XEN_NETTXF_extra_info) == !!p->nr_extras,
		   "%u extras, first slot flags %#x", p->nr_extras,
		   slots[0].flags);
	FUZZ_CHECK(p->nr_extras <= XNB_TX_MAX_EXTRAS, "%u extras", p->nr_extras);
	for (i = 1; i <= p->nr_extras; i++) {
		memcpy(&ex, &slots[i], sizeof(ex));
		FUZZ_CHECK(ex.type > XEN_NETIF_EXTRA_TYPE_NONE &&
			   ex.type < XEN_NETIF_EXTRA_TYPE_MAX,
			   "extra %u of unknown type %u taken", i, ex.type);
		FUZZ_CHECK(!!(ex.flags & XEN_NETIF_EXTRA_FLAG_MORE) ==
			   (i < p->nr_extras),
			   "extra chain of %u ends at %u", p->nr_extras, i);
		if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO)
			gso = true;
	}
	FUZZ_CHECK(!p->gso_size ||
		   (gso && (p->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ||
			    p->gso_type == XEN_NETIF_GSO_TYPE_TCPV6)),
		   "GSO size %u type %u without a GSO extra", p->gso_size,
		   p->gso_type);
	FUZZ_CHECK(!p->has_hash ||
		   p->hash_type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP,
		   "hash type %u", p->hash_type);

	for (i = 0; i < p->nr_data; i++) {
		const struct xen_netif_tx_request *s =
			&slots[xnb_tx_data_slot(p, i)];

		FUZZ_CHECK(!!(s->flags & XEN_NETTXF_more_data) ==
			   (i + 1 < p->nr_data),
			   "data chain of %u slots ends at %u", p->nr_data, i);
		/* Later slots are checked even when the packet is dropped. */
		FUZZ_CHECK(!i || s->offset + s->size <= XEN_PAGE_SIZE,
			   "data slot %u (%u+%u) crosses its page", i,
			   s->offset, s->size);
	}
}

static void check_ok(const struct xen_netif_tx_request *slots,
		     const struct xnb_tx_pkt *p)
{
	unsigned int sum = 0, i;

	/* In-tree's limit: 18 after the first. */
	FUZZ_CHECK(p->nr_data <= XEN_NETIF_NR_SLOTS_MIN + 1,
		   "%u data slots built", p->nr_data);
	FUZZ_CHECK(p->len >= XNB_TX_MIN_LEN, "runt of %u built", p->len);
	FUZZ_CHECK(!p->mcast_type, "multicast request built as a frame");
	FUZZ_CHECK(p->first_len <= p->len &&
		   slots[0].offset + p->first_len <= XEN_PAGE_SIZE,
		   "first slot %u+%u of %u crosses its page", slots[0].offset,
		   p->first_len, p->len);
	for (i = 0; i < p->nr_data; i++)
		sum += xnb_tx_slot_len(p, slots, i);
	FUZZ_CHECK(sum == p->len, "slots hold %u bytes of a %u-byte frame",
		   sum, p->len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct xen_netif_tx_request *slots, *cut;
	struct xnb_tx_pkt p, q;
	unsigned int avail, fatal;
	struct fz_tx_hdr h;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	/* As xenbus.c clamps fatal_skb_slots. */
	fatal = FZ_TX_FATAL_MIN + h.fatal_slots %
		(FZ_TX_FATAL_MAX - FZ_TX_FATAL_MIN + 1);
	avail = (size - sizeof(h)) / sizeof(*slots);
	if (avail > FZ_TX_MAX_AVAIL)
		avail = FZ_TX_MAX_AVAIL;
	slots = copy_slots(data + sizeof(h), avail);

	xnb_tx_parse(slots, avail, fatal, &p);
	FUZZ_CHECK(p.verdict >= XNB_TX_OK && p.verdict <= XNB_TX_FATAL,
		   "verdict %d", p.verdict);
	FUZZ_CHECK(!p.why == (p.verdict != XNB_TX_DROP &&
			      p.verdict != XNB_TX_FATAL),
		   "verdict %d with reason %s", p.verdict,
		   p.why ? p.why : "(none)");
	if (p.verdict == XNB_TX_MORE || p.verdict == XNB_TX_FATAL)
		goto out;

	/* Built or consumed: OK, DROP (its slots answered) or CONTROL. */
	FUZZ_CHECK(p.nr_data >= 1 && p.nr_slots == p.nr_extras + p.nr_data &&
		   p.nr_slots <= avail,
		   "%u slots = %u extras + %u data, %u on the ring",
		   p.nr_slots, p.nr_extras, p.nr_data, avail);
	FUZZ_CHECK(p.nr_data <= fatal + 1, "%u data slots, fatal above %u",
		   p.nr_data, fatal + 1);
	FUZZ_CHECK(p.flags == slots[0].flags && p.len == slots[0].size,
		   "first slot misread");
	check_chain(slots, &p);
	if (p.verdict == XNB_TX_OK)
		check_ok(slots, &p);
	if (p.verdict == XNB_TX_CONTROL)
		FUZZ_CHECK(p.mcast_type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
			   p.mcast_type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL,
			   "control verdict for extra type %u", p.mcast_type);

	/* The same verdict from the packet's own slots alone... */
	cut = copy_slots(slots, p.nr_slots);
	xnb_tx_parse(cut, p.nr_slots, fatal, &q);
	FUZZ_CHECK(same_pkt(&p, &q),
		   "verdict %d with the following slots, %d without",
		   p.verdict, q.verdict);
	free(cut);
	/* ...and none while its last slot is not on the ring yet. */
	cut = copy_slots(slots, p.nr_slots - 1);
	xnb_tx_parse(cut, p.nr_slots - 1, fatal, &q);
	FUZZ_CHECK(q.verdict == XNB_TX_MORE,
		   "verdict %d on %u of the packet's %u slots", q.verdict,
		   p.nr_slots - 1, p.nr_slots);
	free(cut);
out:
	free(slots);
	return 0;
}
