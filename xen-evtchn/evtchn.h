/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/xen/evtchn: event channels for dom0 user space (xenstored,
 * xenconsoled, xl, QEMU through libxenevtchn).  Each open file owns the
 * ports it binds and a ring of the ports that have fired since.
 */
#ifndef XEN_EVTCHN_H
#define XEN_EVTCHN_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <xen/interface/event_channel.h>

#include "evtchn_ring.h"

/* The ring starts this large and doubles so that every bound port has a slot. */
#define EVTCHN_RING_MIN_SLOTS	64

struct evtchn_file {
	/* Serialises bind, unbind and write(); protects ports and nr_ports. */
	struct mutex bind_lock;
	struct xarray ports;		/* port number -> struct evtchn_user_port */
	unsigned int nr_ports;
	bool restricted;		/* IOCTL_EVTCHN_RESTRICT_DOMID was used */
	domid_t restrict_domid;

	/* One reader at a time; also held while the ring is resized. */
	struct mutex read_lock;
	/* Guards ring against the interrupt handler that fills it. */
	spinlock_t ring_lock;
	struct evtchn_ring ring;
	wait_queue_head_t waitq;
	struct fasync_struct *fasync;

	char *irq_name;			/* "evtchn:<comm>", shown in /proc/interrupts */
};

/* Set from the interrupt until user space writes the port back. */
#define EVTCHN_PORT_AWAITING_EOI	0

struct evtchn_user_port {
	struct evtchn_file *owner;
	evtchn_port_t port;
	unsigned int irq;
	unsigned long flags;
};

int evtchn_bind_virq(struct evtchn_file *f, unsigned int virq);
int evtchn_bind_interdomain(struct evtchn_file *f, unsigned int remote_domain,
			    unsigned int remote_port);
int evtchn_bind_unbound(struct evtchn_file *f, unsigned int remote_domain);
int evtchn_bind_static(struct evtchn_file *f, unsigned int port);
int evtchn_unbind(struct evtchn_file *f, unsigned int port);
int evtchn_notify(struct evtchn_file *f, unsigned int port);
void evtchn_unmask(struct evtchn_file *f, const u32 *ports, unsigned int n);
void evtchn_unbind_all(struct evtchn_file *f);

#endif /* XEN_EVTCHN_H */
