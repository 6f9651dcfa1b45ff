// SPDX-License-Identifier: GPL-2.0
/*
 * Binding event channels for user space: the hypercalls that create a
 * port, the interrupt that queues it on its file's ring, and the late EOI
 * that user space triggers by writing the port back.
 *
 * Every function here is called with the file's bind_lock held.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/xen-ops.h>
#include <asm/xen/hypercall.h>

#include "evtchn.h"
#include "evtchn_status.h"

static irqreturn_t evtchn_port_fired(int irq, void *data)
{
	struct evtchn_user_port *p = data;
	struct evtchn_file *f = p->owner;

	/*
	 * The channel is bound late-EOI: it stays masked until user space
	 * writes the port back, so an event storm from a guest costs dom0
	 * one interrupt per round trip through user space.
	 */
	if (test_and_set_bit(EVTCHN_PORT_AWAITING_EOI, &p->flags))
		return IRQ_HANDLED;

	spin_lock(&f->ring_lock);
	evtchn_ring_push(&f->ring, p->port);
	spin_unlock(&f->ring_lock);

	wake_up_interruptible(&f->waitq);
	kill_fasync(&f->fasync, SIGIO, POLL_IN);
	return IRQ_HANDLED;
}

/* Grow the ring, if needed, so that one more bound port has a slot. */
static int evtchn_ring_make_room(struct evtchn_file *f)
{
	unsigned int new_size;
	u32 *slot, *old;

	if (f->nr_ports < f->ring.size)
		return 0;

	new_size = f->ring.size ? 2 * f->ring.size : EVTCHN_RING_MIN_SLOTS;
	slot = kvcalloc(new_size, sizeof(*slot), GFP_KERNEL);
	if (!slot)
		return -ENOMEM;

	mutex_lock(&f->read_lock);
	spin_lock_irq(&f->ring_lock);
	old = evtchn_ring_move(&f->ring, slot, new_size);
	spin_unlock_irq(&f->ring_lock);
	mutex_unlock(&f->read_lock);

	kvfree(old);
	return 0;
}

/* Close @port, which Xen has just bound for us and nobody else uses yet. */
static void evtchn_close_port(evtchn_port_t port)
{
	struct evtchn_close close = { .port = port };

	if (HYPERVISOR_event_channel_op(EVTCHNOP_close, &close))
		pr_warn_ratelimited("port %u: close failed\n", port);
}

/*
 * Our own domain id, which Xen's status shows where a bind said
 * DOMID_SELF: that of a port offered to ourselves, closed again.
 */
static int evtchn_self_domid(void)
{
	struct evtchn_alloc_unbound op = {
		.dom = DOMID_SELF, .remote_dom = DOMID_SELF,
	};
	struct evtchn_status st = { .dom = DOMID_SELF };
	int err;

	err = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
	if (err)
		return err;
	st.port = op.port;
	err = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);
	evtchn_close_port(op.port);
	if (err)
		return err;
	return st.status == EVTCHNSTAT_unbound ? st.u.unbound.dom : -EIO;
}

/*
 * After a failed irq binding: close @port only while Xen still shows it
 * as the binding @bound (see evtchn_status_is_ours()) that no irq uses;
 * say so when it stays open and may be that binding still.
 */
static void evtchn_close_if_ours(evtchn_port_t port,
				 const struct evtchn_status *bound)
{
	struct evtchn_status now = { .dom = DOMID_SELF, .port = port };
	struct evtchn_status ours = *bound;

	/*
	 * A channel to ourselves: Xen's status names our domain by its
	 * number.  Learnt first, so that the status read stays next to the
	 * close it decides.
	 */
	if (ours.status == EVTCHNSTAT_interdomain &&
	    ours.u.interdomain.dom == DOMID_SELF) {
		int self = evtchn_self_domid();

		if (self < 0) {
			pr_warn_ratelimited("port %u to ourselves left open: %d\n",
					    port, self);
			return;
		}
		ours.u.interdomain.dom = self;
	}
	if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &now) ||
	    now.status == EVTCHNSTAT_closed)
		return;
	if (evtchn_status_is_ours(&now, &ours) &&
	    (int)irq_from_evtchn(port) < 0) {
		evtchn_close_port(port);
		return;
	}
	if (evtchn_status_maybe_left(&now, &ours))
		pr_warn_ratelimited("port %u for domain %u left open: it may be another user's by now\n",
				    port, now.u.unbound.dom);
}

