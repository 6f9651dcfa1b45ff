// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters, named as the in-tree xen-blkback names them (plus
 * max_indirect_segments).  Each is read when a device is probed or
 * connected, so a change applies to devices that connect afterwards;
 * out-of-range values are clamped then.
 */
#include <linux/cpumask.h>
#include <linux/moduleparam.h>

#include "common.h"

unsigned int xdb_max_queues;
module_param_named(max_queues, xdb_max_queues, uint, 0644);
MODULE_PARM_DESC(max_queues, "Most queues (rings) per device a frontend may use (default: one per online CPU)");

unsigned int xdb_max_ring_page_order = XENBUS_MAX_RING_GRANT_ORDER;
module_param_named(max_ring_page_order, xdb_max_ring_page_order, uint, 0644);
MODULE_PARM_DESC(max_ring_page_order, "Largest ring a frontend may use, as log2 of its pages (default 4)");

unsigned int xdb_max_indirect_segments = 256;
module_param_named(max_indirect_segments, xdb_max_indirect_segments, uint,
		   0644);
MODULE_PARM_DESC(max_indirect_segments, "Most segments of an indirect request; 11 or less: no indirect requests (default 256, at most 4096)");

unsigned int xdb_max_persistent_grants = 1056;
module_param_named(max_persistent_grants, xdb_max_persistent_grants, uint,
		   0644);
MODULE_PARM_DESC(max_persistent_grants, "Most grants a ring keeps mapped for reuse (default 1056)");

unsigned int xdb_persistent_grant_unused_seconds = 60;
module_param_named(persistent_grant_unused_seconds,
		   xdb_persistent_grant_unused_seconds, uint, 0644);
MODULE_PARM_DESC(persistent_grant_unused_seconds, "Seconds after which an unused persistent grant is unmapped (default 60)");

unsigned int xdb_max_buffer_pages = 1024;
module_param_named(max_buffer_pages, xdb_max_buffer_pages, uint, 0644);
MODULE_PARM_DESC(max_buffer_pages, "Spare pages for grant mappings a ring keeps (default 1024)");

bool xdb_feature_persistent = true;
module_param_named(feature_persistent, xdb_feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent, "Offer persistent grants (default on)");

bool xdb_log_stats;
module_param_named(log_stats, xdb_log_stats, bool, 0644);
MODULE_PARM_DESC(log_stats, "Log each ring's statistics every 10 s while it is busy or idle (default off)");

/* The parameters that size things, brought into range when they are read. */
unsigned int xdb_queues_limit(void)
{
	unsigned int n = READ_ONCE(xdb_max_queues);

	return n ? n : num_online_cpus();
}

unsigned int xdb_ring_order_limit(void)
{
	return min_t(unsigned int, READ_ONCE(xdb_max_ring_page_order),
		     XENBUS_MAX_RING_GRANT_ORDER);
}

unsigned int xdb_indirect_limit(void)
{
	unsigned int n = READ_ONCE(xdb_max_indirect_segments);

	if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return 0;
	return min_t(unsigned int, n, XDB_MAX_INDIRECT_SEGS);
}
