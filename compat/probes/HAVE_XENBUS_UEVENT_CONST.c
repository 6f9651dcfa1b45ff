// SPDX-License-Identifier: GPL-2.0
/* xenbus_driver.uevent takes a const device (Linux 6.3+). */
#include <xen/xenbus.h>

static int probe_uevent(const struct xenbus_device *dev,
			struct kobj_uevent_env *env)
{
	return 0;
}

struct xenbus_driver probe_driver = { .uevent = probe_uevent };
