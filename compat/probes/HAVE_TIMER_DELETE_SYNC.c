// SPDX-License-Identifier: GPL-2.0
/* timer_delete_sync() (Linux 6.2+, 6.1.y stable); del_timer_sync() is gone in 6.17. */
#include <linux/timer.h>

int probe(struct timer_list *t);
int probe(struct timer_list *t)
{
	return timer_delete_sync(t);
}
