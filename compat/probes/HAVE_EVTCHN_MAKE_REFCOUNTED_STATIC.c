// SPDX-License-Identifier: GPL-2.0
/* evtchn_make_refcounted() takes is_static (Linux 6.0+, with BIND_STATIC). */
#include <xen/events.h>

int probe(void);
int probe(void)
{
	return evtchn_make_refcounted(0, true);
}
