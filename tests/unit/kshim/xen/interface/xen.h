/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for <xen/interface/xen.h>: just what the kernel's
 * own grant_table.h and io/netif.h need, so the unit tests use the real
 * protocol headers (found after the system's, with -idirafter).
 */
#ifndef KSHIM_XEN_INTERFACE_XEN_H
#define KSHIM_XEN_INTERFACE_XEN_H

#include <stdint.h>

typedef uint16_t domid_t;
typedef unsigned long xen_pfn_t;
#define DEFINE_GUEST_HANDLE_STRUCT(name)
#define GUEST_HANDLE(name) void *

#endif
