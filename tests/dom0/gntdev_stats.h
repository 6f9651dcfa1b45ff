/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Our xen-gntdev's counters (debugfs), for the gntdev test programs: grant
 * maps alive, grant handles held, and dma-buf imports kept past their
 * release because the remote still maps a page (-1 where not shown).
 */
#ifndef GNTDEV_STATS_H
#define GNTDEV_STATS_H

#include <stdio.h>

#define STATS		"/sys/kernel/debug/xen-gntdev/stats"

struct stats {
	long maps, mapped, imp_held;
};

/* 0, or -1 where the counters cannot be read (the in-tree module). */
static int stats_read(struct stats *s)
{
	FILE *f = fopen(STATS, "r");
	int n;

	if (!f)
		return -1;
	s->imp_held = -1;
	n = fscanf(f, "maps %ld grant_mappings %ld dmabuf_imports_held %ld",
		   &s->maps, &s->mapped, &s->imp_held);
	fclose(f);
	return n >= 2 ? 0 : -1;
}

#endif
