// SPDX-License-Identifier: GPL-2.0
/* bdev_file_open_by_dev() (Linux 6.9+): a block device opened as a file. */
#include <linux/blkdev.h>

struct block_device *probe(dev_t dev);
struct block_device *probe(dev_t dev)
{
	struct file *f = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	return IS_ERR(f) ? NULL : file_bdev(f);
}
