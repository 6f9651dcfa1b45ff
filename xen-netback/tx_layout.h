/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a guest frame's bytes go in local pages: plain arithmetic, built
 * in the kernel and in tests/unit.  A grant copy reaches into one page on
 * each side, so a piece of a slot (inside one guest page) that lands
 * across two local pages costs two copies.  A piece goes whole after the
 * previous one when it fits in that page, else, if it is half a page or
 * more, at its own guest offset in a fresh page: one copy either way.
 * Smaller pieces are packed (the page filled, the piece split), and so is
 * everything once fresh pages would leave too few frags for the rest of
 * the frame.  Every page then holds half a page on average or more, but
 * for the last: a guest's tiny slots at the ends of its pages cannot make
 * dom0 allocate a page each (its credit counts bytes, not pages).
 */
#ifndef XNB_TX_LAYOUT_H
#define XNB_TX_LAYOUT_H

#include <linux/types.h>
#include <xen/page.h>

struct xnb_tx_place {
	bool fresh;		/* starts a frag in a page of its own */
	unsigned int off;	/* offset in the page */
	unsigned int len;	/* bytes placed: the piece, or what fits */
};

/*
 * Place @len bytes that sit at offset @soff of a guest page (@soff + @len
 * <= XEN_PAGE_SIZE) after @nr_frags frags, the last of which ends at
 * offset @end of its page.  @rest bytes of the frame follow the piece;
 * packing all of it takes at most @max_frags frags in all, and still does
 * after every placement.
 */
static inline struct xnb_tx_place
xnb_tx_place(unsigned int nr_frags, unsigned int end, unsigned int soff,
	     unsigned int len, unsigned int rest, unsigned int max_frags)
{
	unsigned int rest_pages = (rest + XEN_PAGE_SIZE - 1) / XEN_PAGE_SIZE;

	if (nr_frags && end + len <= XEN_PAGE_SIZE)
		return (struct xnb_tx_place){ false, end, len };
	if (len >= XEN_PAGE_SIZE / 2 && nr_frags + 1 + rest_pages <= max_frags)
		return (struct xnb_tx_place){ true, soff, len };
	if (nr_frags && end < XEN_PAGE_SIZE)
		return (struct xnb_tx_place){ false, end, XEN_PAGE_SIZE - end };
	return (struct xnb_tx_place){ true, 0, len };
}

#endif /* XNB_TX_LAYOUT_H */
