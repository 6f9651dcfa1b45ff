// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of xen-evtchn's judgement of a port after a failed irq
 * binding (xen-evtchn/evtchn_status.h): it is closed again only while
 * Xen's status shows the very binding the file made, and reported when
 * left open offered to the domain that binding was with.
 */
#include "evtchn_status.h"
#include "unit.h"

static struct evtchn_status interdomain(domid_t dom, evtchn_port_t port)
{
	return (struct evtchn_status){
		.status = EVTCHNSTAT_interdomain,
		.u.interdomain = { .dom = dom, .port = port },
	};
}

static struct evtchn_status virq(u32 virq, u32 vcpu)
{
	return (struct evtchn_status){
		.status = EVTCHNSTAT_virq, .vcpu = vcpu, .u.virq = virq,
	};
}

static struct evtchn_status unbound(domid_t dom)
{
	return (struct evtchn_status){
		.status = EVTCHNSTAT_unbound, .u.unbound.dom = dom,
	};
}

int main(void)
{
	struct evtchn_status ours = interdomain(5, 3), now;

	now = interdomain(5, 3);
	CHECK(evtchn_status_is_ours(&now, &ours),
	      "interdomain to 5:3, still connected there: ours, closed again");
	now = interdomain(5, 4);
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "now connected to 5:4: another user's, left alone");
	now = interdomain(6, 3);
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "now connected to 6:3: another user's, left alone");
	now = unbound(5);
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "now offered to domain 5: another user's, left alone");
	CHECK(evtchn_status_maybe_left(&now, &ours),
	      "offered to domain 5, the peer: it may have closed, reported");
	now = unbound(6);
	CHECK(!evtchn_status_maybe_left(&now, &ours),
	      "offered to domain 6: another user's, not reported");
	now = interdomain(5, 4);
	CHECK(!evtchn_status_maybe_left(&now, &ours),
	      "connected to 5:4: another user's, not reported");
	now = (struct evtchn_status){ .status = EVTCHNSTAT_closed };
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "closed by the core: nothing to close");
	CHECK(!evtchn_status_maybe_left(&now, &ours),
	      "closed by the core: nothing to report");

	ours = virq(3, 0);
	now = virq(3, 0);
	CHECK(evtchn_status_is_ours(&now, &ours), "VIRQ 3 on vCPU 0: ours");
	now = virq(4, 0);
	CHECK(!evtchn_status_is_ours(&now, &ours), "VIRQ 4: another user's");
	now = virq(3, 1);
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "VIRQ 3 on vCPU 1: another user's");

	ours = unbound(7);
	now = unbound(7);
	CHECK(!evtchn_status_is_ours(&now, &ours),
	      "offered to domain 7 as ours was: may be the toolstack's, left open");
	CHECK(evtchn_status_maybe_left(&now, &ours),
	      "offered to domain 7 as ours was: reported");
	now = unbound(8);
	CHECK(!evtchn_status_maybe_left(&now, &ours),
	      "offered to domain 8: another user's, not reported");
	ours = virq(3, 0);
	now = unbound(0);
	CHECK(!evtchn_status_maybe_left(&now, &ours),
	      "VIRQ binding, now an offered port: another user's, not reported");
	return unit_failed ? 1 : 0;
}
