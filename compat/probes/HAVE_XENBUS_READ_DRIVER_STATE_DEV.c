// SPDX-License-Identifier: GPL-2.0
/* xenbus_read_driver_state() takes the device as well as the path (7.1+). */
#include <xen/xenbus.h>

enum xenbus_state probe(struct xenbus_device *dev);
enum xenbus_state probe(struct xenbus_device *dev)
{
	return xenbus_read_driver_state(dev, dev->otherend);
}
