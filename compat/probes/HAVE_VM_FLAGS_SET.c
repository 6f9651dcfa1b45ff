// SPDX-License-Identifier: GPL-2.0
/* vm_flags_set()/vm_flags_clear() (Linux 6.3+), vm_flags read-only since. */
#include <linux/mm.h>

void probe(struct vm_area_struct *vma);
void probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTCOPY);
	vm_flags_clear(vma, VM_MAYWRITE);
}
