/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether a port whose irq binding failed is still the channel a file
 * bound, judged from Xen's EVTCHNOP_status of it: plain logic, so that
 * tests/unit checks it too.
 */
#ifndef EVTCHN_STATUS_H
#define EVTCHN_STATUS_H

#include <linux/types.h>
#include <xen/interface/event_channel.h>

/*
 * The core closes a port itself when an irq binding fails after it tied
 * the two together (every failure but that of the irq's allocation), and
 * Xen may then give the number to another user at once.  @now is Xen's
 * status of the port, @ours what the file bound (with our domain's
 * number where the bind said DOMID_SELF, as Xen's status names it).  An
 * interdomain binding holds its remote port, and a VIRQ its vCPU's VIRQ,
 * alone: a match is the file's binding.  An unbound port offered to a
 * domain proves nothing (the toolstack offers such ports too), so it
 * never matches.
 */
static inline bool evtchn_status_is_ours(const struct evtchn_status *now,
					 const struct evtchn_status *ours)
{
	if (now->status != ours->status)
		return false;
	switch (ours->status) {
	case EVTCHNSTAT_interdomain:
		return now->u.interdomain.dom == ours->u.interdomain.dom &&
		       now->u.interdomain.port == ours->u.interdomain.port;
	case EVTCHNSTAT_virq:
		return now->u.virq == ours->u.virq && now->vcpu == ours->vcpu;
	default:
		return false;
	}
}

/*
 * Whether a port that was not closed again may still be the file's, now
 * nobody's: Xen shows it offered to the domain the file's binding was
 * with.  That is an unbound port whose irq could not be allocated, or an
 * interdomain one whose peer closed its end meanwhile.  Either may as
 * well be another user's port by now, so it is only reported.
 */
static inline bool evtchn_status_maybe_left(const struct evtchn_status *now,
					    const struct evtchn_status *ours)
{
	if (now->status != EVTCHNSTAT_unbound)
		return false;
	switch (ours->status) {
	case EVTCHNSTAT_unbound:
		return now->u.unbound.dom == ours->u.unbound.dom;
	case EVTCHNSTAT_interdomain:
		return now->u.unbound.dom == ours->u.interdomain.dom;
	default:
		return false;
	}
}

#endif /* EVTCHN_STATUS_H */
