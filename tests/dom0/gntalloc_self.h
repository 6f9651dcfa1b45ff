/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pages dom0 grants to itself through /dev/xen/gntalloc (the kernel's
 * xen-gntalloc module), for the programs that need more grants than a
 * guest offers or none at all.  The includer has included
 * <xen/gntalloc.h> and <sys/mman.h>.
 */
#ifndef DOM0_GNTALLOC_SELF_H
#define DOM0_GNTALLOC_SELF_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * Grant @n fresh pages of ours to ourselves, writable; their references
 * go to @refs.  Returns the pages mapped at their gntalloc offset, or
 * MAP_FAILED, holding nothing (@n 0 among the reasons: the op holds one
 * reference at least); *@fd keeps the grants (they go once it is closed
 * and the pages unmapped).
 */
static inline uint8_t *gntalloc_self(unsigned int n, uint32_t *refs, int *fd)
{
	struct ioctl_gntalloc_alloc_gref *op;
	void *pages = MAP_FAILED;

	*fd = -1;
	if (!n) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	op = calloc(1, sizeof(*op) + (n - 1) * sizeof(uint32_t));
	*fd = open("/dev/xen/gntalloc", O_RDWR);
	if (*fd >= 0 && op) {
		op->domid = 0;
		op->flags = GNTALLOC_FLAG_WRITABLE;
		op->count = n;
		if (!ioctl(*fd, IOCTL_GNTALLOC_ALLOC_GREF, op)) {
			memcpy(refs, op->gref_ids, n * sizeof(*refs));
			pages = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
				     MAP_SHARED, *fd, op->index);
		}
	}
	free(op);
	if (pages == MAP_FAILED && *fd >= 0) {
		int err = errno;	/* the caller reports the failure's */

		close(*fd);
		*fd = -1;
		errno = err;
	}
	return pages;
}

#endif /* DOM0_GNTALLOC_SELF_H */
