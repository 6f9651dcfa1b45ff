// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xen/evtchn: the character device and its file operations.
 *
 * read() hands out the ports that fired, blocking or not; write() gives
 * them back, which re-enables them (late EOI); ioctl() binds, unbinds and
 * notifies.  Each open file sees and controls only its own ports.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <xen/xen.h>
#include <xen/evtchn.h>

#include "evtchn.h"

/* read() and write() move at most a page of ports per call. */
#define EVTCHN_IO_MAX_PORTS	(PAGE_SIZE / sizeof(u32))

static bool evtchn_readable(struct evtchn_file *f)
{
	return READ_ONCE(f->ring.prod) != READ_ONCE(f->ring.cons) ||
	       READ_ONCE(f->ring.overflow);
}

/* Copy up to @want pending ports to user space; returns how many. */
static int evtchn_copy_pending(struct evtchn_file *f, u32 __user *buf,
			       unsigned int cons, unsigned int want)
{
	unsigned int done = 0, n;
	u32 *first;

	while (done < want) {
		n = evtchn_ring_chunk(&f->ring, cons + done, want - done, &first);
		if (copy_to_user(buf + done, first, n * sizeof(u32)))
			return -EFAULT;
		done += n;
	}
	return done;
}

static ssize_t evtchn_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct evtchn_file *f = file->private_data;
	unsigned int want = min(count / sizeof(u32), EVTCHN_IO_MAX_PORTS);
	unsigned int cons, avail;
	bool overflow;
	int copied;

	if (!want)
		return 0;

	for (;;) {
		if (mutex_lock_interruptible(&f->read_lock))
			return -ERESTARTSYS;
		spin_lock_irq(&f->ring_lock);
		overflow = f->ring.overflow;
		cons = f->ring.cons;
		avail = evtchn_ring_pending(&f->ring);
		spin_unlock_irq(&f->ring_lock);

		if (overflow) {
			mutex_unlock(&f->read_lock);
			return -EFBIG;
		}
		if (avail)
			break;
		mutex_unlock(&f->read_lock);

		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(f->waitq, evtchn_readable(f)))
			return -ERESTARTSYS;
	}

	/*
	 * The slots between cons and prod are stable: the handler only
	 * writes beyond prod, and read_lock keeps the ring from moving.
	 */
	copied = evtchn_copy_pending(f, (u32 __user *)buf, cons,
				     min(avail, want));
	if (copied > 0) {
		spin_lock_irq(&f->ring_lock);
		f->ring.cons = cons + copied;
		spin_unlock_irq(&f->ring_lock);
	}
	mutex_unlock(&f->read_lock);
	return copied < 0 ? copied : copied * sizeof(u32);
}

static ssize_t evtchn_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct evtchn_file *f = file->private_data;
	unsigned int n = min(count / sizeof(u32), EVTCHN_IO_MAX_PORTS);
	u32 *ports;

	if (!n)
		return 0;

	ports = memdup_user(buf, n * sizeof(u32));
	if (IS_ERR(ports))
		return PTR_ERR(ports);

	mutex_lock(&f->bind_lock);
	evtchn_unmask(f, ports, n);
	mutex_unlock(&f->bind_lock);

	kfree(ports);
	return n * sizeof(u32);
}

static __poll_t evtchn_poll(struct file *file, poll_table *wait)
{
	struct evtchn_file *f = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &f->waitq, wait);

	spin_lock_irq(&f->ring_lock);
	if (evtchn_ring_pending(&f->ring))
		mask |= EPOLLIN | EPOLLRDNORM;
	/* Only the error, as in-tree: what is queued must be RESET first. */
	if (f->ring.overflow)
		mask = EPOLLERR;
	spin_unlock_irq(&f->ring_lock);

	return mask;
}

static int evtchn_fasync(int fd, struct file *file, int on)
{
	struct evtchn_file *f = file->private_data;

	return fasync_helper(fd, file, on, &f->fasync);
}

/* IOCTL_EVTCHN_RESET: forget pending ports and a past overflow. */
static void evtchn_reset(struct evtchn_file *f)
{
	mutex_lock(&f->read_lock);
	spin_lock_irq(&f->ring_lock);
	evtchn_ring_reset(&f->ring);
	spin_unlock_irq(&f->ring_lock);
	mutex_unlock(&f->read_lock);
}

static int evtchn_restrict(struct evtchn_file *f, domid_t domid)
{
	/* Once restricted, a file stays so: it must be reopened instead. */
	if (f->restricted)
		return -EACCES;
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	f->restricted = true;
	f->restrict_domid = domid;
	return 0;
}

/*
 * UNBIND, NOTIFY and BIND_STATIC all pass a struct holding one unsigned
 * int port; reading it as such also serves kernels whose UAPI predates
 * BIND_STATIC.
 */
