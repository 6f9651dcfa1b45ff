// SPDX-License-Identifier: GPL-2.0
/* timer_container_of() (Linux 6.16+), which replaced from_timer(). */
#include <linux/timer.h>

struct probe_owner {
	struct timer_list timer;
};

struct probe_owner *probe(struct timer_list *t);
struct probe_owner *probe(struct timer_list *t)
{
	struct probe_owner *o = timer_container_of(o, t, timer);

	return o;
}