/*
 * Give a port that Xen has just bound for us, as @ours says, to this
 * file.  On failure the port is closed again; static ports (@ours NULL)
 * belong to Xen.  Returns the port number or a negative errno.
 */
static int evtchn_attach(struct evtchn_file *f, evtchn_port_t port,
			 const struct evtchn_status *ours)
{
	struct evtchn_user_port *p;
	int irq, err;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		err = -ENOMEM;
		goto out_close;
	}
	p->owner = f;
	p->port = port;

	err = evtchn_ring_make_room(f);
	if (err)
		goto out_free;
	err = xa_insert(&f->ports, port, p, GFP_KERNEL);
	if (err)
		goto out_free;

	irq = bind_evtchn_to_irqhandler_lateeoi(port, evtchn_port_fired, 0,
						f->irq_name, p);
	if (irq < 0) {
		xa_erase(&f->ports, port);
		kfree(p);
		if (ours)
			evtchn_close_if_ours(port, ours);
		return irq;
	}
	p->irq = irq;

	/* So that gntdev's unmap notify can hold the port past our unbind. */
	err = xdb_evtchn_make_refcounted(port, !ours);
	if (err) {
		/* Unbinding closes a non-static port itself. */
		unbind_from_irqhandler(irq, p);
		xa_erase(&f->ports, port);
		kfree(p);
		return err;
	}

	f->nr_ports++;
	return port;

out_free:
	kfree(p);
out_close:
	if (ours)
		evtchn_close_port(port);
	return err;
}

/*
 * Spread interdomain ports over the online CPUs, round robin, so that one
 * busy guest or daemon does not put every user-space event on CPU 0.
 * Best effort: the port works wherever it lands.
 */
