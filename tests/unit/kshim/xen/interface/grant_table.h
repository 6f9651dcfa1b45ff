/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for <xen/interface/grant_table.h>: just the grant
 * reference type, which the kernel's ring.h and blkif.h (used as they are)
 * need.
 */
#ifndef KSHIM_XEN_GRANT_TABLE_H
#define KSHIM_XEN_GRANT_TABLE_H

#include <stdint.h>

typedef uint32_t grant_ref_t;

#endif
