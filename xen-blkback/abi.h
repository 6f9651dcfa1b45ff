/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring layouts a frontend may choose with its "protocol" key.  On this
 * 64-bit dom0 "x86_64-abi" is the native layout of <xen/interface/io/blkif.h>.
 * "x86_32-abi" (a 32-bit PV guest) packs 64-bit fields on 4-byte
 * boundaries; Xen's public blkif.h yields that layout only when compiled for
 * 32-bit, and the kernel ships no 64-bit view of it, so it is spelled out
 * here, field for field, and pinned by size checks in abi.c.
 */
#ifndef XDB_ABI_H
#define XDB_ABI_H

#include <linux/types.h>
#include <xen/interface/io/blkif.h>

enum xdb_abi {
	XDB_ABI_NATIVE,
	XDB_ABI_X86_32,
};

struct xdb_x86_32_request_rw {
	u8 nr_segments;
	blkif_vdev_t handle;
	u64 id;
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __packed;

struct xdb_x86_32_request_discard {
	u8 flag;
	blkif_vdev_t pad1;
	u64 id;
	blkif_sector_t sector_number;
	u64 nr_sectors;
} __packed;

struct xdb_x86_32_request_other {
	u8 pad1;
	blkif_vdev_t pad2;
	u64 id;
} __packed;

struct xdb_x86_32_request_indirect {
	u8 indirect_op;
	u16 nr_segments;
	u64 id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	u16 pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u64 pad3;
} __packed;

struct xdb_x86_32_request {
	u8 operation;
	union {
		struct xdb_x86_32_request_rw rw;
		struct xdb_x86_32_request_discard discard;
		struct xdb_x86_32_request_other other;
		struct xdb_x86_32_request_indirect indirect;
	} u;
} __packed;

/* i386 aligns u64 to 4: status at offset 10, 12 bytes in all. */
struct xdb_x86_32_response {
	u64 id;
	u8 operation;
	u8 pad;
	s16 status;
} __packed __aligned(4);

DEFINE_RING_TYPES(xdb_x86_32, struct xdb_x86_32_request,
		  struct xdb_x86_32_response);

/*
 * Both layouts share the ring header (indexes, event thresholds) and the
 * back ring's private indexes, so code that touches only those uses the
 * native view whatever the layout; entries go through xdb_abi_*().
 */
union xdb_back_ring {
	struct blkif_back_ring native;
	struct xdb_x86_32_back_ring x86_32;
};

void xdb_abi_init_ring(union xdb_back_ring *ring, enum xdb_abi abi,
		       void *sring, unsigned int size);
unsigned int xdb_abi_ring_size(const union xdb_back_ring *ring,
			       enum xdb_abi abi);
void xdb_abi_copy_request(union xdb_back_ring *ring, enum xdb_abi abi,
			  RING_IDX idx, struct blkif_request *req);
void xdb_abi_put_response(union xdb_back_ring *ring, enum xdb_abi abi,
			  u64 id, u8 operation, s16 status);

#endif /* XDB_ABI_H */