static void evtchn_spread(struct evtchn_file *f, evtchn_port_t port)
{
	static DEFINE_SPINLOCK(lock);
	static unsigned int last_cpu;
	struct evtchn_user_port *p = xa_load(&f->ports, port);
	unsigned int cpu;

	spin_lock(&lock);
	cpu = cpumask_next(last_cpu, cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	last_cpu = cpu;
	spin_unlock(&lock);

	if (p && irq_set_affinity(p->irq, cpumask_of(cpu)))
		pr_debug("port %u stays on its CPU\n", port);
}

/* Attach an interdomain port, then spread it (unbound ports are too). */
static int evtchn_attach_spread(struct evtchn_file *f, evtchn_port_t port,
				const struct evtchn_status *ours)
{
	int rc = evtchn_attach(f, port, ours);

	if (rc > 0)
		evtchn_spread(f, port);
	return rc;
}

static void evtchn_detach(struct evtchn_file *f, struct evtchn_user_port *p)
{
	/* Waits for a running handler; closes the port unless it is static. */
	unbind_from_irqhandler(p->irq, p);
	xa_erase(&f->ports, p->port);
	f->nr_ports--;
	kfree(p);
}

/* The file's binding of @port: -EINVAL out of range, -ENOTCONN not ours. */
static struct evtchn_user_port *evtchn_lookup(struct evtchn_file *f,
					      unsigned int port)
{
	struct evtchn_user_port *p;

	if (port >= xen_evtchn_nr_channels())
		return ERR_PTR(-EINVAL);
	p = xa_load(&f->ports, port);
	return p ? p : ERR_PTR(-ENOTCONN);
}

/* Domain ids travel as unsigned int in the UAPI but are 16 bits in Xen. */
static int evtchn_check_remote(struct evtchn_file *f, unsigned int domid)
{
	if (domid > U16_MAX)
		return -EINVAL;
	if (f->restricted && domid != f->restrict_domid)
		return -EACCES;
	return 0;
}

int evtchn_bind_virq(struct evtchn_file *f, unsigned int virq)
{
	struct evtchn_bind_virq op = { .virq = virq, .vcpu = xen_vcpu_nr(0) };
	struct evtchn_status ours = {
		.status = EVTCHNSTAT_virq, .vcpu = op.vcpu, .u.virq = virq,
	};
	int err;

	if (f->restricted)
		return -EACCES;
	err = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
	if (err)
		return err;
	return evtchn_attach(f, op.port, &ours);
}

int evtchn_bind_interdomain(struct evtchn_file *f, unsigned int remote_domain,
			    unsigned int remote_port)
{
	struct evtchn_bind_interdomain op = {
		.remote_dom = remote_domain,
		.remote_port = remote_port,
	};
	struct evtchn_status ours = {
		.status = EVTCHNSTAT_interdomain,
		.u.interdomain = { .dom = remote_domain, .port = remote_port },
	};
	int err;

	err = evtchn_check_remote(f, remote_domain);
	if (err)
		return err;
	err = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
	if (err)
		return err;
	return evtchn_attach_spread(f, op.local_port, &ours);
}

int evtchn_bind_unbound(struct evtchn_file *f, unsigned int remote_domain)
{
	struct evtchn_alloc_unbound op = {
		.dom = DOMID_SELF,
		.remote_dom = remote_domain,
	};
	struct evtchn_status ours = {
		.status = EVTCHNSTAT_unbound, .u.unbound.dom = remote_domain,
	};
	int err;

	/* A restricted file may only bind to ports its domain offers. */
	if (f->restricted)
		return -EACCES;
	err = evtchn_check_remote(f, remote_domain);
	if (err)
		return err;
	err = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
	if (err)
		return err;
	return evtchn_attach_spread(f, op.port, &ours);
}

int evtchn_bind_static(struct evtchn_file *f, unsigned int port)
{
	static DEFINE_MUTEX(static_lock);
	struct evtchn_status now = { .dom = DOMID_SELF, .port = port };
	int ret;

	/* A static port's peer is not checked, so restricted files may not. */
	if (f->restricted)
		return -EACCES;
	/*
	 * Any open port without an irq passes the checks below, also one the
	 * kernel or another file has just had Xen allocate and is about to
	 * bind: only an administrator may come between them.
	 */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (port >= xen_evtchn_nr_channels())
		return -EINVAL;
	if (xa_load(&f->ports, port))
		return -EISCONN;
	/*
	 * A closed port is not static: whoever Xen gives it to next would
	 * find our irq bound to it, and the core's failing bind would then
	 * free that irq under our handler.
	 */
	if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &now) ||
	    now.status == EVTCHNSTAT_closed)
		return -EINVAL;
	/*
	 * Bound by another file or by the kernel: sharing it is refused.  The
	 * check and the bind go together, or two files binding the port at
	 * once would both pass it, with the same end.
	 */
	mutex_lock(&static_lock);
	if ((int)irq_from_evtchn(port) >= 0)
		ret = -EBUSY;
	else
		ret = evtchn_attach(f, port, NULL);
	mutex_unlock(&static_lock);
	return ret;
}

int evtchn_unbind(struct evtchn_file *f, unsigned int port)
{
	struct evtchn_user_port *p = evtchn_lookup(f, port);

	if (IS_ERR(p))
		return PTR_ERR(p);
	evtchn_detach(f, p);
	return 0;
}

int evtchn_notify(struct evtchn_file *f, unsigned int port)
{
	struct evtchn_user_port *p = evtchn_lookup(f, port);

	if (IS_ERR(p))
		return PTR_ERR(p);
	notify_remote_via_evtchn(p->port);
	return 0;
}

/* write(): ports user space has handled; each fired one is EOIed once. */
void evtchn_unmask(struct evtchn_file *f, const u32 *ports, unsigned int n)
{
	struct evtchn_user_port *p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		p = xa_load(&f->ports, ports[i]);
		if (p && test_and_clear_bit(EVTCHN_PORT_AWAITING_EOI, &p->flags))
			xen_irq_lateeoi(p->irq, 0);
	}
}

void evtchn_unbind_all(struct evtchn_file *f)
{
	struct evtchn_user_port *p;
	unsigned long port;

	xa_for_each(&f->ports, port, p)
		evtchn_detach(f, p);
}
