// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device sysfs attributes, under /sys/bus/xen-backend/devices/vbd-D-N/:
 * physical_device and mode, and statistics/ with the in-tree names (and
 * max_pass, ours only).  The driver core adds them after probe and
 * removes them before remove.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "common.h"

static ssize_t physical_device_show(struct device *d,
				    struct device_attribute *attr, char *buf)
{
	struct xdb_vbd *vbd = dev_get_drvdata(d);

	return sysfs_emit(buf, "%x:%x\n", vbd->major, vbd->minor);
}
static DEVICE_ATTR_RO(physical_device);

static ssize_t mode_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct xdb_vbd *vbd = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", vbd->limits.readonly ? "r" : "w");
}
static DEVICE_ATTR_RO(mode);

static struct attribute *vbd_attrs[] = {
	&dev_attr_physical_device.attr,
	&dev_attr_mode.attr,
	NULL
};

static const struct attribute_group vbd_group = {
	.attrs = vbd_attrs,
};

/*
 * A statistics file: a counter summed over live, retiring and torn-down
 * rings, or the largest value of any of them (max).
 */
struct xdb_stat_attr {
	struct device_attribute attr;
	size_t offset;			/* in struct xdb_stats */
	bool max;
};

/* val with the counter of each ring added (or the largest, for a max). */
static u64 add_rings(const struct xdb_stat_attr *sa, u64 val,
		     const struct xdb_ring *rings, unsigned int n)
{
	unsigned int i;
	u64 v;

	for (i = 0; i < n; i++) {
		v = READ_ONCE(*(const u64 *)((const char *)&rings[i].stats +
					     sa->offset));
		val = sa->max ? max(val, v) : val + v;
	}
	return val;
}

static ssize_t stat_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	const struct xdb_stat_attr *sa = container_of(attr,
						      struct xdb_stat_attr,
						      attr);
	struct xdb_vbd *vbd = dev_get_drvdata(d);
	u64 val;

	mutex_lock(&vbd->lock);
	val = *(u64 *)((char *)&vbd->retired + sa->offset);
	val = add_rings(sa, val, vbd->rings, vbd->nr_rings);
	val = add_rings(sa, val, vbd->old_rings, vbd->nr_old_rings);
	mutex_unlock(&vbd->lock);
	return sysfs_emit(buf, "%llu\n", val);
}

static struct xdb_stat_attr stat_attrs[] = {
	{ __ATTR(oo_req, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, oo_req) },
	{ __ATTR(rd_req, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, rd_req) },
	{ __ATTR(wr_req, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, wr_req) },
	{ __ATTR(f_req, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, f_req) },
	{ __ATTR(ds_req, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, ds_req) },
	{ __ATTR(rd_sect, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, rd_sect) },
	{ __ATTR(wr_sect, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, wr_sect) },
	{ __ATTR(max_pass, 0444, stat_show, NULL),
	  offsetof(struct xdb_stats, max_pass), true },
};

static struct attribute *stats_attrs[] = {
	&stat_attrs[0].attr.attr,
	&stat_attrs[1].attr.attr,
	&stat_attrs[2].attr.attr,
	&stat_attrs[3].attr.attr,
	&stat_attrs[4].attr.attr,
	&stat_attrs[5].attr.attr,
	&stat_attrs[6].attr.attr,
	&stat_attrs[7].attr.attr,
	NULL
};

static const struct attribute_group stats_group = {
	.name = "statistics",
	.attrs = stats_attrs,
};

const struct attribute_group *xdb_vbd_groups[] = {
	&vbd_group,
	&stats_group,
	NULL
};
