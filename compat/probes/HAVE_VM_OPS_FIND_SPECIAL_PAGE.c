// SPDX-License-Identifier: GPL-2.0
/*
 * vm_operations_struct.find_special_page (up to 6.17); 6.18 renamed it
 * find_normal_page and keeps it only with CONFIG_FIND_NORMAL_PAGE=y.
 */
#include <linux/mm.h>

static struct page *probe_find(struct vm_area_struct *vma, unsigned long addr)
{
	return NULL;
}

const struct vm_operations_struct probe_ops = { .find_special_page = probe_find };
