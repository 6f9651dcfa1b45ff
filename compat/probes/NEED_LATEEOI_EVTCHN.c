// SPDX-License-Identifier: GPL-2.0
/* Late-EOI event channels (Linux 5.10+), which stop guests' event storms. */
#include <linux/interrupt.h>
#include <xen/events.h>

int probe(irq_handler_t handler);
int probe(irq_handler_t handler)
{
	xen_irq_lateeoi(0, XEN_EOI_FLAG_SPURIOUS);
	return bind_evtchn_to_irqhandler_lateeoi(0, handler, 0, "probe", NULL);
}
