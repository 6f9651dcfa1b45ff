// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel pages the size of Xen's (4 KiB): the backends lay guest data out
 * in kernel pages and grant-copy into them by page offset.  arm64 kernels
 * with 16 or 64 KiB pages are refused.
 */
#include <linux/build_bug.h>
#include <xen/page.h>

static_assert(PAGE_SIZE == XEN_PAGE_SIZE);
