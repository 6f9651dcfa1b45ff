// SPDX-License-Identifier: GPL-2.0
/* The UAPI has IOCTL_EVTCHN_BIND_STATIC (Linux 6.0+). */
#include <linux/ioctl.h>
#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xen/evtchn.h>

unsigned int probe(void);
unsigned int probe(void)
{
	struct ioctl_evtchn_bind bind = { .port = 0 };

	return IOCTL_EVTCHN_BIND_STATIC + bind.port;
}
