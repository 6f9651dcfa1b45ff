/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Our xen-gntdev's counters (debugfs), for the gntdev test programs: grant
 * maps alive and grant handles held.
 */
#ifndef GNTDEV_STATS_H
#define GNTDEV_STATS_H

#include <stdio.h>

#define STATS		"/sys/kernel/debug/xen-gntdev/stats"

struct stats {
	long maps, mapped;
};

/* 0, or -1 where the counters cannot be read (the in-tree module). */
static int stats_read(struct stats *s)
{
	FILE *f = fopen(STATS, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "maps %ld grant_mappings %ld", &s->maps, &s->mapped);
	fclose(f);
	return n == 2 ? 0 : -1;
}

#endif