static int evtchn_port_arg(void __user *uarg, unsigned int *port)
{
	BUILD_BUG_ON(sizeof(struct ioctl_evtchn_unbind) != sizeof(*port));
	BUILD_BUG_ON(sizeof(struct ioctl_evtchn_notify) != sizeof(*port));
	return copy_from_user(port, uarg, sizeof(*port)) ? -EFAULT : 0;
}

static long evtchn_ioctl_locked(struct evtchn_file *f, unsigned int cmd,
				void __user *uarg)
{
	union {
		struct ioctl_evtchn_bind_virq virq;
		struct ioctl_evtchn_bind_interdomain interdomain;
		struct ioctl_evtchn_bind_unbound_port unbound;
		struct ioctl_evtchn_restrict_domid domid;
		unsigned int port;
	} a;

	switch (cmd) {
	case IOCTL_EVTCHN_BIND_VIRQ:
		if (copy_from_user(&a.virq, uarg, sizeof(a.virq)))
			return -EFAULT;
		return evtchn_bind_virq(f, a.virq.virq);
	case IOCTL_EVTCHN_BIND_INTERDOMAIN:
		if (copy_from_user(&a.interdomain, uarg, sizeof(a.interdomain)))
			return -EFAULT;
		return evtchn_bind_interdomain(f, a.interdomain.remote_domain,
					       a.interdomain.remote_port);
	case IOCTL_EVTCHN_BIND_UNBOUND_PORT:
		if (copy_from_user(&a.unbound, uarg, sizeof(a.unbound)))
			return -EFAULT;
		return evtchn_bind_unbound(f, a.unbound.remote_domain);
	case IOCTL_EVTCHN_RESTRICT_DOMID:
		if (copy_from_user(&a.domid, uarg, sizeof(a.domid)))
			return -EFAULT;
		return evtchn_restrict(f, a.domid.domid);
	case IOCTL_EVTCHN_UNBIND:
		return evtchn_port_arg(uarg, &a.port) ?:
		       evtchn_unbind(f, a.port);
	case IOCTL_EVTCHN_NOTIFY:
		return evtchn_port_arg(uarg, &a.port) ?:
		       evtchn_notify(f, a.port);
	case XDB_IOCTL_EVTCHN_BIND_STATIC:
		return evtchn_port_arg(uarg, &a.port) ?:
		       evtchn_bind_static(f, a.port);
	default:
		return -ENOTTY;
	}
}

static long evtchn_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct evtchn_file *f = file->private_data;
	long rc;

	/* Also keeps XDB_IOCTL_EVTCHN_BIND_STATIC's stand-in 0 unreachable. */
	if (_IOC_TYPE(cmd) != 'E')
		return -ENOTTY;

	if (cmd == IOCTL_EVTCHN_RESET) {
		evtchn_reset(f);
		return 0;
	}

	mutex_lock(&f->bind_lock);
	rc = evtchn_ioctl_locked(f, cmd, (void __user *)arg);
	mutex_unlock(&f->bind_lock);
	return rc;
}

static int evtchn_open(struct inode *inode, struct file *file)
{
	struct evtchn_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->irq_name = kasprintf(GFP_KERNEL, "evtchn:%s", current->comm);
	if (!f->irq_name) {
		kfree(f);
		return -ENOMEM;
	}

	mutex_init(&f->bind_lock);
	xa_init(&f->ports);
	mutex_init(&f->read_lock);
	spin_lock_init(&f->ring_lock);
	init_waitqueue_head(&f->waitq);

	file->private_data = f;
	return stream_open(inode, file);
}

static int evtchn_release(struct inode *inode, struct file *file)
{
	struct evtchn_file *f = file->private_data;

	mutex_lock(&f->bind_lock);
	evtchn_unbind_all(f);
	mutex_unlock(&f->bind_lock);

	xa_destroy(&f->ports);
	kvfree(f->ring.slot);
	kfree(f->irq_name);
	kfree(f);
	return 0;
}

static const struct file_operations evtchn_fops = {
	.owner = THIS_MODULE,
	.open = evtchn_open,
	.release = evtchn_release,
	.read = evtchn_read,
	.write = evtchn_write,
	.poll = evtchn_poll,
	.fasync = evtchn_fasync,
	.unlocked_ioctl = evtchn_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice evtchn_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xen/evtchn",
	.fops = &evtchn_fops,
};

static int __init evtchn_dev_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;

	err = misc_register(&evtchn_miscdev);
	if (err) {
		pr_err("cannot register /dev/xen/evtchn: %d\n", err);
		return err;
	}
	pr_info("/dev/xen/evtchn ready (xen-dom0-backends %s)\n", XDB_VERSION);
	return 0;
}

static void __exit evtchn_dev_exit(void)
{
	misc_deregister(&evtchn_miscdev);
}

module_init(evtchn_dev_init);
module_exit(evtchn_dev_exit);

MODULE_DESCRIPTION("Xen event channels for dom0 user space (/dev/xen/evtchn)");
MODULE_LICENSE("GPL");
MODULE_VERSION(XDB_VERSION);
MODULE_INFO(project, "xen-dom0-backends (out-of-tree)");
