// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of where xen-netback puts a guest frame's bytes
 * (xen-netback/tx_layout.h), driven the way tx.c drives it: the linear
 * head first, then each slot's piece placed in the frags.  Every frame
 * tx_parse.c accepts must fit the frags, keep every copy inside one page
 * and within tx.c's bound of copies per slot, and its pages must hold half
 * a page each on average, but for the last; a frame as Linux's netfront
 * sends it must take one copy per piece.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx_parse.h"
#include "tx_layout.h"
#include "unit.h"

#define FATAL_SLOTS	20
#define MAX_FRAGS	17	/* MAX_SKB_FRAGS with 4 KiB pages */
#define HEAD		128	/* XNB_TX_HEAD */

static struct xen_netif_tx_request ring[64];

struct frag {
	unsigned int off, size;
};

struct outcome {
	unsigned int ops;	/* grant copies, but for the head's page split */
	unsigned int frags;
	unsigned int placed;	/* bytes in the frags */
	unsigned int bad;	/* broken invariants */
	struct frag frag[MAX_FRAGS];
};

/* Lay out @p as tx_build_skb() does; the head may cross a page once. */
static struct outcome lay_out(const struct xnb_tx_pkt *p)
{
	unsigned int head = p->len < HEAD ? p->len : HEAD;
	unsigned int filled = 0, left = p->len - head, d;
	struct outcome o = { 0 };

	for (d = 0; d < p->nr_data; d++) {
		const struct xen_netif_tx_request *s =
			&ring[xnb_tx_data_slot(p, d)];
		unsigned int len = xnb_tx_slot_len(p, ring, d);
		unsigned int soff = s->offset;

		while (len) {
			struct xnb_tx_place pl;
			struct frag *f;

			if (filled < head) {
				unsigned int chunk = len < head - filled ?
						     len : head - filled;

				filled += chunk;
				soff += chunk;
				len -= chunk;
				o.ops++;
				continue;
			}
			f = &o.frag[o.frags ? o.frags - 1 : 0];
			pl = xnb_tx_place(o.frags, o.frags ? f->off + f->size : 0,
					  soff, len, left - len, MAX_FRAGS);
			if (!pl.len || pl.len > len ||
			    pl.off + pl.len > XEN_PAGE_SIZE) {
				o.bad++;
				return o;
			}
			if (pl.fresh) {
				if (o.frags == MAX_FRAGS) {
					o.bad++;
					return o;
				}
				o.frag[o.frags++] = (struct frag){ pl.off, pl.len };
			} else if (!o.frags || pl.off != f->off + f->size) {
				o.bad++;
				return o;
			} else {
				f->size += pl.len;
			}
			o.placed += pl.len;
			left -= pl.len;
			soff += pl.len;
			len -= pl.len;
			o.ops++;
		}
	}
	if (filled + o.placed != p->len || left)
		o.bad++;
	return o;
}

/* No more pages than two per page's worth of bytes, plus one. */
static int pages_bounded(const struct outcome *o)
{
	return !o->frags || (o->frags - 1) * (XEN_PAGE_SIZE / 2) <= o->placed;
}

static void slot(unsigned int i, u16 offset, u16 size, u16 flags)
{
	ring[i] = (struct xen_netif_tx_request){
		.gref = 100 + i, .offset = offset, .size = size,
		.flags = flags, .id = i,
	};
}

/* A frame of @n data slots, the first of @first bytes at @off0. */
static void frame(unsigned int n, u16 off0, u16 first,
		  const u16 *offs, const u16 *sizes)
{
	unsigned int i, len = first;

	for (i = 1; i < n; i++)
		len += sizes[i - 1];
	slot(0, off0, len, n > 1 ? XEN_NETTXF_more_data : 0);
	for (i = 1; i < n; i++)
		slot(i, offs[i - 1], sizes[i - 1],
		     i + 1 < n ? XEN_NETTXF_more_data : 0);
}

/*
 * A GSO frame as netfront sends it: headers in the first slot, then page
 * fragments cut at guest page boundaries, so mostly whole pages.
 */
