/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-in for <xen/page.h>: Xen's ring page size. */
#ifndef KSHIM_XEN_PAGE_H
#define KSHIM_XEN_PAGE_H

#define XEN_PAGE_SHIFT	12
#define XEN_PAGE_SIZE	(1UL << XEN_PAGE_SHIFT)

#endif
