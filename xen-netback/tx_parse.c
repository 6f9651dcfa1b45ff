// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of one guest transmit packet (see tx_parse.h).  Every check
 * here answers an attack a frontend can make: sizes that do not add up,
 * slots crossing a page, too many slots, unknown or missing extras.
 */
#include <linux/string.h>

#include "tx_parse.h"

static void verdict(struct xnb_tx_pkt *pkt, enum xnb_tx_verdict v,
		    const char *why)
{
	pkt->verdict = v;
	pkt->why = why;
}

/* The extras that follow the first slot; false if the verdict is made. */
static bool parse_extras(const struct xen_netif_tx_request *slots,
			 unsigned int avail, struct xnb_tx_pkt *pkt)
{
	struct xen_netif_extra_info ex;
	unsigned int i = 1;

	do {
		if (pkt->nr_extras == XNB_TX_MAX_EXTRAS) {
			verdict(pkt, XNB_TX_FATAL, "too many extra info slots");
			return false;
		}
		if (i >= avail) {
			verdict(pkt, XNB_TX_MORE, NULL);
			return false;
		}
		/* An extra overlays the request slot it occupies. */
		memcpy(&ex, &slots[i], sizeof(ex));
		i++;
		pkt->nr_extras++;

		switch (ex.type) {
		case XEN_NETIF_EXTRA_TYPE_GSO:
			if (!ex.u.gso.size) {
				verdict(pkt, XNB_TX_FATAL, "GSO size 0");
				return false;
			}
			if (ex.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
			    ex.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
				verdict(pkt, XNB_TX_FATAL, "unknown GSO type");
				return false;
			}
			pkt->gso_size = ex.u.gso.size;
			pkt->gso_type = ex.u.gso.type;
			break;
		case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
			pkt->mcast_type = ex.type;
			memcpy(pkt->mcast_addr, ex.u.mcast.addr,
			       sizeof(pkt->mcast_addr));
			break;
		case XEN_NETIF_EXTRA_TYPE_HASH:
			/* An unknown hash type only loses the hint. */
			if (ex.u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
				pkt->has_hash = true;
				pkt->hash_type = ex.u.hash.type;
				pkt->hash = ex.u.hash.value[0] |
					    ex.u.hash.value[1] << 8 |
					    ex.u.hash.value[2] << 16 |
					    (u32)ex.u.hash.value[3] << 24;
			}
			break;
		case XEN_NETIF_EXTRA_TYPE_XDP:
			/* Meaningful on the receive side only. */
			break;
		default:
			verdict(pkt, XNB_TX_FATAL, "unknown extra info type");
			return false;
		}
	} while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return true;
}

void xnb_tx_parse(const struct xen_netif_tx_request *slots, unsigned int avail,
		  unsigned int fatal_slots, struct xnb_tx_pkt *pkt)
{
	const struct xen_netif_tx_request *s;
	const char *drop = NULL;
	unsigned int following = 0, sum = 0, i;
	bool more;

	memset(pkt, 0, sizeof(*pkt));
	if (!avail) {
		verdict(pkt, XNB_TX_MORE, NULL);
		return;
	}
	pkt->flags = slots[0].flags;
	pkt->len = slots[0].size;
	if ((slots[0].flags & XEN_NETTXF_extra_info) &&
	    !parse_extras(slots, avail, pkt))
		return;

	i = 1 + pkt->nr_extras;
	more = slots[0].flags & XEN_NETTXF_more_data;
	/*
	 * Limits on the data slots that follow the first, as the in-tree
	 * netback counts them, which every frontend has been run against: a
	 * 19-slot frame passes, 20 and more are dropped, and more than
	 * @fatal_slots after the first are fatal.
	 */
	while (more) {
		if (following >= fatal_slots) {
			verdict(pkt, XNB_TX_FATAL, "too many slots in one packet");
			return;
		}
		if (i >= avail) {
			verdict(pkt, XNB_TX_MORE, NULL);
			return;
		}
		if (following >= XEN_NETIF_NR_SLOTS_MIN && !drop)
			drop = "more slots than the legacy limit";
		s = &slots[i];
		if (s->offset + s->size > XEN_PAGE_SIZE) {
			verdict(pkt, XNB_TX_FATAL, "slot crosses a page boundary");
			return;
		}
		sum += s->size;
		more = s->flags & XEN_NETTXF_more_data;
		following++;
		i++;
	}
	pkt->nr_slots = i;
	pkt->nr_data = 1 + following;

	if (sum > pkt->len) {
		verdict(pkt, XNB_TX_DROP, "slot sizes exceed the packet length");
		return;
	}
	pkt->first_len = pkt->len - sum;
	if (slots[0].offset + pkt->first_len > XEN_PAGE_SIZE) {
		verdict(pkt, XNB_TX_FATAL, "first slot crosses a page boundary");
		return;
	}
	if (drop) {
		verdict(pkt, XNB_TX_DROP, drop);
		return;
	}
	if (pkt->mcast_type) {
		verdict(pkt, XNB_TX_CONTROL, NULL);
		return;
	}
	if (pkt->len < XNB_TX_MIN_LEN) {
		verdict(pkt, XNB_TX_DROP, "runt packet");
		return;
	}
	verdict(pkt, XNB_TX_OK, NULL);
}