static void test_netfront_gso(void)
{
	static const u16 offs[] = { 1000, 0, 0, 0, 0, 0, 0, 0,
				    2500, 0, 0, 0, 0, 0, 0, 0 };
	static const u16 sizes[] = { 3096, 4096, 4096, 4096, 4096, 4096, 4096,
				     4096, 1596, 4096, 4096, 4096, 4096, 4096,
				     4096, 1000 };
	struct xnb_tx_pkt p;
	struct outcome o;

	frame(17, 200, 66, offs, sizes);
	xnb_tx_parse(ring, 17, FATAL_SLOTS, &p);
	o = lay_out(&p);
	CHECK(p.verdict == XNB_TX_OK && !o.bad && o.frags <= MAX_FRAGS,
	      "netfront GSO frame of %u bytes: laid out in %u frags", p.len,
	      o.frags);
	/* Slot 0 and the start of slot 1 fill the head; one copy per piece. */
	CHECK(o.ops == p.nr_data + 1,
	      "netfront GSO frame: %u copies for %u slots", o.ops, p.nr_data);
}

/*
 * A frame of @n slots, the first of @first bytes at offset 0, each other of
 * @size bytes at @off: it fits however fresh pages run out.
 */
static void check_same_slots(unsigned int n, u16 first, u16 off, u16 size)
{
	u16 offs[XEN_NETIF_NR_SLOTS_MIN], sizes[XEN_NETIF_NR_SLOTS_MIN];
	struct xnb_tx_pkt p;
	struct outcome o;
	unsigned int i;

	for (i = 0; i + 1 < n; i++) {
		offs[i] = off;
		sizes[i] = size;
	}
	frame(n, 0, first, offs, sizes);
	xnb_tx_parse(ring, n, FATAL_SLOTS, &p);
	o = lay_out(&p);
	CHECK(p.verdict == XNB_TX_OK && !o.bad && o.frags <= MAX_FRAGS &&
	      o.ops + 1 <= 3 * p.nr_data && pages_bounded(&o),
	      "%u slots of %u bytes at %u: %u frags for %u bytes, %u copies",
	      n, size, off, o.frags, o.placed, o.ops);
}

static void test_packing_takes_over(void)
{
	/* Half pages ending their pages: fresh pages run out, packing ends. */
	check_same_slots(18, 4096, 2048, 2048);
	/* The most slots tx_parse.c lets through, none a whole page. */
	check_same_slots(19, 3400, 1, 3400);
}

/*
 * Tiny slots at the ends of guest pages, after a first slot that fills
 * the head: packed into one page, not a page each.
 */
static void test_tiny_slots(void)
{
	check_same_slots(19, HEAD, XEN_PAGE_SIZE - 1, 1);
	check_same_slots(19, HEAD, XEN_PAGE_SIZE - 2000, 2000);
	check_same_slots(10, HEAD + 1, XEN_PAGE_SIZE - 2047, 2047);
}

/* Random frames that tx_parse.c accepts: the invariants always hold. */
static void test_random(void)
{
	unsigned int round, frames = 0, bad = 0;

	srand(7);
	for (round = 0; round < 200000; round++) {
		unsigned int n = 1 + rand() % (XEN_NETIF_NR_SLOTS_MIN + 2), i;
		u16 offs[XEN_NETIF_NR_SLOTS_MIN + 1];
		u16 sizes[XEN_NETIF_NR_SLOTS_MIN + 1];
		u16 off0 = rand() % XEN_PAGE_SIZE;
		struct xnb_tx_pkt p;
		struct outcome o;

		for (i = 0; i + 1 < n; i++) {
			offs[i] = rand() % 4 ? 0 : rand() % XEN_PAGE_SIZE;
			sizes[i] = rand() % 3 ? XEN_PAGE_SIZE - offs[i] :
				   rand() % (XEN_PAGE_SIZE - offs[i] + 1);
			/* Now and then a tiny slot ending its page. */
			if (!(rand() % 8)) {
				sizes[i] = rand() % 64;
				offs[i] = XEN_PAGE_SIZE - sizes[i];
			}
		}
		frame(n, off0, 1 + rand() % (XEN_PAGE_SIZE - off0), offs,
		      sizes);
		xnb_tx_parse(ring, n, FATAL_SLOTS, &p);
		if (p.verdict != XNB_TX_OK)
			continue;
		frames++;
		o = lay_out(&p);
		if (o.bad || o.frags > MAX_FRAGS ||
		    o.ops + 1 > 3 * p.nr_data || !pages_bounded(&o))
			bad++;
	}
	CHECK(frames > 100000 && !bad,
	      "%u random valid frames: every one fits (%u bad)", frames, bad);
}

int main(void)
{
	test_netfront_gso();
	test_packing_takes_over();
	test_tiny_slots();
	test_random();
	return unit_failed ? 1 : 0;
}
