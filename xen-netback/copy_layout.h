/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a frame's bytes go, in pieces of one source page each: plain
 * arithmetic, built in the kernel and in tests/unit.  A grant copy reaches
 * into one page on each side, so a piece that lands across two
 * destination pages costs two copies.  A piece goes whole after the
 * previous one when it fits in that page, else, if it is half a page or
 * more, at its own source offset in a fresh page: one copy either way.
 * Smaller pieces are packed (the page filled, the piece split), and so is
 * everything once fresh pages would leave too few for the rest of the
 * frame.  Every page then holds half a page on average or more, but for
 * the last.  From the guest (tx.c) the sources are its slots and the
 * destinations local pages: its tiny slots at the ends of its pages cannot
 * make dom0 allocate a page each (its credit counts bytes, not pages).  To
 * the guest (rx.c) the sources are the skb's pages and the destinations
 * its posted buffers, each answered with the offset its data starts at.
 */
#ifndef XNB_COPY_LAYOUT_H
#define XNB_COPY_LAYOUT_H

#include <linux/types.h>
#include <xen/page.h>

struct xnb_copy_place {
	bool fresh;		/* starts a page of its own */
	unsigned int off;	/* offset in the page */
	unsigned int len;	/* bytes placed: the piece, or what fits */
};

/*
 * Place @len bytes that sit at offset @soff of a source page (@soff + @len
 * <= XEN_PAGE_SIZE) after @nr_pages destination pages, the last of which
 * is filled up to offset @end.  @rest bytes of the frame follow the piece;
 * packing all of it takes at most @max_pages pages in all, and still does
 * after every placement.
 */
static inline struct xnb_copy_place
xnb_copy_place(unsigned int nr_pages, unsigned int end, unsigned int soff,
	       unsigned int len, unsigned int rest, unsigned int max_pages)
{
	unsigned int rest_pages = (rest + XEN_PAGE_SIZE - 1) / XEN_PAGE_SIZE;

	if (nr_pages && end + len <= XEN_PAGE_SIZE)
		return (struct xnb_copy_place){ false, end, len };
	if (len >= XEN_PAGE_SIZE / 2 && nr_pages + 1 + rest_pages <= max_pages)
		return (struct xnb_copy_place){ true, soff, len };
	if (nr_pages && end < XEN_PAGE_SIZE)
		return (struct xnb_copy_place){ false, end, XEN_PAGE_SIZE - end };
	return (struct xnb_copy_place){ true, 0, len };
}

#endif /* XNB_COPY_LAYOUT_H */
